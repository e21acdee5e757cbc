r"""The STDP pairing protocol against the analytic pair window, on every backend and post cell type.

21 synapses, one per pre-post interval ``Delta t`` in -50, -45, ..., +50 ms,
each paired three times, 100 ms apart (so pairs of neighbouring repetitions
interact, and ``all_to_all`` and ``nearest`` differ). The reference applies
the window written in :class:`neuromem.spec.SpikePairRule` event by event::

    post at t:  w += A_+ f_+(w) sum_{pre arrivals t_i < t} exp(-(t - t_i)/tau_+)
    pre  at t:  w -= A_- f_-(w) sum_{posts t_j < t}        exp(-(t - t_j)/tau_-)

(only the latest earlier event for ``nearest``), clipped to [w_min, w_max]
after each update, a pre event before a post event of the same tick.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from neuromem.spec import (
    STDP,
    AdditiveWeightDependence,
    IF_cond_exp,
    IF_curr_delta,
    IF_curr_exp,
    Izhikevich,
    MultiplicativeWeightDependence,
    Network,
    OneToOne,
    Population,
    Probe,
    Projection,
    SpikePairRule,
    SpikeSourceArray,
)

DT = 1.0
INTERVALS = np.arange(-50.0, 51.0, 5.0)
REPEATS, PERIOD, FIRST_POST = 3, 100.0, 60.0
W0 = 0.5

#: Post cell, kick weight, ticks from a kick's arrival to the spike it forces ("exact"),
#: and the scale of the plastic weights in the cell's weight unit.
POST_CELLS = {
    "IF_curr_exp": (
        lambda: IF_curr_exp(cm=1.0, tau_m=10.0, tau_syn_E=0.5, tau_syn_I=0.5, tau_refrac=2.0),
        200.0,
        1,
        1.0,
    ),
    "IF_curr_delta": (lambda: IF_curr_delta(cm=1.0, tau_m=10.0, tau_refrac=2.0), 200.0, 0, 1.0),
    # 1.5 uS keeps (g_L + g) dt / cm below Runge-Kutta's stability bound at dt = 1 ms; the
    # longer refractory period outlasts the kick's conductance.
    "IF_cond_exp": (
        lambda: IF_cond_exp(cm=1.0, tau_m=10.0, tau_syn_E=0.5, tau_syn_I=0.5, tau_refrac=5.0),
        1.5,
        1,
        0.01,
    ),
    "Izhikevich": (lambda: Izhikevich(), 200.0, 0, 1.0),
}


def _protocol(rule: STDP, cell_type: str = "IF_curr_exp") -> Network:
    make, kick, latency, scale = POST_CELLS[cell_type]
    # A kick arriving at tick n fires the post cell at n + latency ("exact" scheme).
    posts = [FIRST_POST + k * PERIOD for k in range(REPEATS)]
    kicks = [[t - 1.0 - latency for t in posts] for _ in INTERVALS]
    pres = [[t - d - 1.0 for t in posts] for d in INTERVALS]  # emitted 1 ms before arrival
    cell = make()
    n = INTERVALS.size
    return Network(
        populations=(
            Population("pre", SpikeSourceArray.from_lists(pres)),
            Population("kick", SpikeSourceArray.from_lists(kicks)),
            Population("post", cell, size=n),
        ),
        projections=(
            Projection("plastic", "pre", "post", OneToOne(), weight=W0 * scale, delay=1.0, plasticity=rule),
            Projection("drive", "kick", "post", OneToOne(), weight=kick, delay=1.0),
        ),
        probes=(Probe("post"),),
        scheme="exact",
    )


def _reference_weight(rule: STDP, pre_times: list[float], post_times: list[float], w0: float) -> float:
    timing, bounds = rule.timing, rule.weight
    additive = isinstance(bounds, AdditiveWeightDependence)
    events = sorted([(t, 0) for t in pre_times] + [(t, 1) for t in post_times])
    w = w0
    for t, kind in events:
        if kind == 0:
            earlier = [s for s in post_times if s < t]
            tau, sign = timing.tau_minus, -1.0
            scale = timing.A_minus * (bounds.w_max if additive else w - bounds.w_min)
        else:
            earlier = [s for s in pre_times if s < t]
            tau, sign = timing.tau_plus, 1.0
            scale = timing.A_plus * (bounds.w_max if additive else bounds.w_max - w)
        if timing.pairing == "nearest":
            earlier = earlier[-1:]
        trace = sum(math.exp(-(t - s) / tau) for s in earlier)
        w = min(bounds.w_max, max(bounds.w_min, w + sign * scale * trace))
    return w


#: Every rule on IF_curr_exp; the rule does not depend on the post cell type, so one per other type.
RULE_CASES = [
    *(
        (pairing, rule, "IF_curr_exp")
        for pairing in ("all_to_all", "nearest")
        for rule in ("additive", "multiplicative")
    ),
    *(("all_to_all", "additive", cell_type) for cell_type in POST_CELLS if cell_type != "IF_curr_exp"),
]


@pytest.mark.parametrize(("pairing", "weight_rule", "cell_type"), RULE_CASES)
def test_pairing_protocol_weight_changes_follow_the_analytic_window(config, pairing, weight_rule, cell_type):
    bounds_type = AdditiveWeightDependence if weight_rule == "additive" else MultiplicativeWeightDependence
    scale = POST_CELLS[cell_type][3]
    rule = STDP(
        SpikePairRule(tau_plus=20.0, tau_minus=15.0, A_plus=0.01, A_minus=0.012, pairing=pairing),
        bounds_type(w_min=0.0, w_max=1.0 * scale),
    )
    w0 = W0 * scale
    net = _protocol(rule, cell_type)
    sim = config.build(net, DT)
    rec = sim.run(FIRST_POST + REPEATS * PERIOD + 20.0)
    weights = sim.get_weights("plastic")[0]
    posts = rec.spikes["post"]
    assert len(posts) == REPEATS * INTERVALS.size
    arrivals = net.population("pre").cell.spike_lists()
    change, expected = [], []
    for i, interval in enumerate(INTERVALS):
        post_times = (posts.tick[posts.neuron == i] * DT).tolist()
        pre_times = [t + 1.0 for t in arrivals[i]]
        assert post_times[0] - pre_times[0] == pytest.approx(interval)
        change.append(weights[i] - w0)
        expected.append(_reference_weight(rule, pre_times, post_times, w0) - w0)
    change, expected = np.array(change), np.array(expected)
    # float64: 1e-6 relative; float32: the rounding of w itself dominates.
    tolerance = 1e-6 * np.abs(expected) + 50 * config.eps * rule.w_max
    np.testing.assert_array_less(np.abs(change - expected), tolerance)
    # The window's shape: potentiation after, depression before, within 20 ms.
    near = np.abs(INTERVALS) <= 20
    assert np.all(np.sign(change[near & (INTERVALS > 0)]) > 0)
    assert np.all(np.sign(change[near & (INTERVALS < 0)]) < 0)
