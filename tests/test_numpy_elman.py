"""rnncourse.numpy.elman, output and init against torch.nn.RNN, torch.autograd and finite differences."""

import re

import numpy as np
import pytest
import torch

from rnncourse.numpy import (
    StepCache, affine_backward, affine_forward, grad_check, init_model_params, init_output_params, init_rnn_params,
    model_backward, model_forward, rnn_backward, rnn_forward, rnn_step_backward, rnn_step_forward, spectral_radius,
)

SHAPES = [(1, 1, 1, 1), (1, 3, 2, 4), (6, 1, 3, 5), (7, 4, 3, 5)]     # (T, B, D, H)
TOL_TORCH = 1e-10
TOL_FD = 1e-6


def make_inputs(T, B, D, H, seed=0, dtype=np.float64):
    rng = np.random.default_rng(seed)
    params = init_rnn_params(D, H, rng=rng, dtype=dtype)
    params["W_hh"] *= 2.0                              # stronger recurrence, larger gradients
    x = rng.normal(size=(T, B, D)).astype(dtype)
    h0 = rng.normal(size=(B, H)).astype(dtype)
    return x, h0, params


def torch_rnn(params, nonlinearity):
    H, D = params["W_xh"].shape
    rnn = torch.nn.RNN(D, H, nonlinearity=nonlinearity).double()
    with torch.no_grad():
        rnn.weight_ih_l0.copy_(torch.from_numpy(params["W_xh"]))
        rnn.weight_hh_l0.copy_(torch.from_numpy(params["W_hh"]))
        rnn.bias_ih_l0.copy_(torch.from_numpy(params["b_h"]))
        rnn.bias_hh_l0.zero_()
    return rnn


def max_diff(a, b):
    return float(np.max(np.abs(np.asarray(a) - np.asarray(b))))


@pytest.mark.parametrize("nonlinearity", ["tanh", "relu"])
@pytest.mark.parametrize("shape", SHAPES)
def test_forward_equals_torch_rnn(shape, nonlinearity):
    x, h0, params = make_inputs(*shape)
    hs, _ = rnn_forward(x, h0, **params, nonlinearity=nonlinearity)
    out, h_n = torch_rnn(params, nonlinearity)(torch.from_numpy(x), torch.from_numpy(h0)[None])
    assert hs.shape == shape[:2] + (shape[3],)
    assert max_diff(hs, out.detach()) <= TOL_TORCH
    assert max_diff(hs[-1], h_n[0].detach()) <= TOL_TORCH


def test_forward_without_h0_starts_from_zeros():
    x, h0, params = make_inputs(5, 2, 3, 4)
    hs_none, _ = rnn_forward(x, None, **params)
    hs_zero, _ = rnn_forward(x, np.zeros_like(h0), **params)
    np.testing.assert_array_equal(hs_none, hs_zero)


def test_forward_hand_computed():
    # D = H = 1, W_xh = 1, W_hh = 0.5, b = 0, relu: h1 = 1, h2 = 2 + 0.5, h3 = -1 + 1.25 = 0.25
    x = np.array([1.0, 2.0, -1.0]).reshape(3, 1, 1)
    hs, _ = rnn_forward(x, None, np.ones((1, 1)), np.full((1, 1), 0.5), np.zeros(1), nonlinearity="relu")
    np.testing.assert_allclose(hs.ravel(), [1.0, 2.5, 0.25])


@pytest.mark.parametrize("nonlinearity", ["tanh", "relu"])
def test_step_forward_equals_first_step_of_sequence(nonlinearity):
    x, h0, params = make_inputs(3, 2, 3, 4)
    hs, _ = rnn_forward(x, h0, **params, nonlinearity=nonlinearity)
    h1, _ = rnn_step_forward(x[0], h0, **params, nonlinearity=nonlinearity)
    h2, _ = rnn_step_forward(x[1], h1, **params, nonlinearity=nonlinearity)
    assert max_diff(hs[0], h1) <= 1e-14 and max_diff(hs[1], h2) <= 1e-14


def rnn_loss_torch(x, h0, params, dhs, dh_T, nonlinearity):
    """sum(hs * dhs) + sum(h_T * dh_T) and its gradients, by torch.autograd."""
    t = {k: torch.tensor(v, requires_grad=True) for k, v in dict(x=x, h0=h0, **params).items()}
    h, states = t["h0"], []
    f = torch.tanh if nonlinearity == "tanh" else torch.relu
    for step in range(x.shape[0]):
        h = f(t["x"][step] @ t["W_xh"].T + h @ t["W_hh"].T + t["b_h"])
        states.append(h)
    loss = (torch.stack(states) * torch.from_numpy(dhs)).sum() + (h * torch.from_numpy(dh_T)).sum()
    loss.backward()
    return {k: v.grad.numpy() for k, v in t.items()}


@pytest.mark.parametrize("nonlinearity", ["tanh", "relu"])
@pytest.mark.parametrize("shape", SHAPES)
def test_backward_equals_autograd_and_finite_differences(shape, nonlinearity):
    x, h0, params = make_inputs(*shape, seed=1)
    rng = np.random.default_rng(2)
    T, B, D, n_h = shape
    dhs, dh_T = rng.normal(size=(T, B, n_h)), rng.normal(size=(B, n_h))
    hs, cache = rnn_forward(x, h0, **params, nonlinearity=nonlinearity)
    grads = rnn_backward(dhs, cache, dh_T=dh_T)
    assert set(grads) == {"x", "h0", "W_xh", "W_hh", "b_h"}
    expected = rnn_loss_torch(x, h0, params, dhs, dh_T, nonlinearity)
    for name, g in grads.items():
        assert g.shape == expected[name].shape
        assert max_diff(g, expected[name]) <= TOL_TORCH, name

    arrays = dict(x=x, h0=h0, **params)

    def loss():
        hs, _ = rnn_forward(arrays["x"], arrays["h0"], arrays["W_xh"], arrays["W_hh"], arrays["b_h"],
                            nonlinearity)
        return (hs * dhs).sum() + (hs[-1] * dh_T).sum()

    errors = grad_check(loss, arrays, grads)
    assert max(errors.values()) <= TOL_FD, errors


def test_a_step_state_is_read_only_so_its_backward_cannot_be_corrupted():
    x, h0, params = make_inputs(1, 2, 3, 5, seed=4)
    h_t, cache = rnn_step_forward(x[0], h0, **params)
    assert cache.h_t is h_t
    expected = rnn_step_backward(np.ones_like(h_t), cache)
    with pytest.raises(ValueError, match="read-only"):
        h_t += 1.0
    again = rnn_step_backward(np.ones_like(h_t), cache)
    for name in expected:
        np.testing.assert_array_equal(again[name], expected[name])
    assert h_t.copy().flags.writeable


def test_step_input_errors_name_the_argument_and_the_fix():
    W_xh, W_hh, b_h = np.zeros((4, 3)), np.eye(4), np.zeros(4)
    x_t, h_prev = np.ones((2, 3)), np.zeros((2, 4))
    cases = [
        ((np.ones((5, 2, 3)), h_prev, W_xh, W_hh, b_h), ValueError,
         "x_t should have 2 dimensions with shape (B, D), but has 3 dimensions with shape (5, 2, 3); x_t is one "
         "time step of shape (B, D); for a whole sequence (T, B, D) use rnn_forward"),
        ((x_t, np.zeros(4), W_xh, W_hh, b_h), ValueError,
         "h_prev should have 2 dimensions with shape (B, H) = (2, 4), but has 1 dimensions with shape (4,); "
         "B comes from x_t and H from W_hh; add a batch axis: h_prev[None, :]"),
        ((x_t, h_prev, W_xh, W_hh, b_h, "sigmoid"), ValueError,
         "nonlinearity should be one of 'tanh', 'relu', but is 'sigmoid'"),
        ((x_t.astype(np.float32), h_prev, W_xh, W_hh, b_h), TypeError,
         "all arrays should share one dtype, but x_t is float32, h_prev is float64, W_xh is float64, "
         "W_hh is float64, b_h is float64"),
    ]
    for args, error, message in cases:
        with pytest.raises(error, match=re.escape(message)):
            rnn_step_forward(*args)


def test_zero_hidden_units_or_input_features_are_refused_naming_the_sizes():
    """H = 0 used to pass the forward pass and crash inside NumPy in the backward pass; like the torch
    twin's ElmanRNN(3, 0), the functions refuse it, and D = 0 too."""
    x, h0 = np.ones((4, 2, 3)), np.zeros((2, 0))
    no_hidden = "hidden_size H should be an integer >= 1, but is 0: W_hh has shape (0, 0), W_xh (0, 3), b_h (0,)"
    with pytest.raises(ValueError, match="^" + re.escape(no_hidden)):
        rnn_forward(x, None, np.zeros((0, 3)), np.zeros((0, 0)), np.zeros(0))
    with pytest.raises(ValueError, match="^" + re.escape(no_hidden)):
        rnn_forward(x, h0, np.zeros((0, 3)), np.zeros((0, 0)), np.zeros(0))
    with pytest.raises(ValueError, match="^" + re.escape(no_hidden)):
        rnn_step_forward(x[0], h0, np.zeros((0, 3)), np.zeros((0, 0)), np.zeros(0))
    no_input = "input_size D should be an integer >= 1, but is 0: x has shape (4, 2, 0) and W_xh (5, 0)"
    with pytest.raises(ValueError, match="^" + re.escape(no_input)):
        rnn_forward(np.ones((4, 2, 0)), None, np.zeros((5, 0)), np.eye(5), np.zeros(5))
    with pytest.raises(ValueError, match="^" + re.escape(no_input.replace("x has shape (4, 2, 0)",
                                                                          "x_t has shape (2, 0)"))):
        rnn_step_forward(np.ones((2, 0)), np.zeros((2, 5)), np.zeros((5, 0)), np.eye(5), np.zeros(5))


def test_forward_states_are_read_only_so_bptt_cannot_be_corrupted():
    x, h0, params = make_inputs(4, 2, 3, 5, seed=3)
    hs, cache = rnn_forward(x, h0, **params)
    assert cache.hs is hs and hs[-1].shape == (2, 5)
    expected = rnn_backward(np.ones_like(hs), cache)
    with pytest.raises(ValueError, match="read-only"):
        hs[1] = 0.0                                    # a learner's edit is refused ...
    with pytest.raises(ValueError, match="read-only"):
        hs *= 2
    again = rnn_backward(np.ones_like(hs), cache)      # ... so the backward pass is unchanged
    for name in expected:
        np.testing.assert_array_equal(again[name], expected[name])
    mine = hs.copy()
    mine[1] = 0.0                                      # a copy is the learner's own
    assert mine.flags.writeable


def test_backward_without_dh_T_equals_zero_dh_T():
    x, h0, params = make_inputs(4, 2, 3, 5)
    dhs = np.random.default_rng(3).normal(size=(4, 2, 5))
    _, cache = rnn_forward(x, h0, **params)
    a, b = rnn_backward(dhs, cache), rnn_backward(dhs, cache, dh_T=np.zeros((2, 5)))
    for name in a:
        np.testing.assert_array_equal(a[name], b[name])


@pytest.mark.parametrize("nonlinearity", ["tanh", "relu"])
def test_step_backward_equals_autograd_and_finite_differences(nonlinearity):
    x, h0, params = make_inputs(1, 3, 4, 5, seed=4)
    x_t = x[0]
    dh_t = np.random.default_rng(5).normal(size=(3, 5))
    h_t, cache = rnn_step_forward(x_t, h0, **params, nonlinearity=nonlinearity)
    assert cache == StepCache(x_t, h0, params["W_xh"], params["W_hh"], h_t, nonlinearity)
    grads = rnn_step_backward(dh_t, cache)
    expected = rnn_loss_torch(x, h0, params, dh_t[None], np.zeros_like(dh_t), nonlinearity)
    renamed = {"x_t": expected["x"][0], "h_prev": expected["h0"]}
    for name in ("W_xh", "W_hh", "b_h"):
        renamed[name] = expected[name]
    for name, g in grads.items():
        assert max_diff(g, renamed[name]) <= TOL_TORCH, name
    arrays = dict(x_t=x_t, h_prev=h0, **params)
    errors = grad_check(lambda: (rnn_step_forward(**arrays, nonlinearity=nonlinearity)[0] * dh_t).sum(),
                        arrays, grads)
    assert max(errors.values()) <= TOL_FD, errors


def test_a_backward_given_the_wrong_cache_says_which_cache_it_wants_and_which_came():
    x, h0, params = make_inputs(3, 2, 3, 4)
    hs, seq_cache = rnn_forward(x, h0, **params)
    h_t, step_cache = rnn_step_forward(x[0], h0, **params)
    Y, model_cache = model_forward(init_model_params(3, 4, 2, rng=np.random.default_rng(0)), x, h0)
    cases = [(rnn_backward, np.ones_like(hs), step_cache, "the RNNCache returned by rnn_forward, but is a StepCache: "
                                                          "pass the cache that rnn_forward returned"),
             (rnn_backward, np.ones_like(hs), model_cache, "the RNNCache returned by rnn_forward, but is a ModelCache"),
             (rnn_backward, np.ones_like(hs), (hs, seq_cache),
              "the RNNCache returned by rnn_forward, but is a tuple of 2 values, not 6"),
             (rnn_step_backward, np.ones_like(h_t), seq_cache, "the StepCache returned by rnn_step_forward, but is an "
                                                               "RNNCache"),
             (rnn_step_backward, np.ones_like(h_t), None, "the StepCache returned by rnn_step_forward, but is None"),
             (model_backward, np.ones_like(Y), seq_cache, "the ModelCache returned by model_forward, but is an "
                                                          "RNNCache"),
             (model_backward, np.ones_like(Y), (Y, model_cache), "the ModelCache returned by model_forward, but is a "
                                                                 "tuple of 2 values"),
             (rnn_backward, np.ones_like(hs), hs, "the RNNCache returned by rnn_forward, but is a numpy.ndarray"),
             (rnn_backward, np.ones_like(hs), 3, "the RNNCache returned by rnn_forward, but is an int")]
    for backward, dout, cache, message in cases:
        with pytest.raises(TypeError, match=re.escape(f"cache should be {message}")):
            backward(dout, cache)
    # A plain tuple of the fields still works, as documented.
    np.testing.assert_array_equal(rnn_step_backward(np.ones_like(h_t), tuple(step_cache)[:5])["W_hh"],
                                  rnn_step_backward(np.ones_like(h_t), step_cache)["W_hh"])
    np.testing.assert_array_equal(rnn_backward(np.ones_like(hs), tuple(seq_cache))["W_hh"],
                                  rnn_backward(np.ones_like(hs), seq_cache)["W_hh"])


@pytest.mark.parametrize("lead", [(4, 3), (3,)])
def test_affine_equals_torch_linear_and_finite_differences(lead):
    rng = np.random.default_rng(6)
    n_h, O = 5, 2
    hs = rng.normal(size=lead + (n_h,))
    p = init_output_params(n_h, O, rng=rng)
    Y, cache = affine_forward(hs, **p)
    assert Y.shape == lead + (O,)
    dY = rng.normal(size=Y.shape)
    grads = affine_backward(dY, cache)

    t = {k: torch.tensor(v, requires_grad=True) for k, v in dict(hs=hs, **p).items()}
    Y_t = torch.nn.functional.linear(t["hs"], t["W_hy"], t["b_y"])
    (Y_t * torch.from_numpy(dY)).sum().backward()
    assert max_diff(Y, Y_t.detach()) <= TOL_TORCH
    for name in ("hs", "W_hy", "b_y"):
        assert max_diff(grads[name], t[name].grad) <= TOL_TORCH, name

    arrays = dict(hs=hs, **p)
    errors = grad_check(lambda: (affine_forward(**arrays)[0] * dY).sum(), arrays, grads)
    assert max(errors.values()) <= TOL_FD, errors


def test_float32_in_float32_out():
    x, h0, params = make_inputs(5, 2, 3, 4, dtype=np.float32)
    hs, cache = rnn_forward(x, h0, **params)
    grads = rnn_backward(np.ones_like(hs), cache)
    assert hs.dtype == np.float32
    assert all(g.dtype == np.float32 for g in grads.values())
    assert rnn_step_forward(x[0], h0, **params)[0].dtype == np.float32
    p = init_output_params(4, 3, rng=np.random.default_rng(0), dtype=np.float32)
    Y, cache = affine_forward(hs, **p)
    assert Y.dtype == np.float32
    assert all(g.dtype == np.float32 for g in affine_backward(np.ones_like(Y), cache).values())
    x64, h064, params64 = make_inputs(5, 2, 3, 4)
    np.testing.assert_allclose(hs, rnn_forward(x64, h064, **params64)[0], atol=1e-5)


def test_init_uniform_matches_torch_range_and_dtype():
    p = init_rnn_params(3, 16, rng=np.random.default_rng(0), dtype=np.float32)
    assert p["W_xh"].shape == (16, 3) and p["W_hh"].shape == (16, 16) and p["b_h"].shape == (16,)
    assert all(a.dtype == np.float32 for a in p.values())
    assert all(np.abs(a).max() <= 0.25 for a in p.values())
    assert np.abs(p["W_hh"]).max() > 0.2                      # fills the range, not a tiny scale
    again = init_rnn_params(3, 16, rng=np.random.default_rng(0), dtype=np.float32)
    np.testing.assert_array_equal(p["W_hh"], again["W_hh"])


def test_init_orthogonal_identity_and_spectral_radius():
    rng = np.random.default_rng(1)
    W = init_rnn_params(2, 8, rng=rng, init="orthogonal")["W_hh"]
    np.testing.assert_allclose(W.T @ W, np.eye(8), atol=1e-12)
    p = init_rnn_params(2, 8, rng=rng, init="identity")
    np.testing.assert_array_equal(p["W_hh"], np.eye(8))
    np.testing.assert_array_equal(p["b_h"], np.zeros(8))
    W = init_rnn_params(2, 8, rng=rng, spectral_radius=1.5)["W_hh"]
    assert abs(spectral_radius(W) - 1.5) < 1e-12
    assert spectral_radius(np.diag([0.5, -2.0])) == 2.0
    with pytest.raises(TypeError, match="W should be a numpy.ndarray, but is builtins.list"):
        spectral_radius([[1.0, 0.0], [0.0, 2.0]])
    with pytest.raises(ValueError, match=r"W should have shape \(H, H\) = \(2, 2\), but has shape \(2, 3\)"):
        spectral_radius(np.ones((2, 3)))
    with pytest.raises(ValueError, match="W contains NaN or infinity"):
        spectral_radius(np.array([[np.nan, 0.0], [0.0, 1.0]]))


def test_init_output_params_and_model_forward_check_their_inputs():
    with pytest.raises(TypeError, match="rng should be a numpy.random.Generator, but is int"):
        init_output_params(4, 3, rng=0)
    params = init_model_params(3, 4, 2, rng=np.random.default_rng(0))
    with pytest.raises(ValueError, match=r"x should have 3 dimensions with shape \(T, B, D\), but has 2 dimensions"):
        model_forward(params, np.zeros((5, 3)))


def test_init_orthogonal_is_uniform_so_each_diagonal_entry_has_mean_zero():
    # A uniform (Haar) random orthogonal matrix is as likely as its negation, so every entry has mean 0.
    # The plain Q of a QR has a sign bias (about -0.4 on each diagonal entry for H = 4, as NumPy's QR
    # returns it); the sign fix removes it. Over 1000 seeds each diagonal mean has standard error
    # sqrt(1/H / 1000) ~ 0.016, so 0.1 is six standard errors.
    H, n = 4, 1000
    diagonals = np.array([np.diag(init_rnn_params(1, H, rng=np.random.default_rng(seed), init="orthogonal")["W_hh"])
                          for seed in range(n)])
    assert np.all(np.abs(diagonals.mean(axis=0)) < 0.1), diagonals.mean(axis=0)


def test_activate_and_derivative_refuse_a_nonlinearity_they_do_not_compute():
    """Both are public: a "sigmoid" used to give ReLU (activate) and ones (derivative), silently."""
    from rnncourse.numpy.elman import activate, derivative

    a = np.array([-1.0, 2.0])
    np.testing.assert_array_equal(activate(a.copy(), "relu"), [0.0, 2.0])
    np.testing.assert_array_equal(activate(a.copy(), "tanh"), np.tanh(a))
    np.testing.assert_array_equal(derivative(np.array([0.5, 0.0]), "tanh"), [0.75, 1.0])
    np.testing.assert_array_equal(derivative(np.array([0.5, 0.0]), "relu"), [1.0, 0.0])
    np.testing.assert_array_equal(derivative(np.array([0.5, 0.0]), "linear"), [1.0, 1.0])
    for bad in ("sigmoid", "Tanh"):
        with pytest.raises(ValueError, match=rf"^nonlinearity should be one of 'tanh', 'relu', but is {bad!r}$"):
            activate(a, bad)
        with pytest.raises(ValueError, match=rf"^nonlinearity should be one of 'tanh', 'relu', 'linear', but is "
                                             rf"{bad!r}$"):
            derivative(a, bad)
    with pytest.raises(TypeError, match=r"^nonlinearity should be one of 'tanh', 'relu', but is NoneType None$"):
        activate(a, None)
    with pytest.raises(TypeError, match=r"^nonlinearity should be one of 'tanh', 'relu', 'linear', but is NoneType"):
        derivative(a, None)


def test_step_backward_refuses_a_dh_t_of_another_dtype_than_the_cache():
    x, h0, params = make_inputs(1, 2, 3, 5)
    h_t, cache = rnn_step_forward(x[0], h0, **params)
    with pytest.raises(TypeError, match=r"^all arrays should share one dtype, but dh_t is float32, h_t is float64; "):
        rnn_step_backward(np.ones_like(h_t, dtype=np.float32), cache)
