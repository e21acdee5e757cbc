r"""One neuron against the continuous equations, on every backend and cell type.

The references are written here from the continuous equations, not taken
from the package: for a constant current the membrane relaxes as
``V(t) = V_inf + (V_0 - V_inf) exp(-t/tau_m)`` (every integrate-and-fire
type: IF_curr_exp, IF_curr_delta, IF_cond_exp without input); an exponential
current ``w exp(-s/tau_s)`` starting at s = 0 moves it by
``(w/cm) tau_m tau_s/(tau_m - tau_s) (exp(-s/tau_m) - exp(-s/tau_s))``
(``(w/cm) s exp(-s/tau)`` when the time constants are equal); a voltage step
``w`` decays as ``w exp(-s/tau_m)``. IF_cond_exp's response to a conductance
has no closed form and is checked against scipy's adaptive Runge-Kutta at
1e-12 tolerance; Izhikevich against NEST's update written out here. Current
sources are piecewise-constant currents: the same relaxation between switches.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from neuromem.spec import (
    DCSource,
    IF_cond_exp,
    IF_curr_delta,
    IF_curr_exp,
    Izhikevich,
    LIFCurrExp,
    Network,
    OneToOne,
    Population,
    Probe,
    Projection,
    SpikeSourceArray,
    StepCurrentSource,
)

DT = 0.1
IF_TYPES = {"IF_curr_exp": IF_curr_exp, "IF_curr_delta": IF_curr_delta, "IF_cond_exp": IF_cond_exp}


def _step_current_cell(cell_type: str = "IF_curr_exp") -> LIFCurrExp:
    return IF_TYPES[cell_type](
        cm=0.25, tau_m=10.0, tau_refrac=2.0, v_rest=-65.0, v_reset=-70.0, v_thresh=-55.0, i_offset=1.2
    )


def _analytic_step_response(cell: LIFCurrExp, steps: int) -> tuple[np.ndarray, list[int]]:
    """V after each step (mV) and the spike ticks, from the continuous solution."""
    v_inf = cell.v_rest + cell.tau_m / cell.cm * cell.i_offset
    refractory = round(cell.tau_refrac / DT)
    v = np.empty(steps)
    spikes: list[int] = []
    origin_tick, origin_v = 0, cell.v_rest  # where the current free relaxation started
    m = 0
    while m < steps:
        elapsed = (m + 1 - origin_tick) * DT
        value = v_inf + (origin_v - v_inf) * math.exp(-elapsed / cell.tau_m)
        if value >= cell.v_thresh:
            spikes.append(m)
            stop = min(steps, m + refractory + 1)
            v[m:stop] = cell.v_reset
            origin_tick, origin_v = m + refractory + 1, cell.v_reset
            m = stop
            continue
        v[m] = value
        m += 1
    return v, spikes


def _first_spike_ticks(cell: LIFCurrExp) -> list[int]:
    """Spike ticks from the closed-form crossing times."""
    v_inf = cell.v_rest + cell.tau_m / cell.cm * cell.i_offset
    first = -cell.tau_m * math.log((v_inf - cell.v_thresh) / (v_inf - cell.v_rest))
    again = -cell.tau_m * math.log((v_inf - cell.v_thresh) / (v_inf - cell.v_reset))
    n1 = math.ceil(first / DT) - 1
    n2 = n1 + round(cell.tau_refrac / DT) + math.ceil(again / DT)
    return [n1, n2]


@pytest.mark.parametrize("cell_type", list(IF_TYPES))
@pytest.mark.parametrize("scheme", ["exact", "spinnaker"])
def test_step_current_follows_the_analytic_membrane_and_spike_times(config, scheme, cell_type):
    cell = _step_current_cell(cell_type)
    net = Network(
        populations=(Population("cell", cell, size=1),),
        probes=(Probe("cell"), Probe("cell", "v")),
        scheme=scheme,
    )
    steps = 100
    rec = config.run(net, steps * DT, DT)
    expected_v, expected_spikes = _analytic_step_response(cell, steps)
    assert expected_spikes[:2] == _first_spike_ticks(cell) == [23, 77]
    assert rec.spikes["cell"].tick.tolist() == expected_spikes
    tolerance = 1000 * config.eps * 70.0
    if cell_type == "IF_cond_exp" and scheme == "exact":
        # One Runge-Kutta step per dt: error (dt/tau_m)^5 / 120 of the distance to V_inf, 1e-9 mV per step.
        tolerance = max(tolerance, 1e-7)
    np.testing.assert_allclose(rec.traces[("cell", "v")][0, :, 0], expected_v, rtol=0, atol=tolerance)


@pytest.mark.parametrize("tau_syn", [2.0, 10.0], ids=["tau_syn<tau_m", "tau_syn=tau_m"])
def test_exact_scheme_psp_matches_the_continuous_solution(config, tau_syn):
    cell = LIFCurrExp(cm=0.5, tau_m=10.0, tau_syn_E=tau_syn, v_thresh=-40.0)
    w, arrival = 2.0, 20
    net = Network(
        populations=(
            Population("stim", SpikeSourceArray.from_lists([[1.0]])),
            Population("cell", cell, size=1),
        ),
        projections=(Projection("in", "stim", "cell", OneToOne(), weight=w, delay=1.0),),
        probes=(Probe("cell", "v"), Probe("cell", "i_exc")),
        scheme="exact",
    )
    steps = 400
    rec = config.run(net, steps * DT, DT)
    # The current jumps at the end of the arrival step, i.e. at (arrival + 1) dt.
    s = np.clip((np.arange(steps) - arrival) * DT, 0.0, None)
    if tau_syn == cell.tau_m:
        psp = w / cell.cm * s * np.exp(-s / cell.tau_m)
    else:
        factor = w / cell.cm * cell.tau_m * tau_syn / (cell.tau_m - tau_syn)
        psp = factor * (np.exp(-s / cell.tau_m) - np.exp(-s / tau_syn))
    current = np.where(np.arange(steps) >= arrival, w * np.exp(-s / tau_syn), 0.0)
    v = rec.traces[("cell", "v")][0, :, 0]
    np.testing.assert_allclose(v, cell.v_rest + psp, rtol=0, atol=1000 * config.eps * 65.0)
    np.testing.assert_allclose(rec.traces[("cell", "i_exc")][0, :, 0], current, rtol=0, atol=1000 * config.eps * w)
    assert v[arrival] == cell.v_rest and v[arrival + 1] > cell.v_rest


def test_spinnaker_scheme_acts_within_the_arrival_step_and_keeps_the_charge(config):
    cell = LIFCurrExp(cm=0.5, tau_m=10.0, tau_syn_E=5.0, v_thresh=-40.0)
    w, arrival = 2.0, 20
    net = Network(
        populations=(
            Population("stim", SpikeSourceArray.from_lists([[1.0]])),
            Population("cell", cell, size=1),
        ),
        projections=(Projection("in", "stim", "cell", OneToOne(), weight=w, delay=1.0),),
        probes=(Probe("cell", "v"), Probe("cell", "i_exc")),
        scheme="spinnaker",
    )
    steps = 1000
    rec = config.run(net, steps * DT, DT)
    v = rec.traces[("cell", "v")][0, :, 0]
    assert v[arrival - 1] == cell.v_rest and v[arrival] > cell.v_rest
    # The recorded current has decayed by one step; undo it and sum: the
    # step-averaged current carries the charge w tau_syn of the continuous one.
    decay = math.exp(-DT / cell.tau_syn_E)
    charge = rec.traces[("cell", "i_exc")][0, :, 0].sum() / decay * DT
    assert charge == pytest.approx(w * cell.tau_syn_E, rel=max(1e-6, 1e4 * config.eps))


@pytest.mark.parametrize("scheme", ["exact", "spinnaker"])
def test_voltage_step_of_if_curr_delta_moves_v_in_its_arrival_step_and_decays_with_tau_m(config, scheme):
    cell = IF_curr_delta(cm=0.5, tau_m=10.0, v_thresh=-40.0)
    w, arrival = 4.0, 20
    net = Network(
        populations=(Population("stim", SpikeSourceArray.from_lists([[1.0]])), Population("cell", cell, size=1)),
        projections=(Projection("in", "stim", "cell", OneToOne(), weight=w, delay=1.0),),
        probes=(Probe("cell", "v"),),
        scheme=scheme,
    )
    steps = 300
    v = config.run(net, steps * DT, DT).traces[("cell", "v")][0, :, 0]
    s = (np.arange(steps) - arrival) * DT
    expected = cell.v_rest + np.where(s >= 0, w * np.exp(-np.clip(s, 0, None) / cell.tau_m), 0.0)
    np.testing.assert_allclose(v, expected, rtol=0, atol=1000 * config.eps * 65.0)
    assert v[arrival - 1] == cell.v_rest and v[arrival] == pytest.approx(cell.v_rest + w, abs=1e-4)


def test_conductance_input_of_if_cond_exp_matches_an_accurate_ode_solution(config):
    from scipy.integrate import solve_ivp

    cell = IF_cond_exp(cm=0.5, tau_m=10.0, tau_syn_E=3.0, e_rev_E=0.0, v_thresh=-40.0, i_offset=0.1)
    w, arrival = 0.05, 20
    net = Network(
        populations=(Population("stim", SpikeSourceArray.from_lists([[1.0]])), Population("cell", cell, size=1)),
        projections=(Projection("in", "stim", "cell", OneToOne(), weight=w, delay=1.0),),
        probes=(Probe("cell", "v"), Probe("cell", "gsyn_exc")),
        scheme="exact",
    )
    steps = 400
    rec = config.run(net, steps * DT, DT)

    def rhs(t: float, y: np.ndarray) -> list[float]:
        g = w * math.exp(-(t - (arrival + 1) * DT) / cell.tau_syn_E) if t >= (arrival + 1) * DT else 0.0
        return [(cell.v_rest - y[0]) / cell.tau_m + (g * (cell.e_rev_E - y[0]) + cell.i_offset) / cell.cm]

    # The conductance jumps at the end of the arrival step: integrate the two smooth pieces apart.
    times = (np.arange(steps) + 1) * DT
    first = solve_ivp(rhs, (0.0, (arrival + 1) * DT), [cell.v_rest], rtol=1e-12, atol=1e-12, dense_output=True)
    second = solve_ivp(rhs, ((arrival + 1) * DT, times[-1]), first.y[:, -1], rtol=1e-12, atol=1e-12, dense_output=True)
    expected = np.where(times <= (arrival + 1) * DT, first.sol(np.minimum(times, (arrival + 1) * DT))[0], 0.0)
    late = times > (arrival + 1) * DT
    expected[late] = second.sol(times[late])[0]
    v = rec.traces[("cell", "v")][0, :, 0]
    assert v.max() - cell.v_rest > 4.0  # the input moves V by millivolts
    np.testing.assert_allclose(v, expected, rtol=0, atol=max(1e-7, 1000 * config.eps * 65.0))
    g = rec.traces[("cell", "gsyn_exc")][0, :, 0]
    s = np.clip((np.arange(steps) - arrival) * DT, 0.0, None)
    exact_decay = np.where(np.arange(steps) >= arrival, w * np.exp(-s / cell.tau_syn_E), 0.0)
    # Runge-Kutta's decay per step is exp(-dt/tau) to (dt/tau)^5/120: 1.3e-7 relative after 380 steps.
    np.testing.assert_allclose(g, exact_decay, rtol=1e-6, atol=0.0)


def _nest_izhikevich(cell: Izhikevich, steps: int, jumps: dict[int, float]) -> tuple[np.ndarray, list[int]]:
    """NEST's izhikevich update (consistent_integration), written out: v after each step and spike ticks."""
    v, u = cell.v_init, cell.b * cell.v_init
    trace, spikes = np.empty(steps), []
    for n in range(steps):
        v_old, u_old = v, u
        v = v_old + DT * (0.04 * v_old * v_old + 5.0 * v_old + 140.0 - u_old + 1000.0 * cell.i_offset)
        v += jumps.get(n, 0.0)
        u = u_old + DT * cell.a * (cell.b * v_old - u_old)
        if v >= 30.0:
            v, u = cell.c, u + cell.d
            spikes.append(n)
        trace[n] = v
    return trace, spikes


def test_izhikevich_follows_nests_update_for_a_constant_current_and_voltage_steps(config):
    cell = Izhikevich(a=0.02, b=0.2, c=-50.0, d=2.0, i_offset=0.008)  # chattering
    arrivals = {150: 6.0, 400: 6.0}
    net = Network(
        populations=(
            Population("stim", SpikeSourceArray.from_lists([[(t - 1) * DT for t in arrivals]])),
            Population("cell", cell, size=1),
        ),
        projections=(Projection("in", "stim", "cell", OneToOne(), weight=6.0, delay=DT),),
        probes=(Probe("cell"), Probe("cell", "v"), Probe("cell", "u")),
        scheme="exact",
    )
    steps = 1500
    rec = config.run(net, steps * DT, DT)
    expected_v, expected_spikes = _nest_izhikevich(cell, steps, arrivals)
    assert len(expected_spikes) > 10
    assert rec.spikes["cell"].tick.tolist() == expected_spikes
    np.testing.assert_allclose(rec.traces[("cell", "v")][0, :, 0], expected_v, rtol=0, atol=1e5 * config.eps * 70.0)


@pytest.mark.parametrize("scheme", ["exact", "spinnaker"])
def test_dc_and_step_current_sources_give_the_piecewise_analytic_membrane(config, scheme):
    cell = IF_curr_exp(cm=0.25, tau_m=10.0, v_thresh=-40.0)
    net = Network(
        populations=(Population("cells", cell, size=3),),
        probes=(Probe("cells", "v"),),
        current_sources=(
            DCSource("pulse", "cells", amplitude=0.3, start=2.0, stop=12.0, neurons=[0, 2]),
            StepCurrentSource("steps", "cells", times=[5.0, 8.0], amplitudes=[0.2, -0.1], neurons=[2]),
        ),
        scheme=scheme,
    )
    steps = 200
    v = config.run(net, steps * DT, DT).traces[("cells", "v")][0]
    current = np.zeros((steps, 3))
    ticks = np.arange(steps)
    current[(ticks >= 20) & (ticks < 120), 0] = 0.3
    current[(ticks >= 20) & (ticks < 120), 2] += 0.3
    current[(ticks >= 50) & (ticks < 80), 2] += 0.2
    current[ticks >= 80, 2] += -0.1
    # Exact relaxation towards v_rest + R I over each step with the step's current.
    p = math.exp(-DT / cell.tau_m)
    expected = np.empty((steps, 3))
    state = np.full(3, cell.v_rest)
    for n in range(steps):
        target = cell.v_rest + cell.tau_m / cell.cm * current[n]
        state = target + (state - target) * p
        expected[n] = state
    np.testing.assert_allclose(v, expected, rtol=0, atol=1000 * config.eps * 70.0)
    assert np.all(v[:, 1] == cell.v_rest) and v[119, 0] - cell.v_rest > 5.0
