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
    """Return ``value`` as float, or raise if it is not a finite number.

    Booleans and strings are not numbers here, even when Python could convert
    them (``float("0.1")``, ``float(True)``).
    """
    numeric = isinstance(value, (int, float, np.integer, np.floating)) or (
        isinstance(value, np.ndarray) and value.ndim == 0 and value.dtype.kind in "iuf"
    )
    if isinstance(value, (bool, np.bool_)) or not numeric:
        raise ValidationError(f"{owner}: {field} = {value!r} is not a number")
    number = float(value)
    if not math.isfinite(number):
        raise ValidationError(f"{owner}: {field} = {value!r} must be a finite number")
    return number


def positive(owner: str, field: str, value: float, unit: str = "") -> float:
    """Return ``value`` as float, or raise unless it is finite and > 0."""
    number = finite(owner, field, value)
    if number <= 0.0:
        raise ValidationError(f"{owner}: {field} = {number:g}{_u(unit)} must be > 0")
    return number


def positive_or_infinite(owner: str, field: str, value: float, unit: str = "") -> float:
    """Return ``value`` as float, or raise unless it is a number > 0; ``+inf`` is allowed.

    Used for lengths such as a source's firing period, where ``inf`` means "the whole run".
    """
    numeric = isinstance(value, (int, float, np.integer, np.floating)) or (
        isinstance(value, np.ndarray) and value.ndim == 0 and value.dtype.kind in "iuf"
    )
    if isinstance(value, (bool, np.bool_)) or not numeric:
        raise ValidationError(f"{owner}: {field} = {value!r} is not a number (a number > 0 or inf)")
    number = float(value)
    if math.isnan(number) or number <= 0.0:
        raise ValidationError(f"{owner}: {field} = {number:g}{_u(unit)} must be > 0 (inf allowed)")
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


def boolean(owner: str, field: str, value: bool) -> bool:
    """Return ``value``, or raise unless it is True or False (not a string, not a number)."""
    if not isinstance(value, (bool, np.bool_)):
        raise ValidationError(f"{owner}: {field} = {value!r} must be True or False")
    return bool(value)


def choice(owner: str, field: str, value: str, allowed: Sequence[str]) -> str:
    """Return ``value``, or raise unless it is one of ``allowed``."""
    if not isinstance(value, str) or value not in allowed:
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
    """Return ``value`` as a read-only int64 array of indices in ``0..size-1``.

    Whole-number floats are accepted; anything else (fractions, NaN, huge
    values, strings, booleans) is refused before the cast to integers, so a
    value such as 1e30 is reported as given rather than as an overflowed int.
    """
    try:
        array = np.asarray(value)
    except (TypeError, ValueError):
        raise ValidationError(f"{owner}: {field} must be an array of whole-number indices") from None
    if array.size and (array.dtype.kind not in "iuf"):
        raise ValidationError(
            f"{owner}: {field} must hold whole-number indices, got {array.dtype.name} values such as"
            f" {_scalar(array.ravel()[0])!r}"
        )
    flat = array.ravel()
    if flat.size and flat.dtype.kind == "f":
        bad = ~np.isfinite(flat) | (np.mod(np.where(np.isfinite(flat), flat, 0), 1) != 0)
        if np.any(bad):
            raise ValidationError(f"{owner}: {field} holds {_scalar(flat[bad][0])!r}; indices must be whole numbers")
    if flat.size:
        outside = (flat < 0) | (flat > size - 1)
        if np.any(outside):
            bad_value = flat[outside][0]
            shown = f"{int(bad_value)}" if abs(float(bad_value)) < 1e15 else f"{float(bad_value):g}"
            if size >= 2**40:
                raise ValidationError(
                    f"{owner}: {field} holds index {shown}; indices must be whole numbers >= 0 (below 2**62)"
                )
            raise ValidationError(f"{owner}: {field} holds index {shown}, outside 0..{size - 1}")
    result = np.array(flat, dtype=np.int64)
    result.setflags(write=False)
    return result


def _scalar(value: object) -> object:
    """A numpy scalar as the Python value it holds (for messages); anything else unchanged."""
    return value.item() if isinstance(value, np.generic) else value


def _u(unit: str) -> str:
    return f" {unit}" if unit else ""
