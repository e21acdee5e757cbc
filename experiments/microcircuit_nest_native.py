"""The microcircuit built natively in NEST the way NEST's own example builds it: an independent realization.

Not through neuromem's spec or export: NEST draws the wiring
(``fixed_total_number``), the normal weights and delays (``nest.math.redraw``
of ``nest.random.normal``, delays redrawn below dt / 2 and put on the grid by
NEST), the initial potentials and the background (one ``poisson_generator``
per population, independent Poisson counts per target and step), as in
``pynest/examples/Potjans_2014/network.py``. Only the numbers (sizes, synapse
counts, mean weights, DC currents) come from
:func:`neuromem.models.microcircuit.scaling.scaled`, which implements the
reference's scaling. Comparing its rates with neuromem's network at the same
scale separates what the scaling does to the rates from what neuromem does.

Usage: ``python experiments/microcircuit_nest_native.py --scale 0.1 --duration 1500 --start 500 --seed 1``
Prints one JSON line: per-population rates (Hz) over ``[start, duration)`` and timings.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import numpy as np  # noqa: E402

from neuromem.models.microcircuit import PD14, POPULATIONS, scaled  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", type=float, default=0.1)
    parser.add_argument("--k-scale", type=float, default=None)
    parser.add_argument("--duration", type=float, default=1500.0, help="ms")
    parser.add_argument("--start", type=float, default=500.0, help="ms left out of the rates")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args()
    import nest

    nest.set_verbosity("M_ERROR")
    nest.ResetKernel()
    nest.resolution, nest.rng_seed, nest.local_num_threads = 0.1, args.seed, args.threads
    numbers = scaled(args.scale, args.k_scale if args.k_scale is not None else args.scale)
    start = time.perf_counter()
    populations = []
    for i in range(len(POPULATIONS)):
        population = nest.Create("iaf_psc_exp", int(numbers.sizes[i]))
        population.set(
            C_m=PD14.cm * 1000.0,  # pF
            tau_m=PD14.tau_m,
            tau_syn_ex=PD14.tau_syn,
            tau_syn_in=PD14.tau_syn,
            t_ref=PD14.tau_refrac,
            E_L=PD14.v_rest,
            V_reset=PD14.v_reset,
            V_th=PD14.v_thresh,
            I_e=float(numbers.dc[i]) * 1000.0,  # pA
            V_m=nest.random.normal(PD14.v0_mean[i], PD14.v0_std[i]),
        )
        populations.append(population)
    recorders = nest.Create("spike_recorder", len(POPULATIONS))
    background = nest.Create("poisson_generator", len(POPULATIONS))
    background.rate = (PD14.bg_rate * numbers.k_ext).tolist()
    for t, target in enumerate(populations):
        nest.Connect(target, recorders[t])
        nest.Connect(
            background[t], target, "all_to_all", {"weight": numbers.weight_ext * 1000.0, "delay": PD14.delay_poisson}
        )
        for s, source in enumerate(populations):
            count = int(numbers.synapses[t, s])
            if count == 0:
                continue
            weight = float(numbers.weights[t, s]) * 1000.0
            low, high = (0.0, np.inf) if weight > 0 else (-np.inf, 0.0)
            delay = PD14.delay_exc_mean if PD14.excitatory[s] else PD14.delay_inh_mean
            nest.Connect(
                source,
                target,
                {"rule": "fixed_total_number", "N": count},
                {
                    "synapse_model": "static_synapse",
                    "weight": nest.math.redraw(
                        nest.random.normal(weight, abs(weight) * PD14.weight_rel_std), min=low, max=high
                    ),
                    "delay": nest.math.redraw(
                        nest.random.normal(delay, delay * PD14.delay_rel_std), min=0.05, max=np.inf
                    ),
                },
            )
    built = time.perf_counter() - start
    start = time.perf_counter()
    nest.Simulate(args.duration)
    ran = time.perf_counter() - start
    rates = {}
    for i, name in enumerate(POPULATIONS):
        times = np.asarray(recorders[i].get("events")["times"])
        count = np.count_nonzero((times >= args.start) & (times < args.duration))
        rates[name] = count / int(numbers.sizes[i]) / ((args.duration - args.start) / 1000.0)
    print(json.dumps({"rates_hz": rates, "seconds": {"build": built, "run": ran}, "nest": nest.__version__}))


if __name__ == "__main__":
    main()
