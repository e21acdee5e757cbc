"""The recorded gold and the digit sample ship inside the package and are complete."""

from __future__ import annotations

import json

import numpy as np
import pytest

from neuromem.data import load_mnist10k
from neuromem.errors import FileFormatError
from neuromem.models.ca3.gold import CAM_RUNS, SIBLING_RUNS, load_run
from neuromem.resources import resource_path


@pytest.mark.parametrize("run", CAM_RUNS + SIBLING_RUNS)
def test_bundled_recording_holds_every_spike_the_manifest_counts(run: str) -> None:
    manifest = json.loads((resource_path("ca3_spinnaker") / "manifest.json").read_text())["files"][run]
    recorded = load_run(run)
    counts = {name: len(spikes) for name, spikes in recorded.spikes.items()}
    assert counts == {k: v for k, v in manifest["spikes_per_population"].items() if v}
    assert recorded.spike_count() == manifest["n_spikes"]
    assert recorded.input_line.size == manifest["n_input_spikes"]
    assert len(recorded.operations) == manifest["n_operations"]
    assert (recorded.n, recorded.m, recorded.sim_time) == (manifest["n"], manifest["m"], manifest["simTime"])


def test_bundled_recordings_keep_their_attribution_and_licence() -> None:
    readme = (resource_path("ca3_spinnaker") / "README.md").read_text()
    assert "Casanueva-Morato" in readme and "GPL" in readme


def test_bundled_mnist_sample_has_ten_thousand_labelled_digits() -> None:
    images, labels = load_mnist10k()
    assert images.shape == (10_000, 28, 28) and images.dtype == np.uint8
    assert np.bincount(labels).tolist() == [1001, 1127, 991, 1032, 980, 863, 1014, 1070, 944, 978]


def test_data_folder_override_and_unknown_names(tmp_path, monkeypatch) -> None:
    with pytest.raises(FileFormatError, match="unknown bundled data set"):
        resource_path("cifar")
    copy = tmp_path / "ca3_spinnaker"
    copy.mkdir()
    (copy / "manifest.json").write_text("{}")
    monkeypatch.setenv("NEUROMEM_DATA", str(tmp_path))
    assert resource_path("ca3_spinnaker") == copy
    assert resource_path("mnist10k").name == "mnist10k"  # falls back to the bundled copy
