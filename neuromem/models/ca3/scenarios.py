"""The operation sequences of the three published CAM experiments (spec ``ca3.md`` section 3.1),
random interleaved programs, and the short labels of operations used in reports and figures.

The published sequences equal the operation lists of the recorded runs
(checked against the recorded protocol files by the tests), so the
experiments run without the recorded data too.

Example
-------
>>> ops = functional()
>>> len(ops), ops[6].kind, ops[6].address, ops[6].content
(9, 'store', 3, (1, 3, 4, 8))
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from neuromem.models.ca3.protocol import Answer, Operation, ideal_answers

#: The 4 x 4 state map of experiment 3, row-major: 0 unknown, 1 initial, 2 goal, 3 free, 4 path, 5 obstacle.
STATE_MAP = ((0, 5, 1, 3), (0, 3, 4, 5), (0, 5, 4, 3), (2, 4, 4, 3))
STATE_NAMES = ("unknown", "initial", "goal", "free", "path", "obstacle")
#: (n, m, simTime in ms) of each experiment.
SIZES = {"functional": (5, 10, 90), "stress": (5, 10, 851), "state_map": (16, 6, 140)}


def functional() -> list[Operation]:
    """Experiment 1 (n = 5, m = 10): store, recall both ways, overwrite, recall; one operation every 10 ms."""
    return [
        Operation.store(0, (0, 1, 8, 9), t0=0),
        Operation.store(4, (1, 5, 6), t0=10),
        Operation.store(3, (4, 5, 6), t0=20),
        Operation.recall_by_address(0, t0=30),
        Operation.recall_by_content((6,), t0=40),
        Operation.recall_by_content((0, 4), t0=50),
        Operation.store(3, (1, 3, 4, 8), t0=60),
        Operation.recall_by_address(3, t0=70),
        Operation.recall_by_content((6,), t0=80),
    ]


def stress(n: int = 5, m: int = 10, slot: int = 14, start: int = 1) -> list[Operation]:
    """Experiment 2: address i holds binary(i + 1) (bit 0 = line 0); overwrite with the complement and back.

    Blocks, one operation every ``slot`` ms from ``start``: write all, recall
    every address, recall every single bit; overwrite all with the bitwise
    complement, recall both ways; overwrite with the originals, recall both ways.
    """
    original = [tuple(b for b in range(m) if (i + 1) >> b & 1) for i in range(n)]
    complement = [tuple(b for b in range(m) if b not in c) for c in original]
    ops: list[Operation] = []

    def add(op: Operation) -> None:
        ops.append(Operation(op.kind, start + slot * len(ops), op.address, op.content))

    for contents in (original, complement, original):
        for address, content in enumerate(contents):
            add(Operation.store(address, content))
        for address in range(n):
            add(Operation.recall_by_address(address))
        for bit in range(m):
            add(Operation.recall_by_content((bit,)))
    return ops


def state_map() -> list[Operation]:
    """Experiment 3 (n = 16 cells, m = 6 states): write the map every 7 ms, then 4 content recalls every 6 ms."""
    ops = [
        Operation.store(cell, (state,), t0=7 * cell) for cell, state in enumerate(s for row in STATE_MAP for s in row)
    ]
    fragments = ((1, 2, 4), (3,), (5,), (0,))
    ops += [Operation.recall_by_content(f, t0=112 + 6 * k) for k, f in enumerate(fragments)]
    return ops


def random_program(
    rng: np.random.Generator, n: int, m: int, count: int, max_store_bits: int | None = None, max_fragment_bits: int = 3
) -> list[Operation]:
    """Random interleaved operations: about 40 % stores, 30 % recalls by address, 30 % by content.

    A store writes 1 .. ``max_store_bits`` (default m // 2) random bits at a
    random address; a recall by content asks for 1 .. ``max_fragment_bits``
    random bits. Times are not set (schedule with :func:`~neuromem.models.ca3.place`).
    """
    most = max(1, m // 2) if max_store_bits is None else max_store_bits
    ops: list[Operation] = []
    for _ in range(count):
        kind = rng.choice(3, p=[0.4, 0.3, 0.3])
        if kind == 0:
            bits = rng.choice(m, int(rng.integers(1, most + 1)), replace=False)
            ops.append(Operation.store(int(rng.integers(n)), bits.tolist()))
        elif kind == 1:
            ops.append(Operation.recall_by_address(int(rng.integers(n))))
        else:
            size = int(rng.integers(1, max_fragment_bits + 1))
            ops.append(Operation.recall_by_content(rng.choice(m, size, replace=False).tolist()))
    return ops


def spaced(operations: Sequence[Operation], spacing_ms: int, start: int = 0) -> list[Operation]:
    """``operations`` one every ``spacing_ms`` ms from ``start`` on."""
    return [Operation(op.kind, start + k * spacing_ms, op.address, op.content) for k, op in enumerate(operations)]


def wrong_recalls(got: Sequence[Answer]) -> tuple[int, int]:
    """(wrong, total) recalls of ``got`` against a perfect memory: the answer returned, not the echo.

    A recall by address is wrong when its content differs from the stored one;
    a recall by content when its addresses differ from every address sharing a bit.
    """
    expected, _ = ideal_answers([a.operation for a in got])
    pairs = [(a, e) for a, e in zip(got, expected, strict=True) if e.operation.kind != "store"]
    wrong = sum((a.addresses, a.content) != (e.addresses, e.content) for a, e in pairs)
    return int(wrong), len(pairs)


def label(op: Operation) -> str:
    """Short label: ``S3:1,4`` (store), ``A3`` (recall by address), ``C:6`` (recall by content)."""
    bits = ",".join(map(str, op.content))
    if op.kind == "store":
        return f"S{op.address}:{bits}"
    return f"A{op.address}" if op.kind == "recall_by_address" else f"C:{bits}"


def shown(answer: Answer) -> tuple[set[int], set[int]]:
    """Addresses and content bits of an answer and its echo together (what ``OUT`` showed)."""
    return set(answer.addresses) | set(answer.echo.addresses), set(answer.content) | set(answer.echo.content)
