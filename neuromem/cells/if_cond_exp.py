r"""``IF_cond_exp``: leaky integrate-and-fire with exponentially decaying conductances.

Continuous dynamics (PyNN ``IF_cond_exp``, NEST ``iaf_cond_exp``)::

    cm dV/dt  = cm (v_rest - V)/tau_m + g_E (e_rev_E - V) + g_I (e_rev_I - V) + i_offset + i_inj
    dg_E/dt   = -g_E / tau_syn_E        (g_E += w at each excitatory arrival, w in uS)
    dg_I/dt   = -g_I / tau_syn_I        (g_I += w at each inhibitory arrival)
    V >= v_thresh -> spike, V = v_reset, V held for tau_refrac

(uS x mV = nA, nA / nF = mV/ms). The equations have no closed-form solution
over a step, so the ``"exact"`` scheme integrates them with the classical
fourth-order Runge-Kutta method over the whole step (error about
``(dt/tau)^5`` per step, 1e-9 mV at dt = 0.1 ms, tau = 5 ms); NEST's
adaptive RKF45 and Brian2's ``rk4`` agree with it to that order.
"""

from __future__ import annotations

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
    exp,
    fire,
    heaviside,
    refractory_steps,
)
from neuromem.cells.if_curr_exp import HOLD, LIF_WORDS, lif_initial, lif_parameters
from neuromem.errors import ValidationError
from neuromem.spec import checks
from neuromem.spec.base import register

if TYPE_CHECKING:
    import torch

    from neuromem.cells.base import Scalar


@register
@dataclass(frozen=True, eq=False)
class IF_cond_exp(CellType):  # noqa: N801 - PyNN's standard type name
    r"""Leaky integrate-and-fire neuron with exponentially decaying conductances.

    ``cm dV/dt = cm (v_rest - V)/tau_m + g_E (e_rev_E - V) + g_I (e_rev_I - V) + i_offset``;
    ``dg/dt = -g/tau_syn``; an arriving weight ``w`` (uS) adds to ``g_E`` or
    ``g_I``; ``V >= v_thresh`` -> spike, ``V = v_reset``, held for ``tau_refrac``.

    Parameters
    ----------
    cm : float
        Membrane capacitance (nF), > 0.
    tau_m : float
        Membrane time constant (ms), > 0 (leak conductance ``cm/tau_m`` uS).
    tau_refrac : float
        Refractory period (ms), >= 0; rounded to whole steps.
    tau_syn_E, tau_syn_I : float
        Decay time constants of the conductances (ms), > 0.
    e_rev_E, e_rev_I : float
        Reversal potentials (mV).
    v_rest, v_reset, v_thresh : float
        Resting, reset and threshold potential (mV); ``v_reset < v_thresh``.
    i_offset : float
        Constant injected current (nA).
    v_init : float or None
        Initial membrane potential (mV); ``None`` means ``v_rest``.

    Examples
    --------
    >>> IF_cond_exp(e_rev_E=0.0, e_rev_I=-80.0).recordables
    ('v', 'gsyn_exc', 'gsyn_inh')
    """

    cm: float = 1.0
    tau_m: float = 20.0
    tau_refrac: float = 0.1
    tau_syn_E: float = 5.0
    tau_syn_I: float = 5.0
    e_rev_E: float = 0.0
    e_rev_I: float = -70.0
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
        "e_rev_E": "mV",
        "e_rev_I": "mV",
        "v_rest": "mV",
        "v_reset": "mV",
        "v_thresh": "mV",
        "i_offset": "nA",
        "v_init": "mV",
    }
    weight_unit = "uS"
    recordables = ("v", "gsyn_exc", "gsyn_inh")

    def __post_init__(self) -> None:
        owner = "IF_cond_exp"
        for name in ("cm", "tau_m", "tau_syn_E", "tau_syn_I"):
            object.__setattr__(self, name, checks.positive(owner, name, getattr(self, name), self.units[name]))
        object.__setattr__(self, "tau_refrac", checks.non_negative(owner, "tau_refrac", self.tau_refrac, "ms"))
        for name in ("e_rev_E", "e_rev_I", "v_rest", "v_reset", "v_thresh", "i_offset"):
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
    """Per-population constants; ``k = (tau_syn/dt)(1 - exp(-dt/tau_syn))`` under ``"spinnaker"``."""
    decay_E = exp(-dt / p["tau_syn_E"])
    decay_I = exp(-dt / p["tau_syn_I"])
    spinnaker = scheme == "spinnaker"
    return {
        "cm": p["cm"],
        "tau_m": p["tau_m"],
        "tau_syn_E": p["tau_syn_E"],
        "tau_syn_I": p["tau_syn_I"],
        "e_rev_E": p["e_rev_E"],
        "e_rev_I": p["e_rev_I"],
        "v_rest": p["v_rest"],
        "v_reset": p["v_reset"],
        "v_thresh": p["v_thresh"],
        "i_offset": p["i_offset"],
        "resistance": p["tau_m"] / p["cm"],
        "p_mm": exp(-dt / p["tau_m"]),
        "decay_E": decay_E,
        "decay_I": decay_I,
        "input_E": p["tau_syn_E"] / dt * (1.0 - decay_E) if spinnaker else 1.0,
        "input_I": p["tau_syn_I"] / dt * (1.0 - decay_I) if spinnaker else 1.0,
        "refractory_steps": refractory_steps(float(p["tau_refrac"]), dt),
        "dt": dt,
    }


class State(NamedTuple):
    """Membrane (mV), conductances (uS) and refractory steps left."""

    v: torch.Tensor
    gsyn_exc: torch.Tensor
    gsyn_inh: torch.Tensor
    refractory: torch.Tensor


def initial(cell: CellType) -> dict[str, float]:
    assert isinstance(cell, IF_cond_exp)
    return {"v": cell.initial_v, "gsyn_exc": 0.0, "gsyn_inh": 0.0, "refractory": 0}


def _derivatives(
    v: torch.Tensor, g_e: torch.Tensor, g_i: torch.Tensor, current: torch.Tensor, k: Constants
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    dv = (k.v_rest - v) / k.tau_m + (g_e * (k.e_rev_E - v) + g_i * (k.e_rev_I - v) + current) / k.cm
    return dv, -g_e / k.tau_syn_E, -g_i / k.tau_syn_I


def exact_step(
    state: State,
    input_exc: torch.Tensor,
    input_inh: torch.Tensor,
    i_ext: torch.Tensor | None,
    k: Constants,
    spike_fn: SpikeFunction = heaviside,
) -> tuple[torch.Tensor, State]:
    """Runge-Kutta (4th order, one stage set per step) of the continuous equations.

    1. ``y = (V, g_E, g_I)``, ``f`` the right-hand sides above with ``i_offset
       + i_inj`` constant over the step; ``a = f(y)``, ``b = f(y + h a/2)``,
       ``c = f(y + h b/2)``, ``d = f(y + h c)``, ``y += h (a + 2b + 2c + d)/6``;
    2. threshold, reset, refractory hold (V only; conductances keep evolving);
    3. ``g += w`` for the arrivals of this tick (they act from the next step on),
       as NEST ``iaf_cond_exp`` does.
    """
    h = k.dt
    current = k.i_offset if i_ext is None else i_ext + k.i_offset
    v, g_e, g_i = state.v, state.gsyn_exc, state.gsyn_inh
    a = _derivatives(v, g_e, g_i, current, k)
    b = _derivatives(v + 0.5 * h * a[0], g_e + 0.5 * h * a[1], g_i + 0.5 * h * a[2], current, k)
    c = _derivatives(v + 0.5 * h * b[0], g_e + 0.5 * h * b[1], g_i + 0.5 * h * b[2], current, k)
    d = _derivatives(v + h * c[0], g_e + h * c[1], g_i + h * c[2], current, k)
    new = [y + h / 6.0 * (p + 2.0 * q + 2.0 * r + s) for y, p, q, r, s in zip((v, g_e, g_i), a, b, c, d)]
    spikes, v, refractory = fire(new[0], state.v, state.refractory, k.v_thresh, k.v_reset, k.refractory_steps, spike_fn)
    return spikes, State(v, new[1] + input_exc, new[2] + input_inh, refractory)


def spinnaker_step(
    state: State,
    input_exc: torch.Tensor,
    input_inh: torch.Tensor,
    i_ext: torch.Tensor | None,
    k: Constants,
    spike_fn: SpikeFunction = heaviside,
) -> tuple[torch.Tensor, State]:
    """sPyNNaker's conductance LIF: synaptic current frozen at the start of the step.

    1. ``g += w k`` for the arrivals of this tick;
    2. ``I = g_E (e_rev_E - V) + g_I (e_rev_I - V) + i_offset + i_inj`` with V at the start of the step;
    3. ``V_inf = v_rest + R I``; ``V = V_inf - (V_inf - V) exp(-dt/tau_m)``;
    4. threshold, reset, refractory hold;
    5. ``g *= exp(-dt/tau_syn)``.
    """
    g_e = state.gsyn_exc + input_exc * k.input_E
    g_i = state.gsyn_inh + input_inh * k.input_I
    current = g_e * (k.e_rev_E - state.v) + g_i * (k.e_rev_I - state.v) + k.i_offset
    if i_ext is not None:
        current = current + i_ext
    v_inf = k.v_rest + k.resistance * current
    v_new = v_inf - (v_inf - state.v) * k.p_mm
    spikes, v, refractory = fire(v_new, state.v, state.refractory, k.v_thresh, k.v_reset, k.refractory_steps, spike_fn)
    return spikes, State(v, g_e * k.decay_E, g_i * k.decay_I, refractory)


_EXACT_EQUATIONS = """
dv/dt = (v_rest - v)/tau_m + (g_E*(e_rev_E - v) + g_I*(e_rev_I - v) + i_offset + i_inj)/(c_m*ms) : 1
dg_E/dt = -g_E/tau_syn_E : 1
dg_I/dt = -g_I/tau_syn_I : 1
i_inj : 1
"""

_SPINNAKER_EQUATIONS = """
dv/dt = (v_rest - v)/tau_m + (I_syn + i_offset + i_inj)/(c_m*ms) : 1
I_syn : 1
g_E : 1
g_I : 1
g_E_in : 1
g_I_in : 1
i_inj : 1
"""


def brian2_model(cell: CellType, scheme: str, dt: float) -> Brian2Model:
    """``"exact"``: Brian2's ``rk4`` over (v, g_E, g_I); ``"spinnaker"``: frozen synaptic current, ``exact`` membrane.

    Under ``"spinnaker"`` arrivals are delivered one tick early into
    ``g_E_in``/``g_I_in``; before the state update of step n they are folded
    in (``g += k g_in``) and ``I_syn`` is computed with V at the start of the
    step; the conductances decay after the reset.
    """
    assert isinstance(cell, IF_cond_exp)
    k = constants(cell.parameters(), dt, scheme)
    namespace = {
        "tau_m": cell.tau_m,
        "tau_syn_E": cell.tau_syn_E,
        "tau_syn_I": cell.tau_syn_I,
        "c_m": cell.cm,
        "e_rev_E": cell.e_rev_E,
        "e_rev_I": cell.e_rev_I,
        "v_rest": cell.v_rest,
        "v_reset": cell.v_reset,
        "v_thresh": cell.v_thresh,
        "i_offset": cell.i_offset,
        "k_E": float(k["input_E"]),
        "k_I": float(k["input_I"]),
        "decay_E": float(k["decay_E"]),
        "decay_I": float(k["decay_I"]),
    }
    operations = [HOLD]
    if scheme == "spinnaker":
        operations.append(
            (
                "arrive",
                "g_E = g_E + k_E*g_E_in\ng_I = g_I + k_I*g_I_in\ng_E_in = 0\ng_I_in = 0\n"
                "I_syn = g_E*(e_rev_E - v) + g_I*(e_rev_I - v)",
                "before_groups",
                0,
            )
        )
        operations.append(("decay", "g_E = g_E*decay_E\ng_I = g_I*decay_I", "after_resets", 0))
        code = {"excitatory": "g_E_in_post += {w}", "inhibitory": "g_I_in_post += {w}"}
    else:
        code = {"excitatory": "g_E_post += {w}", "inhibitory": "g_I_post += {w}"}
    return Brian2Model(
        equations=_SPINNAKER_EQUATIONS if scheme == "spinnaker" else _EXACT_EQUATIONS,
        threshold="v >= v_thresh",
        reset="v = v_reset",
        method="exact" if scheme == "spinnaker" else "rk4",
        namespace=namespace,
        initial={"v": cell.initial_v},
        refractory_steps=int(k["refractory_steps"]),
        synapse_code=code,
        early=scheme == "spinnaker",
        traces={"v": "v", "gsyn_exc": "g_E", "gsyn_inh": "g_I"},
        operations=tuple(operations),
    )


MODEL = CellModel(
    spec=IF_cond_exp,
    torch=TorchModel(
        state=State,
        constants=constants,
        initial=initial,
        steps={"spinnaker": spinnaker_step, "exact": exact_step},
        integer=("refractory",),
        decaying=("gsyn_exc", "gsyn_inh"),
        describe=LIF_WORDS,
    ),
    brian2=brian2_model,
    pynn=PyNNModel(
        name="IF_cond_exp",
        parameters=lif_parameters,
        initial=lif_initial,
        weight_scale=lambda cell, target, dt: 1.0,
        recordables={"v": "v", "gsyn_exc": "gsyn_exc", "gsyn_inh": "gsyn_inh"},
        conductance_based=True,
        # pyNN.brian2 would pick forward Euler for these nonlinear equations.
        native={"brian2": {"method": "rk4"}},
    ),
)
