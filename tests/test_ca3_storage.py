"""Saving and loading a CA3Memory: one checked file, atomic as a whole; tampered files are refused.

The edited-file reproducers of the reliability review (NaN weights, tick -100, weights x 1e6, a
header with n = 10^7) each give a FileFormatError before anything is built or changed.
"""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest

from neuromem import fileformat
from neuromem.errors import FileFormatError, ValidationError
from neuromem.models.ca3 import CA3Memory, Operation, place
from neuromem.models.ca3.storage import SCHEMA, TYPE, VERSION

STORES = [Operation.store(0, (0, 1, 8, 9)), Operation.store(4, (1, 5, 6)), Operation.store(3, (4, 5, 6))]
RECALLS = [Operation.recall_by_address(0), Operation.recall_by_content((6,)), Operation.recall_by_content((0, 4))]


def _saved(tmp_path: Path, name: str = "memory") -> tuple[CA3Memory, Path]:
    mem = CA3Memory(5, 10, dtype="float64")
    mem.execute(STORES)
    return mem, mem.save(tmp_path / name)


def _rewrite(path: Path, metadata: dict | None = None, arrays: dict | None = None) -> None:
    """Save ``path`` again with edited metadata or arrays, as a user with numpy could."""
    stored = fileformat.read(path, schema=SCHEMA, version=VERSION)
    fileformat.save(
        path,
        schema=SCHEMA,
        version=VERSION,
        type=TYPE,
        metadata={**stored.metadata, **(metadata or {})},
        arrays={**stored.arrays, **(arrays or {})},
    )


def test_a_saved_memory_is_one_file_and_continues_where_it_stopped(tmp_path):
    mem, path = _saved(tmp_path)
    assert path.name == "memory.npz" and sorted(p.name for p in tmp_path.iterdir()) == ["memory.npz"]
    loaded = CA3Memory.load(path)
    assert (loaded.n, loaded.m, loaded.tick, loaded.dtype) == (5, 10, mem.tick, "float64")
    np.testing.assert_array_equal(loaded.weights()["cue_to_content"], mem.weights()["cue_to_content"])
    assert loaded.execute(RECALLS) == mem.execute(RECALLS)
    assert CA3Memory.load(tmp_path / "memory").tick == loaded.tick - sum(6 for _ in RECALLS)


@pytest.mark.parametrize(
    ("metadata", "arrays", "message"),
    [
        (None, {"plastic.CueCue-ContCue.weight": "nan"}, "holds NaN or infinity"),
        (None, {"plastic.CueCue-ContCue.weight": "x1e6"}, "allowed: values <= 6.0"),
        ({"tick": -100}, None, "entry 'tick' is -100; allowed: >= 0"),
        ({"n": 10**7}, None, "n = 10000000 addresses .* would need about .* more than"),
        ({"n": 1.5}, None, "entry 'n' is 1.5"),
        ({"dtype": "float16"}, None, "entry 'dtype' is 'float16'"),
        ({"params": {"name": "x"}}, None, "table \\[cells\\] is missing"),
        (None, {"plastic.CueCue-ContCue.weight": "broadcast"}, "has shape \\(1, 1\\); allowed: exactly \\(1, 50\\)"),
        (None, {"neurons.i_exc": "negative"}, "holds -1.0; allowed: values >= 0.0"),
        (None, {"unexpected": np.zeros(3)}, "is not part of a CA3Memory file"),
    ],
)
def test_tampered_files_are_refused_naming_the_entry(tmp_path, metadata, arrays, message):
    _, path = _saved(tmp_path)
    stored = fileformat.read(path, schema=SCHEMA, version=VERSION)
    edits = {}
    for key, value in (arrays or {}).items():
        if isinstance(value, str):
            array = stored.arrays[key].copy()
            if value == "nan":
                array[0, 0] = np.nan
            elif value == "x1e6":
                array *= 1e6
            elif value == "broadcast":
                array = array[:, :1]
            elif value == "negative":
                array[0, 0] = -1.0
            value = array
        edits[key] = value
    _rewrite(path, metadata, edits)
    with pytest.raises(FileFormatError, match=message):
        CA3Memory.load(path)


def test_loading_missing_corrupt_or_foreign_files_raises_file_format_error(tmp_path):
    with pytest.raises(FileFormatError, match="absent"):
        CA3Memory.load(tmp_path / "absent")
    (tmp_path / "x.json").write_text('{"schema": "something.else"}')
    with pytest.raises(FileFormatError, match="not a saved CA3 memory"):
        CA3Memory.load(tmp_path / "x")
    _, path = _saved(tmp_path, "ok")
    path.write_bytes(b"not a zip")
    with pytest.raises(FileFormatError):
        CA3Memory.load(path)


def test_files_of_version_1_are_still_read_with_the_same_checks(tmp_path):
    mem = CA3Memory(5, 10, dtype="float64")
    mem.execute(STORES)
    state = {k: v.numpy() for k, v in mem.simulation.state_dict().items()}
    params = mem.params.to_dict()
    params["protocol"] = {"write_hold_ticks": 3, "spacing_after_write_ms": 7.0, "spacing_after_recall_ms": 6.0}
    params["plasticity"].pop("rule")
    header = {"schema": SCHEMA, "version": 1, "n": 5, "m": 10, "batch_size": 1, "backend": "torch"}
    header.update(dtype="float64", tick=mem.tick, params=params, arrays=sorted(state))
    (tmp_path / "old.json").write_text(json.dumps(header))
    np.savez(tmp_path / "old.npz", **state)
    loaded = CA3Memory.load(tmp_path / "old.json")
    assert loaded.tick == mem.tick and loaded.params.timing == mem.params.timing
    assert loaded.execute(RECALLS) == mem.execute(RECALLS)
    state["plastic.ContCont-CueCont.weight"][0, 0] = np.nan
    np.savez(tmp_path / "old.npz", **state)
    with pytest.raises(FileFormatError, match="holds NaN"):
        CA3Memory.load(tmp_path / "old.json")


def test_brian2_memory_loaded_from_a_file_continues_the_saved_timeline(tmp_path):
    pytest.importorskip("brian2")
    mem = CA3Memory(3, 4, backend="brian2")
    mem.execute(place([Operation.store(1, (0, 2)), Operation.store(2, (3,))]))
    path = mem.save(tmp_path / "b2")
    loaded = CA3Memory.load(path)
    # Brian2 cannot go back to a checkpoint: it stops after the last answer (t0 + 8 of the store at 7).
    assert loaded.tick == mem.tick == 15
    answer = loaded.recall_by_address(1)[0]
    assert (answer.operation.t0, answer.content) == (15, (0, 2))
    assert loaded.tick == 22


CHILD = textwrap.dedent(
    """
    import os, signal, sys
    from neuromem import fileformat
    from neuromem.models.ca3 import CA3Memory
    stage, path = sys.argv[1], sys.argv[2]
    mem = CA3Memory(5, 10, dtype="float64")
    mem.store(2, [7, 8])
    fileformat._checkpoint = lambda where: os.kill(os.getpid(), signal.SIGKILL) if where == stage else None
    mem.save(path)
    """
)


@pytest.mark.skipif(sys.platform == "win32", reason="needs SIGKILL")
@pytest.mark.parametrize(("stage", "survivor"), [("synced", "old"), ("replaced", "new")])
def test_a_save_killed_before_or_after_the_commit_leaves_the_old_or_the_new_memory(tmp_path, stage, survivor):
    old, path = _saved(tmp_path)
    done = subprocess.run([sys.executable, "-c", CHILD, stage, str(path)], capture_output=True, timeout=300)
    assert done.returncode == -signal.SIGKILL, done.stderr.decode()[-2000:]
    loaded = CA3Memory.load(path)
    contents = {0: (0, 1, 8, 9), 3: (4, 5, 6), 4: (1, 5, 6)} if survivor == "old" else {2: (7, 8)}
    assert loaded.contents() == contents
    assert loaded.tick == (old.tick if survivor == "old" else 7)


def test_save_and_load_refuse_a_path_that_is_not_a_path(tmp_path):
    mem = CA3Memory(2, 2)
    with pytest.raises(ValidationError, match="save: path = 3 must be a str or a path"):
        mem.save(3)
    with pytest.raises(ValidationError, match="load: path = None"):
        CA3Memory.load(None)
