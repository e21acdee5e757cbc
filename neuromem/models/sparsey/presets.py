"""Named CSA parameter sets stored as TOML data that ships in the package (:data:`PARAMETERS_DIR`).

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
from dataclasses import dataclass
from pathlib import Path

from neuromem.errors import FileFormatError, ValidationError
from neuromem.models.sparsey.hierarchy import Hierarchy
from neuromem.models.sparsey.params import CSAParams, LevelParams

#: Where the shipped presets live: ``neuromem/resources/parameters/`` (in a clone and in a wheel).
PARAMETERS_DIR = Path(__file__).resolve().parents[2] / "resources" / "parameters"
PRESETS = ("default", "capacity", "sisc", "net_digits", "net_mnist")


def _preset_path(stem: str, folder: str | Path | None) -> Path:
    if not isinstance(stem, str) or not stem.replace("_", "").isalnum():
        raise ValidationError(f"Sparsey preset name {stem!r} may hold only letters, digits and '_'")
    return (Path(folder) if folder is not None else PARAMETERS_DIR) / f"sparsey_{stem}.toml"


def _read_toml(path: Path) -> dict:
    try:
        return tomllib.loads(path.read_text())
    except FileNotFoundError:
        raise FileFormatError(f"Sparsey preset {str(path)!r} is missing; shipped: {', '.join(PRESETS)}") from None
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise FileFormatError(f"Sparsey preset {str(path)!r} is not valid TOML: {exc}") from None


def load_preset(name: str, folder: str | Path | None = None) -> CSAParams:
    """CSAParams from ``<folder>/sparsey_<name>.toml`` (table ``[csa]``)."""
    path = _preset_path(name, folder)
    data = _read_toml(path)
    if "csa" not in data:
        raise FileFormatError(f"Sparsey preset {str(path)!r} has no [csa] table")
    try:
        return CSAParams.from_dict(data["csa"])
    except ValidationError as exc:
        raise FileFormatError(f"Sparsey preset {str(path)!r}: {exc}") from None


@dataclass(frozen=True)
class NetworkPreset:
    """A named hierarchy: input coding, levels and per-level CSA parameters (``sparsey_net_<name>.toml``).

    Attributes
    ----------
    name : str
        Preset name.
    input_shape : tuple of int
        (rows, cols) of the images.
    thresholds : tuple of float
        Grey-level thresholds of the binary input channels (one: plain
        binarisation; several: a thermometer code, one channel each).
    levels : tuple of LevelParams
        Geometry, band and persistence per level, bottom first.
    params : tuple of CSAParams
        CSA parameters per level (freezing per level included).
    """

    name: str
    input_shape: tuple[int, int]
    thresholds: tuple[float, ...]
    levels: tuple[LevelParams, ...]
    params: tuple[CSAParams, ...]

    def build(self, replicas: int = 1, device: str = "cpu", seed: int = 0) -> Hierarchy:
        """A fresh, untrained hierarchy of this preset."""
        channels = len(self.thresholds)
        shape = self.input_shape if channels == 1 else (*self.input_shape, channels)
        return Hierarchy(shape, list(self.levels), list(self.params), replicas=replicas, device=device, seed=seed)


def load_network(name: str, folder: str | Path | None = None) -> NetworkPreset:
    """NetworkPreset from ``<folder>/sparsey_net_<name>.toml``.

    The file has an ``[input]`` table (``shape``, ``thresholds``) and one
    ``[[level]]`` table per level (LevelParams fields) with a ``[level.csa]``
    table: ``preset`` names a CSA preset, the other keys override its fields.
    """
    path = _preset_path(f"net_{name}", folder)
    data = _read_toml(path)
    try:
        entry = data["input"]
        shape = tuple(int(n) for n in entry["shape"])
        thresholds = tuple(float(t) for t in entry["thresholds"])
        levels, params = [], []
        for table in data["level"]:
            table = dict(table)
            csa = dict(table.pop("csa", {}))
            base = load_preset(str(csa.pop("preset", "default")), folder)
            levels.append(LevelParams.from_dict(table))
            params.append(CSAParams.from_dict({**base.to_dict(), **csa}))
    except (KeyError, TypeError, ValueError, ValidationError) as exc:
        raise FileFormatError(f"Sparsey network preset {str(path)!r}: missing or invalid entry ({exc!r})") from None
    if len(shape) != 2 or not thresholds or not levels:
        raise FileFormatError(
            f"Sparsey network preset {str(path)!r}: needs input.shape [rows, cols], thresholds, levels"
        )
    return NetworkPreset(name, shape, thresholds, tuple(levels), tuple(params))  # type: ignore[arg-type]
