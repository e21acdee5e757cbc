"""Backends: the same network description, run by different engines.

>>> from neuromem.backends import available_backends
>>> "torch" in available_backends()
True
"""

from __future__ import annotations

import importlib
from types import ModuleType

from neuromem.backends.base import Simulation
from neuromem.errors import BackendError
from neuromem.spec import Network

BACKENDS = {"torch": "neuromem.backends.torch", "brian2": "neuromem.backends.brian2"}


def backend_module(name: str) -> ModuleType:
    """The module of backend ``name``; raises BackendError if unknown or not installed."""
    if name not in BACKENDS:
        raise BackendError(f"unknown backend {name!r}; choose one of {', '.join(sorted(BACKENDS))}")
    try:
        module = importlib.import_module(BACKENDS[name])
    except ImportError as error:
        raise BackendError(f"backend {name!r} is not installed: {error}") from error
    if not module.is_available():
        raise BackendError(f"backend {name!r} is not available: {module.missing_reason()}")
    return module


def available_backends() -> list[str]:
    """Names of the backends that can run here."""
    names = []
    for name in BACKENDS:
        try:
            backend_module(name)
        except BackendError:
            continue
        names.append(name)
    return names


def build(network: Network, backend: str = "torch", dt: float = 0.1, **options: object) -> Simulation:
    """Build ``network`` on ``backend`` with time step ``dt`` (ms).

    Options are backend-specific (torch: ``batch_size``, ``device``, ``dtype``,
    ``seed``, ``propagation``; brian2: ``codegen_target``, ``seed``).
    """
    return backend_module(backend).build(network, dt=dt, **options)  # type: ignore[no-any-return]


__all__ = ["BACKENDS", "Simulation", "available_backends", "backend_module", "build"]
