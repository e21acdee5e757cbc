"""Parameter sets of the CA3 memory, stored as TOML data in the repository's ``models/`` folder.

``models/ca3_spinnaker.toml`` holds the published network (neuron sets A, B and
O, the weights and delays of the 18 projections, spec ``ca3.md`` sections 1.2
and 1.4), the calibrated plasticity rule R* (tau 1.5 ms, 12 nA, section 1.5.4)
with the published STDP configuration kept for export, and the operation
timing (3-tick write hold, 7/6 ms spacing, section 2.4).
``models/ca3_amplitude36.toml`` extends it with R* at the paper's amplitude
(tau 1 ms, 36 nA).

Example
-------
>>> params = load_params("spinnaker")
>>> params.rule.tau_plus, params.rule.published.timing.A_plus
(1.5, 6.0)
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field
from pathlib import Path

from neuromem.errors import FileFormatError, ValidationError
from neuromem.spec import STDP, AdditiveWeightDependence, CA3PairRule, LIFCurrExp, SpikePairRule

MODELS_DIR = Path(__file__).resolve().parents[3] / "models"

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
CELL_SETS = ("A", "B", "O")


@dataclass(frozen=True)
class SynapseParams:
    """Weight and delay of one projection.

    Attributes
    ----------
    weight : float
        Weight (nA), or weight per content bit when ``per_bit`` (multiplied by m).
    delay : float
        Delay (ms).
    per_bit : bool
        The weight scales with the memory width m.
    """

    weight: float
    delay: float
    per_bit: bool = False

    def weight_for(self, m: int) -> float:
        """The weight (nA) in a memory of width ``m``."""
        return self.weight * m if self.per_bit else self.weight


@dataclass(frozen=True)
class CA3Params:
    """Everything that defines one CA3 parameter set.

    Attributes
    ----------
    name : str
        Name of the set (``models/ca3_<name>.toml``).
    dt_ms : float
        The time step the model is defined for (1 ms).
    cells : dict
        Neuron sets ``"A"``, ``"B"``, ``"O"`` as :class:`LIFCurrExp`.
    synapses : dict
        :class:`SynapseParams` by projection name (:data:`PROJECTION_NAMES`).
    rule : CA3PairRule
        The plasticity of the two plastic projections, with ``published`` set.
    write_hold_ticks : int
        Consecutive input ticks of a write (3).
    spacing_after_write_ms, spacing_after_recall_ms : float
        Minimum time from an operation's start to the next one's (7 and 6 ms).
    sibling : dict
        CA3 core of the sibling DG-CA3-CA1 model: ``content_cell``,
        ``content_weight`` (nA), ``content_delay`` (ms).
    """

    name: str
    dt_ms: float
    cells: dict[str, LIFCurrExp]
    synapses: dict[str, SynapseParams]
    rule: CA3PairRule
    write_hold_ticks: int = 3
    spacing_after_write_ms: float = 7.0
    spacing_after_recall_ms: float = 6.0
    sibling: dict[str, float | str] = field(default_factory=dict)

    @classmethod
    def from_dict(cls, data: dict[str, object], where: str = "CA3 parameters") -> CA3Params:
        """Build from the TOML tables; raises ValidationError naming the missing or bad entry."""
        try:
            cells_data = _table(data, "cells", where)
            cells = {}
            for key in CELL_SETS:
                cells[key] = LIFCurrExp(**_table(cells_data, key, f"{where} [cells]"))
            projections = _table(data, "projections", where)
            unknown = sorted(set(projections) - set(PROJECTION_NAMES))
            if unknown:
                raise ValidationError(f"{where}: unknown projections {unknown}; allowed: {', '.join(PROJECTION_NAMES)}")
            synapses = {}
            for key in PROJECTION_NAMES:
                entry = _table(projections, key, f"{where} [projections]")
                per_bit = "weight_per_bit" in entry
                weight = entry.get("weight_per_bit" if per_bit else "weight")
                if weight is None or "delay" not in entry:
                    raise ValidationError(f"{where}: projection {key!r} needs weight (or weight_per_bit) and delay")
                synapses[key] = SynapseParams(float(weight), float(entry["delay"]), per_bit)
            plastic = dict(_table(data, "plasticity", where))
            published = plastic.pop("published", None)
            rule = CA3PairRule(**plastic, published=_published(published, where) if published else None)
            protocol = _table(data, "protocol", where)
            return cls(
                name=str(data.get("name", "custom")),
                dt_ms=float(data.get("dt_ms", 1.0)),  # type: ignore[arg-type]
                cells=cells,
                synapses=synapses,
                rule=rule,
                write_hold_ticks=int(protocol.get("write_hold_ticks", 3)),
                spacing_after_write_ms=float(protocol.get("spacing_after_write_ms", 7.0)),
                spacing_after_recall_ms=float(protocol.get("spacing_after_recall_ms", 6.0)),
                sibling=dict(data.get("sibling", {})),  # type: ignore[call-overload]
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
        rule = self.rule
        plasticity: dict[str, object] = {
            "tau_plus": rule.tau_plus,
            "tau_minus": rule.tau_minus,
            "amplitude_plus": rule.amplitude_plus,
            "amplitude_minus": rule.amplitude_minus,
            "w_min": rule.w_min,
            "w_max": rule.w_max,
            "pairing": rule.pairing,
        }
        if rule.published is not None:
            timing, bounds = rule.published.timing, rule.published.weight
            plasticity["published"] = {
                "tau_plus": timing.tau_plus,
                "tau_minus": timing.tau_minus,
                "A_plus": timing.A_plus,
                "A_minus": timing.A_minus,
                "w_min": bounds.w_min,
                "w_max": bounds.w_max,
                "pairing": timing.pairing,
            }
        return {
            "name": self.name,
            "dt_ms": self.dt_ms,
            "protocol": {
                "write_hold_ticks": self.write_hold_ticks,
                "spacing_after_write_ms": self.spacing_after_write_ms,
                "spacing_after_recall_ms": self.spacing_after_recall_ms,
            },
            "cells": cells,
            "projections": projections,
            "plasticity": plasticity,
            "sibling": dict(self.sibling),
        }

    def with_rule(self, **changes: float | str) -> CA3Params:
        """A copy whose plasticity rule has ``changes`` (e.g. ``tau_plus=1.0``)."""
        from dataclasses import replace

        return replace(self, rule=self.rule.replace(**changes))


def load_params(name: str = "spinnaker", folder: str | Path | None = None) -> CA3Params:
    """The parameter set in ``<folder>/ca3_<name>.toml`` (default folder: ``models/``).

    A file may name another set in ``extends``; its tables then override that
    set's entries key by key.
    """
    return CA3Params.from_dict(_read(name, Path(folder) if folder is not None else MODELS_DIR, ()), f"ca3_{name}")


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
    except (OSError, tomllib.TOMLDecodeError) as error:
        raise FileFormatError(f"CA3 parameter set {str(path)!r} is not valid TOML: {error}") from None
    base = data.pop("extends", None)
    if base is None:
        return data
    return _merge(_read(str(base), folder, (*seen, name)), data)


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


def _published(data: dict[str, object], where: str) -> STDP:
    data = dict(data)
    bounds = AdditiveWeightDependence(w_min=float(data.pop("w_min", 0.0)), w_max=float(data.pop("w_max", 6.0)))
    try:
        return STDP(SpikePairRule(**data), bounds)  # type: ignore[arg-type]
    except TypeError as error:
        raise ValidationError(f"{where} [plasticity.published]: {error}") from None
