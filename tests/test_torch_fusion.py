"""Fused neuron updates (build(..., fuse=True)): used only where they compute the plain update's bits."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
import torch

from benchmarks.networks import recurrent_network
from neuromem.backends import build
from neuromem.backends.torch.fusion import first_difference
from neuromem.backends.torch.layout import Layout
from neuromem.backends.torch.neurons import NeuronBlock, heaviside_events
from neuromem.errors import CapabilityError, ValidationError
from neuromem.spec import Probe


def _network(scheme: str):  # type: ignore[no-untyped-def]
    network = recurrent_network(200, stdp=True, rate_hz=30.0)
    probes = network.probes + (Probe("exc", "v"),)
    return dataclasses.replace(network, scheme=scheme, probes=probes)


def _block(network, dtype: torch.dtype = torch.float64) -> NeuronBlock:  # type: ignore[no-untyped-def]
    layout = Layout.of(network)
    return NeuronBlock(network, layout.blocks[0], 1.0, dtype, torch.device("cpu"))


def _run(network, fuse: bool):  # type: ignore[no-untyped-def]
    simulation = build(network, dt=1.0, dtype="float64", batch_size=2, fuse=fuse)
    recording = simulation.run(120.0)
    plastic = [p.name for p in network.projections if p.plasticity is not None][0]
    return recording, simulation.get_weights(plastic)


def test_a_fused_network_computes_the_plain_networks_bits() -> None:
    network = _network("spinnaker")
    (plain, w_plain), (fused, w_fused) = _run(network, False), _run(network, True)
    assert sum(len(t.tick) for t in plain.spikes.values()) > 100
    for name in plain.spikes:
        a, b = plain.spikes[name], fused.spikes[name]
        for field in ("tick", "neuron", "trial"):
            assert np.array_equal(getattr(a, field), getattr(b, field))
    v_plain, v_fused = plain.traces[("exc", "v")], fused.traces[("exc", "v")]
    assert np.array_equal(v_plain.view(np.int64), v_fused.view(np.int64))
    plastic = [p.name for p in network.projections if p.plasticity is not None][0]
    assert not np.array_equal(w_plain[0], network.connection_list(plastic).weight)  # STDP changed them
    assert np.array_equal(w_plain, w_fused)


def test_fusion_is_refused_or_exact_for_the_exact_scheme() -> None:
    # Eager CPU addcmul contracts into a fused multiply-add where the compiled loop does not:
    # then the build must refuse, naming the cell type, the scheme and the device.
    network = _network("exact")
    try:
        fused = _run(network, True)
    except CapabilityError as error:
        message = str(error)
        assert "IF_curr_exp" in message and "'exact'" in message and "cpu float64" in message
        return
    plain = _run(network, False)
    assert np.array_equal(plain[1], fused[1])
    assert np.array_equal(plain[0].traces[("exc", "v")], fused[0].traces[("exc", "v")])


def test_the_check_finds_a_difference_of_one_bit() -> None:
    block = _block(_network("exact"))
    assert first_difference(block, block.step, block.step, heaviside_events) is None

    def off_by_one_ulp(state, exc, inh, i_ext, k, spike_fn):  # type: ignore[no-untyped-def]
        spikes, new = block.step(state, exc, inh, i_ext, k, spike_fn)
        return spikes, new._replace(i_exc=torch.nextafter(new.i_exc, torch.full_like(new.i_exc, np.inf)))

    assert first_difference(block, block.step, off_by_one_ulp, heaviside_events) == "i_exc at check step 0"

    def sign_of_zero(state, exc, inh, i_ext, k, spike_fn):  # type: ignore[no-untyped-def]
        spikes, new = block.step(state, exc, inh, i_ext, k, spike_fn)
        return spikes, new._replace(v=new.v * 0.0 * -1.0)

    plain_zero = lambda *a: (lambda s, n: (s, n._replace(v=n.v * 0.0)))(*block.step(*a))  # noqa: E731
    # 0.0 and -0.0 are equal numbers but not the same bits.
    assert first_difference(block, plain_zero, sign_of_zero, heaviside_events) == "v at check step 0"


def test_fuse_must_be_a_boolean() -> None:
    with pytest.raises(ValidationError, match="fuse"):
        build(_network("exact"), dt=1.0, fuse="yes")
