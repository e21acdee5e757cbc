r"""What a cell type module provides, and the helpers cell types share.

A cell type is one module of :mod:`neuromem.cells` that holds, in one place:

* the spec class (a frozen :class:`CellType` dataclass): parameters with
  PyNN's names, units and defaults, and their validation;
* its state variables and what can be recorded;
* its update under each integration scheme it supports, as pure torch step
  functions ``step(state, input_exc, input_inh, i_ext, k, spike_fn) ->
  (spikes, state)`` over a ``NamedTuple`` state (equations and the order of
  operations in each docstring);
* its Brian2 equations (:class:`Brian2Model`);
* its PyNN standard type and translation per simulator, including a refusal
  that names the feature and the target (:class:`PyNNModel`);
* its NIR node, where NIR has one;
* optionally, an in-place event update (:class:`EventModel`) that the
  simulation runs instead of the pure step when spikes carry no gradient:
  the same arithmetic, fewer and cheaper tensor operations per step.

These parts are gathered in one :class:`CellModel` and listed, one line per
type, in :mod:`neuromem.cells.registry`, which the spec, both backends and
every exporter use. Modules import no simulator at import time: torch steps
use tensor methods only, Brian2 models are strings and numbers.

Shapes in the torch steps: (batch, neurons of the block). ``input_exc`` and
``input_inh`` are the weights arriving at this tick in the cell's weight unit
(``weight_unit``); ``i_ext`` is injected current (nA) held over the step, or
None when nothing is injected.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, ClassVar, NamedTuple, Union

from neuromem.spec.base import SpecObject

if TYPE_CHECKING:
    import torch

#: A per-population constant: a float, or a 0-d tensor when the value is trained.
Scalar = Union[float, "torch.Tensor"]
SpikeFunction = Callable[["torch.Tensor"], "torch.Tensor"]
#: The per-neuron constants a step reads: a NamedTuple of (neurons,) tensors whose
#: fields are the keys of the cell module's ``constants``.
Constants = NamedTuple
StepFunction = Callable[..., tuple["torch.Tensor", NamedTuple]]
#: ``step(state, inputs, i_ext, k, spikes) -> None``: one in-place step of an :class:`EventModel`.
EventStepFunction = Callable[..., None]


class CellType(SpecObject):
    """Base of the neuron cell types (spike sources are not cell types).

    Class attributes set by every cell type:

    ``units``
        Parameter name -> unit (PyNN's units).
    ``weight_unit``
        Unit of the weights of synapses onto this cell (``nA``, ``mV``, ``uS``).
    ``recordables``
        Probe variables besides ``spikes``, each a field of the torch state.
    ``initial_names``
        Parameters that are initial values, not PyNN parameters (``v_init``...).
    """

    units: ClassVar[dict[str, str]] = {}
    weight_unit: ClassVar[str] = "nA"
    recordables: ClassVar[tuple[str, ...]] = ("v",)
    initial_names: ClassVar[tuple[str, ...]] = ("v_init",)

    def parameters(self) -> dict[str, float]:
        """PyNN keyword arguments of this cell (initial values excluded)."""
        return {k: getattr(self, k) for k in self.units if k not in self.initial_names}

    def initial_values(self) -> dict[str, float]:
        """State variables at t = 0 (PyNN names: ``v`` in mV, ...)."""
        raise NotImplementedError


@dataclass(frozen=True)
class TorchModel:
    """The torch side of a cell type.

    Attributes
    ----------
    state : type
        ``NamedTuple`` of the state tensors (batch, neurons); recordables are fields.
    constants : callable
        ``constants(parameters, dt, scheme) -> dict`` of per-population
        constants, computed from the parameters (floats, or 0-d tensors for
        trained ones) once per build; every step function reads them as ``k``.
    initial : callable
        ``initial(cell) -> dict`` of the value of every state field at t = 0.
    steps : mapping
        Scheme name -> step function.
    integer : tuple of str
        State fields held as int32 (refractory counters).
    decaying : tuple of str
        State fields that decay towards 0 and are flushed when tiny.
    describe : dict
        Constant -> words for messages (``"membrane resistance tau_m/cm (MOhm)"``).
    events : EventModel or None
        Optional in-place update for simulations without gradients; None: the
        simulation runs ``steps``.
    """

    state: type
    constants: Callable[[Mapping[str, Scalar], float, str], dict[str, Scalar]]
    initial: Callable[[CellType], dict[str, float]]
    steps: Mapping[str, StepFunction]
    integer: tuple[str, ...] = ()
    decaying: tuple[str, ...] = ()
    describe: dict[str, str] = field(default_factory=dict)
    events: EventModel | None = None


@dataclass(frozen=True)
class EventModel:
    """An optional in-place update of a cell type, for runs whose spikes need no gradient.

    The simulation (not the differentiable module) uses it when the spike
    function is the Heaviside step: each step then updates a *working state*
    in place and writes its spikes into the simulation's boolean spike row,
    instead of building new tensors. The working state may lay the state out
    differently (currents of both receptors in one tensor, counters as floats,
    scratch buffers), but every step must give the pure step's spikes and
    state bit for bit; checkpoints and recordings see the public state.

    Attributes
    ----------
    state : type
        ``NamedTuple`` of the working state. Recordables must be readable from
        it as attributes (fields or properties) with the public shapes.
    pack : callable
        ``pack(state, k) -> working`` from the public state (``TorchModel.state``)
        and the block's constants; new tensors, never views of ``state``.
    unpack : callable
        ``unpack(working) -> state``: the public state (views or copies).
    constants : callable
        ``constants(k) -> NamedTuple`` of what the event steps read, from the
        block's per-neuron constants ``k`` (computed once per build).
    steps : mapping
        Scheme name -> ``step(working, inputs, i_ext, k, spikes) -> None``.
        ``inputs`` (batch, 2 n) are the tick's arrivals, excitatory channels of
        the block then inhibitory ones (the layout of the input buffer); the step
        may overwrite it (the simulation clears it after the step). ``spikes``
        (batch, n) is a boolean view to write the spikes into. A scheme missing
        here runs the pure step.
    decaying : tuple of str
        Working fields that decay towards 0 and are flushed when tiny.
    """

    state: type
    pack: Callable[[NamedTuple, NamedTuple], NamedTuple]
    unpack: Callable[[NamedTuple], NamedTuple]
    constants: Callable[[NamedTuple], NamedTuple]
    steps: Mapping[str, EventStepFunction]
    decaying: tuple[str, ...] = ()


@dataclass(frozen=True)
class Brian2Model:
    """The Brian2 side of a cell type, as strings and numbers.

    Variables are plain numbers in PyNN units (mV, nA, nF, uS). Namespace
    entries whose name starts with ``tau`` are times in ms: the backend
    attaches Brian2's ``ms`` to them (and puts ``ms`` itself in the
    namespace). Every model has an ``i_inj : 1`` variable (nA) for current
    sources.

    Attributes
    ----------
    equations, threshold, reset, method : str
        NeuronGroup arguments.
    namespace : dict
        Constants the code refers to (plain floats).
    initial : dict
        Variable -> value at t = 0.
    refractory_steps : int or None
        Steps of refractoriness after the spike step (V held at ``v_reset`` by
        an operation right after the state update); None: never refractory.
    operations : tuple
        Extra ``run_regularly`` operations: (name, code, when, order).
    synapse_code : dict
        Receptor -> statement a synapse runs on delivery, with ``{w}`` for the
        weight expression (``I_E_post += {w}``).
    early : bool
        Deliver arrivals of tick n in tick n - 1 into accumulators that the
        operations fold in within step n (latency = delay).
    traces : dict
        Probe variable -> Brian2 variable.
    """

    equations: str
    threshold: str
    reset: str
    method: str
    namespace: dict[str, float]
    initial: dict[str, float]
    refractory_steps: int | None
    synapse_code: dict[str, str]
    early: bool
    traces: dict[str, str]
    operations: tuple[tuple[str, str, str, int], ...] = ()


@dataclass(frozen=True)
class PyNNModel:
    """The PyNN side of a cell type (see :mod:`neuromem.export.translate`).

    Attributes
    ----------
    name : str
        PyNN standard cell type.
    parameters : callable
        ``parameters(cell, target, dt) -> dict`` of PyNN keyword arguments for
        simulator ``target`` (``nest``, ``brian2``, ``spiNNaker``).
    initial : callable
        ``initial(cell, dt, warmup_steps, missed) -> dict`` of ``initialize``
        values that reach the cell's state at neuromem's tick 0 after the
        target's warm-up steps without input. ``missed`` (nA per neuron, or
        None) is current that flows in step 0 but reaches the target one step
        late (NEST): its effect on step 0 is folded into the initial state, so
        the values become per-neuron lists.
    weight_scale : callable
        ``weight_scale(cell, target, dt) -> float``: factor from neuromem's
        weight to the target's (before the inhibitory sign).
    conductance_based : bool
        PyNN keeps inhibitory weights positive for conductance-based cells.
    recordables : dict
        neuromem probe variable -> PyNN recordable.
    refuse : callable
        ``refuse(cell, target) -> (reason, approximable) or None``: why
        ``target`` cannot run this cell exactly, and whether ``approximate=True``
        may export it anyway.
    delay_offset_steps : dict
        Target -> steps added to every delay of synapses onto this cell.
    native : dict
        Target -> settings of the simulator's own objects the exported runner
        applies (``{"brian2": {"method": "rk4"}}``: the integration method).
    """

    name: str
    parameters: Callable[[CellType, str, float], dict[str, float]]
    initial: Callable[..., dict[str, object]]
    weight_scale: Callable[[CellType, str, float], float]
    recordables: dict[str, str]
    conductance_based: bool = False
    refuse: Callable[[CellType, str], tuple[str, bool] | None] = lambda cell, target: None
    delay_offset_steps: dict[str, int] = field(default_factory=dict)
    native: dict[str, dict[str, str]] = field(default_factory=dict)


@dataclass(frozen=True)
class CellModel:
    """Everything neuromem knows about one cell type (one registry entry)."""

    spec: type[CellType]
    torch: TorchModel
    brian2: Callable[[CellType, str, float], Brian2Model]
    pynn: PyNNModel
    #: ``nir(nir_module, cell, size, dt, receptors) -> (node, weight_scale)``, or None:
    #: NIR has no node for the type.
    nir: Callable[..., tuple[object, float]] | None = None

    @property
    def name(self) -> str:
        return self.spec.__name__

    @property
    def schemes(self) -> tuple[str, ...]:
        """Integration schemes this cell type has an update for."""
        return tuple(self.torch.steps)


# -- helpers shared by the cell modules -------------------------------------------------


def exp(x: Scalar) -> Scalar:
    """``exp`` of a float (math) or of a tensor (differentiable)."""
    return x.exp() if hasattr(x, "exp") else math.exp(x)  # type: ignore[union-attr,arg-type]


def exp_current_gain(cm: Scalar, tau_m: Scalar, tau_syn: Scalar, dt: float) -> Scalar:
    """Membrane change (mV) after ``dt`` ms from 1 nA of current decaying with ``tau_syn``.

    The solution of ``cm dV/dt = -cm V/tau_m + exp(-t/tau_syn)`` with V(0) = 0;
    ``(dt/cm) exp(-dt/tau_m)`` when the time constants are equal.
    """
    if hasattr(tau_syn, "exp") or hasattr(tau_m, "exp"):
        import torch

        tau_syn_t, tau_m_t = torch.as_tensor(tau_syn), torch.as_tensor(tau_m)
        equal = (tau_syn_t - tau_m_t).abs() < 1e-9 * tau_m_t
        # Keep the unused branch finite so its gradient is 0, not NaN.
        safe = torch.where(equal, tau_syn_t + 1.0, tau_syn_t)
        general = tau_m_t * safe / (safe - tau_m_t) / cm * ((-dt / safe).exp() - (-dt / tau_m_t).exp())
        return torch.where(equal, dt / cm * (-dt / tau_m_t).exp(), general)
    if abs(tau_syn - tau_m) < 1e-9 * tau_m:  # type: ignore[operator]
        return dt / cm * math.exp(-dt / tau_m)  # type: ignore[operator]
    factor = tau_m * tau_syn / (tau_syn - tau_m) / cm  # type: ignore[operator]
    return factor * (math.exp(-dt / tau_syn) - math.exp(-dt / tau_m))  # type: ignore[operator]


def refractory_steps(tau_refrac: float, dt: float) -> int:
    """Whole steps of refractoriness after the spike step: ``round(tau_refrac / dt)``."""
    return int(round(tau_refrac / dt))


def heaviside(x: torch.Tensor) -> torch.Tensor:
    """Spike where ``x >= 0`` (no gradient)."""
    return (x >= 0).to(x.dtype)


def heaviside_events(x: torch.Tensor) -> torch.Tensor:
    """Spike where ``x >= 0``, as booleans: the simulation's event masks (no gradient)."""
    return x >= 0


def fire(
    v_new: torch.Tensor,
    v_old: torch.Tensor,
    refractory: torch.Tensor,
    v_thresh: torch.Tensor,
    v_reset: torch.Tensor,
    steps: torch.Tensor | int,
    spike_fn: SpikeFunction,
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Refractory hold, threshold and reset shared by the integrate-and-fire cells.

    A neuron with ``refractory > 0`` keeps ``v_old`` (held at ``v_reset``) and
    counts down; otherwise it takes ``v_new`` and spikes where
    ``v_new >= v_thresh``, is reset to ``v_reset`` and made refractory for
    ``steps`` steps. Returns (spikes, v, refractory).
    A block none of whose neurons is ever refractory passes ``steps`` as the
    int 0: the count then stays as it is and no neuron is held.
    """
    if isinstance(steps, int) and steps == 0:
        # Same values (and gradients) as the general path with every neuron free, fewer operations.
        if spike_fn is heaviside or spike_fn is heaviside_events:
            fired = v_new >= v_thresh
            v = v_new.where(~fired, v_reset)
            return (fired if spike_fn is heaviside_events else fired.to(v_new.dtype)), v, refractory
        spikes = spike_fn(v_new - v_thresh)
        if spikes.dtype != v_new.dtype:  # snnTorch's surrogates step in float32
            spikes = spikes.to(v_new.dtype)
        return spikes, v_new - spikes * (v_new - v_reset), refractory
    if spike_fn is heaviside or spike_fn is heaviside_events:
        # No gradient wanted: boolean masks instead of blends, fewer passes over the state.
        active = refractory <= 0
        fired = active & (v_new >= v_thresh)
        # A refractory neuron's v_old is v_reset (set at its spike, then held), so one
        # select gives free, reset and held membranes alike.
        v = v_new.where(active ^ fired, v_reset)
        spikes = fired if spike_fn is heaviside_events else fired.to(v_new.dtype)
        # The count may run below 0 (any value <= 0 means free): one operation fewer per
        # step; the simulation clamps it back to 0 every few steps, with the tiny currents.
        return spikes, v, steps.where(fired, refractory - 1)
    active = refractory <= 0
    v = v_new.where(active, v_old)
    counted = refractory.where(active, refractory - 1)
    spikes = spike_fn(v - v_thresh) * active.to(v.dtype)
    # Written as a blend so a surrogate gradient can flow through the reset.
    v = v - spikes * (v - v_reset)
    return spikes, v, steps.where(spikes > 0, counted)


def fire_in_place(
    v: torch.Tensor,
    refractory: torch.Tensor,
    crossed: torch.Tensor,
    active: torch.Tensor,
    k: NamedTuple,
    spikes: torch.Tensor,
) -> None:
    """:func:`fire` with Heaviside spikes, in place, for an :class:`EventModel`.

    ``v`` holds the integrated membrane (mV) and becomes the membrane after
    threshold, reset and hold; ``refractory`` (float steps left, >= 0) is
    counted down or set to ``k.steps``; ``spikes`` (bool) receives the spikes.
    ``crossed`` and ``active`` are scratch tensors of ``v``'s shape and dtype.
    ``k`` gives ``v_thresh``, ``v_reset``, ``steps`` (float, or the int 0 when
    no neuron is ever refractory), ``zero`` and ``one``, all (neurons,) (a
    tensor operand costs less than a Python number).

    The masks are 0/1 floats: on a CPU, comparisons into floats, products and
    ``lerp`` cost a fraction of boolean masks and ``where``. The result is
    :func:`fire`'s bit for bit for finite membranes: ``lerp`` with weight 0 or 1
    returns one of its ends exactly. The count never runs below 0 (``max(r - 1,
    fired steps)``), which is :func:`fire`'s count after the simulation's clamp.
    """
    import torch

    if isinstance(k.steps, int):
        # ``steps`` is the int 0 where no neuron of the block is ever refractory: as in
        # :func:`fire`, the count stays as it is and no neuron is held.
        torch.ge(v, k.v_thresh, out=crossed)
        spikes.copy_(crossed)
        torch.lerp(v, k.v_reset, crossed, out=v)
        return
    torch.ge(v, k.v_thresh, out=crossed)
    torch.le(refractory, k.zero, out=active)
    fired = crossed.mul_(active)
    spikes.copy_(fired)
    # Free and not fired: keeps its membrane; the rest (fired, held) sits at v_reset.
    keep = active.sub_(fired)
    torch.lerp(k.v_reset, v, keep, out=v)
    refractory.sub_(k.one)
    torch.maximum(refractory, fired.mul_(k.steps), out=refractory)
