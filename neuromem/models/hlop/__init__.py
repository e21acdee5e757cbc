"""HLOP: Hebbian learning based orthogonal projection for continual learning of SNNs.

Xiao, Meng, Zhang, He & Lin, ICLR 2024 (arXiv 2402.11984); contract in
``specs/hlop.md``. Spiking layers (snnTorch LIF) whose weight updates for a new
task are projected off the principal subspace of earlier tasks' presynaptic
activity, found by lateral Hebbian/anti-Hebbian neurons.

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
