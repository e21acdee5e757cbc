"""``CA3Memory``: the CA3 content-addressable memory as an object with store and recall.

Each call encodes its operation into input spikes (3-tick hold for writes),
runs the spiking network until the answer has left ``OUT`` and decodes it
(:mod:`neuromem.models.ca3.protocol`). The memory is batched: B independent
memories advance in one pass (one operation each per call), and
:meth:`CA3Memory.recall_many_by_address` / :meth:`~CA3Memory.recall_many_by_content`
run Q queries against one learned state in one pass without changing it.
Storing a new content at an occupied address forgets the old content in
both directions (rule R*, spec ``ca3.md`` section 1.5.4).

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

import json
from collections.abc import Iterable, Sequence
from pathlib import Path

import numpy as np
import torch

from neuromem.backends import build
from neuromem.backends.base import Simulation
from neuromem.errors import FileFormatError, ValidationError
from neuromem.models.ca3.network import CONTENT_TO_CUE, CUE_TO_CONTENT, build_network
from neuromem.models.ca3.params import CA3Params, load_params
from neuromem.models.ca3.protocol import ANSWER_SPAN, Answer, Operation, check_schedule, decode, encode, place
from neuromem.record import Recording
from neuromem.spec import checks
from neuromem.spec.io import atomic_write, read_npz

SCHEMA = "neuromem.ca3_memory"
VERSION = 1
#: A stored association counts as present when its weight is at least this fraction of w_max.
STORED_FRACTION = 0.5


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
        Parameter set or its name (``models/ca3_<name>.toml``); default ``"spinnaker"``.
    record_all : bool
        Record the spikes of every population (for rasters), not only ``OUT``.
    **options
        Further backend options (torch: ``propagation``, default ``"event"``).
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
        **options: object,
    ) -> None:
        self.n = checks.count("CA3Memory", "n", n)
        self.m = checks.count("CA3Memory", "m", m)
        self.batch_size = checks.count("CA3Memory", "batch_size", batch_size)
        self.params = load_params(params) if isinstance(params, str) else (params or load_params())
        self.backend, self.device, self.dtype = backend, device, dtype
        self.options = dict(options)
        self.record_all = record_all
        self.network = build_network(self.n, self.m, self.params, probes=None if record_all else ("OUT",))
        self.simulation = self._build(self.batch_size)
        self.last_recording: Recording | None = None
        self._query_simulations: dict[int, Simulation] = {}

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
        """Ticks simulated so far (time = tick * dt)."""
        return self.simulation.tick

    # -- operations ----------------------------------------------------------------------

    def store(self, address: int | Sequence[int], content: Iterable[int] | Sequence[Iterable[int]]) -> list[Answer]:
        """Write ``content`` (bit indices) at ``address``, one per memory of the batch.

        ``address`` is one int for every memory or one per memory; ``content``
        one bit list for every memory or one list per memory. Returns one
        :class:`Answer` per memory (the echo and the forgotten bits).
        """
        addresses = self._per_trial(address, "address")
        contents = self._contents_per_trial(content)
        return [a[0] for a in self.execute([[Operation.write(x, c)] for x, c in zip(addresses, contents, strict=True)])]

    def recall_by_address(self, address: int | Sequence[int]) -> list[Answer]:
        """Read the content stored at ``address`` (one per memory); ``Answer.content`` holds it."""
        addresses = self._per_trial(address, "address")
        return [a[0] for a in self.execute([[Operation.recall_cue(x)] for x in addresses])]

    def recall_by_content(self, fragment: Iterable[int] | Sequence[Iterable[int]]) -> list[Answer]:
        """Every address whose content shares a bit with ``fragment``; ``Answer.addresses`` holds them."""
        fragments = self._contents_per_trial(fragment)
        return [a[0] for a in self.execute([[Operation.recall_content(f)] for f in fragments])]

    def execute(self, programs: Sequence[Operation] | Sequence[Sequence[Operation]]) -> list[list[Answer]]:
        """Run a list of operations (the same for every memory, or one list per memory) in one pass.

        Operations without ``t0`` start as early as the spacing allows; given
        ``t0`` are absolute ticks and must not lie in the past. Everything is
        checked before anything runs, so a bad operation changes nothing.
        Returns one list of answers per memory.
        """
        if len(programs) and isinstance(programs[0], Operation):
            programs = [list(programs)] * self.batch_size  # type: ignore[list-item]
        if len(programs) != self.batch_size:
            raise ValidationError(f"execute: got {len(programs)} operation lists for {self.batch_size} memories")
        p = self.params
        scheduled = []
        for program in programs:
            ops = place(program, self.tick, p.spacing_after_write_ms, p.spacing_after_recall_ms, p.dt_ms)  # type: ignore[arg-type]
            check_schedule(ops, self.n, self.m, p.spacing_after_write_ms, p.spacing_after_recall_ms, p.dt_ms, self.tick)
            scheduled.append(ops)
        end = max((op.t0 + ANSWER_SPAN[op.kind] for ops in scheduled for op in ops), default=self.tick)  # type: ignore[operator]
        inputs = [encode(ops, self.n, self.m, p.write_hold_ticks, p.dt_ms) for ops in scheduled]
        recording = self.simulation.run((end - self.tick) * p.dt_ms, inputs={"IN": inputs})
        self.last_recording = recording
        out = recording.spikes_of("OUT")
        return [decode(ops, out, self.n, trial) for trial, ops in enumerate(scheduled)]

    def wait(self, duration_ms: float) -> None:
        """Let ``duration_ms`` pass without input (every memory of the batch), e.g. to space operations further."""
        steps = self.simulation.duration_steps(duration_ms)
        if steps:
            self.last_recording = self.simulation.run(steps * self.params.dt_ms)

    def recall_many_by_address(self, addresses: Sequence[int], trial: int = 0) -> list[Answer]:
        """Q recalls by address against memory ``trial``, in one batched pass; the memory is unchanged."""
        return self._queries([[Operation.recall_cue(a)] for a in addresses], trial)

    def recall_many_by_content(self, fragments: Sequence[Iterable[int]], trial: int = 0) -> list[Answer]:
        """Q recalls by content against memory ``trial``, in one batched pass; the memory is unchanged."""
        return self._queries([[Operation.recall_content(f)] for f in fragments], trial)

    def _queries(self, programs: list[list[Operation]], trial: int) -> list[Answer]:
        if not programs:
            return []
        if not 0 <= trial < self.batch_size:
            raise ValidationError(f"recall_many: trial = {trial} is outside 0..{self.batch_size - 1}")
        for ops in programs:
            check_schedule(place(ops, self.tick), self.n, self.m, start=self.tick)
        size = len(programs)
        if size not in self._query_simulations:  # building is the slow part for big n: keep one per size
            self._query_simulations[size] = self._build(size)
        twin = CA3Memory.__new__(CA3Memory)
        twin.__dict__.update(self.__dict__)
        twin.batch_size = size
        twin.simulation = self._query_simulations[size]
        _copy_state(self.simulation, twin.simulation, trial)
        return [answers[0] for answers in twin.execute(programs)]

    # -- state ------------------------------------------------------------------------------

    def weights(self) -> dict[str, np.ndarray]:
        """Plastic weights (nA): ``cue_to_content`` (B, n, m) and ``content_to_cue`` (B, m, n)."""
        b = self.batch_size
        return {
            "cue_to_content": self.simulation.get_weights(CUE_TO_CONTENT).reshape(b, self.n, self.m),
            "content_to_cue": self.simulation.get_weights(CONTENT_TO_CUE).reshape(b, self.m, self.n),
        }

    def contents(self, trial: int = 0) -> dict[int, tuple[int, ...]]:
        """The associations the weights hold (both directions >= half of w_max): address -> bits."""
        w = self.weights()
        level = STORED_FRACTION * self.params.rule.w_max
        both = (w["cue_to_content"][trial] >= level) & (w["content_to_cue"][trial].T >= level)
        return {a: tuple(np.flatnonzero(row).tolist()) for a, row in enumerate(both) if row.any()}

    def reset(self) -> None:
        """Forget everything: back to t = 0 and zero weights."""
        self.simulation.reset()

    def save(self, path: str | Path) -> Path:
        """Write ``<path>.json`` (sizes, parameters) and ``<path>.npz`` (state), atomically; returns the JSON path."""
        json_path = Path(path).with_suffix(".json")
        if not json_path.parent.is_dir():
            raise FileFormatError(f"cannot save to {json_path}: folder {json_path.parent} does not exist")
        if hasattr(self.simulation, "state_dict"):
            arrays = {k: v.numpy() for k, v in self.simulation.state_dict().items()}
        else:
            arrays = {"weight." + CUE_TO_CONTENT: self.simulation.get_weights(CUE_TO_CONTENT)}
            arrays["weight." + CONTENT_TO_CUE] = self.simulation.get_weights(CONTENT_TO_CUE)
        header = {
            "schema": SCHEMA,
            "version": VERSION,
            "n": self.n,
            "m": self.m,
            "batch_size": self.batch_size,
            "backend": self.backend,
            "dtype": self.dtype,
            "tick": self.tick,
            "params": self.params.to_dict(),
            "arrays": sorted(arrays),
        }
        atomic_write(json_path.with_suffix(".npz"), lambda f: np.savez(f, **arrays))
        atomic_write(json_path, lambda f: f.write(json.dumps(header, indent=1).encode()))
        return json_path

    @classmethod
    def load(cls, path: str | Path, device: str = "cpu", **options: object) -> CA3Memory:
        """Read what :meth:`save` wrote (no pickle); the memory continues where it stopped."""
        json_path = Path(path).with_suffix(".json")
        try:
            header = json.loads(json_path.read_text())
        except FileNotFoundError:
            raise FileFormatError(f"no such file: {json_path}") from None
        except (OSError, UnicodeDecodeError, json.JSONDecodeError) as error:
            raise FileFormatError(f"{json_path} is not valid JSON: {error}") from None
        if not isinstance(header, dict) or header.get("schema") != SCHEMA:
            raise FileFormatError(f"{json_path} is not a saved CA3 memory (schema {SCHEMA!r} expected)")
        if not isinstance(header.get("version"), int) or header["version"] > VERSION:
            raise FileFormatError(
                f"{json_path}: schema version {header.get('version')!r}; this neuromem reads up to {VERSION}"
            )
        arrays = read_npz(json_path.with_suffix(".npz"))
        try:
            params = CA3Params.from_dict(header["params"], str(json_path))
            memory = cls(
                header["n"],
                header["m"],
                header["backend"],
                header["batch_size"],
                device,
                header["dtype"],
                params,
                **options,
            )
            if set(arrays) != set(header["arrays"]):
                raise FileFormatError(f"{json_path}: the .npz does not hold the arrays the JSON lists")
            if hasattr(memory.simulation, "load_state_dict") and "tick" in arrays:
                memory.simulation.load_state_dict({k: torch.from_numpy(v) for k, v in arrays.items()})
            else:
                for name in (CUE_TO_CONTENT, CONTENT_TO_CUE):
                    memory.simulation.set_weights(name, arrays["weight." + name])
        except (KeyError, TypeError, ValidationError) as error:
            raise FileFormatError(f"{json_path} is not a valid saved CA3 memory: {error}") from None
        return memory

    # -- helpers ----------------------------------------------------------------------------

    def _per_trial(self, value: int | Sequence[int], name: str) -> list[int]:
        if isinstance(value, (int, np.integer)) and not isinstance(value, bool):
            return [int(value)] * self.batch_size
        if not isinstance(value, Iterable):
            raise ValidationError(f"CA3Memory: {name} = {value!r} must be an integer or one integer per memory")
        values = list(value)
        if len(values) != self.batch_size:
            raise ValidationError(f"CA3Memory: got {len(values)} values of {name} for {self.batch_size} memories")
        return values

    def _contents_per_trial(self, value: Iterable[int] | Sequence[Iterable[int]]) -> list[tuple[int, ...]]:
        items = list(value)
        if items and all(isinstance(item, Iterable) and not isinstance(item, str) for item in items):
            if len(items) != self.batch_size:
                raise ValidationError(f"CA3Memory: got {len(items)} bit lists for {self.batch_size} memories")
            return [tuple(item) for item in items]  # type: ignore[arg-type]
        return [tuple(items)] * self.batch_size  # type: ignore[arg-type]


def _copy_state(source: Simulation, target: Simulation, trial: int) -> None:
    """Put trial ``trial`` of ``source`` into every trial of ``target`` (same network)."""
    if not hasattr(source, "state_dict"):
        for name in (CUE_TO_CONTENT, CONTENT_TO_CUE):
            target.set_weights(name, source.get_weights(name)[trial])
        return
    state = source.state_dict()
    copies = target.state_dict()
    for key, value in state.items():
        if key == "tick":
            copies[key] = value
            continue
        dim = 1 if key == "buffer" or key.endswith(".history") else 0
        row = value.select(dim, trial).unsqueeze(dim)
        copies[key] = row.expand_as(copies[key]).clone()
    target.load_state_dict(copies)
