"""Measurement protocols of spec ``sparsey.md`` section 4 (P1 to P5), shared by experiments and tests.

The experiment scripts import it as ``from sparsey_protocols import ...`` (their
folder is on their import path); the tests put this folder on theirs (``tests/conftest.py``).

Each protocol builds fresh seeded single-mac layers, runs R independent
replicas in one batched pass, and returns plain numbers.

- :func:`sisc_protocol` (P1): graded variants of stored random prototypes;
- :func:`chain_protocol` (P1/P5): drifting patterns learned in order (the
  case where a broad similarity kernel captures a whole chain in one code);
- :func:`familiarity_protocol` (P2): G of stored and novel items;
- :func:`corruption_protocol` (P2/P5): G and identification under moved
  (corrupted) or dropped (occluded) bits;
- :func:`capacity_curve` (P3): exact recall against the number stored.

Example
-------
>>> from neuromem.models.sparsey.params import CSAParams
>>> from sparsey_protocols import familiarity_protocol
>>> out = familiarity_protocol(CSAParams(), Q=8, K=4, n_inputs=100, n_active=10, n_items=10)
>>> out["G_stored_min"]
1.0
"""

from __future__ import annotations

import numpy as np
import torch

from neuromem.models.sparsey.analysis import (
    chain_overlap,
    code_overlap,
    drop_bits,
    graded_chain,
    move_bits,
    random_patterns,
    spearman,
)
from neuromem.models.sparsey.layer import MacLayer
from neuromem.models.sparsey.params import CSAParams


def _patterns(replicas: int, n: int, n_inputs: int, n_active: int, gen: torch.Generator) -> torch.Tensor:
    return torch.stack([random_patterns(n, n_inputs, n_active, gen) for _ in range(replicas)])


def _learn_all(layer: MacLayer, items: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Learn items (R, n, N) in order; stored codes (R, n, Q) and stored flags (R, n)."""
    codes, stored = [], []
    for i in range(items.shape[1]):
        res = layer.learn(items[:, i])
        codes.append(res.code[:, 0])
        stored.append(res.stored[:, 0])
    return torch.stack(codes, 1), torch.stack(stored, 1)


def identified(got: torch.Tensor, stored: torch.Tensor, truth: torch.Tensor) -> torch.Tensor:
    """Whether the stored code nearest to each recognised code is the true one, uniquely.

    ``got`` (R, B, Q) recognised codes; ``stored`` (R, n, Q) stored codes;
    ``truth`` (B,) index of the right stored code. A tie for the largest
    overlap counts as a failure. Returns bool (R, B).
    """
    overlap = (got[:, :, None, :] == stored[:, None, :, :]).sum(dim=-1)  # (R, B, n)
    own = overlap.gather(2, truth.view(1, -1, 1).expand(overlap.shape[0], -1, 1))[..., 0]
    others = overlap.scatter(2, truth.view(1, -1, 1).expand(overlap.shape[0], -1, 1), -1).amax(dim=-1)
    return own > others


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
    overlaps, and G and exactness of max-V recognition of the prototypes.
    """
    gen = torch.Generator().manual_seed(seed)
    layer = MacLayer.single(n_inputs, Q, K, params=params, replicas=replicas, seed=seed + 1, device=device)
    protos = _patterns(replicas, n_prototypes, n_inputs, n_active, gen)
    codes = _learn_all(layer, protos)[0].cpu()
    xs, ys = [], []
    for m in range(0, n_active + 1, step):
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
    repeat = layer.recognise(protos)
    return {
        "spearman": spearman(x, y),
        "input_overlap": input_levels,
        "code_overlap_mean": [float(y[x == v].mean()) for v in input_levels],
        "code_overlap_sd": [float(y[x == v].std()) for v in input_levels],
        "chance": 1.0 / K,
        "repeat_overlap_maxv": float(code_overlap(repeat.code[:, :, 0].cpu(), codes).mean()),
        "repeat_exact": float((repeat.code[:, :, 0].cpu() == codes).all(dim=-1).float().mean()),
        "repeat_G_min": float(repeat.G.min()),
    }


def chain_protocol(
    params: CSAParams,
    Q: int = 20,
    K: int = 10,
    n_inputs: int = 400,
    n_active: int = 12,
    n_chains: int = 4,
    replicas: int = 2,
    seed: int = 0,
    device: str = "cpu",
) -> dict[str, object]:
    """Graded drifting chains (2s + 1 items each, neighbours share s - 1 bits) learned in order.

    Reports, over item pairs within a chain: Spearman rho between input and
    stored-code overlap, the mean code overlap per input overlap, the mean for
    input-disjoint pairs (chance 1/K); and per item: whether max-V recognition
    gives G = 1 and the stored code exactly, and whether its nearest stored
    code (among all chains) is its own, uniquely.
    """
    gen = torch.Generator().manual_seed(seed)
    layer = MacLayer.single(n_inputs, Q, K, params=params, replicas=replicas, seed=seed + 1, device=device)
    chains = torch.stack(
        [torch.cat([graded_chain(n_inputs, n_active, gen) for _ in range(n_chains)]) for _ in range(replicas)]
    )
    codes = _learn_all(layer, chains)[0].cpu()
    L = 2 * n_active + 1
    inp = chain_overlap(n_active)
    upper = np.triu_indices(L, k=1)
    xs, ys = [], []
    for r in range(replicas):
        for c in range(n_chains):
            block = codes[r, c * L : (c + 1) * L]
            co = code_overlap(block[:, None], block[None, :]).numpy()
            xs.append(inp[upper])
            ys.append(co[upper])
    x, y = np.concatenate(xs), np.concatenate(ys)
    levels = sorted(set(x.tolist()))
    rec = layer.recognise(chains)
    got = rec.code[:, :, 0].cpu()
    truth = torch.arange(chains.shape[1])
    return {
        "spearman": spearman(x, y),
        "input_overlap": levels,
        "code_overlap_mean": [float(y[x == v].mean()) for v in levels],
        "disjoint_overlap": float(y[x == 0].mean()),
        "neighbour_overlap": float(y[x == levels[-1]].mean()),
        "chance": 1.0 / K,
        "stored_G_min": float(rec.G.min()),
        "stored_exact": float((got == codes).all(dim=-1).float().mean()),
        "best_match": float(identified(got, codes, truth).float().mean()),
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
    codes, stored = [], []
    unchanged = True
    for i in range(n_items):
        res = layer.learn(items[:, i])
        codes.append(res.code[:, 0])
        stored.append(res.stored[:, 0])
        if i + 1 in checkpoints:
            before = [w.clone() for w in layer.weights.values()]
            hit = layer.recognise(items[:, : i + 1])
            fresh = layer.recognise(novel)
            unchanged &= all(torch.equal(a, b) for a, b in zip(before, layer.weights.values(), strict=True))
            exact = (hit.code[:, :, 0] == torch.stack(codes, 1)).all(dim=-1) & torch.stack(stored, 1)
            out["M"].append(i + 1)
            out["G_stored"].append(float(hit.G.mean()))
            out["G_novel"].append(float(fresh.G.mean()))
            out["exact_recall"].append(float(exact.float().mean()))
    return {
        **out,
        "G_stored_min": float(layer.recognise(items).G.min()),
        "recognition_changed_no_weight": bool(unchanged),
    }


def corruption_protocol(
    params: CSAParams,
    Q: int = 20,
    K: int = 10,
    n_inputs: int = 400,
    n_active: int = 20,
    n_items: int = 50,
    fractions: tuple[float, ...] = (0.0, 0.2, 0.4, 0.5, 0.6, 0.7, 0.8),
    kind: str = "move",
    replicas: int = 2,
    seed: int = 0,
) -> dict[str, list[float]]:
    """G, identification and code overlap of stored items with a fraction of their active bits moved or dropped.

    ``kind="move"`` moves round(f s) active bits to inactive positions
    (corruption: the input keeps s active bits); ``kind="drop"`` switches them
    off (occlusion). Identification: the stored code nearest to the
    recognised code is the item's own, uniquely (chance 1/n_items).
    """
    if kind not in ("move", "drop"):
        raise ValueError(f"corruption_protocol: kind = {kind!r} is not 'move' or 'drop'")
    gen = torch.Generator().manual_seed(seed)
    layer = MacLayer.single(n_inputs, Q, K, params=params, replicas=replicas, seed=seed + 1)
    items = _patterns(replicas, n_items, n_inputs, n_active, gen)
    codes, stored = _learn_all(layer, items)
    change = move_bits if kind == "move" else drop_bits
    truth = torch.arange(n_items)
    out: dict[str, list[float]] = {"fraction": [], "G": [], "identified": [], "code_overlap": []}
    for f in fractions:
        m = int(round(f * n_active))
        probes = torch.stack(
            [torch.stack([change(items[r, i], m, gen) for i in range(n_items)]) for r in range(replicas)]
        )
        rec = layer.recognise(probes)
        got = rec.code[:, :, 0]
        out["fraction"].append(m / n_active)
        out["G"].append(float(rec.G.mean()))
        out["identified"].append(float((identified(got, codes, truth) & stored).float().mean()))
        out["code_overlap"].append(float(code_overlap(got, codes).mean()))
    return out


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
    """P3: exact-recall fraction of all items presented against the number M presented.

    An item counts as recalled when the mac stored it (``stored``: not
    refused by freezing) and the max-V code equals the code chosen at
    learning in every CM. Also reported: G of novel inputs, the fraction of
    items stored, and the fraction of frozen U bundles.
    """
    gen = torch.Generator().manual_seed(seed)
    layer = MacLayer.single(n_inputs, Q, K, params=params, replicas=replicas, seed=seed + 1, device=device)
    items = _patterns(replicas, max(ms), n_inputs, n_active, gen)
    novel = _patterns(replicas, 50, n_inputs, n_active, gen)
    codes: list[torch.Tensor] = []
    stored: list[torch.Tensor] = []
    out: dict[str, list[float]] = {"M": list(ms), "exact_recall": [], "G_novel": [], "stored": [], "frozen": []}
    for i in range(max(ms)):
        res = layer.learn(items[:, i])
        codes.append(res.code[:, 0])
        stored.append(res.stored[:, 0])
        if i + 1 in ms:
            got = layer.recognise(items[:, : i + 1]).code[:, :, 0]
            ok = (got == torch.stack(codes, 1)).all(dim=-1) & torch.stack(stored, 1)
            out["exact_recall"].append(float(ok.float().mean()))
            out["G_novel"].append(float(layer.recognise(novel).G.mean()))
            out["stored"].append(float(torch.stack(stored, 1).float().mean()))
            out["frozen"].append(float(layer.frozen["U"].float().mean()))
    return out
