"""The output layer of an RNN in NumPy: an affine map applied to hidden states.

.. math::

    z_t = h_t W_{hy}^\\top + b_y

the scores :math:`z_t`; the loss applies the output function :math:`g` that makes them the
output :math:`y_t = g(z_t)`. ``W_hy`` (O, H) is stored like :class:`torch.nn.Linear`'s ``weight``. Two input
shapes are accepted:

- ``hs`` of shape ``(T, B, H)``: an output at every step (many-to-many),
  ``Y`` has shape ``(T, B, O)``;
- ``hs`` of shape ``(B, H)``: one output per sequence, e.g. from the final state
  ``hs[-1]`` (many-to-one), ``Y`` has shape ``(B, O)``.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from rnncourse.validation import check_array, check_cache, check_same_dtype

__all__ = ["AffineCache", "affine_forward", "affine_backward", "as_affine_cache"]

_SYMBOLS = {2: ("B", "H"), 3: ("T", "B", "H")}


class AffineCache(NamedTuple):
    """What :func:`affine_backward` needs from :func:`affine_forward`.

    Attributes
    ----------
    hs : numpy.ndarray, shape (T, B, H) or (B, H)
        The hidden states that were mapped.
    W_hy : numpy.ndarray, shape (O, H)
        The hidden-to-output weights.
    """

    hs: np.ndarray
    W_hy: np.ndarray


def _check_states(hs, name):
    """Accept (T, B, H) or (B, H); return the dimension letters of ``hs``."""
    if getattr(hs, "ndim", None) not in _SYMBOLS:
        check_array(hs, name, tuple(f"n{i}" for i in range(getattr(hs, "ndim", 0))))   # type and dtype only
        raise ValueError(
            f"{name} should have shape (T, B, H) (every step) or (B, H) (one state per sequence, "
            f"e.g. hs[-1]), but has shape {hs.shape}")
    return _SYMBOLS[hs.ndim]


def affine_forward(hs, W_hy, b_y):
    """Map hidden states to outputs, ``Y = hs W_hy^T + b_y``, at every step at once.

    Parameters
    ----------
    hs : numpy.ndarray, shape (T, B, H) or (B, H)
        Hidden states of every step, or one state per sequence (many-to-one).
    W_hy : numpy.ndarray, shape (O, H)
        Hidden-to-output weights.
    b_y : numpy.ndarray, shape (O,)
        Output bias.

    Returns
    -------
    Y : numpy.ndarray, shape (T, B, O) or (B, O)
        Outputs (e.g. logits), with the leading axes of ``hs``.
    cache : AffineCache
        ``(hs, W_hy)`` for :func:`affine_backward`.

    Example
    -------
    >>> Y, cache = affine_forward(np.zeros((5, 2, 4)), np.ones((3, 4)), np.zeros(3))
    >>> Y.shape
    (5, 2, 3)
    """
    symbols = _check_states(hs, "hs")
    check_array(hs, "hs", symbols)
    n_h = hs.shape[-1]
    check_array(W_hy, "W_hy", ("O", "H"), (None, n_h),
                hint=f"W_hy has shape (output_size, hidden_size), like torch.nn.Linear's weight; H = {n_h} is "
                     f"the size of the last axis of hs, so check hs too")
    O = W_hy.shape[0]
    check_array(b_y, "b_y", ("O",), (O,))
    check_same_dtype(hs=hs, W_hy=W_hy, b_y=b_y)
    # One product over all T*B rows: on (T, B, H), hs @ W_hy.T would run as T small products.
    Y = hs.reshape(-1, n_h) @ W_hy.T                # (T*B, O) or (B, O)
    Y += b_y
    return Y.reshape(hs.shape[:-1] + (O,)), AffineCache(hs, W_hy)


def as_affine_cache(cache) -> AffineCache:
    """``cache`` as an :class:`AffineCache`: that cache itself, or the plain pair ``(hs, W_hy)`` it holds.

    A plain pair must be two arrays, ``hs`` (T, B, H) or (B, H) and ``W_hy`` (O, H) with the same H.
    That tells it apart from the pair ``(Y, cache)`` that :func:`affine_forward` returns (its second
    value is an :class:`AffineCache`), which is refused: pass only its second value.

    Parameters
    ----------
    cache : AffineCache or tuple
        The cache :func:`affine_forward` returned, or a pair ``(hs, W_hy)``.

    Returns
    -------
    AffineCache
    """
    if type(cache) is tuple and len(cache) == 2 and all(isinstance(v, np.ndarray) for v in cache):
        hs, W_hy = cache
        if hs.ndim in _SYMBOLS and W_hy.ndim == 2 and hs.shape[-1] == W_hy.shape[1]:
            return AffineCache(hs, W_hy)
        raise ValueError(f"cache as a plain pair (hs, W_hy) should hold hs (T, B, H) or (B, H) and W_hy (O, H) "
                         f"with the same H, but holds shapes {hs.shape} and {W_hy.shape}; pass the cache that "
                         f"affine_forward returned (its second value)")
    if type(cache) is tuple and len(cache) == 2 and isinstance(cache[1], AffineCache):
        raise TypeError("cache should be the AffineCache returned by affine_forward, but is a tuple of 2 values, "
                        "the whole pair (Y, cache) it returned: pass the cache that affine_forward returned "
                        "(its second value)")
    n_plain = () if type(cache) is tuple and len(cache) == 2 else (2,)     # any other pair is refused too
    return check_cache(cache, AffineCache, "affine_forward", n_plain)


def affine_backward(dY, cache):
    """Gradients of :func:`affine_forward`, summed over time and batch.

    .. math::

        dhs = dY W_{hy},\\qquad dW_{hy} = \\textstyle\\sum_{t,b} dy_{t,b}^\\top h_{t,b},\\qquad
        db_y = \\textstyle\\sum_{t,b} dy_{t,b}

    Parameters
    ----------
    dY : numpy.ndarray, shape (T, B, O) or (B, O)
        Gradient of the loss with respect to ``Y``.
    cache : AffineCache or tuple
        From :func:`affine_forward`, or the plain pair ``(hs, W_hy)`` it holds.

    Returns
    -------
    dict
        ``"hs"`` (same shape as ``hs``), ``"W_hy"`` (O, H), ``"b_y"`` (O,).
    """
    hs, W_hy = as_affine_cache(cache)
    O, n_h = W_hy.shape
    expected = hs.shape[:-1] + (O,)
    check_array(dY, "dY", _SYMBOLS[hs.ndim][:-1] + ("O",), expected, hint="dY has the shape of the outputs Y")
    check_same_dtype(dY=dY, hs=hs)
    dY_rows = dY.reshape(-1, O)                     # (T*B, O) or (B, O)
    return {
        "hs": (dY_rows @ W_hy).reshape(hs.shape),
        "W_hy": dY_rows.T @ hs.reshape(-1, n_h),
        "b_y": dY_rows.sum(axis=0),
    }
