"""Cell types as plug-ins: one module per type, one registry for all.

=================  ============================  =========  ===================
cell type          PyNN / NEST                   weights    schemes
=================  ============================  =========  ===================
``IF_curr_exp``    IF_curr_exp / iaf_psc_exp     nA         exact, spinnaker
``IF_curr_delta``  IF_curr_delta / iaf_psc_delta mV         exact, spinnaker
``IF_cond_exp``    IF_cond_exp / iaf_cond_exp    uS         exact, spinnaker
``Izhikevich``     Izhikevich / izhikevich       mV         exact
=================  ============================  =========  ===================

``LIFCurrExp`` is ``IF_curr_exp`` under its earlier name. Spike sources
(``SpikeSourceArray``, ``SpikeSourcePoisson``) live in :mod:`neuromem.cells.sources`.
"""

from __future__ import annotations

# The spec package imports the registry while it initialises; importing it first
# here makes either import order (neuromem.cells or neuromem.spec first) work.
import neuromem.spec  # noqa: F401  isort: skip
from neuromem.cells.base import CellModel, CellType
from neuromem.cells.if_cond_exp import IF_cond_exp
from neuromem.cells.if_curr_delta import IF_curr_delta
from neuromem.cells.if_curr_exp import IF_curr_exp, LIFCurrExp
from neuromem.cells.izhikevich import Izhikevich
from neuromem.cells.registry import CELL_MODELS, model_of
from neuromem.cells.sources import SpikeSourceArray, SpikeSourcePoisson

__all__ = [
    "CELL_MODELS",
    "CellModel",
    "CellType",
    "IF_cond_exp",
    "IF_curr_delta",
    "IF_curr_exp",
    "Izhikevich",
    "LIFCurrExp",
    "SpikeSourceArray",
    "SpikeSourcePoisson",
    "model_of",
]
