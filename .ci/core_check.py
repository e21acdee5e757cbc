"""Run inside a venv holding only the neuromem wheel and its core dependencies (see .ci/wheel_check).

Imports every module of the package: a module must import, or fail only because an optional
package (an extra) is missing, and then name the extra; the core modules must all import. Then a
tiny network runs on the torch engine and spikes where the equations say, the CLI runs a model
without plotting, and each optional part refuses with a message that names its extra.
Prints one line per module that needs an extra, and exits non-zero on any failure.
"""

from __future__ import annotations

import importlib
import subprocess
import sys
import tempfile
from pathlib import Path

#: Top-level modules of the extras -> the extra that brings them.
OPTIONAL = {
    "brian2": "brian2",
    "pyNN": "export",
    "neo": "export",
    "quantities": "export",
    "nest": "export",
    "spynnaker": "export",
    "nir": "export",
    "nirtorch": "export",
    "matplotlib": "plots",
    "scipy": "data",
    "sklearn": "data",
}
#: Modules that must import with the core alone (prefixes).
CORE = (
    "neuromem.spec",
    "neuromem.backends.torch",
    "neuromem.record",
    "neuromem.display",
    "neuromem.fileformat",
    "neuromem.outputs",
    "neuromem.limits",
    "neuromem.errors",
    "neuromem.cli",
    "neuromem.data",
    "neuromem.resources",
    "neuromem.export.plan",
    "neuromem.export.translate",
)

MODEL = """
[network]
name = "tiny"
scheme = "exact"

[run]
dt = 1.0
duration = 50.0

[[population]]
name = "stim"
cell = { type = "SpikeSourceArray", size = 2, neuron = [0, 1, 0], times_ms = [5.0, 10.0, 20.0] }

[[population]]
name = "cells"
size = 2
cell = { type = "LIFCurrExp", tau_refrac = 1.0 }

[[projection]]
name = "drive"
pre = "stim"
post = "cells"
connector = { type = "OneToOne" }
weight = 60.0
delay = 2.0
"""


def check_imports() -> list[str]:
    import neuromem

    failures, needs = [], {}
    # Every .py file of the installed package (pkgutil skips namespace packages such as neuromem.models).
    root = Path(neuromem.__file__).parent
    files = sorted(root.rglob("*.py"))
    names = [
        ".".join(("neuromem", *f.relative_to(root).with_suffix("").parts)).removesuffix(".__init__") for f in files
    ]
    for name in names:
        if name.endswith("__main__"):
            continue
        try:
            importlib.import_module(name)
        except ImportError as error:
            missing = (getattr(error, "name", None) or "").split(".")[0]
            chain = error.__cause__ if isinstance(error.__cause__, ImportError) else None
            if not missing and chain is not None:
                missing = (chain.name or "").split(".")[0]
            extra = OPTIONAL.get(missing)
            if extra is None:
                failures.append(f"{name}: {type(error).__name__}: {error}")
            elif name.startswith(CORE) or name == "neuromem":
                failures.append(f"{name} is core but needs {missing} (neuromem[{extra}])")
            else:
                needs[name] = extra
        except Exception as error:  # any other failure of an import is a bug
            failures.append(f"{name}: {type(error).__name__}: {error}")
    for name, extra in sorted(needs.items()):
        print(f"  needs neuromem[{extra}]: {name}")
    print(f"imported {len(names) - len(needs) - len(failures)} of {len(names)} modules with the core alone")
    return failures


def check_engine() -> list[str]:
    from neuromem.backends import build
    from neuromem.errors import BackendError
    from neuromem.spec import Probe
    from neuromem.spec.toml import read_model

    failures = []
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "tiny.toml"
        path.write_text(MODEL)
        network = read_model(path).network
        network = network.with_probes(Probe("cells"))
        recording = build(network, "torch", dt=1.0, batch_size=3).run(50.0)
        ticks = recording.spikes_of("cells").of_trial(2).tick.tolist()
        # Input at 5 ms, delay 2 ms: the current jumps at the end of tick 7, the neuron fires at tick 8.
        if 8 not in ticks or recording.batch_size != 3:
            failures.append(f"torch engine: expected a spike at tick 8 in every trial, got ticks {ticks}")
        try:
            build(network, "brian2", dt=1.0)
            failures.append("the brian2 backend built without Brian2 installed")
        except BackendError as error:
            if "not installed" not in str(error) and "not available" not in str(error):
                failures.append(f"brian2 refusal does not say it is missing: {error}")
        try:
            importlib.import_module("neuromem.plot")
            failures.append("neuromem.plot imported without matplotlib")
        except ImportError as error:
            if "neuromem[plots]" not in str(error):
                failures.append(f"neuromem.plot's ImportError does not name the extra: {error}")
        cli = [sys.executable, "-m", "neuromem.cli"]
        run = subprocess.run(
            [*cli, "run", str(path), "--out", f"{folder}/out", "--no-plot"], capture_output=True, text=True
        )
        if run.returncode != 0 or not (Path(folder) / "out" / "recording.npz").is_file():
            failures.append(f"neuromem run --no-plot failed: {run.stderr.strip()[-500:]}")
        plotted = subprocess.run([*cli, "run", str(path), "--out", f"{folder}/p"], capture_output=True, text=True)
        if plotted.returncode != 2 or "neuromem[plots]" not in plotted.stderr:
            failures.append(f"neuromem run without matplotlib did not refuse clearly: {plotted.stderr.strip()}")
        info = subprocess.run([*cli, "info"], capture_output=True, text=True)
        if info.returncode != 0 or "pip install 'neuromem[brian2]'" not in info.stdout:
            failures.append(f"neuromem info: {info.stdout + info.stderr}")
    print(f"torch engine: spikes of trial 2 at ticks {ticks}")
    return failures


def check_models() -> list[str]:
    """The models' shipped parameter sets come with the wheel: the CA3 memory and a Sparsey preset work."""
    from neuromem.models.ca3 import CA3Memory
    from neuromem.models.sparsey import load_preset

    failures = []
    memory = CA3Memory(n=4, m=6)
    memory.store(2, [0, 3])
    content = memory.recall_by_address(2)[0].content
    if content != (0, 3):
        failures.append(f"CA3Memory from the wheel recalled {content} at address 2; stored (0, 3)")
    try:
        load_preset("sisc")
    except Exception as error:  # a missing data file shows up as any of several errors
        failures.append(f"Sparsey preset 'sisc' from the wheel: {type(error).__name__}: {error}")
    print(f"CA3 memory from the wheel: recalled {content}")
    return failures


def main() -> int:
    failures = check_imports() + check_engine() + check_models()
    for failure in failures:
        print(f"FAILED: {failure}")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
