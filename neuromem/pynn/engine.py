"""The session: the PyNN network running on neuromem's torch engine.

``run(t)`` advances the one simulation the session holds. Before each piece of
a run the session compares what the PyNN objects describe with what the engine
was built from; if anything changed (parameters, weights, delays, recordings,
current amplitudes, new populations or projections) it builds the new network
and moves the state over, so successive runs continue one simulation:

* same neuron grouping and synapse layout: the engine's checkpoint is copied as is;
* otherwise: the state is moved neuron by neuron and synapse by synapse
  (:mod:`neuromem.pynn.carry`).

Injected currents are spec current sources of the network (:mod:`neuromem.pynn.electrodes`);
SpikeSourceArray spike times travel with every piece, so changing them costs no
rebuild. ``reset()`` drops the engine; the next run starts from the initial values.
"""

from __future__ import annotations

import numpy as np
import torch

from neuromem.backends import build
from neuromem.pynn import carry
from neuromem.pynn.celltypes import NEURON_TYPES
from neuromem.pynn.plan import Plan, build_plan
from neuromem.pynn.simulator import State
from neuromem.record import Recording


class Session:
    """One simulation on the torch engine, rebuilt under the PyNN network as it changes."""

    def __init__(self, state: State) -> None:
        self.state = state
        self.sim: object | None = None
        self.plan: Plan | None = None
        self.key: tuple | None = None
        self.pending: list[tuple[object, str, np.ndarray]] = []

    # -- life cycle ------------------------------------------------------------------------

    def drop(self) -> None:
        """Forget the engine (``reset``): the next run builds anew from the initial values."""
        self.sim, self.plan, self.key = None, None, None
        self.pending = []
        for projection in self.state.projections:
            projection._engine_weights_stale = True
        for recorder in self.state.recorders:
            recorder.new_segment()

    def state_changed(self, population: object, variable: str, indices: np.ndarray | None = None) -> None:
        """``initialize`` during a simulation: set ``variable`` of these neurons at the next run."""
        if self.sim is not None:
            where = np.arange(population.size) if indices is None else np.asarray(indices)  # type: ignore[attr-defined]
            self.pending.append((population, variable, where))

    # -- running ---------------------------------------------------------------------------

    def advance(self, steps: int) -> None:
        """Run ``steps`` steps (the engine applies the injected currents itself)."""
        self._piece(self.state.tick, self.state.tick + steps)

    def _piece(self, first: int, last: int) -> None:
        state = self.state
        key = (state.version,)
        if self.sim is None or key != self.key:
            self._switch(build_plan(state, first))
            self.key = key
        self._apply_pending()
        self._start_signals()
        assert self.sim is not None and self.plan is not None
        recording = self.sim.run((last - first) * state.dt, inputs=self.plan.inputs(state))  # type: ignore[attr-defined]
        for source in state.current_sources:
            # The applied current, for the source's get_data: its value at every switch within the run.
            for tick in sorted({first, *(int(t) for t in source.change_ticks() if first < t < last)}):
                source._applied(tick, source.amplitude_at(tick))
        state.tick = last
        self._dispatch(recording)

    def _switch(self, plan: Plan) -> None:
        """Build the engine of ``plan`` and carry the running state into it."""
        state = self.state
        new = build(
            plan.network,
            "torch",
            dt=state.dt,
            batch_size=state.batch,
            device=state.device,
            dtype=state.dtype,
            seed=state.seed,
        )
        self._initial_state(new, plan)
        if self.sim is not None and self.plan is not None:
            if self.plan.structure == plan.structure:
                new.load_state_dict(self.sim.state_dict())  # type: ignore[attr-defined]
            else:
                carry.restore(new, plan, carry.capture(self.sim, self.plan))
        for parts in plan.parts.values():
            for part in parts:
                projection = part.projection
                if projection.is_plastic and projection._engine_weights_stale and self.sim is not None:
                    values = np.abs(projection._parameters["weight"][part.synapses])
                    new.set_weights(part.name, values)
        for projection in state.projections:
            projection._engine_weights_stale = False
        self.sim, self.plan = new, plan

    def _initial_state(self, sim: object, plan: Plan) -> None:
        """Initial values (``initialize``) of every neuron of a fresh engine."""
        self._write_state(sim, plan, [(p, None) for p in self.state.populations])

    def _apply_pending(self) -> None:
        if self.pending:
            requests = [(population, indices) for population, _, indices in self.pending]
            self._write_state(self.sim, self.plan, requests)  # type: ignore[arg-type]
            self.pending = []

    def _write_state(self, sim: object, plan: Plan, requests: list[tuple[object, np.ndarray | None]]) -> None:
        """Write the initial values of the given neurons (None: all) into the engine state."""
        engine_state = sim.state_dict()  # type: ignore[attr-defined]
        for population, indices in requests:
            entry = NEURON_TYPES.get(type(population.celltype).__name__)  # type: ignore[attr-defined]
            if entry is None:
                continue
            chosen = np.zeros(population.size, dtype=bool)  # type: ignore[attr-defined]
            chosen[slice(None) if indices is None else indices] = True
            for variable, engine_variable in entry.state.items():
                initial = population.initial_values[variable].evaluate(simplify=False)  # type: ignore[attr-defined]
                values = np.broadcast_to(np.asarray(initial, dtype=np.float64), (population.size,))  # type: ignore[attr-defined]
                for group in plan.groups[id(population)]:
                    keep = chosen[group.members]
                    prefix, r = carry.place(sim, group.name)
                    tensor = engine_state[prefix + engine_variable]
                    column = tensor[:, r]
                    column[:, torch.as_tensor(keep)] = torch.as_tensor(values[group.members][keep], dtype=column.dtype)
                    tensor[:, r] = column
        sim.load_state_dict(engine_state)  # type: ignore[attr-defined]

    # -- recording -------------------------------------------------------------------------

    def _start_signals(self) -> None:
        """First samples of signals whose recording starts now: the engine state at this tick."""
        engine_state = None
        for population in self.state.populations:
            entry = NEURON_TYPES.get(type(population.celltype).__name__)
            recorder = population.recorder
            for variable in recorder.recorded_variables():
                if entry is None or variable == "spikes" or not recorder.needs_first(variable):
                    continue
                if engine_state is None:
                    engine_state = self.sim.state_dict()  # type: ignore[attr-defined]
                values = np.full((self.state.batch, population.size), np.nan)
                for group in self.plan.groups[id(population)]:  # type: ignore[union-attr]
                    prefix, r = carry.place(self.sim, group.name)
                    tensor = engine_state[prefix + entry.recordables[variable]].numpy()
                    values[:, group.members] = tensor[:, r]
                recorder.start_signal(variable, values)

    def _dispatch(self, recording: Recording) -> None:
        """Hand a run piece's spikes and samples to the recorders, in PyNN's neuron order."""
        assert self.plan is not None
        for population in self.state.populations:
            recorder = population.recorder
            groups = self.plan.groups[id(population)]
            entry = NEURON_TYPES.get(type(population.celltype).__name__)
            for variable in recorder.recorded_variables():
                if variable == "spikes":
                    for group in groups:
                        trains = recording.spikes[group.name]
                        recorder.add_spikes(trains.trial, group.members[trains.neuron], trains.tick)
                    continue
                assert entry is not None
                engine_variable = entry.recordables[variable]
                steps = recording.stop_tick - recording.start_tick
                values = np.full((self.state.batch, steps, population.size), np.nan)
                for group in groups:
                    trace = recording.traces.get((group.name, engine_variable))
                    if trace is not None:
                        values[:, :, group.members] = trace
                recorder.add_signal(variable, values)

    # -- weights ---------------------------------------------------------------------------

    def plastic_weights(self, projection: object) -> np.ndarray | None:
        """Current weights (nA, trial 0) of a plastic projection in PyNN's synapse order; None if not built."""
        if self.sim is None or self.plan is None or id(projection) not in self.plan.parts:
            return None
        weights = np.zeros(len(projection))  # type: ignore[arg-type]
        for part in self.plan.parts[id(projection)]:
            weights[part.synapses] = self.sim.get_weights(part.name)[0]  # type: ignore[attr-defined]
        return weights


__all__ = ["Session"]
