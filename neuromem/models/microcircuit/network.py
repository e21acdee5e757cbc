"""The microcircuit as a :class:`neuromem.spec.Network`.

Eight ``IF_curr_exp`` populations (``L23E`` ... ``L6I``), one projection per
connected (source, target) pair with :class:`~neuromem.spec.FixedTotalNumber`
wiring (with replacement and self-connections, as NEST's
``fixed_total_number`` rule), per-synapse weights and delays drawn here, and a
background that is either Poisson trains or a DC current.

Choices the spec imposes, all documented where they are made:

* **Delays on the grid.** Delays are normal (1.5 ms from excitatory, 0.75 ms
  from inhibitory sources, 50 % relative s.d.), redrawn below ``dt / 2`` and
  rounded to the nearest step (half up), as NEST does with the reference's
  draws: every delay is a whole number of steps >= 1. (PyNN's example redraws
  below 0.1 ms, which gives the same grid delays at dt = 0.1 ms except for the
  draws in [0.05, 0.1) ms.)
* **Weights as magnitudes.** The spec stores weights >= 0 with a receptor;
  weights are normal with 10 % relative s.d. around the mean PSC, redrawn
  below 0 as the references do (at 10 s.d. from the mean this never happens in
  practice). The background weight is constant.
* **Background sources.** A spec Poisson source spikes at most once per step,
  while a neuron's background (``K_ext`` inputs at 8 Hz: 12.8 to 23.2 kHz at
  full in-degree) brings 1.3 to 2.3 spikes per 0.1 ms step. Each neuron
  therefore gets ``m`` private Poisson sources at ``8 K_ext / m`` Hz, with ``m``
  the smallest count that keeps a source's spike probability per step at or
  below ``source_p_max``. Their summed count per step is binomial, whose
  variance falls short of the Poisson variance by the factor ``1 - p``
  (at most 2 % with the default ``source_p_max = 0.02``); the mean is exact.
  The sources' trains are the project's counter-based ones, so every backend
  and the PyNN export see the very same input spikes.
* **Initial potentials.** The spec's cell has one ``v_init``: each population
  starts at its reference mean (NEST's "optimized" V0 means). The reference's
  per-neuron normal draws are applied on the torch backend by
  :func:`neuromem.models.microcircuit.initial.apply_initial_potentials`.

Example
-------
>>> net = build_network(scale=0.002, seed=1)
>>> [net.size(p) for p in ("L23E", "L5I")]
[41, 2]
"""

from __future__ import annotations

import math

import numpy as np

from neuromem.models.microcircuit.params import PD14, MicrocircuitParameters
from neuromem.models.microcircuit.scaling import Scaled, scaled
from neuromem.spec import (
    FixedTotalNumber,
    FromList,
    IF_curr_exp,
    Network,
    Population,
    Probe,
    Projection,
    SpikeSourcePoisson,
    checks,
)


def _seed(seed: int, *key: int) -> int:
    """A 32-bit seed for one draw of the network, independent across keys."""
    return int(np.random.SeedSequence([seed, *key]).generate_state(1)[0])


def truncated_normal(rng: np.random.Generator, mean: float, std: float, low: float, size: int) -> np.ndarray:
    """``size`` normal draws, each redrawn until it is >= ``low`` (the references' ``redraw``)."""
    values = rng.normal(mean, std, size)
    bad = np.flatnonzero(values < low)
    while bad.size:
        values[bad] = rng.normal(mean, std, bad.size)
        bad = bad[values[bad] < low]
    return values


def grid_delays(rng: np.random.Generator, mean: float, rel_std: float, dt: float, size: int) -> np.ndarray:
    """Normal delays (ms) redrawn below ``dt / 2`` and rounded half up to whole steps of ``dt`` (>= dt)."""
    raw = truncated_normal(rng, mean, rel_std * mean, 0.5 * dt, size)
    return np.maximum(np.floor(raw / dt + 0.5), 1.0) * dt


def sources_per_neuron(rate_hz: float, dt: float, source_p_max: float) -> int:
    """Fewest Poisson sources that carry ``rate_hz`` with a spike probability per step <= ``source_p_max``."""
    return max(1, math.ceil(rate_hz * dt / 1000.0 / source_p_max - 1e-9))


def build_network(
    scale: float = 0.1,
    k_scale: float | None = None,
    dt: float = 0.1,
    background: str = "poisson",
    seed: int = 0,
    source_p_max: float = 0.02,
    record_spikes: bool = True,
    params: MicrocircuitParameters = PD14,
) -> Network:
    """The Potjans & Diesmann (2014) microcircuit at ``scale``.

    Parameters
    ----------
    scale : float
        Factor of every population size, in (0, 1]; 1 is the full 77,169 neurons.
    k_scale : float or None
        Factor of every in-degree, in (0, 1], with the reference's weight and
        DC compensation; None: the same as ``scale`` (NEST's example runs 0.1 and 0.1).
    dt : float
        Time step (ms) the delays are rounded to.
    background : {"poisson", "dc"}
        Background input: Poisson trains at 8 Hz per external synapse, or the
        DC current with the same mean.
    seed : int
        Seed of the wiring, the weights and delays, and the Poisson sources.
    source_p_max : float
        Largest spike probability per step of one background source (0, 1].
    record_spikes : bool
        Probe the spikes of the eight populations.
    params : MicrocircuitParameters
        The parameter set (default: the published one).

    Returns
    -------
    Network
        Scheme ``"exact"`` (NEST's ``iaf_psc_exp``), populations in the order
        of ``params.populations`` and then their background sources.

    Raises
    ------
    ValidationError
        A scale outside (0, 1] or too small for a population, a bad dt,
        background, seed or source_p_max.
    """
    k_scale = scale if k_scale is None else k_scale
    dt = checks.positive("microcircuit", "dt", dt, "ms")
    seed = checks.count("microcircuit", "seed", seed, minimum=0)
    source_p_max = checks.probability("microcircuit", "source_p_max", source_p_max)
    checks.positive("microcircuit", "source_p_max", source_p_max)
    numbers = scaled(scale, k_scale, background, params)
    populations = [
        Population(name, _cell(numbers, params, i), size=int(numbers.sizes[i]))
        for i, name in enumerate(params.populations)
    ]
    projections = _recurrent(numbers, params, dt, seed)
    if background == "poisson":
        sources, inputs = _background(numbers, params, dt, seed, source_p_max)
        populations += sources
        projections += inputs
    probes = tuple(Probe(name) for name in params.populations) if record_spikes else ()
    return Network(
        populations=tuple(populations),
        projections=tuple(projections),
        probes=probes,
        scheme="exact",
        name="microcircuit",
    )


def _cell(numbers: Scaled, params: MicrocircuitParameters, i: int) -> IF_curr_exp:
    return IF_curr_exp(
        cm=params.cm,
        tau_m=params.tau_m,
        tau_refrac=params.tau_refrac,
        tau_syn_E=params.tau_syn,
        tau_syn_I=params.tau_syn,
        v_rest=params.v_rest,
        v_reset=params.v_reset,
        v_thresh=params.v_thresh,
        i_offset=float(numbers.dc[i]),
        v_init=params.v0_mean[i],
    )


def _recurrent(numbers: Scaled, params: MicrocircuitParameters, dt: float, seed: int) -> list[Projection]:
    projections = []
    for t, target in enumerate(params.populations):
        for s, source in enumerate(params.populations):
            count = int(numbers.synapses[t, s])
            if count == 0:
                continue
            excitatory = bool(params.excitatory[s])
            mean = abs(float(numbers.weights[t, s]))
            rng = np.random.default_rng(_seed(seed, 1, t, s))
            weight = truncated_normal(rng, mean, params.weight_rel_std * mean, 0.0, count)
            delay_mean = params.delay_exc_mean if excitatory else params.delay_inh_mean
            delay = grid_delays(rng, delay_mean, params.delay_rel_std, dt, count)
            projections.append(
                Projection(
                    f"{source}_to_{target}",
                    source,
                    target,
                    FixedTotalNumber(count, allow_self=True, with_replacement=True, seed=_seed(seed, 0, t, s)),
                    weight=weight,
                    delay=delay,
                    receptor="excitatory" if excitatory else "inhibitory",
                )
            )
    return projections


def _background(
    numbers: Scaled, params: MicrocircuitParameters, dt: float, seed: int, source_p_max: float
) -> tuple[list[Population], list[Projection]]:
    populations, projections = [], []
    delay = max(1.0, math.floor(params.delay_poisson / dt + 0.5)) * dt
    for t, target in enumerate(params.populations):
        rate = params.bg_rate * float(numbers.k_ext[t])
        if rate == 0.0:
            continue
        m = sources_per_neuron(rate, dt, source_p_max)
        n = int(numbers.sizes[t]) * m
        name = f"bg_{target}"
        populations.append(Population(name, SpikeSourcePoisson(size=n, rate=rate / m, seed=_seed(seed, 2, t))))
        index = np.arange(n, dtype=np.int64)
        projections.append(
            Projection(
                f"{name}_to_{target}",
                name,
                target,
                FromList(index, index // m),
                weight=numbers.weight_ext,
                delay=delay,
                receptor="excitatory",
            )
        )
    return populations, projections
