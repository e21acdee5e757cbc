"""Validation and shaping of the binary inputs of a mac layer.

Every check runs on the whole batch before anything is computed, so a bad
input raises :class:`~neuromem.errors.ValidationError` and changes nothing.

Example
-------
>>> import torch
>>> as_source(torch.ones(4), size=4, replicas=2, batched=False, owner="MacLayer 'x'", field="u").shape
torch.Size([2, 1, 4])
"""

from __future__ import annotations

import numpy as np
import torch

from neuromem.errors import ValidationError


def as_source(
    value: object, size: int, replicas: int, batched: bool, owner: str, field: str, device: torch.device | None = None
) -> torch.Tensor:
    """Validate a binary source and shape it as (R, B, N) float32.

    Parameters
    ----------
    value : array-like
        (N,) or (R, N) when learning (one item per replica); (N,), (B, N) or
        (R, B, N) otherwise.
    size : int
        N, the source length the layer expects.
    replicas : int
        R.
    batched : bool
        Whether a batch of queries is allowed (recognise, assign).
    owner, field : str
        Names used in error messages.
    device : torch.device or None
        Where the result goes.
    """
    try:
        x = value.detach() if isinstance(value, torch.Tensor) else torch.as_tensor(np.asarray(value))
    except (TypeError, ValueError, RuntimeError):
        raise ValidationError(f"{owner}: input {field} is not numeric") from None
    if x.dtype == torch.bool:
        x = x.to(torch.float32)
    if not (x.dtype.is_floating_point or x.dtype in (torch.int8, torch.int16, torch.int32, torch.int64, torch.uint8)):
        raise ValidationError(f"{owner}: input {field} has dtype {x.dtype}; give 0/1 numbers")
    if x.ndim == 0 or x.shape[-1] != size:
        got = "a scalar" if x.ndim == 0 else f"{x.shape[-1]} features"
        raise ValidationError(f"{owner}: input {field} has {got}; expected {size} (shape (..., {size}))")
    bad = x[(x != 0) & (x != 1)]
    if bad.numel():
        raise ValidationError(
            f"{owner}: input {field} holds value {bad.flatten()[0].item():g}; only 0 and 1 are allowed"
        )
    x = x.to(torch.float32)
    if not batched:
        if x.ndim == 1:
            x = x.expand(replicas, size)
        if x.shape != (replicas, size):
            raise ValidationError(
                f"{owner}: learning input {field} has shape {tuple(x.shape)}; expected ({size},) or "
                f"({replicas}, {size}): one item per replica, never a batch of items"
            )
        x = x[:, None, :]
    else:
        if x.ndim == 1:
            x = x[None, :]
        if x.ndim == 2:
            x = x[None].expand(replicas, *x.shape)
        if x.ndim != 3 or x.shape[0] != replicas:
            raise ValidationError(
                f"{owner}: input {field} has shape {tuple(x.shape)}; expected ({size},), (B, {size}) "
                f"or ({replicas}, B, {size})"
            )
    return x if device is None else x.to(device)
