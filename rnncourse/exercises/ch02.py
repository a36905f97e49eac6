"""Checkers of chapter 2 (the structure of a recurrent network): one step, and counting parameters.

- ``ch02.rnn_step``: ``rnn_step(x_t, h_prev, W_xh, W_hh, b_h) -> h_t``, one tanh step in
  the batched row-vector convention, compared with ``rnncourse.numpy.rnn_step_forward``;
- ``ch02.rnn_param_count``: ``rnn_param_count(D, H, O) -> int``, the parameters of an Elman
  RNN with an affine read-out, compared with the arrays the package initialises.
"""

from __future__ import annotations

import numpy as np

from rnncourse.numpy import init_output_params, init_rnn_params, rnn_forward, rnn_step_forward

from rnncourse.exercises.feedback import (call_unchanged, case_sizes, expect_array, expect_close, in_case,
                                          name_mistake, random_array)
from rnncourse.exercises.registry import ExerciseFailure, exercise

__all__ = ["check_rnn_step", "check_rnn_param_count"]

_NAMES = ("x_t", "h_prev", "W_xh", "W_hh", "b_h")


def _random_case(rng, B, D, H, dtype=np.float64):
    params = init_rnn_params(D, H, rng=rng, dtype=dtype)
    x_t = random_array(rng, (B, D)).astype(dtype)
    h_prev = np.tanh(random_array(rng, (B, H))).astype(dtype)
    return x_t, h_prev, params["W_xh"], params["W_hh"], params["b_h"]


def _mistakes(x_t, h_prev, W_xh, W_hh, b_h):
    """The usual mistake of the step, W_hh without its transpose, with the message that names it.

    ``x_t @ W_xh`` fails with a shape error when D != H; ``h_prev @ W_hh`` runs, since W_hh is square.
    """
    return [(np.tanh(x_t @ W_xh.T + h_prev @ W_hh + b_h),
             "h_t equals tanh(x_t @ W_xh.T + h_prev @ W_hh + b_h): multiply by W_hh.T, as by W_xh.T; with the "
             "states as rows, h_prev @ W_hh.T is W_hh h_prev for each row. W_hh is square, so leaving out the "
             "transpose raises no error, but it gives wrong numbers")]


#: What the zero-weight case names. With W_xh = W_hh = 0, both b_h added after the tanh and no tanh at all give b_h.
_B_H_ITSELF = ("h_t is b_h itself, not tanh(b_h): apply tanh to the whole sum, b_h included: "
               "h_t = tanh(x_t @ W_xh.T + h_prev @ W_hh.T + b_h)")


@exercise("ch02.rnn_step", points=2, subjects=("rnncourse.numpy.elman.rnn_step_forward", "rnncourse.numpy.elman.rnn_forward",
                                               "rnncourse.torch.elman.rnn_step_forward", "rnncourse.torch.elman.rnn_forward",
                                               "rnncourse.torch.elman.recurrence",
                                               # with W_hy = I the fed-back output is h: a Jordan step is an Elman step
                                               "rnncourse.numpy.jordan.jordan_step_forward",
                                               "rnncourse.numpy.jordan.jordan_forward",
                                               # with r = 1 and z = 0 a GRU step is an Elman step; with i = 1 and
                                               # f = 0 an LSTM's new cell state is one (c_t = tanh(a))
                                               "rnncourse.numpy.gated.gru_step_forward",
                                               "rnncourse.numpy.gated._gru_cell", "rnncourse.numpy.gated.gru_forward",
                                               "rnncourse.numpy.gated.lstm_step_forward",
                                               "rnncourse.numpy.gated._lstm_cell",
                                               "rnncourse.numpy.gated.lstm_forward"))
def check_rnn_step(fn):
    """Write rnn_step(x_t, h_prev, W_xh, W_hh, b_h): h_t = tanh(x_t W_xh^T + h_prev W_hh^T + b_h).

    Parameters
    ----------
    fn : callable
        The student's function, called as ``rnn_step(x_t, h_prev, W_xh, W_hh, b_h) -> h_t``.
    """
    # By hand: with zero weights the state forgets everything and is tanh(b_h) for every sequence.
    b_h = np.array([0.0, 0.5, -1.0])
    zeros = (np.ones((2, 4)), np.ones((2, 3)), np.zeros((3, 4)), np.zeros((3, 3)), b_h)
    h_t = call_unchanged(fn, zeros, _NAMES, "rnn_step with zero weights (B=2, D=4, H=3)")
    h_t = expect_array(h_t, (2, 3), "rnn_step with zero weights (B=2, D=4, H=3)", dtype=np.float64)
    name_mistake(h_t, np.tanh(b_h) + np.zeros((2, 1)), [(b_h + np.zeros((2, 1)), _B_H_ITSELF)],
                 "rnn_step with zero weights (B=2, D=4, H=3)", rtol=1e-10, atol=1e-10)
    if not np.allclose(h_t, np.tanh(b_h)):
        raise ExerciseFailure(f"with W_xh = 0 and W_hh = 0, h_t should be tanh(b_h) = {np.round(np.tanh(b_h), 4)} "
                              f"in every row, but your first row is {np.round(h_t[0], 4)}; did you apply tanh "
                              f"and add b_h?")
    rng = np.random.default_rng(7)
    # B = 1 first, then random sizes; then the edge cases D = 1 and H = 1, a larger non-square W_xh (H != D
    # catches a missing transpose), and float32 arrays, whose dtype h_t must keep.
    cases = case_sizes(seed=7, letters="BDH") + [
        {"B": 3, "D": 1, "H": 1}, {"B": 1, "D": 1, "H": 4}, {"B": 8, "D": 10, "H": 16},
        {"B": 2, "D": 3, "H": 4, "dtype": "float32"},
    ]
    for sizes in cases:
        with in_case(sizes):
            args = _random_case(rng, sizes["B"], sizes["D"], sizes["H"], np.dtype(sizes.get("dtype", "float64")))
            h_t = call_unchanged(fn, args, _NAMES, "rnn_step")
            rtol = 1e-5 if args[0].dtype == np.float32 else 1e-10
            h_ref = rnn_step_forward(*args)[0]
            name_mistake(h_t, h_ref, _mistakes(*args), "rnn_step", rtol=rtol, atol=rtol)
            expect_close(h_t, h_ref, "h_t from rnn_step", rtol=rtol, atol=rtol, dtype=args[0].dtype)
    # Stepping through whole sequences (T = 1 and T = 6) must reproduce rnn_forward.
    for sizes in ({"T": 1, "B": 3, "D": 2, "H": 4}, {"T": 6, "B": 3, "D": 2, "H": 4}):
        with in_case(sizes):
            T, B, D, H = sizes["T"], sizes["B"], sizes["D"], sizes["H"]
            x_t, h, W_xh, W_hh, b_h = _random_case(rng, B, D, H)
            x = random_array(rng, (T, B, D))
            hs_ref, _ = rnn_forward(x, h, W_xh, W_hh, b_h)
            for t in range(T):
                h = call_unchanged(fn, (x[t], h, W_xh, W_hh, b_h), _NAMES, f"rnn_step at step {t + 1}")
            expect_close(h, hs_ref[-1], "the last state after T calls of rnn_step (compared with rnn_forward)",
                         rtol=1e-10, atol=1e-10)


def _reference_count(D, H, O):
    """Count the entries of the arrays the package initialises for an Elman RNN and its read-out."""
    rng = np.random.default_rng(0)
    arrays = {**init_rnn_params(D, H, rng=rng), **init_output_params(H, O, rng=rng)}
    return sum(a.size for a in arrays.values())


@exercise("ch02.rnn_param_count", points=1,
          subjects=("rnncourse.numpy.init.init_rnn_params", "rnncourse.numpy.init.init_output_params",
                    "rnncourse.numpy.model.init_model_params"))
def check_rnn_param_count(fn):
    """Write rnn_param_count(D, H, O): the number of parameters of an Elman RNN with a read-out.

    Parameters
    ----------
    fn : callable
        The student's function, called as ``rnn_param_count(D, H, O) -> int``.
    """
    # D = H = O = 1 first (5 parameters, by hand), then random sizes, then larger and lopsided ones: the
    # character-level model of the exercise (65, 128, 65), H = 1, and D = O = 1 with a large H.
    cases = [{"D": 1, "H": 1, "O": 1}] + case_sizes(seed=0, letters="DHO") + [
        {"D": 5, "H": 16, "O": 2}, {"D": 65, "H": 128, "O": 65}, {"D": 10, "H": 1, "O": 7}, {"D": 1, "H": 50, "O": 1},
    ]
    for sizes in cases:
        with in_case(sizes):
            D, H, O = sizes["D"], sizes["H"], sizes["O"]
            n = call_unchanged(fn, (D, H, O), ("D", "H", "O"), "rnn_param_count")
            if isinstance(n, bool) or not isinstance(n, (int, np.integer)):
                raise ExerciseFailure(f"rnn_param_count should return an int, but returned {type(n).__name__} {n!r}")
            expected = _reference_count(D, H, O)
            if n != expected:
                raise ExerciseFailure(
                    f"rnn_param_count should be {expected}, but is {n}; count W_xh (H, D), "
                    f"W_hh (H, H), b_h (H,), W_hy (O, H) and b_y (O,), each once: the weights are shared by "
                    f"all time steps, so T does not appear")
