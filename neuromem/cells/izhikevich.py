r"""``Izhikevich``: the quadratic integrate-and-fire model of Izhikevich (2003).

Continuous dynamics (PyNN ``Izhikevich``, NEST ``izhikevich``)::

    dv/dt = 0.04 v^2 + 5 v + 140 - u + I        (v in mV, t in ms)
    du/dt = a (b v - u)
    I     = 1000 (i_offset + i_inj)             (PyNN's nA; 1 nA counts as 1000 mV/ms)
    v += w at each excitatory arrival, v -= w at each inhibitory one (w in mV)
    v >= 30 mV -> spike, v = c, u = u + d       (no refractory period)

The factor 1000 is PyNN's: pyNN.nest hands ``i_offset`` to NEST as
``I_e = 1000 i_offset`` pA, which NEST adds to dv/dt in mV/ms; pyNN.brian2
divides by 1 pF. The model has no closed form; under the ``"exact"`` scheme
it takes NEST's update (``consistent_integration``: forward Euler of the
whole step from the state at its start, :func:`step`), so NEST through the
PyNN export is its oracle. There is no ``"spinnaker"`` update: sPyNNaker's
``Izhikevich`` filters its input through exponential current synapses
(``tau_syn_E``/``tau_syn_I``, weights in nA) instead of PyNN's voltage steps,
a different model; building it under that scheme, or exporting it to
sPyNNaker, is refused.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, NamedTuple

import numpy as np

from neuromem.cells.base import (
    Brian2Model,
    CellModel,
    CellType,
    Constants,
    PyNNModel,
    SpikeFunction,
    TorchModel,
    heaviside,
)
from neuromem.cells.if_curr_delta import VOLTAGE_STEP_NATIVE
from neuromem.errors import ValidationError
from neuromem.spec import checks
from neuromem.spec.base import register

if TYPE_CHECKING:
    import torch

    from neuromem.cells.base import Scalar

#: Spike threshold (mV): NEST's ``V_th``, pyNN.brian2's threshold; PyNN does not expose it.
V_PEAK = 30.0
#: mV/ms of dv/dt per nA of current (PyNN's convention, see the module docstring).
CURRENT_SCALE = 1000.0


@register
@dataclass(frozen=True, eq=False)
class Izhikevich(CellType):
    r"""Izhikevich (2003) neuron with voltage-step synapses (PyNN ``Izhikevich``).

    ``dv/dt = 0.04 v^2 + 5 v + 140 - u + 1000 i_offset``, ``du/dt = a (b v - u)``;
    an arriving weight ``w`` (mV) moves v by ``+-w``; ``v >= 30 mV`` -> spike,
    ``v = c``, ``u += d``.

    Parameters
    ----------
    a : float
        Recovery rate (1/ms), > 0.
    b : float
        Sensitivity of the recovery variable to v (1/ms).
    c : float
        Reset potential (mV), below 30 mV.
    d : float
        Increment of u at a spike (mV/ms).
    i_offset : float
        Constant injected current (nA).
    v_init : float
        Initial membrane potential (mV).
    u_init : float or None
        Initial recovery variable (mV/ms); ``None`` means ``b * v_init``.

    Examples
    --------
    >>> Izhikevich().initial_values()      # PyNN's defaults: regular spiking
    {'v': -70.0, 'u': -14.0}
    """

    a: float = 0.02
    b: float = 0.2
    c: float = -65.0
    d: float = 2.0
    i_offset: float = 0.0
    v_init: float = -70.0
    u_init: float | None = None

    units = {"a": "1/ms", "b": "1/ms", "c": "mV", "d": "mV/ms", "i_offset": "nA", "v_init": "mV", "u_init": "mV/ms"}
    weight_unit = "mV"
    recordables = ("v", "u")
    initial_names = ("v_init", "u_init")

    def __post_init__(self) -> None:
        owner = "Izhikevich"
        object.__setattr__(self, "a", checks.positive(owner, "a", self.a, "1/ms"))
        for name in ("b", "c", "d", "i_offset", "v_init"):
            object.__setattr__(self, name, checks.finite(owner, name, getattr(self, name)))
        if self.u_init is not None:
            object.__setattr__(self, "u_init", checks.finite(owner, "u_init", self.u_init))
        if self.c >= V_PEAK:
            raise ValidationError(f"{owner}: c = {self.c:g} mV must be below the spike peak {V_PEAK:g} mV")

    def initial_values(self) -> dict[str, float]:
        return {"v": self.v_init, "u": self.b * self.v_init if self.u_init is None else self.u_init}


def constants(p: dict[str, Scalar], dt: float, scheme: str) -> dict[str, Scalar]:
    """Per-population constants: the parameters, ``dt`` and the constant drive ``140 + 1000 i_offset``."""
    return {
        "a": p["a"],
        "b": p["b"],
        "c": p["c"],
        "d": p["d"],
        "drive": 140.0 + CURRENT_SCALE * p["i_offset"],
        "dt": dt,
    }


class State(NamedTuple):
    """Membrane potential (mV) and recovery variable (mV/ms)."""

    v: torch.Tensor
    u: torch.Tensor


def initial(cell: CellType) -> dict[str, float]:
    assert isinstance(cell, Izhikevich)
    return cell.initial_values()


def step(
    state: State,
    input_exc: torch.Tensor,
    input_inh: torch.Tensor,
    i_ext: torch.Tensor | None,
    k: Constants,
    spike_fn: SpikeFunction = heaviside,
) -> tuple[torch.Tensor, State]:
    """NEST's ``izhikevich`` update (``consistent_integration = True``).

    1. ``v' = v + dt (0.04 v^2 + 5 v + 140 - u + I) + w_exc - w_inh`` and
       ``u' = u + dt a (b v - u)``, both from the values at the start of the step;
    2. ``v' >= 30`` -> spike, ``v' = c``, ``u' = u' + d``.
    """
    v, u = state.v, state.u
    drive = k.drive if i_ext is None else k.drive + CURRENT_SCALE * i_ext
    dv = (0.04 * v + 5.0) * v + drive - u
    v_new = v + k.dt * dv + (input_exc - input_inh)
    u_new = u + k.dt * k.a * (k.b * v - u)
    if spike_fn is heaviside:
        fired = v_new >= V_PEAK
        return fired.to(v.dtype), State(k.c.where(fired, v_new), (u_new + k.d).where(fired, u_new))
    spikes = spike_fn(v_new - V_PEAK)
    return spikes, State(v_new - spikes * (v_new - k.c), u_new + spikes * k.d)


_EQUATIONS = """
dv/dt = (0.04*v**2 + 5*v + 140 - u + 1000*(i_offset + i_inj))/ms : 1
du/dt = a*(b*v - u)/ms : 1
v_in : 1
i_inj : 1
"""


def brian2_model(cell: CellType, scheme: str, dt: float) -> Brian2Model:
    """Brian2's ``euler`` (NEST's update); voltage steps one tick early into ``v_in``, added before the threshold."""
    assert isinstance(cell, Izhikevich)
    values = cell.initial_values()
    return Brian2Model(
        equations=_EQUATIONS,
        threshold=f"v >= {V_PEAK!r}",
        reset="v = c\nu = u + d",
        method="euler",
        namespace={"a": cell.a, "b": cell.b, "c": cell.c, "d": cell.d, "i_offset": cell.i_offset},
        initial={"v": values["v"], "u": values["u"]},
        refractory_steps=None,
        synapse_code={"excitatory": "v_in_post += {w}", "inhibitory": "v_in_post -= {w}"},
        early=True,
        traces={"v": "v", "u": "u"},
        operations=(("jump", "v = v + v_in\nv_in = 0", "groups", 1),),
    )


def pynn_parameters(cell: CellType, target: str, dt: float) -> dict[str, float]:
    return cell.parameters()


def _euler(v: np.ndarray, u: np.ndarray, cell: Izhikevich, dt: float, current: np.ndarray) -> tuple:
    drive = 140.0 + CURRENT_SCALE * (cell.i_offset + current)
    return v + dt * (0.04 * v * v + 5.0 * v + drive - u), u + dt * cell.a * (cell.b * v - u)


def pynn_initial(
    cell: CellType, dt: float, warmup_steps: int, missed: np.ndarray | None = None
) -> dict[str, float | list[float]]:
    """State at the simulator's t = 0 that one Euler step per warm-up step carries to (v_init, u_init).

    Each step back inverts ``u1 = u0 + h a (b v0 - u0)`` for ``u0`` and solves
    the quadratic ``v1 = v0 + h (0.04 v0^2 + 5 v0 + 140 + I - u0)`` for the
    root near ``v1``; Newton iterations on the forward map polish it to
    rounding. With ``missed`` current in step 0 the target must reach after
    step 0 (without it) the state neuromem reaches with it: one more step back.
    """
    assert isinstance(cell, Izhikevich)
    values = cell.initial_values()
    v, u = np.atleast_1d(float(values["v"])), np.atleast_1d(float(values["u"]))
    steps = warmup_steps
    if warmup_steps and missed is not None and np.any(missed):
        v, u = _euler(v, u, cell, dt, np.asarray(missed, dtype=np.float64))
        steps += 1
    h, a, b, drive = dt, cell.a, cell.b, 140.0 + CURRENT_SCALE * cell.i_offset
    q = 1.0 - h * a
    for _ in range(steps):
        big_a = 0.04 * h
        big_b = 1.0 + 5.0 * h + h * h * a * b / q
        big_c = h * drive - h * u / q - v
        v0 = -2.0 * big_c / (big_b + np.sqrt(big_b * big_b - 4.0 * big_a * big_c))
        for _ in range(3):
            u0 = (u - h * a * b * v0) / q
            residual = v0 + h * (0.04 * v0 * v0 + 5.0 * v0 + drive - u0) - v
            slope = 1.0 + h * (0.08 * v0 + 5.0) + h * h * a * b / q
            v0 = v0 - residual / slope
        v, u = v0, (u - h * a * b * v0) / q
    if v.size == 1 and (missed is None or not np.any(missed)):
        return {"v": float(v[0]), "u": float(u[0])}
    return {"v": np.broadcast_to(v, np.shape(missed)).tolist(), "u": np.broadcast_to(u, np.shape(missed)).tolist()}


def refuse(cell: CellType, target: str) -> tuple[str, bool] | None:
    """sPyNNaker's Izhikevich is another model."""
    if target == "spiNNaker":
        return (
            "feature cell:Izhikevich cannot be expressed on target 'spiNNaker': sPyNNaker's Izhikevich filters"
            " its input through exponential current synapses (tau_syn_E, tau_syn_I; weights in nA) instead of"
            " PyNN's voltage steps (weights in mV)",
            False,
        )
    return None


MODEL = CellModel(
    spec=Izhikevich,
    torch=TorchModel(state=State, constants=constants, initial=initial, steps={"exact": step}),
    brian2=brian2_model,
    pynn=PyNNModel(
        name="Izhikevich",
        parameters=pynn_parameters,
        initial=pynn_initial,
        weight_scale=lambda cell, target, dt: 1.0,
        recordables={"v": "v", "u": "u"},
        refuse=refuse,
        delay_offset_steps={"brian2": -1},
        native=VOLTAGE_STEP_NATIVE,
    ),
)
