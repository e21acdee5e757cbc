"""Population, PopulationView and Assembly of the neuromem PyNN simulator.

Parameters are kept per neuron as numpy arrays under their PyNN names (the
engine's names too). The session reads them at each run and groups neurons
with identical parameters into one engine population, so any mix of
per-neuron values runs as given.
"""

from __future__ import annotations

import numpy as np
from pyNN import common
from pyNN.parameters import LazyArray, ParameterSpace, Sequence, simplify
from pyNN.standardmodels import StandardCellType

from neuromem.errors import ValidationError
from neuromem.pynn import simulator
from neuromem.pynn.celltypes import NEURON_TYPES, SOURCE_TYPES
from neuromem.pynn.errors import InvalidParameterValue, NotSupported
from neuromem.pynn.recording import Recorder

state = simulator.state


def check_spike_times(values: np.ndarray) -> None:
    """Refuse spike-time sequences that are not in increasing order or start before one step."""
    for sequence in np.atleast_1d(values):
        times = np.asarray(sequence.value if isinstance(sequence, Sequence) else sequence, dtype=np.float64)
        if np.any(times[:-1] > times[1:]):
            raise InvalidParameterValue("Spike times given to SpikeSourceArray must be in increasing order")
        if times.size and times[0] < state.dt * (1 - 1e-9):
            raise InvalidParameterValue(
                f"SpikeSourceArray: spike time {times[0]:g} ms is earlier than one time step ({state.dt:g} ms);"
                " a spike sent in the step from 0 to dt is stamped dt (NEST's convention), so times start at dt"
            )


def check_neuron_parameters(celltype: object, parameters: dict[str, np.ndarray], label: str) -> None:
    """Build the spec cell of every distinct parameter set, so bad values fail now with the engine's reason."""
    entry = NEURON_TYPES[type(celltype).__name__]
    matrix = np.column_stack([np.asarray(parameters[name], dtype=np.float64) for name in entry.parameters])
    for row in np.unique(matrix, axis=0):
        try:
            entry.spec_cell(**dict(zip(entry.parameters, row.tolist())))
        except ValidationError as error:
            raise InvalidParameterValue(f"Population {label!r}: {error}") from None


class Assembly(common.Assembly):
    _simulator = simulator


class _ViewInitialValues:
    """``view.initial_values[name]``: the parent's initial values, seen through the view's mask."""

    def __init__(self, view: PopulationView) -> None:
        self.view = view

    def __getitem__(self, name: str) -> LazyArray:
        parent = self.view.parent
        values = parent.initial_values[name].evaluate(simplify=False)
        return LazyArray(np.asarray(values)[self.view.mask], shape=(self.view.size,))

    def __setitem__(self, name: str, value: LazyArray) -> None:
        parent = self.view.parent
        values = np.array(parent.initial_values[name].evaluate(simplify=False), dtype=np.float64)
        values = np.broadcast_to(values, (parent.size,)).copy()
        values[self.view.mask] = value.evaluate(simplify=False)
        parent.initial_values[name] = LazyArray(values, shape=(parent.size,), dtype=float)

    def __contains__(self, name: str) -> bool:
        return name in self.view.parent.initial_values


class _ParameterAccess:
    """Reading and writing native (= PyNN) parameters, shared by Population and PopulationView."""

    def _get_parameters(self, *names: str) -> ParameterSpace:
        return self._get_native_parameters(*names)

    def _get_view(self, selector: object, label: str | None = None) -> PopulationView:
        return PopulationView(self, selector, label)


class PopulationView(_ParameterAccess, common.PopulationView):
    __doc__ = common.PopulationView.__doc__
    _assembly_class = Assembly
    _simulator = simulator

    @property
    def initial_values(self) -> _ViewInitialValues:  # type: ignore[override]
        return _ViewInitialValues(self)

    @property
    def _root_mask(self) -> np.ndarray:
        return np.asarray(self.index_in_grandparent(np.arange(self.size)), dtype=np.int64)

    def _get_native_parameters(self, *names: str) -> ParameterSpace:
        root, mask = self.grandparent, self._root_mask
        values = {name: simplify(root._parameters[name][mask]) for name in names}
        return ParameterSpace(values, shape=(self.size,))

    def _set_parameters(self, parameter_space: ParameterSpace) -> None:
        self.grandparent._write_parameters(parameter_space, self._root_mask, self.size)

    def _set_initial_value_array(self, variable: str, initial_values: LazyArray) -> None:
        self.grandparent._initial_state_changed(variable)


class Population(_ParameterAccess, common.Population):
    __doc__ = common.Population.__doc__
    _simulator = simulator
    _recorder_class = Recorder
    _assembly_class = Assembly

    def _create_cells(self) -> None:
        name = type(self.celltype).__name__
        if not isinstance(self.celltype, StandardCellType) or (name not in NEURON_TYPES and name not in SOURCE_TYPES):
            raise NotSupported(
                f"Population {self.label!r}: cell type {name} is not available on the neuromem simulator"
                f" (available: {', '.join([*NEURON_TYPES, *SOURCE_TYPES])})"
            )
        first = state.id_counter
        self.all_cells = np.array([simulator.ID(i) for i in range(first, first + self.size)], dtype=simulator.ID)
        self._mask_local = np.ones(self.size, dtype=bool)
        space = self.celltype.native_parameters
        space.shape = (self.size,)
        space.evaluate(simplify=False)
        self._parameters = {key: np.array(value) for key, value in space.as_dict().items()}
        self._check(self._parameters)
        for cell in self.all_cells:
            cell.parent = self
        state.id_counter += self.size
        state.populations.append(self)
        state.changed()

    def _check(self, parameters: dict[str, np.ndarray]) -> None:
        if "spike_times" in parameters:
            check_spike_times(parameters["spike_times"])
        elif type(self.celltype).__name__ in NEURON_TYPES:
            check_neuron_parameters(self.celltype, parameters, str(self.label))

    def _get_native_parameters(self, *names: str) -> ParameterSpace:
        return ParameterSpace({name: simplify(self._parameters[name]) for name in names}, shape=(self.size,))

    def _set_parameters(self, parameter_space: ParameterSpace) -> None:
        self._write_parameters(parameter_space, np.arange(self.size), self.size)

    def _write_parameters(self, parameter_space: ParameterSpace, mask: np.ndarray, size: int) -> None:
        """Write translated parameters of the neurons ``mask``; spike times are checked now, the rest at the run."""
        parameter_space.shape = (size,)
        parameter_space.evaluate(simplify=False)
        for name, value in parameter_space.items():
            if name not in self._parameters:
                raise InvalidParameterValue(f"Population {self.label!r}: {name!r} is not a parameter of this cell type")
            array = self._parameters[name].copy()
            array[mask] = value
            if name == "spike_times":
                check_spike_times(array[mask])
            self._parameters[name] = array
        if set(parameter_space.keys()) != {"spike_times"}:
            # Spike times travel with each run; everything else shapes the engine network.
            state.changed()

    def _set_initial_value_array(self, variable: str, initial_values: LazyArray) -> None:
        self._initial_state_changed(variable)

    def _initial_state_changed(self, variable: str) -> None:
        """``initialize`` during a simulation also sets the current state (as NEST does), at the next run."""
        entry = NEURON_TYPES.get(type(self.celltype).__name__)
        if entry is None or variable not in entry.state:
            raise InvalidParameterValue(
                f"Population {self.label!r}: {variable!r} is not a state variable of {type(self.celltype).__name__}"
                f" (state variables: {', '.join(entry.state) if entry else 'none'})"
            )
        if state.session is not None:
            state.session.state_changed(self, variable)


__all__ = ["Assembly", "Population", "PopulationView"]
