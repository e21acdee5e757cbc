"""Gold replays: the recorded SpiNNaker runs of the CA3 memory, spike for spike (spec ca3.md 3.1, 3.3, 3.5)."""

from __future__ import annotations

import numpy as np
import pytest

from neuromem.models.ca3.gold import CAM_POPULATIONS, SIBLING_RUNS, compare, load_run
from neuromem.models.ca3.params import load_params
from neuromem.models.ca3.protocol import decode, ideal_answers
from neuromem.models.ca3.replay import replay_cam, replay_sibling
from neuromem.record import SpikeTrains

pytestmark = pytest.mark.gold

RECORDED_COUNTS = {"cam_exp1": 262, "cam_exp2": 1567, "cam_exp3": 402}


@pytest.fixture
def run_of():
    return load_run


@pytest.mark.parametrize("name", sorted(RECORDED_COUNTS))
def test_torch_replays_every_recorded_cam_spike_at_its_tick(run_of, name):
    run = run_of(name)
    spikes, _ = replay_cam(run, dtype="float32")
    result = compare(run, spikes)
    assert result.recorded == RECORDED_COUNTS[name]
    assert result.extra == {} and result.missing == {}
    assert result.matched == result.simulated == RECORDED_COUNTS[name]


def test_replay_matches_recorded_spike_count_of_each_population(run_of):
    run = run_of("cam_exp3")
    spikes, _ = replay_cam(run, dtype="float64", propagation="event")
    counts = {name: len(spikes[name]) for name in CAM_POPULATIONS}
    assert counts == {
        "CueCue": 32, "ContCue": 38, "ContCond": 38, "ContCondInt": 36, "CueCont": 48,
        "ContCont": 38, "MergeCue": 48, "MergeCont": 38, "OUTcue": 48, "OUTcont": 38,
    }  # fmt: skip


def test_paper_amplitude_parameter_set_also_replays_the_functional_and_state_map_runs(run_of):
    params = load_params("amplitude36")
    assert (params.rule.tau_plus, params.rule.amplitude_plus) == (1.0, 36.0)
    for name in ("cam_exp1", "cam_exp3"):
        run = run_of(name)
        assert compare(run, replay_cam(run, params)[0]).exact


def test_sibling_ca3_core_replays_all_94_recorded_ca3cont_spikes(run_of):
    total = 0
    for name in SIBLING_RUNS:
        run = run_of(name)
        result = compare(run, replay_sibling(run))
        assert result.extra == {} and result.missing == {}, name
        total += result.matched
    assert total == 94


@pytest.mark.parametrize(("name", "stored_min", "other_max"), [("cam_exp1", 5.87, 0.185), ("cam_exp3", 5.32, 1.555)])
def test_weights_after_a_recorded_run_hold_the_stored_associations_with_the_spec_margins(
    run_of, name, stored_min, other_max
):
    # Spec 3.5 A9 (rule R*, tau 1.5 ms, 12 nA): after exp1 stored >= 5.87 nA and others <= 0.18 nA;
    # after exp3 (7/6 ms spacing, STDP tails) stored >= 5.32 and others <= 1.55 (spec rounds to 2 decimals).
    run = run_of(name)
    _, recording = replay_cam(run, weight_every_ms=float(run.sim_time))
    _, memory = ideal_answers(run.operations)
    stored = np.zeros((run.n, run.m), dtype=bool)
    for address, bits in memory.items():
        stored[address, list(bits)] = True
    cue_to_content = recording.weights["CueCue-ContCue"][1][-1, 0].reshape(run.n, run.m)
    content_to_cue = recording.weights["ContCont-CueCont"][1][-1, 0].reshape(run.m, run.n).T
    assert min(cue_to_content[stored].min(), content_to_cue[stored].min()) >= stored_min
    assert max(cue_to_content[~stored].max(), content_to_cue[~stored].max()) <= other_max


@pytest.mark.parametrize("name", sorted(RECORDED_COUNTS))
def test_decoded_recorded_output_equals_ideal_answers(run_of, name):
    # Checks the decoder against the hardware itself: the recorded OUT spikes give the ideal answers.
    run = run_of(name)
    out = [(i, t) for i, t in run.spikes["OUTcue"]] + [(run.n + j, t) for j, t in run.spikes["OUTcont"]]
    trains = SpikeTrains.from_arrays(np.zeros(len(out)), [i for i, _ in out], [t for _, t in out])
    expected, _ = ideal_answers(run.operations)
    assert decode(run.operations, trains, run.n) == expected


def test_brian2_gives_the_recorded_answers_at_the_stated_ticks_and_every_spike(run_of):
    pytest.importorskip("brian2")
    from neuromem.backends import BACKENDS, backend_module
    from neuromem.errors import BackendError

    try:
        module = backend_module("brian2")
    except BackendError as error:
        pytest.skip(f"Brian2 backend not available: {error}")
    needed = {"scheme:spinnaker", "plasticity:CA3PairRule"}
    if not needed <= set(module.capabilities()):
        pytest.skip(f"Brian2 backend lacks {sorted(needed - set(module.capabilities()))}")
    assert "brian2" in BACKENDS
    run = run_of("cam_exp1")
    spikes, recording = replay_cam(run, backend="brian2")
    expected, _ = ideal_answers(run.operations)
    answers = decode(run.operations, recording.spikes_of("OUT"), run.n)
    assert [a.addresses for a in answers] == [e.addresses for e in expected]
    assert [a.content for a in answers] == [e.content for e in expected]
    assert answers[6].forgotten == (5, 6)  # old-only bits of the overwrite at t0 = 60, on OUT at 66
    assert compare(run, spikes).exact
