r"""NIR graphs into spec Networks: :func:`from_nir`, for what NIR can express.

A NIR graph states continuous equations and no time step; the tools that
write graphs (snnTorch, Norse, neuromem) mean them for a step ``dt`` at
which a spike is an input of value 1 held over one step (an area of ``dt``)
and every node reads its input in the step it is made. The import takes that
``dt`` (ms) from the caller or from neuromem's metadata (``dt_s``) and maps

==============================  ==============================================
NIR                             spec
==============================  ==============================================
``Input``                       SpikeSourceArray (no spikes: give them to ``run``)
``CubaLIF``                     IF_curr_exp, ``cm = tau_mem / r`` (nF), I in nA
``LIF``                         IF_curr_delta, ``cm = tau / r`` (weights in mV)
``LI -> LIF`` (one per sign)    IF_curr_exp with tau_syn_E and tau_syn_I
                                (neuromem's two-synapse export)
``Linear`` / ``Affine``         projections: positive entries excitatory,
                                negative inhibitory; an Affine bias is the
                                target's ``i_offset`` (one value per population)
``Delay`` before a Linear       delay ``d + dt`` (the loaders' step is ``dt``)
``Output``                      a spike probe of the population feeding it
==============================  ==============================================

Weights. A spike through weight ``w`` into ``CubaLIF`` raises ``I`` by
``w w_in dt / tau_syn``; into ``LIF`` it moves ``v`` by ``r w dt / tau``
(mV); into neuromem's ``LI`` synapse node it raises the current by
``r w dt / tau``. Voltages are NIR's (mV), offset by neuromem's ``v_rest``
where the metadata gives it.

Exact or Euler (``integration``). The graph's equations are continuous;
``"exact"`` (default) keeps its time constants, and neuromem's exact scheme
integrates them exactly. snnTorch and Norse integrate the same graph with
forward Euler (decay ``1 - dt/tau`` per step), and snnTorch's ``tau`` is in
fact ``dt / (1 - beta)`` of its discrete ``beta``. ``"euler"`` writes every
time constant as ``tau' = -dt / ln(1 - dt/tau)``, whose exact decay is the
Euler one, so the imported network decays as those tools do; what remains
is their order of operations within a step (the current integrated as a
rectangle, the reset). The tests measure both against snnTorch and Norse.

Not expressible (CapabilityError naming the node): other node types,
per-neuron parameters that differ within one node, a Delay with different
values, a Linear between two nodes that are not neurons, biases that differ
within a population.
"""

from __future__ import annotations

import math

import numpy as np

from neuromem.errors import CapabilityError, ValidationError
from neuromem.spec import (
    FromList,
    IF_curr_delta,
    IF_curr_exp,
    Network,
    Population,
    Probe,
    Projection,
    SpikeSourceArray,
    checks,
)

NEURONS = ("CubaLIF", "LIF")


def _kind(node: object) -> str:
    return type(node).__name__


def _one(node_name: str, node: object, field: str) -> float:
    """The single value of a per-neuron NIR field, or refuse differing values."""
    values = np.asarray(getattr(node, field), dtype=np.float64).ravel()
    if values.size == 0:
        raise CapabilityError(f"NIR node {node_name!r}: field {field} is empty")
    if np.ptp(values) > 1e-12 * max(1.0, float(np.abs(values).max())):
        raise CapabilityError(
            f"NIR node {node_name!r}: feature per-neuron {field} (from {values.min():g} to {values.max():g}) cannot"
            " be imported: a spec population has one value; split the node"
        )
    return float(values[0])


def _size(node_name: str, node: object) -> int | None:
    """Neurons of a node from its parameters or declared input, None when they are scalars (Norse)."""
    for field in ("tau", "tau_mem", "v_threshold"):
        if hasattr(node, field) and np.asarray(getattr(node, field)).ndim > 0:
            return int(np.asarray(getattr(node, field)).size)
    shape = np.asarray(getattr(node, "input_type", {}).get("input", []))
    return int(np.prod(shape)) if shape.size else None


def _tau(tau_s: float, dt: float, integration: str) -> float:
    """A NIR time constant (s) in ms, as the exact solution (``"exact"``) or Euler's decay (``"euler"``)."""
    tau = tau_s * 1000.0
    if integration == "euler":
        if tau <= dt:
            raise CapabilityError(f"time constant {tau:g} ms <= dt = {dt:g} ms has no Euler decay to match")
        return -dt / math.log(1.0 - dt / tau)
    return tau


class _Importer:
    def __init__(self, graph: object, dt: float, integration: str, name: str) -> None:
        self.graph, self.dt, self.integration, self.name = graph, dt, integration, name
        self.nodes: dict[str, object] = dict(graph.nodes)  # type: ignore[attr-defined]
        self.edges: list[tuple[str, str]] = list(graph.edges)  # type: ignore[attr-defined]
        metadata = getattr(graph, "metadata", {}) or {}
        self.v_rest: dict[str, float] = dict(metadata.get("v_rest", {}) or {})
        self.synapse_of: dict[str, tuple[str, str]] = {}  # LI node -> (membrane, receptor)
        self.offsets: dict[str, float] = {}

    def successors(self, node: str) -> list[str]:
        return [b for a, b in self.edges if a == node]

    def predecessors(self, node: str) -> list[str]:
        return [a for a, b in self.edges if b == node]

    def run(self) -> Network:
        for node_name, node in self.nodes.items():
            if _kind(node) not in ("Input", "Output", "Linear", "Affine", "Delay", "LI", *NEURONS):
                raise CapabilityError(
                    f"NIR node {node_name!r}: feature {_kind(node)} cannot be imported (supported: Input, Output,"
                    " Linear, Affine, Delay, CubaLIF, LIF, and LI synapse nodes feeding a LIF)"
                )
            if _kind(node) == "LI":
                after = self.successors(node_name)
                if len(after) != 1 or _kind(self.nodes[after[0]]) != "LIF":
                    raise CapabilityError(
                        f"NIR node {node_name!r}: feature LI is imported only as a synapse feeding one LIF"
                    )
        for node_name, node in self.nodes.items():
            if _kind(node) == "LI":
                membrane = self.successors(node_name)[0]
                self.synapse_of[node_name] = (membrane, "")
        projections = self._projections()
        populations = [self._population(n) for n, node in self.nodes.items() if _kind(node) in ("Input", *NEURONS)]
        probes = tuple(
            Probe(a, "spikes") for a, b in self.edges if _kind(self.nodes[b]) == "Output" and a in self._neurons()
        )
        network = Network(populations=tuple(populations), projections=tuple(projections), probes=probes, name=self.name)
        network.validate(self.dt)
        return network

    def _neurons(self) -> list[str]:
        return [n for n, node in self.nodes.items() if _kind(node) in NEURONS]

    # -- populations ----------------------------------------------------------------------

    def _population(self, node_name: str) -> Population:
        node, dt = self.nodes[node_name], self.dt
        size = self._size_of(node_name)
        if _kind(node) == "Input":
            return Population(node_name, SpikeSourceArray.from_lists([[] for _ in range(size)]))
        rest = float(self.v_rest.get(node_name, 0.0))
        v_leak = _one(node_name, node, "v_leak") + rest
        common = {
            "v_rest": v_leak,
            "v_thresh": _one(node_name, node, "v_threshold") + rest,
            "v_reset": (_one(node_name, node, "v_reset") + rest) if hasattr(node, "v_reset") else v_leak,
            "tau_refrac": 0.0,
        }
        synapses = [s for s in self.predecessors(node_name) if _kind(self.nodes[s]) == "LI"]
        try:
            if _kind(node) == "CubaLIF":
                tau_m = _tau(_one(node_name, node, "tau_mem"), dt, self.integration)
                tau_syn = _tau(_one(node_name, node, "tau_syn"), dt, self.integration)
                cm = _one(node_name, node, "tau_mem") * 1000.0 / _one(node_name, node, "r")
                i_offset = self.offsets.get(node_name, 0.0)
                cell = IF_curr_exp(
                    cm=cm, tau_m=tau_m, tau_syn_E=tau_syn, tau_syn_I=tau_syn, i_offset=i_offset, **common
                )
            elif synapses:
                taus = {receptor: 0.0 for receptor in ("excitatory", "inhibitory")}
                for synapse in synapses:
                    taus[self.synapse_of[synapse][1] or "excitatory"] = _tau(
                        _one(synapse, self.nodes[synapse], "tau"), dt, self.integration
                    )
                tau_m = _tau(_one(node_name, node, "tau"), dt, self.integration)
                cm = _one(node_name, node, "tau") * 1000.0 / _one(node_name, node, "r")
                fallback = max(taus.values())
                cell = IF_curr_exp(
                    cm=cm,
                    tau_m=tau_m,
                    tau_syn_E=taus["excitatory"] or fallback,
                    tau_syn_I=taus["inhibitory"] or fallback,
                    i_offset=self.offsets.get(node_name, 0.0),
                    **common,
                )
            else:
                tau_m = _tau(_one(node_name, node, "tau"), dt, self.integration)
                cm = _one(node_name, node, "tau") * 1000.0 / _one(node_name, node, "r")
                cell = IF_curr_delta(cm=cm, tau_m=tau_m, i_offset=self.offsets.get(node_name, 0.0), **common)
        except ValidationError as error:
            raise CapabilityError(f"NIR node {node_name!r}: {error}") from None
        return Population(node_name, cell, size=size)

    def _size_of(self, node_name: str) -> int:
        """Neurons of a node; scalar parameters (Norse writes them) take the rows of the Linear feeding it."""
        size = _size(node_name, self.nodes[node_name])
        if size is not None:
            return size
        for before in self.predecessors(node_name):
            weight = getattr(self.nodes[before], "weight", None)
            if weight is not None:
                return int(np.asarray(weight).shape[0])
        raise CapabilityError(f"NIR node {node_name!r}: its number of neurons is unknown")

    # -- projections ----------------------------------------------------------------------

    def _projections(self) -> list[Projection]:
        found = []
        for node_name, node in self.nodes.items():
            if _kind(node) not in ("Linear", "Affine"):
                continue
            (source,) = self._single(node_name, self.predecessors(node_name), "input")
            (target,) = self._single(node_name, self.successors(node_name), "output")
            delay = self.dt
            if _kind(self.nodes[source]) == "Delay":
                delay += _one(source, self.nodes[source], "delay") * 1000.0
                (source,) = self._single(source, self.predecessors(source), "input")
            if _kind(self.nodes[source]) not in ("Input", *NEURONS):
                raise CapabilityError(
                    f"NIR node {node_name!r}: feature Linear from a {_kind(self.nodes[source])} node cannot be"
                    " imported (a projection starts at an Input or a neuron node)"
                )
            weight = np.asarray(node.weight, dtype=np.float64)  # type: ignore[attr-defined]
            receptor_fixed = ""
            if _kind(self.nodes[target]) == "LI":
                membrane = self.synapse_of[target][0]
                receptor_fixed = "inhibitory" if np.all(weight <= 0) else "excitatory"
                self.synapse_of[target] = (membrane, receptor_fixed)
                scale = self._scale(target)
                post = membrane
            elif _kind(self.nodes[target]) in NEURONS:
                scale, post = self._scale(target), target
            else:
                raise CapabilityError(
                    f"NIR node {node_name!r}: feature Linear into a {_kind(self.nodes[target])} node cannot be imported"
                )
            if _kind(node) == "Affine":
                self._bias(node_name, node, post)
            post_index, pre_index = np.nonzero(weight)
            values = weight[post_index, pre_index] * scale
            for receptor, keep in (("excitatory", values > 0), ("inhibitory", values < 0)):
                if not keep.any():
                    continue
                label = node_name if receptor == "excitatory" else f"{node_name}_inh"
                found.append(
                    Projection(
                        label,
                        source,
                        post,
                        FromList(pre_index[keep], post_index[keep]),
                        weight=np.abs(values[keep]),
                        delay=round(delay / self.dt) * self.dt,
                        receptor=receptor,
                    )
                )
        return found

    def _single(self, node_name: str, names: list[str], side: str) -> list[str]:
        if len(names) != 1:
            raise CapabilityError(
                f"NIR node {node_name!r}: feature {len(names)} {side} edges cannot be imported (a Linear has one"
                " source and one target)"
            )
        return names

    def _scale(self, target: str) -> float:
        """Factor from a Linear weight to the spec weight of a spike into node ``target``."""
        node, dt = self.nodes[target], self.dt
        if _kind(node) == "CubaLIF":
            return _one(target, node, "w_in") * dt / (_one(target, node, "tau_syn") * 1000.0)
        return _one(target, node, "r") * dt / (_one(target, node, "tau") * 1000.0)

    def _bias(self, node_name: str, node: object, post: str) -> None:
        """An Affine bias (one value) as the target's i_offset (nA) under the continuous reading."""
        bias = _one(node_name, node, "bias") if np.asarray(node.bias).size else 0.0  # type: ignore[attr-defined]
        if bias == 0.0:
            return
        target = self.nodes[post]
        if _kind(target) == "CubaLIF":
            # tau_syn dI/dt = -I + w_in b: a steady current w_in b (nA).
            current = _one(post, target, "w_in") * bias
        else:
            # tau dv/dt = ... + r b: the current that gives it with cm = tau / r is b.
            current = bias
        self.offsets[post] = self.offsets.get(post, 0.0) + current


def from_nir(graph: object, dt: float | None = None, integration: str = "exact", name: str = "nir") -> Network:
    """A spec Network of a ``nir.NIRGraph`` (see the module text for the mapping).

    Parameters
    ----------
    graph : nir.NIRGraph
        A graph, e.g. ``nir.read(path)`` or ``snntorch.export_nir.export_to_nir(...)``.
    dt : float or None
        Time step (ms) the graph is meant for; default the graph's ``metadata["dt_s"]``
        (neuromem writes it). snnTorch's graphs are for 0.1 ms; Norse's for the ``dt``
        given to ``norse.torch.to_nir`` (1 ms by default).
    integration : {"exact", "euler"}
        Keep the graph's time constants (its continuous equations, integrated exactly by
        neuromem) or convert them to the Euler decay snnTorch and Norse compute.
    name : str
        Name of the network.

    Raises
    ------
    ValidationError
        No ``dt`` given or found, or a bad ``integration``.
    CapabilityError
        A node or a feature the spec cannot express (named).
    """
    metadata = getattr(graph, "metadata", {}) or {}
    if dt is None:
        if "dt_s" not in metadata:
            raise ValidationError(
                "from_nir: the graph does not say its time step (no metadata dt_s); give dt in ms (snnTorch: 0.1,"
                " Norse: the dt given to to_nir, 1 ms by default)"
            )
        dt = float(metadata["dt_s"]) * 1000.0
    dt = checks.positive("from_nir", "dt", dt, "ms")
    if integration not in ("exact", "euler"):
        raise ValidationError(f"from_nir: integration must be 'exact' or 'euler', got {integration!r}")
    return _Importer(graph, dt, integration, name).run()


__all__ = ["from_nir"]
