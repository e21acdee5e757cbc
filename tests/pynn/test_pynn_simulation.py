"""neuromem.pynn as a simulator: runs continue one simulation, reset repeats it, changes between runs
take effect (with the state carried over exactly), batches are independent trials, STDP matches its rule."""

from __future__ import annotations

import numpy as np
import pytest

pytest.importorskip("pyNN")

import neuromem.pynn as sim  # noqa: E402


def _net(split: bool = False, plastic: bool = False, **options: object) -> tuple:
    """20 cells driven by spike arrays; ``split`` puts cells 0-4 in a group of their own from the start."""
    rng = np.random.default_rng(11)
    sim.setup(timestep=0.1, min_delay=0.1, **options)
    stim = sim.Population(
        10, sim.SpikeSourceArray(spike_times=[np.unique(rng.integers(2, 990, 25)) * 0.1 for _ in range(10)])
    )
    cells = sim.Population(20, sim.IF_curr_exp(tau_m=12.0, cm=0.3, tau_refrac=1.0, v_thresh=-55.0))
    cells.initialize(v=rng.uniform(-65.0, -56.0, 20))
    if split:
        # An offset of 1e-300 nA changes no float64 number of the run but gives cells 0-4 a group of their own.
        cells[0:5].set(i_offset=1e-300)
    if plastic:
        synapse = sim.STDPMechanism(
            timing_dependence=sim.SpikePairRule(tau_plus=15.0, tau_minus=25.0, A_plus=0.05, A_minus=0.06),
            weight_dependence=sim.AdditiveWeightDependence(w_min=0.0, w_max=1.2),
            weight=0.6,
            delay=1.0,
            dendritic_delay_fraction=0.0,
        )
    else:
        synapse = sim.StaticSynapse(weight=0.6, delay=1.0)
    drive = sim.Projection(stim, cells, sim.FixedProbabilityConnector(0.4, rng=sim.NumpyRNG(seed=5)), synapse)
    sim.Projection(cells, cells, sim.FixedProbabilityConnector(0.15, rng=sim.NumpyRNG(seed=6)),
                   sim.StaticSynapse(weight=-0.4, delay=0.5), receptor_type="inhibitory")  # fmt: skip
    cells.record(["spikes", "v"])
    return cells, drive


def _spikes(cells: object, segment: int = -1) -> list[np.ndarray]:
    return [np.asarray(s.magnitude) for s in cells.get_data("spikes").segments[segment].spiketrains]


def _v(cells: object, segment: int = -1) -> np.ndarray:
    return cells.get_data("v").segments[segment].analogsignals[0].magnitude


def _same_trains(a: list[np.ndarray], b: list[np.ndarray]) -> None:
    assert [t.size for t in a] == [t.size for t in b]
    for x, y in zip(a, b):
        np.testing.assert_allclose(x, y, atol=1e-9)


def test_two_runs_equal_one_run_of_their_sum() -> None:
    cells, _ = _net()
    sim.run(100.0)
    whole_spikes, whole_v = _spikes(cells), _v(cells)
    assert sum(t.size for t in whole_spikes) > 20, "the network must spike for this test to mean something"
    cells, _ = _net()
    sim.run(37.0)
    sim.run(63.0)
    _same_trains(_spikes(cells), whole_spikes)
    np.testing.assert_allclose(_v(cells), whole_v, atol=1e-12)
    assert _v(cells).shape == (1001, 20)


def test_reset_repeats_the_run_and_starts_a_segment() -> None:
    cells, _ = _net()
    sim.run(60.0)
    sim.reset()
    sim.run(60.0)
    data = cells.get_data()
    assert len(data.segments) == 2
    _same_trains(_spikes(cells, 0), _spikes(cells, 1))
    np.testing.assert_array_equal(_v(cells, 0), _v(cells, 1))
    np.testing.assert_allclose(_v(cells, 1)[0], cells.initial_values["v"].evaluate(), atol=0)


def test_parameter_change_of_part_of_a_population_carries_the_state_exactly() -> None:
    # The regrouped network (state moved neuron by neuron) must equal one grouped so from the start.
    results = []
    for split in (False, True):
        cells, _ = _net(split=split)
        sim.run(50.0)
        cells[0:5].set(tau_m=8.0, i_offset=0.2)
        sim.run(50.0)
        results.append((_spikes(cells), _v(cells)))
    _same_trains(results[0][0], results[1][0])
    np.testing.assert_allclose(results[0][1], results[1][1], atol=1e-12)
    assert not np.allclose(results[0][1][-1, :5], _reference_without_change()[-1, :5])


def _mixed(split: bool) -> tuple:
    """IF_cond_exp and Izhikevich cells (two engine state blocks) driven by spike arrays and each other."""
    rng = np.random.default_rng(12)
    sim.setup(timestep=0.1, min_delay=0.1)
    stim = sim.Population(
        10, sim.SpikeSourceArray(spike_times=[np.unique(rng.integers(2, 990, 25)) * 0.1 for _ in range(10)])
    )
    cond = sim.Population(10, sim.IF_cond_exp(tau_m=12.0, tau_refrac=1.0, v_thresh=-55.0))
    izh = sim.Population(10, sim.Izhikevich(d=8.0))
    cond.initialize(v=rng.uniform(-65.0, -56.0, 10))
    if split:
        cond[0:5].set(i_offset=1e-300)
        izh[0:5].set(i_offset=1e-300)
    connect = lambda p, seed: sim.FixedProbabilityConnector(p, rng=sim.NumpyRNG(seed=seed))  # noqa: E731
    sim.Projection(stim, cond, connect(0.5, 1), sim.StaticSynapse(weight=0.03, delay=1.0))
    sim.Projection(stim, izh, connect(0.5, 2), sim.StaticSynapse(weight=6.0, delay=1.0))
    sim.Projection(izh, cond, connect(0.3, 3), sim.StaticSynapse(weight=0.01, delay=0.5), receptor_type="inhibitory")
    sim.Projection(cond, izh, connect(0.3, 4), sim.StaticSynapse(weight=3.0, delay=2.0))
    for cells in (cond, izh):
        cells.record(["spikes", "v"])
    return cond, izh


def test_state_of_two_cell_types_is_carried_exactly_through_a_regrouping() -> None:
    results = []
    for split in (False, True):
        cond, izh = _mixed(split)
        sim.run(50.0)
        cond[0:5].set(tau_m=8.0)
        izh[0:5].set(d=2.0)
        sim.run(50.0)
        results.append([(_spikes(c), _v(c)) for c in (cond, izh)])
    for (spikes_a, v_a), (spikes_b, v_b) in zip(*results):
        assert sum(t.size for t in spikes_a) > 10
        _same_trains(spikes_a, spikes_b)
        np.testing.assert_allclose(v_a, v_b, atol=1e-12)


def _reference_without_change() -> np.ndarray:
    cells, _ = _net()
    sim.run(100.0)
    return _v(cells)


def test_plastic_weights_and_traces_survive_a_regrouping() -> None:
    results = []
    for split in (False, True):
        cells, drive = _net(split=split, plastic=True)
        sim.run(50.0)
        cells[0:5].set(v_thresh=-54.0)
        sim.run(50.0)
        results.append((_spikes(cells), np.asarray(drive.get("weight", format="list", with_address=False))))
    _same_trains(results[0][0], results[1][0])
    np.testing.assert_allclose(results[0][1], results[1][1], atol=1e-12)
    assert np.ptp(results[0][1]) > 0.01, "the weights must have learned for this test to mean something"


def test_new_population_after_a_run_joins_the_running_simulation() -> None:
    cells, _ = _net()
    sim.run(40.0)
    before = _v(cells)[-1].copy()
    extra = sim.Population(3, sim.IF_curr_exp(i_offset=2.0))
    extra.record("v")
    sim.Projection(extra, cells, sim.AllToAllConnector(), sim.StaticSynapse(weight=0.1, delay=0.2))
    sim.run(10.0)
    v_extra = _v(extra)
    # Its recording starts when it was created (t = 40 ms), from its initial value.
    assert v_extra.shape == (101, 3) and not np.isnan(v_extra).any()
    np.testing.assert_array_equal(v_extra[0], -65.0)
    assert v_extra[:, 0].max() > -51.0  # 2 nA charges it to threshold (-50 mV) in 9.4 ms
    np.testing.assert_allclose(_v(cells)[400], before, atol=0)


def test_initialize_during_a_simulation_sets_the_state_at_the_next_run() -> None:
    sim.setup(timestep=0.1)
    cells = sim.Population(2, sim.IF_curr_exp())
    cells.record("v")
    sim.run(5.0)
    cells[1:2].initialize(v=-60.0)
    sim.run(0.1)
    v = _v(cells)
    assert v[-2, 1] == -65.0 and v[-1, 1] > -60.05 and v[-1, 0] == -65.0


def test_additive_stdp_changes_a_weight_by_the_pair_rule() -> None:
    dt, delay, tau_plus, a_plus, w_max, w0 = 0.1, 1.0, 16.0, 0.02, 2.0, 0.5
    sim.setup(timestep=dt)
    pre = sim.Population(1, sim.SpikeSourceArray(spike_times=[5.0]))
    kick = sim.Population(1, sim.SpikeSourceArray(spike_times=[12.0]))
    post = sim.Population(1, sim.IF_curr_exp(tau_syn_E=0.5, tau_refrac=2.0))
    post.record("spikes")
    rule = sim.STDPMechanism(
        timing_dependence=sim.SpikePairRule(tau_plus=tau_plus, tau_minus=20.0, A_plus=a_plus, A_minus=0.0),
        weight_dependence=sim.AdditiveWeightDependence(w_min=0.0, w_max=w_max),
        weight=w0,
        delay=delay,
        dendritic_delay_fraction=0.0,
    )
    learn = sim.Projection(pre, post, sim.AllToAllConnector(), rule)
    sim.Projection(kick, post, sim.AllToAllConnector(), sim.StaticSynapse(weight=60.0, delay=0.1))
    sim.run(30.0)
    (t_post,) = _spikes(post)[0]
    # Ticks: a spike stamped T was sent in step T/dt - 1; the pre spike pairs at its arrival.
    arrival, post_tick = round(5.0 / dt) - 1 + round(delay / dt), round(t_post / dt) - 1
    expected = w0 + a_plus * w_max * np.exp(-(post_tick - arrival) * dt / tau_plus)
    assert learn.get("weight", format="list", with_address=False)[0] == pytest.approx(expected, rel=1e-12)
    sim.reset()
    assert learn.get("weight", format="list", with_address=False)[0] == w0


def test_batch_trials_are_independent_and_trial_zero_is_the_single_run() -> None:
    def poisson_net(batch: int) -> object:
        sim.setup(timestep=0.1, batch=batch, rng_seed=3)
        drive = sim.Population(30, sim.SpikeSourcePoisson(rate=80.0))
        cells = sim.Population(10, sim.IF_curr_exp(tau_refrac=1.0))
        sim.Projection(drive, cells, sim.FixedProbabilityConnector(0.5, rng=sim.NumpyRNG(seed=1)),
                       sim.StaticSynapse(weight=1.5, delay=0.5))  # fmt: skip
        cells.record("spikes")
        sim.run(100.0)
        return cells

    single = _spikes(poisson_net(1))
    cells = poisson_net(3)
    segments = cells.get_data().segments
    assert [s.annotations["trial"] for s in segments] == [0, 1, 2]
    trials = [[np.asarray(t.magnitude) for t in s.spiketrains] for s in segments]
    _same_trains(trials[0], single)
    counts = [sum(t.size for t in trial) for trial in trials]
    assert min(counts) > 10
    for a, b in ((0, 1), (1, 2), (0, 2)):
        assert not all(np.array_equal(x, y) for x, y in zip(trials[a], trials[b])), (a, b)


def test_cuda_gives_the_cpu_spikes() -> None:
    torch = pytest.importorskip("torch")
    if not torch.cuda.is_available():
        pytest.skip("no CUDA GPU here")
    results = []
    for device in ("cpu", "cuda"):
        cells, drive = _net(plastic=True, device=device)
        sim.run(100.0)
        results.append((_spikes(cells), _v(cells), drive.get("weight", format="array")))
    _same_trains(results[0][0], results[1][0])
    np.testing.assert_allclose(results[0][1], results[1][1], atol=1e-9)
    np.testing.assert_allclose(results[0][2], results[1][2], atol=1e-12)


def test_weights_set_between_runs_replace_the_learned_ones() -> None:
    cells, drive = _net(plastic=True)
    sim.run(50.0)
    learned = np.asarray(drive.get("weight", format="list", with_address=False))
    assert np.ptp(learned) > 0.01
    drive.set(weight=0.3)
    np.testing.assert_array_equal(drive.get("weight", format="list", with_address=False), 0.3)
    sim.run(50.0)
    after = np.asarray(drive.get("weight", format="list", with_address=False))
    cells, drive_on = _net(plastic=True)
    sim.run(100.0)
    continued = np.asarray(drive_on.get("weight", format="list", with_address=False))
    # Ignoring the new weights would continue the very same simulation.
    assert np.abs(after - continued).max() > 0.01 and np.all((after >= 0.0) & (after <= 1.2))
    sim.reset()  # back to the weights last given
    np.testing.assert_array_equal(drive.get("weight", format="list", with_address=False), 0.3)
