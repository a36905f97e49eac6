"""Figures of chapter 9 (RNNs in practice): padded batches, a learning-rate range test, tagged code.

Plotting only: each function takes arrays the chapter computed and returns a figure.
"""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.colors import ListedColormap

from rnncourse.plotting._checks import number
from rnncourse.plotting.style import COLORS, PALETTE, figsize, figure_axes
from rnncourse.validation import as_float_array, check_dict, check_index_array, check_positive_float

__all__ = ["plot_batch_masks", "plot_lr_range", "plot_tagged_lines", "plot_accuracies"]


def _type_name(value) -> str:
    """``list`` for a built-in type, ``torch.Tensor`` for a library's."""
    kind = type(value)
    return kind.__name__ if kind.__module__ == "builtins" else f"{kind.__module__}.{kind.__name__}"


def _check_mask(m, name: str) -> None:
    """Raise unless ``m`` is a non-empty (T, B) NumPy array of bool."""
    if not isinstance(m, np.ndarray):
        fix = "call .detach().cpu().numpy() on it" if hasattr(m, "detach") else "wrap it with np.asarray(...)"
        raise TypeError(f"{name} should be a numpy.ndarray of bool, but is {_type_name(m)}; {fix}")
    if m.dtype != bool:
        raise TypeError(f"{name} should be a boolean array (True at a real step), but has dtype {m.dtype}; "
                        f"convert it, e.g. {name} != 0")
    if m.ndim != 2:
        raise ValueError(f"{name} should have shape (T, B), but has shape {m.shape}")
    if m.size == 0:
        raise ValueError(f"{name} should have shape (T, B) with T, B >= 1, but has shape {m.shape}")


def plot_batch_masks(masks: dict, *, title="Real steps and padding in each batch"):
    """Side by side, the (T, B) masks of a few batches under each batching scheme.

    Parameters
    ----------
    masks : dict of str -> list of numpy.ndarray of bool, each shape (T_k, B)
        For each scheme (e.g. ``"random batches"``, ``"sorted by length"``), the masks
        of some batches; they are drawn one after the other along the batch axis, time
        running downwards from step 1 (the book's ``x_1``) to the longest batch's ``T``.
        A legend below the panels names each colour ("real step", "padding", "beyond the
        batch's longest line"), so the figure reads the same when a dark theme inverts it.
    title : str
        Figure title.

    Returns
    -------
    matplotlib.figure.Figure
    """
    check_dict(masks, "masks", "scheme name: list of (T, B) masks", item="scheme")
    for name, ms in masks.items():
        if not isinstance(ms, (list, tuple)):
            raise TypeError(f"masks[{name!r}] should be a list of (T, B) masks, but is {type(ms).__name__}; "
                            f"wrap a single mask in a list")
        if not ms:
            raise ValueError(f"masks[{name!r}] should be a non-empty list of (T, B) masks, but is empty")
        for k, m in enumerate(ms):
            _check_mask(m, f"masks[{name!r}][{k}]")
    fig, axes = plt.subplots(1, len(masks), figsize=figsize(0.48), sharey=True, layout="constrained")
    axes = np.atleast_1d(axes)
    T = max(m.shape[0] for ms in masks.values() for m in ms)
    colors = ["#EEEEEE", COLORS["input"], PALETTE[0]]                # by cell value 0, 1, 2 below
    cmap = ListedColormap(colors)
    for ax, (name, ms) in zip(axes, masks.items()):
        cols = []
        for k, m in enumerate(ms):
            block = np.zeros((T, m.shape[1]))                 # 0: outside the batch (T beyond its longest)
            block[:m.shape[0]] = np.where(m, 2, 1)          # 1: padding, 2: real step
            cols.append(block)
            cols.append(np.full((T, 1), np.nan))            # a gap between batches
        grid = np.concatenate(cols[:-1], axis=1)
        # extent: column j spans [j - 0.5, j + 0.5], row i (time step t = i + 1) spans [t - 0.5, t + 0.5]
        ax.imshow(grid, aspect="auto", cmap=cmap, vmin=0, vmax=2, interpolation="nearest",
                  extent=(-0.5, grid.shape[1] - 0.5, T + 0.5, 0.5))
        real = sum(int(m.sum()) for m in ms)
        total = sum(m.size for m in ms)
        ax.set(title=f"{name}: {100 * (1 - real / total):.0f}% padding", xlabel="sequences (batch after batch)")
        ax.grid(False)
    axes[0].set_ylabel("time step t")
    fig.suptitle(title)
    # named swatches, not "dark"/"light": a dark theme that inverts the figure inverts them alike
    names = ["beyond the batch's longest line", "padding", "real step"]
    handles = [plt.Rectangle((0, 0), 1, 1, facecolor=c, edgecolor="0.5", lw=0.5) for c in colors]
    fig.legend(handles[::-1], names[::-1], loc="outside lower center", ncols=3, frameon=False)
    return fig


def plot_lr_range(lrs, losses, *, suggested=None, ax=None, title="Learning-rate range test",
                  label="training loss at that step"):
    """Loss against learning rate (log axis) while the rate grows step by step.

    Parameters
    ----------
    lrs, losses : sequence of float
        The rate used at each step (> 0) and the loss measured there, as
        :func:`rnncourse.torch.debug.lr_range_test` returns them: the last loss may be
        NaN or infinite (the test stopped on it), and is then marked by a triangle on the
        top edge, labelled "diverged".
    suggested : float, optional
        Mark this rate (> 0) with a vertical line.
    ax : matplotlib.axes.Axes, optional
    title : str
    label : str
        Legend label of the loss curve: say what ``losses`` holds, e.g. ``"training loss
        (10-step average)"`` for a smoothed curve.

    Returns
    -------
    matplotlib.figure.Figure
    """
    lrs, losses = as_float_array(lrs, "lrs"), as_float_array(losses, "losses")
    if not isinstance(label, str):
        raise TypeError(f"label should be a str, but is {type(label).__name__} {label!r}")
    if lrs.shape != losses.shape or lrs.ndim != 1:
        raise ValueError(f"lrs and losses should be 1-D and of the same length, one entry per step, "
                         f"but have shapes {lrs.shape} and {losses.shape}")
    if lrs.size == 0:
        raise ValueError("lrs and losses should hold at least one step, but are empty")
    bad = ~(np.isfinite(lrs) & (lrs > 0))
    if bad.any():
        i = int(np.argmax(bad))
        raise ValueError(f"lrs should hold finite learning rates > 0 (the axis is logarithmic), but holds {lrs[i]} "
                         f"at step {i}")
    bad = ~np.isfinite(losses[:-1])
    if bad.any():
        i = int(np.argmax(bad))
        raise ValueError(f"losses should be finite before the last step (lr_range_test stops at the first loss "
                         f"that is not), but holds {losses[i]} at step {i}")
    if suggested is not None:
        suggested = check_positive_float(suggested, "suggested")
    diverged = not np.isfinite(losses[-1])
    shown = slice(None, -1) if diverged else slice(None)
    fig, ax = figure_axes(ax, size=figsize(0.4))
    ax.plot(lrs[shown], losses[shown], color=COLORS["loss"], label=label)
    if diverged:                    # x: the last rate; y: the top edge (axes coordinates), the loss is off the chart
        ax.plot([lrs[-1]], [1.0], linestyle="none", marker="^", color=COLORS["loss"], clip_on=False,
                transform=ax.get_xaxis_transform(), label=f"diverged (loss {losses[-1]})")
    if suggested is not None:
        ax.axvline(suggested, color=COLORS["neutral"], linestyle="--", label=f"chosen rate {suggested:.1e}")
    ax.set(xscale="log", xlabel="learning rate", ylabel="loss", title=title)
    ax.legend(loc="best")
    return fig


def plot_tagged_lines(lines, rows: dict, tag_names, *, title="Tags of each character"):
    """Lines of text, one row of coloured cells per tagging (truth, model A, model B ...).

    Parameters
    ----------
    lines : list of str
        The lines (a few, short).
    rows : dict of str -> list of numpy.ndarray of int
        For each tagging, one tag array per line, one tag per character, each in
        ``[0, len(tag_names))``; the first tagging is the truth the others are compared with.
    tag_names : sequence of str
        Names of the tag ids, for the legend: one colour of :data:`~rnncourse.plotting.style.PALETTE`
        each, so at most 8.
    title : str

    Returns
    -------
    matplotlib.figure.Figure
    """
    if not isinstance(lines, (list, tuple)):
        raise TypeError(f"lines should be a list of str, but is {type(lines).__name__}")
    if not lines:
        raise ValueError("lines should hold at least one line, but is empty")
    for i, line in enumerate(lines):
        if not isinstance(line, str):
            raise TypeError(f"lines[{i}] should be a str, but is {type(line).__name__}")
    check_dict(rows, "rows", "tagging name: list of tag arrays", item="tagging, e.g. {'truth': tags}")
    if not isinstance(tag_names, (list, tuple)):
        raise TypeError(f"tag_names should be a list or tuple of str, one per tag id, but is "
                        f"{type(tag_names).__name__}")
    if len(tag_names) == 0:
        raise ValueError("tag_names should hold at least one name, but is empty")
    if len(tag_names) > len(PALETTE):
        raise ValueError(f"tag_names should have at most {len(PALETTE)} names (one colour of the palette each), "
                         f"but has {len(tag_names)}")
    for name, per_line in rows.items():
        if not isinstance(per_line, (list, tuple)):
            raise TypeError(f"rows[{name!r}] should be a list of tag arrays, one per line, but is "
                            f"{type(per_line).__name__}")
        if len(per_line) != len(lines):
            raise ValueError(f"rows[{name!r}] should hold one tag array per line ({len(lines)}), but holds "
                             f"{len(per_line)}")
        for i, (line, tags) in enumerate(zip(lines, per_line)):
            tags = check_index_array(np.asarray(tags), f"rows[{name!r}][{i}]", ("N",), high=len(tag_names))
            if len(tags) != len(line):
                raise ValueError(f"rows[{name!r}][{i}] should have one tag per character of lines[{i}] "
                                 f"({len(line)}), but has {len(tags)}")
    n_rows = len(lines) * (len(rows) + 1)
    width = max(len(s) for s in lines)
    fig, ax = plt.subplots(figsize=(min(0.16 * width + 1.8, 9.0), 0.27 * n_rows + 0.9))
    colors = PALETTE[:len(tag_names)]
    y = 0
    for i, line in enumerate(lines):
        truth = list(rows.values())[0][i]
        for name, tags in rows.items():
            for c, (ch, tag) in enumerate(zip(line, tags[i])):
                wrong = tag != truth[c]
                ax.add_patch(plt.Rectangle((c, -y - 1), 1, 1, color=colors[tag], alpha=0.55,
                                           ec="black" if wrong else "none", lw=1.2 if wrong else 0))
                ax.text(c + 0.5, -y - 0.5, ch, ha="center", va="center", family="monospace", fontsize=8)
            ax.text(-0.5, -y - 0.5, name, ha="right", va="center", fontsize=8)
            y += 1
        y += 1
    handles = [plt.Rectangle((0, 0), 1, 1, color=c, alpha=0.55) for c in colors]
    ax.legend(handles, tag_names, ncols=len(tag_names), loc="lower center", bbox_to_anchor=(0.5, 1.0),
              fontsize=8, frameon=False)
    ax.set(xlim=(-0.2, width + 0.2), ylim=(-y, 0.2))
    ax.axis("off")
    ax.set_title(title, pad=24)
    return fig


def plot_accuracies(scores: dict, *, ax=None, title="Accuracy on held-out data", xlabel="accuracy"):
    """Horizontal bars, one per model or baseline, labelled with the value.

    Parameters
    ----------
    scores : dict of str -> float
        Accuracy (a number in [0, 1]) by name, drawn top to bottom in the dict's order; at least one.
    ax : matplotlib.axes.Axes, optional
    title, xlabel : str

    Returns
    -------
    matplotlib.figure.Figure
    """
    check_dict(scores, "scores", "name: accuracy", item="score")
    for name, v in scores.items():
        if not 0 <= number(v, f"scores[{name!r}]", finite=False) <= 1:          # NaN fails too
            raise ValueError(f"scores[{name!r}] should be an accuracy in [0, 1], but is {float(v)}")
    fig, ax = figure_axes(ax, size=figsize(0.1 + 0.07 * len(scores)))
    names, values = list(scores), [float(v) for v in scores.values()]
    y = np.arange(len(names))[::-1]
    ax.barh(y, values, color=[PALETTE[i % len(PALETTE)] for i in range(len(names))])
    for yi, v in zip(y, values):
        ax.text(v + 0.01, yi, f"{v:.3f}", va="center", fontsize=9)
    ax.set(yticks=y, yticklabels=names, xlim=(0, 1.08), xlabel=xlabel, title=title)
    return fig
