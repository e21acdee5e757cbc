"""The CA3 core of the sibling DG-CA3-CA1 model, driven by recorded spikes (spec ``ca3.md`` section 3.3).

In the sibling model (Casanueva-Morato et al., IEEE TETC 2024) a decoder (DG)
turns a binary address into the one-hot ``CA3cue`` population, which learns
the content held in ``CA3cont`` through the same plastic synapse as the CAM:
rule R*, all-to-all, delay 1 ms. ``CA3cont`` has the output threshold
(-57.5 mV, neuron set O) and receives the content lines of ``IN`` one-to-one
with 6 nA and a delay of 4 ms, which aligns them with the decoded address.

Here ``CA3cue`` is a spike source replaying the recorded ``CA3cue`` spikes, so
the network tests exactly the plastic core: every ``CA3cont`` spike depends
on the weights learnt so far.

Example
-------
>>> from neuromem.spec import SpikeSourceArray
>>> net = build_sibling_network(SpikeSourceArray(5), SpikeSourceArray(10))
>>> net.size("CA3cont")
10
"""

from __future__ import annotations

from neuromem.errors import ValidationError
from neuromem.models.ca3.params import CA3Params, load_params
from neuromem.spec import AllToAll, Network, OneToOne, Population, Probe, Projection, SpikeSourceArray


def build_sibling_network(
    cue_spikes: SpikeSourceArray, content_inputs: SpikeSourceArray, params: CA3Params | None = None
) -> Network:
    """``CA3cue`` (source) -> ``CA3cont`` (plastic) and ``INcont`` -> ``CA3cont`` (static).

    Parameters
    ----------
    cue_spikes : SpikeSourceArray
        Spikes of the n one-hot address neurons ``CA3cue``.
    content_inputs : SpikeSourceArray
        Spikes of the m content lines of ``IN``.
    params : CA3Params, optional
        Parameter set (its ``[sibling]`` table and rule); default ``ca3_spinnaker``.
    """
    params = params if params is not None else load_params()
    try:
        cell = params.cells[str(params.sibling["content_cell"])]
        weight = float(params.sibling["content_weight"])
        delay = float(params.sibling["content_delay"])
    except KeyError as error:
        raise ValidationError(f"CA3 parameter set {params.name!r}: [sibling] lacks {error}") from None
    m = content_inputs.size
    plastic_delay = params.synapses["CueCue-ContCue"].delay
    return Network(
        populations=(
            Population("CA3cont", cell, m),
            Population("CA3cue", cue_spikes),
            Population("INcont", content_inputs),
        ),
        projections=(
            Projection("INcont-CA3cont", "INcont", "CA3cont", OneToOne(), weight, delay),
            Projection("CA3cue-CA3cont", "CA3cue", "CA3cont", AllToAll(), 0.0, plastic_delay, plasticity=params.rule),
        ),
        probes=(Probe("CA3cont", "spikes"),),
        scheme="spinnaker",
        required_dt=params.dt_ms,
        name="ca3_sibling",
    )
