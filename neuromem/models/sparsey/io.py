"""Save and load learned Sparsey layers and hierarchies as one file each (:mod:`neuromem.fileformat`).

``save_layer(layer, "run/mac")`` writes ``run/mac.npz`` atomically: a reader
sees the old layer or the new one, never a mix. The header (schema
``neuromem.sparsey``, type ``MacLayer`` or ``Hierarchy``) holds the
parameters; the arrays are the binary weights, frozen flags, counters, the
learning generator's state and, for a single layer, its receptive fields (a
hierarchy rebuilds them from its geometry). Loading checks, before anything
is built or changed: every parameter's type and range (through the same
constructors that check user input), every array's exact shape and dtype
kind, that weights are 0/1 and only where the receptive field allows, that
frozen flags are booleans and counters are >= 0, that the generator state is
one, and that the sizes fit in memory. Every problem raises
:class:`~neuromem.errors.FileFormatError` naming the file, the entry and what
is allowed. Learning resumes after a load exactly as it would have without
the save.

Files of the first layout (``mac.json`` beside ``mac.npz``) are not read.

Example
-------
>>> save_layer(layer, tmp_path / "mac")                 # doctest: +SKIP
>>> same = load_layer(tmp_path / "mac")                  # doctest: +SKIP
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import torch

from neuromem import fileformat
from neuromem.errors import FileFormatError, ValidationError
from neuromem.models.sparsey.afferent import Afferent
from neuromem.models.sparsey.hierarchy import Hierarchy
from neuromem.models.sparsey.layer import MacLayer
from neuromem.models.sparsey.params import CSAParams, LevelParams

__all__ = ["SCHEMA", "SCHEMA_VERSION", "load_hierarchy", "load_layer", "save_hierarchy", "save_layer"]

SCHEMA = "neuromem.sparsey"
#: 1 was a JSON + .npz pair (not read); 2 is one file.
SCHEMA_VERSION = 2
LAYER_KEYS = {"name", "Q", "K", "replicas", "seed", "band", "csa", "afferents", "generator_device"}
SIGNAL_KEYS = ("U", "H", "D")


# ------------------------------------------------------------------------------------------------ saving
def _state_arrays(layer: MacLayer, prefix: str) -> dict[str, np.ndarray]:
    """Learned state: counters, generator, weights (uint8 0/1) and frozen flags (bool)."""
    arrays = {
        f"{prefix}n_learned": layer.n_learned.cpu().numpy().astype(np.int64),
        f"{prefix}generator_state": layer.generator.get_state().cpu().numpy(),
    }
    for key in layer.afferents:
        arrays[f"{prefix}{key}/weights"] = layer.weights[key].cpu().numpy().astype(np.uint8)
        arrays[f"{prefix}{key}/frozen"] = layer.frozen[key].cpu().numpy().astype(bool)
    return arrays


def _write(path: str | os.PathLike[str], kind: str, meta: dict[str, object], arrays: dict[str, np.ndarray]) -> Path:
    target = fileformat.npz_path(path)
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise FileFormatError(f"cannot save {target}: {error.strerror or error}") from error
    return fileformat.save(target, schema=SCHEMA, version=SCHEMA_VERSION, type=kind, metadata=meta, arrays=arrays)


def save_layer(layer: MacLayer, path: str | os.PathLike[str]) -> Path:
    """Write ``<path>.npz`` (creating its folder): parameters, receptive fields and learned state."""
    if not isinstance(layer, MacLayer):
        raise ValidationError(f"save_layer: layer must be a MacLayer, got {type(layer).__name__}")
    meta: dict[str, object] = {
        "name": layer.name,
        "Q": layer.Q,
        "K": layer.K,
        "replicas": layer.replicas,
        "seed": layer.seed,
        "band": list(layer.band),
        "csa": layer.params.to_dict(),
        "afferents": {key: aff.to_meta() for key, aff in layer.afferents.items()},
        "generator_device": layer.generator.device.type,
    }
    arrays = _state_arrays(layer, "")
    for key, aff in layer.afferents.items():
        arrays[f"{key}/index"] = aff.index
        arrays[f"{key}/max_active"] = aff.max_active
    return _write(path, "MacLayer", meta, arrays)


def save_hierarchy(net: Hierarchy, path: str | os.PathLike[str]) -> Path:
    """Write ``<path>.npz``: geometry, per-level parameters and every level's learned state."""
    if not isinstance(net, Hierarchy):
        raise ValidationError(f"save_hierarchy: net must be a Hierarchy, got {type(net).__name__}")
    meta: dict[str, object] = {
        "input_shape": list(net.input_shape),
        "levels": [lv.to_dict() for lv in net.levels],
        "csa": [layer.params.to_dict() for layer in net.layers],
        "replicas": net.replicas,
        "seed": net.seed,
        "generator_devices": [layer.generator.device.type for layer in net.layers],
    }
    arrays: dict[str, np.ndarray] = {}
    for i, layer in enumerate(net.layers):
        arrays.update(_state_arrays(layer, f"L{i}/"))
    return _write(path, "Hierarchy", meta, arrays)


# ----------------------------------------------------------------------------------------------- loading
def _built(stored: fileformat.Stored, entry: str, make: object) -> object:
    """Call ``make()``; a ValidationError (a value the constructors refuse) becomes a FileFormatError."""
    try:
        return make()  # type: ignore[operator]
    except (ValidationError, TypeError, ValueError) as error:
        raise stored.error(entry, f"is invalid: {error}") from None


def _csa(stored: fileformat.Stored, entry: str, table: object) -> CSAParams:
    if not isinstance(table, dict):
        raise stored.error(entry, "is not a table of CSA parameters")
    return _built(stored, entry, lambda: CSAParams.from_dict(table))  # type: ignore[return-value]


def _afferents(stored: fileformat.Stored) -> dict[str, Afferent]:
    """Receptive fields of a single layer, every index checked against its source."""
    table = stored.table("afferents")
    if "U" not in table or not set(table) <= set(SIGNAL_KEYS):
        raise stored.error("afferents", f"has keys {sorted(table)}; allowed: U and optionally H, D")
    out: dict[str, Afferent] = {}
    n_macs = None
    for key in SIGNAL_KEYS:
        if key not in table:
            continue
        stored.require_keys(f"afferents.{key}", {"source_size", "same_level_cells"})
        size = stored.integer(f"afferents.{key}.source_size", minimum=1)
        cells = table[key]["same_level_cells"]  # type: ignore[index]
        if cells is not None and not (
            isinstance(cells, list) and len(cells) == 2 and all(isinstance(c, int) and c >= 1 for c in cells)
        ):
            raise stored.error(f"afferents.{key}.same_level_cells", f"is {cells!r}; allowed: null or [Q, K]")
        index = stored.array(f"{key}/index", shape=(n_macs, None), kinds="i", minimum=-1, maximum=size - 1)
        n_macs = index.shape[0]
        max_active = stored.array(f"{key}/max_active", shape=(n_macs,), kinds="fi", minimum=0.0)
        out[key] = _built(  # type: ignore[assignment]
            stored,
            f"{key}/index",
            lambda index=index, size=size, max_active=max_active, cells=cells: Afferent(
                index, size, max_active, None if cells is None else (cells[0], cells[1])
            ),
        )
    return out


def _load_state(stored: fileformat.Stored, layer: MacLayer, prefix: str, device_type: str) -> dict[str, object]:
    """Every learned array of ``layer`` from the file, checked against the layer; nothing assigned yet."""
    R, M, C = layer.replicas, layer.n_macs, layer.Q * layer.K
    state: dict[str, object] = {}
    for key, aff in layer.afferents.items():
        name = f"{prefix}{key}/weights"
        W = stored.array(name, shape=(R, M, aff.width, C), kinds="bui", minimum=0, maximum=1)
        allowed = layer._allowed[key].cpu().numpy().astype(bool)
        if np.any(W.astype(bool) & ~allowed[None]):
            raise stored.error(name, "sets weights its receptive field does not allow (padding or own-CM cells)")
        frozen = stored.array(f"{prefix}{key}/frozen", shape=(R, M, aff.width), kinds="b")
        state[f"W{key}"] = torch.tensor(W.astype(np.float32), device=layer.device)
        state[f"F{key}"] = torch.tensor(frozen, device=layer.device)
    n_learned = stored.array(f"{prefix}n_learned", shape=(R,), kinds="i", minimum=0)
    state["n_learned"] = torch.tensor(n_learned.astype(np.int64), device=layer.device)
    raw = stored.array(f"{prefix}generator_state", shape=(None,), kinds="u", maximum=255)
    if device_type == layer.generator.device.type:
        generator = torch.tensor(raw.astype(np.uint8))
        try:
            torch.Generator(device=layer.generator.device).set_state(generator)
        except (RuntimeError, ValueError) as error:
            raise stored.error(f"{prefix}generator_state", f"is not a generator state ({error})") from None
        state["generator"] = generator
    return state


def _assign(layer: MacLayer, state: dict[str, object]) -> None:
    for key in layer.afferents:
        layer.weights[key] = state[f"W{key}"]  # type: ignore[assignment]
        layer.frozen[key] = state[f"F{key}"]  # type: ignore[assignment]
    layer.n_learned = state["n_learned"]  # type: ignore[assignment]
    if "generator" in state:
        layer.generator.set_state(state["generator"])  # type: ignore[arg-type]


def _used(layer: MacLayer, prefix: str) -> set[str]:
    names = {f"{prefix}n_learned", f"{prefix}generator_state"}
    for key in layer.afferents:
        names |= {f"{prefix}{key}/weights", f"{prefix}{key}/frozen"}
    return names


def _weights_budget(stored: fileformat.Stored, entry: str, shape: tuple[int, ...]) -> None:
    """Refuse (before building) a layer whose float32 weights would not fit in memory."""
    fileformat.check_size(stored.path, entry, shape, 4)


def load_layer(path: str | os.PathLike[str], device: str | torch.device = "cpu") -> MacLayer:
    """Rebuild a layer saved by :func:`save_layer`; FileFormatError for anything that does not fit."""
    stored = fileformat.read(path, schema=SCHEMA, version=SCHEMA_VERSION, types=("MacLayer",))
    stored.require_keys("", LAYER_KEYS)
    Q = stored.integer("Q", minimum=1)
    K = stored.integer("K", minimum=1)
    replicas = stored.integer("replicas", minimum=1)
    seed = stored.integer("seed", minimum=0)
    name = stored.string("name")
    band = stored.sequence("band")
    if len(band) != 2 or not all(isinstance(b, (int, float)) and not isinstance(b, bool) for b in band):
        raise stored.error("band", f"is {band!r}; allowed: [pi_lo, pi_hi], two numbers")
    params = _csa(stored, "csa", stored.table("csa"))
    device_type = stored.string("generator_device", allowed=("cpu", "cuda"))
    afferents = _afferents(stored)
    for key, aff in afferents.items():
        _weights_budget(stored, f"{key}/index", (replicas, aff.n_macs, aff.width, Q * K))
    layer: MacLayer = _built(  # type: ignore[assignment]
        stored,
        "metadata",
        lambda: MacLayer(
            Q,
            K,
            afferents["U"],
            h=afferents.get("H"),
            d=afferents.get("D"),
            params=params,
            band=(float(band[0]), float(band[1])),  # type: ignore[arg-type]
            replicas=replicas,
            device=device,
            seed=seed,
            name=name,
        ),
    )
    state = _load_state(stored, layer, "", device_type)
    stored.unused_arrays(_used(layer, "") | {f"{key}/{part}" for key in afferents for part in ("index", "max_active")})
    _assign(layer, state)
    return layer


def load_hierarchy(path: str | os.PathLike[str], device: str | torch.device = "cpu") -> Hierarchy:
    """Rebuild a hierarchy saved by :func:`save_hierarchy`; FileFormatError for anything that does not fit."""
    stored = fileformat.read(path, schema=SCHEMA, version=SCHEMA_VERSION, types=("Hierarchy",))
    stored.require_keys("", {"input_shape", "levels", "csa", "replicas", "seed", "generator_devices"})
    shape = stored.sequence("input_shape")
    if len(shape) not in (2, 3) or not all(isinstance(n, int) and not isinstance(n, bool) and n >= 1 for n in shape):
        raise stored.error("input_shape", f"is {shape!r}; allowed: [rows, cols] or [rows, cols, channels], >= 1")
    tables = stored.sequence("levels")
    levels = [
        _built(stored, f"levels[{i}]", lambda t=t: LevelParams.from_dict(t) if isinstance(t, dict) else None)
        for i, t in enumerate(tables)
    ]
    if not levels or any(lv is None for lv in levels):
        raise stored.error("levels", "must be a non-empty list of level tables")
    csa = stored.sequence("csa")
    if len(csa) != len(levels):
        raise stored.error("csa", f"has {len(csa)} entries for {len(levels)} levels; allowed: one per level")
    params = [_csa(stored, f"csa[{i}]", table) for i, table in enumerate(csa)]
    devices = stored.sequence("generator_devices")
    if len(devices) != len(levels) or not all(d in ("cpu", "cuda") for d in devices):
        raise stored.error("generator_devices", f"is {devices!r}; allowed: 'cpu' or 'cuda', one per level")
    replicas = stored.integer("replicas", minimum=1)
    seed = stored.integer("seed", minimum=0)
    net: Hierarchy = _built(  # type: ignore[assignment]
        stored,
        "levels",
        lambda: Hierarchy(tuple(shape), levels, params, replicas=replicas, device=device, seed=seed),  # type: ignore[arg-type]
    )
    states = [_load_state(stored, layer, f"L{i}/", str(devices[i])) for i, layer in enumerate(net.layers)]
    stored.unused_arrays(set().union(*(_used(layer, f"L{i}/") for i, layer in enumerate(net.layers))))
    for layer, state in zip(net.layers, states, strict=True):
        _assign(layer, state)
    net.reset()
    return net
