"""The Jordan network in NumPy: the output, not the hidden state, is fed back.

For time steps ``t = 1 .. T``:

.. math::

    a_t = x_t W_{xh}^\\top + u_t W_{yh}^\\top + b_h,\\quad h_t = f(a_t),\\quad
    z_t = h_t W_{hy}^\\top + b_y,\\quad y_t = g(z_t)

where ``u_t`` is what is fed back: ``u_1 = y_0`` and, for ``t > 1``, either the
network's own previous output ``u_t = y_{t-1}`` (free running, "closed loop")
or, with *teacher forcing*, the previous *target* ``u_t = y^*_{t-1}``
(Williams and Zipser, 1989). ``f`` is tanh or ReLU; ``g`` is the identity
(``"linear"``), the logistic sigmoid or tanh.

Shapes use the book's letters: ``T`` steps, ``B`` batch, ``D`` inputs, ``H``
hidden units, ``O`` outputs. ``W_xh`` (H, D), ``W_yh`` (H, O), ``b_h`` (H,),
``W_hy`` (O, H), ``b_y`` (O,). Sequences are time-major, ``x`` has shape
``(T, B, D)``. The forward pass returns ``(Y, cache)``; the backward pass takes
``(dY, cache)`` and returns a dict of gradients named like the arguments.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from rnncourse.numpy.elman import NONLINEARITIES, X_HINT, activate, derivative
from rnncourse.numpy.gated import sigmoid
from rnncourse.numpy.init import init_output_params
from rnncourse.numpy.losses import mse_loss
from rnncourse.validation import (check_argument_order, check_array, check_bool, check_cache, check_choice,
                                  check_float_dtype, check_keys, check_not_empty, check_positive_int, check_rng,
                                  check_same_dtype)

__all__ = ["OUTPUTS", "PARAM_NAMES", "JordanStepCache", "JordanCache", "init_jordan_params", "jordan_step_forward",
           "jordan_step_backward", "jordan_forward", "jordan_backward", "jordan_loss"]

#: The parameters, in the order :func:`jordan_forward` takes them.
PARAM_NAMES = ("W_xh", "W_yh", "b_h", "W_hy", "b_y")

#: Output nonlinearities ``g`` (identity, logistic sigmoid, tanh).
OUTPUTS = ("linear", "sigmoid", "tanh")


class JordanStepCache(NamedTuple):
    """What :func:`jordan_step_backward` needs from :func:`jordan_step_forward`.

    Attributes
    ----------
    x_t : numpy.ndarray, shape (B, D)
        The input of the step.
    y_prev : numpy.ndarray, shape (B, O)
        The previous output fed back into the hidden layer.
    h_t : numpy.ndarray, shape (B, H)
        The new hidden state.
    y_t : numpy.ndarray, shape (B, O)
        The new output, ``g(z_t)``.
    params : tuple
        The weights ``(W_xh, W_yh, b_h, W_hy, b_y)`` the step used.
    nonlinearity : str
        ``"tanh"`` or ``"relu"``, the hidden activation.
    output : str
        The output function ``g``, as named in :func:`jordan_step_forward`.
    """

    x_t: np.ndarray
    y_prev: np.ndarray
    h_t: np.ndarray
    y_t: np.ndarray
    params: tuple
    nonlinearity: str
    output: str


class JordanCache(NamedTuple):
    """What :func:`jordan_backward` needs from :func:`jordan_forward`.

    Attributes
    ----------
    x : numpy.ndarray, shape (T, B, D)
        The input sequence, time-major.
    U : numpy.ndarray, shape (T, B, O)
        The value fed back into each step: ``U[0] = y0``, then the previous output (or, under
        teacher forcing, the previous target).
    hs : numpy.ndarray, shape (T, B, H)
        The hidden state of each step.
    Y : numpy.ndarray, shape (T, B, O)
        The output of each step.
    params : tuple
        The weights ``(W_xh, W_yh, b_h, W_hy, b_y)`` of the forward pass.
    nonlinearity : str
        The hidden layer's nonlinearity, ``"tanh"`` or ``"relu"``.
    output : str
        The output layer's nonlinearity (``"linear"``, ``"sigmoid"`` or ``"tanh"``).
    teacher_forcing : bool
        Whether the targets, not the outputs, were fed back.
    """

    x: np.ndarray
    U: np.ndarray
    hs: np.ndarray
    Y: np.ndarray
    params: tuple
    nonlinearity: str
    output: str
    teacher_forcing: bool


def _output(z, output):
    """``g(z)`` for the output nonlinearity ``output``."""
    if output == "sigmoid":
        return sigmoid(z)
    return np.tanh(z) if output == "tanh" else z


def _output_derivative(y, output):
    """``g'(z)`` written in terms of ``y = g(z)``."""
    if output == "sigmoid":
        return y * (1 - y)
    return 1 - y * y if output == "tanh" else np.ones_like(y)


def _rows(A):
    """Stack time and batch: (T, B, n) -> (T * B, n)."""
    return A.reshape(-1, A.shape[-1])


def _check_params(W_xh, W_yh, b_h, W_hy, b_y, D, names=PARAM_NAMES):
    """Validate the five parameters against the input size ``D``, each named by ``names``; return ``(H, O)``."""
    n = dict(zip(PARAM_NAMES, names))
    check_array(W_xh, n["W_xh"], ("H", "D"), (None, D), hint=f"W_xh has shape (hidden_size, input_size); D = {D} "
                                                               f"is the size of the last axis of x, so check x too")
    H = W_xh.shape[0]
    check_array(W_hy, n["W_hy"], ("O", "H"), (None, H), hint="W_hy has shape (output_size, hidden_size)")
    O = W_hy.shape[0]
    check_array(W_yh, n["W_yh"], ("H", "O"), (H, O),
                hint="W_yh maps the fed-back output (size O) to the hidden units (size H)")
    check_array(b_h, n["b_h"], ("H",), (H,))
    check_array(b_y, n["b_y"], ("O",), (O,))
    return H, O


def init_jordan_params(input_size, hidden_size, output_size, *, rng, dtype=np.float64):
    """Initial parameters of a Jordan network, every entry from U(-1/sqrt(H), 1/sqrt(H)) like :class:`torch.nn.RNN`.

    Parameters
    ----------
    input_size : int
        D.
    hidden_size : int
        H.
    output_size : int
        O.
    rng : numpy.random.Generator
        Source of randomness.
    dtype : numpy.dtype
        ``numpy.float64`` (default) or ``numpy.float32``.

    Returns
    -------
    dict
        ``"W_xh"`` (H, D), ``"W_yh"`` (H, O), ``"b_h"`` (H,), ``"W_hy"`` (O, H), ``"b_y"`` (O,),
        in the order :func:`jordan_forward` takes them (``jordan_forward(x, y0, **params)``).
    """
    D = check_positive_int(input_size, "input_size")
    H = check_positive_int(hidden_size, "hidden_size")
    O = check_positive_int(output_size, "output_size")  # noqa: E741 (the book's symbol)
    check_rng(rng)
    dtype = check_float_dtype(dtype)
    k = 1 / np.sqrt(H)
    shapes = {"W_xh": (H, D), "W_yh": (H, O), "b_h": (H,)}
    hidden = {name: rng.uniform(-k, k, size=shape).astype(dtype) for name, shape in shapes.items()}
    # The output layer is drawn last, from the same stream, exactly as for an Elman network.
    return {**hidden, **init_output_params(H, O, rng=rng, dtype=dtype)}


def jordan_step_forward(x_t, y_prev, W_xh, W_yh, b_h, W_hy, b_y, nonlinearity="tanh", output="linear"):
    """One step of the Jordan network: ``h_t = f(x_t W_xh^T + y_prev W_yh^T + b_h)``, ``y_t = g(h_t W_hy^T + b_y)``.

    Parameters
    ----------
    x_t : numpy.ndarray, shape (B, D)
        Inputs at this step.
    y_prev : numpy.ndarray, shape (B, O)
        The output fed back: the previous prediction, or the previous target under teacher forcing.
    W_xh : numpy.ndarray, shape (H, D)
        Input-to-hidden weights.
    W_yh : numpy.ndarray, shape (H, O)
        Output-to-hidden (feedback) weights.
    b_h : numpy.ndarray, shape (H,)
        Hidden bias.
    W_hy : numpy.ndarray, shape (O, H)
        Hidden-to-output weights.
    b_y : numpy.ndarray, shape (O,)
        Output bias.
    nonlinearity : str
        ``f``: ``"tanh"`` (default) or ``"relu"``.
    output : str
        ``g``: ``"linear"`` (default), ``"sigmoid"`` or ``"tanh"``.

    Returns
    -------
    state : tuple
        ``(h_t, y_t)``: the hidden state (B, H) and the output (B, O), which the next step is fed;
        both read-only, because the cache holds them too (take a ``.copy()`` to get your own).
    cache : JordanStepCache
        What :func:`jordan_step_backward` needs.

    Example
    -------
    >>> p = [np.zeros(s) for s in ((4, 3), (4, 2), (4,), (2, 4), (2,))]
    >>> (h_t, y_t), cache = jordan_step_forward(np.ones((5, 3)), np.zeros((5, 2)), *p)
    >>> h_t.shape, y_t.shape
    ((5, 4), (5, 2))
    """
    check_array(x_t, "x_t", ("B", "D"), hint="x_t is one step; for a sequence (T, B, D) use jordan_forward")
    B, D = x_t.shape
    H, O = _check_params(W_xh, W_yh, b_h, W_hy, b_y, D)
    check_array(y_prev, "y_prev", ("B", "O"), (B, O), hint="B comes from x_t and O from W_hy")
    check_choice(nonlinearity, "nonlinearity", NONLINEARITIES)
    check_choice(output, "output", OUTPUTS)
    check_same_dtype(x_t=x_t, y_prev=y_prev, W_xh=W_xh, W_yh=W_yh, b_h=b_h, W_hy=W_hy, b_y=b_y)
    h_t = activate(x_t @ W_xh.T + y_prev @ W_yh.T + b_h, nonlinearity)
    y_t = _output(h_t @ W_hy.T + b_y, output)
    params = (W_xh, W_yh, b_h, W_hy, b_y)
    h_t.flags.writeable = y_t.flags.writeable = False     # the cache holds both for the backward pass
    return (h_t, y_t), JordanStepCache(x_t, y_prev, h_t, y_t, params, nonlinearity, output)


def jordan_step_backward(dstate, cache):
    """Backward pass of one Jordan step.

    .. math::

        dz_t = dy_t \\odot g'(z_t),\\quad da_t = (dh_t + dz_t W_{hy}) \\odot f'(a_t),

    then ``dW_hy = dz_t^T h_t``, ``db_y = sum_b dz_t``, ``dx_t = da_t W_xh``,
    ``dy_prev = da_t W_yh``, ``dW_xh = da_t^T x_t``, ``dW_yh = da_t^T y_prev``,
    ``db_h = sum_b da_t``.

    Parameters
    ----------
    dstate : tuple
        ``(dh_t, dy_t)``: gradients of the loss with respect to ``h_t`` (B, H) and
        ``y_t`` (B, O); ``dh_t`` may be ``None`` (zero: in a Jordan network only the
        output reaches the next step).
    cache : JordanStepCache
        From :func:`jordan_step_forward`.

    Returns
    -------
    dict
        ``"x_t"`` (B, D), ``"y_prev"`` (B, O), ``"W_xh"``, ``"W_yh"``, ``"b_h"``, ``"W_hy"``, ``"b_y"``.
    """
    x_t, y_prev, h_t, y_t, params, nonlinearity, output = check_cache(cache, JordanStepCache, "jordan_step_forward",
                                                                      (7,))
    W_xh, W_yh, b_h, W_hy, b_y = params
    if not isinstance(dstate, (tuple, list)):
        raise TypeError(f"dstate should be a tuple (dh_t, dy_t), like the state (h_t, y_t) of jordan_step_forward, "
                        f"but is {type(dstate).__name__}; pass (None, dy_t) if no gradient reaches h_t")
    if len(dstate) != 2:
        raise ValueError(f"dstate should be a pair (dh_t, dy_t), but holds {len(dstate)} items")
    dh_t, dy_t = dstate
    check_array(dy_t, "dy_t", ("B", "O"), y_t.shape, hint="dy_t has the shape of y_t")
    check_same_dtype(dy_t=dy_t, y_t=y_t)
    dz = dy_t * _output_derivative(y_t, output)
    dh = dz @ W_hy
    if dh_t is not None:
        check_array(dh_t, "dh_t", ("B", "H"), h_t.shape, hint="dh_t has the shape of h_t")
        check_same_dtype(dh_t=dh_t, h_t=h_t)
        dh = dh + dh_t
    da = dh * derivative(h_t, nonlinearity)
    return {"x_t": da @ W_xh, "y_prev": da @ W_yh, "W_xh": da.T @ x_t, "W_yh": da.T @ y_prev,
            "b_h": da.sum(axis=0), "W_hy": dz.T @ h_t, "b_y": dz.sum(axis=0)}


TARGETS_HINT = "targets has the shape of the outputs Y: T and B of x, O = W_hy.shape[0]"


def _check_sequence(x, y0, targets, params, nonlinearity, output, names=PARAM_NAMES):
    """Validate the inputs of a sequence, the parameters (a tuple) named by ``names``; return ``(T, B, H, O)``."""
    check_choice(nonlinearity, "nonlinearity", NONLINEARITIES)
    check_choice(output, "output", OUTPUTS)
    check_array(x, "x", ("T", "B", "D"), hint=X_HINT)
    T, B, D = x.shape
    check_not_empty(x, "x")
    H, O = _check_params(*params, D, names=names)
    if y0 is not None:
        hint = "y0 is the output fed into the first step"
        if getattr(y0, "ndim", None) == 1:
            hint += "; add a batch axis: y0[None, :]"
        check_array(y0, "y0", ("B", "O"), (B, O), hint=hint)
    if targets is not None:
        check_array(targets, "targets", ("T", "B", "O"), (T, B, O), hint=TARGETS_HINT)
    named = dict(zip(names, params), x=x)
    named.update({k: v for k, v in (("y0", y0), ("targets", targets)) if v is not None})
    check_same_dtype(**named)
    return T, B, H, O


def jordan_forward(x, y0, W_xh, W_yh, b_h, W_hy, b_y, nonlinearity="tanh", output="linear", targets=None):
    """Run the Jordan network over a sequence, free running or with teacher forcing.

    Equal to this reference loop::

        u = y0
        for t in range(T):
            (h_t, y_t), _ = jordan_step_forward(x[t], u, W_xh, W_yh, b_h, W_hy, b_y)
            u = targets[t] if targets is not None else y_t    # what step t + 1 is fed
            Y[t] = y_t

    Parameters
    ----------
    x : numpy.ndarray, shape (T, B, D)
        Input sequence, time-major.
    y0 : numpy.ndarray, shape (B, O), or None
        The output fed into the first step; ``None`` means zeros.
    W_xh, W_yh, b_h, W_hy, b_y : numpy.ndarray
        Parameters, shapes (H, D), (H, O), (H,), (O, H), (O,).
    nonlinearity : str
        Hidden nonlinearity ``f``: ``"tanh"`` (default) or ``"relu"``.
    output : str
        Output nonlinearity ``g``: ``"linear"`` (default), ``"sigmoid"`` or ``"tanh"``.
    targets : numpy.ndarray, shape (T, B, O), or None
        With targets, teacher forcing: step ``t + 1`` is fed ``targets[t]``
        instead of the prediction ``Y[t]`` (``targets[-1]`` is never fed).

    Returns
    -------
    Y : numpy.ndarray, shape (T, B, O), read-only
        The outputs ``y_1 .. y_T`` (the cache holds them too: take ``Y.copy()`` to edit).
    cache : JordanCache
        For :func:`jordan_backward`; ``cache.hs`` (T, B, H) holds the hidden states (read-only).

    Example
    -------
    >>> rng = np.random.default_rng(0)
    >>> p = [rng.normal(size=s) for s in ((4, 3), (4, 2), (4,), (2, 4), (2,))]
    >>> Y, cache = jordan_forward(rng.normal(size=(5, 1, 3)), None, *p)
    >>> Y.shape, cache.hs.shape
    ((5, 1, 2), (5, 1, 4))
    """
    params = (W_xh, W_yh, b_h, W_hy, b_y)
    _check_sequence(x, y0, targets, params, nonlinearity, output)
    return _forward(x, y0, params, nonlinearity, output, targets)


def _forward(x, y0, params, nonlinearity, output, targets):
    """:func:`jordan_forward` without the input checks; ``params`` is the tuple ``(W_xh, W_yh, b_h, W_hy, b_y)``."""
    W_xh, W_yh, b_h, W_hy, b_y = params
    T, B, _ = x.shape
    n_h, O = W_xh.shape[0], W_hy.shape[0]
    u = np.zeros((B, O), dtype=x.dtype) if y0 is None else y0
    U, hs, Y = np.empty((T, B, O), x.dtype), np.empty((T, B, n_h), x.dtype), np.empty((T, B, O), x.dtype)
    for t in range(T):
        U[t] = u
        hs[t] = activate(x[t] @ W_xh.T + u @ W_yh.T + b_h, nonlinearity)
        Y[t] = _output(hs[t] @ W_hy.T + b_y, output)
        u = Y[t] if targets is None else targets[t]
    for a in (U, hs, Y):                           # the cache holds them for the backward pass
        a.flags.writeable = False
    return Y, JordanCache(x, U, hs, Y, params, nonlinearity, output, targets is not None)


def jordan_backward(dY, cache):
    """Backpropagation through time for :func:`jordan_forward`.

    Walking back from ``t = T``. When the network ran free, the gradient
    reaching ``y_t`` has two parts, the loss at step ``t`` and the feedback
    into step ``t + 1``; under teacher forcing the fed-back values are data and
    only the first part exists:

    .. math::

        dy_t = dY_t + [\\text{free}]\\, da_{t+1} W_{yh},\\quad dz_t = dy_t \\odot g'(z_t),\\quad
        da_t = (dz_t W_{hy}) \\odot f'(a_t)

    The parameter gradients are sums over time:
    ``dW_hy = sum_t dz_t^T h_t``, ``dW_xh = sum_t da_t^T x_t``, ``dW_yh = sum_t da_t^T u_t``.

    Parameters
    ----------
    dY : numpy.ndarray, shape (T, B, O)
        Gradient of the loss with respect to each output ``Y[t]`` coming directly from the loss.
    cache : JordanCache
        From :func:`jordan_forward`.

    Returns
    -------
    dict
        ``"x"`` (T, B, D), ``"y0"`` (B, O), ``"W_xh"`` (H, D), ``"W_yh"`` (H, O),
        ``"b_h"`` (H,), ``"W_hy"`` (O, H), ``"b_y"`` (O,).
    """
    x, U, hs, Y, params, nonlinearity, output, teacher_forcing = check_cache(cache, JordanCache, "jordan_forward", (8,))
    W_xh, W_yh, b_h, W_hy, b_y = params
    T, B, D = x.shape
    check_array(dY, "dY", ("T", "B", "O"), Y.shape, hint="dY has the shape of the outputs Y")
    check_same_dtype(dY=dY, Y=Y)
    dZ = _output_derivative(Y, output)              # g'(z_t); becomes dz_t in the loop
    dA = derivative(hs, nonlinearity)               # f'(a_t); becomes da_t in the loop
    du_next = np.zeros_like(Y[0])                   # gradient reaching y_t through step t + 1
    for t in reversed(range(T)):
        dZ[t] *= dY[t] + (0 if teacher_forcing else du_next)
        dA[t] *= dZ[t] @ W_hy
        du_next = dA[t] @ W_yh                      # gradient reaching u_t (y_{t-1}, or y0)
    return {
        "x": (_rows(dA) @ W_xh).reshape(T, B, D),
        "y0": du_next,
        "W_xh": _rows(dA).T @ _rows(x),
        "W_yh": _rows(dA).T @ _rows(U),
        "b_h": _rows(dA).sum(axis=0),
        "W_hy": _rows(dZ).T @ _rows(hs),
        "b_y": _rows(dZ).sum(axis=0),
    }


def jordan_loss(params, x, targets, y0=None, teacher_forcing=False, nonlinearity="tanh", output="linear"):
    """Mean squared error of a Jordan network and its gradient with respect to every parameter.

    The Jordan twin of :func:`rnncourse.numpy.model.model_loss` with ``loss="mse"``:
    :func:`jordan_forward`, :func:`rnncourse.numpy.losses.mse_loss`, :func:`jordan_backward`.

    Parameters
    ----------
    params : dict
        ``W_xh``, ``W_yh``, ``b_h``, ``W_hy``, ``b_y`` (see :func:`init_jordan_params`); not modified.
    x : numpy.ndarray, shape (T, B, D)
        Input sequence, time-major.
    targets : numpy.ndarray, shape (T, B, O)
        Target outputs at every step.
    y0 : numpy.ndarray, shape (B, O), or None
        The output fed into the first step; ``None`` means zeros.
    teacher_forcing : bool
        Feed back the previous target instead of the previous output (default ``False``).
    nonlinearity : str
        Hidden nonlinearity, ``"tanh"`` (default) or ``"relu"``.
    output : str
        Output nonlinearity, ``"linear"`` (default), ``"sigmoid"`` or ``"tanh"``.

    Returns
    -------
    loss : numpy.floating
        The mean squared error over all steps, sequences and outputs.
    grads : dict
        Gradients with the keys and shapes of ``params``.
    Y : numpy.ndarray, shape (T, B, O)
        The outputs.
    """
    check_argument_order(params, x, "x", "jordan_loss(params, x, targets, ...)")
    check_keys(params, "params", PARAM_NAMES, "create it with init_jordan_params(...)")
    teacher_forcing = check_bool(teacher_forcing, "teacher_forcing")
    if targets is None:
        raise TypeError("targets should be a numpy.ndarray of shape (T, B, O), the target output at every step, but "
                        "is None; jordan_loss scores the outputs against them (and feeds them back under teacher "
                        "forcing)")
    # Checked once, here, each array under the caller's name (params['W_xh'], targets rather than mse_loss's
    # "target"); the forward pass below runs without checking them again.
    arrays = tuple(params[k] for k in PARAM_NAMES)
    _check_sequence(x, y0, targets, arrays, nonlinearity, output, names=tuple(f"params[{k!r}]" for k in PARAM_NAMES))
    Y, cache = _forward(x, y0, arrays, nonlinearity, output, targets if teacher_forcing else None)
    loss, dY = mse_loss(Y, targets)
    grads = jordan_backward(dY, cache)
    return loss, {name: grads[name] for name in PARAM_NAMES}, Y
