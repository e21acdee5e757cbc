"""Recordings: spikes as (trial, neuron, tick) arrays, traces and weight snapshots.

A :class:`Recording` is what every backend returns from ``run``. Ticks are
absolute step indices since the simulation started (time = tick * dt ms).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from neuromem import fileformat
from neuromem.errors import FileFormatError, ValidationError

SCHEMA = "neuromem.recording"
#: 1: the first layout (header fields at the top level); 2: :mod:`neuromem.fileformat`, trace sampling.
SCHEMA_VERSION = 2
#: Recordings smaller than this (bytes) are saved compressed by default.
COMPRESS_BELOW = 64 * 10**6


@dataclass(frozen=True)
class SpikeTrains:
    """Spikes of one population: spike k is (trial[k], neuron[k], tick[k]).

    Sorted by trial, then tick, then neuron.
    """

    trial: np.ndarray
    neuron: np.ndarray
    tick: np.ndarray

    @classmethod
    def empty(cls) -> SpikeTrains:
        zero = np.zeros(0, dtype=np.int64)
        return cls(zero, zero.copy(), zero.copy())

    @classmethod
    def from_arrays(cls, trial: np.ndarray, neuron: np.ndarray, tick: np.ndarray) -> SpikeTrains:
        trial, neuron, tick = (np.asarray(a, dtype=np.int64).ravel() for a in (trial, neuron, tick))
        order = np.lexsort((neuron, tick, trial))
        return cls(trial[order], neuron[order], tick[order])

    def __len__(self) -> int:
        return int(self.tick.size)

    def of_trial(self, trial: int) -> SpikeTrains:
        """The spikes of one trial."""
        keep = self.trial == trial
        return SpikeTrains(self.trial[keep], self.neuron[keep], self.tick[keep])

    def pairs(self, trial: int = 0) -> set[tuple[int, int]]:
        """Set of (neuron, tick) of one trial, handy for exact comparisons."""
        keep = self.trial == trial
        return set(zip(self.neuron[keep].tolist(), self.tick[keep].tolist()))

    def counts(self, size: int, trials: int) -> np.ndarray:
        """Spike count per (trial, neuron), shape (trials, size)."""
        result = np.zeros((trials, size), dtype=np.int64)
        np.add.at(result, (self.trial, self.neuron), 1)
        return result

    def concat(self, other: SpikeTrains) -> SpikeTrains:
        return SpikeTrains.from_arrays(
            np.concatenate([self.trial, other.trial]),
            np.concatenate([self.neuron, other.neuron]),
            np.concatenate([self.tick, other.tick]),
        )


def stack_snapshots(snapshots: dict[str, list[tuple[int, np.ndarray]]]) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """Weight snapshots [(tick, (trials, synapses)), ...] as (ticks, (snapshots, trials, synapses)) per projection."""
    return {
        name: (np.array([t for t, _ in shots], dtype=np.int64), np.stack([w for _, w in shots]))
        for name, shots in snapshots.items()
    }


@dataclass
class Recording:
    """What a run recorded.

    Attributes
    ----------
    dt : float
        Time step (ms), > 0.
    start_tick, stop_tick : int
        The run covered ticks ``start_tick .. stop_tick - 1`` (0 <= start <= stop).
    batch_size : int
        Number of independent trials (>= 1).
    sizes : dict
        Population name -> number of neurons (>= 1).
    spikes : dict of SpikeTrains
        Per population.
    traces : dict
        ``(population, variable)`` -> array (trials, samples, neurons) in mV or nA;
        sample j is the state at the end of tick ``trace_ticks(population, variable)[j]``.
    weights : dict
        Projection -> (ticks array, array (snapshots, trials, synapses)) in nA.
    trace_every : dict
        ``(population, variable)`` -> steps between trace samples (default 1:
        every tick). Samples are taken at the ticks that are multiples of it.

    Every field is checked on construction (ValidationError naming it).
    """

    dt: float
    start_tick: int
    stop_tick: int
    batch_size: int
    sizes: dict[str, int]
    spikes: dict[str, SpikeTrains] = field(default_factory=dict)
    traces: dict[tuple[str, str], np.ndarray] = field(default_factory=dict)
    weights: dict[str, tuple[np.ndarray, np.ndarray]] = field(default_factory=dict)
    trace_every: dict[tuple[str, str], int] = field(default_factory=dict)

    def __post_init__(self) -> None:
        owner = "Recording"
        if isinstance(self.dt, bool) or not isinstance(self.dt, (int, float, np.floating, np.integer)):
            raise ValidationError(f"{owner}: dt = {self.dt!r} must be a number of ms > 0")
        if not (math.isfinite(float(self.dt)) and float(self.dt) > 0):
            raise ValidationError(f"{owner}: dt = {self.dt!r} must be a finite number of ms > 0")
        self.dt = float(self.dt)
        for name in ("start_tick", "stop_tick", "batch_size"):
            value = getattr(self, name)
            minimum = 1 if name == "batch_size" else 0
            if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < minimum:
                raise ValidationError(f"{owner}: {name} = {value!r} must be an integer >= {minimum}")
            setattr(self, name, int(value))
        if self.stop_tick < self.start_tick:
            raise ValidationError(f"{owner}: stop_tick = {self.stop_tick} is before start_tick = {self.start_tick}")
        if not isinstance(self.sizes, dict) or not all(
            isinstance(k, str) and not isinstance(v, bool) and isinstance(v, (int, np.integer)) and v >= 1
            for k, v in self.sizes.items()
        ):
            raise ValidationError(f"{owner}: sizes = {self.sizes!r} must map population names to integers >= 1")
        self.sizes = {k: int(v) for k, v in self.sizes.items()}
        self._check_spikes(owner)
        self._check_traces(owner)
        self._check_weights(owner)

    def _population(self, owner: str, name: object) -> int:
        if not isinstance(name, str) or name not in self.sizes:
            raise ValidationError(f"{owner}: {name!r} is not one of the recorded populations {sorted(self.sizes)}")
        return self.sizes[name]

    def _check_spikes(self, owner: str) -> None:
        if not isinstance(self.spikes, dict):
            raise ValidationError(f"{owner}: spikes must be a dict of SpikeTrains, got {type(self.spikes).__name__}")
        for name, trains in self.spikes.items():
            size = self._population(f"{owner} spikes", name)
            if not isinstance(trains, SpikeTrains):
                raise ValidationError(f"{owner}: spikes[{name!r}] must be SpikeTrains, got {type(trains).__name__}")
            arrays = (trains.trial, trains.neuron, trains.tick)
            if (
                any(not isinstance(a, np.ndarray) or a.ndim != 1 or a.dtype.kind not in "iu" for a in arrays)
                or len({a.size for a in arrays}) != 1
            ):
                raise ValidationError(f"{owner}: spikes[{name!r}] must be three 1-D integer arrays of equal length")
            for field_name, array, low, high in (
                ("trial", trains.trial, 0, self.batch_size),
                ("neuron", trains.neuron, 0, size),
                ("tick", trains.tick, self.start_tick, self.stop_tick),
            ):
                if array.size and (array.min() < low or array.max() >= high):
                    bad = array[(array < low) | (array >= high)][0]
                    raise ValidationError(
                        f"{owner}: spikes[{name!r}] {field_name} {int(bad)} is outside {low}..{high - 1}"
                    )

    def _check_traces(self, owner: str) -> None:
        if not isinstance(self.traces, dict) or not isinstance(self.trace_every, dict):
            raise ValidationError(f"{owner}: traces and trace_every must be dicts")
        for key, every in self.trace_every.items():
            if key not in self.traces:
                raise ValidationError(f"{owner}: trace_every names {key!r}, which is not a recorded trace")
            if isinstance(every, bool) or not isinstance(every, (int, np.integer)) or every < 1:
                raise ValidationError(f"{owner}: trace_every[{key!r}] = {every!r} must be an integer >= 1")
        self.trace_every = {k: int(v) for k, v in self.trace_every.items()}
        for key, values in self.traces.items():
            if not (isinstance(key, tuple) and len(key) == 2 and all(isinstance(k, str) for k in key)):
                raise ValidationError(f"{owner}: trace key {key!r} must be (population, variable)")
            size = self._population(f"{owner} traces", key[0])
            expected = (self.batch_size, self.trace_ticks(*key).size, size)
            if not isinstance(values, np.ndarray) or values.dtype.kind != "f" or values.shape != expected:
                shape = getattr(values, "shape", None)
                raise ValidationError(f"{owner}: traces[{key!r}] has shape {shape}; expected a float array {expected}")

    def _check_weights(self, owner: str) -> None:
        if not isinstance(self.weights, dict):
            raise ValidationError(f"{owner}: weights must be a dict, got {type(self.weights).__name__}")
        for name, pair in self.weights.items():
            if not isinstance(name, str) or not isinstance(pair, tuple) or len(pair) != 2:
                raise ValidationError(f"{owner}: weights[{name!r}] must be (ticks, values)")
            ticks, values = pair
            if not isinstance(ticks, np.ndarray) or ticks.ndim != 1 or ticks.dtype.kind not in "iu":
                raise ValidationError(f"{owner}: weights[{name!r}] ticks must be a 1-D integer array")
            if (
                not isinstance(values, np.ndarray)
                or values.dtype.kind != "f"
                or values.ndim != 3
                or values.shape[:2] != (ticks.size, self.batch_size)
            ):
                raise ValidationError(
                    f"{owner}: weights[{name!r}] has shape {getattr(values, 'shape', None)}; expected a float array"
                    f" ({ticks.size}, {self.batch_size}, synapses)"
                )

    def trace_ticks(self, population: str, variable: str) -> np.ndarray:
        """The ticks of the samples of one trace (state at the end of each tick)."""
        every = self.trace_every.get((population, variable), 1)
        first = -(-self.start_tick // every) * every
        return np.arange(first, self.stop_tick, every, dtype=np.int64)

    def spike_times(self, population: str, trial: int = 0) -> list[np.ndarray]:
        """One array of spike times (ms) per neuron of ``population``."""
        trains = self.spikes_of(population).of_trial(trial)
        return [trains.tick[trains.neuron == i] * self.dt for i in range(self.sizes[population])]

    def spikes_of(self, population: str) -> SpikeTrains:
        try:
            return self.spikes[population]
        except KeyError:
            raise ValidationError(
                f"Recording has no spikes of {population!r}; recorded: {sorted(self.spikes)}"
            ) from None

    def rates_hz(self, population: str) -> np.ndarray:
        """Mean firing rate per trial (Hz) of ``population`` over this run (0 for an empty run)."""
        duration_s = (self.stop_tick - self.start_tick) * self.dt / 1000.0
        counts = self.spikes_of(population).counts(self.sizes[population], self.batch_size)
        if duration_s == 0:
            return np.zeros(self.batch_size)
        return counts.mean(axis=1) / duration_s

    # -- display (the code lives in :mod:`neuromem.display` and :mod:`neuromem.plot`) ------------

    def __repr__(self) -> str:
        from neuromem.display import recording_text

        return recording_text(self)

    def _repr_html_(self) -> str:
        """The summary table Jupyter shows (:func:`neuromem.display.recording_html`)."""
        from neuromem.display import recording_html

        return recording_html(self)

    def plot(self, populations: list[str] | None = None, trial: int = 0, **options: object) -> object:
        """Raster and population rates of one trial as a matplotlib Figure (:func:`neuromem.plot.raster_figure`).

        Needs matplotlib (``pip install 'neuromem[plots]'``); ``options`` go to
        :func:`~neuromem.plot.raster_figure` (``marks``, ``title``, ``rate_bin_ms``).
        """
        from neuromem.plot import raster_figure

        return raster_figure(self, populations, trial, **options)  # type: ignore[arg-type]

    # -- Neo (the conversion lives in :mod:`neuromem.neo`) ------------------------------------

    def to_neo(self) -> object:
        """This recording as a ``neo.Block``, one Segment per trial, units attached (ms, mV, nA)."""
        from neuromem.neo import recording_to_neo

        return recording_to_neo(self)

    @classmethod
    def from_neo(cls, block: object, time_labels: str | None = None) -> Recording:
        """The Recording a ``neo.Block`` holds (each Segment a trial); see :func:`neuromem.neo.recording_from_neo`."""
        from neuromem.neo import recording_from_neo

        return recording_from_neo(block, time_labels)  # type: ignore[arg-type]

    def nbytes(self) -> int:
        """Bytes held by the recorded arrays."""
        total = sum(t.trial.nbytes + t.neuron.nbytes + t.tick.nbytes for t in self.spikes.values())
        total += sum(v.nbytes for v in self.traces.values())
        return total + sum(t.nbytes + w.nbytes for t, w in self.weights.values())

    # -- files ---------------------------------------------------------------------------

    def save(self, path: str | Path, compress: bool | None = None) -> Path:
        """Write one file ``<path>.npz`` atomically (:mod:`neuromem.fileformat`); returns its path.

        ``compress``: deflate the arrays; by default only recordings under
        :data:`COMPRESS_BELOW` bytes are compressed (deflating hundreds of MB
        of traces takes minutes and saves little).
        """
        if compress is None:
            compress = self.nbytes() < COMPRESS_BELOW
        arrays: dict[str, np.ndarray] = {}
        spikes, traces, weights = sorted(self.spikes), list(self.traces), sorted(self.weights)
        for i, name in enumerate(spikes):
            trains = self.spikes[name]
            arrays[f"s{i}"] = np.stack([trains.trial, trains.neuron, trains.tick]).astype(np.int64)
        for i, key in enumerate(traces):
            arrays[f"t{i}"] = self.traces[key]
        for i, name in enumerate(weights):
            arrays[f"wt{i}"], arrays[f"w{i}"] = self.weights[name]
        metadata = {
            "dt": self.dt,
            "start_tick": self.start_tick,
            "stop_tick": self.stop_tick,
            "batch_size": self.batch_size,
            "sizes": self.sizes,
            "spikes": spikes,
            "traces": [[*key, self.trace_every.get(key, 1)] for key in traces],
            "weights": weights,
        }
        return fileformat.save(
            path,
            schema=SCHEMA,
            version=SCHEMA_VERSION,
            type="Recording",
            metadata=metadata,
            arrays=arrays,
            compress=compress,
        )

    @classmethod
    def load(cls, path: str | Path) -> Recording:
        """Read a file written by :meth:`save` (no pickle; every value checked).

        Raises
        ------
        FileFormatError
            Missing, corrupt, foreign or newer file, or values a Recording cannot hold.
        """
        npz = fileformat.npz_path(path)
        arrays = fileformat.read_members(npz)
        if fileformat.HEADER in arrays:
            document = fileformat.parse_header(npz, arrays[fileformat.HEADER])
            if document.get("schema") == SCHEMA and document.get("version") == 1 and "metadata" not in document:
                return _load_version_1(npz, document, arrays)
        stored = fileformat.stored_from_members(
            npz, arrays, schema=SCHEMA, version=SCHEMA_VERSION, types=("Recording",)
        )
        keys = {"dt", "start_tick", "stop_tick", "batch_size", "sizes", "spikes", "traces", "weights"}
        stored.require_keys("", keys)
        return _from_stored(stored, [tuple(t) if isinstance(t, list) else t for t in stored.sequence("traces")])


def _from_stored(stored: fileformat.Stored, trace_entries: list[object]) -> Recording:
    """Build a Recording from checked metadata and arrays."""
    dt = stored.number("dt", positive=True)
    start = stored.integer("start_tick", minimum=0)
    stop = stored.integer("stop_tick", minimum=start)
    batch = stored.integer("batch_size", minimum=1)
    sizes_table = stored.table("sizes")
    sizes = {name: stored.integer(f"sizes.{name}", minimum=1) for name in sizes_table}
    spike_names = stored.sequence("spikes")
    weight_names = stored.sequence("weights")
    if not all(isinstance(n, str) and n in sizes for n in spike_names):
        raise stored.error("spikes", f"is {spike_names!r}; allowed: names of the populations {sorted(sizes)}")
    if not all(isinstance(n, str) for n in weight_names):
        raise stored.error("weights", f"is {weight_names!r}; allowed: projection names")
    used: set[str] = set()
    spikes = {}
    for i, name in enumerate(spike_names):
        triple = stored.array(f"s{i}", shape=(3, None), kinds="iu")
        used.add(f"s{i}")
        spikes[name] = SpikeTrains(*(np.ascontiguousarray(row, dtype=np.int64) for row in triple))
    traces, trace_every = {}, {}
    for i, entry in enumerate(trace_entries):
        if not (
            isinstance(entry, tuple)
            and len(entry) == 3
            and all(isinstance(e, str) for e in entry[:2])
            and isinstance(entry[2], int)
            and not isinstance(entry[2], bool)
            and entry[2] >= 1
            and entry[0] in sizes
        ):
            raise stored.error("traces", f"item {i} is {entry!r}; allowed: [population, variable, every (steps >= 1)]")
        key = (str(entry[0]), str(entry[1]))
        every = int(entry[2])  # type: ignore[call-overload]
        samples = np.arange(-(-start // every) * every, stop, every).size
        traces[key] = stored.array(f"t{i}", shape=(batch, samples, sizes[key[0]]), kinds="f")
        if every != 1:
            trace_every[key] = every
        used.add(f"t{i}")
    weights = {}
    for i, name in enumerate(weight_names):
        ticks = stored.array(f"wt{i}", shape=(None,), kinds="iu", minimum=0)
        values = stored.array(f"w{i}", shape=(ticks.size, batch, None), kinds="f")
        weights[name] = (ticks, values)
        used |= {f"wt{i}", f"w{i}"}
    stored.unused_arrays(used)
    try:
        return Recording(dt, start, stop, batch, sizes, spikes, traces, weights, trace_every)  # type: ignore[arg-type]
    except ValidationError as error:
        raise FileFormatError(f"{stored.path}: {error}") from error


def _load_version_1(npz: Path, document: dict, arrays: dict[str, np.ndarray]) -> Recording:
    """A recording of the first layout: header fields at the top level, every trace sampled every tick."""
    arrays = {k: v for k, v in arrays.items() if k != fileformat.HEADER}
    metadata = {k: v for k, v in document.items() if k not in ("schema", "version")}
    stored = fileformat.Stored(npz, SCHEMA, 1, "Recording", metadata, arrays)
    keys = {"dt", "start_tick", "stop_tick", "batch_size", "sizes", "spikes", "traces", "weights"}
    stored.require_keys("", keys)
    entries = stored.sequence("traces")
    return _from_stored(stored, [(*e, 1) if isinstance(e, list) and len(e) == 2 else e for e in entries])
