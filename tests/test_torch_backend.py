"""The torch Simulation object: split runs, checkpoints, reset, probes, Poisson trains."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from neuromem.backends import build
from neuromem.errors import FileFormatError
from neuromem.spec import (
    STDP,
    AdditiveWeightDependence,
    FixedProbability,
    LIFCurrExp,
    Network,
    Population,
    Probe,
    Projection,
    SpikePairRule,
    SpikeSourcePoisson,
)
from neuromem.spec.random import poisson_ticks

DT = 0.1


def _network() -> Network:
    cell = LIFCurrExp(tau_m=20.0, tau_syn_E=5.0, tau_syn_I=5.0, tau_refrac=2.0)
    rule = STDP(SpikePairRule(A_plus=0.02, A_minus=0.02), AdditiveWeightDependence(0.0, 2.0))
    return Network(
        populations=(
            Population("noise", SpikeSourcePoisson(30, rate=100.0, seed=5)),
            Population("cells", cell, size=20),
        ),
        projections=(
            Projection("input", "noise", "cells", FixedProbability(0.3, seed=1), weight=1.5, delay=DT),
            Projection(
                "inh",
                "cells",
                "cells",
                FixedProbability(0.2, allow_self=False, seed=2),
                weight=0.5,
                delay=0.3,
                receptor="inhibitory",
            ),
            Projection(
                "learn", "noise", "cells", FixedProbability(0.2, seed=3), weight=0.5, delay=0.2, plasticity=rule
            ),
        ),
        probes=(Probe("cells"), Probe("noise"), Probe("learn", "weight", every_ms=10.0)),
        scheme="exact",
    )


def test_split_runs_continue_exactly_like_one_long_run():
    whole = build(_network(), "torch", dt=DT, dtype="float64")
    parts = build(_network(), "torch", dt=DT, dtype="float64")
    long = whole.run(40.0)
    first, second = parts.run(15.0), parts.run(25.0)
    assert (first.start_tick, first.stop_tick, second.start_tick, second.stop_tick) == (0, 150, 150, 400)
    assert long.spikes["cells"].pairs() == first.spikes["cells"].pairs() | second.spikes["cells"].pairs()
    np.testing.assert_array_equal(whole.get_weights("learn"), parts.get_weights("learn"))


def test_checkpoint_resumes_exactly_and_a_foreign_checkpoint_is_refused():
    sim = build(_network(), "torch", dt=DT, dtype="float64", batch_size=2)
    sim.run(20.0)
    state = sim.state_dict()
    expected = sim.run(20.0)
    resumed = build(_network(), "torch", dt=DT, dtype="float64", batch_size=2)
    resumed.load_state_dict(state)
    again = resumed.run(20.0)
    for b in range(2):
        assert again.spikes["cells"].pairs(b) == expected.spikes["cells"].pairs(b)
    np.testing.assert_array_equal(resumed.get_weights("learn"), sim.get_weights("learn"))
    other = build(_network(), "torch", dt=DT, dtype="float64", batch_size=3)
    with pytest.raises(FileFormatError, match="shape"):
        other.load_state_dict(state)
    with pytest.raises(FileFormatError, match="missing"):
        other.load_state_dict({"tick": torch.tensor(0)})


def test_reset_returns_to_tick_zero_with_the_initial_weights():
    sim = build(_network(), "torch", dt=DT)
    first = sim.run(30.0)
    assert not np.allclose(sim.get_weights("learn"), 0.5)
    sim.reset()
    assert sim.tick == 0
    np.testing.assert_array_equal(sim.get_weights("learn"), 0.5)
    assert sim.run(30.0).spikes["cells"].pairs() == first.spikes["cells"].pairs()


def test_periodic_weight_probe_snapshots_every_period():
    rec = build(_network(), "torch", dt=DT).run(35.0)
    ticks, weights = rec.weights["learn"]
    assert ticks.tolist() == [100, 200, 300]
    assert weights.shape == (3, 1, _network().connection_list("learn").pre.size)


def test_poisson_trains_are_the_shared_counter_based_ones():
    net = _network()
    rec = build(net, "torch", dt=DT, trial_seeds=[17]).run(20.0)
    source = net.population("noise").cell
    neuron, tick = poisson_ticks(source.seed, 17, source.size, source.probability(DT), 0, 200)
    assert rec.spikes["noise"].pairs() == set(zip(neuron.tolist(), tick.tolist()))
    assert len(neuron) == pytest.approx(30 * 200 * 0.01, rel=0.2)


def _mixed() -> Network:
    from neuromem.spec import AllToAll, DCSource, IF_cond_exp, IF_curr_delta, Izhikevich, StepCurrentSource

    return Network(
        populations=(
            Population("noise", SpikeSourcePoisson(20, rate=200.0, seed=2)),
            Population("delta", IF_curr_delta(cm=0.25, tau_m=10.0, tau_refrac=1.0), size=6),
            Population("cond", IF_cond_exp(cm=0.25, tau_m=10.0, tau_refrac=1.0), size=5),
            Population("izh", Izhikevich(), size=4),
            Population("exp", LIFCurrExp(cm=0.25, tau_m=10.0), size=3),
        ),
        projections=(
            Projection("n_delta", "noise", "delta", FixedProbability(0.5, seed=1), weight=4.0, delay=0.2),
            Projection("delta_cond", "delta", "cond", AllToAll(), weight=0.02, delay=0.5),
            Projection("cond_izh", "cond", "izh", AllToAll(), weight=6.0, delay=0.3),
            Projection("izh_exp", "izh", "exp", AllToAll(), weight=3.0, delay=0.1),
        ),
        probes=(Probe("delta"), Probe("cond"), Probe("izh"), Probe("exp"), Probe("izh", "u")),
        current_sources=(
            DCSource("bias", "cond", amplitude=0.1, start=3.0, stop=9.0, neurons=[0, 4]),
            StepCurrentSource("ramp", "exp", times=[1.0, 12.0], amplitudes=[0.2, 0.0]),
        ),
    )


def test_blocks_of_several_cell_types_checkpoint_and_split_runs_exactly():
    whole = build(_mixed(), "torch", dt=DT, dtype="float64", batch_size=2)
    long = whole.run(30.0)
    parts = build(_mixed(), "torch", dt=DT, dtype="float64", batch_size=2)
    first = parts.run(7.3)
    state = parts.state_dict()
    assert {"neurons.IF_curr_delta.v", "neurons.Izhikevich.u", "neurons.IF_cond_exp.gsyn_exc"} <= set(state)
    resumed = build(_mixed(), "torch", dt=DT, dtype="float64", batch_size=2)
    resumed.load_state_dict(state)
    second = resumed.run(22.7)
    for name in ("delta", "cond", "izh", "exp"):
        for b in range(2):
            joined = first.spikes[name].pairs(b) | second.spikes[name].pairs(b)
            assert long.spikes[name].pairs(b) == joined, name
        assert len(long.spikes[name]) > 0, name
    np.testing.assert_array_equal(long.traces[("izh", "u")][:, 73:], second.traces[("izh", "u")])
