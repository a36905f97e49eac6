"""Tests of rnncourse.torch.gated: the from-scratch cells equal torch.nn's on the same weights,
the time loops equal torch.nn.LSTM/GRU, and the memory Jacobian norms are right."""

import warnings

import numpy as np
import pytest
import torch
from torch import nn

from rnncourse.torch.gated import GRU, LSTM, GRUCell, LSTMCell, memory_jacobian_norms

D, H, B, T = 3, 5, 4, 7


def inputs(seed=0):
    g = torch.Generator().manual_seed(seed)
    return (torch.randn(T, B, D, generator=g, dtype=torch.float64),
            torch.randn(B, H, generator=g, dtype=torch.float64),
            torch.randn(B, H, generator=g, dtype=torch.float64))


def test_lstm_cell_equals_torch_values_and_gradients():
    torch.manual_seed(0)
    ref = nn.LSTMCell(D, H, dtype=torch.float64)
    mine = LSTMCell.from_torch(ref)
    x, h, c = inputs()
    out_ref, out_mine = ref(x[0], (h, c)), mine(x[0], (h, c))
    for a, b in zip(out_ref, out_mine):
        assert torch.allclose(a, b, rtol=0, atol=1e-14)
    (out_ref[0].sum() + 2 * out_ref[1].sum()).backward()
    (out_mine[0].sum() + 2 * out_mine[1].sum()).backward()
    assert torch.allclose(mine.W_xh.grad, ref.weight_ih.grad, rtol=0, atol=1e-13)
    assert torch.allclose(mine.W_hh.grad, ref.weight_hh.grad, rtol=0, atol=1e-13)
    assert torch.allclose(mine.b_h.grad, ref.bias_ih.grad, rtol=0, atol=1e-13)
    assert torch.allclose(mine.b_h.grad, ref.bias_hh.grad, rtol=0, atol=1e-13)   # b_h = bias_ih + bias_hh


def test_gru_cell_equals_torch_values_and_gradients():
    torch.manual_seed(1)
    ref = nn.GRUCell(D, H, dtype=torch.float64)
    mine = GRUCell.from_torch(ref)
    x, h, _ = inputs(1)
    a, b = ref(x[0], h), mine(x[0], h)
    assert torch.allclose(a, b, rtol=0, atol=1e-14)
    a.sum().backward()
    b.sum().backward()
    for theirs, ours in [("weight_ih", "W_xh"), ("weight_hh", "W_hh"), ("bias_ih", "b_xh"), ("bias_hh", "b_hh")]:
        assert torch.allclose(getattr(ref, theirs).grad, getattr(mine, ours).grad, rtol=0, atol=1e-13), ours


@pytest.mark.parametrize("kind", ["lstm", "gru"])
def test_to_torch_and_from_torch_round_trip(kind):
    g = torch.Generator().manual_seed(7)
    cell = (LSTMCell if kind == "lstm" else GRUCell)(D, H, dtype=torch.float64, generator=g)
    ref = cell.to_torch()
    assert isinstance(ref, nn.LSTMCell if kind == "lstm" else nn.GRUCell)
    x, h, c = inputs(7)
    state = (h, c) if kind == "lstm" else h
    out, out_ref = cell(x[0], state), ref(x[0], state)
    for a, b in zip(out if kind == "lstm" else [out], out_ref if kind == "lstm" else [out_ref]):
        assert torch.allclose(a, b, rtol=0, atol=1e-14)
    back = type(cell).from_torch(ref)
    for name, p in cell.named_parameters():
        assert torch.allclose(getattr(back, name), p, rtol=0, atol=1e-15), name


def test_default_state_is_zero():
    cell = LSTMCell(D, H, generator=torch.Generator().manual_seed(0), dtype=torch.float64)
    x = torch.randn(B, D, dtype=torch.float64)
    zeros = torch.zeros(B, H, dtype=torch.float64)
    assert all(torch.equal(a, b) for a, b in zip(cell(x), cell(x, (zeros, zeros))))
    gru = GRUCell(D, H, dtype=torch.float64)
    assert torch.equal(gru(x), gru(x, zeros))


def test_lstm_zero_state_is_two_tensors():
    h, c = LSTMCell(D, H).zero_state(torch.zeros(B, D))
    c.add_(1)                                   # e.g. a caller that fills its cell state in place
    assert torch.equal(h, torch.zeros(B, H)) and torch.equal(c, torch.ones(B, H))


def test_lstm_final_states_are_tensors_of_their_own_like_torch_nn():
    lstm = LSTM(D, H, dtype=torch.float64, generator=torch.Generator().manual_seed(0))
    x, h0, c0 = inputs()
    hs, (h_T, c_T) = lstm(x, (h0, c0))
    h_T.detach_()                               # on a view of hs (or of a buffer) this raises
    c_T.detach_()
    with torch.no_grad():
        hs, (h_T, c_T) = lstm(x, (h0, c0))
        kept = h_T.clone()
        hs.zero_()
        assert torch.equal(h_T, kept) and not torch.equal(h_T, hs[-1])
    # the copy keeps the graph: the gradient through h_T is the one through hs[-1]
    hs, (h_T, _) = lstm(x, (h0, c0))
    through_h_T = torch.autograd.grad(h_T.sum(), lstm.cell.W_hh)[0]
    through_hs = torch.autograd.grad(lstm(x, (h0, c0))[0][-1].sum(), lstm.cell.W_hh)[0]
    torch.testing.assert_close(through_h_T, through_hs, rtol=0, atol=1e-14)


@pytest.mark.parametrize("dtype", [torch.float16, torch.bfloat16])
def test_numpy_params_of_a_half_precision_model_names_the_fix(dtype):
    from rnncourse.torch import ElmanRNN, RNNModel
    from rnncourse.torch.jordan import JordanRNN

    for model in (LSTMCell(D, H, dtype=dtype), GRU(D, H, dtype=dtype), ElmanRNN(D, H, dtype=dtype),
                  RNNModel(D, H, 2, dtype=dtype), JordanRNN(D, H, 2, dtype=dtype)):
        with pytest.raises(TypeError, match=rf"^W_\w+ has dtype {dtype}, but the NumPy code computes in float32 or "
                                            r"float64 only; convert the model first with model\.float\(\)"):
            model.numpy_params()
        back = type(model).from_numpy(model.float().numpy_params())      # the fix, both ways
        assert all(torch.equal(p, q) for p, q in zip(back.parameters(), model.parameters()))


def test_hand_computed_lstm_step():
    # All weights 0, biases 0: every gate is 0.5 and g = 0, so c = 0.5 * c_prev and h = 0.5 * tanh(c).
    cell = LSTMCell(1, 1, dtype=torch.float64)
    for p in cell.parameters():
        torch.nn.init.zeros_(p)
    h, c = cell(torch.ones(1, 1, dtype=torch.float64), (torch.zeros(1, 1, dtype=torch.float64),
                                                       torch.full((1, 1), 2.0, dtype=torch.float64)))
    assert c.item() == pytest.approx(1.0) and h.item() == pytest.approx(0.5 * np.tanh(1.0))


@pytest.mark.parametrize("kind", ["lstm", "gru"])
def test_sequence_wrappers_equal_torch_nn(kind):
    torch.manual_seed(2)
    x, h0, c0 = inputs(2)
    ref = (nn.LSTM if kind == "lstm" else nn.GRU)(D, H, dtype=torch.float64)
    mine = (LSTM if kind == "lstm" else GRU).from_torch(ref)
    if kind == "lstm":
        Y_ref, (hT_ref, cT_ref) = ref(x, (h0[None], c0[None]))
        Y, (hT, cT) = mine(x, (h0, c0))
        assert torch.allclose(cT, cT_ref[0], rtol=0, atol=1e-13)
    else:
        Y_ref, hT_ref = ref(x, h0[None])
        Y, hT = mine(x, h0)
    assert torch.allclose(Y, Y_ref, rtol=0, atol=1e-13) and torch.allclose(hT, hT_ref[0], rtol=0, atol=1e-13)
    # to_torch gives back a torch.nn layer that reproduces the original's outputs from the same state
    back = mine.to_torch()
    assert isinstance(back, type(ref))
    state = (h0[None], c0[None]) if kind == "lstm" else h0[None]
    assert torch.allclose(back(x, state)[0], Y_ref, rtol=0, atol=1e-13)


@pytest.mark.parametrize("kind", ["lstm", "gru"])
def test_modules_without_biases_are_copied_with_zero_biases(kind):
    torch.manual_seed(5)
    x, h0, c0 = inputs(5)
    layer = (nn.LSTM if kind == "lstm" else nn.GRU)(D, H, bias=False, dtype=torch.float64)
    cell = (nn.LSTMCell if kind == "lstm" else nn.GRUCell)(D, H, bias=False, dtype=torch.float64)
    mine_layer = (LSTM if kind == "lstm" else GRU).from_torch(layer)
    mine_cell = (LSTMCell if kind == "lstm" else GRUCell).from_torch(cell)
    assert all(torch.equal(getattr(m, name), torch.zeros(len(m.W_hh), dtype=torch.float64))
               for m in (mine_layer.cell, mine_cell) for name in m.bias_names)
    assert torch.allclose(mine_layer(x)[0], layer(x)[0], rtol=0, atol=1e-13)
    state = (h0, c0) if kind == "lstm" else h0
    out, ref = mine_cell(x[0], state), cell(x[0], state)
    assert torch.allclose(out[0] if kind == "lstm" else out, ref[0] if kind == "lstm" else ref, rtol=0, atol=1e-13)


@pytest.mark.parametrize("kind", ["lstm", "gru"])
def test_sequence_gradients_equal_torch_nn(kind):
    torch.manual_seed(8)
    x = inputs(8)[0]
    ref = (nn.LSTM if kind == "lstm" else nn.GRU)(D, H, dtype=torch.float64)
    mine = (LSTM if kind == "lstm" else GRU).from_torch(ref)
    ref(x)[0].pow(2).sum().backward()
    mine(x)[0].pow(2).sum().backward()
    assert torch.allclose(mine.cell.W_hh.grad, ref.weight_hh_l0.grad, rtol=0, atol=1e-12)
    assert torch.allclose(mine.cell.W_xh.grad, ref.weight_ih_l0.grad, rtol=0, atol=1e-12)


def test_forget_bias_sets_the_forget_gate():
    cell = LSTMCell(1, 2, dtype=torch.float64)
    for p in cell.parameters():
        torch.nn.init.zeros_(p)
    cell.set_forget_bias(3.0)
    c_prev = torch.ones(1, 2, dtype=torch.float64)
    _, c = cell(torch.zeros(1, 1, dtype=torch.float64), (torch.zeros(1, 2, dtype=torch.float64), c_prev))
    assert torch.allclose(c, torch.sigmoid(torch.tensor(3.0, dtype=torch.float64)) * c_prev, rtol=0, atol=1e-15)


def test_forget_bias_changes_only_the_forget_rows():
    # set_forget_bias writes rows H..2H of b_h and nothing else: the i, g, o biases and the weights keep
    # their values, so the step equals nn.LSTMCell with only the forget bias replaced.
    cell = LSTMCell(D, H, dtype=torch.float64, generator=torch.Generator().manual_seed(13))
    ref = cell.to_torch()
    with torch.no_grad():
        ref.bias_ih[H:2 * H] = 3.0
    before = {name: p.detach().clone() for name, p in cell.named_parameters()}
    cell.set_forget_bias(3.0)
    expected_b = before["b_h"].clone()
    expected_b[H:2 * H] = 3.0
    assert torch.equal(cell.b_h, expected_b)
    assert torch.equal(cell.W_xh, before["W_xh"]) and torch.equal(cell.W_hh, before["W_hh"])
    x, h, c = inputs(13)
    for a, b in zip(cell(x[0], (h, c)), ref(x[0], (h, c))):
        assert torch.allclose(a, b, rtol=0, atol=1e-14)


@pytest.mark.parametrize("kind", ["lstm", "gru"])
def test_memory_jacobian_norms_match_autograd_on_the_unrolled_network(kind):
    g = torch.Generator().manual_seed(3)
    cell = (LSTMCell if kind == "lstm" else GRUCell)(2, 3, dtype=torch.float64, generator=g)
    x = torch.randn(5, 1, 2, generator=g, dtype=torch.float64)
    norms = memory_jacobian_norms(cell, x)[:, 0]
    assert memory_jacobian_norms(cell, x).shape == (6, 1) and norms[0] == pytest.approx(1.0)
    k = 2                                      # lag 3: d m_5 / d m_2, by running steps 3..5 from a leaf state
    state = None
    for t in range(k):
        state = cell(x[t], state)
    if kind == "lstm":
        h_k = state[0]

        def run(c_k):
            s = (h_k, c_k[None])
            for t in range(k, 5):
                s = cell(x[t], s)
            return s[1][0]
        J = torch.autograd.functional.jacobian(run, state[1][0])
    else:
        def run(h_k):
            s = h_k[None]
            for t in range(k, 5):
                s = cell(x[t], s)
            return s[0]
        J = torch.autograd.functional.jacobian(run, state[0])
    assert norms[5 - k] == pytest.approx(np.linalg.norm(J.numpy(), ord=2), rel=1e-10)
    fro = memory_jacobian_norms(cell, x, ord="fro")[5 - k, 0]              # ord reaches the norm
    assert fro == pytest.approx(np.linalg.norm(J.numpy(), ord="fro"), rel=1e-10)


@pytest.mark.parametrize("ord", [2, "fro"])
def test_cell_path_norms_are_products_of_forget_gates(ord):
    # path="cell" keeps only dc_t/dc_{t-1} = diag(f_t), so dc_T/dc_{T-l} along that path is
    # diag(f_T * ... * f_{T-l+1}); the forget gates are recomputed here from the weights.
    g = torch.Generator().manual_seed(6)
    cell = LSTMCell(2, 3, dtype=torch.float64, generator=g)
    x = torch.randn(5, 1, 2, generator=g, dtype=torch.float64)
    n = cell.hidden_size
    h = c = torch.zeros(1, n, dtype=torch.float64)
    forget = []
    with torch.no_grad():
        for x_t in x:
            a = x_t @ cell.W_xh.T + h @ cell.W_hh.T + cell.b_h
            forget.append(torch.sigmoid(a[0, n:2 * n]).numpy())
            h, c = cell(x_t, (h, c))
    expected = [np.linalg.norm(np.diag(np.prod([np.ones(n)] + forget[len(forget) - lag:], axis=0)), ord=ord)
                for lag in range(len(forget) + 1)]
    norms = memory_jacobian_norms(cell, x, ord=ord, path="cell")
    assert norms.shape == (6, 1)
    np.testing.assert_allclose(norms[:, 0], expected, rtol=1e-12)


def test_forget_gate_near_one_keeps_the_memory_jacobian_near_one():
    g = torch.Generator().manual_seed(4)
    cell = LSTMCell(1, 8, dtype=torch.float64, generator=g)
    cell.set_forget_bias(6.0)
    x = torch.randn(50, 2, 1, generator=g, dtype=torch.float64)
    norms = memory_jacobian_norms(cell, x)
    assert norms.shape == (51, 2) and (norms[-1] > 0.5).all()
    np.testing.assert_allclose(norms[:, 1], memory_jacobian_norms(cell, x[:, 1:])[:, 0])   # one column per sequence


def test_clear_errors():
    cell = LSTMCell(2, 3)
    with pytest.raises(ValueError, match=r"x_t should have shape \(B, D\)"):
        cell(torch.zeros(4, 5))
    with pytest.raises(ValueError, match=r"c_prev should have shape \(B, H\) = \(4, 3\)"):
        cell(torch.zeros(4, 2), (torch.zeros(4, 3), torch.zeros(4, 2)))
    with pytest.raises(ValueError, match="time-major"):
        LSTM(2, 3)(torch.zeros(4, 2))
    with pytest.raises(TypeError, match=r"cell should be a torch.nn.GRUCell, but is LSTMCell\(2, 3\)"):
        GRUCell.from_torch(nn.LSTMCell(2, 3))
    with pytest.raises(TypeError, match="layer should be a torch.nn.LSTM, but is GRU"):
        LSTM.from_torch(nn.GRU(2, 3))
    with pytest.raises(ValueError, match="num_layers=2"):
        LSTM.from_torch(nn.LSTM(2, 3, num_layers=2))
    with pytest.raises(ValueError, match=r"x should have shape \(T, B, D\)"):
        memory_jacobian_norms(GRUCell(2, 3), torch.zeros(4, 2, 3))
    with pytest.raises(ValueError, match=r"h0 should have shape \(B, H\) = \(2, 3\)"):
        GRU(2, 3)(torch.zeros(4, 2, 2), torch.zeros(3, 3))


def test_device_and_dtype_mismatches_are_type_errors():
    cell = LSTMCell(2, 3, dtype=torch.float64)
    with pytest.raises(TypeError, match=r"x_t has dtype torch.float32 but the cell has dtype torch.float64"):
        cell(torch.zeros(4, 2))
    with pytest.raises(TypeError, match=r"c_prev has dtype torch.float32.*call c_prev.to\(torch.float64\)$"):
        cell(torch.zeros(4, 2, dtype=torch.float64), (torch.zeros(4, 3, dtype=torch.float64), torch.zeros(4, 3)))
    with pytest.raises(TypeError, match=r"x is on cpu but the model is on meta; call x.to\('meta'\)$"):
        GRU(2, 3, device="meta")(torch.zeros(4, 2, 2))


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU")
@pytest.mark.parametrize("kind", ["lstm", "gru"])
def test_on_cuda_equal_to_torch_nn_and_a_cpu_input_is_a_type_error(kind):
    torch.manual_seed(9)
    ref = (nn.LSTM if kind == "lstm" else nn.GRU)(D, H, dtype=torch.float64).cuda()
    mine = (LSTM if kind == "lstm" else GRU).from_torch(ref)
    assert mine.cell.W_xh.device.type == "cuda"
    x = inputs(9)[0].cuda().requires_grad_(True)
    Y, Y_ref = mine(x)[0], ref(x)[0]
    assert torch.allclose(Y, Y_ref, rtol=0, atol=1e-12)
    g, = torch.autograd.grad(Y.square().sum(), x)
    g_ref, = torch.autograd.grad(Y_ref.square().sum(), x)
    assert torch.allclose(g, g_ref, rtol=0, atol=1e-12)
    with pytest.raises(TypeError, match=r"x is on cpu but the model is on cuda:0; call x.to\('cuda:0'\)$"):
        mine(inputs(9)[0])


def lstm_by_autograd(cell, x, h0, c0):
    """The reference for LSTM's written-out backward: autograd through LSTMCell, one step at a time."""
    state, hs = (h0, c0), []
    for x_t in x.unbind(0):
        state = cell(x_t, state)
        hs.append(state[0])
    return torch.stack(hs), state


def test_lstm_bptt_passes_gradcheck():
    from rnncourse.torch.lstm_bptt import LSTMBPTT

    g = torch.Generator().manual_seed(4)
    cell = LSTMCell(2, 3, dtype=torch.float64, generator=g)          # small: gradcheck perturbs every entry
    x, h0, c0 = (torch.randn(*shape, dtype=torch.float64, generator=g, requires_grad=True)
                 for shape in ((4, 2, 2), (2, 3), (2, 3)))
    args = (x, h0, c0, cell.W_xh, cell.W_hh, cell.b_h)
    assert torch.autograd.gradcheck(LSTMBPTT.apply, args, eps=1e-6, atol=1e-8, rtol=1e-6)



@pytest.mark.parametrize("frozen", range(6), ids=["x", "h0", "c0", "W_xh", "W_hh", "b_h"])
def test_lstm_bptt_gives_every_input_its_gradient_whichever_is_frozen(frozen):
    # Which gradients backward computes depends on which inputs need one: x's was dropped when b_h was frozen.
    from rnncourse.torch.lstm_bptt import LSTMBPTT

    g = torch.Generator().manual_seed(6)
    cell = LSTMCell(2, 3, dtype=torch.float64, generator=g)
    x, h0, c0 = (torch.randn(*shape, dtype=torch.float64, generator=g) for shape in ((4, 2, 2), (2, 3), (2, 3)))
    G_hs, G_c = (torch.randn(*shape, dtype=torch.float64, generator=g) for shape in ((4, 2, 3), (2, 3)))
    ref = [x, h0, c0, cell.W_xh, cell.W_hh, cell.b_h]
    mine = [t.detach().clone() for t in ref]
    for i, (r, m) in enumerate(zip(ref, mine)):
        r.requires_grad_(i != frozen)
        m.requires_grad_(i != frozen)
    hs, c_T = LSTMBPTT.apply(*mine)
    ((hs * G_hs).sum() + (c_T * G_c).sum()).backward()
    state, loss = (h0, c0), 0
    for t in range(4):                                   # autograd through the cell, step by step
        state = cell.step(x[t], state)
        loss = loss + (state[0] * G_hs[t]).sum()
    (loss + (state[1] * G_c).sum()).backward()
    for i, (r, m) in enumerate(zip(ref, mine)):
        if i == frozen:
            assert m.grad is None
        else:
            torch.testing.assert_close(m.grad, r.grad, rtol=1e-10, atol=1e-12)


def test_lstm_backward_equals_autograd_through_the_cell():
    mine = LSTM(D, H, dtype=torch.float64, generator=torch.Generator().manual_seed(5))
    x, h0, c0 = (t.requires_grad_(True) for t in inputs(5))
    dhs, dh_T, dc_T = (torch.randn(*shape, dtype=torch.float64, generator=torch.Generator().manual_seed(6))
                       for shape in ((T, B, H), (B, H), (B, H)))
    hs, (h_T, c_T) = mine(x, (h0, c0))
    hs_ref, (h_T_ref, c_T_ref) = lstm_by_autograd(mine.cell, x, h0, c0)
    for a, b in ((hs, hs_ref), (h_T, h_T_ref), (c_T, c_T_ref)):
        assert torch.allclose(a, b, rtol=0, atol=1e-14)
    wrt = (x, h0, c0, mine.cell.W_xh, mine.cell.W_hh, mine.cell.b_h)
    grads = torch.autograd.grad((hs * dhs).sum() + (h_T * dh_T).sum() + (c_T * dc_T).sum(), wrt)
    refs = torch.autograd.grad((hs_ref * dhs).sum() + (h_T_ref * dh_T).sum() + (c_T_ref * dc_T).sum(), wrt)
    for name, g, g_ref in zip(("x", "h0", "c0", "W_xh", "W_hh", "b_h"), grads, refs):
        assert torch.allclose(g, g_ref, rtol=0, atol=1e-13), name


def test_lstm_every_gradient_equals_torch_nn():
    torch.manual_seed(10)
    ref = nn.LSTM(D, H, dtype=torch.float64)
    mine = LSTM.from_torch(ref)
    x, h0, c0 = (t.requires_grad_(True) for t in inputs(10))
    hs_ref, (h_T_ref, c_T_ref) = ref(x, (h0[None], c0[None]))
    hs, (h_T, c_T) = mine(x, (h0, c0))
    assert torch.allclose(hs, hs_ref, rtol=0, atol=1e-13) and torch.allclose(c_T, c_T_ref[0], rtol=0, atol=1e-13)
    cell = mine.cell
    ours = (x, h0, c0, cell.W_xh, cell.W_hh, cell.b_h)
    theirs = (x, h0, c0, ref.weight_ih_l0, ref.weight_hh_l0, ref.bias_ih_l0)   # b_h's gradient is bias_ih's
    grads = torch.autograd.grad(hs.sin().sum() + (h_T * c_T).sum(), ours)
    grads_ref = torch.autograd.grad(hs_ref.sin().sum() + (h_T_ref * c_T_ref).sum(), theirs)
    for name, g, g_ref in zip(("x", "h0", "c0", "W_xh", "W_hh", "b_h"), grads, grads_ref):
        assert torch.allclose(g, g_ref, rtol=0, atol=1e-12), name


def test_lstm_saturated_gates_equal_torch_nn_in_float32():
    # The forward computes g = tanh(a_g) as 2 sigmoid(2 a_g) - 1: with large weights most gates sit
    # at 0 or 1 and g at -1 or 1, where a wrong identity or an overflow would show.
    torch.manual_seed(12)
    ref = nn.LSTM(D, H)
    with torch.no_grad():
        for p in ref.parameters():
            p.mul_(40)
    mine = LSTM.from_torch(ref)
    x = (inputs(12)[0] * 3).float().requires_grad_(True)
    hs_ref, (_, c_T_ref) = ref(x)
    hs, (_, c_T) = mine(x)
    a = x.detach() @ ref.weight_ih_l0.detach().t() + ref.bias_ih_l0.detach()   # the input part of a_t
    assert (a.abs() > 10).float().mean() > 0.5                         # mostly saturated gates
    assert torch.allclose(hs, hs_ref, atol=1e-6) and torch.allclose(c_T, c_T_ref[0], atol=1e-5)
    g, = torch.autograd.grad(hs.sum(), x)
    g_ref, = torch.autograd.grad(hs_ref.sum(), x)
    assert torch.isfinite(g).all() and torch.allclose(g, g_ref, atol=1e-4, rtol=1e-4)


def test_lstm_input_without_gradient_and_no_second_derivative():
    mine = LSTM(D, H, dtype=torch.float64, generator=torch.Generator().manual_seed(11))
    x = inputs(11)[0]                                   # data: no gradient wanted
    mine(x)[0].sum().backward()
    assert mine.cell.W_hh.grad is not None and x.grad is None
    g, = torch.autograd.grad(mine(x)[0].square().sum(), mine.cell.W_hh, create_graph=True)
    with pytest.raises(RuntimeError, match="twice"):
        g.sum().backward()


def test_lstm_bptt_makes_its_buffers_on_the_input_device():
    from rnncourse.torch.lstm_bptt import LSTMBPTT

    # Meta tensors have no storage: a buffer made on the CPU would fail to mix with them, as on a GPU.
    x, W_xh, W_hh, b_h = (torch.empty(*shape, device="meta", requires_grad=True)
                          for shape in ((3, B, D), (4 * H, D), (4 * H, H), (4 * H,)))
    h0 = c0 = torch.empty(B, H, device="meta")
    hs, c_T = LSTMBPTT.apply(x, h0, c0, W_xh, W_hh, b_h)
    (hs.sum() + c_T.sum()).backward()
    assert hs.shape == (3, B, H) and c_T.shape == (B, H) and hs.device.type == "meta"
    for p in (x, W_xh, W_hh, b_h):
        assert p.grad.device.type == "meta" and p.grad.shape == p.shape


@pytest.mark.parametrize("make", [LSTMCell, GRUCell, LSTM, GRU], ids=lambda c: c.__name__)
def test_a_dtype_that_is_not_floating_point_raises_type_error(make):
    for dtype in (torch.int32, torch.bool, "float64"):
        with pytest.raises(TypeError, match=r"dtype should be a floating-point torch.dtype .* or None, but is"):
            make(3, 4, dtype=dtype)
    assert make(3, 4, dtype=torch.float64).state_dict()        # float dtypes still build


def test_lstm_runs_under_autocast_in_the_weights_dtype():
    """Mixed precision (here the CPU's bfloat16 autocast): the written-out LSTM runs in float32, with the
    values and gradients of a run without autocast, and the GRU runs too."""
    torch.manual_seed(0)
    lstm, gru = LSTM(3, 4), GRU(3, 4)
    x = torch.randn(6, 2, 3)
    hs_plain = lstm(x)[0]
    hs_plain.sum().backward()
    grads_plain = [p.grad.clone() for p in lstm.parameters()]
    lstm.zero_grad()
    with torch.autocast("cpu", dtype=torch.bfloat16):
        hs = lstm(x)[0]
        assert gru(x)[0].shape == (6, 2, 4)
    assert hs.dtype == torch.float32 and torch.equal(hs, hs_plain)
    hs.sum().backward()
    for p, g in zip(lstm.parameters(), grads_plain):
        assert torch.allclose(p.grad, g, atol=1e-6)


def test_an_lstm_state_that_is_not_a_pair_is_a_type_error_that_says_so():
    x = torch.zeros(3, 2, 4)
    h = torch.zeros(2, 5)
    for state, got in (((h,), "a tuple of 1 item"), ((h, h, h), "a tuple of 3 items"),
                       (torch.zeros(2, 2, 5), r"a torch.Tensor of shape \(2, 2, 5\)"), (h, r"a torch.Tensor of shape \(2, 5\)")):
        with pytest.raises(TypeError, match=rf"the LSTM's state should be a pair \(h0, c0\) .* but is {got}$"):
            LSTM(4, 5)(x, state)
        with pytest.raises(TypeError, match=rf"should be a pair \(h_prev, c_prev\) .* but is {got}$"):
            LSTMCell(4, 5)(x[0], state)
    hs, (h_T, c_T) = LSTM(4, 5)(x, [h, h])                       # a list of two is a pair too
    assert hs.shape == (3, 2, 5)



def test_a_state_that_fits_batch_major_x_or_torch_nn_lstm_gets_that_hint():
    x = torch.zeros(3, 2, 4)                                     # (T, B, D)
    h, h3 = torch.zeros(2, 5), torch.zeros(1, 2, 5)              # (B, H) and torch.nn.LSTM's (num_layers, B, H)
    num_layers = (r"looks like the state of torch\.nn\.RNN \(or LSTM, GRU\), which puts a num_layers axis first, "
                  r"\(num_layers, B, H\); this layer takes one layer's state \(B, H\): pass ")
    with pytest.raises(ValueError, match=r"^h0 should have 2 dimensions .*; h0 " + num_layers + r"h0\[0\]$"):
        LSTM(4, 5)(x, (h3, h3))
    with pytest.raises(ValueError, match=r"^c0 should have 2 dimensions .*; c0 " + num_layers + r"c0\[0\]$"):
        LSTM(4, 5)(x, (h, h3))
    with pytest.raises(ValueError, match=r"^h0 should have 2 dimensions .*; h0 " + num_layers + r"h0\[0\]$"):
        GRU(4, 5)(x, h3)
    with pytest.raises(ValueError, match=r"^h0 should have shape \(B, H\) = \(3, 5\), but has shape \(2, 5\) .*; h0's "
                                         r"first axis is 2, the size of x's first axis: if x is batch-major \(B, T, D\), "
                                         r"make it time-major \(T, B, D\) with x\.transpose\(0, 1\)$"):
        GRU(4, 5)(x.transpose(0, 1), h)

def test_set_forget_bias_takes_a_finite_number():
    cell = LSTMCell(2, 3)
    cell.set_forget_bias(2)
    assert torch.equal(cell.b_h[3:6], torch.full((3,), 2.0))
    with pytest.raises(TypeError, match="value should be a real number, e.g. 1.0, but is str 'a'"):
        cell.set_forget_bias("a")
    with pytest.raises(ValueError, match="value should be a finite number, but is nan"):
        cell.set_forget_bias(float("nan"))
    assert torch.equal(cell.b_h[3:6], torch.full((3,), 2.0))     # unchanged by the refused calls


def test_memory_jacobian_norms_refuses_an_unknown_norm_before_computing():
    with pytest.raises(ValueError, match=r"ord should be one of 2, 'fro', 'nuc', 1, -1, -2, inf, -inf, but is 7"):
        memory_jacobian_norms(LSTMCell(2, 3), torch.zeros(3, 1, 2), ord=7)
    fro = memory_jacobian_norms(LSTMCell(2, 3, dtype=torch.float64), torch.zeros(3, 1, 2, dtype=torch.float64), ord="fro")
    assert fro[0, 0] == pytest.approx(np.sqrt(3))                # the identity's Frobenius norm, H = 3


@pytest.mark.parametrize("kind", ["lstm", "gru"])
def test_numpy_params_and_from_numpy_go_both_ways_and_equal_the_numpy_forward(kind):
    from rnncourse.numpy.gated import gru_forward, lstm_forward

    layer_class, forward = (LSTM, lstm_forward) if kind == "lstm" else (GRU, gru_forward)
    rng = np.random.default_rng(3)
    G = (4 if kind == "lstm" else 3) * H
    params = {"W_xh": rng.normal(size=(G, D)), "W_hh": rng.normal(size=(G, H)) / 3}
    params.update({"b_h": rng.normal(size=G)} if kind == "lstm" else
                  {"b_xh": rng.normal(size=G), "b_hh": rng.normal(size=G)})
    layer = layer_class.from_numpy(params)
    assert layer.cell.W_xh.dtype == torch.float64                       # the arrays' dtype by default
    back = layer.numpy_params()
    assert back.keys() == params.keys() and all(np.array_equal(back[k], params[k]) for k in params)
    x = rng.normal(size=(T, B, D))
    hs_np = forward(x, None, None, **params)[0] if kind == "lstm" else forward(x, None, **params)[0]
    np.testing.assert_allclose(layer(torch.from_numpy(x))[0].detach().numpy(), hs_np, rtol=0, atol=1e-12)
    cell = layer.cell_class.from_numpy(params, dtype=torch.float32)
    assert cell.W_hh.dtype == torch.float32
    with pytest.raises(ValueError, match=rf"params\['W_xh'\] should have shape \({G // H}H, D\) = \({G}, D\), but "
                                         rf"has shape \({G + 1}, {D}\) .* blocks of H = {H} rows"):
        layer_class.from_numpy(dict(params, W_xh=rng.normal(size=(G + 1, D))))
    with pytest.raises(ValueError, match=r"params should be a dict with the keys W_xh, W_hh, b_\w+.* but lacks W_hh"):
        layer_class.from_numpy({"W_xh": params["W_xh"]})


def test_from_numpy_refuses_arrays_of_two_dtypes_as_the_numpy_functions_do():
    from rnncourse.numpy.init import init_output_params, init_rnn_params
    from rnncourse.numpy.jordan import init_jordan_params
    from rnncourse.torch import ElmanRNN, OutputLayer
    from rnncourse.torch.jordan import JordanRNN

    rng = np.random.default_rng(0)
    lstm = LSTMCell(D, H, dtype=torch.float64).numpy_params()
    cases = [(LSTMCell, lstm, "b_h"), (LSTM, lstm, "b_h"), (ElmanRNN, init_rnn_params(D, H, rng=rng), "b_h"),
             (OutputLayer, init_output_params(H, 2, rng=rng), "b_y"),
             (JordanRNN, init_jordan_params(D, H, 2, rng=rng), "b_y")]
    for cls, params, name in cases:
        with pytest.raises(TypeError, match=rf"all arrays should share one dtype, but .*{name} is float32"):
            cls.from_numpy(dict(params, **{name: params[name].astype(np.float32)}))


def test_lstm_bptt_candidate_is_tanh_to_an_absolute_bound_in_float32():
    """LSTMBPTT's g = 2 sigmoid(2 a_g) - 1 is within 2.5e-7 of tanh(a_g) in float32, absolutely (not relatively)."""
    from rnncourse.torch.lstm_bptt import LSTMBPTT

    tiny = torch.logspace(-30, 0, 3001)
    a = torch.cat([torch.linspace(-12, 12, 240001), tiny, -tiny])     # one pre-activation a_g per sequence
    B = a.numel()
    # H = 1, one step from zero states: i = sigmoid(30) = 1.0 exactly in float32, so c_1 = f c_0 + i g = g
    W_xh, W_hh, b_h = torch.tensor([[0.0], [0.0], [1.0], [0.0]]), torch.zeros(4, 1), torch.tensor([30.0, 0, 0, 0])
    _, g = LSTMBPTT.apply(a.view(1, B, 1), torch.zeros(B, 1), torch.zeros(B, 1), W_xh, W_hh, b_h)
    assert g.dtype == torch.float32
    assert (g[:, 0] - torch.tanh(a)).abs().max() <= 2.5e-7
    assert (g[:, 0].double() - torch.tanh(a.double())).abs().max() <= 2.5e-7


def _plain_product_norms(cell, x, ord):
    """The norms of memory_jacobian_norms for one sequence by the unscaled product of the step Jacobians."""
    lstm = isinstance(cell, LSTMCell)
    H = cell.hidden_size

    def step(x_t, s):
        if lstm:
            return torch.cat(cell(x_t, (s[None, :H], s[None, H:])), dim=1)[0]
        return cell(x_t, s[None])[0]

    s = x.new_zeros(2 * H if lstm else H)
    jacobians = []
    with torch.no_grad():
        for x_t in x.unbind(0):
            jacobians.append(torch.autograd.functional.jacobian(lambda v: step(x_t, v), s, vectorize=True))
            s = step(x_t, s)
    block = slice(H, 2 * H) if lstm else slice(0, H)
    P = torch.eye(jacobians[0].shape[0], dtype=x.dtype)
    norms = [np.linalg.norm(P[block, block].double().numpy(), ord=ord)]
    for J in reversed(jacobians):
        P = P @ J
        norms.append(np.linalg.norm(P[block, block].double().numpy(), ord=ord))
    return np.array(norms)


@pytest.mark.parametrize("dtype", [torch.float64, torch.float32])
@pytest.mark.parametrize("ord", [2, "fro"])
@pytest.mark.parametrize("kind", ["lstm", "gru"])
def test_memory_jacobian_norms_equal_the_plain_product_on_the_chapter_case(kind, ord, dtype):
    # Chapter 8's setting: D = 4, H = 16, 100 random steps. Rescaling by powers of two leaves the
    # norms bit for bit as the unscaled product gives them.
    x = torch.tensor(np.random.default_rng(0).normal(size=(100, 1, 4)), dtype=dtype)
    for bias in (0.0, 3.0):
        cell = (LSTMCell if kind == "lstm" else GRUCell)(4, 16, dtype=dtype, generator=torch.Generator().manual_seed(1))
        if kind == "lstm":
            cell.set_forget_bias(bias)
        norms = memory_jacobian_norms(cell, x, ord=ord)[:, 0]
        np.testing.assert_array_equal(norms, _plain_product_norms(cell, x, ord))


@pytest.mark.parametrize("ord", [2, "fro"])
@pytest.mark.parametrize("kind", ["lstm", "gru"])
def test_memory_jacobian_norms_of_float32_beyond_its_range_equal_float64(kind, ord):
    # A large W_hh makes the Jacobian product pass float32's largest number (~3.4e38) while its
    # norms stay finite in float64: the float32 cell must give those, not NaN or a failed SVD.
    cell = (LSTMCell if kind == "lstm" else GRUCell)(2, 16, generator=torch.Generator().manual_seed(0))
    with torch.no_grad():
        cell.W_hh.mul_(40.0)
        for name, p in cell.named_parameters():
            if name.startswith("b"):
                p.zero_()
    cell64 = (LSTMCell if kind == "lstm" else GRUCell)(2, 16, dtype=torch.float64)
    cell64.load_state_dict({k: v.double() for k, v in cell.state_dict().items()})
    x = torch.zeros(100, 1, 2)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        norms = memory_jacobian_norms(cell, x, ord=ord)
    expected = memory_jacobian_norms(cell64, x.double(), ord=ord)
    assert norms.dtype == np.float64 and np.isfinite(norms).all()
    assert expected.max() > 1e39                                       # the case does leave float32's range
    np.testing.assert_allclose(norms, expected, rtol=1e-4)


def test_memory_jacobian_norms_of_a_torch_nn_cell_names_the_copy_that_fits():
    x = torch.zeros(3, 2, 4)
    with pytest.raises(TypeError, match=r"^cell should be an rnncourse.torch LSTMCell or GRUCell, but is "
                                        r"torch.nn.modules.rnn.LSTMCell; copy it with "
                                        r"rnncourse.torch.LSTMCell.from_torch\(cell\)$"):
        memory_jacobian_norms(nn.LSTMCell(4, 5), x)
    with pytest.raises(TypeError, match=r"but is torch.nn.modules.linear.Linear$"):
        memory_jacobian_norms(nn.Linear(4, 5), x)
    cell = LSTMCell.from_torch(nn.LSTMCell(4, 5))
    assert memory_jacobian_norms(cell, x).shape == (4, 2)
