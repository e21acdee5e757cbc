"""The main demo: the CA3 memory learns, recalls by address and by content, and forgets.

Runs the functional test of the CA3 paper (5 addresses, 10-bit contents) twice:
through the task API (printed as questions and answers) and as one network
run whose raster, weight matrices, answers and metrics are written to a new
folder (``neuromem demo``: ``results/demo-<date>-<time>``). The files are
written next to it first and moved in only when all are there.

:func:`run_published` is that network run for any of the three published
programs; ``experiments/ca3_functional.py``, ``ca3_stress.py`` and
``ca3_state_map.py`` call it too. Its figures come from :mod:`neuromem.plot`.
"""

from __future__ import annotations

import json
import time
from pathlib import Path

import numpy as np

from neuromem.backends import build
from neuromem.errors import ValidationError
from neuromem.models.ca3 import CA3Memory
from neuromem.models.ca3.gold import compare, load_run
from neuromem.models.ca3.network import CONTENT_TO_CUE, CUE_TO_CONTENT, INTERNAL, build_network
from neuromem.models.ca3.params import CA3Params, load_params
from neuromem.models.ca3.protocol import Answer, Operation, decode, encode, ideal_answers
from neuromem.models.ca3.scenarios import functional, label, shown
from neuromem.outputs import OutputFolder
from neuromem.record import Recording
from neuromem.spec import Probe
from neuromem.spec.schemes import SPINNAKER

#: The recorded SpiNNaker run of each published program.
RECORDED = {"functional": "cam_exp1", "stress": "cam_exp2", "state_map": "cam_exp3"}

#: What the demo writes into its folder.
DEMO_FILES = ("raster.png", "weights.png", "answers.png", "metrics.json")


def run_demo(out: Path, overwrite: bool = False) -> dict[str, object]:
    """Run the demo, print what happens, write figures and metrics to ``out``.

    ``out`` must be new or empty; with ``overwrite`` it may hold an earlier
    demo's files, and only those (unchanged since) are replaced.
    """
    output = OutputFolder(
        out, DEMO_FILES, "write the demo", overwrite=overwrite, flag="--overwrite", error=ValidationError
    )
    output.check()
    memory = CA3Memory(n=5, m=10)
    steps = [
        ("store address 0 <- bits [0, 1, 8, 9]", lambda: memory.store(0, [0, 1, 8, 9])[0], None),
        ("store address 4 <- bits [1, 5, 6]", lambda: memory.store(4, [1, 5, 6])[0], None),
        ("store address 3 <- bits [4, 5, 6]", lambda: memory.store(3, [4, 5, 6])[0], None),
        ("recall by address 0", lambda: memory.recall_by_address(0)[0].content, (0, 1, 8, 9)),
        ("recall by content [6]", lambda: memory.recall_by_content([6])[0].addresses, (3, 4)),
        ("recall by content [0, 4]", lambda: memory.recall_by_content([0, 4])[0].addresses, (0, 3)),
        ("overwrite address 3 <- [1, 3, 4, 8]", lambda: memory.store(3, [1, 3, 4, 8])[0].forgotten, (5, 6)),
        ("recall by address 3", lambda: memory.recall_by_address(3)[0].content, (1, 3, 4, 8)),
        ("recall by content [6]", lambda: memory.recall_by_content([6])[0].addresses, (4,)),
    ]
    print(f"CA3 content-addressable memory, n = 5 addresses, m = 10 bits (torch backend, {SPINNAKER!r} scheme)")
    correct = 0
    for text, action, expected in steps:
        result = action()
        if expected is None:
            print(f"  {text:<40} echo: address {result.echo.addresses}, content {result.echo.content}")
            continue
        ok = tuple(result) == expected
        correct += ok
        what = "forgotten bits" if "overwrite" in text else ("content" if "address" in text else "addresses")
        print(f"  {text:<40} {what}: {tuple(result)}  (expected {expected}) {'ok' if ok else 'WRONG'}")
    with output.staging() as staging:
        metrics = run_published("functional", functional(), 5, 10, 90, staging)
        metrics["api_answers_correct"] = f"{correct} of {sum(e is not None for *_, e in steps)}"
        (staging / "metrics.json").write_text(json.dumps(metrics, indent=1, default=str))
        output.commit()
    print(f"network run: {metrics['answers_correct']} of {metrics['operations']} operations answered as expected")
    if "gold_spikes_matched" in metrics:
        print(f"SpiNNaker recording: {metrics['gold_spikes_matched']} spikes matched")
    print(f"figures and metrics in {out}/")
    return metrics


def run_published(
    name: str, operations: list[Operation], n: int, m: int, sim_time: int, out: Path, params: CA3Params | None = None
) -> dict[str, object]:
    """Run one published CA3 program on torch; write ``raster.png``, ``weights.png``, ``answers.png`` into ``out``.

    Parameters
    ----------
    name : {"functional", "stress", "state_map"} or str
        Names the recorded SpiNNaker run compared spike by spike (any other
        name skips the comparison).
    operations : list of Operation
        The program, scheduled (every ``t0`` set).
    n, m : int
        Addresses and content bits.
    sim_time : int
        Length of the run (ms).
    out : Path
        Folder of the figures (created if missing).
    params : CA3Params or None
        Parameter set (default: the published one).

    Returns
    -------
    dict
        The metrics: answers correct, spikes per population, gold comparison,
        weight margins (nA), run time (s).
    """
    params = params if params is not None else load_params()
    out.mkdir(parents=True, exist_ok=True)
    net = build_network(n, m, params, inputs=encode(operations, n, m, params.timing, params.dt_ms))
    net = net.with_probes(*net.probes, *(Probe(p, "weight", params.dt_ms) for p in (CUE_TO_CONTENT, CONTENT_TO_CUE)))
    started = time.perf_counter()
    recording = build(net, "torch", dt=params.dt_ms, dtype="float32").run(sim_time * params.dt_ms)
    seconds = time.perf_counter() - started
    got = decode(operations, recording.spikes_of("OUT"), n, timing=params.timing, dt=params.dt_ms)
    expected, _ = ideal_answers(operations)
    metrics: dict[str, object] = {
        "experiment": name,
        "params": params.name,
        "n": n,
        "m": m,
        "sim_time_ms": sim_time,
        "operations": len(operations),
        "answers_correct": int(sum(a == e for a, e in zip(got, expected, strict=True))),
        "wrong_operations": [label(e.operation) for a, e in zip(got, expected, strict=True) if a != e],
        "spikes_simulated": {p: len(recording.spikes_of(p)) for p in (*INTERNAL, "OUT")},
        "torch_run_seconds": round(seconds, 3),
    }
    metrics.update(_gold(name, recording, n))
    metrics.update(_weights(recording, operations, n, m, out, name))
    memory = CA3Memory(n, m, params=params)
    metrics["api_answers_equal_network_answers"] = memory.execute(operations)[0] == got
    raster(recording, out / "raster.png", operations, title=f"CA3 {name}: spikes of every population")
    answers(got, expected, n, m, out / "answers.png")
    return metrics


def raster(recording: Recording, path: str | Path, operations: list[Operation], title: str = "") -> Path:
    """Raster of every population of the memory with the operations marked at their ``t0``."""
    from neuromem import plot

    names = [name for name in (*INTERNAL, "OUT") if name in recording.spikes]
    marks = [(float(op.t0) * recording.dt, label(op)) for op in operations]  # type: ignore[arg-type]
    return plot.raster(recording, path, names, marks=marks, title=title)


def answers(got: list[Answer], expected: list[Answer], n: int, m: int, path: str | Path, title: str = "") -> Path:
    """What ``OUT`` showed for each operation (answer and echo) against a perfect memory."""
    from neuromem import plot

    rows = [label(e.operation) for e in expected]
    return plot.answers([shown(a) for a in got], [shown(e) for e in expected], n, m, rows, path, title)


def weights_before_after(
    before: dict[str, np.ndarray], after: dict[str, np.ndarray], path: str | Path, title: str = ""
) -> Path:
    """The plastic weight matrices (nA) as address x content-bit maps, before and after.

    ``before`` and ``after`` map ``cue_to_content`` (n, m) and, where present, ``content_to_cue`` (m, n).
    """
    from neuromem import plot

    pairs = (("before", before), ("after", after))
    keys = (("cue_to_content", "address -> content"), ("content_to_cue", "content -> address"))
    panels = [
        [(f"{what}, {when}", w[key] if key == "cue_to_content" else w[key].T) for when, w in pairs]
        for key, what in keys
        if key in before
    ]
    return plot.weight_panels(panels, path, title, xlabel="content bit", ylabel="address", vmin=0.0, vmax=6.0)


def _gold(name: str, recording: Recording, n: int) -> dict[str, object]:
    run_name = RECORDED.get(name)
    if run_name is None:
        return {"gold": "no recorded run of this program; spike comparison skipped"}
    run = load_run(run_name)
    spikes = {p: recording.spikes_of(p).pairs() for p in INTERNAL}
    out = recording.spikes_of("OUT").pairs()
    spikes["OUTcue"] = {(i, t) for i, t in out if i < n}
    spikes["OUTcont"] = {(i - n, t) for i, t in out if i >= n}
    result = compare(run, spikes)
    return {
        "gold": run_name,
        "gold_spikes_recorded": result.recorded,
        "gold_spikes_simulated": result.simulated,
        "gold_spikes_matched": result.matched,
        "gold_spikes_extra": sum(len(v) for v in result.extra.values()),
        "gold_spikes_missing": sum(len(v) for v in result.missing.values()),
        "gold_exact": result.exact,
    }


def _weights(
    recording: Recording, operations: list[Operation], n: int, m: int, out: Path, name: str
) -> dict[str, object]:
    """Weight figures before the last write and at the end; margins of stored against other weights (nA)."""
    ticks, c2c = recording.weights[CUE_TO_CONTENT]
    _, k2c = recording.weights[CONTENT_TO_CUE]
    writes = [op.t0 for op in operations if op.kind == "store"]
    before_index = max(int(np.searchsorted(ticks, writes[-1])) - 1, 0) if writes else 0

    def at(index: int) -> dict[str, np.ndarray]:
        return {"cue_to_content": c2c[index, 0].reshape(n, m), "content_to_cue": k2c[index, 0].reshape(m, n)}

    final = at(len(ticks) - 1)
    before_ms = float(ticks[before_index]) * recording.dt
    title = f"CA3 {name}: before the last write ({before_ms:g} ms) and at the end"
    weights_before_after(at(before_index), final, out / "weights.png", title)
    _, memory = ideal_answers(operations)
    stored = np.zeros((n, m), dtype=bool)
    for address, bits in memory.items():
        stored[address, list(bits)] = True
    margins: dict[str, object] = {}
    for key, w in (("cue_to_content", final["cue_to_content"]), ("content_to_cue", final["content_to_cue"].T)):
        margins[f"{key}_stored_min_nA"] = round(float(w[stored].min()), 4) if stored.any() else None
        margins[f"{key}_other_max_nA"] = round(float(w[~stored].max()), 4) if (~stored).any() else None
    return margins
