"""HLOP's trained inference network exported after each task: the engine against NEST, Brian2, snnTorch, Norse.

Trains HLOP on permuted Fashion-MNIST (parameters of ``experiments/configs/hlop_pmnist.toml``)
and after each task exports the inference network (:mod:`neuromem.models.hlop.export`) and runs
``--per-task`` test images of every task seen so far on:

* the engine's module (the batched run of training, float32);
* the torch simulation of the exported network (float64, images one after another);
* NEST and pyNN.brian2 through PyNN (``--simulators``);
* the NIR graph loaded by snnTorch and by Norse (``--nir``, on ``--nir-per-task`` images of
  every task: :mod:`neuromem.models.hlop.nir_export`).

Writes ``results/hlop_export/metrics.json``: per task and target the accuracy, whether the
hidden spikes of each PyNN simulator are identical to the torch simulation's and those of each
NIR loader to the engine's (aligned: the loaders have no delays), and the largest logit
difference from the engine.

Run::

    python experiments/hlop_export.py --quick            # 3 tasks, 64-wide layers
    python experiments/hlop_export.py --tasks 10 --per-task 50
    python experiments/hlop_export.py --load results/hlop_pmnist/hlop_learner.npz --tasks 10 \
        --simulators nest,brian2 --nir snntorch,norse --nir-per-task 200
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
from neuromem.models.hlop.export import GAP_STEPS, exported_logits, to_network
from neuromem.models.hlop.harness import build_learner
from neuromem.models.hlop.io import load_learner
from neuromem.models.hlop.nir_export import nir_logits
from neuromem.models.hlop.tasks import permuted_tasks

ROOT = Path(__file__).resolve().parents[1]


def engine_logits(learner: object, images: np.ndarray, task: int) -> np.ndarray:
    """Logits of the engine's module (float32, batched: every image starts from rest)."""
    with torch.no_grad():
        x = learner._check_images(images)  # type: ignore[attr-defined]
        head = learner._head_of(task, training=False)  # type: ignore[attr-defined]
        return learner.net(x, head=head).cpu().numpy()  # type: ignore[attr-defined]


def nir_row(learner: object, seen: list, loaders: list[str], per_task: int) -> dict[str, object]:
    """Engine against the NIR loaders on ``per_task`` test images of every task seen."""
    accuracy: dict[str, list[float]] = {"engine": []}
    accuracy.update({loader: [] for loader in loaders})
    identical = {loader: True for loader in loaders}
    differing = {loader: 0 for loader in loaders}  # (step, image, neuron) entries where the spikes differ
    total_spikes = 0
    labels_differing = {loader: 0 for loader in loaders}
    difference = {loader: 0.0 for loader in loaders}
    seconds = {loader: 0.0 for loader in loaders}
    T = learner.network_config.num_steps  # type: ignore[attr-defined]
    for task in seen:
        images, labels = task.x_test[:per_task], task.y_test[:per_task]
        with torch.no_grad():
            head = learner._head_of(task.task_id, training=False)  # type: ignore[attr-defined]
            logits, spikes = learner.net.run(learner._check_images(images), head)  # type: ignore[attr-defined]
        engine = logits.double().numpy()
        accuracy["engine"].append(float((engine.argmax(1) == labels).mean()))
        total_spikes += int(sum(float(v.sum()) for v in spikes.values()))
        for loader in loaders:
            start = time.perf_counter()
            found, found_spikes = nir_logits(learner, task.task_id, images, loader)  # type: ignore[arg-type]
            seconds[loader] += time.perf_counter() - start
            accuracy[loader].append(float((found.argmax(1) == labels).mean()))
            difference[loader] = max(difference[loader], float(np.abs(found - engine).max()))
            labels_differing[loader] += int((found.argmax(1) != engine.argmax(1)).sum())
            for i, (name, value) in enumerate(found_spikes.items()):
                # Hidden layer i fires i + 1 steps later on the engine (one step of delay per projection).
                aligned = spikes[name].numpy()
                differing[loader] += int((aligned[i + 1 : i + 1 + T] != value).sum())
                identical[loader] &= bool(
                    np.array_equal(aligned[i + 1 : i + 1 + T], value) and aligned.sum() == value.sum()
                )
    return {
        "per_task": per_task,
        "accuracy": accuracy,
        "hidden_spikes_identical_to_engine": identical,
        "hidden_spikes_differing": differing,
        "engine_hidden_spikes": total_spikes,
        "predicted_labels_differing": labels_differing,
        "largest_logit_difference_vs_engine": difference,
        "seconds": seconds,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="the [quick] sizes of the TOML")
    parser.add_argument("--data", choices=["fashion", "mnist10k"], default="fashion")
    parser.add_argument("--params", default=str(ROOT / "experiments" / "configs" / "hlop_pmnist.toml"))
    parser.add_argument("--tasks", type=int, default=None, help="number of tasks (default: the TOML's)")
    parser.add_argument("--per-task", type=int, default=50, help="test images per task on every target")
    parser.add_argument("--simulators", default="nest", help="comma-separated PyNN simulators, or ''")
    parser.add_argument("--nir", default="", help="comma-separated NIR loaders (snntorch, norse), or ''")
    parser.add_argument("--nir-per-task", type=int, default=200, help="test images per task on the NIR loaders")
    parser.add_argument(
        "--gap",
        type=int,
        default=GAP_STEPS,
        help="rest steps between two exported images (membranes decay by exp(-gap dt / tau_m))",
    )
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
    loaders = [s for s in args.nir.split(",") if s]
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
        network = to_network(learner, ids, images, args.gap)
        start = time.perf_counter()
        logits["torch_sim"], reference = exported_logits(learner, network, ids, "torch", args.gap)
        seconds = {"torch_sim": time.perf_counter() - start}
        identical: dict[str, bool] = {}
        for simulator in simulators:
            start = time.perf_counter()
            logits[simulator], recording = exported_logits(learner, network, ids, simulator, args.gap)
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
        if loaders:
            row["nir"] = nir_row(learner, seen, loaders, args.nir_per_task)
        rows.append(row)
        print(
            f"after task {i}: "
            + "  ".join(f"{t} {100 * np.mean(a):.1f}" for t, a in per_task.items())
            + f"  identical spikes {identical}"
            + "".join(
                f"  {t} {100 * np.mean(a):.1f}"
                for t, a in row.get("nir", {}).get("accuracy", {}).items()  # type: ignore[attr-defined]
            ),
            flush=True,
        )
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    metrics = {
        "experiment": "hlop_export",
        "data": args.data,
        "quick": args.quick,
        "per_task": args.per_task,
        "gap_steps": args.gap,
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
