"""Chapter 5's checkers accept the reference solutions and name the usual mistakes."""

import re

import numpy as np
import pytest

from exercise_fixtures import expect_near_miss_fails
from rnncourse.exercises import run_check


def clip_ok(grads, max_norm):
    total = float(np.sqrt(sum(np.sum(g * g) for g in grads.values())))
    factor = min(1.0, max_norm / (total + 1e-6))
    for g in grads.values():
        g *= factor
    return total


def clip_per_array(grads, max_norm):
    total = float(np.sqrt(sum(np.sum(g * g) for g in grads.values())))
    for g in grads.values():
        g *= min(1.0, max_norm / (np.linalg.norm(g) + 1e-6))
    return total


def clip_returns_norm_after(grads, max_norm):
    clip_ok(grads, max_norm)
    return float(np.sqrt(sum(np.sum(g * g) for g in grads.values())))


def clip_returns_new_dict(grads, max_norm):
    total = float(np.sqrt(sum(np.sum(g * g) for g in grads.values())))
    return {n: g * min(1.0, max_norm / (total + 1e-6)) for n, g in grads.items()}


def clip_not_in_place(grads, max_norm):
    total = float(np.sqrt(sum(np.sum(g * g) for g in grads.values())))
    for name in grads:
        grads[name] = grads[name] * 1.0      # rebinding, not changing the caller's arrays
    return total


def clip_leaves_them(grads, max_norm):
    return float(np.sqrt(sum(np.sum(g * g) for g in grads.values())))       # forgets to scale


def clip_always_scales(grads, max_norm):
    total = float(np.sqrt(sum(np.sum(g * g) for g in grads.values())))
    for g in grads.values():
        g *= max_norm / (total + 1e-6)
    return total


def jac_ok(hs, W_hh, s):
    T, B, n = hs.shape
    P = np.broadcast_to(np.eye(n), (B, n, n)).copy()
    for t in range(s + 1, T + 1):
        P = ((1 - hs[t - 1] ** 2)[:, :, None] * W_hh) @ P
    return P


def jac_reversed(hs, W_hh, s):
    T, B, n = hs.shape
    P = np.broadcast_to(np.eye(n), (B, n, n)).copy()
    for t in range(s + 1, T + 1):
        P = P @ ((1 - hs[t - 1] ** 2)[:, :, None] * W_hh)
    return P


def jac_no_derivative(hs, W_hh, s):
    T, B, n = hs.shape
    return np.broadcast_to(np.linalg.matrix_power(W_hh, T - s), (B, n, n)).copy()


def jac_shifted(hs, W_hh, s):
    T, B, n = hs.shape
    h_prevs = np.concatenate([np.zeros((1, B, n)), hs[:-1]])
    P = np.broadcast_to(np.eye(n), (B, n, n)).copy()
    for t in range(s + 1, T + 1):
        P = ((1 - h_prevs[t - 1] ** 2)[:, :, None] * W_hh) @ P
    return P


def jac_not_implemented(hs, W_hh, s):
    raise NotImplementedError


def test_reference_solutions_pass():
    assert run_check("ch05.clip_by_global_norm", clip_ok)[0]          # clip_ok is the book's solution (ex-ch05-1)
    assert run_check("ch05.jacobian_product", jac_ok)[0]


def test_a_mistake_in_a_random_case_names_the_case():
    def clip_skips_the_output_bias(grads, max_norm):
        saved = {n: g.copy() for n, g in grads.items() if n == "b_y"}
        total = clip_ok(grads, max_norm)
        for n, g in saved.items():
            grads[n][...] = g
        return total

    passed, message = run_check("ch05.clip_by_global_norm", clip_skips_the_output_bias)
    assert not passed
    assert message.startswith("in the case D=5, H=6, scale=10.0, max_norm=1.0: grads['b_y'] after clipping: "), message

    passed, message = run_check("ch05.jacobian_product", jac_reversed)
    assert message == ("in the case T=6, B=1, H=5, s=2: the factors are multiplied in the wrong order: "
                       "dh_T/dh_s = J_T ... J_{s+1}, the latest on the left"), message


@pytest.mark.parametrize("wrong, message", [
    (clip_per_array, "each array was clipped on its own"),
    (clip_returns_norm_after, "that is the norm after clipping"),
    (clip_returns_new_dict, "returned a dict"),
    (clip_not_in_place, "grads['a'] was replaced by a new array, but the arrays should be scaled in place"),
    (clip_leaves_them, "the gradients were not changed"),
    (clip_always_scales, "already inside the ball"),
])
def test_clipping_mistakes_are_named(wrong, message):
    passed, feedback = run_check("ch05.clip_by_global_norm", wrong)
    assert not passed
    assert message in feedback


@pytest.mark.parametrize("wrong, message", [
    (jac_reversed, "multiplied in the wrong order"),
    (jac_no_derivative, "the derivative of tanh is missing"),
    (jac_shifted, "not h_{t-1}"),
    (jac_not_implemented, "not implemented yet"),
])
def test_jacobian_mistakes_are_named(wrong, message):
    passed, feedback = run_check("ch05.jacobian_product", wrong)
    assert not passed
    assert message in feedback


# ----------------------------------------------------------------------------- answers of an odd kind

def clip_returns_str(grads, max_norm):
    return str(clip_ok(grads, max_norm))


def clip_drops_a_key(grads, max_norm):
    total = clip_ok(grads, max_norm)
    grads.pop(next(iter(grads)))
    return total


@pytest.mark.parametrize("wrong, message", [
    (clip_returns_str, "the total norm that clip_by_global_norm returned (hand case {a: [3], b: [4]}, max_norm 1 "
                       "(norm 5, factor 1/5)) should be a single number, but is str '5.0'"),
    (clip_drops_a_key, "should have keys ['a', 'b'], but has ['b'] (missing ['a'])"),
])
def test_clipping_answers_of_the_wrong_kind_are_named(wrong, message):
    passed, feedback = run_check("ch05.clip_by_global_norm", wrong)
    assert not passed
    assert message in feedback, feedback


def test_jacobian_accepts_a_tensor_that_requires_grad():
    torch = pytest.importorskip("torch")
    as_tensor = lambda hs, W_hh, s: torch.from_numpy(jac_ok(hs, W_hh, s)).requires_grad_()   # noqa: E731
    assert run_check("ch05.jacobian_product", as_tensor) == (True, "all checks passed (2 points)")


# ----------------------------------------------------------------------------- the edge of the ball

def clip_compares_the_square(grads, max_norm):
    total = float(np.sqrt(sum(np.sum(g * g) for g in grads.values())))
    if total ** 2 > max_norm:                       # forgot to square max_norm too
        for g in grads.values():
            g *= max_norm / (total + 1e-6)
    return total


def clip_with_slack(grads, max_norm):
    total = float(np.sqrt(sum(np.sum(g * g) for g in grads.values())))
    if total > 1.05 * max_norm:                     # clips only well outside the ball
        for g in grads.values():
            g *= max_norm / (total + 1e-6)
    return total


@pytest.mark.parametrize("wrong, message", [
    (clip_compares_the_square, "norm 3 <= max_norm 5 (though norm**2 = 9 > 5): the gradients must stay unchanged: "
                               "grads['a'] after clipping: 2 of 2 entries differ from the reference; the largest "
                               "difference is 1.33 at index (1,) (yours 3.33333, expected 2)"),
    (clip_with_slack, "hand case {a: [0.306], b: [0.408]}, max_norm 0.5 (norm 0.51 just outside, factor 0.5 / 0.51): "
                      "the gradients were not changed although their norm 0.51 exceeds max_norm = 0.5; scale the "
                      "arrays in place (g *= c)"),
])
def test_clipping_near_the_edge_of_the_ball_is_checked(wrong, message):
    # Neither random case tells these apart from the right answer: norm <= max_norm < norm**2 never
    # occurs in them, and the one just outside is 9% outside.
    assert run_check("ch05.clip_by_global_norm", wrong) == (False, message)


def jac_transposed_factors(hs, W_hh, s):
    return jac_ok(hs, W_hh.T, s)                    # diag(1 - h_t**2) W_hh.T: not one of the named mistakes


def jac_zero_when_s_is_T(hs, W_hh, s):
    return np.zeros((hs.shape[1],) + W_hh.shape) if s == hs.shape[0] else jac_ok(hs, W_hh, s)


@pytest.mark.parametrize("wrong, message", [
    (jac_transposed_factors, "s = T - 1 (one factor): dh_T/dh_s: 12 of 18 entries differ from the reference"),
    (jac_zero_when_s_is_T, "s = T (no step in between: the identity): dh_T/dh_s: 6 of 18 entries differ from the "
                           "reference; the largest difference is 1 at index (0, 0, 0) (yours 0, expected 1)"),
])
def test_jacobian_mistakes_without_a_name_still_fail(wrong, message):
    passed, feedback = run_check("ch05.jacobian_product", wrong)
    assert not passed and feedback.startswith(message), feedback


# ----------------------------------------------------------------------------- near misses

# Each answer is a reference solution above, off by a relative amount no float64 computation shows but about
# 100 times what its checker accepts (in brackets). The message names the output and shows the difference.

def clip_arrays_off(grads, max_norm):
    """The clipped arrays off by 1e-4 (rtol 1e-6 + 2e-6 / norm, 1.4e-6 at the first hand case's norm 5)."""
    total = clip_ok(grads, max_norm)
    for g in grads.values():
        g *= 1 + 1e-4
    return total


def clip_norm_off(grads, max_norm):
    """The returned norm off by 1e-4 (rtol 1e-6)."""
    return clip_ok(grads, max_norm) * (1 + 1e-4)


def jac_off(hs, W_hh, s):
    """Off by 1e-4 (rtol 1e-6)."""
    return jac_ok(hs, W_hh, s) * (1 + 1e-4)


@pytest.mark.parametrize("name, wrong, message", [
    ("ch05.clip_by_global_norm", clip_arrays_off,
     r"grads\['\w+'\] after clipping: \d+ of \d+ entries differ from the reference"),
    ("ch05.clip_by_global_norm", clip_norm_off, r"the returned total norm is 5.0005, expected 5$"),
    ("ch05.jacobian_product", jac_off, r"dh_T/dh_s: \d+ of \d+ entries differ from the reference"),
])
def test_a_near_miss_fails_naming_the_output_that_differs(name, wrong, message):
    expect_near_miss_fails(name, wrong, message)


# ----------------------------------------------------------------------------- float64 in, float64 out

def test_a_jacobian_cast_to_float32_at_the_end_fails_by_its_dtype():
    # within the tolerance (rtol 1e-6), so it passed; a less precise dtype now fails by its name wherever it comes
    passed, feedback = run_check("ch05.jacobian_product", lambda hs, W_hh, s: jac_ok(hs, W_hh, s).astype(np.float32))
    assert not passed
    assert re.search(r"dh_T/dh_s should have dtype float64, the dtype of the inputs, but has dtype float32; compute "
                     r"in the inputs' dtype$", feedback), feedback
