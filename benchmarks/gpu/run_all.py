"""Every GPU case of the engine benchmark in one offline run; writes JSON after each measurement.

Run on a machine with a CUDA GPU, the project on ``PYTHONPATH`` and no network
needed (snnTorch is not used here)::

    PYTHONPATH=$PWD python3 benchmarks/gpu/run_all.py OUT_DIR [BUDGET_SECONDS]
    DEV=cpu PYTHONPATH=$PWD python3 benchmarks/gpu/run_all.py /tmp/try 60   # small dry run on a CPU

Cases (float32, dt = 1 ms, 1 s of biological time unless said):

1. identity: CPU float64 and CUDA float64 give the same spikes and STDP weights
   (N = 1,000, 300 ms, event and dense); Poisson trains drawn on the device equal
   numpy's bit for bit (64 trials x 2,000 neurons, 4,000 steps in chunks of 256,
   p from 1e-4 to 0.5), with the fill time per chunk.
2. single networks N = 1,000 / 4,000 / 10,000 / 16,384, static and STDP, event propagation.
3. batched trials of N = 1,000: 1, 64, 256, 1,024 (trial-seconds per second).
4. N = 10,000 with STDP at dt = 0.1 ms.
5. the microcircuit at scale 0.1 and 1.0 (dt = 0.1 ms), if the budget allows.
7. fused neuron updates (``build(..., fuse=True)``): per scheme, refused or used; if used, the
   same spikes and weights as the plain update (float64, N = 1,000) and the time of N = 16,384
   with STDP fused and plain.
8. host reads (``build(..., host_reads=...)``): "never" (bounded sizes, the CUDA default) gives the
   same spikes and weights as "allowed" and as the CPU (float64, N = 1,000, with STDP), runs its
   chunks under ``torch.cuda.set_sync_debug_mode("error")``, and the time of N = 16,384 with STDP
   (dt = 1 ms) and N = 10,000 with STDP (dt = 0.1 ms) in both settings.
6. HLOP's network on the differentiable module (784-256-256-10, T = 4): ms per training batch of
   64 (forward, backward, SGD step) and per 1,000 images evaluated, with random images.

Each row records the device, build and run seconds apart, the rate and the
peak GPU memory. ``OUT_DIR/gpu.json`` is rewritten after every row, so a
timeout keeps what was measured.
"""

from __future__ import annotations

import json
import os
import sys
import time
import traceback
from pathlib import Path

import numpy as np
import torch

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from benchmarks.networks import recurrent_network  # noqa: E402
from neuromem.backends import build  # noqa: E402

OUT = Path(sys.argv[1] if len(sys.argv) > 1 else "results/bench_gpu")
BUDGET = float(sys.argv[2]) if len(sys.argv) > 2 else 540.0
DEV = os.environ.get("DEV", "cuda")
DRY = DEV == "cpu"
START = time.perf_counter()
#: Sizes of each case; a dry run on a CPU uses small ones, to check the script.
SIZES = (500,) if DRY else (1000, 4000, 10000, 16384)
TRIALS = (1, 4) if DRY else (1, 64, 256, 1024)
N_IDENTITY, N_FINE, SCALES = (200, 500, (0.02,)) if DRY else (1000, 10000, (0.1, 1.0))
REPORT: dict[str, object] = {
    "device": "cpu" if DRY else torch.cuda.get_device_name(),
    "torch": torch.__version__,
    "budget_s": BUDGET,
    "rows": [],
}


def save() -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    (OUT / "gpu.json").write_text(json.dumps(REPORT, indent=1, default=str))


def row(**fields: object) -> None:
    fields["t"] = round(time.perf_counter() - START, 1)
    REPORT["rows"].append(fields)  # type: ignore[attr-defined]
    print(json.dumps(fields, default=str), flush=True)
    save()


def left() -> float:
    return BUDGET - (time.perf_counter() - START)


def guard(name: str, need: float, fn) -> None:  # type: ignore[no-untyped-def]
    if left() < need:
        row(what=name, skipped=f"budget ({left():.0f} s left, {need:.0f} s needed)")
        return
    try:
        fn()
    except Exception as error:  # noqa: BLE001 - keep measuring the other cases
        row(what=name, error=f"{type(error).__name__}: {error}", tb=traceback.format_exc()[-1500:])


def sync() -> None:
    if not DRY:
        torch.cuda.synchronize()


def timed(
    network,
    dt: float,
    batch: int = 1,
    ms: float = 1000.0,
    propagation: str = "event",
    prepare=None,
    fuse=False,
    host_reads: str = "auto",
) -> dict[str, object]:  # type: ignore[no-untyped-def]
    if not DRY:
        torch.cuda.reset_peak_memory_stats()
    start = time.perf_counter()
    simulation = build(
        network, "torch", dt=dt, batch_size=batch, device=DEV, propagation=propagation, fuse=fuse, host_reads=host_reads
    )
    sync()
    built = time.perf_counter() - start
    simulation.run(min(50.0, ms))  # warm-up: kernels, capacities
    simulation.reset()
    if prepare is not None:
        prepare(simulation)
    sync()
    start = time.perf_counter()
    recording = simulation.run(ms)
    sync()
    seconds = time.perf_counter() - start
    return {
        "s_per_bio_s": seconds * 1000.0 / ms,
        "build_s": built,
        "rate_hz": float(np.mean([recording.rates_hz(name).mean() for name in recording.spikes])),
        "peak_mb": None if DRY else torch.cuda.max_memory_allocated() / 2**20,
    }


def identity() -> None:
    for stdp in (False, True):
        network = recurrent_network(N_IDENTITY, stdp=stdp)
        results = {}
        for device in ("cpu", DEV):
            for propagation in ("event", "dense"):
                sim = build(network, "torch", dt=1.0, device=device, dtype="float64", propagation=propagation)
                recording = sim.run(100.0 if DRY else 300.0)
                weights = sim.get_weights("ee") if stdp else None
                results[(device, propagation)] = (recording.spikes["exc"].pairs(), weights)
        spikes, weights = results[("cpu", "event")]
        for key, (s, w) in results.items():
            row(
                what="identity_f64",
                stdp=stdp,
                config=key,
                spikes=len(s),
                same_spikes=s == spikes,
                max_dw=None if w is None else float(np.abs(w - weights).max()),
            )


def poisson_identity() -> None:
    from neuromem.backends.torch.sources import PoissonSchedule
    from neuromem.spec import SpikeSourcePoisson
    from neuromem.spec.random import PoissonTrains

    trials, size, steps, chunk = (4, 300, 1024, 256) if DRY else (64, 2000, 4000, 256)
    seeds = list(range(100, 100 + trials))
    for rate, dt in ((10.0, 1.0), (10.0, 0.1), (500.0, 1.0), (0.1, 1.0)):
        source = SpikeSourcePoisson(size, rate, seed=21, start=3.0)
        device = PoissonSchedule(source, seeds, dt, torch.device(DEV), on_device=True)
        first = int(round(source.start / dt))
        trains = PoissonTrains(source.seed, np.asarray(seeds), size, source.probability(dt), first, np.inf)
        same, spikes, fills, tick = True, 0, [], 0
        while tick < steps:
            n = min(chunk, steps - tick)
            out = torch.zeros(n, trials, size, dtype=torch.bool, device=DEV)
            sync()
            start = time.perf_counter()
            device.fill(out, tick)
            sync()
            fills.append(time.perf_counter() - start)
            want = np.zeros((n, trials, size), dtype=bool)
            trial, neuron, step = trains.advance(tick + n)
            keep = step >= tick
            want[step[keep] - tick, trial[keep], neuron[keep]] = True
            same = same and bool(np.array_equal(out.cpu().numpy(), want))
            spikes += int(want.sum())
            tick += n
        row(
            what="poisson_device_identity",
            p=source.probability(dt),
            trials=trials,
            neurons=size,
            steps=steps,
            spikes=spikes,
            same_trains=same,
            fill_ms_median=1e3 * float(np.median(fills[1:])),
            passes=device.passes(chunk),
        )


def singles() -> None:
    for stdp in (False, True):
        for n in SIZES:
            if left() < 40:
                row(what="single", n=n, stdp=stdp, skipped="budget")
                continue
            row(what="single", n=n, stdp=stdp, dt_ms=1.0, **timed(recurrent_network(n, stdp=stdp), 1.0))


def batched() -> None:
    network = recurrent_network(1000)
    for batch in TRIALS:
        if left() < 40:
            row(what="batched", trials=batch, skipped="budget")
            continue
        result = timed(network, 1.0, batch=batch)
        row(what="batched", trials=batch, trial_s_per_s=batch / float(result["s_per_bio_s"]), **result)


def fine_dt() -> None:
    network = recurrent_network(N_FINE, stdp=True)
    row(what="single", n=N_FINE, stdp=True, dt_ms=0.1, **timed(network, 0.1, ms=100.0 if DRY else 500.0))


def microcircuit() -> None:
    from neuromem.models.microcircuit import apply_initial_potentials, build_network

    for scale in SCALES:
        if left() < (60 if scale < 1 else 240):
            row(what="microcircuit", scale=scale, skipped="budget")
            continue
        start = time.perf_counter()
        network = build_network(scale=scale)
        for projection in network.projections:
            network.connection_list(projection.name)
        described = time.perf_counter() - start
        result = timed(network, 0.1, ms=200.0, prepare=lambda simulation: apply_initial_potentials(simulation, 0))
        row(what="microcircuit", scale=scale, describe_s=described, **result)


def fusion() -> None:
    import dataclasses

    from neuromem.errors import CapabilityError

    for scheme in ("spinnaker", "exact"):
        small = dataclasses.replace(recurrent_network(N_IDENTITY, stdp=True), scheme=scheme)
        results = {}
        try:
            for fuse in (False, True):
                sim = build(small, "torch", dt=1.0, device=DEV, dtype="float64", fuse=fuse)
                recording = sim.run(100.0 if DRY else 300.0)
                results[fuse] = (recording.spikes["exc"].pairs(), sim.get_weights("ee"))
        except CapabilityError as error:
            row(what="fusion", scheme=scheme, refused=str(error))
            continue
        same = results[False][0] == results[True][0] and np.array_equal(results[False][1], results[True][1])
        row(what="fusion_identity_f64", scheme=scheme, spikes=len(results[True][0]), same=same)
        big = dataclasses.replace(recurrent_network(SIZES[-1], stdp=True), scheme=scheme)
        for fuse in (False, True):
            if left() < 60:
                row(what="fusion", scheme=scheme, fuse=fuse, skipped="budget")
                continue
            row(what="fusion", scheme=scheme, n=SIZES[-1], stdp=True, fuse=fuse, **timed(big, 1.0, fuse=fuse))


def host_reads() -> None:
    network = recurrent_network(N_IDENTITY, stdp=True)
    results = {}
    for device, reads in (("cpu", "allowed"), (DEV, "allowed"), (DEV, "never")):
        sim = build(network, "torch", dt=1.0, device=device, dtype="float64", propagation="event", host_reads=reads)
        recording = sim.run(100.0 if DRY else 300.0)
        results[(device, reads)] = (recording.spikes["exc"].pairs(), sim.get_weights("ee"))
    spikes, weights = results[("cpu", "allowed")]
    for key, (s, w) in results.items():
        row(
            what="host_reads_identity",
            config=key,
            spikes=len(s),
            same_spikes=s == spikes,
            max_dw=float(np.abs(w - weights).max()),
        )
    if not DRY:
        sim = build(network, "torch", dt=1.0, device=DEV, dtype="float64", propagation="event", host_reads="never")
        sim.run(50.0)  # capacities
        previous = torch.cuda.get_sync_debug_mode()
        torch.cuda.set_sync_debug_mode("error")
        try:
            sim.run(300.0)
            row(what="host_reads_sync_debug_error", ok=True)
        except Exception as error:  # noqa: BLE001 - recorded, the script goes on
            row(what="host_reads_sync_debug_error", ok=False, error=repr(error)[:2000])
        finally:
            torch.cuda.set_sync_debug_mode(previous)
    for n, dt, ms in ((SIZES[-1], 1.0, 1000.0), (N_FINE, 0.1, 100.0 if DRY else 500.0)):
        for reads in ("allowed", "never"):
            if left() < 40:
                row(what="host_reads", n=n, dt_ms=dt, host_reads=reads, skipped="budget")
                continue
            result = timed(recurrent_network(n, stdp=True), dt, ms=ms, host_reads=reads)
            row(what="host_reads", n=n, stdp=True, dt_ms=dt, host_reads=reads, **result)


def hlop() -> None:
    from neuromem.models.hlop.network import NetworkConfig, SpikingNet

    device = torch.device(DEV)
    torch.manual_seed(0)
    net = SpikingNet(NetworkConfig(hidden=(256, 256), threshold=0.5, num_steps=4)).to(device)
    x, y = torch.rand(64, 784, device=device), torch.randint(0, 10, (64,), device=device)
    images = torch.rand(1000, 784, device=device)
    optimiser = torch.optim.SGD(net.parameters(), lr=0.01)

    def batch() -> None:
        optimiser.zero_grad()
        torch.nn.functional.cross_entropy(net(x), y).backward()
        optimiser.step()

    def evaluate() -> None:
        with torch.no_grad():
            net(images)

    for name, fn, repeats in (("train_batch64", batch, 20 if DRY else 200), ("eval_1000", evaluate, 3 if DRY else 50)):
        fn()
        sync()
        start = time.perf_counter()
        for _ in range(repeats):
            fn()
        sync()
        row(what="hlop", case=name, ms=1e3 * (time.perf_counter() - start) / repeats, repeats=repeats)


if __name__ == "__main__":
    if DRY:
        torch.set_num_threads(1)
    save()
    guard("identity", 30, identity)
    guard("host_reads", 60, host_reads)
    guard("poisson_identity", 20, poisson_identity)
    guard("singles", 40, singles)
    guard("batched", 40, batched)
    guard("fine_dt", 60, fine_dt)
    guard("hlop", 20, hlop)
    guard("fusion", 60, fusion)
    guard("microcircuit", 60, microcircuit)
    row(what="done")
