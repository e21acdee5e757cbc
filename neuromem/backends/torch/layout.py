"""Packing of all populations into one index space, and per-neuron constants.

LIF populations come first (indices ``0 .. n_lif - 1``, the rows of the
membrane state), spike sources after them. One spike vector of length
``n_total`` then serves every projection, so all static projections merge
into one set of propagation tensors (few large operations instead of many
small ones).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from neuromem.spec import LIFCurrExp, Network, step_coefficients


@dataclass(frozen=True)
class Layout:
    """Where each population lives in the packed index space."""

    offsets: dict[str, int]
    sizes: dict[str, int]
    lif_names: tuple[str, ...]
    source_names: tuple[str, ...]
    n_lif: int
    n_total: int

    @classmethod
    def of(cls, network: Network) -> Layout:
        offsets: dict[str, int] = {}
        sizes = {p.name: int(p.size) for p in network.populations}  # type: ignore[arg-type]
        lif = tuple(p.name for p in network.populations if not p.is_source)
        sources = tuple(p.name for p in network.populations if p.is_source)
        position = 0
        for name in lif + sources:
            offsets[name] = position
            position += sizes[name]
        n_lif = sum(sizes[n] for n in lif)
        return cls(offsets, sizes, lif, sources, n_lif, position)

    def slice(self, name: str) -> slice:
        """Packed indices of population ``name``."""
        return slice(self.offsets[name], self.offsets[name] + self.sizes[name])


@dataclass(frozen=True)
class NeuronConstants:
    """Per-neuron constants of the LIF part, as tensors of shape (n_lif,)."""

    v_rest: torch.Tensor
    v_reset: torch.Tensor
    v_thresh: torch.Tensor
    v_init: torch.Tensor
    i_offset: torch.Tensor
    resistance: torch.Tensor
    p_mm: torch.Tensor
    decay_E: torch.Tensor
    decay_I: torch.Tensor
    input_E: torch.Tensor
    input_I: torch.Tensor
    gain_E: torch.Tensor
    gain_I: torch.Tensor
    refractory_steps: torch.Tensor
    v_drive: torch.Tensor

    @classmethod
    def of(
        cls, network: Network, layout: Layout, dt: float, dtype: torch.dtype, device: torch.device
    ) -> NeuronConstants:
        columns: dict[str, list[np.ndarray]] = {name: [] for name in cls.__dataclass_fields__}
        for name in layout.lif_names:
            cell = network.population(name).cell
            assert isinstance(cell, LIFCurrExp)
            c = step_coefficients(cell, dt, network.scheme)
            n = layout.sizes[name]
            values = {
                "v_rest": cell.v_rest,
                "v_reset": cell.v_reset,
                "v_thresh": cell.v_thresh,
                "v_init": cell.initial_v,
                "i_offset": cell.i_offset,
                "resistance": cell.membrane_resistance,
                "p_mm": c.p_mm,
                "decay_E": c.decay_E,
                "decay_I": c.decay_I,
                "input_E": c.input_E,
                "input_I": c.input_I,
                "gain_E": c.v_gain_E,
                "gain_I": c.v_gain_I,
                "refractory_steps": c.refractory_steps,
                # Resting drive of the exact scheme: (v_rest + R i_offset)(1 - P_mm), mV.
                "v_drive": (cell.v_rest + cell.membrane_resistance * cell.i_offset) * (1.0 - c.p_mm),
            }
            for key, value in values.items():
                columns[key].append(np.full(n, value, dtype=np.float64))
        tensors = {}
        for key, parts in columns.items():
            array = np.concatenate(parts) if parts else np.zeros(0)
            if key == "refractory_steps":
                tensors[key] = torch.as_tensor(array, dtype=torch.int32, device=device)
            else:
                tensors[key] = torch.as_tensor(array, dtype=dtype, device=device)
        return cls(**tensors)
