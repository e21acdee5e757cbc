"""A trained learner exports as a frozen fully connected spec Network."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

spec = pytest.importorskip("neuromem.spec")

from neuromem.errors import CapabilityError, ValidationError  # noqa: E402
from neuromem.models.hlop.export import image_to_spikes, to_network  # noqa: E402
from neuromem.models.hlop.learner import FineTuneLearner, TrainConfig  # noqa: E402
from neuromem.models.hlop.network import NetworkConfig  # noqa: E402

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
    net = to_network(_trained(), 7)
    spec.save(net, tmp_path / "hlop_net")
    again = spec.load(tmp_path / "hlop_net")
    assert [p.name for p in again.projections] == [p.name for p in net.projections]


def test_rate_code_of_a_pixel_fires_in_proportion_to_its_value() -> None:
    src = image_to_spikes(np.array([0.0, 0.5, 1.0]), n_steps=8, dt=1.0)
    assert [len(s) for s in src.spike_lists()] == [0, 4, 8]


def test_export_refuses_conv_layers_and_unknown_tasks() -> None:
    with pytest.raises(CapabilityError, match="convolutional"):
        to_network(_trained(conv=True), 7)
    with pytest.raises(ValidationError, match="task_id 3 was never trained"):
        to_network(_trained(), 3)
