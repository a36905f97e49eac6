"""The order task: labels follow the markers' order, and the bag of steps carries no label information."""

from __future__ import annotations

import signal

import numpy as np
import pytest

from rnncourse.data.order_tasks import (FIRST, SECOND, bag_of_steps, flatten_steps, one_hot, order_batch,
                                        order_task)


def test_one_of_each_marker_and_label_from_their_positions():
    tokens, y = order_task(200, 9, rng=np.random.default_rng(0), vocab_size=6)
    assert tokens.shape == (9, 200) and y.shape == (200,)
    assert tokens.dtype == np.int64 and y.dtype == np.int64
    assert ((tokens == FIRST).sum(axis=0) == 1).all()
    assert ((tokens == SECOND).sum(axis=0) == 1).all()
    assert tokens.min() >= 0 and tokens.max() < 6
    for b in range(200):  # a plain loop as the independent reference
        seq = list(tokens[:, b])
        assert y[b] == int(seq.index(FIRST) < seq.index(SECOND))


def test_labels_balanced_and_seeded():
    _, y = order_task(4000, 12, rng=np.random.default_rng(1))
    assert abs(y.mean() - 0.5) < 0.03
    a = order_task(5, 7, rng=np.random.default_rng(3))
    b = order_task(5, 7, rng=np.random.default_rng(3))
    np.testing.assert_array_equal(a[0], b[0])
    np.testing.assert_array_equal(a[1], b[1])


def test_smallest_vocabulary_and_length():
    tokens, y = order_task(50, 2, rng=np.random.default_rng(0), vocab_size=3)
    assert set(np.unique(tokens)) <= {FIRST, SECOND}
    np.testing.assert_array_equal(y, (tokens[0] == FIRST).astype(np.int64))


def test_bag_of_steps_is_the_same_for_both_labels():
    """Given the label, the token counts have the same distribution: compare their means per class."""
    x, y = order_batch(6000, 8, rng=np.random.default_rng(2), vocab_size=5)
    counts = bag_of_steps(x)
    np.testing.assert_array_equal(counts[:, FIRST], 1.0)
    np.testing.assert_array_equal(counts[:, SECOND], 1.0)
    diff = counts[y == 1].mean(axis=0) - counts[y == 0].mean(axis=0)
    assert np.abs(diff).max() < 0.1


def test_bag_of_steps_ignores_order_and_flatten_keeps_it():
    x = np.random.default_rng(0).normal(size=(5, 3, 2))
    perm = [3, 0, 4, 1, 2]
    np.testing.assert_allclose(bag_of_steps(x[perm]), bag_of_steps(x))
    flat = flatten_steps(x)
    assert flat.shape == (3, 10)
    for b in range(3):
        np.testing.assert_array_equal(flat[b], np.concatenate([x[t, b] for t in range(5)]))
    assert not np.allclose(flatten_steps(x[perm]), flat)


def test_one_hot_matches_eye_rows():
    tokens = np.array([[0, 2], [1, 1]])
    x = one_hot(tokens, 3, dtype=np.float32)
    assert x.shape == (2, 2, 3) and x.dtype == np.float32
    np.testing.assert_array_equal(x[0, 1], [0, 0, 1])
    xb, yb = order_batch(4, 6, rng=np.random.default_rng(0))
    tb, _ = order_task(4, 6, rng=np.random.default_rng(0))
    np.testing.assert_array_equal(xb.argmax(-1), tb)


@pytest.mark.parametrize("kwargs, error, match", [
    (dict(batch_size=2, length=1), ValueError, "length should be an integer >= 2"),
    (dict(batch_size=2, length=5, vocab_size=2), ValueError, "vocab_size should be an integer >= 3"),
    (dict(batch_size=0, length=5), ValueError, "batch_size should be an integer >= 1"),
])
def test_bad_arguments_are_named(kwargs, error, match):
    with pytest.raises(error, match=match):
        order_task(rng=np.random.default_rng(0), **kwargs)


def test_a_vocabulary_beyond_int64_token_ids_is_refused_by_name():
    """vocab_size = 2**64 + 5 used to fail inside NumPy ("high is out of bounds for int64"), and 2**63 + 1 to
    wrap a token id round to a negative number."""
    for V in (2**64 + 5, 2**63 + 1):
        with pytest.raises(ValueError, match=rf"^vocab_size should be an integer from 3 to {2**63}, but is {V}$"):
            order_task(2, 3, rng=np.random.default_rng(0), vocab_size=V)
    tokens, _ = order_task(50, 3, rng=np.random.default_rng(0), vocab_size=2**63)     # the largest: ids < 2**63
    assert tokens.dtype == np.int64 and tokens.min() >= 0


def test_rng_must_be_a_generator():
    with pytest.raises(TypeError, match="rng should be a numpy.random.Generator"):
        order_task(2, 5, rng=0)


def test_shapes_and_values_are_checked():
    with pytest.raises(ValueError, match=r"tokens should hold indices in \[0, 3\)"):
        one_hot(np.array([[0, 3]]), 3)
    with pytest.raises(ValueError, match=r"x should have 3 dimensions with shape \(T, B, D\)"):
        bag_of_steps(np.zeros((4, 2)))
    with pytest.raises(ValueError, match="time-major"):
        flatten_steps(np.zeros(4))


@pytest.mark.parametrize("dtype", [np.int64, bool, np.float16])
def test_one_hot_and_order_batch_want_float32_or_float64(dtype):
    message = f"dtype should be numpy.float32 or numpy.float64, but is {np.dtype(dtype)}"
    with pytest.raises(TypeError, match=message):
        one_hot(np.array([[1, 2]]), 3, dtype=dtype)
    with pytest.raises(TypeError, match=message):
        order_batch(2, 4, rng=np.random.default_rng(0), dtype=dtype)


def _reference_order_task(batch_size, length, *, rng, vocab_size=5):
    """The first implementation, which listed every distractor: the new one must draw the same tokens."""
    distractors = np.array([v for v in range(vocab_size) if v not in (FIRST, SECOND)])
    tokens = distractors[rng.integers(0, len(distractors), size=(length, batch_size))]
    positions = np.argsort(rng.random((length, batch_size)), axis=0)[:2]
    columns = np.arange(batch_size)
    tokens[positions[0], columns] = FIRST
    tokens[positions[1], columns] = SECOND
    return tokens.astype(np.int64), (positions[0] < positions[1]).astype(np.int64)


@pytest.mark.parametrize("batch_size, length, vocab_size, seed",
                         [(4, 8, 5, 0), (64, 13, 5, 7), (3, 12, 5, 2), (50, 2, 3, 0), (30, 9, 6, 4), (20, 11, 40, 1)])
def test_same_tokens_as_listing_every_distractor(batch_size, length, vocab_size, seed):
    """The chapters' checked outputs depend on these draws: they must not change with the implementation."""
    rng_new, rng_old = np.random.default_rng(seed), np.random.default_rng(seed)
    for _ in range(3):                                  # consecutive draws from one generator too
        new = order_task(batch_size, length, rng=rng_new, vocab_size=vocab_size)
        old = _reference_order_task(batch_size, length, rng=rng_old, vocab_size=vocab_size)
        np.testing.assert_array_equal(new[0], old[0])
        np.testing.assert_array_equal(new[1], old[1])


def test_a_huge_vocabulary_does_not_list_its_tokens():
    """vocab_size = 10**9 used to build a Python list of a billion distractors (minutes, gigabytes)."""
    def too_slow(*_):
        raise TimeoutError("order_task(vocab_size=10**9) took more than 2 s")

    previous = signal.signal(signal.SIGALRM, too_slow)
    signal.alarm(2)
    try:
        tokens, y = order_task(3, 4, rng=np.random.default_rng(0), vocab_size=10**9)
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)
    assert tokens.shape == (4, 3) and tokens.dtype == np.int64 and y.shape == (3,)
    assert tokens.min() >= 0 and tokens.max() < 10**9
    assert ((tokens == FIRST).sum(axis=0) == 1).all() and ((tokens == SECOND).sum(axis=0) == 1).all()


def test_a_one_hot_too_large_to_hold_is_refused_by_name():
    """T * B * V numbers: a clear ValueError before any allocation, not numpy's MemoryError."""
    with pytest.raises(ValueError, match=r"vocab_size=1000000000 .*\(T, B, V\) = \(4, 3, 1000000000\)"):
        order_batch(3, 4, rng=np.random.default_rng(0), vocab_size=10**9)
    with pytest.raises(ValueError, match=r"vocab_size=1000000000 .*\(T, B, V\) = \(1, 2, 1000000000\)"):
        one_hot(np.array([[1, 2]]), 10**9)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_one_hot_equals_rows_of_the_identity(dtype):
    tokens = np.random.default_rng(0).integers(0, 7, size=(5, 4)).astype(np.int32)
    x = one_hot(tokens, 7, dtype=dtype)
    assert x.dtype == dtype
    np.testing.assert_array_equal(x, np.eye(7, dtype=dtype)[tokens])
