"""Continual-learning harness: run methods over a task sequence, fill R, ACC, BWT.

Example
-------
>>> params = load_params("experiments/configs/hlop_pmnist.toml")  # doctest: +SKIP
>>> result = run_method("hlop", tasks, params, seed=0)  # doctest: +SKIP
>>> result["acc"], result["bwt"]  # doctest: +SKIP
"""

from __future__ import annotations

import time
import tomllib
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np

from neuromem.errors import FileFormatError, ValidationError
from neuromem.models.hlop.baselines import EWCLearner, MultitaskLearner, SVDProjectionLearner
from neuromem.models.hlop.learner import ContinualLearner, FineTuneLearner, TrainConfig
from neuromem.models.hlop.metrics import acc, bwt
from neuromem.models.hlop.network import NetworkConfig
from neuromem.models.hlop.projection import HLOPConfig, HLOPLearner
from neuromem.models.hlop.tasks import Task

__all__ = ["METHODS", "Params", "build_learner", "load_params", "run_method", "run_sequence"]

METHODS = ("finetune", "ewc", "svd", "hlop", "multitask")


@dataclass(frozen=True)
class Params:
    """One parameter set: network, training, lateral circuit, EWC strength."""

    network: NetworkConfig
    train: TrainConfig
    hlop: HLOPConfig
    ewc_lambda: float = 1000.0
    ewc_samples: int = 500


def _tuples(section: dict[str, object]) -> dict[str, object]:
    return {k: tuple(v) if isinstance(v, list) else v for k, v in section.items()}


def load_params(path: str | Path) -> Params:
    """Read a TOML parameter set with tables ``[network]``, ``[train]``, ``[hlop]``, ``[ewc]``."""
    p = Path(path)
    try:
        with p.open("rb") as fh:
            data = tomllib.load(fh)
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise FileFormatError(f"HLOP parameters '{p}': cannot be read as TOML ({exc})") from exc
    try:
        ewc = data.get("ewc", {})
        return Params(
            network=NetworkConfig(**_tuples(data.get("network", {}))),  # type: ignore[arg-type]
            train=TrainConfig(**data.get("train", {})),
            hlop=HLOPConfig(**_tuples(data.get("hlop", {}))),  # type: ignore[arg-type]
            ewc_lambda=float(ewc.get("lambda", 1000.0)),
            ewc_samples=int(ewc.get("samples", 500)),
        )
    except TypeError as exc:
        raise FileFormatError(f"HLOP parameters '{p}': unknown or missing field ({exc})") from exc


def build_learner(method: str, params: Params, seed: int, device: str = "cpu") -> ContinualLearner:
    """A fresh learner of ``method`` (one of :data:`METHODS`) seeded with ``seed``."""
    train = replace(params.train, seed=seed)
    if method == "finetune":
        return FineTuneLearner(params.network, train, device)
    if method == "ewc":
        return EWCLearner(params.network, train, params.ewc_lambda, params.ewc_samples, device)
    if method == "svd":
        return SVDProjectionLearner(params.network, train, params.hlop, device)
    if method == "hlop":
        return HLOPLearner(params.network, train, params.hlop, device)
    if method == "multitask":
        return MultitaskLearner(params.network, train, device)
    raise ValidationError(f"build_learner: method '{method}' is unknown; allowed: {', '.join(METHODS)}")


def run_sequence(learner: ContinualLearner, tasks: list[Task], log: Callable[[str], None] | None = None) -> np.ndarray:
    """Train ``tasks`` in order; ``R[i, j]`` for j <= i (NaN above the diagonal)."""
    T = len(tasks)
    R = np.full((T, T), np.nan)
    for i, task in enumerate(tasks):
        learner.train_task(task.task_id, task.x_train, task.y_train)
        for j in range(i + 1):
            R[i, j] = learner.evaluate(tasks[j].task_id, tasks[j].x_test, tasks[j].y_test)
        if log is not None:
            log(f"{learner.method}: after task {i}: " + " ".join(f"{r:.3f}" for r in R[i, : i + 1]))
    return R


def run_method(
    method: str,
    tasks: list[Task],
    params: Params,
    seed: int,
    device: str = "cpu",
    log: Callable[[str], None] | None = None,
) -> dict[str, object]:
    """Run one method on one seed: R, ACC, BWT (fractions), seconds, and the learner."""
    start = time.perf_counter()
    cpu_start = time.process_time()
    learner = build_learner(method, params, seed, device)
    if isinstance(learner, MultitaskLearner):
        learner.train_joint([t.task_id for t in tasks], [t.x_train for t in tasks], [t.y_train for t in tasks])
        R = np.full((len(tasks), len(tasks)), np.nan)
        R[-1] = [learner.evaluate(t.task_id, t.x_test, t.y_test) for t in tasks]
        result: dict[str, object] = {"R": R, "acc": float(R[-1].mean()), "bwt": None}
    else:
        R = run_sequence(learner, tasks, log)
        result = {"R": R, "acc": acc(R), "bwt": bwt(R)}
    result["seconds"] = time.perf_counter() - start
    result["cpu_seconds"] = time.process_time() - cpu_start  # this process's CPU time, all threads
    result["learner"] = learner
    if log is not None:
        b = result["bwt"]
        log(
            f"{method} seed {seed}: ACC {100 * result['acc']:.2f}  BWT "
            f"{'n/a' if b is None else f'{100 * b:.2f}'}  ({result['seconds']:.1f} s)"
        )
    return result
