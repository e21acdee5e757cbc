"""Write a network as a standalone PyNN script plus its data.

``write_pynn_script(network, "out", duration=100.0)`` creates::

    out/run.py       the runner (:mod:`neuromem.export.standalone`, verbatim)
    out/plan.json    labels, parameters and simulator conventions, as data
    out/arrays.npz   connection lists (pre, post, weight nA, delay ms) and source spikes

and ``python out/run.py --simulator nest|brian2|spiNNaker`` (PyNN's Neo output,
``recording.pkl``; ``--output spikes.npz`` for neuromem's arrays)
runs it with nothing of neuromem installed. No label or value of the network
is ever pasted into code: the script is the same file for every network.

The files are assembled in a temporary folder next to the target and moved
into place only when complete (:class:`neuromem.outputs.OutputFolder`), so a
failure leaves the folder as it was. A folder that is not empty is refused
unless ``overwrite=True`` (``--overwrite``), and even then only the files an
earlier export wrote (listed, with their checksums, in the folder's
``.neuromem-manifest.json``) are replaced; everything else in the folder --
results of ``run.py``, notes, data -- is left alone.
"""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import numpy as np

from neuromem.errors import CapabilityError
from neuromem.export import standalone
from neuromem.export.plan import build_plan, check_target
from neuromem.export.pynn import default_dt
from neuromem.export.translate import TARGETS
from neuromem.outputs import OutputFolder
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
    overwrite: bool = False,
) -> Path:
    """Write ``run.py``, ``plan.json`` and ``arrays.npz`` of ``network`` into ``folder``.

    Parameters
    ----------
    network : Network
    folder : path
        Output folder: new or empty, or (with ``overwrite``) one holding an earlier export.
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
    overwrite : bool
        Write into a non-empty folder, replacing only the files of an earlier
        export (unchanged since); other files are kept.

    Returns
    -------
    Path
        The path of ``run.py``.

    Raises
    ------
    ValidationError, CapabilityError
        An invalid network, or a feature a requested target cannot express.
    ExportError
        The folder cannot be written, is not empty (without ``overwrite``), or
        holds a file of an export's name that the export did not write.
    """
    output = OutputFolder(folder, EXPORT_FILES, "export", overwrite=overwrite, flag="--overwrite (overwrite=True)")
    output.check()
    if targets is None:
        targets = accepted_targets(network, approximate)
        if not targets:
            # Let the first target explain what it refuses.
            check_target(network, next(iter(TARGETS.values())), approximate)
    plan, arrays = build_plan(network, default_dt(network, dt), duration, tuple(targets), approximate, trial_seed)
    with output.staging() as staging:
        shutil.copyfile(standalone.__file__, staging / "run.py")
        (staging / standalone.PLAN_FILE).write_text(json.dumps(plan, indent=1, allow_nan=False))
        with open(staging / standalone.ARRAYS_FILE, "wb") as file:
            np.savez(file, **arrays)
        output.commit()
    return Path(folder) / "run.py"
