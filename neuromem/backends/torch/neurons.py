"""One state block per cell type: constants, state and the cell module's step.

The update itself lives in the cell type's module (:mod:`neuromem.cells`):
a pure function ``step(state, input_exc, input_inh, i_ext, k, spike_fn) ->
(spikes, state)`` over a ``NamedTuple`` of (batch, neurons) tensors. A
:class:`NeuronBlock` holds what that function reads: the per-neuron
constants ``k`` (one tensor per constant, several populations of the type
packed side by side) and the initial state. A cell type may also give an
in-place update (:class:`neuromem.cells.base.EventModel`) that the
simulation runs when spikes carry no gradient (:meth:`NeuronBlock.event_update`).
"""

from __future__ import annotations

from collections import namedtuple
from collections.abc import Mapping
from typing import NamedTuple

import torch

from neuromem.backends.torch.layout import Block, pack
from neuromem.cells.base import EventStepFunction, SpikeFunction, heaviside, heaviside_events
from neuromem.cells.registry import CELL_MODELS
from neuromem.spec import Network

__all__ = ["NeuronBlock", "SpikeFunction", "heaviside", "heaviside_events"]


def _threshold(x: torch.Tensor) -> torch.Tensor:
    """Spikes where ``x >= 0`` through the blended (gradient) path of the cells' ``fire``."""
    return (x >= 0).to(x.dtype)


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
        self.scheme = network.scheme
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
        steps = columns.get("refractory_steps")
        if steps is not None and not steps.dtype.is_floating_point and not bool(steps.any()):
            # No neuron of the block is ever refractory: the int 0 lets ``fire`` skip the bookkeeping.
            columns["refractory_steps"] = 0  # type: ignore[assignment]
        self.has_trained_constants = bool(overrides) and any(overrides.values())  # type: ignore[union-attr]
        self._rests: bool | None = None
        self._zeros: torch.Tensor | None = None
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

    def zeros(self, batch: int) -> torch.Tensor:
        """A (batch, n) tensor of zeros: the input of a receptor nothing reaches (read, never written)."""
        if self._zeros is None or self._zeros.shape[0] != batch:
            self._zeros = torch.zeros(batch, self.block.size, dtype=self.dtype, device=self.device)
        return self._zeros

    @property
    def rests(self) -> bool:
        """Whether the initial state is a fixed point: with no input it stays as it is and emits no spike.

        Checked once by running the step (batch 1, no gradient, no input); a block
        whose constants carry a graph (trained time constants) never counts
        as resting, so every step of it stays in the graph.
        """
        if self._rests is None:
            self._rests = False
            if not self.has_trained_constants:
                with torch.no_grad():
                    state = self.initial_state(1)
                    zeros = torch.zeros(1, self.block.size, dtype=self.dtype, device=self.device)
                    # The gradient path's threshold (a plain callable): its count of a free neuron stays
                    # 0, where the simulation's may run below 0 (also free, but not the same numbers).
                    spikes, new = self.step(state, zeros, zeros, None, self.k, _threshold)
                    self._rests = not bool(spikes.any()) and all(
                        torch.equal(a, b) for a, b in zip(new, state, strict=True)
                    )
        return self._rests

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

    def channels(self, arriving: torch.Tensor) -> torch.Tensor:
        """View of all the block's input channels (batch, 2 n): excitatory, then inhibitory."""
        return arriving[:, self.block.exc_channels.start : self.block.inh_channels.stop]

    def event_update(self) -> tuple[EventStepFunction, NamedTuple] | None:
        """The cell type's in-place step for this scheme and the constants it reads, or None."""
        events = self.model.torch.events
        if events is None or self.scheme not in events.steps:
            return None
        return events.steps[self.scheme], events.constants(self.k)

    def pack(self, state: NamedTuple) -> NamedTuple:
        """The working state of the in-place step from a public state."""
        assert self.model.torch.events is not None
        return self.model.torch.events.pack(state, self.k)

    def unpack(self, working: NamedTuple) -> NamedTuple:
        """The public state of a working state."""
        assert self.model.torch.events is not None
        return self.model.torch.events.unpack(working)
