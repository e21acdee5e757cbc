"""setup, run, reset, end and the state queries of the neuromem PyNN simulator."""

from __future__ import annotations

from pyNN import common
from pyNN.common.control import DEFAULT_MIN_DELAY, DEFAULT_TIMESTEP
from pyNN.recording import get_io

from neuromem.backends.torch import DTYPES, resolve_device
from neuromem.errors import BackendError
from neuromem.pynn import simulator
from neuromem.pynn.errors import InvalidParameterValue, NotSupported

state = simulator.state

#: What ``setup`` uses when a script does not say (the runner ``python -m neuromem.pynn --device cuda`` sets these).
DEFAULTS: dict[str, object] = {"device": "cpu", "dtype": "float64"}

#: setup() options of other simulators that change nothing here (accepted so their scripts run unchanged).
IGNORED_OPTIONS = {
    "threads",
    "t_flush",
    "verbosity",
    "debug",
    "quit_on_end",
    "rank",
    "num_processes",
    "returned_spike_precision",
    "recording_precision",
}


def setup(
    timestep: float = DEFAULT_TIMESTEP, min_delay: float | str = DEFAULT_MIN_DELAY, **extra_params: object
) -> int:
    """Start a new simulation, forgetting any previous network.

    Parameters
    ----------
    timestep : float
        Time step (ms).
    min_delay, max_delay : float or "auto"
        Smallest and largest delay (ms); ``"auto"`` takes them from the network.
    device : str
        ``"cpu"`` (default), ``"cuda"`` or ``"cuda:N"``: where the torch engine runs.
    batch : int
        Independent trials simulated at once (default 1); see :mod:`neuromem.pynn.recording`.
    dtype : {"float64", "float32"}
        Floating point type of the engine (default float64, as NEST and Brian2).
    rng_seed : int
        Seed of the Poisson sources (trial b draws with stream ``rng_seed + b``).
    spike_precision : {"on_grid"}
        Spikes on the step grid, the only choice of the engine.

    Returns
    -------
    int
        The MPI rank, 0.
    """
    common.setup(timestep, min_delay, **extra_params)
    options = dict(extra_params)
    max_delay = options.pop("max_delay", "auto")
    precision = options.pop("spike_precision", "on_grid")
    if precision != "on_grid":
        raise NotSupported(
            f"setup: spike_precision = {precision!r}; the engine computes spikes on the step grid only ('on_grid')"
        )
    if options.pop("use_cvode", False):
        raise NotSupported("setup: use_cvode=True asks for variable time steps; the engine takes fixed steps only")
    device = str(options.pop("device", DEFAULTS["device"]))
    batch = options.pop("batch", 1)
    dtype = options.pop("dtype", DEFAULTS["dtype"])
    seed = options.pop("rng_seed", options.pop("seed", 0))
    unknown = sorted(set(options) - IGNORED_OPTIONS)
    if unknown:
        raise NotSupported(
            f"setup: option(s) {', '.join(unknown)} not available on the neuromem simulator (its own options: device,"
            f" batch, dtype, rng_seed; accepted and ignored: {', '.join(sorted(IGNORED_OPTIONS))})"
        )
    if not isinstance(batch, int) or isinstance(batch, bool) or batch < 1:
        raise InvalidParameterValue(f"setup: batch = {batch!r} must be a whole number >= 1")
    if dtype not in DTYPES:
        raise InvalidParameterValue(f"setup: dtype = {dtype!r}; choose one of {', '.join(DTYPES)}")
    if not isinstance(seed, int) or isinstance(seed, bool) or seed < 0:
        raise InvalidParameterValue(f"setup: rng_seed = {seed!r} must be a whole number >= 0")
    if not timestep > 0:
        raise InvalidParameterValue(f"setup: timestep = {timestep!r} ms must be > 0")
    try:
        resolve_device(device)
    except BackendError as error:
        raise InvalidParameterValue(f"setup: {error}") from None
    state.clear()
    state.dt = float(timestep)
    state.min_delay = min_delay
    state.max_delay = max_delay
    state.device, state.batch, state.dtype, state.seed = device, batch, dtype, seed
    return rank()


def end(compatible_output: bool = True) -> None:
    """Write the data asked for with ``record(..., to_file=...)``; the recorded data stays readable."""
    for population, variables, filename in state.write_on_end:
        population.write_data(get_io(filename), variables)
    state.write_on_end = []


run, run_until = common.build_run(simulator)
run_for = run
reset = common.build_reset(simulator)
initialize = common.initialize
get_current_time, get_time_step, get_min_delay, get_max_delay, num_processes, rank = common.build_state_queries(
    simulator
)

__all__ = [
    "end",
    "get_current_time",
    "get_max_delay",
    "get_min_delay",
    "get_time_step",
    "initialize",
    "num_processes",
    "rank",
    "reset",
    "run",
    "run_for",
    "run_until",
    "setup",
]
