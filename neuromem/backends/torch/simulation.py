"""The torch Simulation: a thin loop over pure step functions.

Per tick (order of :mod:`neuromem.spec.schemes`): plastic arrivals are
delivered, the tick's input is taken from the ring buffer, each cell type's
block steps with its module's step function (:mod:`neuromem.cells`), source
spikes are read from the chunk schedule, all spikes propagate through the
static synapses, and plastic projections update (and deliver, for rules
that send the updated weight). Everything carries a leading batch dimension.

Which neurons spiked, and how many synapses their rows hold, is known only on
the device. With ``host_reads="never"`` (the default on CUDA) the steps of a
chunk never wait for the host: selections have fixed capacities, the device
records what they needed, and a chunk that needed more runs again from its
saved starting state (:mod:`neuromem.backends.torch.capacity`).
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Mapping
from typing import NamedTuple

import numpy as np
import torch

from neuromem.backends.base import TRACE_VARIABLES, RunInput, Simulation, normalise_inputs
from neuromem.backends.torch.capacity import Sizes
from neuromem.backends.torch.chunks import ChunkStart, sync_debug
from neuromem.backends.torch.currents import InjectedCurrents
from neuromem.backends.torch.fusion import fused_step
from neuromem.backends.torch.layout import Layout
from neuromem.backends.torch.neurons import NeuronBlock, SpikeFunction, heaviside, heaviside_events
from neuromem.backends.torch.plasticity import RULES, PlasticProjection
from neuromem.backends.torch.ragged import events, padded
from neuromem.backends.torch.recorder import ChunkRecorder
from neuromem.backends.torch.sources import ArraySchedule, PoissonSchedule
from neuromem.backends.torch.synapses import InputBuffer, StaticSynapses
from neuromem.errors import FileFormatError
from neuromem.record import Recording, SpikeTrains, stack_snapshots
from neuromem.spec import Network, SpikeSourceArray, SpikeSourcePoisson, checks

CHUNK_STEPS = 256
#: Decaying currents and traces are set to 0 below this magnitude every few steps:
#: left alone they sink into subnormal floats, which slow CPU arithmetic a hundredfold.
FLUSH_BELOW = 1e-20
FLUSH_EVERY = 8


class TorchSimulation(Simulation):
    """A network built on the torch backend (see :func:`neuromem.backends.torch.build`)."""

    def __init__(
        self,
        network: Network,
        dt: float,
        batch_size: int,
        device: torch.device,
        dtype: torch.dtype,
        trial_seeds: list[int],
        propagation: str,
        spike_fn: SpikeFunction = heaviside,
        progress: bool = False,
        fuse: bool = False,
        host_reads: str = "auto",
    ) -> None:
        self.network, self.dt, self.batch_size = network, dt, batch_size
        self.device, self.dtype = device, dtype
        self.trial_seeds = trial_seeds
        self.spike_fn = spike_fn
        # Heaviside spikes travel as booleans (event masks) through the step loop.
        self._step_fn = heaviside_events if spike_fn is heaviside else spike_fn
        self.progress = progress
        self.host_reads = checks.choice("TorchSimulation", "host_reads", host_reads, ("auto", "never", "allowed"))
        # Bounded sizes: no host read inside a chunk of steps (see capacity.py); the
        # default on CUDA, where each read stalls the stream. On a CPU a read costs nothing.
        bounded = host_reads == "never" or (host_reads == "auto" and device.type == "cuda")
        self.sizes = Sizes(bounded, device)
        #: The caller's CUDA sync-debug mode during a run, applied to the steps of each chunk.
        self._sync_mode = 0
        self.layout = Layout.of(network)
        self.blocks = [NeuronBlock(network, block, dt, dtype, device) for block in self.layout.blocks]
        # Cell types with an in-place update run it when spikes carry no gradient: same numbers,
        # fewer and cheaper operations per step (neuromem.cells.base.EventModel).
        self._event = [block.event_update() if self._step_fn is heaviside_events else None for block in self.blocks]
        # Fused updates (one compiled kernel per step instead of one per operation) replace both,
        # once checked to compute the same numbers (neuromem.backends.torch.fusion).
        self.fuse = fuse
        self._steps = [fused_step(block, self._step_fn) if fuse else block.step for block in self.blocks]
        if fuse:
            self._event = [None] * len(self.blocks)
        self.currents = InjectedCurrents(network, self.layout, dt, dtype, device)
        self._injected = [bool(ticks) for ticks in self.currents.switch_ticks]
        self._neurons = [block.neurons for block in self.layout.blocks]
        self.static = StaticSynapses(network, self.layout, dt, propagation, dtype, device)
        self.static.sizes = self.sizes
        self.plastic: dict[str, PlasticProjection] = {}
        for projection in network.projections:
            if projection.plasticity is not None:
                kernel = RULES[type(projection.plasticity)]
                self.plastic[projection.name] = kernel(
                    network, projection.name, self.layout, dt, batch_size, dtype, device
                )
                self.plastic[projection.name].sizes = self.sizes
        max_delay = max([self.static.max_delay] + [p.delay for p in self.plastic.values()])
        self.buffer_slots = max_delay + 1
        self.window_steps = self._window_steps()
        self.reset()

    def _window_steps(self) -> int:
        """Steps whose static spikes propagate together (NEST's min-delay interval).

        Nothing a step sends arrives before ``min_delay`` steps, so the spikes of
        that many steps can be gathered at once. Each buffer cell must still
        receive its inputs in step-by-step order: a plastic projection that adds
        at emission (the CA3 rule) interleaves with static propagation, so it
        keeps one step per window; arrival-time delivery (STDP) adds after every
        static input of its tick either way.
        """
        if any(p.transmit_at == "emission" for p in self.plastic.values()):
            return 1
        return max(1, self.static.min_delay)

    # -- state -------------------------------------------------------------------------

    @property
    def tick(self) -> int:
        return self._tick

    def reset(self) -> None:
        self.states = [self._working(b, block.initial_state(self.batch_size)) for b, block in enumerate(self.blocks)]
        self.buffer = InputBuffer(self.buffer_slots, self.batch_size, self.layout.n_channels, self.dtype, self.device)
        for projection in self.plastic.values():
            projection.reset()
        self._poisson: dict[str, PoissonSchedule] = {}
        self._views: tuple[torch.Tensor, list] | None = None  # type: ignore[type-arg]
        self._float_row: torch.Tensor | None = None
        self._zero = torch.zeros((), dtype=self.dtype, device=self.device)
        self._tick = 0

    def _working(self, b: int, state: NamedTuple) -> NamedTuple:
        """The state block ``b`` steps with, from its public state."""
        return state if self._event[b] is None else self.blocks[b].pack(state)

    def _public(self, b: int) -> NamedTuple:
        """The public state of block ``b`` (its cell type's ``TorchModel.state``)."""
        return self.states[b] if self._event[b] is None else self.blocks[b].unpack(self.states[b])

    def _state_keys(self, block: int) -> str:
        # One block keeps the keys checkpoints had before cell types were plug-ins.
        return "neurons." if len(self.blocks) == 1 else f"neurons.{self.blocks[block].name}."

    def state_dict(self) -> dict[str, torch.Tensor]:
        """All dynamic state as tensors (for checkpoints)."""
        self._clamp_counts()
        state = {}
        for b in range(len(self.states)):
            state.update({f"{self._state_keys(b)}{k}": v for k, v in self._public(b)._asdict().items()})  # type: ignore[attr-defined]
        state["buffer"] = self.buffer.data
        state["tick"] = torch.tensor(self._tick)
        for name, projection in self.plastic.items():
            state.update({f"plastic.{name}.{k}": v for k, v in projection.state().items()})
        return {k: v.detach().cpu().clone() for k, v in state.items()}

    def load_state_dict(self, state: Mapping[str, torch.Tensor]) -> None:
        """Restore :meth:`state_dict`; checks every key and shape first."""
        expected = self.state_dict()
        if set(state) != set(expected):
            missing, extra = sorted(set(expected) - set(state)), sorted(set(state) - set(expected))
            raise FileFormatError(f"checkpoint does not fit this simulation: missing {missing}, unexpected {extra}")
        for key, value in state.items():
            if tuple(value.shape) != tuple(expected[key].shape):
                raise FileFormatError(
                    f"checkpoint entry {key!r} has shape {tuple(value.shape)}, expected {tuple(expected[key].shape)}"
                )
        to = lambda t, like: t.to(device=self.device, dtype=like.dtype).clone()  # noqa: E731
        public = [self._public(b) for b in range(len(self.states))]
        self.states = [
            self._working(
                b,
                type(old)(**{k: to(state[f"{self._state_keys(b)}{k}"], v) for k, v in old._asdict().items()}),  # type: ignore[attr-defined]
            )
            for b, old in enumerate(public)
        ]
        self.buffer.data.copy_(state["buffer"])
        self._tick = int(state["tick"])
        for name, projection in self.plastic.items():
            projection.load_state({k: state[f"plastic.{name}.{k}"] for k in projection.state()})

    def memory_bytes(self) -> int:
        """Bytes held by the simulation's tensors: state, buffers, synapses and constants."""
        seen: set[int] = set()
        total = 0

        def count(value: object) -> None:
            nonlocal total
            if isinstance(value, torch.Tensor):
                # A view (the halves of a fused state tensor) holds its base's memory.
                value = value if value._base is None else value._base
                if value.data_ptr() not in seen:
                    seen.add(value.data_ptr())
                    total += value.numel() * value.element_size()
            elif isinstance(value, (list, tuple)):
                for item in value:
                    count(item)
            elif isinstance(value, dict):
                for item in value.values():
                    count(item)

        for holder in (self.states, self.buffer.data, vars(self.static), [b.k for b in self.blocks], self._event):
            count(holder)
        for projection in self.plastic.values():
            count(vars(projection))
        return total

    def get_weights(self, projection: str) -> np.ndarray:
        if projection in self.plastic:
            return self.plastic[projection].weight.detach().cpu().numpy().astype(np.float64)
        weights = self.network.connection_list(self.network.projection(projection).name).weight
        return np.broadcast_to(weights, (self.batch_size, weights.size)).copy()

    def set_weights(self, projection: str, weights: np.ndarray | float) -> None:
        array = self.weights_to_set(projection, weights)
        self.plastic[projection].weight = torch.as_tensor(array, dtype=self.dtype, device=self.device).contiguous()

    # -- running -----------------------------------------------------------------------

    def _schedules(self, inputs: Mapping[str, RunInput] | None) -> dict[str, ArraySchedule | PoissonSchedule]:
        overrides = normalise_inputs(self.network, inputs, self.batch_size)
        schedules: dict[str, ArraySchedule | PoissonSchedule] = {}
        for name in self.layout.source_names:
            cell = self.network.population(name).cell
            if name in overrides:
                schedules[name] = ArraySchedule(overrides[name], self.dt, self.device)
            elif isinstance(cell, SpikeSourceArray):
                schedules[name] = ArraySchedule([cell] * self.batch_size, self.dt, self.device)
            else:
                assert isinstance(cell, SpikeSourcePoisson)
                if name not in self._poisson:
                    self._poisson[name] = PoissonSchedule(cell, self.trial_seeds, self.dt, self.device)
                schedules[name] = self._poisson[name]
        return schedules

    def run(self, duration: float, inputs: Mapping[str, RunInput] | None = None) -> Recording:
        # The caller's torch.cuda.set_sync_debug_mode applies to the steps of each chunk only:
        # setting up a chunk and handing its recording back wait for the device by design.
        with sync_debug(self.device, 0) as self._sync_mode:
            return self._run(duration, inputs)

    def _run(self, duration: float, inputs: Mapping[str, RunInput] | None) -> Recording:
        steps = self.duration_steps(duration)
        self.check_recording(steps)
        schedules = self._schedules(inputs)
        probes = self.network.probes
        spike_probes = [p.target for p in probes if p.variable == "spikes"]
        trace_every = {(p.target, p.variable): p.every_steps(self.dt) for p in probes if p.variable in TRACE_VARIABLES}
        trace_probes = list(trace_every)
        weight_probes = [p for p in probes if p.variable == "weight"]
        start = self._tick
        layout, batch = self.layout, self.batch_size
        record = ChunkRecorder(trace_probes, [p.target for p in weight_probes])
        # Heaviside spikes are kept as booleans: scanning them for events costs half a float scan.
        # Boolean rows are padded to whole words for the word-wise event scan (ragged.events).
        boolean = self.spike_fn is heaviside
        width = padded(layout.n_total) if boolean else layout.n_total
        chunk = torch.zeros(
            min(CHUNK_STEPS, max(steps, 1)),
            batch,
            width,
            dtype=torch.bool if boolean else self.dtype,
            device=self.device,
        )
        # Views made once per run: per step, (the row for the event scan, its spikes, each block's part).
        rows = [
            (chunk[i : i + 1], chunk[i], [chunk[i, :, neurons] for neurons in self._neurons])
            for i in range(chunk.shape[0])
        ]
        windowed = self._windowed
        done = 0
        bar = _progress_bar(steps, self.progress)
        while done < steps:
            n = min(chunk.shape[0], steps - done)
            chunk.zero_()
            for name, schedule in schedules.items():
                schedule.fill(chunk[:n, :, layout.slice(name)], self._tick)
            for _ in self._attempts(chunk[:n], record):
                with self._chunk_steps():
                    for i in range(n):
                        self._step(rows[i])
                        if windowed and ((i + 1) % self.window_steps == 0 or i + 1 == n):
                            first = i + 1 - ((i % self.window_steps) + 1)
                            self._propagate(chunk[first : i + 1], self._tick - (i + 1 - first))
                        for key in trace_probes:
                            if (self._tick - 1) % trace_every[key]:
                                continue
                            record.trace(key, self._trace(*key))
                        for probe in weight_probes:
                            # Whole steps, not float modulo: (81 * 0.1) % 0.3 is not 0 and would skip a snapshot.
                            if probe.every_ms is not None and self._tick % probe.every_steps(self.dt) == 0:
                                record.snapshot(probe.target, self._tick, self._weights_now(probe.target))
            record.end_chunk(self._events(chunk[:n]), self._tick - n)
            done += n
            bar.update(n)
        bar.close()
        for probe in weight_probes:
            if probe.every_ms is None or not record.snapshots[probe.target]:
                record.snapshots[probe.target].append((self._tick, self.get_weights(probe.target)))
        return self._recording(start, record, spike_probes, trace_every)

    def _weights_now(self, projection: str) -> torch.Tensor | np.ndarray:
        """A plastic projection's weights on the device (copied by the recorder), else the static ones."""
        if projection in self.plastic:
            return self.plastic[projection].weight
        return self.get_weights(projection)

    # -- chunks with bounded sizes: rerun when a capacity overflowed ------------------------

    def _attempts(self, rows: torch.Tensor, record: ChunkRecorder) -> Iterator[None]:
        """Yields once per run of a chunk's steps over ``rows`` (which hold the source spikes).

        With bounded sizes the peaks are read after the steps (the chunk's one
        wait); when a capacity overflowed, the starting state, the source
        spikes and the recordings are restored and the chunk runs again with
        the grown capacities.
        """
        if not self.sizes.bounded:
            yield
            return
        plastic = list(self.plastic.values())
        saved = ChunkStart(self._tick, self._dynamic(), plastic, rows)
        while True:
            self.sizes.clear()
            yield
            if not self.sizes.overflowed():
                return
            self._tick = saved.restore(self._dynamic(), plastic, rows)
            record.discard_chunk()

    def _dynamic(self) -> list[torch.Tensor]:
        """Every tensor a step changes, in a fixed order."""
        tensors = [value for state in self.states for value in state]  # type: ignore[attr-defined]
        tensors.append(self.buffer.data)
        for projection in self.plastic.values():
            tensors += list(projection.state().values())
        return tensors

    @contextlib.contextmanager
    def _chunk_steps(self) -> Iterator[None]:
        """The steps of one chunk: the caller's CUDA sync-debug mode applies (see :meth:`run`)."""
        with sync_debug(self.device, self._sync_mode):
            yield

    def _trace(self, population: str, variable: str) -> torch.Tensor:
        """Copy of a state variable of ``population`` after the current step, (batch, size)."""
        b, where = self.layout.place(population)
        return getattr(self.states[b], variable)[:, where].detach().clone()

    def _step(self, views: tuple[torch.Tensor, torch.Tensor, list[torch.Tensor]]) -> None:
        """One tick into a chunk row: (row (1, batch, width >= n_total), its (batch, width) spikes,
        the spikes of each block); the row holds the source spikes on entry."""
        row, spikes_out, block_spikes = views
        tick = self._tick
        for projection in self.plastic.values():
            projection.before_neurons(tick, self.buffer)
        # The slot is read in place (each cell's step makes new tensors from it) and cleared after.
        arriving, inputs = self._slot_views()[tick % self.buffer.slots]
        for b, block in enumerate(self.blocks):
            exc, inh, both = inputs[b]
            i_ext = self.currents.at(b, tick) if self._injected[b] else None
            event = self._event[b]
            if event is not None:
                event[0](self.states[b], both, i_ext, event[1], block_spikes[b])
                continue
            spikes, self.states[b] = self._steps[b](self.states[b], exc, inh, i_ext, block.k, self._step_fn)
            block_spikes[b].copy_(spikes)
        arriving.zero_()
        if spikes_out.dtype == torch.bool and (self.plastic or self.static.mode == "dense"):
            spikes_out = self._as_float(spikes_out)
        if self.static.mode == "dense":
            self.static.propagate(spikes_out[:, : self.layout.n_total], tick, self.buffer)
        elif not self._windowed:
            self._propagate(row, tick)
        for projection in self.plastic.values():
            projection.after_neurons(tick, spikes_out, self.buffer)
        if tick % FLUSH_EVERY == 0:
            self._flush_tiny()
        self._tick = tick + 1

    def _as_float(self, spikes: torch.Tensor) -> torch.Tensor:
        """The boolean spikes (batch, width) as 0/1 floats, in a row reused every step.

        Read as bytes, the conversion is a fraction of a boolean one's cost. Its
        readers (dense propagation, plastic updates) use it within the step only.
        """
        row = self._float_row
        if row is None or row.shape != spikes.shape:
            row = self._float_row = torch.empty(spikes.shape, dtype=self.dtype, device=self.device)
        return row.copy_(spikes.view(torch.uint8))

    def _slot_views(self) -> list[tuple[torch.Tensor, list[tuple[torch.Tensor, torch.Tensor, torch.Tensor]]]]:
        """Per ring slot: the slot and each block's (excitatory, inhibitory, both) input views.

        Made once per buffer tensor: slicing every step costs more than the step's arithmetic.
        """
        data = self.buffer.data
        if self._views is None or self._views[0] is not data:
            slots = [data[s] for s in range(data.shape[0])]
            self._views = (
                data,
                [(slot, [(*block.inputs(slot), block.channels(slot)) for block in self.blocks]) for slot in slots],
            )
        return self._views[1]

    @property
    def _windowed(self) -> bool:
        """Whether static spikes propagate per window after the steps (else inside each step)."""
        return self.window_steps > 1 and self.static.mode == "event"

    def _events(self, spikes: torch.Tensor) -> tuple[torch.Tensor, ...]:
        """(step, trial, neuron) of the spikes of chunk rows (steps, batch, width)."""
        if spikes.dtype == torch.bool:
            return events(spikes)
        return torch.nonzero(spikes[..., : self.layout.n_total], as_tuple=True)

    def _propagate(self, spikes: torch.Tensor, first_tick: int) -> None:
        """Event-mode static propagation of chunk rows (steps, batch, width) from ``first_tick``."""
        if self.static.n_synapses == 0:
            return
        if self.sizes.bounded and not spikes.requires_grad:
            # Padding columns of boolean rows never spike: the whole contiguous row is compacted.
            step, trial, neuron = self.sizes.nonzero("static.events", spikes, self.layout.n_total)
        elif spikes.dtype != torch.bool:
            self.static.propagate_window(spikes[..., : self.layout.n_total], first_tick, self.buffer)
            return
        else:
            step, trial, neuron = events(spikes)
        self.static.propagate_events(step, trial, neuron, spikes.shape[0], first_tick, self.buffer)

    def _flush_tiny(self) -> None:
        """Zero currents and traces that have decayed below :data:`FLUSH_BELOW`."""
        tensors = [
            getattr(state, name)
            for b, (block, state) in enumerate(zip(self.blocks, self.states))
            for name in (block.model.torch.decaying if self._event[b] is None else block.model.torch.events.decaying)  # type: ignore[union-attr]
        ]
        for projection in self.plastic.values():
            tensors += [projection.x, projection.y]
        zero = self._zero
        for tensor in tensors:
            # tensor * (|tensor| >= FLUSH_BELOW) + 0: masked_fill_'s result to the bit (the + 0
            # turns -0.0 into 0.0; inf and nan pass as they are) at a fraction of a boolean mask's cost.
            magnitude = tensor.abs()
            keep = torch.ge(magnitude, FLUSH_BELOW, out=magnitude)
            torch.addcmul(zero, tensor, keep, out=tensor)
        self._clamp_counts()

    def _clamp_counts(self) -> None:
        """Refractory counts run below 0 between flushes (any value <= 0 means free); back to 0.

        In-place event steps keep their counts at 0 or above themselves."""
        for b, (block, state) in enumerate(zip(self.blocks, self.states)):
            if self._event[b] is not None:
                continue
            for name in block.model.torch.integer:
                getattr(state, name).clamp_(min=0)

    def _recording(
        self,
        start: int,
        record: ChunkRecorder,
        spike_probes: list[str],
        trace_every: dict[tuple[str, str], int],
    ) -> Recording:
        tick, trial, neuron = record.spike_arrays()
        spikes = {}
        for name in spike_probes:
            where = self.layout.slice(name)
            keep = (neuron >= where.start) & (neuron < where.stop)
            spikes[name] = SpikeTrains.from_arrays(trial[keep], neuron[keep] - where.start, tick[keep])
        trace_arrays = record.trace_arrays(self.batch_size, self.layout.sizes)
        weights = stack_snapshots(record.snapshots)
        return Recording(
            dt=self.dt,
            start_tick=start,
            stop_tick=self._tick,
            batch_size=self.batch_size,
            sizes=dict(self.layout.sizes),
            spikes=spikes,
            traces=trace_arrays,
            weights=weights,
            trace_every={key: every for key, every in trace_every.items() if every != 1},
        )


class _NoBar:
    def update(self, n: int) -> None:
        pass

    def close(self) -> None:
        pass


def _progress_bar(steps: int, enabled: bool) -> _NoBar:
    if not enabled:
        return _NoBar()
    from tqdm import tqdm

    return tqdm(total=steps, unit="step", mininterval=1.0, delay=2.0, leave=False)  # type: ignore[return-value]
