"""Tests of rnncourse.torch.jordan: equal to the NumPy Jordan network (values and gradients),
teacher forcing feeds the targets, training decreases the loss, clear errors."""

import numpy as np
import pytest
import torch

from rnncourse.numpy.jordan import init_jordan_params, jordan_backward, jordan_forward
from rnncourse.torch.jordan import JordanRNN
from rnncourse.torch.training import TrainConfig, train

T, B, D, H, O = 6, 3, 2, 5, 2


def setup(seed=0):
    rng = np.random.default_rng(seed)
    params = {k: 2 * v for k, v in init_jordan_params(D, H, O, rng=rng).items()}
    return params, rng.normal(size=(T, B, D)), rng.normal(size=(B, O)), rng.normal(size=(T, B, O))


@pytest.mark.parametrize("output", ["linear", "sigmoid", "tanh"])
@pytest.mark.parametrize("teacher", [False, True])
def test_equals_numpy_values_and_gradients(output, teacher):
    params, x, y0, targets = setup(1)
    w = np.random.default_rng(2).normal(size=(T, B, O))
    Y_np, cache = jordan_forward(x, y0, **params, output=output, targets=targets if teacher else None)
    grads = jordan_backward(w, cache)
    model = JordanRNN.from_numpy(params, output=output, teacher_forcing=teacher)
    xt, y0t = torch.tensor(x, requires_grad=True), torch.tensor(y0, requires_grad=True)
    Y, hs = model(xt, y0t, targets=torch.tensor(targets))
    (Y * torch.tensor(w)).sum().backward()
    assert np.allclose(Y.detach().numpy(), Y_np, rtol=0, atol=1e-12)
    assert np.allclose(hs.detach().numpy(), cache.hs, rtol=0, atol=1e-12)
    for name, p in model.named_parameters():
        assert np.allclose(p.grad.numpy(), grads[name], rtol=0, atol=1e-10), name
    assert np.allclose(xt.grad.numpy(), grads["x"], rtol=0, atol=1e-10)
    assert np.allclose(y0t.grad.numpy(), grads["y0"], rtol=0, atol=1e-10)


def test_override_open_and_closed_loop():
    params, x, y0, targets = setup(3)
    model = JordanRNN.from_numpy(params, teacher_forcing=True)
    xt, tt = torch.tensor(x), torch.tensor(targets)
    closed, _ = model(xt, teacher_forcing=False)
    assert np.allclose(closed.detach().numpy(), jordan_forward(x, None, **params)[0], rtol=0, atol=1e-12)
    opened, _ = model(xt, targets=tt)
    assert np.allclose(opened.detach().numpy(), jordan_forward(x, None, **params, targets=targets)[0], rtol=0,
                       atol=1e-12)
    assert not torch.allclose(opened, closed)


def test_generator_makes_the_same_model_and_numpy_params_roundtrip():
    a = JordanRNN(2, 3, 1, generator=torch.Generator().manual_seed(7), dtype=torch.float64)
    b = JordanRNN(2, 3, 1, generator=torch.Generator().manual_seed(7), dtype=torch.float64)
    assert all(torch.equal(p, q) for p, q in zip(a.parameters(), b.parameters()))
    c = JordanRNN.from_numpy(a.numpy_params())
    assert all(torch.equal(p, q) for p, q in zip(a.parameters(), c.parameters()))


@pytest.mark.parametrize("teacher", [False, True])
def test_training_learns_a_running_sum(teacher):
    # y_t = 0.5 * y_{t-1} + x_t: the output carries the whole state, a Jordan network fits it.
    def batches(rng):
        x = rng.uniform(-1, 1, size=(8, 16, 1))
        y = np.zeros_like(x)
        for t in range(8):
            y[t] = (0.5 * y[t - 1] if t else 0) + x[t]
        return x, y

    model = JordanRNN(1, 8, 1, teacher_forcing=teacher, generator=torch.Generator().manual_seed(0))
    history = train(model, batches, torch.nn.functional.mse_loss, TrainConfig(steps=100, lr=0.03, seed=0),
                    forward=lambda model, x, y: model(x, targets=y), progress=False)
    assert np.mean(history.losses[-10:]) < 0.1 * np.mean(history.losses[:10])


def test_clear_errors():
    model = JordanRNN(2, 3, 1, teacher_forcing=True)
    with pytest.raises(ValueError, match="targets is None"):
        model(torch.zeros(4, 2, 2))
    with pytest.raises(ValueError, match=r"targets should have shape \(T, B, O\) = \(4, 2, 1\)"):
        model(torch.zeros(4, 2, 2), targets=torch.zeros(4, 2, 2))
    with pytest.raises(ValueError, match="time-major"):
        model(torch.zeros(4, 2))
    with pytest.raises(TypeError, match="dtype"):
        model(torch.zeros(4, 2, 2, dtype=torch.float64), teacher_forcing=False)
    with pytest.raises(ValueError, match="output should be one of"):
        JordanRNN(2, 3, 1, output="softmax")
    with pytest.raises(TypeError, match=r"forward should be a callable forward\(model, x, y\)"):
        train(model, lambda rng: None, torch.nn.functional.mse_loss, forward="targets")


def test_from_numpy_of_no_dict_and_an_integer_dtype_raise_type_errors():
    with pytest.raises(TypeError, match="params should be a dict with the keys W_xh, W_yh, b_h, W_hy, b_y, but is "
                                        "list; create it with init_jordan_params"):
        JordanRNN.from_numpy(["W_xh"])
    with pytest.raises(ValueError, match="params should be a dict with the keys .*, but lacks W_yh, b_y"):
        JordanRNN.from_numpy({k: np.zeros(1) for k in ("W_xh", "b_h", "W_hy")})
    with pytest.raises(TypeError, match=r"dtype should be a floating-point torch.dtype .* but is torch.int32"):
        JordanRNN(1, 4, 2, dtype=torch.int32)


def test_docstring_example_runs_and_names_the_states_hs():
    import doctest

    example = doctest.DocTestFinder().find(JordanRNN, globs={"torch": torch, "JordanRNN": JordanRNN})[0]
    assert doctest.DocTestRunner().run(example).failed == 0
    assert "Y, hs = model(" in example.docstring               # H is the hidden size, not the states


def test_targets_are_checked_when_given_even_when_running_free():
    """train's hook passes targets in both regimes; running free they are not read, but still checked."""
    model = JordanRNN(1, 4, 2, dtype=torch.float64)
    x = torch.zeros(6, 3, 1, dtype=torch.float64)
    free, _ = model(x, targets=torch.ones(6, 3, 2, dtype=torch.float64))
    assert torch.equal(free, model(x)[0])                                  # not read when running free
    with pytest.raises(ValueError, match=r"targets should have shape \(T, B, O\) = \(6, 3, 2\), but has shape "):
        model(x, targets=torch.ones(5, 3, 2, dtype=torch.float64))
    with pytest.raises(TypeError, match="targets should be a torch.Tensor, but is list"):
        model(x, targets=[[0.0]])


@pytest.mark.parametrize("teacher", [False, True])
def test_the_default_y0_is_zeros_of_the_inputs_dtype(teacher):
    """u_1 = y_0, zeros by default: the same outputs and states as explicit float64 zeros."""
    model = JordanRNN(1, 4, 2, dtype=torch.float64, teacher_forcing=teacher)
    x, targets = torch.randn(6, 3, 1, dtype=torch.float64), torch.randn(6, 3, 2, dtype=torch.float64)
    Y, hs = model(x, targets=targets)
    Y0, hs0 = model(x, torch.zeros(3, 2, dtype=torch.float64), targets=targets)
    assert Y.dtype == torch.float64 and torch.equal(Y, Y0) and torch.equal(hs, hs0)


@pytest.mark.parametrize("flag", ["no", "False", 1, 0.0])
def test_teacher_forcing_is_true_or_false_when_built_and_when_called(flag):
    match = rf"^teacher_forcing should be True or False, but is {type(flag).__name__} "
    with pytest.raises(TypeError, match=match):
        JordanRNN(1, 4, 2, teacher_forcing=flag)
    with pytest.raises(TypeError, match=match):
        JordanRNN(1, 4, 2)(torch.zeros(3, 2, 1), targets=torch.zeros(3, 2, 2), teacher_forcing=flag)
