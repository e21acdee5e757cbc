"""The recognition path of a learned Sparsey layer or hierarchy as one spiking network.

Every level of a :class:`~neuromem.models.sparsey.hierarchy.Hierarchy` (or
the single level of a :class:`~neuromem.models.sparsey.layer.MacLayer`) and
every replica becomes LIF populations of the spec (``neuromem.spec``), so the
network runs on any backend (``neuromem.backends.build``) and exports to PyNN
(``neuromem.export``). Populations, per level l:

- ``input``: one spike source per input bit; an active bit spikes once at
  ``dt`` (level 0);
- ``cells_l``: one ``LIFCurrExp`` per Sparsey cell, R*M*Q*K of them;
- ``gate_l``, ``veto_l``: one per (replica, mac): the activation band.

How a spike time encodes max-V. Cells integrate two things with an
effectively infinite membrane time constant: a constant ramp current (every
cell rises at r mV/ms) and, per active afferent whose learned binary weight
is 1, a fast excitatory synapse that adds a fixed step of delta mV. A cell
with u such afferents reaches threshold at

.. math::

    t(u, k) = t_l + (u_{max} - u)\\, S\\, dt + 2 k\\, dt,\\qquad S = 2K + 2,

where t_l is the level's start and k the cell's rank in its CM (its index:
the ``"lowest"`` tie rule). So the cell of largest u (largest V =
(u/n)^lam_U, n being shared by the mac) fires first in its CM, equal u fire
in index order two steps apart, and the first spike inhibits the rest of the
CM (inhibitory synapses one step later, strong enough to silence them for the
whole run). Time is linear in u, so every level resolves its largest input
count in (u_max + 1) S steps.

Activation band: a gate neuron per mac receives every afferent of the mac's
receptive field with a step of 1/(lo - 0.5) mV and fires once lo of them are
active (lo = the band's lower count, at least 1); its spike lifts the mac's
cells by E mV, without which they cannot reach threshold during the run. A veto
neuron fires once hi + 1 afferents are active and silences the mac. Level l
starts after every winner of level l - 1 has fired (and its steps have
settled), so a level sees complete lower codes, as in the algorithm.

The decoded winners equal ``recognise()`` exactly for U-only layers with
``tie="lowest"``; other layers are refused with a CapabilityError.

Example
-------
>>> import torch
>>> from neuromem.models.sparsey import CSAParams, MacLayer
>>> layer = MacLayer.single(12, Q=2, K=3, params=CSAParams(tie="lowest"), seed=0)
>>> x = torch.zeros(12); x[:3] = 1
>>> _ = layer.learn(x)
>>> net, timing = to_network(layer, dt=0.1)
>>> net.size("cells_1"), timing.levels[0].u_max
(6, 12)
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import torch

from neuromem.errors import CapabilityError, ValidationError
from neuromem.models.sparsey.hierarchy import Hierarchy
from neuromem.models.sparsey.layer import MacLayer
from neuromem.record import Recording
from neuromem.spec import FromList, LIFCurrExp, Network, Population, Probe, Projection, SpikeSourceArray

#: Membrane time constant (ms) far longer than any recognition run: the cells integrate.
LONG_TAU_MS = 1.0e7
#: Fast synaptic time constant as a fraction of dt: an input's step of charge settles within a few steps.
FAST_TAU_STEPS = 0.5
#: Steps left between the end of one level and the start of the next (arrival, gate, enable, settling).
MARGIN_STEPS = 20
#: Step of membrane potential per active afferent with weight 1 (mV).
DELTA_MV = 1.0


@dataclass(frozen=True)
class LevelTiming:
    """When one level decides, and the currents that make it so.

    Attributes
    ----------
    start_ms, end_ms : float
        First and last possible spike time of the level's cells (ms).
    u_max : int
        Largest number of active afferents a mac of the level can have.
    spacing_steps : int
        Steps between the first spikes of cells whose input counts differ by one.
    ramp : float
        Rise rate of every cell (mV/ms), injected as ``i_offset`` (nA, cm = 1 nF).
    enable_mv, inhibit_mv : float
        Lift given by the band gate and drop given by inhibition (mV).
    """

    start_ms: float
    end_ms: float
    u_max: int
    spacing_steps: int
    ramp: float
    enable_mv: float
    inhibit_mv: float


@dataclass(frozen=True)
class SpikingTiming:
    """Timing of the whole network: input time, one LevelTiming per level, run length, dt (ms)."""

    dt: float
    input_ms: float
    levels: tuple[LevelTiming, ...]
    duration_ms: float


def _layers(model: Hierarchy | MacLayer) -> list[MacLayer]:
    if isinstance(model, Hierarchy):
        return list(model.layers)
    if isinstance(model, MacLayer):
        return [model]
    raise ValidationError(f"spiking: model must be a Hierarchy or a MacLayer, got {type(model).__name__}")


def _check(layers: list[MacLayer]) -> None:
    for layer in layers:
        owner = f"spiking export of MacLayer '{layer.name}'"
        if set(layer.afferents) != {"U"}:
            raise CapabilityError(
                f"{owner}: the layer has {sorted(layer.afferents)} signals; the spiking recognition path "
                "carries U signals only (V = U^lam_U is then a count)"
            )
        if layer.params.tie != "lowest":
            raise CapabilityError(
                f"{owner}: tie = {layer.params.tie!r}; the spiking path breaks ties by cell index "
                "(tie='lowest'); build the model with CSAParams(tie='lowest') to compare"
            )
        if int(layer.n_learned.min()) == 0:
            raise ValidationError(f"{owner}: a replica is untrained (n_learned = 0); learn items first")


def band_counts(layer: MacLayer) -> tuple[np.ndarray, np.ndarray]:
    """Per mac, the fewest and most active afferents (ints) at which the algorithm activates it."""
    max_active = np.asarray(layer.afferents["U"].max_active, dtype=np.float64)
    lo = np.maximum(1, np.ceil((layer.band[0] - 1e-9) * max_active - 1e-9)).astype(np.int64)
    hi = np.floor((layer.band[1] + 1e-9) * max_active + 1e-9).astype(np.int64)
    return lo, hi


def plan_timing(layers: list[MacLayer], dt: float) -> SpikingTiming:
    """Level windows in sequence (see the module docstring)."""
    if not (isinstance(dt, (int, float)) and not isinstance(dt, bool) and math.isfinite(dt) and dt > 0):
        raise ValidationError(f"spiking: dt = {dt!r} ms must be a positive number")
    input_ms = dt
    start = input_ms + MARGIN_STEPS * dt
    raw = []
    for layer in layers:
        u_max = int(np.max(layer.afferents["U"].max_active))
        spacing = 2 * layer.K + 2
        end = start + (u_max * spacing + 2 * (layer.K - 1)) * dt
        raw.append((start, end, u_max, spacing))
        start = end + MARGIN_STEPS * dt
    duration = start
    levels = []
    for start, end, u_max, spacing in raw:
        ramp = DELTA_MV / (spacing * dt)
        # The enable must outlast the whole run: without it a cell cannot reach
        # threshold before the end; inhibition must beat enable, steps and ramp.
        enable = 2.0 * ramp * duration + DELTA_MV
        inhibit = 2.0 * (enable + DELTA_MV * u_max + ramp * duration)
        levels.append(LevelTiming(start, end, u_max, spacing, ramp, enable, inhibit))
    return SpikingTiming(float(dt), float(input_ms), tuple(levels), float(duration))


def _charge(mv: np.ndarray | float, dt: float) -> np.ndarray | float:
    """Synaptic weight (nA) whose fast exponential current moves V by ``mv`` (cm = 1 nF)."""
    return mv / (FAST_TAU_STEPS * dt)


def _source_index(layer: MacLayer, replica: np.ndarray, m: np.ndarray, f: np.ndarray, first: bool) -> np.ndarray:
    """Index in the source population of RF slot (m, f) of ``replica``."""
    index = layer.afferents["U"].index[m, f]
    return index if first else replica * layer.afferents["U"].source_size + index


def _level(i: int, layer: MacLayer, timing: LevelTiming, dt: float, source: str) -> tuple[list, list]:
    """Populations and projections of level ``i + 1``."""
    R, M, Q, K = layer.replicas, layer.n_macs, layer.Q, layer.K
    C = Q * K
    tau_s = FAST_TAU_STEPS * dt
    v_init = -(timing.enable_mv + DELTA_MV * timing.u_max + timing.ramp * timing.start_ms)
    cell = LIFCurrExp(
        cm=1.0,
        tau_m=LONG_TAU_MS,
        tau_refrac=LONG_TAU_MS,
        tau_syn_E=tau_s,
        tau_syn_I=tau_s,
        v_rest=v_init,
        v_reset=v_init - timing.inhibit_mv,
        v_thresh=0.0,
        i_offset=timing.ramp,
        v_init=v_init,
    )
    counter = LIFCurrExp(
        cm=1.0, tau_m=LONG_TAU_MS, tau_refrac=LONG_TAU_MS, tau_syn_E=tau_s, tau_syn_I=tau_s,
        v_rest=0.0, v_reset=-1.0, v_thresh=1.0,
    )  # fmt: skip
    n = i + 1
    cells, gate, veto = f"cells_{n}", f"gate_{n}", f"veto_{n}"
    pops = [
        Population(cells, cell, size=R * M * C),
        Population(gate, counter, size=R * M),
        Population(veto, counter, size=R * M),
    ]
    first = i == 0
    W = layer.weights["U"].cpu().numpy()  # (R, M, F, C)
    r, m, f, c = np.nonzero(W > 0)
    u_pre = _source_index(layer, r, m, f, first)
    u_post = (r * M + m) * C + c
    index = layer.afferents["U"].index
    rr, mm, ff = np.nonzero(np.broadcast_to(index >= 0, (R, *index.shape)))
    rf_pre = _source_index(layer, rr, mm, ff, first)
    rf_post = rr * M + mm
    lo, hi = band_counts(layer)
    gate_step = 1.0 / (lo[mm] - 0.5)
    needs_veto = hi[mm] < np.asarray(layer.afferents["U"].max_active)[mm]
    veto_step = 1.0 / (hi[mm][needs_veto] + 0.5)
    # Enable of cell (mac, q, k): E minus its tie rank k (two steps of ramp each).
    g_r, g_m, g_c = np.nonzero(np.ones((R, M, C), dtype=bool))
    enable = timing.enable_mv - (g_c % K) * 2.0 * timing.ramp * dt
    a, b = _same_cm_pairs(R * M * Q, K)
    keep = a != b
    projs = [
        Projection(f"u_weights_{n}", source, cells, FromList(u_pre, u_post), weight=_charge(DELTA_MV, dt), delay=dt),
        Projection(f"band_in_{n}", source, gate, FromList(rf_pre, rf_post), weight=_charge(gate_step, dt), delay=dt),
        Projection(
            f"veto_in_{n}", source, veto, FromList(rf_pre[needs_veto], rf_post[needs_veto]),
            weight=_charge(veto_step, dt), delay=dt,
        ),
        Projection(
            f"enable_{n}", gate, cells, FromList(g_r * M + g_m, (g_r * M + g_m) * C + g_c),
            weight=_charge(enable, dt), delay=dt,
        ),
        Projection(
            f"veto_{n}", veto, cells, FromList(g_r * M + g_m, (g_r * M + g_m) * C + g_c),
            weight=_charge(timing.inhibit_mv, dt), delay=dt, receptor="inhibitory",
        ),
        Projection(
            f"cm_inhibition_{n}", cells, cells, FromList(a[keep], b[keep]),
            weight=_charge(timing.inhibit_mv, dt), delay=dt, receptor="inhibitory",
        ),
    ]  # fmt: skip
    return pops, projs


def _same_cm_pairs(n_cms: int, K: int) -> tuple[np.ndarray, np.ndarray]:
    """All ordered (pre, post) pairs of cells sharing a CM, including pre == post."""
    base = np.arange(n_cms)[:, None, None] * K
    k = np.arange(K)
    pre = (base + k[None, :, None]).repeat(K, axis=2)
    post = (base + k[None, None, :]).repeat(K, axis=1)
    return pre.ravel(), post.ravel()


def to_network(
    model: Hierarchy | MacLayer, dt: float = 0.1, name: str = "sparsey_recognition"
) -> tuple[Network, SpikingTiming]:
    """Spiking network of the U recognition path of every level and replica of ``model``.

    Parameters
    ----------
    model : Hierarchy or MacLayer
        Learned, U signals only, ``tie="lowest"`` at every level.
    dt : float
        Time step (ms) the network is built for; runs must use it.
    name : str
        Network name.

    Returns
    -------
    Network, SpikingTiming
        The network (scheme ``"exact"``; probes on every ``cells_l``) and its timing.
    """
    layers = _layers(model)
    _check(layers)
    timing = plan_timing(layers, dt)
    source_size = layers[0].afferents["U"].source_size
    pops: list = [Population("input", SpikeSourceArray(size=source_size))]
    projs: list = []
    for i, layer in enumerate(layers):
        level_pops, level_projs = _level(i, layer, timing.levels[i], dt, "input" if i == 0 else f"cells_{i}")
        pops += level_pops
        projs += level_projs
    probes = tuple(Probe(f"cells_{i + 1}", "spikes") for i in range(len(layers)))
    net = Network(populations=tuple(pops), projections=tuple(projs), probes=probes, scheme="exact", name=name)
    return net, timing


def query_sources(queries: np.ndarray | torch.Tensor, timing: SpikingTiming) -> list[SpikeSourceArray]:
    """One SpikeSourceArray per query (B, N): every active bit spikes once at ``timing.input_ms``."""
    x = np.asarray(queries.cpu() if isinstance(queries, torch.Tensor) else queries)
    if x.ndim == 1:
        x = x[None]
    if x.ndim != 2 or not np.isin(x, (0, 1)).all():
        raise ValidationError(f"spiking: queries must be binary (B, N) or (N,); got shape {x.shape}")
    out = []
    for row in x:
        active = np.flatnonzero(row > 0)
        out.append(SpikeSourceArray(size=x.shape[1], neuron=active, times_ms=np.full(active.size, timing.input_ms)))
    return out


def decode(recording: Recording, model: Hierarchy | MacLayer, batch: int) -> list[torch.Tensor]:
    """Winners per level, int64 (R, B, M, Q): the cell of each CM that spiked first; -1 where none did."""
    out = []
    for i, layer in enumerate(_layers(model)):
        R, M, Q, K = layer.replicas, layer.n_macs, layer.Q, layer.K
        trains = recording.spikes_of(f"cells_{i + 1}")
        first = np.full((batch, R * M * Q * K), np.iinfo(np.int64).max, dtype=np.int64)
        np.minimum.at(first, (np.asarray(trains.trial), np.asarray(trains.neuron)), np.asarray(trains.tick))
        first = first.reshape(batch, R, M, Q, K)
        earliest = first.min(axis=-1, keepdims=True)
        winners = np.argmax(first == earliest, axis=-1)
        winners[earliest[..., 0] == np.iinfo(np.int64).max] = -1
        out.append(torch.as_tensor(winners).permute(1, 0, 2, 3).contiguous())
    return out


def spiking_recognise(
    model: Hierarchy | MacLayer,
    queries: np.ndarray | torch.Tensor,
    dt: float = 0.1,
    device: str = "cpu",
    backend: str = "torch",
) -> list[torch.Tensor]:
    """Build, run (queries batched as trials, float64) and decode; winners (R, B, M, Q) per level."""
    from neuromem.backends import build

    net, timing = to_network(model, dt=dt)
    sources = query_sources(queries, timing)
    options: dict[str, object] = {"batch_size": len(sources)}
    if backend == "torch":
        options.update(device=device, dtype="float64")
    sim = build(net, backend, dt=dt, **options)
    recording = sim.run(timing.duration_ms, inputs={"input": sources})
    return decode(recording, model, len(sources))
