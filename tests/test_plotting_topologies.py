"""The topology diagrams draw the right boxes and arrows; the result plots draw what they are given."""

import matplotlib

matplotlib.use("Agg")  # tests only: no window

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
from matplotlib.patches import FancyArrowPatch, FancyBboxPatch  # noqa: E402

from rnncourse.plotting.topologies import (  # noqa: E402
    MAX_STEPS, TOPOLOGIES, draw_all_topologies, draw_topology, plot_frame_labels, plot_scores, plot_stroke_images,
)


@pytest.fixture(autouse=True)
def close_figures():
    yield
    plt.close("all")


def count(ax, kind):
    return sum(isinstance(p, kind) for p in ax.patches)


# (boxes, arrows) for T = 3, counted by hand from each diagram's definition.
EXPECTED = {
    "one_to_one": (3, 2),              # x -> h -> y
    "one_to_many": (7, 1 + 2 + 3),     # x -> h1; h1 -> h2 -> h3; h_t -> y_t
    "many_to_one": (7, 3 + 2 + 1),     # x_t -> h_t; recurrence; h3 -> y
    "synchronized": (9, 3 + 2 + 3),
    "seq2seq": (15, 3 + 5 + 3 + 3 + 2),  # encoder inputs; 6 states chained; decoder outputs and inputs; feedback
}


@pytest.mark.parametrize("kind", list(TOPOLOGIES))
def test_each_topology_has_its_boxes_and_arrows(kind):
    ax = draw_topology(kind, steps=3).axes[0]
    assert (count(ax, FancyBboxPatch), count(ax, FancyArrowPatch)) == EXPECTED[kind]
    assert ax.get_title() == TOPOLOGIES[kind]


def test_every_step_conditioning_adds_dashed_arrows():
    first = draw_topology("one_to_many", steps=4).axes[0]
    every = draw_topology("one_to_many", steps=4, condition="every_step").axes[0]
    assert count(every, FancyArrowPatch) == count(first, FancyArrowPatch) + 3


def test_the_seq2seq_diagram_names_its_parts():
    texts = {t.get_text() for t in draw_topology("seq2seq").axes[0].texts}
    assert {"encoder", "decoder", "$c$", "<bos>"} <= texts


def test_all_topologies_in_one_figure_and_bad_kind():
    fig = draw_all_topologies()
    assert len(fig.axes) == 5
    with pytest.raises(ValueError, match="kind should be one of"):
        draw_topology("two_to_one")


def test_result_plots():
    images = np.zeros((3, 49))
    fig = plot_stroke_images(images, ["a <end>", "b <end>", "c d <end>"], ncols=2)
    assert sum(bool(ax.images) for ax in fig.axes) == 3
    with pytest.raises(ValueError, match="one title each"):
        plot_stroke_images(images, ["a"])
    labels = np.array([0, 0, 1, 1, 2])
    ax = plot_frame_labels(np.zeros(5), labels, labels, ("a", "b", "c")).axes[0]
    assert ax.get_xlabel() == "time step t" and len(ax.get_legend().get_texts()) == 3
    with pytest.raises(ValueError, match="same length T"):
        plot_frame_labels(np.zeros(5), labels, labels[:3], ("a", "b", "c"))
    ax = plot_scores(["x", "y"], [0.9, 0.8], [0.5, 0.4]).axes[0]
    assert [round(p.get_width(), 2) for p in ax.patches] == [0.9, 0.8, 0.5, 0.4]
    with pytest.raises(ValueError, match="same length"):
        plot_scores(["x"], [0.9, 0.8], [0.5])


@pytest.mark.parametrize("kwargs, error, match", [
    ({"size": 0}, ValueError, "size should be an integer >= 1, but is 0"),
    ({"ncols": 0}, ValueError, "ncols should be an integer >= 1, but is 0"),
    ({"ncols": 2.5}, TypeError, "ncols should be an integer, but is float 2.5"),
])
def test_stroke_image_grid_rejects_bad_sizes(kwargs, error, match):
    with pytest.raises(error, match=match):
        plot_stroke_images(np.zeros((1, 49)), ["a"], **kwargs)


# --- Defects found by the audit: each test failed before its fix. ---

LABELS = np.array([0, 0, 1, 1, 2])


@pytest.mark.parametrize("model, baseline, error, match", [
    ([1.2, 0.8], [0.5, 0.4], ValueError, r"^model should hold accuracies in \[0, 1\], but holds 1.2 at index 0"),
    ([0.9, 0.8], [0.5, np.nan], ValueError, r"^baseline should hold accuracies in \[0, 1\], but holds nan at index 1"),
    ([0.9, -0.1], [0.5, 0.4], ValueError, r"^model should hold accuracies in \[0, 1\], but holds -0.1 at index 1"),
    (["a", 0.8], [0.5, 0.4], TypeError, r"^model should be an array \(or a list\) of numbers"),
    ([[0.9, 0.8]], [0.5, 0.4], ValueError, r"^model should have shape \(N,\), one score per task, but has shape "
                                           r"\(1, 2\)"),
])
def test_scores_must_be_finite_accuracies(model, baseline, error, match):
    with pytest.raises(error, match=match):
        plot_scores(["x", "y"][:len(model)], model, baseline)


@pytest.mark.parametrize("x, labels, predicted, error, match", [
    (np.zeros((5, 2)), LABELS, LABELS, ValueError, r"^x should have shape \(T,\) or \(T, 1\), but has shape \(5, 2\)"),
    (np.zeros(5), np.stack([LABELS, LABELS], 1), LABELS, ValueError,
     r"^labels should have shape \(T,\) or \(T, 1\), but has shape \(5, 2\)"),
    (np.array([0.0, np.nan, 1.0, 1.0, 0.0]), LABELS, LABELS, ValueError,
     r"^x contains NaN or infinity \(first at index 1\)"),
    (np.zeros(0), LABELS[:0], LABELS[:0], ValueError, r"^x is empty; there is nothing to plot"),
    (np.zeros(5), LABELS.astype(float), LABELS, TypeError,
     r"^labels should hold integer class indices, but has dtype float64"),
    (np.zeros(5), LABELS, LABELS + 1, ValueError, r"^predicted should hold indices in \[0, 3\), but holds values "
                                                  r"from 1 to 3"),
])
def test_frame_labels_check_their_arrays(x, labels, predicted, error, match):
    with pytest.raises(error, match=match):
        plot_frame_labels(x, labels, predicted, ("a", "b", "c"))


def test_frame_labels_take_columns():
    ax = plot_frame_labels(np.zeros((5, 1)), LABELS[:, None], LABELS[:, None], ("a", "b", "c")).axes[0]
    np.testing.assert_array_equal(ax.get_lines()[0].get_ydata(), np.zeros(5))


@pytest.mark.parametrize("images, titles, error, match", [
    (np.zeros((2, 49)), [1, 2], TypeError, r"^titles\[0\] should be a str, but is int 1"),
    (np.zeros((0, 49)), [], ValueError, r"^images should hold at least one image, but has shape \(0, 49\)"),
])
def test_stroke_images_check_titles_and_count(images, titles, error, match):
    with pytest.raises(error, match=match):
        plot_stroke_images(images, titles)


# --- Second audit: each test failed before its fix. ---

def _spans(rectangles):
    """(left, right, colour) of each rectangle, left to right."""
    return sorted((r.get_x(), r.get_x() + r.get_width(), matplotlib.colors.to_hex(r.get_facecolor()[:3]))
                  for r in rectangles)


def test_frame_labels_draw_every_step_one_step_wide_true_labels_behind():
    from rnncourse.plotting.style import PALETTE

    a, b, c = (p.lower() for p in PALETTE[:3])
    labels, predicted = np.array([0, 0, 1, 2, 2, 2]), np.array([0, 1, 1, 2, 0, 2])
    ax = plot_frame_labels(np.zeros(6), labels, predicted, ("a", "b", "c")).axes[0]
    strip_y = min(p.get_y() for p in ax.patches)
    background = [p for p in ax.patches if p.get_y() > strip_y]
    strip = [p for p in ax.patches if p.get_y() == strip_y]
    # step t (1 .. T) owns [t - 0.5, t + 0.5]; the one-step run of "b" (t = 3) is one step wide
    assert _spans(background) == [(0.5, 2.5, a), (2.5, 3.5, b), (3.5, 6.5, c)]
    assert _spans(strip) == [(0.5, 1.5, a), (1.5, 3.5, b), (3.5, 4.5, c), (4.5, 5.5, a), (5.5, 6.5, c)]
    assert ax.get_xlim() == (0.5, 6.5)
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["true: a", "true: b", "true: c"]


def test_stroke_images_are_shown_row_major_as_flattened():
    images = np.arange(2 * 49, dtype=float).reshape(2, 49)
    fig = plot_stroke_images(images, ["a", "b"])
    np.testing.assert_array_equal(fig.axes[0].images[0].get_array(), images[0].reshape(7, 7))
    np.testing.assert_array_equal(fig.axes[1].images[0].get_array(), images[1].reshape(7, 7))


def test_refused_diagrams_leave_no_blank_figure_open():
    from rnncourse.plotting.unrolled import draw_folded_and_unrolled

    plt.close("all")
    with pytest.raises(ValueError, match=r"^T should be at most 8 so that the copies stay readable, but is 9"):
        draw_folded_and_unrolled(9)
    with pytest.raises(ValueError, match=r"^steps should be an integer >= 1, but is 0"):
        draw_all_topologies(0)
    assert plt.get_fignums() == []


@pytest.mark.parametrize("call, error, match", [
    (lambda: plot_frame_labels(None, LABELS, LABELS, ("a", "b", "c")), TypeError,
     r"^x should be an array of shape \(T,\) or \(T, 1\), one value per time step, but is None"),
    (lambda: plot_frame_labels(np.zeros(5), LABELS, LABELS, None), TypeError,
     r"^names should be a non-empty tuple of class names, e.g. seq_tasks.REGIMES, but is NoneType None"),
    (lambda: plot_frame_labels(np.zeros(5), LABELS, LABELS, ("a", 2, "c")), TypeError,
     r"^names\[1\] should be a str, but is int 2"),
    (lambda: plot_scores(None, [0.5], [0.5]), TypeError,
     r"^tasks should be a list of task names, one per bar pair, but is NoneType"),
    (lambda: plot_scores(["x"], None, [0.5]), TypeError,
     r"^model should be a list of scores, one per task, but is None"),
    (lambda: plot_stroke_images(None, ["a"]), TypeError, r"^images should be an array of shape \(N, size \* size\), "
                                                         r"but is None"),
    (lambda: plot_stroke_images(np.zeros((1, 49)), None), TypeError,
     r"^titles should be a list of str \(or a 1-D array of str\), one per image, but is NoneType"),
])
def test_result_plots_name_a_missing_argument(call, error, match):
    with pytest.raises(error, match=match):
        call()


def test_stroke_images_take_a_numpy_array_of_titles_like_a_list():
    fig = plot_stroke_images(np.zeros((2, 49)), np.array(["a <end>", "b c"]))
    assert [ax.get_title() for ax in fig.axes[:2]] == ["a\n<end>", "b\nc"]


@pytest.mark.parametrize("steps", [51, 10**9])
@pytest.mark.parametrize("draw", [lambda steps: draw_topology("seq2seq", steps=steps), draw_all_topologies],
                         ids=["draw_topology", "draw_all_topologies"])
def test_steps_has_a_maximum_and_a_refusal_leaves_no_figure(draw, steps):
    """steps = 10**9 used to build a billion boxes; above MAX_STEPS the call is refused before any drawing."""
    plt.close("all")
    with pytest.raises(ValueError, match=rf"^steps should be an integer from 1 to {MAX_STEPS}, but is {steps}$"):
        draw(steps)
    assert plt.get_fignums() == []


def test_the_largest_steps_still_draws():
    ax = draw_topology("seq2seq", steps=MAX_STEPS).axes[0]
    assert count(ax, FancyBboxPatch) == 5 * MAX_STEPS      # encoder x and h, decoder s, y and its input
    assert len(draw_all_topologies(MAX_STEPS).axes) == 5


def test_scores_label_each_bar_pair_with_its_task_and_name_both_series():
    ax = plot_scores(["copy", "reverse", "sort"], [0.9, 0.8, 0.7], [0.5, 0.4, 0.3]).axes[0]
    assert [t.get_text() for t in ax.get_yticklabels()] == ["copy", "reverse", "sort"]
    assert list(ax.get_yticks()) == [2, 1, 0]                         # the first task on top
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["trained model", "baseline"]
