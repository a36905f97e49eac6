"""Truncated BPTT against full BPTT and a torch reference that detaches the state every k steps."""

import numpy as np
import pytest
import torch

from rnncourse.numpy import (
    init_model_params, init_rnn_params, iterate_tbptt, model_loss, rnn_backward, rnn_forward,
    tbptt_chunks, truncated_rnn_backward,
)

T, B, D, H = 9, 2, 3, 4


def setup(seed=0):
    rng = np.random.default_rng(seed)
    params = init_rnn_params(D, H, rng=rng)
    params["W_hh"] *= 3.0                          # make cross-chunk gradients clearly non-zero
    x, h0, dH = rng.normal(size=(T, B, D)), rng.normal(size=(B, H)), rng.normal(size=(T, B, H))
    return x, h0, params, dH


def torch_truncated(x, h0, params, dH, k):
    """Gradients of sum(H * dH) when the state is detached at the start of every chunk of k steps."""
    t = {name: torch.tensor(v, requires_grad=True) for name, v in dict(x=x, h0=h0, **params).items()}
    h, states = t["h0"], []
    for step in range(x.shape[0]):
        if step > 0 and step % k == 0:
            h = h.detach()
        h = torch.tanh(t["x"][step] @ t["W_xh"].T + h @ t["W_hh"].T + t["b_h"])
        states.append(h)
    (torch.stack(states) * torch.from_numpy(dH)).sum().backward()
    return {name: v.grad.numpy() for name, v in t.items()}


def test_chunks():
    assert tbptt_chunks(7, 3) == [(0, 3), (3, 6), (6, 7)]
    assert tbptt_chunks(6, 3) == [(0, 3), (3, 6)]
    assert tbptt_chunks(4, 10) == [(0, 4)]
    assert tbptt_chunks(3, 1) == [(0, 1), (1, 2), (2, 3)]
    with pytest.raises(ValueError, match="k should be an integer >= 1"):
        tbptt_chunks(5, 0)


@pytest.mark.parametrize("k", [T, T + 5])
def test_k_at_least_T_equals_full_bptt(k):
    x, h0, params, dH = setup()
    _, cache = rnn_forward(x, h0, **params)
    full, truncated = rnn_backward(dH, cache), truncated_rnn_backward(dH, cache, k)
    assert set(truncated) == set(full)
    for name in full:
        np.testing.assert_allclose(truncated[name], full[name], rtol=0, atol=1e-14)


@pytest.mark.parametrize("k", [1, 2, 3, 4, 8])
def test_k_below_T_equals_detached_torch_and_differs_from_full(k):
    x, h0, params, dH = setup(seed=k)
    _, cache = rnn_forward(x, h0, **params)
    truncated = truncated_rnn_backward(dH, cache, k)
    expected = torch_truncated(x, h0, params, dH, k)
    for name, g in truncated.items():
        np.testing.assert_allclose(g, expected[name], rtol=0, atol=1e-12, err_msg=name)
    full = rnn_backward(dH, cache)
    assert np.abs(truncated["W_hh"] - full["W_hh"]).max() > 1e-3
    assert np.abs(truncated["h0"] - full["h0"]).max() > 1e-6
    # the last chunk sees no truncation: its input gradients agree with full BPTT
    start = tbptt_chunks(T, k)[-1][0]
    np.testing.assert_allclose(truncated["x"][start:], full["x"][start:], atol=1e-13)


def test_truncation_does_not_change_the_states():
    x, h0, params, _ = setup()
    H_full, _ = rnn_forward(x, h0, **params)
    h, pieces = h0, []
    for x_c, _ in iterate_tbptt(x, 4):
        H_c, _ = rnn_forward(x_c, h, **params)
        h = H_c[-1]
        pieces.append(H_c)
    np.testing.assert_allclose(np.concatenate(pieces), H_full, atol=1e-15)


def test_chunked_model_loss_equals_truncated_backward():
    """Training chunk by chunk with model_loss gives the gradients of truncated_rnn_backward."""
    rng = np.random.default_rng(5)
    params = init_model_params(D, H, 3, rng=rng)
    x, y = rng.normal(size=(T, B, D)), rng.normal(size=(T, B, 3))
    k = 4
    total = {name: np.zeros_like(p) for name, p in params.items()}
    h = None
    for (start, stop), (x_c, y_c) in zip(tbptt_chunks(T, k), iterate_tbptt(x, k, y)):
        np.testing.assert_array_equal(y_c, y[start:stop])
        _, grads, H_c = model_loss(params, x_c, y_c, h0=h, loss="mse")
        weight = (stop - start) / T                  # each chunk's loss is a mean over its own steps
        for name in total:
            total[name] += weight * grads[name]
        h = H_c[-1]

    t = {name: torch.tensor(v, requires_grad=True) for name, v in params.items()}
    h_t, outputs = torch.zeros(B, H, dtype=torch.float64), []
    for step in range(T):
        if step % k == 0:
            h_t = h_t.detach()
        h_t = torch.tanh(torch.from_numpy(x[step]) @ t["W_xh"].T + h_t @ t["W_hh"].T + t["b_h"])
        outputs.append(h_t @ t["W_hy"].T + t["b_y"])
    torch.nn.functional.mse_loss(torch.stack(outputs), torch.from_numpy(y)).backward()
    for name in total:
        np.testing.assert_allclose(total[name], t[name].grad.numpy(), atol=1e-12, err_msg=name)


def test_iterate_tbptt_validates_eagerly():
    x = np.zeros((5, 2, 3))
    with pytest.raises(ValueError, match="targets should have T = 5 steps"):
        iterate_tbptt(x, 2, np.zeros((2, 5)))
    with pytest.raises(ValueError, match="k should be an integer >= 1"):
        iterate_tbptt(x, 0)
    assert [c.shape[0] for c, _ in iterate_tbptt(x, 2)] == [2, 2, 1]
