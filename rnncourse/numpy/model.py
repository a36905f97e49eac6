"""A complete Elman network in NumPy: recurrent layer, output layer and loss, forward and backward.

.. math::

    h_t = f(x_t W_{xh}^\\top + h_{t-1} W_{hh}^\\top + b_h), \\qquad z_t = h_t W_{hy}^\\top + b_y

The parameters live in one dict with the keys ``"W_xh"``, ``"W_hh"``, ``"b_h"``,
``"W_hy"``, ``"b_y"`` (see :func:`init_model_params`), the form the optimisers of
:mod:`rnncourse.numpy.optim` update in place. Two topologies, chosen by the shape
of the targets:

- many-to-many: an output and a target at every step (targets (T, B) or (T, B, O));
- many-to-one: one output per sequence, from the final state ``hs[-1]``
  (targets (B,) or (B, O)).
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from rnncourse.numpy.elman import X_HINT, RNNCache, rnn_backward, rnn_forward
from rnncourse.numpy.init import init_output_params, init_rnn_params
from rnncourse.numpy.losses import mse_loss, softmax_cross_entropy
from rnncourse.numpy.output import affine_backward, affine_forward
from rnncourse.validation import (check_argument_order, check_array, check_bool, check_cache, check_choice,
                                  check_params, check_same_dtype, state_hint)

__all__ = ["PARAM_NAMES", "PARAM_SHAPES", "ModelCache", "init_model_params", "check_model_params", "model_forward",
           "model_backward", "model_loss"]

#: The parameters of the model, the keys of :func:`init_model_params`'s dict.
PARAM_NAMES = ("W_xh", "W_hh", "b_h", "W_hy", "b_y")
#: The dimension letters of each parameter's shape, in the order :func:`check_model_params` checks them.
PARAM_SHAPES = {"W_xh": ("H", "D"), "W_hh": ("H", "H"), "b_h": ("H",), "W_hy": ("O", "H"), "b_y": ("O",)}
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


def check_model_params(params, x, h0=None, *, fix="create it with init_model_params(...)") -> None:
    """Check the parameter dict of the model against ``x`` (and ``h0``) before it is unpacked.

    Each array is named by its key, ``params['W_hh']``, as the caller passed it: the keys, the
    shapes and one dtype for all, ``x`` and ``h0`` included. The values are not scanned here:
    :func:`~rnncourse.numpy.elman.rnn_forward` and :func:`~rnncourse.numpy.output.affine_forward`,
    which the arrays go to next, scan each of them once (and check the rest of ``x`` and ``h0``).

    Parameters
    ----------
    params : dict
        ``W_xh`` (H, D), ``W_hh`` (H, H), ``b_h`` (H,), ``W_hy`` (O, H), ``b_y`` (O,); other keys are ignored.
    x : numpy.ndarray, shape (T, B, D)
        The input sequence, time-major.
    h0 : numpy.ndarray, shape (B, H), or None
        The initial state, if any.
    fix : str
        How to make such a dict, for the message of a wrong type or a missing key.
    """
    check_array(x, "x", ("T", "B", "D"), finite=False, hint=X_HINT)         # for B and D; rnn_forward scans it
    T, B, D = x.shape
    hints = {"W_xh": f"W_xh has shape (hidden_size, input_size), like torch's weight_ih_l0; D = {D} is the size of "
                     f"the last axis of x, so check that x is time-major (T, B, D)",
             "W_hh": "W_hh maps the hidden state to itself, so it is square",
             "W_hy": "W_hy has shape (output_size, hidden_size), like torch.nn.Linear's weight"}
    sizes = check_params(params, PARAM_SHAPES, sizes={"D": D}, hints=hints, fix=fix, finite=False, arrays={"x": x})
    if h0 is not None:
        hint, advice = "B comes from x and H from params['W_hh']", state_hint(h0, "h0", T, B)
        check_array(h0, "h0", ("B", "H"), (B, sizes["H"]), finite=False, hint=f"{hint}; {advice}" if advice else hint)
        check_same_dtype(**{"h0": h0, "params['W_hh']": params["W_hh"]})


class ModelCache(NamedTuple):
    """What :func:`model_backward` needs from :func:`model_forward`.

    Attributes
    ----------
    rnn : RNNCache
        The recurrent layer's cache; ``rnn.hs`` (T, B, H) holds every hidden state.
    out : tuple
        The output layer's cache (see :func:`~rnncourse.numpy.output.affine_forward`).
    many_to_one : bool
        Whether the output was read from the last state only.
    """

    rnn: RNNCache
    out: tuple
    many_to_one: bool


def model_forward(params, x, h0=None, nonlinearity="tanh", many_to_one=False):
    """The network's outputs: the recurrent layer, then the affine read-out.

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
    many_to_one : bool
        Read one output per sequence, from the final state ``hs[-1]``, instead of one per step.

    Returns
    -------
    Y : numpy.ndarray, shape (T, B, O), or (B, O) for many-to-one
        Outputs (logits or predicted values).
    cache : ModelCache
        For :func:`model_backward`; ``cache.rnn.hs`` (T, B, H) holds the hidden states, and
        ``cache.rnn.hs[-1]`` is the state to carry into the next chunk.
    """
    check_argument_order(params, x, "x", "model_forward(params, x, h0=None, ...)")
    many_to_one = check_bool(many_to_one, "many_to_one")
    check_model_params(params, x, h0)
    hs, rnn_cache = rnn_forward(x, h0, params["W_xh"], params["W_hh"], params["b_h"], nonlinearity)
    Y, out_cache = affine_forward(hs[-1] if many_to_one else hs, params["W_hy"], params["b_y"])
    return Y, ModelCache(rnn_cache, out_cache, many_to_one)


def model_backward(dY, cache):
    """Gradients from ``dL/dY``: the output layer's backward pass, then backpropagation through time.

    Parameters
    ----------
    dY : numpy.ndarray, shape of ``Y``
        Gradient of the loss with respect to the outputs of :func:`model_forward`.
    cache : ModelCache
        From :func:`model_forward`.

    Returns
    -------
    dict
        ``"x"`` (T, B, D), ``"h0"`` (B, H), and the five parameters' gradients, with their keys.
    """
    cache = check_cache(cache, ModelCache, "model_forward")
    g_out = affine_backward(dY, cache.out)
    if cache.many_to_one:
        dhs = np.zeros_like(cache.rnn.hs)
        dhs[-1] = g_out["hs"]                         # only the last state feeds the output
    else:
        dhs = g_out["hs"]
    grads = rnn_backward(dhs, cache.rnn)
    grads.update(W_hy=g_out["W_hy"], b_y=g_out["b_y"])
    return grads


def model_loss(params, x, targets, h0=None, loss="ce", mask=None, nonlinearity="tanh"):
    """Loss of the whole network and its gradient with respect to every parameter.

    :func:`model_forward` (the output on every state, or on ``hs[-1]`` for many-to-one), the
    loss, then :func:`model_backward`.

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
    check_argument_order(params, x, "x", "model_loss(params, x, targets, ...)")
    check_choice(loss, "loss", tuple(_TARGET_NDIM))
    per_step, per_sequence = _TARGET_NDIM[loss]
    if not isinstance(targets, np.ndarray):
        raise TypeError(f"targets should be a numpy.ndarray, but is {type(targets).__name__}; "
                        f"wrap it with np.asarray(...)")
    if targets.ndim not in (per_step, per_sequence):
        shapes = "(T, B) or (B,)" if loss == "ce" else "(T, B, O) or (B, O)"
        raise ValueError(f"targets for loss={loss!r} should have shape {shapes} (every step, or one per "
                         f"sequence from the last state), but has shape {targets.shape}")
    Y, cache = model_forward(params, x, h0, nonlinearity, many_to_one=targets.ndim == per_sequence)
    if loss == "mse":       # checked here, under the caller's name, not as mse_loss's "target"
        symbols, known = (("T", "B", "O"), "T and B") if targets.ndim == per_step else (("B", "O"), "B")
        check_array(targets, "targets", symbols, Y.shape,
                    hint=f"targets has the shape of the outputs: {known} of x, O = W_hy.shape[0]")
        check_same_dtype(x=x, targets=targets)
    L, dY = (softmax_cross_entropy if loss == "ce" else mse_loss)(Y, targets, mask)
    grads = model_backward(dY, cache)
    return L, {name: grads[name] for name in PARAM_NAMES}, cache.rnn.hs
