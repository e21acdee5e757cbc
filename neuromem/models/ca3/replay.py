"""Replays of the recorded SpiNNaker runs on a backend, spike for spike.

:func:`replay_cam` builds the CAM network of a recorded run with its
recorded input schedule and returns the spikes of the ten recorded
populations (``OUT`` split into ``OUTcue`` and ``OUTcont``), ready for
:func:`neuromem.models.ca3.gold.compare`. :func:`replay_sibling` drives the
sibling model's CA3 core with the recorded ``CA3cue`` spikes.

Example
-------
>>> from neuromem.models.ca3.gold import load_run, compare
>>> run = load_run("cam_exp1")                            # doctest: +SKIP
>>> compare(run, replay_cam(run)[0]).exact                # doctest: +SKIP
True
"""

from __future__ import annotations

import numpy as np

from neuromem.backends import build
from neuromem.models.ca3.gold import RecordedRun
from neuromem.models.ca3.network import INTERNAL, build_network
from neuromem.models.ca3.params import CA3Params, load_params
from neuromem.models.ca3.sibling import build_sibling_network
from neuromem.record import Recording
from neuromem.spec import Probe, SpikeSourceArray

Spikes = dict[str, set[tuple[int, int]]]


def replay_cam(
    run: RecordedRun,
    params: CA3Params | None = None,
    backend: str = "torch",
    weight_every_ms: float | None = None,
    **options: object,
) -> tuple[Spikes, Recording]:
    """Run the CAM network on ``run``'s inputs; returns (spikes by recorded population, recording).

    ``weight_every_ms`` adds weight snapshots of both plastic projections.
    """
    params = params if params is not None else load_params()
    net = build_network(run.n, run.m, params, inputs=run.inputs(0, run.n + run.m, params.dt_ms))
    if weight_every_ms is not None:
        extra = (Probe(name, "weight", weight_every_ms) for name in ("CueCue-ContCue", "ContCont-CueCont"))
        net = net.with_probes(*net.probes, *extra)
    simulation = build(net, backend, dt=params.dt_ms, **options)
    recording = simulation.run(run.sim_time * params.dt_ms)
    spikes = {name: recording.spikes_of(name).pairs() for name in INTERNAL}
    out = recording.spikes_of("OUT").pairs()
    spikes["OUTcue"] = {(i, t) for i, t in out if i < run.n}
    spikes["OUTcont"] = {(i - run.n, t) for i, t in out if i >= run.n}
    return spikes, recording


def replay_sibling(
    run: RecordedRun, params: CA3Params | None = None, backend: str = "torch", **options: object
) -> Spikes:
    """Drive the sibling CA3 core with ``run``'s recorded CA3cue spikes; returns ``{"CA3cont": ...}``."""
    params = params if params is not None else load_params()
    cue = sorted(run.spikes.get("CA3cue", set()))
    neurons = np.array([i for i, _ in cue], dtype=np.int64)
    times = np.array([t * params.dt_ms for _, t in cue], dtype=np.float64)
    net = build_sibling_network(
        SpikeSourceArray(run.n, neurons, times), run.inputs(run.cue_lines, run.m, params.dt_ms), params
    )
    recording = build(net, backend, dt=params.dt_ms, **options).run(run.sim_time * params.dt_ms)
    return {"CA3cont": recording.spikes_of("CA3cont").pairs()}
