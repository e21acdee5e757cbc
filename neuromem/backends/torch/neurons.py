"""Pure step functions of the LIF neuron under the two integration schemes.

Each function maps ``(state, arriving input, constants) -> (spikes, state)``
for one step; the equations are those of :mod:`neuromem.spec.schemes`.
Shapes: (batch, n_lif).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import NamedTuple

import torch

from neuromem.backends.torch.layout import NeuronConstants

SpikeFunction = Callable[[torch.Tensor], torch.Tensor]


class NeuronState(NamedTuple):
    """Membrane (mV), currents (nA) and refractory steps left."""

    v: torch.Tensor
    i_exc: torch.Tensor
    i_inh: torch.Tensor
    refractory: torch.Tensor


def heaviside(x: torch.Tensor) -> torch.Tensor:
    """Spike where ``x >= 0`` (no gradient)."""
    return (x >= 0).to(x.dtype)


def _fire(
    v_new: torch.Tensor, state: NeuronState, k: NeuronConstants, spike_fn: SpikeFunction
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Refractory hold, threshold and reset shared by both schemes."""
    if spike_fn is heaviside:
        # No gradient wanted: boolean masks instead of blends, fewer passes over the state.
        active = state.refractory <= 0
        fired = active & (v_new >= k.v_thresh)
        v = torch.where(fired, k.v_reset, torch.where(active, v_new, state.v))
        refractory = torch.where(fired, k.refractory_steps, (state.refractory - 1).clamp_(min=0))
        return fired.to(v_new.dtype), v, refractory
    active = state.refractory <= 0
    v = torch.where(active, v_new, state.v)
    refractory = torch.where(active, state.refractory, state.refractory - 1)
    spikes = spike_fn(v - k.v_thresh) * active.to(v.dtype)
    fired = spikes > 0
    # Written as a blend so a surrogate gradient can flow through the reset.
    v = v - spikes * (v - k.v_reset)
    refractory = torch.where(fired, k.refractory_steps, refractory)
    return spikes, v, refractory


def spinnaker_step(
    state: NeuronState,
    input_exc: torch.Tensor,
    input_inh: torch.Tensor,
    k: NeuronConstants,
    spike_fn: SpikeFunction = heaviside,
) -> tuple[torch.Tensor, NeuronState]:
    """sPyNNaker's step: step-averaged current held constant, exact membrane.

    ``I += w k``; ``V_inf = v_rest + R (I_E - I_I + i_offset)``;
    ``V = V_inf - (V_inf - V) exp(-dt/tau_m)``; threshold, reset; ``I *= exp(-dt/tau_syn)``.
    """
    i_exc = state.i_exc + input_exc * k.input_E
    i_inh = state.i_inh + input_inh * k.input_I
    v_inf = k.v_rest + k.resistance * (i_exc - i_inh + k.i_offset)
    v_new = v_inf - (v_inf - state.v) * k.p_mm
    spikes, v, refractory = _fire(v_new, state, k, spike_fn)
    return spikes, NeuronState(v, i_exc * k.decay_E, i_inh * k.decay_I, refractory)


def exact_step(
    state: NeuronState,
    input_exc: torch.Tensor,
    input_inh: torch.Tensor,
    k: NeuronConstants,
    spike_fn: SpikeFunction = heaviside,
) -> tuple[torch.Tensor, NeuronState]:
    """Exact solution of the continuous LIF with exponential currents over one step.

    ``V = v_rest + (V - v_rest) P_mm + R i_offset (1 - P_mm) + I_E P_E - I_I P_I``;
    ``I *= exp(-dt/tau_syn)``; threshold, reset; then ``I += w`` for the arrivals.
    """
    # v_drive = (v_rest + R i_offset)(1 - P_mm): the constant part, precomputed.
    v_new = torch.addcmul(k.v_drive, state.v, k.p_mm)
    v_new.addcmul_(state.i_exc, k.gain_E).addcmul_(state.i_inh, k.gain_I, value=-1.0)
    spikes, v, refractory = _fire(v_new, state, k, spike_fn)
    i_exc = torch.addcmul(input_exc, state.i_exc, k.decay_E)
    i_inh = torch.addcmul(input_inh, state.i_inh, k.decay_I)
    return spikes, NeuronState(v, i_exc, i_inh, refractory)


STEPS = {"spinnaker": spinnaker_step, "exact": exact_step}
