"""Spike sources on the torch backend, generated a chunk of steps at a time."""

from __future__ import annotations

import numpy as np
import torch

from neuromem.spec import SpikeSourceArray, SpikeSourcePoisson
from neuromem.spec.random import PoissonTrains


class ArraySchedule:
    """Explicit spike times of one source population, one source per trial."""

    def __init__(self, sources: list[SpikeSourceArray], dt: float, device: torch.device) -> None:
        trials, neurons, ticks = [], [], []
        for trial, source in enumerate(sources):
            ticks.append(source.ticks(dt))
            neurons.append(source.neuron)
            trials.append(np.full(source.neuron.size, trial, dtype=np.int64))
        tick = np.concatenate(ticks)
        order = np.argsort(tick, kind="stable")
        # Host copy of the sorted ticks: a chunk finds its range without reading the device.
        self.host_tick = tick[order]
        self.tick = torch.as_tensor(self.host_tick, device=device)
        self.trial = torch.as_tensor(np.concatenate(trials)[order], device=device)
        self.neuron = torch.as_tensor(np.concatenate(neurons)[order], device=device)

    def fill(self, out: torch.Tensor, first_tick: int) -> None:
        """Write spikes of ticks ``first_tick ..`` into ``out`` (steps, batch, size)."""
        lo, hi = (int(i) for i in np.searchsorted(self.host_tick, [first_tick, first_tick + out.shape[0]]))
        if hi > lo:
            out[self.tick[lo:hi] - first_tick, self.trial[lo:hi], self.neuron[lo:hi]] = 1


class PoissonSchedule:
    """Poisson trains of one source population, drawn by the shared numpy generator.

    The trains continue across runs (the object lives as long as the simulation
    state); spikes are drawn per chunk, one random number per spike.
    """

    def __init__(self, source: SpikeSourcePoisson, trial_seeds: list[int], dt: float, device: torch.device) -> None:
        first = int(round(source.start / dt))
        end = np.inf if np.isinf(source.duration) else int(round((source.start + source.duration) / dt))
        self.trains = PoissonTrains(
            source.seed, np.asarray(trial_seeds), source.size, source.probability(dt), first, end
        )
        self.device = device

    def fill(self, out: torch.Tensor, first_tick: int) -> None:
        trial, neuron, step = self.trains.advance(first_tick + out.shape[0])
        keep = step >= first_tick
        if keep.any():
            index = [torch.as_tensor(a[keep], device=self.device) for a in (step - first_tick, trial, neuron)]
            out[index[0], index[1], index[2]] = 1
