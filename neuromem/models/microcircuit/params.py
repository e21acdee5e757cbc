"""The published parameters of the Potjans & Diesmann (2014) cortical microcircuit, as data.

Source: T. C. Potjans and M. Diesmann, "The cell-type specific cortical
microcircuit: relating structure and activity in a full-scale spiking network
model", Cerebral Cortex 24(3):785-806 (2014), Tables 4 and 5, as implemented in
NEST's example ``pynest/examples/Potjans_2014/network_params.py`` (NEST 3) and
PyNN's ``examples/Potjans2014/network_params.py``. Where the two differ the NEST
example is followed and the PyNN value is noted.

Populations are ordered L2/3e, L2/3i, L4e, L4i, L5e, L5i, L6e, L6i; matrices
are indexed ``[target, source]`` as in both references.

Example
-------
>>> p = PD14
>>> p.populations[2], p.full_sizes[2], p.connection_probability("L4E", "L23E")
('L4E', 21915, 0.0437)
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from neuromem.errors import ValidationError

POPULATIONS = ("L23E", "L23I", "L4E", "L4I", "L5E", "L5I", "L6E", "L6I")


@dataclass(frozen=True)
class MicrocircuitParameters:
    """Everything the builder needs, in PyNN units (ms, mV, nF, nA, Hz).

    Attributes
    ----------
    populations : tuple of str
        Population labels (L2/3 is written L23).
    full_sizes : tuple of int
        Neurons per population of the full-scale model (77,169 in all).
    connection_probabilities : tuple of tuples
        Probability of at least one synapse from a source neuron to a target
        neuron, ``[target][source]``.
    k_ext : tuple of int
        External (background) in-degree per population.
    full_mean_rates : tuple of float
        Per-population rates of the full-scale model (Hz), NEST example
        (NEST 3, 4 threads, scale 1): used by the in-degree scaling's DC
        compensation and as the full-scale reference. PyNN's example has
        0.971, 2.868, 4.746, 5.396, 8.142, 9.078, 0.991, 7.523 Hz ("precise
        values differ somewhat between network realizations").
    psp_exc_mean : float
        Peak of the mean excitatory PSP (mV); the weight is the PSC amplitude
        giving this peak (87.8 pA with the cell below).
    weight_rel_std : float
        Relative standard deviation of the recurrent weights (PyNN: 0.05 for
        L4e -> L2/3e, 0.1 elsewhere; NEST: 0.1 everywhere).
    g : float
        Inhibitory weight relative to excitatory (negative: the sign).
    l4e_to_l23e_factor : float
        The L4e -> L2/3e weight is this many times the excitatory weight.
    delay_exc_mean, delay_inh_mean : float
        Mean delays (ms) of connections from excitatory / inhibitory sources.
    delay_rel_std : float
        Relative standard deviation of the delays.
    delay_poisson : float
        Delay of the background input (ms).
    bg_rate : float
        Rate of each external source (Hz).
    cm, tau_m, tau_syn, tau_refrac, v_rest, v_reset, v_thresh : float
        The ``iaf_psc_exp`` / ``IF_curr_exp`` cell: nF, ms, ms, ms, mV, mV, mV.
    v0_mean, v0_std : tuple of float
        Normal initial membrane potential per population (mV), NEST's
        "optimized" values (they shorten the initial burst). The "original"
        choice is -58 +- 10 mV for all (PyNN's example: -58 +- 5 mV).
    """

    populations: tuple[str, ...] = POPULATIONS
    full_sizes: tuple[int, ...] = (20683, 5834, 21915, 5479, 4850, 1065, 14395, 2948)
    connection_probabilities: tuple[tuple[float, ...], ...] = (
        (0.1009, 0.1689, 0.0437, 0.0818, 0.0323, 0.0, 0.0076, 0.0),
        (0.1346, 0.1371, 0.0316, 0.0515, 0.0755, 0.0, 0.0042, 0.0),
        (0.0077, 0.0059, 0.0497, 0.135, 0.0067, 0.0003, 0.0453, 0.0),
        (0.0691, 0.0029, 0.0794, 0.1597, 0.0033, 0.0, 0.1057, 0.0),
        (0.1004, 0.0622, 0.0505, 0.0057, 0.0831, 0.3726, 0.0204, 0.0),
        (0.0548, 0.0269, 0.0257, 0.0022, 0.06, 0.3158, 0.0086, 0.0),
        (0.0156, 0.0066, 0.0211, 0.0166, 0.0572, 0.0197, 0.0396, 0.2252),
        (0.0364, 0.001, 0.0034, 0.0005, 0.0277, 0.008, 0.0658, 0.1443),
    )
    k_ext: tuple[int, ...] = (1600, 1500, 2100, 1900, 2000, 1900, 2900, 2100)
    full_mean_rates: tuple[float, ...] = (0.903, 2.965, 4.414, 5.876, 7.569, 8.633, 1.105, 7.829)
    psp_exc_mean: float = 0.15
    weight_rel_std: float = 0.1
    g: float = -4.0
    l4e_to_l23e_factor: float = 2.0
    delay_exc_mean: float = 1.5
    delay_inh_mean: float = 0.75
    delay_rel_std: float = 0.5
    delay_poisson: float = 1.5
    bg_rate: float = 8.0
    cm: float = 0.25
    tau_m: float = 10.0
    tau_syn: float = 0.5
    tau_refrac: float = 2.0
    v_rest: float = -65.0
    v_reset: float = -65.0
    v_thresh: float = -50.0
    v0_mean: tuple[float, ...] = (-68.28, -63.16, -63.33, -63.45, -63.11, -61.66, -66.72, -61.43)
    v0_std: tuple[float, ...] = (5.36, 4.57, 4.74, 4.94, 4.94, 4.55, 5.46, 4.48)

    def __post_init__(self) -> None:
        n = len(self.populations)
        for name in ("full_sizes", "k_ext", "full_mean_rates", "v0_mean", "v0_std"):
            if len(getattr(self, name)) != n:
                raise ValidationError(f"MicrocircuitParameters: {name} needs {n} values, one per population")
        if np.shape(self.connection_probabilities) != (n, n):
            raise ValidationError(f"MicrocircuitParameters: connection_probabilities must be {n} x {n}")

    @property
    def excitatory(self) -> np.ndarray:
        """True for the excitatory populations (labels ending in E)."""
        return np.array([name.endswith("E") for name in self.populations])

    @property
    def probabilities(self) -> np.ndarray:
        """Connection probability matrix ``[target, source]``."""
        return np.array(self.connection_probabilities, dtype=np.float64)

    def index(self, population: str) -> int:
        """Position of ``population`` in :attr:`populations`."""
        if population not in self.populations:
            raise ValidationError(f"microcircuit: population {population!r} is not one of {self.populations}")
        return self.populations.index(population)

    def connection_probability(self, source: str, target: str) -> float:
        """Probability of a ``source`` -> ``target`` connection."""
        return float(self.probabilities[self.index(target), self.index(source)])


#: The published parameter set.
PD14 = MicrocircuitParameters()
