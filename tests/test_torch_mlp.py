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


def test_gradients_match_finite_differences():
    """Every parameter receives the gradient that centred finite differences predict."""
    mlp = MLP(3, 4, 2, dtype=torch.float64, generator=torch.Generator().manual_seed(0))
    x = torch.randn(5, 3, dtype=torch.float64, generator=torch.Generator().manual_seed(1))
    params = tuple(p.detach().clone().requires_grad_() for p in mlp.parameters())
    names = [n for n, _ in mlp.named_parameters()]

    def f(*ps):
        return torch.func.functional_call(mlp, dict(zip(names, ps)), (x,))

    assert torch.autograd.gradcheck(f, params, eps=1e-6, atol=1e-8)


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
