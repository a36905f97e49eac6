"""Checkers for the coding exercises of chapter 6 (input/output topologies).

- ``ch06.greedy_decode``: write greedy decoding for an encoder--decoder (PyTorch);
- ``ch06.many_to_one_backward``: write the backward pass of many-to-one
  classification with padded sequences (NumPy).
"""

from __future__ import annotations

import numpy as np
import torch

from rnncourse.exercises.feedback import (call_padded, call_unchanged, case_sizes, expect_array, expect_grads_close,
                                          expect_keys, in_case, name_mistake, random_array)
from rnncourse.exercises.registry import ExerciseFailure, exercise
from rnncourse.numpy.many_to_one import many_to_one_backward, many_to_one_forward
from rnncourse.numpy.model import PARAM_NAMES, init_model_params
from rnncourse.torch.seq2seq import greedy_decode
from rnncourse.validation import check_array, check_index_array

__all__ = ["check_greedy_decode", "check_many_to_one_backward"]

_DECODE_ARGS = ("step", "h0")


# ----------------------------------------------------------------------------- greedy decoding

def _check_step_inputs(tokens, h, B, H, V):
    """Refuse the inputs of the grader's step unless they are ``tokens`` (n,) of torch.long in [0, V) and ``h`` (n, H),
    ``n`` at most the batch ``B`` (a decoder may feed only the rows that have not ended).

    The step runs in the grader's process: a wrong shape would broadcast (B', 1, H) against (B, H)
    into an array of B' * B * H entries, so it is refused with the shapes it should have.
    """
    if isinstance(tokens, torch.Tensor) and tokens.dtype != torch.long:     # the statement says a long tensor
        raise TypeError(f"step(tokens, h): tokens should be a long tensor (torch.long), but has dtype {tokens.dtype}; "
                        f"create it with dtype=torch.long or convert it with tokens.long()")
    check_index_array(tokens, "step(tokens, h): tokens", ("B",), high=V, backend="torch")
    n = len(tokens)
    if not 1 <= n <= B:
        raise ValueError(f"step(tokens, h): tokens should hold one token per sequence of the batch, at most {B}, "
                         f"but has {n}")
    check_array(h, "step(tokens, h): h", ("B", "H"), (n, H), backend="torch")


def _random_step(V, H, B, seed, eos_bias=0.0, eos=2):
    """A random decoder step ``(tokens, h) -> (logits, h)`` in float64 for a batch of ``B``, for greedy-decoding checks.

    The same ``seed`` gives the same decoder: the reference and the student each get their own copy.
    """
    rng = np.random.default_rng(seed)
    W_xh, W_hh, W_hy = (torch.from_numpy(random_array(rng, shape)) for shape in ((H, V), (H, H), (V, H)))
    b_y = torch.zeros(V, dtype=torch.float64)
    b_y[eos] = eos_bias

    def step(tokens, h):
        _check_step_inputs(tokens, h, B, H, V)
        h = torch.tanh(W_xh[:, tokens].T + h @ W_hh.T)
        return h @ W_hy.T + b_y, h

    return step, torch.from_numpy(random_array(rng, (1, H)))


def _counting_step(V, B, H):
    """A step whose next token is always ``(token + 1) % V``: greedy output is bos + 1, bos + 2, ... (mod V)."""
    def step(tokens, h):
        _check_step_inputs(tokens, h, B, H, V)
        return 10.0 * torch.nn.functional.one_hot((tokens + 1) % V, V).double(), h

    return step


def _decoding_mistakes(step, h0, **kwargs):
    """The usual slips of greedy decoding, each with the message that names it: what the reference decodes
    with ``step`` changed to make that slip, as token ids (max_len, B)."""
    bos = kwargs["bos"]
    no_feedback = greedy_decode(lambda tokens, h: step(torch.full_like(tokens, bos), h), h0, **kwargs)
    no_update = greedy_decode(lambda tokens, h: step(tokens, h0), h0, **kwargs)
    return [
        (no_feedback.numpy(), "every step reads bos: feed back the argmax token of the previous step as the next "
                              "input"),
        (no_update.numpy(), "every step starts from h0: pass the state each step returns to the next step "
                            "(logits, h = step(tokens, h))"),
    ]


def _first_eos_step(tokens, eos):
    """The first step at which any sequence of ``tokens`` (T, B) holds ``eos``, or None."""
    steps = np.flatnonzero((tokens == eos).any(axis=1))
    return int(steps[0]) if steps.size else None


def _compare_tokens(mine, ref, what, bos, eos, pad, mistakes):
    """Compare the student's tokens with ``ref``; name a slip of ``mistakes`` (from :func:`_decoding_mistakes`)
    that gives them, else say where they first differ."""
    if not isinstance(mine, np.ndarray):                # call_unchanged hands back a tensor as an ndarray
        size = f" of length {len(mine)}" if isinstance(mine, (tuple, list)) else ""
        raise ExerciseFailure(f"{what} should return a tensor (or array) of integer token ids of shape (max_len, B) "
                              f"= {tuple(ref.shape)}, but returned {type(mine).__name__}{size}")
    mine = expect_array(mine, tuple(ref.shape), what)
    ref = ref.numpy()
    if mine.dtype.kind not in "iu":
        raise ExerciseFailure(f"{what} should hold integer token ids (torch.long or another integer dtype), but has "
                              f"dtype {mine.dtype}")
    name_mistake(mine, ref, mistakes, what, rtol=0, atol=0)
    bad = np.argwhere(mine != ref)
    if len(bad):
        t, b = (int(i) for i in bad[0])
        hint = ""
        if ref[t, b] == eos and mine[t, b] == pad:
            hint = (f"; the <eos> token ({eos}) itself is kept: write the token first and mark sequence {b} done "
                    f"after it, so that only the positions after <eos> hold pad ({pad})")
        elif ref[t, b] == pad and (ref[:t, b] == eos).any():
            hint = f"; sequence {b} already produced <eos> ({eos}), so every later position should hold pad ({pad})"
        elif (mine[t:, b] == pad).all() and _first_eos_step(mine, eos) == t - 1:     # stopped at the first <eos>
            hint = (f"; sequence {b} has not produced <eos> ({eos}) yet, so it is still being decoded: stop only when "
                    f"every sequence is done")
        elif t > 0:
            hint = "; each step reads the argmax token of the step before and the state that step returned"
        else:
            hint = f"; the first step reads bos ({bos}) and h0"
        raise ExerciseFailure(f"{what}: {len(bad)} token(s) differ; the first at position (t={t}, b={b}) is "
                              f"{mine[t, b]}, expected {ref[t, b]}{hint}")


@exercise("ch06.greedy_decode", points=2, subjects=("rnncourse.torch.seq2seq.greedy_decode",))
def check_greedy_decode(fn):
    """Write greedy_decode(step, h0, bos, eos, max_len, pad): feed back the most likely token until <eos>, then pad.

    Parameters
    ----------
    fn : callable
        The student's function, called as ``greedy_decode(step, h0, bos=..., eos=..., max_len=..., pad=...) -> tokens``.
    """
    # By hand: a step that always predicts token + 1 counts up from bos to eos, then pads: first with bos = 1 and
    # pad = 0, then with other values (V = 6), so that an answer that ignores bos or pad shows it.
    h0 = torch.zeros(2, 3, dtype=torch.float64)
    for V, bos, eos, pad, expected in ((5, 1, 4, 0, [2, 3, 4, 0, 0]), (6, 3, 5, 2, [4, 5, 2, 2, 2])):
        special = {"bos": bos, "eos": eos, "max_len": 5, "pad": pad}
        mine = call_unchanged(fn, (_counting_step(V, 2, 3), h0), _DECODE_ARGS,
                              "greedy_decode on a step that always predicts token + 1", **special)
        mistakes = _decoding_mistakes(_counting_step(V, 2, 3), h0, **special)
        what = f"greedy_decode with next token = previous + 1, bos = {bos}, eos = {eos}"
        what += "" if (bos, pad) == (1, 0) else f", pad = {pad}"
        _compare_tokens(mine, torch.tensor(expected)[:, None].expand(5, 2), what, bos, eos, pad, mistakes)
    # Random decoders (V = 6, H = 5; a seed each) for edge and random sizes (T is max_len), an <eos> bias
    # making some sequences end early, plus B = max_len = 1, and one case with bos, eos and pad other than
    # 1, 2 and 0 (pad is a token of the vocabulary, so an answer may feed it back to the step).
    sizes = case_sizes(seed=6, letters="TB", high=8)
    cases = [{"B": s["B"], "max_len": s["T"], "seed": seed, "eos_bias": eos_bias}
             for seed, (s, eos_bias) in enumerate(zip(sizes, (0.0, 2.0, 0.0, 1.5, 3.0)))]
    cases += [{"B": 1, "max_len": 1, "seed": len(cases), "eos_bias": 0.0},
              {"B": 4, "max_len": 8, "seed": len(cases) + 1, "eos_bias": 1.5, "bos": 3, "eos": 2, "pad": 5}]
    for case in cases:
        with in_case(case):
            B, max_len = case["B"], case["max_len"]
            bos, eos, pad = case.get("bos", 1), case.get("eos", 2), case.get("pad", 0)
            special = {"bos": bos, "eos": eos, "max_len": max_len, "pad": pad}
            # The reference decodes first (also the usual slips), with its own copy of the decoder: the
            # student's step is a closure whose weights the student's code could reach and change.
            step, h = _random_step(6, 5, B, case["seed"], case["eos_bias"], eos=eos)
            h0 = h.expand(B, -1) + 0.3 * torch.arange(B, dtype=torch.float64)[:, None]
            ref = greedy_decode(step, h0, **special)
            mistakes = _decoding_mistakes(step, h0, **special)
            step, _ = _random_step(6, 5, B, case["seed"], case["eos_bias"], eos=eos)
            what = "greedy_decode on a random decoder"
            mine = call_unchanged(fn, (step, h0), _DECODE_ARGS, what, **special)
            _compare_tokens(mine, ref, what, bos, eos, pad, mistakes)


# ----------------------------------------------------------------------------- many-to-one backward

def _case(rng, T, B, D, H, lengths=None, C=3):
    params = init_model_params(D, H, C, rng=rng)
    x = random_array(rng, (T, B, D))
    logits, cache = many_to_one_forward(x, params, None if lengths is None else np.array(lengths))
    return random_array(rng, logits.shape), cache


def _expect_grads(mine, ref, what):
    """Compare the answer with ``ref`` by :func:`~rnncourse.exercises.feedback.expect_grads_close`: the five
    parameters' gradients, and ``x``'s where the answer gives it; other keys (``h0`` from ``rnn_backward``) are not
    asked for and not compared."""
    names = list(PARAM_NAMES)
    if not isinstance(mine, dict):
        expect_keys(mine, names, what)                  # raises: says that a dict is expected, and its keys
    names += ["x"] if "x" in mine else []
    expect_grads_close({k: mine[k] for k in names if k in mine}, {k: ref[k] for k in names}, what,
                       rtol=1e-6, atol=1e-10)


def _call_backward(fn, dlogits, cache, what):
    """Call the student's backward on copies; a gradient put in at ``hs[lengths]`` (one step late) gets the reason
    added to NumPy's IndexError."""
    return call_padded(fn, (dlogits, cache), ("dlogits", "cache"), what, T=len(cache.rnn.hs))


def _reject_gradient_at_T(mine, dlogits, cache, ref, what):
    """Name the classic mistake: the gradient put in at step T instead of at each sequence's own last step."""
    T, B = cache.rnn.hs.shape[:2]
    at_T = many_to_one_backward(dlogits, cache._replace(lengths=np.full(B, T)))["W_hh"]
    mistake = (at_T, "the gradient entered the states at the last step T for every sequence; with padding it "
                     "belongs at step lengths[b] - 1 of sequence b (cache.lengths)")
    if isinstance(mine, dict) and "W_hh" in mine:
        name_mistake(mine["W_hh"], ref["W_hh"], [mistake], what, rtol=1e-5, atol=1e-8)


@exercise("ch06.many_to_one_backward", points=2,
          subjects=("rnncourse.numpy.many_to_one.many_to_one_backward",))
def check_many_to_one_backward(fn):
    """Write many_to_one_backward(dlogits, cache): dhs zero except at each sequence's last real step.

    Parameters
    ----------
    fn : callable
        The student's function, called as ``many_to_one_backward(dlogits, cache) -> grads``.
    """
    # By hand: dlogits = 0 gives zero gradients.
    rng = np.random.default_rng(0)
    dlogits, cache = _case(rng, 4, 3, 3, 4)
    ref = many_to_one_backward(np.zeros_like(dlogits), cache)
    zero = _call_backward(fn, np.zeros_like(dlogits), cache, "many_to_one_backward with dlogits = 0")
    _expect_grads(zero, ref, "the gradients of many_to_one_backward with dlogits = 0 (all 0)")
    # Edge and random sizes (every sequence of length T), plus T = B = 1 and chosen lengths: padded
    # sequences from length 1 to T, and one sequence shorter than T.
    cases = case_sizes(seed=0, letters="TBDH") + [
        {"T": 1, "B": 1, "D": 3, "H": 4},
        {"T": 6, "B": 5, "D": 3, "H": 4, "lengths": [6, 2, 3, 1, 4]},
        {"T": 3, "B": 1, "D": 3, "H": 4, "lengths": [2]},
    ]
    for sizes in cases:
        with in_case(sizes):
            lengths = sizes.get("lengths")
            dlogits, cache = _case(rng, sizes["T"], sizes["B"], sizes["D"], sizes["H"], lengths)
            what = "many_to_one_backward"
            ref = many_to_one_backward(dlogits, cache)
            mine = _call_backward(fn, dlogits, cache, what)
            if lengths is not None:
                _reject_gradient_at_T(mine, dlogits, cache, ref, what)
            _expect_grads(mine, ref, "the gradients of many_to_one_backward")
