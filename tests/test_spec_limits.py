"""Spec objects: booleans are booleans, numbers are numbers, equal objects hash equal,
and sizes are refused against a memory estimate before anything is expanded."""

from __future__ import annotations

import numpy as np
import pytest

from neuromem.errors import ValidationError
from neuromem.spec import (
    AllToAll,
    FixedProbability,
    FromList,
    LIFCurrExp,
    Network,
    OneToOne,
    Population,
    Probe,
    Projection,
    SpikeSourcePoisson,
)


@pytest.mark.parametrize("value", ["no", "yes", 0, 1, None, "False"])
def test_allow_self_must_be_a_boolean_on_every_connector(value: object) -> None:
    for connector in (FixedProbability, AllToAll):
        kwargs = {"p": 1.0} if connector is FixedProbability else {}
        with pytest.raises(ValidationError, match=rf"{connector.__name__}: allow_self = .* must be True or False"):
            connector(allow_self=value, **kwargs)


def test_fixed_probability_without_self_synapses_has_none() -> None:
    net = Network(
        populations=(Population("a", LIFCurrExp(), size=50),),
        projections=(Projection("p", "a", "a", FixedProbability(1.0, allow_self=False)),),
    )
    wiring = net.connection_list("p")
    assert wiring.pre.size == 50 * 49
    assert not np.any(wiring.pre == wiring.post)


@pytest.mark.parametrize("value", [True, "20", "fast", None, [20.0]])
def test_numbers_are_numbers(value: object) -> None:
    with pytest.raises(ValidationError, match=r"IF_curr_exp: tau_m = .* is not a number"):
        LIFCurrExp(tau_m=value)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("pre", "message"),
    [
        ([1e30], r"FromList: pre holds index 1e\+30; indices must be whole numbers >= 0"),
        (["a", "b"], r"FromList: pre must hold whole-number indices, got str\d* values such as 'a'"),
        ([0.5, 1], r"FromList: pre holds 0.5; indices must be whole numbers"),
        ([float("nan"), 1], r"FromList: pre holds nan; indices must be whole numbers"),
        ([-1, 0], r"FromList: pre holds index -1; indices must be whole numbers >= 0"),
        ([True, False], r"FromList: pre must hold whole-number indices, got bool"),
    ],
)
def test_from_list_reports_bad_indices_as_given(pre: list[object], message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        FromList(pre, [0] * len(pre))


def test_equal_spec_objects_hash_equal() -> None:
    assert len({LIFCurrExp(), LIFCurrExp()}) == 1
    assert len({LIFCurrExp(), LIFCurrExp(tau_m=10.0)}) == 2
    ints = Projection("p", "a", "b", OneToOne(), weight=np.array([1, 2]))
    floats = Projection("p", "a", "b", OneToOne(), weight=np.array([1.0, 2.0]))
    assert ints == floats and hash(ints) == hash(floats)
    zeros = FromList(np.array([0]), np.array([0]))
    assert hash(Projection("q", "a", "b", zeros, weight=np.array([-0.0 + 0.0]))) == hash(
        Projection("q", "a", "b", zeros, weight=np.array([0.0]))
    )
    net = Network(populations=(Population("a", LIFCurrExp(), size=2),))
    assert {net: 1}[Network(populations=(Population("a", LIFCurrExp(), size=2),))] == 1


def test_connector_expansion_is_refused_before_it_starts() -> None:
    huge = Population("a", LIFCurrExp(), size=10**5)
    with pytest.raises(ValidationError) as info:
        Network(populations=(huge,), projections=(Projection("p", "a", "a", FixedProbability(0.5)),))
    message = str(info.value)
    assert "Projection 'p': FixedProbability between 100,000 and 100,000 neurons" in message
    assert "about 5,000,000,000 synapses" in message and "would need about 240 GB of memory" in message
    with pytest.raises(ValidationError, match=r"AllToAll between 1,000,000,000 and 1,000,000,000 neurons"):
        Network(
            populations=(Population("b", LIFCurrExp(), size=10**9),),
            projections=(Projection("q", "b", "b", AllToAll()),),
        )


def test_the_budget_follows_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NEUROMEM_MEMORY_LIMIT", "1M")
    with pytest.raises(ValidationError, match=r"would need about 1.92 MB of memory, more than the 1.05 MB available"):
        Network(
            populations=(Population("a", LIFCurrExp(), size=200),),
            projections=(Projection("p", "a", "a", AllToAll()),),
        )
    monkeypatch.setenv("NEUROMEM_MEMORY_LIMIT", "1G")
    assert (
        Network(
            populations=(Population("a", LIFCurrExp(), size=100),), projections=(Projection("p", "a", "a", AllToAll()),)
        )
        .connection_list("p")
        .pre.size
        == 10_000
    )


def test_delays_whose_buffer_cannot_fit_are_refused_at_validate() -> None:
    net = Network(
        populations=(Population("a", LIFCurrExp(), size=10),),
        projections=(Projection("p", "a", "a", OneToOne(), delay=1e12),),
    )
    with pytest.raises(ValidationError, match=r"Projection 'p': a delay of 1e\+12 ms \(10,000,000,000,000 steps"):
        net.validate(0.1)
    net.validate(1e11)


def test_probe_sampling_must_be_a_whole_number_of_steps() -> None:
    net = Network(
        populations=(Population("a", LIFCurrExp(), size=2),),
        probes=(Probe("a", "v", every_ms=0.25),),
    )
    with pytest.raises(ValidationError, match=r"every_ms = 0.25 ms is not a whole multiple of the time step dt = 0.1"):
        net.validate(0.1)
    net.validate(0.05)
    assert net.probes[0].every_steps(0.05) == 5
    with pytest.raises(ValidationError, match="cannot sample spikes"):
        Probe("a", "spikes", every_ms=1.0)
    with pytest.raises(ValidationError, match="every_ms = -1 ms must be > 0"):
        Probe("a", "v", every_ms=-1.0)


def test_sources_and_sizes_still_build_when_small() -> None:
    net = Network(
        populations=(
            Population("s", SpikeSourcePoisson(size=3, rate=10.0)),
            Population("a", LIFCurrExp(), size=3),
        ),
        projections=(Projection("p", "s", "a", FixedProbability(0.5, seed=1)),),
    )
    assert 0 < net.connection_list("p").pre.size <= 9
