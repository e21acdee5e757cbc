"""The torch backend: batched, device-agnostic, float32 or float64.

>>> from neuromem.backends import torch as backend
>>> "scheme:spinnaker" in backend.capabilities()
True
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Sequence

import torch

from neuromem.backends.base import (
    ALL_FEATURES,
    check_build,
    check_build_cost,
    check_build_memory,
    check_capabilities,
    check_step_constants,
    resolve_surrogate,
)
from neuromem.backends.torch.neurons import heaviside
from neuromem.backends.torch.simulation import TorchSimulation
from neuromem.errors import BackendError, CapabilityError, ValidationError
from neuromem.spec import Network, checks

NAME = "torch"
PROPAGATION_MODES = ("auto", "dense", "event")
HOST_READS = ("auto", "never", "allowed")
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
    fuse: bool = False,
    host_reads: str = "auto",
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
    fuse : bool
        Compile each cell type's update into fused kernels (``torch.compile``;
        pays off on a GPU, where every eager operation is a kernel launch).
        The compiled update is checked bit for bit against the plain one at
        build time and refused (CapabilityError) where it would change results
        (:mod:`neuromem.backends.torch.fusion`). Adds the compile time (seconds)
        to the build.
    host_reads : {"auto", "never", "allowed"}
        Whether the steps of a run may read device values on the host (how
        many neurons spiked, how many synapses their rows hold). ``"allowed"``:
        every selection is sized exactly when it is made (free on a CPU).
        ``"never"``: selections have capacities fixed per chunk of steps; the
        device records what they needed, the host reads that once per chunk and
        reruns a chunk whose capacity was too small with a grown one (no
        stalls on a GPU). Results are identical. ``"auto"``: ``"never"`` on
        CUDA, ``"allowed"`` on a CPU.
    """
    dt, batch_size, seeds = check_build(network, NAME, capabilities(), dt, batch_size, seed, trial_seeds)
    checks.choice("build", "propagation", propagation, PROPAGATION_MODES)
    checks.choice("build", "host_reads", host_reads, HOST_READS)
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
        checks.boolean("build", "fuse", fuse),
        host_reads,
    )


from neuromem.backends.torch.module import ModuleOutput, NetworkModule  # noqa: E402


def module(
    network: Network,
    dt: float = 0.1,
    dtype: str | torch.dtype = "float32",
    device: str | torch.device = "cpu",
    propagation: str = "auto",
    surrogate: str | Callable[[torch.Tensor], torch.Tensor] = "fast_sigmoid",
    train_time_constants: bool = False,
    freeze_plastic: bool = False,
    outputs: Sequence[str] | None = None,
    seed: int = 0,
) -> NetworkModule:
    """The network as a ``torch.nn.Module`` for training (see the module docstring).

    Parameters
    ----------
    network : Network
    dt : float
        Time step (ms).
    dtype, device
        As for :func:`neuromem.backends.torch.build`.
    propagation : {"auto", "dense", "event", "projection"}
        Static synapses as the simulation's merged dense matmuls or event-driven
        gathers (same values, same gradients, the simulation's spikes bit for
        bit), or ``"projection"``: one matmul per projection, excitatory and
        inhibitory pairs fused where the cell reads only their difference, and
        zero presynaptic steps skipped (:mod:`neuromem.backends.torch.routes`;
        the same sums up to float rounding, much less work for layered
        networks; needed by the online rule of :meth:`NetworkModule.step`).
    surrogate : str or callable
        Name of an ``snntorch.surrogate`` function of the build's list
        (:data:`neuromem.backends.base.SURROGATES`: ``"fast_sigmoid"``,
        ``"atan"``, ``"sigmoid"``...) with its default slope, or a function of
        ``V - threshold`` (mV) returning spikes with the gradient to use, e.g.
        ``snntorch.surrogate.fast_sigmoid(slope=2.0)``: slopes are per mV, and
        snnTorch's defaults assume thresholds of about 1. Another callable is
        used in the forward pass as well, also without gradients.
    train_time_constants : bool
        Make ``tau_m`` (and ``tau_syn_E``, ``tau_syn_I`` where the cell has them)
        of every neuron population parameters too.
    freeze_plastic : bool
        Train plastic projections' initial weights as static ones; otherwise
        a plastic projection is refused.
    outputs : sequence of str or None
        Populations whose spikes and voltages forward returns (default every neuron population).
    seed : int
        Trial b of the network's own Poisson sources draws with seed ``seed + b``.

    Raises
    ------
    CapabilityError
        A plastic projection without ``freeze_plastic``, or what the torch backend cannot run.
    ValidationError
        Bad options or a network invalid for ``dt``.
    """
    if not isinstance(network, Network):
        raise ValidationError(f"module: network must be a Network, got {type(network).__name__}")
    check_capabilities(network, NAME, capabilities())
    dt = checks.positive("module", "dt", dt, "ms")
    network.validate(dt)
    checks.choice("module", "propagation", propagation, (*PROPAGATION_MODES, "projection"))
    if isinstance(dtype, str):
        checks.choice("module", "dtype", dtype, tuple(DTYPES))
        dtype = DTYPES[dtype]
    elif dtype not in DTYPES.values():
        raise ValidationError(f"module: dtype = {dtype!r} is not one of float32, float64")
    dtype_name = "float32" if dtype == torch.float32 else "float64"
    check_step_constants(network, dt, dtype_name)
    check_build_memory(network, dt, 1, 4 if dtype_name == "float32" else 8, NAME)
    plastic = [p.name for p in network.projections if p.is_plastic]
    if plastic:
        if not freeze_plastic:
            raise CapabilityError(
                f"module: feature plasticity on projection {plastic[0]!r} cannot be trained by gradient;"
                " pass freeze_plastic=True to train its weights as static ones"
            )
        network = dataclasses.replace(
            network,
            projections=tuple(dataclasses.replace(p, plasticity=None) for p in network.projections),
            _lists={},
        )
    spike_fn = surrogate if callable(surrogate) else resolve_surrogate(surrogate)
    return NetworkModule(
        network,
        dt,
        dtype,  # type: ignore[arg-type]
        resolve_device(device),
        propagation,
        spike_fn,
        # snnTorch's surrogates, by name or built with their own slope, step in the forward pass.
        not callable(surrogate) or getattr(surrogate, "__module__", "") == "snntorch.surrogate",
        train_time_constants,
        outputs,
        checks.count("module", "seed", seed, minimum=0),
    )


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
