"""Tests of rnncourse.data.temporal_xor: the stream obeys the XOR rule, targets are the next bits."""

import numpy as np
import pytest

from rnncourse.data.temporal_xor import cut_chunks, running_parity, temporal_xor, xor_stream


def test_every_third_bit_is_the_xor_of_the_two_before():
    s = xor_stream(50, rng=np.random.default_rng(1), batch_size=3)
    assert s.shape == (150, 3)
    assert set(np.unique(s)) <= {0, 1}
    assert np.array_equal(s[2::3], s[0::3] ^ s[1::3])


def test_random_bits_are_balanced():
    s = xor_stream(5000, rng=np.random.default_rng(0))[:, 0]
    assert abs(s[0::3].mean() - 0.5) < 0.03 and abs(s[1::3].mean() - 0.5) < 0.03


def test_targets_are_the_next_input_and_positions_label_them():
    data = temporal_xor(30, rng=np.random.default_rng(2), batch_size=2)
    assert data.x.shape == data.y.shape == (30, 2, 1) and data.position.shape == (30,)
    assert np.array_equal(data.y[:-1], data.x[1:])
    assert data.position[:6].tolist() == [1, 2, 0, 1, 2, 0]
    # The target at position 2 is the XOR of the current and the previous input.
    t = np.flatnonzero(data.position == 2)
    assert np.array_equal(data.y[t], np.logical_xor(data.x[t], data.x[t - 1]).astype(float))


def test_same_seed_same_stream_and_dtype():
    a = temporal_xor(9, rng=np.random.default_rng(5), dtype=np.float32)
    b = temporal_xor(9, rng=np.random.default_rng(5), dtype=np.float32)
    assert a.x.dtype == np.float32 and np.array_equal(a.x, b.x)
    # the stream comes from the caller's generator: another seed gives another stream
    assert not np.array_equal(a.x, temporal_xor(9, rng=np.random.default_rng(6), dtype=np.float32).x)


def test_running_parity_is_the_xor_of_all_bits_so_far():
    x, y = running_parity(12, 3, rng=np.random.default_rng(3))
    assert x.shape == y.shape == (12, 3, 1)
    for b in range(3):
        bits = x[:, b, 0].astype(int)
        assert y[:, b, 0].tolist() == [sum(bits[:t + 1]) % 2 for t in range(12)]


def test_running_parity_noise_leaves_the_targets_of_the_clean_bits():
    x0, y0 = running_parity(50, 4, rng=np.random.default_rng(4))
    x1, y1 = running_parity(50, 4, rng=np.random.default_rng(4), noise=0.2)
    assert np.array_equal(y0, y1)
    assert 0.1 < np.std(x1 - x0) < 0.3


def test_hand_computed_cut_chunks():
    x = np.arange(14.0).reshape(7, 2, 1)            # stream 0: 0, 2, 4, ...; stream 1: 1, 3, 5, ...
    chunks = cut_chunks(x, 3)
    assert chunks.shape == (3, 4, 1)
    assert chunks[:, :, 0].T.tolist() == [[0, 2, 4], [6, 8, 10], [1, 3, 5], [7, 9, 11]]


@pytest.mark.parametrize("B", [1, 2])
def test_cut_chunks_returns_a_new_array_for_every_batch_size(B):
    # B = 1 (the generators' default) used to give a view: editing the chunks edited the stream
    x = np.arange(6.0 * B).reshape(6, B, 1)
    chunks = cut_chunks(x, 3)
    assert not np.shares_memory(chunks, x)
    chunks[...] = -1.0
    assert x.min() == 0.0


def test_bad_inputs_give_clear_errors():
    with pytest.raises(ValueError, match="multiple of 3"):
        temporal_xor(10, rng=np.random.default_rng(0))
    with pytest.raises(TypeError, match="numpy.random.Generator"):
        temporal_xor(9, rng=0)
    with pytest.raises(ValueError, match="noise should be a finite number >= 0, but is -1.0"):
        running_parity(5, rng=np.random.default_rng(0), noise=-1.0)
    with pytest.raises(TypeError, match="noise should be a number, but is str"):
        running_parity(5, rng=np.random.default_rng(0), noise="0.1")
    with pytest.raises(ValueError, match="at most the number of steps"):
        cut_chunks(np.zeros((4, 1, 1)), 5)
    with pytest.raises(ValueError, match=r"\(T, B, D\)"):
        cut_chunks(np.zeros(4), 2)


def test_generators_want_a_float_dtype():
    # int64 would round the noisy bits of running_parity back to 0 and 1
    with pytest.raises(TypeError, match="dtype should be numpy.float32 or numpy.float64, but is int64"):
        running_parity(20, rng=np.random.default_rng(0), noise=0.3, dtype=np.int64)
    with pytest.raises(TypeError, match="dtype should be numpy.float32 or numpy.float64, but is float16"):
        temporal_xor(30, rng=np.random.default_rng(0), dtype=np.float16)


def test_streams_of_a_batch_are_independent():
    data = temporal_xor(600, rng=np.random.default_rng(7), batch_size=4)
    random_bits = data.x[np.arange(600) % 3 != 2, :, 0]           # the coin flips (the third bit is their XOR)
    for a in range(4):
        for b in range(a + 1, 4):
            assert 0.4 < np.mean(random_bits[:, a] == random_bits[:, b]) < 0.6


def test_x_and_y_are_separate_arrays():
    data = temporal_xor(9, rng=np.random.default_rng(0), batch_size=2)
    y = data.y.copy()
    data.x[1:] = 1 - data.x[1:]                                    # flip the inputs in place
    assert np.array_equal(data.y, y)                               # the targets stay as they were


def test_running_parity_reads_balanced_bits():
    x, _ = running_parity(2000, 4, rng=np.random.default_rng(0))
    assert set(np.unique(x)) == {0.0, 1.0}
    assert abs(x.mean() - 0.5) < 0.05


def test_temporal_xor_defaults_to_the_papers_3000_bits_in_one_stream():
    data = temporal_xor(rng=np.random.default_rng(0))
    assert data.x.shape == data.y.shape == (3000, 1, 1)


def test_xor_stream_and_running_parity_default_to_one_stream():
    assert xor_stream(4, rng=np.random.default_rng(0)).shape == (12, 1)
    x, y = running_parity(5, rng=np.random.default_rng(0))
    assert x.shape == y.shape == (5, 1, 1)
