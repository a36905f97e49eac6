"""A stacked (deep) Elman RNN in NumPy: the states of one layer are the inputs of the next.

.. math::

    h^{(0)}_t = f(W_{xh}^{(0)} x_t + W_{hh}^{(0)} h^{(0)}_{t-1} + b_h^{(0)}), \\qquad
    h^{(l)}_t = f(W_{xh}^{(l)} h^{(l-1)}_t + W_{hh}^{(l)} h^{(l)}_{t-1} + b_h^{(l)})

for layers ``l = 1 .. L-1``; the output is the top layer's states. The weights
are named like :class:`torch.nn.RNN`'s with ``num_layers=L``: ``W_xh_l0`` (H, D),
``W_xh_l1`` (H, H), ..., ``W_hh_l<l>``, ``b_h_l<l>`` (``= bias_ih_l<l> + bias_hh_l<l>``).
Backpropagation runs the layers top-down: the input gradient of layer ``l`` is
the state gradient of layer ``l - 1``.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from rnncourse.numpy.elman import X_HINT, rnn_backward, rnn_forward
from rnncourse.validation import check_array, check_keys

__all__ = ["StackedCache", "num_layers_of", "stacked_rnn_forward", "stacked_rnn_backward"]

_NAMES = ("W_xh", "W_hh", "b_h")


class StackedCache(NamedTuple):
    """What :func:`stacked_rnn_backward` needs: one Elman cache per layer and the final states.

    Attributes
    ----------
    layers : tuple of RNNCache
        The cache of each layer's :func:`rnncourse.numpy.elman.rnn_forward`, bottom layer first.
    h_n : numpy.ndarray, shape (L, B, H)
        The final state of each layer.
    """

    layers: tuple
    h_n: np.ndarray


def num_layers_of(params) -> int:
    """The number of layers ``L`` in a dict holding ``W_xh_l0 .. W_xh_l<L-1>``."""
    check_keys(params, "params", ["W_xh_l0", "W_hh_l0", "b_h_l0"],
               "rnncourse.torch.convert.params_from_rnn(torch.nn.RNN(..., num_layers=2)) gives one")
    L = 0
    while f"W_xh_l{L}" in params:
        L += 1
    missing = [f"{n}_l{l}" for l in range(L) for n in _NAMES if f"{n}_l{l}" not in params]
    if missing:
        raise ValueError(f"params should hold W_xh, W_hh and b_h for each of its {L} layers, but lacks "
                         f"{', '.join(missing)}")
    return L


def stacked_rnn_forward(x, h0, params, nonlinearity="tanh"):
    """Run ``L`` Elman layers, each reading the states of the one below.

    Parameters
    ----------
    x : numpy.ndarray, shape (T, B, D)
        Input sequence, time-major.
    h0 : numpy.ndarray, shape (L, B, H), or None
        Initial state of every layer (like ``torch.nn.RNN``'s ``h_0``); ``None`` means zeros.
    params : dict
        ``W_xh_l<l>``, ``W_hh_l<l>``, ``b_h_l<l>`` for ``l = 0 .. L-1``.
    nonlinearity : str
        ``"tanh"`` (default) or ``"relu"``.

    Returns
    -------
    out : numpy.ndarray, shape (T, B, H)
        The top layer's states.
    cache : StackedCache
        ``cache.h_n`` (L, B, H) holds each layer's final state, like ``torch.nn.RNN``'s ``h_n``.
    """
    L = num_layers_of(params)
    if h0 is not None:
        check_array(x, "x", ("T", "B", "D"), finite=False, hint=X_HINT)     # for B; rnn_forward checks the rest
        check_array(h0, "h0", ("L", "B", "H"), (L, x.shape[1], None),
                    hint="h0 holds one (B, H) state per layer, like torch.nn.RNN's h_0")
    caches, finals, inputs = [], [], x
    for l in range(L):
        W_xh, W_hh, b_h = (params[f"{n}_l{l}"] for n in _NAMES)
        hs, cache = rnn_forward(inputs, None if h0 is None else h0[l], W_xh, W_hh, b_h, nonlinearity)
        caches.append(cache)
        finals.append(hs[-1])
        inputs = hs                                  # layer l's states are layer l+1's inputs
    return inputs, StackedCache(tuple(caches), np.stack(finals))


def stacked_rnn_backward(dout, cache, dh_n=None):
    """Backpropagation through :func:`stacked_rnn_forward`, from the top layer down.

    Parameters
    ----------
    dout : numpy.ndarray, shape (T, B, H)
        Gradient of the loss with respect to the top layer's states.
    cache : StackedCache
        From :func:`stacked_rnn_forward`.
    dh_n : numpy.ndarray, shape (L, B, H), or None
        Gradient with respect to the final states (e.g. from a later chunk); ``None`` means zero.

    Returns
    -------
    dict
        ``"x"`` (T, B, D), ``"h0"`` (L, B, H) and ``W_xh_l<l>``, ``W_hh_l<l>``, ``b_h_l<l>``.
    """
    layers, h_n = cache
    check_array(dout, "dout", ("T", "B", "H"), (None,) + h_n.shape[1:], hint="dout has the shape of out")
    if dh_n is not None:
        check_array(dh_n, "dh_n", ("L", "B", "H"), h_n.shape, hint="dh_n has the shape of cache.h_n")
    grads, dh0, dhs = {}, [], dout
    for l in reversed(range(len(layers))):
        g = rnn_backward(dhs, layers[l], None if dh_n is None else dh_n[l])
        grads.update({f"{n}_l{l}": g[n] for n in _NAMES})
        dh0.append(g["h0"])
        dhs = g["x"]                                 # the gradient of layer l's input is layer l-1's dhs
    grads["x"] = dhs
    grads["h0"] = np.stack(dh0[::-1])
    return grads
