"""HLOP's lateral circuit in the description: the SubspaceRule type, its torch kernel, and its refusals."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
import torch

from neuromem import spec
from neuromem.backends import build
from neuromem.backends.torch.subspace import subspace_from_network, with_lateral_weights
from neuromem.errors import CapabilityError, ValidationError
from neuromem.export.nir import to_nir
from neuromem.export.plan import build_plan
from neuromem.models.hlop.description import lateral, network_description
from neuromem.spec import SubspaceRule

torch.set_num_threads(1)


def _described(rule: SubspaceRule | None = None) -> tuple[spec.Network, np.ndarray]:
    g = np.random.default_rng(0)
    h = g.normal(size=(3, 8))
    ff = network_description(8, (5,), 2, 1, tau_m=10.0, threshold=0.5, weights={"layer0": g.normal(size=(5, 8))})
    return lateral(ff, {"layer0": "input"}, {"layer0": h}, rule or SubspaceRule(epochs=4)), h


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("lr", 0.0, "lr"),
        ("momentum", 1.0, "momentum = 1 is not allowed"),
        ("epochs", -1, "epochs"),
        ("iterations", 0, "iterations"),
        ("spike_steps", 0, "spike_steps"),
    ],
)
def test_subspace_rule_refuses_bad_parameters_naming_them(field: str, value: float, message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        SubspaceRule(**{field: value})


def test_the_kernel_reads_signed_lateral_weights_and_the_rule_from_the_description() -> None:
    network, h = _described(SubspaceRule(lr=0.5, momentum=0.5, epochs=4))
    sub = subspace_from_network(network, "lateral_layer0", n_fixed=1)
    np.testing.assert_allclose(sub.weight.numpy(), h, atol=1e-6)  # float32 of the float64 weights
    assert (sub.lr, sub.momentum, sub.n_fixed) == (0.5, 0.5, 1)
    assert network.projection("lateral_layer0_inh").receptor == "inhibitory"
    # Learning changes only the free rows; writing back gives the same signed matrix.
    x = torch.randn(200, 8, generator=torch.Generator().manual_seed(1))
    sub.fit(x, epochs=3, generator=torch.Generator().manual_seed(2))
    np.testing.assert_allclose(sub.weight[:1].numpy(), h[:1], atol=1e-6)
    assert float((sub.weight[1:] - torch.as_tensor(h[1:], dtype=torch.float32)).abs().max()) > 1e-3
    again = subspace_from_network(with_lateral_weights(network, "lateral_layer0", sub.weight), "lateral_layer0")
    torch.testing.assert_close(again.weight, sub.weight, atol=0, rtol=0)


def test_a_lateral_population_without_its_signed_pair_is_refused() -> None:
    network, _ = _described()
    lone = dataclasses.replace(
        network, projections=tuple(p for p in network.projections if p.name != "lateral_layer0_inh"), _lists={}
    )
    with pytest.raises(CapabilityError, match="plasticity:SubspaceRule needs one excitatory and one inhibitory"):
        subspace_from_network(lone, "lateral_layer0")


def test_backends_and_exporters_refuse_the_subspace_rule_naming_feature_and_target() -> None:
    network, _ = _described()
    with pytest.raises(CapabilityError, match="torch.*plasticity:SubspaceRule.*rate form"):
        build(network, "torch", dt=1.0)
    for target in ("nest", "brian2", "spiNNaker"):
        with pytest.raises(CapabilityError, match=f"plasticity:SubspaceRule cannot be expressed on target '{target}'"):
            build_plan(network, 1.0, 10.0, targets=(target,), approximate=True)
    for freeze in (False, True):
        with pytest.raises(CapabilityError, match="plasticity:SubspaceRule cannot be expressed on target 'nir'"):
            to_nir(network, 1.0, freeze=freeze)


def test_the_description_with_its_lateral_circuit_round_trips_through_the_spec_files(tmp_path) -> None:  # noqa: ANN001
    network, _ = _described(SubspaceRule(lr=0.3, spike_steps=4))
    spec.save(network, tmp_path / "hlop")
    again = spec.load(tmp_path / "hlop")
    assert again.projection("lateral_layer0_exc").plasticity == SubspaceRule(lr=0.3, spike_steps=4)
    np.testing.assert_array_equal(
        subspace_from_network(again, "lateral_layer0").weight, subspace_from_network(network, "lateral_layer0").weight
    )


def test_the_inference_description_writes_a_nir_graph_with_the_signed_weights() -> None:
    network, _ = _described()
    inference = dataclasses.replace(
        network,
        populations=tuple(p for p in network.populations if not p.name.startswith("lateral")),
        projections=tuple(p for p in network.projections if not p.name.startswith("lateral")),
        _lists={},
    )
    graph = to_nir(inference, 1.0)
    assert type(graph.nodes["hidden0"]).__name__ == "LIF"
    signed = graph.nodes["layer0_exc_w"].weight + graph.nodes["layer0_inh_w"].weight  # inhibitory ones negative
    rebuilt = np.zeros((5, 8))
    for receptor, sign in (("exc", 1.0), ("inh", -1.0)):
        lst = inference.connection_list(f"layer0_{receptor}")
        np.add.at(rebuilt, (lst.post, lst.pre), sign * lst.weight)
    np.testing.assert_allclose(signed, rebuilt, atol=1e-12)


def test_every_projection_has_the_network_time_step_as_its_delay() -> None:
    # A learner at dt = 2 ms (e.g. read from a file) builds, trains and predicts: no 1 ms delay is
    # left below its time step.
    from neuromem.models.hlop.learner import TrainConfig
    from neuromem.models.hlop.network import NetworkConfig
    from neuromem.models.hlop.projection import HLOPConfig, HLOPLearner

    torch.set_num_threads(1)
    net = NetworkConfig(input_shape=(8,), hidden=(4,), n_classes=2, n_heads=1, num_steps=2, threshold=0.5, dt=2.0)
    learner = HLOPLearner(net, TrainConfig(epochs=1, batch_size=8), HLOPConfig(first=(2, 2), epochs=1, samples=16))
    g = torch.Generator().manual_seed(0)
    learner.train_task(0, torch.rand(16, 8, generator=g), torch.randint(0, 2, (16,), generator=g))
    described = learner.description()
    assert {float(np.min(p.delay)) for p in described.projections} == {2.0}
    assert learner.predict(0, np.full((2, 8), 0.5, np.float32)).shape == (2,)
