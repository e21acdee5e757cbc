r"""NIR nodes written for a loader's forward-Euler step: ``to_nir(..., loader="snntorch" | "norse")``.

snnTorch 1.0 (``snntorch.import_nir.import_from_nir``) steps every graph at 0.1 ms and reads
``beta = 1 - h/tau`` and the input scale ``r h / tau``; Norse 1.1 (``norse.torch.from_nir(graph,
dt=)``) steps at the ``dt`` it is given and reads no ``r``. A graph written for one of them holds
the node parameters whose Euler step is neuromem's exact step of ``dt`` (IF_curr_delta only).
"""

from __future__ import annotations

import math

import numpy as np

from neuromem.errors import CapabilityError
from neuromem.spec import Network

__all__ = ["LOADER_STEP_S", "check_loader", "loader_node"]

#: The loaders whose Euler step a graph can be written for (``loader=``), and their step (s);
#: None: the step is the one passed to the loader (Norse's ``from_nir(graph, dt=dt_s)``).
LOADER_STEP_S: dict[str, float | None] = {"snntorch": 1.0e-4, "norse": None}


def loader_node(nir: object, cell: object, size: int, dt: float, loader: str) -> tuple[object, float]:
    r"""``nir.LIF`` of an IF_curr_delta written so that ``loader``'s Euler step is neuromem's exact step.

    The loader steps ``v += (h / tau)(v_leak - v + r x)`` with its step ``h`` (s). With
    ``a = 1 - exp(-dt / tau_m)`` (the exact step's leak) the node's ``tau = h / a`` gives the
    decay ``1 - h/tau = exp(-dt / tau_m)``; the input must then move ``v`` by ``x`` mV:
    snnTorch reads ``r`` (``r = tau / h``, weights in mV), Norse 1.1 reads no ``r`` (``r = 1``,
    weights multiplied by ``1 / a``).
    """
    h = LOADER_STEP_S[loader]
    h = dt / 1000.0 if h is None else h
    leak = -math.expm1(-dt / cell.tau_m)  # type: ignore[attr-defined]
    tau = h / leak
    ones = np.ones(size)
    node = nir.LIF(  # type: ignore[attr-defined]
        tau=ones * tau,
        r=ones * (tau / h if loader == "snntorch" else 1.0),
        v_leak=ones * 0.0,
        v_threshold=ones * (cell.v_thresh - cell.v_rest),  # type: ignore[attr-defined]
        v_reset=ones * 0.0,
    )
    return node, (1.0 if loader == "snntorch" else 1.0 / leak)


def check_loader(network: Network, loader: str) -> None:
    """Refuse what a graph written for ``loader`` cannot hold (CapabilityError naming population and feature)."""
    for population in network.populations:
        cell = population.cell
        if population.is_source:
            continue
        where = f"Population {population.name!r}"
        if type(cell).__name__ != "IF_curr_delta":
            raise CapabilityError(
                f"{where}: feature cell:{type(cell).__name__} with loader={loader!r} cannot be expressed on"
                " target 'nir': only IF_curr_delta (nir.LIF) has a node whose Euler step is neuromem's exact"
                " step; export with loader=None"
            )
        if cell.v_reset != cell.v_rest:  # type: ignore[union-attr]
            raise CapabilityError(
                f"{where}: feature v_reset = {cell.v_reset:g} mV != v_rest = {cell.v_rest:g} mV with"  # type: ignore[union-attr]
                f" loader={loader!r} cannot be expressed on target 'nir' (the loader resets to v_rest)"
            )
