"""Tests of rnncourse.numpy.gated: the NumPy LSTM and GRU steps equal torch.nn.LSTMCell / GRUCell,
forward and backward (against autograd and finite differences), one step and a whole sequence."""

import re
import warnings

import numpy as np
import pytest
import torch

from rnncourse.numpy.gated import (gru_backward, gru_forward, gru_step_backward, gru_step_forward, lstm_backward,
                                   lstm_forward, lstm_step_backward, lstm_step_forward, sigmoid)
from rnncourse.numpy.gradcheck import grad_check, numerical_gradient, rel_error
from rnncourse.torch.gated import GRUCell, LSTMCell

D, H, B = 3, 4, 2


def weights(cell):
    """The book's arrays of a torch.nn cell, through the package's conversion."""
    mine = (LSTMCell if isinstance(cell, torch.nn.LSTMCell) else GRUCell).from_torch(cell)
    return list(mine.numpy_params().values())


def test_lstm_step_equals_torch():
    torch.manual_seed(0)
    cell = torch.nn.LSTMCell(D, H, dtype=torch.float64)
    rng = np.random.default_rng(0)
    x, h, c = rng.normal(size=(B, D)), rng.normal(size=(B, H)), rng.normal(size=(B, H))
    (h_t, c_t), _ = lstm_step_forward(x, h, c, *weights(cell))
    h_ref, c_ref = cell(torch.tensor(x), (torch.tensor(h), torch.tensor(c)))
    np.testing.assert_allclose(h_t, h_ref.detach().numpy(), rtol=0, atol=1e-14)
    np.testing.assert_allclose(c_t, c_ref.detach().numpy(), rtol=0, atol=1e-14)


def test_gru_step_equals_torch():
    torch.manual_seed(1)
    cell = torch.nn.GRUCell(D, H, dtype=torch.float64)
    rng = np.random.default_rng(1)
    x, h = rng.normal(size=(B, D)), rng.normal(size=(B, H))
    ref = cell(torch.tensor(x), torch.tensor(h)).detach().numpy()
    np.testing.assert_allclose(gru_step_forward(x, h, *weights(cell))[0], ref, rtol=0, atol=1e-14)


def test_hand_computed_gru_step():
    # Zero weights and biases: r = z = 0.5, n = 0, so h_t = 0.5 * h_prev.
    z = [np.zeros((3, 1)), np.zeros((3, 1)), np.zeros(3), np.zeros(3)]
    assert gru_step_forward(np.ones((1, 1)), np.full((1, 1), 4.0), *z)[0][0, 0] == pytest.approx(2.0)


def test_sigmoid_is_stable_and_exact():
    a = np.array([-800.0, -30.0, -1.0, 0.0, 2.0, 800.0])
    with warnings.catch_warnings():
        warnings.simplefilter("error")                 # 1 / (1 + exp(800)) warns of an overflow
        s = sigmoid(a)
    np.testing.assert_allclose(s, [0.0, np.exp(-30.0) / (1 + np.exp(-30.0)), 1 / (1 + np.e), 0.5,
                                   1 / (1 + np.exp(-2.0)), 1.0], rtol=1e-15, atol=0)
    assert s[1] > 0                                    # 1 - sigmoid(30) would cancel to a few ulps of 1


def test_clear_errors():
    rng = np.random.default_rng(0)
    W_xh, W_hh, b = rng.normal(size=(4 * H, D)), rng.normal(size=(4 * H, H)), np.zeros(4 * H)
    x, h = np.zeros((B, D)), np.zeros((B, H))
    with pytest.raises(ValueError, match=r"W_xh should have shape \(4H, D\) = \(16, 3\).*stacks 4 gates"):
        lstm_step_forward(x, h, h, W_xh[:, :2], W_hh, b)
    with pytest.raises(ValueError, match=r"c_prev should have shape \(B, H\) = \(2, 4\)"):
        lstm_step_forward(x, h, h[:1], W_xh, W_hh, b)
    with pytest.raises(ValueError, match=r"W_hh should have shape \(3H, H\)"):
        gru_step_forward(x, h, W_xh[:12], W_hh, b[:12], b[:12])
    with pytest.raises(ValueError, match=r"b_hh should have shape \(3H,\) = \(12,\)"):
        gru_step_forward(x, h, W_xh[:12], W_hh[:12], b[:12], b)
    with pytest.raises(TypeError, match="one dtype"):
        lstm_step_forward(x.astype(np.float32), h, h, W_xh, W_hh, b)


@pytest.mark.parametrize("kind", ["lstm", "gru"])
def test_step_backward_equals_autograd(kind):
    torch.manual_seed(5)
    ref = (torch.nn.LSTMCell if kind == "lstm" else torch.nn.GRUCell)(D, H, dtype=torch.float64)
    mine = (LSTMCell if kind == "lstm" else GRUCell).from_torch(ref)
    rng = np.random.default_rng(5)
    x, h, c, dh, dc = (rng.normal(size=s) for s in [(B, D), (B, H), (B, H), (B, H), (B, H)])
    params = mine.numpy_params()
    leaves = {"x_t": torch.tensor(x, requires_grad=True), "h_prev": torch.tensor(h, requires_grad=True)}
    if kind == "lstm":
        leaves["c_prev"] = torch.tensor(c, requires_grad=True)
        h_t, c_t = mine(leaves["x_t"], (leaves["h_prev"], leaves["c_prev"]))
        (h_t * torch.tensor(dh) + c_t * torch.tensor(dc)).sum().backward()
        _, cache = lstm_step_forward(x, h, c, **params)
        grads = lstm_step_backward((dh, dc), cache)
    else:
        (mine(leaves["x_t"], leaves["h_prev"]) * torch.tensor(dh)).sum().backward()
        _, cache = gru_step_forward(x, h, **params)
        grads = gru_step_backward(dh, cache)
    expected = {k: v.grad.numpy() for k, v in leaves.items()}
    expected.update({k: p.grad.numpy() for k, p in mine.named_parameters()})
    assert set(grads) == set(expected)
    for k in expected:
        np.testing.assert_allclose(grads[k], expected[k], atol=1e-12, err_msg=k)


def test_lstm_step_backward_equals_finite_differences_without_dc():
    rng = np.random.default_rng(6)
    x, h, c, dh = (rng.normal(size=s) for s in [(B, D), (B, H), (B, H), (B, H)])
    W_xh, W_hh, b_h = rng.normal(size=(4 * H, D)), rng.normal(size=(4 * H, H)), rng.normal(size=4 * H)
    _, cache = lstm_step_forward(x, h, c, W_xh, W_hh, b_h)
    grads = lstm_step_backward((dh, None), cache)
    arrays = {"W_hh": W_hh, "c_prev": c, "b_h": b_h}
    num = numerical_gradient(lambda: float((lstm_step_forward(x, h, c, W_xh, W_hh, b_h)[0][0] * dh).sum()), arrays)
    for name in arrays:
        assert rel_error(grads[name], num[name]) < 1e-7, name


# ----------------------------------------------------------------------------- a whole sequence

def torch_weights(module):
    """The book's arrays of a one-layer torch.nn.LSTM / torch.nn.GRU."""
    w = {k: v.detach().numpy() for k, v in module.state_dict().items()}
    if isinstance(module, torch.nn.LSTM):
        return {"W_xh": w["weight_ih_l0"], "W_hh": w["weight_hh_l0"], "b_h": w["bias_ih_l0"] + w["bias_hh_l0"]}
    return {"W_xh": w["weight_ih_l0"], "W_hh": w["weight_hh_l0"], "b_xh": w["bias_ih_l0"], "b_hh": w["bias_hh_l0"]}


@pytest.mark.parametrize("kind", ["lstm", "gru"])
def test_sequence_forward_and_backward_equal_torch(kind):
    T = 6
    torch.manual_seed(7)
    ref = (torch.nn.LSTM if kind == "lstm" else torch.nn.GRU)(D, H, dtype=torch.float64)
    p = torch_weights(ref)
    rng = np.random.default_rng(7)
    x, h0, c0, dhs = (rng.normal(size=s) for s in [(T, B, D), (B, H), (B, H), (T, B, H)])
    leaves = {"x": torch.tensor(x, requires_grad=True), "h0": torch.tensor(h0, requires_grad=True)}
    if kind == "lstm":
        leaves["c0"] = torch.tensor(c0, requires_grad=True)
        out, _ = ref(leaves["x"], (leaves["h0"][None], leaves["c0"][None]))
        hs, cache = lstm_forward(x, h0, c0, **p)
        grads = lstm_backward(dhs, cache)
    else:
        out, _ = ref(leaves["x"], leaves["h0"][None])
        hs, cache = gru_forward(x, h0, **p)
        grads = gru_backward(dhs, cache)
    assert np.allclose(hs, out.detach().numpy(), atol=1e-13)
    (out * torch.tensor(dhs)).sum().backward()
    for name, leaf in leaves.items():
        assert rel_error(grads[name], leaf.grad.numpy()) < 1e-10, name
    w = {k: v.grad.numpy() for k, v in ref.named_parameters()}
    expected = {"W_xh": w["weight_ih_l0"], "W_hh": w["weight_hh_l0"]}
    if kind == "lstm":
        expected["b_h"] = w["bias_ih_l0"]                      # d/d(b_ih) = d/d(b_hh) = d/d(their sum)
    else:
        expected.update(b_xh=w["bias_ih_l0"], b_hh=w["bias_hh_l0"])
    for name, g in expected.items():
        assert rel_error(grads[name], g) < 1e-10, name


@pytest.mark.parametrize("kind", ["lstm", "gru"])
def test_sequence_backward_equals_finite_differences(kind):
    rng = np.random.default_rng(11)
    T, n_gates = 5, 4 if kind == "lstm" else 3
    k = 1 / np.sqrt(H)
    p = {"W_xh": rng.uniform(-k, k, (n_gates * H, D)), "W_hh": rng.uniform(-2 * k, 2 * k, (n_gates * H, H))}
    if kind == "lstm":
        p["b_h"] = rng.uniform(-k, k, n_gates * H)
    else:
        p["b_xh"], p["b_hh"] = rng.uniform(-k, k, n_gates * H), rng.uniform(-k, k, n_gates * H)
    p["x"], p["h0"] = rng.normal(size=(T, B, D)), rng.normal(size=(B, H))
    if kind == "lstm":
        p["c0"] = rng.normal(size=(B, H))
    dhs = rng.normal(size=(T, B, H))
    forward, backward = (lstm_forward, lstm_backward) if kind == "lstm" else (gru_forward, gru_backward)

    def run():
        return forward(**p)

    def loss():
        return float((run()[0] * dhs).sum())

    grads = backward(dhs, run()[1])
    errors = grad_check(loss, p, grads)
    assert max(errors.values()) < 1e-7, errors


def test_lstm_backward_is_the_step_backward_in_a_loop():
    # Chaining lstm_step_backward by hand gives what lstm_backward computes.
    rng = np.random.default_rng(3)
    T = 4
    p = {"W_xh": rng.normal(size=(4 * H, D)) / 2, "W_hh": rng.normal(size=(4 * H, H)) / 2, "b_h": rng.normal(size=4 * H)}
    x, dhs = rng.normal(size=(T, B, D)), rng.normal(size=(T, B, H))
    hs, cache = lstm_forward(x, None, None, **p)
    state, caches = (np.zeros((B, H)), np.zeros((B, H))), []
    for t in range(T):
        state, step_cache = lstm_step_forward(x[t], *state, **p)
        caches.append(step_cache)
        assert np.allclose(state[0], hs[t])
    dh, dc, total = np.zeros((B, H)), np.zeros((B, H)), {k: 0 for k in p}
    for t in reversed(range(T)):
        g = lstm_step_backward((dhs[t] + dh, dc), caches[t])
        dh, dc = g["h_prev"], g["c_prev"]
        total = {k: total[k] + g[k] for k in p}
    grads = lstm_backward(dhs, cache)
    assert np.allclose(grads["h0"], dh) and np.allclose(grads["c0"], dc)
    assert all(np.allclose(grads[k], total[k]) for k in p)


def test_sequence_states_are_read_only_and_errors_are_clear():
    rng = np.random.default_rng(0)
    p = {"W_xh": rng.normal(size=(4 * H, D)), "W_hh": rng.normal(size=(4 * H, H)), "b_h": np.zeros(4 * H)}
    x = rng.normal(size=(3, B, D))
    hs, cache = lstm_forward(x, None, None, **p)
    with pytest.raises(ValueError, match="read-only"):
        hs[0] = 0
    with pytest.raises(ValueError, match=r"x should have 3 dimensions with shape \(T, B, D\)"):
        lstm_forward(x[0], None, None, **p)
    with pytest.raises(ValueError, match=r"c0 should have shape \(B, H\) = \(2, 4\)"):
        lstm_forward(x, None, np.zeros((3, H)), **p)
    with pytest.raises(ValueError, match=r"dhs should have shape \(T, B, H\) = \(3, 2, 4\)"):
        lstm_backward(np.zeros((3, B, H + 1)), cache)
    with pytest.raises(ValueError, match=r"b_hh should have shape \(3H,\) = \(12,\)"):
        gru_forward(x, None, p["W_xh"][:12], p["W_hh"][:12], np.zeros(12), np.zeros(4))
    with pytest.raises(TypeError, match="one dtype"):
        gru_forward(x.astype(np.float32), None, p["W_xh"][:12], p["W_hh"][:12], np.zeros(12), np.zeros(12))



def test_a_state_that_fits_batch_major_x_or_torch_nn_lstm_gets_that_hint():
    rng = np.random.default_rng(0)
    p = {"W_xh": rng.normal(size=(4 * H, D)), "W_hh": rng.normal(size=(4 * H, H)), "b_h": np.zeros(4 * H)}
    x = rng.normal(size=(5, B, D))
    with pytest.raises(ValueError, match=r"^h0 should have shape \(B, H\) = \(5, 4\), but has shape \(2, 4\) .*; "
                                         r"h0's first axis is 2, the size of x's first axis: if x is batch-major "
                                         r"\(B, T, D\), make it time-major \(T, B, D\) with x\.transpose\(1, 0, 2\)$"):
        lstm_forward(x.transpose(1, 0, 2), np.zeros((B, H)), None, **p)
    with pytest.raises(ValueError, match=r"^c0 should have 2 dimensions .*; c0 looks like the state of torch\.nn\.RNN "
                                         r"\(or LSTM, GRU\), which puts a num_layers axis first, .*: pass c0\[0\]$"):
        lstm_forward(x, None, np.zeros((1, B, H)), **p)

def test_step_backward_rejects_another_dtype_and_a_bare_array():
    rng = np.random.default_rng(0)
    x, h = rng.normal(size=(B, D)), np.zeros((B, H))
    _, lstm_cache = lstm_step_forward(x, h, h, rng.normal(size=(4 * H, D)), rng.normal(size=(4 * H, H)),
                                      np.zeros(4 * H))
    _, gru_cache = gru_step_forward(x, h, rng.normal(size=(3 * H, D)), rng.normal(size=(3 * H, H)),
                                    np.zeros(3 * H), np.zeros(3 * H))
    dh32 = np.ones((B, H), np.float32)
    with pytest.raises(TypeError, match="dh_t is float32, h_prev is float64"):
        lstm_step_backward((dh32, None), lstm_cache)
    with pytest.raises(TypeError, match="dc_t is float32, h_prev is float64"):
        lstm_step_backward((np.ones((B, H)), dh32), lstm_cache)
    with pytest.raises(TypeError, match="dh_t is float32, h_prev is float64"):
        gru_step_backward(dh32, gru_cache)
    with pytest.raises(TypeError, match=r"dstate should be a tuple \(dh_t, dc_t\), .* but is ndarray"):
        lstm_step_backward(np.ones((B, H)), lstm_cache)
    with pytest.raises(ValueError, match=r"dstate should be a pair \(dh_t, dc_t\), but holds 3 items"):
        lstm_step_backward((np.ones((B, H)), None, None), lstm_cache)


@pytest.mark.parametrize("kind", ["lstm", "gru"])
def test_sequence_backward_takes_gradients_into_the_final_states_like_autograd(kind):
    """dh_T (and the LSTM's dc_T) flow in from outside the sequence, as in rnn_backward: checked against
    autograd through torch.nn.LSTM/GRU with a loss that also reads h_T and c_T."""
    T = 6
    torch.manual_seed(8)
    ref = (torch.nn.LSTM if kind == "lstm" else torch.nn.GRU)(D, H, dtype=torch.float64)
    p = torch_weights(ref)
    rng = np.random.default_rng(8)
    x, dhs, dh_T, dc_T = (rng.normal(size=s) for s in [(T, B, D), (T, B, H), (B, H), (B, H)])
    xt = torch.tensor(x, requires_grad=True)
    out, final = ref(xt)
    loss = (out * torch.tensor(dhs)).sum()
    if kind == "lstm":
        loss = loss + (final[0][0] * torch.tensor(dh_T)).sum() + (final[1][0] * torch.tensor(dc_T)).sum()
        _, cache = lstm_forward(x, None, None, **p)
        grads = lstm_backward(dhs, cache, dh_T=dh_T, dc_T=dc_T)
    else:
        loss = loss + (final[0] * torch.tensor(dh_T)).sum()
        _, cache = gru_forward(x, None, **p)
        grads = gru_backward(dhs, cache, dh_T=dh_T)
    loss.backward()
    assert rel_error(grads["x"], xt.grad.numpy()) < 1e-10
    assert rel_error(grads["W_hh"], ref.weight_hh_l0.grad.numpy()) < 1e-10
    backward = lstm_backward if kind == "lstm" else gru_backward
    with pytest.raises(ValueError, match=rf"dh_T should have shape \(B, H\) = \({B}, {H}\).*shape of the final state"):
        backward(dhs, cache, dh_T=np.zeros((B, H + 1)))
    with pytest.raises(TypeError, match="dh_T is float32"):
        backward(dhs, cache, dh_T=np.zeros((B, H), np.float32))


def test_sequence_backward_names_a_wrong_cache():
    """The other cell's cache, the whole (hs, cache) pair or None give a TypeError that says what came,
    not a bare unpacking error; the right cache as a plain tuple of its fields still works."""
    rng = np.random.default_rng(0)
    x = rng.normal(size=(3, B, D))
    hs, lstm_cache = lstm_forward(x, None, None, rng.normal(size=(4 * H, D)), rng.normal(size=(4 * H, H)),
                                  np.zeros(4 * H))
    _, gru_cache = gru_forward(x, None, rng.normal(size=(3 * H, D)), rng.normal(size=(3 * H, H)),
                               np.zeros(3 * H), np.zeros(3 * H))
    dhs = np.ones_like(hs)
    with pytest.raises(TypeError, match=re.escape("cache should be the GRUCache returned by gru_forward, but is an "
                                                  "LSTMCache: pass the cache that gru_forward returned (its second "
                                                  "value)")):
        gru_backward(dhs, lstm_cache)
    with pytest.raises(TypeError, match=re.escape("cache should be the LSTMCache returned by lstm_forward, but is a "
                                                  "GRUCache")):
        lstm_backward(dhs, gru_cache)
    with pytest.raises(TypeError, match=re.escape("cache should be the LSTMCache returned by lstm_forward, but is a "
                                                  "tuple of 2 values, not 8")):
        lstm_backward(dhs, (hs, lstm_cache))
    with pytest.raises(TypeError, match=re.escape("cache should be the GRUCache returned by gru_forward, but is a "
                                                  "dict")):
        gru_backward(dhs, {"hs": hs})
    with pytest.raises(TypeError, match="but is None"):
        gru_backward(dhs, None)
    assert np.array_equal(lstm_backward(dhs, tuple(lstm_cache))["x"], lstm_backward(dhs, lstm_cache)["x"])



def _sequence_and_step_calls(cell, x, W_xh, W_hh, H):
    """``forward(x, ...)`` and ``step(x[0], ...)`` of ``cell`` with zero states and zero biases."""
    B, rows = x.shape[1], W_xh.shape[0]
    if cell == "lstm":
        return (lambda: lstm_forward(x, None, None, W_xh, W_hh, np.zeros(rows)),
                lambda: lstm_step_forward(x[0], np.zeros((B, H)), np.zeros((B, H)), W_xh, W_hh, np.zeros(rows)))
    return (lambda: gru_forward(x, None, W_xh, W_hh, np.zeros(rows), np.zeros(rows)),
            lambda: gru_step_forward(x[0], np.zeros((B, H)), W_xh, W_hh, np.zeros(rows), np.zeros(rows)))


@pytest.mark.parametrize("cell, n", [("lstm", 4), ("gru", 3)])
def test_zero_hidden_units_or_input_features_are_refused_as_by_the_elman_and_torch_twins(cell, n):
    # They used to give empty results where torch.nn.LSTMCell(3, 0) and the Elman functions refuse.
    no_hidden = "hidden_size H should be an integer >= 1, but is 0: W_hh has shape (0, 0), W_xh (0, 3);"
    for call in _sequence_and_step_calls(cell, np.ones((4, 2, 3)), np.zeros((0, 3)), np.zeros((0, 0)), 0):
        with pytest.raises(ValueError, match="^" + re.escape(no_hidden)):
            call()
    no_input = f"input_size D should be an integer >= 1, but is 0: x has shape (4, 2, 0) and W_xh ({n * 5}, 0);"
    forward, step = _sequence_and_step_calls(cell, np.ones((4, 2, 0)), np.zeros((n * 5, 0)), np.zeros((n * 5, 5)), 5)
    with pytest.raises(ValueError, match="^" + re.escape(no_input)):
        forward()
    at_one_step = no_input.replace("x has shape (4, 2, 0)", "x_t has shape (2, 0)")
    with pytest.raises(ValueError, match="^" + re.escape(at_one_step)):
        step()


def _step(cell, x_t, h_prev):
    """One LSTM or GRU step with B = 3, D = 3, H = 4 and zero weights."""
    if cell == "lstm":
        return lstm_step_forward(x_t, h_prev, np.zeros((3, H)), np.zeros((4 * H, D)), np.zeros((4 * H, H)),
                                 np.zeros(4 * H))
    return gru_step_forward(x_t, h_prev, np.zeros((3 * H, D)), np.zeros((3 * H, H)), np.zeros(3 * H), np.zeros(3 * H))


@pytest.mark.parametrize("x_t, h_prev, error, message", [
    (np.zeros((3, D)), np.zeros((1, H)), ValueError,
     r"^h_prev should have shape \(B, H\) = \(3, 4\), but has shape \(1, 4\) \(axis 0, B, is 1 instead of 3\)$"),
    (np.zeros((3, D)), np.full((3, H), np.nan), ValueError, r"^h_prev contains NaN or infinity"),
    (np.full((3, D), np.nan), np.zeros((3, H)), ValueError, r"^x_t contains NaN or infinity"),
    (np.zeros((1, 3, D)), np.zeros((3, H)), ValueError,
     r"^x_t should have 2 dimensions with shape \(B, D\), but has 3 dimensions .*; x_t is one time step of shape "
     r"\(B, D\)$"),
    (np.zeros((3, D)).tolist(), np.zeros((3, H)), TypeError, r"^x_t should be a numpy\.ndarray, but is builtins\.list"),
    (np.zeros((3, D)), np.zeros((3, H)).tolist(), TypeError,
     r"^h_prev should be a numpy\.ndarray, but is builtins\.list"),
], ids=["h_prev shape", "h_prev nan", "x_t nan", "x_t 3-D", "x_t list", "h_prev list"])
@pytest.mark.parametrize("cell", ["lstm", "gru"])
def test_step_forward_checks_x_t_and_h_prev(cell, x_t, h_prev, error, message):
    with pytest.raises(error, match=message):
        _step(cell, x_t, h_prev)
