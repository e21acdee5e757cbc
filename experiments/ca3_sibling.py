"""The other sPyMem memories on the CAM's parts, and the recorded sibling runs replayed on the full model.

Part 1 replays the four recorded SpiNNaker runs of the DG-CA3-CA1 one-hot memory (spec ca3.md section
3.3; learning, learning + recall, forgetting and relearning, nine mixed operations) on the full model
(``architecture="dg_ca3_ca1"``: decoder DG, CA3, encoder CA1, OUT) driven by the recorded input spikes,
and counts per population the recorded spikes simulated at their tick (matched), the recorded ones and
the simulated ones. Part 2 runs random programs of stores and recalls by address (n = 5, m = 10;
5 seeds x 100 operations) on every architecture (CA3 only, DG-CA3-CA1 with the decoder, DG-CA3-CA1
bio-inspired) at its minimum spacing with the paper's rule and with the full-rate rule, and counts
wrong recalls.

Writes ``results/ca3_sibling/metrics.json`` and ``results/ca3_sibling/raster.png``.

Run::

    python experiments/ca3_sibling.py [--seeds 5] [--operations 100] [--out results/ca3_sibling]
"""

from __future__ import annotations

import argparse
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import torch  # noqa: E402
from common import write_metrics  # noqa: E402

from neuromem.backends import build  # noqa: E402
from neuromem.models.ca3 import CA3Memory, place  # noqa: E402
from neuromem.models.ca3.gold import SIBLING_RUNS, load_run  # noqa: E402
from neuromem.models.ca3.hippocampus import ARCHITECTURES, build_architecture, timing  # noqa: E402
from neuromem.models.ca3.scenarios import random_program, wrong_recalls  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
POPULATIONS = ("DG", "CA3cue", "CA3cont", "CA1", "OUT")


def replay(name: str) -> tuple[dict[str, dict[str, int]], dict[str, set], dict[str, set]]:
    """Per population: recorded, simulated and matched spikes of recorded sibling run ``name``."""
    run = load_run(name)
    net = build_architecture("dg_ca3_ca1", run.n, run.m, inputs=run.inputs(0, run.cue_lines + run.m))
    recording = build(net, "torch", dt=1.0, dtype="float64").run(float(run.sim_time))
    simulated = {p: recording.spikes_of(p).pairs() for p in POPULATIONS}
    counts = {
        p: {
            "recorded": len(run.spikes.get(p, set())),
            "simulated": len(simulated[p]),
            "matched": len(run.spikes.get(p, set()) & simulated[p]),
        }
        for p in POPULATIONS
    }
    return counts, run.spikes, simulated


def raster(recorded: dict[str, set], simulated: dict[str, set], path: Path, title: str) -> Path:
    """Recorded spikes (circles) and simulated ones (dots), one band per population."""
    fig, ax = plt.subplots(figsize=(10, 5))
    offset, ticks = 0, []
    for population in POPULATIONS:
        size = 1 + max([i for i, _ in recorded.get(population, set()) | simulated[population]], default=0)
        for spikes, style in ((recorded.get(population, set()), dict(s=40, facecolors="none", edgecolors="k")),
                              (simulated[population], dict(s=6, c="tab:red"))):  # fmt: skip
            if spikes:
                ax.scatter([t for _, t in spikes], [offset + i for i, _ in spikes], **style)
        ticks.append((offset + size / 2, population))
        offset += size + 1
    ax.set_yticks([t for t, _ in ticks], [p for _, p in ticks])
    ax.set_xlabel("tick (ms)")
    ax.set_title(title)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)
    return path


def random_part(seeds: int, count: int) -> dict[str, dict[str, object]]:
    result: dict[str, dict[str, object]] = {}
    for architecture in ARCHITECTURES:
        spacing = timing(architecture)
        programs = []
        for seed in range(seeds):
            ops = random_program(np.random.default_rng(seed), 5, 10, count)
            ops = [op for op in ops if op.kind != "recall_by_content"]
            programs.append(place(ops, 0, spacing.spacing_after_store_ms, spacing.spacing_after_recall_ms))
        for params in ("spinnaker", "fullrate"):
            answers = CA3Memory(5, 10, batch_size=seeds, architecture=architecture, params=params).execute(programs)
            counts = [wrong_recalls(a) for a in answers]
            result[f"{architecture}, {params}"] = {
                "spacing_ms": [spacing.spacing_after_store_ms, spacing.spacing_after_recall_ms],
                "wrong_recalls_per_seed": [w for w, _ in counts],
                "recalls": int(sum(t for _, t in counts)),
            }
            print(architecture, params, result[f"{architecture}, {params}"], flush=True)
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=5)
    parser.add_argument("--operations", type=int, default=100)
    parser.add_argument("--out", default=str(ROOT / "results" / "ca3_sibling"))
    args = parser.parse_args()
    torch.set_num_threads(1)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    replays = {}
    for name in SIBLING_RUNS:
        counts, recorded, simulated = replay(name)
        replays[name] = counts
        print(name, {p: f"{c['matched']}/{c['recorded']} ({c['simulated']} simulated)" for p, c in counts.items()})
        if name == SIBLING_RUNS[-1]:
            raster(recorded, simulated, out / "raster.png", f"{name}: recorded (circles) and simulated (dots)")
    totals = {
        key: sum(c[key] for counts in replays.values() for c in counts.values())
        for key in ("recorded", "simulated", "matched")
    }
    metrics = {"replays": replays, "replay_totals": totals, "random_programs": random_part(args.seeds, args.operations)}
    print("all sibling runs:", totals)
    print(write_metrics(metrics, out))


if __name__ == "__main__":
    main()
