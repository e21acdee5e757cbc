"""Single-pass training of a hierarchy on images and code-overlap classification.

Images are binarised (grey level > threshold), each image is learned once as a
one-frame episode, then training and test codes are read out by a recognition
pass (max-V, deterministic ties; spec section 1.8 item 5) and classified by
:class:`~neuromem.models.sparsey.readout.CodeOverlapReadout`.

Example
-------
>>> from neuromem.models.sparsey import Hierarchy, LevelParams
>>> import numpy as np
>>> imgs = (np.random.default_rng(0).random((20, 8, 8)) > 0.7) * 255
>>> labels = np.arange(20) % 2
>>> net = Hierarchy((8, 8), [LevelParams(grid=(2, 2), Q=4, K=4, rf_radius=0.4)])
>>> acc = fit_and_score(net, imgs[:10], labels[:10], imgs[10:], labels[10:])["accuracy"]["log"]["L1"]
>>> 0.0 <= acc <= 1.0
True
"""

from __future__ import annotations

import time

import numpy as np
import torch

from neuromem.models.sparsey.hierarchy import Hierarchy
from neuromem.models.sparsey.readout import CodeOverlapReadout, code_states


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


def fit_and_score(
    net: Hierarchy,
    train_images: np.ndarray,
    train_labels: np.ndarray,
    test_images: np.ndarray,
    test_labels: np.ndarray,
    threshold: float = 127.0,
    n_classes: int = 10,
    weightings: tuple[str, ...] = ("log", "mean"),
) -> dict[str, object]:
    """Learn the training images once each, in order; classify the test images.

    Returns accuracies (per weighting) of readouts on level 1, the top level
    and all levels, the training time (learning pass only) and the readout time.
    """
    x_train = binarise(train_images, threshold)
    x_test = binarise(test_images, threshold)
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
    test_codes = recognise_codes(net, x_test)
    Ks = [layer.K for layer in net.layers]
    top = len(net.layers) - 1
    views = {"L1": [0], f"L{top + 1}": [top], "all": list(range(top + 1))}
    accuracy: dict[str, dict[str, float]] = {}
    for weighting in weightings:
        accuracy[weighting] = {}
        for name, idx in views.items():
            readout = CodeOverlapReadout(n_classes, weighting=weighting)
            readout.fit([train_codes[i] for i in idx], y_train, [Ks[i] for i in idx])
            pred = readout.predict([test_codes[i] for i in idx])
            accuracy[weighting][name] = float((pred == y_test).float().mean())
    # Reference: the class of the single most-overlapping training code (all
    # levels). Its cost grows with the training set, unlike the class nodes.
    train_states = code_states(train_codes, Ks)
    test_states = code_states(test_codes, Ks)
    nearest = (test_states @ train_states.T).argmax(dim=1)
    nearest_code_accuracy = float((y_train[nearest] == y_test).float().mean())
    readout_s = time.perf_counter() - start
    return {
        "accuracy": accuracy,
        "nearest_code_accuracy": nearest_code_accuracy,
        "train_s": train_s,
        "train_cpu_s": train_cpu_s,
        "readout_s": readout_s,
        "active_fraction": [float((c[..., 0] >= 0).float().mean()) for c in test_codes],
        "frozen_fraction": [float(layer.frozen["U"].float().mean()) for layer in net.layers],
    }
