"""Packing of all populations into one index space, one block per cell type.

Neurons come first, grouped into one *block* per cell type (in the order
each type first appears; the populations of a type in network order, so
several populations of one type share a block and its tensors); spike
sources come after them. One spike vector of length ``n_total`` then serves
every projection, so all static projections merge into one set of
propagation tensors (few large operations instead of many small ones).
``Layout.of(network, per_population=True)`` gives each neuron population a
block of its own instead (the differentiable module's projection mode, where
a population at rest can skip its update).

Input channels: block ``b`` of ``n_b`` neurons starting at neuron ``s_b``
owns channels ``2 s_b .. 2 s_b + 2 n_b``: excitatory inputs of its neurons
first, inhibitory after. A network of one cell type thus has channel
``receptor * n + neuron``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from neuromem.spec import Network


@dataclass(frozen=True)
class Block:
    """Neurons of one cell type: packed indices ``start .. start + size``."""

    cell_type: str
    populations: tuple[str, ...]
    start: int
    size: int

    @property
    def neurons(self) -> slice:
        return slice(self.start, self.start + self.size)

    @property
    def exc_channels(self) -> slice:
        return slice(2 * self.start, 2 * self.start + self.size)

    @property
    def inh_channels(self) -> slice:
        return slice(2 * self.start + self.size, 2 * (self.start + self.size))


@dataclass(frozen=True)
class Layout:
    """Where each population lives in the packed index space."""

    offsets: dict[str, int]
    sizes: dict[str, int]
    blocks: tuple[Block, ...]
    source_names: tuple[str, ...]
    n_neurons: int
    n_total: int

    @classmethod
    def of(cls, network: Network, per_population: bool = False) -> Layout:
        """The layout of ``network``: one block per cell type, or per neuron population."""
        sizes = {p.name: int(p.size) for p in network.populations}  # type: ignore[arg-type]
        groups: dict[str, tuple[str, list[str]]] = {}
        for population in network.populations:
            if not population.is_source:
                cell_type = type(population.cell).__name__
                key = population.name if per_population else cell_type
                groups.setdefault(key, (cell_type, []))[1].append(population.name)
        offsets: dict[str, int] = {}
        blocks = []
        position = 0
        for cell_type, names in groups.values():
            start = position
            for name in names:
                offsets[name] = position
                position += sizes[name]
            blocks.append(Block(cell_type, tuple(names), start, position - start))
        n_neurons = position
        sources = tuple(p.name for p in network.populations if p.is_source)
        for name in sources:
            offsets[name] = position
            position += sizes[name]
        return cls(offsets, sizes, tuple(blocks), sources, n_neurons, position)

    @property
    def n_channels(self) -> int:
        """Width of the input buffer: two receptors per neuron."""
        return 2 * self.n_neurons

    def slice(self, name: str) -> slice:
        """Packed indices of population ``name``."""
        return slice(self.offsets[name], self.offsets[name] + self.sizes[name])

    def block_of(self, name: str) -> Block:
        """The block holding population ``name``."""
        for block in self.blocks:
            if name in block.populations:
                return block
        raise KeyError(name)

    def place(self, name: str) -> tuple[int, slice]:
        """Index of the block of population ``name`` and the population's neurons within it."""
        block = self.block_of(name)
        first = self.offsets[name] - block.start
        return self.blocks.index(block), slice(first, first + self.sizes[name])

    def channel(self, name: str, receptor: str) -> int:
        """First input channel of population ``name`` for ``receptor``."""
        block = self.block_of(name)
        first = block.exc_channels.start if receptor == "excitatory" else block.inh_channels.start
        return first + self.offsets[name] - block.start


def pack(
    parts: list[tuple[int, dict[str, object]]], dtype: torch.dtype, device: torch.device
) -> dict[str, torch.Tensor]:
    """Per-population values as per-neuron columns, one tensor per key.

    ``parts`` holds (size, values) per population. Python ints become int32
    columns; floats become ``dtype`` columns (built in float64 numpy first, so
    every backend sees the same numbers); a tensor value (a trained
    parameter) keeps its autograd graph.
    """
    columns: dict[str, torch.Tensor] = {}
    for key in parts[0][1]:
        values = [part[key] for _, part in parts]
        if any(isinstance(v, torch.Tensor) for v in values):
            columns[key] = torch.cat(
                [torch.as_tensor(v, dtype=dtype, device=device).expand(n) for (n, _), v in zip(parts, values)]
            )
        elif all(isinstance(v, int) and not isinstance(v, bool) for v in values):
            array = np.concatenate([np.full(n, v, dtype=np.int64) for (n, _), v in zip(parts, values)])
            columns[key] = torch.as_tensor(array, dtype=torch.int32, device=device)
        else:
            array = np.concatenate([np.full(n, float(v), dtype=np.float64) for (n, _), v in zip(parts, values)])  # type: ignore[arg-type]
            columns[key] = torch.as_tensor(array, dtype=dtype, device=device)
    return columns
