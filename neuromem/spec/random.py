"""Counter-based random numbers shared by every backend.

A uniform number is a pure function of (seed, stream, row, step): the
SplitMix64 finaliser applied to a mixed 64-bit key. Every backend (numpy for
Brian2 and the exporters, torch on CPU or CUDA) evaluates the same function,
so Poisson inputs are identical across backends, devices and batch layouts:
trial ``b`` of a batch draws what a single run with that trial's seed draws.
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


def _key(seed: int, stream: int) -> int:
    return (seed * _GOLDEN + stream * _MUL2 + 0x632BE59BD9B4E019) & _MASK64


def uniform_numpy(seed: int, stream: int, rows: np.ndarray, steps: np.ndarray) -> np.ndarray:
    """Uniform numbers in [0, 1) for every (row, step) pair (broadcast).

    Parameters
    ----------
    seed, stream : int
        The generator's key: e.g. a source's seed and the trial index.
    rows, steps : array of int
        Neuron indices and step indices, broadcast against each other.
    """
    rows = np.asarray(rows, dtype=np.uint64)
    steps = np.asarray(steps, dtype=np.uint64)
    with np.errstate(over="ignore"):
        x = np.uint64(_key(seed, stream)) + rows * np.uint64(_GOLDEN) + steps * np.uint64(_MUL1)
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


def poisson_ticks(
    seed: int, stream: int, size: int, probability: float, first_step: int, last_step: int
) -> tuple[np.ndarray, np.ndarray]:
    """Spiking (neuron, step) pairs of Poisson trains for steps in [first, last).

    Returns
    -------
    neuron, step : arrays of int64, sorted by step then neuron.
    """
    if last_step <= first_step or probability <= 0.0:
        empty = np.zeros(0, dtype=np.int64)
        return empty, empty
    steps = np.arange(first_step, last_step, dtype=np.int64)
    draws = uniform_numpy(seed, stream, np.arange(size)[None, :], steps[:, None])
    step_idx, neuron = np.nonzero(draws < probability)
    return neuron.astype(np.int64), steps[step_idx]
