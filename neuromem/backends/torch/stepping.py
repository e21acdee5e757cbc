"""What one step of the differentiable module reads and carries: its state and its drive.

:class:`ModuleState` is the state :meth:`~neuromem.backends.torch.module.NetworkModule.step`
advances; :func:`step_drive` assembles one step's source spikes and injected
currents from the given inputs, the network's own sources and its current sources.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import NamedTuple

import torch

from neuromem.backends.torch.currents import InjectedCurrents
from neuromem.backends.torch.layout import Layout


class ModuleState(NamedTuple):
    """Where a run stands between :meth:`NetworkModule.step` calls.

    ``tick`` (steps done), ``neurons`` (per block, the cell state), ``pending``
    (tick -> input on its way, with its graph), ``traces`` (the online rule's
    presynaptic traces per route), ``schedules`` (the network's own sources).
    """

    tick: int
    neurons: tuple[NamedTuple, ...]
    pending: dict
    traces: dict[int, torch.Tensor]
    schedules: tuple | None


def step_drive(
    layout: Layout,
    currents_plan: InjectedCurrents,
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
        scheduled = currents_plan.at(b, t)
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
