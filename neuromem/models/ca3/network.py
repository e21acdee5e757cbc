r"""The CA3 content-addressable memory as a :class:`~neuromem.spec.Network` (spec ``ca3.md`` section 1).

Eight internal populations, 3n + 4m + 1 LIF neurons (n addresses, m content
bits), plus the test harness: the input ``IN`` (n + m spike-source lines, the
one-hot address then the content bits) and the output ``OUT`` (n + m neurons,
the address answer then the content answer).

===============  ======  ====  =====================================================
population       size    set   role
===============  ======  ====  =====================================================
``CueCue``       n       A     address entry; pre side of the address->content rule
``ContCue``      m       A     content entry; content answer of a recall by address
``ContCond``     m       B     gate ContCue -> ContCont, vetoed while an address is on
``ContCondInt``  1       B     boosts every gate during a write (+2 nA)
``CueCont``      n       B     address answer of a recall by content
``ContCont``     m       A     content relay; pre side of the content->address rule
``MergeCue``     n       A     OR of CueCue and CueCont
``MergeCont``    m       A     OR of ContCue and ContCont
``OUT``          n + m   O     harness output (threshold -57.5 mV)
===============  ======  ====  =====================================================

The two plastic all-to-all projections ``CueCue-ContCue`` and
``ContCont-CueCont`` follow the parameter set's rule (rule R*,
:class:`~neuromem.spec.CA3PairRule`, in the paper's set), start at 0 nA and
have one delay each. The two lateral inhibitions scale with the memory width:
``6 m`` nA in the paper's set. The paper's set is defined for the
``"spinnaker"`` scheme at dt = 1 ms (under exact integration of the continuous
equations its gates fail, section 1.3); ``neuromem/resources/parameters/ca3_portable.toml`` is the
same network re-derived for the ``"exact"`` scheme.

Counts (section 1.6): internal synapses ``3nm + 2n(n-1) + 3n + 6m``, of which
``2nm`` plastic; the harness adds ``2(n + m)``.

Example
-------
>>> net = build_network(5, 10)
>>> sum(p.size for p in net.populations)  # 3n + 4m + 1, plus IN and OUT of n + m each
86
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from neuromem.errors import ValidationError
from neuromem.limits import check_memory
from neuromem.models.ca3.params import PAPER_CELLS, CA3Params, load_params
from neuromem.spec import (
    AllToAll,
    Connector,
    FromList,
    Network,
    OneToOne,
    Population,
    Probe,
    Projection,
    SpikeSourceArray,
    checks,
)

#: The paper's neuron set of every internal population and of the harness output.
NEURON_SETS = {key: tuple(p for p, k in PAPER_CELLS.items() if k == key) for key in ("A", "B", "O")}
#: Internal populations, in the order of the recorded spike tables.
INTERNAL = ("CueCue", "ContCue", "ContCond", "ContCondInt", "CueCont", "ContCont", "MergeCue", "MergeCont")
#: The two plastic projections: address -> content and content -> address.
CUE_TO_CONTENT = "CueCue-ContCue"
CONTENT_TO_CUE = "ContCont-CueCont"

# (name, pre, post, connector kind, receptor); weights and delays come from the parameter set.
_WIRING = (
    ("IN-CueCue", "IN", "CueCue", "in_cue", "excitatory"),
    ("IN-ContCue", "IN", "ContCue", "in_content", "excitatory"),
    ("CueCue-CueCont", "CueCue", "CueCont", "one", "excitatory"),
    ("CueCue-CueCont-inh", "CueCue", "CueCont", "all_but_self", "inhibitory"),
    ("CueCue-ContCond-inh", "CueCue", "ContCond", "all", "inhibitory"),
    ("ContCue-ContCond", "ContCue", "ContCond", "one", "excitatory"),
    ("ContCond-ContCont", "ContCond", "ContCont", "one", "excitatory"),
    ("ContCue-ContCondInt", "ContCue", "ContCondInt", "all", "excitatory"),
    ("ContCondInt-ContCond", "ContCondInt", "ContCond", "all", "excitatory"),
    (CUE_TO_CONTENT, "CueCue", "ContCue", "all", "excitatory"),
    (CONTENT_TO_CUE, "ContCont", "CueCont", "all", "excitatory"),
    ("CueCont-CueCont-inh", "CueCont", "CueCont", "all_but_self", "inhibitory"),
    ("CueCue-MergeCue", "CueCue", "MergeCue", "one", "excitatory"),
    ("CueCont-MergeCue", "CueCont", "MergeCue", "one", "excitatory"),
    ("ContCue-MergeCont", "ContCue", "MergeCont", "one", "excitatory"),
    ("ContCont-MergeCont", "ContCont", "MergeCont", "one", "excitatory"),
    ("MergeCue-OUT", "MergeCue", "OUT", "out_cue", "excitatory"),
    ("MergeCont-OUT", "MergeCont", "OUT", "out_content", "excitatory"),
)
PLASTIC = (CUE_TO_CONTENT, CONTENT_TO_CUE)
HARNESS_PROJECTIONS = ("IN-CueCue", "IN-ContCue", "MergeCue-OUT", "MergeCont-OUT")


def population_sizes(n: int, m: int, harness: bool = True) -> dict[str, int]:
    """Size of every population for ``n`` addresses and ``m`` content bits."""
    sizes = {"CueCue": n, "ContCue": m, "ContCond": m, "ContCondInt": 1, "CueCont": n, "ContCont": m}
    sizes.update({"MergeCue": n, "MergeCont": m})
    if harness:
        sizes.update({"OUT": n + m, "IN": n + m})
    return sizes


def build_network(
    n: int,
    m: int,
    params: CA3Params | str | None = None,
    inputs: SpikeSourceArray | None = None,
    cue_to_content: np.ndarray | None = None,
    content_to_cue: np.ndarray | None = None,
    harness: bool = True,
    probes: tuple[str, ...] | None = None,
    name: str = "ca3",
) -> Network:
    """The CA3 memory for ``n`` addresses of ``m`` bits.

    Parameters
    ----------
    n, m : int
        Number of addresses (one-hot cue lines) and content bits, >= 1 each.
    params : CA3Params or str, optional
        Parameter set or its name; default ``"spinnaker"`` (``neuromem/resources/parameters/ca3_spinnaker.toml``).
    inputs : SpikeSourceArray, optional
        Spikes of ``IN`` (n + m lines); default: none (give them per run).
    cue_to_content : array (n, m), optional
        Initial weights (nA) of ``CueCue[i] -> ContCue[j]`` (a stored memory).
    content_to_cue : array (m, n), optional
        Initial weights (nA) of ``ContCont[j] -> CueCont[i]``.
    harness : bool
        Include ``IN``, ``OUT`` and their four projections.
    probes : tuple of str, optional
        Populations whose spikes are recorded; default every LIF population.
    name : str
        Network label.
    """
    n = checks.count("CA3 network", "n", n)
    m = checks.count("CA3 network", "m", m)
    check_size("CA3 network", n, m)
    params = load_params(params) if isinstance(params, str) else (params or load_params())
    sizes = population_sizes(n, m, harness)
    names = (*INTERNAL, "OUT") if harness else INTERNAL
    populations = [Population(pop, params.cell_of(pop), sizes[pop]) for pop in names]
    if harness:
        source = inputs if inputs is not None else SpikeSourceArray(n + m)
        if source.size != n + m:
            raise ValidationError(f"CA3 network: inputs has {source.size} lines; IN needs n + m = {n + m}")
        populations.append(Population("IN", source))
    initial = {
        CUE_TO_CONTENT: _initial(cue_to_content, (n, m), "cue_to_content", params),
        CONTENT_TO_CUE: _initial(content_to_cue, (m, n), "content_to_cue", params),
    }
    projections = []
    for key, pre, post, kind, receptor in _WIRING:
        if not harness and key in HARNESS_PROJECTIONS:
            continue
        synapse = params.synapses[key]
        weight: float | np.ndarray = synapse.weight_for(m)
        plasticity = None
        if key in PLASTIC:
            plasticity = params.rule
            if initial[key] is not None:
                weight = initial[key]  # type: ignore[assignment]
        projections.append(
            Projection(key, pre, post, _connector(kind, n, m), weight, synapse.delay, receptor, plasticity)
        )
    recorded = probes if probes is not None else tuple(p.name for p in populations if not p.is_source)
    return Network(
        populations=tuple(populations),
        projections=tuple(projections),
        probes=tuple(Probe(pop, "spikes") for pop in recorded),
        scheme=params.scheme,
        required_dt=params.dt_ms,
        name=name,
    )


def internal_synapse_count(n: int, m: int) -> int:
    """Synapses without the harness: ``3nm + 2n(n-1) + 3n + 6m`` (spec section 1.6)."""
    return 3 * n * m + 2 * n * (n - 1) + 3 * n + 6 * m


@dataclass(frozen=True)
class Structure:
    """Size of a CA3 memory of n addresses and m bits (spec section 1.6).

    Attributes
    ----------
    neurons : int
        LIF neurons of the memory, ``3n + 4m + 1``.
    synapses : int
        Its synapses, ``3nm + 2n(n-1) + 3n + 6m``.
    plastic_synapses : int
        Of which plastic, ``2nm``.
    harness_neurons, harness_synapses : int
        The test harness: ``IN`` and ``OUT`` (n + m each; ``IN`` are spike
        sources) and their four one-to-one projections, ``2(n + m)``.
    populations : dict
        Population -> neurons (harness included).
    projections : dict
        Projection -> synapses (harness included).
    """

    neurons: int
    synapses: int
    plastic_synapses: int
    harness_neurons: int
    harness_synapses: int
    populations: dict[str, int]
    projections: dict[str, int]

    __hash__ = None  # type: ignore[assignment]


def structure(n: int, m: int) -> Structure:
    """Neuron and synapse counts of the memory and its harness, without building anything."""
    n = checks.count("CA3 structure", "n", n)
    m = checks.count("CA3 structure", "m", m)
    sizes = population_sizes(n, m, harness=True)
    counts = {}
    for key, pre, post, kind, _ in _WIRING:
        if kind == "one":
            counts[key] = sizes[pre]
        elif kind == "all":
            counts[key] = sizes[pre] * sizes[post]
        elif kind == "all_but_self":
            counts[key] = sizes[pre] * (sizes[post] - 1)
        else:
            counts[key] = n if kind in ("in_cue", "out_cue") else m
    internal = {k: v for k, v in counts.items() if k not in HARNESS_PROJECTIONS}
    return Structure(
        neurons=sum(sizes[p] for p in INTERNAL),
        synapses=sum(internal.values()),
        plastic_synapses=sum(counts[k] for k in PLASTIC),
        harness_neurons=sizes["IN"] + sizes["OUT"],
        harness_synapses=sum(counts[k] for k in HARNESS_PROJECTIONS),
        populations=sizes,
        projections=counts,
    )


#: Peak bytes per synapse while a memory is built on the torch engine: the cached connection list
#: (int64 pre and post, float64 weight and delay), the merged arrays the engine sorts, and the
#: engine's own indices and weights. Measured: 113-120 B per synapse for n = 512 .. 2,048, m = 16.
BYTES_PER_SYNAPSE = 120
#: Bytes per neuron and trial of the engine's state (membrane, currents, refractory, input ring buffer).
BYTES_PER_NEURON_AND_TRIAL = 64


def estimate_bytes(n: int, m: int, batch_size: int = 1) -> int:
    """Peak memory (bytes) to build and run a CA3 memory of n addresses and m bits, ``batch_size`` of them."""
    counts = structure(n, m)
    per_trial = 8 * counts.plastic_synapses + BYTES_PER_NEURON_AND_TRIAL * (counts.neurons + counts.harness_neurons)
    return BYTES_PER_SYNAPSE * (counts.synapses + counts.harness_synapses) + batch_size * per_trial


def check_size(owner: str, n: int, m: int, batch_size: int = 1) -> None:
    """Refuse, before anything is allocated, a memory whose estimate exceeds the memory budget."""
    check_memory(
        owner,
        f"n = {n} addresses of m = {m} bits ({batch_size} in a batch; 2n(n-1) + 3nm + ... synapses)",
        estimate_bytes(n, m, batch_size),
    )


def _connector(kind: str, n: int, m: int) -> Connector:
    if kind == "one":
        return OneToOne()
    if kind == "all":
        return AllToAll()
    if kind == "all_but_self":
        return AllToAll(allow_self=False)
    cue, content = np.arange(n), np.arange(m)
    pairs = {
        "in_cue": (cue, cue),
        "in_content": (n + content, content),
        "out_cue": (cue, cue),
        "out_content": (content, n + content),
    }[kind]
    return FromList(*pairs)


def _initial(weights: np.ndarray | None, shape: tuple[int, int], field: str, params: CA3Params) -> np.ndarray | None:
    """Flatten a (pre, post) weight matrix into AllToAll's pre-major synapse order."""
    if weights is None:
        return None
    array = np.asarray(weights, dtype=np.float64)
    if array.shape != shape:
        raise ValidationError(f"CA3 network: {field} has shape {array.shape}; expected {shape}")
    w_min, w_max = params.rule.w_min, params.rule.w_max
    if not np.all(np.isfinite(array)) or array.min() < w_min or array.max() > w_max:
        raise ValidationError(f"CA3 network: {field} must hold finite weights in [{w_min:g}, {w_max:g}] nA")
    return array.ravel().copy()
