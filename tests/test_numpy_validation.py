"""rnncourse.validation's behaviour as seen through rnncourse.numpy's public functions."""

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
from rnncourse.numpy.model import model_loss
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

    with pytest.raises(TypeError, match=r"^lengths should be a numpy.ndarray, but is builtins.NoneType$"):
        last_states(np.zeros((4, 3, 5)), None)


def test_a_float_dtype_argument_refuses_none_and_names_that_are_not_dtypes():
    from rnncourse.data.adding import adding_problem
    from rnncourse.validation import check_float_dtype

    assert check_float_dtype("float32") == np.float32
    for wrong, shown in ((None, "None"), ("foo", "'foo'"), (np.int64, "int64")):
        with pytest.raises(TypeError, match=rf"^dtype should be numpy.float32 or numpy.float64, but is {shown}$"):
            check_float_dtype(wrong)
    with pytest.raises(TypeError, match="dtype should be numpy.float32 or numpy.float64, but is None"):
        adding_problem(4, 10, rng=np.random.default_rng(0), dtype=None)   # it was float64 without a word
