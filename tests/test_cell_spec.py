"""Cell types and current sources as spec objects: validation, registry, files (JSON+npz and TOML)."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest

from neuromem.cells.registry import CELL_MODELS, model_of
from neuromem.errors import ValidationError
from neuromem.spec import (
    AllToAll,
    DCSource,
    IF_cond_exp,
    IF_curr_delta,
    IF_curr_exp,
    Izhikevich,
    LIFCurrExp,
    Network,
    Population,
    Probe,
    Projection,
    SpikeSourceArray,
    StepCurrentSource,
    load,
    save,
)
from neuromem.spec.toml import read_model


def test_lifcurrexp_is_if_curr_exp_under_its_earlier_name_in_python_and_in_files(tmp_path: Path) -> None:
    assert LIFCurrExp is IF_curr_exp
    # A version-1 pair written before the rename.
    (tmp_path / "old.json").write_text(
        json.dumps(
            {"schema": "neuromem.spec", "version": 1, "object": {"type": "LIFCurrExp", "fields": {"tau_m": 12.0}}}
        )
    )
    np.savez(tmp_path / "old.npz")
    assert load(tmp_path / "old.json") == IF_curr_exp(tau_m=12.0)
    # A current file whose header and tree still say LIFCurrExp.
    path = save(IF_curr_exp(tau_m=12.0), tmp_path / "cell")
    with np.load(path, allow_pickle=False) as data:
        members = {key: data[key] for key in data.files}
    text = members.pop("header").tobytes().decode().replace('"IF_curr_exp"', '"LIFCurrExp"')
    assert text.count("LIFCurrExp") >= 2
    np.savez(path, header=np.frombuffer(text.encode(), dtype=np.uint8), **members)
    assert load(path) == IF_curr_exp(tau_m=12.0)


@pytest.mark.parametrize(
    ("make", "field"),
    [
        (lambda: IF_curr_delta(tau_m=0.0), "tau_m"),
        (lambda: IF_curr_delta(v_reset=-40.0, v_thresh=-50.0), "v_reset"),
        (lambda: IF_cond_exp(tau_syn_I=-1.0), "tau_syn_I"),
        (lambda: IF_cond_exp(e_rev_E=math.nan), "e_rev_E"),
        (lambda: Izhikevich(a=0.0), "a"),
        (lambda: Izhikevich(c=35.0), "c"),
        (lambda: Izhikevich(u_init=math.inf), "u_init"),
    ],
)
def test_cell_types_refuse_bad_parameters_naming_the_field(make, field) -> None:
    with pytest.raises(ValidationError, match=field):
        make()


def test_every_registered_cell_type_has_pynn_names_units_and_recordables() -> None:
    assert set(CELL_MODELS) == {"IF_curr_exp", "IF_curr_delta", "IF_cond_exp", "Izhikevich"}
    for name, model in CELL_MODELS.items():
        cell = model.spec()
        assert model_of(cell) is model and model.pynn.name == name
        assert set(cell.parameters()) | set(cell.initial_names) == set(cell.units)
        assert set(model.pynn.recordables) <= set(cell.recordables)
        assert set(cell.recordables) <= set(model.torch.state._fields)
    assert IF_cond_exp().weight_unit == "uS" and Izhikevich().weight_unit == "mV"
    assert Izhikevich().initial_values() == {"v": -70.0, "u": -14.0}


def test_probes_of_variables_a_cell_type_does_not_record_are_refused_naming_what_it_records() -> None:
    population = Population("d", IF_curr_delta(), size=2)
    with pytest.raises(
        ValidationError, match=r"'d' is an IF_curr_delta population and has no i_exc; it records spikes, v"
    ):
        Network(populations=(population,), probes=(Probe("d", "i_exc"),))
    Network(populations=(Population("c", IF_cond_exp(), size=1),), probes=(Probe("c", "gsyn_inh"),))


def _network(*sources: object) -> Network:
    return Network(
        populations=(
            Population("stim", SpikeSourceArray.from_lists([[1.0]])),
            Population("cells", IF_curr_exp(), size=4),
        ),
        projections=(Projection("p", "stim", "cells", AllToAll(), weight=1.0, delay=1.0),),
        current_sources=tuple(sources),  # type: ignore[arg-type]
    )


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda: DCSource("s", "cells", amplitude=1.0, start=5.0, stop=5.0), "stop = 5.0 ms must be after start"),
        (lambda: DCSource("s", "cells", start=-1.0), "start = -1 ms must be >= 0"),
        (lambda: DCSource("s", "cells", stop="abc"), "stop = 'abc' is not a number"),
        (lambda: DCSource("s", "cells", stop=None), "stop = None is not a number"),
        (lambda: DCSource("s", "cells", stop=True), "stop = True is not a number"),
        (lambda: DCSource("s", "cells", amplitude=math.nan), "amplitude"),
        (lambda: DCSource("s", "cells", neurons=[1, 1]), "neurons lists an index twice"),
        (lambda: StepCurrentSource("s", "cells", times=[1.0, 1.0], amplitudes=[0.1, 0.2]), "strictly increasing"),
        (lambda: StepCurrentSource("s", "cells", times=[1.0], amplitudes=[0.1, 0.2]), "one amplitude per time"),
        (lambda: _network(DCSource("s", "ghost")), "target 'ghost' is not a population"),
        (lambda: _network(DCSource("s", "stim")), "'stim' is a spike source; it takes no current"),
        (lambda: _network(DCSource("s", "cells", neurons=[0, 4])), r"neurons holds index 4, outside 0..3"),
        (lambda: _network(DCSource("s", "cells"), DCSource("s", "cells")), "two current sources are named 's'"),
    ],
)
def test_current_sources_refuse_bad_values_naming_source_and_field(make, message) -> None:
    with pytest.raises(ValidationError, match=message):
        make()


def test_current_source_switch_times_off_the_grid_are_refused_at_validate() -> None:
    net = _network(StepCurrentSource("ramp", "cells", times=[1.0, 2.05], amplitudes=[0.1, 0.0]))
    net.validate(dt=0.05)
    with pytest.raises(ValidationError, match=r"StepCurrentSource 'ramp': switch time 2.05 ms is not a whole number"):
        net.validate(dt=0.1)


def test_networks_of_every_cell_type_with_current_sources_save_and_load_equal(tmp_path: Path) -> None:
    net = Network(
        populations=(
            Population("a", IF_curr_delta(tau_m=8.0), size=3),
            Population("b", IF_cond_exp(e_rev_I=-75.0), size=2),
            Population("c", Izhikevich(d=8.0, u_init=-10.0), size=2),
        ),
        projections=(Projection("ab", "a", "b", AllToAll(), weight=0.01, delay=1.0),),
        probes=(Probe("b", "gsyn_exc"), Probe("c", "u")),
        current_sources=(
            DCSource("dc", "a", amplitude=0.4, start=2.0, stop=8.0, neurons=[0, 2]),
            StepCurrentSource("step", "c", times=[1.0, 3.0], amplitudes=[0.002, 0.0]),
        ),
    )
    assert load(save(net, tmp_path / "net")) == net


def test_model_file_reads_current_sources_and_new_cell_types(tmp_path: Path) -> None:
    path = tmp_path / "model.toml"
    path.write_text(
        """
[network]
name = "mixed"
[[population]]
name = "d"
size = 4
cell = { type = "IF_curr_delta", tau_m = 10.0 }
[[population]]
name = "i"
size = 2
cell = { type = "Izhikevich", d = 8.0 }
[[current_source]]
type = "DCSource"
name = "bias"
target = "d"
amplitude = 0.5
start = 10.0
neurons = [0, 3]
[[current_source]]
type = "StepCurrentSource"
name = "ramp"
target = "i"
times = [1.0, 2.0]
amplitudes = [0.01, 0.0]
"""
    )
    network = read_model(path).network
    assert [type(p.cell).__name__ for p in network.populations] == ["IF_curr_delta", "Izhikevich"]
    bias, ramp = network.current_sources
    assert bias == DCSource("bias", "d", amplitude=0.5, start=10.0, neurons=[0, 3])
    np.testing.assert_array_equal(ramp.amplitudes, [0.01, 0.0])
    assert bias.changes(0.1)[0].tolist() == [100]
