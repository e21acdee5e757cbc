"""Continual learner: trains a :class:`SpikingNet` on a sequence of tasks.

:class:`ContinualLearner` holds the network, the task -> head map and the
training loop (BPTT through the engine's run of the network description),
with three hooks that the methods fill in: a loss penalty (EWC), a gradient
transform (orthogonal projection) and an end-of-task step (consolidation).
Plain SGD with momentum, reset at each task: an adaptive optimiser (Adam)
rescales gradient coordinates and so would undo the projection.

Example
-------
>>> learner = FineTuneLearner(NetworkConfig(hidden=(32,)), TrainConfig(epochs=1))
>>> learner.train_task(0, images, labels)  # doctest: +SKIP
>>> learner.evaluate(0, test_images, test_labels)  # doctest: +SKIP
"""

from __future__ import annotations

import copy
import math
from dataclasses import dataclass

import numpy as np
import torch
from torch.nn import functional as F

from neuromem.errors import BackendError, ValidationError
from neuromem.models.hlop.network import NetworkConfig, SpikingNet

__all__ = ["ContinualLearner", "FineTuneLearner", "TrainConfig"]

_INTEGER_DTYPES = (torch.uint8, torch.int8, torch.int16, torch.int32, torch.int64, torch.bool)


@dataclass(frozen=True)
class TrainConfig:
    """Training of each task: ``epochs`` of SGD (``lr``, ``momentum``) by ``rule``.

    ``rule`` is ``"bptt"`` (backpropagation through time of the whole
    sequence) or ``"online"`` (the online trace rule, OTTT: per-step losses,
    gradients through each step's layers with presynaptic eligibility traces;
    :meth:`~neuromem.models.hlop.network.SpikingNet.online_backward`). Both
    make one optimiser step per batch.
    """

    epochs: int = 1
    batch_size: int = 64
    lr: float = 0.05
    momentum: float = 0.9
    rule: str = "bptt"
    seed: int = 0

    def __post_init__(self) -> None:
        if self.rule not in ("bptt", "online"):
            raise ValidationError(f"TrainConfig: rule = {self.rule!r} is not available; allowed: 'bptt', 'online'")
        for name, minimum in (("epochs", 0), ("batch_size", 1), ("seed", 0)):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < minimum:
                raise ValidationError(f"TrainConfig: {name} = {value!r}; allowed: an integer >= {minimum}")
        for name in ("lr", "momentum"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, (int, float, np.floating, np.integer)):
                raise ValidationError(f"TrainConfig: {name} = {value!r}; allowed: a number")
        if not (math.isfinite(self.lr) and self.lr > 0):
            raise ValidationError(f"TrainConfig: lr = {self.lr!r}; allowed: a finite number > 0")
        if not 0 <= self.momentum < 1:
            raise ValidationError(f"TrainConfig: momentum = {self.momentum!r}; allowed: a number in [0, 1)")


def _device(device: str | torch.device) -> torch.device:
    dev = torch.device(device)
    if dev.type == "cuda" and not torch.cuda.is_available():
        raise BackendError(f"ContinualLearner: device '{device}' requested but CUDA is not available; use 'cpu'")
    return dev


class ContinualLearner:
    """Base learner = sequential fine-tuning (no protection).

    Parameters
    ----------
    network
        Network shape; ``n_heads > 1`` means multi-head (one head per task).
    train
        Optimiser settings.
    device
        ``"cpu"`` or ``"cuda"``.
    """

    method = "finetune"

    def __init__(self, network: NetworkConfig, train: TrainConfig, device: str | torch.device = "cpu") -> None:
        self.network_config = network
        self.train_config = train
        self.device = _device(device)
        torch.manual_seed(train.seed)
        self.net = SpikingNet(network).to(self.device)
        self.generator = torch.Generator().manual_seed(train.seed + 1)
        self.task_heads: dict[int, int] = {}
        self.tasks_trained: list[int] = []

    @property
    def single_head(self) -> bool:
        """True when all tasks share one readout."""
        return self.network_config.n_heads == 1

    # ----- validation --------------------------------------------------------------
    def _check_images(self, images: np.ndarray | torch.Tensor) -> torch.Tensor:
        """Images as float32 (N, *input_shape) in [0, 1] on the device; uint8 grey levels are divided by 255."""
        name = type(self).__name__
        try:
            x = torch.as_tensor(np.asarray(images) if not isinstance(images, torch.Tensor) else images)
        except (TypeError, ValueError, RuntimeError):
            raise ValidationError(f"{name}: images of type {type(images).__name__} are not a numeric array") from None
        shape = self.network_config.input_shape
        if x.ndim < 2 or x.shape[0] == 0 or x[0].numel() != math.prod(shape):
            raise ValidationError(
                f"{name}: images have shape {tuple(x.shape)}; allowed: (N, ...) with N >= 1 and "
                f"{math.prod(shape)} values per sample, e.g. (N, {', '.join(map(str, shape))})"
            )
        if x.dtype.is_complex or not (x.dtype.is_floating_point or x.dtype in _INTEGER_DTYPES):
            raise ValidationError(
                f"{name}: images have dtype {x.dtype}; allowed: uint8 grey levels or floats in [0, 1]"
            )
        grey_levels = x.dtype == torch.uint8
        x = x.reshape(x.shape[0], *shape).to(torch.float32)
        x = x / 255.0 if grey_levels else x
        if not bool(torch.isfinite(x).all()):
            raise ValidationError(f"{name}: images hold NaN or infinity; allowed: finite values in [0, 1]")
        low, high = float(x.min()), float(x.max())
        if low < 0.0 or high > 1.0:
            raise ValidationError(
                f"{name}: images hold values in [{low:g}, {high:g}]; allowed: [0, 1] (or uint8 grey levels 0..255)"
            )
        return x.to(self.device)

    def _check_task_id(self, task_id: object) -> int:
        if isinstance(task_id, bool) or not isinstance(task_id, (int, np.integer)) or task_id < 0:
            raise ValidationError(f"{type(self).__name__}: task_id = {task_id!r}; allowed: an integer >= 0")
        return int(task_id)

    def _check_labels(self, labels: np.ndarray | torch.Tensor, n: int) -> torch.Tensor:
        try:
            y = torch.as_tensor(np.asarray(labels) if not isinstance(labels, torch.Tensor) else labels)
        except (TypeError, ValueError, RuntimeError):
            raise ValidationError(
                f"{type(self).__name__}: labels of type {type(labels).__name__} are not an integer array"
            ) from None
        k = self.network_config.n_classes
        if y.dtype == torch.bool or y.dtype.is_complex:
            raise ValidationError(
                f"{type(self).__name__}: labels have dtype {y.dtype}; allowed: integer ({n},) in [0, {k - 1}]"
            )
        if y.shape != (n,) or y.dtype.is_floating_point or (y.numel() and (int(y.min()) < 0 or int(y.max()) >= k)):
            bad = f"shape {tuple(y.shape)}, dtype {y.dtype}" + (
                f", range [{int(y.min())}, {int(y.max())}]" if y.numel() and not y.dtype.is_floating_point else ""
            )
            raise ValidationError(f"{type(self).__name__}: labels have {bad}; allowed: integer ({n},) in [0, {k - 1}]")
        return y.to(torch.int64).to(self.device)

    def _head_of(self, task_id: int, training: bool) -> int:
        if task_id in self.task_heads:
            return self.task_heads[task_id]
        if not training:
            raise ValidationError(
                f"{type(self).__name__}: task_id {task_id} was never trained; allowed: {sorted(self.task_heads)}"
            )
        if self.single_head:
            return 0
        if len(self.task_heads) >= self.network_config.n_heads:
            raise ValidationError(
                f"{type(self).__name__}: task_id {task_id} needs a new head but all "
                f"{self.network_config.n_heads} heads are used by tasks {sorted(self.task_heads)}"
            )
        return len(self.task_heads)

    # ----- hooks -------------------------------------------------------------------
    def _penalty(self) -> torch.Tensor | None:
        return None

    def _transform_gradients(self, task_id: int) -> None:
        return None

    def _after_task(self, task_id: int, x: torch.Tensor, y: torch.Tensor, head: int) -> None:
        return None

    def _before_task(self, task_id: int) -> None:
        return None

    # ----- training ----------------------------------------------------------------
    def _batch_loss_bptt(self, x: torch.Tensor, y: torch.Tensor, head: int) -> torch.Tensor:
        return F.cross_entropy(self.net(x, head=head), y)

    # ----- transactions ------------------------------------------------------------
    def _capture(self) -> dict[str, object]:
        """Everything training may change: network, generator, and every other attribute (copied)."""
        skip = {"net", "generator", "protected"}
        return {
            "net": {k: v.detach().clone() for k, v in self.net.state_dict().items()},
            "generator": self.generator.get_state(),
            "attributes": {k: copy.deepcopy(v) for k, v in vars(self).items() if k not in skip},
        }

    def _restore(self, saved: dict[str, object]) -> None:
        """Put back what :meth:`_capture` took; the network's tensors are restored in place."""
        self.net.load_state_dict(saved["net"])  # type: ignore[arg-type]
        self.generator.set_state(saved["generator"])  # type: ignore[arg-type]
        for key in [k for k in vars(self) if k not in ("net", "generator", "protected")]:
            if key not in saved["attributes"]:  # type: ignore[operator]
                delattr(self, key)
        for key, value in saved["attributes"].items():  # type: ignore[attr-defined]
            setattr(self, key, value)

    def _check_finite_state(self) -> None:
        for name, param in self.net.named_parameters():
            if not bool(torch.isfinite(param).all()):
                raise ValidationError(
                    f"{type(self).__name__}: training made parameter {name!r} non-finite (diverged); the learner"
                    " was restored to its state before this task; allowed: a smaller lr"
                )

    def train_task(self, task_id: int, images: np.ndarray | torch.Tensor, labels: np.ndarray | torch.Tensor) -> None:
        """Train on one task (``images`` (N, ...) in [0, 1] or uint8, integer ``labels``).

        All-or-nothing: inputs are checked before anything changes, and if
        training fails (an error, ``KeyboardInterrupt``, or parameters that
        turn non-finite) the learner is restored exactly to its state before
        the call.
        """
        task_id = self._check_task_id(task_id)
        x = self._check_images(images)
        y = self._check_labels(labels, x.shape[0])
        head = self._head_of(task_id, training=True)
        saved = self._capture()
        try:
            self._train_task(task_id, x, y, head)
            self._check_finite_state()
        except BaseException:
            self._restore(saved)
            raise

    def _train_task(self, task_id: int, x: torch.Tensor, y: torch.Tensor, head: int) -> None:
        self.task_heads[task_id] = head
        self._before_task(task_id)
        cfg = self.train_config
        opt = torch.optim.SGD(self.net.parameters(), lr=cfg.lr, momentum=cfg.momentum)
        self.net.train()
        for _ in range(cfg.epochs):
            order = torch.randperm(x.shape[0], generator=self.generator).to(self.device)
            for start in range(0, x.shape[0], cfg.batch_size):
                idx = order[start : start + cfg.batch_size]
                opt.zero_grad(set_to_none=True)
                penalty = self._penalty()
                if cfg.rule == "online":
                    self.net.online_backward(x[idx], y[idx], head)
                    if penalty is not None:
                        penalty.backward()
                else:
                    loss = self._batch_loss_bptt(x[idx], y[idx], head)
                    (loss if penalty is None else loss + penalty).backward()
                self._transform_gradients(task_id)
                opt.step()
        self._check_finite_state()  # before the description of the network is built from the weights
        self._after_task(task_id, x, y, head)
        if task_id not in self.tasks_trained:
            self.tasks_trained.append(task_id)

    # ----- inference ---------------------------------------------------------------
    def predict(self, task_id: int, images: np.ndarray | torch.Tensor, batch_size: int = 1000) -> np.ndarray:
        """Predicted labels (N,) of ``images`` for a task trained before."""
        head = self._head_of(self._check_task_id(task_id), training=False)
        x = self._check_images(images)
        self.net.eval()
        out = []
        with torch.no_grad():
            for start in range(0, x.shape[0], batch_size):
                out.append(self.net(x[start : start + batch_size], head=head).argmax(1).cpu())
        return torch.cat(out).numpy()

    def evaluate(self, task_id: int, images: np.ndarray | torch.Tensor, labels: np.ndarray | torch.Tensor) -> float:
        """Accuracy in [0, 1] on a task trained before."""
        x = self._check_images(images)
        y = self._check_labels(labels, x.shape[0])
        return float((torch.as_tensor(self.predict(task_id, x)) == y.cpu()).float().mean())


class FineTuneLearner(ContinualLearner):
    """Plain sequential fine-tuning: the baseline that forgets."""

    method = "finetune"
