"""NIR both ways: delays and two synaptic time constants out, graphs of neuromem, snnTorch and Norse in."""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
import pytest

from neuromem.backends import build
from neuromem.errors import CapabilityError, ValidationError
from neuromem.spec import (
    AllToAll,
    IF_curr_delta,
    IF_curr_exp,
    Network,
    Population,
    Probe,
    Projection,
    SpikeSourceArray,
)

nir = pytest.importorskip("nir")
torch = pytest.importorskip("torch")

from neuromem.export.nir import from_nir, to_nir  # noqa: E402

DT = 0.1
MODEL = Path(__file__).resolve().parents[2] / "models" / "demo_recurrent.toml"


def delayed_network() -> Network:
    """Spike arrays -> IF_curr_exp (tau_syn_E != tau_syn_I, delays 0.1-2 ms) <-> IF_curr_delta."""
    rng = np.random.default_rng(0)
    times = [sorted(rng.choice(np.arange(0, 40.0, 0.1), 12, replace=False).round(1).tolist()) for _ in range(6)]
    cell = IF_curr_exp(
        cm=0.25, tau_m=10.0, tau_syn_E=2.0, tau_syn_I=6.0, tau_refrac=0.0, v_rest=-65.0, v_reset=-65.0, v_thresh=-55.0
    )
    delta = IF_curr_delta(cm=0.5, tau_m=8.0, tau_refrac=0.0, v_rest=-60.0, v_reset=-62.0, v_thresh=-55.0)
    return Network(
        populations=(
            Population("src", SpikeSourceArray.from_lists(times)),
            Population("cells", cell, size=5),
            Population("d", delta, size=3),
        ),
        projections=(
            Projection(
                "ff",
                "src",
                "cells",
                AllToAll(),
                weight=rng.uniform(0.3, 1.2, size=30),
                delay=np.round(rng.uniform(0.1, 2.0, 30), 1),
            ),
            Projection("inh", "d", "cells", AllToAll(), weight=0.5, delay=0.5, receptor="inhibitory"),
            Projection("cd", "cells", "d", AllToAll(), weight=4.0, delay=0.3),
        ),
        probes=(Probe("cells", "spikes"), Probe("d", "spikes")),
    )


def test_delays_become_delay_nodes_and_two_time_constants_two_synapse_nodes() -> None:
    network = delayed_network()
    graph = to_nir(network, DT)
    kinds = {name: type(node).__name__ for name, node in graph.nodes.items()}
    assert kinds["cells_syn_exc"] == kinds["cells_syn_inh"] == "LI" and kinds["cells"] == "LIF"
    np.testing.assert_allclose(graph.nodes["cells_syn_exc"].tau, 0.002)
    np.testing.assert_allclose(graph.nodes["cells_syn_inh"].tau, 0.006)
    assert ("inh_w", "cells_syn_inh") in graph.edges and ("cd_w", "d") in graph.edges
    # 0.5 ms = one loader step + a Delay of 0.4 ms; one Linear per distinct delay of "ff".
    np.testing.assert_allclose(graph.nodes["inh_delay"].delay, 0.0004)
    steps = network.delay_steps("ff", DT)
    delays = sorted(float(node.delay[0]) for name, node in graph.nodes.items() if name.startswith("ff_delay"))
    np.testing.assert_allclose(delays, [(s - 1) * DT / 1000.0 for s in np.unique(steps) if s > 1])


def test_round_trip_through_nir_gives_identical_spikes_under_the_exact_scheme(tmp_path: Path) -> None:
    network = delayed_network()
    path = tmp_path / "net.nir"
    nir.write(str(path), to_nir(network, DT))
    back = from_nir(nir.read(str(path)))  # dt from the graph's metadata
    expected = build(network, "torch", dt=DT, dtype="float64").run(80.0)
    found = build(back, "torch", dt=DT, dtype="float64").run(80.0, inputs={"src": network.population("src").cell})
    for population in ("cells", "d"):
        assert len(expected.spikes[population].pairs()) > 10
        assert found.spikes[population].pairs() == expected.spikes[population].pairs(), population


def test_readme_demo_exports_to_nir_and_reads_back() -> None:
    from neuromem.spec.toml import read_model

    model = read_model(MODEL)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # tau_refrac dropped (approximate=True), named in the warning
        graph = to_nir(model.network, model.dt, freeze=True, approximate=True)
    kinds = [type(node).__name__ for node in graph.nodes.values()]
    assert kinds.count("Delay") == 4 and kinds.count("LI") == 2
    back = from_nir(graph)
    assert {p.name: p.size for p in back.populations} == {"exc": 400, "inh": 100, "drive": 400}
    synapses = sum(back.connection_list(p.name).pre.size for p in back.projections)
    assert synapses == sum(model.network.connection_list(p.name).pre.size for p in model.network.projections)


N_IN, N, T = 8, 5, 600


def _inputs() -> np.ndarray:
    return (np.random.default_rng(3).random((T, N_IN)) < 0.05).astype(np.float32)


def _imported_counts(graph: object, dt: float, integration: str, x: np.ndarray) -> np.ndarray:
    """Spike counts of the imported graph fed the spikes ``x`` (the loaders read a step's input in that step)."""
    network = from_nir(graph, dt=dt, integration=integration)
    tick, neuron = np.nonzero(x)
    keep = tick >= 1  # emitted one step earlier, delivered after neuromem's one-step delay
    (source,) = [p.name for p in network.populations if p.is_source]
    inputs = {source: SpikeSourceArray(size=N_IN, neuron=neuron[keep], times_ms=(tick[keep] - 1) * dt)}
    recording = build(network, "torch", dt=dt, dtype="float64").run(T * dt, inputs=inputs)
    (population,) = [p.name for p in network.populations if not p.is_source]
    return np.bincount(recording.spikes[population].neuron, minlength=N)


def test_snntorch_leaky_graph_imports_with_snntorchs_spike_counts() -> None:
    snn = pytest.importorskip("snntorch")
    from snntorch import utils
    from snntorch.export_nir import export_to_nir

    torch.manual_seed(1)
    linear = torch.nn.Linear(N_IN, N, bias=False)
    with torch.no_grad():
        linear.weight.copy_(torch.rand(N, N_IN) * 0.6)
    # reset_mechanism="zero": NIR's reset to v_reset (snnTorch's default subtracts the threshold instead).
    lif = snn.Leaky(
        beta=torch.full((N,), 0.9), threshold=torch.ones(N), init_hidden=True, output=True, reset_mechanism="zero"
    )
    model = torch.nn.Sequential(linear, lif)
    graph = export_to_nir(model, torch.zeros(1, N_IN), ignore_dims=[0])
    x = _inputs()
    utils.reset(model)
    with torch.no_grad():
        counts = np.sum([model(torch.as_tensor(x[t])[None])[0][0].numpy() for t in range(T)], axis=0)
    # snnTorch writes its graphs for dt = 0.1 ms. Measured: [54, 52, 55, 34, 60] spikes.
    euler = _imported_counts(graph, 0.1, "euler", x)
    assert euler.tolist() == counts.astype(int).tolist() and euler.sum() > 100
    # The exact solution of the same graph (decay exp(-dt/tau), not 1 - dt/tau): within one spike.
    exact = _imported_counts(graph, 0.1, "exact", x)
    assert np.abs(exact - counts).max() <= 1


def test_norse_graph_imports_with_norses_spike_counts() -> None:
    norse = pytest.importorskip("norse.torch")
    torch.manual_seed(2)
    linear = torch.nn.Linear(N_IN, N, bias=False)
    with torch.no_grad():
        linear.weight.copy_(torch.rand(N, N_IN) * 6.0)
    # Norse 1.1 writes tau = dt / tau_mem_inv (and reads tau back as 1 / tau_mem_inv): tau_mem_inv = 0.1
    # at dt = 1 ms writes a 10 ms membrane, which Norse's from_nir runs as such (the reference here).
    cell = norse.LIFBoxCell(norse.LIFBoxParameters(tau_mem_inv=torch.tensor(0.1)))
    graph = norse.to_nir(norse.SequentialState(linear, cell), torch.zeros(1, N_IN), dt=0.001)
    reference = norse.from_nir(graph, dt=0.001)  # the graph as Norse itself runs it
    x = _inputs()
    state, out = None, []
    with torch.no_grad():
        for t in range(T):
            spikes, state = reference(torch.as_tensor(x[t])[None], state)
            out.append(spikes[0].numpy())
    counts = np.sum(out, axis=0)
    euler = _imported_counts(graph, 1.0, "euler", x)
    assert euler.tolist() == counts.astype(int).tolist() and euler.sum() > 100
    # Exact decay exp(-dt/tau) = 0.905 per 1 ms step keeps more charge than Euler's 0.9: a few more
    # spikes, never fewer (measured: 271 against 265).
    exact = _imported_counts(graph, 1.0, "exact", x)
    assert np.all(exact >= counts) and exact.sum() <= 1.05 * counts.sum()


def test_what_nir_import_cannot_express_is_refused_naming_it() -> None:
    graph = to_nir(delayed_network(), DT)
    with pytest.raises(ValidationError, match="integration"):
        from_nir(graph, integration="rk4")
    bare = nir.NIRGraph(nodes=dict(graph.nodes), edges=list(graph.edges), metadata={})
    with pytest.raises(ValidationError, match="give dt in ms"):
        from_nir(bare)
    nodes = {
        "in": nir.Input(input_type={"input": np.array([2])}),
        "th": nir.Threshold(threshold=np.ones(2)),
        "out": nir.Output(output_type={"output": np.array([2])}),
    }
    with pytest.raises(CapabilityError, match="NIR node 'th': feature Threshold cannot be imported"):
        from_nir(nir.NIRGraph(nodes=nodes, edges=[("in", "th"), ("th", "out")]), dt=DT)
    uneven = nir.LIF(
        tau=np.array([0.01, 0.02]), r=np.ones(2), v_leak=np.zeros(2), v_threshold=np.ones(2), v_reset=np.zeros(2)
    )
    nodes = {"in": nodes["in"], "w": nir.Linear(weight=np.eye(2)), "lif": uneven, "out": nodes["out"]}
    with pytest.raises(CapabilityError, match="per-neuron tau"):
        from_nir(nir.NIRGraph(nodes=nodes, edges=[("in", "w"), ("w", "lif"), ("lif", "out")]), dt=DT)


def test_command_line_exports_the_readme_demo_to_nir(tmp_path: Path) -> None:
    from neuromem.cli import main

    out = tmp_path / "nir"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the dropped refractory periods, named in the warnings
        assert main(["export", str(MODEL), "--to", "nir", "--freeze", "--approximate", "--out", str(out)]) == 0
    graph = nir.read(str(out / "demo_recurrent.nir"))
    kinds = [type(node).__name__ for node in graph.nodes.values()]
    assert kinds.count("Delay") == 4 and kinds.count("LI") == 2 and kinds.count("CubaLIF") == 1
    assert sum(p.size for p in from_nir(graph).populations) == 900
