"""rnncourse.numpy.losses against torch.nn.functional, torch.autograd and finite differences."""

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from rnncourse.numpy import grad_check, mse_loss, softmax, softmax_cross_entropy

TOL = 1e-10


def test_softmax_equals_torch_and_is_stable():
    z = np.random.default_rng(0).normal(size=(3, 4, 5)) * 10
    np.testing.assert_allclose(softmax(z), torch.softmax(torch.from_numpy(z), dim=-1).numpy(), atol=1e-15)
    np.testing.assert_allclose(softmax(z, axis=0), torch.softmax(torch.from_numpy(z), dim=0).numpy(), atol=1e-15)
    p = softmax(np.array([1000.0, 1000.0 + np.log(3.0)]))
    np.testing.assert_allclose(p, [0.25, 0.75])


def test_softmax_is_stable_in_every_row_of_a_batch():
    # The shift is each row's own max: a global max would underflow exp() of the small row to 0 / 0.
    z = np.array([[0.0, np.log(3.0)], [1000.0, 1000.0 + np.log(3.0)], [-1000.0, -1000.0 + np.log(3.0)]])
    # 1000 + log(3) keeps log(3) only to ~1e-13 in float64
    np.testing.assert_allclose(softmax(z), [[0.25, 0.75]] * 3, rtol=1e-12)
    np.testing.assert_allclose(softmax(z.T, axis=0), [[0.25] * 3, [0.75] * 3], rtol=1e-12)


def ce_torch(logits, targets, mask):
    z = torch.tensor(logits, requires_grad=True)
    V = logits.shape[-1]
    per_position = F.cross_entropy(z.reshape(-1, V), torch.from_numpy(targets).reshape(-1), reduction="none")
    m = torch.ones_like(per_position) if mask is None else torch.tensor(mask, dtype=z.dtype).reshape(-1)
    loss = (per_position * m).sum() / m.sum()
    loss.backward()
    return loss.item(), z.grad.numpy()


MASKS = [None, "bool", "float", "weights"]      # weights: fractional, for the promised weighted mean


@pytest.mark.parametrize("mask_kind", MASKS)
@pytest.mark.parametrize("lead", [(5, 3), (4,), (1, 1)])
def test_cross_entropy_equals_torch_and_finite_differences(lead, mask_kind):
    rng = np.random.default_rng(1)
    V = 6
    logits = rng.normal(size=lead + (V,)) * 3
    targets = rng.integers(0, V, size=lead)
    mask = None
    if mask_kind is not None:
        mask = rng.random(lead) < 0.6
        mask.flat[0] = True
        mask = mask if mask_kind == "bool" else mask.astype(np.float64)
        if mask_kind == "weights":                  # a normaliser that counts positions, (m > 0).sum(), fails here
            mask *= rng.uniform(0.1, 3.0, size=lead)
    loss, dlogits = softmax_cross_entropy(logits, targets, mask)
    expected_loss, expected_grad = ce_torch(logits, targets, mask)
    assert abs(loss - expected_loss) <= TOL
    np.testing.assert_allclose(dlogits, expected_grad, atol=TOL)
    if mask is None:
        reference = F.cross_entropy(torch.from_numpy(logits).reshape(-1, V), torch.from_numpy(targets).reshape(-1))
        assert abs(loss - reference.item()) <= TOL
    else:
        assert np.all(dlogits[~mask.astype(bool)] == 0)
    errors = grad_check(lambda: softmax_cross_entropy(logits, targets, mask)[0], {"logits": logits},
                        {"logits": dlogits})
    assert errors["logits"] <= 1e-6


def test_cross_entropy_hand_computed():
    loss, dlogits = softmax_cross_entropy(np.zeros((2, 4)), np.array([0, 3]))
    assert abs(loss - np.log(4)) < 1e-15
    np.testing.assert_allclose(dlogits, [[-0.375, 0.125, 0.125, 0.125], [0.125, 0.125, 0.125, -0.375]])


@pytest.mark.parametrize("layout", ["contiguous", "batch-first view", "strided vocabulary", "2-d column"])
def test_cross_entropy_gradient_is_weight_times_softmax_minus_onehot_in_every_memory_layout(layout):
    # the gradient subtracts weight * onehot(y) through a flat (positions, V) view of dlogits; a view of
    # permuted or strided logits is no longer one block of memory, and the result must not depend on it
    rng = np.random.default_rng(5)
    base = rng.normal(size=(6, 5, 14)).astype(np.float32)
    logits = {"contiguous": base[:, :, :7], "batch-first view": base.transpose(1, 0, 2)[..., :7],
              "strided vocabulary": base[..., ::2], "2-d column": base[:, 2, :7]}[layout]
    targets = rng.integers(0, 7, size=logits.shape[:-1])
    mask = rng.random(logits.shape[:-1]) < 0.7
    mask.flat[0] = True
    loss, dlogits = softmax_cross_entropy(logits, targets, mask)
    same_loss, same_dlogits = softmax_cross_entropy(np.ascontiguousarray(logits), targets, mask)
    assert loss == same_loss and np.array_equal(dlogits, same_dlogits) and dlogits.dtype == np.float32
    weight = mask / mask.sum()
    onehot = np.eye(7)[targets]
    expected = weight[..., None] * (softmax(logits.astype(np.float64)) - onehot)
    np.testing.assert_allclose(dlogits, expected, rtol=1e-5, atol=1e-7)


def test_cross_entropy_mask_ignores_masked_positions():
    rng = np.random.default_rng(2)
    logits, targets = rng.normal(size=(3, 2, 4)), rng.integers(0, 4, size=(3, 2))
    mask = np.array([[True, True], [True, False], [False, False]])
    loss, _ = softmax_cross_entropy(logits, targets, mask)
    changed = logits.copy()
    changed[~mask] = 100.0                                  # masked positions must not matter
    assert softmax_cross_entropy(changed, targets, mask)[0] == loss
    only_kept, _ = softmax_cross_entropy(logits[mask], targets[mask])
    assert abs(loss - only_kept) < 1e-14


def mse_torch(pred, target, mask):
    p = torch.tensor(pred, requires_grad=True)
    squared = (p - torch.from_numpy(target)) ** 2
    if mask is None:
        loss = F.mse_loss(p, torch.from_numpy(target))
    else:
        m = torch.tensor(mask, dtype=p.dtype)
        m = m if m.shape == squared.shape else m[..., None].expand_as(squared)
        loss = (squared * m).sum() / m.sum()
    loss.backward()
    return loss.item(), p.grad.numpy()


MSE_CASES = [(shape, mask_kind) for shape in [(4, 3, 2), (5, 2), (6,)]
             for mask_kind in [None, "element", "position", "element weights", "position weights"]
             if not (len(shape) == 1 and str(mask_kind).startswith("position"))]


@pytest.mark.parametrize(("shape", "mask_kind"), MSE_CASES)
def test_mse_equals_torch_and_finite_differences(shape, mask_kind):
    rng = np.random.default_rng(3)
    pred, target = rng.normal(size=shape), rng.normal(size=shape)
    mask = None
    if mask_kind is not None:
        mask_shape = shape if mask_kind.startswith("element") else shape[:-1]
        mask = rng.random(mask_shape) < 0.5
        mask.flat[0] = True
        if mask_kind.endswith("weights"):           # fractional weights: the mean is weighted by them
            mask = mask * rng.uniform(0.1, 3.0, size=mask_shape)
    loss, dpred = mse_loss(pred, target, mask)
    expected_loss, expected_grad = mse_torch(pred, target, mask)
    assert abs(loss - expected_loss) <= TOL
    np.testing.assert_allclose(dpred, expected_grad, atol=TOL)
    errors = grad_check(lambda: mse_loss(pred, target, mask)[0], {"pred": pred}, {"pred": dpred})
    assert errors["pred"] <= 1e-6


def test_mse_hand_computed():
    loss, dpred = mse_loss(np.array([1.0, 2.0]), np.array([0.0, 0.0]))
    assert loss == 2.5
    np.testing.assert_allclose(dpred, [1.0, 2.0])


def test_losses_keep_float32():
    rng = np.random.default_rng(4)
    logits = rng.normal(size=(3, 2, 5)).astype(np.float32)
    loss, dlogits = softmax_cross_entropy(logits, rng.integers(0, 5, size=(3, 2)), np.ones((3, 2), bool))
    assert loss.dtype == np.float32 and dlogits.dtype == np.float32
    loss, dpred = mse_loss(logits, np.zeros_like(logits), np.ones((3, 2)))
    assert loss.dtype == np.float32 and dpred.dtype == np.float32
    assert softmax(logits).dtype == np.float32


def test_loss_errors():
    logits = np.zeros((3, 2, 4))
    with pytest.raises(ValueError, match=r"targets should hold indices in \[0, 4\)"):
        softmax_cross_entropy(logits, np.full((3, 2), 4))
    with pytest.raises(ValueError, match=r"targets should have shape \(T, B\) = \(3, 2\)"):
        softmax_cross_entropy(logits, np.zeros((2, 3), dtype=int))
    with pytest.raises(TypeError, match="targets should hold integer class indices"):
        softmax_cross_entropy(logits, np.zeros((3, 2)))
    with pytest.raises(ValueError, match="mask selects no position"):
        softmax_cross_entropy(logits, np.zeros((3, 2), dtype=int), np.zeros((3, 2), bool))
    with pytest.raises(ValueError, match=r"mask should have shape \(3, 2\)"):
        softmax_cross_entropy(logits, np.zeros((3, 2), dtype=int), np.ones((2, 3), bool))
    with pytest.raises(ValueError, match=r"logits should have shape \(T, B, V\) or \(B, V\)"):
        softmax_cross_entropy(np.zeros(4), np.zeros((), dtype=int))
    with pytest.raises(ValueError, match=r"target should have 3 dimensions with shape \(T, B, O\) = \(3, 2, 1\)"):
        mse_loss(np.zeros((3, 2, 1)), np.zeros((3, 2)))
    with pytest.raises(TypeError, match="share one dtype"):
        mse_loss(np.zeros((3, 2)), np.zeros((3, 2), np.float32))


@pytest.mark.parametrize("weight", [-0.5, -1.0, -1e-9])
def test_a_negative_mask_weight_is_rejected(weight):
    # Masks are bools or non-negative weights; any value below 0 (not only below -1) is an error.
    mask = np.ones((3, 2))
    mask[1, 0] = weight                                     # the sum stays positive: only the sign is wrong
    with pytest.raises(ValueError, match="mask should hold bools or 0/1 values .* has negative values"):
        softmax_cross_entropy(np.zeros((3, 2, 4)), np.zeros((3, 2), dtype=int), mask)
    with pytest.raises(ValueError, match="has negative values"):
        mse_loss(np.zeros((3, 2, 1)), np.zeros((3, 2, 1)), mask)
    mask[1, 0] = 0.0                                        # zero is allowed: a masked position
    assert mse_loss(np.zeros((3, 2, 1)), np.ones((3, 2, 1)), mask)[0] == 1.0


def test_a_loss_over_nothing_is_a_value_error_not_nan():
    from rnncourse.numpy.losses import mse_loss, softmax_cross_entropy

    with pytest.raises(ValueError, match=r"logits should hold at least one position, but has shape \(0, 3, 7\)"):
        softmax_cross_entropy(np.zeros((0, 3, 7)), np.zeros((0, 3), np.int64))
    with pytest.raises(ValueError, match=r"pred should hold at least one value, but has shape \(0, 3\)"):
        mse_loss(np.zeros((0, 3)), np.zeros((0, 3)))


def test_softmax_names_an_axis_that_is_no_integer_or_not_an_axis_of_z():
    z = np.random.default_rng(0).normal(size=(5, 3, 7))
    for axis in (2.0, True, None, "1"):
        with pytest.raises(TypeError, match=rf"^axis should be an integer, but is {type(axis).__name__} "):
            softmax(z, axis=axis)
    for axis in (3, -4):
        with pytest.raises(ValueError, match=rf"^axis should be an integer from -3 to 2 for an array of 3 dimensions, "
                                             rf"but is {axis}$"):
            softmax(z, axis=axis)
    np.testing.assert_allclose(softmax(z, axis=np.int64(0)).sum(axis=0), 1.0, rtol=1e-12)
    np.testing.assert_array_equal(softmax(z, axis=-3), softmax(z, axis=0))


def test_softmax_over_an_empty_axis_is_refused_by_name():
    # used to be NumPy's "zero-size array to reduction operation maximum which has no identity"
    with pytest.raises(ValueError, match=r"^z should hold at least one score along axis -1, but that axis has "
                                         r"size 0 \(z has shape \(3, 0\)\); a softmax over no scores is undefined$"):
        softmax(np.zeros((3, 0)))
    with pytest.raises(ValueError, match=r"^z should hold at least one score along axis 0, .*\(0, 4\)"):
        softmax(np.zeros((0, 4)), axis=0)
    assert softmax(np.zeros((0, 4))).shape == (0, 4)          # no rows, four scores each: nothing to compute


@pytest.mark.parametrize("z, error, message", [
    (np.array([1, 2], np.int64), TypeError,
     r"^z should hold floating-point numbers \(float32 or float64\), but has dtype int64"),
    ([1.0, 2.0], TypeError, r"^z should be a numpy\.ndarray, but is builtins\.list"),
    (np.array([1.0, np.inf]), ValueError, r"^z contains NaN or infinity"),
    (np.array([[1.0, np.nan]]), ValueError, r"^z contains NaN or infinity"),
], ids=["int", "list", "inf", "nan"])
def test_softmax_checks_z(z, error, message):
    with pytest.raises(error, match=message):
        softmax(z)


@pytest.mark.parametrize("bad, error, message", [
    (np.nan, ValueError, r"^mask contains NaN or infinity"),
    (np.inf, ValueError, r"^mask contains NaN or infinity"),
    (1j, TypeError, r"^mask should hold floating-point numbers \(float32 or float64\), but has dtype complex128"),
], ids=["nan", "inf", "complex"])
@pytest.mark.parametrize("loss", ["cross-entropy", "mse"])
def test_a_float_mask_is_checked_like_an_array(loss, bad, error, message):
    mask = np.ones((3, 2), complex if isinstance(bad, complex) else float)
    mask[1, 0] = bad
    with pytest.raises(error, match=message):
        if loss == "cross-entropy":
            softmax_cross_entropy(np.zeros((3, 2, 4)), np.zeros((3, 2), np.int64), mask)
        else:
            mse_loss(np.zeros((3, 2, 1)), np.zeros((3, 2, 1)), mask)
