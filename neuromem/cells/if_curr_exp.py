r"""``IF_curr_exp``: leaky integrate-and-fire with exponentially decaying currents.

Continuous dynamics (PyNN ``IF_curr_exp``, NEST ``iaf_psc_exp``)::

    cm dV/dt  = cm (v_rest - V) / tau_m + I_E - I_I + i_offset + i_inj
    dI_E/dt   = -I_E / tau_syn_E        (I_E += w at each excitatory arrival, w in nA)
    dI_I/dt   = -I_I / tau_syn_I        (I_I += w at each inhibitory arrival)
    V >= v_thresh -> spike, V = v_reset, V held for tau_refrac

``i_inj`` is the current of current sources (nA), constant over each step.
The two schemes of :mod:`neuromem.spec.schemes` are written out in
:func:`exact_step` and :func:`spinnaker_step`. This is the class that was
called ``LIFCurrExp``; that name stays an alias, in Python and in files.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, NamedTuple

import numpy as np

from neuromem.cells.base import (
    Brian2Model,
    CellModel,
    CellType,
    Constants,
    EventModel,
    PyNNModel,
    Scalar,
    SpikeFunction,
    TorchModel,
    exp,
    exp_current_gain,
    fire,
    fire_in_place,
    heaviside,
    refractory_steps,
)
from neuromem.errors import ValidationError
from neuromem.spec import checks
from neuromem.spec.base import SPEC_TYPES, register

if TYPE_CHECKING:
    import torch


@register
@dataclass(frozen=True, eq=False)
class IF_curr_exp(CellType):  # noqa: N801 - PyNN's standard type name
    r"""Leaky integrate-and-fire neuron with exponentially decaying currents.

    Continuous dynamics (PyNN ``IF_curr_exp``, NEST ``iaf_psc_exp``)::

        cm dV/dt      = cm (v_rest - V) / tau_m + I_E - I_I + i_offset
        dI_E/dt       = -I_E / tau_syn_E        (I_E += w at each excitatory arrival)
        dI_I/dt       = -I_I / tau_syn_I        (I_I += |w| at each inhibitory arrival)
        V >= v_thresh -> spike, V = v_reset, V held for tau_refrac

    How the step of length ``dt`` is computed is fixed by the network's
    integration scheme (:mod:`neuromem.spec.schemes`). Weights are in nA.

    Parameters
    ----------
    cm : float
        Membrane capacitance (nF), > 0.
    tau_m : float
        Membrane time constant (ms), > 0.
    tau_refrac : float
        Refractory period (ms), >= 0; rounded to whole steps.
    tau_syn_E, tau_syn_I : float
        Decay time constants of the excitatory / inhibitory current (ms), > 0.
    v_rest, v_reset, v_thresh : float
        Resting, reset and threshold potential (mV); ``v_reset < v_thresh``.
    i_offset : float
        Constant injected current (nA).
    v_init : float or None
        Initial membrane potential (mV); ``None`` means ``v_rest``.

    Examples
    --------
    >>> cell = IF_curr_exp(cm=0.27, tau_m=3.0, tau_syn_E=0.3, tau_syn_I=0.3,
    ...                    v_rest=-60.0, v_reset=-60.0, v_thresh=-57.0)
    >>> cell.membrane_resistance
    11.11111111111111
    """

    cm: float = 1.0
    tau_m: float = 20.0
    tau_refrac: float = 0.1
    tau_syn_E: float = 5.0
    tau_syn_I: float = 5.0
    v_rest: float = -65.0
    v_reset: float = -65.0
    v_thresh: float = -50.0
    i_offset: float = 0.0
    v_init: float | None = None

    units = {
        "cm": "nF",
        "tau_m": "ms",
        "tau_refrac": "ms",
        "tau_syn_E": "ms",
        "tau_syn_I": "ms",
        "v_rest": "mV",
        "v_reset": "mV",
        "v_thresh": "mV",
        "i_offset": "nA",
        "v_init": "mV",
    }
    weight_unit = "nA"
    recordables = ("v", "i_exc", "i_inh")

    def __post_init__(self) -> None:
        owner = type(self).__name__
        for name in ("cm", "tau_m", "tau_syn_E", "tau_syn_I"):
            object.__setattr__(self, name, checks.positive(owner, name, getattr(self, name), self.units[name]))
        object.__setattr__(self, "tau_refrac", checks.non_negative(owner, "tau_refrac", self.tau_refrac, "ms"))
        for name in ("v_rest", "v_reset", "v_thresh", "i_offset"):
            object.__setattr__(self, name, checks.finite(owner, name, getattr(self, name)))
        if self.v_init is not None:
            object.__setattr__(self, "v_init", checks.finite(owner, "v_init", self.v_init))
        if self.v_reset >= self.v_thresh:
            raise ValidationError(
                f"{owner}: v_reset = {self.v_reset:g} mV must be below v_thresh = {self.v_thresh:g} mV"
            )

    @property
    def initial_v(self) -> float:
        """Membrane potential at t = 0 (mV)."""
        return self.v_rest if self.v_init is None else self.v_init

    @property
    def membrane_resistance(self) -> float:
        """R = tau_m / cm (MOhm, so that nA x MOhm = mV)."""
        return self.tau_m / self.cm

    def initial_values(self) -> dict[str, float]:
        return {"v": self.initial_v}


#: The name the class had before cell types became plug-ins; files that say
#: "LIFCurrExp" load as IF_curr_exp.
LIFCurrExp = IF_curr_exp
SPEC_TYPES.setdefault("LIFCurrExp", IF_curr_exp)


# -- constants of one step --------------------------------------------------------------


def constants(p: Mapping[str, Scalar], dt: float, scheme: str) -> dict[str, Scalar]:
    """Per-population constants of one step of ``dt`` ms under ``scheme``.

    ``p_mm = exp(-dt/tau_m)``; ``decay = exp(-dt/tau_syn)``; ``input`` is the
    factor an arriving weight enters the current with (``k = (tau_syn/dt)(1 -
    decay)`` for ``"spinnaker"``, 1 for ``"exact"``); ``gain`` the mV per nA of
    current at the start of the step (``"exact"``); ``v_drive = (v_rest + R
    i_offset)(1 - p_mm)`` and ``gain_ext = R (1 - p_mm)`` the membrane's
    response to constant currents over the step.
    """
    resistance = p["tau_m"] / p["cm"]
    p_mm = exp(-dt / p["tau_m"])
    decay_E = exp(-dt / p["tau_syn_E"])
    decay_I = exp(-dt / p["tau_syn_I"])
    exact = scheme == "exact"
    return {
        "v_rest": p["v_rest"],
        "v_reset": p["v_reset"],
        "v_thresh": p["v_thresh"],
        "i_offset": p["i_offset"],
        "resistance": resistance,
        "p_mm": p_mm,
        "decay_E": decay_E,
        "decay_I": decay_I,
        "input_E": 1.0 if exact else p["tau_syn_E"] / dt * (1.0 - decay_E),
        "input_I": 1.0 if exact else p["tau_syn_I"] / dt * (1.0 - decay_I),
        "gain_E": exp_current_gain(p["cm"], p["tau_m"], p["tau_syn_E"], dt) if exact else 0.0,
        "gain_I": exp_current_gain(p["cm"], p["tau_m"], p["tau_syn_I"], dt) if exact else 0.0,
        "refractory_steps": refractory_steps(float(p["tau_refrac"]), dt),
        "v_drive": (p["v_rest"] + resistance * p["i_offset"]) * (1.0 - p_mm),
        "gain_ext": resistance * (1.0 - p_mm),
    }


# -- torch steps -----------------------------------------------------------------------


#: What the constants are, for messages (the overflow check of a build names them).
LIF_WORDS = {
    "resistance": "membrane resistance tau_m/cm (MOhm)",
    "v_drive": "resting drive (v_rest + R i_offset)(1 - P_mm) (mV)",
    "gain_ext": "membrane gain of injected current (mV/nA)",
    "input_E": "input factor of tau_syn_E",
    "input_I": "input factor of tau_syn_I",
    "gain_E": "membrane gain of tau_syn_E (mV/nA)",
    "gain_I": "membrane gain of tau_syn_I (mV/nA)",
}


class State(NamedTuple):
    """Membrane (mV), currents (nA) and refractory steps left."""

    v: torch.Tensor
    i_exc: torch.Tensor
    i_inh: torch.Tensor
    refractory: torch.Tensor


def initial(cell: CellType) -> dict[str, float]:
    assert isinstance(cell, IF_curr_exp)
    return {"v": cell.initial_v, "i_exc": 0.0, "i_inh": 0.0, "refractory": 0}


def spinnaker_step(
    state: State,
    input_exc: torch.Tensor,
    input_inh: torch.Tensor,
    i_ext: torch.Tensor | None,
    k: Constants,
    spike_fn: SpikeFunction = heaviside,
) -> tuple[torch.Tensor, State]:
    """sPyNNaker's step: step-averaged current held constant, exact membrane.

    1. ``I += w k`` for the arrivals of this tick;
    2. ``V_inf = v_rest + R (I_E - I_I + i_offset + i_inj)``; ``V = V_inf - (V_inf - V) exp(-dt/tau_m)``;
    3. threshold, reset, refractory hold;
    4. ``I *= exp(-dt/tau_syn)``.
    """
    i_exc = state.i_exc + input_exc * k.input_E
    i_inh = state.i_inh + input_inh * k.input_I
    drive = i_exc - i_inh + k.i_offset
    if i_ext is not None:
        drive = drive + i_ext
    v_inf = k.v_rest + k.resistance * drive
    v_new = v_inf - (v_inf - state.v) * k.p_mm
    spikes, v, refractory = fire(v_new, state.v, state.refractory, k.v_thresh, k.v_reset, k.refractory_steps, spike_fn)
    return spikes, State(v, i_exc * k.decay_E, i_inh * k.decay_I, refractory)


def exact_step(
    state: State,
    input_exc: torch.Tensor,
    input_inh: torch.Tensor,
    i_ext: torch.Tensor | None,
    k: Constants,
    spike_fn: SpikeFunction = heaviside,
) -> tuple[torch.Tensor, State]:
    """Exact solution of the continuous equations over one step.

    1. ``V = v_rest + (V - v_rest) P_mm + R (i_offset + i_inj)(1 - P_mm) + I_E P_E - I_I P_I``
       (``P_mm = exp(-dt/tau_m)``; ``P_E``, ``P_I`` from
       :func:`neuromem.cells.base.exp_current_gain`);
    2. ``I *= exp(-dt/tau_syn)``;
    3. threshold, reset, refractory hold;
    4. ``I += w`` for the arrivals of this tick (they move V from the next step on).
    """
    # v_drive = (v_rest + R i_offset)(1 - P_mm): the constant part, precomputed.
    v_new = k.v_drive.addcmul(state.v, k.p_mm)
    # In place on the fresh v_new only: autograd keeps what these products need.
    v_new.addcmul_(state.i_exc, k.gain_E).addcmul_(state.i_inh, k.gain_I, value=-1.0)
    if i_ext is not None:
        v_new.addcmul_(i_ext, k.gain_ext)
    spikes, v, refractory = fire(v_new, state.v, state.refractory, k.v_thresh, k.v_reset, k.refractory_steps, spike_fn)
    i_exc = input_exc.addcmul(state.i_exc, k.decay_E)
    i_inh = input_inh.addcmul(state.i_inh, k.decay_I)
    return spikes, State(v, i_exc, i_inh, refractory)


# -- in-place event steps (the simulation, no gradient) -------------------------------------


class EventState(NamedTuple):
    """Working state of the in-place steps.

    Both currents in one tensor ``i_syn`` (batch, 2 n), excitatory then
    inhibitory (the input buffer's channel order), so that the decay and the
    arrivals are one operation each; ``i_exc`` and ``i_inh`` are its halves as
    views, made once (slicing every step costs as much as an operation); the
    refractory count as a float; two scratch masks.
    """

    v: torch.Tensor
    i_syn: torch.Tensor
    i_exc: torch.Tensor
    i_inh: torch.Tensor
    refractory: torch.Tensor
    crossed: torch.Tensor
    active: torch.Tensor


class EventConstants(NamedTuple):
    """What the in-place steps read, per neuron (``decay`` and ``input`` per channel, 2 n)."""

    v_drive: torch.Tensor
    p_mm: torch.Tensor
    gain_E: torch.Tensor
    gain_I: torch.Tensor
    gain_ext: torch.Tensor
    v_rest: torch.Tensor
    resistance: torch.Tensor
    i_offset: torch.Tensor
    v_thresh: torch.Tensor
    v_reset: torch.Tensor
    steps: torch.Tensor | int
    zero: torch.Tensor
    one: torch.Tensor
    decay: torch.Tensor
    input: torch.Tensor


def pack_state(state: NamedTuple, k: NamedTuple) -> EventState:
    """The working state of a public :class:`State` (new tensors)."""
    import torch

    assert isinstance(state, State)
    v = state.v.clone(memory_format=torch.contiguous_format)
    i_syn = torch.cat([state.i_exc, state.i_inh], dim=1)
    n = v.shape[1]
    return EventState(
        v=v,
        i_syn=i_syn,
        i_exc=i_syn[:, :n],
        i_inh=i_syn[:, n:],
        refractory=state.refractory.clamp(min=0).to(v.dtype),
        crossed=torch.empty_like(v),
        active=torch.empty_like(v),
    )


def unpack_state(working: NamedTuple) -> State:
    """The public :class:`State` of a working state (currents as views)."""
    import torch

    assert isinstance(working, EventState)
    return State(working.v, working.i_exc, working.i_inh, working.refractory.to(torch.int32))


def event_constants(k: NamedTuple) -> EventConstants:
    """The in-place steps' constants from the block's columns ``k``."""
    import torch

    fields = {name: getattr(k, name) for name in EventConstants._fields if hasattr(k, name)}
    steps = k.refractory_steps
    # The int 0: no neuron of the block is ever refractory (see fire_in_place).
    fields["steps"] = steps if isinstance(steps, int) else steps.to(k.v_reset.dtype)
    fields["zero"] = torch.zeros_like(k.v_reset)
    fields["one"] = torch.ones_like(k.v_reset)
    fields["decay"] = torch.cat([k.decay_E, k.decay_I])
    fields["input"] = torch.cat([k.input_E, k.input_I])
    return EventConstants(**fields)


def exact_event_step(
    s: EventState, inputs: torch.Tensor, i_ext: torch.Tensor | None, k: EventConstants, spikes: torch.Tensor
) -> None:
    """:func:`exact_step` in place (same operations on the same numbers, in the same order)."""
    import torch

    v = s.v
    torch.addcmul(k.v_drive, v, k.p_mm, out=v)
    v.addcmul_(s.i_exc, k.gain_E).addcmul_(s.i_inh, k.gain_I, value=-1.0)
    if i_ext is not None:
        v.addcmul_(i_ext, k.gain_ext)
    fire_in_place(v, s.refractory, s.crossed, s.active, k, spikes)
    torch.addcmul(inputs, s.i_syn, k.decay, out=s.i_syn)


def spinnaker_event_step(
    s: EventState, inputs: torch.Tensor, i_ext: torch.Tensor | None, k: EventConstants, spikes: torch.Tensor
) -> None:
    """:func:`spinnaker_step` in place (same operations on the same numbers, in the same order).

    Products and sums stay separate operations, as in the pure step: ``addcmul``
    rounds ``a + b c`` differently from ``a + (b c)``.
    """
    import torch

    s.i_syn.add_(inputs.mul_(k.input))
    drive = torch.sub(s.i_exc, s.i_inh, out=s.crossed).add_(k.i_offset)
    if i_ext is not None:
        drive.add_(i_ext)
    v_inf = torch.mul(drive, k.resistance, out=s.active).add_(k.v_rest)
    v = torch.sub(v_inf, s.v, out=s.v).mul_(k.p_mm)
    torch.sub(v_inf, v, out=v)
    fire_in_place(v, s.refractory, s.crossed, s.active, k, spikes)
    s.i_syn.mul_(k.decay)


EVENTS = EventModel(
    state=EventState,
    pack=pack_state,
    unpack=unpack_state,
    constants=event_constants,
    steps={"exact": exact_event_step, "spinnaker": spinnaker_event_step},
    decaying=("i_syn",),
)


# -- Brian2 ------------------------------------------------------------------------------

_EXACT_EQUATIONS = """
dv/dt = (v_rest - v)/{tau_m} + (I_E - I_I + i_offset + i_inj)/(c_m*ms) : 1
dI_E/dt = -I_E/{tau_syn_E} : 1
dI_I/dt = -I_I/{tau_syn_I} : 1
i_inj : 1
"""

_SPINNAKER_EQUATIONS = """
dv/dt = (v_rest - v)/tau_m + (I_E - I_I + i_offset + i_inj)/(c_m*ms) : 1
I_E : 1
I_I : 1
I_E_in : 1
I_I_in : 1
i_inj : 1
"""

HOLD = ("hold", "v = v*int(not_refractory) + v_reset*(1 - int(not_refractory))", "groups", 1)


def brian2_model(cell: CellType, scheme: str, dt: float) -> Brian2Model:
    r"""The Brian2 group of ``cell``: linear equations in PyNN units.

    ``"exact"``: the three equations are integrated by Brian2's ``exact``
    method; arrivals add to ``I_E``/``I_I`` in the ``synapses`` slot, after the
    state update and the threshold of their tick. ``"spinnaker"``: ``I_E``/``I_I``
    are constants of the ``exact`` integrator; arrivals of tick n are delivered
    one tick early into ``I_E_in``/``I_I_in``, folded in before the state update
    (``I += k I_in``), and the currents decay after the reset. Since
    1 nA / 1 nF = 1 mV/ms, ``dv/dt = (v_rest - v)/tau_m + I/(c_m ms)``.
    """
    assert isinstance(cell, IF_curr_exp)
    k = constants(cell.parameters(), dt, scheme)
    namespace = {
        "c_m": cell.cm,
        "v_rest": cell.v_rest,
        "v_reset": cell.v_reset,
        "v_thresh": cell.v_thresh,
        "i_offset": cell.i_offset,
        "k_E": k["input_E"],
        "k_I": k["input_I"],
        "decay_E": k["decay_E"],
        "decay_I": k["decay_I"],
        "tau_m": cell.tau_m,
        "tau_syn_E": cell.tau_syn_E,
        "tau_syn_I": cell.tau_syn_I,
    }
    operations = [HOLD]
    if scheme == "spinnaker":
        equations = _SPINNAKER_EQUATIONS
        operations.append(
            ("arrive", "I_E = I_E + k_E*I_E_in\nI_I = I_I + k_I*I_I_in\nI_E_in = 0\nI_I_in = 0", "before_groups", 0)
        )
        operations.append(("decay", "I_E = I_E*decay_E\nI_I = I_I*decay_I", "after_resets", 0))
        code = {"excitatory": "I_E_in_post += {w}", "inhibitory": "I_I_in_post += {w}"}
    else:
        names = {"tau_m": "tau_m", "tau_syn_E": "tau_syn_E", "tau_syn_I": "tau_syn_I"}
        for receptor in ("tau_syn_E", "tau_syn_I"):
            # Equal time constants make the symbolic solution 0/0; with numbers in
            # the equations the solver finds the degenerate t exp(-t/tau) solution.
            if abs(getattr(cell, receptor) - cell.tau_m) < 1e-9 * cell.tau_m:
                literal = f"({cell.tau_m!r}*ms)"
                names[receptor] = literal
                names["tau_m"] = literal
        equations = _EXACT_EQUATIONS.format(**names)
        code = {"excitatory": "I_E_post += {w}", "inhibitory": "I_I_post += {w}"}
    return Brian2Model(
        equations=equations,
        threshold="v >= v_thresh",
        reset="v = v_reset",
        method="exact",
        namespace=namespace,
        initial={"v": cell.initial_v},
        refractory_steps=int(k["refractory_steps"]),
        synapse_code=code,
        early=scheme == "spinnaker",
        traces={"v": "v", "i_exc": "I_E", "i_inh": "I_I"},
        operations=tuple(operations),
    )


# -- PyNN -------------------------------------------------------------------------------


def lif_parameters(cell: CellType, target: str, dt: float) -> dict[str, float]:
    """PyNN parameters of an integrate-and-fire cell on ``target``.

    pyNN.brian2 ends refractoriness one step early (it holds V for ``R - 1``
    steps after the spike step), so it is given ``tau_refrac + dt``.
    """
    parameters = cell.parameters()
    if target == "brian2":
        parameters["tau_refrac"] = round(parameters["tau_refrac"] + dt, 9)
    return parameters


def lif_initial(
    cell: CellType, dt: float, warmup_steps: int, missed: np.ndarray | None = None
) -> dict[str, float | list[float]]:
    """Potential at the simulator's t = 0 that relaxes to ``v_init`` over the warm-up steps.

    With no input arriving, V relaxes towards ``V_inf = v_rest + R i_offset``:
    ``V(w dt) = V_inf + (V0 - V_inf) exp(-w dt / tau_m)``, solved for V0. With
    ``missed`` current I in step 0, the target must instead reach after step 0
    (without I) what neuromem reaches with it, ``V1 = V_inf + R I + (v_init -
    V_inf - R I) exp(-dt/tau_m)``: ``V0 = V_inf + (V1 - V_inf) exp((w + 1) dt / tau_m)``.
    """
    v_init = cell.initial_values()["v"]
    if warmup_steps == 0:
        return {"v": v_init}
    p = cell.parameters()
    resistance = p["tau_m"] / p["cm"]
    v_inf = p["v_rest"] + resistance * p["i_offset"]
    if missed is None or not np.any(missed):
        return {"v": float(v_inf + (v_init - v_inf) * exp(warmup_steps * dt / p["tau_m"]))}
    drive = v_inf + resistance * np.asarray(missed, dtype=np.float64)
    v1 = drive + (v_init - drive) * exp(-dt / p["tau_m"])
    return {"v": (v_inf + (v1 - v_inf) * exp((warmup_steps + 1) * dt / p["tau_m"])).tolist()}


# -- NIR ---------------------------------------------------------------------------------


def nir_node(nir: object, cell: CellType, size: int, dt: float, receptors: set[str]) -> tuple[object, float]:
    """``nir.CubaLIF`` written so that Euler loaders (Norse, snnTorch) reproduce the model.

    Times in seconds; voltages relative to rest; currents in "mV per step"
    (``I' = I dt / cm``, so ``r = tau_m/dt``); ``w_in = tau_syn/dt`` so that a
    spike of value 1 raises the current by its weight. Returns the node and
    the factor ``dt/cm`` from nA to the node's current unit (see
    :mod:`neuromem.export.nir`).
    """
    from neuromem.errors import CapabilityError

    assert isinstance(cell, IF_curr_exp)
    if cell.i_offset != 0.0:
        raise CapabilityError(f"feature i_offset = {cell.i_offset:g} nA cannot be expressed on target 'nir'")
    if receptors == {"excitatory", "inhibitory"} and cell.tau_syn_E != cell.tau_syn_I:
        raise CapabilityError(
            f"feature tau_syn_E = {cell.tau_syn_E:g} ms != tau_syn_I = {cell.tau_syn_I:g} ms cannot be"
            " expressed on target 'nir' (one synaptic time constant per CubaLIF)"
        )
    tau_syn = cell.tau_syn_I if receptors == {"inhibitory"} else cell.tau_syn_E
    ones = np.ones(size)
    node = nir.CubaLIF(
        tau_mem=ones * cell.tau_m / 1000.0,
        tau_syn=ones * tau_syn / 1000.0,
        r=ones * cell.tau_m / dt,
        v_leak=ones * 0.0,
        v_threshold=ones * (cell.v_thresh - cell.v_rest),
        v_reset=ones * (cell.v_reset - cell.v_rest),
        w_in=ones * tau_syn / dt,
    )
    return node, dt / cell.cm


PYNN = PyNNModel(
    name="IF_curr_exp",
    parameters=lif_parameters,
    initial=lif_initial,
    weight_scale=lambda cell, target, dt: 1.0,
    recordables={"v": "v"},
)

MODEL = CellModel(
    spec=IF_curr_exp,
    torch=TorchModel(
        state=State,
        constants=constants,
        initial=initial,
        steps={"spinnaker": spinnaker_step, "exact": exact_step},
        integer=("refractory",),
        decaying=("i_exc", "i_inh"),
        describe=LIF_WORDS,
        events=EVENTS,
    ),
    brian2=brian2_model,
    pynn=PYNN,
    nir=nir_node,
)
