"""Simulator benchmark: torch against Brian2 (numpy, cython) and NEST, in one run.

N = 1,000 / 4,000 / 10,000 LIF neurons, 10% random recurrent connectivity,
Poisson drive, 1 s of biological time at dt = 1 ms and 0.1 ms, with and without
STDP. Every row gives wall time per simulated second, peak memory of the
simulator state where known, and the ratio to Brian2 cython (> 1: slower than
Brian2 cython). A batched case runs 64 independent trials of the N = 1,000
network in one torch pass against 64 sequential Brian2 runs.

Times are of the run alone: the wiring is drawn once for all simulators and each
network is built before its clock starts; build times have their own column.
NEST runs through the PyNN export, where build and run are one call.

Usage::

    python benchmarks/simulators.py              # the full table (tens of minutes on 2 cores)
    python benchmarks/simulators.py --quick      # N = 1,000 only, dt = 1 ms
    python benchmarks/simulators.py --sizes 1000 4000 --dts 1.0 --simulators torch brian2-cython

Writes ``results/bench_simulators/{results.json, results.csv}``.
"""

from __future__ import annotations

import argparse
import csv
import gc
import json
import platform
import resource
import sys
import time
from collections.abc import Callable
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.networks import recurrent_network  # noqa: E402
from neuromem.backends import available_backends, build  # noqa: E402
from neuromem.errors import NeuromemError  # noqa: E402
from neuromem.spec import Network  # noqa: E402

SIMULATORS = ("torch", "torch-cuda", "brian2-numpy", "brian2-cython", "nest")


def _builder(simulator: str, network: Network, dt: float, batch: int = 1) -> Callable[[], tuple[object, float]]:
    """A function that builds ``network`` and runs 1 s; returns (recording, build seconds)."""
    if simulator.startswith("torch"):
        device = "cuda" if simulator == "torch-cuda" else "cpu"

        def run() -> tuple[object, float]:
            start = time.perf_counter()
            simulation = build(network, "torch", dt=dt, batch_size=batch, device=device)
            built = time.perf_counter() - start
            recording = simulation.run(1000.0)
            recording.memory_bytes = simulation.memory_bytes()  # type: ignore[attr-defined]
            return recording, built

        return run
    if simulator.startswith("brian2"):
        target = simulator.split("-")[1]

        def run() -> tuple[object, float]:
            start = time.perf_counter()
            simulation = build(network, "brian2", dt=dt, codegen_target=target)
            built = time.perf_counter() - start
            return simulation.run(1000.0), built

        return run
    if simulator == "nest":
        import pyNN.nest as sim

        from neuromem.export.pynn import to_pynn

        # PyNN builds and runs in one call: the build time is part of the run here.
        return lambda: (to_pynn(network, sim, duration=1000.0, dt=dt), 0.0)
    raise ValueError(simulator)


def available(simulator: str) -> bool:
    if simulator == "torch":
        return True
    if simulator == "torch-cuda":
        return torch.cuda.is_available()
    if simulator.startswith("brian2"):
        return "brian2" in available_backends()
    if simulator == "nest":
        try:
            import pyNN.nest  # noqa: F401

            import neuromem.export.pynn  # noqa: F401
        except Exception:  # noqa: BLE001 - any import failure means "not here"
            return False
        return True
    return False


def measure(simulator: str, network: Network, dt: float, batch: int = 1, repeats: int = 1) -> dict[str, object]:
    """Time the run of 1 s (best of ``repeats``); build and compilation warm-up are kept apart."""
    for projection in network.projections:
        network.connection_list(projection.name)  # wiring is drawn once, outside every timing
    run = _builder(simulator, network, dt, batch)
    if simulator == "brian2-cython":
        run()  # compile once; later runs hit the cache, as a user's would
    best, build_seconds = float("inf"), 0.0
    recording = None
    for _ in range(repeats):
        gc.collect()
        if simulator == "torch-cuda":
            torch.cuda.synchronize()
        start = time.perf_counter()
        recording, build_seconds = run()
        if simulator == "torch-cuda":
            torch.cuda.synchronize()
        best = min(best, time.perf_counter() - start - build_seconds)
    rate = None
    if recording is not None and hasattr(recording, "rates_hz"):
        rate = float(recording.rates_hz("exc").mean())  # type: ignore[attr-defined]
    memory = getattr(recording, "memory_bytes", None)
    return {
        "seconds": best,
        "build_seconds": build_seconds,
        "rate_exc_hz": rate,
        "state_mb": None if memory is None else memory / 2**20,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", type=int, nargs="+", default=[1000, 4000, 10000])
    parser.add_argument("--dts", type=float, nargs="+", default=[1.0, 0.1])
    parser.add_argument("--simulators", nargs="+", default=list(SIMULATORS), choices=SIMULATORS)
    parser.add_argument("--no-stdp", action="store_true", help="only the static networks")
    parser.add_argument("--batch", type=int, default=64, help="trials of the batched case (0 to skip)")
    parser.add_argument("--quick", action="store_true", help="N = 1,000, dt = 1 ms, batch 16")
    parser.add_argument(
        "--max-seconds",
        type=float,
        default=600.0,
        help="skip a simulator at larger sizes once one run took longer than this",
    )
    parser.add_argument("--repeats", type=int, default=1, help="best of this many runs per row (noisy machines)")
    parser.add_argument("--threads", type=int, default=1, help="torch CPU threads (1 is fastest on small machines)")
    parser.add_argument("--out", type=Path, default=Path("results/bench_simulators"))
    args = parser.parse_args(argv)
    if args.quick:
        args.sizes, args.dts, args.batch = [1000], [1.0], 16
    torch.set_num_threads(args.threads)
    rows: list[dict[str, object]] = []
    too_slow: set[tuple[str, float, bool]] = set()
    for stdp in [False] if args.no_stdp else [False, True]:
        for dt in args.dts:
            for n in args.sizes:
                network = recurrent_network(n, stdp=stdp)
                for simulator in args.simulators:
                    if not available(simulator) or (simulator, dt, stdp) in too_slow:
                        continue
                    try:
                        result = measure(simulator, network, dt, repeats=args.repeats)
                    except NeuromemError as error:
                        print(f"  {simulator}: not run ({error})", flush=True)
                        continue
                    row = {"case": "single", "simulator": simulator, "n": n, "dt_ms": dt, "stdp": stdp, **result}
                    rows.append(row)
                    print(
                        f"N={n:>6} dt={dt:<4} stdp={stdp!s:<5} {simulator:<14} {result['seconds']:8.2f} s/sim-s"
                        f"  rate {result['rate_exc_hz']}",
                        flush=True,
                    )
                    if float(result["seconds"]) > args.max_seconds:  # type: ignore[arg-type]
                        too_slow.add((simulator, dt, stdp))
    if args.batch:
        network = recurrent_network(1000)
        batched = measure("torch", network, 1.0, batch=args.batch, repeats=args.repeats)
        rows.append(
            {"case": f"batch{args.batch}", "simulator": "torch", "n": 1000, "dt_ms": 1.0, "stdp": False, **batched}
        )
        if available("brian2-cython"):
            # The same trials one after another, as a Brian2 user would run them.
            one = measure("brian2-cython", network, 1.0)
            sequential = 0.0
            for trial in range(args.batch):
                simulation = build(network, "brian2", dt=1.0, codegen_target="cython", seed=trial)
                start = time.perf_counter()
                simulation.run(1000.0)
                sequential += time.perf_counter() - start
            rows.append(
                {
                    "case": f"batch{args.batch}",
                    "simulator": "brian2-cython",
                    "n": 1000,
                    "dt_ms": 1.0,
                    "stdp": False,
                    "seconds": sequential,
                    "rate_exc_hz": one["rate_exc_hz"],
                }
            )
        print(
            f"batched {args.batch} trials: "
            + ", ".join(f"{r['simulator']} {r['seconds']:.2f} s" for r in rows if r["case"] == f"batch{args.batch}"),
            flush=True,
        )
    _add_ratios(rows)
    args.out.mkdir(parents=True, exist_ok=True)
    meta = {
        "machine": platform.processor() or platform.machine(),
        "cpu_threads": torch.get_num_threads(),
        "cuda": torch.cuda.get_device_name() if torch.cuda.is_available() else None,
        "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        "biological_time_s": 1.0,
    }
    (args.out / "results.json").write_text(json.dumps({"meta": meta, "rows": rows}, indent=1))
    with open(args.out / "results.csv", "w", newline="") as file:
        writer = csv.DictWriter(file, fieldnames=sorted({k for r in rows for k in r}))
        writer.writeheader()
        writer.writerows(rows)
    print(_markdown(rows))
    return 0


def _add_ratios(rows: list[dict[str, object]]) -> None:
    """Ratio of each time to Brian2 cython on the same case (> 1 is slower)."""
    reference = {
        (r["case"], r["n"], r["dt_ms"], r["stdp"]): r["seconds"] for r in rows if r["simulator"] == "brian2-cython"
    }
    for row in rows:
        ref = reference.get((row["case"], row["n"], row["dt_ms"], row["stdp"]))
        row["ratio_to_brian2_cython"] = None if ref is None else float(row["seconds"]) / float(ref)  # type: ignore[arg-type]


def _markdown(rows: list[dict[str, object]]) -> str:
    lines = [
        "| case | N | dt (ms) | STDP | simulator | s per sim-s | build (s) | ratio to Brian2 cython |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        ratio = r["ratio_to_brian2_cython"]
        lines.append(
            f"| {r['case']} | {r['n']} | {r['dt_ms']} | {r['stdp']} | {r['simulator']} | {float(r['seconds']):.2f} |"  # type: ignore[arg-type]
            f" {float(r.get('build_seconds') or 0.0):.2f} | {'' if ratio is None else f'{ratio:.2f}'} |"  # type: ignore[arg-type]
        )
    return "\n".join(lines)


if __name__ == "__main__":
    raise SystemExit(main())
