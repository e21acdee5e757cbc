"""Class readout from Sparsey codes by class-conditional code overlap.

Each CM of each mac is read as a categorical variable with K + 1 states (its
winner, or "no code" when the mac was inactive). A field of class nodes gets
Hebbian weights from the training codes: the class-conditional frequency

.. math::

    p_{c,s} = \\frac{n_{c,s} + \\alpha}{n_c + \\alpha (K + 1)}

of state s of a CM among the n_c training items of class c. Two weightings:

- ``"mean"``: w = p, score_c = sum over CMs of p_{c, s(CM)}, the expected
  code overlap of the query with a random training item of class c;
- ``"log"`` (default): w = log p, the same overlap counted in log-probability
  (a naive-Bayes class node), so that a CM whose state is rare in class c
  counts against c instead of adding nothing.

Example
-------
>>> import torch
>>> codes = torch.tensor([[[0, 1]], [[2, 2]]])      # 2 items, 1 mac, Q=2, K=3
>>> r = CodeOverlapReadout(2).fit([codes], torch.tensor([0, 1]), Ks=[3])
>>> r.predict([codes]).tolist()
[0, 1]
"""

from __future__ import annotations

import torch

from neuromem.errors import ValidationError

WEIGHTINGS = ("log", "mean")


def code_states(codes: list[torch.Tensor], Ks: list[int]) -> torch.Tensor:
    """One-hot CM states (N, sum of M*Q*(K+1)) of codes (N, M, Q); -1 (no code) is state K."""
    parts = []
    for code, K in zip(codes, Ks, strict=True):
        state = torch.where(code < 0, torch.full_like(code, K), code)
        parts.append(torch.nn.functional.one_hot(state, K + 1).flatten(start_dim=1).to(torch.float32))
    return torch.cat(parts, dim=1)


class CodeOverlapReadout:
    """Class nodes with Hebbian class-conditional weights on CM states.

    Parameters
    ----------
    n_classes : int
        Number of classes (>= 1).
    weighting : str
        ``"log"`` (default) or ``"mean"``; see the module docstring.
    alpha : float
        Pseudo-count, > 0. Default 0.5.
    """

    def __init__(self, n_classes: int, weighting: str = "log", alpha: float = 0.5) -> None:
        if n_classes < 1:
            raise ValidationError(f"CodeOverlapReadout: n_classes = {n_classes} must be >= 1")
        if weighting not in WEIGHTINGS:
            raise ValidationError(f"CodeOverlapReadout: weighting = {weighting!r} is not one of {WEIGHTINGS}")
        if not alpha > 0:
            raise ValidationError(f"CodeOverlapReadout: alpha = {alpha!r} must be > 0")
        self.n_classes = n_classes
        self.weighting = weighting
        self.alpha = float(alpha)
        self.Ks: list[int] = []
        self.weights: torch.Tensor | None = None

    def fit(self, codes: list[torch.Tensor], labels: torch.Tensor, Ks: list[int]) -> CodeOverlapReadout:
        """Learn class weights from training codes (one (N, M, Q) tensor per level) and labels (N,)."""
        self.Ks = list(Ks)
        states = code_states(codes, self.Ks)
        labels = torch.as_tensor(labels, dtype=torch.int64, device=states.device)
        onehot = torch.nn.functional.one_hot(labels, self.n_classes).to(states.dtype)
        counts = onehot.T @ states
        n_class = onehot.sum(dim=0)[:, None]
        n_states = torch.cat(
            [torch.full((c.shape[1] * c.shape[2] * (K + 1),), K + 1.0) for c, K in zip(codes, self.Ks, strict=True)]
        ).to(states.device)
        p = (counts + self.alpha) / (n_class + self.alpha * n_states[None, :])
        self.weights = p.log() if self.weighting == "log" else p
        return self

    def scores(self, codes: list[torch.Tensor]) -> torch.Tensor:
        """Class scores (N, n_classes)."""
        if self.weights is None:
            raise ValidationError("CodeOverlapReadout: scores called before fit")
        return code_states(codes, self.Ks) @ self.weights.T

    def predict(self, codes: list[torch.Tensor]) -> torch.Tensor:
        """Predicted classes (N,), lowest class index on ties."""
        return self.scores(codes).argmax(dim=1)
