"""The LSTM and the GRU in NumPy, one step and a whole sequence, forward and backward.

The gate layout is PyTorch's (see :mod:`rnncourse.torch.gated` for the
equations), with the book's names: ``W_xh`` stacks the input weights of the
gates in the order ``i, f, g, o`` (LSTM, shape (4H, D)) or ``r, z, n`` (GRU,
shape (3H, D)), ``W_hh`` the recurrent ones. The LSTM has one bias ``b_h``
(torch's ``bias_ih + bias_hh``: only their sum matters); the GRU keeps two,
``b_xh`` and ``b_hh``, because its reset gate multiplies ``W_hn h + b_hn``.
``LSTMCell.from_torch`` and ``GRUCell.from_torch`` of :mod:`rnncourse.torch.gated`
convert a :class:`torch.nn.LSTMCell` / :class:`torch.nn.GRUCell`; their
``numpy_params()`` gives the arrays these functions take. No torch is imported here.

Like every NumPy forward of the package, a step or a sequence returns ``(out, cache)`` and its
backward takes ``(dout, cache)`` and returns a dict of gradients. The sequence functions
:func:`lstm_forward` / :func:`lstm_backward` and :func:`gru_forward` / :func:`gru_backward` are
backpropagation through time for gated cells: the same step equations, in a loop over time, with
the input part of every step computed in one product (as :func:`rnncourse.numpy.elman.rnn_forward`
does) and the weight gradients summed over time in one product after the loop.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from rnncourse.validation import (check_array, check_cache, check_layer_sizes, check_not_empty, check_same_dtype,
                                  state_hint)

__all__ = ["sigmoid", "LSTMStepCache", "GRUStepCache", "lstm_step_forward", "lstm_step_backward",
           "gru_step_forward", "gru_step_backward", "LSTMCache", "GRUCache", "lstm_forward", "lstm_backward",
           "gru_forward", "gru_backward"]


def sigmoid(a):
    """The logistic function ``1 / (1 + exp(-a))``, without overflow warnings for large ``|a|``.

    Parameters
    ----------
    a : numpy.ndarray
        Pre-activations, any shape.

    Returns
    -------
    numpy.ndarray
        Values in [0, 1], the shape of ``a``.

    Example
    -------
    >>> sigmoid(np.array([0.0]))
    array([0.5])
    """
    e = np.exp(-np.abs(a))
    return np.where(a >= 0, 1 / (1 + e), e / (1 + e))


class LSTMStepCache(NamedTuple):
    """What :func:`lstm_step_backward` needs from :func:`lstm_step_forward`.

    Attributes
    ----------
    x_t : numpy.ndarray, shape (B, D)
        The input of the step.
    h_prev : numpy.ndarray, shape (B, H)
        The hidden state before the step.
    c_prev : numpy.ndarray, shape (B, H)
        The cell state before the step.
    W_xh : numpy.ndarray, shape (4H, D)
        Input-to-hidden weights of the four gates (i, f, g, o).
    W_hh : numpy.ndarray, shape (4H, H)
        Hidden-to-hidden weights of the four gates.
    gates : tuple
        The gates ``(i, f, g, o)`` after their nonlinearities, each of shape (B, H).
    tanh_c : numpy.ndarray, shape (B, H)
        ``tanh(c_t)`` of the new cell state.
    """

    x_t: np.ndarray
    h_prev: np.ndarray
    c_prev: np.ndarray
    W_xh: np.ndarray
    W_hh: np.ndarray
    gates: tuple          # (i, f, g, o) after their nonlinearities, each (B, H)
    tanh_c: np.ndarray    # tanh(c_t)


class GRUStepCache(NamedTuple):
    """What :func:`gru_step_backward` needs from :func:`gru_step_forward`.

    Attributes
    ----------
    x_t : numpy.ndarray, shape (B, D)
        The input of the step.
    h_prev : numpy.ndarray, shape (B, H)
        The state before the step.
    W_xh : numpy.ndarray, shape (3H, D)
        Input-to-hidden weights of r, z and n.
    W_hh : numpy.ndarray, shape (3H, H)
        Hidden-to-hidden weights of r, z and n.
    r : numpy.ndarray, shape (B, H)
        The reset gate.
    z : numpy.ndarray, shape (B, H)
        The update gate.
    n : numpy.ndarray, shape (B, H)
        The candidate state.
    hn : numpy.ndarray, shape (B, H)
        ``W_hn h_prev + b_hn``, the part of the candidate that the reset gate scales.
    """

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
    H = _check_weights(D, W_xh, W_hh, biases, n_gates, cell, "x_t", x_t.shape)
    check_array(h_prev, "h_prev", ("B", "H"), (B, H))
    return H


def _check_weights(D, W_xh, W_hh, biases, n_gates, cell, x_name, x_shape):
    """Validate the stacked weights and biases of a cell with inputs of size D, the last axis of ``x_name`` (of
    shape ``x_shape``); return H. H = 0 or D = 0 is refused, as the torch twins' constructors refuse them."""
    rows = f"{n_gates}H"
    check_array(W_hh, "W_hh", (rows, "H"), finite=False)          # the number of axes first; one scan below
    H = W_hh.shape[1]
    hint = f"the {cell} stacks {n_gates} gates' weights on the first axis, as torch.nn.{cell}Cell does"
    check_array(W_hh, "W_hh", (rows, "H"), (n_gates * H, H), hint=hint)
    check_array(W_xh, "W_xh", (rows, "D"), (n_gates * H, D),
                hint=f"{hint}; D = {D} is the size of the last axis of x (x_t), so check x too")
    for name, b in biases.items():
        check_array(b, name, (rows,), (n_gates * H,))
    check_layer_sizes(x_name, x_shape, {"W_hh": W_hh.shape, "W_xh": W_xh.shape})
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
    h_t, c_t, gates, tanh_c = _lstm_cell(x_t @ W_xh.T + h_prev @ W_hh.T + b_h, c_prev)
    return (h_t, c_t), LSTMStepCache(x_t, h_prev, c_prev, W_xh, W_hh, gates, tanh_c)


def _lstm_cell(a, c_prev):
    """The LSTM's gates and new states from its pre-activations ``a`` (B, 4H); no checks."""
    a_i, a_f, a_g, a_o = np.split(a, 4, axis=1)
    i, f, g, o = sigmoid(a_i), sigmoid(a_f), np.tanh(a_g), sigmoid(a_o)
    c_t = f * c_prev + i * g
    tanh_c = np.tanh(c_t)
    return o * tanh_c, c_t, (i, f, g, o), tanh_c


def _lstm_cell_backward(dh_t, dc_t, c_prev, gates, tanh_c):
    """Gradients of the pre-activations ``a`` (B, 4H) and of ``c_prev`` from ``dh_t``, ``dc_t``; no checks."""
    i, f, g, o = gates
    dc = dh_t * o * (1 - tanh_c * tanh_c)          # h_t = o * tanh(c_t) ...
    if dc_t is not None:
        dc = dc + dc_t                             # ... plus what reaches c_t from the next step
    da = np.concatenate([dc * g * i * (1 - i), dc * c_prev * f * (1 - f),
                         dc * i * (1 - g * g), dh_t * tanh_c * o * (1 - o)], axis=1)     # (B, 4H)
    return da, dc * f


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
    x_t, h_prev, c_prev, W_xh, W_hh, gates, tanh_c = check_cache(cache, LSTMStepCache, "lstm_step_forward", (7,))
    if not isinstance(dstate, (tuple, list)):
        raise TypeError(f"dstate should be a tuple (dh_t, dc_t), like the state (h_t, c_t) of lstm_step_forward, "
                        f"but is {type(dstate).__name__}; pass (dh_t, None) if no gradient reaches c_t")
    if len(dstate) != 2:
        raise ValueError(f"dstate should be a pair (dh_t, dc_t), but holds {len(dstate)} items")
    dh_t, dc_t = dstate
    check_array(dh_t, "dh_t", ("B", "H"), h_prev.shape, hint="dh_t has the shape of h_t")
    check_same_dtype(dh_t=dh_t, h_prev=h_prev)
    if dc_t is not None:
        check_array(dc_t, "dc_t", ("B", "H"), h_prev.shape, hint="dc_t has the shape of c_t")
        check_same_dtype(dc_t=dc_t, h_prev=h_prev)
    da, dc_prev = _lstm_cell_backward(dh_t, dc_t, c_prev, gates, tanh_c)
    return {"x_t": da @ W_xh, "h_prev": da @ W_hh, "c_prev": dc_prev,
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
    h_t, r, z, n, h_n = _gru_cell(x_t @ W_xh.T + b_xh, h_prev @ W_hh.T + b_hh, h_prev)
    return h_t, GRUStepCache(x_t, h_prev, W_xh, W_hh, r, z, n, h_n)


def _gru_cell(ax, ah, h_prev):
    """The GRU's new state from its input part ``ax`` and recurrent part ``ah`` (B, 3H each); no checks."""
    a_r, a_z, a_n = np.split(ax, 3, axis=1)
    h_r, h_z, h_n = np.split(ah, 3, axis=1)
    r, z = sigmoid(a_r + h_r), sigmoid(a_z + h_z)
    n = np.tanh(a_n + r * h_n)
    return (1 - z) * n + z * h_prev, r, z, n, h_n


def _gru_cell_backward(dh_t, h_prev, r, z, n, h_n):
    """Gradients of the input part (B, 3H), of the recurrent part (B, 3H), and of ``h_prev`` directly; no checks."""
    da_n = dh_t * (1 - z) * (1 - n * n)
    da_r = da_n * h_n * r * (1 - r)
    da_z = dh_t * (h_prev - n) * z * (1 - z)
    da = np.concatenate([da_r, da_z, da_n], axis=1)              # (B, 3H), into W_xh x_t + b_xh
    dh = np.concatenate([da_r, da_z, da_n * r], axis=1)          # (B, 3H), into W_hh h_prev + b_hh
    return da, dh, dh_t * z


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
    x_t, h_prev, W_xh, W_hh, r, z, n, h_n = check_cache(cache, GRUStepCache, "gru_step_forward", (8,))
    check_array(dh_t, "dh_t", ("B", "H"), h_prev.shape, hint="dh_t has the shape of h_t")
    check_same_dtype(dh_t=dh_t, h_prev=h_prev)
    da, dh, dh_direct = _gru_cell_backward(dh_t, h_prev, r, z, n, h_n)
    return {"x_t": da @ W_xh, "h_prev": dh_direct + dh @ W_hh,
            "W_xh": da.T @ x_t, "W_hh": dh.T @ h_prev, "b_xh": da.sum(axis=0), "b_hh": dh.sum(axis=0)}


# ----------------------------------------------------------------------------- a sequence

class LSTMCache(NamedTuple):
    """What :func:`lstm_backward` needs from :func:`lstm_forward`.

    Attributes
    ----------
    x : numpy.ndarray, shape (T, B, D)
        The input sequence, time-major.
    h0 : numpy.ndarray, shape (B, H)
        The hidden state before the first step.
    c0 : numpy.ndarray, shape (B, H)
        The cell state before the first step.
    W_xh : numpy.ndarray, shape (4H, D)
        Input weights of the gates i, f, g, o, stacked in that order.
    W_hh : numpy.ndarray, shape (4H, H)
        Recurrent weights of the gates, stacked the same way.
    hs : numpy.ndarray, shape (T, B, H)
        The hidden states ``h_1 ... h_T`` (read-only).
    cs : numpy.ndarray, shape (T, B, H)
        The cell states ``c_1 ... c_T`` (read-only).
    gates : numpy.ndarray, shape (T, B, 4H)
        ``i, f, g, o`` of every step after their nonlinearities, side by side.
    """

    x: np.ndarray
    h0: np.ndarray
    c0: np.ndarray
    W_xh: np.ndarray
    W_hh: np.ndarray
    hs: np.ndarray
    cs: np.ndarray
    gates: np.ndarray


class GRUCache(NamedTuple):
    """What :func:`gru_backward` needs from :func:`gru_forward`.

    Attributes
    ----------
    x : numpy.ndarray, shape (T, B, D)
        The input sequence, time-major.
    h0 : numpy.ndarray, shape (B, H)
        The state before the first step.
    W_xh : numpy.ndarray, shape (3H, D)
        Input weights of the gates r, z, n, stacked in that order.
    W_hh : numpy.ndarray, shape (3H, H)
        Recurrent weights of the gates, stacked the same way.
    hs : numpy.ndarray, shape (T, B, H)
        The states ``h_1 ... h_T`` (read-only).
    gates : numpy.ndarray, shape (T, B, 3H)
        ``r, z, n`` of every step after their nonlinearities, side by side.
    h_ns : numpy.ndarray, shape (T, B, H)
        The recurrent part of the candidate, ``W_hn h_{t-1} + b_hn``, that ``r`` multiplies.
    """

    x: np.ndarray
    h0: np.ndarray
    W_xh: np.ndarray
    W_hh: np.ndarray
    hs: np.ndarray
    gates: np.ndarray
    h_ns: np.ndarray


def _check_sequence(x, states, W_xh, W_hh, biases, n_gates, cell):
    """Validate a sequence's arrays once; return T, B, D, H and the initial states (zeros for None)."""
    check_array(x, "x", ("T", "B", "D"), hint="x is time-major; for batch-first data pass x.transpose(1, 0, 2)")
    T, B, D = x.shape
    check_not_empty(x, "x")
    H = _check_weights(D, W_xh, W_hh, biases, n_gates, cell, "x", x.shape)
    filled = {}
    for name, s in states.items():
        if s is None:
            s = np.zeros((B, H), dtype=x.dtype)
        advice = state_hint(s, name, T, B)
        check_array(s, name, ("B", "H"), (B, H),
                    hint=f"{name} is the state before the first step" + (f"; {advice}" if advice else ""))
        filled[name] = s
    check_same_dtype(x=x, W_xh=W_xh, W_hh=W_hh, **biases, **filled)
    return T, B, D, H, filled


def lstm_forward(x, h0, c0, W_xh, W_hh, b_h):
    """Run the LSTM over a whole (time-major) sequence: :func:`lstm_step_forward` in a loop.

    Equal to :class:`torch.nn.LSTM` (one layer) with ``weight_ih_l0 = W_xh``,
    ``weight_hh_l0 = W_hh`` and ``bias_ih_l0 + bias_hh_l0 = b_h``.

    Parameters
    ----------
    x : numpy.ndarray, shape (T, B, D)
        Input sequence, time-major.
    h0, c0 : numpy.ndarray, shape (B, H), or None
        Initial hidden and cell states; ``None`` means zeros.
    W_xh : numpy.ndarray, shape (4H, D)
        Input weights of the gates i, f, g, o, stacked.
    W_hh : numpy.ndarray, shape (4H, H)
        Recurrent weights, stacked alike.
    b_h : numpy.ndarray, shape (4H,)
        Bias.

    Returns
    -------
    hs : numpy.ndarray, shape (T, B, H), read-only
        Every hidden state; ``hs[-1]`` is ``h_T`` (the cell states are ``cache.cs``).
    cache : LSTMCache
        What :func:`lstm_backward` needs.
    """
    T, B, D, H, s = _check_sequence(x, {"h0": h0, "c0": c0}, W_xh, W_hh, {"b_h": b_h}, 4, "LSTM")
    A = (x.reshape(T * B, D) @ W_xh.T).reshape(T, B, 4 * H) + b_h     # input part of every step
    hs, cs, gates = np.empty((T, B, H), x.dtype), np.empty((T, B, H), x.dtype), np.empty((T, B, 4 * H), x.dtype)
    h, c = s["h0"], s["c0"]
    for t in range(T):
        h, c, (i, f, g, o), _ = _lstm_cell(A[t] + h @ W_hh.T, c)
        hs[t], cs[t], gates[t] = h, c, np.concatenate([i, f, g, o], axis=1)
    hs.flags.writeable = cs.flags.writeable = False
    return hs, LSTMCache(x, s["h0"], s["c0"], W_xh, W_hh, hs, cs, gates)


def _final_gradient(g, name, final):
    """The gradient ``g`` reaching a final state from outside the sequence, checked against that
    state ``final`` (B, H), as a new array; zeros for ``None``."""
    if g is None:
        return np.zeros_like(final)
    check_array(g, name, ("B", "H"), final.shape, hint=f"{name} has the shape of the final state")
    check_same_dtype(**{name: g, "the final state": final})
    return g.copy()


def lstm_backward(dhs, cache, dh_T=None, dc_T=None):
    """Backpropagation through time for :func:`lstm_forward`.

    Walking backwards from ``t = T`` with ``dh = dh_T`` and ``dc = dc_T`` (zeros by default):
    the gradient reaching ``h_t`` is
    ``dhs[t]`` plus what step ``t + 1`` sends back through ``W_hh``; the gradient reaching
    ``c_t`` is what step ``t + 1`` sends back along the cell state, ``dc_{t+1} * f_{t+1}``
    (the additive path). Each step is :func:`lstm_step_backward`'s arithmetic; the weight
    gradients are summed over time after the loop.

    Parameters
    ----------
    dhs : numpy.ndarray, shape (T, B, H)
        Gradient of the loss with respect to each hidden state, directly from the loss.
    cache : LSTMCache
        From :func:`lstm_forward`.
    dh_T, dc_T : numpy.ndarray, shape (B, H), or None
        Gradients flowing into the final states ``h_T`` and ``c_T`` from outside the
        sequence (e.g. from a later chunk, as in :func:`rnncourse.numpy.elman.rnn_backward`);
        ``None`` means zero.

    Returns
    -------
    dict
        ``"x"`` (T, B, D), ``"h0"`` (B, H), ``"c0"`` (B, H), ``"W_xh"`` (4H, D),
        ``"W_hh"`` (4H, H), ``"b_h"`` (4H,).
    """
    x, h0, c0, W_xh, W_hh, hs, cs, gates = check_cache(cache, LSTMCache, "lstm_forward", (8,))
    check_array(dhs, "dhs", ("T", "B", "H"), hs.shape, hint="dhs has the shape of the hidden states hs")
    check_same_dtype(dhs=dhs, hs=hs)
    T, B, D = x.shape
    dA = np.empty_like(gates)                                          # (T, B, 4H)
    dh, dc = _final_gradient(dh_T, "dh_T", hs[-1]), _final_gradient(dc_T, "dc_T", cs[-1])
    for t in reversed(range(T)):
        c_prev = cs[t - 1] if t > 0 else c0
        dA[t], dc = _lstm_cell_backward(dhs[t] + dh, dc, c_prev, np.split(gates[t], 4, axis=1), np.tanh(cs[t]))
        dh = dA[t] @ W_hh
    h_prevs = np.concatenate([h0[None], hs[:-1]]).reshape(T * B, -1)   # the state entering each step
    dA2 = dA.reshape(T * B, -1)
    return {"x": (dA2 @ W_xh).reshape(T, B, D), "h0": dh, "c0": dc,
            "W_xh": dA2.T @ x.reshape(T * B, D), "W_hh": dA2.T @ h_prevs, "b_h": dA2.sum(axis=0)}


def gru_forward(x, h0, W_xh, W_hh, b_xh, b_hh):
    """Run the GRU over a whole (time-major) sequence: :func:`gru_step_forward` in a loop.

    Equal to :class:`torch.nn.GRU` (one layer) with ``weight_ih_l0 = W_xh``,
    ``weight_hh_l0 = W_hh``, ``bias_ih_l0 = b_xh`` and ``bias_hh_l0 = b_hh``.

    Parameters
    ----------
    x : numpy.ndarray, shape (T, B, D)
        Input sequence, time-major.
    h0 : numpy.ndarray, shape (B, H), or None
        Initial state; ``None`` means zeros.
    W_xh : numpy.ndarray, shape (3H, D)
        Input weights of r, z, n, stacked.
    W_hh : numpy.ndarray, shape (3H, H)
        Recurrent weights, stacked alike.
    b_xh, b_hh : numpy.ndarray, shape (3H,)
        Input and recurrent biases.

    Returns
    -------
    hs : numpy.ndarray, shape (T, B, H), read-only
        Every state; ``hs[-1]`` is ``h_T``.
    cache : GRUCache
        What :func:`gru_backward` needs.
    """
    T, B, D, H, s = _check_sequence(x, {"h0": h0}, W_xh, W_hh, {"b_xh": b_xh, "b_hh": b_hh}, 3, "GRU")
    AX = (x.reshape(T * B, D) @ W_xh.T).reshape(T, B, 3 * H) + b_xh    # input part of every step
    hs, gates, h_ns = np.empty((T, B, H), x.dtype), np.empty((T, B, 3 * H), x.dtype), np.empty((T, B, H), x.dtype)
    h = s["h0"]
    for t in range(T):
        h, r, z, n, h_ns[t] = _gru_cell(AX[t], h @ W_hh.T + b_hh, h)
        hs[t], gates[t] = h, np.concatenate([r, z, n], axis=1)
    hs.flags.writeable = False
    return hs, GRUCache(x, s["h0"], W_xh, W_hh, hs, gates, h_ns)


def gru_backward(dhs, cache, dh_T=None):
    """Backpropagation through time for :func:`gru_forward`.

    Walking backwards from ``t = T``, with ``dh = dh_T`` (zeros by default): the gradient reaching ``h_t`` is ``dhs[t]`` plus what step
    ``t + 1`` sends back, directly through ``z_{t+1} * h_t`` (the additive path) and through
    ``W_hh``. Each step is :func:`gru_step_backward`'s arithmetic; the weight gradients are
    summed over time after the loop.

    Parameters
    ----------
    dhs : numpy.ndarray, shape (T, B, H)
        Gradient of the loss with respect to each state, directly from the loss.
    cache : GRUCache
        From :func:`gru_forward`.
    dh_T : numpy.ndarray, shape (B, H), or None
        Gradient flowing into the final state ``h_T`` from outside the sequence; ``None``
        means zero.

    Returns
    -------
    dict
        ``"x"`` (T, B, D), ``"h0"`` (B, H), ``"W_xh"`` (3H, D), ``"W_hh"`` (3H, H),
        ``"b_xh"`` (3H,), ``"b_hh"`` (3H,).
    """
    x, h0, W_xh, W_hh, hs, gates, h_ns = check_cache(cache, GRUCache, "gru_forward", (7,))
    check_array(dhs, "dhs", ("T", "B", "H"), hs.shape, hint="dhs has the shape of the hidden states hs")
    check_same_dtype(dhs=dhs, hs=hs)
    T, B, D = x.shape
    dAX, dAH = np.empty_like(gates), np.empty_like(gates)             # (T, B, 3H) each
    dh = _final_gradient(dh_T, "dh_T", hs[-1])
    for t in reversed(range(T)):
        h_prev = hs[t - 1] if t > 0 else h0
        r, z, n = np.split(gates[t], 3, axis=1)
        dAX[t], dAH[t], dh_direct = _gru_cell_backward(dhs[t] + dh, h_prev, r, z, n, h_ns[t])
        dh = dh_direct + dAH[t] @ W_hh
    h_prevs = np.concatenate([h0[None], hs[:-1]]).reshape(T * B, -1)
    dAX2, dAH2 = dAX.reshape(T * B, -1), dAH.reshape(T * B, -1)
    return {"x": (dAX2 @ W_xh).reshape(T, B, D), "h0": dh, "W_xh": dAX2.T @ x.reshape(T * B, D),
            "W_hh": dAH2.T @ h_prevs, "b_xh": dAX2.sum(axis=0), "b_hh": dAH2.sum(axis=0)}
