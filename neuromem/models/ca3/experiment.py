"""Running a published CA3 experiment: replay, gold comparison, answers, weights, figures, metrics.

Used by ``experiments/ca3_functional.py``, ``ca3_stress.py`` and
``ca3_state_map.py``. The operations come from
:mod:`neuromem.models.ca3.scenarios`; where the recorded SpiNNaker run is
present, every simulated spike is compared with it.
"""

from __future__ import annotations

import json
import time
from pathlib import Path

import numpy as np

from neuromem.backends import build
from neuromem.errors import NeuromemError
from neuromem.models.ca3 import plots
from neuromem.models.ca3.gold import compare, load_run
from neuromem.models.ca3.memory import CA3Memory
from neuromem.models.ca3.network import CONTENT_TO_CUE, CUE_TO_CONTENT, INTERNAL, build_network
from neuromem.models.ca3.params import CA3Params, load_params
from neuromem.models.ca3.protocol import Operation, decode, encode, ideal_answers
from neuromem.record import Recording
from neuromem.spec import Probe
from neuromem.spec.io import atomic_write

RECORDED = {"functional": "cam_exp1", "stress": "cam_exp2", "state_map": "cam_exp3"}


def run_published(
    name: str, operations: list[Operation], n: int, m: int, sim_time: int, out: Path, params: CA3Params | None = None
) -> dict[str, object]:
    """Run one published experiment on torch; write figures into ``out`` and return its metrics."""
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
        "wrong_operations": [plots.label(e.operation) for a, e in zip(got, expected, strict=True) if a != e],
        "spikes_simulated": {p: len(recording.spikes_of(p)) for p in (*INTERNAL, "OUT")},
        "torch_run_seconds": round(seconds, 3),
    }
    metrics.update(_gold(name, recording, n))
    metrics.update(_weights(recording, operations, n, m, out, name))
    memory = CA3Memory(n, m, params=params)
    metrics["api_answers_equal_network_answers"] = memory.execute(operations)[0] == got
    plots.raster(recording, out / "raster.png", operations, title=f"CA3 {name}: spikes of every population")
    plots.answers(got, expected, n, m, out / "answers.png")
    return metrics


def _gold(name: str, recording: Recording, n: int) -> dict[str, object]:
    run_name = RECORDED.get(name)
    if run_name is None:
        return {"gold": "recorded data not found; spike comparison skipped"}
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
    """Weight figures before the last write and at the end; margins of stored against other weights."""
    ticks, c2c = recording.weights[CUE_TO_CONTENT]
    _, k2c = recording.weights[CONTENT_TO_CUE]
    writes = [op.t0 for op in operations if op.kind == "store"]
    before_index = max(int(np.searchsorted(ticks, writes[-1])) - 1, 0) if writes else 0

    def at(index: int) -> dict[str, np.ndarray]:
        return {"cue_to_content": c2c[index, 0].reshape(n, m), "content_to_cue": k2c[index, 0].reshape(m, n)}

    final = at(len(ticks) - 1)
    plots.weights_before_after(
        at(before_index),
        final,
        out / "weights.png",
        f"CA3 {name}: before the last write (t = {ticks[before_index]} ms) and at the end",
    )
    _, memory = ideal_answers(operations)
    stored = np.zeros((n, m), dtype=bool)
    for address, bits in memory.items():
        stored[address, list(bits)] = True
    margins: dict[str, object] = {}
    for key, w in (("cue_to_content", final["cue_to_content"]), ("content_to_cue", final["content_to_cue"].T)):
        margins[f"{key}_stored_min_nA"] = round(float(w[stored].min()), 4) if stored.any() else None
        margins[f"{key}_other_max_nA"] = round(float(w[~stored].max()), 4) if (~stored).any() else None
    return margins


def brian2_answers(
    operations: list[Operation], n: int, m: int, sim_time: int, params: CA3Params | None = None
) -> dict[str, object]:
    """Answers on the Brian2 backend, where it exists and supports the model; else the reason it was skipped."""
    params = params if params is not None else load_params()
    net = build_network(n, m, params, inputs=encode(operations, n, m, params.timing, params.dt_ms))
    try:
        recording = build(net, "brian2", dt=params.dt_ms).run(sim_time * params.dt_ms)
    except NeuromemError as error:
        return {"brian2": f"skipped: {error}"}
    except Exception as error:  # the backend is optional: report what went wrong instead of stopping
        return {"brian2": f"failed: {type(error).__name__}: {error}"}
    got = decode(operations, recording.spikes_of("OUT"), n, timing=params.timing, dt=params.dt_ms)
    expected, _ = ideal_answers(operations)
    return {"brian2_answers_correct": int(sum(a == e for a, e in zip(got, expected, strict=True)))}


def write_metrics(metrics: dict[str, object], out: Path) -> Path:
    """``out/metrics.json``, written atomically."""
    path = out / "metrics.json"
    atomic_write(path, lambda f: f.write(json.dumps(metrics, indent=1, sort_keys=True).encode()))
    return path
