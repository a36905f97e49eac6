"""Truncated BPTT as chapter 4 runs it (model_loss chunk by chunk) against a torch reference that detaches the state."""

import numpy as np
import pytest
import torch

from rnncourse.numpy import init_model_params, init_rnn_params, model_loss, rnn_forward, tbptt_chunks

T, B, D, H = 9, 2, 3, 4


def setup(seed=0):
    rng = np.random.default_rng(seed)
    params = init_rnn_params(D, H, rng=rng)
    params["W_hh"] *= 3.0                          # make cross-chunk gradients clearly non-zero
    x, h0, dhs = rng.normal(size=(T, B, D)), rng.normal(size=(B, H)), rng.normal(size=(T, B, H))
    return x, h0, params, dhs


def test_chunks():
    assert tbptt_chunks(7, 3) == [(0, 3), (3, 6), (6, 7)]
    assert tbptt_chunks(6, 3) == [(0, 3), (3, 6)]
    assert tbptt_chunks(4, 10) == [(0, 4)]
    assert tbptt_chunks(3, 1) == [(0, 1), (1, 2), (2, 3)]
    with pytest.raises(ValueError, match="k should be an integer >= 1"):
        tbptt_chunks(5, 0)


def test_truncation_does_not_change_the_states():
    x, h0, params, _ = setup()
    hs_full, _ = rnn_forward(x, h0, **params)
    h, pieces = h0, []
    for start, stop in tbptt_chunks(T, 4):
        hs_c, _ = rnn_forward(x[start:stop], h, **params)
        h = hs_c[-1]
        pieces.append(hs_c)
    np.testing.assert_allclose(np.concatenate(pieces), hs_full, atol=1e-15)


def test_chunked_model_loss_equals_truncated_backward():
    """Training chunk by chunk with model_loss gives the gradients of torch with the state detached every k steps."""
    rng = np.random.default_rng(5)
    params = init_model_params(D, H, 3, rng=rng)
    x, y = rng.normal(size=(T, B, D)), rng.normal(size=(T, B, 3))
    k = 4
    total = {name: np.zeros_like(p) for name, p in params.items()}
    h = None
    for start, stop in tbptt_chunks(T, k):
        _, grads, hs_c = model_loss(params, x[start:stop], y[start:stop], h0=h, loss="mse")
        weight = (stop - start) / T                  # each chunk's loss is a mean over its own steps
        for name in total:
            total[name] += weight * grads[name]
        h = hs_c[-1]

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
