r"""The one translation table from neuromem's spec to PyNN and its simulators.

neuromem already speaks PyNN's names and units (ms, mV, nA, nF, uS, Hz), so
the cell parameters pass through nearly unchanged; what differs between
simulators is gathered here, once, as data (it is also written into exported
scripts). What differs per cell type (its PyNN type, parameter tweaks,
weight scale, recordables, refusals) is the ``pynn`` part of its module in
:mod:`neuromem.cells`:

=============  ==================  ======================  =========================
cell type      pyNN.nest           pyNN.brian2             pyNN.spiNNaker
=============  ==================  ======================  =========================
IF_curr_exp    iaf_psc_exp         exact                   IF_curr_exp
IF_curr_delta  iaf_psc_delta [3]   exact [1]; with         IF_curr_delta, weights
                                   tau_refrac > 0 only     scaled by cm dt/(tau_m
                                   approximate             (1 - exp(-dt/tau_m)))
IF_cond_exp    iaf_cond_exp        Runge-Kutta 4 [2]       IF_cond_exp
               (RKF45, ~1e-4 mV)
Izhikevich     izhikevich          exact [1]               refused (another model)
=============  ==================  ======================  =========================

- [1] pyNN.brian2 adds voltage steps after the threshold of their arrival tick;
  the runner moves those synaptic pathways before the threshold (where they
  read the previous tick's spikes) and the plan shortens their delays by one
  step. pyNN.brian2 keeps steps arriving during refractoriness, which NEST
  and neuromem discard.
- [2] pyNN.brian2 would pick forward Euler; the exported runner sets ``rk4``.
- [3] pyNN.nest 0.13 gives IF_curr_delta no map from ``v`` to ``V_m``; the runner adds it.
- [4] pyNN.brian2 depresses before it delivers and pairs a post spike with a pre spike
  arriving in the same step; the runner rewrites its STDP pathways to neuromem's
  order (exact: the README demo gives torch's spikes over 500 ms).

Current sources: neuromem's current of the step from ``n dt`` is the amplitude
in force at ``n dt``. pyNN.brian2 switches at the start of that step (offset
0). NEST delivers a generator's current one step later and runs one warm-up
step, so switch times are given one step late in PyNN's terms (offset +1) and
a current of tick 0, which NEST cannot deliver in time, starts at tick 1 with
its effect on step 0 folded into the initial state.

==========================  =============  =============  ====================
convention                  pyNN.nest      pyNN.brian2    pyNN.spiNNaker
==========================  =============  =============  ====================
integration scheme          ``exact``      ``exact``      ``spinnaker``
inhibitory weight sign      negative       negative       positive
dendritic delay fraction    1 (only)       0 (only)       1 (only)
warm-up steps               1              0              0
tau_refrac added (steps)    0              1              0
source time offset (steps)  +2             0              0
spike label offset (steps)  +2             0              0
STDP pre event at           emission       arrival        emission
STDP weight delivered       after update   before [4]     before update
STDP weight rules           add., mult.    additive only  add., mult.
==========================  =============  =============  ====================

Time labels, in numbers (``dt`` the time step, tick ``n`` the step from
``n dt`` to ``(n+1) dt``, see :mod:`neuromem.spec.schemes`):

* NEST (``spike_precision="on_grid"``) stamps a spike found in the step
  ``(n dt, (n+1) dt]`` with the step's *end*, ``(n+1) dt``. PyNN routes
  source spikes through parrot neurons and subtracts ``min_delay`` (= dt) from
  their times, so the earliest source spike NEST accepts (its generator
  refuses time 0) is stamped ``2 dt``. To carry sources that neuromem emits at
  tick 0, NEST runs one warm-up step first: NEST step ``m`` is neuromem tick
  ``m - 1``. A source spike at neuromem tick ``k`` is given to PyNN as
  ``(k + 2) dt``; it leaves the parrot stamped ``(k+2) dt`` and is read by the
  target in NEST step ``k + 1 + d`` = neuromem tick ``k + d`` (``d`` the delay
  in steps), the arrival tick. A neuron spike at neuromem tick ``n`` is
  recorded at ``(n + 2) dt``: ``n = round(t/dt) - 2``. The initial potential is
  set so that the warm-up step (no input can arrive in it) ends exactly at
  ``v_init``: ``V0 = v_rest + (v_init - v_rest - R i_offset (1 - P_mm)) / P_mm``.
* Brian2 labels a step by its *start*: the state update of the step
  beginning at ``n dt`` is followed by the threshold, which records ``n dt``,
  then by the synaptic arrivals of that step. Offsets are zero.
* Refractoriness: NEST holds V for ``R = round(tau_refrac/dt)`` steps after
  the spike step, as neuromem does. Brian2 ends the refractory period in the
  step where ``t - lastspike`` reaches ``tau_refrac``, which holds V for
  ``R - 1`` steps; the export gives Brian2 ``tau_refrac + dt``.
* sPyNNaker labels a spike with the timer tick in which it was emitted
  (``n dt``); inputs arriving at tick ``n`` enter the current of tick ``n``
  (the ``"spinnaker"`` scheme). Offsets are zero.

Sign conventions: for current-based cells NEST routes a synapse by the sign
of its weight (negative to ``I_syn_in``) and pyNN.brian2 sums
``i_syn = ie + ii``, so inhibitory weights are written negative there;
sPyNNaker routes by receptor and wants magnitudes (>= 0). neuromem stores
magnitudes (>= 0) and a receptor.

STDP timing: neuromem pairs a pre event at its *arrival* tick (purely axonal
delay). pyNN.brian2 does the same (``dendritic_delay_fraction=0``). NEST and
sPyNNaker only accept purely dendritic delays: the pre event is taken at
emission and the post spike is seen ``d`` later, so their pair interval is
``t_post - t_pre_emission + d`` where neuromem's is ``t_post - t_pre_emission - d``:
a shift of ``2 d`` in every pair (``exp(-2 d / tau)`` in each pair term;
1 % for d = 0.1 ms and tau = 20 ms).

STDP weight delivered: a pre spike's own depression is applied before its
weight is delivered by NEST (``stdp_synapse`` updates at the pre spike, then
sends) and by pyNN.brian2 (``on_pre`` updates the weight, then adds it);
neuromem delivers the weight the synapse had when the spike arrives, then
updates it. A spike that depresses a potentiated synapse therefore still
transmits its old weight here and not on NEST. neuromem also pairs a post
spike only with pre spikes that arrived in earlier steps (and a pre spike
only with earlier post spikes); pyNN.brian2's post pathway, which runs after
the pre pathway of the same step, would pair it with a pre spike arriving in
that step. The exported runner reorders pyNN.brian2's pathways to neuromem's
events (delivery first, the same-step pre increment taken out of the
potentiation), so STDP is exact there; on NEST, whose ``stdp_synapse`` is
compiled, the export warns naming both differences.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

from neuromem.cells.registry import CELL_MODELS
from neuromem.errors import CapabilityError
from neuromem.spec import (
    STDP,
    AdditiveWeightDependence,
    CA3PairRule,
    SpikeSourceArray,
    SpikeSourcePoisson,
    SubspaceRule,
)

#: neuromem cell type -> PyNN standard cell type (parameters keep their names and units).
CELL_TYPES = {
    **{name: model.pynn.name for name, model in CELL_MODELS.items()},
    SpikeSourceArray.__name__: "SpikeSourceArray",
    # Poisson trains are drawn by neuromem's counter-based generator and exported
    # as spike arrays, so every simulator sees the very same trains.
    SpikeSourcePoisson.__name__: "SpikeSourceArray",
}

#: neuromem weight rule -> PyNN weight dependence.
WEIGHT_RULES = {
    "AdditiveWeightDependence": "AdditiveWeightDependence",
    "MultiplicativeWeightDependence": "MultiplicativeWeightDependence",
}

#: neuromem pairing -> PyNN timing dependence.
TIMING_RULES = {"all_to_all": "SpikePairRule", "nearest": "SpikeNearestPairRule"}


@dataclass(frozen=True)
class Target:
    """How one PyNN simulator wants the network written.

    Attributes
    ----------
    name : str
        ``--simulator`` value of exported scripts (``nest``, ``brian2``, ``spiNNaker``).
    module : str
        Python module of the PyNN backend.
    package : str
        What to ``pip install`` when the module is missing.
    scheme : str
        The integration scheme the simulator implements.
    inhibitory_sign : int
        Factor applied to the (non-negative) weights of inhibitory projections.
    dendritic_delay_fraction : float
        The only value the simulator's STDPMechanism accepts.
    source_offset_steps : int
        PyNN spike-source time = (neuromem emission tick + offset) * dt.
    label_offset_steps : int
        Recorded time = (neuromem spike tick + offset) * dt.
    warmup_steps : int
        Steps simulated before neuromem's tick 0 (see NEST below); the initial
        membrane potential is set so that it reaches ``v_init`` at tick 0.
    current_offset_steps : int
        Current-source switch time given to PyNN = (neuromem switch tick +
        offset) * dt.
    current_first_tick : int
        First neuromem tick whose current the target can apply (0 or 1). On
        NEST a current reaches the neuron one step after its generator, so a
        current of tick 0 is moved to tick 1 and its effect on step 0 is
        folded into the initial state.
    timing_rules : tuple of str
        Pairings it can run (``all_to_all``, ``nearest``).
    weight_before_update : bool
        Whether an arriving plastic spike delivers the weight before that
        tick's STDP update, as neuromem does.
    setup : dict
        Extra keyword arguments of ``sim.setup``.
    """

    name: str
    module: str
    package: str
    scheme: str
    inhibitory_sign: int
    dendritic_delay_fraction: float
    source_offset_steps: int
    label_offset_steps: int
    timing_rules: tuple[str, ...]
    weight_before_update: bool
    setup: dict[str, object]
    warmup_steps: int = 0
    current_offset_steps: int = 0
    current_first_tick: int = 0
    weight_rules: tuple[str, ...] = ("AdditiveWeightDependence", "MultiplicativeWeightDependence")

    def as_data(self) -> dict[str, object]:
        """JSON-ready form, written into exported scripts' data."""
        data = asdict(self)
        data["timing_rules"] = list(self.timing_rules)
        return data


TARGETS = {
    "nest": Target(
        name="nest",
        module="pyNN.nest",
        package="nest-simulator (pip install nest-simulator==3.10.0) and pyNN",
        scheme="exact",
        inhibitory_sign=-1,
        dendritic_delay_fraction=1.0,
        source_offset_steps=2,
        label_offset_steps=2,
        timing_rules=("all_to_all",),
        weight_before_update=False,
        setup={"spike_precision": "on_grid", "verbosity": "error"},
        warmup_steps=1,
        current_offset_steps=1,
        current_first_tick=1,
    ),
    "brian2": Target(
        name="brian2",
        module="pyNN.brian2",
        package="brian2 (pip install brian2==2.9.0) and pyNN",
        scheme="exact",
        inhibitory_sign=-1,
        dendritic_delay_fraction=0.0,
        source_offset_steps=0,
        label_offset_steps=0,
        timing_rules=("all_to_all",),
        # The runner reorders pyNN.brian2's STDP pathways (see ``_brian2_stdp_order`` in the runner).
        weight_before_update=True,
        setup={},
        # pyNN.brian2 0.13 hard-codes the additive update whatever the weight dependence.
        weight_rules=("AdditiveWeightDependence",),
    ),
    "spiNNaker": Target(
        name="spiNNaker",
        module="pyNN.spiNNaker",
        package="sPyNNaker (pip install 'spynnaker==1!7.4.1')",
        scheme="spinnaker",
        inhibitory_sign=1,
        dendritic_delay_fraction=1.0,
        source_offset_steps=0,
        label_offset_steps=0,
        timing_rules=("all_to_all", "nearest"),
        weight_before_update=True,
        setup={},
    ),
}


def target(name_or_module: str) -> Target:
    """The :class:`Target` of a simulator name or PyNN module name.

    Raises
    ------
    CapabilityError
        An unknown simulator.
    """
    for entry in TARGETS.values():
        if name_or_module in (entry.name, entry.module, entry.name.lower()):
            return entry
    raise CapabilityError(
        f"unknown PyNN target {name_or_module!r}; choose one of"
        f" {', '.join(t.name + ' (' + t.module + ')' for t in TARGETS.values())}"
    )


def export_rule(
    rule: STDP | CA3PairRule | SubspaceRule, where: str, target_name: str, approximate: bool
) -> tuple[STDP, list[str]]:
    """The STDP to write for a projection's rule, and the warnings it costs.

    Raises
    ------
    CapabilityError
        A SubspaceRule (always); a CA3PairRule without ``approximate=True``, or without a published STDP.
    """
    if isinstance(rule, SubspaceRule):
        raise CapabilityError(
            f"{where}: feature plasticity:SubspaceRule cannot be expressed on target {target_name!r}"
            " (a rate-form Hebbian/anti-Hebbian rule on signed lateral weights; only the torch engine runs it);"
            " export the network without its lateral populations, e.g. an HLOP learner's inference network"
        )
    if isinstance(rule, STDP):
        return rule, []
    if not approximate:
        raise CapabilityError(
            f"{where}: feature plasticity:CA3PairRule cannot be expressed on target {target_name!r};"
            " pass approximate=True (--approximate on the command line) to export its published STDP instead"
            " (it differs from the gold recordings)"
        )
    if rule.published is None:
        raise CapabilityError(
            f"{where}: feature plasticity:CA3PairRule has no published STDP to export to target {target_name!r}"
        )
    return rule.published, [
        f"{where}: CA3PairRule exported as its published STDP (tau_plus {rule.published.timing.tau_plus:g} ms,"
        f" A_plus {rule.published.timing.A_plus:g}); spikes will differ from the calibrated rule and the gold"
    ]


def stdp_data(rule: STDP) -> dict[str, object]:
    """PyNN keyword arguments of an STDP rule (timing and weight dependence)."""
    return {
        "timing": TIMING_RULES[rule.timing.pairing],
        "timing_parameters": {
            "tau_plus": rule.timing.tau_plus,
            "tau_minus": rule.timing.tau_minus,
            "A_plus": rule.timing.A_plus,
            "A_minus": rule.timing.A_minus,
        },
        "weight": WEIGHT_RULES[type(rule.weight).__name__],
        "weight_parameters": {"w_min": rule.weight.w_min, "w_max": rule.weight.w_max},
        "additive": isinstance(rule.weight, AdditiveWeightDependence),
    }
