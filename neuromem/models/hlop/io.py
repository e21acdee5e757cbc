"""Save and load a trained continual learner: JSON (parameters) + ``.npz`` (arrays).

``save_learner(learner, "run/hlop")`` writes ``run/hlop.npz`` then
``run/hlop.json``, each to a temporary file renamed with :func:`os.replace`,
so a reader sees the old pair or the new one, never half a file. The JSON
holds the schema version, the learner's type name (a registry key), its
configuration and task -> head map; the ``.npz`` holds plain arrays only
(network weights, lateral weights, SVD bases, EWC Fisher and anchors, the
shuffling generator's state) and is read with ``allow_pickle=False``.
Training resumes after a load: the next ``train_task`` behaves as it would
have without the save.

Example
-------
>>> save_learner(learner, tmp_path / "hlop")  # doctest: +SKIP
>>> again = load_learner(tmp_path / "hlop")  # doctest: +SKIP
"""

from __future__ import annotations

import json
import os
import zipfile
from dataclasses import asdict
from pathlib import Path

import numpy as np
import torch

from neuromem.errors import FileFormatError
from neuromem.models.hlop.baselines import EWCLearner, MultitaskLearner, SVDProjectionLearner
from neuromem.models.hlop.learner import ContinualLearner, FineTuneLearner, TrainConfig
from neuromem.models.hlop.network import NetworkConfig
from neuromem.models.hlop.projection import HLOPConfig, HLOPLearner
from neuromem.spec.io import atomic_write

__all__ = ["SCHEMA_VERSION", "load_learner", "save_learner"]

SCHEMA_VERSION = 1

_REGISTRY: dict[str, type[ContinualLearner]] = {
    cls.__name__: cls for cls in (FineTuneLearner, EWCLearner, SVDProjectionLearner, HLOPLearner, MultitaskLearner)
}


def _paths(path: str | os.PathLike[str]) -> tuple[Path, Path]:
    p = Path(path)
    stem = p.with_suffix("") if p.suffix in (".json", ".npz") else p
    return stem.with_name(stem.name + ".json"), stem.with_name(stem.name + ".npz")


def _atomic_write(target: Path, write: object) -> None:
    """Write through a temporary file in ``target``'s folder, then rename (creates the folder)."""
    target.parent.mkdir(parents=True, exist_ok=True)
    atomic_write(target, write)


def save_learner(learner: ContinualLearner, path: str | os.PathLike[str]) -> Path:
    """Write ``<path>.npz`` and ``<path>.json``; returns the JSON path."""
    json_path, npz_path = _paths(path)
    arrays: dict[str, np.ndarray] = {f"net/{k}": v.detach().cpu().numpy() for k, v in learner.net.named_parameters()}
    arrays["generator"] = learner.generator.get_state().numpy()
    meta: dict[str, object] = {
        "schema_version": SCHEMA_VERSION,
        "type": type(learner).__name__,
        "network": asdict(learner.network_config),
        "train": asdict(learner.train_config),
        "task_heads": {str(k): v for k, v in learner.task_heads.items()},
        "tasks_trained": list(learner.tasks_trained),
        "arrays": npz_path.name,
    }
    if isinstance(learner, HLOPLearner | SVDProjectionLearner):
        hlop = learner.hlop_config if isinstance(learner, HLOPLearner) else learner.sizes
        meta["hlop"] = asdict(hlop)
    if isinstance(learner, HLOPLearner):
        meta["n_fixed"] = {n: s.n_fixed for n, s in learner.subspaces.items()}
        arrays.update({f"sub/{n}": s.weight.cpu().numpy() for n, s in learner.subspaces.items()})
    if isinstance(learner, SVDProjectionLearner):
        arrays.update({f"basis/{n}": b.cpu().numpy() for n, b in learner.bases.items()})
    if isinstance(learner, EWCLearner):
        meta["ewc"] = {"lambda": learner.ewc_lambda, "samples": learner.fisher_samples}
        arrays.update({f"fisher/{n}": f.cpu().numpy() for n, f in learner.fisher.items()})
        arrays.update({f"anchor/{n}": a.cpu().numpy() for n, a in learner.anchor.items()})
    _atomic_write(npz_path, lambda fh: np.savez(fh, **arrays))
    _atomic_write(json_path, lambda fh: fh.write(json.dumps(meta, indent=2).encode()))
    return json_path


def _read_meta(json_path: Path) -> dict[str, object]:
    if not json_path.is_file():
        raise FileFormatError(f"HLOP learner file '{json_path}': not found")
    try:
        meta = json.loads(json_path.read_text())
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise FileFormatError(f"HLOP learner file '{json_path}': not valid JSON ({exc})") from exc
    if not isinstance(meta, dict):
        raise FileFormatError(f"HLOP learner file '{json_path}': top level is not an object")
    version = meta.get("schema_version")
    if not isinstance(version, int) or version < 1:
        raise FileFormatError(f"HLOP learner file '{json_path}': schema_version {version!r} is missing or invalid")
    if version > SCHEMA_VERSION:
        raise FileFormatError(
            f"HLOP learner file '{json_path}': schema_version {version} is newer than this neuromem "
            f"reads ({SCHEMA_VERSION}); upgrade neuromem"
        )
    if meta.get("type") not in _REGISTRY:
        raise FileFormatError(
            f"HLOP learner file '{json_path}': type {meta.get('type')!r} is unknown; allowed: {sorted(_REGISTRY)}"
        )
    return meta


def load_learner(path: str | os.PathLike[str], device: str = "cpu") -> ContinualLearner:
    """Rebuild a learner saved by :func:`save_learner`, ready to evaluate or train on."""
    json_path, npz_path = _paths(path)
    meta = _read_meta(json_path)
    if not npz_path.is_file():
        raise FileFormatError(f"HLOP learner arrays '{npz_path}': not found (the JSON names it)")
    try:
        with np.load(npz_path, allow_pickle=False) as z:
            arrays = {k: z[k] for k in z.files}
    except (OSError, ValueError, EOFError, zipfile.BadZipFile) as exc:
        raise FileFormatError(f"HLOP learner arrays '{npz_path}': corrupt or not an .npz ({exc})") from exc
    try:
        network = NetworkConfig(**{k: tuple(v) if isinstance(v, list) else v for k, v in meta["network"].items()})
        train = TrainConfig(**meta["train"])
        cls = _REGISTRY[str(meta["type"])]
        if cls is HLOPLearner or cls is SVDProjectionLearner:
            hlop = HLOPConfig(**{k: tuple(v) if isinstance(v, list) else v for k, v in meta["hlop"].items()})
            learner: ContinualLearner = cls(network, train, hlop, device)  # type: ignore[call-arg]
        elif cls is EWCLearner:
            ewc = meta["ewc"]
            learner = EWCLearner(network, train, ewc["lambda"], ewc["samples"], device)
        else:
            learner = cls(network, train, device)
        with torch.no_grad():
            for name, param in learner.net.named_parameters():
                param.copy_(torch.from_numpy(arrays[f"net/{name}"]))
        learner.generator.set_state(torch.from_numpy(arrays["generator"]))
        learner.task_heads = {int(k): int(v) for k, v in meta["task_heads"].items()}
        learner.tasks_trained = [int(t) for t in meta["tasks_trained"]]
        if isinstance(learner, HLOPLearner):
            for name, sub in learner.subspaces.items():
                sub.load_state(torch.from_numpy(arrays[f"sub/{name}"]), int(meta["n_fixed"][name]))
        if isinstance(learner, SVDProjectionLearner):
            learner.bases = {n: torch.from_numpy(arrays[f"basis/{n}"]).to(learner.device) for n in learner.bases}
        if isinstance(learner, EWCLearner):
            learner.fisher = {n: torch.from_numpy(arrays[f"fisher/{n}"]).to(learner.device) for n in learner.fisher}
            learner.anchor = {n: torch.from_numpy(arrays[f"anchor/{n}"]).to(learner.device) for n in learner.anchor}
    except (KeyError, TypeError, ValueError, RuntimeError) as exc:
        raise FileFormatError(f"HLOP learner '{json_path}': content does not match its type ({exc!r})") from exc
    return learner
