"""Helpers of a memory's timeline: ticks on the dt grid, recordings joined, one trial's state copied.

Used by :class:`~neuromem.models.ca3.CA3Memory` to read an answer ahead of the next operation's start
(run to the start, checkpoint, run on, go back) and to run many queries against one learned state.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

from neuromem.backends.base import Simulation
from neuromem.record import Recording


def ceil_ticks(time_ms: float, dt: float) -> int:
    """The first tick at or after ``time_ms`` (ms); times a rounding error above a tick count as on it."""
    return int(math.ceil(time_ms / dt - 1e-9))


def join(first: Recording, second: Recording) -> Recording:
    """The spikes of two consecutive runs as one recording."""
    spikes = {name: trains.concat(second.spikes[name]) for name, trains in first.spikes.items()}
    return Recording(
        dt=first.dt,
        start_tick=first.start_tick,
        stop_tick=second.stop_tick,
        batch_size=first.batch_size,
        sizes=first.sizes,
        spikes=spikes,
    )


def copy_trial_state(source: Simulation, target: Simulation, trial: int, plastic: Sequence[str]) -> None:
    """Put trial ``trial`` of ``source`` into every trial of ``target`` (same network)."""
    if not hasattr(source, "state_dict"):
        for name in plastic:
            target.set_weights(name, source.get_weights(name)[trial])
        return
    state = source.state_dict()
    copies = target.state_dict()  # type: ignore[attr-defined]
    for key, value in state.items():
        if key == "tick":
            copies[key] = value
            continue
        dim = 1 if key == "buffer" or key.endswith(".history") else 0
        row = value.select(dim, trial).unsqueeze(dim)
        copies[key] = row.expand_as(copies[key]).clone()
    target.load_state_dict(copies)  # type: ignore[attr-defined]
