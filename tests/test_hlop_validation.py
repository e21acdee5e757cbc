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
    with pytest.raises(ValidationError, match="rule = 'hebb' is not available; allowed: 'bptt', 'online'"):
        TrainConfig(rule="hebb")
    with pytest.raises(ValidationError, match="n_classes"):
        NetworkConfig(n_classes=1)


def _trained_hlop():
    from neuromem.models.hlop.projection import HLOPConfig, HLOPLearner

    net = NetworkConfig(input_shape=(20,), hidden=(12,), n_classes=3, n_heads=3, num_steps=3, threshold=0.5)
    hlop = HLOPConfig(first=(5, 4), per_task=(2,), decrease=(0,), epochs=3, samples=60)
    learner = HLOPLearner(net, TrainConfig(epochs=1, batch_size=16, lr=0.05), hlop)
    g = torch.Generator().manual_seed(0)
    x, y = torch.rand(60, 20, generator=g), torch.randint(0, 3, (60,), generator=g)
    learner.train_task(0, x, y)
    return learner, x, y


def _full_state(learner) -> dict[str, object]:
    """Everything a learner holds, copied: parameters, lateral weights, heads, generator."""
    return {
        "params": {k: v.detach().clone() for k, v in learner.net.state_dict().items()},
        "subspaces": {n: (s.weight.clone(), s.n_fixed) for n, s in learner.subspaces.items()},
        "heads": dict(learner.task_heads),
        "trained": list(learner.tasks_trained),
        "generator": learner.generator.get_state().clone(),
        "history": len(learner.fit_history),
    }


def _assert_same_state(learner, before: dict[str, object]) -> None:
    after = _full_state(learner)
    for key, value in before["params"].items():
        torch.testing.assert_close(after["params"][key], value, atol=0, rtol=0)
    for name, (weight, n_fixed) in before["subspaces"].items():
        torch.testing.assert_close(after["subspaces"][name][0], weight, atol=0, rtol=0)
        assert after["subspaces"][name][1] == n_fixed
    assert after["heads"] == before["heads"] and after["trained"] == before["trained"]
    assert torch.equal(after["generator"], before["generator"]) and after["history"] == before["history"]


@pytest.mark.parametrize(
    ("make_args", "message"),
    [
        (lambda x, y: (1, torch.where(torch.arange(20) == 0, float("nan"), x), y), "images hold NaN or infinity"),
        (lambda x, y: (1, x * 1e6, y), r"images hold values in \[.*\]; allowed: \[0, 1\]"),
        (lambda x, y: (1, x - 0.5, y), r"allowed: \[0, 1\]"),
        (lambda x, y: (1, x, y > 0), "labels have dtype torch.bool"),
        (lambda x, y: (1, np.zeros((0, 20)), np.zeros(0, np.int64)), r"images have shape \(0, 20\)"),
        (lambda x, y: ("abc", x, y), "task_id = 'abc'; allowed: an integer >= 0"),
        (lambda x, y: (-1, x, y), "task_id = -1"),
        (lambda x, y: (True, x, y), "task_id = True"),
        (lambda x, y: (1, x.to(torch.complex64), y), "images have dtype torch.complex64"),
    ],
)
def test_bad_inputs_are_refused_before_any_state_changes(make_args, message: str) -> None:
    learner, x, y = _trained_hlop()
    before = _full_state(learner)
    accuracy = learner.evaluate(0, x, y)
    with pytest.raises(ValidationError, match=message):
        learner.train_task(*make_args(x, y))
    _assert_same_state(learner, before)
    assert learner.evaluate(0, x, y) == accuracy


def test_a_training_step_that_fails_leaves_the_learner_exactly_as_it_was(monkeypatch: pytest.MonkeyPatch) -> None:
    learner, x, y = _trained_hlop()
    before = _full_state(learner)
    calls = {"n": 0}
    real = learner._transform_gradients

    def fail_on_third(task_id: int) -> None:
        calls["n"] += 1
        if calls["n"] == 3:
            raise RuntimeError("device lost")
        real(task_id)

    monkeypatch.setattr(learner, "_transform_gradients", fail_on_third)
    with pytest.raises(RuntimeError, match="device lost"):
        learner.train_task(1, x, y)
    assert calls["n"] == 3, "the failure must come after some steps changed the weights"
    _assert_same_state(learner, before)
    monkeypatch.undo()
    learner.train_task(1, x, y)  # and it still trains afterwards
    assert learner.tasks_trained == [0, 1]


def test_a_diverging_task_is_refused_and_rolled_back(monkeypatch: pytest.MonkeyPatch) -> None:
    learner, x, y = _trained_hlop()
    before = _full_state(learner)

    def poison(task_id: int) -> None:  # a gradient that overflowed: every later step is NaN
        for parameter in learner.net.parameters():
            if parameter.grad is not None:
                parameter.grad.fill_(float("nan"))

    monkeypatch.setattr(learner, "_transform_gradients", poison)
    with pytest.raises(ValidationError, match=r"parameter 'layers.0.weight' non-finite \(diverged\); the learner was"):
        learner.train_task(1, x, y)
    _assert_same_state(learner, before)


@pytest.mark.parametrize(
    ("field", "value"),
    [("seed", "x"), ("seed", -1), ("epochs", 1.5), ("batch_size", True), ("lr", float("nan")), ("momentum", 1.0)],
)
def test_train_config_values_are_typed(field: str, value: object) -> None:
    with pytest.raises(ValidationError, match=f"TrainConfig: {field} = "):
        TrainConfig(**{field: value})


def test_network_config_values_are_typed() -> None:
    with pytest.raises(ValidationError, match="hidden"):
        NetworkConfig(hidden=("a",))
    with pytest.raises(ValidationError, match="input_shape"):
        NetworkConfig(input_shape=(0,))
    with pytest.raises(ValidationError, match="tau_m"):
        NetworkConfig(tau_m=float("inf"))
