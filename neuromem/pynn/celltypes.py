"""The one table from PyNN's standard cell types to neuromem's cell types.

PyNN's parameter names and units are neuromem's (ms, mV, nA, nF, Hz), so a
neuron type maps by name: the PyNN parameters listed here are passed unchanged
to the spec cell's constructor. A new engine cell type joins the front-end by
one entry in :data:`NEURON_TYPES` (and its PyNN class in
:mod:`neuromem.pynn.standardmodels`); spike sources have their own entries
because they carry spikes, not parameters of a membrane.

==================  ======================  ===============================================
PyNN type           neuromem spec type      recordables (PyNN -> engine probe)
==================  ======================  ===============================================
IF_curr_exp         ``IF_curr_exp``         spikes, v, isyn_exc -> i_exc, isyn_inh -> i_inh
IF_curr_delta       ``IF_curr_delta``       spikes, v (weights in mV)
IF_cond_exp         ``IF_cond_exp``         spikes, v, gsyn_exc, gsyn_inh (weights in uS)
Izhikevich          ``Izhikevich``          spikes, v, u (weights in mV)
SpikeSourceArray    ``SpikeSourceArray``    spikes
SpikeSourcePoisson  ``SpikeSourcePoisson``  spikes
==================  ======================  ===============================================
"""

from __future__ import annotations

from dataclasses import dataclass, field

from neuromem.cells import IF_cond_exp, IF_curr_delta, IF_curr_exp, Izhikevich
from neuromem.spec import SpikeSourceArray, SpikeSourcePoisson


@dataclass(frozen=True)
class NeuronType:
    """How one PyNN standard neuron type becomes a spec cell.

    Attributes
    ----------
    pynn_name : str
        PyNN's class name.
    spec_cell : type
        The spec cell class; built with ``spec_cell(**{name: value for name in parameters})``.
    parameters : tuple of str
        PyNN parameter names, passed by the same name (same units) to ``spec_cell``.
    state : dict
        PyNN state variable (an ``initialize`` name) -> engine state variable.
    recordables : dict
        PyNN recordable -> engine probe variable (``spikes`` included).
    units : dict
        Unit of each recordable except spikes.
    conductance_based : bool
        Weights are conductances (uS), positive for both receptors (PyNN's convention).
    """

    pynn_name: str
    spec_cell: type
    parameters: tuple[str, ...]
    state: dict[str, str] = field(default_factory=dict)
    recordables: dict[str, str] = field(default_factory=dict)
    units: dict[str, str] = field(default_factory=dict)
    conductance_based: bool = False


NEURON_TYPES: dict[str, NeuronType] = {
    "IF_curr_exp": NeuronType(
        pynn_name="IF_curr_exp",
        spec_cell=IF_curr_exp,
        parameters=("cm", "tau_m", "tau_refrac", "tau_syn_E", "tau_syn_I", "v_rest", "v_reset", "v_thresh", "i_offset"),
        state={"v": "v", "isyn_exc": "i_exc", "isyn_inh": "i_inh"},
        recordables={"spikes": "spikes", "v": "v", "isyn_exc": "i_exc", "isyn_inh": "i_inh"},
        units={"v": "mV", "isyn_exc": "nA", "isyn_inh": "nA"},
    ),
    "IF_curr_delta": NeuronType(
        pynn_name="IF_curr_delta",
        spec_cell=IF_curr_delta,
        parameters=("cm", "tau_m", "tau_refrac", "v_rest", "v_reset", "v_thresh", "i_offset"),
        state={"v": "v"},
        recordables={"spikes": "spikes", "v": "v"},
        units={"v": "mV"},
    ),
    "IF_cond_exp": NeuronType(
        pynn_name="IF_cond_exp",
        spec_cell=IF_cond_exp,
        parameters=(
            "cm",
            "tau_m",
            "tau_refrac",
            "tau_syn_E",
            "tau_syn_I",
            "e_rev_E",
            "e_rev_I",
            "v_rest",
            "v_reset",
            "v_thresh",
            "i_offset",
        ),
        state={"v": "v", "gsyn_exc": "gsyn_exc", "gsyn_inh": "gsyn_inh"},
        recordables={"spikes": "spikes", "v": "v", "gsyn_exc": "gsyn_exc", "gsyn_inh": "gsyn_inh"},
        units={"v": "mV", "gsyn_exc": "uS", "gsyn_inh": "uS"},
        conductance_based=True,
    ),
    "Izhikevich": NeuronType(
        pynn_name="Izhikevich",
        spec_cell=Izhikevich,
        parameters=("a", "b", "c", "d", "i_offset"),
        state={"v": "v", "u": "u"},
        recordables={"spikes": "spikes", "v": "v", "u": "u"},
        units={"v": "mV", "u": "mV/ms"},
    ),
}

#: PyNN spike-source type -> spec source class (their spikes are generated, not integrated).
SOURCE_TYPES: dict[str, type] = {
    "SpikeSourceArray": SpikeSourceArray,
    "SpikeSourcePoisson": SpikeSourcePoisson,
}

#: Parameters of SpikeSourcePoisson that define a group of identical trains (Hz, ms, ms).
POISSON_PARAMETERS = ("rate", "start", "duration")


def neuron_type(celltype: object) -> NeuronType | None:
    """The table entry of a PyNN cell type instance, or None for a spike source."""
    return NEURON_TYPES.get(type(celltype).__name__)


__all__ = ["NEURON_TYPES", "POISSON_PARAMETERS", "SOURCE_TYPES", "NeuronType", "neuron_type"]
