"""Save and load learned Sparsey layers and hierarchies.

A save writes two files next to each other: ``<stem>.json`` (type name,
schema version, parameters, scalar metadata) and ``<stem>.npz`` (weights,
frozen flags, receptive fields, counters). Both are written to a temporary
file in the same folder and moved into place with :func:`os.replace`, so a
crash never leaves a half-written file under the final name. Arrays are read
with ``allow_pickle=False``. A missing, corrupt, unknown-type or newer-schema
file raises :class:`neuromem.errors.FileFormatError`.

Example
-------
>>> layer = MacLayer.single(8, 2, 2)                    # doctest: +SKIP
>>> save_layer(layer, "run/mac")                         # doctest: +SKIP
>>> same = load_layer("run/mac")                         # doctest: +SKIP
"""

from __future__ import annotations

import json
import os
import zipfile
from pathlib import Path

import numpy as np
import torch

from neuromem.errors import FileFormatError, NeuromemError
from neuromem.models.sparsey.afferent import Afferent
from neuromem.models.sparsey.hierarchy import Hierarchy
from neuromem.models.sparsey.layer import MacLayer
from neuromem.models.sparsey.params import CSAParams, LevelParams
from neuromem.spec.io import atomic_write

SCHEMA_VERSION = 1
LAYER_TYPE = "sparsey.MacLayer"


def _paths(path: str | os.PathLike[str]) -> tuple[Path, Path]:
    stem = Path(path)
    if stem.suffix in (".json", ".npz"):
        stem = stem.with_suffix("")
    return stem.with_suffix(".json"), stem.with_suffix(".npz")


def _atomic_write(target: Path, write: object) -> None:
    """Write through a temporary file in ``target``'s folder, then rename (creates the folder)."""
    target.parent.mkdir(parents=True, exist_ok=True)
    atomic_write(target, write)


def layer_payload(layer: MacLayer, prefix: str = "") -> tuple[dict[str, object], dict[str, np.ndarray]]:
    """JSON metadata and arrays describing ``layer`` completely (arrays keyed by ``prefix``)."""
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
    arrays: dict[str, np.ndarray] = {f"{prefix}n_learned": layer.n_learned.cpu().numpy()}
    arrays[f"{prefix}generator_state"] = layer.generator.get_state().cpu().numpy()
    for key, aff in layer.afferents.items():
        arrays.update(aff.to_arrays(f"{prefix}{key}"))
        # Weights are binary: uint8 keeps files 4x smaller than float32.
        arrays[f"{prefix}{key}_weights"] = layer.weights[key].cpu().numpy().astype(np.uint8)
        arrays[f"{prefix}{key}_frozen"] = layer.frozen[key].cpu().numpy()
    return meta, arrays


def layer_from_payload(
    meta: dict[str, object], arrays: dict[str, np.ndarray], prefix: str = "", device: str | torch.device = "cpu"
) -> MacLayer:
    """Inverse of :func:`layer_payload`."""
    affs = meta["afferents"]
    built = {key: Afferent.from_saved(arrays, f"{prefix}{key}", affs[key]) for key in affs}  # type: ignore[index,union-attr]
    layer = MacLayer(
        int(meta["Q"]),  # type: ignore[arg-type]
        int(meta["K"]),  # type: ignore[arg-type]
        built["U"],
        h=built.get("H"),
        d=built.get("D"),
        params=CSAParams.from_dict(meta["csa"]),  # type: ignore[arg-type]
        band=tuple(meta["band"]),  # type: ignore[arg-type]
        replicas=int(meta["replicas"]),  # type: ignore[arg-type]
        device=device,
        seed=int(meta["seed"]),  # type: ignore[arg-type]
        name=str(meta["name"]),
    )
    for key in built:
        W = arrays[f"{prefix}{key}_weights"]
        frozen = arrays[f"{prefix}{key}_frozen"]
        if W.shape != tuple(layer.weights[key].shape) or frozen.shape != tuple(layer.frozen[key].shape):
            raise FileFormatError(
                f"Sparsey layer '{layer.name}': {key} arrays have shape {W.shape}; expected "
                f"{tuple(layer.weights[key].shape)}"
            )
        if not np.isin(W, (0, 1)).all():
            raise FileFormatError(f"Sparsey layer '{layer.name}': {key} weights are not binary")
        layer.weights[key] = torch.tensor(W, dtype=torch.float32, device=layer.device)
        layer.frozen[key] = torch.tensor(frozen.astype(bool), device=layer.device)
    layer.n_learned = torch.tensor(arrays[f"{prefix}n_learned"], dtype=torch.int64, device=layer.device)
    if meta.get("generator_device") == layer.generator.device.type:
        layer.generator.set_state(torch.tensor(arrays[f"{prefix}generator_state"], dtype=torch.uint8))
    return layer


def write_files(
    path: str | os.PathLike[str], type_name: str, meta: dict[str, object], arrays: dict[str, np.ndarray]
) -> None:
    """Write ``<stem>.npz`` then ``<stem>.json``, each atomically."""
    json_path, npz_path = _paths(path)
    _atomic_write(npz_path, lambda handle: np.savez_compressed(handle, **arrays))
    doc = {"type": type_name, "schema_version": SCHEMA_VERSION, **meta}
    text = json.dumps(doc, indent=2, sort_keys=True).encode()
    _atomic_write(json_path, lambda handle: handle.write(text))


def read_files(path: str | os.PathLike[str], type_name: str) -> tuple[dict[str, object], dict[str, np.ndarray]]:
    """Read and check ``<stem>.json`` and ``<stem>.npz``; raise FileFormatError when unusable."""
    json_path, npz_path = _paths(path)
    for p in (json_path, npz_path):
        if not p.is_file():
            raise FileFormatError(f"Sparsey file {str(p)!r} is missing")
    try:
        doc = json.loads(json_path.read_text())
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise FileFormatError(f"Sparsey file {str(json_path)!r} is not valid JSON: {exc}") from None
    if not isinstance(doc, dict) or doc.get("type") != type_name:
        found = doc.get("type") if isinstance(doc, dict) else type(doc).__name__
        raise FileFormatError(f"Sparsey file {str(json_path)!r}: type {found!r}; expected {type_name!r}")
    version = doc.get("schema_version")
    if not isinstance(version, int) or version < 1 or version > SCHEMA_VERSION:
        raise FileFormatError(
            f"Sparsey file {str(json_path)!r}: schema_version {version!r}; this version reads 1..{SCHEMA_VERSION}"
        )
    try:
        with np.load(npz_path, allow_pickle=False) as data:
            arrays = {key: data[key] for key in data.files}
    except (OSError, ValueError, zipfile.BadZipFile, EOFError) as exc:
        raise FileFormatError(f"Sparsey file {str(npz_path)!r} is not a readable .npz: {exc}") from None
    return doc, arrays


def save_layer(layer: MacLayer, path: str | os.PathLike[str]) -> None:
    """Save a layer (weights, frozen flags, parameters) to ``<path>.json`` + ``<path>.npz``."""
    meta, arrays = layer_payload(layer)
    write_files(path, LAYER_TYPE, meta, arrays)


def load_layer(path: str | os.PathLike[str], device: str | torch.device = "cpu") -> MacLayer:
    """Load a layer written by :func:`save_layer`."""
    doc, arrays = read_files(path, LAYER_TYPE)
    try:
        return layer_from_payload(doc, arrays, device=device)
    except FileFormatError:
        raise
    except (KeyError, TypeError, ValueError, IndexError, NeuromemError) as exc:
        raise FileFormatError(f"Sparsey file {str(path)!r} has missing or invalid content: {exc!r}") from None


HIERARCHY_TYPE = "sparsey.Hierarchy"


def save_hierarchy(net: Hierarchy, path: str | os.PathLike[str]) -> None:
    """Save a hierarchy (geometry, parameters, every level's weights and frozen flags)."""
    meta: dict[str, object] = {
        "input_shape": list(net.input_shape),
        "levels": [lv.to_dict() for lv in net.levels],
        "replicas": net.replicas,
        "seed": net.seed,
        "layers": [],
    }
    arrays: dict[str, np.ndarray] = {}
    for i, layer in enumerate(net.layers):
        layer_meta, layer_arrays = layer_payload(layer, prefix=f"L{i}_")
        meta["layers"].append(layer_meta)  # type: ignore[union-attr]
        arrays.update(layer_arrays)
    write_files(path, HIERARCHY_TYPE, meta, arrays)


def load_hierarchy(path: str | os.PathLike[str], device: str | torch.device = "cpu") -> Hierarchy:
    """Load a hierarchy written by :func:`save_hierarchy`."""
    doc, arrays = read_files(path, HIERARCHY_TYPE)
    try:
        levels = [LevelParams.from_dict(lv) for lv in doc["levels"]]  # type: ignore[union-attr]
        layers = [layer_from_payload(m, arrays, prefix=f"L{i}_", device=device) for i, m in enumerate(doc["layers"])]  # type: ignore[arg-type]
        net = Hierarchy(
            tuple(doc["input_shape"]),  # type: ignore[arg-type]
            levels,
            [layer.params for layer in layers],
            replicas=int(doc["replicas"]),  # type: ignore[arg-type]
            device=device,
            seed=int(doc["seed"]),  # type: ignore[arg-type]
        )
    except FileFormatError:
        raise
    except (KeyError, TypeError, ValueError, IndexError, NeuromemError) as exc:
        raise FileFormatError(f"Sparsey file {str(path)!r} has missing or invalid content: {exc!r}") from None
    net.layers = layers
    net.reset()
    return net
