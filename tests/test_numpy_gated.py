"""Tests of rnncourse.numpy.gated: the NumPy LSTM and GRU steps equal torch.nn.LSTMCell / GRUCell."""

import numpy as np
import pytest
import torch

from rnncourse.numpy.gated import gru_step_forward, lstm_step_forward, sigmoid

D, H, B = 3, 4, 2


def weights(cell):
    return [p.detach().numpy() for p in (cell.weight_ih, cell.weight_hh, cell.bias_ih, cell.bias_hh)]


def test_lstm_step_equals_torch():
    torch.manual_seed(0)
    cell = torch.nn.LSTMCell(D, H, dtype=torch.float64)
    rng = np.random.default_rng(0)
    x, h, c = rng.normal(size=(B, D)), rng.normal(size=(B, H)), rng.normal(size=(B, H))
    h_t, c_t = lstm_step_forward(x, h, c, *weights(cell))
    h_ref, c_ref = cell(torch.tensor(x), (torch.tensor(h), torch.tensor(c)))
    assert np.allclose(h_t, h_ref.detach().numpy(), atol=1e-14)
    assert np.allclose(c_t, c_ref.detach().numpy(), atol=1e-14)


def test_gru_step_equals_torch():
    torch.manual_seed(1)
    cell = torch.nn.GRUCell(D, H, dtype=torch.float64)
    rng = np.random.default_rng(1)
    x, h = rng.normal(size=(B, D)), rng.normal(size=(B, H))
    ref = cell(torch.tensor(x), torch.tensor(h)).detach().numpy()
    assert np.allclose(gru_step_forward(x, h, *weights(cell)), ref, atol=1e-14)


def test_hand_computed_gru_step():
    # Zero weights and biases: r = z = 0.5, n = 0, so h_t = 0.5 * h_prev.
    z = [np.zeros((3, 1)), np.zeros((3, 1)), np.zeros(3), np.zeros(3)]
    assert gru_step_forward(np.ones((1, 1)), np.full((1, 1), 4.0), *z)[0, 0] == pytest.approx(2.0)


def test_sigmoid_is_stable_and_exact():
    a = np.array([-800.0, -1.0, 0.0, 2.0, 800.0])
    assert np.allclose(sigmoid(a), [0.0, 1 / (1 + np.e), 0.5, 1 / (1 + np.exp(-2.0)), 1.0])


def test_clear_errors():
    rng = np.random.default_rng(0)
    W_ih, W_hh, b = rng.normal(size=(4 * H, D)), rng.normal(size=(4 * H, H)), np.zeros(4 * H)
    x, h = np.zeros((B, D)), np.zeros((B, H))
    with pytest.raises(ValueError, match=r"W_ih should have shape \(4H, D\) = \(16, 3\).*stacks 4 gates"):
        lstm_step_forward(x, h, h, W_ih[:, :2], W_hh, b, b)
    with pytest.raises(ValueError, match=r"c_prev should have shape \(B, H\) = \(2, 4\)"):
        lstm_step_forward(x, h, h[:1], W_ih, W_hh, b, b)
    with pytest.raises(ValueError, match=r"W_hh should have shape \(3H, H\)"):
        gru_step_forward(x, h, W_ih[:12], W_hh, b[:12], b[:12])
