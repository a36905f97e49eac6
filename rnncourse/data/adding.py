r"""The adding problem of Hochreiter and Schmidhuber (1997), a long-range dependency task.

Each time step carries a pair ``(value, marker)``: the value is drawn from
U(-1, 1), the marker is 1 at exactly two steps and 0 (or -1, see below)
elsewhere. After reading the whole sequence the network must output the sum
of the two marked values, :math:`S = X_1 + X_2`; in the paper's scaling the
target is

.. math::

    y = 0.5 + \frac{X_1 + X_2}{4} \in [0, 1],

and a sequence counts as *processed correctly* when the absolute error at
the end is below 0.04 (0.16 on the scale of ``S``).

Two placements of the markers:

- ``adding_problem(B, T, rng=rng)`` follows the paper: the first marker is one
  of the first ten steps, the second one of the first ``T // 2 - 1`` still
  unmarked steps; the first and the last step carry the marker -1 unless they
  are marked (if the very first step is marked, its value is set to 0). One
  simplification: every sequence has length ``T`` (the paper draws lengths
  between T and T + T/10), so that sequences can be batched.
- ``adding_problem(B, T, rng=rng, lag=L)`` controls the time lag: the first
  marker sits exactly ``L`` steps before the last step (index ``T - 1 - L``),
  the second one at a uniformly chosen later step; no -1 markers. With
  ``T = L + 1`` the first marker is the first step, and the network has to
  carry ``X_1`` through all ``L`` recurrent steps.

Arrays are time-major, ``x`` of shape (T, B, 2). The module knows no model.
"""

from __future__ import annotations

import numpy as np

from rnncourse.validation import (check_array, check_bool, check_float_dtype, check_positive_float,
                                  check_positive_int, check_rng)

__all__ = ["adding_problem", "adding_target", "CORRECT_TOLERANCE", "chance_accuracy", "chance_mse"]

#: The paper's tolerance. A sequence is processed correctly if ``|prediction - y| < 0.04``
#: on the scaled target ``y = 0.5 + S / 4``.
CORRECT_TOLERANCE = 0.04



def _check_scaled(scaled) -> bool:
    """Check that ``scaled`` is a bool: any other value (``"no"``, 0.0, None) is refused rather than read as truthy."""
    return check_bool(scaled, "scaled", choices="True (the paper's target 0.5 + S / 4) or False (the sum S)")


def adding_target(S, scaled=True):
    """The target for the sum ``S = X_1 + X_2``: ``0.5 + S / 4`` (the paper's) or ``S`` itself.

    Parameters
    ----------
    S : numpy.ndarray
        Sums of the two marked values, in [-2, 2].
    scaled : bool
        ``True`` (default): map to [0, 1] as the paper does; ``False``: a copy of ``S``.

    Returns
    -------
    numpy.ndarray
        The targets, a new array of the shape and dtype of ``S``.

    Raises
    ------
    ValueError
        If a sum lies outside [-2, 2], or is NaN or infinite.
    """
    check_array(S, "S", ("...",) * np.ndim(S))     # any shape: only the type and the values are checked
    scaled = _check_scaled(scaled)
    outside = np.abs(S) > 2                         # check_array has refused NaN and infinity
    if outside.any():
        raise ValueError(f"S should hold sums of two values in [-1, 1], so in [-2, 2], but holds {S[outside][0]}")
    return 0.5 + S / 4.0 if scaled else S.copy()


def _paper_positions(B, T, rng):
    """Marker positions of the paper: p1 among the first 10 steps, p2 the k-th still unmarked step."""
    p1 = rng.integers(0, 10, size=B)
    k = rng.integers(0, T // 2 - 1, size=B)   # index among the first T//2 - 1 unmarked steps
    p2 = np.where(k < p1, k, k + 1)           # skip over the step p1 already marked
    return p1, p2


def _lag_positions(B, T, lag, rng):
    """p1 exactly ``lag`` steps before the end, p2 uniformly among the later steps."""
    p1 = np.full(B, T - 1 - lag)
    p2 = rng.integers(T - lag, T, size=B)
    return p1, p2


def adding_problem(batch_size, T, *, rng, lag=None, scaled=True, dtype=np.float32):
    """Draw a batch of the adding problem.

    Parameters
    ----------
    batch_size : int
        ``B``, the number of sequences.
    T : int
        Sequence length (at least 10 for the paper's placement, at least
        ``lag + 1`` with ``lag``).
    rng : numpy.random.Generator
        Source of randomness, e.g. ``np.random.default_rng(0)``.
    lag : int, optional
        ``None`` (default): the paper's marker placement. An integer ``L >= 1``:
        the first marker ``L`` steps before the last step, the second later.
    scaled : bool
        Target ``0.5 + S / 4`` (default, the paper's) or the plain sum ``S``.
    dtype : numpy.dtype
        ``numpy.float32`` (default, for PyTorch) or ``numpy.float64``.

    Returns
    -------
    x : numpy.ndarray, shape (T, B, 2)
        ``x[t, b, 0]`` the value, ``x[t, b, 1]`` the marker.
    y : numpy.ndarray, shape (B, 1)
        The target of each sequence.

    Examples
    --------
    >>> x, y = adding_problem(4, 21, rng=np.random.default_rng(0), lag=20)
    >>> x.shape, y.shape
    ((21, 4, 2), (4, 1))
    >>> bool((x[0, :, 1] == 1).all())      # lag 20 in a sequence of 21: first step marked
    True
    """
    B = check_positive_int(batch_size, "batch_size")
    T = check_positive_int(T, "T")
    check_rng(rng)
    scaled = _check_scaled(scaled)
    dtype = check_float_dtype(dtype)
    if lag is None:
        if T < 10:
            raise ValueError(f"T should be at least 10 for the paper's marker placement (the first marker is one "
                             f"of the first ten steps), but is {T}; pass a larger T or use lag=...")
        p1, p2 = _paper_positions(B, T, rng)
    else:
        lag = check_positive_int(lag, "lag")
        if lag > T - 1:
            raise ValueError(f"lag should be at most T - 1 = {T - 1} (the first marker sits lag steps before "
                             f"the last step), but is {lag}; use T = lag + 1 or longer sequences")
        p1, p2 = _lag_positions(B, T, lag, rng)
    x = np.zeros((T, B, 2))
    x[:, :, 0] = rng.uniform(-1.0, 1.0, size=(T, B))
    b = np.arange(B)
    if lag is None:
        x[0, :, 1] = x[-1, :, 1] = -1.0
    x[p1, b, 1] = x[p2, b, 1] = 1.0
    if lag is None:
        x[0, x[0, :, 1] == 1.0, 0] = 0.0      # the paper zeroes the value when the first step is marked
    S = x[p1, b, 0] + x[p2, b, 0]
    return x.astype(dtype), adding_target(S, scaled)[:, None].astype(dtype)


def chance_accuracy(tolerance=CORRECT_TOLERANCE, scaled=True):
    """Fraction of sequences a constant prediction of the mean gets within ``tolerance``.

    ``S = X_1 + X_2`` has the triangular density ``(2 - |s|) / 4`` on [-2, 2];
    predicting its mean 0 (0.5 on the scaled target) is correct when
    ``|S| < r`` with ``r = 4 * tolerance`` (scaled) or ``tolerance``, which has
    probability ``r - r**2 / 4``. This is the baseline a network reaches without
    remembering either value (for ``lag=...``, as in :func:`chance_mse`).

    Parameters
    ----------
    tolerance : float
        A prediction is correct when its absolute error is below it; >= 0 (default the paper's 0.04).
    scaled : bool
        Whether the tolerance applies to the scaled target (default) or to ``S``.

    Returns
    -------
    float
        The baseline accuracy (0.1536 for the paper's tolerance).
    """
    tolerance = check_positive_float(tolerance, "tolerance", allow_zero=True)   # a bound on |prediction - y|
    scaled = _check_scaled(scaled)
    r = min(4.0 * tolerance if scaled else tolerance, 2.0)
    return r - r * r / 4.0


def chance_mse(scaled=True):
    """Mean squared error of the best constant prediction: the variance of the target.

    ``X_1`` and ``X_2`` are independent U(-1, 1), so ``Var(S) = 2/3``; the scaled
    target ``0.5 + S / 4`` has variance ``(2/3) / 16 = 1/24``. A test MSE near
    this value means the network has learned nothing about the marked values.
    (This holds for ``lag=...``; the paper's placement zeroes the first step's value
    whenever that step is marked, in at least one sequence out of ten, which lowers
    the variance: by about 14 % at T = 12.)

    Parameters
    ----------
    scaled : bool
        For the scaled target (default) or for ``S``.

    Returns
    -------
    float
        ``1/24`` (scaled) or ``2/3``.
    """
    scaled = _check_scaled(scaled)
    return 1.0 / 24.0 if scaled else 2.0 / 3.0
