"""Static synapses: the delay ring buffer and spike propagation.

All static projections are merged. A synapse targets a *channel*
``receptor * n_lif + post`` of the input buffer, so excitatory and inhibitory
inputs travel in one operation. Two propagation modes give identical sums:

* ``dense``: one (n_total, 2 n_lif) matrix per distinct delay; input is a matmul.
* ``event``: synapses sorted by pre (CSR); only the rows of neurons that
  spiked are gathered and added into the ring buffer (``index_add_``).
"""

from __future__ import annotations

import numpy as np
import torch

from neuromem.backends.torch.layout import Layout
from neuromem.backends.torch.ragged import csr_order, gather_rows
from neuromem.spec import Network

#: ``auto`` picks dense propagation while the dense matrices stay this small: on a CPU,
#: gathering the rows of the few neurons that spike wins as soon as networks grow.
DENSE_LIMIT_BYTES = 2**20


class InputBuffer:
    """Ring buffer of arriving input, shape (slots, batch, 2 n_lif) in nA.

    Slot ``t % slots`` holds what arrives at tick t.
    """

    def __init__(self, slots: int, batch: int, n_lif: int, dtype: torch.dtype, device: torch.device) -> None:
        self.slots = slots
        self.n_lif = n_lif
        self.data = torch.zeros(slots, batch, 2 * n_lif, dtype=dtype, device=device)

    def take(self, tick: int) -> tuple[torch.Tensor, torch.Tensor]:
        """Excitatory and inhibitory input arriving at ``tick``; clears the slot."""
        slot = self.data[tick % self.slots]
        arriving = slot.clone()
        slot.zero_()
        return arriving[:, : self.n_lif], arriving[:, self.n_lif :]

    def add(self, tick: int, values: torch.Tensor) -> None:
        """Add (batch, 2 n_lif) ``values`` to the slot of ``tick``."""
        self.data[tick % self.slots] += values

    def add_flat(self, flat_index: torch.Tensor, values: torch.Tensor) -> None:
        """Scatter-add into the flattened buffer."""
        self.data.view(-1).index_add_(0, flat_index, values)


class StaticSynapses:
    """All static projections of a network, merged, ready to propagate."""

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
        for projection in network.projections:
            if projection.is_plastic:
                continue
            lst = network.connection_list(projection.name)
            receptor = 0 if projection.receptor == "excitatory" else 1
            pre_parts.append(lst.pre + layout.offsets[projection.pre])
            channel_parts.append(receptor * layout.n_lif + lst.post + layout.offsets[projection.post])
            weight_parts.append(lst.weight)
            delay_parts.append(network.delay_steps(projection.name, dt))
        cat = lambda parts, kind: np.concatenate(parts) if parts else np.zeros(0, dtype=kind)  # noqa: E731
        pre = cat(pre_parts, np.int64)
        channel = cat(channel_parts, np.int64)
        weight = cat(weight_parts, np.float64)
        delay = cat(delay_parts, np.int64)
        self.n_synapses = int(pre.size)
        self.max_delay = int(delay.max()) if delay.size else 1
        self.delays = sorted(set(delay.tolist()))
        self.n_total, self.n_lif = layout.n_total, layout.n_lif
        dense_bytes = len(self.delays) * layout.n_total * 2 * layout.n_lif * torch.finfo(dtype).bits // 8
        self.mode = ("dense" if dense_bytes <= DENSE_LIMIT_BYTES else "event") if mode == "auto" else mode
        if self.mode == "dense":
            self.matrices: dict[int, torch.Tensor] = {}
            for d in self.delays:
                keep = delay == d
                matrix = np.zeros((layout.n_total, 2 * layout.n_lif))
                np.add.at(matrix, (pre[keep], channel[keep]), weight[keep])
                self.matrices[d] = torch.as_tensor(matrix, dtype=dtype, device=device)
        else:
            # One CSR table per delay value: the slot of a whole group is known, so a
            # spike costs only a gather of its row and one index_add.
            self.groups: list[tuple[int, torch.Tensor, torch.Tensor, torch.Tensor]] = []
            for d in self.delays:
                keep = delay == d
                order, pointer = csr_order(pre[keep], layout.n_total)
                self.groups.append(
                    (
                        d,
                        torch.as_tensor(pointer, device=device),
                        torch.as_tensor(channel[keep][order], device=device),
                        torch.as_tensor(weight[keep][order], dtype=dtype, device=device),
                    )
                )

    def propagate(self, spikes: torch.Tensor, tick: int, buffer: InputBuffer) -> None:
        """Send the spikes (batch, n_total) emitted at ``tick`` into ``buffer``."""
        if self.n_synapses == 0:
            return
        if self.mode == "dense":
            for d, matrix in self.matrices.items():
                buffer.add(tick + d, spikes @ matrix)
            return
        trial, neuron = torch.nonzero(spikes, as_tuple=True)
        if trial.numel() == 0:
            return
        width = buffer.data.shape[2]
        for d, pointer, channel, weight in self.groups:
            positions, counts = gather_rows(pointer, neuron)
            if positions.numel() == 0:
                continue
            target = channel[positions]
            values = weight[positions]
            if buffer.data.shape[1] > 1:
                target = target + torch.repeat_interleave(trial, counts, output_size=positions.numel()) * width
            if spikes.requires_grad:
                values = values * spikes[trial, neuron].repeat_interleave(counts, output_size=positions.numel())
            buffer.data[(tick + d) % buffer.slots].view(-1).index_add_(0, target, values)
