"""Random draws of synapse pairs for the fixed-number connectors, in bounded memory.

Pairs are addressed on the (n_pre, n_post) grid, pre-major: pair ``k`` is
``(k // n_post, k % n_post)``. When self-connections are refused inside one
population the grid loses its diagonal, and pair ``k`` of the remaining
``n (n - 1)`` is ``(k // (n - 1), c + (c >= pre))`` with ``c = k % (n - 1)``,
so every allowed pair has exactly one address and uniform addresses give
uniform pairs.

Memory never grows with ``n_pre * n_post``, only with the number of synapses
drawn: per-neuron draws without replacement go through blocks of at most
:data:`BLOCK` random keys, and since the stream of random numbers depends on
:data:`BLOCK`, it is part of the wiring a seed stands for.
"""

from __future__ import annotations

import numpy as np

#: Largest number of random keys held at once by :func:`sample_partners`; part of what a seed means.
BLOCK = 2**22


def pair_count(n_pre: int, n_post: int, skip_diagonal: bool) -> int:
    """Number of distinct (pre, post) pairs, without the diagonal if ``skip_diagonal``."""
    return n_pre * n_post - (min(n_pre, n_post) if skip_diagonal else 0)


def decode(address: np.ndarray, n_post: int, skip_diagonal: bool) -> tuple[np.ndarray, np.ndarray]:
    """(pre, post) of grid addresses (see the module docstring)."""
    if not skip_diagonal:
        pre, post = np.divmod(address, n_post)
        return pre, post
    pre, column = np.divmod(address, n_post - 1)
    return pre, column + (column >= pre)


def sample_addresses(rng: np.random.Generator, n: int, available: int, replace: bool) -> np.ndarray:
    """``n`` sorted addresses out of ``0 .. available - 1`` (int64).

    With ``replace`` each address is an independent uniform draw. Without, the
    result is a uniformly chosen ``n``-subset: when it is dense (``4 n >=
    available``) a partial shuffle of all addresses, which then number at most
    ``4 n``; when sparse, the distinct values of uniform draws, topped up until
    there are at least ``n`` and thinned by a uniform choice of the surplus
    (a rule blind to the labels, so every subset is equally likely). Memory stays proportional to ``n``.
    """
    if n == 0:
        return np.zeros(0, dtype=np.int64)
    if replace:
        return np.sort(rng.integers(0, available, size=n, dtype=np.int64))
    if 4 * n >= available:
        return np.sort(rng.choice(available, size=n, replace=False)).astype(np.int64)
    chosen = np.zeros(0, dtype=np.int64)
    while chosen.size < n:
        missing = n - chosen.size
        # Expected repeats are below n / 8 here: a quarter more draws usually finishes in one round.
        draws = rng.integers(0, available, size=missing + missing // 4 + 16, dtype=np.int64)
        chosen = _sorted_unique(np.concatenate([chosen, draws]))
    surplus = chosen.size - n
    if surplus:
        chosen = np.delete(chosen, rng.choice(chosen.size, size=surplus, replace=False))
    return chosen


def _sorted_unique(values: np.ndarray) -> np.ndarray:
    """Distinct values, sorted (a plain sort: numpy's hash-based unique is slower on large int arrays)."""
    values = np.sort(values)
    keep = np.ones(values.size, dtype=bool)
    np.not_equal(values[1:], values[:-1], out=keep[1:])
    return values[keep]


def sample_partners(
    rng: np.random.Generator,
    n: int,
    n_rows: int,
    n_choices: int,
    skip_diagonal: bool,
    replace: bool,
    block: int = BLOCK,
) -> np.ndarray:
    """(n_rows, n) partner indices: ``n`` of ``0 .. n_choices - 1`` for every row, each row sorted.

    With ``skip_diagonal`` row ``r`` never gets partner ``r`` (rows and
    choices index the same population). Without ``replace`` a row's partners
    are distinct: the ``n`` smallest of one uniform key per candidate, drawn
    for as many rows at a time as fit in ``block`` keys.
    """
    out = np.empty((n_rows, n), dtype=np.int64)
    if n == 0 or n_rows == 0:
        return out
    candidates = n_choices - (1 if skip_diagonal else 0)
    if replace:
        rows = max(1, block // n)
    else:
        rows = max(1, block // candidates)
    for first in range(0, n_rows, rows):
        count = min(rows, n_rows - first)
        if replace:
            picked = rng.integers(0, candidates, size=(count, n), dtype=np.int64)
        elif n == candidates:
            picked = np.broadcast_to(np.arange(candidates, dtype=np.int64), (count, n)).copy()
        else:
            keys = rng.random((count, candidates))
            picked = np.argpartition(keys, n - 1, axis=1)[:, :n].astype(np.int64)
        if skip_diagonal:
            own = np.arange(first, first + count, dtype=np.int64)[:, None]
            picked += picked >= own
        picked.sort(axis=1)
        out[first : first + count] = picked
    return out
