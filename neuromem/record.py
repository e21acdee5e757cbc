"""Recordings: spikes as (trial, neuron, tick) arrays, traces and weight snapshots.

A :class:`Recording` is what every backend returns from ``run``. Ticks are
absolute step indices since the simulation started (time = tick * dt ms).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from neuromem.errors import FileFormatError, ValidationError
from neuromem.spec.io import atomic_write, read_npz


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
        Time step (ms).
    start_tick, stop_tick : int
        The run covered ticks ``start_tick .. stop_tick - 1``.
    batch_size : int
        Number of independent trials.
    sizes : dict
        Population sizes.
    spikes : dict of SpikeTrains
        Per population.
    traces : dict
        ``(population, variable)`` -> array (trials, ticks, neurons) in mV or nA.
    weights : dict
        Projection -> (ticks array, array (snapshots, trials, synapses)) in nA.
    """

    dt: float
    start_tick: int
    stop_tick: int
    batch_size: int
    sizes: dict[str, int]
    spikes: dict[str, SpikeTrains] = field(default_factory=dict)
    traces: dict[tuple[str, str], np.ndarray] = field(default_factory=dict)
    weights: dict[str, tuple[np.ndarray, np.ndarray]] = field(default_factory=dict)

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
        """Mean firing rate per trial (Hz) of ``population`` over this run."""
        duration_s = (self.stop_tick - self.start_tick) * self.dt / 1000.0
        counts = self.spikes_of(population).counts(self.sizes[population], self.batch_size)
        return counts.mean(axis=1) / duration_s

    def save(self, path: str | Path) -> Path:
        """Write ``<path>.npz`` (arrays) with a JSON header, atomically."""
        path = Path(path).with_suffix(".npz")
        arrays: dict[str, np.ndarray] = {}
        header = {
            "schema": "neuromem.recording",
            "version": 1,
            "dt": self.dt,
            "start_tick": self.start_tick,
            "stop_tick": self.stop_tick,
            "batch_size": self.batch_size,
            "sizes": self.sizes,
            "spikes": sorted(self.spikes),
            "traces": [list(key) for key in self.traces],
            "weights": sorted(self.weights),
        }
        for i, name in enumerate(header["spikes"]):
            trains = self.spikes[name]
            arrays[f"s{i}"] = np.stack([trains.trial, trains.neuron, trains.tick])
        for i, key in enumerate(self.traces):
            arrays[f"t{i}"] = self.traces[key]
        for i, name in enumerate(header["weights"]):
            arrays[f"wt{i}"], arrays[f"w{i}"] = self.weights[name]
        arrays["header"] = np.frombuffer(json.dumps(header).encode(), dtype=np.uint8)
        atomic_write(path, lambda f: np.savez_compressed(f, **arrays))
        return path

    @classmethod
    def load(cls, path: str | Path) -> Recording:
        """Read a file written by :meth:`save` (no pickle)."""
        arrays = read_npz(Path(path).with_suffix(".npz"))
        try:
            header = json.loads(arrays["header"].tobytes().decode())
            if header.get("schema") != "neuromem.recording":
                raise FileFormatError(f"{path} is not a neuromem recording")
            if header.get("version", 0) > 1:
                raise FileFormatError(f"{path} has a newer recording version {header['version']}; upgrade neuromem")
            spikes = {n: SpikeTrains(*arrays[f"s{i}"]) for i, n in enumerate(header["spikes"])}
            traces = {tuple(k): arrays[f"t{i}"] for i, k in enumerate(header["traces"])}
            weights = {n: (arrays[f"wt{i}"], arrays[f"w{i}"]) for i, n in enumerate(header["weights"])}
        except (KeyError, ValueError, TypeError) as error:
            raise FileFormatError(f"{path} is a corrupt recording: {error}") from error
        return cls(
            dt=float(header["dt"]),
            start_tick=int(header["start_tick"]),
            stop_tick=int(header["stop_tick"]),
            batch_size=int(header["batch_size"]),
            sizes={k: int(v) for k, v in header["sizes"].items()},
            spikes=spikes,
            traces=traces,  # type: ignore[arg-type]
            weights=weights,
        )
