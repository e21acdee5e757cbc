"""HLOP's network as a spec description run by the engine's module: LIF dynamics, logits, BPTT."""

from __future__ import annotations

import math

import pytest
import snntorch
import torch

from neuromem.errors import ValidationError
from neuromem.models.hlop.learner import FineTuneLearner, TrainConfig
from neuromem.models.hlop.network import NetworkConfig, SpikingNet
from neuromem.spec import IF_curr_delta, SpikeSourceArray

torch.set_num_threads(1)


def test_hidden_layer_spikes_at_threshold_crossings_and_resets_to_zero_as_snntorch_leaky() -> None:
    net = SpikingNet(NetworkConfig(input_shape=(3,), hidden=(2,), n_classes=2, num_steps=12, threshold=1.0))
    with torch.no_grad():
        net.layers[0].weight.copy_(torch.tensor([[0.3, 0.0, 0.0], [0.0, 0.0, 0.0]]))
    beta = math.exp(-1.0 / 10.0)
    # m[t] = beta m[t-1] + 0.3;  s[t] = (m[t] >= threshold);  m[t] = 0 where s[t]
    expected, m = [], 0.0
    for _ in range(12):
        m = beta * m + 0.3
        expected.append(1.0 if m >= 1.0 else 0.0)
        m = 0.0 if m >= 1.0 else m
    assert expected == [0, 0, 0, 1, 0, 0, 0, 1, 0, 0, 0, 1]
    leaky = snntorch.Leaky(beta=beta, threshold=1.0, reset_mechanism="zero", init_hidden=False)
    mem, reference = torch.zeros(1), []
    for _ in range(12):
        spk, mem = leaky(torch.tensor([0.3]), mem)
        reference.append(float(spk))
    assert reference == expected
    with torch.no_grad():
        _, spikes = net.run(torch.tensor([[1.0, 0.0, 0.0]]), head=0)
    hidden = spikes["hidden0"][:, 0]  # (steps, neurons); the input arrives one step (the delay) later
    assert hidden[1:13, 0].tolist() == expected
    assert hidden[0].sum() == 0 and hidden[:, 1].sum() == 0


def _reference_logits(net: SpikingNet, x: torch.Tensor, head: int) -> torch.Tensor:
    """The model without delays: snnTorch Leaky (reset to zero) layers, readout = mean of W h over T steps."""
    cfg = net.config
    beta = math.exp(-cfg.dt / cfg.tau_m)
    mems = [torch.zeros(x.shape[0], m.out_features) for m in net.layers]
    total = torch.zeros(x.shape[0], cfg.n_classes)
    for _ in range(cfg.num_steps):
        h = x
        for i, layer in enumerate(net.layers):
            v = beta * mems[i] + h @ layer.weight.T
            h = (v >= cfg.threshold).float()
            mems[i] = v * (1.0 - h)
        total = total + h @ net.heads[head].weight.T
    return total / cfg.num_steps


def test_logits_equal_the_delay_free_network_of_snntorch_leaky_layers() -> None:
    torch.manual_seed(1)
    cfg = NetworkConfig(input_shape=(20,), hidden=(16, 12), n_classes=3, n_heads=2, num_steps=5, threshold=0.3)
    net = SpikingNet(cfg)
    x = torch.rand(6, 20)
    for head in (0, 1):
        with torch.no_grad():
            got = net(x, head=head)
        with torch.no_grad():
            expected = _reference_logits(net, x, head)
        torch.testing.assert_close(got, expected, atol=1e-5, rtol=1e-5)
        assert float(expected.abs().sum()) > 0.1  # the hidden layers did fire


def test_the_description_is_an_if_curr_delta_network_with_graded_input_events() -> None:
    cfg = NetworkConfig(input_shape=(20,), hidden=(16, 12), n_classes=3, n_heads=2, threshold=0.3)
    description = SpikingNet(cfg).description()
    names = [p.name for p in description.populations]
    assert names == ["input", "hidden0", "hidden1", "readout0", "readout1"]
    assert isinstance(description.population("input").cell, SpikeSourceArray)
    cell = description.population("hidden1").cell
    assert isinstance(cell, IF_curr_delta)
    assert (cell.tau_m, cell.v_rest, cell.v_reset, cell.v_thresh, cell.tau_refrac) == (10.0, 0.0, 0.0, 0.3, 0.0)
    assert {p.name for p in description.projections} == {
        f"{layer}_{r}" for layer in ("layer0", "layer1", "head0", "head1") for r in ("exc", "inh")
    }


def test_surrogate_gradient_reaches_every_weight_through_bptt() -> None:
    torch.manual_seed(1)
    net = SpikingNet(NetworkConfig(input_shape=(20,), hidden=(16, 12), n_classes=3, num_steps=4, threshold=0.3))
    net(torch.rand(8, 20)).sum().backward()
    for module in (*net.layers, net.heads[0]):
        assert float(module.weight.grad.abs().sum()) > 0.0


def test_an_unknown_rule_is_refused_naming_the_rules_available() -> None:
    with pytest.raises(ValidationError, match="rule = 'eprop' is not available; allowed: 'bptt', 'online'"):
        TrainConfig(rule="eprop")


def _two_classes(n: int, seed: int) -> tuple[torch.Tensor, torch.Tensor]:
    generator = torch.Generator().manual_seed(seed)
    prototypes = torch.rand(2, 20, generator=generator)
    y = torch.randint(0, 2, (n,), generator=generator)
    x = (prototypes[y] + 0.3 * torch.rand(n, 20, generator=generator)).clamp(0, 1)
    return x, y


def test_online_rule_gives_the_forward_logits_and_a_short_run_learns() -> None:
    torch.manual_seed(4)
    cfg = NetworkConfig(input_shape=(20,), hidden=(24, 16), n_classes=2, num_steps=4, threshold=0.5)
    net = SpikingNet(cfg)
    x, y = _two_classes(64, 0)
    loss, logits = net.online_backward(x, y, head=0)
    with torch.no_grad():
        torch.testing.assert_close(logits, net(x), rtol=0, atol=1e-5)
    # every layer gets a gradient, and the summed per-step loss is what was backpropagated
    assert all(float(m.weight.grad.abs().sum()) > 0 for m in (*net.layers, net.heads[0]))
    assert float(loss) > 0.1
    learner = FineTuneLearner(cfg, TrainConfig(epochs=10, batch_size=32, lr=0.05, rule="online"))
    with torch.no_grad():
        before = float(torch.nn.functional.cross_entropy(learner.net(x), y))
    learner.train_task(0, x, y)
    with torch.no_grad():
        after = float(torch.nn.functional.cross_entropy(learner.net(x), y))
    assert after < before / 4, (before, after)  # measured: 0.67 -> 0.11
    assert (learner.predict(0, x) == y.numpy()).mean() > 0.9


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
