"""Measurements on Sparsey codes and the analytic capacity model.

Code overlap is the fraction of CMs whose winners agree (all codes have size
Q, so no union normalisation is needed). The capacity model (spec
``sparsey.md`` section 4, P3) treats each CM as a Willshaw memory:

.. math::

    p_1 = 1 - (1 - a/K)^M,\\qquad t = p_1^{s},\\qquad
    c = \\sum_{j=0}^{K-1} \\binom{K-1}{j} t^j (1-t)^{K-1-j} \\frac{1}{j+1},\\qquad
    P_{exact} = c^Q

with input density a = s/N, M stored items and uniform tie-breaking.

Example
-------
>>> round(analytic_m90(Q=20, K=10, n_inputs=400, n_active=20))
249
"""

from __future__ import annotations

import math

import numpy as np
import torch
from scipy import stats


def code_overlap(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """Fraction of CMs with the same winner; codes (..., Q), inactive (-1) never match."""
    same = (a == b) & (a >= 0)
    return same.to(torch.float32).mean(dim=-1)


def spearman(x: np.ndarray, y: np.ndarray) -> float:
    """Spearman rank correlation (ties get mean ranks)."""
    return float(stats.spearmanr(np.asarray(x).ravel(), np.asarray(y).ravel()).statistic)


def analytic_exact_recall(M: float, Q: int, K: int, n_inputs: int, n_active: int) -> float:
    """Probability that max-V recognition returns a stored item's exact code after M items."""
    a = n_active / n_inputs
    p1 = 1.0 - (1.0 - a / K) ** M
    t = p1**n_active
    per_cm = sum(math.comb(K - 1, j) * t**j * (1.0 - t) ** (K - 1 - j) / (j + 1) for j in range(K))
    return per_cm**Q


def analytic_m90(Q: int, K: int, n_inputs: int, n_active: int, level: float = 0.9) -> float:
    """Largest M (real-valued, by bisection) with analytic exact recall >= ``level``."""
    lo, hi = 1.0, 1.0
    while analytic_exact_recall(hi, Q, K, n_inputs, n_active) >= level:
        hi *= 2.0
    for _ in range(60):
        mid = 0.5 * (lo + hi)
        if analytic_exact_recall(mid, Q, K, n_inputs, n_active) >= level:
            lo = mid
        else:
            hi = mid
    return lo


def empirical_m90(ms: np.ndarray, recall: np.ndarray, level: float = 0.9) -> float:
    """M where the measured recall curve crosses ``level`` (linear interpolation).

    ``recall`` is non-increasing in ``ms`` up to noise; the first crossing is used.
    """
    ms = np.asarray(ms, dtype=float)
    recall = np.asarray(recall, dtype=float)
    below = np.nonzero(recall < level)[0]
    if below.size == 0:
        return float(ms[-1])
    i = int(below[0])
    if i == 0:
        return float(ms[0])
    m0, m1, r0, r1 = ms[i - 1], ms[i], recall[i - 1], recall[i]
    return float(m0 + (r0 - level) * (m1 - m0) / (r0 - r1))


def random_patterns(n: int, n_inputs: int, n_active: int, generator: torch.Generator) -> torch.Tensor:
    """``n`` binary vectors (n, n_inputs) with exactly ``n_active`` ones each."""
    keys = torch.rand((n, n_inputs), generator=generator)
    idx = keys.argsort(dim=1)[:, :n_active]
    x = torch.zeros((n, n_inputs))
    x.scatter_(1, idx, 1.0)
    return x


def move_bits(x: torch.Tensor, m: int, generator: torch.Generator) -> torch.Tensor:
    """Copy of binary vector ``x`` with ``m`` of its active bits moved to inactive positions."""
    on = torch.nonzero(x > 0).flatten()
    off = torch.nonzero(x == 0).flatten()
    y = x.clone()
    drop = on[torch.randperm(on.numel(), generator=generator)[:m]]
    add = off[torch.randperm(off.numel(), generator=generator)[:m]]
    y[drop] = 0.0
    y[add] = 1.0
    return y
