"""Measurements on Sparsey codes and the analytic capacity model.

Code overlap is the fraction of CMs whose winners agree (all codes have size
Q, so no union normalisation is needed). The capacity model (spec
``sparsey.md`` section 4, P3) treats each CM as a Willshaw memory:

.. math::

    p_1 = 1 - (1 - a/K)^M,\\qquad t = p_1^{s},\\qquad
    c = \\sum_{j=0}^{K-1} \\binom{K-1}{j} t^j (1-t)^{K-1-j} \\frac{1}{j+1},\\qquad
    P_{exact} = c^Q

with input density a = s/N, M stored items and uniform tie-breaking. Every
cell is given the mean load here; :func:`rival_probability` also offers the
binomial load of random codes, which matches simulations of random codes
(chi = 0) within a few percent where the mean-load model is ~15 % high.

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


LOADS = ("mean", "binomial")


def rival_probability(M: float, K: int, n_inputs: int, n_active: int, load: str = "mean") -> float:
    """Probability t that a rival cell has weights from all s active inputs of a stored item.

    ``load="mean"`` (the spec's model): every cell holds the mean load, so
    t = p1^s with p1 = 1 - (1 - a/K)^M. ``load="binomial"``: a rival was
    chosen by n ~ Binomial(M - 1, 1/K) other items, and given n each input is
    covered with probability 1 - (1 - a)^n, so t = E_n[(1 - (1 - a)^n)^s].
    Because t is a steep (s-th power) function of the load, the busiest cells
    dominate and the mean-load model overestimates capacity by about 15 %.
    """
    a = n_active / n_inputs
    if load == "mean":
        return (1.0 - (1.0 - a / K) ** M) ** n_active
    if load != "binomial":
        raise ValueError(f"load = {load!r} is not one of {LOADS}")
    trials = max(int(math.ceil(M)) - 1, 0)
    n = np.arange(trials + 1)
    pmf = stats.binom.pmf(n, trials, 1.0 / K)
    return float((pmf * (1.0 - (1.0 - a) ** n) ** n_active).sum())


def analytic_exact_recall(M: float, Q: int, K: int, n_inputs: int, n_active: int, load: str = "mean") -> float:
    """Probability that max-V recognition returns a stored item's exact code after M random items.

    Codes are assumed uniformly random and ties broken uniformly; see
    :func:`rival_probability` for the two load models.
    """
    t = rival_probability(M, K, n_inputs, n_active, load)
    per_cm = sum(math.comb(K - 1, j) * t**j * (1.0 - t) ** (K - 1 - j) / (j + 1) for j in range(K))
    return per_cm**Q


def analytic_m90(Q: int, K: int, n_inputs: int, n_active: int, level: float = 0.9, load: str = "mean") -> float:
    """Largest M (real-valued, by bisection) with analytic exact recall >= ``level``."""
    lo, hi = 1.0, 1.0
    while analytic_exact_recall(hi, Q, K, n_inputs, n_active, load) >= level:
        hi *= 2.0
    for _ in range(60 if load == "mean" else 30):
        mid = 0.5 * (lo + hi)
        if analytic_exact_recall(mid, Q, K, n_inputs, n_active, load) >= level:
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


def drop_bits(x: torch.Tensor, m: int, generator: torch.Generator) -> torch.Tensor:
    """Copy of binary vector ``x`` with ``m`` of its active bits switched off (occlusion)."""
    on = torch.nonzero(x > 0).flatten()
    y = x.clone()
    y[on[torch.randperm(on.numel(), generator=generator)[:m]]] = 0.0
    return y


def graded_chain(n_inputs: int, n_active: int, generator: torch.Generator) -> torch.Tensor:
    """A drifting pattern: 2s + 1 items (s = ``n_active``), item i and j share s - |i - j| bits (0 past s).

    Each step switches off the oldest of the current active bits and switches
    on a fresh one, like a line that drifts one pixel per frame (the graded
    set of spec ``sparsey.md`` section 2.1). Needs ``n_inputs >= 3 s``.
    Returns (2s + 1, n_inputs).
    """
    if n_inputs < 3 * n_active:
        raise ValueError(f"graded_chain needs n_inputs >= 3 n_active; got {n_inputs} < {3 * n_active}")
    bits = torch.randperm(n_inputs, generator=generator)[: 3 * n_active]
    items = torch.zeros((2 * n_active + 1, n_inputs))
    for i in range(2 * n_active + 1):
        items[i, bits[i : i + n_active]] = 1.0
    return items


def chain_overlap(n_active: int) -> np.ndarray:
    """Input overlap (fraction of s) of every pair of items of :func:`graded_chain`, (2s + 1, 2s + 1)."""
    idx = np.arange(2 * n_active + 1)
    return np.clip(n_active - np.abs(idx[:, None] - idx[None, :]), 0, None) / n_active
