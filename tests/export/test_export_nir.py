"""NIR export: parameters of the graph, and the graph loaded in Norse and snnTorch against torch (exact)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from neuromem.backends import build
from neuromem.errors import CapabilityError
from neuromem.spec import (
    STDP,
    AdditiveWeightDependence,
    AllToAll,
    LIFCurrExp,
    Network,
    Population,
    Probe,
    Projection,
    SpikePairRule,
    SpikeSourceArray,
)

nir = pytest.importorskip("nir")
import torch  # noqa: E402 - a dependency of neuromem: never skipped

DT = 0.1
STEPS = 500


def feed_forward(plastic: bool = False) -> Network:
    rng = np.random.default_rng(0)
    times = [sorted(rng.choice(np.arange(0, 40.0, 0.1), 12, replace=False).round(1).tolist()) for _ in range(3)]
    cell = LIFCurrExp(
        cm=0.25, tau_m=10.0, tau_syn_E=2.0, tau_syn_I=2.0, tau_refrac=0.0, v_rest=-65.0, v_reset=-65.0, v_thresh=-55.0
    )
    rule = STDP(SpikePairRule(), AdditiveWeightDependence(w_max=3.0)) if plastic else None
    return Network(
        populations=(Population("src", SpikeSourceArray.from_lists(times)), Population("cells", cell, size=4)),
        projections=(
            Projection(
                "ff", "src", "cells", AllToAll(), weight=rng.uniform(0.3, 1.2, size=12), delay=DT, plasticity=rule
            ),
        ),
        probes=(Probe("cells", "spikes"),),
    )


def _input(network: Network, lag: int) -> torch.Tensor:
    source = network.population("src").cell
    x = torch.zeros(STEPS, 1, source.size)
    ticks = torch.as_tensor(np.array(source.ticks(DT)) + lag)
    x[ticks, 0, torch.as_tensor(np.array(source.neuron))] = 1.0
    return x


def _trains(spikes: torch.Tensor) -> list[list[int]]:
    return [torch.nonzero(spikes[:, i]).ravel().tolist() for i in range(spikes.shape[1])]


def test_cuba_lif_parameters_are_converted_to_seconds_relative_volts_and_step_currents() -> None:
    from neuromem.export.nir import to_nir

    network = feed_forward()
    graph = to_nir(network, DT)
    node = graph.nodes["cells"]
    np.testing.assert_allclose(node.tau_mem, 0.010)
    np.testing.assert_allclose(node.tau_syn, 0.002)
    np.testing.assert_allclose(node.r, 10.0 / DT)
    np.testing.assert_allclose(node.v_threshold, 10.0)
    np.testing.assert_allclose(node.v_leak, 0.0)
    np.testing.assert_allclose(node.w_in, 2.0 / DT)
    lists = network.connection_list("ff")
    np.testing.assert_allclose(graph.nodes["ff_w"].weight[lists.post, lists.pre], lists.weight * DT / 0.25)
    assert set(graph.edges) == {("src", "ff_w"), ("ff_w", "cells"), ("cells", "cells_out")}


def test_written_graph_reads_back_with_the_same_parameters(tmp_path: Path) -> None:
    from neuromem.export.nir import write_nir

    path = write_nir(feed_forward(), tmp_path / "net.nir", DT)
    graph = nir.read(str(path))
    np.testing.assert_allclose(graph.nodes["cells"].r, 100.0)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["net.nir"]


def test_plastic_network_is_refused_unless_frozen() -> None:
    from neuromem.export.nir import to_nir

    with pytest.raises(CapabilityError, match="plasticity:STDP.*'nir'"):
        to_nir(feed_forward(plastic=True), DT)
    graph = to_nir(feed_forward(plastic=True), DT, freeze=True)
    assert graph.nodes["ff_w"].weight.shape == (4, 3)


def _torch_trains(network: Network) -> list[list[int]]:
    recording = build(network, "torch", dt=DT, dtype="float64").run(STEPS * DT)
    trains = recording.spikes["cells"]
    return [sorted(trains.tick[trains.neuron == i].tolist()) for i in range(4)]


def _lead(found: list[list[int]], expected: list[list[int]]) -> np.ndarray:
    """How many steps earlier each spike of ``found`` comes than its partner in ``expected``."""
    return np.concatenate([np.array(e) - np.array(f) for f, e in zip(found, expected, strict=True)])


def test_norse_and_snntorch_run_the_graph_close_to_torch_exact() -> None:
    pytest.importorskip("norse.torch")
    snn_import = pytest.importorskip("snntorch.import_nir")
    import norse.torch as norse

    from neuromem.export.nir import to_nir

    network = feed_forward()
    expected = _torch_trains(network)
    graph = to_nir(network, DT)
    # neuromem's exact scheme moves V from the step after the arrival (emission + 1 step):
    # the Euler loaders move it in the step of the input, so inputs are fed at emission + 2.
    x = _input(network, lag=2)
    model = norse.from_nir(graph, dt=DT / 1000.0)
    state, outputs = None, []
    for t in range(STEPS):
        out, state = model(x[t], state)
        outputs.append(out[0])
    norse_trains = _trains(torch.stack(outputs))
    model = snn_import.import_from_nir(graph)
    outputs = []
    for t in range(STEPS):
        out = model(x[t])
        outputs.append((out[0] if isinstance(out, tuple) else out)[0])
    snn_trains = _trains(torch.stack(outputs))
    # Both loaders integrate the same forward-Euler step: identical spikes.
    assert norse_trains == snn_trains
    # Euler against the exact solution: decay 1 - dt/tau instead of exp(-dt/tau) (0.12 % per step
    # for tau_syn = 2 ms, 0.005 % for tau_m = 10 ms) and the current integrated as a rectangle, so
    # Euler overshoots and fires early; the error grows where V creeps slowly to threshold.
    # Measured on this network: identical spike counts (14, 18, 23, 20), Euler 0 to 8 steps
    # (0 to 0.8 ms) early, median 2 steps.
    assert [len(t) for t in norse_trains] == [len(t) for t in expected] == [14, 18, 23, 20]
    lead = _lead(norse_trains, expected)
    assert lead.min() >= 0
    assert lead.max() <= 8
    assert np.median(lead) <= 2


def test_if_curr_delta_becomes_a_lif_node_with_weights_in_millivolts() -> None:
    from neuromem.export.nir import to_nir
    from neuromem.spec import IF_curr_delta

    cell = IF_curr_delta(cm=0.5, tau_m=8.0, tau_refrac=0.0, v_rest=-65.0, v_reset=-65.0, v_thresh=-55.0)
    network = Network(
        populations=(Population("src", SpikeSourceArray.from_lists([[1.0], [2.0]])), Population("d", cell, size=3)),
        projections=(Projection("w", "src", "d", AllToAll(), weight=np.arange(6.0), delay=DT, receptor="inhibitory"),),
    )
    graph = to_nir(network, DT)
    node = graph.nodes["d"]
    assert type(node).__name__ == "LIF"
    np.testing.assert_allclose(node.tau, 0.008)
    np.testing.assert_allclose(node.r, 8.0 / DT)
    np.testing.assert_allclose(node.v_threshold, 10.0)
    lists = network.connection_list("w")
    np.testing.assert_allclose(graph.nodes["w_w"].weight[lists.post, lists.pre], -lists.weight)


def test_cell_types_nir_has_no_node_for_and_current_sources_are_refused() -> None:
    from neuromem.export.nir import to_nir
    from neuromem.spec import DCSource, IF_cond_exp, Izhikevich

    for cell in (IF_cond_exp(tau_refrac=0.0), Izhikevich()):
        network = Network(populations=(Population("p", cell, size=2),))
        with pytest.raises(CapabilityError, match=rf"Population 'p': feature cell:{type(cell).__name__} .*'nir'"):
            to_nir(network, DT)
    network = feed_forward()
    network = Network(
        populations=network.populations,
        projections=network.projections,
        current_sources=(DCSource("bias", "cells", amplitude=0.1),),
    )
    with pytest.raises(CapabilityError, match=r"current_source:DCSource cannot be expressed on target 'nir'"):
        to_nir(network, DT)


def _signed_delta_network() -> Network:
    """Spikes into IF_curr_delta cells (rest -65 mV) through an excitatory/inhibitory pair."""
    from neuromem.spec import IF_curr_delta

    rng = np.random.default_rng(3)
    times = [sorted(rng.choice(np.arange(0, 40.0, 0.1), 15, replace=False).round(1).tolist()) for _ in range(3)]
    cell = IF_curr_delta(tau_m=10.0, tau_refrac=0.0, v_rest=-65.0, v_reset=-65.0, v_thresh=-60.0)
    return Network(
        populations=(Population("src", SpikeSourceArray.from_lists(times)), Population("cells", cell, size=4)),
        projections=(
            Projection("ff_exc", "src", "cells", AllToAll(), weight=rng.uniform(1.0, 5.0, size=12), delay=DT),
            Projection(
                "ff_inh",
                "src",
                "cells",
                AllToAll(),
                weight=rng.uniform(0.5, 4.0, size=12),
                delay=DT,
                receptor="inhibitory",
            ),
        ),
        probes=(Probe("cells", "spikes"),),
    )


def test_merge_writes_one_signed_linear_per_pair() -> None:
    from neuromem.export.nir import to_nir

    network = _signed_delta_network()
    apart = to_nir(network, DT)
    merged = to_nir(network, DT, merge=True)
    assert {"ff_exc_w", "ff_inh_w"} <= set(apart.nodes) and "ff_w" not in apart.nodes
    assert "ff_w" in merged.nodes and "ff_exc_w" not in merged.nodes
    np.testing.assert_array_equal(
        merged.nodes["ff_w"].weight, apart.nodes["ff_exc_w"].weight + apart.nodes["ff_inh_w"].weight
    )
    assert ("src", "ff_w") in merged.edges and ("ff_w", "cells") in merged.edges
    assert (merged.nodes["ff_w"].weight < 0).any() and (merged.nodes["ff_w"].weight > 0).any()


@pytest.mark.parametrize("loader", ["snntorch", "norse"])
def test_graph_written_for_a_loader_gives_the_exact_schemes_spikes(loader: str) -> None:
    from neuromem.export.nir import to_nir

    network = _signed_delta_network()
    expected = _torch_trains(network)
    graph = to_nir(network, DT, merge=True, loader=loader, outputs=("cells",))
    # An arrival of tick k + 1 (emission k, delay one step) moves V within step k + 1 under neuromem's
    # scheme; the loaders move V in the step of the input: feed the emission at k + 1.
    x = _input(network, lag=1)
    outputs = []
    if loader == "snntorch":
        model = pytest.importorskip("snntorch.import_nir").import_from_nir(graph)
        for t in range(STEPS):
            out = model(x[t])
            outputs.append((out[0] if isinstance(out, tuple) else out)[0])
    else:
        norse = pytest.importorskip("norse.torch")
        model, state = norse.from_nir(graph, dt=DT / 1000.0), None
        for t in range(STEPS):
            out, state = model(x[t], state)
            outputs.append(out[0])
    found = _trains(torch.stack(outputs))
    # The loader's Euler step is neuromem's exact step (decay exp(-dt/tau_m), inputs in mV, reset to rest):
    # spike for spike, where the continuous graph (loader=None) fires early or late.
    assert found == expected
    assert sum(len(t) for t in found) > 10


def test_loader_graphs_refuse_what_the_loaders_cannot_run() -> None:
    from neuromem.errors import ValidationError
    from neuromem.export.nir import to_nir
    from neuromem.spec import IF_curr_delta

    with pytest.raises(CapabilityError, match="cell:IF_curr_exp with loader='norse' cannot be expressed"):
        to_nir(feed_forward(), DT, loader="norse")
    network = _signed_delta_network()
    other = IF_curr_delta(tau_m=10.0, tau_refrac=0.0, v_rest=-65.0, v_reset=-70.0, v_thresh=-60.0)
    shifted = Network(
        populations=(network.populations[0], Population("cells", other, size=4)),
        projections=network.projections,
    )
    with pytest.raises(CapabilityError, match="v_reset = -70 mV != v_rest = -65 mV with loader='snntorch'"):
        to_nir(shifted, DT, loader="snntorch")
    to_nir(shifted, DT)  # the continuous graph writes v_reset
    with pytest.raises(ValidationError, match="loader = 'lava' is not allowed; allowed: None, snntorch, norse"):
        to_nir(network, DT, loader="lava")
    with pytest.raises(ValidationError, match="outputs names 'src', which is not a neuron population"):
        to_nir(network, DT, outputs=("src",))
