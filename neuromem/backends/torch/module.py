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
the cell reads only their difference (:mod:`neuromem.backends.torch.routes`):
the same sums up to float rounding, much less work for layered networks.

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
from collections.abc import Callable, Mapping, Sequence
from typing import NamedTuple

import numpy as np
import torch

from neuromem.backends.base import check_capabilities
from neuromem.backends.torch.currents import InjectedCurrents
from neuromem.backends.torch.layout import Layout
from neuromem.backends.torch.neurons import NeuronBlock, SpikeFunction, heaviside
from neuromem.backends.torch.routes import Routes
from neuromem.backends.torch.sources import ArraySchedule, PoissonSchedule
from neuromem.backends.torch.stepping import ModuleState, step_drive
from neuromem.backends.torch.synapses import StaticSynapses
from neuromem.errors import CapabilityError, ValidationError
from neuromem.spec import Network, SpikeSourceArray, checks

#: Cell parameters that ``train_time_constants`` makes trainable, where the cell has them.
TIME_CONSTANTS = ("tau_m", "tau_syn_E", "tau_syn_I")


class ModuleOutput(NamedTuple):
    """What a forward pass returns: per population, tensors of shape (time, batch, neurons).

    ``spikes`` (0/1, with a surrogate gradient) and ``v`` (mV, after each step's reset).
    """

    spikes: dict[str, torch.Tensor]
    v: dict[str, torch.Tensor]


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
        self.layout = Layout.of(network)
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
            if steps is not None and steps != found_steps:
                raise ValidationError(f"module: steps = {steps} but the inputs hold {found_steps} steps")
            if batch_size is not None and batch_size != found_batch:
                raise ValidationError(f"module: batch_size = {batch_size} but the inputs hold {found_batch} trials")
            return int(found_steps), int(found_batch)
        if steps is None:
            raise ValidationError("module: give inputs or the number of steps to run")
        return checks.count("module", "steps", steps), checks.count("module", "batch_size", batch_size or 1)

    def _source_spikes(
        self, inputs: Mapping[str, torch.Tensor], steps: int, batch: int, dtype: torch.dtype, device: torch.device
    ) -> torch.Tensor:
        """(time, batch, sources) spikes: the given inputs, else the network's own sources."""
        width = self.layout.n_total - self.layout.n_neurons
        parts = []
        for name in self.layout.source_names:
            if name in inputs:
                parts.append(inputs[name].to(dtype))
                continue
            part = torch.zeros(steps, batch, self.layout.sizes[name], dtype=dtype, device=device)
            cell = self.network.population(name).cell
            seeds = [self.seed + b for b in range(batch)]
            if isinstance(cell, SpikeSourceArray):
                ArraySchedule([cell] * batch, self.dt, device).fill(part, 0)
            else:
                PoissonSchedule(cell, seeds, self.dt, device).fill(part, 0)  # type: ignore[arg-type]
            parts.append(part)
        if not parts:
            return torch.zeros(steps, batch, width, dtype=dtype, device=device)
        return torch.cat(parts, dim=2)

    def _block_currents(
        self, inputs: Mapping[str, torch.Tensor], steps: int, batch: int, dtype: torch.dtype, device: torch.device
    ) -> list[torch.Tensor | None]:
        """Per block: (time, batch, neurons) injected current (nA), or None where there is none."""
        result: list[torch.Tensor | None] = []
        for b, block in enumerate(self.layout.blocks):
            given = [name for name in block.populations if name in inputs]
            scheduled = [self.currents.at(b, t) for t in range(steps)]
            if not given and all(c is None for c in scheduled):
                result.append(None)
                continue
            zeros = torch.zeros(block.size, dtype=dtype, device=device)
            total = torch.stack([zeros if c is None else c.to(dtype) for c in scheduled])[:, None, :]
            if given:
                parts = [
                    inputs[name].to(dtype)
                    if name in inputs
                    else torch.zeros(steps, batch, self.layout.sizes[name], dtype=dtype, device=device)
                    for name in block.populations
                ]
                total = total + torch.cat(parts, dim=2)
            result.append(total.expand(steps, batch, block.size))
        return result

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

    def _tables(self) -> list:
        """What propagation multiplies by, built from the current weights (keeps their graph)."""
        if self.routes is not None:
            return self.routes.matrices(dict(self.weights.items()))
        dtype, device = self._kind()
        merged = [self.weights[name] for name in self.static.projections]
        weights = torch.cat(merged) if merged else torch.zeros(0, dtype=dtype, device=device)
        return self.static.tables(weights)

    def _start(self, batch: int, blocks: Sequence[NeuronBlock]) -> ModuleState:
        return ModuleState(0, tuple(block.initial_state(batch) for block in blocks), {}, {}, None)

    def _tick(
        self,
        state: ModuleState,
        sources: torch.Tensor,
        currents: Sequence[torch.Tensor | None],
        blocks: Sequence[NeuronBlock],
        tables: list,
        spike_fn: SpikeFunction,
        decays: Mapping[str, float] | None = None,
    ) -> tuple[ModuleState, list[torch.Tensor]]:
        """One step: ``sources`` (batch, source channels), ``currents`` per block (batch, n) or None."""
        t, batch = state.tick, sources.shape[0]
        dtype, device = self._kind()
        # Copies: the caller's state stays as it was (step() is functional).
        pending = {k: dict(v) if isinstance(v, dict) else v for k, v in state.pending.items() if k != t}
        arriving = state.pending.get(t)
        if self.routes is not None:
            arriving = self.routes.arriving(arriving or {}, batch, dtype, device)
        if arriving is None:
            arriving = torch.zeros(batch, self.layout.n_channels, dtype=dtype, device=device)
        neurons, parts = [], []
        for b, block in enumerate(blocks):
            previous = state.neurons[b]
            if decays is not None:  # the online rule: no gradient through the membrane's past
                previous = type(previous)(*(x.detach() for x in previous))
            spikes, new = block(previous, arriving, currents[b], spike_fn)
            neurons.append(new)
            parts.append(spikes)
        traces = state.traces
        if self.routes is not None:
            emitted = {}
            for name in self.layout.offsets:
                if name in self.layout.source_names:
                    where = self.layout.slice(name)
                    start = where.start - self.layout.n_neurons
                    emitted[name] = sources[:, start : start + self.layout.sizes[name]]
                else:
                    b, where = self.layout.place(name)
                    emitted[name] = parts[b][:, where]
            route_traces = None
            if decays is not None:
                traces, route_traces = dict(traces), {}
                for index, route in enumerate(self.routes.routes):
                    if route.post in decays:
                        new_trace = emitted[route.pre].detach()
                        if index in traces:
                            new_trace = decays[route.post] * traces[index] + new_trace
                        traces[index] = route_traces[index] = new_trace
            self.routes.send(emitted, tables, t, pending, route_traces)
        else:
            emitted_all = torch.cat([*parts, sources], dim=1)
            for delay, contribution in self.static.contributions(emitted_all, tables):
                previous = pending.get(t + delay)
                pending[t + delay] = contribution if previous is None else previous + contribution
        return ModuleState(t + 1, tuple(neurons), pending, traces, state.schedules), parts

    def forward(
        self,
        inputs: Mapping[str, torch.Tensor] | None = None,
        steps: int | None = None,
        batch_size: int | None = None,
    ) -> ModuleOutput:
        """Run the network from t = 0.

        Parameters
        ----------
        inputs : mapping
            Population -> tensor (time, batch, neurons): spikes (0/1) replacing
            a spike-source population's own, or current (nA) injected into a
            neuron population, added to its current sources.
        steps, batch_size : int
            Needed only without inputs.
        """
        inputs = dict(inputs or {})
        self._check_inputs(inputs, 3)
        steps, batch = self._shape(inputs, steps, batch_size)
        dtype, device = self._kind()
        spike_fn = heaviside if self.step_forward and not torch.is_grad_enabled() else self.spike_fn
        sources = self._source_spikes(inputs, steps, batch, dtype, device)
        currents = self._block_currents(inputs, steps, batch, dtype, device)
        tables = self._tables()
        blocks = self._blocks(dtype, device)
        state = self._start(batch, blocks)
        recorded: dict[str, list[torch.Tensor]] = {name: [] for name in self.outputs}
        voltages: dict[str, list[torch.Tensor]] = {name: [] for name in self.outputs}
        places = {name: self.layout.place(name) for name in self.outputs}
        for t in range(steps):
            state, parts = self._tick(
                state, sources[t], [None if c is None else c[t] for c in currents], blocks, tables, spike_fn
            )
            for name, (b, where) in places.items():
                recorded[name].append(parts[b][:, where])
                voltages[name].append(state.neurons[b].v[:, where])  # type: ignore[attr-defined]
        return ModuleOutput(
            spikes={name: torch.stack(values) for name, values in recorded.items()},
            v={name: torch.stack(values) for name, values in voltages.items()},
        )

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
            the rule's update for this step (populations of one cell type share
            their block's tensors, which a later step's loss reaches too; the
            graph is freed as the state moves on). Needs ``propagation="projection"``.

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
            decays = self.trace_decays() if online is True else dict(online)  # type: ignore[arg-type]
            neurons = {p.name for p in self.network.populations if not p.is_source}
            for name, value in decays.items():
                if name not in neurons or not 0.0 <= float(value) <= 1.0:
                    raise ValidationError(
                        f"module: online[{name!r}] = {value!r} is not allowed; allowed: a neuron population of the"
                        " network and a trace decay in [0, 1]"
                    )
        dtype, device = self._kind()
        sources, currents = step_drive(self.layout, self.currents, state, inputs, batch, dtype, device)
        spike_fn = heaviside if self.step_forward and not torch.is_grad_enabled() else self.spike_fn
        blocks = self._blocks(dtype, device)
        state, spikes = self._tick(state, sources, currents, blocks, self._tables(), spike_fn, decays)
        places = {name: self.layout.place(name) for name in self.outputs}
        return state, ModuleOutput(
            spikes={name: spikes[b][:, where] for name, (b, where) in places.items()},
            v={name: state.neurons[b].v[:, where] for name, (b, where) in places.items()},  # type: ignore[attr-defined]
        )


def module(
    network: Network,
    dt: float = 0.1,
    dtype: str | torch.dtype = "float32",
    device: str | torch.device = "cpu",
    propagation: str = "auto",
    surrogate: str | Callable[[torch.Tensor], torch.Tensor] = "fast_sigmoid",
    train_time_constants: bool = False,
    freeze_plastic: bool = False,
    outputs: Sequence[str] | None = None,
    seed: int = 0,
) -> NetworkModule:
    """The network as a ``torch.nn.Module`` for training (see the module docstring).

    Parameters
    ----------
    network : Network
    dt : float
        Time step (ms).
    dtype, device
        As for :func:`neuromem.backends.torch.build`.
    propagation : {"auto", "dense", "event", "projection"}
        Static synapses as the simulation's merged dense matmuls or event-driven
        gathers (same values, same gradients, the simulation's spikes bit for
        bit), or ``"projection"``: one matmul per projection, excitatory and
        inhibitory pairs fused where the cell reads only their difference, and
        zero presynaptic steps skipped (:mod:`neuromem.backends.torch.routes`;
        the same sums up to float rounding, much less work for layered
        networks; needed by the online rule of :meth:`NetworkModule.step`).
    surrogate : str or callable
        Name of an ``snntorch.surrogate`` function of the build's list
        (:data:`neuromem.backends.base.SURROGATES`: ``"fast_sigmoid"``,
        ``"atan"``, ``"sigmoid"``...) with its default slope, or a function of
        ``V - threshold`` (mV) returning spikes with the gradient to use, e.g.
        ``snntorch.surrogate.fast_sigmoid(slope=2.0)``: slopes are per mV, and
        snnTorch's defaults assume thresholds of about 1. Another callable is
        used in the forward pass as well, also without gradients.
    train_time_constants : bool
        Make ``tau_m`` (and ``tau_syn_E``, ``tau_syn_I`` where the cell has them)
        of every neuron population parameters too.
    freeze_plastic : bool
        Train plastic projections' initial weights as static ones; otherwise
        a plastic projection is refused.
    outputs : sequence of str or None
        Populations whose spikes and voltages forward returns (default every neuron population).
    seed : int
        Trial b of the network's own Poisson sources draws with seed ``seed + b``.

    Raises
    ------
    CapabilityError
        A plastic projection without ``freeze_plastic``, or what the torch backend cannot run.
    ValidationError
        Bad options or a network invalid for ``dt``.
    """
    from neuromem.backends.base import check_build_memory, check_step_constants, resolve_surrogate
    from neuromem.backends.torch import DTYPES, NAME, PROPAGATION_MODES, capabilities, resolve_device

    if not isinstance(network, Network):
        raise ValidationError(f"module: network must be a Network, got {type(network).__name__}")
    check_capabilities(network, NAME, capabilities())
    dt = checks.positive("module", "dt", dt, "ms")
    network.validate(dt)
    checks.choice("module", "propagation", propagation, (*PROPAGATION_MODES, "projection"))
    if isinstance(dtype, str):
        checks.choice("module", "dtype", dtype, tuple(DTYPES))
        dtype = DTYPES[dtype]
    elif dtype not in DTYPES.values():
        raise ValidationError(f"module: dtype = {dtype!r} is not one of float32, float64")
    dtype_name = "float32" if dtype == torch.float32 else "float64"
    check_step_constants(network, dt, dtype_name)
    check_build_memory(network, dt, 1, 4 if dtype_name == "float32" else 8, NAME)
    plastic = [p.name for p in network.projections if p.is_plastic]
    if plastic:
        if not freeze_plastic:
            raise CapabilityError(
                f"module: feature plasticity on projection {plastic[0]!r} cannot be trained by gradient;"
                " pass freeze_plastic=True to train its weights as static ones"
            )
        network = dataclasses.replace(
            network,
            projections=tuple(dataclasses.replace(p, plasticity=None) for p in network.projections),
            _lists={},
        )
    spike_fn = surrogate if callable(surrogate) else resolve_surrogate(surrogate)
    return NetworkModule(
        network,
        dt,
        dtype,  # type: ignore[arg-type]
        resolve_device(device),
        propagation,
        spike_fn,
        # snnTorch's surrogates, by name or built with their own slope, step in the forward pass.
        not callable(surrogate) or getattr(surrogate, "__module__", "") == "snntorch.surrogate",
        train_time_constants,
        outputs,
        checks.count("module", "seed", seed, minimum=0),
    )
