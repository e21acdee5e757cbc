"""The scale-out path the documentation describes: the exported script on NEST with threads."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from neuromem.export import write_pynn_script
from neuromem.spec.toml import read_model

REPO = Path(__file__).resolve().parents[1]


@pytest.mark.pynn
def test_nest_with_two_threads_gives_the_same_spikes_and_weights(tmp_path: Path) -> None:
    pytest.importorskip("nest")
    pytest.importorskip("pyNN.nest")
    # 900 neurons, 24,468 synapses, STDP on the recurrent excitatory projection.
    network = read_model(REPO / "models" / "demo_recurrent.toml").network
    script = write_pynn_script(network, tmp_path / "one", duration=100.0, dt=0.1, targets=("nest",))
    results = {}
    for threads in (1, 2):
        plan_path = script.parent / "plan.json"
        plan = json.loads(plan_path.read_text())
        plan["targets"]["nest"]["setup"]["threads"] = threads
        plan_path.write_text(json.dumps(plan))
        output = tmp_path / f"spikes{threads}.npz"
        subprocess.run(
            [sys.executable, str(script), "--simulator", "nest", "--output", str(output)],
            check=True,
            capture_output=True,
            timeout=600,
        )
        with np.load(output) as data:
            results[threads] = {k: data[k] for k in data.files}
    # pyNN.nest hands the option to NEST's kernel: the second run did use two threads.
    probe = "import nest, pyNN.nest as sim; sim.setup(threads=2); print(nest.GetKernelStatus('local_num_threads'))"
    done = subprocess.run([sys.executable, "-c", probe], check=True, capture_output=True, text=True, timeout=300)
    assert done.stdout.strip().splitlines()[-1] == "2"
    one, two = results[1], results[2]
    assert sorted(one) == sorted(two) == ["spikes0", "spikes1", "spikes2", "weight1"]
    # The excitatory and inhibitory populations fire, and learning moved the weights.
    assert one["spikes0"].shape[1] > 50 and one["spikes1"].shape[1] > 50
    assert np.ptp(one["weight1"]) > 0
    for key in one:
        np.testing.assert_array_equal(one[key], two[key], err_msg=key)
