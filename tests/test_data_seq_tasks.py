"""rnncourse.data.seq_tasks: stroke images and captions, number pairs, regime signals."""

import numpy as np
import pytest

from rnncourse.data.seq_tasks import (
    CAPTION_VOCAB, DIGIT_VOCAB, EOS, PAD, REGIMES, STROKES, WORD_VOCAB, captions, decode_tokens,
    number_pairs, number_to_words, regime_signal, stroke_images,
)


# ----------------------------------------------------------------------------- stroke images

def test_stroke_images_without_noise_show_exactly_their_strokes():
    images, present = stroke_images(200, rng=np.random.default_rng(0), noise=0.0)
    assert images.shape == (200, 49) and present.shape == (200, 4)
    assert set(np.unique(images)) <= {0.0, 1.0}
    grids = images.reshape(200, 7, 7)
    full_rows = (grids == 1).all(axis=2).any(axis=1)
    full_cols = (grids == 1).all(axis=1).any(axis=1)
    assert np.array_equal(full_rows, present[:, 0] == 1)      # a horizontal stroke fills a whole row
    assert np.array_equal(full_cols, present[:, 1] == 1)
    assert np.all((1 <= present.sum(1)) & (present.sum(1) <= 4))


def test_single_diagonal_strokes_hand_computed():
    images, present = stroke_images(60, rng=np.random.default_rng(1), noise=0.0, min_strokes=1, max_strokes=1)
    seen = set()
    for img, p in zip(images.reshape(60, 7, 7), present):
        rows, cols = np.nonzero(img)
        stroke = STROKES[int(np.argmax(p))]
        seen.add(stroke)
        if stroke == "rising":                        # "/" (row 0 at the top): row + col is constant
            assert np.unique(rows + cols).size == 1 and rows.size >= 6
        if stroke == "falling":                       # a backslash: col - row is constant
            assert np.unique(cols - rows).size == 1 and rows.size >= 6
    assert seen == set(STROKES)


def test_stroke_images_deterministic_and_noisy():
    a = stroke_images(5, rng=np.random.default_rng(2))
    b = stroke_images(5, rng=np.random.default_rng(2))
    assert all(np.array_equal(u, v) for u, v in zip(a, b))
    assert a[0].dtype == np.float64 and np.unique(a[0]).size > 100


def test_captions_hand_computed():
    ids = captions(np.array([[1, 0, 0, 1], [0, 0, 1, 0], [1, 1, 1, 1]]))
    assert ids.shape == (5, 3)
    assert decode_tokens(ids, CAPTION_VOCAB) == ["horizontal falling <end>", "rising <end>",
                                                 "horizontal vertical rising falling <end>"]
    assert ids[:, 1].tolist() == [2 + STROKES.index("rising"), 1, PAD, PAD, PAD]


def test_stroke_arguments_are_checked():
    with pytest.raises(ValueError, match="min_strokes <= max_strokes <= 4"):
        stroke_images(2, rng=np.random.default_rng(0), min_strokes=3, max_strokes=2)
    with pytest.raises(TypeError, match="default_rng"):
        stroke_images(2, rng=None)


# ----------------------------------------------------------------------------- translation pairs

@pytest.mark.parametrize("n,words", [(0, "zero"), (7, "seven"), (13, "thirteen"), (20, "twenty"),
                                     (42, "forty two"), (100, "one hundred"), (105, "one hundred five"),
                                     (110, "one hundred ten"), (999, "nine hundred ninety nine")])
def test_number_to_words(n, words):
    assert " ".join(number_to_words(n)) == words


def test_number_pairs_shapes_and_padding():
    src, tgt = number_pairs(np.array([347, 12, 0, 900]))
    assert src.shape == (3, 4) and tgt.shape == (5, 4)
    assert decode_tokens(src, DIGIT_VOCAB) == ["3 4 7", "1 2", "0", "9 0 0"]
    assert decode_tokens(tgt, WORD_VOCAB) == ["three hundred forty seven <eos>", "twelve <eos>", "zero <eos>",
                                              "nine hundred <eos>"]
    assert tgt[:, 2].tolist() == [WORD_VOCAB.index("zero"), EOS, PAD, PAD, PAD]
    with pytest.raises(ValueError, match=r"numbers should hold indices in \[0, 1000\)"):
        number_pairs(np.array([1000]))


# ----------------------------------------------------------------------------- regime signals

def test_regime_signal_segments():
    x, labels = regime_signal(20, 120, rng=np.random.default_rng(0), min_duration=8, max_duration=24)
    assert x.shape == (120, 20, 1) and labels.shape == (120, 20)
    assert set(np.unique(labels)) == {0, 1, 2} and len(REGIMES) == 3
    for b in range(20):
        change = np.flatnonzero(np.diff(labels[:, b])) + 1
        bounds = np.concatenate([[0], change, [120]])
        durations = np.diff(bounds)
        # Each segment's regime differs from the one before: otherwise two segments would read as one, longer
        # than 24 steps (with repeats allowed, this assertion fails).
        assert np.all((durations[:-1] >= 8) & (durations[:-1] <= 24)) and durations[-1] <= 24


def test_regime_signal_waves_are_sines_without_noise():
    x, labels = regime_signal(10, 60, rng=np.random.default_rng(1), noise=0.0)
    for b in range(10):
        for regime, omega in ((0, 0.3), (1, 1.3)):
            t = np.flatnonzero(labels[:, b] == regime)
            run = t[:np.argmax(np.diff(t) != 1) + 1] if np.any(np.diff(t) != 1) else t
            if len(run) >= 3:                         # sin(a - w) + sin(a + w) = 2 cos(w) sin(a)
                v = x[run, b, 0]
                np.testing.assert_allclose(v[:-2] + v[2:], 2 * np.cos(omega) * v[1:-1], atol=1e-12)


def test_regime_signal_deterministic_and_checked():
    a = regime_signal(3, 30, rng=np.random.default_rng(2), dtype=np.float32)
    b = regime_signal(3, 30, rng=np.random.default_rng(2), dtype=np.float32)
    assert a[0].dtype == np.float32 and np.array_equal(a[0], b[0]) and np.array_equal(a[1], b[1])
    with pytest.raises(ValueError, match="min_duration should be at most max_duration"):
        regime_signal(2, 10, rng=np.random.default_rng(0), min_duration=5, max_duration=3)


def test_generators_want_a_float_dtype():
    # uint8 would drop the noise of the images, int64 would round the signal to -1, 0, 1
    with pytest.raises(TypeError, match="dtype should be numpy.float32 or numpy.float64, but is uint8"):
        stroke_images(2, rng=np.random.default_rng(0), dtype=np.uint8)
    with pytest.raises(TypeError, match="dtype should be numpy.float32 or numpy.float64, but is int64"):
        regime_signal(2, 30, rng=np.random.default_rng(0), dtype=np.int64)


def test_empty_batches_name_the_argument():
    with pytest.raises(ValueError, match=r"^present should hold at least one image \(B >= 1\), "
                                         r"but has shape \(0, 4\)$"):
        captions(np.zeros((0, 4), dtype=np.int64))
    with pytest.raises(ValueError, match=r"^numbers should hold at least one number \(B >= 1\), "
                                         r"but has shape \(0,\)$"):
        number_pairs(np.zeros(0, dtype=np.int64))


def test_strokes_are_shifted_by_minus_one_zero_or_plus_one_pixel():
    images, present = stroke_images(400, rng=np.random.default_rng(3), noise=0.0, max_strokes=1)
    shifts = {stroke: set() for stroke in STROKES}
    for img, p in zip(images.reshape(400, 7, 7), present):
        rows, cols = np.nonzero(img)
        stroke = STROKES[int(np.argmax(p))]
        # the centre row / column is 3; "/" runs along row + col = 6, a backslash along col - row = 0
        offset = {"horizontal": rows - 3, "vertical": cols - 3, "rising": rows + cols - 6, "falling": cols - rows}
        assert np.unique(offset[stroke]).size == 1
        shifts[stroke].add(int(offset[stroke][0]))
    assert shifts == {stroke: {-1, 0, 1} for stroke in STROKES}


def test_stroke_noise_has_the_documented_standard_deviation():
    clean, _ = stroke_images(500, rng=np.random.default_rng(4), noise=0.0)
    noisy, _ = stroke_images(500, rng=np.random.default_rng(4))             # the default noise, 0.2
    assert np.std(noisy - clean) == pytest.approx(0.2, rel=0.02)
    assert abs(np.mean(noisy - clean)) < 0.005


def test_regimes_have_the_documented_spreads():
    # waves of amplitude 1 (standard deviation 1/sqrt(2)), noise of standard deviation 0.7, all of mean 0
    x, labels = regime_signal(200, 200, rng=np.random.default_rng(5), noise=0.0)
    x = x[:, :, 0]
    for regime, std in ((0, 1 / np.sqrt(2)), (1, 1 / np.sqrt(2)), (2, 0.7)):
        assert np.std(x[labels == regime]) == pytest.approx(std, rel=0.05)
        assert abs(np.mean(x[labels == regime])) < 0.05
    assert np.abs(x[labels < 2]).max() <= 1.0
    noisy, _ = regime_signal(200, 200, rng=np.random.default_rng(5), noise=0.1)
    assert np.std(noisy[:, :, 0] - x) == pytest.approx(0.1, rel=0.02)      # the added noise, default 0.1
