r"""Static networks (and frozen plastic ones) as NIR graphs; :func:`from_nir` reads them back.

One node per population, one ``nir.Linear`` per projection and delay::

    spike source   -> nir.Input  (one per source population)
    IF_curr_exp    -> nir.CubaLIF
                      or, fed by both receptors with tau_syn_E != tau_syn_I, two nir.LI
                      synapse nodes "<population>_syn_exc"/"_syn_inh" feeding a nir.LIF
    IF_curr_delta  -> nir.LIF     (inputs are voltage steps: weights in mV)
    IF_cond_exp, Izhikevich       refused: NIR has no conductance or Izhikevich node
    projection     -> nir.Linear  (weight matrix (post, pre), inhibitory weights negative),
                      after a nir.Delay of (delay - dt) when the delay is longer than one step
                      (one Linear per distinct delay)
    every neuron population also feeds a nir.Output named "<population>_out"

Each cell type writes its own node (the ``nir`` part of its module in
:mod:`neuromem.cells`) and says how its weights scale.

NIR fixes equations but no time step, and the platforms that load it (Norse,
snnTorch) feed spikes as values of 1 per step and integrate with forward
Euler. The conversion therefore takes the run's ``dt`` and writes every
quantity so that these loaders reproduce neuromem's model:

* times in seconds (``tau_mem = tau_m / 1000``, ``tau_syn = tau_syn_E / 1000``),
  the unit the loaders assume;
* voltages relative to rest (snnTorch requires ``v_leak = 0``):
  ``v_leak = 0``, ``v_threshold = v_thresh - v_rest``, ``v_reset = v_reset - v_rest``;
* currents in "mV per step": ``I' = I dt / cm``, so ``r = tau_mem / dt``
  (the resistance snnTorch requires) and ``R I' = (tau_m / cm) I`` as in
  ``cm dV/dt = cm (v_rest - V)/tau_m + I``; projection weights are
  ``w' = w dt / cm_post`` (w in nA, dt in ms, cm in nF: mV);
* ``w_in = tau_syn / dt``: a spike of value 1 in one Euler step raises the
  current by its weight, ``I' += w'`` -- neuromem's jump of ``w`` nA.

Delays: a ``Linear`` stands for neuromem's shortest delay, one step; the rest
of a longer delay is a ``nir.Delay`` (seconds). Norse and snnTorch load no
Delay node, and they pass a step's input through a whole feed-forward chain
within that step (nirtorch 2.6 runs the nodes in graph order): a population
``d`` projections deep fires ``d - 1`` steps earlier in the loaded module than
on neuromem, with its input fed at the arrival step (measured on HLOP's
network, ``tests/test_hlop_export.py``). Loading a graph of one layer (Norse
1.1, snnTorch 1.0, ``tests/export``): a source spike that neuromem emits at
tick ``k`` (arriving at ``k + 1``, moving V from ``k + 2`` for IF_curr_exp,
within ``k + 1`` for IF_curr_delta) is fed to the loaded model at step
``k + 2`` (``k + 1``). Both loaders reset to the relative potential 0 whatever
``v_reset`` says, so they follow neuromem only when ``v_reset = v_rest``;
snnTorch also fixes ``dt = 0.1 ms`` (it checks ``r = tau_mem / 1e-4``), Norse
1.1 reads no ``r`` of a LIF and only one of two Linear nodes that feed one
node, and nirtorch runs graphs with one Output. Their forward-Euler step fires
0 to 8 steps early against neuromem's exact solution on the test network
(same spike counts).

Written for a loader (``loader="snntorch"`` or ``"norse"``, IF_curr_delta
only): each ``LIF`` gets the time constant whose Euler decay over the loader's
step is neuromem's exact ``exp(-dt/tau_m)`` and an ``r`` (snnTorch) or weight
scale (Norse) that adds the input in mV, so the loaded module reproduces
neuromem's spikes up to float32 rounding at threshold (identical on the test
network at dt = 0.1 ms; HLOP's 10-task network at 1 ms, 20,000 images: 1
(snnTorch) and 17 (Norse) of 8.3 million hidden spikes differ); with
``merge=True`` (one signed Linear per excitatory/inhibitory pair) and one
output population that graph loads in both.

The graph's ``metadata`` records ``dt`` (s), ``v_rest`` per population and
the current unit. Not expressible (CapabilityError naming feature and target
``nir``): ``i_offset``, current sources, plasticity unless ``freeze=True`` (then the initial weights are
written), and ``tau_refrac > 0`` unless ``approximate=True`` (NIR has no
refractory period).
"""

from __future__ import annotations

import os
import warnings
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from neuromem.cells.registry import model_of
from neuromem.errors import CapabilityError, ExportError, ValidationError
from neuromem.export.nir_loaders import LOADER_STEP_S, check_loader, loader_node
from neuromem.export.plan import ExportWarning
from neuromem.fileformat import remove_stale_temporaries
from neuromem.spec import Network, checks

TARGET = "nir"


def _import_nir() -> object:
    try:
        import nir
    except ImportError as error:
        raise ExportError(f"target 'nir' is not installed ({error}); install nir (pip install nir)") from error
    return nir


def _check(network: Network, dt: float, freeze: bool, approximate: bool, loader: str | None = None) -> None:
    for projection in network.projections:
        where = f"Projection {projection.name!r}"
        if type(projection.plasticity).__name__ == "SubspaceRule":
            raise CapabilityError(
                f"{where}: feature plasticity:SubspaceRule cannot be expressed on target 'nir', not even frozen"
                " (its lateral neurons are read as spike counts by the rule, not run as a layer); export the"
                " network without its lateral populations"
            )
        if projection.plasticity is not None and not freeze:
            raise CapabilityError(
                f"{where}: feature plasticity:{type(projection.plasticity).__name__} cannot be expressed on target"
                " 'nir'; pass freeze=True (--freeze on the command line) to export the initial weights as static"
            )
    if loader is not None:
        check_loader(network, loader)
    if network.current_sources:
        raise CapabilityError(
            f"network {network.name!r}: feature current_source:{type(network.current_sources[0]).__name__}"
            " cannot be expressed on target 'nir'"
        )
    for population in network.populations:
        if population.is_source:
            continue
        cell = population.cell
        where = f"Population {population.name!r}"
        if model_of(cell).nir is None:
            raise CapabilityError(
                f"{where}: feature cell:{type(cell).__name__} cannot be expressed on target 'nir', which has no"
                " node for it"
            )
        if getattr(cell, "tau_refrac", 0.0) > 0.0:
            message = (
                f"{where}: feature tau_refrac = {cell.tau_refrac:g} ms cannot be expressed on target 'nir'"  # type: ignore[union-attr]
                " (no refractory period)"
            )
            if not approximate:
                raise CapabilityError(
                    message + "; pass approximate=True (--approximate on the command line) to drop it"
                )
            warnings.warn(message + "; dropped (approximate=True)", ExportWarning, stacklevel=3)


def population_node(network: Network, name: str, dt: float, loader: str | None = None) -> tuple[object, float]:
    """The NIR node of population ``name`` and the factor from its weight unit to the node's input unit."""
    population = network.population(name)
    if loader is not None:
        return loader_node(_import_nir(), population.cell, int(population.size), dt, loader)
    receptors = {p.receptor for p in network.projections if p.post == name}
    try:
        return model_of(population.cell).nir(_import_nir(), population.cell, int(population.size), dt, receptors)  # type: ignore[misc]
    except CapabilityError as error:
        raise CapabilityError(f"Population {name!r}: {error}") from None


def cuba_lif_parameters(cell: object, size: int, dt: float, receptor: str = "excitatory") -> dict[str, np.ndarray]:
    """NIR CubaLIF fields of ``size`` neurons of an ``IF_curr_exp`` ``cell`` for time step ``dt`` (ms)."""
    graph_node, _ = model_of(cell).nir(_import_nir(), cell, size, dt, {receptor})  # type: ignore[misc]
    return {k: getattr(graph_node, k) for k in ("tau_mem", "tau_syn", "r", "v_leak", "v_threshold", "v_reset", "w_in")}


def weight_matrix(
    network: Network, name: str, dt: float, keep: np.ndarray | None = None, loader: str | None = None
) -> np.ndarray:
    """(post, pre) matrix of projection ``name`` in the post node's input unit, signed.

    ``keep``: which synapses (in connection-list order) to write; default all.
    ``loader``: the unit of the node written for that loader (see :func:`to_nir`).
    """
    projection = network.projection(name)
    lists = network.connection_list(name)
    if _two_synapses(network, projection.post):
        scale = dt / network.population(projection.post).cell.cm  # type: ignore[union-attr]
    else:
        _, scale = population_node(network, projection.post, dt, loader)
    chosen = np.ones(lists.pre.size, dtype=bool) if keep is None else np.asarray(keep, dtype=bool)
    matrix = np.zeros((network.size(projection.post), network.size(projection.pre)))
    sign = -1.0 if projection.receptor == "inhibitory" else 1.0
    np.add.at(matrix, (lists.post[chosen], lists.pre[chosen]), sign * lists.weight[chosen] * scale)
    return matrix


def _two_synapses(network: Network, name: str) -> bool:
    """True for an IF_curr_exp population fed through both receptors with different time constants."""
    cell = network.population(name).cell
    receptors = {p.receptor for p in network.projections if p.post == name}
    return (
        type(cell).__name__ == "IF_curr_exp"
        and receptors == {"excitatory", "inhibitory"}
        and cell.tau_syn_E != cell.tau_syn_I  # type: ignore[union-attr]
    )


def _synapse_nodes(nir: object, network: Network, name: str, dt: float) -> dict[str, tuple[str, object]]:
    """One ``nir.LI`` per receptor: the synaptic current of an IF_curr_exp with two time constants.

    ``tau_syn dI/dt = -I + r x`` with ``r = tau_syn/dt``: one Euler step of input ``x`` raises
    ``I`` by ``x`` (the weight, in the membrane's "mV per step" current unit).
    """
    cell = network.population(name).cell
    size = network.size(name)
    ones = np.ones(size)
    nodes = {}
    for receptor, tau in (("excitatory", cell.tau_syn_E), ("inhibitory", cell.tau_syn_I)):  # type: ignore[union-attr]
        node = nir.LI(tau=ones * tau / 1000.0, r=ones * tau / dt, v_leak=ones * 0.0)  # type: ignore[attr-defined]
        nodes[receptor] = (f"{name}_syn_{receptor[:3]}", node)
    return nodes


def _membrane_node(nir: object, cell: object, size: int, dt: float) -> object:
    """The ``nir.LIF`` membrane of an IF_curr_exp fed by its two synapse nodes (currents in mV per step)."""
    if cell.i_offset != 0.0:  # type: ignore[attr-defined]
        raise CapabilityError(f"feature i_offset = {cell.i_offset:g} nA cannot be expressed on target 'nir'")  # type: ignore[attr-defined]
    ones = np.ones(size)
    return nir.LIF(  # type: ignore[attr-defined]
        tau=ones * cell.tau_m / 1000.0,  # type: ignore[attr-defined]
        r=ones * cell.tau_m / dt,  # type: ignore[attr-defined]
        v_leak=ones * 0.0,
        v_threshold=ones * (cell.v_thresh - cell.v_rest),  # type: ignore[attr-defined]
        v_reset=ones * (cell.v_reset - cell.v_rest),  # type: ignore[attr-defined]
    )


def _linear_name(entry: dict[str, object]) -> str:
    """A merged Linear's name: the projections' common stem (``layer1`` of ``layer1_exc``, ``layer1_inh``)."""
    names: list[str] = entry["names"]  # type: ignore[assignment]
    if len(names) == 1:
        return names[0]
    stem = os.path.commonprefix(names).rstrip("_")
    return stem or f"{entry['pre']}_to_{entry['target']}"


def to_nir(
    network: Network,
    dt: float | None = None,
    freeze: bool = False,
    approximate: bool = False,
    merge: bool = False,
    loader: str | None = None,
    outputs: Sequence[str] | None = None,
) -> object:
    """``network`` as a ``nir.NIRGraph`` for time step ``dt`` (ms).

    Parameters
    ----------
    network : Network
        Static, or plastic with ``freeze=True``.
    dt : float or None
        Time step (ms) the loaders will use; default ``required_dt`` or 0.1 ms.
    freeze : bool
        Write plastic projections with their initial weights.
    approximate : bool
        Drop refractory periods (with an ``ExportWarning``) instead of refusing them.
    merge : bool
        One signed ``nir.Linear`` per source, target node and delay: the excitatory and
        inhibitory projections between two populations (a signed matrix written as a pair)
        become one node named after their common stem. Norse 1.1 reads only one of two
        Linear nodes that feed the same population; snnTorch reads both.
    loader : {None, "snntorch", "norse"}
        None: a graph of the continuous equations (see the module text). ``"snntorch"`` or
        ``"norse"``: every node written so that that loader's forward-Euler step equals
        neuromem's exact step of ``dt`` (IF_curr_delta only, ``v_reset = v_rest``), so the loaded
        module gives neuromem's spikes (up to float32 rounding): snnTorch 1.0 steps 0.1 ms whatever the graph says
        (``import_from_nir(graph)``); Norse 1.1 takes the step, give it ``dt``:
        ``from_nir(graph, dt=dt / 1000)``. The time constants are those of the loader's step,
        not the model's (recorded in ``metadata["loader"]``, ``metadata["loader_dt_s"]``).
    outputs : sequence of str or None
        The neuron populations that feed a ``nir.Output`` (default: every one). nirtorch 2.6,
        through which snnTorch and Norse load graphs, runs graphs with one Output only.

    Raises
    ------
    ValidationError, CapabilityError, ExportError
        Invalid network; a feature NIR cannot express; nir not installed.
    """
    nir = _import_nir()
    if not isinstance(network, Network):
        raise ValidationError(f"to_nir: network must be a Network, got {type(network).__name__}")
    dt = checks.positive("to_nir", "dt", dt if dt is not None else (network.required_dt or 0.1), "ms")
    if loader is not None and loader not in LOADER_STEP_S:
        raise ValidationError(f"to_nir: loader = {loader!r} is not allowed; allowed: None, {', '.join(LOADER_STEP_S)}")
    network.validate(dt)
    for name in outputs or ():
        if name not in {p.name for p in network.populations if not p.is_source}:
            raise ValidationError(f"to_nir: outputs names {name!r}, which is not a neuron population of the network")
    _check(network, dt, freeze, approximate, loader)
    nodes: dict[str, object] = {}
    edges: list[tuple[str, str]] = []
    inputs: dict[tuple[str, str], str] = {}  # (population, receptor) -> node its projections feed
    for population in network.populations:
        if population.is_source:
            nodes[population.name] = nir.Input(input_type={"input": np.array([population.size])})
            continue
        if _two_synapses(network, population.name):
            for receptor, node in _synapse_nodes(nir, network, population.name, dt).items():
                nodes[node[0]] = node[1]
                edges.append((node[0], population.name))
                inputs[(population.name, receptor)] = node[0]
            nodes[population.name] = _membrane_node(nir, population.cell, int(population.size), dt)
        else:
            nodes[population.name], _ = population_node(network, population.name, dt, loader)
        if outputs is not None and population.name not in outputs:
            continue
        output = f"{population.name}_out"
        nodes[output] = nir.Output(output_type={"output": np.array([population.size])})
        edges.append((population.name, output))
    linear: dict[tuple[object, ...], dict[str, object]] = {}  # one Linear per entry, in projection order
    for projection in network.projections:
        target = inputs.get((projection.post, projection.receptor), projection.post)
        steps = network.delay_steps(projection.name, dt)
        groups = np.unique(steps) if steps.size else np.array([1])
        for k, delay in enumerate(groups.tolist()):
            matrix = weight_matrix(network, projection.name, dt, steps == delay, loader)
            key = (projection.pre, target, delay) if merge else (projection.name, delay)
            if key in linear:  # merge: the signed sum of every projection between the two nodes
                linear[key]["matrix"] = linear[key]["matrix"] + matrix  # type: ignore[operator]
                linear[key]["names"].append(projection.name)  # type: ignore[attr-defined]
                continue
            suffix = "" if groups.size == 1 else f"{k}"
            linear[key] = {"names": [projection.name], "suffix": suffix, "matrix": matrix, "pre": projection.pre}
            linear[key].update(target=target, delay=delay)
    for entry in linear.values():
        base, suffix, source, delay = _linear_name(entry), entry["suffix"], entry["pre"], entry["delay"]
        node = f"{base}_w{suffix}"
        if node in nodes:  # merged groups of different delays that share a name
            node, suffix = f"{node}_{delay}", f"{suffix}_{delay}"
        nodes[node] = nir.Linear(weight=entry["matrix"])
        if delay > 1:  # type: ignore[operator]
            # The one step every loader adds between nodes is neuromem's shortest delay; the rest is a Delay.
            delayed = f"{base}_delay{suffix}"
            nodes[delayed] = nir.Delay(delay=np.full(network.size(source), (delay - 1) * dt / 1000.0))  # type: ignore[operator, arg-type]
            edges.append((source, delayed))  # type: ignore[arg-type]
            source = delayed
        edges.extend([(source, node), (node, entry["target"])])  # type: ignore[list-item]
    metadata = {
        "generator": "neuromem",
        "dt_s": dt / 1000.0,
        "time_unit": "s",
        "voltage": "mV relative to v_rest",
        "current": "mV per step (I dt / cm)",
        "delay": "a loader's step between nodes is one step of delay; nir.Delay nodes hold the rest (s)",
        "v_rest": {p.name: p.cell.v_rest for p in network.populations if not p.is_source},  # type: ignore[union-attr]
    }
    if loader is not None:
        step = LOADER_STEP_S[loader]
        metadata["loader"] = loader
        metadata["loader_dt_s"] = dt / 1000.0 if step is None else step
        metadata["time_unit"] = f"s of {loader}'s Euler step: one step of {metadata['loader_dt_s']:g} s is one of dt"
    return nir.NIRGraph(nodes=nodes, edges=edges, metadata=metadata)


def write_nir(
    network: Network,
    path: str | os.PathLike[str],
    dt: float | None = None,
    freeze: bool = False,
    approximate: bool = False,
    overwrite: bool = False,
    merge: bool = False,
    loader: str | None = None,
    outputs: Sequence[str] | None = None,
) -> Path:
    """Write :func:`to_nir` of ``network`` to ``path`` (HDF5, via ``nir.write``) atomically.

    ``merge``, ``loader`` and ``outputs`` as in :func:`to_nir`. The graph is built (and
    refused, if it cannot be expressed) before the file system is touched. An existing file
    at ``path`` is replaced only with ``overwrite=True``; a folder there is never replaced.
    """
    nir = _import_nir()
    graph = to_nir(network, dt, freeze, approximate, merge, loader, outputs)
    path = Path(path)
    if path.exists() or path.is_symlink():
        if not path.is_file() or path.is_symlink():
            raise ExportError(f"cannot write {path}: it exists and is not a plain file")
        if not overwrite:
            raise ExportError(f"cannot write {path}: the file exists; pass overwrite=True (--overwrite) to replace it")
    if not path.parent.is_dir():
        raise ExportError(f"cannot write {path}: folder {path.parent} does not exist")
    remove_stale_temporaries(path)
    temporary = path.with_name(f".{path.name}.{os.getpid()}.{os.urandom(4).hex()}.tmp")
    try:
        nir.write(str(temporary), graph)
        os.replace(temporary, path)
    except OSError as error:
        raise ExportError(f"cannot write {path}: {error.strerror or error}") from error
    finally:
        if temporary.exists():
            temporary.unlink()
    return path


from neuromem.export.nir_import import from_nir  # noqa: E402 - the other direction, re-exported here

__all__ = ["from_nir", "to_nir", "write_nir"]
