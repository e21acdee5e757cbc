"""Saving and loading spec objects: JSON for structure, ``.npz`` for arrays.

``save(obj, "net.json")`` writes ``net.json`` and ``net.npz`` side by side.
The JSON holds a schema version, the type name of every object (resolved
through the registry in :mod:`neuromem.spec.base`, never ``eval``) and
references into the ``.npz``, which is read with ``allow_pickle=False``.
Both files are written to temporary names and renamed, so a crash never
leaves a half-written pair.
"""

from __future__ import annotations

import dataclasses
import json
import math
import os
import tempfile
import zipfile
from pathlib import Path

import numpy as np

from neuromem.errors import FileFormatError, ValidationError
from neuromem.spec.base import SpecObject, spec_type

SCHEMA = "neuromem.spec"
SCHEMA_VERSION = 1

JsonValue = None | bool | int | float | str | list["JsonValue"] | dict[str, "JsonValue"]


def encode(value: object, arrays: dict[str, np.ndarray]) -> JsonValue:
    """Turn a spec object tree into JSON data, moving arrays into ``arrays``."""
    if isinstance(value, SpecObject) and dataclasses.is_dataclass(value):
        fields = {
            f.name: encode(getattr(value, f.name), arrays)
            for f in dataclasses.fields(value)
            if not f.name.startswith("_")
        }
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
        return value.item()  # type: ignore[no-any-return]
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    raise ValidationError(f"cannot save a value of type {type(value).__name__}")


def decode(data: JsonValue, arrays: dict[str, np.ndarray]) -> object:
    """Inverse of :func:`encode`; every object is validated again on construction."""
    if isinstance(data, list):
        return tuple(decode(v, arrays) for v in data)
    if isinstance(data, dict):
        if "$array" in data:
            key = data["$array"]
            if not isinstance(key, str) or key not in arrays:
                raise FileFormatError(f"array {key!r} referenced by the JSON is missing from the .npz")
            return arrays[key]
        if "$float" in data:
            if data["$float"] not in ("inf", "-inf", "nan"):
                raise FileFormatError(f"bad special float {data['$float']!r}")
            return float(data["$float"])  # type: ignore[arg-type]
        if set(data) != {"type", "fields"} or not isinstance(data["fields"], dict):
            raise FileFormatError(f"malformed object entry with keys {sorted(data)}")
        cls = spec_type(str(data["type"]))
        names = {f.name for f in dataclasses.fields(cls)}  # type: ignore[arg-type]
        unknown = set(data["fields"]) - names
        if unknown:
            raise FileFormatError(f"{data['type']}: unknown fields {sorted(unknown)}")
        kwargs = {k: decode(v, arrays) for k, v in data["fields"].items()}
        try:
            return cls(**kwargs)
        except (TypeError, ValidationError) as error:
            raise FileFormatError(f"{data['type']} in file is invalid: {error}") from error
    return data


def save(obj: SpecObject, path: str | os.PathLike[str]) -> Path:
    """Save ``obj`` as ``<path>.json`` + ``<path>.npz``; returns the JSON path.

    Raises
    ------
    FileFormatError
        The folder does not exist or is not writable.
    """
    json_path = Path(path).with_suffix(".json")
    arrays: dict[str, np.ndarray] = {}
    document = {"schema": SCHEMA, "version": SCHEMA_VERSION, "object": encode(obj, arrays)}
    folder = json_path.parent
    if not folder.is_dir():
        raise FileFormatError(f"cannot save to {json_path}: folder {folder} does not exist")
    try:
        atomic_write(json_path.with_suffix(".npz"), lambda f: np.savez(f, **arrays))
        atomic_write(json_path, lambda f: f.write(json.dumps(document, indent=1, allow_nan=False).encode()))
    except OSError as error:
        raise FileFormatError(f"cannot save to {json_path}: {error.strerror}") from error
    return json_path


def load(path: str | os.PathLike[str]) -> SpecObject:
    """Load what :func:`save` wrote. Never executes code from the files."""
    json_path = Path(path).with_suffix(".json")
    npz_path = json_path.with_suffix(".npz")
    try:
        document = json.loads(json_path.read_text())
    except FileNotFoundError:
        raise FileFormatError(f"no such file: {json_path}") from None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as error:
        raise FileFormatError(f"{json_path} is not valid JSON: {error}") from error
    if not isinstance(document, dict) or document.get("schema") != SCHEMA:
        raise FileFormatError(f"{json_path} is not a neuromem spec file (schema {SCHEMA!r} expected)")
    version = document.get("version")
    if not isinstance(version, int) or version < 1:
        raise FileFormatError(f"{json_path}: bad schema version {version!r}")
    if version > SCHEMA_VERSION:
        raise FileFormatError(
            f"{json_path} has schema version {version}, newer than this neuromem reads ({SCHEMA_VERSION});"
            " upgrade neuromem"
        )
    arrays = read_npz(npz_path)
    obj = decode(document.get("object"), arrays)
    if not isinstance(obj, SpecObject):
        raise FileFormatError(f"{json_path} does not hold a spec object")
    return obj


def read_npz(path: Path) -> dict[str, np.ndarray]:
    """All arrays of an ``.npz``, read without pickle."""
    try:
        with np.load(path, allow_pickle=False) as data:
            return {key: data[key] for key in data.files}
    except FileNotFoundError:
        raise FileFormatError(f"no such file: {path}") from None
    except (OSError, ValueError, zipfile.BadZipFile, EOFError) as error:
        raise FileFormatError(f"{path} is corrupt or not an .npz file: {error}") from error


def atomic_write(path: Path, write: object) -> None:
    """Write ``path`` through a temporary file in the same folder, then rename."""
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(handle, "wb") as file:
            write(file)  # type: ignore[operator]
            file.flush()
            os.fsync(file.fileno())
        os.replace(temporary, path)
    except BaseException:
        if os.path.exists(temporary):
            os.unlink(temporary)
        raise
