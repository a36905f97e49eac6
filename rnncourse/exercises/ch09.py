"""Checkers of chapter 9 (RNNs in practice): embedding backward, the masked loss, reversal within lengths.

- ``ch09.embedding_backward``: ``embedding_backward(dx, ids, V) -> dE``, the scatter-add gradient of
  a table lookup, compared with :func:`rnncourse.numpy.embedding.embedding_backward` and finite differences;
- ``ch09.masked_cross_entropy``: ``masked_cross_entropy(logits, targets, mask) -> (loss, dlogits)``,
  compared with :func:`rnncourse.numpy.losses.softmax_cross_entropy` with ``mask``;
- ``ch09.reverse_padded``: ``reverse_padded(x, lengths) -> x_rev``, compared with
  :func:`rnncourse.numpy.padding.reverse_padded`.

Each names the usual mistake when the answer matches it (repeated ids that overwrite instead of
adding, a mean over the padding too, the whole padded array reversed ...).
"""

from __future__ import annotations

import numpy as np

from rnncourse.exercises.feedback import call_unchanged, expect_array, expect_close, expect_number, expect_scalar
from rnncourse.exercises.registry import ExerciseFailure, exercise
from rnncourse.numpy.embedding import embedding_backward as embedding_backward_reference
from rnncourse.numpy.embedding import embedding_forward
from rnncourse.numpy.gradcheck import numerical_gradient, rel_error
from rnncourse.numpy.losses import softmax_cross_entropy
from rnncourse.numpy.padding import length_mask
from rnncourse.numpy.padding import reverse_padded as reverse_reference

__all__ = ["check_embedding_backward", "check_masked_cross_entropy", "check_reverse_padded"]


# ----------------------------------------------------------------------------- ch09.embedding_backward

def _embedding_case(rng, shape, V, D):
    ids = rng.integers(0, V, size=shape)
    ids.reshape(-1)[: min(3, ids.size)] = ids.reshape(-1)[0]          # at least one repeated id
    return rng.normal(size=shape + (D,)), ids


@exercise("ch09.embedding_backward", points=2, subjects=("rnncourse.numpy.embedding.embedding_backward",))
def check_embedding_backward(fn):
    """Write embedding_backward(dx, ids, V) -> dE (V, D): the gradient of x = E[ids], a scatter-add."""
    # By hand: V = 3, ids = [2, 2, 0], dx rows 1, 10, 100: row 2 gets 1 + 10, row 0 gets 100, row 1 nothing.
    dx, ids = np.array([[1.0], [10.0], [100.0]]), np.array([2, 2, 0])
    dE = call_unchanged(fn, (dx, ids, 3), ("dx", "ids", "V"), "embedding_backward on ids [2, 2, 0]")
    dE = expect_array(dE, (3, 1), "dE for ids [2, 2, 0]")
    if np.allclose(dE[:, 0], [100, 0, 10]):
        raise ExerciseFailure("dE[2] should be 1 + 10 = 11 (id 2 is read twice), but is 10: `dE[ids] += dx` "
                              "keeps only one of the repeated rows; use np.add.at(dE, ids, dx)")
    expect_close(dE[:, 0], [100.0, 0.0, 11.0], "dE for ids [2, 2, 0] and dx rows 1, 10, 100")
    rng = np.random.default_rng(9)
    for shape, V, D in (((4,), 5, 2), ((3, 2), 7, 3), ((6, 4), 4, 5), ((1, 1), 1, 1), ((8, 3), 20, 6)):
        dx, ids = _embedding_case(rng, shape, V, D)
        what = f"embedding_backward with ids of shape {shape}, V={V}, D={D}"
        got = expect_array(call_unchanged(fn, (dx, ids, V), ("dx", "ids", "V"), what), (V, D), f"dE ({what})")
        _, cache = embedding_forward(ids, rng.normal(size=(V, D)))
        expect_close(got, embedding_backward_reference(dx, cache)["E"], f"dE ({what})", rtol=1e-10, atol=1e-12)
    E, (dx, ids) = rng.normal(size=(4, 3)), _embedding_case(rng, (5, 2), 4, 3)
    numerical = numerical_gradient(lambda: float((embedding_forward(ids, E)[0] * dx).sum()), {"E": E})["E"]
    dE = expect_array(call_unchanged(fn, (dx, ids, 4), ("dx", "ids", "V"), "embedding_backward"), (4, 3), "dE")
    err = rel_error(dE, numerical)
    if not err < 1e-7:
        raise ExerciseFailure(f"dE disagrees with centred finite differences (relative error {err:.1e})")


# ----------------------------------------------------------------------------- ch09.masked_cross_entropy

def _masked_variants(logits, targets, mask):
    """(loss, dlogits) of the usual mistakes."""
    T, B, V = logits.shape
    loss, d = softmax_cross_entropy(logits, targets, mask=mask)
    loss_all, d_all = softmax_cross_entropy(logits, targets)
    n, N = mask.sum(), T * B
    return [
        ((loss_all, d_all), "the padding counts: the mean must run over the real steps only (multiply by the mask)"),
        ((loss * n / N, d * n / N), "the masked sum is divided by T * B, the number of all positions; divide by "
                                    "mask.sum(), the number of real steps"),
        ((loss, d_all * N / n), "the loss is right but dlogits is not zero at padding steps: multiply it by the "
                                "mask too"),
    ]


def _masked_case(rng, T, B, V):
    lengths = rng.integers(1, T + 1, size=B)
    lengths[0] = T
    mask = length_mask(lengths, T)
    return rng.normal(size=(T, B, V)) * 2, rng.integers(0, V, size=(T, B)), mask


def _check_masked(fn, args, what):
    logits, targets, mask = args
    out = call_unchanged(fn, args, ("logits", "targets", "mask"), what)
    if not isinstance(out, tuple) or len(out) != 2:
        raise ExerciseFailure(f"{what} should return a tuple (loss, dlogits), but returned {type(out).__name__}")
    loss, d = softmax_cross_entropy(logits, targets, mask=mask)
    got_d = expect_array(out[1], logits.shape, f"dlogits ({what})")
    got_loss = expect_number(out[0], f"the loss ({what})")
    if not (np.isclose(got_loss, loss, rtol=1e-9) and np.allclose(got_d, d, atol=1e-12)):
        for (wl, wd), message in _masked_variants(logits, targets, mask):
            if np.isclose(got_loss, wl, rtol=1e-9) and np.allclose(got_d, wd, atol=1e-12):
                raise ExerciseFailure(f"{what}: {message}")
    expect_scalar(got_loss, float(loss), f"the loss ({what})", rtol=1e-9, atol=1e-12)
    expect_close(got_d, d, f"dlogits ({what})", rtol=1e-8, atol=1e-12)


@exercise("ch09.masked_cross_entropy", points=2)
def check_masked_cross_entropy(fn):
    """Write masked_cross_entropy(logits, targets, mask) -> (loss, dlogits): the mean over real steps only."""
    # By hand: V = 2, zero logits (loss log 2 everywhere), one real step out of two.
    logits, targets, mask = np.zeros((2, 1, 2)), np.array([[1], [0]]), np.array([[True], [False]])
    _check_masked(fn, (logits, targets, mask), "masked_cross_entropy with zero logits, one real step of two "
                                               "(loss log 2 = 0.6931, dlogits [0.5, -0.5] then [0, 0])")
    rng = np.random.default_rng(10)
    for T, B, V in ((3, 2, 4), (5, 4, 3), (1, 1, 2), (6, 3, 7), (4, 5, 5)):
        _check_masked(fn, _masked_case(rng, T, B, V), f"masked_cross_entropy with T={T}, B={B}, V={V}")


# ----------------------------------------------------------------------------- ch09.reverse_padded

@exercise("ch09.reverse_padded", points=1, subjects=("rnncourse.numpy.padding.reverse_padded",))
def check_reverse_padded(fn):
    """Write reverse_padded(x, lengths): reverse each sequence of a padded (T, B, ...) batch within its length."""
    x, lengths = np.array([[1, 4], [2, 0], [3, 0]]), np.array([3, 1])
    got = call_unchanged(fn, (x, lengths), ("x", "lengths"), "reverse_padded on [[1, 2, 3], [4, pad, pad]]")
    got = expect_array(got, x.shape, "the result for [[1, 2, 3], [4, pad, pad]]")
    if np.array_equal(got, x[::-1]):
        raise ExerciseFailure("x[::-1] reverses the padded array as a whole, so the short sequence [4] would "
                              "start with its padding; reverse each column within its own length")
    expect_close(got, reverse_reference(x, lengths), "the result for [[1, 2, 3], [4, pad, pad]]")
    rng = np.random.default_rng(11)
    for T, B, D in ((5, 3, 2), (1, 1, 1), (6, 4, 3), (4, 6, 1)):
        lengths = rng.integers(1, T + 1, size=B)
        x = rng.normal(size=(T, B, D))
        what = f"reverse_padded with T={T}, B={B}, D={D}, lengths {lengths.tolist()}"
        expect_close(call_unchanged(fn, (x, lengths), ("x", "lengths"), what), reverse_reference(x, lengths), what)
