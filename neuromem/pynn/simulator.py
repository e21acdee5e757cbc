"""The state of the neuromem PyNN simulator: time, options and the network being described.

PyNN's common code reads ``state.t``, ``state.dt``, ``state.min_delay``,
``state.running``, ``state.recorders``, ``state.write_on_end`` and
``state.segment_counter``; the rest is neuromem's: the run options given to
``setup`` (device, batch, dtype, seed), the populations, projections and
current sources created since, a ``version`` that every change to them
increments, and the :class:`~neuromem.pynn.engine.Session` that runs them on the
torch engine.

Time is counted in whole steps (``tick``); ``t = tick * dt`` ms.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
from pyNN import common

from neuromem.pynn.errors import InvalidParameterValue

if TYPE_CHECKING:
    from neuromem.pynn.engine import Session

name = "neuromem"


class ID(int, common.IDMixin):
    """A cell of a neuromem Population (an int with PyNN's per-cell accessors)."""

    def __init__(self, n: int) -> None:
        int.__init__(n)
        common.IDMixin.__init__(self)


class State(common.control.BaseState):
    """Everything one ``setup() ... end()`` session holds."""

    def __init__(self) -> None:
        common.control.BaseState.__init__(self)
        self.mpi_rank = 0
        self.num_processes = 1
        self.dt = 0.1
        self._min_delay: float | str = "auto"
        self._max_delay: float | str = "auto"
        self.device = "cpu"
        self.batch = 1
        self.dtype = "float64"
        self.seed = 0
        self.session: Session | None = None
        self.clear()

    # -- network registry ----------------------------------------------------------------

    def clear(self) -> None:
        """Forget the network and the time (a new ``setup``)."""
        self.recorders = set()
        self.write_on_end = []
        self.populations: list = []
        self.projections: list = []
        self.current_sources: list = []
        self.id_counter = 0
        self.segment_counter = -1
        self.version = 0
        self.session = None
        self.tick = 0
        self.running = False
        self.reset()

    def changed(self) -> None:
        """Note that the described network changed (the next run rebuilds what it must)."""
        self.version += 1

    # -- time ----------------------------------------------------------------------------

    @property
    def t(self) -> float:
        """Current time (ms)."""
        return self.tick * self.dt

    def steps_until(self, time_point: float) -> int:
        """Whole steps from now to ``time_point`` (ms); refuses times off the step grid."""
        steps = (time_point - self.t) / self.dt
        if abs(steps - round(steps)) > 1e-6:
            raise InvalidParameterValue(
                f"run_until: time {time_point!r} ms is not a whole number of time steps ({self.dt:g} ms) from now"
            )
        return int(round(steps))

    def run(self, simtime: float) -> None:
        self.run_until(self.t + simtime)

    def run_until(self, tstop: float) -> None:
        steps = self.steps_until(tstop)
        if steps <= 0:
            return
        from neuromem.pynn.engine import Session

        if self.session is None:
            self.session = Session(self)
        self.running = True
        self.session.advance(steps)

    def reset(self) -> None:
        """Back to t = 0 with the initial state; recordings start a new segment."""
        self.running = False
        self.t_start = 0
        self.tick = 0
        self.segment_counter += 1
        if self.session is not None:
            self.session.drop()
        for source in getattr(self, "current_sources", []):
            source._reset()

    # -- delays --------------------------------------------------------------------------

    @property
    def min_delay(self) -> float:
        """The smallest delay (ms): as given to ``setup``, or, for ``"auto"``, the smallest in the network."""
        if self._min_delay != "auto":
            return float(self._min_delay)
        delays = [p._delay_range()[0] for p in self.projections if len(p)]
        return float(min(delays)) if delays else self.dt

    @min_delay.setter
    def min_delay(self, value: float | str) -> None:
        self._min_delay = value

    @property
    def max_delay(self) -> float:
        """The largest delay (ms): as given to ``setup``, or, for ``"auto"``, the largest in the network."""
        if self._max_delay != "auto":
            return float(self._max_delay)
        delays = [p._delay_range()[1] for p in self.projections if len(p)]
        return float(max(delays)) if delays else self.min_delay

    @max_delay.setter
    def max_delay(self, value: float | str) -> None:
        self._max_delay = value

    def round_delay(self, delay: np.ndarray) -> np.ndarray:
        """Delays (ms) on the step grid: values within 1e-6 steps kept as given, others rounded to the nearest step."""
        steps = np.asarray(delay, dtype=np.float64) / self.dt
        on_grid = np.abs(steps - np.rint(steps)) <= 1e-6
        return np.where(on_grid, delay, np.rint(steps) * self.dt)


state = State()
