r"""A differentiable view of a network: ``torch.nn.Module`` over the same engine.

:func:`module` turns a :class:`~neuromem.spec.Network` into a
:class:`NetworkModule` whose parameters are the weights of its projections
(and, on request, the time constants of its cells). ``forward(inputs)`` runs
the network for the length of the inputs and returns every step's spikes and
membrane potentials, with gradients through a surrogate threshold
(snnTorch's surrogates) for backpropagation through time.

It is the torch backend's own code, run functionally: the same layout and
cell blocks, the cell modules' step functions, the same synapse tables and
propagation modes (dense matmul or event-driven gathers, whose backward pass
is the matmul's, so both give the same gradients), the same spike sources and
current sources. ``propagation="projection"`` multiplies instead each
projection's own (pre, post) matrix, fusing excitatory/inhibitory pairs where
the cell reads only their difference (:mod:`neuromem.backends.torch.routes`),
with one neuron block per population and populations at rest skipped
(:mod:`neuromem.backends.torch.projection`): the same sums up to float
rounding, much less work for layered networks.

``initial_state(batch)`` and ``step(state, inputs)`` run one step at a time
(the state is carried between calls, not changed); ``step(..., online=True)``
is the online trace rule (OTTT): membranes detached from their past, weight
gradients taken with presynaptic eligibility traces. Nothing autograd needs is changed in place: the delay
buffer is a list of tensors that are replaced, not added into.

Without gradients (``torch.no_grad()``) and with an snnTorch surrogate
(by name or built, e.g. ``fast_sigmoid(slope=2.0)``: its forward pass is a step) the threshold is the simulation's own
step and reset (:class:`~neuromem.backends.torch.simulation.TorchSimulation`),
so the module gives the simulation's spikes and voltages exactly; a spike
function given as a callable is used as it is, forward pass included; :meth:`NetworkModule.to_network`
writes the trained weights back into a Network for every backend and exporter.

Examples
--------
>>> net = module(network, dt=1.0, surrogate="fast_sigmoid")        # doctest: +SKIP
>>> out = net({"inp": spikes})           # spikes: (time, batch, neurons) # doctest: +SKIP
>>> loss = ((out.spikes["out"].sum(0) - target) ** 2).mean()       # doctest: +SKIP
>>> loss.backward(); optimiser.step(); net.clamp_weights_()         # doctest: +SKIP
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence

import numpy as np
import torch

from neuromem.backends.torch.currents import InjectedCurrents
from neuromem.backends.torch.drive import block_currents, silent_sources, source_spikes, step_drive
from neuromem.backends.torch.layout import Layout
from neuromem.backends.torch.neurons import NeuronBlock, SpikeFunction, heaviside
from neuromem.backends.torch.projection import projection_tick
from neuromem.backends.torch.routes import Routes
from neuromem.backends.torch.sources import ArraySchedule, PoissonSchedule
from neuromem.backends.torch.stepping import ModuleOutput, ModuleState, StackedSteps, online_decays
from neuromem.backends.torch.synapses import StaticSynapses
from neuromem.errors import CapabilityError, ValidationError
from neuromem.spec import Network, SpikeSourceArray, checks

#: Cell parameters that ``train_time_constants`` makes trainable, where the cell has them.
TIME_CONSTANTS = ("tau_m", "tau_syn_E", "tau_syn_I")


class NetworkModule(torch.nn.Module):
    """A network as a trainable module (see :func:`module`)."""

    def __init__(
        self,
        network: Network,
        dt: float,
        dtype: torch.dtype,
        device: torch.device,
        propagation: str,
        spike_fn: SpikeFunction,
        step_forward: bool,
        train_time_constants: bool,
        outputs: Sequence[str] | None,
        seed: int,
    ) -> None:
        super().__init__()
        self.network, self.dt, self.seed = network, dt, seed
        self.spike_fn = spike_fn
        #: The spike function's forward pass is a step: without gradients the simulation's threshold is used.
        self.step_forward = step_forward
        # The projection mode gives every population its own block: no slicing, resting layers skipped.
        self.layout = Layout.of(network, per_population=propagation == "projection")
        self.propagation = propagation
        # The projection mode reads weights and index tables from StaticSynapses' event form (no dense copy).
        static_mode = "event" if propagation == "projection" else propagation
        self.static = StaticSynapses(network, self.layout, dt, static_mode, dtype, device)
        self.routes = Routes(network, self.layout, dt, device) if propagation == "projection" else None
        self.currents = InjectedCurrents(network, self.layout, dt, dtype, device)
        self._block_cache: dict[tuple[torch.dtype, torch.device], list[NeuronBlock]] = {}
        self.weights = torch.nn.ParameterDict(
            {
                name: torch.nn.Parameter(torch.as_tensor(self.static.weights[where], dtype=dtype, device=device))
                for name, where in self.static.weight_slices.items()
            }
        )
        #: Population -> {time constant: parameter (ms)}, when trained.
        self.time_constants = torch.nn.ModuleDict()
        if train_time_constants:
            for population in network.populations:
                if population.is_source:
                    continue
                taus = {
                    key: torch.nn.Parameter(
                        torch.tensor(float(getattr(population.cell, key)), dtype=dtype, device=device)
                    )
                    for key in TIME_CONSTANTS
                    if hasattr(population.cell, key)
                }
                self.time_constants[population.name] = torch.nn.ParameterDict(taus)
        neurons = [p.name for p in network.populations if not p.is_source]
        self.outputs = tuple(neurons if outputs is None else outputs)
        for name in self.outputs:
            if name not in neurons:
                raise ValidationError(
                    f"module: outputs names {name!r}, which is not a neuron population of the network"
                )
        #: Output population -> (block, its neurons in the block, whether it fills the block: then it is
        #: taken whole, as a slice would cost a copy in the backward pass).
        self._places = {}
        for name in self.outputs:
            b, where = self.layout.place(name)
            self._places[name] = (b, where, where.stop - where.start == self.layout.blocks[b].size)

    # -- parameters ------------------------------------------------------------------

    def clamp_weights_(self) -> None:
        """Clip every weight to >= 0 in place (the receptor gives the sign); call after an optimiser step."""
        with torch.no_grad():
            for weight in self.weights.values():
                weight.clamp_(min=0.0)

    def to_network(self) -> Network:
        """The network with the module's current weights (and time constants) written into it.

        Raises
        ------
        ValidationError
            A weight went negative or a time constant non-positive (call :meth:`clamp_weights_`).
        """
        projections = []
        for projection in self.network.projections:
            if projection.name in self.weights:
                weight = self.weights[projection.name].detach().cpu().numpy().astype(np.float64)
                if weight.size and weight.min() < 0:
                    raise ValidationError(
                        f"module: projection {projection.name!r} has weight {weight.min():g} < 0; weights keep their"
                        " receptor's sign, call clamp_weights_() after each optimiser step"
                    )
                projection = dataclasses.replace(projection, weight=weight, plasticity=None)
            projections.append(projection)
        populations = []
        for population in self.network.populations:
            trained = self.time_constants[population.name] if population.name in self.time_constants else {}
            changes = {key: float(value) for key, value in trained.items()}
            if any(value <= 0.0 for value in changes.values()):
                raise ValidationError(f"module: a time constant of population {population.name!r} is <= 0: {changes}")
            if changes:
                population = dataclasses.replace(population, cell=population.cell.replace(**changes))  # type: ignore[union-attr]
            populations.append(population)
        return dataclasses.replace(
            self.network, populations=tuple(populations), projections=tuple(projections), _lists={}
        )

    # -- running -----------------------------------------------------------------------

    def _blocks(self, dtype: torch.dtype, device: torch.device) -> list[NeuronBlock]:
        if not self.time_constants and (dtype, device) in self._block_cache:
            # Constants only, no state: reused between calls when no time constant is a parameter.
            return self._block_cache[(dtype, device)]
        overrides = {population: dict(taus.items()) for population, taus in self.time_constants.items()}
        blocks = [NeuronBlock(self.network, block, self.dt, dtype, device, overrides) for block in self.layout.blocks]
        if not self.time_constants:
            self._block_cache = {(dtype, device): blocks}
        return blocks

    def _shape(self, inputs: Mapping[str, torch.Tensor], steps: int | None, batch_size: int | None) -> tuple[int, int]:
        shapes = {tuple(x.shape[:2]) for x in inputs.values()}
        if len(shapes) > 1:
            raise ValidationError(f"module: inputs disagree on (time, batch): {sorted(shapes)}")
        if shapes:
            found_steps, found_batch = shapes.pop()
            if steps is not None and checks.count("module", "steps", steps) < found_steps:
                raise ValidationError(
                    f"module: steps = {steps} but the inputs hold {found_steps} steps; allowed: steps >= {found_steps}"
                    " (inputs may stop before the run does)"
                )
            if batch_size is not None and batch_size != found_batch:
                raise ValidationError(f"module: batch_size = {batch_size} but the inputs hold {found_batch} trials")
            return int(found_steps if steps is None else steps), int(found_batch)
        if steps is None:
            raise ValidationError("module: give inputs or the number of steps to run")
        return checks.count("module", "steps", steps), checks.count("module", "batch_size", batch_size or 1)

    def _kind(self) -> tuple[torch.dtype, torch.device]:
        reference = next(iter(self.weights.values()), None)
        if reference is None:
            return torch.get_default_dtype(), torch.device("cpu")
        return reference.dtype, reference.device

    def _check_inputs(self, inputs: Mapping[str, torch.Tensor], dims: int) -> None:
        for name, value in inputs.items():
            population = self.network.population(name)
            if value.dim() != dims or value.shape[-1] != population.size:
                shape = "(time, batch, " if dims == 3 else "(batch, "
                raise ValidationError(
                    f"module: inputs[{name!r}] has shape {tuple(value.shape)}; expected {shape}{population.size})"
                )

    def _tables(self, matrices: Mapping[tuple[str, str], torch.Tensor] | None = None) -> list:
        """What propagation multiplies by, built from the current weights (keeps their graph)."""
        if self.routes is not None:
            return self.routes.matrices(dict(self.weights.items()), matrices)
        if matrices:
            raise CapabilityError(
                f"module: feature matrices cannot be given with propagation = {self.propagation!r};"
                " allowed: 'projection'"
            )
        dtype, device = self._kind()
        merged = [self.weights[name] for name in self.static.projections]
        weights = torch.cat(merged) if merged else torch.zeros(0, dtype=dtype, device=device)
        return self.static.tables(weights)

    def _start(self, batch: int, blocks: Sequence[NeuronBlock]) -> ModuleState:
        initial = tuple(block.initial_state(batch) for block in blocks)
        return ModuleState(0, initial, {}, {}, None, (True,) * len(blocks))

    def _population_outputs(
        self, state: ModuleState, parts: Sequence[torch.Tensor | None]
    ) -> tuple[dict[str, torch.Tensor], dict[str, torch.Tensor]]:
        """This step's spikes and voltages (batch, n) of the output populations."""
        spikes, voltages = {}, {}
        for name, (b, where, whole) in self._places.items():
            part, v = parts[b], state.neurons[b].v  # type: ignore[attr-defined]
            if part is None:  # a skipped block: silent
                part = torch.zeros_like(v)
            spikes[name] = part if whole else part[:, where]
            voltages[name] = v if whole else v[:, where]
        return spikes, voltages

    def _tick(
        self,
        state: ModuleState,
        sources: torch.Tensor | None,
        currents: Sequence[torch.Tensor | None],
        blocks: Sequence[NeuronBlock],
        tables: list,
        spike_fn: SpikeFunction,
        decays: Mapping[str, float] | None = None,
        silent_sources: frozenset[str] | None = None,
        horizon: int | None = None,
    ) -> tuple[ModuleState, list[torch.Tensor | None]]:
        """One step: ``sources`` (batch, source channels; None: none emits), ``currents`` per block (batch, n)."""
        if self.routes is not None:
            return projection_tick(
                state,
                sources,
                currents,
                blocks,
                self.routes,
                tables,
                self.layout,
                spike_fn,
                decays,
                silent_sources,
                horizon,
            )
        t = state.tick
        batch = sources.shape[0] if sources is not None else state.neurons[0][0].shape[0]
        dtype, device = self._kind()
        if sources is None:
            sources = torch.zeros(batch, self.layout.n_total - self.layout.n_neurons, dtype=dtype, device=device)
        # Copies: the caller's state stays as it was (step() is functional).
        pending = {k: v for k, v in state.pending.items() if k != t}
        arriving = state.pending.get(t)
        if arriving is None:
            arriving = torch.zeros(batch, self.layout.n_channels, dtype=dtype, device=device)
        neurons, parts = [], []
        for b, block in enumerate(blocks):
            spikes, new = block(state.neurons[b], arriving, currents[b], spike_fn)
            neurons.append(new)
            parts.append(spikes)
        emitted_all = torch.cat([*parts, sources], dim=1)
        for delay, contribution in self.static.contributions(emitted_all, tables):
            previous = pending.get(t + delay)
            pending[t + delay] = contribution if previous is None else previous + contribution
        new_state = ModuleState(t + 1, tuple(neurons), pending, state.traces, state.schedules, state.resting)
        return new_state, parts  # type: ignore[return-value]

    def forward(
        self,
        inputs: Mapping[str, torch.Tensor] | None = None,
        steps: int | None = None,
        batch_size: int | None = None,
        matrices: Mapping[tuple[str, str], torch.Tensor] | None = None,
    ) -> ModuleOutput:
        """Run the network from t = 0.

        Parameters
        ----------
        inputs : mapping
            Population -> tensor (time, batch, neurons): spikes (0/1) replacing
            a spike-source population's own, or current (nA) injected into a
            neuron population, added to its current sources. They may hold
            fewer steps than ``steps``: nothing is given after their last step
            (a source given so is silent then, with no zeros stored or read).
        steps, batch_size : int
            Needed only without inputs (``steps``: or to run past their end).
        matrices : mapping
            ``(pre, post)`` -> (n_pre, n_post) matrix that replaces, for this
            pass, the weights of the projections from ``pre`` to ``post``
            (projection mode; :meth:`Routes.matrices
            <neuromem.backends.torch.routes.Routes.matrices>`): a layer's signed
            weights for its fused excitatory/inhibitory pair, with their gradient.
        """
        inputs = dict(inputs or {})
        self._check_inputs(inputs, 3)
        steps, batch = self._shape(inputs, steps, batch_size)
        dtype, device = self._kind()
        spike_fn = heaviside if self.step_forward and not torch.is_grad_enabled() else self.spike_fn
        sources = source_spikes(self.network, self.layout, inputs, steps, batch, self.dt, self.seed, dtype, device)
        currents = block_currents(self.layout, self.currents, inputs, steps, batch, dtype, device)
        tables = self._tables(matrices)
        blocks = self._blocks(dtype, device)
        state = self._start(batch, blocks)
        recorded: dict[str, list[torch.Tensor]] = {name: [] for name in self.outputs}
        voltages: dict[str, list[torch.Tensor]] = {name: [] for name in self.outputs}
        silent = silent_sources(self.layout, sources, inputs) if self.routes is not None else None
        for t in range(steps):
            state, parts = self._tick(
                state,
                sources[t] if t < sources.shape[0] else None,
                [None if c is None else c[t] for c in currents],
                blocks,
                tables,
                spike_fn,
                silent_sources=silent[t] if silent is not None and t < len(silent) else None,
                horizon=steps,
            )
            spikes, v = self._population_outputs(state, parts)
            for name in self.outputs:
                recorded[name].append(spikes[name])
                voltages[name].append(v[name])
        return ModuleOutput(spikes=StackedSteps(recorded), v=StackedSteps(voltages))

    # -- step by step (online training) -------------------------------------------------

    def initial_state(self, batch_size: int = 1) -> ModuleState:
        """The state at t = 0 for ``batch_size`` trials, to be advanced by :meth:`step`."""
        batch = checks.count("module", "batch_size", batch_size)
        dtype, device = self._kind()
        state = self._start(batch, self._blocks(dtype, device))
        schedules = []
        for name in self.layout.source_names:
            cell = self.network.population(name).cell
            if isinstance(cell, SpikeSourceArray):
                schedules.append(ArraySchedule([cell] * batch, self.dt, device))
            else:
                schedules.append(PoissonSchedule(cell, [self.seed + b for b in range(batch)], self.dt, device))  # type: ignore[arg-type]
        return state._replace(schedules=tuple(schedules))

    def trace_decays(self) -> dict[str, float]:
        """Per neuron population with a membrane time constant: ``exp(-dt / tau_m)``, the online rule's lambda."""
        result = {}
        for population in self.network.populations:
            tau = getattr(population.cell, "tau_m", None)
            if not population.is_source and tau is not None:
                result[population.name] = float(np.exp(-self.dt / float(tau)))
        return result

    def step(
        self,
        state: ModuleState,
        inputs: Mapping[str, torch.Tensor] | None = None,
        online: bool | Mapping[str, float] = False,
        matrices: Mapping[tuple[str, str], torch.Tensor] | None = None,
    ) -> tuple[ModuleState, ModuleOutput]:
        """Advance ``state`` by one step; returns the new state and this step's spikes and voltages.

        Parameters
        ----------
        state : ModuleState
            From :meth:`initial_state` or a previous call (not changed).
        inputs : mapping
            Population -> tensor (batch, neurons) for this step, as in :meth:`forward`.
        online : bool or mapping
            The online trace rule (OTTT, Xiao et al. 2022): the neurons'
            previous state is detached (no gradient through the membrane's
            past), and each projection's weight gradient uses the presynaptic
            trace ``a_t = lambda a_{t-1} + s_t`` in place of the spikes, with
            ``lambda`` the postsynaptic membrane's decay per step
            (:meth:`trace_decays`, or a mapping population -> lambda). A loss
            on this step's output then gives, by ``backward(retain_graph=True)``,
            the rule's update for this step (the input this step sends on is in
            a later step's graph too; the graph is freed as the state moves
            on). Needs ``propagation="projection"``.
        matrices : mapping
            As in :meth:`forward`, for this step.

        Returns
        -------
        (ModuleState, ModuleOutput)
            Output tensors have shape (batch, neurons), no time axis.
        """
        inputs = dict(inputs or {})
        self._check_inputs(inputs, 2)
        batch = state.neurons[0].v.shape[0] if state.neurons else 1  # type: ignore[attr-defined]
        for name, value in inputs.items():
            if value.shape[0] != batch:
                raise ValidationError(f"module: inputs[{name!r}] holds {value.shape[0]} trials; the state {batch}")
        decays: Mapping[str, float] | None = None
        if online is not False:
            if self.routes is None:
                raise CapabilityError(
                    f"module: feature online trace rule cannot run with propagation = {self.propagation!r};"
                    " allowed: 'projection'"
                )
            decays = online_decays(self.network, online, self.trace_decays())
        dtype, device = self._kind()
        sources, currents = step_drive(self.layout, self.currents, state, inputs, batch, dtype, device)
        spike_fn = heaviside if self.step_forward and not torch.is_grad_enabled() else self.spike_fn
        blocks = self._blocks(dtype, device)
        state, parts = self._tick(state, sources, currents, blocks, self._tables(matrices), spike_fn, decays)
        return state, ModuleOutput(*self._population_outputs(state, parts))
