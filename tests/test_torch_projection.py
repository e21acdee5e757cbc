"""The projection mode's step: per-population blocks, resting populations and silent sources skipped.

* a population at rest that nothing reaches is not stepped (its step is not
  called), and a run with skipping gives the same spikes, voltages and
  gradients as one where every population is stepped at every tick;
* a population whose initial state is not a fixed point (a bias current, an
  initial potential away from rest) is never skipped;
* ``fire`` with ``steps`` = the int 0 (a block none of whose neurons is ever
  refractory) equals the general path with a zero count, values and gradients;
* a forward pass's outputs stack a population's steps only when read;
* a matrix given for a fused pair replaces it (same values, the pair's gradient);
  inputs may stop before the run does.
"""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
import torch
from snntorch import surrogate

from neuromem.backends.torch import module
from neuromem.backends.torch.neurons import NeuronBlock
from neuromem.backends.torch.stepping import StackedSteps
from neuromem.cells.base import fire, heaviside, heaviside_events
from neuromem.errors import CapabilityError, ValidationError
from neuromem.spec import AllToAll, IF_curr_delta, IF_curr_exp, Network, Population, Projection, SpikeSourceArray

DT = 1.0


def _layered(hidden_cell: object = None) -> Network:
    """inp (events in the first 5 ms) -> h1 -> h2 -> out, 1 ms delays: h2 and out rest for the first ticks."""
    rng = np.random.default_rng(4)
    times = [sorted(rng.choice(5, size=3, replace=False).astype(float).tolist()) for _ in range(6)]
    cell = hidden_cell or IF_curr_delta(cm=1.0, tau_m=10.0, tau_refrac=0.0, v_rest=0.0, v_reset=0.0, v_thresh=1.0)
    readout = IF_curr_exp(cm=0.25, tau_m=10.0, tau_syn_E=2.0, tau_refrac=2.0)
    return Network(
        populations=(
            Population("inp", SpikeSourceArray.from_lists(times)),
            Population("h1", cell, size=8),
            Population("h2", cell, size=7),
            Population("out", readout, size=3),
        ),
        projections=(
            Projection("a", "inp", "h1", AllToAll(), weight=rng.uniform(0.2, 1.5, 48), delay=DT),
            Projection("b", "h1", "h2", AllToAll(), weight=rng.uniform(0.2, 1.2, 56), delay=DT),
            Projection(
                "b_inh", "h1", "h2", AllToAll(), weight=rng.uniform(0.0, 0.3, 56), delay=DT, receptor="inhibitory"
            ),
            Projection("c", "h2", "out", AllToAll(), weight=rng.uniform(0.5, 2.0, 21), delay=2 * DT),
        ),
    )


def _run(network: Network, skip: bool, steps: int = 25):
    net = module(network, dt=DT, dtype="float64", propagation="projection", surrogate=surrogate.fast_sigmoid(5.0))
    calls: dict[str, int] = {}
    for block in net._blocks(torch.float64, torch.device("cpu")):
        name, step = block.block.populations[0], block.step
        if skip:
            block.rests  # noqa: B018 - checked (one call of the step) before the calls are counted
        else:
            block._rests = False

        def counted(*args, _name=name, _step=step):  # type: ignore[no-untyped-def]
            calls[_name] = calls.get(_name, 0) + 1
            return _step(*args)

        block.step = counted
    out = net(steps=steps)
    loss = out.spikes["out"].sum() + out.v["out"].mean() + out.spikes["h2"].sum() + 0.1 * out.v["h1"].pow(2).mean()
    loss.backward()
    grads = {k: v.grad.clone() for k, v in net.weights.items()}
    return out, grads, calls


def test_resting_populations_are_skipped_with_the_same_values_and_gradients():
    skipped, skipped_grads, skipped_calls = _run(_layered(), skip=True)
    full, full_grads, full_calls = _run(_layered(), skip=False)
    for name in ("h1", "h2", "out"):
        assert torch.equal(skipped.spikes[name], full.spikes[name])
        assert torch.equal(skipped.v[name], full.v[name])
    for name in full_grads:
        assert torch.equal(skipped_grads[name], full_grads[name]), name
    assert full_calls == {"h1": 25, "h2": 25, "out": 25}
    # The first input event is at tick 0: h1 is first reached at tick 1, h2 at 2, out (delay 2) at 4.
    assert skipped_calls == {"h1": 24, "h2": 23, "out": 21}
    assert skipped.spikes["h2"].sum() > 5 and (full_grads["a"] != 0).sum() > 10


def test_a_population_away_from_its_fixed_point_is_never_skipped():
    biased = IF_curr_delta(cm=1.0, tau_m=10.0, tau_refrac=0.0, v_rest=0.0, v_reset=0.0, v_thresh=1.0, i_offset=0.15)
    out, _, calls = _run(_layered(biased), skip=True)
    assert calls["h1"] == calls["h2"] == 25
    # The bias alone charges h2 before any spike of h1 reaches it.
    assert out.v["h2"][0].min() > 0.0


def test_a_block_without_refractory_period_passes_the_int_zero():
    net = module(_layered(), dt=DT, propagation="projection")
    blocks = {b.block.populations[0]: b for b in net._blocks(torch.float32, torch.device("cpu"))}
    assert blocks["h1"].k.refractory_steps == 0 and isinstance(blocks["h1"].k.refractory_steps, int)
    assert torch.equal(blocks["out"].k.refractory_steps, torch.full((3,), 2, dtype=torch.int32))
    assert blocks["h1"].rests and blocks["out"].rests


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
@pytest.mark.parametrize("spike_fn", [heaviside, heaviside_events, surrogate.fast_sigmoid(5.0), torch.sigmoid])
def test_fire_without_refractory_period_equals_the_general_path(dtype, spike_fn):
    gen = torch.Generator().manual_seed(7)
    v_new = (torch.rand(4, 50, generator=gen, dtype=torch.float64) * 3 - 1).to(dtype).requires_grad_()
    v_old = torch.zeros(4, 50, dtype=dtype)
    refractory = torch.zeros(4, 50, dtype=torch.int32)
    v_thresh, v_reset = torch.full((50,), 1.0, dtype=dtype), torch.full((50,), -0.5, dtype=dtype)
    results = []
    for steps in (torch.zeros(50, dtype=torch.int32), 0):
        spikes, v, count = fire(v_new, v_old, refractory, v_thresh, v_reset, steps, spike_fn)
        assert spikes.dtype == (torch.bool if spike_fn is heaviside_events else dtype)
        grad = None
        if v.requires_grad:
            (grad,) = torch.autograd.grad((v * 1.3).sum() + spikes.sum(), v_new)
        results.append((spikes, v.detach(), (count <= 0).all(), grad))
    (s0, v0, free0, g0), (s1, v1, free1, g1) = results
    assert torch.equal(s0, s1) and torch.equal(v0, v1) and free0 and free1
    assert (g0 is None) == (g1 is None) and (g0 is None or torch.equal(g0, g1))
    assert 0 < int(s1.sum()) < s1.numel()


def test_forward_outputs_stack_a_population_only_when_read():
    net = module(_layered(), dt=DT, propagation="projection", outputs=["h1", "out"])
    with torch.no_grad():
        out = net(steps=12)
    assert isinstance(out.spikes, StackedSteps) and list(out.spikes) == ["h1", "out"] and len(out.v) == 2
    assert out.spikes._stacked == {}
    first = out.spikes["h1"]
    assert first.shape == (12, 1, 8) and out.spikes["h1"] is first and list(out.spikes._stacked) == ["h1"]
    stepped, state = [], net.initial_state(1)
    with torch.no_grad():
        for _ in range(12):
            state, step = net.step(state)
            stepped.append(step.spikes["h1"])
    assert torch.equal(torch.stack(stepped), first) and first.sum() > 3


def test_neuron_block_rests_is_checked_once_and_never_with_trained_constants():
    network = _layered()
    net = module(network, dt=DT, propagation="projection", train_time_constants=True)
    blocks = net._blocks(torch.float32, torch.device("cpu"))
    assert not any(block.rests for block in blocks)
    plain = NeuronBlock(network, net.layout.blocks[0], DT, torch.float32, torch.device("cpu"))
    assert plain.rests and plain._rests is True


def test_routes_send_nothing_past_the_end_of_a_run():
    net = module(_layered(), dt=DT, propagation="projection")
    matrices = net._tables()
    spikes = {"inp": torch.ones(1, 6), "h1": torch.ones(1, 8), "h2": torch.ones(1, 7), "out": None}
    pending: dict = {}
    net.routes.send(spikes, matrices, 3, pending, horizon=5)  # h2 -> out has a delay of 2: tick 5
    assert sorted(pending) == [4] and sorted(pending[4]) == [("h1", "excitatory"), ("h2", "excitatory")]
    torch.testing.assert_close(pending[4][("h1", "excitatory")], matrices[0].sum(0, keepdim=True))
    everything: dict = {}
    net.routes.send(spikes, matrices, 3, everything)
    assert sorted(everything) == [4, 5] and list(everything[5]) == [("out", "excitatory")]


def _signed_pair_network() -> tuple[Network, torch.Tensor]:
    """inp -> h1 -> h2 as in :func:`_layered`, with h1 -> h2 a signed matrix given as an exc/inh pair."""
    network = _layered()
    rng = np.random.default_rng(11)
    signed = rng.normal(0.2, 0.8, (8, 7))  # (pre, post) mV
    projections = [p for p in network.projections if p.name not in ("b", "b_inh")]
    projections += [
        Projection("b", "h1", "h2", AllToAll(), weight=np.maximum(signed, 0).ravel(), delay=DT),
        Projection(
            "b_inh", "h1", "h2", AllToAll(), weight=np.maximum(-signed, 0).ravel(), delay=DT, receptor="inhibitory"
        ),
    ]
    return dataclasses.replace(network, projections=tuple(projections), _lists={}), torch.as_tensor(signed)


def test_a_given_matrix_replaces_its_pair_with_the_same_values_and_its_own_gradient():
    network, signed = _signed_pair_network()
    net = module(network, dt=DT, dtype="float64", propagation="projection", surrogate=surrogate.fast_sigmoid(5.0))
    pair = net(steps=20)
    pair_loss = pair.v["h2"].pow(2).sum() + pair.spikes["out"].sum()
    pair_loss.backward()
    given = signed.clone().requires_grad_()
    out = net(steps=20, matrices={("h1", "h2"): given})
    (out.v["h2"].pow(2).sum() + out.spikes["out"].sum()).backward()
    for name in ("h1", "h2", "out"):
        assert torch.equal(out.spikes[name], pair.spikes[name]) and torch.equal(out.v[name], pair.v[name])
    # The pair's gradient is the signed matrix's, split by sign: dL/dW_exc = g, dL/dW_inh = -g.
    g = net.weights["b"].grad.view(8, 7)
    assert torch.equal(given.grad, g) and torch.equal(net.weights["b_inh"].grad.view(8, 7), -g)
    assert (g != 0).sum() > 10 and pair.spikes["h2"].sum() > 3


@pytest.mark.parametrize(
    ("key", "shape", "message"),
    [(("h1", "out"), (8, 3), "one route"), (("h1", "h2"), (7, 8), r"\(8, 7\)"), (("inp", "h2"), (6, 7), "one route")],
)
def test_a_given_matrix_must_be_one_route_of_its_shape(key, shape, message):
    network, _ = _signed_pair_network()
    net = module(network, dt=DT, propagation="projection")
    with pytest.raises(ValidationError, match=message):
        net(steps=5, matrices={key: torch.zeros(shape)})
    dense = module(network, dt=DT, propagation="dense")
    with pytest.raises(CapabilityError, match="matrices"):
        dense(steps=5, matrices={("h1", "h2"): torch.zeros(8, 7)})


def test_inputs_may_stop_before_the_run_does():
    rng = np.random.default_rng(5)
    frames = torch.as_tensor((rng.uniform(size=(4, 2, 6)) < 0.5) * 1.0)
    net = module(_layered(), dt=DT, dtype="float64", propagation="projection")
    short = net({"inp": frames}, steps=12)
    padded = net({"inp": torch.cat([frames, torch.zeros(8, 2, 6, dtype=torch.float64)])})
    for name in ("h1", "h2", "out"):
        assert short.spikes[name].shape == (12, 2, net.layout.sizes[name])
        assert torch.equal(short.spikes[name], padded.spikes[name]) and torch.equal(short.v[name], padded.v[name])
    assert short.spikes["h2"].sum() > 3
    dense = module(_layered(), dt=DT, dtype="float64", propagation="dense")
    assert torch.equal(dense({"inp": frames}, steps=12).spikes["out"], short.spikes["out"])
    with pytest.raises(ValidationError, match="steps >= 4"):
        net({"inp": frames}, steps=3)
