r"""``IF_curr_delta``: leaky integrate-and-fire whose inputs are voltage steps.

Continuous dynamics (PyNN ``IF_curr_delta``, NEST ``iaf_psc_delta``)::

    cm dV/dt = cm (v_rest - V) / tau_m + i_offset + i_inj
    V += w at each excitatory arrival, V -= w at each inhibitory one (w in mV)
    V >= v_thresh -> spike, V = v_reset, V held for tau_refrac (arrivals then are lost)

This is snnTorch's ``Leaky`` neuron with ``reset_mechanism="zero"`` and
``beta = exp(-dt/tau_m)`` when ``v_rest = v_reset = 0``, ``tau_refrac = 0``
and no current: ``V[t] = beta V[t-1] + x[t]``, spike where ``V[t] >= v_thresh``,
then ``V = 0`` (tests/conformance/test_cell_types.py shows it spike for spike).

Both schemes use the one update below: an arrival of tick n moves V within
step n, as NEST and sPyNNaker do (sPyNNaker feeds the step's weights as a
current of one step; the export scales its weights so that the step is
exactly ``w`` mV, see :func:`weight_scale`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING, NamedTuple

from neuromem.cells.base import (
    Brian2Model,
    CellModel,
    CellType,
    Constants,
    PyNNModel,
    SpikeFunction,
    TorchModel,
    fire,
    heaviside,
    refractory_steps,
)
from neuromem.cells.if_curr_exp import LIF_WORDS, lif_initial, lif_parameters
from neuromem.errors import CapabilityError, ValidationError
from neuromem.spec import checks
from neuromem.spec.base import register

if TYPE_CHECKING:
    import torch

    from neuromem.cells.base import Scalar


@register
@dataclass(frozen=True, eq=False)
class IF_curr_delta(CellType):  # noqa: N801 - PyNN's standard type name
    r"""Leaky integrate-and-fire neuron whose synaptic inputs are voltage steps.

    ``cm dV/dt = cm (v_rest - V)/tau_m + i_offset``; an arriving weight ``w``
    (mV) moves V by ``+w`` (excitatory) or ``-w`` (inhibitory) in its arrival
    step; ``V >= v_thresh`` -> spike, ``V = v_reset``, held for ``tau_refrac``.

    Parameters
    ----------
    cm : float
        Membrane capacitance (nF), > 0.
    tau_m : float
        Membrane time constant (ms), > 0.
    tau_refrac : float
        Refractory period (ms), >= 0; rounded to whole steps.
    v_rest, v_reset, v_thresh : float
        Resting, reset and threshold potential (mV); ``v_reset < v_thresh``.
    i_offset : float
        Constant injected current (nA).
    v_init : float or None
        Initial membrane potential (mV); ``None`` means ``v_rest``.

    Examples
    --------
    >>> IF_curr_delta(tau_m=10.0, v_rest=0.0, v_reset=0.0, v_thresh=1.0, tau_refrac=0.0).weight_unit
    'mV'
    """

    cm: float = 1.0
    tau_m: float = 20.0
    tau_refrac: float = 0.1
    v_rest: float = -65.0
    v_reset: float = -65.0
    v_thresh: float = -50.0
    i_offset: float = 0.0
    v_init: float | None = None

    units = {
        "cm": "nF",
        "tau_m": "ms",
        "tau_refrac": "ms",
        "v_rest": "mV",
        "v_reset": "mV",
        "v_thresh": "mV",
        "i_offset": "nA",
        "v_init": "mV",
    }
    weight_unit = "mV"
    recordables = ("v",)

    def __post_init__(self) -> None:
        owner = "IF_curr_delta"
        for name in ("cm", "tau_m"):
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

    def initial_values(self) -> dict[str, float]:
        return {"v": self.initial_v}


def constants(p: dict[str, Scalar], dt: float, scheme: str) -> dict[str, Scalar]:
    """``p_mm = exp(-dt/tau_m)``, ``v_drive = (v_rest + R i_offset)(1 - p_mm)``, ``gain_ext = R (1 - p_mm)``."""
    from neuromem.cells.base import exp

    resistance = p["tau_m"] / p["cm"]
    p_mm = exp(-dt / p["tau_m"])
    return {
        "v_reset": p["v_reset"],
        "v_thresh": p["v_thresh"],
        "p_mm": p_mm,
        "v_drive": (p["v_rest"] + resistance * p["i_offset"]) * (1.0 - p_mm),
        "gain_ext": resistance * (1.0 - p_mm),
        "refractory_steps": refractory_steps(float(p["tau_refrac"]), dt),
    }


class State(NamedTuple):
    """Membrane (mV) and refractory steps left."""

    v: torch.Tensor
    refractory: torch.Tensor


def initial(cell: CellType) -> dict[str, float]:
    assert isinstance(cell, IF_curr_delta)
    return {"v": cell.initial_v, "refractory": 0}


def step(
    state: State,
    input_exc: torch.Tensor,
    input_inh: torch.Tensor,
    i_ext: torch.Tensor | None,
    k: Constants,
    spike_fn: SpikeFunction = heaviside,
) -> tuple[torch.Tensor, State]:
    """One step under either scheme (NEST ``iaf_psc_delta``'s update).

    1. ``V = v_rest + (V - v_rest) P_mm + R (i_offset + i_inj)(1 - P_mm) + w_exc - w_inh``;
    2. threshold, reset; a refractory neuron keeps ``v_reset`` (its arrivals are lost).
    """
    v_new = k.v_drive.addcmul(state.v, k.p_mm)
    if i_ext is not None:
        v_new.addcmul_(i_ext, k.gain_ext)
    v_new = v_new + (input_exc - input_inh)
    spikes, v, refractory = fire(v_new, state.v, state.refractory, k.v_thresh, k.v_reset, k.refractory_steps, spike_fn)
    return spikes, State(v, refractory)


_EQUATIONS = """
dv/dt = (v_rest - v)/tau_m + (i_offset + i_inj)/(c_m*ms) : 1
v_in : 1
i_inj : 1
"""


def brian2_model(cell: CellType, scheme: str, dt: float) -> Brian2Model:
    """Linear membrane (``exact``); voltage steps delivered one tick early into ``v_in``.

    Right after the state update of step n, ``v += v_in`` unless refractory
    (then ``v = v_reset``), so a step arriving at tick n is seen by the
    threshold of tick n, as in NEST.
    """
    assert isinstance(cell, IF_curr_delta)
    return Brian2Model(
        equations=_EQUATIONS,
        threshold="v >= v_thresh",
        reset="v = v_reset",
        method="exact",
        namespace={
            "tau_m": cell.tau_m,
            "c_m": cell.cm,
            "v_rest": cell.v_rest,
            "v_reset": cell.v_reset,
            "v_thresh": cell.v_thresh,
            "i_offset": cell.i_offset,
        },
        initial={"v": cell.initial_v},
        refractory_steps=refractory_steps(cell.tau_refrac, dt),
        synapse_code={"excitatory": "v_in_post += {w}", "inhibitory": "v_in_post -= {w}"},
        early=True,
        traces={"v": "v"},
        operations=(
            (
                "jump",
                "v = (v + v_in)*int(not_refractory) + v_reset*(1 - int(not_refractory))\nv_in = 0",
                "groups",
                1,
            ),
        ),
    )


def weight_scale(cell: CellType, target: str, dt: float) -> float:
    """Factor from a step of ``w`` mV to the target's weight.

    NEST (``iaf_psc_delta``) and pyNN.brian2 take mV. sPyNNaker feeds the
    step's weights ``W`` as a current ``W/dt`` held for one step, which moves
    V by ``(tau_m/cm)(W/dt)(1 - exp(-dt/tau_m))``; ``W = w cm dt /(tau_m (1 -
    exp(-dt/tau_m)))`` moves it by exactly ``w``.
    """
    assert isinstance(cell, IF_curr_delta)
    if target != "spiNNaker":
        return 1.0
    return cell.cm * dt / (cell.tau_m * (1.0 - math.exp(-dt / cell.tau_m)))


def refuse_voltage_steps(cell: CellType, target: str) -> tuple[str, bool] | None:
    """pyNN.brian2 keeps voltage steps that arrive during refractoriness; approximable."""
    if target == "brian2" and getattr(cell, "tau_refrac", 0.0) > 0.0:
        return (
            f"feature cell:{type(cell).__name__} with tau_refrac = {cell.tau_refrac:g} ms cannot be expressed"  # type: ignore[attr-defined]
            " exactly on target 'brian2': pyNN.brian2 keeps voltage steps that arrive during refractoriness,"
            " which NEST and neuromem discard",
            True,
        )
    return None


#: pyNN.brian2 adds voltage steps in the ``synapses`` slot, after the threshold of the
#: arrival tick; the exported runner moves those pathways before the threshold, where
#: they read the spikes of the previous tick, so every delay is given one step shorter.
VOLTAGE_STEP_NATIVE = {"brian2": {"synapses": "before_threshold"}}


def nir_node(nir: object, cell: CellType, size: int, dt: float, receptors: set[str]) -> tuple[object, float]:
    """``nir.LIF`` with voltages relative to rest and ``r = tau_m/dt``: an input of value w is a step of w mV.

    The loaders integrate ``tau dv/dt = v_leak - v + r I`` with forward Euler,
    so one step of input I moves v by ``(dt/tau) r I = I``.
    """
    assert isinstance(cell, IF_curr_delta)
    if cell.i_offset != 0.0:
        raise CapabilityError(f"feature i_offset = {cell.i_offset:g} nA cannot be expressed on target 'nir'")
    import numpy as np

    ones = np.ones(size)
    node = nir.LIF(
        tau=ones * cell.tau_m / 1000.0,
        r=ones * cell.tau_m / dt,
        v_leak=ones * 0.0,
        v_threshold=ones * (cell.v_thresh - cell.v_rest),
        v_reset=ones * (cell.v_reset - cell.v_rest),
    )
    return node, 1.0


MODEL = CellModel(
    spec=IF_curr_delta,
    torch=TorchModel(
        state=State,
        constants=constants,
        initial=initial,
        steps={"spinnaker": step, "exact": step},
        integer=("refractory",),
        describe=LIF_WORDS,
    ),
    brian2=brian2_model,
    pynn=PyNNModel(
        name="IF_curr_delta",
        parameters=lif_parameters,
        initial=lif_initial,
        weight_scale=weight_scale,
        recordables={"v": "v"},
        refuse=refuse_voltage_steps,
        delay_offset_steps={"brian2": -1},
        # pyNN.nest 0.13 lacks IF_curr_delta's map of ``v`` to NEST's ``V_m``.
        native={"nest": {"variable_map": {"v": "V_m"}}, **VOLTAGE_STEP_NATIVE},
    ),
    nir=nir_node,
)
