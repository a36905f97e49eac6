"""Checkers of chapter 6: the reference solutions pass, planted mistakes fail with a specific message."""

import re

import numpy as np
import pytest
import torch

from rnncourse.exercises import run_check
from rnncourse.numpy.elman import rnn_backward
from rnncourse.numpy.many_to_one import many_to_one_backward
from rnncourse.numpy.output import affine_backward
from rnncourse.torch.seq2seq import greedy_decode


def test_reference_solutions_pass():
    assert run_check("ch06.greedy_decode", greedy_decode) == (True, "all checks passed (2 points)")
    assert run_check("ch06.many_to_one_backward", many_to_one_backward)[0]


# The book's own solutions pass every checker: tests/test_grading.py grades the chapters themselves.


def test_a_mistake_in_a_random_case_names_the_case():
    def off_for_one_sequence(dlogits, cache):         # right on the hand case (B = 3), wrong when B = 1
        grads = many_to_one_backward(dlogits, cache)
        if cache.rnn.hs.shape[1] == 1:
            grads["b_h"] = grads["b_h"] + 1.0
        return grads

    passed, message = run_check("ch06.many_to_one_backward", off_for_one_sequence)
    assert not passed and message.startswith("in the case T=3, B=1, D=2, H=2: the gradients of many_to_one_backward "
                                             "are wrong for b_h: "), message

    def at_most_six(step, h0, bos, eos, max_len, pad=0):      # right on the hand case (max_len = 5)
        return greedy_decode(step, h0, bos=bos, eos=eos, max_len=min(max_len, 6), pad=pad)

    passed, message = run_check("ch06.greedy_decode", at_most_six)
    assert not passed and message == ("in the case B=4, max_len=8, seed=2, eos_bias=0.0: greedy_decode on a random "
                                      "decoder should have shape (8, 4), but has shape (6, 4)"), message


def _greedy(feed_back=True, pad_after_eos=True, done_before_writing=False, update_state=True):
    def decode(step, h0, bos, eos, max_len, pad=0):
        tokens, h = torch.full((h0.shape[0],), bos), h0
        done = torch.zeros(h0.shape[0], dtype=torch.bool)
        out = []
        for _ in range(max_len):
            logits, h_new = step(tokens if feed_back else torch.full_like(tokens, bos), h)
            if update_state:                          # else every step starts from h0 again
                h = h_new
            tokens = logits.argmax(-1)
            if done_before_writing:                   # the hint's warning: <eos> itself becomes pad
                done |= tokens == eos
            out.append(torch.where(done, pad, tokens) if pad_after_eos else tokens)
            done |= tokens == eos
        return torch.stack(out)
    return decode


def test_greedy_without_early_stop_still_passes():
    assert run_check("ch06.greedy_decode", _greedy())[0]


def test_greedy_that_does_not_feed_back_fails():
    passed, message = run_check("ch06.greedy_decode", _greedy(feed_back=False))
    assert not passed and "feed back the argmax token" in message
    assert message.startswith("greedy_decode with next token = previous + 1, bos = 1, eos = 4: every step reads "
                              "bos"), message


def test_greedy_that_never_updates_the_state_is_told_so_not_to_feed_back_the_token():
    # It feeds the token back, so the old hint "feed back the argmax token" sent the student to the wrong line.
    passed, message = run_check("ch06.greedy_decode", _greedy(update_state=False))
    assert not passed and message == (
        "in the case B=1, max_len=5, seed=1, eos_bias=2.0: greedy_decode on a random decoder: every step starts "
        "from h0: pass the state each step returns to the next step (logits, h = step(tokens, h))"), message


def test_greedy_wrong_in_another_way_after_the_first_step_gets_a_hint_naming_token_and_state():
    def stale_for_the_second_sequence(step, h0, bos, eos, max_len, pad=0):
        """Right, except that sequence 1 starts every step from h0: no planted slip gives these tokens."""
        tokens, h = torch.full((h0.shape[0],), bos), h0
        out, done = [], torch.zeros(h0.shape[0], dtype=torch.bool)
        for _ in range(max_len):
            logits, h = step(tokens, h)
            h = h.clone()
            h[1:2] = h0[1:2]                          # (nothing where B = 1)
            tokens = logits.argmax(-1)
            out.append(torch.where(done, pad, tokens))
            done |= tokens == eos
        return torch.stack(out)

    passed, message = run_check("ch06.greedy_decode", stale_for_the_second_sequence)
    assert not passed and message.endswith(
        "; each step reads the argmax token of the step before and the state that step returned"), message
    assert "every step" not in message, message


def test_greedy_that_keeps_going_after_eos_fails():
    passed, message = run_check("ch06.greedy_decode", _greedy(pad_after_eos=False))
    assert not passed and "already produced <eos>" in message


def test_greedy_that_pads_the_eos_itself_fails_naming_that_mistake():
    passed, message = run_check("ch06.greedy_decode", _greedy(done_before_writing=True))
    assert not passed and message == (
        "greedy_decode with next token = previous + 1, bos = 1, eos = 4: 2 token(s) differ; the first at position "
        "(t=2, b=0) is 0, expected 4; the <eos> token (4) itself is kept: write the token first and mark sequence 0 "
        "done after it, so that only the positions after <eos> hold pad (0)"), message
    assert "feed back the argmax token" not in message


def test_greedy_returning_float_tokens_fails():
    # argmax gives integer ids; an answer that stores them in a float tensor is named, not compared
    passed, message = run_check("ch06.greedy_decode", lambda *a, **k: greedy_decode(*a, **k).double())
    assert not passed and message == ("greedy_decode with next token = previous + 1, bos = 1, eos = 4 should hold "
                                      "integer token ids (torch.long or another integer dtype), but has dtype "
                                      "float64"), message


def test_greedy_returning_a_list_fails():
    passed, message = run_check("ch06.greedy_decode", lambda *a, **k: [1, 2])
    assert not passed and message == ("greedy_decode with next token = previous + 1, bos = 1, eos = 4 should return a "
                                      "tensor (or array) of integer token ids of shape (max_len, B) = (5, 2), but "
                                      "returned list of length 2")


@pytest.mark.parametrize("convert", [lambda t: t.numpy(), lambda t: t.int()], ids=["numpy int64", "torch int32"])
def test_greedy_returning_integer_ids_of_another_kind_passes(convert):
    """The messages above ask for integer ids, and that is all the checker asks: it is no stricter."""
    assert run_check("ch06.greedy_decode", lambda *a, **k: convert(greedy_decode(*a, **k)))[0]


def test_backward_with_gradient_at_T_fails_with_the_reason():
    def at_T(dlogits, cache):
        g = affine_backward(dlogits, cache.affine)
        dhs = np.zeros_like(cache.rnn.hs)
        dhs[-1] = g["hs"]
        r = rnn_backward(dhs, cache.rnn)
        return {"W_xh": r["W_xh"], "W_hh": r["W_hh"], "b_h": r["b_h"], "W_hy": g["W_hy"], "b_y": g["b_y"]}

    passed, message = run_check("ch06.many_to_one_backward", at_T)
    assert not passed and "lengths[b] - 1" in message


def test_backward_missing_a_gradient_or_wrong_fails():
    def no_bias(dlogits, cache):
        grads = many_to_one_backward(dlogits, cache)
        del grads["b_y"]
        return grads

    passed, message = run_check("ch06.many_to_one_backward", no_bias)
    assert not passed and "(missing ['b_y'])" in message, message

    def as_tuple(dlogits, cache):                 # the gradients without their names
        return tuple(many_to_one_backward(dlogits, cache).values())

    passed, message = run_check("ch06.many_to_one_backward", as_tuple)
    assert not passed
    assert message == ("the gradients of many_to_one_backward with dlogits = 0 (all 0) should be a dict with keys "
                       "['W_hh', 'W_hy', 'W_xh', 'b_h', 'b_y'], but is tuple")

    def forgot_recurrence(dlogits, cache):
        grads = many_to_one_backward(dlogits, cache)
        grads["W_hh"] = np.zeros_like(grads["W_hh"])
        return grads

    passed, message = run_check("ch06.many_to_one_backward", forgot_recurrence)
    assert not passed and "are wrong for W_hh: " in message, message


def test_greedy_that_rewrites_the_decoders_weights_fails():
    """The step is a closure: an answer that zeroes its read-out and favours <eos> must not change the reference."""
    def rigged(step, h0, bos, eos, max_len, pad=0):
        env = dict(zip(step.__code__.co_freevars, (c.cell_contents for c in step.__closure__ or ())))
        if "W_hy" in env:
            env["W_hy"].zero_()
            env["b_y"].zero_()
            env["b_y"][eos] = 1.0
        return greedy_decode(step, h0, bos=bos, eos=eos, max_len=max_len, pad=pad)

    passed, message = run_check("ch06.greedy_decode", rigged)
    assert not passed and message.startswith("in the case B=1, max_len=5, seed=1, eos_bias=2.0: "
                                             "greedy_decode on a random decoder:"), message


def test_greedy_that_writes_into_h0_fails_naming_it():
    """A decoder that keeps its state in the caller's h0 decodes right, but changes the caller's tensor."""
    def state_in_h0(step, h0, bos, eos, max_len, pad=0):
        h, out = h0, torch.full((max_len, h0.shape[0]), pad)
        tokens, done = torch.full((h0.shape[0],), bos), torch.zeros(h0.shape[0], dtype=torch.bool)
        for t in range(max_len):
            logits, h_new = step(tokens, h)
            h.copy_(h_new)
            tokens = logits.argmax(-1)
            out[t] = torch.where(done, pad, tokens)
            done |= tokens == eos
        return out

    passed, message = run_check("ch06.greedy_decode", state_in_h0)
    assert not passed and message == ("in the case B=5, max_len=1, seed=0, eos_bias=0.0: greedy_decode on a random "
                                      "decoder changed its argument h0 in place; compute new arrays instead"), message


def test_backward_that_writes_into_the_cache_fails_naming_the_array():
    def writes_hs(dlogits, cache):
        grads = many_to_one_backward(dlogits, cache)
        cache.rnn.hs[:] = 0
        return grads

    passed, message = run_check("ch06.many_to_one_backward", writes_hs)
    assert not passed and "changed its argument cache.rnn.hs in place" in message, message


def _greedy_from(dtype):
    """The reference decoder, except that the first tokens are created with ``dtype`` (the statement says long)."""
    def decode(step, h0, bos, eos, max_len, pad=0):
        tokens, h = torch.full((h0.shape[0],), bos, dtype=dtype), h0
        done = torch.zeros(h0.shape[0], dtype=torch.bool)
        out = torch.full((max_len, h0.shape[0]), pad, dtype=torch.long)
        for t in range(max_len):
            logits, h = step(tokens, h)
            tokens = logits.argmax(-1)
            out[t] = torch.where(done, pad, tokens)
            done |= tokens == eos
        return out
    return decode


@pytest.mark.parametrize("dtype", [torch.int32, torch.float32])
def test_greedy_with_tokens_that_are_not_long_is_told_to_use_long(dtype):
    # int32 read "raised RuntimeError: one_hot is only applicable to index tensor of type LongTensor." (a function
    # the student never called), float32 "...; convert it with step(tokens, h): tokens.long()"
    passed, message = run_check("ch06.greedy_decode", _greedy_from(dtype))
    assert not passed and message == (
        "greedy_decode on a step that always predicts token + 1 raised TypeError: step(tokens, h): tokens should be "
        f"a long tensor (torch.long), but has dtype {dtype}; create it with dtype=torch.long or convert it with "
        "tokens.long()"), message


# ----------------------------------------------------------------------------- near misses

# greedy_decode has none: its tokens are integers, compared exactly.

@pytest.mark.parametrize("name", ["W_xh", "W_hh", "b_h", "W_hy", "b_y"])
def test_a_gradient_off_by_a_hundred_times_the_tolerance_fails_naming_it(name):
    def one_gradient_off(dlogits, cache):       # 1e-4 relative; the checker accepts rtol 1e-6
        grads = many_to_one_backward(dlogits, cache)
        return {**grads, name: grads[name] * (1 + 1e-4)}

    passed, message = run_check("ch06.many_to_one_backward", one_gradient_off)
    assert not passed
    assert re.match(rf"in the case [^:]*: the gradients of many_to_one_backward are wrong for {name}: the gradients of "
                    rf"many_to_one_backward\['{name}'\]: \d+ of \d+ entries differ from the "
                    rf"reference", message), message


def test_every_wrong_gradient_is_named_not_only_the_first():
    # the hand-rolled comparison stopped at the first wrong gradient (dW_hy) and never mentioned dW_hh
    def two_off(dlogits, cache):
        grads = many_to_one_backward(dlogits, cache)
        return {**grads, "W_hy": grads["W_hy"] + 1.0, "W_hh": grads["W_hh"] + 1.0}

    passed, message = run_check("ch06.many_to_one_backward", two_off)
    assert not passed
    assert message.startswith("the gradients of many_to_one_backward with dlogits = 0 (all 0) are wrong for W_hh, "
                              "W_hy: "), message
    assert "['W_hh']: 16 of 16 entries differ" in message and "['W_hy']: 12 of 12 entries differ" in message


def test_extra_gradients_are_ignored_and_x_is_compared_where_given():
    def with_h0(dlogits, cache):                 # rnn_backward's h0 comes along: not asked for, not compared
        return {**many_to_one_backward(dlogits, cache), "h0": None}

    assert run_check("ch06.many_to_one_backward", with_h0)[0]

    def wrong_x(dlogits, cache):
        grads = many_to_one_backward(dlogits, cache)
        return {**grads, "x": grads["x"] + 1.0}

    passed, message = run_check("ch06.many_to_one_backward", wrong_x)
    assert not passed and "are wrong for x: " in message, message


# ----------------------------------------------------------------------------- bos, eos and pad are arguments

def _decode_loop(step, h0, first, eos, max_len, pad, stop_at_any_eos=False):
    """Greedy decoding from the token ``first``; with ``stop_at_any_eos``, it stops when any sequence is done."""
    tokens, h = torch.full((h0.shape[0],), first), h0
    done = torch.zeros(h0.shape[0], dtype=torch.bool)
    out = torch.full((max_len, h0.shape[0]), pad)
    for t in range(max_len):
        logits, h = step(tokens, h)
        tokens = logits.argmax(-1)
        out[t] = torch.where(done, pad, tokens)
        done |= tokens == eos
        if stop_at_any_eos and done.any():
            break
    return out


def _starts_from_one(step, h0, bos, eos, max_len, pad=0):
    """Right, except that it starts from token 1 whatever bos is."""
    return _decode_loop(step, h0, 1, eos, max_len, pad)


def _pads_with_zero(step, h0, bos, eos, max_len, pad=0):
    """Right, except that it writes 0 after <eos> whatever pad is."""
    return greedy_decode(step, h0, bos=bos, eos=eos, max_len=max_len, pad=0)


def test_greedy_that_ignores_bos_fails_at_the_first_step():
    # every case used bos = 1 and pad = 0, so an answer that ignored either argument got full marks
    passed, message = run_check("ch06.greedy_decode", _starts_from_one)
    assert not passed and message == (
        "greedy_decode with next token = previous + 1, bos = 3, eos = 5, pad = 2: 8 token(s) differ; the first at "
        "position (t=0, b=0) is 2, expected 4; the first step reads bos (3) and h0"), message


def test_greedy_that_ignores_pad_fails():
    passed, message = run_check("ch06.greedy_decode", _pads_with_zero)
    assert not passed and message == (
        "greedy_decode with next token = previous + 1, bos = 3, eos = 5, pad = 2: 6 token(s) differ; the first at "
        "position (t=2, b=0) is 0, expected 2; sequence 0 already produced <eos> (5), so every later position should "
        "hold pad (2)"), message


def test_a_random_case_also_decodes_with_other_bos_eos_and_pad():
    def wrong_only_for_pad_5(step, h0, bos, eos, max_len, pad=0):
        return greedy_decode(step, h0, bos=bos, eos=eos, max_len=max_len, pad=0 if pad == 5 else pad)

    passed, message = run_check("ch06.greedy_decode", wrong_only_for_pad_5)
    assert not passed and message.startswith(
        "in the case B=4, max_len=8, seed=6, eos_bias=1.5, bos=3, eos=2, pad=5: greedy_decode on a random decoder: "
        ), message

    def wrong_only_for_bos_3(step, h0, bos, eos, max_len, pad=0):
        return greedy_decode(step, h0, bos=1 if (bos, pad) == (3, 5) else bos, eos=eos, max_len=max_len, pad=pad)

    passed, message = run_check("ch06.greedy_decode", wrong_only_for_bos_3)
    assert not passed and message.startswith(
        "in the case B=4, max_len=8, seed=6, eos_bias=1.5, bos=3, eos=2, pad=5: greedy_decode on a random decoder: "
        ), message
    assert message.endswith("; the first step reads bos (3) and h0"), message


def test_greedy_that_feeds_pad_back_for_finished_sequences_passes():
    """pad is a token of the vocabulary in every case, so the step accepts it as an input."""
    def feeds_pad_back(step, h0, bos, eos, max_len, pad=0):
        tokens, h = torch.full((h0.shape[0],), bos), h0
        done = torch.zeros(h0.shape[0], dtype=torch.bool)
        out = []
        for _ in range(max_len):
            logits, h = step(tokens, h)
            tokens = torch.where(done, pad, logits.argmax(-1))
            out.append(tokens)
            done |= tokens == eos
        return torch.stack(out)

    assert run_check("ch06.greedy_decode", feeds_pad_back) == (True, "all checks passed (2 points)")


def test_greedy_that_calls_the_step_with_no_sequence_left_is_told_the_step_got_0_tokens():
    """Feeding only the unfinished rows is allowed; calling the step once every row has ended is not."""
    def feeds_unfinished_rows_only(step, h0, bos, eos, max_len, pad=0):
        B = h0.shape[0]
        tokens, h = torch.full((B,), bos, dtype=torch.long), h0.clone()
        out = torch.full((max_len, B), pad, dtype=torch.long)
        alive = torch.ones(B, dtype=torch.bool)
        for t in range(max_len):                            # no check that some row is still alive
            idx = alive.nonzero().squeeze(1)
            logits, h_new = step(tokens[idx], h[idx])
            nxt = logits.argmax(dim=-1)
            h, tokens = h.clone(), tokens.clone()
            h[idx], tokens[idx], out[t, idx] = h_new, nxt, nxt
            alive[idx] = nxt != eos
        return out

    passed, message = run_check("ch06.greedy_decode", feeds_unfinished_rows_only)
    assert not passed and "tokens should hold one token per sequence of the batch" in message, message
    assert "but has 0" in message, message


def test_greedy_that_stops_when_any_sequence_is_done_is_told_to_wait_for_all():
    # was "each step reads the argmax token of the step before and the state that step returned", which it did
    def stops_at_the_first_eos(step, h0, bos, eos, max_len, pad=0):
        return _decode_loop(step, h0, bos, eos, max_len, pad, stop_at_any_eos=True)

    passed, message = run_check("ch06.greedy_decode", stops_at_the_first_eos)
    assert not passed
    assert re.fullmatch(r"in the case [^:]*: greedy_decode on a random decoder: \d+ token\(s\) differ; the first at "
                        r"position \(t=\d+, b=(\d+)\) is (\d+), expected \d+; sequence (\d+) has not produced <eos> "
                        r"\(2\) yet, so it is still being decoded: stop only when every sequence is done",
                        message), message


def test_greedy_one_step_short_is_not_told_to_wait_for_every_sequence():
    # Sequence 0 ended at step 1; a loop over range(max_len - 1) leaves the last row as pad, two steps later:
    # that is not stopping at the first <eos>.
    from rnncourse.exercises.ch06 import _compare_tokens
    from rnncourse.exercises.registry import ExerciseFailure

    ref = torch.tensor([[3, 4], [2, 5], [0, 3], [0, 1]])
    mine = ref.clone()
    mine[-1] = 0
    with pytest.raises(ExerciseFailure) as failure:
        _compare_tokens(mine.numpy(), ref, "greedy_decode", bos=1, eos=2, pad=0, mistakes=[])
    assert "stop only when every sequence is done" not in str(failure.value), failure.value
    stopped = ref.clone()
    stopped[2:, 1] = 0                                      # stopped right after sequence 0's <eos>
    with pytest.raises(ExerciseFailure, match="stop only when every sequence is done"):
        _compare_tokens(stopped.numpy(), ref, "greedy_decode", bos=1, eos=2, pad=0, mistakes=[])


# ----------------------------------------------------------------------------- errors raised in the answer

def test_backward_with_the_gradient_one_step_late_gets_the_reason_not_only_numpys_index_error():
    def one_step_late(dlogits, cache):
        g = affine_backward(dlogits, cache.affine)
        dhs = np.zeros_like(cache.rnn.hs)
        dhs[cache.lengths, np.arange(len(cache.lengths))] = g["hs"]       # dhs[L]: past the end where L = T
        r = rnn_backward(dhs, cache.rnn)
        return {"W_xh": r["W_xh"], "W_hh": r["W_hh"], "b_h": r["b_h"], "W_hy": g["W_hy"], "b_y": g["b_y"]}

    passed, message = run_check("ch06.many_to_one_backward", one_step_late)
    assert not passed and message == (
        "many_to_one_backward with dlogits = 0 raised IndexError: index 4 is out of bounds for axis 0 with size 4; a "
        "sequence of length L ends at hs[L - 1]; hs[L] is one step too late"), message


# ----------------------------------------------------------------------------- float64 in, float64 out

def test_gradients_cast_to_float32_at_the_end_fail_by_their_dtype():
    def in_float32(dlogits, cache):
        return {k: v.astype(np.float32) for k, v in many_to_one_backward(dlogits, cache).items()}

    passed, message = run_check("ch06.many_to_one_backward", in_float32)
    assert not passed
    assert "['W_xh'] should have dtype float64, the dtype of the inputs, but has dtype float32" in message, message
