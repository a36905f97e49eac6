"""Checkers of chapter 9 (RNNs in practice): embedding backward, the masked loss, reversal within lengths.

- ``ch09.embedding_backward``: ``embedding_backward(dx, ids, V) -> dE``, the scatter-add gradient of
  a table lookup, compared with :func:`rnncourse.numpy.embedding.embedding_backward` and finite differences;
- ``ch09.masked_cross_entropy``: ``masked_cross_entropy(logits, targets, mask) -> (loss, dlogits)``,
  compared with :func:`rnncourse.numpy.losses.softmax_cross_entropy` with ``mask``;
- ``ch09.reverse_padded``: ``reverse_padded(x, lengths) -> x_rev``, compared with
  :func:`rnncourse.numpy.padding.reverse_padded`.

Each names the usual mistake when the answer matches it (repeated ids that overwrite instead of
adding, a mean over the padding too, a softmax that overflows on large logits, the whole padded
array reversed ...).
"""

from __future__ import annotations

import numpy as np

from rnncourse.exercises.feedback import (
    call_unchanged, case_sizes, expect_array, expect_close, expect_grad_check, expect_number, expect_scalar,
    expect_tuple, in_case, name_mistake, random_array,
)
from rnncourse.exercises.registry import ExerciseFailure, exercise
from rnncourse.numpy.embedding import embedding_backward as embedding_backward_reference
from rnncourse.numpy.embedding import embedding_forward
from rnncourse.numpy.losses import softmax_cross_entropy
from rnncourse.numpy.padding import length_mask
from rnncourse.numpy.padding import reverse_padded as reverse_reference

__all__ = ["check_embedding_backward", "check_masked_cross_entropy", "check_reverse_padded"]


# ----------------------------------------------------------------------------- ch09.embedding_backward

def _embedding_case(rng, shape, V, D):
    ids = rng.integers(0, V, size=shape)
    ids.reshape(-1)[: min(3, ids.size)] = ids.reshape(-1)[0]          # at least one repeated id
    return random_array(rng, shape + (D,)), ids


@exercise("ch09.embedding_backward", points=2,
          subjects=("rnncourse.numpy.embedding.embedding_backward", "rnncourse.numpy.charlm._rows_T_onehot"))
def check_embedding_backward(fn):
    """Write embedding_backward(dx, ids, V) -> dE (V, D): the gradient of x = E[ids], a scatter-add.

    Parameters
    ----------
    fn : callable
        The student's function, called as ``embedding_backward(dx, ids, V) -> dE``.
    """
    # By hand: V = 3, ids = [2, 2, 0], dx rows 1, 10, 100: row 2 gets 1 + 10, row 0 gets 100, row 1 nothing.
    dx, ids = np.array([[1.0], [10.0], [100.0]]), np.array([2, 2, 0])
    dE = call_unchanged(fn, (dx, ids, 3), ("dx", "ids", "V"), "embedding_backward on ids [2, 2, 0]")
    dE = expect_array(dE, (3, 1), "dE for ids [2, 2, 0]")
    overwritten = ([100.0, 0.0, 10.0],
                   "dE[2] should be 1 + 10 = 11 (id 2 is read twice), but is 10: a repeated id must add all its rows "
                   "of dx, and both `dE[i] = row` in a loop and the buffered `dE[ids] += dx` keep only one (a "
                   "fancy-indexed += adds once per distinct id); add every row, repeated ids included, with an "
                   "unbuffered add or `+=` in a loop over the rows")
    name_mistake(dE[:, 0], [100.0, 0.0, 11.0], [overwritten], "", rtol=1e-5, atol=1e-8)
    expect_close(dE[:, 0], [100.0, 0.0, 11.0], "dE for ids [2, 2, 0] and dx rows 1, 10, 100")
    rng = np.random.default_rng(9)
    cases = [{"ids shape": (s["T"], s["B"]), "V": s["V"], "D": s["D"]} for s in case_sizes(seed=9, letters="TBVD")]
    cases += [{"ids shape": (4,), "V": 5, "D": 2},            # one-dimensional ids
              {"ids shape": (1, 1), "V": 1, "D": 1},          # a table of one row of one entry
              {"ids shape": (8, 3), "V": 20, "D": 6}]         # most rows of the table never read
    for case in cases:
        with in_case(case):
            V, D = case["V"], case["D"]
            dx, ids = _embedding_case(rng, case["ids shape"], V, D)
            got = expect_array(call_unchanged(fn, (dx, ids, V), ("dx", "ids", "V"), "embedding_backward"), (V, D),
                               "dE")
            _, cache = embedding_forward(ids, random_array(rng, (V, D)))
            expect_close(got, embedding_backward_reference(dx, cache)["E"], "dE", rtol=1e-10, atol=1e-12)
    # Independently of the reference: centred finite differences of L = sum(dx * E[ids]).
    E, (dx, ids) = random_array(rng, (4, 3)), _embedding_case(rng, (5, 2), 4, 3)
    dE = expect_array(call_unchanged(fn, (dx, ids, 4), ("dx", "ids", "V"), "embedding_backward"), (4, 3), "dE")
    expect_grad_check(lambda: float((embedding_forward(ids, E)[0] * dx).sum()), {"E": E}, {"E": dE},
                      "the entries of dE", tol=1e-7)


# ----------------------------------------------------------------------------- ch09.masked_cross_entropy

def _masked_mistakes(logits, targets, mask):
    """(loss, dlogits) of the usual mistakes."""
    T, B, V = logits.shape
    loss, d = softmax_cross_entropy(logits, targets, mask=mask)
    loss_all, d_all = softmax_cross_entropy(logits, targets)
    n, N = mask.sum(), T * B
    # Each sequence's mean over its own real steps, then the mean of those B means.
    per_sequence = [softmax_cross_entropy(logits[:, b], targets[:, b], mask=mask[:, b]) for b in range(B)]
    loss_seq = np.mean([loss_b for loss_b, _ in per_sequence])
    d_seq = np.stack([d_b / B for _, d_b in per_sequence], axis=1)
    return [
        ((loss_all, d_all), "the padding counts: the mean must run over the real steps only (multiply by the mask)"),
        ((loss * n / N, d * n / N), "the masked sum is divided by T * B, the number of all positions; divide by "
                                    "mask.sum(), the number of real steps"),
        ((loss, d_all * N / n), "the loss is right but dlogits is not zero at padding steps: multiply it by the "
                                "mask too"),
        ((loss_seq, d_seq), "each sequence's steps were averaged first; average over all real steps of the batch at "
                            "once (divide by mask.sum()), not per sequence"),
    ]


def _masked_case(rng, T, B, V):
    lengths = rng.integers(1, T + 1, size=B)
    lengths[0] = T
    mask = length_mask(lengths, T)
    return random_array(rng, (T, B, V), scale=2.0), rng.integers(0, V, size=(T, B)), mask


def _check_masked(fn, args, what, about=""):
    """Check one call: ``what`` names the call; ``about`` (" (...)" or "") follows "the loss" and "dlogits"."""
    logits, targets, mask = args
    out = expect_tuple(call_unchanged(fn, args, ("logits", "targets", "mask"), what), ("loss", "dlogits"), what)
    loss, d = softmax_cross_entropy(logits, targets, mask=mask)
    got_d = expect_array(out[1], logits.shape, f"dlogits{about}")
    got_loss = expect_number(out[0], f"the loss{about}")
    # A mistake gives both a loss and dlogits: of those whose loss the answer's loss is, name the one whose
    # dlogits the answer's dlogits are.
    mistakes = [(wd, message) for (wl, wd), message in _masked_mistakes(logits, targets, mask)
                if np.isclose(got_loss, wl, rtol=1e-9)]
    name_mistake(got_d, d, mistakes, what, rtol=1e-5, atol=1e-12)
    # out[0] rather than got_loss: expect_scalar names a loss computed in float32 (torch's default) by its dtype.
    expect_scalar(out[0], float(loss), f"the loss{about}", rtol=1e-9, atol=1e-12)
    expect_close(got_d, d, f"dlogits{about}", rtol=1e-8, atol=1e-12)


def _all_finite(out) -> bool:
    """False if ``out`` is a (loss, dlogits) pair of numbers with a NaN or infinity in it; True otherwise.

    Anything else (another kind, no numbers at all) counts as finite: the full check names what is wrong with it.
    """
    if not isinstance(out, tuple) or len(out) != 2:
        return True
    try:
        return all(np.isfinite(np.asarray(part, dtype=float)).all() for part in out)
    except (TypeError, ValueError):
        return True


@exercise("ch09.masked_cross_entropy", points=2,
          subjects=("rnncourse.numpy.losses.softmax_cross_entropy", "rnncourse.torch.padding.masked_cross_entropy",
                    "rnncourse.numpy.charlm._nll"))
def check_masked_cross_entropy(fn):
    """Write masked_cross_entropy(logits, targets, mask) -> (loss, dlogits): the mean over real steps only.

    Parameters
    ----------
    fn : callable
        The student's function, called as ``masked_cross_entropy(logits, targets, mask) -> (loss, dlogits)``.
    """
    # By hand: V = 2, zero logits (loss log 2 everywhere), one real step out of two.
    logits, targets, mask = np.zeros((2, 1, 2)), np.array([[1], [0]]), np.array([[True], [False]])
    what = ("masked_cross_entropy with zero logits, one real step of two (loss log 2 = 0.6931, dlogits [0.5, -0.5] "
            "then [0, 0])")
    _check_masked(fn, (logits, targets, mask), what, f" ({what})")
    rng = np.random.default_rng(10)
    cases = case_sizes(seed=10, letters="TBV") + [{"T": 1, "B": 1, "V": 2}]     # one step of two classes
    for sizes in cases:
        with in_case(sizes):
            _check_masked(fn, _masked_case(rng, sizes["T"], sizes["B"], sizes["V"]), "masked_cross_entropy")
    # Large logits must not overflow: the softmax subtracts each row's largest logit first.
    logits, targets, mask = _masked_case(rng, 3, 2, 4)
    args = (logits + 1000.0, targets, mask)
    with in_case("T=3, B=2, V=4, logits shifted by +1000"):
        out = call_unchanged(fn, args, ("logits", "targets", "mask"), "masked_cross_entropy")
        if not _all_finite(out):
            raise ExerciseFailure("masked_cross_entropy produced NaN or inf: exp(1000) overflows; subtract each "
                                  "row's largest logit before exponentiating (softmax, and so the loss and dlogits, "
                                  "are unchanged by that shift)")
        _check_masked(fn, args, "masked_cross_entropy")


# ----------------------------------------------------------------------------- ch09.reverse_padded

def _expect_reversed(got, x, lengths, what):
    """Compare the student's reversal with the reference by :func:`~rnncourse.exercises.feedback.expect_close`; name
    an answer that is wrong only at padding steps."""
    want = reverse_reference(x, lengths)
    got = expect_array(got, x.shape, what)
    try:
        expect_close(got, want, what)
    except ExerciseFailure as failure:
        padding = (np.arange(len(x))[:, None] >= lengths).reshape(x.shape[:2] + (1,) * (x.ndim - 2))
        try:
            expect_close(np.where(padding, want, got).astype(got.dtype), want, what)    # the real steps alone
        except ExerciseFailure:
            raise failure from None
        raise ExerciseFailure(f"{failure}; all of them at padding steps (t >= lengths[b]), which should keep the "
                              f"values they had in x: copy x first") from None


@exercise("ch09.reverse_padded", points=1,
          subjects=("rnncourse.numpy.padding.reverse_padded", "rnncourse.torch.padding.reverse_padded"))
def check_reverse_padded(fn):
    """Write reverse_padded(x, lengths): reverse each sequence of a padded (T, B, ...) batch within its length.

    Parameters
    ----------
    fn : callable
        The student's function, called as ``reverse_padded(x, lengths) -> x_rev``.
    """
    x, lengths = np.array([[1, 4], [2, 0], [3, 0]]), np.array([3, 1])
    got = call_unchanged(fn, (x, lengths), ("x", "lengths"), "reverse_padded on [[1, 2, 3], [4, pad, pad]]")
    got = expect_array(got, x.shape, "the result for [[1, 2, 3], [4, pad, pad]]")
    whole = (x[::-1], "x[::-1] reverses the padded array as a whole, so the short sequence [4] would start with its "
                      "padding; reverse each column within its own length")
    name_mistake(got, reverse_reference(x, lengths), [whole], "", rtol=0, atol=0)
    _expect_reversed(got, x, lengths, "the result for [[1, 2, 3], [4, pad, pad]]")
    rng = np.random.default_rng(11)
    cases = case_sizes(seed=11, letters="TBD") + [{"T": 1, "B": 1, "D": 1}, {"T": 4, "B": 6, "D": 1}]
    for sizes in cases:
        T, B, D = sizes["T"], sizes["B"], sizes["D"]
        lengths = rng.integers(1, T + 1, size=B)
        x = random_array(rng, (T, B, D))
        with in_case({**sizes, "lengths": lengths.tolist()}):
            got = call_unchanged(fn, (x, lengths), ("x", "lengths"), "reverse_padded")
            _expect_reversed(got, x, lengths, "the result")
