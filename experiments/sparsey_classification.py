"""Sparsey P6: single-pass hierarchy on real images, read out by class-conditional code overlap.

Data sets (all local, nothing downloaded):

- scikit-learn ``load_digits`` (1,797 8x8 images): seeded stratified split
  (``neuromem.data.stratified_split``, test fraction 0.45, seed 0);
- the shared ``mnist10k`` (10,000 real MNIST digits, no official split): a
  seeded stratified split, 200 training images per class (the paper's budget)
  and 200 test images per class, disjoint;
- Fashion-MNIST IDX files from the Debian package ``dataset-fashion-mnist``:
  200 training images per class from the training split, 200 test images per
  class from the test split (seeded); skipped, and said so, when absent.

Each image is binarised (grey > half range) and learned once, in a shuffled
order, by a 2-level hierarchy (level 1: a grid of macs over overlapping
pixel discs; level 2: a coarser grid over level-1 macs; freezing at 0.5).
Codes of training and test images are then read out by a recognition pass and
classified by class-conditional code overlap (log weighting; the plain mean
overlap is also reported). The baseline is pixel 1-nearest-neighbour
(Euclidean on grey levels) on the same training images, timed in the same run.
Torch runs on 1 thread of the 2-core machine; wall and CPU times are both
recorded (the machine is shared, so CPU time is the fair figure). Paper: 91% on MNIST after 200 images per class, 220 s
on one thread (16x24 skeletonised images).

Usage: ``python experiments/sparsey_classification.py [--quick]``
Writes ``results/sparsey_classification/{metrics.json, accuracy.png}``.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import matplotlib  # noqa: E402

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import torch  # noqa: E402

from neuromem import data  # noqa: E402
from neuromem.errors import FileFormatError  # noqa: E402
from neuromem.models.sparsey import CSAParams, Hierarchy, LevelParams  # noqa: E402
from neuromem.models.sparsey.classify import fit_and_score  # noqa: E402

PARAMS = CSAParams(lam_u=10.0, sig_lambda=20.0, v_infl=0.5, sat_threshold=0.5)
MNIST_LEVELS = [
    LevelParams(grid=(12, 12), Q=12, K=8, rf_radius=0.1, band=(0.05, 1.0)),
    LevelParams(grid=(3, 3), Q=12, K=8, rf_radius=0.4, band=(0.1, 1.0)),
]
DIGITS_LEVELS = [
    LevelParams(grid=(6, 6), Q=10, K=8, rf_radius=0.2, band=(0.1, 1.0)),
    LevelParams(grid=(2, 2), Q=12, K=8, rf_radius=0.5, band=(0.1, 1.0)),
]


def per_class(labels: np.ndarray, n: int, rng: np.random.Generator, skip: int = 0) -> np.ndarray:
    """``n`` indices per class after skipping the first ``skip`` of a seeded permutation of each class."""
    out = [rng.permutation(np.flatnonzero(labels == c))[skip : skip + n] for c in np.unique(labels)]
    return np.concatenate(out)


def one_nn(train_x: np.ndarray, train_y: np.ndarray, test_x: np.ndarray, test_y: np.ndarray) -> dict[str, float]:
    """Pixel 1-NN (Euclidean, grey levels): accuracy and seconds."""
    start, start_cpu = time.perf_counter(), time.process_time()
    a = torch.tensor(train_x.reshape(len(train_x), -1), dtype=torch.float32)
    b = torch.tensor(test_x.reshape(len(test_x), -1), dtype=torch.float32)
    nearest = torch.cdist(b, a).argmin(dim=1).numpy()
    return {
        "accuracy": float((train_y[nearest] == test_y).mean()),
        "seconds": time.perf_counter() - start,
        "cpu_seconds": time.process_time() - start_cpu,
    }


def datasets(quick: bool) -> dict[str, object]:
    """Each entry: (train images, labels, test images, labels, threshold, levels, note) or a skip reason."""
    out: dict[str, object] = {}
    rng = np.random.default_rng(0)
    images, labels = data.load_digits()
    tr, te = data.stratified_split(labels, test_fraction=0.45, seed=0)
    out["digits"] = (
        images[tr],
        labels[tr],
        images[te],
        labels[te],
        8.0,
        DIGITS_LEVELS,
        "sklearn load_digits, stratified split test_fraction=0.45 seed=0",
    )
    n_train, n_test = (50, 50) if quick else (200, 200)
    try:
        images, labels = data.load_mnist10k()
        # One seeded permutation per class: the first n_train for training, the next n_test for testing.
        tr = per_class(labels, n_train, np.random.default_rng(1))
        te = per_class(labels, n_test, np.random.default_rng(1), skip=n_train)
        out["mnist10k"] = (
            images[tr],
            labels[tr],
            images[te],
            labels[te],
            127.0,
            MNIST_LEVELS,
            f"shared mnist10k, seeded stratified split: {n_train}/class train, {n_test}/class test",
        )
    except FileFormatError as exc:
        out["mnist10k"] = f"skipped: {exc}"
    try:
        train_images, train_labels = data.load_fashion_mnist(split="train")
        test_images, test_labels = data.load_fashion_mnist(split="test")
        tr = per_class(train_labels, n_train, rng)
        te = per_class(test_labels, n_test, rng)
        out["fashion_mnist"] = (
            train_images[tr],
            train_labels[tr],
            test_images[te],
            test_labels[te],
            127.0,
            MNIST_LEVELS,
            f"Fashion-MNIST IDX: {n_train}/class from train, {n_test}/class from test",
        )
    except FileFormatError as exc:
        out["fashion_mnist"] = f"skipped: {exc}"
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="50 training and test images per class")
    args = parser.parse_args()
    # One torch thread: the per-frame tensors are far too small for intra-op
    # parallelism, and a second thread only spins on a shared machine.
    torch.set_num_threads(1)
    out_dir = ROOT / "results" / "sparsey_classification"
    out_dir.mkdir(parents=True, exist_ok=True)
    metrics: dict[str, object] = {"params": PARAMS.to_dict(), "torch_threads": 1, "machine_cores": 2, "data": {}}
    for name, entry in datasets(args.quick).items():
        if isinstance(entry, str):
            print(f"{name}: {entry}")
            metrics["data"][name] = {"skipped": entry}  # type: ignore[index]
            continue
        x_tr, y_tr, x_te, y_te, threshold, levels, note = entry  # type: ignore[misc]
        order = np.random.default_rng(2).permutation(len(y_tr))
        x_tr, y_tr = x_tr[order], y_tr[order]
        shape = x_tr.shape[1:]
        net = Hierarchy(shape, levels, PARAMS, seed=0)
        res = fit_and_score(net, x_tr, y_tr, x_te, y_te, threshold=threshold)
        baseline = one_nn(x_tr, y_tr, x_te, y_te)
        baseline_binary = one_nn(x_tr > threshold, y_tr, x_te > threshold, y_te)
        row = {
            "note": note,
            "n_train": len(y_tr),
            "n_test": len(y_te),
            "levels": [lv.to_dict() for lv in levels],
            "sparsey": res,
            "pixel_1nn": baseline,
            "binary_pixel_1nn": baseline_binary,
        }
        metrics["data"][name] = row  # type: ignore[index]
        print(
            f"{name}: Sparsey {res['accuracy']}, train {res['train_s']:.1f} s wall ({res['train_cpu_s']:.1f} s CPU)"
            f" + readout {res['readout_s']:.1f} s; nearest stored code {res['nearest_code_accuracy']:.3f}; "
            f"pixel 1-NN {baseline['accuracy']:.3f} in {baseline['seconds']:.2f} s "
            f"(binarised pixels {baseline_binary['accuracy']:.3f})"
        )
    done = {k: v for k, v in metrics["data"].items() if "sparsey" in v}  # type: ignore[union-attr]
    if done:
        fig, ax = plt.subplots(figsize=(6, 3.8))
        names = list(done)
        pos = np.arange(len(names))
        ax.bar(
            pos - 0.3, [done[n]["sparsey"]["accuracy"]["log"]["all"] for n in names], 0.2, label="Sparsey, all levels"
        )
        ax.bar(pos - 0.1, [done[n]["sparsey"]["accuracy"]["log"]["L1"] for n in names], 0.2, label="Sparsey, level 1")
        ax.bar(pos + 0.1, [done[n]["sparsey"]["accuracy"]["log"]["L2"] for n in names], 0.2, label="Sparsey, level 2")
        ax.bar(pos + 0.3, [done[n]["pixel_1nn"]["accuracy"] for n in names], 0.2, label="pixel 1-NN")
        ax.set_xticks(pos, names)
        ax.set_ylabel("test accuracy")
        ax.set_ylim(0, 1)
        ax.legend(fontsize=7, loc="lower right")
        fig.tight_layout()
        fig.savefig(out_dir / "accuracy.png", dpi=120)
    (out_dir / "metrics.json").write_text(json.dumps(metrics, indent=2))


if __name__ == "__main__":
    main()
