"""Sparsey: macrocolumns of competitive modules, the code selection algorithm, hierarchy and sequences.

Modules, one job each:

- :mod:`~neuromem.models.sparsey.params`    CSA and level parameters (named, unit-free defaults)
- :mod:`~neuromem.models.sparsey.presets`   named parameter sets ``sparsey_*.toml`` shipped in ``resources/parameters``
- :mod:`~neuromem.models.sparsey.csa`       the CSA as pure tensor functions, the seeded tie hash
- :mod:`~neuromem.models.sparsey.backoff`   the recognition backoff chain (reduced-evidence retries)
- :mod:`~neuromem.models.sparsey.afferent`  receptive fields (which inputs feed which mac)
- :mod:`~neuromem.models.sparsey.inputs`    validation and shaping of binary inputs
- :mod:`~neuromem.models.sparsey.layer`     a grid of macs: learn / recognise / assign, freezing
- :mod:`~neuromem.models.sparsey.hierarchy` levels of mac grids, persistence, sequences
- :mod:`~neuromem.models.sparsey.readout`   class readouts on codes (Hebbian class nodes, linear SVM)
- :mod:`~neuromem.models.sparsey.classify`  single-pass training and per-level classification
- :mod:`~neuromem.models.sparsey.analysis`  code overlap, Spearman, analytic capacity, test patterns
- :mod:`~neuromem.models.sparsey.io`        save/load, one file each (:mod:`neuromem.fileformat`)
- :mod:`~neuromem.models.sparsey.spiking`   the recognition path of every level as one spiking network

The measurement protocols of the spec (P1 to P5) that the experiments and tests
share live in ``experiments/sparsey_protocols.py``.

Reference: G. J. Rinkus (2010), Front. Neuroanat. 4:17; (2014) Front. Comput.
Neurosci. 8:160; spec ``sparsey.md``.

Example
-------
>>> import torch
>>> from neuromem.models.sparsey import MacLayer
>>> layer = MacLayer.single(n_inputs=32, Q=4, K=4, seed=0)
>>> x = torch.zeros(32); x[:6] = 1
>>> stored = layer.learn(x).code
>>> bool((layer.recognise(x).code[:, 0] == stored).all())
True
"""

from __future__ import annotations

from neuromem.models.sparsey.afferent import Afferent
from neuromem.models.sparsey.hierarchy import Hierarchy
from neuromem.models.sparsey.io import load_hierarchy, load_layer, save_hierarchy, save_layer
from neuromem.models.sparsey.layer import FrameResult, MacLayer, code_to_cells
from neuromem.models.sparsey.params import CSAParams, LevelParams
from neuromem.models.sparsey.presets import NetworkPreset, load_network, load_preset

__all__ = [
    "Afferent",
    "CSAParams",
    "FrameResult",
    "Hierarchy",
    "LevelParams",
    "MacLayer",
    "NetworkPreset",
    "code_to_cells",
    "load_hierarchy",
    "load_layer",
    "load_network",
    "load_preset",
    "save_hierarchy",
    "save_layer",
]
