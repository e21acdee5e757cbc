"""A trained learner's inference network for one task, for every backend and exporter.

The network is the learner's description (:mod:`neuromem.models.hlop.description`)
with the readout of the task's head and without the lateral circuit (whose
:class:`~neuromem.spec.SubspaceRule` only the torch engine runs). Spike-only
targets (PyNN, the torch simulation) cannot carry the graded input events of
training, so the input population and the first layer's projections become
one :class:`~neuromem.spec.StepCurrentSource` per first-layer neuron: during
the ``T`` steps an image is shown, neuron ``j`` receives the current that
moves its membrane by ``(W_0 x)_j`` mV per step, what the graded events gave::

    I_j = (W_0 x)_j / gain,   gain = (tau_m / cm)(1 - exp(-dt / tau_m))   (nA)

Images are shown one after another in windows of ``S = T + L + 1 + gap``
steps; image ``k``'s logits are the readout's voltage gained over its window,
``(V[k S + S - 1] - V[k S - 1]) / T``. Between images the hidden membranes
decay for ``gap`` steps (by ``exp(-gap dt / tau_m)``), the only difference from
the batched run of training, where every image starts from rest.

Example
-------
>>> net = to_network(learner, task_id=0, images=x_test[:100])  # doctest: +SKIP
>>> accuracy = exported_accuracy(learner, 0, x_test[:100], y_test[:100], "nest")  # doctest: +SKIP
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Sequence

import numpy as np
import torch

from neuromem.errors import ValidationError
from neuromem.models.hlop.description import steps_for
from neuromem.models.hlop.learner import ContinualLearner
from neuromem.record import Recording
from neuromem.spec import Network, Probe, StepCurrentSource

__all__ = ["exported_accuracy", "exported_logits", "to_network", "window_steps"]

#: Steps between two images in the exported run (membranes decay by exp(-gap dt / tau_m): e^-20 at
#: tau_m = 10 ms, dt = 1 ms). With 60 (e^-6) the residue moved logits of the 10-task network by up to
#: 0.58 (2,000 images) and flipped single images; with 200 the largest difference is 6e-4 (float32 vs float64).
GAP_STEPS = 200


def window_steps(learner: ContinualLearner, gap: int = GAP_STEPS) -> int:
    """Steps per image in the exported run: ``T + L + 1 + gap``."""
    cfg = learner.network_config
    return steps_for(cfg.num_steps, len(cfg.hidden)) + int(gap)


def to_network(
    learner: ContinualLearner,
    task_id: int | Sequence[int],
    images: np.ndarray | torch.Tensor | None = None,
    gap: int = GAP_STEPS,
) -> Network:
    """Inference network of ``learner``, showing ``images`` one after another.

    Parameters
    ----------
    learner
        A trained learner.
    task_id
        A task trained before (selects the readout head), or one task per
        image: the network then has the readout of every head they use.
    images
        Samples (N, ...) in [0, 1] or uint8; ``None`` leaves the first layer without input.
    gap
        Steps of rest between two images (>= 0).

    Returns
    -------
    Network
        Populations ``hidden0..``, ``readout<head>`` per head; probes of every
        hidden layer's spikes and of each readout's ``v``.
    """
    tasks = [int(task_id)] if np.ndim(task_id) == 0 else [int(t) for t in task_id]  # type: ignore[arg-type]
    heads = tuple(sorted({learner._head_of(t, training=False) for t in tasks}))
    if isinstance(gap, bool) or not isinstance(gap, int) or gap < 0:
        raise ValidationError(f"to_network: gap = {gap!r} is not allowed; allowed: an integer >= 0 (steps)")
    cfg = learner.network_config
    full = learner.net.description(heads=heads)
    projections = tuple(p for p in full.projections if p.pre != "input")
    populations = tuple(p for p in full.populations if p.name != "input")
    currents: list[StepCurrentSource] = []
    if images is not None:
        x = learner._check_images(images).reshape(-1, learner.net.n_inputs).cpu().double()
        if len(tasks) not in (1, x.shape[0]):
            raise ValidationError(
                f"to_network: {len(tasks)} task ids for {x.shape[0]} images; allowed: one, or one per image"
            )
        drive = (x @ learner.net.layers[0].weight.detach().cpu().double().T).numpy()  # (N, hidden0) mV per step
        cell = full.population("hidden0").cell
        gain = cell.tau_m / cell.cm * (1.0 - math.exp(-cfg.dt / cell.tau_m))  # type: ignore[attr-defined]
        window = window_steps(learner, gap)
        starts = np.arange(drive.shape[0]) * window
        # Graded events of steps k S .. k S + T - 1 arrive one step later: the current runs over k S + 1 .. k S + T.
        on = (starts + 1) * cfg.dt
        off = (starts + 1 + cfg.num_steps) * cfg.dt
        times = np.column_stack([on, off]).ravel()
        for j in range(drive.shape[1]):
            amplitudes = np.column_stack([drive[:, j] / gain, np.zeros(drive.shape[0])]).ravel()
            currents.append(StepCurrentSource(f"drive{j}", "hidden0", times, amplitudes, neurons=np.array([j])))
    probes = tuple(Probe(p.name, "spikes") for p in populations if p.name.startswith("hidden"))
    probes += tuple(Probe(f"readout{h}", "v") for h in heads)
    name = f"hlop_{learner.method}_task{tasks[0]}" if len(set(tasks)) == 1 else f"hlop_{learner.method}_tasks"
    return dataclasses.replace(
        full,
        populations=populations,
        projections=projections,
        current_sources=tuple(currents),
        probes=probes,
        name=name,
        _lists={},
    )


def exported_logits(
    learner: ContinualLearner,
    network: Network,
    task_ids: Sequence[int],
    target: str,
    gap: int = GAP_STEPS,
) -> tuple[np.ndarray, Recording]:
    """Run the exported network on ``target`` -> (logits (N, classes), recording).

    ``target``: ``"torch"`` (the torch simulation, float64) or a PyNN
    simulator (``"nest"``, ``"brian2"``). Image ``k`` is read from the readout
    of ``task_ids[k]``'s head.
    """
    window = window_steps(learner, gap)
    dt = learner.network_config.dt
    n_images = len(task_ids)
    duration = n_images * window * dt
    if target == "torch":
        from neuromem.backends import build

        recording = build(network, "torch", dt=dt, dtype="float64").run(duration)
    else:
        from neuromem.export.pynn import to_pynn

        recording = to_pynn(network, target, duration=duration, dt=dt)
    ends = np.arange(n_images) * window + window - 1
    logits = np.zeros((n_images, learner.network_config.n_classes))
    for k, task in enumerate(task_ids):
        v = np.asarray(recording.traces[(f"readout{learner._head_of(int(task), training=False)}", "v")])[0]
        logits[k] = v[ends[k]] - (v[ends[k] - window] if k else 0.0)
    return logits / learner.network_config.num_steps, recording


def exported_accuracy(
    learner: ContinualLearner,
    task_id: int | Sequence[int],
    images: np.ndarray | torch.Tensor,
    labels: np.ndarray | torch.Tensor,
    target: str,
    gap: int = GAP_STEPS,
) -> float:
    """Accuracy in [0, 1] of the exported inference network run on ``target``."""
    tasks = [int(task_id)] * len(images) if np.ndim(task_id) == 0 else list(task_id)  # type: ignore[arg-type]
    network = to_network(learner, tasks, images, gap)
    y = learner._check_labels(labels, len(images)).cpu().numpy()
    logits, _ = exported_logits(learner, network, tasks, target, gap)
    return float((logits.argmax(1) == y).mean())
