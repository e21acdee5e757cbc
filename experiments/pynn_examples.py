"""PyNN's own example ``simpleRandomNetwork.py``, unchanged, on neuromem and on NEST; spikes compared.

Runs the example from PyNN's source distribution

* unchanged on neuromem: ``python -m neuromem.pynn [--device cuda] simpleRandomNetwork.py neuromem``;
* unchanged on pyNN.nest (whose default is off-grid, precise spike times);
* on pyNN.nest with ``spike_precision="on_grid"`` added to its ``setup()`` (the one change): the
  integration neuromem and NEST's ``iaf_psc_exp`` share, where the spikes must be identical.

and writes ``results/pynn_examples/metrics.json``: spike counts, the largest spike-time and
voltage differences, wall times.

Usage: ``python experiments/pynn_examples.py --pynn-source /path/to/pynn-0.13.0 [--device cuda]``
(``pip download --no-deps --no-binary :all: pynn==0.13.0`` gives the source distribution).
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

EXAMPLE = "simpleRandomNetwork.py"
ROOT = Path(__file__).resolve().parents[1]


def run(command: list[str], folder: Path) -> float:
    """Run ``command`` in ``folder``; the wall time (s)."""
    start = time.perf_counter()
    done = subprocess.run(command, cwd=folder, capture_output=True, text=True, env=None)
    if done.returncode != 0:
        sys.exit(f"{' '.join(command)} failed:\n{done.stderr[-3000:]}")
    return time.perf_counter() - start


def output_of(folder: Path, simulator: str) -> tuple[list[np.ndarray], np.ndarray]:
    """Spike trains and voltage traces the example wrote (its Neo pickle)."""
    from neo.io import PickleIO

    (path,) = folder.glob(f"Results/*/simpleRandomNetwork_output_{simulator}_*.pkl")
    segment = PickleIO(str(path)).read_block().segments[0]
    return [np.asarray(t.magnitude) for t in segment.spiketrains], segment.analogsignals[0].magnitude


def compare(a: tuple[list[np.ndarray], np.ndarray], b: tuple[list[np.ndarray], np.ndarray]) -> dict[str, object]:
    same_counts = [x.size for x in a[0]] == [y.size for y in b[0]]
    return {
        "spikes": [int(sum(x.size for x in a[0])), int(sum(y.size for y in b[0]))],
        "same_count_per_neuron": same_counts,
        "max_spike_time_difference_ms": float(max(np.abs(x - y).max(initial=0.0) for x, y in zip(a[0], b[0])))
        if same_counts
        else None,
        "max_v_difference_mV": float(np.abs(a[1] - b[1]).max()),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--pynn-source", type=Path, required=True, help="the unpacked pynn-0.13.0 folder")
    parser.add_argument("--device", default="cpu", help="device of the neuromem run (cpu, cuda)")
    parser.add_argument("--out", type=Path, default=ROOT / "results" / "pynn_examples")
    args = parser.parse_args()
    source = args.pynn_source / "examples" / EXAMPLE
    if not source.is_file():
        sys.exit(f"no {EXAMPLE} under {args.pynn_source}/examples")
    args.out.mkdir(parents=True, exist_ok=True)
    folders = {name: args.out / name for name in ("neuromem", "nest_default", "nest_on_grid")}
    for folder in folders.values():
        shutil.rmtree(folder, ignore_errors=True)
        folder.mkdir()
        shutil.copy(source, folder / EXAMPLE)
    on_grid = folders["nest_on_grid"] / EXAMPLE
    text = on_grid.read_text()
    assert "quit_on_end=False)" in text
    on_grid.write_text(text.replace("quit_on_end=False)", 'quit_on_end=False, spike_precision="on_grid")'))
    python = sys.executable
    walls = {
        "neuromem": run(
            [python, "-m", "neuromem.pynn", "--device", args.device, EXAMPLE, "neuromem"], folders["neuromem"]
        ),
        "nest_default": run([python, EXAMPLE, "nest"], folders["nest_default"]),
        "nest_on_grid": run([python, EXAMPLE, "nest"], folders["nest_on_grid"]),
    }
    ours = output_of(folders["neuromem"], "neuromem")
    metrics = {
        "example": EXAMPLE,
        "device": args.device,
        "wall_s": walls,
        "vs_nest_on_grid": compare(ours, output_of(folders["nest_on_grid"], "nest")),
        "vs_nest_default_off_grid": compare(ours, output_of(folders["nest_default"], "nest")),
    }
    (args.out / "metrics.json").write_text(json.dumps(metrics, indent=2))
    print(json.dumps(metrics, indent=2))


if __name__ == "__main__":
    main()
