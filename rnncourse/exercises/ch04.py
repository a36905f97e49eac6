"""Checkers of chapter 4 (backpropagation through time): one step backward, and the whole sequence.

- ``ch04.rnn_step_backward``: ``rnn_step_backward(dh_t, x_t, h_prev, W_xh, W_hh, h_t) -> grads``,
  the gradients of one tanh step, compared with :func:`rnncourse.numpy.elman.rnn_step_backward`;
- ``ch04.rnn_backward``: ``rnn_backward(dhs, x, h0, W_xh, W_hh, hs) -> grads``, backpropagation
  through time over a whole sequence, compared with centred finite differences and with
  :func:`rnncourse.numpy.elman.rnn_backward`.

Both return a dict of gradients named like the inputs. (The chapter names the student's functions
``rnn_step_backward_ex`` and ``rnn_backward_ex``, so as not to shadow the package's own.) A wrong
answer is reported gradient by gradient ("grads['W_hh'] ..."), and the checker names the usual
mistake that reproduces it when it finds one (no tanh derivative, no recursion through ``W_hh``,
gradients overwritten instead of summed over time ...).
"""

from __future__ import annotations

import numpy as np

from rnncourse.exercises.feedback import (call_unchanged, case_sizes, expect_array, expect_close, expect_grad_check,
                                          expect_keys, in_case, name_mistake, random_array)
from rnncourse.exercises.registry import ExerciseFailure, exercise
from rnncourse.numpy import StepCache, init_rnn_params, rnn_backward, rnn_forward
from rnncourse.numpy import rnn_step_backward as step_backward_reference

__all__ = ["check_rnn_step_backward", "check_rnn_backward", "bptt_variant"]

STEP_KEYS = ("x_t", "h_prev", "W_xh", "W_hh", "b_h")
SEQ_KEYS = ("x", "h0", "W_xh", "W_hh", "b_h")
_STEP_ARGS = ("dh_t", "x_t", "h_prev", "W_xh", "W_hh", "h_t")
_SEQ_ARGS = ("dhs", "x", "h0", "W_xh", "W_hh", "hs")


def _compare(grads, expected, keys, what, mistakes=(), *, result):
    """Compare gradient by gradient; on the first wrong one, name a matching mistake if one exists.

    ``mistakes`` are pairs ``(wrong_grads, message)``, ``wrong_grads`` a dict like ``expected``. ``what`` starts
    each gradient's message (``"{what}: grads['x']"``); ``result`` names the whole dict, for a result that is no
    dict or has other keys (``"rnn_backward's result"``).
    """
    expect_keys(grads, keys, result)
    for key in keys:
        name = f"{what}: grads[{key!r}]"
        g = grads[key]                  # call_unchanged hands back NumPy arrays, also for tensors
        want = expected[key]
        if isinstance(g, np.ndarray) and g.ndim == 2 and g.shape == want.shape[::-1] and g.shape != want.shape:
            raise ExerciseFailure(f"{name} has shape {g.shape}, the transpose of the parameter's {want.shape}; "
                                  f"a gradient has the shape of what it differentiates")
        if key == "b_h" and isinstance(g, np.ndarray) and g.ndim >= 2 and g.shape[-1] == want.shape[0]:
            if all(n == 1 for n in g.shape[:-1]):       # summed with keepdims=True (or a batch of one, not summed)
                raise ExerciseFailure(f"{name} has shape {g.shape}, but b_h has shape {want.shape}: drop the leading "
                                      f"axes of size 1 (sum over the batch (and time) axes without keepdims=True), "
                                      f"so that b_h's gradient has shape (H,)")
            raise ExerciseFailure(f"{name} has shape {g.shape}, but b_h has shape {want.shape}: the bias is shared "
                                  f"by every sequence (and every step), so sum its gradient over those axes")
        g = expect_array(g, want.shape, name)
        name_mistake(g, want, [(wrong[key], message) for wrong, message in mistakes], f"{name} is wrong",
                     rtol=1e-7, atol=1e-10)
        expect_close(g, want, name, rtol=1e-7, atol=1e-10)


def _averaged(grads, n):
    """``grads`` with the gradients of the weights and the bias divided by ``n``: averaged over ``n`` sequences
    (or steps), not summed."""
    return {**grads, **{k: grads[k] / n for k in ("W_xh", "W_hh", "b_h")}}


# ----------------------------------------------------------------------------- ch04.rnn_step_backward

def _step_mistakes(dh_t, x_t, h_prev, W_xh, W_hh, h_t):
    da = dh_t * (1 - h_t ** 2)
    right = {"x_t": da @ W_xh, "h_prev": da @ W_hh, "W_xh": da.T @ x_t, "W_hh": da.T @ h_prev, "b_h": da.sum(0)}
    no_derivative = {"x_t": dh_t @ W_xh, "h_prev": dh_t @ W_hh, "W_xh": dh_t.T @ x_t, "W_hh": dh_t.T @ h_prev,
                     "b_h": dh_t.sum(0)}
    da_tanh = dh_t * (1 - np.tanh(h_t) ** 2)
    da_prev = dh_t * (1 - h_prev ** 2)
    return [
        (no_derivative, "the gradient did not go through tanh: first da_t = dh_t * (1 - h_t**2), then use da_t"),
        ({**right, "h_prev": da @ W_hh.T}, "dh_prev = da_t @ W_hh (rows are examples: the forward used "
                                           "h_prev @ W_hh.T, so the backward multiplies by W_hh itself)"),
        ({**right, "W_hh": da.T @ h_t}, "dW_hh pairs da_t with the state *entering* the step, h_prev, not h_t"),
        ({k: v for k, v in zip(right, (da_tanh @ W_xh, da_tanh @ W_hh, da_tanh.T @ x_t, da_tanh.T @ h_prev,
                                       da_tanh.sum(0)))},
         "tanh'(a_t) is 1 - h_t**2 with h_t = tanh(a_t) already computed; do not apply tanh to h_t again"),
        ({k: v for k, v in zip(right, (da_prev @ W_xh, da_prev @ W_hh, da_prev.T @ x_t, da_prev.T @ h_prev,
                                       da_prev.sum(0)))},
         "tanh'(a_t) = 1 - h_t**2 is taken at the state this step computed, h_t, not at h_prev, the state "
         "entering it"),
        (_averaged(right, len(x_t)), "the weights and the bias are shared by every sequence of the batch: sum "
                                     "their gradients over the batch, do not average"),
    ]


def _step_case(rng, B, D, H):
    p = init_rnn_params(D, H, rng=rng)
    x_t = random_array(rng, (B, D))
    h_prev = np.tanh(random_array(rng, (B, H)))
    h_t = np.tanh(x_t @ p["W_xh"].T + h_prev @ p["W_hh"].T + p["b_h"])
    dh_t = random_array(rng, (B, H))
    return dh_t, x_t, h_prev, p["W_xh"], p["W_hh"], h_t


#: What both exercises block while grading, every package function whose result is their answer.
_BPTT_SUBJECTS = ("rnncourse.numpy.elman.rnn_step_backward", "rnncourse.numpy.elman.rnn_backward",
                  # with W_hy = I and W_yh = W_hh the Jordan network is the Elman network
                  "rnncourse.numpy.jordan.jordan_step_backward", "rnncourse.numpy.jordan.jordan_backward",
                  # gates pinned (GRU r = 1, z = 0; LSTM i = o = 1, f = 0, tanh(c) = 0 in a hand-made cache),
                  # the gated networks' backward passes are the Elman network's
                  "rnncourse.numpy.gated.gru_step_backward", "rnncourse.numpy.gated._gru_cell_backward",
                  "rnncourse.numpy.gated.gru_backward", "rnncourse.numpy.gated.lstm_step_backward",
                  "rnncourse.numpy.gated._lstm_cell_backward", "rnncourse.numpy.gated.lstm_backward")


@exercise("ch04.rnn_step_backward", points=2, subjects=_BPTT_SUBJECTS)
def check_rnn_step_backward(fn):
    """Write rnn_step_backward(dh_t, x_t, h_prev, W_xh, W_hh, h_t): the five gradients of one tanh step.

    Parameters
    ----------
    fn : callable
        The student's function, called as ``rnn_step_backward(dh_t, x_t, h_prev, W_xh, W_hh, h_t) -> grads``.
    """
    # By hand: one unit, x = 1, h_prev = 0.5, w_xh = 1, w_hh = 2, h_t = tanh(2) and dh_t = 1.
    h_t = np.tanh(2.0)
    d = 1 - h_t ** 2
    args = (np.ones((1, 1)), np.ones((1, 1)), np.full((1, 1), 0.5), np.ones((1, 1)), np.full((1, 1), 2.0),
            np.full((1, 1), h_t))
    grads = call_unchanged(fn, args, _STEP_ARGS, "rnn_step_backward on the one-unit example")
    by_hand = {"x_t": d * 1.0, "h_prev": d * 2.0, "W_xh": d * 1.0, "W_hh": d * 0.5, "b_h": d}
    expected = {k: np.full((1,) if k == "b_h" else (1, 1), v) for k, v in by_hand.items()}
    _compare(grads, expected, STEP_KEYS, "the one-unit example (tanh'(a) = 1 - tanh(2)**2 = "
             f"{d:.4f})", _step_mistakes(*args), result="rnn_step_backward's result on the one-unit example")
    rng = np.random.default_rng(5)
    # B=1 is the edge case; also one unit with D=1, and a larger step.
    cases = case_sizes(seed=5, letters="BDH") + [{"B": 1, "D": 1, "H": 1}, {"B": 8, "D": 5, "H": 7}]
    for sizes in cases:
        with in_case(sizes):
            args = _step_case(rng, sizes["B"], sizes["D"], sizes["H"])
            grads = call_unchanged(fn, args, _STEP_ARGS, "rnn_step_backward")
            dh_t, x_t, h_prev, W_xh, W_hh, h_t = args
            expected = step_backward_reference(dh_t, StepCache(x_t, h_prev, W_xh, W_hh, h_t))
            _compare(grads, expected, STEP_KEYS, "rnn_step_backward", _step_mistakes(*args),
                     result="rnn_step_backward's result")


# ----------------------------------------------------------------------------- ch04.rnn_backward

def bptt_variant(dhs, x, h0, W_xh, W_hh, hs, *, recursion=True, derivative=True, transpose_hh=False,
                 whh_state="prev", accumulate=True, derivative_state="current"):
    """Backpropagation through time, correct by default, or with one planted mistake.

    Parameters
    ----------
    dhs : numpy.ndarray, shape (T, B, H)
        Gradient of the loss with respect to each state, directly from the loss.
    x : numpy.ndarray, shape (T, B, D)
        Inputs.
    h0 : numpy.ndarray, shape (B, H)
        Initial state.
    W_xh : numpy.ndarray, shape (H, D)
        Input weights.
    W_hh : numpy.ndarray, shape (H, H)
        Recurrent weights.
    hs : numpy.ndarray, shape (T, B, H)
        States of the forward pass.
    recursion : bool
        ``False``: no gradient flows from ``h_{t+1}`` back into ``h_t``.
    derivative : bool
        ``False``: the tanh derivative is left out.
    transpose_hh : bool
        ``True``: the recursion multiplies by ``W_hh.T`` instead of ``W_hh``.
    whh_state : str
        ``"prev"`` (right), ``"wrap"`` or ``"current"``: the state paired with ``da_t`` in ``dW_hh``,
        ``h_{t-1}``, ``hs[t - 1]`` also for ``t = 0`` (``hs[-1]``, the last state, in place of ``h0``) or ``h_t``.
    accumulate : bool
        ``False``: parameter gradients are overwritten at every step, so only the first
        step's (the last one the backward loop visits) survives.
    derivative_state : str
        ``"current"`` (right) or ``"prev"``: the state whose tanh derivative is taken,
        ``1 - h_t**2`` or ``1 - h_{t-1}**2``.

    Returns
    -------
    dict
        ``"x"``, ``"h0"``, ``"W_xh"``, ``"W_hh"``, ``"b_h"``.
    """
    T = x.shape[0]
    prev = np.concatenate([h0[None], hs[:-1]])              # h_{t-1} for t = 1 .. T, shape (T, B, H)
    dA = np.zeros_like(hs)
    dh_next = np.zeros_like(h0)
    at = hs if derivative_state == "current" else prev
    for t in reversed(range(T)):
        dh = dhs[t] + (dh_next if recursion else 0)
        dA[t] = dh * (1 - at[t] ** 2) if derivative else dh
        dh_next = dA[t] @ (W_hh.T if transpose_hh else W_hh)
    paired = {"prev": prev, "wrap": np.concatenate([hs[-1:], hs[:-1]]), "current": hs}[whh_state]
    steps = range(T) if accumulate else [0]
    return {
        "x": dA @ W_xh,
        "h0": dh_next,
        "W_xh": sum(dA[t].T @ x[t] for t in steps),
        "W_hh": sum(dA[t].T @ paired[t] for t in steps),
        "b_h": sum(dA[t].sum(0) for t in steps),
    }


def _seq_mistakes(args):
    """The usual mistakes of BPTT on ``args`` (``dhs, x, h0, W_xh, W_hh, hs``), each with the message that names it.

    With one step, ``hs[-1]`` is ``h_t``: pairing the first step with ``hs[-1]`` and every step with ``h_t`` give the
    same numbers, and the message names both; with more steps each has its own.
    """
    T, B = args[1].shape[:2]
    right = bptt_variant(*args)
    current = "dW_hh pairs da_t with h_{t-1}, the state entering step t (h0 for the first step), not with h_t"
    if T == 1:                  # hs[-1] is h_1: the two slips below give the same numbers
        current += " (nor with hs[-1], which hs[t - 1] gives at t = 0)"
    averaged = ("the weights and the bias are shared by every step and every sequence: sum their gradients over t "
                "and over the batch, do not average")
    return [
        (bptt_variant(*args, recursion=False),
         "no gradient flows back from step t+1: dL/dh_t must add W_hh^T (dL/dh_{t+1} * (1 - h_{t+1}**2)), "
         "i.e. carry dh_next = da_t @ W_hh into the previous step"),
        (bptt_variant(*args, derivative=False),
         "the gradient did not go through tanh: da_t = (dhs[t] + dh_next) * (1 - hs[t]**2)"),
        (bptt_variant(*args, derivative_state="prev"),
         "tanh'(a_t) is 1 - hs[t]**2, the derivative at the state step t produces, not at h_(t-1), the state "
         "entering it: da_t = (dhs[t] + dh_next) * (1 - hs[t]**2)"),
        (bptt_variant(*args, transpose_hh=True),
         "the recursion should be dh_next = da_t @ W_hh (the forward used h_prev @ W_hh.T)"),
        (bptt_variant(*args, whh_state="current"), current),
        (bptt_variant(*args, whh_state="wrap"),
         "dW_hh pairs da_t with h_{t-1}, the state entering step t, and for the first step that is h0, not a "
         "state of hs: at t = 0, hs[t - 1] is hs[-1], the last state"),
        (bptt_variant(*args, accumulate=False),
         "the weights are shared by every step, so their gradients are *summed* over t (+=); yours keeps "
         "only one step"),
        (_averaged(right, T), averaged),
        (_averaged(right, B), averaged),
        (_averaged(right, T * B), averaged),
    ]


def _seq_case(rng, T, B, D, n_h):
    p = init_rnn_params(D, n_h, rng=rng)
    x = random_array(rng, (T, B, D))
    h0 = np.tanh(random_array(rng, (B, n_h)))
    hs, _ = rnn_forward(x, h0, p["W_xh"], p["W_hh"], p["b_h"])
    dhs = random_array(rng, (T, B, n_h))
    return dhs, x, h0, p["W_xh"], p["W_hh"], hs, p["b_h"]


def _call_backward(fn, case, what):
    args = case[:6]                                   # (dhs, x, h0, W_xh, W_hh, hs); b_h is not an argument
    return call_unchanged(fn, args, _SEQ_ARGS, what), args


@exercise("ch04.rnn_backward", points=3, subjects=_BPTT_SUBJECTS)
def check_rnn_backward(fn):
    """Write rnn_backward(dhs, x, h0, W_xh, W_hh, hs): BPTT through a tanh RNN, gradients summed over time.

    Parameters
    ----------
    fn : callable
        The student's function, called as ``rnn_backward(dhs, x, h0, W_xh, W_hh, hs) -> grads``.
    """
    # By hand: T = 1, one unit, two sequences (B = 2, so that a bias gradient not summed over the batch shows),
    # x = 0.75 and -1.25, h0 = 0.5 in both (not 0, so that 1 - h0**2 = 0.75 is no tanh'), w_xh = 1, w_hh = 0.5,
    # dhs = 1 and 2. Then a_1 = x + 0.5 * 0.5 = 1 and -1, h_1 = tanh(1) and -tanh(1), tanh'(a_1) = d with
    # d = 1 - tanh(1)**2 in both, and da = dhs * d = (d, 2d):
    #   dx = da * w_xh = (d, 2d)                               dh0 = da * w_hh = (0.5 d, d)
    #   dW_xh = sum da * x = 0.75 d - 2.5 d = -1.75 d          dW_hh = sum da * h0 = 0.5 d + d = 1.5 d
    #   db_h = sum da = 3 d
    d = 1 - np.tanh(1.0) ** 2
    dhs, x, h0 = np.array([[[1.0], [2.0]]]), np.array([[[0.75], [-1.25]]]), np.full((2, 1), 0.5)
    args = (dhs, x, h0, np.ones((1, 1)), np.full((1, 1), 0.5), np.array([[[np.tanh(1.0)], [-np.tanh(1.0)]]]))
    grads = call_unchanged(fn, args, _SEQ_ARGS, "rnn_backward on the one-step example")
    by_hand = {"x": np.array([[[d], [2 * d]]]), "h0": np.array([[0.5 * d], [d]]), "W_xh": np.full((1, 1), -1.75 * d),
               "W_hh": np.full((1, 1), 1.5 * d), "b_h": np.full(1, 3 * d)}
    _compare(grads, by_hand, SEQ_KEYS, f"the one-step example (tanh'(a_1) = 1 - tanh(1)**2 = {d:.4f})",
             _seq_mistakes(args), result="rnn_backward's result on the one-step example")
    rng = np.random.default_rng(6)
    # Independently of the reference, first: centred finite differences of L = sum(dhs * hs) on a small
    # problem (T=4 shows what the one-step example hides: no recursion, gradients not summed over time).
    fd_sizes = {"T": 4, "B": 2, "D": 3, "H": 3}
    with in_case(fd_sizes):
        case = _seq_case(rng, fd_sizes["T"], fd_sizes["B"], fd_sizes["D"], fd_sizes["H"])
        dhs, x, h0, W_xh, W_hh, _, b_h = case
        grads, args = _call_backward(fn, case, "rnn_backward")
        expect_keys(grads, SEQ_KEYS, "rnn_backward's result")
        params = {"x": x.copy(), "h0": h0.copy(), "W_xh": W_xh.copy(), "W_hh": W_hh.copy(), "b_h": b_h.copy()}
        expected, mistakes = rnn_backward(dhs, rnn_forward(x, h0, W_xh, W_hh, b_h)[1]), _seq_mistakes(args)
        if any(not isinstance(grads[k], np.ndarray) or grads[k].shape != params[k].shape for k in SEQ_KEYS):
            _compare(grads, expected, SEQ_KEYS, "rnn_backward", mistakes,
                     result="rnn_backward's result")   # names a wrong shape: a transpose ...

        def loss():
            hs, _ = rnn_forward(params["x"], params["h0"], params["W_xh"], params["W_hh"], params["b_h"])
            return float((dhs * hs).sum())

        def explain(key, g):
            """The usual mistake that gives the failing gradient g, in words; None if none does."""
            try:
                name_mistake(g, expected[key], [(wrong[key], message) for wrong, message in mistakes], "",
                             rtol=1e-5, atol=1e-8)
            except ExerciseFailure as mistake:
                return str(mistake)
            return None

        expect_grad_check(loss, params, grads, "the gradients of rnn_backward", tol=1e-6, explain=explain)
    # T=1 and B=1 are the edge cases; also one unit with D=1, and a longer sequence.
    cases = case_sizes(seed=6, letters="TBDH") + [{"T": 1, "B": 1, "D": 1, "H": 1}, {"T": 12, "B": 3, "D": 4, "H": 6}]
    for sizes in cases:
        with in_case(sizes):
            case = _seq_case(rng, sizes["T"], sizes["B"], sizes["D"], sizes["H"])
            grads, args = _call_backward(fn, case, "rnn_backward")
            dhs, x, h0, W_xh, W_hh, _, b_h = case
            expected = rnn_backward(dhs, rnn_forward(x, h0, W_xh, W_hh, b_h)[1])
            _compare(grads, expected, SEQ_KEYS, "rnn_backward", _seq_mistakes(args), result="rnn_backward's result")
