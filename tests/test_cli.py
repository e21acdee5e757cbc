"""The command line: run, validate, info, and its errors."""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
import pytest
from tiny_models import tiny_model_toml

from neuromem.cli import main
from neuromem.errors import ValidationError
from neuromem.record import Recording
from neuromem.spec.toml import read_model

REPO = Path(__file__).resolve().parents[1]

SMALL_MODEL = tiny_model_toml(50.0)


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "model.toml"
    path.write_text(text)
    return path


def test_run_writes_recording_raster_and_summary(tmp_path: Path) -> None:
    model = write(tmp_path, SMALL_MODEL)
    out = tmp_path / "out"
    assert main(["run", str(model), "--out", str(out)]) == 0
    summary = json.loads((out / "summary.json").read_text())
    recording = Recording.load(out / "recording.npz")
    assert (out / "raster.png").stat().st_size > 1000
    # Input at 5 ms, delay 2 ms: the current jumps at tick 7, the neuron fires at tick 8.
    assert 8 in recording.spikes_of("cells").tick.tolist()
    assert summary["spikes"]["stim"] == 3


def test_run_reports_a_bad_model_file_with_exit_status_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    model = write(tmp_path, SMALL_MODEL.replace("weight = 60.0", "weight = -1.0"))
    assert main(["run", str(model), "--out", str(tmp_path / "out")]) == 2
    assert "weight" in capsys.readouterr().err
    assert not (tmp_path / "out").exists()


def test_model_file_with_unknown_key_names_the_key(tmp_path: Path) -> None:
    model = write(tmp_path, SMALL_MODEL.replace("delay = 2.0", "delay = 2.0\ndelai = 3.0"))
    with pytest.raises(ValidationError, match="delai"):
        read_model(model)


def test_model_file_cannot_name_an_unregistered_type(tmp_path: Path) -> None:
    model = write(tmp_path, SMALL_MODEL.replace('type = "OneToOne"', 'type = "os.system"'))
    with pytest.raises(ValidationError, match="unknown spec type 'os.system'"):
        read_model(model)


def test_demo_model_of_the_repository_is_valid(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["validate", str(REPO / "models" / "demo_recurrent.toml")]) == 0
    assert "valid" in capsys.readouterr().out


def test_per_synapse_weights_from_toml_lists(tmp_path: Path) -> None:
    model = write(tmp_path, SMALL_MODEL.replace("weight = 60.0", "weight = [60.0, 1.0]"))
    network = read_model(model).network
    assert np.array_equal(network.connection_list("drive").weight, [60.0, 1.0])


def test_export_to_pynn_writes_a_standalone_script(tmp_path: Path) -> None:
    model = write(tmp_path, SMALL_MODEL)
    out = tmp_path / "exported"
    assert main(["export", str(model), "--to", "pynn", "--out", str(out)]) == 0
    assert {p.name for p in out.iterdir()} >= {"run.py", "plan.json", "arrays.npz"}
    script = (out / "run.py").read_text()
    assert not re.search(r"^\s*(import|from)\s+neuromem", script, flags=re.MULTILINE)
