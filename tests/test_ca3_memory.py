"""The CA3Memory API: store, recall, overwrite, batching, save/load (spec ca3.md sections 2 and 3.5)."""

from __future__ import annotations

import numpy as np
import pytest

from neuromem.errors import FileFormatError
from neuromem.models.ca3 import CA3Memory, Operation, ideal_answers, place
from neuromem.models.ca3.gold import load_run

FUNCTIONAL = [  # spec 3.1, experiment 1, without times
    Operation.write(0, (0, 1, 8, 9)), Operation.write(4, (1, 5, 6)), Operation.write(3, (4, 5, 6)),
    Operation.recall_cue(0), Operation.recall_content((6,)), Operation.recall_content((0, 4)),
    Operation.write(3, (1, 3, 4, 8)), Operation.recall_cue(3), Operation.recall_content((6,)),
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
    echo = mem.store(0, [0, 1, 8, 9])[0]
    assert (echo.addresses, echo.content, echo.forgotten) == ((0,), (0, 1, 8, 9), ())
    mem.store(4, [1, 5, 6])
    assert mem.recall_by_address(0)[0].content == (0, 1, 8, 9)
    assert mem.recall_by_address(2)[0].content == ()
    assert mem.recall_by_content([1])[0].addresses == (0, 4)
    assert mem.tick == 8 + 8 + 7 + 7 + 7


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
        ops = [Operation.write(int(a), rng.choice(6, 2, replace=False).tolist()) for a in rng.choice(4, 3)]
        ops += [Operation.recall_content((int(rng.integers(6)),)), Operation.recall_cue(int(rng.integers(4)))]
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


def test_stored_memory_survives_save_and_load(tmp_path):
    mem = CA3Memory(5, 10, dtype="float64")
    mem.execute(FUNCTIONAL[:3])
    path = mem.save(tmp_path / "memory")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["memory.json", "memory.npz"]
    loaded = CA3Memory.load(path)
    assert (loaded.n, loaded.m, loaded.tick, loaded.dtype) == (5, 10, mem.tick, "float64")
    np.testing.assert_array_equal(loaded.weights()["cue_to_content"], mem.weights()["cue_to_content"])
    assert loaded.execute(FUNCTIONAL[3:]) == mem.execute(FUNCTIONAL[3:])


def test_loading_a_corrupt_or_foreign_file_raises_file_format_error(tmp_path):
    with pytest.raises(FileFormatError, match="no such file"):
        CA3Memory.load(tmp_path / "absent")
    (tmp_path / "x.json").write_text('{"schema": "something.else"}')
    with pytest.raises(FileFormatError, match="not a saved CA3 memory"):
        CA3Memory.load(tmp_path / "x")
    mem = CA3Memory(2, 2)
    path = mem.save(tmp_path / "ok")
    path.with_suffix(".npz").write_bytes(b"not a zip")
    with pytest.raises(FileFormatError, match="corrupt"):
        CA3Memory.load(path)


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
    assert out == {s for s in recorded if s[1] < mem.tick}
