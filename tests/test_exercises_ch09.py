"""The checkers of chapter 9 pass the reference solutions and name planted mistakes."""

from __future__ import annotations

import re

import numpy as np
import pytest

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
    ("ch09.embedding_backward", overwrites_repeats, r"keeps only one of the repeated rows; use np.add.at"),
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


def test_boolean_reversal_is_named_rather_than_compared():
    passed, feedback = run_check("ch09.reverse_padded", lambda x, lengths: reverse_padded(x, lengths) > 0)
    assert not passed
    assert feedback.startswith("the result for [[1, 2, 3], [4, pad, pad]] should hold real numbers (integers or "
                               "floats), but has dtype bool"), feedback


def test_embedding_backward_is_also_checked_against_finite_differences():
    # The last check compares with centred finite differences, not with the package: an answer right
    # on every earlier case and 0.1% off on that last call (the seventh) fails there, by name.
    calls = []

    def off_on_the_last_call(dx, ids, V):
        calls.append(1)
        return embedding_backward(dx, ids, V) * (1.001 if len(calls) == 7 else 1.0)

    passed, feedback = run_check("ch09.embedding_backward", off_on_the_last_call)
    assert not passed and len(calls) == 7
    assert re.fullmatch(r"dE disagrees with centred finite differences \(relative error \d\.\de-0[34]\)",
                        feedback), feedback
