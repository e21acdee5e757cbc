"""Encoding of operations into input spikes and decoding of OUT (spec ca3.md section 2)."""

from __future__ import annotations

import numpy as np
import pytest

from neuromem.errors import ValidationError
from neuromem.models.ca3.protocol import (
    Answer,
    Operation,
    check_schedule,
    decode,
    encode,
    ideal_answers,
    place,
)
from neuromem.record import SpikeTrains


def test_write_holds_address_and_content_lines_for_three_ticks():
    src = encode([Operation.write(1, (0, 2), t0=10)], n=3, m=4)
    lists = src.spike_lists()
    assert lists[1] == [10.0, 11.0, 12.0]
    assert lists[3] == lists[5] == [10.0, 11.0, 12.0]
    assert lists[0] == lists[2] == lists[4] == lists[6] == []


def test_recalls_send_one_spike_per_line():
    ops = [Operation.recall_cue(2, t0=0), Operation.recall_content((1, 3), t0=6)]
    lists = encode(ops, n=3, m=4).spike_lists()
    assert lists[2] == [0.0] and lists[4] == [6.0] and lists[6] == [6.0]
    assert sum(len(x) for x in lists) == 3


def test_place_uses_seven_ms_after_writes_and_six_after_recalls():
    ops = place(
        [Operation.write(0, (0,)), Operation.recall_cue(0), Operation.recall_content((0,)), Operation.write(1, (1,))]
    )
    assert [op.t0 for op in ops] == [0, 7, 13, 19]
    assert [op.t0 for op in place([Operation.recall_cue(0)] * 2, start=5)] == [5, 11]


def test_schedule_closer_than_minimum_spacing_is_refused_naming_the_gap():
    ops = [Operation.write(0, (0,), t0=0), Operation.recall_cue(0, t0=6)]
    with pytest.raises(ValidationError, match="only 6 ms after the write.*minimum spacing after a write is 7 ms"):
        check_schedule(ops, 2, 2)
    ops = [Operation.recall_cue(0, t0=0), Operation.recall_cue(1, t0=5)]
    with pytest.raises(ValidationError, match="after a recall is 6 ms"):
        check_schedule(ops, 2, 2)
    check_schedule([Operation.recall_cue(0, t0=0), Operation.write(1, (1,), t0=6)], 2, 2)


def test_decode_reads_out_at_the_fixed_latencies():
    n = 3
    ops = [Operation.write(1, (0, 2), t0=0), Operation.recall_cue(1, t0=10), Operation.recall_content((2,), t0=20)]
    spikes = [(1, 5), (n + 0, 5), (n + 2, 5), (n + 1, 6), (1, 7), (n + 0, 7), (n + 2, 7)]  # write
    spikes += [(1, 15), (n + 0, 16), (n + 2, 16)]  # recall by address
    spikes += [(n + 2, 25), (0, 26), (1, 26)]  # recall by content
    spikes += [(2, 14), (n + 1, 17)]  # off-latency spikes are ignored
    trains = SpikeTrains.from_arrays(np.zeros(len(spikes)), [s[0] for s in spikes], [s[1] for s in spikes])
    write, cue, content = decode(ops, trains, n)
    assert (write.addresses, write.content, write.forgotten, write.repeat) == ((1,), (0, 2), (1,), ((1,), (0, 2)))
    assert (cue.addresses, cue.content) == ((1,), (0, 2))
    assert (content.addresses, content.content) == ((0, 1), (2,))


def test_ideal_answers_overwrite_forgets_and_content_recall_is_or_match():
    ops = place([
        Operation.write(0, (0, 1)), Operation.write(1, (1, 2)), Operation.recall_content((1,)),
        Operation.write(0, (3,)), Operation.recall_content((0, 2)), Operation.recall_cue(2),
    ])  # fmt: skip
    answers, memory = ideal_answers(ops)
    assert answers[2].addresses == (0, 1)
    assert answers[3].forgotten == (0, 1)
    assert answers[4].addresses == (1,)
    assert answers[5] == Answer(ops[5], (2,), ())
    assert memory == {0: (3,), 1: (1, 2)}


@pytest.mark.parametrize(
    ("op", "message"),
    [
        (Operation.write(5, (0,)), "address 5 is outside 0..4"),
        (Operation.write(-1, (0,)), "outside 0..4"),
        (Operation.recall_cue(7), "outside 0..4"),
        (Operation.write(0, (0, 3)), r"content bits \[3\] are outside 0..2"),
        (Operation.write(0, ()), "content is empty"),
        (Operation.recall_content(()), "fragment is empty"),
        (Operation.recall_content((-1,)), "outside 0..2"),
        (Operation("recall_cue", None, 0, (1,)), "takes no content"),
        (Operation("recall_content", None, 1, (1,)), "takes no address"),
        (Operation("write", None, None, (1,)), "must be an integer"),
    ],
)
def test_bad_operations_raise_validation_errors_naming_the_problem(op, message):
    with pytest.raises(ValidationError, match=message):
        encode(place([op]), n=5, m=3)


def test_operation_kind_and_bits_are_validated_on_construction():
    with pytest.raises(ValidationError, match="allowed: write, recall_cue, recall_content"):
        Operation("erase", 0, 0, ())
    with pytest.raises(ValidationError, match="integer bit indices"):
        Operation.write(0, (0.5,))
    with pytest.raises(ValidationError, match="repeat a bit"):
        check_schedule(place([Operation.write(0, (1, 1))]), 2, 2)
