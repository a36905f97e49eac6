"""rnncourse.torch.topologies: shapes, equality with plain loops, teacher forcing vs greedy, masks, training."""

import math
import re

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from rnncourse.data.grammar import VOCAB, make_sentences
from rnncourse.data.order_tasks import one_hot
from rnncourse.data.seq_tasks import EOS, PAD, regime_signal
from rnncourse.torch import TrainConfig, pick_device, train
from rnncourse.torch.heads import RNNModel
from rnncourse.torch.padding import packed_rnn_forward
from rnncourse.torch.seq2seq import Seq2Seq, fit_seq2seq, greedy_decode, sequence_accuracy, teacher_forcing_loss
from rnncourse.torch.topologies import ManyToOne, OneToMany, Synchronized, last_states

f64 = torch.float64


def gen(seed=0):
    return torch.Generator().manual_seed(seed)


def manual_rnn(rnn, inputs, h):
    """The plain Elman loop, one step at a time, on the weights of ``rnn``; returns the states."""
    states = []
    for x_t in inputs:
        h = torch.tanh(x_t @ rnn.W_xh.T + h @ rnn.W_hh.T + rnn.b_h)
        states.append(h)
    return torch.stack(states)


# ----------------------------------------------------------------------------- one-to-many

@pytest.mark.parametrize("condition", ["first_step", "every_step"])
def test_one_to_many_equals_plain_loop(condition):
    model = OneToMany(3, 5, 4, steps=6, condition=condition, dtype=f64, generator=gen())
    x = torch.randn(2, 3, dtype=f64, generator=gen(1))
    Y, h_T = model(x)
    assert Y.shape == (6, 2, 4) and h_T.shape == (2, 5)
    inputs = [x if (t == 0 or condition == "every_step") else torch.zeros_like(x) for t in range(6)]
    hs = manual_rnn(model.rnn, inputs, torch.zeros(2, 5, dtype=f64))
    torch.testing.assert_close(Y, hs @ model.out.W_hy.T + model.out.b_y)


def test_one_to_many_first_step_reaches_later_steps_only_through_the_state():
    model = OneToMany(2, 4, 3, steps=4, dtype=f64, generator=gen())
    x = torch.randn(1, 2, dtype=f64, requires_grad=True)
    Y, _ = model(x)
    (g,) = torch.autograd.grad(Y[3].sum(), x)
    assert g.abs().sum() > 0                           # x still influences the last output ...
    # ... only through h_1: the gradient of Y[3] with respect to x is the one that reaches x from h_1
    h_1 = torch.tanh(x @ model.rnn.W_xh.T + model.rnn.b_h).detach().requires_grad_()
    later, _ = model.rnn(torch.zeros(3, 1, 2, dtype=f64), h_1)           # steps 2..4 read zeros
    (g_h,) = torch.autograd.grad((later[2] @ model.out.W_hy.T + model.out.b_y).sum(), h_1)
    (g_via_h,) = torch.autograd.grad(torch.tanh(x @ model.rnn.W_xh.T + model.rnn.b_h), x, g_h)
    torch.testing.assert_close(g, g_via_h)


def test_one_to_many_rejects_a_sequence():
    model = OneToMany(3, 4, 2, steps=3)
    with pytest.raises(ValueError, match="one vector per example"):
        model(torch.zeros(5, 2, 3))
    with pytest.raises(ValueError, match="condition should be one of"):
        OneToMany(3, 4, 2, steps=3, condition="sometimes")
    with pytest.raises(ValueError, match=r"^x should hold at least one example, but has shape \(0, 3\)$"):
        model(torch.zeros(0, 3))                 # was an error about an internal (T, 0, D) input


def test_empty_batches_are_refused_where_they_enter():
    # Each of these reached a torch error ("Expected sequence length to be larger than 0", "Cannot pack empty
    # tensors") or a message about an internal array.
    with pytest.raises(ValueError, match=r"^x should hold at least one time step and one sequence, but has shape "
                                         r"\(3, 0, 2\)$"):
        packed_rnn_forward(torch.nn.RNN(2, 3), torch.zeros(3, 0, 2), torch.zeros(0, dtype=torch.long))
    with pytest.raises(ValueError, match=r"^x should hold at least one time step and one sequence, but has shape "
                                         r"\(0, 2, 2\)$"):
        packed_rnn_forward(torch.nn.RNN(2, 3), torch.zeros(0, 2, 2), torch.ones(2, dtype=torch.long))


# ----------------------------------------------------------------------------- many-to-one

def test_many_to_one_with_lengths_equals_each_sequence_alone():
    model = ManyToOne(3, 5, 2, dtype=f64, generator=gen())
    x = torch.randn(6, 3, 3, dtype=f64, generator=gen(1))
    lengths = torch.tensor([6, 2, 4])
    Y, h_L = model(x, lengths)
    assert Y.shape == (3, 2) and h_L.shape == (3, 5)
    for b, n in enumerate(lengths.tolist()):
        alone, _ = model(x[:n, b:b + 1])
        torch.testing.assert_close(Y[b:b + 1], alone)


def test_many_to_one_padding_gets_no_gradient():
    model = ManyToOne(3, 4, 2, dtype=f64, generator=gen())
    x = torch.randn(5, 2, 3, dtype=f64, requires_grad=True)
    Y, _ = model(x, torch.tensor([5, 2]))
    Y.sum().backward()
    assert torch.all(x.grad[2:, 1] == 0) and torch.all(x.grad[:2, 1] != 0)


def numpy_many_to_one_case(seed=0, dtype=np.float64):
    from rnncourse.numpy.model import init_model_params

    rng = np.random.default_rng(seed)
    params = init_model_params(3, 5, 2, rng=rng, dtype=dtype)
    return params, rng.normal(size=(6, 4, 3)).astype(dtype), np.array([6, 2, 4, 1])


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_many_to_one_numpy_params_round_trip_is_exact(dtype):
    params, _, _ = numpy_many_to_one_case(dtype=dtype)
    model = ManyToOne.from_numpy(params)
    assert type(model) is ManyToOne and model.rnn.W_xh.dtype == torch.from_numpy(params["W_xh"][:0]).dtype
    back = model.numpy_params()
    assert list(back) == list(params)
    for name in params:
        assert back[name].dtype == params[name].dtype, name
        np.testing.assert_array_equal(back[name], params[name], err_msg=name)
    back["W_hh"][:] = 0.0                                  # copies: the model keeps its weights
    assert not torch.all(model.rnn.W_hh == 0)
    params["W_hy"][:] = 0.0                                # ... and the model does not share the arrays
    assert not torch.all(model.out.W_hy == 0)


@pytest.mark.parametrize("nonlinearity", ["tanh", "relu"])
@pytest.mark.parametrize("with_lengths", [True, False])
def test_many_to_one_from_numpy_equals_many_to_one_forward(nonlinearity, with_lengths):
    from rnncourse.numpy.many_to_one import many_to_one_forward

    params, x, lengths = numpy_many_to_one_case(seed=1)
    lengths = lengths if with_lengths else None
    model = ManyToOne.from_numpy(params, nonlinearity)
    assert model.rnn.nonlinearity == nonlinearity and model.rnn.W_xh.dtype == f64
    Y, h_L = model(torch.from_numpy(x), None if lengths is None else torch.from_numpy(lengths))
    expected, cache = many_to_one_forward(x, params, lengths, nonlinearity)
    np.testing.assert_allclose(Y.detach().numpy(), expected, rtol=0, atol=1e-12)
    np.testing.assert_allclose(h_L.detach().numpy(), cache.affine.hs, rtol=0, atol=1e-12)


def test_many_to_one_from_numpy_takes_dtype_and_device():
    params, _, _ = numpy_many_to_one_case()
    model = ManyToOne.from_numpy(params, dtype=torch.float32, device="cpu")
    assert all(p.dtype == torch.float32 and p.device.type == "cpu" for p in model.parameters())
    np.testing.assert_allclose(model.numpy_params()["W_hh"], params["W_hh"], rtol=1e-6)


def test_many_to_one_from_numpy_explains_wrong_params():
    params, _, _ = numpy_many_to_one_case()
    keys = "W_xh, W_hh, b_h, W_hy, b_y"
    with pytest.raises(TypeError, match=rf"^params should be a dict with the keys {keys}, but is list; create it "
                                        r"with init_model_params\(...\)$"):
        ManyToOne.from_numpy(list(params.values()))
    with pytest.raises(ValueError, match=rf"^params should be a dict with the keys {keys}, but lacks b_y; create it"):
        ManyToOne.from_numpy({k: v for k, v in params.items() if k != "b_y"})
    with pytest.raises(ValueError, match=r"params\['W_hy'\] should have shape \(O, H\) with H = 5 \(the rows of "
                                         r"W_hh\), but has shape \(2, 4\)"):
        ManyToOne.from_numpy(dict(params, W_hy=np.zeros((2, 4))))
    with pytest.raises(ValueError, match=r"^params\['b_h'\] should have shape \(H,\) = \(5,\), but has shape \(4,\)"):
        ManyToOne.from_numpy(dict(params, b_h=np.zeros(4)))
    with pytest.raises(TypeError, match=r"^params\['W_xh'\] should be a numpy.ndarray, but is torch.Tensor"):
        ManyToOne.from_numpy(dict(params, W_xh=torch.from_numpy(params["W_xh"])))
    with pytest.raises(TypeError, match="all arrays should share one dtype, but .*b_y is float32"):
        ManyToOne.from_numpy(dict(params, b_y=params["b_y"].astype(np.float32)))


def test_packed_rnn_forward_keeps_all_T_steps_when_every_sequence_is_shorter():
    # max(lengths) = 4 < T = 6: out still has the T steps of x, zero past each length, and each
    # sequence's real steps and final state equal torch.nn.GRU run on that sequence alone.
    torch.manual_seed(0)
    rnn = torch.nn.GRU(3, 4, dtype=f64)
    x = torch.randn(6, 2, 3, dtype=f64, generator=gen(2))
    lengths = torch.tensor([4, 2])
    out, h_n = packed_rnn_forward(rnn, x, lengths)
    assert out.shape == (6, 2, 4)
    for b, n in enumerate(lengths.tolist()):
        alone, h_alone = rnn(x[:n, b:b + 1])
        torch.testing.assert_close(out[:n, b:b + 1], alone)
        assert torch.all(out[n:, b] == 0)
        torch.testing.assert_close(h_n[:, b:b + 1], h_alone)


def test_last_states_hand_computed_and_checked():
    hs = torch.arange(12.0).reshape(3, 2, 2)
    torch.testing.assert_close(last_states(hs, torch.tensor([3, 1])), torch.tensor([[8.0, 9.0], [2.0, 3.0]]))
    torch.testing.assert_close(last_states(hs), hs[-1])
    with pytest.raises(ValueError, match=r"lengths should all be in 1..T = 1..3 .*, but the largest is"):
        last_states(hs, torch.tensor([4, 1]))
    with pytest.raises(ValueError, match="1..T"):
        last_states(hs, torch.tensor([0, 1]))


@pytest.mark.parametrize("dtype", [torch.uint8, torch.int8, torch.int16, torch.int32, torch.int64], ids=str)
def test_last_states_takes_lengths_of_every_integer_dtype(dtype):
    # T == B, where a uint8 tensor used as an index would be read as a boolean mask over
    # the time axis and give other states of the right shape.
    hs = torch.arange(18.0).reshape(3, 3, 2)                          # hs[t, b] = (6t + 2b, 6t + 2b + 1)
    for lengths in ([2, 2, 2], [1, 3, 2], [3, 3, 3]):
        got = last_states(hs, torch.tensor(lengths, dtype=dtype))
        expected = torch.stack([hs[n - 1, b] for b, n in enumerate(lengths)])    # by hand
        torch.testing.assert_close(got, expected, rtol=0, atol=0)
        torch.testing.assert_close(got, last_states(hs, torch.tensor(lengths)), rtol=0, atol=0)


@pytest.mark.parametrize("lengths", [None, torch.tensor([3, 3])])
def test_last_states_is_a_tensor_of_its_own_with_or_without_lengths(lengths):
    hs = torch.arange(12.0).reshape(3, 2, 2).requires_grad_()
    h = last_states(hs, lengths)
    h.detach_()                                     # raises on a view of hs
    with torch.no_grad():
        h = last_states(hs, lengths)
        hs.zero_()
    torch.testing.assert_close(h, torch.tensor([[8.0, 9.0], [10.0, 11.0]]))


def test_last_states_checks_hs_and_lengths():
    with pytest.raises(ValueError, match=r"hs should have 3 dimensions with shape \(T, B, H\), but has 2 "
                                         r"dimensions with shape \(2, 4\)"):
        last_states(torch.zeros(2, 4))                           # h_T instead of all states
    with pytest.raises(TypeError, match="hs should be a torch.Tensor, but is list"):
        last_states([1.0, 2.0, 3.0])
    with pytest.raises(TypeError, match="lengths should be a torch.Tensor, but is list"):
        last_states(torch.zeros(3, 2, 4), [1, 2])
    with pytest.raises(ValueError, match=r"lengths should have shape \(B,\) = \(2,\)"):
        last_states(torch.zeros(3, 2, 4), torch.tensor([1, 2, 3]))



@pytest.mark.parametrize("lengths", [[5, 3, 2], (5, 3, 2)], ids=["list", "tuple"])
def test_every_function_taking_lengths_refuses_a_python_sequence_with_the_same_type_error(lengths):
    from rnncourse.torch.padding import length_mask, reverse_padded

    x = torch.zeros(5, 3, 2)
    msg = rf"^lengths should be a torch.Tensor, but is {type(lengths).__name__}; convert it with torch.as_tensor"
    for name, call in {"length_mask": lambda: length_mask(lengths, 5),     # read lengths.device first: AttributeError
                       "reverse_padded": lambda: reverse_padded(x, lengths),
                       "packed_rnn_forward": lambda: packed_rnn_forward(torch.nn.RNN(2, 3), x, lengths),
                       "last_states": lambda: last_states(x, lengths),
                       "ManyToOne": lambda: ManyToOne(2, 3, 2)(x, lengths)}.items():
        with pytest.raises(TypeError, match=msg):
            call()


# ----------------------------------------------------------------------------- synchronized

def test_synchronized_equals_rnn_model_and_is_causal():
    model = Synchronized(2, 4, 3, dtype=f64, generator=gen())
    ref = RNNModel(2, 4, 3, dtype=f64, generator=gen())
    x = torch.randn(7, 2, 2, dtype=f64, generator=gen(1))
    Y, h_T = model(x)
    # y_t = W_hy h_t + b_y at every step, with h_t from the plain Elman loop written above
    hs = manual_rnn(model.rnn, x, torch.zeros(2, 4, dtype=f64))
    torch.testing.assert_close(Y, hs @ model.out.W_hy.T + model.out.b_y)
    torch.testing.assert_close(h_T, hs[-1])
    torch.testing.assert_close(Y, ref(x)[0])             # same generator: the same model as RNNModel
    x2 = x.clone()
    x2[4] += 1.0                                       # change the input at step 5 ...
    Y2, _ = model(x2)
    torch.testing.assert_close(Y2[:4], Y[:4])          # ... earlier outputs do not move
    assert not torch.allclose(Y2[4:], Y[4:])


# ----------------------------------------------------------------------------- seq2seq

def small_seq2seq(seed=0):
    return Seq2Seq(7, 6, 5, dtype=f64, generator=gen(seed))


def test_encode_reads_each_source_up_to_its_padding():
    model = small_seq2seq()
    src = torch.tensor([[3, 4], [5, 6], [4, 0], [6, 0]])     # lengths 4 and 2
    context = model.encode(src)
    alone = model.encode(src[:2, 1:2])
    torch.testing.assert_close(context[1:2], alone)
    assert context.shape == (2, 5)


def test_teacher_forcing_reads_the_true_previous_tokens():
    model = small_seq2seq()
    src = torch.tensor([[3, 4], [5, 6]])
    tgt = torch.tensor([[3, 4], [5, 3], [2, 2]])
    logits = model(src, tgt)
    assert logits.shape == (3, 2, 6)
    changed = tgt.clone()
    changed[1, 0] = 4                                  # change the target at position 1 ...
    logits2 = model(src, changed)
    torch.testing.assert_close(logits2[:2], logits[:2])    # ... positions 0 and 1 do not see it
    assert not torch.allclose(logits2[2, 0], logits[2, 0])  # position 2 reads it as its input


def test_greedy_equals_teacher_forcing_on_its_own_output():
    model = small_seq2seq(3)
    src = torch.tensor([[3, 4, 5], [5, 6, 6], [4, 0, 3]])
    out = model.greedy_decode(src, max_len=4)
    assert out.shape == (4, 3) and out.dtype == torch.long
    # Feeding the greedy output back as the "target" reproduces it (where no eos came before).
    tf = model(src, out).argmax(-1)
    before_eos = torch.cumsum(out == model.eos, 0) - (out == model.eos).long() == 0
    assert torch.equal(tf[before_eos], out[before_eos])


def test_greedy_decode_hand_computed_and_pads_after_eos():
    def step(tokens, h):                               # next token = previous + 1, mod 5
        return F.one_hot((tokens + 1) % 5, 5).double(), h

    h0 = torch.zeros(2, 3)
    out = greedy_decode(step, h0, bos=1, eos=4, max_len=6, pad=0)
    assert out.T.tolist() == [[2, 3, 4, 0, 0, 0]] * 2
    assert greedy_decode(step, h0, bos=1, eos=4, max_len=1).T.tolist() == [[2], [2]]


def test_greedy_decode_pads_each_sequence_after_its_own_eos():
    # Next token = previous + the column's step size h[:, 0], mod 6; eos = 5. From bos = 1 the columns
    # with steps 4, 1, 2 reach 5 after 1, 4 and 2 tokens; step 3 cycles 4, 1, 4, ... and never ends.
    def step(tokens, h):
        return F.one_hot((tokens + h[:, 0].long()) % 6, 6).double(), h

    h0 = torch.tensor([[4.0], [1.0], [2.0], [3.0]])
    out = greedy_decode(step, h0, bos=1, eos=5, max_len=6, pad=0)
    assert out.T.tolist() == [[5, 0, 0, 0, 0, 0], [2, 3, 4, 5, 0, 0], [3, 5, 0, 0, 0, 0], [4, 1, 4, 1, 4, 1]]
    alone = [greedy_decode(step, h0[b:b + 1], bos=1, eos=5, max_len=6)[:, 0].tolist() for b in range(4)]
    assert out.T.tolist() == alone                        # a batch decodes each sequence as if it were alone
    ended = greedy_decode(step, h0[:3], bos=1, eos=5, max_len=6)   # all three end: the loop stops after 4 tokens
    assert ended.T.tolist() == [[5, 0, 0, 0, 0, 0], [2, 3, 4, 5, 0, 0], [3, 5, 0, 0, 0, 0]]


def test_teacher_forcing_loss_ignores_padding():
    logits = torch.randn(3, 2, 4, dtype=f64, generator=gen())
    tgt = torch.tensor([[1, 2], [3, 0], [0, 0]])
    real = [(0, 0), (0, 1), (1, 0)]
    manual = sum(F.cross_entropy(logits[t, b][None], tgt[t, b][None]) for t, b in real) / 3
    torch.testing.assert_close(teacher_forcing_loss(logits, tgt), manual)



@pytest.mark.parametrize("dtype", [torch.int32, torch.int16, torch.uint8, torch.uint16, torch.uint32])
def test_teacher_forcing_loss_takes_integer_targets_of_any_dtype(dtype):
    # Seq2Seq takes any integer ids, so the loss on its logits must too, equal to int64's value and gradient.
    model = small_seq2seq()
    src = torch.tensor([[3, 4], [2, 2]])
    tgt = torch.tensor([[3, 4], [5, 0], [0, 0]])                  # pad = 0 at three positions
    results = []
    for s, y in ((src, tgt), (src.to(dtype), tgt.to(dtype))):
        model.zero_grad()
        loss = teacher_forcing_loss(model(s, y), y, model.pad)
        loss.backward()
        results.append((loss.item(), model.out.W_hy.grad.clone()))
    assert results[1][0] == results[0][0]
    torch.testing.assert_close(results[1][1], results[0][1], rtol=0, atol=0)

def test_sequence_accuracy_hand_computed():
    tgt = torch.tensor([[3, 4], [2, 5], [0, 2]])
    pred = torch.tensor([[3, 4], [2, 6], [1, 2]])      # the pad position of sequence 0 does not count
    token, exact = sequence_accuracy(pred, tgt)
    assert token == pytest.approx(4 / 5) and exact == pytest.approx(0.5)
    with pytest.raises(ValueError, match=r"pred should have shape \(T, B\) = \(3, 2\), but has shape \(2, 2\)"):
        sequence_accuracy(pred[:2], tgt)
    with pytest.raises(TypeError, match="pred should hold integer class indices"):
        sequence_accuracy(pred.float(), tgt)


def test_seq2seq_rejects_a_bos_outside_the_target_vocabulary():
    with pytest.raises(ValueError, match=r"bos should be an id of the target vocabulary, in \[0, 6\), but is 7"):
        Seq2Seq(7, 6, 5, bos=7)
    with pytest.raises(ValueError, match="bos should be an integer >= 0, but is -1"):
        Seq2Seq(7, 6, 5, bos=-1)
    with pytest.raises(ValueError, match=r"eos should be an id of the target vocabulary, in \[0, 6\), but is 9"):
        Seq2Seq(7, 6, 5, eos=9)
    with pytest.raises(ValueError, match=r"pad should be an id of both vocabularies, in \[0, 6\), but is 6"):
        Seq2Seq(7, 6, 5, pad=6)                      # a source id, but no target id
    with pytest.raises(ValueError, match="pad should be an integer >= 0, but is -1"):
        Seq2Seq(7, 6, 5, pad=-1)


@pytest.mark.parametrize("args,error,message", [
    ((0, 7, 6), ValueError, "src_vocab should be an integer >= 1, but is 0"),
    ((7, 0, 6), ValueError, "tgt_vocab should be an integer >= 1, but is 0"),
    ((7, 2.5, 6), TypeError, "tgt_vocab should be an integer, but is float 2.5"),
    ((7.0, 7, 6), TypeError, "src_vocab should be an integer, but is float 7.0"),
    ((7, 7, 0), ValueError, "hidden_size should be an integer >= 1, but is 0"),
], ids=["src_vocab 0", "tgt_vocab 0", "tgt_vocab float", "src_vocab float", "hidden_size 0"])
def test_seq2seq_names_a_wrong_size_as_the_caller_did(args, error, message):
    # The vocabulary sizes are the input sizes of the encoder and decoder inside: they were refused as input_size.
    with pytest.raises(error, match=f"^{re.escape(message)}$"):
        Seq2Seq(*args)


def test_seq2seq_inputs_are_checked_where_they_enter():
    model = small_seq2seq()
    tgt = torch.tensor([[3, 4], [2, 2]])
    with pytest.raises(TypeError, match="context should be a torch.Tensor, but is list"):
        model.decode([[0.0] * 5] * 2, tgt)
    with pytest.raises(TypeError, match="h0 should be a torch.Tensor, but is list"):
        greedy_decode(model.step, [[0.0] * 5] * 2, bos=1, eos=2, max_len=3)
    with pytest.raises(ValueError, match=r"h should have shape \(B, H\) = \(2, 5\), but has shape \(3, 5\)"):
        model.step(tgt[0], torch.zeros(3, 5, dtype=f64))
    with pytest.raises(TypeError, match="h has dtype torch.float32 but the model has dtype torch.float64"):
        model.step(tgt[0], torch.zeros(2, 5))
    logits = torch.zeros(2, 2, 6, dtype=f64)
    with pytest.raises(TypeError, match="tgt should hold integer class indices, but has dtype torch.float64"):
        teacher_forcing_loss(logits, tgt.double())
    with pytest.raises(ValueError, match=r"tgt should have shape \(T, B\) = \(2, 2\), but has shape \(3, 2\)"):
        teacher_forcing_loss(logits, torch.zeros(3, 2, dtype=torch.long))
    with pytest.raises(ValueError, match=r"^src should hold at least one time step and one sequence, but has shape "
                                         r"\(0, 2\)$"):
        model.encode(torch.zeros(0, 2, dtype=torch.long))      # was a message about an internal one-hot x
    with pytest.raises(ValueError, match=r"^tgt should hold at least one time step and one sequence, but has shape "
                                         r"\(0, 2\)$"):
        model.decode(torch.zeros(2, 5, dtype=f64), torch.zeros(0, 2, dtype=torch.long))
    with pytest.raises(TypeError, match="tgt should hold integer class indices, but has dtype torch.float64"):
        model.decode(torch.zeros(2, 5, dtype=f64), tgt.double())
    with pytest.raises(ValueError, match=r"tgt should hold indices in \[0, 6\), but holds values from 6 to 6"):
        model.decode(torch.zeros(2, 5, dtype=f64), torch.full((2, 2), 6))
    with pytest.raises(TypeError, match=r"^step should be a function step\(tokens, h\) -> \(logits, h\), but is str; "
                                        r"to decode a Seq2Seq, call model\.greedy_decode\(src, max_len\), which checks "
                                        r"its inputs once"):     # not model.step, which checks them at every step
        greedy_decode("step", torch.zeros(2, 5, dtype=f64), bos=1, eos=2, max_len=3)
    for name in ("bos", "eos", "pad"):
        with pytest.raises(ValueError, match=f"^{name} should be an integer >= 0, but is -1$"):
            greedy_decode(model.step, torch.zeros(2, 5, dtype=f64), **{"bos": 1, "eos": 2, "max_len": 3, name: -1})


def test_a_target_of_padding_only_is_refused_not_a_nan_or_a_perfect_score():
    # Every position is pad: the mean loss would be 0/0 (NaN, which fit_seq2seq then blamed on the learning
    # rate), and sequence_accuracy gave token accuracy 0 but exact-match accuracy 1.
    tgt = torch.zeros(2, 3, dtype=torch.long)
    with pytest.raises(ValueError, match=r"^tgt holds only padding \(pad = 0\): no target position is left, so the "
                                         r"mean loss is undefined$"):
        teacher_forcing_loss(torch.zeros(2, 3, 4), tgt)
    with pytest.raises(ValueError, match=r"^tgt holds only padding \(pad = 3\): .* so there is nothing to score$"):
        sequence_accuracy(tgt, torch.full((2, 3), 3), pad=3)
    with pytest.raises(ValueError, match=r"^tgt should hold at least one time step and one sequence, but has shape "
                                         r"\(0, 3\)$"):
        sequence_accuracy(tgt[:0], tgt[:0])                   # no position at all, which is not all padding
    model, src = small_seq2seq(), torch.tensor([[3, 4], [2, 2]])
    with pytest.raises(ValueError, match="tgt holds only padding"):
        fit_seq2seq(model, [(src, torch.zeros(2, 2, dtype=torch.long))], TrainConfig(steps=1), progress=False)
    assert teacher_forcing_loss(torch.zeros(2, 3, 4), torch.tensor([[0, 0, 1], [0, 0, 0]])) == pytest.approx(math.log(4))


def test_greedy_decode_checks_once_not_at_every_step(monkeypatch):
    import rnncourse.torch.elman as elman
    import rnncourse.torch.heads as heads
    import rnncourse.torch.seq2seq as seq2seq

    calls = []
    for module in (elman, heads, seq2seq):
        for name in ("check_array", "check_index_array"):
            check = getattr(module, name, None)
            if check is not None:
                monkeypatch.setattr(module, name, lambda *a, _check=check, **k: calls.append(1) or _check(*a, **k))
    model = Seq2Seq(7, 6, 5, dtype=f64, generator=gen(1))
    model.eos = 99                                  # no such token: eos never comes, every step runs
    src = torch.tensor([[3, 4], [5, 6]])
    counts = []
    for max_len in (2, 20):
        calls.clear()
        out = model.greedy_decode(src, max_len)
        counts.append(len(calls))
    assert counts[0] == counts[1]                   # the checks do not grow with the number of steps
    # The checked public step gives the same tokens as the unchecked loop.
    assert torch.equal(greedy_decode(model.step, model.encode(src), bos=1, eos=99, max_len=20), out)


# ----------------------------------------------------------------------------- training beats baselines

@pytest.fixture
def one_thread():
    """Tiny models train faster on one CPU thread (and much faster on a busy machine)."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


def reverse_pairs(B, rng, max_len=3):
    """Strings of 2..max_len letters (ids 3..10) and their reversal followed by <eos>, padded with 0."""
    lengths = rng.integers(2, max_len + 1, size=B)
    src, tgt = np.full((max_len, B), PAD), np.full((max_len + 1, B), PAD)
    for b, n in enumerate(lengths):
        src[:n, b] = rng.integers(3, 11, size=n)
        tgt[:n, b], tgt[n, b] = src[:n, b][::-1], EOS
    return src, tgt


def test_fit_seq2seq_learns_to_reverse_quickly(one_thread):
    model = Seq2Seq(11, 11, 32, generator=gen())
    history = fit_seq2seq(model, lambda rng: reverse_pairs(32, rng), TrainConfig(steps=120, lr=0.02, clip=1.0),
                          progress=False)
    src, tgt = map(torch.from_numpy, reverse_pairs(200, np.random.default_rng(99)))
    token, _ = sequence_accuracy(model.greedy_decode(src, tgt.shape[0]), tgt)
    copy_baseline, _ = sequence_accuracy(torch.cat([src, torch.full_like(src[:1], 2)]), tgt)
    assert history.losses[-1] < history.losses[0]
    assert token > 0.8 > copy_baseline + 0.2


def test_fit_seq2seq_rejects_other_models():
    with pytest.raises(TypeError, match="should be a Seq2Seq"):
        fit_seq2seq(ManyToOne(2, 3, 2), lambda rng: None)


def test_many_to_one_beats_majority_on_the_grammar(one_thread):
    data = make_sentences(600, rng=np.random.default_rng(0), forms=("simple",), pad_side="start")
    x = one_hot(data.ids, len(VOCAB), dtype=np.float32)

    def batches(rng):
        i = rng.integers(0, 600, size=32)
        return x[:, i], data.labels[i]

    model = ManyToOne(len(VOCAB), 16, 2, generator=gen())
    train(model, batches, F.cross_entropy, TrainConfig(steps=150, lr=0.02, clip=1.0), progress=False)
    pred = model(torch.from_numpy(x))[0].argmax(-1).numpy()
    majority = max(data.labels.mean(), 1 - data.labels.mean())
    assert (pred == data.labels).mean() > majority + 0.2


def test_synchronized_beats_majority_on_regimes(one_thread):
    def batches(rng):
        return regime_signal(16, 40, rng=rng, dtype=np.float32)

    model = Synchronized(1, 16, 3, generator=gen())
    train(model, batches, lambda Y, y: F.cross_entropy(Y.reshape(-1, 3), y.reshape(-1)),
          TrainConfig(steps=120, lr=0.02, clip=1.0), progress=False)
    x, y = map(torch.from_numpy, regime_signal(64, 80, rng=np.random.default_rng(5), dtype=np.float32))
    accuracy = (model(x)[0].argmax(-1) == y).double().mean().item()
    majority = max((y == k).double().mean().item() for k in range(3))
    assert accuracy > majority + 0.2


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU")
def test_models_run_on_cuda():
    device = pick_device()
    model = Seq2Seq(7, 6, 5, device=device)
    src = torch.tensor([[3, 4], [5, 6]], device=device)
    assert model.greedy_decode(src, 3).device.type == "cuda"
    assert teacher_forcing_loss(model(src, src), src).device.type == "cuda"    # reads tgt's values on the GPU
    assert ManyToOne(3, 4, 2, device=device)(torch.zeros(5, 2, 3, device=device))[0].device.type == "cuda"
    assert OneToMany(3, 4, 2, steps=3, device=device)(torch.zeros(2, 3, device=device))[0].device.type == "cuda"


def test_last_states_of_no_step_is_a_value_error():
    with pytest.raises(ValueError, match=r"hs should hold at least one time step, but has shape \(0, 3, 5\)"):
        last_states(torch.zeros(0, 3, 5))


def test_ids_of_any_integer_dtype_are_ids_never_a_mask():
    """A uint8 index tensor would select rows as a boolean mask in torch; the package reads it as ids."""
    from rnncourse.torch.embedding import embedding_forward

    E = torch.arange(14.0).reshape(7, 2)
    for dtype in (torch.uint8, torch.int16, torch.int32, torch.int64):
        ids = torch.tensor([1, 0, 2, 0, 0, 0, 1], dtype=dtype)
        assert torch.equal(embedding_forward(ids, E), E[[1, 0, 2, 0, 0, 0, 1]])
        assert Seq2Seq(7, 7, 4)(ids[:, None], ids[:, None]).shape == (7, 1, 7)


def test_greedy_decode_s_h0_without_batch_axis_or_from_torch_nn_rnn_gets_advice():
    model = small_seq2seq()
    with pytest.raises(ValueError, match=r"^h0 should have 2 dimensions with shape \(B, H\), but has 1 dimensions with "
                                         r"shape \(5,\); add a batch axis with h0\.unsqueeze\(0\)$"):
        greedy_decode(model.step, torch.zeros(5, dtype=f64), bos=1, eos=2, max_len=3)
    with pytest.raises(ValueError, match=r"^h0 should have 2 dimensions .* \(1, 2, 5\); h0 looks like the state of "
                                         r"torch\.nn\.RNN .*: pass h0\[0\]$"):
        greedy_decode(model.step, torch.zeros(1, 2, 5, dtype=f64), bos=1, eos=2, max_len=3)


def test_teacher_forcing_loss_refuses_logits_that_are_not_finite_as_masked_cross_entropy_does():
    # It returned tensor(nan) (or inf) as a loss, where masked_cross_entropy refuses the same scores by name.
    from rnncourse.torch.padding import masked_cross_entropy

    tgt = torch.tensor([[1, 2, 3], [2, 0, 1]])
    for bad in (float("nan"), float("inf"), -float("inf")):
        logits = torch.zeros(2, 3, 4)
        logits[0, 0, 1] = bad
        for call in (lambda: teacher_forcing_loss(logits, tgt),
                     lambda: masked_cross_entropy(logits, tgt, torch.ones(2, 3, dtype=torch.bool))):
            with pytest.raises(ValueError, match=r"^logits contains NaN or infinity; check the data or the step that "
                                                 r"produced it$"):
                call()


def test_lengths_for_a_batch_major_x_get_the_batch_major_hint():
    # x is batch-major (B, T, D) = (3, 4, 2), read as (T, B) = (3, 4): one length per row of x, three in all.
    x, lengths = torch.randn(3, 4, 2), torch.tensor([4, 2, 3])
    hint = (r"; lengths has 3 entries, the size of {0}'s first axis: if {0} is batch-major \(B, T, {1}\), make it "
            r"time-major \(T, B, {1}\) with {0}\.transpose\(0, 1\)$")
    shape = r"^lengths should have shape \(B,\) = \(4,\), but has shape \(3,\)"
    with pytest.raises(ValueError, match=shape + hint.format("x", "D")):
        ManyToOne(2, 3, 2)(x, lengths)
    with pytest.raises(ValueError, match=shape + hint.format("x", "D")):
        packed_rnn_forward(torch.nn.RNN(2, 3), x, lengths)
    with pytest.raises(ValueError, match=shape + hint.format("hs", "H")):
        last_states(x, lengths)
    from rnncourse.torch.padding import reverse_padded

    with pytest.raises(ValueError, match=shape + hint.format("x", "D")):
        reverse_padded(x, lengths)


@pytest.mark.parametrize("ids, low, high", [([-1, 0], -1, 0), ([0, 3], 0, 3)])
def test_embedding_forward_refuses_ids_outside_the_table(ids, low, high):
    # E[ids] would read E[-1] (the last row) silently for -1, and raise a bare IndexError for 3.
    from rnncourse.torch.embedding import embedding_forward

    with pytest.raises(ValueError, match=rf"^ids should hold indices in \[0, 3\), but holds values from {low} to "
                                         rf"{high}$"):
        embedding_forward(torch.tensor(ids), torch.zeros(3, 2))


def test_embedding_forward_refuses_a_table_that_is_not_two_dimensional():
    # E[ids] of a 1-D E would return one number per id, not a vector.
    from rnncourse.torch.embedding import embedding_forward

    with pytest.raises(ValueError, match=r"^E should have 2 dimensions with shape \(V, D\), but has 1 dimensions with "
                                         r"shape \(3,\); E has one row per token, \(V, D\)$"):
        embedding_forward(torch.tensor([1]), torch.arange(3.0))


@pytest.mark.parametrize("as_pair", [False, True])
def test_packed_rnn_forward_wants_the_lstm_state_as_a_tuple(as_pair):
    # A lone (L, B, H) state was read as two states of shape (B, H); a list of two was accepted.
    rnn = torch.nn.LSTM(3, 4, num_layers=2)
    h = torch.zeros(2, 2, 4)
    h0, kind = ([h, h], "list") if as_pair else (h, "Tensor")
    with pytest.raises(TypeError, match=rf"^h0 should be a pair \(h0, c0\) for an LSTM, but is {kind}$"):
        packed_rnn_forward(rnn, torch.randn(5, 2, 3), torch.tensor([5, 3]), h0)
