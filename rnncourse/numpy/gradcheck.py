"""Gradient checking: compare an analytic gradient with centred finite differences.

.. math::

    \\frac{\\partial f}{\\partial \\theta_i} \\approx
    \\frac{f(\\theta + \\epsilon e_i) - f(\\theta - \\epsilon e_i)}{2\\epsilon}

The error of the centred difference is of order ``eps**2``; with float64 and
``eps = 1e-6`` a correct backward pass agrees to a relative error of about
``1e-8`` or better. :func:`numerical_gradient` and :func:`grad_check` take
float64 parameters only: in float32 rounding swamps the difference.

A gradient too small for the difference to see cannot be checked this way:
``f`` is known only to about ``eps_mach * |f|`` (``eps_mach`` = 2.2e-16 in
float64), so a slope below about ``eps_mach * |f| / eps`` moves ``f`` by less
than its rounding. :func:`grad_check` reports such a parameter as ``inf``, a
value that fails every tolerance, with a warning that says it could not be checked.
"""

from __future__ import annotations

import math
import warnings

import numpy as np

from rnncourse.validation import check_float_array, check_positive_float, check_writable

__all__ = ["numerical_gradient", "rel_error", "grad_check"]


def _check_params(params):
    if not isinstance(params, dict):
        raise TypeError(f"params should be a dict of numpy arrays by name, but is {type(params).__name__}")
    for name, p in params.items():
        check_float_array(p, f"params[{name!r}]")
        if p.dtype != np.float64:
            raise TypeError(f"params[{name!r}] should be float64, but has dtype {p.dtype}: in lower precision "
                            f"rounding swamps the finite difference; build the model in float64 for the check "
                            f"(e.g. dtype=np.float64)")


def _loss_value(f, where: str) -> float:
    """Call ``f`` and return its loss as a float; a clear error for a tuple, an array, None or NaN."""
    value = f()
    if isinstance(value, (tuple, list)):
        raise TypeError(f"f should return the loss as a real number, but returned a {type(value).__name__} of "
                        f"{len(value)} items; if it returns (loss, grads), index it with [0], "
                        f"e.g. lambda: model_loss(...)[0]")
    if value is None:
        raise TypeError("f should return the loss as a real number, but returned None; does it end with return ...?")
    if np.ndim(value) != 0:
        raise TypeError(f"f should return the loss as a real number, but returned {type(value).__name__} of shape "
                        f"{tuple(np.shape(value))}; reduce it to one number, e.g. with .sum()")
    not_real = isinstance(value, (bool, np.bool_, str, bytes, complex, np.complexfloating))
    try:
        loss = None if not_real else float(value)
    except (TypeError, ValueError):                  # a dict, an object without __float__ ...
        loss = None
    if loss is None:
        raise TypeError(f"f should return the loss as a real number, but returned {type(value).__name__} {value!r}")
    if not np.isfinite(loss):
        raise ValueError(f"f returned {loss} with {where}; finite differences need a finite loss around params")
    return loss


def numerical_gradient(f, params, eps=1e-6):
    """Centred finite-difference gradient of a scalar function of the arrays in ``params``.

    ``f`` takes no argument and reads the arrays of ``params`` (e.g. through a
    closure); each entry is nudged *in place* by ``+eps`` and ``-eps`` and then
    restored, so after the call ``params`` holds exactly its old values (also when
    ``f`` raises). The arrays must be writable and float64. The slope is
    divided by the step actually taken (``old + eps`` and ``old - eps`` rounded
    to float64), not by ``2 * eps``. Pass a sub-dict to check only some arrays
    (its values are the same array objects).

    Parameters
    ----------
    f : callable
        ``f() -> float``, the loss computed from the current contents of ``params``;
        a real, finite number (for a function returning ``(loss, grads)``, pass
        ``lambda: loss_and_grads()[0]``).
    params : dict
        Writable float64 arrays by name (float32 is refused: its rounding swamps the difference).
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
    check_writable(params, "params", "numerical_gradient nudges its entries",
                   fix="make the array that f reads writable (e.g. create it with .copy())")
    grads = {}
    for name, p in params.items():
        g = np.zeros_like(p)
        for i in np.ndindex(p.shape):
            entry = f"params[{name!r}][{', '.join(map(str, i))}]" if i else f"params[{name!r}]"
            old = p[i]
            try:
                p[i] = old + eps
                theta_plus, f_plus = float(p[i]), _loss_value(f, f"{entry} nudged by +eps")
                p[i] = old - eps
                theta_minus, f_minus = float(p[i]), _loss_value(f, f"{entry} nudged by -eps")
            finally:
                p[i] = old                           # restore exactly, also when f raises
            g[i] = (f_plus - f_minus) / _step_taken(theta_plus, theta_minus, entry, eps)
        grads[name] = g
    return grads


def _step_taken(theta_plus: float, theta_minus: float, entry: str, eps: float) -> float:
    """The step actually taken, ``theta_plus - theta_minus``: ``old +- eps`` is rounded to float64, so it is
    ``2 * eps`` only roughly (far from it for a large entry); dividing by it keeps the slope right."""
    step = theta_plus - theta_minus
    if step <= 0:
        raise ValueError(f"{entry} = {(theta_plus + theta_minus) / 2:g} is too large for eps = {eps:g}: adding "
                         f"and subtracting eps leave it unchanged in float64; pass a larger eps")
    return step


def _real_array(a, name: str) -> np.ndarray:
    """``a`` as a float64 array; a clear error for None, text, booleans, complex numbers, NaN or infinity."""
    array = np.asarray(a)
    if a is None or array.dtype.kind not in "iuf":
        what = "None" if a is None else f"{type(a).__name__} with dtype {array.dtype}"
        raise TypeError(f"{name} should be an array of real numbers, but is {what}")
    array = array.astype(np.float64)
    if not np.isfinite(array).all():
        raise ValueError(f"{name} contains NaN or infinity; the relative error is defined for finite numbers only")
    return array


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
        Arrays of real, finite numbers, of the same shape.

    Returns
    -------
    float
        The relative error, in ``[0, 1]``.

    Raises
    ------
    TypeError
        If ``a`` or ``b`` is not an array of real numbers (None, text, booleans).
    ValueError
        If the shapes differ or an entry is NaN or infinite.

    Example
    -------
    >>> rel_error(np.array([1.0, 2.0]), np.array([1.0, 2.002]))
    0.0004997501249374762
    """
    a, b = _real_array(a, "a"), _real_array(b, "b")
    if a.shape != b.shape:
        raise ValueError(f"a and b should have the same shape, but have shapes {a.shape} and {b.shape}")
    if a.size == 0:
        return 0.0
    if max(float(np.max(np.abs(a))), float(np.max(np.abs(b)))) > np.finfo(np.float64).max / 2:
        a, b = a / 2, b / 2                          # |a| + |b| would overflow; halving is exact and keeps the ratio
    scale = max(float(np.max(np.abs(a) + np.abs(b))), np.finfo(np.float64).tiny)
    return float(np.max(np.abs(a - b))) / scale


# The floor is this many times eps_mach * max(|f|, 1) / eps. A slope g moves f by 2 * eps * g, so a gradient
# below the floor changes f by less than 2 * _FLOOR_FACTOR = 20 units of its last digit (f's own rounding is a
# few of them): the difference then resolves g to a few per cent at best, far from any tolerance a gradient
# check uses (1e-6), and is often exactly 0. Small, so that every gradient the difference can see keeps its
# relative error; max(|f|, 1) because f's rounding follows the size of the terms summed into it, which a loss
# near 0 by cancellation hides.
_FLOOR_FACTOR = 10


def _resolution_floor(f0: float, eps: float) -> float:
    """The smallest gradient the centred difference resolves at a loss of ``f0``, step ``eps``."""
    return _FLOOR_FACTOR * float(np.finfo(np.float64).eps) * max(abs(f0), 1.0) / eps


def _errors_with_floor(analytic: dict, numerical: dict, floor: float) -> tuple:
    """``({name: relative error}, [names below the floor])``: ``inf`` for a parameter whose analytic and
    numerical gradients differ but are both below ``floor`` (finite differences cannot tell them apart there;
    equal ones, both exactly 0 say, agree: relative error 0)."""
    errors, unresolved = {}, []
    for name, n in numerical.items():
        a = analytic[name]
        if a.size and not np.array_equal(a, n) and max(float(np.max(np.abs(a))), float(np.max(np.abs(n)))) < floor:
            errors[name] = math.inf
            unresolved.append(name)
        else:
            errors[name] = rel_error(a, n)
    return errors, unresolved


def grad_check(f, params, analytic, eps=1e-6):
    """Relative error between analytic gradients and finite differences, per parameter.

    Parameters
    ----------
    f : callable
        ``f() -> float``, reading the arrays of ``params``.
    params : dict
        Writable float64 arrays by name; only these are checked.
    analytic : dict
        The analytic gradients, with (at least) the keys of ``params``, each of
        its parameter's shape.
    eps : float
        Finite-difference step.

    Returns
    -------
    dict
        ``{name: rel_error(analytic[name], numerical[name])}``; below about
        ``1e-6`` in float64 means the backward pass is right (a relative error is
        at most 1). ``inf`` (never a pass, also in ``max(errors.values()) < tol``;
        with a warning, since the gradient may well be right) for a
        parameter whose analytic and numerical gradients differ but are both, in
        every entry, below the resolution of the centred difference,
        ``10 * eps_mach * max(|f|, 1) / eps`` (``eps_mach`` = 2.2e-16, ``f`` at the
        unperturbed ``params``; 2.2e-9 for ``|f| <= 1`` and ``eps = 1e-6``). There
        the numerical gradient is rounding, often exactly 0, and a relative error
        would fail a correct gradient. If either side is above the resolution, or
        the two are equal (a gradient that is exactly 0, as ``W_hh``'s over one
        step), the relative error is returned as usual (a gradient of 1 against a
        numerical 0 fails; equal ones give 0).

    Warns
    -----
    RuntimeWarning
        For each parameter reported as ``inf``, naming it and the resolution. To
        check it, make its gradient larger: scale the loss up, or use fewer time
        steps (a gradient that vanishes over a long sequence is the usual case).

    Example
    -------
    >>> errors = grad_check(lambda: model_loss(params, x, y)[0], params, grads)   # doctest: +SKIP
    >>> max(errors.values()) < 1e-6                                                # doctest: +SKIP
    True
    """
    _check_params(params)
    if not isinstance(analytic, dict):
        raise TypeError(f"analytic should be a dict of gradient arrays keyed like params, but is "
                        f"{type(analytic).__name__}; pass e.g. the grads that model_loss returns")
    missing = [name for name in params if name not in analytic]
    if missing:
        raise ValueError(f"analytic has no gradient for {missing}; it should have the keys of params")
    checked = {}
    for name, p in params.items():                   # before the slow finite differences
        checked[name] = g = _real_array(analytic[name], f"analytic[{name!r}]")
        if g.shape != p.shape:
            raise ValueError(f"analytic[{name!r}] should have the shape of params[{name!r}], {p.shape}, "
                             f"but has shape {g.shape}")
    numerical = numerical_gradient(f, params, eps)
    floor = _resolution_floor(_loss_value(f, "params unchanged"), float(eps))
    errors, unresolved = _errors_with_floor(checked, numerical, floor)
    for name in unresolved:
        warnings.warn(f"grad_check cannot verify params[{name!r}]: its analytic and numerical gradients are both "
                      f"below {floor:.1e}, the smallest gradient that finite differences can resolve at this loss "
                      f"and eps (a smaller slope changes f by less than its rounding), so it is reported as inf, which "
                      f"fails every tolerance though the gradient may be right. To check it, make the gradient larger: "
                      f"scale the loss up, or use fewer steps if it vanishes over a long sequence",
                      RuntimeWarning, stacklevel=2)
    return errors
