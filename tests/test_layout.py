"""Model files and experiment configurations: each file is read by its own loader."""

from __future__ import annotations

from pathlib import Path

import pytest

from neuromem.cli import main
from neuromem.errors import ValidationError
from neuromem.models.hlop.experiment import load_experiment
from neuromem.spec.toml import read_model

REPO = Path(__file__).resolve().parents[1]
#: Model files `neuromem run` runs: name -> (populations, neurons).
NETWORKS = {"demo_recurrent": (3, 900), "ca3_model": (10, 86)}
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
