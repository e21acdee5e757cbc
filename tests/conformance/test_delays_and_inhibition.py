"""Spike timing through delays, and inhibition, on every backend and cell type.

Latency rules of :mod:`neuromem.spec.schemes`: a spike emitted at tick s on a
synapse of d steps arrives at tick s + d; under ``"spinnaker"`` a
suprathreshold arrival fires the target in its arrival tick, under
``"exact"`` one tick later for cells with synaptic currents or conductances
and in the arrival tick for cells whose inputs are voltage steps
(``IF_curr_delta``, ``Izhikevich``).
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from cell_profiles import PROFILES, CellProfile, cases

from neuromem.spec import (
    AllToAll,
    FromList,
    LIFCurrExp,
    Network,
    Population,
    Probe,
    Projection,
    SpikeSourceArray,
)

DT = 0.1


def _chain(scheme: str, profile: CellProfile = PROFILES["IF_curr_exp"]) -> Network:
    """stim -> n0 (1 step), then n0 -> n1 -> n2 -> n3 -> n4 with 2, 3, 4, 5 steps."""
    cell = profile.make()
    strong = profile.strong
    return Network(
        populations=(
            Population("stim", SpikeSourceArray.from_lists([[1.0]])),
            Population("chain", cell, size=5),
        ),
        projections=(
            Projection("in", "stim", "chain", FromList([0], [0]), weight=strong, delay=DT),
            Projection(
                "links",
                "chain",
                "chain",
                FromList([0, 1, 2, 3], [1, 2, 3, 4]),
                weight=strong,
                delay=np.array([2, 3, 4, 5]) * DT,
            ),
        ),
        probes=(Probe("chain"),),
        scheme=scheme,
    )


@pytest.mark.parametrize(("profile", "scheme"), cases())
def test_chain_with_delays_of_one_to_five_steps_fires_on_the_predicted_ticks(config, profile, scheme):
    rec = config.run(_chain(scheme, profile), 10.0, DT)
    extra = profile.latency[scheme]
    expected, tick = [], 10  # the stimulus is emitted at 1.0 ms = tick 10
    for neuron, delay in enumerate([1, 2, 3, 4, 5]):
        tick += delay + extra
        expected.append((neuron, tick))
    got = rec.spikes["chain"]
    assert sorted(zip(got.neuron.tolist(), got.tick.tolist())) == expected


def _winner_take_all(scheme: str, inhibition: bool) -> Network:
    """Ten cells driven by one spike, cell 9 three times harder; mutual inhibition.

    Alone, cells 0-8 peak 0.5-0.6 mV above threshold about 5 ms after the
    drive; cell 9 crosses within about 1 ms, and its inhibition arrives first.
    """
    cell = LIFCurrExp(cm=0.25, tau_m=10.0, tau_syn_E=5.0, tau_syn_I=5.0, tau_refrac=2.0, v_thresh=-55.0)
    drive = np.append(1.05 + 0.01 * np.arange(9), 3.0)
    projections = [Projection("drive", "go", "cells", AllToAll(), weight=drive, delay=DT)]
    if inhibition:
        projections.append(
            Projection(
                "inhibit", "cells", "cells", AllToAll(allow_self=False), weight=20.0, delay=DT, receptor="inhibitory"
            )
        )
    return Network(
        populations=(
            Population("go", SpikeSourceArray.from_lists([[0.0]])),
            Population("cells", cell, size=10),
        ),
        projections=tuple(projections),
        probes=(Probe("cells"), Probe("cells", "i_inh")),
        scheme=scheme,
    )


@pytest.mark.parametrize("scheme", ["exact", "spinnaker"])
def test_all_to_all_inhibition_leaves_only_the_most_driven_cell_firing(config, scheme):
    free = config.run(_winner_take_all(scheme, inhibition=False), 30.0, DT).spikes["cells"]
    rec = config.run(_winner_take_all(scheme, inhibition=True), 30.0, DT)
    spikes = rec.spikes["cells"]
    assert set(free.neuron.tolist()) == set(range(10))
    assert set(spikes.neuron.tolist()) == {9}
    first = int(spikes.tick.min())
    assert first == int(free.tick[free.neuron == 9].min())
    # Every other cell receives exactly one inhibitory weight at first + 1.
    i_inh = rec.traces[("cells", "i_inh")][0]
    w, tau = 20.0, 5.0
    if scheme == "exact":
        expected = w  # the current jumps at the end of the arrival step
    else:
        k = tau / DT * (1.0 - math.exp(-DT / tau))
        expected = w * k * math.exp(-DT / tau)  # recorded after the step's decay
    others = np.arange(9)
    assert np.all(i_inh[first, others] == 0.0)
    np.testing.assert_allclose(i_inh[first + 1, others], expected, rtol=100 * config.eps)
    assert np.all(i_inh[:, 9] == 0.0)
