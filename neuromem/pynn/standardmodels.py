"""PyNN's standard cell and synapse types as the neuromem engine runs them.

Native parameters are PyNN's own (same names, same units), so every translation
is the identity. Standard types the engine cannot run exist under their PyNN
names and refuse to be created, with :class:`NotImplementedError` (PyNN's
convention for a model "not available for this simulator") naming what is.
"""

from __future__ import annotations

from pyNN.standardmodels import build_translations, cells, electrodes, receptors, synapses

from neuromem.pynn.celltypes import NEURON_TYPES, POISSON_PARAMETERS
from neuromem.pynn.errors import NotSupported
from neuromem.pynn.simulator import state


def _identity(*names: str) -> dict:
    return build_translations(*((name, name) for name in names))


# -- cells --------------------------------------------------------------------------------


class IF_curr_exp(cells.IF_curr_exp):  # noqa: N801 - PyNN's name
    __doc__ = cells.IF_curr_exp.__doc__
    translations = _identity(*NEURON_TYPES["IF_curr_exp"].parameters)
    recordable = list(NEURON_TYPES["IF_curr_exp"].recordables)


class IF_curr_delta(cells.IF_curr_delta):  # noqa: N801 - PyNN's name
    __doc__ = cells.IF_curr_delta.__doc__
    translations = _identity(*NEURON_TYPES["IF_curr_delta"].parameters)
    recordable = list(NEURON_TYPES["IF_curr_delta"].recordables)


class IF_cond_exp(cells.IF_cond_exp):  # noqa: N801 - PyNN's name
    __doc__ = cells.IF_cond_exp.__doc__
    translations = _identity(*NEURON_TYPES["IF_cond_exp"].parameters)
    recordable = list(NEURON_TYPES["IF_cond_exp"].recordables)


class Izhikevich(cells.Izhikevich):
    __doc__ = cells.Izhikevich.__doc__
    translations = _identity(*NEURON_TYPES["Izhikevich"].parameters)
    recordable = list(NEURON_TYPES["Izhikevich"].recordables)


class SpikeSourceArray(cells.SpikeSourceArray):
    __doc__ = cells.SpikeSourceArray.__doc__
    translations = _identity("spike_times")


class SpikeSourcePoisson(cells.SpikeSourcePoisson):
    __doc__ = cells.SpikeSourcePoisson.__doc__
    translations = _identity(*POISSON_PARAMETERS)


# -- synapses -----------------------------------------------------------------------------


def _minimum_delay() -> float:
    """PyNN's default delay: ``min_delay``, or one time step when it is ``"auto"``."""
    return state.dt if state._min_delay == "auto" else float(state._min_delay)


class StaticSynapse(synapses.StaticSynapse):
    __doc__ = synapses.StaticSynapse.__doc__
    translations = _identity("weight", "delay")

    def _get_minimum_delay(self) -> float:
        return _minimum_delay()


class STDPMechanism(synapses.STDPMechanism):
    __doc__ = synapses.STDPMechanism.__doc__
    base_translations = _identity("weight", "delay", "dendritic_delay_fraction")

    def _get_minimum_delay(self) -> float:
        return _minimum_delay()


class SpikePairRule(synapses.SpikePairRule):
    __doc__ = synapses.SpikePairRule.__doc__
    translations = _identity("tau_plus", "tau_minus", "A_plus", "A_minus")


class AdditiveWeightDependence(synapses.AdditiveWeightDependence):
    __doc__ = synapses.AdditiveWeightDependence.__doc__
    translations = _identity("w_min", "w_max")


class MultiplicativeWeightDependence(synapses.MultiplicativeWeightDependence):
    __doc__ = synapses.MultiplicativeWeightDependence.__doc__
    translations = _identity("w_min", "w_max")


# -- what the engine cannot run -----------------------------------------------------------

AVAILABLE = {
    "cell types": "IF_curr_exp, IF_curr_delta, IF_cond_exp, Izhikevich, SpikeSourceArray, SpikeSourcePoisson",
    "synapse types": "StaticSynapse, STDPMechanism",
    "STDP components": "SpikePairRule x AdditiveWeightDependence or MultiplicativeWeightDependence",
    "current sources": "DCSource, StepCurrentSource",
}

#: PyNN standard types the engine cannot run, by kind.
UNAVAILABLE = {
    "cell types": (
        "IF_curr_alpha",
        "IF_cond_alpha",
        "IF_cond_exp_gsfa_grr",
        "IF_facets_hardware1",
        "HH_cond_exp",
        "EIF_cond_alpha_isfa_ista",
        "EIF_cond_exp_isfa_ista",
        "GIF_cond_exp",
        "LIF",
        "AdExp",
        "PointNeuron",
        "MultiCompartmentNeuron",
        "SpikeSourcePoissonRefractory",
        "SpikeSourceGamma",
        "SpikeSourceInhGamma",
        "CurrExpPostSynapticResponse",
        "CondExpPostSynapticResponse",
        "CondAlphaPostSynapticResponse",
        "CondBetaPostSynapticResponse",
        "AlphaPSR",
        "ExpPSR",
    ),
    "synapse types": (
        "TsodyksMarkramSynapse",
        "ElectricalSynapse",
        "SimpleStochasticSynapse",
        "StochasticTsodyksMarkramSynapse",
        "MultiQuantalSynapse",
    ),
    "STDP components": ("AdditivePotentiationMultiplicativeDepression", "GutigWeightDependence", "Vogels2011Rule"),
    "current sources": ("ACSource", "NoisyCurrentSource"),
}


class ModelNotAvailable:
    """A PyNN standard type the neuromem engine cannot run; creating one raises NotImplementedError."""

    kind = "models"

    def __init__(self, *args: object, **kwargs: object) -> None:
        raise NotSupported(
            f"{type(self).__name__} is not available on the neuromem simulator: the engine has no such {self.kind[:-1]}"
            f" (available {self.kind}: {AVAILABLE[self.kind]})"
        )


def _unavailable_classes() -> dict[str, type]:
    """One refusing class per unavailable type, a subclass of PyNN's own where PyNN defines one.

    Subclassing PyNN's class keeps PyNN's type checks working (e.g. a cell class passed to
    ``Population(n, sim.IF_cond_exp, {})`` reaches its constructor, which refuses).
    """
    made = {}
    for kind, names in UNAVAILABLE.items():
        for name in names:
            bases = tuple(getattr(m, name) for m in (cells, synapses, electrodes, receptors) if hasattr(m, name))
            doc = f"Not available on the neuromem simulator: {name}."
            made[name] = type(name, (ModelNotAvailable, *bases[:1]), {"kind": kind, "__doc__": doc})
    return made


globals().update(_unavailable_classes())

__all__ = [
    "AVAILABLE",
    "UNAVAILABLE",
    "IF_cond_exp",
    "IF_curr_delta",
    "IF_curr_exp",
    "Izhikevich",
    "STDPMechanism",
    "AdditiveWeightDependence",
    "ModelNotAvailable",
    "MultiplicativeWeightDependence",
    "SpikePairRule",
    "SpikeSourceArray",
    "SpikeSourcePoisson",
    "StaticSynapse",
    *(name for names in UNAVAILABLE.values() for name in names),
]
