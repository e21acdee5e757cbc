"""Current sources: PyNN's DCSource and StepCurrentSource.

A current source adds a step-wise constant current (nA) to the neurons it is
injected into. The plan hands each one to the engine as a spec
``StepCurrentSource`` (:meth:`CurrentSource.schedule`: switch ticks and the
amplitude from each on), so a run is never cut where a current changes. Step ``n`` (from ``n dt`` to
``(n+1) dt``) integrates the current in force at ``n dt``:

* ``DCSource(amplitude, start, stop)``: ``amplitude`` for ``start <= n dt < stop``.
* ``StepCurrentSource(times, amplitudes)``: ``amplitudes[k]`` from ``times[k]``
  (rounded to the step grid; of several times in one step the last wins) until
  the next time; zero before the first.

Parameters changed between runs take effect from the current time on; the
recorded current (``get_data``) keeps what was applied before.
"""

from __future__ import annotations

import numpy as np
from pyNN import common
from pyNN.parameters import ParameterSpace, Sequence
from pyNN.standardmodels import StandardCurrentSource, electrodes

from neuromem.pynn.simulator import state
from neuromem.pynn.standardmodels import _identity


class CurrentSource(StandardCurrentSource):
    """Shared machinery: native parameters, targets, the trace of applied current."""

    def __init__(self, **parameters: object) -> None:
        super().__init__(**parameters)
        self._native: dict[str, object] = {}
        self._targets: list[tuple[common.Population, np.ndarray]] = []
        self._trace: list[tuple[int, float]] = []
        self._recording = False
        state.current_sources.append(self)
        space = ParameterSpace(self.default_parameters, self.get_schema(), shape=(1,))
        space.update(**parameters)
        self.set_native_parameters(self.translate(space))

    # -- parameters ----------------------------------------------------------------------

    def get_native_parameters(self) -> ParameterSpace:
        return ParameterSpace(dict(self._native))

    def set_native_parameters(self, parameters: ParameterSpace) -> None:
        parameters.evaluate(simplify=True)
        values = {}
        for name, value in parameters.items():
            values[name] = np.asarray(value.value, dtype=np.float64) if isinstance(value, Sequence) else value
        self._native.update(self._checked(values))
        state.changed()

    def _checked(self, values: dict[str, object]) -> dict[str, object]:
        return values

    # -- targets -------------------------------------------------------------------------

    def inject_into(self, cells: object) -> None:
        """Inject this current into a Population, PopulationView, Assembly or list of cells."""
        by_population: dict[int, tuple[common.Population, list[int]]] = {}
        for cell in cells:  # type: ignore[attr-defined]
            population = cell.parent
            if not population.celltype.injectable:
                raise TypeError("Can't inject current into a spike source.")
            entry = by_population.setdefault(id(population), (population, []))
            entry[1].append(int(population.id_to_index(cell)))
        for population, indices in by_population.values():
            self._targets.append((population, np.unique(np.asarray(indices, dtype=np.int64))))
        state.changed()

    def targets_of(self, population: common.Population) -> np.ndarray:
        """Indices of the neurons of ``population`` this source injects into."""
        parts = [indices for target, indices in self._targets if target is population]
        return np.unique(np.concatenate(parts)) if parts else np.zeros(0, dtype=np.int64)

    # -- the current ---------------------------------------------------------------------

    def amplitude_at(self, tick: int) -> float:
        """Current (nA) in force during step ``tick``."""
        raise NotImplementedError

    def change_ticks(self) -> np.ndarray:
        """Ticks at which the current may change."""
        raise NotImplementedError

    def schedule(self) -> tuple[np.ndarray, np.ndarray]:
        """Switch ticks (strictly increasing) and the current (nA) from each on; zero before the first."""
        ticks = np.unique(self.change_ticks())
        ticks = ticks[ticks >= 0]
        amplitudes = np.array([self.amplitude_at(int(t)) for t in ticks])
        # Drop switches that change nothing (a DCSource starting at tick 0 keeps its first entry).
        keep = np.ones(ticks.size, dtype=bool)
        keep[1:] = np.diff(amplitudes) != 0
        keep[0] = amplitudes[0] != 0 if ticks.size else True
        return ticks[keep], amplitudes[keep]

    def _tick(self, time: float) -> int:
        return int(round(float(time) / state.dt))

    def _applied(self, first_tick: int, amplitude: float) -> None:
        """Note that ``amplitude`` (nA) was applied from ``first_tick`` on."""
        if not self._trace or self._trace[-1][1] != amplitude:
            self._trace.append((first_tick, amplitude))

    def _reset(self) -> None:
        self._trace = []

    def record(self) -> None:
        """Keep the injected current for :meth:`get_data` (it is always kept; PyNN asks for this call)."""
        self._recording = True

    def _get_data(self) -> tuple[np.ndarray, np.ndarray]:
        """Times (ms) and injected current (nA) of every step from 0 to now, both ends included."""
        steps = state.tick
        amplitudes = np.zeros(steps + 1)
        for k, (first, amplitude) in enumerate(self._trace):
            last = self._trace[k + 1][0] if k + 1 < len(self._trace) else steps
            amplitudes[first:last] = amplitude
        amplitudes[steps] = self.amplitude_at(steps)
        return np.arange(steps + 1) * state.dt, amplitudes


class DCSource(CurrentSource, electrodes.DCSource):
    __doc__ = electrodes.DCSource.__doc__
    translations = _identity("amplitude", "start", "stop")

    def amplitude_at(self, tick: int) -> float:
        start, stop = self._tick(self._native["start"]), self._tick(self._native["stop"])
        return float(self._native["amplitude"]) if start <= tick < stop else 0.0

    def change_ticks(self) -> np.ndarray:
        return np.array([self._tick(self._native["start"]), self._tick(self._native["stop"])], dtype=np.int64)


class StepCurrentSource(CurrentSource, electrodes.StepCurrentSource):
    __doc__ = electrodes.StepCurrentSource.__doc__
    translations = _identity("amplitudes", "times")

    def _checked(self, values: dict[str, object]) -> dict[str, object]:
        times = np.atleast_1d(np.asarray(values.get("times", self._native.get("times", [])), dtype=np.float64))
        amplitudes = np.atleast_1d(
            np.asarray(values.get("amplitudes", self._native.get("amplitudes", [])), dtype=np.float64)
        )
        if times.shape != amplitudes.shape:
            raise ValueError(
                f"StepCurrentSource: {times.size} times but {amplitudes.size} amplitudes; give one amplitude per time"
            )
        if not (times >= 0.0).all():
            raise ValueError("Step current cannot accept negative timestamps.")
        if not (np.diff(times) > 0.0).all():
            raise ValueError("Step current timestamps should be monotonically increasing.")
        grid = self._round_timestamp(times, state.dt)
        # Several times in one step: the last one given wins (as on PyNN's other simulators).
        kept, index = np.unique(grid[::-1], return_index=True)
        return {"times": kept, "amplitudes": amplitudes[::-1][index]}

    def amplitude_at(self, tick: int) -> float:
        ticks = np.rint(np.asarray(self._native["times"]) / state.dt).astype(np.int64)
        k = int(np.searchsorted(ticks, tick, side="right")) - 1
        return float(np.asarray(self._native["amplitudes"])[k]) if k >= 0 else 0.0

    def change_ticks(self) -> np.ndarray:
        return np.rint(np.asarray(self._native["times"]) / state.dt).astype(np.int64)


__all__ = ["CurrentSource", "DCSource", "StepCurrentSource"]
