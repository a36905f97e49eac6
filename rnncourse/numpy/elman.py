"""The Elman recurrent layer in NumPy: forward pass and backpropagation through time.

The recurrence, for time steps ``t = 1 .. T``:

.. math::

    a_t = x_t W_{xh}^\\top + h_{t-1} W_{hh}^\\top + b_h, \\qquad h_t = f(a_t)

with ``f`` = tanh or ReLU. Shapes use the book's letters: ``T`` time steps,
``B`` batch, ``D`` input size, ``H`` hidden size. Sequences are time-major,
``x`` has shape ``(T, B, D)``, like :class:`torch.nn.RNN`'s default. The weights
are stored like PyTorch's: ``W_xh`` (H, D) is ``weight_ih_l0`` and ``W_hh``
(H, H) is ``weight_hh_l0``; ``b_h`` is ``bias_ih_l0 + bias_hh_l0``.

Every array must be floating point (float32 or float64, one dtype for all);
outputs and gradients have that dtype. Like every NumPy forward of the package,
:func:`rnn_step_forward` and :func:`rnn_forward` return ``(out, cache)``, and the
matching backward takes ``(dout, cache)`` and returns a dict of gradients.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from rnncourse.validation import (check_array, check_cache, check_choice, check_layer_sizes, check_not_empty,
                                  check_same_dtype, state_hint)

__all__ = ["StepCache", "RNNCache", "activate", "derivative", "rnn_step_forward", "rnn_step_backward",
           "rnn_forward", "rnn_backward"]

NONLINEARITIES = ("tanh", "relu")
X_HINT = ("x is time-major (T, B, D); if your data is (B, T, D), pass x.transpose(1, 0, 2); "
          "a single sequence of shape (T, D) becomes x[:, None, :]")


class StepCache(NamedTuple):
    """What :func:`rnn_step_backward` needs from one forward step (returned by :func:`rnn_step_forward`).

    Attributes
    ----------
    x_t : numpy.ndarray, shape (B, D)
        The input of the step.
    h_prev : numpy.ndarray, shape (B, H)
        The state before the step, ``h_{t-1}``.
    W_xh : numpy.ndarray, shape (H, D)
        Input-to-hidden weights.
    W_hh : numpy.ndarray, shape (H, H)
        Hidden-to-hidden weights.
    h_t : numpy.ndarray, shape (B, H)
        The new state, from which the backward pass reads ``f'(a_t)``.
    nonlinearity : str
        ``"tanh"`` or ``"relu"``, the ``f`` of the step.
    """

    x_t: np.ndarray
    h_prev: np.ndarray
    W_xh: np.ndarray
    W_hh: np.ndarray
    h_t: np.ndarray
    nonlinearity: str = "tanh"


class RNNCache(NamedTuple):
    """What :func:`rnn_backward` needs from :func:`rnn_forward`.

    Attributes
    ----------
    x : numpy.ndarray, shape (T, B, D)
        The input sequence, time-major.
    h0 : numpy.ndarray, shape (B, H)
        The state before the first step.
    W_xh : numpy.ndarray, shape (H, D)
        Input-to-hidden weights.
    W_hh : numpy.ndarray, shape (H, H)
        Hidden-to-hidden weights.
    hs : numpy.ndarray, shape (T, B, H)
        Every hidden state, read-only: ``hs[t]`` is the state after step ``t``.
    nonlinearity : str
        ``"tanh"`` or ``"relu"``, the ``f`` of every step.
    """

    x: np.ndarray
    h0: np.ndarray
    W_xh: np.ndarray
    W_hh: np.ndarray
    hs: np.ndarray
    nonlinearity: str


# ----------------------------------------------------------------------------- validation

def _check_weights(W_xh, W_hh, b_h, x_name, x_shape):
    """Validate the three parameters against the input size ``D``, the last axis of ``x_name`` (of shape
    ``x_shape``); return ``H``. H = 0 or D = 0 is refused, as the torch twin's constructor refuses them."""
    D = x_shape[-1]
    check_array(W_hh, "W_hh", ("H", "H"), finite=False)     # the number of axes first; one scan below
    H = W_hh.shape[0]
    check_array(W_hh, "W_hh", ("H", "H"), (H, H), hint="W_hh maps the hidden state to itself, so it is square")
    check_array(W_xh, "W_xh", ("H", "D"), (H, D),
                hint=f"W_xh has shape (hidden_size, input_size), like torch's weight_ih_l0; D = {D} is "
                     f"the size of the last axis of x (x_t), so check that x is time-major (T, B, D)")
    check_array(b_h, "b_h", ("H",), (H,))
    check_layer_sizes(x_name, x_shape, {"W_hh": W_hh.shape, "W_xh": W_xh.shape, "b_h": b_h.shape})
    return H


def _check_state(h, name, B, H, source, T=None):
    """Validate a hidden state of shape (B, H); ``source`` says where B comes from (``T``: x's first axis)."""
    hint = f"B comes from {source} and H from W_hh"
    advice = state_hint(h, name, T, B)
    check_array(h, name, ("B", "H"), (B, H), hint=f"{hint}; {advice}" if advice else hint)


def _check_step(x_t, h_prev, W_xh, W_hh, b_h, nonlinearity):
    """Validate the inputs of :func:`rnn_step_forward`: shapes, nonlinearity and one dtype."""
    check_array(x_t, "x_t", ("B", "D"),
                hint="x_t is one time step of shape (B, D); for a whole sequence (T, B, D) use rnn_forward")
    B, D = x_t.shape
    H = _check_weights(W_xh, W_hh, b_h, "x_t", x_t.shape)
    _check_state(h_prev, "h_prev", B, H, "x_t")
    check_choice(nonlinearity, "nonlinearity", NONLINEARITIES)
    check_same_dtype(x_t=x_t, h_prev=h_prev, W_xh=W_xh, W_hh=W_hh, b_h=b_h)


def _check_sequence_inputs(x, h0, W_xh, W_hh, b_h, nonlinearity):
    check_array(x, "x", ("T", "B", "D"), hint=X_HINT)
    T, B, D = x.shape
    check_not_empty(x, "x", hint=X_HINT)
    H = _check_weights(W_xh, W_hh, b_h, "x", x.shape)
    if h0 is not None:
        _check_state(h0, "h0", B, H, "x", T)
    check_choice(nonlinearity, "nonlinearity", NONLINEARITIES)
    arrays = dict(x=x, W_xh=W_xh, W_hh=W_hh, b_h=b_h)
    if h0 is not None:
        arrays["h0"] = h0
    check_same_dtype(**arrays)
    return T, B, D, H


# ----------------------------------------------------------------------------- helpers

def activate(a, nonlinearity, out=None):
    """``f(a)``, written into ``out`` when given.

    Parameters
    ----------
    a : numpy.ndarray
        Pre-activations, any shape, e.g. ``a_t`` (B, H).
    nonlinearity : str
        ``"tanh"`` or ``"relu"``; any other value is a ``ValueError`` (a ``TypeError`` if it is no string).
    out : numpy.ndarray, optional
        An array of ``a``'s shape to write into; ``a`` itself computes in place.

    Returns
    -------
    numpy.ndarray
        ``f(a)``, the shape of ``a`` (``out`` when given).
    """
    if nonlinearity == "tanh":
        return np.tanh(a, out=out)
    if nonlinearity == "relu":
        return np.maximum(a, 0, out=out)
    check_choice(nonlinearity, "nonlinearity", NONLINEARITIES)     # raises: reached only by another value


def derivative(h, nonlinearity):
    """``f'(a)`` written in terms of the output ``h = f(a)``: 1 - h**2 for tanh, [h > 0] for ReLU, 1 for linear.

    ``"linear"`` (``f(a) = a``) is not a choice of the Elman functions here; :mod:`rnncourse.numpy.jacobian`
    uses it to show the bare ``W_hh`` products.

    Parameters
    ----------
    h : numpy.ndarray
        Outputs ``h = f(a)``, any shape, e.g. ``h_t`` (B, H).
    nonlinearity : str
        ``"tanh"``, ``"relu"`` or ``"linear"``; any other value is a ``ValueError`` (a ``TypeError`` if it
        is no string).

    Returns
    -------
    numpy.ndarray
        ``f'(a)``, the shape and dtype of ``h``.
    """
    if nonlinearity == "tanh":
        d = h * h
        return np.subtract(1, d, out=d)            # 1 - h*h without a second temporary array
    if nonlinearity == "relu":
        return (h > 0).astype(h.dtype)
    if nonlinearity == "linear":
        return np.ones_like(h)
    check_choice(nonlinearity, "nonlinearity", NONLINEARITIES + ("linear",))    # raises: another value


# ----------------------------------------------------------------------------- one step

def rnn_step_forward(x_t, h_prev, W_xh, W_hh, b_h, nonlinearity="tanh"):
    """One step of the Elman recurrence, ``h_t = f(x_t W_xh^T + h_prev W_hh^T + b_h)``.

    The teaching version of one step; :func:`rnn_forward` runs a whole sequence.
    To backpropagate through it, pass its cache to :func:`rnn_step_backward`.

    Parameters
    ----------
    x_t : numpy.ndarray, shape (B, D)
        Inputs at this time step, one row per sequence in the batch.
    h_prev : numpy.ndarray, shape (B, H)
        Previous hidden state.
    W_xh : numpy.ndarray, shape (H, D)
        Input-to-hidden weights.
    W_hh : numpy.ndarray, shape (H, H)
        Hidden-to-hidden weights.
    b_h : numpy.ndarray, shape (H,)
        Hidden bias.
    nonlinearity : str
        ``"tanh"`` (default) or ``"relu"``.

    Returns
    -------
    h_t : numpy.ndarray, shape (B, H), read-only
        The new hidden state. Read-only because the cache holds it too and
        :func:`rnn_step_backward` reads it (``tanh' = 1 - h_t**2``); take
        ``h_t.copy()`` to get an array of your own.
    cache : StepCache
        ``StepCache(x_t, h_prev, W_xh, W_hh, h_t, nonlinearity)``, what
        :func:`rnn_step_backward` needs.

    Example
    -------
    >>> h_t, cache = rnn_step_forward(np.ones((2, 3)), np.zeros((2, 4)), np.zeros((4, 3)),
    ...                               np.eye(4), np.zeros(4))
    >>> h_t.shape
    (2, 4)
    """
    _check_step(x_t, h_prev, W_xh, W_hh, b_h, nonlinearity)
    a_t = x_t @ W_xh.T + h_prev @ W_hh.T + b_h
    h_t = activate(a_t, nonlinearity)
    h_t.flags.writeable = False                    # the cache shares h_t: an edit would corrupt the backward
    return h_t, StepCache(x_t, h_prev, W_xh, W_hh, h_t, nonlinearity)


def rnn_step_backward(dh_t, cache):
    """Backward pass of one step: gradients of the loss through ``h_t = f(a_t)``.

    .. math::

        da_t = dh_t \\odot f'(a_t),\\quad dx_t = da_t W_{xh},\\quad dh_{t-1} = da_t W_{hh},\\quad
        dW_{xh} = da_t^\\top x_t,\\quad dW_{hh} = da_t^\\top h_{t-1},\\quad db_h = \\textstyle\\sum_b da_t

    Parameters
    ----------
    dh_t : numpy.ndarray, shape (B, H)
        Gradient of the loss with respect to ``h_t``.
    cache : StepCache
        From :func:`rnn_step_forward`: the step's inputs and its output ``h_t``
        (a plain tuple ``(x_t, h_prev, W_xh, W_hh, h_t, nonlinearity)`` works too).

    Returns
    -------
    dict
        Gradients ``"x_t"`` (B, D), ``"h_prev"`` (B, H), ``"W_xh"`` (H, D),
        ``"W_hh"`` (H, H) and ``"b_h"`` (H,).

    Example
    -------
    >>> h_t, cache = rnn_step_forward(x_t, h_prev, W_xh, W_hh, b_h)   # doctest: +SKIP
    >>> grads = rnn_step_backward(dh_t, cache)                       # doctest: +SKIP
    """
    x_t, h_prev, W_xh, W_hh, h_t, nonlinearity = check_cache(cache, StepCache, "rnn_step_forward", (5, 6))
    check_array(dh_t, "dh_t", ("B", "H"), h_t.shape, hint="dh_t has the shape of h_t")
    check_same_dtype(dh_t=dh_t, h_t=h_t)
    da_t = dh_t * derivative(h_t, nonlinearity)
    return {
        "x_t": da_t @ W_xh,
        "h_prev": da_t @ W_hh,
        "W_xh": da_t.T @ x_t,
        "W_hh": da_t.T @ h_prev,
        "b_h": da_t.sum(axis=0),
    }


# ----------------------------------------------------------------------------- a sequence

def rnn_forward(x, h0, W_xh, W_hh, b_h, nonlinearity="tanh"):
    """Run the Elman recurrence over a whole (time-major) sequence.

    Equal to this reference loop (and to :class:`torch.nn.RNN` with
    ``weight_ih_l0 = W_xh``, ``weight_hh_l0 = W_hh``, ``bias_ih_l0 = b_h``,
    ``bias_hh_l0 = 0``)::

        h = h0
        for t in range(T):
            h = f(x[t] @ W_xh.T + h @ W_hh.T + b_h)
            hs[t] = h

    The input part ``x_t W_xh^T + b_h`` does not depend on the state, so it is
    computed for all steps in one matrix product; only ``h_{t-1} W_hh^T`` runs in
    the loop.

    Parameters
    ----------
    x : numpy.ndarray, shape (T, B, D)
        Input sequence, time-major.
    h0 : numpy.ndarray, shape (B, H), or None
        Initial hidden state; ``None`` means zeros.
    W_xh : numpy.ndarray, shape (H, D)
        Input-to-hidden weights.
    W_hh : numpy.ndarray, shape (H, H)
        Hidden-to-hidden weights.
    b_h : numpy.ndarray, shape (H,)
        Hidden bias.
    nonlinearity : str
        ``"tanh"`` (default) or ``"relu"``.

    Returns
    -------
    hs : numpy.ndarray, shape (T, B, H), read-only
        Every hidden state: ``hs[t]`` is ``h_t`` after reading ``x[t]``; ``hs[-1]``
        is the final state. The array is read-only because the cache holds it
        too (``cache.hs``) and :func:`rnn_backward` reads it: writing into it
        raises ``ValueError: assignment destination is read-only``; take
        ``hs.copy()`` to get an array of your own.
    cache : RNNCache
        What :func:`rnn_backward` needs.

    Example
    -------
    >>> rng = np.random.default_rng(0)
    >>> hs, cache = rnn_forward(rng.normal(size=(5, 2, 3)), None, rng.normal(size=(4, 3)),
    ...                         rng.normal(size=(4, 4)), np.zeros(4))
    >>> hs.shape, hs.flags.writeable
    ((5, 2, 4), False)
    """
    T, B, D, H = _check_sequence_inputs(x, h0, W_xh, W_hh, b_h, nonlinearity)
    if h0 is None:
        h0 = np.zeros((B, H), dtype=x.dtype)
    # hs starts as the input part of every pre-activation a_t, shape (T, B, H) ...
    hs = (x.reshape(T * B, D) @ W_xh.T).reshape(T, B, H)
    hs += b_h
    W_hh_T = np.ascontiguousarray(W_hh.T)          # the loop multiplies by W_hh^T: lay it out row by row once
    recurrent = np.empty((B, H), dtype=x.dtype)    # h_{t-1} W_hh^T, one buffer reused at every step
    h = h0
    for a_t in hs:                                 # a_t is hs[t], a view: writing to it writes to hs
        np.matmul(h, W_hh_T, out=recurrent)
        a_t += recurrent                           # ... gets the recurrent part: a_t
        activate(a_t, nonlinearity, out=a_t)       # ... and becomes h_t = f(a_t), in place
        h = a_t
    hs.flags.writeable = False                     # the cache holds hs: a learner's edit must not corrupt BPTT
    return hs, RNNCache(x, h0, W_xh, W_hh, hs, nonlinearity)


def rnn_backward(dhs, cache, dh_T=None):
    """Backpropagation through time for :func:`rnn_forward`.

    Walking backwards from ``t = T``, where at ``t = T`` the term ``da_{T+1} W_hh`` is replaced by ``dh_T``
    (zero when it is None):

    .. math::

        da_t = (dhs_t + da_{t+1} W_{hh}) \\odot f'(a_t)

    then the parameter gradients are sums over time, computed after the loop as
    single matrix products over all ``T * B`` rows:
    ``dW_xh = sum_t da_t^T x_t``, ``dW_hh = sum_t da_t^T h_{t-1}``,
    ``db_h = sum_t sum_b da_t``. The result equals this reference loop::

        dh = dh_T
        for t in reversed(range(T)):
            da = (dhs[t] + dh) * f_prime(a[t])
            dW_xh += da.T @ x[t];  dW_hh += da.T @ h[t - 1];  db_h += da.sum(axis=0)
            dx[t] = da @ W_xh
            dh = da @ W_hh          # after the loop: dh0

    Parameters
    ----------
    dhs : numpy.ndarray, shape (T, B, H)
        ``dhs[t]`` is the gradient of the loss with respect to ``h_t`` coming
        *directly* from the loss at step ``t`` (e.g. from the output layer), not
        through later states; zeros where a step has no output.
    cache : RNNCache
        From :func:`rnn_forward` (a plain tuple ``(x, h0, W_xh, W_hh, hs, nonlinearity)`` works too).
    dh_T : numpy.ndarray, shape (B, H), or None
        Gradient flowing into the final state ``h_T`` from outside the sequence
        (e.g. from a later chunk); ``None`` means zero.

    Returns
    -------
    dict
        ``"x"`` (T, B, D), ``"h0"`` (B, H), ``"W_xh"`` (H, D), ``"W_hh"`` (H, H),
        ``"b_h"`` (H,).

    Example
    -------
    >>> hs, cache = rnn_forward(x, None, W_xh, W_hh, b_h)    # doctest: +SKIP
    >>> grads = rnn_backward(np.ones_like(hs), cache)         # doctest: +SKIP
    >>> grads["W_hh"].shape                                   # doctest: +SKIP
    (4, 4)
    """
    x, h0, W_xh, W_hh, hs, nonlinearity = check_cache(cache, RNNCache, "rnn_forward", (6,))
    T, B, D = x.shape
    H = W_hh.shape[0]
    check_array(dhs, "dhs", ("T", "B", "H"), hs.shape, hint="dhs has the shape of the hidden states hs")
    check_same_dtype(dhs=dhs, hs=hs)
    if dh_T is None:
        dh = np.zeros((B, H), dtype=hs.dtype)
    else:
        check_array(dh_T, "dh_T", ("B", "H"), (B, H), hint="dh_T has the shape of the final state hs[-1]")
        check_same_dtype(dh_T=dh_T, hs=hs)
        dh = dh_T.copy()
    dA = derivative(hs, nonlinearity)              # f'(a_t) for all t; becomes da_t in the loop
    for t in reversed(range(T)):
        dh += dhs[t]                               # dL/dh_t: from the loss at t and from h_{t+1}
        dA[t] *= dh                                # da_t = dL/dh_t * f'(a_t)
        np.matmul(dA[t], W_hh, out=dh)             # dL/dh_{t-1} through the recurrence: da_t W_hh
    dA_rows = dA.reshape(T * B, H)
    # h_{t-1} for t = 1..T is h0 followed by hs[:-1]; split to avoid copying the states.
    dW_hh = dA[0].T @ h0 + dA[1:].reshape(-1, H).T @ hs[:-1].reshape(-1, H)
    return {
        "x": (dA_rows @ W_xh).reshape(T, B, D),
        "h0": dh,
        "W_xh": dA_rows.T @ x.reshape(T * B, D),
        "W_hh": dW_hh,
        "b_h": dA_rows.sum(axis=0),
    }
