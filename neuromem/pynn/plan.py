"""From the PyNN objects to one ``neuromem.spec.Network``: the plan of a run.

* Neurons: a spec population holds one parameter set, so the neurons of a
  PyNN population are grouped by their parameters; each group is one spec
  population (``p3``, or ``p3_0``, ``p3_1``, ... when there are several).
* Current sources: each PyNN DCSource/StepCurrentSource becomes, per group it
  injects into, one spec ``StepCurrentSource`` (``c<k>_<group>``) on the
  neurons of that group, with its switch ticks and amplitudes.
* Spike sources: a SpikeSourceArray is one spec source; PyNN time ``T`` is the
  step that contains it, ``n = ceil(T/dt) - 1``, so the spike is stamped
  ``(n+1) dt`` as on NEST. SpikeSourcePoisson neurons are grouped by (rate,
  start, duration), each group with its own seed drawn from ``setup(rng_seed=)``.
* Synapses: each PyNN projection is split by (pre group, post group) into spec
  projections with explicit connection lists (``FromList``), per-synapse weights
  (magnitudes; the receptor gives the sign) and delays, in PyNN's synapse order.

The plan also says where every PyNN neuron and synapse went, and carries a
``structure`` digest: two plans with the same digest give engines whose state
can be copied from one to the other as is.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field

import numpy as np
from pyNN import common

from neuromem.errors import ValidationError
from neuromem.pynn.celltypes import NEURON_TYPES, POISSON_PARAMETERS
from neuromem.pynn.errors import ConnectionRefused, InvalidParameterValue, NotSupported
from neuromem.pynn.simulator import State
from neuromem.spec import (
    STDP,
    AdditiveWeightDependence,
    FromList,
    MultiplicativeWeightDependence,
    Network,
    Population,
    Probe,
    Projection,
    SpikePairRule,
    SpikeSourceArray,
    SpikeSourcePoisson,
)
from neuromem.spec.currents import StepCurrentSource
from neuromem.spec.schemes import EXACT

#: Tolerance (in steps) for a time that lies on the step grid.
GRID = 1e-6


@dataclass
class Group:
    """PyNN neurons that form one spec population."""

    name: str
    population: common.Population
    members: np.ndarray


@dataclass
class Part:
    """Synapses of one PyNN projection that form one spec projection (from group ``pre`` to ``post``)."""

    name: str
    projection: common.Projection
    synapses: np.ndarray
    pre: Group
    post: Group


@dataclass
class Plan:
    """A spec Network and where every PyNN neuron and synapse is in it."""

    network: Network
    groups: dict[int, list[Group]] = field(default_factory=dict)
    group_of: dict[int, np.ndarray] = field(default_factory=dict)
    local_of: dict[int, np.ndarray] = field(default_factory=dict)
    parts: dict[int, list[Part]] = field(default_factory=dict)
    structure: str = ""

    def inputs(self, state: State) -> dict[str, SpikeSourceArray]:
        """The current spike times of every SpikeSourceArray group (they may change between runs)."""
        result = {}
        for groups in self.groups.values():
            for group in groups:
                if type(group.population.celltype).__name__ == "SpikeSourceArray":
                    result[group.name] = spike_array(group.population, state.dt)
        return result


def emission_ticks(times: np.ndarray, dt: float) -> np.ndarray:
    """Engine tick of each PyNN spike time (ms): the step ``(n dt, (n+1) dt]`` that contains it."""
    return np.ceil(np.asarray(times, dtype=np.float64) / dt - GRID).astype(np.int64) - 1


def spike_array(population: common.Population, dt: float) -> SpikeSourceArray:
    """A PyNN SpikeSourceArray population as a spec source (times on the engine's tick grid)."""
    lists = [np.asarray(getattr(s, "value", s), dtype=np.float64) for s in population._parameters["spike_times"]]
    neuron = np.concatenate([np.full(t.size, i, dtype=np.int64) for i, t in enumerate(lists)])
    ticks = emission_ticks(np.concatenate(lists), dt) if lists else np.zeros(0, dtype=np.int64)
    return SpikeSourceArray(size=population.size, neuron=neuron, times_ms=ticks * dt)


def _digest(*parts: object) -> str:
    h = hashlib.sha1()
    for part in parts:
        h.update(part.tobytes() if isinstance(part, np.ndarray) else repr(part).encode())
    return h.hexdigest()


def resolve(cells: object, indices: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(population number in ``state.populations`` order, index in it) of ``indices`` of a Population/View/Assembly."""
    if isinstance(cells, common.Assembly):
        bounds = np.cumsum([0] + [p.size for p in cells.populations])
        which = np.searchsorted(bounds, indices, side="right") - 1
        pops, idx = np.zeros(indices.size, dtype=np.int64), np.zeros(indices.size, dtype=np.int64)
        for k, member in enumerate(cells.populations):
            keep = which == k
            pops[keep], idx[keep] = resolve(member, indices[keep] - bounds[k])
        return pops, idx
    if isinstance(cells, common.PopulationView):
        root = cells.grandparent
        return resolve(root, np.asarray(cells.index_in_grandparent(indices), dtype=np.int64))
    return np.full(indices.size, cells._number, dtype=np.int64), indices


class Planner:
    """Builds the :class:`Plan` of the current PyNN network at one tick."""

    def __init__(self, state: State, tick: int) -> None:
        self.state, self.tick = state, tick
        self.plan = Plan(network=None)  # type: ignore[arg-type]
        self.spec_populations: list[Population] = []
        self.spec_projections: list[Projection] = []
        self.probes: list[Probe] = []
        self.current_sources: list[StepCurrentSource] = []
        self.structure: list[object] = []

    def build(self) -> Plan:
        for number, population in enumerate(self.state.populations):
            population._number = number
        for number, population in enumerate(self.state.populations):
            self._population(number, population)
        for number, projection in enumerate(self.state.projections):
            self._projection(number, projection)
        try:
            self.plan.network = Network(
                populations=tuple(self.spec_populations),
                projections=tuple(self.spec_projections),
                probes=tuple(self.probes),
                current_sources=tuple(self.current_sources),
                scheme=EXACT,
                name="pynn",
            )
            self.plan.network.validate(self.state.dt)
        except ValidationError as error:
            raise InvalidParameterValue(str(error)) from None
        self.plan.structure = _digest(*self.structure)
        return self.plan

    # -- neurons ----------------------------------------------------------------------------

    def _population(self, number: int, population: common.Population) -> None:
        kind = type(population.celltype).__name__
        if kind in NEURON_TYPES:
            entry = NEURON_TYPES[kind]
            columns = [np.asarray(population._parameters[name], dtype=np.float64) for name in entry.parameters]
            rows, keys = np.unique(np.column_stack(columns), axis=0, return_inverse=True)
            groups = self._groups(number, population, keys.ravel(), len(rows))
            for group, row in zip(groups, rows):
                values = dict(zip(entry.parameters, row.tolist()))
                try:
                    cell = entry.spec_cell(**values)
                except ValidationError as error:
                    raise InvalidParameterValue(f"Population {population.label!r}: {error}") from None
                self.spec_populations.append(Population(group.name, cell, size=group.members.size))
                self.structure.append(("neurons", group.name, group.members))
            self._currents(population, groups)
        elif kind == "SpikeSourcePoisson":
            columns = [np.asarray(population._parameters[name], dtype=np.float64) for name in POISSON_PARAMETERS]
            rows, keys = np.unique(np.column_stack(columns), axis=0, return_inverse=True)
            groups = self._groups(number, population, keys.ravel(), len(rows))
            for g, (group, (rate, start, duration)) in enumerate(zip(groups, rows)):
                seed = int(np.random.SeedSequence([self.state.seed, number, g]).generate_state(1)[0])
                try:
                    cell = SpikeSourcePoisson(
                        size=group.members.size, rate=rate, start=start, duration=duration, seed=seed
                    )
                except ValidationError as error:
                    raise InvalidParameterValue(f"Population {population.label!r}: {error}") from None
                self.spec_populations.append(Population(group.name, cell))
                self.structure.append(("poisson", group.name, group.members))
        else:
            (group,) = self._groups(number, population, np.zeros(population.size, dtype=np.int64), 1)
            self.spec_populations.append(Population(group.name, spike_array(population, self.state.dt)))
            self.structure.append(("array", group.name, population.size))
        self._probes(population)

    def _groups(self, number: int, population: common.Population, keys: np.ndarray, count: int) -> list[Group]:
        groups = []
        local = np.zeros(population.size, dtype=np.int64)
        for g in range(count):
            members = np.flatnonzero(keys == g)
            local[members] = np.arange(members.size)
            name = f"p{number}" if count == 1 else f"p{number}_{g}"
            groups.append(Group(name, population, members))
        self.plan.groups[id(population)] = groups
        self.plan.group_of[id(population)] = keys.astype(np.int64)
        self.plan.local_of[id(population)] = local
        return groups

    def _currents(self, population: common.Population, groups: list[Group]) -> None:
        """The PyNN current sources injected into ``population`` as spec current sources, one per group."""
        dt = self.state.dt
        for k, source in enumerate(self.state.current_sources):
            targets = source.targets_of(population)
            if not targets.size:
                continue
            ticks, amplitudes = source.schedule()
            if not ticks.size:
                continue
            for group in groups:
                neurons = np.flatnonzero(np.isin(group.members, targets))
                if not neurons.size:
                    continue
                name = f"c{k}_{group.name}"
                chosen = None if neurons.size == group.members.size else neurons
                self.current_sources.append(
                    StepCurrentSource(name, group.name, times=ticks * dt, amplitudes=amplitudes, neurons=chosen)
                )

    def _probes(self, population: common.Population) -> None:
        kind = type(population.celltype).__name__
        recordables = NEURON_TYPES[kind].recordables if kind in NEURON_TYPES else {"spikes": "spikes"}
        for variable in population.recorder.recorded_variables():
            # Signals cost a copy per step and probe: only groups with a recorded neuron are probed.
            chosen = population.recorder.recorded_indices(variable)
            for group in self.plan.groups[id(population)]:
                if variable == "spikes" or np.isin(group.members, chosen).any():
                    self.probes.append(Probe(group.name, recordables[variable]))

    # -- synapses ---------------------------------------------------------------------------

    def _projection(self, number: int, projection: common.Projection) -> None:
        label = projection.label
        if projection.receptor_type not in ("excitatory", "inhibitory"):
            raise NotSupported(
                f"Projection {label!r}: receptor type {projection.receptor_type!r} is not available"
                " (available: 'excitatory', 'inhibitory')"
            )
        # The weights last given (plastic ones carry over from the running engine, see engine.py).
        weight = projection._parameters["weight"]
        post_type = NEURON_TYPES.get(type(projection.post.celltype).__name__)
        conductance = post_type is not None and post_type.conductance_based
        sign = 1.0 if projection.receptor_type == "excitatory" or conductance else -1.0
        if weight.size and np.any(weight * sign < 0):
            rule = "negative" if sign < 0 else "positive"
            kind, unit = ("conductance", "uS") if conductance else ("current", "nA")
            raise ConnectionRefused(
                f"Projection {label!r}: weights of {projection.receptor_type} synapses onto {kind}-based cells must"
                f" be {rule} (PyNN's convention); found {float(weight[weight * sign < 0][0]):g} {unit}"
            )
        rule = stdp_rule(projection) if projection.is_plastic else None
        pre_pop, pre_idx = resolve(projection.pre, projection._pre)
        post_pop, post_idx = resolve(projection.post, projection._post)
        populations = self.state.populations
        pre_group = np.zeros(pre_idx.size, dtype=np.int64)
        post_group = np.zeros(post_idx.size, dtype=np.int64)
        pre_local, post_local = np.zeros_like(pre_idx), np.zeros_like(post_idx)
        for k, population in enumerate(populations):
            for side_pop, side_idx, group, local in (
                (pre_pop, pre_idx, pre_group, pre_local),
                (post_pop, post_idx, post_group, post_local),
            ):
                keep = side_pop == k
                group[keep] = self.plan.group_of[id(population)][side_idx[keep]]
                local[keep] = self.plan.local_of[id(population)][side_idx[keep]]
        pairs = np.stack([pre_pop, pre_group, post_pop, post_group], axis=1)
        keys, which = np.unique(pairs, axis=0, return_inverse=True) if pairs.size else (np.zeros((0, 4)), [])
        which = np.asarray(which).ravel()
        delay = projection._parameters["delay"]
        parts = []
        for m, (a, ga, b, gb) in enumerate(keys.astype(np.int64)):
            synapses = np.flatnonzero(which == m)
            name = f"j{number}" if len(keys) == 1 else f"j{number}_{m}"
            pre_group_of = self.plan.groups[id(populations[a])][ga]
            post_group_of = self.plan.groups[id(populations[b])][gb]
            pre_name, post_name = pre_group_of.name, post_group_of.name
            self.spec_projections.append(
                Projection(
                    name,
                    pre_name,
                    post_name,
                    FromList(pre_local[synapses], post_local[synapses]),
                    weight=np.abs(weight[synapses]),
                    delay=delay[synapses],
                    receptor=projection.receptor_type,
                    plasticity=rule,
                )
            )
            parts.append(Part(name, projection, synapses, pre_group_of, post_group_of))
            if rule is not None:
                steps = int(round(float(delay[0]) / self.state.dt))
                self.structure.append(("plastic", name, pre_name, post_name, synapses, steps))
        self.plan.parts[id(projection)] = parts
        if delay.size:
            self.structure.append(("max_delay", int(round(float(delay.max()) / self.state.dt))))


def stdp_rule(projection: common.Projection) -> STDP:
    """The spec STDP of a PyNN STDPMechanism projection, or refuse what the engine cannot run."""
    label, values = projection.label, projection._parameters
    synapse_type = projection.synapse_type
    for name, array in values.items():
        if name != "weight" and array.size and np.ptp(array) > 0:
            what = "delays" if name == "delay" else f"values of {name}"
            raise NotSupported(
                f"Projection {label!r}: the engine runs STDP with one {name} per projection; found different"
                f" {what} (from {array.min():g} to {array.max():g}); give them one value"
            )
    first = {name: float(array[0]) for name, array in values.items() if array.size}
    if not first:
        return _stdp(synapse_type, {})
    fraction = first["dendritic_delay_fraction"]
    if fraction != 0.0:
        raise NotSupported(
            f"Projection {label!r}: dendritic_delay_fraction = {fraction:g}; the engine pairs"
            " a presynaptic spike at its arrival (a purely axonal delay, dendritic_delay_fraction=0). With a"
            " dendritic delay every pair interval would be 2 x delay longer; give STDPMechanism(...,"
            " dendritic_delay_fraction=0)"
        )
    if projection.receptor_type != "excitatory":
        raise NotSupported(f"Projection {label!r}: STDP is available on excitatory synapses only")
    return _stdp(synapse_type, first)


def _stdp(synapse_type: object, values: dict[str, float]) -> STDP:
    timing = synapse_type.timing_dependence.parameter_space  # type: ignore[attr-defined]
    weight = synapse_type.weight_dependence.parameter_space  # type: ignore[attr-defined]
    pick = lambda name, space: values.get(name, float(space[name].base_value))  # noqa: E731
    rule = (
        AdditiveWeightDependence
        if type(synapse_type.weight_dependence).__name__ == "AdditiveWeightDependence"  # type: ignore[attr-defined]
        else MultiplicativeWeightDependence
    )
    try:
        return STDP(
            SpikePairRule(
                tau_plus=pick("tau_plus", timing),
                tau_minus=pick("tau_minus", timing),
                A_plus=pick("A_plus", timing),
                A_minus=pick("A_minus", timing),
            ),
            rule(w_min=pick("w_min", weight), w_max=pick("w_max", weight)),
        )
    except ValidationError as error:
        raise InvalidParameterValue(str(error)) from None


def build_plan(state: State, tick: int) -> Plan:
    """The plan of the network described in ``state``, with the currents in force at ``tick``."""
    return Planner(state, tick).build()


__all__ = ["Group", "Part", "Plan", "build_plan", "emission_ticks", "resolve", "spike_array", "stdp_rule"]
