"""CA3 memory with thousands of addresses on the torch engine: one store per address, then recalls, all at 7/6 ms.

One memory of n addresses (default 4,096) and m bits (default 64) with the full-rate set
(``ca3_fullrate.toml`` in ``neuromem/resources/parameters/``)
stores a random content of k bits at every address (7 ms apart), then runs
Q recalls by address and Q recalls by fragments of half a content (6 ms apart) on the same memory and
compares every answer with a perfect memory. Reported: the memory estimate the memory is checked
against before building, the process's peak resident memory, build time, simulated ms and wall time per
tick. The 2 n (n - 1) lateral-inhibition synapses dominate (33.5 million at n = 4,096).

Writes ``results/ca3_large/metrics.json``.

Run::

    python experiments/ca3_large.py [--n 4096] [--m 64] [--bits 6] [--queries 32] [--params fullrate]
"""

from __future__ import annotations

import argparse
import resource
import time
from pathlib import Path

import numpy as np
import torch
from common import write_metrics

from neuromem.limits import format_bytes
from neuromem.models.ca3 import CA3Memory, Operation, estimate_bytes, structure
from neuromem.models.ca3.protocol import ideal_answers

ROOT = Path(__file__).resolve().parents[1]


def peak_bytes() -> int:
    """Peak resident memory of this process so far (bytes, Linux)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=4096)
    parser.add_argument("--m", type=int, default=64)
    parser.add_argument("--bits", type=int, default=6, help="bits per stored content")
    parser.add_argument("--queries", type=int, default=32)
    parser.add_argument("--params", default="fullrate")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", default=str(ROOT / "results" / "ca3_large"))
    args = parser.parse_args()
    torch.set_num_threads(1)
    rng = np.random.default_rng(args.seed)
    n, m = args.n, args.m
    counts = structure(n, m)
    metrics: dict[str, object] = {
        "n": n,
        "m": m,
        "bits_per_content": args.bits,
        "params": args.params,
        "synapses": counts.synapses + counts.harness_synapses,
        "plastic_synapses": counts.plastic_synapses,
        "neurons": counts.neurons + counts.harness_neurons,
        "estimate": format_bytes(estimate_bytes(n, m)),
    }
    started = time.perf_counter()
    memory = CA3Memory(n, m, params=args.params)
    metrics["build_seconds"] = round(time.perf_counter() - started, 1)
    metrics["peak_after_build"] = format_bytes(peak_bytes())
    print(metrics, flush=True)
    contents = {a: sorted(rng.choice(m, args.bits, replace=False).tolist()) for a in range(n)}
    started = time.perf_counter()
    stores = memory.execute([Operation.store(a, c) for a, c in contents.items()])[0]
    seconds = time.perf_counter() - started
    metrics["stores"] = n
    metrics["store_echo_exact"] = int(
        sum(a.echo.addresses == (a.operation.address,) and a.echo.content == a.operation.content for a in stores)
    )
    metrics["simulated_ms_of_stores"] = memory.time_ms
    metrics["store_wall_seconds"] = round(seconds, 1)
    metrics["wall_ms_per_tick"] = round(1000 * seconds / memory.tick, 2)
    print(metrics, flush=True)
    addresses = rng.choice(n, args.queries, replace=False).tolist()
    fragments = [sorted(rng.choice(contents[a], max(1, args.bits // 2), replace=False).tolist()) for a in addresses]
    program = [Operation.recall_by_address(a) for a in addresses]
    program += [Operation.recall_by_content(f) for f in fragments]
    started = time.perf_counter()
    answers = memory.execute(program)[0]
    metrics["recall_wall_seconds"] = round(time.perf_counter() - started, 1)
    # Judge the recalls against the stores that preceded them.
    expected = ideal_answers([a.operation for a in answers], contents)[0]
    wrong = [
        (a, e) for a, e in zip(answers, expected, strict=True) if (a.addresses, a.content) != (e.addresses, e.content)
    ]
    metrics["recalls"] = len(answers)
    metrics["wrong_recalls"] = len(wrong)
    metrics["addresses_per_recall_by_content"] = float(np.mean([len(e.addresses) for e in expected[args.queries :]]))
    metrics["peak_resident"] = format_bytes(peak_bytes())
    print(metrics)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    print(write_metrics(metrics, out))


if __name__ == "__main__":
    main()
