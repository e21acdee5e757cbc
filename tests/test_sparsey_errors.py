"""Sparsey bad input: clear ValidationErrors that name object, field, value and what is allowed; nothing changed."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from neuromem.errors import ValidationError
from neuromem.models.sparsey import CSAParams, Hierarchy, LevelParams, MacLayer


def _trained() -> MacLayer:
    layer = MacLayer.single(20, 3, 3, seed=0, name="probe")
    x = torch.zeros(20)
    x[:4] = 1
    layer.learn(x)
    return layer


def test_wrong_input_size_is_refused_and_weights_unchanged():
    layer = _trained()
    before = layer.weight_checksum()
    with pytest.raises(ValidationError, match=r"MacLayer 'probe': input u has 19 features; expected 20"):
        layer.learn(torch.zeros(19))
    assert layer.weight_checksum() == before


def test_non_binary_input_is_refused_and_weights_unchanged():
    layer = _trained()
    before = layer.weight_checksum()
    x = torch.zeros(20)
    x[2] = 0.5
    with pytest.raises(ValidationError, match=r"input u holds value 0.5; only 0 and 1 are allowed"):
        layer.learn(x)
    assert layer.weight_checksum() == before
    assert int(layer.n_learned[0]) == 1


@pytest.mark.parametrize("field", ["Q", "K"])
def test_q_or_k_below_one_is_refused(field):
    kwargs = {"Q": 3, "K": 3, field: 0}
    with pytest.raises(ValidationError, match=rf"{field} = 0 must be an integer >= 1"):
        MacLayer.single(10, **kwargs)
    with pytest.raises(ValidationError, match=rf"LevelParams: {field} = 0"):
        LevelParams(**{field: 0})


@pytest.mark.parametrize(("field", "value"), [("seed", "x"), ("seed", -1), ("seed", 1.5), ("replicas", "2")])
def test_seed_and_replicas_must_be_integers_in_layers_and_hierarchies(field, value):
    minimum = 0 if field == "seed" else 1
    message = rf"{field} = {value!r} must be an integer >= {minimum}"
    with pytest.raises(ValidationError, match=rf"MacLayer 'layer': {message}"):
        MacLayer.single(10, 2, 2, **{field: value})
    with pytest.raises(ValidationError, match=rf"Hierarchy: {message}"):
        Hierarchy((4, 4), [LevelParams(grid=(1, 1), Q=2, K=2)], **{field: value})


@pytest.mark.parametrize("band", [5, (0.5,), ("a", "b"), (True, 1.0), (0.9, 0.1), (0.0, float("nan"))])
def test_a_band_that_is_not_two_ordered_fractions_is_refused(band):
    with pytest.raises(
        ValidationError, match=r"band = .* must be two numbers \(pi_lo, pi_hi\), 0 <= pi_lo <= pi_hi <= 1"
    ):
        MacLayer.single(10, 2, 2, band=band)
    with pytest.raises(ValidationError, match=r"LevelParams: band"):
        LevelParams(band=band)
    assert MacLayer.single(10, 2, 2, band=(np.float32(0.25), 1)).band == (0.25, 1.0)


def test_recognition_on_untrained_layer_is_refused():
    layer = MacLayer.single(10, 2, 2, name="empty")
    with pytest.raises(ValidationError, match=r"MacLayer 'empty': recognise called on an untrained layer"):
        layer.recognise(torch.zeros(10))


def test_receptive_field_outside_input_is_refused():
    with pytest.raises(ValidationError, match=r"Hierarchy level 1: rf_radius = 0.01 leaves mac 0 with no input"):
        Hierarchy((4, 4), [LevelParams(grid=(3, 3), Q=2, K=2, rf_radius=0.01)])


def test_bad_csa_parameter_names_field_and_range():
    with pytest.raises(ValidationError, match=r"CSAParams: v_infl = 1.5 must lie in \[0, 1\]"):
        CSAParams(v_infl=1.5)
    with pytest.raises(ValidationError, match=r"tie = 'first' is not one of 'random', 'lowest'"):
        CSAParams(tie="first")


def test_learning_a_batch_of_items_in_one_replica_is_refused():
    layer = MacLayer.single(10, 2, 2, name="stream")
    with pytest.raises(ValidationError, match=r"one item per replica, never a batch of items"):
        layer.learn(torch.zeros(3, 10))
