"""Worker process: map an exported plan with sPyNNaker on a virtual board.

Run as ``python -m neuromem.export.spinnaker_map FOLDER`` by
:func:`neuromem.export.spinnaker.check_spinnaker`, in its own process because
sPyNNaker reads its configuration from ``HOME``/``XDG_CONFIG_HOME`` at import
and keeps global state. With ``virtual_board = True``, ``sim.run`` performs the
whole mapping (partitioning, placement, routing, routing-table compression,
data specification) and executes nothing. Writes ``FOLDER/mapping.json``.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from neuromem.export import standalone


def _mapping(steps: int) -> dict[str, object]:
    """Cores, weight scales and routing-table sizes; SDRAM sized for ``steps`` recorded steps."""
    from spynnaker.pyNN.data import SpynnakerDataView as View

    cores = []
    for placement in View.iterate_placemements():
        vertex = placement.vertex
        app = getattr(vertex, "app_vertex", None)
        try:
            sdram = int(vertex.sdram_required.get_total_sdram(steps))
        except Exception:  # noqa: BLE001 - system vertices may not size themselves
            sdram = -1
        vertex_slice = getattr(vertex, "vertex_slice", None)
        cores.append(
            {
                "x": placement.x,
                "y": placement.y,
                "p": placement.p,
                "vertex": type(vertex).__name__,
                "population": getattr(app, "label", None),
                "atoms": int(vertex_slice.n_atoms) if vertex_slice is not None else 0,
                "sdram_bytes": sdram,
            }
        )
    scales = {}
    for population in View.iterate_populations():
        vertex = population._vertex  # the application vertex sPyNNaker built
        if hasattr(vertex, "get_ring_buffer_shifts"):
            shifts = vertex.get_ring_buffer_shifts()
            scales[population.label] = {
                "ring_buffer_shifts": [int(s) for s in shifts],
                "weight_scales": [float(s) for s in vertex.get_weight_scales(shifts)],
            }
    tables = []
    for getter in ("get_precompressed", "get_uncompressed"):
        try:
            routing = getattr(View, getter)()
        except Exception:  # noqa: BLE001 - not every pipeline keeps both
            continue
        tables = [int(t.number_of_entries) for t in routing.routing_tables]
        break
    return {"cores": cores, "scales": scales, "routing_entries": tables}


def main(folder: str) -> int:
    path = Path(folder)
    plan, arrays = standalone.load_plan(path)
    import pyNN.spiNNaker as sim

    standalone.build_network(sim, "spiNNaker", plan, arrays)
    sim.run(float(plan["duration"]))
    mapping = _mapping(int(plan["steps"]))
    sim.end()
    (path / "mapping.json").write_text(json.dumps(mapping))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
