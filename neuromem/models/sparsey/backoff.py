"""The recognition backoff chain: reduced-evidence retries down to U alone.

In recognition, a mac first judges the input with all the evidence it has
(U, and H and D when given). When the input is unfamiliar in that context, the
chain retries with less evidence (spec ``sparsey.md`` sections 1.2 step 4 and
1.5): the levels of :attr:`CSAParams.backoff` are tried in order; within a
level every combination whose signal types were all given this frame is
evaluated, the one of largest familiarity G is the level's candidate, and the
first level whose candidate reaches that level's threshold (``backoff_g``)
decides the mac's code and G. A mac where no level reaches its threshold keeps
the full-evidence result. With an empty chain recognition always uses the full
evidence.

Why it matters: a learned frame met in an unlearned temporal context (a
skipped or repeated frame) has low U-and-H familiarity, so full-evidence
max-V picks cells that fit neither; the U-only retry recovers a code the frame
was stored with. The price is that order information no longer lowers G for
familiar frames (spec section 1.5).

Example
-------
>>> import torch
>>> from neuromem.models.sparsey.params import CSAParams
>>> p = CSAParams(backoff=("UH", "U"), backoff_g=(0.9, 0.9))
>>> parts = {"U": torch.zeros(1, 1, 1, 2, 2), "H": torch.full((1, 1, 1, 2, 2), -3.0)}
>>> log_v, G, level = choose(parts, p)
>>> level.tolist(), G.tolist()
([[[1]]], [[[1.0]]])
"""

from __future__ import annotations

import torch

from neuromem.models.sparsey.csa import familiarity
from neuromem.models.sparsey.params import CSAParams

#: Level index reported for macs decided by the full evidence (no level reached its threshold, or no chain).
FULL_EVIDENCE = -1


def chain_levels(params: CSAParams, given: set[str]) -> list[tuple[list[frozenset[str]], float]]:
    """The chain as (usable combinations, threshold) per level, for the signal types ``given`` this frame."""
    out = []
    for level, threshold in zip(params.backoff, params.backoff_g, strict=True):
        combos = [frozenset(c) for c in level.split() if set(c) <= given]
        out.append((combos, float(threshold)))
    return out


def choose(parts: dict[str, torch.Tensor], params: CSAParams) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Pick each mac's evidence by the backoff chain.

    Parameters
    ----------
    parts : dict of str to Tensor
        lam_X log X per signal type given this frame, shape (..., M, Q, K)
        (0 where a cell has no afferent of that type, i.e. a factor 1).
    params : CSAParams
        Supplies the chain and its thresholds.

    Returns
    -------
    log_v : Tensor (..., M, Q, K)
        Log support of the chosen evidence per mac.
    G : Tensor (..., M)
        Familiarity under the chosen evidence.
    level : Tensor int64 (..., M)
        Index of the deciding chain level, :data:`FULL_EVIDENCE` where none decided.
    """
    full = sum(parts.values())  # type: ignore[arg-type]
    log_v: torch.Tensor = full  # type: ignore[assignment]
    G = familiarity(log_v)
    level = torch.full(G.shape, FULL_EVIDENCE, dtype=torch.int64, device=G.device)
    decided = torch.zeros(G.shape, dtype=torch.bool, device=G.device)
    for index, (combos, threshold) in enumerate(chain_levels(params, set(parts))):
        if not combos:
            continue
        candidates = [sum(parts[t] for t in sorted(c)) for c in combos]
        g_all = torch.stack([familiarity(c) for c in candidates])
        best_g, best = g_all.max(dim=0)
        best_v = torch.stack(candidates).gather(0, best[None, ..., None, None].expand(1, *candidates[0].shape))[0]
        take = (best_g >= threshold) & ~decided
        log_v = torch.where(take[..., None, None], best_v, log_v)
        G = torch.where(take, best_g, G)
        level = torch.where(take, torch.full_like(level, index), level)
        decided |= take
    return log_v, G, level
