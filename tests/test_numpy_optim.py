"""rnncourse.numpy.optim against torch.optim, and a tiny task learned end to end in NumPy."""

import numpy as np
import pytest
import torch

from rnncourse.numpy import SGD, Adagrad, Adam, init_model_params, model_loss

N_STEPS = 6


def run_both(make_numpy, make_torch, seed=0):
    """Apply the same gradients with both optimisers; return the NumPy and torch parameters."""
    rng = np.random.default_rng(seed)
    # W and U share a shape: state kept by shape instead of by name would mix them up
    params = {"W": rng.normal(size=(3, 4)), "U": rng.normal(size=(3, 4)), "b": rng.normal(size=3)}
    tparams = {name: torch.tensor(p.copy(), requires_grad=True) for name, p in params.items()}
    opt, topt = make_numpy(), make_torch(list(tparams.values()))
    for _ in range(N_STEPS):
        grads = {name: rng.normal(size=p.shape) * 3 for name, p in params.items()}
        opt.step(params, grads)
        for name, tp in tparams.items():
            tp.grad = torch.from_numpy(grads[name].copy())
        topt.step()
    return params, {name: tp.detach().numpy() for name, tp in tparams.items()}


CASES = {
    "sgd": (lambda: SGD(lr=0.1), lambda p: torch.optim.SGD(p, lr=0.1)),
    "sgd_momentum": (lambda: SGD(lr=0.1, momentum=0.9), lambda p: torch.optim.SGD(p, lr=0.1, momentum=0.9)),
    "sgd_momentum_wd": (lambda: SGD(lr=0.05, momentum=0.5, weight_decay=0.01),
                        lambda p: torch.optim.SGD(p, lr=0.05, momentum=0.5, weight_decay=0.01)),
    "adagrad": (lambda: Adagrad(lr=0.1), lambda p: torch.optim.Adagrad(p, lr=0.1)),
    "adagrad_eps": (lambda: Adagrad(lr=0.3, eps=1e-3), lambda p: torch.optim.Adagrad(p, lr=0.3, eps=1e-3)),
    "adam": (lambda: Adam(lr=0.01), lambda p: torch.optim.Adam(p, lr=0.01)),
    "adam_betas": (lambda: Adam(lr=0.1, betas=(0.5, 0.9), eps=1e-3),
                   lambda p: torch.optim.Adam(p, lr=0.1, betas=(0.5, 0.9), eps=1e-3)),
}


@pytest.mark.parametrize("case", list(CASES))
def test_optimizer_equals_torch(case):
    params, expected = run_both(*CASES[case])
    for name in params:
        np.testing.assert_allclose(params[name], expected[name], rtol=0, atol=1e-12, err_msg=name)


@pytest.mark.parametrize("case", ["sgd_momentum", "sgd_momentum_wd", "adagrad", "adam"])
def test_step_leaves_the_gradients_unchanged(case):
    rng = np.random.default_rng(2)
    params, opt = {"W": rng.normal(size=(2, 3))}, CASES[case][0]()
    grads = [{"W": rng.normal(size=(2, 3))} for _ in range(3)]
    kept = [{"W": g["W"].copy()} for g in grads]
    for g in grads:                               # a buffer that aliases step 1's gradient changes it at step 2
        opt.step(params, g)
    for g, before in zip(grads, kept):
        np.testing.assert_array_equal(g["W"], before["W"])


@pytest.mark.parametrize("betas", [(0.9, 0.999), (0.5, 0.9)])
def test_adam_counts_steps_per_parameter_like_torch(betas):
    rng = np.random.default_rng(3)
    params = {"W": rng.normal(size=(2, 3))}
    tparams = {"W": torch.tensor(params["W"].copy(), requires_grad=True)}
    opt, topt = Adam(lr=0.1, betas=betas), torch.optim.Adam([tparams["W"]], lr=0.1, betas=betas)
    for step in range(8):
        if step == 5:                              # a parameter added after 5 steps: its t starts at 1
            params["b"] = rng.normal(size=3)
            tparams["b"] = torch.tensor(params["b"].copy(), requires_grad=True)
            topt.add_param_group({"params": [tparams["b"]]})
        grads = {name: rng.normal(size=p.shape) for name, p in params.items()}
        opt.step(params, grads)
        for name, tp in tparams.items():
            tp.grad = torch.from_numpy(grads[name].copy())
        topt.step()
    for name in params:
        np.testing.assert_allclose(params[name], tparams[name].detach().numpy(), rtol=0, atol=1e-12, err_msg=name)


@pytest.mark.parametrize("make", [lambda: SGD(0.1, momentum=0.9), Adagrad, Adam])
def test_a_failed_step_changes_nothing(make):
    opt = make()
    params = {"a": np.ones(2), "b": np.ones(2)}
    opt.step(params, {"a": np.ones(2), "b": np.ones(2)})
    before = {name: p.copy() for name, p in params.items()}
    state = {name: {k: np.copy(v) for k, v in st.items()} for name, st in opt.state.items()}
    params["b"].flags.writeable = False
    with pytest.raises(ValueError, match=r"^params\['b'\] is read-only, but step updates it in place; pass "
                                         r"writable arrays \(e\.g\. made with \.copy\(\)\)$"):
        opt.step(params, {"a": np.ones(2), "b": np.ones(2)})
    params["b"] = np.ones(3)
    with pytest.raises(ValueError, match=r"^params\['b'\] has shape \(3,\), but the optimiser's \w+ for it has "
                                         r"shape \(2,\); create a new optimiser for a new model$"):
        opt.step(params, {"a": np.ones(2), "b": np.ones(3)})
    assert opt.steps == 1
    np.testing.assert_array_equal(params["a"], before["a"])
    for name, st in state.items():
        for key, value in st.items():
            np.testing.assert_array_equal(opt.state[name][key], value)


def test_optimizers_move_parameters_and_keep_dtype():
    for make in (lambda: SGD(0.1, momentum=0.9), Adagrad, Adam):
        p = {"W": np.ones((2, 2), np.float32)}
        before = p["W"].copy()
        opt = make()
        opt.step(p, {"W": np.full((2, 2), 0.5, np.float32)})
        assert p["W"].dtype == np.float32 and np.all(p["W"] < before)
        assert opt.steps == 1


def test_nan_gradient_raises_before_updating():
    opt = Adam()
    params = {"W_xh": np.ones(2), "W_hh": np.ones(2)}
    for _ in range(11):
        opt.step(params, {"W_xh": np.ones(2), "W_hh": np.ones(2)})
    before = {name: p.copy() for name, p in params.items()}
    with pytest.raises(FloatingPointError, match=r"gradient of W_hh contains NaN/inf at step 12: training "
                                                 r"diverged; lower the learning rate or clip gradients"):
        opt.step(params, {"W_xh": np.ones(2), "W_hh": np.array([1.0, np.nan])})
    for name in params:
        np.testing.assert_array_equal(params[name], before[name])
    with pytest.raises(FloatingPointError, match="gradient of W contains NaN/inf"):
        SGD(0.1).step({"W": np.ones(2)}, {"W": np.array([np.inf, 0.0])})


def test_optimizer_argument_errors():
    with pytest.raises(ValueError, match="grads has no entry for parameter 'b'"):
        SGD(0.1).step({"W": np.ones(2), "b": np.ones(1)}, {"W": np.ones(2)})
    with pytest.raises(ValueError, match=r"the gradient of W should have the parameter's shape \(2,\)"):
        SGD(0.1).step({"W": np.ones(2)}, {"W": np.ones(3)})
    with pytest.raises(TypeError, match="dtype"):
        SGD(0.1).step({"W": np.ones(2)}, {"W": np.ones(2, np.float32)})
    with pytest.raises(ValueError, match="lr should be a finite number > 0"):
        SGD(lr=-1.0)
    with pytest.raises(ValueError, match="betas should be two numbers in"):
        Adam(betas=(0.9, 1.5))


def test_integer_parameters_are_rejected_before_the_step_is_counted():
    opt = Adam(lr=0.1)
    with pytest.raises(TypeError, match=r"^params\['W'\] should hold floating-point numbers \(float32 or float64\), "
                                        r"but has dtype int64; convert it, e.g. params\['W'\] = "
                                        r"params\['W'\]\.astype\(np\.float64\)$"):
        opt.step({"W": np.ones(2, np.int64)}, {"W": np.ones(2, np.int64)})     # was a UFuncTypeError at step 1
    with pytest.raises(TypeError, match=r"^grads\['W'\] should hold floating-point numbers \(float32 or float64\), "
                                        r"but has dtype int64"):
        opt.step({"W": np.ones(2)}, {"W": np.ones(2, np.int64)})
    assert opt.steps == 0 and opt.state == {}
    params, fresh = {"W": np.ones(2)}, {"W": np.ones(2)}
    opt.step(params, {"W": np.full(2, 0.5)})
    Adam(lr=0.1).step(fresh, {"W": np.full(2, 0.5)})
    np.testing.assert_array_equal(params["W"], fresh["W"])                  # the first step's bias correction
    with pytest.raises(FloatingPointError, match="at step 2:"):
        opt.step(params, {"W": np.full(2, np.nan)})


def test_betas_should_be_a_pair_of_numbers():
    with pytest.raises(TypeError, match=r"^betas should be a pair of numbers in \[0, 1\), like \(0\.9, 0\.999\), "
                                        r"but is float 0\.9$"):
        Adam(betas=0.9)                                                     # was "object of type 'float' has no len()"
    with pytest.raises(TypeError, match=r"^betas should be a pair of numbers in \[0, 1\), .* but is "
                                        r"tuple \('a', 'b'\)$"):
        Adam(betas=("a", "b"))
    with pytest.raises(ValueError, match=r"^betas should be two numbers in \[0, 1\), like \(0\.9, 0\.999\), "
                                         r"but is \(0\.9,\)$"):
        Adam(betas=(0.9,))
    with pytest.raises(ValueError, match=r"^betas should be two numbers in \[0, 1\), .* but is \(0\.9, nan\)$"):
        Adam(betas=(0.9, float("nan")))
    assert Adam(betas=[0.5, 0]).betas == (0.5, 0.0)
    assert Adam(betas=np.array([0.5, 0.9])).betas == (0.5, 0.9)


def delayed_echo_batch(rng, T=10, B=32, V=4):
    """One-hot tokens; the target at step t is the token at step t - 1 (class 0 at t = 0)."""
    tokens = rng.integers(0, V, size=(T, B))
    x = np.eye(V)[tokens]                                     # (T, B, V)
    targets = np.concatenate([np.zeros((1, B), dtype=int), tokens[:-1]])
    return x, targets


def test_tiny_task_is_learned():
    rng = np.random.default_rng(0)
    params = init_model_params(4, 16, 4, rng=rng)
    opt = Adam(lr=0.03)
    x_eval, y_eval = delayed_echo_batch(np.random.default_rng(123))
    start_loss = model_loss(params, x_eval, y_eval)[0]
    for _ in range(150):
        x, y = delayed_echo_batch(rng)
        _, grads, _ = model_loss(params, x, y)
        opt.step(params, grads)
    final_loss = model_loss(params, x_eval, y_eval)[0]
    assert final_loss < 0.2 * start_loss, (start_loss, final_loss)


@pytest.mark.parametrize("make", [lambda: SGD(0.1, momentum=0.9), Adagrad, Adam])
def test_float16_is_refused_like_everywhere_in_the_numpy_code(make):
    opt, params = make(), {"W": np.ones(2, np.float16)}
    with pytest.raises(TypeError, match=r"^params\['W'\] should hold floating-point numbers \(float32 or float64\), "
                                        r"but has dtype float16; convert it, e\.g\. params\['W'\] = "
                                        r"params\['W'\]\.astype\(np\.float64\)$"):
        opt.step(params, {"W": np.ones(2, np.float16)})                      # was: updated in float16
    np.testing.assert_array_equal(params["W"], [1.0, 1.0])
    assert opt.steps == 0 and opt.state == {}


@pytest.mark.parametrize("Opt", [Adagrad, Adam])
def test_eps_must_be_positive_to_keep_zero_gradients_finite(Opt):
    """eps = 0 would divide 0 by 0 wherever a gradient is exactly 0 (an unused embedding, say)."""
    for eps, shown in ((0, "0.0"), (0.0, "0.0"), (-1e-8, "-1e-08"), (float("nan"), "nan"), (float("inf"), "inf")):
        with pytest.raises(ValueError, match=rf"^eps should be a finite number > 0 \(it keeps 0/0 out of the update "
                                             rf"where a gradient is exactly 0\), but is {shown}$"):
            Opt(lr=0.01, eps=eps)
    with pytest.raises(TypeError, match=r"^eps should be a number, but is str '1e-8'$"):
        Opt(lr=0.01, eps="1e-8")
    params, opt = {"W": np.array([1.0, 2.0])}, Opt(lr=0.1, eps=1e-12)      # a tiny eps still works
    opt.step(params, {"W": np.array([0.0, 1.0])})
    assert params["W"][0] == 1.0 and params["W"][1] == pytest.approx(1.9)


@pytest.mark.parametrize("momentum", [1.0, 1.5])
def test_sgd_momentum_must_be_below_one(momentum):
    with pytest.raises(ValueError, match=rf"^momentum should be a finite number >= 0 and < 1 \(with momentum >= 1 old "
                                         rf"gradients never fade and the steps grow without bound\), but is {momentum}$"):
        SGD(0.1, momentum=momentum)
    assert SGD(0.1, momentum=0.0).momentum == 0.0 and SGD(0.1, momentum=0.99).momentum == 0.99


@pytest.mark.parametrize("make_numpy, make_torch", [
    (lambda: SGD(lr=1e-3), lambda p: torch.optim.SGD(p, lr=1e-3)),     # our SGD has no default lr
    (Adagrad, torch.optim.Adagrad),
    (Adam, torch.optim.Adam),
], ids=["sgd", "adagrad", "adam"])
def test_default_arguments_step_like_torch_s_defaults(make_numpy, make_torch):
    params, expected = run_both(make_numpy, make_torch)
    for name in params:
        np.testing.assert_allclose(params[name], expected[name], rtol=0, atol=1e-12, err_msg=name)


def test_an_optimiser_without_an_update_rule_refuses_to_step():
    from rnncourse.numpy.optim import _Optimizer

    class NoRule(_Optimizer):
        pass

    with pytest.raises(NotImplementedError):
        NoRule().step({"W": np.ones(2)}, {"W": np.ones(2)})
