"""The checkers of chapters 7 and 8 pass the reference solutions and fail planted mistakes specifically."""

from __future__ import annotations

import re

import numpy as np
import pytest

from exercise_fixtures import entries_differ, expect_near_miss_fails
from rnncourse.exercises import get_exercise, run_check
from rnncourse.exercises.ch08 import lstm_step_backward_variant


def sigmoid(a):
    return 1 / (1 + np.exp(-a))


# The book's own solutions pass every checker: tests/test_grading.py grades the chapters themselves.


# ----------------------------------------------------------------------------- ch07.jordan_step

def jordan_step(x_t, y_prev, W_xh, W_yh, b_h, W_hy, b_y):
    h_t = np.tanh(x_t @ W_xh.T + y_prev @ W_yh.T + b_h)
    return h_t, h_t @ W_hy.T + b_y


def ignores_feedback(x_t, y_prev, W_xh, W_yh, b_h, W_hy, b_y):
    h_t = np.tanh(x_t @ W_xh.T + b_h)
    return h_t, h_t @ W_hy.T + b_y


def squashed_output(x_t, y_prev, W_xh, W_yh, b_h, W_hy, b_y):
    h_t, y_t = jordan_step(x_t, y_prev, W_xh, W_yh, b_h, W_hy, b_y)
    return h_t, np.tanh(y_t)


def bias_after_tanh(x_t, y_prev, W_xh, W_yh, b_h, W_hy, b_y):
    h_t = np.tanh(x_t @ W_xh.T + y_prev @ W_yh.T) + b_h
    return h_t, h_t @ W_hy.T + b_y


def only_output(*args):
    return jordan_step(*args)[1]


def in_place(x_t, y_prev, *params):
    y_prev += 0.0
    y_prev *= 1.0
    y_prev[...] = y_prev + 1 - 1
    y_prev[0] = 0.0
    return jordan_step(x_t, y_prev, *params)


def test_jordan_reference_passes():
    assert run_check("ch07.jordan_step", jordan_step) == (True, "all checks passed (2 points)")
    assert get_exercise("ch07.jordan_step").points == 2


@pytest.mark.parametrize("fn, match", [
    (ignores_feedback, r"^jordan_step on the hand case: h_t ignores y_prev"),
    (squashed_output, r"^jordan_step on the hand case: y_t should be the linear read-out h_t W_hy\^T \+ b_y, without "
                      r"tanh"),
    (bias_after_tanh, r"^jordan_step on the hand case: b_h is added after the tanh"),
    (lambda *args: tuple(2 * a for a in jordan_step(*args)),
     r"^with x_t = 1, y_prev = 0.5, W_xh = 1, W_yh = 2, b_h = -1, W_hy = 3, b_y = 1 the step should give h_t = "
     r"tanh\(1 \+ 1 - 1\) = tanh\(1\) = 0.7616 and y_t = 3 tanh\(1\) \+ 1 = 3.2848, but gives h_t = 1.5232, "
     r"y_t = 6.5696$"),
    (only_output, r"should return a tuple \(h_t, y_t\)"),
    (in_place, r"changed its argument y_prev in place"),
])
def test_jordan_mistakes_are_named(fn, match):
    passed, feedback = run_check("ch07.jordan_step", fn)
    assert not passed
    assert re.search(match, feedback), feedback


def jordan_squeezed(x_t, y_prev, W_xh, W_yh, b_h, W_hy, b_y):
    """Wrong: np.squeeze turns the input term (B, 1) into (B,) when H = 1; right whenever B = 1 or H > 1."""
    h_t = np.tanh(np.squeeze(x_t @ W_xh.T) + y_prev @ W_yh.T + b_h)
    return h_t, h_t @ W_hy.T + b_y


def test_jordan_fails_an_answer_that_squeezes_in_the_case_with_one_unit():
    passed, feedback = run_check("ch07.jordan_step", jordan_squeezed)
    assert not passed and feedback.startswith("in the case B=3, D=1, H=1, O=1: "), feedback


def test_jordan_hand_case_alone_is_not_enough():
    def hand_only(x_t, y_prev, W_xh, W_yh, b_h, W_hy, b_y):     # forgets the transposes: fine when all are 1x1
        h_t = np.tanh(x_t @ W_xh + y_prev @ W_yh + b_h)
        return h_t, h_t @ W_hy + b_y
    passed, feedback = run_check("ch07.jordan_step", hand_only)
    assert not passed and feedback.startswith("in the case B=1, D=3, H=3, O=5: jordan_step raised ValueError"), feedback


def test_jordan_specific_message_when_feedback_is_missing_in_a_random_case():
    def feedback_zero_on_hand_case(x_t, y_prev, W_xh, W_yh, b_h, W_hy, b_y):
        if x_t.shape == (1, 1):
            return jordan_step(x_t, y_prev, W_xh, W_yh, b_h, W_hy, b_y)
        return ignores_feedback(x_t, y_prev, W_xh, W_yh, b_h, W_hy, b_y)
    passed, feedback = run_check("ch07.jordan_step", feedback_zero_on_hand_case)
    assert not passed and "ignores y_prev" in feedback, feedback


def test_jordan_blames_tanh_only_for_an_output_squashed_by_tanh():
    # Both answers are right on the hand case and wrong from the first random case on: a y_t squashed
    # by tanh gets the "without tanh" diagnosis, a y_t wrong another way (b_y added twice) does not.
    def squashed_after_hand_case(x_t, y_prev, W_xh, W_yh, b_h, W_hy, b_y):
        h_t, y_t = jordan_step(x_t, y_prev, W_xh, W_yh, b_h, W_hy, b_y)
        return h_t, (y_t if x_t.shape == (1, 1) else np.tanh(y_t))

    def bias_twice_after_hand_case(x_t, y_prev, W_xh, W_yh, b_h, W_hy, b_y):
        h_t, y_t = jordan_step(x_t, y_prev, W_xh, W_yh, b_h, W_hy, b_y)
        return h_t, (y_t if x_t.shape == (1, 1) else y_t + b_y)

    passed, feedback = run_check("ch07.jordan_step", squashed_after_hand_case)
    assert not passed and feedback == ("in the case B=1, D=3, H=3, O=5: jordan_step: y_t should be the linear "
                                       "read-out h_t W_hy^T + b_y, without tanh"), feedback
    passed, feedback = run_check("ch07.jordan_step", bias_twice_after_hand_case)
    assert not passed and "tanh" not in feedback, feedback
    assert feedback.startswith("in the case B=1, D=3, H=3, O=5: y_t from jordan_step: 5 of 5 entries differ"), \
        feedback


# ----------------------------------------------------------------------------- ch08.lstm_step

def lstm_step(x_t, h_prev, c_prev, W_xh, W_hh, b_h):
    i, f, g, o = np.split(x_t @ W_xh.T + h_prev @ W_hh.T + b_h, 4, axis=1)
    c_t = sigmoid(f) * c_prev + sigmoid(i) * np.tanh(g)
    return sigmoid(o) * np.tanh(c_t), c_t


def lstm_wrong_order(x_t, h_prev, c_prev, W_xh, W_hh, b_h):
    f, i, g, o = np.split(x_t @ W_xh.T + h_prev @ W_hh.T + b_h, 4, axis=1)   # i and f swapped
    c_t = sigmoid(f) * c_prev + sigmoid(i) * np.tanh(g)
    return sigmoid(o) * np.tanh(c_t), c_t


def lstm_ifog(x_t, h_prev, c_prev, W_xh, W_hh, b_h):
    i, f, o, g = np.split(x_t @ W_xh.T + h_prev @ W_hh.T + b_h, 4, axis=1)     # g and o swapped
    c_t = sigmoid(f) * c_prev + sigmoid(i) * np.tanh(g)
    return sigmoid(o) * np.tanh(c_t), c_t


def lstm_no_tanh_on_c(x_t, h_prev, c_prev, W_xh, W_hh, b_h):
    h_t, c_t = lstm_step(x_t, h_prev, c_prev, W_xh, W_hh, b_h)
    return h_t / np.tanh(c_t) * c_t, c_t


def lstm_ignores_h_prev(x_t, h_prev, c_prev, W_xh, W_hh, b_h):
    return lstm_step(x_t, 0 * h_prev, c_prev, W_xh, W_hh, b_h)


def lstm_output_gate_from_forget(x_t, h_prev, c_prev, W_xh, W_hh, b_h):
    i, f, g, o = np.split(x_t @ W_xh.T + h_prev @ W_hh.T + b_h, 4, axis=1)
    c_t = sigmoid(f) * c_prev + sigmoid(i) * np.tanh(g)
    return sigmoid(f) * np.tanh(c_t), c_t              # c_t right, h_t read through the forget block


def test_lstm_reference_passes():
    assert run_check("ch08.lstm_step", lstm_step) == (True, "all checks passed (3 points)")


@pytest.mark.parametrize("fn, match", [
    (lstm_wrong_order, r"and the order of the gate blocks: i, f, g, o"),
    # right on both hand cases (o and g blocks both zero there), named on the first random case
    (lstm_ifog, r"^in the case B=1, D=5, H=2: lstm_step: the gate blocks are read in the order i, f, o, g"),
    (lstm_no_tanh_on_c, r"so c_t = 0.5 \* c_prev = \[ 1.  -0.5\] and h_t = 0.5 \* tanh\(c_t\)"),
    (lstm_ignores_h_prev, r"^in the case B=1, D=5, H=2: c_t from lstm_step: \d+ of 2 entries differ"),
    # right on both hand cases (o = f = 0.5 with zero weights; only c_t is checked with the forget bias)
    (lstm_output_gate_from_forget, r"^in the case B=1, D=5, H=2: h_t from lstm_step: 2 of 2 entries differ"),
    (lambda *args: lstm_step(*args[:5], 0 * args[5]), r"check that b_h is added to the pre-activations"),
    (lambda *args: lstm_step(*args)[0], r"should return a tuple \(h_t, c_t\)"),
])
def test_lstm_mistakes_are_named(fn, match):
    passed, feedback = run_check("ch08.lstm_step", fn)
    assert not passed
    assert re.search(match, feedback), feedback


# ----------------------------------------------------------------------------- ch08.gru_step

def gru_step(x_t, h_prev, W_xh, W_hh, b_xh, b_hh):
    a_r, a_z, a_n = np.split(x_t @ W_xh.T + b_xh, 3, axis=1)
    h_r, h_z, h_n = np.split(h_prev @ W_hh.T + b_hh, 3, axis=1)
    r, z = sigmoid(a_r + h_r), sigmoid(a_z + h_z)
    n = np.tanh(a_n + r * h_n)
    return (1 - z) * n + z * h_prev


def gru_z_swapped(x_t, h_prev, W_xh, W_hh, b_xh, b_hh):
    a_r, a_z, a_n = np.split(x_t @ W_xh.T + b_xh, 3, axis=1)
    h_r, h_z, h_n = np.split(h_prev @ W_hh.T + b_hh, 3, axis=1)
    r, z = sigmoid(a_r + h_r), sigmoid(a_z + h_z)
    return z * np.tanh(a_n + r * h_n) + (1 - z) * h_prev


def gru_reset_before(x_t, h_prev, W_xh, W_hh, b_xh, b_hh):
    H = h_prev.shape[1]
    a_r, a_z, a_n = np.split(x_t @ W_xh.T + b_xh, 3, axis=1)
    h_r, h_z, _ = np.split(h_prev @ W_hh.T + b_hh, 3, axis=1)
    r, z = sigmoid(a_r + h_r), sigmoid(a_z + h_z)
    n = np.tanh(a_n + (r * h_prev) @ W_hh[2 * H:].T + b_hh[2 * H:])
    return (1 - z) * n + z * h_prev


def gru_without_b_hh(x_t, h_prev, W_xh, W_hh, b_xh, b_hh):
    return gru_step(x_t, h_prev, W_xh, W_hh, b_xh, 0 * b_hh)


def test_gru_reference_passes():
    assert run_check("ch08.gru_step", gru_step) == (True, "all checks passed (2 points)")


@pytest.mark.parametrize("fn, match", [
    (gru_z_swapped, r"h_t = \(1 - z\) \* n \+ z \* h_prev, not z \* n"),
    (gru_reset_before, r"applies the reset gate after the product"),
    (lambda x_t, h_prev, *w: np.tanh(x_t @ w[0][:h_prev.shape[1]].T), r"h_t = 0.5 \* h_prev = \[ 2. -1.\]"),
    # right with the zero biases of the hand case, so the random cases report it (no named slip fits)
    (gru_without_b_hh, r"^in the case B=1, D=4, H=2: h_t from gru_step: 2 of 2 entries differ from the reference"),
])
def test_gru_mistakes_are_named(fn, match):
    passed, feedback = run_check("ch08.gru_step", fn)
    assert not passed
    assert re.search(match, feedback), feedback


def gru_without_reset(x_t, h_prev, W_xh, W_hh, b_xh, b_hh):
    """Wrong: both parts summed as in an LSTM, r never used."""
    _, a_z, a_n = np.split(x_t @ W_xh.T + h_prev @ W_hh.T + b_xh + b_hh, 3, axis=1)
    z = sigmoid(a_z)
    return (1 - z) * np.tanh(a_n) + z * h_prev


def gru_b_hn_outside_r(x_t, h_prev, W_xh, W_hh, b_xh, b_hh):
    """Wrong: n = tanh(a_n + r * (W_hn h_prev) + b_hn), the bias outside the reset gate."""
    H = h_prev.shape[1]
    a_r, a_z, a_n = np.split(x_t @ W_xh.T + b_xh, 3, axis=1)
    h_r, h_z, _ = np.split(h_prev @ W_hh.T + b_hh, 3, axis=1)
    r, z = sigmoid(a_r + h_r), sigmoid(a_z + h_z)
    return (1 - z) * np.tanh(a_n + r * (h_prev @ W_hh[2 * H:].T) + b_hh[2 * H:]) + z * h_prev


@pytest.mark.parametrize("fn", [gru_without_reset, gru_b_hn_outside_r, gru_without_b_hh])
def test_a_gru_wrong_in_structure_is_off_by_far_more_than_rounding(fn):
    # The weights once drew the gates into saturation: these were off by 1.7e-05 on the first case, which
    # reads like rounding. Drawn like PyTorch's, U(-1/sqrt(H), 1/sqrt(H)), they are off by over 0.01.
    passed, feedback = run_check("ch08.gru_step", fn)
    match = re.match(r"in the case B=1, D=4, H=2: h_t from gru_step: \d of 2 entries differ from the reference; the "
                     r"largest difference is (\S+) ", feedback)
    assert not passed and match, feedback
    assert float(match[1]) > 0.01, feedback


# ----------------------------------------------------------------------------- squeezing in ch08's steps

def lstm_squeezed(x_t, h_prev, c_prev, W_xh, W_hh, b_h):
    """Wrong: np.squeeze turns h_prev (B, 1) into (B,) when H = 1; right whenever B = 1 or H > 1."""
    return lstm_step(x_t, np.squeeze(h_prev), c_prev, W_xh, W_hh, b_h)


def gru_squeezed(x_t, h_prev, W_xh, W_hh, b_xh, b_hh):
    """Wrong: np.squeeze turns h_prev (B, 1) into (B,) in the recurrent term when H = 1."""
    a_r, a_z, a_n = np.split(x_t @ W_xh.T + b_xh, 3, axis=-1)
    h_r, h_z, h_n = np.split(np.squeeze(h_prev) @ W_hh.T + b_hh, 3, axis=-1)
    r, z = sigmoid(a_r + h_r), sigmoid(a_z + h_z)
    return (1 - z) * np.tanh(a_n + r * h_n) + z * h_prev


@pytest.mark.parametrize("name, fn", [("ch08.lstm_step", lstm_squeezed), ("ch08.gru_step", gru_squeezed)])
def test_lstm_and_gru_fail_an_answer_that_squeezes_in_the_case_with_one_unit(name, fn):
    passed, feedback = run_check(name, fn)
    assert not passed and feedback.startswith("in the case B=3, D=1, H=1: "), feedback


# ----------------------------------------------------------------------------- ch08.lstm_step_backward

def lstm_step_backward_answer(dstate, cache):
    x_t, h_prev, c_prev, W_xh, W_hh, (i, f, g, o), tanh_c = cache
    dh_t, dc_t = dstate
    dc = dc_t + dh_t * o * (1 - tanh_c ** 2)
    da = np.concatenate([dc * g * i * (1 - i), dc * c_prev * f * (1 - f), dc * i * (1 - g ** 2),
                         dh_t * tanh_c * o * (1 - o)], axis=1)
    return {"x_t": da @ W_xh, "h_prev": da @ W_hh, "c_prev": dc * f, "W_xh": da.T @ x_t, "W_hh": da.T @ h_prev,
            "b_h": da.sum(axis=0)}


def test_lstm_step_backward_answer_passes():
    assert run_check("ch08.lstm_step_backward", lstm_step_backward_answer) == (True, "all checks passed (3 points)")


@pytest.mark.parametrize("slip, match", [
    (dict(dh_path=False), r"c_t also reaches the loss through h_t"),
    (dict(dc_next=False), r"add dc_t"),
    (dict(g_tanh=False), r"derivative 1 - g\*\*2"),
    (dict(forget=False), r"gradient reaching c_prev is dc \* f"),
    (dict(order="fiog"), r"in the order i, f, g, o"),
    (dict(order="ifog"), r"in the order i, f, g, o"),            # g and o swapped: the other common slip
])
def test_lstm_step_backward_slips_are_named(slip, match):
    passed, feedback = run_check("ch08.lstm_step_backward",
                                 lambda dstate, cache: lstm_step_backward_variant(dstate, cache, **slip))
    assert not passed
    assert re.search(match, feedback), feedback


def lstm_step_backward_tanh_derivative_for(gate):
    """The answer, except that the sigmoid gate ``gate`` (i, f or o) is differentiated like a tanh, 1 - s**2."""
    def wrong(dstate, cache):
        x_t, h_prev, c_prev, W_xh, W_hh, (i, f, g, o), tanh_c = cache
        dh_t, dc_t = dstate
        dc = dc_t + dh_t * o * (1 - tanh_c ** 2)
        d = {s: (1 - v ** 2) if s == gate else v * (1 - v) for s, v in (("i", i), ("f", f), ("o", o))}
        da = np.concatenate([dc * g * d["i"], dc * c_prev * d["f"], dc * i * (1 - g ** 2), dh_t * tanh_c * d["o"]],
                            axis=1)
        return {"x_t": da @ W_xh, "h_prev": da @ W_hh, "c_prev": dc * f, "W_xh": da.T @ x_t, "W_hh": da.T @ h_prev,
                "b_h": da.sum(axis=0)}
    return wrong


@pytest.mark.parametrize("gate, rows", [("i", "0..H-1"), ("f", "H..2H-1"), ("o", "3H..4H-1")])
def test_lstm_step_backward_wrong_derivative_of_one_gate_names_its_block_once(gate, rows):
    # was ~1000 characters: every wrong gradient in full, none saying that the wrong rows are one gate's
    passed, feedback = run_check("ch08.lstm_step_backward", lstm_step_backward_tanh_derivative_for(gate))
    assert not passed and feedback.startswith(
        "in the case B=1, D=6, H=5: the gradients of lstm_step_backward are wrong for x_t, h_prev, W_xh, W_hh, b_h; "
        f"the wrong entries of W_xh, W_hh and b_h are all in gate {gate}'s block (rows {rows}): check that gate's "
        "derivative; the gradients of lstm_step_backward['x_t']: "), feedback
    assert feedback.count("entries differ") == 1 and len(feedback) < 500, feedback


def test_lstm_step_backward_other_errors_are_reported():
    def halved(dstate, cache):
        grads = lstm_step_backward_answer(dstate, cache)
        return {**grads, "W_hh": grads["W_hh"] / 2}

    passed, feedback = run_check("ch08.lstm_step_backward", halved)
    assert not passed and "W_hh" in feedback and "x_t" not in feedback.split("wrong for")[1].split(":")[0]
    passed, feedback = run_check("ch08.lstm_step_backward", lambda dstate, cache: (1, 2))
    assert not passed and "should be a dict" in feedback


# ----------------------------------------------------------------------------- answers of an odd kind

def as_float64(*args):
    return jordan_step(*[a.astype(np.float64) for a in args])


@pytest.mark.parametrize("fn, match", [
    (as_float64, r"^in the case B=2, D=3, H=4, O=2, dtype=float32: h_t from jordan_step should have dtype float32, "
                 r"the dtype of the inputs, but has dtype float64"),
    (lambda *args: tuple(a + 0j for a in jordan_step(*args)), r"but has dtype complex128$"),
    (lambda *args: (jordan_step(*args)[0] > 0, jordan_step(*args)[1]), r"but has dtype bool"),
])
def test_jordan_results_keep_the_inputs_dtype_and_hold_real_numbers(fn, match):
    passed, feedback = run_check("ch07.jordan_step", fn)
    assert not passed
    assert re.search(match, feedback), feedback


def test_jordan_accepts_tensors_that_require_grad():
    torch = pytest.importorskip("torch")

    def as_tensors(*args):
        return tuple(torch.from_numpy(a).requires_grad_() for a in jordan_step(*args))

    assert run_check("ch07.jordan_step", as_tensors) == (True, "all checks passed (2 points)")


def test_gru_boolean_result_is_named_not_a_numpy_error():
    passed, feedback = run_check("ch08.gru_step", lambda *args: gru_step(*args) > 0)
    assert not passed and feedback.startswith("h_t from gru_step with zero weights should hold real numbers (integers "
                                              "or floats), but has dtype bool"), feedback


@pytest.mark.parametrize("path", ["dstate[0]", "cache.c_prev"])
def test_lstm_step_backward_that_writes_into_its_arguments_fails_naming_the_array(path):
    def writes(dstate, cache):
        grads = lstm_step_backward_answer(dstate, cache)
        eval(path)[...] = 0.0
        return grads

    passed, feedback = run_check("ch08.lstm_step_backward", writes)
    assert not passed and f"changed its argument {path} in place" in feedback, feedback


@pytest.mark.parametrize("as_kind", [lambda a: np.array([None] * a.size, dtype=object), lambda a: a.astype(str)])
def test_lstm_step_backward_gradient_of_no_numbers_is_named_not_a_crash(as_kind):
    def unfilled_bias(dstate, cache):
        grads = lstm_step_backward_answer(dstate, cache)
        return {**grads, "b_h": as_kind(grads["b_h"])}

    passed, feedback = run_check("ch08.lstm_step_backward", unfilled_bias)
    assert not passed and re.fullmatch(r"in the case B=1, D=6, H=5: the gradients of lstm_step_backward\['b_h'\] "
                                       r"should hold real numbers \(integers or floats\), but has dtype (object|<U\d+)",
                                       feedback), feedback


# ----------------------------------------------------------------------------- near misses

# Each answer is a reference solution above, off by a relative amount no float64 computation shows but about
# 100 times what its checker accepts (in brackets). The message names the output and shows the difference.

def in_float32(step):
    """``step`` computed in float32 and its results cast back to the inputs' dtype: about 1e-7 relative (1e-10)."""
    def wrapper(*args):
        out = step(*(a.astype(np.float32) for a in args))
        return tuple(o.astype(args[0].dtype) for o in out) if isinstance(out, tuple) else out.astype(args[0].dtype)
    wrapper.__name__ = f"{step.__name__}_in_float32"           # the test's id
    return wrapper


def jordan_output_off(*args):
    """y_t off by 1e-8 (1e-10), h_t right."""
    h_t, y_t = jordan_step(*args)
    return h_t, y_t * (1 + 1e-8)


def lstm_hidden_off(*args):
    """h_t off by 1e-8 (1e-10), c_t right."""
    h_t, c_t = lstm_step(*args)
    return h_t * (1 + 1e-8), c_t


def gru_off(*args):
    """Off by 1e-8 (1e-10). Float32's rounding is a few 1e-8 here and above 1e-7 there, so it would not tell
    1e-10 from a tolerance loosened to 1e-7; this does."""
    return gru_step(*args) * (1 + 1e-8)


def lstm_backward_whh_off(dstate, cache):
    """dW_hh off by 1e-5 (rtol 1e-7)."""
    grads = lstm_step_backward_answer(dstate, cache)
    return {**grads, "W_hh": grads["W_hh"] * (1 + 1e-5)}


@pytest.mark.parametrize("name, fn, output", [
    ("ch07.jordan_step", in_float32(jordan_step), r"h_t from jordan_step"),
    ("ch07.jordan_step", jordan_output_off, r"y_t from jordan_step"),
    ("ch08.lstm_step", in_float32(lstm_step), r"c_t from lstm_step"),        # c_t is compared first
    ("ch08.lstm_step", lstm_hidden_off, r"h_t from lstm_step"),
    ("ch08.gru_step", in_float32(gru_step), r"h_t from gru_step"),
    ("ch08.gru_step", gru_off, r"h_t from gru_step"),
    ("ch08.lstm_step_backward", lstm_backward_whh_off,
     r"the gradients of lstm_step_backward are wrong for W_hh: the gradients of lstm_step_backward\['W_hh'\]"),
])
def test_a_near_miss_fails_naming_the_output_that_differs(name, fn, output):
    expect_near_miss_fails(name, fn, entries_differ(output))


# ----------------------------------------------------------------------------- errors raised in the answer

def jordan_feedback_without_transpose(x_t, y_prev, W_xh, W_yh, b_h, W_hy, b_y):
    h_t = np.tanh(x_t @ W_xh.T + y_prev @ W_yh + b_h)
    return h_t, h_t @ W_hy.T + b_y


def lstm_step_backward_dx_transposed(dstate, cache):
    """The answer, except that the gradient of x_t multiplies by W_xh.T: a weight's gradient goes back as d @ W."""
    grads = lstm_step_backward_answer(dstate, cache)
    x_t, h_prev, c_prev, W_xh, W_hh, (i, f, g, o), tanh_c = cache
    dh_t, dc_t = dstate
    dc = dc_t + dh_t * o * (1 - tanh_c ** 2)
    da = np.concatenate([dc * g * i * (1 - i), dc * c_prev * f * (1 - f), dc * i * (1 - g ** 2),
                         dh_t * tanh_c * o * (1 - o)], axis=1)
    return {**grads, "x_t": da @ W_xh.T}


@pytest.mark.parametrize("name, fn, start, shapes", [
    ("ch07.jordan_step", jordan_feedback_without_transpose, "in the case B=1, D=3, H=3, O=5: jordan_step",
     r"x_t \(1, 3\), y_prev \(1, 5\), W_xh \(3, 3\), W_yh \(3, 5\), b_h \(3,\), W_hy \(5, 3\), b_y \(5,\)"),
    ("ch08.lstm_step_backward", lstm_step_backward_dx_transposed, "in the case B=1, D=6, H=5: lstm_step_backward",
     r"dstate\[0\] \(1, 5\), dstate\[1\] \(1, 5\), cache.x_t \(1, 6\), .*, cache.W_xh \(20, 6\), .*"),
])
def test_a_missing_or_extra_transpose_lists_the_shapes_passed(name, fn, start, shapes):
    # NumPy's "matmul: Input operand 1 has a mismatch in its core dimension 0 ..." named no array of the exercise
    passed, feedback = run_check(name, fn)
    assert not passed
    assert re.fullmatch(rf"{re.escape(start)} raised ValueError: matmul: .*; the arrays passed have shapes {shapes}; "
                        r"with the examples as rows, a weight W of shape \(out, in\) multiplies x of shape "
                        r"\(B, in\) as x @ W.T, of shape \(B, out\), and a gradient d of shape \(B, out\) goes back "
                        r"as d @ W",
                        feedback), feedback


# ----------------------------------------------------------------------------- more slips of the LSTM backward

def lstm_step_backward_tanh_derivative_unsquared(dstate, cache):
    """The answer, except that tanh'(c_t) is written 1 - tanh_c instead of 1 - tanh_c**2."""
    x_t, h_prev, c_prev, W_xh, W_hh, (i, f, g, o), tanh_c = cache
    dh_t, dc_t = dstate
    dc = dc_t + dh_t * o * (1 - tanh_c)
    da = np.concatenate([dc * g * i * (1 - i), dc * c_prev * f * (1 - f), dc * i * (1 - g ** 2),
                         dh_t * tanh_c * o * (1 - o)], axis=1)
    return {"x_t": da @ W_xh, "h_prev": da @ W_hh, "c_prev": dc * f, "W_xh": da.T @ x_t, "W_hh": da.T @ h_prev,
            "b_h": da.sum(axis=0)}


@pytest.mark.parametrize("fn", [lstm_step_backward_tanh_derivative_unsquared,
                                lambda dstate, cache: lstm_step_backward_variant(dstate, cache, tanh_squared=False)],
                         ids=["by hand", "variant"])
def test_lstm_step_backward_tanh_derivative_without_the_square_is_named(fn):
    passed, feedback = run_check("ch08.lstm_step_backward", fn)
    assert not passed and feedback == (
        "in the case B=1, D=6, H=5: the gradients of lstm_step_backward are wrong: the derivative of tanh(c_t) is "
        "1 - tanh(c_t)**2, not 1 - tanh(c_t): dc = dc_t + dh_t * o * (1 - tanh(c_t)**2)"), feedback


# ----------------------------------------------------------------------------- float64 in, float64 out

def test_lstm_step_backward_cast_to_float32_at_the_end_fails_by_its_dtype():
    def in_float32(dstate, cache):
        return {k: v.astype(np.float32) for k, v in lstm_step_backward_answer(dstate, cache).items()}

    passed, feedback = run_check("ch08.lstm_step_backward", in_float32)
    assert not passed
    assert "['x_t'] should have dtype float64, the dtype of the inputs, but has dtype float32" in feedback, feedback
