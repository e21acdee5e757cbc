"""The ``[plasticity]`` and ``[sibling]`` tables of a CA3 parameter file, read strictly and written back.

``[plasticity]`` holds ``rule = "ca3_pair"`` (rule R*, :class:`~neuromem.spec.CA3PairRule`, with an
optional ``[plasticity.published]`` STDP for export) or ``rule = "stdp"`` (PyNN's pair rule with an
additive or multiplicative weight dependence). Numbers must be numbers: a TOML string such as
``"1.5"`` is refused, not converted.
"""

from __future__ import annotations

import math

from neuromem.errors import ValidationError
from neuromem.spec import (
    STDP,
    AdditiveWeightDependence,
    CA3PairRule,
    MultiplicativeWeightDependence,
    SpikePairRule,
)

RULES = ("ca3_pair", "stdp")
WEIGHT_DEPENDENCES = {"additive": AdditiveWeightDependence, "multiplicative": MultiplicativeWeightDependence}


def number(value: object, where: str, unit: str = "", minimum: float | None = None, strict: bool = False) -> float:
    """``value`` as a finite float; strings and bools are refused (a TOML ``"0.1"`` is a mistake)."""
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise ValidationError(f"{where} = {value!r} must be a finite number{' of ' + unit if unit else ''}")
    value = float(value)
    if minimum is not None and (value <= minimum if strict else value < minimum):
        raise ValidationError(
            f"{where} = {value:g}{' ' + unit if unit else ''} must be {'>' if strict else '>='} {minimum:g}"
        )
    return value


def read_rule(data: dict[str, object], where: str) -> CA3PairRule | STDP:
    data = dict(data)
    kind = data.pop("rule", "ca3_pair")
    if kind not in RULES:
        raise ValidationError(f"{where}: rule = {kind!r}; allowed: {', '.join(RULES)}")
    for key, value in data.items():
        if key not in ("pairing", "published", "weight_dependence"):
            number(value, f"{where} {key}")
    try:
        if kind == "stdp":
            dependence = data.pop("weight_dependence", "additive")
            if dependence not in WEIGHT_DEPENDENCES:
                raise ValidationError(
                    f"{where}: weight_dependence = {dependence!r}; allowed: {', '.join(WEIGHT_DEPENDENCES)}"
                )
            bounds = WEIGHT_DEPENDENCES[dependence](w_min=data.pop("w_min", 0.0), w_max=data.pop("w_max", 1.0))  # type: ignore[arg-type]
            return STDP(SpikePairRule(**data), bounds)  # type: ignore[arg-type]
        published = data.pop("published", None)
        return CA3PairRule(**data, published=_published(published, f"{where}.published") if published else None)  # type: ignore[arg-type]
    except (TypeError, ValidationError) as error:
        raise ValidationError(f"{where}: {error}") from None


def _published(data: object, where: str) -> STDP:
    if not isinstance(data, dict):
        raise ValidationError(f"{where}: must be a table")
    data = dict(data)
    bounds = AdditiveWeightDependence(w_min=data.pop("w_min", 0.0), w_max=data.pop("w_max", 6.0))  # type: ignore[arg-type]
    try:
        return STDP(SpikePairRule(**data), bounds)  # type: ignore[arg-type]
    except TypeError as error:
        raise ValidationError(f"{where}: {error}") from None


def rule_table(rule: CA3PairRule | STDP) -> dict[str, object]:
    if isinstance(rule, STDP):
        timing, bounds = rule.timing, rule.weight
        dependence = "additive" if isinstance(bounds, AdditiveWeightDependence) else "multiplicative"
        return {
            "rule": "stdp",
            "tau_plus": timing.tau_plus,
            "tau_minus": timing.tau_minus,
            "A_plus": timing.A_plus,
            "A_minus": timing.A_minus,
            "pairing": timing.pairing,
            "weight_dependence": dependence,
            "w_min": bounds.w_min,
            "w_max": bounds.w_max,
        }
    plasticity: dict[str, object] = {
        "rule": "ca3_pair",
        "tau_plus": rule.tau_plus,
        "tau_minus": rule.tau_minus,
        "amplitude_plus": rule.amplitude_plus,
        "amplitude_minus": rule.amplitude_minus,
        "w_min": rule.w_min,
        "w_max": rule.w_max,
        "pairing": rule.pairing,
    }
    if rule.published is not None:
        published = rule_table(rule.published)
        published.pop("rule")
        published.pop("weight_dependence")
        plasticity["published"] = published
    return plasticity


def read_sibling(data: object, where: str) -> dict[str, float | str]:
    if not isinstance(data, dict):
        raise ValidationError(f"{where}: must be a table")
    result: dict[str, float | str] = {}
    for key, value in data.items():
        if key == "content_cell":
            if not isinstance(value, str):
                raise ValidationError(f"{where}: content_cell = {value!r} must name a neuron set")
            result[key] = value
        elif key in ("content_weight", "content_delay"):
            result[key] = number(value, f"{where} {key}", minimum=0.0)
        else:
            raise ValidationError(f"{where}: unknown key {key!r}; allowed: content_cell, content_weight, content_delay")
    return result
