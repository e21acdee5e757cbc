"""Figures of the CA3 experiments: rasters with operations, weight matrices, answers against expectations."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
from matplotlib.colors import ListedColormap  # noqa: E402

from neuromem import plot  # noqa: E402
from neuromem.models.ca3.network import INTERNAL  # noqa: E402
from neuromem.models.ca3.protocol import Answer, Operation  # noqa: E402
from neuromem.record import Recording  # noqa: E402


def label(op: Operation) -> str:
    """Short label: ``S3:1,4`` (store), ``A3`` (recall by address), ``C:6`` (recall by content)."""
    bits = ",".join(map(str, op.content))
    if op.kind == "store":
        return f"S{op.address}:{bits}"
    return f"A{op.address}" if op.kind == "recall_by_address" else f"C:{bits}"


def shown(answer: Answer) -> tuple[set[int], set[int]]:
    """Addresses and content bits of an answer and its echo together (what ``OUT`` showed)."""
    return set(answer.addresses) | set(answer.echo.addresses), set(answer.content) | set(answer.echo.content)


def raster(recording: Recording, path: str | Path, operations: Sequence[Operation], title: str = "") -> Path:
    """Raster of every population of the memory with the operations marked at their t0."""
    names = [name for name in (*INTERNAL, "OUT") if name in recording.spikes]
    marks = [(float(op.t0) * recording.dt, label(op)) for op in operations]  # type: ignore[arg-type]
    return plot.raster(recording, path, names, marks=marks, title=title)


def weights_before_after(
    before: Mapping[str, np.ndarray], after: Mapping[str, np.ndarray], path: str | Path, title: str = ""
) -> Path:
    """Both plastic weight matrices (nA) as address x bit maps, before and after."""
    fig, axes = plt.subplots(2, 2, figsize=(9, 6), squeeze=False)
    panels = (("cue_to_content", "address -> content"), ("content_to_cue", "content -> address"))
    for row, (key, name) in enumerate(panels):
        for col, (when, weights) in enumerate((("before", before[key]), ("after", after[key]))):
            matrix = weights if key == "cue_to_content" else weights.T
            ax = axes[row][col]
            image = ax.imshow(matrix, aspect="auto", cmap="viridis", vmin=0.0, vmax=6.0, interpolation="nearest")
            ax.set_title(f"{name}, {when}", fontsize=9)
            ax.set_xlabel("content bit")
            ax.set_ylabel("address")
            fig.colorbar(image, ax=ax, label="weight (nA)")
    fig.suptitle(title)
    fig.tight_layout()
    path = Path(path)
    fig.savefig(path, dpi=120)
    plt.close(fig)
    return path


def answers(
    got: Sequence[Answer], expected: Sequence[Answer], n: int, m: int, path: str | Path, title: str = ""
) -> Path:
    """One row per operation, columns = addresses then bits: correct, missing and extra parts of each answer."""
    grid = np.zeros((len(expected), n + m), dtype=np.int64)
    for row, (a, e) in enumerate(zip(got, expected, strict=True)):
        (got_addresses, got_content), (want_addresses, want_content) = shown(a), shown(e)
        for offset, got_part, want in ((0, got_addresses, want_addresses), (n, got_content, want_content)):
            for i in set(got_part) | set(want):
                grid[row, offset + i] = 1 if (i in got_part and i in want) else (2 if i in want else 3)
    fig, ax = plt.subplots(figsize=(max(5, 0.12 * (n + m) + 3), max(3, 0.18 * len(expected) + 1.5)))
    colours = ListedColormap(["white", "tab:green", "tab:orange", "tab:red"])
    ax.imshow(grid, aspect="auto", cmap=colours, vmin=0, vmax=3, interpolation="nearest")
    ax.axvline(n - 0.5, color="k", lw=0.8)
    ax.set_yticks(range(len(expected)), [label(e.operation) for e in expected], fontsize=5)
    ax.set_xlabel(f"addresses 0..{n - 1} | content bits 0..{m - 1}")
    wrong = int(sum(a != e for a, e in zip(got, expected, strict=True)))
    ax.set_title(title or f"answers: green correct, orange missing, red extra ({wrong} wrong)", fontsize=9)
    fig.tight_layout()
    path = Path(path)
    fig.savefig(path, dpi=120)
    plt.close(fig)
    return path
