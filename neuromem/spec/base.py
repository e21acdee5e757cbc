"""Base class of every spec object: frozen, typed, compared by value.

Spec objects are frozen dataclasses whose fields are numbers, strings, tuples,
other spec objects or read-only numpy arrays. Every concrete class registers
itself by type name, so files are read through a registry and never through
``eval`` or pickle.
"""

from __future__ import annotations

import dataclasses
import hashlib
from typing import ClassVar, TypeVar

import numpy as np

from neuromem.errors import FileFormatError

SPEC_TYPES: dict[str, type[SpecObject]] = {}

T = TypeVar("T", bound="type[SpecObject]")


def register(cls: T) -> T:
    """Class decorator: make ``cls`` loadable from files by its type name."""
    if cls.__name__ in SPEC_TYPES and SPEC_TYPES[cls.__name__] is not cls:
        raise RuntimeError(f"two spec classes are both named {cls.__name__!r}")
    SPEC_TYPES[cls.__name__] = cls
    return cls


def spec_type(type_name: str) -> type[SpecObject]:
    """Return the registered spec class called ``type_name``."""
    try:
        return SPEC_TYPES[type_name]
    except KeyError:
        known = ", ".join(sorted(SPEC_TYPES))
        raise FileFormatError(f"unknown spec type {type_name!r}; known types: {known}") from None


class SpecObject:
    """Mixin for frozen spec dataclasses: value equality that understands arrays."""

    kind: ClassVar[str] = "spec"

    def __eq__(self, other: object) -> bool:
        if type(self) is not type(other):
            return NotImplemented
        for field in dataclasses.fields(self):  # type: ignore[arg-type]
            if field.name.startswith("_"):
                continue
            if not _equal(getattr(self, field.name), getattr(other, field.name)):
                return False
        return True

    def __hash__(self) -> int:
        # By value, consistent with __eq__: equal objects (arrays compared by value) hash equal.
        cached = self.__dict__.get("_value_hash")
        if cached is None:
            fields = [
                _hash_value(getattr(self, f.name))
                for f in dataclasses.fields(self)  # type: ignore[arg-type]
                if not f.name.startswith("_")
            ]
            cached = hash((type(self).__name__, *fields))
            object.__setattr__(self, "_value_hash", cached)
        return cached

    def replace(self: SpecObjectT, **changes: object) -> SpecObjectT:
        """Return a copy with ``changes`` applied (validated again)."""
        return dataclasses.replace(self, **changes)  # type: ignore[type-var]


SpecObjectT = TypeVar("SpecObjectT", bound=SpecObject)


def _hash_value(value: object) -> int:
    if isinstance(value, np.ndarray):
        # array_equal compares values across dtypes (1 == 1.0) and -0.0 == 0.0: hash the same normal form.
        normal = np.asarray(value, dtype=np.float64) + 0.0 if value.dtype.kind in "biuf" else value
        return hash((value.shape, hashlib.sha1(np.ascontiguousarray(normal).tobytes()).hexdigest()))
    if isinstance(value, (tuple, list)):
        return hash(tuple(_hash_value(v) for v in value))
    return hash(value)


def _equal(a: object, b: object) -> bool:
    if isinstance(a, np.ndarray) or isinstance(b, np.ndarray):
        return (
            isinstance(a, np.ndarray)
            and isinstance(b, np.ndarray)
            and a.shape == b.shape
            and bool(np.array_equal(a, b))
        )
    if isinstance(a, (tuple, list)) and isinstance(b, (tuple, list)):
        return len(a) == len(b) and all(_equal(x, y) for x, y in zip(a, b))
    return a == b
