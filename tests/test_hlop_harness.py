"""Task sequences, parameter files and the harness that fills R."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch

from neuromem.errors import FileFormatError, ValidationError
from neuromem.models.hlop.experiment import load_experiment, merge_metrics
from neuromem.models.hlop.harness import Params, build_learner, load_params, run_method
from neuromem.models.hlop.learner import TrainConfig
from neuromem.models.hlop.network import NetworkConfig
from neuromem.models.hlop.projection import HLOPConfig
from neuromem.models.hlop.tasks import permuted_tasks, split_tasks

torch.set_num_threads(1)
ROOT = Path(__file__).resolve().parents[1]


def _images(n: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    return rng.integers(0, 256, (n, 28, 28), dtype=np.uint8), np.arange(n) % 10


def test_permuted_tasks_apply_one_fixed_permutation_per_task_and_keep_task_zero_original() -> None:
    n = 40
    # Distinct pixel values everywhere, and label = image index, so every pixel can be traced.
    x = (np.random.default_rng(0).permutation(n * 784) / (n * 784)).reshape(n, 28, 28).astype(np.float32)
    y = np.arange(n)
    tasks = permuted_tasks(x, y, x, y, n_tasks=3, seed=1, n_train=20, n_test=10)
    flat = x.reshape(n, -1)
    np.testing.assert_array_equal(tasks[0].x_train, flat[tasks[0].y_train])
    perms = []
    for task in tasks[1:]:
        first = flat[task.y_train[0]]
        perm = np.argsort(first)[np.argsort(np.argsort(task.x_train[0]))]
        np.testing.assert_array_equal(task.x_train, flat[task.y_train][:, perm])
        np.testing.assert_array_equal(task.x_test, flat[task.y_test][:, perm])
        perms.append(perm)
    assert not np.array_equal(perms[0], perms[1]) and not np.array_equal(perms[0], np.arange(784))


def test_split_tasks_remap_labels_to_zero_and_one() -> None:
    x, y = _images(100, 2)
    tasks = split_tasks(x, y, x, y, classes_per_task=2)
    assert len(tasks) == 5
    assert all(set(np.unique(t.y_train)) == {0, 1} for t in tasks)
    assert tasks[2].name == "classes [4, 5]" and tasks[2].x_test.shape == (20, 784)


@pytest.mark.parametrize("name", ["hlop_pmnist", "hlop_split"])
def test_shipped_parameter_files_load_in_full_and_quick_form(name: str) -> None:
    params, data = load_experiment(ROOT / "experiments" / "configs" / f"{name}.toml", quick=False)
    quick, qdata = load_experiment(ROOT / "experiments" / "configs" / f"{name}.toml", quick=True)
    assert params.network.hidden == (256, 256) and quick.network.hidden == (64, 64)
    assert data["seeds"] == [0, 1, 2] and qdata["seeds"] == [0]
    # Quick lateral sizes stay below the 64-wide layers, so no layer is frozen outright.
    assert max(quick.hlop.first[1:]) < 64


def test_bad_parameter_file_and_unknown_method_are_refused(tmp_path: Path) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text("[network]\nhidden = [8]\nbogus = 1\n")
    with pytest.raises(FileFormatError, match="unknown or missing field"):
        load_params(bad)
    with pytest.raises(FileFormatError, match="cannot be read"):
        load_params(tmp_path / "absent.toml")
    params = Params(NetworkConfig(input_shape=(784,), hidden=(8,)), TrainConfig(), HLOPConfig())
    with pytest.raises(ValidationError, match="method 'sgd' is unknown"):
        build_learner("sgd", params, seed=0)


def test_multitask_fills_only_the_last_row_and_sequential_methods_fill_the_lower_triangle() -> None:
    x, y = _images(60, 3)
    tasks = permuted_tasks(x, y, x, y, n_tasks=2, seed=0, n_train=30, n_test=20)
    params = Params(
        NetworkConfig(input_shape=(784,), hidden=(16,), num_steps=2, threshold=0.5),
        TrainConfig(epochs=1, batch_size=16),
        HLOPConfig(first=(4, 4), per_task=(2,), decrease=(0,), epochs=1, samples=20),
    )
    multi = run_method("multitask", tasks, params, seed=0)
    assert np.isnan(multi["R"][0]).all() and not np.isnan(multi["R"][1]).any() and multi["bwt"] is None
    for method in ("finetune", "ewc", "svd", "hlop"):
        R = run_method(method, tasks, params, seed=0)["R"]
        assert np.isnan(R[0, 1]) and not np.isnan(R[np.tril_indices(2)]).any()


def _fake_run(folder: Path, seeds: list[int], acc: list[float], bwt: list[float]) -> None:
    R = [[0.9, float("nan")], [0.8, 0.9]]
    entry = {"seeds": seeds, "acc": acc, "bwt": bwt, "seconds": [1.0] * len(seeds), "R": [R] * len(seeds)}
    entry["seeds_done"] = len(seeds)
    folder.mkdir()
    metrics = {"experiment": "x", "data": {"seeds": seeds}, "methods": {"ewc": entry}}
    (folder / "metrics.json").write_text(json.dumps(metrics))


def test_merge_keeps_one_entry_per_seed_and_later_runs_replace_earlier_ones(tmp_path: Path) -> None:
    _fake_run(tmp_path / "a", [0, 1], [50.0, 60.0], [-30.0, -20.0])
    _fake_run(tmp_path / "b", [1, 2], [80.0, 90.0], [-2.0, -4.0])
    merged = merge_metrics([tmp_path / "a", tmp_path / "b"], tmp_path / "out")
    ewc = merged["methods"]["ewc"]
    assert ewc["seeds"] == [0, 1, 2] and ewc["acc"] == pytest.approx([50.0, 80.0, 90.0])
    assert ewc["acc_mean"] == pytest.approx(220.0 / 3) and ewc["bwt_mean"] == pytest.approx(-12.0)
    assert (tmp_path / "out" / "R_ewc.png").is_file()
