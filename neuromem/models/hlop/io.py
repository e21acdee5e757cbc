"""Save and load a trained continual learner as one file (:mod:`neuromem.fileformat`).

``save_learner(learner, "run/hlop")`` writes ``run/hlop.npz`` atomically: a
reader sees the old learner or the new one, never a mix. Its header (schema
``neuromem.hlop``) holds the learner's type name (a registry key), its
configurations and the task -> head map; its arrays are the network weights,
lateral weights, SVD bases, EWC Fisher and anchors and the shuffling
generator's state. Loading checks every configuration field's type, every
array's exact shape (nothing is broadcast), that values are finite, and that
nothing unknown is in the file, before the learner is built. Training
resumes after a load: the next ``train_task`` behaves as it would have
without the save.

Files of the first layout (``hlop.json`` beside ``hlop.npz``) are not read.

Example
-------
>>> save_learner(learner, tmp_path / "hlop")  # doctest: +SKIP
>>> again = load_learner(tmp_path / "hlop")  # doctest: +SKIP
"""

from __future__ import annotations

import dataclasses
import os
from dataclasses import asdict
from pathlib import Path

import numpy as np
import torch

from neuromem import fileformat
from neuromem.errors import FileFormatError, ValidationError
from neuromem.models.hlop.baselines import EWCLearner, MultitaskLearner, SVDProjectionLearner
from neuromem.models.hlop.learner import ContinualLearner, FineTuneLearner, TrainConfig
from neuromem.models.hlop.network import NetworkConfig
from neuromem.models.hlop.projection import HLOPConfig, HLOPLearner

__all__ = ["SCHEMA", "SCHEMA_VERSION", "load_learner", "save_learner"]

SCHEMA = "neuromem.hlop"
#: 1 was a JSON + .npz pair (not read); 2 is one file.
SCHEMA_VERSION = 2

_REGISTRY: dict[str, type[ContinualLearner]] = {
    cls.__name__: cls for cls in (FineTuneLearner, EWCLearner, SVDProjectionLearner, HLOPLearner, MultitaskLearner)
}


def save_learner(learner: ContinualLearner, path: str | os.PathLike[str]) -> Path:
    """Write ``<path>.npz`` (creating its folder); returns the path written."""
    if type(learner).__name__ not in _REGISTRY:
        raise ValidationError(f"save_learner: cannot save a {type(learner).__name__}; allowed: {sorted(_REGISTRY)}")
    target = fileformat.npz_path(path)
    arrays: dict[str, np.ndarray] = {f"net/{k}": v.detach().cpu().numpy() for k, v in learner.net.named_parameters()}
    arrays["generator"] = learner.generator.get_state().numpy()
    meta: dict[str, object] = {
        "network": asdict(learner.network_config),
        "train": asdict(learner.train_config),
        "task_heads": {str(k): v for k, v in learner.task_heads.items()},
        "tasks_trained": list(learner.tasks_trained),
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
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise FileFormatError(f"cannot save {target}: {error.strerror or error}") from error
    return fileformat.save(
        target, schema=SCHEMA, version=SCHEMA_VERSION, type=type(learner).__name__, metadata=meta, arrays=arrays
    )


def _config(stored: fileformat.Stored, key: str, cls: type) -> object:
    """A configuration dataclass from metadata ``key``: exact keys, every value of its field's type."""
    fields = {f.name: str(f.type) for f in dataclasses.fields(cls)}
    table = stored.require_keys(key, set(fields))
    values: dict[str, object] = {}
    for name, annotation in fields.items():
        where = f"{key}.{name}"
        value = table[name]
        if annotation == "tuple[int, ...]":
            if not isinstance(value, list) or not all(isinstance(v, int) and not isinstance(v, bool) for v in value):
                raise stored.error(where, f"is {value!r}; allowed: a list of integers")
            values[name] = tuple(value)
        elif annotation == "int | None":
            values[name] = None if value is None else stored.integer(where, minimum=None)
        elif annotation == "int":
            values[name] = stored.integer(where, minimum=None)
        elif annotation == "float":
            values[name] = stored.number(where)
        elif annotation == "str":
            values[name] = stored.string(where)
        else:  # a field type this reader does not know: refuse rather than guess
            raise stored.error(where, f"has a type {annotation} this reader cannot check")
    try:
        return cls(**values)
    except (ValidationError, TypeError, ValueError) as error:
        raise stored.error(key, f"is invalid: {error}") from error


def _tensor(stored: fileformat.Stored, name: str, like: torch.Tensor, used: set[str], **checks: object) -> torch.Tensor:
    array = stored.array(name, shape=tuple(like.shape), kinds="f", **checks)  # type: ignore[arg-type]
    used.add(name)
    return torch.from_numpy(np.array(array, dtype=np.float32 if like.dtype == torch.float32 else array.dtype))


def load_learner(path: str | os.PathLike[str], device: str = "cpu") -> ContinualLearner:
    """Rebuild a learner saved by :func:`save_learner`, ready to evaluate or train on.

    Raises
    ------
    FileFormatError
        Missing, corrupt, foreign or newer file, or any value that does not fit
        the learner it describes; nothing is half-built.
    """
    stored = fileformat.read(path, schema=SCHEMA, version=SCHEMA_VERSION, types=tuple(_REGISTRY))
    cls = _REGISTRY[stored.type]
    extra = {
        HLOPLearner: {"hlop", "n_fixed"},
        SVDProjectionLearner: {"hlop"},
        EWCLearner: {"ewc"},
    }.get(cls, set())  # type: ignore[call-overload]
    stored.require_keys("", {"network", "train", "task_heads", "tasks_trained"} | extra)
    network = _config(stored, "network", NetworkConfig)
    fileformat.check_size(stored.path, "network", (network.parameter_count(),), 4)  # type: ignore[attr-defined]
    train = _config(stored, "train", TrainConfig)
    if cls is HLOPLearner or cls is SVDProjectionLearner:
        hlop = _config(stored, "hlop", HLOPConfig)
        learner: ContinualLearner = cls(network, train, hlop, device)  # type: ignore[call-arg]
    elif cls is EWCLearner:
        stored.require_keys("ewc", {"lambda", "samples"})
        learner = EWCLearner(
            network,  # type: ignore[arg-type]
            train,  # type: ignore[arg-type]
            stored.number("ewc.lambda", minimum=0.0),
            stored.integer("ewc.samples", minimum=1),
            device,
        )
    else:
        learner = cls(network, train, device)  # type: ignore[arg-type]
    used: set[str] = set()
    params = {n: _tensor(stored, f"net/{n}", p, used, finite=True) for n, p in learner.net.named_parameters()}
    state = learner.generator.get_state()
    generator = torch.from_numpy(np.array(stored.array("generator", shape=tuple(state.shape), kinds="u"), np.uint8))
    used.add("generator")
    try:
        torch.Generator().set_state(generator)
    except RuntimeError as error:
        raise stored.error("generator", f"is not a valid generator state ({error})") from None
    heads_table = stored.table("task_heads")
    n_heads = learner.network_config.n_heads
    task_heads = {}
    for key in heads_table:
        if not key.isdigit():
            raise stored.error(f"task_heads.{key}", "is not a task id; allowed: integers >= 0")
        task_heads[int(key)] = stored.integer(f"task_heads.{key}", minimum=0, maximum=n_heads - 1)
    trained = stored.sequence("tasks_trained")
    if not all(isinstance(t, int) and not isinstance(t, bool) and t in task_heads for t in trained):
        raise stored.error("tasks_trained", f"is {trained!r}; allowed: task ids of task_heads {sorted(task_heads)}")
    subspaces = {}
    if isinstance(learner, HLOPLearner):
        stored.require_keys("n_fixed", set(learner.subspaces))
        for name, sub in learner.subspaces.items():
            weight = stored.array(f"sub/{name}", shape=(None, sub.n_inputs), kinds="f")
            used.add(f"sub/{name}")
            n_fixed = stored.integer(f"n_fixed.{name}", minimum=0, maximum=weight.shape[0])
            subspaces[name] = (torch.from_numpy(np.array(weight, dtype=np.float32)), n_fixed)
    bases = {}
    if isinstance(learner, SVDProjectionLearner):
        for name, basis in learner.bases.items():
            array = stored.array(f"basis/{name}", shape=(None, basis.shape[1]), kinds="f")
            if array.shape[0] > basis.shape[1]:
                raise stored.error(f"basis/{name}", f"has {array.shape[0]} rows; allowed: at most {basis.shape[1]}")
            used.add(f"basis/{name}")
            bases[name] = torch.from_numpy(np.array(array, dtype=np.float32)).to(learner.device)
    fisher, anchor = {}, {}
    if isinstance(learner, EWCLearner):
        for name, p in learner.net.named_parameters():
            fisher[name] = _tensor(stored, f"fisher/{name}", p, used, finite=True, minimum=0.0).to(learner.device)
            anchor[name] = _tensor(stored, f"anchor/{name}", p, used, finite=True).to(learner.device)
    stored.unused_arrays(used)
    # Every value is checked: only now is the learner changed.
    with torch.no_grad():
        for name, param in learner.net.named_parameters():
            param.copy_(params[name])
    learner.generator.set_state(generator)
    learner.task_heads = task_heads
    learner.tasks_trained = [int(t) for t in trained]  # type: ignore[arg-type]
    for name, (weight, n_fixed) in subspaces.items():
        learner.subspaces[name].load_state(weight, n_fixed)  # type: ignore[attr-defined]
    if bases:
        learner.bases = bases  # type: ignore[attr-defined]
    if fisher:
        learner.fisher, learner.anchor = fisher, anchor  # type: ignore[attr-defined]
    return learner
