"""What the engine cannot run is refused with PyNN's exception types (each also a neuromem error), early."""

from __future__ import annotations

import numpy as np
import pytest

pytest.importorskip("pyNN")

from pyNN import errors as pynn_errors  # noqa: E402

import neuromem.pynn as sim  # noqa: E402
from neuromem.errors import CapabilityError, ValidationError  # noqa: E402


@pytest.fixture(autouse=True)
def fresh() -> None:
    sim.setup(timestep=0.1)


def _stdp(**overrides: object) -> object:
    options = {
        "timing_dependence": sim.SpikePairRule(),
        "weight_dependence": sim.AdditiveWeightDependence(w_max=1.0),
        "weight": 0.5,
        "delay": 1.0,
        "dendritic_delay_fraction": 0.0,
    }
    options.update(overrides)
    return sim.STDPMechanism(**options)


@pytest.mark.parametrize(
    "make, match",
    [
        (lambda: sim.IF_cond_alpha(), "IF_cond_alpha is not available"),
        (lambda: sim.Population(3, sim.IF_cond_alpha, {}), "IF_cond_alpha is not available"),
        (lambda: sim.TsodyksMarkramSynapse(U=0.5), "TsodyksMarkramSynapse is not available"),
        (lambda: sim.ACSource(amplitude=1.0), "ACSource is not available"),
        (lambda: sim.Vogels2011Rule(), "Vogels2011Rule is not available"),
        (lambda: sim.setup(spike_precision="off_grid"), "spike_precision"),
        (lambda: sim.setup(use_cvode=True), "variable time steps"),
        (lambda: sim.setup(bogus=1), "bogus"),
    ],
)
def test_unavailable_features_raise_not_implemented(make: object, match: str) -> None:
    with pytest.raises(NotImplementedError, match=match) as caught:
        make()  # type: ignore[operator]
    assert isinstance(caught.value, CapabilityError)


def test_dendritic_delay_stdp_is_refused_when_the_projection_is_made() -> None:
    pre, post = sim.Population(2, sim.SpikeSourceArray()), sim.Population(2, sim.IF_curr_exp())
    with pytest.raises(NotImplementedError, match="dendritic_delay_fraction = 1"):
        sim.Projection(pre, post, sim.AllToAllConnector(), _stdp(dendritic_delay_fraction=1.0))
    assert sim.Projection(pre, post, sim.AllToAllConnector(), _stdp()).size() == 4


def test_plastic_projection_with_several_delays_is_refused() -> None:
    pre, post = sim.Population(2, sim.SpikeSourceArray()), sim.Population(2, sim.IF_curr_exp())
    delays = sim.RandomDistribution("uniform", low=1.0, high=3.0, rng=sim.NumpyRNG(seed=2))
    with pytest.raises(NotImplementedError, match="one delay per projection"):
        sim.Projection(pre, post, sim.AllToAllConnector(), _stdp(delay=delays))


def test_delay_below_one_step_is_a_connection_error() -> None:
    pre, post = sim.Population(2, sim.SpikeSourceArray()), sim.Population(2, sim.IF_curr_exp())
    with pytest.raises(pynn_errors.ConnectionError, match="below one time step") as caught:
        sim.Projection(pre, post, sim.AllToAllConnector(), sim.StaticSynapse(weight=0.1, delay=0.04))
    assert isinstance(caught.value, ValidationError)


def test_positive_inhibitory_weight_set_after_creation_is_refused_at_the_run() -> None:
    pre, post = sim.Population(2, sim.SpikeSourceArray()), sim.Population(2, sim.IF_curr_exp())
    projection = sim.Projection(
        pre, post, sim.AllToAllConnector(), sim.StaticSynapse(weight=-0.1), receptor_type="inhibitory"
    )
    projection.set(weight=0.2)
    with pytest.raises(pynn_errors.ConnectionError, match="must be negative"):
        sim.run(1.0)


def test_bad_cell_parameters_fail_with_the_engine_reason() -> None:
    with pytest.raises(pynn_errors.InvalidParameterValueError, match="v_reset"):
        sim.Population(2, sim.IF_curr_exp(v_reset=-40.0, v_thresh=-50.0))
    cells = sim.Population(2, sim.IF_curr_exp())
    cells.set(tau_m=-1.0)
    with pytest.raises(pynn_errors.InvalidParameterValueError, match="tau_m"):
        sim.run(1.0)


def test_spike_times_out_of_order_or_before_one_step_are_refused() -> None:
    with pytest.raises(pynn_errors.InvalidParameterValueError, match="increasing order"):
        sim.Population(1, sim.SpikeSourceArray(spike_times=[3.0, 2.0]))
    with pytest.raises(pynn_errors.InvalidParameterValueError, match="earlier than one time step"):
        sim.Population(1, sim.SpikeSourceArray(spike_times=[0.0, 2.0]))


def test_setup_values_are_checked() -> None:
    with pytest.raises(pynn_errors.InvalidParameterValueError, match="batch"):
        sim.setup(batch=0)
    with pytest.raises(pynn_errors.InvalidParameterValueError, match="dtype"):
        sim.setup(dtype="float16")
    with pytest.raises(pynn_errors.InvalidParameterValueError, match="device"):
        sim.setup(device="tpu")


def test_run_until_off_the_step_grid_and_into_the_past() -> None:
    sim.Population(1, sim.IF_curr_exp())
    sim.run_until(12.7)
    assert sim.get_current_time() == pytest.approx(12.7)
    with pytest.raises(ValueError, match="in the past"):
        sim.run_until(5.0)
    with pytest.raises(pynn_errors.InvalidParameterValueError, match="whole number of time steps"):
        sim.run_until(12.75)


def test_sampling_interval_must_be_a_multiple_of_the_step() -> None:
    cells = sim.Population(2, sim.IF_curr_exp())
    with pytest.raises(pynn_errors.InvalidParameterValueError, match="multiple"):
        cells.record("v", sampling_interval=0.25)
    cells.record("v", sampling_interval=0.5)
    sim.run(5.0)
    signal = cells.get_data().segments[0].analogsignals[0]
    assert signal.shape == (11, 2) and float(signal.sampling_period) == 0.5
    np.testing.assert_array_equal(signal.magnitude[0], -65.0)


def test_changing_the_delay_of_a_plastic_projection_during_a_simulation_is_refused() -> None:
    pre = sim.Population(2, sim.SpikeSourceArray(spike_times=[[1.0, 3.0], [2.0]]))
    post = sim.Population(2, sim.IF_curr_exp())
    projection = sim.Projection(pre, post, sim.AllToAllConnector(), _stdp())
    sim.run(5.0)
    projection.set(delay=2.0)
    with pytest.raises(NotImplementedError, match="delay of a plastic projection changed"):
        sim.run(5.0)
    sim.reset()
    sim.run(5.0)  # after a reset the new delay is simply the network's
    assert projection.get("delay", format="list", with_address=False) == [2.0] * 4


def test_shortening_delays_while_spikes_are_in_flight_is_refused() -> None:
    pre = sim.Population(1, sim.SpikeSourceArray(spike_times=[4.9]))
    post = sim.Population(1, sim.IF_curr_exp())
    projection = sim.Projection(pre, post, sim.AllToAllConnector(), sim.StaticSynapse(weight=1.0, delay=5.0))
    sim.Projection(post, post, sim.AllToAllConnector(), sim.StaticSynapse(weight=0.1, delay=0.1))
    sim.run(5.0)
    projection.set(delay=1.0)
    with pytest.raises(NotImplementedError, match="spikes were on their way"):
        sim.run(1.0)
