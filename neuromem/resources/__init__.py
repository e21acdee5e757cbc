"""Data that ships inside the package: the CA3 gold and a real-digit sample.

* ``ca3_spinnaker/``: spike recordings made on SpiNNaker by the CA3 model's
  authors (Casanueva-Morato et al.), converted to CSV/JSON; GPL-3.0, see the
  folder's README for provenance and attribution.
* ``mnist10k/``: 10,000 real MNIST digits (CC BY-SA 3.0), see its README.
* ``parameters/``: the models' named parameter sets as TOML (``ca3_<name>.toml``
  read by :func:`neuromem.models.ca3.load_params`, ``sparsey_<name>.toml`` by
  :mod:`neuromem.models.sparsey.presets`). They are data, not network files:
  ``neuromem run`` runs the files in the repository's ``models/``.

Every lookup of bundled data goes through :func:`resource_path`, so tests,
experiments and models find the same files in a clone, an installed wheel or
a folder named by ``NEUROMEM_DATA``.

>>> resource_path("ca3_spinnaker").is_dir()
True
"""

from __future__ import annotations

import os
from pathlib import Path

from neuromem.errors import FileFormatError

#: Bundled data sets and one file each must hold (a quick completeness check).
RESOURCES = {
    "ca3_spinnaker": "manifest.json",
    "mnist10k": "mnist10k.npz",
}


def resource_path(name: str) -> Path:
    """Folder of bundled data set ``name``.

    ``$NEUROMEM_DATA/<name>`` wins when that folder exists (to try other
    recordings without reinstalling); otherwise the copy inside the package.

    Raises
    ------
    FileFormatError
        ``name`` is unknown, or its folder is missing or incomplete.
    """
    if name not in RESOURCES:
        raise FileFormatError(f"unknown bundled data set {name!r}; known: {', '.join(sorted(RESOURCES))}")
    override = os.environ.get("NEUROMEM_DATA")
    candidates = [Path(override) / name] if override else []
    candidates.append(Path(__file__).resolve().parent / name)
    for folder in candidates:
        if (folder / RESOURCES[name]).is_file():
            return folder
    raise FileFormatError(
        f"bundled data set {name!r} is missing (looked in {', '.join(str(c) for c in candidates)});"
        " reinstall neuromem or set NEUROMEM_DATA to a folder holding it"
    )


__all__ = ["RESOURCES", "resource_path"]
