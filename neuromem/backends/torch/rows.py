"""Padded row tables: the synapses of each range of pre neurons as rows of equal width.

A CSR table needs a position per synapse to gather a spiking neuron's row;
a padded table (ELL) is gathered row by row, a copy of whole rows that runs
several times faster on a CPU. Rows shorter than their table's width are
padded with weight 0 into channel 0: adding +0.0 leaves every buffer cell
bit-identical (cells never hold -0.0: spec weights are >= 0).

Tables cover consecutive ranges of packed neurons (populations in layout
order, merged while the padding stays small), so adding one table after
another still gives each buffer cell its inputs in neuron order.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import torch

from neuromem.backends.torch.capacity import Sizes

if TYPE_CHECKING:
    from neuromem.backends.torch.synapses import InputBuffer

#: A table is used only while its padding adds at most this fraction of its synapses.
MAX_PADDING = 0.5


@dataclass(frozen=True)
class RowTable:
    """Rows ``first .. stop`` of the packed neurons, each padded to ``channel.shape[1]`` synapses."""

    first: int
    stop: int
    channel: torch.Tensor  # (rows, width), index dtype
    weight: torch.Tensor  # (rows, width)


def row_ranges(pointer: np.ndarray, boundaries: list[int]) -> list[tuple[int, int]] | None:
    """Consecutive row ranges (cut only at ``boundaries``) whose padding stays within :data:`MAX_PADDING`.

    Returns None when some range cannot be padded cheaply (very unequal row
    lengths): the caller keeps the CSR table.
    """
    degree = np.diff(pointer)
    pieces = [(lo, hi) for lo, hi in zip(boundaries[:-1], boundaries[1:]) if hi > lo and degree[lo:hi].any()]
    ranges: list[tuple[int, int]] = []
    for lo, hi in pieces:
        if ranges and ranges[-1][1] == lo and _padding(degree[ranges[-1][0] : hi]) <= MAX_PADDING:
            ranges[-1] = (ranges[-1][0], hi)
        elif _padding(degree[lo:hi]) <= MAX_PADDING:
            ranges.append((lo, hi))
        else:
            return None
    return ranges


def _padding(degree: np.ndarray) -> float:
    synapses = int(degree.sum())
    return (degree.size * int(degree.max()) - synapses) / max(synapses, 1)


def row_tables(
    ranges: list[tuple[int, int]],
    pointer: np.ndarray,
    channel: np.ndarray,
    weight: np.ndarray,
    index_dtype: torch.dtype,
    dtype: torch.dtype,
    device: torch.device,
) -> list[RowTable]:
    """Padded tables of the CSR arrays (``channel``/``weight`` in CSR order) for ``ranges``."""
    tables = []
    for lo, hi in ranges:
        degree = np.diff(pointer[lo : hi + 1])
        width = int(degree.max())
        rows = np.repeat(np.arange(hi - lo), degree)
        columns = np.arange(rows.size) - np.repeat(pointer[lo:hi] - pointer[lo], degree)
        table_channel = np.zeros((hi - lo, width), dtype=np.int64)
        table_weight = np.zeros((hi - lo, width), dtype=np.float64)
        span = slice(int(pointer[lo]), int(pointer[hi]))
        table_channel[rows, columns] = channel[span]
        table_weight[rows, columns] = weight[span]
        tables.append(
            RowTable(
                lo,
                hi,
                torch.as_tensor(table_channel, device=device).to(index_dtype),
                torch.as_tensor(table_weight, dtype=dtype, device=device),
            )
        )
    return tables


def add_rows(
    tables: list[RowTable],
    table_of_row: torch.Tensor,
    neuron: torch.Tensor,
    offset: torch.Tensor,
    buffer: InputBuffer,
    sizes: Sizes,
) -> None:
    """Add the rows of the events' ``neuron`` s into ``buffer``, each shifted by its event's ``offset``.

    ``offset`` is int64, a flat index into the buffer's cells.

    Events keep their order within each table, and tables go in neuron
    order, so every cell of the buffer receives its inputs in event order.
    With bounded ``sizes`` each table takes a fixed number of events; pad
    events add into the buffer's scratch cells.
    """
    which = table_of_row.index_select(0, neuron)
    out = buffer.flat
    for k, table in enumerate(tables):
        # nonzero keeps the events' order (a stable sort of ``which`` costs more for a few tables).
        mine, valid = sizes.valid(f"static.rows.{k}", which == k, neuron.numel())
        if mine.numel() == 0:
            continue
        rows = neuron.index_select(0, mine) - table.first
        if valid is not None:
            # Pad events read row 0 and write into scratch cells.
            rows.masked_fill_(~valid, 0)
        target = table.channel.index_select(0, rows).to(torch.int64).add_(offset.index_select(0, mine)[:, None])
        if valid is not None:
            scratch = sizes.scratch(buffer.scratch, target.numel()).view(target.shape)
            target = torch.where(valid[:, None], target, scratch)
        # scatter_add_ adds in index order like index_add_ (on one CPU thread), about twice as fast.
        out.scatter_add_(0, target.view(-1), table.weight.index_select(0, rows).view(-1))
