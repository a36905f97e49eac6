"""Chapter 5's plots draw what they are given, with titles and labelled axes."""

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402

from rnncourse.plotting.gradients import (plot_clipping, plot_grad_norms, plot_input_gradients,  # noqa: E402
                                          plot_norms_vs_lag, plot_success_vs_lag)


@pytest.fixture(autouse=True)
def close_figures():
    yield
    plt.close("all")


def _labelled(ax):
    return ax.get_title() and ax.get_xlabel() and ax.get_ylabel()


def test_norms_vs_lag_draws_each_curve_and_its_bound_on_a_log_axis():
    curves = {"a": 0.9 ** np.arange(11), "b": 1.1 ** np.arange(11)}
    fig = plot_norms_vs_lag(curves, bounds={"a": np.ones(11)})
    ax = fig.axes[0]
    assert ax.get_yscale() == "log" and _labelled(ax)
    assert len(ax.lines) == 3
    np.testing.assert_allclose(ax.lines[0].get_ydata(), curves["a"])
    assert ax.lines[1].get_linestyle() == "--" and ax.lines[1].get_color() == ax.lines[0].get_color()


def test_panels_go_into_a_given_axes():
    fig, (left, right) = plt.subplots(1, 2)
    assert plot_norms_vs_lag({"a": np.ones(5)}, ax=right) is fig
    assert len(right.lines) == 1 and len(left.lines) == 0
    assert plot_input_gradients({"x": np.ones(4)}, ax=left) is fig
    np.testing.assert_array_equal(left.lines[0].get_xdata(), [1, 2, 3, 4])


def test_success_vs_lag_with_reference_lines():
    fig = plot_success_vs_lag({"rnn": ((5, 10, 20), (1.0, 0.5, 0.15))}, chance=0.15, success=0.99)
    ax = fig.axes[0]
    assert _labelled(ax) and ax.get_xscale() == "log" and ax.get_ylim() == (0, 1.05)
    assert len(ax.lines) == 3
    assert [t.get_text() for t in ax.get_xticklabels()] == ["5", "10", "20"]


def test_clipping_figure_has_circle_square_and_three_arrows():
    g = np.array([3.0, 0.8])
    fig = plot_clipping(g, g / np.linalg.norm(g), np.array([0.5, 0.5]), 1.0, 0.5)
    ax = fig.axes[0]
    assert _labelled(ax) and len(ax.patches) == 2 and len(ax.texts) == 3
    assert len(ax.get_legend().get_texts()) == 3


def test_grad_norms_trace_and_histogram():
    norms = np.geomspace(0.1, 10, 50)
    fig = plot_grad_norms(norms, threshold=1.0)
    trace, hist = fig.axes
    assert _labelled(trace) and _labelled(hist)
    assert trace.get_yscale() == "log" and hist.get_xscale() == "log"
    assert sum(p.get_height() for p in hist.patches) == 50
    plot_grad_norms(np.ones(3))          # a constant trace still gets a histogram
    with pytest.raises(ValueError, match="grad_norms should be a non-empty 1-D sequence"):
        plot_grad_norms([1.0, np.nan])


@pytest.mark.parametrize("plot", [plot_norms_vs_lag, plot_input_gradients, plot_success_vs_lag])
def test_curve_plots_want_a_dict_of_curves(plot):
    with pytest.raises(TypeError, match=r"curves should be a dict \{label: .*\}, but is list"):
        plot([1.0, 2.0, 3.0])


def test_grad_norms_and_clipping_reject_bad_inputs():
    with pytest.raises(TypeError, match=r"grad_norms should be an array \(or a list\) of numbers, but cannot"):
        plot_grad_norms(["a"])
    with pytest.raises(ValueError, match=r"g should have shape \(P,\) = \(2,\), but has shape \(3,\)"):
        plot_clipping(np.ones(3), np.ones(2), np.ones(2), 1.0, 0.5)
    with pytest.raises(ValueError, match="max_norm should be a finite number > 0, but is -1.0"):
        plot_clipping(np.ones(2), np.ones(2), np.ones(2), -1.0, 0.5)


# --- Defects found by the audit: each test failed before its fix. ---

def test_clipping_limits_are_symmetric_when_a_gradient_points_down_or_left():
    g = np.array([-3.0, 0.8])
    fig = plot_clipping(g, g / np.linalg.norm(g), np.array([-0.5, 0.5]), 1.0, 0.5)
    reach = 1.15 * 3.0
    assert fig.axes[0].get_xlim() == pytest.approx((-reach, reach))
    assert fig.axes[0].get_ylim() == pytest.approx((-reach, reach))
    g = np.array([3.0, 0.8])                     # all coordinates >= 0: less room below and left, but the circle's
    fig = plot_clipping(g, g / np.linalg.norm(g), np.array([0.5, 0.5]), 1.0, 0.5)
    assert fig.axes[0].get_xlim() == pytest.approx((-1.15, reach))
    assert fig.axes[0].get_ylim() == pytest.approx((-1.15, reach))
    g = np.array([30.0, 8.0])                    # a long gradient: a quarter of the reach is more than the circle
    fig = plot_clipping(g, g / np.linalg.norm(g), np.array([0.5, 0.5]), 1.0, 0.5)
    assert fig.axes[0].get_xlim() == pytest.approx((-0.25 * 1.15 * 30.0, 1.15 * 30.0))


def test_grad_norms_show_the_steps_of_norm_zero():
    fig = plot_grad_norms(np.array([1.0, 0.0, 2.0, 0.0, 4.0]), threshold=3.0)
    trace, hist = fig.axes
    assert sum(p.get_height() for p in hist.patches) == 3
    assert hist.get_title() == "histogram\n(2 steps of norm 0 left out)"
    assert [t.get_text() for t in trace.get_legend().get_texts()] == ["norm 0 (2 steps)", "threshold"]
    zeros = [line for line in trace.lines if line.get_label() == "norm 0 (2 steps)"][0]
    np.testing.assert_array_equal(zeros.get_xdata(), [1, 3])        # at the bottom edge, axes coordinates
    np.testing.assert_array_equal(zeros.get_ydata(), [0.0, 0.0])
    np.testing.assert_array_equal(trace.lines[0].get_ydata(), [1.0, np.nan, 2.0, np.nan, 4.0])
    hist = plot_grad_norms(np.geomspace(0.1, 10, 50)).axes[1]         # no zeros: titles as before
    assert hist.get_title() == "histogram"


@pytest.mark.parametrize("kwargs, error, match", [
    ({"grad_norms": [1.0, -1.0]}, ValueError, r"^grad_norms should hold norms >= 0, but holds -1.0 at step 1"),
    ({"threshold": 0.0}, ValueError, r"^threshold should be a finite number > 0, but is 0.0"),
    ({"threshold": np.inf}, ValueError, r"^threshold should be a finite number > 0, but is inf"),
    ({"threshold": "3"}, TypeError, r"^threshold should be a number, but is str '3'"),
])
def test_grad_norms_refuse_negative_norms_and_a_bad_threshold(kwargs, error, match):
    kwargs = {"grad_norms": [1.0, 2.0], **kwargs}
    with pytest.raises(error, match=match):
        plot_grad_norms(**kwargs)


@pytest.mark.parametrize("curve, error, match", [
    (np.array([1.0, 0.0]), ValueError, r"^curves\['a'\] should hold finite norms > 0 \(the axis is logarithmic\), "
                                       r"but holds 0.0 at index 1"),
    (np.array([1.0, -2.0]), ValueError, r"^curves\['a'\] should hold finite norms > 0 .* but holds -2.0 at index 1"),
    (np.array([np.nan, 1.0]), ValueError, r"^curves\['a'\] should hold finite norms > 0 .* but holds nan at index 0"),
    (np.ones((2, 3)), ValueError, r"^curves\['a'\] should have shape \(N,\), one curve, but has shape \(2, 3\)"),
    (np.ones(0), ValueError, r"^curves\['a'\] is empty; there is nothing to plot"),
    (["x", "y"], TypeError, r"^curves\['a'\] should be an array \(or a list\) of numbers"),
])
@pytest.mark.parametrize("plot", [plot_norms_vs_lag, plot_input_gradients])
def test_norm_curves_must_be_positive_finite_and_one_dimensional(plot, curve, error, match):
    with pytest.raises(error, match=match):
        plot({"a": curve})


@pytest.mark.parametrize("bounds, error, match", [
    (np.ones(3), TypeError, r"^bounds should be a dict \{label: bound\}, but is ndarray"),
    ({"b": np.ones(3)}, ValueError, r"^bounds should have labels of curves \('a'\), but has 'b'"),
    ({"a": np.ones(2)}, ValueError,
     r"^bounds\['a'\] should have shape \(3,\) like curves\['a'\], but has shape \(2,\)"),
    ({"a": np.zeros(3)}, ValueError, r"^bounds\['a'\] should hold finite norms > 0 .* but holds 0.0 at index 0"),
])
def test_norms_vs_lag_checks_the_bounds(bounds, error, match):
    with pytest.raises(error, match=match):
        plot_norms_vs_lag({"a": np.ones(3)}, bounds=bounds)


@pytest.mark.parametrize("curve, kwargs, error, match", [
    (((2.5, 5), (0.5, 0.4)), {}, TypeError,
     r"^curves\['rnn'\]\[0\] \(the lags\) should hold integers, but has dtype float64"),
    (((0, 5), (0.5, 0.4)), {}, ValueError, r"^curves\['rnn'\]\[0\] \(the lags\) should hold integers >= 1 "
                                           r"\(the axis is logarithmic\), but holds 0"),
    (((1, 5), (1.2, 0.4)), {}, ValueError, r"^curves\['rnn'\]\[1\] \(the accuracies\) should hold fractions in "
                                           r"\[0, 1\], but holds 1.2"),
    (((1, 5), (np.nan, 0.4)), {}, ValueError, r"^curves\['rnn'\]\[1\] \(the accuracies\) .* but holds nan"),
    (((1, 5, 10), (0.5, 0.4)), {}, ValueError, r"^curves\['rnn'\] should be a pair \(lags, accuracies\) of equal "
                                               r"length, but has 3 lags and 2 accuracies"),
    ((1, 5), {}, ValueError, r"^curves\['rnn'\] should be a pair \(lags, accuracies\) of two 1-D sequences, "
                            r"but they have shapes \(\) and \(\)"),
    (0.5, {}, TypeError, r"^curves\['rnn'\] should be a pair \(lags, accuracies\), but is float"),
    (((), ()), {}, ValueError, r"^curves\['rnn'\] is empty; there is nothing to plot"),
    (((1, 5), (0.5, 0.4)), {"chance": 1.5}, ValueError, r"^chance should be a fraction in \[0, 1\], but is 1.5"),
    (((1, 5), (0.5, 0.4)), {"success": "a"}, TypeError, r"^success should be a number, but is str 'a'"),
])
def test_success_vs_lag_checks_lags_and_accuracies(curve, kwargs, error, match):
    with pytest.raises(error, match=match):
        plot_success_vs_lag({"rnn": curve}, **kwargs)


def test_success_vs_lag_takes_integer_arrays():
    fig = plot_success_vs_lag({"rnn": (np.array([5, 10]), np.array([1.0, 0.0]))}, chance=0.0, success=1.0)
    assert [t.get_text() for t in fig.axes[0].get_xticklabels()] == ["5", "10"]


# --- Second audit: each test failed before its fix. ---

def test_success_vs_lag_draws_the_accuracies_themselves():
    fig = plot_success_vs_lag({"a": ((5, 10, 20), (1.0, 0.75, 0.25)), "b": ((5, 10), (0.5, 0.0))})
    ax = fig.axes[0]
    np.testing.assert_array_equal(ax.lines[0].get_xdata(), [5, 10, 20])
    np.testing.assert_array_equal(ax.lines[0].get_ydata(), [1.0, 0.75, 0.25])
    np.testing.assert_array_equal(ax.lines[1].get_ydata(), [0.5, 0.0])


def test_clipping_arrows_end_at_the_three_gradients_in_their_legend_colours():
    g, by_norm, by_value = np.array([3.0, 0.8]), np.array([0.966, 0.258]), np.array([0.5, 0.5])
    ax = plot_clipping(g, by_norm, by_value, 1.0, 0.5).axes[0]
    legend = {t.get_text(): h.get_color() for t, h in zip(ax.get_legend().get_texts(), ax.get_legend().legend_handles)}
    for arrow, (vec, label) in zip(ax.texts, ((g, "original gradient"), (by_norm, "clipped by norm"),
                                              (by_value, "clipped by value"))):
        np.testing.assert_array_equal(arrow.xy, vec)                       # the head
        np.testing.assert_array_equal(arrow.xyann, (0, 0))                 # the tail, at the origin
        assert matplotlib.colors.same_color(arrow.arrow_patch.get_edgecolor(), legend[label])


@pytest.mark.parametrize("max_norm, clip_value", [(1.0, 0.5), (2.0, 0.5), (0.5, 2.0)])
def test_clipping_shows_the_whole_circle_and_square(max_norm, clip_value):
    g = np.array([3.0, 0.8])                                               # points up and right
    ax = plot_clipping(g, g / np.linalg.norm(g) * max_norm, np.minimum(g, clip_value), max_norm, clip_value).axes[0]
    circle, square = ax.patches
    (x0, x1), (y0, y1) = ax.get_xlim(), ax.get_ylim()
    for patch in (circle, square):
        corners = patch.get_patch_transform().transform([(-1, -1), (1, 1)] if patch is circle else [(0, 0), (1, 1)])
        assert x0 < corners[0, 0] and corners[1, 0] < x1 and y0 < corners[0, 1] and corners[1, 1] < y1


def test_grad_norms_take_a_tensor_that_requires_grad():
    torch = pytest.importorskip("torch")
    norms = torch.tensor([1.0, 2.0, 4.0], requires_grad=True) * 1.0
    trace = plot_grad_norms(norms).axes[0]
    np.testing.assert_array_equal(trace.lines[0].get_ydata(), [1.0, 2.0, 4.0])


@pytest.mark.parametrize("plot", [plot_norms_vs_lag, plot_input_gradients, plot_success_vs_lag])
def test_curve_plots_refuse_an_empty_dict(plot):
    with pytest.raises(ValueError, match=r"^curves should hold at least one curve, but is empty"):
        plot({})


@pytest.mark.parametrize("call, error, match", [
    (lambda: plot_grad_norms(None), TypeError, r"^grad_norms should be an array \(or a list\) of numbers, but is None"),
    (lambda: plot_norms_vs_lag({"a": None}), TypeError, r"^curves\['a'\] should be an array .* but is None"),
    (lambda: plot_success_vs_lag({"a": (None, [0.5])}), TypeError,
     r"^curves\['a'\]\[0\] \(the lags\) should be a sequence of integers, but is None"),
    (lambda: plot_success_vs_lag({"a": ([1], None)}), TypeError,
     r"^curves\['a'\]\[1\] \(the accuracies\) should be an array .* but is None"),
])
def test_gradient_plots_name_a_missing_argument(call, error, match):
    with pytest.raises(error, match=match):
        call()


def _overlapping_labels(fig, ax):
    fig.canvas.draw()
    renderer = fig.canvas.get_renderer()
    labels = sorted((t for t in ax.get_xticklabels(which="both") if t.get_text()), key=lambda t: t.get_position()[0])
    boxes = [t.get_window_extent(renderer) for t in labels]
    return [(a.get_text(), b.get_text()) for a, b, p, q in zip(labels, labels[1:], boxes, boxes[1:]) if p.overlaps(q)]


@pytest.mark.parametrize("low, high", [(0.5, 3.0), (0.2, 1.5), (1.0, 1.2), (1e-5, 1e5), (0.5, 0.6)])
def test_histogram_tick_labels_do_not_overlap(low, high):
    from rnncourse.plotting.style import use_style

    with matplotlib.rc_context():
        use_style()
        fig = plot_grad_norms(np.geomspace(low, high, 100), threshold=1.0)
        hist = fig.axes[1]
        assert _overlapping_labels(fig, hist) == []
        assert sum(bool(t.get_text()) for t in hist.get_xticklabels()) >= 2


def test_input_gradients_title():
    ax = plot_input_gradients({"x": np.ones(4)}).axes[0]
    assert ax.get_title() == "Gradient reaching each input"


def test_log_ticks_over_a_wide_range_keep_every_other_power_of_ten():
    from rnncourse.plotting.gradients import _log_ticks

    assert _log_ticks(1e-3, 1e3) == [0.001, 0.1, 10.0, 1000.0]
