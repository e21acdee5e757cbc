"""Batches, seeds, propagation modes and float types.

* a batch of B trials equals B single runs with the same trial seeds;
* the same seed gives the same result, another seed other Poisson trains;
* torch's dense and event propagation give identical spikes;
* float32 and float64 agree within tolerances scaled by float32's epsilon.
"""

from __future__ import annotations

import numpy as np
import pytest

from neuromem.spec import (
    STDP,
    AdditiveWeightDependence,
    FixedProbability,
    LIFCurrExp,
    Network,
    OneToOne,
    Population,
    Probe,
    Projection,
    SpikePairRule,
    SpikeSourceArray,
    SpikeSourcePoisson,
)

DT = 0.1


def _poisson_network() -> Network:
    # Dyadic weights: every sum of them is exact in float32, so the order in
    # which dense and event propagation add them cannot matter.
    cell = LIFCurrExp(tau_m=20.0, tau_syn_E=5.0, tau_syn_I=5.0, tau_refrac=2.0)
    rule = STDP(SpikePairRule(A_plus=0.01, A_minus=0.012), AdditiveWeightDependence(w_min=0.0, w_max=2.0))
    return Network(
        populations=(
            Population("noise", SpikeSourcePoisson(50, rate=80.0, start=5.0, seed=11)),
            Population("cells", cell, size=40),
        ),
        projections=(
            Projection("input", "noise", "cells", FixedProbability(0.3, seed=1), weight=1.5, delay=DT),
            Projection("exc", "cells", "cells", FixedProbability(0.1, allow_self=False, seed=2), weight=0.5, delay=0.5),
            Projection(
                "inh",
                "cells",
                "cells",
                FixedProbability(0.1, allow_self=False, seed=3),
                weight=0.75,
                delay=0.2,
                receptor="inhibitory",
            ),
            Projection(
                "learn", "noise", "cells", FixedProbability(0.1, seed=4), weight=0.5, delay=0.3, plasticity=rule
            ),
        ),
        probes=(Probe("cells"), Probe("noise")),
        scheme="exact",
    )


def test_batch_of_trials_equals_single_runs_with_the_same_trial_seeds(config):
    net = _poisson_network()
    seeds = [5, 9, 2]
    batch = config.build(net, DT, batch_size=3, trial_seeds=seeds)
    together = batch.run(40.0)
    assert together.batch_size == 3
    for b, seed in enumerate(seeds):
        single = config.build(net, DT, trial_seeds=[seed])
        alone = single.run(40.0)
        for population in ("cells", "noise"):
            assert together.spikes[population].pairs(b) == alone.spikes[population].pairs(0)
        np.testing.assert_allclose(
            batch.get_weights("learn")[b], single.get_weights("learn")[0], rtol=0, atol=10 * config.eps
        )
    assert together.spikes["cells"].pairs(0) != together.spikes["cells"].pairs(1)


def test_same_seed_gives_the_same_result_and_another_seed_other_trains(config):
    net = _poisson_network()
    first = config.run(net, 40.0, DT, seed=4)
    again = config.run(net, 40.0, DT, seed=4)
    other = config.run(net, 40.0, DT, seed=5)
    assert first.spikes["cells"].pairs() == again.spikes["cells"].pairs()
    assert first.spikes["noise"].pairs() == again.spikes["noise"].pairs()
    assert first.spikes["noise"].pairs() != other.spikes["noise"].pairs()
    # The Poisson trains start at 5 ms and fire near the nominal 80 Hz.
    assert first.spikes["noise"].tick.min() >= 50
    rate = len(first.spikes["noise"]) / 50 / 0.035
    assert rate == pytest.approx(80.0, rel=0.15)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_torch_dense_and_event_propagation_give_identical_spikes(dtype):
    from neuromem.backends import build

    net = _poisson_network()
    runs = {}
    for mode in ("dense", "event"):
        sim = build(net, "torch", dt=DT, dtype=dtype, batch_size=2, propagation=mode)
        assert sim.static.mode == mode
        runs[mode] = (sim.run(60.0), sim.get_weights("learn"))
    dense, event = runs["dense"], runs["event"]
    assert len(dense[0].spikes["cells"]) > 100
    for b in range(2):
        assert dense[0].spikes["cells"].pairs(b) == event[0].spikes["cells"].pairs(b)
    np.testing.assert_array_equal(dense[1], event[1])


def test_float32_and_float64_agree_within_float32_tolerance():
    from neuromem.backends import build

    cell = LIFCurrExp(cm=0.25, tau_m=10.0, tau_syn_E=3.0, tau_syn_I=6.0, tau_refrac=1.0, v_thresh=-55.0)
    rng = np.random.default_rng(0)
    times = [np.unique(np.round(rng.uniform(0.0, 40.0, 6), 1)).tolist() for _ in range(5)]
    net = Network(
        populations=(Population("stim", SpikeSourceArray.from_lists(times)), Population("cells", cell, size=5)),
        projections=(
            Projection("exc", "stim", "cells", OneToOne(), weight=rng.uniform(1.0, 3.0, 5), delay=0.5),
            Projection(
                "inh",
                "cells",
                "cells",
                FixedProbability(0.5, allow_self=False, seed=1),
                weight=0.3,
                delay=0.2,
                receptor="inhibitory",
            ),
        ),
        probes=(Probe("cells"), Probe("cells", "v")),
        scheme="exact",
    )
    runs = {dtype: build(net, "torch", dt=DT, dtype=dtype).run(50.0) for dtype in ("float32", "float64")}
    single, double = runs["float32"], runs["float64"]
    assert len(double.spikes["cells"]) >= 5
    assert single.spikes["cells"].pairs() == double.spikes["cells"].pairs()
    eps = float(np.finfo(np.float32).eps)
    v64 = double.traces[("cells", "v")]
    np.testing.assert_allclose(single.traces[("cells", "v")], v64, rtol=0, atol=500 * eps * np.abs(v64).max())
