"""Orthogonal projection of weight updates, and the HLOP learner.

For a layer with weights W (out x N) and presynaptic vectors x, a
gradient-type update is ``dW = delta x^T``. Replacing x by ``x - P^T P x``,
with P (M x N) spanning the principal subspace of earlier tasks' presynaptic
activity, gives ``dW = G (I - P^T P)`` for the unprojected update G, so
``dW x_old = G (x_old - P^T P x_old) ~ 0``: old outputs are unchanged to first
order. Projecting the summed gradient equals projecting every presynaptic
vector (trace) because the update is linear in them. Convolutions use the
(C_out, C_in k k) weight matrix and unfolded patches.

Example
-------
>>> learner = HLOPLearner(NetworkConfig(hidden=(64,)), TrainConfig(), HLOPConfig())
>>> learner.train_task(0, x0, y0); learner.train_task(1, x1, y1)  # doctest: +SKIP
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

from neuromem.errors import ValidationError
from neuromem.models.hlop.description import lateral
from neuromem.models.hlop.learner import ContinualLearner, TrainConfig
from neuromem.models.hlop.network import NetworkConfig
from neuromem.models.hlop.subspace import FitHistory, LateralSubspace, subspace_from_network
from neuromem.spec import Network, SubspaceRule

__all__ = ["HLOPConfig", "HLOPLearner", "ProjectionLearner", "project_gradient", "project_out"]


def project_out(x: torch.Tensor, basis: torch.Tensor) -> torch.Tensor:
    """``x - P^T P x`` for rows x (B, N) and basis rows P (M, N)."""
    return x - (x @ basis.T) @ basis


def project_gradient(module: nn.Module, basis: torch.Tensor) -> None:
    """In place: ``grad W <- grad W (I - P^T P)`` on the (out, N) view of the weight."""
    grad = module.weight.grad
    if grad is None or basis.shape[0] == 0:
        return
    g = grad.reshape(grad.shape[0], -1)
    g.sub_((g @ basis.T) @ basis)


@dataclass(frozen=True)
class HLOPConfig:
    """Lateral neurons per protected layer (order: hidden layers, then a shared readout).

    ``k_1 = first[l]``; for task number ``t >= 2`` (1-based),
    ``k_t = max(per_task[l] - decrease[l] * floor((t - 1) / decrease_every), min_per_task)``.
    Lists shorter than the number of layers repeat their last value.
    ``samples``: task samples whose presynaptic activity the circuit learns;
    ``max_rows``: cap on activity rows per layer (conv patches are many).
    """

    first: tuple[int, ...] = (80, 200, 100)
    per_task: tuple[int, ...] = (70,)
    decrease: tuple[int, ...] = (20,)
    decrease_every: int = 3
    min_per_task: int = 5
    lr: float = 1.0
    momentum: float = 0.9
    clip: float = 10.0
    iterations: int = 5
    epochs: int = 30
    batch_size: int = 128
    samples: int = 1000
    max_rows: int = 8000
    spike_scale: float = 20.0
    spike_steps: int | None = None

    def rule(self) -> SubspaceRule:
        """The lateral projections' plasticity in the network description."""
        return SubspaceRule(
            lr=self.lr,
            momentum=self.momentum,
            clip=self.clip,
            iterations=self.iterations,
            epochs=self.epochs,
            batch_size=self.batch_size,
            spike_scale=self.spike_scale,
            spike_steps=self.spike_steps,
        )

    def neurons_for(self, layer: int, task_number: int) -> int:
        """k for protected layer ``layer`` (0-based) at task number ``task_number`` (1-based)."""

        def pick(values: tuple[int, ...]) -> int:
            return int(values[min(layer, len(values) - 1)])

        if task_number <= 1:
            return pick(self.first)
        k = pick(self.per_task) - pick(self.decrease) * ((task_number - 1) // max(self.decrease_every, 1))
        return max(k, self.min_per_task)


class ProjectionLearner(ContinualLearner):
    """Learner that projects protected layers' updates off a per-layer basis."""

    method = "projection"

    def __init__(self, network: NetworkConfig, train: TrainConfig, device: str | torch.device = "cpu") -> None:
        super().__init__(network, train, device)
        self.protected = self.net.protected_modules(self.single_head)

    def basis(self, name: str) -> torch.Tensor:
        """Rows (M, N) spanning the protected subspace of layer ``name`` (M may be 0)."""
        raise NotImplementedError

    def project(self, name: str, x: torch.Tensor) -> torch.Tensor:
        """``x - P^T P x`` for presynaptic rows ``x`` (B, N) of layer ``name``."""
        if name not in self.protected:
            raise ValidationError(
                f"{type(self).__name__}: layer '{name}' is unknown; allowed: {sorted(self.protected)}"
            )
        basis = self.basis(name)
        if basis.shape[0] == 0:
            raise ValidationError(
                f"{type(self).__name__}: layer '{name}' has no subspace yet (0 neurons); "
                "a projection is only defined after the first task has been consolidated"
            )
        return project_out(x.to(basis.device, basis.dtype), basis)

    def _transform_gradients(self, task_id: int) -> None:
        for name, module in self.protected.items():
            project_gradient(module, self.basis(name))

    def _collect(self, x: torch.Tensor, head: int, samples: int, max_rows: int) -> dict[str, torch.Tensor]:
        idx = torch.randperm(x.shape[0], generator=self.generator)[:samples].to(self.device)
        acts = self.net.presynaptic(x[idx], head=head)
        out = {}
        for name in self.protected:
            key = name if name in acts else f"head{head}"
            a = acts[key]
            if a.shape[0] > max_rows:
                a = a[torch.randperm(a.shape[0], generator=self.generator)[:max_rows].to(a.device)]
            out[name] = a
        return out


class HLOPLearner(ProjectionLearner):
    """HLOP: lateral Hebbian subspace neurons protect every shared layer.

    Parameters
    ----------
    network, train, device
        As :class:`ContinualLearner`.
    hlop
        Lateral-circuit sizes and learning parameters.
    """

    method = "hlop"

    def __init__(
        self, network: NetworkConfig, train: TrainConfig, hlop: HLOPConfig, device: str | torch.device = "cpu"
    ) -> None:
        super().__init__(network, train, device)
        self.hlop_config = hlop
        hlop.rule()  # the lateral projections' SubspaceRule validates the lateral-circuit parameters
        self.subspaces = {
            name: LateralSubspace(
                mod.in_features,
                lr=hlop.lr,
                momentum=hlop.momentum,
                clip=hlop.clip,
                iterations=hlop.iterations,
                spike_scale=hlop.spike_scale,
                spike_steps=hlop.spike_steps,
                device=self.device,
            )
            for name, mod in self.protected.items()
        }
        self.fit_history: list[dict[str, FitHistory | int | str]] = []

    def basis(self, name: str) -> torch.Tensor:
        """The lateral weights H (M, N) of layer ``name``."""
        return self.subspaces[name].weight

    def presynaptic_populations(self) -> dict[str, str]:
        """Protected layer -> the population its weights read (the lateral neurons read it too)."""
        hidden = self.net.hidden_names
        return {name: ("input" if i == 0 else hidden[i - 1]) for i, name in enumerate(self.protected)}

    def description(self, heads: tuple[int, ...] | None = None) -> Network:
        """The whole network: input, hidden layers, readouts and the lateral subspace neurons.

        Each protected layer ``l`` with M > 0 lateral neurons adds population
        ``lateral_<l>`` and the projection pair ``lateral_<l>_exc/_inh``
        (signed weights H, plasticity :class:`~neuromem.spec.SubspaceRule`).
        """
        weights = {name: sub.weight.detach().cpu().numpy() for name, sub in self.subspaces.items()}
        return lateral(self.net.description(heads), self.presynaptic_populations(), weights, self.hlop_config.rule())

    def _after_task(self, task_id: int, x: torch.Tensor, y: torch.Tensor, head: int) -> None:
        cfg = self.hlop_config
        acts = self._collect(x, head, cfg.samples, cfg.max_rows)
        task_number = len(self.tasks_trained) + 1
        rule = self.hlop_config.rule()
        feed_forward = self.net.description()
        presynaptic = self.presynaptic_populations()
        for layer, name in enumerate(list(self.subspaces)):
            a = acts[name]
            before_n = self.subspaces[name].n_neurons
            self.subspaces[name].add_neurons(cfg.neurons_for(layer, task_number), self.generator)
            # The lateral circuit is learned from its description: H and the rule are read back from the
            # layer's lateral projection pair and run by the torch engine's SubspaceRule kernel.
            weights = {name: self.subspaces[name].weight.detach().cpu().numpy()}
            described = lateral(feed_forward, {name: presynaptic[name]}, weights, rule)
            sub = subspace_from_network(described, f"lateral_{name}", n_fixed=before_n, device=self.device)
            self.subspaces[name] = sub
            resid = a if before_n == 0 else project_out(a, sub.weight[:before_n])
            added = sub.n_neurons - before_n
            reference = torch.linalg.svd(resid.double(), full_matrices=False)[2][:added] if added else None
            hist = sub.fit(
                a, epochs=rule.epochs, batch_size=rule.batch_size, generator=self.generator, reference=reference
            )
            sub.consolidate()
            self.fit_history.append({"task": task_id, "layer": name, "added": added, "history": hist})
