"""Runner shared by ``experiments/hlop_pmnist.py`` and ``experiments/hlop_split.py``.

Runs every method on every seed over the same task sequence per seed, writes
``metrics.json`` (R matrices, ACC/BWT per seed with mean and standard
deviation, seconds, lateral-circuit convergence, captured energy) and the PNGs.
"""

from __future__ import annotations

import json
import time
import tomllib
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

import numpy as np
import torch

from neuromem.models.hlop.harness import Params, load_params, run_method
from neuromem.models.hlop.io import save_learner
from neuromem.models.hlop.metrics import mean_std
from neuromem.models.hlop.plots import plot_accuracy_matrix, plot_convergence, plot_per_task, plot_spectrum
from neuromem.models.hlop.projection import HLOPLearner
from neuromem.models.hlop.subspace import FitHistory
from neuromem.models.hlop.tasks import Task

__all__ = ["load_experiment", "run_experiment"]


def load_experiment(path: str | Path, quick: bool) -> tuple[Params, dict[str, object]]:
    """Parameters and the ``[data]`` table, with ``[quick]`` overrides applied when ``quick``."""
    params = load_params(path)
    with Path(path).open("rb") as fh:
        raw = tomllib.load(fh)
    data = dict(raw.get("data", {}))
    if quick:
        q = raw.get("quick", {})
        data.update({k: q[k] for k in ("n_tasks", "n_train", "n_test", "seeds") if k in q})
        net = replace(params.network, hidden=tuple(q.get("hidden", params.network.hidden)))
        params = replace(
            params,
            network=net,
            train=replace(params.train, epochs=int(q.get("epochs", params.train.epochs))),
            hlop=replace(
                params.hlop,
                epochs=int(q.get("hlop_epochs", params.hlop.epochs)),
                first=tuple(q.get("hlop_first", params.hlop.first)),
                per_task=tuple(q.get("hlop_per_task", params.hlop.per_task)),
                decrease=tuple(q.get("hlop_decrease", params.hlop.decrease)),
            ),
        )
    return params, data


def _energy_and_spectrum(learner: HLOPLearner, tasks: list[Task], per_task: int) -> dict[str, dict[str, object]]:
    """Per layer: fraction of all tasks' activity energy inside H, and in the SVD top-M."""
    xs = torch.cat([torch.from_numpy(t.x_train[:per_task]) for t in tasks]).to(learner.device)
    acts: dict[str, list[torch.Tensor]] = {n: [] for n in learner.subspaces}
    for t in tasks:
        head = learner.task_heads[t.task_id]
        a = learner.net.presynaptic(torch.from_numpy(t.x_train[:per_task]).to(learner.device), head=head)
        for n in acts:
            acts[n].append(a[n] if n in a else a[f"head{head}"])
    del xs
    out = {}
    for name, sub in learner.subspaces.items():
        a = torch.cat(acts[name]).double()
        total = float((a**2).sum())
        basis = sub.orthonormal_basis().double()
        hlop_captured = float(((a @ basis.T) ** 2).sum()) / total
        s = torch.linalg.svdvals(a)
        m = sub.n_neurons
        svd_captured = float((s[:m] ** 2).sum() / (s**2).sum())
        out[name] = {
            "M": m,
            "hlop_energy": hlop_captured,
            "svd_top_M_energy": svd_captured,
            "singular_values": s.numpy().tolist(),
        }
    return out


def _history_json(history: list[dict[str, object]]) -> list[dict[str, object]]:
    rows = []
    for h in history:
        hist = h["history"]
        assert isinstance(hist, FitHistory)
        rows.append(
            {
                "task": h["task"],
                "layer": h["layer"],
                "added": h["added"],
                "reconstruction_error": hist.reconstruction_error,
                "mean_angle_deg": hist.mean_angle_deg,
                "max_angle_deg": hist.max_angle_deg,
            }
        )
    return rows


def _variant(method: str, params: Params) -> tuple[str, Params]:
    """Method variants: ``hlop_untrained`` (lateral neurons never trained, epochs 0) and
    ``multitask_<k>x`` (joint training with k times the epochs of one task)."""
    if method == "hlop_untrained":
        return "hlop", replace(params, hlop=replace(params.hlop, epochs=0))
    if method.startswith("multitask_") and method.endswith("x"):
        factor = int(method[len("multitask_") : -1])
        return "multitask", replace(params, train=replace(params.train, epochs=params.train.epochs * factor))
    return method, params


def run_experiment(
    name: str,
    tasks_for_seed: Callable[[int, dict[str, object]], list[Task]],
    params: Params,
    data: dict[str, object],
    methods: list[str],
    out_dir: Path,
    extra: dict[str, object] | None = None,
    log: Callable[[str], None] = print,
) -> dict[str, object]:
    """Run ``methods`` for every seed in ``data['seeds']``; write metrics.json and PNGs to ``out_dir``."""
    out_dir.mkdir(parents=True, exist_ok=True)
    seeds = [int(s) for s in data.get("seeds", [0])]  # type: ignore[union-attr]
    metrics: dict[str, object] = {
        "experiment": name,
        "methods": {},
        "params": {
            "network": params.network.__dict__,
            "train": params.train.__dict__,
            "hlop": params.hlop.__dict__,
            "ewc_lambda": params.ewc_lambda,
        },
        "data": data,
        "torch_threads": torch.get_num_threads(),
    }
    if extra:
        metrics.update(extra)
    per_method: dict[str, dict[str, list]] = {
        m: {"seeds": [], "acc": [], "bwt": [], "seconds": [], "cpu_seconds": [], "R": []} for m in methods
    }
    seed_seconds: list[float] = []
    seed_cpu: list[float] = []
    for seed in seeds:
        t0, c0 = time.perf_counter(), time.process_time()
        tasks = tasks_for_seed(seed, data)
        for method in methods:
            base, p = _variant(method, params)
            res = run_method(base, tasks, p, seed, log=log)
            rec = per_method[method]
            rec["seeds"].append(seed)
            rec["acc"].append(res["acc"])
            rec["bwt"].append(res["bwt"])
            rec["seconds"].append(res["seconds"])
            rec["cpu_seconds"].append(res["cpu_seconds"])
            rec["R"].append(np.asarray(res["R"]).tolist())
            learner = res["learner"]
            if seed == seeds[0] and method in ("hlop", "hlop_untrained"):
                assert isinstance(learner, HLOPLearner)
                key = "lateral_convergence" if method == "hlop" else "lateral_untrained"
                metrics[key] = _history_json(learner.fit_history)
                energy = _energy_and_spectrum(learner, tasks, 300)
                metrics[f"{key}_energy"] = {
                    k: {kk: vv for kk, vv in v.items() if kk != "singular_values"} for k, v in energy.items()
                }
                if method == "hlop":
                    plot_convergence(learner.fit_history, out_dir / "lateral_convergence.png")
                    plot_spectrum(
                        {
                            k: (np.asarray(v["singular_values"]), int(v["M"]), 100 * float(v["hlop_energy"]))
                            for k, v in energy.items()
                        },
                        out_dir / "spectrum.png",
                    )
                    save_learner(learner, out_dir / "hlop_learner")
            if seed == seeds[0] and not method.startswith("multitask"):
                plot_accuracy_matrix(np.asarray(res["R"]), f"{name}: {method}", out_dir / f"R_{method}.png")
            _write(out_dir, metrics, per_method)
        seed_seconds.append(time.perf_counter() - t0)
        seed_cpu.append(time.process_time() - c0)
        metrics["seconds_per_seed"] = seed_seconds
        metrics["cpu_seconds_per_seed"] = seed_cpu
        if seed == seeds[0]:
            plot_per_task(
                {m: np.asarray(per_method[m]["R"][0]) for m in methods if not m.startswith("multitask")},
                out_dir / "accuracy_per_task.png",
            )
    return _write(out_dir, metrics, per_method)


def _write(out_dir: Path, metrics: dict[str, object], per_method: dict[str, dict[str, list]]) -> dict[str, object]:
    summary = {}
    for m, rec in per_method.items():
        if not rec["acc"]:
            continue
        a_mean, a_std = mean_std([100 * a for a in rec["acc"]])
        entry: dict[str, object] = {
            "seeds": rec.get("seeds", []),
            "acc_mean": a_mean,
            "acc_std": a_std,
            "acc": [100 * a for a in rec["acc"]],
            "seconds": rec["seconds"],
            "cpu_seconds": rec.get("cpu_seconds", []),
            "R": rec["R"],
            "seeds_done": len(rec["acc"]),
        }
        if rec["bwt"][0] is not None:
            b_mean, b_std = mean_std([100 * b for b in rec["bwt"]])
            entry.update({"bwt_mean": b_mean, "bwt_std": b_std, "bwt": [100 * b for b in rec["bwt"]]})
        summary[m] = entry
    metrics["methods"] = summary
    tmp = out_dir / "metrics.json.tmp"
    tmp.write_text(json.dumps(metrics, indent=1, default=str))
    tmp.replace(out_dir / "metrics.json")
    return metrics


def merge_metrics(sources: list[Path], out_dir: Path) -> dict[str, object]:
    """Combine ``metrics.json`` of runs on different seeds or methods into one.

    Entries are keyed by (method, seed); a later source replaces an earlier
    one's entry for the same key (a method re-run with a fix). The first source
    keeps its convergence and energy records. Mean and spread are recomputed,
    and the accuracy-matrix and per-task plots are redrawn from the lowest seed.
    """
    loaded = [json.loads((Path(s) / "metrics.json").read_text()) for s in sources]
    entries: dict[str, dict[int, dict[str, object]]] = {}
    for m in loaded:
        run_seeds = list(m["data"].get("seeds", [0]))
        for name, e in m["methods"].items():
            seeds = e.get("seeds") or run_seeds[: e["seeds_done"]]
            for i, seed in enumerate(seeds):
                entries.setdefault(name, {})[int(seed)] = {
                    "acc": e["acc"][i] / 100,
                    "bwt": e["bwt"][i] / 100 if "bwt" in e else None,
                    "seconds": e["seconds"][i],
                    "cpu_seconds": (e.get("cpu_seconds") or [None] * len(seeds))[i],
                    "R": e["R"][i],
                }
    per_method: dict[str, dict[str, list]] = {}
    for name, by_seed in entries.items():
        rec = per_method.setdefault(name, {k: [] for k in ("seeds", "acc", "bwt", "seconds", "cpu_seconds", "R")})
        for seed in sorted(by_seed):
            rec["seeds"].append(seed)
            for key in ("acc", "bwt", "seconds", "cpu_seconds", "R"):
                rec[key].append(by_seed[seed][key])
    merged = dict(loaded[0])
    merged["merged_from"] = [str(s) for s in sources]
    out_dir.mkdir(parents=True, exist_ok=True)
    name = str(merged.get("experiment", "hlop"))
    sequential = [m for m in per_method if not m.startswith("multitask")]
    first_R = {m: np.asarray(per_method[m]["R"][0], dtype=float) for m in sequential}
    for m, R in first_R.items():
        plot_accuracy_matrix(R, f"{name}: {m} (seed {per_method[m]['seeds'][0]})", out_dir / f"R_{m}.png")
    plot_per_task(first_R, out_dir / "accuracy_per_task.png")
    return _write(out_dir, merged, per_method)


def print_summary(metrics: dict[str, object]) -> None:
    """One line per method: ACC and BWT (mean +- sd over seeds, percentage points)."""
    for m, e in metrics["methods"].items():  # type: ignore[union-attr]
        bwt = f"{e['bwt_mean']:.2f} +- {e['bwt_std']:.2f}" if "bwt_mean" in e else "n/a"
        print(f"{m:15s} ACC {e['acc_mean']:.2f} +- {e['acc_std']:.2f}   BWT {bwt}   seeds {e['seeds_done']}")
