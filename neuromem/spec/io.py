"""Saving and loading spec objects as one file (:mod:`neuromem.fileformat`).

``save(net, "net")`` writes ``net.npz``: its header (schema
``neuromem.spec``) holds the object tree as JSON -- the type name of every
object (resolved through the registry in :mod:`neuromem.spec.base`, never
``eval``) and its public fields -- and every numpy field is a member array
referenced from the tree as ``{"$array": "a0"}``. The file is written
atomically, so a crash leaves the old object or the new one, never a mix.

Loading checks the header, refuses unknown types, unknown or private fields,
trees nested deeper than :data:`MAX_DEPTH`, arrays the tree does not use and
non-numeric arrays, and builds every object through its constructor, so a
loaded object is validated exactly as a new one.

Files of the first version (``net.json`` beside ``net.npz``, schema version
1) are still read; nothing writes them any more.
"""

from __future__ import annotations

import dataclasses
import math
import os
from pathlib import Path

import numpy as np

from neuromem import fileformat
from neuromem.errors import FileFormatError, ValidationError
from neuromem.fileformat import atomic_write
from neuromem.spec.base import SpecObject, spec_type

SCHEMA = "neuromem.spec"
#: 1: ``x.json`` + ``x.npz`` (read only); 2: one ``x.npz`` with a header.
SCHEMA_VERSION = 2
#: Deepest nesting of objects and lists a spec file may hold.
MAX_DEPTH = 32

JsonValue = None | bool | int | float | str | list["JsonValue"] | dict[str, "JsonValue"]


def encode(value: object, arrays: dict[str, np.ndarray]) -> JsonValue:
    """Turn a spec object tree into JSON data, moving arrays into ``arrays``."""
    if isinstance(value, SpecObject) and dataclasses.is_dataclass(value):
        fields = {name: encode(getattr(value, name), arrays) for name in public_fields(type(value))}
        return {"type": type(value).__name__, "fields": fields}
    if isinstance(value, np.ndarray):
        key = f"a{len(arrays)}"
        arrays[key] = np.ascontiguousarray(value)
        return {"$array": key}
    if isinstance(value, (tuple, list)):
        return [encode(v, arrays) for v in value]
    if isinstance(value, float) and not math.isfinite(value):
        return {"$float": repr(value)}
    if isinstance(value, np.generic):
        return encode(value.item(), arrays)
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    raise ValidationError(f"cannot save a value of type {type(value).__name__}")


def public_fields(cls: type) -> list[str]:
    """Constructor fields of a spec class that a file may set (private ``_`` fields are never stored)."""
    return [f.name for f in dataclasses.fields(cls) if f.init and not f.name.startswith("_")]  # type: ignore[arg-type]


def decode(data: JsonValue, arrays: dict[str, np.ndarray], used: set[str] | None = None, depth: int = 0) -> object:
    """Inverse of :func:`encode`; every object is validated again by its constructor.

    ``used`` collects the array keys the tree references.
    """
    used = set() if used is None else used
    if depth > MAX_DEPTH:
        raise FileFormatError(f"spec tree is nested deeper than {MAX_DEPTH} levels")
    if isinstance(data, list):
        return tuple(decode(v, arrays, used, depth + 1) for v in data)
    if not isinstance(data, dict):
        return data
    keys = set(data)
    if keys == {"$array"}:
        key = data["$array"]
        if not isinstance(key, str) or key not in arrays:
            raise FileFormatError(f"array {key!r} referenced by the tree is missing from the file")
        if arrays[key].dtype.kind not in "biuf":
            raise FileFormatError(f"array {key!r} has dtype {arrays[key].dtype}; allowed: bool, int, float")
        used.add(key)
        return arrays[key]
    if keys == {"$float"}:
        if data["$float"] not in ("inf", "-inf", "nan"):
            raise FileFormatError(f"bad special float {data['$float']!r}; allowed: 'inf', '-inf', 'nan'")
        return float(data["$float"])  # type: ignore[arg-type]
    if keys != {"type", "fields"} or not isinstance(data["fields"], dict) or not isinstance(data["type"], str):
        raise FileFormatError(
            f"malformed entry with keys {sorted(keys)}; allowed: an object {{'type': str, 'fields': {{...}}}},"
            " {'$array': key} or {'$float': 'inf'|'-inf'|'nan'}"
        )
    cls = spec_type(data["type"])
    names = public_fields(cls)
    unknown = set(data["fields"]) - set(names)
    if unknown:
        raise FileFormatError(f"{data['type']}: unknown fields {sorted(unknown)}; allowed: {names}")
    kwargs = {k: decode(v, arrays, used, depth + 1) for k, v in data["fields"].items()}
    try:
        return cls(**kwargs)
    except (TypeError, ValueError, ValidationError) as error:
        raise FileFormatError(f"{data['type']} in file is invalid: {error}") from error


def save(obj: SpecObject, path: str | os.PathLike[str]) -> Path:
    """Save ``obj`` as one file ``<path>.npz`` (atomically); returns its path.

    ``path`` may end in ``.npz``, ``.json`` (replaced) or have no suffix.

    Raises
    ------
    FileFormatError
        The folder does not exist or is not writable.
    ValidationError
        ``obj`` holds a value that cannot be saved.
    """
    if not isinstance(obj, SpecObject):
        raise ValidationError(f"save: expected a spec object, got {type(obj).__name__}")
    arrays: dict[str, np.ndarray] = {}
    tree = encode(obj, arrays)
    return fileformat.save(
        path, schema=SCHEMA, version=SCHEMA_VERSION, type=type(obj).__name__, metadata={"object": tree}, arrays=arrays
    )


def load(path: str | os.PathLike[str]) -> SpecObject:
    """Load what :func:`save` wrote (or a version-1 ``.json`` + ``.npz`` pair). Never executes code.

    Raises
    ------
    FileFormatError
        Missing, corrupt, foreign or newer file, or content that fails validation.
    """
    npz = fileformat.npz_path(path)
    legacy = npz.with_suffix(".json")
    if legacy.is_file() and not fileformat.has_header(npz):
        return _load_legacy(legacy, npz)
    stored = fileformat.read(npz, schema=SCHEMA, version=SCHEMA_VERSION)
    stored.require_keys("", {"object"})
    used: set[str] = set()
    try:
        obj = decode(stored.metadata["object"], stored.arrays, used)
    except FileFormatError as error:
        raise FileFormatError(f"{npz}: {error}") from error
    # Compared through the registry: files name a renamed class by its earlier name (LIFCurrExp).
    if not isinstance(obj, SpecObject) or type(obj) is not spec_type(stored.type):
        raise FileFormatError(f"{npz}: does not hold the {stored.type!r} its header names")
    stored.unused_arrays(used)
    return obj


def _load_legacy(json_path: Path, npz_path: Path) -> SpecObject:
    """Read the version-1 pair ``x.json`` + ``x.npz`` (read only)."""
    document = fileformat.read_version_1_header(json_path, SCHEMA, "a neuromem spec file", SCHEMA_VERSION)
    fileformat.check_depth(json_path, "object", document.get("object"), MAX_DEPTH + 1)
    arrays = fileformat.read_members(npz_path)
    used: set[str] = set()
    try:
        obj = decode(document.get("object"), arrays, used)
    except FileFormatError as error:
        raise FileFormatError(f"{json_path}: {error}") from error
    if not isinstance(obj, SpecObject):
        raise FileFormatError(f"{json_path} does not hold a spec object")
    return obj


def read_npz(path: Path) -> dict[str, np.ndarray]:
    """All arrays of an ``.npz``, read without pickle (sizes checked first)."""
    return fileformat.read_members(Path(path))


__all__ = ["SCHEMA", "SCHEMA_VERSION", "atomic_write", "decode", "encode", "load", "read_npz", "save"]
