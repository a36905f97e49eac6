"""The checkers of chapters 1 and 2 pass the reference solutions and fail planted mistakes specifically."""

from __future__ import annotations

import re

import numpy as np
import pytest

from exercise_fixtures import AlwaysClose, SaysEqual, entries_differ, expect_near_miss_fails
from rnncourse.exercises import get_exercise, run_check

# The book's own solutions pass every checker: tests/test_grading.py grades the chapters themselves.


# ----------------------------------------------------------------------------- ch01.counter_params

def counter_params(V, token):
    W_xh = np.zeros((1, V))
    W_xh[0, token] = 1.0
    return {"W_xh": W_xh, "W_hh": np.ones((1, 1)), "b_h": np.zeros(1)}


def forgets(V, token):
    """Wrong: W_hh = 0, so the state is only 'was the last token the one counted'."""
    return {**counter_params(V, token), "W_hh": np.zeros((1, 1))}


def counts_everything(V, token):
    """Wrong: every token adds one."""
    return {**counter_params(V, token), "W_xh": np.ones((1, V))}


def biased(V, token):
    """Wrong: b_h = 1 adds one at every step, whatever the token."""
    return {**counter_params(V, token), "b_h": np.ones(1)}


def wrong_shape(V, token):
    return {**counter_params(V, token), "W_xh": np.zeros((V, 1))}


def test_counter_reference_passes():
    assert run_check("ch01.counter_params", counter_params) == (True, "all checks passed (2 points)")
    assert get_exercise("ch01.counter_params").points == 2


@pytest.mark.parametrize("fn, match", [
    (forgets, r"should give the states \[1.0, 2.0, 2.0, 2.0, 3.0\], but your network gives \[1.0, 1.0, 0.0"),
    (counts_everything, r"but your network gives \[1.0, 2.0, 3.0, 4.0, 5.0\]"),
    # the hint named W_xh and W_hh only
    (biased, r"but your network gives \[2.0, 4.0, 5.0, 6.0, 8.0\]; .* and add nothing else \(b_h = 0\)$"),
    (wrong_shape, r"\['W_xh'\] should have shape \(1, 3\), but has shape \(3, 1\)"),
    (lambda V, token: {"W_xh": 0}, r"should have keys \['W_hh', 'W_xh', 'b_h'\]"),
])
def test_counter_mistakes_are_named(fn, match):
    passed, feedback = run_check("ch01.counter_params", fn)
    assert not passed
    assert __import__("re").search(match, feedback), feedback


def test_a_counter_that_works_only_on_the_hand_case_still_fails():
    def only_small(V, token):
        return counter_params(V, token) if V == 3 else forgets(V, token)
    passed, feedback = run_check("ch01.counter_params", only_small)
    assert not passed and feedback.startswith("in the case T=6, B=5, V=6: the hidden states counting token 0: "), feedback


def test_counter_takes_integer_weights_but_not_complex_or_boolean_ones():
    as_ints = lambda V, token: {k: v.astype(np.int64) for k, v in counter_params(V, token).items()}   # noqa: E731
    assert run_check("ch01.counter_params", as_ints)[0]
    for kind, dtype in (("complex", np.complex128), ("boolean", bool)):
        weights = lambda V, token: {**counter_params(V, token), "W_hh": np.ones((1, 1), dtype)}   # noqa: E731
        passed, feedback = run_check("ch01.counter_params", weights)
        assert not passed, kind
        assert feedback.startswith(f"counter_params(3, 1)['W_hh'] should hold real numbers (integers or floats), "
                                   f"but has dtype {np.dtype(dtype)}"), feedback


# ----------------------------------------------------------------------------- ch02.rnn_step

def rnn_step(x_t, h_prev, W_xh, W_hh, b_h):
    return np.tanh(x_t @ W_xh.T + h_prev @ W_hh.T + b_h)


def no_transpose_hh(x_t, h_prev, W_xh, W_hh, b_h):
    return np.tanh(x_t @ W_xh.T + h_prev @ W_hh + b_h)


def no_tanh(x_t, h_prev, W_xh, W_hh, b_h):
    return x_t @ W_xh.T + h_prev @ W_hh.T + b_h


def no_bias(x_t, h_prev, W_xh, W_hh, b_h):
    return np.tanh(x_t @ W_xh.T + h_prev @ W_hh.T)


def bias_outside(x_t, h_prev, W_xh, W_hh, b_h):
    return np.tanh(x_t @ W_xh.T + h_prev @ W_hh.T) + b_h


def no_transpose_xh(x_t, h_prev, W_xh, W_hh, b_h):
    return np.tanh(x_t @ W_xh + h_prev @ W_hh.T + b_h)


def in_place(x_t, h_prev, W_xh, W_hh, b_h):
    h_prev += x_t @ W_xh.T
    return np.tanh(h_prev @ W_hh.T + b_h)


def upcasts(x_t, h_prev, W_xh, W_hh, b_h):
    return rnn_step(x_t, h_prev, W_xh, W_hh, b_h).astype(np.float64)


def not_implemented(x_t, h_prev, W_xh, W_hh, b_h):
    raise NotImplementedError


def test_rnn_step_reference_passes():
    assert run_check("ch02.rnn_step", rnn_step) == (True, "all checks passed (2 points)")


@pytest.mark.parametrize("fn, match", [
    (no_tanh, r"^rnn_step with zero weights \(B=2, D=4, H=3\): h_t is b_h itself, not tanh\(b_h\): apply tanh "),
    (no_bias, r"h_t should be tanh\(b_h\)"),
    # was "did you apply tanh and add b_h?", which the answer had done; with zero weights it gives what no tanh gives
    (bias_outside, r"^rnn_step with zero weights \(B=2, D=4, H=3\): h_t is b_h itself, not tanh\(b_h\): apply tanh "
                   r"to the whole sum, b_h included: h_t = tanh\(x_t @ W_xh.T \+ h_prev @ W_hh.T \+ b_h\)$"),
    # runs silently (W_hh is square), so only the values show it: named, not "5 of 5 entries differ"
    (no_transpose_hh, r"^in the case B=1, D=5, H=5: rnn_step: h_t equals tanh\(x_t @ W_xh.T \+ h_prev @ W_hh \+ b_h\)"),
    # NumPy's words alone named no array: the shapes passed and the rule for a weight follow them
    (no_transpose_xh, r"^rnn_step with zero weights \(B=2, D=4, H=3\) raised ValueError: matmul: .*; the arrays "
                      r"passed have shapes x_t \(2, 4\), h_prev \(2, 3\), W_xh \(3, 4\), W_hh \(3, 3\), b_h \(3,\); "
                      r"with the examples as rows, a weight W of shape \(out, in\) multiplies x of shape \(B, in\) as "
                      r"x @ W.T, "),
    (in_place, r"changed its argument h_prev in place"),
    (upcasts, r"in the case B=2, D=3, H=4, dtype=float32: h_t from rnn_step should have dtype float32, the dtype "
              r"of the inputs, but has dtype float64"),
    (not_implemented, r"is not implemented yet"),
])
def test_rnn_step_mistakes_are_named(fn, match):
    passed, feedback = run_check("ch02.rnn_step", fn)
    assert not passed
    assert __import__("re").search(match, feedback), feedback


def test_rnn_step_names_the_missing_transpose_only_when_the_answer_is_that_mistake():
    # W_hh transposed and then something else wrong: not the named mistake, so the numbers are shown
    def no_transpose_and_halved(x_t, h_prev, W_xh, W_hh, b_h):
        return no_transpose_hh(x_t, h_prev, W_xh, W_hh, b_h) / (1 if x_t.shape == (2, 4) else 2)

    passed, feedback = run_check("ch02.rnn_step", no_transpose_and_halved)
    assert not passed and "W_hh.T" not in feedback
    assert feedback.startswith("in the case B=1, D=5, H=5: h_t from rnn_step: 5 of 5 entries differ"), feedback


def rnn_step_squeezed(x_t, h_prev, W_xh, W_hh, b_h):
    """Wrong: np.squeeze drops every axis of length 1; with H = 1 the input term (B, 1) becomes (B,) and
    broadcasts against h_prev @ W_hh.T (B, 1) into (B, B). Right whenever B = 1 or H > 1."""
    return np.tanh(np.squeeze(x_t @ W_xh.T) + h_prev @ W_hh.T + b_h)


def test_rnn_step_fails_an_answer_that_squeezes_in_the_case_with_one_unit():
    passed, feedback = run_check("ch02.rnn_step", rnn_step_squeezed)
    assert not passed and feedback.startswith("in the case B=3, D=1, H=1: "), feedback


# ----------------------------------------------------------------------------- ch02.rnn_param_count

def rnn_param_count(D, H, O):
    return H * D + H * H + H + O * H + O


def test_param_count_reference_passes_and_matches_hand_counts():
    assert run_check("ch02.rnn_param_count", rnn_param_count)[0]
    assert rnn_param_count(1, 1, 1) == 5
    assert rnn_param_count(3, 4, 2) == 12 + 16 + 4 + 8 + 2


@pytest.mark.parametrize("fn, match", [
    (lambda D, H, O: H * D + H * H + O * H, r"in the case D=1, H=1, O=1: rnn_param_count should be 5, but is 3"),
    (lambda D, H, O: H * D + H * H + 2 * H + O * H + O, r"should be 5, but is 6"),   # torch's two biases
    (lambda D, H, O: float(rnn_param_count(D, H, O)), r"should return an int, but returned float"),
])
def test_param_count_mistakes_are_named(fn, match):
    passed, feedback = run_check("ch02.rnn_param_count", fn)
    assert not passed
    assert __import__("re").search(match, feedback), feedback


# ----------------------------------------------------------------------------- answers of an odd kind

@pytest.mark.parametrize("fn, match", [
    (lambda x_t, h_prev, W_xh, *_: np.zeros((len(x_t), len(W_xh)), x_t.dtype).view(AlwaysClose),
     r"h_t should be tanh\(b_h\) = .* but your first row is \[0. 0. 0.\]"),
    (lambda *args: rnn_step(*args) > 0,
     r"^rnn_step with zero weights \(B=2, D=4, H=3\) should hold real numbers \(integers or floats\), but has "
     r"dtype bool"),
    (lambda *args: rnn_step(*args) + 0j, r"should hold real numbers \(integers or floats\), but has dtype complex128"),
])
def test_rnn_step_answers_that_override_comparisons_or_are_not_real_numbers_fail_with_a_message(fn, match):
    passed, feedback = run_check("ch02.rnn_step", fn)
    assert not passed
    assert __import__("re").search(match, feedback), feedback


def test_rnn_step_accepts_a_torch_result_also_one_that_requires_grad():
    torch = pytest.importorskip("torch")
    as_tensor = lambda *args: torch.from_numpy(rnn_step(*args)).requires_grad_()   # noqa: E731
    assert run_check("ch02.rnn_step", as_tensor) == (True, "all checks passed (2 points)")


def test_param_count_an_int_that_says_it_equals_anything_fails():
    passed, feedback = run_check("ch02.rnn_param_count", lambda D, H, O: SaysEqual(0))
    assert not passed and feedback.startswith("in the case D=1, H=1, O=1: rnn_param_count should be 5, but is 0"), feedback


# ----------------------------------------------------------------------------- near misses

def counter_a_little_above_one(V, token):
    """Adds 1.00001 per occurrence: 1e-5 relative, ten times the rtol 1e-6 of the random cases (the hand case
    accepts 1e-5, so only they can catch it)."""
    params = counter_params(V, token)
    return {**params, "W_xh": params["W_xh"] * (1 + 1e-5)}


def rnn_step_in_float32(x_t, h_prev, W_xh, W_hh, b_h):
    """Computed in float32 and cast back: about 1e-7 relative, far above the float64 tolerance 1e-10."""
    args = (a.astype(np.float32) for a in (x_t, h_prev, W_xh, W_hh, b_h))
    return rnn_step(*args).astype(x_t.dtype)


@pytest.mark.parametrize("name, fn, output", [
    ("ch01.counter_params", counter_a_little_above_one, r"the hidden states counting token \d"),
    # named on a single step, not only by the comparison with rnn_forward after T steps
    ("ch02.rnn_step", rnn_step_in_float32, r"h_t from rnn_step"),
])
def test_a_near_miss_fails_naming_the_output_that_differs(name, fn, output):
    expect_near_miss_fails(name, fn, entries_differ(output))
