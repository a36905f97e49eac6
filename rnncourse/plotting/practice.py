"""Figures of chapter 9 (RNNs in practice): padded batches, a learning-rate range test, tagged code.

Plotting only: each function takes arrays the chapter computed and returns a figure.
"""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.colors import ListedColormap

from rnncourse.plotting.style import COLORS, PALETTE, figsize, figure_axes

__all__ = ["plot_batch_masks", "plot_lr_range", "plot_tagged_lines", "plot_accuracies"]


def plot_batch_masks(masks: dict, *, title="Real steps (dark) and padding (light) in each batch"):
    """Side by side, the (T, B) masks of a few batches under each batching scheme.

    Parameters
    ----------
    masks : dict of str -> list of numpy.ndarray of bool, each shape (T_k, B)
        For each scheme (e.g. ``"random batches"``, ``"sorted by length"``), the masks
        of some batches; they are drawn one after the other along the batch axis.
    title : str
        Figure title.

    Returns
    -------
    matplotlib.figure.Figure
    """
    if not isinstance(masks, dict):
        raise TypeError(f"masks should be a dict {{scheme name: list of (T, B) masks}}, "
                        f"but is {type(masks).__name__}")
    if not masks:
        raise ValueError("masks should hold at least one scheme, but is empty")
    fig, axes = plt.subplots(1, len(masks), figsize=figsize(0.42), sharey=True)
    axes = np.atleast_1d(axes)
    T = max(m.shape[0] for ms in masks.values() for m in ms)
    cmap = ListedColormap(["#EEEEEE", COLORS["input"], PALETTE[0]])
    for ax, (name, ms) in zip(axes, masks.items()):
        cols = []
        for k, m in enumerate(ms):
            block = np.zeros((T, m.shape[1]))                 # 0: outside the batch (T beyond its longest)
            block[:m.shape[0]] = np.where(m, 2, 1)          # 1: padding, 2: real step
            cols.append(block)
            cols.append(np.full((T, 1), np.nan))            # a gap between batches
        ax.imshow(np.concatenate(cols[:-1], axis=1), aspect="auto", cmap=cmap, vmin=0, vmax=2,
                  interpolation="nearest")
        real = sum(int(m.sum()) for m in ms)
        total = sum(m.size for m in ms)
        ax.set(title=f"{name}: {100 * (1 - real / total):.0f}% padding", xlabel="sequences (batch after batch)")
        ax.grid(False)
    axes[0].set_ylabel("time step t")
    fig.suptitle(title)
    return fig


def plot_lr_range(lrs, losses, *, suggested=None, ax=None, title="Learning-rate range test"):
    """Loss against learning rate (log axis) while the rate grows step by step.

    Parameters
    ----------
    lrs, losses : sequence of float
        The rate used at each step and the loss measured there.
    suggested : float, optional
        Mark this rate with a vertical line.
    ax : matplotlib.axes.Axes, optional
    title : str

    Returns
    -------
    matplotlib.figure.Figure
    """
    if np.shape(lrs) != np.shape(losses) or np.ndim(lrs) != 1:
        raise ValueError(f"lrs and losses should be 1-D and of the same length, one entry per step, "
                         f"but have shapes {np.shape(lrs)} and {np.shape(losses)}")
    fig, ax = figure_axes(ax, size=figsize(0.4))
    ax.plot(lrs, losses, color=COLORS["loss"], label="training loss at that step")
    if suggested is not None:
        ax.axvline(suggested, color=COLORS["neutral"], linestyle="--", label=f"chosen rate {suggested:.1e}")
    ax.set(xscale="log", xlabel="learning rate", ylabel="loss", title=title)
    ax.legend(loc="upper left")
    return fig


def plot_tagged_lines(lines, rows: dict, tag_names, *, title="Tags of each character"):
    """Lines of text, one row of coloured cells per tagging (truth, model A, model B ...).

    Parameters
    ----------
    lines : list of str
        The lines (a few, short).
    rows : dict of str -> list of numpy.ndarray of int
        For each tagging, one tag array per line.
    tag_names : sequence of str
        Names of the tag ids, for the legend.
    title : str

    Returns
    -------
    matplotlib.figure.Figure
    """
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
        Accuracy (in [0, 1]) by name, drawn top to bottom in the dict's order.
    ax : matplotlib.axes.Axes, optional
    title, xlabel : str

    Returns
    -------
    matplotlib.figure.Figure
    """
    if not isinstance(scores, dict):
        raise TypeError(f"scores should be a dict {{name: accuracy}}, but is {type(scores).__name__}")
    fig, ax = figure_axes(ax, size=figsize(0.1 + 0.07 * len(scores)))
    names, values = list(scores), [float(v) for v in scores.values()]
    y = np.arange(len(names))[::-1]
    ax.barh(y, values, color=[PALETTE[i % len(PALETTE)] for i in range(len(names))])
    for yi, v in zip(y, values):
        ax.text(v + 0.01, yi, f"{v:.3f}", va="center", fontsize=9)
    ax.set(yticks=y, yticklabels=names, xlim=(0, 1.08), xlabel=xlabel, title=title)
    return fig
