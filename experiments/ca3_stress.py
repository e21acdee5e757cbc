"""CA3 memory, stress test (published experiment 2) and random operation sequences at maximum rate.

Part 1 replays the published stress test (n = 5, m = 10, 60 operations every 14 ms: write binary(i+1),
recall both ways, overwrite with the complement, recall, overwrite back, recall; spec ca3.md 3.1) and
compares every spike with the SpiNNaker recording where present.
Part 2 characterises random sequences (stores, overwrites, recalls by address and by fragment) at the
minimum spacing (7 ms after a store, 6 ms after a recall) and at a relaxed 10 ms spacing, for each
parameter set, many seeds in one batched torch pass; it counts recalls that differ from a perfect memory.

Writes ``results/ca3_stress/metrics.json``, ``raster.png``, ``weights.png``, ``answers.png``, ``random.png``.

Run::

    python experiments/ca3_stress.py [--seeds 20] [--operations 60] [--quick]
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
from neuromem.models.ca3 import CA3Memory, load_params, place, scenarios  # noqa: E402
from neuromem.models.ca3.scenarios import random_program, spaced, wrong_recalls  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]


def random_stress(
    params_name: str, seeds: int, count: int, spacing_ms: int | None, n: int = 5, m: int = 10
) -> list[int]:
    """Wrong recalls per seed for ``count`` random operations (all seeds in one batch)."""
    params = load_params(params_name)
    programs = [random_program(np.random.default_rng(seed), n, m, count) for seed in range(seeds)]
    if spacing_ms is not None:
        programs = [spaced(p, spacing_ms) for p in programs]
    else:
        programs = [place(p, 0, params.spacing_after_store_ms, params.spacing_after_recall_ms) for p in programs]
    memory = CA3Memory(n, m, batch_size=seeds, params=params)
    return [wrong_recalls(answers)[0] for answers in memory.execute(programs)]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--params", default="spinnaker", help="parameter set of part 1")
    parser.add_argument("--seeds", type=int, default=20)
    parser.add_argument("--operations", type=int, default=60)
    parser.add_argument("--quick", action="store_true", help="4 seeds of 30 operations")
    parser.add_argument("--out", default=str(ROOT / "results" / "ca3_stress"))
    parser.add_argument(
        "--threads", type=int, default=1, help="torch CPU threads (1 is fastest for these small tensors)"
    )
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    seeds, count = (4, 30) if args.quick else (args.seeds, args.operations)
    n, m, sim_time = scenarios.SIZES["stress"]
    out = Path(args.out)
    metrics = run_published("stress", scenarios.stress(), n, m, sim_time, out, load_params(args.params))
    random: dict[str, dict[str, object]] = {}
    for params_name in ("spinnaker", "amplitude36", "fullrate"):
        for label, spacing in (("minimum 7/6 ms", None), ("10 ms", 10)):
            wrong = random_stress(params_name, seeds, count, spacing)
            random[f"{params_name}, {label}"] = {
                "wrong_per_seed": wrong,
                "mean_wrong": float(np.mean(wrong)),
                "max_wrong": int(max(wrong)),
                "operations_per_seed": count,
            }
            print(params_name, label, "wrong recalls per seed:", wrong)
    metrics["random_stress"] = random
    fig, ax = plt.subplots(figsize=(7, 3.5))
    for k, result in enumerate(random.values()):
        values = result["wrong_per_seed"]
        ax.scatter(np.full(len(values), k) + np.linspace(-0.2, 0.2, len(values)), values, s=10)  # type: ignore[arg-type]
    ax.set_xticks(range(len(random)), list(random), fontsize=7, rotation=15)
    ax.set_ylabel(f"wrong recalls of {count} operations")
    ax.set_title(f"random operation sequences, n = {n}, m = {m}, {seeds} seeds")
    fig.tight_layout()
    fig.savefig(out / "random.png", dpi=120)
    plt.close(fig)
    print(write_metrics(metrics, out))
    print(
        {
            k: metrics.get(k)
            for k in ("gold_spikes_matched", "gold_spikes_extra", "gold_spikes_missing", "answers_correct")
        }
    )


if __name__ == "__main__":
    main()
