"""Exporters: PyNN (NEST, Brian2, SpiNNaker), sPyNNaker resource checks and NIR.

Heavy simulators are imported only when an exporter runs.

>>> from neuromem.export import TARGETS
>>> sorted(TARGETS)
['brian2', 'nest', 'spiNNaker']
"""

from __future__ import annotations

from neuromem.export.plan import ExportWarning, build_plan, check_target
from neuromem.export.pynn import to_pynn
from neuromem.export.pynn_script import write_pynn_script
from neuromem.export.translate import TARGETS

__all__ = ["TARGETS", "ExportWarning", "build_plan", "check_target", "to_pynn", "write_pynn_script"]
