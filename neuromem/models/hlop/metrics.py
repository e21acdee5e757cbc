"""Continual-learning metrics (spec section 4).

``R[i, j]`` = test accuracy on task j after training through task i (0-based
here; the spec writes 1-based), T tasks::

    ACC = (1 / T) sum_j R[T-1, j]
    BWT = (1 / (T - 1)) sum_{j < T-1} (R[T-1, j] - R[j, j])     (negative = forgetting)

Example
-------
>>> R = np.array([[0.9, np.nan], [0.8, 0.95]])
>>> acc(R), bwt(R)
(0.875, -0.09999999999999998)
"""

from __future__ import annotations

import numpy as np

from neuromem.errors import ValidationError

__all__ = ["acc", "bwt", "mean_std"]


def _check(R: np.ndarray) -> np.ndarray:
    R = np.asarray(R, dtype=np.float64)
    if R.ndim != 2 or R.shape[0] != R.shape[1] or R.shape[0] < 1:
        raise ValidationError(f"accuracy matrix R: shape {R.shape}; allowed: square (T, T) with T >= 1")
    if np.isnan(R[-1]).any() or np.isnan(np.diag(R)).any():
        raise ValidationError("accuracy matrix R: last row and diagonal must be filled (no NaN)")
    return R


def acc(R: np.ndarray) -> float:
    """Average accuracy after the last task, ``(1/T) sum_j R[T-1, j]``."""
    R = _check(R)
    return float(R[-1].mean())


def bwt(R: np.ndarray) -> float:
    """Backward transfer ``(1/(T-1)) sum_{j<T-1} (R[T-1, j] - R[j, j])``; 0 for T = 1."""
    R = _check(R)
    T = R.shape[0]
    if T == 1:
        return 0.0
    return float(np.mean(R[-1, :-1] - np.diag(R)[:-1]))


def mean_std(values: list[float] | np.ndarray) -> tuple[float, float]:
    """Mean and sample standard deviation (ddof=1; 0 for one value)."""
    v = np.asarray(values, dtype=np.float64)
    return float(v.mean()), float(v.std(ddof=1)) if v.size > 1 else 0.0
