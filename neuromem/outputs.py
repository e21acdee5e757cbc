"""Output folders: written whole or not at all, and nothing deleted that neuromem did not write.

:class:`OutputFolder` is used by ``neuromem run`` and the exporters:

1. :meth:`OutputFolder.check` runs *before* any work (a simulation, an
   export): a file where a folder is expected, an unwritable place, or a
   folder that holds files the command would replace but did not write, is
   an error at once.
2. :meth:`OutputFolder.staging` gives a temporary folder next to the target
   (``.<name>.<pid>.<random>.tmp``) to write the outputs into.
3. :meth:`OutputFolder.commit` moves them into place: a new folder is renamed
   into place in one step; into an existing folder each file is moved with
   :func:`os.replace` (with Ctrl-C held back for those few renames) and the
   manifest is written last. Any failure or interrupt before that removes the
   staging folder and leaves the target exactly as it was.

The manifest ``.neuromem-manifest.json`` in the target lists the files
neuromem wrote there with their SHA-256. A later command replaces a file of
the same name only if the manifest lists it and it is unchanged since; a
file the user wrote, or edited, is never replaced or removed. Folders left
by a killed process are removed by the next command on the same target.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import shutil
import signal
import tempfile
import threading
import time
from collections.abc import Iterator, Sequence
from pathlib import Path

from neuromem.errors import ExportError
from neuromem.fileformat import atomic_write, default_folder_mode, remove_stale_temporaries, sync_folder

MANIFEST = ".neuromem-manifest.json"
MANIFEST_SCHEMA = "neuromem.manifest"


def file_digest(path: Path) -> str:
    """SHA-256 of a file, hex."""
    digest = hashlib.sha256()
    with open(path, "rb") as file:
        for block in iter(lambda: file.read(2**20), b""):
            digest.update(block)
    return digest.hexdigest()


def read_manifest(folder: Path) -> dict[str, str]:
    """File name -> SHA-256 of what neuromem wrote into ``folder`` (empty if no valid manifest)."""
    try:
        document = json.loads((folder / MANIFEST).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    files = document.get("files") if isinstance(document, dict) else None
    if document.get("schema") != MANIFEST_SCHEMA or not isinstance(files, dict):
        return {}
    return {k: v for k, v in files.items() if isinstance(k, str) and isinstance(v, str) and _plain_name(k)}


def _plain_name(name: str) -> bool:
    return bool(name) and name not in (".", "..") and "/" not in name and "\\" not in name


class OutputFolder:
    """A folder a command writes ``names`` into (see the module docstring).

    Parameters
    ----------
    folder : path
        The target folder.
    names : sequence of str
        The files the command writes (plain names, no subfolders).
    what : str
        The command, for messages (``"export"``, ``"run"``).
    replace_own : bool
        Replace files of an earlier command (listed in the manifest, unchanged)
        without asking; otherwise a non-empty folder is refused.
    overwrite : bool
        Accept a non-empty folder when ``replace_own`` is False; still only
        files neuromem wrote are replaced.
    flag : str
        How the user says ``overwrite`` (named in messages).
    """

    def __init__(
        self,
        folder: str | os.PathLike[str],
        names: Sequence[str],
        what: str,
        replace_own: bool = False,
        overwrite: bool = False,
        flag: str = "overwrite=True",
        error: type[Exception] = ExportError,
    ) -> None:
        self.folder = Path(os.path.abspath(folder))
        self.shown = Path(folder)
        self.names = tuple(names)
        if not all(_plain_name(n) and n != MANIFEST for n in self.names):
            raise ValueError(f"output names must be plain file names, got {self.names}")
        self.what, self.replace_own, self.overwrite, self.flag, self.error = what, replace_own, overwrite, flag, error
        self._staging: Path | None = None
        self._created: list[Path] = []

    # -- before any work ---------------------------------------------------------------------------

    def check(self) -> None:
        """Raise now if the outputs could not be written or would replace what neuromem did not write."""
        folder, shown = self.folder, self.shown
        if folder.exists() and not folder.is_dir():
            raise self.error(f"cannot {self.what} to {shown}: it exists and is not a folder")
        ancestor = _nearest_existing(folder.parent)
        if not ancestor.is_dir():
            raise self.error(f"cannot {self.what} to {shown}: {ancestor} is not a folder")
        # The outputs are assembled next to the target, then moved into it: both places must take a file.
        self._probe(ancestor)
        if folder.is_dir():
            self._probe(folder)
            remove_stale_temporaries(folder)
            self._check_contents()
        elif folder.parent.is_dir():
            remove_stale_temporaries(folder)

    def _probe(self, place: Path) -> None:
        """Create and remove an empty file in ``place``: the only sure test that it is writable."""
        try:
            handle, name = tempfile.mkstemp(dir=place, prefix=f".{self.folder.name}.{os.getpid()}.", suffix=".tmp")
        except OSError as error:
            raise self.error(
                f"cannot {self.what} to {self.shown}: folder {place} is not writable ({error.strerror or error})"
            ) from None
        os.close(handle)
        os.unlink(name)

    def _check_contents(self) -> None:
        manifest = read_manifest(self.folder)
        present = sorted(p.name for p in self.folder.iterdir() if p.name != MANIFEST)
        if present and not self.replace_own and not self.overwrite:
            raise self.error(
                f"cannot {self.what} to {self.shown}: the folder is not empty ({_listing(present)}); choose an empty or"
                f" new folder, or pass {self.flag} to replace the files of an earlier {self.what} (files neuromem did"
                " not write are kept)"
            )
        for name in self.names:
            path = self.folder / name
            if not path.exists() and not path.is_symlink():
                continue
            if path.is_symlink() or not path.is_file():
                raise self.error(f"cannot {self.what} to {self.shown}: {name} exists there and is not a plain file")
            if name not in manifest:
                raise self.error(
                    f"cannot {self.what} to {self.shown}: it holds a {name} that neuromem did not write; move it away"
                    " or choose another folder"
                )
            if file_digest(path) != manifest[name]:
                raise self.error(
                    f"cannot {self.what} to {self.shown}: {name} was changed since neuromem wrote it; move it away"
                    " or choose another folder"
                )

    # -- writing -----------------------------------------------------------------------------------

    @contextlib.contextmanager
    def staging(self) -> Iterator[Path]:
        """A temporary folder next to the target; removed on any failure, committed by :meth:`commit`."""
        self.check()
        parent = self.folder.parent
        missing = []
        probe = parent
        while not probe.exists():
            missing.append(probe)
            probe = probe.parent
        try:
            for path in reversed(missing):
                path.mkdir()
                self._created.append(path)
            self._staging = Path(
                tempfile.mkdtemp(dir=parent, prefix=f".{self.folder.name}.{os.getpid()}.", suffix=".tmp")
            )
            # mkdtemp makes a private folder; the committed folder gets the umask's usual mode.
            os.chmod(self._staging, default_folder_mode())
        except OSError as error:
            self._remove_created()
            raise self.error(f"cannot {self.what} to {self.shown}: {error.strerror or error}") from error
        try:
            yield self._staging
        except BaseException:
            self.abort()
            raise

    def commit(self) -> Path:
        """Move the staged outputs into the target (all of them, manifest last); returns the target."""
        staging = self._staging
        if staging is None:
            raise RuntimeError("commit() outside staging()")
        missing = [n for n in self.names if not (staging / n).is_file()]
        if missing:
            raise RuntimeError(f"the {self.what} did not write {missing}")
        try:
            with _hold_interrupts():
                if self.folder.is_dir():
                    self._check_contents()
                digests = {name: file_digest(staging / name) for name in self.names}
                if not self.folder.exists():
                    _write_manifest(staging, digests)
                    os.rename(staging, self.folder)
                else:
                    manifest = read_manifest(self.folder)
                    for name in self.names:
                        os.replace(staging / name, self.folder / name)
                    manifest.update(digests)
                    _write_manifest(self.folder, manifest)
                    shutil.rmtree(staging, ignore_errors=True)
                sync_folder(self.folder)
                sync_folder(self.folder.parent)
                # Committed: a Ctrl-C delivered when the block ends must not undo anything.
                self._staging = None
                self._created = []
        except OSError as error:
            self.abort()
            raise self.error(f"cannot {self.what} to {self.shown}: {error.strerror or error}") from error
        return self.folder

    def abort(self) -> None:
        """Remove the staging folder and any parent folders created for it."""
        if self._staging is not None:
            shutil.rmtree(self._staging, ignore_errors=True)
            self._staging = None
        self._remove_created()

    def _remove_created(self) -> None:
        for path in reversed(self._created):
            with contextlib.suppress(OSError):
                path.rmdir()
        self._created = []


def fresh_folder(kind: str, root: str | os.PathLike[str] = "results", now: float | None = None) -> Path:
    """A new output folder ``root/<kind>-YYYYmmdd-HHMMSS`` that does not exist yet.

    The default ``--out`` of the commands: a second command never writes into
    the first one's folder. Two commands in the same second get ``-2``, ``-3``...
    appended.
    """
    stamp = time.strftime("%Y%m%d-%H%M%S", time.localtime(now))
    base = Path(root) / f"{kind}-{stamp}"
    candidate, number = base, 1
    while candidate.exists() or candidate.is_symlink():
        number += 1
        candidate = base.with_name(f"{base.name}-{number}")
    return candidate


def _write_manifest(folder: Path, files: dict[str, str]) -> None:
    document = {"schema": MANIFEST_SCHEMA, "version": 1, "files": dict(sorted(files.items()))}
    atomic_write(folder / MANIFEST, lambda handle: handle.write(json.dumps(document, indent=1).encode()))


def _nearest_existing(path: Path) -> Path:
    while not path.exists() and path != path.parent:
        path = path.parent
    return path


def _listing(names: list[str]) -> str:
    shown = ", ".join(names[:5])
    return shown + (f" and {len(names) - 5} more" if len(names) > 5 else "")


@contextlib.contextmanager
def _hold_interrupts() -> Iterator[None]:
    """Defer Ctrl-C (SIGINT) for the few renames of a commit; it takes effect right after.

    The handler is swapped rather than the signal blocked: a blocked signal can
    still be taken by another thread of the process (torch's, say).
    """
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    received: list[int] = []
    previous = signal.signal(signal.SIGINT, lambda number, frame: received.append(number))
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)
        if received and previous is not signal.SIG_IGN:
            if callable(previous):
                previous(signal.SIGINT, None)
            else:
                raise KeyboardInterrupt


__all__ = ["MANIFEST", "OutputFolder", "file_digest", "fresh_folder", "read_manifest"]
