"""Identical spike ticks on torch and Brian2 for deterministic inputs.

Brian2 integrates the ``"exact"`` scheme with its own solver and schedule, so
equal ticks check the torch kernels, the delay ring buffer and the plasticity
event order against an independent implementation. The networks mix
excitation and inhibition, per-synapse weights, delays of 1 to 5 steps, a
population with ``tau_syn == tau_m`` and plastic projections.
"""

from __future__ import annotations

import numpy as np
import pytest

from neuromem.spec import (
    STDP,
    AllToAll,
    CA3PairRule,
    FixedProbability,
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

DT = 0.1


def _random_network(scheme: str, seed: int = 7) -> Network:
    rng = np.random.default_rng(seed)
    times = [np.unique(np.round(rng.uniform(0.0, 60.0, 8), 1)).tolist() for _ in range(20)]
    fast = LIFCurrExp(cm=0.25, tau_m=10.0, tau_syn_E=2.0, tau_syn_I=4.0, tau_refrac=1.0, v_thresh=-58.0)
    equal = LIFCurrExp(cm=0.5, tau_m=8.0, tau_syn_E=8.0, tau_syn_I=8.0, tau_refrac=2.0, v_thresh=-55.0)

    def wiring(name: str, pre: str, post: str, p: float, scale: float, receptor: str, **extra: object) -> Projection:
        connector = FixedProbability(p, allow_self=False, seed=int(rng.integers(1 << 30)))
        n = connector.pairs(sizes[pre], sizes[post], pre == post)[0].size
        weight = rng.uniform(0.2, 1.0, n) * scale
        delay = extra.pop("delay", rng.integers(1, 6, n) * DT)
        return Projection(name, pre, post, connector, weight=weight, delay=delay, receptor=receptor, **extra)

    sizes = {"stim": 20, "a": 30, "b": 20}
    rule = STDP(
        SpikePairRule(tau_plus=10.0, tau_minus=12.0, A_plus=0.05, A_minus=0.06),
        MultiplicativeWeightDependence(w_min=0.0, w_max=2.0),
    )
    return Network(
        populations=(
            Population("stim", SpikeSourceArray.from_lists(times)),
            Population("a", fast, size=30),
            Population("b", equal, size=20),
        ),
        projections=(
            wiring("stim_a", "stim", "a", 0.3, 3.0, "excitatory"),
            wiring("stim_b", "stim", "b", 0.3, 1.0, "excitatory"),
            wiring("a_a", "a", "a", 0.1, 1.5, "excitatory"),
            wiring("a_b", "a", "b", 0.2, 1.5, "excitatory", delay=0.3, plasticity=rule),
            wiring("b_a", "b", "a", 0.2, 2.0, "inhibitory"),
        ),
        probes=(Probe("a"), Probe("b"), Probe("a", "v"), Probe("a_b", "weight", every_ms=10.0)),
        scheme=scheme,
    )


@pytest.mark.parametrize("scheme", ["exact", "spinnaker"])
def test_random_network_spikes_identical_on_torch_and_brian2(brian2_config, reference, scheme):
    net = _random_network(scheme)
    torch_sim, brian_sim = reference.build(net, DT), brian2_config.build(net, DT)
    for duration in (30.0, 30.0):  # two runs: state carries over between them
        ours, theirs = torch_sim.run(duration), brian_sim.run(duration)
        for population in ("a", "b"):
            assert ours.spikes[population].pairs() == theirs.spikes[population].pairs()
            assert len(ours.spikes[population]) >= 10
        np.testing.assert_allclose(theirs.traces[("a", "v")], ours.traces[("a", "v")], rtol=0, atol=1e-9)
        ticks_ours, w_ours = ours.weights["a_b"]
        ticks_theirs, w_theirs = theirs.weights["a_b"]
        assert ticks_ours.tolist() == ticks_theirs.tolist() == [ours.start_tick + 100 * k for k in (1, 2, 3)]
        np.testing.assert_allclose(w_theirs, w_ours, rtol=0, atol=1e-12)
    assert not np.allclose(torch_sim.get_weights("a_b"), net.connection_list("a_b").weight)


@pytest.mark.parametrize("scheme", ["spinnaker", "exact"])
@pytest.mark.parametrize("delay", [1.0, 3.0])
def test_ca3_rule_gives_identical_spikes_and_weights_on_torch_and_brian2(brian2_config, reference, scheme, delay):
    rng = np.random.default_rng(1)
    n = 8
    times = [np.unique(np.round(rng.uniform(0.0, 60.0, 6))).tolist() for _ in range(n)]
    cell = LIFCurrExp(
        cm=0.27, tau_m=3.0, tau_syn_E=0.3, tau_syn_I=0.3, v_rest=-60.0, v_reset=-60.0, v_thresh=-57.0, tau_refrac=1.0
    )
    net = Network(
        populations=(Population("inp", SpikeSourceArray.from_lists(times)), Population("cells", cell, size=n)),
        projections=(
            Projection("drive", "inp", "cells", OneToOne(), weight=8.0, delay=1.0),
            Projection(
                "rec",
                "cells",
                "cells",
                AllToAll(allow_self=False),
                weight=rng.uniform(0.0, 1.5, n * (n - 1)),
                delay=delay,
                plasticity=CA3PairRule(),
            ),
        ),
        probes=(Probe("cells"),),
        scheme=scheme,
    )
    torch_sim, brian_sim = reference.build(net, 1.0), brian2_config.build(net, 1.0)
    ours, theirs = torch_sim.run(80.0), brian_sim.run(80.0)
    assert len(ours.spikes["cells"]) > 50
    assert ours.spikes["cells"].pairs() == theirs.spikes["cells"].pairs()
    np.testing.assert_allclose(brian_sim.get_weights("rec"), torch_sim.get_weights("rec"), rtol=0, atol=1e-12)
    assert np.abs(torch_sim.get_weights("rec")[0] - net.connection_list("rec").weight).max() > 1.0


def test_per_run_inputs_and_reset_agree_on_torch_and_brian2(brian2_config, reference):
    net = _random_network("exact")
    rng = np.random.default_rng(3)
    cue = SpikeSourceArray.from_lists([np.round(rng.uniform(40.0, 60.0, 3), 1).tolist() for _ in range(20)])
    results = []
    for config in (reference, brian2_config):
        sim = config.build(net, DT)
        sim.run(40.0)
        cued = sim.run(20.0, inputs={"stim": cue})
        sim.reset()
        fresh = sim.run(20.0)
        results.append((cued.spikes["a"].pairs(), fresh.spikes["a"].pairs(), sim.tick))
    assert results[0] == results[1]
    assert any(tick >= 400 for _, tick in results[0][0])
