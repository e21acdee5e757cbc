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
        (lambda mem: mem.store(1, None), "content = None must be a list of bit indices"),
        (lambda mem: mem.store("1", [0]), "address = '1' must be an integer"),
        (lambda mem: mem.store(1, "01"), "content = '01' must be a list of bit indices"),
        (lambda mem: mem.store(1, [0.5]), "content bit = 0.5 must be an integer"),
        (lambda mem: mem.recall_by_content(3), "fragment = 3 must be a list of bit indices"),
        (lambda mem: mem.recall_by_content([None]), "content bit = None must be an integer"),
        (lambda mem: mem.recall_by_address(None), "address = None must be an integer"),
        (lambda mem: mem.recall_by_address([1.0]), "address = 1.0 must be an integer"),
        (lambda mem: mem.recall_many_by_address(3), "addresses = 3 must be a list of integers"),
        (lambda mem: mem.recall_many_by_content([[1]], trial="0"), "trial = '0' must be an integer"),
        (lambda mem: mem.recall_many_by_content([[1]], trial=3), "trial = 3 is outside 0..0"),
        (lambda mem: mem.execute(Operation.store(0, [1])), "must be a list of Operations"),
        (lambda mem: mem.execute(["store"]), "'store' is not a list of Operations"),
        (lambda mem: mem.execute([Operation.store(0, [1]), "recall"]), "'recall' is not an Operation"),
        (lambda mem: mem.store(0, [1], spacing_ms="7"), "spacing_after_store_ms = '7' must be a number"),
        (
            lambda mem: mem.store(0, [1], spacing_ms=5.0),
            "5 ms is below the minimum of parameter set .spinnaker. \\(7 ms\\)",
        ),
        (lambda mem: mem.recall_by_address(0, spacing_ms=float("nan")), "must be a number"),
        (lambda mem: mem.wait(-1.0), "duration_ms = -1 ms must be >= 0"),
        (lambda mem: mem.contents(trial=2), "trial = 2 is outside"),
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
    with pytest.raises(ValidationError, match="minimum spacing after a store is 7 ms"):
        memory.execute([Operation.store(0, (1,), t0=start), Operation.recall_by_address(0, t0=start + 6)])
    with pytest.raises(ValidationError, match="minimum spacing after a recall is 6 ms"):
        memory.execute([Operation.recall_by_address(0, t0=start), Operation.store(0, (3,), t0=start + 5)])
    with pytest.raises(ValidationError, match="before the current time"):
        memory.execute([Operation.recall_by_address(0, t0=start - 1)])
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
    with pytest.raises(ValidationError, match="n = 100000000.0 must be an integer"):
        CA3Memory(1e8, 4)
    with pytest.raises(ValidationError, match="params = 3 must be a CA3Params"):
        CA3Memory(2, 2, params=3)


def test_a_memory_too_large_for_the_machine_is_refused_before_allocating_with_an_estimate(monkeypatch):
    # 2 n (n - 1) inhibitory synapses dominate: n = 10^8 needs about 2.4 x 10^18 bytes.
    with pytest.raises(ValidationError, match=r"n = 100000000 addresses .* about 2.4e\+03 PB of memory"):
        CA3Memory(10**8, 10)
    monkeypatch.setenv("NEUROMEM_MEMORY_LIMIT", "1M")
    with pytest.raises(ValidationError, match=r"about 6.87 MB of memory, more than the 1.05 MB available"):
        CA3Memory(160, 10)
    CA3Memory(16, 10)
