"""The portable CA3 set on every simulator: the recorded programs and random programs, exported through PyNN.

``neuromem/resources/parameters/ca3_portable.toml`` (derivation: ``neuromem/models/ca3/portable.py``)
is the paper's network
re-derived for exact integration and PyNN's pair STDP. Part 1 writes each recorded experiment's program
(cam_exp1 functional, cam_exp2 stress, cam_exp3 state map: 9, 60 and 20 operations) once as a standalone
PyNN script, runs it on NEST and on pyNN.brian2 from that folder, runs the same network on the torch
engine's exact scheme, and scores the answers against a perfect memory. Part 2 runs random interleaved
programs (n = 5, m = 10; stores of 1-5 bits, recalls by address, recalls by 1-3-bit or by 1-bit
fragments) at the minimum 7/6 ms spacing and at 10 ms on torch, and the 7/6 ms ones exported to NEST,
and counts wrong recalls and answers on which NEST and torch disagree.

Writes ``results/ca3_portable/metrics.json`` and ``results/ca3_portable/portable.png``.

Run::

    python experiments/ca3_portable.py [--seeds 5] [--operations 100] [--no-brian2] [--out results/ca3_portable]
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import torch  # noqa: E402
from common import write_metrics  # noqa: E402

from neuromem.models.ca3 import CA3Memory, load_params, place  # noqa: E402
from neuromem.models.ca3.portable import (  # noqa: E402
    EXPERIMENTS,
    export_operations,
    exported_program_score,
    portable_report,
    run_exported,
)
from neuromem.models.ca3.scenarios import random_program, spaced, wrong_recalls  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
N, M = 5, 10


def programs(seeds: int, count: int, fragment_bits: int, spacing_ms: int | None) -> list[list]:
    """Random programs of ``count`` operations, one per seed, scheduled at 7/6 ms or every ``spacing_ms``."""
    result = []
    for seed in range(seeds):
        ops = random_program(np.random.default_rng(seed), N, M, count, max_fragment_bits=fragment_bits)
        result.append(place(ops) if spacing_ms is None else spaced(ops, spacing_ms))
    return result


def random_part(seeds: int, count: int, out: Path) -> dict[str, object]:
    """Wrong recalls on torch at 7/6 and 10 ms; NEST on the 7/6 ms programs, answer for answer."""
    params = load_params("portable")
    rows: dict[str, object] = {}
    for fragment_bits in (1, 3):
        for spacing in (None, 10):
            label = f"{fragment_bits}-bit fragments at most, {'7/6 ms' if spacing is None else '10 ms'}"
            progs = programs(seeds, count, fragment_bits, spacing)
            started = time.perf_counter()
            memory = CA3Memory(N, M, batch_size=seeds, params=params)
            answers = memory.execute(progs)
            counts = [wrong_recalls(a) for a in answers]
            row: dict[str, object] = {
                "torch_wrong_recalls_per_seed": [w for w, _ in counts],
                "recalls": int(sum(t for _, t in counts)),
                "torch_wrong_recalls": int(sum(w for w, _ in counts)),
                "torch_seconds": round(time.perf_counter() - started, 1),
            }
            if spacing is None:
                folders = []
                for seed, ops in enumerate(progs):
                    duration = float(ops[-1].t0 + 10)
                    folder = out / "random" / f"f{fragment_bits}_{seed}"
                    folders.append(export_operations(ops, N, M, duration, folder, overwrite=True))
                started = time.perf_counter()
                run_exported(folders, "nest")
                nest_wrong, disagreements = 0, 0
                for ops, folder, got in zip(progs, folders, answers, strict=True):
                    score = exported_program_score(ops, N, M, folder, "nest")
                    nest_wrong += len([w for w in score["wrong"] if not w.startswith("S")])
                    disagreements += _disagreements(ops, folder, got)
                row["nest_wrong_recalls"] = nest_wrong
                row["nest_torch_disagreeing_answers"] = disagreements
                row["nest_seconds"] = round(time.perf_counter() - started, 1)
            rows[label] = row
            print(label, row, flush=True)
    return rows


def _disagreements(ops: list, folder: Path, torch_answers: list) -> int:
    """Answers of NEST that differ from torch's, field by field."""
    from neuromem.export.pynn import recording_from_results
    from neuromem.export.standalone import load_plan
    from neuromem.models.ca3.portable import program_network
    from neuromem.models.ca3.protocol import decode

    params = load_params("portable")
    plan, _ = load_plan(folder)
    with np.load(folder / "nest.npz", allow_pickle=False) as data:
        results = {key: data[key] for key in data.files}
    recording = recording_from_results(program_network(ops, N, M, params), plan, results)
    nest = decode(ops, recording.spikes_of("OUT"), N, timing=params.timing, dt=params.dt_ms)
    return int(sum(a != b for a, b in zip(nest, torch_answers, strict=True)))


def figure(report: dict, random: dict, path: Path) -> Path:
    """Operations answered per experiment and simulator; wrong recalls of random programs."""
    fig, (left, right) = plt.subplots(1, 2, figsize=(13, 4.5))
    experiments = list(report)
    simulators = sorted({s for e in report.values() for s in e})
    width = 0.8 / max(1, len(simulators))
    for k, simulator in enumerate(simulators):
        values = [
            report[e][simulator]["correct"] / report[e][simulator]["operations"] if simulator in report[e] else 0
            for e in experiments
        ]
        left.bar(np.arange(len(experiments)) + k * width, values, width, label=simulator)
    left.set_xticks(np.arange(len(experiments)) + width * (len(simulators) - 1) / 2, experiments)
    left.set_ylim(0, 1.05)
    left.set_ylabel("operations answered as a perfect memory")
    left.set_title("recorded programs, portable set")
    left.legend(fontsize=8)
    labels = list(random)
    rates = [random[k]["torch_wrong_recalls"] / random[k]["recalls"] for k in labels]
    right.bar(range(len(labels)), rates, color="#e76f51")
    right.set_xticks(range(len(labels)), labels, fontsize=7, rotation=12)
    right.set_ylabel("wrong recalls (torch)")
    right.set_title("random programs")
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)
    return path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=5)
    parser.add_argument("--operations", type=int, default=100)
    parser.add_argument("--no-brian2", action="store_true", help="skip pyNN.brian2 (about a minute per program)")
    parser.add_argument("--out", default=str(ROOT / "results" / "ca3_portable"))
    args = parser.parse_args()
    torch.set_num_threads(1)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    simulators = ("torch", "nest") if args.no_brian2 else ("torch", "nest", "brian2")
    started = time.perf_counter()
    report = portable_report(tuple(EXPERIMENTS), simulators, out / "exported")
    for experiment, scores in report.items():
        print(experiment, {s: f"{r['correct']}/{r['operations']}" for s, r in scores.items()}, flush=True)
    metrics: dict[str, object] = {
        "params": "portable",
        "recorded_programs": report,
        "recorded_programs_seconds": round(time.perf_counter() - started, 1),
    }
    metrics["random_programs"] = random_part(args.seeds, args.operations, out)
    metrics["figure"] = str(figure(report, metrics["random_programs"], out / "portable.png"))  # type: ignore[arg-type]
    print(write_metrics(metrics, out))


if __name__ == "__main__":
    main()
