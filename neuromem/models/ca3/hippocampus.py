r"""The other sPyMem memories on the CAM's parts: CA3 only, and DG-CA3-CA1 with a decoder or a bio-inspired DG.

All three share the CAM's address -> content core (spec ``ca3.md`` section 4): a cue population
``CA3cue`` (neuron set A) learns the content held in ``CA3cont`` (the output threshold, set O)
through the parameter set's plastic rule (rule R*, delay 1 ms) with the same 3-tick store and the
same forgetting on overwrite. None of them recalls by content. Units: nA, ms; scheme ``"spinnaker"``.

``ca3_only`` (sPyMem ``ca3``): ``IN`` (n one-hot address lines + m content lines) drives ``CA3cue``
and ``CA3cont`` one-to-one (6 nA, 1 ms); both drive ``OUT`` (6 nA, 1 ms). A store echoes at t0 + 2
and t0 + 4 with the forgotten bits at t0 + 3; a recall by address shows the address at t0 + 2 and the
content at t0 + 3.

``dg_ca3_ca1`` (sPyMem ``hippocampus_with_forgetting``, the model of the recorded sibling runs):
the address arrives in binary, b = bit_length(n) lines, address a as the number a + 1 (bit 0 on
line 0). ``DG`` is a b -> 2^b decoder of fast neurons (c_m = tau_m = tau_syn = 0.1, no refractory
period, 0.09 mV threshold: a neuron fires in every tick its input reaches 0.9 nA): ``DG[k]`` gets
1/popcount(k) nA from each line set in k and -1 nA from each other line, delay 3 ms; ``DG[0]`` is
driven every tick by a latch (``DGlatch``, a fast neuron exciting itself, started by the first
address spike) and vetoed by any address line, so it fires whenever no address is given. ``DG[k]``
drives ``CA3cue[k - 1]`` (6 nA, 1 ms); the content lines reach ``CA3cont`` 4 ms after ``IN`` so
that they meet the decoded cue; ``CA1`` (b fast neurons) re-encodes the cue (``CA3cue[k - 1]`` ->
the bits of k, 1 nA, 1 ms) and ``OUT`` shows ``CA1`` (1 ms) and ``CA3cont`` (2 ms). A store echoes at
t0 + 6 and t0 + 8 with the forgotten bits at t0 + 7; a recall shows the address at t0 + 6 and the
content at t0 + 7. Every recorded population of the four sibling runs is reproduced.

``dg_ca3_ca1_bioinspired`` (sPyMem ``hippocampus_bioinspired_dg_ca1``): ``DG`` holds n neurons of
set B with the 2.5 mV threshold; ``DG[k - 1]`` gets 3/popcount(k) nA from each line set in k and
-3 nA from each other line (1 ms), and the ``DG`` neurons inhibit each other (2.5 nA, 1 ms);
``CA1`` (b neurons of set O) is driven by ``CA3cue`` with 6 nA; content lines reach ``CA3cont``
after 2 ms and ``CA3cont`` reaches ``OUT`` after 2 ms. A store echoes at t0 + 4 and t0 + 6 with the
forgotten bits at t0 + 5; a recall shows the address at t0 + 4 and the content at t0 + 5.

Example
-------
>>> net = build_architecture("dg_ca3_ca1", 5, 10)
>>> net.size("DG"), net.size("CA1"), net.size("OUT")
(8, 3, 13)
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np

from neuromem.errors import ValidationError
from neuromem.models.ca3.network import Structure
from neuromem.models.ca3.params import CA3Params, load_params
from neuromem.models.ca3.timing import Timing
from neuromem.spec import (
    AllToAll,
    FromList,
    LIFCurrExp,
    Network,
    OneToOne,
    Population,
    Probe,
    Projection,
    SpikeSourceArray,
    checks,
)

ARCHITECTURES = ("ca3_only", "dg_ca3_ca1", "dg_ca3_ca1_bioinspired")
#: The CA3 core's plastic projection in every architecture.
PLASTIC = "CA3cue-CA3cont"
#: The decoder's fast neuron (sPyBlocks): fires in the tick its input reaches 0.9 nA, forgets it at once.
FAST = LIFCurrExp(
    cm=0.1, tau_m=0.1, tau_refrac=0.0, tau_syn_E=0.1, tau_syn_I=0.1, v_rest=-65.0, v_reset=-65.0, v_thresh=-64.91
)


def _windows(echo: float) -> dict[str, dict[str, tuple[float, float]]]:
    """Store: echo, forgotten bits one tick later, second echo two ticks later; recall: address, then content."""
    one = lambda t: (t, t + 1.0)  # noqa: E731
    return {
        "store": {
            "echo_addresses": one(echo),
            "echo_content": one(echo),
            "forgotten": one(echo + 1),
            "repeat_addresses": one(echo + 2),
            "repeat_content": one(echo + 2),
        },
        "recall_by_address": {"echo_addresses": one(echo), "content": one(echo + 1)},
        # No recall by content in these architectures; a window is given so the timing is complete.
        "recall_by_content": {"echo_content": one(echo), "addresses": one(echo + 1)},
    }


def timing(architecture: str) -> Timing:
    """Input offsets, answer windows and minimum spacing (ms) of an architecture (see the module docstring)."""
    echo, after_store, after_recall = {
        "ca3_only": (2.0, 7.0, 5.0),
        "dg_ca3_ca1": (6.0, 7.0, 6.0),
        "dg_ca3_ca1_bioinspired": (4.0, 7.0, 5.0),
    }[_known(architecture)]
    paper = Timing.paper()
    return Timing(paper.inputs, _windows(echo), after_store, after_recall)


def address_code(architecture: str) -> str:
    """``"one_hot"`` for CA3 only, ``"binary"`` for the DG-CA3-CA1 memories."""
    return "one_hot" if _known(architecture) == "ca3_only" else "binary"


def build_architecture(
    architecture: str,
    n: int,
    m: int,
    params: CA3Params | None = None,
    inputs: SpikeSourceArray | None = None,
    probes: tuple[str, ...] | None = None,
) -> Network:
    """The network of ``architecture`` for n addresses of m bits, with ``IN`` carrying ``inputs``.

    Parameters
    ----------
    architecture : {"ca3_only", "dg_ca3_ca1", "dg_ca3_ca1_bioinspired"}
    n, m : int
        Addresses and content bits.
    params : CA3Params, optional
        The CAM set whose neuron sets A and O, rule and ``[sibling]`` content delay are used
        (default ``"spinnaker"``).
    inputs : SpikeSourceArray, optional
        Spikes of ``IN`` (address lines, then m content lines).
    probes : tuple of str, optional
        Populations whose spikes are recorded (default every LIF population).
    """
    architecture = _known(architecture)
    n = checks.count(architecture, "n", n)
    m = checks.count(architecture, "m", m)
    params = params if params is not None else load_params()
    lines = n if architecture == "ca3_only" else n.bit_length()
    source = inputs if inputs is not None else SpikeSourceArray(lines + m)
    if source.size != lines + m:
        raise ValidationError(f"{architecture}: inputs has {source.size} lines; IN needs {lines} + m = {lines + m}")
    builder = {"ca3_only": _ca3_only, "dg_ca3_ca1": _decoder, "dg_ca3_ca1_bioinspired": _bioinspired}[architecture]
    populations, projections = builder(n, m, lines, params)
    populations.append(Population("IN", source))
    recorded = probes if probes is not None else tuple(p.name for p in populations if not p.is_source)
    return Network(
        populations=tuple(populations),
        projections=tuple(projections),
        probes=tuple(Probe(name, "spikes") for name in recorded),
        scheme=params.scheme,
        required_dt=params.dt_ms,
        name=architecture,
    )


def structure_of(network: Network) -> Structure:
    """Neuron and synapse counts of an architecture's network; ``IN``, ``OUT`` and their projections are the harness."""
    harness = {"IN", "OUT"}
    sizes = {p.name: int(p.size) for p in network.populations}  # type: ignore[arg-type]
    counts = {p.name: int(network.connection_list(p.name).pre.size) for p in network.projections}
    outer = {p.name for p in network.projections if p.pre in harness or p.post in harness}
    return Structure(
        neurons=sum(v for k, v in sizes.items() if k not in harness),
        synapses=sum(v for k, v in counts.items() if k not in outer),
        plastic_synapses=sum(counts[p.name] for p in network.projections if p.is_plastic),
        harness_neurons=sum(v for k, v in sizes.items() if k in harness),
        harness_synapses=sum(counts[k] for k in outer),
        populations=sizes,
        projections=counts,
    )


def _known(architecture: str) -> str:
    if architecture not in ARCHITECTURES:
        raise ValidationError(f"CA3 architecture = {architecture!r}; allowed: {', '.join(ARCHITECTURES)}")
    return architecture


def _pairs(pairs: list[tuple[int, int]], weights: list[float] | float) -> tuple[FromList, np.ndarray | float]:
    pre = np.array([p for p, _ in pairs], dtype=np.int64)
    post = np.array([q for _, q in pairs], dtype=np.int64)
    return FromList(pre, post), (np.asarray(weights, dtype=np.float64) if isinstance(weights, list) else weights)


def _core(n: int, m: int, lines: int, params: CA3Params, content_delay: float) -> tuple[list, list]:
    """CA3cue, CA3cont, the content input and the plastic projection, shared by every architecture."""
    a, o = params.cells["A"], params.cells["O"]
    populations = [Population("CA3cue", a, n), Population("CA3cont", o, m)]
    content, _ = _pairs([(lines + j, j) for j in range(m)], 0.0)
    projections = [
        Projection("IN-CA3cont", "IN", "CA3cont", content, 6.0, content_delay),
        Projection(PLASTIC, "CA3cue", "CA3cont", AllToAll(), 0.0, 1.0, plasticity=params.rule),
    ]
    return populations, projections


def _out(m: int, lines: int, cue_source: str, content_delay: float) -> list[Projection]:
    cue, _ = _pairs([(b, b) for b in range(lines)], 0.0)
    content, _ = _pairs([(j, lines + j) for j in range(m)], 0.0)
    return [
        Projection(f"{cue_source}-OUT", cue_source, "OUT", cue, 6.0, 1.0),
        Projection("CA3cont-OUT", "CA3cont", "OUT", content, 6.0, content_delay),
    ]


def _ca3_only(n: int, m: int, lines: int, params: CA3Params) -> tuple[list, list]:
    populations, projections = _core(n, m, lines, params, 1.0)
    populations.append(Population("OUT", params.cells["O"], n + m))
    projections.insert(0, Projection("IN-CA3cue", "IN", "CA3cue", _pairs([(a, a) for a in range(n)], 0.0)[0], 6.0, 1.0))
    projections += _out(m, n, "CA3cue", 1.0)
    return populations, projections


def _bits(value: int) -> list[int]:
    return [b for b in range(value.bit_length()) if value >> b & 1]


def _decoder(n: int, m: int, lines: int, params: CA3Params) -> tuple[list, list]:
    size = 1 << lines
    content_delay = float(params.sibling.get("content_delay", 4.0))
    populations, projections = _core(n, m, lines, params, content_delay)
    populations += [
        Population("DG", FAST, size),
        Population("DGlatch", FAST, 1),
        Population("CA1", FAST, lines),
        Population("OUT", params.cells["O"], lines + m),
    ]
    exc = [(b, k) for k in range(size) for b in _bits(k)]
    inh = [(b, k) for k in range(size) for b in range(lines) if not k >> b & 1]
    projections += [
        Projection("IN-DG", "IN", "DG", *_pairs(exc, [1.0 / len(_bits(k)) for _, k in exc]), 3.0),
        Projection("IN-DG-inh", "IN", "DG", *_pairs(inh, 1.0), 3.0, "inhibitory"),
        Projection("IN-DGlatch", "IN", "DGlatch", *_pairs([(b, 0) for b in range(lines)], 1.0), 3.0),
        Projection("DGlatch-DGlatch", "DGlatch", "DGlatch", OneToOne(), 1.0, 1.0),
        Projection("DGlatch-DG", "DGlatch", "DG", *_pairs([(0, 0)], 1.0), 3.0),
        Projection("DG-CA3cue", "DG", "CA3cue", *_pairs([(k, k - 1) for k in range(1, n + 1)], 6.0), 1.0),
        Projection(
            "CA3cue-CA1", "CA3cue", "CA1", *_pairs([(k - 1, b) for k in range(1, n + 1) for b in _bits(k)], 1.0), 1.0
        ),
    ]
    projections += _out(m, lines, "CA1", 2.0)
    return populations, projections


def _bioinspired(n: int, m: int, lines: int, params: CA3Params) -> tuple[list, list]:
    populations, projections = _core(n, m, lines, params, 2.0)
    dg_cell = replace(params.cells["B"], v_thresh=params.cells["O"].v_thresh)
    populations += [
        Population("DG", dg_cell, n),
        Population("CA1", params.cells["O"], lines),
        Population("OUT", params.cells["O"], lines + m),
    ]
    exc = [(b, k - 1) for k in range(1, n + 1) for b in _bits(k)]
    inh = [(b, k - 1) for k in range(1, n + 1) for b in range(lines) if not k >> b & 1]
    projections += [
        Projection("IN-DG", "IN", "DG", *_pairs(exc, [3.0 / len(_bits(k + 1)) for _, k in exc]), 1.0),
        Projection("DG-DG-inh", "DG", "DG", AllToAll(allow_self=False), 2.5, 1.0, "inhibitory"),
        Projection("DG-CA3cue", "DG", "CA3cue", OneToOne(), 6.0, 1.0),
        Projection(
            "CA3cue-CA1", "CA3cue", "CA1", *_pairs([(k - 1, b) for k in range(1, n + 1) for b in _bits(k)], 6.0), 1.0
        ),
    ]
    if inh:
        projections.insert(3, Projection("IN-DG-inh", "IN", "DG", *_pairs(inh, 3.0), 1.0, "inhibitory"))
    projections += _out(m, lines, "CA1", 2.0)
    return populations, projections
