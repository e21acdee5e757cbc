"""HLOP's trained inference network exported after each task: the engine against NEST (and NIR loaders).

Trains HLOP on permuted Fashion-MNIST (parameters of ``experiments/configs/hlop_pmnist.toml``)
and after each task exports the inference network (:mod:`neuromem.models.hlop.export`) and runs
``--per-task`` test images of every task seen so far on:

* the engine's module (the batched run of training, float32);
* the torch simulation of the exported network (float64, images one after another);
* NEST through PyNN (``--simulators``; ``brian2`` too if wanted).

Writes ``results/hlop_export/metrics.json``: per task and target the accuracy, and whether the
hidden spikes of the torch simulation and of NEST are identical.

Run::

    python experiments/hlop_export.py --quick            # 3 tasks, 64-wide layers
    python experiments/hlop_export.py --tasks 10 --per-task 50
    python experiments/hlop_export.py --load results/hlop_pmnist/hlop_learner.npz --tasks 10
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np
import torch

from neuromem.data import load_fashion_mnist, load_mnist10k, stratified_split
from neuromem.models.hlop.experiment import load_experiment
from neuromem.models.hlop.export import exported_logits, to_network
from neuromem.models.hlop.harness import build_learner
from neuromem.models.hlop.io import load_learner
from neuromem.models.hlop.tasks import permuted_tasks

ROOT = Path(__file__).resolve().parents[1]


def engine_logits(learner: object, images: np.ndarray, task: int) -> np.ndarray:
    """Logits of the engine's module (float32, batched: every image starts from rest)."""
    with torch.no_grad():
        x = learner._check_images(images)  # type: ignore[attr-defined]
        head = learner._head_of(task, training=False)  # type: ignore[attr-defined]
        return learner.net(x, head=head).cpu().numpy()  # type: ignore[attr-defined]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="the [quick] sizes of the TOML")
    parser.add_argument("--data", choices=["fashion", "mnist10k"], default="fashion")
    parser.add_argument("--params", default=str(ROOT / "experiments" / "configs" / "hlop_pmnist.toml"))
    parser.add_argument("--tasks", type=int, default=None, help="number of tasks (default: the TOML's)")
    parser.add_argument("--per-task", type=int, default=50, help="test images per task on every target")
    parser.add_argument("--simulators", default="nest", help="comma-separated PyNN simulators, or ''")
    parser.add_argument("--load", default=None, help="a saved HLOP learner: evaluate it once, no training")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--out", default=str(ROOT / "results" / "hlop_export"))
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    params, data = load_experiment(args.params, args.quick)
    n_tasks = int(args.tasks or data["n_tasks"])
    if args.data == "fashion":
        xtr, ytr = load_fashion_mnist(None, "train")
        xte, yte = load_fashion_mnist(None, "test")
    else:
        x, y = load_mnist10k()
        itr, ite = stratified_split(y, 0.2, seed=0)
        xtr, ytr, xte, yte = x[itr], y[itr], x[ite], y[ite]
    tasks = permuted_tasks(xtr, ytr, xte, yte, n_tasks, args.seed, int(data["n_train"]), int(data["n_test"]))
    simulators = [s for s in args.simulators.split(",") if s]
    rows: list[dict[str, object]] = []
    learner = load_learner(args.load) if args.load else build_learner("hlop", params, args.seed)
    schedule = [len(tasks) - 1] if args.load else list(range(len(tasks)))
    for i in schedule:
        if not args.load:
            learner.train_task(tasks[i].task_id, tasks[i].x_train, tasks[i].y_train)
        seen = tasks[: i + 1]
        images = np.concatenate([t.x_test[: args.per_task] for t in seen])
        labels = np.concatenate([t.y_test[: args.per_task] for t in seen])
        ids = [t.task_id for t in seen for _ in range(min(args.per_task, len(t.y_test)))]
        logits = {
            "engine": np.concatenate([engine_logits(learner, t.x_test[: args.per_task], t.task_id) for t in seen])
        }
        network = to_network(learner, ids, images)
        start = time.perf_counter()
        logits["torch_sim"], reference = exported_logits(learner, network, ids, "torch")
        seconds = {"torch_sim": time.perf_counter() - start}
        identical: dict[str, bool] = {}
        for simulator in simulators:
            start = time.perf_counter()
            logits[simulator], recording = exported_logits(learner, network, ids, simulator)
            seconds[simulator] = time.perf_counter() - start
            identical[simulator] = all(
                recording.spikes[p].pairs() == reference.spikes[p].pairs() for p in reference.spikes
            )
        per_task = {
            target: [
                float(
                    (
                        value[k * args.per_task : (k + 1) * args.per_task].argmax(1)
                        == labels[k * args.per_task : (k + 1) * args.per_task]
                    ).mean()
                )
                for k in range(len(seen))
            ]
            for target, value in logits.items()
        }
        row = {
            "after_task": i,
            "accuracy": per_task,
            "largest_logit_difference_vs_engine": {
                t: float(np.abs(v - logits["engine"]).max()) for t, v in logits.items() if t != "engine"
            },
            "hidden_spikes_identical_to_torch_sim": identical,
            "spikes": {p: len(reference.spikes[p]) for p in reference.spikes},
            "seconds": seconds,
        }
        rows.append(row)
        print(
            f"after task {i}: "
            + "  ".join(f"{t} {100 * np.mean(a):.1f}" for t, a in per_task.items())
            + f"  identical spikes {identical}",
            flush=True,
        )
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    metrics = {
        "experiment": "hlop_export",
        "data": args.data,
        "quick": args.quick,
        "per_task": args.per_task,
        "seed": args.seed,
        "network": {k: list(v) if isinstance(v, tuple) else v for k, v in params.network.__dict__.items()},
        "rows": rows,
    }
    tmp = out / "metrics.json.tmp"
    tmp.write_text(json.dumps(metrics, indent=1))
    tmp.replace(out / "metrics.json")
    print(f"results in {out}")


if __name__ == "__main__":
    main()
