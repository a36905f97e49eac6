"""Checkers of the fixture chapter "ch99" used by the tests of the exercise tools.

Loaded with ``rnncourse.exercises.registry.load_checkers(path)`` (never imported as a test
module), the way an instructor loads exercises of their own. Each one follows the rules the
book's checkers follow: a hand-computable case, edge cases (T=1, B=1) and random cases
against the package's reference.
"""

from __future__ import annotations

import numpy as np

from rnncourse.exercises import exercise
from rnncourse.exercises.feedback import (call_unchanged, case_sizes, expect_close, expect_grad_check,
                                          expect_grads_close, expect_scalar, in_case, random_array)
from rnncourse.numpy import mse_loss, rnn_step_backward, rnn_step_forward


@exercise("ch99.double", points=1)
def check_double(fn):
    """Write double(x): twice x."""
    expect_close(call_unchanged(fn, (np.array([1.0, 2.0]),), ("x",), "double"), [2.0, 4.0], "double([1, 2])")
    rng = np.random.default_rng(0)
    for shape in ((1,), (3, 2), (2, 1, 4)):
        x = random_array(rng, shape)
        expect_close(call_unchanged(fn, (x,), ("x",), "double"), 2 * x, f"double of an array of shape {shape}")


_STEP_NAMES = ("x_t", "h_prev", "W_xh", "W_hh", "b_h")


def _step_case(rng, sizes):
    B, D, H = sizes["B"], sizes["D"], sizes["H"]
    return (random_array(rng, (B, D)), np.tanh(random_array(rng, (B, H))), random_array(rng, (H, D), 0.5),
            random_array(rng, (H, H), 0.5), random_array(rng, (H,), 0.1))


@exercise("ch99.rnn_step", points=2, subjects=("rnncourse.numpy.elman.rnn_step_forward",
                                                "rnncourse.numpy.elman.rnn_forward"))
def check_rnn_step(fn):
    """Write rnn_step(x_t, h_prev, W_xh, W_hh, b_h): one tanh step."""
    b_h = np.array([0.0, 0.5])
    hand = (np.ones((1, 3)), np.ones((1, 2)), np.zeros((2, 3)), np.zeros((2, 2)), b_h)
    h = call_unchanged(fn, hand, _STEP_NAMES, "rnn_step")
    expect_close(h, np.tanh(b_h)[None], "rnn_step with zero weights (should be tanh(b_h))")
    rng = np.random.default_rng(1)
    for sizes in case_sizes(seed=1, letters="BDH"):
        with in_case(sizes):
            args = _step_case(rng, sizes)
            h = call_unchanged(fn, args, _STEP_NAMES, "rnn_step")
            expect_close(h, rnn_step_forward(*args)[0], "h_t", rtol=1e-10, atol=1e-12)


@exercise("ch99.step_backward", points=3)
def check_step_backward(fn):
    """Write step_backward(dh_t, x_t, h_prev, W_xh, W_hh, h_t): the gradients of one tanh step."""
    rng = np.random.default_rng(2)
    for sizes in case_sizes(seed=2, letters="BDH", n_random=2):
        with in_case(sizes):
            x_t, h_prev, W_xh, W_hh, b_h = _step_case(rng, sizes)
            h_t, cache = rnn_step_forward(x_t, h_prev, W_xh, W_hh, b_h)
            dh_t = random_array(rng, h_t.shape)
            grads = call_unchanged(fn, (dh_t, x_t, h_prev, W_xh, W_hh, h_t),
                                   ("dh_t", "x_t", "h_prev", "W_xh", "W_hh", "h_t"), "step_backward")
            expected = rnn_step_backward(dh_t, cache)
            expect_grads_close(grads, expected, "your gradients", rtol=1e-8, atol=1e-10)
    params = {"W_xh": W_xh, "W_hh": W_hh, "b_h": b_h}

    def loss():
        return float((rnn_step_forward(x_t, h_prev, W_xh, W_hh, b_h)[0] * dh_t).sum())

    expect_grad_check(loss, params, {k: grads[k] for k in params})


@exercise("ch99.mse", points=1)
def check_mse(fn):
    """Write mse(pred, target): the mean squared error."""
    value = call_unchanged(fn, (np.array([1.0, 3.0]), np.array([0.0, 0.0])), ("pred", "target"), "mse")
    expect_scalar(value, 5.0, "mse([1, 3], [0, 0])")
    rng = np.random.default_rng(3)
    for shape in ((1, 1, 1), (4, 2, 3)):
        pred, target = random_array(rng, shape), random_array(rng, shape)
        reference, _ = mse_loss(pred, target)
        expect_scalar(call_unchanged(fn, (pred, target), ("pred", "target"), "mse"), float(reference), f"mse on arrays of shape {shape}")
