"""One figure style for the whole book: readable fonts, a colour-blind-safe palette, column width.

Call :func:`use_style` once at the top of a chapter. Colours come from
:data:`PALETTE` (Okabe and Ito's colour-blind-safe set), named by role.

Figures have transparent backgrounds, so that they sit on the page's own colour: on the light
page they look as on white, and in the online book's dark mode its style sheet
(``_static/rnncourse.css``) inverts their dark ink to light. Legends keep a white box.
"""

from __future__ import annotations

import matplotlib as mpl
import matplotlib.pyplot as plt

from rnncourse.validation import check_positive_float

__all__ = ["PALETTE", "COLORS", "FIG_WIDTH", "use_style", "figsize", "figure_axes"]

#: Okabe–Ito colours, safe for the common forms of colour blindness.
PALETTE = ("#0072B2", "#E69F00", "#009E73", "#D55E00", "#CC79A7", "#56B4E9", "#F0E442", "#000000")

#: Colours by role, so every chapter draws inputs, states and outputs alike.
COLORS = {
    "input": "#56B4E9",
    "hidden": "#E69F00",
    "output": "#009E73",
    "loss": "#D55E00",
    "gradient": "#CC79A7",
    "neutral": "#555555",
}

#: Width in inches of a figure that fills the book's text column.
FIG_WIDTH = 7.0


def figsize(aspect: float = 0.45, width: float = FIG_WIDTH) -> tuple[float, float]:
    """Return ``(width, width * aspect)`` for a figure that fits the text column.

    Parameters
    ----------
    aspect : float
        Height over width, positive (default 0.45).
    width : float
        Width in inches, positive (default :data:`FIG_WIDTH`, the text column).

    Returns
    -------
    tuple of float
        ``(width, height)`` in inches, for ``plt.subplots(figsize=...)``.
    """
    width = check_positive_float(width, "width")
    return (width, width * check_positive_float(aspect, "aspect"))


def figure_axes(ax=None, size=None):
    """The axes to draw on and its figure: ``ax`` itself, or the single axes of a new figure.

    Every plot function that takes ``ax`` starts with it, so that a plot can go into a
    panel of a larger figure or stand alone.

    Parameters
    ----------
    ax : matplotlib.axes.Axes, optional
        The axes to draw on; ``None`` (default) makes a new figure.
    size : tuple of float, optional
        The new figure's ``(width, height)`` in inches; default :func:`figsize`'s.

    Returns
    -------
    tuple
        ``(fig, ax)``.
    """
    if ax is None:
        _, ax = plt.subplots(figsize=size or figsize())
    return ax.figure, ax


def use_style() -> None:
    """Apply the book's matplotlib style to every figure made afterwards."""
    mpl.rcParams.update({
        "figure.figsize": figsize(),
        "figure.dpi": 100,
        "savefig.dpi": 150,
        "figure.constrained_layout.use": True,
        "font.size": 11,
        "axes.titlesize": 12,
        "axes.labelsize": 11,
        "legend.fontsize": 10,
        "xtick.labelsize": 10,
        "ytick.labelsize": 10,
        "axes.prop_cycle": mpl.cycler(color=list(PALETTE)),
        "axes.spines.top": False,
        "axes.spines.right": False,
        "axes.grid": True,
        "grid.alpha": 0.3,
        "lines.linewidth": 1.8,
        "image.cmap": "viridis",
        # Transparent backgrounds (see the module docstring); the inline backend of a notebook
        # saves with the figure's face colour, so that colour, not savefig.transparent, decides.
        "figure.facecolor": "none",
        "axes.facecolor": "none",
        "savefig.facecolor": "none",
        "legend.facecolor": "white",
    })
