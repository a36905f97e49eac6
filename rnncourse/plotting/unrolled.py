"""The recurrent network drawn two ways -- folded (one cell with a loop) and unrolled in time -- and
the cost of *not* sharing weights across time.

- :func:`draw_folded`: one cell, input below, output above, the loop that feeds ``h_{t-1}`` back;
- :func:`draw_unrolled`: one copy of the cell per time step, every copy labelled with the *same*
  ``W_xh``, ``W_hh``, ``W_hy``;
- :func:`draw_folded_and_unrolled`: both side by side, the first picture of chapter 2;
- :func:`plot_param_counts`: parameter counts against the sequence length ``T``.

Diagrams are built on :mod:`rnncourse.plotting.diagrams`; each single-panel function draws into
``ax`` when given, else into a new figure, and every function returns the figure.
"""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np

from rnncourse.validation import as_float_array, check_bool, check_dict, check_positive_int

from ._checks import positive_for_log
from .diagrams import NODE_H, NODE_W, arrow, diagram_axes, loop_arrow, node
from .style import COLORS, figsize, figure_axes

__all__ = ["draw_folded", "draw_unrolled", "draw_folded_and_unrolled", "plot_param_counts"]

#: Heights of the input, hidden and output rows, and the distance between two time steps.
Y_X, Y_H, Y_Y, STEP = 0.0, 1.3, 2.6, 1.7
#: Fill of the initial state h_0, light because it is given rather than computed.
H0_COLOR = "#DDDDDD"


def _check_steps(T) -> int:
    """``T`` as an int from 1 to 8 (more copies would not stay readable)."""
    T = check_positive_int(T, "T")
    if T > 8:
        raise ValueError(f"T should be at most 8 so that the copies stay readable, but is {T}; "
                         f"draw a few steps: the pattern repeats")
    return T


def _column(ax, cx, t_label, *, weights, outputs):
    """Draw x_t -> h_t (-> y_t) centred at ``cx``; ``t_label`` is the subscript, e.g. ``"t"`` or ``"3"``."""
    node(ax, (cx, Y_X), f"$x_{{{t_label}}}$", "input")
    node(ax, (cx, Y_H), f"$h_{{{t_label}}}$", "hidden")
    arrow(ax, (cx, Y_X + NODE_H), (cx, Y_H - NODE_H), r"$W_{xh}$" if weights else "",
          text_offset=(0.32, 0.0), fontsize=9)
    if outputs:
        node(ax, (cx, Y_Y), f"$y_{{{t_label}}}$", "output")
        arrow(ax, (cx, Y_H + NODE_H), (cx, Y_Y - NODE_H), r"$W_{hy}$" if weights else "",
              text_offset=(0.32, 0.0), fontsize=9)


def draw_folded(ax=None, *, weights=True, outputs=True, title="Folded: one cell and a loop"):
    """Draw the recurrent cell once, with the loop that carries ``h_{t-1}`` back into it.

    Parameters
    ----------
    ax : matplotlib.axes.Axes, optional
        Axes to draw into; a new figure when ``None``.
    weights : bool
        Label the arrows with ``W_xh``, ``W_hh`` and ``W_hy`` (default ``True``).
    outputs : bool
        Draw the output ``y_t`` (default ``True``).
    title : str
        Title of the axes.

    Returns
    -------
    matplotlib.figure.Figure
        The figure holding the diagram.
    """
    weights, outputs = check_bool(weights, "weights"), check_bool(outputs, "outputs")
    top = (Y_Y if outputs else Y_H) + 0.55
    fig, ax = diagram_axes(ax, (-1.0, 2.2), (Y_X - 0.5, top), title=title, width=3.2)
    _column(ax, 0.0, "t", weights=weights, outputs=outputs)
    loop_label = "$h_{t-1}$\n" + (r"via $W_{hh}$" if weights else "")
    loop_arrow(ax, (0.0, Y_H), loop_label.strip(), side="right", color=COLORS["hidden"], size=0.5)
    return fig


def draw_unrolled(T=4, ax=None, *, weights=True, outputs=True, h0=True, title=None):
    """Draw the network unrolled over ``T`` time steps: one copy of the cell per step.

    Every copy carries the same labels ``W_xh``, ``W_hh`` and ``W_hy``: the copies
    share one set of weights.

    Parameters
    ----------
    T : int
        Number of time steps to draw (1 to 8).
    ax : matplotlib.axes.Axes, optional
        Axes to draw into; a new figure when ``None``.
    weights : bool
        Label every arrow with its weight matrix (default ``True``).
    outputs : bool
        Draw an output ``y_t`` at every step (default ``True``).
    h0 : bool
        Draw the initial state ``h_0`` on the left (default ``True``).
    title : str, optional
        Title of the axes; by default it says how many steps are drawn.

    Returns
    -------
    matplotlib.figure.Figure
        The figure holding the diagram.
    """
    T = _check_steps(T)
    weights, outputs, h0 = check_bool(weights, "weights"), check_bool(outputs, "outputs"), check_bool(h0, "h0")
    title = f"Unrolled over T = {T} steps: the same weights in every copy" if title is None else title
    top = (Y_Y if outputs else Y_H) + 0.55
    fig, ax = diagram_axes(ax, (-0.75 if h0 else STEP - 0.75, T * STEP + 0.75), (Y_X - 0.5, top), title=title)
    if h0:
        node(ax, (0.0, Y_H), "$h_0$", H0_COLOR)
    for t in range(1, T + 1):
        _column(ax, t * STEP, str(t), weights=weights, outputs=outputs)
        if t > 1 or h0:
            arrow(ax, ((t - 1) * STEP + NODE_W, Y_H), (t * STEP - NODE_W, Y_H),
                  r"$W_{hh}$" if weights else "", color=COLORS["hidden"], text_offset=(0.0, 0.14), fontsize=9)
    return fig


def draw_folded_and_unrolled(T=3, *, weights=True):
    """The folded cell on the left and the same network unrolled over ``T`` steps on the right.

    Parameters
    ----------
    T : int
        Number of time steps of the unrolled network (1 to 8).
    weights : bool
        Label the arrows with the weight matrices (default ``True``).

    Returns
    -------
    matplotlib.figure.Figure
        The figure, two diagrams side by side.
    """
    T = _check_steps(T)                              # before the figure: a refused call leaves none open
    weights = check_bool(weights, "weights")
    fig, (ax_f, ax_u) = plt.subplots(1, 2, figsize=figsize(0.45), width_ratios=(3.4, T * STEP + 1.5))
    draw_folded(ax_f, weights=weights, title="Folded")
    draw_unrolled(T, ax_u, weights=weights, title=f"Unrolled in time (T = {T})")
    ax_u.set_xlim(-1.4, T * STEP + 0.75)             # room on the left for the "=" sign
    ax_u.text(-1.0, Y_H, "=", fontsize=24, ha="center", va="center")
    return fig


def _lengths_and_counts(lengths, counts, log: bool):
    """The arguments of :func:`plot_param_counts` as float arrays, checked: finite, one count per length."""
    lengths = as_float_array(lengths, "lengths", "a 1-D array of sequence lengths")
    if lengths.ndim != 1 or lengths.size == 0:
        raise ValueError(f"lengths should be a non-empty 1-D array of sequence lengths, "
                         f"but has shape {lengths.shape}")
    check_dict(counts, "counts", "model name: counts at each length", item="model")
    counts = {name: as_float_array(c, f"counts[{name!r}]", "an array of parameter counts")
              for name, c in counts.items()}
    arrays = {"lengths": lengths} | {f"counts[{name!r}]": c for name, c in counts.items()}
    for name, a in arrays.items():
        if not np.isfinite(a).all():
            raise ValueError(f"{name} should hold finite numbers, but holds {a[~np.isfinite(a)][0]}")
    for name, c in counts.items():
        if c.shape != lengths.shape:
            raise ValueError(f"counts[{name!r}] should have shape {lengths.shape} like lengths, "
                             f"but has shape {c.shape}")
        if log:
            positive_for_log(c, f"counts[{name!r}]")
    return lengths, counts


def plot_param_counts(lengths, counts, ax=None, *, title="Parameters against sequence length", log=False):
    """Plot the number of parameters of several models against the sequence length ``T``.

    Parameters
    ----------
    lengths : numpy.ndarray, shape (n,)
        Sequence lengths ``T``, finite numbers.
    counts : dict
        ``{model name: numpy.ndarray of shape (n,)}``, the parameter count of each model at each length
        (finite numbers; > 0 with ``log``); at least one model.
    ax : matplotlib.axes.Axes, optional
        Axes to draw into; a new figure when ``None``.
    title : str
        Title of the axes.
    log : bool
        Logarithmic vertical axis (default ``False``).

    Returns
    -------
    matplotlib.figure.Figure
        The figure holding the plot.
    """
    log = check_bool(log, "log")
    lengths, counts = _lengths_and_counts(lengths, counts, log)
    fig, ax = figure_axes(ax, size=figsize(0.5))
    for name, c in counts.items():
        ax.plot(lengths, c, marker="o", markersize=4, label=name)
    if log:
        ax.set_yscale("log")
    ax.set_xlabel("sequence length T (time steps)")
    ax.set_ylabel("number of parameters")
    ax.set_title(title)
    ax.legend()
    return fig
