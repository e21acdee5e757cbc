"""The one file format: one file per object, atomic writes, strict headers, checked arrays."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
import zipfile
from pathlib import Path

import numpy as np
import pytest

from neuromem import fileformat
from neuromem.errors import FileFormatError, ValidationError
from neuromem.limits import check_memory, parse_bytes

SCHEMA = "neuromem.test"


def _save(path: Path, **metadata: object) -> Path:
    arrays = {"w": np.arange(12.0).reshape(3, 4), "ticks": np.array([0, 5, 9])}
    return fileformat.save(path, schema=SCHEMA, version=1, type="Thing", metadata=metadata, arrays=arrays)


def _read(path: Path, **options: object) -> fileformat.Stored:
    return fileformat.read(path, schema=SCHEMA, version=1, types=("Thing",), **options)  # type: ignore[arg-type]


def _members(path: Path) -> dict[str, np.ndarray]:
    with np.load(path, allow_pickle=False) as data:
        return {key: data[key] for key in data.files}


def _write_header(path: Path, text: str | bytes, **arrays: np.ndarray) -> None:
    raw = text.encode() if isinstance(text, str) else text
    np.savez(path, header=np.frombuffer(raw, dtype=np.uint8), **arrays)


def test_save_writes_exactly_one_file_that_reads_back_equal(tmp_path: Path) -> None:
    path = _save(tmp_path / "thing", n=3, name="a", table={"x": [1, 2]})
    assert path == tmp_path / "thing.npz"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["thing.npz"]
    stored = _read(path)
    assert (stored.schema, stored.version, stored.type) == (SCHEMA, 1, "Thing")
    assert stored.metadata == {"n": 3, "name": "a", "table": {"x": [1, 2]}}
    np.testing.assert_array_equal(stored.array("w", shape=(3, 4)), np.arange(12.0).reshape(3, 4))
    assert stored.integer("n", minimum=1) == 3
    assert stored.sequence("table.x") == [1, 2]


@pytest.mark.parametrize("interrupt", [RuntimeError("disk on fire"), KeyboardInterrupt()])
def test_a_failed_write_leaves_the_old_file_and_no_temporary(tmp_path: Path, interrupt: BaseException) -> None:
    target = tmp_path / "data.bin"
    target.write_bytes(b"old")

    def write(handle: object) -> None:
        handle.write(b"half of the new")  # type: ignore[attr-defined]
        raise interrupt

    with pytest.raises(type(interrupt)):
        fileformat.atomic_write(target, write)
    assert target.read_bytes() == b"old"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["data.bin"]


def test_an_unwritable_folder_is_a_file_format_error_and_leaves_nothing(tmp_path: Path) -> None:
    with pytest.raises(FileFormatError, match="does not exist"):
        _save(tmp_path / "missing" / "thing")
    assert list(tmp_path.iterdir()) == []


def _dead_pid() -> int:
    child = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    return int(child.stdout)


def test_the_next_save_removes_temporaries_of_killed_writers_only(tmp_path: Path) -> None:
    dead = tmp_path / f".thing.npz.{_dead_pid()}.x1y2.tmp"
    alive = tmp_path / f".thing.npz.{os.getppid()}.k3l4.tmp"
    other = tmp_path / ".thing.npz.notes.tmp"
    mine = tmp_path / "thing.npz.tmp"
    for path in (dead, alive, other, mine):
        path.write_bytes(b"x")
    _save(tmp_path / "thing")
    assert not dead.exists()
    assert alive.exists() and other.exists() and mine.exists()


@pytest.mark.parametrize(
    ("header", "message"),
    [
        ({"schema": "other", "version": 1, "type": "Thing", "metadata": {}}, "'schema' is 'other'"),
        ({"schema": SCHEMA, "version": 0, "type": "Thing", "metadata": {}}, "'version' is 0"),
        ({"schema": SCHEMA, "version": "1", "type": "Thing", "metadata": {}}, "'version' is '1'"),
        ({"schema": SCHEMA, "version": True, "type": "Thing", "metadata": {}}, "'version' is True"),
        ({"schema": SCHEMA, "version": 2, "type": "Thing", "metadata": {}}, "newer than this neuromem reads"),
        ({"schema": SCHEMA, "version": 1, "type": "os.system", "metadata": {}}, "'type' is 'os.system'"),
        ({"schema": SCHEMA, "version": 1, "type": "Thing", "metadata": []}, "'metadata' is not a JSON object"),
        ({"schema": SCHEMA, "version": 1, "type": "Thing"}, "allowed: exactly metadata"),
        ({"schema": SCHEMA, "version": 1, "type": "Thing", "metadata": {}, "x": 1}, "allowed: exactly metadata"),
        ([1, 2], "not a JSON object"),
    ],
)
def test_bad_headers_are_refused_naming_the_entry(tmp_path: Path, header: object, message: str) -> None:
    path = tmp_path / "bad.npz"
    _write_header(path, json.dumps(header))
    with pytest.raises(FileFormatError, match=message):
        _read(path)


@pytest.mark.parametrize(
    "text",
    [
        b"\xff\xfe not utf-8",
        '{"schema": "neuromem.test", "schema": "neuromem.test", "version": 1, "type": "Thing", "metadata": {}}',
        '{"schema": "neuromem.test", "version": 1, "type": "Thing", "metadata": {"x": NaN}}',
        '{"a": ' * 100_000 + "1" + "}" * 100_000,
        "[" * 70 + "]" * 70,
        "",
    ],
)
def test_malformed_header_json_is_refused(tmp_path: Path, text: str | bytes) -> None:
    path = tmp_path / "bad.npz"
    _write_header(path, text)
    with pytest.raises(FileFormatError, match="header"):
        _read(path)


def test_files_without_header_object_arrays_or_foreign_members_are_refused(tmp_path: Path) -> None:
    np.savez(tmp_path / "plain.npz", w=np.ones(3))
    with pytest.raises(FileFormatError, match="no 'header' entry"):
        _read(tmp_path / "plain.npz")
    path = _save(tmp_path / "thing")
    members = _members(path)
    np.savez(path, **members, evil=np.array([{"a": 1}], dtype=object))
    with pytest.raises(FileFormatError, match="dtype object"):
        _read(path)
    with zipfile.ZipFile(tmp_path / "alien.npz", "w") as archive:
        archive.writestr("header.npy", b"x")
        archive.writestr("run.sh", b"rm -rf /")
    with pytest.raises(FileFormatError, match="corrupt|not an .npy"):
        _read(tmp_path / "alien.npz")
    with pytest.raises(FileFormatError, match="is a folder"):
        _read(tmp_path / "dir.npz") if (tmp_path / "dir.npz").mkdir() is None else None


@pytest.mark.parametrize("shape", [b"\x005056,)", b"(((56,)", b"(5056\x00)"])
def test_an_array_header_with_a_flipped_byte_is_a_file_format_error(tmp_path: Path, shape: bytes) -> None:
    # numpy parses an .npy header with ast.literal_eval and, failing that, once more through tokenize:
    # a zero byte or an unclosed bracket in the shape then raises tokenize.TokenError, not a ValueError.
    member = io.BytesIO()
    np.lib.format.write_array_header_1_0(member, {"descr": "<f8", "fortran_order": False, "shape": (5056,)})
    corrupt = member.getvalue().replace(b"(5056,)", shape)
    assert len(corrupt) == len(member.getvalue())
    with zipfile.ZipFile(tmp_path / "bad.npz", "w") as archive:
        archive.writestr("w.npy", corrupt + bytes(8 * 5056))
    with pytest.raises(FileFormatError, match=r"bad.npz: entry 'w' has a corrupt array header"):
        fileformat.read_members(tmp_path / "bad.npz")


def test_declared_sizes_are_checked_before_anything_is_allocated(tmp_path: Path) -> None:
    path = _save(tmp_path / "thing")
    with pytest.raises(FileFormatError, match=r"need 1\d\d B of memory .*entry 'w' has shape \(3, 4\).*limit of 100 B"):
        _read(path, max_bytes=100)
    # An .npy header that claims 10^7 x 10^7 floats (800 TB) next to 8 bytes of data.
    header = {"descr": "<f8", "fortran_order": False, "shape": (10**7, 10**7)}
    with zipfile.ZipFile(tmp_path / "huge.npz", "w") as archive:
        with archive.open("w.npy", "w") as member:
            np.lib.format.write_array_header_1_0(member, header)
            member.write(b"\0" * 8)
    with pytest.raises(FileFormatError, match=r"'w' declares shape \(10000000, 10000000\) of float64 \(800 TB\)"):
        fileformat.read_members(tmp_path / "huge.npz")
    with pytest.raises(FileFormatError, match=r"entry 'n' declares a size \(10000000, 10000000\) needing 800 TB"):
        fileformat.check_size(path, "n", (10**7, 10**7), 8)


def test_array_checks_are_exact_shapes_kinds_and_ranges(tmp_path: Path) -> None:
    path = fileformat.save(
        tmp_path / "t",
        schema=SCHEMA,
        version=1,
        type="Thing",
        metadata={"n": 3, "flag": True, "dt": 0.5, "name": "x"},
        arrays={"one": np.ones(1), "nan": np.array([1.0, np.nan]), "neg": np.array([-1.0]), "i": np.arange(3)},
    )
    stored = _read(path)
    with pytest.raises(FileFormatError, match=r"'one' has shape \(1,\); allowed: exactly \(3, 4\)"):
        stored.array("one", shape=(3, 4))
    with pytest.raises(FileFormatError, match="'nan' holds NaN"):
        stored.array("nan")
    with pytest.raises(FileFormatError, match=r"'neg' holds -1.0; allowed: values >= 0"):
        stored.array("neg", minimum=0.0)
    with pytest.raises(FileFormatError, match="'i' has dtype int64; allowed kinds: float"):
        stored.array("i")
    with pytest.raises(FileFormatError, match="'absent' is missing"):
        stored.array("absent")
    with pytest.raises(FileFormatError, match="'flag' is True; allowed: an integer"):
        stored.integer("flag")
    with pytest.raises(FileFormatError, match="'n' is 3; allowed: >= 4"):
        stored.integer("n", minimum=4)
    with pytest.raises(FileFormatError, match="'name' is 'x' .string.; allowed: a number"):
        stored.number("name")
    with pytest.raises(FileFormatError, match="'dt' is 0.5; allowed: 'a', 'b'|'dt' is 0.5 .number.; allowed: a string"):
        stored.string("dt", allowed=("a", "b"))
    with pytest.raises(FileFormatError, match="'i' is not part of a Thing file"):
        stored.unused_arrays({"one", "nan", "neg"})
    assert stored.integer("n", minimum=1, maximum=3) == 3


def test_saving_refuses_what_cannot_be_stored_plainly(tmp_path: Path) -> None:
    for metadata, arrays, message in (
        ({"x": float("nan")}, {}, "not plain finite JSON"),
        ({"x": object()}, {}, "not plain finite JSON"),
        ({}, {"header": np.ones(1)}, "array name 'header'"),
        ({}, {"o": np.array([None], dtype=object)}, "dtype object"),
    ):
        with pytest.raises(FileFormatError, match=message):
            fileformat.save(tmp_path / "x", schema=SCHEMA, version=1, type="Thing", metadata=metadata, arrays=arrays)
    assert list(tmp_path.iterdir()) == []


def test_memory_budget_parses_sizes_and_names_the_estimate(monkeypatch: pytest.MonkeyPatch) -> None:
    assert parse_bytes("8G") == 8 * 2**30 and parse_bytes("512M") == 512 * 2**20 and parse_bytes("1000") == 1000
    for bad in ("lots", "-1G", "0"):
        with pytest.raises(ValidationError):
            parse_bytes(bad)
    monkeypatch.setenv("NEUROMEM_MEMORY_LIMIT", "1M")
    with pytest.raises(ValidationError, match=r"Thing: a table would need about 2 MB of memory, more than the 1.05 MB"):
        check_memory("Thing", "a table", 2e6)
    check_memory("Thing", "a table", 1e6)
