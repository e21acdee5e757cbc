"""Checks that would survive a careless change are pinned here: each test fails if its guard is removed.

* ``decode`` refuses malformed entries (extra keys, wrong types) instead of guessing;
* a failed atomic write removes its temporary file;
* a save writes exactly one file;
* Sparsey's "nothing was written" comparison is exact, not a position hash.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from neuromem import fileformat
from neuromem.errors import FileFormatError
from neuromem.models.sparsey import MacLayer
from neuromem.record import Recording, SpikeTrains
from neuromem.spec import LIFCurrExp, Network, Population, save
from neuromem.spec.io import decode


@pytest.mark.parametrize(
    "entry",
    [
        {"type": "LIFCurrExp", "fields": {}, "extra": 1},
        {"type": "LIFCurrExp"},
        {"type": 5, "fields": {}},
        {"type": "LIFCurrExp", "fields": [1, 2]},
        {"$array": "a0", "type": "LIFCurrExp"},
        {"$float": "inf", "fields": {}},
        {},
    ],
)
def test_decode_refuses_malformed_entries(entry: dict) -> None:
    with pytest.raises(FileFormatError, match="malformed entry"):
        decode(entry, {"a0": np.ones(2)})
    assert decode({"type": "LIFCurrExp", "fields": {}}, {}) == LIFCurrExp()


def test_decode_refuses_unknown_private_and_nested_too_deep() -> None:
    with pytest.raises(FileFormatError, match=r"unknown fields \['_lists'\]"):
        decode({"type": "Network", "fields": {"populations": [], "_lists": [[1]]}}, {})
    deep: object = 1.0
    for _ in range(40):
        deep = [deep]
    with pytest.raises(FileFormatError, match="nested deeper than 32 levels"):
        decode({"type": "LIFCurrExp", "fields": {"tau_m": deep}}, {})


def test_a_failed_write_removes_its_temporary_file(tmp_path: Path) -> None:
    def fail(handle: object) -> None:
        handle.write(b"partial")  # type: ignore[attr-defined]
        raise OSError(28, "No space left on device")

    with pytest.raises(FileFormatError, match="No space left on device"):
        fileformat.atomic_write(tmp_path / "x.npz", fail)
    assert list(tmp_path.iterdir()) == []


def test_every_save_writes_exactly_one_file(tmp_path: Path) -> None:
    save(Network(populations=(Population("a", LIFCurrExp(), size=2),)), tmp_path / "net.json")
    Recording(0.1, 0, 2, 1, {"a": 2}, spikes={"a": SpikeTrains.empty()}).save(tmp_path / "rec")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["net.npz", "rec.npz"]


def test_sparsey_weight_comparison_sees_a_swap_a_position_hash_would_miss() -> None:
    layer = MacLayer.single(400, 20, 10, seed=1)
    layer.learn((torch.arange(400) < 20).float())
    before = layer.weight_checksum()
    key = sorted(layer.weights)[0]
    flat = layer.weights[key].view(-1)
    ones, zeros = torch.nonzero(flat == 1).ravel().tolist(), set(torch.nonzero(flat == 0).ravel().tolist())
    # Two positions 9973 apart (the old hash's period) holding different values, swapped.
    pairs = [(i, i + 9973) for i in ones if i + 9973 in zeros] + [(i - 9973, i) for i in ones if i - 9973 in zeros]
    assert pairs, "the layer is too small to place a swap 9973 apart"
    a, b = pairs[0]
    flat[a], flat[b] = flat[b].clone(), flat[a].clone()
    assert layer.weight_checksum() != before
