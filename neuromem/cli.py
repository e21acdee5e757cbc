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

Every command writes into a new folder results/<command>-<date>-<time> unless --out names one;
a folder that holds earlier outputs is written into only with --overwrite, and then only the
files neuromem wrote there (and nobody changed since) are replaced.

examples:
  neuromem demo                                              the CA3 memory learns, recalls and forgets
  neuromem run models/demo_recurrent.toml --duration 500     simulate on torch (add --backend brian2)
  neuromem export models/ca3_model.toml --to spinnaker       map onto a virtual SpiNN-5 board
  neuromem export models/demo_recurrent.toml --to pynn --out exported/
  neuromem COMMAND --help                                    the options of one command
"""


RUN_FILES = ("recording.npz", "raster.png", "summary.json")
SPINNAKER_FILES = ("spinnaker_report.txt", "spinnaker_report.json")
OVERWRITE_HELP = (
    "write into a --out that holds earlier outputs, replacing only the files neuromem wrote there and nobody"
    " changed since (other files are kept)"
)
#: Options of ``neuromem export`` that only some targets use: (option, targets, why the others refuse it).
EXPORT_ONLY = (
    ("freeze", ("nir",), "only NIR exports plastic projections frozen"),
    ("merge", ("nir",), "only NIR writes signed Linear nodes"),
    ("loader", ("nir",), "only a NIR graph is written for a loader's step"),
    ("outputs", ("nir",), "only a NIR graph names its output nodes"),
    ("duration", ("pynn", "spinnaker"), "a NIR graph has no run length"),
)
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
    hook = sys.excepthook
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
    finally:
        # Importing Brian2 replaces sys.excepthook with one that blames Brian for any later uncaught
        # error and then keeps its debug log and a copy of the script in the system temp folder.
        # With the hook restored, an error that is not Brian's prints a plain traceback and Brian's
        # exit handler deletes both files.
        sys.excepthook = hook


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
    run.add_argument("--out", type=Path, help="output folder (default: a new results/run-<date>-<time>)")
    run.add_argument("--overwrite", action="store_true", help=OVERWRITE_HELP)
    run.add_argument("--no-plot", action="store_true", help="write no raster.png (needs no matplotlib)")
    run.set_defaults(handler=_run, interrupted="; no output was written or changed")

    export = commands.add_parser(
        "export",
        help="export a model to PyNN, SpiNNaker or NIR",
        description="Export MODEL: a standalone PyNN script, a SpiNNaker resource report"
        " (virtual SpiNN-5 board), or a NIR graph.",
    )
    export.add_argument("model", type=Path, help="TOML model file")
    export.add_argument("--to", required=True, choices=("pynn", "spinnaker", "nir"), help="export target")
    export.add_argument(
        "--out",
        type=Path,
        help="output folder, new or empty (default: a new results/export-<date>-<time>); spinnaker writes its"
        " report there",
    )
    export.add_argument("--overwrite", action="store_true", help=OVERWRITE_HELP)
    export.add_argument("--duration", type=_positive_ms, help="pynn, spinnaker: simulated time in ms")
    export.add_argument("--dt", type=_positive_ms, help="time step in ms (default: the file's)")
    export.add_argument(
        "--approximate",
        action="store_true",
        help="pynn, spinnaker, nir: export features the target cannot express exactly (another integration"
        " scheme, ...) with a warning or a note instead of refusing",
    )
    export.add_argument("--freeze", action="store_true", help="NIR: export plastic projections with frozen weights")
    export.add_argument(
        "--merge",
        action="store_true",
        help="NIR: one signed Linear node per excitatory/inhibitory projection pair (Norse reads one Linear per"
        " population)",
    )
    export.add_argument(
        "--loader",
        choices=("snntorch", "norse"),
        help="NIR: write each node so that this loader's Euler step is neuromem's exact step (IF_curr_delta)",
    )
    export.add_argument(
        "--outputs", nargs="+", metavar="POPULATION", help="NIR: populations whose spikes are the graph's outputs"
    )
    export.set_defaults(handler=_export, interrupted="; no output was written or changed")

    demo = commands.add_parser(
        "demo", help="the CA3 memory learns, recalls and forgets; figures in results/demo-<date>-<time>"
    )
    demo.add_argument("--out", type=Path, help="output folder (default: a new results/demo-<date>-<time>)")
    demo.add_argument("--overwrite", action="store_true", help=OVERWRITE_HELP)
    demo.set_defaults(handler=_demo, interrupted="; no output was written or changed")

    info = commands.add_parser(
        "info", help="list backends, devices and export targets available here (imports no simulator)"
    )
    info.add_argument(
        "--devices", action="store_true", help="import torch and ask CUDA which GPUs it can use (takes seconds)"
    )
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
    plot = not args.no_plot and any(p.variable == "spikes" for p in network.probes)
    if not args.no_plot and not plot:
        print("neuromem: no raster.png: the model records no spikes (only traces or weights)", file=sys.stderr)
    names = tuple(n for n in RUN_FILES if plot or n != "raster.png")
    if plot:
        _require_plots("raster.png", "--no-plot")
    args.out = _out(args, "run")
    output = OutputFolder(
        args.out, names, "write results", overwrite=args.overwrite, flag="--overwrite", error=ValidationError
    )
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
        _write_outputs(recording, staging, f"{network.name} on {args.backend}", summary, plot=plot)
        output.commit()
    print(json.dumps(summary, indent=1))
    print(f"wrote {args.out}/{', '.join(names)}")
    return 0


def _out(args: argparse.Namespace, kind: str) -> Path:
    """``--out``, or a new ``results/<kind>-<date>-<time>`` folder when it is not given."""
    from neuromem.outputs import fresh_folder

    return args.out if args.out is not None else fresh_folder(kind)


def _require_plots(what: str, instead: str) -> None:
    import importlib.util

    if importlib.util.find_spec("matplotlib") is None:
        raise CapabilityError(
            f"{what} needs matplotlib, which is not installed: pip install 'neuromem[plots]', or pass {instead}"
        )


def _first(*values: object) -> object:
    """The first value that is not None (an explicit 0 is kept, then refused by the checks)."""
    return next(v for v in values if v is not None)


def _write_outputs(recording: object, folder: Path, title: str, summary: dict[str, object], plot: bool) -> None:
    from neuromem.limits import format_bytes

    size = recording.nbytes()  # type: ignore[attr-defined]
    spikes = sum(len(t) for t in recording.spikes.values())  # type: ignore[attr-defined]
    with _phase(f"writing recording.npz ({format_bytes(size)})", size > SLOW_BYTES):
        recording.save(folder / "recording.npz")  # type: ignore[attr-defined]
    if plot:
        from neuromem.plot import raster

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
    from neuromem.outputs import OutputFolder
    from neuromem.spec.toml import read_model

    for option, targets, why in EXPORT_ONLY:
        if getattr(args, option) not in (None, False) and args.to not in targets:
            flag = "--" + option.replace("_", "-")
            raise CapabilityError(f"{flag} does not apply to --to {args.to}: {why}; leave it out")
    model = read_model(args.model)
    duration = _first(args.duration, model.duration, 1000.0)
    dt = args.dt if args.dt is not None else model.dt
    args.out = _out(args, "export")
    if args.to == "pynn":
        from neuromem.export.pynn_script import write_pynn_script

        script = write_pynn_script(
            model.network, args.out, duration=duration, dt=dt, approximate=args.approximate, overwrite=args.overwrite
        )
        print(f"wrote a standalone PyNN script {script} with its data beside it")
        print(f"run it with: python {script} --simulator nest|brian2|spiNNaker [--output recording.pkl|spikes.npz]")
    elif args.to == "spinnaker":
        import dataclasses

        from neuromem.export.spinnaker import check_spinnaker, format_spinnaker_report

        output = OutputFolder(args.out, SPINNAKER_FILES, "export", overwrite=args.overwrite, flag="--overwrite")
        output.check()
        report = check_spinnaker(model.network, dt=dt, duration=duration, approximate=args.approximate)
        text = format_spinnaker_report(report)
        with output.staging() as staging:
            (staging / SPINNAKER_FILES[0]).write_text(text + "\n")
            (staging / SPINNAKER_FILES[1]).write_text(json.dumps(dataclasses.asdict(report), indent=1) + "\n")
            output.commit()
        print(text)
        print(f"wrote {args.out}/{', '.join(SPINNAKER_FILES)}")
    else:
        from neuromem.export.nir import write_nir

        name = f"{model.network.name}.nir"
        output = OutputFolder(args.out, (name,), "export", overwrite=args.overwrite, flag="--overwrite")
        # A refusal (plasticity, delays, refractoriness) removes the staging folder: nothing is left behind.
        with output.staging() as staging:
            write_nir(
                model.network,
                staging / name,
                dt=dt,
                freeze=args.freeze,
                approximate=args.approximate,
                merge=args.merge,
                loader=args.loader,
                outputs=args.outputs,
            )
            output.commit()
        print(f"wrote NIR graph {args.out / name}")
    return 0


def _demo(args: argparse.Namespace) -> int:
    _require_plots("the demo's figures", "nothing: the demo is about its figures")
    from neuromem.demo import run_demo

    run_demo(_out(args, "demo"), overwrite=args.overwrite)
    return 0


def _info(args: argparse.Namespace) -> int:
    from neuromem.info import describe

    print("\n".join(describe(devices=args.devices)))
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
