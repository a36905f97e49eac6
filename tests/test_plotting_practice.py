"""The plots of chapter 9 refuse inputs they cannot draw, with a message that says what was expected."""

import matplotlib

matplotlib.use("Agg")  # tests only: no window

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402

from rnncourse.plotting.practice import plot_accuracies, plot_batch_masks, plot_lr_range  # noqa: E402


@pytest.fixture(autouse=True)
def close_figures():
    yield
    plt.close("all")


def test_lr_range_wants_one_loss_per_rate():
    line = plot_lr_range([1e-3, 1e-2], [1.0, 0.5]).axes[0].get_lines()[0]
    np.testing.assert_array_equal(line.get_ydata(), [1.0, 0.5])
    with pytest.raises(ValueError, match=r"lrs and losses should be 1-D and of the same length, one entry per "
                                         r"step, but have shapes \(2,\) and \(1,\)"):
        plot_lr_range([1e-3, 1e-2], [1.0])


def test_masks_and_scores_are_dicts():
    with pytest.raises(TypeError, match=r"masks should be a dict \{scheme name: list of \(T, B\) masks\}, "
                                        r"but is list"):
        plot_batch_masks([np.ones((2, 2), dtype=bool)])
    with pytest.raises(ValueError, match="masks should hold at least one scheme, but is empty"):
        plot_batch_masks({})
    with pytest.raises(TypeError, match=r"scores should be a dict \{name: accuracy\}, but is list"):
        plot_accuracies([0.5])


# --- Defects found by the audit: each test failed before its fix. ---

from rnncourse.plotting.practice import plot_tagged_lines  # noqa: E402
from rnncourse.plotting.style import PALETTE  # noqa: E402

MASK = np.array([[True, True], [True, False]])


@pytest.mark.parametrize("masks, error, match", [
    ({"a": [np.array([[1, 1], [1, 2]])]}, TypeError,
     r"^masks\['a'\]\[0\] should be a boolean array \(True at a real step\), but has dtype int64; "
     r"convert it, e.g. masks\['a'\]\[0\] != 0"),
    ({"a": [[[True, False]]]}, TypeError, r"^masks\['a'\]\[0\] should be a numpy.ndarray of bool, but is list; "
                                          r"wrap it with np.asarray\(...\)"),
    ({"a": []}, ValueError, r"^masks\['a'\] should be a non-empty list of \(T, B\) masks, but is empty"),
    ({"a": MASK}, TypeError, r"^masks\['a'\] should be a list of \(T, B\) masks, but is ndarray; "
                             r"wrap a single mask in a list"),
    ({"a": [MASK[0]]}, ValueError, r"^masks\['a'\]\[0\] should have shape \(T, B\), but has shape \(2,\)"),
    ({"a": [np.zeros((0, 2), bool)]}, ValueError, r"^masks\['a'\]\[0\] should have shape \(T, B\) with T, B >= 1, "
                                                  r"but has shape \(0, 2\)"),
])
def test_batch_masks_must_be_lists_of_boolean_arrays(masks, error, match):
    with pytest.raises(error, match=match):
        plot_batch_masks(masks)


def test_batch_masks_name_a_tensor_and_its_fix():
    torch = pytest.importorskip("torch")
    with pytest.raises(TypeError, match=r"^masks\['a'\]\[0\] should be a numpy.ndarray of bool, but is "
                                        r"torch.Tensor; call .detach\(\).cpu\(\).numpy\(\) on it"):
        plot_batch_masks({"a": [torch.ones(2, 2, dtype=torch.bool)]})


def test_batch_mask_title_counts_the_padding():
    assert plot_batch_masks({"a": [MASK]}).axes[0].get_title() == "a: 25% padding"


@pytest.mark.parametrize("lines, rows, tag_names, error, match", [
    (["ab"], {"truth": [np.array([0, -1])]}, ("x", "y"), ValueError,
     r"^rows\['truth'\]\[0\] should hold indices in \[0, 2\), but holds values from -1 to 0"),
    (["ab"], {"truth": [np.array([0, 1])], "m": [np.array([0, 2])]}, ("x", "y"), ValueError,
     r"^rows\['m'\]\[0\] should hold indices in \[0, 2\), but holds values from 0 to 2"),
    (["ab"], {"truth": [np.array([0])]}, ("x", "y"), ValueError,
     r"^rows\['truth'\]\[0\] should have one tag per character of lines\[0\] \(2\), but has 1"),
    (["ab", "c"], {"truth": [np.array([0, 1])]}, ("x", "y"), ValueError,
     r"^rows\['truth'\] should hold one tag array per line \(2\), but holds 1"),
    (["ab"], {"truth": [np.array([0.0, 1.0])]}, ("x", "y"), TypeError,
     r"^rows\['truth'\]\[0\] should hold integer class indices, but has dtype float64"),
    (["ab"], {"truth": [np.array([0, 1])]}, tuple("abcdefghi"), ValueError,
     r"^tag_names should have at most 8 names \(one colour of the palette each\), but has 9"),
    (["ab"], {}, ("x", "y"), ValueError, r"^rows should hold at least one tagging, e.g. \{'truth': tags\}, "
                                         r"but is empty"),
    ([], {"truth": []}, ("x", "y"), ValueError, r"^lines should hold at least one line, but is empty"),
    (["ab"], {"truth": [np.array([0, 0])]}, (), ValueError, r"^tag_names should hold at least one name, but is empty"),
    ([b"ab"], {"truth": [np.array([0, 1])]}, ("x", "y"), TypeError, r"^lines\[0\] should be a str, but is bytes"),
    ("ab", {"truth": [np.array([0, 1])]}, ("x", "y"), TypeError, r"^lines should be a list of str, but is str"),
    (["ab"], {"truth": np.array([[0, 1]])}, ("x", "y"), TypeError,
     r"^rows\['truth'\] should be a list of tag arrays, one per line, but is ndarray"),
])
def test_tagged_lines_check_tags_lengths_and_names(lines, rows, tag_names, error, match):
    with pytest.raises(error, match=match):
        plot_tagged_lines(lines, rows, tag_names)


def test_tagged_lines_colour_each_tag_as_in_the_legend():
    fig = plot_tagged_lines(["abc"], {"truth": [np.array([0, 2, 1])]}, ("x", "y", "z"))
    ax = fig.axes[0]
    cells = [p for p in ax.patches]
    assert [matplotlib.colors.to_hex(p.get_facecolor()[:3]) for p in cells] == [PALETTE[0].lower(),
                                                                                PALETTE[2].lower(),
                                                                                PALETTE[1].lower()]


def test_lr_range_marks_the_diverged_last_step():
    ax = plot_lr_range([1e-3, 1e-2, 1e-1], [1.0, 0.5, np.inf], suggested=1e-3).axes[0]
    loss, diverged = ax.get_lines()[0], ax.get_lines()[1]
    np.testing.assert_array_equal(loss.get_ydata(), [1.0, 0.5])
    np.testing.assert_array_equal(diverged.get_xdata(), [1e-1])
    np.testing.assert_array_equal(diverged.get_ydata(), [1.0])             # the top edge, in axes coordinates
    labels = [t.get_text() for t in ax.get_legend().get_texts()]
    assert labels == ["training loss at that step", "diverged (loss inf)", "chosen rate 1.0e-03"]
    ax = plot_lr_range([1e-3, 1e-2], [1.0, 0.5]).axes[0]                  # finite: as before, no marker
    assert len(ax.get_lines()) == 1


@pytest.mark.parametrize("lrs, losses, kwargs, error, match", [
    ([], [], {}, ValueError, r"^lrs and losses should hold at least one step, but are empty"),
    ([1e-3, 0.0], [1.0, 0.5], {}, ValueError,
     r"^lrs should hold finite learning rates > 0 \(the axis is logarithmic\), but holds 0.0 at step 1"),
    ([1e-3, 1e-2, 1e-1], [1.0, np.nan, 0.5], {}, ValueError,
     r"^losses should be finite before the last step \(lr_range_test stops at the first loss that is not\), "
     r"but holds nan at step 1"),
    (["a", "b"], [1.0, 0.5], {}, TypeError, r"^lrs should be an array \(or a list\) of numbers"),
    ([1e-3, 1e-2], [1.0, 0.5], {"suggested": -1.0}, ValueError, r"^suggested should be a finite number > 0"),
])
def test_lr_range_checks_its_input(lrs, losses, kwargs, error, match):
    with pytest.raises(error, match=match):
        plot_lr_range(lrs, losses, **kwargs)


@pytest.mark.parametrize("value, error, match", [
    (1.2, ValueError, r"^scores\['m'\] should be an accuracy in \[0, 1\], but is 1.2"),
    (-0.1, ValueError, r"^scores\['m'\] should be an accuracy in \[0, 1\], but is -0.1"),
    (np.nan, ValueError, r"^scores\['m'\] should be an accuracy in \[0, 1\], but is nan"),
    ("a", TypeError, r"^scores\['m'\] should be a number, but is str 'a'"),
])
def test_accuracies_must_lie_in_zero_one(value, error, match):
    with pytest.raises(error, match=match):
        plot_accuracies({"m": value})


# --- Second audit: each test failed before its fix. ---

from rnncourse.plotting.style import COLORS  # noqa: E402


def test_batch_masks_colour_real_steps_dark_padding_light_and_number_steps_from_one():
    masks = {"a": [np.array([[True, True], [True, False]]), np.array([[True], [True], [False]])]}
    ax = plot_batch_masks(masks).axes[0]
    image = ax.images[0]
    rgb = image.to_rgba(image.get_array())[..., :3]
    # columns: batch 0 (2 sequences), a gap, batch 1 (1 sequence); rows: t = 1, 2, 3 (the longest batch)
    dark, light, outside = (matplotlib.colors.to_rgb(c) for c in (PALETTE[0], COLORS["input"], "#EEEEEE"))
    expected = [[dark, dark, None, dark], [dark, light, None, dark], [outside, outside, None, light]]
    for t, row in enumerate(expected):
        for j, colour in enumerate(row):
            if colour is not None:
                np.testing.assert_allclose(rgb[t, j], colour, err_msg=f"row {t}, column {j}")
    assert image.get_extent() == [-0.5, 3.5, 3.5, 0.5]          # rows centred on t = 1 .. 3, from the top


def test_accuracies_are_drawn_top_to_bottom_in_the_dict_order():
    ax = plot_accuracies({"first": 0.9, "second": 0.5, "third": 0.7}).axes[0]
    bars = sorted(ax.patches, key=lambda p: -p.get_y())                # top to bottom
    assert [round(p.get_width(), 3) for p in bars] == [0.9, 0.5, 0.7]
    ticks = sorted(zip(ax.get_yticks(), (t.get_text() for t in ax.get_yticklabels())), key=lambda yt: -yt[0])
    assert [text for _, text in ticks] == ["first", "second", "third"]
    assert [matplotlib.colors.to_hex(p.get_facecolor()[:3]) for p in bars] == [c.lower() for c in PALETTE[:3]]


def test_tagged_lines_frame_exactly_the_wrong_tags():
    rows = {"truth": [np.array([0, 1, 2])], "model": [np.array([0, 2, 2])]}
    ax = plot_tagged_lines(["abc"], rows, ("x", "y", "z")).axes[0]
    framed = [p.get_linewidth() > 0 and p.get_edgecolor()[3] > 0 and tuple(p.get_edgecolor()[:3]) == (0, 0, 0)
              for p in ax.patches]                                     # a black frame
    assert framed == [False, False, False, False, True, False]         # truth row, then the model's: only "b"


def test_lr_range_legend_says_what_the_curve_is_and_keeps_off_it():
    ax = plot_lr_range([1e-3, 1e-2, 1e-1], [2.0, 1.0, 1.5], label="training loss (10-step average)").axes[0]
    assert ax.get_lines()[0].get_label() == "training loss (10-step average)"
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["training loss (10-step average)"]
    lrs = np.geomspace(1e-4, 10, 60)                                   # high and flat on the left, as in chapter 9
    losses = np.concatenate([np.full(30, 2.0), np.linspace(2.0, 0.5, 20), np.linspace(0.5, 1.5, 10)])
    ax = plot_lr_range(lrs, losses).axes[0]
    ax.figure.canvas.draw()
    box = ax.get_legend().get_window_extent()
    points = ax.transData.transform(np.column_stack([lrs, losses]))
    assert not any(box.contains(x, y) for x, y in points), "the legend hides part of the curve"
    with pytest.raises(TypeError, match=r"^label should be a str, but is NoneType None"):
        plot_lr_range([1e-3], [1.0], label=None)


@pytest.mark.parametrize("call, error, match", [
    (lambda: plot_accuracies({}), ValueError, r"^scores should hold at least one score, but is empty"),
    (lambda: plot_accuracies({"m": np.array([0.5])}), TypeError,
     r"^scores\['m'\] should be a number, but is an array of shape \(1,\); pass one value"),
    (lambda: plot_lr_range(None, [1.0]), TypeError, r"^lrs should be an array \(or a list\) of numbers, but is None"),
    (lambda: plot_tagged_lines(["ab"], {"truth": [np.array([0, 1])]}, None), TypeError,
     r"^tag_names should be a list or tuple of str, one per tag id, but is NoneType"),
])
def test_practice_plots_refuse_empty_none_and_arrays_for_numbers(call, error, match):
    with pytest.raises(error, match=match):
        call()


# --- Accessibility audit (dark mode inverts figures): each test failed before its fix. ---

def test_batch_masks_name_their_colours_in_a_legend_not_by_lightness():
    masks = {"a": [np.array([[True, True], [True, False]]), np.array([[True], [True], [False]])]}
    fig = plot_batch_masks(masks)
    (legend,) = fig.legends
    labels = [t.get_text() for t in legend.get_texts()]
    assert labels == ["real step", "padding", "beyond the batch's longest line"]
    swatches = [matplotlib.colors.to_rgb(h.get_facecolor()) for h in legend.legend_handles]
    expected = [matplotlib.colors.to_rgb(c) for c in (PALETTE[0], COLORS["input"], "#EEEEEE")]
    np.testing.assert_allclose(swatches, expected)                     # the swatches are the image's colours
    title = fig._suptitle.get_text()
    assert not any(word in title.lower() for word in ("dark", "light", "grey")), title
    fig.canvas.draw()                                                  # the legend overlaps neither title nor panel
    box = legend.get_window_extent()
    for other in [fig._suptitle, *(ax for ax in fig.axes), *(ax.title for ax in fig.axes)]:
        assert not box.overlaps(other.get_window_extent()), other
