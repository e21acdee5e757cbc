"""Parameters of the Sparsey code selection algorithm (CSA) and of a level.

All CSA parameters are unit-free. Their meaning is fixed by the equations of
:mod:`neuromem.models.sparsey.csa` (spec ``sparsey.md`` section 1.2):

.. math::

    r = \\max\\!\\left(0, \\frac{G - G^-}{1 - G^-}\\right),\\qquad
    \\eta = 1 + \\chi K r^{\\gamma},\\qquad
    \\mu_i = \\max\\!\\big(\\eta\\,\\sigma(\\lambda_{sig}(V_i - V_{infl})),\\ \\mu_{min}\\big)

The V exponents (``lam_u``, ``lam_h``, ``lam_d``) and the sigmoid
(``sig_lambda``, ``v_infl``) set the trade-off between the breadth of
similarity preservation and capacity (spec section 1.8 item 3): a large
``lam_u`` keeps the familiarity of novel inputs low, so codes stay near-random
until the memory is full, but it narrows the similarity kernel.

Example
-------
>>> p = CSAParams(lam_u=10.0)
>>> p.g_floor, p.chi
(0.1, 100.0)
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, fields

from neuromem.errors import ValidationError

TIE_RULES = ("random", "lowest")
SIGNAL_TYPES = "UHD"


def _check_number(owner: str, field: str, value: object, lo: float, hi: float, lo_open: bool = False) -> None:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ValidationError(f"{owner}: {field} = {value!r} is not a number")
    bad_lo = value <= lo if lo_open else value < lo
    if bad_lo or value > hi or math.isnan(value):
        left = "(" if lo_open else "["
        raise ValidationError(f"{owner}: {field} = {value!r} must lie in {left}{lo:g}, {hi:g}]")


def check_count(owner: str, field: str, value: object, minimum: int = 1) -> int:
    """Return ``value`` as int, or raise a ValidationError unless it is an integer >= ``minimum``."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValidationError(f"{owner}: {field} = {value!r} must be an integer >= {minimum}")
    if value < minimum:
        raise ValidationError(f"{owner}: {field} = {value} must be an integer >= {minimum}")
    return value


@dataclass(frozen=True)
class CSAParams:
    """Named, unit-free parameters of the code selection algorithm.

    Parameters
    ----------
    g_floor : float
        G^-: familiarity at or below which selection is uniform (eta = 1). Default 0.1.
    gamma : float
        Exponent of the rectified familiarity in eta. Default 2.
    chi : float
        Expansion factor chi in eta = 1 + chi K r^gamma. Default 100.
    sig_lambda : float
        Steepness of the V -> mu sigmoid. Default 20.
    v_infl : float
        Inflection point of the sigmoid. Default 0.5.
    mu_min : float
        Floor of mu (the "noise" floor). Default 1.
    v_full : float
        Cells with V >= v_full get mu = eta exactly. Default 0.999.
    lam_u, lam_h, lam_d : float
        Exponents of the normalised U, H and D sums in V = U^lam_u H^lam_h D^lam_d.
        Defaults 10, 1, 1.
    sat_threshold : float
        A (source, target mac) weight bundle freezes once the fraction of its
        weights that are set exceeds this value; 1 never freezes. Default 1
        (off): in a single mac, freezing before the Willshaw capacity only
        stops storage (spec section 1.4); hierarchies set it per level.
    tie : str
        Tie rule among equal-V cells of max-V choices: ``"random"`` (default;
        a seeded hash of the query ranks the tied cells, see
        :mod:`~neuromem.models.sparsey.csa`) or ``"lowest"`` (lowest index).
    backoff : tuple of str
        Recognition backoff chain (spec section 1.2 step 4), highest priority
        first. Each entry is one priority level: signal combinations separated
        by spaces, each a set of the letters U, H, D that contains U (e.g.
        ``("UHD", "UH UD", "U")``). Empty (default): recognition uses every
        signal given. See :mod:`~neuromem.models.sparsey.backoff`.
    backoff_g : tuple of float
        Familiarity a level's best combination must reach to be kept, one per
        level, in (0, 1].
    """

    g_floor: float = 0.1
    gamma: float = 2.0
    chi: float = 100.0
    sig_lambda: float = 20.0
    v_infl: float = 0.5
    mu_min: float = 1.0
    v_full: float = 0.999
    lam_u: float = 10.0
    lam_h: float = 1.0
    lam_d: float = 1.0
    sat_threshold: float = 1.0
    tie: str = "random"
    backoff: tuple[str, ...] = ()
    backoff_g: tuple[float, ...] = ()

    def __post_init__(self) -> None:
        owner = "CSAParams"
        _check_number(owner, "g_floor", self.g_floor, 0.0, 0.999)
        _check_number(owner, "gamma", self.gamma, 0.0, 1e3, lo_open=True)
        _check_number(owner, "chi", self.chi, 0.0, 1e9)
        _check_number(owner, "sig_lambda", self.sig_lambda, 0.0, 1e4, lo_open=True)
        _check_number(owner, "v_infl", self.v_infl, 0.0, 1.0)
        _check_number(owner, "mu_min", self.mu_min, 0.0, 1e9, lo_open=True)
        _check_number(owner, "v_full", self.v_full, 0.0, 1.0, lo_open=True)
        for name in ("lam_u", "lam_h", "lam_d"):
            _check_number(owner, name, getattr(self, name), 0.0, 1e3, lo_open=True)
        _check_number(owner, "sat_threshold", self.sat_threshold, 0.0, 1.0, lo_open=True)
        if self.tie not in TIE_RULES:
            raise ValidationError(f"{owner}: tie = {self.tie!r} is not one of {', '.join(map(repr, TIE_RULES))}")
        self._check_backoff(owner)

    def _check_backoff(self, owner: str) -> None:
        for name in ("backoff", "backoff_g"):
            value = getattr(self, name)
            if isinstance(value, (str, bytes)) or not isinstance(value, (tuple, list)):
                raise ValidationError(f"{owner}: {name} = {value!r} must be a sequence (one entry per level)")
            object.__setattr__(self, name, tuple(value))
        if len(self.backoff) != len(self.backoff_g):
            raise ValidationError(
                f"{owner}: backoff has {len(self.backoff)} levels but backoff_g has {len(self.backoff_g)} thresholds;"
                " give one threshold per level"
            )
        seen: set[frozenset[str]] = set()
        for i, level in enumerate(self.backoff):
            if not isinstance(level, str) or not level.split():
                raise ValidationError(f"{owner}: backoff[{i}] = {level!r} must name signal combinations, e.g. 'UH UD'")
            for combo in level.split():
                letters = frozenset(combo)
                if not letters <= set(SIGNAL_TYPES) or len(letters) != len(combo) or "U" not in letters:
                    raise ValidationError(
                        f"{owner}: backoff[{i}] combination {combo!r} must be distinct letters of 'UHD' including U"
                    )
                if letters in seen:
                    raise ValidationError(f"{owner}: backoff combination {combo!r} appears twice")
                seen.add(letters)
            _check_number(owner, f"backoff_g[{i}]", self.backoff_g[i], 0.0, 1.0, lo_open=True)

    def to_dict(self) -> dict[str, object]:
        """Plain dictionary of the fields (JSON-ready)."""
        return {**asdict(self), "backoff": list(self.backoff), "backoff_g": list(self.backoff_g)}

    @classmethod
    def from_dict(cls, data: dict[str, object]) -> CSAParams:
        """Build from :meth:`to_dict` output; unknown keys are refused."""
        if not isinstance(data, dict):
            raise ValidationError(f"CSAParams: expected a table of fields, got {type(data).__name__}")
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(data) - known)
        if unknown:
            raise ValidationError(f"CSAParams: unknown field(s) {unknown}; allowed {sorted(known)}")
        return cls(**data)  # type: ignore[arg-type]


@dataclass(frozen=True)
class LevelParams:
    """Geometry and timing of one level of macrocolumns.

    Parameters
    ----------
    grid : tuple of int
        (rows, cols) of macs at this level.
    Q, K : int
        Competitive modules per mac and cells per CM (both >= 1).
    rf_radius : float
        U receptive-field radius in normalised [0, 1] grid coordinates of the
        level below; a mac receives every lower unit within this distance.
    band : tuple of float
        (pi_lo, pi_hi): a mac activates only if the fraction of its maximum
        possible active U inputs lies in this band. The lower bound is also
        floored at one active input.
    persistence : int
        Frames a chosen code is kept before the CSA runs again (>= 1).
    h_radius : float or None
        Horizontal receptive-field radius (same level, previous frame), in
        this level's normalised coordinates; None disables H signals.
    d_radius : float or None
        Top-down receptive-field radius (level above, previous frame); None
        disables D signals.
    """

    grid: tuple[int, int] = (1, 1)
    Q: int = 8
    K: int = 8
    rf_radius: float = 2.0
    band: tuple[float, float] = (0.0, 1.0)
    persistence: int = 1
    h_radius: float | None = None
    d_radius: float | None = None

    def __post_init__(self) -> None:
        owner = "LevelParams"
        if len(self.grid) != 2:
            raise ValidationError(f"{owner}: grid = {self.grid!r} must be (rows, cols)")
        check_count(owner, "grid[0]", self.grid[0])
        check_count(owner, "grid[1]", self.grid[1])
        check_count(owner, "Q", self.Q)
        check_count(owner, "K", self.K)
        _check_number(owner, "rf_radius", self.rf_radius, 0.0, 1e6, lo_open=True)
        if not isinstance(self.band, (tuple, list)) or len(self.band) != 2:
            raise ValidationError(f"{owner}: band = {self.band!r} must be (pi_lo, pi_hi)")
        _check_number(owner, "band[0]", self.band[0], 0.0, 1.0)
        _check_number(owner, "band[1]", self.band[1], 0.0, 1.0)
        if self.band[0] > self.band[1]:
            raise ValidationError(f"{owner}: band = {self.band!r} needs pi_lo <= pi_hi")
        check_count(owner, "persistence", self.persistence)
        for name in ("h_radius", "d_radius"):
            value = getattr(self, name)
            if value is not None:
                _check_number(owner, name, value, 0.0, 1e6)

    def to_dict(self) -> dict[str, object]:
        """Plain dictionary of the fields (JSON-ready)."""
        return {**asdict(self), "grid": list(self.grid), "band": list(self.band)}

    @classmethod
    def from_dict(cls, data: dict[str, object]) -> LevelParams:
        """Build from :meth:`to_dict` output."""
        if not isinstance(data, dict):
            raise ValidationError(f"LevelParams: expected a table of fields, got {type(data).__name__}")
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(data) - known)
        if unknown:
            raise ValidationError(f"LevelParams: unknown field(s) {unknown}; allowed {sorted(known)}")
        values = dict(data)
        for key in ("grid", "band"):
            if key in values:
                values[key] = tuple(values[key])  # type: ignore[arg-type]
        return cls(**values)  # type: ignore[arg-type]
