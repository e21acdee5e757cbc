"""Plots shared by the CLI and the experiments (matplotlib, Agg backend)."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from neuromem.record import Recording  # noqa: E402


def raster(
    recording: Recording,
    path: str | Path,
    populations: Sequence[str] | None = None,
    trial: int = 0,
    marks: Sequence[tuple[float, str]] = (),
    title: str = "",
) -> Path:
    """Spike raster of ``populations`` (stacked, one band each), saved as PNG.

    ``marks`` are (time in ms, label) pairs drawn as vertical lines, e.g. operations.
    """
    names = list(populations or recording.spikes)
    fig, ax = plt.subplots(figsize=(10, 1.0 + 0.35 * max(4, sum(recording.sizes[n] for n in names) ** 0.5 * 2)))
    base = 0
    ticks, labels = [], []
    colours = plt.cm.tab10(np.arange(len(names)) % 10)
    for colour, name in zip(colours, names):
        trains = recording.spikes_of(name).of_trial(trial)
        ax.scatter(trains.tick * recording.dt, base + trains.neuron, s=6, color=colour, marker="|")
        size = recording.sizes[name]
        ticks.append(base + (size - 1) / 2)
        labels.append(name)
        base += size
        ax.axhline(base - 0.5, color="0.85", lw=0.5)
    for time, label in marks:
        ax.axvline(time, color="0.6", lw=0.6, ls="--")
        ax.text(time, base + 0.5, label, rotation=90, fontsize=6, va="bottom", ha="center")
    ax.set_yticks(ticks, labels, fontsize=7)
    ax.set_xlim(recording.start_tick * recording.dt, recording.stop_tick * recording.dt)
    ax.set_ylim(-1, base + (4 if marks else 0.5))
    ax.set_xlabel("time (ms)")
    ax.set_title(title or f"spike raster, trial {trial}")
    fig.tight_layout()
    path = Path(path)
    fig.savefig(path, dpi=130)
    plt.close(fig)
    return path


def weight_matrix(
    weights: np.ndarray, path: str | Path, title: str = "", xlabel: str = "post", ylabel: str = "pre"
) -> Path:
    """Heat map of a (pre, post) weight matrix in nA, saved as PNG."""
    fig, ax = plt.subplots(figsize=(5, 4))
    image = ax.imshow(weights, aspect="auto", cmap="viridis", interpolation="nearest")
    fig.colorbar(image, ax=ax, label="weight (nA)")
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.set_title(title)
    fig.tight_layout()
    path = Path(path)
    fig.savefig(path, dpi=130)
    plt.close(fig)
    return path
