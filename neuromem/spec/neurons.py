"""Cell types: the LIF neuron with exponential currents and spike sources.

Parameter names and units are PyNN's (``IF_curr_exp``): ms, mV, nA, nF.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from neuromem.errors import ValidationError
from neuromem.spec import checks
from neuromem.spec.base import SpecObject, register


@register
@dataclass(frozen=True, eq=False)
class LIFCurrExp(SpecObject):
    r"""Leaky integrate-and-fire neuron with exponentially decaying currents.

    Continuous dynamics (PyNN ``IF_curr_exp``, NEST ``iaf_psc_exp``)::

        cm dV/dt      = cm (v_rest - V) / tau_m + I_E - I_I + i_offset
        dI_E/dt       = -I_E / tau_syn_E        (I_E += w at each excitatory arrival)
        dI_I/dt       = -I_I / tau_syn_I        (I_I += |w| at each inhibitory arrival)
        V >= v_thresh -> spike, V = v_reset, V held for tau_refrac

    How the step of length ``dt`` is computed is fixed by the network's
    integration scheme (:mod:`neuromem.spec.schemes`).

    Parameters
    ----------
    cm : float
        Membrane capacitance (nF), > 0.
    tau_m : float
        Membrane time constant (ms), > 0.
    tau_refrac : float
        Refractory period (ms), >= 0; rounded to whole steps.
    tau_syn_E, tau_syn_I : float
        Decay time constants of the excitatory / inhibitory current (ms), > 0.
    v_rest, v_reset, v_thresh : float
        Resting, reset and threshold potential (mV); ``v_reset < v_thresh``.
    i_offset : float
        Constant injected current (nA).
    v_init : float or None
        Initial membrane potential (mV); ``None`` means ``v_rest``.

    Examples
    --------
    >>> cell = LIFCurrExp(cm=0.27, tau_m=3.0, tau_syn_E=0.3, tau_syn_I=0.3,
    ...                   v_rest=-60.0, v_reset=-60.0, v_thresh=-57.0)
    >>> cell.membrane_resistance
    11.11111111111111
    """

    cm: float = 1.0
    tau_m: float = 20.0
    tau_refrac: float = 0.1
    tau_syn_E: float = 5.0
    tau_syn_I: float = 5.0
    v_rest: float = -65.0
    v_reset: float = -65.0
    v_thresh: float = -50.0
    i_offset: float = 0.0
    v_init: float | None = None

    units = {
        "cm": "nF",
        "tau_m": "ms",
        "tau_refrac": "ms",
        "tau_syn_E": "ms",
        "tau_syn_I": "ms",
        "v_rest": "mV",
        "v_reset": "mV",
        "v_thresh": "mV",
        "i_offset": "nA",
        "v_init": "mV",
    }

    def __post_init__(self) -> None:
        owner = "LIFCurrExp"
        for name in ("cm", "tau_m", "tau_syn_E", "tau_syn_I"):
            object.__setattr__(self, name, checks.positive(owner, name, getattr(self, name), self.units[name]))
        object.__setattr__(self, "tau_refrac", checks.non_negative(owner, "tau_refrac", self.tau_refrac, "ms"))
        for name in ("v_rest", "v_reset", "v_thresh", "i_offset"):
            object.__setattr__(self, name, checks.finite(owner, name, getattr(self, name)))
        if self.v_init is not None:
            object.__setattr__(self, "v_init", checks.finite(owner, "v_init", self.v_init))
        if self.v_reset >= self.v_thresh:
            raise ValidationError(
                f"{owner}: v_reset = {self.v_reset:g} mV must be below v_thresh = {self.v_thresh:g} mV"
            )

    @property
    def initial_v(self) -> float:
        """Membrane potential at t = 0 (mV)."""
        return self.v_rest if self.v_init is None else self.v_init

    @property
    def membrane_resistance(self) -> float:
        """R = tau_m / cm (MOhm, so that nA x MOhm = mV)."""
        return self.tau_m / self.cm

    def parameters(self) -> dict[str, float]:
        """PyNN keyword arguments of this cell (v_init excluded)."""
        return {k: getattr(self, k) for k in self.units if k != "v_init"}


@register
@dataclass(frozen=True, eq=False)
class SpikeSourceArray(SpecObject):
    """Neurons that emit spikes at given times (PyNN ``SpikeSourceArray``).

    Stored flat: spike ``k`` is emitted by neuron ``neuron[k]`` at ``times_ms[k]``.
    A spike at time t is emitted at tick ``round(t / dt)``.

    Parameters
    ----------
    size : int
        Number of source neurons, >= 1.
    neuron : array of int
        Index of the emitting neuron per spike, in ``0..size-1``.
    times_ms : array of float
        Spike time per spike (ms), >= 0.

    Examples
    --------
    >>> src = SpikeSourceArray.from_lists([[0.0, 1.0, 2.0], [], [5.0]])
    >>> src.size, src.spike_lists()[2]
    (3, [5.0])
    """

    size: int
    neuron: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    times_ms: np.ndarray = field(default_factory=lambda: np.zeros(0))

    def __post_init__(self) -> None:
        owner = "SpikeSourceArray"
        object.__setattr__(self, "size", checks.count(owner, "size", self.size))
        neuron = checks.index_array(owner, "neuron", self.neuron, self.size)
        times = checks.float_array(owner, "times_ms", self.times_ms, "ms").ravel()
        if neuron.shape != times.shape:
            raise ValidationError(
                f"{owner}: neuron has {neuron.size} entries but times_ms has {times.size}; they must match"
            )
        if times.size and times.min() < 0.0:
            raise ValidationError(f"{owner}: times_ms holds {times.min():g} ms; spike times must be >= 0")
        order = np.lexsort((neuron, times))
        neuron, times = neuron[order], times[order]
        neuron.setflags(write=False)
        times.setflags(write=False)
        object.__setattr__(self, "neuron", neuron)
        object.__setattr__(self, "times_ms", times)

    @classmethod
    def from_lists(cls, spike_times: Sequence[Sequence[float]]) -> SpikeSourceArray:
        """Build from one list of spike times (ms) per neuron."""
        if len(spike_times) == 0:
            raise ValidationError("SpikeSourceArray: spike_times needs at least one neuron")
        neuron = np.concatenate([np.full(len(times), i, dtype=np.int64) for i, times in enumerate(spike_times)])
        times = np.concatenate([np.asarray(t, dtype=np.float64).ravel() for t in spike_times])
        return cls(size=len(spike_times), neuron=neuron, times_ms=times)

    def spike_lists(self) -> list[list[float]]:
        """One sorted list of spike times (ms) per neuron."""
        lists: list[list[float]] = [[] for _ in range(self.size)]
        for i, t in zip(self.neuron.tolist(), self.times_ms.tolist()):
            lists[i].append(t)
        return lists

    def ticks(self, dt: float) -> np.ndarray:
        """Emission tick of every spike for time step ``dt`` (ms)."""
        return np.rint(self.times_ms / dt).astype(np.int64)


@register
@dataclass(frozen=True, eq=False)
class SpikeSourcePoisson(SpecObject):
    """Independent Poisson spike trains (PyNN ``SpikeSourcePoisson``).

    In each step of length ``dt`` inside ``[start, start + duration)`` a
    neuron spikes with probability ``rate * dt / 1000``. The random numbers come
    from :func:`neuromem.spec.random.uniform`, a counter-based generator keyed
    by (seed, trial, neuron, step), so every backend and every batch layout
    draws the very same trains.

    Parameters
    ----------
    size : int
        Number of source neurons, >= 1.
    rate : float
        Firing rate (Hz), >= 0.
    start : float
        Start of firing (ms), >= 0.
    duration : float
        Length of the firing period (ms), > 0; ``inf`` for the whole run.
    seed : int
        Seed of the trains, >= 0.
    """

    size: int
    rate: float
    start: float = 0.0
    duration: float = math.inf
    seed: int = 0

    def __post_init__(self) -> None:
        owner = "SpikeSourcePoisson"
        object.__setattr__(self, "size", checks.count(owner, "size", self.size))
        object.__setattr__(self, "rate", checks.non_negative(owner, "rate", self.rate, "Hz"))
        object.__setattr__(self, "start", checks.non_negative(owner, "start", self.start, "ms"))
        duration = float(self.duration)
        if math.isnan(duration) or duration <= 0.0:
            raise ValidationError(f"{owner}: duration = {self.duration!r} ms must be > 0 (inf allowed)")
        object.__setattr__(self, "duration", duration)
        object.__setattr__(self, "seed", checks.count(owner, "seed", self.seed, minimum=0))

    def probability(self, dt: float) -> float:
        """Spike probability per step of ``dt`` ms (clipped to 1)."""
        return min(1.0, self.rate * dt / 1000.0)


CellType = LIFCurrExp | SpikeSourceArray | SpikeSourcePoisson
SOURCE_TYPES = (SpikeSourceArray, SpikeSourcePoisson)
