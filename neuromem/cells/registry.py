"""The one registry of cell types: spec, backends and exporters find cell types here.

Adding a cell type is its module in :mod:`neuromem.cells` plus one line in
:data:`CELL_MODELS` (and its tests). Spike sources are not cell types: they
have no state and no synapses onto them (:mod:`neuromem.cells.sources`).
"""

from __future__ import annotations

from neuromem.cells import if_cond_exp, if_curr_delta, if_curr_exp, izhikevich
from neuromem.cells.base import CellModel, CellType
from neuromem.cells.sources import SOURCE_TYPES
from neuromem.errors import CapabilityError, ValidationError

#: Type name -> cell model. One line per cell type.
CELL_MODELS: dict[str, CellModel] = {
    model.name: model
    for model in (
        if_curr_exp.MODEL,
        if_curr_delta.MODEL,
        if_cond_exp.MODEL,
        izhikevich.MODEL,
    )
}

#: Every variable a probe may record on some cell type (besides spikes).
RECORDABLES: tuple[str, ...] = tuple(dict.fromkeys(v for m in CELL_MODELS.values() for v in m.spec.recordables))


def names() -> tuple[str, ...]:
    """Type names of the registered cell types."""
    return tuple(CELL_MODELS)


def is_cell(value: object) -> bool:
    """True for an instance of a registered cell type."""
    return isinstance(value, CellType) and type(value).__name__ in CELL_MODELS


def is_source(value: object) -> bool:
    """True for a spike source (SpikeSourceArray, SpikeSourcePoisson)."""
    return isinstance(value, SOURCE_TYPES)


def model_of(cell: object) -> CellModel:
    """The :class:`CellModel` of a cell instance or cell class.

    Raises
    ------
    ValidationError
        ``cell`` is no registered cell type.
    """
    name = cell.__name__ if isinstance(cell, type) else type(cell).__name__
    try:
        return CELL_MODELS[name]
    except KeyError:
        raise ValidationError(f"{name} is not a registered cell type; known: {', '.join(CELL_MODELS)}") from None


def check_scheme(cell: CellType, scheme: str, where: str) -> None:
    """Raise CapabilityError if ``cell`` has no update under ``scheme``, naming both."""
    model = model_of(cell)
    if scheme not in model.schemes:
        raise CapabilityError(
            f"{where}: cell type {model.name} has no update under scheme {scheme!r}"
            f" (it supports {', '.join(repr(s) for s in model.schemes)})"
        )


def check_network_schemes(network: object) -> None:
    """Raise CapabilityError for the first population whose cell type cannot run the network's scheme."""
    for population in network.populations:  # type: ignore[attr-defined]
        if not population.is_source:
            check_scheme(population.cell, network.scheme, f"Population {population.name!r}")  # type: ignore[attr-defined]
