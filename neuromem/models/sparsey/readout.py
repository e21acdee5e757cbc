"""Class readout from Sparsey codes by class-conditional code overlap.

A Hebbian field of class nodes: the weight from cell i to class c is the
fraction of training items of class c whose code contains cell i,

.. math::

    w_{ci} = \\frac{1}{n_c} \\sum_{n: y_n = c} z_{ni},\\qquad
    \\hat y = \\arg\\max_c \\sum_i z_i\\, w_{ci}

where z is the binary cell vector of a code (all levels concatenated, if
asked). The score is the expected code overlap of the query with a random
training item of class c.

Example
-------
>>> import torch
>>> z = torch.tensor([[1., 0.], [0., 1.]]); y = torch.tensor([0, 1])
>>> r = CodeOverlapReadout(2).fit(z, y)
>>> r.predict(z).tolist()
[0, 1]
"""

from __future__ import annotations

import torch

from neuromem.errors import ValidationError


class CodeOverlapReadout:
    """Class-conditional code-overlap readout over binary cell vectors."""

    def __init__(self, n_classes: int) -> None:
        if n_classes < 1:
            raise ValidationError(f"CodeOverlapReadout: n_classes = {n_classes} must be >= 1")
        self.n_classes = n_classes
        self.weights: torch.Tensor | None = None

    def fit(self, cells: torch.Tensor, labels: torch.Tensor) -> CodeOverlapReadout:
        """Set w_ci from training cell vectors (N, C) and labels (N,)."""
        labels = torch.as_tensor(labels, dtype=torch.int64)
        onehot = torch.nn.functional.one_hot(labels, self.n_classes).to(cells.dtype)
        counts = onehot.sum(dim=0).clamp(min=1.0)
        self.weights = (onehot.T @ cells) / counts[:, None]
        return self

    def scores(self, cells: torch.Tensor) -> torch.Tensor:
        """Class scores (N, n_classes)."""
        if self.weights is None:
            raise ValidationError("CodeOverlapReadout: scores called before fit")
        return cells @ self.weights.T

    def predict(self, cells: torch.Tensor) -> torch.Tensor:
        """Predicted classes (N,), lowest class index on ties."""
        return self.scores(cells).argmax(dim=1)
