"""Memory budget: refuse, before allocating, what cannot fit.

Sizes a user or a file declares (population sizes, connector expansions,
delay ring buffers, arrays of a loaded file, a run's recording) are compared
with an estimate of the memory they need *before* anything is allocated, so a
typo such as ``size = 10**9`` gives a clear error at once instead of a
``MemoryError`` (or the kernel's OOM killer) minutes later.

The budget is the machine's physical memory, or ``NEUROMEM_MEMORY_LIMIT``
(bytes, or with a suffix ``K``, ``M``, ``G``, ``T``: ``"8G"``) where set.
"""

from __future__ import annotations

import os

from neuromem.errors import ValidationError

_SUFFIXES = {"": 1, "K": 2**10, "M": 2**20, "G": 2**30, "T": 2**40}
#: Used where the physical memory cannot be read.
FALLBACK_BYTES = 16 * 2**30


def physical_memory() -> int:
    """Bytes of physical memory of this machine (:data:`FALLBACK_BYTES` if unknown)."""
    try:
        return int(os.sysconf("SC_PAGE_SIZE")) * int(os.sysconf("SC_PHYS_PAGES"))
    except (ValueError, OSError, AttributeError):
        return FALLBACK_BYTES


def parse_bytes(text: str, owner: str = "NEUROMEM_MEMORY_LIMIT") -> int:
    """``"8G"``, ``"512M"``, ``"1000000"`` as bytes; raises ValidationError otherwise."""
    cleaned = str(text).strip().upper().removesuffix("B").removesuffix("I")
    suffix = cleaned[-1:] if cleaned[-1:] in _SUFFIXES and cleaned[-1:] else ""
    number = cleaned[: len(cleaned) - len(suffix)]
    try:
        value = float(number) * _SUFFIXES[suffix]
    except ValueError:
        raise ValidationError(f"{owner} = {text!r} is not a size; use bytes or a number with K, M, G or T") from None
    if not value > 0 or value == float("inf"):
        raise ValidationError(f"{owner} = {text!r} must be a size > 0")
    return int(value)


def memory_limit() -> int:
    """The budget in bytes (see the module docstring)."""
    configured = os.environ.get("NEUROMEM_MEMORY_LIMIT")
    if configured:
        return parse_bytes(configured)
    return physical_memory()


def format_bytes(n: float) -> str:
    """``1.5 GB`` style (powers of 1000), for messages."""
    for unit in ("B", "kB", "MB", "GB", "TB", "PB"):
        if abs(n) < 1000 or unit == "PB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.3g} {unit}"
        n /= 1000
    return f"{n:.3g} PB"


def check_memory(owner: str, what: str, nbytes: float, limit: int | None = None) -> None:
    """Raise ValidationError if ``nbytes`` exceeds the budget, with the estimate in the message."""
    budget = memory_limit() if limit is None else limit
    if nbytes > budget:
        raise ValidationError(
            f"{owner}: {what} would need about {format_bytes(nbytes)} of memory, more than the"
            f" {format_bytes(budget)} available (set NEUROMEM_MEMORY_LIMIT to change the budget)"
        )


__all__ = ["check_memory", "format_bytes", "memory_limit", "parse_bytes", "physical_memory"]
