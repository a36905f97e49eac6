"""One step of the LSTM and of the GRU in NumPy, forward and backward: the teaching versions.

The gate layout is PyTorch's (see :mod:`rnncourse.torch.gated` for the
equations), with the book's names: ``W_xh`` stacks the input weights of the
gates in the order ``i, f, g, o`` (LSTM, shape (4H, D)) or ``r, z, n`` (GRU,
shape (3H, D)), ``W_hh`` the recurrent ones. The LSTM has one bias ``b_h``
(torch's ``bias_ih + bias_hh``: only their sum matters); the GRU keeps two,
``b_xh`` and ``b_hh``, because its reset gate multiplies ``W_hn h + b_hn``.
:meth:`rnncourse.torch.gated.LSTMCell.from_torch` and ``GRUCell.from_torch``
convert a :class:`torch.nn.LSTMCell` / :class:`torch.nn.GRUCell`; their
``numpy_params()`` gives the arrays these functions take. No torch is imported here.

Like every NumPy forward of the package, a step returns ``(out, cache)`` and its
backward takes ``(dout, cache)`` and returns a dict of gradients.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from rnncourse.validation import check_array, check_same_dtype

__all__ = ["sigmoid", "LSTMStepCache", "GRUStepCache", "lstm_step_forward", "lstm_step_backward",
           "gru_step_forward", "gru_step_backward"]


def sigmoid(a):
    """The logistic function ``1 / (1 + exp(-a))``, without overflow warnings for large ``|a|``.

    Example
    -------
    >>> sigmoid(np.array([0.0]))
    array([0.5])
    """
    e = np.exp(-np.abs(a))
    return np.where(a >= 0, 1 / (1 + e), e / (1 + e))


class LSTMStepCache(NamedTuple):
    """What :func:`lstm_step_backward` needs from :func:`lstm_step_forward`."""

    x_t: np.ndarray
    h_prev: np.ndarray
    c_prev: np.ndarray
    W_xh: np.ndarray
    W_hh: np.ndarray
    gates: tuple          # (i, f, g, o) after their nonlinearities, each (B, H)
    tanh_c: np.ndarray    # tanh(c_t)


class GRUStepCache(NamedTuple):
    """What :func:`gru_step_backward` needs from :func:`gru_step_forward`."""

    x_t: np.ndarray
    h_prev: np.ndarray
    W_xh: np.ndarray
    W_hh: np.ndarray
    r: np.ndarray
    z: np.ndarray
    n: np.ndarray
    hn: np.ndarray        # W_hn h_prev + b_hn, the part the reset gate scales


def _check(x_t, h_prev, W_xh, W_hh, biases, n_gates, cell):
    """Validate one step's arrays against each other; return H."""
    check_array(x_t, "x_t", ("B", "D"), hint="x_t is one time step of shape (B, D)")
    B, D = x_t.shape
    rows = f"{n_gates}H"
    check_array(W_hh, "W_hh", (rows, "H"), finite=False)          # the number of axes first; one scan below
    H = W_hh.shape[1]
    hint = f"the {cell} stacks {n_gates} gates' weights on the first axis, as torch.nn.{cell}Cell does"
    check_array(W_hh, "W_hh", (rows, "H"), (n_gates * H, H), hint=hint)
    check_array(W_xh, "W_xh", (rows, "D"), (n_gates * H, D), hint=hint)
    for name, b in biases.items():
        check_array(b, name, (rows,), (n_gates * H,))
    check_array(h_prev, "h_prev", ("B", "H"), (B, H))
    return H


def lstm_step_forward(x_t, h_prev, c_prev, W_xh, W_hh, b_h):
    """One LSTM step: four gates from ``x_t`` and ``h_prev``, then the additive cell-state update.

    .. math::

        [a_i; a_f; a_g; a_o] = W_{xh} x_t + W_{hh} h_{t-1} + b_h,\\quad
        c_t = \\sigma(a_f) \\odot c_{t-1} + \\sigma(a_i) \\odot \\tanh(a_g),\\quad
        h_t = \\sigma(a_o) \\odot \\tanh(c_t)

    Parameters
    ----------
    x_t : numpy.ndarray, shape (B, D)
        Inputs at this step.
    h_prev : numpy.ndarray, shape (B, H)
        Previous hidden state.
    c_prev : numpy.ndarray, shape (B, H)
        Previous cell state.
    W_xh : numpy.ndarray, shape (4H, D)
        Input weights of the gates i, f, g, o, stacked (torch's ``weight_ih``).
    W_hh : numpy.ndarray, shape (4H, H)
        Recurrent weights, stacked alike (torch's ``weight_hh``).
    b_h : numpy.ndarray, shape (4H,)
        Bias (torch's ``bias_ih + bias_hh``).

    Returns
    -------
    state : tuple
        ``(h_t, c_t)``, the new hidden and cell states, each (B, H).
    cache : LSTMStepCache
        What :func:`lstm_step_backward` needs.

    Example
    -------
    >>> (h_t, c_t), cache = lstm_step_forward(np.ones((2, 3)), np.zeros((2, 4)), np.zeros((2, 4)),
    ...                                       np.zeros((16, 3)), np.zeros((16, 4)), np.zeros(16))
    >>> h_t.shape, c_t.shape
    ((2, 4), (2, 4))
    """
    H = _check(x_t, h_prev, W_xh, W_hh, {"b_h": b_h}, 4, "LSTM")
    check_array(c_prev, "c_prev", ("B", "H"), (x_t.shape[0], H))
    check_same_dtype(x_t=x_t, h_prev=h_prev, c_prev=c_prev, W_xh=W_xh, W_hh=W_hh, b_h=b_h)
    a = x_t @ W_xh.T + h_prev @ W_hh.T + b_h                      # (B, 4H)
    a_i, a_f, a_g, a_o = np.split(a, 4, axis=1)
    i, f, g, o = sigmoid(a_i), sigmoid(a_f), np.tanh(a_g), sigmoid(a_o)
    c_t = f * c_prev + i * g
    tanh_c = np.tanh(c_t)
    h_t = o * tanh_c
    return (h_t, c_t), LSTMStepCache(x_t, h_prev, c_prev, W_xh, W_hh, (i, f, g, o), tanh_c)


def lstm_step_backward(dstate, cache):
    """Backward pass of one LSTM step.

    .. math::

        dc = dc_t + dh_t \\odot o \\odot (1 - \\tanh^2 c_t),\\quad
        da = [dc \\odot g \\odot i(1-i);\\ dc \\odot c_{t-1} \\odot f(1-f);\\
        dc \\odot i \\odot (1-g^2);\\ dh_t \\odot \\tanh c_t \\odot o(1-o)]

    then ``dx_t = da W_xh``, ``dh_prev = da W_hh``, ``dc_prev = dc * f``,
    ``dW_xh = da^T x_t``, ``dW_hh = da^T h_prev``, ``db_h = sum_b da``.

    Parameters
    ----------
    dstate : tuple
        ``(dh_t, dc_t)``, gradients of the loss with respect to ``h_t`` and ``c_t``,
        each (B, H); ``dc_t`` may be ``None`` (zero).
    cache : LSTMStepCache
        From :func:`lstm_step_forward`.

    Returns
    -------
    dict
        ``"x_t"`` (B, D), ``"h_prev"`` (B, H), ``"c_prev"`` (B, H), ``"W_xh"`` (4H, D),
        ``"W_hh"`` (4H, H), ``"b_h"`` (4H,).
    """
    x_t, h_prev, c_prev, W_xh, W_hh, (i, f, g, o), tanh_c = cache
    dh_t, dc_t = dstate
    check_array(dh_t, "dh_t", ("B", "H"), h_prev.shape, hint="dh_t has the shape of h_t")
    dc = dh_t * o * (1 - tanh_c * tanh_c)
    if dc_t is not None:
        check_array(dc_t, "dc_t", ("B", "H"), h_prev.shape, hint="dc_t has the shape of c_t")
        dc = dc + dc_t
    da = np.concatenate([dc * g * i * (1 - i), dc * c_prev * f * (1 - f),
                         dc * i * (1 - g * g), dh_t * tanh_c * o * (1 - o)], axis=1)     # (B, 4H)
    return {"x_t": da @ W_xh, "h_prev": da @ W_hh, "c_prev": dc * f,
            "W_xh": da.T @ x_t, "W_hh": da.T @ h_prev, "b_h": da.sum(axis=0)}


def gru_step_forward(x_t, h_prev, W_xh, W_hh, b_xh, b_hh):
    """One GRU step, in PyTorch's convention.

    .. math::

        [a_r; a_z; a_n] = W_{xh} x_t + b_{xh},\\quad [h_r; h_z; h_n] = W_{hh} h_{t-1} + b_{hh},

        r = \\sigma(a_r + h_r),\\ z = \\sigma(a_z + h_z),\\quad
        n = \\tanh(a_n + r \\odot h_n),\\quad h_t = (1 - z) \\odot n + z \\odot h_{t-1}

    Parameters
    ----------
    x_t : numpy.ndarray, shape (B, D)
        Inputs at this step.
    h_prev : numpy.ndarray, shape (B, H)
        Previous state.
    W_xh : numpy.ndarray, shape (3H, D)
        Input weights of r, z, n, stacked (torch's ``weight_ih``).
    W_hh : numpy.ndarray, shape (3H, H)
        Recurrent weights, stacked alike (torch's ``weight_hh``).
    b_xh : numpy.ndarray, shape (3H,)
        Input bias (torch's ``bias_ih``).
    b_hh : numpy.ndarray, shape (3H,)
        Recurrent bias (torch's ``bias_hh``; its n-part is scaled by ``r``).

    Returns
    -------
    h_t : numpy.ndarray, shape (B, H)
        The new state.
    cache : GRUStepCache
        What :func:`gru_step_backward` needs.
    """
    _check(x_t, h_prev, W_xh, W_hh, {"b_xh": b_xh, "b_hh": b_hh}, 3, "GRU")
    check_same_dtype(x_t=x_t, h_prev=h_prev, W_xh=W_xh, W_hh=W_hh, b_xh=b_xh, b_hh=b_hh)
    a_r, a_z, a_n = np.split(x_t @ W_xh.T + b_xh, 3, axis=1)
    h_r, h_z, h_n = np.split(h_prev @ W_hh.T + b_hh, 3, axis=1)
    r, z = sigmoid(a_r + h_r), sigmoid(a_z + h_z)
    n = np.tanh(a_n + r * h_n)
    h_t = (1 - z) * n + z * h_prev
    return h_t, GRUStepCache(x_t, h_prev, W_xh, W_hh, r, z, n, h_n)


def gru_step_backward(dh_t, cache):
    """Backward pass of one GRU step.

    .. math::

        dn = dh_t (1 - z),\\ dz = dh_t (h_{t-1} - n),\\ da_n = dn (1 - n^2),\\ dr = da_n h_n,

        da = [dr\\, r(1-r);\\ dz\\, z(1-z);\\ da_n],\\quad dh = [dr\\, r(1-r);\\ dz\\, z(1-z);\\ da_n r]

    then ``dx_t = da W_xh``, ``dh_prev = dh_t z + dh W_hh``, ``dW_xh = da^T x_t``,
    ``dW_hh = dh^T h_prev``, ``db_xh = sum_b da``, ``db_hh = sum_b dh``.

    Parameters
    ----------
    dh_t : numpy.ndarray, shape (B, H)
        Gradient of the loss with respect to ``h_t``.
    cache : GRUStepCache
        From :func:`gru_step_forward`.

    Returns
    -------
    dict
        ``"x_t"`` (B, D), ``"h_prev"`` (B, H), ``"W_xh"`` (3H, D), ``"W_hh"`` (3H, H),
        ``"b_xh"`` (3H,), ``"b_hh"`` (3H,).
    """
    x_t, h_prev, W_xh, W_hh, r, z, n, h_n = cache
    check_array(dh_t, "dh_t", ("B", "H"), h_prev.shape, hint="dh_t has the shape of h_t")
    da_n = dh_t * (1 - z) * (1 - n * n)
    da_r = da_n * h_n * r * (1 - r)
    da_z = dh_t * (h_prev - n) * z * (1 - z)
    da = np.concatenate([da_r, da_z, da_n], axis=1)              # (B, 3H), into W_xh x_t + b_xh
    dh = np.concatenate([da_r, da_z, da_n * r], axis=1)          # (B, 3H), into W_hh h_prev + b_hh
    return {"x_t": da @ W_xh, "h_prev": dh_t * z + dh @ W_hh,
            "W_xh": da.T @ x_t, "W_hh": dh.T @ h_prev, "b_xh": da.sum(axis=0), "b_hh": dh.sum(axis=0)}
