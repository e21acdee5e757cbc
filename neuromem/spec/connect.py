"""Connectors: which (pre, post) pairs a projection connects.

Every connector turns into an explicit connection list with :meth:`pairs`,
computed here once with numpy, so every backend and exporter wires the very
same synapses (the PyNN export writes these lists with ``FromListConnector``).
Synapse order is the order of :meth:`pairs`; per-synapse weight and delay
arrays follow it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import numpy as np

from neuromem.errors import ValidationError
from neuromem.spec import checks, sampling
from neuromem.spec.base import SpecObject, register


class Connector(SpecObject):
    """Base of the connectors."""

    def pairs(self, n_pre: int, n_post: int, same_population: bool) -> tuple[np.ndarray, np.ndarray]:
        """Return the (pre, post) index arrays (int64) of every synapse."""
        raise NotImplementedError

    def check_sizes(self, owner: str, n_pre: int, n_post: int) -> None:
        """Raise if the connector cannot join populations of these sizes."""

    def expected_synapses(self, n_pre: int, n_post: int) -> float:
        """About how many synapses :meth:`pairs` makes (an upper estimate), for memory checks before expanding."""
        return float(n_pre) * float(n_post)


@register
@dataclass(frozen=True, eq=False)
class OneToOne(Connector):
    """Neuron i of the source to neuron i of the target (equal sizes)."""

    def check_sizes(self, owner: str, n_pre: int, n_post: int) -> None:
        if n_pre != n_post:
            raise ValidationError(f"{owner}: OneToOne needs equal sizes, got pre size {n_pre} and post size {n_post}")

    def expected_synapses(self, n_pre: int, n_post: int) -> float:
        return float(n_pre)

    def pairs(self, n_pre: int, n_post: int, same_population: bool) -> tuple[np.ndarray, np.ndarray]:
        index = np.arange(n_pre, dtype=np.int64)
        return index, index.copy()


@register
@dataclass(frozen=True, eq=False)
class AllToAll(Connector):
    """Every source neuron to every target neuron.

    Parameters
    ----------
    allow_self : bool
        Keep the i -> i synapses. For two different populations of equal size it
        removes the pairs with equal index (the CA3 model's "all but i -> i").
    """

    allow_self: bool = True

    def __post_init__(self) -> None:
        object.__setattr__(self, "allow_self", checks.boolean("AllToAll", "allow_self", self.allow_self))

    def check_sizes(self, owner: str, n_pre: int, n_post: int) -> None:
        if not self.allow_self and n_pre != n_post:
            raise ValidationError(f"{owner}: AllToAll(allow_self=False) needs equal sizes, got {n_pre} and {n_post}")

    def pairs(self, n_pre: int, n_post: int, same_population: bool) -> tuple[np.ndarray, np.ndarray]:
        pre, post = np.meshgrid(np.arange(n_pre), np.arange(n_post), indexing="ij")
        pre, post = pre.ravel().astype(np.int64), post.ravel().astype(np.int64)
        if not self.allow_self:
            keep = pre != post
            pre, post = pre[keep], post[keep]
        return pre, post


@register
@dataclass(frozen=True, eq=False)
class FixedProbability(Connector):
    """Each (pre, post) pair is connected with probability ``p``.

    Drawn with ``numpy.random.default_rng(seed)`` over the pre-major pair
    order, so a seed fixes the wiring on every backend.

    Parameters
    ----------
    p : float
        Connection probability in [0, 1].
    allow_self : bool
        Keep i -> i pairs when source and target are the same population.
    seed : int
        Seed of the wiring, >= 0.
    """

    p: float
    allow_self: bool = True
    seed: int = 0

    def __post_init__(self) -> None:
        object.__setattr__(self, "p", checks.probability("FixedProbability", "p", self.p))
        object.__setattr__(self, "allow_self", checks.boolean("FixedProbability", "allow_self", self.allow_self))
        object.__setattr__(self, "seed", checks.count("FixedProbability", "seed", self.seed, minimum=0))

    def expected_synapses(self, n_pre: int, n_post: int) -> float:
        return self.p * float(n_pre) * float(n_post)

    def pairs(self, n_pre: int, n_post: int, same_population: bool) -> tuple[np.ndarray, np.ndarray]:
        rng = np.random.default_rng(self.seed)
        # Row blocks draw the same stream as one (n_pre, n_post) matrix, in bounded memory.
        block = max(1, 2**22 // max(n_post, 1))
        pres, posts = [], []
        for first in range(0, n_pre, block):
            rows = min(block, n_pre - first)
            mask = rng.random((rows, n_post)) < self.p
            if same_population and not self.allow_self:
                local = np.arange(rows)
                inside = first + local < n_post
                mask[local[inside], first + local[inside]] = False
            pre, post = np.nonzero(mask)
            pres.append(pre + first)
            posts.append(post)
        return np.concatenate(pres).astype(np.int64), np.concatenate(posts).astype(np.int64)


@register
@dataclass(frozen=True, eq=False)
class FromList(Connector):
    """An explicit list of synapses.

    Parameters
    ----------
    pre, post : array of int
        Source and target index of each synapse (same length).
    """

    pre: np.ndarray
    post: np.ndarray

    def __post_init__(self) -> None:
        pre = np.asarray(self.pre)
        post = np.asarray(self.post)
        if pre.shape != post.shape or pre.ndim != 1:
            raise ValidationError(f"FromList: pre {pre.shape} and post {post.shape} must be 1-D arrays of equal length")
        # Indices fit in int64 with room to spare; the Network checks them against the population sizes.
        object.__setattr__(self, "pre", checks.index_array("FromList", "pre", pre, 2**62))
        object.__setattr__(self, "post", checks.index_array("FromList", "post", post, 2**62))

    def expected_synapses(self, n_pre: int, n_post: int) -> float:
        return float(self.pre.size)

    def check_sizes(self, owner: str, n_pre: int, n_post: int) -> None:
        if self.pre.size and self.pre.max() >= n_pre:
            raise ValidationError(f"{owner}: FromList pre index {int(self.pre.max())} is outside 0..{n_pre - 1}")
        if self.post.size and self.post.max() >= n_post:
            raise ValidationError(f"{owner}: FromList post index {int(self.post.max())} is outside 0..{n_post - 1}")

    def pairs(self, n_pre: int, n_post: int, same_population: bool) -> tuple[np.ndarray, np.ndarray]:
        return self.pre.copy(), self.post.copy()


def _flag(owner: str, field: str, value: object) -> bool:
    """``value`` if it is a bool; anything else (1, "yes", None) is refused."""
    if not isinstance(value, (bool, np.bool_)):
        raise ValidationError(f"{owner}: {field} = {value!r} must be True or False")
    return bool(value)


class _FixedNumber(Connector):
    """Shared fields and checks of the fixed-number connectors (PyNN's names and defaults)."""

    n: int
    allow_self: bool
    with_replacement: bool
    seed: int

    def __post_init__(self) -> None:
        owner = type(self).__name__
        object.__setattr__(self, "n", checks.count(owner, "n", self.n, minimum=0))
        object.__setattr__(self, "allow_self", _flag(owner, "allow_self", self.allow_self))
        object.__setattr__(self, "with_replacement", _flag(owner, "with_replacement", self.with_replacement))
        object.__setattr__(self, "seed", checks.count(owner, "seed", self.seed, minimum=0))

    def _skip_diagonal(self, same_population: bool) -> bool:
        # As in PyNN, allow_self only concerns a population projecting onto itself.
        return same_population and not self.allow_self


@register
@dataclass(frozen=True, eq=False)
class FixedTotalNumber(_FixedNumber):
    """Exactly ``n`` synapses, each a uniformly drawn (pre, post) pair (PyNN ``FixedTotalNumberConnector``).

    This is the connectivity of the Potjans & Diesmann (2014) microcircuit and
    of NEST's ``fixed_total_number`` rule: with replacement (the default, as in
    PyNN and NEST) the ``n`` pairs are independent, so one pair may carry
    several synapses (multapses); without, they are ``n`` distinct pairs.
    Drawn with ``numpy.random.default_rng(seed)`` (:mod:`neuromem.spec.sampling`)
    in memory proportional to ``n``, never to ``n_pre * n_post``; the
    synapses come sorted by (pre, post).

    Parameters
    ----------
    n : int
        Number of synapses, >= 0; without replacement at most the number of
        available pairs.
    allow_self : bool
        Allow i -> i pairs when source and target are the same population.
    with_replacement : bool
        Draw pairs independently (multapses possible).
    seed : int
        Seed of the wiring, >= 0.

    Examples
    --------
    >>> pre, post = FixedTotalNumber(5, seed=1).pairs(3, 4, same_population=False)
    >>> pre.size, bool(post.max() < 4)
    (5, True)
    """

    n: int
    allow_self: bool = True
    with_replacement: bool = True
    seed: int = 0

    def check_sizes(self, owner: str, n_pre: int, n_post: int) -> None:
        self._check_available(f"{owner}: ", n_pre, n_post, skip_diagonal=False)

    def _check_available(self, owner: str, n_pre: int, n_post: int, skip_diagonal: bool) -> int:
        available = sampling.pair_count(n_pre, n_post, skip_diagonal)
        if self.n and available == 0:
            raise ValidationError(f"{owner}FixedTotalNumber n = {self.n} but there is no pair to connect")
        if not self.with_replacement and self.n > available:
            without = " without self-connections" if skip_diagonal else ""
            raise ValidationError(
                f"{owner}FixedTotalNumber n = {self.n} exceeds the {available} distinct pairs{without}"
                f" of {n_pre} x {n_post} neurons; use with_replacement=True or n <= {available}"
            )
        return available

    def pairs(self, n_pre: int, n_post: int, same_population: bool) -> tuple[np.ndarray, np.ndarray]:
        skip = self._skip_diagonal(same_population)
        available = self._check_available("", n_pre, n_post, skip)
        rng = np.random.default_rng(self.seed)
        address = sampling.sample_addresses(rng, self.n, available, self.with_replacement)
        return sampling.decode(address, n_post, skip)


class _FixedPartners(_FixedNumber):
    """Fixed number of partners per neuron on one side (``side`` names the partners)."""

    side: ClassVar[str] = "source"

    def _check_candidates(self, owner: str, n_choices: int, skip_diagonal: bool) -> None:
        candidates = n_choices - (1 if skip_diagonal else 0)
        kind = type(self).__name__
        if self.n and candidates == 0:
            raise ValidationError(f"{owner}{kind} n = {self.n} but there is no {self.side} to choose from")
        if not self.with_replacement and self.n > candidates:
            without = " other than itself" if skip_diagonal else ""
            raise ValidationError(
                f"{owner}{kind} n = {self.n} exceeds the {candidates} distinct {self.side}s{without} each"
                f" neuron can choose; use with_replacement=True or n <= {candidates}"
            )


@register
@dataclass(frozen=True, eq=False)
class FixedNumberPre(_FixedPartners):
    """Every target neuron gets exactly ``n`` source partners (PyNN ``FixedNumberPreConnector``).

    Without replacement (PyNN's default) a target's ``n`` sources are
    distinct; with replacement they are independent uniform draws. The
    synapses come grouped by target (post 0 first), each target's sources in
    ascending order; ``n * n_post`` synapses in all.

    Parameters
    ----------
    n : int
        Sources per target, >= 0; without replacement at most the number of
        candidates (``n_pre``, or ``n_pre - 1`` without self-connections).
    allow_self : bool
        Allow i -> i when source and target are the same population.
    with_replacement : bool
        Draw each target's sources independently (multapses possible).
    seed : int
        Seed of the wiring, >= 0.

    Examples
    --------
    >>> pre, post = FixedNumberPre(2, seed=3).pairs(5, 3, same_population=False)
    >>> post.tolist()
    [0, 0, 1, 1, 2, 2]
    """

    n: int
    allow_self: bool = True
    with_replacement: bool = False
    seed: int = 0

    def check_sizes(self, owner: str, n_pre: int, n_post: int) -> None:
        self._check_candidates(f"{owner}: ", n_pre, skip_diagonal=False)

    def pairs(self, n_pre: int, n_post: int, same_population: bool) -> tuple[np.ndarray, np.ndarray]:
        skip = self._skip_diagonal(same_population)
        self._check_candidates("", n_pre, skip)
        rng = np.random.default_rng(self.seed)
        sources = sampling.sample_partners(rng, self.n, n_post, n_pre, skip, self.with_replacement)
        return sources.ravel(), np.repeat(np.arange(n_post, dtype=np.int64), self.n)


@register
@dataclass(frozen=True, eq=False)
class FixedNumberPost(_FixedPartners):
    """Every source neuron gets exactly ``n`` target partners (PyNN ``FixedNumberPostConnector``).

    The mirror of :class:`FixedNumberPre`: the synapses come grouped by
    source (pre 0 first), each source's targets in ascending order.

    Parameters
    ----------
    n : int
        Targets per source, >= 0; without replacement at most ``n_post``
        (``n_post - 1`` without self-connections).
    allow_self, with_replacement, seed
        As in :class:`FixedNumberPre`.

    Examples
    --------
    >>> pre, post = FixedNumberPost(3, seed=3).pairs(2, 4, same_population=False)
    >>> pre.tolist()
    [0, 0, 0, 1, 1, 1]
    """

    side: ClassVar[str] = "target"
    n: int
    allow_self: bool = True
    with_replacement: bool = False
    seed: int = 0

    def check_sizes(self, owner: str, n_pre: int, n_post: int) -> None:
        self._check_candidates(f"{owner}: ", n_post, skip_diagonal=False)

    def pairs(self, n_pre: int, n_post: int, same_population: bool) -> tuple[np.ndarray, np.ndarray]:
        skip = self._skip_diagonal(same_population)
        self._check_candidates("", n_post, skip)
        rng = np.random.default_rng(self.seed)
        targets = sampling.sample_partners(rng, self.n, n_pre, n_post, skip, self.with_replacement)
        return np.repeat(np.arange(n_pre, dtype=np.int64), self.n), targets.ravel()
