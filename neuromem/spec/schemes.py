r"""Integration schemes: how one step of ``dt`` ms of a LIFCurrExp is computed.

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
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from neuromem.spec.neurons import LIFCurrExp

SCHEMES = ("spinnaker", "exact")
#: The scheme names as constants, for code that names one: ``Network(..., scheme=EXACT)``.
SPINNAKER, EXACT = SCHEMES


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


def step_coefficients(cell: LIFCurrExp, dt: float, scheme: str) -> StepCoefficients:
    """Constants of ``cell`` for one step of ``dt`` ms under ``scheme``."""
    p_mm = math.exp(-dt / cell.tau_m)
    decay_E = math.exp(-dt / cell.tau_syn_E)
    decay_I = math.exp(-dt / cell.tau_syn_I)
    refractory_steps = int(round(cell.tau_refrac / dt))
    if scheme == "spinnaker":
        return StepCoefficients(
            p_mm=p_mm,
            decay_E=decay_E,
            decay_I=decay_I,
            input_E=cell.tau_syn_E / dt * (1.0 - decay_E),
            input_I=cell.tau_syn_I / dt * (1.0 - decay_I),
            v_gain_E=0.0,
            v_gain_I=0.0,
            refractory_steps=refractory_steps,
        )
    if scheme == "exact":
        return StepCoefficients(
            p_mm=p_mm,
            decay_E=decay_E,
            decay_I=decay_I,
            input_E=1.0,
            input_I=1.0,
            v_gain_E=exp_current_gain(cell.cm, cell.tau_m, cell.tau_syn_E, dt),
            v_gain_I=exp_current_gain(cell.cm, cell.tau_m, cell.tau_syn_I, dt),
            refractory_steps=refractory_steps,
        )
    raise ValueError(f"unknown scheme {scheme!r}; allowed: {', '.join(SCHEMES)}")


def exp_current_gain(cm: float, tau_m: float, tau_syn: float, dt: float) -> float:
    """Membrane change (mV) after ``dt`` ms from 1 nA of decaying current.

    The solution of ``cm dV/dt = -cm V/tau_m + exp(-t/tau_syn)`` with V(0) = 0.
    """
    if abs(tau_syn - tau_m) < 1e-9 * tau_m:
        return dt / cm * math.exp(-dt / tau_m)
    factor = tau_m * tau_syn / (tau_syn - tau_m) / cm
    return factor * (math.exp(-dt / tau_syn) - math.exp(-dt / tau_m))
