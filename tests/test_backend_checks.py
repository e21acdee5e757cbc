"""Shared build checks (backends/base.py): memory, float range, surrogates, options, the recording
budget, and sampled traces that agree between the backends."""

from __future__ import annotations

import numpy as np
import pytest

from neuromem.backends import available_backends, build
from neuromem.backends.base import recording_bytes
from neuromem.errors import CapabilityError, ValidationError
from neuromem.spec import (
    LIFCurrExp,
    Network,
    OneToOne,
    Population,
    Probe,
    Projection,
    SpikeSourcePoisson,
)

BACKENDS = [pytest.param("torch", id="torch"), pytest.param("brian2", id="brian2", marks=pytest.mark.brian2)]


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    if request.param not in available_backends():
        pytest.skip(f"backend {request.param!r} is not available here")
    return request.param


def _driven(*probes: Probe, size: int = 5) -> Network:
    return Network(
        populations=(
            Population("s", SpikeSourcePoisson(size=size, rate=200.0, seed=1)),
            Population("a", LIFCurrExp(tau_refrac=1.0), size=size),
        ),
        projections=(Projection("p", "s", "a", OneToOne(), weight=3.0, delay=0.2),),
        probes=probes,
    )


def test_a_population_too_large_for_memory_is_refused_at_build(backend: str) -> None:
    net = Network(populations=(Population("a", LIFCurrExp(), size=10**9),))
    with pytest.raises(ValidationError, match=rf"build on {backend}: network .* 1,000,000,000 neurons.*TB"):
        build(net, backend, dt=0.1)


def test_the_batch_counts_in_the_estimate(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NEUROMEM_MEMORY_LIMIT", "100M")
    net = Network(populations=(Population("a", LIFCurrExp(), size=1000),))
    build(net, dt=0.1, batch_size=1)
    with pytest.raises(ValidationError, match=r"a batch of 1000 .*largest part: input chunk"):
        build(net, dt=0.1, batch_size=1000)


def test_parameters_that_overflow_float32_are_refused_at_build() -> None:
    net = Network(populations=(Population("a", LIFCurrExp(cm=1e-300), size=4),))
    with pytest.raises(ValidationError) as info:
        build(net, dt=0.1, dtype="float32")
    message = str(info.value)
    assert "Population 'a': IF_curr_exp(cm = 1e-300 nF" in message
    assert "membrane resistance tau_m/cm (MOhm) of 2e+301" in message and "float32" in message
    assert "dtype='float64'" in message
    with pytest.raises(ValidationError, match="float64"):
        build(net, dt=0.1, dtype="float64")
    # Small but representable in float32: accepted, and the membrane stays finite.
    ok = Network(populations=(Population("a", LIFCurrExp(cm=1e-9, i_offset=1e-9), size=4),), probes=(Probe("a", "v"),))
    assert np.all(np.isfinite(build(ok, dt=0.1, dtype="float32").run(5.0).traces[("a", "v")]))


def test_surrogates_come_from_a_fixed_list() -> None:
    net = Network(populations=(Population("a", LIFCurrExp(), size=2),))
    for bad in ("torch", "os", "__builtins__", "LSO"):
        with pytest.raises(ValidationError, match=rf"surrogate = '{bad}' is not one of 'atan'"):
            build(net, dt=0.1, surrogate=bad)
    build(net, dt=0.1, surrogate="atan")


def test_options_a_backend_does_not_have_are_refused() -> None:
    net = Network(populations=(Population("a", LIFCurrExp(), size=2),))
    with pytest.raises(CapabilityError, match=r"backend 'torch' has no option 'codegen_target'"):
        build(net, "torch", dt=0.1, codegen_target="numpy")
    if "brian2" in available_backends():
        with pytest.raises(CapabilityError, match=r"backend 'brian2' has no option 'device'"):
            build(net, "brian2", dt=0.1, device="cuda")
    with pytest.raises(ValidationError, match="max_recording_bytes = 0 must be an integer >= 1"):
        build(net, dt=0.1, max_recording_bytes=0)


def test_recording_estimate_counts_samples_trials_and_snapshots() -> None:
    net = _driven(Probe("a", "v"), Probe("a", "i_exc", every_ms=0.3), Probe("p", "weight", every_ms=1.0))
    # v: 2 trials x 100 ticks x 5 neurons; i_exc: ticks 0, 3, ..., 99 (34 samples); weights: 10 snapshots of 5.
    expected = 8 * (2 * 100 * 5 + 2 * 34 * 5 + 10 * 2 * 5)
    assert recording_bytes(net, 0.1, 0, 100, 2) == expected


def test_a_run_above_the_recording_budget_is_refused_before_it_starts(backend: str) -> None:
    net = _driven(Probe("a", "v"))
    sim = build(net, backend, dt=0.1, max_recording_bytes=4000)
    with pytest.raises(ValidationError, match=r"recording .* about 4.4 kB, above the budget .* = 4 kB.*every_ms"):
        sim.run(11.0)
    assert sim.tick == 0
    assert sim.run(10.0).traces[("a", "v")].shape == (1, 100, 5)
    sampled = build(net.with_probes(Probe("a", "v", every_ms=1.0)), backend, dt=0.1, max_recording_bytes=4000)
    # 80 ms would need 32 kB every tick; sampled every 1 ms it is 80 samples, 3.2 kB.
    assert sampled.run(80.0).traces[("a", "v")].shape == (1, 80, 5)


def test_sampled_traces_are_the_full_traces_at_the_multiples_of_every(backend: str) -> None:
    options = {"dtype": "float64"} if backend == "torch" else {}
    sampled = build(_driven(Probe("a", "i_exc", every_ms=0.3), Probe("a", "v")), backend, dt=0.1, **options)
    first, second = sampled.run(5.0), sampled.run(5.3)
    full = build(_driven(Probe("a", "i_exc")), backend, dt=0.1, **options).run(10.3).traces[("a", "i_exc")]
    assert first.trace_every == {("a", "i_exc"): 3} and "a" not in {k[0] for k in first.trace_every if k[1] == "v"}
    np.testing.assert_array_equal(first.trace_ticks("a", "i_exc"), np.arange(0, 50, 3))
    np.testing.assert_array_equal(second.trace_ticks("a", "i_exc"), np.arange(51, 103, 3))
    joined = np.concatenate([first.traces[("a", "i_exc")], second.traces[("a", "i_exc")]], axis=1)
    ticks = np.concatenate([first.trace_ticks("a", "i_exc"), second.trace_ticks("a", "i_exc")])
    assert np.abs(full).max() > 1.0, "the scenario must drive the current"
    np.testing.assert_array_equal(joined, full[:, ticks])
    assert first.traces[("a", "v")].shape == (1, 50, 5)


def test_sampled_traces_agree_between_torch_and_brian2() -> None:
    if "brian2" not in available_backends():
        pytest.skip("brian2 is not available here")
    net = _driven(Probe("a", "v", every_ms=0.5))
    ours = build(net, "torch", dt=0.1, dtype="float64").run(20.0)
    theirs = build(net, "brian2", dt=0.1).run(20.0)
    assert ours.traces[("a", "v")].shape == (1, 40, 5)
    np.testing.assert_allclose(theirs.traces[("a", "v")], ours.traces[("a", "v")], rtol=0, atol=1e-9)


def test_weight_snapshots_fall_on_every_multiple_of_every_ms(backend: str) -> None:
    """Float modulo skipped ticks 81, 162 and 177 for every_ms = 0.3 at dt = 0.1; whole steps do not."""
    from neuromem.spec import STDP, AdditiveWeightDependence, SpikePairRule

    rule = STDP(SpikePairRule(), AdditiveWeightDependence(0.0, 10.0))
    net = Network(
        populations=(
            Population("s", SpikeSourcePoisson(size=3, rate=200.0, seed=1)),
            Population("a", LIFCurrExp(tau_refrac=1.0), size=3),
        ),
        projections=(Projection("p", "s", "a", OneToOne(), weight=3.0, delay=0.2, plasticity=rule),),
        probes=(Probe("p", "weight", every_ms=0.3),),
    )
    sim = build(net, backend, dt=0.1)
    recording = sim.run(20.0)
    ticks, values = recording.weights["p"]
    np.testing.assert_array_equal(ticks, np.arange(3, 201, 3))
    assert values.nbytes == recording_bytes(net, 0.1, 0, 200, 1)
