"""Many-to-one classification in NumPy: one label per sequence, read from its last real state.

Forward, for a batch of padded sequences with lengths ``L_b``:

.. math::

    (h_1, \\dots, h_T) = \\text{rnn\\_forward}(x), \\qquad z_b = W_{hy} h_{L_b, b} + b_y, \\qquad
    \\mathcal{L} = \\frac{1}{B} \\sum_b -\\log \\operatorname{softmax}(z_b)_{y_b}

Backward: the loss reaches the recurrent layer only through the states that
were read out, so the gradient ``dhs`` handed to :func:`~rnncourse.numpy.elman.rnn_backward`
is zero everywhere except at ``(L_b - 1, b)``; BPTT carries it back from there
to the first step. The states after ``L_b`` (padding) get no gradient and so
change nothing. Without ``lengths`` every sequence ends at ``T``, as in
:func:`rnncourse.numpy.model.model_loss` with targets of shape (B,).

Parameters live in one dict with the keys ``W_xh``, ``W_hh``, ``b_h``, ``W_hy``
and ``b_y`` (create it with :func:`~rnncourse.numpy.model.init_model_params`).
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from rnncourse.numpy.elman import RNNCache, rnn_backward, rnn_forward
from rnncourse.numpy.losses import softmax_cross_entropy
from rnncourse.numpy.model import check_model_params
from rnncourse.numpy.output import AffineCache, affine_backward, affine_forward, as_affine_cache
from rnncourse.validation import check_argument_order, check_array, check_cache, check_lengths, check_same_dtype

__all__ = ["ManyToOneCache", "last_states", "many_to_one_forward", "many_to_one_backward", "many_to_one_loss"]


class ManyToOneCache(NamedTuple):
    """What :func:`many_to_one_backward` needs: the RNN's cache, the read-out's, and the lengths.

    Attributes
    ----------
    rnn : RNNCache
        The cache of :func:`rnncourse.numpy.elman.rnn_forward` over the padded batch.
    affine : AffineCache
        The cache of :func:`rnncourse.numpy.output.affine_forward` for the read-out of the last
        real state of each sequence.
    lengths : numpy.ndarray, shape (B,)
        The number of real (unpadded) steps of each sequence, int64.
    """

    rnn: RNNCache
    affine: AffineCache
    lengths: np.ndarray


def last_states(hs, lengths=None):
    """The state of each sequence at its last real step, ``hs[lengths[b] - 1, b]``.

    Parameters
    ----------
    hs : numpy.ndarray, shape (T, B, H)
        Hidden states of a padded batch.
    lengths : numpy.ndarray of int, shape (B,), or None
        Real length of each sequence, in ``1..T``; ``None`` means all are ``T`` (the last step, ``hs[-1]``).

    Returns
    -------
    numpy.ndarray, shape (B, H)
        One state per sequence. A new array, never a view of ``hs``: editing one leaves the other
        (and a cache that holds ``hs``) alone.
    """
    check_array(hs, "hs", ("T", "B", "H"),
                hint="hs holds the states of all steps; one state (B, H) per sequence is already the last")
    if hs.shape[0] == 0:
        raise ValueError(f"hs should hold at least one time step, but has shape {hs.shape}")
    if lengths is None:
        return hs[-1].copy()                    # an array of its own, as with lengths, not a view into hs
    return _last_states(hs, check_lengths(lengths, *hs.shape[:2], source="hs"))


def _last_states(hs, lengths):
    """:func:`last_states` without the checks."""
    return hs[lengths - 1, np.arange(hs.shape[1])]


def many_to_one_forward(x, params, lengths=None, nonlinearity="tanh"):
    """Scores of one class per sequence, from the state after its last real step.

    Parameters
    ----------
    x : numpy.ndarray, shape (T, B, D)
        Input sequences, time-major: padded after their end (any padding values; give ``lengths``), or
        padded at the start, so that every sequence ends at step T (``lengths=None``).
    params : dict
        ``W_xh`` (H, D), ``W_hh`` (H, H), ``b_h`` (H,), ``W_hy`` (C, H), ``b_y`` (C,).
    lengths : numpy.ndarray, shape (B,), or None
        Real length of each sequence; ``None``: all have ``T`` steps.
    nonlinearity : str
        ``"tanh"`` (default) or ``"relu"``.

    Returns
    -------
    logits : numpy.ndarray, shape (B, C)
        Unnormalised class scores.
    cache : ManyToOneCache
        For :func:`many_to_one_backward`.

    Example
    -------
    >>> from rnncourse.numpy.model import init_model_params
    >>> params = init_model_params(3, 8, 2, rng=np.random.default_rng(0))
    >>> x = np.random.default_rng(1).normal(size=(5, 4, 3))
    >>> logits, cache = many_to_one_forward(x, params, lengths=np.array([5, 2, 3, 1]))
    >>> logits.shape
    (4, 2)
    """
    check_argument_order(params, x, "x", "many_to_one_forward(x, params, lengths=None, ...)")
    check_model_params(params, x, fix="create it with rnncourse.numpy.model.init_model_params(...)")
    hs, rnn_cache = rnn_forward(x, None, params["W_xh"], params["W_hh"], params["b_h"], nonlinearity)
    T, B = hs.shape[:2]
    lengths = np.full(B, T, dtype=np.int64) if lengths is None else check_lengths(lengths, T, B).astype(np.int64)
    logits, affine_cache = affine_forward(_last_states(hs, lengths), params["W_hy"], params["b_y"])
    return logits, ManyToOneCache(rnn_cache, affine_cache, lengths)


def many_to_one_backward(dlogits, cache):
    """Gradients of every parameter (and of ``x``) from the gradient of the scores.

    .. math::

        dh_{L_b, b} = dz_b W_{hy}, \\qquad dh_{t, b} = 0 \\text{ for } t \\ne L_b, \\qquad
        \\text{then BPTT (} \\text{rnn\\_backward)}

    Parameters
    ----------
    dlogits : numpy.ndarray, shape (B, C)
        Gradient of the loss with respect to the scores.
    cache : ManyToOneCache or tuple
        From :func:`many_to_one_forward`, or a plain tuple of its three fields (each of which
        may be a plain tuple of its own fields).

    Returns
    -------
    dict
        ``"W_xh"``, ``"W_hh"``, ``"b_h"``, ``"W_hy"``, ``"b_y"`` (shapes of the
        parameters) and ``"x"`` (T, B, D).
    """
    rnn_cache, affine_cache, lengths = check_cache(cache, ManyToOneCache, "many_to_one_forward", (3,))
    # a plain tuple may hold plain tuples too: (rnn fields, (hs, W_hy), lengths)
    rnn_cache = check_cache(rnn_cache, RNNCache, "rnn_forward", (6,))
    affine_cache = as_affine_cache(affine_cache)
    W_hy = affine_cache.W_hy                    # (C, H)
    # Checked here under the caller's name (affine_backward would call it dY).
    check_array(dlogits, "dlogits", ("B", "C"), (len(lengths), W_hy.shape[0]),
                hint="dlogits has the shape of the logits from many_to_one_forward")
    check_same_dtype(dlogits=dlogits, W_hy=W_hy)
    g_out = affine_backward(dlogits, affine_cache)
    dhs = np.zeros_like(rnn_cache.hs)
    dhs[lengths - 1, np.arange(len(lengths))] = g_out["hs"]     # only the read-out states feed the loss
    g_rnn = rnn_backward(dhs, rnn_cache)
    return {"W_xh": g_rnn["W_xh"], "W_hh": g_rnn["W_hh"], "b_h": g_rnn["b_h"],
            "W_hy": g_out["W_hy"], "b_y": g_out["b_y"], "x": g_rnn["x"]}


def many_to_one_loss(params, x, targets, lengths=None, nonlinearity="tanh"):
    """Mean cross-entropy of the sequence labels, and its gradient with respect to every parameter.

    Parameters
    ----------
    params : dict
        The five parameters; not modified.
    x : numpy.ndarray, shape (T, B, D)
        Input sequences, time-major.
    targets : numpy.ndarray, shape (B,)
        Integer class of each sequence.
    lengths : numpy.ndarray, shape (B,), or None
        Real lengths; ``None``: all ``T``.
    nonlinearity : str
        ``"tanh"`` (default) or ``"relu"``.

    Returns
    -------
    loss : numpy.floating
        The mean loss.
    grads : dict
        Gradients with the keys of ``params`` (plus ``"x"``), ready for the
        ``step`` of an optimiser of :mod:`rnncourse.numpy.optim`.

    Example
    -------
    >>> loss, grads = many_to_one_loss(params, x, np.array([0, 1, 1, 0]))    # doctest: +SKIP
    """
    check_argument_order(params, x, "x", "many_to_one_loss(params, x, targets, lengths=None, ...)")
    logits, cache = many_to_one_forward(x, params, lengths, nonlinearity)
    loss, dlogits = softmax_cross_entropy(logits, targets)
    return loss, many_to_one_backward(dlogits, cache)
