"""The unrolled computational graph of an RNN, with the forward pass and the backward pass drawn.

One column per time step: the input ``x_t`` at the bottom, the hidden state
``h_t`` above it, the output ``y_t`` and the loss ``L_t`` above that, and the
total loss ``L`` on top. Solid black arrows are the forward pass (labelled with
the shared weight they apply); dashed arrows in the gradient colour run the
other way and carry the gradients of backpropagation through time. With
``truncate=k`` the graph shows truncated BPTT: the forward arrows still cross
every chunk boundary, the backward arrows between states do not.
"""

from __future__ import annotations

import numpy as np

from rnncourse.validation import check_bool, check_positive_int

from .diagrams import NODE_H, NODE_W, arrow, new_diagram, node
from .style import COLORS

__all__ = ["plot_unrolled_graph"]

DX = 2.3                                    # horizontal distance between time steps
ROWS = {"x": 0.0, "h": 1.2, "y": 2.4, "L": 3.6, "total": 4.8}
GAP = 0.09                                  # half the distance between a forward and its backward arrow


def _col(t: int) -> float:
    """x coordinate of time step ``t`` (``t = 0`` is the initial state h_0)."""
    return 0.0 if t == 0 else 1.8 + DX * (t - 1)


def _pair(ax, start, end, forward_label="", backward_label="", *, backward=True,
          forward_at=(0.0, 0.0), backward_at=(0.0, 0.0), fontsize=10):
    """A forward arrow start -> end and, beside it, a dashed backward arrow end -> start.

    The labels are written at the middle of the arrows shifted by ``forward_at`` / ``backward_at``.
    """
    p, q = np.asarray(start, float), np.asarray(end, float)
    d = (q - p) / np.linalg.norm(q - p)
    n = np.array([-d[1], d[0]]) * GAP        # unit normal, scaled: the two arrows sit either side
    arrow(ax, tuple(p + n), tuple(q + n), color="black")
    mid = (p + q) / 2
    if forward_label:
        ax.text(mid[0] + forward_at[0], mid[1] + forward_at[1], forward_label, ha="center", va="center",
                fontsize=fontsize)
    if backward:
        arrow(ax, tuple(q - n), tuple(p - n), color=COLORS["gradient"], linestyle="--")
        if backward_label:
            ax.text(mid[0] + backward_at[0], mid[1] + backward_at[1], backward_label, ha="center",
                    va="center", fontsize=fontsize, color=COLORS["gradient"])


def _validate(T, truncate):
    if check_positive_int(T, "T") > 8:
        raise ValueError(f"T should be an integer from 1 to 8 (the figure must stay readable), but is {T}")
    if truncate is not None:
        check_positive_int(truncate, "truncate")                       # the chunk length k


def _title(T, backward, truncate):
    """What the graph shows; with ``truncate >= T`` there is one chunk, so no boundary to speak of."""
    if truncate is not None and truncate >= T:
        return (f"Truncated BPTT with k = {truncate} >= T = {T}: one chunk, the gradient is not cut" if backward
                else f"Unrolled RNN, one chunk (k = {truncate} >= T = {T}): forward pass (solid)")
    if truncate is not None:
        return (f"Truncated BPTT with k = {truncate}: the gradient stops at chunk boundaries" if backward else
                f"Unrolled RNN in chunks of k = {truncate}: forward pass (solid), chunk boundaries (dotted)")
    return "Unrolled RNN: forward pass (solid)" + (" and backward pass (dashed)" if backward else "")


def plot_unrolled_graph(T: int = 3, *, backward: bool = True, truncate: int | None = None,
                        gradient_labels: bool = True, title: str | None = None):
    """Draw the RNN unrolled over ``T`` steps as a computational graph.

    Parameters
    ----------
    T : int
        Number of time steps drawn, 1 to 8 (default 3).
    backward : bool
        Also draw the backward pass (dashed arrows carrying gradients).
    truncate : int, optional
        Chunk length ``k`` of truncated BPTT: dotted lines mark the chunk
        boundaries and no gradient arrow crosses them from ``h_{t+1}`` to ``h_t``; the
        boundaries lie after steps ``k, 2k, ...`` below ``T`` (none when ``k >= T``).
    gradient_labels : bool
        Label the backward arrows with the gradients they carry.
    title : str, optional
        Figure title (default: says what is drawn).

    Returns
    -------
    matplotlib.figure.Figure
        The diagram.

    Examples
    --------
    >>> fig = plot_unrolled_graph(T=3)
    >>> fig = plot_unrolled_graph(T=6, truncate=3)
    """
    _validate(T, truncate)
    backward, gradient_labels = check_bool(backward, "backward"), check_bool(gradient_labels, "gradient_labels")
    if title is None:
        title = _title(T, backward, truncate)
    right = _col(T) + 1.2
    fig, ax = new_diagram((-0.6, right), (-0.5, ROWS["total"] + 0.5), title=title)
    glab = gradient_labels and backward
    node(ax, (0.0, ROWS["h"]), "$h_0$", "hidden")
    for t in range(1, T + 1):
        c = _col(t)
        node(ax, (c, ROWS["x"]), f"$x_{t}$", "input")
        node(ax, (c, ROWS["h"]), f"$h_{t}$", "hidden")
        node(ax, (c, ROWS["y"]), f"$y_{t}$", "output")
        node(ax, (c, ROWS["L"]), f"$L_{t}$", "loss")
        last = t == T
        _pair(ax, (c, ROWS["x"] + NODE_H), (c, ROWS["h"] - NODE_H), "$W_{xh}$", backward=False,
              forward_at=(0.38, 0.0))
        _pair(ax, (c, ROWS["h"] + NODE_H), (c, ROWS["y"] - NODE_H), "$W_{hy}$",
              rf"$\partial L/\partial h_{t}$" if glab and last else "", backward=backward,
              forward_at=(-0.38, 0.0), backward_at=(0.62, 0.0))
        _pair(ax, (c, ROWS["y"] + NODE_H), (c, ROWS["L"] - NODE_H), "",
              rf"$\partial L/\partial y_{t}$" if glab and last else "", backward=backward,
              backward_at=(0.62, 0.0))
        cut = truncate is not None and (t - 1) % truncate == 0 and t > 1
        _pair(ax, (_col(t - 1) + NODE_W, ROWS["h"]), (c - NODE_W, ROWS["h"]), "$W_{hh}$",
              # only L_T's share of dL/dh_{T-1}: the rest comes down from y_{T-1}
              rf"$\partial L_{t}/\partial h_{t - 1}$" if glab and not cut and last else "",
              backward=backward and not cut, forward_at=(0.0, 0.25), backward_at=(0.0, -0.3))
        if cut:
            xb = (_col(t - 1) + c) / 2
            for y0, y1 in ((-0.45, ROWS["h"] + 0.12), (ROWS["h"] + 0.42, ROWS["L"] + 0.45)):  # gap for W_hh
                ax.plot([xb, xb], [y0, y1], color=COLORS["neutral"], linestyle=":", linewidth=1.6)
    total = ((_col(1) + _col(T)) / 2, ROWS["total"])
    node(ax, total, r"$L=\sum_t L_t$", "loss", w=0.9, fontsize=10)
    for t in range(1, T + 1):
        start = (_col(t), ROWS["L"] + NODE_H)
        end = (total[0] + float(np.clip(_col(t) - total[0], -0.6, 0.6)), ROWS["total"] - NODE_H)
        _pair(ax, start, end, backward=backward)
    return fig
