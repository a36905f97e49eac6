r"""How gradients travel back through time: products of per-step Jacobians (chapter 5).

Differentiating the recurrence :math:`h_t = f(a_t)`, :math:`a_t = W_{xh} x_t + W_{hh} h_{t-1} + b_h`,
with respect to the previous state gives the per-step Jacobian

.. math::

    J_t = \frac{\partial h_t}{\partial h_{t-1}} = \operatorname{diag}\big(f'(a_t)\big)\, W_{hh},

with :math:`f'(a_t) = 1 - h_t^2` for tanh, :math:`[h_t > 0]` for ReLU and 1 for a linear
RNN. The chain rule multiplies them:

.. math::

    \frac{\partial h_T}{\partial h_s} = J_T J_{T-1} \cdots J_{s+1}.

The norm of this product as a function of the lag :math:`T - s` says whether
gradients vanish (it shrinks geometrically) or explode (it grows). Bengio et al.
(1994) and Pascanu et al. (2013) bound it by :math:`(\gamma\, \sigma_{\max}(W_{hh}))^{T-s}`,
where :math:`\gamma` bounds :math:`|f'|`.

Indexing follows :func:`rnncourse.numpy.elman.rnn_forward`: ``hs[i]`` (0-based) is
:math:`h_{i+1}`, so ``J[i]`` is :math:`\partial h_{i+1} / \partial h_i`. NumPy only.
"""

from __future__ import annotations

import numpy as np

from rnncourse.numpy.elman import derivative, rnn_backward, rnn_forward
from rnncourse.validation import check_array, check_choice, check_positive_float, check_positive_int, check_same_dtype

__all__ = ["step_jacobians", "jacobian_product", "jacobian_norms", "norm_bound", "input_gradient_norms"]

NONLINEARITIES = ("tanh", "relu", "linear")
MATRIX_NORMS = (2, "fro", "nuc", 1, -1, -2, np.inf, -np.inf)     # the orders numpy.linalg.norm takes for matrices


def step_jacobians(hs, W_hh, nonlinearity="tanh"):
    """The per-step Jacobians ``J_t = diag(f'(a_t)) W_hh`` along a trajectory of hidden states.

    Parameters
    ----------
    hs : numpy.ndarray, shape (T, B, H)
        Hidden states ``h_1 ... h_T`` of ``B`` sequences, e.g. from ``rnn_forward``.
    W_hh : numpy.ndarray, shape (H, H)
        Hidden-to-hidden weights.
    nonlinearity : str
        ``"tanh"`` (default), ``"relu"`` or ``"linear"`` (``f(a) = a``: every
        ``J_t`` is ``W_hh``, whatever ``hs`` holds).

    Returns
    -------
    J : numpy.ndarray, shape (T, B, H, H)
        ``J[i, b]`` is :math:`\\partial h_{i+1} / \\partial h_i` for sequence ``b``.

    Examples
    --------
    >>> J = step_jacobians(np.zeros((3, 1, 2)), np.eye(2))   # tanh at h = 0: f' = 1
    >>> J.shape, bool(np.allclose(J, np.eye(2)))
    ((3, 1, 2, 2), True)
    """
    check_array(hs, "hs", ("T", "B", "H"), hint="hs holds the hidden states (T, B, H) returned by rnn_forward")
    H = hs.shape[2]
    check_array(W_hh, "W_hh", ("H", "H"), (H, H), hint="W_hh is square with the hidden size H of hs")
    check_choice(nonlinearity, "nonlinearity", NONLINEARITIES)
    check_same_dtype(hs=hs, W_hh=W_hh)
    return derivative(hs, nonlinearity)[..., :, None] * W_hh     # diag(f') W_hh: scale row j by f'_j


def jacobian_product(J, s):
    """The product ``dh_T/dh_s = J_T J_{T-1} ... J_{s+1}`` for ``s`` in ``0 .. T``.

    Parameters
    ----------
    J : numpy.ndarray, shape (T, B, H, H)
        Per-step Jacobians from :func:`step_jacobians`.
    s : int
        The earlier time step, ``0 <= s <= T``; ``s = T`` gives the identity
        and ``s = 0`` the Jacobian with respect to the initial state ``h_0``.

    Returns
    -------
    numpy.ndarray, shape (B, H, H)
        :math:`\\partial h_T / \\partial h_s` for each sequence, in ``J``'s dtype and not rescaled: over
        a long span its entries can overflow to ``inf`` (and then NaN, from ``inf * 0``) or underflow
        to 0. :func:`jacobian_norms` gives the norms of every such product without that limit.
    """
    check_array(J, "J", ("T", "B", "H", "H"), finite=False)         # the number of axes first; one scan below
    check_array(J, "J", ("T", "B", "H", "H"), (None, None, J.shape[2], J.shape[2]),
                hint="J comes from step_jacobians: one square Jacobian dh_t/dh_{t-1} per step and sequence")
    T, B, H, _ = J.shape
    s = check_positive_int(s, "s", minimum=0)
    if s > T:
        raise ValueError(f"s should be between 0 and T = {T}, but is {s}")
    P = np.broadcast_to(np.eye(H, dtype=J.dtype), (B, H, H)).copy()
    for t in range(s + 1, T + 1):  # J_t = dh_t/dh_{t-1} is J[t - 1]; the later factor multiplies from the left
        P = J[t - 1] @ P
    return P


def jacobian_norms(J, ord=2):
    """Norms of ``dh_T/dh_{T-l}`` for every lag ``l = 0 .. T``, built from the end backwards.

    Multiplying from the right, ``P_l = P_{l-1} J_{T-l+1}``, is what backpropagation
    does to a gradient row vector; it costs ``T`` matrix products for all lags.
    To stay within floating-point range, ``P`` is divided after each product by the power
    of two that brings its largest entry into [1/2, 1), and its norm is multiplied back:
    every matrix norm obeys ``||c P|| = |c| ||P||``, and powers of two scale exactly. Where
    the plain product and the squares of its entries stay normal numbers of ``J``'s dtype,
    the norms are the same, bit for bit; beyond that they still come out (more accurately
    than from the plain product): past float32's range for a float32 ``J``, ``inf`` past
    float64's largest number, 0 below its smallest.

    Parameters
    ----------
    J : numpy.ndarray, shape (T, B, H, H)
        Per-step Jacobians from :func:`step_jacobians`.
    ord : int or str
        Matrix norm passed to ``numpy.linalg.norm``: ``2`` (default, the
        largest singular value), ``"fro"``, ``"nuc"``, ``1``, ``-1``, ``-2``, ``inf`` or ``-inf``.

    Returns
    -------
    numpy.ndarray, shape (T + 1, B)
        Row ``l`` holds :math:`\\|\\partial h_T / \\partial h_{T-l}\\|`; row 0 is the
        norm of the identity. float64 whatever ``J``'s dtype.
    """
    check_array(J, "J", ("T", "B", "H", "H"), finite=False)         # the number of axes first; one scan below
    check_array(J, "J", ("T", "B", "H", "H"), (None, None, J.shape[2], J.shape[2]),
                hint="J comes from step_jacobians: one square Jacobian dh_t/dh_{t-1} per step and sequence")
    check_choice(ord, "ord", MATRIX_NORMS)
    T, B, H, _ = J.shape
    P = np.broadcast_to(np.eye(H, dtype=J.dtype), (B, H, H)).copy()
    exponent = np.zeros(B, dtype=np.int64)         # the true product is P * 2**exponent, per sequence
    norms = np.empty((T + 1, B))
    with np.errstate(over="ignore"):               # a norm beyond float64 is inf; a vanishing one becomes 0
        for lag in range(T + 1):
            if lag:
                P = P @ J[T - lag]
            _, e = np.frexp(np.abs(P).max(axis=(1, 2), initial=0))  # largest entry in [2**(e-1), 2**e); 0 for P = 0
            P = np.ldexp(P, -e[:, None, None])                      # exact: a power of two changes no digit
            exponent += e
            norms[lag] = np.ldexp(np.linalg.norm(P, ord=ord, axis=(1, 2)).astype(np.float64), exponent)
    return norms


def norm_bound(W_hh, lags, gamma=1.0):
    """The bound ``(gamma * sigma_max(W_hh)) ** lag`` on ``||dh_T/dh_{T-lag}||_2``.

    Each factor obeys ``||diag(f') W_hh|| <= max|f'| * ||W_hh||_2``; ``gamma`` is
    a bound on ``|f'|`` (1 for tanh and ReLU, 1/4 for the logistic sigmoid).

    Parameters
    ----------
    W_hh : numpy.ndarray, shape (H, H)
        Hidden-to-hidden weights.
    lags : int, list of int or numpy.ndarray of integer dtype
        Lags (non-negative integers: steps back in time), any shape.
    gamma : float
        Bound on the derivative of the nonlinearity, > 0 (default 1).

    Returns
    -------
    numpy.ndarray
        The bound for each lag, shape of ``lags``.

    Raises
    ------
    TypeError
        If ``lags`` does not hold integers (e.g. 2.5).
    ValueError
        If a lag is negative.
    """
    check_array(W_hh, "W_hh", ("H", "H"), finite=False)             # the number of axes first; one scan below
    check_array(W_hh, "W_hh", ("H", "H"), (W_hh.shape[0], W_hh.shape[0]), hint="W_hh is square")
    gamma = check_positive_float(gamma, "gamma")
    lags = _check_lags(lags)
    sigma_max = np.linalg.norm(W_hh, ord=2)
    return (gamma * sigma_max) ** lags.astype(np.float64)


def _check_lags(lags):
    """``lags`` (an int, a list or an array of them) as an integer array, after checking that each is >= 0."""
    try:
        array = np.asarray(lags)
    except ValueError:                                  # a ragged list
        array = np.asarray(None)
    if array.size == 0 and array.dtype.kind == "f" and not isinstance(lags, np.ndarray):
        array = np.zeros(array.shape, dtype=np.int64)   # [] is no lag at all (NumPy reads it as float64)
    if isinstance(lags, bool) or array.dtype.kind not in "iu":
        got = f"is {type(lags).__name__} {lags!r}" if array.ndim == 0 else f"has dtype {array.dtype}"
        raise TypeError(f"lags should be non-negative integers (an int, a list or an integer array), but {got}; "
                        f"pass whole numbers of steps, e.g. 50 or np.arange(101)")
    if array.size and array.min() < 0:
        raise ValueError(f"lags should be non-negative integers (steps back in time), but the smallest is "
                         f"{int(array.min())}")
    return array


def input_gradient_norms(x, h0, W_xh, W_hh, b_h, dh_T=None, nonlinearity="tanh"):
    """How strongly each input ``x_t`` influences a loss read at the last step.

    Runs :func:`rnncourse.numpy.elman.rnn_forward`, puts the gradient ``dh_T`` on the final
    state only (a many-to-one loss) and backpropagates with
    :func:`rnncourse.numpy.elman.rnn_backward`; returns
    :math:`\\|\\partial L / \\partial x_t\\|` for every ``t``, averaged over the batch.

    Parameters
    ----------
    x : numpy.ndarray, shape (T, B, D)
        Input sequences, time-major.
    h0 : numpy.ndarray, shape (B, H), or None
        Initial state (``None``: zeros).
    W_xh : numpy.ndarray, shape (H, D)
        Input-to-hidden weights.
    W_hh : numpy.ndarray, shape (H, H)
        Hidden-to-hidden weights.
    b_h : numpy.ndarray, shape (H,)
        Hidden bias.
    dh_T : numpy.ndarray, shape (B, H), or None
        Gradient of the loss with respect to ``h_T``; ``None`` means all ones
        (the loss ``sum(h_T)``).
    nonlinearity : str
        ``"tanh"`` (default) or ``"relu"``.

    Returns
    -------
    numpy.ndarray, shape (T,)
        Mean over the batch of :math:`\\|\\partial L / \\partial x_t\\|_2`.
    """
    hs, cache = rnn_forward(x, h0, W_xh, W_hh, b_h, nonlinearity)
    dhs = np.zeros_like(hs)
    dhs[-1] = np.ones_like(hs[-1]) if dh_T is None else check_array(dh_T, "dh_T", ("B", "H"), hs[-1].shape)
    dx = rnn_backward(dhs, cache)["x"]
    return np.linalg.norm(dx, axis=2).mean(axis=1)
