"""HLOP on split Fashion-MNIST (5 tasks x 2 classes, multi-head) against the baselines.

Writes ``results/hlop_split/metrics.json`` and PNGs. Each task has its own
readout head (trained only during its task); the shared hidden layers are
protected by the lateral subspace neurons.

Run::

    python experiments/hlop_split.py            # full
    python experiments/hlop_split.py --quick    # small sizes, one seed
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import torch

from neuromem.data import load_fashion_mnist
from neuromem.models.hlop.experiment import load_experiment, merge_metrics, print_summary, run_experiment
from neuromem.models.hlop.tasks import Task, split_tasks

ROOT = Path(__file__).resolve().parents[1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small network and data, one seed")
    parser.add_argument("--root", default=None, help="Fashion-MNIST IDX folder (default: Debian package)")
    parser.add_argument("--params", default=str(ROOT / "experiments" / "configs" / "hlop_split.toml"))
    parser.add_argument("--methods", default="finetune,ewc,svd,hlop,multitask,hlop_untrained")
    parser.add_argument("--seeds", default=None, help="comma-separated, overrides the TOML")
    parser.add_argument("--threads", type=int, default=1, help="torch threads; 1 is fastest on shared cores")
    parser.add_argument("--out", default=None)
    parser.add_argument("--merge", nargs="+", default=None, help="result folders of other runs to merge into --out")
    args = parser.parse_args()
    if args.merge:
        print_summary(merge_metrics([Path(p) for p in args.merge], Path(args.out or ROOT / "results" / "hlop_split")))
        return
    torch.set_num_threads(args.threads)
    params, data = load_experiment(args.params, args.quick)
    if args.seeds:
        data["seeds"] = [int(s) for s in args.seeds.split(",")]
    xtr, ytr = load_fashion_mnist(args.root, "train")
    xte, yte = load_fashion_mnist(args.root, "test")
    name = "hlop_split" + ("_quick" if args.quick else "")

    def tasks_for_seed(seed: int, d: dict[str, object]) -> list[Task]:
        # The class split is fixed; the seed changes the drawn samples and the network.
        return split_tasks(xtr, ytr, xte, yte, classes_per_task=2, n_train=int(d["n_train"]), seed=seed)

    out = Path(args.out) if args.out else ROOT / "results" / name
    t0 = time.perf_counter()
    metrics = run_experiment(
        name, tasks_for_seed, params, data, args.methods.split(","), out, extra={"dataset": "fashion-mnist split 5x2"}
    )
    print(f"total {time.perf_counter() - t0:.1f} s; results in {out}")
    print_summary(metrics)


if __name__ == "__main__":
    main()
