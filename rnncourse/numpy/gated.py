"""One step of the LSTM and of the GRU in NumPy, forward only: the teaching versions.

The gate layout is PyTorch's (see :mod:`rnncourse.torch.gated` for the
equations): ``W_ih`` stacks the input weights of the gates in the order
``i, f, g, o`` (LSTM, shape (4H, D)) or ``r, z, n`` (GRU, shape (3H, D)),
``W_hh`` the recurrent ones, and there are two biases ``b_ih`` and ``b_hh``.
So the arrays of :class:`torch.nn.LSTMCell` (``weight_ih``, ``weight_hh``,
``bias_ih``, ``bias_hh``) plug in unchanged. No torch is imported here.
"""

from __future__ import annotations

import numpy as np

from rnncourse.validation import check_array, check_same_dtype

__all__ = ["sigmoid", "lstm_step_forward", "gru_step_forward"]


def sigmoid(a):
    """The logistic function ``1 / (1 + exp(-a))``, without overflow warnings for large ``|a|``.

    Example
    -------
    >>> sigmoid(np.array([0.0]))
    array([0.5])
    """
    e = np.exp(-np.abs(a))
    return np.where(a >= 0, 1 / (1 + e), e / (1 + e))


def _check(x_t, h_prev, W_ih, W_hh, b_ih, b_hh, n_gates, cell):
    """Validate one step's arrays against each other; return H."""
    check_array(x_t, "x_t", ("B", "D"), hint="x_t is one time step of shape (B, D)")
    B, D = x_t.shape
    check_array(W_hh, "W_hh", (f"{n_gates}H", "H"))
    H = W_hh.shape[1]
    rows = f"{n_gates}H"
    hint = f"the {cell} stacks {n_gates} gates' weights on the first axis, as torch.nn.{cell}Cell does"
    check_array(W_hh, "W_hh", (rows, "H"), (n_gates * H, H), hint=hint)
    check_array(W_ih, "W_ih", (rows, "D"), (n_gates * H, D), hint=hint)
    check_array(b_ih, "b_ih", (rows,), (n_gates * H,))
    check_array(b_hh, "b_hh", (rows,), (n_gates * H,))
    check_array(h_prev, "h_prev", ("B", "H"), (B, H))
    return H


def lstm_step_forward(x_t, h_prev, c_prev, W_ih, W_hh, b_ih, b_hh):
    """One LSTM step: four gates from ``x_t`` and ``h_prev``, then the additive cell-state update.

    .. math::

        [i; f; g; o] = W_{ih} x_t + b_{ih} + W_{hh} h_{t-1} + b_{hh},\\quad
        c_t = \\sigma(f) \\odot c_{t-1} + \\sigma(i) \\odot \\tanh(g),\\quad
        h_t = \\sigma(o) \\odot \\tanh(c_t)

    Parameters
    ----------
    x_t : numpy.ndarray, shape (B, D)
        Inputs at this step.
    h_prev : numpy.ndarray, shape (B, H)
        Previous hidden state.
    c_prev : numpy.ndarray, shape (B, H)
        Previous cell state.
    W_ih : numpy.ndarray, shape (4H, D)
        Input weights of the gates i, f, g, o, stacked.
    W_hh : numpy.ndarray, shape (4H, H)
        Recurrent weights, stacked alike.
    b_ih : numpy.ndarray, shape (4H,)
        Input bias.
    b_hh : numpy.ndarray, shape (4H,)
        Recurrent bias.

    Returns
    -------
    h_t : numpy.ndarray, shape (B, H)
        New hidden state.
    c_t : numpy.ndarray, shape (B, H)
        New cell state.
    """
    H = _check(x_t, h_prev, W_ih, W_hh, b_ih, b_hh, 4, "LSTM")
    check_array(c_prev, "c_prev", ("B", "H"), (x_t.shape[0], H))
    check_same_dtype(x_t=x_t, h_prev=h_prev, c_prev=c_prev, W_ih=W_ih, W_hh=W_hh, b_ih=b_ih, b_hh=b_hh)
    a = x_t @ W_ih.T + b_ih + h_prev @ W_hh.T + b_hh          # (B, 4H)
    i, f, g, o = np.split(a, 4, axis=1)
    c_t = sigmoid(f) * c_prev + sigmoid(i) * np.tanh(g)
    return sigmoid(o) * np.tanh(c_t), c_t


def gru_step_forward(x_t, h_prev, W_ih, W_hh, b_ih, b_hh):
    """One GRU step, in PyTorch's convention.

    .. math::

        r = \\sigma(\\cdot),\\ z = \\sigma(\\cdot),\\quad
        n = \\tanh(W_{in} x_t + b_{in} + r \\odot (W_{hn} h_{t-1} + b_{hn})),\\quad
        h_t = (1 - z) \\odot n + z \\odot h_{t-1}

    Parameters
    ----------
    x_t : numpy.ndarray, shape (B, D)
        Inputs at this step.
    h_prev : numpy.ndarray, shape (B, H)
        Previous state.
    W_ih : numpy.ndarray, shape (3H, D)
        Input weights of r, z, n, stacked.
    W_hh : numpy.ndarray, shape (3H, H)
        Recurrent weights, stacked alike.
    b_ih : numpy.ndarray, shape (3H,)
        Input bias.
    b_hh : numpy.ndarray, shape (3H,)
        Recurrent bias.

    Returns
    -------
    numpy.ndarray, shape (B, H)
        The new state.
    """
    _check(x_t, h_prev, W_ih, W_hh, b_ih, b_hh, 3, "GRU")
    check_same_dtype(x_t=x_t, h_prev=h_prev, W_ih=W_ih, W_hh=W_hh, b_ih=b_ih, b_hh=b_hh)
    gi_r, gi_z, gi_n = np.split(x_t @ W_ih.T + b_ih, 3, axis=1)
    gh_r, gh_z, gh_n = np.split(h_prev @ W_hh.T + b_hh, 3, axis=1)
    r, z = sigmoid(gi_r + gh_r), sigmoid(gi_z + gh_z)
    n = np.tanh(gi_n + r * gh_n)
    return (1 - z) * n + z * h_prev
