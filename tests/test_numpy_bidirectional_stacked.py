"""rnncourse.numpy.bidirectional and .stacked against torch.nn.RNN (packed and not) and finite differences."""

import numpy as np
import pytest
import torch
from torch import nn

from rnncourse.numpy import grad_check
from rnncourse.numpy.bidirectional import birnn_backward, birnn_forward
from rnncourse.numpy.many_to_one import last_states
from rnncourse.numpy.padding import length_mask
from rnncourse.numpy.stacked import stacked_rnn_backward, stacked_rnn_forward
from rnncourse.torch.convert import params_from_rnn, rnn_from_params
from rnncourse.torch.padding import packed_rnn_forward


def _bi_case(seed=0, T=6):
    torch.manual_seed(seed)
    rng = np.random.default_rng(seed)
    B, D, H = 4, 3, 5
    lengths = np.minimum([6, 2, 4, 1], T)
    x = rng.normal(size=(T, B, D)) * length_mask(lengths, T)[..., None]
    rnn = nn.RNN(D, H, bidirectional=True, dtype=torch.float64)
    with torch.no_grad():                                      # two different biases: the sum must be used
        rnn.bias_hh_l0.add_(0.3)
        rnn.bias_hh_l0_reverse.sub_(0.2)
    return rnn, x, lengths, H


def test_birnn_forward_equals_packed_nn_rnn_and_each_sequence_alone():
    rnn, x, lengths, H = _bi_case()
    params = params_from_rnn(rnn)
    out, _ = birnn_forward(x, params, lengths)
    out_t, h_n = packed_rnn_forward(rnn, torch.from_numpy(x), torch.from_numpy(lengths))
    np.testing.assert_allclose(out, out_t.detach().numpy(), rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(last_states(out[..., :H], lengths), h_n[0].detach().numpy(), rtol=1e-12)
    np.testing.assert_allclose(out[0, :, H:], h_n[1].detach().numpy(), rtol=1e-12)
    for b, L in enumerate(lengths):
        alone, _ = rnn(torch.from_numpy(x[:L, b:b + 1]))
        np.testing.assert_allclose(out[:L, b], alone[:, 0].detach().numpy(), rtol=1e-12, atol=1e-14)


def test_birnn_without_lengths_equals_plain_nn_rnn():
    rnn, x, _, _ = _bi_case(1)
    out, _ = birnn_forward(x, params_from_rnn(rnn))
    np.testing.assert_allclose(out, rnn(torch.from_numpy(x))[0].detach().numpy(), rtol=1e-12, atol=1e-14)


@pytest.mark.parametrize("T", [6, 1])      # T = 1: both directions read the same single step
def test_birnn_backward_equals_autograd_and_finite_differences(T):
    rnn, x, lengths, H = _bi_case(2, T)
    params = params_from_rnn(rnn)
    w = np.random.default_rng(9).normal(size=x.shape[:2] + (2 * H,))
    out, cache = birnn_forward(x, params, lengths)
    grads = birnn_backward(w, cache)
    x_t = torch.from_numpy(x).requires_grad_()
    out_t, _ = packed_rnn_forward(rnn, x_t, torch.from_numpy(lengths))
    (out_t * torch.from_numpy(w)).sum().backward()
    np.testing.assert_allclose(grads["x"], x_t.grad.numpy(), rtol=1e-10, atol=1e-13)
    for s in ("_l0", "_l0_reverse"):
        np.testing.assert_allclose(grads["W_xh" + s], getattr(rnn, "weight_ih" + s).grad.numpy(), rtol=1e-10)
        np.testing.assert_allclose(grads["W_hh" + s], getattr(rnn, "weight_hh" + s).grad.numpy(), rtol=1e-10)
        np.testing.assert_allclose(grads["b_h" + s], getattr(rnn, "bias_hh" + s).grad.numpy(), rtol=1e-10)
    arrays = {"x": x, **params}
    f = lambda: float((birnn_forward(arrays["x"], arrays, lengths)[0] * w).sum())  # noqa: E731
    assert max(grad_check(f, arrays, grads).values()) < 1e-8


@pytest.mark.parametrize("L", [1, 2, 3])      # L = 1: the top layer is also the bottom one
def test_stacked_equals_nn_rnn_forward_and_backward(L):
    torch.manual_seed(3)
    rng = np.random.default_rng(3)
    T, B, D, H = 5, 3, 2, 4
    rnn = nn.RNN(D, H, num_layers=L, dtype=torch.float64)
    params = params_from_rnn(rnn)
    x, h0 = rng.normal(size=(T, B, D)), rng.normal(size=(L, B, H)) * 0.5
    out, cache = stacked_rnn_forward(x, h0, params)
    x_t, h0_t = torch.from_numpy(x).requires_grad_(), torch.from_numpy(h0).requires_grad_()
    out_t, h_n_t = rnn(x_t, h0_t)
    np.testing.assert_allclose(out, out_t.detach().numpy(), rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(cache.h_n, h_n_t.detach().numpy(), rtol=1e-12, atol=1e-14)
    dout, dh_n = rng.normal(size=out.shape), rng.normal(size=cache.h_n.shape)
    grads = stacked_rnn_backward(dout, cache, dh_n)
    ((out_t * torch.from_numpy(dout)).sum() + (h_n_t * torch.from_numpy(dh_n)).sum()).backward()
    np.testing.assert_allclose(grads["x"], x_t.grad.numpy(), rtol=1e-10, atol=1e-13)
    np.testing.assert_allclose(grads["h0"], h0_t.grad.numpy(), rtol=1e-10, atol=1e-13)
    for l in range(L):
        np.testing.assert_allclose(grads[f"W_xh_l{l}"], getattr(rnn, f"weight_ih_l{l}").grad.numpy(), rtol=1e-10)
        np.testing.assert_allclose(grads[f"W_hh_l{l}"], getattr(rnn, f"weight_hh_l{l}").grad.numpy(), rtol=1e-10)
        np.testing.assert_allclose(grads[f"b_h_l{l}"], getattr(rnn, f"bias_ih_l{l}").grad.numpy(), rtol=1e-10)
    arrays = {"x": x, "h0": h0, **params}

    def f():
        o, c = stacked_rnn_forward(arrays["x"], arrays["h0"], arrays)
        return float((o * dout).sum() + (c.h_n * dh_n).sum())

    assert max(grad_check(f, arrays, grads).values()) < 1e-8


def test_rnn_from_params_round_trip_and_dropout_only_in_training():
    torch.manual_seed(4)
    rnn = nn.RNN(3, 4, num_layers=2, dropout=0.5, dtype=torch.float64)
    params = params_from_rnn(rnn)
    copy = rnn_from_params(params, dropout=0.5)
    x = torch.randn(5, 2, 3, dtype=torch.float64)
    rnn.eval(), copy.eval()
    np.testing.assert_allclose(copy(x)[0].detach().numpy(), rnn(x)[0].detach().numpy(), rtol=1e-12)
    np.testing.assert_allclose(stacked_rnn_forward(x.numpy(), None, params)[0], rnn(x)[0].detach().numpy(),
                               rtol=1e-12, atol=1e-14)
    rnn.train()
    torch.manual_seed(0)
    assert not torch.allclose(rnn(x)[0], copy(x)[0])           # dropout between the layers acts in training


def test_errors():
    with pytest.raises(ValueError, match="params should be a dict with the keys W_xh_l0, .* but lacks W_xh_l0, "):
        birnn_forward(np.zeros((2, 1, 3)), {"W_xh": np.zeros((4, 3))})
    with pytest.raises(TypeError, match="params should be a dict with the keys W_xh_l0, .* but is list"):
        stacked_rnn_forward(np.zeros((2, 1, 3)), None, [np.zeros((4, 3))])
    with pytest.raises(ValueError, match="params should be a dict with the keys W_xh_l0, W_hh_l0, b_h_l0, but lacks "
                                         "W_hh_l0, b_h_l0; params_from_rnn"):
        rnn_from_params({"W_xh_l0": np.zeros((4, 3))})
    params = params_from_rnn(nn.RNN(3, 4, num_layers=2, dtype=torch.float64))
    with pytest.raises(ValueError, match=r"h0 should have shape \(L, B, H\)"):
        stacked_rnn_forward(np.zeros((2, 1, 3)), np.zeros((1, 1, 4)), params)
    del params["b_h_l1"]
    with pytest.raises(ValueError, match="lacks b_h_l1"):
        stacked_rnn_forward(np.zeros((2, 1, 3)), None, params)
    with pytest.raises(TypeError, match="rnn should be a torch.nn.RNN"):
        params_from_rnn(nn.GRU(3, 4))
    with pytest.raises(ValueError, match=r"rnn should be time-major \(batch_first=False\)"):
        packed_rnn_forward(nn.RNN(3, 4, batch_first=True), torch.zeros(2, 1, 3), torch.tensor([2]))
    with pytest.raises(TypeError, match="rnn should be a torch.nn.RNN, GRU or LSTM, but is Linear"):
        packed_rnn_forward(nn.Linear(3, 4), torch.zeros(2, 1, 3), torch.tensor([2]))


def test_packed_rnn_forward_checks_x_lengths_and_h0_once():
    torch.manual_seed(5)
    rnn, x, lengths = nn.RNN(3, 4), torch.randn(5, 2, 3), torch.tensor([5, 5])
    h0 = torch.randn(1, 2, 4)
    out, h_n = packed_rnn_forward(rnn, x, lengths, h0)
    ref_out, ref_h_n = rnn(x, h0)                               # full lengths: packing changes nothing
    torch.testing.assert_close(out, ref_out)
    torch.testing.assert_close(h_n, ref_h_n)
    with pytest.raises(ValueError, match=r"h0 should have shape \(num_layers \* num_directions, B, H\) = "
                                         r"\(1, 2, 4\), but has shape \(1, 3, 4\)"):
        packed_rnn_forward(rnn, x, lengths, torch.randn(1, 3, 4))
    with pytest.raises(ValueError, match=r"axis 0, num_layers \* num_directions, is 2 instead of 1"):
        packed_rnn_forward(rnn, x, lengths, torch.randn(2, 2, 4))
    with pytest.raises(ValueError, match=r"x should have shape \(T, B, D\) = \(T, B, 3\)"):
        packed_rnn_forward(rnn, torch.randn(5, 2, 7), lengths)
    with pytest.raises(TypeError, match=r"x has dtype torch.float64 but rnn has dtype torch.float32"):
        packed_rnn_forward(rnn, x.double(), lengths)
    with pytest.raises(TypeError, match=r"h0 has dtype torch.float64 but rnn has dtype torch.float32"):
        packed_rnn_forward(rnn, x, lengths, h0.double())
    lstm = nn.LSTM(3, 4)
    with pytest.raises(TypeError, match=r"h0 should be a pair \(h0, c0\) for an LSTM, but is Tensor"):
        packed_rnn_forward(lstm, x, lengths, h0)
    with pytest.raises(ValueError, match=r"c0 should have shape .* = \(1, 2, 4\), but has shape \(1, 3, 4\)"):
        packed_rnn_forward(lstm, x, lengths, (h0, torch.zeros(1, 3, 4)))


def test_reverse_padded_and_masked_cross_entropy_check_their_inputs():
    from rnncourse.torch.padding import masked_cross_entropy, reverse_padded

    with pytest.raises(TypeError, match="x should be a torch.Tensor, but is list"):
        reverse_padded([[1, 2]], torch.tensor([1, 1]))
    with pytest.raises(ValueError, match=r"x should have shape \(T, B\) or \(T, B, ...\), time-major, but has "
                                         r"shape \(3,\)"):
        reverse_padded(torch.zeros(3), torch.tensor([1]))
    logits, targets = torch.randn(3, 2, 4), torch.zeros(3, 2, dtype=torch.long)
    with pytest.raises(ValueError, match=r"mask should hold bools or 0/1 values \(non-negative weights\), but "
                                         "has negative values"):
        masked_cross_entropy(logits, targets, torch.full((3, 2), -1.0))
    with pytest.raises(ValueError, match="mask should hold bools or 0/1 values"):
        masked_cross_entropy(logits, targets, torch.tensor([[1.0, -1.0]] * 3))     # sums to 3, still wrong
    with pytest.raises(ValueError, match="mask contains NaN or infinity"):
        masked_cross_entropy(logits, targets, torch.full((3, 2), float("nan")))
    with pytest.raises(TypeError, match="targets should hold integer class indices"):
        masked_cross_entropy(logits, targets.float(), torch.ones(3, 2, dtype=torch.bool))
    with pytest.raises(ValueError, match=r"targets should hold indices in \[0, 4\)"):
        masked_cross_entropy(logits, targets + 4, torch.ones(3, 2, dtype=torch.bool))


def test_rnn_from_params_checks_every_array_and_rejects_extra_keys():
    params = params_from_rnn(nn.RNN(3, 4, num_layers=2, bidirectional=True, dtype=torch.float64))
    assert rnn_from_params(params, bidirectional=True).weight_ih_l1.shape == (4, 8)
    one = {k: v for k, v in params.items() if k.endswith("_l0")}
    with pytest.raises(ValueError, match=r"params\['W_hh_l0'\] should have shape \(H, H\) = \(4, 4\), but has "
                                         r"shape \(5, 5\)"):
        rnn_from_params({**one, "W_hh_l0": np.zeros((5, 5))})
    with pytest.raises(ValueError, match=r"params\['W_xh_l0'\] should have 2 dimensions"):
        rnn_from_params({**one, "W_xh_l0": np.zeros(4)})
    with pytest.raises(ValueError, match=r"params\['W_xh_l1'\] should have shape \(H, D\) = \(4, 8\)"):
        rnn_from_params({**params, "W_xh_l1": np.zeros((4, 4))}, bidirectional=True)
    with pytest.raises(TypeError, match=r"params\['W_xh_l0'\] should hold floating-point numbers"):
        rnn_from_params({k: v.astype(np.int64) for k, v in one.items()})
    with pytest.raises(TypeError, match=r"params\['W_xh_l0'\] should be a numpy.ndarray, but is torch.Tensor"):
        rnn_from_params({**one, "W_xh_l0": torch.zeros(4, 3)})
    with pytest.raises(ValueError, match=r"params\['b_h_l0'\] contains NaN or infinity"):
        rnn_from_params({**one, "b_h_l0": np.full(4, np.nan)})
    with pytest.raises(TypeError, match="all arrays should share one dtype, but W_xh_l0 is float32, W_hh_l0 is "
                                        "float64"):
        rnn_from_params({**one, "W_xh_l0": one["W_xh_l0"].astype(np.float32)})   # was float32, rounding the rest
    with pytest.raises(ValueError, match="params holds W_xh_l0_reverse, .*, b_h_l1_reverse, which a torch.nn.RNN "
                                         "with num_layers=2, bidirectional=False does not have"):
        rnn_from_params(params)
    with pytest.raises(ValueError, match="but lacks W_xh_l0_reverse, W_hh_l0_reverse, b_h_l0_reverse"):
        rnn_from_params(one, bidirectional=True)


def test_stacked_forward_with_h0_and_an_x_without_batch_axis_is_a_value_error():
    rng = np.random.default_rng(0)
    params = {"W_xh_l0": rng.normal(size=(5, 3)), "W_hh_l0": rng.normal(size=(5, 5)), "b_h_l0": np.zeros(5)}
    with pytest.raises(ValueError, match=r"x should have 3 dimensions with shape \(T, B, D\), but has 1 dimensions "
                                         r"with shape \(5,\); x is time-major"):
        stacked_rnn_forward(np.zeros(5), np.zeros((1, 3, 5)), params)    # was an IndexError
    with pytest.raises(ValueError, match=r"h0 should have shape \(L, B, H\) = \(1, 2, H\), but has shape \(1, 3, 5\)"):
        stacked_rnn_forward(np.zeros((4, 2, 3)), np.zeros((1, 3, 5)), params)


def test_num_layers_of_rejects_a_gap_or_reverse_weights_instead_of_ignoring_layers():
    from rnncourse.numpy.stacked import num_layers_of

    params = params_from_rnn(nn.RNN(3, 4, num_layers=3, dtype=torch.float64))
    assert num_layers_of(params) == 3
    assert num_layers_of({**params, "x": np.zeros(1), "h0": np.zeros(1)}) == 3     # other keys are not layers
    gap = {k: v for k, v in params.items() if k != "W_xh_l1"}                         # was 1: layer 2 ignored
    with pytest.raises(ValueError, match=r"^params should hold W_xh, W_hh and b_h for each of its 3 layers "
                                         r"\(l0 \.\. l2\), but lacks W_xh_l1$"):
        num_layers_of(gap)
    no_l1 = {k: v for k, v in params.items() if not k.endswith("_l1")}
    with pytest.raises(ValueError, match=r"^params should hold .* but lacks W_xh_l1, W_hh_l1, b_h_l1$"):
        stacked_rnn_forward(np.zeros((2, 1, 3)), None, no_l1)
    with pytest.raises(ValueError, match=r"^params should hold .* but lacks W_xh_l3, b_h_l3$"):
        num_layers_of({**params, "W_hh_l3": np.zeros((4, 4))})
    bi = params_from_rnn(nn.RNN(3, 4, bidirectional=True, dtype=torch.float64))      # was: forward half only
    with pytest.raises(ValueError, match=r"^params holds W_xh_l0_reverse, W_hh_l0_reverse, b_h_l0_reverse, the "
                                         r"weights of a reverse direction.*birnn_forward"):
        stacked_rnn_forward(np.zeros((2, 1, 3)), None, bi)


def test_stacked_backward_names_dout_and_dh_n():
    rng = np.random.default_rng(0)
    params = params_from_rnn(nn.RNN(3, 4, num_layers=2, dtype=torch.float64))
    out, cache = stacked_rnn_forward(rng.normal(size=(5, 2, 3)), None, params)
    with pytest.raises(ValueError, match=r"^dout should have shape \(T, B, H\) = \(5, 2, 4\), but has shape "
                                         r"\(4, 2, 4\) \(axis 0, T, is 4 instead of 5\)"):
        stacked_rnn_backward(np.zeros((4, 2, 4)), cache)
    with pytest.raises(TypeError, match=r"^all arrays should share one dtype, but dout is float32, out is float64"):
        stacked_rnn_backward(np.zeros((5, 2, 4), np.float32), cache)
    with pytest.raises(TypeError, match=r"^all arrays should share one dtype, but dh_n is float32, cache.h_n is "
                                         r"float64"):
        stacked_rnn_backward(np.zeros((5, 2, 4)), cache, np.zeros((2, 2, 4), np.float32))


def test_weights_are_checked_under_their_own_names():
    bi = params_from_rnn(nn.RNN(2, 5, bidirectional=True, dtype=torch.float64))
    x = np.zeros((3, 2, 2))
    with pytest.raises(ValueError, match=r"^params\['W_hh_l0_reverse'\] should have shape \(H, H\) = \(5, 5\), but "
                                         r"has shape \(4, 4\) .*; both directions have the hidden size H = 5 of "
                                         r"params\['W_hh_l0'\]"):
        birnn_forward(x, {**bi, "W_hh_l0_reverse": np.zeros((4, 4))})
    with pytest.raises(ValueError, match=r"^params\['W_xh_l0_reverse'\] should have shape \(H, D\) = \(5, 2\), but "
                                         r"has shape \(5, 3\)"):
        birnn_forward(x, {**bi, "W_xh_l0_reverse": np.zeros((5, 3))})
    with pytest.raises(ValueError, match=r"^params\['b_h_l0'\] contains NaN"):
        birnn_forward(x, {**bi, "b_h_l0": np.full(5, np.nan)})
    with pytest.raises(TypeError, match=r"^all arrays should share one dtype, but x is float32, "
                                        r"params\['W_xh_l0'\] is float64"):
        birnn_forward(x.astype(np.float32), bi)
    params = params_from_rnn(nn.RNN(3, 4, num_layers=2, dtype=torch.float64))
    with pytest.raises(ValueError, match=r"^params\['W_xh_l1'\] should have shape \(H, D\) = \(4, 4\), but has "
                                         r"shape \(4, 3\) .*; layer 1 reads the states of layer 0, so D is its "
                                         r"hidden size 4"):
        stacked_rnn_forward(np.zeros((2, 1, 3)), None, {**params, "W_xh_l1": np.zeros((4, 3))})
    with pytest.raises(ValueError, match=r"^params\['W_xh_l0'\] should have shape \(H, D\) = \(4, 5\)"):
        stacked_rnn_forward(np.zeros((2, 1, 5)), None, params)


def test_birnn_forward_on_an_empty_x_names_x():
    bi = params_from_rnn(nn.RNN(2, 5, bidirectional=True, dtype=torch.float64))
    with pytest.raises(ValueError, match=r"^x should hold at least one time step and one sequence, but has shape "
                                         r"\(0, 2, 2\)"):
        birnn_forward(np.zeros((0, 2, 2)), bi)                  # was "T should be an integer >= 1"
    with pytest.raises(ValueError, match=r"^x should hold at least one time step and one sequence, but has shape "
                                         r"\(3, 0, 2\)"):
        birnn_forward(np.zeros((3, 0, 2)), bi)


def test_a_stacked_h0_without_layer_axis_or_for_batch_major_x_gets_advice():
    rng = np.random.default_rng(0)
    one = {"W_xh_l0": rng.normal(size=(5, 3)), "W_hh_l0": rng.normal(size=(5, 5)), "b_h_l0": np.zeros(5)}
    two = {**one, "W_xh_l1": rng.normal(size=(5, 5)), "W_hh_l1": rng.normal(size=(5, 5)), "b_h_l1": np.zeros(5)}
    x = np.zeros((4, 2, 3))                                 # (T, B, D)
    with pytest.raises(ValueError, match=r"^h0 should have 3 dimensions .* but has 2 dimensions with shape \(2, 5\); "
                                         r"h0 holds one \(B, H\) state per layer, like torch\.nn\.RNN's h_0; add a "
                                         r"layer axis: h0\[None\]$"):
        stacked_rnn_forward(x, np.zeros((2, 5)), one)
    with pytest.raises(ValueError, match=r"^h0 should have 3 dimensions .*; stack one \(B, H\) state per layer, 2 in "
                                         r"all, on a new first axis with np\.stack"):
        stacked_rnn_forward(x, np.zeros((2, 5)), two)
    with pytest.raises(ValueError, match=r"^h0 should have shape \(L, B, H\) = \(1, 4, H\), but has shape \(1, 2, 5\) "
                                         r".*; h0's second axis is 2, the size of x's first axis: if x is batch-major "
                                         r"\(B, T, D\), make it time-major \(T, B, D\) with x\.transpose\(1, 0, 2\)$"):
        stacked_rnn_forward(x.transpose(1, 0, 2), np.zeros((1, 2, 5)), one)


def test_packed_rnn_forward_s_h0_gets_advice_for_a_missing_layer_axis_or_direction():
    x, lengths = torch.zeros(5, 2, 3), torch.tensor([5, 3])
    with pytest.raises(ValueError, match=r"^h0 should have 3 dimensions .* but has 2 dimensions with shape \(2, 4\); "
                                         r"B comes from x, the rest from rnn; add a layer axis with "
                                         r"h0\.unsqueeze\(0\)$"):
        packed_rnn_forward(nn.RNN(3, 4), x, lengths, torch.zeros(2, 4))
    with pytest.raises(ValueError, match=r"^c0 should have 3 dimensions .*; add a layer axis with c0\.unsqueeze\(0\)$"):
        packed_rnn_forward(nn.LSTM(3, 4), x, lengths, (torch.zeros(1, 2, 4), torch.zeros(2, 4)))
    with pytest.raises(ValueError, match=r"\(axis 0, num_layers \* num_directions, is 1 instead of 2\); B comes from "
                                         r"x, the rest from rnn; a bidirectional rnn takes one \(B, H\) state per "
                                         r"layer and direction, 2 in all: stack, layer by layer, the forward "
                                         r"direction's state and then the reverse direction's on the first axis$"):
        packed_rnn_forward(nn.RNN(3, 4, bidirectional=True), x, lengths, torch.zeros(1, 2, 4))
    with pytest.raises(ValueError, match=r"h0's second axis is 2, the size of x's first axis: if x is batch-major "
                                         r"\(B, T, D\), make it time-major \(T, B, D\) with x\.transpose\(0, 1\)$"):
        packed_rnn_forward(nn.RNN(3, 4), torch.zeros(2, 5, 3), torch.tensor([2, 2, 2, 2, 2]), torch.zeros(1, 2, 4))


@pytest.mark.parametrize("flag", ["no", "False", 1, None])
def test_rnn_from_params_takes_bidirectional_as_true_or_false_only(flag):
    params = params_from_rnn(nn.RNN(3, 4, dtype=torch.float64))
    with pytest.raises(TypeError, match=rf"^bidirectional should be True or False, but is {type(flag).__name__} "):
        rnn_from_params(params, bidirectional=flag)
    assert not rnn_from_params(params, bidirectional=np.bool_(False)).bidirectional     # NumPy's bool is a bool


def test_stacked_backward_names_nonfinite_dout():
    rng = np.random.default_rng(0)
    params = params_from_rnn(nn.RNN(3, 4, num_layers=2, dtype=torch.float64))
    out, cache = stacked_rnn_forward(rng.normal(size=(5, 2, 3)), None, params)
    dout = np.zeros((5, 2, 4))
    dout[1, 1, 1] = np.nan
    with pytest.raises(ValueError, match=r"^dout contains NaN or infinity; "):       # was "dhs contains NaN ..."
        stacked_rnn_backward(dout, cache)


def test_a_stacked_h0_for_batch_major_x_gets_advice_when_b_equals_d():
    # x is batch-major (B, T, D) = (3, 2, 3): B == D, so the advice must compare h0 with x's first two axes, not D.
    rng = np.random.default_rng(0)
    params = {}
    for l, d in enumerate((3, 4)):
        params.update({f"W_xh_l{l}": rng.normal(size=(4, d)), f"W_hh_l{l}": rng.normal(size=(4, 4)),
                       f"b_h_l{l}": np.zeros(4)})
    with pytest.raises(ValueError, match=r"^h0 should have shape \(L, B, H\) = \(2, 2, H\), but has shape \(2, 3, 4\) "
                                         r".*; h0's second axis is 3, the size of x's first axis: if x is batch-major "
                                         r"\(B, T, D\), make it time-major \(T, B, D\) with x\.transpose\(1, 0, 2\)$"):
        stacked_rnn_forward(np.zeros((3, 2, 3)), np.zeros((2, 3, 4)), params)
