"""Per-population activity statistics of a recording: rates, irregularity, spike-for-spike agreement.

The definitions are the references': a population's rate is its spike count
over the window divided by its size and the window length, silent neurons
included; irregularity is the coefficient of variation of the inter-spike
intervals (s.d. / mean) per neuron, averaged over the neurons with at least
``min_spikes`` spikes in the window.

Example
-------
>>> import numpy as np
>>> from neuromem.record import Recording, SpikeTrains
>>> spikes = SpikeTrains.from_arrays(np.zeros(4), [0, 0, 0, 1], [0, 10, 30, 5])
>>> rec = Recording(dt=1.0, start_tick=0, stop_tick=100, batch_size=1, sizes={"a": 2}, spikes={"a": spikes})
>>> rate_hz(rec, "a", 0.0, 100.0), round(cv_isi(rec, "a", 0.0, 100.0), 3)
(20.0, 0.333)
"""

from __future__ import annotations

import numpy as np

from neuromem.errors import ValidationError
from neuromem.record import Recording, SpikeTrains


def _window(recording: Recording, population: str, start_ms: float, stop_ms: float, trial: int) -> SpikeTrains:
    if not stop_ms > start_ms:
        raise ValidationError(f"statistics: window [{start_ms:g}, {stop_ms:g}) ms is empty")
    trains = recording.spikes_of(population).of_trial(trial)
    time = trains.tick * recording.dt
    keep = (time >= start_ms) & (time < stop_ms)
    return SpikeTrains(trains.trial[keep], trains.neuron[keep], trains.tick[keep])


def rate_hz(recording: Recording, population: str, start_ms: float, stop_ms: float, trial: int = 0) -> float:
    """Mean rate (Hz) of ``population`` over ``[start_ms, stop_ms)``, silent neurons included."""
    spikes = _window(recording, population, start_ms, stop_ms, trial)
    return len(spikes) / recording.sizes[population] / ((stop_ms - start_ms) / 1000.0)


def cv_isi(
    recording: Recording, population: str, start_ms: float, stop_ms: float, trial: int = 0, min_spikes: int = 3
) -> float:
    """Mean CV of the inter-spike intervals over neurons with >= ``min_spikes`` spikes; NaN if there are none."""
    spikes = _window(recording, population, start_ms, stop_ms, trial)
    order = np.lexsort((spikes.tick, spikes.neuron))
    neuron, tick = spikes.neuron[order], spikes.tick[order].astype(np.float64)
    counts = np.bincount(neuron, minlength=recording.sizes[population])
    same = neuron[1:] == neuron[:-1]
    gaps, owner = np.diff(tick)[same], neuron[1:][same]
    values = []
    for i in np.flatnonzero(counts >= min_spikes):
        isi = gaps[owner == i]
        values.append(isi.std() / isi.mean())
    return float(np.mean(values)) if values else float("nan")


def first_difference_ms(a: Recording, b: Recording, populations: tuple[str, ...], trial: int = 0) -> float | None:
    """Time (ms) of the earliest spike that one recording has and the other lacks; None if they agree."""
    earliest: float | None = None
    for population in populations:
        mine, theirs = a.spikes_of(population).pairs(trial), b.spikes_of(population).pairs(trial)
        differ = mine ^ theirs
        if differ:
            tick = min(t for _, t in differ)
            time = tick * a.dt
            earliest = time if earliest is None else min(earliest, time)
    return earliest


def summary(
    recording: Recording, populations: tuple[str, ...], start_ms: float, stop_ms: float, trial: int = 0
) -> dict[str, dict[str, float]]:
    """``{population: {"rate_hz": ..., "cv_isi": ...}}`` over the window."""
    return {
        name: {
            "rate_hz": rate_hz(recording, name, start_ms, stop_ms, trial),
            "cv_isi": cv_isi(recording, name, start_ms, stop_ms, trial),
        }
        for name in populations
    }
