"""Operations of the CA3 memory: encoding into input spikes, decoding of the output.

Encoding (spec ``ca3.md`` section 2.1), on the ``IN`` lines (0..n-1 one-hot
address, n..n+m-1 content bits), with t0 the operation's first tick:

* ``write`` address a <- content C: line a and lines n + C spike at the
  ``write_hold_ticks`` (3) consecutive ticks t0, t0+1, t0+2;
* ``recall_cue`` (read by address a): line a spikes at t0;
* ``recall_content`` (read by fragment F): lines n + F spike at t0.

The next operation may start ``spacing_after_write_ms`` (7) after a write
and ``spacing_after_recall_ms`` (6) after a recall.

Decoding (section 2.2): the ``OUT`` spikes at fixed ticks.

==================  ==================  ==================  ==================
operation           t0 + 5              t0 + 6              t0 + 7
==================  ==================  ==================  ==================
write a <- C        addresses, content  forgotten bits O\\C  addresses, content
recall_cue a        addresses           content
recall_content F    content (= F)       addresses
==================  ==================  ==================  ==================

Example
-------
>>> ops = place([Operation.write(0, (1, 2)), Operation.recall_cue(0)])
>>> [op.t0 for op in ops]
[0, 7]
>>> encode(ops, n=2, m=3).spike_lists()[0]
[0.0, 1.0, 2.0, 7.0]
"""

from __future__ import annotations

import operator
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace

import numpy as np

from neuromem.errors import ValidationError
from neuromem.record import SpikeTrains
from neuromem.spec import SpikeSourceArray

KINDS = ("write", "recall_cue", "recall_content")
#: Ticks after t0 at which each part of the answer appears on OUT.
ANSWER_OFFSETS = {
    "write": {"addresses": 5, "content": 5, "forgotten": 6, "repeat": 7},
    "recall_cue": {"addresses": 5, "content": 6},
    "recall_content": {"content": 5, "addresses": 6},
}
#: Ticks an operation occupies until its last answer has been emitted (t0 .. t0 + span - 1).
ANSWER_SPAN = {"write": 8, "recall_cue": 7, "recall_content": 7}


@dataclass(frozen=True)
class Operation:
    """One operation on the memory.

    Attributes
    ----------
    kind : {"write", "recall_cue", "recall_content"}
    t0 : int or None
        First input tick; None until :func:`place` schedules it.
    address : int or None
        Address (one-hot cue line) of a write or recall by address.
    content : tuple of int
        Content bits of a write, or the fragment of a recall by content.
    """

    kind: str
    t0: int | None = None
    address: int | None = None
    content: tuple[int, ...] = ()

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValidationError(f"Operation: kind = {self.kind!r}; allowed: {', '.join(KINDS)}")
        try:
            bits = tuple(sorted(operator.index(b) for b in self.content))
        except TypeError:
            raise ValidationError(
                f"{self.kind} operation: content = {self.content!r} must hold integer bit indices"
            ) from None
        object.__setattr__(self, "content", bits)

    @classmethod
    def write(cls, address: int, content: Iterable[int], t0: int | None = None) -> Operation:
        """Store ``content`` (bit indices) at ``address``."""
        return cls("write", t0, address, tuple(content))

    @classmethod
    def recall_cue(cls, address: int, t0: int | None = None) -> Operation:
        """Read the content stored at ``address``."""
        return cls("recall_cue", t0, address, ())

    @classmethod
    def recall_content(cls, fragment: Iterable[int], t0: int | None = None) -> Operation:
        """Find every address whose content shares a bit with ``fragment``."""
        return cls("recall_content", t0, None, tuple(fragment))

    def to_dict(self) -> dict[str, object]:
        return {"kind": self.kind, "t0": self.t0, "address": self.address, "content": list(self.content)}


@dataclass(frozen=True)
class Answer:
    """What ``OUT`` said about one operation.

    Attributes
    ----------
    operation : Operation
    addresses : tuple of int
        Address part of the answer (the echoed or recalled addresses).
    content : tuple of int
        Content part (echoed content, recalled content or echoed fragment).
    forgotten : tuple of int
        Writes only: bits of the old content that the new one lacks (t0 + 6).
    repeat : tuple of (addresses, content) or None
        Writes only: the second echo at t0 + 7.
    """

    operation: Operation
    addresses: tuple[int, ...]
    content: tuple[int, ...]
    forgotten: tuple[int, ...] = ()
    repeat: tuple[tuple[int, ...], tuple[int, ...]] | None = None


def spacing(kind: str, spacing_after_write_ms: float = 7.0, spacing_after_recall_ms: float = 6.0) -> float:
    """Minimum time (ms) from the start of an operation of ``kind`` to the next start."""
    return spacing_after_write_ms if kind == "write" else spacing_after_recall_ms


def check_operation(op: Operation, n: int, m: int) -> None:
    """Raise ValidationError if ``op`` does not fit a memory of n addresses and m bits."""
    where = f"{op.kind} operation" + (f" at t0 = {op.t0}" if op.t0 is not None else "")
    if op.kind in ("write", "recall_cue"):
        if op.address is None or isinstance(op.address, bool) or not isinstance(op.address, (int, np.integer)):
            raise ValidationError(f"{where}: address = {op.address!r} must be an integer in 0..{n - 1}")
        if not 0 <= op.address < n:
            raise ValidationError(f"{where}: address {op.address} is outside 0..{n - 1}")
    elif op.address is not None:
        raise ValidationError(f"{where}: a recall by content takes no address (got {op.address})")
    if op.kind == "recall_cue" and op.content:
        raise ValidationError(f"{where}: a recall by address takes no content bits (got {list(op.content)})")
    if op.kind != "recall_cue" and not op.content:
        what = "content" if op.kind == "write" else "fragment"
        raise ValidationError(f"{where}: the {what} is empty; give at least one bit in 0..{m - 1}")
    bad = [b for b in op.content if not 0 <= b < m]
    if bad:
        raise ValidationError(f"{where}: content bits {bad} are outside 0..{m - 1}")
    if len(set(op.content)) != len(op.content):
        raise ValidationError(f"{where}: content bits {list(op.content)} repeat a bit")
    if op.t0 is not None and op.t0 < 0:
        raise ValidationError(f"{where}: t0 = {op.t0} must be >= 0")


def check_schedule(
    operations: Sequence[Operation],
    n: int,
    m: int,
    spacing_after_write_ms: float = 7.0,
    spacing_after_recall_ms: float = 6.0,
    dt: float = 1.0,
    start: int = 0,
) -> None:
    """Check every operation and the minimum spacing between consecutive starts (ticks from ``start``)."""
    previous: Operation | None = None
    for op in operations:
        check_operation(op, n, m)
        if op.t0 is None:
            raise ValidationError(f"{op.kind} operation has no t0; schedule it with place()")
        if previous is None:
            if op.t0 < start:
                raise ValidationError(f"{op.kind} operation: t0 = {op.t0} lies before the current tick {start}")
        else:
            gap = spacing(previous.kind, spacing_after_write_ms, spacing_after_recall_ms) / dt
            if op.t0 - previous.t0 < gap - 1e-9:  # type: ignore[operator]
                raise ValidationError(
                    f"{op.kind} operation at t0 = {op.t0}: only {op.t0 - previous.t0} ms after the"  # type: ignore[operator]
                    f" {previous.kind} at t0 = {previous.t0}; the minimum spacing after a"
                    f" {'write' if previous.kind == 'write' else 'recall'} is {gap * dt:g} ms"
                )
        previous = op


def place(
    operations: Iterable[Operation],
    start: int = 0,
    spacing_after_write_ms: float = 7.0,
    spacing_after_recall_ms: float = 6.0,
    dt: float = 1.0,
) -> list[Operation]:
    """Give every operation without a t0 the earliest start the spacing allows."""
    placed: list[Operation] = []
    earliest = start
    for op in operations:
        t0 = earliest if op.t0 is None else op.t0
        placed.append(replace(op, t0=t0))
        gap = spacing(op.kind, spacing_after_write_ms, spacing_after_recall_ms) / dt
        earliest = t0 + int(np.ceil(gap - 1e-9))
    return placed


def encode(
    operations: Sequence[Operation], n: int, m: int, write_hold_ticks: int = 3, dt: float = 1.0
) -> SpikeSourceArray:
    """Input spikes of ``IN`` (n + m lines) for scheduled ``operations``; times in ms."""
    lines: list[int] = []
    ticks: list[int] = []
    for op in operations:
        check_operation(op, n, m)
        if op.t0 is None:
            raise ValidationError(f"{op.kind} operation has no t0; schedule it with place()")
        active = ([op.address] if op.address is not None else []) + [n + b for b in op.content]
        hold = write_hold_ticks if op.kind == "write" else 1
        for k in range(hold):
            lines.extend(active)
            ticks.extend([op.t0 + k] * len(active))
    return SpikeSourceArray(n + m, np.asarray(lines, dtype=np.int64), np.asarray(ticks, dtype=np.float64) * dt)


def decode(operations: Sequence[Operation], out: SpikeTrains, n: int, trial: int = 0) -> list[Answer]:
    """Answers of ``operations`` read from the ``OUT`` spikes of one trial."""
    keep = out.trial == trial
    by_tick: dict[int, list[int]] = {}
    for neuron, tick in zip(out.neuron[keep].tolist(), out.tick[keep].tolist(), strict=True):
        by_tick.setdefault(tick, []).append(neuron)

    def part(tick: int, addresses: bool) -> tuple[int, ...]:
        neurons = by_tick.get(tick, [])
        if addresses:
            return tuple(sorted(i for i in neurons if i < n))
        return tuple(sorted(i - n for i in neurons if i >= n))

    answers = []
    for op in operations:
        t0, offsets = int(op.t0), ANSWER_OFFSETS[op.kind]  # type: ignore[arg-type]
        repeat = None
        forgotten: tuple[int, ...] = ()
        if op.kind == "write":
            forgotten = part(t0 + offsets["forgotten"], False)
            repeat = (part(t0 + offsets["repeat"], True), part(t0 + offsets["repeat"], False))
        answers.append(
            Answer(op, part(t0 + offsets["addresses"], True), part(t0 + offsets["content"], False), forgotten, repeat)
        )
    return answers


def ideal_answers(
    operations: Sequence[Operation], stored: Mapping[int, Sequence[int]] | None = None
) -> tuple[list[Answer], dict[int, tuple[int, ...]]]:
    """The answers of a perfect memory, and its final contents.

    A write echoes its address and content and reports the old-only bits; a
    recall by address returns the stored content (empty if none); a recall by
    content returns every address whose content shares at least one bit with
    the fragment (spec section 2.2).
    """
    memory = {int(a): tuple(sorted(c)) for a, c in (stored or {}).items()}
    answers = []
    for op in operations:
        if op.kind == "write":
            old = set(memory.get(op.address, ()))  # type: ignore[arg-type]
            memory[op.address] = op.content  # type: ignore[index]
            echo = ((op.address,), op.content)  # type: ignore[assignment]
            answers.append(Answer(op, echo[0], op.content, tuple(sorted(old - set(op.content))), echo))  # type: ignore[arg-type]
        elif op.kind == "recall_cue":
            answers.append(Answer(op, (op.address,), memory.get(op.address, ())))  # type: ignore[arg-type]
        else:
            fragment = set(op.content)
            hits = tuple(sorted(a for a, c in memory.items() if fragment & set(c)))
            answers.append(Answer(op, hits, op.content))
    return answers, memory
