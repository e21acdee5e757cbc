"""CA3 memory, functional test (published experiment 1): learn, recall both ways, forget on overwrite.

n = 5 addresses, m = 10 bits, one operation every 10 ms, 90 ms (spec ca3.md section 3.1). Replays the
operations on the torch backend, compares every spike with the SpiNNaker recording where it is present,
decodes the answers, and cross-checks the answers on Brian2 where that backend supports the model.

Writes ``results/ca3_functional/metrics.json``, ``raster.png``, ``weights.png``, ``answers.png``.

Run::

    python experiments/ca3_functional.py [--params spinnaker] [--out results/ca3_functional]
"""

from __future__ import annotations

import argparse
from pathlib import Path

import torch
from common import write_metrics

from neuromem.backends import build
from neuromem.demo import run_published
from neuromem.errors import NeuromemError
from neuromem.models.ca3 import (
    CA3Params,
    Operation,
    build_network,
    decode,
    encode,
    ideal_answers,
    load_params,
    scenarios,
)

ROOT = Path(__file__).resolve().parents[1]


def brian2_answers(operations: list[Operation], n: int, m: int, sim_time: int, params: CA3Params) -> dict[str, object]:
    """Answers on the Brian2 backend, where it is installed and supports the model; else why it was skipped."""
    net = build_network(n, m, params, inputs=encode(operations, n, m, params.timing, params.dt_ms))
    try:
        recording = build(net, "brian2", dt=params.dt_ms).run(sim_time * params.dt_ms)
    except NeuromemError as error:
        return {"brian2": f"skipped: {error}"}
    except ImportError as error:  # the backend is an optional extra
        return {"brian2": f"skipped: {error}"}
    got = decode(operations, recording.spikes_of("OUT"), n, timing=params.timing, dt=params.dt_ms)
    expected, _ = ideal_answers(operations)
    return {"brian2_answers_correct": int(sum(a == e for a, e in zip(got, expected, strict=True)))}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--params", default="spinnaker", help="shipped parameter set ca3_<name>.toml")
    parser.add_argument("--out", default=str(ROOT / "results" / "ca3_functional"))
    parser.add_argument("--no-brian2", action="store_true", help="skip the Brian2 cross-check")
    parser.add_argument(
        "--threads", type=int, default=1, help="torch CPU threads (1 is fastest for these small tensors)"
    )
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    params = load_params(args.params)
    n, m, sim_time = scenarios.SIZES["functional"]
    operations = scenarios.functional()
    out = Path(args.out)
    metrics = run_published("functional", operations, n, m, sim_time, out, params)
    if not args.no_brian2:
        metrics.update(brian2_answers(operations, n, m, sim_time, params))
    print(write_metrics(metrics, out))
    for key in ("gold_spikes_matched", "gold_spikes_extra", "gold_spikes_missing", "answers_correct", "brian2"):
        if key in metrics:
            print(f"{key}: {metrics[key]}")


if __name__ == "__main__":
    main()
