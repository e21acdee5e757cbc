"""Run a neuromem network on a live PyNN simulator and get a neuromem Recording back.

The network is turned into plain data (:mod:`neuromem.export.plan`: explicit
connection lists for ``FromListConnector``, spike arrays for every source,
cell parameters by PyNN name) and built by the same code the standalone
script runs (:mod:`neuromem.export.standalone`). Simulator conventions (time
labels, inhibitory signs, dendritic delay fraction, refractory count) come
from the one table in :mod:`neuromem.export.translate`, and recorded spike
times are converted back to neuromem ticks: tick ``n`` is the step from
``n dt`` to ``(n+1) dt``.

Examples
--------
>>> import pyNN.nest as sim                                      # doctest: +SKIP
>>> recording = to_pynn(network, sim, duration=100.0, dt=0.1)   # doctest: +SKIP
>>> recording.spikes["cells"].pairs()                             # doctest: +SKIP
"""

from __future__ import annotations

import importlib
from types import ModuleType

import numpy as np

from neuromem.cells.registry import model_of
from neuromem.errors import ExportError, ValidationError
from neuromem.export import standalone
from neuromem.export.plan import build_plan
from neuromem.export.translate import TARGETS, target
from neuromem.record import Recording, SpikeTrains
from neuromem.spec import Network


def default_dt(network: Network, dt: float | None) -> float:
    """``dt`` if given, else the network's ``required_dt``, else 0.1 ms."""
    if dt is not None:
        return dt
    return network.required_dt if network.required_dt is not None else 0.1


def import_target(name: str) -> ModuleType:
    """Import the PyNN module of target ``name``; ExportError names the package to install."""
    entry = target(name)
    try:
        return importlib.import_module(entry.module)
    except ImportError as error:
        raise ExportError(
            f"target {entry.name!r} is not installed: {entry.module} fails to import ({error}); install {entry.package}"
        ) from error


def to_pynn(
    network: Network,
    sim: ModuleType | str,
    duration: float | None = None,
    dt: float | None = None,
    approximate: bool = False,
    trial_seed: int = 0,
) -> Recording:
    """Build ``network`` on a PyNN simulator, run it and return what its probes recorded.

    Parameters
    ----------
    network : Network
    sim : module or str
        ``pyNN.nest``, ``pyNN.brian2`` or ``pyNN.spiNNaker`` (the module or its
        name, or ``"nest"``, ``"brian2"``, ``"spiNNaker"``). ``sim.setup`` and
        ``sim.end`` are called here.
    duration : float
        Run length (ms), a whole number of steps; required.
    dt : float or None
        Time step (ms); default the network's ``required_dt`` or 0.1 ms.
    approximate : bool
        Export features the target cannot express exactly (another scheme; a
        CA3PairRule as its published STDP) with an ``ExportWarning`` instead of
        refusing them.
    trial_seed : int
        Seed of the Poisson trains: the trains of the torch backend's trial
        with this seed.

    Returns
    -------
    Recording
        One trial: spikes in neuromem ticks, ``v`` traces (mV, NaN where the
        simulator took no sample), end-of-run weights (nA, magnitudes).

    Raises
    ------
    ValidationError
        An invalid network, dt or duration.
    CapabilityError
        A feature the target cannot express, naming feature and target.
    ExportError
        The target is not installed, or the simulator failed.
    """
    if duration is None:
        raise ValidationError("to_pynn: duration (ms) is required")
    if isinstance(sim, str):
        module = import_target(sim)
        name = target(sim).name
    else:
        module = sim
        name = target(getattr(sim, "__name__", repr(sim))).name
    dt = default_dt(network, dt)
    plan, arrays = build_plan(network, dt, duration, targets=(name,), approximate=approximate, trial_seed=trial_seed)
    try:
        results = standalone.run_plan(module, name, plan, arrays)
    except standalone.PlanError as error:
        raise ExportError(f"target {name!r}: {error}") from error
    except Exception as error:  # noqa: BLE001 - any simulator failure becomes one clear error
        raise ExportError(
            f"target {name!r} failed to build or run network {network.name!r}: {type(error).__name__}: {error}"
        ) from error
    return recording_from_results(network, plan, results)


def recording_from_results(network: Network, plan: dict, results: dict[str, np.ndarray]) -> Recording:
    """A neuromem :class:`Recording` (one trial) from a runner's results."""
    dt, steps = float(plan["dt"]), int(plan["steps"])
    index = {p.name: i for i, p in enumerate(network.populations)}
    spikes: dict[str, SpikeTrains] = {}
    traces: dict[tuple[str, str], np.ndarray] = {}
    weights: dict[str, tuple[np.ndarray, np.ndarray]] = {}
    for probe in network.probes:
        if probe.variable == "spikes":
            found = results.get(f"spikes{index[probe.target]}")
            if found is None:
                spikes[probe.target] = SpikeTrains.empty()
            else:
                spikes[probe.target] = SpikeTrains.from_arrays(np.zeros(found.shape[1]), found[0], found[1])
        elif probe.variable == "weight":
            j = [p.name for p in network.projections].index(probe.target)
            weights[probe.target] = (np.array([steps]), results[f"weight{j}"][None, None, :])
        else:
            recordable = model_of(network.population(probe.target).cell).pynn.recordables[probe.variable]
            trace = results.get(f"{recordable}{index[probe.target]}")
            if trace is not None:
                traces[(probe.target, probe.variable)] = trace[None]
    return Recording(
        dt=dt,
        start_tick=0,
        stop_tick=steps,
        batch_size=1,
        sizes={p.name: int(p.size) for p in network.populations},  # type: ignore[arg-type]
        spikes=spikes,
        traces=traces,
        weights=weights,
    )


__all__ = ["TARGETS", "default_dt", "import_target", "recording_from_results", "to_pynn"]
