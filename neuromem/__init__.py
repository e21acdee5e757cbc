"""neuromem: spiking memory models defined once, run on torch and Brian2, exported to PyNN."""

from __future__ import annotations

__version__ = "0.1.0"
