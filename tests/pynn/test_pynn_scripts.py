"""``pyNN.neuromem`` for unchanged PyNN scripts: the import name, the runner, and PyNN's own examples.

The examples are read from PyNN's source distribution (next to the system scenarios,
see ``test_pynn_scenarios.py``) and run unchanged with ``neuromem`` as the simulator
argument: ``python -m neuromem.pynn EXAMPLE neuromem``.
"""

from __future__ import annotations

import ast
import os
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("pyNN")

from test_pynn_scenarios import scenario_folder  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]


def test_pynn_neuromem_is_this_package() -> None:
    import pyNN.neuromem

    import neuromem.pynn

    assert pyNN.neuromem is neuromem.pynn
    assert neuromem.pynn.list_standard_models() == [
        "IF_cond_exp",
        "IF_curr_delta",
        "IF_curr_exp",
        "Izhikevich",
        "SpikeSourceArray",
        "SpikeSourcePoisson",
    ]


def test_runner_without_a_script_prints_its_usage(capsys: pytest.CaptureFixture[str]) -> None:
    from neuromem.pynn.__main__ import main

    assert main([]) == 2 and "python -m neuromem.pynn [--device D] [--dtype T] SCRIPT" in capsys.readouterr().out
    assert main(["missing.py"]) == 2 and "no such script" in capsys.readouterr().err
    assert main(["--device"]) == 2 and "needs a value" in capsys.readouterr().err


def _run_example(name: str, folder: Path) -> str:
    example = scenario_folder().parents[2] / "examples" / name
    assert example.is_file(), example
    done = subprocess.run(
        [sys.executable, "-m", "neuromem.pynn", str(example), "neuromem"],
        capture_output=True,
        text=True,
        cwd=folder,
        # One torch thread: the tests share two cores (see tests/conftest.py).
        env={**os.environ, "PYTHONPATH": str(ROOT), "OMP_NUM_THREADS": "1"},
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return done.stdout


def _counts(output: str, label: str) -> np.ndarray:
    line = next(line for line in output.splitlines() if line.startswith(label))
    text = re.sub(r"np\.(int64|float64)\((-?[\d.]+)\)", r"\2", line.split(":", 1)[1])
    return np.asarray(ast.literal_eval(text.strip()), dtype=np.float64)


@pytest.mark.parametrize("name", ["update_spike_source_array.py", "varying_poisson.py"])
def test_pynn_example_runs_unchanged(name: str, tmp_path: Path) -> None:
    output = _run_example(name, tmp_path)
    actual, expected = _counts(output, "Actual spike counts"), _counts(output, "Expected mean spike counts")
    assert actual.shape == expected.shape == (5,)
    # Spike arrays: the counts the callbacks set (the last interval may lose a spike at t = 1000 ms);
    # Poisson: within four standard deviations of the mean count.
    tolerance = 2.0 if name.startswith("update") else 4 * np.sqrt(expected) + 1
    assert np.all(np.abs(actual - expected) <= tolerance), (actual, expected)
