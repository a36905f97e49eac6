"""Every PyTorch model and function of the package runs on any device, and a tensor on the wrong device
is a TypeError that names it: checked without a GPU.

PyTorch's ``meta`` device stands for the second device here. A meta tensor has a shape, a dtype and a
device but no data, so an operation that mixes it with a CPU tensor fails just as a CUDA one would:
a model whose forward or backward pass made a tensor on the CPU (``torch.zeros(B, H)`` without
``device=``) cannot run on meta. The package's checks skip the value scans (finite, index range) of
meta tensors, which have no values. What meta cannot show: numerical differences of GPU kernels, and
code that must read values, such as greedy decoding's stop test, packing's lengths or the checks of
``masked_cross_entropy``'s mask and ``teacher_forcing_loss``'s targets (they must select something); the CUDA tests
in the other files cover those when a GPU is present.
"""

import contextlib
import warnings

import pytest
import torch

from rnncourse.torch import GRU, LSTM, ElmanRNN, GRUCell, LSTMCell, OutputLayer, RNNModel, rnn_forward, \
    rnn_step_forward
from rnncourse.torch.charlm import CharLM
from rnncourse.torch.embedding import embedding_forward
from rnncourse.torch.gated import memory_jacobian_norms
from rnncourse.torch.jordan import JordanRNN
from rnncourse.torch.long_range import AddingModel
from rnncourse.torch.mlp import MLP
from rnncourse.torch.padding import length_mask, masked_cross_entropy, packed_rnn_forward, reverse_padded
from rnncourse.torch.seq2seq import Seq2Seq, sequence_accuracy, teacher_forcing_loss
from rnncourse.torch.tagger import Tagger
from rnncourse.torch.topologies import ManyToOne, OneToMany, Synchronized, last_states
from rnncourse.validation import check_array, check_index_array

META = torch.device("meta")
T, B, D, H, V = 5, 2, 3, 4, 6


def floats(*shape, device="cpu", grad=False):
    """Seeded random numbers on the CPU; on meta, a tensor of that shape, which has no values."""
    if torch.device(device).type == "meta":
        return torch.empty(*shape, device=device, requires_grad=grad)
    return torch.randn(*shape, generator=torch.Generator().manual_seed(len(shape)), requires_grad=grad)


def ids(*shape, device="cpu"):
    return torch.ones(*shape, dtype=torch.long, device=device)


def lengths(device="cpu"):
    return torch.tensor([T, 3], device=device)


# name -> a function of the device that builds the model or tensors on it and runs them
ON_ONE_DEVICE = {
    "ElmanRNN": lambda d: ElmanRNN(D, H, device=d)(floats(T, B, D, device=d, grad=True))[0],
    "RNNModel": lambda d: RNNModel(D, H, 2, device=d)(floats(T, B, D, device=d, grad=True))[0],
    "RNNModel many_to_one": lambda d: RNNModel(D, H, 2, many_to_one=True, device=d)(floats(T, B, D, device=d))[0],
    "OutputLayer": lambda d: OutputLayer(H, 2, device=d)(floats(T, B, H, device=d)),
    "rnn_forward": lambda d: rnn_forward(floats(T, B, D, device=d, grad=True), floats(B, H, device=d),
                                         floats(H, D, device=d), floats(H, H, device=d), floats(H, device=d))[0],
    "rnn_step_forward": lambda d: rnn_step_forward(floats(B, D, device=d, grad=True), floats(B, H, device=d),
                                                   floats(H, D, device=d), floats(H, H, device=d), floats(H, device=d)),
    "LSTM": lambda d: LSTM(D, H, device=d)(floats(T, B, D, device=d, grad=True))[0],
    "GRU": lambda d: GRU(D, H, device=d)(floats(T, B, D, device=d, grad=True))[0],
    "LSTMCell": lambda d: LSTMCell(D, H, device=d)(floats(B, D, device=d, grad=True))[0],
    "GRUCell": lambda d: GRUCell(D, H, device=d)(floats(B, D, device=d, grad=True)),
    "OneToMany first_step": lambda d: OneToMany(D, H, 2, steps=3, device=d)(floats(B, D, device=d))[0],
    "OneToMany every_step": lambda d: OneToMany(D, H, 2, steps=3, condition="every_step", device=d)(
        floats(B, D, device=d))[0],
    "ManyToOne": lambda d: ManyToOne(D, H, 2, device=d)(floats(T, B, D, device=d), lengths(d))[0],
    "Synchronized": lambda d: Synchronized(D, H, 2, device=d)(floats(T, B, D, device=d))[0],
    "last_states": lambda d: last_states(floats(T, B, H, device=d, grad=True), lengths(d)),
    "JordanRNN": lambda d: JordanRNN(D, H, 2, device=d)(floats(T, B, D, device=d))[0],
    "JordanRNN teacher forcing": lambda d: JordanRNN(D, H, 2, device=d)(
        floats(T, B, D, device=d), targets=floats(T, B, 2, device=d), teacher_forcing=True)[0],
    "MLP": lambda d: MLP(D, H, 2, device=d)(floats(B, D, device=d)),
    "Seq2Seq": lambda d: Seq2Seq(V, V, H, device=d)(ids(T, B, device=d), ids(T, B, device=d)),
    "Tagger, not packed": lambda d: Tagger(V, D, H, 3).to(d)(ids(T, B, device=d), lengths(d), packed=False),
    "CharLM": lambda d: CharLM(V, D, H).to(d)(ids(T, B, device=d))[0],
    "AddingModel rnn": lambda d: AddingModel("rnn", H).to(d)(floats(T, B, 2, device=d)),
    "AddingModel lstm": lambda d: AddingModel("lstm", H).to(d)(floats(T, B, 2, device=d)),
    "AddingModel gru": lambda d: AddingModel("gru", H).to(d)(floats(T, B, 2, device=d)),
    "embedding_forward": lambda d: embedding_forward(ids(T, B, device=d), floats(V, D, device=d, grad=True)),
    "length_mask": lambda d: length_mask(lengths(d), T),
    "reverse_padded": lambda d: reverse_padded(floats(T, B, D, device=d, grad=True), lengths(d)),
}


@pytest.mark.parametrize("name", sorted(ON_ONE_DEVICE))
def test_runs_forward_and_backward_on_another_device(name):
    out = ON_ONE_DEVICE[name](META)
    assert out.device == META
    if out.requires_grad:
        out.sum().backward()        # the written-out backward passes (LSTMBPTT) run on the device too


def test_meta_stands_for_another_device():
    with pytest.raises((RuntimeError, NotImplementedError)):
        torch.zeros(2, device=META) + torch.zeros(2)         # what a tensor made on the CPU would hit
    check_array(torch.zeros(2, device=META), "x", ("n",), backend="torch")   # no values to scan
    check_index_array(ids(2, device=META), "ids", ("n",), high=1, backend="torch")
    with pytest.raises(ValueError, match="NaN"):                              # on the CPU they are scanned
        check_array(torch.tensor([0.0, float("nan")]), "x", ("n",), backend="torch")


# (call, the argument's name, what the message compares it with): the argument on meta, the rest on the CPU
ON_TWO_DEVICES = [
    (lambda: ElmanRNN(D, H)(floats(T, B, D), floats(B, H, device=META)), "h0", "the model"),
    (lambda: RNNModel(D, H, 2)(floats(T, B, D, device=META)), "x", "the model"),
    (lambda: rnn_forward(floats(T, B, D), floats(B, H), floats(H, D), floats(H, H, device=META), floats(H)),
     "W_hh", "W_xh"),
    (lambda: rnn_step_forward(floats(B, D), floats(B, H, device=META), floats(H, D), floats(H, H), floats(H)),
     "h_prev", "W_xh"),
    (lambda: OutputLayer(H, 2)(floats(T, B, H, device=META)), "hs", "the model"),
    (lambda: LSTM(D, H)(floats(T, B, D, device=META)), "x", "the model"),
    (lambda: LSTM(D, H)(floats(T, B, D), (floats(B, H), floats(B, H, device=META))), "c0", "the cell"),
    (lambda: GRU(D, H)(floats(T, B, D), floats(B, H, device=META)), "h0", "the cell"),
    (lambda: LSTMCell(D, H)(floats(B, D), (floats(B, H, device=META), floats(B, H))), "h_prev", "the cell"),
    (lambda: GRUCell(D, H)(floats(B, D, device=META)), "x_t", "the cell"),
    (lambda: memory_jacobian_norms(GRUCell(D, H), floats(T, B, D, device=META)), "x", "the cell"),
    (lambda: OneToMany(D, H, 2, steps=3)(floats(B, D, device=META)), "x", "the model"),
    (lambda: ManyToOne(D, H, 2)(floats(T, B, D, device=META)), "x", "the model"),
    (lambda: JordanRNN(D, H, 2)(floats(T, B, D), y0=floats(B, 2, device=META)), "y0", "the model"),
    (lambda: JordanRNN(D, H, 2)(floats(T, B, D), targets=floats(T, B, 2, device=META), teacher_forcing=True),
     "targets", "the model"),
    (lambda: MLP(D, H, 2)(floats(B, D, device=META)), "x", "the model"),
    (lambda: AddingModel("lstm", H)(floats(T, B, 2, device=META)), "x", "the model"),
    (lambda: Seq2Seq(V, V, H)(ids(T, B, device=META), ids(T, B)), "src", "the model"),
    (lambda: Seq2Seq(V, V, H)(ids(T, B), ids(T, B, device=META)), "tgt", "the model"),
    (lambda: Seq2Seq(V, V, H).greedy_decode(ids(T, B, device=META), 3), "src", "the model"),
    (lambda: Seq2Seq(V, V, H).decode(floats(B, H, device=META), ids(T, B)), "context", "the model"),
    (lambda: Seq2Seq(V, V, H).step(ids(B, device=META), floats(B, H)), "tokens", "the model"),
    (lambda: Seq2Seq(V, V, H).step(ids(B), floats(B, H, device=META)), "h", "the model"),
    (lambda: Tagger(V, D, H, 3)(ids(T, B, device=META), lengths()), "ids", "the model"),
    (lambda: CharLM(V, D, H)(ids(T, B, device=META)), "ids", "the model"),
    (lambda: CharLM(V, D, H)(ids(T, B), floats(1, B, H, device=META)), "h0", "the model"),
    (lambda: embedding_forward(ids(T, B, device=META), floats(V, D)), "ids", "E"),
    (lambda: masked_cross_entropy(floats(T, B, V), ids(T, B, device=META), torch.ones(T, B, dtype=torch.bool)),
     "targets", "logits"),
    (lambda: masked_cross_entropy(floats(T, B, V), ids(T, B), torch.ones(T, B, dtype=torch.bool, device=META)),
     "mask", "logits"),
    (lambda: packed_rnn_forward(torch.nn.RNN(D, H), floats(T, B, D), lengths(), floats(1, B, H, device=META)),
     "h0", "rnn"),
    (lambda: teacher_forcing_loss(floats(T, B, V), ids(T, B, device=META)), "tgt", "logits"),
    (lambda: sequence_accuracy(ids(T, B, device=META), ids(T, B)), "pred", "tgt"),
]


@pytest.mark.parametrize("call, name, ref", ON_TWO_DEVICES, ids=[f"{n}-{i}" for i, (_, n, _) in
                                                                 enumerate(ON_TWO_DEVICES)])
def test_a_tensor_on_another_device_is_a_type_error_that_names_it(call, name, ref):
    with pytest.raises(TypeError, match=rf"^{name} is on meta but {ref} is on cpu; call {name}\.to\('cpu'\)$"):
        call()


def test_lengths_may_be_on_any_device():
    """Lengths are moved where they are needed (packing wants them on the CPU), as torch.nn's packing does."""
    hs = torch.arange(T * B * H, dtype=torch.float32).reshape(T, B, H)
    assert torch.equal(last_states(hs, lengths()), torch.stack([hs[T - 1, 0], hs[2, 1]]))
    assert last_states(hs.to(META), lengths()).device == META


@pytest.mark.parametrize("make", [
    lambda g: ElmanRNN(D, H, generator=g), lambda g: LSTM(D, H, generator=g), lambda g: GRUCell(D, H, generator=g),
    lambda g: RNNModel(D, H, 2, generator=g), lambda g: JordanRNN(D, H, 2, generator=g),
    lambda g: MLP(D, H, 2, generator=g), lambda g: Seq2Seq(V, V, H, generator=g),
])
def test_the_generator_of_the_initial_weights_is_a_cpu_generator(make):
    """Weights are drawn on the CPU and copied to their device, so that one seed gives the same weights
    everywhere; a seed passed as a number, or anything else, is refused by name."""
    make(torch.Generator().manual_seed(0))
    with pytest.raises(TypeError, match=r"generator should be a CPU torch.Generator or None, but is int; .*"
                                        r"pass torch.Generator\(\).manual_seed\(seed\)$"):
        make(0)


@pytest.mark.parametrize("make", [
    lambda **kw: Tagger(V, D, H, 3, **kw), lambda **kw: CharLM(V, D, H, **kw),
    lambda **kw: AddingModel("gru", H, **kw),
])
def test_the_torch_nn_models_take_a_device_and_a_dtype_and_keep_their_seeded_weights(make):
    torch.manual_seed(0)
    plain = make()
    torch.manual_seed(0)
    wide = make(dtype=torch.float64)
    assert all(p.dtype == torch.float64 for p in wide.parameters())
    assert all(torch.equal(p.double(), q) for p, q in zip(plain.parameters(), wide.parameters()))
    torch.manual_seed(0)
    assert all(p.device == META for p in make(device=META).parameters())
    with pytest.raises(TypeError, match="dtype should be a floating-point torch.dtype"):
        make(dtype=torch.int64)


USES_TORCH_NN_LSTM = {"AddingModel lstm"}


@contextlib.contextmanager
def _without_onednn_where_it_has_no_bfloat16_lstm(name):
    """torch.nn.LSTM under the CPU's bfloat16 autocast runs oneDNN's bfloat16 LSTM, which needs AVX-512:
    on an AVX2 CPU torch itself fails ("could not create a primitive descriptor for the LSTM forward
    propagation primitive"). There, for the models built on torch.nn.LSTM, ATen's own LSTM (which
    autocast leaves in float32) stands in, so that the test checks our code, not the CPU."""
    try:
        if name in USES_TORCH_NN_LSTM:
            with torch.autocast("cpu", dtype=torch.bfloat16):
                torch.nn.LSTM(1, 1)(torch.zeros(1, 1, 1))
    except RuntimeError as error:
        if "primitive descriptor" not in str(error):
            raise
        with warnings.catch_warnings():             # a note on Intel GPUs' TF32 that the CPU build prints
            warnings.simplefilter("ignore", UserWarning)
            with torch.backends.mkldnn.flags(enabled=False):
                yield
        return
    yield


@pytest.mark.parametrize("name", sorted(ON_ONE_DEVICE))
def test_runs_forward_and_backward_under_autocast(name):
    """Mixed precision (the CPU's bfloat16 autocast standing for CUDA's float16): the states a model
    computes have another dtype than its weights there, which the dtype checks allow only inside autocast."""
    torch.manual_seed(0)
    reference = ON_ONE_DEVICE[name]("cpu")          # the same code on the CPU, with values, in float32
    torch.manual_seed(0)
    with torch.autocast("cpu", dtype=torch.bfloat16), _without_onednn_where_it_has_no_bfloat16_lstm(name):
        out = ON_ONE_DEVICE[name]("cpu")
    assert out.device.type == "cpu" and out.shape == reference.shape
    if out.is_floating_point():                     # bfloat16 keeps 8 bits of mantissa: agreement to about 1 %
        assert reference.dtype == torch.float32 and reference.abs().max() > 0.1
        torch.testing.assert_close(out.float(), reference, atol=0.05, rtol=0.05)
    else:
        assert torch.equal(out, reference)
    if out.requires_grad:
        out.float().sum().backward()


def test_outside_autocast_a_dtype_mismatch_is_still_a_type_error():
    with pytest.raises(TypeError, match=r"^x has dtype torch.float64 but the model has dtype torch.float32"):
        RNNModel(D, H, 2)(floats(T, B, D).double())
    with torch.autocast("cpu", dtype=torch.bfloat16):
        hs, h_T = ElmanRNN(D, H)(floats(T, B, D))
        assert h_T.dtype == torch.bfloat16
        ElmanRNN(D, H)(floats(T, B, D), h_T)                  # a state computed under autocast goes back in


def test_under_autocast_only_the_reduced_precision_passes_the_dtype_check():
    """Inside autocast a float16/bfloat16 input or state (what autocast makes) is taken; a float64 one is
    still refused with the package's TypeError; the LSTM takes the reduced-precision ones too."""
    x = floats(T, B, D)
    lstm = LSTM(D, H)
    with torch.autocast("cpu", dtype=torch.bfloat16):
        h_T = ElmanRNN(D, H)(x)[1]                                # bfloat16
        assert lstm(x.bfloat16(), (h_T, h_T))[0].dtype == torch.float32
        for model in (lstm, ElmanRNN(D, H), RNNModel(D, H, 2)):
            with pytest.raises(TypeError, match=r"^x has dtype torch.float64 but the model has dtype torch.float32"):
                model(x.double())


# Every model that takes device= (the composite ones through the parts they build), with that device.
BUILD_ON = {
    "ElmanRNN": lambda d: ElmanRNN(D, H, device=d),
    "RNNModel": lambda d: RNNModel(D, H, 2, device=d),
    "OutputLayer": lambda d: OutputLayer(H, 2, device=d),
    "LSTM": lambda d: LSTM(D, H, device=d),
    "GRU": lambda d: GRU(D, H, device=d),
    "LSTMCell": lambda d: LSTMCell(D, H, device=d),
    "GRUCell": lambda d: GRUCell(D, H, device=d),
    "OneToMany": lambda d: OneToMany(D, H, 2, steps=3, device=d),
    "ManyToOne": lambda d: ManyToOne(D, H, 2, device=d),
    "Synchronized": lambda d: Synchronized(D, H, 2, device=d),
    "JordanRNN": lambda d: JordanRNN(D, H, 2, device=d),
    "MLP": lambda d: MLP(D, H, 2, device=d),
    "Seq2Seq": lambda d: Seq2Seq(V, V, H, device=d),
    "Tagger": lambda d: Tagger(V, D, H, 3, device=d),
    "CharLM": lambda d: CharLM(V, D, H, device=d),
    "AddingModel": lambda d: AddingModel("rnn", H, device=d),
}


@pytest.mark.parametrize("name", sorted(BUILD_ON))
def test_a_device_that_is_no_device_or_a_missing_gpu_is_named_before_any_weight_is_made(name, monkeypatch):
    build = BUILD_ON[name]
    with pytest.raises(ValueError, match=r"^device should be None, a torch.device or a device name such as 'cpu', "
                                         r"'cuda' or 'cuda:0', but is 'gpu'$"):
        build("gpu")
    with pytest.raises(TypeError, match=r"^device should be None, a device name such as 'cpu' or 'cuda', or a "
                                        r"torch.device, but is list \['cpu'\]$"):
        build(["cpu"])
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)     # a machine without a GPU
    with pytest.raises(ValueError, match=r"^device asks for the CUDA device 'cuda:0', but torch.cuda.is_available\(\) "
                                         r"is False on this machine; use pick_device\(\) \(no argument\)"):
        build(torch.device("cuda:0"))
    for device in ("cpu", torch.device("cpu"), "meta", META, None):    # meta: the tests' second device
        model = build(device)
        assert next(model.parameters()).device.type == ("cpu" if device is None else torch.device(device).type)


# Lengths on meta with data on the CPU: the values must be read (to pick steps, to pack), and a meta tensor has
# none. The range check skipped them, and torch failed later with "Cannot copy out of meta tensor".
META_LENGTHS = {
    "last_states": lambda: last_states(floats(T, B, H), lengths(META)),
    "reverse_padded": lambda: reverse_padded(floats(T, B, D), lengths(META)),
    "packed_rnn_forward": lambda: packed_rnn_forward(torch.nn.RNN(D, H), floats(T, B, D), lengths(META)),
    "packed_rnn_forward, all on meta": lambda: packed_rnn_forward(torch.nn.RNN(D, H).to(META),
                                                                  floats(T, B, D, device=META), lengths(META)),
    "ManyToOne": lambda: ManyToOne(D, H, 2)(floats(T, B, D), lengths(META)),
    "Tagger": lambda: Tagger(V, D, H, 3)(ids(T, B), lengths(META)),
    "Tagger, all on meta": lambda: Tagger(V, D, H, 3).to(META)(ids(T, B, device=META), lengths(META)),
    "Tagger, not packed": lambda: Tagger(V, D, H, 3)(ids(T, B), lengths(META), packed=False),
}


@pytest.mark.parametrize("name", sorted(META_LENGTHS))
def test_lengths_on_meta_are_a_type_error_where_their_values_are_read(name):
    with pytest.raises(TypeError, match=r"^lengths should hold values that can be read, but is on the meta device, "
                                        r"which holds none; pass the lengths on the CPU"):
        META_LENGTHS[name]()
