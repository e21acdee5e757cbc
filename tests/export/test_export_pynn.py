"""PyNN export: the exported network on pyNN.nest and pyNN.brian2 against the torch backend (exact scheme).

Each simulator runs in its own process (NEST and Brian2 keep global state), through
the generated standalone ``run.py`` itself, over all scenarios at once.
"""

from __future__ import annotations

import ast
import importlib.util
import json
import math
import subprocess
import sys
import warnings
from pathlib import Path

import numpy as np
import pytest
from scenarios import DT, DURATION, POST_DRIVE_TIMES, PRE_TIMES, SCENARIOS, STDP_DELAY, delay_chain, stdp_rule

from neuromem.backends import build
from neuromem.errors import CapabilityError, ExportError, ValidationError
from neuromem.export import ExportWarning, standalone, to_pynn, write_pynn_script
from neuromem.export.pynn import import_target
from neuromem.spec import (
    STDP,
    CA3PairRule,
    IF_curr_delta,
    IF_curr_exp,
    Izhikevich,
    LIFCurrExp,
    MultiplicativeWeightDependence,
    Network,
    OneToOne,
    Population,
    Probe,
    Projection,
    SpikeSourceArray,
)

DRIVER = """
import importlib.util, sys
spec = importlib.util.spec_from_file_location("run", sys.argv[2])
run = importlib.util.module_from_spec(spec); spec.loader.exec_module(run)
for folder in sys.argv[3:]:
    code = run.main(["--simulator", sys.argv[1], "--data", folder, "--output", folder + "/" + sys.argv[1] + ".npz"])
    assert code == 0, folder
"""


def _installed(simulator: str) -> bool:
    return importlib.util.find_spec("pyNN") is not None and importlib.util.find_spec(simulator) is not None


@pytest.fixture(scope="module")
def exported(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Every scenario written as a standalone script (data only; no simulator needed)."""
    root = tmp_path_factory.mktemp("pynn")
    return {name: write_pynn_script(make(), root / name, DURATION, dt=DT).parent for name, make in SCENARIOS.items()}


def _run_all(simulator: str, folders: dict[str, Path]) -> dict[str, dict[str, np.ndarray]]:
    folders = {n: f for n, f in folders.items() if simulator in json.loads((f / "plan.json").read_text())["targets"]}
    paths = [str(f) for f in folders.values()]
    done = subprocess.run(
        [sys.executable, "-c", DRIVER, simulator, str(next(iter(folders.values())) / "run.py"), *paths],
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    results = {}
    for name, folder in folders.items():
        with np.load(folder / f"{simulator}.npz") as data:
            results[name] = {key: data[key] for key in data.files}
    return results


@pytest.fixture(scope="module")
def nest_results(exported: dict[str, Path]) -> dict[str, dict[str, np.ndarray]]:
    if not _installed("nest"):
        pytest.skip("pyNN and nest-simulator are needed (pip install pyNN nest-simulator)")
    return _run_all("nest", exported)


@pytest.fixture(scope="module")
def brian2_results(exported: dict[str, Path]) -> dict[str, dict[str, np.ndarray]]:
    if not _installed("brian2"):
        pytest.skip("pyNN and brian2 are needed (pip install pyNN brian2)")
    return _run_all("brian2", exported)


def _torch_spikes(name: str) -> tuple[Network, dict[str, set[tuple[int, int]]], dict]:
    network = SCENARIOS[name]()
    recording = build(network, "torch", dt=DT, dtype="float64").run(DURATION)
    return network, {p: recording.spikes[p].pairs() for p in recording.spikes}, recording.weights


def _pairs(network: Network, results: dict[str, np.ndarray], population: str) -> set[tuple[int, int]]:
    index = [p.name for p in network.populations].index(population)
    found = results[f"spikes{index}"]
    return set(zip(found[0].tolist(), found[1].tolist(), strict=True))


SPIKE_SCENARIOS = [
    "step_current",
    "float_edges",
    "delay_chain",
    "all_to_all_inhibition",
    "poisson_net",
    "stdp_pairing",
    "current_sources",
    "delta_net",
    "cond_net",
    "izhikevich_net",
    "mixed_net",
]


@pytest.mark.pynn
@pytest.mark.parametrize("name", SPIKE_SCENARIOS)
def test_nest_gives_the_same_spike_ticks_as_torch(name: str, nest_results: dict) -> None:
    network, expected, _ = _torch_spikes(name)
    assert sum(len(s) for s in expected.values()) >= 3  # every scenario really spikes
    for population, pairs in expected.items():
        assert _pairs(network, nest_results[name], population) == pairs, population


@pytest.mark.pynn
@pytest.mark.parametrize("name", SPIKE_SCENARIOS)
def test_brian2_gives_the_same_spike_ticks_as_torch(name: str, brian2_results: dict) -> None:
    network, expected, _ = _torch_spikes(name)
    for population, pairs in expected.items():
        assert _pairs(network, brian2_results[name], population) == pairs, population


@pytest.mark.pynn
@pytest.mark.parametrize("simulator", ["nest", "brian2"])
def test_membrane_trace_matches_torch_on_every_tick(simulator: str, request: pytest.FixtureRequest) -> None:
    results = request.getfixturevalue(f"{simulator}_results")["delay_chain"]
    network = SCENARIOS["delay_chain"]()
    recording = build(network, "torch", dt=DT, dtype="float64").run(DURATION)
    expected = recording.traces[("a", "v")][0, :, 0]
    found = results["v1"][:, 0]
    assert found.shape == expected.shape == (600,)
    # Same closed-form step in float64 everywhere: agreement to rounding (measured 1e-12 mV).
    np.testing.assert_allclose(found, expected, rtol=0, atol=1e-9)
    assert expected.min() == pytest.approx(-70.0)  # the trace includes resets


#: Largest |V| difference (mV) against torch: closed forms and Brian2's rk4 agree to rounding;
#: NEST integrates IF_cond_exp with an adaptive RKF45 (measured 5e-5 mV).
TRACE_TOLERANCE = {
    ("nest", "current_sources"): 1e-9,
    ("brian2", "current_sources"): 1e-9,
    ("nest", "delta_net"): 1e-9,
    ("brian2", "delta_net"): 1e-9,
    ("nest", "cond_net"): 1e-3,
    ("brian2", "cond_net"): 1e-9,
    ("nest", "izhikevich_net"): 1e-8,
    ("brian2", "izhikevich_net"): 1e-8,
}


@pytest.mark.pynn
@pytest.mark.parametrize(("simulator", "name"), list(TRACE_TOLERANCE))
def test_cell_type_and_current_source_traces_match_torch(
    simulator: str, name: str, request: pytest.FixtureRequest
) -> None:
    results = request.getfixturevalue(f"{simulator}_results")[name]
    network = SCENARIOS[name]()
    recording = build(network, "torch", dt=DT, dtype="float64").run(DURATION)
    index = [p.name for p in network.populations].index("cells")
    expected = recording.traces[("cells", "v")][0]
    found = results[f"v{index}"]
    assert found.shape == expected.shape
    np.testing.assert_allclose(found, expected, rtol=0, atol=TRACE_TOLERANCE[(simulator, name)])


def test_exports_refuse_what_a_target_cannot_run_naming_cell_type_and_target(tmp_path: Path) -> None:
    refractory = Network(populations=(Population("d", IF_curr_delta(tau_refrac=1.0), size=2),))
    with pytest.raises(CapabilityError, match=r"cell:IF_curr_delta with tau_refrac = 1 ms .*'brian2'"):
        write_pynn_script(refractory, tmp_path / "a", 10.0, dt=0.1, targets=("brian2",))
    with pytest.warns(ExportWarning, match="refractoriness"):
        write_pynn_script(refractory, tmp_path / "a", 10.0, dt=0.1, targets=("brian2",), approximate=True)
    izhikevich = Network(populations=(Population("i", Izhikevich(), size=2),), scheme="exact")
    with pytest.raises(
        CapabilityError, match=r"cell:Izhikevich cannot be expressed on target 'spiNNaker'.*voltage steps"
    ):
        write_pynn_script(izhikevich, tmp_path / "b", 10.0, dt=1.0, targets=("spiNNaker",), approximate=True)
    spinnaker_izhikevich = Network(populations=(Population("i", Izhikevich(), size=2),), scheme="spinnaker")
    with pytest.raises(CapabilityError, match=r"Izhikevich has no update under scheme 'spinnaker'"):
        write_pynn_script(spinnaker_izhikevich, tmp_path / "c", 10.0, dt=1.0, targets=("nest",), approximate=True)
    probe = Network(populations=(Population("c", IF_curr_exp(), size=1),), probes=(Probe("c", "i_exc"),))
    with pytest.raises(CapabilityError, match=r"probe:i_exc .*'nest'; PyNN's IF_curr_exp records spikes and v only"):
        write_pynn_script(probe, tmp_path / "d", 10.0, dt=0.1, targets=("nest",))


def test_plan_resolves_weights_delays_and_initial_values_per_target(tmp_path: Path) -> None:
    folder = write_pynn_script(SCENARIOS["mixed_net"](), tmp_path / "out", DURATION, dt=DT).parent
    plan, _ = standalone.load_plan(folder)
    by_label = {p["label"]: p for p in plan["projections"]}
    # Current- and voltage-based inhibition is negative on NEST and pyNN.brian2; conductances stay positive.
    assert by_label["cond_exp"]["weight_factor"] == {"nest": -1.0, "brian2": -1.0}
    assert by_label["izh_delta"]["weight_factor"] == {"nest": -1.0, "brian2": -1.0}
    assert by_label["exp_cond"]["weight_factor"] == {"nest": 1.0, "brian2": 1.0}
    # Voltage steps reach V before the threshold on pyNN.brian2 through one step less of delay.
    assert by_label["delta_izh"]["delay_offset_steps"] == {"nest": 0, "brian2": -1}
    izh = next(p for p in plan["populations"] if p["label"] == "izh")
    assert izh["celltype"] == "Izhikevich" and izh["parameters"]["nest"]["d"] == 2.0
    # NEST's warm-up step is absorbed: one Euler step from the given state lands on (v_init, u_init).
    v0, u0 = izh["initial"]["nest"]["v"], izh["initial"]["nest"]["u"]
    v1 = v0 + DT * (0.04 * v0 * v0 + 5 * v0 + 140 - u0)
    u1 = u0 + DT * 0.02 * (0.2 * v0 - u0)
    assert (v1, u1) == (pytest.approx(-70.0, abs=1e-12), pytest.approx(-14.0, abs=1e-12))
    assert izh["initial"]["brian2"] == {"v": -70.0, "u": -14.0}
    assert plan["current_sources"][0]["parameters"]["nest"] == {"times": [10.1, 25.1], "amplitudes": [0.006, 0.0]}


def test_inhibition_scenario_depends_on_the_inhibitory_sign() -> None:
    """The all-to-all scenario can tell a wrong inhibitory sign: without inhibition it spikes otherwise."""
    network = SCENARIOS["all_to_all_inhibition"]()
    silenced = Network(populations=network.populations, projections=network.projections[:1], probes=network.probes)
    with_inhibition = build(network, "torch", dt=DT, dtype="float64").run(DURATION).spikes["cells"]
    without = build(silenced, "torch", dt=DT, dtype="float64").run(DURATION).spikes["cells"]
    assert len(without) > len(with_inhibition) + 5


def test_current_probes_are_refused_on_pynn_targets(tmp_path: Path) -> None:
    network = delay_chain().with_probes(Probe("a", "i_exc"))
    with pytest.raises(CapabilityError, match="probe:i_exc.*'nest'"):
        write_pynn_script(network, tmp_path / "o", DURATION, dt=DT, targets=("nest",))


def _sequential_stdp(pre_arrivals: list[float], post: list[float], rule: STDP, w: float) -> float:
    """All-to-all trace STDP replayed event by event (ms, nA); equal times change nothing."""
    events = sorted([(t, 1) for t in pre_arrivals] + [(t, 0) for t in post])
    x = y = last = 0.0
    multiplicative = isinstance(rule.weight, MultiplicativeWeightDependence)
    for time, is_pre in events:
        x *= math.exp(-(time - last) / rule.timing.tau_plus)
        y *= math.exp(-(time - last) / rule.timing.tau_minus)
        last = time
        if is_pre:
            w -= rule.timing.A_minus * (w - rule.w_min if multiplicative else rule.w_max) * y
            x += 1.0
        else:
            w += rule.timing.A_plus * (rule.w_max - w if multiplicative else rule.w_max) * x
            y += 1.0
    return w


@pytest.mark.pynn
def test_multiplicative_stdp_on_nest_follows_its_dendritic_convention(nest_results: dict) -> None:
    network = SCENARIOS["stdp_multiplicative"]()
    rule = network.projection("plastic").plasticity
    recording = build(network, "torch", dt=DT, dtype="float64").run(DURATION)
    torch_post = recording.spike_times("post")[0].tolist()
    arrivals = [t + STDP_DELAY for t in PRE_TIMES]
    torch_weight = float(recording.weights["plastic"][1].ravel()[0])
    assert torch_weight == pytest.approx(_sequential_stdp(arrivals, torch_post, rule, 0.5), abs=1e-12)
    # NEST's weights differ (dendritic convention), so the plastic synapse moves its post spikes:
    # 27.8 and 32.3 ms instead of 27.7 and 32.2 ms. Replay NEST's own post spikes, 2 x delay later.
    found = nest_results["stdp_multiplicative"]
    nest_post = (found["spikes2"][1] * DT).tolist()
    assert np.allclose(nest_post, [8.0, 12.4, 27.8, 32.3])
    expected = _sequential_stdp([t - STDP_DELAY for t in PRE_TIMES], nest_post, rule, 0.5)
    assert float(found["weight1"][0]) == pytest.approx(expected, abs=1e-9)
    assert torch_weight - float(found["weight1"][0]) == pytest.approx(0.07504, abs=1e-5)


def test_multiplicative_stdp_is_refused_on_brian2(tmp_path: Path) -> None:
    with pytest.raises(CapabilityError, match="MultiplicativeWeightDependence.*'brian2'"):
        write_pynn_script(SCENARIOS["stdp_multiplicative"](), tmp_path / "o", DURATION, dt=DT, targets=("brian2",))


def _pairing_weight(shift_ms: float) -> float:
    """Closed-form all-to-all additive STDP weight of the pairing protocol.

    neuromem pairs the pre *arrival* (emission + delay) with the post spike; a
    dendritic-delay simulator sees every interval ``shift_ms`` = 2 x delay later.
    """
    rule = stdp_rule()
    network = SCENARIOS["stdp_pairing"]()
    recording = build(network, "torch", dt=DT, dtype="float64").run(DURATION)
    post = recording.spike_times("post")[0]
    assert post.size == len(POST_DRIVE_TIMES)
    weight = 0.5
    for emission in PRE_TIMES:
        for t_post in post:
            interval = t_post - (emission + STDP_DELAY) + shift_ms
            if interval > 0:
                weight += rule.timing.A_plus * rule.w_max * math.exp(-interval / rule.timing.tau_plus)
            elif interval < 0:
                weight -= rule.timing.A_minus * rule.w_max * math.exp(interval / rule.timing.tau_minus)
    return weight


@pytest.mark.pynn
def test_stdp_pairing_weights_follow_each_simulators_delay_convention(nest_results: dict, brian2_results: dict) -> None:
    _, _, weights = _torch_spikes("stdp_pairing")
    torch_weight = float(weights["plastic"][1].ravel()[0])
    neuromem = _pairing_weight(0.0)
    dendritic = _pairing_weight(2 * STDP_DELAY)
    assert torch_weight == pytest.approx(neuromem, abs=1e-12)
    # pyNN.brian2 takes delays as axonal, like neuromem: same weight.
    assert float(brian2_results["stdp_pairing"]["weight1"][0]) == pytest.approx(neuromem, abs=1e-9)
    # NEST takes them as dendritic: every pair 2 ms later -> 0.49327 instead of 0.51532.
    assert float(nest_results["stdp_pairing"]["weight1"][0]) == pytest.approx(dendritic, abs=1e-9)
    assert neuromem - dendritic == pytest.approx(0.02205, abs=1e-5)


@pytest.mark.pynn
def test_plastic_recurrent_network_is_exact_on_brian2_spikes_and_weights(brian2_results: dict) -> None:
    network, expected, weights = _torch_spikes("plastic_recurrent")
    results = brian2_results["plastic_recurrent"]
    assert sum(len(s) for s in expected.values()) > 100
    for population, pairs in expected.items():
        assert _pairs(network, results, population) == pairs, population
    j = [p.name for p in network.projections].index("exc_exc")
    torch_weights = np.asarray(weights["exc_exc"][1]).reshape(-1, results[f"weight{j}"].size)[-1]
    assert np.abs(torch_weights - 0.5).max() > 0.02  # STDP really moved the weights
    np.testing.assert_allclose(results[f"weight{j}"], torch_weights, rtol=0, atol=1e-12)


@pytest.mark.pynn
def test_plastic_recurrent_network_on_nest_agrees_until_stdp_conventions_differ(nest_results: dict) -> None:
    # NEST's stdp_synapse (dendritic delay, weight delivered after its depression) is warned about
    # at export; the spikes are torch's until the first pair these change (measured: tick 76).
    network, expected, _ = _torch_spikes("plastic_recurrent")
    compared = 0
    for population, pairs in expected.items():
        early = {(n, t) for n, t in pairs if t < 70}
        found = {(n, t) for n, t in _pairs(network, nest_results["plastic_recurrent"], population) if t < 70}
        assert found == early, population
        compared += len(early)
    assert compared > 20


def test_stdp_export_to_nest_warns_naming_feature_target_and_both_differences(tmp_path: Path) -> None:
    with pytest.warns(ExportWarning) as caught:
        write_pynn_script(SCENARIOS["plastic_recurrent"](), tmp_path / "n", DURATION, dt=DT, targets=("nest",))
    (message,) = [str(w.message) for w in caught if "plasticity:STDP" in str(w.message)]
    assert "Projection 'exc_exc'" in message and "'nest'" in message
    assert "2 x delay = 2 ms" in message and "after its own depression" in message
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # pyNN.brian2 runs STDP exactly: no warning at all
        write_pynn_script(SCENARIOS["plastic_recurrent"](), tmp_path / "b", DURATION, dt=DT, targets=("brian2",))


@pytest.mark.pynn
def test_to_pynn_returns_a_recording_in_neuromem_ticks() -> None:
    if not _installed("nest"):
        pytest.skip("pyNN and nest-simulator are needed")
    code = (
        "import json, sys; sys.path.insert(0, sys.argv[1]); from scenarios import delay_chain, DT;"
        "from neuromem.export import to_pynn; r = to_pynn(delay_chain(), 'nest', duration=60.0, dt=DT);"
        "print(json.dumps({p: sorted(r.spikes[p].pairs()) for p in r.spikes}))"
    )
    done = subprocess.run(
        [sys.executable, "-c", code, str(Path(__file__).parent)], capture_output=True, text=True, timeout=300
    )
    assert done.returncode == 0, done.stderr[-2000:]
    found = json.loads(done.stdout.strip().splitlines()[-1])
    _, expected, _ = _torch_spikes("delay_chain")
    assert {p: {tuple(x) for x in v} for p, v in found.items()} == expected
    assert expected["a"] == {(0, 22), (0, 222), (0, 435)}


def test_generated_script_is_the_runner_verbatim_and_imports_nothing_of_neuromem(tmp_path: Path) -> None:
    script = write_pynn_script(delay_chain(), tmp_path / "out", DURATION, dt=DT)
    text = script.read_text()
    assert text == Path(standalone.__file__).read_text()
    modules = set()
    for node in ast.walk(ast.parse(text)):
        if isinstance(node, ast.Import):
            modules.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            modules.add((node.module or "").split(".")[0])
    assert "neuromem" not in modules
    assert modules <= {
        "__future__",
        "argparse",
        "importlib",
        "json",
        "os",
        "sys",
        "tempfile",
        "zipfile",
        "pathlib",
        "numpy",
        "pyNN",
        "brian2",
    }
    plan = json.loads((script.parent / "plan.json").read_text())
    assert [p["label"] for p in plan["populations"]] == ["src", "a", "b", "c"]
    assert sorted(p.name for p in script.parent.iterdir()) == [
        ".neuromem-manifest.json",
        "arrays.npz",
        "plan.json",
        "run.py",
    ]


def test_connection_lists_are_written_in_connection_list_order(tmp_path: Path) -> None:
    network = SCENARIOS["poisson_net"]()
    folder = write_pynn_script(network, tmp_path / "out", DURATION, dt=DT).parent
    plan, arrays = standalone.load_plan(folder)
    table = arrays[plan["projections"][1]["connections"]]
    lists = network.connection_list("recurrent")
    np.testing.assert_array_equal(table[0], lists.pre)
    np.testing.assert_array_equal(table[1], lists.post)
    np.testing.assert_allclose(table[3], lists.delay)


def test_unwritable_folder_gives_export_error_and_writes_nothing(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    with pytest.raises(ExportError, match="cannot export to .*file/out: .*file is not a folder"):
        write_pynn_script(delay_chain(), blocker / "out", DURATION, dt=DT)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["file"]


def test_folder_with_foreign_files_is_not_overwritten(tmp_path: Path) -> None:
    (tmp_path / "keep.txt").write_text("mine")
    with pytest.raises(ExportError, match="not empty"):
        write_pynn_script(delay_chain(), tmp_path, DURATION, dt=DT)
    assert (tmp_path / "keep.txt").read_text() == "mine"


def test_rewriting_an_export_needs_overwrite_and_replaces_only_its_own_files(tmp_path: Path) -> None:
    write_pynn_script(delay_chain(), tmp_path / "out", DURATION, dt=DT)
    (tmp_path / "out" / "spikes.npz").write_bytes(b"results of run.py")
    with pytest.raises(ExportError, match=r"not empty .*pass --overwrite \(overwrite=True\)"):
        write_pynn_script(SCENARIOS["step_current"](), tmp_path / "out", DURATION, dt=DT)
    assert json.loads((tmp_path / "out" / "plan.json").read_text())["network"] == "delay_chain"
    write_pynn_script(SCENARIOS["step_current"](), tmp_path / "out", DURATION, dt=DT, overwrite=True)
    plan = json.loads((tmp_path / "out" / "plan.json").read_text())
    assert plan["network"] == "step_current"
    assert (tmp_path / "out" / "spikes.npz").read_bytes() == b"results of run.py"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out"]


def _spinnaker_scheme_network() -> Network:
    return Network(
        populations=(Population("src", SpikeSourceArray.from_lists([[1.0]])), Population("c", LIFCurrExp(), size=1)),
        projections=(Projection("p", "src", "c", OneToOne(), weight=1.0, delay=1.0),),
        scheme="spinnaker",
    )


def test_spinnaker_scheme_is_refused_on_nest_naming_feature_and_target(tmp_path: Path) -> None:
    with pytest.raises(CapabilityError, match=r"scheme:spinnaker.*'nest'"):
        write_pynn_script(_spinnaker_scheme_network(), tmp_path / "o", 10.0, dt=1.0, targets=("nest",))
    with pytest.warns(ExportWarning, match="scheme:spinnaker"):
        write_pynn_script(
            _spinnaker_scheme_network(), tmp_path / "o", 10.0, dt=1.0, targets=("nest",), approximate=True
        )
    # Without targets, only the simulator that integrates this scheme is written.
    write_pynn_script(_spinnaker_scheme_network(), tmp_path / "p", 10.0, dt=1.0)
    assert list(json.loads((tmp_path / "p" / "plan.json").read_text())["targets"]) == ["spiNNaker"]


def test_ca3_rule_is_refused_or_exported_as_its_published_stdp(tmp_path: Path) -> None:
    published = stdp_rule()
    network = Network(
        populations=(Population("a", LIFCurrExp(), size=2),),
        projections=(
            Projection("rec", "a", "a", OneToOne(), weight=1.0, delay=1.0, plasticity=CA3PairRule(published=published)),
        ),
        scheme="spinnaker",
    )
    with pytest.raises(CapabilityError, match="CA3PairRule.*spiNNaker"):
        write_pynn_script(network, tmp_path / "o", 10.0, dt=1.0, targets=("spiNNaker",))
    with pytest.warns(ExportWarning, match="published STDP"):
        write_pynn_script(network, tmp_path / "o", 10.0, dt=1.0, targets=("spiNNaker",), approximate=True)
    rule = json.loads((tmp_path / "o" / "plan.json").read_text())["projections"][0]["plasticity"]
    assert rule["timing_parameters"]["tau_plus"] == published.timing.tau_plus


def test_invalid_network_is_refused_before_anything_is_written(tmp_path: Path) -> None:
    with pytest.raises(ValidationError, match="below one time step"):
        write_pynn_script(delay_chain(), tmp_path / "out", DURATION, dt=1.0)
    assert not (tmp_path / "out").exists()


def test_missing_simulator_names_the_package_to_install(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(name: str) -> None:
        raise ImportError(f"No module named {name!r}")

    monkeypatch.setattr("neuromem.export.pynn.importlib.import_module", refuse)
    with pytest.raises(ExportError, match="install nest-simulator"):
        import_target("nest")
    with pytest.raises(CapabilityError, match="unknown PyNN target"):
        to_pynn(delay_chain(), "neuron", duration=10.0)
