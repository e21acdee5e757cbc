"""The code selection algorithm (CSA) as small pure tensor functions.

One call per step of spec ``sparsey.md`` section 1.2; nothing here holds state
or touches a global random number generator. Shapes: ``...`` is any leading
batch (replicas, queries, macs); the last two axes are (Q, K).

Steps
-----
2. Normalised sums  X_i = x_i / (n_i w_max)   in [0, 1]   (:func:`normalised_sum`)
3. Local support    V_i = prod_X X_i^lam_X over available types (:func:`local_support`)
4. Familiarity      G = (1/Q) sum_q max_{i in q} V_i       (:func:`familiarity`)
5. Expansivity      eta = 1 + chi K max(0, (G - G^-)/(1 - G^-))^gamma  (:func:`expansivity`)
6. Selection weight mu_i = max(eta sigma(lam_sig (V_i - V_infl)), mu_min); mu_i = eta if V_i >= v_full
7. Per-CM normalise rho_i = mu_i / sum_{k in CM} mu_k        (:func:`selection_probabilities`)
8. Winner: sampled from rho (learn, assign) or max-V (recognise) with a tie rule.

Example
-------
>>> import torch
>>> V = torch.tensor([[[1.0, 0.0], [0.2, 0.1]]])  # one mac, Q=2, K=2
>>> round(familiarity(V).item(), 4)
0.6
>>> max_v_winners(V, "lowest").tolist()
[[0, 0]]
"""

from __future__ import annotations

import torch

from neuromem.models.sparsey.params import CSAParams


def normalised_sum(raw: torch.Tensor, n_active: torch.Tensor, w_max: float = 1.0) -> torch.Tensor:
    """Divide raw input sums by the most they could reach, ``n_active * w_max``.

    Cells with no active afferent get 0; the result lies in [0, 1].
    """
    return raw / (n_active.clamp(min=1.0) * w_max)


def local_support(
    terms: list[tuple[torch.Tensor, torch.Tensor, float]],
) -> torch.Tensor:
    """Combine normalised sums into V = prod_X X^lam_X.

    Parameters
    ----------
    terms : list of (X, available, exponent)
        ``X`` has shape (..., Q, K); ``available`` is a bool tensor that
        broadcasts against ``X`` and says where the signal type is present at
        all (at least one active afferent). Absent types are left out of the
        product, i.e. contribute a factor 1.
    """
    V = None
    for X, available, exponent in terms:
        factor = torch.where(available, X.clamp(0.0, 1.0).pow(exponent), torch.ones_like(X))
        V = factor if V is None else V * factor
    if V is None:
        raise ValueError("local_support needs at least one signal type")
    return V


def familiarity(V: torch.Tensor) -> torch.Tensor:
    """G = mean over CMs of the largest V in each CM; shape (...,)."""
    return V.amax(dim=-1).mean(dim=-1)


def expansivity(G: torch.Tensor, K: int, params: CSAParams) -> torch.Tensor:
    """eta = 1 + chi K r^gamma with r = max(0, (G - G^-)/(1 - G^-))."""
    r = ((G - params.g_floor) / (1.0 - params.g_floor)).clamp(min=0.0)
    return 1.0 + params.chi * K * r.pow(params.gamma)


def selection_weights(V: torch.Tensor, eta: torch.Tensor, params: CSAParams) -> torch.Tensor:
    """mu_i = max(eta sigma(lam_sig (V_i - V_infl)), mu_min), and mu_i = eta where V_i >= v_full.

    ``eta`` has the shape of ``V`` without its last two axes.
    """
    eta_b = eta[..., None, None]
    sig = torch.sigmoid(params.sig_lambda * (V - params.v_infl))
    mu = torch.clamp(eta_b * sig, min=params.mu_min)
    return torch.where(V >= params.v_full, eta_b.expand_as(V), mu)


def selection_probabilities(mu: torch.Tensor) -> torch.Tensor:
    """rho_i = mu_i / sum over the cell's CM of mu."""
    return mu / mu.sum(dim=-1, keepdim=True)


def sample_winners(rho: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
    """Draw one winner per CM from ``rho`` by inverse-CDF sampling.

    One uniform number per CM from ``generator``; returns int64 (..., Q).
    """
    u = torch.rand(rho.shape[:-1], generator=generator, device=rho.device, dtype=rho.dtype)
    cdf = rho.cumsum(dim=-1)
    winners = (cdf < u[..., None] * cdf[..., -1:]).sum(dim=-1)
    return winners.clamp(max=rho.shape[-1] - 1)


def max_v_winners(V: torch.Tensor, tie: str, generator: torch.Generator | None = None) -> torch.Tensor:
    """Cell of largest V in each CM; int64 (..., Q).

    ``tie="lowest"`` takes the lowest cell index among equal maxima
    (deterministic); ``tie="random"`` picks uniformly among them with
    ``generator``.
    """
    if tie == "lowest":
        return V.argmax(dim=-1)
    if generator is None:
        raise ValueError("tie='random' needs a generator")
    is_max = V >= V.amax(dim=-1, keepdim=True)
    noise = torch.rand(V.shape, generator=generator, device=V.device, dtype=V.dtype)
    return torch.where(is_max, noise + 1.0, torch.zeros_like(noise)).argmax(dim=-1)


def csa_winners(
    V: torch.Tensor,
    G: torch.Tensor,
    params: CSAParams,
    sample: torch.Tensor,
    generator: torch.Generator,
) -> torch.Tensor:
    """Steps 5 to 8: sampled winners where ``sample`` is True, max-V winners elsewhere.

    ``sample`` is a bool tensor of the shape of ``G``.
    """
    best = max_v_winners(V, params.tie, generator if params.tie == "random" else None)
    if not bool(sample.any()):
        # With the "lowest" tie rule, recognition (and frames where no mac may
        # learn) leave the generator untouched, so reading the memory never
        # changes what is learned next.
        return best
    K = V.shape[-1]
    eta = expansivity(G, K, params)
    rho = selection_probabilities(selection_weights(V, eta, params))
    sampled = sample_winners(rho, generator)
    return torch.where(sample[..., None], sampled, best)
