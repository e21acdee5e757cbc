"""Poisson trains drawn on the device equal numpy's bit for bit; recording copied to the host per chunk."""

from __future__ import annotations

import functools
from fractions import Fraction

import numpy as np
import pytest
import torch

import neuromem.backends.torch.drive as torch_drive
import neuromem.backends.torch.simulation as torch_simulation
from neuromem.backends import build
from neuromem.backends.torch.layout import Layout
from neuromem.backends.torch.sources import PoissonSchedule, table_gaps
from neuromem.spec import (
    STDP,
    AdditiveWeightDependence,
    FixedProbability,
    LIFCurrExp,
    Network,
    Population,
    Probe,
    Projection,
    SpikePairRule,
    SpikeSourceArray,
    SpikeSourcePoisson,
)
from neuromem.spec.random import SEARCH_BELOW, SMALLEST, GapRule, PoissonTrains, poisson_ticks, uniform_numpy

CPU = torch.device("cpu")
SEEDS = [11, 12, 13]


def _uniforms(n: int) -> np.ndarray:
    u = uniform_numpy(7, 3, np.arange(n), np.zeros(n, dtype=np.int64))
    # The extremes: 1 - u = 1 and 1 - u = 2**-53.
    return np.concatenate([u, [0.0, 1.0 - SMALLEST]])


@pytest.mark.parametrize("p", [1.0, 0.9999, 0.3, 0.01, 2e-4])
def test_table_gaps_count_the_thresholds_at_or_above_one_minus_u(p: float) -> None:
    rule = GapRule(p)
    assert rule.table is not None
    thresholds = rule.powers(np.arange(1, rule.table.size + 1))
    assert np.all(np.diff(thresholds) < 0) and thresholds[-1] < SMALLEST
    assert thresholds.size == 1 or thresholds[-2] >= SMALLEST  # J: the first power below 2**-53
    # Also u on the grid (multiples of 2**-53) next to thresholds: at or above 0.5 the grid holds the
    # thresholds themselves, so 1 - u equals one exactly (the comparison is "at or above").
    grid = thresholds[thresholds >= SMALLEST][:50] * 2.0**53
    u = np.concatenate([_uniforms(3000), 1.0 - np.floor(grid) / 2.0**53, 1.0 - np.ceil(grid) / 2.0**53])
    x = 1.0 - u
    brute = 1 + (thresholds[None, :] >= x[:, None]).sum(axis=1)
    assert np.array_equal(rule.gaps(u), brute)
    device = table_gaps(torch.as_tensor(rule.table), torch.as_tensor(u))
    assert np.array_equal(device.numpy(), brute)


@pytest.mark.parametrize("p", [0.01, 1e-3, 2e-4])
def test_the_estimated_count_equals_the_search_next_to_every_threshold(p: float) -> None:
    """numpy's fast path (the logarithm's estimate, confirmed by two comparisons) on values a bit
    either side of each threshold, where the estimate is off by one and must be corrected."""
    rule = GapRule(p)
    assert rule.table is not None and rule.table.size > SEARCH_BELOW  # the estimate path, not the search
    table = rule.table[rule.table > 0]
    x = np.concatenate([table, np.nextafter(table, 2.0), np.nextafter(table, 0.0), [1.0, SMALLEST]])
    searched = rule.table.size - np.searchsorted(rule.table, x, side="left")
    assert np.array_equal(rule._table_count(x), searched)
    with np.errstate(divide="ignore"):
        estimate = np.floor(np.log(x) / np.log1p(-p))
    assert np.any(estimate > searched) and np.any(estimate < searched)  # both corrections are taken


def test_below_the_table_the_search_finds_the_same_count() -> None:
    rule = GapRule(5e-6)  # 0.005 Hz at dt = 1 ms: beyond TABLE_CAP thresholds
    assert rule.table is None and GapRule(1e-4).table is not None
    assert rule.table is None and rule.active
    u = _uniforms(2000)
    x = 1.0 - u
    gaps = rule.gaps(u)
    # g - 1 is the last j with q**j >= 1 - u (the powers fall strictly with j).
    assert np.all(rule.powers(gaps - 1) >= x) and np.all(rule.powers(gaps) < x)


@pytest.mark.parametrize("p", [0.3, 0.01, 1e-3, 1e-6])
def test_the_thresholds_are_the_powers_of_the_exact_one_minus_p(p: float) -> None:
    """Not of 1 - p rounded to float64: that would shift the rate by up to 2**-54 / p (5e-8 at p = 1e-9)."""
    j = np.array([1, 2, 7, 100, 1000, 12345])
    exact = [float((1 - Fraction(p)) ** int(k)) for k in j]
    assert np.array_equal(GapRule(p).powers(j), exact)
    rounded = [float(Fraction(1.0 - p) ** int(k)) for k in j]
    assert not np.array_equal(exact, rounded) or p == 0.3


@pytest.mark.parametrize("p", [0.3, 0.01, 1e-3])
def test_the_exact_rule_draws_the_gaps_of_the_logarithm(p: float) -> None:
    """Same geometric law: on 2 * 10**5 draws not one gap differs from floor(log1p(-u) / log1p(-p)) + 1."""
    u = _uniforms(200_000)
    old = (np.floor(np.log1p(-u) / np.log1p(-p)) + 1).astype(np.int64)
    assert np.array_equal(GapRule(p).gaps(u), old)


def test_zero_and_vanishing_probabilities_never_spike() -> None:
    for p in (0.0, 2.0**-56):
        trains = PoissonTrains(1, np.array(SEEDS), 4, p, 0, np.inf)
        assert not trains.active and trains.advance(10**6)[0].size == 0


def _numpy_chunks(source: SpikeSourcePoisson, dt: float, lengths: list[int]) -> list[np.ndarray]:
    first = int(round(source.start / dt))
    end = np.inf if np.isinf(source.duration) else int(round((source.start + source.duration) / dt))
    trains = PoissonTrains(source.seed, np.asarray(SEEDS), source.size, source.probability(dt), first, end)
    chunks, tick = [], 0
    for n in lengths:
        want = np.zeros((n, len(SEEDS), source.size), dtype=bool)
        trial, neuron, step = trains.advance(tick + n)
        keep = step >= tick
        want[step[keep] - tick, trial[keep], neuron[keep]] = True
        chunks.append(want)
        tick += n
    return chunks


def _device_chunks(schedule: PoissonSchedule, size: int, lengths: list[int]) -> list[np.ndarray]:
    chunks, tick = [], 0
    for n in lengths:
        out = torch.zeros(n, len(SEEDS), size, dtype=torch.bool)
        schedule.fill(out, tick)
        chunks.append(out.numpy())
        tick += n
    return chunks


CASES = {
    "10 Hz, dt 1 ms": (SpikeSourcePoisson(60, 10.0, seed=3), 1.0),
    "300 Hz, dt 0.1 ms, start and duration": (SpikeSourcePoisson(60, 300.0, seed=4, start=5.0, duration=40.0), 0.1),
    "p near 1": (SpikeSourcePoisson(20, 999.9, seed=5), 1.0),
    "p = 1": (SpikeSourcePoisson(20, 1000.0, seed=5), 1.0),
    "p near 0, in the table": (SpikeSourcePoisson(300, 0.05, seed=6), 1.0),
    "p below the table: host draws": (SpikeSourcePoisson(400, 0.005, seed=7), 1.0),
}


@pytest.mark.parametrize("few_passes", [False, True], ids=["bound", "too-few-passes"])
@pytest.mark.parametrize("case", list(CASES))
def test_device_trains_equal_the_numpy_trains(case: str, few_passes: bool, monkeypatch: pytest.MonkeyPatch) -> None:
    source, dt = CASES[case]
    if few_passes:
        # Accepting a shortfall in every chunk: the extra passes after the read must give the same trains.
        monkeypatch.setattr(PoissonSchedule, "SHORTFALL", 1e9)
    lengths = [7, 256, 100, 1, 256, 3] if source.rate > 1 else [20_000, 256, 31_000]
    schedule = PoissonSchedule(source, SEEDS, dt, CPU, on_device=True)
    assert (schedule.host is not None) == (case == "p below the table: host draws")
    got = _device_chunks(schedule, source.size, lengths)
    want = _numpy_chunks(source, dt, lengths)
    assert sum(int(w.sum()) for w in want) >= 20  # the case draws spikes
    for g, w in zip(got, want):
        assert np.array_equal(g, w)


def test_a_chunk_reads_the_device_once(monkeypatch: pytest.MonkeyPatch) -> None:
    reads = []
    original = torch.Tensor.__bool__

    def counted(self: torch.Tensor) -> bool:
        reads.append(1)
        return original(self)

    schedule = PoissonSchedule(SpikeSourcePoisson(500, 50.0, seed=2), SEEDS, 1.0, CPU, on_device=True)
    monkeypatch.setattr(torch.Tensor, "__bool__", counted)
    for name in ("item", "tolist", "numpy", "cpu", "__int__", "__index__"):
        monkeypatch.setattr(torch.Tensor, name, lambda *a, **k: pytest.fail("the fill read the device"))
    schedule.fill(torch.zeros(256, 3, 500, dtype=torch.bool), 0)
    assert len(reads) == 1
    schedule.fill(torch.zeros(1, 3, 500, dtype=torch.bool), 256)  # one step: one pass covers it, no read
    assert len(reads) == 1


def _draw_on_device(module: object, monkeypatch: pytest.MonkeyPatch) -> None:
    """Make ``module`` build device schedules even on the CPU (its default draws there in numpy)."""
    monkeypatch.setattr(module, "PoissonSchedule", functools.partial(PoissonSchedule, on_device=True))


@pytest.mark.parametrize("on_device", [False, True], ids=["host", "device"])
def test_the_module_draws_the_same_trains(on_device: bool, monkeypatch: pytest.MonkeyPatch) -> None:
    if on_device:
        _draw_on_device(torch_drive, monkeypatch)
    source = SpikeSourcePoisson(30, 80.0, seed=9, start=2.0)
    net = Network(populations=(Population("s", source), Population("a", LIFCurrExp(), size=2)))
    spikes = torch_drive.source_spikes(net, Layout.of(net), {}, 400, 3, 0.5, 100, torch.float64, CPU)
    for b in range(3):
        neuron, tick = poisson_ticks(source.seed, 100 + b, source.size, source.probability(0.5), 0, 400, origin=4)
        want = np.zeros((400, source.size))
        want[tick, neuron] = 1.0
        assert np.array_equal(spikes[:, b].numpy(), want) and want.sum() > 100


def _network() -> Network:
    rule = STDP(SpikePairRule(A_plus=0.05, A_minus=0.06), AdditiveWeightDependence(0.0, 1.5))
    arr = SpikeSourceArray(size=2, neuron=np.array([0, 1, 0]), times_ms=np.array([5.0, 10.0, 20.0]))
    return Network(
        populations=(
            Population("noise", SpikeSourcePoisson(40, rate=150.0, seed=3)),
            Population("slow", SpikeSourcePoisson(10, rate=20.0, seed=9, start=3.0, duration=50.0)),
            Population("arr", arr),
            Population("lif", LIFCurrExp(tau_m=10.0, tau_refrac=1.0, v_thresh=-58.0), size=30),
        ),
        projections=(
            Projection("a", "noise", "lif", FixedProbability(0.4, seed=1), weight=0.7, delay=1.0),
            Projection("b", "slow", "lif", FixedProbability(0.4, seed=2), weight=0.7, delay=1.5),
            Projection("c", "arr", "lif", FixedProbability(0.5, seed=4), weight=2.0, delay=1.0),
            Projection("learn", "noise", "lif", FixedProbability(0.3, seed=7), weight=0.5, delay=1.0, plasticity=rule),
        ),
        probes=(
            *(Probe(name) for name in ("lif", "noise", "slow")),
            Probe("lif", "v", every_ms=1.5),
            Probe("lif", "i_exc"),
            Probe("learn", "weight", every_ms=7.0),
            Probe("a", "weight"),
        ),
        scheme="exact",
    )


def _runs(chunk_steps: int, monkeypatch: pytest.MonkeyPatch) -> list:  # type: ignore[type-arg]
    monkeypatch.setattr(torch_simulation, "CHUNK_STEPS", chunk_steps)
    sim = build(_network(), "torch", dt=0.5, batch_size=3, dtype="float64", trial_seeds=SEEDS)
    return [sim.run(duration) for duration in (40.0, 30.5)]


@pytest.mark.parametrize("on_device", [False, True], ids=["host", "device"])
def test_the_recording_does_not_depend_on_the_chunk_length(on_device: bool, monkeypatch: pytest.MonkeyPatch) -> None:
    """Chunks of 256, 13 and 1 steps: every chunk's copy lands in its place, nothing twice."""
    if on_device:
        _draw_on_device(torch_simulation, monkeypatch)
    whole, *parts = [_runs(steps, monkeypatch) for steps in (256, 13, 1)]
    for runs in parts:
        for a, b in zip(whole, runs):
            assert (a.start_tick, a.stop_tick) == (b.start_tick, b.stop_tick)
            for name in a.spikes:
                assert np.array_equal(a.spikes[name].tick, b.spikes[name].tick)
                assert np.array_equal(a.spikes[name].neuron, b.spikes[name].neuron)
                assert np.array_equal(a.spikes[name].trial, b.spikes[name].trial)
            for key in a.traces:
                assert np.array_equal(a.traces[key], b.traces[key])
            for name in a.weights:
                assert np.array_equal(a.weights[name][0], b.weights[name][0])
                assert np.array_equal(a.weights[name][1], b.weights[name][1])
    first, second = whole
    assert first.traces[("lif", "v")].shape == (3, 27, 30) and first.traces[("lif", "i_exc")].shape == (3, 80, 30)
    assert list(first.weights["learn"][0]) == [14, 28, 42, 56, 70]
    assert not np.array_equal(first.weights["learn"][1][0], first.weights["learn"][1][-1])  # STDP changed them
    # The network's Poisson sources are numpy's trains, across both runs.
    for name in ("noise", "slow"):
        cell = _network().population(name).cell
        assert isinstance(cell, SpikeSourcePoisson)
        first_step = int(round(cell.start / 0.5))
        for b, seed in enumerate(SEEDS):
            last = min(141, int(round((cell.start + cell.duration) / 0.5)) if np.isfinite(cell.duration) else 141)
            neuron, tick = poisson_ticks(cell.seed, seed, cell.size, cell.probability(0.5), 0, last, origin=first_step)
            got = np.concatenate([run.spikes[name].of_trial(b).tick for run in whole])
            got_neuron = np.concatenate([run.spikes[name].of_trial(b).neuron for run in whole])
            order = np.lexsort((got_neuron, got))
            assert np.array_equal(got[order], tick) and np.array_equal(got_neuron[order], neuron) and tick.size >= 3


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")
def test_cuda_trains_equal_the_numpy_trains() -> None:
    for case in ("10 Hz, dt 1 ms", "300 Hz, dt 0.1 ms, start and duration", "p near 1"):
        source, dt = CASES[case]
        schedule = PoissonSchedule(source, SEEDS, dt, torch.device("cuda"))
        tick = 0
        for want in _numpy_chunks(source, dt, [256, 100, 256]):
            out = torch.zeros(want.shape, dtype=torch.bool, device="cuda")
            schedule.fill(out, tick)
            assert np.array_equal(out.cpu().numpy(), want)
            tick += want.shape[0]
