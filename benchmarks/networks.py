"""The benchmark network: N LIF neurons, 10% random recurrent connectivity, Poisson drive."""

from __future__ import annotations

from neuromem.spec import (
    STDP,
    AdditiveWeightDependence,
    FixedProbability,
    LIFCurrExp,
    Network,
    OneToOne,
    Population,
    Probe,
    Projection,
    SpikePairRule,
    SpikeSourcePoisson,
)
from neuromem.spec.schemes import EXACT


def recurrent_network(n: int, stdp: bool = False, rate_hz: float = 20.0, seed: int = 1) -> Network:
    """A balanced-ish recurrent LIF network driven by one Poisson source per neuron.

    80% excitatory and 20% inhibitory neurons, connection probability 0.1,
    each neuron driven by its own Poisson input at ``rate_hz``. Weights are
    scaled with 1/N so the activity stays in a low-rate regime at every size.
    With ``stdp`` the excitatory recurrent projection is plastic (additive pair STDP).
    """
    cell = LIFCurrExp(
        cm=0.25, tau_m=20.0, tau_refrac=2.0, tau_syn_E=5.0, tau_syn_I=10.0, v_rest=-65.0, v_reset=-65.0, v_thresh=-50.0
    )
    n_exc = int(0.8 * n)
    n_inh = n - n_exc
    w_exc = 0.3 * 1000.0 / n
    w_inh = 4.0 * w_exc
    plasticity = (
        STDP(
            SpikePairRule(tau_plus=20.0, tau_minus=20.0, A_plus=0.01, A_minus=0.012),
            AdditiveWeightDependence(w_min=0.0, w_max=2.0 * w_exc),
        )
        if stdp
        else None
    )
    return Network(
        name=f"recurrent_{n}",
        scheme=EXACT,
        populations=(
            Population("exc", cell, size=n_exc),
            Population("inh", cell, size=n_inh),
            Population("drive_exc", SpikeSourcePoisson(n_exc, rate_hz, seed=seed)),
            Population("drive_inh", SpikeSourcePoisson(n_inh, rate_hz, seed=seed + 1)),
        ),
        projections=(
            Projection("drive_to_exc", "drive_exc", "exc", OneToOne(), weight=2.0, delay=1.0),
            Projection("drive_to_inh", "drive_inh", "inh", OneToOne(), weight=2.0, delay=1.0),
            Projection(
                "ee",
                "exc",
                "exc",
                FixedProbability(0.1, allow_self=False, seed=seed + 2),
                weight=w_exc,
                delay=1.0,
                plasticity=plasticity,
            ),
            Projection("ei", "exc", "inh", FixedProbability(0.1, seed=seed + 3), weight=w_exc, delay=1.0),
            Projection(
                "ie", "inh", "exc", FixedProbability(0.1, seed=seed + 4), weight=w_inh, delay=1.0, receptor="inhibitory"
            ),
            Projection(
                "ii",
                "inh",
                "inh",
                FixedProbability(0.1, allow_self=False, seed=seed + 5),
                weight=w_inh,
                delay=1.0,
                receptor="inhibitory",
            ),
        ),
        probes=(Probe("exc"), Probe("inh")),
    )
