"""What each of PyNN 0.13's system scenarios does on ``neuromem.pynn``: passes, or is refused and why.

The scenarios live in PyNN's source distribution (``pynn-0.13.0/test/system/scenarios``)
and are used from there. Every scenario function PyNN marks with
``run_with_simulators`` is listed here; a scenario that PyNN itself skips where
a package is missing is marked ``skips``. ``NO_SUCH_CELL`` and friends are the
engine's gaps: when a cell type or current source lands in the engine and its
PyNN class in :mod:`neuromem.pynn.standardmodels`, its scenarios move to ``PASS``.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Outcome:
    """``kind`` is "pass", "refused" (``NotImplementedError`` whose message contains ``match``) or "skips"."""

    kind: str
    match: str = ""
    reason: str = ""


PASS = Outcome("pass")


def no_cell(name: str) -> Outcome:
    return Outcome("refused", f"{name} is not available", f"cell type {name} is not in the engine")


def no_source(name: str) -> Outcome:
    return Outcome("refused", f"{name} is not available", f"current source {name} is not in the engine")


def no_synapse(name: str) -> Outcome:
    return Outcome("refused", f"{name} is not available", f"synapse type {name} is not in the engine")


TSODYKS_MARKRAM = no_synapse("TsodyksMarkramSynapse")

DENDRITIC = Outcome(
    "refused",
    "dendritic_delay_fraction",
    "STDP with a dendritic delay (dendritic_delay_fraction=1, PyNN's default); the engine pairs at the axonal arrival",
)

OFF_GRID = Outcome("refused", "spike_precision", "asks for off-grid (precise) spike times; the engine is on-grid")

SCENARIOS: dict[str, Outcome] = {
    "test__simulation_control::test_reset": PASS,
    "test__simulation_control::test_reset_with_clear": PASS,
    "test__simulation_control::test_reset_with_spikes": PASS,
    "test__simulation_control::test_setup": PASS,
    "test__simulation_control::test_run_until": PASS,
    "test_cell_types::test_EIF_cond_alpha_isfa_ista": no_cell("EIF_cond_alpha_isfa_ista"),
    "test_cell_types::test_HH_cond_exp": no_cell("HH_cond_exp"),
    "test_cell_types::issue367": no_cell("EIF_cond_exp_isfa_ista"),
    "test_cell_types::test_SpikeSourcePoisson": PASS,
    "test_cell_types::test_SpikeSourceGamma": no_cell("SpikeSourceGamma"),
    "test_cell_types::test_SpikeSourcePoissonRefractory": no_cell("SpikeSourcePoissonRefractory"),
    "test_cell_types::test_issue511": PASS,
    "test_cell_types::test_update_SpikeSourceArray": PASS,
    "test_cell_types::test_composed_neuron_model_homogeneous_receptors": no_cell("AdExp"),
    "test_connection_handling::test_connections_attribute": PASS,
    "test_connection_handling::test_connection_access_weight_and_delay": PASS,
    "test_connection_handling::test_issue672": PASS,
    "test_connection_handling::test_issue652": DENDRITIC,
    "test_connectors::test_all_to_all_static_no_self": PASS,
    "test_connectors::test_all_to_all_tsodyksmarkram": TSODYKS_MARKRAM,
    "test_connectors::test_fixed_number_pre_no_replacement": PASS,
    "test_connectors::test_fixed_number_pre_with_replacement": PASS,
    "test_connectors::test_fixed_number_pre_with_replacement_heterogeneous_parameters": TSODYKS_MARKRAM,
    "test_connectors::test_fixed_number_post_no_replacement": PASS,
    "test_connectors::test_fixed_number_post_with_replacement": PASS,
    "test_connectors::test_fixed_number_post_with_replacement_heterogeneous_parameters": TSODYKS_MARKRAM,
    "test_connectors::test_issue309": PASS,
    "test_connectors::test_issue622": PASS,
    "test_electrodes::test_changing_electrode": PASS,
    "test_electrodes::test_ticket226": no_cell("IF_curr_alpha"),
    "test_electrodes::test_issue165": PASS,
    "test_electrodes::test_issue321": no_cell("IF_curr_alpha"),
    "test_electrodes::test_issue437": no_cell("IF_curr_alpha"),
    "test_electrodes::test_issue442": no_cell("IF_curr_alpha"),
    "test_electrodes::test_issue445": no_source("ACSource"),
    "test_electrodes::test_issue451": PASS,
    "test_electrodes::test_issue483": PASS,
    "test_electrodes::test_issue487": PASS,
    "test_electrodes::test_issue_465_474_630": no_source("ACSource"),
    "test_electrodes::test_issue497": no_source("ACSource"),
    "test_electrodes::test_issue512": PASS,
    "test_electrodes::test_issue631": no_source("ACSource"),
    "test_electrodes::test_issue759": PASS,
    "test_issue231::test_issue231": PASS,
    "test_issue274::test_issue274": PASS,
    "test_parameter_handling::test_issue241": PASS,
    "test_parameter_handling::test_issue302": PASS,
    "test_parameter_handling::test_set_synaptic_parameters_fully_connected": TSODYKS_MARKRAM,
    "test_parameter_handling::test_set_synaptic_parameters_partially_connected": TSODYKS_MARKRAM,
    "test_parameter_handling::test_set_synaptic_parameters_multiply_connected": TSODYKS_MARKRAM,
    "test_parameter_handling::test_issue505": TSODYKS_MARKRAM,
    "test_procedural_api::test_ticket195": PASS,
    "test_recording::test_reset_recording": PASS,
    "test_recording::test_record_vm_and_gsyn_from_assembly": no_cell("EIF_cond_exp_isfa_ista"),
    "test_recording::test_issue259": OFF_GRID,
    "test_recording::test_sampling_interval": PASS,
    "test_recording::test_mix_procedural_and_oo": PASS,
    "test_recording::test_record_with_filename": PASS,
    "test_recording::test_issue499": PASS,
    "test_scenario1::test_scenario1": PASS,
    "test_scenario1::test_scenario1a": no_cell("IF_cond_alpha"),
    "test_scenario2::test_scenario2": OFF_GRID,
    "test_scenario3::test_scenario3": DENDRITIC,
    "test_scenario4::test_scenario4": no_cell("EIF_cond_exp_isfa_ista"),
    "test_scenario5::test_scenario5": Outcome("skips", reason="multicompartment; PyNN skips it without morphio"),
    "test_synapse_types::test_simple_stochastic_synapse": no_synapse("SimpleStochasticSynapse"),
    "test_ticket166::test_ticket166": PASS,
}

#: Scenarios too long for CI on a 2-core machine (they run with NEUROMEM_PYNN_SLOW=1).
SLOW = {
    "test_cell_types::test_SpikeSourcePoisson": "100 s of simulated time at dt = 0.1 ms: 1,000,000 steps",
}


def summary() -> dict[str, int]:
    """Counts of passed, refused and skipped scenarios, and the total."""
    kinds = [outcome.kind for outcome in SCENARIOS.values()]
    return {kind: kinds.count(kind) for kind in ("pass", "refused", "skips")} | {"total": len(kinds)}


__all__ = ["PASS", "SCENARIOS", "SLOW", "Outcome", "summary"]
