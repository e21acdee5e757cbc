"""Parameter sets of the CA3 memory, stored as TOML data that ships in the package (:data:`PARAMETERS_DIR`).

* ``neuromem/resources/parameters/ca3_spinnaker.toml``: the published network (neuron sets A, B and
  O, the weights and delays of the 18 projections, spec ``ca3.md`` sections
  1.2 and 1.4) under the ``"spinnaker"`` scheme at dt = 1 ms, the calibrated
  plasticity rule R* (tau 1.5 ms, 12 nA, section 1.5.4) with the published
  STDP configuration kept for export, and the operation timing (3-tick store
  hold, 7/6 ms spacing, section 2.4).
* ``neuromem/resources/parameters/ca3_amplitude36.toml``: R* at the paper's amplitude (tau 1 ms, 36 nA).
* ``neuromem/resources/parameters/ca3_fullrate.toml``: the variant exact at full operation rate.
* ``neuromem/resources/parameters/ca3_portable.toml``: the same network re-derived for the
  ``"exact"`` scheme with PyNN's STDP, for NEST and Brian2 through PyNN.

A set may map populations to its own neuron sets (``[populations]``), choose
the scheme (``scheme``), the rule (``[plasticity] rule = "ca3_pair"`` or
``"stdp"``) and the operation timing (``[protocol]``, see
:class:`~neuromem.models.ca3.timing.Timing`). Everything is checked when read:
a bad entry raises ValidationError naming the file, table, key and what is allowed.

Example
-------
>>> params = load_params("spinnaker")
>>> params.rule.tau_plus, params.rule.published.timing.A_plus
(1.5, 6.0)
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field
from dataclasses import replace as dataclass_replace
from pathlib import Path

from neuromem.errors import FileFormatError, ValidationError
from neuromem.models.ca3.tables import number, read_rule, read_sibling, rule_table
from neuromem.models.ca3.timing import Timing
from neuromem.spec import STDP, CA3PairRule, LIFCurrExp
from neuromem.spec.schemes import SCHEMES

#: Where the shipped parameter sets live: ``neuromem/resources/parameters/`` (in a clone and in a wheel).
PARAMETERS_DIR = Path(__file__).resolve().parents[2] / "resources" / "parameters"

#: The projections every parameter set must give a weight and a delay for.
PROJECTION_NAMES = (
    "IN-CueCue",
    "IN-ContCue",
    "CueCue-CueCont",
    "CueCue-CueCont-inh",
    "CueCue-ContCond-inh",
    "ContCue-ContCond",
    "ContCond-ContCont",
    "ContCue-ContCondInt",
    "ContCondInt-ContCond",
    "CueCue-ContCue",
    "ContCont-CueCont",
    "CueCont-CueCont-inh",
    "CueCue-MergeCue",
    "CueCont-MergeCue",
    "ContCue-MergeCont",
    "ContCont-MergeCont",
    "MergeCue-OUT",
    "MergeCont-OUT",
)
#: The paper's neuron set of every population (spec section 1.2); a set may assign others.
PAPER_CELLS = {
    "CueCue": "A",
    "ContCue": "A",
    "ContCont": "A",
    "MergeCue": "A",
    "MergeCont": "A",
    "CueCont": "B",
    "ContCond": "B",
    "ContCondInt": "B",
    "OUT": "O",
}
TOP_LEVEL_KEYS = ("name", "dt_ms", "scheme", "extends", "protocol", "cells", "populations", "projections")
TOP_LEVEL_KEYS += ("plasticity", "sibling")


@dataclass(frozen=True)
class SynapseParams:
    """Weight and delay of one projection.

    Attributes
    ----------
    weight : float
        Weight (nA, >= 0), or weight per content bit when ``per_bit`` (multiplied by m).
    delay : float
        Delay (ms, > 0).
    per_bit : bool
        The weight scales with the memory width m.
    """

    weight: float
    delay: float
    per_bit: bool = False

    def __post_init__(self) -> None:
        object.__setattr__(self, "weight", number(self.weight, "SynapseParams: weight", "nA", 0.0))
        object.__setattr__(self, "delay", number(self.delay, "SynapseParams: delay", "ms", 0.0, strict=True))

    def weight_for(self, m: int) -> float:
        """The weight (nA) in a memory of width ``m``."""
        return self.weight * m if self.per_bit else self.weight


@dataclass(frozen=True)
class CA3Params:
    """Everything that defines one CA3 parameter set.

    Attributes
    ----------
    name : str
        Name of the set (``neuromem/resources/parameters/ca3_<name>.toml``).
    dt_ms : float
        The time step the set is defined for (ms).
    cells : dict
        Neuron sets by key (the paper's ``"A"``, ``"B"``, ``"O"``) as :class:`LIFCurrExp`.
    synapses : dict
        :class:`SynapseParams` by projection name (:data:`PROJECTION_NAMES`).
    rule : CA3PairRule or STDP
        The plasticity of the two plastic projections.
    timing : Timing
        Input offsets, answer windows and minimum spacing of the operations.
    scheme : {"spinnaker", "exact"}
        The integration scheme the set is defined for.
    populations : dict
        Population -> key of its neuron set (default :data:`PAPER_CELLS`).
    sibling : dict
        CA3 core of the sibling DG-CA3-CA1 model: ``content_cell``,
        ``content_weight`` (nA), ``content_delay`` (ms).
    """

    name: str
    dt_ms: float
    cells: dict[str, LIFCurrExp]
    synapses: dict[str, SynapseParams]
    rule: CA3PairRule | STDP
    timing: Timing = field(default_factory=Timing.paper)
    scheme: str = "spinnaker"
    populations: dict[str, str] = field(default_factory=lambda: dict(PAPER_CELLS))
    sibling: dict[str, float | str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        where = f"CA3 parameter set {self.name!r}"
        object.__setattr__(self, "dt_ms", number(self.dt_ms, f"{where}: dt_ms", "ms", 0.0, strict=True))
        if self.scheme not in SCHEMES:
            raise ValidationError(f"{where}: scheme = {self.scheme!r}; allowed: {', '.join(SCHEMES)}")
        if not isinstance(self.rule, (CA3PairRule, STDP)):
            raise ValidationError(f"{where}: rule must be a CA3PairRule or an STDP, got {type(self.rule).__name__}")
        missing = sorted(set(PROJECTION_NAMES) - set(self.synapses))
        if missing:
            raise ValidationError(f"{where}: projections {missing} have no weight and delay")
        unknown = sorted(set(self.populations) - set(PAPER_CELLS))
        if unknown:
            raise ValidationError(f"{where} [populations]: unknown populations {unknown}; known: {sorted(PAPER_CELLS)}")
        populations = {**PAPER_CELLS, **self.populations}
        for population, key in populations.items():
            if key not in self.cells:
                raise ValidationError(
                    f"{where} [populations]: {population} uses neuron set {key!r}, which [cells] does not define"
                    f" (defined: {sorted(self.cells)})"
                )
        object.__setattr__(self, "populations", populations)

    # Parameter sets hold dicts: equal sets compare equal but are not hashable.
    __hash__ = None  # type: ignore[assignment]

    def cell_of(self, population: str) -> LIFCurrExp:
        """The neuron parameters of ``population``."""
        return self.cells[self.populations[population]]

    @property
    def spacing_after_store_ms(self) -> float:
        """Minimum time (ms) from a store's start to the next operation's start."""
        return self.timing.spacing_after_store_ms

    @property
    def spacing_after_recall_ms(self) -> float:
        """Minimum time (ms) from a recall's start to the next operation's start."""
        return self.timing.spacing_after_recall_ms

    @property
    def w_max(self) -> float:
        """Upper bound of the plastic weights (nA)."""
        return float(self.rule.w_max)

    @classmethod
    def from_dict(cls, data: dict[str, object], where: str = "CA3 parameters") -> CA3Params:
        """Build from the TOML tables; raises ValidationError naming the missing or bad entry."""
        if not isinstance(data, dict):
            raise ValidationError(f"{where}: must be a table")
        unknown = sorted(set(data) - set(TOP_LEVEL_KEYS))
        if unknown:
            raise ValidationError(f"{where}: unknown keys {unknown}; allowed: {', '.join(TOP_LEVEL_KEYS)}")
        name = data.get("name", "custom")
        if not isinstance(name, str) or not name.replace("_", "").isalnum():
            raise ValidationError(f"{where}: name = {name!r} may hold only letters, digits and '_'")
        try:
            cells = {}
            for key, entry in _table(data, "cells", where).items():
                if not isinstance(entry, dict):
                    raise ValidationError(f"{where} [cells.{key}]: must be a table of neuron parameters")
                for parameter, value in entry.items():
                    number(value, f"{where} [cells.{key}] {parameter}")
                try:
                    cells[str(key)] = LIFCurrExp(**entry)
                except ValidationError as error:
                    raise ValidationError(f"{where} [cells.{key}]: {error}") from None
            projections = _table(data, "projections", where)
            unknown = sorted(set(projections) - set(PROJECTION_NAMES))
            if unknown:
                raise ValidationError(f"{where}: unknown projections {unknown}; allowed: {', '.join(PROJECTION_NAMES)}")
            synapses = {}
            for key in PROJECTION_NAMES:
                entry = _table(projections, key, f"{where} [projections]")
                extra = sorted(set(entry) - {"weight", "weight_per_bit", "delay"})
                if extra or ("weight" in entry) == ("weight_per_bit" in entry) or "delay" not in entry:
                    raise ValidationError(
                        f"{where} [projections] {key}: give weight (or weight_per_bit) and delay, nothing else;"
                        f" got {sorted(entry)}"
                    )
                per_bit = "weight_per_bit" in entry
                weight = number(
                    entry["weight_per_bit" if per_bit else "weight"], f"{where} [projections] {key}: weight", "nA", 0.0
                )
                delay = number(entry["delay"], f"{where} [projections] {key}: delay", "ms", 0.0, strict=True)
                synapses[key] = SynapseParams(weight, delay, per_bit)
            populations = data.get("populations", {})
            if not isinstance(populations, dict) or not all(isinstance(v, str) for v in populations.values()):
                raise ValidationError(f"{where} [populations]: must map population names to neuron-set keys")
            return cls(
                name=name,
                dt_ms=number(data.get("dt_ms", 1.0), f"{where}: dt_ms", "ms", 0.0, strict=True),
                cells=cells,
                synapses=synapses,
                rule=read_rule(_table(data, "plasticity", where), f"{where} [plasticity]"),
                timing=Timing.from_dict(_table(data, "protocol", where), f"{where} [protocol]"),
                scheme=str(data.get("scheme", "spinnaker")),
                populations=dict(populations),
                sibling=read_sibling(data.get("sibling", {}), f"{where} [sibling]"),
            )
        except TypeError as error:
            raise ValidationError(f"{where}: {error}") from None

    def to_dict(self) -> dict[str, object]:
        """The TOML tables of this set (inverse of :meth:`from_dict`)."""
        cells = {key: {**cell.parameters(), "v_init": cell.initial_v} for key, cell in self.cells.items()}
        projections = {
            key: {("weight_per_bit" if s.per_bit else "weight"): s.weight, "delay": s.delay}
            for key, s in self.synapses.items()
        }
        return {
            "name": self.name,
            "dt_ms": self.dt_ms,
            "scheme": self.scheme,
            "protocol": self.timing.to_dict(),
            "cells": cells,
            "populations": dict(self.populations),
            "projections": projections,
            "plasticity": rule_table(self.rule),
            "sibling": dict(self.sibling),
        }

    def with_rule(self, **changes: float | str) -> CA3Params:
        """A copy whose plasticity rule has ``changes`` (e.g. ``tau_plus=1.0``)."""
        return dataclass_replace(self, rule=self.rule.replace(**changes))

    def with_timing(self, timing: Timing) -> CA3Params:
        """A copy with another operation timing."""
        return dataclass_replace(self, timing=timing)


def load_params(name: str = "spinnaker", folder: str | Path | None = None) -> CA3Params:
    """The parameter set in ``<folder>/ca3_<name>.toml`` (default folder: :data:`PARAMETERS_DIR`).

    A file may name another set in ``extends``; its tables then override that
    set's entries key by key.
    """
    if not isinstance(name, str):
        raise ValidationError(f"load_params: name = {name!r} must be a string")
    return CA3Params.from_dict(_read(name, Path(folder) if folder is not None else PARAMETERS_DIR, ()), f"ca3_{name}")


def _read(name: str, folder: Path, seen: tuple[str, ...]) -> dict[str, object]:
    if not name.replace("_", "").isalnum():
        raise ValidationError(f"load_params: name = {name!r} may hold only letters, digits and '_'")
    if name in seen:
        raise FileFormatError(f"CA3 parameter sets extend each other in a loop: {' -> '.join((*seen, name))}")
    path = folder / f"ca3_{name}.toml"
    try:
        data = tomllib.loads(path.read_text())
    except FileNotFoundError:
        raise FileFormatError(f"CA3 parameter set {str(path)!r} is missing") from None
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as error:
        raise FileFormatError(f"CA3 parameter set {str(path)!r} is not valid TOML: {error}") from None
    base = data.pop("extends", None)
    if base is None:
        return data
    if not isinstance(base, str):
        raise ValidationError(f"{path}: extends = {base!r} must name a parameter set")
    return _merge(_read(base, folder, (*seen, name)), data)


def _merge(base: dict[str, object], over: dict[str, object]) -> dict[str, object]:
    merged = dict(base)
    for key, value in over.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = _merge(merged[key], value)  # type: ignore[arg-type]
        else:
            merged[key] = value
    return merged


def _table(data: object, key: str, where: str) -> dict[str, object]:
    if not isinstance(data, dict) or not isinstance(data.get(key), dict):
        raise ValidationError(f"{where}: table [{key}] is missing")
    return data[key]  # type: ignore[no-any-return]
