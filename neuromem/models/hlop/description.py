r"""HLOP's spiking network written once as a :class:`~neuromem.spec.Network`.

Populations, in order:

* ``input``: a :class:`~neuromem.spec.SpikeSourceArray` of one channel per
  pixel. In training and on the torch engine its events are *graded*: the
  event of step ``t < T`` carries the pixel intensity ``x`` in [0, 1] (direct
  coding: the first layer receives the current ``W x`` at each of the ``T``
  steps); spike-only targets take ``W x`` as step currents (see
  :mod:`neuromem.models.hlop.export`).
* ``hidden0 .. hidden{L-1}``: :class:`~neuromem.spec.IF_curr_delta` cells with
  ``v_rest = v_reset = 0 mV``, ``v_thresh = threshold`` mV, no refractoriness::

      V[t] = exp(-dt/tau_m) V[t-1] + sum_j W_ij s_j[t-1]      (voltage steps, mV)
      S[t] = H(V[t] - v_thresh);  V[t] = 0 where S[t] = 1     (reset to zero)

  (snnTorch's ``Leaky`` with ``reset_mechanism="zero"``, spike for spike).
* ``readout0 .. readout{K-1}`` (one per head): the same cell with
  ``tau_m = 1e9 ms`` and an unreachable threshold, so its membrane sums the
  arriving steps: ``V_readout[end] = sum_t W h[t]``; the logits are
  ``V_readout[end] / T``.

A signed weight matrix ``W`` (post x pre, mV per spike) is the pair of
:class:`~neuromem.spec.AllToAll` projections ``<name>_exc`` (``max(W, 0)``)
and ``<name>_inh`` (``max(-W, 0)``), since spec weights are >= 0 with the
receptor giving the sign. Every projection has the minimum delay ``dt``, so
layer ``k`` sees the input ``k + 1`` steps later; the network runs
``T + L + 1`` steps, which gives exactly the sums of a network without delays.

The lateral circuit (:func:`lateral`): for each protected layer a population
``lateral_<layer>`` of M neurons reading the layer's presynaptic population
through a projection pair that carries a :class:`~neuromem.spec.SubspaceRule`;
its weights are the lateral weights H (M x N).
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from neuromem.spec import AllToAll, IF_curr_delta, Network, Population, Projection, SpikeSourceArray, SubspaceRule

__all__ = [
    "READOUT_TAU_M",
    "hidden_cell",
    "layer_names",
    "lateral",
    "network_description",
    "readout_cell",
    "signed_projections",
    "steps_for",
]

#: Membrane time constant of the readout (ms): a lossless integrator at float32 precision.
READOUT_TAU_M = 1.0e9
#: Readout threshold (mV), out of reach: the readout never fires.
READOUT_THRESHOLD = 1.0e9


def hidden_cell(tau_m: float, threshold: float) -> IF_curr_delta:
    """The hidden layers' cell: snnTorch ``Leaky`` (reset to zero) in mV."""
    return IF_curr_delta(cm=1.0, tau_m=tau_m, tau_refrac=0.0, v_rest=0.0, v_reset=0.0, v_thresh=threshold)


def readout_cell() -> IF_curr_delta:
    """The readout's cell: a non-leaking, non-firing integrator of voltage steps."""
    return IF_curr_delta(
        cm=1.0, tau_m=READOUT_TAU_M, tau_refrac=0.0, v_rest=0.0, v_reset=0.0, v_thresh=READOUT_THRESHOLD
    )


def layer_names(n_hidden: int, n_heads: int) -> tuple[list[str], list[str]]:
    """Population names: ``(hidden, readouts)``."""
    return [f"hidden{i}" for i in range(n_hidden)], [f"readout{h}" for h in range(n_heads)]


def steps_for(num_steps: int, n_hidden: int) -> int:
    """Steps to run so that the readout has received every hidden spike: ``T + L + 1``."""
    return num_steps + n_hidden + 1


def signed_projections(
    name: str, pre: str, post: str, weight: np.ndarray | None, delay: float = 1.0, **extra: object
) -> list[Projection]:
    """The excitatory/inhibitory pair of a signed (post, pre) weight matrix (mV); AllToAll, pre-major.

    ``delay`` (ms) is the network's time step: the minimum delay.
    """
    pair = []
    for receptor, sign in (("excitatory", 1.0), ("inhibitory", -1.0)):
        values = 0.0 if weight is None else np.maximum(sign * np.asarray(weight, dtype=np.float64), 0.0).T.ravel()
        pair.append(
            Projection(
                f"{name}_{receptor[:3]}", pre, post, AllToAll(), weight=values, delay=delay, receptor=receptor, **extra
            )  # type: ignore[arg-type]
        )
    return pair


def network_description(
    n_inputs: int,
    hidden: tuple[int, ...],
    n_classes: int,
    n_heads: int,
    tau_m: float,
    threshold: float,
    weights: Mapping[str, np.ndarray] | None = None,
    heads: tuple[int, ...] | None = None,
    name: str = "hlop",
    dt: float = 1.0,
) -> Network:
    """The feed-forward network: input, hidden layers, readouts.

    Parameters
    ----------
    n_inputs, hidden, n_classes, n_heads
        Sizes.
    tau_m, threshold
        Hidden cells' membrane time constant (ms) and threshold (mV).
    weights
        Signed matrices (post, pre) in mV by layer name (``layer0``..,
        ``head0``..); missing ones are zero.
    heads
        Readout heads to include (default all).
    dt
        The time step (ms) the network runs at: every projection's delay.
    """
    weights = dict(weights or {})
    hidden_names, readout_names = layer_names(len(hidden), n_heads)
    cell = hidden_cell(tau_m, threshold)
    populations = [Population("input", SpikeSourceArray(size=n_inputs))]
    populations += [Population(n, cell, size=s) for n, s in zip(hidden_names, hidden, strict=True)]
    keep = tuple(range(n_heads)) if heads is None else heads
    populations += [Population(readout_names[h], readout_cell(), size=n_classes) for h in keep]
    projections: list[Projection] = []
    pre = "input"
    for i, post in enumerate(hidden_names):
        projections += signed_projections(f"layer{i}", pre, post, weights.get(f"layer{i}"), dt)
        pre = post
    for h in keep:
        projections += signed_projections(f"head{h}", pre, readout_names[h], weights.get(f"head{h}"), dt)
    return Network(populations=tuple(populations), projections=tuple(projections), name=name)


def lateral(
    network: Network,
    presynaptic: Mapping[str, str],
    lateral_weights: Mapping[str, np.ndarray],
    rule: SubspaceRule,
) -> Network:
    """``network`` with a lateral subspace population per protected layer.

    Parameters
    ----------
    network
        The feed-forward description.
    presynaptic
        Protected layer -> its presynaptic population (``layer0 -> input``...).
    lateral_weights
        Protected layer -> H (M, N); layers with M = 0 get no population.
    rule
        The subspace rule of every lateral projection pair.
    """
    populations, projections = list(network.populations), list(network.projections)
    # The lateral pairs share the feed-forward network's delay (its time step).
    delay = min((float(np.min(p.delay)) for p in network.projections), default=1.0)
    for layer, pre in presynaptic.items():
        h = np.asarray(lateral_weights[layer], dtype=np.float64)
        if h.shape[0] == 0:
            continue
        # The lateral neurons are read as rates (spike counts): their own membrane plays no part.
        populations.append(Population(f"lateral_{layer}", hidden_cell(1.0, 1.0), size=int(h.shape[0])))
        projections += signed_projections(f"lateral_{layer}", pre, f"lateral_{layer}", h, delay, plasticity=rule)
    return Network(populations=tuple(populations), projections=tuple(projections), name=network.name)
