"""Fused neuron updates (build(..., fuse=True)): used only where they compute the plain update's bits."""

from __future__ import annotations

import dataclasses
import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch

from benchmarks.networks import recurrent_network
from neuromem.backends import build
from neuromem.backends.torch.fusion import first_difference
from neuromem.backends.torch.layout import Layout
from neuromem.backends.torch.neurons import NeuronBlock, heaviside_events
from neuromem.errors import ValidationError
from neuromem.spec import Probe

ROOT = Path(__file__).resolve().parents[1]


def _network(scheme: str):  # type: ignore[no-untyped-def]
    network = recurrent_network(200, stdp=True, rate_hz=30.0)
    probes = network.probes + (Probe("exc", "v"),)
    return dataclasses.replace(network, scheme=scheme, probes=probes)


def _block(network, dtype: torch.dtype = torch.float64) -> NeuronBlock:  # type: ignore[no-untyped-def]
    layout = Layout.of(network)
    return NeuronBlock(network, layout.blocks[0], 1.0, dtype, torch.device("cpu"))


#: Compiling runs in a child process: Inductor's compiler state and worker pools stay out of the test
#: process (the rest of the suite runs eager torch only).
_COMPARE = """
import dataclasses, json, sys
import numpy as np
sys.path.insert(0, ".")
from benchmarks.networks import recurrent_network
from neuromem.backends import build
from neuromem.errors import CapabilityError
from neuromem.spec import Probe

network = recurrent_network(200, stdp=True, rate_hz=30.0)
network = dataclasses.replace(network, scheme=sys.argv[1], probes=network.probes + (Probe("exc", "v"),))
plastic = [p.name for p in network.projections if p.plasticity is not None][0]
runs = []
try:
    for fuse in (False, True):
        simulation = build(network, dt=1.0, dtype="float64", batch_size=2, fuse=fuse)
        recording = simulation.run(120.0)
        runs.append((recording, simulation.get_weights(plastic)))
except CapabilityError as error:
    print(json.dumps({"refused": str(error)}))
    raise SystemExit(0)
(plain, w_plain), (fused, w_fused) = runs
same_spikes = all(
    np.array_equal(getattr(plain.spikes[n], f), getattr(fused.spikes[n], f))
    for n in plain.spikes
    for f in ("tick", "neuron", "trial")
)
v_plain, v_fused = plain.traces[("exc", "v")], fused.traces[("exc", "v")]
print(json.dumps({
    "spikes": int(sum(len(t.tick) for t in plain.spikes.values())),
    "same_spikes": bool(same_spikes),
    "same_v_bits": bool(np.array_equal(v_plain.view(np.int64), v_fused.view(np.int64))),
    "same_weights": bool(np.array_equal(w_plain, w_fused)),
    "weights_changed": bool(not np.array_equal(w_plain[0], network.connection_list(plastic).weight)),
}))
"""


def _compare(scheme: str, cache: Path) -> dict[str, object]:
    """Plain and fused runs of the same network, compared in a child process.

    The child compiles into its own Inductor cache (``cache``): compiled libraries of other
    processes sharing the default cache folder are never loaded or overwritten.
    """
    result = subprocess.run(
        [sys.executable, "-c", _COMPARE, scheme],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=600,
        env={**os.environ, "PYTHONPATH": str(ROOT), "TORCHINDUCTOR_CACHE_DIR": str(cache)},
    )
    assert result.returncode == 0, result.stderr[-2000:]
    return json.loads(result.stdout.strip().splitlines()[-1])  # type: ignore[no-any-return]


def test_a_fused_network_computes_the_plain_networks_bits(tmp_path: Path) -> None:
    result = _compare("spinnaker", tmp_path)
    assert "refused" not in result, result
    assert result["spikes"] > 100 and result["weights_changed"]  # type: ignore[operator]
    assert result["same_spikes"] and result["same_v_bits"] and result["same_weights"]


def test_fusion_is_refused_or_exact_for_the_exact_scheme(tmp_path: Path) -> None:
    # Eager CPU addcmul contracts into a fused multiply-add where the compiled loop does not:
    # then the build must refuse, naming the cell type, the scheme and the device.
    result = _compare("exact", tmp_path)
    if "refused" in result:
        message = str(result["refused"])
        assert "IF_curr_exp" in message and "'exact'" in message and "cpu float64" in message
        return
    assert result["same_spikes"] and result["same_v_bits"] and result["same_weights"]


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
