"""Sparsey P1: similar inputs get similar codes (spec sparsey.md section 4, P1).

Protocol: one mac (Q=20, K=10), 400-bit inputs with 20 active. Store 50 random
prototypes once each; for every prototype make variants that move m = 0, 2,
..., 20 of its 20 active bits (input overlap (20 - m)/20), give each variant a
learning-mode code without writing (``assign``), and measure the code overlap
with the prototype's stored code as a fraction of Q. Exact repeats are also
read out by max-V recognition. Three replicas (seeds) run in one batched pass.

Run with both published parameter sets: ``sisc`` (broad kernel) and
``capacity`` (the code defaults; narrow kernel), to show the trade-off.

Usage: ``python experiments/sparsey_similarity.py [--quick]``
Writes ``results/sparsey_similarity/{metrics.json, code_overlap.png}``.
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
import torch  # noqa: E402

from neuromem.models.sparsey import load_preset  # noqa: E402
from neuromem.models.sparsey.protocols import sisc_protocol  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer prototypes and variants")
    args = parser.parse_args()
    torch.set_num_threads(2)
    out_dir = ROOT / "results" / "sparsey_similarity"
    out_dir.mkdir(parents=True, exist_ok=True)
    sizes = (
        {"n_prototypes": 20, "n_variants": 2, "replicas": 2}
        if args.quick
        else {"n_prototypes": 50, "n_variants": 4, "replicas": 3}
    )
    metrics: dict[str, object] = {"Q": 20, "K": 10, "n_inputs": 400, "n_active": 20, **sizes, "presets": {}}
    fig, ax = plt.subplots(figsize=(5, 4))
    for preset in ("sisc", "capacity"):
        params = load_preset(preset)
        start = time.perf_counter()
        res = sisc_protocol(params, Q=20, K=10, n_inputs=400, n_active=20, **sizes)
        res["seconds"] = time.perf_counter() - start
        res["params"] = params.to_dict()
        means = res["code_overlap_mean"]
        res["checks"] = {
            "spearman_ge_0.8": res["spearman"] >= 0.8,
            "unrelated_within_0.03_of_1/K": abs(means[0] - 0.1) <= 0.03,
            "non_decreasing_tol_0.03": all(b >= a - 0.03 for a, b in zip(means, means[1:], strict=False)),
            "repeat_maxv_ge_0.99": res["repeat_overlap_maxv"] >= 0.99,
        }
        metrics["presets"][preset] = res  # type: ignore[index]
        ax.errorbar(
            res["input_overlap"],
            means,
            yerr=res["code_overlap_sd"],
            marker="o",
            capsize=2,
            label=f"{preset} (Spearman {res['spearman']:.2f})",
        )
        print(
            f"{preset}: spearman {res['spearman']:.3f}, overlap at 0 {means[0]:.3f}, "
            f"repeat (max-V) {res['repeat_overlap_maxv']:.3f}, checks {res['checks']}"
        )
    ax.axhline(0.1, color="grey", ls=":", label="chance 1/K")
    ax.set_xlabel("input overlap")
    ax.set_ylabel("code overlap (fraction of Q)")
    ax.set_title("Sparsey similarity preservation, Q=20 K=10")
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(out_dir / "code_overlap.png", dpi=120)
    (out_dir / "metrics.json").write_text(json.dumps(metrics, indent=2))


if __name__ == "__main__":
    main()
