"""The README's promises: every dotted name it mentions exists, its Python examples run and say what it says."""

from __future__ import annotations

import importlib
import re
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
README = (REPO / "README.md").read_text(encoding="utf-8")


def _resolve(dotted: str) -> object:
    """The module or attribute ``dotted`` names (the longest importable module prefix, then attributes)."""
    parts = dotted.split(".")
    for cut in range(len(parts), 0, -1):
        try:
            obj: object = importlib.import_module(".".join(parts[:cut]))
        except ModuleNotFoundError:
            continue
        for attribute in parts[cut:]:
            obj = getattr(obj, attribute)
        return obj
    raise ModuleNotFoundError(dotted)


NAMES = sorted(set(re.findall(r"\bneuromem(?:\.[A-Za-z_][A-Za-z_0-9]*)+", README)))


def test_the_readme_mentions_the_public_entry_points() -> None:
    # The names the newcomer is pointed at, among them the export function that once lived elsewhere.
    assert {"neuromem.export.write_pynn_script", "neuromem.models.ca3", "neuromem.spec"} <= set(NAMES)


@pytest.mark.parametrize("dotted", NAMES)
def test_every_dotted_name_in_the_readme_resolves(dotted: str) -> None:
    if dotted.startswith("neuromem.plot"):
        pytest.importorskip("matplotlib")
    if dotted.startswith("neuromem.pynn"):
        pytest.importorskip("pyNN")
    assert _resolve(dotted) is not None


def test_double_precision_is_documented_where_build_is() -> None:
    from neuromem.backends import build

    assert 'dtype="float64"' in README
    assert "dtype" in (build.__doc__ or "")


def _python_blocks() -> list[str]:
    return re.findall(r"```python\n(.*?)```", README, flags=re.DOTALL)


def test_the_ten_line_network_runs_as_the_readme_says(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    block = next(b for b in _python_blocks() if "SpikeSourcePoisson" in b)
    monkeypatch.chdir(tmp_path)
    scope: dict[str, object] = {}
    exec(compile(block, "README.md", "exec"), scope)  # noqa: S102 - the README's own example
    rates = scope["recording"].rates_hz("cells")  # type: ignore[attr-defined]
    # "about 12" Hz per trial, 32 trials.
    assert rates.shape == (32,) and 8.0 <= float(rates.mean()) <= 16.0


def test_the_ca3_example_answers_as_its_comments_say(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    block = next(b for b in _python_blocks() if "CA3Memory" in b)
    monkeypatch.chdir(tmp_path)
    scope: dict[str, object] = {}
    checked = 0
    for line in block.splitlines():
        code, _, comment = line.partition("#")
        expected = re.match(r"\s*(\([\d, ]*\))", comment)
        if expected:  # an expression whose value the comment states, evaluated once
            assert repr(eval(code, scope)) == expected.group(1), line  # noqa: S307
            checked += 1
        else:
            exec(compile(code, "README.md", "exec"), scope)  # noqa: S102 - the README's own example
    assert checked == 3
    assert (tmp_path / "memory.json").exists() or (tmp_path / "memory.npz").exists()


def _paths() -> list[str]:
    """Repository paths the README names in backticks (``a/{b,c}.toml`` stands for both files)."""
    names = set()
    for token in re.findall(r"`([A-Za-z0-9_./{},-]+/[A-Za-z0-9_./{},-]+\.(?:py|toml|txt|md))`", README):
        braces = re.search(r"\{([^}]*)\}", token)
        options = braces.group(1).split(",") if braces else [""]
        names |= {token.replace(braces.group(0), o) if braces else token for o in options}
    return sorted(names)


def test_every_repository_path_in_the_readme_exists() -> None:
    paths = _paths()
    assert "models/ca3_model.toml" in paths and "neuromem/resources/parameters/sparsey_sisc.toml" in paths
    assert [p for p in paths if not (REPO / p).is_file()] == []
