"""Sparsey recognition as a spiking network (spec Network, torch backend) gives the algorithm's winners."""

from __future__ import annotations

import pytest
import torch

from neuromem.errors import ValidationError
from neuromem.models.sparsey import MacLayer
from neuromem.models.sparsey.analysis import random_patterns
from neuromem.models.sparsey.spiking import spiking_recognise, to_network


def _learned(n_items: int = 20) -> tuple[MacLayer, torch.Tensor]:
    layer = MacLayer.single(60, 5, 4, seed=1)
    x = random_patterns(n_items, 60, 6, torch.Generator().manual_seed(0))
    for i in range(n_items):
        layer.learn(x[i])
    return layer, x


def test_spiking_winners_equal_max_v_winners_on_stored_items():
    layer, x = _learned()
    algorithmic = layer.recognise(x).code[0]
    spiking = spiking_recognise(layer, x, dt=0.1)
    assert spiking.shape == algorithmic.shape == (20, 1, 5)
    assert torch.equal(spiking, algorithmic)


def test_spiking_network_holds_binary_weights_and_per_cm_inhibition_only():
    layer, _ = _learned(5)
    net = to_network(layer, max_active=6)
    u = net.connection_list("u_weights")
    assert len(u.pre) == int(layer.weights["U"][0].sum())
    assert len(set(u.weight.tolist())) == 1
    inh = net.connection_list("cm_inhibition")
    assert bool(((inh.pre // 4) == (inh.post // 4)).all()) and bool((inh.pre != inh.post).all())
    assert len(inh.pre) == 5 * 4 * 3


def test_export_of_untrained_or_contextual_layer_is_refused():
    with pytest.raises(ValidationError, match="untrained"):
        to_network(MacLayer.single(10, 2, 2), max_active=3)
    layer = MacLayer.single(10, 2, 2, horizontal=True)
    with pytest.raises(ValidationError, match="only U can be exported"):
        to_network(layer, max_active=3)
