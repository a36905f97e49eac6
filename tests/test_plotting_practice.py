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
