"""sPyNNaker checks: one real mapping on a virtual SpiNN-5 board, and the estimates."""

from __future__ import annotations

import dataclasses
import importlib.util

import numpy as np
import pytest

from neuromem.errors import CapabilityError
from neuromem.export.spinnaker import SpinnakerReport, _quantisation, check_spinnaker, format_spinnaker_report
from neuromem.spec import (
    FixedProbability,
    IF_cond_exp,
    IF_curr_delta,
    IF_curr_exp,
    LIFCurrExp,
    Network,
    OneToOne,
    Population,
    Probe,
    Projection,
    SpikeSourcePoisson,
)


def network(weight_inh: float = 0.0001) -> Network:
    return Network(
        populations=(
            Population("noise", SpikeSourcePoisson(size=100, rate=20.0, seed=1)),
            Population("cells", LIFCurrExp(), size=300),
        ),
        projections=(
            Projection("ff", "noise", "cells", FixedProbability(0.2, seed=1), weight=0.5, delay=1.0),
            Projection(
                "rec",
                "cells",
                "cells",
                FixedProbability(0.1, seed=2),
                weight=weight_inh,
                delay=2.0,
                receptor="inhibitory",
            ),
        ),
        probes=(Probe("cells", "spikes"),),
        scheme="spinnaker",
    )


@pytest.mark.spinnaker
def test_virtual_board_mapping_reports_cores_chips_sdram_and_weight_loss() -> None:
    if importlib.util.find_spec("spynnaker") is None:
        pytest.skip("sPyNNaker is needed (pip install 'spynnaker==1!7.4.1')")
    report = check_spinnaker(network(), duration=50.0, rates_hz={"cells": 5.0})
    # 300 cells at 256 per core -> 2 cores, plus one for the 100 sources, all on one chip.
    assert report.cores == 3
    assert report.chips == 1
    assert report.neurons_per_core == {"cells": 256, "noise": 100}
    assert report.routing_ok
    assert 0 < report.sdram_bytes["cells"] < 2**27
    # ff: 0.5 nA with scale 1024 is exact; rec: 1e-4 nA with scale 32768 -> 3/32768, 8 % off.
    assert report.weights["ff"]["lost"] == 0.0 and report.weights["ff"]["distorted"] == 0.0
    assert report.weights["rec"]["distorted"] == 1.0
    # ~20 inputs x 20 Hz + ~30 recurrent x 5 Hz onto each cell, 256 cells on the busiest core.
    assert 100.0 < report.events_per_ms["cells"] < 250.0
    text = format_spinnaker_report(report)
    assert "3 cores on 1 chips" in text and "rec" in text


def test_quantisation_counts_lost_distorted_and_clipped_weights() -> None:
    net = Network(
        populations=(Population("a", LIFCurrExp(), size=4), Population("b", LIFCurrExp(), size=4)),
        projections=(Projection("p", "a", "b", OneToOne(), weight=np.array([1e-6, 0.001, 0.5, 100.0]), delay=1.0),),
    )
    report = SpinnakerReport(
        cores=0, chips=0, system_cores=0, sdram_bytes={}, neurons_per_core={}, routing_ok=True, max_routing_entries=0
    )
    _quantisation(report, net, "p", {"b": {"weight_scales": [1024.0, 1024.0]}})
    # 1e-6 * 1024 rounds to 0 (lost); 0.001 * 1024 = 1.02 -> 1 (2.3 % off); 100 * 1024 > 65535 (clipped).
    assert report.weights["p"] == {"scale": 1024.0, "lost": 0.25, "distorted": 0.5, "clipped": 0.25}


def mixed_network() -> Network:
    """The three cell types sPyNNaker runs, under its scheme, wired into one another."""
    return Network(
        populations=(
            Population("noise", SpikeSourcePoisson(size=50, rate=20.0, seed=1)),
            Population("exp", IF_curr_exp(), size=40),
            Population("delta", IF_curr_delta(cm=0.5), size=30),
            Population("cond", IF_cond_exp(), size=20),
        ),
        projections=(
            Projection("n_exp", "noise", "exp", FixedProbability(0.2, seed=1), weight=0.5, delay=1.0),
            Projection("exp_delta", "exp", "delta", FixedProbability(0.2, seed=2), weight=2.0, delay=1.0),
            Projection("delta_cond", "delta", "cond", FixedProbability(0.2, seed=3), weight=0.01, delay=2.0),
            Projection(
                "cond_exp", "cond", "exp", FixedProbability(0.2, seed=4), weight=0.3, delay=1.0, receptor="inhibitory"
            ),
        ),
        probes=(Probe("cond", "spikes"),),
        scheme="spinnaker",
    )


@pytest.mark.spinnaker
def test_virtual_board_maps_every_cell_type_spinnaker_runs() -> None:
    if importlib.util.find_spec("spynnaker") is None:
        pytest.skip("sPyNNaker is needed (pip install 'spynnaker==1!7.4.1')")
    report = check_spinnaker(mixed_network(), duration=20.0)
    assert report.neurons_per_core == {"noise": 50, "exp": 40, "delta": 30, "cond": 20}
    assert report.cores == 4 and report.routing_ok
    assert set(report.weights) == {"n_exp", "exp_delta", "delta_cond", "cond_exp"}


def test_voltage_steps_are_scaled_to_spinnakers_one_step_current() -> None:
    from neuromem.export.plan import build_plan

    plan, _ = build_plan(mixed_network(), 1.0, 10.0, targets=("spiNNaker",))
    factor = {p["label"]: p["weight_factor"]["spiNNaker"] for p in plan["projections"]}
    # A step of w mV is sPyNNaker's current W/dt over one step: W = w cm dt / (tau_m (1 - exp(-dt/tau_m))).
    assert factor["exp_delta"] == pytest.approx(0.5 * 1.0 / (20.0 * (1.0 - np.exp(-1.0 / 20.0))), rel=1e-12)
    assert factor["n_exp"] == factor["delta_cond"] == factor["cond_exp"] == 1.0


def test_exact_scheme_is_refused_without_approximate_naming_scheme_and_target() -> None:
    exact = dataclasses.replace(network(), scheme="exact")
    with pytest.raises(CapabilityError) as caught:
        check_spinnaker(exact, duration=10.0)
    message = str(caught.value)
    assert "scheme:exact" in message and "'spiNNaker'" in message and "approximate=True" in message


@pytest.mark.spinnaker
def test_exact_scheme_is_mapped_with_approximate_and_noted() -> None:
    if importlib.util.find_spec("spynnaker") is None:
        pytest.skip("sPyNNaker is needed (pip install 'spynnaker==1!7.4.1')")
    report = check_spinnaker(dataclasses.replace(network(), scheme="exact"), duration=10.0, approximate=True)
    assert report.cores == 3 and report.routing_ok
    assert any("scheme:exact" in note and "approximate=True" in note for note in report.notes), report.notes
