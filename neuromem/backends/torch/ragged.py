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
    # index_select: several times faster than advanced indexing on a CPU.
    starts = pointer.index_select(0, rows)
    ends = pointer[1:].index_select(0, rows)
    counts = ends - starts
    cumulative = torch.cumsum(counts, 0, dtype=counts.dtype)
    total = int(cumulative[-1]) if rows.numel() else 0
    if total == 0:
        empty = torch.zeros(0, dtype=pointer.dtype, device=pointer.device)
        return empty, counts
    # Position j of row r's range is j - first_of_row(r) + start(r), with
    # start(r) - first_of_row(r) = end(r) - (cumulative count up to r).
    shift = ends.sub_(cumulative)
    positions = torch.repeat_interleave(shift, counts, output_size=total).add_(
        torch.arange(total, dtype=counts.dtype, device=pointer.device)
    )
    return positions, counts


#: Bytes scanned per word by :func:`events`: event masks are padded to a multiple of it.
WORD_BYTES = 8


#: Below this many bytes a plain scan is cheaper than the word pass and its unpacking.
WORD_SCAN_MIN_BYTES = 2**16


def padded(size: int) -> int:
    """``size`` rounded up to whole words of :data:`WORD_BYTES`."""
    return -(-size // WORD_BYTES) * WORD_BYTES


def events(mask: torch.Tensor) -> tuple[torch.Tensor, ...]:
    """Indices of the True entries of a contiguous boolean mask, as ``torch.nonzero(as_tuple=True)``.

    The last dimension must be a whole number of words (:func:`padded`). Spikes
    are sparse: the mask is scanned eight bytes at a time and only the few
    non-zero words are unpacked, several times faster than a byte-wise scan.
    Indices come in the same (row-major) order.
    """
    if mask.numel() < WORD_SCAN_MIN_BYTES:
        return torch.nonzero(mask, as_tuple=True)
    words = mask.view(-1).view(torch.int64)
    hit = torch.nonzero(words).view(-1)
    byte_row, byte = torch.nonzero(mask.view(-1).view(-1, WORD_BYTES).index_select(0, hit), as_tuple=True)
    flat = torch.add(byte, hit.index_select(0, byte_row), alpha=WORD_BYTES)
    index = []
    for size in reversed(mask.shape[1:]):
        if size == 1:
            index.append(torch.zeros_like(flat))
            continue
        index.append(flat.remainder(size))
        flat = flat.div(size, rounding_mode="floor")
    index.append(flat)
    return tuple(reversed(index))
