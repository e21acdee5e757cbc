"""How a :class:`~neuromem.record.Recording` shows itself: a text line, an HTML table, binned rates.

Nothing here needs matplotlib: Jupyter shows :func:`recording_html` for a
Recording that ends a cell, ``repr`` gives :func:`recording_text`, and
:func:`binned_rates` computes the population-rate panel of
:func:`neuromem.plot.raster_figure`.

>>> import numpy as np
>>> from neuromem.record import Recording, SpikeTrains
>>> spikes = SpikeTrains.from_arrays([0, 0, 0], [0, 1, 1], [1, 2, 7])
>>> rec = Recording(dt=1.0, start_tick=0, stop_tick=10, batch_size=1, sizes={"cells": 2}, spikes={"cells": spikes})
>>> recording_text(rec)
'Recording(dt 1 ms, 0-10 ms, 1 trial; cells: 2 neurons, 3 spikes, 150 Hz)'
>>> edges, rates = binned_rates(rec, "cells", bin_ms=5.0)
>>> edges.tolist(), rates.tolist()
([0.0, 5.0, 10.0], [200.0, 100.0])
"""

from __future__ import annotations

import html
from typing import TYPE_CHECKING

import numpy as np

from neuromem.errors import ValidationError

if TYPE_CHECKING:
    from neuromem.record import Recording


def _ms(value: float) -> str:
    return f"{value:g}"


def _plural(count: int, word: str) -> str:
    return f"{count:,} {word}{'' if count == 1 else 's'}"


def span_ms(recording: Recording) -> tuple[float, float]:
    """Start and end (ms) of the run the recording covers."""
    return recording.start_tick * recording.dt, recording.stop_tick * recording.dt


def recording_text(recording: Recording) -> str:
    """One line: time step, span, trials, and per population its size, spikes and mean rate (Hz)."""
    start, stop = span_ms(recording)
    parts = []
    for name in recording.spikes:
        rate = float(recording.rates_hz(name).mean())
        parts.append(
            f"{name}: {_plural(recording.sizes[name], 'neuron')}, {_plural(len(recording.spikes[name]), 'spike')},"
            f" {rate:.3g} Hz"
        )
    head = f"Recording(dt {_ms(recording.dt)} ms, {_ms(start)}-{_ms(stop)} ms, {_plural(recording.batch_size, 'trial')}"
    extras = []
    if recording.traces:
        extras.append(_plural(len(recording.traces), "trace"))
    if recording.weights:
        extras.append(f"weights of {_plural(len(recording.weights), 'projection')}")
    body = "; ".join(parts + extras)
    return head + (f"; {body})" if body else ")")


def recording_html(recording: Recording) -> str:
    """An HTML summary table (what Jupyter shows for a Recording)."""
    start, stop = span_ms(recording)
    esc = html.escape
    rows = [
        "<table>",
        f"<caption>Recording: dt {_ms(recording.dt)} ms, {_ms(start)}&ndash;{_ms(stop)} ms"
        f" (ticks {recording.start_tick}&ndash;{recording.stop_tick - 1}),"
        f" {_plural(recording.batch_size, 'trial')}</caption>",
        "<tr><th>population</th><th>neurons</th><th>spikes</th><th>rate (Hz), mean &plusmn; sd over trials</th></tr>",
    ]
    for name in recording.spikes:
        rates = recording.rates_hz(name)
        rows.append(
            f"<tr><td>{esc(name)}</td><td>{recording.sizes[name]:,}</td><td>{len(recording.spikes[name]):,}</td>"
            f"<td>{rates.mean():.3g} &plusmn; {rates.std():.2g}</td></tr>"
        )
    for (population, variable), values in recording.traces.items():
        every = recording.trace_every.get((population, variable), 1) * recording.dt
        rows.append(
            f"<tr><td>{esc(population)}</td><td colspan='3'>trace <code>{esc(variable)}</code>:"
            f" {values.shape[1]:,} samples every {_ms(every)} ms</td></tr>"
        )
    for projection, (ticks, values) in recording.weights.items():
        rows.append(
            f"<tr><td>{esc(projection)}</td><td colspan='3'>weights (nA): {ticks.size:,} snapshots of"
            f" {values.shape[2]:,} synapses</td></tr>"
        )
    rows.append("</table>")
    return "\n".join(rows)


def binned_rates(
    recording: Recording, population: str, trial: int = 0, bin_ms: float | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """Population rate (Hz per neuron) of one trial in time bins.

    Parameters
    ----------
    recording : Recording
    population : str
        A population with recorded spikes.
    trial : int
        Which trial (0 .. batch_size - 1).
    bin_ms : float or None
        Bin width (ms), rounded to whole steps; default: the run split into
        about 60 bins, at least one step each.

    Returns
    -------
    edges : ndarray
        Bin edges (ms), one more than the bins; the last bin may be shorter.
    rates : ndarray
        Spikes per neuron per second in each bin (Hz).
    """
    if isinstance(trial, bool) or not isinstance(trial, (int, np.integer)) or not 0 <= trial < recording.batch_size:
        raise ValidationError(f"binned_rates: trial = {trial!r} must be an integer in 0..{recording.batch_size - 1}")
    ticks = recording.stop_tick - recording.start_tick
    if bin_ms is None:
        step = max(1, round(ticks / 60))
    else:
        if not (isinstance(bin_ms, (int, float)) and np.isfinite(bin_ms) and bin_ms > 0):
            raise ValidationError(f"binned_rates: bin_ms = {bin_ms!r} must be a number of ms > 0")
        step = max(1, round(bin_ms / recording.dt))
    bounds = np.arange(recording.start_tick, recording.stop_tick, step, dtype=np.int64)
    bounds = np.append(bounds, recording.stop_tick)
    trains = recording.spikes_of(population).of_trial(int(trial))
    counts = np.histogram(trains.tick, bins=bounds)[0] if bounds.size > 1 else np.zeros(0)
    widths_s = np.diff(bounds) * recording.dt / 1000.0
    rates = counts / (recording.sizes[population] * widths_s) if bounds.size > 1 else np.zeros(0)
    return bounds * recording.dt, rates.astype(float)


__all__ = ["binned_rates", "recording_html", "recording_text", "span_ms"]
