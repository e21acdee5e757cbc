r"""The STDP pairing protocol against the analytic pair window, on every backend.

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
    LIFCurrExp,
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


def _protocol(rule: STDP) -> Network:
    # A kick arriving at tick n fires the post cell at n + 1 ("exact" scheme).
    posts = [FIRST_POST + k * PERIOD for k in range(REPEATS)]
    kicks = [[t - 2.0 for t in posts] for _ in INTERVALS]
    pres = [[t - d - 1.0 for t in posts] for d in INTERVALS]  # emitted 1 ms before arrival
    cell = LIFCurrExp(cm=1.0, tau_m=10.0, tau_syn_E=0.5, tau_syn_I=0.5, tau_refrac=2.0)
    n = INTERVALS.size
    return Network(
        populations=(
            Population("pre", SpikeSourceArray.from_lists(pres)),
            Population("kick", SpikeSourceArray.from_lists(kicks)),
            Population("post", cell, size=n),
        ),
        projections=(
            Projection("plastic", "pre", "post", OneToOne(), weight=W0, delay=1.0, plasticity=rule),
            Projection("drive", "kick", "post", OneToOne(), weight=200.0, delay=1.0),
        ),
        probes=(Probe("post"),),
        scheme="exact",
    )


def _reference_weight(rule: STDP, pre_times: list[float], post_times: list[float]) -> float:
    timing, bounds = rule.timing, rule.weight
    additive = isinstance(bounds, AdditiveWeightDependence)
    events = sorted([(t, 0) for t in pre_times] + [(t, 1) for t in post_times])
    w = W0
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


@pytest.mark.parametrize("pairing", ["all_to_all", "nearest"])
@pytest.mark.parametrize("weight_rule", ["additive", "multiplicative"])
def test_pairing_protocol_weight_changes_follow_the_analytic_window(config, pairing, weight_rule):
    bounds_type = AdditiveWeightDependence if weight_rule == "additive" else MultiplicativeWeightDependence
    rule = STDP(
        SpikePairRule(tau_plus=20.0, tau_minus=15.0, A_plus=0.01, A_minus=0.012, pairing=pairing),
        bounds_type(w_min=0.0, w_max=1.0),
    )
    net = _protocol(rule)
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
        change.append(weights[i] - W0)
        expected.append(_reference_weight(rule, pre_times, post_times) - W0)
    change, expected = np.array(change), np.array(expected)
    # float64: 1e-6 relative; float32: the rounding of w itself dominates.
    tolerance = 1e-6 * np.abs(expected) + 50 * config.eps * rule.w_max
    np.testing.assert_array_less(np.abs(change - expected), tolerance)
    # The window's shape: potentiation after, depression before, within 20 ms.
    near = np.abs(INTERVALS) <= 20
    assert np.all(np.sign(change[near & (INTERVALS > 0)]) > 0)
    assert np.all(np.sign(change[near & (INTERVALS < 0)]) < 0)
