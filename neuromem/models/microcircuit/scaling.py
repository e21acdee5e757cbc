r"""Derived numbers of the microcircuit at a given scale: sizes, synapse counts, weights, DC input.

The scaling is the reference implementations' (NEST's ``Potjans_2014`` example,
``helpers.py``; PyNN's ``Potjans2014/scaling.py``):

* Full-scale synapse numbers from the connection probabilities ``C`` (the
  probability of at least one synapse between two neurons, synapses drawn
  with replacement): :math:`K_{ts} = \ln(1 - C_{ts}) / \ln(1 - 1/(N_t N_s))`.
* ``scale`` multiplies every population size; ``k_scale`` multiplies every
  in-degree, so a projection keeps ``round(K_ts * scale * k_scale)`` synapses
  and a neuron ``round(K_ext * k_scale)`` external inputs.
* When in-degrees shrink, weights grow by :math:`1/\sqrt{k}` to keep the
  variance of the input, and a DC current restores its mean (diffusion
  approximation):
  :math:`I_{DC} = 10^{-3} \tau_{syn} (1 - \sqrt{k}) \sum_s J_{ts} K_{ts} \nu_s / N_t`
  over the recurrent sources at their full-scale rates :math:`\nu_s`, plus the
  same term for the background (:math:`J_{ext} K_{ext} \nu_{bg}`) when it is
  Poisson. With ``background="dc"`` the background itself is the DC current
  :math:`10^{-3} \nu_{bg} K_{ext} J_{ext} \tau_{syn}`.

Units: nA, ms, Hz, mV (``1e-3`` turns Hz x ms into a fraction).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from neuromem.errors import ValidationError
from neuromem.models.microcircuit.params import PD14, MicrocircuitParameters
from neuromem.spec import checks

BACKGROUNDS = ("poisson", "dc")


def psc_per_psp(cm: float, tau_m: float, tau_syn: float) -> float:
    """PSC amplitude (nA) whose exponential current gives a PSP peaking at 1 mV.

    The PSP of a current ``J exp(-t / tau_syn)`` on the membrane peaks at
    ``J tau_m tau_syn / (cm (tau_syn - tau_m)) (a^tau_m - a^tau_syn)`` with
    ``a = (tau_m / tau_syn)^(1 / (tau_syn - tau_m))``; ``cm`` in nF, times in ms.
    """
    sub = 1.0 / (tau_syn - tau_m)
    pre = tau_m * tau_syn / cm * sub
    frac = (tau_m / tau_syn) ** sub
    return 1.0 / (pre * (frac**tau_m - frac**tau_syn))


def full_synapse_counts(params: MicrocircuitParameters = PD14) -> np.ndarray:
    """Expected synapse numbers ``[target, source]`` of the full-scale model (not rounded)."""
    sizes = np.asarray(params.full_sizes, dtype=np.float64)
    product = np.outer(sizes, sizes)
    return np.log(1.0 - params.probabilities) / np.log((product - 1.0) / product)


@dataclass(frozen=True)
class Scaled:
    """The microcircuit's numbers at one scale.

    Attributes
    ----------
    scale, k_scale : float
        Factors of the population sizes and of the in-degrees.
    sizes : array of int, (8,)
        Neurons per population.
    synapses : array of int, (8, 8)
        Synapses per projection ``[target, source]``.
    k_ext : array of int, (8,)
        External in-degree per population.
    weights : array of float, (8, 8)
        Mean PSC amplitude (nA), negative for inhibitory sources, after the
        in-degree scaling.
    weight_ext : float
        Background PSC amplitude (nA), after the in-degree scaling.
    dc : array of float, (8,)
        Constant current per population (nA): the background itself when it is
        DC, plus the compensation of scaled in-degrees.
    """

    scale: float
    k_scale: float
    sizes: np.ndarray
    synapses: np.ndarray
    k_ext: np.ndarray
    weights: np.ndarray
    weight_ext: float
    dc: np.ndarray

    @property
    def in_degrees(self) -> np.ndarray:
        """Mean recurrent in-degree ``[target, source]`` (synapses per target neuron)."""
        return self.synapses / self.sizes[:, None]


def scaled(scale: float, k_scale: float, background: str = "poisson", params: MicrocircuitParameters = PD14) -> Scaled:
    """Sizes, synapse counts, weights and DC currents at ``scale`` and ``k_scale`` (both in (0, 1]).

    Raises
    ------
    ValidationError
        A scale outside (0, 1], one so small that a population would be empty,
        or an unknown background.
    """
    for name, value in (("scale", scale), ("k_scale", k_scale)):
        number = checks.positive("microcircuit", name, value)
        if number > 1.0:
            raise ValidationError(f"microcircuit: {name} = {number:g} must lie in (0, 1]")
    checks.choice("microcircuit", "background", background, BACKGROUNDS)
    sizes = np.round(np.asarray(params.full_sizes) * scale).astype(np.int64)
    if sizes.min() < 1:
        smallest = params.populations[int(np.argmin(params.full_sizes))]
        raise ValidationError(
            f"microcircuit: scale = {scale:g} leaves population {smallest} empty;"
            f" use scale >= {0.5 / min(params.full_sizes):.2g}"
        )
    full = full_synapse_counts(params)
    synapses = np.round(full * scale * k_scale).astype(np.int64)
    k_ext = np.round(np.asarray(params.k_ext) * k_scale).astype(np.int64)

    unit = psc_per_psp(params.cm, params.tau_m, params.tau_syn) * params.psp_exc_mean
    weights = np.where(params.excitatory[None, :], unit, unit * params.g) * np.ones((sizes.size, 1))
    weights[params.index("L23E"), params.index("L4E")] = unit * params.l4e_to_l23e_factor
    full_k_ext = np.asarray(params.k_ext, dtype=np.float64)
    if background == "dc":
        dc = 1e-3 * params.bg_rate * full_k_ext * unit * params.tau_syn
    else:
        dc = np.zeros(sizes.size)
    weight_ext = unit
    if k_scale != 1.0:
        shrink = 1.0 - math.sqrt(k_scale)
        in_degree = full / np.asarray(params.full_sizes, dtype=np.float64)[:, None]
        recurrent = (weights * in_degree * np.asarray(params.full_mean_rates)).sum(axis=1)
        dc = dc + 1e-3 * params.tau_syn * shrink * recurrent
        if background == "poisson":
            dc = dc + 1e-3 * params.tau_syn * shrink * unit * full_k_ext * params.bg_rate
        weights = weights / math.sqrt(k_scale)
        weight_ext = unit / math.sqrt(k_scale)
    return Scaled(float(scale), float(k_scale), sizes, synapses, k_ext, weights, float(weight_ext), dc)
