"""Moving the state of a running simulation into a rebuilt engine, neuron by neuron.

When the network changes between runs so that neurons regroup (a parameter of
part of a population changed, a population or projection was added), the new
engine's state rows no longer match the old ones. The state is then taken out
of the old engine in PyNN's terms (per population and neuron, per projection
and synapse) and written into the new one:

* neurons: every state variable of their cell type (membrane, synaptic currents or
  conductances, recovery variable, refractory count);
* input already on its way (the delay ring buffer): what arrives at tick
  ``t + k`` for every ``k`` up to the longest delay;
* plastic projections: weights per synapse, pre and post traces per neuron,
  and the presynaptic spikes of the last ``delay`` ticks (they arrive later).

Neurons and synapses that did not exist before keep the new engine's initial
state. The torch engine's checkpoint (``state_dict``) is the interface; its
keys are checked first.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import torch

from neuromem.pynn.errors import NotSupported
from neuromem.pynn.plan import Plan


@dataclass
class Snapshot:
    """Engine state in PyNN terms; arrays are (trials, ...) and keyed by ``id()`` of the PyNN object."""

    tick: int
    neurons: dict[int, dict[str, np.ndarray]] = field(default_factory=dict)
    pending: dict[int, np.ndarray] = field(default_factory=dict)
    weights: dict[int, np.ndarray] = field(default_factory=dict)
    traces: dict[tuple[int, str, int], np.ndarray] = field(default_factory=dict)
    history: dict[tuple[int, int], np.ndarray] = field(default_factory=dict)
    delays: dict[int, int] = field(default_factory=dict)


def _check_keys(state: dict[str, torch.Tensor], plan: Plan) -> None:
    expected = {"buffer", "tick"}
    for parts in plan.parts.values():
        for part in parts:
            if part.projection.is_plastic:
                expected |= {f"plastic.{part.name}.{k}" for k in ("weight", "x", "y", "history")}
    missing = sorted(expected - set(state))
    if missing:
        raise NotSupported(
            f"the engine's checkpoint lacks {', '.join(missing)}; the state of this simulation cannot be moved"
            " into the rebuilt network (reset() first, or change the network before the first run)"
        )


def place(sim: object, name: str) -> tuple[str, slice]:
    """Checkpoint key prefix of the state block of spec population ``name`` and its rows in that block.

    The torch engine keeps one state block per cell type; a network of one cell type keeps the keys
    ``neurons.<field>``, several use ``neurons.<CellType>.<field>``.
    """
    layout = sim.layout  # type: ignore[attr-defined]
    block, rows = layout.place(name)
    prefix = "neurons." if len(layout.blocks) == 1 else f"neurons.{layout.blocks[block].cell_type}."
    return prefix, rows


def fields(state: dict[str, object], prefix: str) -> list[str]:
    """State variables of the block whose checkpoint keys start with ``prefix``."""
    return [k[len(prefix) :] for k in state if k.startswith(prefix) and "." not in k[len(prefix) :]]


def channels(sim: object, name: str, receptor: str) -> np.ndarray:
    """Input-buffer channels of spec population ``name`` for ``receptor`` ("excitatory" or "inhibitory")."""
    layout = sim.layout  # type: ignore[attr-defined]
    first = layout.channel(name, receptor)
    return np.arange(first, first + layout.sizes[name])


def capture(sim: object, plan: Plan) -> Snapshot:
    """The state of ``sim`` (built from ``plan``) in PyNN terms."""
    state = {k: v.numpy() for k, v in sim.state_dict().items()}  # type: ignore[attr-defined]
    _check_keys(state, plan)
    tick = int(state["tick"])
    snapshot = Snapshot(tick)
    buffer = state["buffer"]
    slots = buffer.shape[0]
    order = [(tick + k) % slots for k in range(slots)]
    for groups in plan.groups.values():
        for group in groups:
            if group.name not in _lif_names(plan):
                continue
            key, size = id(group.population), group.population.size
            prefix, r = place(sim, group.name)
            names = fields(state, prefix)
            blank = {k: np.full((buffer.shape[1], size), np.nan) for k in names}
            neurons = snapshot.neurons.setdefault(key, blank)
            for name in names:
                neurons[name][:, group.members] = state[prefix + name][:, r]
            pending = snapshot.pending.setdefault(key, np.zeros((slots, buffer.shape[1], 2, size)))
            for c, receptor in enumerate(("excitatory", "inhibitory")):
                pending[:, :, c, group.members] = buffer[order][:, :, channels(sim, group.name, receptor)]
    for parts in plan.parts.values():
        for part in parts:
            if not part.projection.is_plastic:
                continue
            proj = id(part.projection)
            weight = state[f"plastic.{part.name}.weight"]
            if proj not in snapshot.weights:
                snapshot.weights[proj] = np.full((weight.shape[0], len(part.projection)), np.nan)
            snapshot.weights[proj][:, part.synapses] = weight
            history = state[f"plastic.{part.name}.history"]
            delay = history.shape[0] - 1
            snapshot.delays[proj] = delay
            for trace, group in (("x", part.pre), ("y", part.post)):
                target = snapshot.traces.setdefault(
                    (proj, trace, id(group.population)), np.zeros((weight.shape[0], group.population.size))
                )
                target[:, group.members] = state[f"plastic.{part.name}.{trace}"]
            past = snapshot.history.setdefault(
                (proj, id(part.pre.population)), np.zeros((delay, weight.shape[0], part.pre.population.size))
            )
            for k in range(delay):
                past[k][:, part.pre.members] = history[(tick - delay + k) % (delay + 1)]
    return snapshot


def restore(sim: object, plan: Plan, snapshot: Snapshot) -> None:
    """Write ``snapshot`` into ``sim`` (freshly built from ``plan``, initial state already set)."""
    state = {k: v.clone() for k, v in sim.state_dict().items()}  # type: ignore[attr-defined]
    _check_keys(state, plan)
    tick = snapshot.tick
    buffer = state["buffer"]
    slots = buffer.shape[0]
    lif = _lif_names(plan)
    for groups in plan.groups.values():
        for group in groups:
            key = id(group.population)
            if group.name not in lif or key not in snapshot.neurons:
                continue
            prefix, r = place(sim, group.name)
            for name in fields(state, prefix):
                values = snapshot.neurons[key][name][:, group.members]
                known = ~np.isnan(values)
                column = state[prefix + name][:, r]
                column[torch.as_tensor(known)] = torch.as_tensor(values[known], dtype=column.dtype)
                state[prefix + name][:, r] = column
            pending = snapshot.pending[key][:, :, :, group.members]
            if pending.shape[0] > slots and np.any(pending[slots:]):
                raise NotSupported(
                    "the longest delay became shorter while spikes were on their way; change delays between runs"
                    " only when no spike is in flight, or reset() first"
                )
            exc, inh = (torch.as_tensor(channels(sim, group.name, rec)) for rec in ("excitatory", "inhibitory"))
            for k in range(min(slots, pending.shape[0])):
                slot = (tick + k) % slots
                for c, where in enumerate((exc, inh)):
                    buffer[slot][:, where] += torch.as_tensor(pending[k, :, c], dtype=buffer.dtype)
    for parts in plan.parts.values():
        for part in parts:
            proj = id(part.projection)
            if not part.projection.is_plastic or proj not in snapshot.weights:
                continue
            weight, key = snapshot.weights[proj][:, part.synapses], f"plastic.{part.name}.weight"
            state[key] = torch.as_tensor(weight, dtype=state[key].dtype)
            for trace, group in (("x", part.pre), ("y", part.post)):
                values = snapshot.traces.get((proj, trace, id(group.population)))
                if values is not None:
                    key = f"plastic.{part.name}.{trace}"
                    state[key] = torch.as_tensor(values[:, group.members], dtype=state[key].dtype)
            history = state[f"plastic.{part.name}.history"]
            delay = history.shape[0] - 1
            if delay != snapshot.delays[proj]:
                raise NotSupported(
                    f"Projection {part.projection.label!r}: the delay of a plastic projection changed during a"
                    " simulation; reset() first"
                )
            past = snapshot.history.get((proj, id(part.pre.population)))
            if past is not None:
                for k in range(delay):
                    history[(tick - delay + k) % (delay + 1)] = torch.as_tensor(
                        past[k][:, part.pre.members], dtype=history.dtype
                    )
    state["tick"] = torch.tensor(tick)
    sim.load_state_dict(state)  # type: ignore[attr-defined]


def _lif_names(plan: Plan) -> set[str]:
    return {p.name for p in plan.network.populations if not p.is_source}


__all__ = ["Snapshot", "capture", "channels", "fields", "place", "restore"]
