"""Sparsey: the trade-off between similarity preservation and capacity over lam_U and the sigmoid.

Spec ``sparsey.md`` section 1.8 item 3: the V exponent lam_U and the V -> mu
sigmoid (steepness lam_sig, inflection V_infl, with the expansivity chi,
gamma) jointly decide whether similar inputs get similar codes (a broad
kernel), whether a drifting chain of inputs is captured by one code, and how
close a mac gets to its Willshaw capacity. For every lam_U of a grid and three
sigmoid families this script measures, on one mac (Q = 20, K = 10, 400-bit
inputs):

- P1 (``sisc_protocol``): Spearman rho between input and code overlap of
  graded variants of 30 stored prototypes (20 active bits);
- chains (``chain_protocol``): 4 drifting chains of 25 items (12 active bits,
  neighbours share 11) learned in order: Spearman rho, code overlap of
  input-disjoint items (chance 1/K = 0.1), unique best-match identification;
- capacity (``capacity_curve``, 20 active bits): measured M90 over the
  analytic M90 (mean-load model; the binomial-load model is also given), and
  the familiarity G of novel inputs at half the analytic M90;
- identification of stored items with 60 % of their active bits moved, 50
  items stored (``corruption_protocol``).

The three shipped presets (``neuromem/resources/parameters/sparsey_{default,capacity,sisc}.toml``)
are measured the same way and marked on the plot.

Usage: ``python experiments/sparsey_tradeoff.py [--quick]``
Writes ``results/sparsey_tradeoff/{metrics.json, tradeoff.png}``.
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
from sparsey_protocols import (  # noqa: E402
    capacity_curve,
    chain_protocol,
    corruption_protocol,
    familiarity_protocol,
    sisc_protocol,
)

from neuromem.models.sparsey import CSAParams, load_preset  # noqa: E402
from neuromem.models.sparsey.analysis import analytic_m90, empirical_m90  # noqa: E402

FAMILIES = {
    "shallow (lam_sig 7, V_infl 0.9, chi 4, gamma 1)": {"sig_lambda": 7.0, "v_infl": 0.9, "chi": 4.0, "gamma": 1.0},
    "spec (lam_sig 20, V_infl 0.5, chi 100, gamma 2)": {"sig_lambda": 20.0, "v_infl": 0.5, "chi": 100.0, "gamma": 2.0},
    "steep (lam_sig 50, V_infl 0.7, chi 100, gamma 2)": {"sig_lambda": 50.0, "v_infl": 0.7, "chi": 100.0, "gamma": 2.0},
}
LAM_U = [1.0, 1.4, 2.0, 3.0, 4.0, 6.0, 8.0, 10.0, 14.0]
QUICK_LAM_U = [1.0, 1.4, 3.0, 10.0]


def measure(params: CSAParams, replicas: int, seed: int) -> dict[str, float]:
    """Every number of the module docstring for one parameter set."""
    Q, K, N, s = 20, 10, 400, 20
    m90_mean = analytic_m90(Q, K, N, s)
    m90_binomial = analytic_m90(Q, K, N, s, load="binomial")
    p1 = sisc_protocol(params, Q, K, N, s, n_prototypes=30, n_variants=2, replicas=replicas, seed=seed)
    chain = chain_protocol(params, Q, K, N, n_active=12, n_chains=4, replicas=replicas, seed=seed)
    ms = sorted({int(round(m90_mean * f)) for f in np.arange(0.4, 1.61, 0.05)})
    cap = capacity_curve(params, Q, K, N, s, ms, replicas=replicas, seed=seed)
    m90 = empirical_m90(cap["M"], cap["exact_recall"])
    half = int(round(m90_mean / 2))
    fam = familiarity_protocol(params, Q, K, N, s, n_items=half, n_novel=50, replicas=replicas, seed=seed)
    cor = corruption_protocol(params, Q, K, N, s, n_items=50, fractions=(0.6,), replicas=replicas, seed=seed)
    return {
        "p1_spearman": p1["spearman"],
        "p1_unrelated_overlap": p1["code_overlap_mean"][0],
        "p1_curve": p1["code_overlap_mean"],
        "chain_spearman": chain["spearman"],
        "chain_disjoint_overlap": chain["disjoint_overlap"],
        "chain_neighbour_overlap": chain["neighbour_overlap"],
        "chain_best_match": chain["best_match"],
        "M90": m90,
        "M90_over_analytic": m90 / m90_mean,
        "M90_over_binomial_model": m90 / m90_binomial,
        "G_novel_half_capacity": fam["G_novel"][-1],
        "identified_at_60pct_moved": cor["identified"][0],
        "G_at_60pct_moved": cor["G"][0],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="4 values of lam_U, one replica")
    args = parser.parse_args()
    torch.set_num_threads(1)
    out_dir = ROOT / "results" / "sparsey_tradeoff"
    out_dir.mkdir(parents=True, exist_ok=True)
    lam_grid = QUICK_LAM_U if args.quick else LAM_U
    replicas = 1 if args.quick else 3
    metrics: dict[str, object] = {"replicas": replicas, "families": {}, "presets": {}}
    start = time.perf_counter()
    for family, values in FAMILIES.items():
        rows = []
        for lam_u in lam_grid:
            params = dataclasses.replace(CSAParams(**values), lam_u=lam_u)
            row = {"lam_u": lam_u, **measure(params, replicas, seed=1)}
            rows.append(row)
            print(
                f"{family[:7]} lam_U {lam_u:4.1f}: P1 rho {row['p1_spearman']:.3f}, chain rho "
                f"{row['chain_spearman']:.3f}, disjoint {row['chain_disjoint_overlap']:.3f}, best match "
                f"{row['chain_best_match']:.2f}, M90/analytic {row['M90_over_analytic']:.3f}, G novel "
                f"{row['G_novel_half_capacity']:.2f}, identified@60% {row['identified_at_60pct_moved']:.3f}",
                flush=True,
            )
        metrics["families"][family] = rows  # type: ignore[index]
    for preset in ("default", "capacity", "sisc"):
        params = load_preset(preset)
        row = {"params": params.to_dict(), **measure(params, replicas, seed=1)}
        metrics["presets"][preset] = row  # type: ignore[index]
        print(f"preset {preset}: { {k: v for k, v in row.items() if k not in ('params', 'p1_curve')} }")
    metrics["seconds"] = time.perf_counter() - start
    plot(metrics, out_dir / "tradeoff.png")
    (out_dir / "metrics.json").write_text(json.dumps(metrics, indent=2))


def plot(metrics: dict[str, object], path: Path) -> None:
    """Four panels against lam_U, one line per sigmoid family, presets as stars."""
    panels = [
        ("p1_spearman", "P1 Spearman rho (graded variants)"),
        ("chain_disjoint_overlap", "chain: code overlap of disjoint inputs"),
        ("M90_over_analytic", "M90 / analytic M90"),
        ("G_novel_half_capacity", "G of novel inputs at M90/2"),
    ]
    fig, axes = plt.subplots(2, 2, figsize=(10, 7))
    for ax, (key, title) in zip(axes.flat, panels, strict=True):
        for family, rows in metrics["families"].items():  # type: ignore[union-attr]
            ax.plot([r["lam_u"] for r in rows], [r[key] for r in rows], "o-", ms=3, label=family)
        for name, row in metrics["presets"].items():  # type: ignore[union-attr]
            ax.plot(row["params"]["lam_u"], row[key], "*", ms=12, label=f"preset {name}")
        ax.set_xscale("log")
        ax.set_xlabel("lam_U")
        ax.set_title(title, fontsize=9)
    axes[0, 1].axhspan(0.07, 0.13, color="grey", alpha=0.2)
    axes[0, 0].axhline(0.75, color="grey", ls=":")
    axes[1, 0].axhline(0.85, color="grey", ls=":")
    axes[0, 0].legend(fontsize=6)
    fig.tight_layout()
    fig.savefig(path, dpi=120)


if __name__ == "__main__":
    main()
