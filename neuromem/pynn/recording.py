"""Recording: what the engine recorded, kept per population and handed to PyNN as Neo.

Time labels are NEST's (``pyNN.nest`` with ``spike_precision="on_grid"``): a
spike found in the step from ``n dt`` to ``(n+1) dt`` is stamped ``(n+1) dt``;
a signal has one sample per sampling interval from the start of the recording,
the first being the value at that instant (the initial value after ``setup``
or ``reset``).

With ``setup(batch=B)``, B trials run at once; ``get_data()`` then returns B
segments per run segment, annotated ``trial=b`` (the PyNN calls that return one
value, such as ``get_spike_counts()``, report trial 0).
"""

from __future__ import annotations

from copy import deepcopy
from datetime import datetime

import neo
import numpy as np
import quantities as pq
from pyNN import recording

from neuromem.pynn import simulator
from neuromem.pynn.errors import InvalidParameterValue

state = simulator.state


class Recorder(recording.Recorder):
    """Spikes and signals of one population since the last ``reset``/``clear``."""

    _simulator = simulator

    def __init__(self, population: object, file: object = None) -> None:
        super().__init__(population, file)
        self._trial = 0
        self._start_data()

    def _start_data(self, first: dict[str, np.ndarray] | None = None) -> None:
        self._spikes: list[np.ndarray] = []
        self._signals: dict[str, list[np.ndarray]] = {}
        self._first: dict[str, np.ndarray] = dict(first or {})
        self._since: dict[str, int] = {name: state.tick for name in self._first}

    # -- what PyNN asks to record ----------------------------------------------------------

    def record(
        self, variables: object, ids: object, sampling_interval: float | None = None, locations: object = None
    ) -> None:
        if sampling_interval is not None:
            ratio = sampling_interval / state.dt
            if ratio < 1 - 1e-9 or abs(ratio - round(ratio)) > 1e-6:
                raise InvalidParameterValue(
                    f"record: sampling_interval = {sampling_interval!r} ms must be a whole multiple of the time step"
                    f" ({state.dt:g} ms)"
                )
        super().record(variables, ids, sampling_interval, locations)

    def _record(self, variable: recording.Variable, new_ids: object, sampling_interval: float | None = None) -> None:
        if sampling_interval is not None:
            self.sampling_interval = float(sampling_interval)
        state.changed()

    def _reset(self) -> None:
        state.changed()

    def recorded_variables(self) -> list[str]:
        """PyNN names of the variables recorded from at least one neuron."""
        return sorted({v.name for v, ids in self.recorded.items() if ids})

    def recorded_indices(self, name: str) -> np.ndarray:
        """Indices (in the population) of the neurons whose ``name`` is recorded."""
        ids = set().union(*(ids for v, ids in self.recorded.items() if v.name == name))
        return np.sort(np.asarray([int(i) for i in ids], dtype=np.int64)) - int(self.population.first_id)

    # -- data from the session ---------------------------------------------------------------

    def needs_first(self, name: str) -> bool:
        """Whether the recording of signal ``name`` starts now (its first sample is still missing)."""
        return name not in self._first

    def start_signal(self, name: str, values: np.ndarray) -> None:
        """First sample (trials, neurons) of signal ``name``, taken at the current tick."""
        self._first[name] = np.array(values, dtype=np.float64)
        self._since[name] = state.tick

    def add_spikes(self, trial: np.ndarray, index: np.ndarray, tick: np.ndarray) -> None:
        """Spikes of one run piece: trial, neuron index in the population, tick of the step."""
        self._spikes.append(np.stack([trial, index, tick]).astype(np.int64))

    def add_signal(self, name: str, values: np.ndarray) -> None:
        """Samples (trials, steps, neurons) after each step of one run piece."""
        self._signals.setdefault(name, []).append(values)

    def new_segment(self) -> None:
        """A ``reset``: forget the data (already cached as a segment); signals restart from the initial values."""
        first = {}
        for name in self._first:
            initial = self.population.initial_values[name].evaluate(simplify=False)
            first[name] = np.broadcast_to(np.asarray(initial, dtype=np.float64), (state.batch, self.population.size))
        self._start_data(first)

    # -- PyNN's queries -----------------------------------------------------------------------

    def _spike_array(self) -> np.ndarray:
        if not self._spikes:
            return np.zeros((3, 0), dtype=np.int64)
        data = np.concatenate(self._spikes, axis=1)
        return data[:, data[0] == self._trial]

    def _get_spiketimes(self, ids: list, clear: bool = False) -> tuple[np.ndarray, np.ndarray]:
        _, index, tick = self._spike_array()
        id_array = index + int(self.population.first_id)
        keep = np.isin(id_array, np.asarray(ids, dtype=np.int64))
        order = np.argsort(tick[keep], kind="stable")
        return id_array[keep][order], (tick[keep][order] + 1) * state.dt

    def _local_count(self, variable: recording.Variable, filter_ids: object = None) -> dict[int, int]:
        _, index, _ = self._spike_array()
        counts = np.bincount(index, minlength=self.population.size)
        first = int(self.population.first_id)
        return {int(i): int(counts[int(i) - first]) for i in self.filter_recorded(variable, filter_ids)}

    def _get_all_signals(self, variable: recording.Variable, ids: list, clear: bool = False) -> tuple:
        name = variable.name
        start = int(round(float(self._recording_start_time.rescale(pq.ms).magnitude) / state.dt))
        samples = np.full((state.tick - start + 1, self.population.size), np.nan)
        if name in self._first:
            since = self._since[name] - start
            parts = [self._first[name][self._trial][None]] + [s[self._trial] for s in self._signals.get(name, [])]
            data = np.concatenate(parts)
            samples[since : since + data.shape[0]] = data
        stride = int(round(self.sampling_interval / state.dt))
        columns = np.asarray(ids, dtype=np.int64) - int(self.population.first_id)
        return samples[::stride][:, columns], None

    def _clear_simulator(self) -> None:
        last = {}
        for name, first in self._first.items():
            parts = self._signals.get(name)
            last[name] = parts[-1][:, -1] if parts else first
        self._start_data(last)

    # -- segments per trial -----------------------------------------------------------------

    def _segment_of_trial(self, trial: int, **kwargs: object) -> neo.Segment:
        self._trial = trial
        try:
            segment = self._get_current_segment(**kwargs)
        finally:
            self._trial = 0
        if state.batch > 1:
            segment.annotate(trial=trial)
        return segment

    def store_to_cache(self, annotations: dict | None = None) -> None:
        if state.t != 0 and not self.clear_flag:
            for trial in range(state.batch):
                segment = self._segment_of_trial(trial)
                segment.annotate(**(annotations or {}))
                self.cache.store(segment)
        self.clear_flag = False
        self._recording_start_time = 0.0 * pq.ms

    def get(
        self,
        variables: object,
        gather: bool = False,
        filter_ids: object = None,
        clear: bool = False,
        annotations: dict | None = None,
        locations: object = None,
    ) -> neo.Block:
        """The recorded data as a Neo Block: cached segments, then the current one (per trial)."""
        if variables == "all":
            chosen = "all"
        else:
            chosen = self._localize_variables(variables, locations)
        block = neo.Block()
        segments = [_only(segment, chosen) for segment in self.cache]
        if state.running:
            segments += [
                self._segment_of_trial(trial, filter_ids=filter_ids, variables=chosen) for trial in range(state.batch)
            ]
        block.segments = segments
        for segment in block.segments:
            segment.block = block
        block.name = self.population.label
        block.description = self.population.describe()
        block.rec_datetime = block.segments[0].rec_datetime if block.segments else datetime.now()
        block.annotate(**self.metadata)
        if annotations:
            block.annotate(**annotations)
        if clear:
            self.clear()
        return block


def _only(segment: neo.Segment, variables: object) -> neo.Segment:
    """A copy of a cached segment with only ``variables`` (by name; "all" keeps everything).

    A copy, not a shallow one: Neo's list setters empty the shared lists in place, which would
    erase the cache (PyNN's own ``filter_by_variables`` compares names with Variable tuples and
    keeps no signal at all).
    """
    if variables == "all":
        return segment
    names = {variable.name for variable in variables}  # type: ignore[attr-defined]
    kept = deepcopy(segment)
    if "spikes" not in names:
        kept.spiketrains = []
    kept.analogsignals = [signal for signal in kept.analogsignals if signal.name in names]
    return kept


__all__ = ["Recorder"]
