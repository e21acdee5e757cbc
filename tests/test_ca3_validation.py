"""Bad input to the CA3 memory: a clear ValidationError, and nothing stored or changed."""

from __future__ import annotations

import numpy as np
import pytest

from neuromem.errors import ValidationError
from neuromem.models.ca3 import CA3Memory, Operation


@pytest.fixture
def memory():
    mem = CA3Memory(4, 6)
    mem.store(1, [0, 2])
    return mem


def _snapshot(mem):
    return mem.tick, {k: v.copy() for k, v in mem.weights().items()}


def _unchanged(mem, snapshot):
    tick, weights = snapshot
    assert mem.tick == tick
    for key, value in mem.weights().items():
        np.testing.assert_array_equal(value, weights[key])


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda mem: mem.store(4, [0]), "address 4 is outside 0..3"),
        (lambda mem: mem.store(-1, [0]), "address -1 is outside 0..3"),
        (lambda mem: mem.store(0, [6]), r"content bits \[6\] are outside 0..5"),
        (lambda mem: mem.store(0, [0, -2]), r"content bits \[-2\] are outside"),
        (lambda mem: mem.store(0, []), "content is empty"),
        (lambda mem: mem.recall_by_address(9), "address 9 is outside 0..3"),
        (lambda mem: mem.recall_by_content([]), "fragment is empty"),
        (lambda mem: mem.recall_by_content([7]), r"content bits \[7\] are outside 0..5"),
        (lambda mem: mem.recall_many_by_content([[1], []]), "fragment is empty"),
        (lambda mem: mem.recall_many_by_address([0, 5]), "address 5 is outside"),
        (lambda mem: mem.store(True, [0]), "must be an integer"),
        (lambda mem: mem.store(1.5, [0]), "must be an integer"),
    ],
)
def test_bad_operation_raises_and_leaves_the_memory_untouched(memory, call, message):
    snapshot = _snapshot(memory)
    with pytest.raises(ValidationError, match=message):
        call(memory)
    _unchanged(memory, snapshot)
    assert memory.recall_by_address(1)[0].content == (0, 2)


def test_operations_closer_than_minimum_spacing_are_refused_before_anything_runs(memory):
    snapshot = _snapshot(memory)
    start = memory.tick
    with pytest.raises(ValidationError, match="minimum spacing after a write is 7 ms"):
        memory.execute([Operation.write(0, (1,), t0=start), Operation.recall_cue(0, t0=start + 6)])
    with pytest.raises(ValidationError, match="minimum spacing after a recall is 6 ms"):
        memory.execute([Operation.recall_cue(0, t0=start), Operation.write(0, (3,), t0=start + 5)])
    with pytest.raises(ValidationError, match="before the current tick"):
        memory.execute([Operation.recall_cue(0, t0=start - 1)])
    _unchanged(memory, snapshot)


def test_one_bad_operation_in_a_batch_rejects_the_whole_call(memory):
    batch = CA3Memory(4, 6, batch_size=2)
    with pytest.raises(ValidationError, match="outside 0..3"):
        batch.store([0, 4], [[0], [1]])
    with pytest.raises(ValidationError, match="2 memories"):
        batch.store([0, 1, 2], [0])
    assert batch.tick == 0 and batch.weights()["cue_to_content"].max() == 0.0


def test_bad_memory_sizes_are_refused():
    with pytest.raises(ValidationError, match="n"):
        CA3Memory(0, 4)
    with pytest.raises(ValidationError, match="batch_size"):
        CA3Memory(2, 2, batch_size=0)
