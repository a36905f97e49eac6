"""rnncourse.numpy.many_to_one against finite differences, the full-sequence model, and torch autograd."""

import numpy as np
import pytest
import torch

from rnncourse.numpy.elman import rnn_forward
from rnncourse.numpy.gradcheck import numerical_gradient, rel_error
from rnncourse.numpy.many_to_one import last_states, many_to_one_backward, many_to_one_forward, many_to_one_loss
from rnncourse.numpy.model import init_model_params, model_loss
from rnncourse.torch.topologies import ManyToOne


def make_case(T=6, B=4, D=3, H=5, C=3, seed=0, lengths=True):
    rng = np.random.default_rng(seed)
    params = init_model_params(D, H, C, rng=rng)
    params["W_hh"] *= 2.0                              # a stronger recurrence: larger gradients through time
    x = rng.normal(size=(T, B, D))
    y = rng.integers(0, C, size=B)
    L = np.maximum(1, rng.integers(1, T + 1, size=B)) if lengths else None
    if lengths:
        L[0] = T                                       # one full-length sequence
    return params, x, y, L


def test_forward_reads_the_state_at_each_length():
    params, x, _, L = make_case()
    logits, _ = many_to_one_forward(x, params, L)
    hs, _ = rnn_forward(x, None, params["W_xh"], params["W_hh"], params["b_h"])
    for b, n in enumerate(L):
        expected = hs[n - 1, b] @ params["W_hy"].T + params["b_y"]
        np.testing.assert_allclose(logits[b], expected, rtol=1e-12)


def test_last_states_hand_computed():
    hs = np.arange(12.0).reshape(3, 2, 2)              # hs[t, b] = [4t + 2b, 4t + 2b + 1]
    np.testing.assert_array_equal(last_states(hs, np.array([3, 1])), [[8.0, 9.0], [2.0, 3.0]])


def test_without_lengths_equals_full_model_many_to_one():
    params, x, y, _ = make_case(lengths=False)
    loss, grads = many_to_one_loss(params, x, y)
    ref_loss, ref_grads, _ = model_loss(params, x, y)     # targets (B,): many-to-one from hs[-1]
    assert abs(loss - ref_loss) < 1e-12
    for name in ref_grads:
        np.testing.assert_allclose(grads[name], ref_grads[name], rtol=1e-10, atol=1e-14)


@pytest.mark.parametrize("T,B", [(1, 1), (6, 4), (4, 1)])
def test_gradients_match_finite_differences(T, B):
    params, x, y, L = make_case(T=T, B=B, seed=T + B)
    _, grads = many_to_one_loss(params, x, y, L)
    inputs = dict(params, x=x)
    numeric = numerical_gradient(lambda: many_to_one_loss(params, inputs["x"], y, L)[0], inputs)
    for name in inputs:
        assert rel_error(grads[name], numeric[name]) < 1e-7, name


def test_padding_gets_no_gradient_and_changes_nothing():
    params, x, y, L = make_case()
    loss, grads = many_to_one_loss(params, x, y, L)
    padded = np.arange(x.shape[0])[:, None] >= L[None, :]
    assert padded.any()
    assert np.all(grads["x"][padded] == 0)
    x2 = x.copy()
    x2[padded] = 100.0                                 # garbage in the padding
    loss2, grads2 = many_to_one_loss(params, x2, y, L)
    assert loss2 == loss
    np.testing.assert_allclose(grads2["W_hh"], grads["W_hh"], rtol=1e-12)


def test_equals_torch_model_and_autograd():
    params, x, y, L = make_case(seed=3)
    loss, grads = many_to_one_loss(params, x, y, L)
    model = ManyToOne.from_numpy(params)                  # the same weights, float64 as the arrays
    logits, _ = model(torch.from_numpy(x), torch.from_numpy(L))
    t_loss = torch.nn.functional.cross_entropy(logits, torch.from_numpy(y))
    t_loss.backward()
    assert abs(float(t_loss.detach()) - loss) < 1e-12
    for module, names in ((model.rnn, ("W_xh", "W_hh", "b_h")), (model.out, ("W_hy", "b_y"))):
        for name in names:
            np.testing.assert_allclose(getattr(module, name).grad.numpy(), grads[name], rtol=1e-9, atol=1e-13)


def test_backward_of_zero_is_zero():
    params, x, _, L = make_case()
    logits, cache = many_to_one_forward(x, params, L)
    grads = many_to_one_backward(np.zeros_like(logits), cache)
    assert all(np.all(g == 0) for g in grads.values())


def test_dlogits_errors_name_dlogits():
    params, x, _, L = make_case()
    logits, cache = many_to_one_forward(x, params, L)
    with pytest.raises(ValueError, match=r"^dlogits should have shape \(B, C\) = \(4, 3\), but has shape \(4, 2\) "
                                         r"\(axis 1, C, is 2 instead of 3\); dlogits has the shape of the logits from "
                                         r"many_to_one_forward$"):
        many_to_one_backward(logits[:, :2], cache)                  # was "dY should have shape ..."
    with pytest.raises(TypeError, match=r"^dlogits should be a numpy.ndarray, but is builtins.list"):
        many_to_one_backward(logits.tolist(), cache)
    with pytest.raises(TypeError, match=r"^all arrays should share one dtype, but dlogits is float32, W_hy is float64"):
        many_to_one_backward(logits.astype(np.float32), cache)


def test_bad_lengths_and_params_are_explained():
    params, x, y, _ = make_case()
    with pytest.raises(ValueError, match=r"lengths should all be in 1..T = 1..6 .*, but the largest is"):
        many_to_one_forward(x, params, np.array([7, 1, 1, 1]))
    with pytest.raises(ValueError, match="lengths should all be in 1..T"):
        many_to_one_forward(x, params, np.array([0, 1, 1, 1]))
    with pytest.raises(ValueError, match=r"lengths should have shape \(B,\) = \(4,\)"):
        many_to_one_forward(x, params, np.array([1, 1]))
    with pytest.raises(ValueError, match="params should be a dict with the keys"):
        many_to_one_forward(x, {"W_xh": params["W_xh"]})


def test_last_states_rejects_lengths_outside_1_to_T():
    hs = np.arange(24.0).reshape(4, 3, 2)
    with pytest.raises(ValueError, match=r"lengths should all be in 1..T = 1..4 .*the smallest is 0"):
        last_states(hs, np.array([0, 2, 3]))                       # was hs[-1, 0], silently
    with pytest.raises(ValueError, match=r"lengths should all be in 1..T = 1..4 .*, but the largest is 9"):
        last_states(hs, np.array([9, 2, 3]))
    with pytest.raises(TypeError, match="lengths should hold integer sequence lengths, but has dtype float64"):
        last_states(hs, np.array([1.0, 2.0, 3.0]))
    with pytest.raises(ValueError, match=r"lengths should have shape \(B,\) = \(3,\), but has shape \(2,\)"):
        last_states(hs, np.array([1, 2]))
    with pytest.raises(TypeError, match="hs should be a numpy.ndarray, but is builtins.list"):
        last_states(hs.tolist(), np.array([1, 2, 3]))


def test_model_loss_with_targets_that_are_no_array_is_a_type_error():
    params, x, _, _ = make_case()
    with pytest.raises(TypeError, match=r"targets should be a numpy.ndarray, but is list; wrap it with np.asarray"):
        model_loss(params, x, [0, 1, 1, 0])
    with pytest.raises(ValueError, match=r"targets for loss='ce' should have shape \(T, B\) or \(B,\) .*\(6, 4, 1\)"):
        model_loss(params, x, np.zeros((6, 4, 1), dtype=np.int64))


def test_plain_tuple_caches_give_the_same_gradients_and_the_out_cache_pair_is_refused():
    from rnncourse.numpy.output import affine_backward, affine_forward

    params, x, _, L = make_case()
    logits, cache = many_to_one_forward(x, params, L)
    dlogits = np.random.default_rng(1).normal(size=logits.shape)
    expected = many_to_one_backward(dlogits, cache)
    for plain in [tuple(cache), (tuple(cache.rnn), tuple(cache.affine), cache.lengths)]:
        got = many_to_one_backward(dlogits, plain)
        assert all(np.array_equal(got[k], expected[k]) for k in expected)
    hs, W_hy = cache.affine
    Y, affine_cache = affine_forward(hs, W_hy, params["b_y"])
    got, want = affine_backward(dlogits, (hs, W_hy)), affine_backward(dlogits, affine_cache)
    assert all(np.array_equal(got[k], want[k]) for k in want)
    with pytest.raises(TypeError, match=r"^cache should be the AffineCache returned by affine_forward, but is a tuple "
                                        r"of 2 values, the whole pair \(Y, cache\) it returned: pass"):
        affine_backward(dlogits, (Y, affine_cache))
    with pytest.raises(ValueError, match=r"^cache as a plain pair \(hs, W_hy\) should hold .* but holds shapes "
                                         r"\(4, 5\) and \(3, 4\)"):
        affine_backward(dlogits, (hs, W_hy[:, :4]))


def test_nonfinite_dlogits_are_named_dlogits():
    params, x, _, L = make_case()
    logits, cache = many_to_one_forward(x, params, L)
    with pytest.raises(ValueError, match=r"^dlogits contains NaN or infinity; "):    # was "dY contains NaN ..."
        many_to_one_backward(np.where(np.arange(3) == 1, np.inf, logits), cache)


def test_model_loss_names_bad_mse_targets_as_targets():
    params, x, _, _ = make_case(C=2)
    with pytest.raises(ValueError, match=r"^targets should have shape \(T, B, O\) = \(6, 4, 2\), but has shape "
                                         r"\(6, 4, 3\) \(axis 2, O, is 3 instead of 2\); targets has the shape of the "
                                         r"outputs: T and B of x, O = W_hy.shape\[0\]$"):
        model_loss(params, x, np.zeros((6, 4, 3)), loss="mse")            # was "target should have shape ..."
    with pytest.raises(ValueError, match=r"^targets should have shape \(B, O\) = \(4, 2\), but has shape \(3, 2\)"):
        model_loss(params, x, np.zeros((3, 2)), loss="mse")
    with pytest.raises(ValueError, match=r"^targets contains NaN or infinity; "):
        model_loss(params, x, np.full((6, 4, 2), np.nan), loss="mse")
    with pytest.raises(TypeError, match=r"^all arrays should share one dtype, but x is float64, targets is float32"):
        model_loss(params, x, np.zeros((6, 4, 2), np.float32), loss="mse")
    with pytest.raises(TypeError, match=r"^targets should hold floating-point numbers"):
        model_loss(params, x, np.zeros((6, 4, 2), np.int64), loss="mse")
    loss, grads, _ = model_loss(params, x, np.zeros((6, 4, 2)), loss="mse")
    assert np.isfinite(loss) and sorted(grads) == sorted(params)


def test_last_states_without_lengths_is_a_copy_of_the_last_step_like_its_torch_twin():
    from rnncourse.torch.topologies import last_states as torch_last_states
    x = np.random.default_rng(0).normal(size=(4, 3, 2))
    hs, _ = rnn_forward(x, None, np.ones((5, 2)), np.eye(5) * 0.5, np.zeros(5))
    last = last_states(hs)                                   # was a TypeError: lengths was required
    np.testing.assert_array_equal(last, hs[-1])
    np.testing.assert_array_equal(last, last_states(hs, None))
    np.testing.assert_array_equal(last, last_states(hs, np.full(3, 4)))
    np.testing.assert_array_equal(last, torch_last_states(torch.from_numpy(hs.copy())).numpy())
    assert not np.shares_memory(last, hs) and last.flags.writeable   # the caller's: hs, the cache's, is untouched
    last[:] = 0
    assert np.abs(hs[-1]).max() > 0
    with pytest.raises(ValueError, match=r"^hs should hold at least one time step, but has shape \(0, 3, 5\)"):
        last_states(hs[:0])
    with pytest.raises(ValueError, match=r"^hs should have 3 dimensions .*; hs holds the states of all steps"):
        last_states(hs[-1])
