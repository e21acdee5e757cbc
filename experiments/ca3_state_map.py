"""CA3 memory, applicability test (published experiment 3): a 4 x 4 grid state map at maximum rate.

n = 16 cells, m = 6 one-hot states; 16 writes every 7 ms, then 4 recalls by content every 6 ms
(spec ca3.md section 3.1). Compares every spike with the SpiNNaker recording where present, and draws
the map with the cells each recall returned.

Writes ``results/ca3_state_map/metrics.json``, ``raster.png``, ``weights.png``, ``answers.png``, ``map.png``.

Run::

    python experiments/ca3_state_map.py [--params spinnaker] [--out results/ca3_state_map]
"""

from __future__ import annotations

import argparse
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import torch  # noqa: E402
from common import write_metrics  # noqa: E402

from neuromem.demo import run_published  # noqa: E402
from neuromem.models.ca3 import CA3Memory, load_params, scenarios  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]


def draw_map(recalls: list[tuple[tuple[int, ...], tuple[int, ...]]], path: Path) -> None:
    """The map's states, and for each recall the cells it returned (outlined)."""
    states = np.array(scenarios.STATE_MAP)
    fig, axes = plt.subplots(1, len(recalls) + 1, figsize=(3 * (len(recalls) + 1), 3))
    for ax, (fragment, cells) in zip(axes, [((), ())] + recalls, strict=True):
        ax.imshow(states, cmap="Pastel1", vmin=0, vmax=8)
        for cell in range(16):
            row, col = divmod(cell, 4)
            ax.text(col, row, scenarios.STATE_NAMES[states[row, col]], ha="center", va="center", fontsize=6)
            if cell in cells:
                ax.add_patch(plt.Rectangle((col - 0.45, row - 0.45), 0.9, 0.9, fill=False, ec="k", lw=2))
        ax.set_xticks([])
        ax.set_yticks([])
        names = "+".join(scenarios.STATE_NAMES[b] for b in fragment)
        ax.set_title(f"recall {names}" if fragment else "stored map", fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--params", default="spinnaker", help="shipped parameter set ca3_<name>.toml")
    parser.add_argument("--out", default=str(ROOT / "results" / "ca3_state_map"))
    parser.add_argument(
        "--threads", type=int, default=1, help="torch CPU threads (1 is fastest for these small tensors)"
    )
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    params = load_params(args.params)
    n, m, sim_time = scenarios.SIZES["state_map"]
    operations = scenarios.state_map()
    out = Path(args.out)
    metrics = run_published("state_map", operations, n, m, sim_time, out, params)
    answers = CA3Memory(n, m, params=params).execute(operations)[0]
    recalls = [(a.operation.content, a.addresses) for a in answers if a.operation.kind == "recall_by_content"]
    metrics["recalls"] = [{"fragment": list(f), "cells": list(c)} for f, c in recalls]
    draw_map(recalls, out / "map.png")
    print(write_metrics(metrics, out))
    for fragment, cells in recalls:
        print("recall", [scenarios.STATE_NAMES[b] for b in fragment], "-> cells", list(cells))
    print({k: metrics[k] for k in ("answers_correct", "operations") if k in metrics}, metrics.get("gold_exact"))


if __name__ == "__main__":
    main()
