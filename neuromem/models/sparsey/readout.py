"""Supervised class readouts of Sparsey codes: Hebbian class nodes and a linear SVM.

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

import numpy as np
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


class LinearSVMReadout:
    """A linear support-vector machine on the one-hot CM states of codes (spec section 1.6).

    The spec allows it as Sparsey's supervised readout (an SVM on the
    top-level codes, as on sparsey.com's Weizmann results); it is fitted after
    the single unsupervised learning pass and never changes the codes.
    Implemented by scikit-learn's ``LinearSVC`` (one-vs-rest, squared hinge,
    L2 penalty, fixed seed), from the optional ``data`` extra.

    Parameters
    ----------
    C : float
        Inverse regularisation strength, > 0. Default 0.05 (the codes are
        sparse one-hots: strong regularisation).
    """

    def __init__(self, C: float = 0.05) -> None:
        if not (isinstance(C, (int, float)) and not isinstance(C, bool) and C > 0):
            raise ValidationError(f"LinearSVMReadout: C = {C!r} must be a number > 0")
        self.C = float(C)
        self.Ks: list[int] = []
        self.model: object | None = None

    def fit(self, codes: list[torch.Tensor], labels: torch.Tensor, Ks: list[int]) -> LinearSVMReadout:
        """Fit on training codes (one (N, M, Q) tensor per level) and labels (N,)."""
        try:
            from sklearn.svm import LinearSVC
        except ImportError as exc:  # the optional extra is missing
            raise ValidationError("LinearSVMReadout needs scikit-learn: pip install 'neuromem[data]'") from exc
        self.Ks = list(Ks)
        states = code_states(codes, self.Ks).cpu().numpy()
        self.model = LinearSVC(C=self.C, max_iter=20000, random_state=0).fit(states, np.asarray(labels))
        return self

    def predict(self, codes: list[torch.Tensor]) -> torch.Tensor:
        """Predicted classes (N,)."""
        if self.model is None:
            raise ValidationError("LinearSVMReadout: predict called before fit")
        states = code_states(codes, self.Ks).cpu().numpy()
        return torch.as_tensor(self.model.predict(states), dtype=torch.int64)  # type: ignore[attr-defined]
