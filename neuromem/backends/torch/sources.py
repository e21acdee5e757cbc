"""Spike sources on the torch backend, generated a chunk of steps at a time."""

from __future__ import annotations

import numpy as np
import torch

from neuromem.spec import SpikeSourceArray, SpikeSourcePoisson
from neuromem.spec.random import uniform_torch


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
        self.tick = torch.as_tensor(tick[order], device=device)
        self.trial = torch.as_tensor(np.concatenate(trials)[order], device=device)
        self.neuron = torch.as_tensor(np.concatenate(neurons)[order], device=device)

    def fill(self, out: torch.Tensor, first_tick: int) -> None:
        """Write spikes of ticks ``first_tick ..`` into ``out`` (steps, batch, size)."""
        lo = int(torch.searchsorted(self.tick, first_tick))
        hi = int(torch.searchsorted(self.tick, first_tick + out.shape[0]))
        if hi > lo:
            out[self.tick[lo:hi] - first_tick, self.trial[lo:hi], self.neuron[lo:hi]] = 1


class PoissonSchedule:
    """Poisson trains from the shared counter-based generator."""

    def __init__(self, source: SpikeSourcePoisson, trial_seeds: list[int], dt: float, device: torch.device) -> None:
        self.source = source
        self.probability = source.probability(dt)
        self.first = int(round(source.start / dt))
        self.stop = np.inf if np.isinf(source.duration) else int(round((source.start + source.duration) / dt))
        self.streams = torch.as_tensor(trial_seeds, dtype=torch.int64, device=device)
        self.rows = torch.arange(source.size, dtype=torch.int64, device=device)

    def fill(self, out: torch.Tensor, first_tick: int) -> None:
        steps = torch.arange(first_tick, first_tick + out.shape[0], dtype=torch.int64, device=out.device)
        draws = uniform_torch(
            self.source.seed, self.streams[None, :, None], self.rows[None, None, :], steps[:, None, None]
        )
        inside = ((steps >= self.first) & (steps < self.stop)).to(out.dtype)[:, None, None]
        out.copy_((draws < self.probability).to(out.dtype) * inside)
