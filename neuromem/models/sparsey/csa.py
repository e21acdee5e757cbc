"""The code selection algorithm (CSA) as small pure tensor functions.

One call per step of spec ``sparsey.md`` section 1.2; nothing here holds state
or touches a global random number generator. Shapes: ``...`` is any leading
batch (replicas, queries, macs); the last two axes are (Q, K).

Steps
-----
2. Normalised sums  X_i = x_i / (n_i w_max)   in [0, 1]   (:func:`normalised_sum`)
3. Local support    log V_i = sum_X lam_X log X_i over available types (:func:`log_support`)
4. Familiarity      G = (1/Q) sum_q max_{i in q} V_i       (:func:`familiarity`)
5. Expansivity      eta = 1 + chi K max(0, (G - G^-)/(1 - G^-))^gamma  (:func:`expansivity`)
6. Selection weight mu_i = max(eta sigma(lam_sig (V_i - V_infl)), mu_min); mu_i = eta if V_i >= v_full
7. Per-CM normalise rho_i = mu_i / sum_{k in CM} mu_k        (:func:`selection_probabilities`)
8. Winner: sampled from rho (learn, assign) or max-V (recognise) with a tie rule (:func:`max_v_winners`).

V is carried as its logarithm: V = U^10 of a weakly supported cell underflows
float32 long before two different supports become equal, and max-V choices
(and the spiking readout that must reproduce them) compare supports, not their
rounded powers.

Ties. ``"lowest"`` takes the lowest cell index among equal maxima. ``"random"``
ranks tied cells by a seeded hash of the query: every mac draws per-cell
integers (a_i, b_i) from the layer seed, every query gets an integer key from
its active afferents, and the tied cell with the largest (key a_i + b_i) mod P
wins (P = 2^31 - 1). The choice is uniform over the tied cells across queries
and seeds, identical for identical queries, and consumes no generator state, so
reading the memory never changes what it learns next.

Example
-------
>>> import torch
>>> V = torch.tensor([[[1.0, 0.0], [0.2, 0.1]]])  # one mac, Q=2, K=2
>>> round(familiarity(V.log()).item(), 4)
0.6
>>> max_v_winners(V.log(), "lowest").tolist()
[[0, 0]]
"""

from __future__ import annotations

import torch

from neuromem.models.sparsey.params import CSAParams

#: Modulus of the tie hash (a Mersenne prime: products of two residues fit in int64).
TIE_PRIME = 2**31 - 1


def normalised_sum(raw: torch.Tensor, n_active: torch.Tensor, w_max: float = 1.0) -> torch.Tensor:
    """Divide raw input sums by the most they could reach, ``n_active * w_max``.

    Cells with no active afferent get 0; the result lies in [0, 1].
    """
    return raw / (n_active.clamp(min=1.0) * w_max)


def log_support(terms: list[tuple[torch.Tensor, torch.Tensor, float]]) -> torch.Tensor:
    """log V = sum_X lam_X log X over the available signal types (-inf where some X is 0).

    Parameters
    ----------
    terms : list of (X, available, exponent)
        ``X`` has shape (..., Q, K); ``available`` is a bool tensor that
        broadcasts against ``X`` and says where the signal type is present at
        all (at least one active afferent). Absent types are left out of the
        product, i.e. contribute a factor 1.
    """
    if not terms:
        raise ValueError("log_support needs at least one signal type")
    total = None
    for X, available, exponent in terms:
        part = torch.where(available, exponent * X.clamp(0.0, 1.0).log(), torch.zeros_like(X))
        total = part if total is None else total + part
    return total  # type: ignore[return-value]


def familiarity(log_v: torch.Tensor) -> torch.Tensor:
    """G = mean over CMs of the largest V in each CM; shape (...,)."""
    return log_v.amax(dim=-1).exp().mean(dim=-1)


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


def tie_priority(key: torch.Tensor, cell_a: torch.Tensor, cell_b: torch.Tensor) -> torch.Tensor:
    """Seeded per-query cell priorities (key a_i + b_i) mod P, int64.

    ``key`` (R, B, M) holds query keys in [0, P); ``cell_a`` and ``cell_b``
    (R, M, Q, K) hold the layer's per-cell integers in [1, P). Returns
    (R, B, M, Q, K). All arithmetic is exact int64 on every device.
    """
    return (key[..., None, None] * cell_a[:, None] + cell_b[:, None]) % TIE_PRIME


def max_v_winners(log_v: torch.Tensor, tie: str, priority: torch.Tensor | None = None) -> torch.Tensor:
    """Cell of largest V in each CM; int64 (..., Q).

    ``tie="lowest"`` takes the lowest cell index among equal maxima;
    ``tie="random"`` takes the tied cell of largest ``priority`` (see
    :func:`tie_priority`).
    """
    if tie == "lowest":
        return log_v.argmax(dim=-1)
    if priority is None:
        raise ValueError("tie='random' needs cell priorities")
    is_max = log_v >= log_v.amax(dim=-1, keepdim=True)
    return torch.where(is_max, priority, torch.full_like(priority, -1)).argmax(dim=-1)


def csa_winners(
    log_v: torch.Tensor,
    G: torch.Tensor,
    params: CSAParams,
    sample: torch.Tensor,
    generator: torch.Generator,
    priority: torch.Tensor | None = None,
) -> torch.Tensor:
    """Steps 5 to 8: sampled winners where ``sample`` is True, max-V winners elsewhere.

    ``sample`` is a bool tensor of the shape of ``G``. The generator is drawn
    from only when some mac samples, so recognition leaves it untouched.
    """
    best = max_v_winners(log_v, params.tie, priority)
    if not bool(sample.any()):
        return best
    K = log_v.shape[-1]
    eta = expansivity(G, K, params)
    rho = selection_probabilities(selection_weights(log_v.exp(), eta, params))
    sampled = sample_winners(rho, generator)
    return torch.where(sample[..., None], sampled, best)
