"""Model files: a network described in TOML, read without executing anything.

Layout of a model file (all keys checked; units are PyNN's)::

    [network]
    name = "demo"
    scheme = "exact"            # or "spinnaker"
    required_dt = 1.0           # optional (ms)

    [run]                       # optional defaults for `neuromem run`
    dt = 0.1                    # ms, > 0
    duration = 1000.0           # ms, > 0
    batch_size = 1              # trials, an integer >= 1
    seed = 0                    # an integer >= 0

    [[population]]
    name = "exc"
    size = 800
    cell = { type = "LIFCurrExp", tau_m = 20.0, v_thresh = -50.0 }

    [[projection]]
    name = "ee"
    pre = "exc"
    post = "exc"
    connector = { type = "FixedProbability", p = 0.1, seed = 3 }
    weight = 0.3                # nA, or a list with one value per synapse
    delay = 1.0                 # ms
    receptor = "excitatory"
    plasticity = { type = "STDP", timing = { type = "SpikePairRule" },
                   weight = { type = "AdditiveWeightDependence", w_max = 0.6 } }

    [[probe]]
    target = "exc"
    variable = "spikes"

    [[current_source]]          # optional: DCSource or StepCurrentSource (nA, ms)
    type = "DCSource"
    name = "bias"
    target = "exc"
    amplitude = 0.5
    start = 100.0
    stop = 300.0

A file may instead name a built-in model builder (``[model] builder = "ca3"``
with its keyword arguments), looked up in :data:`BUILDERS`.
"""

from __future__ import annotations

import dataclasses
import importlib
import tomllib
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from neuromem.cells import registry
from neuromem.cells.base import CellType
from neuromem.cells.sources import SOURCE_TYPES
from neuromem.errors import FileFormatError, ValidationError
from neuromem.spec import checks
from neuromem.spec.base import SpecObject, spec_type
from neuromem.spec.network import Network, Population, Probe, Projection

#: Built-in model builders a file may name: ``module:function`` returning a Network.
BUILDERS = {
    "ca3": "neuromem.models.ca3.program:program_network",
    "microcircuit": "neuromem.models.microcircuit:build_network",
}

NETWORK_KEYS = {"name", "scheme", "required_dt"}
RUN_KEYS = {"dt", "duration", "batch_size", "seed"}


@dataclass(frozen=True)
class ModelFile:
    """A network plus the run defaults of its file."""

    network: Network
    dt: float | None = None
    duration: float | None = None
    batch_size: int = 1
    seed: int = 0


def build_object(data: object, where: str) -> object:
    """Build spec objects from TOML tables that carry a ``type`` key."""
    if isinstance(data, list):
        if data and all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in data):
            return np.asarray(data, dtype=np.float64)
        return tuple(build_object(v, f"{where}[{i}]") for i, v in enumerate(data))
    if not isinstance(data, dict):
        return data
    if "type" not in data:
        raise ValidationError(f"{where}: table needs a 'type' key naming a spec class")
    try:
        cls = spec_type(str(data["type"]))
    except FileFormatError as error:
        raise ValidationError(f"{where}: {error}") from None
    names = {f.name for f in dataclasses.fields(cls) if not f.name.startswith("_")}  # type: ignore[arg-type]
    unknown = set(data) - names - {"type"}
    if unknown:
        raise ValidationError(f"{where}: {data['type']} has no fields {sorted(unknown)}; allowed: {sorted(names)}")
    kwargs = {k: build_object(v, f"{where}.{k}") for k, v in data.items() if k != "type"}
    try:
        return cls(**kwargs)
    except ValidationError as error:
        raise ValidationError(f"{where}: {error}") from None
    except (TypeError, ValueError) as error:
        raise ValidationError(f"{where}: {data['type']} cannot be built from {sorted(kwargs)}: {error}") from None


def _table(owner: str, data: dict, allowed: set[str], required: set[str]) -> dict:
    unknown = set(data) - allowed
    if unknown:
        raise ValidationError(f"{owner}: unknown keys {sorted(unknown)}; allowed: {sorted(allowed)}")
    missing = required - set(data)
    if missing:
        raise ValidationError(f"{owner}: missing keys {sorted(missing)}")
    return data


def read_model(path: str | Path) -> ModelFile:
    """Read a TOML model file.

    Raises
    ------
    FileFormatError
        The file is missing or not TOML.
    ValidationError
        A key or value is invalid (the message names it).
    """
    path = Path(path)
    try:
        document = tomllib.loads(path.read_text())
    except FileNotFoundError:
        raise FileFormatError(f"no such model file: {path}") from None
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as error:
        raise FileFormatError(f"{path} is not a valid TOML file: {error}") from error
    top = _table(
        str(path), document, {"network", "run", "population", "projection", "probe", "current_source", "model"}, set()
    )
    for key in ("network", "run", "model"):
        if key in top and not isinstance(top[key], dict):
            raise ValidationError(f"{path}: {key} must be a [{key}] table, got {top[key]!r}")
    for key in ("population", "projection", "probe", "current_source"):
        if key in top and not (isinstance(top[key], list) and all(isinstance(t, dict) for t in top[key])):
            raise ValidationError(f"{path}: {key} must be written as [[{key}]] tables, got {top[key]!r}")
    run = _run_defaults(path, _table(f"{path} [run]", top.get("run", {}), RUN_KEYS, set()))
    if "model" in top:
        network = _from_builder(path, top)
    else:
        network = _from_tables(path, top)
    return ModelFile(network=network, **run)  # type: ignore[arg-type]


def _run_defaults(path: Path, run: dict) -> dict[str, object]:
    """The [run] table checked: positive dt and duration (ms), batch_size >= 1, seed >= 0; never a silent default."""
    where = f"{path} [run]"
    values: dict[str, object] = {}
    for key in ("dt", "duration"):
        if key in run:
            values[key] = checks.positive(where, key, run[key], "ms")
    if "batch_size" in run:
        values["batch_size"] = checks.count(where, "batch_size", run["batch_size"], minimum=1)
    if "seed" in run:
        values["seed"] = checks.count(where, "seed", run["seed"], minimum=0)
    return values


def _from_tables(path: Path, top: dict) -> Network:
    header = _table(f"{path} [network]", top.get("network", {}), NETWORK_KEYS, set())
    populations = []
    for i, table in enumerate(top.get("population", [])):
        name = table.get("name")
        where = f"{path} population {name!r}" if isinstance(name, str) else f"{path} population[{i}]"
        table = _table(where, table, {"name", "size", "cell"}, {"name", "cell"})
        _check_cell_type(table["cell"], f"{where} cell")
        cell = build_object(table["cell"], f"{where} cell")
        try:
            populations.append(Population(table["name"], cell, table.get("size")))  # type: ignore[arg-type]
        except ValidationError as error:
            raise ValidationError(f"{where}: {error}") from None
    projections = []
    for i, table in enumerate(top.get("projection", [])):
        name = table.get("name")
        where = f"{path} projection {name!r}" if isinstance(name, str) else f"{path} projection[{i}]"
        fields = {f.name for f in dataclasses.fields(Projection) if not f.name.startswith("_")}
        table = _table(where, table, fields, {"name", "pre", "post", "connector"})
        kwargs = {k: build_object(v, f"{where} {k}") for k, v in table.items()}
        try:
            projections.append(Projection(**kwargs))  # type: ignore[arg-type]
        except ValidationError as error:
            raise ValidationError(f"{where}: {error}") from None
    probes = []
    for i, table in enumerate(top.get("probe", [])):
        where = f"{path} probe[{i}]"
        try:
            probes.append(Probe(**_table(where, table, {"target", "variable", "every_ms"}, {"target"})))
        except ValidationError as error:
            raise ValidationError(f"{where}: {error}") from None
    sources = tuple(
        build_object(table, f"{path} current_source[{i}]") for i, table in enumerate(top.get("current_source", []))
    )
    if not populations:
        raise ValidationError(f"{path}: a model file needs at least one [[population]] (or a [model] builder)")
    try:
        return Network(
            populations=tuple(populations),
            projections=tuple(projections),
            probes=tuple(probes),
            current_sources=sources,  # type: ignore[arg-type]
            **header,
        )
    except ValidationError as error:
        raise ValidationError(f"{path}: {error}") from None
    except TypeError as error:
        raise ValidationError(f"{path} [network]: {error}") from None


def _check_cell_type(data: object, where: str) -> None:
    """Refuse a cell table whose type is a spec class but not a cell (``type = "Network"``) before building it."""
    if not (isinstance(data, dict) and isinstance(data.get("type"), str)):
        return
    try:
        cls = spec_type(data["type"])
    except FileFormatError:
        return  # an unknown name: build_object reports it with the names it knows
    if not issubclass(cls, (CellType, *SOURCE_TYPES)):
        allowed = ", ".join((*registry.names(), *(t.__name__ for t in SOURCE_TYPES)))
        raise ValidationError(f"{where}: type = {data['type']!r} is not a cell type; allowed: {allowed}")


def _from_builder(path: Path, top: dict) -> Network:
    table = dict(top["model"])
    builder = table.pop("builder", None)
    if builder not in BUILDERS:
        raise ValidationError(f"{path} [model]: builder = {builder!r} is not one of {sorted(BUILDERS)}")
    module_name, function_name = BUILDERS[builder].split(":")
    function = getattr(importlib.import_module(module_name), function_name)
    try:
        network = function(**table)
    except TypeError as error:
        raise ValidationError(f"{path} [model]: bad arguments for builder {builder!r}: {error}") from None
    except ValidationError as error:
        raise ValidationError(f"{path} [model]: {error}") from None
    if not isinstance(network, Network):
        raise ValidationError(f"{path} [model]: builder {builder!r} did not return a Network")
    return network


def is_spec(value: object) -> bool:
    return isinstance(value, SpecObject)
