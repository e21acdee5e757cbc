"""What is installed here, found without importing it (``neuromem info``).

Versions come from the packages' metadata and presence from
:func:`importlib.util.find_spec`, so listing every optional part takes a
fraction of a second; importing torch, Brian2, NEST or sPyNNaker to ask would
take seconds each. Only :func:`describe` with ``devices=True`` imports torch.
"""

from __future__ import annotations

import ast
import importlib.metadata
import importlib.util
import platform
import sys
from pathlib import Path

import neuromem

#: The optional parts: (what for, distribution, module, extra that brings it).
PACKAGES = (
    ("backend brian2", "brian2", "brian2", "brian2"),
    ("export: PyNN", "pynn", "pyNN", "export"),
    ("export: NEST", "nest-simulator", "nest", "export"),
    ("export: sPyNNaker", "spynnaker", "spynnaker", "export"),
    ("export: NIR", "nir", "nir", "export"),
    ("NIR check: Norse", "norse", "norse", "dev"),
    ("plots: matplotlib", "matplotlib", "matplotlib", "plots"),
    ("data: scikit-learn", "scikit-learn", "sklearn", "data"),
    ("data: scipy", "scipy", "scipy", "data"),
)


def describe(devices: bool = False) -> list[str]:
    """The lines ``neuromem info`` prints: neuromem, Python, torch and every optional part with its version.

    Nothing is imported but, with ``devices``, torch (to ask CUDA which GPUs it can use).
    """
    lines = [f"neuromem {neuromem.__version__}, Python {platform.python_version()} ({sys.executable})"]
    lines.append(f"{'backend torch':<22}{_torch_line(devices)}")
    for what, distribution, module, extra in PACKAGES:
        if importlib.util.find_spec(module) is None:
            shown = f"not installed (pip install 'neuromem[{extra}]')"
        else:
            try:
                shown = importlib.metadata.version(distribution)
            except importlib.metadata.PackageNotFoundError:
                shown = "installed (version unknown)"
        lines.append(f"{what:<22}{shown}")
    return lines


def _torch_line(devices: bool) -> str:
    """torch's version and build, and the GPUs; only ``--devices`` imports torch (seconds) to ask CUDA itself."""
    if devices:
        import torch

        if not torch.cuda.is_available():
            return f"torch {torch.__version__}; CUDA available: no"
        names = ", ".join(torch.cuda.get_device_name(i) for i in range(torch.cuda.device_count()))
        return f"torch {torch.__version__}; CUDA available: yes ({names})"
    build = _torch_build()
    cuda = build.get("cuda")
    kind = f"CUDA {cuda} build" if cuda else ("CPU build" if "cuda" in build else "build unknown")
    gpus = Path("/proc/driver/nvidia/gpus")
    count = len(list(gpus.iterdir())) if gpus.is_dir() else 0
    seen = f"{count} NVIDIA GPU{'s' if count != 1 else ''} seen by the driver" if count else "no NVIDIA driver seen"
    return f"torch {build.get('__version__', '?')} ({kind}); {seen}; --devices asks CUDA itself"


def _torch_build() -> dict[str, object]:
    """The constants of ``torch/version.py``, read as text: importing torch takes seconds."""
    spec = importlib.util.find_spec("torch")
    locations = spec.submodule_search_locations if spec is not None else None
    if not locations:
        return {}
    try:
        tree = ast.parse((Path(list(locations)[0]) / "version.py").read_text())
    except (OSError, SyntaxError, ValueError):
        return {}
    found: dict[str, object] = {}
    for node in tree.body:
        target = node.targets[0] if isinstance(node, ast.Assign) else getattr(node, "target", None)
        value = getattr(node, "value", None)
        if isinstance(target, ast.Name) and isinstance(value, ast.Constant):
            found[target.id] = value.value
    return found


__all__ = ["PACKAGES", "describe"]
