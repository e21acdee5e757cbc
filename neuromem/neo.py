"""Recordings as Neo Blocks (the format PyNN and the electrophysiology tools read) and back.

One :class:`~neuromem.record.Recording` becomes **one Block with one Segment per
trial** (Neo's model of a trial; ``segment.annotations["trial"]``), holding every
population:

* spikes: one ``SpikeTrain`` per neuron, times in ms, annotated as PyNN does
  (``source_population``, ``source_index``, ``channel_id``);
* traces: one ``AnalogSignal`` per (population, variable), named with PyNN's
  recordable (``v`` in mV, ``isyn_exc`` / ``isyn_inh`` in nA), one column per neuron
  (``array_annotations["channel_index"]``), sampled every ``trace_every`` steps;
* weights: one ``IrregularlySampledSignal`` per plastic projection, named
  ``weight`` (nA, one column per synapse), at the snapshot times.

Time labels are neuromem's: everything that happens in tick ``n`` (the step
from ``n dt`` to ``(n+1) dt``) — a threshold crossing, the state at the end of
the step — is stamped ``n dt``. Blocks written by PyNN simulators (NEST's
convention, which neuromem.pynn follows) stamp a spike with the end of its step
and start each signal with the value at t = 0; read them with
``time_labels="pynn"``.

Examples
--------
>>> block = recording.to_neo()                                  # doctest: +SKIP
>>> block.segments[0].spiketrains[0].times                      # doctest: +SKIP
>>> Recording.from_neo(block).spikes["cells"].pairs() == recording.spikes["cells"].pairs()  # doctest: +SKIP
"""

from __future__ import annotations

from collections import defaultdict

import numpy as np

from neuromem.errors import ValidationError
from neuromem.record import Recording, SpikeTrains

try:
    import neo
    import quantities as pq
except ImportError as error:  # pragma: no cover - depends on the installation
    raise ImportError("neuromem.neo needs Neo: pip install neo (it comes with neuromem[export])") from error

#: neuromem probe variable -> (PyNN recordable, unit).
VARIABLES = {"v": ("v", "mV"), "i_exc": ("isyn_exc", "nA"), "i_inh": ("isyn_inh", "nA")}
#: PyNN recordable -> neuromem probe variable.
FROM_PYNN = {pynn: ours for ours, (pynn, _) in VARIABLES.items()}
#: How the steps of a Block are stamped: (steps subtracted from round(t / dt), first signal sample dropped).
TIME_LABELS = {"neuromem": (0, False), "pynn": (1, True)}


def recording_to_neo(recording: Recording) -> neo.Block:
    """``recording`` as one Neo Block, one Segment per trial (units attached: ms, mV, nA)."""
    dt = recording.dt
    block = neo.Block(name="neuromem recording", description="neuromem Recording, one segment per trial")
    block.annotate(
        dt=dt,
        start_tick=recording.start_tick,
        stop_tick=recording.stop_tick,
        batch_size=recording.batch_size,
        sizes=dict(recording.sizes),
        time_labels="neuromem",
        simulator="neuromem",
    )
    t_start, t_stop = recording.start_tick * dt * pq.ms, recording.stop_tick * dt * pq.ms
    for trial in range(recording.batch_size):
        segment = neo.Segment(name=f"trial{trial:03d}", index=trial)
        segment.annotate(trial=trial)
        for population, trains in recording.spikes.items():
            mine = trains.of_trial(trial)
            for i in range(recording.sizes[population]):
                train = neo.SpikeTrain(
                    mine.tick[mine.neuron == i] * dt,
                    units="ms",
                    t_start=t_start,
                    t_stop=t_stop,
                    source_population=population,
                    source_index=i,
                    channel_id=i,
                )
                segment.spiketrains.append(train)
        for (population, variable), values in recording.traces.items():
            name, unit = VARIABLES.get(variable, (variable, "dimensionless"))
            ticks = recording.trace_ticks(population, variable)
            every = recording.trace_every.get((population, variable), 1)
            first = ticks[0] if ticks.size else recording.start_tick
            signal = neo.AnalogSignal(
                values[trial],
                units=unit,
                t_start=first * dt * pq.ms,
                sampling_period=every * dt * pq.ms,
                name=name,
                source_population=population,
                neuromem_variable=variable,
                array_annotations={"channel_index": np.arange(values.shape[2])},
            )
            segment.analogsignals.append(signal)
        for projection, (ticks, values) in recording.weights.items():
            signal = neo.IrregularlySampledSignal(
                ticks * dt, values[:, trial, :], units="nA", time_units="ms", name="weight", projection=projection
            )
            segment.irregularlysampledsignals.append(signal)
        block.segments.append(segment)
    return block


def recording_from_neo(block: neo.Block, time_labels: str | None = None) -> Recording:
    """The Recording a Neo Block holds: each Segment one trial.

    Parameters
    ----------
    block : neo.Block
        Written by :func:`recording_to_neo`, or by a PyNN simulator's ``get_data()``.
    time_labels : {"neuromem", "pynn"} or None
        How the Block stamps steps (see the module docstring); None reads the
        Block's ``time_labels`` annotation, and takes "pynn" for Blocks without one.

    Raises
    ------
    ValidationError
        A Block without ``dt``, with trials of different lengths, or with values
        a Recording cannot hold (the message names the object).
    """
    if not isinstance(block, neo.Block):
        raise ValidationError(f"from_neo: expected a neo.Block, got {type(block).__name__}")
    labels = time_labels or block.annotations.get("time_labels", "pynn")
    if labels not in TIME_LABELS:
        raise ValidationError(f"from_neo: time_labels = {labels!r}; allowed: {', '.join(TIME_LABELS)}")
    offset, drop_first = TIME_LABELS[labels]
    if "dt" not in block.annotations:
        raise ValidationError("from_neo: the Block has no 'dt' annotation (time step, ms); it is needed for ticks")
    dt = float(block.annotations["dt"])
    if not block.segments:
        raise ValidationError("from_neo: the Block has no segment (one segment per trial is expected)")
    tick = lambda t: np.rint(np.asarray(t.rescale(pq.ms).magnitude, dtype=np.float64) / dt).astype(np.int64)  # noqa: E731
    start, stop = _span(block, tick, labels)
    sizes = _sizes(block)
    spikes: dict[str, list[np.ndarray]] = defaultdict(list)
    traces: dict[tuple[str, str], list[np.ndarray]] = defaultdict(list)
    every: dict[tuple[str, str], int] = {}
    weights: dict[str, list[np.ndarray]] = defaultdict(list)
    weight_ticks: dict[str, np.ndarray] = {}
    for trial, segment in enumerate(block.segments):
        for train in segment.spiketrains:
            population = str(train.annotations.get("source_population", block.name or "population"))
            ticks = tick(train.times) - offset
            index = int(train.annotations.get("source_index", train.annotations.get("channel_id", 0)))
            spikes[population].append(np.stack([np.full(ticks.size, trial), np.full(ticks.size, index), ticks]))
        for signal in segment.analogsignals:
            population = str(signal.annotations.get("source_population", block.name or "population"))
            variable = str(signal.annotations.get("neuromem_variable", FROM_PYNN.get(signal.name, signal.name)))
            key = (population, variable)
            every[key] = int(round(float(signal.sampling_period.rescale(pq.ms).magnitude) / dt))
            if drop_first and every[key] != 1:
                raise ValidationError(
                    f"from_neo: signal {signal.name!r} of {population!r} is sampled every {every[key]} steps with"
                    " PyNN's time labels; its samples do not fall on neuromem's sampling ticks (record every step)"
                )
            values = np.asarray(signal.magnitude, dtype=np.float64)[1 if drop_first else 0 :]
            columns = np.asarray(signal.array_annotations.get("channel_index", np.arange(values.shape[1])))
            full = np.full((values.shape[0], sizes[population]), np.nan)
            full[:, columns] = values
            traces[key].append(full)
        for signal in segment.irregularlysampledsignals:
            name = str(signal.annotations.get("projection", signal.name))
            weight_ticks[name] = tick(signal.times) - offset
            weights[name].append(np.asarray(signal.rescale(pq.nA).magnitude, dtype=np.float64))
    batch = len(block.segments)
    trains = {
        name: SpikeTrains.from_arrays(*np.concatenate(parts, axis=1)) if parts else SpikeTrains.empty()
        for name, parts in spikes.items()
    }
    try:
        stacked_traces = {key: np.stack(parts) for key, parts in traces.items()}
        stacked_weights = {name: (weight_ticks[name], np.stack(parts, axis=1)) for name, parts in weights.items()}
    except ValueError as error:
        raise ValidationError(f"from_neo: the trials of the Block differ in length ({error})") from None
    trace_every = {key: value for key, value in every.items() if value != 1}
    return Recording(dt, start, stop, batch, sizes, trains, stacked_traces, stacked_weights, trace_every)


def _span(block: neo.Block, tick: object, labels: str) -> tuple[int, int]:
    """(start_tick, stop_tick): the annotations, else the first segment's time range.

    A spike train spans ``[t_start, t_stop)`` in both conventions; a signal's samples end at
    tick ``stop - 1`` with neuromem's labels and at ``stop`` (the state at the end of the run)
    with PyNN's.
    """
    if "start_tick" in block.annotations and "stop_tick" in block.annotations:
        return int(block.annotations["start_tick"]), int(block.annotations["stop_tick"])
    segment = block.segments[0]
    if segment.spiketrains:
        train = segment.spiketrains[0]
        return int(tick(train.t_start)), int(tick(train.t_stop))  # type: ignore[operator]
    if segment.analogsignals:
        signal = segment.analogsignals[0]
        every = int(round(float(signal.sampling_period.rescale(pq.ms).magnitude) / float(block.annotations["dt"])))
        first = int(tick(signal.t_start))  # type: ignore[operator]
        last = first + (signal.shape[0] - 1) * every
        return first, last if labels == "pynn" else last + 1
    raise ValidationError("from_neo: the Block holds no spike train or signal to take its time range from")


def _sizes(block: neo.Block) -> dict[str, int]:
    """Population sizes: the annotation written by :func:`recording_to_neo`, else PyNN's ``size``, else the data."""
    if isinstance(block.annotations.get("sizes"), dict):
        return {str(k): int(v) for k, v in block.annotations["sizes"].items()}
    found: dict[str, int] = defaultdict(int)
    for segment in block.segments:
        for train in segment.spiketrains:
            name = str(train.annotations.get("source_population", block.name or "population"))
            found[name] = max(found[name], int(train.annotations.get("source_index", 0)) + 1)
        for signal in segment.analogsignals:
            name = str(signal.annotations.get("source_population", block.name or "population"))
            columns = signal.array_annotations.get("channel_index", np.arange(signal.shape[1]))
            found[name] = max(found[name], int(np.max(columns)) + 1)
    if "size" in block.annotations and len(found) == 1:
        (name,) = found
        found[name] = max(found[name], int(block.annotations["size"]))
    return dict(found)


__all__ = ["FROM_PYNN", "TIME_LABELS", "VARIABLES", "recording_from_neo", "recording_to_neo"]
