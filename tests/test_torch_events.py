"""The simulation's in-place event steps and its cheaper per-step operations give the same bits.

* ``IF_curr_exp``'s in-place steps (fused currents, float masks) equal its pure steps
  bit for bit, under both schemes, in float32 and float64, with refractory neurons,
  arrivals and injected current;
* a whole simulation on the in-place path equals the same simulation on the pure
  path: spikes, voltage and current traces, checkpoints and STDP weights;
* checkpoints keep their keys, shapes and dtypes, and a checkpoint written by the pure
  path (the layout checkpoints always had) loads into the in-place path;
* the STDP projection whose pre and post are the same neurons reuses the spike scan
  and gives the same weights as scanning every tick;
* the row gather, the flush of tiny values and the float spike row equal the plain
  operations they replace.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch

from neuromem.backends import build
from neuromem.backends.torch.ragged import gather_rows
from neuromem.cells import if_curr_exp
from neuromem.cells.base import fire, fire_in_place, heaviside_events
from neuromem.cells.registry import CELL_MODELS
from neuromem.spec import (
    STDP,
    AdditiveWeightDependence,
    DCSource,
    FixedProbability,
    IF_cond_exp,
    LIFCurrExp,
    MultiplicativeWeightDependence,
    Network,
    Population,
    Probe,
    Projection,
    SpikePairRule,
    SpikeSourcePoisson,
)
from neuromem.spec.schemes import EXACT, SPINNAKER

DTYPES = (torch.float32, torch.float64)


def _pure_and_event(scheme: str, dtype: torch.dtype, batch: int, seed: int):
    """A random public state with refractory neurons, and its working copy."""
    cell = LIFCurrExp(cm=0.25, tau_m=10.0, tau_refrac=0.7, tau_syn_E=2.0, tau_syn_I=4.0, v_thresh=-55.0)
    k_dict = if_curr_exp.constants(cell.parameters(), 0.1, scheme)
    n = 257  # not a multiple of any vector width: vector bodies and scalar tails both run
    columns = {
        key: (
            torch.full((n,), value, dtype=torch.int32)
            if isinstance(value, int)
            else torch.full((n,), float(value), dtype=torch.float64).to(dtype)
        )
        for key, value in k_dict.items()
    }
    k = if_curr_exp.EVENTS.constants(_Columns(**columns))
    g = torch.Generator().manual_seed(seed)
    state = if_curr_exp.State(
        v=(-65.0 + 12.0 * torch.rand(batch, n, generator=g, dtype=torch.float64)).to(dtype),
        i_exc=torch.rand(batch, n, generator=g, dtype=torch.float64).to(dtype) * 0.8,
        i_inh=torch.rand(batch, n, generator=g, dtype=torch.float64).to(dtype) * 0.4,
        refractory=torch.randint(0, 8, (batch, n), generator=g, dtype=torch.int32),
    )
    return _Columns(**columns), k, state


class _Columns:
    """Attribute access to per-neuron columns, as a block's constants."""

    def __init__(self, **columns: torch.Tensor) -> None:
        self.__dict__.update(columns)
        self._fields = tuple(columns)


@pytest.mark.parametrize("scheme", ["exact", "spinnaker"])
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("batch", [1, 4])
def test_in_place_step_equals_the_pure_step_bit_for_bit(scheme, dtype, batch):
    columns, k, state = _pure_and_event(scheme, dtype, batch, seed=batch)
    n = state.v.shape[1]
    pure_step = if_curr_exp.MODEL.torch.steps[scheme]
    event_step = if_curr_exp.EVENTS.steps[scheme]
    working = if_curr_exp.EVENTS.pack(state, columns)
    g = torch.Generator().manual_seed(7)
    spiked = 0
    for tick in range(60):
        arriving = (torch.rand(batch, 2 * n, generator=g, dtype=torch.float64) * 0.6).to(dtype)
        arriving[arriving < 0.45] = 0.0
        i_ext = torch.full((n,), 0.3, dtype=dtype) if tick % 3 else None
        spikes, state = pure_step(state, arriving[:, :n], arriving[:, n:], i_ext, columns, heaviside_events)
        row = torch.zeros(batch, n, dtype=torch.bool)
        event_step(working, arriving.clone(), i_ext, k, row)
        public = if_curr_exp.EVENTS.unpack(working)
        assert torch.equal(row, spikes)
        for name in ("v", "i_exc", "i_inh"):
            assert getattr(public, name).numpy().tobytes() == getattr(state, name).contiguous().numpy().tobytes(), name
        # The pure count may run below 0 (the simulation clamps it); the in-place count stops at 0.
        assert torch.equal(public.refractory, state.refractory.clamp(min=0))
        spiked += int(spikes.sum())
    assert spiked > 20  # the comparison covered spikes, resets and refractory holds


@pytest.mark.parametrize("dtype", DTYPES)
def test_fire_in_place_equals_fire(dtype):
    g = torch.Generator().manual_seed(3)
    n = 1001
    v = (-70.0 + 25.0 * torch.rand(3, n, generator=g, dtype=torch.float64)).to(dtype)
    refractory = torch.randint(-2, 4, (3, n), generator=g, dtype=torch.int32)
    v_thresh = torch.full((n,), -55.0, dtype=dtype)
    v_reset = torch.full((n,), -65.0, dtype=dtype)
    steps = torch.randint(0, 3, (n,), generator=g, dtype=torch.int32)
    spikes, v_expected, count = fire(v, v, refractory, v_thresh, v_reset, steps, heaviside_events)
    k = _Columns(v_thresh=v_thresh, v_reset=v_reset, steps=steps.to(dtype), zero=torch.zeros(n, dtype=dtype))
    k.one = torch.ones(n, dtype=dtype)
    v_in, count_in = v.clone(), refractory.clamp(min=0).to(dtype)
    row = torch.zeros(3, n, dtype=torch.bool)
    fire_in_place(v_in, count_in, torch.empty_like(v), torch.empty_like(v), k, row)
    assert torch.equal(row, spikes) and row.any() and not row.all()
    assert v_in.numpy().tobytes() == v_expected.numpy().tobytes()
    assert torch.equal(count_in.to(torch.int32), count.clamp(min=0))


def _network(scheme: str, multiplicative: bool = False, tau_refrac: float = 1.0) -> Network:
    """A conductance block first (so the LIF block's channels do not start at 0), two LIF
    populations in one block, injected current, STDP within and between populations."""
    lif = LIFCurrExp(cm=0.25, tau_m=10.0, tau_refrac=tau_refrac, tau_syn_E=2.0, tau_syn_I=4.0, v_thresh=-58.0)
    cond = IF_cond_exp(tau_refrac=1.0, v_thresh=-58.0)
    weight = MultiplicativeWeightDependence(0.0, 1.2) if multiplicative else AdditiveWeightDependence(0.0, 1.2)
    rule = STDP(SpikePairRule(A_plus=0.05, A_minus=0.06), weight)
    projections = (
        Projection("in_a", "noise", "a", FixedProbability(0.4, seed=1), weight=0.8, delay=1.0),
        Projection("in_b", "noise", "b", FixedProbability(0.4, seed=2), weight=0.8, delay=1.0),
        Projection("in_cond", "noise", "cond", FixedProbability(0.4, seed=3), weight=0.02, delay=1.0),
        Projection(
            "aa", "a", "a", FixedProbability(0.3, allow_self=False, seed=4), weight=0.3, delay=1.0, plasticity=rule
        ),
        Projection("ab", "a", "b", FixedProbability(0.3, seed=5), weight=0.3, delay=2.0, plasticity=rule),
        Projection("ba", "b", "a", FixedProbability(0.3, seed=6), weight=0.5, delay=1.0, receptor="inhibitory"),
        Projection("ca", "cond", "a", FixedProbability(0.3, seed=7), weight=0.2, delay=2.0),
    )
    return Network(
        name="events",
        scheme=scheme,
        populations=(
            Population("cond", cond, size=30),
            Population("a", lif, size=60),
            Population("b", lif, size=37),
            Population("noise", SpikeSourcePoisson(50, 40.0, seed=9)),
        ),
        projections=projections,
        current_sources=(DCSource("bias", "b", amplitude=0.25, start=5.0, stop=40.0),),
        probes=(
            Probe("a"),
            Probe("b"),
            Probe("cond"),
            Probe("a", "v"),
            Probe("b", "i_exc"),
            Probe("a", "i_inh"),
        ),
    )


def _pure(sim) -> None:
    """Put a simulation on its cell types' pure steps (the path without in-place updates)."""
    sim._event = [None for _ in sim.blocks]
    sim.reset()


def _outputs(sim, duration: float) -> dict[str, np.ndarray]:
    rec = sim.run(duration)
    out = {}
    for name, trains in rec.spikes.items():
        out[f"{name}.spikes"] = np.stack([trains.trial, trains.neuron, trains.tick])
    for (name, variable), values in rec.traces.items():
        out[f"{name}.{variable}"] = values
    for key, value in sim.state_dict().items():
        out[f"state.{key}"] = value.numpy()
    return out


def _assert_same_bits(left: dict[str, np.ndarray], right: dict[str, np.ndarray]) -> None:
    assert set(left) == set(right)
    for key in left:
        assert left[key].dtype == right[key].dtype and left[key].shape == right[key].shape, key
        assert left[key].tobytes() == right[key].tobytes(), key


@pytest.mark.parametrize(
    "scheme, dt, dtype, batch, multiplicative, tau_refrac",
    [
        (EXACT, 0.1, "float32", 1, False, 1.0),
        (EXACT, 0.1, "float64", 3, True, 1.0),
        (EXACT, 1.0, "float32", 3, False, 1.0),
        (EXACT, 0.1, "float32", 2, False, 0.0),  # never refractory: the blocks' int 0 steps
        (SPINNAKER, 0.1, "float32", 2, False, 1.0),
        (SPINNAKER, 1.0, "float64", 1, True, 0.0),
    ],
)
def test_simulation_on_the_in_place_path_equals_the_pure_path(scheme, dt, dtype, batch, multiplicative, tau_refrac):
    network = _network(scheme, multiplicative, tau_refrac)
    fast = build(network, "torch", dt=dt, dtype=dtype, batch_size=batch, seed=4)
    plain = build(network, "torch", dt=dt, dtype=dtype, batch_size=batch, seed=4)
    _pure(plain)
    assert [e is not None for e in fast._event] == [False, True]  # the LIF block runs in place
    assert isinstance(fast._event[1][1].steps, int) == (tau_refrac == 0.0)
    first_fast, first_plain = _outputs(fast, 60.0), _outputs(plain, 60.0)
    _assert_same_bits(first_fast, first_plain)
    assert first_fast["a.spikes"].shape[1] > 30 and first_fast["b.spikes"].shape[1] > 10
    for name in ("aa", "ab"):
        weights = fast.get_weights(name)
        np.testing.assert_array_equal(weights, plain.get_weights(name))
        assert not np.array_equal(weights, network.connection_list(name).weight[None].repeat(batch, 0))
    # Consecutive runs continue the same state.
    _assert_same_bits(_outputs(fast, 30.0), _outputs(plain, 30.0))


def test_checkpoints_keep_their_layout_and_old_ones_load():
    network = _network(EXACT)
    fast = build(network, "torch", dt=0.1, batch_size=2)
    plain = build(network, "torch", dt=0.1, batch_size=2)
    _pure(plain)
    fast.run(20.0)
    plain.run(20.0)
    state_fast, state_plain = fast.state_dict(), plain.state_dict()
    assert set(state_fast) == set(state_plain)
    for key in ("neurons.IF_curr_exp.v", "neurons.IF_curr_exp.i_exc", "neurons.IF_curr_exp.i_inh"):
        assert state_fast[key].shape == (2, 97) and state_fast[key].dtype == torch.float32
    assert state_fast["neurons.IF_curr_exp.refractory"].dtype == torch.int32
    for key in state_fast:
        assert torch.equal(state_fast[key], state_plain[key]), key
    # A checkpoint of the pure path (the layout every earlier checkpoint has) continues
    # on the in-place path exactly as the pure path continues it.
    other = build(network, "torch", dt=0.1, batch_size=2)
    other.run(7.0)
    other.load_state_dict(state_plain)
    _assert_same_bits(_outputs(other, 25.0), _outputs(plain, 25.0))


def test_stdp_reuses_the_post_scan_as_pre_events_with_the_same_weights():
    network = _network(EXACT)
    reuse = build(network, "torch", dt=0.1, batch_size=2)
    scan = build(network, "torch", dt=0.1, batch_size=2)
    assert reuse.plastic["aa"].same_neurons and not reuse.plastic["ab"].same_neurons
    scan.plastic["aa"].same_neurons = False
    reuse.run(80.0)
    scan.run(80.0)
    assert not reuse.plastic["ab"]._post_events  # nothing kept for a projection between populations
    for name in ("aa", "ab"):
        np.testing.assert_array_equal(reuse.get_weights(name), scan.get_weights(name))
    assert not np.array_equal(reuse.get_weights("aa"), scan.plastic["aa"].initial_weight.numpy()[None].repeat(2, 0))


def test_gather_rows_concatenates_the_ranges_in_row_order():
    rng = np.random.default_rng(5)
    degree = rng.integers(0, 6, 40)
    pointer = torch.as_tensor(np.concatenate([[0], np.cumsum(degree)]))
    for rows in ([], [3], [0, 39, 3, 3, 17], list(rng.integers(0, 40, 25)), [i for i in range(40) if degree[i] == 0]):
        index = torch.as_tensor(rows, dtype=torch.int64)
        positions, counts = gather_rows(pointer, index)
        expected = [p for r in rows for p in range(int(pointer[r]), int(pointer[r + 1]))]
        assert positions.tolist() == expected
        assert counts.tolist() == [int(degree[r]) for r in rows]


@pytest.mark.parametrize("dtype", DTYPES)
def test_flush_and_float_spike_row_equal_the_plain_operations(dtype):
    network = _network(EXACT)
    sim = build(network, "torch", dt=0.1, dtype=str(dtype).split(".")[1])
    values = [1e-30, -1e-30, -0.0, 0.0, float("inf"), -float("inf"), float("nan"), 1e-20, -1e-20, 3e-20, -5.0, 2.0]
    tensor = torch.tensor([values], dtype=dtype)
    expected = tensor.clone().masked_fill_(tensor.abs() < 1e-20, 0.0)
    sim.plastic["aa"].x = tensor.clone()
    sim._flush_tiny()
    assert sim.plastic["aa"].x.numpy().tobytes() == expected.numpy().tobytes()
    spikes = torch.rand(2, 64, generator=torch.Generator().manual_seed(1)) < 0.3
    assert sim._as_float(spikes).numpy().tobytes() == spikes.to(dtype).numpy().tobytes()


def test_cell_types_without_an_event_model_run_their_pure_steps():
    for name, model in CELL_MODELS.items():
        if name != "IF_curr_exp":
            assert model.torch.events is None, name
    network = _network(EXACT)
    sim = build(network, "torch", dt=0.1)
    assert sim._event[0] is None  # IF_cond_exp: its pure step, as before
    assert sim._event[1] is not None
    rec = sim.run(30.0)
    assert rec.spikes["cond"].tick.size > 0 and rec.spikes["a"].tick.size > 0
