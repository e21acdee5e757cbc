"""Small conformance-like networks shared by the export tests (fresh objects per call)."""

from __future__ import annotations

import numpy as np

from neuromem.spec import (
    STDP,
    AdditiveWeightDependence,
    AllToAll,
    CellType,
    DCSource,
    FixedProbability,
    IF_cond_exp,
    IF_curr_delta,
    Izhikevich,
    LIFCurrExp,
    MultiplicativeWeightDependence,
    Network,
    OneToOne,
    Population,
    Probe,
    Projection,
    SpikePairRule,
    SpikeSourceArray,
    SpikeSourcePoisson,
    StepCurrentSource,
)

DT = 0.1
DURATION = 60.0


def cell(**changes: float) -> LIFCurrExp:
    """A LIF cell with time constants far from the step, so every simulator resolves it."""
    parameters = dict(
        cm=0.25, tau_m=10.0, tau_syn_E=2.0, tau_syn_I=3.0, tau_refrac=2.0, v_rest=-65.0, v_reset=-70.0, v_thresh=-55.0
    )
    parameters.update(changes)
    return LIFCurrExp(**parameters)


def step_current() -> Network:
    """One neuron driven by a constant current from t = 0 (regular firing)."""
    return Network(
        populations=(Population("cell", cell(i_offset=1.3), size=1),),
        probes=(Probe("cell", "spikes"),),
        name="step_current",
    )


def delay_chain() -> Network:
    """Source -> a -> b -> c with delays of 1, 2 and 0.5 ms and a source spike at t = 0."""
    strong = 3.0
    return Network(
        populations=(
            Population("src", SpikeSourceArray.from_lists([[0.0, 20.0, 41.3]])),
            Population("a", cell(), size=1),
            Population("b", cell(), size=1),
            Population("c", cell(), size=1),
        ),
        projections=(
            Projection("src_a", "src", "a", OneToOne(), weight=strong, delay=1.0),
            Projection("a_b", "a", "b", OneToOne(), weight=strong, delay=2.0),
            Projection("b_c", "b", "c", OneToOne(), weight=strong, delay=0.5),
        ),
        probes=(*(Probe(name, "spikes") for name in ("a", "b", "c")), Probe("a", "v")),
        name="delay_chain",
    )


def all_to_all_inhibition() -> Network:
    """Five driven cells that inhibit each other (AllToAll without self-connections)."""
    times = [[1.0 + 7.0 * k + 0.4 * i for k in range(8)] for i in range(5)]
    return Network(
        populations=(
            Population("drive", SpikeSourceArray.from_lists(times)),
            Population("cells", cell(), size=5),
        ),
        projections=(
            Projection("drive_cells", "drive", "cells", OneToOne(), weight=2.5, delay=0.1),
            Projection(
                "inhibition",
                "cells",
                "cells",
                AllToAll(allow_self=False),
                weight=1.5,
                delay=0.3,
                receptor="inhibitory",
            ),
        ),
        probes=(Probe("cells", "spikes"),),
        name="all_to_all_inhibition",
    )


def poisson_net() -> Network:
    """Poisson inputs (from t = 0) to a randomly wired, recurrently connected group."""
    recurrent = FixedProbability(0.3, allow_self=False, seed=4)
    synapses = recurrent.pairs(10, 10, True)[0].size
    return Network(
        populations=(
            Population("noise", SpikeSourcePoisson(size=20, rate=80.0, seed=7)),
            Population("cells", cell(), size=10),
        ),
        projections=(
            Projection("noise_cells", "noise", "cells", FixedProbability(0.5, seed=3), weight=0.9, delay=0.2),
            Projection(
                "recurrent", "cells", "cells", recurrent, weight=0.4, delay=np.round(np.linspace(0.5, 1.5, synapses), 1)
            ),
        ),
        probes=(Probe("cells", "spikes"),),
        name="poisson_net",
    )


#: Pairing protocol: pre emission times, post source times (ms); the last pre spike
#: comes after the last post spike so that NEST, which updates weights on pre
#: spikes only, has applied every pair by the end of the run.
PRE_TIMES = [5.0, 15.0, 25.0, 35.0, 55.0]
POST_DRIVE_TIMES = [7.0, 11.0, 27.0, 31.0]
STDP_DELAY = 1.0


def source_times_on_float_edges() -> Network:
    """Lone source spikes at times whose PyNN arithmetic lands a hair off the grid.

    pyNN.nest subtracts min_delay from source times: 4.4 - 0.1 = 4.300000000000001,
    which NEST once rounded up to the next step. One spike per source neuron, each
    strong enough to fire its cell, so an arrival one step late moves a spike.
    """
    times = [[4.2], [0.7], [1.3], [3.6], [5.8], [7.1]]
    return Network(
        populations=(
            Population("sources", SpikeSourceArray.from_lists(times)),
            Population("cells", cell(), size=len(times)),
        ),
        projections=(Projection("drive", "sources", "cells", OneToOne(), weight=6.0, delay=0.2),),
        probes=(Probe("cells", "spikes"),),
        name="float_edges",
    )


def stdp_rule() -> STDP:
    return STDP(
        SpikePairRule(tau_plus=10.0, tau_minus=12.0, A_plus=0.02, A_minus=0.015),
        AdditiveWeightDependence(w_min=0.0, w_max=1.0),
    )


def stdp_pairing() -> Network:
    """A plastic synapse whose post cell is driven by its own source (spikes independent of w)."""
    return Network(
        populations=(
            Population("pre", SpikeSourceArray.from_lists([PRE_TIMES])),
            Population("post_drive", SpikeSourceArray.from_lists([POST_DRIVE_TIMES])),
            Population("post", cell(), size=1),
        ),
        projections=(
            Projection("drive", "post_drive", "post", OneToOne(), weight=3.0, delay=0.1),
            Projection("plastic", "pre", "post", OneToOne(), weight=0.5, delay=STDP_DELAY, plasticity=stdp_rule()),
        ),
        probes=(Probe("post", "spikes"), Probe("plastic", "weight")),
        name="stdp_pairing",
    )


def stdp_multiplicative() -> Network:
    """The pairing protocol with a strong multiplicative rule (runs on NEST; pyNN.brian2 refuses it)."""
    network = stdp_pairing()
    rule = STDP(
        SpikePairRule(tau_plus=10.0, tau_minus=12.0, A_plus=0.2, A_minus=0.15),
        MultiplicativeWeightDependence(w_min=0.0, w_max=1.0),
    )
    drive, plastic = network.projections
    return Network(
        populations=network.populations,
        projections=(
            drive,
            Projection("plastic", "pre", "post", OneToOne(), weight=0.5, delay=STDP_DELAY, plasticity=rule),
        ),
        probes=network.probes,
        name="stdp_multiplicative",
    )


def plastic_recurrent() -> Network:
    """The README demo in small: Poisson-driven excitatory cells with STDP on their recurrent synapses.

    Post spikes depend on the plastic weights, a pre spike often depresses the synapse it
    arrives on, and pre arrivals coincide with post spikes: every STDP convention shows.
    """
    lif = cell(cm=0.25, tau_m=20.0, tau_refrac=2.0, tau_syn_E=5.0, tau_syn_I=10.0, v_reset=-65.0)
    rule = STDP(
        SpikePairRule(tau_plus=20.0, tau_minus=20.0, A_plus=0.05, A_minus=0.06),
        AdditiveWeightDependence(w_min=0.0, w_max=1.0),
    )
    return Network(
        populations=(
            Population("drive", SpikeSourcePoisson(size=60, rate=60.0, seed=11)),
            Population("exc", lif, size=60),
            Population("inh", lif, size=15),
        ),
        projections=(
            Projection("drive_exc", "drive", "exc", OneToOne(), weight=2.0, delay=1.0),
            Projection(
                "exc_exc",
                "exc",
                "exc",
                FixedProbability(0.2, allow_self=False, seed=12),
                weight=0.5,
                delay=1.0,
                plasticity=rule,
            ),
            Projection("exc_inh", "exc", "inh", FixedProbability(0.2, seed=13), weight=0.5, delay=1.0),
            Projection(
                "inh_exc", "inh", "exc", FixedProbability(0.2, seed=14), weight=2.0, delay=1.0, receptor="inhibitory"
            ),
        ),
        probes=(Probe("exc", "spikes"), Probe("inh", "spikes"), Probe("exc_exc", "weight")),
        name="plastic_recurrent",
    )


def current_sources() -> Network:
    """DC and step currents into subsets of an IF_curr_exp population: switch times on every simulator."""
    return Network(
        populations=(Population("cells", cell(), size=4),),
        probes=(Probe("cells", "spikes"), Probe("cells", "v")),
        current_sources=(
            DCSource("pulse", "cells", amplitude=1.3, start=5.0, stop=35.0, neurons=[0, 1]),
            StepCurrentSource("steps", "cells", times=[0.0, 12.3, 30.0], amplitudes=[0.5, 1.5, 0.2], neurons=[1, 2]),
        ),
        name="current_sources",
    )


def _driven(name: str, population: CellType, weight: float, inhibition: float, bias: float) -> Network:
    """Random drive, recurrent inhibition and a current source onto one population of ``population``."""
    rng = np.random.default_rng(3)
    times = [np.unique(np.round(rng.uniform(0.0, 50.0, 6), 1)).tolist() for _ in range(12)]
    drive = FixedProbability(0.4, seed=5)
    n_drive = drive.pairs(12, 10, False)[0].size
    return Network(
        populations=(Population("src", SpikeSourceArray.from_lists(times)), Population("cells", population, size=10)),
        projections=(
            Projection(
                "drive",
                "src",
                "cells",
                drive,
                weight=rng.uniform(0.4, 1.0, n_drive) * weight,
                delay=rng.integers(1, 4, n_drive) * DT,
            ),
            Projection(
                "inhibition",
                "cells",
                "cells",
                AllToAll(allow_self=False),
                weight=inhibition,
                delay=0.3,
                receptor="inhibitory",
            ),
        ),
        probes=(Probe("cells", "spikes"), Probe("cells", "v")),
        current_sources=(DCSource("bias", "cells", amplitude=bias, start=20.0, stop=40.0, neurons=[0, 1, 2]),),
        name=name,
    )


def delta_net() -> Network:
    """IF_curr_delta (voltage steps in mV) without refractoriness, which pyNN.brian2 cannot honour."""
    population = IF_curr_delta(cm=0.25, tau_m=10.0, tau_refrac=0.0, v_reset=-70.0, v_thresh=-55.0)
    return _driven("delta_net", population, weight=9.0, inhibition=2.0, bias=0.3)


def cond_net() -> Network:
    """IF_cond_exp (uS); NEST integrates it with RKF45, neuromem and pyNN.brian2 with Runge-Kutta 4."""
    population = IF_cond_exp(
        cm=0.25, tau_m=10.0, tau_syn_E=2.0, tau_syn_I=3.0, tau_refrac=2.0, v_reset=-70.0, v_thresh=-55.0, e_rev_I=-80.0
    )
    return _driven("cond_net", population, weight=0.08, inhibition=0.02, bias=0.3)


def izhikevich_net() -> Network:
    """Izhikevich (PyNN's defaults) with voltage-step inputs and a current source."""
    return _driven("izhikevich_net", Izhikevich(), weight=12.0, inhibition=4.0, bias=0.004)


def mixed_net() -> Network:
    """One population of each cell type, wired into one another."""
    rng = np.random.default_rng(9)
    times = [np.unique(np.round(rng.uniform(0.0, 50.0, 8), 1)).tolist() for _ in range(8)]
    sizes = {"src": 8, "exp": 6, "delta": 5, "cond": 5, "izh": 4}
    scale = {"exp": 2.5, "delta": 9.0, "cond": 0.08, "izh": 15.0}

    def wire(name: str, pre: str, post: str, p: float, seed: int, receptor: str = "excitatory") -> Projection:
        connector = FixedProbability(p, seed=seed)
        n = connector.pairs(sizes[pre], sizes[post], False)[0].size
        weight = rng.uniform(0.5, 1.0, n) * scale[post] * (0.3 if receptor == "inhibitory" else 1.0)
        return Projection(
            name, pre, post, connector, weight=weight, delay=rng.integers(1, 5, n) * DT, receptor=receptor
        )

    return Network(
        populations=(
            Population("src", SpikeSourceArray.from_lists(times)),
            Population("exp", cell(), size=6),
            Population("delta", IF_curr_delta(cm=0.25, tau_m=10.0, tau_refrac=0.0, v_thresh=-55.0), size=5),
            Population("cond", IF_cond_exp(cm=0.25, tau_m=10.0, tau_syn_E=2.0, tau_refrac=2.0, v_thresh=-55.0), size=5),
            Population("izh", Izhikevich(), size=4),
        ),
        projections=(
            wire("src_exp", "src", "exp", 0.5, 1),
            wire("src_delta", "src", "delta", 0.5, 2),
            wire("exp_cond", "exp", "cond", 0.6, 3),
            wire("delta_izh", "delta", "izh", 0.6, 4),
            wire("cond_exp", "cond", "exp", 0.4, 5, receptor="inhibitory"),
            wire("izh_delta", "izh", "delta", 0.5, 6, receptor="inhibitory"),
        ),
        probes=tuple(Probe(name, "spikes") for name in ("exp", "delta", "cond", "izh")),
        current_sources=(StepCurrentSource("kick", "izh", times=[10.0, 25.0], amplitudes=[0.006, 0.0]),),
        name="mixed_net",
    )


SCENARIOS = {
    "step_current": step_current,
    "float_edges": source_times_on_float_edges,
    "delay_chain": delay_chain,
    "all_to_all_inhibition": all_to_all_inhibition,
    "poisson_net": poisson_net,
    "stdp_pairing": stdp_pairing,
    "stdp_multiplicative": stdp_multiplicative,
    "plastic_recurrent": plastic_recurrent,
    "current_sources": current_sources,
    "delta_net": delta_net,
    "cond_net": cond_net,
    "izhikevich_net": izhikevich_net,
    "mixed_net": mixed_net,
}
