"""The CA3 spiking content-addressable memory (Casanueva-Morato et al., 2024)."""

from __future__ import annotations
