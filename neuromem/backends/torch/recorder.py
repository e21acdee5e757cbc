"""What a torch run records: kept on the device during a chunk, copied to the host once per chunk."""

from __future__ import annotations

import numpy as np
import torch


class ChunkRecorder:
    """Spike events, trace samples and weight snapshots of one run.

    During a chunk of steps, trace samples and plastic weight snapshots are
    device clones (nothing is read back per step or per snapshot). At the end
    of the chunk, :meth:`end_chunk` takes the chunk's spike events and copies
    everything to the host, so device memory does not grow with steps. The
    scan for the events (their number is data-dependent) is **the chunk's one
    wait** for the device; the copies after it find the device idle.

    Parameters
    ----------
    trace_keys : list of (population, variable)
        The traced variables.
    weight_targets : list of str
        The weight-probed projections.
    """

    def __init__(self, trace_keys: list[tuple[str, str]], weight_targets: list[str]) -> None:
        self.events: list[tuple[np.ndarray, np.ndarray, np.ndarray]] = []
        self.traces: dict[tuple[str, str], list[np.ndarray]] = {key: [] for key in trace_keys}
        self.snapshots: dict[str, list[tuple[int, np.ndarray]]] = {name: [] for name in weight_targets}
        self._traces: dict[tuple[str, str], list[torch.Tensor]] = {key: [] for key in trace_keys}
        self._snapshots: dict[str, list[tuple[int, torch.Tensor | np.ndarray]]] = {n: [] for n in weight_targets}

    def trace(self, key: tuple[str, str], sample: torch.Tensor) -> None:
        """Keep a (batch, size) sample (a device clone) until the chunk ends."""
        self._traces[key].append(sample)

    def snapshot(self, target: str, tick: int, weights: torch.Tensor | np.ndarray) -> None:
        """Keep the (batch, synapses) weights of ``target`` at ``tick``: a device clone, or a host array as given."""
        if isinstance(weights, torch.Tensor):
            weights = weights.detach().clone()
        self._snapshots[target].append((tick, weights))

    def discard_chunk(self) -> None:
        """Forget the samples and snapshots taken since the last chunk ended (the chunk runs again)."""
        for samples in self._traces.values():
            samples.clear()
        for shots in self._snapshots.values():
            shots.clear()

    def end_chunk(self, events: tuple[torch.Tensor, ...], first_tick: int) -> None:
        """Copy the chunk's recording to the host.

        ``events`` are the (step in chunk, trial, neuron) indices of the chunk's
        spikes, found after its last step (the host waited for them).
        """
        step, trial, neuron = (part.cpu().numpy() for part in events)
        self.events.append((step + first_tick, trial, neuron))
        for key, samples in self._traces.items():
            if samples:
                self.traces[key].append(torch.stack(samples, dim=1).cpu().numpy())
                samples.clear()
        for target, shots in self._snapshots.items():
            for tick, weights in shots:
                host = weights.cpu().numpy() if isinstance(weights, torch.Tensor) else weights
                self.snapshots[target].append((tick, host.astype(np.float64)))
            shots.clear()

    def spike_arrays(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(tick, trial, neuron) of every recorded spike, int64, in recording order."""
        if not self.events:
            empty = np.zeros(0, dtype=np.int64)
            return empty, empty.copy(), empty.copy()
        tick, trial, neuron = (np.concatenate(parts).astype(np.int64) for parts in zip(*self.events))
        return tick, trial, neuron

    def trace_arrays(self, batch: int, sizes: dict[str, int]) -> dict[tuple[str, str], np.ndarray]:
        """Per traced variable: (batch, samples, size) float64."""
        return {
            key: (np.concatenate(parts, axis=1).astype(np.float64) if parts else np.zeros((batch, 0, sizes[key[0]])))
            for key, parts in self.traces.items()
        }
