"""HLOP's lateral circuit: the torch engine's :class:`~neuromem.spec.SubspaceRule` kernel.

Re-exported here under the names HLOP has always used; the rule is defined in
:mod:`neuromem.spec.plasticity` and run by :mod:`neuromem.backends.torch.subspace`.
"""

from __future__ import annotations

from neuromem.backends.torch.subspace import (
    FitHistory,
    LateralSubspace,
    principal_angles_deg,
    subspace_from_network,
    with_lateral_weights,
)

__all__ = ["FitHistory", "LateralSubspace", "principal_angles_deg", "subspace_from_network", "with_lateral_weights"]
