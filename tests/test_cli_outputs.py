"""The command line's defaults and options: fresh output folders, options honoured or refused, a fast info."""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
from tiny_models import tiny_model_toml

from neuromem.cli import main
from neuromem.outputs import MANIFEST, fresh_folder, read_manifest

REPO = Path(__file__).resolve().parents[1]

MODEL = tiny_model_toml(40.0)


def _model(tmp_path: Path) -> Path:
    path = tmp_path / "tiny.toml"
    path.write_text(MODEL)
    return path


def test_runs_without_out_write_new_folders_and_never_touch_the_earlier_one(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    model = _model(tmp_path)
    monkeypatch.chdir(tmp_path)
    assert main(["run", str(model)]) == 0
    (first,) = (tmp_path / "results").iterdir()
    before = {p.name: p.read_bytes() for p in first.iterdir()}
    assert main(["run", str(model), "--duration", "20"]) == 0
    folders = sorted((tmp_path / "results").iterdir())
    assert len(folders) == 2 and all(f.name.startswith("run-") for f in folders)
    assert {p.name: p.read_bytes() for p in first.iterdir()} == before
    second = next(f for f in folders if f != first)
    assert json.loads((second / "summary.json").read_text())["duration_ms"] == 20.0
    assert json.loads((first / "summary.json").read_text())["duration_ms"] == 40.0


def test_fresh_folder_names_carry_the_time_and_never_an_existing_folder(tmp_path: Path) -> None:
    now = time.mktime((2026, 11, 28, 19, 5, 7, 0, 0, -1))
    first = fresh_folder("run", tmp_path, now)
    assert first == tmp_path / "run-20261128-190507"
    first.mkdir()
    second = fresh_folder("run", tmp_path, now)
    assert second.name == "run-20261128-190507-2"
    second.write_text("a file takes the name too")
    assert fresh_folder("run", tmp_path, now).name == "run-20261128-190507-3"


def test_no_plot_writes_no_raster(tmp_path: Path) -> None:
    out = tmp_path / "out"
    assert main(["run", str(_model(tmp_path)), "--out", str(out), "--no-plot"]) == 0
    assert sorted(p.name for p in out.iterdir()) == sorted([MANIFEST, "recording.npz", "summary.json"])
    assert sorted(read_manifest(out)) == ["recording.npz", "summary.json"]


def test_plotting_without_matplotlib_is_refused_before_the_run(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None if name == "matplotlib" else real(name, *a))
    out = tmp_path / "out"
    assert main(["run", str(_model(tmp_path)), "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert "pip install 'neuromem[plots]'" in err and "--no-plot" in err
    assert not out.exists()
    assert main(["run", str(_model(tmp_path)), "--out", str(out), "--no-plot"]) == 0


@pytest.mark.parametrize(
    ("target", "option", "why"),
    [
        ("pynn", "--freeze", "only NIR exports plastic projections frozen"),
        ("spinnaker", "--freeze", "only NIR exports plastic projections frozen"),
        ("nir", "--duration", "a NIR graph has no run length"),
        ("pynn", "--merge", "only NIR writes signed Linear nodes"),
        ("spinnaker", "--loader", "only a NIR graph is written for a loader's step"),
    ],
)
def test_export_options_a_target_does_not_use_are_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], target: str, option: str, why: str
) -> None:
    out = tmp_path / "out"
    extra = {"--duration": [option, "50"], "--loader": [option, "norse"]}.get(option, [option])
    assert main(["export", str(_model(tmp_path)), "--to", target, "--out", str(out), *extra]) == 2
    err = capsys.readouterr().err
    assert f"{option} does not apply to --to {target}" in err and why in err
    assert not out.exists()


def test_demo_refuses_a_folder_holding_other_files_before_any_work(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "mine"
    out.mkdir()
    (out / "raster.png").write_bytes(b"my own figure")
    assert main(["demo", "--out", str(out)]) == 2
    assert "not empty" in capsys.readouterr().err
    assert main(["demo", "--out", str(out), "--overwrite"]) == 2
    assert "holds a raster.png that neuromem did not write" in capsys.readouterr().err
    assert (out / "raster.png").read_bytes() == b"my own figure"
    assert sorted(p.name for p in out.iterdir()) == ["raster.png"]


def test_spinnaker_export_refuses_the_exact_scheme_without_approximate(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "report"
    assert main(["export", str(_model(tmp_path)), "--to", "spinnaker", "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert "scheme:exact" in err and "'spiNNaker'" in err and "--approximate" in err
    assert not out.exists()


@pytest.mark.spinnaker
def test_spinnaker_export_writes_its_report_into_out(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    pytest.importorskip("spynnaker")
    out = tmp_path / "report"
    # The model is of the exact scheme: mapped with --approximate, the approximation among the notes.
    assert main(["export", str(_model(tmp_path)), "--to", "spinnaker", "--out", str(out), "--approximate"]) == 0
    printed = capsys.readouterr().out
    text = (out / "spinnaker_report.txt").read_text()
    assert text.strip() in printed
    report = json.loads((out / "spinnaker_report.json").read_text())
    # Two populations of two neurons: one core each (sPyNNaker keeps sources and LIFs apart).
    assert report["cores"] == 2 and report["routing_ok"] is True
    assert set(report["neurons_per_core"]) == {"stim", "cells"}
    assert sorted(read_manifest(out)) == ["spinnaker_report.json", "spinnaker_report.txt"]
    assert any("scheme:exact" in note for note in report["notes"])
    assert main(["export", str(_model(tmp_path)), "--to", "spinnaker", "--out", str(out), "--approximate"]) == 2


INFO_IMPORTS = """
import sys
from neuromem.cli import main
main(["info"])
heavy = ("torch", "brian2", "pyNN", "nest", "spynnaker", "nir", "norse", "matplotlib", "sklearn", "scipy")
print("imported:", sorted(m for m in heavy if m in sys.modules))
"""


def test_info_lists_every_part_and_imports_nothing_heavy() -> None:
    done = subprocess.run(
        [sys.executable, "-c", INFO_IMPORTS], capture_output=True, text=True, cwd=REPO, timeout=300, check=True
    )
    lines = done.stdout.splitlines()
    assert lines[-1] == "imported: []"
    assert lines[0].startswith("neuromem ") and lines[1].startswith("backend torch")
    import torch

    build = "CPU build" if torch.version.cuda is None else f"CUDA {torch.version.cuda} build"
    assert f"torch {torch.__version__} ({build})" in lines[1]
    parts = ("backend brian2", "export: PyNN", "export: NEST", "export: sPyNNaker", "export: NIR", "plots: matplotlib")
    for what in parts:
        assert any(line.startswith(what) for line in lines), what


UNRELATED_ERROR = """
import sys
import neuromem.cli as cli

def broken(*args, **kwargs):
    raise RuntimeError("an error that is not Brian's")

cli._write_outputs = broken
sys.exit(cli.main(sys.argv[1:]))
"""


@pytest.mark.brian2
def test_an_error_after_brian2_ran_leaves_no_debug_log_in_the_temp_folder(tmp_path: Path) -> None:
    pytest.importorskip("brian2")
    temp = tmp_path / "temp"
    temp.mkdir()
    env = {**os.environ, "TMPDIR": str(temp)}
    args = ["run", str(_model(tmp_path)), "--backend", "brian2", "--out", str(tmp_path / "out")]
    done = subprocess.run(
        [sys.executable, "-c", UNRELATED_ERROR, *args], capture_output=True, text=True, cwd=REPO, env=env, timeout=600
    )
    assert done.returncode == 1
    assert "RuntimeError: an error that is not Brian's" in done.stderr
    assert "Brian 2 encountered an unexpected error" not in done.stderr
    assert sorted(p.name for p in temp.iterdir() if p.name.startswith("brian_")) == []
    assert not (tmp_path / "out").exists()


def test_info_devices_asks_cuda(capsys: pytest.CaptureFixture[str]) -> None:
    import torch

    assert main(["info", "--devices"]) == 0
    line = next(x for x in capsys.readouterr().out.splitlines() if x.startswith("backend torch"))
    assert f"CUDA available: {'yes' if torch.cuda.is_available() else 'no'}" in line


LIBRARY_ERRORS = """
import sys
from neuromem.backends import build
from neuromem.spec import LIFCurrExp, Network, Population, Probe

net = Network(populations=(Population("cells", LIFCurrExp(), size=2),), probes=(Probe("cells"),))
build(net, "brian2", dt=0.1)  # importing Brian2 installs its excepthook
if sys.argv[1] == "brian":
    import brian2
    brian2.ms + 1  # a unit error raised inside Brian2's own code
raise RuntimeError("an error that is not Brian's")
"""


@pytest.mark.brian2
@pytest.mark.parametrize("where", ["ours", "brian"])
def test_library_use_of_brian2_keeps_debug_logs_only_for_brian_errors(where: str, tmp_path: Path) -> None:
    pytest.importorskip("brian2")
    temp = tmp_path / "temp"
    temp.mkdir()
    env = {**os.environ, "TMPDIR": str(temp)}
    done = subprocess.run(
        [sys.executable, "-c", LIBRARY_ERRORS, where], capture_output=True, text=True, cwd=REPO, env=env, timeout=600
    )
    assert done.returncode == 1
    kept = sorted(p.name for p in temp.iterdir() if p.name.startswith("brian_debug"))
    if where == "ours":
        assert "RuntimeError: an error that is not Brian's" in done.stderr
        assert "Brian 2 encountered an unexpected error" not in done.stderr
        assert kept == []
    else:
        assert "DimensionMismatchError" in done.stderr
        assert "Brian 2 encountered an unexpected error" in done.stderr
        assert len(kept) == 1


SIGNED_PAIR = """
[network]
name = "pair"
scheme = "exact"

[run]
dt = 1.0

[[population]]
name = "stim"
cell = { type = "SpikeSourceArray", size = 2, neuron = [0, 1, 0], times_ms = [5.0, 10.0, 20.0] }

[[population]]
name = "cells"
size = 2
cell = { type = "IF_curr_delta", tau_refrac = 0.0, v_rest = -65.0, v_reset = -65.0 }

[[projection]]
name = "ff_exc"
pre = "stim"
post = "cells"
connector = { type = "AllToAll" }
weight = [3.0, 0.0, 1.0, 2.0]
delay = 1.0

[[projection]]
name = "ff_inh"
pre = "stim"
post = "cells"
connector = { type = "AllToAll" }
weight = [0.0, 4.0, 0.5, 0.0]
delay = 1.0
receptor = "inhibitory"
"""


def test_nir_export_writes_merged_pairs_for_a_loader(tmp_path: Path) -> None:
    nir = pytest.importorskip("nir")
    from neuromem.export.nir import to_nir
    from neuromem.spec.toml import read_model

    model = tmp_path / "pair.toml"
    model.write_text(SIGNED_PAIR)
    out = tmp_path / "out"
    flags = ["--merge", "--loader", "snntorch", "--outputs", "cells"]
    assert main(["export", str(model), "--to", "nir", "--out", str(out), *flags]) == 0
    graph = nir.read(str(out / "pair.nir"))
    expected = to_nir(read_model(model).network, 1.0, merge=True, loader="snntorch", outputs=("cells",))
    assert set(graph.nodes) == set(expected.nodes) and "ff_w" in graph.nodes and "ff_exc_w" not in graph.nodes
    np.testing.assert_array_equal(graph.nodes["ff_w"].weight, expected.nodes["ff_w"].weight)
    assert (graph.nodes["ff_w"].weight < 0).any()
    plain = tmp_path / "plain"
    assert main(["export", str(model), "--to", "nir", "--out", str(plain)]) == 0
    assert "ff_exc_w" in nir.read(str(plain / "pair.nir")).nodes
