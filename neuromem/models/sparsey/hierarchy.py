"""A Sparsey hierarchy: levels of mac grids over a binary input grid, and sequences.

Level 0 is the input, a (rows, cols) binary grid, optionally with several
binary channels per position (rows, cols, channels), e.g. a thermometer code
of grey levels; a flat input vector lists the channels of each position
together (row-major, channel last). Level l >= 1 is a grid of
macs (:class:`~neuromem.models.sparsey.params.LevelParams`). Unit positions
are normalised to [0, 1]^2 (cell centres), and a mac's U receptive field is
every unit of the level below within ``rf_radius`` of it; at levels >= 2 the
mac receives from all cells of those lower macs. Within a frame, levels run in
ascending order, so a level sees the codes its lower level chose this frame.
H signals come from this level's macs within ``h_radius`` (itself included)
and D signals from the upper level's macs within ``d_radius``, both from the
previous frame; so the same input gets different codes in different temporal
contexts, and sequences are chained through learned H weights.

Persistence: a mac keeps a code for ``persistence`` frames before its CSA runs
again. An episode starts with :meth:`Hierarchy.reset` (no H or D on its first
frame).

Example
-------
>>> from neuromem.models.sparsey.params import LevelParams
>>> net = Hierarchy((8, 8), [LevelParams(grid=(2, 2), Q=4, K=4, rf_radius=0.3)])
>>> import torch; x = torch.zeros(64); x[::5] = 1
>>> codes = net.learn(x)            # one-frame episode, every level
>>> len(codes), tuple(codes[0].code.shape)
(1, (1, 4, 4))
"""

from __future__ import annotations

import numpy as np
import torch

from neuromem.errors import ValidationError
from neuromem.limits import check_memory
from neuromem.models.sparsey.afferent import Afferent
from neuromem.models.sparsey.layer import FrameResult, MacLayer, code_to_cells, resolve_device
from neuromem.models.sparsey.params import CSAParams, LevelParams, check_count


def grid_positions(rows: int, cols: int) -> np.ndarray:
    """Normalised centres (rows*cols, 2) of a rows x cols grid, row-major."""
    r = (np.arange(rows) + 0.5) / rows
    c = (np.arange(cols) + 0.5) / cols
    rr, cc = np.meshgrid(r, c, indexing="ij")
    return np.stack([rr.ravel(), cc.ravel()], axis=1)


def _within(targets: np.ndarray, sources: np.ndarray, radius: float) -> list[np.ndarray]:
    check_memory(
        "Hierarchy", f"distances of {len(targets)} macs to {len(sources)} units", 24 * targets.size * len(sources)
    )
    dist = np.linalg.norm(targets[:, None, :] - sources[None, :, :], axis=-1)
    return [np.nonzero(row <= radius + 1e-12)[0] for row in dist]


def _batch_of(x: object) -> int:
    shape = np.shape(x.cpu() if isinstance(x, torch.Tensor) else x)
    return int(shape[-2]) if len(shape) >= 2 else 1


class Hierarchy:
    """Levels of Sparsey mac grids over a binary input grid.

    Parameters
    ----------
    input_shape : (int, int) or (int, int, int)
        Rows and columns of the binary input grid, and optionally the number
        of binary channels per position (default 1).
    levels : list of LevelParams
        One entry per level, bottom first.
    params : CSAParams or list of CSAParams
        CSA parameters, shared or one per level.
    replicas, device, seed :
        As for :class:`~neuromem.models.sparsey.layer.MacLayer`; level l uses seed + l.
    """

    def __init__(
        self,
        input_shape: tuple[int, int],
        levels: list[LevelParams],
        params: CSAParams | list[CSAParams] | None = None,
        replicas: int = 1,
        device: str | torch.device = "cpu",
        seed: int = 0,
    ) -> None:
        owner = "Hierarchy"
        if len(input_shape) not in (2, 3):
            raise ValidationError(
                f"{owner}: input_shape = {input_shape!r} must be (rows, cols) or (rows, cols, channels)"
            )
        rows = check_count(owner, "input_shape[0]", input_shape[0])
        cols = check_count(owner, "input_shape[1]", input_shape[1])
        channels = check_count(owner, "input_shape[2]", input_shape[2]) if len(input_shape) == 3 else 1
        if not levels:
            raise ValidationError(f"{owner}: levels is empty; give at least one LevelParams")
        if not all(isinstance(lv, LevelParams) for lv in levels):
            raise ValidationError(f"{owner}: levels must hold LevelParams only")
        plist = params if isinstance(params, list) else [params or CSAParams()] * len(levels)
        if len(plist) != len(levels):
            raise ValidationError(f"{owner}: {len(plist)} CSAParams for {len(levels)} levels")
        self.input_shape = (rows, cols) if channels == 1 else (rows, cols, channels)
        self.channels = channels
        self.levels = list(levels)
        self.level_params = plist
        self.replicas = replicas
        self.device = resolve_device(owner, device)
        self.seed = check_count(owner, "seed", seed, minimum=0)
        check_count(owner, "replicas", replicas)
        positions = [np.repeat(grid_positions(rows, cols), channels, axis=0)] + [
            grid_positions(*lv.grid) for lv in levels
        ]
        self.layers: list[MacLayer] = []
        for i, lv in enumerate(levels):
            self.layers.append(self._build_level(i, lv, positions, plist[i]))
        self.reset()

    def _build_level(self, i: int, lv: LevelParams, positions: list[np.ndarray], params: CSAParams) -> MacLayer:
        name = f"level{i + 1}"
        below, here = positions[i], positions[i + 1]
        lower_units = _within(here, below, lv.rf_radius)
        empty = [m for m, f in enumerate(lower_units) if f.size == 0]
        if empty:
            raise ValidationError(
                f"Hierarchy level {i + 1}: rf_radius = {lv.rf_radius:g} leaves mac {empty[0]} with no input inside "
                "its receptive field; use a radius of at least half the spacing of the level below"
            )
        if i == 0:
            u = Afferent.from_lists(lower_units, below.shape[0])
        else:
            low = self.levels[i - 1]
            cells = low.Q * low.K
            slots = sum(len(f) for f in lower_units) * cells
            check_memory(f"Hierarchy level {i + 1}", f"receptive fields of {slots} cells", 8 * slots)
            fields = [np.concatenate([np.arange(j * cells, (j + 1) * cells) for j in f]) for f in lower_units]
            u = Afferent.from_lists(fields, below.shape[0] * cells, np.array([len(f) * low.Q for f in lower_units]))
        h = d = None
        cells_here = lv.Q * lv.K
        if lv.h_radius is not None:
            neighbours = _within(here, here, lv.h_radius)
            fields = [np.concatenate([np.arange(j * cells_here, (j + 1) * cells_here) for j in f]) for f in neighbours]
            h = Afferent.from_lists(
                fields, here.shape[0] * cells_here, np.array([len(f) * lv.Q for f in neighbours]), (lv.Q, lv.K)
            )
        if lv.d_radius is not None and i + 1 < len(self.levels):
            up = self.levels[i + 1]
            above = positions[i + 2]
            ups = _within(here, above, lv.d_radius)
            cells_up = up.Q * up.K
            fields = [
                np.concatenate([np.arange(j * cells_up, (j + 1) * cells_up) for j in f])
                if f.size
                else np.zeros(0, dtype=np.int64)
                for f in ups
            ]
            d = Afferent.from_lists(fields, above.shape[0] * cells_up, np.array([len(f) * up.Q for f in ups]))
        return MacLayer(
            lv.Q,
            lv.K,
            u,
            h=h,
            d=d,
            params=params,
            band=lv.band,
            replicas=self.replicas,
            device=self.device,
            seed=self.seed + i + 1,
            name=name,
        )

    # ------------------------------------------------------------------ state
    def reset(self, batch: int = 1) -> None:
        """Start a new episode: no previous codes (no H or D on the next frame), no persistence."""
        R = self.replicas
        self._prev = [
            torch.full((R, batch, layer.n_macs, layer.Q), -1, dtype=torch.int64, device=self.device)
            for layer in self.layers
        ]
        self._age = [
            torch.zeros((R, batch, layer.n_macs), dtype=torch.int64, device=self.device) for layer in self.layers
        ]
        self._first = True

    def _cells(self, i: int) -> torch.Tensor:
        return code_to_cells(self._prev[i], self.layers[i].K)

    # ------------------------------------------------------------------ frames
    def step(self, x: object, mode: str = "recognise") -> list[FrameResult]:
        """One frame through every level; returns one FrameResult per level.

        ``x`` is one input per replica, (N,) or (R, N), in ``learn`` mode; a
        batch (B, N) or (R, B, N) in ``recognise``/``assign`` mode (call
        :meth:`reset` with ``batch=B`` first for sequences). N = rows*cols*channels.
        """
        learn = mode == "learn"
        batch = 1 if learn else _batch_of(x)
        if batch != self._prev[0].shape[1]:
            if not self._first:
                raise ValidationError(
                    f"Hierarchy: {batch} queries in this frame but the episode holds {self._prev[0].shape[1]}; "
                    "call reset(batch=B) at the start of an episode"
                )
            self.reset(batch=batch)
        source: object = x
        results: list[FrameResult] = []
        for i, layer in enumerate(self.layers):
            h = self._cells(i) if ("H" in layer.afferents and not self._first) else None
            d = self._cells(i + 1) if ("D" in layer.afferents and not self._first) else None
            if h is not None and learn:
                h = h[:, 0]
            if d is not None and learn:
                d = d[:, 0]
            held = self._age[i] > 0
            keep = torch.where(held[..., None], self._prev[i], torch.full_like(self._prev[i], -1))
            if learn:
                keep = keep[:, 0]
            res = layer.frame(source, h, d, mode=mode, keep=keep if bool(held.any()) else None)
            code = res.code[:, None] if learn else res.code
            persist = self.levels[i].persistence
            chose = (~held) & (code[..., 0] >= 0)
            self._age[i] = torch.where(
                chose, torch.full_like(self._age[i], persist - 1), (self._age[i] - 1).clamp(min=0)
            )
            self._prev[i] = code
            results.append(res)
            source = code_to_cells(res.code, layer.K)
        self._first = False
        return results

    def learn(self, x: object) -> list[FrameResult]:
        """Learn one input as a one-frame episode (one item per replica)."""
        self.reset()
        return self.step(x, "learn")

    def recognise(self, x: object) -> list[FrameResult]:
        """Max-V codes of a batch of inputs, each as a one-frame episode; writes nothing."""
        self.reset(batch=_batch_of(x))
        return self.step(x, "recognise")

    def learn_sequence(self, frames: object) -> list[list[FrameResult]]:
        """Learn a sequence (T, N) or (R, T, N) as one episode; returns results per frame."""
        seq = torch.as_tensor(np.asarray(frames), dtype=torch.float32)
        self.reset()
        return [self.step(seq[..., t, :], "learn") for t in range(seq.shape[-2])]

    def recognise_sequence(self, frames: object) -> list[list[FrameResult]]:
        """Recognise sequences (B, T, N) or (R, B, T, N) as episodes; returns results per frame."""
        seq = torch.as_tensor(np.asarray(frames), dtype=torch.float32)
        if seq.ndim == 2:
            seq = seq[None]
        self.reset(batch=seq.shape[-3])
        return [self.step(seq[..., t, :], "recognise") for t in range(seq.shape[-2])]
