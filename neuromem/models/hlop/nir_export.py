r"""A trained learner's inference network as a NIR graph, loaded and run in snnTorch or Norse.

The graph is the learner's description (:mod:`neuromem.models.hlop.description`) for one
head, without the lateral circuit, written by :func:`neuromem.export.nir.to_nir` with

* ``merge=True``: each signed matrix, a pair of excitatory/inhibitory projections in the
  description, is one signed ``nir.Linear`` (Norse 1.1 reads only one of two Linear nodes
  that feed the same population);
* ``loader=`` the loader's name: every ``nir.LIF`` is written so that the loader's
  forward-Euler step is the engine's exact step (decay ``exp(-dt/tau_m)``, input added in
  mV, reset to zero), for snnTorch 1.0's fixed 0.1 ms step or the ``dt`` given to Norse;
* one ``nir.Output`` (the readout), the only graphs nirtorch 2.6 runs.

The loaded module is run as the engine runs the network in training: the image's pixels
``x`` in [0, 1] are the input of each of the first ``T`` steps (direct coding, graded
input), zeros for the ``L + 1`` steps after, and the logits are the readout's membrane
after the last step divided by ``T``. The loaders pass a step's input through every layer
within the step (no delays), where the engine's projections each take one step: hidden
layer ``i`` fires ``i + 1`` steps later on the engine, with the same spikes up to float32
rounding at threshold (the engine sums the excitatory and inhibitory halves apart).

Example
-------
>>> logits, spikes = nir_logits(learner, 0, x_test[:200], "norse")  # doctest: +SKIP
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import torch

from neuromem.errors import ExportError, ValidationError
from neuromem.export.nir import LOADER_STEP_S, to_nir
from neuromem.models.hlop.description import steps_for
from neuromem.models.hlop.learner import ContinualLearner

__all__ = ["LOADERS", "load", "nir_graph", "nir_logits"]

#: The loaders the graph can be written for.
LOADERS = tuple(LOADER_STEP_S)


def _check_loader(loader: str) -> None:
    if loader not in LOADERS:
        raise ValidationError(f"nir_logits: loader = {loader!r} is not allowed; allowed: {', '.join(LOADERS)}")


def nir_graph(learner: ContinualLearner, task_id: int, loader: str) -> object:
    """The ``nir.NIRGraph`` of ``learner``'s inference network for ``task_id``, written for ``loader``."""
    _check_loader(loader)
    head = learner._head_of(int(task_id), training=False)
    network = learner.net.description(heads=(head,))  # feed-forward: no lateral circuit
    return to_nir(network, learner.network_config.dt, merge=True, loader=loader, outputs=(f"readout{head}",))


def load(graph: object, loader: str, dt: float) -> torch.nn.Module:
    """``graph`` loaded by ``loader``'s own NIR importer; ``dt`` (ms) is given to Norse."""
    _check_loader(loader)
    try:
        if loader == "snntorch":
            from snntorch.import_nir import import_from_nir

            return import_from_nir(graph)  # type: ignore[no-any-return]
        from norse.torch import from_nir

        return from_nir(graph, dt=dt / 1000.0)  # type: ignore[no-any-return]
    except ImportError as error:
        raise ExportError(f"loader {loader!r} is not installed ({error})") from error


def _hooks(module: torch.nn.Module, names: list[str], into: dict[str, list[torch.Tensor]]) -> list[Callable]:
    """Record the spikes each hidden module returns at every step (Norse returns (z, state))."""
    handles = []
    for name in names:

        def record(_: torch.nn.Module, __: object, output: object, name: str = name) -> None:
            into[name].append((output[0] if isinstance(output, tuple) else output).detach())  # type: ignore[index]

        handles.append(getattr(module, name).register_forward_hook(record).remove)
    return handles


def nir_logits(
    learner: ContinualLearner,
    task_id: int,
    images: np.ndarray | torch.Tensor,
    loader: str,
    batch_size: int = 250,
) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    """Run ``images`` through the NIR graph loaded by ``loader``.

    Returns
    -------
    logits : ndarray (N, classes)
        The readout's membrane after ``T + L + 1`` steps, divided by ``T``.
    spikes : dict
        Hidden population -> spikes (T, N, n) of the ``T`` steps in which the loaded layer fires.
    """
    graph = nir_graph(learner, task_id, loader)
    cfg = learner.network_config
    module = load(graph, loader, cfg.dt)
    head = learner._head_of(int(task_id), training=False)
    hidden = [f"hidden{i}" for i in range(len(cfg.hidden))]
    x = learner._check_images(images).reshape(len(images), -1).cpu().float()
    steps = steps_for(cfg.num_steps, len(cfg.hidden))
    logits, spikes = [], {name: [] for name in hidden}
    with torch.no_grad():
        for start in range(0, x.shape[0], batch_size):
            frames = x[start : start + batch_size]
            recorded: dict[str, list[torch.Tensor]] = {name: [] for name in hidden}
            removers = _hooks(module, hidden, recorded)
            try:
                v = _run(module, loader, frames, cfg.num_steps, steps, f"readout{head}")
            finally:
                for remove in removers:
                    remove()
            logits.append(v / cfg.num_steps)
            for name in hidden:
                spikes[name].append(torch.stack(recorded[name])[: cfg.num_steps])
    return (
        torch.cat(logits).double().numpy(),
        {name: torch.cat(value, dim=1).numpy() for name, value in spikes.items()},
    )


def _run(
    module: torch.nn.Module, loader: str, frames: torch.Tensor, num_steps: int, steps: int, readout: str
) -> torch.Tensor:
    """The readout's membrane (B, classes) after ``steps`` steps of ``frames`` for ``num_steps`` then zeros."""
    zeros = torch.zeros_like(frames)
    if loader == "snntorch":
        from snntorch import utils

        utils.reset(module)  # the Leaky layers keep their membranes (init_hidden): start from rest
        for t in range(steps):
            module(frames if t < num_steps else zeros)
        return getattr(module, readout).mem.detach().expand(frames.shape[0], -1).clone()
    state = None
    for t in range(steps):
        _, state = module(frames if t < num_steps else zeros, state)
    return state.state[readout][0].v.detach().clone()  # type: ignore[union-attr]
