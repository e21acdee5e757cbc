"""The Potjans & Diesmann (2014) cortical microcircuit on torch, against NEST and the published rates.

Two checks:

1. **torch against NEST, the same network.** The microcircuit at ``--compare-scale``
   (neurons and in-degrees, with the reference DC compensation) runs on torch
   (CPU, float64) and through the PyNN export on NEST (``neuromem.export.to_pynn``,
   the network unchanged: connection lists, and the background as the very
   same Poisson trains, drawn by the project's counter-based generator). Both
   start every neuron of a population at the population's mean potential (the
   spec's ``v_init``). Per-population rates and mean CV of the inter-spike
   intervals over ``[--skip, --compare-ms)`` must agree within 10 %; the script
   also reports when the two first differ by one spike.
2. **torch against the reference, at scale and at full scale.** The microcircuit at
   ``--large-scale`` / ``--large-k-scale`` runs ``--trials`` independent trials
   in one batched torch pass (float32, per-neuron normal initial potentials as
   in NEST's example), discarding the first ``--presim`` ms as the references
   do. Its per-population rates are compared with an independent realization
   of the same scaled model built natively in NEST the way NEST's example
   builds it (``experiments/microcircuit_nest_native.py``: NEST's own
   ``fixed_total_number`` wiring, weight and delay draws and
   ``poisson_generator`` background), and with the full-scale rates of
   NEST's example, ``pynest/examples/Potjans_2014/network_params.py``
   (``full_mean_rates``: 0.903, 2.965, 4.414, 5.876, 7.569, 8.633, 1.105,
   7.829 Hz for L2/3e ... L6i, "obtained by running this PyNEST microcircuit
   [...] with both N_scaling and K_scaling set to 1"), and with PyNN's example
   (``examples/Potjans2014/network_params.py``: 0.971, 2.868, 4.746, 5.396,
   8.142, 9.078, 0.991, 7.523 Hz). Potjans & Diesmann (2014, Fig. 6) show the
   same ordering: L2/3e and L6e below 1.5 Hz, L5 highest.

It also records the memory the description and the torch state take at each
scale, extrapolated to the full scale (``neuromem.models.microcircuit.memory``).

Usage::

    python experiments/microcircuit.py            # compare at scale 0.05 for 1 s, large scale 0.1 for 1.5 s
    python experiments/microcircuit.py --quick    # scale 0.02 for 0.4 s, no large-scale run
    python experiments/microcircuit.py --compare-scale 0.1 --large-scale 0.2 --trials 2

Writes ``results/microcircuit/{metrics.json, raster.png, rates.png, cv_isi.png}``.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import matplotlib  # noqa: E402

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import torch  # noqa: E402

from neuromem.backends import build  # noqa: E402
from neuromem.errors import ExportError  # noqa: E402
from neuromem.export.pynn import to_pynn  # noqa: E402
from neuromem.models.microcircuit import (  # noqa: E402
    PD14,
    POPULATIONS,
    apply_initial_potentials,
    build_network,
    cv_isi,
    first_difference_ms,
    full_synapse_counts,
    rate_hz,
    summary,
)
from neuromem.models.microcircuit.memory import spec_bytes  # noqa: E402
from neuromem.record import Recording  # noqa: E402

#: PyNN's example (examples/Potjans2014/network_params.py), full scale (Hz).
PYNN_FULL_RATES = (0.971, 2.868, 4.746, 5.396, 8.142, 9.078, 0.991, 7.523)
TOLERANCE = 0.10


def run_torch(scale: float, k_scale: float, duration: float, dtype: str, trials: int, seed: int, v0: bool) -> dict:
    """Build and run on torch; returns the recording, timings and memory."""
    start = time.perf_counter()
    network = build_network(scale=scale, k_scale=k_scale, seed=seed)
    spec_built = time.perf_counter() - start
    start = time.perf_counter()
    simulation = build(network, "torch", dt=0.1, dtype=dtype, batch_size=trials, seed=seed)
    if v0:
        apply_initial_potentials(simulation, seed=seed)
    built = time.perf_counter() - start
    start = time.perf_counter()
    recording = simulation.run(duration)
    ran = time.perf_counter() - start
    usage = spec_bytes(network)
    return {
        "network": network,
        "recording": recording,
        "seconds": {"spec": spec_built, "build": built, "run": ran},
        "memory": {
            "synapses": usage.synapses,
            "neurons": int(sum(network.size(p) for p in POPULATIONS)),
            "sources": int(sum(p.size for p in network.populations if p.is_source)),
            "spec_bytes": usage.total,
            "spec_bytes_per_synapse": usage.per_synapse,
            "torch_state_bytes": simulation.memory_bytes(),
        },
    }


def run_nest(network: object, duration: float, seed: int) -> dict:
    """The same network through the PyNN export on NEST; None where pyNN.nest is missing."""
    start = time.perf_counter()
    try:
        recording = to_pynn(network, "nest", duration=duration, dt=0.1, trial_seed=seed)  # type: ignore[arg-type]
    except ExportError as error:
        return {"error": str(error)}
    return {"recording": recording, "seconds": {"build_and_run": time.perf_counter() - start}}


def finite(value: object) -> object:
    """``value`` with NaN and infinities replaced by None, for strict JSON."""
    if isinstance(value, float):
        return value if np.isfinite(value) else None
    if isinstance(value, dict):
        return {k: finite(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [finite(v) for v in value]
    return value


def relative(a: float, b: float) -> float:
    """|a - b| / b (inf where b is 0 and a is not)."""
    if b == 0:
        return 0.0 if a == 0 else float("inf")
    return abs(a - b) / abs(b)


def compare(args: argparse.Namespace) -> dict:
    """Check 1: torch and NEST on the same network."""
    scale = args.compare_scale
    torch_run = run_torch(scale, scale, args.compare_ms, "float64", 1, args.seed, v0=False)
    print(f"torch, scale {scale}: {torch_run['seconds']} s", flush=True)
    nest_run = run_nest(torch_run["network"], args.compare_ms, args.seed)
    result: dict[str, object] = {
        "scale": scale,
        "k_scale": scale,
        "duration_ms": args.compare_ms,
        "window_ms": [args.skip, args.compare_ms],
        "torch": {"seconds": torch_run["seconds"], "memory": torch_run["memory"]},
    }
    stats_torch = summary(torch_run["recording"], POPULATIONS, args.skip, args.compare_ms)
    result["torch"]["populations"] = stats_torch  # type: ignore[index]
    result["recordings"] = (torch_run["recording"],)
    if "error" in nest_run:
        print(f"NEST skipped: {nest_run['error']}")
        result["nest"] = {"skipped": nest_run["error"]}
        return result
    print(f"NEST through PyNN: {nest_run['seconds']} s", flush=True)
    stats_nest = summary(nest_run["recording"], POPULATIONS, args.skip, args.compare_ms)
    differ = first_difference_ms(torch_run["recording"], nest_run["recording"], POPULATIONS)
    deviations = {
        name: {key: relative(stats_torch[name][key], stats_nest[name][key]) for key in ("rate_hz", "cv_isi")}
        for name in POPULATIONS
    }
    result["nest"] = {"seconds": nest_run["seconds"], "populations": stats_nest}
    result["relative_difference"] = deviations
    result["identical_spikes_until_ms"] = differ if differ is not None else args.compare_ms
    result["within_10_percent"] = all(v <= TOLERANCE for d in deviations.values() for v in d.values())
    result["recordings"] = (torch_run["recording"], nest_run["recording"])
    for name in POPULATIONS:
        a, b = stats_torch[name], stats_nest[name]
        print(
            f"  {name}: rate {a['rate_hz']:.3f} / {b['rate_hz']:.3f} Hz,"
            f" CV {a['cv_isi']:.3f} / {b['cv_isi']:.3f} (torch / NEST)"
        )
    print(
        f"  identical spikes until {result['identical_spikes_until_ms']} ms; within 10 %: {result['within_10_percent']}"
    )
    return result


def native_reference(scale: float, k_scale: float, args: argparse.Namespace) -> dict:
    """Rates of the same scaled model built natively in NEST (subprocess); an error entry where NEST is missing."""
    command = [
        sys.executable,
        str(ROOT / "experiments" / "microcircuit_nest_native.py"),
        *("--scale", str(scale), "--k-scale", str(k_scale), "--duration", str(args.large_ms)),
        *("--start", str(args.presim), "--seed", str(args.seed)),
    ]
    done = subprocess.run(command, capture_output=True, text=True, timeout=7200)
    if done.returncode != 0:
        return {"error": done.stderr.strip().splitlines()[-1] if done.stderr.strip() else f"exit {done.returncode}"}
    return json.loads(done.stdout.strip().splitlines()[-1])


def large(args: argparse.Namespace) -> dict:
    """Check 2: torch at the largest scale against native NEST at that scale and the published full-scale rates."""
    scale, k_scale = args.large_scale, args.large_k_scale
    run = run_torch(scale, k_scale, args.large_ms, "float32", args.trials, args.seed, v0=True)
    recording: Recording = run["recording"]
    window = (args.presim, args.large_ms)
    rates = np.array([[rate_hz(recording, n, *window, trial) for n in POPULATIONS] for trial in range(args.trials)])
    mean = rates.mean(axis=0)
    print(f"torch, scale {scale} / k {k_scale}, {args.trials} trials: {run['seconds']} s", flush=True)
    native = native_reference(scale, k_scale, args)
    result: dict[str, object] = {
        "scale": scale,
        "k_scale": k_scale,
        "trials": args.trials,
        "duration_ms": args.large_ms,
        "window_ms": list(window),
        "seconds": run["seconds"],
        "memory": run["memory"],
        "rates_hz": dict(zip(POPULATIONS, mean.tolist())),
        "rates_hz_per_trial": rates.tolist(),
        "cv_isi_trial0": {n: cv_isi(recording, n, *window) for n in POPULATIONS},
        "native_nest": native,
        "published_nest_hz": dict(zip(POPULATIONS, PD14.full_mean_rates)),
        "published_pynn_hz": dict(zip(POPULATIONS, PYNN_FULL_RATES)),
        "relative_to_published_nest": {n: relative(m, r) for n, m, r in zip(POPULATIONS, mean, PD14.full_mean_rates)},
        "relative_to_published_pynn": {n: relative(m, r) for n, m, r in zip(POPULATIONS, mean, PYNN_FULL_RATES)},
        "recording": recording,
    }
    if "rates_hz" in native:
        result["relative_to_native_nest"] = {n: relative(m, native["rates_hz"][n]) for n, m in zip(POPULATIONS, mean)}
    else:
        print(f"native NEST reference skipped: {native.get('error')}")
    for i, name in enumerate(POPULATIONS):
        same = f", native NEST at this scale {native['rates_hz'][name]:.3f}" if "rates_hz" in native else ""
        print(f"  {name}: {mean[i]:.3f} Hz{same}, published full scale {PD14.full_mean_rates[i]:.3f} Hz")
    return result


def memory_rows(rows: list[dict]) -> dict:
    """Bytes per synapse at the largest run, times the full model's synapses (the per-synapse terms dominate)."""
    full_synapses = float(np.round(full_synapse_counts()).sum())
    best = max(rows, key=lambda r: r["synapses"])
    spec_per = best["spec_bytes"] / best["synapses"]
    torch_per = best["torch_state_bytes"] / best["synapses"]
    return {
        "runs": rows,
        "full_scale_synapses": full_synapses,
        "measured_at_synapses": best["synapses"],
        "spec_bytes_per_synapse": spec_per,
        "torch_bytes_per_synapse": torch_per,
        "full_scale_spec_gb": spec_per * full_synapses / 1e9,
        "full_scale_torch_state_gb": torch_per * full_synapses / 1e9,
    }


def bar_plot(path: Path, ylabel: str, series: list[tuple[str, list[float], str | None]]) -> None:
    """Grouped bars, one group per population, one bar per series (label, values, colour)."""
    x = np.arange(len(POPULATIONS))
    width = 0.8 / max(len(series), 1)
    fig, ax = plt.subplots(figsize=(8, 3.8))
    for i, (label, values, colour) in enumerate(series):
        ax.bar(x + (i - (len(series) - 1) / 2) * width, values, width, label=label, color=colour)
    ax.set_xticks(x, [p.replace("23", "2/3") for p in POPULATIONS])
    ax.set_ylabel(ylabel)
    ax.legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(path, dpi=130)
    plt.close(fig)


def plots(out: Path, compared: dict | None, large_run: dict | None) -> None:
    rates: list[tuple[str, list[float], str | None]] = []
    cvs: list[tuple[str, list[float], str | None]] = []
    for key, label in (("torch", "torch"), ("nest", "NEST (PyNN export)")) if compared else ():
        scale = compared["scale"]  # type: ignore[index]
        stats = compared[key].get("populations")  # type: ignore[index]
        if stats:
            rates.append((f"{label}, scale {scale}", [stats[n]["rate_hz"] for n in POPULATIONS], None))
            cvs.append((f"{label}, scale {scale}", [stats[n]["cv_isi"] for n in POPULATIONS], None))
    if large_run:
        where = f"scale {large_run['scale']} / k {large_run['k_scale']}"
        rates.append((f"torch, {where}", list(large_run["rates_hz"].values()), None))
        cvs.append((f"torch, {where}", list(large_run["cv_isi_trial0"].values()), None))
        native = large_run["native_nest"]
        if "rates_hz" in native:
            rates.append((f"native NEST, {where}", [native["rates_hz"][n] for n in POPULATIONS], None))
        rates.append(("NEST, full scale (published)", list(PD14.full_mean_rates), "0.3"))
    bar_plot(out / "rates.png", "rate (Hz)", rates)
    bar_plot(out / "cv_isi.png", "mean CV of ISI", cvs)
    if large_run or compared:
        recording = large_run["recording"] if large_run else compared["recordings"][0]  # type: ignore[index]
        raster(recording, out / "raster.png")


def raster(recording: Recording, path: Path, per_population: int = 200, window: float = 200.0) -> None:
    """The last ``window`` ms of trial 0, at most ``per_population`` neurons of each population, L2/3 on top."""
    fig, ax = plt.subplots(figsize=(8, 6))
    stop = recording.stop_tick * recording.dt
    base = 0
    centres = []
    for name in reversed(POPULATIONS):
        trains = recording.spikes_of(name).of_trial(0)
        keep = (trains.neuron < per_population) & (trains.tick * recording.dt >= stop - window)
        shown = min(per_population, recording.sizes[name])
        colour = "#af143c" if name.endswith("E") else "#595289"
        ax.scatter(trains.tick[keep] * recording.dt, base + trains.neuron[keep], s=1, color=colour, marker=".")
        centres.append(base + shown / 2)
        base += shown + 10
    ax.set_yticks(centres, [p.replace("23", "2/3") for p in reversed(POPULATIONS)])
    ax.set_xlabel("time (ms)")
    ax.set_title(f"microcircuit on torch, at most {per_population} neurons per population")
    fig.tight_layout()
    fig.savefig(path, dpi=130)
    plt.close(fig)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="scale 0.02 for 0.4 s, no large-scale run")
    parser.add_argument("--compare-scale", type=float, default=0.05)
    parser.add_argument("--compare-ms", type=float, default=1000.0)
    parser.add_argument("--skip", type=float, default=100.0, help="ms left out of the NEST comparison's statistics")
    parser.add_argument("--large-scale", type=float, default=0.1)
    parser.add_argument("--large-k-scale", type=float, default=0.1)
    parser.add_argument("--large-ms", type=float, default=1500.0)
    parser.add_argument("--presim", type=float, default=500.0, help="ms discarded before the large-scale statistics")
    parser.add_argument("--trials", type=int, default=2)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--parts", nargs="+", choices=("compare", "large"), default=["compare", "large"])
    parser.add_argument("--out", type=Path, default=ROOT / "results" / "microcircuit")
    args = parser.parse_args()
    if args.quick:
        args.compare_scale, args.compare_ms = 0.02, 400.0
    torch.set_num_threads(args.threads)
    args.out.mkdir(parents=True, exist_ok=True)
    compared = compare(args) if "compare" in args.parts else None
    large_run = large(args) if "large" in args.parts and not args.quick else None
    rows = ([compared["torch"]["memory"]] if compared else []) + ([large_run["memory"]] if large_run else [])
    metrics = {
        "threads": args.threads,
        "dt_ms": 0.1,
        "seed": args.seed,
        "compare": {k: v for k, v in compared.items() if k != "recordings"} if compared else None,
        "large": {k: v for k, v in large_run.items() if k != "recording"} if large_run else None,
        "memory": memory_rows(rows),
    }
    plots(args.out, compared, large_run)
    (args.out / "metrics.json").write_text(json.dumps(finite(metrics), indent=1, allow_nan=False))
    print(f"wrote {args.out / 'metrics.json'}")


if __name__ == "__main__":
    main()
