"""Static synapses: the delay ring buffer and spike propagation.

All static projections are merged. A synapse targets an input *channel* of
its post neuron's block (:mod:`neuromem.backends.torch.layout`), so
excitatory and inhibitory inputs of every cell type travel in one
operation. Two propagation modes give identical sums:

* ``dense``: one (n_total, channels) matrix per distinct delay; input is a matmul.
* ``event``: synapses sorted by pre (CSR); only the rows of neurons that
  spiked are gathered and added into the ring buffer (``index_add_``).

The simulation adds into the ring buffer in place (:meth:`StaticSynapses.propagate`).
The differentiable module (:mod:`neuromem.backends.torch.module`) uses the same
tables functionally (:meth:`StaticSynapses.contributions`) with weights that
are parameters; event propagation then runs through :class:`EventPropagation`,
whose backward pass gives the gradients of the dense matmul.
"""

from __future__ import annotations

import numpy as np
import torch

from neuromem.backends.torch.capacity import SPREAD, Sizes
from neuromem.backends.torch.layout import Layout
from neuromem.backends.torch.ragged import csr_order, gather_rows
from neuromem.backends.torch.rows import RowTable, add_rows, row_ranges, row_tables
from neuromem.spec import Network

#: ``auto`` picks dense propagation while the dense matrices stay this small: on a CPU,
#: gathering the rows of the few neurons that spike wins as soon as networks grow.
DENSE_LIMIT_BYTES = 2**20
#: Index tensors are 32-bit while every index they hold stays below this.
INT32_LIMIT = 2**31 - 1


class InputBuffer:
    """Ring buffer of arriving input, shape (slots, batch, channels), in each cell's weight unit.

    Slot ``t % slots`` holds what arrives at tick t. The cells live at the front
    of :attr:`flat`, followed by :data:`SPREAD` scratch cells that pad entries
    of fixed-capacity gathers add into (:mod:`neuromem.backends.torch.capacity`).
    """

    def __init__(self, slots: int, batch: int, channels: int, dtype: torch.dtype, device: torch.device) -> None:
        self.slots = slots
        size = slots * batch * channels
        self.flat = torch.zeros(size + SPREAD, dtype=dtype, device=device)
        self.data = self.flat[:size].view(slots, batch, channels)
        #: Index of the first scratch cell of :attr:`flat`.
        self.scratch = size

    def take(self, tick: int) -> torch.Tensor:
        """Input (batch, channels) arriving at ``tick``; clears the slot."""
        slot = self.data[tick % self.slots]
        arriving = slot.clone()
        slot.zero_()
        return arriving

    def add(self, tick: int, values: torch.Tensor) -> None:
        """Add (batch, channels) ``values`` to the slot of ``tick``."""
        self.data[tick % self.slots] += values

    def add_flat(self, flat_index: torch.Tensor, values: torch.Tensor) -> None:
        """Scatter-add into the flattened buffer (scratch cells included)."""
        self.flat.index_add_(0, flat_index, values)


class StaticSynapses:
    """All static projections of a network, merged, ready to propagate.

    ``projections`` lists the merged projections in order; the weights of
    projection ``p`` sit at ``weight_slices[p]`` of the merged weight vector.
    """

    def __init__(
        self,
        network: Network,
        layout: Layout,
        dt: float,
        mode: str,
        dtype: torch.dtype,
        device: torch.device,
    ) -> None:
        pre_parts, channel_parts, weight_parts, delay_parts = [], [], [], []
        self.projections: list[str] = []
        self.weight_slices: dict[str, slice] = {}
        position = 0
        for projection in network.projections:
            if projection.is_plastic:
                continue
            lst = network.connection_list(projection.name)
            pre_parts.append(lst.pre + layout.offsets[projection.pre])
            channel_parts.append(layout.channel(projection.post, projection.receptor) + lst.post)
            weight_parts.append(lst.weight)
            delay_parts.append(network.delay_steps(projection.name, dt))
            self.projections.append(projection.name)
            self.weight_slices[projection.name] = slice(position, position + lst.pre.size)
            position += lst.pre.size
        cat = lambda parts, kind: np.concatenate(parts) if parts else np.zeros(0, dtype=kind)  # noqa: E731
        pre = cat(pre_parts, np.int64)
        channel = cat(channel_parts, np.int64)
        weight = cat(weight_parts, np.float64)
        delay = cat(delay_parts, np.int64)
        self.weights = weight
        self.n_synapses = int(pre.size)
        self.max_delay = int(delay.max()) if delay.size else 1
        self.delays = sorted(set(delay.tolist()))
        self.n_total, self.n_channels = layout.n_total, layout.n_channels
        self.dtype, self.device = dtype, device
        #: Sizes of the event gathers (the simulation sets its policy; exact by default).
        self.sizes = Sizes(False, device)
        dense_bytes = len(self.delays) * layout.n_total * layout.n_channels * torch.finfo(dtype).bits // 8
        self.mode = ("dense" if dense_bytes <= DENSE_LIMIT_BYTES else "event") if mode == "auto" else mode
        self.min_delay = int(delay.min()) if delay.size else self.max_delay
        self.matrices: dict[int, torch.Tensor] = {}
        self.dense_index: dict[int, tuple[torch.Tensor, torch.Tensor, torch.Tensor]] = {}
        self._groups: list[tuple[int, torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]] | None = None
        self.rows: list[RowTable] = []
        if self.mode == "dense":
            for d in self.delays:
                keep = np.nonzero(delay == d)[0]
                matrix = np.zeros((layout.n_total, layout.n_channels))
                np.add.at(matrix, (pre[keep], channel[keep]), weight[keep])
                self.matrices[d] = torch.as_tensor(matrix, dtype=dtype, device=device)
                self.dense_index[d] = tuple(torch.as_tensor(a, device=device) for a in (pre[keep], channel[keep], keep))  # type: ignore[assignment]
        else:
            # One CSR table over every delay: the spikes of a whole window of steps
            # (shorter than the smallest delay) propagate in one gather and one index_add.
            order, pointer = csr_order(pre, layout.n_total)
            # 32-bit indices where they fit: gathers and scatters move half the bytes.
            self.index_dtype = torch.int32 if max(self.n_synapses, layout.n_channels) < INT32_LIMIT else torch.int64
            self.pointer = torch.as_tensor(pointer, device=device).to(self.index_dtype)
            # One more row, without synapses: where pad events of bounded gathers point.
            self.pointer_pad = torch.cat([self.pointer, self.pointer[-1:]])
            self.channel = torch.as_tensor(channel[order], device=device).to(self.index_dtype)
            self.weight = torch.as_tensor(weight[order], dtype=dtype, device=device)
            self.delay = torch.as_tensor(delay[order], device=device).to(self.index_dtype)
            self.order = torch.as_tensor(order, device=device)
            #: Synapses of the longest row (bounds a gather's entries).
            self.max_row = int(np.diff(pointer).max()) if pointer.size > 1 else 0
            # With one delay, rows are gathered from padded tables (see rows.py).
            boundaries = sorted({*layout.offsets.values(), layout.n_total})
            ranges = row_ranges(pointer, boundaries) if len(self.delays) == 1 else None
            if ranges:
                self.rows = row_tables(ranges, pointer, channel[order], weight[order], self.index_dtype, dtype, device)
                # One more entry for the pad row of bounded gathers: in no table.
                table_of_row = np.full(layout.n_total + 1, len(ranges), dtype=np.int64)
                for k, (lo, hi) in enumerate(ranges):
                    table_of_row[lo:hi] = k
                self.table_of_row = torch.as_tensor(table_of_row, device=device)

    @property
    def groups(self) -> list[tuple[int, torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]]:
        """Per delay value: (delay, CSR pointer, channel, weight, merged position), built on first use.

        The differentiable module propagates one delay at a time; the simulation
        uses the all-delay table (:meth:`propagate_window`).
        """
        if self._groups is None:
            self._groups = []
            row = torch.repeat_interleave(
                torch.arange(self.n_total, device=self.device), self.pointer.diff().long(), output_size=self.n_synapses
            )
            for d in self.delays:
                keep = torch.nonzero(self.delay == d).view(-1)
                pointer = torch.zeros(self.n_total + 1, dtype=torch.int64, device=self.device)
                pointer[1:] = torch.cumsum(torch.bincount(row[keep], minlength=self.n_total), 0)
                self._groups.append((d, pointer, self.channel[keep].long(), self.weight[keep], self.order[keep]))
        return self._groups

    def propagate(self, spikes: torch.Tensor, tick: int, buffer: InputBuffer) -> None:
        """Send the spikes (batch, n_total) emitted at ``tick`` into ``buffer`` (in place)."""
        if self.n_synapses == 0:
            return
        if self.mode == "dense":
            for d, matrix in self.matrices.items():
                buffer.add(tick + d, spikes @ matrix)
            return
        self.propagate_window(spikes.unsqueeze(0), tick, buffer)

    def propagate_window(self, spikes: torch.Tensor, first_tick: int, buffer: InputBuffer) -> None:
        """Send the spikes (steps, batch, n_total) emitted at ticks ``first_tick ..`` (event mode)."""
        step, trial, neuron = torch.nonzero(spikes, as_tuple=True)
        values = spikes[step, trial, neuron] if spikes.requires_grad else None
        self.propagate_events(step, trial, neuron, spikes.shape[0], first_tick, buffer, values)

    def propagate_events(
        self,
        step: torch.Tensor,
        trial: torch.Tensor,
        neuron: torch.Tensor,
        steps: int,
        first_tick: int,
        buffer: InputBuffer,
        spike_values: torch.Tensor | None = None,
    ) -> None:
        """Send the events (step, trial, neuron) of a window of ``steps`` ticks from ``first_tick`` (event mode).

        The window must be no longer than :attr:`min_delay`, so nothing it sends
        arrives inside it. Events come in (step, trial, neuron) order and entries
        are added in (step, trial, neuron, synapse) order, so every buffer cell
        sums its inputs in the order a step-by-step propagation would: the
        results are bit-identical for any window length. ``spike_values``
        (differentiable spikes) scale the weights.
        """
        if neuron.numel() == 0:
            return
        if self.rows and spike_values is None:
            self._add_rows(step, trial, neuron, steps, first_tick, buffer)
            return
        found = self.sizes.rows("static.entries", self.pointer_pad, neuron, neuron.numel() * self.max_row)
        positions, total = found.positions, found.total
        if total == 0:
            return
        batch, width = buffer.data.shape[1], buffer.data.shape[2]
        # Flat target: slot (batch, channels) rows of the ring, trial rows, the channel.
        target = self.channel.index_select(0, positions)
        if buffer.flat.numel() >= INT32_LIMIT:
            target = target.long()
        kind = target.dtype
        if len(self.delays) == 1:
            # One delay: an event's slot and trial give one offset, spread to its synapses at once.
            base = ((first_tick + self.delays[0]) % buffer.slots) * batch * width
            if steps == 1 and batch == 1:
                target.add_(base)
            else:
                offset = (trial.to(kind) * width).add_(base) if batch > 1 else torch.full_like(step, base, dtype=kind)
                if steps > 1:
                    # Ticks past the ring's end wrap around: (first + d + step) % slots, per event.
                    slot = step.to(kind).add_(first_tick + self.delays[0]).remainder_(buffer.slots)
                    offset.add_(slot, alpha=batch * width).sub_(base)
                target.add_(found.repeat(offset))
        else:
            arrival = self.delay.index_select(0, positions).to(kind)
            if steps > 1:
                arrival.add_(found.repeat(step.to(kind)))
            arrival.add_(first_tick).remainder_(buffer.slots)
            target.add_(arrival, alpha=batch * width)
            if batch > 1:
                target.add_(found.repeat(trial.to(kind)), alpha=width)
        values = self.weight.index_select(0, positions)
        if spike_values is not None:
            values = values * found.repeat(spike_values)
        if found.valid is not None:
            # Pad entries (bounded gathers) add into the buffer's scratch cells.
            target = found.redirect(target, self.sizes.scratch(buffer.scratch, total).to(kind))
        # scatter_add_ adds in index order like index_add_ (on one CPU thread), about twice as fast.
        buffer.flat.scatter_add_(0, target.long(), values)

    def _add_rows(
        self,
        step: torch.Tensor,
        trial: torch.Tensor,
        neuron: torch.Tensor,
        steps: int,
        first_tick: int,
        buffer: InputBuffer,
    ) -> None:
        """One delay: each event's (slot, trial) offset, then its row from the padded tables.

        With one delay a slot receives the spikes of one step of the window only,
        so taking the tables one after another keeps each cell's step-by-step order.
        """
        batch, width = buffer.data.shape[1], buffer.data.shape[2]
        delay = self.delays[0]
        if steps == 1:
            offset = torch.full_like(neuron, ((first_tick + delay) % buffer.slots) * batch * width)
        else:
            offset = (step + (first_tick + delay)).remainder_(buffer.slots).mul_(batch * width)
        if batch > 1:
            offset.add_(trial, alpha=width)
        add_rows(self.rows, self.table_of_row, neuron, offset, buffer, self.sizes)

    # -- the functional path of the differentiable module -------------------------------

    def tables(self, weights: torch.Tensor) -> list[tuple[int, torch.Tensor]]:
        """Per delay, what :meth:`contributions` multiplies by: a dense matrix or CSR-ordered weights.

        ``weights`` is the merged weight vector (may require grad); built once per forward.
        """
        result = []
        if self.mode == "dense":
            for d, (pre, channel, keep) in self.dense_index.items():
                matrix = torch.zeros(self.n_total, self.n_channels, dtype=weights.dtype, device=weights.device)
                result.append((d, matrix.index_put((pre, channel), weights[keep], accumulate=True)))
        else:
            for d, _, _, _, keep in self.groups:
                result.append((d, weights[keep]))
        return result

    def contributions(
        self, spikes: torch.Tensor, tables: list[tuple[int, torch.Tensor]]
    ) -> list[tuple[int, torch.Tensor]]:
        """(delay, input (batch, channels)) of the spikes (batch, n_total), without touching any buffer."""
        if self.mode == "dense":
            return [(d, spikes @ matrix) for d, matrix in tables]
        out = []
        for (d, weights), (_, pointer, channel, _, _) in zip(tables, self.groups):
            out.append((d, EventPropagation.apply(spikes, weights, pointer, channel, self.n_channels)))
        return out


class EventPropagation(torch.autograd.Function):
    """``spikes @ W`` computed from the rows of the neurons that spiked.

    Forward gathers the synapses of the active rows (CSR ``pointer``,
    ``channel`` per synapse) and scatter-adds ``spike * w`` into the output.
    Backward is the dense matmul's: ``dL/dspike[b, i] = sum_s w_s dL/dout[b, c_s]``
    over the synapses s of row i, and ``dL/dw_s = sum_b spike[b, i_s] dL/dout[b, c_s]``,
    so a surrogate gradient reaches neurons that did not spike, exactly as in
    dense propagation.
    """

    @staticmethod
    def forward(  # type: ignore[override]
        ctx: torch.autograd.function.FunctionCtx,
        spikes: torch.Tensor,
        weights: torch.Tensor,
        pointer: torch.Tensor,
        channel: torch.Tensor,
        n_channels: int,
    ) -> torch.Tensor:
        ctx.save_for_backward(spikes, weights, pointer, channel)
        batch = spikes.shape[0]
        out = torch.zeros(batch * n_channels, dtype=weights.dtype, device=weights.device)
        trial, neuron = torch.nonzero(spikes, as_tuple=True)
        if trial.numel():
            positions, counts = gather_rows(pointer, neuron)
            if positions.numel():
                total = positions.numel()
                target = channel[positions] + torch.repeat_interleave(trial, counts, output_size=total) * n_channels
                values = weights[positions] * spikes[trial, neuron].repeat_interleave(counts, output_size=total)
                out.index_add_(0, target, values)
        return out.view(batch, n_channels)

    @staticmethod
    def backward(  # type: ignore[override]
        ctx: torch.autograd.function.FunctionCtx, grad: torch.Tensor
    ) -> tuple[torch.Tensor | None, torch.Tensor | None, None, None, None]:
        spikes, weights, pointer, channel = ctx.saved_tensors  # type: ignore[attr-defined]
        n_total = spikes.shape[1]
        row = torch.repeat_interleave(
            torch.arange(n_total, device=pointer.device), pointer[1:] - pointer[:-1], output_size=channel.numel()
        )
        at_target = grad[:, channel]  # (batch, synapses)
        grad_spikes = grad_weights = None
        if ctx.needs_input_grad[0]:  # type: ignore[attr-defined]
            grad_spikes = torch.zeros_like(spikes).index_add_(1, row, at_target * weights)
        if ctx.needs_input_grad[1]:  # type: ignore[attr-defined]
            grad_weights = (spikes[:, row] * at_target).sum(0)
        return grad_spikes, grad_weights, None, None, None
