"""Structure of the CA3 network and its parameter sets (spec ca3.md sections 1.1-1.6, 3.5 A7-A8)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from neuromem.backends import build
from neuromem.errors import FileFormatError, ValidationError
from neuromem.models.ca3 import (
    CONTENT_TO_CUE,
    CUE_TO_CONTENT,
    NEURON_SETS,
    build_network,
    internal_synapse_count,
    load_params,
)
from neuromem.models.ca3.params import PROJECTION_NAMES
from neuromem.spec import CA3PairRule, SpikeSourceArray, step_coefficients
from neuromem.spec.toml import read_model


@pytest.mark.parametrize(("n", "m"), [(5, 10), (16, 6), (32, 16), (1, 1)])
def test_internal_network_has_3n_plus_4m_plus_1_neurons_and_the_spec_synapse_count(n, m):
    net = build_network(n, m, harness=False)
    assert sum(p.size for p in net.populations) == 3 * n + 4 * m + 1
    synapses = sum(net.connection_list(p.name).pre.size for p in net.projections)
    assert synapses == internal_synapse_count(n, m) == 3 * n * m + 2 * n * (n - 1) + 3 * n + 6 * m
    plastic = sum(net.connection_list(p.name).pre.size for p in net.projections if p.is_plastic)
    assert plastic == 2 * n * m


def test_spec_examples_of_sizes_hold():
    assert internal_synapse_count(5, 10) == 265
    assert internal_synapse_count(16, 6) == 852
    assert internal_synapse_count(32, 16) == 3712
    with_harness = build_network(16, 6)
    assert sum(p.size for p in with_harness.populations) == 117
    assert sum(with_harness.connection_list(p.name).pre.size for p in with_harness.projections) == 896


def test_network_has_the_18_projections_with_published_weights_and_delays():
    n, m = 5, 10
    net = build_network(n, m)
    assert tuple(p.name for p in net.projections) == PROJECTION_NAMES
    table = {p.name: (p.weight, p.delay, p.receptor) for p in net.projections}
    assert table["CueCue-CueCont-inh"] == (6.0 * m, 3.0, "inhibitory")
    assert table["CueCont-CueCont-inh"] == (6.0 * m, 2.0, "inhibitory")
    assert table["CueCue-ContCond-inh"] == (6.0, 2.0, "inhibitory")
    assert table["ContCue-ContCond"] == (9.0, 1.0, "excitatory")
    assert table["ContCondInt-ContCond"] == (2.0, 1.0, "excitatory")
    assert table["CueCue-MergeCue"][1] == table["ContCue-MergeCont"][1] == 3.0
    pre, post, _, _ = net.connection_list("CueCue-CueCont-inh")
    assert not np.any(pre == post) and pre.size == n * (n - 1)
    pre, post, _, _ = net.connection_list("MergeCont-OUT")
    assert post.tolist() == list(range(n, n + m))


def test_inhibitory_weights_scale_with_memory_width():
    for m in (3, 7):
        assert build_network(4, m).projection("CueCont-CueCont-inh").weight == pytest.approx(6.0 * m, abs=1e-12)


def test_neuron_sets_carry_the_published_parameters():
    net = build_network(3, 4)
    thresholds = {p.name: p.cell.v_thresh for p in net.populations if not p.is_source}
    assert {thresholds[name] for name in NEURON_SETS["A"] + NEURON_SETS["B"]} == {-57.0}
    assert thresholds["OUT"] == -57.5
    assert {net.population(name).cell.tau_m for name in NEURON_SETS["B"]} == {0.5}
    assert net.scheme == "spinnaker" and net.required_dt == 1.0


def test_single_input_responses_match_the_spinnaker_step_average():
    # Spec 1.3: one input moves a resting neuron by 0.9112 w mV (set A), 0.8934 w mV (set B), k = 0.28930.
    params = load_params()
    for key, gain in (("A", 0.9112), ("B", 0.8934)):
        cell = params.cells[key]
        c = step_coefficients(cell, 1.0, "spinnaker")
        assert c.input_E == pytest.approx(0.28930, abs=5e-5)
        assert cell.membrane_resistance * c.input_E * (1.0 - c.p_mm) == pytest.approx(gain, abs=5e-4)


def test_plastic_projections_use_calibrated_rule_and_keep_published_stdp():
    net = build_network(5, 10)
    for name in (CUE_TO_CONTENT, CONTENT_TO_CUE):
        rule = net.projection(name).plasticity
        assert isinstance(rule, CA3PairRule)
        assert (rule.tau_plus, rule.amplitude_plus, rule.w_max) == (1.5, 12.0, 6.0)
        timing, bounds = rule.published.timing, rule.published.weight
        assert (timing.tau_plus, timing.A_plus, bounds.w_max) == (3.0, 6.0, 6.0)
        assert net.projection(name).weight == 0.0 and net.projection(name).delay == 1.0


def test_initial_weight_matrices_load_a_stored_memory_in_pre_major_order():
    w = np.zeros((3, 4))
    w[1, 2] = 6.0
    net = build_network(3, 4, cue_to_content=w, content_to_cue=w.T)
    lst = net.connection_list(CUE_TO_CONTENT)
    assert lst.weight[(lst.pre == 1) & (lst.post == 2)].tolist() == [6.0]
    assert lst.weight.sum() == 6.0
    with pytest.raises(ValidationError, match="shape"):
        build_network(3, 4, cue_to_content=np.zeros((4, 3)))
    with pytest.raises(ValidationError, match=r"\[0, 6\]"):
        build_network(3, 4, cue_to_content=np.full((3, 4), 7.0))


def test_network_refuses_a_time_step_other_than_one_ms():
    net = build_network(2, 2)
    with pytest.raises(ValidationError, match="defined for dt = 1 ms"):
        build(net, "torch", dt=0.5)


def test_network_is_silent_without_input():
    # Spec 3.5 A8: no spontaneous activity.
    recording = build(build_network(4, 5), "torch", dt=1.0).run(50.0)
    assert sum(len(trains) for trains in recording.spikes.values()) == 0


def test_inputs_must_have_n_plus_m_lines():
    with pytest.raises(ValidationError, match="n \\+ m = 7"):
        build_network(3, 4, inputs=SpikeSourceArray(6))


def test_parameter_set_that_extends_another_overrides_only_its_keys(tmp_path):
    params = load_params("amplitude36")
    base = load_params("spinnaker")
    assert params.rule.amplitude_minus == 36.0 and params.rule.tau_minus == 1.0
    assert params.cells == base.cells and params.synapses == base.synapses
    (tmp_path / "ca3_loop.toml").write_text('extends = "loop"\n')
    with pytest.raises(FileFormatError, match="loop"):
        load_params("loop", tmp_path)
    with pytest.raises(FileFormatError, match="missing"):
        load_params("absent", tmp_path)


def test_parameter_set_round_trips_through_its_dict():
    params = load_params()
    again = type(params).from_dict(params.to_dict())
    assert again == params


def test_parameter_set_missing_a_projection_is_refused(tmp_path):
    text = (load_params.__globals__["PARAMETERS_DIR"] / "ca3_spinnaker.toml").read_text()
    (tmp_path / "ca3_broken.toml").write_text(text.replace("ContCue-ContCond = { weight = 9.0, delay = 1.0 }\n", ""))
    with pytest.raises(ValidationError, match="ContCue-ContCond"):
        load_params("broken", tmp_path)


def test_model_file_builds_the_memory_network_for_the_command_line():
    model = read_model(Path(__file__).resolve().parents[1] / "models" / "ca3_model.toml")
    assert model.dt == 1.0 and model.duration == 90.0
    assert tuple(p.name for p in model.network.projections) == PROJECTION_NAMES
    assert sum(p.size for p in model.network.populations) == 86


@pytest.mark.parametrize(
    ("old", "new", "message"),
    [
        ("dt_ms = 1.0", 'dt_ms = "1.0"', "dt_ms = '1.0' must be a finite number"),
        ("dt_ms = 1.0", "dt_ms = nan", "dt_ms = nan must be a finite number"),
        ("ContCue-ContCond = { weight = 9.0, delay = 1.0 }", "ContCue-ContCond = { weight = -9.0, delay = 1.0 }",
         "ContCue-ContCond: weight = -9 nA must be >= 0"),
        ("ContCue-ContCond = { weight = 9.0, delay = 1.0 }", "ContCue-ContCond = { weight = 9.0, delay = 0.0 }",
         "delay = 0 ms must be > 0"),
        ("ContCue-ContCond = { weight = 9.0, delay = 1.0 }",
         "ContCue-ContCond = { weight = 9.0, delay = 1.0, gain = 2 }",
         "give weight \\(or weight_per_bit\\) and delay, nothing else"),
        ('scheme = "spinnaker"', 'scheme = "euler"', "scheme = 'euler'"),
        ('rule = "ca3_pair"', 'rule = "hebb"', "rule = 'hebb'; allowed: ca3_pair, stdp"),
        ("tau_plus = 1.5", "tau_plus = inf", "tau_plus = inf must be a finite number"),
        ("tau_plus = 1.5", 'tau_plus = "1.5"', "tau_plus = '1.5' must be a finite number"),
        ("v_thresh = -57.5", 'v_thresh = "-57.5"', "v_thresh = '-57.5' must be a finite number"),
        ("spacing_after_store_ms = 7.0", "spacing_after_store_ms = 0.0", "spacing_after_store_ms = 0.0 must be"),
        ('recall_by_address = { cue = [0.0] }', 'recall_by_address = { cue = [-1.0] }', "offsets must be >= 0 ms"),
        ("content_delay = 4.0", "content_delay = true", "content_delay = True must be a finite number"),
    ],
)  # fmt: skip
def test_parameter_files_are_checked_strictly_naming_table_and_key(tmp_path, old, new, message):
    text = (load_params.__globals__["PARAMETERS_DIR"] / "ca3_spinnaker.toml").read_text()
    assert old in text
    (tmp_path / "ca3_edited.toml").write_text(text.replace(old, new, 1))
    with pytest.raises(ValidationError, match=message):
        load_params("edited", tmp_path)


def test_population_cells_must_name_defined_neuron_sets(tmp_path):
    text = (load_params.__globals__["PARAMETERS_DIR"] / "ca3_portable.toml").read_text()
    (tmp_path / "ca3_edited.toml").write_text(text.replace('CueCont = "address"', 'CueCont = "slow"'))
    with pytest.raises(ValidationError, match="CueCont uses neuron set 'slow', which \\[cells\\] does not define"):
        load_params("edited", tmp_path)


def test_every_shipped_parameter_set_round_trips_through_its_dict():
    for name in ("spinnaker", "amplitude36", "fullrate", "portable"):
        params = load_params(name)
        assert type(params).from_dict(params.to_dict()) == params


def test_a_network_too_large_for_the_machine_is_refused_before_its_synapses_exist():
    with pytest.raises(ValidationError, match="n = 100000000 addresses .* would need about"):
        build_network(10**8, 10)
