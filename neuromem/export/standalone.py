"""Run an exported network on a PyNN simulator; standalone (numpy and PyNN only).

This file is copied verbatim as ``run.py`` by
:func:`neuromem.export.pynn_script.write_pynn_script` and is also what
:func:`neuromem.export.pynn.to_pynn` runs in-process, so it must import
nothing from neuromem. It reads the network as data: ``plan.json`` (labels,
parameters, simulator conventions) and ``arrays.npz`` (connection lists and
source spikes), never evaluating a string from them.

Usage::

    python run.py --simulator nest|brian2|spiNNaker [--output recording.pkl] [--output spikes.npz]

By default the recording is written as PyNN writes it: one Neo Block of the recorded
populations (``get_data``), here ``recording.pkl``; ``.h5``/``.nix``, ``.nwb`` and ``.mat``
choose another Neo IO. The spike and signal times are the simulator's own; the Block's
annotations (``dt``, ``label_offset_steps``, ``warmup_steps``) turn them into neuromem's ticks.
An ``.npz`` output holds, per recorded population ``i`` of the plan,
``spikes{i}`` = (2, k) int64 (neuron, tick in neuromem's convention: the step
from tick*dt to (tick+1)*dt), ``v{i}`` = (ticks, size) in mV (and likewise
``gsyn_exc{i}``, ``gsyn_inh{i}`` in uS, ``u{i}``) when recorded, and per
projection ``j`` with a weight probe ``weight{j}`` = final weights
(magnitudes, in the post cell's weight unit) in connection-list order.

Everything that depends on the cell type or the simulator (parameters,
initial values, weight factors, delay offsets, current-source times) is
already resolved per simulator in the plan.
"""

from __future__ import annotations

import argparse
import importlib
import json
import os
import sys
import tempfile
import zipfile
from pathlib import Path

import numpy as np

PLAN_SCHEMA = "neuromem.pynn_plan"
PLAN_VERSION = 2
PLAN_FILE = "plan.json"
ARRAYS_FILE = "arrays.npz"
SIMULATORS = {"nest": "pyNN.nest", "brian2": "pyNN.brian2", "spiNNaker": "pyNN.spiNNaker"}
BRIAN2_CTRL_C = "core.stop_on_keyboard_interrupt"
# Allow-lists: names from the plan are looked up, never evaluated. Cell types and current
# sources must be standard models of PyNN itself (pyNN.standardmodels), so a new neuromem
# cell type that maps to one needs no entry here.
INTEGRATION_METHODS = ("exact", "euler", "rk2", "rk4")
NEST_STATE_NAMES = frozenset({"V_m", "U_m", "g_ex", "g_in"})
TIMING_RULES = ("SpikePairRule", "SpikeNearestPairRule")
WEIGHT_RULES = ("AdditiveWeightDependence", "MultiplicativeWeightDependence")


class PlanError(Exception):
    """The plan files are missing, malformed or of a newer version."""


def load_plan(folder: str | os.PathLike[str]) -> tuple[dict, dict[str, np.ndarray]]:
    """Read ``plan.json`` and ``arrays.npz`` from ``folder`` (no pickle)."""
    folder = Path(folder)
    try:
        plan = json.loads((folder / PLAN_FILE).read_text())
        with np.load(folder / ARRAYS_FILE, allow_pickle=False) as data:
            arrays = {key: data[key] for key in data.files}
    except (OSError, ValueError, EOFError, RecursionError, zipfile.BadZipFile) as error:
        raise PlanError(f"cannot read the exported network in {folder}: {error}") from error
    if not isinstance(plan, dict) or plan.get("schema") != PLAN_SCHEMA:
        raise PlanError(f"{folder / PLAN_FILE} is not a neuromem PyNN plan")
    version = plan.get("version")
    if isinstance(version, bool) or not isinstance(version, int) or version < 1:
        raise PlanError(f"{folder / PLAN_FILE}: plan version {version!r} is not allowed; an integer >= 1 is expected")
    if version > PLAN_VERSION:
        raise PlanError(f"{folder / PLAN_FILE} has plan version {version}; this script reads {PLAN_VERSION}")
    return plan, arrays


def import_simulator(name: str, plan: dict) -> object:
    """Import the PyNN module of simulator ``name``, with a clear error if missing."""
    if name not in SIMULATORS or name not in plan["targets"]:
        raise PlanError(f"simulator {name!r} is not one of this export's targets: {', '.join(plan['targets'])}")
    try:
        return importlib.import_module(SIMULATORS[name])
    except ImportError as error:
        package = plan["targets"][name]["package"]
        raise PlanError(f"{SIMULATORS[name]} cannot be imported ({error}); install {package}") from error


def _standard(kind: str) -> tuple[str, ...]:
    """Names of PyNN's standard cell types (``kind="cells"``) or current sources (``"electrodes"``)."""
    module = importlib.import_module(f"pyNN.standardmodels.{kind}")
    base = importlib.import_module("pyNN.standardmodels.base")
    root = base.StandardCellType if kind == "cells" else base.StandardCurrentSource
    return tuple(
        name
        for name, value in vars(module).items()
        if isinstance(value, type) and issubclass(value, root) and value is not root
    )


def _lookup(sim: object, name: str, allowed: tuple[str, ...]) -> object:
    if name not in allowed:
        raise PlanError(f"{name!r} is not one of {', '.join(allowed)}")
    if hasattr(sim, name):
        return getattr(sim, name)
    extra = getattr(sim, "extra_models", None)
    if extra is not None and hasattr(extra, name):
        return getattr(extra, name)
    raise PlanError(f"{sim.__name__} has no {name}")  # type: ignore[attr-defined]


#: NEST's time resolution (ms): one tic.
NEST_TIC_MS = 0.001


def _spike_times(spikes: np.ndarray, size: int, dt: float, offset: int, early_ms: float = 0.0) -> list[list[float]]:
    """Per-neuron PyNN spike times (ms) of emission ticks, shifted by the target's offset.

    ``early_ms`` moves every time a little before its grid point. pyNN.nest
    subtracts ``min_delay`` from source times in floating point, and a result a
    hair above the grid (4.4 - 0.1 = 4.300000000000001) is rounded up by NEST to
    the next step; a quarter tic early rounds to the intended step either way.
    """
    times: list[list[float]] = [[] for _ in range(size)]
    for neuron, tick in zip(spikes[0].tolist(), spikes[1].tolist(), strict=True):
        times[int(neuron)].append(round((tick + offset) * dt - early_ms, 9))
    return times


def _brian2_source(sim: object, entry: dict, spikes: np.ndarray, dt: float) -> object:
    """A pyNN.brian2 spike source filled through Brian2 itself.

    pyNN.brian2 0.13 fails to translate per-neuron ``Sequence`` spike times
    (one-neuron sources and lists of sequences raise inside its parameter
    evaluation), so the population is created empty and its
    ``SpikeGeneratorGroup`` is given the (neuron, time) arrays directly.
    """
    import brian2

    population = sim.Population(int(entry["size"]), sim.SpikeSourceArray(), label=str(entry["label"]))  # type: ignore[attr-defined]
    population.brian2_group.set_spikes(spikes[0], np.round(spikes[1] * dt, 9) * brian2.ms)
    return population


def _synapse(sim: object, entry: dict, convention: dict) -> object:
    rule = entry["plasticity"]
    if rule is None:
        return sim.StaticSynapse()  # type: ignore[attr-defined]
    timing = _lookup(sim, rule["timing"], TIMING_RULES)(**rule["timing_parameters"])  # type: ignore[operator]
    weight = _lookup(sim, rule["weight"], WEIGHT_RULES)(**rule["weight_parameters"])  # type: ignore[operator]
    return sim.STDPMechanism(  # type: ignore[attr-defined]
        timing_dependence=timing,
        weight_dependence=weight,
        dendritic_delay_fraction=convention["dendritic_delay_fraction"],
    )


def run_plan(
    sim: object, name: str, plan: dict, arrays: dict[str, np.ndarray], neo_paths: tuple[str, ...] = ()
) -> dict[str, np.ndarray]:
    """Build the plan on PyNN module ``sim`` (simulator ``name``), run it, return the results.

    ``neo_paths``: files to write the recording to in PyNN's own Neo output as well
    (:func:`write_neo`).
    """
    populations, projections = build_network(sim, name, plan, arrays)
    convention = plan["targets"][name]
    warmup = int(convention.get("warmup_steps", 0))
    # Brian2's import installs a SIGINT handler that only asks a running network to stop after the
    # current step: sim.run then returns as if the whole duration had been simulated, and the cut
    # run's results would be saved. Switched off for the run, so Ctrl-C raises KeyboardInterrupt.
    brian2 = importlib.import_module("brian2") if name == "brian2" else None
    stop_on_ctrl_c = brian2.prefs[BRIAN2_CTRL_C] if brian2 else None
    if brian2:
        brian2.prefs[BRIAN2_CTRL_C] = False
    try:
        sim.run(round(float(plan["duration"]) + warmup * float(plan["dt"]), 9))  # type: ignore[attr-defined]
    finally:
        if brian2:
            brian2.prefs[BRIAN2_CTRL_C] = stop_on_ctrl_c
    results = _collect(plan, arrays, name, populations, projections)
    for path in neo_paths:
        write_neo(sim, name, plan, populations, path)
    sim.end()  # type: ignore[attr-defined]
    return results


#: File endings PyNN writes Neo to (``pyNN.recording.get_io``); .h5/.nix need nixio, .nwb pynwb.
NEO_SUFFIXES = (".pkl", ".pickle", ".h5", ".nix", ".nwb", ".mat")


def write_neo(sim: object, name: str, plan: dict, populations: list, path: str | os.PathLike[str]) -> Path:
    """Write the recorded populations as one Neo Block, PyNN's own output (``get_data``), atomically.

    Spike times and signal times are the simulator's own labels (ms). The Block is annotated
    with what it takes to read them as neuromem ticks: ``dt`` (ms), ``simulator``,
    ``label_offset_steps`` (a spike stamped ``t`` is neuromem tick ``round(t/dt) - offset``) and
    ``warmup_steps`` (steps run before neuromem's tick 0).
    """
    from pyNN.recording import get_io

    path = Path(path)
    recorded = [p for entry, p in zip(plan["populations"], populations) if "spikes" not in entry and entry["record"]]
    if not recorded:
        raise PlanError(f"nothing is recorded, so there is no Neo output to write to {path}")
    block = sim.Assembly(*recorded).get_data() if len(recorded) > 1 else recorded[0].get_data()  # type: ignore[attr-defined]
    if sim.rank() != 0:  # type: ignore[attr-defined]
        return path  # under MPI the gathered Block is written once, by rank 0 (as PyNN's write_data does)
    convention = plan["targets"][name]
    block.annotate(
        simulator=SIMULATORS[name],
        dt=float(plan["dt"]),
        label_offset_steps=int(convention["label_offset_steps"]),
        warmup_steps=int(convention.get("warmup_steps", 0)),
        network=str(plan.get("network", "")),
    )
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.stem}.", suffix=path.suffix)
    os.close(handle)
    try:
        os.unlink(temporary)  # some Neo IOs refuse to write over an existing file
        io = get_io(temporary)
        io.write_block(block)
        if hasattr(io, "close"):
            io.close()
        os.replace(temporary, path)
    except BaseException:
        if os.path.exists(temporary):
            os.unlink(temporary)
        raise
    return path


def build_network(sim: object, name: str, plan: dict, arrays: dict[str, np.ndarray]) -> tuple[list, list]:
    """Call ``sim.setup`` and create the plan's populations and projections (None for empty ones)."""
    convention = plan["targets"][name]
    dt = float(plan["dt"])
    delays = [arrays[p["connections"]][3] for p in plan["projections"] if arrays[p["connections"]].shape[1]]
    max_delay = max([float(d.max()) for d in delays] + [dt])
    options = dict(convention["setup"])
    if name == "nest":
        options["max_delay"] = max_delay
    if name == "brian2":
        import brian2

        # Brian2 would compile every object with Cython first: minutes for a small network.
        brian2.prefs.codegen.target = "numpy"
    sim.setup(timestep=dt, min_delay=dt, **options)  # type: ignore[attr-defined]
    populations = []
    for entry in plan["populations"]:
        celltype = _lookup(sim, entry["celltype"], _standard("cells"))
        if "spikes" not in entry:
            population = sim.Population(  # type: ignore[attr-defined]
                int(entry["size"]),
                celltype(**entry["parameters"][name]),  # type: ignore[operator]
                label=str(entry["label"]),
            )
            _native(population, entry["native"].get(name, {}), name)
            population.initialize(**entry["initial"][name])
            if entry["record"]:
                population.record(list(entry["record"]))
        else:
            spikes = arrays[entry["spikes"]]
            if name == "brian2":
                population = _brian2_source(sim, entry, spikes, dt)
            else:
                early = 0.25 * NEST_TIC_MS if name == "nest" else 0.0
                times = _spike_times(spikes, int(entry["size"]), dt, convention["source_offset_steps"], early)
                if name == "nest":
                    # PyNN reads a plain list of lists of a one-neuron source as one shared train.
                    from pyNN.parameters import Sequence

                    times = [Sequence(t) for t in times]
                elif spikes.shape[1] == 0:
                    # sPyNNaker's spike-density check fails on a list of empty lists.
                    times = []
                population = sim.Population(  # type: ignore[attr-defined]
                    int(entry["size"]),
                    celltype(spike_times=times),  # type: ignore[operator]
                    label=str(entry["label"]),
                )
        populations.append(population)
    projections = []
    for entry in plan["projections"]:
        table = arrays[entry["connections"]]
        if table.shape[1] == 0:
            projections.append(None)
            continue
        factor = float(entry["weight_factor"][name])
        delay = table[3] + int(entry["delay_offset_steps"][name]) * dt
        connections = np.column_stack([table[0], table[1], table[2] * factor, np.round(delay, 9)])
        projection = sim.Projection(  # type: ignore[attr-defined]
            populations[entry["pre"]],
            populations[entry["post"]],
            sim.FromListConnector(connections, column_names=["weight", "delay"]),  # type: ignore[attr-defined]
            synapse_type=_synapse(sim, entry, convention),
            receptor_type=str(entry["receptor"]),
            label=str(entry["label"]),
        )
        if (
            name == "brian2"
            and plan["populations"][entry["post"]]["native"][name].get("synapses") == "before_threshold"
        ):
            # Voltage steps must reach V before the threshold of their arrival tick; there
            # the pathway reads the previous tick's spikes, and the plan shortened every delay by one step.
            for pathways in projection._brian2_synapses.values():
                for synapses in pathways.values():
                    synapses.pre.when, synapses.pre.order = "thresholds", -1
        if name == "brian2" and entry["plasticity"] is not None:
            _brian2_stdp_order(projection)
        projections.append(projection)
    for entry in plan.get("current_sources", []):
        if entry["parameters"][name] is None:
            continue  # all its current fell into the steps the initial state already covers
        source = _lookup(sim, entry["type"], _standard("electrodes"))(**entry["parameters"][name])  # type: ignore[operator]
        target = populations[entry["target"]]
        if "neurons" in entry:
            target = target[[int(i) for i in arrays[entry["neurons"]]]]
        source.inject_into(target)
    return populations, projections


def _brian2_stdp_order(projection: object) -> None:
    """Give pyNN.brian2's STDP synapses neuromem's order of events within a step.

    neuromem delivers an arriving pre spike with the weight the synapse has when it
    arrives, then applies that spike's depression; a post spike potentiates with the pre
    trace of the ticks before (a pre spike arriving in the same step is not paired with
    it). pyNN.brian2 depresses before it delivers, and its post pathway (which runs after
    the pre pathway in a step) sees the pre trace already raised by a spike arriving in
    that step. Here the delivery moves to the top of the pre pathway, and the post pathway
    takes out the increment of a pre spike that arrived in the same step (``lastupdate``
    equals ``t`` there only then: the pre pathway of that step set it; no spike arrives at
    t = 0, since every delay is at least one step).
    """
    for pathways in projection._brian2_synapses.values():  # type: ignore[attr-defined]
        for synapses in pathways.values():
            pre = [line.strip() for line in synapses.pre.code.strip().splitlines() if line.strip()]
            deliver = [line for line in pre if line.endswith("+= weight")]
            post = synapses.post.code
            if len(deliver) != 1 or post.count("w_max * P") != 1:
                raise PlanError(
                    "pyNN.brian2's STDP code is not the one this script knows; it cannot order the STDP updates as"
                    " neuromem does"
                )
            synapses.pre.code = "\n".join(deliver + [line for line in pre if line not in deliver]) + "\n"
            synapses.post.code = post.replace(
                "w_max * P", "w_max * (P - A_plus * int(lastupdate == t) * int(t > 0.5 * dt))"
            )


def _native(population: object, settings: dict, name: str) -> None:
    """Apply the plan's simulator-specific settings (looked up in allow-lists, never evaluated)."""
    method = settings.get("method")
    if method is not None and name == "brian2":
        if method not in INTEGRATION_METHODS:
            raise PlanError(f"integration method {method!r} is not one of {', '.join(INTEGRATION_METHODS)}")
        # pyNN.brian2 lets Brian2 choose; the state updater reads its choice at the first run.
        population.brian2_group.state_updater.method_choice = method  # type: ignore[attr-defined]
    variables = settings.get("variable_map")
    if variables is not None and name == "nest":
        if not set(variables.values()) <= NEST_STATE_NAMES:
            raise PlanError(
                f"NEST state variables {sorted(variables.values())} are not among {sorted(NEST_STATE_NAMES)}"
            )
        # pyNN.nest 0.13 gives IF_curr_delta no map from PyNN's names to NEST's.
        population.celltype.variable_map = dict(variables)  # type: ignore[attr-defined]
        population.celltype.scale_factors = {v: 1 for v in variables}  # type: ignore[attr-defined]


def _collect(plan: dict, arrays: dict, name: str, populations: list, projections: list) -> dict:
    convention = plan["targets"][name]
    dt, steps = float(plan["dt"]), int(plan["steps"])
    results: dict[str, np.ndarray] = {}
    for i, (entry, population) in enumerate(zip(plan["populations"], populations, strict=True)):
        if "spikes" in entry:
            results[f"spikes{i}"] = np.asarray(arrays[entry["spikes"]], dtype=np.int64)
            continue
        if not entry["record"]:
            continue
        segment = population.get_data().segments[0]
        neurons, ticks = [], []
        for train in segment.spiketrains:
            index = int(train.annotations["source_index"])
            tick = np.rint(np.asarray(train.rescale("ms").magnitude) / dt).astype(np.int64)
            tick -= int(convention["label_offset_steps"])
            tick = tick[(tick >= 0) & (tick < steps)]
            neurons.append(np.full(tick.size, index, dtype=np.int64))
            ticks.append(tick)
        if "spikes" in entry["record"]:
            neuron = np.concatenate(neurons) if neurons else np.zeros(0, dtype=np.int64)
            tick = np.concatenate(ticks) if ticks else np.zeros(0, dtype=np.int64)
            results[f"spikes{i}"] = np.stack([neuron, tick])
        for signal in segment.analogsignals:
            values = np.asarray(signal.magnitude, dtype=np.float64)
            sample = np.rint(np.asarray(signal.times.rescale("ms").magnitude) / dt).astype(np.int64)
            # A sample stamped t holds the state after the step that ends at t: tick t/dt - 1.
            tick = sample - 1 - int(convention.get("warmup_steps", 0))
            keep = (tick >= 0) & (tick < steps)
            trace = np.full((steps, values.shape[1]), np.nan)
            trace[tick[keep]] = values[keep]
            results[f"{signal.name}{i}"] = trace
    for j, (entry, projection) in enumerate(zip(plan["projections"], projections, strict=True)):
        if not entry["record_weight"]:
            continue
        table = arrays[entry["connections"]]
        if projection is None:
            results[f"weight{j}"] = np.zeros(0)
            continue
        found = _weights_with_addresses(projection, str(entry.get("weight_unit", "nA")))
        # Match PyNN's (pre, post) order to the connection-list order; equal pairs keep their order.
        wanted = np.lexsort((table[1], table[0]))
        got = np.lexsort((found[:, 1], found[:, 0]))
        weights = np.empty(table.shape[1])
        weights[wanted] = np.abs(found[got, 2]) / abs(float(entry["weight_factor"][name]))
        results[f"weight{j}"] = weights
    return results


#: SI value of one unit of each weight unit, for weights read from Brian2 directly.
SI_UNITS = {"nA": 1e-9, "uS": 1e-6, "mV": 1e-3}


def _weights_with_addresses(projection: object, unit: str) -> np.ndarray:
    """(S, 3) array of (pre, post, weight) of a live PyNN projection (weights in ``unit``, signed)."""
    synapses = getattr(projection, "_brian2_synapses", None)
    if synapses is not None:
        # pyNN.brian2 0.13 fails to stack weights with units in Projection.get; read Brian2 directly.
        group = synapses[0][0]
        weight = np.asarray(group.weight_[:], dtype=np.float64) / SI_UNITS[unit]
        return np.column_stack([group.i[:], group.j[:], weight])
    found = projection.get("weight", format="list", with_address=True)  # type: ignore[attr-defined]
    return np.asarray(found, dtype=np.float64).reshape(-1, 3)


def save_results(results: dict[str, np.ndarray], path: str | os.PathLike[str]) -> Path:
    """Write the results ``.npz`` through a temporary file and a rename."""
    path = Path(path)
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(handle, "wb") as file:
            np.savez(file, **results)
        os.replace(temporary, path)
    except BaseException:
        if os.path.exists(temporary):
            os.unlink(temporary)
        raise
    return path


def main(argv: list[str] | None = None) -> int:
    """Command line: ``run.py --simulator nest|brian2|spiNNaker [--output FILE]``."""
    parser = argparse.ArgumentParser(description="Run an exported neuromem network on a PyNN simulator.")
    parser.add_argument("--simulator", required=True, choices=sorted(SIMULATORS))
    parser.add_argument("--data", default=str(Path(__file__).resolve().parent), help="folder of plan.json")
    parser.add_argument(
        "--output",
        action="append",
        help="results file, may be given more than once: PyNN's Neo output (.pkl, .h5/.nix, .nwb, .mat; the"
        " simulator's own time labels) or neuromem's arrays (.npz: ticks, traces and final weights)"
        " (default: recording.pkl)",
    )
    args = parser.parse_args(argv)
    outputs = args.output or ["recording.pkl"]
    for output in outputs:
        if Path(output).suffix not in (".npz", *NEO_SUFFIXES):
            parser.error(f"--output {output}: the file ending must be .npz or one of {', '.join(NEO_SUFFIXES)}")
    try:
        plan, arrays = load_plan(args.data)
        sim = import_simulator(args.simulator, plan)
        neo_paths = tuple(o for o in outputs if Path(o).suffix in NEO_SUFFIXES)
        results = run_plan(sim, args.simulator, plan, arrays, neo_paths)
        for output in outputs:
            if Path(output).suffix == ".npz":
                save_results(results, output)
    except PlanError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    print(f"wrote {', '.join(outputs)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
