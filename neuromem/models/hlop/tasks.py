"""Task sequences: permuted images (single head) and split classes (multi-head).

Example
-------
>>> tasks = permuted_tasks(x_train, y_train, x_test, y_test, n_tasks=3, seed=0)  # doctest: +SKIP
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from neuromem.errors import ValidationError

__all__ = ["Task", "permuted_tasks", "split_tasks", "subsample"]


@dataclass(frozen=True)
class Task:
    """One task: float32 images in [0, 1], flattened (N, 784), and int64 labels."""

    task_id: int
    name: str
    x_train: np.ndarray
    y_train: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray


def _flat(images: np.ndarray) -> np.ndarray:
    x = np.asarray(images)
    scale = 255.0 if x.dtype == np.uint8 else 1.0
    return (x.reshape(x.shape[0], -1).astype(np.float32) / scale).astype(np.float32)


def subsample(labels: np.ndarray, n: int | None, seed: int) -> np.ndarray:
    """Indices of ``n`` samples drawn without replacement (all if ``n`` is None), sorted."""
    if n is None or n >= labels.shape[0]:
        return np.arange(labels.shape[0])
    return np.sort(np.random.default_rng(seed).choice(labels.shape[0], size=n, replace=False))


def permuted_tasks(
    x_train: np.ndarray,
    y_train: np.ndarray,
    x_test: np.ndarray,
    y_test: np.ndarray,
    n_tasks: int,
    seed: int,
    n_train: int | None = None,
    n_test: int | None = None,
) -> list[Task]:
    """``n_tasks`` tasks; task 0 is the original images, task t > 0 a fixed random pixel permutation.

    Each task draws its own ``n_train`` / ``n_test`` samples (seeded).
    """
    if n_tasks < 1:
        raise ValidationError(f"permuted_tasks: n_tasks {n_tasks}; allowed: >= 1")
    rng = np.random.default_rng(seed)
    xtr, xte = _flat(x_train), _flat(x_test)
    tasks = []
    for t in range(n_tasks):
        perm = np.arange(xtr.shape[1]) if t == 0 else rng.permutation(xtr.shape[1])
        itr = subsample(y_train, n_train, seed * 1000 + t)
        ite = subsample(y_test, n_test, seed * 1000 + 500 + t)
        tasks.append(
            Task(
                t,
                f"permutation {t}",
                xtr[itr][:, perm],
                np.asarray(y_train)[itr].astype(np.int64),
                xte[ite][:, perm],
                np.asarray(y_test)[ite].astype(np.int64),
            )
        )
    return tasks


def split_tasks(
    x_train: np.ndarray,
    y_train: np.ndarray,
    x_test: np.ndarray,
    y_test: np.ndarray,
    classes_per_task: int = 2,
    n_train: int | None = None,
    seed: int = 0,
) -> list[Task]:
    """Classes 0..9 in consecutive groups; labels re-indexed 0..classes_per_task-1 per task."""
    classes = np.unique(y_train)
    if classes.size % classes_per_task:
        raise ValidationError(f"split_tasks: {classes.size} classes do not divide into groups of {classes_per_task}")
    xtr, xte = _flat(x_train), _flat(x_test)
    tasks = []
    for t in range(classes.size // classes_per_task):
        group = classes[t * classes_per_task : (t + 1) * classes_per_task]
        mtr, mte = np.isin(y_train, group), np.isin(y_test, group)
        itr = np.flatnonzero(mtr)[subsample(y_train[mtr], n_train, seed * 1000 + t)]
        remap = {int(c): i for i, c in enumerate(group)}
        tasks.append(
            Task(
                t,
                f"classes {list(map(int, group))}",
                xtr[itr],
                np.array([remap[int(c)] for c in y_train[itr]], dtype=np.int64),
                xte[mte],
                np.array([remap[int(c)] for c in y_test[mte]], dtype=np.int64),
            )
        )
    return tasks
