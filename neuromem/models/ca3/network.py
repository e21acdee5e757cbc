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
``ContCont-CueCont`` follow rule R* (:class:`~neuromem.spec.CA3PairRule`),
start at 0 nA and have a delay of 1 ms. The two lateral inhibitions scale with
the memory width: ``6 m`` nA. The scheme is ``"spinnaker"`` and the time step
must be 1 ms: under exact integration of the continuous equations the gates
fail (section 1.3).

Counts (section 1.6): internal synapses ``3nm + 2n(n-1) + 3n + 6m``, of which
``2nm`` plastic; the harness adds ``2(n + m)``.

Example
-------
>>> net = build_network(5, 10)
>>> sum(p.size for p in net.populations)  # 3n + 4m + 1, plus IN and OUT of n + m each
86
"""

from __future__ import annotations

import numpy as np

from neuromem.errors import ValidationError
from neuromem.models.ca3.params import CA3Params, load_params
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

#: Neuron set of every internal population and of the harness output.
NEURON_SETS = {
    "A": ("CueCue", "ContCue", "ContCont", "MergeCue", "MergeCont"),
    "B": ("CueCont", "ContCond", "ContCondInt"),
    "O": ("OUT",),
}
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
        Parameter set or its name; default ``"spinnaker"`` (``models/ca3_spinnaker.toml``).
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
    params = load_params(params) if isinstance(params, str) else (params or load_params())
    sizes = population_sizes(n, m, harness)
    cell_set = {pop: key for key, pops in NEURON_SETS.items() for pop in pops}
    names = (*INTERNAL, "OUT") if harness else INTERNAL
    populations = [Population(pop, params.cells[cell_set[pop]], sizes[pop]) for pop in names]
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
        scheme="spinnaker",
        required_dt=params.dt_ms,
        name=name,
    )


def internal_synapse_count(n: int, m: int) -> int:
    """Synapses without the harness: ``3nm + 2n(n-1) + 3n + 6m`` (spec section 1.6)."""
    return 3 * n * m + 2 * n * (n - 1) + 3 * n + 6 * m


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
    rule = params.rule
    if not np.all(np.isfinite(array)) or array.min() < rule.w_min or array.max() > rule.w_max:
        raise ValidationError(f"CA3 network: {field} must hold finite weights in [{rule.w_min:g}, {rule.w_max:g}] nA")
    return array.ravel().copy()
