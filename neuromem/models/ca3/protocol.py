r"""Operations of the CA3 memory: encoding into input spikes, decoding of the output.

Three kinds of operation, named like the methods of :class:`~neuromem.models.ca3.CA3Memory`:

* ``store`` address a <- content C: the address line a and the content
  lines n + C of ``IN`` spike at the timing's store offsets (the paper holds
  them for 3 consecutive ticks);
* ``recall_by_address`` a: line a spikes;
* ``recall_by_content`` F (a fragment): lines n + F spike.

An operation starts at ``t0``, an integer number of ms (the papers'
operation grid); the next may start ``spacing_after_store_ms`` (7) after a
store and ``spacing_after_recall_ms`` (6) after a recall.

Decoding reads ``OUT`` (the n address neurons, then the m content neurons)
in the windows of the parameter set's :class:`~neuromem.models.ca3.timing.Timing`.
With the paper's timing (ms = ticks at dt = 1 ms):

===================  ===================  ======================  ===================
operation            t0 + 5               t0 + 6                  t0 + 7
===================  ===================  ======================  ===================
store a <- C         echo: a, C           forgotten bits O\\C      repeat: a, C
recall_by_address a  echo: a              content (the answer)
recall_by_content F  echo: F              addresses (the answer)
===================  ===================  ======================  ===================

Example
-------
>>> ops = place([Operation.store(0, (1, 2)), Operation.recall_by_address(0)])
>>> [op.t0 for op in ops]
[0, 7]
>>> encode(ops, n=2, m=3).spike_lists()[0]
[0.0, 1.0, 2.0, 7.0]
"""

from __future__ import annotations

import math
import operator
import warnings
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace

import numpy as np

from neuromem.errors import ValidationError
from neuromem.models.ca3.timing import ADDRESS_FIELDS, KINDS, LEGACY_KINDS, Timing
from neuromem.record import SpikeTrains
from neuromem.spec import SpikeSourceArray

PAPER_TIMING = Timing.paper()


def _index(value: object, where: str, what: str) -> int:
    """``value`` as a Python int, refusing bools, floats and non-numbers."""
    if isinstance(value, bool):
        raise ValidationError(f"{where}: {what} = {value!r} must be an integer, not a bool")
    try:
        return operator.index(value)  # type: ignore[arg-type]
    except TypeError:
        raise ValidationError(f"{where}: {what} = {value!r} must be an integer") from None


@dataclass(frozen=True)
class Operation:
    """One operation on the memory.

    Attributes
    ----------
    kind : {"store", "recall_by_address", "recall_by_content"}
        The earlier names ``write``, ``recall_cue`` and ``recall_content`` are
        accepted and translated (with a DeprecationWarning).
    t0 : int or None
        Start (ms, on the 1 ms operation grid); None until :func:`place` schedules it.
    address : int or None
        Address (one-hot cue line) of a store or a recall by address.
    content : tuple of int
        Content bits of a store, or the fragment of a recall by content (sorted).
    """

    kind: str
    t0: int | None = None
    address: int | None = None
    content: tuple[int, ...] = ()

    def __post_init__(self) -> None:
        kind = self.kind
        if isinstance(kind, str) and kind in LEGACY_KINDS:
            warnings.warn(
                f"operation kind {kind!r} is deprecated; use {LEGACY_KINDS[kind]!r}", DeprecationWarning, stacklevel=3
            )
            kind = LEGACY_KINDS[kind]
            object.__setattr__(self, "kind", kind)
        if kind not in KINDS:
            raise ValidationError(f"Operation: kind = {kind!r}; allowed: {', '.join(KINDS)}")
        where = f"{kind} operation"
        if self.t0 is not None:
            object.__setattr__(self, "t0", _index(self.t0, where, "t0 (ms)"))
        if self.address is not None:
            object.__setattr__(self, "address", _index(self.address, where, "address"))
        if isinstance(self.content, (str, bytes)) or not isinstance(self.content, Iterable):
            raise ValidationError(f"{where}: content = {self.content!r} must be a collection of integer bit indices")
        bits = tuple(sorted(_index(b, where, "content bit") for b in self.content))
        object.__setattr__(self, "content", bits)

    @classmethod
    def store(cls, address: int, content: Iterable[int], t0: int | None = None) -> Operation:
        """Store ``content`` (bit indices) at ``address``."""
        return cls("store", t0, address, _bits(content, "store"))

    @classmethod
    def recall_by_address(cls, address: int, t0: int | None = None) -> Operation:
        """Read the content stored at ``address``."""
        return cls("recall_by_address", t0, address, ())

    @classmethod
    def recall_by_content(cls, fragment: Iterable[int], t0: int | None = None) -> Operation:
        """Find every address whose content shares a bit with ``fragment``."""
        return cls("recall_by_content", t0, None, _bits(fragment, "recall_by_content"))

    @classmethod
    def write(cls, address: int, content: Iterable[int], t0: int | None = None) -> Operation:
        """Deprecated name of :meth:`store`."""
        warnings.warn("Operation.write is deprecated; use Operation.store", DeprecationWarning, stacklevel=2)
        return cls.store(address, content, t0)

    @classmethod
    def recall_cue(cls, address: int, t0: int | None = None) -> Operation:
        """Deprecated name of :meth:`recall_by_address`."""
        warnings.warn(
            "Operation.recall_cue is deprecated; use Operation.recall_by_address", DeprecationWarning, stacklevel=2
        )
        return cls.recall_by_address(address, t0)

    @classmethod
    def recall_content(cls, fragment: Iterable[int], t0: int | None = None) -> Operation:
        """Deprecated name of :meth:`recall_by_content`."""
        warnings.warn(
            "Operation.recall_content is deprecated; use Operation.recall_by_content", DeprecationWarning, stacklevel=2
        )
        return cls.recall_by_content(fragment, t0)

    def to_dict(self) -> dict[str, object]:
        return {"kind": self.kind, "t0": self.t0, "address": self.address, "content": list(self.content)}


def _bits(value: object, kind: str) -> tuple[int, ...]:
    if isinstance(value, (str, bytes)) or not isinstance(value, Iterable):
        what = "fragment" if kind == "recall_by_content" else "content"
        raise ValidationError(f"{kind}: {what} = {value!r} must be a collection of integer bit indices")
    return tuple(value)  # type: ignore[arg-type]


@dataclass(frozen=True)
class Echo:
    """The query of an operation as ``OUT`` repeated it.

    Attributes
    ----------
    addresses : tuple of int
        Address neurons of ``OUT`` that spiked in the echo window.
    content : tuple of int
        Content neurons of ``OUT`` that spiked in the echo window.
    """

    addresses: tuple[int, ...] = ()
    content: tuple[int, ...] = ()


@dataclass(frozen=True)
class Answer:
    """What ``OUT`` said about one operation. Every field means the same for every kind.

    Attributes
    ----------
    operation : Operation
    addresses : tuple of int
        Addresses the memory returned: for a recall by content, every address
        whose content shares a bit with the fragment; empty for other kinds.
    content : tuple of int
        Content the memory returned: for a recall by address, the bits stored
        there; empty for other kinds.
    echo : Echo
        The query as ``OUT`` repeated it: a store's address and content, a
        recall's address or fragment.
    forgotten : tuple of int
        Stores only: bits of the old content that the new one lacks.
    repeat : Echo or None
        Stores only: the second echo of the address and content.
    """

    operation: Operation
    addresses: tuple[int, ...] = ()
    content: tuple[int, ...] = ()
    echo: Echo = Echo()
    forgotten: tuple[int, ...] = ()
    repeat: Echo | None = None


def check_operation(op: Operation, n: int, m: int) -> None:
    """Raise ValidationError if ``op`` does not fit a memory of n addresses and m bits."""
    if not isinstance(op, Operation):
        raise ValidationError(f"CA3 program: {op!r} is not an Operation")
    where = f"{op.kind} operation" + (f" at t0 = {op.t0} ms" if op.t0 is not None else "")
    if op.kind in ("store", "recall_by_address"):
        if op.address is None:
            raise ValidationError(f"{where}: address is missing; give an integer in 0..{n - 1}")
        if not 0 <= op.address < n:
            raise ValidationError(f"{where}: address {op.address} is outside 0..{n - 1}")
    elif op.address is not None:
        raise ValidationError(f"{where}: a recall by content takes no address (got {op.address})")
    if op.kind == "recall_by_address" and op.content:
        raise ValidationError(f"{where}: a recall by address takes no content bits (got {list(op.content)})")
    if op.kind != "recall_by_address" and not op.content:
        what = "content" if op.kind == "store" else "fragment"
        raise ValidationError(f"{where}: the {what} is empty; give at least one bit in 0..{m - 1}")
    bad = [b for b in op.content if not 0 <= b < m]
    if bad:
        raise ValidationError(f"{where}: content bits {bad} are outside 0..{m - 1}")
    if len(set(op.content)) != len(op.content):
        raise ValidationError(f"{where}: content bits {list(op.content)} repeat a bit")
    if op.t0 is not None and op.t0 < 0:
        raise ValidationError(f"{where}: t0 = {op.t0} ms must be >= 0")


def check_schedule(
    operations: Sequence[Operation], n: int, m: int, timing: Timing = PAPER_TIMING, start: float = 0.0
) -> None:
    """Check every operation and the minimum spacing between consecutive starts (from ``start`` ms on)."""
    previous: Operation | None = None
    for op in operations:
        check_operation(op, n, m)
        if op.t0 is None:
            raise ValidationError(f"{op.kind} operation has no t0; schedule it with place()")
        if previous is None:
            if op.t0 < start - 1e-9:
                raise ValidationError(f"{op.kind} operation: t0 = {op.t0} ms lies before the current time {start:g} ms")
        else:
            gap = timing.spacing(previous.kind)
            if op.t0 - previous.t0 < gap - 1e-9:  # type: ignore[operator]
                raise ValidationError(
                    f"{op.kind} operation at t0 = {op.t0} ms: only {op.t0 - previous.t0} ms after the"  # type: ignore[operator]
                    f" {previous.kind} at t0 = {previous.t0} ms; the minimum spacing after a"
                    f" {'store' if previous.kind == 'store' else 'recall'} is {gap:g} ms"
                )
        previous = op


def place(
    operations: Iterable[Operation],
    start: float = 0.0,
    spacing_after_store_ms: float = 7.0,
    spacing_after_recall_ms: float = 6.0,
) -> list[Operation]:
    """Give every operation without a t0 the earliest start (ms) the spacing allows, from ``start`` on."""
    timing = PAPER_TIMING.with_spacing(spacing_after_store_ms, spacing_after_recall_ms)
    return schedule(operations, timing, start)


def schedule(operations: Iterable[Operation], timing: Timing, start: float = 0.0) -> list[Operation]:
    """Like :func:`place`, with the spacing of ``timing``."""
    placed: list[Operation] = []
    earliest = int(math.ceil(start - 1e-9))
    for op in operations:
        if not isinstance(op, Operation):
            raise ValidationError(f"CA3 program: {op!r} is not an Operation")
        t0 = earliest if op.t0 is None else op.t0
        placed.append(replace(op, t0=t0))
        earliest = t0 + int(math.ceil(timing.spacing(op.kind) - 1e-9))
    return placed


#: How an address is spelt on the address lines of ``IN`` and ``OUT``.
ADDRESS_CODES = ("one_hot", "binary")


def address_lines(n: int, address_code: str = "one_hot") -> int:
    """Lines that carry an address: n one-hot lines, or the bits of ``n`` (address a is the number a + 1)."""
    return n if address_code == "one_hot" else int(n).bit_length()


def address_bits(address: int, address_code: str = "one_hot") -> list[int]:
    """The address lines that spike for ``address``: [a], or the set bits of a + 1 (bit 0 = line 0)."""
    if address_code == "one_hot":
        return [address]
    value = address + 1
    return [b for b in range(value.bit_length()) if value >> b & 1]


def encode(
    operations: Sequence[Operation],
    n: int,
    m: int,
    timing: Timing = PAPER_TIMING,
    dt: float = 1.0,
    address_code: str = "one_hot",
) -> SpikeSourceArray:
    """Input spikes of ``IN`` (address lines, then m content lines) for scheduled ``operations``."""
    if address_code not in ADDRESS_CODES:
        raise ValidationError(f"encode: address_code = {address_code!r}; allowed: {', '.join(ADDRESS_CODES)}")
    first = address_lines(n, address_code)
    lines: list[int] = []
    times: list[float] = []
    for op in operations:
        check_operation(op, n, m)
        if op.t0 is None:
            raise ValidationError(f"{op.kind} operation has no t0; schedule it with place()")
        for offset in timing.offsets(op.kind, "cue"):
            cue = address_bits(op.address, address_code)  # type: ignore[arg-type]
            lines.extend(cue)
            times.extend([op.t0 + offset] * len(cue))
        for offset in timing.offsets(op.kind, "content"):
            lines.extend(first + b for b in op.content)
            times.extend([op.t0 + offset] * len(op.content))
    # Times on the dt grid (offsets like 0.7 ms are not exact binary fractions).
    ticks = np.rint(np.asarray(times, dtype=np.float64) / dt)
    return SpikeSourceArray(first + m, np.asarray(lines, dtype=np.int64), ticks * dt)


def decode(
    operations: Sequence[Operation],
    out: SpikeTrains,
    n: int,
    trial: int = 0,
    timing: Timing = PAPER_TIMING,
    dt: float = 1.0,
    address_code: str = "one_hot",
) -> list[Answer]:
    """Answers of ``operations`` read from the ``OUT`` spikes of one trial.

    ``OUT`` holds the address lines (n one-hot, or the bits of a + 1 for
    ``address_code="binary"``), then the m content lines.
    """
    keep = out.trial == trial
    ticks, neurons = out.tick[keep], out.neuron[keep]
    first = address_lines(n, address_code)

    def part(op: Operation, name: str) -> tuple[int, ...]:
        start, stop = timing.window(op.kind, name)
        lo, hi = round((op.t0 + start) / dt), round((op.t0 + stop) / dt)  # type: ignore[operator]
        found = np.unique(neurons[(ticks >= lo) & (ticks < hi)])
        if name not in ADDRESS_FIELDS:
            return tuple(int(i) - first for i in found if i >= first)
        lines = [int(i) for i in found if i < first]
        if address_code == "one_hot":
            return tuple(lines)
        value = sum(1 << b for b in lines)
        return (value - 1,) if value else ()

    answers = []
    for op in operations:
        if op.kind == "store":
            answers.append(
                Answer(
                    op,
                    echo=Echo(part(op, "echo_addresses"), part(op, "echo_content")),
                    forgotten=part(op, "forgotten"),
                    repeat=Echo(part(op, "repeat_addresses"), part(op, "repeat_content")),
                )
            )
        elif op.kind == "recall_by_address":
            answers.append(Answer(op, content=part(op, "content"), echo=Echo(addresses=part(op, "echo_addresses"))))
        else:
            answers.append(Answer(op, addresses=part(op, "addresses"), echo=Echo(content=part(op, "echo_content"))))
    return answers


def ideal_answers(
    operations: Sequence[Operation], stored: Mapping[int, Sequence[int]] | None = None
) -> tuple[list[Answer], dict[int, tuple[int, ...]]]:
    """The answers of a perfect memory, and its final contents.

    A store echoes its address and content twice and reports the old-only
    bits; a recall by address returns the stored content (empty if none); a
    recall by content returns every address whose content shares at least
    one bit with the fragment (spec section 2.2).
    """
    memory = {int(a): tuple(sorted(c)) for a, c in (stored or {}).items()}
    answers = []
    for op in operations:
        if op.kind == "store":
            old = set(memory.get(op.address, ()))  # type: ignore[arg-type]
            memory[op.address] = op.content  # type: ignore[index]
            echo = Echo((op.address,), op.content)  # type: ignore[arg-type]
            answers.append(Answer(op, echo=echo, forgotten=tuple(sorted(old - set(op.content))), repeat=echo))
        elif op.kind == "recall_by_address":
            answers.append(Answer(op, content=memory.get(op.address, ()), echo=Echo(addresses=(op.address,))))  # type: ignore[arg-type]
        else:
            fragment = set(op.content)
            hits = tuple(sorted(a for a, c in memory.items() if fragment & set(c)))
            answers.append(Answer(op, addresses=hits, echo=Echo(content=op.content)))
    return answers, memory


def wrong_answers(got: Sequence[Answer], operations: Sequence[Operation] | None = None) -> list[tuple[Answer, Answer]]:
    """(got, ideal) pairs of every answer that differs from a perfect memory's."""
    ops = list(operations) if operations is not None else [a.operation for a in got]
    expected, _ = ideal_answers(ops)
    return [(a, e) for a, e in zip(got, expected, strict=True) if a != e]
