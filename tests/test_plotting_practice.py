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
