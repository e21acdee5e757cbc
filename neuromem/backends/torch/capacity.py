"""Sizes of the data-dependent selections of the step loop: read every step, or fixed per chunk.

How many neurons spiked, and how many synapses their rows hold, is known only
on the device. A step that needs that number on the host (``torch.nonzero``,
``int(tensor)``, ``repeat_interleave`` without ``output_size``) waits for the
device: nothing on a CPU, a stalled stream on a GPU. :class:`Sizes` serves
both policies through one code path:

* ``exact`` (``host_reads="allowed"``): every selection has the true size,
  read when it is made.
* ``bounded`` (``host_reads="never"``): every selection has a capacity fixed
  before a chunk of steps. Selections are padded to it: pad events select a
  row without synapses, pad entries write into scratch cells that no real
  entry uses. Each selection records on the device the largest size it
  needed (:meth:`Sizes.record`); the simulation reads those peaks once at
  the chunk's end (:meth:`Sizes.overflowed`) and, when a capacity was too
  small, restores the chunk's starting state, grows the capacity and runs the
  chunk again. Real entries keep their order, so a chunk that fitted computed
  exactly what the exact policy computes.
"""

from __future__ import annotations

import torch

from neuromem.backends.torch.ragged import gather_rows

#: Pad entries write into this many distinct scratch cells: on a GPU, pads that all
#: hit one cell would serialise their atomic adds.
SPREAD = 4096

#: Capacity a selection starts with (bounded policy); the first chunk grows it.
INITIAL_CAPACITY = 64


def grow(needed: int, limit: int) -> int:
    """A capacity that holds ``needed`` with a margin (at most ``limit``, at least 1)."""
    return max(1, min(limit, needed + needed // 2 + INITIAL_CAPACITY))


class Sizes:
    """Capacities of the step loop's selections, keyed by name, and their device-side peaks.

    Parameters
    ----------
    bounded : bool
        Fixed capacities per chunk (no host read inside a chunk) when True;
        the true size of every selection, read when it is made, when False.
    device : torch.device
    """

    def __init__(self, bounded: bool, device: torch.device) -> None:
        self.bounded = bounded
        self.device = device
        self._capacity: dict[str, int] = {}
        self._peak: dict[str, torch.Tensor] = {}
        self._ramps: dict[tuple[int, torch.dtype], torch.Tensor] = {}
        self._scratch: dict[tuple[int, int], torch.Tensor] = {}

    def capacity(self, key: str, limit: int) -> int:
        """The capacity of selection ``key`` (at most ``limit`` entries are possible)."""
        capacity = self._capacity.get(key)
        if capacity is None:
            capacity = self._capacity[key] = max(1, min(limit, INITIAL_CAPACITY))
            self._peak[key] = torch.zeros((), dtype=torch.int64, device=self.device)
        return max(1, min(capacity, limit))

    def set_capacity(self, key: str, capacity: int) -> None:
        """Fix the capacity of ``key`` (tests force reruns with tiny capacities)."""
        self._capacity[key] = max(1, capacity)
        self._peak.setdefault(key, torch.zeros((), dtype=torch.int64, device=self.device))

    @property
    def keys(self) -> list[str]:
        return list(self._capacity)

    def record(self, key: str, needed: torch.Tensor) -> None:
        """Keep the largest ``needed`` (a device integer) of ``key`` since :meth:`clear`."""
        peak = self._peak[key]
        torch.maximum(peak, needed.reshape(()).to(torch.int64), out=peak)

    def clear(self) -> None:
        """Start a chunk: forget the peaks."""
        for peak in self._peak.values():
            peak.zero_()

    def overflowed(self) -> bool:
        """Whether a selection needed more than its capacity since :meth:`clear`.

        The one read of the device per chunk. Capacities that overflowed grow
        (the chunk reruns); after a chunk that fitted, those using less than
        half their capacity shrink (unused capacity is work in every step).
        """
        if not self._peak:
            return False
        keys = list(self._peak)
        peaks = dict(zip(keys, torch.stack([self._peak[key] for key in keys]).tolist()))
        over = [key for key in keys if peaks[key] > self._capacity[key]]
        changed = over if over else [key for key in keys if 2 * peaks[key] < self._capacity[key]]
        for key in changed:
            self._capacity[key] = grow(peaks[key], 2**62)
        if changed:
            # Ramps and scratch indices of old capacities are no longer used: memory stays bounded.
            self._ramps.clear()
            self._scratch.clear()
        return bool(over)

    def ramp(self, n: int, dtype: torch.dtype = torch.int64) -> torch.Tensor:
        """``arange(n)`` on the device, made once per length and dtype."""
        ramp = self._ramps.get((n, dtype))
        if ramp is None:
            ramp = self._ramps[(n, dtype)] = torch.arange(n, dtype=dtype, device=self.device)
        return ramp

    def scratch(self, first: int, n: int) -> torch.Tensor:
        """``n`` indices of scratch cells ``first ..`` (spread over :data:`SPREAD` cells)."""
        cells = self._scratch.get((first, n))
        if cells is None:
            cells = self._scratch[(first, n)] = self.ramp(n).remainder(SPREAD).add_(first)
        return cells

    # -- selections --------------------------------------------------------------------

    def nonzero(self, key: str, mask: torch.Tensor, pad: int) -> tuple[torch.Tensor, ...]:
        """Indices of the True entries of ``mask`` (bounded: padded to the capacity).

        As ``torch.nonzero(mask, as_tuple=True)`` in row-major order; pad
        entries (bounded only) have ``pad`` as their last index and 0 elsewhere
        (callers give ``pad`` a row without synapses).
        """
        if not self.bounded:
            return torch.nonzero(mask, as_tuple=True)
        flat = mask.reshape(-1)
        capacity = self.capacity(key, flat.numel())
        count = torch.count_nonzero(flat)
        self.record(key, count)
        index = torch.nonzero_static(flat, size=capacity, fill_value=0).view(-1)
        is_pad = self.ramp(capacity) >= count
        result = []
        for size in reversed(mask.shape[1:]):
            result.append(index.remainder(size))
            index = index.div(size, rounding_mode="floor")
        result.append(index)
        result[0].masked_fill_(is_pad, pad)
        return tuple(reversed(result))

    def valid(self, key: str, mask: torch.Tensor, limit: int) -> tuple[torch.Tensor, torch.Tensor | None]:
        """Positions of the True entries of the 1-d ``mask``, and which are real (None: all).

        Bounded: padded to the capacity with position 0 and flagged invalid.
        """
        if not self.bounded:
            return torch.nonzero(mask).view(-1), None
        capacity = self.capacity(key, limit)
        count = torch.count_nonzero(mask)
        self.record(key, count)
        index = torch.nonzero_static(mask, size=capacity, fill_value=0).view(-1)
        return index, self.ramp(capacity) < count

    def rows(self, key: str, pointer: torch.Tensor, rows: torch.Tensor, limit: int) -> Rows:
        """The synapse positions of CSR ``rows`` (see :class:`Rows`).

        ``pointer`` has one more entry than a plain CSR pointer (a row of no
        synapses for pad events). Exact: :func:`neuromem.backends.torch.ragged.gather_rows`.
        """
        if not self.bounded:
            positions, counts = gather_rows(pointer, rows)
            return Rows(positions, counts, positions.numel(), None)
        starts = pointer.index_select(0, rows)
        counts = pointer[1:].index_select(0, rows) - starts
        cumulative = torch.cumsum(counts, 0, dtype=counts.dtype)
        capacity = self.capacity(key, limit)
        self.record(key, cumulative[-1])
        # Counts clipped at the capacity: a pad run fills what is left, so the layout has
        # exactly ``capacity`` entries whatever happened (an overflowed chunk reruns).
        clipped = cumulative.clamp(max=capacity)
        fitted = torch.diff(clipped, prepend=clipped.new_zeros(1))
        used = clipped[-1:]
        lengths = torch.cat([fitted, capacity - used])
        # Entry j of event k sits at start_k + (j - first_k); pad entries read position 0.
        shift = torch.cat([starts - (clipped - fitted), -used])
        ramp = self.ramp(capacity, shift.dtype)
        positions = torch.repeat_interleave(shift, lengths, output_size=capacity).add_(ramp)
        valid = ramp < used
        return Rows(positions.masked_fill_(~valid, 0), lengths, capacity, valid)


class Rows:
    """Synapse positions of gathered CSR rows, in (event, synapse) order.

    ``counts``: entries per event (bounded: one more, the pad run);
    ``total``: entries; ``valid``: which entries are real (None: all are).
    """

    __slots__ = ("positions", "counts", "total", "valid")

    def __init__(self, positions: torch.Tensor, counts: torch.Tensor, total: int, valid: torch.Tensor | None) -> None:
        self.positions, self.counts, self.total, self.valid = positions, counts, total, valid

    def repeat(self, values: torch.Tensor) -> torch.Tensor:
        """Per-event ``values`` repeated for each of the event's entries."""
        if self.valid is not None:
            values = torch.cat([values, values.new_zeros(1)])
        return torch.repeat_interleave(values, self.counts, output_size=self.total)

    def redirect(self, index: torch.Tensor, scratch: torch.Tensor) -> torch.Tensor:
        """``index`` with pad entries sent to the ``scratch`` cells."""
        return index if self.valid is None else torch.where(self.valid, index, scratch)
