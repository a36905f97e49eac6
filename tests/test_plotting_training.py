"""Loss curves, hidden-state plots, prediction plots and the unrolled graph draw what they are given."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")  # tests only: no window

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
from matplotlib.collections import QuadMesh  # noqa: E402
from matplotlib.patches import FancyArrowPatch  # noqa: E402

from rnncourse.plotting.graph import plot_unrolled_graph  # noqa: E402
from rnncourse.plotting.style import COLORS  # noqa: E402
from rnncourse.plotting.training import (moving_average, plot_hidden_states, plot_losses,  # noqa: E402
                                         plot_predictions)


@pytest.fixture(autouse=True)
def close_figures():
    yield
    plt.close("all")


def test_moving_average_by_hand():
    np.testing.assert_allclose(moving_average(np.array([1.0, 3.0, 5.0, 7.0]), 2), [1.0, 2.0, 4.0, 6.0])
    np.testing.assert_allclose(moving_average([2.0, 4.0, 9.0], 3), [2.0, 3.0, 5.0])
    np.testing.assert_allclose(moving_average([2.0, 4.0], 1), [2.0, 4.0])
    with pytest.raises(ValueError, match="window should be an integer >= 1, but is 0"):
        moving_average([1.0], 0)
    with pytest.raises(TypeError, match="window should be an integer, but is float 2.0"):
        moving_average([1.0], 2.0)


def test_plot_losses_one_curve():
    fig = plot_losses([3.0, 2.0, 1.5], title="T", xlabel="X", ylabel="Y")
    ax = fig.axes[0]
    (line,) = ax.get_lines()
    np.testing.assert_array_equal(line.get_ydata(), [3.0, 2.0, 1.5])
    assert (ax.get_title(), ax.get_xlabel(), ax.get_ylabel()) == ("T", "X", "Y")
    assert ax.get_legend() is None


def test_plot_losses_several_curves_smoothed_with_baseline():
    curves = {"SGD": np.linspace(2, 1, 50), "Adam": np.linspace(2, 0.5, 80)}
    fig = plot_losses(curves, smooth=5, logy=True, baseline=1.8, baseline_label="guess")
    ax = fig.axes[0]
    assert len(ax.get_lines()) == 2 * 2 + 1                  # raw + smoothed per curve, and the baseline
    labels = [t.get_text() for t in ax.get_legend().get_texts()]
    assert labels == ["SGD", "Adam", "guess"]
    assert ax.get_yscale() == "log"
    smoothed = ax.get_lines()[3].get_ydata()
    np.testing.assert_allclose(smoothed, moving_average(curves["Adam"], 5))


def test_plot_losses_draws_into_a_given_axes():
    fig, (a, b) = plt.subplots(1, 2)
    assert plot_losses([1.0, 0.5], ax=b) is fig
    assert len(b.get_lines()) == 1 and len(a.get_lines()) == 0
    with pytest.raises(ValueError, match="empty"):
        plot_losses({"a": []})


def test_hidden_state_heatmap_shows_the_chosen_sequence():
    hs = np.random.default_rng(0).uniform(-1, 1, size=(20, 3, 5))
    fig = plot_hidden_states(hs, batch=2, title="before")
    ax = fig.axes[0]
    (mesh,) = [c for c in ax.collections if isinstance(c, QuadMesh)]
    np.testing.assert_allclose(np.asarray(mesh.get_array()).reshape(5, 20), hs[:, 2, :].T)
    assert mesh.get_clim() == (-1.0, 1.0)
    assert ax.get_title() == "before" and ax.get_ylabel() == "hidden unit j"
    assert len(fig.axes) == 2                                 # the heatmap and its colour bar


def test_hidden_state_lines_and_dates():
    hs = np.tanh(np.random.default_rng(1).normal(size=(12, 10)))
    fig = plot_hidden_states(hs, kind="lines", units=3)
    lines = fig.axes[0].get_lines()
    assert len(lines) == 3
    np.testing.assert_allclose(lines[1].get_ydata(), hs[:, 1])
    dates = np.arange("2000-01", "2001-01", dtype="datetime64[M]")
    fig = plot_hidden_states(hs[:, None, :], times=dates, colorbar=False)
    assert fig.axes[0].get_xticklabels()[0].get_text() == "2000-01"


def test_hidden_state_errors():
    with pytest.raises(ValueError, match=r"hs should have shape \(T, B, H\)"):
        plot_hidden_states(np.zeros(5))
    with pytest.raises(ValueError, match="batch should index a sequence"):
        plot_hidden_states(np.zeros((4, 2, 3)), batch=2)
    with pytest.raises(ValueError, match=r"times should have shape \(T,\) = \(4,\)"):
        plot_hidden_states(np.zeros((4, 3)), times=np.arange(5))
    with pytest.raises(ValueError, match="kind should be"):
        plot_hidden_states(np.zeros((4, 3)), kind="bars")


def test_plot_predictions():
    y = np.sin(np.arange(30.0))
    fig = plot_predictions(y, {"RNN": y * 0.9, "last value": np.roll(y, 1)}, ylabel="price")
    ax = fig.axes[0]
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["target", "RNN", "last value"]
    np.testing.assert_allclose(ax.get_lines()[1].get_ydata(), y * 0.9)
    with pytest.raises(ValueError, match=r"predictions\['bad'\] should have shape \(30,\)"):
        plot_predictions(y, {"bad": y[:-1]})


def _arrows(fig):
    patches = [p for p in fig.axes[0].patches if isinstance(p, FancyArrowPatch)]
    backward = [p for p in patches if p.get_linestyle() == "--"]
    return patches, backward


def test_unrolled_graph_has_one_forward_arrow_per_edge_and_a_backward_twin():
    T = 3
    fig = plot_unrolled_graph(T)
    patches, backward = _arrows(fig)
    # per step: x->h, h_{t-1}->h, h->y, y->L, L_t->L: 5 forward edges; all but x->h have a backward twin
    assert len(patches) - len(backward) == 5 * T
    assert len(backward) == 4 * T
    assert all(matplotlib.colors.same_color(p.get_edgecolor(), COLORS["gradient"]) for p in backward)
    texts = [t.get_text() for t in fig.axes[0].texts]
    assert "$h_0$" in texts and f"$x_{T}$" in texts and r"$\partial L/\partial h_3$" in texts
    # The arrow from h_3 back to h_2 carries only L_3's part of dL/dh_2 (the rest comes from y_2)
    assert r"$\partial L_3/\partial h_2$" in texts and r"$\partial L/\partial h_2$" not in texts


def test_unrolled_graph_forward_only_and_truncated():
    patches, backward = _arrows(plot_unrolled_graph(4, backward=False))
    assert len(backward) == 0 and len(patches) == 20
    fig = plot_unrolled_graph(4, truncate=2)
    patches, backward = _arrows(fig)
    assert len(patches) - len(backward) == 20                # the forward pass is unchanged
    assert len(backward) == 4 * 4 - 1                        # one state-to-state gradient cut, between h_2 and h_3
    assert "k = 2" in fig.axes[0].get_title()


@pytest.mark.parametrize("kwargs, error, match", [
    ({"T": 0}, ValueError, "T should be an integer >= 1, but is 0"),
    ({"T": 9}, ValueError, "T should be an integer from 1 to 8"),
    ({"T": 3.0}, TypeError, "T should be an integer, but is float"),
    ({"T": 3, "truncate": 0}, ValueError, "truncate should be an integer >= 1, but is 0"),
    ({"T": 3, "truncate": "2"}, TypeError, "truncate should be an integer, but is str"),
])
def test_unrolled_graph_rejects_bad_sizes(kwargs, error, match):
    with pytest.raises(error, match=match):
        plot_unrolled_graph(**kwargs)


def test_hidden_states_are_passed_as_hs():
    hs = np.zeros((4, 2, 3))
    fig = plot_hidden_states(hs=hs, kind="lines")
    assert len(fig.axes[0].get_lines()) == 3
    with pytest.raises(TypeError, match="unexpected keyword argument 'H'"):
        plot_hidden_states(H=hs)


@pytest.mark.parametrize("kwargs, error, match", [
    ({"batch": 1.5}, TypeError, "batch should be an integer, but is float 1.5"),
    ({"batch": True}, TypeError, "batch should be an integer, but is bool True"),
    ({"batch": -1}, ValueError, "batch should be an integer >= 0, but is -1"),
    ({"units": -1}, ValueError, "units should be an integer >= 1, but is -1"),
    ({"units": 0}, ValueError, "units should be an integer >= 1, but is 0"),
    ({"units": 2.0}, TypeError, "units should be an integer, but is float 2.0"),
])
def test_hidden_states_reject_a_bad_batch_or_units(kwargs, error, match):
    with pytest.raises(error, match=match):
        plot_hidden_states(np.zeros((5, 3, 4)), **kwargs)


def test_loss_plots_reject_bad_curves_and_smoothing():
    with pytest.raises(TypeError, match=r"losses should be an array \(or a list\) of numbers, but cannot be read"):
        plot_losses(["a", "b"])
    with pytest.raises(ValueError, match="smooth should be an integer >= 1, but is -3"):
        plot_losses([1.0, 2.0], smooth=-3)
    with pytest.raises(ValueError, match=r"values should have shape \(N,\), one curve, but has shape \(2, 3\)"):
        moving_average(np.ones((2, 3)), 2)
    with pytest.raises(TypeError, match=r"predictions should be a dict \{label: values\}, but is list"):
        plot_predictions([1.0, 2.0], [1.0, 2.0])


def test_figure_axes_draws_into_the_given_axes_or_a_new_figure_of_the_column_width():
    import matplotlib.pyplot as plt

    from rnncourse.plotting.style import figsize, figure_axes

    fig, ax = figure_axes()
    assert tuple(fig.get_size_inches()) == figsize() and fig.axes == [ax]
    assert figure_axes(ax) == (fig, ax)
    fig2, _ = figure_axes(size=(5.0, 4.2))
    assert tuple(fig2.get_size_inches()) == (5.0, 4.2)
    plt.close("all")


# --- Defects found by the audit: each test failed before its fix. ---

def test_moving_average_of_one_huge_value_leaves_the_later_windows_alone():
    np.testing.assert_array_equal(moving_average([1e20, 1.0, 1.0, 1.0], 1), [1e20, 1.0, 1.0, 1.0])
    np.testing.assert_array_equal(moving_average([1e20, 1.0, 1.0, 1.0], 2), [1e20, 5e19, 1.0, 1.0])


def test_moving_average_equals_the_mean_of_each_window():
    v = np.random.default_rng(0).lognormal(size=3000)
    for window in (1, 2, 10, 25, 3000, 5000):
        expected = [v[max(0, i - window + 1):i + 1].mean() for i in range(v.size)]
        np.testing.assert_allclose(moving_average(v, window), expected, rtol=1e-12)


@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
def test_moving_average_refuses_values_that_are_not_finite(bad):
    with pytest.raises(ValueError, match=r"^values contains NaN or infinity \(first at index 1\); "):
        moving_average([1.0, bad, 2.0], 2)
    with pytest.raises(ValueError, match=r"^losses\['a'\] contains NaN or infinity \(first at index 1\); "):
        plot_losses({"a": [1.0, bad, 2.0]}, smooth=2)
    plot_losses({"a": [1.0, bad, 2.0]})                      # unsmoothed, a diverged curve can still be drawn


def test_plot_losses_gives_every_curve_a_colour_beyond_the_32nd():
    from rnncourse.plotting.style import PALETTE

    ax = plot_losses({f"run {i}": [1.0, 0.5] for i in range(40)}).axes[0]
    assert len(ax.get_lines()) == 40
    assert [line.get_color() for line in ax.get_lines()] == [PALETTE[i % len(PALETTE)] for i in range(40)]
    ax = plot_predictions(np.zeros(2), {f"m {i}": np.ones(2) for i in range(40)}).axes[0]
    assert len(ax.get_lines()) == 41
    assert ax.get_lines()[40].get_color() == PALETTE[39 % len(PALETTE)]


def test_curves_must_be_one_dimensional_or_a_column():
    np.testing.assert_array_equal(plot_losses(np.array([[3.0], [2.0]])).axes[0].get_lines()[0].get_ydata(), [3, 2])
    with pytest.raises(ValueError, match=r"^losses should be one curve of shape \(N,\) or \(N, 1\), but has shape "
                                         r"\(2, 3\); pass several curves as a dict \{label: curve\}"):
        plot_losses(np.ones((2, 3)))
    with pytest.raises(ValueError, match=r"^losses\['a'\] should be one curve of shape \(N,\) or \(N, 1\)"):
        plot_losses({"a": np.ones((3, 2))})
    with pytest.raises(ValueError, match=r"^target should be one curve of shape \(N,\) or \(N, 1\), but has shape "
                                         r"\(3, 2\)"):
        plot_predictions(np.ones((3, 2)), {})
    with pytest.raises(ValueError, match=r"^predictions\['p'\] should be one curve of shape \(N,\) or \(N, 1\), "
                                         r"but has shape \(3, 2\)"):
        plot_predictions(np.ones(6), {"p": np.ones((3, 2))})
    ax = plot_predictions(np.ones((3, 1)), {"p": np.zeros((3, 1))}).axes[0]
    np.testing.assert_array_equal(ax.get_lines()[1].get_ydata(), [0.0, 0.0, 0.0])


@pytest.mark.parametrize("kwargs, error, match", [
    ({"hs": np.array([[0.5, np.nan], [0.1, 0.2]])}, ValueError, r"^hs contains NaN or infinity; "),
    ({"hs": np.array([[0.5, np.nan], [0.1, 0.2]]), "kind": "lines"}, ValueError, r"^hs contains NaN or infinity; "),
    ({"vmax": 0.0}, ValueError, r"^vmax should be a finite number > 0, but is 0.0"),
    ({"vmax": np.nan}, ValueError, r"^vmax should be a finite number > 0, but is nan"),
    ({"vmax": "1"}, TypeError, r"^vmax should be a number, but is str '1'"),
])
def test_hidden_states_refuse_nan_and_a_bad_vmax(kwargs, error, match):
    kwargs = {"hs": np.zeros((3, 2)), **kwargs}
    with pytest.raises(error, match=match):
        plot_hidden_states(**kwargs)


def test_hidden_state_heatmap_keeps_its_colour_range():
    (mesh,) = [c for c in plot_hidden_states(np.full((3, 2), 2.5)).axes[0].collections if isinstance(c, QuadMesh)]
    assert mesh.get_clim() == (-2.5, 2.5)
    (mesh,) = [c for c in plot_hidden_states(np.zeros((3, 2)), vmax=0.5).axes[0].collections
               if isinstance(c, QuadMesh)]
    assert mesh.get_clim() == (-0.5, 0.5)


def test_unrolled_graph_forward_only_with_chunks_does_not_speak_of_gradients():
    fig = plot_unrolled_graph(4, backward=False, truncate=2)
    assert fig.axes[0].get_title() == "Unrolled RNN in chunks of k = 2: forward pass (solid), chunk boundaries (dotted)"
    fig = plot_unrolled_graph(4, truncate=2)
    assert fig.axes[0].get_title() == "Truncated BPTT with k = 2: the gradient stops at chunk boundaries"


# --- Second audit: each test failed before its fix. ---

def test_time_axes_count_steps_from_one_as_the_book_does():
    from rnncourse.plotting.practice import plot_batch_masks
    from rnncourse.plotting.topologies import plot_frame_labels

    hs = np.zeros((4, 2))                                              # h_1 .. h_4
    lines = plot_hidden_states(hs, kind="lines").axes[0].get_lines()
    np.testing.assert_array_equal(lines[0].get_xdata(), [1, 2, 3, 4])
    (mesh,) = [c for c in plot_hidden_states(hs).axes[0].collections if isinstance(c, QuadMesh)]
    np.testing.assert_allclose(mesh.get_coordinates()[0, :, 0], [0.5, 1.5, 2.5, 3.5, 4.5])   # cells centred on t
    ax = plot_predictions(np.zeros(3), {"p": np.ones(3)}).axes[0]
    np.testing.assert_array_equal(ax.get_lines()[0].get_xdata(), [1, 2, 3])
    ax = plot_frame_labels(np.zeros(3), np.zeros(3, int), np.zeros(3, int), ("a",)).axes[0]
    np.testing.assert_array_equal(ax.get_lines()[0].get_xdata(), [1, 2, 3])
    image = plot_batch_masks({"a": [np.ones((3, 1), bool)]}).axes[0].images[0]
    assert image.get_extent()[2:] == [3.5, 0.5]                        # rows t = 3 (bottom) to t = 1 (top)
    ax = plot_predictions(np.zeros(3), {}, times=np.array([10, 20, 30])).axes[0]
    np.testing.assert_array_equal(ax.get_lines()[0].get_xdata(), [10, 20, 30])   # given times: as given


def _boundaries(fig):
    """x of each dotted chunk boundary."""
    return sorted({line.get_xdata()[0] for line in fig.axes[0].get_lines() if line.get_linestyle() == ":"})


def test_truncation_cuts_the_gradient_after_steps_k_2k_and_only_there():
    from rnncourse.plotting.graph import _col

    fig = plot_unrolled_graph(7, truncate=3)
    assert _boundaries(fig) == [(_col(3) + _col(4)) / 2, (_col(6) + _col(7)) / 2]
    _, backward = _arrows(fig)
    assert len(backward) == 4 * 7 - 2                                  # h_4 -> h_3 and h_7 -> h_6 are cut


def test_truncation_title_when_one_chunk_holds_every_step():
    fig = plot_unrolled_graph(3, truncate=5)
    assert _boundaries(fig) == []
    assert fig.axes[0].get_title() == "Truncated BPTT with k = 5 >= T = 3: one chunk, the gradient is not cut"
    fig = plot_unrolled_graph(3, truncate=3, backward=False)
    assert fig.axes[0].get_title() == "Unrolled RNN, one chunk (k = 3 >= T = 3): forward pass (solid)"


@pytest.mark.parametrize("call, error, match", [
    (lambda: plot_hidden_states(np.zeros((3, 2)), times=np.array([1.0, np.nan, 3.0])), ValueError,
     r"^times should hold finite numbers or dates, but holds nan at index 1"),
    (lambda: plot_predictions(np.zeros(2), {}, times=np.array(["2000-01", "NaT"], dtype="datetime64[M]")),
     ValueError, r"^times should hold finite numbers or dates, but holds NaT at index 1"),
    (lambda: plot_predictions(np.zeros(2), {}, times=["a", "b"]), TypeError,
     r"^times should hold numbers or dates \(datetime64 or datetime\.date\), but has dtype <U1"),
    (lambda: plot_losses([1.0, 2.0], baseline="0.5"), TypeError, r"^baseline should be a number, but is str '0.5'"),
    (lambda: plot_losses([1.0, 2.0], baseline=np.bool_(True)), TypeError, r"^baseline should be a number, but is bool"),
    (lambda: plot_losses([1.0, 2.0], baseline=np.array([0.5])), TypeError,
     r"^baseline should be a number, but is an array of shape \(1,\); pass one value"),
    (lambda: plot_losses([1.0, 2.0], baseline=np.nan), ValueError, r"^baseline should be a finite number, but is nan"),
    (lambda: plot_losses({"a": [1.0, 0.0]}, logy=True), ValueError,
     r"^losses\['a'\] should hold values > 0 on a logarithmic axis, but holds 0.0 at index 1"),
    (lambda: plot_losses([1.0, -2.0], logy=True), ValueError,
     r"^losses should hold values > 0 on a logarithmic axis, but holds -2.0 at index 1"),
    (lambda: plot_losses([1.0, 2.0], logy=True, baseline=0.0), ValueError,
     r"^baseline should hold values > 0 on a logarithmic axis, but holds 0.0"),
    (lambda: plot_hidden_states(None), TypeError, r"^hs should be an array \(or a list\) of numbers, but is None"),
    (lambda: plot_losses({"a": None}), TypeError, r"^losses\['a'\] should be an array \(or a list\) of numbers, "
                                                  r"but is None"),
    (lambda: plot_predictions(None, {}), TypeError,
     r"^target should be an array \(or a list\) of numbers, but is None"),
])
def test_training_plots_refuse_what_they_cannot_draw(call, error, match):
    with pytest.raises(error, match=match):
        call()


def test_a_diverged_curve_still_goes_on_a_log_axis():
    ax = plot_losses([1.0, np.inf, np.nan], logy=True).axes[0]         # only finite values are checked
    assert ax.get_yscale() == "log"


def test_predictions_and_hidden_states_take_python_dates_as_times():
    import datetime as dt
    from matplotlib.dates import date2num

    days = [dt.date(2020, 1, d) for d in range(1, 6)]
    ax = plot_predictions(np.arange(5.0), {}, times=days).axes[0]
    np.testing.assert_array_equal(ax.get_lines()[0].get_xdata(), np.array(days, dtype="datetime64[D]"))
    ax = plot_hidden_states(np.zeros((5, 1, 3)), times=days, kind="lines", colorbar=False).axes[0]
    assert ax.get_xlim()[0] <= date2num(days[0]) and ax.get_xlim()[1] >= date2num(days[-1])
    with pytest.raises(TypeError, match=r"^times should hold numbers or dates .* but has dtype object"):
        plot_predictions(np.arange(2.0), {}, times=[days[0], None])         # a missing date is still refused


@pytest.mark.parametrize("losses, match", [
    ([1.0, None, 2.0], r"^losses\['a'\] should hold numbers, but holds None at index 1 \(NumPy would read it as NaN\)"),
    ([[1.0], [None]], r"^losses\['a'\] should hold numbers, but holds None at index \(1, 0\)"),
    (np.array([1.0, "2"], dtype=object), r"^losses\['a'\] should hold numbers, but holds the text '2' at index 1"),
])
def test_none_or_text_among_the_values_is_refused_not_read_as_nan(losses, match):
    from rnncourse.validation import as_float_array

    with pytest.raises(TypeError, match=match):
        plot_losses({"a": losses})
    np.testing.assert_array_equal(as_float_array(np.array([1, 2.5], dtype=object), "x"), [1.0, 2.5])  # numbers pass


def test_figsize_wants_a_positive_width_and_aspect():
    from rnncourse.plotting.style import FIG_WIDTH, figsize

    assert figsize(0.5) == (FIG_WIDTH, FIG_WIDTH * 0.5) and figsize(0.5, width=4) == (4.0, 2.0)
    with pytest.raises(TypeError, match="^width should be a number, but is NoneType None$"):
        figsize(width=None)
    with pytest.raises(ValueError, match=r"^aspect should be a finite number > 0, but is -0.45$"):
        figsize(aspect=-0.45)
    with pytest.raises(ValueError, match=r"^width should be a finite number > 0, but is 0.0$"):
        figsize(width=0)


@pytest.mark.parametrize("flag", ["no", "False", 0, None])
def test_the_plot_options_are_true_or_false_only(flag):
    # bool("False") is True and None is falsy: either would draw another plot than asked, without a word.
    hs = np.zeros((4, 1, 3))
    calls = [("backward", lambda: plot_unrolled_graph(3, backward=flag)),
             ("gradient_labels", lambda: plot_unrolled_graph(3, gradient_labels=flag)),
             ("logy", lambda: plot_losses([1.0, 0.5], logy=flag)),
             ("colorbar", lambda: plot_hidden_states(hs, colorbar=flag))]
    for name, call in calls:
        with pytest.raises(TypeError, match=rf"^{name} should be True or False, but is {type(flag).__name__} "):
            call()
        assert not plt.get_fignums(), f"a refused {name} left a figure open"
    assert len(plot_hidden_states(hs, colorbar=np.bool_(False)).axes) == 1             # NumPy's bool is a bool


def test_graph_columns_are_dx_apart_after_h0():
    from rnncourse.plotting.graph import _col

    assert _col(0) == 0.0 and _col(1) == 1.8
    assert [round(_col(t + 1) - _col(t), 12) for t in range(1, 6)] == [2.3] * 5


def test_use_style_sets_the_palette_and_hides_the_top_spine():
    from rnncourse.plotting.style import PALETTE, use_style

    with matplotlib.rc_context():
        use_style()
        fig, ax = plt.subplots()
        (line,) = ax.plot([0, 1], [0, 1])
        assert line.get_color() == PALETTE[0]
        assert not ax.spines["top"].get_visible() and not ax.spines["right"].get_visible()


@pytest.fixture
def tokyo(monkeypatch):
    import time

    monkeypatch.setenv("TZ", "Asia/Tokyo")
    time.tzset()
    yield
    monkeypatch.undo()
    time.tzset()


def test_dates_ignore_the_local_time_zone_and_aware_ones_go_to_utc(tokyo):
    import datetime as dt

    from rnncourse.plotting._checks import _as_datetime64

    naive = np.array([dt.datetime(2024, 1, 1, 12)], dtype=object)
    np.testing.assert_array_equal(_as_datetime64(naive), np.array(["2024-01-01T12:00"], dtype="datetime64[us]"))
    plus2 = dt.timezone(dt.timedelta(hours=2))
    aware = np.array([dt.datetime(2024, 1, 1, 12, tzinfo=plus2)], dtype=object)
    np.testing.assert_array_equal(_as_datetime64(aware), np.array(["2024-01-01T10:00"], dtype="datetime64[us]"))
