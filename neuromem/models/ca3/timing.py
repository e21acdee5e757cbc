"""When a CA3 operation's inputs are given and when its answer is read, as data of a parameter set.

Times are in ms from the operation's start ``t0`` (an integer ms on the
1 ms operation grid of the papers). For each operation kind:

* ``inputs``: the offsets at which the address line (``cue``) and the
  content lines (``content``) of ``IN`` spike;
* ``windows``: for each part of the answer, the interval ``[start, stop)``
  in which ``OUT`` spikes are read (a neuron that spikes at least once in
  the window is in the answer);
* the minimum spacing from one operation's start to the next one's.

The paper's timing (spec ``ca3.md`` sections 2.1 and 2.2) holds a store for
3 ticks and reads the echo at ``t0 + 5``, the forgotten bits at ``t0 + 6``
and the second echo at ``t0 + 7``; a recall reads the echo at ``t0 + 5`` and
the result at ``t0 + 6``. At dt = 1 ms each window is one tick.

Example
-------
>>> timing = Timing.paper()
>>> timing.window("store", "forgotten"), timing.span("store")
((6.0, 7.0), 8.0)
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field

from neuromem.errors import ValidationError

#: Operation kinds, named like the methods of :class:`~neuromem.models.ca3.CA3Memory`.
KINDS = ("store", "recall_by_address", "recall_by_content")
#: The kinds of the recorded protocol files and of earlier versions.
LEGACY_KINDS = {"write": "store", "recall_cue": "recall_by_address", "recall_content": "recall_by_content"}
#: Input lines of each kind: the address line, the content lines, or both.
KIND_SIDES = {"store": ("cue", "content"), "recall_by_address": ("cue",), "recall_by_content": ("content",)}
#: Parts of each kind's answer (see :class:`~neuromem.models.ca3.protocol.Answer`).
KIND_FIELDS = {
    "store": ("echo_addresses", "echo_content", "forgotten", "repeat_addresses", "repeat_content"),
    "recall_by_address": ("echo_addresses", "content"),
    "recall_by_content": ("echo_content", "addresses"),
}
#: Parts read from the address half of ``OUT`` (the others read the content half).
ADDRESS_FIELDS = frozenset({"echo_addresses", "addresses", "repeat_addresses"})


def _paper_windows() -> dict[str, dict[str, tuple[float, float]]]:
    return {
        "store": {
            "echo_addresses": (5.0, 6.0),
            "echo_content": (5.0, 6.0),
            "forgotten": (6.0, 7.0),
            "repeat_addresses": (7.0, 8.0),
            "repeat_content": (7.0, 8.0),
        },
        "recall_by_address": {"echo_addresses": (5.0, 6.0), "content": (6.0, 7.0)},
        "recall_by_content": {"echo_content": (5.0, 6.0), "addresses": (6.0, 7.0)},
    }


@dataclass(frozen=True, eq=True)
class Timing:
    """Input offsets, answer windows and minimum spacing of every operation kind (ms).

    Parameters
    ----------
    inputs : mapping
        kind -> side (``"cue"``, ``"content"``) -> tuple of input offsets (ms, >= 0).
    windows : mapping
        kind -> answer part -> ``(start, stop)`` (ms, 0 <= start < stop).
    spacing_after_store_ms, spacing_after_recall_ms : float
        Minimum time from a store's (a recall's) start to the next operation's start (ms, > 0).
    """

    inputs: Mapping[str, Mapping[str, tuple[float, ...]]] = field(
        default_factory=lambda: {
            "store": {"cue": (0.0, 1.0, 2.0), "content": (0.0, 1.0, 2.0)},
            "recall_by_address": {"cue": (0.0,)},
            "recall_by_content": {"content": (0.0,)},
        }
    )
    windows: Mapping[str, Mapping[str, tuple[float, float]]] = field(default_factory=_paper_windows)
    spacing_after_store_ms: float = 7.0
    spacing_after_recall_ms: float = 6.0

    # Equal timings compare equal; they hold dicts, so they are not hashable.
    __hash__ = None  # type: ignore[assignment]

    def __post_init__(self) -> None:
        where = "CA3 timing"
        inputs: dict[str, dict[str, tuple[float, ...]]] = {}
        windows: dict[str, dict[str, tuple[float, float]]] = {}
        for kind in KINDS:
            sides = _mapping(self.inputs, kind, f"{where} [inputs]")
            extra = sorted(set(sides) - set(KIND_SIDES[kind]))
            if extra:
                raise ValidationError(f"{where} [inputs.{kind}]: unknown sides {extra}; allowed: {KIND_SIDES[kind]}")
            inputs[kind] = {}
            for side in KIND_SIDES[kind]:
                offsets = _numbers(sides.get(side), f"{where} [inputs.{kind}] {side}")
                if not offsets:
                    raise ValidationError(f"{where} [inputs.{kind}] {side}: give at least one input offset (ms)")
                if min(offsets) < 0:
                    raise ValidationError(f"{where} [inputs.{kind}] {side} = {list(offsets)}: offsets must be >= 0 ms")
                inputs[kind][side] = tuple(sorted(offsets))
            parts = _mapping(self.windows, kind, f"{where} [windows]")
            if set(parts) != set(KIND_FIELDS[kind]):
                raise ValidationError(
                    f"{where} [windows.{kind}]: parts {sorted(parts)}; a {kind} answer has exactly {KIND_FIELDS[kind]}"
                )
            windows[kind] = {}
            for part in KIND_FIELDS[kind]:
                bounds = _numbers(parts[part], f"{where} [windows.{kind}] {part}")
                if len(bounds) != 2 or not 0 <= bounds[0] < bounds[1]:
                    raise ValidationError(
                        f"{where} [windows.{kind}] {part} = {list(bounds)}: give [start, stop] in ms, 0 <= start < stop"
                    )
                windows[kind][part] = (bounds[0], bounds[1])
        for name in ("spacing_after_store_ms", "spacing_after_recall_ms"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value) or value <= 0:
                raise ValidationError(f"{where}: {name} = {value!r} must be a number of ms > 0")
            object.__setattr__(self, name, float(value))
        object.__setattr__(self, "inputs", inputs)
        object.__setattr__(self, "windows", windows)

    @classmethod
    def paper(
        cls, hold_ticks: int = 3, spacing_after_store_ms: float = 7.0, spacing_after_recall_ms: float = 6.0
    ) -> Timing:
        """The published timing: a store holds its lines for ``hold_ticks`` ms; answers at t0 + 5 .. 7."""
        hold = tuple(float(k) for k in range(hold_ticks))
        inputs = {
            "store": {"cue": hold, "content": hold},
            "recall_by_address": {"cue": (0.0,)},
            "recall_by_content": {"content": (0.0,)},
        }
        return cls(inputs, _paper_windows(), spacing_after_store_ms, spacing_after_recall_ms)

    def spacing(self, kind: str) -> float:
        """Minimum time (ms) from the start of an operation of ``kind`` to the next start."""
        return self.spacing_after_store_ms if kind == "store" else self.spacing_after_recall_ms

    def span(self, kind: str) -> float:
        """Time (ms) from an operation's start until its last answer window has closed."""
        return max(stop for _, stop in self.windows[kind].values())

    def window(self, kind: str, part: str) -> tuple[float, float]:
        """``(start, stop)`` (ms from t0) in which ``part`` of a ``kind`` answer is read."""
        return self.windows[kind][part]

    def offsets(self, kind: str, side: str) -> tuple[float, ...]:
        """Input offsets (ms from t0) of ``side`` (``"cue"`` or ``"content"``) in a ``kind`` operation."""
        return self.inputs[kind].get(side, ())

    def with_spacing(self, after_store_ms: float | None = None, after_recall_ms: float | None = None) -> Timing:
        """A copy with other minimum spacings (None keeps the current one)."""
        return Timing(
            self.inputs,
            self.windows,
            self.spacing_after_store_ms if after_store_ms is None else after_store_ms,
            self.spacing_after_recall_ms if after_recall_ms is None else after_recall_ms,
        )

    @classmethod
    def from_dict(cls, data: Mapping[str, object], where: str = "CA3 parameters [protocol]") -> Timing:
        """Read the ``[protocol]`` table of a parameter file.

        Keys: ``spacing_after_store_ms``, ``spacing_after_recall_ms``, the
        tables ``inputs`` and ``windows``; or, as in earlier files,
        ``write_hold_ticks`` and ``spacing_after_write_ms`` for the paper's timing.
        """
        if not isinstance(data, Mapping):
            raise ValidationError(f"{where}: must be a table")
        known = {
            "spacing_after_store_ms",
            "spacing_after_recall_ms",
            "spacing_after_write_ms",
            "write_hold_ticks",
            "inputs",
            "windows",
        }
        unknown = sorted(set(data) - known)
        if unknown:
            raise ValidationError(f"{where}: unknown keys {unknown}; allowed: {sorted(known)}")
        store = data.get("spacing_after_store_ms", data.get("spacing_after_write_ms", 7.0))
        recall = data.get("spacing_after_recall_ms", 6.0)
        hold = data.get("write_hold_ticks", 3)
        if isinstance(hold, bool) or not isinstance(hold, int) or hold < 1:
            raise ValidationError(f"{where}: write_hold_ticks = {hold!r} must be an integer >= 1")
        paper = cls.paper(hold)
        inputs = data.get("inputs", paper.inputs)
        windows = data.get("windows", paper.windows)
        return cls(inputs, windows, store, recall)  # type: ignore[arg-type]

    def to_dict(self) -> dict[str, object]:
        """The ``[protocol]`` table (inverse of :meth:`from_dict`)."""
        return {
            "spacing_after_store_ms": self.spacing_after_store_ms,
            "spacing_after_recall_ms": self.spacing_after_recall_ms,
            "inputs": {kind: {side: list(v) for side, v in sides.items()} for kind, sides in self.inputs.items()},
            "windows": {kind: {part: list(b) for part, b in parts.items()} for kind, parts in self.windows.items()},
        }


def _mapping(data: object, key: str, where: str) -> Mapping[str, object]:
    if not isinstance(data, Mapping):
        raise ValidationError(f"{where}: must be a table")
    value = data.get(key)
    if not isinstance(value, Mapping):
        raise ValidationError(f"{where}: table {key!r} is missing")
    return value


def _numbers(value: object, where: str) -> tuple[float, ...]:
    if value is None:
        return ()
    if isinstance(value, (str, bytes)) or not hasattr(value, "__iter__"):
        raise ValidationError(f"{where} = {value!r}: give a list of numbers (ms)")
    numbers = []
    for item in value:  # type: ignore[attr-defined]
        if isinstance(item, bool) or not isinstance(item, (int, float)) or not math.isfinite(item):
            raise ValidationError(f"{where}: {item!r} is not a finite number of ms")
        numbers.append(float(item))
    return tuple(numbers)
