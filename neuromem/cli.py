"""The ``neuromem`` command line.

Examples
--------
``neuromem run models/demo_recurrent.toml --backend torch --duration 500``
``neuromem export models/demo_recurrent.toml --to pynn --out exported/``
``neuromem info``
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Sequence
from pathlib import Path

from neuromem.errors import NeuromemError

DESCRIPTION = """\
neuromem: spiking memory models defined once, run on torch or Brian2, exported to PyNN/SpiNNaker/NIR.

A MODEL is a TOML file describing a network (see models/ for examples):
populations of LIF neurons or spike sources, projections with connectors,
weights (nA), delays (ms) and optional plasticity, and what to record.

examples:
  neuromem demo                                              the CA3 memory, plots in results/demo
  neuromem run models/demo_recurrent.toml --duration 500     simulate on torch (add --backend brian2)
  neuromem export models/ca3_model.toml --to spinnaker       map onto a virtual SpiNN-5 board
  neuromem export models/demo_recurrent.toml --to pynn --out exported/
  neuromem COMMAND --help                                    the options of one command
"""


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point; returns the exit status (0 ok, 2 bad input)."""
    parser = _parser()
    args = parser.parse_args(argv)
    if not hasattr(args, "handler"):
        parser.print_help()
        return 0
    try:
        return int(args.handler(args) or 0)
    except NeuromemError as error:
        print(f"neuromem: error: {error}", file=sys.stderr)
        return 2


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="neuromem", description=DESCRIPTION, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    commands = parser.add_subparsers(title="commands", metavar="COMMAND")

    run = commands.add_parser(
        "run",
        help="simulate a model file and write its recording and a raster plot",
        description="Simulate MODEL and write recording.npz, raster.png and summary.json to --out.",
    )
    run.add_argument("model", type=Path, help="TOML model file")
    run.add_argument("--backend", default="torch", help="torch (default) or brian2")
    run.add_argument("--duration", type=float, help="simulated time in ms (default: the file's [run] duration)")
    run.add_argument("--dt", type=float, help="time step in ms (default: the file's, else 0.1)")
    run.add_argument("--batch-size", type=int, help="independent trials in one pass (torch)")
    run.add_argument("--device", default="cpu", help="cpu or cuda (torch)")
    run.add_argument("--seed", type=int, help="seed of the Poisson inputs")
    run.add_argument("--out", type=Path, default=Path("results/run"), help="output folder (default results/run)")
    run.set_defaults(handler=_run)

    export = commands.add_parser(
        "export",
        help="export a model to PyNN, SpiNNaker or NIR",
        description="Export MODEL: a standalone PyNN script, a SpiNNaker resource report"
        " (virtual SpiNN-5 board), or a NIR graph.",
    )
    export.add_argument("model", type=Path, help="TOML model file")
    export.add_argument("--to", required=True, choices=("pynn", "spinnaker", "nir"), help="export target")
    export.add_argument("--out", type=Path, default=Path("results/export"), help="output folder")
    export.add_argument("--duration", type=float, help="simulated time in ms for the mapping/script")
    export.add_argument("--dt", type=float, help="time step in ms (default: the file's)")
    export.add_argument(
        "--approximate",
        action="store_true",
        help="export features the target cannot express exactly (with a warning) instead of refusing",
    )
    export.add_argument("--freeze", action="store_true", help="NIR: export plastic projections with frozen weights")
    export.set_defaults(handler=_export)

    demo = commands.add_parser("demo", help="the CA3 memory learns, recalls and forgets; plots in results/demo")
    demo.add_argument("--out", type=Path, default=Path("results/demo"), help="output folder")
    demo.set_defaults(handler=_demo)

    info = commands.add_parser("info", help="list backends, devices and export targets available here")
    info.set_defaults(handler=_info)

    validate = commands.add_parser("validate", help="check a model file and print its size")
    validate.add_argument("model", type=Path)
    validate.set_defaults(handler=_validate)
    return parser


def _run(args: argparse.Namespace) -> int:
    from neuromem.backends import build
    from neuromem.plot import raster
    from neuromem.spec.toml import read_model

    model = read_model(args.model)
    dt = args.dt or model.dt or 0.1
    duration = args.duration or model.duration or 1000.0
    options: dict[str, object] = {"seed": model.seed if args.seed is None else args.seed}
    if args.backend == "torch":
        options.update(batch_size=args.batch_size or model.batch_size, device=args.device, progress=True)
    network = model.network
    if not network.probes:
        from neuromem.spec import Probe

        network = network.with_probes(*(Probe(p.name) for p in network.populations))
    start = time.perf_counter()
    simulation = build(network, backend=args.backend, dt=dt, **options)
    recording = simulation.run(duration)
    elapsed = time.perf_counter() - start
    args.out.mkdir(parents=True, exist_ok=True)
    recording.save(args.out / "recording.npz")
    raster(recording, args.out / "raster.png", title=f"{network.name} on {args.backend}")
    summary = {
        "model": str(args.model),
        "backend": args.backend,
        "dt_ms": dt,
        "duration_ms": duration,
        "wall_time_s": round(elapsed, 3),
        "spikes": {name: len(trains) for name, trains in recording.spikes.items()},
        "mean_rate_hz": {name: float(recording.rates_hz(name).mean()) for name in recording.spikes},
    }
    (args.out / "summary.json").write_text(json.dumps(summary, indent=1))
    print(json.dumps(summary, indent=1))
    print(f"wrote {args.out}/recording.npz, raster.png, summary.json")
    return 0


def _export(args: argparse.Namespace) -> int:
    from neuromem.spec.toml import read_model

    model = read_model(args.model)
    duration = args.duration or model.duration or 1000.0
    dt = args.dt or model.dt
    if args.to == "pynn":
        from neuromem.export.pynn_script import write_pynn_script

        script = write_pynn_script(model.network, args.out, duration=duration, dt=dt, approximate=args.approximate)
        print(f"wrote a standalone PyNN script {script} with its data beside it")
        print(f"run it with: python {script} --simulator nest|brian2|spiNNaker --output spikes.npz")
    elif args.to == "spinnaker":
        from neuromem.export.spinnaker import check_spinnaker, format_spinnaker_report

        print(format_spinnaker_report(check_spinnaker(model.network, dt=dt, duration=duration)))
    else:
        from neuromem.export.nir import write_nir

        args.out.mkdir(parents=True, exist_ok=True)
        path = write_nir(
            model.network,
            args.out / f"{model.network.name}.nir",
            dt=dt,
            freeze=args.freeze,
            approximate=args.approximate,
        )
        print(f"wrote NIR graph {path}")
    return 0


def _demo(args: argparse.Namespace) -> int:
    from neuromem.demo import run_demo

    run_demo(args.out)
    return 0


def _info(args: argparse.Namespace) -> int:
    import importlib.util

    import torch

    from neuromem.backends import BACKENDS, available_backends

    print("backends:", ", ".join(f"{b} ({'yes' if b in available_backends() else 'no'})" for b in BACKENDS))
    print("cuda:", "yes" if torch.cuda.is_available() else "no")
    for module in ("pyNN.nest", "pyNN.brian2", "spynnaker", "nir", "norse"):
        root = module.split(".")[0]
        print(f"{module}:", "installed" if importlib.util.find_spec(root) else "not installed")
    return 0


def _validate(args: argparse.Namespace) -> int:
    from neuromem.spec.toml import read_model

    model = read_model(args.model)
    network = model.network
    if model.dt:
        network.validate(model.dt)
    synapses = sum(network.connection_list(p.name).pre.size for p in network.projections)
    neurons = sum(network.size(p.name) for p in network.populations)
    print(
        f"{network.name}: {len(network.populations)} populations, {neurons} neurons,"
        f" {len(network.projections)} projections, {synapses} synapses, scheme {network.scheme!r}: valid"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
