"""Projections: PyNN's connectors draw the synapses; neuromem keeps them as arrays.

Every PyNN connector (with its own random numbers and distributions) calls
``_convergent_connect`` once per target neuron; the synapses are kept here in
that order as index arrays (into ``projection.pre`` and ``projection.post``)
plus one array per synaptic parameter (PyNN names and units: nA, ms). The
session hands them to the engine as explicit connection lists.

Plastic weights live in the engine while it runs: ``get("weight")`` reads them
there (trial 0 of a batch), ``set(weight=...)`` replaces them from the next run on,
and ``reset()`` returns to the weights last set here.
"""

from __future__ import annotations

import numpy as np
from pyNN import common
from pyNN.parameters import ParameterSpace
from pyNN.space import Space

from neuromem.pynn import simulator
from neuromem.pynn.errors import ConnectionRefused, NotSupported
from neuromem.pynn.standardmodels import (
    AdditiveWeightDependence,
    MultiplicativeWeightDependence,
    SpikePairRule,
    StaticSynapse,
    STDPMechanism,
)

state = simulator.state


class Connection(common.Connection):
    """One synapse of a Projection: indices, weight (nA), delay (ms) and plasticity parameters."""

    def __init__(self, projection: Projection, index: int) -> None:
        self.projection = projection
        self.index = index

    @property
    def presynaptic_index(self) -> int:
        return int(self.projection._pre[self.index])

    @property
    def postsynaptic_index(self) -> int:
        return int(self.projection._post[self.index])

    def _get(self, name: str) -> float:
        return float(self.projection._values(name)[self.index])

    def _set(self, name: str, value: float) -> None:
        values = self.projection._values(name).copy()
        values[self.index] = value
        self.projection._store(name, values)

    weight = property(lambda self: self._get("weight"), lambda self, w: self._set("weight", w))
    delay = property(lambda self: self._get("delay"), lambda self, d: self._set("delay", d))

    def __getattr__(self, name: str) -> float:
        if name in ("projection", "index"):
            raise AttributeError(name)
        if name in self.projection._parameters:
            return self._get(name)
        raise AttributeError(f"Connection has no attribute {name!r}")

    def as_tuple(self, *attribute_names: str) -> tuple:
        return tuple(getattr(self, name) for name in attribute_names)


def check_synapse_type(synapse_type: object, label: str) -> None:
    """Refuse synapse types and STDP configurations the engine cannot run."""
    if isinstance(synapse_type, StaticSynapse):
        return
    if not isinstance(synapse_type, STDPMechanism):
        raise NotSupported(
            f"Projection {label!r}: synapse type {type(synapse_type).__name__} is not available on the neuromem"
            " simulator (available: StaticSynapse, STDPMechanism)"
        )
    if synapse_type.voltage_dependence is not None:
        raise NotSupported(f"Projection {label!r}: STDP with a voltage dependence is not available")
    if not isinstance(synapse_type.timing_dependence, SpikePairRule):
        raise NotSupported(
            f"Projection {label!r}: STDP timing dependence {type(synapse_type.timing_dependence).__name__} is not"
            " available (available: SpikePairRule)"
        )
    if not isinstance(synapse_type.weight_dependence, (AdditiveWeightDependence, MultiplicativeWeightDependence)):
        raise NotSupported(
            f"Projection {label!r}: STDP weight dependence {type(synapse_type.weight_dependence).__name__} is not"
            " available (available: AdditiveWeightDependence, MultiplicativeWeightDependence)"
        )


class Projection(common.Projection):
    __doc__ = common.Projection.__doc__
    _simulator = simulator
    _static_synapse_class = StaticSynapse

    def __init__(
        self,
        presynaptic_population: object,
        postsynaptic_population: object,
        connector: object,
        synapse_type: object = None,
        source: str | None = None,
        receptor_type: str | None = None,
        space: Space = Space(),  # noqa: B008 - PyNN's signature
        label: str | None = None,
    ) -> None:
        pre, post = presynaptic_population, postsynaptic_population
        common.Projection.__init__(self, pre, post, connector, synapse_type, source, receptor_type, space, label)
        check_synapse_type(self.synapse_type, str(self.label))
        if source is not None:
            raise NotSupported(f"Projection {self.label!r}: source = {source!r}; point neurons have one spike source")
        self._parts: list[tuple[np.ndarray, np.ndarray, dict[str, np.ndarray]]] = []
        connector.connect(self)  # type: ignore[attr-defined]
        self._finish()
        if self.is_plastic:
            from neuromem.pynn.plan import stdp_rule

            stdp_rule(self)  # refuse now what the engine cannot run
        self._engine_weights_stale = True
        state.projections.append(self)
        state.changed()

    # -- building -------------------------------------------------------------------------

    def _convergent_connect(
        self,
        presynaptic_indices: np.ndarray,
        postsynaptic_index: int,
        location_selector: object = None,
        **connection_parameters: object,
    ) -> None:
        if location_selector is not None:
            raise NotSupported(f"Projection {self.label!r}: location_selector needs multicompartment cells")
        pre = np.atleast_1d(np.asarray(presynaptic_indices, dtype=np.int64))
        values = {}
        for name, value in connection_parameters.items():
            array = np.asarray(value, dtype=np.float64)
            values[name] = np.broadcast_to(array, pre.shape).copy() if array.ndim == 0 else array.ravel().copy()
        self._parts.append((pre, np.full(pre.size, int(postsynaptic_index), dtype=np.int64), values))

    def _finish(self) -> None:
        names = list(self.synapse_type.get_native_names()) if self._parts == [] else list(self._parts[0][2])
        if self._parts:
            self._pre = np.concatenate([p[0] for p in self._parts])
            self._post = np.concatenate([p[1] for p in self._parts])
            self._parameters = {n: np.concatenate([p[2][n] for p in self._parts]) for n in names}
        else:
            self._pre = np.zeros(0, dtype=np.int64)
            self._post = np.zeros(0, dtype=np.int64)
            self._parameters = {n: np.zeros(0) for n in names}
        del self._parts
        self._store("delay", self._parameters["delay"])

    def _store(self, name: str, values: np.ndarray) -> None:
        """Replace one synaptic parameter (PyNN units); delays go on the step grid and are checked."""
        values = np.asarray(values, dtype=np.float64)
        if name == "delay":
            values = state.round_delay(values)
            if values.size and values.min() < state.dt * (1 - 1e-9):
                raise ConnectionRefused(
                    f"Projection {self.label!r}: delay {values.min():g} ms is below one time step ({state.dt:g} ms)"
                )
        self._parameters[name] = values
        if name == "weight":
            self._engine_weights_stale = True
        state.changed()

    # -- values ---------------------------------------------------------------------------

    @property
    def is_plastic(self) -> bool:
        return isinstance(self.synapse_type, STDPMechanism)

    def _values(self, name: str) -> np.ndarray:
        """Current values of a synaptic parameter, one per synapse; plastic weights come from the engine."""
        if name == "weight" and self.is_plastic and state.session is not None and not self._engine_weights_stale:
            current = state.session.plastic_weights(self)
            if current is not None:
                return current
        try:
            return self._parameters[name]
        except KeyError:
            raise AttributeError(f"Projection {self.label!r} has no synaptic parameter {name!r}") from None

    def _delay_range(self) -> tuple[float, float]:
        delays = self._parameters["delay"]
        return float(delays.min()), float(delays.max())

    def __len__(self) -> int:
        return int(self._pre.size)

    def __getitem__(self, i: int) -> Connection:
        return Connection(self, i)

    @property
    def connections(self) -> list[Connection]:
        return [Connection(self, i) for i in range(len(self))]

    def set(self, **attributes: object) -> None:
        # Plastic weights set here replace the engine's from the next run on.
        common.Projection.set(self, **attributes)

    def _set_attributes(self, parameter_space: ParameterSpace) -> None:
        parameter_space.evaluate(simplify=False)
        for name, value in parameter_space.items():
            if name not in self._parameters:
                raise NotSupported(f"Projection {self.label!r}: synaptic parameter {name!r} does not exist here")
            array = np.asarray(value, dtype=np.float64)
            per_synapse = array[self._pre, self._post] if array.ndim == 2 else np.broadcast_to(array, self._pre.shape)
            self._store(name, per_synapse.copy())

    def _set_initial_value_array(self, variable: str, value: object) -> None:
        raise NotSupported(f"Projection {self.label!r}: synaptic state variables ({variable!r}) cannot be set")

    def _get_attributes_as_list(self, names: list[str]) -> list[tuple]:
        columns = []
        for name in names:
            if name == "presynaptic_index":
                columns.append(self._pre.astype(np.float64))
            elif name == "postsynaptic_index":
                columns.append(self._post.astype(np.float64))
            else:
                columns.append(self._values(name))
        if not columns:
            return []
        return [tuple(row) for row in np.column_stack(columns).tolist()]

    def _get_attributes_as_arrays(self, names: list[str], multiple_synapses: str = "sum") -> list[np.ndarray]:
        operations = {"sum": np.add.at, "min": np.minimum.at, "max": np.maximum.at}
        result = []
        for name in names:
            values = self._values(name)
            array = np.full((self.pre.size, self.post.size), np.nan)
            if multiple_synapses in operations:
                start = {"sum": 0.0, "min": np.inf, "max": -np.inf}[multiple_synapses]
                filled = np.full_like(array, start)
                operations[multiple_synapses](filled, (self._pre, self._post), values)
                connected = np.zeros(array.shape, dtype=bool)
                connected[self._pre, self._post] = True
                array[connected] = filled[connected]
            else:
                order = np.arange(values.size) if multiple_synapses == "last" else np.arange(values.size)[::-1]
                array[self._pre[order], self._post[order]] = values[order]
            result.append(array)
        return result


__all__ = ["Connection", "Projection", "check_synapse_type"]
