"""Save/load of a trained continual learner: JSON + .npz, atomic, resumable, strict on bad files."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch

from neuromem.errors import FileFormatError
from neuromem.models.hlop.baselines import EWCLearner, SVDProjectionLearner
from neuromem.models.hlop.io import SCHEMA_VERSION, load_learner, save_learner
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
    meta = json.loads((tmp_path / "hlop.json").read_text())
    assert meta["schema_version"] == SCHEMA_VERSION and meta["type"] == "HLOPLearner"
    assert not list(tmp_path.glob("*.tmp"))


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


def test_missing_corrupt_and_newer_schema_files_raise_file_format_error(tmp_path: Path) -> None:
    with pytest.raises(FileFormatError, match="not found"):
        load_learner(tmp_path / "absent")
    learner = HLOPLearner(NET, TRAIN, HLOP)
    learner.train_task(0, *_task(0))
    json_path = save_learner(learner, tmp_path / "m")
    meta = json.loads(json_path.read_text())
    (tmp_path / "newer.json").write_text(json.dumps({**meta, "schema_version": SCHEMA_VERSION + 1}))
    (tmp_path / "newer.npz").write_bytes((tmp_path / "m.npz").read_bytes())
    with pytest.raises(FileFormatError, match="newer"):
        load_learner(tmp_path / "newer")
    (tmp_path / "bad.json").write_text("{not json")
    with pytest.raises(FileFormatError, match="not valid JSON"):
        load_learner(tmp_path / "bad")
    (tmp_path / "m.npz").write_bytes((tmp_path / "m.npz").read_bytes()[:100])
    with pytest.raises(FileFormatError, match="corrupt"):
        load_learner(tmp_path / "m")
    (tmp_path / "m.npz").unlink()
    with pytest.raises(FileFormatError, match="not found"):
        load_learner(tmp_path / "m")
    (tmp_path / "alien.json").write_text(json.dumps({**meta, "type": "os.system"}))
    with pytest.raises(FileFormatError, match="unknown"):
        load_learner(tmp_path / "alien")
