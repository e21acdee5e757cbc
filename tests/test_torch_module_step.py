"""The differentiable module step by step, per-projection propagation and the online trace rule.

* ``propagation="projection"`` (one matmul per projection, exc/inh pairs
  fused onto IF_curr_delta, silent steps skipped) gives the dense path's
  spikes, voltages and gradients (float64, up to summation order);
* ``step()`` from ``initial_state()`` repeats ``forward()`` spike for spike,
  with the network's own sources and current sources, and leaves the state
  it was given unchanged;
* the online rule's gradient (detached membranes, presynaptic traces) equals
  one computed by hand on a 2-3-2 network, summed over per-step losses;
* the online rule is refused outside the projection mode.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from snntorch import surrogate

from neuromem.backends.torch import module
from neuromem.errors import CapabilityError, ValidationError
from neuromem.spec import AllToAll, IF_curr_delta, Network, Population, Projection, SpikeSourceArray
from tests.test_torch_module import DT, _network


def _run(propagation: str):
    net = module(_network(refractory=2.0), dt=DT, dtype="float64", propagation=propagation, surrogate="atan")
    out = net(steps=70)
    loss = out.spikes["out"].sum() + out.v["out"].mean() + out.spikes["hid"].sum()
    loss.backward()
    return out, {k: v.grad.clone() for k, v in net.weights.items()}


def test_projection_propagation_gives_the_dense_paths_spikes_voltages_and_gradients():
    dense, dense_grads = _run("dense")
    projection, projection_grads = _run("projection")
    for name in ("hid", "out"):
        assert torch.equal(dense.spikes[name], projection.spikes[name])
        torch.testing.assert_close(projection.v[name], dense.v[name], rtol=0, atol=1e-12)
    assert dense.spikes["out"].sum() > 20
    for name in dense_grads:
        torch.testing.assert_close(projection_grads[name], dense_grads[name], rtol=1e-10, atol=1e-12)
    assert (projection_grads["ih"] != 0).sum() > 20


def test_projection_propagation_gradients_match_finite_differences():
    net = module(_network(), dt=DT, dtype="float64", propagation="projection", surrogate=lambda x: torch.sigmoid(x))

    def loss() -> torch.Tensor:
        out = net(steps=70)
        return (out.spikes["out"] * torch.arange(1.0, 4.0, dtype=torch.float64)).sum() + out.spikes["hid"].sum()

    loss().backward()
    rng = np.random.default_rng(2)
    checked = 0
    for parameter in net.weights.values():
        flat = parameter.detach().view(-1)
        for index in rng.choice(flat.numel(), size=3, replace=False):
            step = 1e-7 * max(1.0, abs(float(flat[index])))
            with torch.no_grad():
                flat[index] += step
                plus = float(loss())
                flat[index] -= 2 * step
                minus = float(loss())
                flat[index] += step
            numeric = (plus - minus) / (2 * step)
            assert float(parameter.grad.view(-1)[index]) == pytest.approx(numeric, rel=1e-5, abs=1e-7)
            checked += 1
    assert checked == 9


@pytest.mark.parametrize("propagation", ["dense", "projection"])
def test_steps_from_the_initial_state_repeat_forward(propagation):
    net = module(_network(refractory=2.0), dt=DT, dtype="float64", propagation=propagation)
    with torch.no_grad():
        whole = net(steps=70, batch_size=2)
        state = net.initial_state(2)
        first_state = state
        spikes, voltages = [], []
        for _ in range(70):
            state, out = net.step(state)
            spikes.append(out.spikes["out"])
            voltages.append(out.v["out"])
        assert state.tick == 70 and first_state.tick == 0
        again, out0 = net.step(first_state)  # the state given is not changed by a step
    assert torch.equal(torch.stack(spikes), whole.spikes["out"]) and whole.spikes["out"].sum() > 20
    torch.testing.assert_close(torch.stack(voltages), whole.v["out"], rtol=0, atol=1e-12)
    torch.testing.assert_close(out0.v["out"], whole.v["out"][0], rtol=0, atol=0)
    assert again.tick == 1


def _tiny(w0: np.ndarray, w1: np.ndarray) -> Network:
    """2 graded inputs -> 3 IF_curr_delta (threshold 1 mV, reset 0) -> 2 integrating readouts; signed pairs."""
    hidden = IF_curr_delta(cm=1.0, tau_m=10.0, tau_refrac=0.0, v_rest=0.0, v_reset=0.0, v_thresh=1.0)
    readout = IF_curr_delta(cm=1.0, tau_m=1e9, tau_refrac=0.0, v_rest=0.0, v_reset=0.0, v_thresh=1e9)
    projections = []
    for name, pre, post, w in (("a", "inp", "hid", w0), ("b", "hid", "out", w1)):
        for receptor, sign in (("excitatory", 1.0), ("inhibitory", -1.0)):
            weight = np.maximum(sign * w, 0.0).T.ravel()  # (post, pre) -> pre-major
            projections.append(
                Projection(f"{name}_{receptor[:3]}", pre, post, AllToAll(), weight=weight, delay=DT, receptor=receptor)
            )
    return Network(
        populations=(
            Population("inp", SpikeSourceArray.from_lists([[], []])),
            Population("hid", hidden, size=3),
            Population("out", readout, size=2),
        ),
        projections=tuple(projections),
    )


def test_online_gradient_equals_the_hand_computed_trace_rule():
    rng = np.random.default_rng(3)
    w0 = rng.normal(0.8, 1.0, (3, 2))  # (post, pre) mV
    w1 = rng.normal(0.0, 1.0, (2, 3))
    x = rng.uniform(0.0, 1.0, (6, 1, 2))  # (ticks, batch, inputs), graded events
    c = np.array([0.7, -1.3])  # per-step loss: c . (readout voltage step)
    slope, lam = 5.0, math.exp(-DT / 10.0)
    net = module(
        _tiny(w0, w1), dt=DT, dtype="float64", propagation="projection", surrogate=surrogate.fast_sigmoid(slope=slope)
    )
    decays = {"hid": lam, "out": 0.0}
    state = net.initial_state(1)
    previous = torch.zeros(1, 2, dtype=torch.float64)
    for t in range(x.shape[0]):
        state, out = net.step(state, {"inp": torch.as_tensor(x[t])}, online=decays)
        loss = ((out.v["out"] - previous) * torch.as_tensor(c)).sum()
        if loss.requires_grad:
            loss.backward(retain_graph=True)  # populations of one cell type share the block's tensors
        previous = out.v["out"].detach()
    # By hand. Tick t: v_new[t] = lam v[t-1] + w0 x[t-1]; h[t] = H(v_new[t] - 1), reset to 0;
    # the readout steps by w1 h[t-1], so loss_t = c . w1 h[t-1]: dL/dw1 = c h[t-1]^T and, through the
    # surrogate sigma[t-1] at v_new[t-1] (membrane past detached), dL/dw0 = (w1^T c sigma[t-1]) a[t-2]^T
    # with the input trace a[t] = lam a[t-1] + x[t].
    h, sigma, a = {}, {}, {}
    v, trace = np.zeros(3), np.zeros(2)
    for t in range(x.shape[0]):
        v_new = lam * v + (w0 @ x[t - 1, 0] if t >= 1 else 0.0)
        h[t] = (v_new >= 1.0).astype(float)
        sigma[t] = 1.0 / (slope * np.abs(v_new - 1.0) + 1.0) ** 2
        v = np.where(h[t] > 0, 0.0, v_new)
        trace = lam * trace + x[t, 0]
        a[t] = trace.copy()
    g0, g1 = np.zeros_like(w0), np.zeros_like(w1)
    for t in range(1, x.shape[0]):
        g1 += np.outer(c, h[t - 1])
        if t >= 2:
            g0 += np.outer((w1.T @ c) * sigma[t - 1], a[t - 2])
    fired = sum(int(s.sum()) for s in h.values())
    assert fired >= 2
    # snnTorch's surrogate returns float32 spikes, so gradients through them carry float32 rounding.
    for name, hand in (("a", g0), ("b", g1)):
        grad_exc = net.weights[f"{name}_exc"].grad.view(hand.shape[1], hand.shape[0]).T.numpy()
        grad_inh = net.weights[f"{name}_inh"].grad.view(hand.shape[1], hand.shape[0]).T.numpy()
        np.testing.assert_allclose(grad_exc, hand, rtol=1e-6, atol=1e-9)
        np.testing.assert_allclose(grad_inh, -hand, rtol=1e-6, atol=1e-9)
    assert np.abs(g0).sum() > 0.1 and np.abs(g1).sum() > 0.1


def test_online_rule_needs_projection_propagation_and_inputs_of_the_state_batch():
    net = module(_tiny(np.ones((3, 2)), np.ones((2, 3))), dt=DT, propagation="dense")
    with pytest.raises(CapabilityError, match="online trace rule.*'dense'.*allowed: 'projection'"):
        net.step(net.initial_state(1), online=True)
    net = module(_tiny(np.ones((3, 2)), np.ones((2, 3))), dt=DT, propagation="projection")
    with pytest.raises(ValidationError, match=r"inputs\['inp'\] holds 2 trials; the state 1"):
        net.step(net.initial_state(1), {"inp": torch.zeros(2, 2)})
    with pytest.raises(ValidationError, match=r"inputs\['inp'\] has shape \(1, 3\); expected \(batch, 2\)"):
        net.step(net.initial_state(1), {"inp": torch.zeros(1, 3)})
    with pytest.raises(ValidationError, match=r"online\['inp'\] = 0.5 is not allowed; allowed: a neuron population"):
        net.step(net.initial_state(1), online={"inp": 0.5})
    with pytest.raises(ValidationError, match=r"online\['hid'\] = 1.5 is not allowed.*trace decay in \[0, 1\]"):
        net.step(net.initial_state(1), online={"hid": 1.5})
    assert net.trace_decays() == {"hid": pytest.approx(math.exp(-0.1)), "out": pytest.approx(1.0)}
