"""Gradient checking: compare an analytic gradient with centred finite differences.

.. math::

    \\frac{\\partial f}{\\partial \\theta_i} \\approx
    \\frac{f(\\theta + \\epsilon e_i) - f(\\theta - \\epsilon e_i)}{2\\epsilon}

The error of the centred difference is of order ``eps**2``; with float64 and
``eps = 1e-6`` a correct backward pass agrees to a relative error of about
``1e-8`` or better. Use float64: in float32 rounding swamps the difference.
"""

from __future__ import annotations

import numpy as np

from rnncourse.validation import check_positive_float

__all__ = ["numerical_gradient", "rel_error", "grad_check"]


def _check_params(params):
    if not isinstance(params, dict):
        raise TypeError(f"params should be a dict of numpy arrays by name, but is {type(params).__name__}")
    for name, p in params.items():
        if not isinstance(p, np.ndarray) or not np.issubdtype(p.dtype, np.floating):
            raise TypeError(f"params[{name!r}] should be a floating-point numpy.ndarray, but is {type(p).__name__}")


def numerical_gradient(f, params, eps=1e-6):
    """Centred finite-difference gradient of a scalar function of the arrays in ``params``.

    ``f`` takes no argument and reads the arrays of ``params`` (e.g. through a
    closure); each entry is nudged *in place* by ``+eps`` and ``-eps`` and then
    restored, so after the call ``params`` holds exactly its old values. Pass a
    sub-dict to check only some arrays (its values are the same array objects).

    Parameters
    ----------
    f : callable
        ``f() -> float``, the loss computed from the current contents of ``params``.
    params : dict
        Arrays by name (float64 recommended).
    eps : float
        Step size.

    Returns
    -------
    dict
        For each name, an array of ``params[name]``'s shape and dtype with the
        estimated gradient.

    Example
    -------
    >>> p = {"w": np.array([1.0, 2.0])}
    >>> numerical_gradient(lambda: float((p["w"] ** 2).sum()), p)["w"].round(6)
    array([2., 4.])
    """
    if not callable(f):
        raise TypeError(f"f should be a function of no arguments returning the loss, but is {type(f).__name__}")
    _check_params(params)
    eps = check_positive_float(eps, "eps")
    grads = {}
    for name, p in params.items():
        g = np.zeros_like(p)
        for i in np.ndindex(p.shape):
            old = p[i]
            p[i] = old + eps
            f_plus = float(f())
            p[i] = old - eps
            f_minus = float(f())
            p[i] = old                               # restore exactly
            g[i] = (f_plus - f_minus) / (2 * eps)
        grads[name] = g
    return grads


def rel_error(a, b):
    """Relative error between two arrays, scaled by their largest entries.

    .. math::

        \\operatorname{rel}(a, b) = \\frac{\\max_i |a_i - b_i|}{\\max\\big(\\max_i (|a_i| + |b_i|),\\ \\text{tiny}\\big)}

    where ``tiny`` is the smallest positive normal float64 (so two zero arrays
    give 0, not a division by zero). Scaling by the largest entries, not entry by
    entry, keeps entries that are zero up to rounding from dominating. Identical
    arrays give 0; unrelated arrays of similar size give about 1.

    Parameters
    ----------
    a, b : numpy.ndarray
        Arrays of the same shape.

    Returns
    -------
    float
        The relative error, in ``[0, 1]``.

    Example
    -------
    >>> rel_error(np.array([1.0, 2.0]), np.array([1.0, 2.002]))
    0.0004997501249374762
    """
    a = np.asarray(a, dtype=np.float64)
    b = np.asarray(b, dtype=np.float64)
    if a.shape != b.shape:
        raise ValueError(f"a and b should have the same shape, but have shapes {a.shape} and {b.shape}")
    if a.size == 0:
        return 0.0
    scale = max(float(np.max(np.abs(a) + np.abs(b))), np.finfo(np.float64).tiny)
    return float(np.max(np.abs(a - b))) / scale


def grad_check(f, params, analytic, eps=1e-6):
    """Relative error between analytic gradients and finite differences, per parameter.

    Parameters
    ----------
    f : callable
        ``f() -> float``, reading the arrays of ``params``.
    params : dict
        Arrays by name; only these are checked.
    analytic : dict
        The analytic gradients, with (at least) the keys of ``params``.
    eps : float
        Finite-difference step.

    Returns
    -------
    dict
        ``{name: rel_error(analytic[name], numerical[name])}``; below about
        ``1e-6`` in float64 means the backward pass is right.

    Example
    -------
    >>> errors = grad_check(lambda: model_loss(params, x, y)[0], params, grads)   # doctest: +SKIP
    >>> max(errors.values()) < 1e-6                                                # doctest: +SKIP
    True
    """
    _check_params(params)
    missing = [name for name in params if name not in analytic]
    if missing:
        raise ValueError(f"analytic has no gradient for {missing}; it should have the keys of params")
    numerical = numerical_gradient(f, params, eps)
    return {name: rel_error(analytic[name], numerical[name]) for name in params}
