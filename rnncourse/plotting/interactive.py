"""The book's two interactive figures: their networks, their NumPy twins and their static pictures.

The figures are plain JavaScript in the book's ``_static/rnncourse-figures.js``. They compute with
weights this module writes when the book is built (:func:`write_figure_data`, called by
``rnncourse.sphinxext``), so a page needs no server and works from ``file://``. Each figure has a
NumPy twin here, built on the package's own functions; the browser tests set the figure's controls
and compare what the page computes with it.

- **The forward pass step by step** (chapter 3): chapter 1's hand-set memory RNN with a two-class
  read-out, :func:`forward_network` and :func:`forward_steps`.
- **Gradients through time** (chapter 5): the network of chapter 5's Jacobian figure,
  :func:`gradient_network` and :func:`gradient_norms`, with sliders for the spectral radius of
  ``W_hh``, the scale of the inputs and the lag.

:func:`plot_forward_steps` and :func:`plot_gradient_norms` draw the same figures as static images,
for print and for readers without JavaScript.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from rnncourse.data.order_tasks import one_hot
from rnncourse.numpy.elman import rnn_forward
from rnncourse.numpy.init import init_rnn_params
from rnncourse.numpy.jacobian import jacobian_norms, step_jacobians
from rnncourse.numpy.losses import softmax
from rnncourse.numpy.output import affine_forward
from rnncourse.validation import check_index_array, check_positive_float, check_positive_int

from .diagrams import NODE_H, arrow, diagram_axes, node
from .gradients import plot_norms_vs_lag
from .style import COLORS

__all__ = ["forward_network", "forward_steps", "gradient_network", "gradient_norms", "figure_data",
           "write_figure_data", "plot_forward_steps", "plot_gradient_norms", "write_static_figures", "DATA_SCRIPT"]

#: The script the pages load, which assigns the figures' data, as JSON, to ``window.RNNCOURSE_FIGURE_DATA``.
DATA_SCRIPT = "rnncourse-figures-data.js"


def forward_network() -> dict:
    """Chapter 1's hand-set memory RNN, with an output layer that answers "did the 1 come first?".

    The state has two switches (near -1 off, near +1 on): unit 0 "seen a 1", unit 1 "a 2 after a
    1". The scores ``z_t = W_hy h_t + b_y`` are two, "no" and "yes"; their softmax, the output
    ``y_t``, gives the probability of each answer after every step.

    Returns
    -------
    dict
        ``"V"`` (vocabulary size 5), ``"W_xh"`` (2, 5), ``"W_hh"`` (2, 2), ``"b_h"`` (2,),
        ``"h0"`` (1, 2), ``"W_hy"`` (2, 2), ``"b_y"`` (2,), and ``"sequences"``: a dict of two token
        sequences of length 6, ``"the 1 comes first"`` and ``"the 2 comes first"``.
    """
    V = 5
    W_xh = np.zeros((2, V))
    W_xh[0, 1] = 8.0                                   # a 1 switches unit 0 on
    W_xh[1, 2] = 8.0                                   # a 2 pushes unit 1 on ...
    W_hh = np.array([[6.0, 0.0], [4.0, 6.0]])          # ... which also needs unit 0 on (the 4)
    return {"V": V, "W_xh": W_xh, "W_hh": W_hh, "b_h": np.array([2.0, -2.0]), "h0": -np.ones((1, 2)),
            "W_hy": np.array([[0.0, -2.0], [0.0, 2.0]]), "b_y": np.zeros(2),
            "sequences": {"the 1 comes first": [3, 1, 0, 4, 2, 0], "the 2 comes first": [3, 2, 0, 4, 1, 0]}}


def forward_steps(net: dict, tokens) -> dict:
    """Run the forward pass of :func:`forward_network` over one sequence of tokens.

    Parameters
    ----------
    net : dict
        From :func:`forward_network`.
    tokens : sequence of int, length T
        Token ids below ``net["V"]``, at least one; integers (a float such as 1.7 is refused,
        not truncated).

    Returns
    -------
    dict
        ``"hs"`` (T, 2) hidden states h_t, ``"zs"`` (T, 2) output scores z_t and ``"probs"``
        (T, 2) their softmax y_t, for the one sequence.
    """
    tokens = np.asarray(tokens)
    if tokens.size == 0:
        raise ValueError("tokens should hold at least one token id, but is empty")
    check_index_array(tokens, "tokens", ("T",), high=net["V"])
    x = one_hot(tokens.astype(np.int64)[:, None], net["V"])                       # (T, 1, V)
    hs, _ = rnn_forward(x, net["h0"], net["W_xh"], net["W_hh"], net["b_h"])
    zs, _ = affine_forward(hs, net["W_hy"], net["b_y"])                            # scores z_t
    return {"hs": hs[:, 0], "zs": zs[:, 0], "probs": softmax(zs[:, 0])}


def gradient_network(T: int = 100, hidden_size: int = 32) -> dict:
    """The tanh network of chapter 5's Jacobian figure, with ``W_hh`` scaled to spectral radius 1.

    The figure multiplies ``W_hh`` by the spectral radius the reader picks and the inputs by the
    input scale (larger inputs saturate tanh).

    Parameters
    ----------
    T : int
        Sequence length, the largest lag (default 100).
    hidden_size : int
        H (default 32).

    Returns
    -------
    dict
        ``"W_xh"`` (H, 2), ``"W_hh"`` (H, H) of spectral radius 1, ``"b_h"`` (H,), ``"x"`` (T, 1, 2)
        inputs drawn from a standard normal, and the sliders' ranges and start values
        (``"controls"``).
    """
    T = check_positive_int(T, "T")
    x = np.random.default_rng(1).normal(size=(T, 1, 2))
    params = init_rnn_params(2, hidden_size, rng=np.random.default_rng(2), spectral_radius=1.0)
    controls = {"rho": {"min": 0.5, "max": 1.5, "step": 0.01, "value": 1.0},
                "scale": {"min": 0.0, "max": 5.0, "step": 0.1, "value": 1.0},
                "lag": {"min": 0, "max": T, "step": 1, "value": min(50, T)}}
    return {**params, "x": x, "controls": controls}


def gradient_norms(net: dict, spectral_radius: float, input_scale: float) -> np.ndarray:
    """``||dh_T / dh_{T-l}||_2`` for every lag ``l = 0 .. T``, for one setting of the figure's sliders.

    ``W_hh`` becomes ``spectral_radius * net["W_hh"]`` and the inputs ``input_scale * net["x"]``;
    the rest is :func:`rnncourse.numpy.elman.rnn_forward`,
    :func:`rnncourse.numpy.jacobian.step_jacobians` and :func:`rnncourse.numpy.jacobian.jacobian_norms`.

    Parameters
    ----------
    net : dict
        From :func:`gradient_network`.
    spectral_radius : float
        rho, the factor of ``W_hh``, positive.
    input_scale : float
        The factor of the inputs, >= 0.

    Returns
    -------
    numpy.ndarray, shape (T + 1,)
        The norm at each lag; entry 0 is 1 (the identity).
    """
    rho = check_positive_float(spectral_radius, "spectral_radius")
    scale = check_positive_float(input_scale, "input_scale", allow_zero=True)
    W_hh = rho * net["W_hh"]
    hs, _ = rnn_forward(scale * net["x"], None, net["W_xh"], W_hh, net["b_h"])
    return jacobian_norms(step_jacobians(hs, W_hh))[:, 0]


def _lists(value):
    """Arrays as nested lists (JSON keeps every float64 digit), dicts and lists walked through."""
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, dict):
        return {k: _lists(v) for k, v in value.items()}
    return value


def figure_data() -> dict:
    """The data of both figures, as plain JSON-ready lists: ``{"forward": ..., "gradients": ...}``."""
    return {"forward": _lists(forward_network()), "gradients": _lists(gradient_network())}


def write_figure_data(folder) -> Path:
    """Write :data:`DATA_SCRIPT` into ``folder``: the figures' JSON, assigned to a global variable.

    A script rather than a ``.json`` file, because a page opened from ``file://`` may load scripts
    but may not fetch files.

    Parameters
    ----------
    folder : str or pathlib.Path
        Where to write it; made if missing.

    Returns
    -------
    pathlib.Path
        The file written.
    """
    path = Path(folder) / DATA_SCRIPT
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("// Written by rnncourse.plotting.interactive when the book was built.\n"
                    f"window.RNNCOURSE_FIGURE_DATA = {json.dumps(figure_data())};\n", encoding="utf-8")
    return path


def plot_forward_steps(net: dict, tokens, *, title="The hand-set memory RNN, step by step"):
    """The unrolled network with every value filled in: tokens, hidden states and P(yes) at each step.

    The static picture of chapter 3's step-through figure.

    Parameters
    ----------
    net : dict
        From :func:`forward_network`.
    tokens : sequence of int, length T
        Token ids below ``net["V"]``, e.g. one of ``net["sequences"]``.
    title : str
        Title above the diagram.

    Returns
    -------
    matplotlib.figure.Figure
    """
    T = len(tokens)
    steps = forward_steps(net, tokens)
    step, w, h, y_h, y_y = 1.6, 0.55, 0.45, 1.6, 3.2          # column spacing, box size, row heights
    fig, ax = diagram_axes(None, (-0.8, T * step + 0.8), (-0.5, y_y + 0.75), title=title)
    h0 = np.asarray(net["h0"]).ravel()                                  # (1, 2): the one sequence's start
    node(ax, (0.0, y_h), f"$h_0$\n{h0[0]:+.2f}\n{h0[1]:+.2f}", "#DDDDDD", fontsize=8, w=w, h=h)
    for t in range(1, T + 1):
        cx, h_t = t * step, steps["hs"][t - 1]
        node(ax, (cx, 0.0), f"$x_{{{t}}}$: token {tokens[t - 1]}", "input", fontsize=8, w=w)
        node(ax, (cx, y_h), f"$h_{{{t}}}$\n{h_t[0]:+.2f}\n{h_t[1]:+.2f}", "hidden", fontsize=8, w=w, h=h)
        node(ax, (cx, y_y), f"$y_{{{t}}}$: P(yes)\n{steps['probs'][t - 1, 1]:.2f}", "output", fontsize=8, w=w, h=h)
        arrow(ax, (cx, NODE_H), (cx, y_h - h))
        arrow(ax, (cx, y_h + h), (cx, y_y - h))
        arrow(ax, ((t - 1) * step + w, y_h), (cx - w, y_h), color=COLORS["hidden"])
    return fig


def plot_gradient_norms(net: dict, spectral_radius: float = 1.0, input_scale: float = 1.0, *, ax=None):
    """``||dh_T/dh_{T-l}||`` against the lag for one slider setting, with ``rho ** l`` dashed.

    The static picture of chapter 5's interactive figure.

    Parameters
    ----------
    net : dict
        From :func:`gradient_network`.
    spectral_radius : float
        rho, the factor of ``W_hh``, positive (default 1).
    input_scale : float
        The factor of the inputs, >= 0 (default 1).
    ax : matplotlib.axes.Axes, optional
        The axes to draw on; ``None`` (default) makes a new figure.

    Returns
    -------
    matplotlib.figure.Figure
    """
    norms = gradient_norms(net, spectral_radius, input_scale)
    lags = np.arange(len(norms))
    fig = plot_norms_vs_lag({rf"tanh RNN, $\rho = {spectral_radius:g}$, input scale {input_scale:g}": norms},
                            ax=ax, title="Gradients through time")
    ax = fig.axes[0] if ax is None else ax
    ax.semilogy(lags, spectral_radius ** lags.astype(float), color=COLORS["neutral"], linestyle="--",
                linewidth=1.2, label=r"$\rho^{\ell}$")
    ax.legend(loc="best")
    return fig


def write_static_figures(folder) -> list[Path]:
    """Save the static pictures of both figures as PNG in ``folder``; return their paths.

    ``forward-steps.png`` (the sequence with the 1 first) and ``gradients-through-time.png`` (the
    sliders' start values).

    Parameters
    ----------
    folder : str or pathlib.Path
        Where to save them; made if missing.

    Returns
    -------
    list of pathlib.Path
        The two files written.
    """
    import matplotlib.pyplot as plt

    from .style import use_style

    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    net, grad = forward_network(), gradient_network()
    start = grad["controls"]
    paths = []
    with plt.rc_context():
        use_style()
        figures = {"forward-steps.png": plot_forward_steps(net, next(iter(net["sequences"].values()))),
                   "gradients-through-time.png": plot_gradient_norms(grad, start["rho"]["value"],
                                                                     start["scale"]["value"])}
        for name, fig in figures.items():
            fig.savefig(folder / name)
            plt.close(fig)
            paths.append(folder / name)
    return paths
