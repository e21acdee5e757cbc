"""The CA3 memory through the exporters: how far pyNN.nest and pyNN.brian2 land from the SpiNNaker gold.

The exported network (``approximate=True``: exact scheme, published STDP tau 3 ms, A 6, w_max 6)
is run on recorded experiment 1 (n = 5, m = 10, 90 ms). The spec predicts that it cannot reproduce
the recording (ca3.md sections 1.3 and 1.5.3); these tests pin by how much. Each simulator runs in
its own process, because NEST and Brian2 keep global state.

Tolerance of the spike counts: the runs are deterministic (spike arrays, fixed connection lists,
no random numbers), but under the exact scheme the CA3 gates sit close to threshold (the blocked
sum 9 - 6 nA is 0.01 mV below it when sampled finely, spec section 1.3), so a change in a
simulator's floating-point evaluation order can flip one gate spike, which propagates to at most
4 spikes downstream (ContCond -> ContCont -> MergeCont -> OUT). Totals are therefore asserted
within +-4 spikes; everything else exactly.
"""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys
import types
from pathlib import Path

import pytest

from neuromem.errors import CapabilityError
from neuromem.export import to_pynn
from neuromem.models.ca3.export import experiment_setup, mapping_report
from neuromem.models.ca3.params import load_params

SPIKE_TOLERANCE = 4

CHILD = """
import json, logging, sys, warnings
warnings.simplefilter("ignore")
from neuromem.models.ca3.export import export_report
report = export_report("cam_exp1", targets=(sys.argv[1],))
with open(sys.argv[2], "w") as file:
    json.dump(report["targets"][sys.argv[1]], file)
"""


def _exported_exp1(target: str, folder: Path) -> dict:
    """Experiment 1 exported to ``target`` and scored, in a fresh process."""
    if importlib.util.find_spec("pyNN") is None or importlib.util.find_spec(target) is None:
        pytest.skip(f"pyNN and {target} are needed")
    path = folder / f"{target}.json"
    done = subprocess.run([sys.executable, "-c", CHILD, target, str(path)], capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(path.read_text())


def _assert_latency_pattern(result: dict) -> None:
    """Every input-driven spike one tick late, every OUT echo three ticks late, no answer on time."""
    populations = result["gold"]["populations"]
    # IN -> CueCue: the exact scheme fires in the tick after the arrival, sPyNNaker in it. All 10
    # recorded CueCue spikes appear, each exactly one tick late; none at the recorded tick.
    assert populations["CueCue"]["matched"] == 0
    assert populations["CueCue"]["best_lag_ticks"] == 1
    assert populations["CueCue"]["matched_at_best_lag"] == populations["CueCue"]["recorded"] == 10
    # One tick per LIF layer: ContCue 1, ContCond 2, ContCont 3, OUT 3 (IN -> X -> Merge -> OUT).
    lags = {name: populations[name]["best_lag_ticks"] for name in ("ContCue", "ContCond", "ContCont", "OUTcont")}
    assert lags == {"ContCue": 1, "ContCond": 2, "ContCont": 3, "OUTcont": 3}
    # ContCue: 32 of its 42 recorded spikes come one tick late; the 10 others are recall-driven
    # spikes through the plastic synapses, which the published STDP does not reproduce.
    assert populations["ContCue"]["matched_at_best_lag"] == 32
    # Not one of the 9 operations is answered at the protocol ticks; reading OUT 3 ticks late
    # recovers the 3 first writes' echoes only (recall answers take 4-6 layers, and the gates fail).
    assert result["answers"]["correct"] == 0 and result["answers"]["operations"] == 9
    assert result["answers_out_lag"]["correct"] == 3
    assert result["answers_out_lag"]["wrong"][0] == "A0@30"


@pytest.mark.pynn
@pytest.mark.gold
def test_nest_export_of_experiment_1_misses_the_gold_by_the_measured_counts(tmp_path: Path) -> None:
    """pyNN.nest, measured: 262 recorded, 306 simulated, 40 matched, 266 extra, 222 missing.

    After the best lag per population 211 of 262 recorded spikes match; 0 of 9 answers are right
    at the protocol ticks, 3 of 9 with OUT read 3 ticks late.
    """
    result = _exported_exp1("nest", tmp_path)
    gold = result["gold"]
    assert gold["recorded"] == 262
    assert not gold["exact"]
    for key, measured in (("simulated", 306), ("matched", 40), ("extra", 266), ("missing", 222)):
        assert abs(gold[key] - measured) <= SPIKE_TOLERANCE, (key, gold[key])
    assert abs(gold["matched_at_best_lag"] - 211) <= SPIKE_TOLERANCE
    # The 40 "matches" are coincidences of the 2-tick write rhythm with a 2-tick lag, not reproduction.
    assert gold["matched"] / gold["recorded"] < 0.2
    _assert_latency_pattern(result)
    assert any("CA3PairRule exported as its published STDP" in w for w in result["warnings"])


@pytest.mark.pynn
@pytest.mark.gold
def test_brian2_export_of_experiment_1_misses_the_gold_by_the_measured_counts(tmp_path: Path) -> None:
    """pyNN.brian2, measured: 262 recorded, 479 simulated, 39 matched, 440 extra, 223 missing.

    After the best lag per population 208 of 262 recorded spikes match; 0 of 9 answers are right
    at the protocol ticks, 3 of 9 with OUT read 3 ticks late. The exported runner gives
    pyNN.brian2's STDP neuromem's order of events (a spike delivers the weight it finds, then
    depresses; same-step pairs are not paired), so pyNN.brian2 runs the exported STDP as the
    torch engine does; NEST's stdp_synapse (dendritic delay, delivery after depression) differs.
    """
    result = _exported_exp1("brian2", tmp_path)
    gold = result["gold"]
    assert gold["recorded"] == 262
    assert not gold["exact"]
    for key, measured in (("simulated", 479), ("matched", 39), ("extra", 440), ("missing", 223)):
        assert abs(gold[key] - measured) <= SPIKE_TOLERANCE, (key, gold[key])
    assert abs(gold["matched_at_best_lag"] - 208) <= SPIKE_TOLERANCE
    assert gold["matched"] / gold["recorded"] < 0.2
    _assert_latency_pattern(result)


@pytest.mark.parametrize(
    ("module", "feature"),
    [("pyNN.nest", "scheme:spinnaker"), ("pyNN.brian2", "scheme:spinnaker"), ("pyNN.spiNNaker", "CA3PairRule")],
)
def test_export_without_approximate_is_refused_naming_feature_and_target(module: str, feature: str) -> None:
    params = load_params()
    net = experiment_setup("cam_exp1").network(params)
    # The refusal happens while planning, before the simulator is touched: a bare module name suffices.
    with pytest.raises(CapabilityError) as error:
        to_pynn(net, types.ModuleType(module), duration=90.0, dt=params.dt_ms)
    message = str(error.value)
    assert f"feature {feature}" in message or f"feature plasticity:{feature}" in message
    assert f"target {module.split('.')[1]!r}" in message
    assert "approximate=True" in message


@pytest.mark.spinnaker
def test_virtual_spinnaker_mapping_of_ca3_n5_m10_fits_one_chip() -> None:
    """Measured: 10 cores (one per population) on 1 chip, +49 system cores; SDRAM per core from
    2,720 B (ContCondInt) to 10,200 B (OUT); at most 9 routing entries per chip; no weight lost."""
    if importlib.util.find_spec("spynnaker") is None or importlib.util.find_spec("pyNN") is None:
        pytest.skip("sPyNNaker is needed (pip install 'spynnaker==1!7.4.1')")
    report = mapping_report(5, 10, duration_ms=90.0)
    assert report["neurons"] == 86 and report["internal_synapses"] == 265
    assert report["cores"] == 10
    assert report["chips"] == 1
    assert report["routing_ok"] and 0 < report["max_routing_entries"] <= 1024
    sizes = {"CueCue": 5, "ContCue": 10, "ContCond": 10, "ContCondInt": 1, "CueCont": 5}
    sizes.update({"ContCont": 10, "MergeCue": 5, "MergeCont": 10, "OUT": 15, "IN": 15})
    assert report["neurons_per_core"] == sizes
    assert all(0 < b < 65536 for b in report["sdram_bytes_per_core"].values())
    assert all(entry["lost"] == 0.0 for entry in report["weights_16bit"].values())
    # The rates come from the torch replay of experiment 1: 10 CueCue spikes / 5 neurons / 90 ms.
    assert report["rates_hz"]["CueCue"] == pytest.approx(22.222, abs=1e-3)
    assert any("CA3PairRule exported as its published STDP" in note for note in report["notes"])
