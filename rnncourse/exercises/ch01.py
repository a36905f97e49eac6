"""Checkers of chapter 1 (why recurrent networks): a hand-set RNN whose hidden state counts.

``ch01.counter_params``: the student writes ``counter_params(V, token)`` returning the
weights of a one-unit ReLU RNN, ``{"W_xh": (1, V), "W_hh": (1, 1), "b_h": (1,)}``,
whose state after reading one-hot tokens ``x_1 .. x_t`` from ``h_0 = 0`` equals the
number of times ``token`` occurred so far.
"""

from __future__ import annotations

import numpy as np

from rnncourse.data.order_tasks import one_hot
from rnncourse.numpy import rnn_forward

from rnncourse.exercises.feedback import call_unchanged, case_sizes, expect_array, expect_close, expect_keys, in_case
from rnncourse.exercises.registry import ExerciseFailure, exercise

__all__ = ["check_counter_params"]


def _counting_states(fn, tokens, V, token):
    """Run the student's counter over ``tokens`` (T, B); return its states (T, B) and the true counts."""
    params = call_unchanged(fn, (V, token), ("V", "token"), f"counter_params({V}, {token})")
    expect_keys(params, ("W_xh", "W_hh", "b_h"), f"counter_params({V}, {token})")
    shapes = {"W_xh": (1, V), "W_hh": (1, 1), "b_h": (1,)}
    arrays = {}
    for name, shape in shapes.items():
        a = expect_array(params[name], shape, f"counter_params({V}, {token})[{name!r}]")
        arrays[name] = a.astype(np.float64)     # integer weights are fine too: the count is exact
    x = one_hot(tokens, V)
    hs, _ = rnn_forward(x, None, arrays["W_xh"], arrays["W_hh"], arrays["b_h"], nonlinearity="relu")
    counts = np.cumsum(tokens == token, axis=0).astype(np.float64)
    return hs[:, :, 0], counts


@exercise("ch01.counter_params", points=2)
def check_counter_params(fn):
    """Write counter_params(V, token): a one-unit ReLU RNN whose state counts one token.

    Parameters
    ----------
    fn : callable
        The student's function, called as ``counter_params(V, token) -> params``.
    """
    # A case to follow by hand: V = 3, count token 1 in the sequence 1, 1, 0, 2, 1.
    tokens = np.array([[1], [1], [0], [2], [1]])
    hs, counts = _counting_states(fn, tokens, 3, 1)
    if not np.allclose(hs, counts):
        raise ExerciseFailure(
            f"counting token 1 in the sequence 1, 1, 0, 2, 1 (V = 3) should give the states "
            f"{counts[:, 0].tolist()}, but your network gives {np.round(hs[:, 0], 4).tolist()}; "
            f"each step should add 1 when the token appears (W_xh), keep the old count (W_hh) and add nothing else "
            f"(b_h = 0)")
    rng = np.random.default_rng(2024)
    # T = 1 and B = 1 first, then random sizes; then both at once, and a long sequence (the count grows to ~10).
    cases = case_sizes(seed=2024, letters="TBV") + [{"T": 1, "B": 1, "V": 3}, {"T": 30, "B": 3, "V": 3}]
    for sizes in cases:
        with in_case(sizes):
            T, B, V = sizes["T"], sizes["B"], sizes["V"]
            token = int(rng.integers(0, V))
            tokens = rng.integers(0, V, size=(T, B))
            hs, counts = _counting_states(fn, tokens, V, token)
            expect_close(hs, counts, f"the hidden states counting token {token}", atol=1e-9)
