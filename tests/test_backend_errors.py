"""Bad requests to the backends are refused before any run, naming what was wrong."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from neuromem.backends import available_backends, build
from neuromem.backends.base import check_capabilities, required_features
from neuromem.errors import BackendError, CapabilityError, ValidationError
from neuromem.spec import (
    STDP,
    AdditiveWeightDependence,
    AllToAll,
    LIFCurrExp,
    Network,
    OneToOne,
    Population,
    Probe,
    Projection,
    SpikePairRule,
    SpikeSourceArray,
)

BACKENDS = [
    pytest.param("torch", id="torch"),
    pytest.param("brian2", id="brian2", marks=pytest.mark.brian2),
]


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    if request.param not in available_backends():
        pytest.skip(f"backend {request.param!r} is not available here")
    return request.param


def _network(delay: float | np.ndarray = 1.0, plastic: bool = True) -> Network:
    rule = STDP(SpikePairRule(), AdditiveWeightDependence(0.0, 1.0)) if plastic else None
    return Network(
        populations=(
            Population("stim", SpikeSourceArray.from_lists([[1.0], [2.0]])),
            Population("cells", LIFCurrExp(), size=2),
        ),
        projections=(
            Projection("fixed", "stim", "cells", OneToOne(), weight=1.0, delay=1.0),
            Projection("learn", "stim", "cells", AllToAll(), weight=0.5, delay=delay, plasticity=rule),
        ),
        probes=(Probe("cells"),),
    )


def test_unknown_backend_is_refused_naming_it():
    with pytest.raises(BackendError, match="unknown backend 'nest'"):
        build(_network(), "nest")


@pytest.mark.parametrize("dt", [0.0, -0.1, float("nan"), float("inf")])
def test_bad_time_steps_are_refused(backend, dt):
    with pytest.raises(ValidationError, match="dt"):
        build(_network(), backend, dt=dt)


def test_delay_below_one_step_is_refused_at_build_naming_the_projection(backend):
    with pytest.raises(ValidationError, match=r"Projection 'learn': delay 0.5 ms is below one time step"):
        build(_network(delay=0.5), backend, dt=1.0)


def test_a_network_of_the_wrong_type_is_refused(backend):
    with pytest.raises(ValidationError, match="network must be a Network"):
        build({"populations": []}, backend)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("options", "field"),
    [({"batch_size": 0}, "batch_size"), ({"trial_seeds": [1, 2]}, "trial_seeds"), ({"seed": -3}, "seed")],
)
def test_bad_batch_and_seed_options_are_refused(backend, options, field):
    with pytest.raises(ValidationError, match=field):
        build(_network(), backend, dt=0.1, **options)


def test_run_durations_that_are_negative_or_off_the_grid_are_refused(backend):
    sim = build(_network(), backend, dt=0.1)
    for duration in (-1.0, 0.25 + 0.01, float("nan")):
        with pytest.raises(ValidationError, match="duration"):
            sim.run(duration)
    assert sim.tick == 0


def test_bad_per_run_inputs_are_refused(backend):
    sim = build(_network(), backend, dt=0.1, batch_size=2)
    with pytest.raises(ValidationError, match="not a spike source"):
        sim.run(1.0, inputs={"cells": SpikeSourceArray.from_lists([[0.5], [0.5]])})
    with pytest.raises(ValidationError, match="3 neurons"):
        sim.run(1.0, inputs={"stim": SpikeSourceArray.from_lists([[0.5]] * 3)})
    with pytest.raises(ValidationError, match="batch of 2"):
        sim.run(1.0, inputs={"stim": [SpikeSourceArray.from_lists([[0.5], [0.5]])] * 3})
    with pytest.raises(ValidationError, match="no population 'ghost'"):
        sim.run(1.0, inputs={"ghost": SpikeSourceArray.from_lists([[0.5]])})


def test_set_weights_refuses_wrong_shapes_static_projections_and_nan(backend):
    sim = build(_network(), backend, dt=0.1, batch_size=2)
    with pytest.raises(ValidationError, match=r"shape \(3,\)"):
        sim.set_weights("learn", np.ones(3))
    with pytest.raises(ValidationError, match="static"):
        sim.set_weights("fixed", 1.0)
    with pytest.raises(ValidationError, match="finite"):
        sim.set_weights("learn", np.full(4, np.nan))
    with pytest.raises(ValidationError, match="'ghost'"):
        sim.get_weights("ghost")
    sim.set_weights("learn", np.arange(8.0).reshape(2, 4) / 10)
    np.testing.assert_allclose(sim.get_weights("learn"), np.arange(8.0).reshape(2, 4) / 10)


def test_unknown_device_is_refused():
    with pytest.raises(BackendError, match="device 'tpu:0'|'tpu:0'"):
        build(_network(), "torch", device="tpu:0")
    with pytest.raises(BackendError, match="'banana'"):
        build(_network(), "torch", device="banana")


@pytest.mark.skipif(torch.cuda.is_available(), reason="a CUDA GPU exists here")
def test_cuda_request_without_a_gpu_is_refused():
    with pytest.raises(BackendError, match="no CUDA GPU"):
        build(_network(), "torch", device="cuda")


@pytest.mark.parametrize(
    ("options", "field"),
    [
        ({"dtype": "float16"}, "dtype"),
        ({"propagation": "magic"}, "propagation"),
        ({"surrogate": "no_such_function"}, "surrogate"),
    ],
)
def test_bad_torch_options_are_refused_naming_the_option(options, field):
    with pytest.raises(ValidationError, match=field):
        build(_network(), "torch", **options)


def test_torch_refuses_per_synapse_delays_on_a_plastic_projection_naming_the_feature():
    net = _network(delay=np.array([1.0, 2.0, 1.0, 2.0]))
    with pytest.raises(CapabilityError, match=r"'torch'.*plasticity:heterogeneous_delays"):
        build(net, "torch", dt=1.0)


def test_capability_check_names_the_missing_feature_and_the_backend():
    net = _network()
    features = required_features(net)
    assert "plasticity:STDP:all_to_all:additive" in features
    with pytest.raises(CapabilityError, match=r"backend 'tiny'.*plasticity:STDP:all_to_all:additive"):
        check_capabilities(net, "tiny", frozenset(features - {"plasticity:STDP:all_to_all:additive"}))


@pytest.mark.brian2
def test_brian2_refuses_an_unknown_code_target_and_honours_per_synapse_plastic_delays():
    pytest.importorskip("brian2")
    if "brian2" not in available_backends():
        pytest.skip("backend 'brian2' is not available here")
    with pytest.raises(ValidationError, match="codegen_target"):
        build(_network(), "brian2", codegen_target="fortran")
    # stim 0 fires at tick 1, stim 1 at tick 2. 'fixed' (OneToOne, 1 nA, 1 step) and 'learn' (AllToAll,
    # 0.5 nA, delays 1, 2, 1, 2 steps for 0->0, 0->1, 1->0, 1->1) make these current jumps (nA):
    # cell 0: tick 2: 1 + 0.5 (0->0), tick 3: 0.5 (1->0); cell 1: tick 3: 1 + 0.5 (0->1), tick 4: 0.5 (1->1).
    net = _network(delay=np.array([1.0, 2.0, 1.0, 2.0])).with_probes(Probe("cells", "i_exc"))
    recording = build(net, "brian2", dt=1.0).run(6.0)
    current = recording.traces[("cells", "i_exc")][0]
    decay = np.exp(-1.0 / LIFCurrExp().tau_syn_E)
    jumps = current[1:] - decay * current[:-1]
    expected = np.zeros((5, 2))
    expected[1, 0], expected[2, 0] = 1.5, 0.5
    expected[2, 1], expected[3, 1] = 1.5, 0.5
    np.testing.assert_allclose(jumps, expected, rtol=0, atol=1e-9)
    np.testing.assert_array_equal(current[0], [0.0, 0.0])
