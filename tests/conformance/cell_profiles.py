"""Cell-type profiles shared by the conformance scenarios (fresh objects per call).

A profile gives, for one registered cell type, a cell whose time constants
lie far from the step, the weight that makes one input fire a resting cell,
and the latency rule of its schemes: how many ticks after its arrival tick a
suprathreshold input fires the cell (:mod:`neuromem.spec.schemes`).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import pytest

from neuromem.spec import CellType, IF_cond_exp, IF_curr_delta, IF_curr_exp, Izhikevich


@dataclass(frozen=True)
class CellProfile:
    """How the scenarios drive one cell type."""

    name: str
    make: Callable[..., CellType]
    strong: float
    latency: dict[str, int]

    @property
    def schemes(self) -> tuple[str, ...]:
        return tuple(self.latency)


def _curr_exp(**changes: float) -> CellType:
    parameters = dict(cm=0.25, tau_m=10.0, tau_syn_E=1.0, tau_syn_I=1.0, tau_refrac=5.0, v_thresh=-55.0)
    parameters.update(changes)
    return IF_curr_exp(**parameters)


def _curr_delta(**changes: float) -> CellType:
    parameters = dict(cm=0.25, tau_m=10.0, tau_refrac=5.0, v_thresh=-55.0)
    parameters.update(changes)
    return IF_curr_delta(**parameters)


def _cond_exp(**changes: float) -> CellType:
    parameters = dict(
        cm=0.25, tau_m=10.0, tau_syn_E=1.0, tau_syn_I=1.0, tau_refrac=5.0, v_thresh=-55.0, e_rev_E=0.0, e_rev_I=-80.0
    )
    parameters.update(changes)
    return IF_cond_exp(**parameters)


def _izhikevich(**changes: float) -> CellType:
    return Izhikevich(**changes)


PROFILES = {
    # One input of 60 nA (1 ms current) carries V 10 mV up within a step.
    "IF_curr_exp": CellProfile("IF_curr_exp", _curr_exp, strong=60.0, latency={"exact": 1, "spinnaker": 0}),
    "IF_curr_delta": CellProfile("IF_curr_delta", _curr_delta, strong=20.0, latency={"exact": 0, "spinnaker": 0}),
    # 0.6 uS at 65 mV of driving force: 156 mV/ms, far over threshold within 0.1 ms.
    "IF_cond_exp": CellProfile("IF_cond_exp", _cond_exp, strong=0.6, latency={"exact": 1, "spinnaker": 0}),
    # From rest (-70 mV) a step of 120 mV lands above the 30 mV peak.
    "Izhikevich": CellProfile("Izhikevich", _izhikevich, strong=120.0, latency={"exact": 0}),
}


def cases(*names: str) -> list[object]:
    """pytest params (profile, scheme) of the named cell types (all by default) under every scheme they support."""
    chosen = names or tuple(PROFILES)
    return [
        pytest.param(PROFILES[name], scheme, id=f"{name}-{scheme}")
        for name in chosen
        for scheme in PROFILES[name].schemes
    ]
