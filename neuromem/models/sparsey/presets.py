"""Named CSA parameter sets stored as TOML data in the repository's ``models/`` folder.

``models/sparsey_capacity.toml`` (the code defaults: V exponent 10, sigmoid
steepness 20, inflection 0.5) keeps the familiarity of novel inputs low, so a
mac fills to its analytic capacity. ``models/sparsey_sisc.toml`` (exponent 1,
steepness 50, inflection 0.7) gives a broad similarity kernel, graded code
overlap from about 40% input overlap, at the cost of early collapse once many
items are stored (spec ``sparsey.md`` section 1.8 item 3).

Example
-------
>>> load_preset("sisc").lam_u
1.0
"""

from __future__ import annotations

import tomllib
from pathlib import Path

from neuromem.errors import FileFormatError, ValidationError
from neuromem.models.sparsey.params import CSAParams

MODELS_DIR = Path(__file__).resolve().parents[3] / "models"


def load_preset(name: str, folder: str | Path | None = None) -> CSAParams:
    """CSAParams from ``<folder>/sparsey_<name>.toml`` (table ``[csa]``)."""
    if not name.replace("_", "").isalnum():
        raise ValidationError(f"load_preset: name = {name!r} may hold only letters, digits and '_'")
    path = Path(folder) if folder is not None else MODELS_DIR
    path = path / f"sparsey_{name}.toml"
    try:
        data = tomllib.loads(path.read_text())
    except FileNotFoundError:
        raise FileFormatError(f"Sparsey preset {str(path)!r} is missing") from None
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise FileFormatError(f"Sparsey preset {str(path)!r} is not valid TOML: {exc}") from None
    if "csa" not in data:
        raise FileFormatError(f"Sparsey preset {str(path)!r} has no [csa] table")
    return CSAParams.from_dict(data["csa"])
