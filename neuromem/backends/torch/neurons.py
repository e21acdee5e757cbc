"""One state block per cell type: constants, state and the cell module's step.

The update itself lives in the cell type's module (:mod:`neuromem.cells`):
a pure function ``step(state, input_exc, input_inh, i_ext, k, spike_fn) ->
(spikes, state)`` over a ``NamedTuple`` of (batch, neurons) tensors. A
:class:`NeuronBlock` holds what that function reads: the per-neuron
constants ``k`` (one tensor per constant, several populations of the type
packed side by side) and the initial state.
"""

from __future__ import annotations

from collections import namedtuple
from collections.abc import Mapping
from typing import NamedTuple

import torch

from neuromem.backends.torch.layout import Block, pack
from neuromem.cells.base import SpikeFunction, heaviside, heaviside_events
from neuromem.cells.registry import CELL_MODELS
from neuromem.spec import Network

__all__ = ["NeuronBlock", "SpikeFunction", "heaviside", "heaviside_events"]


class NeuronBlock:
    """The neurons of one cell type, packed.

    Parameters
    ----------
    network : Network
    block : Block
        Where the block lies in the layout.
    dt : float
        Time step (ms).
    dtype, device
        Of every float tensor.
    overrides : mapping or None
        Population -> {parameter: tensor} of trained parameters that replace
        the cell's values when the constants are computed (the differentiable
        module's time constants).
    """

    def __init__(
        self,
        network: Network,
        block: Block,
        dt: float,
        dtype: torch.dtype,
        device: torch.device,
        overrides: Mapping[str, Mapping[str, torch.Tensor]] | None = None,
    ) -> None:
        self.block = block
        self.name = block.cell_type
        self.model = CELL_MODELS[block.cell_type]
        self.step = self.model.torch.steps[network.scheme]
        self.dtype, self.device = dtype, device
        constants, initial = [], []
        for name in block.populations:
            population = network.population(name)
            parameters: dict[str, object] = dict(population.cell.parameters())  # type: ignore[union-attr]
            parameters.update((overrides or {}).get(name, {}))
            size = int(population.size)  # type: ignore[arg-type]
            constants.append((size, self.model.torch.constants(parameters, dt, network.scheme)))  # type: ignore[arg-type]
            initial.append((size, self.model.torch.initial(population.cell)))  # type: ignore[arg-type]
        columns = pack(constants, dtype, device)
        self.k: NamedTuple = namedtuple(f"{self.name}Constants", list(columns))(**columns)  # type: ignore[call-arg]
        self.initial = pack(initial, dtype, device)

    def initial_state(self, batch: int) -> NamedTuple:
        """State at t = 0 for ``batch`` trials."""
        fields = {}
        for name in self.model.torch.state._fields:  # type: ignore[attr-defined]
            column = self.initial[name]
            if name in self.model.torch.integer:
                column = column.to(torch.int32)
            fields[name] = column.expand(batch, self.block.size).clone()
        return self.model.torch.state(**fields)  # type: ignore[no-any-return]

    def __call__(
        self,
        state: NamedTuple,
        arriving: torch.Tensor,
        i_ext: torch.Tensor | None,
        spike_fn: SpikeFunction = heaviside,
    ) -> tuple[torch.Tensor, NamedTuple]:
        """One step of the block; ``arriving`` is the whole (batch, channels) input of the tick."""
        exc, inh = self.inputs(arriving)
        return self.step(state, exc, inh, i_ext, self.k, spike_fn)

    def inputs(self, arriving: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Views of the block's excitatory and inhibitory inputs in a (batch, channels) tensor."""
        return arriving[:, self.block.exc_channels], arriving[:, self.block.inh_channels]
