"""CA3 memory through the exporters: pyNN.nest and pyNN.brian2 (approximate, published STDP) and SpiNNaker mapping.

For each recorded CAM experiment (spec ca3.md section 3.1: cam_exp1 functional, cam_exp2 stress,
cam_exp3 state map) the CA3 network is exported with ``to_pynn(..., approximate=True)``: the exact
integration scheme of NEST and Brian2 and the rule's published STDP (tau 3 ms, A 6, additive, w_max 6)
instead of the calibrated rule R* under the "spinnaker" scheme. Every spike is compared with the
SpiNNaker recording (matched / extra / missing, and after the best per-population lag), and the OUT
spikes are decoded into answers and compared with a perfect memory. The torch backend, which replays
the recordings exactly, is scored the same way as the reference. The networks of both sizes
(n = 5, m = 10 and n = 16, m = 6) are then mapped by sPyNNaker on a virtual SpiNN-5 board.

Writes ``results/ca3_export/metrics.json`` and ``results/ca3_export/export.png``.

Run::

    python experiments/ca3_export.py [--experiments cam_exp1 cam_exp2 cam_exp3] [--targets nest brian2]
                                     [--no-mapping] [--out results/ca3_export]
"""

from __future__ import annotations

import argparse
import importlib.util
import logging
import time
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import torch  # noqa: E402
from common import write_metrics  # noqa: E402

from neuromem.models.ca3.export import (  # noqa: E402
    EXPERIMENTS,
    MAPPINGS,
    OUT_LAG,
    PYNN_TARGETS,
    answer_score,
    experiment_setup,
    gold_comparison,
    mapping_report,
    recorded_spikes,
    run_target,
)
from neuromem.models.ca3.params import load_params  # noqa: E402
from neuromem.models.ca3.replay import replay_cam  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
MODULES = {"nest": "nest", "brian2": "brian2"}


def reference(experiment: str) -> dict[str, object]:
    """The torch backend (spinnaker scheme, rule R*), the reference, scored like the exported runs."""
    setup = experiment_setup(experiment)
    if setup.run is None:
        return {"skipped": "recorded data not found"}
    spikes, recording = replay_cam(setup.run, load_params(), "torch", dtype="float32")
    return {
        "gold": gold_comparison(setup.run, spikes),
        "answers": answer_score(setup.operations, recording.spikes_of("OUT"), setup.n),
        "spikes_simulated": {name: len(s) for name, s in recorded_spikes(recording, setup.n).items()},
    }


def figure(metrics: dict[str, object], path: Path) -> Path:
    """Bars of matched / extra / missing spikes and of answers correct, per experiment and target."""
    rows = []
    for experiment, entry in metrics["experiments"].items():  # type: ignore[union-attr]
        for target, result in entry["targets"].items():
            if "gold" in result:
                rows.append((f"{experiment.replace('cam_', '')}\n{target}", result))
    fig, (spikes_ax, answers_ax) = plt.subplots(1, 2, figsize=(14, 5), gridspec_kw={"width_ratios": [3, 2]})
    x = np.arange(len(rows))
    keys = (("matched", "#2a9d8f"), ("extra", "#e76f51"), ("missing", "#264653"), ("matched_at_best_lag", "#e9c46a"))
    for k, (key, colour) in enumerate(keys):
        values = [r["gold"][key] for _, r in rows]
        label = key.replace("_", " ") if key != "matched_at_best_lag" else "matched after best lag per population"
        spikes_ax.bar(x + (k - 1.5) * 0.2, values, 0.2, label=label, color=colour)
    spikes_ax.plot(x, [r["gold"]["recorded"] for _, r in rows], "k_", markersize=30, label="recorded (gold)")
    spikes_ax.set_xticks(x, [name for name, _ in rows], fontsize=8)
    spikes_ax.set_ylabel("spikes")
    spikes_ax.set_yscale("symlog", linthresh=10)
    spikes_ax.set_title("Spikes against the SpiNNaker recording")
    spikes_ax.legend(fontsize=7)
    for k, (key, colour) in enumerate((("answers", "#2a9d8f"), ("answers_out_lag", "#e9c46a"))):
        where = [i for i, (_, r) in enumerate(rows) if key in r]
        fraction = [rows[i][1][key]["correct"] / max(rows[i][1][key]["operations"], 1) for i in where]
        label = "at the protocol ticks" if key == "answers" else f"OUT read {OUT_LAG} ticks later"
        answers_ax.bar(np.asarray(where) + (k - 0.5) * 0.35, fraction, 0.35, label=label, color=colour)
    answers_ax.set_xticks(np.arange(len(rows)), [name for name, _ in rows], fontsize=8)
    answers_ax.set_ylim(0, 1.05)
    answers_ax.set_ylabel("operations answered correctly (fraction)")
    answers_ax.set_title("Answers against a perfect memory")
    answers_ax.legend(fontsize=7)
    fig.suptitle("CA3 memory exported (approximate: exact scheme, published STDP) vs SpiNNaker gold")
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)
    return path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--experiments", nargs="+", default=list(EXPERIMENTS), choices=list(EXPERIMENTS))
    parser.add_argument("--targets", nargs="+", default=list(PYNN_TARGETS), choices=list(PYNN_TARGETS))
    parser.add_argument("--no-mapping", action="store_true", help="skip the virtual SpiNNaker mappings")
    parser.add_argument("--out", default=str(ROOT / "results" / "ca3_export"))
    args = parser.parse_args()
    torch.set_num_threads(1)
    if "brian2" in args.targets and importlib.util.find_spec("brian2") is not None:
        # Brian2 configures its logger on import; quieten its per-object INFO lines afterwards.
        importlib.import_module("brian2")
        logging.getLogger("brian2").setLevel(logging.WARNING)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    metrics: dict[str, object] = {"experiments": {}, "mappings": {}, "skipped": []}
    for experiment in args.experiments:
        setup = experiment_setup(experiment)
        entry: dict[str, object] = {
            "n": setup.n,
            "m": setup.m,
            "sim_time_ms": setup.sim_time,
            "operations": len(setup.operations),
            "gold_available": setup.run is not None,
            "targets": {"torch": reference(experiment)},
        }
        for target in args.targets:
            if importlib.util.find_spec("pyNN") is None or importlib.util.find_spec(MODULES[target]) is None:
                metrics["skipped"].append(f"{experiment} on {target}: simulator not installed")  # type: ignore[union-attr]
                continue
            started = time.perf_counter()
            entry["targets"][target] = run_target(setup, target)  # type: ignore[index]
            print(f"{experiment} on {target}: {time.perf_counter() - started:.1f} s", flush=True)
        metrics["experiments"][experiment] = entry  # type: ignore[index]
    if not args.no_mapping:
        if importlib.util.find_spec("spynnaker") is None:
            metrics["skipped"].append("SpiNNaker mapping: sPyNNaker not installed")  # type: ignore[union-attr]
        for n, m in () if importlib.util.find_spec("spynnaker") is None else MAPPINGS:
            duration = 90.0 if (n, m) == (5, 10) else 140.0
            metrics["mappings"][f"n{n}_m{m}"] = mapping_report(n, m, duration_ms=duration)  # type: ignore[index]
            print(f"mapping n={n} m={m} done", flush=True)
    print(write_metrics(metrics, out))
    print(figure(metrics, out / "export.png"))
    for experiment, entry in metrics["experiments"].items():  # type: ignore[union-attr]
        for target, result in entry["targets"].items():
            if "gold" not in result:
                continue
            g = result["gold"]
            print(
                f"{experiment} {target}: recorded {g['recorded']} simulated {g['simulated']} matched {g['matched']}"
                f" extra {g['extra']} missing {g['missing']} matched_at_best_lag {g['matched_at_best_lag']};"
                f" answers {result['answers']['correct']}/{result['answers']['operations']}"
                + (
                    f" (OUT +{OUT_LAG}: {result['answers_out_lag']['correct']}/"
                    f"{result['answers_out_lag']['operations']})"
                    if "answers_out_lag" in result
                    else ""
                )
            )
    for key, mapping in metrics["mappings"].items():  # type: ignore[union-attr]
        print(
            f"{key}: {mapping['cores']} cores on {mapping['chips']} chips (+{mapping['system_cores']} system),"
            f" SDRAM max/core {max(mapping['sdram_bytes_per_core'].values())} B, routing ok {mapping['routing_ok']}"
            f" (max {mapping['max_routing_entries']} entries), mapped in {mapping['mapping_seconds']} s"
        )


if __name__ == "__main__":
    main()
