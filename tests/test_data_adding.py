"""The adding problem: marker placement, targets and statistics."""

import re

import numpy as np
import pytest

from rnncourse.data.adding import adding_problem, adding_target, chance_accuracy, chance_mse


def _marked(x):
    """Positions (p1, p2) of the two +1 markers of every sequence."""
    T, B, _ = x.shape
    pos = [np.flatnonzero(x[:, b, 1] == 1.0) for b in range(B)]
    assert all(len(p) == 2 for p in pos)
    return np.array(pos).T


def test_lag_variant_places_the_first_marker_lag_steps_before_the_end():
    x, y = adding_problem(500, 30, rng=np.random.default_rng(0), lag=12, dtype=np.float64)
    assert x.shape == (30, 500, 2) and y.shape == (500, 1)
    p1, p2 = _marked(x)
    assert np.all(p1 == 30 - 1 - 12)
    assert np.all((p2 > p1) & (p2 <= 29))
    assert set(np.unique(x[:, :, 1])) == {0.0, 1.0}
    b = np.arange(500)
    np.testing.assert_allclose(y[:, 0], 0.5 + (x[p1, b, 0] + x[p2, b, 0]) / 4)


def test_lag_T_minus_one_marks_the_first_step_and_unscaled_target_is_the_sum():
    x, y = adding_problem(50, 6, rng=np.random.default_rng(1), lag=5, scaled=False, dtype=np.float64)
    assert np.all(x[0, :, 1] == 1.0)
    np.testing.assert_allclose(y[:, 0], (x[:, :, 0] * (x[:, :, 1] == 1)).sum(axis=0))


def test_paper_placement():
    T = 40
    x, y = adding_problem(2000, T, rng=np.random.default_rng(2), dtype=np.float64)
    p1p2 = np.sort(_marked(x), axis=0)
    first, second = p1p2
    marks = x[:, :, 1]
    # X_1 is one of the first ten steps, X_2 one of the first T/2 - 1 unmarked steps, so both < T/2
    assert first.min() == 0 and np.all(np.minimum(first, second) < 10) and np.all(second < T // 2)
    # -1 at the first and last step unless marked, 0 elsewhere
    assert np.all(marks[-1] == -1.0)
    assert np.all((marks[0] == -1.0) | (marks[0] == 1.0))
    assert set(np.unique(marks[1:-1])) == {0.0, 1.0}
    # the paper zeroes the value when the very first step is marked
    assert np.all(x[0, marks[0] == 1.0, 0] == 0.0)
    S = (x[:, :, 0] * (marks == 1)).sum(axis=0)
    np.testing.assert_allclose(y[:, 0], 0.5 + S / 4)


def test_statistics_of_values_and_targets():
    x, y = adding_problem(20000, 11, rng=np.random.default_rng(3), lag=10, scaled=False, dtype=np.float64)
    assert x[:, :, 0].min() >= -1 and x[:, :, 0].max() <= 1
    assert abs(x[:, :, 0].mean()) < 0.01
    assert x[:, :, 0].var() == pytest.approx(1 / 3, rel=0.02)
    assert y.var() == pytest.approx(chance_mse(scaled=False), rel=0.03)
    y_scaled = 0.5 + y / 4
    assert y_scaled.var() == pytest.approx(chance_mse(), rel=0.03)
    assert np.mean(np.abs(y_scaled - 0.5) < 0.04) == pytest.approx(chance_accuracy(), abs=0.01)


def test_chance_values_by_hand():
    assert chance_mse() == pytest.approx(1 / 24)
    assert chance_accuracy() == pytest.approx(0.16 - 0.16 ** 2 / 4)     # 0.1536
    assert chance_accuracy(0.5, scaled=False) == pytest.approx(0.5 - 0.0625)


def test_same_seed_same_batch_and_dtype():
    a = adding_problem(8, 12, rng=np.random.default_rng(4), lag=3)
    b = adding_problem(8, 12, rng=np.random.default_rng(4), lag=3)
    np.testing.assert_array_equal(a[0], b[0])
    np.testing.assert_array_equal(a[1], b[1])
    assert a[0].dtype == np.float32 and a[1].dtype == np.float32
    # the numbers come from the caller's generator: the next batch from it, or another seed, differs
    rng = np.random.default_rng(4)
    first, second = adding_problem(8, 12, rng=rng, lag=3), adding_problem(8, 12, rng=rng, lag=3)
    assert not np.array_equal(first[0], second[0])
    assert not np.array_equal(a[0], adding_problem(8, 12, rng=np.random.default_rng(5), lag=3)[0])


def test_bad_arguments_give_clear_messages():
    rng = np.random.default_rng(0)
    with pytest.raises(ValueError, match="lag should be at most T - 1 = 9"):
        adding_problem(4, 10, rng=rng, lag=10)
    with pytest.raises(ValueError, match="T should be at least 10"):
        adding_problem(4, 5, rng=rng)
    with pytest.raises(TypeError, match="rng should be a numpy.random.Generator"):
        adding_problem(4, 12, rng=0)
    with pytest.raises(ValueError, match="batch_size should be an integer >= 1"):
        adding_problem(0, 12, rng=rng)


def test_adding_problem_wants_a_float_dtype():
    # an integer dtype would truncate every value in (-1, 1) and every scaled target to 0
    with pytest.raises(TypeError, match="dtype should be numpy.float32 or numpy.float64, but is int64"):
        adding_problem(4, 21, rng=np.random.default_rng(0), lag=20, dtype=np.int64)


def test_chance_accuracy_checks_its_tolerance():
    assert chance_accuracy(0) == 0.0                     # no error is below a tolerance of 0
    with pytest.raises(ValueError, match="tolerance should be a finite number >= 0, but is -1.0"):
        chance_accuracy(-1)                              # was -8.0, a probability below 0
    with pytest.raises(ValueError, match="tolerance should be a finite number >= 0, but is nan"):
        chance_accuracy(float("nan"))
    with pytest.raises(TypeError, match="tolerance should be a number, but is str"):
        chance_accuracy("0.04")


def test_adding_target_wants_a_float_array():
    np.testing.assert_allclose(adding_target(np.array([2.0, -2.0])), [1.0, 0.0])
    with pytest.raises(TypeError, match=r"S should be a numpy.ndarray, but is builtins.list"):
        adding_target([1.0])


def test_adding_target_refuses_sums_outside_their_range_and_returns_a_new_array():
    # the sum of two values of [-1, 1] lies in [-2, 2]; 2.5 gave a scaled target of 1.125, outside [0, 1]
    with pytest.raises(ValueError, match=r"S should hold sums of two values in \[-1, 1\], so in \[-2, 2\], but holds 2.5"):
        adding_target(np.array([0.0, 2.5]))
    with pytest.raises(ValueError, match="S contains NaN or infinity"):
        adding_target(np.array([np.nan]), scaled=False)
    S = np.array([-2.0, 0.5, 2.0], dtype=np.float32)
    for scaled in (True, False):
        target = adding_target(S, scaled=scaled)
        assert target is not S and not np.shares_memory(target, S) and target.dtype == np.float32
    np.testing.assert_array_equal(adding_target(S, scaled=False), S)
    assert adding_target(np.zeros(0)).shape == (0,)


def test_paper_placement_covers_exactly_the_documented_steps():
    # p1 is uniform over steps 0..9; p2 is the k-th unmarked step, k uniform over 0 .. m - 1 with m = T // 2 - 1,
    # so p2 lies in 0 .. m and each step t has P(p2 = t) = (1 - P(p1 = t)) / m; no marker lies beyond step m.
    T, B = 40, 40000
    x, _ = adding_problem(B, T, rng=np.random.default_rng(6), dtype=np.float64)
    m = T // 2 - 1
    p_first = np.where(np.arange(T) < 10, 0.1, 0.0)
    expected = p_first + np.where(np.arange(T) <= m, (1 - p_first) / m, 0.0)
    observed = (x[:, :, 1] == 1.0).mean(axis=1)
    np.testing.assert_allclose(observed, expected, atol=0.01)
    assert observed[m] > 0 and np.all(observed[m + 1:] == 0)


@pytest.mark.parametrize("bad", ["no", 0, 1.0, None])
def test_scaled_must_be_a_bool(bad):
    message = rf"^scaled should be True \(the paper's target 0.5 \+ S / 4\) or False \(the sum S\), but is " \
              rf"{type(bad).__name__} {re.escape(repr(bad))}$"
    for call in (lambda: adding_problem(2, 12, rng=np.random.default_rng(0), scaled=bad),
                 lambda: adding_target(np.zeros(2), scaled=bad), lambda: chance_mse(bad),
                 lambda: chance_accuracy(scaled=bad)):
        with pytest.raises(TypeError, match=message):
            call()
    assert chance_mse(np.bool_(False)) == pytest.approx(2 / 3)              # NumPy's bool is a bool too
