"""Single-pass training of a hierarchy on images and per-level classification of its codes.

Images are binarised (one threshold, or a thermometer code of several), each
training image is learned once as a one-frame episode, in the given order;
then codes of training and test images are read out by a recognition pass
(max-V; spec section 1.8 item 5) and every level, and all levels together,
are classified by the readouts the spec allows (section 1.6): Hebbian class
nodes (:class:`~neuromem.models.sparsey.readout.CodeOverlapReadout`) and a
linear SVM (:class:`~neuromem.models.sparsey.readout.LinearSVMReadout`),
with the class of the most-overlapping training code as a reference (its
cost grows with the training set, unlike the other two).

Example
-------
>>> from neuromem.models.sparsey import Hierarchy, LevelParams
>>> import numpy as np
>>> imgs = (np.random.default_rng(0).random((20, 8, 8)) > 0.7) * 255
>>> labels = np.arange(20) % 2
>>> net = Hierarchy((8, 8), [LevelParams(grid=(2, 2), Q=4, K=4, rf_radius=0.4)])
>>> res = fit_and_score(net, imgs[:10], labels[:10], imgs[10:], labels[10:], readouts=("class_nodes",))
>>> 0.0 <= res["accuracy"]["L1"]["class_nodes"] <= 1.0
True
"""

from __future__ import annotations

import time

import numpy as np
import torch

from neuromem.errors import ValidationError
from neuromem.models.sparsey.hierarchy import Hierarchy
from neuromem.models.sparsey.readout import CodeOverlapReadout, LinearSVMReadout, code_states

READOUTS = ("class_nodes", "svm", "nearest")


def binarise(images: np.ndarray, thresholds: float | tuple[float, ...]) -> torch.Tensor:
    """Binary input vectors (N, rows*cols*C) of grey images (N, rows, cols).

    One threshold gives one channel (1 where grey level > threshold); C
    thresholds give a thermometer code, channel c of a pixel being 1 where its
    grey level exceeds threshold c (channels of a pixel adjacent, as
    :class:`~neuromem.models.sparsey.hierarchy.Hierarchy` expects for an input
    shape (rows, cols, C)).
    """
    images = np.asarray(images)
    levels = np.atleast_1d(np.asarray(thresholds, dtype=np.float64))
    bits = images[..., None] > levels
    return torch.tensor(bits.reshape(images.shape[0], -1).astype(np.float32))


def recognise_codes(net: Hierarchy, x: torch.Tensor, chunk: int = 1000) -> list[torch.Tensor]:
    """Max-V codes (N, M, Q) of every level for a batch of inputs (first replica)."""
    parts: list[list[torch.Tensor]] = []
    for start in range(0, x.shape[0], chunk):
        results = net.recognise(x[start : start + chunk])
        parts.append([r.code[0].cpu() for r in results])
    return [torch.cat([p[i] for p in parts]) for i in range(len(net.layers))]


def _accuracy(readout: str, train: list[torch.Tensor], y_train: torch.Tensor, test: list[torch.Tensor],
              y_test: torch.Tensor, Ks: list[int], n_classes: int) -> float:  # fmt: skip
    if readout == "class_nodes":
        pred = CodeOverlapReadout(n_classes).fit(train, y_train, Ks).predict(test)
    elif readout == "svm":
        pred = LinearSVMReadout().fit(train, y_train, Ks).predict(test)
    else:
        nearest = (code_states(test, Ks) @ code_states(train, Ks).T).argmax(dim=1)
        pred = y_train[nearest]
    return float((pred == y_test).float().mean())


def fit_and_score(
    net: Hierarchy,
    train_images: np.ndarray,
    train_labels: np.ndarray,
    test_images: np.ndarray,
    test_labels: np.ndarray,
    thresholds: float | tuple[float, ...] = 127.0,
    n_classes: int = 10,
    readouts: tuple[str, ...] = READOUTS,
    extra_tests: dict[str, tuple[np.ndarray, np.ndarray]] | None = None,
) -> dict[str, object]:
    """Learn the training images once each, in order; classify the test images from every level's codes.

    Returns
    -------
    dict
        ``accuracy[view][readout]`` for views ``L1`` ... ``Ln`` (one level)
        and ``all`` (every level together); ``top`` (the name of the top
        level's view); ``train_s`` and ``train_cpu_s`` (wall and CPU seconds
        of the learning pass alone); ``readout_s``; per level the fraction of
        active macs on the test set and of frozen U bundles;
        ``extra_accuracy[name]`` the same accuracies on each of ``extra_tests``
        (name -> (images, labels)), e.g. a held-out set not used to choose
        the network.
    """
    unknown = sorted(set(readouts) - set(READOUTS))
    if unknown:
        raise ValidationError(f"fit_and_score: readouts {unknown} unknown; allowed {READOUTS}")
    x_train = binarise(train_images, thresholds)
    x_test = binarise(test_images, thresholds)
    y_train = torch.as_tensor(np.asarray(train_labels), dtype=torch.int64)
    y_test = torch.as_tensor(np.asarray(test_labels), dtype=torch.int64)
    start, start_cpu = time.perf_counter(), time.process_time()
    for i in range(x_train.shape[0]):
        net.learn(x_train[i])
    train_s = time.perf_counter() - start
    # CPU seconds of this process: on a shared machine wall time mostly measures the other jobs.
    train_cpu_s = time.process_time() - start_cpu
    start = time.perf_counter()
    train_codes = recognise_codes(net, x_train)
    Ks = [layer.K for layer in net.layers]
    views = {f"L{i + 1}": [i] for i in range(len(net.layers))}
    views["all"] = list(range(len(net.layers)))

    def score(codes: list[torch.Tensor], labels: torch.Tensor) -> dict[str, dict[str, float]]:
        return {
            view: {
                r: _accuracy(
                    r,
                    [train_codes[i] for i in idx],
                    y_train,
                    [codes[i] for i in idx],
                    labels,
                    [Ks[i] for i in idx],
                    n_classes,
                )  # fmt: skip
                for r in readouts
            }
            for view, idx in views.items()
        }

    test_codes = recognise_codes(net, x_test)
    accuracy = score(test_codes, y_test)
    extra = {}
    for name, (images, labels) in (extra_tests or {}).items():
        codes = recognise_codes(net, binarise(images, thresholds))
        extra[name] = score(codes, torch.as_tensor(np.asarray(labels), dtype=torch.int64))
    return {
        "accuracy": accuracy,
        "extra_accuracy": extra,
        "top": f"L{len(net.layers)}",
        "train_s": train_s,
        "train_cpu_s": train_cpu_s,
        "readout_s": time.perf_counter() - start,
        "active_fraction": [float((c[..., 0] >= 0).float().mean()) for c in test_codes],
        "frozen_fraction": [float(layer.frozen["U"].float().mean()) for layer in net.layers],
    }
