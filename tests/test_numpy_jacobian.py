"""The Jacobian-product analysis of chapter 5 against torch.autograd and finite differences."""

import numpy as np
import pytest
import torch

from rnncourse.numpy import init_rnn_params, rnn_forward
from rnncourse.numpy.jacobian import (input_gradient_norms, jacobian_norms, jacobian_product, norm_bound,
                                      step_jacobians)


def _setup(nonlinearity="tanh", T=6, B=2, D=3, H=4, seed=0):
    rng = np.random.default_rng(seed)
    p = init_rnn_params(D, H, rng=rng, spectral_radius=1.3)
    x = rng.normal(size=(T, B, D))
    h0 = rng.normal(size=(B, H)) * 0.5
    states, _ = rnn_forward(x, h0, p["W_xh"], p["W_hh"], p["b_h"], nonlinearity)
    return x, h0, p, states


def _torch_unrolled(x, p, s, nonlinearity):
    """h_T as a function of h_s (one sequence), for torch.autograd.functional.jacobian."""
    f = torch.tanh if nonlinearity == "tanh" else torch.relu
    W_xh, W_hh, b_h = (torch.tensor(p[n]) for n in ("W_xh", "W_hh", "b_h"))
    X = torch.tensor(x)

    def unrolled(h_s):
        h = h_s
        for t in range(s, X.shape[0]):         # x[t] is read when going from h_t to h_{t+1}
            h = f(X[t] @ W_xh.T + h @ W_hh.T + b_h)
        return h
    return unrolled


@pytest.mark.parametrize("nonlinearity", ["tanh", "relu"])
@pytest.mark.parametrize("s", [0, 2, 5, 6])
def test_product_equals_autograd_jacobian_of_unrolled_map(nonlinearity, s):
    x, h0, p, states = _setup(nonlinearity)
    J = step_jacobians(states, p["W_hh"], nonlinearity)
    P = jacobian_product(J, s)
    for b in range(x.shape[1]):
        h_s = h0[b] if s == 0 else states[s - 1, b]
        ref = torch.autograd.functional.jacobian(_torch_unrolled(x[:, b], p, s, nonlinearity), torch.tensor(h_s))
        np.testing.assert_allclose(P[b], ref.numpy(), rtol=1e-10, atol=1e-12)


def test_product_equals_centred_finite_differences():
    x, h0, p, states = _setup()
    s, eps = 2, 1e-6
    P = jacobian_product(step_jacobians(states, p["W_hh"]), s)
    h_s = states[s - 1]
    fd = np.zeros_like(P)
    for j in range(h_s.shape[1]):
        e = np.zeros_like(h_s)
        e[:, j] = eps
        plus, _ = rnn_forward(x[s:], h_s + e, p["W_xh"], p["W_hh"], p["b_h"])
        minus, _ = rnn_forward(x[s:], h_s - e, p["W_xh"], p["W_hh"], p["b_h"])
        fd[:, :, j] = (plus[-1] - minus[-1]) / (2 * eps)
    np.testing.assert_allclose(P, fd, rtol=1e-6, atol=1e-9)


def test_linear_case_is_a_matrix_power():
    _, _, p, states = _setup()
    J = step_jacobians(states, p["W_hh"], "linear")
    np.testing.assert_allclose(jacobian_product(J, 1)[0], np.linalg.matrix_power(p["W_hh"], 5), rtol=1e-12)


def test_s_equal_T_is_identity_and_s_out_of_range_fails():
    _, _, p, states = _setup()
    J = step_jacobians(states, p["W_hh"])
    np.testing.assert_array_equal(jacobian_product(J, 6), np.broadcast_to(np.eye(4), (2, 4, 4)))
    with pytest.raises(ValueError, match="s should be between 0 and T = 6"):
        jacobian_product(J, 7)


def test_an_earlier_step_out_of_range_is_named_s_as_in_the_book():
    # Chapters 5 and 8 write the earlier step s (dh_T/dh_s); k is chapter 4's truncation length.
    _, _, p, states = _setup()
    J = step_jacobians(states, p["W_hh"])
    with pytest.raises(ValueError, match=r"^s should be between 0 and T = 6, but is 7$"):
        jacobian_product(J, s=7)
    with pytest.raises(ValueError, match=r"^s should be"):
        jacobian_product(J, s=-1)
    with pytest.raises(TypeError, match=r"^s should be"):
        jacobian_product(J, s=2.5)
    np.testing.assert_array_equal(jacobian_product(J, s=2), jacobian_product(J, 2))


def test_norms_match_products_and_obey_the_bound():
    _, _, p, states = _setup()
    J = step_jacobians(states, p["W_hh"])
    norms = jacobian_norms(J)
    assert norms.shape == (7, 2)
    T = 6
    for lag in range(T + 1):
        expected = np.linalg.norm(jacobian_product(J, T - lag), ord=2, axis=(1, 2))
        np.testing.assert_allclose(norms[lag], expected, rtol=1e-10)
    frobenius = jacobian_norms(J, ord="fro")                 # ord reaches numpy.linalg.norm
    for lag in range(T + 1):
        expected = np.linalg.norm(jacobian_product(J, T - lag), ord="fro", axis=(1, 2))
        np.testing.assert_allclose(frobenius[lag], expected, rtol=1e-10)
    assert np.all(frobenius[1:] > norms[1:])                  # for H = 4 > 1 the two norms differ
    bound = norm_bound(p["W_hh"], np.arange(T + 1))
    assert np.all(norms <= bound[:, None] * (1 + 1e-12))
    assert norm_bound(np.diag([0.5, -2.0]), 3) == pytest.approx(8.0)


def test_hand_computed_diagonal_case():
    W_hh = np.diag([0.5, 2.0])
    J = step_jacobians(np.zeros((3, 1, 2)), W_hh)        # tanh'(0) = 1
    np.testing.assert_allclose(jacobian_product(J, 0)[0], np.diag([0.125, 8.0]))
    np.testing.assert_allclose(jacobian_norms(J)[:, 0], [1.0, 2.0, 4.0, 8.0])
    hs = np.full((1, 1, 2), 0.5)                          # tanh' = 1 - 0.25 = 0.75
    np.testing.assert_allclose(step_jacobians(hs, W_hh)[0, 0], np.diag([0.375, 1.5]))


def test_input_gradient_norms_match_torch_autograd():
    x, h0, p, _ = _setup()
    norms = input_gradient_norms(x, h0, p["W_xh"], p["W_hh"], p["b_h"])
    X = torch.tensor(x, requires_grad=True)
    W_xh, W_hh, b_h = (torch.tensor(p[n]) for n in ("W_xh", "W_hh", "b_h"))
    h = torch.tensor(h0)
    for t in range(X.shape[0]):
        h = torch.tanh(X[t] @ W_xh.T + h @ W_hh.T + b_h)
    h.sum().backward()
    expected = X.grad.norm(dim=2).mean(dim=1).numpy()
    np.testing.assert_allclose(norms, expected, rtol=1e-10)


def test_input_gradient_norms_use_the_given_dh_T():
    x, h0, p, _ = _setup()
    dh_T = np.random.default_rng(5).normal(size=h0.shape)       # not all ones: a weighted read-out of h_T
    norms = input_gradient_norms(x, h0, p["W_xh"], p["W_hh"], p["b_h"], dh_T=dh_T)
    X = torch.tensor(x, requires_grad=True)
    W_xh, W_hh, b_h = (torch.tensor(p[n]) for n in ("W_xh", "W_hh", "b_h"))
    h = torch.tensor(h0)
    for t in range(X.shape[0]):
        h = torch.tanh(X[t] @ W_xh.T + h @ W_hh.T + b_h)
    (h * torch.tensor(dh_T)).sum().backward()                    # dL/dh_T = dh_T
    expected = X.grad.norm(dim=2).mean(dim=1).numpy()
    np.testing.assert_allclose(norms, expected, rtol=1e-10)


def test_norm_bound_uses_the_largest_singular_value_not_the_spectral_radius():
    W_hh = np.array([[0.5, 3.0], [0.0, 0.5]])                    # not normal: both eigenvalues 0.5, yet ||W||_2 > 3
    sigma_max = np.sqrt(np.linalg.eigvalsh(W_hh.T @ W_hh).max())  # from the definition, not numpy.linalg.norm
    lags = np.arange(8)
    bound = norm_bound(W_hh, lags)
    np.testing.assert_allclose(bound, sigma_max ** lags, rtol=1e-12)
    J = step_jacobians(np.zeros((7, 1, 2)), W_hh, "linear")      # every step's Jacobian is W_hh itself
    norms = jacobian_norms(J)[:, 0]
    for lag in lags:                                             # ||W^lag||_2, by hand: W^lag = [[a, c], [0, a]]
        a, c = 0.5 ** lag, 3.0 * lag * 0.5 ** max(lag - 1, 0)
        assert norms[lag] == pytest.approx(np.linalg.svd([[a, c], [0.0, a]], compute_uv=False)[0], rel=1e-12)
    assert norms[1] == pytest.approx(bound[1], rel=1e-12)        # the bound is reached at lag 1
    assert np.all(norms <= bound * (1 + 1e-12))
    assert np.all(norms[2:] > 0.5 ** lags[2:])                   # the spectral radius would be no bound at all


def test_bad_shapes_give_clear_messages():
    with pytest.raises(ValueError, match=r"hs should have 3 dimensions with shape \(T, B, H\)"):
        step_jacobians(np.zeros((5, 4)), np.eye(4))
    with pytest.raises(ValueError, match=r"W_hh should have shape \(H, H\) = \(4, 4\)"):
        step_jacobians(np.zeros((5, 1, 4)), np.eye(3))
    with pytest.raises(ValueError, match="nonlinearity should be one of"):
        step_jacobians(np.zeros((5, 1, 4)), np.eye(4), "sigmoid")


def test_norm_bound_rejects_a_list_and_a_non_positive_gamma():
    W_hh = np.diag([0.5, -2.0])
    with pytest.raises(ValueError, match="gamma should be a finite number > 0, but is -1.0"):
        norm_bound(W_hh, np.array([1, 2]), gamma=-1)                # gave negative "bounds"
    with pytest.raises(ValueError, match="gamma should be a finite number > 0, but is 0.0"):
        norm_bound(W_hh, np.array([1, 2]), gamma=0)
    with pytest.raises(TypeError, match="W_hh should be a numpy.ndarray, but is builtins.list"):
        norm_bound([[1.0]], [1])
    with pytest.raises(ValueError, match=r"W_hh should have shape \(H, H\) = \(2, 2\), but has shape \(2, 3\)"):
        norm_bound(np.zeros((2, 3)), [1])
    assert norm_bound(W_hh, [2], gamma=0.25)[0] == pytest.approx(0.25)


def test_norm_bound_rejects_negative_and_fractional_lags():
    W_hh = np.diag([0.5, -2.0])
    with pytest.raises(ValueError, match=r"^lags should be non-negative integers \(steps back in time\), but the "
                                         r"smallest is -3$"):
        norm_bound(W_hh, -3)                                        # gave 2 ** -3 = 0.125, a bound on nothing
    with pytest.raises(ValueError, match="but the smallest is -1$"):
        norm_bound(W_hh, np.array([0, 1, -1]))
    with pytest.raises(TypeError, match=r"^lags should be non-negative integers \(an int, a list or an integer "
                                        r"array\), but is float 2.5; pass whole numbers of steps"):
        norm_bound(W_hh, 2.5)                                       # gave 2 ** 2.5, a lag of half a step
    with pytest.raises(TypeError, match="but has dtype float64; pass whole numbers of steps"):
        norm_bound(W_hh, np.linspace(0, 2, 5))
    with pytest.raises(TypeError, match="but is bool True"):
        norm_bound(W_hh, True)
    assert norm_bound(W_hh, 0) == 1.0 and norm_bound(W_hh, np.array([], dtype=int)).shape == (0,)
    assert norm_bound(W_hh, []).shape == (0,)                        # NumPy reads [] as float64: no lag, not a fraction
    np.testing.assert_allclose(norm_bound(W_hh, np.arange(3, dtype=np.uint8)), [1.0, 2.0, 4.0])


def test_jacobian_norms_refuses_an_unknown_norm_and_takes_numpys_others():
    J = np.zeros((3, 2, 4, 4))
    with pytest.raises(ValueError, match=r"ord should be one of 2, 'fro', 'nuc', 1, -1, -2, inf, -inf, but is 7"):
        jacobian_norms(J, ord=7)
    norms = jacobian_norms(J, ord=np.inf)
    assert norms.shape == (4, 2) and np.all(norms[0] == 1) and np.all(norms[1:] == 0)   # I, then products with 0


def test_jacobian_norms_names_a_jacobian_that_is_not_square():
    with pytest.raises(ValueError, match=r"J should have shape \(T, B, H, H\) = \(T, B, 5, 5\), but has shape "
                                         r"\(4, 3, 5, 6\) .*one square Jacobian"):
        jacobian_norms(np.zeros((4, 3, 5, 6)))


def _linear_jacobians(T, rho, dtype, seed=2, H=32):
    """The per-step Jacobians of a linear RNN (each is W_hh) with spectral radius ``rho``, and W_hh."""
    params = init_rnn_params(2, H, rng=np.random.default_rng(seed), spectral_radius=rho, dtype=dtype)
    hs = np.zeros((T, 1, H), dtype=dtype)                 # a linear RNN's J_t = W_hh whatever hs holds
    return step_jacobians(hs, params["W_hh"], "linear"), params["W_hh"]


def _unscaled_norms(J, ord):
    """The plain algorithm, P <- P J_t with no rescaling: the reference for ordinary inputs."""
    T, B, H, _ = J.shape
    P = np.broadcast_to(np.eye(H, dtype=J.dtype), (B, H, H)).copy()
    norms = [np.linalg.norm(P, ord=ord, axis=(1, 2))]
    for lag in range(1, T + 1):
        P = P @ J[T - lag]
        norms.append(np.linalg.norm(P, ord=ord, axis=(1, 2)))
    return np.array(norms, dtype=np.float64)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("nonlinearity", ["tanh", "relu", "linear"])
def test_jacobian_norms_rescaling_leaves_ordinary_results_bit_identical(nonlinearity, dtype):
    """Rescaling P by powers of two is exact: within the dtype's range every norm is the plain one, bit for bit."""
    for rho in (0.9, 1.0, 1.1):                            # chapter 5's cell: T = 100, H = 32
        x = np.random.default_rng(1).normal(size=(100, 3, 2)).astype(dtype)
        params = init_rnn_params(2, 32, rng=np.random.default_rng(2), spectral_radius=rho, dtype=dtype)
        hs, _ = rnn_forward(x, None, **params, nonlinearity="tanh" if nonlinearity == "linear" else nonlinearity)
        J = step_jacobians(hs, params["W_hh"], nonlinearity)
        for ord in (2, "fro", "nuc", 1, -1, -2, np.inf, -np.inf):
            norms, plain = jacobian_norms(J, ord=ord), _unscaled_norms(J, ord)
            # below ~1e-15 a plain float32 P has entries whose squares ("fro") leave float32's normal range
            ordinary = _unscaled_norms(J.astype(np.float64), 2) > (1e-15 if dtype == np.float32 else 0)
            assert np.array_equal(norms[ordinary], plain[ordinary]), (rho, ord)
            if ord in (2, "fro", "nuc", 1, np.inf):        # there the rescaled ones stay right
                reference = _unscaled_norms(J.astype(np.float64), ord)
                np.testing.assert_allclose(norms[~ordinary], reference[~ordinary], rtol=1e-5)


@pytest.mark.filterwarnings("error")                       # no RuntimeWarning (overflow, invalid value)
@pytest.mark.parametrize("ord", [2, "fro"])
def test_jacobian_norms_in_float32_go_beyond_float32s_range(ord):
    """rho = 2, T = 200 in float32: products up to ~1e60 overflow float32, their norms fit the float64 result."""
    J, W_hh = _linear_jacobians(200, 2.0, np.float32)
    norms = jacobian_norms(J, ord=ord)[:, 0]
    W64 = W_hh.astype(np.float64)                          # the same matrix, powers taken in float64
    expected = [np.linalg.norm(np.linalg.matrix_power(W64, lag), ord=ord) for lag in range(201)]
    assert np.all(np.isfinite(norms)) and norms[-1] > 1e50
    np.testing.assert_allclose(norms, expected, rtol=1e-4)


@pytest.mark.filterwarnings("error")
def test_jacobian_norms_beyond_float64_are_inf_and_vanishing_ones_zero():
    """rho = 1.5, T = 2000 in float64: the late norms exceed float64 (inf, no exception); rho = 0.5 underflows to 0."""
    J, W_hh = _linear_jacobians(2000, 1.5, np.float64)
    norms = jacobian_norms(J)[:, 0]
    first_inf = int(np.argmax(np.isinf(norms)))
    assert 1000 < first_inf and np.all(np.isinf(norms[first_inf:])) and np.all(np.isfinite(norms[:first_inf]))
    # ||P J|| <= ||P|| ||J||: a norm past float64's largest needs its predecessor within a factor ||W_hh|| of it
    assert norms[first_inf - 1] >= np.finfo(np.float64).max / np.linalg.norm(W_hh, 2)
    np.testing.assert_allclose(norms[:101], _unscaled_norms(J[-100:], 2)[:, 0], rtol=1e-12)
    small = jacobian_norms(_linear_jacobians(2000, 0.5, np.float64)[0])[:, 0]
    assert small[-1] == 0 and 0 < small[100] < 1e-20


def test_jacobian_norms_of_no_hidden_units_are_zero():
    # H = 0 passes validation (as in step_jacobians); the rescaling must not take the maximum of nothing.
    norms = jacobian_norms(np.zeros((3, 2, 0, 0)), ord="fro")
    assert norms.shape == (4, 2) and not norms.any()


def test_step_jacobians_refuses_two_dtypes_like_every_numpy_function():
    rng = np.random.default_rng(0)
    hs, W_hh = np.tanh(rng.normal(size=(5, 3, 6))), rng.normal(size=(6, 6))
    with pytest.raises(TypeError, match=r"^all arrays should share one dtype, but hs is float32, W_hh is float64"):
        step_jacobians(hs.astype(np.float32), W_hh)
    assert step_jacobians(hs.astype(np.float32), W_hh.astype(np.float32)).dtype == np.float32


def test_jacobian_product_names_a_jacobian_that_is_not_square():
    # used to fail inside matmul with NumPy's gufunc signature
    with pytest.raises(ValueError, match=r"^J should have shape \(T, B, H, H\) = \(T, B, 5, 5\), but has shape "
                                         r"\(4, 2, 5, 4\) .*one square Jacobian"):
        jacobian_product(np.zeros((4, 2, 5, 4)), 2)
    with pytest.raises(ValueError, match=r"^J should have 4 dimensions with shape \(T, B, H, H\), but has 3 "):
        jacobian_product(np.zeros((4, 5, 5)), 2)
    with pytest.raises(ValueError, match=r"^J contains NaN or infinity"):
        jacobian_product(np.full((4, 2, 5, 5), np.nan), 2)
