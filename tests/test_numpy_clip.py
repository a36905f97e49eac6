"""rnncourse.numpy.clip against torch.nn.utils.clip_grad_norm_ and clip_grad_value_."""

import math
import warnings

import numpy as np
import pytest
import torch

from rnncourse.numpy import clip_grad_norm, clip_grad_value, grad_norm
from rnncourse.torch.clip import clip_grad_norm as torch_clip_grad_norm


def make_grads(scale, seed=0):
    rng = np.random.default_rng(seed)
    return {"W_xh": rng.normal(size=(4, 3)) * scale, "W_hh": rng.normal(size=(4, 4)) * scale,
            "b_h": rng.normal(size=4) * scale}


def torch_clip_norm(grads, max_norm, norm_type):
    tensors = []
    for g in grads.values():
        p = torch.zeros(g.shape, dtype=torch.float64, requires_grad=True)
        p.grad = torch.from_numpy(g.copy())
        tensors.append(p)
    total = torch.nn.utils.clip_grad_norm_(tensors, max_norm, norm_type=norm_type)
    return float(total), [p.grad.numpy() for p in tensors]


@pytest.mark.parametrize("norm_type", [2.0, 1.0, 3.0, np.inf, "inf"])
@pytest.mark.parametrize("scale", [10.0, 0.01])           # clipped, and left alone
def test_clip_grad_norm_equals_torch(scale, norm_type):
    grads = make_grads(scale)
    original = {name: g.copy() for name, g in grads.items()}
    expected_total, expected = torch_clip_norm(grads, 1.0, norm_type)
    total = clip_grad_norm(grads, max_norm=1.0, norm_type=norm_type)
    assert isinstance(total, float)
    assert abs(total - expected_total) <= 1e-12 * max(1.0, expected_total)
    for g, e in zip(grads.values(), expected):
        np.testing.assert_allclose(g, e, rtol=1e-13, atol=1e-15)
    changed = any(not np.array_equal(grads[n], original[n]) for n in grads)
    assert changed == (scale == 10.0)


def test_clip_grad_norm_hand_computed():
    grads = {"a": np.array([3.0]), "b": np.array([4.0])}
    assert grad_norm(grads) == 5.0
    assert grad_norm(grads, np.inf) == 4.0
    assert clip_grad_norm(grads, max_norm=1.0) == 5.0       # the norm before clipping
    np.testing.assert_allclose(np.concatenate(list(grads.values())), [0.6, 0.8], rtol=1e-6)
    assert abs(grad_norm(grads) - 1.0) < 1e-6


def test_clip_grad_value_equals_torch():
    grads = make_grads(2.0, seed=1)
    p = [torch.zeros(g.shape, dtype=torch.float64, requires_grad=True) for g in grads.values()]
    for t, g in zip(p, grads.values()):
        t.grad = torch.from_numpy(g.copy())
    torch.nn.utils.clip_grad_value_(p, 0.5)
    assert clip_grad_value(grads, 0.5) is None
    for g, t in zip(grads.values(), p):
        np.testing.assert_array_equal(g, t.grad.numpy())
    assert max(np.abs(g).max() for g in grads.values()) == 0.5


def test_clip_keeps_float32_and_works_in_place():
    grads = {"W": np.full((2, 2), 10.0, np.float32)}
    W = grads["W"]
    clip_grad_norm(grads, 1.0)
    assert grads["W"] is W and W.dtype == np.float32
    np.testing.assert_allclose(W, 0.5, rtol=1e-5)


@pytest.mark.parametrize("inf", [math.inf, np.float32(np.inf), np.float64(np.inf)])
def test_clip_grad_norm_with_max_norm_inf_only_measures_as_the_torch_twin(inf):
    grads = make_grads(3.0)
    before = {k: g.copy() for k, g in grads.items()}
    norm = np.sqrt(sum((g ** 2).sum() for g in before.values()))
    tensors = [torch.from_numpy(g.copy()).requires_grad_() for g in before.values()]
    for t in tensors:
        t.grad = t.detach().clone()
    assert clip_grad_norm(grads, inf) == pytest.approx(norm, rel=1e-12)
    assert torch_clip_grad_norm(tensors, inf) == pytest.approx(norm, rel=1e-12)
    for k, t in zip(grads, tensors):
        np.testing.assert_array_equal(grads[k], before[k])
        np.testing.assert_array_equal(t.grad.numpy(), before[k])


@pytest.mark.parametrize("clip", [clip_grad_norm, lambda grads, max_norm: torch_clip_grad_norm(
    [torch.ones(2, requires_grad=True)], max_norm)], ids=["numpy", "torch"])
@pytest.mark.parametrize("max_norm, error, message", [
    (-math.inf, ValueError,
     r"^max_norm should be a number > 0 or inf \(math.inf only measures the norm\), but is -inf$"),
    ("1", TypeError, r"^max_norm should be a number, but is str '1'$"),
    (np.array([1.0, 2.0]), TypeError, r"^max_norm should be a number, but is ndarray"),
])
def test_both_twins_refuse_the_same_max_norms(clip, max_norm, error, message):
    with pytest.raises(error, match=message):
        clip(make_grads(1.0), max_norm)


def test_clip_errors():
    with pytest.raises(FloatingPointError, match="gradient of W_hh contains NaN/inf"):
        clip_grad_norm({"W_hh": np.array([np.nan])}, 1.0)
    with pytest.raises(ValueError, match="max_norm should be a number > 0 or inf"):
        clip_grad_norm({"W": np.ones(2)}, -1.0)
    with pytest.raises(TypeError, match="grads should be a dict"):
        clip_grad_norm([np.ones(2)], 1.0)
    with pytest.raises(ValueError, match="clip_value should be a finite number > 0"):
        clip_grad_value({"W": np.ones(2)}, 0)


@pytest.mark.parametrize("clip, verb", [(lambda g: clip_grad_norm(g, 1.0), "clip_grad_norm rescales"),
                                        (lambda g: clip_grad_value(g, 1.0), "clip_grad_value clamps")])
def test_clip_refuses_a_read_only_gradient_before_changing_any(clip, verb):
    grads = {"a": np.full(3, 10.0), "b": np.full(2, 10.0), "c": np.full(2, 10.0)}
    grads["b"].flags.writeable = False
    with pytest.raises(ValueError, match=rf"^grads\['b'\] is read-only, but {verb} it in place; pass writable "
                                         r"arrays \(e\.g\. made with \.copy\(\)\)$"):
        clip(grads)
    for name, g in grads.items():                           # was: 'a' already clipped, then NumPy's bare message
        np.testing.assert_array_equal(g, np.full(g.shape, 10.0), err_msg=name)


@pytest.mark.parametrize("dtype", [np.int64, np.float16, bool])
@pytest.mark.parametrize("call", [grad_norm, lambda g: clip_grad_norm(g, 1.0), lambda g: clip_grad_value(g, 1.0)])
def test_clip_names_the_dtype_of_a_gradient_that_is_not_float32_or_float64(call, dtype):
    grads = {"W": np.full(2, 3.0), "b": np.full(2, 3, dtype=dtype)}
    with pytest.raises(TypeError, match=rf"^grads\['b'\] should hold floating-point numbers \(float32 or float64\), "
                                        rf"but has dtype {np.dtype(dtype)}; convert it, e\.g\. grads\['b'\] = "
                                        r"grads\['b'\]\.astype\(np\.float64\)$"):
        call(grads)
    np.testing.assert_array_equal(grads["W"], [3.0, 3.0])
    with pytest.raises(TypeError, match=r"^grads\['W'\] should be a numpy\.ndarray, but is list$"):
        call({"W": [3.0, 4.0]})


def test_a_norm_whose_powers_overflow_or_underflow_is_still_the_norm():
    with warnings.catch_warnings():
        warnings.simplefilter("error")                     # no overflow warning reaches the student either
        # float32 squares overflow from entries of about 1e19, though the norm, 4e19, fits float32:
        # clipping used to see an infinite norm and multiply every gradient by 0.
        grads = {"W_hh": np.full((4, 4), 1e19, dtype=np.float32), "b_h": np.zeros(4, dtype=np.float32)}
        assert grad_norm(grads) == pytest.approx(4e19, rel=1e-6)
        assert clip_grad_norm(grads, max_norm=1.0) == pytest.approx(4e19, rel=1e-6)
        np.testing.assert_allclose(grads["W_hh"], 0.25, rtol=1e-5)
        assert grads["W_hh"].dtype == np.float32
        # 100 ** 200 overflows float64; three entries of 100 have the 200-norm 100 * 3 ** (1 / 200).
        assert grad_norm({"a": np.full(3, 100.0)}, norm_type=200) == pytest.approx(100 * 3 ** (1 / 200), rel=1e-12)
        # (1e-200) ** 2 underflows to 0; four entries of 1e-200 have the norm 2e-200.
        assert grad_norm({"a": np.full(4, 1e-200)}) == pytest.approx(2e-200, rel=1e-12, abs=0)
        assert grad_norm({"a": np.zeros(3), "b": np.zeros(2, dtype=np.float32)}) == 0.0
        # Squares among the subnormal numbers keep a few digits only: 16 float32 entries of 3e-23 read
        # 1.497e-22 for 1.2e-22, and 16 float64 entries of 1e-160 were 5.6e-6 off.
        # (abs=0 throughout: pytest.approx allows 1e-12 by default, more than these norms.)
        tiny32 = np.full(16, 3e-23, dtype=np.float32)
        assert grad_norm({"a": tiny32}) == pytest.approx(4 * float(tiny32[0]), rel=1e-6, abs=0)
        assert grad_norm({"a": np.full(16, 1e-160)}) == pytest.approx(4e-160, rel=1e-14, abs=0)
