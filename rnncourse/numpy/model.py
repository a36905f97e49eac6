"""A complete Elman network in NumPy: recurrent layer, output layer and loss, forward and backward.

.. math::

    h_t = f(x_t W_{xh}^\\top + h_{t-1} W_{hh}^\\top + b_h), \\qquad y_t = h_t W_{hy}^\\top + b_y

The parameters live in one dict with the keys ``"W_xh"``, ``"W_hh"``, ``"b_h"``,
``"W_hy"``, ``"b_y"`` (see :func:`init_model_params`), the form the optimisers of
:mod:`rnncourse.numpy.optim` update in place. Two topologies, chosen by the shape
of the targets:

- many-to-many: an output and a target at every step (targets (T, B) or (T, B, O));
- many-to-one: one output per sequence, from the final state ``hs[-1]``
  (targets (B,) or (B, O)).
"""

from __future__ import annotations

import numpy as np

from rnncourse.numpy.elman import rnn_backward, rnn_forward
from rnncourse.numpy.init import init_output_params, init_rnn_params
from rnncourse.numpy.losses import mse_loss, softmax_cross_entropy
from rnncourse.numpy.output import affine_backward, affine_forward
from rnncourse.validation import check_choice, check_keys

__all__ = ["PARAM_NAMES", "init_model_params", "model_forward", "model_loss"]

PARAM_NAMES = ("W_xh", "W_hh", "b_h", "W_hy", "b_y")
# ndim of the targets for each loss: (many-to-many, many-to-one)
_TARGET_NDIM = {"ce": (2, 1), "mse": (3, 2)}


def init_model_params(input_size, hidden_size, output_size, *, rng, dtype=np.float64, init="uniform",
                      spectral_radius=None):
    """All parameters of the network in one dict.

    The union of :func:`~rnncourse.numpy.init.init_rnn_params` and
    :func:`~rnncourse.numpy.init.init_output_params`, drawn in that order from ``rng``.

    Parameters
    ----------
    input_size, hidden_size, output_size : int
        ``D``, ``H`` and ``O``.
    rng : numpy.random.Generator
        Source of randomness.
    dtype : numpy.dtype
        ``numpy.float64`` (default) or ``numpy.float32``.
    init : str
        How ``W_hh`` starts: ``"uniform"``, ``"orthogonal"`` or ``"identity"``.
    spectral_radius : float, optional
        Rescale ``W_hh`` to this spectral radius.

    Returns
    -------
    dict
        ``"W_xh"`` (H, D), ``"W_hh"`` (H, H), ``"b_h"`` (H,), ``"W_hy"`` (O, H), ``"b_y"`` (O,).
    """
    params = init_rnn_params(input_size, hidden_size, rng=rng, dtype=dtype, init=init,
                             spectral_radius=spectral_radius)
    params.update(init_output_params(hidden_size, output_size, rng=rng, dtype=dtype))
    return params


def _check_params(params):
    check_keys(params, "params", PARAM_NAMES, "create it with init_model_params(...)")


def model_forward(params, x, h0=None, nonlinearity="tanh"):
    """Outputs at every step and all hidden states, without a loss (for prediction).

    Parameters
    ----------
    params : dict
        The five parameters (see :func:`init_model_params`).
    x : numpy.ndarray, shape (T, B, D)
        Input sequence, time-major.
    h0 : numpy.ndarray, shape (B, H), or None
        Initial state; ``None`` means zeros.
    nonlinearity : str
        ``"tanh"`` or ``"relu"``.

    Returns
    -------
    Y : numpy.ndarray, shape (T, B, O)
        Outputs (logits or predicted values) at every step; ``Y[-1]`` is the
        many-to-one output.
    hs : numpy.ndarray, shape (T, B, H)
        Hidden states; ``hs[-1]`` is the state to carry into the next chunk.
    """
    _check_params(params)
    hs, _ = rnn_forward(x, h0, params["W_xh"], params["W_hh"], params["b_h"], nonlinearity)
    Y, _ = affine_forward(hs, params["W_hy"], params["b_y"])
    return Y, hs


def model_loss(params, x, targets, h0=None, loss="ce", mask=None, nonlinearity="tanh"):
    """Loss of the whole network and its gradient with respect to every parameter.

    Forward: :func:`~rnncourse.numpy.elman.rnn_forward`, :func:`~rnncourse.numpy.output.affine_forward` (on every state, or on
    ``hs[-1]`` for many-to-one), then the loss; backward: the same functions'
    backward passes in reverse order.

    Parameters
    ----------
    params : dict
        The five parameters (see :func:`init_model_params`); not modified.
    x : numpy.ndarray, shape (T, B, D)
        Input sequence, time-major.
    targets : numpy.ndarray
        For ``loss="ce"``: integer classes of shape (T, B) (many-to-many) or (B,)
        (many-to-one). For ``loss="mse"``: values of shape (T, B, O) or (B, O).
    h0 : numpy.ndarray, shape (B, H), or None
        Initial state; ``None`` means zeros.
    loss : str
        ``"ce"`` (:func:`~rnncourse.numpy.losses.softmax_cross_entropy`) or ``"mse"`` (:func:`~rnncourse.numpy.losses.mse_loss`).
    mask : numpy.ndarray, optional
        Which positions count, shaped like the targets' positions ((T, B) or (B,)).
    nonlinearity : str
        ``"tanh"`` or ``"relu"``.

    Returns
    -------
    loss : numpy.floating
        The mean loss.
    grads : dict
        Gradients with the keys and shapes of ``params``.
    hs : numpy.ndarray, shape (T, B, H)
        Hidden states; ``hs[-1]`` can start the next chunk (truncated BPTT).

    Example
    -------
    >>> params = init_model_params(3, 8, 3, rng=np.random.default_rng(0))
    >>> x = np.random.default_rng(1).normal(size=(5, 2, 3))
    >>> loss, grads, hs = model_loss(params, x, np.zeros((5, 2), dtype=int))
    >>> sorted(grads) == sorted(params)
    True
    """
    _check_params(params)
    check_choice(loss, "loss", tuple(_TARGET_NDIM))
    per_step, per_sequence = _TARGET_NDIM[loss]
    if getattr(targets, "ndim", None) not in (per_step, per_sequence):
        shapes = "(T, B) or (B,)" if loss == "ce" else "(T, B, O) or (B, O)"
        raise ValueError(f"targets for loss={loss!r} should have shape {shapes} (every step, or one per "
                         f"sequence from the last state), but has shape {getattr(targets, 'shape', None)}")
    many_to_one = targets.ndim == per_sequence
    hs, rnn_cache = rnn_forward(x, h0, params["W_xh"], params["W_hh"], params["b_h"], nonlinearity)
    Y, out_cache = affine_forward(hs[-1] if many_to_one else hs, params["W_hy"], params["b_y"])
    loss_fn = softmax_cross_entropy if loss == "ce" else mse_loss
    L, dY = loss_fn(Y, targets, mask)
    g_out = affine_backward(dY, out_cache)
    if many_to_one:
        dhs = np.zeros_like(hs)
        dhs[-1] = g_out["hs"]                         # only the last state feeds the output
    else:
        dhs = g_out["hs"]
    g_rnn = rnn_backward(dhs, rnn_cache)
    grads = {name: g_rnn[name] for name in ("W_xh", "W_hh", "b_h")}
    grads.update(W_hy=g_out["W_hy"], b_y=g_out["b_y"])
    return L, grads, hs
