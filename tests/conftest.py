"""Shared test settings: one torch thread, quiet Brian2.

Tests run on two cores shared with other jobs; torch's intra-op thread pool
then spends more time waiting for cores than computing (a 1,000-neuron run
took 30x longer with two threads on a loaded machine), so tests use one.
"""

from __future__ import annotations

import logging
import sys
from pathlib import Path

import pytest
import torch

torch.set_num_threads(1)

# Measurement code the experiment scripts share (``experiments/sparsey_protocols.py``) is tested
# as the scripts import it; appended, so it never shadows an installed module.
sys.path.append(str(Path(__file__).resolve().parents[1] / "experiments"))


@pytest.fixture(autouse=True)
def _quiet_brian2() -> None:
    """Brian2 logs every generated code object at DEBUG; keep its warnings only."""
    if "brian2" in sys.modules:
        logging.getLogger("brian2").setLevel(logging.WARNING)
