"""The torch backend: batched, device-agnostic, float32 or float64.

>>> from neuromem.backends import torch as backend
>>> "scheme:spinnaker" in backend.capabilities()
True
"""

from __future__ import annotations

from collections.abc import Sequence

import torch

from neuromem.backends.base import (
    ALL_FEATURES,
    check_build,
    check_build_cost,
    resolve_surrogate,
)
from neuromem.backends.torch.neurons import heaviside
from neuromem.backends.torch.simulation import TorchSimulation
from neuromem.errors import BackendError, ValidationError
from neuromem.spec import Network, checks

NAME = "torch"
PROPAGATION_MODES = ("auto", "dense", "event")
DTYPES = {"float32": torch.float32, "float64": torch.float64}


def capabilities() -> frozenset[str]:
    """Everything the spec can say except per-synapse delays on plastic projections."""
    return ALL_FEATURES


def is_available() -> bool:
    return True


def missing_reason() -> str:
    return ""


def resolve_device(device: str | torch.device) -> torch.device:
    """Parse ``device``; raises BackendError for unknown devices or a missing GPU."""
    try:
        resolved = torch.device(device)
    except (RuntimeError, TypeError):
        raise BackendError(f"unknown device {device!r}; use 'cpu', 'cuda' or 'cuda:N'") from None
    if resolved.type == "cuda":
        if not torch.cuda.is_available():
            raise BackendError(f"device {device!r} was requested but no CUDA GPU is available here; use 'cpu'")
        if resolved.index is not None and resolved.index >= torch.cuda.device_count():
            raise BackendError(f"device {device!r}: only {torch.cuda.device_count()} CUDA devices exist")
    elif resolved.type != "cpu":
        raise BackendError(f"device {device!r} is not supported by the torch backend; use 'cpu' or 'cuda'")
    return resolved


def build(
    network: Network,
    dt: float = 0.1,
    batch_size: int = 1,
    device: str | torch.device = "cpu",
    dtype: str | torch.dtype = "float32",
    seed: int = 0,
    trial_seeds: Sequence[int] | None = None,
    propagation: str = "auto",
    surrogate: str | None = None,
    progress: bool = False,
) -> TorchSimulation:
    """Build ``network`` for the torch backend.

    Parameters
    ----------
    network : Network
    dt : float
        Time step (ms).
    batch_size : int
        Independent trials run in one pass (leading dimension of every tensor).
    device : str
        ``"cpu"``, ``"cuda"`` or ``"cuda:N"``.
    dtype : {"float32", "float64"}
    seed, trial_seeds : int, sequence of int
        Trial b draws its Poisson inputs with seed ``trial_seeds[b]``
        (default ``seed + b``), so a batch reproduces single runs.
    propagation : {"auto", "dense", "event"}
        Static synapses as dense matmuls or event-driven gathers (identical
        results); ``auto`` chooses by size.
    surrogate : str or None
        Name of an ``snntorch.surrogate`` function (e.g. ``"atan"``) to make the
        threshold differentiable; None for a plain Heaviside step.
    progress : bool
        Show a progress bar during long runs.
    """
    dt, batch_size, seeds = check_build(network, NAME, capabilities(), dt, batch_size, seed, trial_seeds)
    checks.choice("build", "propagation", propagation, PROPAGATION_MODES)
    if isinstance(dtype, str):
        checks.choice("build", "dtype", dtype, tuple(DTYPES))
        dtype = DTYPES[dtype]
    elif dtype not in DTYPES.values():
        raise ValidationError(f"build: dtype = {dtype!r} is not one of float32, float64")
    spike_fn = resolve_surrogate(surrogate) or heaviside
    check_build_cost(network, dt, batch_size, "float32" if dtype == torch.float32 else "float64", NAME)
    return TorchSimulation(
        network,
        dt,
        batch_size,
        resolve_device(device),
        dtype,  # type: ignore[arg-type]
        seeds,
        propagation,
        spike_fn,
        progress,
    )


from neuromem.backends.torch.module import ModuleOutput, NetworkModule, module  # noqa: E402

__all__ = [
    "NAME",
    "ModuleOutput",
    "NetworkModule",
    "TorchSimulation",
    "build",
    "capabilities",
    "is_available",
    "module",
]
