"""Sphinx configuration of the neuromem documentation (``sphinx -W -b html docs docs/_build/html``).

Pages are MyST markdown; tutorials are MyST notebooks that myst-nb executes on every build, so a
tutorial that stops working fails the build. The API reference is generated from the numpydoc
docstrings by autodoc/autosummary (napoleon reads the numpydoc sections).
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
# The executed tutorials run in a kernel started from their folder: they import this tree too.
os.environ["PYTHONPATH"] = os.pathsep.join(filter(None, (str(ROOT), os.environ.get("PYTHONPATH"))))

import neuromem  # noqa: E402


def _remove_generated_pages() -> None:
    """autosummary writes one page per module into ``api/generated`` (git-ignored) on every build but never
    removes the page of a module that no longer exists, and a stale package page even lists it again, which
    fails the ``-W`` build. The pages are this build's own output: start from none."""
    for page in (ROOT / "docs" / "api" / "generated").glob("neuromem*.rst"):
        page.unlink()


_remove_generated_pages()

project = "neuromem"
author = "the neuromem developers"
copyright = "2026, the neuromem developers"
release = version = neuromem.__version__

extensions = [
    "myst_nb",
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
    "sphinx.ext.napoleon",
    "sphinx.ext.mathjax",
    "sphinx.ext.viewcode",
]
exclude_patterns = ["_build", "**.ipynb_checkpoints", "README.md"]
root_doc = "index"

# MyST: $...$ math, ::: fences, heading anchors for cross-page links.
myst_enable_extensions = ["dollarmath", "colon_fence", "deflist"]
myst_heading_anchors = 3

# Notebooks: executed on every build, in order; an error in a cell fails the build.
nb_execution_mode = "force"
nb_execution_timeout = 600
nb_execution_raise_on_error = True
nb_execution_show_tb = True
nb_merge_streams = True

# API reference.
autosummary_generate = True
autosummary_imported_members = False
autodoc_default_options = {"members": True, "show-inheritance": False, "member-order": "bysource"}
autodoc_typehints = "description"
autodoc_typehints_format = "short"
autodoc_preserve_defaults = True
autodoc_member_order = "bysource"
# Methods that override a library method without a docstring of their own (torch.autograd.Function.forward)
# would otherwise show the library's text, whose cross-references point into its own documentation.
autodoc_inherit_docstrings = False
napoleon_google_docstring = False
napoleon_numpy_docstring = True
napoleon_use_rtype = False
napoleon_preprocess_types = False
add_module_names = False

html_theme = "furo"
html_title = f"neuromem {release}"
html_static_path: list[str] = []
templates_path = ["_templates"]


def _skip_generated_matplotlib_members(app: object, what: str, name: str, obj: object, skip: bool, options: object):
    """matplotlib gives every Figure subclass (``neuromem.plot.PngFigure``) a generated ``set``
    whose docstring uses matplotlib's own Sphinx roles; it is matplotlib's API, documented there."""
    if getattr(obj, "__module__", None) == "matplotlib.artist":
        return True
    return None


def setup(app: object) -> None:
    app.connect("autodoc-skip-member", _skip_generated_matplotlib_members)  # type: ignore[attr-defined]
