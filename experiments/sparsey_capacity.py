"""Sparsey P3: exact recall and capacity against (Q, K) and input size (spec sparsey.md section 4, P3).

For each setting (Q, K, N, s), one mac learns random inputs (N bits, s active)
once each with the code-default CSA (V exponent 10, freezing off as in the
model); at a grid of M we recognise every stored item by max-V and count the
fraction whose code equals the stored code in every CM. The analytic model is
a Willshaw memory per CM: p1 = 1 - (1 - a/K)^M, t = p1^s, per-CM correctness
sum_j C(K-1, j) t^j (1-t)^(K-1-j)/(j+1), exact recall = that^Q.

Checks: empirical M90 within 25% of the analytic value for every setting;
capacity grows with K and with N (doubling either about doubles M90); the
collapse is sharp (from > 0.9 to < 0.1 within a factor 2 in M).

Usage: ``python experiments/sparsey_capacity.py [--quick]``
Writes ``results/sparsey_capacity/{metrics.json, capacity.png}``.
"""

from __future__ import annotations

import argparse
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

from neuromem.models.sparsey import CSAParams  # noqa: E402
from neuromem.models.sparsey.analysis import analytic_exact_recall, analytic_m90, empirical_m90  # noqa: E402
from neuromem.models.sparsey.protocols import capacity_curve  # noqa: E402

SETTINGS = [(20, 10, 400, 20), (10, 10, 400, 20), (40, 10, 400, 20), (20, 20, 400, 20), (20, 10, 800, 20)]
QUICK_SETTINGS = [(20, 10, 400, 20), (10, 10, 400, 20), (20, 20, 400, 20)]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="three settings, one replica")
    args = parser.parse_args()
    torch.set_num_threads(2)
    out_dir = ROOT / "results" / "sparsey_capacity"
    out_dir.mkdir(parents=True, exist_ok=True)
    params = CSAParams(sat_threshold=1.0)
    settings = QUICK_SETTINGS if args.quick else SETTINGS
    replicas = 1 if args.quick else 2
    metrics: dict[str, object] = {"params": params.to_dict(), "replicas": replicas, "settings": []}
    fig, ax = plt.subplots(figsize=(6, 4.2))
    for n, (Q, K, N, s) in enumerate(settings):
        m90_a = analytic_m90(Q, K, N, s)
        ms = sorted({int(round(m90_a * f)) for f in np.arange(0.3, 2.01, 0.1 if args.quick else 0.05)})
        start = time.perf_counter()
        curve = capacity_curve(params, Q, K, N, s, ms, replicas=replicas, seed=n)
        m90_e = empirical_m90(curve["M"], curve["exact_recall"])
        above = [m for m, r in zip(curve["M"], curve["exact_recall"], strict=True) if r > 0.9]
        below = [m for m, r in zip(curve["M"], curve["exact_recall"], strict=True) if r < 0.1]
        sharp = bool(above and below and min(below) <= 2 * max(above))
        entry = {
            "Q": Q,
            "K": K,
            "N": N,
            "s": s,
            **curve,
            "analytic": [analytic_exact_recall(m, Q, K, N, s) for m in curve["M"]],
            "M90_empirical": m90_e,
            "M90_analytic": m90_a,
            "ratio": m90_e / m90_a,
            "within_25pct": abs(m90_e / m90_a - 1) <= 0.25,
            "sharp_collapse": sharp,
            "bits_per_synapse_at_M90": m90_e * Q * np.log2(K) / (N * Q * K),
            "seconds": time.perf_counter() - start,
        }
        metrics["settings"].append(entry)  # type: ignore[union-attr]
        print(
            f"Q={Q} K={K} N={N} s={s}: M90 empirical {m90_e:.0f}, analytic {m90_a:.0f}, "
            f"ratio {m90_e / m90_a:.2f}, sharp {sharp}, {entry['seconds']:.1f} s"
        )
        line = ax.plot(curve["M"], curve["exact_recall"], "o", ms=3)[0]
        grid = np.linspace(1, max(curve["M"]), 200)
        ax.plot(
            grid,
            [analytic_exact_recall(m, Q, K, N, s) for m in grid],
            "-",
            color=line.get_color(),
            label=f"Q={Q} K={K} N={N}",
        )
    by = {(e["Q"], e["K"], e["N"]): e["M90_empirical"] for e in metrics["settings"]}  # type: ignore[union-attr]
    growth = {}
    if (20, 20, 400) in by:
        growth["K10_to_K20_ratio"] = by[(20, 20, 400)] / by[(20, 10, 400)]
    if (20, 10, 800) in by:
        growth["N400_to_N800_ratio"] = by[(20, 10, 800)] / by[(20, 10, 400)]
    if (10, 10, 400) in by and (40, 10, 400) in by:
        growth["Q10_to_Q40_ratio"] = by[(40, 10, 400)] / by[(10, 10, 400)]
    metrics["growth"] = growth
    metrics["all_within_25pct"] = all(e["within_25pct"] for e in metrics["settings"])  # type: ignore[union-attr]
    print("growth", growth, "all within 25%", metrics["all_within_25pct"])
    ax.axhline(0.9, color="grey", ls=":")
    ax.set_xlabel("items stored M")
    ax.set_ylabel("exact-recall fraction")
    ax.set_title("Sparsey capacity: simulation (dots) vs analytic (lines)")
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(out_dir / "capacity.png", dpi=120)
    (out_dir / "metrics.json").write_text(json.dumps(metrics, indent=2))


if __name__ == "__main__":
    main()
