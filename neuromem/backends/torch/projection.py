"""One step of the differentiable module in its projection mode: per-population blocks, resting ones skipped.

In ``propagation="projection"`` the module lays out one neuron block per
population (:meth:`~neuromem.backends.torch.layout.Layout.of` with
``per_population=True``) and hands each block its own arrivals, as they
come from :class:`~neuromem.backends.torch.routes.Routes`: no (batch,
channels) input tensor is assembled and no population is sliced out of a
shared block (each slice would cost a copy in the backward pass).

A population whose state is still its initial one, which nothing reaches at
this step (no arrival, no current) and whose initial state is a fixed point
of its cell's step (:attr:`NeuronBlock.rests`) is not updated: its state
stays, its spikes are ``None`` (silent) and its routes send nothing (so
does a spike source at a step where it emits nothing). The
step it skips would have returned that same state and no spike, and no
gradient could flow through it (its constants carry no graph), so values and
gradients are those of the full update. In a layered network this is every
layer the input has not reached yet.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import torch

from neuromem.backends.torch.layout import Layout
from neuromem.backends.torch.neurons import NeuronBlock, SpikeFunction
from neuromem.backends.torch.routes import Routes
from neuromem.backends.torch.stepping import ModuleState


def projection_tick(
    state: ModuleState,
    sources: torch.Tensor | None,
    currents: Sequence[torch.Tensor | None],
    blocks: Sequence[NeuronBlock],
    routes: Routes,
    matrices: list[torch.Tensor],
    layout: Layout,
    spike_fn: SpikeFunction,
    decays: Mapping[str, float] | None = None,
    silent_sources: frozenset[str] | None = None,
    horizon: int | None = None,
) -> tuple[ModuleState, list[torch.Tensor | None]]:
    """One step; returns the new state and per block its spikes (batch, n), or None where it was skipped.

    ``sources`` (batch, source channels; None: none emits), ``currents`` per block (batch, n) or
    None; ``decays`` (population -> lambda) runs the online trace rule;
    ``silent_sources`` names the sources known to emit nothing at this step
    (None: each source is checked here); ``horizon`` is the tick a run ends
    at (no input is sent beyond it).
    """
    t, batch = state.tick, state.neurons[0][0].shape[0] if state.neurons else 1
    # Copies: the caller's state stays as it was (step() is functional).
    pending = {k: dict(v) for k, v in state.pending.items() if k != t}
    arrivals = state.pending.get(t, {})
    resting = state.resting or (False,) * len(blocks)
    neurons, parts, still = [], [], []
    for b, block in enumerate(blocks):
        name = block.block.populations[0]
        exc = arrivals.get((name, "excitatory"))
        inh = arrivals.get((name, "inhibitory"))
        previous = state.neurons[b]
        if resting[b] and exc is None and inh is None and currents[b] is None and block.rests:
            neurons.append(previous)
            parts.append(None)
            still.append(True)
            continue
        if decays is not None:  # the online rule: no gradient through the membrane's past
            previous = type(previous)(*(x.detach() for x in previous))
        if exc is None or inh is None:
            zeros = block.zeros(batch)
            exc = zeros if exc is None else exc
            inh = zeros if inh is None else inh
        spikes, new = block.step(previous, exc, inh, currents[b], block.k, spike_fn)
        neurons.append(new)
        parts.append(spikes)
        still.append(False)
    emitted: dict[str, torch.Tensor | None] = {}
    for name in layout.source_names:
        where = layout.slice(name)
        start = where.start - layout.n_neurons
        if sources is None:
            emitted[name] = None
            continue
        spikes = sources[:, start : start + layout.sizes[name]]
        if silent_sources is None:
            silent = not spikes.requires_grad and not bool(spikes.any())
        else:
            silent = name in silent_sources
        # A silent source sends nothing (zeros would add nothing and pass no gradient).
        emitted[name] = None if silent else spikes
    for b, block in enumerate(blocks):
        emitted[block.block.populations[0]] = parts[b]
    traces = state.traces
    route_traces = None
    if decays is not None:
        traces, route_traces = dict(traces), {}
        for index, route in enumerate(routes.routes):
            if route.post not in decays:
                continue
            spikes = emitted[route.pre]
            previous_trace = traces.get(index)
            if spikes is None:  # a silent step adds nothing to the trace
                if previous_trace is not None:
                    traces[index] = route_traces[index] = decays[route.post] * previous_trace
                continue
            new_trace = spikes.detach()
            if previous_trace is not None:
                new_trace = decays[route.post] * previous_trace + new_trace
            traces[index] = route_traces[index] = new_trace
    routes.send(emitted, matrices, t, pending, route_traces, horizon)
    new_state = ModuleState(t + 1, tuple(neurons), pending, traces, state.schedules, tuple(still))
    return new_state, parts
