"""Each shipped Sparsey parameter set keeps the promise its name makes, on data the tests generate.

Promises (experiments/sparsey_tradeoff.py and the preset files say why):

- ``default``: the code defaults; G graded by corruption, identification >= 0.99 with 60 % of an
  item's active bits moved at light load, occluded items fully familiar, no chain capture;
- ``capacity``: M90 within 15 % of the analytic model, recall below 0.1 within a factor 2 past it
  and never rising again;
- ``sisc``: Spearman >= 0.75 between input and code overlap on graded variants and on drifting
  chains, input-disjoint items at chance 1/K +- 0.03, stored items recognised with G = 1 and their
  stored code.
"""

from __future__ import annotations

import dataclasses

import pytest
from sparsey_protocols import capacity_curve, chain_protocol, corruption_protocol, sisc_protocol

from neuromem.models.sparsey import CSAParams, load_preset
from neuromem.models.sparsey.analysis import analytic_m90, empirical_m90


def test_default_preset_is_the_code_default():
    assert load_preset("default") == CSAParams()


def test_default_familiarity_falls_with_corruption_as_the_crosstalk_model_predicts():
    params = load_preset("default")
    fractions = (0.0, 0.2, 0.4, 0.6)
    moved = corruption_protocol(params, n_items=50, fractions=fractions, kind="move", replicas=2, seed=1)
    p1 = 1.0 - (1.0 - 20 / 400 / 10) ** 50  # fraction of weights set after 50 items
    assert moved["G"][0] == pytest.approx(1.0)
    for f, g in zip(fractions[1:], moved["G"][1:], strict=True):
        predicted = ((1.0 - f) + f * p1) ** params.lam_u  # the item's own cells, crosstalk included
        assert 0.5 * predicted <= g <= 2.0 * predicted + 0.02, (f, g, predicted)
    assert all(b < a for a, b in zip(moved["G"], moved["G"][1:], strict=False))


def test_default_identifies_items_with_60_percent_of_bits_moved_at_light_load():
    moved = corruption_protocol(load_preset("default"), n_items=50, fractions=(0.4, 0.5, 0.6), replicas=2, seed=2)
    assert min(moved["identified"]) >= 0.99


def test_default_occluded_items_stay_fully_familiar_and_identified():
    dropped = corruption_protocol(load_preset("default"), n_items=50, fractions=(0.2, 0.4, 0.6), kind="drop", seed=3)
    assert min(dropped["G"]) >= 0.99
    assert min(dropped["identified"]) == 1.0


def test_default_does_not_capture_drifting_chains():
    res = chain_protocol(load_preset("default"), n_chains=4, replicas=2, seed=4)
    assert abs(res["disjoint_overlap"] - 0.1) <= 0.03
    assert res["neighbour_overlap"] >= 0.5  # neighbours still share most of their code: graded, not random
    assert res["best_match"] >= 0.6


def test_capacity_preset_reaches_the_analytic_m90_and_then_collapses_for_good():
    analytic = analytic_m90(20, 10, 400, 20)
    ms = sorted({int(round(analytic * f)) for f in (0.75, 0.8, 0.85, 0.9, 0.95, 1.0, 1.1, 1.5, 2.0)})
    curve = capacity_curve(load_preset("capacity"), 20, 10, 400, 20, ms, replicas=4, seed=5)
    m90 = empirical_m90(curve["M"], curve["exact_recall"])
    assert m90 / analytic >= 0.85
    # Random codes reach the binomial-load model; the CSA must not fall below it.
    assert m90 / analytic_m90(20, 10, 400, 20, load="binomial") >= 0.97
    below = [m for m, r in zip(curve["M"], curve["exact_recall"], strict=True) if r < 0.1]
    assert below and below[0] <= 2 * m90
    tail = [r for m, r in zip(curve["M"], curve["exact_recall"], strict=True) if m >= below[0]]
    assert max(tail) < 0.1
    assert curve["stored"][-1] == 1.0 and curve["frozen"][-1] == 0.0


def test_frozen_macs_never_make_recall_look_better_than_what_was_stored():
    params = dataclasses.replace(load_preset("capacity"), sat_threshold=0.5)
    curve = capacity_curve(params, 10, 5, 200, 10, [60, 120, 240, 480], replicas=2, seed=6)
    assert curve["frozen"][-1] > 0.9 and curve["stored"][-1] < 0.6
    assert all(b <= a + 0.02 for a, b in zip(curve["exact_recall"], curve["exact_recall"][1:], strict=False))
    assert curve["exact_recall"][-1] <= curve["stored"][-1]


def test_sisc_preset_grades_code_overlap_on_variants_of_stored_items():
    res = sisc_protocol(load_preset("sisc"), n_prototypes=30, n_variants=2, replicas=2, seed=7)
    assert res["spearman"] >= 0.75
    assert abs(res["code_overlap_mean"][0] - 0.1) <= 0.03
    means = res["code_overlap_mean"]
    assert all(b >= a - 0.03 for a, b in zip(means, means[1:], strict=False))
    assert res["repeat_G_min"] == pytest.approx(1.0) and res["repeat_exact"] == 1.0


def test_sisc_preset_grades_drifting_chains_without_capturing_them():
    res = chain_protocol(load_preset("sisc"), n_chains=4, replicas=3, seed=8)
    assert res["spearman"] >= 0.75
    assert abs(res["disjoint_overlap"] - 0.1) <= 0.03
    assert res["stored_G_min"] == pytest.approx(1.0)


def test_a_steep_broad_kernel_is_detected_capturing_a_chain():
    # lam_U = 1 with a steep sigmoid: the parameter set this project once shipped as "sisc".
    params = CSAParams(lam_u=1.0, sig_lambda=50.0, v_infl=0.7)
    res = chain_protocol(params, n_chains=2, replicas=2, seed=9)
    assert res["disjoint_overlap"] >= 0.5
    assert res["best_match"] <= 0.3
