"""Loaders of the recorded SpiNNaker runs in the shared folder (``data/ca3_spinnaker/``).

The CAM runs ``cam_exp1..3`` hold every spike of the ten recorded populations
(``CueCue .. MergeCont``, ``OUTcue``, ``OUTcont``); the sibling runs
``sib_run1..4`` hold the DG-CA3-CA1 model's spikes, of which ``CA3cont`` is the
CA3 core replayed here. Files: ``<run>_spikes.csv`` (population, neuron, tick),
``<run>_inputs.csv`` (line, tick), ``<run>_protocol.json`` (sizes, simTime,
operations). The recordings ship with the package
(:func:`neuromem.resources.resource_path`).

Example
-------
>>> run = load_run("cam_exp1")            # doctest: +SKIP
>>> run.n, run.m, run.spike_count()       # doctest: +SKIP
(5, 10, 262)
"""

from __future__ import annotations

import csv
import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from neuromem.errors import FileFormatError, ValidationError
from neuromem.models.ca3.protocol import Operation
from neuromem.models.ca3.timing import LEGACY_KINDS
from neuromem.resources import resource_path
from neuromem.spec import SpikeSourceArray

CAM_RUNS = ("cam_exp1", "cam_exp2", "cam_exp3")
SIBLING_RUNS = ("sib_run1", "sib_run2", "sib_run3", "sib_run4")
#: Recorded populations of the CAM runs, in table order.
CAM_POPULATIONS = (
    "CueCue", "ContCue", "ContCond", "ContCondInt", "CueCont", "ContCont", "MergeCue", "MergeCont", "OUTcue", "OUTcont",
)  # fmt: skip


def data_folder() -> Path:
    """The folder of the recorded runs (bundled with the package); raises FileFormatError if missing."""
    return resource_path("ca3_spinnaker")


@dataclass(frozen=True)
class RecordedRun:
    """One recorded SpiNNaker run.

    Attributes
    ----------
    name : str
        ``cam_exp1`` .. ``sib_run4``.
    n, m : int
        Addresses and content bits.
    sim_time : int
        Length of the run (ms = ticks).
    operations : tuple of Operation
        The operations, with ``address`` the one-hot address (for sibling runs
        the CA3cue neuron ``k - 1`` of binary address k).
    input_line, input_tick : arrays
        The input schedule (line, tick) of ``IN``.
    spikes : dict
        Population -> set of (neuron, tick).
    cue_lines : int
        Input lines before the content lines (n one-hot lines for the CAM,
        the binary address lines for the sibling model).
    """

    name: str
    n: int
    m: int
    sim_time: int
    operations: tuple[Operation, ...]
    input_line: np.ndarray
    input_tick: np.ndarray
    spikes: dict[str, set[tuple[int, int]]]
    cue_lines: int

    def spike_count(self, populations: tuple[str, ...] | None = None) -> int:
        """Number of recorded spikes (of ``populations``, default all)."""
        names = populations if populations is not None else tuple(self.spikes)
        return sum(len(self.spikes.get(name, ())) for name in names)

    def inputs(self, first_line: int = 0, lines: int | None = None, dt: float = 1.0) -> SpikeSourceArray:
        """Input spikes of lines ``first_line ..`` as a SpikeSourceArray (times in ms)."""
        size = int(self.input_line.max()) + 1 - first_line if lines is None else lines
        keep = (self.input_line >= first_line) & (self.input_line < first_line + size)
        return SpikeSourceArray(size, self.input_line[keep] - first_line, self.input_tick[keep] * dt)


def load_run(name: str, folder: str | Path | None = None) -> RecordedRun:
    """Read recorded run ``name`` (one of :data:`CAM_RUNS`, :data:`SIBLING_RUNS`)."""
    if name not in CAM_RUNS + SIBLING_RUNS:
        raise ValidationError(f"load_run: unknown run {name!r}; known: {', '.join(CAM_RUNS + SIBLING_RUNS)}")
    base = Path(folder) if folder is not None else data_folder()
    try:
        protocol = json.loads((base / f"{name}_protocol.json").read_text())
        spike_rows = _rows(base / f"{name}_spikes.csv", ("population", "neuron", "tick"))
        input_rows = _rows(base / f"{name}_inputs.csv", ("line", "tick"))
        spikes: dict[str, set[tuple[int, int]]] = {}
        for population, neuron, tick in spike_rows:
            spikes.setdefault(population, set()).add((int(neuron), int(tick)))
        sibling = name in SIBLING_RUNS
        operations = tuple(
            Operation(
                # The protocol files keep the recordings' names (write, recall_cue, recall_content).
                kind=LEGACY_KINDS.get(op["kind"], op["kind"]),
                t0=int(op["t0"]),
                address=op.get("cue_neuron") if sibling else op["cue"],
                content=tuple(op["content"]),
            )
            for op in protocol["operations"]
        )
        lines = np.array([int(r[0]) for r in input_rows], dtype=np.int64)
        ticks = np.array([int(r[1]) for r in input_rows], dtype=np.int64)
        return RecordedRun(
            name,
            int(protocol["n"]),
            int(protocol["m"]),
            int(protocol["simTime"]),
            operations,
            lines,
            ticks,
            spikes,
            int(protocol["cue_lines"]) if sibling else int(protocol["n"]),
        )
    except FileNotFoundError as error:
        raise FileFormatError(f"recorded run {name!r}: missing file {error.filename}") from None
    except (KeyError, ValueError, TypeError, json.JSONDecodeError) as error:
        raise FileFormatError(f"recorded run {name!r} is malformed: {error}") from None


def _rows(path: Path, header: tuple[str, ...]) -> list[list[str]]:
    with path.open(newline="") as file:
        reader = csv.reader(file)
        first = tuple(next(reader, ()))
        if first != header:
            raise FileFormatError(f"{path}: header {first} differs from the expected {header}")
        return [row for row in reader if row]


@dataclass(frozen=True)
class Comparison:
    """Spike-by-spike comparison of a replay with a recorded run.

    Attributes
    ----------
    recorded, simulated, matched : int
        Spike counts (matched = recorded and simulated at the same tick).
    extra, missing : dict
        Population -> sorted (neuron, tick) only simulated / only recorded.
    """

    recorded: int
    simulated: int
    matched: int
    extra: dict[str, list[tuple[int, int]]]
    missing: dict[str, list[tuple[int, int]]]

    @property
    def exact(self) -> bool:
        """Every recorded spike at its tick, nothing else."""
        return self.matched == self.recorded == self.simulated


def compare(run: RecordedRun, simulated: dict[str, set[tuple[int, int]]]) -> Comparison:
    """Compare ``simulated`` spikes (population -> set of (neuron, tick)) with ``run`` over its populations."""
    populations = sorted(set(run.spikes) & set(simulated)) if run.name in SIBLING_RUNS else CAM_POPULATIONS
    extra, missing = {}, {}
    matched = recorded = count = 0
    for name in populations:
        gold, got = run.spikes.get(name, set()), simulated.get(name, set())
        matched += len(gold & got)
        recorded += len(gold)
        count += len(got)
        if got - gold:
            extra[name] = sorted(got - gold, key=lambda s: (s[1], s[0]))
        if gold - got:
            missing[name] = sorted(gold - got, key=lambda s: (s[1], s[0]))
    return Comparison(recorded, count, matched, extra, missing)
