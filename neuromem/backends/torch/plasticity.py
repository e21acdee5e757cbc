"""Plastic projections on the torch backend: STDP and the CA3 pair rule.

Each plastic projection keeps per-trial weights (batch, synapses) in
connection-list order, with CSR pointers by pre and by post so that an update
touches only the rows and columns of neurons that had an event this tick.
Traces live per trial: x (batch, n_pre), y (batch, n_post).
The rules' equations are in :mod:`neuromem.spec.plasticity`.
"""

from __future__ import annotations

import math

import numpy as np
import torch

from neuromem.backends.torch.layout import Layout
from neuromem.backends.torch.ragged import csr_order, gather_rows
from neuromem.backends.torch.synapses import InputBuffer
from neuromem.errors import CapabilityError
from neuromem.spec import STDP, AdditiveWeightDependence, CA3PairRule, Network


class PlasticProjection:
    """Shared machinery: weights, CSR indices, pre-spike history, delivery."""

    #: "arrival": weight read when the spike arrives, before that tick's update.
    #: "emission": weight read right after the emission tick's update.
    transmit_at = "arrival"

    def __init__(
        self,
        network: Network,
        name: str,
        layout: Layout,
        dt: float,
        batch: int,
        dtype: torch.dtype,
        device: torch.device,
    ) -> None:
        projection = network.projection(name)
        lst = network.connection_list(name)
        delays = network.delay_steps(name, dt)
        if np.unique(delays).size > 1:
            raise CapabilityError(
                f"backend 'torch' does not support per-synapse delays on plastic projection {name!r}"
                " (feature plasticity:heterogeneous_delays); give the projection one delay"
            )
        self.name = name
        self.delay = int(delays[0]) if delays.size else 1
        self.n_pre, self.n_post = layout.sizes[projection.pre], layout.sizes[projection.post]
        self.pre_slice, self.post_slice = layout.slice(projection.pre), layout.slice(projection.post)
        self.channel_offset = layout.channel(projection.post, projection.receptor)
        self.dt, self.dtype, self.device, self.batch = dt, dtype, device, batch
        self.pre = torch.as_tensor(lst.pre.copy(), device=device)
        self.post = torch.as_tensor(lst.post.copy(), device=device)
        order, pointer = csr_order(lst.pre, self.n_pre)
        self.by_pre = torch.as_tensor(order, device=device)
        self.pre_pointer = torch.as_tensor(pointer, device=device)
        order, pointer = csr_order(lst.post, self.n_post)
        self.by_post = torch.as_tensor(order, device=device)
        self.post_pointer = torch.as_tensor(pointer, device=device)
        self.initial_weight = torch.as_tensor(lst.weight.copy(), dtype=dtype, device=device)
        self.history_slots = self.delay + 1
        self.reset()

    @property
    def n_synapses(self) -> int:
        return int(self.pre.numel())

    def reset(self) -> None:
        """Initial weights, empty traces and history."""
        self.weight = self.initial_weight.expand(self.batch, -1).clone()
        self.x = torch.zeros(self.batch, self.n_pre, dtype=self.dtype, device=self.device)
        self.y = torch.zeros(self.batch, self.n_post, dtype=self.dtype, device=self.device)
        self.history = torch.zeros(self.history_slots, self.batch, self.n_pre, dtype=self.dtype, device=self.device)

    def state(self) -> dict[str, torch.Tensor]:
        return {"weight": self.weight, "x": self.x, "y": self.y, "history": self.history}

    def load_state(self, state: dict[str, torch.Tensor]) -> None:
        for key, value in state.items():
            setattr(self, key, value.to(device=self.device, dtype=getattr(self, key).dtype).clone())

    # -- helpers -----------------------------------------------------------------------

    def _synapses_of(
        self, events: torch.Tensor, pointer: torch.Tensor, order: torch.Tensor
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """(trial, synapse) pairs of every synapse in the rows that had an event."""
        trial, row = torch.nonzero(events, as_tuple=True)
        positions, counts = gather_rows(pointer, row)
        return torch.repeat_interleave(trial, counts, output_size=positions.numel()), order[positions]

    def _deliver(self, buffer: InputBuffer, arrival_tick: int, spikes: torch.Tensor) -> None:
        """Add the weights of synapses whose pre neuron spiked into the buffer."""
        trial, synapse = self._synapses_of(spikes, self.pre_pointer, self.by_pre)
        if synapse.numel() == 0:
            return
        batch, width = buffer.data.shape[1], buffer.data.shape[2]
        slot = arrival_tick % buffer.slots
        flat = (slot * batch + trial) * width + self.channel_offset + self.post[synapse]
        buffer.add_flat(flat, self.weight[trial, synapse])

    def arrivals(self, tick: int) -> torch.Tensor:
        """Pre spikes (batch, n_pre) arriving at ``tick`` (emitted at tick - delay)."""
        return self.history[(tick - self.delay) % self.history_slots]

    # -- the step ----------------------------------------------------------------------

    def before_neurons(self, tick: int, buffer: InputBuffer) -> None:
        """Deliver arrivals of this tick with the weights before its update."""
        if self.transmit_at == "arrival":
            self._deliver(buffer, tick, self.arrivals(tick))

    def after_neurons(self, tick: int, all_spikes: torch.Tensor, buffer: InputBuffer) -> None:
        """Record emissions, update weights and traces, deliver if at emission."""
        emitted = all_spikes[:, self.pre_slice]
        self.history[tick % self.history_slots] = emitted
        self.update(tick, emitted, all_spikes[:, self.post_slice])
        if self.transmit_at == "emission":
            self._deliver(buffer, tick + self.delay, emitted)

    def update(self, tick: int, emitted: torch.Tensor, post_spikes: torch.Tensor) -> None:
        raise NotImplementedError


class STDPProjection(PlasticProjection):
    """Pair-based STDP with additive or multiplicative weight dependence."""

    transmit_at = "arrival"

    def __init__(self, network: Network, name: str, *args: object, **kwargs: object) -> None:
        rule = network.projection(name).plasticity
        assert isinstance(rule, STDP)
        self.rule = rule
        super().__init__(network, name, *args, **kwargs)  # type: ignore[arg-type]
        self.decay_x = math.exp(-self.dt / rule.timing.tau_plus)
        self.decay_y = math.exp(-self.dt / rule.timing.tau_minus)
        self.additive = isinstance(rule.weight, AdditiveWeightDependence)

    def update(self, tick: int, emitted: torch.Tensor, post_spikes: torch.Tensor) -> None:
        timing, bounds = self.rule.timing, self.rule.weight
        arrived = self.arrivals(tick)
        self.x.mul_(self.decay_x)
        self.y.mul_(self.decay_y)
        trial, synapse = self._synapses_of(arrived, self.pre_pointer, self.by_pre)
        if synapse.numel():
            w = self.weight[trial, synapse]
            scale = bounds.w_max if self.additive else (w - bounds.w_min)
            w = w - timing.A_minus * scale * self.y[trial, self.post[synapse]]
            self.weight[trial, synapse] = w.clamp(bounds.w_min, bounds.w_max)
        trial, synapse = self._synapses_of(post_spikes, self.post_pointer, self.by_post)
        if synapse.numel():
            w = self.weight[trial, synapse]
            scale = bounds.w_max if self.additive else (bounds.w_max - w)
            w = w + timing.A_plus * scale * self.x[trial, self.pre[synapse]]
            self.weight[trial, synapse] = w.clamp(bounds.w_min, bounds.w_max)
        if timing.pairing == "nearest":
            self.x = torch.where(arrived > 0, torch.ones_like(self.x), self.x)
            self.y = torch.where(post_spikes > 0, torch.ones_like(self.y), self.y)
        else:
            self.x.add_(arrived)
            self.y.add_(post_spikes)


class CA3Projection(PlasticProjection):
    """The CA3 pair rule: potentiation at pre arrival, depression at pre emission."""

    transmit_at = "emission"

    def __init__(self, network: Network, name: str, *args: object, **kwargs: object) -> None:
        rule = network.projection(name).plasticity
        assert isinstance(rule, CA3PairRule)
        self.rule = rule
        super().__init__(network, name, *args, **kwargs)  # type: ignore[arg-type]
        self.decay_x = math.exp(-self.dt / rule.tau_plus)
        self.decay_y = math.exp(-self.dt / rule.tau_minus)

    def update(self, tick: int, emitted: torch.Tensor, post_spikes: torch.Tensor) -> None:
        rule = self.rule
        self.x.mul_(self.decay_x)
        self.y.mul_(self.decay_y)
        changed = []
        trial, synapse = self._synapses_of(post_spikes, self.post_pointer, self.by_post)
        if synapse.numel():
            self.weight[trial, synapse] += rule.amplitude_plus * self.x[trial, self.pre[synapse]]
            changed.append((trial, synapse))
        trial, synapse = self._synapses_of(emitted, self.pre_pointer, self.by_pre)
        if synapse.numel():
            post = self.post[synapse]
            silent = 1.0 - post_spikes[trial, post]
            self.weight[trial, synapse] -= rule.amplitude_minus * self.y[trial, post] * silent
            changed.append((trial, synapse))
        for trial, synapse in changed:
            self.weight[trial, synapse] = self.weight[trial, synapse].clamp(rule.w_min, rule.w_max)
        arrived = self.arrivals(tick + 0) if self.delay > 0 else emitted
        if rule.pairing == "nearest":
            self.x = torch.where(arrived > 0, torch.ones_like(self.x), self.x)
            self.y = torch.where(post_spikes > 0, torch.ones_like(self.y), self.y)
        else:
            self.x.add_(arrived)
            self.y.add_(post_spikes)


RULES: dict[type, type[PlasticProjection]] = {STDP: STDPProjection, CA3PairRule: CA3Projection}
