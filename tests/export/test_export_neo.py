"""The exported ``run.py`` writes PyNN's own Neo output (and neuromem's arrays on request)."""

from __future__ import annotations

import importlib.util
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from scenarios import DT, DURATION, delay_chain

from neuromem.export import write_pynn_script

pytestmark = pytest.mark.pynn


def _run(folder: Path, simulator: str, *outputs: str) -> subprocess.CompletedProcess:
    arguments = [a for output in outputs for a in ("--output", str(folder / output))]
    return subprocess.run(
        [sys.executable, str(folder / "run.py"), "--simulator", simulator, *arguments],
        capture_output=True,
        text=True,
        timeout=600,
        cwd=folder,
    )


@pytest.mark.parametrize("simulator", ["nest", "brian2"])
def test_run_py_writes_pynns_neo_block_with_the_npz_spikes(simulator: str, tmp_path: Path) -> None:
    if importlib.util.find_spec("pyNN") is None or importlib.util.find_spec(simulator) is None:
        pytest.skip(f"pyNN and {simulator} are needed")
    import neo

    network = delay_chain()
    folder = write_pynn_script(network, tmp_path / "out", DURATION, dt=DT, targets=(simulator,)).parent
    done = _run(folder, simulator, "recording.pkl", "spikes.npz")
    assert done.returncode == 0, done.stderr[-3000:]
    block = neo.io.PickleIO(str(folder / "recording.pkl")).read_block()
    assert block.annotations["simulator"] == f"pyNN.{simulator}" and block.annotations["dt"] == DT
    offset = block.annotations["label_offset_steps"]
    (segment,) = block.segments
    arrays = dict(np.load(folder / "spikes.npz"))
    names = [p.name for p in network.populations]
    by_population: dict[str, list] = {}
    for train in segment.spiketrains:
        assert str(train.units.dimensionality) == "ms"
        by_population.setdefault(train.annotations["source_population"], []).append(train)
    assert sorted(by_population) == ["a", "b", "c"]
    for label, trains in by_population.items():
        found = arrays[f"spikes{names.index(label)}"]
        ticks = np.sort(np.concatenate([np.rint(t.magnitude / DT).astype(np.int64) - offset for t in trains]))
        assert ticks.size >= 3 and np.array_equal(ticks, np.sort(found[1])), label
    (signal,) = [s for s in segment.analogsignals if s.name == "v"]
    assert str(signal.units.dimensionality) == "mV"
    # The Neo trace is the simulator's own: its samples are the npz trace, shifted by the warm-up.
    start = 1 + block.annotations["warmup_steps"]
    np.testing.assert_allclose(signal.magnitude[start : start + 100, 0], arrays["v1"][:100, 0], rtol=0, atol=1e-12)


def test_run_py_refuses_an_unknown_output_ending(tmp_path: Path) -> None:
    folder = write_pynn_script(delay_chain(), tmp_path / "out", DURATION, dt=DT, targets=("nest",)).parent
    done = _run(folder, "nest", "spikes.txt")
    assert done.returncode == 2 and "--output" in done.stderr and ".npz" in done.stderr
    assert not (folder / "spikes.txt").exists()
