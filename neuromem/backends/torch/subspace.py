"""The torch engine's run of :class:`~neuromem.spec.SubspaceRule` (HLOP's lateral circuit).

M lateral neurons read a layer's presynaptic activity ``x`` (N values) through
weights ``H`` (M x N) and feed back a reconstruction::

    y     = H x                       (lateral response, Hebbian forward)
    x_hat = H^T y                     (reconstruction, anti-Hebbian feedback)
    dH    = < y (x - x_hat)^T >       (Oja's subspace rule, batch mean)
          = < y x^T > - < y y^T > H   (Hebbian minus anti-Hebbian term)

``dH`` is clipped elementwise to [-clip, clip] and applied with momentum::

    v <- momentum * v + dH ;   H_new_rows <- H_new_rows + eta * v_new_rows

``eta = lr / <|x|^2>``: the rate is divided by the mean squared norm of the
activity being learned (measured at the start of each fit), so one ``lr`` is
stable for dense pixel inputs and for sparse spikes alike. The rows converge
to an orthonormal basis of the top-M principal subspace of ``<x x^T>``
(uncentred, as the weight-update geometry requires).

Per task, new rows are added orthogonal to the old ones and trained while the
old rows stay fixed (``n_fixed``); the new rows then learn the principal
subspace of the residual ``x - H_old^T H_old x``, and after ``consolidate``
all rows form one merged subspace.

Spiking lateral neurons (optional): ``y`` is clamped to ``+-spike_scale`` and
quantised to ``spike_steps`` levels, what a firing count over ``spike_steps``
steps can represent.

:func:`subspace_from_network` reads the signed lateral weights ``H`` of a
lateral population from its projection pair and the rule's parameters;
:func:`with_lateral_weights` writes learned weights back into the network.

Reference: Xiao et al., ICLR 2024 (arXiv 2402.11984), section 4; Oja (1989).

Example
-------
>>> sub = LateralSubspace(n_inputs=20)
>>> sub.add_neurons(3, torch.Generator().manual_seed(0))
>>> history = sub.fit(torch.randn(500, 20), epochs=5)
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import torch

from neuromem.errors import CapabilityError, ValidationError
from neuromem.spec import Network, SubspaceRule

__all__ = ["FitHistory", "LateralSubspace", "principal_angles_deg", "subspace_from_network", "with_lateral_weights"]


@dataclass
class FitHistory:
    """Per-epoch convergence record of one ``fit`` (relative reconstruction error, angles)."""

    reconstruction_error: list[float] = field(default_factory=list)
    max_angle_deg: list[float] = field(default_factory=list)
    mean_angle_deg: list[float] = field(default_factory=list)


class LateralSubspace:
    """Lateral Hebbian/anti-Hebbian neurons of one layer.

    Parameters
    ----------
    n_inputs
        Presynaptic size N (in_features, or C_in * k * k for a convolution).
    lr
        Learning rate before normalisation by the mean squared activity norm.
    momentum
        Momentum of the Hebbian update.
    clip
        Elementwise clip of ``dH``.
    iterations
        (forward, reconstruct, update) iterations per batch.
    spike_scale, spike_steps
        Rate coding of ``y``; ``spike_steps=None`` keeps ``y`` analogue.
    device, dtype
        Where ``H`` lives.
    """

    def __init__(
        self,
        n_inputs: int,
        lr: float = 0.01,
        momentum: float = 0.9,
        clip: float = 10.0,
        iterations: int = 5,
        spike_scale: float = 20.0,
        spike_steps: int | None = None,
        device: str | torch.device = "cpu",
        dtype: torch.dtype = torch.float32,
    ) -> None:
        if n_inputs < 1:
            raise ValidationError(f"LateralSubspace: n_inputs {n_inputs} must be >= 1")
        self.n_inputs = int(n_inputs)
        self.lr = float(lr)
        self.momentum = float(momentum)
        self.clip = float(clip)
        self.iterations = int(iterations)
        self.spike_scale = float(spike_scale)
        self.spike_steps = None if spike_steps is None else int(spike_steps)
        self.weight = torch.zeros(0, n_inputs, device=device, dtype=dtype)
        self.n_fixed = 0

    @property
    def n_neurons(self) -> int:
        """Number M of lateral neurons (rows of H)."""
        return int(self.weight.shape[0])

    def add_neurons(self, k: int, generator: torch.Generator) -> None:
        """Append ``k`` rows, orthonormal and orthogonal to the existing rows."""
        k = min(int(k), self.n_inputs - self.n_neurons)
        if k <= 0:
            return
        w = self.weight
        new = torch.randn(k, self.n_inputs, generator=generator, dtype=torch.float64).to(w.device)
        if self.n_neurons:
            old = w.to(torch.float64)
            q_old, _ = torch.linalg.qr(old.T)
            new = new - (new @ q_old) @ q_old.T
        q, _ = torch.linalg.qr(new.T)
        self.weight = torch.cat([w, q.T.to(w.dtype)], dim=0)

    def consolidate(self) -> None:
        """Freeze all current rows: they now belong to the merged old subspace."""
        self.n_fixed = self.n_neurons

    def response(self, x: torch.Tensor) -> torch.Tensor:
        """Lateral response ``y = H x`` for rows x of (B, N), rate-coded if spiking."""
        return self._rate_code(x @ self.weight.T)

    def _rate_code(self, y: torch.Tensor) -> torch.Tensor:
        if self.spike_steps is None:
            return y
        s = self.spike_scale
        return torch.round(y.clamp(-s, s) * (self.spike_steps / s)) * (s / self.spike_steps)

    def _hebbian_step(self, x: torch.Tensor, residual_old: torch.Tensor, eta: float, velocity: torch.Tensor) -> None:
        # Old rows are fixed, so their share of the reconstruction, x - H_old^T y_old,
        # is the same at every iteration: it is computed once per fit (residual_old)
        # and each step only touches the k free rows.
        free = self.weight[self.n_fixed :]
        y = self._rate_code(x @ free.T)
        residual = residual_old - y @ free
        delta = (y.T @ residual) / x.shape[0]
        delta.clamp_(-self.clip, self.clip)
        velocity.mul_(self.momentum).add_(delta)
        free += eta * velocity

    def fit(
        self,
        activity: torch.Tensor,
        epochs: int = 10,
        batch_size: int = 128,
        generator: torch.Generator | None = None,
        reference: torch.Tensor | None = None,
    ) -> FitHistory:
        """Train the free rows on presynaptic activity (S, N).

        Parameters
        ----------
        activity
            Presynaptic vectors, one per row.
        epochs, batch_size
            Passes over the activity and rows per batch.
        generator
            Seeds the shuffling.
        reference
            Orthonormal rows (K, N) to compare the free rows with after each
            epoch (principal angles); ``None`` skips the angles.
        """
        x_all = activity.to(self.weight.device, self.weight.dtype).reshape(-1, self.n_inputs)
        history = FitHistory()
        if self.n_fixed >= self.n_neurons or x_all.shape[0] == 0:
            return history
        eta = self.lr / max(float((x_all**2).sum(dim=1).mean()), 1e-12)
        velocity = torch.zeros_like(self.weight[self.n_fixed :])
        old = self.weight[: self.n_fixed]
        residual_old = x_all - self._rate_code(x_all @ old.T) @ old
        total = float((x_all**2).sum())
        for _ in range(int(epochs)):
            order = torch.randperm(x_all.shape[0], generator=generator).to(x_all.device)
            for start in range(0, x_all.shape[0], batch_size):
                sel = order[start : start + batch_size]
                for _ in range(self.iterations):
                    self._hebbian_step(x_all[sel], residual_old[sel], eta, velocity)
            with torch.no_grad():
                err = float(((x_all - self.project(x_all)) ** 2).sum()) / max(total, 1e-30)
            history.reconstruction_error.append(err)
            if reference is not None:
                angles = principal_angles_deg(self.weight[self.n_fixed :], reference)
                history.max_angle_deg.append(float(angles.max()))
                history.mean_angle_deg.append(float(angles.mean()))
        return history

    def project(self, x: torch.Tensor) -> torch.Tensor:
        """``x_proj = H^T H x`` for rows x of (B, N) (analogue response)."""
        return (x @ self.weight.T) @ self.weight

    def orthonormal_basis(self) -> torch.Tensor:
        """Orthonormalised rows of H (M, N), for angle checks."""
        q, _ = torch.linalg.qr(self.weight.T.to(torch.float64))
        return q.T.to(self.weight.dtype)

    def state(self) -> dict[str, torch.Tensor | int]:
        """Weights and the number of fixed rows."""
        return {"weight": self.weight.detach().cpu().clone(), "n_fixed": self.n_fixed}

    def load_state(self, weight: torch.Tensor, n_fixed: int) -> None:
        """Restore ``weight`` (M, N) and ``n_fixed``."""
        if weight.ndim != 2 or weight.shape[1] != self.n_inputs or not 0 <= n_fixed <= weight.shape[0]:
            raise ValidationError(
                f"LateralSubspace: weight shape {tuple(weight.shape)} / n_fixed {n_fixed} do not fit "
                f"N={self.n_inputs}; allowed: (M, {self.n_inputs}) with 0 <= n_fixed <= M"
            )
        self.weight = weight.to(self.weight.device, self.weight.dtype).clone()
        self.n_fixed = int(n_fixed)


def principal_angles_deg(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """Principal angles (degrees) between the row spaces of ``a`` (K, N) and ``b`` (L, N).

    ``cos(theta_i) = sigma_i(Q_a^T Q_b)`` with orthonormal bases Q; returns
    min(K, L) angles, ascending.
    """
    qa, _ = torch.linalg.qr(a.T.to(torch.float64))
    qb, _ = torch.linalg.qr(b.T.to(torch.float64))
    s = torch.linalg.svdvals(qa.T @ qb).clamp(-1.0, 1.0)
    return torch.rad2deg(torch.arccos(s))  # svdvals descend, so the angles ascend


def _pair(network: Network, population: str) -> tuple[str, str, SubspaceRule]:
    """Names of the excitatory and inhibitory SubspaceRule projections onto ``population``, and the rule."""
    found = {
        p.receptor: p for p in network.projections if p.post == population and isinstance(p.plasticity, SubspaceRule)
    }
    if set(found) != {"excitatory", "inhibitory"}:
        raise CapabilityError(
            f"Population {population!r}: feature plasticity:SubspaceRule needs one excitatory and one inhibitory"
            f" projection carrying the rule onto it (the signed lateral weights); found {sorted(found) or 'none'}"
        )
    exc, inh = found["excitatory"], found["inhibitory"]
    if exc.pre != inh.pre or exc.plasticity != inh.plasticity:
        raise CapabilityError(
            f"Population {population!r}: SubspaceRule projections {exc.name!r} and {inh.name!r} must share pre"
            " population and rule"
        )
    return exc.name, inh.name, exc.plasticity  # type: ignore[return-value]


def _matrix(network: Network, name: str, n_post: int, n_pre: int) -> np.ndarray:
    lst = network.connection_list(name)
    matrix = np.zeros((n_post, n_pre))
    np.add.at(matrix, (lst.post, lst.pre), lst.weight)
    return matrix


def subspace_from_network(
    network: Network, population: str, n_fixed: int = 0, device: str | torch.device = "cpu"
) -> LateralSubspace:
    """The lateral circuit of ``population``: H = W_exc - W_inh (M, N) and the rule's parameters.

    ``n_fixed`` rows (learned on earlier tasks) stay fixed while the rest learn.
    """
    exc, inh, rule = _pair(network, population)
    projection = network.projection(exc)
    n_pre, n_post = network.population(projection.pre).size, network.population(population).size
    h = _matrix(network, exc, n_post, n_pre) - _matrix(network, inh, n_post, n_pre)
    sub = LateralSubspace(
        n_pre,
        lr=rule.lr,
        momentum=rule.momentum,
        clip=rule.clip,
        iterations=rule.iterations,
        spike_scale=rule.spike_scale,
        spike_steps=rule.spike_steps,
        device=device,
    )
    sub.load_state(torch.as_tensor(h, dtype=torch.float32), n_fixed)
    return sub


def with_lateral_weights(network: Network, population: str, weight: torch.Tensor) -> Network:
    """``network`` with the lateral weights of ``population`` set to the signed ``weight`` (M, N)."""
    import dataclasses

    exc, inh, _ = _pair(network, population)
    h = weight.detach().cpu().double().numpy()
    if h.shape != (network.population(population).size, network.population(network.projection(exc).pre).size):
        raise ValidationError(
            f"Population {population!r}: lateral weights of shape {h.shape} do not fit its projections"
        )
    projections = []
    for projection in network.projections:
        if projection.name in (exc, inh):
            lst = network.connection_list(projection.name)
            sign = 1.0 if projection.name == exc else -1.0
            projection = dataclasses.replace(projection, weight=np.maximum(sign * h[lst.post, lst.pre], 0.0))
        projections.append(projection)
    return dataclasses.replace(network, projections=tuple(projections), _lists={})
