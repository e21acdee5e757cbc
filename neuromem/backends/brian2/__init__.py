"""The Brian2 backend: the independent reference for the ``"exact"`` scheme.

The spec is built as Brian2 objects: one ``NeuronGroup`` per neuron population
(the equations, method and helper operations of its cell type's module in
:mod:`neuromem.cells`; Brian2's own ``exact``, ``rk4`` or ``euler`` integrator), one
``SpikeGeneratorGroup`` per spike source, one ``Synapses`` per projection with
the spec's connection list and delays, and event-driven traces for plasticity.
Brian2's own scheduling (``when``/``order`` slots) realises the step order of
:mod:`neuromem.spec.schemes`, so deterministic inputs give the very spike ticks
of the torch backend. Runs use Brian2's runtime mode; tests use the ``numpy``
code target, which compiles nothing.

Trials of a batch are replicated groups inside one Brian2 network; Poisson
sources draw the shared counter-based trains, so a batch, single runs and the
torch backend all see the same input.

>>> from neuromem.backends import brian2 as backend
>>> "scheme:exact" in backend.capabilities()
True
>>> sim = backend.build(network, dt=0.1, batch_size=4)      # doctest: +SKIP
>>> recording = sim.run(100.0)                              # doctest: +SKIP
"""

from __future__ import annotations

import importlib.metadata
import importlib.util
import os
import sys
import traceback
from collections.abc import Sequence
from types import TracebackType
from typing import TYPE_CHECKING

from neuromem.backends.base import ALL_FEATURES, check_build, check_build_cost
from neuromem.errors import BackendError
from neuromem.spec import Network, checks

if TYPE_CHECKING:
    from neuromem.backends.brian2.simulation import Brian2Simulation

NAME = "brian2"
CODEGEN_TARGETS = ("numpy", "cython")


def capabilities() -> frozenset[str]:
    """Everything the spec can say, per-synapse delays on plastic projections included."""
    return ALL_FEATURES | {"plasticity:heterogeneous_delays"}


def missing_reason() -> str:
    """Why the backend cannot run here ("" when it can)."""
    if importlib.util.find_spec("brian2") is None:
        return "the brian2 package is not installed (pip install brian2==2.9.0)"
    import numpy

    brian2_version = importlib.metadata.version("brian2")
    old_brian2 = tuple(int(part) for part in brian2_version.split(".")[:2]) <= (2, 9)
    if old_brian2 and tuple(int(part) for part in numpy.__version__.split(".")[:2]) >= (2, 4):
        return f"brian2 {brian2_version} does not work with numpy {numpy.__version__}; install numpy<2.4"
    try:
        import brian2  # noqa: F401
    except Exception as error:  # a broken install can fail in many ways
        return f"brian2 fails to import: {error}"
    _brian_errors_only()
    return ""


def _brian_errors_only() -> None:
    """Keep Brian2's crash report for errors raised inside Brian2 only.

    Importing Brian2 replaces ``sys.excepthook`` with one that blames Brian for
    every later uncaught error and then keeps its debug log and a copy of the
    script in the system temp folder. Here that hook is narrowed: an error
    whose traceback passes through Brian2's code still gets Brian's report; any
    other error prints a plain traceback, and Brian's exit handler deletes its files.
    """
    from brian2.utils import logger

    if sys.excepthook is logger.brian_excepthook:
        sys.excepthook = _excepthook


def _excepthook(kind: type[BaseException], error: BaseException, tb: TracebackType | None) -> None:
    from brian2.utils import logger

    folder = os.sep + "brian2" + os.sep
    if any(folder in frame.filename for frame in traceback.extract_tb(tb)):
        logger.brian_excepthook(kind, error, tb)
    else:
        sys.__excepthook__(kind, error, tb)


def is_available() -> bool:
    return missing_reason() == ""


def _code_object_class(target: str) -> type:
    checks.choice("build", "codegen_target", target, CODEGEN_TARGETS)
    if target == "numpy":
        from brian2.codegen.runtime.numpy_rt import NumpyCodeObject

        return NumpyCodeObject
    from brian2.codegen.runtime.cython_rt import CythonCodeObject

    if not CythonCodeObject.is_available():
        raise BackendError("codegen_target 'cython' needs Cython and a C compiler; use 'numpy'")
    return CythonCodeObject


def build(
    network: Network,
    dt: float = 0.1,
    codegen_target: str = "numpy",
    seed: int = 0,
    trial_seeds: Sequence[int] | None = None,
    batch_size: int = 1,
) -> Brian2Simulation:
    """Build ``network`` on Brian2.

    Parameters
    ----------
    network : Network
    dt : float
        Time step (ms).
    codegen_target : {"numpy", "cython"}
        Brian2 runtime code target.
    seed, trial_seeds : int, sequence of int
        Trial b draws its Poisson inputs with seed ``trial_seeds[b]``
        (default ``seed + b``), exactly as on the torch backend.
    batch_size : int
        Independent trials, built as replicated groups in one Brian2 network.
    """
    if not is_available():
        raise BackendError(f"backend 'brian2' is not available: {missing_reason()}")
    dt, batch_size, seeds = check_build(network, NAME, capabilities(), dt, batch_size, seed, trial_seeds)
    check_build_cost(network, dt, batch_size, "float64", NAME)
    codeobj_class = _code_object_class(codegen_target)
    from neuromem.backends.brian2.simulation import Brian2Simulation

    _brian_errors_only()
    return Brian2Simulation(network, dt, batch_size, seeds, codeobj_class)


__all__ = ["NAME", "Brian2Simulation", "build", "capabilities", "is_available", "missing_reason"]
