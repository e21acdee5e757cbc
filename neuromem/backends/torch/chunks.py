"""Helpers of the chunked step loop: a chunk's saved starting state, the CUDA sync-debug mode."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

import torch

from neuromem.backends.torch.plasticity import PlasticProjection


class ChunkStart:
    """Copies of what a chunk of steps starts from, to run it again (bounded sizes that overflowed).

    Parameters
    ----------
    tick : int
        The chunk's first tick.
    tensors : list of torch.Tensor
        Every tensor a step changes, in a fixed order (copied).
    plastic : list of PlasticProjection
        Their postsynaptic scans kept for later ticks are saved too.
    rows : torch.Tensor
        The chunk's rows holding its source spikes (copied).
    """

    def __init__(self, tick: int, tensors: list[torch.Tensor], plastic: list[PlasticProjection], rows: torch.Tensor):
        self.tick = tick
        self.tensors = [t.clone() for t in tensors] + [rows.clone()]
        self.scans = [dict(projection._post_events) for projection in plastic]

    def restore(self, tensors: list[torch.Tensor], plastic: list[PlasticProjection], rows: torch.Tensor) -> int:
        """Copy the saved values back into ``tensors`` (same order as saved) and ``rows``; returns the tick."""
        for current, copy in zip([*tensors, rows], self.tensors, strict=True):
            current.copy_(copy)
        for projection, scans in zip(plastic, self.scans, strict=True):
            projection._forget()
            projection._post_events = dict(scans)
        return self.tick


@contextlib.contextmanager
def sync_debug(device: torch.device, mode: int) -> Iterator[int]:
    """Set ``torch.cuda.set_sync_debug_mode(mode)`` for the block on CUDA; yields the mode it replaced."""
    if device.type != "cuda":
        yield 0
        return
    previous = torch.cuda.get_sync_debug_mode()
    torch.cuda.set_sync_debug_mode(mode)
    try:
        yield previous
    finally:
        torch.cuda.set_sync_debug_mode(previous)
