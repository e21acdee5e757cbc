"""HLOP: Hebbian learning based orthogonal projection for continual learning of SNNs.

Xiao, Meng, Zhang, He & Lin, ICLR 2024 (arXiv 2402.11984); contract in
``specs/hlop.md``. The spiking network (input, ``IF_curr_delta`` hidden
layers, readouts) and its lateral subspace neurons are one
:class:`~neuromem.spec.Network` (:mod:`neuromem.models.hlop.description`):
the network trains by BPTT through the torch engine's differentiable module,
the lateral weights learn by the :class:`~neuromem.spec.SubspaceRule`
(Hebbian/anti-Hebbian, run by the torch engine), and weight updates for a new
task are projected off the subspace those lateral weights span. The trained
inference network exports to every backend and PyNN simulator
(:mod:`neuromem.models.hlop.export`) and as a NIR graph that snnTorch and
Norse load and run spike for spike (:mod:`neuromem.models.hlop.nir_export`).

Example
-------
>>> from neuromem.models.hlop import HLOPLearner, HLOPConfig, NetworkConfig, TrainConfig
>>> learner = HLOPLearner(NetworkConfig(hidden=(64,)), TrainConfig(), HLOPConfig())
>>> learner.train_task(0, images, labels)  # doctest: +SKIP
"""

from __future__ import annotations

from neuromem.models.hlop.baselines import EWCLearner, MultitaskLearner, SVDProjectionLearner
from neuromem.models.hlop.harness import Params, build_learner, load_params, run_method, run_sequence
from neuromem.models.hlop.io import load_learner, save_learner
from neuromem.models.hlop.learner import ContinualLearner, FineTuneLearner, TrainConfig
from neuromem.models.hlop.metrics import acc, bwt
from neuromem.models.hlop.network import NetworkConfig, SpikingNet
from neuromem.models.hlop.projection import HLOPConfig, HLOPLearner
from neuromem.models.hlop.subspace import LateralSubspace, principal_angles_deg

__all__ = [
    "ContinualLearner",
    "EWCLearner",
    "FineTuneLearner",
    "HLOPConfig",
    "HLOPLearner",
    "LateralSubspace",
    "MultitaskLearner",
    "NetworkConfig",
    "Params",
    "SVDProjectionLearner",
    "SpikingNet",
    "TrainConfig",
    "acc",
    "build_learner",
    "bwt",
    "load_learner",
    "load_params",
    "principal_angles_deg",
    "run_method",
    "run_sequence",
    "save_learner",
]
