"""Counter-based random numbers shared by every backend.

A uniform number is a pure function of (seed, stream, row, counter): the
SplitMix64 finaliser applied to a mixed 64-bit key. Every backend evaluates the
same function, so Poisson inputs are identical across backends, devices and
batch layouts: trial ``b`` of a batch draws what a single run with that trial's
seed draws.

Poisson trains are drawn as geometric gaps between spikes (one number per
spike, not one per step) by :class:`GapRule`: exact comparisons of ``1 - u``
with a table of thresholds ``q**j`` computed once on the host, so numpy
(:class:`PoissonTrains`, used by every backend and the exporters) and the torch
backend's device schedule give bit-identical trains on any device — no
transcendental function is evaluated where results could differ.
"""

from __future__ import annotations

import functools

import numpy as np
import torch

_GOLDEN = 0x9E3779B97F4A7C15
_MUL1 = 0xBF58476D1CE4E5B9
_MUL2 = 0x94D049BB133111EB
_MASK64 = (1 << 64) - 1


def _signed(value: int) -> int:
    """The int64 with the same bits as the uint64 ``value``."""
    value &= _MASK64
    return value - (1 << 64) if value >= 1 << 63 else value


def uniform_numpy(seed: int, stream: int | np.ndarray, rows: np.ndarray, steps: np.ndarray) -> np.ndarray:
    """Uniform numbers in [0, 1) for every (stream, row, counter) triple (broadcast).

    Parameters
    ----------
    seed : int
        The generator's key, e.g. a source's seed.
    stream : int or array of int
        E.g. the trial seed.
    rows, steps : array of int
        Neuron indices and counters (steps or spike numbers), broadcast together.
    """
    rows = np.asarray(rows, dtype=np.uint64)
    steps = np.asarray(steps, dtype=np.uint64)
    streams = np.asarray(stream, dtype=np.uint64)
    key_base = np.uint64((seed * _GOLDEN + 0x632BE59BD9B4E019) & _MASK64)
    with np.errstate(over="ignore"):
        x = key_base + streams * np.uint64(_MUL2) + rows * np.uint64(_GOLDEN) + steps * np.uint64(_MUL1)
        x = (x ^ (x >> np.uint64(30))) * np.uint64(_MUL1)
        x = (x ^ (x >> np.uint64(27))) * np.uint64(_MUL2)
        x = x ^ (x >> np.uint64(31))
    return (x >> np.uint64(11)).astype(np.float64) * (1.0 / (1 << 53))


def _shift_right(x: torch.Tensor, bits: int) -> torch.Tensor:
    """Logical right shift of int64 tensors that hold uint64 bit patterns."""
    return (x >> bits) & ((1 << (64 - bits)) - 1)


def uniform_torch(seed: int, streams: torch.Tensor, rows: torch.Tensor, steps: torch.Tensor) -> torch.Tensor:
    """Torch twin of :func:`uniform_numpy`, bit-identical, float64 result.

    ``streams``, ``rows`` and ``steps`` are int64 tensors broadcast against each other.
    int64 multiplication wraps modulo 2**64 exactly like uint64, which is all the
    hash needs.
    """
    key_base = (seed * _GOLDEN + 0x632BE59BD9B4E019) & _MASK64
    x = rows * _signed(_GOLDEN) + steps * _signed(_MUL1)
    x = x + (streams * _signed(_MUL2) + _signed(key_base))
    # In-place rounds: the hash runs over whole chunks of steps, so allocations matter.
    x ^= _shift_right(x, 30)
    x *= _signed(_MUL1)
    x ^= _shift_right(x, 27)
    x *= _signed(_MUL2)
    x ^= _shift_right(x, 31)
    return _shift_right(x, 11).to(torch.float64).mul_(1.0 / (1 << 53))


#: Most thresholds a gap table holds (8 bytes each: 8 MiB, built in ~0.6 s): spike probabilities per step
#: down to about 3.5e-5 (0.35 Hz at dt = 0.1 ms). Below, :meth:`GapRule.gaps` searches
#: the same thresholds without a table, on the host only.
TABLE_CAP = 2**20

#: The smallest value ``1 - u`` takes: ``u = k * 2**-53 <= 1 - 2**-53``, and ``1 - u`` is exact.
SMALLEST = 2.0**-53


#: Dekker's splitter for float64: 2**27 + 1.
_SPLIT = 134217729.0


def _two_product(a: np.ndarray, b: float) -> tuple[np.ndarray, np.ndarray]:
    """``a * b`` as the rounded product and its exact error (Dekker), by plain float64 operations."""
    product = a * b
    c = _SPLIT * a
    a_hi = c - (c - a)
    a_lo = a - a_hi
    c = _SPLIT * b
    b_hi = c - (c - b)
    b_lo = b - b_hi
    return product, ((a_hi * b_hi - product) + a_hi * b_lo + a_lo * b_hi) + a_lo * b_lo


def _dd_times(hi: np.ndarray, lo: np.ndarray, f_hi: float, f_lo: float) -> tuple[np.ndarray, np.ndarray]:
    """Double-double product ``(hi + lo) * (f_hi + f_lo)``, renormalised."""
    product, error = _two_product(hi, f_hi)
    error = error + (hi * f_lo + lo * f_hi)
    total = product + error
    return total, error - (total - product)


def powers(q_hi: float, j: np.ndarray, q_lo: float = 0.0) -> np.ndarray:
    """``q**j`` (``q = q_hi + q_lo`` in double-double) for integers ``j >= 0``, rounded to float64.

    Binary powering in double-double arithmetic (about 100 bits): only IEEE
    additions and multiplications in a fixed order, so the same bits on every
    machine (libm's ``pow`` may differ in the last bit), and ``q = 1 - p``
    carried exactly, so the powers are those of the given ``p``, not of
    ``1 - p`` rounded. Strictly falling with ``j`` for every ``p > 2**-52``
    (checked for each table).
    """
    bits = np.array(j, dtype=np.int64)
    hi = np.ones(bits.shape, dtype=np.float64)
    lo = np.zeros(bits.shape, dtype=np.float64)
    f_hi, f_lo = float(q_hi), float(q_lo)
    while bits.any():
        odd = (bits & 1).astype(bool)
        if odd.any():
            new_hi, new_lo = _dd_times(hi[odd], lo[odd], f_hi, f_lo)
            hi[odd], lo[odd] = new_hi, new_lo
        bits >>= 1
        f_hi, f_lo = _dd_times(np.array(f_hi), np.array(f_lo), f_hi, f_lo)
        f_hi, f_lo = float(f_hi), float(f_lo)
    # hi + lo is renormalised: hi is the double nearest the power.
    return hi


#: Tables up to this size are searched directly: a short binary search costs less than the estimate.
SEARCH_BELOW = 1024


class GapRule:
    """Geometric gaps between the spikes of a Bernoulli(p) train, from uniforms ``u``.

    The gap is ``g = 1 + #{j >= 1 : q**j >= 1 - u}`` with ``q = 1 - p`` and
    ``q**j`` from :func:`powers`: the inverse of the geometric law's
    distribution function ``P(g > j) = q**j``, evaluated by exact comparisons
    (``1 - u`` is exact in float64): the geometric law of ``p`` itself, up to
    the rounding of the thresholds to float64 (relative 2**-53). It replaces
    ``floor(log1p(-u) / log1p(-p)) + 1``, whose value depends on the last bit of
    a library's ``log1p``; the two give the same gap unless ``1 - u`` lies
    within these roundings of a threshold.

    While the count has at most :data:`TABLE_CAP` terms (``q**J < 2**-53 <= 1 - u``
    for the first such ``J``), the thresholds are kept ascending in
    :attr:`table` and the count is ``J - searchsorted(table, 1 - u)``: numpy's and
    torch's ``searchsorted`` compare exactly, so every device gives the same gaps.
    For smaller ``p`` (:attr:`table` is None) :meth:`gaps` starts at the
    logarithm's estimate and moves it by exact comparisons with :func:`powers`.

    Parameters
    ----------
    probability : float
        Spike probability per step, in [0, 1]. ``p = 0`` and ``p < 2**-54``
        (``1 - p`` rounds to 1; e.g. below 1e-10 Hz at dt = 0.1 ms) never spike
        (:attr:`active` is False).
    """

    def __init__(self, probability: float) -> None:
        self.probability = float(probability)
        self.q = 1.0 - self.probability
        # 1 - p exactly, as q + q_lo (Knuth's two-sum).
        back = self.q - 1.0
        self.q_lo = (1.0 - (self.q - back)) + (-self.probability - back)
        self.active = self.q < 1.0
        self.table: np.ndarray | None = None
        if not self.active:
            return
        if self.q == 0.0:
            self.table = np.zeros(1)  # p = 1: a spike every step
            return
        estimate = 53 * np.log(2.0) / -np.log1p(-self.probability)
        if estimate > TABLE_CAP:
            return
        size = int(estimate * (1 + 1e-9)) + 64
        thresholds = self.powers(np.arange(1, size + 1))
        below = np.flatnonzero(thresholds < SMALLEST)
        if below.size == 0 or np.any(np.diff(thresholds[: below[0] + 1]) >= 0):
            return  # never for p in the table's range; the search below is exact without it
        self.table = np.ascontiguousarray(thresholds[: below[0] + 1][::-1])

    def powers(self, j: np.ndarray) -> np.ndarray:
        """The thresholds ``q**j`` (:func:`powers` of the exact ``1 - p``)."""
        return powers(self.q, j, self.q_lo)

    def _table_count(self, x: np.ndarray) -> np.ndarray:
        """``#{j : q**j >= x}`` from the table: ``J - searchsorted(table, x)``, computed faster.

        The logarithm's estimate ``c = floor(log(x) / log(q))`` is kept where two
        exact comparisons confirm it (``q**c >= x > q**(c + 1)``, with ``q**j =
        table[J - j]``); the rare others are searched. Same counts as the search
        everywhere: the comparisons are its definition.
        """
        table, size = self.table, self.table.size  # type: ignore[union-attr]
        if size <= SEARCH_BELOW:
            return size - np.searchsorted(table, x, side="left")
        with np.errstate(divide="ignore", invalid="ignore"):
            estimate = np.floor(np.log(x) / np.log1p(-self.probability))
        count = np.clip(np.nan_to_num(estimate, nan=0.0), 0, size).astype(np.int64)
        at = table[np.minimum(size - count, size - 1)]  # q**count (unused where count == 0)
        after = table[np.maximum(size - count - 1, 0)]  # q**(count + 1) (unused where count == size)
        wrong = ~(((count == 0) | (at >= x)) & ((count == size) | (after < x)))
        if wrong.any():
            count[wrong] = size - np.searchsorted(table, x[wrong], side="left")
        return count

    def gaps(self, u: np.ndarray) -> np.ndarray:
        """Gaps (int64 steps, >= 1) for uniforms ``u`` in [0, 1) (any shape)."""
        x = 1.0 - np.asarray(u, dtype=np.float64)
        if self.table is not None:
            return self._table_count(x) + 1
        # The largest j with q**j >= x, from the logarithm's estimate: a few exact steps at most.
        with np.errstate(divide="ignore"):
            j = np.maximum(np.floor(np.log(x) / np.log1p(-self.probability)), 0).astype(np.int64)
        while True:
            up = self.powers(j + 1) >= x
            down = (j > 0) & (self.powers(j) < x)
            if not (up.any() or down.any()):
                return j + 1
            j = j + up - down


@functools.lru_cache(maxsize=8)
def gap_rule(probability: float) -> GapRule:
    """The :class:`GapRule` of a spike probability, built once (a table takes up to ~1 s)."""
    return GapRule(probability)


class PoissonTrains:
    """Independent Poisson spike trains on a time grid, advanced chunk by chunk.

    Neuron ``i`` of stream ``T`` (a trial seed) spikes first at step
    ``origin + g_0 - 1`` and then every ``g_k`` steps, with geometric gaps
    ``g_k`` (:class:`GapRule`) drawn from ``u_k = uniform(seed, T, i, k)``: a
    Bernoulli(p) spike in every step.

    Parameters
    ----------
    seed : int
        The source's seed.
    streams : sequence of int
        One stream (trial seed) per trial.
    size : int
        Neurons per trial.
    probability : float
        Spike probability per step, in [0, 1].
    origin, end : int
        Steps ``origin <= s < end`` may hold spikes (``end`` may be huge).
    """

    def __init__(self, seed: int, streams: np.ndarray, size: int, probability: float, origin: int, end: float) -> None:
        self.seed = seed
        self.streams = np.asarray(streams, dtype=np.int64).reshape(-1, 1)
        self.rows = np.arange(size, dtype=np.int64).reshape(1, -1)
        self.end = end
        self.rule = gap_rule(float(probability))
        self.active = self.rule.active
        self.count = np.zeros((self.streams.size, size), dtype=np.int64)
        self.next = origin - 1 + self._gaps(self.streams, self.rows, self.count)

    def _gaps(self, streams: np.ndarray, rows: np.ndarray, count: np.ndarray) -> np.ndarray:
        if not self.active:
            # Never spikes: the first spike lies past any step (and past int64 overflow when advanced).
            return np.full(np.broadcast_shapes(np.shape(streams), np.shape(rows)), 2**62, dtype=np.int64)
        return self.rule.gaps(uniform_numpy(self.seed, streams, rows, count))

    def advance(self, stop: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Spikes with step < ``stop`` not returned before: (trial, neuron, step), sorted by step."""
        parts: list[tuple[np.ndarray, np.ndarray, np.ndarray]] = []
        stop = int(min(stop, self.end))
        while self.active:
            trial, neuron = np.nonzero(self.next < stop)
            if trial.size == 0:
                break
            parts.append((trial, neuron, self.next[trial, neuron].copy()))
            self.count[trial, neuron] += 1
            self.next[trial, neuron] += self._gaps(self.streams[trial, 0], neuron, self.count[trial, neuron])
        if not parts:
            empty = np.zeros(0, dtype=np.int64)
            return empty, empty.copy(), empty.copy()
        trial, neuron, step = (np.concatenate(p) for p in zip(*parts))
        order = np.lexsort((neuron, trial, step))
        return trial[order], neuron[order], step[order]


def poisson_ticks(
    seed: int, stream: int, size: int, probability: float, first_step: int, last_step: int, origin: int | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """Spiking (neuron, step) pairs of one trial's trains for steps in [first, last).

    The trains start at ``origin`` (default ``first_step``): the source's first step.

    Returns
    -------
    neuron, step : arrays of int64, sorted by step then neuron.
    """
    origin = first_step if origin is None else origin
    trains = PoissonTrains(seed, np.array([stream]), size, probability, origin, last_step)
    _, neuron, step = trains.advance(last_step)
    keep = step >= first_step
    return neuron[keep], step[keep]
