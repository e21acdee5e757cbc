"""Receptive fields of a grid of macs: which source entries feed which mac.

An :class:`Afferent` holds, for each of M target macs, the indices of the
source entries (pixels, or cells of another level) in its receptive field,
padded with -1 to a common width F. It is pure data (numpy, read-only).

Example
-------
>>> import numpy as np
>>> a = Afferent.full(5)           # one mac that sees all 5 inputs
>>> a.index.shape, a.source_size
((1, 5), 5)
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from neuromem.errors import ValidationError


@dataclass(frozen=True, eq=False)
class Afferent:
    """Receptive fields of one signal type (U, H or D) for M macs.

    Parameters
    ----------
    index : ndarray of int, shape (M, F)
        Source entry of each RF slot, -1 for unused padding slots.
    source_size : int
        Length of the source vector the indices point into.
    max_active : ndarray of float, shape (M,)
        Most source entries of the RF that can be active at once (the RF size
        for pixels; lower macs in the RF times their Q for cells). The
        activation band is a fraction of this.
    same_level_cells : tuple of int or None
        (Q, K) when the source is the target level's own cells (H signals):
        then a cell never receives from cells of its own CM in its own mac,
        itself included.
    """

    index: np.ndarray
    source_size: int
    max_active: np.ndarray
    same_level_cells: tuple[int, int] | None = None

    def __post_init__(self) -> None:
        index = np.array(self.index, dtype=np.int64)
        if index.ndim != 2 or index.shape[0] < 1:
            raise ValidationError(f"Afferent: index has shape {index.shape}; expected (n_macs >= 1, F)")
        if index.size and (index.min() < -1 or index.max() >= self.source_size):
            bad = index[(index < -1) | (index >= self.source_size)][0]
            raise ValidationError(
                f"Afferent: receptive-field index {bad} lies outside the input 0..{self.source_size - 1}"
            )
        max_active = np.array(self.max_active, dtype=np.float64).reshape(-1)
        if max_active.shape != (index.shape[0],):
            raise ValidationError(f"Afferent: max_active has {max_active.size} entries; expected {index.shape[0]}")
        index.setflags(write=False)
        max_active.setflags(write=False)
        object.__setattr__(self, "index", index)
        object.__setattr__(self, "max_active", max_active)

    @property
    def n_macs(self) -> int:
        """Number of target macs M."""
        return int(self.index.shape[0])

    @property
    def width(self) -> int:
        """Padded RF width F."""
        return int(self.index.shape[1])

    @classmethod
    def full(cls, source_size: int, n_macs: int = 1) -> Afferent:
        """Every mac sees the whole source vector."""
        index = np.tile(np.arange(source_size, dtype=np.int64), (n_macs, 1))
        return cls(index, source_size, np.full(n_macs, float(source_size)))

    @classmethod
    def from_lists(
        cls,
        fields: list[np.ndarray],
        source_size: int,
        max_active: np.ndarray | None = None,
        same_level_cells: tuple[int, int] | None = None,
    ) -> Afferent:
        """Pad per-mac index lists to a common width."""
        width = max(1, max(len(f) for f in fields))
        index = np.full((len(fields), width), -1, dtype=np.int64)
        for m, f in enumerate(fields):
            index[m, : len(f)] = np.asarray(f, dtype=np.int64)
        if max_active is None:
            max_active = np.array([float(len(f)) for f in fields])
        return cls(index, source_size, max_active, same_level_cells)

    def allowed(self, Q: int, K: int) -> np.ndarray:
        """Bool (M, F, Q*K): which (slot, target cell) weights may ever be set."""
        valid = self.index >= 0
        allowed = np.repeat(valid[:, :, None], Q * K, axis=2)
        if self.same_level_cells is not None:
            q_src, k_src = self.same_level_cells
            src = np.where(valid, self.index, 0)
            src_mac = src // (q_src * k_src)
            src_cm = (src % (q_src * k_src)) // k_src
            tgt_cm = np.arange(Q * K) // K
            own_mac = src_mac == np.arange(self.n_macs)[:, None]
            same_cm = src_cm[:, :, None] == tgt_cm[None, None, :]
            allowed &= ~(own_mac[:, :, None] & same_cm)
        return allowed

    def to_arrays(self, prefix: str) -> dict[str, np.ndarray]:
        """Arrays for an ``.npz`` file."""
        return {f"{prefix}_index": self.index, f"{prefix}_max_active": self.max_active}

    def to_meta(self) -> dict[str, object]:
        """JSON-ready scalars."""
        cells = None if self.same_level_cells is None else list(self.same_level_cells)
        return {"source_size": self.source_size, "same_level_cells": cells}

    @classmethod
    def from_saved(cls, arrays: dict[str, np.ndarray], prefix: str, meta: dict[str, object]) -> Afferent:
        """Inverse of :meth:`to_arrays` and :meth:`to_meta`."""
        cells = meta.get("same_level_cells")
        return cls(
            arrays[f"{prefix}_index"],
            int(meta["source_size"]),  # type: ignore[arg-type]
            arrays[f"{prefix}_max_active"],
            None if cells is None else (int(cells[0]), int(cells[1])),  # type: ignore[index]
        )
