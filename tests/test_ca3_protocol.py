"""Encoding of operations into input spikes and decoding of OUT (spec ca3.md section 2)."""

from __future__ import annotations

import numpy as np
import pytest

from neuromem.errors import ValidationError
from neuromem.models.ca3.protocol import (
    Answer,
    Echo,
    Operation,
    check_schedule,
    decode,
    encode,
    ideal_answers,
    place,
)
from neuromem.record import SpikeTrains


def test_store_holds_address_and_content_lines_for_three_ticks():
    src = encode([Operation.store(1, (0, 2), t0=10)], n=3, m=4)
    lists = src.spike_lists()
    assert lists[1] == [10.0, 11.0, 12.0]
    assert lists[3] == lists[5] == [10.0, 11.0, 12.0]
    assert lists[0] == lists[2] == lists[4] == lists[6] == []


def test_recalls_send_one_spike_per_line():
    ops = [Operation.recall_by_address(2, t0=0), Operation.recall_by_content((1, 3), t0=6)]
    lists = encode(ops, n=3, m=4).spike_lists()
    assert lists[2] == [0.0] and lists[4] == [6.0] and lists[6] == [6.0]
    assert sum(len(x) for x in lists) == 3


def test_place_uses_seven_ms_after_stores_and_six_after_recalls():
    ops = place(
        [
            Operation.store(0, (0,)),
            Operation.recall_by_address(0),
            Operation.recall_by_content((0,)),
            Operation.store(1, (1,)),
        ]
    )
    assert [op.t0 for op in ops] == [0, 7, 13, 19]
    assert [op.t0 for op in place([Operation.recall_by_address(0)] * 2, start=5)] == [5, 11]


def test_schedule_closer_than_minimum_spacing_is_refused_naming_the_gap():
    ops = [Operation.store(0, (0,), t0=0), Operation.recall_by_address(0, t0=6)]
    with pytest.raises(ValidationError, match="only 6 ms after the store.*minimum spacing after a store is 7 ms"):
        check_schedule(ops, 2, 2)
    ops = [Operation.recall_by_address(0, t0=0), Operation.recall_by_address(1, t0=5)]
    with pytest.raises(ValidationError, match="after a recall is 6 ms"):
        check_schedule(ops, 2, 2)
    check_schedule([Operation.recall_by_address(0, t0=0), Operation.store(1, (1,), t0=6)], 2, 2)


def test_decode_reads_out_at_the_fixed_latencies():
    n = 3
    ops = [
        Operation.store(1, (0, 2), t0=0),
        Operation.recall_by_address(1, t0=10),
        Operation.recall_by_content((2,), t0=20),
    ]
    spikes = [(1, 5), (n + 0, 5), (n + 2, 5), (n + 1, 6), (1, 7), (n + 0, 7), (n + 2, 7)]  # store
    spikes += [(1, 15), (n + 0, 16), (n + 2, 16)]  # recall by address
    spikes += [(n + 2, 25), (0, 26), (1, 26)]  # recall by content
    spikes += [(2, 14), (n + 1, 17)]  # off-latency spikes are ignored
    trains = SpikeTrains.from_arrays(np.zeros(len(spikes)), [s[0] for s in spikes], [s[1] for s in spikes])
    store, cue, content = decode(ops, trains, n)
    assert store == Answer(ops[0], echo=Echo((1,), (0, 2)), forgotten=(1,), repeat=Echo((1,), (0, 2)))
    assert cue == Answer(ops[1], content=(0, 2), echo=Echo(addresses=(1,)))
    assert content == Answer(ops[2], addresses=(0, 1), echo=Echo(content=(2,)))


def test_answer_fields_mean_the_same_for_every_kind():
    # addresses / content: what the memory returned; echo: the query repeated; never one for the other.
    ops = place([Operation.store(0, (1, 2)), Operation.recall_by_address(0), Operation.recall_by_content((2,))])
    store, by_address, by_content = ideal_answers(ops)[0]
    assert (store.addresses, store.content, store.echo) == ((), (), Echo((0,), (1, 2)))
    assert (by_address.addresses, by_address.content, by_address.echo) == ((), (1, 2), Echo((0,), ()))
    assert (by_content.addresses, by_content.content, by_content.echo) == ((0,), (), Echo((), (2,)))


def test_ideal_answers_overwrite_forgets_and_content_recall_is_or_match():
    ops = place([
        Operation.store(0, (0, 1)), Operation.store(1, (1, 2)), Operation.recall_by_content((1,)),
        Operation.store(0, (3,)), Operation.recall_by_content((0, 2)), Operation.recall_by_address(2),
    ])  # fmt: skip
    answers, memory = ideal_answers(ops)
    assert answers[2].addresses == (0, 1)
    assert answers[3].forgotten == (0, 1)
    assert answers[4].addresses == (1,)
    assert answers[5] == Answer(ops[5], echo=Echo(addresses=(2,)))
    assert memory == {0: (3,), 1: (1, 2)}


@pytest.mark.parametrize(
    ("op", "message"),
    [
        (Operation.store(5, (0,)), "address 5 is outside 0..4"),
        (Operation.store(-1, (0,)), "outside 0..4"),
        (Operation.recall_by_address(7), "outside 0..4"),
        (Operation.store(0, (0, 3)), r"content bits \[3\] are outside 0..2"),
        (Operation.store(0, ()), "content is empty"),
        (Operation.recall_by_content(()), "fragment is empty"),
        (Operation.recall_by_content((-1,)), "outside 0..2"),
        (Operation("recall_by_address", None, 0, (1,)), "takes no content"),
        (Operation("recall_by_content", None, 1, (1,)), "takes no address"),
        (Operation("store", None, None, (1,)), "address is missing"),
    ],
)
def test_bad_operations_raise_validation_errors_naming_the_problem(op, message):
    with pytest.raises(ValidationError, match=message):
        encode(place([op]), n=5, m=3)


def test_operation_kind_and_bits_are_validated_on_construction():
    with pytest.raises(ValidationError, match="allowed: store, recall_by_address, recall_by_content"):
        Operation("erase", 0, 0, ())
    with pytest.raises(ValidationError, match="content bit = 0.5 must be an integer"):
        Operation.store(0, (0.5,))
    with pytest.raises(ValidationError, match="content = None must be a collection"):
        Operation.store(0, None)
    with pytest.raises(ValidationError, match="fragment = 3 must be a collection"):
        Operation.recall_by_content(3)
    with pytest.raises(ValidationError, match="address = '1' must be an integer"):
        Operation.store("1", (0,))
    with pytest.raises(ValidationError, match="t0 \\(ms\\) = 1.5 must be an integer"):
        Operation.recall_by_address(0, t0=1.5)
    with pytest.raises(ValidationError, match="repeat a bit"):
        check_schedule(place([Operation.store(0, (1, 1))]), 2, 2)


def test_earlier_operation_names_still_work_with_a_deprecation_warning():
    with pytest.warns(DeprecationWarning, match="use Operation.store"):
        op = Operation.write(1, (0,))
    assert op == Operation.store(1, (0,))
    with pytest.warns(DeprecationWarning, match="'recall_cue' is deprecated; use 'recall_by_address'"):
        assert Operation("recall_cue", 0, 1).kind == "recall_by_address"
    with pytest.warns(DeprecationWarning):
        assert Operation.recall_content((2,)).kind == "recall_by_content"
