"""rnncourse.validation's behaviour as seen through rnncourse.numpy's public functions."""

import re

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from rnncourse.data.grammar import encode as encode_sentences
from rnncourse.data.seq_tasks import number_to_words
from rnncourse.numpy import (
    affine_forward, init_rnn_params, rnn_backward, rnn_forward, rnn_step_forward, softmax_cross_entropy,
)
from rnncourse.numpy.jordan import jordan_loss
from rnncourse.numpy.many_to_one import many_to_one_forward
from rnncourse.numpy.model import init_model_params, model_loss
from rnncourse.numpy.padding import reverse_padded


def make(T=3, B=4, D=2, H=16, dtype=np.float64):
    rng = np.random.default_rng(0)
    return rng.normal(size=(T, B, D)).astype(dtype), init_rnn_params(D, H, rng=rng, dtype=dtype)


def test_h0_without_batch_axis():
    x, p = make()
    with pytest.raises(ValueError, match=r"h0 should have 2 dimensions with shape \(B, H\) = \(4, 16\), "
                                         r"but has 1 dimensions with shape \(16,\).*add a batch axis"):
        rnn_forward(x, np.zeros(16), **p)


def test_h0_with_wrong_hidden_size_names_W_hh():
    x, p = make()
    with pytest.raises(ValueError, match=r"h0 should have shape \(B, H\) = \(4, 16\), but has shape \(4, 8\) "
                                         r"\(axis 1, H, is 8 instead of 16\); B comes from x and H from W_hh"):
        rnn_forward(x, np.zeros((4, 8)), **p)


def test_batch_first_or_unbatched_x_gets_the_time_major_hint():
    x, p = make()
    with pytest.raises(ValueError, match=r"x should have 3 dimensions.*x is time-major \(T, B, D\); if your data "
                                         r"is \(B, T, D\), pass x.transpose\(1, 0, 2\)"):
        rnn_forward(x[:, 0], None, **p)
    with pytest.raises(ValueError, match=r"W_xh should have shape \(H, D\) = \(16, 4\).*time-major"):
        rnn_forward(np.zeros((3, 2, 4)), None, **p)            # D axis swapped with B



BATCH_MAJOR_HINT = (r"h0's first axis is 4, the size of x's first axis: if x is batch-major \(B, T, D\), make it "
                    r"time-major \(T, B, D\) with x\.transpose\(1, 0, 2\)$")
NUM_LAYERS_HINT = (r"h0 looks like the state of torch\.nn\.RNN \(or LSTM, GRU\), which puts a num_layers axis first, "
                   r"\(num_layers, B, H\); this layer takes one layer's state \(B, H\): pass h0\[0\]$")


def test_an_h0_that_fits_batch_major_x_or_torch_nn_rnn_gets_that_hint_not_only_the_blame():
    x, p = make(T=3, B=4)                               # x (T, B, D) = (3, 4, 2), H = 16
    batch_major = x.transpose(1, 0, 2)                  # (4, 3, 2): read as T = 4, B = 3
    with pytest.raises(ValueError, match=r"^h0 should have shape \(B, H\) = \(3, 16\), but has shape \(4, 16\) .*; "
                                         r"B comes from x and H from W_hh; " + BATCH_MAJOR_HINT):
        rnn_forward(batch_major, np.zeros((4, 16)), **p)
    params = init_model_params(2, 16, 1, rng=np.random.default_rng(0))
    with pytest.raises(ValueError, match=r"^h0 should have shape .*" + BATCH_MAJOR_HINT):
        model_loss(params, batch_major, np.zeros((4, 3, 1)), h0=np.zeros((4, 16)), loss="mse")
    with pytest.raises(ValueError, match=r"^h0 should have 2 dimensions .* but has 3 dimensions with shape "
                                         r"\(1, 4, 16\); B comes from x and H from W_hh; " + NUM_LAYERS_HINT):
        rnn_forward(x, np.zeros((1, 4, 16)), **p)
    with pytest.raises(ValueError, match=r"\(axis 0, B, is 2 instead of 4\); B comes from x and H from W_hh$"):
        rnn_forward(x, np.zeros((2, 16)), **p)          # a shape that suggests nothing gets no guess

def test_weight_shapes():
    x, p = make()
    with pytest.raises(ValueError, match="W_hh should have shape .* so it is square"):
        rnn_forward(x, None, p["W_xh"], np.zeros((16, 15)), p["b_h"])
    with pytest.raises(ValueError, match=r"b_h should have 1 dimensions with shape \(H,\) = \(16,\)"):
        rnn_forward(x, None, p["W_xh"], p["W_hh"], p["b_h"][None])
    with pytest.raises(ValueError, match=r"W_hy should have shape \(O, H\) = \(O, 16\)"):
        affine_forward(np.zeros((3, 4, 16)), np.zeros((2, 8)), np.zeros(2))
    with pytest.raises(ValueError, match=r"hs should have shape \(T, B, H\) \(every step\) or \(B, H\)"):
        affine_forward(np.zeros(16), np.zeros((2, 16)), np.zeros(2))


def test_types_and_dtypes():
    x, p = make()
    with pytest.raises(TypeError, match="x should hold floating-point numbers.*astype"):
        rnn_forward(x.astype(np.int64), None, **p)
    half = {name: a.astype(np.float16) for name, a in p.items()}   # the NumPy code computes in float32 or float64
    with pytest.raises(TypeError, match=r"x should hold floating-point numbers \(float32 or float64\), but has dtype "
                                        r"float16"):
        rnn_forward(x.astype(np.float16), None, **half)
    with pytest.raises(TypeError, match=r"x should be a numpy.ndarray, but is torch.Tensor.*\.numpy\(\)"):
        rnn_forward(torch.from_numpy(x), None, **p)
    with pytest.raises(TypeError, match="x should be a numpy.ndarray.*np.asarray"):
        rnn_forward(x.tolist(), None, **p)
    with pytest.raises(TypeError, match="all arrays should share one dtype, but x is float32"):
        rnn_forward(x.astype(np.float32), None, **p)
    x32, p32 = make(dtype=np.float32)
    with pytest.raises(TypeError, match="share one dtype"):
        rnn_forward(x32, np.zeros((4, 16)), **p32)            # float64 h0 with float32 rest
    with pytest.raises(TypeError, match="share one dtype"):
        rnn_step_forward(x32[0], np.zeros((4, 16), np.float32), p32["W_xh"], p["W_hh"].astype(np.float64),
                         p32["b_h"])
    hs, cache = rnn_forward(x32, None, **p32)
    with pytest.raises(TypeError, match="share one dtype"):
        rnn_backward(np.ones(hs.shape), cache)


def test_values():
    x, p = make()
    x[1, 2, 0] = np.nan
    with pytest.raises(ValueError, match="x contains NaN or infinity"):
        rnn_forward(x, None, **p)
    x, p = make()
    with pytest.raises(ValueError, match="nonlinearity should be one of 'tanh', 'relu', but is 'sigmoid'"):
        rnn_forward(x, None, **p, nonlinearity="sigmoid")
    with pytest.raises(ValueError, match="at least one time step"):
        rnn_forward(x[:0], None, **p)
    with pytest.raises(ValueError, match=r"dhs should have shape \(T, B, H\) = \(3, 4, 16\)"):
        rnn_backward(np.ones((3, 4, 15)), rnn_forward(x, None, **p)[1])
    with pytest.raises(ValueError, match=r"targets should hold indices in \[0, 5\), but holds values from -1"):
        softmax_cross_entropy(np.zeros((2, 5)), np.array([-1, 0]))
    with pytest.raises(ValueError, match="init should be one of"):
        init_rnn_params(2, 3, rng=np.random.default_rng(0), init="zeros")
    with pytest.raises(TypeError, match="rng should be a numpy.random.Generator"):
        init_rnn_params(2, 3, rng=0)


@pytest.mark.parametrize("call", [
    lambda params: model_loss(params, np.zeros((2, 1, 3)), np.zeros((2, 1), dtype=int)),
    lambda params: many_to_one_forward(np.zeros((2, 1, 3)), params),
    lambda params: jordan_loss(params, np.zeros((2, 1, 3)), np.zeros((2, 1, 2))),
])
def test_a_parameter_dict_of_the_wrong_type_or_lacking_keys(call):
    with pytest.raises(TypeError, match=r"params should be a dict with the keys W_xh, .*, but is tuple; create it with"):
        call(tuple(range(5)))
    with pytest.raises(ValueError, match=r"params should be a dict with the keys W_xh, .*, but lacks b_h, W_hy, b_y; "
                                         r"create it with"):
        call({"W_xh": np.zeros((4, 3)), "W_hh": np.zeros((4, 4)), "W_yh": np.zeros((4, 2))})


def test_padding_and_small_helpers_say_type_or_value():
    with pytest.raises(TypeError, match="x should be a numpy.ndarray, but is list"):
        reverse_padded([[1, 2]], np.array([1, 1]))
    with pytest.raises(ValueError, match=r"x should have shape \(T, B\) or \(T, B, ...\), but has shape \(3,\)"):
        reverse_padded(np.zeros(3), np.array([1]))
    with pytest.raises(TypeError, match="n should be an integer, but is float"):
        number_to_words(3.0)
    with pytest.raises(ValueError, match="n should be an integer in 0..999, but is 1000"):
        number_to_words(1000)
    with pytest.raises(ValueError, match="n should be an integer >= 0, but is -1"):
        number_to_words(-1)
    assert number_to_words(np.int64(347)) == ["three", "hundred", "forty", "seven"]
    with pytest.raises(TypeError, match="text should be a list of sentences"):
        encode_sentences("the film was bad")
    with pytest.raises(ValueError, match="text should hold at least one sentence, but is empty"):
        encode_sentences([])


dims = st.integers(min_value=1, max_value=6)


@settings(max_examples=40, deadline=None)
@given(T=dims, B=dims, D=dims, H=dims, with_h0=st.booleans())
def test_forward_backward_shapes(T, B, D, H, with_h0):
    rng = np.random.default_rng(T * 1000 + B * 100 + D * 10 + H)
    x = rng.normal(size=(T, B, D))
    p = init_rnn_params(D, H, rng=rng)
    h0 = rng.normal(size=(B, H)) if with_h0 else None
    hs, cache = rnn_forward(x, h0, **p)
    assert hs.shape == (T, B, H)
    grads = rnn_backward(np.ones_like(hs), cache)
    assert grads["x"].shape == x.shape and grads["h0"].shape == (B, H)
    for name in ("W_xh", "W_hh", "b_h"):
        assert grads[name].shape == p[name].shape


@settings(max_examples=40, deadline=None)
@given(T=dims, B=dims, D=dims, H=dims, h0_shape=st.lists(st.integers(1, 7), min_size=0, max_size=3))
def test_wrong_h0_shape_always_names_h0(T, B, D, H, h0_shape):
    if tuple(h0_shape) == (B, H):
        h0_shape = [B, H + 1]
    rng = np.random.default_rng(0)
    p = init_rnn_params(D, H, rng=rng)
    with pytest.raises(ValueError, match=r"^h0 should have .*\(B, H\) = \(" + f"{B}, {H}" + r"\)"):
        rnn_forward(rng.normal(size=(T, B, D)), np.zeros(h0_shape), **p)


def test_an_empty_batch_and_a_mismatched_input_size_are_named():
    from rnncourse.numpy.gated import lstm_forward
    from rnncourse.numpy.jordan import init_jordan_params, jordan_forward
    from rnncourse.numpy.output import affine_forward

    rng = np.random.default_rng(0)
    p = init_rnn_params(3, 5, rng=rng)
    with pytest.raises(ValueError, match=r"x should hold at least one time step and one sequence, but has shape \(4, 0, 3\)"):
        rnn_forward(np.zeros((4, 0, 3)), None, **p)
    with pytest.raises(ValueError, match=r"W_xh should have shape .*D = 2 is the size of the last axis of x"):
        lstm_forward(np.zeros((4, 3, 2)), None, None, np.zeros((20, 3)), np.zeros((20, 5)), np.zeros(20))
    with pytest.raises(ValueError, match=r"W_xh should have shape .*D = 2 is the size of the last axis of x"):
        jordan_forward(np.zeros((4, 3, 2)), None, **init_jordan_params(3, 5, 2, rng=rng))
    with pytest.raises(ValueError, match=r"W_hy should have shape .*H = 4 is the size of the last axis of hs"):
        affine_forward(np.zeros((4, 3, 4)), np.zeros((2, 5)), np.zeros(2))
    with pytest.raises(TypeError, match=r"^h0 should be a numpy.ndarray, but is builtins.list; wrap it with np.asarray"):
        rnn_forward(np.zeros((4, 3, 3)), [[0.0] * 5] * 3, **p)
    from rnncourse.numpy.many_to_one import last_states

    with pytest.raises(TypeError, match=r"^lengths should be a numpy.ndarray, but is builtins.list; wrap it"):
        last_states(np.zeros((4, 3, 5)), [4, 4, 4])       # None is taken: every sequence has length T


def test_a_float_dtype_argument_refuses_none_and_names_that_are_not_dtypes():
    from rnncourse.data.adding import adding_problem
    from rnncourse.validation import check_float_dtype

    assert check_float_dtype("float32") == np.float32
    for wrong, shown in ((None, "None"), ("foo", "'foo'"), (np.int64, "int64")):
        with pytest.raises(TypeError, match=rf"^dtype should be numpy.float32 or numpy.float64, but is {shown}$"):
            check_float_dtype(wrong)
    with pytest.raises(TypeError, match="dtype should be numpy.float32 or numpy.float64, but is None"):
        adding_problem(4, 10, rng=np.random.default_rng(0), dtype=None)   # it was float64 without a word


def _forward_pairs():
    """(backward, its dout, the (out, cache) pair of its forward, the cache's class and forward's name) per layer."""
    from rnncourse.numpy import bidirectional, charlm, embedding, gated, jordan, many_to_one, output, stacked

    rng = np.random.default_rng(0)
    T, B, D, H, O, V = 3, 2, 3, 4, 2, 5
    x, h, ids = rng.normal(size=(T, B, D)), np.zeros((B, H)), rng.integers(0, V, (T, B))
    w = lambda *shape: rng.normal(size=shape)                                   # noqa: E731
    layer = lambda s, d: {f"W_xh{s}": w(H, d), f"W_hh{s}": w(H, H), f"b_h{s}": w(H)}  # noqa: E731
    lstm = {"W_xh": w(4 * H, D), "W_hh": w(4 * H, H), "b_h": w(4 * H)}
    gru = {"W_xh": w(3 * H, D), "W_hh": w(3 * H, H), "b_xh": w(3 * H), "b_hh": w(3 * H)}
    jp = jordan.init_jordan_params(D, H, O, rng=rng)
    mp = {"W_xh": w(H, D), "W_hh": w(H, H), "b_h": w(H), "W_hy": w(O, H), "b_y": w(O)}
    cp = charlm.init_charlm(V, H, rng=rng, dtype=np.float64)
    return [
        (lambda d, c: gated.lstm_step_backward((d, None), c), np.ones((B, H)),
         gated.lstm_step_forward(x[0], h, h, **lstm), "LSTMStepCache", "lstm_step_forward"),
        (gated.gru_step_backward, np.ones((B, H)), gated.gru_step_forward(x[0], h, **gru), "GRUStepCache",
         "gru_step_forward"),
        (lambda d, c: jordan.jordan_step_backward((None, d), c), np.ones((B, O)),
         jordan.jordan_step_forward(x[0], np.zeros((B, O)), **jp), "JordanStepCache", "jordan_step_forward"),
        (jordan.jordan_backward, np.ones((T, B, O)), jordan.jordan_forward(x, None, **jp), "JordanCache",
         "jordan_forward"),
        (many_to_one.many_to_one_backward, np.ones((B, O)), many_to_one.many_to_one_forward(x, mp),
         "ManyToOneCache", "many_to_one_forward"),
        (bidirectional.birnn_backward, np.ones((T, B, 2 * H)),
         bidirectional.birnn_forward(x, {**layer("_l0", D), **layer("_l0_reverse", D)}), "BiRNNCache",
         "birnn_forward"),
        (charlm.charlm_backward, np.ones((T, B, V)), charlm.charlm_forward(cp, ids), "CharLMCache", "charlm_forward"),
        (stacked.stacked_rnn_backward, np.ones((T, B, H)),
         stacked.stacked_rnn_forward(x, None, {**layer("_l0", D), **layer("_l1", H)}), "StackedCache",
         "stacked_rnn_forward"),
        (embedding.embedding_backward, np.ones((T, B, D)), embedding.embedding_forward(ids, w(V, D)),
         "EmbeddingCache", "embedding_forward"),
        (output.affine_backward, np.ones((T, B, O)), output.affine_forward(w(T, B, H), mp["W_hy"], mp["b_y"]),
         "AffineCache", "affine_forward"),
    ]


@pytest.mark.parametrize("case", range(len(_forward_pairs())))
def test_every_backward_names_the_cache_it_expected(case):
    backward, dout, pair, kind, forward = _forward_pairs()[case]
    backward(dout, pair[1])                                          # the cache itself works
    with pytest.raises(TypeError, match=rf"^cache should be the {kind} returned by {forward}, but is a tuple of 2 "
                                        rf"values(, not \d|, the whole pair \(\w+, cache\) it returned)?: pass the cache that "
                                        rf"{forward} returned"):
        backward(dout, pair)                                         # the whole (out, cache) pair
    with pytest.raises(TypeError, match=rf"^cache should be the {kind} returned by {forward}, but is None"):
        backward(dout, None)


def test_birnn_backward_refuses_a_float32_dout_like_the_other_backwards():
    backward, dout, (_, cache), _, _ = _forward_pairs()[5]
    with pytest.raises(TypeError, match=r"^all arrays should share one dtype, but dout is float32, out is float64"):
        backward(dout.astype(np.float32), cache)


def _same(a, b):
    """Equal values, dtypes and structure, for arrays nested in tuples, lists and dicts."""
    if isinstance(a, np.ndarray):
        return a.dtype == b.dtype and np.array_equal(a, b)
    if isinstance(a, dict):
        return a.keys() == b.keys() and all(_same(a[k], b[k]) for k in a)
    if isinstance(a, (tuple, list)):
        return len(a) == len(b) and all(_same(u, v) for u, v in zip(a, b))
    return a == b


def _backward_calls():
    """(backward, its arguments) for every backward pass, with gradients reaching the final states where it takes any."""
    from rnncourse.numpy import charlm, gated, model_backward, model_forward, rnn_step_backward, stacked

    rng = np.random.default_rng(1)
    T, B, D, H, O = 3, 2, 3, 4, 2
    x, h0, c0 = rng.normal(size=(T, B, D)), rng.normal(size=(B, H)), rng.normal(size=(B, H))
    w = lambda *shape: rng.normal(size=shape)                                   # noqa: E731
    p = {"W_xh": w(H, D), "W_hh": w(H, H), "b_h": w(H)}
    calls = [(backward, (dout, pair[1])) for backward, dout, pair, _, _ in _forward_pairs()]
    sp = {"W_xh_l0": w(H, D), "W_hh_l0": w(H, H), "b_h_l0": w(H), "W_xh_l1": w(H, H), "W_hh_l1": w(H, H),
          "b_h_l1": w(H)}
    mp = {**p, "W_hy": w(O, H), "b_y": w(O)}
    return calls + [
        (rnn_backward, (w(T, B, H), rnn_forward(x, h0, **p)[1], w(B, H))),
        (rnn_step_backward, (w(B, H), rnn_step_forward(x[0], h0, **p)[1])),
        (gated.lstm_backward, (w(T, B, H), gated.lstm_forward(x, h0, c0, w(4 * H, D), w(4 * H, H), w(4 * H))[1],
                               w(B, H), w(B, H))),
        (gated.lstm_step_backward,
         ((w(B, H), w(B, H)), gated.lstm_step_forward(x[0], h0, c0, w(4 * H, D), w(4 * H, H), w(4 * H))[1])),
        (gated.gru_backward, (w(T, B, H), gated.gru_forward(x, h0, w(3 * H, D), w(3 * H, H), w(3 * H), w(3 * H))[1],
                              w(B, H))),
        (stacked.stacked_rnn_backward, (w(T, B, H), stacked.stacked_rnn_forward(x, w(2, B, H), sp)[1], w(2, B, H))),
        (model_backward, (w(T, B, O), model_forward(mp, x, h0)[1])),
        (charlm.charlm_backward, (w(T, B, 5), charlm.charlm_forward(charlm.init_charlm(5, H, rng=rng, dtype=np.float64),
                                                                    rng.integers(0, 5, (T, B)), h0)[1], w(B, H))),
    ]


@pytest.mark.parametrize("case", range(len(_backward_calls())))
def test_backward_passes_change_neither_their_arguments_nor_the_cache(case):
    import copy

    backward, args = _backward_calls()[case]
    before = copy.deepcopy(args)
    first = backward(*args)
    assert _same(args, before), "the backward pass changed an argument or the cache"
    assert _same(backward(*args), first), "a second backward pass on the same cache gives other gradients"


@pytest.mark.parametrize("flag", ["no", "False", 0, 1.0, None])
def test_many_to_one_is_true_or_false_not_any_truthy_value(flag):
    from rnncourse.numpy.model import model_forward

    params = init_model_params(2, 4, 1, rng=np.random.default_rng(0))
    x = np.zeros((3, 2, 2))
    with pytest.raises(TypeError, match=rf"^many_to_one should be True or False, but is {type(flag).__name__} "):
        model_forward(params, x, many_to_one=flag)
    assert model_forward(params, x, many_to_one=np.bool_(True))[0].shape == (2, 1)   # NumPy's bool is a bool


def test_a_choice_of_the_wrong_kind_is_a_type_error_and_a_wrong_choice_a_value_error():
    from rnncourse.numpy.jacobian import MATRIX_NORMS
    from rnncourse.torch import rnn_forward as torch_rnn_forward
    from rnncourse.validation import check_choice

    for bad in (3, None, True, np.array(["tanh"]), b"tanh"):
        with pytest.raises(TypeError, match=r"^nonlinearity should be one of 'tanh', 'relu', but is "):
            check_choice(bad, "nonlinearity", ("tanh", "relu"))
    with pytest.raises(ValueError, match=r"^nonlinearity should be one of 'tanh', 'relu', but is 'sigmoid'$"):
        check_choice("sigmoid", "nonlinearity", ("tanh", "relu"))
    for good in (2, 2.0, np.int64(1), "fro", np.inf):                  # mixed choices take either kind
        check_choice(good, "ord", MATRIX_NORMS)
    with pytest.raises(TypeError, match=r"but is bool True$"):
        check_choice(True, "ord", MATRIX_NORMS)                         # True == 1, but is no order
    with pytest.raises(ValueError, match=r"but is 7$"):
        check_choice(7, "ord", MATRIX_NORMS)
    # Through the twins: the same class for the same mistake in both libraries.
    x, h0 = np.zeros((2, 1, 3)), np.zeros((1, 4))
    W_xh, W_hh, b_h = np.zeros((4, 3)), np.zeros((4, 4)), np.zeros(4)
    with pytest.raises(TypeError, match="nonlinearity should be one of 'tanh', 'relu', but is int 3"):
        rnn_forward(x, h0, W_xh, W_hh, b_h, nonlinearity=3)
    with pytest.raises(TypeError, match="nonlinearity should be one of 'tanh', 'relu', but is int 3"):
        torch_rnn_forward(*(torch.from_numpy(a) for a in (x, h0, W_xh, W_hh, b_h)), nonlinearity=3)


def test_params_and_data_swapped_get_a_type_error_that_says_so_in_every_order():
    from rnncourse.numpy.bidirectional import birnn_forward
    from rnncourse.numpy.charlm import charlm_forward, charlm_loss
    from rnncourse.numpy.many_to_one import many_to_one_loss
    from rnncourse.numpy.model import model_forward
    from rnncourse.numpy.stacked import stacked_rnn_forward

    params = init_model_params(3, 4, 2, rng=np.random.default_rng(0))
    x, ids, y = np.zeros((5, 2, 3)), np.zeros((5, 2), dtype=np.int64), np.zeros(2, dtype=np.int64)
    calls = [(lambda: many_to_one_forward(params, x), "x", "many_to_one_forward(x, params, "),
             (lambda: birnn_forward(params, x), "x", "birnn_forward(x, params, "),
             (lambda: stacked_rnn_forward(params, None, x), "x", "stacked_rnn_forward(x, h0, params, "),
             (lambda: model_forward(x, params), "x", "model_forward(params, x, "),
             (lambda: model_loss(x, params, y), "x", "model_loss(params, x, targets, "),
             (lambda: many_to_one_loss(x, params, y), "x", "many_to_one_loss(params, x, targets, "),
             (lambda: jordan_loss(x, params, y), "x", "jordan_loss(params, x, targets, "),
             (lambda: charlm_forward(ids, params), "inputs", "charlm_forward(params, inputs, "),
             (lambda: charlm_loss(ids, params, ids), "inputs", "charlm_loss(params, inputs, targets, ")]
    for call, data, order in calls:
        with pytest.raises(TypeError, match=rf"^params should be the dict of parameters and {data} the data, but "
                                            rf"params is ndarray and {data} is a dict: they are swapped; "
                                            rf"call {re.escape(order)}"):
            call()


# ----------------------------------------------------------------------------- a params dict, named by its keys

def _model_case(dtype=np.float64):
    params = init_model_params(3, 4, 2, rng=np.random.default_rng(0), dtype=dtype)
    return params, np.random.default_rng(1).normal(size=(5, 2, 3)).astype(dtype)


def _model_calls():
    from rnncourse.numpy.model import model_forward
    return [lambda p, x: model_forward(p, x),
            lambda p, x: model_forward(p, x, many_to_one=True),
            lambda p, x: model_loss(p, x, np.zeros((5, 2), dtype=int)),
            lambda p, x: model_loss(p, x, np.zeros((2, 2)), loss="mse"),
            lambda p, x: many_to_one_forward(x, p)]


@pytest.mark.parametrize("call", range(5))
def test_the_model_dict_is_checked_under_the_keys_the_caller_passed(call):
    # were "W_hh should have shape ...", "... but x is float64, W_xh is float32 ..." and, for a float32 b_y in
    # many_to_one_forward, "... hs is float64, W_hy is float64, b_y is float32": names the caller never passed
    call = _model_calls()[call]
    p, x = _model_case()
    with pytest.raises(ValueError, match=r"^params\['W_hh'\] should have shape \(H, H\) = \(4, 4\), but has shape "
                                         r"\(4, 5\) \(axis 1, H, is 5 instead of 4\); W_hh maps"):
        call({**p, "W_hh": np.zeros((4, 5))}, x)
    with pytest.raises(ValueError, match=r"^params\['W_xh'\] should have shape \(H, D\) = \(4, 3\), but has shape "
                                         r"\(4, 2\) .*; W_xh has shape \(hidden_size, input_size\)"):
        call({**p, "W_xh": np.zeros((4, 2))}, x)
    with pytest.raises(ValueError, match=r"^params\['W_hy'\] should have shape \(O, H\) = \(2, 4\), but has shape "
                                         r"\(2, 3\)"):
        call({**p, "W_hy": np.zeros((2, 3))}, x)
    with pytest.raises(ValueError, match=r"^params\['b_y'\] should have 1 dimensions with shape \(O,\) = \(2,\)"):
        call({**p, "b_y": p["b_y"][None]}, x)
    with pytest.raises(TypeError, match=r"^params\['b_h'\] should be a numpy.ndarray, but is builtins.list"):
        call({**p, "b_h": p["b_h"].tolist()}, x)
    for name in ("W_xh", "b_y"):
        with pytest.raises(TypeError, match=rf"^all arrays should share one dtype, but x is float64, .*"
                                            rf"params\['{name}'\] is float32[,;] ") as error:
            call({**p, name: p[name].astype(np.float32)}, x)
        assert "hs" not in str(error.value) and " W_" not in str(error.value), error.value
    with pytest.raises(TypeError, match=r"^all arrays should share one dtype, but x is float32, params\['W_xh'\] is "
                                        r"float64"):
        call(p, x.astype(np.float32))


def test_model_forward_names_h0_against_params_w_hh():
    from rnncourse.numpy.model import model_forward
    p, x = _model_case()
    with pytest.raises(ValueError, match=r"^h0 should have shape \(B, H\) = \(2, 4\), but has shape \(2, 3\) .*; "
                                         r"B comes from x and H from params\['W_hh'\]$"):
        model_forward(p, x, np.zeros((2, 3)))
    with pytest.raises(TypeError, match=r"^all arrays should share one dtype, but h0 is float32, params\['W_hh'\] is "
                                        r"float64"):
        model_loss(p, x, np.zeros((5, 2), dtype=int), h0=np.zeros((2, 4), np.float32))


def test_the_model_dict_is_scanned_once_per_call(monkeypatch):
    # The dict's shapes and dtype are checked up front without a scan; the arrays' values are scanned once, by
    # the layers that use them.
    import rnncourse.validation as validation
    from rnncourse.numpy.model import model_forward

    p, x = _model_case()
    scans, all_finite = [], validation._all_finite
    monkeypatch.setattr(validation, "_all_finite", lambda a: scans.append(a) or all_finite(a))
    for call in (lambda: model_forward(p, x), lambda: many_to_one_forward(x, p)):
        scans.clear()
        call()
        for a in (x, *p.values()):
            assert sum(np.shares_memory(a, s) for s in scans) == 1


def test_jordan_loss_names_its_params_by_their_keys_and_scans_each_once(monkeypatch):
    import rnncourse.validation as validation
    from rnncourse.numpy.jordan import init_jordan_params

    p = init_jordan_params(3, 4, 2, rng=np.random.default_rng(0))
    x, targets = np.zeros((5, 2, 3)), np.zeros((5, 2, 2))
    with pytest.raises(ValueError, match=r"^params\['W_yh'\] should have shape \(H, O\) = \(4, 2\), but has shape "
                                         r"\(4, 3\)"):
        jordan_loss({**p, "W_yh": np.zeros((4, 3))}, x, targets)
    with pytest.raises(ValueError, match=r"^params\['W_xh'\] should have shape \(H, D\) = \(H, 3\)"):
        jordan_loss({**p, "W_xh": np.zeros((4, 2))}, x, targets)
    with pytest.raises(TypeError, match=r"^all arrays should share one dtype, but .*params\['W_xh'\] is float32"):
        jordan_loss({**p, "W_xh": p["W_xh"].astype(np.float32)}, x, targets)
    with pytest.raises(ValueError, match=r"^params\['W_hy'\] contains NaN or infinity"):
        jordan_loss({**p, "W_hy": np.full_like(p["W_hy"], np.nan)}, x, targets, teacher_forcing=True)
    scans, all_finite = [], validation._all_finite
    monkeypatch.setattr(validation, "_all_finite", lambda a: scans.append(a) or all_finite(a))
    jordan_loss(p, x, targets)
    for a in (x, *p.values()):
        assert sum(np.shares_memory(a, s) for s in scans) == 1
