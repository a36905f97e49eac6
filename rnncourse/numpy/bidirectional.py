"""A bidirectional Elman layer in NumPy: one RNN reads left to right, a second right to left.

.. math::

    \\overrightarrow{h}_t = f(W_{xh} x_t + W_{hh} \\overrightarrow{h}_{t-1} + b_h), \\qquad
    \\overleftarrow{h}_t = f(W'_{xh} x_t + W'_{hh} \\overleftarrow{h}_{t+1} + b'_h), \\qquad
    h_t = [\\overrightarrow{h}_t ; \\overleftarrow{h}_t]

so the output at step ``t`` has read the whole sequence, before and after ``t``.
The weights are named like :class:`torch.nn.RNN`'s with ``bidirectional=True``:
``W_xh_l0``, ``W_hh_l0``, ``b_h_l0`` for the forward direction and
``W_xh_l0_reverse``, ``W_hh_l0_reverse``, ``b_h_l0_reverse`` for the reverse one
(``b_h = bias_ih + bias_hh``).

With padding, the reverse direction must start at each sequence's own last
step: the input is reversed *within each length* (:func:`~rnncourse.numpy.padding.reverse_padded`), run
forwards, and the states reversed back. The result equals ``torch.nn.RNN``
(``bidirectional=True``) on a packed batch.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from rnncourse.numpy.elman import rnn_backward, rnn_forward
from rnncourse.numpy.padding import length_mask, reverse_padded
from rnncourse.numpy.stacked import check_layer_params
from rnncourse.validation import (check_argument_order, check_array, check_cache, check_keys, check_not_empty,
                                  check_same_dtype)

__all__ = ["BiRNNCache", "birnn_forward", "birnn_backward"]

DIRECTIONS = ("_l0", "_l0_reverse")


class BiRNNCache(NamedTuple):
    """What :func:`birnn_backward` needs: the two directions' caches, the lengths and the mask.

    Attributes
    ----------
    forward : RNNCache
        The cache of the forward direction's :func:`rnncourse.numpy.elman.rnn_forward`.
    reverse : RNNCache
        The cache of the reverse direction, run over each sequence reversed within its length.
    lengths : numpy.ndarray, shape (B,)
        The number of real (unpadded) steps of each sequence.
    mask : numpy.ndarray, shape (T, B, 1)
        1 at real steps, 0 at padding steps.
    """

    forward: tuple
    reverse: tuple
    lengths: np.ndarray
    mask: np.ndarray


def _check_params(params, x):
    """Check the six arrays of ``params`` under their own keys, against ``x`` (T, B, D) and each other."""
    names = [f"{w}{d}" for d in DIRECTIONS for w in ("W_xh", "W_hh", "b_h")]
    check_keys(params, "params", names,
               "rnncourse.torch.convert.params_from_rnn(torch.nn.RNN(..., bidirectional=True)) gives such a dict")
    D = x.shape[2]
    H = check_layer_params(params, "_l0", D, hint=f"D = {D} is the size of the last axis of x, so check that x "
                                                  f"is time-major (T, B, D)")
    check_layer_params(params, "_l0_reverse", D, H, hint=f"both directions have the hidden size H = {H} of "
                                                         f"params['W_hh_l0'] and read x, with D = {D}, like "
                                                         f"torch.nn.RNN(..., bidirectional=True)")
    check_same_dtype(x=x, **{f"params['{n}']": params[n] for n in names})


def birnn_forward(x, params, lengths=None, nonlinearity="tanh"):
    """Run a bidirectional Elman layer over padded sequences, both states starting at zero.

    Parameters
    ----------
    x : numpy.ndarray, shape (T, B, D)
        Padded input sequences, time-major.
    params : dict
        ``W_xh_l0`` (H, D), ``W_hh_l0`` (H, H), ``b_h_l0`` (H,) and the same three
        with the suffix ``_l0_reverse``.
    lengths : numpy.ndarray of int, shape (B,), or None
        Length of each sequence; ``None`` means all have ``T`` steps.
    nonlinearity : str
        ``"tanh"`` (default) or ``"relu"``.

    Returns
    -------
    out : numpy.ndarray, shape (T, B, 2H)
        ``out[t, b, :H]`` is the forward state after reading steps ``0 .. t``,
        ``out[t, b, H:]`` the reverse state after reading steps ``L_b - 1 .. t``;
        zero at padding steps (like :func:`torch.nn.utils.rnn.pad_packed_sequence`).
        The final states are ``out[L_b - 1, b, :H]`` (forward) and ``out[0, b, H:]`` (reverse).
    cache : BiRNNCache
        What :func:`birnn_backward` needs.
    """
    check_argument_order(params, x, "x", "birnn_forward(x, params, lengths=None, ...)")
    check_array(x, "x", ("T", "B", "D"), hint="x is time-major (T, B, D)")
    T, B, _ = x.shape
    check_not_empty(x, "x", hint="x is time-major (T, B, D)")
    _check_params(params, x)
    if lengths is None:
        lengths = np.full(B, T, dtype=np.int64)
    mask = length_mask(lengths, T)[..., None].astype(x.dtype)       # (T, B, 1)
    p = params
    hs_f, cache_f = rnn_forward(x, None, p["W_xh_l0"], p["W_hh_l0"], p["b_h_l0"], nonlinearity)
    hs_r, cache_r = rnn_forward(reverse_padded(x, lengths), None, p["W_xh_l0_reverse"], p["W_hh_l0_reverse"],
                                p["b_h_l0_reverse"], nonlinearity)
    out = np.concatenate([hs_f, reverse_padded(hs_r, lengths)], axis=-1) * mask
    return out, BiRNNCache(cache_f, cache_r, lengths, mask)


def birnn_backward(dout, cache):
    """Backpropagation through both directions of :func:`birnn_forward`.

    The gradient of the output splits into the two halves; each direction is an
    ordinary Elman layer (:func:`rnncourse.numpy.elman.rnn_backward`), the reverse
    one on reversed time, and the input gets the sum of both:

    .. math::

        dx = dx^{\\rightarrow} + \\mathrm{reverse}(dx^{\\leftarrow})

    Parameters
    ----------
    dout : numpy.ndarray, shape (T, B, 2H)
        Gradient of the loss with respect to ``out``.
    cache : BiRNNCache
        From :func:`birnn_forward`.

    Returns
    -------
    dict
        ``"x"`` (T, B, D) and the six weight gradients, named like ``params``.
    """
    cache_f, cache_r, lengths, mask = check_cache(cache, BiRNNCache, "birnn_forward", (4,))
    T, B, _ = mask.shape
    H = cache_f.W_hh.shape[0]
    check_array(dout, "dout", ("T", "B", "2H"), (T, B, 2 * H), hint="dout has the shape of out")
    check_same_dtype(dout=dout, out=cache_f.hs)
    dout = dout * mask                                          # padding steps were set to zero: no gradient
    g_f = rnn_backward(np.ascontiguousarray(dout[..., :H]), cache_f)  # contiguous copy: faster through rnn_backward
    g_r = rnn_backward(reverse_padded(dout[..., H:], lengths), cache_r)
    grads = {"x": g_f["x"] + reverse_padded(g_r["x"], lengths)}
    for suffix, g in zip(DIRECTIONS, (g_f, g_r)):
        grads.update({f"{name}{suffix}": g[name] for name in ("W_xh", "W_hh", "b_h")})
    return grads
