"""The face every backend shows: capabilities, build, and the Simulation.

A backend module exposes ``NAME``, ``capabilities() -> frozenset[str]``,
``is_available() -> bool`` and ``build(network, dt, **options) -> Simulation``.
:func:`required_features` lists what a network needs, so ``build`` can refuse
an unsupported network before any run, naming the feature and the backend.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Mapping, Sequence

import numpy as np

from neuromem.errors import CapabilityError, ValidationError
from neuromem.record import Recording
from neuromem.spec import (
    STDP,
    AdditiveWeightDependence,
    CA3PairRule,
    LIFCurrExp,
    Network,
    SpikeSourceArray,
    SpikeSourcePoisson,
)

#: Per-run input for one population: one source for every trial, or one per trial.
RunInput = SpikeSourceArray | Sequence[SpikeSourceArray]


def required_features(network: Network) -> set[str]:
    """Feature names a network needs (the vocabulary of ``capabilities()``)."""
    features = {f"scheme:{network.scheme}"}
    for population in network.populations:
        features.add(f"cell:{type(population.cell).__name__}")
    for projection in network.projections:
        rule = projection.plasticity
        if rule is None:
            continue
        if isinstance(rule, STDP):
            weight = "additive" if isinstance(rule.weight, AdditiveWeightDependence) else "multiplicative"
            features.add(f"plasticity:STDP:{rule.timing.pairing}:{weight}")
        else:
            features.add(f"plasticity:{type(rule).__name__}")
        if np.unique(network.connection_list(projection.name).delay).size > 1:
            features.add("plasticity:heterogeneous_delays")
    for probe in network.probes:
        features.add(f"probe:{probe.variable}")
    return features


def check_capabilities(network: Network, backend: str, capabilities: frozenset[str]) -> None:
    """Raise CapabilityError naming the first feature the backend lacks."""
    missing = sorted(required_features(network) - capabilities)
    if missing:
        raise CapabilityError(
            f"backend {backend!r} cannot run network {network.name!r}: it does not support {', '.join(missing)}"
        )


ALL_FEATURES = frozenset(
    {
        "scheme:spinnaker",
        "scheme:exact",
        f"cell:{LIFCurrExp.__name__}",
        f"cell:{SpikeSourceArray.__name__}",
        f"cell:{SpikeSourcePoisson.__name__}",
        "plasticity:STDP:all_to_all:additive",
        "plasticity:STDP:all_to_all:multiplicative",
        "plasticity:STDP:nearest:additive",
        "plasticity:STDP:nearest:multiplicative",
        f"plasticity:{CA3PairRule.__name__}",
        "probe:spikes",
        "probe:v",
        "probe:i_exc",
        "probe:i_inh",
        "probe:weight",
    }
)


def normalise_inputs(
    network: Network, inputs: Mapping[str, RunInput] | None, batch_size: int
) -> dict[str, list[SpikeSourceArray]]:
    """Check per-run inputs and return one SpikeSourceArray per trial per population."""
    result: dict[str, list[SpikeSourceArray]] = {}
    for name, value in (inputs or {}).items():
        population = network.population(name)
        if not population.is_source:
            raise ValidationError(f"inputs[{name!r}]: population {name!r} is not a spike source")
        sources = [value] * batch_size if isinstance(value, SpikeSourceArray) else list(value)
        if len(sources) != batch_size:
            raise ValidationError(
                f"inputs[{name!r}]: got {len(sources)} spike sources for a batch of {batch_size} trials"
            )
        for source in sources:
            if not isinstance(source, SpikeSourceArray):
                raise ValidationError(
                    f"inputs[{name!r}]: expected SpikeSourceArray objects, got {type(source).__name__}"
                )
            if source.size != population.size:
                raise ValidationError(
                    f"inputs[{name!r}]: source has {source.size} neurons, population has {population.size}"
                )
        result[name] = sources
    return result


class Simulation(ABC):
    """A network built on one backend, with its state.

    Time advances across calls to :meth:`run`; :meth:`reset` goes back to t = 0
    with the initial state (weights included).
    """

    network: Network
    dt: float
    batch_size: int

    @property
    @abstractmethod
    def tick(self) -> int:
        """Number of steps simulated so far."""

    @abstractmethod
    def run(self, duration: float, inputs: Mapping[str, RunInput] | None = None) -> Recording:
        """Advance by ``duration`` ms and return what the probes recorded.

        ``inputs`` replaces, for this run, the spikes of spike-source
        populations; times are absolute (ms since t = 0).
        """

    @abstractmethod
    def reset(self) -> None:
        """Back to t = 0 and the initial state."""

    @abstractmethod
    def get_weights(self, projection: str) -> np.ndarray:
        """Weights (nA) as an array (trials, synapses) in connection-list order."""

    @abstractmethod
    def set_weights(self, projection: str, weights: np.ndarray | float) -> None:
        """Replace the weights (nA) of a projection: scalar, (synapses,) or (trials, synapses)."""

    def duration_steps(self, duration: float) -> int:
        """``duration`` ms as a whole number of steps, or raise."""
        steps = duration / self.dt
        if not np.isfinite(steps) or steps < 0 or abs(steps - round(steps)) > 1e-6:
            raise ValidationError(
                f"run: duration = {duration!r} ms must be >= 0 and a whole number of time steps ({self.dt:g} ms)"
            )
        return int(round(steps))
