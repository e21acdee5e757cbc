"""Sparsey sequences: H weights chain a learned order; the backoff chain trades order for time-warp robustness.

Protocol (after dcc's ``sequence_recognition``, spec sparsey.md sections 1.5 and
1.2 step 4): an alphabet of 10 random frames (64 bits, 8 active); 3 episodes of
6 frames drawn from it (frames recur across episodes, so a frame's code
depends on its context) are learned once each by one mac (Q = 24, K = 8, lam_U
4) whose H receptive field is its own previous code. Recognition runs with U
and H, either without a backoff chain or with the chain ("UH", "U") at
thresholds 0.9 (retry with U alone where U-and-H familiarity is below 0.9).

1. Order: each learned episode against 5 novel orderings of its frames; a pair
   is discriminated when the learned order's mean G over frames 2..6 is higher
   (ties count half). The run without H signals is the control (0.5).
2. Time warp: each episode presented as learned, with one interior frame
   skipped (every choice), and with one frame shown twice (every choice).
   Per presented frame: is the stored code nearest (by overlap) to the
   recognised code the one stored for that frame at that place of that
   episode (right context), and is it at least a code stored for that frame
   (right frame)?

Usage: ``python experiments/sparsey_sequences.py [--quick]``
Writes ``results/sparsey_sequences/{metrics.json, sequences.png}``.
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

BASE = {"lam_u": 4.0}
#: Weak context (U decides, H breaks ties between a frame's contexts) and strong context (H can override U).
LAM_H = {"weak": 1.0, "strong": 8.0}
CHAIN = {"backoff": ("UH", "U"), "backoff_g": (0.9, 0.9)}
N_EPISODES, LENGTH, ALPHABET = 3, 6, 10


def build(
    seed: int, horizontal: bool, backoff: bool, lam_h: float = 1.0
) -> tuple[Hierarchy, torch.Tensor, list[torch.Tensor]]:
    """A mac that has learned the seed's episodes; returns it, the alphabet and the episodes (symbol indices)."""
    gen = torch.Generator().manual_seed(seed)
    alphabet = random_patterns(ALPHABET, 64, 8, gen)
    episodes = [torch.randperm(ALPHABET, generator=gen)[:LENGTH] for _ in range(N_EPISODES)]
    level = LevelParams(grid=(1, 1), Q=24, K=8, rf_radius=1.0, h_radius=0.1 if horizontal else None)
    params = CSAParams(**BASE, lam_h=lam_h, **(CHAIN if backoff else {}))
    net = Hierarchy((8, 8), [level], params, seed=seed)
    for ep in episodes:
        net.learn_sequence(alphabet[ep])
    return net, alphabet, episodes


def order_discrimination(
    net: Hierarchy, alphabet: torch.Tensor, episodes: list[torch.Tensor], seed: int
) -> list[float]:
    """Win (1), tie (0.5) or loss (0) of each learned order against 5 novel orders of its frames."""
    gen = torch.Generator().manual_seed(1000 + seed)
    wins = []
    for ep in episodes:
        orders = [ep] + [ep[torch.randperm(LENGTH, generator=gen)] for _ in range(5)]
        runs = net.recognise_sequence(torch.stack([alphabet[o] for o in orders]))
        g = torch.stack([step[0].G[0, :, 0] for step in runs[1:]]).mean(dim=0)
        wins += [1.0 if g[0] > o else 0.5 if g[0] == o else 0.0 for o in g[1:].tolist()]
    return wins


def stored_codes(net: Hierarchy, alphabet: torch.Tensor, episodes: list[torch.Tensor]) -> torch.Tensor:
    """Codes of every (episode, place) read by recognising the learned episodes, (E*T, Q)."""
    runs = net.recognise_sequence(torch.stack([alphabet[ep] for ep in episodes]))
    return torch.stack([step[0].code[0, :, 0] for step in runs], dim=1).reshape(-1, net.levels[0].Q)


def time_warp(net: Hierarchy, alphabet: torch.Tensor, episodes: list[torch.Tensor], reference: torch.Tensor) -> dict:
    """Right-context and right-frame identification per condition (see the module docstring)."""
    symbols = torch.stack(episodes).reshape(-1)
    out: dict[str, dict[str, float]] = {}
    conditions = {
        "as learned": [list(range(LENGTH))],
        "one frame skipped": [[t for t in range(LENGTH) if t != s] for s in range(1, LENGTH - 1)],
        "one frame repeated": [sorted(list(range(LENGTH)) + [s]) for s in range(LENGTH)],
    }
    for name, places in conditions.items():
        context, frame = [], []
        for e, ep in enumerate(episodes):
            runs = net.recognise_sequence(torch.stack([alphabet[ep[torch.tensor(p)]] for p in places]))
            codes = torch.stack([step[0].code[0, :, 0] for step in runs], dim=1)  # (variants, T', Q)
            overlap = (codes[..., None, :] == reference[None, None]).sum(dim=-1)  # (variants, T', E*T)
            nearest = overlap.argmax(dim=-1)
            for v, p in enumerate(places):
                for t, place in enumerate(p):
                    context.append(float(nearest[v, t] == e * LENGTH + place))
                    frame.append(float(symbols[nearest[v, t]] == ep[place]))
        out[name] = {"right_context": float(np.mean(context)), "right_frame": float(np.mean(frame))}
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="3 seeds instead of 10")
    args = parser.parse_args()
    torch.set_num_threads(1)
    out_dir = ROOT / "results" / "sparsey_sequences"
    out_dir.mkdir(parents=True, exist_ok=True)
    seeds = range(3 if args.quick else 10)
    metrics: dict[str, object] = {"params": BASE, "chain": {k: list(v) for k, v in CHAIN.items()}, "seeds": len(seeds)}
    runs = [("no_H", False, False, 1.0)]
    for strength, lam_h in LAM_H.items():
        runs += [(f"H_{strength}", True, False, lam_h), (f"H_{strength}_backoff", True, True, lam_h)]
    for key, horizontal, backoff, lam_h in runs:
        wins, warps = [], []
        for seed in seeds:
            net, alphabet, episodes = build(seed, horizontal, backoff, lam_h)
            wins += order_discrimination(net, alphabet, episodes, seed)
            reference = stored_codes(build(seed, horizontal, False, lam_h)[0], alphabet, episodes)
            warps.append(time_warp(net, alphabet, episodes, reference))
        warp = {
            cond: {m: float(np.mean([w[cond][m] for w in warps])) for m in ("right_context", "right_frame")}
            for cond in warps[0]
        }
        metrics[key] = {"lam_h": lam_h, "order_discrimination": float(np.mean(wins)), "time_warp": warp}
        print(key, json.dumps(metrics[key]))
    plot(metrics, out_dir / "sequences.png")
    (out_dir / "metrics.json").write_text(json.dumps(metrics, indent=2))


def plot(metrics: dict, path: Path) -> None:
    """Order discrimination and right-context identification per condition, with and without backoff."""
    keys = [k for k in metrics if k.startswith(("no_H", "H_"))]
    conds = list(metrics["no_H"]["time_warp"])
    fig, axes = plt.subplots(1, 3, figsize=(14, 3.8))
    axes[0].bar(range(len(keys)), [metrics[k]["order_discrimination"] for k in keys])
    axes[0].set_xticks(range(len(keys)), keys, fontsize=7, rotation=20)
    axes[0].axhline(0.5, color="grey", ls=":")
    axes[0].set_ylabel("learned order scores higher G")
    axes[0].set_ylim(0, 1)
    pos = np.arange(len(conds))
    width = 0.8 / len(keys)
    for ax, measure in zip(axes[1:], ("right_frame", "right_context"), strict=True):
        for i, k in enumerate(keys):
            values = [metrics[k]["time_warp"][c][measure] for c in conds]
            ax.bar(pos + width * (i - (len(keys) - 1) / 2), values, width, label=k)
        ax.set_xticks(pos, conds, fontsize=8)
        ax.set_ylabel(f"nearest stored code: {measure.replace('_', ' ')}")
        ax.set_ylim(0, 1)
    axes[2].legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(path, dpi=120)


if __name__ == "__main__":
    main()
