"""The checkers of chapters 3 and 4 pass the reference solutions and fail planted mistakes specifically."""

from __future__ import annotations

import re

import numpy as np
import pytest

from exercise_fixtures import entries_differ, expect_near_miss_fails
from rnncourse.exercises import get_exercise, run_check
from rnncourse.exercises.ch04 import bptt_variant
from rnncourse.numpy import init_rnn_params, rnn_backward, rnn_forward


# ----------------------------------------------------------------------------- ch03.last_states

def last_states(x, lengths, h0, W_xh, W_hh, b_h):
    h, out = h0, np.empty_like(h0)
    for t in range(x.shape[0]):
        h = np.tanh(x[t] @ W_xh.T + h @ W_hh.T + b_h)
        done = lengths == t + 1
        out[done] = h[done]
    return out


def last_states_by_indexing(x, lengths, h0, W_xh, W_hh, b_h):
    hs, _ = rnn_forward(x, h0, W_xh, W_hh, b_h)
    return hs[lengths - 1, np.arange(x.shape[1])]


def ignores_lengths(x, lengths, h0, W_xh, W_hh, b_h):
    return rnn_forward(x, h0, W_xh, W_hh, b_h)[0][-1]


def one_step_late(x, lengths, h0, W_xh, W_hh, b_h):
    hs, _ = rnn_forward(x, h0, W_xh, W_hh, b_h)
    return hs[np.minimum(lengths, x.shape[0] - 1), np.arange(x.shape[1])]


def one_step_early(x, lengths, h0, W_xh, W_hh, b_h):
    hs, _ = rnn_forward(x, h0, W_xh, W_hh, b_h)
    return np.concatenate([h0[None], hs])[lengths - 1, np.arange(x.shape[1])]


def ignores_h0(x, lengths, h0, W_xh, W_hh, b_h):
    return last_states(x, lengths, np.zeros_like(h0), W_xh, W_hh, b_h)


def no_recurrence(x, lengths, h0, W_xh, W_hh, b_h):
    return np.tanh(x @ W_xh.T + b_h)[lengths - 1, np.arange(x.shape[1])]


def changes_lengths(x, lengths, h0, W_xh, W_hh, b_h):
    lengths -= 1
    return last_states(x, lengths + 1, h0, W_xh, W_hh, b_h)


@pytest.mark.parametrize("solution", [last_states, last_states_by_indexing])
def test_last_states_reference_passes(solution):
    passed, feedback = run_check("ch03.last_states", solution)
    assert passed, feedback
    assert get_exercise("ch03.last_states").points == 2


@pytest.mark.parametrize("wrong, message", [
    (ignores_lengths, r"after the last \*padded\* step"),
    (one_step_late, r"off by one: hs\[t\] is the state after reading x\[t\]"),
    (one_step_early, r"off by one: .* \(hs does not start with h0\)"),
    # was "last_states, the final states,: 2 of 2 entries differ": no stray ",:"
    (ignores_h0, r"^in the case T=6, B=1, D=3, H=2, lengths=\[4\]: the final states from last_states: 2 of 2 "
                 r"entries differ from the reference"),
    # wrong on the hand case and like none of the named selections: the hand case's own message
    (no_recurrence, r"^the final states should be tanh\(0.5 tanh\(0.5 tanh\(1\)\)\) = 0.1797 for the sequence of "
                    r"length 3 and tanh\(1\) = 0.7616 for the sequence of length 1, but yours are \[0.0, 0.7616\]$"),
    (changes_lengths, r"changed its argument lengths in place"),
])
def test_last_states_mistakes_are_named(wrong, message):
    passed, feedback = run_check("ch03.last_states", wrong)
    assert not passed
    assert re.search(message, feedback), feedback


def test_last_states_not_implemented():
    def todo(x, lengths, h0, W_xh, W_hh, b_h):
        raise NotImplementedError
    passed, feedback = run_check("ch03.last_states", todo)
    assert not passed and "not implemented" in feedback


# ----------------------------------------------------------------------------- ch03.mean_pool_probs

def mean_pool_probs(hs, W_hy, b_y):
    z = hs.mean(axis=0) @ W_hy.T + b_y
    z = z - z.max(axis=1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=1, keepdims=True)


def scores_only(hs, W_hy, b_y):
    return hs.mean(axis=0) @ W_hy.T + b_y


def last_state(hs, W_hy, b_y):
    return mean_pool_probs(hs[-1:], W_hy, b_y)


def summed(hs, W_hy, b_y):
    return mean_pool_probs(hs.sum(axis=0, keepdims=True), W_hy, b_y)


def no_bias(hs, W_hy, b_y):
    return mean_pool_probs(hs, W_hy, np.zeros_like(b_y))


def max_pooled(hs, W_hy, b_y):
    return mean_pool_probs(hs.max(axis=0, keepdims=True), W_hy, b_y)


def unstable(hs, W_hy, b_y):
    with np.errstate(over="ignore", invalid="ignore"):
        e = np.exp(hs.mean(axis=0) @ W_hy.T + b_y)
        return e / e.sum(axis=1, keepdims=True)


def wrong_axis(hs, W_hy, b_y):
    e = np.exp(hs.mean(axis=0) @ W_hy.T + b_y)
    return e / e.sum(axis=0, keepdims=True)


def test_mean_pool_reference_passes():
    passed, feedback = run_check("ch03.mean_pool_probs", mean_pool_probs)
    assert passed, feedback


@pytest.mark.parametrize("wrong, message", [
    (scores_only, "apply the softmax"),
    (last_state, "last state hs\\[-1\\]"),
    (summed, "summed the states over time"),
    (unstable, r"^in the case T=3, B=2, H=4, O=3, b_y=\[1000.0, 999.0, 0.0\]: mean_pool_probs produced NaN or inf: "
               r"exp\(1000\) overflows"),
    (wrong_axis, "should be softmax\\(b_y\\)|sum to 1"),
    (no_bias, r"every row should be softmax\(b_y\) = \[0.125, 0.25, 0.625\], but your first row is \[0.3333, "),
    # right when W_hy = 0 and when T = 1; the first longer case compares with the reference
    (max_pooled, r"^in the case T=6, B=1, H=6, O=2: P from mean_pool_probs: 2 of 2 entries differ from the "
                 r"reference"),
])
def test_mean_pool_mistakes_are_named(wrong, message):
    passed, feedback = run_check("ch03.mean_pool_probs", wrong)
    assert not passed
    assert re.search(message, feedback), feedback


def test_mean_pool_near_miss_gets_the_difference_not_a_mistake_it_did_not_make():
    # With W_hy = 0 the mean, the last state and the sum all read out softmax(b_y): an epsilon in the
    # denominator is no "last state hs[-1]", and the numbers shown differ.
    def with_epsilon(hs, W_hy, b_y):
        e = np.exp(hs.mean(axis=0) @ W_hy.T + b_y)
        return e / (e.sum(axis=1, keepdims=True) + 1e-8)

    assert run_check("ch03.mean_pool_probs", with_epsilon) == (
        False, "P from mean_pool_probs with W_hy = 0 (B=2, O=3): 6 of 6 entries differ from the reference; the "
               "largest difference is 7.81e-10 at index (0, 2) (yours 0.6249999992, expected 0.625)")


# ----------------------------------------------------------------------------- ch04.rnn_step_backward

def rnn_step_backward(dh_t, x_t, h_prev, W_xh, W_hh, h_t):
    da = dh_t * (1 - h_t ** 2)
    return {"x_t": da @ W_xh, "h_prev": da @ W_hh, "W_xh": da.T @ x_t, "W_hh": da.T @ h_prev,
            "b_h": da.sum(axis=0)}


def step_no_derivative(dh_t, x_t, h_prev, W_xh, W_hh, h_t):
    return rnn_step_backward(dh_t, x_t, h_prev, W_xh, W_hh, np.zeros_like(h_t))


def step_whh_with_h_t(dh_t, x_t, h_prev, W_xh, W_hh, h_t):
    return {**rnn_step_backward(dh_t, x_t, h_prev, W_xh, W_hh, h_t),
            "W_hh": (dh_t * (1 - h_t ** 2)).T @ h_t}


def step_bias_not_summed(dh_t, x_t, h_prev, W_xh, W_hh, h_t):
    return {**rnn_step_backward(dh_t, x_t, h_prev, W_xh, W_hh, h_t), "b_h": dh_t * (1 - h_t ** 2)}


def step_transposed_weight_grad(dh_t, x_t, h_prev, W_xh, W_hh, h_t):
    g = rnn_step_backward(dh_t, x_t, h_prev, W_xh, W_hh, h_t)
    return {**g, "W_xh": g["W_xh"].T}


def step_derivative_at_h_prev(dh_t, x_t, h_prev, W_xh, W_hh, h_t):
    return rnn_step_backward(dh_t, x_t, h_prev, W_xh, W_hh, h_prev)


def step_bias_averaged(dh_t, x_t, h_prev, W_xh, W_hh, h_t):
    return {**rnn_step_backward(dh_t, x_t, h_prev, W_xh, W_hh, h_t), "b_h": (dh_t * (1 - h_t ** 2)).mean(axis=0)}


def step_averaged(dh_t, x_t, h_prev, W_xh, W_hh, h_t):
    g = rnn_step_backward(dh_t, x_t, h_prev, W_xh, W_hh, h_t)
    return {**g, **{k: g[k] / len(x_t) for k in ("W_xh", "W_hh", "b_h")}}


def step_missing_key(dh_t, x_t, h_prev, W_xh, W_hh, h_t):
    g = rnn_step_backward(dh_t, x_t, h_prev, W_xh, W_hh, h_t)
    del g["x_t"]
    return g


def test_step_backward_reference_passes():
    passed, feedback = run_check("ch04.rnn_step_backward", rnn_step_backward)
    assert passed, feedback


@pytest.mark.parametrize("wrong, message", [
    (step_no_derivative, r"grads\['x_t'\] is wrong: the gradient did not go through tanh"),
    (step_whh_with_h_t, r"grads\['W_hh'\] is wrong: dW_hh pairs da_t with the state \*entering\*"),
    # a batch of one hides "not summed" behind "summed with keepdims": the message covers both
    (step_bias_not_summed, r"grads\['b_h'\] has shape \(1, 1\), .*\(sum over the batch \(and time\) axes"),
    (step_transposed_weight_grad, r"grads\['W_xh'\] has shape .* the transpose"),
    (step_missing_key, r"should have keys"),
    # was "1 of 1 entries differ from the reference": now named
    (step_derivative_at_h_prev, r"^the one-unit example \(tanh'\(a\) = 1 - tanh\(2\)\*\*2 = 0.0707\): "
                                r"grads\['x_t'\] is wrong: tanh'\(a_t\) = 1 - h_t\*\*2 is taken at the state this "
                                r"step computed, h_t, not at h_prev, the state entering it"),
    # were "4 of 4 entries differ from the reference" (B = 1 in the one-unit example: averaging changes nothing)
    (step_bias_averaged, r"^in the case B=6, D=4, H=4: rnn_step_backward: grads\['b_h'\] is wrong: the weights and "
                         r"the bias are shared by every sequence of the batch: sum their gradients over the batch, do "
                         r"not average$"),
    (step_averaged, r"^in the case B=6, D=4, H=4: rnn_step_backward: grads\['W_xh'\] is wrong: .* do not average$"),
])
def test_step_backward_mistakes_are_named(wrong, message):
    passed, feedback = run_check("ch04.rnn_step_backward", wrong)
    assert not passed
    assert re.search(message, feedback), feedback


def test_step_backward_bias_summed_with_keepdims_is_told_to_drop_the_kept_axes():
    # was "... so sum its gradient over those axes", which the answer had done
    def keepdims(dh_t, x_t, h_prev, W_xh, W_hh, h_t):
        da = dh_t * (1 - h_t ** 2)
        return {**rnn_step_backward(dh_t, x_t, h_prev, W_xh, W_hh, h_t), "b_h": da.sum(axis=0, keepdims=True)}

    passed, feedback = run_check("ch04.rnn_step_backward", keepdims)
    assert not passed
    assert feedback == ("the one-unit example (tanh'(a) = 1 - tanh(2)**2 = 0.0707): grads['b_h'] has shape (1, 1), "
                        "but b_h has shape (1,): drop the leading axes of size 1 (sum over the batch (and time) axes "
                        "without keepdims=True), so that b_h's gradient has shape (H,)"), feedback


# ----------------------------------------------------------------------------- ch04.rnn_backward

def rnn_backward_loop(dhs, x, h0, W_xh, W_hh, hs):
    grads = {"x": np.zeros_like(x), "W_xh": np.zeros_like(W_xh), "W_hh": np.zeros_like(W_hh),
             "b_h": np.zeros(W_hh.shape[0])}
    dh_next = np.zeros_like(h0)
    for t in reversed(range(x.shape[0])):
        h_prev = hs[t - 1] if t > 0 else h0
        da = (dhs[t] + dh_next) * (1 - hs[t] ** 2)
        grads["x"][t] = da @ W_xh
        grads["W_xh"] += da.T @ x[t]
        grads["W_hh"] += da.T @ h_prev
        grads["b_h"] += da.sum(axis=0)
        dh_next = da @ W_hh
    grads["h0"] = dh_next
    return grads


def planted(**mistake):
    def wrong(dhs, x, h0, W_xh, W_hh, hs):
        return bptt_variant(dhs, x, h0, W_xh, W_hh, hs, **mistake)
    return wrong


def test_bptt_variant_default_is_the_package():
    rng = np.random.default_rng(0)
    p = init_rnn_params(3, 4, rng=rng)
    x, h0 = rng.normal(size=(6, 2, 3)), rng.normal(size=(2, 4))
    hs, cache = rnn_forward(x, h0, p["W_xh"], p["W_hh"], p["b_h"])
    dhs = rng.normal(size=hs.shape)
    expected = rnn_backward(dhs, cache)
    for name, g in bptt_variant(dhs, x, h0, p["W_xh"], p["W_hh"], hs).items():
        np.testing.assert_allclose(g, expected[name], rtol=1e-12, atol=1e-14)


def test_rnn_backward_reference_passes():
    passed, feedback = run_check("ch04.rnn_backward", rnn_backward_loop)
    assert passed, feedback
    assert get_exercise("ch04.rnn_backward").points == 3


@pytest.mark.parametrize("mistake, message", [
    ({"recursion": False}, r"^in the case T=4, B=2, D=3, H=3: gradient check fails on x .*no gradient flows back "
                           r"from step t\+1"),
    ({"derivative": False}, r"did not go through tanh"),
    ({"transpose_hh": True}, r"dh_next = da_t @ W_hh"),
    ({"whh_state": "current"}, r"grads\['W_hh'\] .*pairs da_t with h_\{t-1\}"),
    ({"accumulate": False}, r"gradient check fails on W_xh .*summed\* over t"),
    ({"derivative_state": "prev"}, r"^the one-step example .*grads\['x'\] is wrong: tanh'\(a_t\) is 1 - hs\[t\]\*\*2"),
])
def test_rnn_backward_mistakes_are_named(mistake, message):
    passed, feedback = run_check("ch04.rnn_backward", planted(**mistake))
    assert not passed
    assert re.search(message, feedback), feedback


def test_rnn_backward_finite_differences_name_the_gradient():
    def off_by_two(dhs, x, h0, W_xh, W_hh, hs):
        g = rnn_backward_loop(dhs, x, h0, W_xh, W_hh, hs)
        if x.shape[0] > 1:                      # right on the one-step example, wrong on longer ones
            g["W_hh"] = 2 * g["W_hh"]
        return g
    passed, feedback = run_check("ch04.rnn_backward", off_by_two)
    assert not passed
    # No named mistake doubles dW_hh, so the message shows the worst entry: twice what finite differences give.
    match = re.fullmatch(r"in the case T=4, B=2, D=3, H=3: gradient check fails on W_hh \(relative error [0-9.e+-]+\): "
                         r"the gradients of rnn_backward disagree with finite differences \(a correct gradient gives "
                         r"a relative error below 1e-06\); in W_hh, the largest difference is [0-9.e+-]+ at index "
                         r"\(\d, \d\) \(yours (\S+), finite differences (\S+)\)", feedback)
    assert match, feedback
    assert float(match[1]) == pytest.approx(2 * float(match[2]), rel=1e-4)


def test_rnn_backward_swapped_time_and_batch_axes_are_named_by_shape():
    # The hand case's B = 2 shows swapped time and batch axes of dL/dx; an answer that swaps them only
    # when T > 1 is named on the finite-difference case (T=4, B=2), before the finite differences run.
    def x_batch_major(dhs, x, h0, W_xh, W_hh, hs):
        g = rnn_backward_loop(dhs, x, h0, W_xh, W_hh, hs)
        return {**g, "x": g["x"].swapaxes(0, 1)}

    def x_batch_major_after_one_step(dhs, x, h0, W_xh, W_hh, hs):
        return (x_batch_major if x.shape[0] > 1 else rnn_backward_loop)(dhs, x, h0, W_xh, W_hh, hs)

    passed, feedback = run_check("ch04.rnn_backward", x_batch_major)
    assert not passed
    assert feedback == f"{ONE_STEP}: grads['x'] should have shape (1, 2, 1), but has shape (2, 1, 1)", feedback
    passed, feedback = run_check("ch04.rnn_backward", x_batch_major_after_one_step)
    assert not passed
    assert feedback == ("in the case T=4, B=2, D=3, H=3: rnn_backward: grads['x'] should have shape (4, 2, 3), but has "
                        "shape (2, 4, 3)"), feedback


def test_rnn_backward_bias_summed_with_keepdims_is_told_to_drop_the_kept_axes():
    def keepdims(dhs, x, h0, W_xh, W_hh, hs):
        g = rnn_backward_loop(dhs, x, h0, W_xh, W_hh, hs)
        return {**g, "b_h": g["b_h"][None, None]}       # as dA.sum(axis=(0, 1), keepdims=True) gives

    passed, feedback = run_check("ch04.rnn_backward", keepdims)
    assert not passed
    assert feedback == (f"{ONE_STEP}: grads['b_h'] has shape (1, 1, 1), but b_h has shape (1,): drop the leading "
                        f"axes of size 1 (sum over the batch (and time) axes without keepdims=True), so that b_h's "
                        f"gradient has shape (H,)"), feedback


# The hand case's label: two sequences of one step, a_1 = x + 0.5 * h0 = 1 and -1 with h0 = 0.5 (so tanh'(a_1) is
# the same in both).
ONE_STEP = "the one-step example (tanh'(a_1) = 1 - tanh(1)**2 = 0.4200)"


def bptt_with_slips(dhs, x, h0, W_xh, W_hh, hs, *, derivative_at_prev=False, sum_batch=True, forgets_h0=False):
    """rnn_backward_loop, with tanh' taken at h_{t-1} instead of h_t, or db_h not summed over the batch, or
    h_prev = hs[t - 1] also for t = 0 (hs[-1], the last state, in place of h0)."""
    grads = {"x": np.zeros_like(x), "W_xh": np.zeros_like(W_xh), "W_hh": np.zeros_like(W_hh),
             "b_h": np.zeros(W_hh.shape[0]) if sum_batch else np.zeros_like(h0)}
    dh_next = np.zeros_like(h0)
    for t in reversed(range(x.shape[0])):
        h_prev = hs[t - 1] if t > 0 or forgets_h0 else h0
        da = (dhs[t] + dh_next) * (1 - (h_prev if derivative_at_prev else hs[t]) ** 2)
        grads["x"][t] = da @ W_xh
        grads["W_xh"] += da.T @ x[t]
        grads["W_hh"] += da.T @ h_prev
        grads["b_h"] += da.sum(axis=0) if sum_batch else da
        dh_next = da @ W_hh
    grads["h0"] = dh_next
    return grads


def test_rnn_backward_derivative_of_the_entering_state_is_named_not_called_a_missing_derivative():
    # h0 = 0 made 1 - h0**2 = 1, so this answer read as "did not go through tanh"
    passed, feedback = run_check("ch04.rnn_backward", lambda *args: bptt_with_slips(*args, derivative_at_prev=True))
    assert not passed and "did not go through tanh" not in feedback, feedback
    assert feedback.startswith(f"{ONE_STEP}: grads['x'] is wrong: tanh'(a_t) is 1 - hs[t]**2, the derivative at the "
                               f"state step t produces, not at h_(t-1)"), feedback


def test_rnn_backward_bias_not_summed_over_the_batch_is_told_to_sum_not_to_drop_keepdims():
    # B = 1 made an unsummed (B, H) look like keepdims=True's (1, H)
    passed, feedback = run_check("ch04.rnn_backward", lambda *args: bptt_with_slips(*args, sum_batch=False))
    assert not passed and "keepdims" not in feedback, feedback
    assert feedback == (f"{ONE_STEP}: grads['b_h'] has shape (2, 1), but b_h has shape (1,): the bias is shared by "
                        f"every sequence (and every step), so sum its gradient over those axes"), feedback


def test_rnn_backward_first_step_paired_with_the_last_state_is_named():
    # was only "dW_hh pairs da_t with h_{t-1} ... not with h_t", which this answer seemed to do; with one step
    # hs[-1] is h_1, so the message names both slips
    passed, feedback = run_check("ch04.rnn_backward", lambda *args: bptt_with_slips(*args, forgets_h0=True))
    assert not passed and feedback == (f"{ONE_STEP}: grads['W_hh'] is wrong: dW_hh pairs da_t with h_{{t-1}}, the "
                                       f"state entering step t (h0 for the first step), not with h_t (nor with hs[-1], "
                                       f"which hs[t - 1] gives at t = 0)"), feedback


@pytest.mark.parametrize("slip, named, not_named", [
    (lambda *args: bptt_with_slips(*args, forgets_h0=True), "hs[t - 1] is hs[-1]", "not with h_t"),
    (planted(whh_state="current"), "not with h_t", "hs[-1]"),
])
def test_rnn_backward_tells_the_first_state_wrapped_from_the_current_state_where_they_differ(slip, named, not_named):
    """With one step hs[-1] is h_1, so the two slips give the same numbers; with four they do not."""
    def right_for_one_step(dhs, x, h0, W_xh, W_hh, hs):
        return (rnn_backward_loop if x.shape[0] == 1 else slip)(dhs, x, h0, W_xh, W_hh, hs)

    passed, feedback = run_check("ch04.rnn_backward", right_for_one_step)
    assert not passed and feedback.startswith("in the case T=4, B=2, D=3, H=3: gradient check fails on W_hh"), feedback
    assert named in feedback and not_named not in feedback, feedback


def averaged(over):
    """rnn_backward_loop with the parameters' gradients divided by T, B or T * B: averaged, not summed."""
    def wrong(dhs, x, h0, W_xh, W_hh, hs):
        g = rnn_backward_loop(dhs, x, h0, W_xh, W_hh, hs)
        n = {"T": x.shape[0], "B": x.shape[1], "TB": x.shape[0] * x.shape[1]}[over]
        return {**g, **{k: g[k] / n for k in ("W_xh", "W_hh", "b_h")}}
    return wrong


@pytest.mark.parametrize("wrong, start", [
    (averaged("T"), "in the case T=4, B=2, D=3, H=3: gradient check fails on W_xh"),      # T = 1 in the hand case
    (averaged("B"), f"{ONE_STEP}: grads['W_xh'] is wrong"),
    (averaged("TB"), f"{ONE_STEP}: grads['W_xh'] is wrong"),
])
def test_rnn_backward_gradients_averaged_instead_of_summed_are_named(wrong, start):
    # were "... the largest difference is 4.19 at index (1,)", with no word about averaging
    passed, feedback = run_check("ch04.rnn_backward", wrong)
    assert not passed and feedback.startswith(start), feedback
    assert feedback.endswith("the weights and the bias are shared by every step and every sequence: sum their "
                             "gradients over t and over the batch, do not average"), feedback


def test_rnn_backward_hand_case_is_the_package_on_the_numbers_its_comment_gives():
    x, h0 = np.array([[[0.75], [-1.25]]]), np.full((2, 1), 0.5)
    W_xh, W_hh, b_h = np.ones((1, 1)), np.full((1, 1), 0.5), np.zeros(1)
    hs, cache = rnn_forward(x, h0, W_xh, W_hh, b_h)
    np.testing.assert_allclose(hs[0, :, 0], [np.tanh(1.0), -np.tanh(1.0)], rtol=1e-15)
    d = 1 - np.tanh(1.0) ** 2
    by_hand = {"x": [[[d], [2 * d]]], "h0": [[0.5 * d], [d]], "W_xh": [[-1.75 * d]], "W_hh": [[1.5 * d]],
               "b_h": [3 * d]}
    for key, value in rnn_backward(np.array([[[1.0], [2.0]]]), cache).items():
        np.testing.assert_allclose(value, by_hand[key], rtol=1e-14, atol=1e-15)


@pytest.mark.parametrize("name, start", [
    ("ch04.rnn_step_backward", "rnn_step_backward's result on the one-unit example should be a dict with keys "),
    ("ch04.rnn_backward", "rnn_backward's result on the one-step example should be a dict with keys "),
])
def test_a_result_that_is_not_a_dict_is_named_as_the_result_not_as_the_example(name, start):
    passed, feedback = run_check(name, lambda *args: (1, 2, 3, 4, 5))
    assert not passed and feedback.startswith(start), feedback


# The book's own solutions pass every checker: tests/test_grading.py grades the chapters themselves.


# ----------------------------------------------------------------------------- answers of an odd kind

def test_boolean_final_states_are_named_not_a_numpy_error():
    passed, feedback = run_check("ch03.last_states", lambda *args: last_states(*args) > 0)
    assert not passed
    assert feedback == ("the final states from last_states on the one-unit example (T=3, B=2, lengths 3 and 1) "
                        "should hold real numbers (integers or floats), but has dtype bool (true/false values, as a "
                        "comparison gives)")


# ----------------------------------------------------------------------------- near misses

# Each answer is a reference solution above, off by a relative amount no float64 computation shows but about
# 100 times what its checker accepts (in brackets). The message names the output and shows the difference.

def last_states_off_beyond_the_first_unit(x, lengths, h0, W_xh, W_hh, b_h):
    """Units 2, 3 ... off by 1e-7 (rtol 1e-9): the hand case has one unit, so the random cases must catch it."""
    out = last_states(x, lengths, h0, W_xh, W_hh, b_h)
    out[:, 1:] *= 1 + 1e-7
    return out


def last_states_off(x, lengths, h0, W_xh, W_hh, b_h):
    """Every state off by 1e-7 (rtol 1e-9): the hand case catches it."""
    return last_states(x, lengths, h0, W_xh, W_hh, b_h) * (1 + 1e-7)


def mean_pool_probs_off(hs, W_hy, b_y):
    """Off by 1e-7 (rtol 1e-9)."""
    return mean_pool_probs(hs, W_hy, b_y) * (1 + 1e-7)


def step_backward_whh_off(dh_t, x_t, h_prev, W_xh, W_hh, h_t):
    """dW_hh off by 1e-5 (rtol 1e-7)."""
    grads = rnn_step_backward(dh_t, x_t, h_prev, W_xh, W_hh, h_t)
    return {**grads, "W_hh": grads["W_hh"] * (1 + 1e-5)}


def backward_whh_off(dhs, x, h0, W_xh, W_hh, hs):
    """dW_hh off by 1e-5 (rtol 1e-7); named by the comparison with the hand case, before the finite differences."""
    grads = rnn_backward_loop(dhs, x, h0, W_xh, W_hh, hs)
    return {**grads, "W_hh": grads["W_hh"] * (1 + 1e-5)}


@pytest.mark.parametrize("name, fn, output", [
    ("ch03.last_states", last_states_off_beyond_the_first_unit, r"the final states from last_states[^:]*"),
    ("ch03.mean_pool_probs", mean_pool_probs_off, r"P from mean_pool_probs[^:]*"),
    ("ch04.rnn_step_backward", step_backward_whh_off, r"[^:]*: grads\['W_hh'\]"),
    ("ch04.rnn_backward", backward_whh_off, r"[^:]*: grads\['W_hh'\]"),
])
def test_a_near_miss_fails_naming_the_output_that_differs(name, fn, output):
    expect_near_miss_fails(name, fn, entries_differ(output))


def test_final_states_all_a_little_off_fail_on_the_hand_case_with_the_difference_not_the_same_numbers():
    passed, feedback = run_check("ch03.last_states", last_states_off)
    assert not passed and "final states" in feedback, feedback
    # A near miss rounds to the expected numbers, so the hand-worked message would show them twice: it gets the
    # difference instead.
    assert "entries differ from the reference" in feedback and "tanh(0.5" not in feedback, feedback


# ----------------------------------------------------------------------------- errors raised in the answer

def last_states_one_step_late(x, lengths, h0, W_xh, W_hh, b_h):
    hs, _ = rnn_forward(x, h0, W_xh, W_hh, b_h)
    return hs[lengths, np.arange(x.shape[1])]            # hs[L]: past the end for a sequence of length T


def test_last_states_indexed_one_step_late_gets_the_reason_not_only_numpys_index_error():
    passed, feedback = run_check("ch03.last_states", last_states_one_step_late)
    assert not passed and feedback == (
        "last_states on the one-unit example (T=3, B=2, lengths 3 and 1) raised IndexError: index 3 is out of bounds "
        "for axis 0 with size 3; a sequence of length L ends at hs[L - 1]; hs[L] is one step too late"), feedback


def mean_pool_without_transpose(hs, W_hy, b_y):
    return mean_pool_probs(hs, W_hy.T, b_y)                  # hs.mean(0) @ W_hy: fails where O != H


def test_mean_pool_without_the_transpose_lists_the_shapes_passed():
    passed, feedback = run_check("ch03.mean_pool_probs", mean_pool_without_transpose)
    assert not passed
    assert re.fullmatch(r"in the case T=1, B=6, H=6, O=4: mean_pool_probs raised ValueError: matmul: .*; the arrays "
                        r"passed have shapes hs \(1, 6, 6\), W_hy \(4, 6\), b_y \(4,\); with the examples as rows, a "
                        r"weight W of shape \(out, in\) multiplies x of shape \(B, in\) as x @ W.T, .*",
                        feedback), feedback


def log_softmax(hs, W_hy, b_y):
    z = hs.mean(axis=0) @ W_hy.T + b_y
    z = z - z.max(axis=1, keepdims=True)
    return z - np.log(np.exp(z).sum(axis=1, keepdims=True))


def test_mean_pool_returning_log_probabilities_is_told_to_take_their_exp():
    # was "each row of P should sum to 1 ...; take the softmax along the last axis", which it had done
    passed, feedback = run_check("ch03.mean_pool_probs", log_softmax)
    assert not passed and feedback == ("mean_pool_probs with W_hy = 0 (B=2, O=3): these are log-probabilities (each "
                                       "row of exp(P) sums to 1); return their exp"), feedback


# ----------------------------------------------------------------------------- float64 in, float64 out

def cast_to_float32(fn):
    """``fn`` computed in float64, its arrays cast to float32 at the end: within the tolerance, but not the dtype."""
    def wrong(*args):
        return {k: v.astype(np.float32) for k, v in fn(*args).items()}
    return wrong


@pytest.mark.parametrize("name, fn", [("ch04.rnn_step_backward", rnn_step_backward),
                                      ("ch04.rnn_backward", rnn_backward_loop)])
def test_gradients_cast_to_float32_at_the_end_fail_by_their_dtype(name, fn):
    passed, feedback = run_check(name, cast_to_float32(fn))
    assert not passed
    assert "should have dtype float64, the dtype of the inputs, but has dtype float32" in feedback, feedback
