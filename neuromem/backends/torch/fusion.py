"""Fused neuron updates: a cell type's step compiled into few kernels, used only where it is exact.

A cell type's pure step (:mod:`neuromem.cells`) is a handful of elementwise
operations; run eagerly, each one is a kernel launch (GPU) or a pass over
the state (CPU). :func:`fused_step` compiles it with ``torch.compile``
(Inductor: Triton kernels on CUDA, C++ loops on a CPU) and then checks that
the compiled update computes the plain update's numbers bit for bit on the
build's device and dtype. A compiled update that rounds differently (for
example a product and a sum contracted into one fused multiply-add on one
path and not on the other) is refused with a :class:`CapabilityError`
naming the cell type, the scheme and the device: fusion never changes
results.

The check runs both updates side by side for :data:`CHECK_STEPS` steps from
the block's initial state, with random inputs large enough to make neurons
cross threshold and go refractory, with and without injected current, and
compares every state variable and spike after every step.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import NamedTuple

import torch

from neuromem.backends.torch.neurons import NeuronBlock
from neuromem.cells.base import SpikeFunction, StepFunction
from neuromem.errors import CapabilityError

#: Steps the compiled and the plain update run side by side before the compiled one is used.
CHECK_STEPS = 24
#: Trials of the check (the simulation's batch may differ: the compiled update is shape-generic).
CHECK_BATCH = 3


def compile_step(step: StepFunction) -> StepFunction:
    """``step`` compiled by ``torch.compile`` (whole graph, shapes left dynamic).

    Raises
    ------
    CapabilityError
        ``torch.compile`` is not usable here (no C++ compiler, no Triton for CUDA).
    """
    try:
        return torch.compile(step, fullgraph=True, dynamic=True)  # type: ignore[return-value]
    except Exception as error:  # noqa: BLE001 - any failure means fusion is not available
        raise CapabilityError(f"build: fuse=True needs torch.compile, which failed here: {error}") from None


def fused_step(block: NeuronBlock, spike_fn: SpikeFunction, seed: int = 0) -> StepFunction:
    """The compiled update of ``block``'s cell type, checked bit for bit against the plain one.

    Parameters
    ----------
    block : NeuronBlock
        The neurons (cell type, scheme, constants, device, dtype).
    spike_fn : callable
        The simulation's threshold (boolean events or a Heaviside step).
    seed : int
        Seed of the check's random inputs.

    Raises
    ------
    CapabilityError
        The compiled update gives other numbers than the plain one on this
        device and dtype, or cannot be compiled.
    """
    compiled = compile_step(block.step)
    dtype = str(block.dtype).replace("torch.", "")
    where = f"cell type {block.name}, scheme {block.scheme!r}, {block.device.type} {dtype}"
    try:
        difference = first_difference(block, block.step, compiled, spike_fn, seed)
    except CapabilityError:
        raise
    except Exception as error:  # noqa: BLE001 - a compile failure shows on the first call
        raise CapabilityError(f"build: fuse=True could not compile the update of {where}: {error}") from None
    if difference is not None:
        raise CapabilityError(
            f"build: fuse=True refused for {where}: the compiled update differs from the plain one "
            f"({difference}); fusion must not change results, use fuse=False"
        )
    return compiled


def first_difference(
    block: NeuronBlock,
    plain: StepFunction,
    candidate: Callable[..., tuple[torch.Tensor, NamedTuple]],
    spike_fn: SpikeFunction,
    seed: int = 0,
) -> str | None:
    """Where ``candidate`` first departs from ``plain`` (a description), or None if never.

    Both run :data:`CHECK_STEPS` steps from ``block``'s initial state with the
    same random inputs (half the steps with injected current).
    """
    generator = torch.Generator(device="cpu").manual_seed(seed)
    n = block.block.size
    state_a = state_b = block.initial_state(CHECK_BATCH)
    # Inputs spread over several orders of magnitude: neurons rest, integrate, cross and go refractory.
    scale = 10.0 ** torch.randint(-2, 2, (CHECK_BATCH, n), generator=generator)
    with torch.no_grad():
        for step in range(CHECK_STEPS):
            exc, inh, ext = (
                (torch.rand(CHECK_BATCH, n, generator=generator, dtype=torch.float64) * scale)
                .to(block.dtype)
                .to(block.device)
                for _ in range(3)
            )
            i_ext = ext if step % 2 else None
            spikes_a, state_a = plain(state_a, exc, inh, i_ext, block.k, spike_fn)
            spikes_b, state_b = candidate(state_b, exc, inh, i_ext, block.k, spike_fn)
            if not _same(spikes_a, spikes_b):
                return f"spikes at check step {step}"
            for name, a, b in zip(state_a._fields, state_a, state_b, strict=True):  # type: ignore[attr-defined]
                if not _same(a, b):
                    return f"{name} at check step {step}"
            state_b = state_a  # each step from the same state: a difference is one step's, not carried
    return None


def _same(a: torch.Tensor, b: torch.Tensor) -> bool:
    """Equal dtype, shape and bits (so 0.0 differs from -0.0, and nan from another nan payload)."""
    if a.dtype != b.dtype or a.shape != b.shape:
        return False
    if a.dtype.is_floating_point:
        bits = {2: torch.int16, 4: torch.int32, 8: torch.int64}[a.element_size()]
        return bool(torch.equal(a.contiguous().view(bits), b.contiguous().view(bits)))
    return bool(torch.equal(a, b))
