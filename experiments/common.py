"""What the experiment scripts share: their metrics file, written atomically.

The scripts run as ``python experiments/<name>.py``, so this folder is on
their import path and ``from common import write_metrics`` finds this file.
"""

from __future__ import annotations

import json
from pathlib import Path

from neuromem.spec.io import atomic_write


def write_metrics(metrics: dict[str, object], out: Path) -> Path:
    """``out/metrics.json`` (sorted keys, indented), written atomically; returns its path."""
    path = Path(out) / "metrics.json"
    atomic_write(path, lambda f: f.write(json.dumps(metrics, indent=1, sort_keys=True).encode()))
    return path
