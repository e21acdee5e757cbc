"""Spiking network of HLOP, trained on the torch engine: LIF hidden layers and readout heads.

The network is the spec :class:`~neuromem.spec.Network` of
:mod:`neuromem.models.hlop.description`, run and differentiated by
:func:`neuromem.backends.torch.module` (BPTT with a fast-sigmoid surrogate).
Input is direct coding: the image ``x`` in [0, 1] is the graded event of the
``input`` population at each of ``num_steps`` steps of ``dt`` ms, so the
first layer receives ``W x`` mV per step. The logits are the readout's
summed voltage steps divided by ``num_steps``.

The learner owns one signed weight matrix per layer (:class:`SignedWeights`);
each forward pass hands it to the module as the matrix of the layer's
excitatory/inhibitory projection pair (which the module would otherwise
build as ``max(W, 0) - max(-W, 0)``), so a gradient step and its orthogonal
projection act on the signed matrix.

Example
-------
>>> net = SpikingNet(NetworkConfig(hidden=(64,), n_classes=10))
>>> logits = net(torch.rand(4, 784), head=0)
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import torch
from snntorch import surrogate
from torch import nn
from torch.nn import functional as F

from neuromem.backends.torch import module
from neuromem.errors import CapabilityError, ValidationError
from neuromem.limits import check_memory
from neuromem.models.hlop.description import layer_names, network_description, steps_for
from neuromem.spec import Network

__all__ = ["NetworkConfig", "SignedWeights", "SpikingNet"]


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
        Must be empty: a convolution shares weights between synapses, which
        spec projections cannot say (refused with CapabilityError).
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
        if self.conv_channels:
            raise CapabilityError(
                f"NetworkConfig: feature conv_channels = {self.conv_channels!r} cannot be expressed in the network"
                " description (spec projections have no shared weights); allowed: () (fully connected layers)"
            )
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


class SignedWeights(nn.Module):
    """One layer's signed weights W (out, in) in mV per spike: the projection pair of the description.

    Parameters
    ----------
    in_features, out_features
        Presynaptic and postsynaptic sizes.
    """

    def __init__(self, in_features: int, out_features: int) -> None:
        super().__init__()
        self.in_features = in_features
        self.out_features = out_features
        self.weight = nn.Parameter(torch.empty(out_features, in_features))
        nn.init.kaiming_uniform_(self.weight, a=math.sqrt(5))

    def presynaptic(self, x: torch.Tensor) -> torch.Tensor:
        """Presynaptic vectors seen by the weights, shape (rows, in_features)."""
        return x.reshape(-1, self.in_features)

    def weight_matrix(self) -> torch.Tensor:
        """Weights as (out, in)."""
        return self.weight


class SpikingNet(nn.Module):
    """HLOP's network on the torch engine; ``layers`` are the shared (protected) layers."""

    def __init__(self, config: NetworkConfig) -> None:
        check_memory("SpikingNet", f"{config.parameter_count():,} parameters", 4.0 * config.parameter_count())
        super().__init__()
        self.config = config
        width = math.prod(config.input_shape)
        self.n_inputs = width
        layers: list[SignedWeights] = []
        for size in config.hidden:
            layers.append(SignedWeights(width, size))
            width = size
        self.layers = nn.ModuleList(layers)
        self.heads = nn.ModuleList([SignedWeights(width, config.n_classes) for _ in range(config.n_heads)])
        self.n_conv = 0
        self.hidden_names, self.readout_names = layer_names(len(config.hidden), config.n_heads)
        self.steps = steps_for(config.num_steps, len(config.hidden))
        # The engine module is rebuilt lazily per head (it is not a parameter holder here).
        self._engines: dict[int, nn.Module] = {}

    def protected_modules(self, single_head: bool) -> dict[str, nn.Module]:
        """Layers whose updates HLOP projects; the readout too when it is shared."""
        mods: dict[str, nn.Module] = {f"layer{i}": m for i, m in enumerate(self.layers)}
        if single_head:
            mods["head0"] = self.heads[0]
        return mods

    def description(self, heads: tuple[int, ...] | None = None) -> Network:
        """The spec network with the current weights (all heads, or ``heads``)."""
        weights = {f"layer{i}": m.weight.detach().cpu().numpy() for i, m in enumerate(self.layers)}
        weights.update({f"head{h}": m.weight.detach().cpu().numpy() for h, m in enumerate(self.heads)})
        cfg = self.config
        return network_description(
            self.n_inputs, cfg.hidden, cfg.n_classes, cfg.n_heads, cfg.tau_m, cfg.threshold, weights, heads, dt=cfg.dt
        )

    def engine(self, head: int) -> nn.Module:
        """The :func:`~neuromem.backends.torch.module` of the network with readout ``head`` only."""
        if head not in self._engines:
            cfg = self.config
            structure = network_description(
                self.n_inputs,
                cfg.hidden,
                cfg.n_classes,
                cfg.n_heads,
                cfg.tau_m,
                cfg.threshold,
                heads=(head,),
                dt=cfg.dt,
            )
            device = self.layers[0].weight.device
            self._engines[head] = module(
                structure,
                dt=cfg.dt,
                device=device,
                propagation="projection",
                surrogate=surrogate.fast_sigmoid(slope=cfg.slope),
                outputs=[*self.hidden_names, self.readout_names[head]],
            )
        return self._engines[head]

    def _apply(self, fn, recurse=True):  # type: ignore[no-untyped-def]
        # Moving the weights to another device: the engines are rebuilt there.
        self._engines = {}
        return super()._apply(fn, recurse)

    def _matrices(self, head: int) -> dict[tuple[str, str], torch.Tensor]:
        """Each layer's signed weights as the (pre, post) matrix of its fused projection pair.

        The module would build the same matrix from the pair ``max(W, 0)``,
        ``max(-W, 0)`` as their difference; giving it directly saves the split
        and the sum back (and their backward passes). Contiguous, so the
        products are those of the pair's matrix bit for bit.
        """
        pres = ["input", *self.hidden_names]
        posts = [*self.hidden_names, self.readout_names[head]]
        mods = [*self.layers, self.heads[head]]
        return {(pre, post): mod.weight.T.contiguous() for pre, post, mod in zip(pres, posts, mods, strict=True)}

    def run(self, x: torch.Tensor, head: int) -> tuple[torch.Tensor, Mapping[str, torch.Tensor]]:
        """Logits (B, n_classes) and hidden spikes {population: (steps, B, n)} of images ``x`` (B, ...).

        The spikes are a read-only mapping, stacked when a population is first read.
        """
        engine = self.engine(head)
        frames = x.reshape(x.shape[0], -1)
        # The image is the input's graded event at each of the first T steps; the run goes on to the readout.
        graded = frames.expand(self.config.num_steps, *frames.shape)
        out = engine({"input": graded}, steps=self.steps, matrices=self._matrices(head))
        logits = out.v[self.readout_names[head]][-1] / self.config.num_steps
        return logits, out.spikes

    def online_backward(self, x: torch.Tensor, y: torch.Tensor, head: int) -> tuple[torch.Tensor, torch.Tensor]:
        """The online trace rule's gradients of one batch, added into the weights' ``.grad``.

        OTTT (Xiao et al. 2022) on the engine's :meth:`~neuromem.backends.torch.module.NetworkModule.step`:
        at each of the ``T`` steps whose output reaches the readout, the
        instantaneous loss ``cross_entropy(o_t, y) / T`` on the readout's
        voltage step ``o_t = W h_t`` is backpropagated through the layers of
        that step only (hidden membranes detached from their past; each hidden
        layer's weight gradient uses the presynaptic trace
        ``a_t = exp(-dt/tau_m) a_{t-1} + s_t``, the readout's the spikes of the step).

        Returns
        -------
        (loss, logits)
            Summed loss (detached) and ``mean_t o_t`` (B, n_classes), the logits :meth:`forward` gives.
        """
        engine = self.engine(head)
        readout = self.readout_names[head]
        T, n_layers = self.config.num_steps, len(self.config.hidden)
        decays = {name: math.exp(-self.config.dt / self.config.tau_m) for name in self.hidden_names}
        decays[readout] = 0.0  # o_t is the step's input W h_t: its gradient is the spikes of the step
        frames = x.reshape(x.shape[0], -1)
        silent = torch.zeros_like(frames)
        state = engine.initial_state(frames.shape[0])
        matrices = self._matrices(head)
        previous = torch.zeros(frames.shape[0], self.config.n_classes, dtype=frames.dtype, device=frames.device)
        total_loss = torch.zeros((), dtype=frames.dtype, device=frames.device)
        total_logits = torch.zeros_like(previous)
        for t in range(self.steps):
            inputs = {"input": frames if t < T else silent}
            state, out = engine.step(state, inputs, decays, matrices)
            v = out.v[readout]
            if t > n_layers:  # the readout receives the T steps of the input at ticks L + 1 .. T + L
                step_logits = v - previous
                loss = F.cross_entropy(step_logits, y) / T
                # The input this step sends on is in the next step's graph too; the graph goes when the
                # state moves past it.
                loss.backward(retain_graph=True)
                total_loss += loss.detach()
                total_logits += step_logits.detach() / T
            previous = v.detach()
        return total_loss, total_logits

    def forward(self, x: torch.Tensor, head: int = 0) -> torch.Tensor:
        """Logits (B, n_classes) of ``x`` of shape ``(B, *input_shape)`` through ``head``, BPTT-ready."""
        return self.run(x, head)[0]

    def presynaptic(self, x: torch.Tensor, head: int = 0) -> dict[str, torch.Tensor]:
        """Presynaptic vectors of every layer and of ``head`` for inputs ``x``, as (T * B, N).

        Rows are one step's presynaptic events: the image for ``layer0`` at
        each of the ``T`` steps, the previous layer's spikes (0/1) of its
        ``T``-step window otherwise.
        """
        T = self.config.num_steps
        with torch.no_grad():
            _, spikes = self.run(x, head)
        frames = x.reshape(x.shape[0], -1)
        result = {"layer0": frames.expand(T, *frames.shape).reshape(-1, frames.shape[1])}
        for i, name in enumerate(self.hidden_names):
            window = spikes[name][i + 1 : i + 1 + T]  # hidden i fires in steps i + 1 .. i + T
            key = f"layer{i + 1}" if i + 1 < len(self.layers) else f"head{head}"
            result[key] = window.reshape(-1, window.shape[2])
        return result


def numpy_weights(net: SpikingNet) -> dict[str, np.ndarray]:
    """Signed weight matrices by layer name."""
    out = {f"layer{i}": m.weight.detach().cpu().numpy() for i, m in enumerate(net.layers)}
    out.update({f"head{h}": m.weight.detach().cpu().numpy() for h, m in enumerate(net.heads)})
    return out
