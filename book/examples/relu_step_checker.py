"""The instructor guide's example: the checker of a new exercise, a ReLU step for chapter 2.

In the package, the checker (from ``@exercise`` on: what the guide shows) goes at the end of
``rnncourse/exercises/ch02.py``, which imports what it uses already, and its name goes into that
module's ``__all__``. Kept apart, this is a file of checkers to load with ``load_checkers`` or
``python -m rnncourse grade --checkers``. ``tests/test_instructor_guide_example.py`` runs it.
"""

from __future__ import annotations

import numpy as np

from rnncourse.exercises.feedback import call_unchanged, case_sizes, expect_close, in_case, random_array
from rnncourse.exercises.registry import exercise
from rnncourse.numpy import rnn_step_forward

__all__ = ["check_relu_step"]


@exercise("ch02.relu_step", points=2, subjects=("rnncourse.numpy.elman.rnn_step_forward",))
def check_relu_step(fn):
    """Write relu_step(x_t, h_prev, W_xh, W_hh, b_h): one step with ReLU instead of tanh.

    Parameters
    ----------
    fn : callable
        The student's function, called as ``relu_step(x_t, h_prev, W_xh, W_hh, b_h) -> h_t``.
    """
    names = ("x_t", "h_prev", "W_xh", "W_hh", "b_h")
    # By hand: W_xh = I, W_hh = 0 and b_h = 0 give h_t = max(x_t, 0).
    hand = (np.array([[1.5, -2.0]]), np.zeros((1, 2)), np.eye(2), np.zeros((2, 2)), np.zeros(2))
    h_t = call_unchanged(fn, hand, names, "relu_step")
    expect_close(h_t, [[1.5, 0.0]], "relu_step with W_xh = I, W_hh = 0, b_h = 0 (should be max(x_t, 0))")
    rng = np.random.default_rng(0)
    for sizes in case_sizes(seed=0, letters="BDH"):        # B = 1 first, then random sizes
        B, D, H = sizes["B"], sizes["D"], sizes["H"]
        args = (random_array(rng, (B, D)), random_array(rng, (B, H)), random_array(rng, (H, D)),
                random_array(rng, (H, H)), random_array(rng, H))
        with in_case(sizes):
            h_t = call_unchanged(fn, args, names, "relu_step")
            expect_close(h_t, rnn_step_forward(*args, nonlinearity="relu")[0], "h_t")
