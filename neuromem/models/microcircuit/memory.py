"""How many bytes the microcircuit's description holds, and what the full scale would need.

A spec network keeps every projection expanded: the connection list (int64
``pre`` and ``post``, float64 ``weight`` and ``delay``) and, for per-synapse
weights and delays, the Projection's own float64 arrays, and for a
``FromList`` its index arrays. :func:`spec_bytes` counts each buffer once.

Example
-------
>>> from neuromem.models.microcircuit import build_network
>>> usage = spec_bytes(build_network(scale=0.002))
>>> usage.synapses > 0 and usage.total > usage.synapses * 32
True
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import numpy as np

from neuromem.spec import Network


@dataclass(frozen=True)
class SpecBytes:
    """Bytes held by a network's expanded synapses.

    Attributes
    ----------
    synapses : int
        Number of synapses.
    connection_lists : int
        Bytes of the cached connection lists (pre, post, weight, delay).
    projection_arrays : int
        Bytes of arrays held by the projections themselves (per-synapse
        weights and delays, ``FromList`` indices), not shared with the lists.
    """

    synapses: int
    connection_lists: int
    projection_arrays: int

    @property
    def total(self) -> int:
        return self.connection_lists + self.projection_arrays

    @property
    def per_synapse(self) -> float:
        """Bytes per synapse (0 for a network without synapses)."""
        return self.total / self.synapses if self.synapses else 0.0


def _arrays(value: object) -> list[np.ndarray]:
    if isinstance(value, np.ndarray):
        return [value]
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        found: list[np.ndarray] = []
        for field in dataclasses.fields(value):
            found += _arrays(getattr(value, field.name))
        return found
    return []


def spec_bytes(network: Network) -> SpecBytes:
    """Count the bytes of every synapse array of ``network`` once (expanding its lists if needed)."""
    seen: set[int] = set()

    def distinct(arrays: list[np.ndarray]) -> int:
        total = 0
        for array in arrays:
            address = array.__array_interface__["data"][0]
            if array.nbytes and address not in seen:
                seen.add(address)
                total += array.nbytes
        return total

    lists = [network.connection_list(p.name) for p in network.projections]
    list_bytes = distinct([a for lst in lists for a in lst])
    own_bytes = distinct([a for p in network.projections for a in _arrays(p)])
    return SpecBytes(int(sum(lst.pre.size for lst in lists)), list_bytes, own_bytes)
