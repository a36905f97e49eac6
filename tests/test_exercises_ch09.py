"""The checkers of chapter 9 pass the reference solutions and name planted mistakes."""

from __future__ import annotations

import re

import numpy as np
import pytest

from exercise_fixtures import expect_near_miss_fails
from rnncourse.exercises import get_exercise, run_check
from rnncourse.numpy.embedding import embedding_backward as reference_backward
from rnncourse.numpy.embedding import embedding_forward
from rnncourse.numpy.losses import softmax_cross_entropy


def embedding_backward(dx, ids, V):
    dE = np.zeros((V, dx.shape[-1]))
    np.add.at(dE, ids.reshape(-1), dx.reshape(-1, dx.shape[-1]))
    return dE


def overwrites_repeats(dx, ids, V):
    dE = np.zeros((V, dx.shape[-1]))
    dE[ids.reshape(-1)] += dx.reshape(-1, dx.shape[-1])
    return dE


def assigns_in_a_loop(dx, ids, V):
    dE = np.zeros((V, dx.shape[-1]))
    for i, row in zip(ids.reshape(-1), dx.reshape(-1, dx.shape[-1])):
        dE[i] = row                                 # overwrites a repeated id's earlier rows
    return dE


def via_package(dx, ids, V):
    return reference_backward(dx, embedding_forward(ids, np.zeros((V, dx.shape[-1])))[1])["E"]


def masked_ce(logits, targets, mask):
    return softmax_cross_entropy(logits, targets, mask=mask)


def unmasked(logits, targets, mask):
    return softmax_cross_entropy(logits, targets)


def divides_by_all(logits, targets, mask):
    loss, d = softmax_cross_entropy(logits, targets, mask=mask)
    return loss * mask.sum() / mask.size, d * mask.sum() / mask.size


def gradient_not_masked(logits, targets, mask):
    p = np.exp(logits - logits.max(-1, keepdims=True))
    p /= p.sum(-1, keepdims=True)
    nll = -np.log(np.take_along_axis(p, targets[..., None], -1)[..., 0])
    n = mask.sum()
    np.put_along_axis(p, targets[..., None], np.take_along_axis(p, targets[..., None], -1) - 1, -1)
    return (nll * mask).sum() / n, p / n


def without_the_max(logits, targets, mask):
    """Right on moderate logits; exp overflows near 1000, since the largest logit is not subtracted first."""
    T, B, V = logits.shape
    with np.errstate(over="ignore", invalid="ignore"):          # exp(1000) is inf, and inf / inf is NaN
        p = np.exp(logits) / np.exp(logits).sum(-1, keepdims=True)
    nll = -np.log(np.take_along_axis(p, targets[..., None], -1)[..., 0])
    m = mask.astype(float)
    d = p.copy()
    d[np.arange(T)[:, None], np.arange(B)[None], targets] -= 1
    return (m * nll).sum() / m.sum(), d * (m / m.sum())[..., None]


def reverse_padded(x, lengths):
    out = x.copy()
    for b, L in enumerate(lengths):
        out[:L, b] = x[:L, b][::-1]
    return out


def reverse_all(x, lengths):
    return x[::-1]


def test_references_pass():
    assert run_check("ch09.embedding_backward", embedding_backward) == (True, "all checks passed (2 points)")
    assert run_check("ch09.embedding_backward", via_package)[0]
    assert run_check("ch09.masked_cross_entropy", masked_ce) == (True, "all checks passed (2 points)")
    assert run_check("ch09.reverse_padded", reverse_padded) == (True, "all checks passed (1 point)")
    assert get_exercise("ch09.reverse_padded").points == 1


@pytest.mark.parametrize("name, fn, match", [
    ("ch09.embedding_backward", overwrites_repeats, r"the buffered `dE\[ids\] \+= dx` keep only one"),
    ("ch09.embedding_backward", assigns_in_a_loop, r"both `dE\[i\] = row` in a loop and the buffered"),
    ("ch09.masked_cross_entropy", without_the_max, r"^in the case T=3, B=2, V=4, logits shifted by \+1000: "
                                                   r"masked_cross_entropy produced NaN or inf: exp\(1000\) overflows"),
    ("ch09.masked_cross_entropy", unmasked, r"the padding counts"),
    ("ch09.masked_cross_entropy", divides_by_all, r"divide by mask.sum\(\)"),
    ("ch09.masked_cross_entropy", gradient_not_masked, r"dlogits is not zero at padding steps"),
    ("ch09.reverse_padded", reverse_all, r"x\[::-1\] reverses the padded array as a whole"),
    ("ch09.masked_cross_entropy", lambda *args: masked_ce(*args)[0], r"should return a tuple \(loss, dlogits\)"),
])
def test_mistakes_are_named(name, fn, match):
    passed, feedback = run_check(name, fn)
    assert not passed
    assert re.search(match, feedback), feedback


def test_repeated_ids_hint_describes_the_fix_without_giving_the_call():
    passed, feedback = run_check("ch09.embedding_backward", overwrites_repeats)
    assert not passed and feedback == ("dE[2] should be 1 + 10 = 11 (id 2 is read twice), but is 10: a repeated id "
                                       "must add all its rows of dx, and both `dE[i] = row` in a loop and the buffered "
                                       "`dE[ids] += dx` keep only one (a fancy-indexed += adds once per distinct id); "
                                       "add every row, repeated ids included, with an unbuffered add or `+=` in a loop "
                                       "over the rows")


def masked_ce_negated_loss(logits, targets, mask):
    loss, d = masked_ce(logits, targets, mask)
    return -loss, d                                 # dlogits right, the loss's sign flipped


def masked_ce_loss_in_a_vector(logits, targets, mask):
    loss, d = masked_ce(logits, targets, mask)
    return np.array([loss]), d


@pytest.mark.parametrize("fn, message", [
    (masked_ce_negated_loss, "is -0.693147, but should be 0.693147 (difference 1.39)"),
    (masked_ce_loss_in_a_vector, "should be a single number, but is ndarray of shape (1,)"),
])
def test_masked_loss_is_checked_on_its_own(fn, message):
    # Both give the right dlogits: only the loss, its value and its kind, can fail them.
    passed, feedback = run_check("ch09.masked_cross_entropy", fn)
    hand = ("the loss (masked_cross_entropy with zero logits, one real step of two (loss log 2 = 0.6931, dlogits "
            "[0.5, -0.5] then [0, 0]))")
    assert (passed, feedback) == (False, f"{hand} {message}")


def test_boolean_reversal_is_named_rather_than_compared():
    passed, feedback = run_check("ch09.reverse_padded", lambda x, lengths: reverse_padded(x, lengths) > 0)
    assert not passed
    assert feedback.startswith("the result for [[1, 2, 3], [4, pad, pad]] should hold real numbers (integers or "
                               "floats), but has dtype bool"), feedback


def test_embedding_backward_is_also_checked_against_finite_differences():
    # The last check compares with centred finite differences, not with the package: an answer right
    # on every earlier case and 0.1% off on that last call (the tenth: the hand example, 8 cases, then
    # the finite differences) fails there, by name.
    calls = []

    def off_on_the_last_call(dx, ids, V):
        calls.append(1)
        return embedding_backward(dx, ids, V) * (1.001 if len(calls) == 10 else 1.0)

    passed, feedback = run_check("ch09.embedding_backward", off_on_the_last_call)
    assert not passed and len(calls) == 10
    assert re.fullmatch(r"gradient check fails on E \(relative error 0\.000[3-7]\d*\): the entries of dE disagree "
                        r"with finite differences \(a correct gradient gives a relative error below 1e-07\); in E, the "
                        r"largest difference is \S+ at index \(\d, \d\) \(yours \S+, finite differences \S+\)",
                        feedback), feedback


def dE_of_width_B(dx, ids, V):              # right for 1-D ids (the hand example), wrong width otherwise
    dE = np.zeros((V, dx.shape[1]))
    np.add.at(dE, ids.reshape(-1), dx.reshape(-1, dx.shape[-1]))
    return dE


def reverses_only_2d(x, lengths):           # right on the hand example, which is (T, B)
    return reverse_padded(x, lengths) if x.ndim == 2 else x


def dlogits_off_when_T_above_2(logits, targets, mask):    # right on the hand example, where T = 2
    loss, d = masked_ce(logits, targets, mask)
    return loss, d * (1.001 if logits.shape[0] > 2 else 1.0)


def reverse_into_zeros(x, lengths):
    out = np.zeros_like(x)                          # the padding steps lose their values
    for b, L in enumerate(lengths):
        out[:L, b] = x[:L, b][::-1]
    return out


def test_reversal_that_zeroes_the_padding_is_told_to_keep_it():
    # was "16 of 40 entries differ from the reference; ..." with no word about padding (the hand case pads with 0)
    # Compared by expect_close (its tolerances, its worst entry), then told where the differences are.
    passed, feedback = run_check("ch09.reverse_padded", reverse_into_zeros)
    assert not passed and re.fullmatch(
        r"in the case T=5, B=2, D=4, lengths=\[2, 4\]: the result: 16 of 40 entries differ from the reference; the "
        r"largest difference is [\d.e-]+ at index \(\d, \d, \d\) \(yours 0, expected -?[\d.e-]+\); all of them at "
        r"padding steps \(t >= lengths\[b\]\), which should keep the values they had in x: copy x first",
        feedback), feedback


@pytest.mark.parametrize("name, fn, expected", [
    ("ch09.embedding_backward", dE_of_width_B,
     r"in the case ids shape=\(1, 6\), V=6, D=3: embedding_backward raised ValueError: .*"),
    ("ch09.reverse_padded", reverses_only_2d,
     r"in the case T=4, B=1, D=5, lengths=\[4\]: the result: 20 of 20 entries differ from the reference; .*"),
    ("ch09.masked_cross_entropy", dlogits_off_when_T_above_2,
     r"in the case T=3, B=1, V=6: dlogits: 18 of 18 entries differ from the reference; .*"),
])
def test_a_failing_case_is_named(name, fn, expected):
    # The random cases run in in_case: the feedback starts with the case's sizes (and lengths).
    passed, feedback = run_check(name, fn)
    assert not passed
    assert re.fullmatch(expected, feedback), feedback



# ----------------------------------------------------------------------------- near misses

# Each answer is a reference solution above, off by a relative amount no float64 computation shows but about
# 100 times what its checker accepts (in brackets). The message names the output and shows the difference.

def embedding_backward_in_float32(dx, ids, V):
    """dx rounded to float32, as a float32 model would hand it over: about 1e-7 relative (rtol 1e-10)."""
    return embedding_backward(dx.astype(np.float32), ids, V)


def embedding_backward_off(dx, ids, V):
    """Off by 1e-8 (rtol 1e-10), which the finite differences (tol 1e-7) would let through."""
    return embedding_backward(dx, ids, V) * (1 + 1e-8)


def masked_ce_loss_off(logits, targets, mask):
    """The loss off by 1e-7 (rtol 1e-9), dlogits right."""
    loss, d = masked_ce(logits, targets, mask)
    return loss * (1 + 1e-7), d


def masked_ce_dlogits_off(logits, targets, mask):
    """dlogits off by 1e-6 (rtol 1e-8), the loss right."""
    loss, d = masked_ce(logits, targets, mask)
    return loss, d * (1 + 1e-6)


def reverse_padded_off(x, lengths):
    """Off by 1e-4 (rtol 1e-6): a reversal moves entries, so any change of value is wrong."""
    return reverse_padded(x, lengths) * (1 + 1e-4)


@pytest.mark.parametrize("name, fn, message", [
    ("ch09.embedding_backward", embedding_backward_in_float32, r"dE: \d+ of \d+ entries differ from the reference"),
    ("ch09.embedding_backward", embedding_backward_off, r"dE: \d+ of \d+ entries differ from the reference"),
    ("ch09.masked_cross_entropy", masked_ce_loss_off, r"the loss .* is \S+, but should be \S+ \(difference \S+\)$"),
    ("ch09.masked_cross_entropy", masked_ce_dlogits_off, r"dlogits.*: \d+ of \d+ entries differ from the reference"),
    ("ch09.reverse_padded", reverse_padded_off, r"the result.*: \d+ of \d+ entries differ from the reference"),
])
def test_a_near_miss_fails_naming_the_output_that_differs(name, fn, message):
    expect_near_miss_fails(name, fn, message)


# The book's own solutions pass every checker: tests/test_grading.py grades the chapters themselves.


# ----------------------------------------------------------------------------- a mean per sequence

def mean_of_sequence_means(logits, targets, mask):
    """Each sequence's mean over its real steps, then the mean over the batch: unequal lengths weigh unequally."""
    T, B, V = logits.shape
    per_sequence = [softmax_cross_entropy(logits[:, b], targets[:, b], mask=mask[:, b]) for b in range(B)]
    return (np.mean([loss for loss, _ in per_sequence]), np.stack([d / B for _, d in per_sequence], axis=1))


def test_a_mean_of_per_sequence_means_is_named():
    # was "dlogits: 54 of 54 entries differ from the reference", which does not say what to change
    passed, feedback = run_check("ch09.masked_cross_entropy", mean_of_sequence_means)
    assert not passed and re.fullmatch(
        r"in the case [^:]*: masked_cross_entropy: each sequence's steps were averaged first; average over all real "
        r"steps of the batch at once \(divide by mask.sum\(\)\), not per sequence", feedback), feedback


# ----------------------------------------------------------------------------- float64 in, float64 out

def test_a_reversal_cast_to_float32_fails_by_its_dtype():
    # within the tolerance (rtol 1e-6), so it passed; a less precise dtype now fails by its name wherever it comes
    passed, feedback = run_check("ch09.reverse_padded",
                                 lambda x, lengths: reverse_padded(x, lengths).astype(np.float32))
    assert not passed and re.fullmatch(r"in the case [^:]*: the result should have dtype float64, the dtype of the "
                                       r"inputs, but has dtype float32; compute in the inputs' dtype",
                                       feedback), feedback
