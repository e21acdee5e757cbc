"""Rasters, rate panels, weight maps, and how a Recording shows itself (text, HTML, Figure)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from neuromem.display import binned_rates, recording_html, recording_text
from neuromem.errors import ValidationError
from neuromem.record import Recording, SpikeTrains

matplotlib = pytest.importorskip("matplotlib")
from matplotlib.backends.backend_agg import FigureCanvasAgg  # noqa: E402

from neuromem import plot  # noqa: E402


def _recording() -> Recording:
    """Two trials of 100 ms at dt = 0.5 ms: 'exc' (4 neurons) and 'inh' (2 neurons)."""
    exc = SpikeTrains.from_arrays([0, 0, 0, 0, 1], [0, 1, 3, 3, 2], [10, 20, 30, 190, 5])
    inh = SpikeTrains.from_arrays([0, 0], [0, 1], [100, 101])
    weights = (np.array([0, 100], dtype=np.int64), np.zeros((2, 2, 3)))
    return Recording(
        dt=0.5,
        start_tick=0,
        stop_tick=200,
        batch_size=2,
        sizes={"exc": 4, "inh": 2},
        spikes={"exc": exc, "inh": inh},
        traces={("exc", "v"): np.zeros((2, 20, 4))},
        trace_every={("exc", "v"): 10},
        weights={"ee": weights},
    )


def test_binned_rates_count_spikes_per_neuron_per_second() -> None:
    edges, rates = binned_rates(_recording(), "exc", trial=0, bin_ms=50.0)
    np.testing.assert_array_equal(edges, [0.0, 50.0, 100.0])
    # Trial 0: ticks 10, 20, 30 (5-15 ms) in the first bin, tick 190 (95 ms) in the second; 4 neurons, 50 ms.
    np.testing.assert_allclose(rates, [3 / 4 / 0.05, 1 / 4 / 0.05])
    edges, rates = binned_rates(_recording(), "exc", trial=0, bin_ms=30.0)
    # 30 ms = 60 steps: bins of 60, 60, 60 and a last bin of 20 steps (10 ms).
    np.testing.assert_array_equal(edges, [0.0, 30.0, 60.0, 90.0, 100.0])
    np.testing.assert_allclose(rates, [3 / 4 / 0.03, 0.0, 0.0, 1 / 4 / 0.01])


@pytest.mark.parametrize(("option", "value"), [("trial", 2), ("trial", -1), ("bin_ms", 0.0), ("bin_ms", float("nan"))])
def test_binned_rates_refuse_bad_options(option: str, value: float) -> None:
    with pytest.raises(ValidationError, match=option):
        binned_rates(_recording(), "exc", **{option: value})


def test_text_and_html_summaries_name_every_population_and_its_rate() -> None:
    rec = _recording()
    text = repr(rec)
    assert text == recording_text(rec)
    # exc: 5 spikes over 2 trials of 4 neurons x 0.1 s -> 6.25 Hz mean; inh: 2 spikes -> 5 Hz mean.
    assert "exc: 4 neurons, 5 spikes, 6.25 Hz" in text and "inh: 2 neurons, 2 spikes, 5 Hz" in text
    assert text.startswith("Recording(dt 0.5 ms, 0-100 ms, 2 trials")
    html = rec._repr_html_()
    assert html == recording_html(rec)
    assert html.count("<tr>") == 1 + 2 + 1 + 1  # header, two populations, one trace, one projection
    assert "<td>exc</td><td>4</td><td>5</td>" in html
    assert "20 samples every 5 ms" in html and "2 snapshots of 3 synapses" in html


def _draw(figure: object) -> object:
    FigureCanvasAgg(figure)  # type: ignore[arg-type]
    figure.canvas.draw()  # type: ignore[attr-defined]
    return figure.canvas.get_renderer()  # type: ignore[attr-defined]


def test_raster_has_a_neuron_axis_population_bands_and_a_rate_panel() -> None:
    figure = _recording().plot(rate_bin_ms=50.0)
    raster_ax, rate_ax = figure.axes[:2]
    assert raster_ax.get_ylabel() == "neuron (stacked by population)"
    assert raster_ax.get_ylim() == (-0.5, 5.5)
    assert rate_ax.get_ylabel() == "rate (Hz)" and rate_ax.get_xlabel() == "time (ms)"
    assert rate_ax.get_xlim() == (0.0, 100.0)
    # The population names label their bands on the right, at the band centres.
    bands = next(child for child in raster_ax.child_axes)
    assert [t.get_text() for t in bands.get_yticklabels()] == ["exc", "inh"]
    np.testing.assert_allclose(bands.get_yticks(), [1.5, 4.5])
    # The rate panel draws exactly the binned rates.
    steps = [p for p in rate_ax.patches if p.get_label() in ("exc", "inh")]
    assert [p.get_label() for p in steps] == ["exc", "inh"]
    np.testing.assert_allclose(steps[0].get_data().values, [15.0, 5.0])
    # Trial 0 of 'inh' (neurons 4-5 of the stack) spikes at 50.0 and 50.5 ms.
    offsets = raster_ax.collections[1].get_offsets()
    np.testing.assert_allclose(offsets, [[50.0, 4.0], [50.5, 5.0]])


def test_mark_labels_stay_clear_of_the_title_and_text_is_legible(tmp_path: Path) -> None:
    marks = [(10.0 * k, f"S{k}:1,2,3") for k in range(9)]
    figure = plot.raster_figure(_recording(), marks=marks, title="a title")
    renderer = _draw(figure)
    title = figure._suptitle.get_window_extent(renderer)
    top = next(ax for ax in figure.axes[0].child_axes if ax.get_xticklabels())
    labels = top.get_xticklabels()
    assert [t.get_text() for t in labels] == [label for _, label in marks]
    for label in labels:
        assert not label.get_window_extent(renderer).overlaps(title), label.get_text()
    sizes = [t.get_fontsize() for t in figure.findobj(matplotlib.text.Text) if t.get_text()]
    assert min(sizes) >= plot.SMALL
    path = plot.raster(_recording(), tmp_path / "r.png", marks=marks)
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_raster_refuses_populations_without_spikes() -> None:
    with pytest.raises(ValidationError, match="no spikes recorded for \\['out'\\]"):
        plot.raster_figure(_recording(), populations=["exc", "out"])


def test_weight_matrix_is_labelled_in_nA(tmp_path: Path) -> None:
    figure = plot.weight_matrix_figure(np.arange(6.0).reshape(2, 3), title="w")
    assert figure.axes[0].get_xlabel() == "post neuron" and figure.axes[0].get_ylabel() == "pre neuron"
    assert figure.axes[1].get_ylabel() == "weight (nA)"
    assert plot.weight_matrix(np.ones((2, 2)), tmp_path / "w.png").stat().st_size > 1000
    with pytest.raises(ValidationError, match="expected \\(pre, post\\)"):
        plot.weight_matrix_figure(np.ones(3))


def test_figures_show_as_png_in_jupyter_without_pyplot() -> None:
    png = _recording().plot()._repr_png_()
    assert png[:8] == b"\x89PNG\r\n\x1a\n" and len(png) > 5000


def test_answers_number_addresses_and_content_bits_each_from_zero(tmp_path: Path) -> None:
    # n = 5 addresses, m = 10 bits: the content columns 5..14 of the grid are bits 0..9.
    expected = [({3}, {4, 5, 6}), ({0}, {0, 1, 8, 9}), (set(), {9})]
    got = [({3}, {4, 5}), ({0}, {0, 1, 8, 9}), ({2}, {9})]
    grid = plot.answers_grid(got, expected, 5, 10)
    assert grid.shape == (3, 15)
    assert grid[0, 3] == 1 and grid[0, 5 + 4] == 1 and grid[0, 5 + 6] == 2  # bit 6 missing
    assert grid[2, 2] == 3 and grid[2, 14] == 1  # address 2 extra, bit 9 correct
    assert int((grid > 0).sum()) == 4 + 5 + 2
    figure = plot.answers_figure(got, expected, 5, 10, ["S3:4,5,6", "A0", "C:9"])
    ax = figure.axes[0]
    _draw(figure)
    ticks = [t.get_text() for t in ax.get_xticklabels()]
    assert ticks == [str(i) for i in range(5)] + [str(i) for i in range(10)]
    np.testing.assert_array_equal(ax.get_xticks(), range(15))
    assert ax.get_xlabel() == "address (0..4)  |  content bit (0..9)"
    assert [t.get_text() for t in ax.get_yticklabels()] == ["S3:4,5,6", "A0", "C:9"]
    assert min(t.get_fontsize() for t in ax.get_yticklabels()) >= plot.SMALL
    assert "2 of 3 wrong" in ax.get_title()
    assert plot.answers(got, expected, 5, 10, ["a", "b", "c"], tmp_path / "a.png").stat().st_size > 1000
    with pytest.raises(ValidationError, match="index 10 of row 0 is outside 0..9"):
        plot.answers_grid([(set(), {10})], [(set(), set())], 5, 10)
    with pytest.raises(ValidationError, match="2 row labels for 3 operations"):
        plot.answers_figure(got, expected, 5, 10, ["a", "b"])


def test_weight_panels_share_one_scale_labelled_in_nA(tmp_path: Path) -> None:
    panels = [[("before", np.zeros((2, 3))), ("after", np.full((2, 3), 4.0))]]
    figure = plot.weight_panels_figure(panels, "t", xlabel="content bit", ylabel="address")
    left, right, bar = figure.axes
    assert (left.get_xlabel(), left.get_ylabel()) == ("content bit", "address")
    assert bar.get_ylabel() == "weight (nA)"
    assert left.images[0].get_clim() == right.images[0].get_clim() == (0.0, 4.0)
    assert plot.weight_panels(panels, tmp_path / "w.png", vmin=0.0, vmax=6.0).stat().st_size > 1000
    with pytest.raises(ValidationError, match="equal rows"):
        plot.weight_panels_figure([[("a", np.ones((2, 2)))], []])
