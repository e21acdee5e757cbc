"""What a user installing neuromem gets: ranges (not pins) for the core, the heavy parts as extras,
and every shipped data file inside the wheel's package data."""

from __future__ import annotations

import fnmatch
import re
import tomllib
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
PROJECT = tomllib.loads((REPO / "pyproject.toml").read_text())


def test_core_dependencies_are_ranges_that_keep_an_existing_torch() -> None:
    project = PROJECT["project"]
    assert project["requires-python"] == ">=3.11,<3.14"
    core = {re.split(r"[<>=!~ ]", d, maxsplit=1)[0].lower(): d for d in project["dependencies"]}
    assert set(core) == {"torch", "numpy", "snntorch", "tqdm"}
    assert not [d for d in core.values() if "==" in d], "the core must not pin exact versions"
    assert core["torch"] == "torch>=2.11"  # the oldest torch the engine runs on
    assert not {"brian2", "matplotlib", "scipy", "pynn"} & set(core)


def test_heavy_parts_are_extras() -> None:
    extras = PROJECT["project"]["optional-dependencies"]
    assert {"brian2", "export", "data", "plots", "docs", "dev", "all"} <= set(extras)
    assert any(d.startswith("brian2") for d in extras["brian2"])
    assert any(d.startswith("matplotlib") for d in extras["plots"])
    assert {"pynn", "nest-simulator", "spynnaker", "nir"} <= {re.split(r"[<>=!~ ]", d)[0] for d in extras["export"]}


def test_every_shipped_resource_file_is_package_data() -> None:
    patterns = PROJECT["tool"]["setuptools"]["package-data"]["neuromem.resources"]
    root = REPO / "neuromem" / "resources"
    files = [p.relative_to(root).as_posix() for p in root.rglob("*") if p.is_file() and p.suffix != ".py"]
    files = [f for f in files if "__pycache__" not in f]
    assert {"parameters/ca3_spinnaker.toml", "parameters/sparsey_sisc.toml"} <= set(files)

    def shipped(name: str, pattern: str) -> bool:  # setuptools' glob: "*" stays within one folder
        return name.count("/") == pattern.count("/") and fnmatch.fnmatch(name, pattern)

    missing = [f for f in files if not any(shipped(f, p) for p in patterns)]
    assert missing == [], f"not in the wheel: {missing}"
