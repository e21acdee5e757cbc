"""Microcircuit benchmark: the Potjans & Diesmann (2014) model on the torch backend, by scale.

For each scale (neurons x ``scale``, in-degrees x ``k_scale``, with the
reference DC compensation) the network is described, built and run for
``--duration`` ms of biological time at dt = 0.1 ms; the three times are
measured apart. Every row records the device, the thread count, the sizes
(neurons, background sources, synapses), wall seconds of the run per
biological second, the bytes of the spec's connection lists and of the torch
state, the mean rate (a sanity check that the network is in its usual
low-rate state) and the machine's load average at the end of the run (times
measured on a shared machine are indicative only).

Usage::

    python benchmarks/microcircuit.py --quick                       # scale 0.02, 200 ms
    python benchmarks/microcircuit.py --scales 0.02 0.05 0.1 --duration 1000
    python benchmarks/microcircuit.py --scales 1.0 --device cuda     # the full model on a GPU
    python benchmarks/microcircuit.py --scales 0.1:1.0               # scale 0.1, full in-degrees

Writes ``results/bench_microcircuit/{results.json, results.csv}``.
"""

from __future__ import annotations

import argparse
import csv
import gc
import json
import os
import platform
import resource
import sys
import time
from pathlib import Path

import torch

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from neuromem.backends import build  # noqa: E402
from neuromem.models.microcircuit import POPULATIONS, apply_initial_potentials, build_network  # noqa: E402
from neuromem.models.microcircuit.memory import spec_bytes  # noqa: E402

FIELDS = (
    "scale",
    "k_scale",
    "background",
    "device",
    "dtype",
    "threads",
    "trials",
    "neurons",
    "sources",
    "synapses",
    "duration_ms",
    "spec_s",
    "build_s",
    "run_s",
    "run_s_per_bio_s",
    "spec_mb",
    "torch_state_mb",
    "peak_rss_mb",
    "cuda_peak_mb",
    "mean_rate_hz",
    "load_average",
)


def parse_scale(text: str) -> tuple[float, float]:
    """``"0.1"`` -> (0.1, 0.1); ``"0.1:1.0"`` -> (0.1, 1.0)."""
    scale, _, k_scale = text.partition(":")
    return float(scale), float(k_scale or scale)


def synchronize(device: str) -> None:
    if device.startswith("cuda"):
        torch.cuda.synchronize()


def case(scale: float, k_scale: float, args: argparse.Namespace) -> dict[str, object]:
    """Describe, build and run one scale; returns one row of the table."""
    gc.collect()
    if args.device.startswith("cuda"):
        torch.cuda.reset_peak_memory_stats()
    start = time.perf_counter()
    network = build_network(scale=scale, k_scale=k_scale, background=args.background, seed=args.seed)
    spec_s = time.perf_counter() - start
    start = time.perf_counter()
    simulation = build(network, "torch", dt=0.1, device=args.device, dtype=args.dtype, batch_size=args.trials)
    apply_initial_potentials(simulation, seed=args.seed)
    synchronize(args.device)
    build_s = time.perf_counter() - start
    start = time.perf_counter()
    recording = simulation.run(args.duration)
    synchronize(args.device)
    run_s = time.perf_counter() - start
    neurons = sum(network.size(p) for p in POPULATIONS)
    spikes = sum(len(recording.spikes_of(p)) for p in POPULATIONS)
    return {
        "scale": scale,
        "k_scale": k_scale,
        "background": args.background,
        "device": args.device,
        "dtype": args.dtype,
        "threads": torch.get_num_threads(),
        "trials": args.trials,
        "neurons": neurons,
        "sources": sum(int(p.size) for p in network.populations if p.is_source),  # type: ignore[misc]
        "synapses": spec_bytes(network).synapses,
        "duration_ms": args.duration,
        "spec_s": round(spec_s, 3),
        "build_s": round(build_s, 3),
        "run_s": round(run_s, 3),
        "run_s_per_bio_s": round(run_s / (args.duration / 1000.0), 3),
        "spec_mb": round(spec_bytes(network).total / 1e6, 1),
        "torch_state_mb": round(simulation.memory_bytes() / 1e6, 1),
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1e3, 1),
        "cuda_peak_mb": round(torch.cuda.max_memory_allocated() / 1e6, 1) if args.device.startswith("cuda") else None,
        "mean_rate_hz": round(spikes / neurons / args.trials / (args.duration / 1000.0), 3),
        # Other jobs on the machine slow every time above; the 1-minute load average says how busy it was.
        "load_average": round(os.getloadavg()[0], 2),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scales", nargs="+", default=["0.02", "0.05", "0.1"], help="scale or scale:k_scale")
    parser.add_argument("--duration", type=float, default=1000.0, help="biological time (ms)")
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--dtype", default="float32", choices=("float32", "float64"))
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--trials", type=int, default=1, help="independent trials in one batched pass")
    parser.add_argument("--background", default="poisson", choices=("poisson", "dc"))
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--quick", action="store_true", help="scale 0.02 for 200 ms")
    parser.add_argument(
        "--out", type=Path, default=Path(__file__).resolve().parents[1] / "results" / "bench_microcircuit"
    )
    args = parser.parse_args()
    if args.quick:
        args.scales, args.duration = ["0.02"], 200.0
    torch.set_num_threads(args.threads)
    rows = []
    for text in args.scales:
        scale, k_scale = parse_scale(text)
        row = case(scale, k_scale, args)
        rows.append(row)
        print(
            f"scale {scale:g} / k {k_scale:g}: {row['neurons']} neurons, {row['synapses']} synapses;"
            f" spec {row['spec_s']} s, build {row['build_s']} s, run {row['run_s_per_bio_s']} s per biological s;"
            f" torch state {row['torch_state_mb']} MB, spec {row['spec_mb']} MB; {row['mean_rate_hz']} Hz",
            flush=True,
        )
    args.out.mkdir(parents=True, exist_ok=True)
    machine = {
        "platform": platform.platform(),
        "processor": platform.processor(),
        "torch": torch.__version__,
        "cuda_device": torch.cuda.get_device_name(0) if torch.cuda.is_available() else None,
    }
    (args.out / "results.json").write_text(json.dumps({"machine": machine, "rows": rows}, indent=1))
    with open(args.out / "results.csv", "w", newline="") as file:
        writer = csv.DictWriter(file, fieldnames=FIELDS)
        writer.writeheader()
        writer.writerows(rows)
    print(f"wrote {args.out / 'results.json'} and results.csv")


if __name__ == "__main__":
    main()
