"""Gradient clipping in NumPy, with the semantics of ``torch.nn.utils.clip_grad_norm_``.

Clipping by norm :cite:`pascanu2013difficulty` rescales *all* gradients together
when their joint norm is large, keeping the direction of the update; clipping by
value clamps each entry separately.
"""

from __future__ import annotations

import numpy as np

from rnncourse.validation import check_float_array, check_positive_float, check_writable

__all__ = ["grad_norm", "clip_grad_norm", "clip_grad_value"]


def _check(grads):
    if not isinstance(grads, dict):
        raise TypeError(f"grads should be a dict of numpy arrays by name, but is {type(grads).__name__}")
    for name, g in grads.items():
        check_float_array(g, f"grads[{name!r}]")
        if not np.isfinite(g).all():
            raise FloatingPointError(f"gradient of {name} contains NaN/inf: training diverged; "
                                     f"lower the learning rate (clipping cannot repair a NaN)")


def _norm_type(norm_type):
    if isinstance(norm_type, str) and norm_type == "inf":
        return np.inf
    if norm_type == np.inf:
        return np.inf
    return check_positive_float(norm_type, "norm_type")


def grad_norm(grads, norm_type=2.0):
    """The norm of all gradients together, as if they were one long vector.

    .. math::

        \\|g\\|_p = \\Big(\\sum_{\\text{name}} \\sum_i |g_{\\text{name}, i}|^p\\Big)^{1/p},
        \\qquad \\|g\\|_\\infty = \\max |g_{\\text{name}, i}|

    Parameters
    ----------
    grads : dict
        Gradient arrays by name.
    norm_type : float
        ``p``; ``2.0`` (default), any ``p > 0``, or ``numpy.inf`` (also ``"inf"``).

    Returns
    -------
    float
        The total norm.

    Example
    -------
    >>> grad_norm({"a": np.array([3.0]), "b": np.array([4.0])})
    5.0
    """
    _check(grads)
    p = _norm_type(norm_type)
    if not grads:
        return 0.0
    with np.errstate(over="ignore", under="ignore"):             # looked at just below
        norms = np.array([np.linalg.norm(g.ravel(), ord=p) for g in grads.values()], dtype=np.float64)
        total = float(np.linalg.norm(norms, ord=p))
    # Below this norm some |g|^p may have left the normal numbers of its dtype and lost digits.
    low = max((np.finfo(g.dtype).tiny / np.finfo(g.dtype).eps) ** (1.0 / p) for g in grads.values())
    if not low <= total < np.inf and any(np.any(g) for g in grads.values()):
        # |g|^p overflowed to inf (float32 squares do from entries of about 1e19) or came near or below
        # the smallest normal number (from entries of about 1e-16): the same norm, computed after
        # dividing every entry by the largest |entry|.
        largest = max(float(np.max(np.abs(g), initial=0.0)) for g in grads.values())
        total = largest * sum(float(np.sum((np.abs(g, dtype=np.float64) / largest) ** p))
                              for g in grads.values()) ** (1.0 / p)
    return total


def clip_grad_norm(grads, max_norm, norm_type=2.0):
    """Rescale all gradients in place so that their joint norm is at most ``max_norm``.

    Like ``torch.nn.utils.clip_grad_norm_``: every gradient is multiplied by

    .. math::

        c = \\min\\Big(1, \\frac{\\text{max\\_norm}}{\\|g\\| + 10^{-6}}\\Big)

    Parameters
    ----------
    grads : dict
        Writable float32 or float64 gradient arrays by name, modified in place.
    max_norm : float
        Largest allowed norm, > 0; ``math.inf`` only measures (as in
        :func:`rnncourse.torch.clip.clip_grad_norm`).
    norm_type : float
        As in :func:`grad_norm`.

    Returns
    -------
    float
        The total norm *before* clipping (handy to log and plot).

    Raises
    ------
    TypeError
        If ``max_norm`` is not a number, or a gradient is not a float32 or float64 array.
    ValueError
        If ``max_norm`` is not > 0 (NaN included), or a gradient is read-only (checked before any
        array changes).
    FloatingPointError
        If a gradient holds NaN or infinity.

    Example
    -------
    >>> grads = {"W_hh": np.array([[30.0, 40.0]])}
    >>> clip_grad_norm(grads, max_norm=5.0)
    50.0
    """
    # math.inf measures only: min(inf, 1.0) below leaves the gradients as they are
    max_norm = check_positive_float(max_norm, "max_norm", allow_inf=True, why="math.inf only measures the norm")
    total_norm = grad_norm(grads, norm_type)
    check_writable(grads, "grads", "clip_grad_norm rescales it")     # before any array changes
    clip_coef = min(max_norm / (total_norm + 1e-6), 1.0)
    for g in grads.values():
        g *= clip_coef
    return total_norm


def clip_grad_value(grads, clip_value):
    """Clamp every gradient entry in place into ``[-clip_value, clip_value]``, like ``clip_grad_value_``.

    Parameters
    ----------
    grads : dict
        Writable float32 or float64 gradient arrays by name, modified in place.
    clip_value : float
        Largest allowed absolute value.
    """
    clip_value = check_positive_float(clip_value, "clip_value")
    _check(grads)
    check_writable(grads, "grads", "clip_grad_value clamps it")
    for g in grads.values():
        np.clip(g, -clip_value, clip_value, out=g)
