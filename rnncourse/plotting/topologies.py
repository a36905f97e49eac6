"""Diagrams of the five input/output topologies, and the result plots of chapter 6.

- :func:`draw_topology` draws one topology unrolled in time: ``"one_to_one"``,
  ``"one_to_many"``, ``"many_to_one"``, ``"seq2seq"`` (many-to-many, delayed) or
  ``"synchronized"`` (many-to-many, one output per step);
- :func:`draw_all_topologies` puts the five side by side;
- :func:`plot_stroke_images`, :func:`plot_frame_labels` and :func:`plot_scores`
  show the chapter's data and results.

Inputs are blue, hidden states orange, outputs green (:data:`~rnncourse.plotting.style.COLORS`).
Every single-panel function draws into ``ax`` when given, else into a new figure; every function
returns the figure.
"""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.patches import Patch, Rectangle

from rnncourse.validation import as_float_array, check_choice, check_index_array, check_positive_int

from .diagrams import NODE_H, NODE_W, arrow, diagram_axes, node
from .style import COLORS, FIG_WIDTH, PALETTE, figsize, figure_axes

__all__ = ["TOPOLOGIES", "MAX_STEPS", "draw_topology", "draw_all_topologies", "plot_stroke_images",
           "plot_frame_labels", "plot_scores"]

#: The topologies :func:`draw_topology` knows, with their titles.
TOPOLOGIES = {"one_to_one": "One-to-one", "one_to_many": "One-to-many", "many_to_one": "Many-to-one",
              "seq2seq": "Many-to-many, delayed", "synchronized": "Many-to-many, synchronized"}
#: The most time steps a diagram draws (50); more would not be readable on a page.
MAX_STEPS = 50
#: Heights of the input, hidden and output rows; distance between two time steps.
Y_X, Y_H, Y_Y, STEP = 0.0, 1.2, 2.4, 1.25


def _up(ax, x, y0, y1, **kw):
    """A vertical arrow between the box centred at height y0 and the one at y1 (column x)."""
    arrow(ax, (x, y0 + NODE_H), (x, y1 - NODE_H), **kw)


def _chain(ax, xs, y, labels, role):
    """Boxes at the given columns on one row, linked left to right (the recurrence)."""
    for x, text in zip(xs, labels):
        node(ax, (x, y), text, role)
    for a, b in zip(xs[:-1], xs[1:]):
        arrow(ax, (a + NODE_W, y), (b - NODE_W, y))


def _series(a, name: str) -> np.ndarray:
    """One value per time step as a 1-D array, from shape (T,) or a column (T, 1); a table is refused."""
    if a is None:
        raise TypeError(f"{name} should be an array of shape (T,) or (T, 1), one value per time step, but is None")
    a = np.asarray(a.detach().cpu() if hasattr(a, "detach") else a)
    if a.ndim == 2 and a.shape[1] == 1:
        a = a[:, 0]
    if a.ndim != 1:
        raise ValueError(f"{name} should have shape (T,) or (T, 1), but has shape {a.shape}")
    return a


def _accuracies(values, name: str) -> np.ndarray:
    """Scores as a 1-D float array, each finite and in [0, 1]."""
    a = as_float_array(values, name, "a list of scores, one per task")
    if a.ndim != 1:
        raise ValueError(f"{name} should have shape (N,), one score per task, but has shape {a.shape}")
    bad = ~((a >= 0) & (a <= 1))                        # NaN is bad too
    if bad.any():
        i = int(np.argmax(bad))
        raise ValueError(f"{name} should hold accuracies in [0, 1], but holds {a[i]} at index {i}")
    return a


def _draw(kind, ax, T, condition):
    """Draw ``kind`` on ``ax``; return the x extent used."""
    xs = [i * STEP for i in range(T)]
    sub = [str(i + 1) for i in range(T)]
    h = [f"$h_{s}$" for s in sub]
    if kind == "one_to_one":
        node(ax, (0, Y_X), "$x$", "input")
        node(ax, (0, Y_H), "$h$", "hidden")
        node(ax, (0, Y_Y), "$y$", "output")
        _up(ax, 0, Y_X, Y_H)
        _up(ax, 0, Y_H, Y_Y)
        return 0.0
    if kind in ("many_to_one", "synchronized"):
        _chain(ax, xs, Y_H, h, "hidden")
        for x, s in zip(xs, sub):
            node(ax, (x, Y_X), f"$x_{s}$", "input")
            _up(ax, x, Y_X, Y_H)
            if kind == "synchronized":
                node(ax, (x, Y_Y), f"$y_{s}$", "output")
                _up(ax, x, Y_H, Y_Y)
        if kind == "many_to_one":
            node(ax, (xs[-1], Y_Y), "$y$", "output")
            _up(ax, xs[-1], Y_H, Y_Y)
        return xs[-1]
    if kind == "one_to_many":
        _chain(ax, xs, Y_H, h, "hidden")
        node(ax, (0, Y_X), "$x$", "input")
        _up(ax, 0, Y_X, Y_H)
        for x, s in zip(xs, sub):
            node(ax, (x, Y_Y), f"$y_{s}$", "output")
            _up(ax, x, Y_H, Y_Y)
            if condition == "every_step" and x > 0:
                arrow(ax, (NODE_W, Y_X + 0.1), (x - 0.15, Y_H - NODE_H), color=COLORS["input"], linestyle="--")
        return xs[-1]
    # seq2seq: encoder over T steps, then a decoder of T steps that reads its previous output.
    dec = [xs[-1] + STEP * (i + 1.3) for i in range(T)]
    _chain(ax, xs + dec, Y_H, h + [f"$s_{s}$" for s in sub], "hidden")
    for x, s in zip(xs, sub):
        node(ax, (x, Y_X), f"$x_{s}$", "input")
        _up(ax, x, Y_X, Y_H)
    ax.text((xs[-1] + dec[0]) / 2, Y_H + 0.22, "$c$", ha="center", va="bottom", fontsize=11)
    for i, (x, s) in enumerate(zip(dec, sub)):
        node(ax, (x, Y_Y), f"$y_{s}$", "output")
        _up(ax, x, Y_H, Y_Y)
        prev = "<bos>" if i == 0 else f"$y_{i}$"
        node(ax, (x, Y_X), prev, "#DDDDDD" if i == 0 else "output", fontsize=9 if i == 0 else 11)
        _up(ax, x, Y_X, Y_H)
        if i > 0:
            arrow(ax, (dec[i - 1] + NODE_W, Y_Y - 0.1), (x - NODE_W, Y_X + 0.1), color=COLORS["output"],
                  linestyle="--", rad=0.0)
    for x0, x1, text in ((xs[0], xs[-1], "encoder"), (dec[0], dec[-1], "decoder")):
        ax.text((x0 + x1) / 2, Y_X - 0.55, text, ha="center", va="top", fontsize=10, style="italic")
    return dec[-1]


def draw_topology(kind, ax=None, *, steps=3, condition="first_step", title=None):
    """Draw one input/output topology unrolled over ``steps`` time steps.

    Parameters
    ----------
    kind : str
        One of :data:`TOPOLOGIES`: ``"one_to_one"``, ``"one_to_many"``,
        ``"many_to_one"``, ``"seq2seq"`` or ``"synchronized"``.
    ax : matplotlib.axes.Axes, optional
        Axes to draw into; a new figure when ``None``.
    steps : int
        Number of time steps drawn (for ``"seq2seq"``: of the encoder and of the decoder), from 1 to
        :data:`MAX_STEPS`.
    condition : str
        For ``"one_to_many"``: ``"first_step"`` (``x`` enters once) or
        ``"every_step"`` (dashed arrows: ``x`` enters at every step).
    title : str, optional
        Default: the topology's name from :data:`TOPOLOGIES`.

    Returns
    -------
    matplotlib.figure.Figure
        The figure holding the diagram.
    """
    check_choice(kind, "kind", tuple(TOPOLOGIES))
    check_choice(condition, "condition", ("first_step", "every_step"))
    T = check_positive_int(steps, "steps", maximum=MAX_STEPS)
    title = TOPOLOGIES[kind] if title is None else title
    width = (2 * T + 0.3) * STEP if kind == "seq2seq" else (T - 1) * STEP
    xlim, ylim = (-0.75, (0 if kind == "one_to_one" else width) + 0.75), (Y_X - 0.9, Y_Y + 0.55)
    fig, ax = diagram_axes(ax, xlim, ylim, title=title, width=min(FIG_WIDTH, 1.1 * (xlim[1] - xlim[0]) + 0.6))
    _draw(kind, ax, T, condition)
    return fig


def draw_all_topologies(steps=3):
    """The five topologies in one figure: three small ones on top, the two many-to-many below.

    Parameters
    ----------
    steps : int
        Time steps of each many-step diagram, from 1 to :data:`MAX_STEPS` (the synchronized one always
        draws 2, to fit its slot).

    Returns
    -------
    matplotlib.figure.Figure
        The figure.
    """
    # Before the figure: a refused call leaves none open.
    steps = check_positive_int(steps, "steps", maximum=MAX_STEPS)
    fig = plt.figure(figsize=(FIG_WIDTH, 5.2))
    grid = fig.add_gridspec(2, 6, height_ratios=(1, 1))
    slots = {"one_to_one": grid[0, 0], "one_to_many": grid[0, 1:3], "many_to_one": grid[0, 3:6],
             "seq2seq": grid[1, 0:4], "synchronized": grid[1, 4:6]}
    titles = {"seq2seq": "Many-to-many, delayed (encoder-decoder)", "synchronized": "Many-to-many,\nsynchronized"}
    for kind, slot in slots.items():
        draw_topology(kind, fig.add_subplot(slot), steps=2 if kind == "synchronized" else steps,
                      title=titles.get(kind))
    return fig


def plot_stroke_images(images, titles, *, size=7, ncols=6):
    """Show flattened square images in a grid, each with a title (its label or caption).

    Parameters
    ----------
    images : numpy.ndarray, shape (N, P)
        Row-major flattened images, ``P = size * size`` pixels each.
    titles : list of str, or numpy.ndarray of str, shape (N,)
        One title per image (long captions wrap onto several lines); at least one image.
    size : int
        Side of the images in pixels.
    ncols : int
        Images per row.

    Returns
    -------
    matplotlib.figure.Figure
        The figure.
    """
    size, ncols = check_positive_int(size, "size"), check_positive_int(ncols, "ncols")
    if isinstance(titles, np.ndarray) and titles.ndim == 1 and titles.dtype.kind == "U":
        titles = titles.tolist()                        # np.array(["a", "b"]): the same titles as str
    if not isinstance(titles, (list, tuple)):
        raise TypeError(f"titles should be a list of str (or a 1-D array of str), one per image, but is "
                        f"{type(titles).__name__}")
    images = as_float_array(images, "images", "an array of shape (N, size * size)")
    if images.ndim != 2 or images.shape[1] != size * size or len(titles) != len(images):
        raise ValueError(f"images should have shape (N, size * size) = (N, {size * size}) with one title each, "
                         f"but has shape {images.shape} and {len(titles)} titles")
    if len(images) == 0:
        raise ValueError(f"images should hold at least one image, but has shape {images.shape}")
    for i, text in enumerate(titles):
        if not isinstance(text, str):
            raise TypeError(f"titles[{i}] should be a str, but is {type(text).__name__} {text!r}")
    nrows = -(-len(images) // ncols)
    fig, axes = plt.subplots(nrows, ncols, figsize=(FIG_WIDTH, 1.55 * nrows + 0.3), squeeze=False)
    for ax in axes.ravel():
        ax.axis("off")
    for ax, img, text in zip(axes.ravel(), images, titles):
        ax.imshow(img.reshape(size, size), cmap="gray_r", vmin=-0.3, vmax=1.1)
        ax.set_title("\n".join(text.split()), fontsize=8)
    return fig


def _runs(a: np.ndarray) -> list[tuple[int, int, int]]:
    """The runs of equal values of a 1-D array: ``(first index, length, value)`` of each, in order.

    Examples
    --------
    >>> _runs(np.array([0, 0, 1, 0]))
    [(0, 2, 0), (2, 1, 1), (3, 1, 0)]
    """
    starts = np.flatnonzero(np.r_[True, a[1:] != a[:-1]])
    lengths = np.diff(np.r_[starts, a.size])
    return [(int(i), int(n), int(a[i])) for i, n in zip(starts, lengths)]


def _check_names(names) -> None:
    if not isinstance(names, (list, tuple)) or not names:
        raise TypeError(f"names should be a non-empty tuple of class names, e.g. seq_tasks.REGIMES, but is "
                        f"{type(names).__name__} {names!r}")
    for k, name in enumerate(names):
        if not isinstance(name, str):
            raise TypeError(f"names[{k}] should be a str, but is {type(name).__name__} {name!r}")


def plot_frame_labels(x, labels, predicted, names, *, ax=None, title="Per-frame labelling"):
    """A signal with its true regime as background colour and the predicted regime as a strip below.

    Steps are numbered ``1 .. T`` as in the book (``x_1`` is the first input); step ``t`` owns the
    interval ``[t - 0.5, t + 0.5]`` of the time axis, in the background and in the strip, so that a
    label held for a single step is drawn one step wide.

    Parameters
    ----------
    x : numpy.ndarray, shape (T,) or (T, 1)
        The signal, finite.
    labels, predicted : numpy.ndarray of int, shape (T,) or (T, 1)
        True and predicted class of every step, in ``[0, len(names))``.
    names : tuple of str
        Class names, e.g. :data:`rnncourse.data.seq_tasks.REGIMES`.
    ax : matplotlib.axes.Axes, optional
        Draw there instead of a new figure.
    title : str
        Title.

    Returns
    -------
    matplotlib.figure.Figure
        The figure: one rectangle per run of equal labels (the background, faint) and per run of
        equal predictions (the strip).
    """
    x, labels, predicted = (_series(a, name) for a, name in ((x, "x"), (labels, "labels"), (predicted, "predicted")))
    _check_names(names)
    if not x.shape == labels.shape == predicted.shape:
        raise ValueError(f"x, labels and predicted should have the same length T, but have "
                         f"{x.size}, {labels.size} and {predicted.size}")
    if x.size == 0:
        raise ValueError("x is empty; there is nothing to plot")
    if x.dtype.kind not in "fiu":
        raise TypeError(f"x should hold numbers, but has dtype {x.dtype}")
    if not np.isfinite(x).all():
        raise ValueError(f"x contains NaN or infinity (first at index {int(np.argmax(~np.isfinite(x)))}); "
                         f"plot the steps before it")
    for a, name in ((labels, "labels"), (predicted, "predicted")):
        check_index_array(a, name, ("T",), high=len(names))
    fig, ax = figure_axes(ax, size=figsize(0.4))
    T, colors = x.size, [PALETTE[k % len(PALETTE)] for k in range(len(names))]
    low, top = x.min() - 0.9, x.max() + 0.2
    # Index i is step t = i + 1, drawn over [t - 0.5, t + 0.5]:
    # a run of n steps from index i spans [i + 0.5, i + n + 0.5].
    for i, n, k in _runs(labels):
        ax.add_patch(Rectangle((i + 0.5, low + 0.5), n, top - (low + 0.5), color=colors[k], alpha=0.15, linewidth=0))
    for i, n, k in _runs(predicted):
        ax.add_patch(Rectangle((i + 0.5, low), n, 0.35, color=colors[k], linewidth=0))
    ax.plot(np.arange(1, T + 1), x, color="black", linewidth=1.0)
    ax.text(0.6, low + 0.42, "predicted", fontsize=8, va="bottom")
    ax.set(title=title, xlabel="time step t", ylabel="signal $x_t$", xlim=(0.5, T + 0.5),
           ylim=(low - 0.1, x.max() + 1.0))
    handles = [Patch(color=c, alpha=0.15, linewidth=0, label=f"true: {name}") for c, name in zip(colors, names)]
    ax.legend(handles=handles, loc="upper right", ncols=len(names), fontsize=8)
    return fig


def plot_scores(tasks, model, baseline, *, ax=None, title="Trained model against a trivial baseline",
                xlabel="accuracy on held-out data"):
    """Horizontal bars: the trained model's score and the baseline's, task by task.

    Parameters
    ----------
    tasks : list of str
        Task names, one per bar pair.
    model, baseline : list of float
        Scores in [0, 1] (accuracies, finite), one per task.
    ax : matplotlib.axes.Axes, optional
        Draw there instead of a new figure.
    title, xlabel : str
        Title and label of the score axis.

    Returns
    -------
    matplotlib.figure.Figure
        The figure.
    """
    if not isinstance(tasks, (list, tuple)):
        raise TypeError(f"tasks should be a list of task names, one per bar pair, but is {type(tasks).__name__}")
    model, baseline = _accuracies(model, "model"), _accuracies(baseline, "baseline")
    if not len(tasks) == len(model) == len(baseline):
        raise ValueError(f"tasks, model and baseline should have the same length, but have "
                         f"{len(tasks)}, {len(model)} and {len(baseline)}")
    fig, ax = figure_axes(ax, size=figsize(0.12 + 0.09 * len(tasks)))
    y = np.arange(len(tasks))[::-1]
    for offset, scores, color, label in ((0.2, model, COLORS["output"], "trained model"),
                                         (-0.2, baseline, COLORS["neutral"], "baseline")):
        bars = ax.barh(y + offset, scores, height=0.4, color=color, alpha=0.9, label=label)
        ax.bar_label(bars, fmt="%.2f", fontsize=8, padding=2)
    ax.set_yticks(y, tasks)
    ax.set(xlim=(0, 1.1), title=title, xlabel=xlabel)
    ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.2), ncols=2, fontsize=8, frameon=False)
    return fig
