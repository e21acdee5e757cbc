"""A two-neuron model file the command-line tests run: two spike-array inputs driving two cells."""

from __future__ import annotations


def tiny_model_toml(duration_ms: float) -> str:
    """The model file's text; the run lasts ``duration_ms`` (ms)."""
    return f"""
[network]
name = "tiny"
scheme = "exact"

[run]
dt = 1.0
duration = {duration_ms!r}

[[population]]
name = "stim"
cell = {{ type = "SpikeSourceArray", size = 2, neuron = [0, 1, 0], times_ms = [5.0, 10.0, 20.0] }}

[[population]]
name = "cells"
size = 2
cell = {{ type = "LIFCurrExp", tau_refrac = 1.0 }}

[[projection]]
name = "drive"
pre = "stim"
post = "cells"
connector = {{ type = "OneToOne" }}
weight = 60.0
delay = 2.0
"""
