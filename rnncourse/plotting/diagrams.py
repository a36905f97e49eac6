"""Box-and-arrow diagrams drawn by code: the primitives every network diagram of the book uses.

A diagram is a matplotlib axes in data coordinates with the axes hidden. Place
nodes with :func:`node` (a rounded box coloured by role: ``"input"``,
``"hidden"``, ``"output"``, ``"loss"``, ``"neutral"``) and connect them with
:func:`arrow`. :func:`new_diagram` makes the figure; :func:`diagram_axes` prepares
an axes the caller passed in, or makes the figure when there is none.
"""

from __future__ import annotations

import math

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.colors import is_color_like
from matplotlib.patches import FancyArrowPatch, FancyBboxPatch
from matplotlib.path import Path

from rnncourse.validation import check_positive_float

from .style import COLORS, FIG_WIDTH

__all__ = ["new_diagram", "diagram_axes", "node", "arrow", "loop_arrow"]

#: Half width and half height of a node box, in data units.
NODE_W, NODE_H = 0.42, 0.28


def _pair(value, name: str, what: str) -> tuple[float, float]:
    """``value`` as two finite floats, from a tuple, a list or a 1-D array of two numbers; else a named error."""
    expected = f"{name} should be {what}"
    if isinstance(value, np.ndarray) and value.ndim == 1:
        items = tuple(value.tolist())
    elif isinstance(value, (tuple, list)):
        items = tuple(value)
    else:
        raise TypeError(f"{expected}, but is {type(value).__name__} {value!r:.60}")
    if len(items) != 2:
        raise ValueError(f"{expected}, but is {items!r:.60}")
    if not all(isinstance(v, (int, float, np.integer, np.floating)) and not isinstance(v, (bool, np.bool_))
               for v in items):
        raise TypeError(f"{expected}, but is {items!r:.60}")
    low, high = float(items[0]), float(items[1])
    if not (math.isfinite(low) and math.isfinite(high)):
        raise ValueError(f"{expected}, but is {items!r:.60}")
    return low, high


def _limits(value, name: str) -> tuple[float, float]:
    """A diagram's ``(low, high)`` along one axis, with ``low < high``."""
    what = "a pair (low, high) of finite numbers with low < high"
    low, high = _pair(value, name, what)
    if not low < high:
        shown = tuple(value.tolist()) if isinstance(value, np.ndarray) else tuple(value)
        raise ValueError(f"{name} should be {what}, but is {shown!r:.60}")
    return low, high


def _frame(ax, xlim, ylim, title):
    """Set the limits, equal scaling and the title of a diagram's axes, and hide the frame."""
    ax.set_xlim(*xlim)
    ax.set_ylim(*ylim)
    ax.set_aspect("equal")
    ax.axis("off")
    if title:
        ax.set_title(title)


def new_diagram(xlim: tuple[float, float], ylim: tuple[float, float], *, title: str = "",
                width: float = FIG_WIDTH):
    """Create a figure whose axes span ``xlim`` by ``ylim`` with equal scaling and no frame.

    Parameters
    ----------
    xlim, ylim : tuple of float
        ``(low, high)`` of each axis, ``low < high``, in data units; one unit is as long on both.
    title : str
        Title above the diagram; none by default.
    width : float
        Width of a new figure in inches (default :data:`~rnncourse.plotting.style.FIG_WIDTH`); its
        height follows from the limits.

    Returns
    -------
    tuple
        ``(fig, ax)``.
    """
    xlim, ylim = _limits(xlim, "xlim"), _limits(ylim, "ylim")        # before the figure: none is left open
    width = check_positive_float(width, "width")
    aspect = (ylim[1] - ylim[0]) / (xlim[1] - xlim[0])
    fig, ax = plt.subplots(figsize=(width, max(1.5, width * aspect)))
    _frame(ax, xlim, ylim, title)
    return fig, ax


def diagram_axes(ax, xlim: tuple[float, float], ylim: tuple[float, float], *, title: str = "",
                 width: float = FIG_WIDTH):
    """Prepare ``ax`` for a diagram (limits, equal scaling, no frame), or make a new one when ``ax`` is ``None``.

    The usual start of a drawing function that accepts an optional ``ax``.

    Parameters
    ----------
    ax : matplotlib.axes.Axes or None
        The axes to draw on; ``None`` makes a new figure.
    xlim, ylim : tuple of float
        ``(low, high)`` of each axis, ``low < high``, in data units; one unit is as long on both.
    title : str
        Title above the diagram; none by default.
    width : float
        Width of a new figure in inches (default :data:`~rnncourse.plotting.style.FIG_WIDTH`); its
        height follows from the limits.

    Returns
    -------
    tuple
        ``(fig, ax)``.
    """
    if ax is None:
        return new_diagram(xlim, ylim, title=title, width=width)
    _frame(ax, _limits(xlim, "xlim"), _limits(ylim, "ylim"), title)
    return ax.figure, ax


def node(ax, xy: tuple[float, float], text: str, role: str = "hidden", *, w: float = NODE_W,
         h: float = NODE_H, fontsize: int = 11):
    """Draw a rounded box centred at ``xy`` labelled ``text``, coloured by ``role``.

    Parameters
    ----------
    ax : matplotlib.axes.Axes
        A diagram's axes.
    xy : tuple of float
        Centre of the box, in data units.
    text : str
        The label; mathtext allowed (``"$h_t$"``).
    role : str
        A key of :data:`~rnncourse.plotting.style.COLORS` (``"input"``, ``"hidden"``, ``"output"``,
        ``"loss"``, ...) or any matplotlib colour; default ``"hidden"``.
    w, h : float
        Half width and half height of the box (default 0.42 and 0.28).
    fontsize : int
        Size of the label (default 11).

    Returns
    -------
    matplotlib.patches.FancyBboxPatch
        The box.
    """
    x, y = _pair(xy, "xy", "a pair (x, y) of finite numbers")
    if isinstance(role, str) and role in COLORS:
        color = COLORS[role]
    elif is_color_like(role):
        color = role
    else:
        listed = ", ".join(repr(r) for r in COLORS)
        got = f"{role!r:.60}" if isinstance(role, str) else f"{type(role).__name__} {role!r:.60}"
        raise (ValueError if isinstance(role, str) else TypeError)(
            f"role should be one of {listed} or a matplotlib colour, but is {got}")
    box = FancyBboxPatch((x - w, y - h), 2 * w, 2 * h, boxstyle="round,pad=0.02,rounding_size=0.08",
                         facecolor=color, edgecolor="black", linewidth=1.0, alpha=0.9)
    ax.add_patch(box)
    ax.text(x, y, text, ha="center", va="center", fontsize=fontsize)
    return box


def arrow(ax, start: tuple[float, float], end: tuple[float, float], text: str = "", *,
          color: str = "black", rad: float = 0.0, style: str = "-|>", linestyle: str = "-",
          text_offset: tuple[float, float] = (0.0, 0.12), fontsize: int = 10):
    """Draw an arrow from ``start`` to ``end`` (curved when ``rad`` is not 0), labelled at its middle.

    Parameters
    ----------
    ax : matplotlib.axes.Axes
        A diagram's axes.
    start, end : tuple of float
        Tail and head, in data units.
    text : str
        Label at the middle; none by default.
    color : str
        Colour of the arrow and its label (default black).
    rad : float
        Curvature: 0 (default) is straight; its sign picks the side it bends to.
    style : str
        A matplotlib arrow style, ``"-|>"`` (default, a filled head), ``"<|-|>"``, ``"-"``.
    linestyle : str
        ``"-"`` (default), ``"--"`` or ``":"``.
    text_offset : tuple of float
        Shift of the label from the middle, in data units (default ``(0.0, 0.12)``, just above).
    fontsize : int
        Size of the label (default 10).

    Returns
    -------
    matplotlib.patches.FancyArrowPatch
        The arrow.
    """
    start = _pair(start, "start", "a pair (x, y) of finite numbers")
    end = _pair(end, "end", "a pair (x, y) of finite numbers")
    patch = FancyArrowPatch(start, end, arrowstyle=style, mutation_scale=14, color=color, linewidth=1.4,
                            linestyle=linestyle, connectionstyle=f"arc3,rad={rad}", shrinkA=0, shrinkB=0)
    ax.add_patch(patch)
    if text:
        mx = (start[0] + end[0]) / 2 + text_offset[0]
        my = (start[1] + end[1]) / 2 + text_offset[1]
        ax.text(mx, my, text, ha="center", va="center", fontsize=fontsize, color=color)
    return patch


def loop_arrow(ax, xy: tuple[float, float], text: str = "", *, side: str = "right", color: str = "black",
               w: float = NODE_W, size: float = 0.7):
    """Draw the recurrent self-loop of a node centred at ``xy``, leaving and re-entering on ``side``.

    Parameters
    ----------
    ax : matplotlib.axes.Axes
        A diagram's axes.
    xy : tuple of float
        Centre of the node, as given to :func:`node`.
    text : str
        Label beside the loop, e.g. ``"$W_{hh}$"``; none by default.
    side : str
        ``"right"`` (default); any other value draws it on the left.
    color : str
        Colour of the loop and its label (default black).
    w : float
        Half width of the node (default 0.42, :func:`node`'s).
    size : float
        How far the loop swings out, in data units (default 0.7).

    Returns
    -------
    matplotlib.patches.FancyArrowPatch
        The loop.
    """
    x, y = _pair(xy, "xy", "a pair (x, y) of finite numbers")
    sx = 1 if side == "right" else -1
    edge = x + sx * w
    # A cubic Bezier curve that leaves the box high, swings out by `size` and comes back low.
    path = Path([(edge, y + 0.12), (edge + sx * size * 1.4, y + size), (edge + sx * size * 1.4, y - size),
                 (edge, y - 0.12)], [Path.MOVETO, Path.CURVE4, Path.CURVE4, Path.CURVE4])
    patch = FancyArrowPatch(path=path, arrowstyle="-|>", mutation_scale=14, color=color, linewidth=1.4)
    ax.add_patch(patch)
    if text:
        ax.text(edge + sx * (size * 1.1 + 0.25), y, text, ha="left" if sx > 0 else "right", va="center",
                fontsize=10, color=color)
    return patch
