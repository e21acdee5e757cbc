"""neuromem as a PyNN 0.13 simulator: ``import neuromem.pynn as sim`` (or ``pyNN.neuromem``).

PyNN scripts build Populations, Projections and current sources as on any PyNN
simulator; each ``run`` translates them into a ``neuromem.spec.Network`` and
runs it on the torch engine (CPU or CUDA; ``setup(device=..., batch=...)``),
continuing the same simulation from run to run. Spikes, recordings and time
labels follow pyNN.nest's on-grid conventions, so a network of IF_curr_exp
neurons gives NEST's spikes. What the engine cannot run is refused with
PyNN's exception types (``NotImplementedError`` and ``pyNN.errors``), each also a
:class:`neuromem.errors.NeuromemError`.

Examples
--------
>>> import neuromem.pynn as sim                                        # doctest: +SKIP
>>> sim.setup(timestep=0.1)                                            # doctest: +SKIP
>>> cells = sim.Population(10, sim.IF_curr_exp(i_offset=1.0))          # doctest: +SKIP
>>> cells.record("spikes"); sim.run(100.0)                             # doctest: +SKIP
>>> cells.get_data().segments[0].spiketrains                           # doctest: +SKIP
"""

from __future__ import annotations

try:
    import pyNN  # noqa: F401
except ImportError as error:  # pragma: no cover - depends on the installation
    raise ImportError("neuromem.pynn needs PyNN 0.13: pip install 'pynn==0.13.0' (or neuromem[export])") from error

from pyNN import errors, random, space  # noqa: F401
from pyNN.connectors import (  # noqa: F401
    AllToAllConnector,
    ArrayConnector,
    CloneConnector,
    CSAConnector,
    DisplacementDependentProbabilityConnector,
    DistanceDependentProbabilityConnector,
    FixedNumberPostConnector,
    FixedNumberPreConnector,
    FixedProbabilityConnector,
    FixedTotalNumberConnector,
    FromFileConnector,
    FromListConnector,
    IndexBasedProbabilityConnector,
    OneToOneConnector,
    SmallWorldConnector,
)
from pyNN.network import Network  # noqa: F401
from pyNN.random import GSLRNG, NumpyRNG, RandomDistribution  # noqa: F401
from pyNN.space import Space  # noqa: F401
from pyNN.standardmodels import StandardCellType as _StandardCellType

from neuromem.pynn import hook
from neuromem.pynn.control import (  # noqa: F401
    end,
    get_current_time,
    get_max_delay,
    get_min_delay,
    get_time_step,
    initialize,
    num_processes,
    rank,
    reset,
    run,
    run_for,
    run_until,
    setup,
)
from neuromem.pynn.electrodes import DCSource, StepCurrentSource  # noqa: F401
from neuromem.pynn.populations import Assembly, Population, PopulationView  # noqa: F401
from neuromem.pynn.procedural_api import connect, create, record, record_gsyn, record_v, set  # noqa: F401
from neuromem.pynn.projections import Projection  # noqa: F401
from neuromem.pynn.standardmodels import *  # noqa: F401, F403
from neuromem.pynn.standardmodels import UNAVAILABLE, ModelNotAvailable  # noqa: F401

hook.install()


def list_standard_models() -> list[str]:
    """Names of the standard cell types this simulator runs."""
    return [
        name
        for name, obj in globals().items()
        if not name.startswith("_")
        and isinstance(obj, type)
        and issubclass(obj, _StandardCellType)
        and not issubclass(obj, ModelNotAvailable)
    ]
