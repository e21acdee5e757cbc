"""Every cell type on every backend: torch against Brian2, snnTorch's Leaky, mixed networks, refusals.

* ``IF_curr_delta`` is snnTorch's ``Leaky`` (reset to zero): spike for spike
  on the same input.
* For each cell type and scheme, a random network with excitation,
  inhibition, per-synapse delays and a current source gives identical spike
  ticks on torch (float64) and Brian2, voltages to rounding.
* A mixed network (all four types, STDP between types, current sources) does
  too, weights included.
* An inhibitory input lands at its arrival tick with its size, for every type.
* A cell type without an update under the network's scheme is refused by
  both backends, naming cell type and scheme.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from cell_profiles import PROFILES, CellProfile, cases

from neuromem.backends import build
from neuromem.errors import CapabilityError
from neuromem.spec import (
    STDP,
    AdditiveWeightDependence,
    AllToAll,
    DCSource,
    FixedProbability,
    IF_cond_exp,
    IF_curr_delta,
    IF_curr_exp,
    Izhikevich,
    Network,
    OneToOne,
    Population,
    Probe,
    Projection,
    SpikePairRule,
    SpikeSourceArray,
    StepCurrentSource,
)

DT = 0.1


def test_if_curr_delta_is_snntorch_leaky_with_reset_to_zero_spike_for_spike():
    snn = pytest.importorskip("snntorch")
    rng = np.random.default_rng(5)
    n_in, n_out, steps, tau_m, threshold = 40, 25, 600, 8.0, 1.0
    weights = rng.uniform(0.0, 0.35, (n_in, n_out))
    times = [np.unique(rng.integers(0, steps - 1, 40)).astype(float) * DT for _ in range(n_in)]
    cell = IF_curr_delta(tau_m=tau_m, v_rest=0.0, v_reset=0.0, v_thresh=threshold, tau_refrac=0.0)
    net = Network(
        populations=(Population("inp", SpikeSourceArray.from_lists(times)), Population("leaky", cell, size=n_out)),
        projections=(Projection("w", "inp", "leaky", AllToAll(), weight=weights.ravel(), delay=DT),),
        probes=(Probe("leaky"), Probe("inp")),
    )
    rec = build(net, "torch", dt=DT, dtype="float64").run(steps * DT)
    # The same input for snnTorch: x[t] = sum of the weights of the spikes arriving at t (one step of delay).
    spikes_in = np.zeros((steps, n_in))
    source = rec.spikes["inp"]
    for neuron, tick in zip(source.neuron, source.tick):
        if tick + 1 < steps:
            spikes_in[tick + 1, neuron] = 1.0
    x = torch.as_tensor(spikes_in @ weights)
    leaky = snn.Leaky(
        beta=torch.tensor(math.exp(-DT / tau_m), dtype=torch.float64), threshold=threshold, reset_mechanism="zero"
    )
    mem = torch.zeros(n_out, dtype=torch.float64)
    out = []
    for t in range(steps):
        spk, mem = leaky(x[t], mem)
        out.append(spk)
    theirs = {(int(i), int(t)) for t, i in zip(*np.nonzero(torch.stack(out).numpy()))}
    ours = rec.spikes["leaky"].pairs()
    assert len(ours) > 200
    assert ours == theirs


def _random_network(profile: CellProfile, scheme: str) -> Network:
    rng = np.random.default_rng(7)
    times = [np.unique(np.round(rng.uniform(0.0, 50.0, 8), 1)).tolist() for _ in range(20)]
    scale = profile.strong / 15.0
    drive = FixedProbability(0.3, seed=3)
    n_drive = drive.pairs(20, 30, False)[0].size
    recurrent = FixedProbability(0.15, allow_self=False, seed=4)
    n_rec = recurrent.pairs(30, 30, True)[0].size
    excitation = FixedProbability(0.1, allow_self=False, seed=5)
    n_exc = excitation.pairs(30, 30, True)[0].size
    bias = 0.02 if profile.name == "Izhikevich" else 0.2
    return Network(
        populations=(Population("stim", SpikeSourceArray.from_lists(times)), Population("a", profile.make(), size=30)),
        projections=(
            Projection(
                "in",
                "stim",
                "a",
                drive,
                weight=rng.uniform(0.3, 1.0, n_drive) * scale,
                delay=rng.integers(1, 4, n_drive) * DT,
            ),
            Projection("exc", "a", "a", excitation, weight=rng.uniform(0.1, 0.4, n_exc) * scale, delay=0.5),
            Projection(
                "inh",
                "a",
                "a",
                recurrent,
                weight=rng.uniform(0.2, 1.0, n_rec) * scale,
                delay=rng.integers(1, 6, n_rec) * DT,
                receptor="inhibitory",
            ),
        ),
        probes=(Probe("a"), Probe("a", "v")),
        current_sources=(DCSource("bias", "a", amplitude=bias, start=10.0, stop=30.0, neurons=[0, 1, 2, 3]),),
        scheme=scheme,
    )


@pytest.mark.parametrize(("profile", "scheme"), cases())
def test_random_network_of_each_cell_type_spikes_identically_on_torch_and_brian2(
    brian2_config, reference, profile, scheme
):
    net = _random_network(profile, scheme)
    torch_sim, brian_sim = reference.build(net, DT), brian2_config.build(net, DT)
    for duration in (25.0, 35.0):  # two runs: state and current sources carry over
        ours, theirs = torch_sim.run(duration), brian_sim.run(duration)
        assert ours.spikes["a"].pairs() == theirs.spikes["a"].pairs()
        tolerance = 1e-6 if (profile.name, scheme) == ("Izhikevich", "exact") else 1e-9
        np.testing.assert_allclose(theirs.traces[("a", "v")], ours.traces[("a", "v")], rtol=0, atol=tolerance)
    assert len(torch_sim.run(0.0).spikes["a"]) == 0
    assert len(ours.spikes["a"]) >= 10


def mixed_network(plastic: bool = True) -> Network:
    """All four cell types, STDP between types, inhibition, current sources (exact scheme)."""
    rng = np.random.default_rng(11)
    times = [np.unique(np.round(rng.uniform(0.0, 60.0, 10), 1)).tolist() for _ in range(16)]
    rule = STDP(
        SpikePairRule(tau_plus=10.0, tau_minus=12.0, A_plus=0.05, A_minus=0.06),
        AdditiveWeightDependence(w_min=0.0, w_max=0.4),
    )
    cells = {
        "exp": IF_curr_exp(cm=0.25, tau_m=10.0, tau_syn_E=2.0, tau_syn_I=4.0, tau_refrac=1.0, v_thresh=-58.0),
        "delta": IF_curr_delta(cm=0.25, tau_m=10.0, tau_refrac=1.0, v_thresh=-58.0),
        "cond": IF_cond_exp(
            cm=0.25, tau_m=10.0, tau_syn_E=2.0, tau_syn_I=4.0, tau_refrac=1.0, v_thresh=-58.0, e_rev_I=-80.0
        ),
        "izh": Izhikevich(a=0.02, b=0.2, c=-65.0, d=8.0),
    }
    scale = {"exp": 1.5, "delta": 3.0, "cond": 0.04, "izh": 10.0}

    def wire(name: str, pre: str, post: str, p: float, seed: int, **extra: object) -> Projection:
        connector = FixedProbability(p, allow_self=False, seed=seed)
        n = connector.pairs(sizes[pre], sizes[post], pre == post)[0].size
        weight = rng.uniform(0.3, 1.0, n) * scale[post] * float(extra.pop("gain", 1.0))  # type: ignore[arg-type]
        delay = extra.pop("delay", rng.integers(1, 5, n) * DT)
        return Projection(name, pre, post, connector, weight=weight, delay=delay, **extra)  # type: ignore[arg-type]

    sizes = {"stim": 16, "exp": 20, "delta": 15, "cond": 15, "izh": 12}
    plasticity = {"plasticity": rule, "delay": 0.3} if plastic else {}
    return Network(
        populations=(
            Population("stim", SpikeSourceArray.from_lists(times)),
            *(Population(name, cell, size=sizes[name]) for name, cell in cells.items()),
        ),
        projections=(
            wire("stim_exp", "stim", "exp", 0.4, 1, gain=1.5),
            wire("stim_delta", "stim", "delta", 0.4, 2),
            wire("stim_izh", "stim", "izh", 0.4, 3),
            wire("exp_cond", "exp", "cond", 0.3, 4, gain=1.5),
            wire("delta_exp", "delta", "exp", 0.3, 5, gain=0.5, **plasticity),
            wire("cond_izh", "cond", "izh", 0.3, 6),
            wire("izh_delta", "izh", "delta", 0.3, 7, gain=0.5, receptor="inhibitory"),
            wire("exp_exp", "exp", "exp", 0.1, 8, gain=0.6, receptor="inhibitory"),
        ),
        probes=(
            *(Probe(name) for name in cells),
            Probe("cond", "gsyn_exc"),
            Probe("izh", "u"),
            Probe("delta_exp", "weight"),
        ),
        current_sources=(
            DCSource("bias", "cond", amplitude=0.1, start=5.0, stop=40.0),
            StepCurrentSource("ramp", "izh", times=[10.0, 30.0], amplitudes=[0.004, 0.0], neurons=[0, 1, 2]),
        ),
        scheme="exact",
    )


def test_mixed_network_with_plasticity_between_cell_types_is_identical_on_torch_and_brian2(brian2_config, reference):
    net = mixed_network()
    ours, theirs = reference.run(net, 70.0, DT), brian2_config.run(net, 70.0, DT)
    for name in ("exp", "delta", "cond", "izh"):
        assert ours.spikes[name].pairs() == theirs.spikes[name].pairs(), name
        assert len(ours.spikes[name]) >= 5, name
    np.testing.assert_allclose(theirs.traces[("cond", "gsyn_exc")], ours.traces[("cond", "gsyn_exc")], atol=1e-12)
    np.testing.assert_allclose(theirs.traces[("izh", "u")], ours.traces[("izh", "u")], atol=1e-8)
    w_ours, w_theirs = ours.weights["delta_exp"][1], theirs.weights["delta_exp"][1]
    np.testing.assert_allclose(w_theirs, w_ours, rtol=0, atol=1e-12)
    assert not np.allclose(w_ours[0, 0], net.connection_list("delta_exp").weight)


@pytest.mark.parametrize(("profile", "scheme"), cases())
def test_inhibitory_input_lands_at_its_arrival_tick_with_its_size(config, profile, scheme):
    w = profile.strong / 4.0
    net = Network(
        populations=(
            Population("stim", SpikeSourceArray.from_lists([[1.0]])),
            Population("cell", profile.make(), size=1),
        ),
        projections=(Projection("inh", "stim", "cell", OneToOne(), weight=w, delay=1.0, receptor="inhibitory"),),
        probes=(Probe("cell", "v"), *(Probe("cell", v) for v in profile.make().recordables if v.endswith("inh"))),
        scheme=scheme,
    )
    rec = config.run(net, 4.0, DT)
    arrival = 20
    v = rec.traces[("cell", "v")][0, :, 0]
    rest = v[0]
    assert np.all(v[:arrival] == rest)
    if profile.name in ("IF_curr_delta", "Izhikevich"):
        # A voltage step within the arrival step, from rest.
        assert v[arrival] == pytest.approx(rest - w, abs=1e3 * config.eps * 70.0)
        return
    variable = "i_inh" if profile.name == "IF_curr_exp" else "gsyn_inh"
    trace = rec.traces[("cell", variable)][0, :, 0]
    tau = profile.make().tau_syn_I
    k = tau / DT * (1.0 - math.exp(-DT / tau))
    expected = w if scheme == "exact" else w * k * math.exp(-DT / tau)
    assert np.all(trace[:arrival] == 0.0)
    assert trace[arrival] == pytest.approx(expected, rel=100 * config.eps)
    # It moves V down from the step after arrival ("exact") or within it ("spinnaker").
    moved = arrival + (1 if scheme == "exact" else 0)
    assert v[moved - 1] == rest and v[moved] < rest


@pytest.mark.parametrize("backend", ["torch", pytest.param("brian2", marks=pytest.mark.brian2)])
def test_a_cell_type_without_an_update_under_the_scheme_is_refused_naming_both(backend):
    if backend == "brian2":
        pytest.importorskip("brian2")
    net = Network(populations=(Population("izh", Izhikevich(), size=2),), scheme="spinnaker")
    with pytest.raises(CapabilityError, match=r"Population 'izh'.*Izhikevich.*scheme 'spinnaker'"):
        build(net, backend, dt=1.0)


def test_profiles_cover_every_registered_cell_type():
    from neuromem.cells.registry import CELL_MODELS

    assert set(PROFILES) == set(CELL_MODELS)
    for name, profile in PROFILES.items():
        assert set(profile.schemes) == set(CELL_MODELS[name].schemes)
