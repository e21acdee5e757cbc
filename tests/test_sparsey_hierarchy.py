"""Sparsey hierarchy: sequences, persistence, input channels, presets, a top level carrying class information."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from neuromem.errors import FileFormatError, ValidationError
from neuromem.models.sparsey import CSAParams, Hierarchy, LevelParams, load_network
from neuromem.models.sparsey.analysis import random_patterns
from neuromem.models.sparsey.classify import binarise, fit_and_score


def test_sequences_are_chained_by_horizontal_weights():
    net = Hierarchy(
        (6, 6), [LevelParams(grid=(1, 1), Q=12, K=8, rf_radius=1.0, h_radius=0.1)], CSAParams(lam_u=4.0), seed=3
    )
    frames = random_patterns(6, 36, 6, torch.Generator().manual_seed(4))
    net.learn_sequence(frames)
    shuffled = frames[torch.tensor([0, 3, 1, 5, 2, 4])]
    runs = net.recognise_sequence(torch.stack([frames, shuffled]))
    g = torch.stack([step[0].G[0, :, 0] for step in runs[1:]])  # frames 2..6, (T-1, 2)
    assert bool(torch.allclose(g[:, 0], torch.ones(5)))
    assert float(g[:, 1].mean()) <= 0.8


def test_persistence_keeps_a_code_for_the_declared_number_of_frames():
    net = Hierarchy((4, 4), [LevelParams(grid=(1, 1), Q=4, K=4, rf_radius=1.0, persistence=3)], seed=0)
    frames = random_patterns(4, 16, 5, torch.Generator().manual_seed(0))
    codes = [step[0].code for step in net.learn_sequence(frames)]
    assert torch.equal(codes[0], codes[1]) and torch.equal(codes[0], codes[2])
    assert not torch.equal(codes[2], codes[3])
    assert int(net.layers[0].n_learned[0]) == 2


def test_a_thermometer_input_puts_every_channel_of_a_pixel_in_the_same_receptive_field():
    images = np.array([[[0, 5], [10, 15]]], dtype=float)
    x = binarise(images, (4.0, 12.0))
    assert x.tolist() == [[0, 0, 1, 0, 1, 0, 1, 1]]
    net = Hierarchy((2, 2, 2), [LevelParams(grid=(2, 2), Q=2, K=2, rf_radius=0.01)], seed=0)
    index = net.layers[0].afferents["U"].index
    assert index.tolist() == [[0, 1], [2, 3], [4, 5], [6, 7]]
    with pytest.raises(ValidationError, match="input_shape"):
        Hierarchy((2, 2, 2, 2), [LevelParams()])


def _shapes(n: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """8x8 images of 4 classes (a horizontal, vertical, diagonal or anti-diagonal stroke of 5 pixels at a
    random place) with 3 random noise pixels each; grey levels 0 or 16."""
    rng = np.random.default_rng(seed)
    images = np.zeros((n, 8, 8))
    labels = rng.integers(0, 4, n)
    for i, c in enumerate(labels):
        r, s = rng.integers(0, 4, 2)
        t = np.arange(5)
        rows, cols = [(r + 1 + 0 * t, s + t), (r + t, s + 1 + 0 * t), (r + t, s + t), (r + t, s + 4 - t)][c]
        images[i, rows, cols] = 16
        images[i, rng.integers(0, 8, 3), rng.integers(0, 8, 3)] = 16
    return images, labels


def test_the_top_level_carries_class_information_after_one_pass():
    x_train, y_train = _shapes(200, 0)
    x_test, y_test = _shapes(150, 1)
    frozen = CSAParams(sat_threshold=0.5)
    net = Hierarchy(
        (8, 8),
        [
            LevelParams(grid=(4, 4), Q=8, K=6, rf_radius=0.25, band=(0.05, 1.0)),
            LevelParams(grid=(3, 3), Q=16, K=8, rf_radius=0.35, band=(0.05, 1.0)),
        ],
        [frozen, frozen],
        seed=0,
    )
    res = fit_and_score(net, x_train, y_train, x_test, y_test, thresholds=8.0, n_classes=4)
    acc = res["accuracy"]
    assert res["top"] == "L2"
    assert max(acc["L2"].values()) >= 0.9  # chance 0.25
    assert max(acc["L2"].values()) >= max(acc["L1"].values()) - 0.02  # the top level loses nothing
    assert acc["L2"]["class_nodes"] >= 0.75
    assert all(f > 0 for f in res["frozen_fraction"])  # both levels went through their critical period


def test_network_presets_build_the_declared_hierarchy():
    preset = load_network("digits")
    net = preset.build(seed=1)
    assert net.input_shape == (8, 8) and [lv.grid for lv in net.levels] == [lv.grid for lv in preset.levels]
    assert all(p.sat_threshold < 1.0 for p in preset.params)
    with pytest.raises(FileFormatError, match="is missing"):
        load_network("nothing")
