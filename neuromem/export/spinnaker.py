r"""Will it fit on SpiNNaker? sPyNNaker's real mapping on a virtual SpiNN-5 board, plus estimates.

:func:`check_spinnaker` exports the network as a PyNN plan, writes a temporary
``.spynnaker.cfg`` (``[Machine] virtual_board = True``, ``version = 5``) under a
temporary ``XDG_CONFIG_HOME`` and ``HOME``, and runs sPyNNaker in a worker
process (:mod:`neuromem.export.spinnaker_map`). On a virtual board ``sim.run``
partitions, places and routes the network and builds its data, but executes
nothing. The report gives what the mapping found (cores, chips, SDRAM per
core, routing-table entries per chip) and what neuromem estimates on top:

* **synaptic events per core per ms**: for the neurons placed on each core,
  :math:`E = \sum_{synapses} r_{pre} / 1000` with source rates counted from
  their trains and LIF rates taken from ``rates_hz`` (or ``assumed_rate_hz``);
  the core's load is
  :math:`(E c_{syn} + n c_{neuron}) \, dt / (f \, dt)` against the budget of
  ``f dt`` cycles per step (f = 200 MHz). The cycle costs are order-of-magnitude
  figures for sPyNNaker on the ARM968 (:data:`CYCLES`), not measurements.
* **16-bit weight quantisation**: sPyNNaker stores a weight as
  ``rint(|w| * s)`` in 16 bits with ``s = 2^(16 - (shift + 1))``, where the
  ring-buffer shift comes from the largest expected input of each synapse type
  (taken from the mapped vertices). A weight is *lost* if it rounds to 0,
  *clipped* above 65535 and *distorted* if its relative error exceeds 1 %.
* **STDP post-event history**: sPyNNaker keeps the last
  :data:`POST_HISTORY` post spikes per neuron; when a post neuron fires more
  than that between two pre spikes of a synapse, pairs are lost. The risk is
  the expected number of post spikes per pre interval, ``r_post / r_pre``.
"""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
import tempfile
import time
import warnings
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from neuromem.errors import CapabilityError, ExportError
from neuromem.export import standalone
from neuromem.export.plan import build_plan
from neuromem.export.translate import TARGETS
from neuromem.spec import Network

CLOCK_HZ = 200e6
#: Cycles per synaptic event (static, plastic) and per neuron update (order of magnitude).
CYCLES = {"static_event": 40.0, "plastic_event": 200.0, "neuron": 250.0}
POST_HISTORY = 10
ROUTER_ENTRIES = 1024
CONFIG = """[Machine]
virtual_board = True
version = 5

[Reports]
default_report_file_path = {reports}
"""


@dataclass
class SpinnakerReport:
    """What the mapping found and what neuromem estimates (see the module docstring).

    Attributes
    ----------
    cores, chips : int
        Cores used by the network's vertices, and chips they occupy.
    system_cores : int
        Cores of sPyNNaker's own vertices (monitors, gatherers).
    sdram_bytes : dict
        Population -> largest SDRAM need of one of its cores (bytes).
    neurons_per_core : dict
        Population -> most neurons on one core.
    routing_ok : bool
        Mapping finished and no chip holds more than 1024 routing entries.
    max_routing_entries : int
    events_per_ms : dict
        Population -> synaptic events per ms on its busiest core.
    load : dict
        Population -> fraction of the step's cycle budget used by its busiest core.
    weights : dict
        Projection -> {"lost", "distorted", "clipped"} fractions of synapses and the "scale".
    post_history : dict
        Plastic projection -> expected post spikes per pre interval.
    notes : list of str
    mapping_seconds : float
    """

    cores: int
    chips: int
    system_cores: int
    sdram_bytes: dict[str, int]
    neurons_per_core: dict[str, int]
    routing_ok: bool
    max_routing_entries: int
    events_per_ms: dict[str, float] = field(default_factory=dict)
    load: dict[str, float] = field(default_factory=dict)
    weights: dict[str, dict[str, float]] = field(default_factory=dict)
    post_history: dict[str, float] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    mapping_seconds: float = 0.0


def _environment(root: Path) -> dict[str, str]:
    """Environment in which sPyNNaker finds exactly our configuration and nothing else."""
    (root / "home").mkdir()
    (root / "xdg").mkdir()
    (root / "reports").mkdir()
    (root / "xdg" / ".spynnaker.cfg").write_text(CONFIG.format(reports=root / "reports"))
    env = dict(os.environ)
    env.update(
        HOME=str(root / "home"),
        XDG_CONFIG_HOME=str(root / "xdg"),
        XDG_CONFIG_DIRS=str(root / "none"),
    )
    return env


def _check_scheme(network: Network) -> None:
    """Refuse a network whose scheme sPyNNaker does not integrate, as the PyNN export does."""
    target = TARGETS["spiNNaker"]
    if network.scheme != target.scheme:
        raise CapabilityError(
            f"network {network.name!r}: feature scheme:{network.scheme} cannot be expressed on target"
            f" {target.name!r}, which integrates the {target.scheme!r} scheme; pass approximate=True"
            " (--approximate on the command line) to map it anyway"
        )


def check_spinnaker(
    network: Network,
    dt: float | None = None,
    duration: float = 100.0,
    rates_hz: dict[str, float] | None = None,
    assumed_rate_hz: float = 10.0,
    timeout_s: float = 900.0,
    approximate: bool = False,
) -> SpinnakerReport:
    """Map ``network`` with sPyNNaker on a virtual SpiNN-5 board and estimate its load.

    Parameters
    ----------
    network : Network
    dt : float or None
        Time step (ms); default ``required_dt`` or 1 ms (sPyNNaker's usual step).
    duration : float
        Run length (ms) the mapping sizes recording buffers for.
    rates_hz : dict or None
        Firing rate (Hz) of LIF populations, e.g. measured with the torch backend.
    assumed_rate_hz : float
        Rate of LIF populations missing from ``rates_hz``.
    approximate : bool
        Map a network of another scheme than ``"spinnaker"`` anyway (the
        board integrates sPyNNaker's scheme, so its spikes will differ); the
        same rule as the PyNN export (``--approximate`` on the command line).

    Raises
    ------
    ValidationError, CapabilityError
        An invalid network or one sPyNNaker cannot express (a CA3PairRule
        without a published STDP; a network of the ``"exact"`` scheme without
        ``approximate=True``); other approximations become notes.
    ExportError
        sPyNNaker is not installed or the mapping failed (its message is kept).
    """
    # The scheme rule of every export: sPyNNaker integrates its own scheme, so another one is
    # refused unless the caller accepts the approximation (build_plan then notes it).
    if not approximate:
        _check_scheme(network)
    if importlib.util.find_spec("spynnaker") is None or importlib.util.find_spec("pyNN") is None:
        raise ExportError("target 'spiNNaker' is not installed; install sPyNNaker (pip install 'spynnaker==1!7.4.1')")
    dt = dt if dt is not None else (network.required_dt or 1.0)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        plan, arrays = build_plan(network, dt, duration, targets=("spiNNaker",), approximate=True)
    notes = [str(w.message) for w in caught]
    with tempfile.TemporaryDirectory(prefix="neuromem-spinnaker-") as folder:
        root = Path(folder)
        (root / standalone.PLAN_FILE).write_text(json.dumps(plan))
        np.savez(root / standalone.ARRAYS_FILE, **arrays)
        env = _environment(root)
        start = time.monotonic()
        try:
            done = subprocess.run(
                [sys.executable, "-m", "neuromem.export.spinnaker_map", str(root)],
                cwd=root,
                env=env,
                capture_output=True,
                text=True,
                timeout=timeout_s,
            )
        except subprocess.TimeoutExpired as error:
            raise ExportError(f"sPyNNaker mapping of {network.name!r} took more than {timeout_s:g} s") from error
        seconds = time.monotonic() - start
        if done.returncode != 0 or not (root / "mapping.json").is_file():
            tail = "\n".join((done.stdout + done.stderr).strip().splitlines()[-15:])
            raise ExportError(f"sPyNNaker mapping of {network.name!r} failed:\n{tail}")
        mapping = json.loads((root / "mapping.json").read_text())
    report = _report(network, plan, arrays, mapping, rates_hz or {}, assumed_rate_hz)
    report.notes = notes + report.notes
    report.mapping_seconds = seconds
    return report


def _report(network: Network, plan: dict, arrays: dict, mapping: dict, rates: dict, assumed: float) -> SpinnakerReport:
    names = {p.name for p in network.populations}
    ours = [c for c in mapping["cores"] if c["population"] in names]
    entries = mapping["routing_entries"]
    report = SpinnakerReport(
        cores=len(ours),
        chips=len({(c["x"], c["y"]) for c in ours}),
        system_cores=len(mapping["cores"]) - len(ours),
        sdram_bytes={n: max(c["sdram_bytes"] for c in ours if c["population"] == n) for n in names},
        neurons_per_core={n: max(c["atoms"] for c in ours if c["population"] == n) for n in names},
        routing_ok=bool(not entries or max(entries) <= ROUTER_ENTRIES),
        max_routing_entries=max(entries) if entries else 0,
    )
    steps = float(plan["duration"]) / float(plan["dt"])
    rate = {}
    for i, population in enumerate(network.populations):
        if population.is_source:
            spikes = arrays[f"p{i}_spikes"]
            rate[population.name] = np.bincount(spikes[0], minlength=population.size) / (steps * plan["dt"]) * 1000.0
        else:
            rate[population.name] = np.full(int(population.size), float(rates.get(population.name, assumed)))
    dt = float(plan["dt"])
    for population in network.populations:
        if population.is_source:
            continue
        per_core = max(report.neurons_per_core[population.name], 1)
        n_cores = -(-int(population.size) // per_core)
        events = np.zeros(n_cores)
        cycles = np.zeros(n_cores)
        for projection in network.projections:
            if projection.post != population.name:
                continue
            lists = network.connection_list(projection.name)
            per_synapse = rate[projection.pre][lists.pre] / 1000.0 * dt  # events per step
            core = lists.post // per_core
            load = np.bincount(core, weights=per_synapse, minlength=n_cores)
            events += load / dt
            cost = CYCLES["plastic_event" if projection.is_plastic else "static_event"]
            cycles += load * cost
        cycles += np.bincount(np.arange(population.size) // per_core, minlength=n_cores) * CYCLES["neuron"]
        report.events_per_ms[population.name] = float(events.max()) if events.size else 0.0
        report.load[population.name] = float(cycles.max() / (CLOCK_HZ * dt / 1000.0)) if cycles.size else 0.0
        if report.load[population.name] > 1.0:
            report.notes.append(
                f"Population {population.name!r}: busiest core needs {report.load[population.name]:.2f} of its"
                " real-time budget; use a time_scale_factor or fewer neurons per core"
            )
    factors = {p["label"]: abs(float(p["weight_factor"]["spiNNaker"])) for p in plan["projections"]}
    for projection in network.projections:
        _quantisation(report, network, projection.name, mapping["scales"], factors[projection.name])
        if projection.is_plastic:
            pre_rate = float(np.mean(rate[projection.pre])) or 1e-9
            report.post_history[projection.name] = float(np.mean(rate[projection.post])) / pre_rate
            if report.post_history[projection.name] > POST_HISTORY / 2:
                report.notes.append(
                    f"Projection {projection.name!r}: {report.post_history[projection.name]:.1f} post spikes per pre"
                    f" interval risk overflowing sPyNNaker's {POST_HISTORY}-entry post-event history"
                )
    return report


def _quantisation(report: SpinnakerReport, network: Network, name: str, scales: dict, factor: float = 1.0) -> None:
    """Weight loss of projection ``name`` in sPyNNaker's fixed point; ``factor`` converts to sPyNNaker's unit."""
    projection = network.projection(name)
    entry = scales.get(projection.post)
    if entry is None:
        return
    index = 1 if projection.receptor == "inhibitory" else 0
    scale = float(entry["weight_scales"][index])
    weights = np.abs(network.connection_list(name).weight) * factor
    fixed = np.rint(weights * scale)
    clipped = fixed > 0xFFFF
    fixed = np.minimum(fixed, 0xFFFF)
    positive = weights > 0
    lost = positive & (fixed == 0)
    error = np.abs(fixed / scale - weights) / np.where(positive, weights, 1.0)
    distorted = positive & ~lost & (error > 0.01)
    total = max(weights.size, 1)
    report.weights[name] = {
        "scale": scale,
        "lost": float(lost.sum() / total),
        "distorted": float(distorted.sum() / total),
        "clipped": float(clipped.sum() / total),
    }


def format_spinnaker_report(report: SpinnakerReport) -> str:
    """A plain-text table of a :class:`SpinnakerReport` (for ``neuromem export --to spinnaker``)."""
    lines = [
        f"SpiNNaker mapping (virtual SpiNN-5 board): {report.cores} cores on {report.chips} chips"
        f" (+{report.system_cores} system cores); routing {'ok' if report.routing_ok else 'FAILED'}"
        f" (max {report.max_routing_entries} entries per chip of {ROUTER_ENTRIES}); mapped in"
        f" {report.mapping_seconds:.1f} s",
        "",
        f"{'population':<24}{'neurons/core':>13}{'SDRAM/core kB':>15}{'events/ms':>12}{'CPU load':>10}",
    ]
    for name, neurons in report.neurons_per_core.items():
        events = report.events_per_ms.get(name)
        load = report.load.get(name)
        lines.append(
            f"{name:<24}{neurons:>13d}{report.sdram_bytes[name] / 1024:>15.1f}"
            f"{'-' if events is None else f'{events:.1f}':>12}{'-' if load is None else f'{load:.0%}':>10}"
        )
    if report.weights:
        lines += [
            "",
            f"{'projection':<24}{'weight scale':>13}{'lost':>9}{'distorted':>11}{'clipped':>9}{'post/pre':>10}",
        ]
        for name, entry in report.weights.items():
            history = report.post_history.get(name)
            lines.append(
                f"{name:<24}{entry['scale']:>13g}{entry['lost']:>9.1%}{entry['distorted']:>11.1%}"
                f"{entry['clipped']:>9.1%}{'-' if history is None else f'{history:.2f}':>10}"
            )
    lines += [f"note: {note}" for note in report.notes]
    return "\n".join(lines)
