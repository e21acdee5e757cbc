r"""Brian2 neuron groups built from each cell type's :class:`~neuromem.cells.base.Brian2Model`.

The equations, threshold, reset, integration method and helper operations
of a cell type live in its module (:mod:`neuromem.cells`); this module turns
them into a ``NeuronGroup`` with its ``run_regularly`` operations. Variables
are kept in PyNN units as plain numbers (V in mV, currents in nA, ``cm`` in
nF, conductances in uS) so that recorded values compare with the torch
backend without conversions; time constants are Brian2 quantities in ms.

Refractoriness: Brian2's ``refractory`` keeps a neuron silent for
``timestep(t - lastspike) < timestep(refractory)``, i.e. for one step less than
our ``R`` steps *after* the spike step, so the group is given
``(R + 1) dt``; V is held at ``v_reset`` by an operation right after the state
update (V integrates freely and is overwritten), which keeps the ``exact``
solver's algebra valid when ``tau_syn == tau_m``.

Current sources: every group has ``i_inj`` (nA); a network operation at the
start of each switch tick writes the current of every neuron (the sum over
the sources that target it), so the state update of that step uses it.
"""

from __future__ import annotations

import brian2
import numpy as np
from brian2 import ms

from neuromem.cells.base import Brian2Model, CellType
from neuromem.cells.registry import model_of


def model(cell: CellType, scheme: str, dt: float) -> Brian2Model:
    """The Brian2 model of ``cell`` under ``scheme``."""
    return model_of(cell).brian2(cell, scheme, dt)


def neuron_group(
    cell: CellType, size: int, dt: float, scheme: str, clock: brian2.Clock, codeobj_class: type, name: str
) -> tuple[brian2.NeuronGroup, list[brian2.BrianObject], Brian2Model]:
    """A NeuronGroup ``name`` of ``size`` cells (all trials), its helper operations and its model."""
    spec = model(cell, scheme, dt)
    namespace: dict[str, object] = {"ms": ms}
    for key, value in spec.namespace.items():
        namespace[key] = value * ms if key.startswith("tau") else value
    refractory = 0 * ms if spec.refractory_steps is None else (spec.refractory_steps + 1) * dt * ms
    group = brian2.NeuronGroup(
        size,
        spec.equations,
        threshold=spec.threshold,
        reset=spec.reset,
        refractory=refractory,
        method=spec.method,
        namespace=namespace,
        clock=clock,
        codeobj_class=codeobj_class,
        name=name,
    )
    for variable, value in spec.initial.items():
        setattr(group, variable, value)
    operations = [
        group.run_regularly(code, when=when, order=order, codeobj_class=codeobj_class, name=f"{name}_{label}")
        for label, code, when, order in spec.operations
    ]
    return group, operations, spec


def source_group(size: int, clock: brian2.Clock, codeobj_class: type, name: str) -> brian2.SpikeGeneratorGroup:
    """An empty SpikeGeneratorGroup; its spikes are set before every run."""
    return brian2.SpikeGeneratorGroup(
        size,
        np.zeros(0, dtype=np.int64),
        np.zeros(0) * ms,
        clock=clock,
        codeobj_class=codeobj_class,
        name=name,
    )
