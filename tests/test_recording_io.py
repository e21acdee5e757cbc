"""Recordings: every field checked on construction and on load; one file, round trip exact."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from neuromem.errors import FileFormatError, ValidationError
from neuromem.record import SCHEMA, Recording, SpikeTrains


def _recording() -> Recording:
    rng = np.random.default_rng(0)
    spikes = SpikeTrains.from_arrays(rng.integers(0, 2, 30), rng.integers(0, 4, 30), rng.integers(10, 60, 30))
    return Recording(
        dt=0.1,
        start_tick=10,
        stop_tick=60,
        batch_size=2,
        sizes={"a": 4, "b": 3},
        spikes={"a": spikes, "b": SpikeTrains.empty()},
        traces={("a", "v"): rng.normal(size=(2, 50, 4)), ("b", "i_exc"): rng.normal(size=(2, 16, 3))},
        weights={"p": (np.array([20, 40, 60]), rng.random((3, 2, 7)))},
        trace_every={("b", "i_exc"): 3},
    )


def _same(a: Recording, b: Recording) -> None:
    assert (a.dt, a.start_tick, a.stop_tick, a.batch_size, a.sizes) == (
        b.dt,
        b.start_tick,
        b.stop_tick,
        b.batch_size,
        b.sizes,
    )
    assert a.trace_every == b.trace_every
    for name in a.spikes:
        for field in ("trial", "neuron", "tick"):
            np.testing.assert_array_equal(getattr(a.spikes[name], field), getattr(b.spikes[name], field))
    assert set(a.traces) == set(b.traces)
    for key in a.traces:
        np.testing.assert_array_equal(a.traces[key], b.traces[key])
    for name in a.weights:
        np.testing.assert_array_equal(a.weights[name][0], b.weights[name][0])
        np.testing.assert_array_equal(a.weights[name][1], b.weights[name][1])


@pytest.mark.parametrize("compress", [True, False])
def test_round_trip_is_exact_and_one_file(tmp_path: Path, compress: bool) -> None:
    original = _recording()
    path = original.save(tmp_path / "rec", compress=compress)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["rec.npz"]
    _same(Recording.load(path), original)
    np.testing.assert_array_equal(original.trace_ticks("b", "i_exc"), np.arange(12, 60, 3))


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"dt": "abc"}, "dt = 'abc' must be a number of ms > 0"),
        ({"dt": -1.0}, "dt = -1.0 must be a finite number of ms > 0"),
        ({"dt": float("nan")}, "dt = nan must be a finite number"),
        ({"sizes": [1]}, r"sizes = \[1\] must map population names to integers >= 1"),
        ({"sizes": {"a": 0, "b": 3}}, "must map population names to integers >= 1"),
        ({"start_tick": -100}, "start_tick = -100 must be an integer >= 0"),
        ({"stop_tick": 5}, "stop_tick = 5 is before start_tick = 10"),
        ({"batch_size": 0}, "batch_size = 0 must be an integer >= 1"),
        ({"batch_size": 2.0}, "batch_size = 2.0 must be an integer >= 1"),
        ({"traces": {("a", "v"): np.zeros((2, 49, 4))}}, r"traces\[\('a', 'v'\)\] has shape \(2, 49, 4\)"),
        ({"traces": {("c", "v"): np.zeros((2, 50, 4))}}, "'c' is not one of the recorded populations"),
        ({"weights": {"p": (np.array([1]), np.zeros((2, 2, 3)))}}, r"weights\['p'\] has shape \(2, 2, 3\)"),
    ],
)
def test_construction_checks_every_field(changes: dict[str, object], message: str) -> None:
    fields = {k: getattr(_recording(), k) for k in ("dt", "start_tick", "stop_tick", "batch_size", "sizes")}
    fields.update(spikes={}, traces={}, weights={})
    fields.update(changes)
    with pytest.raises(ValidationError, match=message):
        Recording(**fields)  # type: ignore[arg-type]


def test_spikes_outside_the_run_are_refused() -> None:
    good = _recording()
    bad = SpikeTrains(np.array([0]), np.array([9]), np.array([20]))
    with pytest.raises(ValidationError, match=r"spikes\['a'\] neuron 9 is outside 0..3"):
        Recording(0.1, 10, 60, 2, good.sizes, spikes={"a": bad})
    late = SpikeTrains(np.array([0]), np.array([1]), np.array([60]))
    with pytest.raises(ValidationError, match=r"spikes\['a'\] tick 60 is outside 10..59"):
        Recording(0.1, 10, 60, 2, good.sizes, spikes={"a": late})


def _rewrite(path: Path, target: Path, header=None, arrays=None) -> Path:
    with np.load(path, allow_pickle=False) as data:
        members = {k: data[k] for k in data.files}
    document = json.loads(members.pop("header").tobytes().decode())
    if header:
        header(document)
    if arrays:
        arrays(members)
    np.savez(target, header=np.frombuffer(json.dumps(document).encode(), dtype=np.uint8), **members)
    return target


@pytest.mark.parametrize(
    ("header", "arrays", "message"),
    [
        (lambda d: d["metadata"].update(dt=-1), None, "'dt' is -1.0; allowed: a number > 0"),
        (lambda d: d["metadata"].update(dt="abc"), None, "'dt' is 'abc' .string.; allowed: a number"),
        (lambda d: d["metadata"].update(start_tick=-100), None, "'start_tick' is -100; allowed: >= 0"),
        (lambda d: d["metadata"].update(stop_tick=3), None, "'stop_tick' is 3; allowed: >= 10"),
        (lambda d: d["metadata"].update(sizes=[1]), None, r"'sizes' is \[1\] .list.; allowed: an object"),
        (lambda d: d["metadata"].update(batch_size=True), None, "'batch_size' is True; allowed: an integer"),
        (lambda d: d["metadata"].update(extra=1), None, r"unknown keys \['extra'\]"),
        (lambda d: d["metadata"]["traces"][1].__setitem__(2, 0), None, "allowed: .population, variable, every"),
        (None, lambda a: a.update(t0=np.ones(1)), r"'t0' has shape \(1,\); allowed: exactly \(2, 50, 4\)"),
        (None, lambda a: a.update(t0=np.full((2, 50, 4), np.nan)), "'t0' holds NaN"),
        (None, lambda a: a.update(s0=np.array([[0], [99], [20]])), r"neuron 99 is outside 0..3"),
        (None, lambda a: a.update(s0=np.ones((3, 2)) * 1.5), "'s0' has dtype float64; allowed kinds: int"),
        (None, lambda a: a.update(wt0=np.array([-1, 2, 3])), "'wt0' holds -1; allowed: values >= 0"),
        (None, lambda a: a.update(stray=np.ones(2)), "'stray' is not part of a Recording file"),
    ],
)
def test_loading_checks_values_as_strictly_as_construction(
    tmp_path: Path, header: object, arrays: object, message: str
) -> None:
    path = _recording().save(tmp_path / "rec")
    bad = _rewrite(path, tmp_path / "bad.npz", header, arrays)
    with pytest.raises(FileFormatError, match=message):
        Recording.load(bad)


def test_recordings_of_the_first_layout_are_still_read(tmp_path: Path) -> None:
    header = {
        "schema": SCHEMA,
        "version": 1,
        "dt": 0.5,
        "start_tick": 0,
        "stop_tick": 4,
        "batch_size": 1,
        "sizes": {"a": 2},
        "spikes": ["a"],
        "traces": [["a", "v"]],
        "weights": [],
    }
    np.savez(
        tmp_path / "old.npz",
        header=np.frombuffer(json.dumps(header).encode(), dtype=np.uint8),
        s0=np.array([[0, 0], [1, 0], [2, 3]]),
        t0=np.arange(8.0).reshape(1, 4, 2),
    )
    old = Recording.load(tmp_path / "old")
    assert old.dt == 0.5 and old.spikes["a"].pairs() == {(1, 2), (0, 3)}
    np.testing.assert_array_equal(old.traces[("a", "v")], np.arange(8.0).reshape(1, 4, 2))
