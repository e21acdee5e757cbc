"""Small validation helpers shared by the spec dataclasses.

Each helper raises :class:`neuromem.errors.ValidationError` with a message that
names the object, the field, the bad value and what is allowed.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

from neuromem.errors import ValidationError


def finite(owner: str, field: str, value: float) -> float:
    """Return ``value`` as float, or raise if it is not a finite number."""
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise ValidationError(f"{owner}: {field} = {value!r} is not a number") from None
    if not math.isfinite(number):
        raise ValidationError(f"{owner}: {field} = {value!r} must be a finite number")
    return number


def positive(owner: str, field: str, value: float, unit: str = "") -> float:
    """Return ``value`` as float, or raise unless it is finite and > 0."""
    number = finite(owner, field, value)
    if number <= 0.0:
        raise ValidationError(f"{owner}: {field} = {number:g}{_u(unit)} must be > 0")
    return number


def non_negative(owner: str, field: str, value: float, unit: str = "") -> float:
    """Return ``value`` as float, or raise unless it is finite and >= 0."""
    number = finite(owner, field, value)
    if number < 0.0:
        raise ValidationError(f"{owner}: {field} = {number:g}{_u(unit)} must be >= 0")
    return number


def probability(owner: str, field: str, value: float) -> float:
    """Return ``value`` as float, or raise unless it lies in [0, 1]."""
    number = finite(owner, field, value)
    if not 0.0 <= number <= 1.0:
        raise ValidationError(f"{owner}: {field} = {number:g} must lie in [0, 1]")
    return number


def count(owner: str, field: str, value: int, minimum: int = 1) -> int:
    """Return ``value`` as int, or raise unless it is an integer >= ``minimum``."""
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        raise ValidationError(f"{owner}: {field} = {value!r} must be an integer >= {minimum}")
    if int(value) < minimum:
        raise ValidationError(f"{owner}: {field} = {int(value)} must be an integer >= {minimum}")
    return int(value)


def choice(owner: str, field: str, value: str, allowed: Sequence[str]) -> str:
    """Return ``value``, or raise unless it is one of ``allowed``."""
    if value not in allowed:
        options = ", ".join(repr(a) for a in allowed)
        raise ValidationError(f"{owner}: {field} = {value!r} is not one of {options}")
    return value


def name(owner: str, field: str, value: str) -> str:
    """Return ``value``, or raise unless it is a safe identifier-like label.

    Labels travel into generated PyNN scripts and file names, so they are
    restricted to letters, digits, ``_`` and ``-`` (1 to 64 characters).
    """
    if not isinstance(value, str) or not value or len(value) > 64:
        raise ValidationError(f"{owner}: {field} = {value!r} must be a string of 1 to 64 characters")
    if not all(c.isascii() and (c.isalnum() or c in "_-") for c in value) or value[0] == "-":
        raise ValidationError(
            f"{owner}: {field} = {value!r} may hold only ASCII letters, digits, '_' and '-' and may not start with '-'"
        )
    return value


def float_array(owner: str, field: str, value: object, unit: str = "") -> np.ndarray:
    """Return ``value`` as a read-only finite float64 array, or raise."""
    try:
        array = np.array(value, dtype=np.float64)
    except (TypeError, ValueError):
        raise ValidationError(f"{owner}: {field} must be numeric, got {type(value).__name__}") from None
    if not np.all(np.isfinite(array)):
        bad = array[~np.isfinite(array)].ravel()[0]
        raise ValidationError(f"{owner}: {field} holds {bad}{_u(unit)}; every value must be finite")
    array.setflags(write=False)
    return array


def index_array(owner: str, field: str, value: object, size: int) -> np.ndarray:
    """Return ``value`` as a read-only int64 array of indices in ``0..size-1``."""
    array = np.asarray(value)
    if array.size and not np.issubdtype(array.dtype, np.integer):
        if not np.all(np.equal(np.mod(array, 1), 0)):
            raise ValidationError(f"{owner}: {field} must hold whole-number indices")
    array = np.array(array, dtype=np.int64).ravel()
    if array.size and (array.min() < 0 or array.max() >= size):
        bad = array[(array < 0) | (array >= size)][0]
        raise ValidationError(f"{owner}: {field} holds index {bad}, outside 0..{size - 1}")
    array.setflags(write=False)
    return array


def _u(unit: str) -> str:
    return f" {unit}" if unit else ""
