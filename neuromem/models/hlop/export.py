"""Export a trained learner's inference path for one task as a frozen spec :class:`Network`.

Mapping from the trained, dimensionless snnTorch layers to PyNN ``IF_curr_exp``
cells (:class:`~neuromem.spec.LIFCurrExp`):

* membrane: ``tau_m`` and ``dt`` (ms) are the layer's; ``v_rest = v_reset =
  -65 mV`` and ``v_thresh = v_rest + threshold * mv_per_unit``.
* synapses: a weight ``W_ij`` (dimensionless: membrane units per spike) becomes
  a current jump of ``|W_ij| * mv_per_unit * cm / tau_syn`` nA with a short
  ``tau_syn`` (ms), whose integrated charge ``w tau_syn`` moves the membrane by
  ``W_ij * mv_per_unit`` mV, as in the trained model; the sign selects the
  excitatory or the inhibitory projection (spec weights are >= 0).
* input: a :class:`~neuromem.spec.SpikeSourceArray`; with ``image`` given, pixel
  ``p`` in [0, 1] fires deterministically at rate ``p / dt`` for
  ``repeats * num_steps`` steps (rate code of the training's constant input).
* readout: a LIF population without plasticity whose membrane ``v`` is probed;
  its time-averaged depolarisation plays the logits' role.

What differs from training, and so makes the exported network approximate:
reset to ``v_reset`` instead of reset by subtraction, exponential currents
instead of instantaneous ones, and spikes instead of constant input currents.
Delays are one step (the spec's minimum).

Example
-------
>>> net = to_network(learner, task_id=0, image=x_test[0])  # doctest: +SKIP
>>> net.validate(dt=1.0)  # doctest: +SKIP
"""

from __future__ import annotations

import numpy as np

from neuromem.errors import ValidationError
from neuromem.models.hlop.learner import ContinualLearner
from neuromem.spec import FromList, LIFCurrExp, Network, Population, Probe, Projection, SpikeSourceArray

__all__ = ["image_to_spikes", "to_network"]

V_REST = -65.0  # mV


def image_to_spikes(image: np.ndarray, n_steps: int, dt: float) -> SpikeSourceArray:
    """Deterministic rate code: pixel ``p`` (in [0, 1]) spikes when ``floor(p * (t + 1))`` increments."""
    p = np.clip(np.asarray(image, dtype=np.float64).ravel(), 0.0, 1.0)
    counts = np.floor(np.outer(np.arange(1, n_steps + 1), p) + 1e-9)
    fired = np.diff(np.vstack([np.zeros((1, p.size)), counts]), axis=0) > 0
    step, neuron = np.nonzero(fired)
    return SpikeSourceArray(size=p.size, neuron=neuron.astype(np.int64), times_ms=step * dt)


def _split(pre: str, post: str, weight: np.ndarray, scale: float, stem: str) -> list[Projection]:
    """Weight matrix (post, pre) -> excitatory and inhibitory FromList projections."""
    projections = []
    for receptor, mask in (("excitatory", weight > 0), ("inhibitory", weight < 0)):
        post_idx, pre_idx = np.nonzero(mask)
        if post_idx.size == 0:
            continue
        projections.append(
            Projection(
                f"{stem}_{receptor[:3]}",
                pre,
                post,
                FromList(pre=pre_idx.astype(np.int64), post=post_idx.astype(np.int64)),
                weight=np.abs(weight[post_idx, pre_idx]) * scale,
                delay=1.0,
                receptor=receptor,
            )
        )
    return projections


def to_network(
    learner: ContinualLearner,
    task_id: int,
    image: np.ndarray | None = None,
    repeats: int = 1,
    mv_per_unit: float = 10.0,
    cm: float = 1.0,
    tau_syn: float = 0.5,
) -> Network:
    """Frozen fully connected spiking :class:`Network` of ``learner`` for task ``task_id``.

    Parameters
    ----------
    learner
        A trained learner with fully connected layers only.
    task_id
        A task trained before; selects the readout head.
    image
        Optional input sample (in [0, 1] or uint8) turned into input spikes.
    repeats
        Presentations of the ``num_steps`` window in the input spike train.
    mv_per_unit
        mV per dimensionless membrane unit of the trained model.
    cm, tau_syn
        Membrane capacitance (nF) and synaptic time constant (ms) of the cells.
    """
    head = learner._head_of(int(task_id), training=False)
    cfg = learner.network_config
    if mv_per_unit <= 0 or tau_syn <= 0 or cm <= 0:
        raise ValidationError(f"to_network: mv_per_unit {mv_per_unit}, cm {cm} nF, tau_syn {tau_syn} ms must be > 0")
    cell = LIFCurrExp(
        cm=cm,
        tau_m=cfg.tau_m,
        tau_refrac=0.0,
        tau_syn_E=tau_syn,
        tau_syn_I=tau_syn,
        v_rest=V_REST,
        v_reset=V_REST,
        v_thresh=V_REST + cfg.threshold * mv_per_unit,
    )
    # The readout never fires in training: its threshold is put out of reach.
    readout_cell = LIFCurrExp(
        cm=cm, tau_m=cfg.tau_m, tau_refrac=0.0, tau_syn_E=tau_syn, tau_syn_I=tau_syn,
        v_rest=V_REST, v_reset=V_REST, v_thresh=V_REST + 1e6,
    )  # fmt: skip
    n_in = learner.net.layers[0].in_features
    if image is None:
        source = SpikeSourceArray(size=n_in)
    else:
        x = learner._check_images(np.asarray(image)[None])[0].cpu().numpy()
        source = image_to_spikes(x, cfg.num_steps * max(int(repeats), 1), cfg.dt)
    scale = mv_per_unit * cm / tau_syn  # nA per unit of weight
    populations = [Population("input", source)]
    projections: list[Projection] = []
    pre = "input"
    for i, layer in enumerate(learner.net.layers):
        name = f"hidden{i}"
        populations.append(Population(name, cell, size=layer.out_features))
        projections += _split(pre, name, layer.weight.detach().cpu().numpy(), scale, f"{pre}_to_{name}")
        pre = name
    readout = learner.net.heads[head]
    populations.append(Population("readout", readout_cell, size=readout.out_features))
    projections += _split(pre, "readout", readout.weight.detach().cpu().numpy(), scale, f"{pre}_to_readout")
    probes = [Probe(p.name, "spikes") for p in populations[1:-1]] + [Probe("readout", "v")]
    return Network(
        populations=tuple(populations),
        projections=tuple(projections),
        probes=tuple(probes),
        name=f"hlop_{learner.method}_task{int(task_id)}",
    )
