"""Losses in NumPy, each returning the loss and its gradient with respect to the prediction.

Both losses are *means* over the positions that count, like PyTorch's
``reduction="mean"``; an optional ``mask`` (``True``/1 = counts, ``False``/0 =
ignored, e.g. padding) restricts the mean to the unmasked positions.
"""

from __future__ import annotations

import numpy as np

from rnncourse.validation import check_array, check_axis, check_index_array, check_same_dtype

__all__ = ["softmax", "softmax_cross_entropy", "mse_loss"]

_LOGIT_SYMBOLS = {2: ("B", "V"), 3: ("T", "B", "V")}
_PRED_SYMBOLS = {1: ("B",), 2: ("B", "O"), 3: ("T", "B", "O")}


def _check_any_shape(a, name):
    """Type, dtype and finiteness checks of :func:`~rnncourse.validation.check_array`, for any number of dimensions."""
    check_array(a, name, tuple(f"n{i}" for i in range(getattr(a, "ndim", 0))))


def softmax(z, axis=-1):
    """Numerically stable softmax, ``exp(z - max z) / sum(exp(z - max z))`` along ``axis``.

    Parameters
    ----------
    z : numpy.ndarray
        Scores (logits) of any shape, with at least one score along ``axis``.
    axis : int
        Axis along which the probabilities sum to one (default: the last); from ``-z.ndim`` to ``z.ndim - 1``.

    Returns
    -------
    numpy.ndarray
        Probabilities, same shape and dtype as ``z``.

    Example
    -------
    >>> softmax(np.array([0.0, np.log(3.0)]))
    array([0.25, 0.75])
    """
    _check_any_shape(z, "z")
    axis = check_axis(axis, "axis", z.ndim)
    if z.shape[axis] == 0:
        raise ValueError(f"z should hold at least one score along axis {axis}, but that axis has size 0 "
                         f"(z has shape {z.shape}); a softmax over no scores is undefined")
    e = np.exp(z - z.max(axis=axis, keepdims=True))
    return e / e.sum(axis=axis, keepdims=True)


def _check_mask(mask, shape, dtype, allowed):
    """Return the mask as weights of ``dtype``; ``allowed`` lists the accepted shapes in words."""
    if not isinstance(mask, np.ndarray):
        raise TypeError(f"mask should be a numpy.ndarray of bools or 0/1 numbers, but is {type(mask).__name__}")
    if mask.shape not in shape:
        raise ValueError(f"mask should have shape {allowed}, but has shape {mask.shape}")
    if mask.dtype == bool or np.issubdtype(mask.dtype, np.integer):
        mask = mask.astype(dtype)
    else:
        _check_any_shape(mask, "mask")
        mask = mask.astype(dtype, copy=False)
    if (mask < 0).any():
        raise ValueError("mask should hold bools or 0/1 values (non-negative weights), but has negative values")
    if mask.sum() == 0:
        raise ValueError("mask selects no position (it is all False/0), so the mean loss is undefined")
    return mask


def softmax_cross_entropy(logits, targets, mask=None):
    """Mean cross-entropy of softmax(logits) against integer targets, and its gradient.

    .. math::

        L = \\frac{1}{\\sum m_{t,b}} \\sum_{t,b} m_{t,b} \\left(-\\log \\operatorname{softmax}(z_{t,b})_{y_{t,b}}\\right),
        \\qquad \\frac{\\partial L}{\\partial z_{t,b}} = \\frac{m_{t,b}}{\\sum m} (p_{t,b} - \\mathrm{onehot}(y_{t,b}))

    Without a mask (all ``m = 1``) this equals
    ``torch.nn.functional.cross_entropy(logits.reshape(-1, V), targets.reshape(-1))``
    with ``reduction="mean"``.

    Parameters
    ----------
    logits : numpy.ndarray, shape (T, B, V) or (B, V)
        Unnormalised scores over ``V`` classes at each position.
    targets : numpy.ndarray, shape (T, B) or (B,)
        Integer class indices in ``[0, V)``.
    mask : numpy.ndarray, shape (T, B) or (B,), or None
        Bools or 0/1 floats: which positions count (non-negative weights give a
        weighted mean). ``None`` means all positions.

    Returns
    -------
    loss : numpy.floating
        The mean loss over the unmasked positions, in the dtype of ``logits``.
    dlogits : numpy.ndarray, shape like ``logits``
        Gradient of ``loss`` with respect to ``logits`` (zero at masked positions).

    Example
    -------
    >>> loss, dlogits = softmax_cross_entropy(np.zeros((2, 4)), np.array([0, 3]))
    >>> round(float(loss), 4)   # log(4)
    1.3863
    """
    if getattr(logits, "ndim", None) not in _LOGIT_SYMBOLS:
        _check_any_shape(logits, "logits")
        raise ValueError(f"logits should have shape (T, B, V) or (B, V), but has shape {logits.shape}")
    check_array(logits, "logits", _LOGIT_SYMBOLS[logits.ndim])
    V = logits.shape[-1]
    lead = logits.shape[:-1]
    if 0 in lead:
        raise ValueError(f"logits should hold at least one position, but has shape {logits.shape}; the mean loss "
                         f"over no position is undefined")
    check_index_array(targets, "targets", _LOGIT_SYMBOLS[logits.ndim][:-1], lead, high=V)
    m = np.ones(lead, dtype=logits.dtype) if mask is None else \
        _check_mask(mask, (lead,), logits.dtype, f"{lead}, the shape of targets")
    z = logits - logits.max(axis=-1, keepdims=True)     # the same softmax, and exp(z) cannot overflow
    z_y = np.take_along_axis(z, targets[..., None], axis=-1)
    exp_z = np.exp(z, out=z)                            # written over z, one array fewer
    sum_exp = exp_z.sum(axis=-1, keepdims=True)
    nll = (np.log(sum_exp) - z_y)[..., 0]               # -log softmax(z)_y = log sum exp(z) - z_y
    n = m.sum()
    loss = (m * nll).sum() / n
    weight = (m / n)[..., None]                         # each position's share of the mean
    dlogits = exp_z                                     # written over exp(z) too
    dlogits *= weight / sum_exp                         # weight * softmax(z)
    d = dlogits.reshape(-1, V)                          # one row per position (a copy only if logits is permuted)
    d[np.arange(len(d)), targets.ravel()] -= weight.ravel()     # - weight * onehot(y)
    return logits.dtype.type(loss), d.reshape(logits.shape)     # weight * (softmax(z) - onehot(y))


def mse_loss(pred, target, mask=None):
    """Mean squared error and its gradient, like ``torch.nn.MSELoss(reduction="mean")``.

    .. math::

        L = \\frac{1}{N} \\sum_i m_i (\\hat y_i - y_i)^2, \\qquad
        \\frac{\\partial L}{\\partial \\hat y_i} = \\frac{2 m_i}{N} (\\hat y_i - y_i)

    where ``N = sum(m)`` over the *elements*: the number of unmasked elements for
    a 0/1 mask (``sum(m)`` times ``O`` when the mask is given per position).

    Parameters
    ----------
    pred : numpy.ndarray, shape (T, B, O), (B, O) or (B,)
        Predictions.
    target : numpy.ndarray, same shape as ``pred``
        Targets, same dtype as ``pred``.
    mask : numpy.ndarray or None
        Bools or 0/1 floats (non-negative weights give a weighted mean), either the
        shape of ``pred`` (per element) or that shape without the last axis (per
        position, e.g. (T, B)). ``None``: all count.

    Returns
    -------
    loss : numpy.floating
        The mean over all unmasked elements, in the dtype of ``pred``.
    dpred : numpy.ndarray, shape like ``pred``
        Gradient of ``loss`` with respect to ``pred``.

    Example
    -------
    >>> loss, dpred = mse_loss(np.array([1.0, 2.0]), np.array([0.0, 0.0]))
    >>> float(loss)
    2.5
    """
    if getattr(pred, "ndim", None) not in _PRED_SYMBOLS:
        _check_any_shape(pred, "pred")
        raise ValueError(f"pred should have shape (T, B, O), (B, O) or (B,), but has shape {pred.shape}")
    symbols = _PRED_SYMBOLS[pred.ndim]
    check_array(pred, "pred", symbols)
    check_array(target, "target", symbols, pred.shape, hint="target has the shape of pred")
    check_same_dtype(pred=pred, target=target)
    if pred.size == 0:
        raise ValueError(f"pred should hold at least one value, but has shape {pred.shape}; the mean loss over no "
                         f"value is undefined")
    diff = pred - target
    if mask is None:
        m, n = 1, diff.size
    else:
        m = _check_mask(mask, (pred.shape, pred.shape[:-1]), pred.dtype,
                        f"{pred.shape} (per element) or {pred.shape[:-1]} (per position)")
        if m.shape != pred.shape:
            m = m[..., None]                         # per position -> broadcast over the last axis
        n = m.sum() * (pred.size // m.size)
    loss = (m * diff * diff).sum() / n
    dpred = (2 / n) * m * diff
    return pred.dtype.type(loss), dpred.astype(pred.dtype, copy=False)
