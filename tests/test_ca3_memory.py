"""The CA3Memory API: store, recall, overwrite, batching, one timeline, structure (spec ca3.md sections 2, 3.5)."""

from __future__ import annotations

import numpy as np

from neuromem.models.ca3 import CA3Memory, Echo, Operation, ideal_answers, place
from neuromem.models.ca3.gold import load_run

FUNCTIONAL = [  # spec 3.1, experiment 1, without times
    Operation.store(0, (0, 1, 8, 9)), Operation.store(4, (1, 5, 6)), Operation.store(3, (4, 5, 6)),
    Operation.recall_by_address(0), Operation.recall_by_content((6,)), Operation.recall_by_content((0, 4)),
    Operation.store(3, (1, 3, 4, 8)), Operation.recall_by_address(3), Operation.recall_by_content((6,)),
]  # fmt: skip


def test_functional_sequence_gives_ideal_answers_at_minimum_spacing():
    mem = CA3Memory(5, 10)
    answers = mem.execute(FUNCTIONAL)[0]
    expected, _ = ideal_answers(place(FUNCTIONAL))
    assert answers == expected
    assert answers[4].addresses == (3, 4) and answers[8].addresses == (4,)
    assert answers[6].forgotten == (5, 6)


def test_store_and_recall_methods_answer_one_operation_at_a_time():
    mem = CA3Memory(5, 10)
    stored = mem.store(0, [0, 1, 8, 9])[0]
    assert (stored.echo, stored.repeat, stored.forgotten) == (Echo((0,), (0, 1, 8, 9)), Echo((0,), (0, 1, 8, 9)), ())
    mem.store(4, [1, 5, 6])
    assert mem.recall_by_address(0)[0].content == (0, 1, 8, 9)
    assert mem.recall_by_address(2)[0].content == ()
    assert mem.recall_by_content([1])[0].addresses == (0, 4)
    # One timeline: the next operation starts 7 ms after a store and 6 ms after a recall.
    assert mem.tick == 7 + 7 + 6 + 6 + 6


def test_single_calls_land_on_the_same_ticks_as_the_same_program():
    calls = CA3Memory(5, 10, record_all=True)
    got = [
        calls.store(0, [0, 1, 8, 9])[0], calls.store(4, [1, 5, 6])[0], calls.store(3, [4, 5, 6])[0],
        calls.recall_by_address(0)[0], calls.recall_by_content([6])[0], calls.recall_by_content([0, 4])[0],
        calls.store(3, [1, 3, 4, 8])[0], calls.recall_by_address(3)[0], calls.recall_by_content([6])[0],
    ]  # fmt: skip
    program = CA3Memory(5, 10)
    assert got == program.execute(FUNCTIONAL)[0]
    assert [a.operation.t0 for a in got] == [0, 7, 14, 21, 27, 33, 39, 46, 52]
    assert calls.tick == program.tick == 58
    np.testing.assert_array_equal(calls.weights()["cue_to_content"], program.weights()["cue_to_content"])


def test_spacing_is_an_argument_of_every_call_and_defaults_to_the_parameter_set():
    mem = CA3Memory(5, 10)
    assert mem.store(0, [1], spacing_ms=10.0)[0].operation.t0 == 0
    assert mem.recall_by_address(0, spacing_ms=8.5)[0].operation.t0 == 10
    assert mem.recall_by_content([1])[0].operation.t0 == 19  # ceil(18.5): starts stay on the 1 ms grid
    assert mem.tick == 25
    answers = mem.execute(FUNCTIONAL[:2], spacing_after_store_ms=12.0)[0]
    assert [a.operation.t0 for a in answers] == [25, 37]


def test_structure_counts_neurons_synapses_and_plastic_synapses():
    counts = CA3Memory(5, 10).structure()
    assert (counts.neurons, counts.synapses, counts.plastic_synapses) == (56, 265, 100)
    assert (counts.harness_neurons, counts.harness_synapses) == (30, 30)
    assert counts.projections["CueCue-CueCont-inh"] == 5 * 4
    assert CA3Memory(16, 6).structure().synapses == 852


def test_overwrite_forgets_the_old_content_in_both_directions():
    mem = CA3Memory(5, 10)
    mem.store(3, [4, 5, 6])
    assert mem.store(3, [1, 3, 4, 8])[0].forgotten == (5, 6)
    w = mem.weights()
    assert w["cue_to_content"][0, 3, [5, 6]].max() <= 0.5
    assert w["content_to_cue"][0, [5, 6], 3].max() <= 0.5
    assert w["cue_to_content"][0, 3, [1, 3, 4, 8]].min() >= 5.0
    assert mem.recall_by_address(3)[0].content == (1, 3, 4, 8)
    assert mem.recall_by_content([5, 6])[0].addresses == ()
    assert mem.contents() == {3: (1, 3, 4, 8)}


def test_batch_of_independent_memories_equals_separate_single_memories():
    rng = np.random.default_rng(3)
    programs = []
    for _ in range(3):
        ops = [Operation.store(int(a), rng.choice(6, 2, replace=False).tolist()) for a in rng.choice(4, 3)]
        ops += [Operation.recall_by_content((int(rng.integers(6)),)), Operation.recall_by_address(int(rng.integers(4)))]
        programs.append(ops)
    batch = CA3Memory(4, 6, batch_size=3)
    together = batch.execute(programs)
    for trial, ops in enumerate(programs):
        single = CA3Memory(4, 6)
        assert single.execute(ops)[0] == together[trial]
        np.testing.assert_allclose(
            single.weights()["cue_to_content"][0], batch.weights()["cue_to_content"][trial], atol=1e-6
        )


def test_many_queries_against_one_learned_state_match_sequential_recalls_and_change_nothing():
    mem = CA3Memory(5, 10)
    mem.execute(FUNCTIONAL[:3])
    before, tick = mem.weights(), mem.tick
    fragments = [[0], [1], [5], [6], [4, 9]]
    many = mem.recall_many_by_content(fragments)
    assert [a.addresses for a in many] == [(0,), (0, 4), (3, 4), (3, 4), (0, 3)]
    assert [a.content for a in mem.recall_many_by_address(range(5))] == [(0, 1, 8, 9), (), (), (4, 5, 6), (1, 5, 6)]
    assert mem.tick == tick
    np.testing.assert_array_equal(mem.weights()["content_to_cue"], before["content_to_cue"])
    assert [mem.recall_by_content(f)[0].addresses for f in fragments] == [a.addresses for a in many]


def test_batched_store_takes_one_address_and_content_per_memory():
    mem = CA3Memory(4, 5, batch_size=2)
    mem.store([0, 1], [[0, 1], [2]])
    assert [a.content for a in mem.recall_by_address([0, 1])] == [(0, 1), (2,)]
    assert [a.content for a in mem.recall_by_address(1)] == [(), (2,)]
    assert mem.contents(0) == {0: (0, 1)} and mem.contents(1) == {1: (2,)}


def test_dense_and_event_propagation_give_identical_answers_and_weights():
    dense = CA3Memory(5, 10, propagation="dense", dtype="float64")
    event = CA3Memory(5, 10, propagation="event", dtype="float64")
    assert dense.execute(FUNCTIONAL) == event.execute(FUNCTIONAL)
    np.testing.assert_array_equal(dense.weights()["cue_to_content"], event.weights()["cue_to_content"])


def test_recorded_functional_run_through_the_api_reproduces_the_recorded_output():
    run = load_run("cam_exp1")
    mem = CA3Memory(run.n, run.m)
    mem.execute(list(run.operations))
    out = mem.last_recording.spikes_of("OUT").pairs()
    recorded = {(i, t) for i, t in run.spikes["OUTcue"]} | {(run.n + j, t) for j, t in run.spikes["OUTcont"]}
    assert out == {s for s in recorded if s[1] < mem.last_recording.stop_tick}
