"""The Potjans & Diesmann microcircuit: scaling, wiring statistics, delays, model file, torch runs."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest

from neuromem.backends import build
from neuromem.errors import ValidationError
from neuromem.models.microcircuit import (
    PD14,
    POPULATIONS,
    apply_initial_potentials,
    build_network,
    cv_isi,
    first_difference_ms,
    full_synapse_counts,
    psc_per_psp,
    rate_hz,
    scaled,
)
from neuromem.models.microcircuit.memory import spec_bytes
from neuromem.record import Recording, SpikeTrains
from neuromem.spec import FixedTotalNumber, Probe
from neuromem.spec.toml import read_model

MODEL_FILE = Path(__file__).resolve().parents[1] / "models" / "microcircuit.toml"
TINY = 0.002


# -- the published numbers and their scaling ----------------------------------------------


def test_full_scale_has_77169_neurons_and_about_0_3_billion_synapses():
    numbers = scaled(1.0, 1.0)
    assert numbers.sizes.sum() == 77_169
    assert numbers.synapses.sum() == pytest.approx(3.0e8, rel=0.01)
    assert np.all(numbers.dc == 0.0), "no compensation at full in-degree"


def test_weight_is_the_psc_of_a_0_15_mv_psp_87_8_pa():
    assert psc_per_psp(0.25, 10.0, 0.5) * 0.15 == pytest.approx(0.0878, abs=5e-5)
    numbers = scaled(1.0, 1.0)
    l23e, l4e, l4i = (PD14.index(p) for p in ("L23E", "L4E", "L4I"))
    assert numbers.weights[l23e, l4e] == pytest.approx(2 * 0.08781, abs=1e-4), "L4e -> L2/3e doubled"
    assert numbers.weights[l4e, l4i] == pytest.approx(-4 * 0.08781, abs=1e-4), "g = -4"


def test_synapse_count_reproduces_the_connection_probability():
    # K synapses drawn with replacement leave a pair unconnected with probability (1 - 1/(N_t N_s))^K.
    full = full_synapse_counts()
    sizes = np.asarray(PD14.full_sizes, dtype=float)
    pairs = np.outer(sizes, sizes)
    assert np.allclose(1.0 - np.exp(full * np.log1p(-1.0 / pairs)), PD14.probabilities, atol=1e-12)


@pytest.mark.parametrize(("scale", "k_scale"), [(0.1, 0.1), (0.05, 1.0), (0.3, 0.25)])
def test_sizes_and_synapses_scale_as_in_the_reference(scale, k_scale):
    numbers = scaled(scale, k_scale)
    assert np.array_equal(numbers.sizes, np.round(np.asarray(PD14.full_sizes) * scale))
    assert np.array_equal(numbers.synapses, np.round(full_synapse_counts() * scale * k_scale))
    assert np.array_equal(numbers.k_ext, np.round(np.asarray(PD14.k_ext) * k_scale))


def test_dc_compensation_keeps_the_mean_input_of_shrunk_in_degrees():
    k = 0.1
    full, numbers = scaled(1.0, 1.0), scaled(1.0, k)
    assert np.allclose(numbers.weights, full.weights / math.sqrt(k))
    assert numbers.weight_ext == pytest.approx(full.weight_ext / math.sqrt(k))
    in_degree = full_synapse_counts() / np.asarray(PD14.full_sizes)[:, None]
    for t in range(8):
        # Mean input (nA) per population at the full-scale rates, summed by hand.
        recurrent = sum(full.weights[t, s] * in_degree[t, s] * PD14.full_mean_rates[s] for s in range(8))
        external = full.weight_ext * PD14.k_ext[t] * PD14.bg_rate
        expected = 1e-3 * PD14.tau_syn * (1 - math.sqrt(k)) * (recurrent + external)
        assert numbers.dc[t] == pytest.approx(expected, rel=1e-12)
        # The compensated network's mean input equals the full network's.
        kept = sum(numbers.weights[t, s] * k * in_degree[t, s] * PD14.full_mean_rates[s] for s in range(8))
        kept += numbers.weight_ext * k * PD14.k_ext[t] * PD14.bg_rate
        assert 1e-3 * PD14.tau_syn * kept + numbers.dc[t] == pytest.approx(
            1e-3 * PD14.tau_syn * (recurrent + external), rel=1e-12
        )


def test_dc_background_carries_the_mean_of_the_poisson_background():
    numbers = scaled(1.0, 1.0, background="dc")
    # L2/3e: 8 Hz x 1600 inputs x 87.8 pA x 0.5 ms = 0.562 nA.
    assert numbers.dc[0] == pytest.approx(1e-3 * 8.0 * 1600 * 0.08781 * 0.5, rel=1e-3)
    net = build_network(TINY, background="dc", seed=1)
    assert not any(p.is_source for p in net.populations)


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"scale": 0.0}, "scale"),
        ({"scale": 1.5}, "scale"),
        ({"scale": 1e-4}, "scale"),
        ({"scale": 0.01, "k_scale": -0.1}, "k_scale"),
        ({"background": "noise"}, "background"),
        ({"seed": -1}, "seed"),
        ({"dt": 0.0}, "dt"),
        ({"source_p_max": 0.0}, "source_p_max"),
    ],
)
def test_bad_builder_arguments_are_refused_naming_them(kwargs, field):
    with pytest.raises(ValidationError, match=field):
        build_network(**{"scale": TINY, **kwargs})


# -- the built network --------------------------------------------------------------------


@pytest.fixture(scope="module")
def small():
    return build_network(scale=0.02, seed=3)


def test_builder_makes_the_eight_populations_at_their_scaled_sizes(small):
    for name, full in zip(POPULATIONS, PD14.full_sizes):
        assert small.size(name) == round(full * 0.02)
    assert small.scheme == "exact"
    assert {p.target for p in small.probes} == set(POPULATIONS)


def test_every_projection_has_its_scaled_synapse_count_and_receptor(small):
    numbers = scaled(0.02, 0.02)
    for t, target in enumerate(POPULATIONS):
        for s, source in enumerate(POPULATIONS):
            name = f"{source}_to_{target}"
            if numbers.synapses[t, s] == 0:
                assert name not in {p.name for p in small.projections}
                continue
            projection = small.projection(name)
            assert isinstance(projection.connector, FixedTotalNumber)
            assert small.connection_list(name).pre.size == numbers.synapses[t, s]
            assert projection.receptor == ("excitatory" if source.endswith("E") else "inhibitory")


def test_in_degrees_are_binomial_around_the_scaled_mean(small):
    # Fixed total number with replacement: each target's in-degree is Binomial(S, 1 / N_post).
    lst = small.connection_list("L23E_to_L23E")
    n_post = small.size("L23E")
    in_degree = np.bincount(lst.post, minlength=n_post)
    mean = lst.pre.size / n_post
    assert in_degree.mean() == pytest.approx(mean)
    assert in_degree.var() == pytest.approx(mean * (1 - 1 / n_post), rel=0.15)


def test_weights_are_normal_with_ten_percent_spread(small):
    numbers = scaled(0.02, 0.02)
    for source, target in (("L23E", "L23E"), ("L4E", "L23E"), ("L4I", "L4E")):
        w = small.connection_list(f"{source}_to_{target}").weight
        mean = abs(numbers.weights[PD14.index(target), PD14.index(source)])
        assert w.min() >= 0.0
        assert w.mean() == pytest.approx(mean, rel=0.01)
        assert w.std() == pytest.approx(0.1 * mean, rel=0.05)


@pytest.mark.parametrize("dt", [0.1, 0.25])
def test_delays_lie_on_the_grid_at_least_one_step_with_the_reference_spread(dt):
    net = build_network(scale=0.02, dt=dt, seed=5)
    for projection in net.projections:
        delay = net.connection_list(projection.name).delay
        steps = delay / dt
        assert np.allclose(steps, np.rint(steps), atol=1e-9) and steps.min() >= 1 - 1e-9
    # Normal 1.5 +- 0.75 ms (excitatory) and 0.75 +- 0.375 ms (inhibitory), redrawn below dt / 2:
    # a normal truncated there, whose mean is mu + sigma pdf(a) / (1 - cdf(a)) for a = (dt / 2 - mu) / sigma.
    for source, mu in (("L23E", 1.5), ("L23I", 0.75)):
        delay = net.connection_list(f"{source}_to_L23E").delay
        sigma = 0.5 * mu
        a = (0.5 * dt - mu) / sigma
        pdf, tail = math.exp(-a * a / 2) / math.sqrt(2 * math.pi), 0.5 * math.erfc(a / math.sqrt(2))
        assert delay.mean() == pytest.approx(mu + sigma * pdf / tail, abs=4 * sigma / math.sqrt(delay.size))
        assert delay.std() == pytest.approx(sigma, rel=0.1)
    net.validate(dt)


def test_background_sources_carry_8_hz_per_external_input_below_the_step_probability_limit():
    net = build_network(scale=0.02, k_scale=0.5, seed=2, source_p_max=0.02)
    numbers = scaled(0.02, 0.5)
    for t, target in enumerate(POPULATIONS):
        source = net.population(f"bg_{target}").cell
        per_neuron = source.size // net.size(target)
        assert source.size == per_neuron * net.size(target)
        assert per_neuron * source.rate == pytest.approx(8.0 * numbers.k_ext[t])
        assert source.probability(0.1) <= 0.02
        assert source.probability(0.1) > 0.02 * (per_neuron - 1) / per_neuron, "fewest sources that fit"
        lst = net.connection_list(f"bg_{target}_to_{target}")
        assert np.all(np.bincount(lst.post) == per_neuron)
        assert np.unique(lst.pre).size == lst.pre.size, "each source feeds one neuron"


def test_same_seed_same_network_other_seed_other_wiring():
    a, b, c = (build_network(scale=TINY, seed=s) for s in (4, 4, 5))
    assert a == b
    assert np.array_equal(a.connection_list("L4E_to_L4E").pre, b.connection_list("L4E_to_L4E").pre)
    assert not np.array_equal(a.connection_list("L4E_to_L4E").pre, c.connection_list("L4E_to_L4E").pre)


def test_model_file_builds_the_documented_network():
    model = read_model(MODEL_FILE)
    assert model.dt == 0.1
    expected = build_network(scale=0.1, k_scale=0.1, dt=0.1, background="poisson", seed=1, source_p_max=0.02)
    assert model.network == expected


def test_spec_bytes_count_the_expanded_synapses(small):
    usage = spec_bytes(small)
    n = sum(small.connection_list(p.name).pre.size for p in small.projections)
    assert usage.synapses == n
    # int64 pre/post and float64 weight/delay in the lists, float64 weight/delay or int64 FromList in the projections.
    assert usage.per_synapse == pytest.approx(48.0, abs=0.5)


# -- runs on torch ------------------------------------------------------------------------


def run_tiny(seed: int, steps_ms: float = 50.0):
    net = build_network(scale=TINY, seed=seed)
    net = net.with_probes(*net.probes, *(Probe(p, "v") for p in POPULATIONS))
    sim = build(net, "torch", dt=0.1, dtype="float64", seed=seed)
    apply_initial_potentials(sim, seed=seed)
    return sim.run(steps_ms)


def test_a_tiny_microcircuit_runs_50_ms_finite_and_reproducibly():
    first, again, other = run_tiny(1), run_tiny(1), run_tiny(2)
    assert all(np.all(np.isfinite(first.traces[(p, "v")])) for p in POPULATIONS)
    total = sum(len(first.spikes[p]) for p in POPULATIONS)
    assert total > 0
    assert first_difference_ms(first, again, POPULATIONS) is None
    assert first_difference_ms(first, other, POPULATIONS) is not None


def test_initial_potentials_follow_the_reference_distribution():
    net = build_network(scale=0.05, seed=1)
    sim = build(net, "torch", dt=0.1, batch_size=2)
    v = apply_initial_potentials(sim, seed=7)
    assert np.array_equal(sim.state_dict()["neurons.v"].numpy(), v.astype(np.float32))
    assert not np.array_equal(v[0], v[1]), "each trial draws its own"
    offset = 0
    for name, mean, std in zip(POPULATIONS, PD14.v0_mean, PD14.v0_std):
        part = v[0, offset : offset + net.size(name)]
        offset += net.size(name)
        assert part.mean() == pytest.approx(mean, abs=4 * std / math.sqrt(part.size))
        assert part.std() == pytest.approx(std, rel=0.3)


# -- statistics ---------------------------------------------------------------------------


def recording_of(trains: list[np.ndarray], dt: float = 0.1) -> Recording:
    trains = [t[t < 100_000] for t in trains]
    neuron = np.concatenate([np.full(t.size, i) for i, t in enumerate(trains)])
    tick = np.concatenate(trains)
    spikes = SpikeTrains.from_arrays(np.zeros(tick.size), neuron, tick)
    return Recording(
        dt=dt, start_tick=0, stop_tick=100_000, batch_size=1, sizes={"a": len(trains)}, spikes={"a": spikes}
    )


def test_rate_counts_silent_neurons_and_cv_is_zero_for_clocks_and_one_for_poisson():
    rng = np.random.default_rng(0)
    clock = np.arange(0, 100_000, 1000)  # 10 Hz at dt = 0.1 ms
    poisson = np.cumsum(rng.geometric(1 / 1000, size=100))
    rec = recording_of([clock, np.zeros(0, dtype=np.int64), poisson[poisson < 100_000]])
    assert rate_hz(rec, "a", 0.0, 10_000.0) == pytest.approx((100 + (poisson < 100_000).sum()) / 3 / 10.0)
    regular = recording_of([clock])
    assert cv_isi(regular, "a", 0.0, 10_000.0) == pytest.approx(0.0, abs=1e-12)
    irregular = recording_of([np.cumsum(rng.geometric(1 / 1000, size=90)) for _ in range(40)])
    assert cv_isi(irregular, "a", 0.0, 10_000.0) == pytest.approx(1.0, abs=0.05)
    assert math.isnan(cv_isi(recording_of([np.array([5, 10])]), "a", 0.0, 10.0))
