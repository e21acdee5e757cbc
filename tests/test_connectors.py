"""The fixed-number connectors: exact counts, refused self-connections, uniform draws, seeds, files."""

from __future__ import annotations

import numpy as np
import pytest

from neuromem.errors import ValidationError
from neuromem.spec import (
    FixedNumberPost,
    FixedNumberPre,
    FixedTotalNumber,
    LIFCurrExp,
    Network,
    Population,
    Projection,
    load,
    sampling,
    save,
)
from neuromem.spec.toml import build_object, read_model

CONNECTORS = (FixedTotalNumber, FixedNumberPre, FixedNumberPost)


def chi_square(counts: np.ndarray) -> tuple[float, int]:
    """Pearson statistic of ``counts`` against equal expected counts, and its degrees of freedom."""
    expected = counts.mean()
    return float(((counts - expected) ** 2 / expected).sum()), counts.size - 1


def assert_uniform(counts: np.ndarray) -> None:
    """Counts look uniform: chi-square within 5 standard deviations (sqrt(2 dof)) of its mean (dof)."""
    statistic, dof = chi_square(np.asarray(counts, dtype=float).ravel())
    assert abs(statistic - dof) < 5 * np.sqrt(2 * dof), (statistic, dof)


def grid_counts(pre: np.ndarray, post: np.ndarray, n_pre: int, n_post: int) -> np.ndarray:
    counts = np.zeros((n_pre, n_post), dtype=np.int64)
    np.add.at(counts, (pre, post), 1)
    return counts


# -- exact numbers ------------------------------------------------------------------------


@pytest.mark.parametrize("replace", [True, False])
@pytest.mark.parametrize(("n_pre", "n_post", "same"), [(7, 11, False), (9, 9, True), (1, 300, False)])
def test_fixed_total_number_makes_exactly_n_synapses_inside_the_grid(replace, n_pre, n_post, same):
    n = min(50, n_pre * n_post - (n_pre if same else 0))
    pre, post = FixedTotalNumber(n, allow_self=not same, with_replacement=replace, seed=4).pairs(n_pre, n_post, same)
    assert pre.size == post.size == n
    assert pre.dtype == post.dtype == np.int64
    assert pre.min() >= 0 and pre.max() < n_pre and post.min() >= 0 and post.max() < n_post
    assert np.all(np.diff(pre * n_post + post) >= 0), "synapses come sorted by (pre, post)"


@pytest.mark.parametrize("connector", [FixedNumberPre, FixedNumberPost])
@pytest.mark.parametrize("replace", [True, False])
def test_fixed_number_gives_every_neuron_exactly_n_partners(connector, replace):
    n_pre, n_post, n = 40, 30, 12
    pre, post = connector(n, with_replacement=replace, seed=2).pairs(n_pre, n_post, same_population=False)
    assert pre.size == n * (n_post if connector is FixedNumberPre else n_pre)
    degree = np.bincount(post, minlength=n_post) if connector is FixedNumberPre else np.bincount(pre, minlength=n_pre)
    assert np.all(degree == n)
    if not replace:
        assert np.unique(pre * n_post + post).size == pre.size, "no multapses without replacement"


def test_without_replacement_n_equal_to_all_pairs_connects_every_pair_once():
    pre, post = FixedTotalNumber(6 * 5, with_replacement=False, seed=1).pairs(6, 5, same_population=False)
    assert np.all(grid_counts(pre, post, 6, 5) == 1)
    pre, post = FixedNumberPre(7, allow_self=False, seed=1).pairs(8, 8, same_population=True)
    counts = grid_counts(pre, post, 8, 8)
    assert np.all(counts == 1 - np.eye(8, dtype=np.int64))


def test_zero_synapses_is_allowed_and_empty():
    for cls in CONNECTORS:
        pre, post = cls(0, seed=1).pairs(5, 6, same_population=False)
        assert pre.size == post.size == 0


# -- self-connections ---------------------------------------------------------------------


@pytest.mark.parametrize("cls", CONNECTORS)
@pytest.mark.parametrize("replace", [True, False])
def test_refused_self_connections_never_appear_in_one_population(cls, replace):
    n = 80 if cls is FixedTotalNumber else 8
    pre, post = cls(n, allow_self=False, with_replacement=replace, seed=5).pairs(10, 10, same_population=True)
    assert pre.size > 0 and not np.any(pre == post)


def test_allowed_self_connections_do_appear_and_refusal_only_concerns_one_population():
    # 20 x 20 grid, 4,000 independent pairs: the diagonal (1 / 20) expects 200 of them.
    pre, post = FixedTotalNumber(4000, allow_self=True, seed=5).pairs(20, 20, same_population=True)
    assert np.count_nonzero(pre == post) > 100
    # As in PyNN, allow_self=False does not touch two different populations of equal size.
    pre, post = FixedTotalNumber(4000, allow_self=False, seed=5).pairs(20, 20, same_population=False)
    assert np.count_nonzero(pre == post) > 100


# -- distributions ------------------------------------------------------------------------


def test_fixed_total_number_with_replacement_hits_every_pair_equally_often():
    pre, post = FixedTotalNumber(42_000, seed=11).pairs(6, 7, same_population=False)
    assert_uniform(grid_counts(pre, post, 6, 7))


def test_fixed_total_number_without_self_connections_is_uniform_off_the_diagonal():
    pre, post = FixedTotalNumber(30_000, allow_self=False, seed=12).pairs(6, 6, same_population=True)
    counts = grid_counts(pre, post, 6, 6)
    assert np.all(np.diag(counts) == 0)
    assert_uniform(counts[~np.eye(6, dtype=bool)])


@pytest.mark.parametrize(("n", "available"), [(9, 30), (2, 30)])
def test_draws_without_replacement_include_every_address_equally_often(n, available):
    # Dense (4 n >= available: partial shuffle) and sparse (top-up and thinning) paths.
    inclusion = np.zeros(available, dtype=np.int64)
    for seed in range(3000):
        chosen = sampling.sample_addresses(np.random.default_rng(seed), n, available, replace=False)
        assert chosen.size == n and np.unique(chosen).size == n
        inclusion[chosen] += 1
    assert_uniform(inclusion)


def test_sparse_draws_without_replacement_are_distinct_in_a_huge_grid():
    # 10^12 pairs: drawn in memory proportional to n, never to the grid.
    pre, post = FixedTotalNumber(5000, with_replacement=False, seed=3).pairs(10**6, 10**6, same_population=True)
    assert np.unique(pre * 10**6 + post).size == 5000


@pytest.mark.parametrize("block", [sampling.BLOCK, 25])
def test_fixed_number_pre_picks_each_source_equally_often(block):
    # block = 25 keys forces one target per block, the path of large populations.
    rng = np.random.default_rng(8)
    partners = sampling.sample_partners(rng, 5, 4000, 10, skip_diagonal=False, replace=False, block=block)
    assert all(np.unique(row).size == 5 for row in partners)
    assert_uniform(np.bincount(partners.ravel(), minlength=10))


def test_fixed_number_pre_without_self_spreads_sources_over_the_others():
    pre, post = FixedNumberPre(3, allow_self=False, seed=9).pairs(6, 6, same_population=True)
    counts = grid_counts(pre, post, 6, 6)
    assert np.all(np.diag(counts) == 0)
    many = [FixedNumberPre(3, allow_self=False, seed=s).pairs(6, 6, same_population=True) for s in range(800)]
    total = sum(grid_counts(p, q, 6, 6) for p, q in many)
    assert_uniform(total[~np.eye(6, dtype=bool)])


def test_with_replacement_partners_repeat_as_often_as_independent_draws_do():
    # 3 draws among 4 candidates: P(all distinct) = 4 * 3 * 2 / 4^3 = 0.375.
    pre, post = FixedNumberPost(3, with_replacement=True, seed=6).pairs(20_000, 4, same_population=False)
    rows = post.reshape(20_000, 3)
    distinct = np.mean([np.unique(r).size == 3 for r in rows])
    assert distinct == pytest.approx(0.375, abs=0.02)


# -- seeds --------------------------------------------------------------------------------


@pytest.mark.parametrize("cls", CONNECTORS)
def test_same_seed_same_synapses_other_seed_other_synapses(cls):
    first = cls(20, seed=7).pairs(30, 40, same_population=False)
    again = cls(20, seed=7).pairs(30, 40, same_population=False)
    other = cls(20, seed=8).pairs(30, 40, same_population=False)
    assert all(np.array_equal(a, b) for a, b in zip(first, again))
    assert not all(np.array_equal(a, b) for a, b in zip(first, other))


# -- validation ---------------------------------------------------------------------------


@pytest.mark.parametrize("cls", CONNECTORS)
@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("n", -1),
        ("n", 2.5),
        ("n", True),
        ("n", "10"),
        ("seed", -3),
        ("allow_self", 1),
        ("allow_self", "yes"),
        ("with_replacement", None),
        ("with_replacement", 0),
    ],
)
def test_bad_parameters_are_refused_naming_the_field(cls, field, value):
    kwargs = {"n": 3, field: value}
    with pytest.raises(ValidationError, match=f"{cls.__name__}: {field}"):
        cls(**kwargs)


def two_populations(connector, same: bool = False) -> Network:
    cell = LIFCurrExp()
    populations = (Population("a", cell, size=4), Population("b", cell, size=3))
    post = "a" if same else "b"
    return Network(populations=populations, projections=(Projection("p", "a", post, connector, weight=0.1),))


@pytest.mark.parametrize(
    ("connector", "same", "message"),
    [
        (FixedTotalNumber(13, with_replacement=False), False, "exceeds the 12 distinct pairs"),
        (FixedTotalNumber(13, allow_self=False, with_replacement=False), True, "exceeds the 12 distinct pairs"),
        (FixedNumberPre(5), False, "exceeds the 4 distinct sources"),
        (FixedNumberPre(4, allow_self=False), True, "exceeds the 3 distinct sources other than itself"),
        (FixedNumberPost(4), False, "exceeds the 3 distinct targets"),
    ],
)
def test_more_distinct_partners_than_exist_is_refused_when_the_network_is_built(connector, same, message):
    with pytest.raises(ValidationError, match=f"Projection 'p': {type(connector).__name__} n = .* {message}"):
        two_populations(connector, same)


def test_with_replacement_may_ask_for_more_synapses_than_pairs():
    network = two_populations(FixedTotalNumber(100))
    assert network.connection_list("p").pre.size == 100


def test_no_pair_to_connect_is_refused():
    cell = LIFCurrExp()
    network_args = {"populations": (Population("a", cell, size=1),)}
    projection = Projection("p", "a", "a", FixedTotalNumber(3, allow_self=False), weight=0.1)
    with pytest.raises(ValidationError, match="no pair to connect"):
        Network(projections=(projection,), **network_args)


# -- files --------------------------------------------------------------------------------


@pytest.mark.parametrize("cls", CONNECTORS)
def test_connectors_come_back_from_a_toml_table_through_the_registry(cls):
    table = {"type": cls.__name__, "n": 4, "allow_self": False, "with_replacement": True, "seed": 12}
    connector = build_object(table, "test")
    assert connector == cls(4, allow_self=False, with_replacement=True, seed=12)


def test_a_network_with_the_connectors_survives_save_and_load(tmp_path):
    cell = LIFCurrExp()
    network = Network(
        populations=(Population("a", cell, size=30), Population("b", cell, size=20)),
        projections=tuple(
            Projection(f"p{i}", "a", "b" if i else "a", cls(5, allow_self=False, seed=i), weight=0.1)
            for i, cls in enumerate(CONNECTORS)
        ),
    )
    loaded = load(save(network, tmp_path / "net"))
    assert loaded == network
    for projection in network.projections:
        for mine, theirs in zip(network.connection_list(projection.name), loaded.connection_list(projection.name)):
            assert np.array_equal(mine, theirs)


def test_a_model_file_can_name_the_connectors(tmp_path):
    path = tmp_path / "model.toml"
    path.write_text(
        "[[population]]\nname = 'a'\nsize = 50\ncell = { type = 'LIFCurrExp' }\n"
        "[[projection]]\nname = 'rec'\npre = 'a'\npost = 'a'\nweight = 0.1\n"
        "connector = { type = 'FixedTotalNumber', n = 400, allow_self = false, seed = 3 }\n"
        "[[projection]]\nname = 'in'\npre = 'a'\npost = 'a'\nweight = 0.1\n"
        "connector = { type = 'FixedNumberPre', n = 7, seed = 4 }\n"
    )
    network = read_model(path).network
    assert network.connection_list("rec").pre.size == 400
    assert np.all(np.bincount(network.connection_list("in").post) == 7)
