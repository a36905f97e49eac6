"""Checkers of chapter 8 (limitations, LSTM and GRU): one LSTM step, one GRU step and the LSTM step backward.

- ``ch08.lstm_step``: ``lstm_step(x_t, h_prev, c_prev, W_xh, W_hh, b_h) -> (h_t, c_t)``;
- ``ch08.gru_step``: ``gru_step(x_t, h_prev, W_xh, W_hh, b_xh, b_hh) -> h_t``;
- ``ch08.lstm_step_backward``: ``lstm_step_backward(dstate, cache) -> grads``, compared with
  :func:`rnncourse.numpy.gated.lstm_step_backward` and with finite differences, naming the usual
  slip that reproduces a wrong answer;

all with PyTorch's gate layout (LSTM: i, f, g, o; GRU: r, z, n); the forward steps are compared with
:func:`rnncourse.numpy.gated.lstm_step_forward` and :func:`rnncourse.numpy.gated.gru_step_forward`.
"""

from __future__ import annotations

import numpy as np

from rnncourse.exercises.feedback import (call_unchanged, case_sizes, expect_array, expect_close,
                                          expect_grad_check, expect_grads_close, expect_keys, expect_tuple, in_case,
                                          name_mistake, random_array)
from rnncourse.exercises.registry import ExerciseFailure, exercise
from rnncourse.numpy.gated import gru_step_forward, lstm_step_forward, sigmoid
from rnncourse.numpy.gated import lstm_step_backward as lstm_step_backward_reference

__all__ = ["check_lstm_step", "check_gru_step", "check_lstm_step_backward", "lstm_step_backward_variant"]

# The forward steps' cases beyond case_sizes' (B = 1, then sizes 2..6): D = 1 and H = 1, and larger sizes.
_EXTRA_CASES = ({"B": 3, "D": 1, "H": 1}, {"B": 1, "D": 1, "H": 4}, {"B": 6, "D": 7, "H": 8})


def _weights(rng, n_gates, n_biases, D, H, dtype=np.float64):
    """Weights and biases drawn from U(-1/sqrt(H), 1/sqrt(H)), as PyTorch initialises them.

    Larger weights saturate the gates (sigmoid near 0 or 1, tanh near -1 or 1), and a gate in
    saturation hides a wrong formula: a GRU without its reset gate came within 2e-05 of the reference.
    """
    k = 1 / np.sqrt(H)
    shapes = ((n_gates * H, D), (n_gates * H, H)) + ((n_gates * H,),) * n_biases
    return [rng.uniform(-k, k, size=s).astype(dtype) for s in shapes]


# ----------------------------------------------------------------------------- LSTM

_LSTM_NAMES = ("x_t", "h_prev", "c_prev", "W_xh", "W_hh", "b_h")


def _swap_g_o(w):
    """``w`` with its third and fourth blocks of rows swapped: an LSTM that reads the blocks as i, f, o, g
    computes with ``w`` what the right one computes with ``_swap_g_o(w)``."""
    H = len(w) // 4
    return np.concatenate([w[:2 * H], w[3 * H:], w[2 * H:3 * H]])


def _lstm(fn, args, what):
    out = expect_tuple(call_unchanged(fn, args, _LSTM_NAMES, what), ("h_t", "c_t"), what)
    B, H = args[1].shape
    return expect_array(out[0], (B, H), f"h_t from {what}"), expect_array(out[1], (B, H), f"c_t from {what}")


@exercise("ch08.lstm_step", points=3,
          subjects=("rnncourse.numpy.gated.lstm_step_forward", "rnncourse.numpy.gated._lstm_cell",
                    "rnncourse.numpy.gated.lstm_forward"))
def check_lstm_step(fn):
    """Write lstm_step(x_t, h_prev, c_prev, W_xh, W_hh, b_h) -> (h_t, c_t), gates in the order i, f, g, o.

    Parameters
    ----------
    fn : callable
        The student's function, called as ``lstm_step(x_t, h_prev, c_prev, W_xh, W_hh, b_h) -> (h_t, c_t)``.
    """
    # By hand: zero weights and biases make every gate 0.5 and g = 0: c_t = c_prev / 2, h_t = tanh(c_t) / 2.
    H, c_prev = 2, np.array([[2.0, -1.0]])
    zeros = [np.ones((1, 3)), np.zeros((1, H)), c_prev, np.zeros((4 * H, 3)), np.zeros((4 * H, H)), np.zeros(4 * H)]
    h_t, c_t = _lstm(fn, zeros, "lstm_step with zero weights")
    if not np.allclose(c_t, 0.5 * c_prev) or not np.allclose(h_t, 0.5 * np.tanh(0.5 * c_prev)):
        raise ExerciseFailure(f"with all weights and biases 0 every gate is sigmoid(0) = 0.5 and g = tanh(0) = 0, "
                              f"so c_t = 0.5 * c_prev = {0.5 * c_prev[0]} and h_t = 0.5 * tanh(c_t), but you give "
                              f"c_t = {np.round(c_t[0], 4)}, h_t = {np.round(h_t[0], 4)}")
    # A large bias on the forget block only (rows H..2H) keeps the memory: c_t = c_prev.
    forget = [a.copy() for a in zeros]
    forget[5][H:2 * H] = 30.0
    h_t, c_t = _lstm(fn, forget, "lstm_step with a large forget bias")
    if not np.allclose(c_t, c_prev, atol=1e-6):
        raise ExerciseFailure(f"with a bias of 30 on rows H..2H of b_h (the forget gate f) and zeros elsewhere, "
                              f"f = 1 and i * g = 0, so c_t should equal c_prev = {c_prev[0]}, but is "
                              f"{np.round(c_t[0], 4)}; check that b_h is added to the pre-activations and the order "
                              f"of the gate blocks: i, f, g, o, as in torch.nn.LSTMCell")
    rng = np.random.default_rng(80)
    for sizes in case_sizes(seed=80, letters="BDH") + list(_EXTRA_CASES):
        with in_case(sizes):
            B, D, H = sizes["B"], sizes["D"], sizes["H"]
            args = [random_array(rng, (B, D)), np.tanh(random_array(rng, (B, H))), random_array(rng, (B, H))]
            args += _weights(rng, 4, 1, D, H)
            h_t, c_t = _lstm(fn, args, "lstm_step")
            (h_ref, c_ref), _ = lstm_step_forward(*args)
            (h_ifog, c_ifog), _ = lstm_step_forward(*args[:3], *(_swap_g_o(w) for w in args[3:]))
            ifog = (np.stack([h_ifog, c_ifog]),
                    "the gate blocks are read in the order i, f, o, g (as some texts stack them); here they follow "
                    "torch.nn.LSTMCell, i, f, g, o: rows 2H..3H of W_xh, W_hh and b_h give the candidate g, rows "
                    "3H..4H the output gate o")
            name_mistake(np.stack([h_t, c_t]), np.stack([h_ref, c_ref]), [ifog], "lstm_step", rtol=1e-5, atol=1e-8)
            expect_close(c_t, c_ref, "c_t from lstm_step", rtol=1e-10, atol=1e-10)
            expect_close(h_t, h_ref, "h_t from lstm_step", rtol=1e-10, atol=1e-10)


# ----------------------------------------------------------------------------- GRU

_GRU_NAMES = ("x_t", "h_prev", "W_xh", "W_hh", "b_xh", "b_hh")


def _gru_mistakes(x_t, h_prev, W_xh, W_hh, b_xh, b_hh):
    """Two common slips: z weighting n instead of h, and the reset gate applied to h before the product."""
    a_r, a_z, a_n = np.split(x_t @ W_xh.T + b_xh, 3, axis=1)
    h_r, h_z, h_n = np.split(h_prev @ W_hh.T + b_hh, 3, axis=1)
    r, z = sigmoid(a_r + h_r), sigmoid(a_z + h_z)
    H = h_prev.shape[1]
    n_before = np.tanh(a_n + (r * h_prev) @ W_hh[2 * H:].T + b_hh[2 * H:])
    n = np.tanh(a_n + r * h_n)
    return [
        (z * n + (1 - z) * h_prev,
         "PyTorch's GRU keeps the old state with weight z: h_t = (1 - z) * n + z * h_prev, "
         "not z * n + (1 - z) * h_prev"),
        ((1 - z) * n_before + z * h_prev,
         "PyTorch's GRU applies the reset gate after the product, n = tanh(W_xn x + b_xn + r * (W_hn h_prev + b_hn)), "
         "not to h_prev before it"),
    ]


@exercise("ch08.gru_step", points=2,
          subjects=("rnncourse.numpy.gated.gru_step_forward", "rnncourse.numpy.gated._gru_cell",
                    "rnncourse.numpy.gated.gru_forward"))
def check_gru_step(fn):
    """Write gru_step(x_t, h_prev, W_xh, W_hh, b_xh, b_hh) -> h_t in PyTorch's convention, gates r, z, n.

    Parameters
    ----------
    fn : callable
        The student's function, called as ``gru_step(x_t, h_prev, W_xh, W_hh, b_xh, b_hh) -> h_t``.
    """
    # By hand: zero weights and biases give r = z = 0.5 and n = 0, so h_t = h_prev / 2.
    h_prev = np.array([[4.0, -2.0]])
    zeros = [np.ones((1, 3)), h_prev, np.zeros((6, 3)), np.zeros((6, 2)), np.zeros(6), np.zeros(6)]
    h_t = expect_array(call_unchanged(fn, zeros, _GRU_NAMES, "gru_step with zero weights"), (1, 2),
                       "h_t from gru_step with zero weights")
    if not np.allclose(h_t, 0.5 * h_prev):
        raise ExerciseFailure(f"with all weights and biases 0, r = z = 0.5 and n = tanh(0) = 0, so h_t = 0.5 * "
                              f"h_prev = {0.5 * h_prev[0]}, but you give {np.round(h_t[0], 4)}")
    rng = np.random.default_rng(81)
    for sizes in case_sizes(seed=81, letters="BDH") + list(_EXTRA_CASES):
        with in_case(sizes):
            B, D, H = sizes["B"], sizes["D"], sizes["H"]
            args = [random_array(rng, (B, D)), np.tanh(random_array(rng, (B, H)))] + _weights(rng, 3, 2, D, H)
            h_t = expect_array(call_unchanged(fn, args, _GRU_NAMES, "gru_step"), (B, H), "h_t from gru_step")
            h_ref, _ = gru_step_forward(*args)
            name_mistake(h_t, h_ref, _gru_mistakes(*args), "gru_step", rtol=1e-5, atol=1e-8)
            expect_close(h_t, h_ref, "h_t from gru_step", rtol=1e-10, atol=1e-10)


# ----------------------------------------------------------------------------- LSTM step backward

_LSTM_GRAD_KEYS = ("x_t", "h_prev", "c_prev", "W_xh", "W_hh", "b_h")


def lstm_step_backward_variant(dstate, cache, *, dh_path=True, dc_next=True, g_tanh=True, forget=True,
                               order="ifgo", tanh_squared=True):
    """The LSTM step backward, correct by default, or with one planted mistake.

    Parameters
    ----------
    dstate : tuple of numpy.ndarray
        ``(dh_t, dc_t)``, gradients of the loss with respect to ``h_t`` and ``c_t``, each (B, H).
    cache : ~rnncourse.numpy.gated.LSTMStepCache
        From :func:`rnncourse.numpy.gated.lstm_step_forward`.
    dh_path : bool
        ``False``: the gradient from ``h_t = o * tanh(c_t)`` into ``c_t`` is left out.
    dc_next : bool
        ``False``: ``dc_t`` is left out.
    g_tanh : bool
        ``False``: ``g`` is differentiated like a sigmoid, ``g * (1 - g)``.
    forget : bool
        ``False``: the gradient of ``c_prev`` is ``dc`` instead of ``dc * f``.
    order : str
        The order in which the blocks of the pre-activation gradient are stacked; ``"ifgo"`` is right.
    tanh_squared : bool
        ``False``: the derivative of ``tanh(c_t)`` on the path from ``h_t`` is written ``1 - tanh(c_t)``
        instead of ``1 - tanh(c_t)**2``.

    Returns
    -------
    dict
        ``"x_t"``, ``"h_prev"``, ``"c_prev"``, ``"W_xh"``, ``"W_hh"``, ``"b_h"``.
    """
    x_t, h_prev, c_prev, W_xh, W_hh, (i, f, g, o), tanh_c = cache
    dh_t, dc_t = dstate
    dtanh = 1 - tanh_c ** 2 if tanh_squared else 1 - tanh_c
    dc = (dh_t * o * dtanh if dh_path else 0) + (dc_t if dc_next else 0)
    blocks = {"i": dc * g * i * (1 - i), "f": dc * c_prev * f * (1 - f),
              "g": dc * i * ((1 - g ** 2) if g_tanh else g * (1 - g)), "o": dh_t * tanh_c * o * (1 - o)}
    da = np.concatenate([blocks[k] for k in order], axis=1)
    return {"x_t": da @ W_xh, "h_prev": da @ W_hh, "c_prev": dc * f if forget else dc,
            "W_xh": da.T @ x_t, "W_hh": da.T @ h_prev, "b_h": da.sum(axis=0)}


def _flat(grads):
    """The six gradients one after the other, as one vector, to compare all of them at once."""
    return np.concatenate([grads[k].ravel() for k in _LSTM_GRAD_KEYS])


_LSTM_BACKWARD_SLIPS = (
    (dict(dh_path=False), "c_t also reaches the loss through h_t = o * tanh(c_t): "
                          "dc = dc_t + dh_t * o * (1 - tanh(c_t)**2)"),
    (dict(dc_next=False), "add dc_t, the gradient that reaches c_t along the cell state from the next step: "
                          "dc = dc_t + dh_t * o * (1 - tanh(c_t)**2)"),
    (dict(g_tanh=False), "the candidate g = tanh(a_g) has the derivative 1 - g**2, not g * (1 - g)"),
    (dict(forget=False), "c_t = f * c_prev + i * g, so the gradient reaching c_prev is dc * f"),
    (dict(order="fiog"), "stack the four blocks of the pre-activation gradient in the order i, f, g, o, "
                         "the order of the rows of W_xh"),
    (dict(order="ifog"), "stack the four blocks of the pre-activation gradient in the order i, f, g, o, "
                         "the order of the rows of W_xh"),
    (dict(tanh_squared=False), "the derivative of tanh(c_t) is 1 - tanh(c_t)**2, not 1 - tanh(c_t): "
                               "dc = dc_t + dh_t * o * (1 - tanh(c_t)**2)"),
)


#: The rows of each gate's block in W_xh, W_hh and b_h, in the order i, f, g, o.
_BLOCK_ROWS = ("0..H-1", "H..2H-1", "2H..3H-1", "3H..4H-1")


def _name_wrong_gate(grads, expected, what, *, rtol, atol):
    """Fail, naming the gate, if the wrong entries of dW_xh, dW_hh and db_h all lie in one gate's block of rows.

    Such an answer has one gate's derivative wrong; the failure shows only the first wrong gradient in full, not
    every gradient that the wrong block spoils.
    """
    def close(name, rows=slice(None)):
        return np.allclose(grads[name][rows], expected[name][rows], rtol=rtol, atol=atol)

    H = len(expected["b_h"]) // 4
    wrong_gates = [k for k in range(4)
                   if not all(close(name, slice(k * H, (k + 1) * H)) for name in ("W_xh", "W_hh", "b_h"))]
    if len(wrong_gates) != 1:
        return
    k = wrong_gates[0]
    wrong = [name for name in _LSTM_GRAD_KEYS if not close(name)]
    try:
        expect_close(grads[wrong[0]], expected[wrong[0]], f"{what}[{wrong[0]!r}]", rtol=rtol, atol=atol)
    except ExerciseFailure as first:
        raise ExerciseFailure(f"{what} are wrong for {', '.join(wrong)}; the wrong entries of W_xh, W_hh and b_h are "
                              f"all in gate {'ifgo'[k]}'s block (rows {_BLOCK_ROWS[k]}): check that gate's "
                              f"derivative; {first}") from None


def _lstm_backward_case(rng, B, D, H):
    k = 1 / np.sqrt(H)
    args = [random_array(rng, (B, D)), np.tanh(random_array(rng, (B, H))), random_array(rng, (B, H))]
    args += [rng.uniform(-2 * k, 2 * k, size=s) for s in ((4 * H, D), (4 * H, H), (4 * H,))]
    _, cache = lstm_step_forward(*args)
    return (random_array(rng, (B, H)), random_array(rng, (B, H))), cache


@exercise("ch08.lstm_step_backward", points=3,
          subjects=("rnncourse.numpy.gated.lstm_step_backward", "rnncourse.numpy.gated._lstm_cell_backward",
                    "rnncourse.numpy.gated.lstm_backward"))
def check_lstm_step_backward(fn):
    """Write lstm_step_backward(dstate, cache) -> grads: the six gradients of one LSTM step.

    Parameters
    ----------
    fn : callable
        The student's function, called as ``lstm_step_backward(dstate, cache) -> grads``.
    """
    rng = np.random.default_rng(82)
    for sizes in case_sizes(seed=82, letters="BDH", n_random=3):
        with in_case(sizes):
            dstate, cache = _lstm_backward_case(rng, sizes["B"], sizes["D"], sizes["H"])
            grads = call_unchanged(fn, (dstate, cache), ("dstate", "cache"), what="lstm_step_backward")
            expected = lstm_step_backward_reference(dstate, cache)
            expect_keys(grads, _LSTM_GRAD_KEYS, "the gradients of lstm_step_backward")
            # Arrays of the right shape holding real numbers first, so that the comparisons below can run.
            grads = {k: expect_array(grads[k], expected[k].shape, f"the gradients of lstm_step_backward[{k!r}]")
                     for k in _LSTM_GRAD_KEYS}
            mistakes = [(_flat(lstm_step_backward_variant(dstate, cache, **slip)), message)
                        for slip, message in _LSTM_BACKWARD_SLIPS]
            name_mistake(_flat(grads), _flat(expected), mistakes, "the gradients of lstm_step_backward are wrong",
                         rtol=1e-7, atol=1e-10)
            _name_wrong_gate(grads, expected, "the gradients of lstm_step_backward", rtol=1e-7, atol=1e-10)
            expect_grads_close(grads, expected, "the gradients of lstm_step_backward", rtol=1e-7, atol=1e-10)
    # Independently of the reference: centred finite differences of L = sum(dh_t * h_t + dc_t * c_t).
    B, D, H = 2, 3, 2
    params = {"x_t": random_array(rng, (B, D)), "h_prev": np.tanh(random_array(rng, (B, H))),
              "c_prev": random_array(rng, (B, H)), "W_xh": rng.uniform(-1, 1, (4 * H, D)),
              "W_hh": rng.uniform(-1, 1, (4 * H, H)), "b_h": rng.uniform(-1, 1, 4 * H)}
    dstate = (random_array(rng, (B, H)), random_array(rng, (B, H)))
    _, cache = lstm_step_forward(**params)
    grads = call_unchanged(fn, (dstate, cache), ("dstate", "cache"), what="lstm_step_backward")

    def loss():
        (h_t, c_t), _ = lstm_step_forward(**params)
        return float(np.sum(dstate[0] * h_t) + np.sum(dstate[1] * c_t))

    expect_grad_check(loss, params, grads, "the gradients of lstm_step_backward", tol=1e-6)
