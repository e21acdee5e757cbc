"""Counter-based random numbers shared by every backend.

A uniform number is a pure function of (seed, stream, row, counter): the
SplitMix64 finaliser applied to a mixed 64-bit key. Every backend evaluates the
same function, so Poisson inputs are identical across backends, devices and
batch layouts: trial ``b`` of a batch draws what a single run with that trial's
seed draws.

Poisson trains are drawn as geometric gaps between spikes (one number per
spike, not one per step), always by :class:`PoissonTrains` in numpy float64,
so every backend gets bit-identical trains whatever its device.
"""

from __future__ import annotations

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


class PoissonTrains:
    """Independent Poisson spike trains on a time grid, advanced chunk by chunk.

    Neuron ``i`` of stream ``T`` (a trial seed) spikes first at step
    ``origin + g_0 - 1`` and then every ``g_k`` steps, with geometric gaps
    ``g_k = floor(log(1 - u_k) / log(1 - p)) + 1`` drawn from
    ``u_k = uniform(seed, T, i, k)``: a Bernoulli(p) spike in every step.

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
        self.log_q = np.log1p(-probability) if probability < 1.0 else -np.inf
        self.active = probability > 0.0
        self.count = np.zeros((self.streams.size, size), dtype=np.int64)
        self.next = origin - 1 + self._gaps(self.streams, self.rows, self.count)

    def _gaps(self, streams: np.ndarray, rows: np.ndarray, count: np.ndarray) -> np.ndarray:
        u = uniform_numpy(self.seed, streams, rows, count)
        with np.errstate(divide="ignore"):
            return (np.floor(np.log1p(-u) / self.log_q) + 1).astype(np.int64)

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
