"""Spiking layers of leaky integrate-and-fire neurons (snnTorch) for HLOP.

Each layer owns its weights and a fresh :class:`snntorch.Leaky` (``init_hidden=False``),
so no state is shared between layers or networks. Membrane state is passed in
and returned explicitly; nothing relies on snnTorch's global instance list.

Neuron model, per time step ``dt`` (ms), with ``beta = exp(-dt / tau_m)``::

    U[t] = beta * U[t-1] + I[t] - S[t-1] * theta      (reset by subtraction)
    S[t] = H(U[t] - theta)                             (H: Heaviside; surrogate
                                                        fast-sigmoid gradient)

with input current ``I[t] = W x[t]`` (fully connected) or ``W * x[t]``
(convolution) and no bias: a bias would change old tasks' outputs whatever
the projection of the weights does.

Example
-------
>>> layer = SpikingLinear(784, 100, tau_m=10.0, dt=1.0)
>>> spk, mem = layer(torch.rand(8, 784), None)
>>> spk.shape
torch.Size([8, 100])
"""

from __future__ import annotations

import math
from collections.abc import Callable

import snntorch
import torch
from snntorch import surrogate
from torch import nn
from torch.nn import functional as F

__all__ = ["Readout", "SpikingConv2d", "SpikingLinear", "unfold_patches"]


def _leaky(tau_m: float, dt: float, threshold: float, slope: float) -> snntorch.Leaky:
    return snntorch.Leaky(
        beta=math.exp(-dt / tau_m),
        threshold=threshold,
        spike_grad=surrogate.fast_sigmoid(slope=slope),
        init_hidden=False,
        reset_mechanism="subtract",
    )


def _with_trace(
    op: Callable[[torch.Tensor, torch.Tensor], torch.Tensor],
    x: torch.Tensor,
    weight: torch.Tensor,
    trace: torch.Tensor | None,
) -> torch.Tensor:
    """``op(x, weight)`` whose weight gradient uses the presynaptic ``trace``.

    The online rule: the forward value is ``W x`` and the error still reaches
    the previous layer through ``x``, but the weight gradient becomes
    ``delta trace^T`` (presynaptic trace times the per-step error) instead of
    ``delta x^T``.
    """
    if trace is None:
        return op(x, weight)
    via_trace = op(trace.detach(), weight)
    return op(x, weight.detach()) + via_trace - via_trace.detach()


class SpikingLinear(nn.Module):
    """Fully connected layer of LIF neurons.

    Parameters
    ----------
    in_features, out_features
        Presynaptic and postsynaptic sizes.
    tau_m
        Membrane time constant (ms).
    dt
        Time step (ms).
    threshold
        Firing threshold (dimensionless, units of input current x step).
    slope
        Slope of the fast-sigmoid surrogate gradient.
    """

    def __init__(
        self,
        in_features: int,
        out_features: int,
        tau_m: float = 10.0,
        dt: float = 1.0,
        threshold: float = 1.0,
        slope: float = 5.0,
    ) -> None:
        super().__init__()
        self.in_features = in_features
        self.out_features = out_features
        self.tau_m = float(tau_m)
        self.dt = float(dt)
        self.threshold = float(threshold)
        self.weight = nn.Parameter(torch.empty(out_features, in_features))
        nn.init.kaiming_uniform_(self.weight, a=math.sqrt(5))
        self.neuron = _leaky(tau_m, dt, threshold, slope)

    def forward(
        self, x: torch.Tensor, mem: torch.Tensor | None, trace: torch.Tensor | None = None
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """One time step: ``x`` (B, in) -> spikes and membrane (B, out)."""
        current = _with_trace(F.linear, x, self.weight, trace)
        if mem is None:
            mem = torch.zeros_like(current)
        return self.neuron(current, mem)

    def presynaptic(self, x: torch.Tensor) -> torch.Tensor:
        """Presynaptic vectors seen by the weights, shape (rows, in_features)."""
        return x.reshape(-1, self.in_features)

    def weight_matrix(self) -> torch.Tensor:
        """Weights as (out, N) with N the presynaptic vector size."""
        return self.weight


def unfold_patches(x: torch.Tensor, kernel_size: int, padding: int, stride: int) -> torch.Tensor:
    """Unfold images (B, C, H, W) into patch vectors (B * L, C * k * k).

    A convolution is a matrix product of its (C_out, C*k*k) weight with these
    patches, so the linear-layer projection applies to it unchanged.
    """
    cols = F.unfold(x, kernel_size=kernel_size, padding=padding, stride=stride)
    return cols.transpose(1, 2).reshape(-1, cols.shape[1])


class SpikingConv2d(nn.Module):
    """Convolutional layer of LIF neurons (no bias); parameters as :class:`SpikingLinear`.

    Parameters
    ----------
    in_channels, out_channels, kernel_size, padding, stride
        As :class:`torch.nn.Conv2d`.
    """

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        kernel_size: int = 3,
        padding: int = 1,
        stride: int = 1,
        tau_m: float = 10.0,
        dt: float = 1.0,
        threshold: float = 1.0,
        slope: float = 5.0,
    ) -> None:
        super().__init__()
        self.in_channels = in_channels
        self.out_channels = out_channels
        self.kernel_size = kernel_size
        self.padding = padding
        self.stride = stride
        self.tau_m = float(tau_m)
        self.dt = float(dt)
        self.threshold = float(threshold)
        self.weight = nn.Parameter(torch.empty(out_channels, in_channels, kernel_size, kernel_size))
        nn.init.kaiming_uniform_(self.weight, a=math.sqrt(5))
        self.neuron = _leaky(tau_m, dt, threshold, slope)

    @property
    def in_features(self) -> int:
        """Size N of one presynaptic patch vector, C_in * k * k."""
        return self.in_channels * self.kernel_size * self.kernel_size

    def forward(
        self, x: torch.Tensor, mem: torch.Tensor | None, trace: torch.Tensor | None = None
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """One time step: ``x`` (B, C_in, H, W) -> spikes and membrane (B, C_out, H', W')."""
        current = _with_trace(self._conv, x, self.weight, trace)
        if mem is None:
            mem = torch.zeros_like(current)
        return self.neuron(current, mem)

    def _conv(self, x: torch.Tensor, weight: torch.Tensor) -> torch.Tensor:
        return F.conv2d(x, weight, padding=self.padding, stride=self.stride)

    def presynaptic(self, x: torch.Tensor) -> torch.Tensor:
        """Unfolded patches of ``x``, shape (B * L, C_in * k * k)."""
        return unfold_patches(x, self.kernel_size, self.padding, self.stride)

    def weight_matrix(self) -> torch.Tensor:
        """Weights as (C_out, C_in * k * k)."""
        return self.weight.reshape(self.out_channels, -1)


class Readout(nn.Module):
    """Non-spiking readout: logits are the time-averaged synaptic current.

    ``z = (1/T) sum_t W h[t]``; being linear in the presynaptic spikes ``h``,
    the same orthogonal projection protects it. ``bias`` is absent on purpose.
    """

    def __init__(self, in_features: int, out_features: int) -> None:
        super().__init__()
        self.in_features = in_features
        self.out_features = out_features
        self.weight = nn.Parameter(torch.empty(out_features, in_features))
        nn.init.kaiming_uniform_(self.weight, a=math.sqrt(5))

    def forward(self, x: torch.Tensor, trace: torch.Tensor | None = None) -> torch.Tensor:
        """Current of one step, (B, in) -> (B, out)."""
        return _with_trace(F.linear, x, self.weight, trace)

    def presynaptic(self, x: torch.Tensor) -> torch.Tensor:
        """Presynaptic vectors, (rows, in_features)."""
        return x.reshape(-1, self.in_features)

    def weight_matrix(self) -> torch.Tensor:
        """Weights as (out, in)."""
        return self.weight
