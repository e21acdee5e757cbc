"""CA3 memory, capacity and scale: recall quality and run time as n (addresses) and m (bits) grow.

For every (n, m) every address is written once with a random content of k = max(1, round(density m))
bits, one batch trial per density, at the minimum spacing (7 ms after a write); then Q recalls by
address and Q recalls by content (fragments of half a stored content) run as batched queries against
the learned state, one write spacing after the last write. Quality is measured against a perfect
memory: exact-answer rates, false and missed addresses per recall by content, wrong bits per recall by
address. The largest size is repeated with 10 ms spacing to separate the effects that outlast one
operation (STDP tails, a late CueCont spike after dense writes, the 6 m nA lateral inhibition) from
other causes. ``limits`` in the metrics gives the two thresholds derived from the parameters. Run time
per operation is measured on torch for n = 1,024, m = 256.

Writes ``results/ca3_capacity/metrics.json`` (``results/ca3_capacity_quick`` with ``--quick``) and PNGs:
``quality.png``, ``false_addresses.png``, ``runtime.png``, ``weights.png``, ``answers.png``, ``raster.png``.

Run::

    python experiments/ca3_capacity.py --quick     # n <= 64, m <= 64: about a minute
    python experiments/ca3_capacity.py             # n up to 1,024, m up to 256: 10-20 minutes
    python experiments/ca3_capacity.py --params fullrate              # the variant exact at full rate
    python experiments/ca3_capacity.py --params fullrate --sizes 4096 --widths 64 --densities 0.1 0.3
    python experiments/ca3_capacity.py --replot    # reuse the rows of metrics.json, redo timing and figures
"""

from __future__ import annotations

import argparse
import json
import math
import time
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import torch  # noqa: E402
from common import write_metrics  # noqa: E402

from neuromem import demo as ca3_figures  # noqa: E402
from neuromem.models.ca3 import CA3Memory, Operation, ideal_answers, load_params, place  # noqa: E402
from neuromem.spec import step_coefficients  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]


def contents_for(rng: np.random.Generator, n: int, m: int, density: float) -> list[list[int]]:
    k = max(1, round(density * m))
    return [sorted(rng.choice(m, k, replace=False).tolist()) for _ in range(n)]


def study(
    n: int,
    m: int,
    densities: list[float],
    queries: int,
    seed: int,
    spacing_ms: float | None,
    params: str = "spinnaker",
) -> tuple[list[dict], tuple[CA3Memory, list, list]]:
    """Write every address once per density trial, then query.

    Returns one row of metrics per density, and the memory with the content
    recalls of its densest trial (for the example figures).
    """
    rng = np.random.default_rng(seed)
    memory = CA3Memory(n, m, batch_size=len(densities), params=params)
    contents = [contents_for(rng, n, m, d) for d in densities]
    order = rng.permutation(n).tolist()
    programs = []
    for trial in range(len(densities)):
        writes = [Operation.store(a, contents[trial][a]) for a in order]
        if spacing_ms is None:
            programs.append(place(writes))
        else:
            programs.append(
                [Operation(op.kind, int(k * spacing_ms), op.address, op.content) for k, op in enumerate(writes)]
            )
    started = time.perf_counter()
    echoes = memory.execute(programs)
    write_seconds = time.perf_counter() - started
    write_ticks = memory.tick
    # Queries start one write spacing after the last write (the API has already run 8 ms past it).
    last = max(op.t0 for program in programs for op in program)  # type: ignore[type-var]
    memory.wait(max(0, last + (spacing_ms or 7.0) - memory.tick))
    rows = []
    for trial, density in enumerate(densities):
        stored = {a: tuple(c) for a, c in enumerate(contents[trial])}
        addresses = rng.choice(n, min(queries, n), replace=False).tolist()
        fragments = []
        for a in rng.choice(n, queries).tolist():
            c = contents[trial][a]
            fragments.append(sorted(rng.choice(c, max(1, len(c) // 2), replace=False).tolist()))
        by_address = memory.recall_many_by_address(addresses, trial)
        by_content = memory.recall_many_by_content(fragments, trial)
        expected_a, _ = ideal_answers([a.operation for a in by_address], stored)
        expected_c, _ = ideal_answers([a.operation for a in by_content], stored)
        false = [len(set(g.addresses) - set(e.addresses)) for g, e in zip(by_content, expected_c, strict=True)]
        missed = [len(set(e.addresses) - set(g.addresses)) for g, e in zip(by_content, expected_c, strict=True)]
        wrong_bits = [len(set(g.content) ^ set(e.content)) for g, e in zip(by_address, expected_a, strict=True)]
        w = memory.weights()
        mask = np.zeros((n, m), dtype=bool)
        for a, c in stored.items():
            mask[a, list(c)] = True
        c2c, k2c = w["cue_to_content"][trial], w["content_to_cue"][trial].T
        rows.append(
            {
                "n": n,
                "m": m,
                "density": density,
                "bits_per_content": len(contents[trial][0]),
                "spacing_ms": spacing_ms if spacing_ms is not None else "minimum",
                "write_echo_exact_rate": float(
                    np.mean(
                        [
                            (e.addresses, e.content) == ((op.address,), op.content)
                            for e, op in zip(echoes[trial], programs[trial], strict=True)
                        ]
                    )
                ),
                "address_recall_exact_rate": float(np.mean([x == 0 for x in wrong_bits])),
                "wrong_bits_per_address_recall": float(np.mean(wrong_bits)),
                "content_recall_exact_rate": float(
                    np.mean([f == 0 and s == 0 for f, s in zip(false, missed, strict=True)])
                ),
                "false_addresses_per_content_recall": float(np.mean(false)),
                "missed_addresses_per_content_recall": float(np.mean(missed)),
                "expected_addresses_per_content_recall": float(np.mean([len(e.addresses) for e in expected_c])),
                "stored_weight_min_nA": round(float(min(c2c[mask].min(), k2c[mask].min())), 4),
                "other_weight_max_nA": round(float(max(c2c[~mask].max(), k2c[~mask].max())), 4),
                "other_weight_mean_nA": round(float((c2c[~mask].mean() + k2c[~mask].mean()) / 2), 5),
                "writes_seconds_all_trials": round(write_seconds, 3),
                "ticks": write_ticks,
                "seconds_per_tick": round(write_seconds / write_ticks, 6),
            }
        )
        print(
            {
                k: rows[-1][k]
                for k in (
                    "n",
                    "m",
                    "density",
                    "spacing_ms",
                    "address_recall_exact_rate",
                    "content_recall_exact_rate",
                    "false_addresses_per_content_recall",
                    "other_weight_max_nA",
                    "seconds_per_tick",
                )
            }
        )
        if trial == len(densities) - 1:
            example = (memory, by_content, expected_c)
    return rows, example


def timing(n: int, m: int, count: int, seed: int, params: str = "spinnaker") -> dict[str, object]:
    """Time per operation on torch (one memory, float32): wall-clock and process CPU time, in ms."""
    rng = np.random.default_rng(seed)
    memory = CA3Memory(n, m, params=params)
    k = max(1, m // 10)
    writes = [Operation.store(a, rng.choice(m, k, replace=False).tolist()) for a in range(count)]
    result: dict[str, object] = {"n": n, "m": m, "threads": torch.get_num_threads(), "operations": count}

    def measure(name: str, call: object, operations: int) -> None:
        wall, cpu, tick = time.perf_counter(), time.process_time(), memory.tick
        call()  # type: ignore[operator]
        ticks = memory.tick - tick
        result[f"{name}_wall_ms"] = round(1000 * (time.perf_counter() - wall) / operations, 3)
        result[f"{name}_cpu_ms"] = round(1000 * (time.process_time() - cpu) / operations, 3)
        if ticks:
            result[f"{name}_wall_ms_per_tick"] = round(1000 * (time.perf_counter() - wall) / ticks, 3)

    measure("write_in_sequence", lambda: memory.execute(writes), count)
    measure(
        "recall_by_address_in_sequence",
        lambda: memory.execute([Operation.recall_by_address(a) for a in range(count)]),
        count,
    )
    fragments = [Operation.recall_by_content(w.content[:1]) for w in writes]
    measure("recall_by_content_in_sequence", lambda: memory.execute(fragments), count)
    measure("store_call", lambda: [memory.store(count + a, writes[a].content) for a in range(8)], 8)
    # The first batched call builds the simulation for `count` queries; later calls reuse it.
    measure(
        "recall_many_by_address_first_call_per_query", lambda: memory.recall_many_by_address(list(range(count))), count
    )
    measure("recall_many_by_address_per_query", lambda: memory.recall_many_by_address(list(range(count))), count)
    result["propagation"] = memory.simulation.static.mode  # type: ignore[attr-defined]
    return result


def limits(rows: list[dict], params_name: str = "spinnaker") -> dict[str, float]:
    """The two failure thresholds at minimum spacing, from the parameters and the measured cross-talk.

    * A recall by content returns a false address when the fragment holds enough bits whose
      content->address weight is cross-talk (STDP tail of the write 7 ms earlier) to fire CueCont.
    * A write of many bits leaves CueCont[i] enough current after its refractory step (t0 + 6) to
      spike again at t0 + 7; the lengthened trace lets the next write depress shared bits.
    """
    params = load_params(params_name)
    cell = params.cells["B"]
    c = step_coefficients(cell, params.dt_ms, "spinnaker")
    mv_per_na = cell.membrane_resistance * c.input_E * (1.0 - c.p_mm)
    threshold_na = (cell.v_thresh - cell.v_rest) / mv_per_na
    crosstalk = max(max(r["other_weight_max_nA"] for r in rows if r["spacing_ms"] == "minimum"), 1e-9)
    w_max = params.rule.w_max
    late_mv_per_bit = cell.membrane_resistance * w_max * c.input_E * c.decay_E * (1.0 - c.p_mm)
    return {
        "cuecont_single_input_threshold_nA": round(threshold_na, 4),
        "crosstalk_weight_max_nA": crosstalk,
        "fragment_bits_for_a_false_address": math.ceil(threshold_na / crosstalk),
        "late_cuecont_spike_mV_per_content_bit": round(late_mv_per_bit, 4),
        "content_bits_for_a_late_cuecont_spike": math.ceil((cell.v_thresh - cell.v_rest) / late_mv_per_bit),
    }


def figures(rows: list[dict], out: Path) -> None:
    """Quality and errors against n, one panel per m, one line per content density; run time per tick."""
    minimum = [r for r in rows if r["spacing_ms"] == "minimum"]
    ms = sorted({r["m"] for r in minimum})
    densities = sorted({r["density"] for r in minimum})
    quality = (("content_recall_exact_rate", "o-", "by content"), ("address_recall_exact_rate", "x--", "by address"))
    errors = (
        ("false_addresses_per_content_recall", "o-", "false"),
        ("missed_addresses_per_content_recall", "x--", "missed"),
    )
    panels = (
        ("quality.png", "exact-answer rate", quality),
        ("false_addresses.png", "addresses per recall by content", errors),
    )
    for name, ylabel, series in panels:
        fig, axes = plt.subplots(1, len(ms), figsize=(4.2 * len(ms), 3.6), squeeze=False)
        for ax, m in zip(axes[0], ms, strict=True):
            for d in densities:
                sel = sorted((r for r in minimum if r["m"] == m and r["density"] == d), key=lambda r: r["n"])
                for key, style, what in series:
                    ax.plot(
                        [r["n"] for r in sel],
                        [r[key] for r in sel],
                        style,
                        label=f"{what}, {sel[0]['bits_per_content']} bits",
                    )
            ax.set_xscale("log", base=2)
            if name == "quality.png":
                ax.set_ylim(-0.05, 1.05)
            ax.set_xlabel("addresses n")
            ax.set_ylabel(ylabel)
            ax.set_title(f"m = {m} bits, 7 ms between writes", fontsize=9)
            ax.legend(fontsize=6)
        fig.tight_layout()
        fig.savefig(out / name, dpi=120)
        plt.close(fig)
    fig, ax = plt.subplots(figsize=(5, 3.5))
    for m in ms:
        sel = sorted({(r["n"], r["seconds_per_tick"]) for r in minimum if r["m"] == m})
        ax.plot([s[0] for s in sel], [1000 * s[1] for s in sel], "o-", label=f"m = {m}")
    ax.set_xscale("log", base=2)
    ax.set_xlabel("addresses n")
    ax.set_ylabel(f"wall ms per tick ({len(densities)} memories in one batch)")
    ax.legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(out / "runtime.png", dpi=120)
    plt.close(fig)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="n in (16, 64), m in (16, 64), fewer queries")
    parser.add_argument("--queries", type=int, default=64)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", default=None)
    parser.add_argument("--replot", action="store_true", help="reuse the rows of metrics.json; redo timing and figures")
    parser.add_argument("--params", default="spinnaker", help="shipped parameter set ca3_<name>.toml")
    parser.add_argument("--sizes", type=int, nargs="*", help="addresses n to study (overrides the defaults)")
    parser.add_argument("--widths", type=int, nargs="*", help="content widths m to study")
    parser.add_argument("--densities", type=float, nargs="*", help="content densities (bits / m)")
    parser.add_argument("--no-timing", action="store_true", help="skip the per-operation timing")
    parser.add_argument(
        "--threads", type=int, default=1, help="torch CPU threads (1 is fastest for these small tensors)"
    )
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    if args.quick:
        sizes, widths, densities, queries, timed = [16, 64], [16, 64], [0.05, 0.25], 16, (64, 64, 16)
    else:
        sizes, widths, densities, queries = [16, 64, 256, 1024], [16, 64, 256], [0.02, 0.1, 0.3], args.queries
        timed = (1024, 256, 64)
    sizes = args.sizes or sizes
    widths = args.widths or widths
    densities = args.densities or densities
    if args.sizes or args.widths:
        timed = (sizes[-1], widths[-1], min(64, sizes[-1]))
    default = "ca3_capacity_quick" if args.quick else "ca3_capacity"
    if args.params != "spinnaker":
        default += f"_{args.params}"
    out = Path(args.out) if args.out else ROOT / "results" / default
    out.mkdir(parents=True, exist_ok=True)
    rows: list[dict] = []
    example = None
    if args.replot:
        rows = json.loads((out / "metrics.json").read_text())["rows"]
        example = study(64, 64, densities, queries, args.seed, None)[1]
    else:
        for m in widths:
            for n in sizes:
                new, found = study(n, m, densities, queries, args.seed, None, args.params)
                rows += new
                example = found if (n, m) == (64, 64) else example
        rows += study(sizes[-1], widths[-1], densities, queries, args.seed, 10.0, args.params)[0]
    metrics = {
        "params": args.params,
        "limits": limits(rows, args.params),
        "rows": rows,
        "timing": None if args.no_timing else timing(*timed, args.seed, args.params),
    }
    print("limits", metrics["limits"])
    print("timing", metrics["timing"])
    figures(rows, out)
    if example is not None:
        memory, got, expected = example
        w = memory.weights()
        empty = {k: np.zeros_like(v[-1]) for k, v in w.items()}
        after = {k: v[-1] for k, v in w.items()}
        bits = max(1, round(densities[-1] * 64))
        title = f"n = 64, m = 64, {bits}-bit contents: empty and after 64 writes at 7 ms"
        ca3_figures.weights_before_after(empty, after, out / "weights.png", title)
        ca3_figures.answers(got[:32], expected[:32], 64, 64, out / "answers.png")
    demo = CA3Memory(8, 12, record_all=True, params=args.params)
    ops = place(
        [Operation.store(a, [(a + j) % 12 for j in range(3)]) for a in range(8)]
        + [Operation.recall_by_content([3]), Operation.recall_by_address(5)]
    )
    demo.execute(ops)
    ca3_figures.raster(demo.last_recording, out / "raster.png", ops, "n = 8, m = 12: eight writes at 7 ms, two recalls")  # type: ignore[arg-type]
    print(write_metrics(metrics, out))


if __name__ == "__main__":
    main()
