"""Sparsey P2: single-trial learning and familiarity (spec sparsey.md section 4, P2).

One mac (Q=20, K=10, 400-bit inputs with 20 active, code-default CSA
parameters, freezing off as in the analytic capacity model). Items are learned
once each; at checkpoints up to about the analytic capacity (M90 = 249) we
read the familiarity G of all stored items and of novel items by max-V
recognition, the exact-recall fraction, and whether recognition changed any
weight. A second curve: G of a stored item against corruption (moving m of its
20 active bits) after 100 items.

Usage: ``python experiments/sparsey_familiarity.py [--quick]``
Writes ``results/sparsey_familiarity/{metrics.json, familiarity.png}``.
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
import torch  # noqa: E402

from neuromem.models.sparsey import CSAParams, MacLayer  # noqa: E402
from neuromem.models.sparsey.analysis import analytic_m90, move_bits, random_patterns  # noqa: E402
from neuromem.models.sparsey.protocols import familiarity_protocol  # noqa: E402


def corruption_curve(params: CSAParams, n_items: int, replicas: int, seed: int = 0) -> dict[str, list[float]]:
    """Mean G of stored items with m of their 20 active bits moved, after n_items stored."""
    gen = torch.Generator().manual_seed(seed)
    layer = MacLayer.single(400, 20, 10, params=params, replicas=replicas, seed=seed + 1)
    items = torch.stack([random_patterns(n_items, 400, 20, gen) for _ in range(replicas)])
    for i in range(n_items):
        layer.learn(items[:, i])
    noise, g = [], []
    for m in range(0, 21, 2):
        probes = torch.stack(
            [torch.stack([move_bits(items[r, i], m, gen) for i in range(n_items)]) for r in range(replicas)]
        )
        noise.append(m / 20)
        g.append(float(layer.recognise(probes).G.mean()))
    return {"moved_fraction": noise, "G": g}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="one replica, fewer checkpoints")
    args = parser.parse_args()
    torch.set_num_threads(2)
    out_dir = ROOT / "results" / "sparsey_familiarity"
    out_dir.mkdir(parents=True, exist_ok=True)
    params = CSAParams(sat_threshold=1.0)
    m90 = analytic_m90(20, 10, 400, 20)
    checkpoints = (1, 25, 62, 125, 187, 250) if args.quick else (1, 10, 25, 50, 75, 100, 125, 150, 187, 225, 250, 300)
    replicas = 1 if args.quick else 3
    res = familiarity_protocol(
        params,
        Q=20,
        K=10,
        n_inputs=400,
        n_active=20,
        n_items=max(checkpoints),
        checkpoints=checkpoints,
        replicas=replicas,
    )
    half = [i for i, m in enumerate(res["M"]) if m <= m90 / 2]
    gap = [res["G_stored"][i] - res["G_novel"][i] for i in half]
    res.update(
        {
            "analytic_m90": m90,
            "params": params.to_dict(),
            "replicas": replicas,
            "min_gap_up_to_half_capacity": min(gap),
            "corruption": corruption_curve(params, 100, replicas),
        }
    )
    res["checks"] = {
        "G_stored_is_1": res["G_stored_min"] >= 1.0 - 1e-6,
        "gap_ge_0.5_up_to_half_capacity": min(gap) >= 0.5,
        "recognition_changed_no_weight": res["recognition_changed_no_weight"],
    }
    print(
        f"G stored min {res['G_stored_min']:.4f}; G novel {res['G_novel']}; min gap up to M={m90 / 2:.0f}: "
        f"{min(gap):.3f}; checks {res['checks']}"
    )
    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(9, 3.6))
    ax1.plot(res["M"], res["G_stored"], "o-", label="G stored")
    ax1.plot(res["M"], res["G_novel"], "s-", label="G novel")
    ax1.plot(res["M"], res["exact_recall"], "^--", label="exact recall")
    ax1.axvline(m90 / 2, color="grey", ls=":", label="half analytic capacity")
    ax1.set_xlabel("items stored M")
    ax1.legend(fontsize=8)
    ax1.set_title("single-trial familiarity")
    ax2.plot(res["corruption"]["moved_fraction"], res["corruption"]["G"], "o-")
    ax2.set_xlabel("fraction of active bits moved")
    ax2.set_ylabel("G")
    ax2.set_title("G against corruption (M=100)")
    fig.tight_layout()
    fig.savefig(out_dir / "familiarity.png", dpi=120)
    (out_dir / "metrics.json").write_text(json.dumps(res, indent=2))


if __name__ == "__main__":
    main()
