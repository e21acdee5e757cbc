"""The face every backend shows: capabilities, build, and the Simulation.

A backend module exposes ``NAME``, ``capabilities() -> frozenset[str]``,
``is_available() -> bool`` and ``build(network, dt, **options) -> Simulation``.
:func:`required_features` lists what a network needs, so ``build`` can refuse
an unsupported network before any run, naming the feature and the backend.
"""

from __future__ import annotations

import math
from abc import ABC, abstractmethod
from collections.abc import Callable, Mapping, Sequence

import numpy as np

from neuromem.cells import registry
from neuromem.errors import CapabilityError, ValidationError
from neuromem.limits import check_memory, format_bytes
from neuromem.record import Recording
from neuromem.spec import (
    STDP,
    AdditiveWeightDependence,
    CA3PairRule,
    DCSource,
    Network,
    SpikeSourceArray,
    SpikeSourcePoisson,
    StepCurrentSource,
    checks,
)

#: Default budget of what one ``run`` may record (traces and weight snapshots), bytes.
DEFAULT_MAX_RECORDING_BYTES = 2 * 10**9
#: Deterministic threshold functions of ``snntorch.surrogate`` a build may name.
SURROGATES = (
    "atan",
    "fast_sigmoid",
    "heaviside",
    "sigmoid",
    "spike_rate_escape",
    "straight_through_estimator",
    "triangular",
    "SFS",
)
#: State variables a probe may sample: what some registered cell type records.
TRACE_VARIABLES = registry.RECORDABLES

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
    for source in network.current_sources:
        features.add(f"current_source:{type(source).__name__}")
    return features


def check_capabilities(network: Network, backend: str, capabilities: frozenset[str]) -> None:
    """Raise CapabilityError naming the first feature the backend lacks.

    A cell type without an update under the network's scheme is refused too,
    naming the cell type and the scheme.
    """
    registry.check_network_schemes(network)
    missing = sorted(required_features(network) - capabilities)
    if missing:
        hint = (
            " (plasticity:SubspaceRule runs in rate form on the torch engine: neuromem.backends.torch.subspace)"
            if "plasticity:SubspaceRule" in missing
            else ""
        )
        raise CapabilityError(
            f"backend {backend!r} cannot run network {network.name!r}: it does not support {', '.join(missing)}" + hint
        )


ALL_FEATURES = frozenset(
    {
        "scheme:spinnaker",
        "scheme:exact",
        *(f"cell:{name}" for name in registry.names()),
        f"cell:{SpikeSourceArray.__name__}",
        f"cell:{SpikeSourcePoisson.__name__}",
        "plasticity:STDP:all_to_all:additive",
        "plasticity:STDP:all_to_all:multiplicative",
        "plasticity:STDP:nearest:additive",
        "plasticity:STDP:nearest:multiplicative",
        f"plasticity:{CA3PairRule.__name__}",
        "probe:spikes",
        *(f"probe:{variable}" for variable in registry.RECORDABLES),
        "probe:weight",
        f"current_source:{DCSource.__name__}",
        f"current_source:{StepCurrentSource.__name__}",
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


# -- shared build checks ------------------------------------------------------------------------


def check_build(
    network: Network,
    backend: str,
    capabilities: frozenset[str],
    dt: float,
    batch_size: int,
    seed: int,
    trial_seeds: Sequence[int] | None,
) -> tuple[float, int, list[int]]:
    """The checks every backend's ``build`` makes first; returns (dt in ms, batch size, one seed per trial).

    Refuses (before anything is built) a non-Network, a feature ``backend``
    lacks, a dt (ms) that is not positive, a network invalid at that dt, a
    batch size below 1, and seeds that are negative or do not give one per
    trial. Trial b draws with ``trial_seeds[b]``, default ``seed + b``.
    """
    if not isinstance(network, Network):
        raise ValidationError(f"build: network must be a Network, got {type(network).__name__}")
    check_capabilities(network, backend, capabilities)
    dt = checks.positive("build", "dt", dt, "ms")
    network.validate(dt)
    batch_size = checks.count("build", "batch_size", batch_size)
    if trial_seeds is None:
        seeds = [checks.count("build", "seed", seed, minimum=0) + b for b in range(batch_size)]
    else:
        seeds = [checks.count("build", "trial_seeds", s, minimum=0) for s in trial_seeds]
        if len(seeds) != batch_size:
            raise ValidationError(f"build: {len(seeds)} trial_seeds for batch_size {batch_size}")
    return dt, batch_size, seeds


def check_build_cost(network: Network, dt: float, batch_size: int, dtype: str, backend: str) -> None:
    """The checks every ``build`` makes last: step constants representable in ``dtype``, memory that fits."""
    check_step_constants(network, dt, dtype)
    check_build_memory(network, dt, batch_size, 4 if dtype == "float32" else 8, backend)


def check_step_constants(network: Network, dt: float, dtype: str) -> None:
    """Refuse cell parameters whose per-step constants overflow ``dtype`` (``"float32"``/``"float64"``).

    A constant larger than the square root of the dtype's largest value (the
    membrane resistance ``tau_m / cm`` with ``cm = 1e-300`` nF, say) makes the
    very first products of a step infinite, and the membrane turns NaN without
    a spike or a warning; such a network is refused at build, naming the
    population, the constant and the parameters it comes from.
    """
    limit = math.sqrt(float(np.finfo(np.dtype(dtype)).max))
    for population in network.populations:
        cell = population.cell
        if population.is_source:
            continue
        model = registry.model_of(cell)
        constants = model.torch.constants(cell.parameters(), dt, network.scheme)  # type: ignore[union-attr]
        for key, value in constants.items():
            if isinstance(value, bool) or not isinstance(value, (int, float)):
                continue
            if not math.isfinite(value) or abs(value) > limit:
                described = model.torch.describe.get(key, f"step constant {key}")
                shown = ", ".join(
                    f"{name} = {getattr(cell, name):g} {unit}"
                    for name, unit in cell.units.items()  # type: ignore[union-attr]
                    if unit in ("nF", "ms") and getattr(cell, name) is not None
                )
                raise ValidationError(
                    f"Population {population.name!r}: {type(cell).__name__}({shown}) gives a {described} of"
                    f" {value:.3g} with dt = {dt:g} ms, beyond what {dtype} can carry through a step (|x| <="
                    f" {limit:.2g}); the membrane would turn NaN. Use realistic parameters"
                    + (" or dtype='float64'" if dtype == "float32" else "")
                )


def check_build_memory(network: Network, dt: float, batch_size: int, itemsize: int, backend: str) -> None:
    """Refuse, before allocating, a build whose state, delay buffer and synapses exceed the memory budget."""
    n_neurons = sum(int(p.size) for p in network.populations if not p.is_source)  # type: ignore[arg-type]
    n_total = sum(int(p.size) for p in network.populations)  # type: ignore[arg-type]
    max_steps = 1
    synapses = 0
    plastic = 0
    for projection in network.projections:
        delays = network.connection_list(projection.name).delay
        count = int(delays.size)
        synapses += count
        if projection.is_plastic:
            plastic += count
        if count:
            max_steps = max(max_steps, int(round(float(delays.max()) / dt)))
    parts = {
        "neuron state": batch_size * n_neurons * (3 * itemsize + 4),
        "delay buffer": (max_steps + 1) * batch_size * 2 * n_neurons * itemsize,
        "input chunk": 256 * batch_size * n_total * itemsize,
        "synapses": synapses * (16 + itemsize),
        "plastic weights and traces": plastic * batch_size * itemsize * 2,
    }
    total = float(sum(parts.values()))
    biggest = max(parts, key=parts.get)  # type: ignore[arg-type]
    check_memory(
        f"build on {backend}",
        f"network {network.name!r} with {n_neurons:,} neurons, {synapses:,} synapses, a batch of {batch_size}"
        f" and delays up to {max_steps:,} steps (largest part: {biggest}, {format_bytes(parts[biggest])})",
        total,
    )


def resolve_surrogate(name: str | None) -> Callable[..., object] | None:
    """The ``snntorch.surrogate`` threshold function called ``name`` (None for a plain step)."""
    if name is None:
        return None
    if not isinstance(name, str) or name not in SURROGATES:
        raise ValidationError(f"build: surrogate = {name!r} is not one of {', '.join(map(repr, SURROGATES))}")
    import snntorch.surrogate as surrogates

    return getattr(surrogates, name)()  # type: ignore[no-any-return]


def recording_bytes(network: Network, dt: float, start_tick: int, steps: int, batch_size: int) -> int:
    """Bytes the traces and weight snapshots of a run of ``steps`` ticks from ``start_tick`` will take.

    Traces: trials x samples x neurons x 8 bytes; weights: snapshots x trials x
    synapses x 8 bytes. Spikes are not counted (their number depends on the
    activity), which is why this budget bounds what can be known in advance.
    """
    total = 0
    stop = start_tick + steps
    for probe in network.probes:
        every = probe.every_steps(dt)
        if probe.variable in TRACE_VARIABLES:
            first = -(-start_tick // every) * every
            samples = max(0, -(-(stop - first) // every))
            total += batch_size * samples * network.size(probe.target) * 8
        elif probe.variable == "weight":
            synapses = network.connection_list(probe.target).pre.size
            snapshots = 1 if probe.every_ms is None else max(1, stop // every - start_tick // every)
            total += snapshots * batch_size * synapses * 8
    return total


def check_recording_budget(
    network: Network, dt: float, start_tick: int, steps: int, batch_size: int, max_bytes: int
) -> None:
    """Refuse a run whose recording would exceed ``max_bytes``, before it starts, saying what to change."""
    needed = recording_bytes(network, dt, start_tick, steps, batch_size)
    if needed > max_bytes:
        raise ValidationError(
            f"run of {steps * dt:g} ms: recording the probes of network {network.name!r} would take about"
            f" {format_bytes(needed)}, above the budget max_recording_bytes = {format_bytes(max_bytes)}; record"
            " traces with Probe(..., every_ms=...) (a multiple of dt), record fewer populations, run in shorter"
            " pieces (each run returns its own Recording), or raise max_recording_bytes"
            " (--max-recording-bytes on the command line)"
        )


class Simulation(ABC):
    """A network built on one backend, with its state.

    Time advances across calls to :meth:`run`; :meth:`reset` goes back to t = 0
    with the initial state (weights included). ``max_recording_bytes`` bounds
    what one run may record (checked before the run starts).
    """

    network: Network
    dt: float
    batch_size: int
    max_recording_bytes: int = DEFAULT_MAX_RECORDING_BYTES

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

    def weights_to_set(self, projection: str, weights: np.ndarray | float) -> np.ndarray:
        """``weights`` (nA) checked for :meth:`set_weights`: a new float64 array (trials, synapses).

        Refuses an unknown or static projection (a static weight belongs to
        the Network), a shape that does not broadcast, and non-finite values.
        """
        if not self.network.projection(projection).is_plastic:
            raise ValidationError(
                f"set_weights: projection {projection!r} is static; change its weight in the Network instead"
            )
        n = self.network.connection_list(projection).pre.size
        array = np.asarray(weights, dtype=np.float64)
        try:
            array = np.broadcast_to(array, (self.batch_size, n))
        except ValueError:
            raise ValidationError(
                f"set_weights({projection!r}): shape {array.shape} does not fit (trials={self.batch_size},"
                f" synapses={n}); give a scalar, (synapses,) or (trials, synapses)"
            ) from None
        if not np.all(np.isfinite(array)):
            raise ValidationError(f"set_weights({projection!r}): weights must be finite")
        return array.copy()

    def check_recording(self, steps: int) -> None:
        """Raise before a run of ``steps`` ticks whose recording would exceed :attr:`max_recording_bytes`."""
        budget = checks.count("Simulation", "max_recording_bytes", self.max_recording_bytes, minimum=1)
        check_recording_budget(self.network, self.dt, self.tick, steps, self.batch_size, budget)

    def duration_steps(self, duration: float) -> int:
        """``duration`` ms as a whole number of steps, or raise."""
        if isinstance(duration, bool) or not isinstance(duration, (int, float, np.integer, np.floating)):
            raise ValidationError(f"run: duration = {duration!r} must be a number of ms")
        steps = duration / self.dt
        if not np.isfinite(steps) or steps < 0 or abs(steps - round(steps)) > 1e-6:
            raise ValidationError(
                f"run: duration = {duration!r} ms must be >= 0 and a whole number of time steps ({self.dt:g} ms)"
            )
        return int(round(steps))
