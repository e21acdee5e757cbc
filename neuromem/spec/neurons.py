"""Cell types and spike sources, as the spec sees them.

The cell types are plug-ins of :mod:`neuromem.cells` (one module per type,
one registry); this module keeps the names the spec always exported.
Parameter names and units are PyNN's: ms, mV, nA, nF, uS.
"""

from __future__ import annotations

from neuromem.cells.base import CellType
from neuromem.cells.if_cond_exp import IF_cond_exp
from neuromem.cells.if_curr_delta import IF_curr_delta
from neuromem.cells.if_curr_exp import IF_curr_exp, LIFCurrExp
from neuromem.cells.izhikevich import Izhikevich
from neuromem.cells.sources import SOURCE_TYPES, SpikeSourceArray, SpikeSourcePoisson

__all__ = [
    "SOURCE_TYPES",
    "CellType",
    "IF_cond_exp",
    "IF_curr_delta",
    "IF_curr_exp",
    "Izhikevich",
    "LIFCurrExp",
    "SpikeSourceArray",
    "SpikeSourcePoisson",
]
