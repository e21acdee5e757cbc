"""Static spikes propagate a min-delay window of steps at a time: bit-identical to one step at a time."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from neuromem.backends import build
from neuromem.spec import (
    STDP,
    AdditiveWeightDependence,
    FixedProbability,
    IF_cond_exp,
    LIFCurrExp,
    Network,
    Population,
    Probe,
    Projection,
    SpikePairRule,
    SpikeSourcePoisson,
)

DT = 0.5


def _network(plastic: bool, varied_delays: bool = True) -> Network:
    """Two cell types, many inputs per cell and tick, random weights and per-synapse delays.

    Random weights make float sums depend on their order; per-synapse delays of
    2, 3 and 4 steps send one window's spikes into the same cells from several steps.
    """
    plain = _wiring(plastic, {})
    rng = np.random.default_rng(11)
    varied = {}
    for projection in plain.projections:
        size = plain.connection_list(projection.name).pre.size
        weight = projection.weight * rng.uniform(0.2, 1.8, size)
        varies = varied_delays and projection.plasticity is None
        delay = rng.choice([1.0, 1.5, 2.0], size) if varies else 1.0
        varied[projection.name] = (weight, delay)
    return _wiring(plastic, varied)


def _wiring(plastic: bool, varied: dict[str, tuple[np.ndarray, object]]) -> Network:
    lif = LIFCurrExp(tau_m=10.0, tau_syn_E=2.0, tau_syn_I=4.0, tau_refrac=1.0, v_thresh=-58.0)
    cond = IF_cond_exp(tau_refrac=1.0, v_thresh=-58.0)
    rule = STDP(SpikePairRule(A_plus=0.05, A_minus=0.06), AdditiveWeightDependence(0.0, 1.5))
    projections = (
        Projection("in_lif", "noise", "lif", FixedProbability(0.4, seed=1), weight=0.7, delay=1.0),
        Projection("in_cond", "noise", "cond", FixedProbability(0.4, seed=2), weight=0.02, delay=1.5),
        Projection("rec", "lif", "lif", FixedProbability(0.3, allow_self=False, seed=4), weight=0.3, delay=1.0),
        Projection("inh", "cond", "lif", FixedProbability(0.5, seed=5), weight=0.4, delay=3.0, receptor="inhibitory"),
        Projection("fwd", "lif", "cond", FixedProbability(0.3, seed=6), weight=0.01, delay=1.5),
        Projection(
            "learn",
            "noise",
            "lif",
            FixedProbability(0.3, seed=7),
            weight=0.5,
            delay=1.0,
            plasticity=rule if plastic else None,
        ),
    )
    projections = tuple(
        replace(p, weight=varied[p.name][0], delay=varied[p.name][1]) if p.name in varied else p for p in projections
    )
    return Network(
        populations=(
            Population("noise", SpikeSourcePoisson(40, rate=150.0, seed=3)),
            Population("lif", lif, size=30),
            Population("cond", cond, size=20),
        ),
        projections=projections,
        probes=(Probe("lif"), Probe("cond"), Probe("lif", "v"), Probe("cond", "v"), Probe("lif", "i_exc")),
        scheme="exact",
    )


@pytest.mark.parametrize(
    ("plastic", "varied_delays", "batch", "dtype"),
    [
        (False, True, 3, "float32"),
        (False, True, 3, "float64"),
        (True, True, 3, "float32"),
        (True, True, 1, "float64"),
        (False, False, 3, "float32"),
        (True, False, 1, "float32"),
    ],
)
def test_window_propagation_equals_step_by_step_bit_for_bit(
    plastic: bool, varied_delays: bool, batch: int, dtype: str
) -> None:
    network = _network(plastic, varied_delays)
    windowed = build(network, "torch", dt=DT, batch_size=batch, dtype=dtype, propagation="event")
    stepwise = build(network, "torch", dt=DT, batch_size=batch, dtype=dtype, propagation="event")
    assert windowed.window_steps == 2
    stepwise.window_steps = 1
    a, b = windowed.run(300.0), stepwise.run(300.0)
    for name in ("lif", "cond"):
        for field in ("trial", "neuron", "tick"):
            np.testing.assert_array_equal(getattr(a.spikes[name], field), getattr(b.spikes[name], field))
    assert (
        len(a.spikes["lif"]) + len(a.spikes["cond"]) > 500
    )  # the network is busy: many cells get several inputs per tick
    for key in a.traces:
        np.testing.assert_array_equal(a.traces[key], b.traces[key])
    if plastic:
        np.testing.assert_array_equal(windowed.get_weights("learn"), stepwise.get_weights("learn"))


def test_window_is_the_smallest_delay_and_one_step_with_emission_time_rules() -> None:
    simulation = build(_network(False), "torch", dt=0.25, propagation="event")
    assert simulation.window_steps == 4  # smallest delay 1 ms = 4 steps
    assert build(_network(False), "torch", dt=0.25, propagation="dense").static.mode == "dense"


@pytest.mark.parametrize("shape", [(1, 1, 8), (3, 4, 16), (10, 1, 20000), (1, 64, 2000), (4, 3, 8192)])
@pytest.mark.parametrize("density", [0.0, 0.002, 0.3, 1.0])
def test_word_wise_event_scan_equals_nonzero(shape: tuple[int, int, int], density: float) -> None:
    import torch

    from neuromem.backends.torch.ragged import events

    mask = torch.rand(shape, generator=torch.Generator().manual_seed(3)) < density
    for got, want in zip(events(mask), torch.nonzero(mask, as_tuple=True), strict=True):
        assert torch.equal(got, want)


@pytest.mark.parametrize("batch", [1, 4])
def test_padded_row_tables_give_the_csr_table_s_sums_bit_for_bit(batch: int) -> None:
    network = _network(False, varied_delays=False)
    rows = build(network, "torch", dt=DT, batch_size=batch, propagation="event")
    csr = build(network, "torch", dt=DT, batch_size=batch, propagation="event")
    assert rows.static.rows, "one delay and even rows: padded tables are used"
    csr.static.rows = []
    a, b = rows.run(200.0), csr.run(200.0)
    for key in a.traces:
        np.testing.assert_array_equal(a.traces[key], b.traces[key])
    for name in ("lif", "cond"):
        np.testing.assert_array_equal(a.spikes[name].tick, b.spikes[name].tick)


def test_row_ranges_pad_only_even_rows_and_cut_only_at_population_boundaries() -> None:
    from neuromem.backends.torch.rows import row_ranges

    even = np.cumsum([0, 10, 9, 10, 1, 1, 0, 0])  # rows 0-2 long, 3-4 one synapse, 5-6 none
    assert row_ranges(even, [0, 3, 5, 7]) == [(0, 3), (3, 5)]
    assert row_ranges(even, [0, 7]) is None  # one range would be mostly padding
    uneven = np.cumsum([0, 40, 2, 3])
    assert row_ranges(uneven, [0, 3]) is None
