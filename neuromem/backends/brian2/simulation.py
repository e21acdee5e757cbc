"""The Brian2 Simulation: the spec built as one Brian2 ``Network`` per build.

Brian2 objects get names from their position in the spec (``pop0``, ``proj1``,
...), not from global counters: the generated code then depends on the
network's structure only, so the ``cython`` target reuses its compiled
extensions across builds. Names need only be unique within one Network.

Trials are replicated groups: population P of size N becomes one group of
``B N`` neurons, neuron i of trial b at index ``b N + i``, and every projection
connects the copies of each trial. Each build owns its ``Clock`` and its
``Network`` and passes explicit namespaces and code-object classes, so no
Brian2 global state (``defaultclock``, magic networks, preferences) is used;
the one exception is Ctrl-C, see :func:`_ctrl_c_interrupts`.

Spike sources are ``SpikeGeneratorGroup`` objects whose spikes are set before
every run for that run's window: arrays from the spec or from ``inputs``,
Poisson trains from :func:`neuromem.spec.random.poisson_ticks` keyed by the
trial seed, so they are the very trains the torch backend draws.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager

import brian2
import numpy as np
from brian2 import ms

from neuromem.backends.base import TRACE_VARIABLES, RunInput, Simulation, normalise_inputs
from neuromem.backends.brian2.groups import neuron_group, source_group
from neuromem.backends.brian2.synapses import projection_synapses
from neuromem.cells.base import Brian2Model
from neuromem.record import Recording, SpikeTrains, stack_snapshots
from neuromem.spec import Network, SpikeSourceArray, SpikeSourcePoisson
from neuromem.spec.currents import injected_current, switch_ticks
from neuromem.spec.random import poisson_ticks


class Brian2Simulation(Simulation):
    """A network built on Brian2 (see :func:`neuromem.backends.brian2.build`)."""

    def __init__(
        self, network: Network, dt: float, batch_size: int, trial_seeds: list[int], codeobj_class: type
    ) -> None:
        self.network, self.dt, self.batch_size = network, dt, batch_size
        self.trial_seeds = trial_seeds
        self.codeobj_class = codeobj_class
        self.sizes = {p.name: int(p.size) for p in network.populations}  # type: ignore[arg-type]
        self.reset()

    @property
    def tick(self) -> int:
        return self._tick

    def reset(self) -> None:
        """Rebuild every Brian2 object: t = 0, initial state and weights."""
        net, batch, cls = self.network, self.batch_size, self.codeobj_class
        self.clock = brian2.Clock(dt=self.dt * ms, name="clock")
        objects: list[brian2.BrianObject] = []
        self.groups: dict[str, brian2.Group] = {}
        self.models: dict[str, Brian2Model] = {}
        for k, population in enumerate(net.populations):
            size = self.sizes[population.name] * batch
            if population.is_source:
                group = source_group(size, self.clock, cls, f"pop{k}")
            else:
                group, helpers, model = neuron_group(
                    population.cell,  # type: ignore[arg-type]
                    size,
                    self.dt,
                    net.scheme,
                    self.clock,
                    cls,
                    f"pop{k}",
                )
                objects.extend(helpers)
                self.models[population.name] = model
            self.groups[population.name] = group
            objects.append(group)
        self.synapses = {
            p.name: projection_synapses(
                net,
                p.name,
                self.groups[p.pre],
                self.groups[p.post],
                self.models[p.post],
                batch,
                self.dt,
                self.clock,
                cls,
                f"proj{k}",
            )
            for k, p in enumerate(net.projections)
        }
        objects.extend(synapses for synapses in self.synapses.values() if synapses is not None)
        self.spike_monitors = {
            probe.target: brian2.SpikeMonitor(self.groups[probe.target], codeobj_class=cls, name=f"spikes{k}")
            for k, probe in enumerate(net.probes)
            if probe.variable == "spikes"
        }
        # A sampled trace has its own clock of every_ms: it ticks on the multiples of every_ms / dt steps.
        self.trace_every = {
            (p.target, p.variable): p.every_steps(self.dt) for p in net.probes if p.variable in TRACE_VARIABLES
        }
        self.trace_monitors = {
            (probe.target, probe.variable): brian2.StateMonitor(
                self.groups[probe.target],
                self.models[probe.target].traces[probe.variable],
                record=True,
                when="end",
                order=10,
                clock=self._trace_clock(k, self.trace_every[(probe.target, probe.variable)]),
                codeobj_class=cls,
                name=f"trace{k}",
            )
            for k, probe in enumerate(net.probes)
            if probe.variable in TRACE_VARIABLES
        }
        objects.extend(self.spike_monitors.values())
        objects.extend(self.trace_monitors.values())
        self._due: dict[str, set[int]] = {}
        self._snapshots: dict[str, list[tuple[int, np.ndarray]]] = {}
        if any(p.variable == "weight" and p.every_ms is not None for p in net.probes):
            # Runs after every other operation of a tick: the weights after step n
            # are labelled n + 1, the number of steps done, as on the torch backend.
            objects.append(
                brian2.NetworkOperation(self._snapshot, when="end", order=20, clock=self.clock, name="snapshot")
            )
        self._currents = self._current_table()
        if self._currents:
            objects.append(
                brian2.NetworkOperation(self._inject, when="start", clock=self.clock, name="current_sources")
            )
        self.brian_network = brian2.Network(*objects, name="neuromem")
        self._tick = 0

    def _trace_clock(self, k: int, every: int) -> brian2.Clock:
        return self.clock if every == 1 else brian2.Clock(dt=every * self.dt * ms, name=f"traceclock{k}")

    def _current_table(self) -> dict[int, list[tuple[str, np.ndarray]]]:
        """Switch tick -> [(population, current of its neurons from then on)] for every trial.

        Summed over the sources in network order, exactly as the torch backend sums them.
        """
        table: dict[int, list[tuple[str, np.ndarray]]] = {}
        sources = self.network.current_sources
        for population in self.network.populations:
            size = self.sizes[population.name]
            for tick in switch_ticks(sources, population.name, self.dt):
                current = injected_current(sources, population.name, size, self.dt, tick)
                table.setdefault(tick, []).append((population.name, np.tile(current, self.batch_size)))
        return table

    def _inject(self, t: brian2.Quantity) -> None:
        tick = int(round(float(t / ms) / self.dt))
        for name, current in self._currents.get(tick, []):
            self.groups[name].i_inj[:] = current

    def _snapshot(self, t: brian2.Quantity) -> None:
        done = int(round(float(t / ms) / self.dt)) + 1
        for name, ticks in self._due.items():
            if done in ticks:
                self._snapshots[name].append((done, self.get_weights(name)))

    # -- weights -----------------------------------------------------------------------

    def get_weights(self, projection: str) -> np.ndarray:
        self.network.projection(projection)
        synapses = self.synapses[projection]
        if synapses is None:
            return np.zeros((self.batch_size, 0))
        return np.asarray(synapses.w[:], dtype=np.float64).reshape(self.batch_size, -1).copy()

    def set_weights(self, projection: str, weights: np.ndarray | float) -> None:
        array = self.weights_to_set(projection, weights)
        if self.synapses[projection] is not None:
            self.synapses[projection].w = array.ravel()

    # -- running -----------------------------------------------------------------------

    def _set_sources(self, inputs: Mapping[str, RunInput] | None, first: int, stop: int) -> None:
        """Give every source group its spikes of ticks ``first .. stop - 1``, all trials."""
        overrides = normalise_inputs(self.network, inputs, self.batch_size)
        for population in self.network.populations:
            if not population.is_source:
                continue
            size = self.sizes[population.name]
            indices, ticks = [], []
            for b in range(self.batch_size):
                given = overrides[population.name][b] if population.name in overrides else population.cell
                neuron, tick = self._source_ticks(given, b, first, stop)
                indices.append(neuron + b * size)
                ticks.append(tick)
            index, tick = np.concatenate(indices), np.concatenate(ticks)
            # Two spikes of one neuron on one tick are one spike, as in the torch backend.
            unique = np.unique(np.stack([tick, index]), axis=1) if index.size else np.zeros((2, 0), dtype=np.int64)
            self.groups[population.name].set_spikes(unique[1], unique[0] * self.dt * ms)

    def _source_ticks(
        self, source: SpikeSourceArray | SpikeSourcePoisson, trial: int, first: int, stop: int
    ) -> tuple[np.ndarray, np.ndarray]:
        """(neuron, tick) of the spikes of one source in trial ``trial`` and ticks ``first .. stop - 1``."""
        if isinstance(source, SpikeSourceArray):
            neuron, tick = source.neuron, source.ticks(self.dt)
            keep = (tick >= first) & (tick < stop)
            return neuron[keep], tick[keep]
        lo = max(first, int(round(source.start / self.dt)))
        hi = stop
        if not np.isinf(source.duration):
            hi = min(stop, int(round((source.start + source.duration) / self.dt)))
        probability = source.probability(self.dt)
        origin = int(round(source.start / self.dt))
        return poisson_ticks(source.seed, self.trial_seeds[trial], source.size, probability, lo, hi, origin=origin)

    def _snapshot_ticks(self, every: int, start: int, stop: int) -> set[int]:
        """Ticks (steps done) of a run whose weights a periodic probe records, as on torch."""
        return {k for k in range(start + 1, stop + 1) if k % every == 0}

    def run(self, duration: float, inputs: Mapping[str, RunInput] | None = None) -> Recording:
        steps = self.duration_steps(duration)
        self.check_recording(steps)
        start, stop = self._tick, self._tick + steps
        self._set_sources(inputs, start, stop)
        spike_marks = {name: monitor.num_spikes for name, monitor in self.spike_monitors.items()}
        trace_marks = {key: monitor.t[:].size for key, monitor in self.trace_monitors.items()}
        weight_probes = [p for p in self.network.probes if p.variable == "weight"]
        self._snapshots = {p.target: [] for p in weight_probes}
        self._due = {
            p.target: self._snapshot_ticks(p.every_steps(self.dt), start, stop)
            for p in weight_probes
            if p.every_ms is not None
        }
        if steps:
            try:
                with _ctrl_c_interrupts():
                    self.brian_network.run(steps * self.dt * ms, namespace={})
            finally:
                # After Ctrl-C the network stands at the last step begun, as the torch backend does.
                self._tick = int(round(float(self.clock.t / ms) / self.dt))
            if self._tick != stop:
                raise RuntimeError(f"Brian2 clock at tick {self._tick}, expected {stop}")
        snapshots = self._snapshots
        for probe in weight_probes:
            if probe.every_ms is None or not snapshots[probe.target]:
                snapshots[probe.target].append((self._tick, self.get_weights(probe.target)))
        return self._recording(start, spike_marks, trace_marks, snapshots)

    def _recording(
        self,
        start: int,
        spike_marks: dict[str, int],
        trace_marks: dict[tuple[str, str], int],
        snapshots: dict[str, list[tuple[int, np.ndarray]]],
    ) -> Recording:
        dt_s = self.dt * 1e-3
        spikes = {}
        for name, monitor in self.spike_monitors.items():
            mark, size = spike_marks[name], self.sizes[name]
            index = np.asarray(monitor.i[:], dtype=np.int64)[mark:]
            tick = np.rint(np.asarray(monitor.t_[:])[mark:] / dt_s).astype(np.int64)
            spikes[name] = SpikeTrains.from_arrays(index // size, index % size, tick)
        traces = {}
        for key, monitor in self.trace_monitors.items():
            values = np.asarray(getattr(monitor, self.models[key[0]].traces[key[1]])[:], dtype=np.float64)[
                :, trace_marks[key] :
            ]
            size = self.sizes[key[0]]
            traces[key] = values.reshape(self.batch_size, size, -1).transpose(0, 2, 1).copy()
        weights = stack_snapshots(snapshots)
        return Recording(
            dt=self.dt,
            start_tick=start,
            stop_tick=self._tick,
            batch_size=self.batch_size,
            sizes=dict(self.sizes),
            spikes=spikes,
            traces=traces,
            weights=weights,
            trace_every={key: every for key, every in self.trace_every.items() if every != 1},
        )


@contextmanager
def _ctrl_c_interrupts() -> Iterator[None]:
    """Let Ctrl-C raise ``KeyboardInterrupt`` inside a Brian2 run.

    Brian2's import installs a SIGINT handler that, while a network runs, only
    asks the run to stop after the current step: ``Network.run`` then returns
    normally with fewer steps done than asked, and a caller would take a cut
    run for a whole one. With ``core.stop_on_keyboard_interrupt`` off, the
    handler passes Ctrl-C on to the previous (Python's) handler. The user's
    own setting is restored afterwards.
    """
    preferences = brian2.prefs
    before = preferences["core.stop_on_keyboard_interrupt"]
    preferences["core.stop_on_keyboard_interrupt"] = False
    try:
        yield
    finally:
        preferences["core.stop_on_keyboard_interrupt"] = before
