"""The diagram primitives draw what they are given and refuse bad limits, positions and roles by name."""

import matplotlib

matplotlib.use("Agg")  # tests only: no window

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
from matplotlib.colors import to_rgba  # noqa: E402

from rnncourse.plotting.diagrams import arrow, diagram_axes, loop_arrow, new_diagram, node  # noqa: E402
from rnncourse.plotting.style import COLORS  # noqa: E402


@pytest.fixture(autouse=True)
def close_figures():
    yield
    plt.close("all")


def test_a_diagram_spans_its_limits_and_boxes_take_role_colours():
    fig, ax = new_diagram((0, 4), (0, 2), title="t", width=5.0)
    assert ax.get_xlim() == (0, 4) and ax.get_ylim() == (0, 2) and ax.get_title() == "t"
    assert fig.get_figwidth() == 5.0
    assert node(ax, (1, 1), "$h$", "input").get_facecolor() == to_rgba(COLORS["input"], 0.9)
    assert node(ax, (2, 1), "$x$", "#DDDDDD").get_facecolor() == to_rgba("#DDDDDD", 0.9)   # any colour too
    arrow(ax, (1, 1), (2, 1), "a")
    loop_arrow(ax, np.array([1.0, 1.0]), "$W$")
    assert len(ax.patches) == 4
    fig2, ax2 = plt.subplots()
    assert diagram_axes(ax2, [0, 1], np.array([0.0, 1.0])) == (fig2, ax2)


@pytest.mark.parametrize("xlim, ylim, error, match", [
    ((), (0, 1), ValueError, r"^xlim should be a pair \(low, high\) of finite numbers with low < high, but is \(\)"),
    ((0, 1), (0, 1, 2), ValueError, r"^ylim should be a pair \(low, high\) of finite numbers with low < high, "
                                    r"but is \(0, 1, 2\)"),
    ((2, 1), (0, 1), ValueError, r"^xlim should be a pair \(low, high\) of finite numbers with low < high, "
                                 r"but is \(2, 1\)"),
    ((0, 0), (0, 1), ValueError, r"^xlim should be a pair \(low, high\) of finite numbers with low < high, "
                                 r"but is \(0, 0\)"),
    ((0, np.nan), (0, 1), ValueError, r"^xlim should be a pair \(low, high\) of finite numbers with low < high, "
                                      r"but is \(0, nan\)"),
    (None, (0, 1), TypeError, r"^xlim should be a pair \(low, high\) of finite numbers with low < high, "
                              r"but is NoneType"),
    ((0, "1"), (0, 1), TypeError, r"^xlim should be a pair \(low, high\) of finite numbers with low < high, "
                                  r"but is \(0, '1'\)"),
])
def test_bad_limits_are_named_and_leave_no_figure(xlim, ylim, error, match):
    plt.close("all")
    with pytest.raises(error, match=match):
        new_diagram(xlim, ylim)
    with pytest.raises(error, match=match):
        diagram_axes(None, xlim, ylim)
    assert plt.get_fignums() == []


def test_bad_width_is_named():
    with pytest.raises(ValueError, match=r"^width should be a finite number > 0, but is 0.0"):
        new_diagram((0, 1), (0, 1), width=0)


@pytest.mark.parametrize("role, error", [("bogus", ValueError), (None, TypeError), (3, TypeError)])
def test_a_bad_role_is_named(role, error):
    _, ax = new_diagram((0, 4), (0, 2))
    with pytest.raises(error, match=r"^role should be one of 'input', 'hidden', 'output', 'loss', 'gradient', "
                                    r"'neutral' or a matplotlib colour, but is "):
        node(ax, (1, 1), "$h$", role)


@pytest.mark.parametrize("call, match", [
    (lambda ax: node(ax, (1,), "$h$"), r"^xy should be a pair \(x, y\) of finite numbers, but is \(1,\)"),
    (lambda ax: node(ax, None, "$h$"), r"^xy should be a pair \(x, y\) of finite numbers, but is NoneType None"),
    (lambda ax: arrow(ax, (0, 0), (1, 2, 3)), r"^end should be a pair \(x, y\) of finite numbers, but is \(1, 2, 3\)"),
    (lambda ax: arrow(ax, "ab", (1, 2)), r"^start should be a pair \(x, y\) of finite numbers, but is str 'ab'"),
    (lambda ax: loop_arrow(ax, (0, np.inf)), r"^xy should be a pair \(x, y\) of finite numbers, but is \(0, inf\)"),
])
def test_bad_positions_are_named(call, match):
    _, ax = new_diagram((0, 4), (0, 2))
    with pytest.raises((TypeError, ValueError), match=match):
        call(ax)


def test_diagram_axes_prepares_a_given_axes_as_asked():
    fig, given = plt.subplots()
    got_fig, ax = diagram_axes(given, (-2.5, 7.0), (1.0, 4.5), title="a given panel")
    assert (got_fig, ax) == (fig, given)
    assert ax.get_xlim() == (-2.5, 7.0) and ax.get_ylim() == (1.0, 4.5)
    assert ax.get_title() == "a given panel"
    assert not ax.axison and ax.get_aspect() == 1.0


def test_new_diagram_hides_the_axes():
    _, ax = new_diagram((0, 1), (0, 1))
    assert not ax.axison and ax.get_title() == ""


def test_arrow_label_sits_once_at_the_middle():
    _, ax = new_diagram((0, 4), (0, 4))
    arrow(ax, (1.0, 1.0), (3.0, 2.0), "$W$", text_offset=(0.0, 0.0))
    labels = [t for t in ax.texts if t.get_text() == "$W$"]
    assert len(labels) == 1 and len(ax.texts) == 1
    assert labels[0].get_position() == (2.0, 1.5)
    arrow(ax, (0.0, 0.0), (2.0, 0.0), "b")                         # the default offset: 0.12 above
    assert ax.texts[1].get_position() == (1.0, 0.12)
