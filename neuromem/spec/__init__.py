"""The backend-independent network description.

Frozen, validated dataclasses with PyNN names and units (ms, mV, nA, nF, Hz).
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
from neuromem.spec.io import load, save
from neuromem.spec.network import ConnectionList, Network, Population, Probe, Projection
from neuromem.spec.neurons import LIFCurrExp, SpikeSourceArray, SpikeSourcePoisson
from neuromem.spec.plasticity import (
    STDP,
    AdditiveWeightDependence,
    CA3PairRule,
    MultiplicativeWeightDependence,
    SpikePairRule,
)
from neuromem.spec.schemes import SCHEMES, StepCoefficients, step_coefficients

__all__ = [
    "SCHEMES",
    "STDP",
    "AdditiveWeightDependence",
    "AllToAll",
    "CA3PairRule",
    "ConnectionList",
    "Connector",
    "FixedNumberPost",
    "FixedNumberPre",
    "FixedProbability",
    "FixedTotalNumber",
    "FromList",
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
    "load",
    "save",
    "step_coefficients",
]
