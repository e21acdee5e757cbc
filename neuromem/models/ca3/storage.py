"""Saving and loading a :class:`~neuromem.models.ca3.CA3Memory`: one ``.npz`` with a JSON header.

Written through :mod:`neuromem.fileformat` (schema ``neuromem.ca3_memory``,
version 2): the file appears atomically as a whole, so a crash leaves the old
memory or the new one. The header's metadata holds the sizes, backend,
dtype, tick and the whole parameter set; the arrays are the torch engine's
state (membranes, currents, refractory counters, input ring buffer, plastic
weights, traces and pre-spike history) or, for backends without a
checkpoint, the two plastic weight matrices.

Loading checks everything before a value is used: sizes are compared with
the memory budget before anything is allocated, every array must have the
exact shape the memory has (nothing is broadcast), be finite, and hold
values in range (weights in ``[w_min, w_max]``, non-negative currents,
traces and counters, a tick equal to the header's). Version 1 files
(``x.json`` beside ``x.npz``) are read with the same checks.

Example
-------
>>> mem = CA3Memory(4, 6); _ = mem.store(1, [2, 3])          # doctest: +SKIP
>>> path = mem.save("memory.npz")                            # doctest: +SKIP
>>> CA3Memory.load(path).recall_by_address(1)[0].content     # doctest: +SKIP
(2, 3)
"""

from __future__ import annotations

from os import PathLike
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import torch

from neuromem import fileformat
from neuromem.errors import FileFormatError, NeuromemError, ValidationError
from neuromem.models.ca3.network import check_size
from neuromem.models.ca3.params import CA3Params

if TYPE_CHECKING:
    from neuromem.models.ca3.memory import CA3Memory

SCHEMA = "neuromem.ca3_memory"
VERSION = 2
TYPE = "CA3Memory"
DTYPES = ("float32", "float64")
METADATA_KEYS = {"n", "m", "batch_size", "backend", "dtype", "tick", "params"}
#: Keys a file may hold beyond METADATA_KEYS (version 2 writes them; version 1 files lack them).
OPTIONAL_KEYS = frozenset({"architecture"})


def _path(path: object, what: str) -> Path:
    if not isinstance(path, (str, PathLike)):
        raise ValidationError(f"CA3Memory.{what}: path = {path!r} must be a str or a path")
    return Path(path)


def save(memory: CA3Memory, path: str | Path) -> Path:
    """Write ``memory`` to ``path`` (suffix ``.npz``); returns the path written."""
    path = _path(path, "save")
    simulation = memory.simulation
    if hasattr(simulation, "state_dict") and memory._tick_offset == 0:
        # The tick is in the metadata; the engine's other state goes in as arrays.
        arrays = {k: v.numpy() for k, v in simulation.state_dict().items() if k != "tick"}
    else:
        arrays = {f"weight.{name}": simulation.get_weights(name) for name in memory.plastic_projections}
    metadata = {
        "architecture": memory.architecture,
        "n": memory.n,
        "m": memory.m,
        "batch_size": memory.batch_size,
        "backend": memory.backend,
        "dtype": memory.dtype,
        "tick": memory.tick,
        "params": memory.params.to_dict(),
    }
    return fileformat.save(path, schema=SCHEMA, version=VERSION, type=TYPE, metadata=metadata, arrays=arrays)


def load(cls: type[CA3Memory], path: str | Path, device: str = "cpu", **options: object) -> CA3Memory:
    """Read a memory written by :func:`save` (or a version 1 pair); every entry is checked first."""
    stored = _read(_path(path, "load"))
    stored.require_keys("", METADATA_KEYS, OPTIONAL_KEYS)
    n = stored.integer("n", minimum=1)
    m = stored.integer("m", minimum=1)
    batch_size = stored.integer("batch_size", minimum=1)
    try:
        check_size(f"{stored.path}", n, m, batch_size)
    except ValidationError as error:
        raise FileFormatError(f"{stored.path}: the saved sizes cannot be loaded: {error}") from None
    backend = stored.string("backend")
    architecture = stored.string("architecture") if "architecture" in stored.metadata else "cam"
    dtype = stored.string("dtype", DTYPES)
    tick = stored.integer("tick", minimum=0)
    try:
        params = CA3Params.from_dict(stored.table("params"), f"{stored.path} params")
        memory = cls(n, m, backend, batch_size, device, dtype, params, architecture=architecture, **options)
    except NeuromemError as error:
        raise FileFormatError(f"{stored.path} is not a valid saved CA3 memory: {error}") from None
    simulation = memory.simulation
    w_min, w_max = params.rule.w_min, params.w_max
    if "neurons.v" in stored.arrays and hasattr(simulation, "load_state_dict"):
        expected = simulation.state_dict()
        state = {"tick": torch.tensor(tick, dtype=expected["tick"].dtype)}
        if "tick" in stored.arrays:  # version 1 kept the tick as an array too
            stored.array("tick", shape=(), kinds="iu", minimum=tick, maximum=tick)
        for key, like in expected.items():
            if key != "tick":
                state[key] = torch.from_numpy(_state_array(stored, key, like, w_min, w_max))
        stored.unused_arrays(set(expected))
        simulation.load_state_dict(state)
    else:
        names = {f"weight.{name}" for name in memory.plastic_projections}
        stored.unused_arrays(names)
        for name in memory.plastic_projections:
            shape = simulation.get_weights(name).shape
            weights = stored.array(f"weight.{name}", shape=shape, kinds="f", minimum=w_min, maximum=w_max)
            simulation.set_weights(name, weights)
        # The neurons start at rest and the traces empty; the timeline continues at the saved tick.
        memory._tick_offset = tick - simulation.tick
    return memory


def _state_array(stored: fileformat.Stored, key: str, like: torch.Tensor, w_min: float, w_max: float) -> np.ndarray:
    """State entry ``key``, checked against the shape, kind and range it has in the memory."""
    shape = tuple(like.shape)
    kinds = "f" if like.is_floating_point() else ("b" if like.dtype == torch.bool else "iub")
    if key.endswith(".weight"):
        bounds: tuple[float | None, float | None] = (w_min, w_max)
    elif key == "neurons.v":
        bounds = (None, None)
    else:
        # Currents, buffered input, traces, spike history and refractory counters are never negative.
        bounds = (0.0, None)
    array = stored.array(key, shape=shape, kinds=kinds, minimum=bounds[0], maximum=bounds[1])
    return array.astype(like.numpy().dtype, copy=False)


def _read(path: Path) -> fileformat.Stored:
    """The file of the current version, or the JSON + npz pair of version 1."""
    legacy = path.with_suffix(".json") if path.suffix in (".json", ".npz", "") else path.with_name(path.name + ".json")
    target = fileformat.npz_path(path)
    if path.suffix != ".json" and (target.exists() or not legacy.exists()):
        try:
            return fileformat.read(target, schema=SCHEMA, version=VERSION, types=(TYPE,))
        except FileFormatError:
            if not legacy.exists():
                raise
    return _read_version_1(legacy)


def _read_version_1(json_path: Path) -> fileformat.Stored:
    """``x.json`` (header) beside ``x.npz`` (state) as written by version 1."""
    header = fileformat.read_version_1_header(json_path, SCHEMA, "a saved CA3 memory", VERSION)
    arrays = fileformat.read_members(json_path.with_suffix(".npz"))
    metadata = {key: value for key, value in header.items() if key not in ("schema", "version", "arrays")}
    listed = header.get("arrays")
    if not isinstance(listed, list) or set(listed) != set(arrays):
        raise FileFormatError(f"{json_path}: the .npz does not hold exactly the arrays the JSON lists")
    return fileformat.Stored(json_path, SCHEMA, 1, TYPE, metadata, arrays)
