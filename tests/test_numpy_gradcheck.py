"""rnncourse.numpy.gradcheck on known functions, and model_loss against finite differences and autograd."""

import warnings

import numpy as np
import pytest
import torch

from rnncourse.numpy import (
    PARAM_NAMES, ModelCache, grad_check, init_model_params, model_backward, model_forward, model_loss,
    numerical_gradient, rel_error,
)


def test_numerical_gradient_of_known_function_and_restores_params():
    rng = np.random.default_rng(0)
    p = {"A": rng.normal(size=(3, 2)), "c": rng.normal(size=3)}
    before = {name: a.copy() for name, a in p.items()}

    def f():                                            # f = sum(sin(A)) + c . c
        return np.sin(p["A"]).sum() + p["c"] @ p["c"]

    g = numerical_gradient(f, p)
    np.testing.assert_allclose(g["A"], np.cos(p["A"]), atol=1e-9)
    np.testing.assert_allclose(g["c"], 2 * p["c"], atol=1e-9)
    for name in p:
        np.testing.assert_array_equal(p[name], before[name])   # restored bit for bit


def test_rel_error_definition():
    assert rel_error(np.zeros(3), np.zeros(3)) == 0.0
    assert rel_error(np.array([1.0, 2.0]), np.array([1.0, 2.0])) == 0.0
    # max |a - b| = 0.002, max(|a| + |b|) = 4.002
    assert abs(rel_error(np.array([1.0, 2.0]), np.array([1.0, 2.002])) - 0.002 / 4.002) < 1e-15
    assert rel_error(np.array([1.0]), np.array([-1.0])) == 1.0
    with pytest.raises(ValueError, match="same shape"):
        rel_error(np.zeros(2), np.zeros(3))


def test_grad_check_catches_a_wrong_gradient():
    p = {"w": np.array([0.5, -1.0, 2.0])}
    f = lambda: float((p["w"] ** 3).sum())              # noqa: E731
    assert grad_check(f, p, {"w": 3 * p["w"] ** 2})["w"] < 1e-9
    assert grad_check(f, p, {"w": 2 * p["w"] ** 2})["w"] > 0.1    # planted bug: wrong factor
    with pytest.raises(ValueError, match="analytic has no gradient for"):
        grad_check(f, p, {})


def torch_model_loss(params, x, targets, h0, loss, mask, nonlinearity):
    t = {name: torch.tensor(v, requires_grad=True) for name, v in params.items()}
    h = torch.zeros(x.shape[1], params["W_hh"].shape[0], dtype=torch.float64) if h0 is None else torch.from_numpy(h0)
    f = torch.tanh if nonlinearity == "tanh" else torch.relu
    states = []
    for step in range(x.shape[0]):
        h = f(torch.from_numpy(x[step]) @ t["W_xh"].T + h @ t["W_hh"].T + t["b_h"])
        states.append(h)
    many_to_one = targets.ndim == (1 if loss == "ce" else 2)
    Y = (states[-1] if many_to_one else torch.stack(states)) @ t["W_hy"].T + t["b_y"]
    if loss == "ce":
        per = torch.nn.functional.cross_entropy(Y.reshape(-1, Y.shape[-1]), torch.from_numpy(targets).reshape(-1),
                                                reduction="none")
    else:
        per = ((Y - torch.from_numpy(targets)) ** 2).mean(dim=-1).reshape(-1)
    m = torch.ones_like(per) if mask is None else torch.tensor(mask, dtype=per.dtype).reshape(-1)
    L = (per * m).sum() / m.sum()
    L.backward()
    return L.item(), {name: v.grad.numpy() for name, v in t.items()}


CASES = [
    ("ce", "many", False, "tanh"), ("ce", "many", True, "tanh"), ("ce", "one", False, "tanh"),
    ("mse", "many", False, "tanh"), ("mse", "many", True, "relu"), ("mse", "one", False, "relu"),
]


@pytest.mark.parametrize(("loss", "topology", "masked", "nonlinearity"), CASES)
def test_model_loss_gradients(loss, topology, masked, nonlinearity):
    rng = np.random.default_rng(1)
    T, B, D, H, O = 5, 3, 2, 4, 3
    params = init_model_params(D, H, O, rng=rng)
    x, h0 = rng.normal(size=(T, B, D)), rng.normal(size=(B, H))
    lead = (T, B) if topology == "many" else (B,)
    targets = rng.integers(0, O, size=lead) if loss == "ce" else rng.normal(size=lead + (O,))
    mask = None
    if masked:
        mask = rng.random(lead) < 0.6
        mask.flat[0] = True
    L, grads, hs = model_loss(params, x, targets, h0=h0, loss=loss, mask=mask, nonlinearity=nonlinearity)
    assert set(grads) == set(PARAM_NAMES) and hs.shape == (T, B, H)
    expected_L, expected = torch_model_loss(params, x, targets, h0, loss, mask, nonlinearity)
    assert abs(L - expected_L) <= 1e-12
    for name in PARAM_NAMES:
        np.testing.assert_allclose(grads[name], expected[name], atol=1e-12, err_msg=name)
    errors = grad_check(lambda: model_loss(params, x, targets, h0, loss, mask, nonlinearity)[0], params, grads)
    assert max(errors.values()) <= 1e-6, errors


@pytest.mark.parametrize("many_to_one", [False, True])
def test_model_forward_and_backward_against_finite_differences(many_to_one):
    rng = np.random.default_rng(2)
    params = init_model_params(2, 4, 3, rng=rng)
    arrays = {"x": rng.normal(size=(5, 2, 2)), "h0": rng.normal(size=(2, 4)), **params}
    Y, cache = model_forward(params, arrays["x"], arrays["h0"], many_to_one=many_to_one)
    assert isinstance(cache, ModelCache) and Y.shape == ((2, 3) if many_to_one else (5, 2, 3))
    if many_to_one:                                           # the per-step outputs' last row
        np.testing.assert_allclose(Y, model_forward(params, arrays["x"], arrays["h0"])[0][-1], rtol=1e-13)
    dY = rng.normal(size=Y.shape)
    grads = model_backward(dY, cache)
    assert set(grads) == {"x", "h0", *PARAM_NAMES} and all(grads[k].shape == arrays[k].shape for k in grads)

    def L():
        rest = {k: v for k, v in arrays.items() if k not in ("x", "h0")}
        return float((model_forward(rest, arrays["x"], arrays["h0"], many_to_one=many_to_one)[0] * dY).sum())

    assert max(grad_check(L, arrays, grads).values()) <= 1e-7
    # The states (from model_forward's cache and from model_loss) and the outputs against a plain loop of
    # the default tanh recurrence: finite differences alone agree with any forward its backward matches.
    h, states = arrays["h0"], []
    for x_t in arrays["x"]:
        h = np.tanh(x_t @ params["W_xh"].T + h @ params["W_hh"].T + params["b_h"])
        states.append(h)
    states = np.stack(states)
    Y_ref = (states[-1] if many_to_one else states) @ params["W_hy"].T + params["b_y"]
    np.testing.assert_allclose(Y, Y_ref, rtol=0, atol=1e-13)
    np.testing.assert_allclose(cache.rnn.hs, states, rtol=0, atol=1e-13)
    _, _, hs = model_loss(params, arrays["x"], np.zeros((2,) if many_to_one else (5, 2), dtype=int), arrays["h0"])
    np.testing.assert_allclose(hs, states, rtol=0, atol=1e-13)


def test_model_loss_errors():
    params = init_model_params(2, 4, 3, rng=np.random.default_rng(0))
    x = np.zeros((5, 2, 2))
    with pytest.raises(ValueError, match=r"targets for loss='ce' should have shape \(T, B\) or \(B,\)"):
        model_loss(params, x, np.zeros((5, 2, 3), dtype=int))
    with pytest.raises(ValueError, match=r"params should be a dict with the keys"):
        model_loss({"W_xh": params["W_xh"]}, x, np.zeros((5, 2), dtype=int))
    with pytest.raises(ValueError, match="loss should be one of"):
        model_loss(params, x, np.zeros((5, 2), dtype=int), loss="hinge")


def test_numerical_gradient_restores_params_when_f_raises():
    p = {"w": np.array([1.0, 2.0, 3.0])}
    calls = []

    def f():                                            # fails on its second call, with w[0] nudged by -eps
        calls.append(1)
        if len(calls) == 2:
            raise RuntimeError("boom")
        return float(p["w"].sum())

    with pytest.raises(RuntimeError, match="boom"):
        numerical_gradient(f, p)
    np.testing.assert_array_equal(p["w"], [1.0, 2.0, 3.0])


def test_numerical_gradient_rejects_a_loss_that_is_not_a_real_number():
    p = {"w": np.array([1.0, 2.0])}
    with pytest.raises(TypeError, match=r"^f should return the loss as a real number, but returned a tuple of 2 "
                                        r"items; if it returns \(loss, grads\), index it with \[0\]"):
        numerical_gradient(lambda: (float(p["w"].sum()), {"w": np.ones(2)}), p)
    with pytest.raises(TypeError, match=r"^f should return the loss as a real number, but returned None; "
                                        r"does it end with return"):
        numerical_gradient(lambda: None, p)
    with pytest.raises(TypeError, match=r"^f should return the loss as a real number, but returned ndarray of "
                                        r"shape \(2,\); reduce it to one number"):
        numerical_gradient(lambda: p["w"] ** 2, p)
    for bad in (True, 1 + 2j, np.complex128(1 + 2j), "1.0"):
        with pytest.raises(TypeError, match=r"^f should return the loss as a real number, but returned"):
            numerical_gradient(lambda: bad, p)
    with pytest.raises(ValueError, match=r"^f returned nan with params\['w'\]\[0\] nudged by -eps; "):
        numerical_gradient(lambda: float("nan") if p["w"][0] < 1.0 else 0.0, p)      # a log(w - 1), say
    np.testing.assert_array_equal(p["w"], [1.0, 2.0])


def test_numerical_gradient_rejects_read_only_params():
    w = np.array([1.0, 2.0])
    w.setflags(write=False)
    with pytest.raises(ValueError, match=r"^params\['w'\] is read-only, but numerical_gradient nudges its "
                                         r"entries in place"):
        numerical_gradient(lambda: float(w.sum()), {"w": w})


@pytest.mark.parametrize("analytic", [[np.ones(3)], None, np.ones(3)])
def test_grad_check_rejects_analytic_that_is_not_a_dict(analytic):
    p = {"w": np.array([0.5, -1.0, 2.0])}
    with pytest.raises(TypeError, match=r"^analytic should be a dict of gradient arrays keyed like params, "
                                        r"but is " + type(analytic).__name__):
        grad_check(lambda: float((p["w"] ** 3).sum()), p, analytic)


def test_grad_check_names_an_analytic_gradient_of_the_wrong_shape_or_type():
    p = {"w": np.array([0.5, -1.0, 2.0])}
    f = lambda: float((p["w"] ** 3).sum())              # noqa: E731
    with pytest.raises(ValueError, match=r"^analytic\['w'\] should have the shape of params\['w'\], \(3,\), "
                                         r"but has shape \(2,\)"):
        grad_check(f, p, {"w": np.ones(2)})
    with pytest.raises(TypeError, match=r"^analytic\['w'\] should be an array of real numbers, but is None"):
        grad_check(f, p, {"w": None})
    with pytest.raises(ValueError, match=r"^analytic\['w'\] contains NaN or infinity"):
        grad_check(f, p, {"w": np.array([np.nan, 1.0, 1.0])})


def test_rel_error_refuses_non_finite_and_non_numeric_input():
    with pytest.raises(TypeError, match=r"^a should be an array of real numbers, but is None"):
        rel_error(None, np.zeros(1))
    with pytest.raises(TypeError, match=r"^b should be an array of real numbers, but is list with dtype object"):
        rel_error(np.zeros(2), [1.0, None])
    with pytest.raises(TypeError, match=r"^a should be an array of real numbers, but is ndarray with dtype bool"):
        rel_error(np.zeros(2) > 0, np.zeros(2))
    with pytest.raises(ValueError, match=r"^b contains NaN or infinity"):
        rel_error(np.zeros(1), np.array([np.inf]))
    with pytest.raises(ValueError, match=r"^a contains NaN or infinity"):
        rel_error(np.array([np.nan]), np.zeros(1))


def test_rel_error_of_huge_entries_does_not_overflow():
    assert rel_error(np.array([1e308]), np.array([1.7e308])) == pytest.approx(0.7 / 2.7, rel=1e-15)
    assert rel_error(np.array([1.7e308]), np.array([-1.7e308])) == 1.0
    assert rel_error(np.array([1.7e308, 1.0]), np.array([1.7e308, 1.0])) == 0.0


def test_rel_error_values_of_ordinary_inputs_are_unchanged():
    rng = np.random.default_rng(3)
    tiny = np.finfo(np.float64).tiny
    for _ in range(20):
        a, b = rng.normal(size=(4, 3)), rng.normal(size=(4, 3)) * 10.0 ** rng.integers(-12, 12)
        expected = float(np.max(np.abs(a - b))) / max(float(np.max(np.abs(a) + np.abs(b))), tiny)
        assert rel_error(a, b) == expected                 # bit for bit: the chapters print these
    assert rel_error([1, 2], [1, 3]) == 1 / 5              # integers and lists are real numbers too


def test_numerical_gradient_divides_by_the_step_taken_and_refuses_float32():
    # 2**33 + 1e-6 rounds to 2**33 + 2**-19 (its spacing is 2**-19 = 1.9e-6), so the step is twice 2 * eps.
    for value, slope in ((2.0 ** 33, 1.0), (1e10, 2.0), (0.1, -4.0)):
        p = {"w": np.array([value])}
        g = numerical_gradient(lambda: slope * float(p["w"][0]), p)["w"]    # noqa: B023
        assert g[0] == pytest.approx(slope, rel=1e-12)
    p32 = {"w": np.array([1.0, 100.0], np.float32)}
    with pytest.raises(TypeError, match=r"params\['w'\] should be float64, but has dtype float32"):
        numerical_gradient(lambda: float(p32["w"].sum(dtype=np.float64)), p32)
    with pytest.raises(TypeError, match=r"should be float64, but has dtype float32"):
        grad_check(lambda: float(p32["w"].sum(dtype=np.float64)), p32, {"w": np.ones(2)})
    huge = {"w": np.array([1e30])}
    with pytest.raises(ValueError, match=r"params\['w'\]\[0\] = 1e\+30 is too large for eps = 1e-06"):
        numerical_gradient(lambda: float(huge["w"][0]), huge)


@pytest.mark.parametrize("dtype", [np.int64, np.float16])
def test_numerical_gradient_names_the_dtype_of_a_param_that_is_not_float(dtype):
    p = {"w": np.ones(2, dtype)}
    message = (rf"^params\['w'\] should hold floating-point numbers \(float32 or float64\), but has dtype "
               rf"{np.dtype(dtype)}; convert it, e\.g\. params\['w'\] = params\['w'\]\.astype\(np\.float64\)$")
    with pytest.raises(TypeError, match=message):
        numerical_gradient(lambda: float(p["w"].sum()), p)
    with pytest.raises(TypeError, match=message):
        grad_check(lambda: float(p["w"].sum()), p, {"w": np.ones(2)})
    with pytest.raises(TypeError, match=r"^params\['w'\] should be a numpy\.ndarray, but is list$"):
        numerical_gradient(lambda: 0.0, {"w": [1.0, 2.0]})


def _vanishing_h0_case():
    """An Elman RNN of 30 steps with W_hh scaled by 0.1: dL/dh0 of L = sum(hs[-1] * r) is about 1e-29."""
    from rnncourse.numpy import rnn_backward, rnn_forward

    rng = np.random.default_rng(0)
    T, B, D, H = 30, 2, 3, 4
    x, W_xh, b_h = rng.normal(size=(T, B, D)), rng.normal(size=(H, D)), rng.normal(size=H)
    W_hh, r = 0.1 * rng.normal(size=(H, H)), rng.normal(size=(B, H))
    p = {"h0": rng.normal(size=(B, H))}
    hs, cache = rnn_forward(x, p["h0"], W_xh, W_hh, b_h)
    dhs = np.zeros_like(hs)
    dhs[-1] = r
    dh0 = rnn_backward(dhs, cache)["h0"]
    assert 0 < np.abs(dh0).max() < 1e-20                     # far below what finite differences resolve
    return (lambda: float((rnn_forward(x, p["h0"], W_xh, W_hh, b_h)[0][-1] * r).sum())), p, dh0


def test_grad_check_gives_inf_and_warns_below_the_finite_difference_resolution():
    f, p, dh0 = _vanishing_h0_case()
    assert not numerical_gradient(f, p)["h0"].any()          # the centred difference sees no change at all
    with pytest.warns(RuntimeWarning, match=r"^grad_check cannot verify params\['h0'\]: .* both below "
                                            r"\d\.\de-09, .*finite differences can resolve.*reported as inf, which "
                                            r"fails every tolerance though the gradient may be right.*scale the loss "
                                            r"up, or use fewer steps"):
        errors = grad_check(f, p, {"h0": dh0})              # correct, but the difference sees 0
    assert errors["h0"] == np.inf                             # never a pass
    # ... also where Python's max() would drop a nan that is not the first value
    a = {"a": np.array([0.5])}
    g = lambda: float(p["h0"].sum() * 0 + a["a"][0] ** 2) + f()   # noqa: E731 - one resolved parameter before h0
    with pytest.warns(RuntimeWarning, match=r"params\['h0'\]"):
        both = grad_check(g, {"a": a["a"], "h0": p["h0"]}, {"a": np.array([1.0]), "h0": dh0})
    assert both["a"] < 1e-8 and not max(both.values()) < 1e-6
    with warnings.catch_warnings():
        warnings.simplefilter("error")                        # one side above the floor: no warning, a fail
        assert grad_check(f, p, {"h0": np.ones_like(dh0)})["h0"] == 1.0
        # equal to the difference's exact 0: they agree (as W_hh's exactly-0 gradient over one step does)
        assert grad_check(f, p, {"h0": np.zeros_like(dh0)})["h0"] == 0.0
    w = {"w": np.array([0.3, -2.0])}
    tiny_slope = lambda: 1.0 + 1e-12 * float(w["w"].sum())   # noqa: E731 - slope 1e-12, below the floor
    with pytest.warns(RuntimeWarning, match=r"params\['w'\]"):
        assert grad_check(tiny_slope, w, {"w": np.full(2, 1e-12)})["w"] == np.inf


def test_grad_check_of_an_ordinary_function_is_unchanged_and_silent():
    p = {"w": np.array([0.5, -1.0, 2.0]), "c": np.array([0.25])}
    f = lambda: float((p["w"] ** 3).sum() + np.sin(p["c"][0]))      # noqa: E731
    analytic = {"w": 3 * p["w"] ** 2, "c": np.cos(p["c"])}
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        errors = grad_check(f, p, analytic)
    numerical = numerical_gradient(f, p)
    assert errors == {name: rel_error(analytic[name], numerical[name]) for name in p}    # bit for bit
    assert max(errors.values()) < 1e-9
