"""Current sources: currents injected into a population or some of its neurons.

PyNN's ``DCSource`` and ``StepCurrentSource`` with PyNN's names and units
(nA, ms). A current source is part of the :class:`~neuromem.spec.Network`
(``Network(current_sources=...)``) and names its target population; it adds
to the target cells' ``i_offset``, held constant over each step: the step
from ``n dt`` to ``(n+1) dt`` sees the amplitude in force at ``n dt``.
Switch times must lie on the time grid of the run (checked by
``Network.validate(dt)``).

Examples
--------
>>> pulse = DCSource("pulse", "cells", amplitude=0.5, start=10.0, stop=60.0, neurons=[0, 2])
>>> ramp = StepCurrentSource("ramp", "cells", times=[5.0, 10.0, 20.0], amplitudes=[0.1, 0.2, 0.0])
>>> ramp.changes(0.1)
(array([ 50, 100, 200]), array([0.1, 0.2, 0. ]))
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from neuromem.errors import ValidationError
from neuromem.spec import checks
from neuromem.spec.base import SpecObject, register


class CurrentSource(SpecObject):
    """Base of the current sources: a name, a target population, optional neuron indices."""

    name: str
    target: str
    neurons: np.ndarray | None

    def changes(self, dt: float) -> tuple[np.ndarray, np.ndarray]:
        """Ticks at which the current changes and the amplitude (nA) from each on."""
        raise NotImplementedError

    def switch_times(self) -> np.ndarray:
        """Every time (ms) at which the current changes (must lie on the time grid)."""
        raise NotImplementedError

    def _check_common(self) -> None:
        kind = type(self).__name__
        checks.name(kind, "name", self.name)
        owner = f"{kind} {self.name!r}"
        checks.name(owner, "target", self.target)
        if self.neurons is not None:
            neurons = np.asarray(self.neurons)
            if neurons.ndim != 1 or neurons.size == 0:
                raise ValidationError(f"{owner}: neurons must be a non-empty list of indices or None (all)")
            index = checks.index_array(owner, "neurons", neurons, np.iinfo(np.int64).max)
            if np.unique(index).size != index.size:
                raise ValidationError(f"{owner}: neurons lists an index twice")
            object.__setattr__(self, "neurons", index)

    def indices(self, size: int) -> np.ndarray:
        """Indices of the target neurons in a population of ``size``."""
        return np.arange(size, dtype=np.int64) if self.neurons is None else np.asarray(self.neurons)


@register
@dataclass(frozen=True, eq=False)
class DCSource(CurrentSource):
    """A constant current ``amplitude`` (nA) from ``start`` to ``stop`` (ms), PyNN ``DCSource``.

    Parameters
    ----------
    name : str
        Label.
    target : str
        Population the current is injected into (not a spike source).
    amplitude : float
        Current (nA); the sign is the direction (positive depolarises).
    start, stop : float
        The current flows in steps starting at ``start <= n dt < stop`` (ms);
        ``stop = inf`` for the whole run.
    neurons : array of int or None
        Indices of the target neurons; None for every neuron of ``target``.
    """

    name: str
    target: str
    amplitude: float = 1.0
    start: float = 0.0
    stop: float = math.inf
    neurons: np.ndarray | None = None

    def __post_init__(self) -> None:
        self._check_common()
        owner = f"DCSource {self.name!r}"
        object.__setattr__(self, "amplitude", checks.finite(owner, "amplitude", self.amplitude))
        object.__setattr__(self, "start", checks.non_negative(owner, "start", self.start, "ms"))
        stop = checks.positive_or_infinite(owner, "stop", self.stop, "ms")
        if stop <= self.start:
            raise ValidationError(f"{owner}: stop = {self.stop!r} ms must be after start = {self.start:g} ms")
        object.__setattr__(self, "stop", stop)

    def switch_times(self) -> np.ndarray:
        return np.array([self.start] + ([] if math.isinf(self.stop) else [self.stop]))

    def changes(self, dt: float) -> tuple[np.ndarray, np.ndarray]:
        ticks = [int(round(self.start / dt))]
        values = [self.amplitude]
        if not math.isinf(self.stop):
            ticks.append(int(round(self.stop / dt)))
            values.append(0.0)
        return np.array(ticks, dtype=np.int64), np.array(values)


@register
@dataclass(frozen=True, eq=False)
class StepCurrentSource(CurrentSource):
    """A piecewise-constant current (PyNN ``StepCurrentSource``).

    Zero until ``times[0]``; ``amplitudes[k]`` (nA) from ``times[k]`` (ms) on,
    the last amplitude until the end of the run.

    Parameters
    ----------
    name, target, neurons
        As for :class:`DCSource`.
    times : array of float
        Switch times (ms), >= 0, strictly increasing.
    amplitudes : array of float
        Current from each switch time on (nA), one per time.
    """

    name: str
    target: str
    times: np.ndarray
    amplitudes: np.ndarray
    neurons: np.ndarray | None = None

    def __post_init__(self) -> None:
        self._check_common()
        owner = f"StepCurrentSource {self.name!r}"
        times = checks.float_array(owner, "times", self.times, "ms").ravel()
        amplitudes = checks.float_array(owner, "amplitudes", self.amplitudes, "nA").ravel()
        if times.size == 0 or times.size != amplitudes.size:
            raise ValidationError(
                f"{owner}: times has {times.size} values and amplitudes {amplitudes.size}; give one amplitude"
                " per time, at least one"
            )
        if times.min() < 0.0 or np.any(np.diff(times) <= 0.0):
            raise ValidationError(f"{owner}: times must be >= 0 ms and strictly increasing")
        object.__setattr__(self, "times", times)
        object.__setattr__(self, "amplitudes", amplitudes)

    def switch_times(self) -> np.ndarray:
        return np.asarray(self.times)

    def changes(self, dt: float) -> tuple[np.ndarray, np.ndarray]:
        return np.rint(np.asarray(self.times) / dt).astype(np.int64), np.array(self.amplitudes, dtype=np.float64)


CURRENT_SOURCE_TYPES = (DCSource, StepCurrentSource)


def injected_current(sources: tuple[CurrentSource, ...], target: str, size: int, dt: float, tick: int) -> np.ndarray:
    """Current (nA) of each neuron of population ``target`` during step ``tick``.

    The sum, in the order of ``sources``, of the amplitude each source
    targeting the population has in force at ``tick``; every backend and
    exporter computes the current here, so they add in the same order.
    """
    current = np.zeros(size)
    for source in sources:
        if source.target != target:
            continue
        switch, amplitude = source.changes(dt)
        active = np.nonzero(switch <= tick)[0]
        if active.size:
            current[source.indices(size)] += amplitude[active[-1]]
    return current


def switch_ticks(sources: tuple[CurrentSource, ...], target: str, dt: float) -> list[int]:
    """Sorted ticks at which the current of population ``target`` may change."""
    return sorted({int(t) for s in sources if s.target == target for t in s.changes(dt)[0]})
