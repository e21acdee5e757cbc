"""A trained learner exports as a frozen fully connected spec Network."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from neuromem import spec
from neuromem.backends import build
from neuromem.errors import CapabilityError, ValidationError
from neuromem.models.hlop.export import image_to_spikes, to_network
from neuromem.models.hlop.learner import FineTuneLearner, TrainConfig
from neuromem.models.hlop.network import NetworkConfig

torch.set_num_threads(1)


def _trained(conv: bool = False) -> FineTuneLearner:
    shape = (1, 6, 6) if conv else (36,)
    cfg = NetworkConfig(input_shape=shape, hidden=(10,), conv_channels=(2,) if conv else (), n_classes=3, n_heads=2)
    learner = FineTuneLearner(cfg, TrainConfig(epochs=1, batch_size=8, seed=0))
    g = torch.Generator().manual_seed(1)
    learner.train_task(7, torch.rand(16, *shape, generator=g), torch.randint(0, 3, (16,), generator=g))
    return learner


def test_exported_network_holds_the_trained_weights_split_by_sign() -> None:
    learner = _trained()
    net = to_network(learner, 7, image=np.full(36, 0.5), mv_per_unit=10.0, cm=1.0, tau_syn=0.5)
    net.validate(dt=1.0)
    assert [p.name for p in net.populations] == ["input", "hidden0", "readout"]
    assert all(p.plasticity is None for p in net.projections)
    w = learner.net.layers[0].weight.detach().numpy()
    rebuilt = np.zeros_like(w)
    for proj in net.projections:
        if proj.pre != "input":
            continue
        sign = 1.0 if proj.receptor == "excitatory" else -1.0
        # 10 mV per unit * 1 nF / 0.5 ms = 20 nA per unit of weight
        rebuilt[proj.connector.post, proj.connector.pre] += sign * np.asarray(proj.weight) / 20.0
    np.testing.assert_allclose(rebuilt, w, rtol=1e-6, atol=1e-7)


def test_exported_network_round_trips_through_the_spec_files(tmp_path: Path) -> None:
    net = to_network(_trained(), 7, image=np.linspace(0.0, 1.0, 36))
    spec.save(net, tmp_path / "hlop_net")
    again = spec.load(tmp_path / "hlop_net")
    assert again == net
    for projection in net.projections:
        for ours, theirs in zip(net.connection_list(projection.name), again.connection_list(projection.name)):
            np.testing.assert_array_equal(ours, theirs)
    first = build(net, dt=1.0, dtype="float64").run(20.0)
    second = build(again, dt=1.0, dtype="float64").run(20.0)
    np.testing.assert_array_equal(first.traces[("readout", "v")], second.traces[("readout", "v")])


def _prototype_task(n: int, seed: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Three classes: noisy copies of three random 36-pixel prototypes."""
    prototypes = torch.rand(3, 36, generator=torch.Generator().manual_seed(1))
    g = torch.Generator().manual_seed(seed)
    labels = torch.randint(0, 3, (n,), generator=g)
    return (prototypes[labels] + 0.15 * torch.randn(n, 36, generator=g)).clamp(0.0, 1.0), labels


def test_exported_network_on_torch_computes_what_the_trained_network_computes() -> None:
    cfg = NetworkConfig(input_shape=(36,), hidden=(10,), n_classes=3, n_heads=2, num_steps=8)
    learner = FineTuneLearner(cfg, TrainConfig(epochs=5, batch_size=16, lr=0.1, seed=0))
    learner.train_task(7, *_prototype_task(96, 2))
    images, labels = _prototype_task(12, 3)
    assert learner.evaluate(7, images, labels) == 1.0
    head = learner.task_heads[7]
    with torch.no_grad():
        logits = learner.net(images, head=head).numpy()
        mems: list[torch.Tensor | None] = [None]
        hidden_counts = np.zeros((12, 10))
        for _ in range(cfg.num_steps):
            _, mems, inputs = learner.net.step(images, mems, head)
            hidden_counts += inputs[1].numpy()
    repeats = 10
    for i in range(12):
        net = to_network(learner, 7, image=images[i].numpy(), repeats=repeats)
        recording = build(net, dt=cfg.dt, dtype="float64").run((cfg.num_steps * repeats + 3) * cfg.dt)
        depolarisation = (recording.traces[("readout", "v")][0] + 65.0).mean(axis=0)
        counts = recording.spikes["hidden0"].counts(10, 1)[0]
        # Same decision, same ranking of the classes (logits up to a positive scale), same active hidden cells.
        assert depolarisation.argmax() == logits[i].argmax() == int(labels[i])
        assert np.corrcoef(depolarisation, logits[i])[0, 1] >= 0.99
        assert counts.sum() > 0
        assert np.corrcoef(counts, hidden_counts[i])[0, 1] >= 0.95
        busy = hidden_counts[i] > 0
        np.testing.assert_allclose(counts[busy], hidden_counts[i][busy] * repeats, rtol=0.25)


def test_rate_code_of_a_pixel_fires_in_proportion_to_its_value() -> None:
    src = image_to_spikes(np.array([0.0, 0.5, 1.0]), n_steps=8, dt=1.0)
    assert [len(s) for s in src.spike_lists()] == [0, 4, 8]


def test_export_refuses_conv_layers_and_unknown_tasks() -> None:
    with pytest.raises(CapabilityError, match="convolutional"):
        to_network(_trained(conv=True), 7)
    with pytest.raises(ValidationError, match="task_id 3 was never trained"):
        to_network(_trained(), 3)
