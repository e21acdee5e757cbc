"""The command line loses nothing and says no silent default: every flag and [run] value is checked,
outputs are checked before the simulation, written whole or not at all, and Ctrl-C ends cleanly."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from neuromem.cli import main
from neuromem.record import Recording

REPO = Path(__file__).resolve().parents[1]

MODEL = """
[network]
name = "t"

[run]
dt = 0.1
duration = 20.0
{run_extra}

[[population]]
name = "src"
cell = {{ type = "SpikeSourcePoisson", size = 5, rate = 100.0, seed = 1 }}

[[population]]
name = "a"
size = 5
cell = {cell}

[[projection]]
name = "p"
pre = "src"
post = "a"
connector = {connector}
weight = 3.0
delay = {delay}
"""


def _model(tmp_path: Path, **changes: str) -> Path:
    values = {
        "run_extra": "",
        "cell": '{ type = "LIFCurrExp", tau_refrac = 1.0 }',
        "connector": '{ type = "OneToOne" }',
        "delay": "1.0",
    }
    values.update(changes)
    path = tmp_path / "T.toml"
    path.write_text(MODEL.format(**values))
    return path


def _refuse_simulation(monkeypatch: pytest.MonkeyPatch) -> None:
    """Any build from here on fails the test: errors must come before the simulation."""

    def boom(*args: object, **kwargs: object) -> None:
        raise AssertionError("the simulation was built although the input is invalid")

    monkeypatch.setattr("neuromem.backends.build", boom)


@pytest.mark.parametrize(
    ("flags", "message"),
    [
        (["--dt", "0"], "argument --dt: 0 must be a finite number of ms > 0"),
        (["--duration", "0"], "argument --duration: 0 must be a finite number of ms > 0"),
        (["--dt", "nan"], "argument --dt: nan must be a finite number"),
        (["--batch-size", "0"], "argument --batch-size: 0 must be an integer >= 1"),
        (["--seed", "-1"], "argument --seed: -1 must be an integer >= 0"),
        (["--batch-size", "2.5"], "argument --batch-size: '2.5' is not an integer"),
        (["--max-recording-bytes", "lots"], "argument --max-recording-bytes: size = 'lots' is not a size"),
    ],
)
def test_zero_and_malformed_flags_are_errors_not_defaults(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, flags: list[str], message: str
) -> None:
    _refuse_simulation(monkeypatch)
    with pytest.raises(SystemExit) as exit_info:
        main(["run", str(_model(tmp_path)), "--out", str(tmp_path / "out"), *flags])
    assert exit_info.value.code == 2
    assert message in capsys.readouterr().err
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize(
    ("run_extra", "message"),
    [
        ("batch_size = 2.7", "[run]: batch_size = 2.7 must be an integer >= 1"),
        ('batch_size = "x"', "[run]: batch_size = 'x' must be an integer >= 1"),
        ('seed = "abc"', "[run]: seed = 'abc' must be an integer >= 0"),
        ("seed = -3", "[run]: seed = -3 must be an integer >= 0"),
        ("batch_size = true", "[run]: batch_size = True must be an integer >= 1"),
    ],
)
def test_run_table_values_of_the_wrong_type_are_errors(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, run_extra: str, message: str
) -> None:
    _refuse_simulation(monkeypatch)
    assert main(["run", str(_model(tmp_path, run_extra=run_extra)), "--out", str(tmp_path / "out")]) == 2
    assert message in capsys.readouterr().err
    assert main(["validate", str(_model(tmp_path, run_extra=run_extra))]) == 2


@pytest.mark.parametrize(
    ("old", "new", "message"),
    [
        ("dt = 0.1", "dt = 0", "[run]: dt = 0 ms must be > 0"),
        ("dt = 0.1", 'dt = "0.1"', "[run]: dt = '0.1' is not a number"),
        ("duration = 20.0", 'duration = "long"', "[run]: duration = 'long' is not a number"),
        ("duration = 20.0", "duration = -5.0", "[run]: duration = -5 ms must be > 0"),
    ],
)
def test_run_table_times_are_checked(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], old: str, new: str, message: str
) -> None:
    path = _model(tmp_path)
    path.write_text(path.read_text().replace(old, new))
    assert main(["run", str(path), "--out", str(tmp_path / "out")]) == 2
    assert message in capsys.readouterr().err


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"cell": '{ type = "LIFCurrExp", tau_m = -20.0 }'}, "T.toml population 'a' cell: IF_curr_exp: tau_m = -20"),
        (
            {"cell": '{ type = "Network" }'},
            "T.toml population 'a' cell: type = 'Network' is not a cell type; allowed: IF_curr_exp, IF_curr_delta,",
        ),
        ({"cell": '{ type = "OneToOne" }'}, "T.toml population 'a' cell: type = 'OneToOne' is not a cell type"),
        ({"cell": '{ type = "os.system" }'}, "T.toml population 'a' cell: unknown spec type 'os.system'"),
        (
            {"connector": '{ type = "FromList", pre = ["a", "b"], post = ["c", "d"] }'},
            "T.toml projection 'p' connector: FromList: pre must hold whole-number indices, got str",
        ),
        (
            {"connector": '{ type = "FromList", pre = [1e30], post = [0] }'},
            "FromList: pre holds index 1e+30; indices must be whole numbers >= 0",
        ),
        (
            {"connector": '{ type = "FixedProbability", p = 1.0, allow_self = "no" }'},
            "FixedProbability: allow_self = 'no' must be True or False",
        ),
        ({"delay": "1e12"}, "a delay of 1e+12 ms (10,000,000,000,000 steps of 0.1 ms)"),
    ],
)
def test_model_file_errors_name_the_file_and_the_object(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], changes: dict[str, str], message: str
) -> None:
    assert main(["run", str(_model(tmp_path, **changes)), "--out", str(tmp_path / "out")]) == 2
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err
    assert not (tmp_path / "out").exists()


def test_top_level_keys_of_the_wrong_kind_are_errors(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "bad.toml"
    path.write_text('population = 5\n[network]\nname = "x"\n')
    assert main(["validate", str(path)]) == 2
    assert "population must be written as [[population]] tables, got 5" in capsys.readouterr().err
    path.write_text('run = 3\n[[population]]\nname = "a"\nsize = 1\ncell = { type = "LIFCurrExp" }\n')
    assert main(["validate", str(path)]) == 2
    assert "run must be a [run] table, got 3" in capsys.readouterr().err


def test_brian2_gets_the_batch_and_refuses_a_device(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    pytest.importorskip("brian2")
    model = _model(tmp_path)
    args = ["run", str(model), "--backend", "brian2", "--batch-size", "3"]
    assert main([*args, "--device", "cuda", "--out", str(tmp_path / "gpu")]) == 2
    assert "backend 'brian2' runs on the CPU only; --device cuda needs --backend torch" in capsys.readouterr().err
    assert not (tmp_path / "gpu").exists()
    assert main([*args, "--out", str(tmp_path / "b2")]) == 0
    recording = Recording.load(tmp_path / "b2" / "recording.npz")
    assert recording.batch_size == 3
    assert json.loads((tmp_path / "b2" / "summary.json").read_text())["batch_size"] == 3


def test_output_paths_are_checked_before_the_simulation(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    _refuse_simulation(monkeypatch)
    model = _model(tmp_path)
    (tmp_path / "a_file").write_text("x")
    assert main(["run", str(model), "--out", str(tmp_path / "a_file")]) == 2
    assert "a_file: it exists and is not a folder" in capsys.readouterr().err
    assert main(["run", str(model), "--out", str(tmp_path / "a_file" / "below")]) == 2
    assert "a_file is not a folder" in capsys.readouterr().err
    if Path("/sys").is_dir() and not os.access("/sys", os.W_OK | os.X_OK) or _unwritable("/sys"):
        assert main(["run", str(model), "--out", "/sys"]) == 2
        assert "folder /sys is not writable" in capsys.readouterr().err
    assert (tmp_path / "a_file").read_text() == "x"


def _unwritable(folder: str) -> bool:
    try:
        handle = os.open(os.path.join(folder, ".neuromem-probe"), os.O_CREAT | os.O_WRONLY, 0o600)
    except OSError:
        return True
    os.close(handle)
    os.unlink(os.path.join(folder, ".neuromem-probe"))
    return False


def test_a_rerun_replaces_only_its_own_unchanged_outputs(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    model, out = _model(tmp_path), tmp_path / "out"
    assert main(["run", str(model), "--out", str(out), "--seed", "1"]) == 0
    first = (out / "recording.npz").read_bytes()
    (out / "notes.txt").write_text("mine")
    # Without --overwrite a folder holding earlier outputs is refused and left as it was.
    assert main(["run", str(model), "--out", str(out), "--seed", "2"]) == 2
    assert "--overwrite" in capsys.readouterr().err
    assert (out / "recording.npz").read_bytes() == first
    assert main(["run", str(model), "--out", str(out), "--seed", "2", "--overwrite"]) == 0
    assert (out / "recording.npz").read_bytes() != first
    assert (out / "notes.txt").read_text() == "mine"
    assert json.loads((out / "summary.json").read_text())["spikes"] != {}
    (out / "summary.json").write_text("edited by hand")
    assert main(["run", str(model), "--out", str(out), "--overwrite"]) == 2
    assert "summary.json was changed since neuromem wrote it" in capsys.readouterr().err
    assert (out / "summary.json").read_text() == "edited by hand"
    foreign = tmp_path / "foreign"
    foreign.mkdir()
    (foreign / "raster.png").write_bytes(b"a picture of my cat")
    assert main(["run", str(model), "--out", str(foreign), "--overwrite"]) == 2
    assert "holds a raster.png that neuromem did not write" in capsys.readouterr().err
    assert (foreign / "raster.png").read_bytes() == b"a picture of my cat"


def test_slow_saving_and_plotting_report_progress(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("neuromem.cli.SLOW_BYTES", 0)
    monkeypatch.setattr("neuromem.cli.SLOW_SPIKES", 0)
    assert main(["run", str(_model(tmp_path)), "--out", str(tmp_path / "out")]) == 0
    err = capsys.readouterr().err
    assert "neuromem: writing recording.npz (" in err and "neuromem: plotting raster.png (" in err
    assert err.count("done in") == 2


def test_the_recording_budget_is_checked_before_the_run(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = _model(tmp_path)
    path.write_text(path.read_text() + '\n[[probe]]\ntarget = "a"\nvariable = "v"\n')
    out = tmp_path / "out"
    # 5 neurons x 200 ticks x 8 bytes = 8 kB of trace.
    assert main(["run", str(path), "--out", str(out), "--max-recording-bytes", "7000"]) == 2
    err = capsys.readouterr().err
    assert "would take about 8 kB, above the budget max_recording_bytes = 7 kB" in err
    assert "every_ms" in err
    assert main(["run", str(path), "--out", str(out), "--max-recording-bytes", "8000"]) == 0
    # Only a trace is recorded: no raster, and the run says so.
    assert "no raster.png: the model records no spikes" in capsys.readouterr().err
    assert sorted(p.name for p in out.iterdir()) == [".neuromem-manifest.json", "recording.npz", "summary.json"]


# -- export ------------------------------------------------------------------------------------------


def test_pynn_export_never_deletes_what_it_did_not_write(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    model, folder = _model(tmp_path), tmp_path / "d"
    (folder / "sub").mkdir(parents=True)
    (folder / "plan.json").write_text("{}")
    (folder / "precious.txt").write_text("x")
    (folder / "sub" / "thesis.tex").write_text("y")
    export = ["export", str(model), "--to", "pynn", "--out", str(folder)]
    assert main(export) == 2
    assert "the folder is not empty" in capsys.readouterr().err
    assert main([*export, "--overwrite"]) == 2
    assert "holds a plan.json that neuromem did not write" in capsys.readouterr().err
    (folder / "plan.json").unlink()
    assert main([*export, "--overwrite"]) == 0
    (folder / "spikes.npz").write_bytes(b"output of run.py")
    assert main([*export, "--overwrite"]) == 0
    assert (folder / "precious.txt").read_text() == "x"
    assert (folder / "sub" / "thesis.tex").read_text() == "y"
    assert (folder / "spikes.npz").read_bytes() == b"output of run.py"
    assert sorted(p.name for p in folder.iterdir()) == [
        ".neuromem-manifest.json",
        "arrays.npz",
        "plan.json",
        "precious.txt",
        "run.py",
        "spikes.npz",
        "sub",
    ]


def test_pynn_export_into_the_current_folder_is_refused_when_not_empty(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    model = _model(tmp_path)
    monkeypatch.chdir(tmp_path)
    assert main(["export", str(model), "--to", "pynn", "--out", "."]) == 2
    err = capsys.readouterr().err
    assert "cannot export to .: the folder is not empty (T.toml)" in err and "Traceback" not in err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["T.toml"]


def test_nir_export_refusals_name_the_flag_and_leave_nothing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    pytest.importorskip("nir")
    model = _model(tmp_path, delay="0.1")
    out = tmp_path / "new" / "nested"
    assert main(["export", str(model), "--to", "nir", "--out", str(out)]) == 2
    assert "pass approximate=True (--approximate on the command line)" in capsys.readouterr().err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["T.toml"]
    (tmp_path / "file").write_text("x")
    assert main(["export", str(model), "--to", "nir", "--out", str(tmp_path / "file"), "--approximate"]) == 2
    assert "file: it exists and is not a folder" in capsys.readouterr().err
    assert main(["export", str(model), "--to", "nir", "--out", str(out), "--approximate"]) == 0
    assert (out / "t.nir").stat().st_size > 1000
    assert main(["export", str(model), "--to", "nir", "--out", str(out), "--approximate"]) == 2
    assert "not empty" in capsys.readouterr().err
    assert main(["export", str(model), "--to", "nir", "--out", str(out), "--approximate", "--overwrite"]) == 0


def test_write_nir_refuses_an_existing_file_unless_told(tmp_path: Path) -> None:
    pytest.importorskip("nir")
    from neuromem.errors import ExportError
    from neuromem.export.nir import write_nir
    from neuromem.spec.toml import read_model

    network = read_model(_model(tmp_path, delay="0.1", cell='{ type = "LIFCurrExp" }')).network
    target = tmp_path / "g.nir"
    target.write_bytes(b"precious")
    with pytest.raises(ExportError, match="the file exists; pass overwrite=True"):
        write_nir(network, target, dt=0.1, approximate=True)
    assert target.read_bytes() == b"precious"
    write_nir(network, target, dt=0.1, overwrite=True, approximate=True)
    assert target.read_bytes() != b"precious"
    (tmp_path / "folder.nir").mkdir()
    with pytest.raises(ExportError, match="exists and is not a plain file"):
        write_nir(network, tmp_path / "folder.nir", dt=0.1, overwrite=True, approximate=True)


# -- interrupts ----------------------------------------------------------------------------------------

INTERRUPT = textwrap.dedent(
    """
    import os, signal, sys
    from neuromem import cli, fileformat
    from neuromem.backends.torch.simulation import TorchSimulation

    where = sys.argv[1]
    if where == "simulation":
        real = TorchSimulation._step
        def step(self, spikes):
            if self.tick == 50:
                os.kill(os.getpid(), signal.SIGINT)
            return real(self, spikes)
        TorchSimulation._step = step
    else:
        fileformat._checkpoint = lambda stage: os.kill(os.getpid(), signal.SIGINT) if stage == "written" else None
    sys.exit(cli.main(sys.argv[2:]))
    """
)


@pytest.mark.parametrize("where", ["simulation", "saving"])
def test_ctrl_c_exits_130_with_one_line_and_keeps_the_previous_results(tmp_path: Path, where: str) -> None:
    model, out = _model(tmp_path), tmp_path / "out"
    assert main(["run", str(model), "--out", str(out), "--seed", "1"]) == 0
    before = {p.name: p.read_bytes() for p in out.iterdir()}
    done = subprocess.run(
        [sys.executable, "-c", INTERRUPT, where, "run", str(model), "--out", str(out), "--seed", "2", "--overwrite"],
        capture_output=True,
        text=True,
        cwd=REPO,
        timeout=300,
    )
    assert done.returncode == 130, done.stderr
    assert done.stderr.strip().splitlines()[-1] == "neuromem: interrupted; no output was written or changed"
    assert "Traceback" not in done.stderr
    assert {p.name: p.read_bytes() for p in out.iterdir()} == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["T.toml", "out"]


BRIAN2_INTERRUPT = textwrap.dedent(
    """
    import os, signal, sys
    import brian2
    from neuromem import cli
    from neuromem.backends import build
    from neuromem.backends.brian2.simulation import Brian2Simulation
    from neuromem.spec.toml import read_model

    real = Brian2Simulation.reset
    def reset(self):  # a network operation sends Ctrl-C at tick 50 of 200
        real(self)
        def ctrl_c(t):
            if int(round(float(t / brian2.ms) / self.dt)) == 50:
                os.kill(os.getpid(), signal.SIGINT)
        self.brian_network.add(brian2.NetworkOperation(ctrl_c, clock=self.clock, name="ctrl_c"))
    Brian2Simulation.reset = reset
    # The API first: run() raises where the signal came; then the command line.
    simulation = build(read_model(sys.argv[2]).network, backend="brian2", dt=0.1, codegen_target="numpy")
    try:
        simulation.run(20.0)
        print("finished at tick", simulation.tick)
    except KeyboardInterrupt:
        print("KeyboardInterrupt at tick", simulation.tick)
    print("preference", brian2.prefs["core.stop_on_keyboard_interrupt"])
    sys.exit(cli.main(sys.argv[1:]))
    """
)


def test_ctrl_c_during_a_brian2_run_interrupts_it_instead_of_cutting_it_short(tmp_path: Path) -> None:
    """Brian2's own SIGINT handler would end the run early and return; Ctrl-C must interrupt as on torch."""
    pytest.importorskip("brian2")
    model, out = _model(tmp_path), tmp_path / "out"
    assert main(["run", str(model), "--out", str(out), "--seed", "1", "--no-plot"]) == 0
    before = {p.name: p.read_bytes() for p in out.iterdir()}
    command = ["run", str(model), "--out", str(out), "--backend", "brian2", "--seed", "2", "--overwrite"]
    done = subprocess.run(
        [sys.executable, "-c", BRIAN2_INTERRUPT, *command], capture_output=True, text=True, cwd=REPO, timeout=300
    )
    # Interrupted where the signal came, and the user's Brian2 preference (on by default) is back.
    assert done.stdout.splitlines() == ["KeyboardInterrupt at tick 50", "preference True"], done.stderr
    assert done.returncode == 130, done.stderr
    assert done.stderr.strip().splitlines()[-1] == "neuromem: interrupted; no output was written or changed"
    assert "Traceback" not in done.stderr
    assert {p.name: p.read_bytes() for p in out.iterdir()} == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["T.toml", "out"]


PYNN_BRIAN2_INTERRUPT = textwrap.dedent(
    """
    import os, signal, sys
    import brian2
    import pyNN.brian2 as sim
    sys.path.insert(0, sys.argv[1])
    import run

    real = sim.run
    def ctrl_c(t):
        if abs(float(t / brian2.ms) - 5.0) < 1e-6:
            os.kill(os.getpid(), signal.SIGINT)
    def run_with_ctrl_c(duration):  # Ctrl-C at 5 ms of the 20 ms run
        sim.simulator.state.network.add(brian2.NetworkOperation(ctrl_c, dt=0.1 * brian2.ms))
        return real(duration)
    sim.run = run_with_ctrl_c
    try:
        status = run.main(["--simulator", "brian2", "--output", sys.argv[2]])
        print("finished with status", status, "at", sim.get_current_time(), "ms")
    except KeyboardInterrupt:
        print("KeyboardInterrupt; preference", brian2.prefs["core.stop_on_keyboard_interrupt"])
    """
)


def test_ctrl_c_during_an_exported_pynn_brian2_run_interrupts_it(tmp_path: Path) -> None:
    """pyNN.brian2 runs through Brian2's network: without care, Ctrl-C cuts the run and run.py saves the cut."""
    pytest.importorskip("pyNN")
    pytest.importorskip("brian2")
    folder, output = tmp_path / "export", tmp_path / "spikes.npz"
    assert main(["export", str(_model(tmp_path)), "--to", "pynn", "--out", str(folder)]) == 0
    done = subprocess.run(
        [sys.executable, "-c", PYNN_BRIAN2_INTERRUPT, str(folder), str(output)],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines()[-1] == "KeyboardInterrupt; preference True", done.stdout + done.stderr
    assert not output.exists()


def test_sigint_during_the_commit_is_held_until_the_files_are_in_place(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, request: pytest.FixtureRequest
) -> None:
    from neuromem.outputs import OutputFolder

    # Python's own Ctrl-C handler, whatever an earlier import (NEST, Brian2) installed.
    previous = signal.signal(signal.SIGINT, signal.default_int_handler)
    request.addfinalizer(lambda: signal.signal(signal.SIGINT, previous))
    (tmp_path / "out").mkdir()
    output = OutputFolder(tmp_path / "out", ("a.txt", "b.txt"), "write results", replace_own=True)
    real = os.replace

    def interrupted(source: str, target: str) -> None:
        os.kill(os.getpid(), signal.SIGINT)  # held back while the commit runs
        real(source, target)

    with pytest.raises(KeyboardInterrupt):
        with output.staging() as staging:
            (staging / "a.txt").write_text("1")
            (staging / "b.txt").write_text("2")
            monkeypatch.setattr("neuromem.outputs.os.replace", interrupted)
            output.commit()
    monkeypatch.undo()
    assert (tmp_path / "out" / "a.txt").read_text() == "1" and (tmp_path / "out" / "b.txt").read_text() == "2"
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == [".neuromem-manifest.json", "a.txt", "b.txt"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out"]


@pytest.mark.parametrize("version", ['"abc"', "0", "true", "null", "99"])
def test_the_standalone_runner_refuses_a_bad_plan_version_with_its_own_error(tmp_path: Path, version: str) -> None:
    model = _model(tmp_path)
    assert main(["export", str(model), "--to", "pynn", "--out", str(tmp_path / "x")]) == 0
    plan = tmp_path / "x" / "plan.json"
    document = json.loads(plan.read_text())
    document["version"] = json.loads(version)
    plan.write_text(json.dumps(document))
    done = subprocess.run(
        [sys.executable, str(tmp_path / "x" / "run.py"), "--simulator", "nest"],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        timeout=120,
    )
    assert done.returncode == 2, done.stderr
    assert "Traceback" not in done.stderr
    expected = "this script reads 2" if version == "99" else f"plan version {json.loads(version)!r} is not allowed"
    assert expected in done.stderr
