"""The other sPyMem memories on the CAM's parts: CA3 only, DG-CA3-CA1 (decoder) and DG-CA3-CA1 (bio-inspired).

The decoder variant is the model of the four recorded sibling runs: every recorded spike of every
population (DG, CA3cue, CA3cont, CA1, OUT; 399 spikes) is replayed at its tick.
"""

from __future__ import annotations

import numpy as np
import pytest

from neuromem.backends import build
from neuromem.errors import CapabilityError, ValidationError
from neuromem.models.ca3 import CA3Memory, Operation, encode, place, wrong_answers
from neuromem.models.ca3.gold import SIBLING_RUNS, compare, load_run
from neuromem.models.ca3.hippocampus import ARCHITECTURES, build_architecture, timing
from neuromem.models.ca3.scenarios import random_program, wrong_recalls

RECORDED = ("DG", "CA3cue", "CA3cont", "CA1", "OUT")
COUNTS = {"sib_run1": 29, "sib_run2": 48, "sib_run3": 94, "sib_run4": 228}


@pytest.mark.parametrize("run", SIBLING_RUNS)
def test_decoder_model_replays_every_recorded_spike_of_every_population(run):
    recorded = load_run(run)
    net = build_architecture("dg_ca3_ca1", recorded.n, recorded.m, inputs=recorded.inputs(0, 3 + recorded.m))
    recording = build(net, "torch", dt=1.0, dtype="float64").run(float(recorded.sim_time))
    result = compare(recorded, {name: recording.spikes_of(name).pairs() for name in RECORDED})
    assert (result.matched, result.recorded, result.simulated) == (COUNTS[run],) * 3
    assert set(recorded.spikes) == set(RECORDED)


def test_decoder_fires_address_zero_whenever_no_address_is_given():
    # DG[0] is driven every tick by the latch (started by the first address spike) and vetoed by any line.
    ops = [Operation.store(3, (1,), t0=1), Operation.recall_by_address(3, t0=12)]
    net = build_architecture("dg_ca3_ca1", 5, 4, inputs=encode(ops, 5, 4, timing("dg_ca3_ca1"), address_code="binary"))
    spikes = build(net, "torch", dt=1.0).run(24.0).spikes_of("DG").pairs()
    assert sorted(t for i, t in spikes if i == 4) == [4, 5, 6, 15]  # address 3 is the number 4
    assert sorted(t for i, t in spikes if i == 0) == [t for t in range(7, 24) if t != 15]


@pytest.mark.parametrize("architecture", ARCHITECTURES)
def test_every_architecture_stores_overwrites_and_recalls_by_address(architecture):
    mem = CA3Memory(5, 10, architecture=architecture)
    ops = [Operation.store(0, (0, 1, 8, 9)), Operation.store(3, (4, 5, 6)), Operation.recall_by_address(0)]
    ops += [Operation.store(3, (1, 3, 4, 8)), Operation.recall_by_address(3), Operation.recall_by_address(2)]
    answers = mem.execute(place(ops, 0, 10, 10), spacing_after_store_ms=10, spacing_after_recall_ms=10)[0]
    assert wrong_answers(answers) == []
    assert answers[3].forgotten == (5, 6) and answers[4].content == (1, 3, 4, 8)
    assert mem.contents() == {0: (0, 1, 8, 9), 3: (1, 3, 4, 8)}


@pytest.mark.parametrize("architecture", ARCHITECTURES)
def test_with_the_full_rate_rule_every_architecture_is_exact_in_random_programs_at_its_minimum_spacing(architecture):
    mem = CA3Memory(5, 10, batch_size=3, architecture=architecture, params="fullrate")
    spacing = timing(architecture)
    programs = []
    for seed in range(3):
        ops = [op for op in random_program(np.random.default_rng(seed), 5, 10, 60) if op.kind != "recall_by_content"]
        programs.append(place(ops, 0, spacing.spacing_after_store_ms, spacing.spacing_after_recall_ms))
    answers = mem.execute(programs)
    assert [wrong_recalls(a)[0] for a in answers] == [0, 0, 0]
    assert sum(len(wrong_answers(a)) for a in answers) == 0


def test_architectures_without_recall_by_content_refuse_it():
    mem = CA3Memory(3, 4, architecture="dg_ca3_ca1_bioinspired")
    with pytest.raises(CapabilityError, match="no recall by content"):
        mem.recall_by_content([1])
    with pytest.raises(ValidationError, match="architecture = 'ca1'"):
        CA3Memory(3, 4, architecture="ca1")
    assert mem.tick == 0


def test_structure_of_the_architectures():
    assert CA3Memory(5, 10, architecture="ca3_only").structure().neurons == 15
    decoder = CA3Memory(5, 10, architecture="dg_ca3_ca1").structure()
    assert decoder.populations == {"CA3cue": 5, "CA3cont": 10, "DG": 8, "DGlatch": 1, "CA1": 3, "OUT": 13, "IN": 13}
    assert (decoder.neurons, decoder.plastic_synapses, decoder.harness_neurons) == (27, 50, 26)
    bio = CA3Memory(5, 10, architecture="dg_ca3_ca1_bioinspired").structure()
    assert (bio.neurons, bio.plastic_synapses) == (5 + 10 + 5 + 3, 50)


def test_an_architecture_memory_survives_save_and_load(tmp_path):
    mem = CA3Memory(5, 10, architecture="dg_ca3_ca1", params="fullrate")
    mem.store(2, [3, 4])
    loaded = CA3Memory.load(mem.save(tmp_path / "dg"))
    assert (loaded.architecture, loaded.tick, loaded.params.name) == ("dg_ca3_ca1", mem.tick, "fullrate")
    assert loaded.recall_by_address(2)[0].content == (3, 4)
