"""Save/load of a trained continual learner: one file, atomic, resumable, strict on bad files."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch

from neuromem.errors import FileFormatError
from neuromem.models.hlop.baselines import EWCLearner, SVDProjectionLearner
from neuromem.models.hlop.io import SCHEMA, SCHEMA_VERSION, load_learner, save_learner
from neuromem.models.hlop.learner import ContinualLearner, TrainConfig
from neuromem.models.hlop.network import NetworkConfig
from neuromem.models.hlop.projection import HLOPConfig, HLOPLearner

torch.set_num_threads(1)

NET = NetworkConfig(input_shape=(20,), hidden=(12,), n_classes=3, n_heads=3, num_steps=3, threshold=0.5)
TRAIN = TrainConfig(epochs=1, batch_size=16, lr=0.05, seed=0)
HLOP = HLOPConfig(first=(5, 4), per_task=(2,), decrease=(0,), epochs=3, samples=60)


def _task(seed: int) -> tuple[torch.Tensor, torch.Tensor]:
    g = torch.Generator().manual_seed(seed)
    return torch.rand(60, 20, generator=g), torch.randint(0, 3, (60,), generator=g)


def _hlop_after_two_tasks() -> HLOPLearner:
    learner = HLOPLearner(NET, TRAIN, HLOP)
    for t in (0, 1):
        learner.train_task(t, *_task(t))
    return learner


def _weights(learner: ContinualLearner) -> dict[str, torch.Tensor]:
    return {k: v.detach().clone() for k, v in learner.net.named_parameters()}


def test_round_trip_keeps_weights_subspaces_heads_and_predictions(tmp_path: Path) -> None:
    learner = _hlop_after_two_tasks()
    save_learner(learner, tmp_path / "hlop")
    again = load_learner(tmp_path / "hlop.json")
    assert isinstance(again, HLOPLearner)
    assert again.task_heads == {0: 0, 1: 1} and again.tasks_trained == [0, 1]
    for name, sub in learner.subspaces.items():
        torch.testing.assert_close(again.subspaces[name].weight, sub.weight, atol=0, rtol=0)
        assert again.subspaces[name].n_fixed == sub.n_fixed
    x, _ = _task(0)
    np.testing.assert_array_equal(again.predict(0, x), learner.predict(0, x))
    header = _header(tmp_path / "hlop.npz")
    assert header["schema"] == SCHEMA and header["version"] == SCHEMA_VERSION and header["type"] == "HLOPLearner"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["hlop.npz"]


def test_training_resumes_after_a_load_exactly_as_without_it(tmp_path: Path) -> None:
    learner = _hlop_after_two_tasks()
    save_learner(learner, tmp_path / "ck")
    resumed = load_learner(tmp_path / "ck")
    learner.train_task(2, *_task(2))
    resumed.train_task(2, *_task(2))
    for name, w in _weights(learner).items():
        torch.testing.assert_close(_weights(resumed)[name], w, atol=1e-6, rtol=0)


@pytest.mark.parametrize("cls", [EWCLearner, SVDProjectionLearner])
def test_baselines_round_trip_their_own_state(tmp_path: Path, cls: type[ContinualLearner]) -> None:
    learner = cls(NET, TRAIN, HLOP) if cls is SVDProjectionLearner else cls(NET, TRAIN, 10.0, 30)
    learner.train_task(0, *_task(0))
    save_learner(learner, tmp_path / "b")
    again = load_learner(tmp_path / "b")
    assert type(again) is cls
    if isinstance(learner, SVDProjectionLearner):
        torch.testing.assert_close(again.bases["layer0"], learner.bases["layer0"], atol=0, rtol=0)
    else:
        torch.testing.assert_close(again.fisher["layers.0.weight"], learner.fisher["layers.0.weight"])


def _header(path: Path) -> dict:
    with np.load(path, allow_pickle=False) as data:
        return json.loads(data["header"].tobytes().decode())


def _rewrite(path: Path, target: Path, change_header=None, change_arrays=None) -> Path:
    """Copy a saved learner to ``target`` with its header and arrays changed."""
    with np.load(path, allow_pickle=False) as data:
        members = {key: data[key] for key in data.files}
    header = json.loads(members.pop("header").tobytes().decode())
    if change_header:
        change_header(header)
    if change_arrays:
        change_arrays(members)
    np.savez(target, header=np.frombuffer(json.dumps(header).encode(), dtype=np.uint8), **members)
    return target


def test_missing_corrupt_and_newer_schema_files_raise_file_format_error(tmp_path: Path) -> None:
    with pytest.raises(FileFormatError, match="no such file"):
        load_learner(tmp_path / "absent")
    learner = HLOPLearner(NET, TRAIN, HLOP)
    learner.train_task(0, *_task(0))
    path = save_learner(learner, tmp_path / "m")
    newer = _rewrite(path, tmp_path / "newer.npz", lambda h: h.update(version=SCHEMA_VERSION + 1))
    with pytest.raises(FileFormatError, match="newer"):
        load_learner(newer)
    (tmp_path / "bad.npz").write_bytes(b"{not a zip")
    with pytest.raises(FileFormatError, match="corrupt"):
        load_learner(tmp_path / "bad")
    alien = _rewrite(path, tmp_path / "alien.npz", lambda h: h.update(type="os.system"))
    with pytest.raises(FileFormatError, match="'type' is 'os.system'"):
        load_learner(alien)
    path.write_bytes(path.read_bytes()[:100])
    with pytest.raises(FileFormatError, match="corrupt"):
        load_learner(path)


def test_loaded_arrays_must_have_the_exact_shape_and_finite_values(tmp_path: Path) -> None:
    learner = HLOPLearner(NET, TRAIN, HLOP)
    learner.train_task(0, *_task(0))
    path = save_learner(learner, tmp_path / "m")
    small = _rewrite(
        path, tmp_path / "small.npz", change_arrays=lambda a: a.update({"net/layers.0.weight": np.ones(1)})
    )
    with pytest.raises(FileFormatError, match=r"'net/layers.0.weight' has shape \(1,\); allowed: exactly \(12, 20\)"):
        load_learner(small)

    def poison(arrays: dict) -> None:
        arrays["net/layers.0.weight"] = arrays["net/layers.0.weight"].copy()
        arrays["net/layers.0.weight"][0, 0] = np.nan

    nan = _rewrite(path, tmp_path / "nan.npz", change_arrays=poison)
    with pytest.raises(FileFormatError, match="NaN"):
        load_learner(nan)
    extra = _rewrite(path, tmp_path / "extra.npz", change_arrays=lambda a: a.update(stray=np.ones(3)))
    with pytest.raises(FileFormatError, match="'stray' is not part"):
        load_learner(extra)
    heads = _rewrite(path, tmp_path / "heads.npz", lambda h: h["metadata"]["task_heads"].update({"0": 7}))
    with pytest.raises(FileFormatError, match="allowed: >= 0 and <= 2"):
        load_learner(heads)
    wide = _rewrite(path, tmp_path / "wide.npz", lambda h: h["metadata"]["network"].update(hidden=[10**9]))
    with pytest.raises(FileFormatError, match="more than the limit"):
        load_learner(wide)
    typed = _rewrite(path, tmp_path / "typed.npz", lambda h: h["metadata"]["train"].update(seed="x"))
    with pytest.raises(FileFormatError, match=r"entry 'train.seed' is 'x'"):
        load_learner(typed)
