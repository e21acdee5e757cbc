"""What the differentiable module carries between steps and what it returns.

:class:`ModuleState` is the state :meth:`~neuromem.backends.torch.module.NetworkModule.step`
advances; :class:`ModuleOutput` what a forward pass or a step returns
(:class:`StackedSteps`: a run's steps stacked when read); :func:`online_decays`
checks the online rule's trace decays.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import NamedTuple

import torch

from neuromem.errors import ValidationError
from neuromem.spec import Network


class ModuleState(NamedTuple):
    """Where a run stands between :meth:`NetworkModule.step` calls.

    ``tick`` (steps done), ``neurons`` (per block, the cell state), ``pending``
    (tick -> input on its way, with its graph), ``traces`` (the online rule's
    presynaptic traces per route), ``schedules`` (the network's own sources),
    ``resting`` (per block, whether its state is still the initial one: the
    projection mode skips such a block while nothing reaches it).
    """

    tick: int
    neurons: tuple[NamedTuple, ...]
    pending: dict
    traces: dict[int, torch.Tensor]
    schedules: tuple | None
    resting: tuple[bool, ...] = ()


class ModuleOutput(NamedTuple):
    """What a forward pass returns: per population, tensors of shape (time, batch, neurons).

    ``spikes`` (0/1, with a surrogate gradient) and ``v`` (mV, after each step's reset);
    after :meth:`NetworkModule.forward`, read-only mappings that stack a population's steps when it is first read.
    """

    spikes: Mapping[str, torch.Tensor]
    v: Mapping[str, torch.Tensor]


class StackedSteps(Mapping[str, torch.Tensor]):
    """Population -> its steps stacked into one (time, batch, neurons) tensor, built on first access.

    A forward pass keeps every step of every output; stacking only what the
    caller reads saves a copy of the rest (a loss on the readout's voltage
    never stacks the hidden layers' spikes).
    """

    def __init__(self, steps: dict[str, list[torch.Tensor]]) -> None:
        self._steps = steps
        self._stacked: dict[str, torch.Tensor] = {}

    def __getitem__(self, name: str) -> torch.Tensor:
        if name not in self._stacked:
            self._stacked[name] = torch.stack(self._steps[name])
        return self._stacked[name]

    def __iter__(self):  # type: ignore[no-untyped-def]
        return iter(self._steps)

    def __len__(self) -> int:
        return len(self._steps)

    def __repr__(self) -> str:
        return f"StackedSteps({list(self._steps)})"


def online_decays(
    network: Network, online: bool | Mapping[str, float], defaults: Mapping[str, float]
) -> dict[str, float]:
    """The online rule's trace decay per population: ``defaults`` for ``online=True``, else the checked mapping."""
    decays = dict(defaults) if online is True else dict(online)  # type: ignore[arg-type]
    neurons = {p.name for p in network.populations if not p.is_source}
    for name, value in decays.items():
        if name not in neurons or not 0.0 <= float(value) <= 1.0:
            raise ValidationError(
                f"module: online[{name!r}] = {value!r} is not allowed; allowed: a neuron population of the"
                " network and a trace decay in [0, 1]"
            )
    return decays
