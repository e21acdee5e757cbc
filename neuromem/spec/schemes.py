r"""Integration schemes: how one step of ``dt`` ms is computed.

The scheme is part of the network. Each cell type implements its update
under the schemes it supports, written out in its module of
:mod:`neuromem.cells` (``IF_curr_exp`` below; a cell type without an update
under the network's scheme is refused with a CapabilityError naming both).


Time is counted in ticks; tick ``n`` is the step from ``n*dt`` to ``(n+1)*dt``.
A spike "at tick n" is the threshold crossing found in step n and is recorded
at time ``n*dt``. A spike emitted at tick ``s`` on a synapse with delay ``d``
steps *arrives* at tick ``s + d``. Refractoriness lasts
``R = round(tau_refrac/dt)`` steps after the spike step, during which V is
held at ``v_reset`` and not integrated; currents keep evolving.

Both schemes share the order of operations within step n:

1. deliver the inputs arriving at tick n;
2. update synaptic currents and membranes;
3. threshold (``V >= v_thresh``);
4. reset and refractory counters;
5. send the tick's spikes (spike sources emit at their tick here too);
6. plasticity traces and weights.

``"spinnaker"`` (sPyNNaker's LIF with exponential synapses; the CA3 model needs it)::

    I   <- I + w_in * k,         k = (tau_syn/dt) (1 - exp(-dt/tau_syn))
    V_inf = v_rest + (tau_m/cm) (I_E - I_I + i_offset)
    V   <- V_inf - (V_inf - V) exp(-dt/tau_m)        (current held constant over the step)
    spike/reset/refractory
    I   <- I exp(-dt/tau_syn)

An input of weight w arriving at tick n moves V within step n: latency = delay.

``"exact"`` (the continuous solution, as NEST ``iaf_psc_exp`` and Brian2 ``exact``)::

    V   <- v_rest + (V - v_rest) P_mm + (tau_m/cm) i_offset (1 - P_mm) + I_E P_E - I_I P_I
           P_mm = exp(-dt/tau_m),
           P_s  = (1/cm) tau_m tau_s / (tau_s - tau_m) (exp(-dt/tau_s) - exp(-dt/tau_m))
                  (dt/cm) exp(-dt/tau_m)  when tau_s == tau_m
    I   <- I exp(-dt/tau_syn)
    spike/reset/refractory
    I   <- I + w_in                                   (arrivals of tick n)

An input arriving at tick n jumps the current at the end of step n, so it moves
V from step n + 1 on: a neuron driven over threshold by one input fires at
arrival tick + 1 at the earliest, as in NEST and Brian2.

The other cell types, in the same order of operations:

* ``IF_curr_delta``: both schemes ``V <- v_rest + (V - v_rest) P_mm + R
  i_offset (1 - P_mm) + w_in``, then threshold: an arrival of tick n moves V
  within step n (NEST ``iaf_psc_delta``; sPyNNaker with the export's weight scaling).
* ``IF_cond_exp``: ``"exact"`` integrates V and the conductances with one
  fourth-order Runge-Kutta step, threshold, then ``g <- g + w_in`` (NEST
  ``iaf_cond_exp``); ``"spinnaker"`` is sPyNNaker's: ``g += w_in k``, the
  synaptic current ``g (E_rev - V)`` frozen at the start of the step, exact
  membrane, threshold, decay.
* ``Izhikevich``: ``"exact"`` only, NEST's forward-Euler update with voltage
  steps added within the arrival step.

Current sources (``DCSource``, ``StepCurrentSource``) inject a current held
constant over each step, added to ``i_offset``.
"""

from __future__ import annotations

from dataclasses import dataclass

from neuromem.cells.base import exp_current_gain
from neuromem.cells.if_curr_exp import IF_curr_exp, constants
from neuromem.errors import ValidationError

SCHEMES = ("spinnaker", "exact")
#: The scheme names as constants, for code that names one: ``Network(..., scheme=EXACT)``.
SPINNAKER, EXACT = SCHEMES

__all__ = ["SCHEMES", "StepCoefficients", "exp_current_gain", "step_coefficients"]


@dataclass(frozen=True)
class StepCoefficients:
    """Per-step constants of one cell type under one scheme (float64).

    Attributes
    ----------
    p_mm : float
        Membrane decay per step, exp(-dt/tau_m).
    decay_E, decay_I : float
        Current decay per step, exp(-dt/tau_syn).
    input_E, input_I : float
        Factor applied to an arriving weight when it enters the current
        (``k`` for ``"spinnaker"``, 1 for ``"exact"``).
    v_gain_E, v_gain_I : float
        mV per nA of current at the start of the step (``"exact"`` only).
    refractory_steps : int
        Steps of refractoriness after a spike.
    """

    p_mm: float
    decay_E: float
    decay_I: float
    input_E: float
    input_I: float
    v_gain_E: float
    v_gain_I: float
    refractory_steps: int


def step_coefficients(cell: IF_curr_exp, dt: float, scheme: str) -> StepCoefficients:
    """Constants of an ``IF_curr_exp`` ``cell`` for one step of ``dt`` ms under ``scheme``.

    The same numbers the backends use (:func:`neuromem.cells.if_curr_exp.constants`).
    """
    if scheme not in SCHEMES:
        raise ValidationError(f"unknown scheme {scheme!r}; allowed: {', '.join(SCHEMES)}")
    k = constants(cell.parameters(), dt, scheme)
    return StepCoefficients(
        p_mm=k["p_mm"],  # type: ignore[arg-type]
        decay_E=k["decay_E"],  # type: ignore[arg-type]
        decay_I=k["decay_I"],  # type: ignore[arg-type]
        input_E=k["input_E"],  # type: ignore[arg-type]
        input_I=k["input_I"],  # type: ignore[arg-type]
        v_gain_E=k["gain_E"],  # type: ignore[arg-type]
        v_gain_I=k["gain_I"],  # type: ignore[arg-type]
        refractory_steps=int(k["refractory_steps"]),
    )
