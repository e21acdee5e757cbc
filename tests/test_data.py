"""Tests of neuromem.data: IDX reader, file-based loaders, split."""

from __future__ import annotations

import gzip
import struct
from pathlib import Path

import numpy as np
import pytest

from neuromem.data import (
    FASHION_MNIST_ROOT,
    load_digits,
    load_fashion_mnist,
    load_idx,
    load_mnist,
    load_mnist10k,
    stratified_split,
)
from neuromem.errors import FileFormatError, ValidationError


def _idx_bytes(array: np.ndarray) -> bytes:
    header = struct.pack(">BBBB", 0, 0, 0x08, array.ndim) + struct.pack(f">{array.ndim}I", *array.shape)
    return header + array.astype(np.uint8).tobytes()


def _write_mnist_folder(root: Path, n: int, seed: int, compress: bool) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    images = rng.integers(0, 256, size=(n, 28, 28), dtype=np.uint8)
    labels = rng.integers(0, 10, size=n, dtype=np.uint8)
    for stem, arr in (("train-images-idx3-ubyte", images), ("train-labels-idx1-ubyte", labels)):
        raw = _idx_bytes(arr)
        if compress:
            (root / (stem + ".gz")).write_bytes(gzip.compress(raw))
        else:
            (root / stem).write_bytes(raw)
    return images, labels


@pytest.mark.parametrize("compress", [False, True])
def test_load_idx_round_trips_plain_and_gzip(tmp_path: Path, compress: bool) -> None:
    rng = np.random.default_rng(1)
    arr = rng.integers(0, 256, size=(3, 4, 5), dtype=np.uint8)
    raw = _idx_bytes(arr)
    path = tmp_path / ("a.idx.gz" if compress else "a.idx")
    path.write_bytes(gzip.compress(raw) if compress else raw)
    out = load_idx(path)
    assert out.dtype == np.uint8
    np.testing.assert_array_equal(out, arr)


def test_load_idx_reads_big_endian_int32(tmp_path: Path) -> None:
    arr = np.array([1, -2, 70000], dtype=">i4")
    path = tmp_path / "ints.idx"
    path.write_bytes(struct.pack(">BBBBI", 0, 0, 0x0C, 1, 3) + arr.tobytes())
    np.testing.assert_array_equal(load_idx(path), [1, -2, 70000])


def test_load_idx_rejects_bad_magic_truncation_and_missing(tmp_path: Path) -> None:
    bad = tmp_path / "bad.idx"
    bad.write_bytes(b"\x01\x02\x08\x01" + struct.pack(">I", 2) + b"\x00\x00")
    with pytest.raises(FileFormatError, match="bad magic"):
        load_idx(bad)
    short = tmp_path / "short.idx"
    short.write_bytes(_idx_bytes(np.zeros((2, 3), np.uint8))[:-1])
    with pytest.raises(FileFormatError, match="need 6 bytes"):
        load_idx(short)
    with pytest.raises(FileFormatError, match="not found"):
        load_idx(tmp_path / "nope.idx")
    broken_gz = tmp_path / "broken.gz"
    broken_gz.write_bytes(b"\x1f\x8bnot-really-gzip")
    with pytest.raises(FileFormatError, match="decompress"):
        load_idx(broken_gz)


@pytest.mark.parametrize("compress", [False, True])
def test_load_mnist_reads_standard_names(tmp_path: Path, compress: bool) -> None:
    images, labels = _write_mnist_folder(tmp_path, 7, seed=2, compress=compress)
    x, y = load_mnist(tmp_path, "train")
    np.testing.assert_array_equal(x, images)
    np.testing.assert_array_equal(y, labels)
    assert y.dtype == np.int64


def test_load_mnist_missing_files_name_the_path_and_bad_split_is_rejected(tmp_path: Path) -> None:
    with pytest.raises(FileFormatError, match="t10k-images-idx3-ubyte"):
        load_mnist(tmp_path, "test")
    with pytest.raises(ValidationError, match="split 'val'"):
        load_mnist(tmp_path, "val")


def test_load_fashion_mnist_missing_root_says_what_to_install(tmp_path: Path) -> None:
    with pytest.raises(FileFormatError, match="dataset-fashion-mnist"):
        load_fashion_mnist(tmp_path / "empty", "train")


def test_load_fashion_mnist_reads_a_user_folder(tmp_path: Path) -> None:
    images, labels = _write_mnist_folder(tmp_path, 5, seed=3, compress=True)
    x, y = load_fashion_mnist(tmp_path, "train")
    np.testing.assert_array_equal(x, images)
    np.testing.assert_array_equal(y, labels)


@pytest.mark.skipif(not (FASHION_MNIST_ROOT / "t10k-labels-idx1-ubyte.gz").exists(), reason="no Fashion-MNIST")
def test_debian_fashion_mnist_test_split_has_1000_per_class() -> None:
    x, y = load_fashion_mnist(split="test")
    assert x.shape == (10000, 28, 28) and x.dtype == np.uint8
    np.testing.assert_array_equal(np.bincount(y), np.full(10, 1000))


def test_load_mnist10k_reads_npz_and_rejects_missing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    rng = np.random.default_rng(4)
    path = tmp_path / "m.npz"
    np.savez(path, images=rng.integers(0, 256, (6, 28, 28), dtype=np.uint8), labels=np.arange(6, dtype=np.uint8))
    x, y = load_mnist10k(path)
    assert x.shape == (6, 28, 28) and y.tolist() == list(range(6))
    monkeypatch.setenv("NEUROMEM_MNIST10K", str(tmp_path / "absent.npz"))
    with pytest.raises(FileFormatError, match="NEUROMEM_MNIST10K"):
        load_mnist10k()


def test_load_digits_has_1797_8x8_images() -> None:
    x, y = load_digits()
    assert x.shape == (1797, 8, 8) and y.shape == (1797,) and set(np.unique(y)) == set(range(10))


def test_stratified_split_is_disjoint_complete_and_keeps_class_proportions() -> None:
    labels = np.repeat(np.arange(4), [10, 20, 30, 40])
    train, test = stratified_split(labels, 0.25, seed=5)
    assert np.intersect1d(train, test).size == 0
    np.testing.assert_array_equal(np.sort(np.concatenate([train, test])), np.arange(100))
    np.testing.assert_array_equal(np.bincount(labels[test]), [2, 5, 8, 10])  # round(0.25 n), numpy rounding
    again = stratified_split(labels, 0.25, seed=5)
    np.testing.assert_array_equal(again[1], test)
    with pytest.raises(ValidationError, match="test_fraction"):
        stratified_split(labels, 1.5, seed=0)
