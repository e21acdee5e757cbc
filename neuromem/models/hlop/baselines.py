"""Baselines in the same harness: EWC, SVD gradient projection (GPM-style), multitask.

Sequential fine-tuning is :class:`~neuromem.models.hlop.learner.FineTuneLearner`.

* **EWC** (Kirkpatrick et al. 2017), online form: after each task the diagonal
  empirical Fisher ``F_i = < (d log p(y|x) / d theta_i)^2 >`` is added to the
  running sum and ``theta*`` is stored; later tasks minimise
  ``L + (lambda / 2) sum_i F_i (theta_i - theta*_i)^2``, with ``lambda F_i``
  capped at ``1 / lr`` so that SGD on the penalty stays stable.
* **SVD projection** (Saha et al. 2021, GPM): after each task the presynaptic
  activity's residual off the stored basis is decomposed by SVD and its top
  k left singular vectors join the basis; k is the same per layer and task as
  HLOP's lateral neurons, so the two differ only in how the subspace is found.
* **Multitask**: all tasks' data interleaved batch by batch (upper bound).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch
from torch.nn import functional as F

from neuromem.errors import ValidationError
from neuromem.models.hlop.learner import ContinualLearner, TrainConfig
from neuromem.models.hlop.network import NetworkConfig
from neuromem.models.hlop.projection import HLOPConfig, ProjectionLearner, project_out

__all__ = ["EWCLearner", "MultitaskLearner", "SVDProjectionLearner"]


class EWCLearner(ContinualLearner):
    """Elastic weight consolidation with summed diagonal Fisher; ``ewc_lambda`` scales the penalty."""

    method = "ewc"

    def __init__(
        self,
        network: NetworkConfig,
        train: TrainConfig,
        ewc_lambda: float = 1000.0,
        fisher_samples: int = 500,
        device: str | torch.device = "cpu",
    ) -> None:
        super().__init__(network, train, device)
        self.ewc_lambda = float(ewc_lambda)
        self.fisher_samples = int(fisher_samples)
        self.fisher = {n: torch.zeros_like(p) for n, p in self.net.named_parameters()}
        self.anchor = {n: p.detach().clone() for n, p in self.net.named_parameters()}

    def _penalty(self) -> torch.Tensor | None:
        if not self.tasks_trained:
            return None
        total = torch.zeros((), device=self.device)
        for name, p in self.net.named_parameters():
            total = total + (self.fisher[name] * (p - self.anchor[name]) ** 2).sum()
        return 0.5 * self.ewc_lambda * total

    def _after_task(self, task_id: int, x: torch.Tensor, y: torch.Tensor, head: int) -> None:
        idx = torch.randperm(x.shape[0], generator=self.generator)[: self.fisher_samples].to(self.device)
        fisher = {n: torch.zeros_like(p) for n, p in self.net.named_parameters()}
        chunk = 20  # per-chunk gradients: the squared mean underestimates F, chunks keep it cheap
        n_chunks = 0
        for start in range(0, idx.numel(), chunk):
            sel = idx[start : start + chunk]
            self.net.zero_grad(set_to_none=True)
            F.cross_entropy(self.net(x[sel], head=head), y[sel]).backward()
            for n, p in self.net.named_parameters():
                if p.grad is not None:
                    fisher[n] += p.grad.detach() ** 2 * sel.numel()
            n_chunks += 1
        self.net.zero_grad(set_to_none=True)
        # The summed Fisher grows with every task; once lr * lambda * F_i exceeds the
        # heavy-ball stability bound 2 (1 + momentum), SGD on the penalty diverges
        # (seen at task 10 of permuted Fashion-MNIST). Capping the stiffness
        # lambda * F_i at 1 / lr keeps each step stable and the parameter as anchored
        # as the optimiser allows.
        cap = 1.0 / (self.ewc_lambda * self.train_config.lr)
        for n, p in self.net.named_parameters():
            self.fisher[n] = (self.fisher[n] + fisher[n] / max(n_chunks, 1)).clamp_(max=cap)
            self.anchor[n] = p.detach().clone()


class SVDProjectionLearner(ProjectionLearner):
    """Gradient projection with a basis from SVD of stored activity (GPM-style)."""

    method = "svd"

    def __init__(
        self, network: NetworkConfig, train: TrainConfig, hlop: HLOPConfig, device: str | torch.device = "cpu"
    ) -> None:
        super().__init__(network, train, device)
        self.sizes = hlop
        self.bases = {n: torch.zeros(0, m.in_features, device=self.device) for n, m in self.protected.items()}

    def basis(self, name: str) -> torch.Tensor:
        """Orthonormal rows (M, N) found by SVD."""
        return self.bases[name]

    def _after_task(self, task_id: int, x: torch.Tensor, y: torch.Tensor, head: int) -> None:
        acts = self._collect(x, head, self.sizes.samples, self.sizes.max_rows)
        task_number = len(self.tasks_trained) + 1
        for layer, name in enumerate(self.protected):
            basis = self.bases[name]
            k = min(self.sizes.neurons_for(layer, task_number), basis.shape[1] - basis.shape[0])
            if k <= 0:
                continue
            resid = project_out(acts[name].double(), basis.double())
            top = torch.linalg.svd(resid, full_matrices=False)[2][:k]
            q, _ = torch.linalg.qr(torch.cat([basis.double(), top], dim=0).T)
            self.bases[name] = q.T.to(basis.dtype)


class MultitaskLearner(ContinualLearner):
    """Joint training on all tasks at once (upper bound)."""

    method = "multitask"

    def train_joint(
        self, task_ids: Sequence[int], images: Sequence[np.ndarray | torch.Tensor], labels: Sequence[np.ndarray]
    ) -> None:
        """Interleave batches of every task (one batch per task in turn) for ``epochs`` epochs.

        All-or-nothing, as :meth:`train_task`: inputs are checked first and a
        failed training restores the learner.
        """
        data = []
        ids = [self._check_task_id(t) for t in task_ids]
        heads: dict[int, int] = {}
        for task_id, xi, yi in zip(ids, images, labels, strict=True):
            x = self._check_images(xi)
            y = self._check_labels(yi, x.shape[0])
            if task_id not in heads:
                heads[task_id] = self.task_heads[task_id] if task_id in self.task_heads else self._next_head(heads)
            head = heads[task_id]
            data.append((x, y, head))
        saved = self._capture()
        try:
            self.task_heads.update(heads)
            self._train_joint(data)
            self._check_finite_state()
        except BaseException:
            self._restore(saved)
            raise
        self.tasks_trained = ids

    def _next_head(self, pending: dict[int, int]) -> int:
        if self.single_head:
            return 0
        used = len(set(self.task_heads) | set(pending))
        if used >= self.network_config.n_heads:
            raise ValidationError(
                f"{type(self).__name__}: a new task needs a head but all {self.network_config.n_heads} heads are used"
            )
        return used

    def _train_joint(self, data: list[tuple[torch.Tensor, torch.Tensor, int]]) -> None:
        cfg = self.train_config
        opt = torch.optim.SGD(self.net.parameters(), lr=cfg.lr, momentum=cfg.momentum)
        self.net.train()
        for _ in range(cfg.epochs):
            orders = [torch.randperm(x.shape[0], generator=self.generator).to(self.device) for x, _, _ in data]
            n_batches = max((x.shape[0] + cfg.batch_size - 1) // cfg.batch_size for x, _, _ in data)
            for b in range(n_batches):
                for (x, y, head), order in zip(data, orders, strict=True):
                    idx = order[b * cfg.batch_size : (b + 1) * cfg.batch_size]
                    if idx.numel() == 0:
                        continue
                    opt.zero_grad(set_to_none=True)
                    F.cross_entropy(self.net(x[idx], head=head), y[idx]).backward()
                    opt.step()
