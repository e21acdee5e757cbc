"""Figures of recordings: spike rasters with population bands and a rate panel, weight matrices.

Every function builds a :class:`matplotlib.figure.Figure` without pyplot, so
nothing here changes the backend a notebook or script chose, and figures are
never left open: the ``*_figure`` functions return the figure (Jupyter shows
it as a PNG, :class:`PngFigure`), the others save a PNG and return its path. Needs matplotlib
(``pip install 'neuromem[plots]'``).

Fonts are sized for the saved PNG: at the default 130 dpi a 10-inch-wide
raster is 1300 pixels wide and its smallest text is 8 pt (about 14 pixels).
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from neuromem.display import binned_rates
from neuromem.errors import ValidationError
from neuromem.record import Recording

try:
    from matplotlib.figure import Figure
except ImportError as error:  # pragma: no cover - exercised in the core-only wheel check
    raise ImportError(
        "neuromem.plot needs matplotlib, which the core install leaves out: pip install 'neuromem[plots]'"
    ) from error


class PngFigure(Figure):
    """A matplotlib Figure that Jupyter shows as a PNG even when pyplot was never imported.

    Jupyter's own display of figures is installed by pyplot's inline backend;
    a figure built without pyplot would otherwise show as its text repr.
    """

    def _repr_png_(self) -> bytes:
        buffer = io.BytesIO()
        self.savefig(buffer, format="png", dpi=DISPLAY_DPI)
        return buffer.getvalue()


#: Resolution of saved PNGs (dots per inch).
DPI = 130
#: Resolution of figures shown in Jupyter (dots per inch).
DISPLAY_DPI = 90
#: Smallest font used (pt); at DPI it stays legible in the saved image.
SMALL = 8
#: Most mark labels drawn on the top axis; with more, every k-th is labelled.
MAX_MARK_LABELS = 40


def _populations(recording: Recording, populations: Sequence[str] | None) -> list[str]:
    names = list(recording.spikes) if populations is None else list(populations)
    missing = [n for n in names if n not in recording.spikes]
    if missing:
        raise ValidationError(f"raster: no spikes recorded for {missing}; recorded: {sorted(recording.spikes)}")
    if not names:
        raise ValidationError("raster: the recording holds no spikes of any population")
    return names


def raster_figure(
    recording: Recording,
    populations: Sequence[str] | None = None,
    trial: int = 0,
    marks: Sequence[tuple[float, str]] = (),
    title: str = "",
    rate_bin_ms: float | None = None,
) -> Figure:
    """Spike raster of one trial with one band per population, and a population-rate panel below.

    Parameters
    ----------
    recording : Recording
    populations : sequence of str or None
        Populations to show, bottom to top (default: every recorded one).
    trial : int
        Which trial of the batch.
    marks : sequence of (float, str)
        (time in ms, label) pairs, e.g. the operations of a memory task:
        dashed lines across both panels, labels along the top axis.
    title : str
        Figure title (default: ``spike raster, trial N``).
    rate_bin_ms : float or None
        Bin of the rate panel (ms); default about 1/60 of the run.

    Returns
    -------
    matplotlib.figure.Figure
        Raster axis: time (ms) against neuron index, populations stacked with
        their names on the right; rate axis: spikes per neuron per second (Hz).
    """
    names = _populations(recording, populations)
    sizes = [recording.sizes[n] for n in names]
    total = sum(sizes)
    height = 2.2 + min(6.0, 0.9 + 0.25 * len(names) + total / 150)
    figure = PngFigure(figsize=(10, height + (0.6 if marks else 0.0)), layout="constrained")
    grid = figure.add_gridspec(2, 1, height_ratios=(3, 1))
    ax = figure.add_subplot(grid[0])
    rate_ax = figure.add_subplot(grid[1], sharex=ax)
    start, stop = recording.start_tick * recording.dt, recording.stop_tick * recording.dt
    colours = [f"C{i % 10}" for i in range(len(names))]
    marker_size = 4.0 if total <= 200 else (1.5 if total <= 2000 else 0.5)
    base = 0
    centres = []
    for k, (name, size, colour) in enumerate(zip(names, sizes, colours)):
        if k % 2:
            ax.axhspan(base - 0.5, base + size - 0.5, color="0.94", zorder=0)
        trains = recording.spikes_of(name).of_trial(trial)
        ax.scatter(trains.tick * recording.dt, base + trains.neuron, s=marker_size, color=colour, marker="|", lw=0.8)
        centres.append(base + (size - 1) / 2)
        base += size
        if k < len(names) - 1:
            ax.axhline(base - 0.5, color="0.6", lw=0.6)
        edges, rates = binned_rates(recording, name, trial, rate_bin_ms)
        rate_ax.stairs(rates, edges, color=colour, label=name, lw=1.2)
    ax.set_ylim(-0.5, total - 0.5)
    ax.set_ylabel("neuron (stacked by population)", fontsize=SMALL + 1)
    ax.tick_params(labelsize=SMALL, labelbottom=False)
    bands = ax.secondary_yaxis("right")
    bands.set_yticks(centres, names, fontsize=SMALL + 1)
    bands.tick_params(length=0)
    for label, colour in zip(bands.get_yticklabels(), colours):
        label.set_color(colour)
    rate_ax.set_xlim(start, stop)
    rate_ax.set_xlabel("time (ms)", fontsize=SMALL + 1)
    rate_ax.set_ylabel("rate (Hz)", fontsize=SMALL + 1)
    rate_ax.tick_params(labelsize=SMALL)
    if len(names) > 1:
        # Beside the panel, under the band names: inside it would cover the rates.
        rate_ax.legend(fontsize=SMALL, loc="upper left", bbox_to_anchor=(1.0, 1.05), frameon=False, handlelength=1.2)
    if marks:
        _marks(ax, rate_ax, marks)
    figure.suptitle(title or f"spike raster, trial {trial}", fontsize=SMALL + 3)
    return figure


def _marks(ax: object, rate_ax: object, marks: Sequence[tuple[float, str]]) -> None:
    """Dashed lines at the marked times; labels on a top axis, so they never cover the title."""
    times = [float(t) for t, _ in marks]
    for time in times:
        for axis in (ax, rate_ax):
            axis.axvline(time, color="0.55", lw=0.6, ls="--", zorder=0)  # type: ignore[attr-defined]
    every = max(1, -(-len(marks) // MAX_MARK_LABELS))
    top = ax.secondary_xaxis("top")  # type: ignore[attr-defined]
    shown = list(marks)[::every]
    top.set_xticks([float(t) for t, _ in shown], [label for _, label in shown], rotation=90, fontsize=SMALL)
    top.tick_params(length=2, pad=1)


def raster(
    recording: Recording,
    path: str | Path,
    populations: Sequence[str] | None = None,
    trial: int = 0,
    marks: Sequence[tuple[float, str]] = (),
    title: str = "",
    rate_bin_ms: float | None = None,
) -> Path:
    """:func:`raster_figure` saved as a PNG at ``path``; returns the path."""
    return _save(raster_figure(recording, populations, trial, marks, title, rate_bin_ms), path)


def weight_matrix_figure(
    weights: np.ndarray, title: str = "", xlabel: str = "post neuron", ylabel: str = "pre neuron"
) -> Figure:
    """Heat map of a (pre, post) weight matrix in nA."""
    weights = np.asarray(weights)
    if weights.ndim != 2:
        raise ValidationError(f"weight_matrix: weights have shape {weights.shape}; expected (pre, post)")
    figure = PngFigure(figsize=(5.5, 4.5), layout="constrained")
    ax = figure.add_subplot()
    image = ax.imshow(weights, aspect="auto", cmap="viridis", interpolation="nearest")
    figure.colorbar(image, ax=ax).set_label("weight (nA)", fontsize=SMALL + 1)
    ax.set_xlabel(xlabel, fontsize=SMALL + 1)
    ax.set_ylabel(ylabel, fontsize=SMALL + 1)
    ax.tick_params(labelsize=SMALL)
    ax.set_title(title, fontsize=SMALL + 2)
    return figure


def weight_matrix(
    weights: np.ndarray, path: str | Path, title: str = "", xlabel: str = "post neuron", ylabel: str = "pre neuron"
) -> Path:
    """:func:`weight_matrix_figure` saved as a PNG at ``path``; returns the path."""
    return _save(weight_matrix_figure(weights, title, xlabel, ylabel), path)


def _save(figure: Figure, path: str | Path) -> Path:
    path = Path(path)
    figure.savefig(path, dpi=DPI)
    return path


__all__ = ["DPI", "PngFigure", "raster", "raster_figure", "weight_matrix", "weight_matrix_figure"]
