"""Spiking network of HLOP: optional conv layers, LIF hidden layers, readout heads.

Input is direct (constant current) coding: the image ``x`` in [0, 1] is the
input current of the first layer at each of ``num_steps`` steps of ``dt`` ms.
Logits are the readout current averaged over the steps (see :class:`Readout`).

Example
-------
>>> net = SpikingNet(NetworkConfig(hidden=(64,), n_classes=10))
>>> logits = net(torch.rand(4, 784), head=0)
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
from torch import nn

from neuromem.errors import ValidationError
from neuromem.limits import check_memory
from neuromem.models.hlop.layers import Readout, SpikingConv2d, SpikingLinear

__all__ = ["NetworkConfig", "SpikingNet"]


@dataclass(frozen=True)
class NetworkConfig:
    """Shape and neuron parameters of a :class:`SpikingNet`.

    Attributes
    ----------
    input_shape
        Shape of one sample: ``(784,)`` for an MLP, ``(1, 28, 28)`` with conv layers.
    hidden
        Sizes of the fully connected LIF layers.
    conv_channels
        Output channels of 3x3, stride-2 conv LIF layers placed first (may be empty).
    n_classes
        Classes per head.
    n_heads
        1 for single-head, the number of tasks for multi-head.
    num_steps
        Time steps T per sample.
    tau_m, dt
        Membrane time constant and time step (ms).
    threshold, slope
        Firing threshold and surrogate-gradient slope.
    """

    input_shape: tuple[int, ...] = (784,)
    hidden: tuple[int, ...] = (256, 256)
    conv_channels: tuple[int, ...] = ()
    n_classes: int = 10
    n_heads: int = 1
    num_steps: int = 4
    tau_m: float = 10.0
    dt: float = 1.0
    threshold: float = 1.0
    slope: float = 5.0

    def __post_init__(self) -> None:
        for name in ("input_shape", "hidden", "conv_channels"):
            value = getattr(self, name)
            if not isinstance(value, tuple) or not all(
                isinstance(v, int) and not isinstance(v, bool) and v >= 1 for v in value
            ):
                raise ValidationError(f"NetworkConfig: {name} = {value!r} is not allowed (a tuple of integers >= 1)")
        for name in ("n_classes", "n_heads", "num_steps"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int):
                raise ValidationError(f"NetworkConfig: {name} = {value!r} is not allowed (an integer)")
        for name in ("tau_m", "dt", "threshold", "slope"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
                raise ValidationError(f"NetworkConfig: {name} = {value!r} is not allowed (a finite number)")
        checks = {
            "hidden": all(h >= 1 for h in self.hidden) and len(self.hidden) >= 1,
            "n_classes": self.n_classes >= 2,
            "n_heads": self.n_heads >= 1,
            "num_steps": self.num_steps >= 1,
            "tau_m": self.tau_m > 0,
            "dt": self.dt > 0,
            "threshold": self.threshold > 0,
            "input_shape": len(self.input_shape) in (1, 3) and (not self.conv_channels or len(self.input_shape) == 3),
        }
        for name, ok in checks.items():
            if not ok:
                raise ValidationError(
                    f"NetworkConfig: {name} = {getattr(self, name)!r} is not allowed "
                    "(hidden sizes >= 1, n_classes >= 2, n_heads/num_steps >= 1, tau_m/dt/threshold > 0, "
                    "input_shape (N,) or (C, H, W); conv layers need (C, H, W))"
                )

    def parameter_count(self) -> int:
        """Number of weights of the :class:`SpikingNet` this configuration builds (its layers have no bias)."""
        total, shape = 0, self.input_shape
        for channels in self.conv_channels:
            total += channels * shape[0] * 9
            shape = (channels, (shape[1] + 1) // 2, (shape[2] + 1) // 2)
        width = math.prod(shape)
        for size in self.hidden:
            total += width * size
            width = size
        return total + self.n_heads * width * self.n_classes


class SpikingNet(nn.Module):
    """Feed-forward spiking network; ``layers`` are the shared (protected) layers."""

    def __init__(self, config: NetworkConfig) -> None:
        check_memory("SpikingNet", f"{config.parameter_count():,} parameters", 4.0 * config.parameter_count())
        super().__init__()
        self.config = config
        neuron = {"tau_m": config.tau_m, "dt": config.dt, "threshold": config.threshold, "slope": config.slope}
        layers: list[nn.Module] = []
        shape = config.input_shape
        for channels in config.conv_channels:
            layers.append(SpikingConv2d(shape[0], channels, kernel_size=3, padding=1, stride=2, **neuron))
            shape = (channels, (shape[1] + 1) // 2, (shape[2] + 1) // 2)
        width = math.prod(shape)
        for size in config.hidden:
            layers.append(SpikingLinear(width, size, **neuron))
            width = size
        self.layers = nn.ModuleList(layers)
        self.heads = nn.ModuleList([Readout(width, config.n_classes) for _ in range(config.n_heads)])
        self.n_conv = len(config.conv_channels)

    def protected_modules(self, single_head: bool) -> dict[str, nn.Module]:
        """Layers whose updates HLOP projects; the readout too when it is shared."""
        mods: dict[str, nn.Module] = {f"layer{i}": m for i, m in enumerate(self.layers)}
        if single_head:
            mods["head0"] = self.heads[0]
        return mods

    def step(
        self,
        x: torch.Tensor,
        mems: list[torch.Tensor | None],
        head: int,
        traces: list[torch.Tensor] | None = None,
    ) -> tuple[torch.Tensor, list[torch.Tensor], list[torch.Tensor]]:
        """One time step: input current ``x`` -> readout current, new membranes, presynaptic inputs.

        ``traces`` (online rule) holds one presynaptic trace per layer plus the
        readout; the weight gradients then use them in place of the inputs.
        """
        inputs: list[torch.Tensor] = []
        new_mems: list[torch.Tensor] = []
        h = x
        for i, layer in enumerate(self.layers):
            if i == self.n_conv and self.n_conv:
                h = h.flatten(1)
            inputs.append(h)
            h, mem = layer(h, mems[i], None if traces is None else traces[i])
            new_mems.append(mem)
        if self.n_conv == len(self.layers):
            h = h.flatten(1)
        inputs.append(h)
        out = self.heads[head](h, None if traces is None else traces[-1])
        return out, new_mems, inputs

    def forward(self, x: torch.Tensor, head: int = 0, record: bool = False) -> torch.Tensor:
        """Logits (B, n_classes) of ``x`` of shape ``(B, *input_shape)`` through ``head``, BPTT-ready.

        With ``record=True`` the presynaptic inputs of every step are kept in
        ``self.recorded`` (list over layers + readout of (T*B, ...) tensors).
        """
        mems: list[torch.Tensor | None] = [None] * len(self.layers)
        total = torch.zeros(())
        recorded: list[list[torch.Tensor]] = [[] for _ in range(len(self.layers) + 1)]
        for _ in range(self.config.num_steps):
            out, mems, inputs = self.step(x, mems, head)  # type: ignore[assignment]
            total = total + out
            if record:
                for store, value in zip(recorded, inputs, strict=True):
                    store.append(value.detach())
        if record:
            self.recorded = [torch.cat(r, dim=0) for r in recorded]
        return total / self.config.num_steps

    def presynaptic(self, x: torch.Tensor, head: int = 0) -> dict[str, torch.Tensor]:
        """Presynaptic vectors of every layer and of ``head`` for inputs ``x``, as (rows, N)."""
        with torch.no_grad():
            self.forward(x, head=head, record=True)
        mods = list(self.layers) + [self.heads[head]]
        names = [f"layer{i}" for i in range(len(self.layers))] + [f"head{head}"]
        result = {n: m.presynaptic(r) for n, m, r in zip(names, mods, self.recorded, strict=True)}
        del self.recorded
        return result
