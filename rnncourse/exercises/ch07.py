"""Checkers of chapter 7 (Elman and Jordan networks): one step of the Jordan network.

``ch07.jordan_step``: the student writes
``jordan_step(x_t, y_prev, W_xh, W_yh, b_h, W_hy, b_y) -> (h_t, y_t)`` with
``h_t = tanh(x_t W_xh^T + y_prev W_yh^T + b_h)`` and a linear output
``y_t = h_t W_hy^T + b_y``, compared with :func:`rnncourse.numpy.jordan.jordan_step_forward`
and, stepped through whole sequences, with :func:`rnncourse.numpy.jordan.jordan_forward`.
"""

from __future__ import annotations

import numpy as np

from rnncourse.exercises.feedback import (call_unchanged, case_sizes, expect_array, expect_close, expect_tuple,
                                          in_case, name_mistake, random_array)
from rnncourse.exercises.registry import ExerciseFailure, exercise
from rnncourse.numpy.jordan import init_jordan_params, jordan_forward, jordan_step_forward

__all__ = ["check_jordan_step"]

_NAMES = ("x_t", "y_prev", "W_xh", "W_yh", "b_h", "W_hy", "b_y")


def _case(rng, B, D, H, O, dtype=np.float64):
    p = init_jordan_params(D, H, O, rng=rng, dtype=dtype)
    x_t = random_array(rng, (B, D)).astype(dtype)
    y_prev = random_array(rng, (B, O)).astype(dtype)
    return (x_t, y_prev, p["W_xh"], p["W_yh"], p["b_h"], p["W_hy"], p["b_y"])


def _call(fn, args, what):
    """Call the student's step on copies; check it returns (h_t, y_t) and leaves its arguments alone."""
    return expect_tuple(call_unchanged(fn, args, _NAMES, what), ("h_t", "y_t"), what)


def _name_slip(h_t, y_t, args, what, tol):
    """Fail, naming it, if ``h_t`` (or, with h_t right, ``y_t``) is what a usual mistake gives."""
    x_t, y_prev, W_xh, W_yh, b_h, W_hy, b_y = args
    (h_ref, y_ref), _ = jordan_step_forward(*args)
    h_mistakes = [
        (np.tanh(x_t @ W_xh.T + b_h),
         "h_t ignores y_prev; the Jordan network adds y_prev W_yh^T (the previous output fed back) inside the tanh"),
        (np.tanh(x_t @ W_xh.T + y_prev @ W_yh.T) + b_h,
         "b_h is added after the tanh; it belongs inside: h_t = tanh(x_t W_xh^T + y_prev W_yh^T + b_h)"),
    ]
    name_mistake(h_t, h_ref, h_mistakes, what, rtol=tol, atol=tol)
    if np.allclose(h_t, h_ref, rtol=tol, atol=tol):
        y_mistakes = [(np.tanh(h_t @ W_hy.T + b_y), "y_t should be the linear read-out h_t W_hy^T + b_y, without tanh")]
        name_mistake(y_t, y_ref, y_mistakes, what, rtol=tol, atol=tol)


def _check_step(fn, args, what):
    x_t, y_prev, W_xh, W_yh, b_h, W_hy, b_y = args
    h_t, y_t = _call(fn, args, what)
    B, H, O = x_t.shape[0], W_xh.shape[0], W_hy.shape[0]
    h_t = expect_array(h_t, (B, H), f"h_t from {what}", dtype=x_t.dtype)        # float32 in, float32 out
    y_t = expect_array(y_t, (B, O), f"y_t from {what}", dtype=x_t.dtype)
    tol = 1e-5 if x_t.dtype == np.float32 else 1e-10
    (h_ref, y_ref), _ = jordan_step_forward(*args)
    _name_slip(h_t, y_t, args, what, tol)
    expect_close(h_t, h_ref, f"h_t from {what}", rtol=tol, atol=tol)
    expect_close(y_t, y_ref, f"y_t from {what}", rtol=tol, atol=tol)


@exercise("ch07.jordan_step", points=2,
          subjects=("rnncourse.numpy.jordan.jordan_step_forward", "rnncourse.numpy.jordan.jordan_forward",
                    # it checks no shapes, so it takes y_prev (B, O) in the place of h_prev: h_t
                    "rnncourse.torch.elman.recurrence"))
def check_jordan_step(fn):
    """Write jordan_step(x_t, y_prev, W_xh, W_yh, b_h, W_hy, b_y) -> (h_t, y_t) of the Jordan network.

    Parameters
    ----------
    fn : callable
        The student's function, called as ``jordan_step(x_t, y_prev, W_xh, W_yh, b_h, W_hy, b_y) -> (h_t, y_t)``.
    """
    # By hand (B = D = H = O = 1): h = tanh(1*1 + 2*0.5 - 1) = tanh(1), y = 3*tanh(1) + 1. b_h is not 0, so
    # that adding it in the wrong place shows.
    one = [np.array([[v]]) for v in (1.0, 0.5, 1.0, 2.0)] + [np.full(1, -1.0), np.array([[3.0]]), np.ones(1)]
    what = "jordan_step on the hand case"
    h_t, y_t = _call(fn, one, what)
    h_t = expect_array(h_t, (1, 1), "h_t on the hand case", dtype=np.float64)
    y_t = expect_array(y_t, (1, 1), "y_t on the hand case", dtype=np.float64)
    if not np.isclose(h_t[0, 0], np.tanh(1.0)) or not np.isclose(y_t[0, 0], 3 * np.tanh(1.0) + 1):
        _name_slip(h_t, y_t, one, what, 1e-10)
        raise ExerciseFailure(
            f"with x_t = 1, y_prev = 0.5, W_xh = 1, W_yh = 2, b_h = -1, W_hy = 3, b_y = 1 the step should give "
            f"h_t = tanh(1 + 1 - 1) = tanh(1) = {np.tanh(1.0):.4f} and y_t = 3 tanh(1) + 1 = "
            f"{3 * np.tanh(1.0) + 1:.4f}, but gives h_t = {h_t[0, 0]:.4f}, y_t = {y_t[0, 0]:.4f}")
    rng = np.random.default_rng(70)
    # D, H, O all different catch a missing transpose (the random sizes include such cases); ones and
    # sizes above case_sizes' range are the deliberate extras, then float32 inputs (float32 out).
    cases = case_sizes(seed=70, letters="BDHO") + [
        {"B": 3, "D": 1, "H": 1, "O": 1}, {"B": 1, "D": 1, "H": 4, "O": 1}, {"B": 8, "D": 7, "H": 16, "O": 5},
        {"B": 2, "D": 3, "H": 4, "O": 2, "dtype": "float32"},
    ]
    for sizes in cases:
        with in_case(sizes):
            dtype = np.dtype(sizes.get("dtype", "float64"))
            _check_step(fn, _case(rng, sizes["B"], sizes["D"], sizes["H"], sizes["O"], dtype), "jordan_step")
    # Feeding each output into the next step must reproduce jordan_forward (T = 1 first).
    for sizes in case_sizes(seed=70, letters="TBDHO", n_random=1):
        with in_case(sizes):
            T, B, D = sizes["T"], sizes["B"], sizes["D"]
            x_t, y, W_xh, W_yh, b_h, W_hy, b_y = _case(rng, B, D, sizes["H"], sizes["O"])
            x = random_array(rng, (T, B, D))
            Y_ref, _ = jordan_forward(x, y, W_xh, W_yh, b_h, W_hy, b_y)
            for t in range(T):
                _, y = _call(fn, (x[t], y, W_xh, W_yh, b_h, W_hy, b_y), f"jordan_step at step {t + 1}")
            expect_close(y, Y_ref[-1], "the last output, each output fed back into the next step (compared with "
                                       "jordan_forward)", rtol=1e-10, atol=1e-10)
