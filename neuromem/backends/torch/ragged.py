"""Gathering the synapse ranges of the neurons that spiked (CSR rows)."""

from __future__ import annotations

import numpy as np
import torch


def csr_order(rows: np.ndarray, n_rows: int) -> tuple[np.ndarray, np.ndarray]:
    """Stable order that sorts synapses by ``rows``, and the row pointer (n_rows + 1)."""
    order = np.argsort(rows, kind="stable")
    pointer = np.zeros(n_rows + 1, dtype=np.int64)
    np.cumsum(np.bincount(rows, minlength=n_rows), out=pointer[1:])
    return order, pointer


def gather_rows(pointer: torch.Tensor, rows: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Synapse positions of the given rows, and how many each row has.

    For rows r_1..r_k with ranges [p[r], p[r+1]), returns the concatenated
    positions and the per-row counts (for ``repeat_interleave`` of row data).
    """
    starts = pointer[rows]
    counts = pointer[rows + 1] - starts
    total = int(counts.sum())
    if total == 0:
        empty = torch.zeros(0, dtype=torch.int64, device=pointer.device)
        return empty, counts
    first_of_row = torch.cumsum(counts, 0) - counts
    positions = torch.arange(total, device=pointer.device) + torch.repeat_interleave(
        starts - first_of_row, counts, output_size=total
    )
    return positions, counts
