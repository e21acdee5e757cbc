"""Sparsey save/load: exact round trip; missing, corrupt and newer-schema files raise FileFormatError."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch

from neuromem.errors import FileFormatError
from neuromem.models.sparsey import (
    CSAParams,
    Hierarchy,
    LevelParams,
    MacLayer,
    load_hierarchy,
    load_layer,
    save_hierarchy,
    save_layer,
)
from neuromem.models.sparsey.analysis import random_patterns


def _learned_layer() -> tuple[MacLayer, torch.Tensor]:
    layer = MacLayer.single(60, 5, 4, params=CSAParams(sat_threshold=0.3, tie="random"), horizontal=True, seed=3)
    x = random_patterns(25, 60, 8, torch.Generator().manual_seed(0))
    for i in range(25):
        layer.learn(x[i])
    return layer, x


def test_layer_round_trip_keeps_weights_frozen_flags_parameters_and_codes(tmp_path):
    layer, x = _learned_layer()
    save_layer(layer, tmp_path / "mac")
    again = load_layer(tmp_path / "mac")
    assert again.params == layer.params and (again.Q, again.K) == (5, 4)
    for key in layer.weights:
        assert torch.equal(again.weights[key], layer.weights[key])
        assert torch.equal(again.frozen[key], layer.frozen[key])
    assert bool(layer.frozen["U"].any())
    assert torch.equal(again.recognise(x).code, layer.recognise(x).code)
    assert torch.equal(again.learn(x[0]).code, layer.learn(x[0]).code)
    assert not list(tmp_path.glob("*.tmp"))


def test_hierarchy_round_trip_gives_same_codes(tmp_path):
    net = Hierarchy(
        (6, 6),
        [LevelParams(grid=(2, 2), Q=3, K=3, rf_radius=0.4), LevelParams(grid=(1, 1), Q=4, K=3, rf_radius=1.0)],
        seed=2,
    )
    x = random_patterns(8, 36, 6, torch.Generator().manual_seed(1))
    for i in range(8):
        net.learn(x[i])
    save_hierarchy(net, tmp_path / "net")
    again = load_hierarchy(tmp_path / "net.json")
    for a, b in zip(net.recognise(x), again.recognise(x), strict=True):
        assert torch.equal(a.code, b.code)


def test_missing_file_raises_file_format_error(tmp_path):
    with pytest.raises(FileFormatError, match="is missing"):
        load_layer(tmp_path / "nothing")


def test_corrupt_npz_raises_file_format_error(tmp_path):
    layer, _ = _learned_layer()
    save_layer(layer, tmp_path / "mac")
    (tmp_path / "mac.npz").write_bytes(b"not a zip file")
    with pytest.raises(FileFormatError, match="not a readable .npz"):
        load_layer(tmp_path / "mac")


def test_corrupt_json_and_newer_schema_raise_file_format_error(tmp_path):
    layer, _ = _learned_layer()
    save_layer(layer, tmp_path / "mac")
    doc = json.loads((tmp_path / "mac.json").read_text())
    doc["schema_version"] = 99
    (tmp_path / "mac.json").write_text(json.dumps(doc))
    with pytest.raises(FileFormatError, match="schema_version 99"):
        load_layer(tmp_path / "mac")
    (tmp_path / "mac.json").write_text("{ broken")
    with pytest.raises(FileFormatError, match="not valid JSON"):
        load_layer(tmp_path / "mac")


def test_non_binary_weights_in_file_raise_file_format_error(tmp_path):
    layer, _ = _learned_layer()
    save_layer(layer, tmp_path / "mac")
    with np.load(tmp_path / "mac.npz") as data:
        arrays = {k: data[k] for k in data.files}
    arrays["U_weights"] = arrays["U_weights"] * 3
    np.savez(tmp_path / "mac.npz", **arrays)
    with pytest.raises(FileFormatError, match="not binary"):
        load_layer(tmp_path / "mac")
