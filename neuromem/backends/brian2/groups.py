r"""Brian2 neuron groups: LIF populations under both schemes, and spike sources.

Variables are kept in PyNN units as plain numbers (V in mV, currents in nA,
``cm`` in nF) so that recorded values compare with the torch backend without
unit conversions; time constants are Brian2 quantities in ms. Since
1 nA / 1 nF = 1 mV/ms, the membrane equation reads::

    dv/dt = (v_rest - v)/tau_m + (I_E - I_I + i_offset)/(c_m ms)

``"exact"``: the three linear equations are integrated by Brian2's own
``exact`` method; arrivals add to ``I_E``/``I_I`` in the ``synapses`` slot,
i.e. after the state update and the threshold of their tick, which is the
order of :mod:`neuromem.spec.schemes`.

``"spinnaker"``: ``I_E``/``I_I`` are constant over the step (plain
parameters for the ``exact`` integrator). Arrivals of tick n are delivered one
tick early into the accumulators ``I_E_in``/``I_I_in``, folded in before the
state update of tick n (``I += k I_in``), and the currents decay after the
reset (``I *= exp(-dt/tau_syn)``).

Refractoriness: Brian2's ``refractory`` keeps a neuron silent for
``timestep(t - lastspike) < timestep(refractory)``, i.e. for one step less than
our ``R`` steps *after* the spike step, so the group is given
``(R + 1) dt``; V is held at ``v_reset`` by a clamp right after the state
update (V integrates freely and is overwritten), which keeps the ``exact``
solver's algebra valid when ``tau_syn == tau_m``.
"""

from __future__ import annotations

import brian2
import numpy as np
from brian2 import ms

from neuromem.spec import LIFCurrExp, step_coefficients

_EXACT_EQUATIONS = """
dv/dt = (v_rest - v)/{tau_m} + (I_E - I_I + i_offset)/(c_m*ms) : 1
dI_E/dt = -I_E/{tau_syn_E} : 1
dI_I/dt = -I_I/{tau_syn_I} : 1
"""

_SPINNAKER_EQUATIONS = """
dv/dt = (v_rest - v)/tau_m + (I_E - I_I + i_offset)/(c_m*ms) : 1
I_E : 1
I_I : 1
I_E_in : 1
I_I_in : 1
"""

#: Brian2 variable of each recordable neuron variable.
TRACE_VARIABLES = {"v": "v", "i_exc": "I_E", "i_inh": "I_I"}


def _equations(cell: LIFCurrExp, scheme: str) -> str:
    if scheme == "spinnaker":
        return _SPINNAKER_EQUATIONS
    names = {"tau_m": "tau_m", "tau_syn_E": "tau_syn_E", "tau_syn_I": "tau_syn_I"}
    for receptor in ("tau_syn_E", "tau_syn_I"):
        # Equal time constants make the symbolic solution 0/0; with numbers in
        # the equations the solver finds the degenerate t exp(-t/tau) solution.
        if abs(getattr(cell, receptor) - cell.tau_m) < 1e-9 * cell.tau_m:
            literal = f"({cell.tau_m!r}*ms)"
            names[receptor] = literal
            names["tau_m"] = literal
    return _EXACT_EQUATIONS.format(**names)


def lif_group(
    cell: LIFCurrExp, size: int, dt: float, scheme: str, clock: brian2.Clock, codeobj_class: type, name: str
) -> tuple[brian2.NeuronGroup, list[brian2.BrianObject]]:
    """A NeuronGroup ``name`` of ``size`` cells (all trials) and its helper operations.

    Returns the group and the objects to add to the network with it.
    """
    k = step_coefficients(cell, dt, scheme)
    namespace = {
        "tau_m": cell.tau_m * ms,
        "tau_syn_E": cell.tau_syn_E * ms,
        "tau_syn_I": cell.tau_syn_I * ms,
        "c_m": cell.cm,
        "v_rest": cell.v_rest,
        "v_reset": cell.v_reset,
        "v_thresh": cell.v_thresh,
        "i_offset": cell.i_offset,
        "k_E": k.input_E,
        "k_I": k.input_I,
        "decay_E": k.decay_E,
        "decay_I": k.decay_I,
        "ms": ms,
    }
    group = brian2.NeuronGroup(
        size,
        _equations(cell, scheme),
        threshold="v >= v_thresh",
        reset="v = v_reset",
        refractory=(k.refractory_steps + 1) * dt * ms,
        method="exact",
        namespace=namespace,
        clock=clock,
        codeobj_class=codeobj_class,
        name=name,
    )
    group.v = cell.initial_v
    operations = [
        group.run_regularly(
            "v = v*int(not_refractory) + v_reset*(1 - int(not_refractory))",
            when="groups",
            order=1,
            codeobj_class=codeobj_class,
            name=f"{name}_hold",
        )
    ]
    if scheme == "spinnaker":
        operations.append(
            group.run_regularly(
                "I_E = I_E + k_E*I_E_in\nI_I = I_I + k_I*I_I_in\nI_E_in = 0\nI_I_in = 0",
                when="before_groups",
                codeobj_class=codeobj_class,
                name=f"{name}_arrive",
            )
        )
        operations.append(
            group.run_regularly(
                "I_E = I_E*decay_E\nI_I = I_I*decay_I",
                when="after_resets",
                codeobj_class=codeobj_class,
                name=f"{name}_decay",
            )
        )
    return group, operations


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
