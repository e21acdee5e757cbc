"""Spike sources on the torch backend, generated a chunk of steps at a time."""

from __future__ import annotations

import math

import numpy as np
import torch

from neuromem.spec import SpikeSourceArray, SpikeSourcePoisson
from neuromem.spec.random import PoissonTrains, gap_rule, uniform_torch


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


def table_gaps(table: torch.Tensor, u: torch.Tensor) -> torch.Tensor:
    """``GapRule.gaps`` on the device: ``table`` the rule's ascending thresholds, ``u`` float64 (consumed)."""
    # 1 - u is exact in float64; searchsorted compares exactly, like numpy's.
    below = torch.searchsorted(table, u.neg_().add_(1.0), side="left")
    return below.neg_().add_(table.numel() + 1)


class PoissonSchedule:
    """Poisson trains of one source population, drawn on the device.

    The trains of :class:`neuromem.spec.random.PoissonTrains` (numpy), bit for
    bit: the torch twin of the counter-based generator and the same exact gap
    rule (:class:`neuromem.spec.random.GapRule`: a ``searchsorted`` in the
    host-made threshold table, no transcendental function on the device). Per
    (trial, neuron) the device holds the next spike step and the spikes drawn
    so far; the trains continue across runs (the object lives as long as the
    simulation state).

    :meth:`fill` writes a chunk in passes over all neurons, each emitting at
    most one spike per neuron, without reading the device. The passes are
    enough for all but about one chunk in a thousand (a binomial tail bound);
    **the one host read** is the shortfall flag, checked once after them, at
    the start of the chunk (before its steps are queued); when it is set, more
    passes follow, each doubling, with one read each. A chunk of one step
    needs one pass and no read.

    Spike probabilities below the table's reach (``GapRule.table`` is None,
    p < ~3.5e-5 per step) draw on the host with :class:`PoissonTrains` (the same
    rule, so the same trains) and copy the chunk's spike indices to the device.
    So does a CPU device by default (``on_device=None``): there nothing is
    read back across a bus, and numpy, which draws only the spikes, is several
    times faster than passes over every neuron.
    """

    #: Accepted expected number of chunks per thousand whose first passes fall short.
    SHORTFALL = 1e-3

    def __init__(
        self,
        source: SpikeSourcePoisson,
        trial_seeds: list[int],
        dt: float,
        device: torch.device,
        on_device: bool | None = None,
    ) -> None:
        first = int(round(source.start / dt))
        end = np.inf if np.isinf(source.duration) else int(round((source.start + source.duration) / dt))
        probability = source.probability(dt)
        self.device = device
        self.seed = source.seed
        self.probability = probability
        self.end = end
        self.rule = gap_rule(float(probability))
        self.host: PoissonTrains | None = None
        if on_device is None:
            on_device = torch.device(device).type != "cpu"
        if self.rule.active and (self.rule.table is None or not on_device):
            self.host = PoissonTrains(source.seed, np.asarray(trial_seeds), source.size, probability, first, end)
            return
        batch = len(trial_seeds)
        self.streams = torch.as_tensor(np.asarray(trial_seeds, dtype=np.int64), device=device).view(-1, 1)
        self.rows = torch.arange(source.size, dtype=torch.int64, device=device).view(1, -1)
        self.trials = torch.arange(batch, dtype=torch.int64, device=device).view(-1, 1)
        table = self.rule.table if self.rule.table is not None else np.zeros(1)
        self.table = torch.as_tensor(table, dtype=torch.float64, device=device)
        self.count = torch.zeros(batch, source.size, dtype=torch.int64, device=device)
        self.next = self._gaps(self.count) + (first - 1)
        self._rounds: dict[int, int] = {}
        self._cells: tuple[tuple[int, int], torch.Tensor] | None = None
        self._one: torch.Tensor | None = None  # the 1 a pass writes, made once

    def _gaps(self, count: torch.Tensor) -> torch.Tensor:
        """The gap after spike number ``count`` of every (trial, neuron): ``GapRule.gaps`` on the device."""
        return table_gaps(self.table, uniform_torch(self.seed, self.streams, self.rows, count))

    def _pass(self, out: torch.Tensor, first_tick: int, stop: int) -> None:
        """Emit each neuron's next spike if it lies before ``stop``, and draw its following gap."""
        hit = self.next < stop
        shown = hit & (self.next >= first_tick)
        # One flat index per (trial, neuron) into out's storage: index_select / index_copy_ cost a
        # fraction of three-tensor advanced indexing. Cells are distinct within a pass; where
        # nothing spikes, the neuron's cell at step 0 is copied onto itself.
        flat, cells = self._flat(out)
        cells = torch.where(shown, self.next - first_tick, 0).mul_(out.stride(0)).add_(cells).view(-1)
        if self._one is None or self._one.dtype != out.dtype:
            self._one = torch.ones((), dtype=out.dtype, device=out.device)
        flat.index_copy_(0, cells, torch.where(shown.view(-1), self._one, flat.index_select(0, cells)))
        self.count += hit
        self.next = torch.where(hit, self.next + self._gaps(self.count), self.next)

    def _flat(self, out: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """A 1-D view of the storage ``out`` spans, and each (trial, neuron)'s offset at step 0 in it."""
        span = 1 + sum((size - 1) * stride for size, stride in zip(out.shape, out.stride()))
        flat = out.as_strided((span,), (1,))
        key = (out.stride(1), out.stride(2))
        if self._cells is None or self._cells[0] != key:
            self._cells = (key, self.trials * out.stride(1) + self.rows * out.stride(2))
        return flat, self._cells[1]

    def passes(self, steps: int) -> int:
        """Passes that cover ``steps`` steps for all neurons but in ~:attr:`SHORTFALL` of chunks."""
        if steps not in self._rounds:
            neurons = self.count.numel()
            p = self.probability
            if p >= 1.0:
                rounds = steps
            else:
                # Binomial(steps, p) tail, summed from the top: the fewest passes r with
                # neurons * P(spikes > r) <= SHORTFALL.
                log = [
                    math.lgamma(steps + 1)
                    - math.lgamma(k + 1)
                    - math.lgamma(steps - k + 1)
                    + k * math.log(p)
                    + (steps - k) * math.log1p(-p)
                    for k in range(steps + 1)
                ]
                tail, rounds = 0.0, steps
                for r in range(steps, 0, -1):
                    tail += math.exp(log[r])  # P(spikes >= r)
                    if neurons * tail > self.SHORTFALL:
                        break
                    rounds = r - 1
                rounds = max(rounds, 1)
            self._rounds[steps] = rounds
        return self._rounds[steps]

    def fill(self, out: torch.Tensor, first_tick: int) -> None:
        """Spikes of ticks ``first_tick ..`` into ``out`` (steps, batch, size), set to 1 (others untouched)."""
        if not self.rule.active:
            return
        stop = int(min(first_tick + out.shape[0], self.end))
        if stop <= first_tick:
            return
        if self.host is not None:
            self._fill_host(out, first_tick, stop)
            return
        rounds = self.passes(out.shape[0])
        for _ in range(rounds):
            self._pass(out, first_tick, stop)
        if rounds >= out.shape[0]:
            return  # a neuron spikes at most once a step
        # The one read of the chunk.
        while bool(torch.any(self.next < stop)):
            rounds *= 2
            for _ in range(rounds):
                self._pass(out, first_tick, stop)

    def _fill_host(self, out: torch.Tensor, first_tick: int, stop: int) -> None:
        assert self.host is not None
        trial, neuron, step = self.host.advance(stop)
        keep = step >= first_tick
        if keep.any():
            index = [torch.as_tensor(a[keep], device=self.device) for a in (step - first_tick, trial, neuron)]
            out[index[0], index[1], index[2]] = 1
