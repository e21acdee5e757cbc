"""Populations, projections, probes and the Network that holds them.

A :class:`Network` is pure data: it can be validated, saved, loaded, run on
any backend and exported, and it never holds backend state.

Examples
--------
>>> from neuromem.spec import (Network, Population, Projection, IF_curr_exp,
...                            SpikeSourceArray, OneToOne, DCSource)
>>> net = Network(
...     populations=(
...         Population("stim", SpikeSourceArray.from_lists([[1.0], [3.0]])),
...         Population("cells", IF_curr_exp(tau_refrac=1.0), size=2),
...     ),
...     projections=(Projection("drive", "stim", "cells", OneToOne(), weight=5.0, delay=1.0),),
...     current_sources=(DCSource("bias", "cells", amplitude=0.1, start=2.0),),
...     scheme="exact",
... )
>>> net.validate(dt=0.1)
>>> net.size("cells")
2
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import NamedTuple

import numpy as np

from neuromem.cells import registry
from neuromem.cells.base import CellType
from neuromem.cells.sources import SpikeSourceArray, SpikeSourcePoisson
from neuromem.errors import ValidationError
from neuromem.limits import check_memory
from neuromem.spec import checks
from neuromem.spec.base import SpecObject, register
from neuromem.spec.connect import AllToAll, Connector, FixedProbability, FromList, OneToOne
from neuromem.spec.currents import CURRENT_SOURCE_TYPES, CurrentSource, DCSource, StepCurrentSource
from neuromem.spec.plasticity import STDP, CA3PairRule, SubspaceRule
from neuromem.spec.schemes import SCHEMES

RECEPTORS = ("excitatory", "inhibitory")
#: Memory of one expanded synapse: pre and post indices (int64), weight and delay (float64), and the
#: temporaries of the expansion (AllToAll's index grids).
BYTES_PER_SYNAPSE = 48
#: Every variable a probe of a population may name: spikes, and what some cell type records.
NEURON_VARIABLES = ("spikes", *registry.RECORDABLES)


@register
@dataclass(frozen=True, eq=False)
class Population(SpecObject):
    """A named group of identical cells.

    Parameters
    ----------
    name : str
        Label (letters, digits, ``_``, ``-``).
    cell : CellType, SpikeSourceArray or SpikeSourcePoisson
        A registered cell type (:mod:`neuromem.cells`: IF_curr_exp,
        IF_curr_delta, IF_cond_exp, Izhikevich) or a spike source, with its parameters.
    size : int or None
        Number of neurons; taken from the cell for spike sources.
    """

    name: str
    cell: CellType | SpikeSourceArray | SpikeSourcePoisson
    size: int | None = None

    def __post_init__(self) -> None:
        checks.name("Population", "name", self.name)
        owner = f"Population {self.name!r}"
        if not (registry.is_cell(self.cell) or registry.is_source(self.cell)):
            raise ValidationError(
                f"{owner}: cell must be one of the cell types {', '.join(registry.names())} or SpikeSourceArray,"
                f" SpikeSourcePoisson; got {type(self.cell).__name__}"
            )
        if registry.is_source(self.cell):
            if self.size is not None and self.size != self.cell.size:
                raise ValidationError(
                    f"{owner}: size = {self.size} differs from the spike source's size {self.cell.size}"
                )
            object.__setattr__(self, "size", self.cell.size)
        else:
            object.__setattr__(self, "size", checks.count(owner, "size", self.size))

    @property
    def is_source(self) -> bool:
        """True for spike sources (they have no membrane)."""
        return registry.is_source(self.cell)


@register
@dataclass(frozen=True, eq=False)
class Projection(SpecObject):
    """Synapses from one population to another.

    Parameters
    ----------
    name : str
        Label.
    pre, post : str
        Names of the source and target populations.
    connector : Connector
        Which pairs are connected.
    weight : float or array
        Synaptic weight, >= 0, in the post cell type's weight unit (nA for
        IF_curr_exp, mV for IF_curr_delta and Izhikevich, uS for IF_cond_exp);
        one value or one per synapse in the connector's pair order. The
        receptor gives the sign.
    delay : float or array
        Transmission delay (ms), at least one time step; one value or one per synapse.
    receptor : {"excitatory", "inhibitory"}
    plasticity : STDP, CA3PairRule, SubspaceRule or None
        Learning rule; ``weight`` is then the initial weight.
    """

    name: str
    pre: str
    post: str
    connector: Connector
    weight: float | np.ndarray = 0.0
    delay: float | np.ndarray = 1.0
    receptor: str = "excitatory"
    plasticity: STDP | CA3PairRule | SubspaceRule | None = None

    def __post_init__(self) -> None:
        checks.name("Projection", "name", self.name)
        owner = f"Projection {self.name!r}"
        checks.name(owner, "pre", self.pre)
        checks.name(owner, "post", self.post)
        if not isinstance(self.connector, Connector):
            raise ValidationError(f"{owner}: connector must be a Connector, got {type(self.connector).__name__}")
        checks.choice(owner, "receptor", self.receptor, RECEPTORS)
        if self.plasticity is not None and not isinstance(self.plasticity, (STDP, CA3PairRule, SubspaceRule)):
            raise ValidationError(
                f"{owner}: plasticity must be STDP, CA3PairRule, SubspaceRule or None,"
                f" got {type(self.plasticity).__name__}"
            )
        for name, unit in (("weight", "nA"), ("delay", "ms")):
            value = getattr(self, name)
            if np.ndim(value) == 0:
                number = checks.finite(owner, name, value)  # type: ignore[arg-type]
                if number < 0 or (name == "delay" and number == 0):
                    rule = "use receptor='inhibitory' for inhibition" if name == "weight" else "must be > 0"
                    raise ValidationError(f"{owner}: {name} = {number:g} {unit} is negative or zero; {rule}")
                object.__setattr__(self, name, number)
            else:
                array = checks.float_array(owner, name, value, unit).ravel()
                if array.size and (array.min() < 0 or (name == "delay" and array.min() == 0)):
                    raise ValidationError(
                        f"{owner}: {name} holds {array.min():g} {unit}; every {name} must be"
                        + (" >= 0 (the receptor gives the sign)" if name == "weight" else " > 0")
                    )
                array.setflags(write=False)
                object.__setattr__(self, name, array)

    @property
    def is_plastic(self) -> bool:
        return self.plasticity is not None


@register
@dataclass(frozen=True, eq=False)
class Probe(SpecObject):
    """What to record.

    Parameters
    ----------
    target : str
        A population (for ``spikes`` and the state variables its cell type
        records) or a projection (for ``weight``).
    variable : str
        ``spikes``; ``v`` (mV); ``i_exc`` / ``i_inh`` (nA, IF_curr_exp);
        ``gsyn_exc`` / ``gsyn_inh`` (uS, IF_cond_exp); ``u`` (mV/ms,
        Izhikevich); or ``weight`` (the projection's weight unit).
    every_ms : float or None
        Sampling period (ms), a whole multiple of the run's ``dt`` (checked by
        :meth:`Network.validate`). ``weight``: a snapshot whenever the
        simulated time is a multiple of it (None: at the end of each run).
        State variables (``v``, ``i_exc``, ``gsyn_exc``, ``u``...): a sample at
        the end of every tick that is a multiple of ``every_ms / dt`` (None:
        every tick), which divides the memory a trace needs by that factor.
        Not used for ``spikes``.
    """

    target: str
    variable: str = "spikes"
    every_ms: float | None = None

    def __post_init__(self) -> None:
        checks.name("Probe", "target", self.target)
        checks.choice(f"Probe of {self.target!r}", "variable", self.variable, (*NEURON_VARIABLES, "weight"))
        if self.every_ms is not None:
            if self.variable == "spikes":
                raise ValidationError(
                    f"Probe of {self.target!r}: every_ms = {self.every_ms!r} cannot sample spikes; every spike is"
                    " recorded (use every_ms with v, i_exc, i_inh or weight)"
                )
            object.__setattr__(self, "every_ms", checks.positive("Probe", "every_ms", self.every_ms, "ms"))

    def every_steps(self, dt: float) -> int:
        """``every_ms`` as a whole number of steps of ``dt`` ms (1 when None); raises if it is not one."""
        if self.every_ms is None:
            return 1
        steps = self.every_ms / dt
        if abs(steps - round(steps)) > 1e-9 * max(1.0, steps) or round(steps) < 1:
            raise ValidationError(
                f"Probe of {self.target!r} ({self.variable}): every_ms = {self.every_ms:g} ms is not a whole multiple"
                f" of the time step dt = {dt:g} ms"
            )
        return int(round(steps))


class ConnectionList(NamedTuple):
    """A projection expanded to synapses (index arrays local to each population)."""

    pre: np.ndarray
    post: np.ndarray
    weight: np.ndarray
    delay: np.ndarray


@register
@dataclass(frozen=True, eq=False)
class Network(SpecObject):
    """A complete, backend-independent network description.

    Parameters
    ----------
    populations, projections, probes : tuples
        The nodes, edges and recordings. Names are unique within each kind.
    current_sources : tuple of DCSource or StepCurrentSource
        Currents injected into populations (or some of their neurons).
    scheme : {"spinnaker", "exact"}
        Integration scheme (:mod:`neuromem.spec.schemes`).
    required_dt : float or None
        Time step (ms) the model is defined for, if any (the CA3 model needs 1 ms).
    name : str
        Label of the network.
    """

    populations: tuple[Population, ...]
    projections: tuple[Projection, ...] = ()
    probes: tuple[Probe, ...] = ()
    scheme: str = "exact"
    required_dt: float | None = None
    name: str = "network"
    current_sources: tuple[CurrentSource, ...] = ()
    _lists: dict[str, ConnectionList] = field(default_factory=dict, repr=False, compare=False)

    def __post_init__(self) -> None:
        checks.name("Network", "name", self.name)
        checks.choice(f"Network {self.name!r}", "scheme", self.scheme, SCHEMES)
        for name in ("populations", "projections", "probes", "current_sources"):
            value = getattr(self, name)
            if not isinstance(value, (tuple, list)):
                raise ValidationError(
                    f"Network {self.name!r}: {name} must be a tuple or list, got {type(value).__name__}"
                )
            object.__setattr__(self, name, tuple(value))
        if self.required_dt is not None:
            object.__setattr__(
                self, "required_dt", checks.positive(f"Network {self.name!r}", "required_dt", self.required_dt, "ms")
            )
        self._check_structure()

    def _check_structure(self) -> None:
        owner = f"Network {self.name!r}"
        for kind, items, cls in (
            ("population", self.populations, Population),
            ("projection", self.projections, Projection),
            ("probe", self.probes, Probe),
        ):
            seen: set[str] = set()
            for item in items:
                if not isinstance(item, cls):
                    raise ValidationError(f"{owner}: {kind}s must be {cls.__name__} objects, got {type(item).__name__}")
                if cls is Probe:
                    continue
                if item.name in seen:
                    raise ValidationError(f"{owner}: two {kind}s are named {item.name!r}")
                seen.add(item.name)
        populations = {p.name: p for p in self.populations}
        synapses = 0.0
        for projection in self.projections:
            where = f"Projection {projection.name!r}"
            for side in ("pre", "post"):
                ref = getattr(projection, side)
                if ref not in populations:
                    raise ValidationError(f"{where}: {side} = {ref!r} is not a population of {owner}")
            if populations[projection.post].is_source:
                raise ValidationError(f"{where}: post = {projection.post!r} is a spike source and cannot receive")
            n_pre, n_post = populations[projection.pre].size, populations[projection.post].size
            projection.connector.check_sizes(where, n_pre, n_post)
            expected = projection.connector.expected_synapses(n_pre, n_post)  # type: ignore[arg-type]
            synapses += expected
            # pre and post (int64), weight and delay (float64), plus the temporaries of the expansion.
            check_memory(
                where,
                f"{type(projection.connector).__name__} between {n_pre:,} and {n_post:,} neurons (about"
                f" {expected:,.0f} synapses, {synapses:,.0f} in the network so far)",
                synapses * BYTES_PER_SYNAPSE,
            )
            self.connection_list(projection.name)
        projections = {p.name for p in self.projections}
        for probe in self.probes:
            pool = projections if probe.variable == "weight" else set(populations)
            if probe.target not in pool:
                what = "projection" if probe.variable == "weight" else "population"
                raise ValidationError(f"Probe: target {probe.target!r} is not a {what} of {owner}")
            if probe.variable in ("spikes", "weight"):
                continue
            population = populations[probe.target]
            if population.is_source:
                raise ValidationError(f"Probe: {probe.target!r} is a spike source and has no {probe.variable}")
            if probe.variable not in population.cell.recordables:
                raise ValidationError(
                    f"Probe: {probe.target!r} is an {type(population.cell).__name__} population and has no"
                    f" {probe.variable}; it records spikes, {', '.join(population.cell.recordables)}"
                )
        self._check_current_sources(populations)

    def _check_current_sources(self, populations: dict[str, Population]) -> None:
        owner = f"Network {self.name!r}"
        seen: set[str] = set()
        for source in self.current_sources:
            if not isinstance(source, CURRENT_SOURCE_TYPES):
                raise ValidationError(
                    f"{owner}: current_sources must be DCSource or StepCurrentSource objects,"
                    f" got {type(source).__name__}"
                )
            where = f"{type(source).__name__} {source.name!r}"
            if source.name in seen:
                raise ValidationError(f"{owner}: two current sources are named {source.name!r}")
            seen.add(source.name)
            if source.target not in populations:
                raise ValidationError(f"{where}: target {source.target!r} is not a population of {owner}")
            population = populations[source.target]
            if population.is_source:
                raise ValidationError(f"{where}: target {source.target!r} is a spike source; it takes no current")
            if source.neurons is not None and int(np.max(source.neurons)) >= int(population.size):  # type: ignore[arg-type]
                raise ValidationError(
                    f"{where}: neurons holds index {int(np.max(source.neurons))}, outside 0..{population.size - 1}"  # type: ignore[operator]
                    f" of population {source.target!r}"
                )

    # -- lookups -------------------------------------------------------------------------

    def population(self, name: str) -> Population:
        """The population called ``name``."""
        for population in self.populations:
            if population.name == name:
                return population
        raise ValidationError(f"Network {self.name!r} has no population {name!r}")

    def projection(self, name: str) -> Projection:
        """The projection called ``name``."""
        for projection in self.projections:
            if projection.name == name:
                return projection
        raise ValidationError(f"Network {self.name!r} has no projection {name!r}")

    def size(self, name: str) -> int:
        """Number of neurons of population ``name``."""
        return int(self.population(name).size)  # type: ignore[arg-type]

    def connection_list(self, name: str) -> ConnectionList:
        """Projection ``name`` as explicit synapse arrays (cached; read-only)."""
        if name in self._lists:
            return self._lists[name]
        projection = self.projection(name)
        n_pre, n_post = self.size(projection.pre), self.size(projection.post)
        where = f"Projection {name!r}"
        try:
            pre, post = projection.connector.pairs(n_pre, n_post, projection.pre == projection.post)
        except ValidationError as error:
            # Some limits depend on whether pre and post are one population, known only here.
            raise ValidationError(f"{where}: {error}") from None
        arrays = []
        for field_name in ("weight", "delay"):
            value = getattr(projection, field_name)
            if isinstance(value, np.ndarray):
                if value.size != pre.size:
                    raise ValidationError(
                        f"{where}: {field_name} has {value.size} values but the connector makes"
                        f" {pre.size} synapses; give one value or one per synapse"
                    )
                arrays.append(np.array(value, dtype=np.float64))
            else:
                arrays.append(np.full(pre.size, value, dtype=np.float64))
        result = ConnectionList(pre, post, arrays[0], arrays[1])
        for array in result:
            array.setflags(write=False)
        self._lists[name] = result
        return result

    # -- checks that need the time step ---------------------------------------------------

    def validate(self, dt: float | None = None) -> None:
        """Check everything that depends on the run's time step ``dt`` (ms).

        Raises
        ------
        ValidationError
            A delay below one step or off the time grid, delays so long that the
            delay buffer cannot fit in memory, a probe's ``every_ms`` that is not
            a whole number of steps, or a ``dt`` other than ``required_dt``.
        """
        if dt is None:
            return
        dt = checks.positive(f"Network {self.name!r}", "dt", dt, "ms")
        if self.required_dt is not None and abs(dt - self.required_dt) > 1e-9:
            raise ValidationError(
                f"Network {self.name!r}: dt = {dt:g} ms, but this model is defined for"
                f" dt = {self.required_dt:g} ms only"
            )
        for projection in self.projections:
            delays = self.connection_list(projection.name).delay
            if delays.size == 0:
                continue
            steps = delays / dt
            if steps.min() < 1.0 - 1e-9:
                raise ValidationError(
                    f"Projection {projection.name!r}: delay {delays.min():g} ms is below one time step ({dt:g} ms)"
                )
            off_grid = np.abs(steps - np.rint(steps)) > 1e-6
            if np.any(off_grid):
                raise ValidationError(
                    f"Projection {projection.name!r}: delay {delays[off_grid][0]:g} ms is not a whole number of"
                    f" time steps ({dt:g} ms)"
                )
            n_neurons = sum(int(p.size) for p in self.populations if not p.is_source)  # type: ignore[arg-type]
            # Every backend keeps input in flight for the longest delay: (delay steps + 1) x 2 receptors x neurons.
            check_memory(
                f"Projection {projection.name!r}",
                f"a delay of {delays.max():g} ms ({steps.max():,.0f} steps of {dt:g} ms) holding input for"
                f" {n_neurons:,} neurons",
                (float(steps.max()) + 1.0) * 2.0 * n_neurons * 4.0,
            )
        for probe in self.probes:
            probe.every_steps(dt)

        for source in self.current_sources:
            steps = source.switch_times() / dt
            off_grid = np.abs(steps - np.rint(steps)) > 1e-6
            if np.any(off_grid):
                raise ValidationError(
                    f"{type(source).__name__} {source.name!r}: switch time {source.switch_times()[off_grid][0]:g} ms"
                    f" is not a whole number of time steps ({dt:g} ms)"
                )

    def delay_steps(self, name: str, dt: float) -> np.ndarray:
        """Per-synapse delays of projection ``name`` in whole steps of ``dt`` ms."""
        return np.rint(self.connection_list(name).delay / dt).astype(np.int64)

    def with_probes(self, *probes: Probe) -> Network:
        """A copy that records ``probes`` instead of the current ones."""
        return dataclasses.replace(self, probes=tuple(probes), _lists={})


__all__ = [
    "AllToAll",
    "ConnectionList",
    "DCSource",
    "FixedProbability",
    "FromList",
    "Network",
    "OneToOne",
    "Population",
    "Probe",
    "Projection",
    "SpikeSourceArray",
    "SpikeSourcePoisson",
    "StepCurrentSource",
]
