"""Backends: the same network description, run by different engines.

>>> from neuromem.backends import available_backends
>>> "torch" in available_backends()
True
"""

from __future__ import annotations

import importlib
import inspect
from types import ModuleType

from neuromem.backends.base import DEFAULT_MAX_RECORDING_BYTES, Simulation
from neuromem.errors import BackendError, CapabilityError
from neuromem.spec import Network, checks

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


def build(
    network: Network,
    backend: str = "torch",
    dt: float = 0.1,
    max_recording_bytes: int = DEFAULT_MAX_RECORDING_BYTES,
    **options: object,
) -> Simulation:
    """Build ``network`` on ``backend`` with time step ``dt`` (ms).

    Options are backend-specific (torch: ``batch_size``, ``device``, ``dtype``,
    ``seed``, ``propagation``, ``surrogate``, ``progress``, ``fuse``, ``host_reads``; brian2:
    ``batch_size``, ``codegen_target``, ``seed``); an option the backend does
    not have is refused. ``max_recording_bytes`` bounds what one ``run`` may
    record (traces and weight snapshots; default 2 GB): a run that would
    record more is refused before it starts.
    """
    budget = checks.count("build", "max_recording_bytes", max_recording_bytes, minimum=1)
    module = backend_module(backend)
    accepted = set(inspect.signature(module.build).parameters) - {"network", "dt"}
    unknown = sorted(set(options) - accepted)
    if unknown:
        raise CapabilityError(
            f"backend {backend!r} has no option {', '.join(map(repr, unknown))};"
            f" its options: {', '.join(sorted(accepted))}"
        )
    simulation = module.build(network, dt=dt, **options)
    simulation.max_recording_bytes = budget
    return simulation  # type: ignore[no-any-return]


__all__ = ["BACKENDS", "Simulation", "available_backends", "backend_module", "build"]
