"""The differentiable module: gradients, training, and the trained network on every backend.

* with a smooth spike function the module is a smooth function of its
  weights and time constants: autograd matches central finite differences;
* dense and event propagation give the same spikes and the same surrogate
  gradients (event propagation's backward is the matmul's);
* without gradients the module gives the torch simulation's spikes and
  voltages exactly;
* a tiny task (learn target spike counts) lowers its loss, and the trained
  weights, exported, spike on Brian2 (and NEST through PyNN) as the module does;
* feed-forward IF_curr_delta layers take per-step input currents and feed
  two readout heads (the shape HLOP needs);
* refusals: plastic projections unless frozen, inputs of the wrong shape,
  negative weights written back.
"""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch

from neuromem.backends import available_backends, build
from neuromem.backends.torch import module
from neuromem.errors import CapabilityError, ValidationError
from neuromem.spec import (
    STDP,
    AdditiveWeightDependence,
    AllToAll,
    DCSource,
    IF_curr_delta,
    IF_curr_exp,
    Network,
    Population,
    Probe,
    Projection,
    SpikePairRule,
    SpikeSourceArray,
)

DT = 1.0


def _network(refractory: float = 0.0) -> Network:
    rng = np.random.default_rng(0)
    times = [np.unique(rng.integers(0, 60, 10)).astype(float).tolist() for _ in range(6)]
    return Network(
        populations=(
            Population("inp", SpikeSourceArray.from_lists(times)),
            Population("hid", IF_curr_exp(cm=0.25, tau_m=10.0, tau_syn_E=2.0, tau_refrac=refractory), size=5),
            Population("out", IF_curr_delta(cm=0.25, tau_m=10.0, tau_refrac=refractory), size=3),
        ),
        projections=(
            Projection("ih", "inp", "hid", AllToAll(), weight=rng.uniform(0.5, 2.0, 30), delay=1.0),
            Projection(
                "ho", "hid", "out", AllToAll(), weight=rng.uniform(2.0, 6.0, 15), delay=rng.integers(1, 4, 15) * DT
            ),
            Projection(
                "hi", "hid", "out", AllToAll(), weight=rng.uniform(0.5, 1.0, 15), delay=2.0, receptor="inhibitory"
            ),
        ),
        current_sources=(DCSource("bias", "hid", amplitude=0.05, start=10.0, stop=30.0, neurons=[1, 3]),),
        probes=(Probe("hid"), Probe("out"), Probe("out", "v")),
    )


def _loss(net: torch.nn.Module, steps: int = 70) -> torch.Tensor:
    out = net(steps=steps)
    weights = torch.arange(1.0, 4.0, dtype=torch.float64)
    return (out.spikes["out"] * weights).sum() + 0.01 * (out.v["out"] + 60.0).pow(2).mean() + out.spikes["hid"].sum()


@pytest.mark.parametrize("propagation", ["dense", "event"])
def test_gradients_match_finite_differences_with_a_smooth_spike_function(propagation):
    net = module(
        _network(),
        dt=DT,
        dtype="float64",
        propagation=propagation,
        surrogate=lambda x: torch.sigmoid(x),  # smooth forward and backward
        train_time_constants=True,
    )
    loss = _loss(net)
    loss.backward()
    rng = np.random.default_rng(1)
    checked = 0
    taus = [(f"{p}.{k}", v) for p, group in net.time_constants.items() for k, v in group.items()]
    for name, parameter in [*net.weights.items(), *taus]:
        flat = parameter.detach().view(-1)
        for index in rng.choice(flat.numel(), size=min(3, flat.numel()), replace=False):
            step = 1e-7 * max(1.0, abs(float(flat[index])))
            with torch.no_grad():
                flat[index] += step
                plus = float(_loss(net))
                flat[index] -= 2 * step
                minus = float(_loss(net))
                flat[index] += step
            numeric = (plus - minus) / (2 * step)
            analytic = float(parameter.grad.view(-1)[index])
            assert analytic == pytest.approx(numeric, rel=1e-5, abs=1e-7), (name, int(index))
            checked += 1
    assert checked >= 12
    assert {name for name, _ in taus} == {"hid.tau_m", "hid.tau_syn_E", "hid.tau_syn_I", "out.tau_m"}


def test_dense_and_event_propagation_give_the_same_spikes_and_surrogate_gradients():
    results = []
    for propagation in ("dense", "event"):
        net = module(_network(refractory=2.0), dt=DT, dtype="float64", propagation=propagation, surrogate="atan")
        out = net(steps=70)
        loss = out.spikes["out"].sum() + out.v["out"].mean()
        loss.backward()
        results.append((out.spikes["out"].detach(), {k: v.grad.clone() for k, v in net.weights.items()}))
    (dense_spikes, dense_grads), (event_spikes, event_grads) = results
    assert torch.equal(dense_spikes, event_spikes) and dense_spikes.sum() > 20
    for name in dense_grads:
        torch.testing.assert_close(event_grads[name], dense_grads[name], rtol=1e-10, atol=1e-12)
    # The surrogate reaches synapses of neurons that did not spike at every step.
    assert (dense_grads["ih"] != 0).sum() > 20


@pytest.mark.parametrize("propagation", ["dense", "event"])
def test_without_gradients_the_module_gives_the_simulations_spikes_and_voltages(propagation):
    network = _network(refractory=2.0)
    net = module(network, dt=DT, dtype="float64", propagation=propagation)
    with torch.no_grad():
        out = net(steps=80)
    recording = build(network, "torch", dt=DT, dtype="float64", propagation=propagation).run(80.0)
    spikes = out.spikes["out"][:, 0].numpy()
    assert {(int(i), int(t)) for t, i in zip(*np.nonzero(spikes))} == recording.spikes["out"].pairs()
    np.testing.assert_array_equal(out.v["out"][:, 0].numpy(), recording.traces[("out", "v")][0])


def _task() -> tuple[Network, torch.Tensor]:
    rng = np.random.default_rng(4)
    times = [np.unique(rng.integers(0, 100, 15)).astype(float).tolist() for _ in range(12)]
    network = Network(
        populations=(
            Population("inp", SpikeSourceArray.from_lists(times)),
            Population("out", IF_curr_exp(cm=0.25, tau_m=10.0, tau_syn_E=3.0, tau_refrac=2.0), size=4),
        ),
        projections=(Projection("w", "inp", "out", AllToAll(), weight=rng.uniform(0.05, 0.25, 48), delay=1.0),),
        probes=(Probe("out"),),
    )
    return network, torch.tensor([1.0, 3.0, 5.0, 8.0], dtype=torch.float64)


@pytest.fixture(scope="module")
def trained() -> tuple[list[float], Network, set[tuple[int, int]]]:
    """One training run shared by the tests that check its result: losses, trained network, module spikes."""
    losses, network, net = _train()
    with torch.no_grad():
        spikes = net(steps=110).spikes["out"][:, 0].numpy()
    return losses, network, {(int(i), int(t)) for t, i in zip(*np.nonzero(spikes))}


def _train() -> tuple[list[float], Network, torch.nn.Module]:
    import snntorch.surrogate as surrogates

    network, target = _task()
    # Slopes are per mV: threshold distances here are ~10 mV, not snnTorch's unit threshold.
    net = module(network, dt=DT, dtype="float64", surrogate=surrogates.fast_sigmoid(slope=2.0))
    optimiser = torch.optim.Adam(net.parameters(), lr=0.05)
    losses = []
    for _ in range(40):
        optimiser.zero_grad()
        counts = net(steps=110).spikes["out"].sum(0)[0]
        loss = ((counts - target) ** 2).mean()
        loss.backward()
        optimiser.step()
        net.clamp_weights_()
        losses.append(float(loss.detach()))
    return losses, net.to_network(), net


def test_learning_target_spike_counts_lowers_the_loss_and_the_trained_network_runs_everywhere(trained):
    losses, network, ours = trained
    assert losses[-1] < 0.05 * losses[0]  # measured: 45.25 -> 0.25
    assert min(losses) <= 0.5
    counts = np.bincount([neuron for neuron, _ in ours], minlength=4)
    np.testing.assert_allclose(counts, [1, 3, 5, 8], atol=1)
    assert build(network, "torch", dt=DT, dtype="float64").run(110.0).spikes["out"].pairs() == ours
    if "brian2" in available_backends():
        assert build(network, "brian2", dt=DT).run(110.0).spikes["out"].pairs() == ours


@pytest.mark.pynn
def test_trained_weights_exported_spike_on_nest_as_in_the_module(trained, tmp_path: Path):
    if importlib.util.find_spec("pyNN") is None or importlib.util.find_spec("nest") is None:
        pytest.skip("pyNN and nest-simulator are needed")
    from neuromem.export import write_pynn_script

    _, network, ours = trained
    script = write_pynn_script(network, tmp_path / "trained", 110.0, dt=DT, targets=("nest",))
    done = subprocess.run(
        [sys.executable, str(script), "--simulator", "nest", "--output", str(tmp_path / "nest.npz")],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    with np.load(tmp_path / "nest.npz") as results:
        found = results["spikes1"]
    assert set(zip(found[0].tolist(), found[1].tolist())) == ours
    assert json.loads((script.parent / "plan.json").read_text())["populations"][1]["celltype"] == "IF_curr_exp"


def test_feed_forward_if_curr_delta_layers_take_step_currents_and_feed_two_readout_heads():
    layer = IF_curr_delta(cm=1.0, tau_m=20.0, v_rest=0.0, v_reset=0.0, v_thresh=1.0, tau_refrac=0.0)
    network = Network(
        populations=(
            Population("in", layer, size=8),
            Population("hidden", layer, size=6),
            Population("head_a", layer, size=2),
            Population("head_b", layer, size=3),
        ),
        projections=(
            Projection("w1", "in", "hidden", AllToAll(), weight=0.6, delay=DT),
            Projection("wa", "hidden", "head_a", AllToAll(), weight=0.15, delay=DT),
            Projection("wb", "hidden", "head_b", AllToAll(), weight=0.15, delay=DT),
        ),
    )
    net = module(network, dt=DT, dtype="float64", surrogate="atan", outputs=("head_a", "head_b"))
    currents = torch.rand(30, 4, 8, dtype=torch.float64, generator=torch.Generator().manual_seed(3)) * 0.3
    out = net({"in": currents})
    assert out.v["head_a"].shape == (30, 4, 2) and out.spikes["head_b"].shape == (30, 4, 3)
    # BPTT through both heads: a readout of each head's membrane reaches every weight.
    loss = out.v["head_a"].mean() - out.v["head_b"].mean()
    loss.backward()
    assert all(float(p.grad.abs().sum()) > 0 for p in net.weights.values())
    # A step current of I nA over one step moves V by R (1 - exp(-dt/tau_m)) I: the trials differ.
    assert not torch.allclose(out.v["head_a"][:, 0], out.v["head_a"][:, 1])


def test_refusals_name_the_feature_and_what_is_allowed():
    rule = STDP(SpikePairRule(), AdditiveWeightDependence(w_max=2.0))
    network = _network()
    plastic = Network(
        populations=network.populations,
        projections=(Projection("ih", "inp", "hid", AllToAll(), weight=1.0, delay=1.0, plasticity=rule),),
    )
    with pytest.raises(CapabilityError, match=r"plasticity on projection 'ih' .*freeze_plastic=True"):
        module(plastic, dt=DT)
    frozen = module(plastic, dt=DT, freeze_plastic=True)
    assert set(frozen.weights) == {"ih"}
    net = module(network, dt=DT)
    with pytest.raises(ValidationError, match=r"inputs\['inp'\] has shape \(10, 2, 5\); expected \(time, batch, 6\)"):
        net({"inp": torch.zeros(10, 2, 5)})
    with pytest.raises(ValidationError, match="steps"):
        net()
    with pytest.raises(ValidationError, match="surrogate"):
        module(network, dt=DT, surrogate="no_such_surrogate")
    with torch.no_grad():
        net.weights["ho"][0] = -1.0
    with pytest.raises(ValidationError, match=r"projection 'ho' has weight -1 < 0"):
        net.to_network()
    net.clamp_weights_()
    assert net.to_network().connection_list("ho").weight[0] == 0.0
