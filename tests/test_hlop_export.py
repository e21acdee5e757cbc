"""A trained learner's inference network: the description's weights, the same logits off the engine, NEST."""

from __future__ import annotations

import functools
import importlib.util
from pathlib import Path

import numpy as np
import pytest
import torch

from neuromem import spec
from neuromem.backends import build
from neuromem.errors import CapabilityError, ValidationError
from neuromem.models.hlop.export import exported_logits, to_network, window_steps
from neuromem.models.hlop.learner import FineTuneLearner, TrainConfig
from neuromem.models.hlop.network import NetworkConfig

torch.set_num_threads(1)


def _prototype_task(n: int, seed: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Three classes: noisy copies of three random 36-pixel prototypes."""
    prototypes = torch.rand(3, 36, generator=torch.Generator().manual_seed(1))
    g = torch.Generator().manual_seed(seed)
    labels = torch.randint(0, 3, (n,), generator=g)
    return (prototypes[labels] + 0.15 * torch.randn(n, 36, generator=g)).clamp(0.0, 1.0), labels


@functools.cache
def _trained() -> FineTuneLearner:
    cfg = NetworkConfig(input_shape=(36,), hidden=(12, 10), n_classes=3, n_heads=2, num_steps=6, threshold=0.3)
    learner = FineTuneLearner(cfg, TrainConfig(epochs=4, batch_size=16, lr=0.1, seed=0))
    learner.train_task(7, *_prototype_task(96, 2))
    return learner


def test_exported_network_holds_the_trained_weights_split_by_sign() -> None:
    learner = _trained()
    net = to_network(learner, 7, images=np.full((2, 36), 0.5))
    net.validate(dt=1.0)
    assert [p.name for p in net.populations] == ["hidden0", "hidden1", "readout0"]
    assert all(p.plasticity is None for p in net.projections)
    for layer, module in (("layer1", learner.net.layers[1]), ("head0", learner.net.heads[0])):
        w = module.weight.detach().numpy()
        rebuilt = np.zeros_like(w, dtype=np.float64)
        for receptor, sign in (("exc", 1.0), ("inh", -1.0)):
            lst = net.connection_list(f"{layer}_{receptor}")
            np.add.at(rebuilt, (lst.post, lst.pre), sign * lst.weight)
        np.testing.assert_allclose(rebuilt, w, rtol=0, atol=1e-7)  # mV per spike, float32 weights
    # The first layer's input is one step current per neuron: (W0 x)_j / gain nA over the T steps of each image.
    assert len(net.current_sources) == 12
    drive = learner.net.layers[0].weight.detach().double().numpy() @ np.full(36, 0.5)
    gain = 10.0 * (1.0 - np.exp(-0.1))  # tau_m / cm (1 - exp(-dt / tau_m)) for tau_m 10 ms, cm 1 nF, dt 1 ms
    first = net.current_sources[3]
    window = window_steps(learner)
    np.testing.assert_allclose(first.times, [1.0, 7.0, window + 1.0, window + 7.0])
    np.testing.assert_allclose(first.amplitudes, [drive[3] / gain, 0.0, drive[3] / gain, 0.0], rtol=1e-12)


def test_exported_network_round_trips_through_the_spec_files(tmp_path: Path) -> None:
    net = to_network(_trained(), 7, images=np.linspace(0.0, 1.0, 36)[None])
    spec.save(net, tmp_path / "hlop_net")
    again = spec.load(tmp_path / "hlop_net")
    assert again == net
    first = build(net, dt=1.0, dtype="float64").run(20.0)
    second = build(again, dt=1.0, dtype="float64").run(20.0)
    np.testing.assert_array_equal(first.traces[("readout0", "v")], second.traces[("readout0", "v")])


def test_exported_network_on_the_torch_simulation_gives_the_engine_modules_logits() -> None:
    learner = _trained()
    images, labels = _prototype_task(12, 3)
    assert learner.evaluate(7, images, labels) == 1.0
    with torch.no_grad():
        engine = learner.net(images, head=learner.task_heads[7]).double().numpy()
    net = to_network(learner, 7, images)
    logits, recording = exported_logits(learner, net, [7] * 12, "torch")
    # Images one after another: between two images the membranes decay for 200 steps (by e^-20), the only
    # difference from the batched engine run besides float32 vs float64 (measured: 1.1e-6).
    np.testing.assert_allclose(logits, engine, atol=1e-5)
    assert (logits.argmax(1) == labels.numpy()).all()
    assert len(recording.spikes["hidden0"]) > 50


@pytest.mark.skipif(
    importlib.util.find_spec("pyNN") is None or importlib.util.find_spec("nest") is None,
    reason="pyNN and nest-simulator are needed",
)
def test_exported_network_on_nest_gives_the_torch_simulations_spikes_and_logits() -> None:
    learner = _trained()
    images, _ = _prototype_task(4, 3)
    net = to_network(learner, 7, images)
    reference_logits, reference = exported_logits(learner, net, [7] * 4, "torch")
    logits, recording = exported_logits(learner, net, [7] * 4, "nest")
    for population in ("hidden0", "hidden1"):
        assert recording.spikes[population].pairs() == reference.spikes[population].pairs()
    np.testing.assert_allclose(logits, reference_logits, atol=1e-9)


@pytest.mark.skipif(
    importlib.util.find_spec("pyNN") is None or importlib.util.find_spec("brian2") is None,
    reason="pyNN and brian2 are needed",
)
def test_exported_network_on_pynn_brian2_gives_the_torch_simulations_spikes_and_logits() -> None:
    learner = _trained()
    images, _ = _prototype_task(3, 5)
    net = to_network(learner, 7, images)
    reference_logits, reference = exported_logits(learner, net, [7] * 3, "torch")
    logits, recording = exported_logits(learner, net, [7] * 3, "brian2")
    # IF_curr_delta without refractoriness and step currents are exact on pyNN.brian2 (the export moves its
    # voltage-step delay by one step): the same spikes, logits to float64 rounding.
    for population in ("hidden0", "hidden1"):
        assert recording.spikes[population].pairs() == reference.spikes[population].pairs()
        assert len(reference.spikes[population]) > 20
    np.testing.assert_allclose(logits, reference_logits, atol=1e-9)


def test_export_refuses_unknown_tasks_and_bad_gaps() -> None:
    learner = _trained()
    with pytest.raises(ValidationError, match="task_id 3 was never trained"):
        to_network(learner, 3)
    with pytest.raises(ValidationError, match="gap = -1"):
        to_network(learner, 7, gap=-1)
    with pytest.raises(ValidationError, match="2 task ids for 3 images"):
        to_network(learner, [7, 7], np.zeros((3, 36)))


def test_conv_layers_are_refused_as_the_description_cannot_share_weights() -> None:
    with pytest.raises(CapabilityError, match="conv_channels.*shared weights"):
        NetworkConfig(input_shape=(1, 6, 6), hidden=(10,), conv_channels=(2,))


@pytest.mark.parametrize("loader", ["snntorch", "norse"])
def test_nir_graph_loaded_by_snntorch_and_norse_gives_the_engines_spikes_and_logits(loader: str) -> None:
    pytest.importorskip("nir")
    pytest.importorskip("snntorch.import_nir" if loader == "snntorch" else "norse.torch")
    from neuromem.models.hlop.nir_export import nir_logits

    learner = _trained()
    images, labels = _prototype_task(40, 4)
    with torch.no_grad():
        engine, engine_spikes = learner.net.run(images, learner.task_heads[7])
    logits, spikes = nir_logits(learner, 7, images.numpy(), loader, batch_size=16)
    # The graph is written so that the loader's Euler step is the engine's exact step (decay exp(-dt/tau_m),
    # input in mV, reset to zero): the same float32 update up to rounding (the engine sums the excitatory and
    # inhibitory halves apart, the loaders the merged signed matrix), so the hidden spikes are identical here,
    # shifted by the engine's one step of delay per projection. (On the 10-task 784-256-256 network, 20,000
    # images, 1 (snnTorch) and 17 (Norse) of 8.3 million hidden spikes flip at threshold by that rounding.)
    T = learner.network_config.num_steps
    for i, name in enumerate(("hidden0", "hidden1")):
        assert spikes[name].shape == (T, 40, learner.network_config.hidden[i])
        expected = engine_spikes[name].numpy()
        assert spikes[name].sum() == expected.sum() > 100
        np.testing.assert_array_equal(spikes[name], expected[i + 1 : i + 1 + T])
    # Logits: sums of the same spikes through the same float32 weights; Norse's readout weights are written
    # times 1 / (1 - exp(-dt/tau)) ~ 1e9 and scaled back by its Euler step, so it rounds at float32 relative eps.
    np.testing.assert_allclose(logits, engine.double().numpy(), rtol=0, atol=1e-5)
    assert (logits.argmax(1) == engine.argmax(1).numpy()).all()
    assert (logits.argmax(1) == labels.numpy()).mean() >= 0.9


def test_nir_graph_of_the_inference_network_has_one_signed_linear_per_layer() -> None:
    pytest.importorskip("nir")
    from neuromem.models.hlop.nir_export import nir_graph

    learner = _trained()
    for loader, scale in (("snntorch", 1.0), ("norse", 1.0 / (1.0 - np.exp(-0.1)))):
        graph = nir_graph(learner, 7, loader)
        linear = {k: v for k, v in graph.nodes.items() if type(v).__name__ == "Linear"}
        assert sorted(linear) == ["head0_w", "layer0_w", "layer1_w"]
        np.testing.assert_allclose(linear["layer1_w"].weight, learner.net.layers[1].weight.detach().numpy() * scale)
        hidden = graph.nodes["hidden0"]
        # Euler decay 1 - h / tau of the loader's step h equals exp(-dt / tau_m), dt = 1 ms, tau_m = 10 ms.
        h = graph.metadata["loader_dt_s"]
        np.testing.assert_allclose(1.0 - h / hidden.tau, np.exp(-0.1), rtol=1e-12)
        assert h == (1e-4 if loader == "snntorch" else 1e-3)
        np.testing.assert_allclose(hidden.r, hidden.tau / h if loader == "snntorch" else 1.0)
        np.testing.assert_allclose(hidden.v_threshold, 0.3)
        assert [b for a, b in graph.edges if type(graph.nodes[b]).__name__ == "Output"] == ["readout0_out"]
    with pytest.raises(ValidationError, match="loader = 'lava' is not allowed; allowed: snntorch, norse"):
        nir_graph(learner, 7, "lava")
