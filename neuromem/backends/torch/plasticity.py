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

from neuromem.backends.torch.capacity import SPREAD, Sizes
from neuromem.backends.torch.layout import Layout
from neuromem.backends.torch.ragged import csr_order
from neuromem.backends.torch.synapses import INT32_LIMIT, InputBuffer
from neuromem.errors import CapabilityError
from neuromem.spec import STDP, AdditiveWeightDependence, CA3PairRule, Network


class Arrivals:
    """The pairs of the presynaptic spikes arriving at one tick, and what their update reuses.

    ``flat``: the pairs' indices into the (batch, synapses) weights; ``post``:
    each pair's postsynaptic neuron; ``weight``: the weights delivered at this
    tick (None until delivered; no update runs between delivery and the
    rule's depression, so the rule reads them instead of gathering again).
    """

    __slots__ = ("tick", "trial", "synapse", "flat", "valid", "post", "weight")

    def __init__(
        self,
        tick: int,
        trial: torch.Tensor | None,
        synapse: torch.Tensor,
        flat: torch.Tensor,
        valid: torch.Tensor | None,
    ) -> None:
        self.tick, self.trial, self.synapse, self.flat, self.valid = tick, trial, synapse, flat, valid
        self.post: torch.Tensor | None = None
        self.weight: torch.Tensor | None = None


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
        # Pre and post the same neurons: a tick's postsynaptic spikes are the presynaptic
        # spikes that arrive ``delay`` ticks later, so their scan is kept for then.
        self.same_neurons = self.pre_slice == self.post_slice
        self.channel_offset = layout.channel(projection.post, projection.receptor)
        self.dt, self.dtype, self.device, self.batch = dt, dtype, device, batch
        self.pre = torch.as_tensor(lst.pre.copy(), device=device)
        self.post = torch.as_tensor(lst.post.copy(), device=device)
        order, pointer = csr_order(lst.pre, self.n_pre)
        self.by_pre = torch.as_tensor(order, device=device)
        # CSR pointers with one more row, without synapses: where pad events of bounded gathers point.
        self.pre_pointer = torch.as_tensor(np.append(pointer, pointer[-1]), device=device)
        self.max_pre_row = int(np.diff(pointer).max()) if self.n_pre else 0
        order, pointer = csr_order(lst.post, self.n_post)
        self.by_post = torch.as_tensor(order, device=device)
        self.post_pointer = torch.as_tensor(np.append(pointer, pointer[-1]), device=device)
        self.max_post_row = int(np.diff(pointer).max()) if self.n_post else 0
        # Per side, what a gather of its rows reads, and the names of its two selections (made once:
        # they are looked up every tick).
        self._sides = {
            side: (pointer, order, n, longest, f"{name}.{side}.events", f"{name}.{side}.entries")
            for side, pointer, order, n, longest in (
                ("pre", self.pre_pointer, self.by_pre, self.n_pre, self.max_pre_row),
                ("post", self.post_pointer, self.by_post, self.n_post, self.max_post_row),
            )
        }
        #: Sizes of the event gathers (the simulation sets its policy; exact by default).
        self.sizes = Sizes(False, device)
        self.initial_weight = torch.as_tensor(lst.weight.copy(), dtype=dtype, device=device)
        self.history_slots = self.delay + 1
        self.reset()

    @property
    def n_synapses(self) -> int:
        return int(self.pre.numel())

    @property
    def weight(self) -> torch.Tensor:
        """Per-trial weights (batch, synapses), a view of :attr:`store`."""
        return self._weight

    @weight.setter
    def weight(self, value: torch.Tensor) -> None:
        # The weights sit at the front of a flat store followed by scratch cells that the
        # pad entries of bounded gathers read and write.
        size = self.batch * self.n_synapses
        self.store = torch.zeros(size + SPREAD, dtype=self.dtype, device=self.device)
        self._weight = self.store[:size].view(self.batch, self.n_synapses)
        self._weight.copy_(value.reshape(self.batch, self.n_synapses))

    def reset(self) -> None:
        """Initial weights, empty traces and history."""
        self.weight = self.initial_weight.expand(self.batch, -1)
        self.x = torch.zeros(self.batch, self.n_pre, dtype=self.dtype, device=self.device)
        self.y = torch.zeros(self.batch, self.n_post, dtype=self.dtype, device=self.device)
        self.history = torch.zeros(self.history_slots, self.batch, self.n_pre, dtype=self.dtype, device=self.device)
        self._forget()

    def _forget(self) -> None:
        """Drop what was kept from earlier ticks (the state changed under it)."""
        self._arrived_at: Arrivals | None = None
        self._post_events: dict[int, tuple[torch.Tensor, torch.Tensor]] = {}

    def state(self) -> dict[str, torch.Tensor]:
        return {"weight": self.weight, "x": self.x, "y": self.y, "history": self.history}

    def load_state(self, state: dict[str, torch.Tensor]) -> None:
        for key, value in state.items():
            setattr(self, key, value.to(device=self.device, dtype=getattr(self, key).dtype).clone())
        self._forget()

    # -- helpers -----------------------------------------------------------------------
    # Pairs (trial, synapse) are kept as flat indices into the (batch, synapses) weights,
    # and every gather is an index_select: on a CPU several times faster than advanced indexing.

    def _synapses_of(
        self,
        events: torch.Tensor,
        side: str,
        found: tuple[torch.Tensor, torch.Tensor] | None = None,
    ) -> tuple[torch.Tensor | None, torch.Tensor, torch.Tensor, torch.Tensor | None]:
        """(trial or None for one trial, synapse, flat, valid) of the synapses in the rows with an event.

        ``side``: "pre" (rows of pre neurons) or "post"; ``found``: the (trial,
        row) of the events when already known. ``flat`` indexes :attr:`store`:
        pad entries of bounded gathers (``valid`` False; None when all are real)
        point at its scratch cells.
        """
        trial, synapse, _, flat, valid = self._rows_of(events, side, found)
        return trial, synapse, flat, valid

    def _rows_of(
        self,
        events: torch.Tensor,
        side: str,
        found: tuple[torch.Tensor, torch.Tensor] | None = None,
    ) -> tuple[torch.Tensor | None, torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor | None]:
        """:meth:`_synapses_of` and the pairs' positions in the side's CSR order."""
        pointer, order, n, longest, events_key, entries_key = self._sides[side]
        trial, row = self.sizes.nonzero(events_key, events, n) if found is None else found
        gathered = self.sizes.rows(entries_key, pointer, row, row.numel() * longest)
        positions = gathered.positions
        synapse = order.index_select(0, positions)
        trial = None if self.batch == 1 else gathered.repeat(trial)
        flat = self._flat(trial, synapse, self.n_synapses)
        if gathered.valid is not None:
            flat = gathered.redirect(flat, self.sizes.scratch(self.batch * self.n_synapses, gathered.total))
        return trial, synapse, positions, flat, gathered.valid

    @staticmethod
    def _flat(trial: torch.Tensor | None, index: torch.Tensor, width: int) -> torch.Tensor:
        """Flat index of ``(trial, index)`` into a contiguous (batch, width) tensor."""
        return index if trial is None else index + trial * width

    def _gather(self, values: torch.Tensor, flat: torch.Tensor) -> torch.Tensor:
        return values.view(-1).index_select(0, flat)

    def _arrived(self, tick: int) -> Arrivals:
        """Pairs of the pre spikes arriving at ``tick``, gathered once per tick."""
        if self._arrived_at is None or self._arrived_at.tick != tick:
            found = self._post_events.pop(tick - self.delay, None)
            trial, synapse, flat, valid = self._synapses_of(self.arrivals(tick), "pre", found)
            self._arrived_at = Arrivals(tick, trial, synapse, flat, valid)
        return self._arrived_at

    def _post_scan(self, tick: int, post_spikes: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """(trial, neuron) of the postsynaptic spikes of ``tick``; kept as that tick's pre events."""
        found = self.sizes.nonzero(self._sides["post"][4], post_spikes, self.n_post)
        if self.same_neurons:
            self._post_events.pop(tick - self.history_slots, None)
            self._post_events[tick] = found  # type: ignore[assignment]
        return found  # type: ignore[return-value]

    def _deliver(
        self,
        buffer: InputBuffer,
        arrival_tick: int,
        trial: torch.Tensor | None,
        synapse: torch.Tensor,
        flat: torch.Tensor,
        valid: torch.Tensor | None,
    ) -> None:
        """Add the current weights of the given pairs into the buffer at ``arrival_tick``."""
        if synapse.numel() == 0:
            return
        self._add(buffer, arrival_tick, trial, self.post.index_select(0, synapse), flat, valid)

    def _add(
        self,
        buffer: InputBuffer,
        arrival_tick: int,
        trial: torch.Tensor | None,
        post: torch.Tensor,
        flat: torch.Tensor,
        valid: torch.Tensor | None,
    ) -> torch.Tensor:
        """Add the weights at ``flat`` into the channels of ``post`` at ``arrival_tick``; returns the weights.

        Pad entries (``valid`` False) add into the buffer's scratch cells.
        """
        batch, width = buffer.data.shape[1], buffer.data.shape[2]
        slot = arrival_tick % buffer.slots
        target = post + (slot * batch * width + self.channel_offset)
        if trial is not None:
            target = target + trial * width
        if valid is not None:
            target = torch.where(valid, target, self.sizes.scratch(buffer.scratch, target.numel()))
        values = self.store.index_select(0, flat)
        buffer.add_flat(target, values)
        return values

    def arrivals(self, tick: int) -> torch.Tensor:
        """Pre spikes (batch, n_pre) arriving at ``tick`` (emitted at tick - delay)."""
        return self.history[(tick - self.delay) % self.history_slots]

    # -- the step ----------------------------------------------------------------------

    def before_neurons(self, tick: int, buffer: InputBuffer) -> None:
        """Deliver arrivals of this tick with the weights before its update."""
        if self.transmit_at == "arrival":
            arrivals = self._arrived(tick)
            if arrivals.synapse.numel():
                arrivals.post = self.post.index_select(0, arrivals.synapse)
                arrivals.weight = self._add(buffer, tick, arrivals.trial, arrivals.post, arrivals.flat, arrivals.valid)

    def after_neurons(self, tick: int, all_spikes: torch.Tensor, buffer: InputBuffer) -> None:
        """Record emissions, update weights and traces, deliver if at emission."""
        emitted = all_spikes[:, self.pre_slice]
        self.history[tick % self.history_slots] = emitted
        pairs = self.update(tick, emitted, all_spikes[:, self.post_slice])
        if pairs is not None:
            self._deliver(buffer, tick + self.delay, *pairs)

    def update(
        self, tick: int, emitted: torch.Tensor, post_spikes: torch.Tensor
    ) -> tuple[torch.Tensor | None, torch.Tensor, torch.Tensor, torch.Tensor | None] | None:
        """Update weights and traces; a rule that sends at emission returns the emitted spikes' pairs.

        Pairs as :meth:`_synapses_of` gives them."""
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
        # Factors as 0-d tensors of the weights' dtype: the same numbers the Python floats
        # become inside each operation, without converting them every step.
        scalar = lambda value: torch.tensor(value, dtype=self.dtype, device=self.device)  # noqa: E731
        self._decay_x, self._decay_y = scalar(self.decay_x), scalar(self.decay_y)
        w_max = rule.weight.w_max
        self._depress = scalar(rule.timing.A_minus * w_max)
        self._potentiate = scalar(rule.timing.A_plus * w_max)
        # The pre neuron of each synapse in by-post order: a post row's pre neurons are then read
        # from one contiguous range, not from synapses scattered over the whole list.
        index = torch.int32 if self.n_pre <= INT32_LIMIT else torch.int64
        self.pre_by_post = self.pre.index_select(0, self.by_post).to(index)

    def update(self, tick: int, emitted: torch.Tensor, post_spikes: torch.Tensor) -> None:
        timing, bounds = self.rule.timing, self.rule.weight
        arrived = self.arrivals(tick)
        self.x.mul_(self._decay_x)
        self.y.mul_(self._decay_y)
        weights = self.store
        arrivals = self._arrived(tick)
        if arrivals.synapse.numel():
            trial, flat = arrivals.trial, arrivals.flat
            # Delivered this tick, before any update: the weights the rule starts from.
            w = arrivals.weight if arrivals.weight is not None else weights.index_select(0, flat)
            post = arrivals.post if arrivals.post is not None else self.post.index_select(0, arrivals.synapse)
            y = self._gather(self.y, self._flat(trial, post, self.n_post))
            if self.additive:
                w = w - self._depress * y
            else:
                w = w - timing.A_minus * (w - bounds.w_min) * y
            # scatter_: index_copy_'s result (each pair appears once), at half its cost on a CPU.
            weights.scatter_(0, flat, w.clamp(bounds.w_min, bounds.w_max))
        found = self._post_scan(tick, post_spikes)
        trial, synapse, positions, flat, _ = self._rows_of(post_spikes, "post", found)
        if synapse.numel():
            w = weights.index_select(0, flat)
            x = self._gather(self.x, self._flat(trial, self.pre_by_post.index_select(0, positions), self.n_pre))
            if self.additive:
                w = w + self._potentiate * x
            else:
                w = w + timing.A_plus * (bounds.w_max - w) * x
            weights.scatter_(0, flat, w.clamp(bounds.w_min, bounds.w_max))
        if timing.pairing == "nearest":
            self.x = torch.where(arrived > 0, torch.ones_like(self.x), self.x)
            self.y = torch.where(post_spikes > 0, torch.ones_like(self.y), self.y)
        else:
            self.x.add_(arrived)
            self.y.add_(post_spikes)
        return None  # sends at arrival (before_neurons)


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

    def update(
        self, tick: int, emitted: torch.Tensor, post_spikes: torch.Tensor
    ) -> tuple[torch.Tensor | None, torch.Tensor, torch.Tensor, torch.Tensor | None]:
        rule = self.rule
        self.x.mul_(self.decay_x)
        self.y.mul_(self.decay_y)
        weights = self.store
        changed = []
        trial, synapse, flat, _ = self._synapses_of(post_spikes, "post")
        if synapse.numel():
            x = self._gather(self.x, self._flat(trial, self.pre.index_select(0, synapse), self.n_pre))
            weights.index_copy_(0, flat, weights.index_select(0, flat) + rule.amplitude_plus * x)
            changed.append(flat)
        pairs = trial, synapse, flat, _ = self._synapses_of(emitted, "pre")
        if synapse.numel():
            post = self._flat(trial, self.post.index_select(0, synapse), self.n_post)
            silent = 1.0 - self._gather(post_spikes.contiguous(), post)
            y = self._gather(self.y, post)
            weights.index_copy_(0, flat, weights.index_select(0, flat) - rule.amplitude_minus * y * silent)
            changed.append(flat)
        for flat in changed:
            weights.index_copy_(0, flat, weights.index_select(0, flat).clamp(rule.w_min, rule.w_max))
        arrived = self.arrivals(tick + 0) if self.delay > 0 else emitted
        if rule.pairing == "nearest":
            self.x = torch.where(arrived > 0, torch.ones_like(self.x), self.x)
            self.y = torch.where(post_spikes > 0, torch.ones_like(self.y), self.y)
        else:
            self.x.add_(arrived)
            self.y.add_(post_spikes)
        return pairs


RULES: dict[type, type[PlasticProjection]] = {STDP: STDPProjection, CA3PairRule: CA3Projection}
