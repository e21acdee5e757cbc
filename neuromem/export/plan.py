"""A network turned into plain data for PyNN: a JSON-able plan plus numpy arrays.

The plan is what both :func:`neuromem.export.pynn.to_pynn` and the standalone
``run.py`` of :func:`neuromem.export.pynn_script.write_pynn_script` build from
(:mod:`neuromem.export.standalone`), so the live export and the script wire the
very same synapses and spikes. Every label and value is data: the runner never
evaluates a string from the plan, it looks cell types and rules up in fixed
allow-lists.

Everything a simulator needs that depends on the cell type is computed here
from the cell's module (:mod:`neuromem.cells`) and written per target: the
PyNN parameters, the initial values (which absorb the target's warm-up
steps), the weight factor of each projection (inhibitory sign and unit scale)
and delay offsets, so the runner applies them without knowing cell types.

Arrays:

* ``p{i}_spikes``: (2, k) int64, neuron index and neuromem emission tick of
  every spike of source population ``i`` (Poisson trains drawn here with the
  shared counter-based generator, see :mod:`neuromem.spec.random`).
* ``c{j}``: (4, S) float64, pre, post, weight (>= 0, in the post cell's
  weight unit) and delay (ms) of every synapse of projection ``j`` in
  connection-list order.
* ``s{k}_neurons``: int64 indices of the target neurons of current source ``k``
  (absent when it targets the whole population).
"""

from __future__ import annotations

import math
import warnings

import numpy as np

from neuromem.cells.registry import check_scheme, model_of
from neuromem.errors import CapabilityError, ValidationError
from neuromem.export.translate import CELL_TYPES, TARGETS, Target, export_rule, stdp_data
from neuromem.spec import DCSource, Network, SpikeSourceArray, SpikeSourcePoisson, checks
from neuromem.spec.currents import injected_current
from neuromem.spec.random import poisson_ticks

PLAN_SCHEMA = "neuromem.pynn_plan"
PLAN_VERSION = 2


class ExportWarning(UserWarning):
    """An export that runs, but not exactly the network's semantics."""


def check_target(network: Network, target: Target, approximate: bool = False) -> list[str]:
    """Refuse what ``target`` cannot express; return the approximations accepted.

    Raises
    ------
    CapabilityError
        Naming the feature and the target.
    """
    notes: list[str] = []
    where = f"network {network.name!r}"
    if network.scheme != target.scheme:
        message = (
            f"{where}: feature scheme:{network.scheme} cannot be expressed on target {target.name!r},"
            f" which integrates the {target.scheme!r} scheme"
        )
        if not approximate:
            raise CapabilityError(
                message + "; pass approximate=True (--approximate on the command line) to export it anyway"
            )
        notes.append(message + "; exported anyway (approximate=True): spike times will differ")
    populations = {p.name: p for p in network.populations}
    for population in network.populations:
        if population.is_source:
            continue
        check_scheme(population.cell, network.scheme, f"Population {population.name!r}")  # type: ignore[arg-type]
        refusal = model_of(population.cell).pynn.refuse(population.cell, target.name)  # type: ignore[arg-type]
        if refusal is not None:
            reason, approximable = refusal
            message = f"Population {population.name!r}: {reason}"
            if not (approximable and approximate):
                raise CapabilityError(message + ("; pass approximate=True to export it anyway" if approximable else ""))
            notes.append(message + "; exported anyway (approximate=True)")
    for probe in network.probes:
        if probe.variable not in ("spikes", "weight"):
            cell = populations[probe.target].cell
            recordables = model_of(cell).pynn.recordables
            if probe.variable not in recordables:
                raise CapabilityError(
                    f"Probe of {probe.target!r}: feature probe:{probe.variable} cannot be expressed on target"
                    f" {target.name!r}; PyNN's {model_of(cell).pynn.name} records spikes and"
                    f" {', '.join(recordables)} only"
                )
        if probe.variable == "weight" and probe.every_ms is not None:
            raise CapabilityError(
                f"Probe of {probe.target!r}: feature probe:weight with every_ms = {probe.every_ms:g} ms cannot be"
                f" expressed on target {target.name!r}; only the end-of-run weights (every_ms=None) are exported"
            )
    for projection in network.projections:
        if projection.plasticity is None:
            continue
        owner = f"Projection {projection.name!r}"
        rule, rule_notes = export_rule(projection.plasticity, owner, target.name, approximate)
        notes.extend(rule_notes)
        if rule.timing.pairing not in target.timing_rules:
            raise CapabilityError(
                f"{owner}: feature plasticity:STDP:{rule.timing.pairing} cannot be expressed on target"
                f" {target.name!r}; it runs {', '.join(target.timing_rules)} pairing only"
            )
        if type(rule.weight).__name__ not in target.weight_rules:
            raise CapabilityError(
                f"{owner}: feature plasticity:STDP:{type(rule.weight).__name__} cannot be expressed on target"
                f" {target.name!r}, which runs {', '.join(target.weight_rules)} only"
            )
        conductance = model_of(populations[projection.post].cell).pynn.conductance_based
        if projection.receptor == "inhibitory" and target.inhibitory_sign < 0 and not conductance:
            raise CapabilityError(
                f"{owner}: feature plastic inhibitory projection cannot be expressed on target {target.name!r},"
                " whose STDP bounds assume positive weights while its inhibitory weights are negative"
            )
        if target.name == "nest" and rule.weight.w_min != 0.0:
            raise CapabilityError(
                f"{owner}: feature STDP w_min = {rule.weight.w_min:g} nA cannot be expressed on target 'nest',"
                " whose stdp_synapse has w_min = 0"
            )
        if model_of(populations[projection.post].cell).pynn.delay_offset_steps.get(target.name, 0):
            message = (
                f"{owner}: feature plastic projection onto {type(populations[projection.post].cell).__name__}"
                f" cannot be expressed exactly on target {target.name!r}, whose voltage-step pathways are"
                " rescheduled by the export"
            )
            if not approximate:
                raise CapabilityError(message + "; pass approximate=True to export it anyway")
            notes.append(message + "; exported anyway (approximate=True)")
        if target.dendritic_delay_fraction != 0.0:
            delay = float(np.max(np.atleast_1d(np.asarray(projection.delay, dtype=np.float64))))
            delivered = (
                ""
                if target.weight_before_update
                else "; and a pre spike delivers its weight after its own"
                " depression, where neuromem delivers the weight the synapse had when the spike arrived"
            )
            notes.append(
                f"{owner}: feature plasticity:STDP is not exact on target {target.name!r}: it takes STDP delays as"
                f" dendritic, so every pair interval is 2 x delay = {2 * delay:g} ms longer than neuromem's axonal"
                f" pairing{delivered}; weights and then spikes diverge from the first pair this changes"
            )
    return notes


def source_spikes(cell: SpikeSourceArray | SpikeSourcePoisson, dt: float, steps: int, trial_seed: int) -> np.ndarray:
    """(2, k) array of (neuron, emission tick) of a source over ticks ``0 .. steps-1``.

    Poisson trains are every backend's: :class:`neuromem.spec.random.PoissonTrains`
    keyed by (seed, trial_seed), on steps ``[round(start/dt), round((start + duration)/dt))``.
    """
    if isinstance(cell, SpikeSourceArray):
        ticks = cell.ticks(dt)
        keep = ticks < steps
        return np.stack([cell.neuron[keep], ticks[keep]]).astype(np.int64)
    first = int(round(cell.start / dt))
    stop = steps if math.isinf(cell.duration) else int(round((cell.start + cell.duration) / dt))
    neuron, tick = poisson_ticks(cell.seed, trial_seed, cell.size, cell.probability(dt), first, min(stop, steps))
    return np.stack([neuron, tick]).astype(np.int64)


def build_plan(
    network: Network,
    dt: float,
    duration: float,
    targets: tuple[str, ...] = tuple(TARGETS),
    approximate: bool = False,
    trial_seed: int = 0,
) -> tuple[dict[str, object], dict[str, np.ndarray]]:
    """The plan (JSON data) and arrays of ``network`` for a run of ``duration`` ms.

    Parameters
    ----------
    network : Network
    dt : float
        Time step (ms).
    duration : float
        Run length (ms), a whole number of steps.
    targets : tuple of str
        Simulators the plan must run on; each is checked with :func:`check_target`.
    approximate : bool
        Accept approximations (another scheme, CA3PairRule as published STDP) with a warning.
    trial_seed : int
        Trial seed of the Poisson trains (the torch backend's ``seed`` of trial 0).

    Raises
    ------
    ValidationError
        The network fails validation for ``dt``, or ``duration`` is off the grid.
    CapabilityError
        A feature no listed target can express.
    """
    if not isinstance(network, Network):
        raise ValidationError(f"export: network must be a Network, got {type(network).__name__}")
    dt = checks.positive("export", "dt", dt, "ms")
    network.validate(dt)
    duration = checks.positive("export", "duration", duration, "ms")
    steps = duration / dt
    if abs(steps - round(steps)) > 1e-6:
        raise ValidationError(f"export: duration = {duration:g} ms is not a whole number of time steps ({dt:g} ms)")
    steps = int(round(steps))
    notes: list[str] = []
    for name in targets:
        notes.extend(check_target(network, TARGETS[name], approximate))
    for note in dict.fromkeys(notes):
        warnings.warn(note, ExportWarning, stacklevel=3)
    arrays: dict[str, np.ndarray] = {}
    populations = [
        _population_entry(network, i, dt, steps, targets, trial_seed, arrays) for i in range(len(network.populations))
    ]
    index = {p.name: i for i, p in enumerate(network.populations)}
    probes = {(p.target, p.variable) for p in network.probes}
    projections = []
    for j, projection in enumerate(network.projections):
        lists = network.connection_list(projection.name)
        key = f"c{j}"
        arrays[key] = np.stack([lists.pre, lists.post, lists.weight, lists.delay]).astype(np.float64)
        rule = None
        if projection.plasticity is not None:
            exported, _ = export_rule(projection.plasticity, projection.name, "pynn", approximate=True)
            rule = stdp_data(exported)
        post = network.population(projection.post).cell
        pynn = model_of(post).pynn
        factor = {}
        for name in targets:
            sign = 1 if pynn.conductance_based or projection.receptor == "excitatory" else TARGETS[name].inhibitory_sign
            factor[name] = sign * pynn.weight_scale(post, name, dt)  # type: ignore[arg-type]
        projections.append(
            {
                "label": projection.name,
                "pre": index[projection.pre],
                "post": index[projection.post],
                "receptor": projection.receptor,
                "connections": key,
                "plasticity": rule,
                "record_weight": (projection.name, "weight") in probes,
                "weight_factor": factor,
                "weight_unit": post.weight_unit,
                "delay_offset_steps": {name: pynn.delay_offset_steps.get(name, 0) for name in targets},
            }
        )
    sources = []
    for k, source in enumerate(network.current_sources):
        entry = {"label": source.name, "type": type(source).__name__, "target": index[source.target]}
        if source.neurons is not None:
            arrays[f"s{k}_neurons"] = np.asarray(source.neurons, dtype=np.int64)
            entry["neurons"] = f"s{k}_neurons"
        entry["parameters"] = {name: _current_parameters(source, dt, TARGETS[name]) for name in targets}
        sources.append(entry)
    plan: dict[str, object] = {
        "schema": PLAN_SCHEMA,
        "version": PLAN_VERSION,
        "network": network.name,
        "scheme": network.scheme,
        "dt": dt,
        "duration": duration,
        "steps": steps,
        "targets": {name: TARGETS[name].as_data() for name in targets},
        "populations": populations,
        "projections": projections,
        "current_sources": sources,
    }
    return plan, arrays


def _population_entry(
    network: Network,
    i: int,
    dt: float,
    steps: int,
    targets: tuple[str, ...],
    trial_seed: int,
    arrays: dict[str, np.ndarray],
) -> dict[str, object]:
    """Plan entry of population ``i``: spikes of a source, or per-target parameters of a cell."""
    population = network.population(network.populations[i].name)
    recorded = {p.variable for p in network.probes if p.target == population.name}
    entry: dict[str, object] = {
        "label": population.name,
        "celltype": CELL_TYPES[type(population.cell).__name__],
        "size": population.size,
    }
    if population.is_source:
        key = f"p{i}_spikes"
        arrays[key] = source_spikes(population.cell, dt, steps, trial_seed)  # type: ignore[arg-type]
        entry["spikes"] = key
        entry["record"] = ["spikes"] if "spikes" in recorded else []
        return entry
    cell = population.cell
    pynn = model_of(cell).pynn
    entry["record"] = (["spikes"] if "spikes" in recorded else []) + [
        pynn.recordables[v] for v in pynn.recordables if v in recorded
    ]
    entry["parameters"] = {name: pynn.parameters(cell, name, dt) for name in targets}  # type: ignore[arg-type]
    if any(TARGETS[name].current_first_tick > 1 for name in targets):
        raise CapabilityError("a target that applies currents two or more steps late is not supported")
    entry["initial"] = {}
    for name in targets:
        target = TARGETS[name]
        missed = None
        if target.current_first_tick:
            size = int(population.size)  # type: ignore[arg-type]
            missed = injected_current(network.current_sources, population.name, size, dt, 0)
        entry["initial"][name] = pynn.initial(cell, dt, target.warmup_steps, missed)  # type: ignore[index]
    entry["native"] = {name: pynn.native.get(name, {}) for name in targets}
    return entry


def _current_parameters(source: object, dt: float, target: Target) -> dict[str, object] | None:
    """PyNN parameters of a current source on ``target`` (None: nothing left to inject there).

    neuromem's current of the step from ``n dt`` is the amplitude in force at
    ``n dt``; a target that applies a change ``o`` steps late is given the
    switch times ``o`` steps early, and switches before the target's first
    tick move to that tick (their earlier effect is in the initial state; see
    :mod:`neuromem.export.translate`).
    """
    first = target.current_first_tick
    ticks, amplitudes = source.changes(dt)  # type: ignore[attr-defined]
    ticks = np.maximum(ticks, first)
    time = lambda tick: round(float(tick + target.current_offset_steps) * dt, 9)  # noqa: E731
    if isinstance(source, DCSource):
        if len(ticks) > 1 and ticks[1] <= ticks[0]:
            return None
        parameters: dict[str, object] = {"amplitude": source.amplitude, "start": time(ticks[0])}
        if len(ticks) > 1:
            parameters["stop"] = time(ticks[1])
        return parameters
    # Of several switches moved to one tick the last is in force (PyNN keeps the last too).
    keep = np.append(ticks[1:] != ticks[:-1], True)
    return {"times": [time(t) for t in ticks[keep]], "amplitudes": [float(a) for a in amplitudes[keep]]}
