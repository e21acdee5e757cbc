"""Sparsey P2: single-trial familiarity, and G and identification under corruption and occlusion, per preset.

One mac (Q=20, K=10, 400-bit inputs with 20 active), three replicas, for each
shipped parameter set (``default`` = ``capacity``, ``sisc``):

1. Single-trial learning: items learned once each; at checkpoints up to about
   the analytic capacity (M90 = 249) the familiarity G of all stored items and
   of novel items (max-V recognition), the exact-recall fraction, and whether
   recognition changed any weight.
2. Corruption: with 50 items stored (light load, a fifth of M90), stored items
   with a fraction f of their active bits moved elsewhere (still 20 active):
   mean G, against the model G ~ ((1 - f) + f p1)^lam_U (the item's own cells
   keep 1 - f of their support and gain crosstalk p1 from the moved bits;
   (1 - f)^lam_U without crosstalk), and identification (the nearest stored
   code to the recognised code is the item's own, uniquely).
3. Occlusion: the same with the bits dropped instead (fewer active bits):
   G should stay 1, as V is normalised by the number of active inputs.
4. Load: identification at f = 0.6 against the number of items stored.

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
from sparsey_protocols import corruption_protocol, familiarity_protocol  # noqa: E402

from neuromem.models.sparsey import load_preset  # noqa: E402
from neuromem.models.sparsey.analysis import analytic_m90  # noqa: E402

FRACTIONS = (0.0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8)
PRESETS = ("default", "sisc")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="one replica, fewer checkpoints")
    args = parser.parse_args()
    torch.set_num_threads(1)
    out_dir = ROOT / "results" / "sparsey_familiarity"
    out_dir.mkdir(parents=True, exist_ok=True)
    m90 = analytic_m90(20, 10, 400, 20)
    checkpoints = (1, 25, 62, 125, 187, 250) if args.quick else (1, 10, 25, 50, 75, 100, 125, 150, 187, 225, 250)
    loads = (25, 50, 100, 150) if args.quick else (25, 50, 75, 100, 125, 150, 200)
    replicas = 1 if args.quick else 3
    p1 = 1.0 - (1.0 - 20 / 400 / 10) ** 50
    metrics: dict[str, object] = {"analytic_m90": m90, "replicas": replicas, "presets": {}}
    fig, axes = plt.subplots(1, 4, figsize=(17, 3.8))
    for name in PRESETS:
        params = load_preset(name)
        fam = familiarity_protocol(params, n_items=max(checkpoints), checkpoints=checkpoints, replicas=replicas)
        half = [i for i, m in enumerate(fam["M"]) if m <= m90 / 2]
        gap = min(fam["G_stored"][i] - fam["G_novel"][i] for i in half)
        moved = corruption_protocol(params, n_items=50, fractions=FRACTIONS, kind="move", replicas=replicas)
        dropped = corruption_protocol(params, n_items=50, fractions=FRACTIONS, kind="drop", replicas=replicas)
        load = {
            n: corruption_protocol(params, n_items=n, fractions=(0.6,), replicas=replicas)["identified"][0]
            for n in loads
        }
        model = [((1 - f) + f * p1) ** params.lam_u for f in moved["fraction"]]
        row = {
            "params": params.to_dict(),
            "familiarity": fam,
            "min_gap_up_to_half_capacity": gap,
            "moved": {
                **moved,
                "G_model_with_crosstalk": model,
                "G_model_(1-f)^lam_u": [(1 - f) ** params.lam_u for f in moved["fraction"]],
            },  # fmt: skip
            "dropped": dropped,
            "identified_at_60pct_moved_by_load": load,
            "checks": {
                "G_stored_is_1": fam["G_stored_min"] >= 1.0 - 1e-6,
                "gap_ge_0.5_up_to_half_capacity": gap >= 0.5,
                "recognition_changed_no_weight": fam["recognition_changed_no_weight"],
                "identified_ge_0.99_up_to_60pct_moved": min(
                    i for f, i in zip(moved["fraction"], moved["identified"], strict=True) if f <= 0.6
                )
                >= 0.99,
                "occluded_G_ge_0.99": min(dropped["G"]) >= 0.99,
            },
        }
        metrics["presets"][name] = row  # type: ignore[index]
        print(
            f"{name}: G novel {[round(g, 3) for g in fam['G_novel']]}, min gap to M90/2 {gap:.3f}; moved: G "
            f"{[round(g, 3) for g in moved['G']]}, identified {[round(i, 3) for i in moved['identified']]}; dropped: G "
            f"{[round(g, 3) for g in dropped['G']]}, identified {[round(i, 3) for i in dropped['identified']]}; "
            f"identified at 60% by load {load}; checks {row['checks']}",
            flush=True,
        )
        axes[0].plot(fam["M"], fam["G_stored"], "o-", label=f"{name}: stored")
        axes[0].plot(fam["M"], fam["G_novel"], "s--", label=f"{name}: novel")
        line = axes[1].plot(moved["fraction"], moved["G"], "o-", label=f"{name}: moved")[0]
        axes[1].plot(moved["fraction"], model, ":", color=line.get_color(), label=f"{name}: ((1-f)+f p1)^lam_U")
        axes[1].plot(dropped["fraction"], dropped["G"], "^--", color=line.get_color(), label=f"{name}: dropped")
        axes[2].plot(moved["fraction"], moved["identified"], "o-", label=f"{name}: moved")
        axes[2].plot(dropped["fraction"], dropped["identified"], "^--", label=f"{name}: dropped")
        axes[3].plot(list(load), list(load.values()), "o-", label=name)
    titles = (
        ("items stored M", "G", "single-trial familiarity"),
        ("fraction f of active bits changed", "G", "G of stored items, M = 50"),
        ("fraction f of active bits changed", "identified", "nearest stored code is own, M = 50"),
        ("items stored M", "identified", "identification at f = 0.6"),
    )
    for ax, (xlabel, ylabel, title) in zip(axes, titles, strict=True):
        ax.set_xlabel(xlabel)
        ax.set_ylabel(ylabel)
        ax.set_title(title, fontsize=9)
        ax.legend(fontsize=6)
    axes[0].axvline(m90 / 2, color="grey", ls=":")
    axes[2].axhline(0.99, color="grey", ls=":")
    fig.tight_layout()
    fig.savefig(out_dir / "familiarity.png", dpi=120)
    (out_dir / "metrics.json").write_text(json.dumps(metrics, indent=2))


if __name__ == "__main__":
    main()
