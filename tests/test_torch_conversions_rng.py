"""Conversions draw no random numbers, and the adding problem's helpers leave the caller's state alone.

A conversion (``from_numpy``, ``from_torch``, ``to_torch``, ``rnn_from_params``) overwrites every
parameter of the module it builds, so the initial weights a constructor would draw are thrown away.
Were they drawn from PyTorch's global generator, a learner's next "random" numbers would depend on
whether a conversion cell ran before. Each case below converts with the global generator watched,
and checks that the result computes what its source computes.
"""

import numpy as np
import pytest
import torch
from torch import nn

from rnncourse.data.adding import adding_problem
from rnncourse.numpy.init import init_output_params, init_rnn_params
from rnncourse.numpy.jordan import init_jordan_params
from rnncourse.numpy.model import init_model_params
from rnncourse.torch import GRU, LSTM, ElmanRNN, GRUCell, LSTMCell, OutputLayer, RNNModel
from rnncourse.torch.convert import params_from_rnn, rnn_from_params
from rnncourse.torch.init import empty_module
from rnncourse.torch.jordan import JordanRNN
from rnncourse.torch.long_range import AddingModel, evaluate_adding, train_adding
from rnncourse.torch.topologies import ManyToOne, Synchronized

T, B, D, H, O = 5, 2, 3, 4, 2
F64 = torch.float64


def gen(seed=0):
    return torch.Generator().manual_seed(seed)


def randn(*shape, seed=1, device="cpu"):
    return torch.randn(*shape, generator=gen(seed), dtype=F64).to(device)


def torch_module(cls, *args, device="cpu", **kwargs):
    """A torch.nn module with seeded weights, built without touching the global generator."""
    with torch.random.fork_rng(devices=[]):
        torch.default_generator.manual_seed(7)
        return cls(*args, dtype=F64, **kwargs).to(device)


def rng_states():
    """The global generators' states: the CPU's, and the CUDA devices' once CUDA is up (never initialising it)."""
    cuda = torch.cuda.get_rng_state_all() if torch.cuda.is_initialized() else []
    return [torch.get_rng_state(), *cuda]


# How each kind of module computes, so that a converted module can be run on the input its source gets.
def run_rnn(m, device):
    return m(randn(T, B, D, device=device))[0]


def run_out(m, device):
    return m(randn(T, B, H, device=device))


def run_lstm_cell(m, device):
    return m(randn(B, D, device=device), (randn(B, H, seed=2, device=device), randn(B, H, seed=3, device=device)))


def run_gru_cell(m, device):
    return m(randn(B, D, device=device), randn(B, H, seed=2, device=device))


# name -> (make the source on a device, convert it, run either one)
TORCH_CASES = {
    "ElmanRNN.from_torch": (lambda d: torch_module(nn.RNN, D, H, device=d), ElmanRNN.from_torch, run_rnn),
    "ElmanRNN.to_torch": (lambda d: ElmanRNN(D, H, dtype=F64, device=d, generator=gen()), ElmanRNN.to_torch,
                          run_rnn),
    "OutputLayer.from_torch": (lambda d: torch_module(nn.Linear, H, O, device=d), OutputLayer.from_torch, run_out),
    "OutputLayer.to_torch": (lambda d: OutputLayer(H, O, dtype=F64, device=d, generator=gen()),
                             OutputLayer.to_torch, run_out),
    "LSTMCell.from_torch": (lambda d: torch_module(nn.LSTMCell, D, H, device=d), LSTMCell.from_torch,
                            run_lstm_cell),
    "LSTMCell.to_torch": (lambda d: LSTMCell(D, H, dtype=F64, device=d, generator=gen()), LSTMCell.to_torch,
                          run_lstm_cell),
    "GRUCell.from_torch": (lambda d: torch_module(nn.GRUCell, D, H, device=d), GRUCell.from_torch, run_gru_cell),
    "GRUCell.to_torch": (lambda d: GRUCell(D, H, dtype=F64, device=d, generator=gen()), GRUCell.to_torch,
                         run_gru_cell),
    "LSTM.from_torch": (lambda d: torch_module(nn.LSTM, D, H, device=d), LSTM.from_torch, run_rnn),
    "LSTM.to_torch": (lambda d: LSTM(D, H, dtype=F64, device=d, generator=gen()), LSTM.to_torch, run_rnn),
    "GRU.from_torch": (lambda d: torch_module(nn.GRU, D, H, device=d), GRU.from_torch, run_rnn),
    "GRU.to_torch": (lambda d: GRU(D, H, dtype=F64, device=d, generator=gen()), GRU.to_torch, run_rnn),
}


def numpy_params(seed=0):
    with torch.random.fork_rng(devices=[]):
        rng = np.random.default_rng(seed)
        return {
            "rnn": init_rnn_params(D, H, rng=rng), "out": init_output_params(H, O, rng=rng),
            "model": init_model_params(D, H, O, rng=rng), "jordan": init_jordan_params(D, H, O, rng=rng),
            "lstm": LSTMCell(D, H, dtype=F64, generator=gen(1)).numpy_params(),
            "gru": GRUCell(D, H, dtype=F64, generator=gen(2)).numpy_params(),
            "deep": params_from_rnn(torch_module(nn.RNN, D, H, num_layers=2, bidirectional=True)),
        }


# name -> (which arrays, convert them on a device, the arrays the result holds)
NUMPY_CASES = {
    "ElmanRNN.from_numpy": ("rnn", lambda p, d: ElmanRNN.from_numpy(p, device=d), lambda m: m.numpy_params()),
    "OutputLayer.from_numpy": ("out", lambda p, d: OutputLayer.from_numpy(p, device=d), lambda m: m.numpy_params()),
    "RNNModel.from_numpy": ("model", lambda p, d: RNNModel.from_numpy(p, device=d), lambda m: m.numpy_params()),
    "RNNModel.from_numpy many_to_one": ("model", lambda p, d: RNNModel.from_numpy(p, many_to_one=True, device=d),
                                        lambda m: m.numpy_params()),
    "ManyToOne.from_numpy": ("model", lambda p, d: ManyToOne.from_numpy(p, device=d), lambda m: m.numpy_params()),
    "Synchronized.from_numpy": ("model", lambda p, d: Synchronized.from_numpy(p, device=d),
                                lambda m: m.numpy_params()),
    "JordanRNN.from_numpy": ("jordan", lambda p, d: JordanRNN.from_numpy(p, device=d), lambda m: m.numpy_params()),
    "LSTMCell.from_numpy": ("lstm", lambda p, d: LSTMCell.from_numpy(p, device=d), lambda m: m.numpy_params()),
    "GRUCell.from_numpy": ("gru", lambda p, d: GRUCell.from_numpy(p, device=d), lambda m: m.numpy_params()),
    "LSTM.from_numpy": ("lstm", lambda p, d: LSTM.from_numpy(p, device=d), lambda m: m.numpy_params()),
    "GRU.from_numpy": ("gru", lambda p, d: GRU.from_numpy(p, device=d), lambda m: m.numpy_params()),
    "rnn_from_params": ("deep", lambda p, d: rnn_from_params(p, bidirectional=True, dropout=0.5).to(d),
                        params_from_rnn),
}

DEVICES = ["cpu", pytest.param("cuda", marks=pytest.mark.skipif(not torch.cuda.is_available(), reason="no GPU"))]


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("name", TORCH_CASES)
def test_torch_conversion_draws_nothing_and_computes_the_same(name, device):
    make, convert, run = TORCH_CASES[name]
    source = make(device)
    before = rng_states()
    converted = convert(source)
    assert all(torch.equal(a, b) for a, b in zip(rng_states(), before, strict=True)), \
        f"{name} drew from PyTorch's global generator"
    first = next(converted.parameters())
    assert (first.device, first.dtype) == (next(source.parameters()).device, F64)
    assert all(p.requires_grad for p in converted.parameters())         # trainable, as a module built anew
    with torch.no_grad():
        torch.testing.assert_close(run(converted, device), run(source, device), rtol=0, atol=1e-12)


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("name", NUMPY_CASES)
def test_numpy_conversion_draws_nothing_and_holds_the_arrays(name, device):
    which, convert, arrays = NUMPY_CASES[name]
    params = numpy_params()[which]
    if device == "cuda":
        torch.zeros(1, device=device)       # CUDA up, so that its generators are watched too
    before = rng_states()
    converted = convert(params, device)
    assert all(torch.equal(a, b) for a, b in zip(rng_states(), before, strict=True)), \
        f"{name} drew from PyTorch's global generator"
    assert next(converted.parameters()).device.type == device
    assert all(p.requires_grad for p in converted.parameters())
    got = arrays(converted)
    assert sorted(got) == sorted(params)
    for key, value in params.items():
        assert got[key].dtype == value.dtype and np.array_equal(got[key], value), key


def test_the_chapters_random_inputs_do_not_depend_on_a_conversion():
    """As in chapter 8: seed, build torch's cells, copy them, then draw the inputs."""
    torch.manual_seed(0)
    nn.LSTMCell(D, H), nn.GRUCell(D, H)
    alone = torch.randn(T, D)
    torch.manual_seed(0)
    lstm, gru = nn.LSTMCell(D, H), nn.GRUCell(D, H)
    LSTMCell.from_torch(lstm), GRUCell.from_torch(gru), ElmanRNN.from_numpy(numpy_params()["rnn"])
    assert torch.equal(torch.randn(T, D), alone)


@pytest.mark.parametrize("cls, args", [(ElmanRNN, (D, H)), (nn.RNN, (D, H)), (RNNModel, (D, H, O)),
                                       (JordanRNN, (D, H, O)), (LSTM, (D, H)), (nn.Linear, (H, O))])
def test_empty_module_draws_nothing_and_lands_on_the_device(cls, args):
    before = torch.get_rng_state()
    module = empty_module(cls, *args, device="cpu", dtype=F64)
    assert torch.equal(torch.get_rng_state(), before)
    assert type(module) is cls
    assert all(p.device.type == "cpu" and p.dtype == F64 for p in module.parameters())


def test_empty_module_without_a_device_uses_the_default_one():
    rnn = empty_module(nn.RNN, D, H)
    assert rnn.weight_hh_l0.device == torch.empty(0).device
    assert rnn.weight_hh_l0.dtype == torch.get_default_dtype()


def test_empty_module_names_a_missing_gpu_before_building():
    if torch.cuda.is_available():
        pytest.skip("this machine has a GPU")
    with pytest.raises(ValueError, match="CUDA"):
        empty_module(ElmanRNN, D, H, device="cuda")


@pytest.mark.parametrize("cls, args", [(ElmanRNN, (D, H)), (OutputLayer, (H, O)), (JordanRNN, (D, H, O)),
                                       (LSTMCell, (D, H)), (GRU, (D, H))])
def test_our_modules_on_meta_draw_nothing(cls, args):
    """A meta tensor holds no numbers, so nothing is drawn for it, as torch.nn's layers do on meta."""
    before = torch.get_rng_state()
    cls(*args, device="meta")
    assert torch.equal(torch.get_rng_state(), before)


# ---------------------------------------------------------------------- the adding problem's helpers


@pytest.mark.parametrize("mode", [True, False])
def test_evaluate_adding_leaves_the_model_in_the_callers_mode(mode):
    model = AddingModel("rnn", 4)
    model.train(mode)
    x, y = adding_problem(8, 12, rng=np.random.default_rng(0))
    n_correct, mse = evaluate_adding(model, x, y)
    assert model.training is mode
    assert 0 <= n_correct <= 8 and mse >= 0


def test_evaluate_adding_restores_the_mode_when_it_fails():
    class Broken(AddingModel):
        def forward(self, x):
            raise RuntimeError("broken")

    model = Broken("rnn", 4)
    model.train()
    x, y = adding_problem(8, 12, rng=np.random.default_rng(0))
    with pytest.raises(RuntimeError, match="broken"):
        evaluate_adding(model, x, y)
    assert model.training


def test_evaluate_adding_runs_the_model_in_eval_mode():
    seen = []

    class Spy(AddingModel):
        def forward(self, x):
            seen.append(self.training)
            return super().forward(x)

    model = Spy("rnn", 4)
    x, y = adding_problem(8, 12, rng=np.random.default_rng(0))
    evaluate_adding(model, x, y)
    assert seen == [False] and model.training


@pytest.fixture
def fake_gpu(monkeypatch):
    """Pretend a GPU is present but not initialised: record every CUDA generator that fork_rng would save."""
    saved = []
    monkeypatch.setattr(torch.cuda, "device_count", lambda: 1)
    monkeypatch.setattr(torch.cuda, "is_initialized", lambda: False)
    monkeypatch.setattr(torch.cuda, "get_rng_state", lambda device="cuda": saved.append(device))
    monkeypatch.setattr(torch.cuda, "set_rng_state", lambda state, device="cuda": None)
    return saved


def test_adding_model_does_not_initialise_cuda_for_cpu_weights(fake_gpu):
    before = torch.get_rng_state()
    model = AddingModel("lstm", 4, seed=3)
    assert fake_gpu == []
    assert torch.equal(torch.get_rng_state(), before)
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(3)
        reference = nn.LSTM(2, 4)
    assert torch.equal(model.rnn.weight_hh_l0, reference.weight_hh_l0)


def test_train_adding_on_the_cpu_does_not_initialise_cuda(fake_gpu):
    before = torch.get_rng_state()
    train_adding("rnn", lag=2, steps=2, device="cpu", batch_size=4, n_test=8, hidden_size=3)
    assert fake_gpu == []
    assert torch.equal(torch.get_rng_state(), before)


def test_fit_seq2seq_seeds_the_global_generator_as_its_docstring_says():
    from rnncourse.torch.seq2seq import Seq2Seq, fit_seq2seq
    from rnncourse.torch.training import TrainConfig

    assert "config.seed" in fit_seq2seq.__doc__ and "torch.manual_seed" in fit_seq2seq.__doc__
    after = []
    for earlier in (1, 2):
        torch.manual_seed(earlier)
        model = Seq2Seq(6, 6, 4, generator=gen())
        fit_seq2seq(model, lambda rng: (rng.integers(3, 6, (4, 2)), rng.integers(3, 6, (3, 2))),
                    TrainConfig(steps=2, seed=5), progress=False)
        after.append(torch.rand(3))
        assert model.training
    assert torch.equal(*after)          # the draws before it no longer matter: it seeded the generator


def test_empty_module_refuses_a_class_that_builds_off_the_meta_device():
    class IgnoresDevice(nn.Module):                    # takes device= but builds on the CPU: it would draw
        def __init__(self, n, device=None, dtype=None):
            super().__init__()
            self.weight = nn.Parameter(torch.randn(n, dtype=dtype))

    with pytest.raises(TypeError, match=r"^IgnoresDevice built weight off the meta device, so empty_module cannot "
                                        r"build it without drawing"):
        empty_module(IgnoresDevice, 3)


def test_an_rnn_without_bias_converts_with_a_zero_bias_and_the_same_outputs():
    # H = 1: the zero bias takes its length from a row of W_hh, which has one row only.
    torch.manual_seed(0)
    rnn = nn.RNN(3, 1, bias=False, dtype=F64)
    params = params_from_rnn(rnn)
    np.testing.assert_array_equal(params["b_h_l0"], np.zeros(1))
    x = torch.randn(5, 2, 3, dtype=F64)
    back = rnn_from_params(params)
    for got, want in zip(back(x), rnn(x)):
        torch.testing.assert_close(got, want)
