"""Property-based tests: random valid spec objects round-trip exactly through their files; random
garbage given to constructors, and random corruptions of every saved file, raise the project's own
errors (ValidationError, FileFormatError) and nothing else, and never give a half-built object."""

from __future__ import annotations

import json
import os
import zipfile
from pathlib import Path

import numpy as np
import pytest
import torch
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from neuromem.errors import FileFormatError, ValidationError
from neuromem.record import Recording, SpikeTrains
from neuromem.spec import (
    STDP,
    AdditiveWeightDependence,
    AllToAll,
    CA3PairRule,
    DCSource,
    FixedProbability,
    FromList,
    LIFCurrExp,
    MultiplicativeWeightDependence,
    Network,
    OneToOne,
    Population,
    Probe,
    Projection,
    SpikePairRule,
    SpikeSourceArray,
    SpikeSourcePoisson,
    load,
    save,
)

OURS = (ValidationError, FileFormatError)
SETTINGS = settings(
    max_examples=int(os.environ.get("NEUROMEM_HYPOTHESIS_EXAMPLES", "60")),
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)

positive = st.floats(1e-3, 1e3, allow_nan=False, allow_infinity=False)
voltage = st.floats(-100.0, 0.0, allow_nan=False)
small = st.integers(1, 6)
names = st.from_regex(r"[a-z][a-z0-9_]{0,7}", fullmatch=True)


@st.composite
def lif_cells(draw: st.DrawFn) -> LIFCurrExp:
    v_reset = draw(voltage)
    return LIFCurrExp(
        cm=draw(positive),
        tau_m=draw(positive),
        tau_refrac=draw(st.floats(0.0, 10.0)),
        tau_syn_E=draw(positive),
        tau_syn_I=draw(positive),
        v_rest=draw(voltage),
        v_reset=v_reset,
        v_thresh=v_reset + draw(st.floats(0.01, 50.0)),
        i_offset=draw(st.floats(-5.0, 5.0)),
        v_init=draw(st.none() | voltage),
    )


@st.composite
def sources(draw: st.DrawFn) -> SpikeSourceArray | SpikeSourcePoisson:
    size = draw(small)
    if draw(st.booleans()):
        count = draw(st.integers(0, 8))
        neuron = draw(st.lists(st.integers(0, size - 1), min_size=count, max_size=count))
        times = draw(st.lists(st.floats(0.0, 100.0), min_size=count, max_size=count))
        return SpikeSourceArray(size=size, neuron=np.array(neuron, dtype=np.int64), times_ms=np.array(times))
    duration = draw(st.just(float("inf")) | positive)
    return SpikeSourcePoisson(size, draw(st.floats(0.0, 500.0)), draw(st.floats(0.0, 50.0)), duration, draw(small))


@st.composite
def rules(draw: st.DrawFn) -> STDP | CA3PairRule | None:
    kind = draw(st.sampled_from(["none", "stdp", "ca3"]))
    if kind == "none":
        return None
    w_min = draw(st.floats(0.0, 1.0))
    pairing = draw(st.sampled_from(["all_to_all", "nearest"]))
    amplitudes = st.floats(0.0, 1.0)
    timing = SpikePairRule(draw(positive), draw(positive), draw(amplitudes), draw(amplitudes), pairing)
    weight_rule = draw(st.sampled_from([AdditiveWeightDependence, MultiplicativeWeightDependence]))
    stdp = STDP(timing, weight_rule(w_min, w_min + draw(st.floats(0.0, 5.0))))
    if kind == "stdp":
        return stdp
    return CA3PairRule(pairing=pairing, published=draw(st.none() | st.just(stdp)))


@st.composite
def networks(draw: st.DrawFn) -> Network:
    population_names = draw(st.lists(names, min_size=1, max_size=4, unique=True))
    populations = []
    for i, name in enumerate(population_names):
        if i > 0 and draw(st.booleans()):
            populations.append(Population(name, draw(sources())))
        else:
            populations.append(Population(name, draw(lif_cells()), size=draw(small)))
    lif = [p for p in populations if not p.is_source]
    projections = []
    for k in range(draw(st.integers(0, 3))):
        pre = draw(st.sampled_from(populations))
        post = draw(st.sampled_from(lif))
        n_pre, n_post = int(pre.size), int(post.size)
        kind = draw(st.sampled_from(["one", "all", "prob", "list"]))
        if kind == "one" and n_pre == n_post:
            connector, count = OneToOne(), n_pre
        elif kind == "prob":
            connector, count = FixedProbability(draw(st.floats(0.0, 1.0)), draw(st.booleans()), draw(small)), None
        elif kind == "list":
            count = draw(st.integers(0, 6))
            connector = FromList(
                np.array(draw(st.lists(st.integers(0, n_pre - 1), min_size=count, max_size=count)), dtype=np.int64),
                np.array(draw(st.lists(st.integers(0, n_post - 1), min_size=count, max_size=count)), dtype=np.int64),
            )
        else:
            connector, count = AllToAll(True), n_pre * n_post
        weight: float | np.ndarray = draw(st.floats(0.0, 10.0))
        if count is not None and draw(st.booleans()):
            weight = np.array(draw(st.lists(st.floats(0.0, 10.0), min_size=count, max_size=count)))
        projections.append(
            Projection(
                f"p{k}",
                pre.name,
                post.name,
                connector,
                weight=weight,
                delay=float(draw(st.integers(1, 5))),
                receptor=draw(st.sampled_from(["excitatory", "inhibitory"])),
                plasticity=draw(rules()),
            )
        )
    probes = [Probe(p.name) for p in populations[:1]]
    if lif and draw(st.booleans()):
        probes.append(Probe(lif[0].name, draw(st.sampled_from(["v", "i_exc", "i_inh"])), draw(st.none() | positive)))
    return Network(
        populations=tuple(populations),
        projections=tuple(projections),
        probes=tuple(probes),
        scheme=draw(st.sampled_from(["exact", "spinnaker"])),
        required_dt=draw(st.none() | positive),
        name=draw(names),
    )


@SETTINGS
@given(net=networks())
def test_random_networks_round_trip_exactly(tmp_path_factory: pytest.TempPathFactory, net: Network) -> None:
    folder = tmp_path_factory.mktemp("net")
    path = save(net, folder / "net")
    again = load(path)
    assert again == net and hash(again) == hash(net)
    for projection in net.projections:
        for ours, theirs in zip(net.connection_list(projection.name), again.connection_list(projection.name)):
            np.testing.assert_array_equal(ours, theirs)
    assert [p.name for p in folder.iterdir()] == ["net.npz"]


garbage = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(2**70), 2**70),
    st.floats(),
    st.text(max_size=5),
    st.lists(st.floats(), max_size=3),
    st.dictionaries(st.text(max_size=3), st.integers(), max_size=2),
    st.builds(lambda v: np.array(v), st.lists(st.floats(), max_size=3)),
)

CONSTRUCTORS = {
    "LIFCurrExp": (LIFCurrExp, ["cm", "tau_m", "tau_refrac", "tau_syn_E", "v_rest", "v_reset", "v_thresh"]),
    "SpikeSourceArray": (SpikeSourceArray, ["size", "neuron", "times_ms"]),
    "SpikeSourcePoisson": (SpikeSourcePoisson, ["size", "rate", "start", "duration", "seed"]),
    "DCSource": (DCSource, ["name", "target", "amplitude", "start", "stop"]),
    "FixedProbability": (FixedProbability, ["p", "allow_self", "seed"]),
    "AllToAll": (AllToAll, ["allow_self"]),
    "FromList": (FromList, ["pre", "post"]),
    "SpikePairRule": (SpikePairRule, ["tau_plus", "tau_minus", "A_plus", "A_minus", "pairing"]),
    "AdditiveWeightDependence": (AdditiveWeightDependence, ["w_min", "w_max"]),
    "Population": (Population, ["name", "cell", "size"]),
    "Projection": (Projection, ["name", "pre", "post", "connector", "weight", "delay", "receptor", "plasticity"]),
    "Probe": (Probe, ["target", "variable", "every_ms"]),
    "Network": (Network, ["populations", "projections", "probes", "scheme", "required_dt", "name"]),
}
DEFAULTS = {
    "FromList": {"pre": [0], "post": [0]},
    "FixedProbability": {"p": 0.5},
    "SpikeSourceArray": {"size": 2},
    "SpikeSourcePoisson": {"size": 2, "rate": 10.0},
    "DCSource": {"name": "s", "target": "a"},
    "Population": {"name": "a", "cell": LIFCurrExp(), "size": 2},
    "Projection": {"name": "p", "pre": "a", "post": "b", "connector": OneToOne()},
    "Probe": {"target": "a"},
    "Network": {"populations": (Population("a", LIFCurrExp(), size=2),)},
}


@SETTINGS
@given(which=st.sampled_from(sorted(CONSTRUCTORS)), data=st.data())
def test_constructors_given_garbage_raise_validation_errors_only(which: str, data: st.DataObject) -> None:
    cls, fields = CONSTRUCTORS[which]
    field = data.draw(st.sampled_from(fields))
    kwargs = dict(DEFAULTS.get(which, {}))
    kwargs[field] = data.draw(garbage)
    try:
        obj = cls(**kwargs)
    except ValidationError:
        return
    assert obj == cls(**{k: v for k, v in vars(obj).items() if not k.startswith("_")})  # a valid, complete object


# -- corruptions of saved files ------------------------------------------------------------------------------

json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-(10**6), 10**6) | st.floats(allow_nan=False) | st.text(max_size=4),
    lambda children: st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=4), children, max_size=3),
    max_leaves=6,
)


def _paths(tree: object, prefix: tuple = ()) -> list[tuple]:
    found = [prefix]
    if isinstance(tree, dict):
        for key, value in tree.items():
            found += _paths(value, (*prefix, key))
    elif isinstance(tree, list):
        for index, value in enumerate(tree):
            found += _paths(value, (*prefix, index))
    return found


def _replace(tree: object, path: tuple, value: object) -> object:
    if not path:
        return value
    head, rest = path[0], path[1:]
    copy = dict(tree) if isinstance(tree, dict) else list(tree)  # type: ignore[call-overload]
    copy[head] = _replace(copy[head], rest, value)
    return copy


def _members(path: Path) -> dict[str, np.ndarray]:
    with np.load(path, allow_pickle=False) as data:
        return {k: data[k] for k in data.files}


@st.composite
def corruptions(draw: st.DrawFn, original: bytes, members: dict[str, np.ndarray]) -> bytes | dict[str, np.ndarray]:
    """A corrupted file: raw bytes flipped or cut, a header node replaced, or an array replaced."""
    kind = draw(st.sampled_from(["bytes", "truncate", "header", "array", "drop"]))
    if kind == "bytes":
        data = bytearray(original)
        for _ in range(draw(st.integers(1, 4))):
            data[draw(st.integers(0, len(data) - 1))] = draw(st.integers(0, 255))
        return bytes(data)
    if kind == "truncate":
        return original[: draw(st.integers(0, len(original) - 1))]
    changed = dict(members)
    if kind == "header":
        tree = json.loads(changed["header"].tobytes().decode())
        path = draw(st.sampled_from(_paths(tree)))
        tree = _replace(tree, path, draw(json_values))
        changed["header"] = np.frombuffer(json.dumps(tree).encode(), dtype=np.uint8)
    elif kind == "array":
        name = draw(st.sampled_from(sorted(changed)))
        shape = draw(st.lists(st.integers(0, 4), max_size=3))
        dtype = draw(st.sampled_from([np.float64, np.float32, np.int64, np.uint8, np.bool_]))
        values = draw(st.sampled_from([0.0, 1.0, -1.0, np.nan, np.inf, 1e30, 7.0]))
        with np.errstate(invalid="ignore"):
            changed[name] = np.full(shape, values).astype(dtype)
    else:
        changed.pop(draw(st.sampled_from(sorted(changed))))
    return changed


def _write(path: Path, corrupted: bytes | dict[str, np.ndarray]) -> None:
    if isinstance(corrupted, bytes):
        path.write_bytes(corrupted)
    else:
        np.savez(path, **corrupted)


def _corruption_test(path: Path, load_file: object, check: object, data: st.DataObject) -> None:
    original, members = path.read_bytes(), _members(path)
    corrupted = data.draw(corruptions(original, members))
    target = path.with_name("corrupt.npz")
    _write(target, corrupted)
    try:
        loaded = load_file(target)  # type: ignore[operator]
    except OURS:
        return
    except zipfile.BadZipFile as error:  # pragma: no cover - reported below with the corruption
        raise AssertionError(f"raw zip error escaped: {error}") from error
    check(loaded)  # type: ignore[operator]


FIXED_NETWORK = Network(
    populations=(
        Population("s", SpikeSourceArray.from_lists([[1.0, 2.0], [3.0]])),
        Population("a", LIFCurrExp(), size=2),
    ),
    projections=(
        Projection(
            "p",
            "s",
            "a",
            FromList(np.array([0, 1]), np.array([1, 0])),
            weight=np.array([0.5, 1.5]),
            plasticity=STDP(SpikePairRule(), AdditiveWeightDependence(0.0, 2.0)),
        ),
    ),
    probes=(Probe("a", "v", every_ms=1.0),),
)


@SETTINGS
@given(data=st.data())
def test_corrupted_spec_files_raise_our_errors_only(
    tmp_path_factory: pytest.TempPathFactory, data: st.DataObject
) -> None:
    path = save(FIXED_NETWORK, tmp_path_factory.mktemp("spec") / "net")

    def check(loaded: object) -> None:
        assert isinstance(loaded, Network)
        loaded.validate(1.0)

    _corruption_test(path, load, check, data)


def _fixed_recording() -> Recording:
    spikes = SpikeTrains.from_arrays(np.array([0, 1, 1]), np.array([1, 0, 2]), np.array([3, 4, 9]))
    return Recording(
        0.5,
        2,
        10,
        2,
        {"a": 3},
        spikes={"a": spikes},
        traces={("a", "v"): np.linspace(-70, -50, 2 * 4 * 3).reshape(2, 4, 3)},
        weights={"p": (np.array([4, 8]), np.ones((2, 2, 5)))},
        trace_every={("a", "v"): 2},
    )


@SETTINGS
@given(data=st.data())
def test_corrupted_recordings_raise_our_errors_only(
    tmp_path_factory: pytest.TempPathFactory, data: st.DataObject
) -> None:
    path = _fixed_recording().save(tmp_path_factory.mktemp("rec") / "rec", compress=data.draw(st.booleans()))

    def check(loaded: object) -> None:
        assert isinstance(loaded, Recording)
        Recording(**{k: getattr(loaded, k) for k in vars(loaded)})  # passes every construction check

    _corruption_test(path, Recording.load, check, data)


@pytest.fixture(scope="module")
def hlop_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from neuromem.models.hlop.io import save_learner
    from neuromem.models.hlop.learner import TrainConfig
    from neuromem.models.hlop.network import NetworkConfig
    from neuromem.models.hlop.projection import HLOPConfig, HLOPLearner

    torch.set_num_threads(1)
    net = NetworkConfig(input_shape=(8,), hidden=(4,), n_classes=2, n_heads=2, num_steps=2, threshold=0.5)
    learner = HLOPLearner(net, TrainConfig(epochs=1, batch_size=8), HLOPConfig(first=(2, 2), epochs=1, samples=16))
    g = torch.Generator().manual_seed(0)
    learner.train_task(0, torch.rand(16, 8, generator=g), torch.randint(0, 2, (16,), generator=g))
    return save_learner(learner, tmp_path_factory.mktemp("hlop") / "learner")


@SETTINGS
@given(data=st.data())
def test_corrupted_hlop_learners_raise_our_errors_only(hlop_file: Path, data: st.DataObject) -> None:
    from neuromem.models.hlop.io import load_learner
    from neuromem.models.hlop.learner import ContinualLearner

    def check(loaded: object) -> None:
        assert isinstance(loaded, ContinualLearner)
        for parameter in loaded.net.parameters():
            assert bool(torch.isfinite(parameter).all())
        loaded.predict(0, np.full((2, 8), 0.5, np.float32)) if 0 in loaded.task_heads else None

    _corruption_test(hlop_file, load_learner, check, data)


@pytest.fixture(scope="module")
def ca3_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from neuromem.models.ca3 import CA3Memory

    memory = CA3Memory(3, 4)
    memory.store(1, [0, 2])
    return memory.save(tmp_path_factory.mktemp("ca3") / "memory.npz")


@SETTINGS
@given(data=st.data())
def test_corrupted_ca3_memories_raise_our_errors_only(ca3_file: Path, data: st.DataObject) -> None:
    from neuromem.models.ca3 import CA3Memory

    def check(loaded: object) -> None:
        assert isinstance(loaded, CA3Memory) and loaded.tick >= 0
        w_min, w_max = loaded.params.rule.w_min, loaded.params.w_max
        for weights in loaded.weights().values():
            assert np.isfinite(weights).all() and weights.min() >= w_min and weights.max() <= w_max

    _corruption_test(ca3_file, CA3Memory.load, check, data)


@pytest.fixture(scope="module")
def sparsey_files(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    from neuromem.models.sparsey import CSAParams, Hierarchy, LevelParams, MacLayer, save_hierarchy, save_layer

    folder = tmp_path_factory.mktemp("sparsey")
    layer = MacLayer.single(12, 2, 3, params=CSAParams(sat_threshold=0.3), horizontal=True, seed=1)
    net = Hierarchy((4, 4), [LevelParams(grid=(2, 2), Q=2, K=2, rf_radius=0.6), LevelParams(grid=(1, 1), Q=2, K=2)])
    g = torch.Generator().manual_seed(0)
    for _ in range(3):
        layer.learn((torch.rand(12, generator=g) < 0.4).float())
        net.learn((torch.rand(16, generator=g) < 0.4).float())
    return {"layer": save_layer(layer, folder / "layer"), "hierarchy": save_hierarchy(net, folder / "net")}


@SETTINGS
@given(kind=st.sampled_from(["layer", "hierarchy"]), data=st.data())
def test_corrupted_sparsey_files_raise_our_errors_only(
    sparsey_files: dict[str, Path], kind: str, data: st.DataObject
) -> None:
    from neuromem.models.sparsey import Hierarchy, MacLayer, load_hierarchy, load_layer

    def check(loaded: object) -> None:
        layers = [loaded] if kind == "layer" else loaded.layers  # type: ignore[attr-defined]
        assert isinstance(loaded, MacLayer if kind == "layer" else Hierarchy)
        for layer in layers:
            assert bool((layer.n_learned >= 0).all())
            for weights in layer.weights.values():
                assert bool(((weights == 0) | (weights == 1)).all())

    _corruption_test(sparsey_files[kind], load_layer if kind == "layer" else load_hierarchy, check, data)
