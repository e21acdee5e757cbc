"""Named CSA parameter sets stored as TOML data in the repository's ``models/`` folder.

One set per purpose; each file states its promises and its price, and
``tests/test_sparsey_presets.py`` checks every promise on generated data
(``experiments/sparsey_tradeoff.py`` shows where each sits on the lam_U x
sigmoid trade-off):

- ``default`` (= ``CSAParams()``, the spec's balanced set: V exponent 10,
  sigmoid steepness 20, inflection 0.5): graded familiarity, identification
  under heavy corruption, no chain capture, capacity near the analytic model;
  a narrow similarity kernel.
- ``capacity``: the same numbers, named for the promise that a mac fills to
  the analytic (Willshaw-per-CM) capacity, freezing off.
- ``sisc``: a broad, graded similarity kernel (V exponent 1.4, shallow
  sigmoid, moderate expansivity) that still leaves input-disjoint items at
  chance; lower capacity, novel inputs look partly familiar.

Example
-------
>>> load_preset("sisc").lam_u
1.4
"""

from __future__ import annotations

import tomllib
from pathlib import Path

from neuromem.errors import FileFormatError, ValidationError
from neuromem.models.sparsey.params import CSAParams

MODELS_DIR = Path(__file__).resolve().parents[3] / "models"
PRESETS = ("default", "capacity", "sisc")


def load_preset(name: str, folder: str | Path | None = None) -> CSAParams:
    """CSAParams from ``<folder>/sparsey_<name>.toml`` (table ``[csa]``)."""
    if not isinstance(name, str) or not name.replace("_", "").isalnum():
        raise ValidationError(f"load_preset: name = {name!r} may hold only letters, digits and '_'")
    path = Path(folder) if folder is not None else MODELS_DIR
    path = path / f"sparsey_{name}.toml"
    try:
        data = tomllib.loads(path.read_text())
    except FileNotFoundError:
        raise FileFormatError(
            f"Sparsey preset {str(path)!r} is missing; shipped presets: {', '.join(PRESETS)}"
        ) from None
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise FileFormatError(f"Sparsey preset {str(path)!r} is not valid TOML: {exc}") from None
    if "csa" not in data:
        raise FileFormatError(f"Sparsey preset {str(path)!r} has no [csa] table")
    try:
        return CSAParams.from_dict(data["csa"])
    except ValidationError as exc:
        raise FileFormatError(f"Sparsey preset {str(path)!r}: {exc}") from None
