"""Wiring diagrams drawn by code: Elman versus Jordan feedback, and the LSTM and GRU cells.

- :func:`draw_elman_jordan`: input, hidden and output units with the *context* units that hold
  a copy of the previous hidden state (Elman, left) or of the previous output (Jordan, right)
  (chapter 7);
- :func:`draw_lstm_cell` and :func:`draw_gru_cell`: the gates and the paths of one gated step
  (chapter 8).

Diagrams are built on :mod:`rnncourse.plotting.diagrams`; each single-panel function draws into
``ax`` when given, else into a new figure, and every function returns the figure.
"""

from __future__ import annotations

import matplotlib.pyplot as plt

from .diagrams import NODE_H, NODE_W, arrow, diagram_axes, node
from .style import COLORS, FIG_WIDTH

__all__ = ["draw_elman_jordan", "draw_lstm_cell", "draw_gru_cell"]

#: Fill of the context units, lighter than the units they copy, since they only hold a delayed copy.
CONTEXT_COLOR = "#F6D9A8"
#: Fill of the small pointwise operations (products, sums, nonlinearities) in the gated cells.
OP_COLOR = "#FFFFFF"
#: Half size of a pointwise-operation circle.
OP = 0.22


def _three_layers(ax, feedback_label, context_label):
    """Input, hidden and output units, a context box to the right, and the context -> hidden weights."""
    X, Y_x, Y_h, Y_y, X_c = 0.0, 0.0, 1.4, 2.8, 1.9
    node(ax, (X, Y_x), "$x_t$", "input")
    node(ax, (X, Y_h), "$h_t$", "hidden")
    node(ax, (X, Y_y), "$y_t$", "output")
    node(ax, (X_c, Y_h), context_label, CONTEXT_COLOR, w=0.55)
    arrow(ax, (X, Y_x + NODE_H), (X, Y_h - NODE_H), "$W_{xh}$", text_offset=(-0.38, 0.0), fontsize=9)
    arrow(ax, (X, Y_h + NODE_H), (X, Y_y - NODE_H), "$W_{hy}$", text_offset=(-0.38, 0.0), fontsize=9)
    arrow(ax, (X_c - 0.55, Y_h), (X + NODE_W, Y_h), feedback_label, text_offset=(0.0, -0.22), fontsize=9)
    return X, Y_h, Y_y, X_c


def _draw_elman(ax=None, *, title="Elman: the hidden state is fed back"):
    """Draw the Elman network: context units copy the hidden layer and feed it back through ``W_hh``.

    Parameters
    ----------
    ax : matplotlib.axes.Axes, optional
        Axes to draw into; a new figure when ``None``.
    title : str
        Title of the axes.

    Returns
    -------
    matplotlib.figure.Figure
        The figure holding the diagram.
    """
    fig, ax = diagram_axes(ax, (-1.0, 3.0), (-0.5, 3.3), title=title, width=3.4)
    X, Y_h, _, X_c = _three_layers(ax, "$W_{hh}$", "$h_{t-1}$\ncontext")
    arrow(ax, (X + 0.2, Y_h + NODE_H), (X_c, Y_h + NODE_H), "copy", rad=-0.6, linestyle="--",
          color=COLORS["hidden"], text_offset=(0.0, 0.78), fontsize=9)
    return fig


def _draw_jordan(ax=None, *, title="Jordan: the output is fed back"):
    """Draw the Jordan network: context units copy the output layer and feed it back through ``W_yh``.

    Parameters
    ----------
    ax : matplotlib.axes.Axes, optional
        Axes to draw into; a new figure when ``None``.
    title : str
        Title of the axes.

    Returns
    -------
    matplotlib.figure.Figure
        The figure holding the diagram.
    """
    fig, ax = diagram_axes(ax, (-1.0, 3.0), (-0.5, 3.3), title=title, width=3.4)
    X, Y_h, Y_y, X_c = _three_layers(ax, "$W_{yh}$", "$y_{t-1}$\ncontext")
    arrow(ax, (X + NODE_W, Y_y), (X_c, Y_h + NODE_H + 0.02), "copy\n(or target)", rad=-0.35, linestyle="--",
          color=COLORS["output"], text_offset=(0.75, 0.45), fontsize=9)
    return fig


def draw_elman_jordan():
    """Draw the Elman and the Jordan diagram side by side.

    Returns
    -------
    matplotlib.figure.Figure
        One figure with two panels.
    """
    fig, (left, right) = plt.subplots(1, 2, figsize=(FIG_WIDTH, 3.2))
    _draw_elman(left)
    _draw_jordan(right)
    return fig


def _op(ax, xy, text, w=OP):
    """A small box for a pointwise operation (wider with ``w`` for a longer name such as tanh)."""
    node(ax, xy, text, OP_COLOR, w=w, h=OP, fontsize=10)


def _inputs_to_gates(ax, gate_xs, y_gate):
    """``x_t`` and ``h_{t-1}`` at the bottom left, joined on a bus that feeds every gate from below."""
    node(ax, (0.0, 0.0), "$x_t$", "input")
    node(ax, (0.0, 1.0), "$h_{t-1}$", "hidden")
    y_bus = 0.5
    ax.plot([NODE_W, NODE_W + 0.3], [0.0, y_bus], color="black", lw=1.4)
    ax.plot([NODE_W, NODE_W + 0.3], [1.0, y_bus], color="black", lw=1.4)
    ax.plot([NODE_W + 0.3, max(gate_xs)], [y_bus, y_bus], color="black", lw=1.4)
    for gx in gate_xs:
        arrow(ax, (gx, y_bus), (gx, y_gate - NODE_H))


def draw_lstm_cell(ax=None, *, title="LSTM cell"):
    """Draw one LSTM step: gates i, f, g, o from ``x_t`` and ``h_{t-1}``; the additive cell-state path on top.

    The horizontal line at the top is the cell state ``c``: it is only scaled by
    the forget gate and added to, never squashed, which is why gradients travel
    along it (chapter 8).

    Parameters
    ----------
    ax : matplotlib.axes.Axes, optional
        Axes to draw into; a new figure when ``None``.
    title : str
        Title of the axes.

    Returns
    -------
    matplotlib.figure.Figure
        The figure holding the diagram.
    """
    fig, ax = diagram_axes(ax, (-0.7, 10.3), (-0.6, 5.1), title=title)
    y_gate, y_c = 2.0, 4.4
    gates = {"f": 1.8, "i": 3.4, "g": 4.6, "o": 6.4}
    labels = {"f": r"$f$: $\sigma$", "i": r"$i$: $\sigma$", "g": r"$g$: tanh", "o": r"$o$: $\sigma$"}
    _inputs_to_gates(ax, list(gates.values()), y_gate)
    for name, gx in gates.items():
        node(ax, (gx, y_gate), labels[name], "hidden", w=0.5)
    c_in, c_out = (0.0, y_c), (9.6, y_c)
    node(ax, c_in, "$c_{t-1}$", CONTEXT_COLOR)
    node(ax, c_out, "$c_t$", CONTEXT_COLOR)
    x_f, x_add, x_ig, x_tanh = gates["f"], 4.0, (4.0, 3.3), (7.6, 3.5)
    _op(ax, (x_f, y_c), r"$\times$")
    _op(ax, (x_add, y_c), "+")
    _op(ax, x_ig, r"$\times$")
    _op(ax, x_tanh, "tanh", w=0.36)
    _op(ax, (7.6, y_gate), r"$\times$")
    arrow(ax, (NODE_W, y_c), (x_f - OP, y_c), color=COLORS["loss"])
    arrow(ax, (x_f + OP, y_c), (x_add - OP, y_c), color=COLORS["loss"])
    arrow(ax, (x_add + OP, y_c), (c_out[0] - NODE_W, y_c), "cell state: only scaled and added to",
          color=COLORS["loss"], text_offset=(0.0, 0.3), fontsize=9)
    arrow(ax, (x_f, y_gate + NODE_H), (x_f, y_c - OP))
    arrow(ax, (gates["i"], y_gate + NODE_H), (x_ig[0] - 0.15, x_ig[1] - OP + 0.05))
    arrow(ax, (gates["g"], y_gate + NODE_H), (x_ig[0] + 0.15, x_ig[1] - OP + 0.05))
    arrow(ax, (x_ig[0], x_ig[1] + OP), (x_add, y_c - OP))
    arrow(ax, (x_tanh[0], y_c), (x_tanh[0], x_tanh[1] + OP))
    arrow(ax, (x_tanh[0], x_tanh[1] - OP), (7.6, y_gate + OP))
    arrow(ax, (gates["o"] + 0.5, y_gate), (7.6 - OP, y_gate))
    node(ax, (9.6, y_gate), "$h_t$", "hidden")
    arrow(ax, (7.6 + OP, y_gate), (9.6 - NODE_W, y_gate))
    return fig


def draw_gru_cell(ax=None, *, title="GRU cell"):
    """Draw one GRU step: reset and update gates, the candidate ``n``, and the interpolation on top.

    The top line is the state itself: ``h_t = z * h_{t-1} + (1 - z) * n``, a
    gated average of the old state and the candidate.

    Parameters
    ----------
    ax : matplotlib.axes.Axes, optional
        Axes to draw into; a new figure when ``None``.
    title : str
        Title of the axes.

    Returns
    -------
    matplotlib.figure.Figure
        The figure holding the diagram.
    """
    fig, ax = diagram_axes(ax, (-0.7, 10.3), (-0.6, 5.1), title=title)
    y_gate, y_top = 2.0, 4.4
    gates = {"z": 1.8, "r": 4.2, "n": 6.6}
    labels = {"r": r"$r$: $\sigma$", "z": r"$z$: $\sigma$", "n": r"$n$: tanh"}
    _inputs_to_gates(ax, list(gates.values()), y_gate)
    for name, gx in gates.items():
        node(ax, (gx, y_gate), labels[name], "hidden", w=0.5)
    node(ax, (0.0, y_top), "$h_{t-1}$", "hidden")
    node(ax, (9.6, y_top), "$h_t$", "hidden")
    x_mul_z, x_add, x_mul_n, x_one = gates["z"], 7.8, (7.8, 3.3), (3.0, 3.3)
    _op(ax, (x_mul_z, y_top), r"$\times$")
    _op(ax, (x_add, y_top), "+")
    _op(ax, x_mul_n, r"$\times$")
    _op(ax, x_one, "1$-$", w=0.3)
    arrow(ax, (NODE_W, y_top), (x_mul_z - OP, y_top), color=COLORS["loss"])
    arrow(ax, (x_mul_z + OP, y_top), (x_add - OP, y_top), "state: a gated average of old and new",
          color=COLORS["loss"], text_offset=(0.0, 0.3), fontsize=9)
    arrow(ax, (x_add + OP, y_top), (9.6 - NODE_W, y_top), color=COLORS["loss"])
    arrow(ax, (x_mul_z, y_gate + NODE_H), (x_mul_z, y_top - OP), "$z$", text_offset=(-0.25, 0.0))
    arrow(ax, (x_mul_z + 0.3, y_gate + NODE_H), (x_one[0] - 0.3, x_one[1]))
    arrow(ax, (x_one[0] + 0.3, x_one[1]), (x_mul_n[0] - OP, x_mul_n[1]), "$1-z$", text_offset=(0.0, 0.2))
    arrow(ax, (gates["n"], y_gate + NODE_H), (x_mul_n[0] - 0.1, x_mul_n[1] - OP))
    arrow(ax, (x_mul_n[0], x_mul_n[1] + OP), (x_add, y_top - OP))
    arrow(ax, (gates["r"] + 0.5, y_gate), (gates["n"] - 0.5, y_gate), "reset", text_offset=(0.0, 0.22),
          fontsize=9)
    return fig
