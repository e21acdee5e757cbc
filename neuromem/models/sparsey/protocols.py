"""Measurement protocols of spec ``sparsey.md`` section 4 (P1 to P3), shared by experiments and tests.

Each protocol builds fresh seeded layers, runs R independent replicas in one
batched pass, and returns plain numbers.

Example
-------
>>> from neuromem.models.sparsey.params import CSAParams
>>> out = familiarity_protocol(CSAParams(), Q=8, K=4, n_inputs=100, n_active=10, n_items=10)
>>> out["G_stored_min"]
1.0
"""

from __future__ import annotations

import numpy as np
import torch

from neuromem.models.sparsey.analysis import code_overlap, move_bits, random_patterns, spearman
from neuromem.models.sparsey.layer import MacLayer
from neuromem.models.sparsey.params import CSAParams


def _patterns(replicas: int, n: int, n_inputs: int, n_active: int, gen: torch.Generator) -> torch.Tensor:
    return torch.stack([random_patterns(n, n_inputs, n_active, gen) for _ in range(replicas)])


def sisc_protocol(
    params: CSAParams,
    Q: int = 20,
    K: int = 10,
    n_inputs: int = 400,
    n_active: int = 20,
    n_prototypes: int = 50,
    n_variants: int = 4,
    step: int = 2,
    replicas: int = 3,
    seed: int = 0,
    device: str = "cpu",
) -> dict[str, object]:
    """P1: store prototypes once; code overlap of assign-mode codes of variants against input overlap.

    Variants move m = 0, step, ..., s of a prototype's s active bits, so the
    input overlap is (s - m)/s. Returns Spearman rho, binned mean code
    overlaps, and the max-V code overlap of exact repeats.
    """
    gen = torch.Generator().manual_seed(seed)
    layer = MacLayer.single(n_inputs, Q, K, params=params, replicas=replicas, seed=seed + 1, device=device)
    protos = _patterns(replicas, n_prototypes, n_inputs, n_active, gen)
    codes = torch.stack([layer.learn(protos[:, i]).code[:, 0] for i in range(n_prototypes)], dim=1).cpu()
    xs, ys = [], []
    levels = list(range(0, n_active + 1, step))
    for m in levels:
        variants = torch.stack(
            [
                torch.stack([move_bits(protos[r, i], m, gen) for i in range(n_prototypes) for _ in range(n_variants)])
                for r in range(replicas)
            ]
        )
        got = layer.assign(variants).code[:, :, 0].cpu().view(replicas, n_prototypes, n_variants, Q)
        overlap = code_overlap(got, codes[:, :, None]).flatten().numpy()
        xs.append(np.full(overlap.size, (n_active - m) / n_active))
        ys.append(overlap)
    x, y = np.concatenate(xs), np.concatenate(ys)
    input_levels = sorted(set(x.tolist()))
    repeat = layer.recognise(protos).code[:, :, 0].cpu()
    return {
        "spearman": spearman(x, y),
        "input_overlap": input_levels,
        "code_overlap_mean": [float(y[x == v].mean()) for v in input_levels],
        "code_overlap_sd": [float(y[x == v].std()) for v in input_levels],
        "chance": 1.0 / K,
        "repeat_overlap_maxv": float(code_overlap(repeat, codes).mean()),
    }


def familiarity_protocol(
    params: CSAParams,
    Q: int = 20,
    K: int = 10,
    n_inputs: int = 400,
    n_active: int = 20,
    n_items: int = 125,
    checkpoints: tuple[int, ...] | None = None,
    n_novel: int = 100,
    replicas: int = 2,
    seed: int = 0,
) -> dict[str, object]:
    """P2: G of stored items after one presentation, G of novel items, weights unchanged by recognition."""
    gen = torch.Generator().manual_seed(seed)
    layer = MacLayer.single(n_inputs, Q, K, params=params, replicas=replicas, seed=seed + 1)
    items = _patterns(replicas, n_items, n_inputs, n_active, gen)
    novel = _patterns(replicas, n_novel, n_inputs, n_active, gen)
    checkpoints = checkpoints or (n_items,)
    out: dict[str, list[float]] = {"M": [], "G_stored": [], "G_novel": [], "exact_recall": []}
    codes = []
    unchanged = True
    for i in range(n_items):
        codes.append(layer.learn(items[:, i]).code[:, 0])
        if i + 1 in checkpoints:
            before = layer.weight_checksum()
            stored = layer.recognise(items[:, : i + 1])
            fresh = layer.recognise(novel)
            unchanged &= layer.weight_checksum() == before
            exact = (stored.code[:, :, 0] == torch.stack(codes, 1)).all(dim=-1)
            out["M"].append(i + 1)
            out["G_stored"].append(float(stored.G.mean()))
            out["G_novel"].append(float(fresh.G.mean()))
            out["exact_recall"].append(float(exact.float().mean()))
    return {
        **out,
        "G_stored_min": float(layer.recognise(items).G.min()),
        "recognition_changed_no_weight": bool(unchanged),
    }


def capacity_curve(
    params: CSAParams,
    Q: int,
    K: int,
    n_inputs: int,
    n_active: int,
    ms: list[int],
    replicas: int = 2,
    seed: int = 0,
    device: str = "cpu",
) -> dict[str, list[float]]:
    """P3: exact-recall fraction of all stored items against the number M stored.

    A recalled code counts as exact when the max-V code equals the code
    chosen at learning in every CM.
    """
    gen = torch.Generator().manual_seed(seed)
    layer = MacLayer.single(n_inputs, Q, K, params=params, replicas=replicas, seed=seed + 1, device=device)
    items = _patterns(replicas, max(ms), n_inputs, n_active, gen)
    codes: list[torch.Tensor] = []
    recall, g_novel = [], []
    novel = _patterns(replicas, 50, n_inputs, n_active, gen)
    for i in range(max(ms)):
        codes.append(layer.learn(items[:, i]).code[:, 0])
        if i + 1 in ms:
            got = layer.recognise(items[:, : i + 1]).code[:, :, 0]
            recall.append(float((got == torch.stack(codes, 1)).all(dim=-1).float().mean()))
            g_novel.append(float(layer.recognise(novel).G.mean()))
    return {"M": list(ms), "exact_recall": recall, "G_novel": g_novel}
