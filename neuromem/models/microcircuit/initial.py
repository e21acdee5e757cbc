"""Per-neuron initial membrane potentials, drawn as the references draw them.

NEST's example starts every neuron at a normal draw (per population mean and
s.d., its "optimized" choice, or -58 +- 10 mV, the "original" one). The spec's
cell holds a single ``v_init`` per population, so the draws are applied to a
built torch simulation through its public ``state_dict`` /
``load_state_dict``: the network itself, and hence its PyNN export, keeps the
population means.

Example
-------
>>> from neuromem.backends import build
>>> from neuromem.models.microcircuit import build_network
>>> sim = build(build_network(scale=0.002), "torch", dt=0.1)
>>> v = apply_initial_potentials(sim, seed=3)
>>> v.shape
(1, 155)
"""

from __future__ import annotations

import numpy as np
import torch

from neuromem.backends.torch.simulation import TorchSimulation
from neuromem.errors import ValidationError
from neuromem.models.microcircuit.params import PD14, MicrocircuitParameters
from neuromem.spec import Network, checks

V0_KINDS = ("optimized", "original")
#: NEST's "original" initial potential: the same normal distribution for every population (mV).
ORIGINAL_V0 = (-58.0, 10.0)


def initial_potentials(
    network: Network, seed: int, kind: str = "optimized", params: MicrocircuitParameters = PD14
) -> np.ndarray:
    """One normal draw per neuron of the eight populations (mV), in the network's population order.

    Raises
    ------
    ValidationError
        An unknown ``kind`` or a network without the microcircuit's populations.
    """
    checks.choice("microcircuit", "kind", kind, V0_KINDS)
    seed = checks.count("microcircuit", "seed", seed, minimum=0)
    rng = np.random.default_rng(np.random.SeedSequence([seed, 3]))
    parts = []
    for population in network.populations:
        if population.is_source:
            continue
        i = params.index(population.name)
        mean, std = (params.v0_mean[i], params.v0_std[i]) if kind == "optimized" else ORIGINAL_V0
        parts.append(rng.normal(mean, std, int(population.size)))  # type: ignore[arg-type]
    return np.concatenate(parts)


def apply_initial_potentials(simulation: TorchSimulation, seed: int, kind: str = "optimized") -> np.ndarray:
    """Set every trial's membrane potentials of a torch simulation to fresh draws; returns them (trials, neurons).

    Trial ``b`` draws with seed ``seed + b``. The torch state packs the LIF
    populations first, in the network's order, which is the order of
    :func:`initial_potentials`. Call it again after ``reset()``.
    """
    state = simulation.state_dict()
    v = state["neurons.v"]
    draws = np.stack([initial_potentials(simulation.network, seed + b, kind) for b in range(v.shape[0])])
    if draws.shape != tuple(v.shape):
        raise ValidationError(f"microcircuit: the simulation holds {tuple(v.shape)} potentials, drew {draws.shape}")
    state["neurons.v"] = torch.as_tensor(draws, dtype=v.dtype)
    simulation.load_state_dict(state)
    return draws
