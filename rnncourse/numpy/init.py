"""Initial parameters for the Elman layer and its output layer.

- ``"uniform"``: every entry drawn from U(-1/sqrt(H), 1/sqrt(H)), the default of
  :class:`torch.nn.RNN` (which has two biases; here they are one, ``b_h``).
- ``"orthogonal"``: ``W_hh`` a random orthogonal matrix, all its singular values 1
  :cite:`saxe2013exact`; ``b_h = 0``.
- ``"identity"``: ``W_hh = I`` and ``b_h = 0``, the IRNN of :cite:`le2015irnn`
  (meant for ``nonlinearity="relu"``).

``W_xh`` is always uniform. ``spectral_radius`` rescales ``W_hh`` so that its
largest absolute eigenvalue takes the given value (chapter 5).
"""

from __future__ import annotations

import numpy as np

from rnncourse.validation import (check_array, check_choice, check_float_dtype, check_positive_float, check_positive_int,
                                  check_rng)

__all__ = ["init_rnn_params", "init_output_params", "spectral_radius"]

INITS = ("uniform", "orthogonal", "identity")


def spectral_radius(W):
    """The largest absolute eigenvalue of a square matrix, ``max |eig(W)|``.

    Parameters
    ----------
    W : numpy.ndarray, shape (H, H)
        A square matrix, e.g. ``W_hh``.

    Returns
    -------
    float
        The spectral radius.

    Example
    -------
    >>> spectral_radius(np.diag([0.5, -2.0]))
    2.0
    """
    check_array(W, "W", ("H", "H"), finite=False)          # two dimensions first, then square and finite
    check_array(W, "W", ("H", "H"), (W.shape[0], W.shape[0]), hint="the spectral radius needs a square matrix")
    return float(np.max(np.abs(np.linalg.eigvals(W))))


def _orthogonal(n, rng):
    """A random orthogonal matrix: QR of a Gaussian matrix, signs fixed so it is uniform (Haar)."""
    Q, R = np.linalg.qr(rng.normal(size=(n, n)))
    return Q * np.sign(np.diag(R))


def init_rnn_params(input_size, hidden_size, *, rng, dtype=np.float64, init="uniform", spectral_radius=None):
    """Initial ``W_xh``, ``W_hh`` and ``b_h`` of an Elman layer.

    Parameters
    ----------
    input_size : int
        ``D``, the size of each input vector.
    hidden_size : int
        ``H``, the size of the hidden state.
    rng : numpy.random.Generator
        Source of randomness, e.g. ``np.random.default_rng(0)``.
    dtype : numpy.dtype
        ``numpy.float64`` (default) or ``numpy.float32``.
    init : str
        ``"uniform"`` (default, like :class:`torch.nn.RNN`), ``"orthogonal"`` or
        ``"identity"``: how ``W_hh`` (and ``b_h``) start; see the module docstring.
    spectral_radius : float, optional
        If given, ``W_hh`` is rescaled to have this spectral radius.

    Returns
    -------
    dict
        ``"W_xh"`` (H, D), ``"W_hh"`` (H, H), ``"b_h"`` (H,), all of ``dtype``.

    Example
    -------
    >>> params = init_rnn_params(3, 8, rng=np.random.default_rng(0), init="orthogonal")
    >>> params["W_hh"].shape
    (8, 8)
    """
    D = check_positive_int(input_size, "input_size")
    H = check_positive_int(hidden_size, "hidden_size")
    check_rng(rng)
    dtype = check_float_dtype(dtype)
    check_choice(init, "init", INITS)
    k = 1 / np.sqrt(H)
    W_xh = rng.uniform(-k, k, size=(H, D))
    if init == "uniform":
        W_hh, b_h = rng.uniform(-k, k, size=(H, H)), rng.uniform(-k, k, size=H)
    else:
        W_hh = _orthogonal(H, rng) if init == "orthogonal" else np.eye(H)
        b_h = np.zeros(H)
    if spectral_radius is not None:
        rho = check_positive_float(spectral_radius, "spectral_radius")
        W_hh = W_hh * (rho / _spectral_radius(W_hh))
    return {"W_xh": W_xh.astype(dtype), "W_hh": W_hh.astype(dtype), "b_h": b_h.astype(dtype)}


_spectral_radius = spectral_radius      # the parameter of init_rnn_params shadows the function


def init_output_params(hidden_size, output_size, *, rng, dtype=np.float64):
    """Initial ``W_hy`` and ``b_y`` of the output layer, U(-1/sqrt(H), 1/sqrt(H)) like :class:`torch.nn.Linear`.

    Parameters
    ----------
    hidden_size : int
        ``H``, the size of the hidden state.
    output_size : int
        ``O``, the number of outputs (classes, or values to predict).
    rng : numpy.random.Generator
        Source of randomness.
    dtype : numpy.dtype
        ``numpy.float64`` (default) or ``numpy.float32``.

    Returns
    -------
    dict
        ``"W_hy"`` (O, H), ``"b_y"`` (O,).
    """
    H = check_positive_int(hidden_size, "hidden_size")
    O = check_positive_int(output_size, "output_size")
    check_rng(rng)
    dtype = check_float_dtype(dtype)
    k = 1 / np.sqrt(H)
    return {"W_hy": rng.uniform(-k, k, size=(O, H)).astype(dtype),
            "b_y": rng.uniform(-k, k, size=O).astype(dtype)}
