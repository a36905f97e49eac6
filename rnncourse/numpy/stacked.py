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

import re
from typing import NamedTuple

import numpy as np

from rnncourse.numpy.elman import X_HINT, rnn_backward, rnn_forward
from rnncourse.validation import (check_argument_order, check_array, check_cache, check_keys, check_same_dtype,
                                  layer_state_hint)

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
    """The number of layers ``L`` in a dict holding ``W_xh_l<l>``, ``W_hh_l<l>``, ``b_h_l<l>`` for ``l = 0 .. L-1``.

    Every key ``W_xh_l<l>``, ``W_hh_l<l>`` or ``b_h_l<l>`` counts: a layer with a
    missing array, or a gap in the numbers, is a :class:`ValueError`, never a
    layer silently dropped. Other keys (``"x"``, ``"h0"``) are not looked at.

    Parameters
    ----------
    params : dict of str to numpy.ndarray
        The stacked weights, ``W_xh_l0``, ``W_hh_l0``, ``b_h_l0``, ``W_xh_l1``, ...

    Returns
    -------
    int
        ``L``, the number of layers.
    """
    check_keys(params, "params", ["W_xh_l0", "W_hh_l0", "b_h_l0"],
               "rnncourse.torch.convert.params_from_rnn(torch.nn.RNN(..., num_layers=2)) gives one")
    reverse = [k for k in params if isinstance(k, str) and re.fullmatch(r"(?:W_xh|W_hh|b_h)_l\d+_reverse", k)]
    if reverse:
        raise ValueError(f"params holds {', '.join(reverse)}, the weights of a reverse direction, which a stacked "
                         f"RNN (one direction) does not have; for a bidirectional layer use "
                         f"rnncourse.numpy.bidirectional.birnn_forward")
    found = [re.fullmatch(r"(?:W_xh|W_hh|b_h)_l(\d+)", k) for k in params if isinstance(k, str)]
    L = 1 + max(int(m.group(1)) for m in found if m)     # layers 0 .. L-1, each with its three arrays
    missing = [f"{n}_l{l}" for l in range(L) for n in _NAMES if f"{n}_l{l}" not in params]
    if missing:
        raise ValueError(f"params should hold W_xh, W_hh and b_h for each of its {L} layers (l0 .. l{L - 1}), "
                         f"but lacks {', '.join(missing)}")
    return L


def check_layer_params(params, suffix, D, H=None, hint=""):
    """Check ``params['W_xh<suffix>']`` (H, D), ``params['W_hh<suffix>']`` (H, H), ``params['b_h<suffix>']`` (H,).

    Each array is named by its key, so a message says which layer (and
    direction) is wrong.

    Parameters
    ----------
    params : dict of str to numpy.ndarray
        The weights of all layers.
    suffix : str
        The layer's key suffix, ``"_l0"`` or ``"_l1_reverse"``.
    D : int
        The layer's input size.
    H : int, optional
        The hidden size; default: read from ``W_hh``.
    hint : str
        Where ``D`` (and a given ``H``) come from, added to a message.

    Returns
    -------
    int
        ``H``.
    """
    W_xh, W_hh, b_h = (params[f"{n}{suffix}"] for n in _NAMES)
    name = {n: f"params['{n}{suffix}']" for n in _NAMES}
    extra = f"; {hint}" if hint else ""
    if H is None:
        check_array(W_hh, name["W_hh"], ("H", "H"), finite=False)      # the number of axes first, for H
        H = W_hh.shape[0]
    check_array(W_hh, name["W_hh"], ("H", "H"), (H, H), hint=f"W_hh maps the hidden state to itself, so it is "
                                                               f"square{extra}")
    check_array(W_xh, name["W_xh"], ("H", "D"), (H, D), hint=f"W_xh has shape (hidden_size, input_size), like "
                                                               f"torch's weight_ih_l0{extra}")
    check_array(b_h, name["b_h"], ("H",), (H,), hint=hint)
    return H


def _check_stacked_inputs(x, h0, params):
    """Validate the inputs of :func:`stacked_rnn_forward` layer by layer, each array named by its key; return ``L``."""
    L = num_layers_of(params)
    check_array(x, "x", ("T", "B", "D"), finite=False, hint=X_HINT)         # for B and D; rnn_forward checks the rest
    if h0 is not None:
        hint = "h0 holds one (B, H) state per layer, like torch.nn.RNN's h_0"
        advice = layer_state_hint(h0, "h0", L, x.shape[0], x.shape[1])
        check_array(h0, "h0", ("L", "B", "H"), (L, x.shape[1], None), hint=f"{hint}; {advice}" if advice else hint)
    D = x.shape[2]
    for l in range(L):                               # each layer's weights, named by their keys
        where = (f"D = {D} is the size of the last axis of x, so check that x is time-major (T, B, D)" if l == 0
                 else f"layer {l} reads the states of layer {l - 1}, so D is its hidden size {D}")
        D = check_layer_params(params, f"_l{l}", D, hint=where)
    check_same_dtype(x=x, **{f"params['{n}_l{l}']": params[f"{n}_l{l}"] for l in range(L) for n in _NAMES})
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
    out : numpy.ndarray, shape (T, B, H), read-only
        The top layer's states; the cache holds them too (``cache.layers[-1].hs``): take
        ``out.copy()`` to edit them.
    cache : StackedCache
        ``cache.h_n`` (L, B, H) holds each layer's final state, like ``torch.nn.RNN``'s ``h_n``.
    """
    check_argument_order(params, x, "x", "stacked_rnn_forward(x, h0, params, ...)")
    L = _check_stacked_inputs(x, h0, params)
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
    layers, h_n = check_cache(cache, StackedCache, "stacked_rnn_forward")   # two values, like (out, cache)
    check_array(dout, "dout", ("T", "B", "H"), layers[-1].hs.shape,
                hint="dout has the shape of out")
    check_same_dtype(dout=dout, out=layers[-1].hs)
    if dh_n is not None:
        check_array(dh_n, "dh_n", ("L", "B", "H"), h_n.shape, hint="dh_n has the shape of cache.h_n")
        check_same_dtype(**{"dh_n": dh_n, "cache.h_n": h_n})
    grads, dh0, dhs = {}, [], dout
    for l in reversed(range(len(layers))):
        g = rnn_backward(dhs, layers[l], None if dh_n is None else dh_n[l])
        grads.update({f"{n}_l{l}": g[n] for n in _NAMES})
        dh0.append(g["h0"])
        dhs = g["x"]                                 # the gradient of layer l's input is layer l-1's dhs
    grads["x"] = dhs
    grads["h0"] = np.stack(dh0[::-1])
    return grads
