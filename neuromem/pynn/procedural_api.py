"""PyNN's procedural API (create, connect, record, set) for the neuromem simulator."""

from __future__ import annotations

from pyNN import common
from pyNN.connectors import FixedProbabilityConnector

from neuromem.pynn import simulator
from neuromem.pynn.populations import Population
from neuromem.pynn.projections import Projection
from neuromem.pynn.standardmodels import StaticSynapse

create = common.build_create(Population)
connect = common.build_connect(Projection, FixedProbabilityConnector, StaticSynapse)
set = common.set  # noqa: A001 - PyNN's name
record = common.build_record(simulator)


def record_v(source: object, filename: str) -> None:
    """Record the membrane potential of ``source`` into ``filename`` (written by ``end()``)."""
    record(["v"], source, filename)


def record_gsyn(source: object, filename: str) -> None:
    """Synaptic conductances: not available on current-based cells (refused by the cell type)."""
    record(["gsyn_exc", "gsyn_inh"], source, filename)


__all__ = ["connect", "create", "record", "record_gsyn", "record_v", "set"]
