"""PyNN scripts, written once as functions of the simulator module, run on pyNN.nest and neuromem.pynn.

Each returns plain arrays (spike times in ms per neuron, signals) so the two
runs can be compared number for number. Inputs are spike arrays drawn here with
numpy, so both simulators see the very same spikes.
"""

from __future__ import annotations

import numpy as np
from pyNN.parameters import Sequence


def _spike_lists(population: object) -> list[np.ndarray]:
    return [np.asarray(st.magnitude) for st in population.get_data("spikes").segments[-1].spiketrains]


def _pack(prefix: str, trains: list[np.ndarray]) -> dict[str, np.ndarray]:
    index = [np.full(t.size, i) for i, t in enumerate(trains)]
    return {f"{prefix}_times": np.concatenate(trains), f"{prefix}_index": np.concatenate(index)}


def recurrent(sim: object) -> dict[str, np.ndarray]:
    """Spike-array drive, excitatory and inhibitory recurrence with several delays, DC pulses, two runs.

    Between the runs only spike times change (later than the current time): pyNN.nest
    simulates one min_delay ahead of its clock, so a parameter changed between runs
    takes effect there one step later than the time of the change. The time step is a
    power of two so that pyNN.nest's ``spike time - min_delay`` is exact (with dt = 0.1 ms
    that subtraction lands some spikes one step late on NEST).
    """
    rng = np.random.default_rng(7)
    dt = 0.125
    sim.setup(timestep=dt, min_delay=dt, spike_precision="on_grid")
    n_in, n = 20, 40
    times = [np.unique(rng.integers(4, 760, 8)) * dt for _ in range(n_in)]
    later = [np.unique(rng.integers(808, 1560, 8)) * dt for _ in range(n_in)]
    stim = sim.Population(n_in, sim.SpikeSourceArray(spike_times=times))
    cells = sim.Population(
        n,
        sim.IF_curr_exp(tau_m=15.0, cm=0.25, tau_syn_E=2.0, tau_syn_I=4.0, tau_refrac=2.0, v_thresh=-52.0),
    )
    cells.initialize(v=rng.uniform(-65.0, -55.0, n))
    cells[0:5].set(i_offset=0.4)
    sim.Projection(
        stim,
        cells,
        sim.FromListConnector(
            [(i, j, 0.6, 1.0 + dt * (j % 5)) for i in range(n_in) for j in range(n) if rng.random() < 0.2]
        ),
        receptor_type="excitatory",
    )
    sim.Projection(
        cells[:30],
        cells,
        sim.FixedProbabilityConnector(0.1, rng=sim.NumpyRNG(seed=3)),
        sim.StaticSynapse(weight=0.3, delay=1.5),
        receptor_type="excitatory",
    )
    sim.Projection(
        cells[30:],
        cells,
        sim.FixedProbabilityConnector(0.2, rng=sim.NumpyRNG(seed=4)),
        sim.StaticSynapse(weight=-0.8, delay=0.75),
        receptor_type="inhibitory",
    )
    pulse = sim.DCSource(amplitude=0.6, start=50.0, stop=120.0)
    pulse.inject_into(cells[10:20])
    steps = sim.StepCurrentSource(times=[20.0, 140.0, 160.0], amplitudes=[0.2, 0.9, 0.0])
    steps.inject_into(cells[15:25])
    cells.record(["spikes", "v"])
    stim.record("spikes")
    sim.run(100.0)
    stim.set(spike_times=[Sequence(t) for t in later])
    sim.run(100.0)
    v = cells.get_data("v").segments[-1].analogsignals[0].magnitude
    out = {**_pack("cells", _spike_lists(cells)), **_pack("stim", _spike_lists(stim)), "v": v}
    sim.end()
    return out


def current_steps(sim: object) -> dict[str, np.ndarray]:
    """Offset currents, DC and step sources on single cells; voltage traces and spike times compared."""
    sim.setup(timestep=0.1, min_delay=0.1, spike_precision="on_grid")
    cells = sim.Population(4, sim.IF_curr_exp(v_thresh=-55.0, tau_refrac=3.0))
    cells[0].i_offset = 0.9
    step = sim.StepCurrentSource(times=[10.0, 30.0, 35.0], amplitudes=[0.3, 1.2, 0.5])
    step.inject_into(cells[1:3])
    sim.DCSource(amplitude=0.7, start=12.3, stop=61.7).inject_into(cells[2:])
    cells.record(["spikes", "v"])
    sim.run(80.0)
    out = {**_pack("cells", _spike_lists(cells)), "v": cells.get_data("v").segments[-1].analogsignals[0].magnitude}
    sim.end()
    return out


SCRIPTS = {"recurrent": recurrent, "current_steps": current_steps}


def cell_types(sim: object) -> dict[str, np.ndarray]:
    """IF_cond_exp, IF_curr_delta and Izhikevich cells driven by spike arrays, a DC source and each other."""
    rng = np.random.default_rng(11)
    dt = 0.125
    sim.setup(timestep=dt, min_delay=dt, spike_precision="on_grid")
    n_in, n = 15, 12
    stim = sim.Population(
        n_in, sim.SpikeSourceArray(spike_times=[np.unique(rng.integers(4, 800, 10)) * dt for _ in range(n_in)])
    )
    cond = sim.Population(n, sim.IF_cond_exp(tau_m=12.0, tau_syn_E=2.0, tau_syn_I=6.0, tau_refrac=2.0, v_thresh=-55.0))
    # pyNN.nest 0.13 cannot set IF_curr_delta's initial v: NEST starts V_m at its default, -70 mV, so
    # v_rest = v_reset = -70 mV and v = -70 mV here too.
    delta = sim.Population(
        n, sim.IF_curr_delta(tau_m=10.0, tau_refrac=0.0, v_rest=-70.0, v_reset=-70.0, v_thresh=-64.0, i_offset=0.1)
    )
    if "nest" not in sim.__name__:
        delta.initialize(v=-70.0)
    izh = sim.Population(n, sim.Izhikevich(a=0.02, b=0.2, c=-65.0, d=8.0, i_offset=0.0))
    out = {}
    for k, (cells, weight) in enumerate(((cond, 0.03), (delta, 2.0), (izh, 6.0))):
        sim.Projection(
            stim,
            cells,
            sim.FixedProbabilityConnector(0.4, rng=sim.NumpyRNG(seed=20 + k)),
            sim.StaticSynapse(weight=weight, delay=1.0),
            receptor_type="excitatory",
        )
    sim.Projection(
        cond,
        delta,
        sim.FixedProbabilityConnector(0.3, rng=sim.NumpyRNG(seed=31)),
        sim.StaticSynapse(weight=1.5, delay=2.0),
    )
    sim.Projection(
        delta,
        cond,
        sim.FixedProbabilityConnector(0.3, rng=sim.NumpyRNG(seed=32)),
        sim.StaticSynapse(weight=0.02, delay=1.5),
        receptor_type="inhibitory",
    )
    sim.Projection(
        izh,
        cond,
        sim.FixedProbabilityConnector(0.3, rng=sim.NumpyRNG(seed=33)),
        sim.StaticSynapse(weight=0.005, delay=0.5),
    )
    sim.DCSource(amplitude=0.6, start=20.0, stop=70.0).inject_into(cond[0:6])
    sim.DCSource(amplitude=0.004, start=10.0, stop=90.0).inject_into(izh[6:])
    # pyNN.nest 0.13 cannot record IF_curr_delta's v (it has no map from v to NEST's V_m): spikes only.
    for cells in (cond, delta, izh):
        cells.record(["spikes", "v"] if cells is not delta else "spikes")
    sim.run(100.0)
    for name, cells in (("cond", cond), ("delta", delta), ("izh", izh)):
        out.update(_pack(name, _spike_lists(cells)))
        if cells is not delta:
            out[f"{name}_v"] = cells.get_data("v").segments[-1].analogsignals[0].magnitude
    sim.end()
    return out


SCRIPTS["cell_types"] = cell_types
