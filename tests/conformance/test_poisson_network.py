"""A Poisson-driven recurrent network of 1,000 neurons on every backend, for every cell type.

Poisson trains come from the shared counter-based generator, so every backend
sees the very same input spikes; the recurrent wiring is a FixedProbability
connector with a seed. Rates must agree within 5 %; in float64 the spikes of
Brian2 and torch must be identical, as the README says (chaos would amplify
any difference of rounding, so this is a strict check). The reference
(torch float64, event propagation) is compared with itself only through the
other propagation path (dense matrices), never with an identical run.
"""

from __future__ import annotations

import pytest

from neuromem.spec import (
    FixedProbability,
    IF_cond_exp,
    IF_curr_delta,
    IF_curr_exp,
    Izhikevich,
    Network,
    Population,
    Probe,
    Projection,
    SpikeSourcePoisson,
)

DT = 0.2
DURATION = 200.0

#: Cell and (input, excitatory, inhibitory) weights in its weight unit; rates 27-50 Hz.
CELLS = {
    "IF_curr_exp": (lambda: IF_curr_exp(tau_m=20.0, tau_syn_E=5.0, tau_syn_I=10.0, tau_refrac=2.0), (0.9, 0.4, 0.8)),
    "IF_curr_delta": (lambda: IF_curr_delta(tau_m=20.0, tau_refrac=2.0), (3.0, 1.5, 3.0)),
    "IF_cond_exp": (
        lambda: IF_cond_exp(tau_m=20.0, tau_syn_E=5.0, tau_syn_I=10.0, tau_refrac=2.0, e_rev_I=-80.0),
        (0.015, 0.007, 0.03),
    ),
    "Izhikevich": (lambda: Izhikevich(), (5.0, 2.0, 4.0)),
}


def _network(cell_type: str = "IF_curr_exp") -> Network:
    make, (w_input, w_exc, w_inh) = CELLS[cell_type]
    cell = make()
    return Network(
        populations=(
            Population("noise", SpikeSourcePoisson(200, rate=40.0, seed=3)),
            Population("cells", cell, size=1000),
        ),
        projections=(
            Projection("input", "noise", "cells", FixedProbability(0.1, seed=1), weight=w_input, delay=DT),
            Projection(
                "exc", "cells", "cells", FixedProbability(0.02, allow_self=False, seed=2), weight=w_exc, delay=1.0
            ),
            Projection(
                "inh",
                "cells",
                "cells",
                FixedProbability(0.02, allow_self=False, seed=4),
                weight=w_inh,
                delay=0.6,
                receptor="inhibitory",
            ),
        ),
        probes=(Probe("cells"), Probe("noise")),
        scheme="exact",
    )


@pytest.mark.parametrize("cell_type", list(CELLS))
def test_poisson_recurrent_network_rates_agree_within_five_percent(config, reference, cell_type):
    net = _network(cell_type)
    baseline = reference.run(net, DURATION, DT, propagation="event")
    propagation = "dense" if config == reference else "event"
    rec = config.run(net, DURATION, DT, propagation=propagation)
    assert rec.spikes["noise"].pairs() == baseline.spikes["noise"].pairs()
    rate, reference_rate = rec.rates_hz("cells")[0], baseline.rates_hz("cells")[0]
    assert 10.0 < reference_rate < 100.0
    assert abs(rate - reference_rate) <= 0.05 * reference_rate
    if config.dtype == "float64":
        ours, theirs = rec.spikes["cells"].pairs(), baseline.spikes["cells"].pairs()
        assert len(theirs) > 5000
        assert ours == theirs, f"{len(ours ^ theirs)} of {len(ours | theirs)} spikes differ"
