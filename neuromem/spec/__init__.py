"""The backend-independent network description.

Frozen, validated dataclasses with PyNN names and units (ms, mV, nA, nF, uS, Hz).
Cell types are plug-ins of :mod:`neuromem.cells`.
"""

from __future__ import annotations

from neuromem.spec.connect import (
    AllToAll,
    Connector,
    FixedNumberPost,
    FixedNumberPre,
    FixedProbability,
    FixedTotalNumber,
    FromList,
    OneToOne,
)
from neuromem.spec.currents import CurrentSource, DCSource, StepCurrentSource
from neuromem.spec.io import load, save
from neuromem.spec.network import ConnectionList, Network, Population, Probe, Projection
from neuromem.spec.neurons import (
    CellType,
    IF_cond_exp,
    IF_curr_delta,
    IF_curr_exp,
    Izhikevich,
    LIFCurrExp,
    SpikeSourceArray,
    SpikeSourcePoisson,
)
from neuromem.spec.plasticity import (
    STDP,
    AdditiveWeightDependence,
    CA3PairRule,
    MultiplicativeWeightDependence,
    SpikePairRule,
    SubspaceRule,
)
from neuromem.spec.schemes import SCHEMES, StepCoefficients, step_coefficients

__all__ = [
    "SCHEMES",
    "STDP",
    "AdditiveWeightDependence",
    "AllToAll",
    "CA3PairRule",
    "SubspaceRule",
    "CellType",
    "ConnectionList",
    "Connector",
    "CurrentSource",
    "DCSource",
    "FixedNumberPost",
    "FixedNumberPre",
    "FixedProbability",
    "FixedTotalNumber",
    "FromList",
    "IF_cond_exp",
    "IF_curr_delta",
    "IF_curr_exp",
    "Izhikevich",
    "LIFCurrExp",
    "MultiplicativeWeightDependence",
    "Network",
    "OneToOne",
    "Population",
    "Probe",
    "Projection",
    "SpikePairRule",
    "SpikeSourceArray",
    "SpikeSourcePoisson",
    "StepCoefficients",
    "StepCurrentSource",
    "load",
    "save",
    "step_coefficients",
]
