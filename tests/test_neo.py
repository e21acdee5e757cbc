"""Recordings to Neo and back: exact round trips, units, PyNN's annotations, and PyNN's own Blocks read back."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

neo = pytest.importorskip("neo")
pq = pytest.importorskip("quantities")

from neuromem.backends import build  # noqa: E402
from neuromem.errors import ValidationError  # noqa: E402
from neuromem.record import Recording, SpikeTrains  # noqa: E402
from neuromem.spec import (  # noqa: E402
    STDP,
    AdditiveWeightDependence,
    AllToAll,
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


def _network() -> Network:
    stdp = STDP(SpikePairRule(A_plus=0.05, A_minus=0.05), AdditiveWeightDependence(w_max=2.0))
    return Network(
        populations=(
            Population("drive", SpikeSourcePoisson(size=8, rate=200.0, seed=4)),
            Population("cells", LIFCurrExp(tau_refrac=1.0, tau_m=10.0, cm=0.5), size=5),
        ),
        projections=(
            Projection("in", "drive", "cells", FixedProbability(0.6, seed=1), weight=1.0, delay=0.5, plasticity=stdp),
            Projection(
                "rec", "cells", "cells", AllToAll(allow_self=False), weight=0.2, delay=1.0, receptor="inhibitory"
            ),
        ),  # fmt: skip
        probes=(
            Probe("drive"),
            Probe("cells"),
            Probe("cells", "v"),
            Probe("cells", "i_exc"),
            Probe("in", "weight", every_ms=5.0),
        ),
        scheme="exact",
    )


@pytest.fixture(scope="module")
def recording() -> Recording:
    simulation = build(_network(), "torch", dt=0.1, batch_size=3, dtype="float64")
    simulation.run(10.0)
    return simulation.run(20.0)  # a second run: ticks start at 100


def _assert_same(a: Recording, b: Recording) -> None:
    assert (a.dt, a.start_tick, a.stop_tick, a.batch_size, a.sizes) == (
        b.dt,
        b.start_tick,
        b.stop_tick,
        b.batch_size,
        b.sizes,
    )
    assert sorted(a.spikes) == sorted(b.spikes)
    for name in a.spikes:
        for field in ("trial", "neuron", "tick"):
            np.testing.assert_array_equal(getattr(a.spikes[name], field), getattr(b.spikes[name], field))
    assert sorted(a.traces) == sorted(b.traces) and a.trace_every == b.trace_every
    for key in a.traces:
        np.testing.assert_array_equal(a.traces[key], b.traces[key])
    assert sorted(a.weights) == sorted(b.weights)
    for name in a.weights:
        np.testing.assert_array_equal(a.weights[name][0], b.weights[name][0])
        np.testing.assert_array_equal(a.weights[name][1], b.weights[name][1])


def test_round_trip_is_exact(recording: Recording) -> None:
    assert len(recording.spikes["cells"]) > 10 and len(recording.weights["in"][0]) == 4
    _assert_same(Recording.from_neo(recording.to_neo()), recording)


def test_round_trip_through_a_neo_file(recording: Recording, tmp_path: Path) -> None:
    path = tmp_path / "run.pkl"
    neo.io.PickleIO(str(path)).write_block(recording.to_neo())
    _assert_same(Recording.from_neo(neo.io.PickleIO(str(path)).read_block()), recording)


def test_one_segment_per_trial_with_units_and_pynn_annotations(recording: Recording) -> None:
    block = recording.to_neo()
    assert [s.annotations["trial"] for s in block.segments] == [0, 1, 2]
    segment = block.segments[1]
    cells = [t for t in segment.spiketrains if t.annotations["source_population"] == "cells"]
    assert [t.annotations["source_index"] for t in cells] == list(range(5))
    assert cells[0].units == pq.ms and cells[0].t_start == 10.0 * pq.ms and cells[0].t_stop == 30.0 * pq.ms
    mine = recording.spikes["cells"].of_trial(1)
    np.testing.assert_allclose(cells[2].magnitude, mine.tick[mine.neuron == 2] * 0.1)
    (v,) = segment.filter(name="v")
    (i_exc,) = segment.filter(name="isyn_exc")
    assert v.units == pq.mV and i_exc.units == pq.nA and v.shape == (200, 5)
    np.testing.assert_array_equal(v.array_annotations["channel_index"], np.arange(5))
    (weight,) = segment.irregularlysampledsignals
    assert weight.units == pq.nA and weight.annotations["projection"] == "in"
    np.testing.assert_allclose(weight.times.magnitude, [15.0, 20.0, 25.0, 30.0])


def test_sampled_traces_and_empty_trains_round_trip() -> None:
    rng = np.random.default_rng(0)
    original = Recording(
        dt=0.25,
        start_tick=3,
        stop_tick=23,
        batch_size=2,
        sizes={"a": 4, "b": 2},
        spikes={"a": SpikeTrains.from_arrays([0, 1, 1], [3, 0, 3], [3, 22, 10]), "b": SpikeTrains.empty()},
        traces={("a", "v"): rng.normal(size=(2, 5, 4))},
        trace_every={("a", "v"): 4},
    )
    block = original.to_neo()
    assert float(block.segments[0].analogsignals[0].sampling_period) == 1.0
    _assert_same(Recording.from_neo(block), original)


def test_a_pynn_block_reads_back_as_the_engine_recording() -> None:
    """neuromem.pynn's Block (NEST's labels) with time_labels="pynn" equals the torch run of the same network."""
    pynn = pytest.importorskip("neuromem.pynn")
    dt, times = 0.1, [[1.0, 4.0, 4.5], [2.0, 2.2, 6.0]]
    pynn.setup(timestep=dt)
    stim = pynn.Population(2, pynn.SpikeSourceArray(spike_times=times))
    cells = pynn.Population(3, pynn.IF_curr_exp(tau_m=8.0, cm=0.2, tau_syn_E=1.0))
    pynn.Projection(stim, cells, pynn.AllToAllConnector(), pynn.StaticSynapse(weight=1.2, delay=0.3))
    cells.record(["spikes", "v"])
    pynn.run(10.0)
    from_pynn = Recording.from_neo(cells.get_data(), time_labels="pynn")
    # The same network on the engine: a PyNN spike stamped T was sent in step T/dt - 1.
    source = SpikeSourceArray.from_lists([[t - dt for t in ts] for ts in times])
    network = Network(
        populations=(
            Population("stim", source),
            Population(cells.label, LIFCurrExp(tau_m=8.0, cm=0.2, tau_syn_E=1.0), size=3),
        ),
        projections=(Projection("drive", "stim", cells.label, AllToAll(), weight=1.2, delay=0.3),),
        probes=(Probe(cells.label), Probe(cells.label, "v")),
        scheme="exact",
    )
    direct = build(network, "torch", dt=dt, dtype="float64").run(10.0)
    assert len(direct.spikes[cells.label]) > 2
    assert from_pynn.spikes[cells.label].pairs() == direct.spikes[cells.label].pairs()
    np.testing.assert_allclose(from_pynn.traces[(cells.label, "v")], direct.traces[(cells.label, "v")], atol=1e-12)


def test_blocks_that_cannot_be_read_are_refused() -> None:
    with pytest.raises(ValidationError, match="neo.Block"):
        Recording.from_neo("not a block")
    undated = neo.Block()
    undated.segments.append(neo.Segment())
    with pytest.raises(ValidationError, match="'dt'"):
        Recording.from_neo(undated)
    block = neo.Block()
    block.annotate(dt=0.1)
    with pytest.raises(ValidationError, match="no segment"):
        Recording.from_neo(block)
    with pytest.raises(ValidationError, match="time_labels"):
        Recording.from_neo(block, time_labels="brian")
