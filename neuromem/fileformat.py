"""One file format for every object neuromem saves.

A saved object is **one** ``.npz`` file (a zip of ``.npy`` members):

``header``
    A ``uint8`` array holding UTF-8 JSON: ``{"schema": str, "version": int,
    "type": str, "metadata": {...}}``. ``schema`` names the family of files
    (``"neuromem.spec"``, ``"neuromem.recording"``, ...), ``version`` the
    layout of that family (an integer >= 1), ``type`` the kind of object and
    ``metadata`` everything that is not an array.
every other member
    One plain numeric array of the object (no object arrays: files are read
    with ``allow_pickle=False``, so nothing in a file is ever executed).

Writing is atomic as a whole. The file is written to a temporary file in the
same folder (``.<name>.<pid>.<random>.tmp``), flushed, ``fsync``'d and moved
over the target with :func:`os.replace`; then the folder is ``fsync``'d so the
rename itself survives a power cut. A reader therefore sees the old object or
the new one, never a mix of the two. On any failure, ``KeyboardInterrupt``
included, the temporary file is removed. Only a process killed outright
(``SIGKILL``, power loss) can leave a ``.<name>.<pid>.*.tmp`` behind; the next
save of the same path removes such files whose process no longer runs.

Reading is strict. The header must name the expected schema and a version
between 1 and the newest this code reads; metadata keys are checked for
presence and type; every member's declared shape and dtype is read from its
``.npy`` header and its size checked against the memory budget
(:mod:`neuromem.limits`) *before* anything is allocated; and the loader
states, for every array, the exact shape, dtype kind and value range it
accepts (nothing is broadcast). Every problem raises
:class:`~neuromem.errors.FileFormatError` naming the file, the entry and what
is allowed.

Example
-------
A model's save and load written on this module::

    from neuromem import fileformat

    SCHEMA, VERSION = "neuromem.mymodel", 1

    def save(model, path):
        return fileformat.save(
            path, schema=SCHEMA, version=VERSION, type="MyModel",
            metadata={"n": model.n, "tick": model.tick},
            arrays={"weight": model.weight},
        )

    def load(path):
        stored = fileformat.read(path, schema=SCHEMA, version=VERSION, types=("MyModel",))
        n = stored.integer("n", minimum=1)              # metadata["n"]; "a.b" reads metadata["a"]["b"]
        fileformat.check_size(stored.path, "weight", (n, n), 8)   # before building anything of size n
        tick = stored.integer("tick", minimum=0)
        weight = stored.array("weight", shape=(n, n), kinds="f", finite=True, minimum=0.0)
        return MyModel(n, tick, weight)

Files of ``neuromem.spec.save`` from before this format (``x.json`` beside
``x.npz``) are still read by :func:`neuromem.spec.load`; nothing writes them.
"""

from __future__ import annotations

import json
import math
import os
import shutil
import tempfile
import tokenize
import zipfile
import zlib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

import numpy as np

from neuromem.errors import FileFormatError
from neuromem.limits import format_bytes, memory_limit

HEADER = "header"
#: Most bytes a header may hold: metadata is small, arrays hold the bulk.
MAX_HEADER_BYTES = 64 * 2**20
#: Deepest nesting of lists and objects a header may hold.
MAX_DEPTH = 64
#: Array dtype kinds a file may hold: bool, signed, unsigned, float, complex.
ARRAY_KINDS = "biufc"

Json = None | bool | int | float | str | list["Json"] | dict[str, "Json"]


def _checkpoint(stage: str) -> None:
    """Called between the steps of a save (a no-op); crash tests replace it to kill the process there."""


# -- writing ---------------------------------------------------------------------------------------------


def npz_path(path: str | os.PathLike[str]) -> Path:
    """``path`` with the ``.npz`` suffix: ``x`` and ``x.json`` become ``x.npz``; ``x.npz`` stays."""
    path = Path(path)
    if path.suffix == ".npz":
        return path
    if path.suffix == ".json":
        return path.with_suffix(".npz")
    return path.with_name(path.name + ".npz")


def save(
    path: str | os.PathLike[str],
    *,
    schema: str,
    version: int,
    type: str,  # noqa: A002 - the header's own key
    metadata: Mapping[str, object],
    arrays: Mapping[str, np.ndarray] | None = None,
    compress: bool = False,
) -> Path:
    """Write one object as one ``.npz`` file, atomically; returns the path written.

    Parameters
    ----------
    path : path
        Target file; it gets the ``.npz`` suffix (see :func:`npz_path`). Its
        folder must exist.
    schema, version, type : str, int, str
        Header fields (see the module docstring).
    metadata : mapping
        JSON data (no NaN or infinity: encode those yourself).
    arrays : mapping of str to array
        Plain numeric arrays; names must not be ``"header"``.
    compress : bool
        Deflate the members (smaller, slower).

    Raises
    ------
    FileFormatError
        The folder is missing or not writable, or the content cannot be stored.
    """
    path = npz_path(path)
    members = _members(path, schema, version, type, metadata, arrays or {})
    folder = path.parent
    if not folder.is_dir():
        raise FileFormatError(f"cannot save {path}: folder {folder} does not exist")
    writer = np.savez_compressed if compress else np.savez
    atomic_write(path, lambda handle: writer(handle, **members))
    return path


def _members(
    path: Path, schema: str, version: int, kind: str, metadata: Mapping[str, object], arrays: Mapping[str, np.ndarray]
) -> dict[str, np.ndarray]:
    if not isinstance(schema, str) or not schema:
        raise FileFormatError(f"cannot save {path}: schema {schema!r} must be a non-empty string")
    if isinstance(version, bool) or not isinstance(version, int) or version < 1:
        raise FileFormatError(f"cannot save {path}: version {version!r} must be an integer >= 1")
    if not isinstance(kind, str) or not kind:
        raise FileFormatError(f"cannot save {path}: type {kind!r} must be a non-empty string")
    header = {"schema": schema, "version": version, "type": kind, "metadata": dict(metadata)}
    try:
        text = json.dumps(header, allow_nan=False, ensure_ascii=False)
    except (TypeError, ValueError) as error:
        raise FileFormatError(f"cannot save {path}: metadata is not plain finite JSON ({error})") from error
    members = {HEADER: np.frombuffer(text.encode("utf-8"), dtype=np.uint8)}
    for name, value in arrays.items():
        if not isinstance(name, str) or not name or name == HEADER or name.startswith("/") or "\\" in name:
            raise FileFormatError(f"cannot save {path}: array name {name!r} is not allowed")
        array = np.asarray(value)
        if array.dtype.kind not in ARRAY_KINDS or array.dtype.names is not None:
            raise FileFormatError(
                f"cannot save {path}: array {name!r} has dtype {array.dtype}; allowed: plain bool, int, float, complex"
            )
        members[name] = np.ascontiguousarray(array)
    return members


def atomic_write(path: str | os.PathLike[str], write: Callable[[IO[bytes]], object]) -> Path:
    """Write ``path`` through a temporary file in its folder; replace the target only when complete.

    ``write(handle)`` writes the content to a binary file handle. The handle is
    flushed and ``fsync``'d, the file moved over ``path`` with
    :func:`os.replace`, and the folder ``fsync``'d. On any exception (also
    ``KeyboardInterrupt``) the temporary file is removed and ``path`` is left
    as it was. Stale temporary files of ``path`` left by killed processes are
    removed first.

    Raises
    ------
    FileFormatError
        The folder does not exist or cannot be written.
    """
    path = Path(path)
    folder = path.parent
    remove_stale_temporaries(path)
    try:
        handle, temporary = tempfile.mkstemp(dir=folder, prefix=f".{path.name}.{os.getpid()}.", suffix=".tmp")
    except OSError as error:
        raise FileFormatError(f"cannot save {path}: {error.strerror or error}") from error
    try:
        _checkpoint("created")
        # mkstemp makes the file private (0600); give it the mode the target has, or the umask's default.
        os.chmod(temporary, _mode_for(path, 0o666))
        with os.fdopen(handle, "wb") as file:
            write(file)
            _checkpoint("written")
            file.flush()
            _checkpoint("flushed")
            os.fsync(file.fileno())
        _checkpoint("synced")
        os.replace(temporary, path)
        _checkpoint("replaced")
    except BaseException as error:
        # Cleanup must run for KeyboardInterrupt too, so no partial file stays behind.
        try:
            os.unlink(temporary)
        except FileNotFoundError:
            pass
        if isinstance(error, OSError):
            raise FileFormatError(f"cannot save {path}: {error.strerror or error}") from error
        raise
    sync_folder(folder)
    _checkpoint("folder-synced")
    return path


def _mode_for(path: Path, base: int) -> int:
    """Permission bits for a new ``path``: those of the file it replaces, else ``base`` under the umask."""
    try:
        return os.stat(path).st_mode & 0o7777
    except OSError:
        umask = os.umask(0)
        os.umask(umask)
        return base & ~umask


def default_folder_mode() -> int:
    """Permission bits of a new folder under the current umask (``mkdtemp`` makes private ones)."""
    return _mode_for(Path(os.devnull) / "absent", 0o777)


def sync_folder(folder: str | os.PathLike[str]) -> None:
    """``fsync`` a folder so that renames in it are durable (a no-op where folders cannot be opened)."""
    try:
        descriptor = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(descriptor)
    except OSError:
        pass
    finally:
        os.close(descriptor)


def remove_stale_temporaries(path: str | os.PathLike[str]) -> list[Path]:
    """Remove ``.<name>.<pid>.*.tmp`` files (and folders) of ``path`` whose writing process has ended.

    Returns what was removed. Files of processes that still run, and anything
    not named like our temporary files, are never touched.
    """
    path = Path(path)
    prefix, removed = f".{path.name}.", []
    try:
        names = os.listdir(path.parent)
    except OSError:
        return removed
    for name in names:
        if not (name.startswith(prefix) and name.endswith(".tmp")):
            continue
        pid_text = name[len(prefix) :].split(".", 1)[0]
        if not pid_text.isdigit() or _process_alive(int(pid_text)):
            continue
        stale = path.parent / name
        try:
            if stale.is_dir() and not stale.is_symlink():
                shutil.rmtree(stale)
            else:
                stale.unlink()
        except OSError:
            continue
        removed.append(stale)
    return removed


def _process_alive(pid: int) -> bool:
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OverflowError, ValueError):
        return True
    return True


# -- reading ---------------------------------------------------------------------------------------------


@dataclass
class Stored:
    """A file read by :func:`read`: header fields, metadata and arrays, with strict accessors.

    Every accessor raises :class:`FileFormatError` naming the file, the entry
    and what is allowed.
    """

    path: Path
    schema: str
    version: int
    type: str
    metadata: dict[str, Json]
    arrays: dict[str, np.ndarray] = field(repr=False)

    # -- metadata ------------------------------------------------------------------------------------

    def error(self, entry: str, problem: str) -> FileFormatError:
        """A FileFormatError about ``entry`` of this file."""
        return FileFormatError(f"{self.path}: entry {entry!r} {problem}")

    def value(self, key: str, types: type | tuple[type, ...]) -> Json:
        """Metadata entry ``key`` (required), checked to be of ``types`` (bool is never an int or float).

        ``key`` is a dotted path into nested tables: ``"train.seed"`` is
        ``metadata["train"]["seed"]``.
        """
        item: Json = self.metadata
        for part in key.split("."):
            if not isinstance(item, dict) or part not in item:
                raise self.error(key, "is missing")
            item = item[part]
        wanted = types if isinstance(types, tuple) else (types,)
        if isinstance(item, bool) and bool not in wanted:
            raise self.error(key, f"is {item!r}; allowed: {_type_names(wanted)}")
        if float in wanted and isinstance(item, int) and not isinstance(item, bool):
            return item
        if not isinstance(item, wanted):
            raise self.error(key, f"is {item!r} ({_json_type(item)}); allowed: {_type_names(wanted)}")
        return item

    def integer(self, key: str, minimum: int | None = 0, maximum: int | None = None) -> int:
        """Metadata entry ``key`` as an integer in ``[minimum, maximum]``."""
        number = self.value(key, int)
        assert isinstance(number, int)
        _check_range(self, key, number, minimum, maximum)
        return number

    def number(
        self, key: str, minimum: float | None = None, maximum: float | None = None, positive: bool = False
    ) -> float:
        """Metadata entry ``key`` as a finite float in ``[minimum, maximum]`` (``> 0`` if ``positive``)."""
        number = float(self.value(key, float))  # type: ignore[arg-type]
        if not math.isfinite(number):
            raise self.error(key, f"is {number!r}; allowed: a finite number")
        if positive and number <= 0:
            raise self.error(key, f"is {number!r}; allowed: a number > 0")
        _check_range(self, key, number, minimum, maximum)
        return number

    def string(self, key: str, allowed: Sequence[str] | None = None) -> str:
        """Metadata entry ``key`` as a string, one of ``allowed`` if given."""
        text = self.value(key, str)
        assert isinstance(text, str)
        if allowed is not None and text not in allowed:
            raise self.error(key, f"is {text!r}; allowed: {', '.join(map(repr, allowed))}")
        return text

    def table(self, key: str) -> dict[str, Json]:
        """Metadata entry ``key`` as a JSON object."""
        return self.value(key, dict)  # type: ignore[return-value]

    def sequence(self, key: str) -> list[Json]:
        """Metadata entry ``key`` as a JSON list."""
        return self.value(key, list)  # type: ignore[return-value]

    def require_keys(self, key: str, required: set[str], optional: frozenset[str] = frozenset()) -> dict[str, Json]:
        """Metadata table ``key`` (``""``: the metadata itself), refused if it lacks ``required`` keys
        or has keys outside ``required | optional``."""
        table = self.metadata if key == "" else self.table(key)
        missing = sorted(required - set(table))
        extra = sorted(set(table) - required - set(optional))
        if missing or extra:
            raise self.error(
                key or "metadata",
                f"has missing keys {missing} and unknown keys {extra}; allowed: {sorted(required | set(optional))}",
            )
        return table

    # -- arrays --------------------------------------------------------------------------------------

    def array(
        self,
        name: str,
        shape: Sequence[int | None] | None = None,
        kinds: str = "f",
        finite: bool = True,
        minimum: float | None = None,
        maximum: float | None = None,
    ) -> np.ndarray:
        """Array ``name``, checked before it is used.

        Parameters
        ----------
        shape : sequence of int or None, or None
            Exact shape; ``None`` in a position accepts any length there. Never
            broadcast: a ``(1,)`` array is not a ``(12, 20)`` one.
        kinds : str
            Allowed numpy dtype kinds: ``b`` bool, ``i`` int, ``u`` unsigned, ``f`` float.
        finite : bool
            Refuse NaN and infinities (float arrays).
        minimum, maximum : float or None
            Inclusive bounds of every value.
        """
        if name not in self.arrays:
            raise self.error(name, "is missing")
        array = self.arrays[name]
        if array.dtype.kind not in kinds:
            raise self.error(name, f"has dtype {array.dtype}; allowed kinds: {_kind_names(kinds)}")
        if shape is not None:
            expected = tuple(shape)
            if array.ndim != len(expected) or any(
                want is not None and have != want for have, want in zip(array.shape, expected)
            ):
                wanted = "(" + ", ".join("any" if w is None else str(w) for w in expected) + ")"
                raise self.error(name, f"has shape {array.shape}; allowed: exactly {wanted}")
        if array.size:
            if finite and array.dtype.kind in "fc" and not np.all(np.isfinite(array)):
                raise self.error(name, "holds NaN or infinity; allowed: finite values only")
            if minimum is not None and array.min() < minimum:
                raise self.error(name, f"holds {array.min().item()!r}; allowed: values >= {minimum!r}")
            if maximum is not None and array.max() > maximum:
                raise self.error(name, f"holds {array.max().item()!r}; allowed: values <= {maximum!r}")
        return array

    def unused_arrays(self, used: set[str]) -> None:
        """Refuse arrays the loader does not know (a file of another layout, or tampered)."""
        extra = sorted(set(self.arrays) - used)
        if extra:
            raise self.error(extra[0], f"is not part of a {self.type} file; allowed arrays: {sorted(used)}")


def read(
    path: str | os.PathLike[str],
    *,
    schema: str,
    version: int,
    types: Sequence[str] | None = None,
    max_bytes: int | None = None,
) -> Stored:
    """Read a file written by :func:`save` and check its header.

    Parameters
    ----------
    path : path
        The ``.npz`` file (suffix added as by :func:`npz_path`).
    schema : str
        The schema the file must have.
    version : int
        Newest version this reader understands; files of versions 1..version are accepted.
    types : sequence of str or None
        Allowed ``type`` values; None accepts any.
    max_bytes : int or None
        Most bytes the arrays may take in memory; default :func:`neuromem.limits.memory_limit`.

    Raises
    ------
    FileFormatError
        Missing, corrupt or foreign file, wrong schema or type, unsupported
        version, or arrays larger than ``max_bytes``.
    """
    path = npz_path(path)
    return stored_from_members(path, read_members(path, max_bytes), schema=schema, version=version, types=types)


def stored_from_members(
    path: Path, arrays: dict[str, np.ndarray], *, schema: str, version: int, types: Sequence[str] | None = None
) -> Stored:
    """Check the header among ``arrays`` (from :func:`read_members`) and wrap the rest as a :class:`Stored`."""
    if HEADER not in arrays:
        raise FileFormatError(f"{path}: has no {HEADER!r} entry; it is not a neuromem file")
    arrays = dict(arrays)
    document = parse_header(path, arrays.pop(HEADER))
    if set(document) != {"schema", "version", "type", "metadata"}:
        raise FileFormatError(
            f"{path}: entry 'header' has keys {sorted(document)}; allowed: exactly metadata, schema, type, version"
        )
    if document["schema"] != schema:
        raise FileFormatError(f"{path}: entry 'schema' is {document['schema']!r}; allowed: {schema!r}")
    found = document["version"]
    if isinstance(found, bool) or not isinstance(found, int) or found < 1:
        raise FileFormatError(f"{path}: entry 'version' is {found!r}; allowed: an integer from 1 to {version}")
    if found > version:
        raise FileFormatError(
            f"{path}: entry 'version' is {found}, newer than this neuromem reads ({version}); upgrade neuromem"
        )
    kind = document["type"]
    if not isinstance(kind, str) or (types is not None and kind not in types):
        allowed = "a string" if types is None else ", ".join(map(repr, types))
        raise FileFormatError(f"{path}: entry 'type' is {kind!r}; allowed: {allowed}")
    if not isinstance(document["metadata"], dict):
        raise FileFormatError(f"{path}: entry 'metadata' is not a JSON object")
    return Stored(path, schema, found, kind, document["metadata"], arrays)


def read_members(path: Path, max_bytes: int | None = None) -> dict[str, np.ndarray]:
    """Every member of an ``.npz`` as an array, sizes checked before loading, no pickle."""
    limit = memory_limit() if max_bytes is None else max_bytes
    try:
        with zipfile.ZipFile(path) as archive:
            infos = [info for info in archive.infolist() if not info.is_dir()]
            declared: dict[str, tuple[tuple[int, ...], np.dtype]] = {}
            for info in infos:
                if not info.filename.endswith(".npy"):
                    raise FileFormatError(f"{path}: entry {info.filename!r} is not an .npy array")
                name = info.filename[: -len(".npy")]
                if name in declared:
                    raise FileFormatError(f"{path}: entry {name!r} appears twice")
                with archive.open(info) as member:
                    shape, dtype = _npy_header(path, name, member)
                    data_bytes = info.file_size - member.tell()
                nbytes = math.prod(shape) * dtype.itemsize
                if nbytes != data_bytes:
                    raise FileFormatError(
                        f"{path}: entry {name!r} declares shape {shape} of {dtype} ({format_bytes(nbytes)}) but"
                        f" holds {format_bytes(max(data_bytes, 0))}; the file is corrupt"
                    )
                declared[name] = (shape, dtype)
            total = sum(math.prod(s) * d.itemsize for s, d in declared.values())
            if total > limit:
                biggest = max(declared, key=lambda n: math.prod(declared[n][0]) * declared[n][1].itemsize)
                raise FileFormatError(
                    f"{path}: its arrays need {format_bytes(total)} of memory (entry {biggest!r} has shape"
                    f" {declared[biggest][0]}), more than the limit of {format_bytes(limit)}; nothing was loaded"
                )
            if HEADER in declared and math.prod(declared[HEADER][0]) > MAX_HEADER_BYTES:
                raise FileFormatError(f"{path}: entry 'header' is larger than {format_bytes(MAX_HEADER_BYTES)}")
        with np.load(path, allow_pickle=False) as data:
            arrays = {name: data[name] for name in declared}
    except FileNotFoundError:
        raise FileFormatError(f"{path}: no such file") from None
    except IsADirectoryError:
        raise FileFormatError(f"{path}: is a folder, not a file") from None
    except FileFormatError:
        raise
    except (
        OSError,
        ValueError,
        EOFError,
        KeyError,
        zipfile.BadZipFile,
        zipfile.LargeZipFile,
        zlib.error,
        NotImplementedError,  # zip features numpy never writes: encryption, unknown versions
        RuntimeError,  # zipfile: "File ... is encrypted, password required"
    ) as error:
        raise FileFormatError(f"{path}: is corrupt or not an .npz file ({error})") from error
    for name, array in arrays.items():
        if array.shape != declared[name][0]:
            raise FileFormatError(f"{path}: entry {name!r} is corrupt")
    return arrays


def _npy_header(path: Path, name: str, member: IO[bytes]) -> tuple[tuple[int, ...], np.dtype]:
    try:
        major, _ = np.lib.format.read_magic(member)
        if major == 1:
            shape, fortran, dtype = np.lib.format.read_array_header_1_0(member)
        elif major == 2:
            shape, fortran, dtype = np.lib.format.read_array_header_2_0(member)
        else:
            raise ValueError(f"unsupported .npy format version {major}")
    except (ValueError, SyntaxError, TypeError, EOFError, RecursionError, tokenize.TokenError) as error:
        # numpy parses the header with ast.literal_eval, and version 1 headers it cannot parse once more
        # through tokenize: a flipped byte there raises TokenError.
        raise FileFormatError(f"{path}: entry {name!r} has a corrupt array header ({error})") from error
    if dtype.hasobject or dtype.names is not None or dtype.kind not in ARRAY_KINDS:
        raise FileFormatError(
            f"{path}: entry {name!r} has dtype {dtype}; allowed: plain bool, int, float, complex (no objects)"
        )
    if any(not isinstance(n, int) or n < 0 for n in shape):
        raise FileFormatError(f"{path}: entry {name!r} has a bad shape {shape}")
    return tuple(shape), dtype


def parse_header(path: Path, raw: np.ndarray) -> dict[str, Json]:
    """The header member as a JSON object: UTF-8, strict JSON, no duplicate keys, bounded nesting."""
    if raw.dtype != np.uint8 or raw.ndim != 1:
        raise FileFormatError(
            f"{path}: entry 'header' has dtype {raw.dtype} and shape {raw.shape}; allowed: uint8 (n,)"
        )
    try:
        document = json.loads(
            raw.tobytes().decode("utf-8"), object_pairs_hook=_unique_keys, parse_constant=_no_constant
        )
    except (UnicodeDecodeError, ValueError, RecursionError) as error:
        raise FileFormatError(f"{path}: entry 'header' is not valid UTF-8 JSON ({_short(error)})") from None
    if not isinstance(document, dict):
        raise FileFormatError(f"{path}: entry 'header' is not a JSON object")
    check_depth(path, "header", document, MAX_DEPTH)
    return document


def read_version_1_header(json_path: Path, schema: str, what: str, current: int) -> dict[str, Json]:
    """The JSON header ``x.json`` that version 1 of a file family wrote beside ``x.npz`` (read only).

    Strict JSON (no NaN, no duplicate keys, bounded nesting) naming ``schema``
    and version 1; ``what`` names the family in messages (``"a saved CA3 memory"``),
    ``current`` is the version this neuromem writes.
    """
    try:
        text = json_path.read_text(encoding="utf-8")
        document = json.loads(text, object_pairs_hook=_unique_keys, parse_constant=_no_constant)
    except FileNotFoundError:
        raise FileFormatError(f"no such file: {json_path}") from None
    except (OSError, UnicodeDecodeError, ValueError, RecursionError) as error:
        raise FileFormatError(f"{json_path} is not valid JSON: {_short(error)}") from None
    if not isinstance(document, dict) or document.get("schema") != schema:
        raise FileFormatError(f"{json_path} is not {what} (schema {schema!r} expected)")
    version = document.get("version")
    if isinstance(version, bool) or not isinstance(version, int) or version < 1:
        raise FileFormatError(f"{json_path}: bad schema version {version!r}; allowed: an integer >= 1")
    if version != 1:
        raise FileFormatError(
            f"{json_path} has schema version {version}; a .json header is version 1"
            f" (this neuromem reads up to {current}); upgrade neuromem"
        )
    check_depth(json_path, "header", document, MAX_DEPTH + 2)  # the object sits one level down
    return document


def has_header(path: Path) -> bool:
    """Whether ``path`` is a zip archive holding the header member (a file of version 2 or later)."""
    import zipfile

    try:
        with zipfile.ZipFile(path) as archive:
            return f"{HEADER}.npy" in archive.namelist()
    except (OSError, ValueError, EOFError, zipfile.BadZipFile):
        return False


def check_depth(path: Path, entry: str, value: Json, limit: int) -> None:
    """Refuse JSON nested deeper than ``limit`` (iteratively: no recursion limit to hit)."""
    stack: list[tuple[Json, int]] = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if depth > limit:
            raise FileFormatError(f"{path}: entry {entry!r} is nested deeper than {limit} levels")
        if isinstance(item, dict):
            stack.extend((v, depth + 1) for v in item.values())
        elif isinstance(item, list):
            stack.extend((v, depth + 1) for v in item)


def check_size(path: str | os.PathLike[str], entry: str, shape: Sequence[int], itemsize: int) -> None:
    """Refuse, before allocating, an object of ``shape`` x ``itemsize`` bytes above the memory budget.

    For loaders that build structures whose size a header declares (e.g. an
    ``n`` x ``n`` weight matrix from ``n``).
    """
    nbytes = math.prod(int(n) for n in shape) * int(itemsize)
    limit = memory_limit()
    if nbytes > limit:
        raise FileFormatError(
            f"{path}: entry {entry!r} declares a size {tuple(shape)} needing {format_bytes(nbytes)} of memory,"
            f" more than the limit of {format_bytes(limit)}; nothing was loaded"
        )


def _unique_keys(pairs: list[tuple[str, Json]]) -> dict[str, Json]:
    result: dict[str, Json] = {}
    for key, value in pairs:
        if key in result:
            raise ValueError(f"key {key!r} appears twice")
        result[key] = value
    return result


def _no_constant(name: str) -> float:
    raise ValueError(f"{name} is not JSON")


def _check_range(stored: Stored, key: str, number: float, minimum: float | None, maximum: float | None) -> None:
    if (minimum is not None and number < minimum) or (maximum is not None and number > maximum):
        low = "" if minimum is None else f">= {minimum}"
        high = "" if maximum is None else f"<= {maximum}"
        raise stored.error(key, f"is {number!r}; allowed: {' and '.join(p for p in (low, high) if p)}")


def _type_names(types: tuple[type, ...]) -> str:
    names = {
        bool: "true/false",
        int: "an integer",
        float: "a number",
        str: "a string",
        list: "a list",
        dict: "an object",
    }
    return " or ".join(names.get(t, t.__name__) for t in types)


def _json_type(value: object) -> str:
    return {bool: "boolean", int: "integer", float: "number", str: "string", list: "list", dict: "object"}.get(
        type(value), "null" if value is None else type(value).__name__
    )


def _kind_names(kinds: str) -> str:
    names = {"b": "bool", "i": "int", "u": "unsigned int", "f": "float", "c": "complex"}
    return ", ".join(names[k] for k in kinds)


def _short(error: BaseException) -> str:
    text = str(error) or type(error).__name__
    return text if len(text) < 200 else text[:200] + "..."


__all__ = [
    "HEADER",
    "Stored",
    "atomic_write",
    "check_size",
    "npz_path",
    "parse_header",
    "read",
    "read_members",
    "remove_stale_temporaries",
    "save",
    "stored_from_members",
    "sync_folder",
]
