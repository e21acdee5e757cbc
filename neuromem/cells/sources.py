"""Spike sources: explicit spike times and Poisson trains (PyNN names and units).

Spike sources have no membrane and receive no synapses; every backend and
exporter reads their spikes through :meth:`SpikeSourceArray.ticks` or the
shared counter-based Poisson generator (:mod:`neuromem.spec.random`).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from neuromem.errors import ValidationError
from neuromem.spec import checks
from neuromem.spec.base import SpecObject, register


@register
@dataclass(frozen=True, eq=False)
class SpikeSourceArray(SpecObject):
    """Neurons that emit spikes at given times (PyNN ``SpikeSourceArray``).

    Stored flat: spike ``k`` is emitted by neuron ``neuron[k]`` at ``times_ms[k]``.
    A spike at time t is emitted at tick ``round(t / dt)``.

    Parameters
    ----------
    size : int
        Number of source neurons, >= 1.
    neuron : array of int
        Index of the emitting neuron per spike, in ``0..size-1``.
    times_ms : array of float
        Spike time per spike (ms), >= 0.

    Examples
    --------
    >>> src = SpikeSourceArray.from_lists([[0.0, 1.0, 2.0], [], [5.0]])
    >>> src.size, src.spike_lists()[2]
    (3, [5.0])
    """

    size: int
    neuron: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    times_ms: np.ndarray = field(default_factory=lambda: np.zeros(0))

    def __post_init__(self) -> None:
        owner = "SpikeSourceArray"
        object.__setattr__(self, "size", checks.count(owner, "size", self.size))
        neuron = checks.index_array(owner, "neuron", self.neuron, self.size)
        times = checks.float_array(owner, "times_ms", self.times_ms, "ms").ravel()
        if neuron.shape != times.shape:
            raise ValidationError(
                f"{owner}: neuron has {neuron.size} entries but times_ms has {times.size}; they must match"
            )
        if times.size and times.min() < 0.0:
            raise ValidationError(f"{owner}: times_ms holds {times.min():g} ms; spike times must be >= 0")
        order = np.lexsort((neuron, times))
        neuron, times = neuron[order], times[order]
        neuron.setflags(write=False)
        times.setflags(write=False)
        object.__setattr__(self, "neuron", neuron)
        object.__setattr__(self, "times_ms", times)

    @classmethod
    def from_lists(cls, spike_times: Sequence[Sequence[float]]) -> SpikeSourceArray:
        """Build from one list of spike times (ms) per neuron."""
        if len(spike_times) == 0:
            raise ValidationError("SpikeSourceArray: spike_times needs at least one neuron")
        neuron = np.concatenate([np.full(len(times), i, dtype=np.int64) for i, times in enumerate(spike_times)])
        times = np.concatenate([np.asarray(t, dtype=np.float64).ravel() for t in spike_times])
        return cls(size=len(spike_times), neuron=neuron, times_ms=times)

    def spike_lists(self) -> list[list[float]]:
        """One sorted list of spike times (ms) per neuron."""
        lists: list[list[float]] = [[] for _ in range(self.size)]
        for i, t in zip(self.neuron.tolist(), self.times_ms.tolist()):
            lists[i].append(t)
        return lists

    def ticks(self, dt: float) -> np.ndarray:
        """Emission tick of every spike for time step ``dt`` (ms)."""
        return np.rint(self.times_ms / dt).astype(np.int64)


@register
@dataclass(frozen=True, eq=False)
class SpikeSourcePoisson(SpecObject):
    """Independent Poisson spike trains (PyNN ``SpikeSourcePoisson``).

    In each step of length ``dt`` inside ``[start, start + duration)`` a
    neuron spikes with probability ``rate * dt / 1000``. The random numbers come
    from :func:`neuromem.spec.random.uniform`, a counter-based generator keyed
    by (seed, trial, neuron, step), so every backend and every batch layout
    draws the very same trains.

    Parameters
    ----------
    size : int
        Number of source neurons, >= 1.
    rate : float
        Firing rate (Hz), >= 0.
    start : float
        Start of firing (ms), >= 0.
    duration : float
        Length of the firing period (ms), > 0; ``inf`` for the whole run.
    seed : int
        Seed of the trains, >= 0.
    """

    size: int
    rate: float
    start: float = 0.0
    duration: float = math.inf
    seed: int = 0

    def __post_init__(self) -> None:
        owner = "SpikeSourcePoisson"
        object.__setattr__(self, "size", checks.count(owner, "size", self.size))
        object.__setattr__(self, "rate", checks.non_negative(owner, "rate", self.rate, "Hz"))
        object.__setattr__(self, "start", checks.non_negative(owner, "start", self.start, "ms"))
        duration = checks.positive_or_infinite(owner, "duration", self.duration, "ms")
        object.__setattr__(self, "duration", duration)
        object.__setattr__(self, "seed", checks.count(owner, "seed", self.seed, minimum=0))

    def probability(self, dt: float) -> float:
        """Spike probability per step of ``dt`` ms (clipped to 1)."""
        return min(1.0, self.rate * dt / 1000.0)


SOURCE_TYPES = (SpikeSourceArray, SpikeSourcePoisson)
