"""Bad input is refused with a ValidationError that names object, field, value and what is allowed."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from neuromem.errors import ValidationError
from neuromem.models.hlop.learner import FineTuneLearner, TrainConfig
from neuromem.models.hlop.network import NetworkConfig

torch.set_num_threads(1)


def _learner() -> FineTuneLearner:
    return FineTuneLearner(NetworkConfig(input_shape=(16,), hidden=(8,), n_classes=4), TrainConfig(seed=0))


def _snapshot(learner: FineTuneLearner) -> dict[str, torch.Tensor]:
    return {k: v.detach().clone() for k, v in learner.net.named_parameters()}


def _unchanged(learner: FineTuneLearner, before: dict[str, torch.Tensor]) -> None:
    for k, v in learner.net.named_parameters():
        torch.testing.assert_close(v, before[k], atol=0, rtol=0)
    assert learner.task_heads == {} and learner.tasks_trained == []


def test_wrong_image_shape_is_refused_and_nothing_changes() -> None:
    learner = _learner()
    before = _snapshot(learner)
    with pytest.raises(ValidationError, match=r"FineTuneLearner: images have shape \(5, 15\).*16 values"):
        learner.train_task(0, np.zeros((5, 15), np.float32), np.zeros(5, np.int64))
    _unchanged(learner, before)


def test_labels_out_of_range_are_refused_and_nothing_changes() -> None:
    learner = _learner()
    before = _snapshot(learner)
    with pytest.raises(ValidationError, match=r"labels have .*range \[0, 7\]; allowed: integer \(5,\) in \[0, 3\]"):
        learner.train_task(0, np.zeros((5, 16), np.float32), np.array([0, 1, 2, 3, 7]))
    with pytest.raises(ValidationError, match="dtype torch.float"):
        learner.train_task(0, np.zeros((5, 16), np.float32), np.zeros(5, np.float32))
    _unchanged(learner, before)


def test_task_never_seen_is_refused_for_prediction_and_evaluation() -> None:
    learner = _learner()
    learner.train_task(3, np.random.default_rng(0).random((8, 16)), np.arange(8) % 4)
    with pytest.raises(ValidationError, match=r"task_id 5 was never trained; allowed: \[3\]"):
        learner.predict(5, np.zeros((2, 16), np.float32))
    with pytest.raises(ValidationError, match="task_id 9"):
        learner.evaluate(9, np.zeros((2, 16), np.float32), np.zeros(2, np.int64))


def test_configuration_errors_name_the_field() -> None:
    with pytest.raises(ValidationError, match="rule 'hebb'"):
        TrainConfig(rule="hebb")
    with pytest.raises(ValidationError, match="n_classes"):
        NetworkConfig(n_classes=1)
