"""The wiring diagrams draw what they claim: the right units, the right feedback weights, a title."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")  # tests only: no window

import matplotlib.pyplot as plt  # noqa: E402
import pytest  # noqa: E402
from matplotlib.patches import FancyArrowPatch, FancyBboxPatch  # noqa: E402

from rnncourse.plotting.wiring import (draw_elman_jordan, draw_gru_cell,  # noqa: E402
                                       draw_lstm_cell)


@pytest.fixture(autouse=True)
def close_figures():
    yield
    plt.close("all")


def texts(ax):
    return [t.get_text() for t in ax.texts]


def test_elman_feeds_back_the_hidden_state_through_W_hh():
    ax = draw_elman_jordan().axes[0]
    assert "$W_{hh}$" in texts(ax) and "$W_{yh}$" not in texts(ax)
    assert any("h_{t-1}" in t for t in texts(ax))
    assert ax.get_title().startswith("Elman")


def test_jordan_feeds_back_the_output_through_W_yh():
    ax = draw_elman_jordan().axes[1]
    assert "$W_{yh}$" in texts(ax) and "$W_{hh}$" not in texts(ax)
    assert any("y_{t-1}" in t for t in texts(ax))


def test_side_by_side_has_two_panels_with_four_boxes_each():
    fig = draw_elman_jordan()
    assert len(fig.axes) == 2
    for ax in fig.axes:
        assert sum(isinstance(p, FancyBboxPatch) for p in ax.patches) == 4    # x, h, y, context
        assert sum(isinstance(p, FancyArrowPatch) for p in ax.patches) == 4   # W_xh, W_hy, feedback, copy


def test_lstm_cell_has_four_gates_and_the_cell_state():
    ax = draw_lstm_cell().axes[0]
    labels = " ".join(texts(ax))
    for gate in ("$f$", "$i$", "$g$", "$o$", "$c_{t-1}$", "$c_t$", "$h_t$"):
        assert gate in labels
    assert ax.get_title() == "LSTM cell"


def test_gru_cell_has_three_gates():
    ax = draw_gru_cell().axes[0]
    labels = " ".join(texts(ax))
    for gate in ("$r$", "$z$", "$n$", "$h_{t-1}$", "$h_t$", "reset"):
        assert gate in labels
    assert "$c_t$" not in labels


def test_draws_into_a_given_axes():
    fig, ax = plt.subplots()
    assert draw_gru_cell(ax, title="mine") is fig and ax.get_title() == "mine"


@pytest.mark.parametrize("draw", [draw_lstm_cell, draw_gru_cell])
def test_gated_cells_take_x_t_and_h_prev_as_inputs(draw):
    shown = texts(draw().axes[0])
    assert "$x_t$" in shown and "$h_{t-1}$" in shown


def test_gru_cell_has_two_products_one_sum_and_one_minus():
    shown = texts(draw_gru_cell().axes[0])
    assert shown.count(r"$\times$") == 2
    assert shown.count("+") == 1 and shown.count("1$-$") == 1


def test_lstm_cell_draws_fifteen_arrows():
    ax = draw_lstm_cell().axes[0]
    # 4 from the input bus to the gates; 3 along c; f, i, g up; i*g -> +; 2 through tanh; o -> x; x -> h_t
    assert sum(isinstance(p, FancyArrowPatch) for p in ax.patches) == 15
