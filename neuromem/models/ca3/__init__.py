"""The CA3 spiking content-addressable memory (Casanueva-Morato et al., Neural Networks 178:106474, 2024).

Addresses are one-hot cues; a content is a set of bits. The memory learns an
address-content pair in one 3-tick write, recalls the content from its
address, returns every address whose content shares a bit with a fragment,
and forgets an old content when its address is overwritten, all by the
plasticity rule R* on two plastic all-to-all projections (spec ``ca3.md``).

Modules, one job each:

- :mod:`~neuromem.models.ca3.params`    parameter sets from ``models/ca3_*.toml`` (``tables``: their rule tables)
- :mod:`~neuromem.models.ca3.timing`    input offsets, answer windows and spacing of the operations
- :mod:`~neuromem.models.ca3.network`   the network description (3n + 4m + 1 neurons + harness), sizes
- :mod:`~neuromem.models.ca3.protocol`  operations -> input spikes, output spikes -> answers
- :mod:`~neuromem.models.ca3.memory`    ``CA3Memory``: store / recall, batched, one timeline (``timeline``: its helpers)
- :mod:`~neuromem.models.ca3.storage`   ``CA3Memory`` files: one checked ``.npz``
- :mod:`~neuromem.models.ca3.portable`  the set for NEST and Brian2 through PyNN: derivation and runs
- :mod:`~neuromem.models.ca3.hippocampus` the other sPyMem memories: CA3 only, DG-CA3-CA1 (two DGs)
- :mod:`~neuromem.models.ca3.sibling`   the CA3 core of the sibling DG-CA3-CA1 model
- :mod:`~neuromem.models.ca3.gold`      loaders of the recorded SpiNNaker runs, spike comparison
- :mod:`~neuromem.models.ca3.replay`    replays of the recorded runs on a backend
- :mod:`~neuromem.models.ca3.export`    the model through PyNN and the virtual SpiNNaker mapping, against the gold
- :mod:`~neuromem.models.ca3.scenarios` operation lists of the three published experiments, their labels

The published experiments' runs and figures live outside the model: :mod:`neuromem.demo`
(the run with gold comparison and figures), :mod:`neuromem.plot` and ``experiments/ca3_*.py``.

Example
-------
>>> mem = CA3Memory(n=4, m=6)
>>> _ = mem.store(2, [0, 3])
>>> mem.recall_by_address(2)[0].content
(0, 3)
"""

from __future__ import annotations

from neuromem.models.ca3.hippocampus import ARCHITECTURES, build_architecture
from neuromem.models.ca3.memory import CA3Memory
from neuromem.models.ca3.network import (
    CONTENT_TO_CUE,
    CUE_TO_CONTENT,
    NEURON_SETS,
    Structure,
    build_network,
    estimate_bytes,
    internal_synapse_count,
    population_sizes,
    structure,
)
from neuromem.models.ca3.params import CA3Params, load_params
from neuromem.models.ca3.protocol import (
    Answer,
    Echo,
    Operation,
    decode,
    encode,
    ideal_answers,
    place,
    schedule,
    wrong_answers,
)
from neuromem.models.ca3.sibling import build_sibling_network
from neuromem.models.ca3.timing import KINDS, Timing

__all__ = [
    "ARCHITECTURES",
    "CONTENT_TO_CUE",
    "CUE_TO_CONTENT",
    "KINDS",
    "NEURON_SETS",
    "Answer",
    "CA3Memory",
    "CA3Params",
    "Echo",
    "Operation",
    "Structure",
    "Timing",
    "build_architecture",
    "build_network",
    "build_sibling_network",
    "decode",
    "encode",
    "estimate_bytes",
    "ideal_answers",
    "internal_synapse_count",
    "load_params",
    "place",
    "population_sizes",
    "schedule",
    "structure",
    "wrong_answers",
]
