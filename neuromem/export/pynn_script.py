"""Write a network as a standalone PyNN script plus its data.

``write_pynn_script(network, "out", duration=100.0)`` creates::

    out/run.py       the runner (:mod:`neuromem.export.standalone`, verbatim)
    out/plan.json    labels, parameters and simulator conventions, as data
    out/arrays.npz   connection lists (pre, post, weight nA, delay ms) and source spikes

and ``python out/run.py --simulator nest|brian2|spiNNaker --output spikes.npz``
runs it with nothing of neuromem installed. No label or value of the network
is ever pasted into code: the script is the same file for every network.

The folder is assembled under a temporary name next to it and renamed into
place, so a failure leaves either the old export or none, never half of one.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from pathlib import Path

import numpy as np

from neuromem.errors import CapabilityError, ExportError
from neuromem.export import standalone
from neuromem.export.plan import build_plan, check_target
from neuromem.export.pynn import default_dt
from neuromem.export.translate import TARGETS
from neuromem.spec import Network

EXPORT_FILES = ("run.py", standalone.PLAN_FILE, standalone.ARRAYS_FILE)


def accepted_targets(network: Network, approximate: bool = False) -> tuple[str, ...]:
    """The PyNN targets that can express ``network`` (all of them with ``approximate``)."""
    names = []
    for name, entry in TARGETS.items():
        try:
            check_target(network, entry, approximate)
        except CapabilityError:
            continue
        names.append(name)
    return tuple(names)


def write_pynn_script(
    network: Network,
    folder: str | os.PathLike[str],
    duration: float,
    dt: float | None = None,
    targets: tuple[str, ...] | None = None,
    approximate: bool = False,
    trial_seed: int = 0,
) -> Path:
    """Write ``run.py``, ``plan.json`` and ``arrays.npz`` of ``network`` into ``folder``.

    Parameters
    ----------
    network : Network
    folder : path
        Output folder; created, or replaced if it holds an earlier export.
    duration : float
        Run length (ms).
    dt : float or None
        Time step (ms); default the network's ``required_dt`` or 0.1 ms.
    targets : tuple of str or None
        Simulators the script must run on (``nest``, ``brian2``, ``spiNNaker``);
        None: every one that can express the network.
    approximate : bool
        Accept approximations with a warning (see :func:`neuromem.export.pynn.to_pynn`).
    trial_seed : int
        Seed of the Poisson trains.

    Returns
    -------
    Path
        The path of ``run.py``.

    Raises
    ------
    ValidationError, CapabilityError
        An invalid network, or a feature a requested target cannot express.
    ExportError
        The folder cannot be written, or holds something other than an export.
    """
    folder = Path(folder)
    if targets is None:
        targets = accepted_targets(network, approximate)
        if not targets:
            # Let the first target explain what it refuses.
            check_target(network, next(iter(TARGETS.values())), approximate)
    plan, arrays = build_plan(network, default_dt(network, dt), duration, tuple(targets), approximate, trial_seed)
    if folder.exists() and not folder.is_dir():
        raise ExportError(f"cannot export to {folder}: it exists and is not a folder")
    if folder.is_dir() and any(folder.iterdir()) and not (folder / standalone.PLAN_FILE).is_file():
        raise ExportError(f"cannot export to {folder}: it is not empty and holds no earlier export; choose another")
    parent = folder.resolve().parent
    try:
        staging = Path(tempfile.mkdtemp(dir=parent, prefix=f".{folder.name}.", suffix=".tmp"))
    except OSError as error:
        raise ExportError(f"cannot write to folder {parent}: {error.strerror}") from error
    try:
        shutil.copyfile(standalone.__file__, staging / "run.py")
        (staging / standalone.PLAN_FILE).write_text(json.dumps(plan, indent=1, allow_nan=False))
        with open(staging / standalone.ARRAYS_FILE, "wb") as file:
            np.savez(file, **arrays)
        _replace_folder(staging, folder)
    except OSError as error:
        raise ExportError(f"cannot write the export to {folder}: {error.strerror or error}") from error
    finally:
        if staging.exists():
            shutil.rmtree(staging, ignore_errors=True)
    return folder / "run.py"


def _replace_folder(staging: Path, folder: Path) -> None:
    """Move ``staging`` to ``folder``; an earlier export is moved aside first, then deleted."""
    old = None
    if folder.exists():
        old = folder.with_name(f".{folder.name}.old.{os.getpid()}")
        os.replace(folder, old)
    try:
        os.replace(staging, folder)
    except OSError:
        if old is not None:
            os.replace(old, folder)
        raise
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)
