"""Plasticity: STDP as timing rule x weight rule, and the model-specific rules.

Conventions shared by all rules here (the backends implement exactly these):

* A pre-synaptic event of a synapse with delay ``d`` happens at its *arrival*
  tick (emission tick + d) unless a rule says otherwise; a post-synaptic event
  at the post neuron's spike tick.
* Traces are evaluated "just before" tick t (``x(t-)``): they hold the events
  of ticks < t, decayed to t. So pairs with equal ticks (dt = 0) change nothing.
* Within a tick, depression (pre events against the post trace) is applied
  before potentiation (post events against the pre trace); STDP weights are
  clipped to ``[w_min, w_max]`` after each of the two, the CA3 rule once
  after both.
"""

from __future__ import annotations

from dataclasses import dataclass

from neuromem.errors import ValidationError
from neuromem.spec import checks
from neuromem.spec.base import SpecObject, register

PAIRINGS = ("all_to_all", "nearest")


@register
@dataclass(frozen=True, eq=False)
class SpikePairRule(SpecObject):
    r"""Exponential pair-based STDP window (PyNN ``SpikePairRule``).

    For a pre event at ``t_pre`` and a post event at ``t_post``,
    ``Delta t = t_post - t_pre``::

        Delta t > 0:  Delta w = +A_plus  * f_plus(w)  * exp(-Delta t / tau_plus)
        Delta t < 0:  Delta w = -A_minus * f_minus(w) * exp(+Delta t / tau_minus)
        Delta t = 0:  no change

    computed online with a pre trace x (+1 per pre event, or set to 1 for
    ``nearest``) and a post trace y, decaying by ``exp(-dt/tau)`` per step.

    Parameters
    ----------
    tau_plus, tau_minus : float
        Window time constants (ms), > 0.
    A_plus, A_minus : float
        Dimensionless amplitudes, >= 0; the weight rule scales them.
    pairing : {"all_to_all", "nearest"}
        Trace accumulation: sum over all earlier spikes, or the latest only.
    """

    tau_plus: float = 20.0
    tau_minus: float = 20.0
    A_plus: float = 0.01
    A_minus: float = 0.01
    pairing: str = "all_to_all"

    def __post_init__(self) -> None:
        owner = "SpikePairRule"
        for name in ("tau_plus", "tau_minus"):
            object.__setattr__(self, name, checks.positive(owner, name, getattr(self, name), "ms"))
        for name in ("A_plus", "A_minus"):
            object.__setattr__(self, name, checks.non_negative(owner, name, getattr(self, name)))
        checks.choice(owner, "pairing", self.pairing, PAIRINGS)


@dataclass(frozen=True, eq=False)
class _WeightRule(SpecObject):
    w_min: float = 0.0
    w_max: float = 1.0

    def __post_init__(self) -> None:
        owner = type(self).__name__
        object.__setattr__(self, "w_min", checks.non_negative(owner, "w_min", self.w_min, "nA"))
        object.__setattr__(self, "w_max", checks.finite(owner, "w_max", self.w_max))
        if self.w_max < self.w_min:
            raise ValidationError(f"{owner}: w_max = {self.w_max:g} nA must be >= w_min = {self.w_min:g} nA")


@register
@dataclass(frozen=True, eq=False)
class AdditiveWeightDependence(_WeightRule):
    """Additive weight rule: ``f_plus = f_minus = w_max`` (PyNN, NEST, sPyNNaker).

    Potentiation adds ``A_plus * w_max * x``, depression subtracts
    ``A_minus * w_max * y``; then clip to ``[w_min, w_max]`` (nA).
    """


@register
@dataclass(frozen=True, eq=False)
class MultiplicativeWeightDependence(_WeightRule):
    """Multiplicative weight rule: ``f_plus = w_max - w``, ``f_minus = w - w_min``.

    Soft bounds: changes shrink as the weight nears a bound (nA).
    """


WeightRule = AdditiveWeightDependence | MultiplicativeWeightDependence


@register
@dataclass(frozen=True, eq=False)
class STDP(SpecObject):
    """Spike-timing-dependent plasticity: a timing rule times a weight rule.

    The weight delivered by an arriving pre spike is the weight before that
    tick's update (Brian2's ``on_pre: g += w; ...; w = clip(...)`` order).

    Examples
    --------
    >>> STDP(SpikePairRule(tau_plus=20.0, tau_minus=20.0, A_plus=0.01, A_minus=0.012),
    ...      AdditiveWeightDependence(w_min=0.0, w_max=0.5))  # doctest: +ELLIPSIS
    STDP(...)
    """

    timing: SpikePairRule
    weight: AdditiveWeightDependence | MultiplicativeWeightDependence

    def __post_init__(self) -> None:
        if not isinstance(self.timing, SpikePairRule):
            raise ValidationError(f"STDP: timing must be a SpikePairRule, got {type(self.timing).__name__}")
        if not isinstance(self.weight, (AdditiveWeightDependence, MultiplicativeWeightDependence)):
            raise ValidationError(
                "STDP: weight must be AdditiveWeightDependence or MultiplicativeWeightDependence,"
                f" got {type(self.weight).__name__}"
            )

    @property
    def w_min(self) -> float:
        return self.weight.w_min

    @property
    def w_max(self) -> float:
        return self.weight.w_max


@register
@dataclass(frozen=True, eq=False)
class CA3PairRule(SpecObject):
    r"""The CA3 memory's pair rule ("rule R*", ``specs/ca3.md`` section 1.5.4).

    The discrete-time rule that reproduces every spike recorded on SpiNNaker.
    Per plastic synapse i -> j with delay d ticks, at tick t, after the neuron
    update and before the tick's spikes are sent:

    (a) potentiation, for each post neuron j that spiked at t:
        ``w_ij += amplitude_plus * x_i(t-)``, where x_i counts pre *arrivals*
        (emission + d) at ticks < t;
    (b) depression, for each pre neuron i *emitting* at t and every j that did
        not spike at t: ``w_ij -= amplitude_minus * y_j(t-)``, y_j counting post
        spikes at ticks < t;
    (c) clip to ``[w_min, w_max]`` once per tick;
    (d) add this tick's arrivals to x and post spikes to y (+1 for
        ``all_to_all``, set to 1 for ``nearest``); both decay by
        ``exp(-dt/tau)`` per tick. A spike emitted at t carries the weight just
        computed and arrives at t + d.

    Parameters
    ----------
    tau_plus, tau_minus : float
        Trace time constants (ms), > 0. Calibrated default 1.5 ms.
    amplitude_plus, amplitude_minus : float
        Weight change per unit trace (nA), >= 0. Calibrated default 12 nA
        (A = 2 with w_max = 6 nA).
    w_min, w_max : float
        Weight bounds (nA).
    pairing : {"all_to_all", "nearest"}
    published : STDP or None
        The published PyNN configuration (tau 3 ms, A 6, additive, w_max 6),
        used by the PyNN/sPyNNaker exporters, which cannot express this rule.
    """

    tau_plus: float = 1.5
    tau_minus: float = 1.5
    amplitude_plus: float = 12.0
    amplitude_minus: float = 12.0
    w_min: float = 0.0
    w_max: float = 6.0
    pairing: str = "all_to_all"
    published: STDP | None = None

    def __post_init__(self) -> None:
        owner = "CA3PairRule"
        for name in ("tau_plus", "tau_minus"):
            object.__setattr__(self, name, checks.positive(owner, name, getattr(self, name), "ms"))
        for name in ("amplitude_plus", "amplitude_minus", "w_min"):
            object.__setattr__(self, name, checks.non_negative(owner, name, getattr(self, name), "nA"))
        object.__setattr__(self, "w_max", checks.finite(owner, "w_max", self.w_max))
        if self.w_max < self.w_min:
            raise ValidationError(f"{owner}: w_max = {self.w_max:g} nA must be >= w_min = {self.w_min:g} nA")
        checks.choice(owner, "pairing", self.pairing, PAIRINGS)
        if self.published is not None and not isinstance(self.published, STDP):
            raise ValidationError(f"{owner}: published must be an STDP or None, got {type(self.published).__name__}")


@register
@dataclass(frozen=True, eq=False)
class SubspaceRule(SpecObject):
    r"""HLOP's Hebbian/anti-Hebbian subspace rule (Oja's subspace rule) on lateral weights.

    Xiao et al., ICLR 2024, section 4; Oja (1989). A projection pair
    (``receptor`` excitatory and inhibitory, same pre and post, both carrying
    this rule) holds the signed lateral weights ``H = W_exc - W_inh`` (M x N)
    from a layer's presynaptic population (N neurons) onto M lateral neurons.
    In rate (spike-count) form, for presynaptic count vectors ``x`` of one
    step each::

        y     = H x                     (lateral response)
        dH    = < y (x - H^T y)^T >     (Hebbian minus anti-Hebbian, batch mean)
        v     = momentum v + clip(dH, +-clip);   H += eta v

    with ``eta = lr / <|x|^2>`` (the mean squared norm of the activity being
    learned), ``iterations`` updates per batch of ``batch_size`` rows and
    ``epochs`` passes. Rows learned on earlier tasks stay fixed; new rows
    learn the residual's principal subspace. ``spike_steps`` quantises ``y``
    to what a firing count over that many steps can represent (clamped to
    ``+-spike_scale``); ``None`` keeps ``y`` analogue.

    The torch engine runs it (:mod:`neuromem.backends.torch.subspace`); no
    other backend or exporter can express it.

    Parameters
    ----------
    lr, momentum, clip : float
        Dimensionless; ``lr > 0``, ``0 <= momentum < 1``, ``clip > 0``.
    iterations, batch_size : int
        >= 1.
    epochs : int
        >= 0 (0: the rows keep their random initial values).
    spike_scale : float
        > 0.
    spike_steps : int or None
        >= 1 or None.
    """

    lr: float = 1.0
    momentum: float = 0.9
    clip: float = 10.0
    iterations: int = 5
    epochs: int = 30
    batch_size: int = 128
    spike_scale: float = 20.0
    spike_steps: int | None = None

    def __post_init__(self) -> None:
        owner = "SubspaceRule"
        for name in ("lr", "clip", "spike_scale"):
            object.__setattr__(self, name, checks.positive(owner, name, getattr(self, name)))
        momentum = checks.non_negative(owner, "momentum", self.momentum)
        if momentum >= 1.0:
            raise ValidationError(f"{owner}: momentum = {momentum:g} is not allowed; allowed: a number in [0, 1)")
        object.__setattr__(self, "momentum", momentum)
        for name, minimum in (("iterations", 1), ("epochs", 0), ("batch_size", 1)):
            object.__setattr__(self, name, checks.count(owner, name, getattr(self, name), minimum))
        if self.spike_steps is not None:
            object.__setattr__(self, "spike_steps", checks.count(owner, "spike_steps", self.spike_steps))


PlasticityRule = STDP | CA3PairRule | SubspaceRule
