"""HLOP on permuted Fashion-MNIST (10 tasks, single head) against fine-tuning, EWC, SVD projection, multitask.

Writes ``results/hlop_pmnist/metrics.json`` and PNGs (accuracy matrices, accuracy
per task, captured spectrum, lateral-circuit convergence) and a saved HLOP learner.

Run::

    python experiments/hlop_pmnist.py            # full: 10 tasks, seeds from experiments/configs/hlop_pmnist.toml
    python experiments/hlop_pmnist.py --quick    # 3 tasks, small sizes
    python experiments/hlop_pmnist.py --data mnist --root /path/to/mnist-idx   # permuted MNIST
    python experiments/hlop_pmnist.py --data mnist10k   # the shared 10,000 digits, stratified split
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np
import torch

from neuromem.data import load_fashion_mnist, load_mnist, load_mnist10k, stratified_split
from neuromem.models.hlop.experiment import load_experiment, merge_metrics, print_summary, run_experiment
from neuromem.models.hlop.tasks import Task, permuted_tasks

ROOT = Path(__file__).resolve().parents[1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="3 tasks, small network, one seed")
    parser.add_argument("--data", choices=["fashion", "mnist", "mnist10k"], default="fashion")
    parser.add_argument("--root", default=None, help="folder of IDX files (MNIST, or Fashion-MNIST elsewhere)")
    parser.add_argument("--params", default=str(ROOT / "experiments" / "configs" / "hlop_pmnist.toml"))
    parser.add_argument("--methods", default="finetune,ewc,svd,hlop,multitask,hlop_untrained")
    parser.add_argument("--seeds", default=None, help="comma-separated, overrides the TOML")
    parser.add_argument("--threads", type=int, default=1, help="torch threads; 1 is fastest on shared cores")
    parser.add_argument("--out", default=None)
    parser.add_argument("--merge", nargs="+", default=None, help="result folders of other seeds to merge into --out")
    args = parser.parse_args()
    if args.merge:
        merged = merge_metrics([Path(p) for p in args.merge], Path(args.out or ROOT / "results" / "hlop_pmnist"))
        print_summary(merged)
        return
    torch.set_num_threads(args.threads)
    params, data = load_experiment(args.params, args.quick)
    if args.seeds:
        data["seeds"] = [int(s) for s in args.seeds.split(",")]
    if args.data == "fashion":
        xtr, ytr = load_fashion_mnist(args.root, "train")
        xte, yte = load_fashion_mnist(args.root, "test")
    elif args.data == "mnist":
        xtr, ytr = load_mnist(args.root, "train")
        xte, yte = load_mnist(args.root, "test")
    else:
        x, y = load_mnist10k()
        itr, ite = stratified_split(y, 0.2, seed=0)  # mnist10k has no official split
        xtr, ytr, xte, yte = x[itr], y[itr], x[ite], y[ite]
    name = {"fashion": "hlop_pmnist", "mnist": "hlop_pmnist_mnist", "mnist10k": "hlop_pmnist_mnist10k"}[args.data]
    name += "_quick" if args.quick else ""

    def tasks_for_seed(seed: int, d: dict[str, object]) -> list[Task]:
        return permuted_tasks(xtr, ytr, xte, yte, int(d["n_tasks"]), seed, int(d["n_train"]), int(d["n_test"]))

    out = Path(args.out) if args.out else ROOT / "results" / name
    t0 = time.perf_counter()
    metrics = run_experiment(
        name,
        tasks_for_seed,
        params,
        data,
        args.methods.split(","),
        out,
        extra={"dataset": args.data, "train_size": int(np.asarray(ytr).size)},
    )
    print(f"total {time.perf_counter() - t0:.1f} s; results in {out}")
    print_summary(metrics)


if __name__ == "__main__":
    main()
