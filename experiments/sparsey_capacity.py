"""Sparsey P3: exact recall and capacity against (Q, K) and input size (spec sparsey.md section 4, P3).

For each setting (Q, K, N, s), one mac with the ``capacity`` preset learns
random inputs (N bits, s active) once each; at a grid of M every item
presented so far is recognised by max-V and counts as recalled when the mac
stored it and the recognised code equals the stored code in every CM.

Two analytic models of a Willshaw memory per CM with random codes:

- mean load (the spec's): p1 = 1 - (1 - a/K)^M, a rival cell ties with
  probability t = p1^s;
- binomial load: a rival was chosen by n ~ Binomial(M - 1, 1/K) items and
  t = E_n[(1 - (1 - a)^n)^s]. Because t is an s-th power, the busiest cells
  dominate: the mean-load model is about 15 % high.

Per-CM correctness sum_j C(K-1, j) t^j (1-t)^(K-1-j)/(j+1), exact recall =
that^Q. A contrast run with random codes (chi = 0: uniform selection) shows
what codes chosen without familiarity reach, and a run with freezing at 0.5
shows the critical period's price (items refused by frozen macs count as not
recalled, so recall never rises again).

Checks (issue targets): M90 within 15 % of the analytic model for (Q, K) in
{(20, 10), (20, 20), (40, 10)} at N = 400, s = 20; recall below 0.1 within a
factor 2 in M past M90 and never above 0.1 again.

Usage: ``python experiments/sparsey_capacity.py [--quick]``
Writes ``results/sparsey_capacity/{metrics.json, capacity.png}``.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import matplotlib  # noqa: E402

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import torch  # noqa: E402
from sparsey_protocols import capacity_curve  # noqa: E402

from neuromem.models.sparsey import load_preset  # noqa: E402
from neuromem.models.sparsey.analysis import analytic_exact_recall, analytic_m90, empirical_m90  # noqa: E402

TARGETS = [(20, 10, 400, 20), (20, 20, 400, 20), (40, 10, 400, 20)]
EXTRA = [(10, 10, 400, 20), (20, 10, 800, 20)]


def run_setting(params: object, Q: int, K: int, N: int, s: int, replicas: int, seeds: int, step: float) -> dict:
    """M90 (mean over seeds), the recall curve of the first seed, and the collapse checks."""
    m90_mean = analytic_m90(Q, K, N, s)
    m90_binomial = analytic_m90(Q, K, N, s, load="binomial")
    ms = sorted(
        {int(round(m90_mean * f)) for f in np.arange(0.5, 1.3, step)} | {int(m90_mean * f) for f in (1.6, 2.0, 2.5)}
    )
    curves = [capacity_curve(params, Q, K, N, s, ms, replicas=replicas, seed=seed) for seed in range(seeds)]  # type: ignore[arg-type]
    m90s = [empirical_m90(c["M"], c["exact_recall"]) for c in curves]
    m90 = float(np.mean(m90s))
    recall = np.mean([c["exact_recall"] for c in curves], axis=0)
    below = [m for m, r in zip(ms, recall, strict=True) if r < 0.1]
    after = [r for m, r in zip(ms, recall, strict=True) if below and m >= below[0]]
    return {
        "Q": Q,
        "K": K,
        "N": N,
        "s": s,
        "M": ms,
        "exact_recall": recall.tolist(),
        "stored": curves[0]["stored"],
        "frozen": curves[0]["frozen"],
        "G_novel": curves[0]["G_novel"],
        "M90_per_seed": m90s,
        "M90_empirical": m90,
        "M90_analytic_mean_load": m90_mean,
        "M90_analytic_binomial_load": m90_binomial,
        "ratio_to_mean_load": m90 / m90_mean,
        "ratio_to_binomial_load": m90 / m90_binomial,
        "within_15pct": abs(m90 / m90_mean - 1) <= 0.15,
        "first_M_below_0.1": below[0] if below else None,
        "below_0.1_within_2x_M90": bool(below and below[0] <= 2 * m90),
        "never_above_0.1_again": bool(after and max(after) < 0.1),
        "bits_per_synapse_at_M90": m90 * Q * np.log2(K) / (N * Q * K),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="the three target settings, one seed")
    args = parser.parse_args()
    torch.set_num_threads(1)
    out_dir = ROOT / "results" / "sparsey_capacity"
    out_dir.mkdir(parents=True, exist_ok=True)
    params = load_preset("capacity")
    replicas, seeds, step = (2, 1, 0.1) if args.quick else (4, 3, 0.05)
    contrasts = {
        "random codes (chi = 0)": dataclasses.replace(params, chi=0.0),
        "freezing at 0.5": dataclasses.replace(params, sat_threshold=0.5),
    }
    metrics: dict[str, object] = {"params": params.to_dict(), "replicas": replicas, "seeds": seeds, "settings": []}
    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(11, 4.2))
    for Q, K, N, s in TARGETS + ([] if args.quick else EXTRA):
        start = time.perf_counter()
        entry = run_setting(params, Q, K, N, s, replicas, seeds, step)
        entry["seconds"] = time.perf_counter() - start
        metrics["settings"].append(entry)  # type: ignore[union-attr]
        print(
            f"Q={Q} K={K} N={N} s={s}: M90 {entry['M90_empirical']:.0f} (seeds {np.round(entry['M90_per_seed'])}); "
            f"analytic {entry['M90_analytic_mean_load']:.0f} (ratio {entry['ratio_to_mean_load']:.3f}), binomial-load "
            f"{entry['M90_analytic_binomial_load']:.0f} (ratio {entry['ratio_to_binomial_load']:.3f}); below 0.1 at "
            f"{entry['first_M_below_0.1']}, never above again {entry['never_above_0.1_again']}; "
            f"{entry['seconds']:.0f} s",
            flush=True,
        )
        line = ax1.plot(entry["M"], entry["exact_recall"], "o", ms=3)[0]
        grid = np.linspace(1, max(entry["M"]), 200)
        ax1.plot(grid, [analytic_exact_recall(m, Q, K, N, s) for m in grid], "-", color=line.get_color(),
                 label=f"Q={Q} K={K} N={N}")  # fmt: skip
        ax1.plot(grid, [analytic_exact_recall(m, Q, K, N, s, load="binomial") for m in grid], ":",
                 color=line.get_color())  # fmt: skip
    metrics["contrasts"] = {}
    Q, K, N, s = TARGETS[0]
    for name, contrast in contrasts.items():
        entry = run_setting(contrast, Q, K, N, s, replicas, 1, 0.1)
        metrics["contrasts"][name] = entry  # type: ignore[index]
        print(
            f"contrast {name}: M90 ratio {entry['ratio_to_mean_load']:.3f}, recall {np.round(entry['exact_recall'], 2)}"
        )
        ax2.plot(entry["M"], entry["exact_recall"], "o-", ms=3, label=name)
    first = metrics["settings"][0]  # type: ignore[index]
    ax2.plot(first["M"], first["exact_recall"], "o-", ms=3, label="capacity preset")
    by = {(e["Q"], e["K"], e["N"]): e["M90_empirical"] for e in metrics["settings"]}  # type: ignore[union-attr]
    growth = {}
    if (20, 20, 400) in by:
        growth["K10_to_K20_ratio"] = by[(20, 20, 400)] / by[(20, 10, 400)]
    if (20, 10, 800) in by:
        growth["N400_to_N800_ratio"] = by[(20, 10, 800)] / by[(20, 10, 400)]
    metrics["growth"] = growth
    targets = [e for e in metrics["settings"] if (e["Q"], e["K"], e["N"], e["s"]) in TARGETS]  # type: ignore[union-attr]
    metrics["targets_within_15pct"] = {f"Q{e['Q']}K{e['K']}": e["within_15pct"] for e in targets}
    print("growth", growth, "targets within 15 %", metrics["targets_within_15pct"])
    for ax in (ax1, ax2):
        ax.axhline(0.9, color="grey", ls=":")
        ax.axhline(0.1, color="grey", ls=":")
        ax.set_xlabel("items presented M")
        ax.set_ylabel("exact-recall fraction")
        ax.legend(fontsize=7)
    ax1.set_title("simulation (dots), mean-load (line) and binomial-load (dotted) models", fontsize=8)
    ax2.set_title(f"Q={Q} K={K}: familiarity-driven codes, random codes, freezing", fontsize=8)
    fig.tight_layout()
    fig.savefig(out_dir / "capacity.png", dpi=120)
    (out_dir / "metrics.json").write_text(json.dumps(metrics, indent=2))


if __name__ == "__main__":
    main()
