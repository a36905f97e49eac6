"""Tests of rnncourse.numpy.jordan: forward against a plain loop and a hand computation,
backward against centred finite differences and torch.autograd, in float64."""

import numpy as np
import pytest
import torch

from rnncourse.numpy.gradcheck import grad_check
from rnncourse.numpy.jordan import (init_jordan_params, jordan_backward, jordan_forward, jordan_loss,
                                    jordan_step_backward, jordan_step_forward)

T, B, D, H, O = 5, 3, 2, 4, 2


def make(seed=0, T=T, B=B):
    rng = np.random.default_rng(seed)
    params = init_jordan_params(D, H, O, rng=rng)
    params = {k: v * 2.0 for k, v in params.items()}        # larger weights: f' and g' far from 1
    x = rng.normal(size=(T, B, D))
    y0 = rng.normal(size=(B, O))
    targets = rng.normal(size=(T, B, O))
    return params, x, y0, targets


def test_hand_computed_step():
    # H = O = D = 1: h = tanh(1*1 + 2*0.5 + 0) = tanh(2); y = 3 * tanh(2) + 1
    one = lambda v: np.array([[v]])  # noqa: E731
    (h, y), _ = jordan_step_forward(one(1.0), one(0.5), one(1.0), one(2.0), np.zeros(1), one(3.0), np.ones(1))
    assert np.isclose(h[0, 0], np.tanh(2.0)) and np.isclose(y[0, 0], 3 * np.tanh(2.0) + 1)


@pytest.mark.parametrize("teacher", [False, True])
def test_forward_equals_a_loop_of_steps(teacher):
    params, x, y0, targets = make()
    Y, cache = jordan_forward(x, y0, **params, output="sigmoid", targets=targets if teacher else None)
    u = y0
    for t in range(T):
        (h, y), _ = jordan_step_forward(x[t], u, **params, output="sigmoid")
        assert np.allclose(cache.hs[t], h) and np.allclose(Y[t], y)
        u = targets[t] if teacher else y


def loss_of(params, x, y0, targets, w, kw):
    Y, cache = jordan_forward(x, y0, **params, **kw)
    return float((w * Y).sum()), Y, cache


@pytest.mark.parametrize("output", ["linear", "sigmoid", "tanh"])
@pytest.mark.parametrize("teacher", [False, True])
@pytest.mark.parametrize("nonlinearity", ["tanh", "relu"])
def test_backward_matches_finite_differences(output, teacher, nonlinearity):
    params, x, y0, targets = make(1)
    w = np.random.default_rng(2).normal(size=(T, B, O))        # loss = sum(w * Y): dY = w
    kw = dict(output=output, nonlinearity=nonlinearity, targets=targets if teacher else None)
    _, Y, cache = loss_of(params, x, y0, targets, w, kw)
    grads = jordan_backward(w, cache)
    arrays = dict(params, x=x, y0=y0)
    errors = grad_check(lambda: loss_of({k: arrays[k] for k in params}, arrays["x"], arrays["y0"],
                                        targets, w, kw)[0], arrays, grads)
    assert max(errors.values()) < 1e-7, errors


def test_teacher_forcing_cuts_the_gradient_through_the_feedback():
    params, x, y0, targets = make(3)
    dY = np.zeros((T, B, O))
    dY[-1] = 1.0                                   # loss only at the last step
    free = jordan_backward(dY, jordan_forward(x, y0, **params)[1])
    forced = jordan_backward(dY, jordan_forward(x, y0, **params, targets=targets)[1])
    assert np.abs(free["x"][0]).max() > 1e-6       # the first input reaches the last output through y
    assert np.all(forced["x"][:-1] == 0)           # with teacher forcing only x_T does
    assert np.all(forced["y0"] == 0)


@pytest.mark.parametrize("teacher", [False, True])
def test_matches_torch_autograd(teacher):
    params, x, y0, targets = make(4)
    w = np.random.default_rng(5).normal(size=(T, B, O))
    Y, cache = jordan_forward(x, y0, **params, output="tanh", targets=targets if teacher else None)
    grads = jordan_backward(w, cache)
    tp = {k: torch.tensor(v, requires_grad=True) for k, v in dict(params, x=x, y0=y0).items()}
    u, outs = tp["y0"], []
    for t in range(T):
        h = torch.tanh(tp["x"][t] @ tp["W_xh"].T + u @ tp["W_yh"].T + tp["b_h"])
        y = torch.tanh(h @ tp["W_hy"].T + tp["b_y"])
        outs.append(y)
        u = torch.tensor(targets[t]) if teacher else y
    (torch.stack(outs) * torch.tensor(w)).sum().backward()
    assert np.allclose(torch.stack(outs).detach().numpy(), Y, atol=1e-12)
    for k, t_param in tp.items():
        assert np.allclose(t_param.grad.numpy(), grads[k], atol=1e-10), k


@pytest.mark.parametrize("teacher", [False, True])
def test_jordan_loss_equals_torch_mse_and_autograd(teacher):
    # jordan_loss = mean((Y - targets)**2) of the network (fed its targets under teacher forcing), and
    # its gradients; relu and sigmoid (not the defaults) also check that both reach the forward pass.
    params, x, y0, targets = make(7)
    loss, grads, Y = jordan_loss(params, x, targets, y0, teacher_forcing=teacher, nonlinearity="relu",
                                 output="sigmoid")
    tp = {k: torch.tensor(v, requires_grad=True) for k, v in params.items()}
    u, outs = torch.tensor(y0), []
    for t in range(T):
        h = torch.relu(torch.tensor(x[t]) @ tp["W_xh"].T + u @ tp["W_yh"].T + tp["b_h"])
        outs.append(torch.sigmoid(h @ tp["W_hy"].T + tp["b_y"]))
        u = torch.tensor(targets[t]) if teacher else outs[-1]
    ref = torch.nn.functional.mse_loss(torch.stack(outs), torch.tensor(targets))
    ref.backward()
    np.testing.assert_allclose(Y, torch.stack(outs).detach().numpy(), rtol=0, atol=1e-13)
    assert loss == pytest.approx(ref.item(), rel=1e-13)
    assert set(grads) == set(params)
    for k, t_param in tp.items():
        np.testing.assert_allclose(grads[k], t_param.grad.numpy(), rtol=0, atol=1e-13, err_msg=k)


def test_single_step_and_single_sequence():
    params, x, y0, targets = make(6, T=1, B=1)
    Y, cache = jordan_forward(x, None, **params)
    (h, y), _ = jordan_step_forward(x[0], np.zeros((1, O)), **params)
    assert np.allclose(Y[0], y)
    assert jordan_backward(np.ones_like(Y), cache)["W_yh"].shape == (H, O)


def test_clear_errors():
    params, x, y0, targets = make()
    with pytest.raises(ValueError, match=r"y0 should have 2 dimensions with shape \(B, O\) = \(3, 2\).*y0\[None, :\]"):
        jordan_forward(x, y0[0], **params)
    with pytest.raises(ValueError, match=r"W_yh should have shape \(H, O\) = \(4, 2\)"):
        jordan_forward(x, y0, **dict(params, W_yh=np.zeros((4, 3))))
    with pytest.raises(ValueError, match="targets should have shape"):
        jordan_forward(x, y0, **params, targets=targets[:-1])
    with pytest.raises(ValueError, match="output should be one of"):
        jordan_forward(x, y0, **params, output="softmax")
    with pytest.raises(ValueError, match="time-major"):
        jordan_forward(x[0], y0, **params)
    with pytest.raises(TypeError, match="one dtype"):
        jordan_forward(x.astype(np.float32), y0, **params)
    with pytest.raises(ValueError, match="dY should have shape"):
        jordan_backward(np.zeros((T, B, O + 1)), jordan_forward(x, y0, **params)[1])


@pytest.mark.parametrize("teacher", [False, True])
def test_jordan_loss_names_bad_targets_as_targets(teacher):
    # the targets are checked by jordan_loss itself, not reported under mse_loss's names (pred, target)
    params, x, y0, targets = make()
    with pytest.raises(ValueError, match=r"^targets should have shape \(T, B, O\) = \(5, 3, 2\), but has shape "
                                         r"\(5, 3, 3\) \(axis 2, O, is 3 instead of 2\); targets has the shape of "
                                         r"the outputs Y: T and B of x, O = W_hy.shape\[0\]$"):
        jordan_loss(params, x, np.zeros((T, B, O + 1)), y0, teacher_forcing=teacher)
    with pytest.raises(ValueError, match=r"^targets should have 3 dimensions with shape \(T, B, O\) = \(5, 3, 2\), "
                                         r"but has 2 dimensions with shape \(3, 2\)"):
        jordan_loss(params, x, targets[0], y0, teacher_forcing=teacher)
    with pytest.raises(TypeError, match=r"^targets should be a numpy.ndarray of shape \(T, B, O\), the target "
                                        r"output at every step, but is None; "):
        jordan_loss(params, x, None, y0, teacher_forcing=teacher)
    with pytest.raises(TypeError, match=r"^all arrays should share one dtype, but .*x is float64, .*targets is float32"):
        jordan_loss(params, x, targets.astype(np.float32), y0, teacher_forcing=teacher)


@pytest.mark.parametrize("output", ["linear", "sigmoid", "tanh"])
@pytest.mark.parametrize("nonlinearity", ["tanh", "relu"])
def test_step_backward_equals_autograd(output, nonlinearity):
    rng = np.random.default_rng(11)
    B, D, H, O = 3, 2, 4, 2
    params = init_jordan_params(D, H, O, rng=rng)
    x_t, y_prev, dh, dy = (rng.normal(size=s) for s in [(B, D), (B, O), (B, H), (B, O)])
    (h_t, y_t), cache = jordan_step_forward(x_t, y_prev, **params, nonlinearity=nonlinearity, output=output)

    def autograd(dh):
        """Gradients of sum(h * dh) + sum(y * dy) from torch; dh=None drops the first term."""
        t = {k: torch.tensor(v, requires_grad=True) for k, v in dict(x_t=x_t, y_prev=y_prev, **params).items()}
        f = {"tanh": torch.tanh, "relu": torch.relu}[nonlinearity]
        h = f(t["x_t"] @ t["W_xh"].T + t["y_prev"] @ t["W_yh"].T + t["b_h"])
        z = h @ t["W_hy"].T + t["b_y"]
        y = {"linear": z, "sigmoid": torch.sigmoid(z), "tanh": torch.tanh(z)}[output]
        np.testing.assert_allclose(y.detach().numpy(), y_t, atol=1e-13)
        L = (y * torch.tensor(dy)).sum()
        (L if dh is None else L + (h * torch.tensor(dh)).sum()).backward()
        return {k: v.grad.numpy() for k, v in t.items()}

    grads = jordan_step_backward((dh, dy), cache)
    assert set(grads) == set(autograd(dh))
    for k, expected in autograd(dh).items():
        np.testing.assert_allclose(grads[k], expected, atol=1e-12, err_msg=k)
    # dh_t = None means a zero gradient into h_t (only the output feeds the next step): every gradient
    # that flows through h_t (all but W_hy and b_y) must equal autograd without the h term.
    no_dh = jordan_step_backward((None, dy), cache)
    for k, expected in autograd(None).items():
        np.testing.assert_allclose(no_dh[k], expected, atol=1e-12, err_msg=k)
    assert np.abs(no_dh["W_xh"] - grads["W_xh"]).max() > 1e-3     # the h term did matter above



def test_a_step_state_is_read_only_so_its_backward_cannot_be_corrupted():
    params, x, y0, _ = make(6)
    (h, y), cache = jordan_step_forward(x[0], y0, **params)
    expected = jordan_step_backward((np.zeros_like(h), np.ones_like(y)), cache)
    for state in (h, y):
        with pytest.raises(ValueError, match="read-only"):
            state[0] = 0.0
    again = jordan_step_backward((np.zeros_like(h), np.ones_like(y)), cache)
    for name in expected:
        np.testing.assert_array_equal(again[name], expected[name])


def test_step_backward_rejects_another_dtype_and_a_bare_array():
    rng = np.random.default_rng(0)
    params = init_jordan_params(2, 3, 2, rng=rng)
    (h, y), cache = jordan_step_forward(rng.normal(size=(4, 2)), np.zeros((4, 2)), **params)
    with pytest.raises(TypeError, match="dy_t is float32, y_t is float64"):
        jordan_step_backward((None, np.ones((4, 2), np.float32)), cache)
    with pytest.raises(TypeError, match="dh_t is float32, h_t is float64"):
        jordan_step_backward((np.ones((4, 3), np.float32), np.ones((4, 2))), cache)
    with pytest.raises(TypeError, match=r"dstate should be a tuple \(dh_t, dy_t\), .* but is ndarray"):
        jordan_step_backward(np.ones((4, 2)), cache)
    with pytest.raises(ValueError, match=r"dstate should be a pair \(dh_t, dy_t\), but holds 1 items"):
        jordan_step_backward((np.ones((4, 2)),), cache)


@pytest.mark.parametrize("flag", ["False", "no", 0, None])
def test_jordan_loss_takes_teacher_forcing_as_true_or_false_only(flag):
    params = init_jordan_params(2, 4, 1, rng=np.random.default_rng(0))
    x, targets = np.zeros((3, 2, 2)), np.zeros((3, 2, 1))
    with pytest.raises(TypeError, match=rf"^teacher_forcing should be True or False, but is {type(flag).__name__} "):
        jordan_loss(params, x, targets, teacher_forcing=flag)


@pytest.mark.parametrize("teacher", [False, True])
def test_jordan_loss_names_nonfinite_targets_as_targets(teacher):
    params, x, y0, targets = make()
    targets[2, 1, 0] = np.nan
    with pytest.raises(ValueError, match=r"^targets contains NaN or infinity; "):     # was "target contains NaN ..."
        jordan_loss(params, x, targets, y0, teacher_forcing=teacher)


def test_init_draws_hidden_weights_from_torch_s_range():
    # torch.nn.RNN draws from U(-1/sqrt(H), 1/sqrt(H)); with H = 400 that is 0.05, and 400+ draws nearly reach it.
    params = init_jordan_params(3, 400, 2, rng=np.random.default_rng(0))
    for name in ("W_xh", "W_yh", "b_h"):
        assert 0.9 * 0.05 < np.abs(params[name]).max() <= 0.05, name
