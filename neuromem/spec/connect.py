"""Connectors: which (pre, post) pairs a projection connects.

Every connector turns into an explicit connection list with :meth:`pairs`,
computed here once with numpy, so every backend and exporter wires the very
same synapses (the PyNN export writes these lists with ``FromListConnector``).
Synapse order is the order of :meth:`pairs`; per-synapse weight and delay
arrays follow it.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from neuromem.errors import ValidationError
from neuromem.spec import checks
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
