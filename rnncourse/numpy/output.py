"""The output layer of an RNN in NumPy: an affine map applied to hidden states.

.. math::

    y_t = h_t W_{hy}^\\top + b_y

``W_hy`` (O, H) is stored like :class:`torch.nn.Linear`'s ``weight``. Two input
shapes are accepted:

- ``H`` of shape ``(T, B, H)``: an output at every step (many-to-many),
  ``Y`` has shape ``(T, B, O)``;
- ``H`` of shape ``(B, H)``: one output per sequence, e.g. from the final state
  ``H[-1]`` (many-to-one), ``Y`` has shape ``(B, O)``.
"""

from __future__ import annotations

import numpy as np

from rnncourse.validation import check_array, check_same_dtype

__all__ = ["affine_forward", "affine_backward"]

_SYMBOLS = {2: ("B", "H"), 3: ("T", "B", "H")}


def _check_states(H, name):
    """Accept (T, B, H) or (B, H); return the dimension letters of ``H``."""
    if getattr(H, "ndim", None) not in _SYMBOLS:
        check_array(H, name, tuple(f"n{i}" for i in range(getattr(H, "ndim", 0))))   # type and dtype only
        raise ValueError(
            f"{name} should have shape (T, B, H) (every step) or (B, H) (one state per sequence, "
            f"e.g. H[-1]), but has shape {H.shape}")
    return _SYMBOLS[H.ndim]


def affine_forward(H, W_hy, b_y):
    """Map hidden states to outputs, ``Y = H W_hy^T + b_y``, at every step at once.

    Parameters
    ----------
    H : numpy.ndarray, shape (T, B, H) or (B, H)
        Hidden states of every step, or one state per sequence (many-to-one).
    W_hy : numpy.ndarray, shape (O, H)
        Hidden-to-output weights.
    b_y : numpy.ndarray, shape (O,)
        Output bias.

    Returns
    -------
    Y : numpy.ndarray, shape (T, B, O) or (B, O)
        Outputs (e.g. logits), with the leading axes of ``H``.
    cache : tuple
        ``(H, W_hy)`` for :func:`affine_backward`.

    Example
    -------
    >>> Y, cache = affine_forward(np.zeros((5, 2, 4)), np.ones((3, 4)), np.zeros(3))
    >>> Y.shape
    (5, 2, 3)
    """
    symbols = _check_states(H, "H")
    check_array(H, "H", symbols)
    n_h = H.shape[-1]
    check_array(W_hy, "W_hy", ("O", "H"), (None, n_h),
                hint="W_hy has shape (output_size, hidden_size), like torch.nn.Linear's weight")
    O = W_hy.shape[0]
    check_array(b_y, "b_y", ("O",), (O,))
    check_same_dtype(H=H, W_hy=W_hy, b_y=b_y)
    Y = H @ W_hy.T + b_y
    return Y, (H, W_hy)


def affine_backward(dY, cache):
    """Gradients of :func:`affine_forward`, summed over time and batch.

    .. math::

        dH = dY W_{hy},\\qquad dW_{hy} = \\textstyle\\sum_{t,b} dy_{t,b}^\\top h_{t,b},\\qquad
        db_y = \\textstyle\\sum_{t,b} dy_{t,b}

    Parameters
    ----------
    dY : numpy.ndarray, shape (T, B, O) or (B, O)
        Gradient of the loss with respect to ``Y``.
    cache : tuple
        From :func:`affine_forward`.

    Returns
    -------
    dict
        ``"H"`` (same shape as ``H``), ``"W_hy"`` (O, H), ``"b_y"`` (O,).
    """
    H, W_hy = cache
    O, n_h = W_hy.shape
    expected = H.shape[:-1] + (O,)
    check_array(dY, "dY", _SYMBOLS[H.ndim][:-1] + ("O",), expected, hint="dY has the shape of the outputs Y")
    check_same_dtype(dY=dY, H=H)
    dY_rows = dY.reshape(-1, O)                     # (T*B, O) or (B, O)
    return {
        "H": dY @ W_hy,
        "W_hy": dY_rows.T @ H.reshape(-1, n_h),
        "b_y": dY_rows.sum(axis=0),
    }
