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
import math
import sys
import time
from collections.abc import Sequence
from pathlib import Path

from neuromem.errors import CapabilityError, NeuromemError, ValidationError

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


RUN_FILES = ("recording.npz", "raster.png", "summary.json")
#: Recordings above this many bytes, or rasters of more spikes, report progress while written.
SLOW_BYTES = 50 * 10**6
SLOW_SPIKES = 200_000


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point; returns the exit status (0 ok, 2 bad input, 130 interrupted)."""
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
    except KeyboardInterrupt:
        # Outputs are written to a temporary folder and moved into place only when complete,
        # so an interrupted command has changed nothing.
        print(f"neuromem: interrupted{getattr(args, 'interrupted', '')}", file=sys.stderr)
        return 130


def _positive_ms(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number of ms") from None
    if not (math.isfinite(value) and value > 0):
        raise argparse.ArgumentTypeError(f"{text} must be a finite number of ms > 0")
    return value


def _integer(minimum: int) -> object:
    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not an integer") from None
        if value < minimum:
            raise argparse.ArgumentTypeError(f"{value} must be an integer >= {minimum}")
        return value

    parse.__name__ = f"integer >= {minimum}"
    return parse


def _byte_size(text: str) -> int:
    from neuromem.limits import parse_bytes

    try:
        return parse_bytes(text, "size")
    except ValidationError as error:
        raise argparse.ArgumentTypeError(str(error)) from None


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="neuromem", description=DESCRIPTION, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    commands = parser.add_subparsers(title="commands", metavar="COMMAND")

    run = commands.add_parser(
        "run",
        help="simulate a model file and write its recording and a raster plot",
        description="Simulate MODEL and write recording.npz, raster.png and summary.json to --out. The outputs"
        " are written next to --out first and moved into place only when complete: an interrupted or failed"
        " run leaves earlier results untouched. Other files in --out are never touched.",
    )
    run.add_argument("model", type=Path, help="TOML model file")
    run.add_argument("--backend", default="torch", help="torch (default) or brian2")
    run.add_argument(
        "--duration", type=_positive_ms, help="simulated time in ms (default: the file's [run] duration, else 1000)"
    )
    run.add_argument("--dt", type=_positive_ms, help="time step in ms (default: the file's [run] dt, else 0.1)")
    run.add_argument("--batch-size", type=_integer(1), help="independent trials in one pass (default: the file's)")
    run.add_argument("--device", help="cpu (default) or cuda; torch backend only")
    run.add_argument("--seed", type=_integer(0), help="seed of the Poisson inputs (default: the file's, else 0)")
    run.add_argument(
        "--max-recording-bytes",
        type=_byte_size,
        help="refuse a run whose traces and weight snapshots would take more memory (default 2G; e.g. 500M, 8G)",
    )
    run.add_argument("--out", type=Path, default=Path("results/run"), help="output folder (default results/run)")
    run.set_defaults(handler=_run, interrupted="; no output was written or changed")

    export = commands.add_parser(
        "export",
        help="export a model to PyNN, SpiNNaker or NIR",
        description="Export MODEL: a standalone PyNN script, a SpiNNaker resource report"
        " (virtual SpiNN-5 board), or a NIR graph.",
    )
    export.add_argument("model", type=Path, help="TOML model file")
    export.add_argument("--to", required=True, choices=("pynn", "spinnaker", "nir"), help="export target")
    export.add_argument("--out", type=Path, default=Path("results/export"), help="output folder (new or empty)")
    export.add_argument(
        "--overwrite",
        action="store_true",
        help="write into a non-empty --out, replacing only the files of an earlier export (other files are kept)",
    )
    export.add_argument("--duration", type=_positive_ms, help="simulated time in ms for the mapping/script")
    export.add_argument("--dt", type=_positive_ms, help="time step in ms (default: the file's)")
    export.add_argument(
        "--approximate",
        action="store_true",
        help="export features the target cannot express exactly (with a warning) instead of refusing",
    )
    export.add_argument("--freeze", action="store_true", help="NIR: export plastic projections with frozen weights")
    export.set_defaults(handler=_export, interrupted="; no output was written or changed")

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
    from neuromem.backends.base import DEFAULT_MAX_RECORDING_BYTES
    from neuromem.outputs import OutputFolder
    from neuromem.spec.toml import read_model

    model = read_model(args.model)
    dt = _first(args.dt, model.dt, 0.1)
    duration = _first(args.duration, model.duration, 1000.0)
    options: dict[str, object] = {
        "seed": _first(args.seed, model.seed),
        "batch_size": _first(args.batch_size, model.batch_size),
        "max_recording_bytes": _first(args.max_recording_bytes, DEFAULT_MAX_RECORDING_BYTES),
    }
    if args.backend == "torch":
        options.update(device=args.device or "cpu", progress=True)
    elif args.device not in (None, "cpu"):
        raise CapabilityError(
            f"backend {args.backend!r} runs on the CPU only; --device {args.device} needs --backend torch"
        )
    network = model.network
    if not network.probes:
        from neuromem.spec import Probe

        network = network.with_probes(*(Probe(p.name) for p in network.populations))
    output = OutputFolder(args.out, RUN_FILES, "write results", replace_own=True, error=ValidationError)
    output.check()
    start = time.perf_counter()
    simulation = build(network, backend=args.backend, dt=dt, **options)
    recording = simulation.run(duration)
    elapsed = time.perf_counter() - start
    summary = {
        "model": str(args.model),
        "backend": args.backend,
        "dt_ms": dt,
        "duration_ms": duration,
        "batch_size": simulation.batch_size,
        "wall_time_s": round(elapsed, 3),
        "spikes": {name: len(trains) for name, trains in recording.spikes.items()},
        "mean_rate_hz": {name: float(recording.rates_hz(name).mean()) for name in recording.spikes},
    }
    with output.staging() as staging:
        _write_outputs(recording, staging, f"{network.name} on {args.backend}", summary)
        output.commit()
    print(json.dumps(summary, indent=1))
    print(f"wrote {args.out}/recording.npz, raster.png, summary.json")
    return 0


def _first(*values: object) -> object:
    """The first value that is not None (an explicit 0 is kept, then refused by the checks)."""
    return next(v for v in values if v is not None)


def _write_outputs(recording: object, folder: Path, title: str, summary: dict[str, object]) -> None:
    from neuromem.limits import format_bytes
    from neuromem.plot import raster

    size = recording.nbytes()  # type: ignore[attr-defined]
    spikes = sum(len(t) for t in recording.spikes.values())  # type: ignore[attr-defined]
    with _phase(f"writing recording.npz ({format_bytes(size)})", size > SLOW_BYTES):
        recording.save(folder / "recording.npz")  # type: ignore[attr-defined]
    with _phase(f"plotting raster.png ({spikes:,} spikes)", spikes > SLOW_SPIKES):
        raster(recording, folder / "raster.png", title=title)  # type: ignore[arg-type]
    (folder / "summary.json").write_text(json.dumps(summary, indent=1))


class _phase:
    """Prints ``message...`` and the time it took to stderr, for the slow steps only."""

    def __init__(self, message: str, slow: bool) -> None:
        self.message, self.slow = message, slow

    def __enter__(self) -> None:
        if self.slow:
            self.start = time.perf_counter()
            print(f"neuromem: {self.message}...", file=sys.stderr, flush=True)

    def __exit__(self, kind: object, *rest: object) -> None:
        if self.slow and kind is None:
            print(f"neuromem: {self.message}: done in {time.perf_counter() - self.start:.1f} s", file=sys.stderr)


def _export(args: argparse.Namespace) -> int:
    from neuromem.spec.toml import read_model

    model = read_model(args.model)
    duration = _first(args.duration, model.duration, 1000.0)
    dt = args.dt if args.dt is not None else model.dt
    if args.to == "pynn":
        from neuromem.export.pynn_script import write_pynn_script

        script = write_pynn_script(
            model.network, args.out, duration=duration, dt=dt, approximate=args.approximate, overwrite=args.overwrite
        )
        print(f"wrote a standalone PyNN script {script} with its data beside it")
        print(f"run it with: python {script} --simulator nest|brian2|spiNNaker --output spikes.npz")
    elif args.to == "spinnaker":
        from neuromem.export.spinnaker import check_spinnaker, format_spinnaker_report

        print(format_spinnaker_report(check_spinnaker(model.network, dt=dt, duration=duration)))
    else:
        from neuromem.export.nir import write_nir
        from neuromem.outputs import OutputFolder

        name = f"{model.network.name}.nir"
        output = OutputFolder(args.out, (name,), "export", overwrite=args.overwrite, flag="--overwrite")
        # A refusal (plasticity, delays, refractoriness) removes the staging folder: nothing is left behind.
        with output.staging() as staging:
            write_nir(model.network, staging / name, dt=dt, freeze=args.freeze, approximate=args.approximate)
            output.commit()
        print(f"wrote NIR graph {args.out / name}")
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
