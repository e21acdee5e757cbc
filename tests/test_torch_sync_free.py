"""Bounded sizes: the torch step loop reads no device value inside a chunk, with results identical to exact sizes."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from dataclasses import replace

import numpy as np
import pytest
import torch

from neuromem.backends import build
from neuromem.backends.torch.simulation import TorchSimulation
from neuromem.backends.torch.sources import ArraySchedule
from neuromem.errors import ValidationError
from neuromem.record import Recording
from neuromem.spec import (
    STDP,
    AdditiveWeightDependence,
    CA3PairRule,
    FixedProbability,
    IF_cond_exp,
    LIFCurrExp,
    Network,
    Population,
    Probe,
    Projection,
    SpikePairRule,
    SpikeSourceArray,
)

DT = 0.5


def _cue(size: int, seed: int, rate: float = 150.0, duration: float = 40.0) -> SpikeSourceArray:
    """Random spike times (ms) on the dt grid for ``size`` sources."""
    rng = np.random.default_rng(seed)
    times = []
    for _ in range(size):
        drawn = rng.uniform(0.0, duration, rng.poisson(rate * duration / 1000.0))
        times.append(np.unique(np.round(drawn / DT)) * DT)
    return SpikeSourceArray.from_lists(times)


def _plastic_network(ca3: bool = True, delays: tuple[float, ...] = (0.5, 1.0, 1.5, 2.0)) -> Network:
    """Array drive, per-synapse delays of 1 to 4 steps, inhibition, STDP and (optionally) the CA3 rule.

    Random weights make every float sum depend on its order.
    """
    plain = _wiring(ca3, {})
    rng = np.random.default_rng(11)
    varied = {}
    for projection in plain.projections:
        size = plain.connection_list(projection.name).pre.size
        weight = projection.weight * rng.uniform(0.2, 1.8, size)
        delay = rng.choice(delays, size) if projection.plasticity is None else projection.delay
        varied[projection.name] = (weight, delay)
    return _wiring(ca3, varied)


def _wiring(ca3: bool, varied: dict[str, tuple[np.ndarray, object]]) -> Network:
    lif = LIFCurrExp(tau_m=10.0, tau_syn_E=2.0, tau_syn_I=4.0, tau_refrac=1.0, v_thresh=-58.0)
    cond = IF_cond_exp(tau_refrac=1.0, v_thresh=-58.0)
    stdp = STDP(SpikePairRule(A_plus=0.05, A_minus=0.06), AdditiveWeightDependence(0.0, 1.5))
    rule = CA3PairRule(amplitude_plus=0.05, amplitude_minus=0.04, tau_plus=15.0, tau_minus=15.0, w_min=0.0, w_max=1.0)
    projections = [
        Projection("in_lif", "cue", "lif", FixedProbability(0.4, seed=1), weight=0.7, delay=0.5),
        Projection("in_cond", "cue", "cond", FixedProbability(0.4, seed=2), weight=0.02, delay=1.0),
        Projection("rec", "lif", "lif", FixedProbability(0.3, allow_self=False, seed=4), weight=0.3, delay=0.5),
        Projection("inh", "cond", "lif", FixedProbability(0.5, seed=5), weight=0.4, delay=1.5, receptor="inhibitory"),
        Projection("fwd", "lif", "cond", FixedProbability(0.3, seed=6), weight=0.01, delay=1.0),
        Projection("learn", "cue", "lif", FixedProbability(0.3, seed=7), weight=0.5, delay=1.0, plasticity=stdp),
    ]
    if ca3:
        assoc = FixedProbability(0.2, allow_self=False, seed=8)
        projections.append(Projection("assoc", "lif", "lif", assoc, weight=0.2, delay=0.5, plasticity=rule))
    projections = [
        replace(p, weight=varied[p.name][0], delay=varied[p.name][1]) if p.name in varied else p for p in projections
    ]
    return Network(
        populations=(
            Population("cue", _cue(40, 3)),
            Population("lif", lif, size=30),
            Population("cond", cond, size=20),
        ),
        projections=tuple(projections),
        probes=(Probe("lif"), Probe("cond"), Probe("lif", "v"), Probe("cond", "v")),
        scheme="exact",
    )


def _windowed_network(varied_delays: bool) -> Network:
    """No emission-time rule and a smallest delay of 3 steps: spikes propagate 3 steps at a time."""
    return _plastic_network(ca3=False, delays=(1.5, 2.0) if varied_delays else (1.5,))


class HostRead(AssertionError):
    """A device value was read on the host inside a chunk's steps."""


class _Refuse(torch.utils._python_dispatch.TorchDispatchMode):
    """Raises on every operator whose result needs a device value on the host."""

    READS = {
        torch.ops.aten._local_scalar_dense.default,  # .item(), int(), float(), bool()
        torch.ops.aten.nonzero.default,  # sized by the data
        torch.ops.aten.nonzero.out,
        torch.ops.aten.masked_select.default,
        torch.ops.aten.unique_consecutive.default,
        torch.ops.aten._unique2.default,
    }

    def __torch_dispatch__(self, func, types, args=(), kwargs=None):  # type: ignore[no-untyped-def]
        if func in self.READS:
            raise HostRead(f"{func} inside a chunk's steps")
        if func is torch.ops.aten.repeat_interleave.Tensor and (kwargs or {}).get("output_size") is None:
            raise HostRead("repeat_interleave without output_size inside a chunk's steps")
        if func is torch.ops.aten.index.Tensor and any(i is not None and i.dtype == torch.bool for i in args[1]):
            raise HostRead("a boolean mask index inside a chunk's steps")
        if func is torch.ops.aten._to_copy.default and (kwargs or {}).get("device") not in (None, args[0].device):
            raise HostRead("a copy to another device inside a chunk's steps")
        return func(*args, **(kwargs or {}))


@contextlib.contextmanager
def no_host_reads() -> Iterator[None]:
    """Every read of a tensor's value on the host raises (also the Python-level ones)."""
    names = ["item", "tolist", "numpy", "cpu", "__bool__", "__int__", "__float__", "__index__"]
    saved = {name: getattr(torch.Tensor, name) for name in names}

    def refuse(name: str):  # type: ignore[no-untyped-def]
        def raiser(*args: object, **kwargs: object) -> object:
            raise HostRead(f"Tensor.{name} inside a chunk's steps")

        return raiser

    try:
        for name in names:
            setattr(torch.Tensor, name, refuse(name))
        with _Refuse():
            yield
    finally:
        for name, method in saved.items():
            setattr(torch.Tensor, name, method)


@pytest.fixture
def guarded(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Run the steps of every chunk under :func:`no_host_reads`; counts the chunks' step runs."""
    runs: list[int] = []
    original = TorchSimulation._chunk_steps

    @contextlib.contextmanager
    def steps(self: TorchSimulation) -> Iterator[None]:
        with original(self), no_host_reads():
            yield
        runs.append(self.tick)

    monkeypatch.setattr(TorchSimulation, "_chunk_steps", steps)
    return runs


def test_the_guard_catches_host_reads() -> None:
    x = torch.tensor([0.0, 1.0, 1.0])
    reads = [
        lambda: bool(x.sum()),
        lambda: x.sum().item(),
        lambda: int(x[1]),
        lambda: torch.nonzero(x),
        lambda: torch.repeat_interleave(torch.arange(3), torch.tensor([1, 2, 0])),
        lambda: x.tolist(),
        lambda: x[x > 0],
    ]
    for read in reads:
        with no_host_reads(), pytest.raises(HostRead):
            read()
    with no_host_reads():  # what bounded sizes use passes
        torch.nonzero_static(x, size=2)
        torch.repeat_interleave(torch.arange(3), torch.tensor([1, 2, 0]), output_size=3)
    assert x.sum().item() == 2.0  # restored afterwards


def test_the_guard_fails_the_exact_policy(guarded: list[int]) -> None:
    simulation = build(_plastic_network(), "torch", dt=DT, dtype="float64", batch_size=2, host_reads="allowed")
    with pytest.raises(HostRead):
        simulation.run(5.0)


def _run(network: Network, host_reads: str, capacity: int | None = None, **options: object) -> tuple[Recording, ...]:
    simulation = build(network, "torch", dt=DT, host_reads=host_reads, **options)  # type: ignore[arg-type]
    recordings = [simulation.run(20.0)]
    if capacity is not None:
        for key in simulation.sizes.keys:
            simulation.sizes.set_capacity(key, capacity)
    recordings.append(simulation.run(20.0))
    weights = {name: simulation.get_weights(name) for name in simulation.plastic}
    return (*recordings, weights)  # type: ignore[return-value]


def _assert_same(a: tuple, b: tuple) -> None:  # type: ignore[type-arg]
    for x, y in zip(a[:-1], b[:-1]):
        for name in x.spikes:
            for field in ("trial", "neuron", "tick"):
                np.testing.assert_array_equal(getattr(x.spikes[name], field), getattr(y.spikes[name], field))
        for key in x.traces:
            np.testing.assert_array_equal(x.traces[key], y.traces[key])  # bit for bit
    assert a[-1].keys() == b[-1].keys()
    for name in a[-1]:
        np.testing.assert_array_equal(a[-1][name], b[-1][name])


GUARDED = {
    "plastic-event": (lambda: _plastic_network(), "event"),
    "plastic-dense": (lambda: _plastic_network(), "dense"),
    "window-delays-event": (lambda: _windowed_network(True), "event"),
    "window-one-delay-event": (lambda: _windowed_network(False), "event"),
}


@pytest.mark.parametrize("case", list(GUARDED))
def test_plastic_network_runs_its_chunks_without_host_reads(guarded: list[int], case: str) -> None:
    make, propagation = GUARDED[case]
    network = make()
    simulation = build(
        network, "torch", dt=DT, dtype="float64", batch_size=3, propagation=propagation, host_reads="never"
    )
    recording = simulation.run(40.0)
    assert guarded and guarded[-1] == 80  # every step ran under the guard (reruns included)
    assert len(recording.spikes["lif"]) > 100
    assert recording.traces[("lif", "v")].shape == (3, 80, 30)
    assert simulation.plastic
    for name in simulation.plastic:
        initial = network.connection_list(name).weight
        assert not np.array_equal(simulation.get_weights(name)[0], initial)  # the rules changed weights


CASES = {
    "plastic-batch3-f64": (lambda: _plastic_network(), {"batch_size": 3, "dtype": "float64"}),
    "plastic-batch1-f32": (lambda: _plastic_network(), {"batch_size": 1, "dtype": "float32"}),
    "stdp-batch2-f32": (lambda: _plastic_network(ca3=False), {"batch_size": 2, "dtype": "float32"}),
    "dense-batch2-f64": (lambda: _plastic_network(), {"batch_size": 2, "dtype": "float64", "propagation": "dense"}),
    "window-delays-batch2-f64": (lambda: _windowed_network(True), {"batch_size": 2, "dtype": "float64"}),
    "window-one-delay-batch3-f32": (lambda: _windowed_network(False), {"batch_size": 3, "dtype": "float32"}),
    "window-one-delay-batch1-f64": (lambda: _windowed_network(False), {"batch_size": 1, "dtype": "float64"}),
    # Float spikes (a surrogate threshold): the selections run on 0/1 floats.
    "surrogate-batch2-f64": (lambda: _plastic_network(), {"batch_size": 2, "dtype": "float64", "surrogate": "atan"}),
}


@pytest.mark.parametrize("case", list(CASES))
def test_bounded_equals_exact_bit_for_bit_even_with_capacity_one(case: str) -> None:
    make, options = CASES[case]
    options = {"propagation": "event", **options}
    network = make()
    exact = _run(network, "allowed", **options)
    bounded = _run(network, "never", **options)
    tiny = _run(network, "never", capacity=1, **options)  # every selection overflows: chunks rerun
    assert sum(len(s) for s in exact[0].spikes.values()) > 50
    _assert_same(exact, bounded)
    _assert_same(exact, tiny)


def test_windowed_cases_do_propagate_in_windows() -> None:
    for varied in (True, False):
        simulation = build(_windowed_network(varied), "torch", dt=DT, propagation="event", host_reads="never")
        assert simulation.window_steps == 3
        assert bool(simulation.static.rows) is not varied  # one delay: padded row tables


def test_capacity_one_reruns_chunks() -> None:
    simulation = build(_plastic_network(), "torch", dt=DT, batch_size=2, host_reads="never")
    calls = []
    original = simulation.sizes.overflowed

    def counted() -> bool:
        calls.append(original())
        return calls[-1]

    simulation.sizes.overflowed = counted  # type: ignore[method-assign]
    simulation.run(10.0)
    assert calls.count(True) >= 1 and calls[-1] is False  # grew, reran, then fitted


def test_host_reads_option() -> None:
    network = _plastic_network()
    assert build(network, "torch", dt=DT).sizes.bounded is False  # auto on a CPU: exact
    assert build(network, "torch", dt=DT, host_reads="never").sizes.bounded is True
    with pytest.raises(ValidationError, match="host_reads = 'sometimes' is not one of 'auto', 'never', 'allowed'"):
        build(network, "torch", dt=DT, host_reads="sometimes")


def test_array_schedule_fills_without_reading_the_device() -> None:
    schedule = ArraySchedule([_cue(40, 3), _cue(40, 4)], DT, torch.device("cpu"))
    out = torch.zeros(30, 2, 40)
    with no_host_reads():
        schedule.fill(out, 10)
    expected = torch.zeros(30, 2, 40)
    for trial, seed in enumerate((3, 4)):
        source = _cue(40, seed)
        ticks = source.ticks(DT)
        keep = (ticks >= 10) & (ticks < 40)
        expected[ticks[keep] - 10, trial, source.neuron[keep]] = 1
    assert expected.sum() > 20
    torch.testing.assert_close(out, expected, rtol=0, atol=0)


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU")
def test_cuda_chunks_never_synchronise() -> None:
    network = _plastic_network()
    cpu = build(network, "torch", dt=DT, dtype="float64", batch_size=2)
    simulation = build(network, "torch", dt=DT, dtype="float64", batch_size=2, device="cuda")
    assert simulation.sizes.bounded  # auto on CUDA
    previous = torch.cuda.get_sync_debug_mode()
    torch.cuda.set_sync_debug_mode("error")
    try:
        recording = simulation.run(40.0)
    finally:
        torch.cuda.set_sync_debug_mode(previous)
    _assert_same((recording, {}), (cpu.run(40.0), {}))


def test_bounded_checkpoint_resumes_bit_for_bit() -> None:
    network = _plastic_network()
    first = build(network, "torch", dt=DT, batch_size=2, propagation="event", host_reads="never")
    first.run(5.0)
    state = first.state_dict()
    expected = first.run(25.0)
    second = build(network, "torch", dt=DT, batch_size=2, propagation="event", host_reads="never")
    second.load_state_dict(state)
    resumed = second.run(25.0)
    weights = ({"assoc": first.get_weights("assoc")}, {"assoc": second.get_weights("assoc")})
    _assert_same((expected, weights[0]), (resumed, weights[1]))
    assert len(resumed.spikes["lif"]) > 20
