"""CA3 memory at the full operation rate: wrong recalls of random programs against spacing, per parameter set.

Random interleaved programs (n = 5, m = 10; stores of 1-5 bits at random addresses, recalls by address,
recalls by 1-3-bit fragments; spec ca3.md section 6 H5) run at spacings from the published minimum
(7 ms after a store, 6 ms after a recall) to 14 ms, all seeds of one setting in one batched torch pass.
Parameter sets: ``spinnaker`` (the paper's calibrated rule R*, tau 1.5 ms, 12 nA; the default),
``amplitude36`` (R*, tau 1 ms, 36 nA) and ``fullrate`` (R*, tau 0.75 ms, 36 nA, and neuron set B that
forgets within one step; see neuromem/resources/parameters/ca3_fullrate.toml),
plus the two halves of ``fullrate`` alone.
For every program: recalls that differ from a perfect memory (the answer, not the echo), and the
weights outside the stored patterns at the end (how many exceed 1 nA, the largest). Every setting
also replays the recorded SpiNNaker runs (spike for spike).

Writes ``results/ca3_rate/metrics.json`` and ``results/ca3_rate/error_rate.png``.

Run::

    python experiments/ca3_rate.py [--seeds 5] [--operations 100] [--out results/ca3_rate]
"""

from __future__ import annotations

import argparse
import time
from dataclasses import replace
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import torch  # noqa: E402
from common import write_metrics  # noqa: E402

from neuromem.models.ca3 import CA3Memory, CA3Params, ideal_answers, load_params, place  # noqa: E402
from neuromem.models.ca3.gold import CAM_RUNS, SIBLING_RUNS, compare, load_run  # noqa: E402
from neuromem.models.ca3.replay import replay_cam, replay_sibling  # noqa: E402
from neuromem.models.ca3.scenarios import random_program, wrong_recalls  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
N, M = 5, 10
#: (after a store, after a recall) in ms; the first is the published minimum.
SPACINGS = ((7, 6), (8, 7), (9, 8), (10, 10), (12, 12), (14, 14))


def parameter_sets() -> dict[str, CA3Params]:
    """The three sets, and the two changes of ``fullrate`` each on its own."""
    paper, fullrate = load_params("spinnaker"), load_params("fullrate")
    cells = dict(paper.cells)
    cells["B"] = fullrate.cells["B"]
    return {
        "spinnaker": paper,
        "amplitude36": load_params("amplitude36"),
        "fullrate": fullrate,
        "fullrate rule only": replace(paper, rule=fullrate.rule, name="fullrate_rule"),
        "fullrate cells only": replace(paper, cells=cells, name="fullrate_cells"),
    }


def schedule(ops: list, after_store: int, after_recall: int) -> list:
    """``ops`` at the given spacings."""
    return place(ops, 0, after_store, after_recall)


def run(params: CA3Params, seeds: int, count: int, spacing: tuple[int, int]) -> dict[str, object]:
    """Wrong recalls and cross-talk weights of ``seeds`` random programs at ``spacing``, in one batch."""
    programs = [schedule(random_program(np.random.default_rng(s), N, M, count), *spacing) for s in range(seeds)]
    memory = CA3Memory(N, M, batch_size=seeds, params=params)
    answers = memory.execute(programs, spacing_after_store_ms=spacing[0], spacing_after_recall_ms=spacing[1])
    counts = [wrong_recalls(a) for a in answers]
    weights = memory.weights()
    above, largest = [], []
    for trial, program in enumerate(programs):
        _, stored = ideal_answers(program)
        mask = np.zeros((N, M), dtype=bool)
        for address, bits in stored.items():
            mask[address, list(bits)] = True
        other = np.concatenate([weights["cue_to_content"][trial][~mask], weights["content_to_cue"][trial].T[~mask]])
        above.append(int((other > 1.0).sum()))
        largest.append(round(float(other.max()), 3))
    wrong = [w for w, _ in counts]
    recalls = int(sum(t for _, t in counts))
    return {
        "wrong_recalls_per_seed": wrong,
        "recalls": recalls,
        "error_rate": round(sum(wrong) / recalls, 4),
        "other_weights_above_1nA_per_seed": above,
        "other_weight_max_nA_per_seed": largest,
    }


def gold(params: CA3Params) -> dict[str, bool]:
    """Whether each recorded run is replayed spike for spike."""
    result = {}
    for name in CAM_RUNS:
        recorded = load_run(name)
        result[name] = compare(recorded, replay_cam(recorded, params, dtype="float64")[0]).exact
    for name in SIBLING_RUNS:
        recorded = load_run(name)
        result[name] = compare(recorded, replay_sibling(recorded, params, dtype="float64")).exact
    return result


def figure(results: dict[str, dict[str, dict]], path: Path) -> Path:
    fig, ax = plt.subplots(figsize=(7.5, 4.2))
    for name, rows in results.items():
        labels = list(rows)
        ax.plot(range(len(labels)), [100 * rows[k]["error_rate"] for k in labels], "o-", label=name)
    ax.set_xticks(range(len(labels)), labels)
    ax.set_xlabel("spacing after a store / after a recall (ms)")
    ax.set_ylabel("wrong recalls (%)")
    ax.set_title(f"random programs, n = {N}, m = {M}")
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)
    return path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=5)
    parser.add_argument("--operations", type=int, default=100)
    parser.add_argument("--out", default=str(ROOT / "results" / "ca3_rate"))
    args = parser.parse_args()
    torch.set_num_threads(1)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    results: dict[str, dict[str, dict]] = {}
    replays: dict[str, dict[str, bool]] = {}
    started = time.perf_counter()
    for name, params in parameter_sets().items():
        replays[name] = gold(params)
        results[name] = {}
        for spacing in SPACINGS:
            row = run(params, args.seeds, args.operations, spacing)
            results[name][f"{spacing[0]}/{spacing[1]}"] = row
            print(name, spacing, row["wrong_recalls_per_seed"], row["error_rate"], flush=True)
    metrics = {
        "n": N,
        "m": M,
        "seeds": args.seeds,
        "operations_per_seed": args.operations,
        "results": results,
        "gold_replayed_exactly": replays,
        "seconds": round(time.perf_counter() - started, 1),
        "figure": str(figure(results, out / "error_rate.png")),
    }
    print(write_metrics(metrics, out))


if __name__ == "__main__":
    main()
