"""``import pyNN.neuromem``: the name PyNN scripts use, without writing into PyNN's package.

PyNN finds a simulator as the submodule ``pyNN.<name>``. A finder on
``sys.meta_path`` answers for ``pyNN.neuromem`` with this package itself, so
``pyNN.neuromem is neuromem.pynn``. The finder is installed by
``import neuromem.pynn`` and by the script runner ``python -m neuromem.pynn``;
nothing is installed into PyNN, and no code runs at interpreter start-up.
"""

from __future__ import annotations

import importlib.abc
import importlib.machinery
import importlib.util
import sys
from types import ModuleType

NAME = "pyNN.neuromem"


class _Loader(importlib.abc.Loader):
    def create_module(self, spec: importlib.machinery.ModuleSpec) -> None:
        return None

    def exec_module(self, module: ModuleType) -> None:
        import neuromem.pynn

        # The import system returns what sys.modules holds after exec_module: the real package.
        sys.modules[module.__name__] = neuromem.pynn


class PyNNNameFinder(importlib.abc.MetaPathFinder):
    """Finds ``pyNN.neuromem`` (and nothing else)."""

    def find_spec(
        self, fullname: str, path: object = None, target: ModuleType | None = None
    ) -> importlib.machinery.ModuleSpec | None:
        if fullname != NAME:
            return None
        return importlib.util.spec_from_loader(fullname, _Loader())


def install() -> None:
    """Put the finder on ``sys.meta_path`` once."""
    if not any(isinstance(finder, PyNNNameFinder) for finder in sys.meta_path):
        sys.meta_path.append(PyNNNameFinder())


__all__ = ["NAME", "PyNNNameFinder", "install"]
