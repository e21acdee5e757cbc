"""Sparsey sequences: horizontal (H) weights chain a learned order of frames (spec sparsey.md section 1.5).

Protocol (after dcc's ``sequence_recognition``): an alphabet of 10 random
frames (64 bits, 8 active); 3 episodes of 6 frames drawn from it are learned
once each by one mac (Q=24, K=8) whose H receptive field is its own previous
code. Each learned episode is then recognised (max-V, U and H together, no
backoff to U alone) against a novel ordering of the same frames; a pair counts
as discriminated when the learned order's mean familiarity G over frames 2..6
is higher. The same run without H signals is the control (no temporal signal:
every ordering scores the same).

Usage: ``python experiments/sparsey_sequences.py [--quick]``
Writes ``results/sparsey_sequences/{metrics.json, sequence_G.png}``.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import matplotlib  # noqa: E402

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import torch  # noqa: E402

from neuromem.models.sparsey import CSAParams, Hierarchy, LevelParams  # noqa: E402
from neuromem.models.sparsey.analysis import random_patterns  # noqa: E402

PARAMS = CSAParams(lam_u=4.0, lam_h=1.0, sat_threshold=1.0)


def run_seed(seed: int, horizontal: bool, n_novel: int) -> tuple[list[float], list[float]]:
    """Mean G (frames 2..T) of learned episodes and of novel orderings of their frames."""
    gen = torch.Generator().manual_seed(seed)
    alphabet = random_patterns(10, 64, 8, gen)
    episodes = [torch.randperm(10, generator=gen)[:6] for _ in range(3)]
    level = LevelParams(grid=(1, 1), Q=24, K=8, rf_radius=1.0, h_radius=0.1 if horizontal else None)
    net = Hierarchy((8, 8), [level], PARAMS, seed=seed)
    for ep in episodes:
        net.learn_sequence(alphabet[ep])
    learned, novel = [], []
    for ep in episodes:
        orders = [ep] + [ep[torch.randperm(6, generator=gen)] for _ in range(n_novel)]
        runs = net.recognise_sequence(torch.stack([alphabet[o] for o in orders]))
        g = torch.stack([step[0].G[0, :, 0] for step in runs[1:]]).mean(dim=0)
        learned.append(float(g[0]))
        novel.extend(float(v) for v in g[1:])
    return learned, novel


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="3 seeds instead of 10")
    args = parser.parse_args()
    torch.set_num_threads(2)
    out_dir = ROOT / "results" / "sparsey_sequences"
    out_dir.mkdir(parents=True, exist_ok=True)
    seeds = range(3 if args.quick else 10)
    metrics: dict[str, object] = {"params": PARAMS.to_dict(), "seeds": len(seeds), "Q": 24, "K": 8}
    fig, ax = plt.subplots(figsize=(5, 3.6))
    for horizontal in (True, False):
        wins, learned_all, novel_all = [], [], []
        for seed in seeds:
            learned, novel = run_seed(seed, horizontal, n_novel=5)
            per = len(novel) // len(learned)
            for i, g in enumerate(learned):
                others = novel[i * per : (i + 1) * per]
                wins.extend([1.0 if g > o else 0.5 if g == o else 0.0 for o in others])
            learned_all += learned
            novel_all += novel
        key = "with_H" if horizontal else "without_H"
        metrics[key] = {
            "discrimination": float(np.mean(wins)),
            "G_learned_mean": float(np.mean(learned_all)),
            "G_novel_order_mean": float(np.mean(novel_all)),
        }
        print(key, metrics[key])
        ax.hist(novel_all, bins=20, alpha=0.5, label=f"novel order, {key}")
        ax.axvline(float(np.mean(learned_all)), ls="--", label=f"learned order mean, {key}")
    ax.set_xlabel("mean G over frames 2..6")
    ax.legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(out_dir / "sequence_G.png", dpi=120)
    (out_dir / "metrics.json").write_text(json.dumps(metrics, indent=2))


if __name__ == "__main__":
    main()
