"""Figures of the HLOP experiments (matplotlib, Agg backend, PNG files).

Example
-------
>>> plot_accuracy_matrix(R, "HLOP", "results/hlop_pmnist/R_hlop.png")  # doctest: +SKIP
"""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

__all__ = ["plot_accuracy_matrix", "plot_convergence", "plot_per_task", "plot_spectrum"]


def plot_accuracy_matrix(R: np.ndarray, title: str, path: str | Path) -> None:
    """Heat map of R[i, j] (percent), rows = after task i, columns = task j."""
    fig, ax = plt.subplots(figsize=(5, 4.2))
    im = ax.imshow(100 * R, vmin=0, vmax=100, cmap="viridis")
    T = R.shape[0]
    for i in range(T):
        for j in range(T):
            if not np.isnan(R[i, j]):
                ax.text(j, i, f"{100 * R[i, j]:.0f}", ha="center", va="center", fontsize=6, color="w")
    ax.set_xlabel("task j (tested)")
    ax.set_ylabel("after training task i")
    ax.set_title(title)
    fig.colorbar(im, ax=ax, label="accuracy (%)")
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


def plot_per_task(results: dict[str, np.ndarray], path: str | Path) -> None:
    """Accuracy of each task over training, one panel per method."""
    methods = [m for m, R in results.items() if not np.isnan(np.diag(R)).all()]
    if not methods:
        return
    fig, axes = plt.subplots(1, len(methods), figsize=(3.2 * len(methods), 3), sharey=True, squeeze=False)
    for ax, m in zip(axes[0], methods, strict=True):
        R = results[m]
        for j in range(R.shape[0]):
            ax.plot(range(j, R.shape[0]), 100 * R[j:, j], marker=".", lw=1)
        ax.set_title(m)
        ax.set_xlabel("tasks trained - 1")
    axes[0][0].set_ylabel("test accuracy (%)")
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


def plot_spectrum(spectra: dict[str, tuple[np.ndarray, int, int]], path: str | Path) -> None:
    """Cumulative energy of the activity spectrum, marking the HLOP and SVD dimensions.

    ``spectra[layer] = (singular values of all tasks' activity, M_hlop, ...)``; the
    marked line is the energy the lateral neurons' subspace captures.
    """
    fig, axes = plt.subplots(1, len(spectra), figsize=(3.2 * len(spectra), 3), squeeze=False)
    for ax, (name, (s, m, captured_pct)) in zip(axes[0], spectra.items(), strict=True):
        energy = np.cumsum(s**2) / np.sum(s**2)
        ax.plot(np.arange(1, s.size + 1), 100 * energy, label="SVD, top-k")
        ax.axvline(m, color="k", ls=":", label=f"M = {m}")
        ax.axhline(captured_pct, color="r", ls="--", label=f"HLOP {captured_pct:.1f}%")
        ax.set_xscale("log")
        ax.set_title(name)
        ax.set_xlabel("dimensions k")
        ax.legend(fontsize=6)
    axes[0][0].set_ylabel("activity energy captured (%)")
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


def plot_convergence(history: list[dict[str, object]], path: str | Path) -> None:
    """Lateral-circuit convergence per task: reconstruction error and principal angles vs SVD."""
    layers = sorted({str(h["layer"]) for h in history})
    fig, axes = plt.subplots(2, len(layers), figsize=(3.2 * len(layers), 5), squeeze=False)
    for col, layer in enumerate(layers):
        for h in (h for h in history if h["layer"] == layer):
            hist = h["history"]
            label = f"task {h['task']}"
            axes[0][col].plot(hist.reconstruction_error, lw=1, label=label)  # type: ignore[attr-defined]
            axes[1][col].plot(hist.mean_angle_deg, lw=1, label=label)  # type: ignore[attr-defined]
        axes[0][col].set_title(layer)
        axes[0][col].set_yscale("log")
        axes[1][col].set_xlabel("lateral training epoch")
    axes[0][0].set_ylabel("relative reconstruction error")
    axes[1][0].set_ylabel("mean principal angle to SVD (deg)")
    axes[0][-1].legend(fontsize=5)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)
