"""PyNN's own system scenarios, called with ``sim=neuromem.pynn``: each passes or is refused as the table says.

The scenarios are read from PyNN's source distribution, never copied here:

* ``NEUROMEM_PYNN_SCENARIOS=/path/to/pynn-0.13.0/test/system/scenarios`` names them
  (a folder without them fails the run);
* otherwise ``.ci/cache/pynn-0.13.0/test/system/scenarios`` is used, fetched there
  from the package registry on first use (``pip download --no-deps --no-binary :all:
  pynn==0.13.0``, then unpacked). Where the registry cannot be reached the tests
  skip with that command, except under ``CI=1``, where they fail.

Each scenario runs in its own temporary folder (some write files).
"""

from __future__ import annotations

import importlib
import importlib.util
import os
import subprocess
import sys
import tarfile
from pathlib import Path
from types import ModuleType

import pytest

pytest.importorskip("pyNN")

from scenario_table import SCENARIOS, SLOW, summary  # noqa: E402

import neuromem.pynn as sim  # noqa: E402

ENV = "NEUROMEM_PYNN_SCENARIOS"
CACHE = Path(__file__).resolve().parents[2] / ".ci" / "cache" / "pynn-0.13.0" / "test" / "system" / "scenarios"
DOWNLOAD = (
    "pip download --no-deps --no-binary :all: pynn==0.13.0 -d .ci/cache && tar -xzf .ci/cache/pynn-0.13.0.tar.gz"
    " -C .ci/cache"
)


def scenario_folder() -> Path:
    """Where PyNN's scenarios are: the named folder, the cache, or a fresh download into the cache."""
    named = os.environ.get(ENV)
    if named:
        folder = Path(named)
        if not (folder / "fixtures.py").is_file():
            pytest.fail(f"{ENV}={named} holds no PyNN scenarios (no fixtures.py); fetch them with: {DOWNLOAD}")
        return folder
    if not (CACHE / "fixtures.py").is_file():
        _fetch_into_cache()
    return CACHE


def _fetch_into_cache() -> None:
    """Download PyNN's source distribution from the registry and unpack it under ``.ci/cache``."""
    cache = CACHE.parents[3]
    cache.mkdir(parents=True, exist_ok=True)
    command = [sys.executable, "-m", "pip", "download", "-q", "--no-deps", "--no-binary", ":all:"]
    done = subprocess.run([*command, "pynn==0.13.0", "-d", str(cache)], capture_output=True, text=True)
    archive = cache / "pynn-0.13.0.tar.gz"
    if done.returncode != 0 or not archive.is_file():
        message = f"PyNN's system scenarios could not be fetched ({done.stderr.strip()[-300:]}); run: {DOWNLOAD}"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    with tarfile.open(archive) as tar:
        tar.extractall(cache, filter="data")


def load_package(folder: Path) -> ModuleType:
    """Import the scenarios folder as the package ``pynn_scenarios`` (they import each other relatively)."""
    if "pynn_scenarios" in sys.modules:
        return sys.modules["pynn_scenarios"]
    spec = importlib.util.spec_from_file_location(
        "pynn_scenarios", folder / "__init__.py", submodule_search_locations=[str(folder)]
    )
    assert spec is not None and spec.loader is not None
    package = importlib.util.module_from_spec(spec)
    sys.modules["pynn_scenarios"] = package
    spec.loader.exec_module(package)
    return package


def scenario_functions(folder: Path) -> dict[str, object]:
    """Every function PyNN marks to run with simulators, as ``module::function``."""
    load_package(folder)
    found = {}
    for path in sorted(folder.glob("test_*.py")):
        module = importlib.import_module(f"pynn_scenarios.{path.stem}")
        for name, function in vars(module).items():
            if callable(function) and hasattr(function, "pytestmark"):
                found[f"{path.stem}::{name}"] = function
    return found


def test_every_scenario_of_the_distribution_is_in_the_table() -> None:
    found = scenario_functions(scenario_folder())
    assert sorted(found) == sorted(SCENARIOS), (
        f"new: {sorted(set(found) - set(SCENARIOS))}, gone: {sorted(set(SCENARIOS) - set(found))}"
    )


def test_summary_counts() -> None:
    counts = summary()
    assert counts == {"pass": 37, "refused": 29, "skips": 1, "total": 67}


@pytest.mark.parametrize("name", sorted(SCENARIOS))
def test_scenario(name: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    if name in SLOW and not os.environ.get("NEUROMEM_PYNN_SLOW"):
        pytest.skip(f"slow: {SLOW[name]} (set NEUROMEM_PYNN_SLOW=1)")
    function = scenario_functions(scenario_folder())[name]
    outcome = SCENARIOS[name]
    monkeypatch.chdir(tmp_path)
    if outcome.kind == "refused":
        with pytest.raises(NotImplementedError, match=outcome.match):
            function(sim)  # type: ignore[operator]
    else:
        function(sim)  # type: ignore[operator]
