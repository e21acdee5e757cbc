r"""Brian2 synapses: static projections, STDP and the CA3 pair rule.

Every projection is one ``Synapses`` object holding all trials (trial b's
synapses connect the b-th copies of its populations), with the connection
list of the spec in its order. The work of a tick is split into *pathways*
whose slot order fixes what each event sees (all in the ``synapses`` slot,
which comes after the threshold of the tick):

=========  ==========  ======================================================
order      pathway     what it does
=========  ==========  ======================================================
-10        deliver     arrivals add ``w`` to the current or conductance
-1         potentiate  CA3: post spike, ``w += A_+ x``, marks the post spike
0          depress     STDP: pre arrival, ``w -= A_- f_-(w) y``; CA3: pre emission
1          potentiate  post spike, ``w += A_+ f_+(w) x``
2          pretrace    ``x += 1`` (``x = 1`` for ``nearest``) at pre arrival
3          posttrace   ``y += 1`` (``y = 1`` for ``nearest``) at post spike
5          stamp       CA3: remember the weight an emitted spike carries
10         deliver     early delivery: one tick early into an accumulator
=========  ==========  ======================================================

What a delivery does is the post cell type's (its ``Brian2Model.synapse_code``:
``I_E_post += w``, ``g_E_post += w``, ``v_in_post -= w``...). Cell types whose
arrivals act within their arrival step (every cell under ``"spinnaker"``,
voltage steps of ``IF_curr_delta`` and ``Izhikevich``) ask for *early*
delivery into accumulators the group folds in within the step.

Traces are Brian2 ``event-driven`` variables (one per synapse), decayed
exactly between events. Because the trace increments run after both weight
updates, a weight update at tick t sees ``x(t-)`` and ``y(t-)``: pairs with
equal ticks change nothing (:mod:`neuromem.spec.plasticity`). Per-synapse
traces of *arrivals* make per-synapse delays on plastic projections exact.

With early delivery an input arriving at tick n acts within step n, so it is
delivered at the end of tick n - 1 (pathway delay ``d - 1`` steps) into an
accumulator that the neuron group folds in before its update of tick n. The
weight read there is the weight after tick n - 1's updates, i.e. the weight
before tick n's update, as the STDP convention asks.

The CA3 rule sends the weight computed at emission. A ring of ``M`` per-synapse
slots ``ws_k`` (``M`` = longest send delay + 1) holds it from the emission
tick (slot ``tick mod M``) until delivery.
"""

from __future__ import annotations

import brian2
import numpy as np
from brian2 import ms, second

from neuromem.cells.base import Brian2Model
from neuromem.spec import STDP, AdditiveWeightDependence, CA3PairRule, Network

ORDER = {"depress": 0, "potentiate": 1, "pretrace": 2, "posttrace": 3, "stamp": 5}
#: The CA3 rule marks post spikes in ``potentiate``, which ``depress`` reads.
CA3_ORDER = {**ORDER, "potentiate": -1}
#: Deliveries at arrival come before the plasticity pathways; early ones after.
DELIVER_ORDER = {False: -10, True: 10}


def _trace_update(name: str, pairing: str) -> str:
    return f"{name} = 1" if pairing == "nearest" else f"{name} += 1"


def _stdp_code(rule: STDP) -> tuple[str, dict[str, str], dict[str, str], dict[str, object]]:
    timing, bounds = rule.timing, rule.weight
    if isinstance(bounds, AdditiveWeightDependence):
        scale_minus, scale_plus = "w_max", "w_max"
    else:
        scale_minus, scale_plus = "(w - w_min)", "(w_max - w)"
    model = "w : 1\ndx/dt = -x/tau_plus : 1 (event-driven)\ndy/dt = -y/tau_minus : 1 (event-driven)\n"
    on_pre = {
        "depress": f"w = clip(w - A_minus*{scale_minus}*y, w_min, w_max)",
        "pretrace": _trace_update("x", timing.pairing),
    }
    on_post = {
        "potentiate": f"w = clip(w + A_plus*{scale_plus}*x, w_min, w_max)",
        "posttrace": _trace_update("y", timing.pairing),
    }
    namespace = {
        "tau_plus": timing.tau_plus * ms,
        "tau_minus": timing.tau_minus * ms,
        "A_plus": timing.A_plus,
        "A_minus": timing.A_minus,
        "w_min": bounds.w_min,
        "w_max": bounds.w_max,
    }
    return model, on_pre, on_post, namespace


def _ca3_code(rule: CA3PairRule, slots: int) -> tuple[str, dict[str, str], dict[str, str], dict[str, object]]:
    ring = "\n".join(f"ws{k} : 1" for k in range(slots))
    model = (
        "w : 1\ndx/dt = -x/tau_plus : 1 (event-driven)\ndy/dt = -y/tau_minus : 1 (event-driven)\n"
        f"t_postspike : second\nd_send : integer (constant)\n{ring}\n"
    )
    now = "int(t/dt + 0.5)"
    stamp = "\n".join(f"ws{k} = w*int({now} % M == {k}) + ws{k}*int({now} % M != {k})" for k in range(slots))
    on_pre = {
        # Depression at emission, skipped where the post neuron spiked this tick.
        "depress": "w = clip(w - amplitude_minus*y*int(t - t_postspike > 0.5*dt), w_min, w_max)",
        "pretrace": _trace_update("x", rule.pairing),
        "stamp": stamp,
    }
    on_post = {
        "potentiate": "w = clip(w + amplitude_plus*x, w_min, w_max)\nt_postspike = t",
        "posttrace": _trace_update("y", rule.pairing),
    }
    namespace = {
        "tau_plus": rule.tau_plus * ms,
        "tau_minus": rule.tau_minus * ms,
        "amplitude_plus": rule.amplitude_plus,
        "amplitude_minus": rule.amplitude_minus,
        "w_min": rule.w_min,
        "w_max": rule.w_max,
        "M": slots,
    }
    return model, on_pre, on_post, namespace


def projection_synapses(
    network: Network,
    name: str,
    pre_group: brian2.Group,
    post_group: brian2.NeuronGroup,
    post_model: Brian2Model,
    batch: int,
    dt: float,
    clock: brian2.Clock,
    codeobj_class: type,
    label: str,
) -> brian2.Synapses | None:
    """The Synapses object ``label`` of projection ``name`` for ``batch`` trials (None if it has no synapse)."""
    projection = network.projection(name)
    lst = network.connection_list(name)
    if lst.pre.size == 0:
        return None  # Brian2 cannot connect an empty list; nothing would be sent anyway
    n_pre, n_post = network.size(projection.pre), network.size(projection.post)
    delay = network.delay_steps(name, dt)
    rule = projection.plasticity
    deliver = post_model.synapse_code[projection.receptor]
    early = post_model.early
    # Ticks between the event that fixes the sent weight and its delivery.
    send = delay - 1 if early else delay
    on_pre: dict[str, str] = {}
    on_post: dict[str, str] = {}
    namespace: dict[str, object] = {"ms": ms}
    if rule is None:
        model = "w : 1\n"
        on_pre["deliver"] = deliver.format(w="w")
    elif isinstance(rule, STDP):
        model, on_pre, on_post, extra = _stdp_code(rule)
        namespace.update(extra)
        on_pre["deliver"] = deliver.format(w="w")
    else:
        assert isinstance(rule, CA3PairRule)
        slots = int(send.max()) + 1 if send.size else 1
        model, on_pre, on_post, extra = _ca3_code(rule, slots)
        namespace.update(extra)
        sent = " + ".join(f"ws{k}*int((int(t/dt + 0.5) - d_send) % M == {k})" for k in range(slots))
        on_pre["deliver"] = deliver.format(w=f"({sent})")
    synapses = brian2.Synapses(
        pre_group,
        post_group,
        model=model,
        on_pre=on_pre,
        on_post=on_post or None,
        namespace=namespace,
        clock=clock,
        codeobj_class=codeobj_class,
        name=label,
    )
    trials = np.arange(batch, dtype=np.int64)[:, None]
    synapses.connect(i=(lst.pre[None, :] + trials * n_pre).ravel(), j=(lst.post[None, :] + trials * n_post).ravel())
    synapses.w = np.tile(lst.weight, batch)
    arrival = np.tile(delay, batch) * dt * ms
    pathway_delay = {"deliver": np.tile(send, batch) * dt * ms, "depress": arrival, "pretrace": arrival}
    if isinstance(rule, CA3PairRule):
        pathway_delay["depress"] = np.zeros(delay.size * batch) * ms
        pathway_delay["stamp"] = np.zeros(delay.size * batch) * ms
        synapses.d_send = np.tile(send, batch)
        synapses.t_postspike = -1.0 * second
    order = CA3_ORDER if isinstance(rule, CA3PairRule) else ORDER
    for pathway in on_pre:
        getattr(synapses, pathway).delay = pathway_delay[pathway]
        getattr(synapses, pathway).order = DELIVER_ORDER[early] if pathway == "deliver" else order[pathway]
    for pathway in on_post:
        getattr(synapses, pathway).order = order[pathway]
    return synapses
