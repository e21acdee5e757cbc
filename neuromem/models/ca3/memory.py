"""``CA3Memory``: the CA3 content-addressable memory as an object with store and recall.

Each call encodes its operations into input spikes, runs the spiking network
and decodes the answers from ``OUT`` (:mod:`neuromem.models.ca3.protocol`).
The memory is batched: B independent memories advance in one pass, and
:meth:`CA3Memory.recall_many_by_address` / :meth:`~CA3Memory.recall_many_by_content`
run Q queries against one learned state in one pass without changing it.
Storing a new content at an occupied address forgets the old content in
both directions (spec ``ca3.md`` section 1.5.4).

**One timeline.** Calls and programs share it: the next operation starts
where the spacing after the previous one allows (7 ms after a store and
6 ms after a recall in the paper's set, or the ``spacing_ms`` given), so
``store(...)`` then ``recall_by_address(...)`` puts the recall at the same
tick as the program ``[store, recall_by_address]``. An answer is read up to
1 ms after that point (the second echo of a store at t0 + 7); on the torch
backend the memory runs ahead on a checkpoint to read it and goes back. The
Brian2 backend cannot checkpoint: there the next operation starts after the
last answer (t0 + 8 after a store, t0 + 7 after a recall).

Example
-------
>>> mem = CA3Memory(n=5, m=10)
>>> _ = mem.store(0, [0, 1, 8, 9]); _ = mem.store(4, [1, 5, 6])
>>> mem.recall_by_address(0)[0].content
(0, 1, 8, 9)
>>> mem.recall_by_content([1])[0].addresses
(0, 4)
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from pathlib import Path

import numpy as np

from neuromem.backends import build
from neuromem.backends.base import Simulation
from neuromem.errors import CapabilityError, ValidationError
from neuromem.models.ca3 import hippocampus, storage
from neuromem.models.ca3.network import (
    CONTENT_TO_CUE,
    CUE_TO_CONTENT,
    Structure,
    build_network,
    check_size,
    structure,
)
from neuromem.models.ca3.params import CA3Params, load_params
from neuromem.models.ca3.protocol import Answer, Operation, check_schedule, decode, encode, schedule
from neuromem.models.ca3.timeline import ceil_ticks, copy_trial_state, join
from neuromem.models.ca3.timing import Timing
from neuromem.record import Recording, SpikeTrains
from neuromem.spec import SpikeSourceArray, checks

#: A stored association counts as present when its weight is at least this fraction of w_max.
STORED_FRACTION = 0.5
#: The content-addressable memory and the other sPyMem memories built on its parts.
ARCHITECTURES = ("cam", *hippocampus.ARCHITECTURES)


class CA3Memory:
    """A batch of CA3 content-addressable memories of n addresses and m bits.

    Parameters
    ----------
    n, m : int
        Number of addresses and content bits.
    backend : str
        ``"torch"`` (batched) or another installed backend.
    batch_size : int
        Independent memories advanced together.
    device, dtype : str
        Torch device and float type.
    params : CA3Params or str, optional
        Parameter set or its name (``neuromem/resources/parameters/ca3_<name>.toml``); default ``"spinnaker"``.
    record_all : bool
        Record the spikes of every population (for rasters), not only ``OUT``.
    architecture : str
        ``"cam"`` (the content-addressable memory, default) or one of the other sPyMem memories
        built on its parts (:mod:`~neuromem.models.ca3.hippocampus`): ``"ca3_only"``,
        ``"dg_ca3_ca1"`` (binary addresses, decoder DG; the model of the recorded sibling runs),
        ``"dg_ca3_ca1_bioinspired"``. These store and recall by address only.
    **options
        Further backend options (torch: ``propagation``, default ``"event"``).

    Raises
    ------
    ValidationError
        Sizes that are not positive integers, or whose memory estimate exceeds
        the budget (:mod:`neuromem.limits`), before anything is allocated.
    """

    def __init__(
        self,
        n: int,
        m: int,
        backend: str = "torch",
        batch_size: int = 1,
        device: str = "cpu",
        dtype: str = "float32",
        params: CA3Params | str | None = None,
        record_all: bool = False,
        architecture: str = "cam",
        **options: object,
    ) -> None:
        if architecture not in ARCHITECTURES:
            raise ValidationError(f"CA3Memory: architecture = {architecture!r}; allowed: {', '.join(ARCHITECTURES)}")
        self.architecture = architecture
        self.n = checks.count("CA3Memory", "n", n)
        self.m = checks.count("CA3Memory", "m", m)
        self.batch_size = checks.count("CA3Memory", "batch_size", batch_size)
        check_size("CA3Memory", self.n, self.m, self.batch_size)
        if params is not None and not isinstance(params, (str, CA3Params)):
            raise ValidationError(f"CA3Memory: params = {params!r} must be a CA3Params or the name of a set")
        if not isinstance(record_all, bool):
            raise ValidationError(f"CA3Memory: record_all = {record_all!r} must be True or False")
        self.params = load_params(params) if isinstance(params, str) else (params or load_params())
        self.backend, self.device, self.dtype = backend, device, dtype
        self.options = dict(options)
        self.record_all = record_all
        probes = None if record_all else ("OUT",)
        if architecture == "cam":
            self.network = build_network(self.n, self.m, self.params, probes=probes)
            self.address_code = "one_hot"
            self._operation_timing = self.params.timing
        else:
            self.network = hippocampus.build_architecture(architecture, self.n, self.m, self.params, probes=probes)
            self.address_code = hippocampus.address_code(architecture)
            self._operation_timing = hippocampus.timing(architecture)
        self.plastic_projections = tuple(p.name for p in self.network.projections if p.is_plastic)
        self.simulation = self._build(self.batch_size)
        self.last_recording: Recording | None = None
        self._query_simulations: dict[int, Simulation] = {}
        # Ticks before the simulation's tick 0: a Brian2 memory loaded from a file continues
        # the saved timeline on a simulation that starts at 0.
        self._tick_offset = 0

    def _build(self, batch_size: int) -> Simulation:
        options = dict(self.options)
        if self.backend == "torch":
            options.update(batch_size=batch_size, device=self.device, dtype=self.dtype)
            # A handful of neurons spike per tick: gathering their rows beats dense matmuls from
            # n = 64 on (5x faster CPU time at n = 256, m = 16), with identical results.
            options.setdefault("propagation", "event")
        elif batch_size != 1:
            raise ValidationError(f"CA3Memory: backend {self.backend!r} runs one memory at a time (batch_size 1)")
        return build(self.network, self.backend, dt=self.params.dt_ms, **options)

    @property
    def tick(self) -> int:
        """Ticks simulated so far on this memory's timeline (time = tick * dt)."""
        return self.simulation.tick + self._tick_offset

    @property
    def time_ms(self) -> float:
        """Time reached on this memory's timeline (ms)."""
        return self.tick * self.params.dt_ms

    @property
    def timing(self) -> Timing:
        """Input offsets, answer windows and minimum spacing of the operations (ms)."""
        return self._operation_timing

    # -- operations ----------------------------------------------------------------------

    def store(
        self,
        address: int | Sequence[int],
        content: Iterable[int] | Sequence[Iterable[int]],
        spacing_ms: float | None = None,
    ) -> list[Answer]:
        """Store ``content`` (bit indices) at ``address``, one per memory of the batch.

        ``address`` is one int for every memory or one per memory; ``content``
        one bit list for every memory or one list per memory. ``spacing_ms``
        is the time from this store's start to the next operation's (default
        the parameter set's, 7 ms in the paper's). Returns one :class:`Answer`
        per memory: the echo, the second echo and the forgotten bits.
        """
        addresses = self._per_trial(address, "address")
        contents = self._contents_per_trial(content, "content")
        programs = [[Operation.store(x, c)] for x, c in zip(addresses, contents, strict=True)]
        return [a[0] for a in self.execute(programs, spacing_after_store_ms=spacing_ms)]

    def recall_by_address(self, address: int | Sequence[int], spacing_ms: float | None = None) -> list[Answer]:
        """Read the content stored at ``address`` (one per memory); ``Answer.content`` holds it."""
        addresses = self._per_trial(address, "address")
        programs = [[Operation.recall_by_address(x)] for x in addresses]
        return [a[0] for a in self.execute(programs, spacing_after_recall_ms=spacing_ms)]

    def recall_by_content(
        self, fragment: Iterable[int] | Sequence[Iterable[int]], spacing_ms: float | None = None
    ) -> list[Answer]:
        """Every address whose content shares a bit with ``fragment``; ``Answer.addresses`` holds them."""
        fragments = self._contents_per_trial(fragment, "fragment")
        programs = [[Operation.recall_by_content(f)] for f in fragments]
        return [a[0] for a in self.execute(programs, spacing_after_recall_ms=spacing_ms)]

    def execute(
        self,
        programs: Sequence[Operation] | Sequence[Sequence[Operation]],
        spacing_after_store_ms: float | None = None,
        spacing_after_recall_ms: float | None = None,
    ) -> list[list[Answer]]:
        """Run a list of operations (the same for every memory, or one list per memory) in one pass.

        Operations without ``t0`` start as early as the spacing allows; given
        ``t0`` are absolute ms and must not lie in the past. The spacings
        default to the parameter set's and may not be shorter. Everything is
        checked before anything runs, so a bad operation changes nothing.
        Returns one list of answers per memory.
        """
        timing = self._timing(spacing_after_store_ms, spacing_after_recall_ms)
        if isinstance(programs, (str, bytes, Operation)) or not isinstance(programs, Sequence):
            raise ValidationError(
                f"execute: programs = {programs!r} must be a list of Operations or one such list per memory"
            )
        if len(programs) == 0:
            return [[] for _ in range(self.batch_size)]
        if isinstance(programs[0], Operation):
            programs = [list(programs)] * self.batch_size  # type: ignore[list-item]
        if len(programs) != self.batch_size:
            raise ValidationError(f"execute: got {len(programs)} operation lists for {self.batch_size} memories")
        scheduled = []
        for program in programs:
            if isinstance(program, (str, bytes, Operation)) or not isinstance(program, Sequence):
                raise ValidationError(f"execute: {program!r} is not a list of Operations")
            ops = schedule(program, timing, self.time_ms)  # type: ignore[arg-type]
            check_schedule(ops, self.n, self.m, timing, self.time_ms)
            self._check_kinds(ops)
            scheduled.append(ops)
        if not any(scheduled):
            return [[] for _ in scheduled]
        dt = self.params.dt_ms
        last = [ops[-1] for ops in scheduled if ops]
        # The next operation may start at the first tick at or after the spacing (on the dt grid).
        resume = max(ceil_ticks(op.t0 + timing.spacing(op.kind), dt) for op in last) - self._tick_offset  # type: ignore[operator]
        end = max(ceil_ticks(op.t0 + timing.span(op.kind), dt) for ops in scheduled for op in ops) - self._tick_offset  # type: ignore[operator]
        code = self.address_code
        inputs = {"IN": [self._shifted(encode(ops, self.n, self.m, timing, dt, code)) for ops in scheduled]}
        recording = self._run_to(resume, end, inputs)
        self.last_recording = recording
        out = recording.spikes_of("OUT")
        if self._tick_offset:
            out = SpikeTrains.from_arrays(out.trial, out.neuron, out.tick + self._tick_offset)
        return [decode(ops, out, self.n, trial, timing, dt, code) for trial, ops in enumerate(scheduled)]

    def _shifted(self, source: SpikeSourceArray) -> SpikeSourceArray:
        """Input times on the simulation's clock (which lags the memory's by the load offset)."""
        if not self._tick_offset:
            return source
        return SpikeSourceArray(source.size, source.neuron, source.times_ms - self._tick_offset * self.params.dt_ms)

    def _run_to(self, resume: int, end: int, inputs: dict[str, list]) -> Recording:
        """Run to tick ``end`` (simulation ticks), leaving the memory at ``resume`` where it can go back."""
        sim, dt = self.simulation, self.params.dt_ms
        can_return = hasattr(sim, "state_dict") and hasattr(sim, "load_state_dict")
        if end <= resume or not can_return:
            return sim.run((max(end, resume) - sim.tick) * dt, inputs=inputs)
        first = sim.run((resume - sim.tick) * dt, inputs=inputs)
        checkpoint = sim.state_dict()  # type: ignore[attr-defined]
        second = sim.run((end - resume) * dt)
        sim.load_state_dict(checkpoint)  # type: ignore[attr-defined]
        return join(first, second)

    def _check_kinds(self, operations: Sequence[Operation]) -> None:
        if self.architecture != "cam" and any(op.kind == "recall_by_content" for op in operations):
            raise CapabilityError(
                f"CA3Memory: architecture {self.architecture!r} has no recall by content (feature"
                " recall_by_content); use architecture 'cam'"
            )

    def _timing(self, after_store: float | None, after_recall: float | None) -> Timing:
        base = self.timing
        for name, value, minimum in (
            ("spacing_after_store_ms", after_store, base.spacing_after_store_ms),
            ("spacing_after_recall_ms", after_recall, base.spacing_after_recall_ms),
        ):
            if value is None:
                continue
            if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
                raise ValidationError(f"CA3Memory: {name} = {value!r} must be a number of ms")
            if value < minimum - 1e-9:
                owner = f"parameter set {self.params.name!r}" if self.architecture == "cam" else self.architecture
                raise ValidationError(
                    f"CA3Memory: {name} = {value:g} ms is below the minimum of {owner} ({minimum:g} ms)"
                )
        return base.with_spacing(after_store, after_recall)

    def wait(self, duration_ms: float) -> None:
        """Let ``duration_ms`` pass without input (every memory of the batch), e.g. to space operations further."""
        duration_ms = checks.non_negative("CA3Memory.wait", "duration_ms", duration_ms, "ms")
        steps = self.simulation.duration_steps(duration_ms)
        if steps:
            self.last_recording = self.simulation.run(steps * self.params.dt_ms)

    def recall_many_by_address(self, addresses: Sequence[int], trial: int = 0) -> list[Answer]:
        """Q recalls by address against memory ``trial``, in one batched pass; the memory is unchanged."""
        if isinstance(addresses, (str, bytes)) or not isinstance(addresses, Sequence):
            raise ValidationError(f"recall_many_by_address: addresses = {addresses!r} must be a list of integers")
        return self._queries([[Operation.recall_by_address(a)] for a in addresses], trial)

    def recall_many_by_content(self, fragments: Sequence[Iterable[int]], trial: int = 0) -> list[Answer]:
        """Q recalls by content against memory ``trial``, in one batched pass; the memory is unchanged."""
        if isinstance(fragments, (str, bytes)) or not isinstance(fragments, Sequence):
            raise ValidationError(f"recall_many_by_content: fragments = {fragments!r} must be a list of bit lists")
        return self._queries([[Operation.recall_by_content(f)] for f in fragments], trial)

    def _queries(self, programs: list[list[Operation]], trial: int) -> list[Answer]:
        trial = checks.count("recall_many", "trial", trial, minimum=0)
        if not 0 <= trial < self.batch_size:
            raise ValidationError(f"recall_many: trial = {trial} is outside 0..{self.batch_size - 1}")
        if not programs:
            return []
        for ops in programs:
            check_schedule(schedule(ops, self.timing, self.time_ms), self.n, self.m, self.timing, self.time_ms)
            self._check_kinds(ops)
        size = len(programs)
        if size not in self._query_simulations:  # building is the slow part for big n: keep one per size
            self._query_simulations[size] = self._build(size)
        twin = CA3Memory.__new__(CA3Memory)
        twin.__dict__.update(self.__dict__)
        twin.batch_size = size
        twin.simulation = self._query_simulations[size]
        copy_trial_state(self.simulation, twin.simulation, trial, self.plastic_projections)
        twin._tick_offset = self.tick - twin.simulation.tick
        return [answers[0] for answers in twin.execute(programs)]

    # -- state ------------------------------------------------------------------------------

    def weights(self) -> dict[str, np.ndarray]:
        """Plastic weights (nA): ``cue_to_content`` (B, n, m) and, for the CAM, ``content_to_cue`` (B, m, n)."""
        b = self.batch_size
        if self.architecture != "cam":
            return {"cue_to_content": self.simulation.get_weights(hippocampus.PLASTIC).reshape(b, self.n, self.m)}
        return {
            "cue_to_content": self.simulation.get_weights(CUE_TO_CONTENT).reshape(b, self.n, self.m),
            "content_to_cue": self.simulation.get_weights(CONTENT_TO_CUE).reshape(b, self.m, self.n),
        }

    def contents(self, trial: int = 0) -> dict[int, tuple[int, ...]]:
        """The associations the weights hold (every direction >= half of w_max): address -> bits."""
        trial = checks.count("contents", "trial", trial, minimum=0)
        if trial >= self.batch_size:
            raise ValidationError(f"contents: trial = {trial} is outside 0..{self.batch_size - 1}")
        w = self.weights()
        level = STORED_FRACTION * self.params.w_max
        held = w["cue_to_content"][trial] >= level
        if "content_to_cue" in w:
            held &= w["content_to_cue"][trial].T >= level
        return {a: tuple(np.flatnonzero(row).tolist()) for a, row in enumerate(held) if row.any()}

    def structure(self) -> Structure:
        """Neurons, synapses and plastic synapses of one memory (and of its test harness)."""
        if self.architecture == "cam":
            return structure(self.n, self.m)
        return hippocampus.structure_of(self.network)

    def reset(self) -> None:
        """Forget everything: back to t = 0 and zero weights."""
        self.simulation.reset()
        self._tick_offset = 0

    def save(self, path: str | Path) -> Path:
        """Write the memory (sizes, parameters, state) as one ``.npz`` file, atomically; returns its path."""
        return storage.save(self, path)

    @classmethod
    def load(cls, path: str | Path, device: str = "cpu", **options: object) -> CA3Memory:
        """Read what :meth:`save` wrote (no pickle; every entry checked); the memory continues where it stopped.

        Files of earlier versions (``x.json`` beside ``x.npz``) are read too.
        """
        return storage.load(cls, path, device, **options)

    # -- helpers ----------------------------------------------------------------------------

    def _per_trial(self, value: int | Sequence[int], name: str) -> list[int]:
        if isinstance(value, (int, np.integer)) and not isinstance(value, bool):
            return [int(value)] * self.batch_size
        if isinstance(value, (str, bytes, bool)) or not isinstance(value, Iterable):
            raise ValidationError(f"CA3Memory: {name} = {value!r} must be an integer or one integer per memory")
        values = list(value)
        if len(values) != self.batch_size:
            raise ValidationError(f"CA3Memory: got {len(values)} values of {name} for {self.batch_size} memories")
        return values

    def _contents_per_trial(self, value: Iterable[int] | Sequence[Iterable[int]], name: str) -> list[tuple[int, ...]]:
        if isinstance(value, (str, bytes)) or not isinstance(value, Iterable):
            raise ValidationError(
                f"CA3Memory: {name} = {value!r} must be a list of bit indices or one such list per memory"
            )
        items = list(value)
        if items and all(isinstance(item, Iterable) and not isinstance(item, (str, bytes)) for item in items):
            if len(items) != self.batch_size:
                raise ValidationError(f"CA3Memory: got {len(items)} bit lists for {self.batch_size} memories")
            return [tuple(item) for item in items]  # type: ignore[arg-type]
        return [tuple(items)] * self.batch_size  # type: ignore[arg-type]
