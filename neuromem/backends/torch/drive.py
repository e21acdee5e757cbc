"""What drives a run of the differentiable module: source spikes, injected currents, silent sources.

For a whole run (:meth:`~neuromem.backends.torch.module.NetworkModule.forward`):
:func:`source_spikes` (the given inputs, else the network's own spike
sources), :func:`block_currents` (current sources plus given currents, per
neuron block) and :func:`silent_sources` (per step, the sources that emit
nothing, read once); for one step (:meth:`~neuromem.backends.torch.module.NetworkModule.step`):
:func:`step_drive`.
"""

from __future__ import annotations

from collections.abc import Mapping

import torch

from neuromem.backends.torch.currents import InjectedCurrents
from neuromem.backends.torch.layout import Layout
from neuromem.backends.torch.sources import ArraySchedule, PoissonSchedule
from neuromem.backends.torch.stepping import ModuleState
from neuromem.spec import Network, SpikeSourceArray


def source_spikes(
    network: Network,
    layout: Layout,
    inputs: Mapping[str, torch.Tensor],
    steps: int,
    batch: int,
    dt: float,
    seed: int,
    dtype: torch.dtype,
    device: torch.device,
) -> torch.Tensor:
    """(time, batch, sources) spikes: the given inputs, else the network's own sources (trial b: seed + b).

    The time axis covers ``steps``, or only the given inputs' steps when every
    source is given (later steps have no source spike); a given input shorter
    than the axis is padded with zeros.
    """
    width = layout.n_total - layout.n_neurons
    given = [inputs[name] for name in layout.source_names if name in inputs]
    span = given[0].shape[0] if given and len(given) == len(layout.source_names) else steps
    parts = []
    for name in layout.source_names:
        if name in inputs:
            parts.append(pad_steps(inputs[name].to(dtype), span))
            continue
        part = torch.zeros(steps, batch, layout.sizes[name], dtype=dtype, device=device)
        cell = network.population(name).cell
        seeds = [seed + b for b in range(batch)]
        if isinstance(cell, SpikeSourceArray):
            ArraySchedule([cell] * batch, dt, device).fill(part, 0)
        else:
            PoissonSchedule(cell, seeds, dt, device).fill(part, 0)  # type: ignore[arg-type]
        parts.append(part)
    if not parts:
        return torch.zeros(steps, batch, width, dtype=dtype, device=device)
    return parts[0] if len(parts) == 1 else torch.cat(parts, dim=2)


def pad_steps(x: torch.Tensor, steps: int) -> torch.Tensor:
    """``x`` (time, batch, n) with zeros appended up to ``steps`` steps (``x`` itself when long enough)."""
    if x.shape[0] >= steps:
        return x
    return torch.cat([x, x.new_zeros(steps - x.shape[0], *x.shape[1:])])


def block_currents(
    layout: Layout,
    plan: InjectedCurrents,
    inputs: Mapping[str, torch.Tensor],
    steps: int,
    batch: int,
    dtype: torch.dtype,
    device: torch.device,
) -> list[torch.Tensor | None]:
    """Per block: (time, batch, neurons) injected current (nA), or None where there is none."""
    result: list[torch.Tensor | None] = []
    for b, block in enumerate(layout.blocks):
        given = [name for name in block.populations if name in inputs]
        scheduled = [plan.at(b, t) for t in range(steps)]
        if not given and all(c is None for c in scheduled):
            result.append(None)
            continue
        zeros = torch.zeros(block.size, dtype=dtype, device=device)
        total = torch.stack([zeros if c is None else c.to(dtype) for c in scheduled])[:, None, :]
        if given:
            parts = [
                pad_steps(inputs[name].to(dtype), steps)
                if name in inputs
                else torch.zeros(steps, batch, layout.sizes[name], dtype=dtype, device=device)
                for name in block.populations
            ]
            total = total + torch.cat(parts, dim=2)
        result.append(total.expand(steps, batch, block.size))
    return result


def silent_sources(layout: Layout, sources: torch.Tensor, inputs: Mapping[str, torch.Tensor]) -> list[frozenset[str]]:
    """Per step of ``sources``, the network's own spike sources that emit nothing (one read for the whole run).

    A source given in ``inputs`` counts as emitting over its steps (its data
    is not read) and as silent after them.
    """
    steps = sources.shape[0]
    given = {name: inputs[name].shape[0] for name in layout.source_names if name in inputs}
    active = {}
    for name in layout.source_names:
        if name not in given:
            start = layout.offsets[name] - layout.n_neurons
            active[name] = sources[:, :, start : start + layout.sizes[name]].reshape(steps, -1).any(1)
    flags = {name: value.tolist() for name, value in active.items()}
    flags.update({name: [t < length for t in range(steps)] for name, length in given.items()})
    return [frozenset(name for name, row in flags.items() if not row[t]) for t in range(steps)]


def step_drive(
    layout: Layout,
    plan: InjectedCurrents,
    state: ModuleState,
    inputs: Mapping[str, torch.Tensor],
    batch: int,
    dtype: torch.dtype,
    device: torch.device,
) -> tuple[torch.Tensor, list[torch.Tensor | None]]:
    """Source spikes (batch, source channels) and per-block current (batch, n) or None of step ``state.tick``.

    ``inputs`` (population -> (batch, n)) replace a source's own spikes or add
    current (nA) to a neuron population; other sources draw from ``state.schedules``.
    """
    t = state.tick
    parts = []
    for name, schedule in zip(layout.source_names, state.schedules or ()):
        if name in inputs:
            parts.append(inputs[name].to(dtype))
        else:
            part = torch.zeros(1, batch, layout.sizes[name], dtype=dtype, device=device)
            schedule.fill(part, t)
            parts.append(part[0])
    width = layout.n_total - layout.n_neurons
    sources = torch.cat(parts, dim=1) if parts else torch.zeros(batch, width, dtype=dtype, device=device)
    currents: list[torch.Tensor | None] = []
    for b, block in enumerate(layout.blocks):
        scheduled = plan.at(b, t)
        given = [name for name in block.populations if name in inputs]
        if not given:
            currents.append(None if scheduled is None else scheduled.to(dtype).expand(batch, block.size))
            continue
        total = torch.cat(
            [
                inputs[name].to(dtype)
                if name in inputs
                else torch.zeros(batch, layout.sizes[name], dtype=dtype, device=device)
                for name in block.populations
            ],
            dim=1,
        )
        currents.append(total if scheduled is None else total + scheduled.to(dtype))
    return sources, currents
