"""Sparsey save/load: one file, exact round trip, and a loader as strict as the constructors."""

from __future__ import annotations

import json
from collections.abc import Callable

import numpy as np
import pytest
import torch

from neuromem.errors import BackendError, FileFormatError
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
    layer = MacLayer.single(60, 5, 4, params=CSAParams(sat_threshold=0.3), horizontal=True, replicas=2, seed=3)
    x = random_patterns(25, 60, 8, torch.Generator().manual_seed(0))
    for i in range(25):
        layer.learn(x[i])
    return layer, x


def _rewrite(path, header: Callable[[dict], None] | None = None, arrays: Callable[[dict], None] | None = None) -> None:
    """Edit a saved file's header metadata and arrays in place (a tampered or corrupt file)."""
    with np.load(path) as data:
        members = {k: data[k] for k in data.files}
    doc = json.loads(members.pop("header").tobytes().decode())
    if header:
        header(doc["metadata"])
    if arrays:
        arrays(members)
    members["header"] = np.frombuffer(json.dumps(doc).encode(), dtype=np.uint8)
    np.savez(path, **members)


def test_layer_round_trip_keeps_weights_frozen_flags_parameters_and_codes(tmp_path):
    layer, x = _learned_layer()
    written = save_layer(layer, tmp_path / "mac")
    assert written == tmp_path / "mac.npz" and sorted(p.name for p in tmp_path.iterdir()) == ["mac.npz"]
    again = load_layer(tmp_path / "mac")
    assert again.params == layer.params and (again.Q, again.K, again.replicas) == (5, 4, 2)
    for key in layer.weights:
        assert torch.equal(again.weights[key], layer.weights[key])
        assert torch.equal(again.frozen[key], layer.frozen[key])
    assert bool(layer.frozen["U"].any())
    assert torch.equal(again.recognise(x).code, layer.recognise(x).code)
    assert torch.equal(again.learn(x[0]).code, layer.learn(x[0]).code)  # learning resumes identically


def test_hierarchy_round_trip_gives_same_codes_with_channels_and_per_level_parameters(tmp_path):
    params = [CSAParams(sat_threshold=0.5), CSAParams(lam_u=1.4, sig_lambda=7.0, v_infl=0.9, chi=4.0, gamma=1.0)]
    net = Hierarchy(
        (6, 6, 2),
        [LevelParams(grid=(2, 2), Q=3, K=3, rf_radius=0.4), LevelParams(grid=(1, 1), Q=4, K=3, rf_radius=1.0)],
        params,
        seed=2,
    )
    x = random_patterns(8, 72, 10, torch.Generator().manual_seed(1))
    for i in range(8):
        net.learn(x[i])
    save_hierarchy(net, tmp_path / "net")
    again = load_hierarchy(tmp_path / "net.npz")
    assert again.input_shape == (6, 6, 2) and [lay.params for lay in again.layers] == params
    for a, b in zip(net.recognise(x), again.recognise(x), strict=True):
        assert torch.equal(a.code, b.code)
    assert torch.equal(net.learn(x[3])[1].code, again.learn(x[3])[1].code)


def test_missing_corrupt_and_newer_files_raise_file_format_error(tmp_path):
    with pytest.raises(FileFormatError, match="no such file"):
        load_layer(tmp_path / "nothing")
    layer, _ = _learned_layer()
    path = save_layer(layer, tmp_path / "mac")
    path.write_bytes(b"not a zip file")
    with pytest.raises(FileFormatError, match="corrupt or not an .npz"):
        load_layer(path)
    path = save_layer(layer, tmp_path / "mac")
    with np.load(path) as data:
        members = {k: data[k] for k in data.files}
    doc = json.loads(members["header"].tobytes().decode())
    doc["version"] = 99
    members["header"] = np.frombuffer(json.dumps(doc).encode(), dtype=np.uint8)
    np.savez(path, **members)
    with pytest.raises(FileFormatError, match="newer than this neuromem reads"):
        load_layer(path)
    save_layer(layer, tmp_path / "other")
    with pytest.raises(FileFormatError, match="'type' is 'MacLayer'"):
        load_hierarchy(tmp_path / "other")


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (lambda m: m.__setitem__("Q", 1_000_000) or m.__setitem__("K", 1_000_000), "needing .* of memory"),
        (lambda m: m.__setitem__("Q", 2.5), "entry 'Q' is 2.5"),
        (lambda m: m.__setitem__("seed", "x"), "entry 'seed' is 'x'"),
        (lambda m: m["csa"].__setitem__("lam_u", -1.0), r"csa.*lam_u = -1.0 must lie in \(0, 1000\]"),
        (lambda m: m["csa"].__setitem__("tie", "first"), "tie = 'first'"),
        (lambda m: m.__setitem__("band", [0.5, 0.1]), "band"),
        (lambda m: m.__setitem__("extra", 1), "unknown keys \\['extra'\\]"),
    ],
)
def test_tampered_headers_are_refused_before_anything_is_built(tmp_path, edit, message):
    layer, _ = _learned_layer()
    path = save_layer(layer, tmp_path / "mac")
    _rewrite(path, header=edit)
    with pytest.raises(FileFormatError, match=message):
        load_layer(path)


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        ("n_learned", np.array([-5, 25]), "holds -5; allowed: values >= 0"),
        ("U/frozen", lambda a: a.astype(np.int64) * 7, "has dtype int64; allowed kinds: bool"),
        ("U/weights", lambda a: a * 3, "allowed: values <= 1"),
        ("U/weights", lambda a: a[:, :, :-1], "has shape"),
        ("H/weights", lambda a: np.ones_like(a), "does not allow"),
        ("generator_state", np.zeros(7, dtype=np.uint8), "is not a generator state"),
        ("U/index", lambda a: a + 1000, "allowed: values <= 59"),
        ("stray", np.zeros(3), "is not part of a MacLayer file"),
    ],
)
def test_tampered_arrays_are_refused_and_name_the_entry(tmp_path, name, value, message):
    layer, _ = _learned_layer()
    path = save_layer(layer, tmp_path / "mac")

    def change(arrays: dict) -> None:
        arrays[name] = value(arrays[name]) if callable(value) else value

    _rewrite(path, arrays=change)
    with pytest.raises(FileFormatError, match=message):
        load_layer(path)


def test_an_unknown_or_absent_device_is_a_backend_error():
    with pytest.raises(BackendError, match="device = 'tpu' is unknown"):
        MacLayer.single(10, 2, 2, device="tpu")
    with pytest.raises(BackendError, match="Hierarchy: device = 'tpu' is unknown"):
        Hierarchy((4, 4), [LevelParams(grid=(1, 1), Q=2, K=2)], device="tpu")
    if not torch.cuda.is_available():
        with pytest.raises(BackendError, match="no CUDA GPU"):
            MacLayer.single(10, 2, 2, device="cuda")
