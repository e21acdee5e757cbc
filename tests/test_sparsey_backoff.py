"""The recognition backoff chain: reduced-evidence retries down to U alone, switchable."""

from __future__ import annotations

import pytest
import torch

from neuromem.errors import ValidationError
from neuromem.models.sparsey import CSAParams, Hierarchy, LevelParams
from neuromem.models.sparsey.analysis import random_patterns
from neuromem.models.sparsey.backoff import FULL_EVIDENCE, choose


def _parts(**logs: float) -> dict[str, torch.Tensor]:
    """Per-type log support with every cell of one mac (Q=2, K=2) at the given value."""
    return {key: torch.full((1, 1, 1, 2, 2), value) for key, value in logs.items()}


def test_first_level_reaching_its_threshold_decides_and_the_best_combination_of_a_level_wins():
    p = CSAParams(backoff=("UHD", "UH UD", "U"), backoff_g=(0.9, 0.8, 0.5))
    log_v, G, level = choose(_parts(U=0.0, H=-1.0, D=-0.1), p)  # UHD 0.33, UH 0.37, UD 0.90
    assert level.item() == 1 and G.item() == pytest.approx(0.905, abs=1e-3)
    assert torch.allclose(log_v, torch.full_like(log_v, -0.1))


def test_no_level_reaching_its_threshold_keeps_the_full_evidence():
    p = CSAParams(backoff=("UH", "U"), backoff_g=(0.9, 0.9))
    log_v, G, level = choose(_parts(U=-1.0, H=-1.0), p)
    assert level.item() == FULL_EVIDENCE and G.item() == pytest.approx(float(torch.exp(torch.tensor(-2.0))))


def test_combinations_needing_a_signal_not_given_this_frame_are_skipped():
    p = CSAParams(backoff=("UH", "U"), backoff_g=(0.5, 0.5))
    _, G, level = choose(_parts(U=-0.1), p)
    assert level.item() == 1 and G.item() == pytest.approx(float(torch.exp(torch.tensor(-0.1))))


def _sequence_net(backoff: bool) -> tuple[Hierarchy, torch.Tensor]:
    chain = {"backoff": ("UH", "U"), "backoff_g": (0.9, 0.9)} if backoff else {}
    net = Hierarchy(
        (6, 6),
        [LevelParams(grid=(1, 1), Q=12, K=8, rf_radius=1.0, h_radius=0.1)],
        CSAParams(lam_u=4.0, **chain),
        seed=3,
    )
    frames = random_patterns(6, 36, 6, torch.Generator().manual_seed(4))
    net.learn_sequence(frames)
    return net, frames


def test_a_skipped_frame_is_recovered_by_the_u_only_retry():
    orders = torch.tensor([[0, 1, 3, 4, 5]])
    plain, frames = _sequence_net(False)
    chained, _ = _sequence_net(True)
    g_plain = torch.stack([step[0].G[0, 0, 0] for step in plain.recognise_sequence(frames[orders])])
    runs = chained.recognise_sequence(frames[orders])
    g_chain = torch.stack([step[0].G[0, 0, 0] for step in runs])
    levels = [int(step[0].level[0, 0, 0]) for step in runs]
    assert float(g_plain[2]) < 0.6  # frame 3 after frame 1: an unlearned context
    assert bool(torch.all(g_chain == 1.0))
    assert levels[2] == 1 and levels[3:] == [0, 0]  # U alone at the jump, then U and H again


def test_backoff_trades_order_discrimination_for_familiarity_of_each_frame():
    shuffled = torch.tensor([[0, 3, 1, 5, 2, 4]])
    plain, frames = _sequence_net(False)
    chained, _ = _sequence_net(True)
    g_plain = torch.stack([step[0].G[0, 0, 0] for step in plain.recognise_sequence(frames[shuffled])][1:])
    g_chain = torch.stack([step[0].G[0, 0, 0] for step in chained.recognise_sequence(frames[shuffled])][1:])
    assert float(g_plain.mean()) <= 0.6
    assert float(g_chain.mean()) == pytest.approx(1.0)


def test_learning_ignores_the_chain():
    plain, _ = _sequence_net(False)
    chained, _ = _sequence_net(True)
    assert all(torch.equal(plain.layers[0].weights[k], chained.layers[0].weights[k]) for k in ("U", "H"))


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"backoff": ("UH",), "backoff_g": ()}, "one threshold per level"),
        ({"backoff": ("HD",), "backoff_g": (0.9,)}, "including U"),
        ({"backoff": ("UH", "HU"), "backoff_g": (0.9, 0.9)}, "appears twice"),
        ({"backoff": ("UX",), "backoff_g": (0.9,)}, "letters of 'UHD'"),
        ({"backoff": ("U",), "backoff_g": (0.0,)}, r"backoff_g\[0\] = 0.0 must lie in \(0, 1\]"),
        ({"backoff": "UH", "backoff_g": (0.9,)}, "must be a sequence"),
    ],
)
def test_malformed_chains_are_refused(kwargs, message):
    with pytest.raises(ValidationError, match=message):
        CSAParams(**kwargs)
