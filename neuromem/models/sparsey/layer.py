"""A grid of Sparsey macrocolumns (macs) with binary weights and the CSA.

Each of M macs has Q competitive modules (CMs) of K binary cells; a code is
one winner per CM. Signals: U (bottom-up, this frame), H (horizontal, previous
frame) and D (top-down, previous frame), each through its own receptive fields
(:class:`~neuromem.models.sparsey.afferent.Afferent`). The layer holds R
independent replicas (separate weights, one seeded generator), so seeds or
parameter studies run in one pass; learning is never batched within a replica.

Modes (spec ``sparsey.md`` section 8.2)
---------------------------------------
``learn``      sample winners from rho, write weights w_ji <- 1 for every active
               afferent j of each winner i (unless its bundle is frozen);
``recognise``  max-V winners with the declared tie rule, after the backoff
               chain if one is set; writes nothing;
``assign``     sample winners like ``learn``; writes nothing.

Freezing: a (source entry, target mac) bundle freezes once the fraction of its
allowed weights that are set exceeds ``sat_threshold``; frozen bundles are
never written again. A mac all of whose active U bundles are frozen cannot
store the item: it reports its max-V code with ``stored = False``, so a
measurement of recall counts the item as not stored rather than as recalled.

Example
-------
>>> import torch
>>> layer = MacLayer.single(n_inputs=16, Q=4, K=3, seed=1)
>>> x = torch.zeros(16); x[:4] = 1
>>> _ = layer.learn(x)
>>> bool((layer.recognise(x).G == 1).all())
True
"""

from __future__ import annotations

import numbers
from dataclasses import dataclass

import numpy as np
import torch

from neuromem.errors import BackendError, ValidationError
from neuromem.limits import check_memory
from neuromem.models.sparsey import backoff, csa
from neuromem.models.sparsey.afferent import Afferent
from neuromem.models.sparsey.inputs import as_source
from neuromem.models.sparsey.params import CSAParams, check_count

SIGNALS = ("U", "H", "D")
MODES = ("learn", "recognise", "assign")


@dataclass(frozen=True)
class FrameResult:
    """Outcome of one frame.

    Attributes
    ----------
    code : Tensor int64, shape (R, [B,] M, Q)
        Winner of each CM, -1 where the mac was inactive (outside its band).
    G : Tensor float, shape (R, [B,] M)
        Familiarity of each mac (0 where inactive).
    active : Tensor bool, shape (R, [B,] M)
        Which macs emitted a code.
    stored : Tensor bool, shape (R, [B,] M)
        Which macs wrote their code into the weights (learn mode; all False in
        the other modes).
    level : Tensor int64, shape (R, [B,] M)
        Backoff level that decided each mac's code in recognition
        (``-1``: full evidence; see :mod:`~neuromem.models.sparsey.backoff`).
    """

    code: torch.Tensor
    G: torch.Tensor
    active: torch.Tensor
    stored: torch.Tensor
    level: torch.Tensor


def code_to_cells(code: torch.Tensor, K: int) -> torch.Tensor:
    """One-hot cell vector (..., M*Q*K) float of a code (..., M, Q); -1 gives no cell."""
    onehot = torch.nn.functional.one_hot(code.clamp(min=0), K).to(torch.float32)
    onehot = onehot * (code >= 0)[..., None].to(torch.float32)
    return onehot.flatten(start_dim=-3)


def resolve_device(owner: str, device: object) -> torch.device:
    """Parse ``device`` (``"cpu"``, ``"cuda"``, ``"cuda:N"``); BackendError if unknown or absent."""
    try:
        resolved = torch.device(device)  # type: ignore[arg-type]
    except (RuntimeError, TypeError, ValueError):
        raise BackendError(f"{owner}: device = {device!r} is unknown; use 'cpu', 'cuda' or 'cuda:N'") from None
    if resolved.type == "cuda":
        if not torch.cuda.is_available():
            raise BackendError(f"{owner}: device = {device!r} but no CUDA GPU is available here; use 'cpu'")
        if resolved.index is not None and resolved.index >= torch.cuda.device_count():
            raise BackendError(f"{owner}: device = {device!r}; only {torch.cuda.device_count()} CUDA devices exist")
    elif resolved.type != "cpu":
        raise BackendError(f"{owner}: device = {device!r} is not supported; use 'cpu' or 'cuda'")
    return resolved


class MacLayer:
    """M macrocolumns of Q CMs x K cells, R independent replicas.

    Parameters
    ----------
    Q, K : int
        CMs per mac and cells per CM (>= 1).
    u : Afferent
        Bottom-up receptive fields (defines M).
    h, d : Afferent or None
        Horizontal and top-down receptive fields (previous frame), optional.
    params : CSAParams
        CSA parameters.
    band : (float, float)
        Activation band (pi_lo, pi_hi) as fractions of ``u.max_active``.
    replicas : int
        Number R of independent copies.
    device : str or torch.device
        Where tensors live (``"cpu"``, ``"cuda"``).
    seed : int
        Seed of the layer's own ``torch.Generator`` and of its tie hash.
    name : str
        Label used in error messages.
    """

    def __init__(
        self,
        Q: int,
        K: int,
        u: Afferent,
        h: Afferent | None = None,
        d: Afferent | None = None,
        params: CSAParams | None = None,
        band: tuple[float, float] = (0.0, 1.0),
        replicas: int = 1,
        device: str | torch.device = "cpu",
        seed: int = 0,
        name: str = "layer",
    ) -> None:
        owner = f"MacLayer '{name}'"
        self.name = name
        self.Q = check_count(owner, "Q", Q)
        self.K = check_count(owner, "K", K)
        self.replicas = check_count(owner, "replicas", replicas)
        self.seed = check_count(owner, "seed", seed, minimum=0)
        if params is not None and not isinstance(params, CSAParams):
            raise ValidationError(f"{owner}: params must be CSAParams, got {type(params).__name__}")
        self.params = params if params is not None else CSAParams()
        if (
            not isinstance(band, (tuple, list, np.ndarray))
            or len(band) != 2
            or not all(isinstance(b, numbers.Real) and not isinstance(b, (bool, np.bool_)) for b in band)
            or not (0.0 <= band[0] <= band[1] <= 1.0)
        ):
            raise ValidationError(
                f"{owner}: band = {band!r} must be two numbers (pi_lo, pi_hi), 0 <= pi_lo <= pi_hi <= 1"
            )
        self.band = (float(band[0]), float(band[1]))
        if not isinstance(u, Afferent):
            raise ValidationError(f"{owner}: u must be an Afferent, got {type(u).__name__}")
        self.afferents: dict[str, Afferent] = {"U": u}
        for key, aff in (("H", h), ("D", d)):
            if aff is not None:
                if aff.n_macs != u.n_macs:
                    raise ValidationError(f"{owner}: {key} afferent has {aff.n_macs} macs; U has {u.n_macs}")
                self.afferents[key] = aff
        self.n_macs = u.n_macs
        self.device = resolve_device(owner, device)
        self.generator = torch.Generator(device=self.device)
        self.generator.manual_seed(self.seed)
        R, M, C = self.replicas, self.n_macs, self.Q * self.K
        # Each (source, mac) bundle stores Q*K float32 weights, plus a float32
        # mask of allowed weights per mac: refuse sizes that cannot be
        # allocated before trying (a typo, or a corrupt file).
        slots = sum(aff.width for aff in self.afferents.values())
        check_memory(
            owner, f"weights of {R} replicas x {M} macs x {slots} slots x Q*K = {C}", (R + 1) * M * slots * C * 4
        )
        self._index = {}
        self._allowed = {}
        self._allowed_count: dict[str, torch.Tensor] = {}
        self.weights: dict[str, torch.Tensor] = {}
        self.frozen: dict[str, torch.Tensor] = {}
        for key, aff in self.afferents.items():
            index = np.where(aff.index >= 0, aff.index, aff.source_size)
            self._index[key] = torch.tensor(index, device=self.device)
            self._allowed[key] = torch.tensor(aff.allowed(self.Q, self.K), device=self.device, dtype=torch.float32)
            self._allowed_count[key] = self._allowed[key].sum(dim=-1).clamp(min=1.0)
            self.weights[key] = torch.zeros((R, M, aff.width, C), device=self.device)
            self.frozen[key] = torch.zeros((R, M, aff.width), dtype=torch.bool, device=self.device)
        self._max_active = torch.tensor(np.array(u.max_active), device=self.device, dtype=torch.float32)
        self.n_learned = torch.zeros(R, dtype=torch.int64, device=self.device)
        self._build_tie_hash()

    def _build_tie_hash(self) -> None:
        """Per-slot query-key integers and per-cell hash integers, all from the seed (no stored state)."""
        rng = np.random.default_rng([self.seed, 0x7153])
        self._tie_slot = {
            key: torch.tensor(rng.integers(0, csa.TIE_PRIME, size=aff.index.shape), device=self.device)
            for key, aff in self.afferents.items()
        }
        shape = (self.replicas, self.n_macs, self.Q, self.K)
        self._tie_a = torch.tensor(rng.integers(1, csa.TIE_PRIME, size=shape), device=self.device)
        self._tie_b = torch.tensor(rng.integers(1, csa.TIE_PRIME, size=shape), device=self.device)

    @classmethod
    def single(
        cls,
        n_inputs: int,
        Q: int,
        K: int,
        params: CSAParams | None = None,
        horizontal: bool = False,
        **kwargs: object,
    ) -> MacLayer:
        """One mac seeing all ``n_inputs`` bits; optional H signals from its own previous code."""
        check_count("MacLayer.single", "n_inputs", n_inputs)
        check_count("MacLayer.single", "Q", Q)
        check_count("MacLayer.single", "K", K)
        h = None
        if horizontal:
            h = Afferent.full(Q * K)
            h = Afferent(h.index, Q * K, np.array([float(Q)]), same_level_cells=(Q, K))
        return cls(Q, K, Afferent.full(n_inputs), h=h, params=params, **kwargs)  # type: ignore[arg-type]

    def _owner(self) -> str:
        return f"MacLayer '{self.name}'"

    # ---------------------------------------------------------------- support
    def support(
        self, sources: dict[str, torch.Tensor]
    ) -> tuple[dict[str, torch.Tensor], dict[str, torch.Tensor], torch.Tensor, torch.Tensor]:
        """Steps 0 to 3 for validated sources (R, B, N).

        Returns the per-type log support terms lam_X log X (R, B, M, Q, K),
        the gathered inputs per type (R, B, M, F_t), the activity (R, B, M)
        and the tie-hash query key (R, B, M).
        """
        R, M, Q, K = self.replicas, self.n_macs, self.Q, self.K
        gathered: dict[str, torch.Tensor] = {}
        parts: dict[str, torch.Tensor] = {}
        exponents = {"U": self.params.lam_u, "H": self.params.lam_h, "D": self.params.lam_d}
        key = torch.zeros((R, 1, M), dtype=torch.int64, device=self.device)
        for name, x in sources.items():
            padded = torch.cat([x, torch.zeros_like(x[..., :1])], dim=-1)
            a = padded[..., self._index[name]]
            gathered[name] = a
            key = key + (a.to(torch.int64) * self._tie_slot[name]).sum(dim=-1)
            raw = torch.einsum("rbmf,rmfc->rbmc", a, self.weights[name])
            if self.afferents[name].same_level_cells is None:
                n_cell = a.sum(dim=-1, keepdim=True).expand_as(raw)
            else:
                n_cell = torch.einsum("rbmf,mfc->rbmc", a, self._allowed[name])
            X = csa.normalised_sum(raw, n_cell).view(R, -1, M, Q, K)
            available = (n_cell > 0).view(R, -1, M, Q, K)
            parts[name] = csa.log_support([(X, available, exponents[name])])
        n_u = gathered["U"].sum(dim=-1)
        frac = n_u / self._max_active.clamp(min=1.0)
        active = (n_u >= 1) & (frac >= self.band[0] - 1e-9) & (frac <= self.band[1] + 1e-9)
        return parts, gathered, active, key % csa.TIE_PRIME

    # ------------------------------------------------------------------ frame
    def frame(
        self,
        u: object,
        h: object | None = None,
        d: object | None = None,
        mode: str = "recognise",
        keep: torch.Tensor | None = None,
    ) -> FrameResult:
        """Run one CSA frame in ``mode`` (``"learn"``, ``"recognise"`` or ``"assign"``).

        ``learn`` takes one item per replica, shape (N,) or (R, N), and
        returns results without the B axis. ``recognise`` and ``assign`` take
        queries (N,), (B, N) or (R, B, N) and return (R, B, ...).
        ``keep`` (int64, shaped like the returned code) holds codes of macs
        that persist this frame (first CM >= 0): they skip the CSA and learn
        nothing.
        """
        if mode not in MODES:
            raise ValidationError(f"{self._owner()}: mode = {mode!r} is not one of {', '.join(map(repr, MODES))}")
        batched = mode != "learn"
        sources: dict[str, torch.Tensor] = {}
        for key, value in (("U", u), ("H", h), ("D", d)):
            if value is None:
                continue
            if key not in self.afferents:
                raise ValidationError(f"{self._owner()}: input {key.lower()} given but the layer has no {key} afferent")
            size = self.afferents[key].source_size
            sources[key] = as_source(value, size, self.replicas, batched, self._owner(), key.lower(), self.device)
        if "U" not in sources:
            raise ValidationError(f"{self._owner()}: input u is required")
        shapes = {x.shape[1] for x in sources.values()}
        if len(shapes) != 1:
            raise ValidationError(f"{self._owner()}: inputs disagree on the number of queries: {sorted(shapes)}")
        if mode == "recognise" and int(self.n_learned.sum()) == 0:
            raise ValidationError(
                f"{self._owner()}: recognise called on an untrained layer (n_learned = 0); learn items first"
            )
        with torch.no_grad():
            parts, gathered, active, query_key = self.support(sources)
            level = torch.full(active.shape, backoff.FULL_EVIDENCE, dtype=torch.int64, device=self.device)
            if mode == "recognise" and self.params.backoff:
                log_v, G, level = backoff.choose(parts, self.params)
            else:
                log_v = sum(parts.values())  # type: ignore[assignment]
                G = csa.familiarity(log_v)
            G = torch.where(active, G, torch.zeros_like(G))
            if mode == "recognise":
                sample = torch.zeros_like(active)
            elif mode == "assign":
                sample = active
            else:
                sample = active & self._can_learn(gathered["U"])
            held = None
            if keep is not None:
                keep = keep.to(self.device).view(active.shape + (self.Q,))
                held = keep[..., 0] >= 0
                sample = sample & ~held
            priority = None
            if self.params.tie == "random":
                priority = csa.tie_priority(query_key, self._tie_a, self._tie_b)
            winners = csa.csa_winners(log_v, G, self.params, sample, self.generator, priority)
            code = torch.where(active[..., None], winners, torch.full_like(winners, -1))
            if held is not None:
                code = torch.where(held[..., None], keep, code)  # type: ignore[arg-type]
                active = active | held
            level = torch.where(active, level, torch.full_like(level, backoff.FULL_EVIDENCE))
            if mode == "learn":
                stored = sample[:, 0]
                self._write(gathered, code[:, 0], stored)
                self.n_learned += stored.any(dim=-1).to(torch.int64)
                return FrameResult(code[:, 0], G[:, 0], active[:, 0], stored, level[:, 0])
        return FrameResult(code, G, active, torch.zeros_like(active), level)

    def learn(self, u: object, h: object | None = None, d: object | None = None) -> FrameResult:
        """Learn one item per replica (single trial); see :meth:`frame`."""
        return self.frame(u, h, d, mode="learn")

    def recognise(self, u: object, h: object | None = None, d: object | None = None) -> FrameResult:
        """Max-V codes of a batch of queries; writes nothing; see :meth:`frame`."""
        return self.frame(u, h, d, mode="recognise")

    def assign(self, u: object, h: object | None = None, d: object | None = None) -> FrameResult:
        """Sampled (learning-mode) codes of a batch of queries; writes nothing."""
        return self.frame(u, h, d, mode="assign")

    # --------------------------------------------------------------- learning
    def _can_learn(self, a_u: torch.Tensor) -> torch.Tensor:
        """(R, B, M): some active U bundle of the mac is not frozen."""
        open_bundle = (~self.frozen["U"]).to(a_u.dtype)[:, None]
        return (a_u * open_bundle).sum(dim=-1) > 0

    def _write(self, gathered: dict[str, torch.Tensor], code: torch.Tensor, learning: torch.Tensor) -> None:
        """w_ji <- 1 for active afferent j and winner i; then the freezing check.

        Only the rows of active, open (source, mac) bundles are touched, so the
        cost grows with the number of active afferents, not with the weights.
        """
        offsets = torch.arange(self.Q, device=self.device) * self.K
        for key, a in gathered.items():
            open_slots = (a[:, 0] > 0) & ~self.frozen[key] & learning[..., None]
            r, m, f = open_slots.nonzero(as_tuple=True)
            if r.numel() == 0:
                continue
            cells = offsets[None, :] + code[r, m]
            allowed = self._allowed[key]
            W = self.weights[key]
            rr, mm, ff = r[:, None], m[:, None], f[:, None]
            W[rr, mm, ff, cells] = torch.maximum(W[rr, mm, ff, cells], allowed[mm, ff, cells])
            if self.params.sat_threshold < 1.0:
                fraction = (W[r, m, f] * allowed[m, f]).sum(dim=-1) / self._allowed_count[key][m, f]
                self.frozen[key][r, m, f] |= fraction > self.params.sat_threshold

    # ------------------------------------------------------------------ state
    def weight_checksum(self) -> bytes:
        """Every weight and frozen flag, exactly (as bytes): equal if and only if nothing changed."""
        tensors = [t for key in sorted(self.weights) for t in (self.weights[key], self.frozen[key])]
        return b"".join(t.detach().cpu().contiguous().numpy().tobytes() for t in tensors)

    def to(self, device: str | torch.device) -> MacLayer:
        """Move every tensor to ``device`` in place (generator reseeded there from its seed)."""
        device = resolve_device(self._owner(), device)
        for store in (self.weights, self.frozen, self._index, self._allowed, self._allowed_count, self._tie_slot):
            for key in store:
                store[key] = store[key].to(device)
        self._max_active = self._max_active.to(device)
        self.n_learned = self.n_learned.to(device)
        self._tie_a, self._tie_b = self._tie_a.to(device), self._tie_b.to(device)
        self.device = device
        self.generator = torch.Generator(device=device)
        self.generator.manual_seed(self.seed + int(self.n_learned.sum()))
        return self
