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
