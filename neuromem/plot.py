"""Figures of recordings and memories: spike rasters with population bands and a rate panel,
weight matrices, and the answers of an address/content memory against the expected ones.

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


def weight_panels_figure(
    panels: Sequence[Sequence[tuple[str, np.ndarray]]],
    title: str = "",
    xlabel: str = "post neuron",
    ylabel: str = "pre neuron",
    vmin: float | None = None,
    vmax: float | None = None,
) -> Figure:
    """A grid of weight matrices (nA) on one colour scale: ``panels[row][col] = (panel title, matrix)``.

    Every panel shows a 2-D (y, x) matrix with ``ylabel`` on its rows and
    ``xlabel`` on its columns; one colour bar labelled ``weight (nA)`` serves all.
    """
    rows = [list(row) for row in panels]
    if not rows or not all(rows) or len({len(r) for r in rows}) != 1:
        raise ValidationError("weight_panels: panels must be a non-empty grid of equal rows of (title, matrix)")
    matrices = [np.asarray(m) for row in rows for _, m in row]
    if any(m.ndim != 2 for m in matrices):
        raise ValidationError(f"weight_panels: every matrix must be 2-D; shapes {[m.shape for m in matrices]}")
    low = min(float(m.min()) for m in matrices) if vmin is None else vmin
    high = max(float(m.max()) for m in matrices) if vmax is None else vmax
    figure = PngFigure(figsize=(4.2 * len(rows[0]) + 1.2, 3.2 * len(rows) + 0.6), layout="constrained")
    axes = figure.subplots(len(rows), len(rows[0]), squeeze=False)
    image = None
    for r, row in enumerate(rows):
        for c, (name, matrix) in enumerate(row):
            ax = axes[r][c]
            image = ax.imshow(matrix, aspect="auto", cmap="viridis", vmin=low, vmax=high, interpolation="nearest")
            ax.set_title(name, fontsize=SMALL + 1)
            ax.set_xlabel(xlabel, fontsize=SMALL + 1)
            ax.set_ylabel(ylabel, fontsize=SMALL + 1)
            ax.tick_params(labelsize=SMALL)
    figure.colorbar(image, ax=axes, shrink=0.9).set_label("weight (nA)", fontsize=SMALL + 1)
    figure.suptitle(title, fontsize=SMALL + 3)
    return figure


def weight_panels(
    panels: Sequence[Sequence[tuple[str, np.ndarray]]],
    path: str | Path,
    title: str = "",
    xlabel: str = "post neuron",
    ylabel: str = "pre neuron",
    vmin: float | None = None,
    vmax: float | None = None,
) -> Path:
    """:func:`weight_panels_figure` saved as a PNG at ``path``; returns the path."""
    return _save(weight_panels_figure(panels, title, xlabel, ylabel, vmin, vmax), path)


#: Colours of :func:`answers_figure`: nothing, correct, missing, extra.
ANSWER_COLOURS = ("white", "tab:green", "tab:orange", "tab:red")


def answers_grid(
    got: Sequence[tuple[set[int], set[int]]], expected: Sequence[tuple[set[int], set[int]]], n: int, m: int
) -> np.ndarray:
    """(operations, n + m) codes of each answer's addresses then content bits: 0 none, 1 correct, 2 missing, 3 extra."""
    if len(got) != len(expected):
        raise ValidationError(f"answers: {len(got)} answers for {len(expected)} expected ones; they must pair up")
    grid = np.zeros((len(expected), n + m), dtype=np.int64)
    for row, (answer, want) in enumerate(zip(got, expected, strict=True)):
        for offset, size, got_part, want_part in ((0, n, answer[0], want[0]), (n, m, answer[1], want[1])):
            for i in set(got_part) | set(want_part):
                if not 0 <= i < size:
                    raise ValidationError(f"answers: index {i} of row {row} is outside 0..{size - 1}")
                grid[row, offset + i] = 1 if (i in got_part and i in want_part) else (2 if i in want_part else 3)
    return grid


def _index_ticks(count: int, offset: int, most: int = 16) -> tuple[list[int], list[str]]:
    step = max(1, -(-count // most))
    indices = list(range(0, count, step))
    return [offset + i for i in indices], [str(i) for i in indices]


def answers_figure(
    got: Sequence[tuple[set[int], set[int]]],
    expected: Sequence[tuple[set[int], set[int]]],
    n: int,
    m: int,
    row_labels: Sequence[str],
    title: str = "",
) -> Figure:
    """The answers of an address/content memory against the expected ones, one row per operation.

    Parameters
    ----------
    got, expected : sequence of (set of int, set of int)
        Addresses and content bits shown for each operation, and those expected.
    n, m : int
        Number of addresses and of content bits.
    row_labels : sequence of str
        One label per operation (e.g. ``S3:1,4``).
    title : str
        Figure title (default: the colour key and the number of wrong rows).

    Returns
    -------
    matplotlib.figure.Figure
        Columns: addresses 0..n-1 (left), content bits 0..m-1 (right), each
        numbered from 0 on its own axis; green correct, orange missing, red extra.
    """
    from matplotlib.colors import ListedColormap

    grid = answers_grid(got, expected, n, m)
    if len(row_labels) != len(expected):
        raise ValidationError(f"answers: {len(row_labels)} row labels for {len(expected)} operations")
    height = max(3.0, 0.16 * len(expected) + 1.8)
    figure = PngFigure(figsize=(max(6.0, 0.16 * (n + m) + 3.0), height), layout="constrained")
    ax = figure.add_subplot()
    ax.imshow(grid, aspect="auto", cmap=ListedColormap(ANSWER_COLOURS), vmin=0, vmax=3, interpolation="nearest")
    ax.axvline(n - 0.5, color="k", lw=0.8)
    step = max(1, -(-len(expected) // 60))
    rows = list(range(0, len(expected), step))
    ax.set_yticks(rows, [row_labels[r] for r in rows], fontsize=SMALL)
    ax.set_ylabel("operation", fontsize=SMALL + 1)
    address_ticks, address_labels = _index_ticks(n, 0)
    bit_ticks, bit_labels = _index_ticks(m, n)
    ax.set_xticks(address_ticks + bit_ticks, address_labels + bit_labels, fontsize=SMALL)
    ax.set_xlabel(f"address (0..{n - 1})  |  content bit (0..{m - 1})", fontsize=SMALL + 1)
    wrong = int(sum((set(a[0]), set(a[1])) != (set(e[0]), set(e[1])) for a, e in zip(got, expected, strict=True)))
    default = f"answers: green correct, orange missing, red extra ({wrong} of {len(expected)} wrong)"
    ax.set_title(title or default, fontsize=SMALL + 2)
    return figure


def answers(
    got: Sequence[tuple[set[int], set[int]]],
    expected: Sequence[tuple[set[int], set[int]]],
    n: int,
    m: int,
    row_labels: Sequence[str],
    path: str | Path,
    title: str = "",
) -> Path:
    """:func:`answers_figure` saved as a PNG at ``path``; returns the path."""
    return _save(answers_figure(got, expected, n, m, row_labels, title), path)


def _save(figure: Figure, path: str | Path) -> Path:
    path = Path(path)
    figure.savefig(path, dpi=DPI)
    return path


__all__ = [
    "ANSWER_COLOURS",
    "DPI",
    "PngFigure",
    "answers",
    "answers_figure",
    "answers_grid",
    "raster",
    "raster_figure",
    "weight_matrix",
    "weight_matrix_figure",
    "weight_panels",
    "weight_panels_figure",
]
