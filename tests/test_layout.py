"""Model files, parameter sets and experiment configurations: each file is read by its own loader,
and every model file runs through ``neuromem run`` with spikes in every probed population."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from neuromem.cli import main
from neuromem.errors import ValidationError
from neuromem.models.ca3 import load_params
from neuromem.models.ca3.params import PARAMETERS_DIR
from neuromem.models.ca3.program import default_program, program_network
from neuromem.models.hlop.experiment import load_experiment
from neuromem.models.sparsey.presets import load_network, load_preset
from neuromem.record import Recording
from neuromem.spec.toml import read_model

REPO = Path(__file__).resolve().parents[1]
#: Model files `neuromem run` runs: name -> (populations, neurons).
NETWORKS = {"demo_recurrent": (3, 900), "ca3_model": (10, 86), "microcircuit": (16, 74466)}
#: Short runs of each model file: (duration in ms, replacements in the file that shrink it for a test).
RUNS = {
    "demo_recurrent": (100.0, {}),
    "ca3_model": (90.0, {}),
    # The same file at a fiftieth of the neurons and a twentieth of the in-degrees (the full 0.1 scale
    # builds 3 million synapses); weights and the DC drive compensate as the builder documents.
    "microcircuit": (100.0, {"\nscale = 0.1": "\nscale = 0.02", "\nk_scale = 0.1": "\nk_scale = 0.05"}),
}
#: The CA3 functional test (models/ca3_model.toml): spikes per population on the recorded SpiNNaker run.
CA3_SPIKES = {"CueCue": 10, "ContCue": 42, "CueCont": 15, "ContCont": 34, "OUT": 57}
#: Experiment configurations and the hidden sizes of their full and quick forms.
HLOP_CONFIGS = {"hlop_pmnist": ((256, 256), (64, 64)), "hlop_split": ((256, 256), (64, 64))}


@pytest.mark.parametrize("name", sorted(NETWORKS))
def test_model_files_are_networks_the_cli_validates(name: str, capsys: pytest.CaptureFixture[str]) -> None:
    path = REPO / "models" / f"{name}.toml"
    model = read_model(path)
    populations, neurons = NETWORKS[name]
    assert len(model.network.populations) == populations
    assert sum(model.network.size(p.name) for p in model.network.populations) == neurons
    assert main(["validate", str(path)]) == 0
    assert f"{populations} populations, {neurons} neurons" in capsys.readouterr().out


def test_every_model_file_is_covered_here() -> None:
    assert {p.stem for p in (REPO / "models").glob("*.toml")} == set(NETWORKS) == set(RUNS)


@pytest.mark.parametrize("name", sorted(RUNS))
def test_every_model_file_runs_through_the_cli_and_every_population_spikes(name: str, tmp_path: Path) -> None:
    duration, shrink = RUNS[name]
    text = (REPO / "models" / f"{name}.toml").read_text()
    for old, new in shrink.items():
        assert old in text, f"models/{name}.toml no longer holds {old!r}"
        text = text.replace(old, new)
    path = tmp_path / f"{name}.toml"
    path.write_text(text)
    out = tmp_path / "out"
    assert main(["run", str(path), "--duration", str(duration), "--no-plot", "--out", str(out)]) == 0
    summary = json.loads((out / "summary.json").read_text())
    recording = Recording.load(out / "recording.npz")
    assert summary["duration_ms"] == duration and recording.stop_tick * recording.dt == pytest.approx(duration)
    silent = [p for p, count in summary["spikes"].items() if count == 0]
    assert summary["spikes"] and not silent, f"{name}: silent populations {silent}"
    assert {p: len(recording.spikes_of(p)) for p in recording.spikes} == summary["spikes"]
    if name == "ca3_model":
        # The file's program is the paper's functional test: the spikes of the recorded run.
        assert {p: summary["spikes"][p] for p in CA3_SPIKES} == CA3_SPIKES


def test_ca3_builder_without_operations_plays_the_default_program() -> None:
    ops = default_program(5, 10)
    assert [(op.kind, op.address, op.content) for op in ops] == [
        ("store", 0, (0, 1, 3)),
        ("store", 1, (1, 2, 4)),
        ("store", 2, (2, 3, 5)),
        ("recall_by_address", 0, ()),
        ("recall_by_address", 1, ()),
        ("recall_by_address", 2, ()),
        ("recall_by_content", None, (1,)),
    ]
    lines = program_network(5, 10).population("IN").cell.spike_lists()
    # Address 0 is written at 0-2 ms and recalled after the three stores (7 ms apart): t0 = 21 ms.
    assert lines[0] == [0.0, 1.0, 2.0, 21.0]
    assert sum(len(times) for times in lines) == 3 * 3 + 3 * 3 * 3 + 3 + 1


@pytest.mark.parametrize(
    ("operations", "message"),
    [
        ([{"kind": "store", "address": 5, "content": [1]}], "operation 0: store operation: address 5 is outside 0..4"),
        ([{"kind": "store", "address": 0}], "operation 0: a store needs content"),
        ([{"kind": "recall", "address": 0}], "operation 0: Operation: kind = 'recall'; allowed"),
        ([{"kind": "store", "address": 0, "content": [1], "when": 3}], "unknown keys \\['when'\\]"),
        (
            [
                {"kind": "store", "address": 0, "content": [1], "t0": 0},
                {"kind": "recall_by_address", "address": 0, "t0": 3},
            ],
            "only 3 ms after the store",
        ),
        ("store 0", "must be a list of tables"),
    ],
)
def test_ca3_program_refuses_bad_operations(operations: object, message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        program_network(5, 10, operations=operations)  # type: ignore[arg-type]


def test_model_file_with_a_bad_operation_is_refused_naming_it(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "bad.toml"
    path.write_text(
        '[model]\nbuilder = "ca3"\nn = 5\nm = 10\noperations = [{ kind = "store", address = 7, content = [1] }]\n'
    )
    assert main(["validate", str(path)]) == 2
    assert "[model]: CA3 program: operation 0: store operation: address 7 is outside 0..4" in capsys.readouterr().err


@pytest.mark.parametrize("path", sorted(PARAMETERS_DIR.glob("*.toml")), ids=lambda p: p.stem)
def test_shipped_parameter_sets_are_read_by_their_model_loader_not_by_the_cli(
    path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    model, _, name = path.stem.partition("_")
    if model == "ca3":
        params = load_params(name)
        assert params.name == name and params.dt_ms > 0
        assert np.isfinite(params.timing.spacing_after_store_ms)
    elif name.startswith("net_"):
        preset = load_network(name.removeprefix("net_"))
        assert preset.name == name.removeprefix("net_") and len(preset.levels) >= 1
    else:
        assert model == "sparsey"
        assert load_preset(name).g_floor >= 0.0
    assert main(["validate", str(path)]) == 2
    assert "unknown keys" in capsys.readouterr().err
    assert not (REPO / "models" / path.name).exists()


@pytest.mark.parametrize("name", sorted(HLOP_CONFIGS))
def test_experiment_configs_are_read_by_their_experiment_loader(name: str) -> None:
    path = REPO / "experiments" / "configs" / f"{name}.toml"
    full, _ = load_experiment(path, quick=False)
    quick, _ = load_experiment(path, quick=True)
    assert (full.network.hidden, quick.network.hidden) == HLOP_CONFIGS[name]
    assert not (REPO / "models" / f"{name}.toml").exists()


@pytest.mark.parametrize("name", sorted(HLOP_CONFIGS))
def test_experiment_configs_are_not_network_files(name: str, capsys: pytest.CaptureFixture[str]) -> None:
    path = REPO / "experiments" / "configs" / f"{name}.toml"
    with pytest.raises(ValidationError, match="unknown keys"):
        read_model(path)
    assert main(["run", str(path), "--out", str(REPO / "results" / "never")]) == 2
    assert "unknown keys" in capsys.readouterr().err
    assert not (REPO / "results" / "never").exists()


def test_every_experiment_config_is_covered_here() -> None:
    found = {p.stem for p in (REPO / "experiments" / "configs").glob("*.toml")}
    assert found == set(HLOP_CONFIGS)
