"""The microcircuit through the PyNN export on NEST, against the torch backend (float64), spike for spike.

NEST runs in its own process (it keeps global kernel state). Both simulators
get the very same network (connection lists) and background trains (the
counter-based generator), so at float64 they agree spike for spike.
"""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys

import numpy as np
import pytest

from neuromem.backends import build
from neuromem.models.microcircuit import POPULATIONS, build_network, first_difference_ms, rate_hz
from neuromem.record import Recording, SpikeTrains

# 310 neurons; in-degrees at 5 % of the full model keep this small network active.
SCALE, K_SCALE, SEED, DURATION = 0.004, 0.05, 2, 150.0

DRIVER = """
import json, sys
from neuromem.export import to_pynn
from neuromem.models.microcircuit import build_network, POPULATIONS
network = build_network(scale=float(sys.argv[1]), k_scale=float(sys.argv[2]), seed=int(sys.argv[3]))
recording = to_pynn(network, "nest", duration=float(sys.argv[4]), dt=0.1, trial_seed=int(sys.argv[3]))
print(json.dumps({p: [recording.spikes[p].neuron.tolist(), recording.spikes[p].tick.tolist()] for p in POPULATIONS}))
"""


@pytest.mark.pynn
def test_nest_and_torch_run_the_exported_microcircuit_spike_for_spike() -> None:
    if importlib.util.find_spec("pyNN") is None or importlib.util.find_spec("nest") is None:
        pytest.skip("pyNN and nest-simulator are needed (pip install pyNN nest-simulator)")
    done = subprocess.run(
        [sys.executable, "-c", DRIVER, str(SCALE), str(K_SCALE), str(SEED), str(DURATION)],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    found = json.loads(done.stdout.strip().splitlines()[-1])
    network = build_network(scale=SCALE, k_scale=K_SCALE, seed=SEED)
    ours = build(network, "torch", dt=0.1, dtype="float64", seed=SEED).run(DURATION)
    theirs = Recording(
        dt=0.1,
        start_tick=0,
        stop_tick=ours.stop_tick,
        batch_size=1,
        sizes=ours.sizes,
        spikes={p: SpikeTrains.from_arrays(np.zeros(len(found[p][0])), *found[p]) for p in POPULATIONS},
    )
    assert sum(len(ours.spikes[p]) for p in POPULATIONS) > 100, "the network is active"
    assert first_difference_ms(ours, theirs, POPULATIONS) is None
    for population in POPULATIONS:
        assert rate_hz(theirs, population, 0.0, DURATION) == rate_hz(ours, population, 0.0, DURATION)
