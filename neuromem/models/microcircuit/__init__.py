"""The Potjans & Diesmann (2014) cortical microcircuit (Cerebral Cortex 24:785-806).

A 1 mm^2 patch of early sensory cortex: eight populations of current-based LIF
neurons with exponential synapses (L2/3, L4, L5, L6, each excitatory and
inhibitory; 77,169 neurons and about 0.3 billion synapses at full scale),
fixed-total-number wiring from the measured connection probabilities, normal
weights and delays, and a Poisson (or DC) background. ``scale`` and
``k_scale`` shrink neuron numbers and in-degrees as the NEST and PyNN reference
implementations do, with their DC compensation.

Modules, one job each:

- :mod:`~neuromem.models.microcircuit.params`     the published parameters, as data
- :mod:`~neuromem.models.microcircuit.scaling`    sizes, synapse counts, weights and DC at a scale
- :mod:`~neuromem.models.microcircuit.network`    ``build_network``: the spec Network
- :mod:`~neuromem.models.microcircuit.initial`    per-neuron initial potentials on the torch backend
- :mod:`~neuromem.models.microcircuit.statistics` rates, CV of ISI, spike-for-spike agreement
- :mod:`~neuromem.models.microcircuit.memory`     bytes of the spec's connection lists and the torch state

Example
-------
>>> net = build_network(scale=0.002, seed=1)
>>> len(net.populations), net.scheme
(16, 'exact')
"""

from __future__ import annotations

from neuromem.models.microcircuit.initial import apply_initial_potentials, initial_potentials
from neuromem.models.microcircuit.network import build_network
from neuromem.models.microcircuit.params import PD14, POPULATIONS, MicrocircuitParameters
from neuromem.models.microcircuit.scaling import Scaled, full_synapse_counts, psc_per_psp, scaled
from neuromem.models.microcircuit.statistics import cv_isi, first_difference_ms, rate_hz, summary

__all__ = [
    "PD14",
    "POPULATIONS",
    "MicrocircuitParameters",
    "Scaled",
    "apply_initial_potentials",
    "build_network",
    "cv_isi",
    "first_difference_ms",
    "full_synapse_counts",
    "initial_potentials",
    "psc_per_psp",
    "rate_hz",
    "scaled",
    "summary",
]
