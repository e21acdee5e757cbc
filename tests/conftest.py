"""Shared test settings: one torch thread, and where the shared data lives.

Tests run on two cores shared with other jobs; torch's intra-op thread pool
then spends more time waiting for cores than computing (a 1,000-neuron run
took 30x longer with two threads on a loaded machine), so tests use one.
"""

from __future__ import annotations

import logging
import os
import sys
from pathlib import Path

import pytest
import torch

torch.set_num_threads(1)


@pytest.fixture(autouse=True)
def _quiet_brian2() -> None:
    """Brian2 logs every generated code object at DEBUG; keep its warnings only."""
    if "brian2" in sys.modules:
        logging.getLogger("brian2").setLevel(logging.WARNING)


def shared_folder() -> Path:
    """The shared design/data folder: ``$NEUROMEM_SHARED`` or ``<repo>/../shared``."""
    if "NEUROMEM_SHARED" in os.environ:
        return Path(os.environ["NEUROMEM_SHARED"])
    return Path(__file__).resolve().parents[1] / ".." / "shared"


@pytest.fixture
def shared_dir() -> Path:
    """The shared folder; the test is skipped when it is absent."""
    folder = shared_folder()
    if not folder.is_dir():
        pytest.skip(f"shared folder {folder} is absent")
    return folder
