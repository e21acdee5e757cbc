"""A save killed at any instant leaves exactly the old object or exactly the new one.

A child process saves a network over an older one and is killed with
SIGKILL (no cleanup can run) at every step of the commit (temporary file
created, written, flushed, fsync'd, renamed, folder fsync'd) and after
every k-th write into the temporary file. After each kill the parent loads
the file: it must equal the old network or the new one, field by field and
array by array, and the next save removes the dead child's temporary file.
"""

from __future__ import annotations

import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest

from neuromem.spec import LIFCurrExp, Network, OneToOne, Population, Projection, load, save

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="needs SIGKILL")

SIZE = 2000


def _network(tau: float, weight: float) -> Network:
    """Old and new differ in a JSON field (tau_m) and in an array (weights), as in the D2 reproducer."""
    return Network(
        populations=(
            Population("a", LIFCurrExp(), size=SIZE),
            Population("b", LIFCurrExp(tau_m=tau), size=SIZE),
        ),
        projections=(Projection("p", "a", "b", OneToOne(), weight=np.full(SIZE, weight)),),
    )


OLD, NEW = _network(20.0, 1.0), _network(10.0, 2.0)

CHILD = textwrap.dedent(
    """
    import os, signal, sys
    import numpy as np
    from neuromem import fileformat
    from neuromem.spec import LIFCurrExp, Network, OneToOne, Population, Projection, save

    mode, where, path, size = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
    writes = 0

    def die():
        os.kill(os.getpid(), signal.SIGKILL)

    if mode == "stage":
        fileformat._checkpoint = lambda stage: die() if stage == where else None
    else:
        real_fdopen = os.fdopen

        class Killing:
            def __init__(self, file):
                self._file = file
            def write(self, data):
                global writes
                writes += 1
                if mode == "write" and writes == int(where):
                    self._file.write(data[: len(data) // 2])
                    self._file.flush()
                    die()
                return self._file.write(data)
            def __getattr__(self, name):
                return getattr(self._file, name)
            def __enter__(self):
                return self
            def __exit__(self, *exc):
                return self._file.__exit__(*exc)

        fileformat.os.fdopen = lambda *a, **k: Killing(real_fdopen(*a, **k))
    net = Network(
        populations=(Population("a", LIFCurrExp(), size=size), Population("b", LIFCurrExp(tau_m=10.0), size=size)),
        projections=(Projection("p", "a", "b", OneToOne(), weight=np.full(size, 2.0)),),
    )
    save(net, path)
    print(writes)
    """
)


def _child(mode: str, where: str, path: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", CHILD, mode, where, str(path), str(SIZE)],
        capture_output=True,
        text=True,
        cwd=Path(__file__).resolve().parents[1],
        timeout=120,
    )


def _temporaries(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if p.name.endswith(".tmp"))


def test_a_save_killed_at_any_instant_leaves_the_old_or_the_new_network(tmp_path: Path) -> None:
    path = tmp_path / "net.npz"
    counted = _child("count", "0", path)
    assert counted.returncode == 0, counted.stderr
    total_writes = int(counted.stdout)
    assert total_writes >= 4
    assert load(path) == NEW

    instants = [("stage", s) for s in ("created", "written", "flushed", "synced", "replaced", "folder-synced")]
    instants += [("write", str(k)) for k in sorted({1, 2, total_writes // 2, total_writes - 1, total_writes})]
    survivors = {"old": 0, "new": 0}
    for mode, where in instants:
        save(OLD, path)
        assert _temporaries(tmp_path) == [], "the previous save left a temporary file"
        result = _child(mode, where, path)
        assert result.returncode == -signal.SIGKILL, (mode, where, result.stderr)
        if mode == "stage" and where in ("written", "flushed", "synced"):
            assert len(_temporaries(tmp_path)) == 1, "a killed writer leaves its temporary file"
        survivor = load(path)
        assert survivor in (OLD, NEW), (mode, where)
        if survivor == OLD:
            survivors["old"] += 1
            np.testing.assert_array_equal(survivor.projection("p").weight, np.full(SIZE, 1.0))
            assert survivor.population("b").cell.tau_m == 20.0
        else:
            survivors["new"] += 1
            np.testing.assert_array_equal(survivor.projection("p").weight, np.full(SIZE, 2.0))
            assert survivor.population("b").cell.tau_m == 10.0
        expected = "new" if (mode, where) in (("stage", "replaced"), ("stage", "folder-synced")) else "old"
        assert (survivor == NEW) == (expected == "new"), (mode, where)
    assert survivors == {"old": len(instants) - 2, "new": 2}
    # Only what the killed children left: at most one temporary each, removed by the next save.
    assert len(_temporaries(tmp_path)) <= 1
    save(OLD, path)
    assert _temporaries(tmp_path) == []
    assert sorted(p.name for p in tmp_path.iterdir()) == ["net.npz"]


def test_a_save_killed_before_anything_existed_leaves_nothing_loadable(tmp_path: Path) -> None:
    path = tmp_path / "fresh.npz"
    result = _child("stage", "synced", path)
    assert result.returncode == -signal.SIGKILL
    from neuromem.errors import FileFormatError

    with pytest.raises(FileFormatError, match="no such file"):
        load(path)
