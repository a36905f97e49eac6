"""Plots of training and of what a trained network computes: loss curves, hidden states, predictions.

Every function takes plain arrays (NumPy, or anything ``numpy.asarray``
accepts, e.g. a CPU tensor) and returns the matplotlib figure it drew on. Pass
``ax`` to draw into an axes of your own figure (several panels); without it a
new figure of the book's width is made. Call
:func:`rnncourse.plotting.style.use_style` once before.
"""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.ticker import MaxNLocator

from rnncourse.validation import as_float_array, check_bool, check_dict, check_positive_float, check_positive_int

from ._checks import number, positive_for_log, time_axis
from .style import COLORS, PALETTE, figure_axes

__all__ = ["moving_average", "plot_losses", "plot_hidden_states", "plot_predictions"]


def _as_float_array(a, name: str) -> np.ndarray:
    a = as_float_array(a, name)
    if a.size == 0:
        raise ValueError(f"{name} is empty; there is nothing to plot")
    return a


def _one_curve(a, name: str, fix: str = "") -> np.ndarray:
    """One curve as a 1-D float array, from shape (N,) or a column (N, 1); a table is refused, not flattened."""
    a = _as_float_array(a, name)
    if a.ndim == 2 and a.shape[1] == 1:
        a = a[:, 0]
    if a.ndim != 1:
        raise ValueError(f"{name} should be one curve of shape (N,) or (N, 1), but has shape {a.shape}{fix}")
    return a


def _check_finite(a: np.ndarray, name: str, fix: str) -> None:
    """Raise :class:`ValueError` if ``a`` holds NaN or infinity, saying where the first one is."""
    bad = ~np.isfinite(a)
    if bad.any():
        raise ValueError(f"{name} contains NaN or infinity (first at index {int(np.argmax(bad))}); {fix}")


def moving_average(values, window: int) -> np.ndarray:
    """The mean of each ``window`` consecutive values (the first ones average what exists so far).

    Parameters
    ----------
    values : numpy.ndarray, shape (N,)
        E.g. the loss of every step; all finite (a NaN or infinity has no mean).
    window : int
        Number of values averaged (1 returns a copy).

    Returns
    -------
    numpy.ndarray, shape (N,)
        ``out[i]`` is the mean of ``values[max(0, i - window + 1) : i + 1]``.

    Examples
    --------
    >>> moving_average(np.array([1.0, 3.0, 5.0]), 2)
    array([1., 2., 4.])
    """
    v = _as_float_array(values, "values")
    if v.ndim != 1:
        raise ValueError(f"values should have shape (N,), one curve, but has shape {v.shape}; "
                         f"average each curve on its own")
    window = check_positive_int(window, "window")
    _check_finite(v, "values", "average only the steps before it, e.g. values[:k]")
    # Each window summed on its own (no running total, where one huge value would swamp the rest):
    # sums[i] = v[i - window + 1] + ... + v[i], the missing values before the start counting as 0.
    sums = np.convolve(v, np.ones(min(window, v.size)))[:v.size]
    return sums / np.minimum(np.arange(1, v.size + 1), window)


def plot_losses(losses, *, smooth: int | None = None, logy: bool = False, ax=None, title: str = "Training loss",
                xlabel: str = "step", ylabel: str = "loss", baseline: float | None = None,
                baseline_label: str = "baseline"):
    """Plot one or several loss curves against the step.

    Parameters
    ----------
    losses : numpy.ndarray or list or dict
        One curve (a sequence of floats, one per step, shape (N,) or (N, 1)) or several,
        as a dict ``{label: curve}`` (curves may have different lengths).
    smooth : int, optional
        Draw the moving average over this many steps (at least 1; 1 draws no average) on top
        of the raw curve (the raw curve is then drawn faint); the curves must then be finite.
    logy : bool
        Logarithmic loss axis; the finite losses must then be > 0.
    ax : matplotlib.axes.Axes, optional
        Draw there instead of a new figure.
    title, xlabel, ylabel : str
        Title and axis labels.
    baseline : float, optional
        Draw a horizontal dashed line at this value (a finite number), e.g. the loss of a trivial
        predictor; with ``logy`` it must be > 0.
    baseline_label : str
        Its legend label.

    Returns
    -------
    matplotlib.figure.Figure
        The figure drawn on.

    Examples
    --------
    >>> fig = plot_losses({"SGD": [2.0, 1.5, 1.2], "Adam": [2.0, 1.0, 0.6]})
    """
    curves = dict(losses) if isinstance(losses, dict) else {None: losses}
    logy = check_bool(logy, "logy")
    if smooth is not None:
        smooth = check_positive_int(smooth, "smooth")
    if not curves:
        raise ValueError("losses is an empty dict; pass at least one curve")
    if baseline is not None:
        baseline = number(baseline, "baseline")
        if logy:
            positive_for_log(np.array([baseline]), "baseline")
    ys = {}
    for label, curve in curves.items():
        name = f"losses[{label!r}]" if label is not None else "losses"
        ys[label] = _one_curve(curve, name, "" if label is not None else
                               "; pass several curves as a dict {label: curve}")
        if smooth and smooth > 1:
            _check_finite(ys[label], name, "plot it without smooth, or only the steps before it")
        if logy:
            positive_for_log(ys[label], name)
    fig, ax = figure_axes(ax)
    for i, (label, y) in enumerate(ys.items()):
        color = PALETTE[i % len(PALETTE)]
        steps = np.arange(y.size)
        if smooth and smooth > 1:
            ax.plot(steps, y, color=color, alpha=0.25, linewidth=1.0)
            ax.plot(steps, moving_average(y, smooth), color=color, label=label)
        else:
            ax.plot(steps, y, color=color, label=label)
    if baseline is not None:
        ax.axhline(baseline, color=COLORS["neutral"], linestyle="--", linewidth=1.2, label=baseline_label)
    if logy:
        ax.set_yscale("log")
    ax.set(title=title, xlabel=xlabel, ylabel=ylabel)
    if any(label is not None for label in curves) or baseline is not None:
        ax.legend()
    return fig


def _states_2d(hs, batch: int) -> np.ndarray:
    """Hidden states of one sequence, (T, H), from (T, H) or time-major (T, B, H)."""
    hs = _as_float_array(hs, "hs")
    if not np.isfinite(hs).all():
        raise ValueError("hs contains NaN or infinity; a network whose states are not finite has diverged: "
                         "plot the states of an earlier step or a smaller learning rate")
    if hs.ndim == 3:
        if not batch < hs.shape[1]:
            raise ValueError(f"batch should index a sequence of hs (0 to {hs.shape[1] - 1}), but is {batch}")
        return hs[:, batch, :]
    if hs.ndim != 2:
        raise ValueError(f"hs should have shape (T, B, H) (time-major) or (T, H) (one sequence), "
                         f"but has shape {hs.shape}")
    return hs


def plot_hidden_states(hs, *, times=None, batch: int = 0, kind: str = "heatmap", units: int | None = None,
                       ax=None, title: str = "Hidden states over time", xlabel: str = "time step t",
                       vmax: float | None = None, colorbar: bool = True):
    """Show how the hidden state of one sequence evolves: a heatmap (unit by time) or one line per unit.

    Parameters
    ----------
    hs : numpy.ndarray, shape (T, B, H) or (T, H)
        Hidden states, time-major, all finite; for (T, B, H) the sequence ``batch`` is shown.
    times : numpy.ndarray, shape (T,), optional
        Labels of the time axis (finite numbers or ``datetime64``); default ``1 .. T``, the book's
        numbering (``h_1`` is the state after the first input ``x_1``; ``h_0`` is not in ``hs``).
    batch : int
        Which sequence of a batch to show, ``0 .. B-1`` (default 0).
    kind : str
        ``"heatmap"`` (default; colour = value of ``h_t[j]``) or ``"lines"``.
    units : int, optional
        Show only the first ``units`` hidden units, at least 1 (default: all for a heatmap, 8 for lines).
    ax : matplotlib.axes.Axes, optional
        Draw there instead of a new figure.
    title, xlabel : str
        Title and label of the time axis.
    vmax : float, optional
        Colour range ``[-vmax, vmax]`` of the heatmap, ``vmax > 0`` (default: 1, the range of tanh,
        or the largest absolute value if larger).
    colorbar : bool
        Add a colour bar to a heatmap (default ``True``).

    Returns
    -------
    matplotlib.figure.Figure
        The figure drawn on.

    Examples
    --------
    >>> fig = plot_hidden_states(np.tanh(np.random.default_rng(0).normal(size=(50, 1, 8))))
    """
    if kind not in ("heatmap", "lines"):
        raise ValueError(f"kind should be 'heatmap' or 'lines', but is {kind!r}")
    batch = check_positive_int(batch, "batch", minimum=0)
    colorbar = check_bool(colorbar, "colorbar")
    if units is not None:
        units = check_positive_int(units, "units")
    if vmax is not None:
        vmax = check_positive_float(vmax, "vmax")
    S = _states_2d(hs, batch)
    T, n_units = S.shape
    shown = min(n_units, units if units is not None else (n_units if kind == "heatmap" else 8))
    S = S[:, :shown]
    t = time_axis(times, T, "hs")
    fig, ax = figure_axes(ax)
    if kind == "lines":
        for j in range(shown):
            ax.plot(t, S[:, j], linewidth=1.2, label=f"unit {j}")
        ax.set_ylabel("$h_t[j]$")
        if shown <= 8:
            ax.legend(ncol=4, fontsize=8, loc="upper left")
    else:
        limit = vmax if vmax is not None else max(1.0, float(np.abs(S).max()))
        x = t if np.issubdtype(t.dtype, np.number) else np.arange(T)
        mesh = ax.pcolormesh(x, np.arange(shown), S.T, cmap="RdBu_r", vmin=-limit, vmax=limit, shading="nearest")
        ax.set_ylabel("hidden unit j")
        ax.yaxis.set_major_locator(MaxNLocator(integer=True))
        ax.grid(False)
        if x is not t:                                 # dates: label a few ticks with them
            ticks = np.linspace(0, T - 1, 5).astype(int)
            ax.set_xticks(ticks, [str(t[i]) for i in ticks])
        if colorbar:
            fig.colorbar(mesh, ax=ax, label="$h_t[j]$", pad=0.01)
    ax.set(title=title, xlabel=xlabel)
    return fig


def plot_predictions(target, predictions: dict, *, times=None, ax=None, title: str = "Predictions",
                     xlabel: str = "time step t", ylabel: str = "value", target_label: str = "target"):
    """Plot a target series and one or several predictions of it.

    Parameters
    ----------
    target : numpy.ndarray, shape (N,) or (N, 1)
        The true values.
    predictions : dict
        ``{label: values}``, each of the shape of ``target``, e.g. ``{"RNN": ..., "last value": ...}``;
        empty (``{}``) to plot the target alone.
    times : numpy.ndarray, shape (N,), optional
        The time axis (finite numbers or ``datetime64``); default ``1 .. N``, the book's numbering.
    ax : matplotlib.axes.Axes, optional
        Draw there instead of a new figure.
    title, xlabel, ylabel : str
        Title and axis labels.
    target_label : str
        Legend label of the target.

    Returns
    -------
    matplotlib.figure.Figure
        The figure drawn on.
    """
    check_dict(predictions, "predictions", "label: values")
    y = _one_curve(target, "target")
    t = time_axis(times, y.size, "target")
    ps = {label: _one_curve(p, f"predictions[{label!r}]") for label, p in predictions.items()}
    for label, p in ps.items():
        if p.shape != y.shape:
            raise ValueError(f"predictions[{label!r}] should have shape {y.shape} like target, "
                             f"but has shape {p.shape}")
    fig, ax = figure_axes(ax)
    ax.plot(t, y, color="black", linewidth=2.0, label=target_label)
    for i, (label, p) in enumerate(ps.items()):
        ax.plot(t, p, color=PALETTE[i % len(PALETTE)], linewidth=1.4, label=label)
    ax.set(title=title, xlabel=xlabel, ylabel=ylabel)
    ax.legend()
    return fig
