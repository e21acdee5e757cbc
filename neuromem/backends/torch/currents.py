"""Current sources on the torch backend: the injected current of every block, per tick.

The current of a neuron is piecewise constant and changes only at the
switch ticks of the sources that target it. At each such tick the full
per-neuron current of the block is precomputed (float64 numpy, summed over
the sources in network order, as the Brian2 backend sums them), so a run
looks a vector up instead of accumulating changes that would drift.
"""

from __future__ import annotations

import bisect

import numpy as np
import torch

from neuromem.backends.torch.layout import Layout
from neuromem.spec import Network
from neuromem.spec.currents import injected_current, switch_ticks


def current_tables(network: Network, layout: Layout, dt: float) -> list[dict[int, np.ndarray]]:
    """Per block: switch tick -> current (nA) of every neuron of the block from that tick on."""
    tables: list[dict[int, np.ndarray]] = []
    for block in layout.blocks:
        table: dict[int, np.ndarray] = {}
        ticks = sorted({t for name in block.populations for t in switch_ticks(network.current_sources, name, dt)})
        for tick in ticks:
            table[tick] = np.concatenate(
                [
                    injected_current(network.current_sources, name, layout.sizes[name], dt, tick)
                    for name in block.populations
                ]
            )
        tables.append(table)
    return tables


class InjectedCurrents:
    """The current each block sees at each tick (None where nothing is injected yet)."""

    def __init__(self, network: Network, layout: Layout, dt: float, dtype: torch.dtype, device: torch.device) -> None:
        self.tables = [
            {tick: torch.as_tensor(values, dtype=dtype, device=device) for tick, values in table.items()}
            for table in current_tables(network, layout, dt)
        ]
        self.switch_ticks = [sorted(table) for table in self.tables]

    def at(self, block: int, tick: int) -> torch.Tensor | None:
        """Current (nA) of block ``block``'s neurons during step ``tick``, shape (neurons,)."""
        ticks = self.switch_ticks[block]
        position = bisect.bisect_right(ticks, tick)
        if position == 0:
            return None
        return self.tables[block][ticks[position - 1]]

    @property
    def any(self) -> bool:
        return any(self.switch_ticks)
