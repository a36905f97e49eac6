"""Checkers of chapter 3 (forward propagation): final states of padded sequences, and a mean read-out.

- ``ch03.last_states``: ``last_states(x, lengths, h0, W_xh, W_hh, b_h) -> h_last``, the state of
  each sequence of a padded batch after its own last real step, shape (B, H), compared with
  :func:`rnncourse.numpy.elman.rnn_forward` indexed at ``lengths - 1``;
- ``ch03.mean_pool_probs``: ``mean_pool_probs(hs, W_hy, b_y) -> P``, class probabilities
  (B, O) from the mean of the hidden states over time, compared with an independent
  computation through :func:`rnncourse.numpy.output.affine_forward` and :func:`rnncourse.numpy.losses.softmax`.

When the answer is wrong, each checker tries the usual mistakes (the last padded state, an
index off by one, the last state instead of the mean, no softmax ...) and names the one that
reproduces the student's numbers.
"""

from __future__ import annotations

import numpy as np

from rnncourse.numpy import affine_forward, init_rnn_params, rnn_forward, softmax

from rnncourse.exercises.feedback import (call_padded, call_unchanged, case_sizes, expect_array, expect_close, in_case,
                                          name_mistake, random_array)
from rnncourse.exercises.registry import ExerciseFailure, exercise

__all__ = ["check_last_states", "check_mean_pool_probs"]


# ----------------------------------------------------------------------------- ch03.last_states

def _last_state_mistakes(hs, lengths, h0):
    """Common wrong selections of the final states, each with the message that explains it."""
    B = hs.shape[1]
    b = np.arange(B)
    after = np.concatenate([hs, hs[-1:]])[np.minimum(lengths, hs.shape[0]), b]
    before = np.concatenate([h0[None], hs])[lengths - 1, b]
    return [
        (hs[-1], "you returned the state after the last *padded* step, hs[-1], for every sequence; a shorter "
                "sequence ends earlier: pick hs[lengths[b] - 1, b]"),
        (after, "off by one: hs[t] is the state after reading x[t], so a sequence of length L ends at hs[L - 1]"),
        (before, "off by one: the state after the last real step of a sequence of length L is hs[L - 1] "
                 "(hs does not start with h0)"),
    ]


def _check_last_states(fn, case, what, fallback=None):
    x, lengths, h0, W_xh, W_hh, b_h = case
    # hs[lengths] reads hs[T] for a sequence of length T: call_padded says why
    out = call_padded(fn, case, ("x", "lengths", "h0", "W_xh", "W_hh", "b_h"), what, T=len(x))
    B, n_h = h0.shape
    out = expect_array(out, (B, n_h), f"the final states from {what}")
    hs, _ = rnn_forward(x, h0, W_xh, W_hh, b_h)
    expected = hs[lengths - 1, np.arange(B)]
    name_mistake(out, expected, _last_state_mistakes(hs, lengths, h0), what, rtol=1e-9, atol=1e-12)
    if fallback is not None and not np.allclose(out, expected, rtol=1e-4, atol=1e-6):   # a near miss: the difference
        raise ExerciseFailure(fallback(out))
    expect_close(out, expected, f"the final states from {what}", rtol=1e-9, atol=1e-12)


def _padded_case(rng, T, B, D, n_h, lengths=None):
    """A batch of sequences of different lengths, padded with noise (not zeros) up to T steps."""
    p = init_rnn_params(D, n_h, rng=rng)
    lengths = rng.integers(1, T + 1, size=B) if lengths is None else np.asarray(lengths)
    x = random_array(rng, (T, B, D))
    h0 = np.tanh(random_array(rng, (B, n_h)))
    return x, lengths.astype(np.int64), h0, p["W_xh"], p["W_hh"], p["b_h"]


@exercise("ch03.last_states", points=2,
          subjects=("rnncourse.numpy.many_to_one.last_states", "rnncourse.numpy.many_to_one._last_states",
                    "rnncourse.torch.topologies.last_states", "rnncourse.torch.padding.packed_rnn_forward"))
def check_last_states(fn):
    """Write last_states(x, lengths, h0, W_xh, W_hh, b_h): each sequence's state after its own last step, (B, H).

    Parameters
    ----------
    fn : callable
        The student's function, called as ``last_states(x, lengths, h0, W_xh, W_hh, b_h) -> h_last``.
    """
    # By hand: one unit, w_xh = 1, w_hh = 0.5, b = 0, h0 = 0; sequence 0 reads 1, 0, 0 (length 3),
    # sequence 1 reads 1 and then two padding steps (length 1).
    x = np.array([[[1.0], [1.0]], [[0.0], [5.0]], [[0.0], [5.0]]])
    hand = (x, np.array([3, 1]), np.zeros((2, 1)), np.ones((1, 1)), np.full((1, 1), 0.5), np.zeros(1))
    h3 = np.tanh(0.5 * np.tanh(0.5 * np.tanh(1.0)))
    _check_last_states(fn, hand, "last_states on the one-unit example (T=3, B=2, lengths 3 and 1)",
                       fallback=lambda out: (
                           f"the final states should be tanh(0.5 tanh(0.5 tanh(1))) = {h3:.4f} for the sequence of "
                           f"length 3 and tanh(1) = {np.tanh(1.0):.4f} for the sequence of length 1, but yours "
                           f"are {np.round(out.ravel(), 4).tolist()}"))
    rng = np.random.default_rng(3)
    # First one padded sequence, on which each usual mistake gives numbers of its own (with T=2 the last
    # padded state and the state one step late coincide); then the edge cases T=1 and B=1 and random sizes,
    # with random lengths; then one unit with D=1, the unpadded batch (all lengths equal to T) and a long
    # batch whose lengths run from 1 to T.
    cases = [{"T": 6, "B": 1, "D": 3, "H": 2, "lengths": [4]}] + case_sizes(seed=3, letters="TBDH", n_random=2) + [
        {"T": 1, "B": 1, "D": 1, "H": 1},
        {"T": 7, "B": 4, "D": 3, "H": 5, "lengths": [7, 7, 7, 7]},
        {"T": 12, "B": 5, "D": 6, "H": 8, "lengths": [1, 12, 5, 3, 9]},
    ]
    for sizes in cases:
        case = _padded_case(rng, sizes["T"], sizes["B"], sizes["D"], sizes["H"], sizes.get("lengths"))
        with in_case({**sizes, "lengths": case[1].tolist()}):
            _check_last_states(fn, case, "last_states")


# ----------------------------------------------------------------------------- ch03.mean_pool_probs

_PROBS_NAMES = ("hs", "W_hy", "b_y")


def _reference_probs(hs, W_hy, b_y):
    Z, _ = affine_forward(hs.mean(axis=0), W_hy, b_y)           # (B, O)
    return softmax(Z, axis=-1)


def _diagnose_probs(P, hs, W_hy, b_y, what, fallback=None):
    """Raise a specific failure unless ``P`` equals the reference; ``fallback(P)`` words an unexplained miss."""
    B, O = hs.shape[1], W_hy.shape[0]
    P = expect_array(P, (B, O), f"P from {what}")
    expected = _reference_probs(hs, W_hy, b_y)
    if not np.allclose(P.sum(axis=1), 1.0):
        name_mistake(P, expected, [(affine_forward(hs.mean(axis=0), W_hy, b_y)[0],
                                    "these are the scores z, not probabilities; apply the softmax")],
                     what, rtol=1e-5, atol=1e-8)
        with np.errstate(over="ignore"):
            if np.allclose(np.exp(P).sum(axis=1), 1.0):            # a log-softmax
                raise ExerciseFailure(f"{what}: these are log-probabilities (each row of exp(P) sums to 1); return "
                                      f"their exp")
        raise ExerciseFailure(f"{what}: each row of P should sum to 1 (a distribution over the O classes), but "
                              f"the first row sums to {P[0].sum():.4f}; take the softmax along the last axis")
    # A mistake is named only where it gives other numbers than the right answer (with W_hy = 0 all read-outs
    # agree), at the tolerance of the check; a near miss (float32, an epsilon) gets the plain difference.
    mistakes = [
        (softmax(affine_forward(hs[-1], W_hy, b_y)[0]),
         "you read out the last state hs[-1]; this exercise averages the states over time first, hs.mean(axis=0)"),
        (softmax(affine_forward(hs.sum(axis=0), W_hy, b_y)[0]),
         "you summed the states over time; take their mean (divide by T)"),
    ]
    name_mistake(P, expected, mistakes, what, rtol=1e-9, atol=1e-12)
    if fallback is not None and not np.allclose(P, expected, rtol=1e-4, atol=1e-6):
        raise ExerciseFailure(fallback(P))
    expect_close(P, expected, f"P from {what}", rtol=1e-9, atol=1e-12)


@exercise("ch03.mean_pool_probs", points=1)
def check_mean_pool_probs(fn):
    """Write mean_pool_probs(hs, W_hy, b_y): softmax of the read-out of the time-averaged state, shape (B, O).

    Parameters
    ----------
    fn : callable
        The student's function, called as ``mean_pool_probs(hs, W_hy, b_y) -> P``.
    """
    # By hand: W_hy = 0 gives softmax(b_y) whatever the states are.
    b_y = np.log(np.array([1.0, 2.0, 5.0]))
    hs = np.tanh(random_array(np.random.default_rng(0), (4, 2, 3)))
    what = "mean_pool_probs with W_hy = 0 (B=2, O=3)"
    P = call_unchanged(fn, (hs, np.zeros((3, 3)), b_y), _PROBS_NAMES, what)
    _diagnose_probs(P, hs, np.zeros((3, 3)), b_y, what, fallback=lambda P: (
        f"with W_hy = 0 and b_y = log([1, 2, 5]) every row should be softmax(b_y) = [0.125, 0.25, 0.625], "
        f"but your first row is {np.round(P[0], 4).tolist()}"))
    rng = np.random.default_rng(4)
    # T=1 and B=1 are the edge cases; also both at once, and a longer sequence with more classes.
    cases = case_sizes(seed=4, letters="TBHO") + [{"T": 1, "B": 1, "H": 3, "O": 2}, {"T": 9, "B": 3, "H": 5, "O": 7}]
    for sizes in cases:
        with in_case(sizes):
            T, B, n_h, O = sizes["T"], sizes["B"], sizes["H"], sizes["O"]
            hs = np.tanh(random_array(rng, (T, B, n_h)))
            W_hy, b_y = random_array(rng, (O, n_h)), random_array(rng, O)
            P = call_unchanged(fn, (hs, W_hy, b_y), _PROBS_NAMES, "mean_pool_probs")
            _diagnose_probs(P, hs, W_hy, b_y, "mean_pool_probs")
    # Large scores must not overflow: the softmax subtracts the largest score first.
    with in_case({"T": 3, "B": 2, "H": 4, "O": 3, "b_y": [1000.0, 999.0, 0.0]}):
        hs = np.tanh(random_array(rng, (3, 2, 4)))
        W_hy, b_y = random_array(rng, (3, 4)), np.array([1000.0, 999.0, 0.0])
        P = call_unchanged(fn, (hs, W_hy, b_y), _PROBS_NAMES, "mean_pool_probs")
        if isinstance(P, np.ndarray) and P.shape == (2, 3) and not np.isfinite(P).all():
            raise ExerciseFailure("mean_pool_probs produced NaN or inf: exp(1000) overflows; subtract the row's "
                                  "largest score before exponentiating (softmax is unchanged by that shift)")
        _diagnose_probs(P, hs, W_hy, b_y, "mean_pool_probs")
