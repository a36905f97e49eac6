"""The baseline MLP equals the same computation written with torch.nn layers, and rejects other sizes."""

from __future__ import annotations

import pytest
import torch

from rnncourse.torch.mlp import MLP


def test_equals_nn_sequential_with_the_same_weights():
    mlp = MLP(6, 8, 3, dtype=torch.float64, generator=torch.Generator().manual_seed(0))
    ref = torch.nn.Sequential(torch.nn.Linear(6, 8), torch.nn.Tanh(), torch.nn.Linear(8, 3)).double()
    with torch.no_grad():
        ref[0].weight.copy_(mlp.W_1)
        ref[0].bias.copy_(mlp.b_1)
        ref[2].weight.copy_(mlp.W_2)
        ref[2].bias.copy_(mlp.b_2)
    x = torch.randn(5, 6, dtype=torch.float64, generator=torch.Generator().manual_seed(1))
    torch.testing.assert_close(mlp(x), ref(x), rtol=0, atol=1e-14)
    assert sum(p.numel() for p in mlp.parameters()) == sum(p.numel() for p in ref.parameters())


def test_initialisation_is_seeded_and_in_range():
    a = MLP(4, 16, 2, generator=torch.Generator().manual_seed(3))
    b = MLP(4, 16, 2, generator=torch.Generator().manual_seed(3))
    torch.testing.assert_close(a.W_1, b.W_1)
    assert a.W_1.abs().max() <= 0.5 and a.W_2.abs().max() <= 0.25   # 1/sqrt(4), 1/sqrt(16)


def test_gradients_equal_backpropagation_by_hand():
    """Every parameter and the input receive the gradients of the chain rule, written out here:
    h = tanh(x W_1^T + b_1), z = h W_2^T + b_2, so dW_2 = dz^T h, db_2 = sum dz,
    da = (dz W_2) * (1 - h^2), dW_1 = da^T x, db_1 = sum da, dx = da W_1."""
    mlp = MLP(3, 4, 2, dtype=torch.float64, generator=torch.Generator().manual_seed(0))
    g = torch.Generator().manual_seed(1)
    x = torch.randn(5, 3, dtype=torch.float64, generator=g, requires_grad=True)
    dz = torch.randn(5, 2, dtype=torch.float64, generator=g)
    (mlp(x) * dz).sum().backward()
    W_1, b_1, W_2 = mlp.W_1.detach(), mlp.b_1.detach(), mlp.W_2.detach()
    h = torch.tanh(x.detach() @ W_1.T + b_1)
    da = (dz @ W_2) * (1 - h ** 2)
    expected = {"W_1": da.T @ x.detach(), "b_1": da.sum(0), "W_2": dz.T @ h, "b_2": dz.sum(0)}
    for name, p in mlp.named_parameters():
        torch.testing.assert_close(p.grad, expected[name], rtol=0, atol=1e-13, msg=name)
    torch.testing.assert_close(x.grad, da @ W_1, rtol=0, atol=1e-13)


def test_another_input_size_is_rejected_clearly():
    mlp = MLP(50, 8, 2)
    with pytest.raises(ValueError, match=r"x should have shape \(B, D\) = \(B, 50\).*built for inputs of size D = 50"):
        mlp(torch.zeros(3, 60))
    with pytest.raises(TypeError, match="x has dtype torch.float64"):
        mlp(torch.zeros(3, 50, dtype=torch.float64))
    with pytest.raises(ValueError, match="hidden_size should be an integer >= 1"):
        MLP(3, 0, 2)


def test_a_dtype_that_is_not_floating_point_raises_type_error():
    for dtype in (torch.int64, torch.bool):
        with pytest.raises(TypeError, match=r"dtype should be a floating-point torch.dtype .* or None, but is"):
            MLP(3, 4, 2, dtype=dtype)
    assert MLP(3, 4, 2, dtype=torch.float64).state_dict()
