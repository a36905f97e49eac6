"""rnncourse.torch: the scratch Elman layer against torch.nn.RNN and the NumPy version; heads; devices."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from rnncourse.numpy.elman import rnn_backward as np_rnn_backward
from rnncourse.numpy.elman import rnn_forward as np_rnn_forward
from rnncourse.numpy.init import init_output_params, init_rnn_params
from rnncourse.numpy.output import affine_forward as np_affine_forward
from rnncourse.torch import GRU, LSTM, ElmanRNN, GRUCell, LSTMCell, OutputLayer, RNNModel, pick_device, rnn_forward, \
    rnn_step_forward
from rnncourse.torch.jordan import JordanRNN

F64 = torch.float64
SHAPES = [(1, 1, 1, 1), (1, 3, 4, 5), (7, 1, 3, 2), (6, 4, 5, 8), (12, 2, 1, 3)]  # (T, B, D, H)


def _torch_rnn(D, H, nonlinearity, seed):
    torch.manual_seed(seed)
    return torch.nn.RNN(D, H, nonlinearity=nonlinearity, dtype=F64)


def _inputs(T, B, D, H, seed):
    g = torch.Generator().manual_seed(seed)
    x = torch.randn(T, B, D, generator=g, dtype=F64, requires_grad=True)
    h0 = torch.randn(B, H, generator=g, dtype=F64, requires_grad=True)
    return x, h0, torch.randn(T, B, H, generator=g, dtype=F64), torch.randn(B, H, generator=g, dtype=F64)


# ------------------------------------------------------------------ equal to torch.nn.RNN


@pytest.mark.parametrize("nonlinearity", ["tanh", "relu"])
@pytest.mark.parametrize("T,B,D,H", SHAPES)
def test_equals_torch_rnn_values_and_gradients(T, B, D, H, nonlinearity):
    ref = _torch_rnn(D, H, nonlinearity, seed=T * 100 + B * 10 + D)
    model = ElmanRNN.from_torch(ref)
    x, h0, G, g_T = _inputs(T, B, D, H, seed=H)
    hs_ref, hT_ref = ref(x, h0[None])
    hs_ours, hT_ours = model(x, h0)
    assert torch.max(torch.abs(hs_ours - hs_ref)) <= 1e-10
    assert torch.max(torch.abs(hT_ours - hT_ref[0])) <= 1e-10
    # Gradients of the same scalar, through both hidden-state outputs.
    grads_ref = torch.autograd.grad((hs_ref * G).sum() + (hT_ref[0] * g_T).sum(),
                                    [x, h0, ref.weight_ih_l0, ref.weight_hh_l0, ref.bias_ih_l0, ref.bias_hh_l0])
    grads_ours = torch.autograd.grad((hs_ours * G).sum() + (hT_ours * g_T).sum(),
                                     [x, h0, model.W_xh, model.W_hh, model.b_h])
    for name, ours, theirs in zip(["x", "h0", "W_xh", "W_hh", "b_h"], grads_ours, grads_ref[:5]):
        assert torch.max(torch.abs(ours - theirs)) <= 1e-10, name
    # Both biases of torch.nn.RNN receive the gradient of their sum, b_h.
    assert torch.max(torch.abs(grads_ours[4] - grads_ref[5])) <= 1e-10


def test_h0_defaults_to_zeros_like_torch():
    ref = _torch_rnn(3, 4, "tanh", seed=1)
    x = torch.randn(5, 2, 3, dtype=F64)
    assert torch.allclose(ElmanRNN.from_torch(ref)(x)[0], ref(x)[0], atol=1e-12, rtol=0)


@pytest.mark.parametrize("nonlinearity", ["tanh", "relu"])
def test_functional_forms_equal_the_module(nonlinearity):
    # rnn_forward, ElmanRNN.forward and rnn_step_forward chained by hand all equal the recurrence
    # h_t = f(x_t W_xh^T + h_{t-1} W_hh^T + b_h) written out here as a plain loop.
    model = ElmanRNN(3, 4, nonlinearity, dtype=F64, generator=torch.Generator().manual_seed(0))
    x, h0, _, _ = _inputs(5, 2, 3, 4, seed=2)
    args = (model.W_xh, model.W_hh, model.b_h)
    f = torch.tanh if nonlinearity == "tanh" else torch.relu
    with torch.no_grad():
        h, loop = h0, []
        for t in range(5):
            h = f(x[t] @ model.W_xh.T + h @ model.W_hh.T + model.b_h)
            loop.append(h)
        loop = torch.stack(loop)
    hs_fun, hT_fun = rnn_forward(x, h0, *args, nonlinearity=nonlinearity)
    hs_mod, hT_mod = model(x, h0)
    for hs, h_T in ((hs_fun, hT_fun), (hs_mod, hT_mod)):
        assert torch.allclose(hs, loop, atol=1e-12, rtol=0) and torch.allclose(h_T, loop[-1], atol=1e-12, rtol=0)
    h = h0
    for t in range(5):
        h = rnn_step_forward(x[t], h, *args, nonlinearity=nonlinearity)
        assert torch.allclose(h, loop[t], atol=1e-12, rtol=0)


# ------------------------------------------------------------------ equal to the NumPy version


@pytest.mark.parametrize("nonlinearity", ["tanh", "relu"])
def test_equals_numpy_forward_and_backward(nonlinearity):
    rng = np.random.default_rng(3)
    T, B, D, H = 6, 3, 4, 5
    params = init_rnn_params(D, H, rng=rng, dtype=np.float64)
    x, h0, dhs = rng.normal(size=(T, B, D)), rng.normal(size=(B, H)), rng.normal(size=(T, B, H))
    hs_np, cache = np_rnn_forward(x, h0, **params, nonlinearity=nonlinearity)
    grads_np = np_rnn_backward(dhs, cache)

    model = ElmanRNN.from_numpy(params, nonlinearity)
    assert model.W_xh.dtype == F64
    xt, h0t = torch.tensor(x, requires_grad=True), torch.tensor(h0, requires_grad=True)
    hs_torch, _ = model(xt, h0t)
    assert np.max(np.abs(hs_torch.detach().numpy() - hs_np)) <= 1e-12
    (hs_torch * torch.tensor(dhs)).sum().backward()
    torch_grads = {"x": xt.grad, "h0": h0t.grad, "W_xh": model.W_xh.grad, "W_hh": model.W_hh.grad,
                   "b_h": model.b_h.grad}
    for name, g in torch_grads.items():
        assert np.max(np.abs(g.numpy() - grads_np[name])) <= 1e-12, name


# ------------------------------------------------------------------ conversions


def test_conversions_round_trip():
    model = ElmanRNN(3, 4, "relu", dtype=F64, generator=torch.Generator().manual_seed(5))
    rnn = model.to_torch()
    assert rnn.nonlinearity == "relu" and torch.all(rnn.bias_hh_l0 == 0)
    back = ElmanRNN.from_torch(rnn)
    again = ElmanRNN.from_numpy(model.numpy_params(), "relu")
    for name in ("W_xh", "W_hh", "b_h"):
        assert torch.equal(getattr(back, name), getattr(model, name))
        assert torch.equal(getattr(again, name), getattr(model, name))
    x = torch.randn(4, 2, 3, dtype=F64)
    assert torch.allclose(rnn(x)[0], model(x)[0], atol=1e-12, rtol=0)
    params = model.numpy_params()
    params["W_hh"][0, 0] += 1.0                      # a copy: changing it leaves the model alone
    assert model.W_hh[0, 0].item() != params["W_hh"][0, 0]


def test_from_torch_of_an_rnn_without_biases_has_zero_bias():
    # nn.RNN(bias=False) computes h_t = tanh(x_t W_ih^T + h_{t-1} W_hh^T): the copy's b_h must be zero.
    ref = torch.nn.RNN(3, 4, bias=False, dtype=F64)
    model = ElmanRNN.from_torch(ref)
    assert torch.equal(model.b_h, torch.zeros(4, dtype=F64))
    x, h0, _, _ = _inputs(5, 2, 3, 4, seed=6)
    assert torch.allclose(model(x, h0)[0], ref(x, h0[None])[0], atol=1e-12, rtol=0)


def test_from_numpy_keeps_float32_and_allows_a_dtype():
    params = init_rnn_params(2, 3, rng=np.random.default_rng(0), dtype=np.float32)
    assert ElmanRNN.from_numpy(params).W_hh.dtype == torch.float32
    assert ElmanRNN.from_numpy(params, dtype=F64).W_hh.dtype == F64


@pytest.mark.parametrize("kwargs,match", [
    ({"num_layers": 2}, "num_layers=2"),
    ({"bidirectional": True}, "bidirectional=True"),
    ({"batch_first": True}, "batch_first=True"),
])
def test_from_torch_rejects_other_layouts(kwargs, match):
    with pytest.raises(ValueError, match=match):
        ElmanRNN.from_torch(torch.nn.RNN(3, 4, **kwargs))


def test_from_torch_rejects_other_modules_and_from_numpy_checks_keys():
    with pytest.raises(TypeError, match="torch.nn.RNN"):
        ElmanRNN.from_torch(torch.nn.LSTM(3, 4))
    with pytest.raises(ValueError, match="lacks b_h"):
        ElmanRNN.from_numpy({"W_xh": np.zeros((4, 3)), "W_hh": np.zeros((4, 4))})
    with pytest.raises(ValueError, match=r"params\['W_hh'\] should have shape \(H, H\) = \(4, 4\)"):
        ElmanRNN.from_numpy({"W_xh": np.zeros((4, 3)), "W_hh": np.zeros((3, 3)), "b_h": np.zeros(4)})


# ------------------------------------------------------------------ initialisation


def test_init_is_uniform_in_bounds_and_seeded():
    a = ElmanRNN(10, 64, generator=torch.Generator().manual_seed(0))
    b = ElmanRNN(10, 64, generator=torch.Generator().manual_seed(0))
    c = ElmanRNN(10, 64, generator=torch.Generator().manual_seed(1))
    for name in ("W_xh", "W_hh", "b_h"):
        p = getattr(a, name)
        assert p.abs().max() <= 1 / 8 and p.abs().max() > 0.9 / 8   # U(-1/sqrt(H), 1/sqrt(H)), H = 64
        assert torch.equal(p, getattr(b, name)) and not torch.equal(p, getattr(c, name))


@pytest.mark.parametrize("make", [
    lambda g: LSTM(10, 64, generator=g), lambda g: GRU(10, 64, generator=g), lambda g: LSTMCell(10, 64, generator=g),
    lambda g: GRUCell(10, 64, generator=g), lambda g: JordanRNN(10, 64, 2, generator=g),
    lambda g: OutputLayer(64, 3, generator=g),
], ids=["LSTM", "GRU", "LSTMCell", "GRUCell", "JordanRNN", "OutputLayer"])
def test_every_module_draws_from_its_documented_uniform_bound(make):
    # Each documents U(-1/sqrt(H), 1/sqrt(H)) with H its hidden size (OutputLayer's input), here H = 64: 1/8.
    params = list(make(torch.Generator().manual_seed(0)).parameters())
    assert all(float(p.detach().abs().max()) <= 1 / 8 for p in params)
    assert max(float(p.detach().abs().max()) for p in params) > 0.9 / 8


@pytest.mark.parametrize("bound, error, match", [
    (-1, ValueError, r"^bound should be a finite number >= 0, but is -1\.0$"),     # torch's "[from, to) range"
    (float("nan"), ValueError, r"^bound should be a finite number >= 0, but is nan$"),
    (float("inf"), ValueError, r"^bound should be a finite number >= 0, but is inf$"),  # "from is out of bounds"
    ("x", TypeError, r"^bound should be a number, but is str 'x'$"),               # "bad operand type for unary -"
    (True, TypeError, r"^bound should be a number, but is bool True$"),             # was read as 1
])
def test_uniform_checks_its_bound_before_filling_anything(bound, error, match):
    from rnncourse.torch.init import uniform_

    w = torch.zeros(2, 3)
    with pytest.raises(error, match=match):
        uniform_([w], bound)
    assert torch.equal(w, torch.zeros(2, 3))
    uniform_([w], 0)                                        # a bound of 0 fills zeros (a Linear with no inputs)
    assert torch.equal(w, torch.zeros(2, 3))


@pytest.mark.parametrize("tensor", [[1.0], None, np.zeros(2)])
def test_numpy_copy_wants_a_tensor(tensor):
    from rnncourse.torch.init import numpy_copy

    with pytest.raises(TypeError, match=rf"^tensor \(b_h\) should be a torch\.Tensor, but is "
                                        rf"{type(tensor).__name__}$"):          # was AttributeError: ... 'dtype'
        numpy_copy(tensor, "b_h")


# ------------------------------------------------------------------ bad inputs


@pytest.fixture
def model():
    return ElmanRNN(3, 4, generator=torch.Generator().manual_seed(0))


@pytest.mark.parametrize("make,error,match", [
    (lambda: torch.zeros(2, 3), ValueError, r"x should have 3 dimensions with shape \(T, B, D\).*time-major"),
    (lambda: torch.zeros(5, 2, 7), ValueError, r"axis 2, D, is 7 instead of 3"),
    (lambda: torch.zeros(0, 2, 3), ValueError, "at least one time step"),
    (lambda: torch.zeros(5, 2, 3, dtype=torch.long), TypeError, "floating-point"),
    (lambda: torch.zeros(5, 2, 3, dtype=F64), TypeError,
     r"x has dtype torch.float64 but the model has dtype torch.float32; call x.to\(torch.float32\)$"),
    (lambda: np.zeros((5, 2, 3), np.float32), TypeError, r"torch.Tensor.*torch.as_tensor"),
    (lambda: torch.full((5, 2, 3), float("nan")), ValueError, "NaN"),
])
def test_bad_x_raises_clear_errors(model, make, error, match):
    with pytest.raises(error, match=match):
        model(make())


def test_bad_h0_raises_clear_errors(model):
    x = torch.zeros(5, 2, 3)
    with pytest.raises(ValueError, match=r"h0 should have 2 dimensions.*unsqueeze\(0\)"):
        model(x, torch.zeros(4))
    with pytest.raises(ValueError, match=r"h0 should have shape \(B, H\) = \(2, 4\)"):
        model(x, torch.zeros(3, 4))


def test_device_mismatch_names_the_fix():
    on_meta = ElmanRNN(3, 4, device="meta")
    with pytest.raises(TypeError, match=r"x is on cpu but the model is on meta; call x.to\('meta'\)$"):
        on_meta(torch.zeros(5, 2, 3))


def test_bad_constructor_and_weights():
    with pytest.raises(ValueError, match="nonlinearity should be one of 'tanh', 'relu'"):
        ElmanRNN(3, 4, "sigmoid")
    with pytest.raises(ValueError, match="hidden_size should be an integer >= 1"):
        ElmanRNN(3, 0)
    with pytest.raises(ValueError, match=r"W_hh should have shape \(H, H\) = \(4, 4\)"):
        rnn_forward(torch.zeros(5, 2, 3), None, torch.zeros(4, 3), torch.zeros(4, 5), torch.zeros(4))


# ------------------------------------------------------------------ heads


def test_output_layer_equals_numpy_affine_on_both_shapes():
    rng = np.random.default_rng(7)
    params = init_output_params(5, 3, rng=rng, dtype=np.float64)
    layer = OutputLayer.from_numpy(params)
    for shape in [(4, 2, 5), (2, 5)]:
        hs = rng.normal(size=shape)
        Y_np, _ = np_affine_forward(hs, params["W_hy"], params["b_y"])
        assert np.max(np.abs(layer(torch.tensor(hs)).detach().numpy() - Y_np)) <= 1e-12
    with pytest.raises(ValueError, match=r"axis 2, H, is 6 instead of 5"):
        layer(torch.zeros(4, 2, 6, dtype=F64))
    assert OutputLayer.from_numpy(layer.numpy_params()).W_hy.equal(layer.W_hy)


def test_rnn_model_many_to_many_and_many_to_one():
    g = torch.Generator().manual_seed(0)
    seq = RNNModel(3, 6, 2, dtype=F64, generator=g)
    one = RNNModel(3, 6, 2, many_to_one=True, dtype=F64)
    one.load_state_dict(seq.state_dict())
    x = torch.randn(5, 4, 3, dtype=F64)
    Y, h_T = seq(x)
    Y_last, h_T2 = one(x)
    hs, _ = seq.rnn(x)
    assert Y.shape == (5, 4, 2) and Y_last.shape == (4, 2)
    assert torch.allclose(Y, hs @ seq.out.W_hy.T + seq.out.b_y, atol=1e-12, rtol=0)
    assert torch.equal(Y_last, Y[-1]) and torch.equal(h_T, h_T2)


# ------------------------------------------------------------------ devices


def test_pick_device():
    assert pick_device("cpu") == torch.device("cpu")
    assert pick_device().type == ("cuda" if torch.cuda.is_available() else "cpu")
    with pytest.raises(ValueError, match="prefer should be"):
        pick_device("gpu please")
    for other in ("mps", "meta", torch.device("meta")):                  # devices, but not the course's
        with pytest.raises(ValueError, match=r"prefer should be None, 'cpu' or 'cuda' \(the course's code is tested"):
            pick_device(other)
    for wrong in (1.5, 0, ["cpu"]):                           # a type, not a value, is wrong here
        with pytest.raises(TypeError, match=r"prefer should be None, a device name .* but is"):
            pick_device(wrong)
    assert pick_device(torch.device("cpu")) == torch.device("cpu")


def test_pick_device_refuses_a_gpu_index_the_machine_lacks(monkeypatch):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)      # a machine with one GPU
    monkeypatch.setattr(torch.cuda, "device_count", lambda: 1)
    assert pick_device("cuda:0") == torch.device("cuda:0") and pick_device("cuda") == torch.device("cuda")
    with pytest.raises(ValueError, match=r"'cuda:1' was asked for, but this machine has 1 CUDA device\(s\), "
                                         r"cuda:0 to cuda:0$"):
        pick_device("cuda:1")


@pytest.mark.skipif(torch.cuda.is_available(), reason="only meaningful without a GPU")
def test_pick_device_refuses_missing_cuda():
    with pytest.raises(ValueError, match="torch.cuda.is_available\\(\\) is False"):
        pick_device("cuda")


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU")
def test_cuda_matches_cpu_and_names_device_mismatch():
    cpu = RNNModel(3, 8, 2, dtype=F64, generator=torch.Generator().manual_seed(0))
    gpu = RNNModel(3, 8, 2, dtype=F64, device="cuda", generator=torch.Generator().manual_seed(0))
    x = torch.randn(6, 4, 3, dtype=F64)
    assert torch.allclose(gpu(x.cuda())[0].cpu(), cpu(x)[0], atol=1e-10, rtol=0)
    with pytest.raises(TypeError, match=r"x is on cpu but the model is on cuda:0; call x.to\('cuda:0'\)$"):
        gpu(x)


def test_h0_of_another_type_and_params_not_a_dict_raise_type_errors():
    x, W_xh, W_hh, b_h = torch.zeros(5, 2, 3), torch.zeros(4, 3), torch.zeros(4, 4), torch.zeros(4)
    with pytest.raises(TypeError, match="h0 should be a torch.Tensor, but is list"):
        rnn_forward(x, [[0.0] * 4] * 2, W_xh, W_hh, b_h)
    with pytest.raises(TypeError, match="h0 should be a torch.Tensor, but is list"):
        ElmanRNN(3, 4)(x, [[0.0] * 4] * 2)
    with pytest.raises(TypeError, match="params should be a dict with the keys W_xh, W_hh, b_h, but is list"):
        ElmanRNN.from_numpy(["W_xh", "W_hh", "b_h"])
    with pytest.raises(TypeError, match="params should be a dict with the keys W_hy, b_y, but is list"):
        OutputLayer.from_numpy(["W_hy", "b_y"])
    with pytest.raises(ValueError, match="params should be a dict with the keys W_hy, b_y, but lacks b_y"):
        OutputLayer.from_numpy({"W_hy": np.zeros((2, 4))})


@pytest.mark.parametrize("make", [lambda dtype: ElmanRNN(3, 4, dtype=dtype),
                                  lambda dtype: OutputLayer(4, 2, dtype=dtype),
                                  lambda dtype: RNNModel(3, 4, 2, dtype=dtype)])
def test_a_dtype_that_is_not_floating_point_raises_type_error(make):
    for dtype in (torch.int64, torch.bool, "float64"):
        with pytest.raises(TypeError, match=r"dtype should be a floating-point torch.dtype \(torch.float16, "
                                            r"torch.bfloat16, torch.float32 or torch.float64\) or None, but is"):
            make(dtype)
    assert make(torch.float64).state_dict()                    # float dtypes still build


def test_output_layer_from_torch_and_to_torch_equal_torch_nn_linear():
    torch.manual_seed(0)
    linear = torch.nn.Linear(4, 3, dtype=F64)
    layer = OutputLayer.from_torch(linear)
    hs = torch.randn(5, 2, 4, dtype=F64)
    assert layer.W_hy.dtype == F64 and torch.equal(layer(hs), linear(hs))
    back = layer.to_torch()
    assert isinstance(back, torch.nn.Linear) and torch.equal(back(hs), linear(hs))
    no_bias = OutputLayer.from_torch(torch.nn.Linear(4, 3, bias=False))
    assert torch.equal(no_bias.b_y, torch.zeros(3))
    with pytest.raises(TypeError, match="linear should be a torch.nn.Linear"):
        OutputLayer.from_torch(torch.nn.RNN(4, 3))


@pytest.mark.parametrize("many_to_one", [False, True])
def test_rnn_model_from_numpy_equals_model_forward_and_numpy_params_goes_back(many_to_one):
    from rnncourse.numpy.model import init_model_params, model_forward

    rng = np.random.default_rng(4)
    params = init_model_params(3, 5, 2, rng=rng)
    model = RNNModel.from_numpy(params, "relu", many_to_one=many_to_one)
    assert model.rnn.W_xh.dtype == F64 and model.many_to_one is many_to_one and model.rnn.nonlinearity == "relu"
    x = rng.normal(size=(6, 4, 3))
    Y, _ = model(torch.from_numpy(x))
    np.testing.assert_allclose(Y.detach().numpy(), model_forward(params, x, nonlinearity="relu",
                                                                 many_to_one=many_to_one)[0], rtol=0, atol=1e-13)
    back = model.numpy_params()
    assert back.keys() == params.keys() and all(np.array_equal(back[k], params[k]) for k in params)
    with pytest.raises(ValueError, match=r"params\['W_hy'\] should have shape \(O, H\) with H = 5"):
        RNNModel.from_numpy(dict(params, W_hy=np.zeros((2, 4))))
    from rnncourse.torch.topologies import Synchronized

    synchronized = Synchronized.from_numpy(params, "relu")          # the subclass: one output per step
    assert type(synchronized) is Synchronized and not synchronized.many_to_one
    np.testing.assert_allclose(synchronized(torch.from_numpy(x))[0].detach().numpy(),
                               model_forward(params, x, nonlinearity="relu")[0], rtol=0, atol=1e-13)
    with pytest.raises(TypeError, match="all arrays should share one dtype, but .*b_y is float32"):
        RNNModel.from_numpy(dict(params, b_y=params["b_y"].astype(np.float32)))


def test_step_input_errors_name_the_argument():
    W_xh, W_hh, b_h = torch.zeros(4, 3, dtype=F64), torch.eye(4, dtype=F64), torch.zeros(4, dtype=F64)
    x_t, h_prev = torch.ones(2, 3, dtype=F64), torch.zeros(2, 4, dtype=F64)
    with pytest.raises(ValueError, match="nonlinearity should be one of 'tanh', 'relu', but is 'sigmoid'"):
        rnn_step_forward(x_t, h_prev, W_xh, W_hh, b_h, "sigmoid")
    with pytest.raises(ValueError, match=r"x_t should have 2 dimensions .*\(B, D\).*for a whole sequence"):
        rnn_step_forward(torch.ones(5, 2, 3, dtype=F64), h_prev, W_xh, W_hh, b_h)
    with pytest.raises(ValueError, match=r"h_prev should have .*\(B, H\) = \(2, 4\)"):
        rnn_step_forward(x_t, torch.zeros(3, 4, dtype=F64), W_xh, W_hh, b_h)
    with pytest.raises(TypeError, match="h_prev"):
        rnn_step_forward(x_t, h_prev.float(), W_xh, W_hh, b_h)


def _message(f, *args):
    with pytest.raises(ValueError) as info:
        f(*args)
    return str(info.value)


# (what is wrong, whether it is one step, which argument the message blames)
_TWIN_CASES = [("x has the wrong D", False, "W_xh"), ("h0 has the wrong B", False, "h0"),
               ("W_hh is not square", False, "W_hh"), ("x_t has the wrong D", True, "W_xh"),
               ("h_prev has the wrong H", True, "h_prev")]


@pytest.mark.parametrize("case,step,blamed", _TWIN_CASES)
def test_shape_errors_are_those_of_the_numpy_twin(case, step, blamed):
    from rnncourse.numpy.elman import rnn_step_forward as np_rnn_step_forward

    rng = np.random.default_rng(0)
    x, h0, W_xh, W_hh, b_h = (rng.normal(size=s) for s in ((4, 3, 2), (3, 5), (5, 2), (5, 5), (5,)))
    args = {"x has the wrong D": (x[..., :1], h0, W_xh, W_hh, b_h),
            "h0 has the wrong B": (x, h0[:2], W_xh, W_hh, b_h),
            "W_hh is not square": (x, h0, W_xh, W_hh[:, :2], b_h),
            "x_t has the wrong D": (x[0, :, :1], h0, W_xh, W_hh, b_h),
            "h_prev has the wrong H": (x[0], h0[:, :2], W_xh, W_hh, b_h)}[case]
    mine = _message(rnn_step_forward if step else rnn_forward, *map(torch.from_numpy, args))
    assert mine == _message(np_rnn_step_forward if step else np_rnn_forward, *args)
    assert mine.startswith(f"{blamed} should have shape")


def test_an_h0_of_one_dimension_gets_the_hints_of_the_numpy_twin():
    x, W_xh, W_hh, b_h = torch.zeros(4, 3, 2, dtype=F64), torch.zeros(5, 2, dtype=F64), torch.eye(5, dtype=F64), \
        torch.zeros(5, dtype=F64)
    with pytest.raises(ValueError, match=r"B comes from x and H from W_hh; add a batch axis with h0\.unsqueeze\(0\)$"):
        rnn_forward(x, torch.zeros(5, dtype=F64), W_xh, W_hh, b_h)
    with pytest.raises(ValueError, match=r"\(axis 0, B, is 2 instead of 3\); B comes from x and H from the model's "
                                         r"hidden_size$"):
        ElmanRNN(2, 5)(x.float(), torch.zeros(2, 5))



def test_an_h0_that_fits_batch_major_x_or_torch_nn_rnn_gets_that_hint():
    x = torch.zeros(4, 3, 2, dtype=F64)                         # (T, B, D)
    model = ElmanRNN(2, 5, dtype=F64)
    with pytest.raises(ValueError, match=r"^h0 should have shape \(B, H\) = \(4, 5\), but has shape \(3, 5\) .*; B "
                                         r"comes from x and H from the model's hidden_size; h0's first axis is 3, the "
                                         r"size of x's first axis: if x is batch-major \(B, T, D\), make it "
                                         r"time-major \(T, B, D\) with x\.transpose\(0, 1\)$"):
        model(x.transpose(0, 1), torch.zeros(3, 5, dtype=F64))
    for call in (lambda h0: model(x, h0), lambda h0: RNNModel(2, 5, 1, dtype=F64)(x, h0),
                 lambda h0: rnn_forward(x, h0, model.W_xh, model.W_hh, model.b_h)):
        with pytest.raises(ValueError, match=r"^h0 should have 2 dimensions .* \(1, 3, 5\); B comes from x .*; h0 looks "
                                             r"like the state of torch\.nn\.RNN \(or LSTM, GRU\), which puts a "
                                             r"num_layers axis first, .*: pass h0\[0\]$"):
            call(torch.zeros(1, 3, 5, dtype=F64))

def test_dtype_errors_give_the_fix_of_the_library_the_array_comes_from():
    from rnncourse.validation import check_array, check_index_array

    with pytest.raises(TypeError, match=r"^x should hold floating-point numbers \(a float dtype, e\.g\. torch\.float32 "
                                        r"or torch\.float64\), but has dtype torch\.int64; convert it, e\.g\. x\.double\(\)$"):
        check_array(torch.zeros(2, 3, dtype=torch.long), "x", ("B", "D"), backend="torch")
    with pytest.raises(TypeError, match=r"^x should hold floating-point numbers \(float32 or float64\), but has dtype "
                                        r"int64; convert it, e\.g\. x\.astype\(np\.float64\)$"):
        check_array(np.zeros((2, 3), dtype=np.int64), "x", ("B", "D"))
    with pytest.raises(TypeError, match=r"convert it with ids\.long\(\)$"):
        check_index_array(torch.zeros(3), "ids", ("N",), backend="torch")
    with pytest.raises(TypeError, match=r"convert it with ids\.astype\(np\.int64\)$"):
        check_index_array(np.zeros(3), "ids", ("N",))


@pytest.mark.parametrize("flag", ["no", "False", 0, None])
def test_rnn_model_takes_many_to_one_as_true_or_false_only(flag):
    with pytest.raises(TypeError, match=rf"^many_to_one should be True or False, but is {type(flag).__name__} "):
        RNNModel(3, 4, 2, many_to_one=flag)
    assert RNNModel(3, 4, 2, many_to_one=np.bool_(True)).many_to_one is True


@pytest.mark.parametrize("flag", ["no", "False", 0, None])
def test_rnn_model_from_numpy_takes_many_to_one_as_true_or_false_only(flag):
    from rnncourse.numpy.model import init_model_params

    params = init_model_params(3, 4, 2, rng=np.random.default_rng(0))
    with pytest.raises(TypeError, match=rf"^many_to_one should be True or False, but is {type(flag).__name__} "):
        RNNModel.from_numpy(params, many_to_one=flag)              # bool("False") was True
    assert RNNModel.from_numpy(params, many_to_one=np.bool_(True)).many_to_one is True


def test_the_last_state_is_a_tensor_of_its_own_like_torch_nn_rnns():
    # Resetting one sequence's final state (truncated BPTT across batches) must not corrupt the backward pass:
    # torch.nn.RNN allows it, and so must every twin that returns h_T.
    torch.manual_seed(0)
    x = torch.randn(5, 3, 4, dtype=torch.float64)
    model = ElmanRNN(4, 6, dtype=torch.float64)
    hs_ref, _ = model(x)
    hs_ref.sum().backward()
    want = [p.grad.clone() for p in model.parameters()]
    model.zero_grad()
    for run in (lambda: model(x), lambda: rnn_forward(x, None, model.W_xh, model.W_hh, model.b_h)):
        hs, h_T = run()
        h_T[0] = 0.0
        assert hs[-1, 0].abs().sum() > 0          # hs keeps the state
        hs.sum().backward()
        for p, g in zip(model.parameters(), want):
            torch.testing.assert_close(p.grad, g, rtol=0, atol=1e-12)
        model.zero_grad()

    # So must every model that returns h_T after its read-out used it (a many-to-one head saves that state for the
    # backward pass; rule 7 of rnncourse): resetting it in place leaves Y's gradients intact.
    from rnncourse.torch.seq2seq import Seq2Seq
    from rnncourse.torch.topologies import ManyToOne

    gen = torch.Generator().manual_seed(0)
    head, m2o, s2s = (RNNModel(4, 6, 2, many_to_one=True, dtype=torch.float64, generator=gen),
                      ManyToOne(4, 6, 2, dtype=torch.float64, generator=gen), Seq2Seq(5, 7, 6, dtype=torch.float64))
    step = [*s2s.decoder.parameters(), *s2s.out.parameters()]    # a decoder step leaves the encoder out
    cases = {"RNNModel many_to_one": (list(head.parameters()), head, (x,)),
             "ManyToOne": (list(m2o.parameters()), m2o, (x,)),
             "ManyToOne with lengths": (list(m2o.parameters()), m2o, (x, torch.tensor([5, 3, 2]))),
             "Seq2Seq.step": (step, s2s.step, (torch.tensor([1, 2, 3]), torch.randn(3, 6, dtype=torch.float64)))}
    for name, (used, run, args) in cases.items():
        want = torch.autograd.grad(run(*args)[0].sum(), used)
        Y, h_T = run(*args)
        with torch.no_grad():
            h_T.zero_()                       # e.g. a caller that starts the next batch from zeros
        got = torch.autograd.grad(Y.sum(), used)   # raised "modified by an inplace operation" on the read-out's h_T
        for p, w in zip(got, want):
            torch.testing.assert_close(p, w, rtol=0, atol=1e-12, msg=name)
