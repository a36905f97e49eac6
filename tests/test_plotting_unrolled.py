"""The folded and unrolled diagrams draw what they claim, and the parameter plot shows the given counts."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
from matplotlib.patches import FancyArrowPatch, FancyBboxPatch  # noqa: E402

from rnncourse.plotting.unrolled import (draw_folded, draw_folded_and_unrolled, draw_unrolled,  # noqa: E402
                                         plot_param_counts)


def _texts(ax):
    return [t.get_text() for t in ax.texts]


def _count(ax, kind):
    return sum(isinstance(p, kind) for p in ax.patches)


@pytest.fixture(autouse=True)
def _close():
    yield
    plt.close("all")


def test_folded_has_one_cell_and_a_loop():
    ax = draw_folded().axes[0]
    texts = _texts(ax)
    assert {"$x_{t}$", "$h_{t}$", "$y_{t}$", r"$W_{xh}$", r"$W_{hy}$"} <= set(texts)
    assert any("W_{hh}" in t and "h_{t-1}" in t for t in texts)
    assert _count(ax, FancyBboxPatch) == 3
    assert _count(ax, FancyArrowPatch) == 3          # input, output and the loop
    assert ax.get_title()


@pytest.mark.parametrize("T", [1, 3, 6])
def test_unrolled_shares_the_same_weights_in_every_copy(T):
    ax = draw_unrolled(T).axes[0]
    texts = _texts(ax)
    for t in range(1, T + 1):
        assert {f"$x_{{{t}}}$", f"$h_{{{t}}}$", f"$y_{{{t}}}$"} <= set(texts)
    assert "$h_0$" in texts
    assert texts.count(r"$W_{xh}$") == T and texts.count(r"$W_{hy}$") == T and texts.count(r"$W_{hh}$") == T
    assert _count(ax, FancyBboxPatch) == 3 * T + 1
    assert f"T = {T}" in ax.get_title()


def test_unrolled_options():
    ax = draw_unrolled(2, outputs=False, h0=False, weights=False).axes[0]
    texts = _texts(ax)
    assert "$y_{1}$" not in texts and "$h_0$" not in texts and not any("W_" in t for t in texts)
    assert _count(ax, FancyBboxPatch) == 4
    assert _count(ax, FancyArrowPatch) == 3          # two inputs and one h_1 -> h_2


def test_side_by_side_draws_both_into_one_figure():
    fig = draw_folded_and_unrolled(3)
    ax_f, ax_u = fig.axes
    assert "$h_{t}$" in _texts(ax_f) and "$h_{3}$" in _texts(ax_u) and "=" in _texts(ax_u)


def test_too_many_steps_are_refused():
    with pytest.raises(ValueError, match="T should be at most 8"):
        draw_unrolled(9)
    with pytest.raises(ValueError, match="T should be an integer >= 1"):
        draw_unrolled(0)


def test_param_counts_plot_holds_the_data():
    T = np.arange(1, 6)
    counts = {"shared": np.full(5, 100), "per step": 100 * T}
    ax = plot_param_counts(T, counts).axes[0]
    lines = ax.get_lines()
    assert [line.get_label() for line in lines] == ["shared", "per step"]
    np.testing.assert_array_equal(lines[1].get_ydata(), 100 * T)
    assert ax.get_xlabel() and ax.get_ylabel() and ax.get_title()
    with pytest.raises(ValueError, match=r"counts\['x'\] should have shape \(5,\)"):
        plot_param_counts(T, {"x": np.ones(4)})
    with pytest.raises(TypeError, match=r"counts should be a dict \{model name: counts at each length\}, "
                                        r"but is list"):
        plot_param_counts(T, [np.ones(5)])
    with pytest.raises(ValueError, match="counts should hold at least one model, but is empty"):
        plot_param_counts(T, {})


def test_param_counts_takes_the_lengths_by_name_and_checks_them():
    lengths = np.array([1, 2, 4])
    ax = plot_param_counts(lengths=lengths, counts={"shared": np.full(3, 7)}).axes[0]
    np.testing.assert_array_equal(ax.get_lines()[0].get_xdata(), lengths)
    with pytest.raises(ValueError, match=r"lengths should be a non-empty 1-D array of sequence lengths, "
                                         r"but has shape \(2, 2\)"):
        plot_param_counts(np.ones((2, 2)), {"x": np.ones((2, 2))})


# --- Second audit: each test failed before its fix. ---

@pytest.mark.parametrize("lengths, counts, log, error, match", [
    ([1, 2], {"a": ["1", "2"]}, False, TypeError,
     r"^counts\['a'\] should hold numbers, but holds text \(dtype <U1\); convert it"),
    (["1", "2"], {"a": [1, 2]}, False, TypeError, r"^lengths should hold numbers, but holds text"),
    ([1, 2], {"a": [0, 2]}, True, ValueError,
     r"^counts\['a'\] should hold values > 0 on a logarithmic axis, but holds 0.0 at index 0"),
    ([1, 2], {"a": [5, -2]}, True, ValueError, r"^counts\['a'\] should hold values > 0 .* but holds -2.0 at index 1"),
    ([1, 2], {"a": [np.nan, 2]}, False, ValueError, r"^counts\['a'\] should hold finite numbers, but holds nan"),
    (None, {"a": [1]}, False, TypeError, r"^lengths should be a 1-D array of sequence lengths, but is None"),
    ([1], {"a": None}, False, TypeError, r"^counts\['a'\] should be an array of parameter counts, but is None"),
])
def test_param_counts_refuse_strings_none_and_what_a_log_axis_cannot_show(lengths, counts, log, error, match):
    with pytest.raises(error, match=match):
        plot_param_counts(lengths, counts, log=log)
    plot_param_counts([1, 2], {"a": [0, 2]})                           # zero is fine on a linear axis


@pytest.mark.parametrize("flag", ["no", "False", 0, None])
def test_the_diagram_options_are_true_or_false_only(flag):
    # bool("False") is True and None is falsy: either would draw another diagram than asked, without a word.
    calls = [("weights", lambda: draw_folded(weights=flag)), ("outputs", lambda: draw_folded(outputs=flag)),
             ("weights", lambda: draw_unrolled(2, weights=flag)), ("outputs", lambda: draw_unrolled(2, outputs=flag)),
             ("h0", lambda: draw_unrolled(2, h0=flag)), ("weights", lambda: draw_folded_and_unrolled(2, weights=flag)),
             ("log", lambda: plot_param_counts([1, 2], {"a": [3, 4]}, log=flag))]
    for name, call in calls:
        with pytest.raises(TypeError, match=rf"^{name} should be True or False, but is {type(flag).__name__} "):
            call()
        assert not plt.get_fignums(), f"a refused {name} left a figure open"
    assert draw_unrolled(2, h0=np.bool_(False)).axes[0] is not None                     # NumPy's bool is a bool


def test_param_counts_axis_labels():
    ax = plot_param_counts([1, 2, 4], {"RNN": [10, 10, 10]}).axes[0]
    assert ax.get_xlabel() == "sequence length T (time steps)"
    assert ax.get_ylabel() == "number of parameters"
