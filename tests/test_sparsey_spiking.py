"""Sparsey recognition as one spiking network (every level, every replica) reproduces the algorithm's winners."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from neuromem.errors import CapabilityError, ValidationError
from neuromem.export import write_pynn_script
from neuromem.models.sparsey import CSAParams, Hierarchy, LevelParams, MacLayer
from neuromem.models.sparsey.analysis import random_patterns
from neuromem.models.sparsey.spiking import spiking_recognise, to_network

LOWEST = CSAParams(tie="lowest")


def _hierarchy() -> tuple[Hierarchy, torch.Tensor]:
    """Two levels, two replicas, a band with both bounds active; 20 items learned, 30 queries."""
    net = Hierarchy(
        (8, 8),
        [
            LevelParams(grid=(3, 3), Q=4, K=4, rf_radius=0.25, band=(0.1, 0.8)),
            LevelParams(grid=(1, 1), Q=5, K=4, rf_radius=1.0, band=(0.2, 1.0)),
        ],
        LOWEST,
        replicas=2,
        seed=3,
    )
    x = random_patterns(30, 64, 12, torch.Generator().manual_seed(1))
    for i in range(20):
        net.learn(x[i])
    return net, x


def test_spiking_winners_equal_max_v_winners_at_every_level_and_replica():
    net, x = _hierarchy()
    algorithmic = net.recognise(x)
    spiking = spiking_recognise(net, x, dt=0.1)
    assert len(spiking) == 2
    for level, (got, want) in enumerate(zip(spiking, algorithmic, strict=True)):
        assert got.shape == want.code.shape, level
        assert torch.equal(got, want.code), level
    # The band matters in this set: some level-1 macs are silent, and novel queries (10 of 30) are included.
    inactive = float((algorithmic[0].code[..., 0] < 0).float().mean())
    assert 0.05 < inactive < 0.6


def test_single_layer_spiking_winners_include_ties_broken_by_lowest_index():
    layer = MacLayer.single(40, 3, 5, params=LOWEST, seed=2)
    x = random_patterns(6, 40, 5, torch.Generator().manual_seed(0))
    for i in range(6):
        layer.learn(x[i])
    queries = torch.cat([x, random_patterns(10, 40, 5, torch.Generator().manual_seed(9))])
    want = layer.recognise(queries).code
    assert torch.equal(spiking_recognise(layer, queries)[0], want)
    # Novel queries meet CMs where several cells share the largest count: the rule decides there.
    random_rule = MacLayer.single(40, 3, 5, seed=2)
    random_rule.weights = layer.weights
    random_rule.n_learned = layer.n_learned
    assert not torch.equal(random_rule.recognise(queries).code, want)


def test_network_holds_learned_binary_weights_and_per_cm_inhibition():
    net, _ = _hierarchy()
    spiking, timing = to_network(net, dt=0.1)
    for i, layer in enumerate(net.layers):
        u = spiking.connection_list(f"u_weights_{i + 1}")
        assert len(u.pre) == int(layer.weights["U"].sum())
        assert len(set(np.round(u.weight, 9).tolist())) == 1
        inh = spiking.connection_list(f"cm_inhibition_{i + 1}")
        cells = layer.replicas * layer.n_macs * layer.Q * layer.K
        assert len(inh.pre) == cells * (layer.K - 1)
        assert bool(((inh.pre // layer.K) == (inh.post // layer.K)).all())
    assert timing.levels[1].start_ms > timing.levels[0].end_ms
    assert timing.duration_ms > timing.levels[-1].end_ms


def test_spiking_hierarchy_exports_as_a_pynn_script_for_nest_and_brian2(tmp_path):
    net, _ = _hierarchy()
    spiking, timing = to_network(net, dt=0.1)
    run = write_pynn_script(
        spiking, tmp_path / "export", duration=timing.duration_ms, dt=0.1, targets=("nest", "brian2")
    )
    assert run.is_file()
    assert (tmp_path / "export" / "plan.json").is_file()


def test_layers_the_spiking_path_cannot_express_are_refused():
    with pytest.raises(ValidationError, match="untrained"):
        to_network(MacLayer.single(10, 2, 2, params=LOWEST))
    with pytest.raises(CapabilityError, match="carries U signals only"):
        to_network(MacLayer.single(10, 2, 2, params=LOWEST, horizontal=True))
    layer = MacLayer.single(10, 2, 2)
    layer.learn(torch.ones(10))
    with pytest.raises(CapabilityError, match="tie = 'random'"):
        to_network(layer)
