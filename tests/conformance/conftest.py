"""Conformance fixtures: every scenario on every backend configuration.

A configuration is a backend and a float type: torch in float32 and float64,
Brian2 (always float64). Configurations whose backend is not installed are
skipped, so the same tests serve every installation. Tolerances scale with
the float type's machine epsilon.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pytest

from neuromem.backends import available_backends, build
from neuromem.backends.base import Simulation
from neuromem.record import Recording
from neuromem.spec import Network


@dataclass(frozen=True)
class Config:
    """One backend with one float type."""

    backend: str
    dtype: str

    @property
    def eps(self) -> float:
        """Machine epsilon of the float type."""
        return float(np.finfo(np.float32 if self.dtype == "float32" else np.float64).eps)

    def build(self, network: Network, dt: float, **options: object) -> Simulation:
        """Build ``network`` on this configuration (backend options pass through)."""
        if self.backend == "torch":
            return build(network, "torch", dt=dt, dtype=self.dtype, **options)
        options.pop("propagation", None)
        return build(network, self.backend, dt=dt, **options)

    def run(self, network: Network, duration: float, dt: float, **options: object) -> Recording:
        """Build, run ``duration`` ms once, return the recording."""
        return self.build(network, dt, **options).run(duration)


CONFIGS = [
    pytest.param(Config("torch", "float32"), id="torch-float32"),
    pytest.param(Config("torch", "float64"), id="torch-float64"),
    pytest.param(Config("brian2", "float64"), id="brian2", marks=pytest.mark.brian2),
]

#: The reference every other configuration is compared with.
REFERENCE = Config("torch", "float64")


@pytest.fixture(params=CONFIGS)
def config(request: pytest.FixtureRequest) -> Config:
    """Each backend configuration in turn; skipped where its backend is missing."""
    chosen: Config = request.param
    if chosen.backend not in available_backends():
        pytest.skip(f"backend {chosen.backend!r} is not available here")
    return chosen


@pytest.fixture
def brian2_config() -> Config:
    """The Brian2 configuration; skips the test where Brian2 is missing."""
    pytest.importorskip("brian2")
    if "brian2" not in available_backends():
        pytest.skip("backend 'brian2' is not available here")
    return Config("brian2", "float64")


@pytest.fixture
def reference() -> Config:
    """torch in float64: what the other configurations are compared with."""
    return REFERENCE
