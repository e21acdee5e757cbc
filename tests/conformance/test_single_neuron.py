r"""One neuron against the continuous equations, on every backend.

The references are written here from the continuous LIF equations, not taken
from the package: for a constant current the membrane relaxes as
``V(t) = V_inf + (V_0 - V_inf) exp(-t/tau_m)``; an exponential current
``w exp(-s/tau_s)`` starting at s = 0 moves it by
``(w/cm) tau_m tau_s/(tau_m - tau_s) (exp(-s/tau_m) - exp(-s/tau_s))``
(``(w/cm) s exp(-s/tau)`` when the time constants are equal).
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from neuromem.spec import LIFCurrExp, Network, OneToOne, Population, Probe, Projection, SpikeSourceArray

DT = 0.1


def _step_current_cell() -> LIFCurrExp:
    return LIFCurrExp(cm=0.25, tau_m=10.0, tau_refrac=2.0, v_rest=-65.0, v_reset=-70.0, v_thresh=-55.0, i_offset=1.2)


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


@pytest.mark.parametrize("scheme", ["exact", "spinnaker"])
def test_step_current_follows_the_analytic_membrane_and_spike_times(config, scheme):
    cell = _step_current_cell()
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
