"""Plots of chapter 5: gradient norms against the time lag, success against the lag, clipping.

Every function takes arrays (or dicts of arrays by label) and returns a
:class:`matplotlib.figure.Figure`; none computes a gradient or trains a model.
Functions that draw one panel accept ``ax`` so that a chapter can put several
side by side.
"""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.patches import Circle, Rectangle
from matplotlib.ticker import NullFormatter

from rnncourse.plotting.style import COLORS, PALETTE, figure_axes
from rnncourse.validation import as_float_array, check_array, check_dict, check_positive_float

__all__ = ["plot_norms_vs_lag", "plot_input_gradients", "plot_success_vs_lag", "plot_clipping", "plot_grad_norms"]


def _log_curve(values, name: str) -> np.ndarray:
    """One curve for a logarithmic axis: 1-D, not empty, every value finite and > 0 (else it would vanish)."""
    v = as_float_array(values, name)
    if v.ndim != 1:
        raise ValueError(f"{name} should have shape (N,), one curve, but has shape {v.shape}; "
                         f"give each curve its own label")
    if v.size == 0:
        raise ValueError(f"{name} is empty; there is nothing to plot")
    bad = ~(np.isfinite(v) & (v > 0))
    if bad.any():
        i = int(np.argmax(bad))
        raise ValueError(f"{name} should hold finite norms > 0 (the axis is logarithmic), but holds {v[i]} "
                         f"at index {i}")
    return v


def _fraction(value, name: str) -> float:
    """A number in [0, 1] (an accuracy), returned as float."""
    value = check_positive_float(value, name, allow_zero=True)
    if value > 1:
        raise ValueError(f"{name} should be a fraction in [0, 1], but is {value}")
    return value


def plot_norms_vs_lag(curves, *, bounds=None, ax=None, title="Norm of the Jacobian product",
                      ylabel=r"$\|\partial h_T / \partial h_{T-\ell}\|_2$"):
    """Norms against the lag on a logarithmic axis, one line per label.

    Parameters
    ----------
    curves : dict
        Label -> array of shape (L + 1,): the norm at lags ``0 .. L``, each finite and > 0
        (the axis is logarithmic); at least one curve.
    bounds : dict, optional
        Label -> array of the same shape, drawn dashed in the colour of the
        curve with the same label (e.g. the bound ``(gamma sigma_max)**lag``);
        every label must be one of ``curves``.
    ax : matplotlib.axes.Axes, optional
        Draw into this panel; default a new figure.
    title : str
        Panel title.
    ylabel : str
        Label of the vertical axis.

    Returns
    -------
    matplotlib.figure.Figure
        The figure holding the panel.
    """
    check_dict(curves, "curves", "label: norms at lags 0 .. L", item="curve", fix="; pass e.g. {'tanh RNN': curve}")
    curves = {label: _log_curve(norms, f"curves[{label!r}]") for label, norms in curves.items()}
    if bounds is not None:
        check_dict(bounds, "bounds", "label: bound", fix="; key each bound by the label of its curve")
        unknown = [label for label in bounds if label not in curves]
        if unknown:
            raise ValueError(f"bounds should have labels of curves ({', '.join(map(repr, curves))}), "
                             f"but has {', '.join(map(repr, unknown))}")
        bounds = {label: _log_curve(b, f"bounds[{label!r}]") for label, b in bounds.items()}
        for label, b in bounds.items():
            if b.shape != curves[label].shape:
                raise ValueError(f"bounds[{label!r}] should have shape {curves[label].shape} like "
                                 f"curves[{label!r}], but has shape {b.shape}")
    fig, ax = figure_axes(ax)
    for i, (label, norms) in enumerate(curves.items()):
        color = PALETTE[i % len(PALETTE)]
        ax.semilogy(np.arange(len(norms)), norms, color=color, label=label)
        if bounds is not None and label in bounds:
            ax.semilogy(np.arange(len(bounds[label])), bounds[label], color=color, linestyle="--", linewidth=1.2)
    ax.set_xlabel(r"lag $\ell = T - s$ (time steps)")
    ax.set_ylabel(ylabel)
    ax.set_title(title)
    ax.legend(loc="best")
    return fig


def plot_input_gradients(curves, *, ax=None, title=r"Gradient reaching each input"):
    """``||dL/dx_t||`` against the input's time step ``t`` (log scale), loss read at the last step.

    Parameters
    ----------
    curves : dict
        Label -> array of shape (T,): the gradient norm for inputs ``x_1 .. x_T``, each finite
        and > 0 (the axis is logarithmic); at least one curve.
    ax : matplotlib.axes.Axes, optional
        Draw into this panel; default a new figure.
    title : str
        Panel title.

    Returns
    -------
    matplotlib.figure.Figure
        The figure holding the panel.
    """
    check_dict(curves, "curves", "label: norms at t = 1 .. T", item="curve", fix="; pass e.g. {'tanh RNN': curve}")
    curves = {label: _log_curve(norms, f"curves[{label!r}]") for label, norms in curves.items()}
    fig, ax = figure_axes(ax)
    for label, norms in curves.items():
        ax.semilogy(np.arange(1, len(norms) + 1), norms, label=label)
    ax.set_xlabel(r"time step $t$ of the input $x_t$")
    ax.set_ylabel(r"$\|\partial L / \partial x_t\|_2$")
    ax.set_title(title)
    ax.legend(loc="best")
    return fig


def _lags_and_accuracies(pair, name: str):
    """Check one curve of :func:`plot_success_vs_lag`; return it as two arrays."""
    if not isinstance(pair, (tuple, list)):
        raise TypeError(f"{name} should be a pair (lags, accuracies), but is {type(pair).__name__}")
    if len(pair) != 2:
        raise ValueError(f"{name} should be a pair (lags, accuracies), but has {len(pair)} items")
    if pair[0] is None:
        raise TypeError(f"{name}[0] (the lags) should be a sequence of integers, but is None")
    lags, accuracies = np.asarray(pair[0]), as_float_array(pair[1], f"{name}[1] (the accuracies)")
    if lags.ndim != 1 or accuracies.ndim != 1:
        raise ValueError(f"{name} should be a pair (lags, accuracies) of two 1-D sequences, but they have "
                         f"shapes {lags.shape} and {accuracies.shape}")
    if lags.size != accuracies.size:
        raise ValueError(f"{name} should be a pair (lags, accuracies) of equal length, but has {lags.size} lags "
                         f"and {accuracies.size} accuracies")
    if lags.size == 0:
        raise ValueError(f"{name} is empty; there is nothing to plot")
    if lags.dtype.kind not in "iu":
        raise TypeError(f"{name}[0] (the lags) should hold integers, but has dtype {lags.dtype}; a lag is a "
                        f"whole number of time steps")
    if lags.min() < 1:
        raise ValueError(f"{name}[0] (the lags) should hold integers >= 1 (the axis is logarithmic), but holds "
                         f"{lags.min()}")
    bad = ~((accuracies >= 0) & (accuracies <= 1))                 # NaN is bad too
    if bad.any():
        raise ValueError(f"{name}[1] (the accuracies) should hold fractions in [0, 1], but holds "
                         f"{accuracies[np.argmax(bad)]}")
    return lags, accuracies


def plot_success_vs_lag(curves, *, chance=None, success=None, ax=None,
                        title="Adding problem: test sequences processed correctly"):
    """Fraction of test sequences processed correctly against the time lag, one line per model.

    Parameters
    ----------
    curves : dict
        Label -> ``(lags, accuracies)``, two sequences of equal length: integer lags >= 1
        (the axis is logarithmic) and accuracies in [0, 1]; at least one curve.
    chance : float, optional
        Accuracy of a constant prediction, in [0, 1], drawn as a dotted line.
    success : float, optional
        The fraction that counts as solved, in [0, 1], drawn as a dashed line.
    ax : matplotlib.axes.Axes, optional
        Draw into this panel; default a new figure.
    title : str
        Panel title.

    Returns
    -------
    matplotlib.figure.Figure
        The figure holding the panel.
    """
    check_dict(curves, "curves", "label: (lags, accuracies)", item="curve", fix="; pass e.g. {'tanh RNN': curve}")
    curves = {label: _lags_and_accuracies(pair, f"curves[{label!r}]") for label, pair in curves.items()}
    chance = None if chance is None else _fraction(chance, "chance")
    success = None if success is None else _fraction(success, "success")
    fig, ax = figure_axes(ax)
    all_lags = set()
    for label, (lags, accuracies) in curves.items():
        ax.plot(lags, accuracies, marker="o", label=label)
        all_lags.update(int(lag) for lag in lags)
    if chance is not None:
        ax.axhline(chance, color=COLORS["neutral"], linestyle=":", label=f"constant prediction ({chance:.2f})")
    if success is not None:
        ax.axhline(success, color=COLORS["loss"], linestyle="--", linewidth=1.2, label=f"solved ({success:.2f})")
    ax.set_xscale("log", base=2)
    ax.set_xticks(sorted(all_lags), [str(lag) for lag in sorted(all_lags)])
    ax.set_ylim(0, 1.05)
    ax.set_xlabel("time lag (steps from the first marked value to the output)")
    ax.set_ylabel("fraction correct (|error| < 0.04)")
    ax.set_title(title)
    ax.legend(loc="best")
    return fig


def plot_clipping(g, by_norm, by_value, max_norm, clip_value, *, ax=None,
                  title="Clipping by norm and by value"):
    """Draw a 2-D gradient and its two clipped versions as arrows from the origin.

    The circle of radius ``max_norm`` is where clipping by norm puts a long
    vector (same direction); the square of half-width ``clip_value`` is where
    clipping by value puts it (each coordinate clamped, direction changed). The axes show the whole
    circle, the whole square and every arrow.

    Parameters
    ----------
    g : numpy.ndarray, shape (2,)
        The gradient (of two parameters, so that it lies in the plane).
    by_norm : numpy.ndarray, shape (2,)
        ``g`` clipped by norm.
    by_value : numpy.ndarray, shape (2,)
        ``g`` clipped by value.
    max_norm : float
        Threshold of clipping by norm.
    clip_value : float
        Threshold of clipping by value.
    ax : matplotlib.axes.Axes, optional
        Draw into this panel; default a new figure.
    title : str
        Panel title.

    Returns
    -------
    matplotlib.figure.Figure
        The figure holding the panel.
    """
    for name, vec in (("g", g), ("by_norm", by_norm), ("by_value", by_value)):
        check_array(vec, name, ("P",), (2,), hint="the plot shows gradients of P = 2 parameters, in the plane")
    max_norm = check_positive_float(max_norm, "max_norm")
    clip_value = check_positive_float(clip_value, "clip_value")
    fig, ax = figure_axes(ax, size=(5.0, 4.2))
    ax.add_patch(Circle((0, 0), max_norm, fill=False, color=PALETTE[0], linestyle="--", linewidth=1.2))
    ax.add_patch(Rectangle((-clip_value, -clip_value), 2 * clip_value, 2 * clip_value, fill=False,
                           color=PALETTE[1], linestyle="--", linewidth=1.2))
    arrows = ((g, COLORS["neutral"], "original gradient"), (by_norm, PALETTE[0], "clipped by norm"),
              (by_value, PALETTE[1], "clipped by value"))
    for vec, color, label in arrows:
        ax.annotate("", xy=vec, xytext=(0, 0), arrowprops={"arrowstyle": "-|>", "color": color, "linewidth": 2})
        ax.plot([], [], color=color, linewidth=2, label=label)    # legend entry for the arrow
    vectors = (g, by_norm, by_value)
    reach = 1.15 * max(max(np.abs(v).max() for v in vectors), max_norm, clip_value)
    # Arrows down or left need the whole plane; else the lower-left quadrant shrinks, but never so far
    # that it cuts into the circle or the square (both centred on the origin).
    low = -reach if any((v < 0).any() for v in vectors) else -max(0.25 * reach, 1.15 * max(max_norm, clip_value))
    ax.set_xlim(low, reach)
    ax.set_ylim(low, reach)
    ax.set_aspect("equal")
    ax.set_xlabel(r"$g_1$")
    ax.set_ylabel(r"$g_2$")
    ax.set_title(title)
    ax.legend(loc="upper left")
    return fig


def _log_ticks(low: float, high: float) -> list[float]:
    """Two to four round ticks for a narrow log axis that shows ``low`` to ``high`` (0 < low < high).

    Round values 1, 2 and 5 times a power of ten; over a wide range only powers of ten (every
    other one, or fewer, if need be); over a range too narrow to hold two round values, three
    values inside it rounded just enough to differ.

    Examples
    --------
    >>> _log_ticks(0.3, 3.0)
    [0.5, 1.0, 2.0]
    >>> _log_ticks(0.99, 1.21)
    [1.0, 1.1, 1.2]
    """
    powers = 10.0 ** np.arange(np.floor(np.log10(low)), np.ceil(np.log10(high)) + 1)
    ticks = [float(f"{m * p:.1g}") for p in powers for m in (1, 2, 5) if low <= m * p <= high]
    if len(ticks) > 4:
        ticks = [float(f"{p:.1g}") for p in powers if low <= p <= high]
        ticks = ticks[::-(-len(ticks) // 4)]
    if len(ticks) >= 2:
        return ticks
    inner = np.geomspace(low, high, 5)[1:4]
    for digits in range(2, 17):
        ticks = sorted({float(f"{v:.{digits}g}") for v in inner})
        if len(ticks) == 3:
            break
    return ticks


def _histogram(ax, positive: np.ndarray, threshold, n_zero: int) -> None:
    """The right panel of :func:`plot_grad_norms`: the histogram of the norms > 0 on a log axis."""
    low, high = (positive.min(), positive.max()) if positive.size else (1.0, 1.0)
    bins = np.geomspace(low, high, 30) if high > low else np.geomspace(low / 2, low * 2, 5)
    ax.hist(positive, bins=bins, color=COLORS["gradient"], alpha=0.8)
    ax.set_xscale("log")
    if threshold is not None:
        ax.axvline(threshold, color=COLORS["loss"], linestyle="--", linewidth=1.2)
    # A few short labels: the panel is narrow, and over less than a decade matplotlib labels the
    # minor ticks too, which then overlap.
    shown = ax.get_xlim()
    ticks = _log_ticks(*shown)
    ax.set_xticks(ticks, [f"{v:g}" for v in ticks])
    ax.xaxis.set_minor_formatter(NullFormatter())
    ax.set_xlim(shown)
    ax.set_xlabel(r"$\|g\|_2$")
    ax.set_ylabel("number of steps")
    ax.set_title("histogram" + (f"\n({n_zero} step{'s' if n_zero != 1 else ''} of norm 0 left out)"
                                if n_zero else ""))


def plot_grad_norms(grad_norms, *, threshold=None, title="Gradient norm during training"):
    """Two panels: the gradient norm of each step (log scale) and its histogram.

    Parameters
    ----------
    grad_norms : numpy.ndarray, shape (S,)
        The global gradient norm of each of ``S`` steps, before clipping, each finite and >= 0.
        A list or a tensor is taken too (a tensor is detached and copied to the CPU first).
    threshold : float, optional
        A clipping threshold (> 0), drawn as a dashed line in both panels.
    title : str
        Figure title.

    Returns
    -------
    matplotlib.figure.Figure
        The figure.

    Notes
    -----
    A norm of exactly 0 has no place on a logarithmic axis. Such steps are marked by
    triangles on the bottom edge of the trace (legend: ``norm 0 (k steps)``), left out of
    the histogram, and counted in its title.
    """
    norms = as_float_array(grad_norms, "grad_norms")
    finite = bool(np.all(np.isfinite(norms)))
    if norms.ndim != 1 or norms.size == 0 or not finite:
        problem = "" if finite else " and holds NaN or inf (plot the steps before the divergence)"
        raise ValueError(f"grad_norms should be a non-empty 1-D sequence of finite numbers, but has shape "
                         f"{norms.shape}{problem}")
    if (norms < 0).any():
        i = int(np.argmax(norms < 0))
        raise ValueError(f"grad_norms should hold norms >= 0, but holds {norms[i]} at step {i}")
    if threshold is not None:
        threshold = check_positive_float(threshold, "threshold")
    zero = norms == 0
    n_zero = int(zero.sum())
    fig, (ax_trace, ax_hist) = plt.subplots(1, 2, gridspec_kw={"width_ratios": (2, 1)})
    ax_trace.semilogy(np.arange(len(norms)), np.where(zero, np.nan, norms), color=COLORS["gradient"],
                      linewidth=1.0)
    if n_zero:                              # x in steps, y in axes coordinates: 0 is the bottom edge
        ax_trace.plot(np.flatnonzero(zero), np.zeros(n_zero), linestyle="none", marker="v",
                      color=COLORS["gradient"], transform=ax_trace.get_xaxis_transform(), clip_on=False,
                      label=f"norm 0 ({n_zero} step{'s' if n_zero != 1 else ''})")
    ax_trace.set_xlabel("training step")
    ax_trace.set_ylabel(r"$\|g\|_2$ (before clipping)")
    ax_trace.set_title("trace")
    if threshold is not None:
        ax_trace.axhline(threshold, color=COLORS["loss"], linestyle="--", linewidth=1.2, label="threshold")
    _histogram(ax_hist, norms[norms > 0], threshold, n_zero)
    if threshold is not None or n_zero:
        ax_trace.legend(loc="best")
    fig.suptitle(title)
    return fig
