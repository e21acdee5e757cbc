"""The recognition path of a learned Sparsey layer as a spiking network.

Structure (one replica of a :class:`~neuromem.models.sparsey.layer.MacLayer`
with U signals only):

- ``input``: a ``SpikeSourceArray`` with one neuron per input bit; an active
  bit spikes once at ``t_input_ms``;
- ``cells``: ``LIFCurrExp`` neurons, one per Sparsey cell (M*Q*K);
- ``u_weights``: excitatory ``FromList`` synapses exactly where the learned
  binary weight is 1, all of weight ``w_u``;
- ``cm_inhibition``: inhibitory synapses from every cell to every other cell
  of its own competitive module (weight ``w_inh``, one time step of delay):
  winner-take-all through inhibition.

Why the first spike is the max-V cell. Both time constants are long
(``tau_m``, ``tau_syn_E``, ``tau_syn_I`` >> the run), so the membranes are
near-perfect integrators of a constant current w_u u_i, where u_i is the
number of active inputs with weight 1 onto cell i. Cell i reaches threshold
after about

.. math::

    T_i \\approx \\frac{c_m (v_{thresh} - v_{rest})}{w_u\\, u_i},

so the cell of largest u_i (equivalently largest V_i = (u_i/n)^{lam_U}, as
n is shared by the whole mac) fires first in its CM, and its inhibition
(w_inh larger than any excitatory current) silences the rest. ``w_u`` is
chosen so that cells with u and u + 1 inputs fire at least
``margin_steps`` steps apart for every u <= ``max_active``. Winners are
decoded as the first cell to spike in each CM; cells spiking in the same
step are a tie, resolved by the lowest index (the layer's declared
``"lowest"`` rule). A CM in which no cell spikes has no code; the mac
activation band is applied to the query when decoding.

Example
-------
>>> import torch
>>> from neuromem.models.sparsey import MacLayer
>>> layer = MacLayer.single(12, Q=2, K=3, seed=0)
>>> x = torch.zeros(12); x[:3] = 1
>>> _ = layer.learn(x)
>>> net = to_network(layer, max_active=3)
>>> net.size("cells")
6
"""

from __future__ import annotations

import numpy as np
import torch

from neuromem.errors import ValidationError
from neuromem.models.sparsey.layer import MacLayer
from neuromem.record import Recording
from neuromem.spec import FromList, LIFCurrExp, Network, Population, Probe, Projection, SpikeSourceArray

#: Membrane and synaptic time constants (ms) far longer than a recognition run.
LONG_TAU_MS = 1.0e5
THRESHOLD_GAP_MV = 10.0


def spiking_timing(max_active: int, dt: float, margin_steps: int = 4) -> dict[str, float]:
    """Excitatory weight (nA) and run length (ms) for a layer read with up to ``max_active`` active inputs.

    With a membrane capacitance of 1 nF and a threshold gap of 10 mV, a cell
    with u inputs fires after about 10/(w_u u) ms; the gap between u and u + 1
    is 10/(w_u u (u + 1)), set to ``margin_steps`` steps at u = max_active.
    """
    gap_ms = margin_steps * dt
    w_u = THRESHOLD_GAP_MV / (gap_ms * max_active * (max_active + 1))
    slowest_ms = THRESHOLD_GAP_MV / w_u  # a cell with a single active input
    return {"w_u": w_u, "w_inh": 10.0 * w_u * (max_active + 1), "duration_ms": slowest_ms + 20 * dt}


def to_network(
    layer: MacLayer,
    max_active: int,
    replica: int = 0,
    dt: float = 0.05,
    margin_steps: int = 4,
    name: str = "sparsey_recognition",
) -> Network:
    """Spiking network of the U recognition path of ``layer`` (one replica); see the module docstring.

    Parameters
    ----------
    layer : MacLayer
        A learned layer with U signals only.
    max_active : int
        Largest number of active inputs of a query that the timing must resolve.
    replica : int
        Which replica's weights to use.
    dt : float
        Time step (ms) the network is built for (the run must use it).
    margin_steps : int
        Minimum separation, in steps, of first spikes of cells whose input
        counts differ by one.
    """
    owner = f"to_network(layer '{layer.name}')"
    if set(layer.afferents) != {"U"}:
        raise ValidationError(f"{owner}: the layer has {sorted(layer.afferents)} signals; only U can be exported")
    if int(layer.n_learned[replica]) == 0:
        raise ValidationError(f"{owner}: replica {replica} is untrained (n_learned = 0); learn items first")
    if layer.params.tie != "lowest":
        raise ValidationError(f"{owner}: tie = {layer.params.tie!r}; the spiking readout implements 'lowest' only")
    if not 1 <= max_active <= layer.afferents["U"].source_size:
        raise ValidationError(f"{owner}: max_active = {max_active} must lie in 1..{layer.afferents['U'].source_size}")
    timing = spiking_timing(max_active, dt, margin_steps)
    aff = layer.afferents["U"]
    W = layer.weights["U"][replica].cpu().numpy()  # (M, F, C)
    m_idx, f_idx, c_idx = np.nonzero(W > 0)
    pre = aff.index[m_idx, f_idx]
    post = m_idx * (layer.Q * layer.K) + c_idx
    n_cells = layer.n_macs * layer.Q * layer.K
    cm_of = np.arange(n_cells) // layer.K
    same = cm_of[:, None] == cm_of[None, :]
    np.fill_diagonal(same, False)
    inh_pre, inh_post = np.nonzero(same)
    cell = LIFCurrExp(
        cm=1.0,
        tau_m=LONG_TAU_MS,
        tau_refrac=LONG_TAU_MS,
        tau_syn_E=LONG_TAU_MS,
        tau_syn_I=LONG_TAU_MS,
        v_rest=-65.0,
        v_reset=-65.0,
        v_thresh=-65.0 + THRESHOLD_GAP_MV,
    )
    empty = SpikeSourceArray(size=aff.source_size)
    return Network(
        populations=(Population("input", empty), Population("cells", cell, size=n_cells)),
        projections=(
            Projection("u_weights", "input", "cells", FromList(pre, post), weight=timing["w_u"], delay=dt),
            Projection(
                "cm_inhibition",
                "cells",
                "cells",
                FromList(inh_pre, inh_post),
                weight=timing["w_inh"],
                delay=dt,
                receptor="inhibitory",
            ),
        ),
        probes=(Probe("cells", "spikes"),),
        scheme="exact",
        name=name,
    )


def query_sources(queries: np.ndarray | torch.Tensor, t_input_ms: float = 1.0) -> list[SpikeSourceArray]:
    """One SpikeSourceArray per query (B, N): every active bit spikes once at ``t_input_ms``."""
    x = np.asarray(queries.cpu() if isinstance(queries, torch.Tensor) else queries)
    if x.ndim == 1:
        x = x[None]
    out = []
    for row in x:
        active = np.flatnonzero(row > 0)
        out.append(SpikeSourceArray(size=x.shape[1], neuron=active, times_ms=np.full(active.size, t_input_ms)))
    return out


def decode_winners(recording: Recording, layer: MacLayer, queries: np.ndarray | torch.Tensor) -> torch.Tensor:
    """Winners (B, M, Q) from first spikes per CM (lowest index on same-step ties); -1 where none or inactive."""
    x = torch.as_tensor(
        np.asarray(queries.cpu() if isinstance(queries, torch.Tensor) else queries), dtype=torch.float32
    )
    if x.ndim == 1:
        x = x[None]
    B, M, Q, K = x.shape[0], layer.n_macs, layer.Q, layer.K
    trains = recording.spikes_of("cells")
    first = np.full((B, M * Q * K), np.iinfo(np.int64).max, dtype=np.int64)
    np.minimum.at(first, (trains.trial, trains.neuron), trains.tick)
    first = first.reshape(B, M, Q, K)
    earliest = first.min(axis=-1, keepdims=True)
    winners = np.argmax(first == earliest, axis=-1)
    winners[earliest[..., 0] == np.iinfo(np.int64).max] = -1
    index = np.where(layer.afferents["U"].index >= 0, layer.afferents["U"].index, x.shape[1])
    padded = torch.cat([x, torch.zeros(B, 1)], dim=1).numpy()
    n_u = padded[:, index].sum(axis=-1)
    frac = n_u / np.maximum(layer.afferents["U"].max_active, 1.0)
    active = (n_u >= 1) & (frac >= layer.band[0] - 1e-9) & (frac <= layer.band[1] + 1e-9)
    winners[~active] = -1
    return torch.as_tensor(winners)


def spiking_recognise(
    layer: MacLayer,
    queries: np.ndarray | torch.Tensor,
    max_active: int | None = None,
    dt: float = 0.05,
    device: str = "cpu",
) -> torch.Tensor:
    """Build, run (torch backend, queries batched as trials) and decode; winners (B, M, Q)."""
    from neuromem.backends import torch as backend

    x = np.asarray(queries.cpu() if isinstance(queries, torch.Tensor) else queries)
    if x.ndim == 1:
        x = x[None]
    max_active = int(x.sum(axis=1).max()) if max_active is None else max_active
    net = to_network(layer, max_active=max_active, dt=dt)
    sim = backend.build(net, dt=dt, batch_size=x.shape[0], device=device)
    duration = spiking_timing(max_active, dt)["duration_ms"] + 1.0
    recording = sim.run(duration, inputs={"input": query_sources(x)})
    return decode_winners(recording, layer, x)
