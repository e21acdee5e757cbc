"""Spiking layers (snnTorch LIF), BPTT and the online trace rule."""

from __future__ import annotations

import math

import pytest
import torch

from neuromem.models.hlop.layers import Readout, SpikingConv2d, SpikingLinear
from neuromem.models.hlop.learner import FineTuneLearner, TrainConfig
from neuromem.models.hlop.network import NetworkConfig, SpikingNet

torch.set_num_threads(1)


def test_linear_lif_layer_emits_spikes_at_the_threshold_crossings_and_resets_by_subtraction() -> None:
    torch.manual_seed(0)
    layer = SpikingLinear(3, 2, tau_m=10.0, dt=1.0, threshold=1.0)
    with torch.no_grad():
        layer.weight.copy_(torch.tensor([[0.3, 0.0, 0.0], [0.0, 0.0, 0.0]]))
    x = torch.tensor([[1.0, 0.0, 0.0]])
    beta = math.exp(-1.0 / 10.0)
    # m[t] = beta m[t-1] + 0.3 - threshold * s[t-1];  s[t] = (m[t] > threshold)
    expected_mem, expected_spikes, m, s = [], [], 0.0, 0.0
    for _ in range(12):
        m = beta * m + 0.3 - 1.0 * s
        s = 1.0 if m > 1.0 else 0.0
        expected_mem.append(m)
        expected_spikes.append(s)
    assert expected_spikes == [0, 0, 0, 1, 0, 0, 0, 0, 1, 0, 0, 0]
    mem, spikes, silent = None, [], []
    for t in range(12):
        spk, mem = layer(x, mem)
        assert mem[0, 0].item() == pytest.approx(expected_mem[t], abs=1e-5)
        spikes.append(spk[0, 0].item())
        silent.append(spk[0, 1].item())
    assert spikes == expected_spikes
    assert silent == [0.0] * 12


def test_surrogate_gradient_reaches_the_weights_through_bptt() -> None:
    torch.manual_seed(1)
    net = SpikingNet(NetworkConfig(input_shape=(20,), hidden=(16,), n_classes=3, num_steps=4, threshold=0.5))
    net(torch.rand(8, 20)).sum().backward()
    assert float(net.layers[0].weight.grad.abs().sum()) > 0.0


def test_conv_network_runs_and_unfolded_patches_match_the_convolution() -> None:
    torch.manual_seed(2)
    net = SpikingNet(NetworkConfig(input_shape=(1, 12, 12), conv_channels=(4,), hidden=(10,), n_classes=2))
    assert net(torch.rand(3, 1, 12, 12)).shape == (3, 2)
    conv = SpikingConv2d(2, 5, kernel_size=3, padding=1, stride=2)
    x = torch.rand(2, 2, 8, 8)
    direct = conv._conv(x, conv.weight)  # (B, C_out, 4, 4)
    via_patches = conv.presynaptic(x) @ conv.weight_matrix().T  # (B*L, C_out)
    torch.testing.assert_close(via_patches.reshape(2, 16, 5).transpose(1, 2).reshape(2, 5, 4, 4), direct)


def test_online_rule_weight_gradient_is_error_times_presynaptic_trace() -> None:
    torch.manual_seed(3)
    readout = Readout(6, 2)
    x = torch.rand(4, 6)
    trace = torch.rand(4, 6)
    delta = torch.randn(4, 2)
    out = readout(x, trace)
    torch.testing.assert_close(out, x @ readout.weight.T)
    (out * delta).sum().backward()
    torch.testing.assert_close(readout.weight.grad, delta.T @ trace)


def test_online_rule_trains_a_small_task_above_chance() -> None:
    g = torch.Generator().manual_seed(4)
    protos = torch.rand(3, 24, generator=g)
    y = torch.randint(0, 3, (300,), generator=g)
    x = (protos[y] + 0.1 * torch.rand(300, 24, generator=g)).clamp(0, 1)
    net = NetworkConfig(input_shape=(24,), hidden=(32,), n_classes=3, num_steps=4, threshold=0.5)
    learner = FineTuneLearner(net, TrainConfig(epochs=5, batch_size=32, lr=0.1, rule="online", seed=5))
    learner.train_task(0, x, y)
    assert learner.evaluate(0, x, y) > 0.8


def test_two_networks_do_not_share_neuron_state() -> None:
    cfg = NetworkConfig(input_shape=(10,), hidden=(8,), n_classes=2, num_steps=3)
    torch.manual_seed(6)
    a = SpikingNet(cfg)
    x = torch.rand(4, 10)
    with torch.no_grad():
        first = a(x)
        b = SpikingNet(cfg)
        b(torch.rand(7, 10))
        again = a(x)
    torch.testing.assert_close(first, again, atol=0, rtol=0)


@pytest.mark.skipif(not torch.cuda.is_available(), reason="no CUDA device")
def test_learner_trains_and_predicts_on_cuda() -> None:
    x = torch.rand(64, 16)
    y = torch.randint(0, 2, (64,))
    learner = FineTuneLearner(NetworkConfig(input_shape=(16,), hidden=(8,), n_classes=2), TrainConfig(), "cuda")
    learner.train_task(0, x, y)
    assert learner.predict(0, x).shape == (64,)
