"""Sparsey macrocolumn layer: CSA formulas, modes, determinism, freezing, horizontal inputs, devices."""

from __future__ import annotations

import math

import pytest
import torch

from neuromem.models.sparsey import CSAParams, MacLayer, csa
from neuromem.models.sparsey.analysis import random_patterns


def _items(n: int, n_inputs: int = 100, n_active: int = 10, seed: int = 0) -> torch.Tensor:
    return random_patterns(n, n_inputs, n_active, torch.Generator().manual_seed(seed))


def test_expansivity_matches_formula_and_is_one_below_g_floor():
    p = CSAParams()
    G = torch.tensor([0.0, 0.1, 0.55, 1.0])
    eta = csa.expansivity(G, K=8, params=p)
    r = max(0.0, (0.55 - 0.1) / 0.9)
    assert eta.tolist() == pytest.approx([1.0, 1.0, 1 + 100 * 8 * r**2, 801.0], rel=1e-6)


def test_selection_weights_floor_at_mu_min_and_equal_eta_for_full_support():
    p = CSAParams(sig_lambda=20.0, v_infl=0.5)
    V = torch.tensor([[[0.0, 0.5, 0.9995]]])
    mu = csa.selection_weights(V, torch.tensor([50.0]), p)
    expected_mid = 50.0 / (1.0 + math.exp(0.0))
    assert mu[0, 0].tolist() == pytest.approx([1.0, expected_mid, 50.0], rel=1e-6)


def test_familiarity_is_mean_over_cms_of_max_v():
    V = torch.tensor([[0.2, 0.9, 0.1], [0.4, 0.0, 0.3]])
    assert csa.familiarity(V.log()).item() == pytest.approx((0.9 + 0.4) / 2, rel=1e-6)


def test_log_support_keeps_supports_apart_where_their_powers_underflow():
    X = torch.tensor([[[1e-5, 2e-5, 0.0]]])
    log_v = csa.log_support([(X, torch.ones_like(X, dtype=torch.bool), 10.0)])
    assert float(log_v.exp().max()) == 0.0  # V = X^10 underflows float32
    assert csa.max_v_winners(log_v, "lowest").tolist() == [[1]]


def test_random_tie_rule_is_uniform_over_maxima_across_queries_and_fixed_per_query():
    V = torch.tensor([0.5, 1.0, 0.2, 1.0, 1.0]).log().expand(1, 3000, 1, 1, 5)
    rng = torch.Generator().manual_seed(3)
    a = torch.randint(1, csa.TIE_PRIME, (1, 1, 1, 5), generator=rng)
    b = torch.randint(1, csa.TIE_PRIME, (1, 1, 1, 5), generator=rng)
    keys = torch.randint(0, csa.TIE_PRIME, (1, 3000, 1), generator=rng)
    picks = csa.max_v_winners(V, "random", csa.tie_priority(keys, a, b)).flatten()
    assert set(picks.tolist()) == {1, 3, 4}
    share = torch.bincount(picks, minlength=5)[[1, 3, 4]].float() / 3000
    assert torch.allclose(share, torch.full((3,), 1 / 3), atol=0.04)
    again = csa.max_v_winners(V, "random", csa.tie_priority(keys, a, b)).flatten()
    assert torch.equal(picks, again)
    assert csa.max_v_winners(V, "lowest").unique().tolist() == [1]


def test_identical_queries_get_identical_codes_under_random_ties():
    layer = MacLayer.single(100, 8, 6, seed=1)
    x = _items(5)
    for i in range(5):
        layer.learn(x[i])
    novel = _items(40, seed=7)
    first = layer.recognise(novel).code
    assert torch.equal(layer.recognise(novel).code, first)
    assert torch.equal(layer.recognise(novel[3]).code[:, 0], first[:, 3])


def test_same_seed_gives_same_codes_and_different_seed_differs():
    x = _items(30)
    runs = []
    for seed in (5, 5, 6):
        layer = MacLayer.single(100, 8, 6, seed=seed)
        runs.append(torch.stack([layer.learn(x[i]).code for i in range(30)]))
    assert torch.equal(runs[0], runs[1])
    assert not torch.equal(runs[0], runs[2])


def test_recognition_and_assign_write_no_weight():
    layer = MacLayer.single(100, 8, 6, seed=1)
    x = _items(20)
    for i in range(20):
        layer.learn(x[i])
    before = {key: w.clone() for key, w in layer.weights.items()}
    layer.recognise(x)
    layer.assign(_items(20, seed=9))
    assert all(torch.equal(before[key], layer.weights[key]) for key in before)
    assert int(layer.n_learned[0]) == 20


def test_learning_sets_exactly_active_inputs_to_winners():
    layer = MacLayer.single(50, 4, 5, seed=2)
    x = torch.zeros(50)
    x[[3, 7, 11]] = 1
    code = layer.learn(x).code[0, 0]
    W = layer.weights["U"][0, 0]
    winners = torch.arange(4) * 5 + code
    assert W.sum().item() == 3 * 4
    assert bool((W[[3, 7, 11]][:, winners] == 1).all())


def test_mac_outside_activation_band_emits_no_code_and_learns_nothing():
    layer = MacLayer.single(100, 4, 4, band=(0.05, 0.2), seed=0)
    sparse = torch.zeros(100)
    sparse[:2] = 1
    dense = torch.zeros(100)
    dense[:30] = 1
    for x in (sparse, dense):
        out = layer.learn(x)
        assert not bool(out.active.any())
        assert bool((out.code == -1).all())
    assert layer.weights["U"].sum().item() == 0


def test_a_fully_frozen_mac_reports_its_code_as_not_stored_and_writes_nothing():
    layer = MacLayer.single(20, 2, 2, params=CSAParams(sat_threshold=0.3), seed=0)
    for i in range(12):
        layer.learn(_items(1, n_inputs=20, n_active=5, seed=i)[0])
    x = torch.zeros(20)
    x[:20:2] = 1
    frozen_inputs = layer.frozen["U"][0, 0]
    x = frozen_inputs.float() * x
    assert int(x.sum()) >= 1
    before = layer.weights["U"].clone()
    out = layer.learn(x)
    assert not bool(out.stored.any()) and bool(out.active.all())
    assert torch.equal(layer.weights["U"], before)
    assert torch.equal(out.code, layer.recognise(x).code[:, 0])


def test_bundles_freeze_above_saturation_and_are_never_written_again():
    layer = MacLayer.single(20, 2, 2, params=CSAParams(sat_threshold=0.5), seed=0)
    x = torch.zeros(20)
    x[:5] = 1
    for _ in range(6):
        layer.learn(_items(1, n_inputs=20, n_active=5, seed=_)[0])
    layer.learn(x)
    frozen = layer.frozen["U"][0, 0].clone()
    fraction = layer.weights["U"][0, 0].mean(dim=-1)
    assert bool(frozen.any())
    assert torch.equal(frozen, fraction > 0.5)
    snapshot = layer.weights["U"][0, 0][frozen].clone()
    for i in range(10):
        layer.learn(_items(1, n_inputs=20, n_active=5, seed=100 + i)[0])
    assert torch.equal(layer.weights["U"][0, 0][frozen], snapshot)


def test_horizontal_weights_skip_own_cm_and_give_context_dependent_familiarity():
    p = CSAParams(lam_u=1.0, sat_threshold=1.0)
    layer = MacLayer.single(60, 6, 5, params=p, horizontal=True, seed=4)
    a, b, c = _items(3, n_inputs=60, n_active=8)
    ca = layer.learn(a).code
    from neuromem.models.sparsey.layer import code_to_cells

    layer.learn(b, h=code_to_cells(ca, 5))
    W = layer.weights["H"][0, 0].view(6, 5, 6, 5)
    assert all(W[q, :, q, :].sum() == 0 for q in range(6))
    h_after_a = code_to_cells(ca, 5)
    h_after_c = code_to_cells(layer.assign(c).code[:, 0], 5)
    g_learned = layer.recognise(b, h=h_after_a).G.item()
    g_other = layer.recognise(b, h=h_after_c).G.item()
    assert g_learned == pytest.approx(1.0)
    assert g_other < g_learned - 0.2


def test_replicas_are_independent_and_match_single_runs():
    x = _items(10)
    batched = MacLayer.single(100, 5, 4, replicas=2, seed=7)
    codes = torch.stack([batched.learn(x[i]).code for i in range(10)])
    assert codes.shape == (10, 2, 1, 5)
    assert not torch.equal(codes[:, 0], codes[:, 1])


@pytest.mark.parametrize(
    "device",
    ["cpu", pytest.param("cuda", marks=pytest.mark.skipif(not torch.cuda.is_available(), reason="no CUDA device"))],
)
def test_layer_runs_on_device_and_recalls_stored_codes(device):
    layer = MacLayer.single(100, 8, 6, seed=1, device=device)
    x = _items(15)
    stored = torch.stack([layer.learn(x[i]).code[0, 0] for i in range(15)])
    got = layer.recognise(x).code[0, :, 0]
    assert got.device.type == device
    assert torch.equal(got.cpu(), stored.cpu())


def test_recognition_between_learning_frames_does_not_change_later_codes():
    x = _items(12)
    plain = MacLayer.single(100, 8, 6, seed=11)
    probed = MacLayer.single(100, 8, 6, seed=11)
    codes_plain, codes_probed = [], []
    for i in range(12):
        codes_plain.append(plain.learn(x[i]).code)
        codes_probed.append(probed.learn(x[i]).code)
        probed.recognise(x[: i + 1])
    assert torch.equal(torch.stack(codes_plain), torch.stack(codes_probed))
    assert all(torch.equal(plain.weights[k], probed.weights[k]) for k in plain.weights)
