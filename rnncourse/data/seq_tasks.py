"""Toy tasks for each input/output topology of chapter 6, generated in code.

- **Stroke images** (one-to-one, one-to-many): tiny noisy images holding one to
  four straight strokes; the label of a one-stroke image is its stroke, the
  caption of any image lists its strokes in a fixed order and ends with ``<end>``.
- **Number pairs** (many-to-many, delayed): a number written in digits
  ("3 4 7") to English words ("three hundred forty seven") -- output and input
  differ in length and vocabulary.
- **Regime signals** (many-to-many, synchronized): a noisy signal that switches
  between a slow wave, a fast wave and pure noise; every step is labelled with
  its regime, which no single sample reveals.

Sequences are time-major: token ids ``(T, B)`` padded with id 0 after their
end, signals ``(T, B, 1)``.
"""

from __future__ import annotations

import numpy as np

from rnncourse.validation import (check_float_dtype, check_index_array, check_positive_float, check_positive_int,
                                  check_rng)

__all__ = ["STROKES", "CAPTION_VOCAB", "stroke_images", "captions", "decode_tokens",
           "PAD", "BOS", "EOS", "DIGIT_VOCAB", "WORD_VOCAB", "number_to_words", "number_pairs",
           "REGIMES", "regime_signal"]

#: Id of the padding token ``<pad>`` in every vocabulary of this module.
PAD = 0
#: Id of the start token ``<bos>`` of :data:`WORD_VOCAB`.
BOS = 1
#: Id of the end token ``<eos>`` of :data:`WORD_VOCAB`.
EOS = 2

# ----------------------------------------------------------------------------- stroke images

#: The four strokes; ``rising`` is "/", ``falling`` is "\\" (row 0 is the top of the image).
STROKES = ("horizontal", "vertical", "rising", "falling")
#: The caption tokens, ``<pad>`` (0) and ``<end>`` (1) followed by the strokes (2..5).
CAPTION_VOCAB = ("<pad>", "<end>") + STROKES



def _draw(img, stroke, offset):
    """Draw one stroke on a square image (in place); ``offset`` shifts it by whole pixels."""
    S = img.shape[0]
    i = np.arange(S)
    if stroke == 0:
        img[S // 2 + offset, :] = 1
    elif stroke == 1:
        img[:, S // 2 + offset] = 1
    else:
        keep = (i + offset >= 0) & (i + offset < S)
        cols = i[keep] + offset
        rows = S - 1 - i[keep] if stroke == 2 else i[keep]
        img[rows, cols] = 1


def stroke_images(batch_size, *, rng, size=7, noise=0.2, min_strokes=1, max_strokes=4, dtype=np.float64):
    """Tiny images of straight strokes plus Gaussian noise, flattened to vectors.

    Each image holds a random set of between ``min_strokes`` and
    ``max_strokes`` different strokes of :data:`STROKES`, each shifted by -1, 0
    or +1 pixel, drawn with value 1 on a background of 0, then noise of
    standard deviation ``noise`` is added.

    Parameters
    ----------
    batch_size : int
        ``B``, the number of images.
    rng : numpy.random.Generator
        Source of randomness.
    size : int
        Side of the square image in pixels (default 7, at least 5).
    noise : float
        Standard deviation of the added noise (default 0.2).
    min_strokes, max_strokes : int
        Range of the number of strokes per image, within 1..4.
    dtype : numpy.dtype
        Floating dtype of the images, ``numpy.float64`` (default) or ``numpy.float32``.

    Returns
    -------
    images : numpy.ndarray, shape (B, P)
        Row-major flattened images, ``P = size * size`` pixels each.
    present : numpy.ndarray, shape (B, 4)
        1 where the image holds that stroke (int64).

    Example
    -------
    >>> images, present = stroke_images(3, rng=np.random.default_rng(0), min_strokes=1, max_strokes=1)
    >>> images.shape, present.sum(axis=1).tolist()
    ((3, 49), [1, 1, 1])
    """
    B = check_positive_int(batch_size, "batch_size")
    S = check_positive_int(size, "size", minimum=5)
    noise = check_positive_float(noise, "noise", allow_zero=True)
    lo, hi = check_positive_int(min_strokes, "min_strokes"), check_positive_int(max_strokes, "max_strokes")
    if not lo <= hi <= len(STROKES):
        raise ValueError(f"min_strokes <= max_strokes <= 4 should hold, but they are {lo} and {hi}")
    check_rng(rng)
    dtype = check_float_dtype(dtype)
    present = np.zeros((B, len(STROKES)), dtype=np.int64)
    images = np.zeros((B, S, S))
    for b in range(B):
        chosen = rng.permutation(len(STROKES))[:rng.integers(lo, hi + 1)]
        present[b, chosen] = 1
        for stroke in chosen:
            _draw(images[b], stroke, int(rng.integers(-1, 2)))
    images += noise * rng.standard_normal(images.shape)
    return images.reshape(B, S * S).astype(dtype), present


def captions(present):
    """Caption token ids: the strokes present, in the order of :data:`STROKES`, then ``<end>``.

    Parameters
    ----------
    present : numpy.ndarray, shape (B, 4)
        From :func:`stroke_images`.

    Returns
    -------
    numpy.ndarray, shape (5, B)
        Ids into :data:`CAPTION_VOCAB`, time-major, padded with ``<pad>`` (0)
        after ``<end>`` (1).

    Example
    -------
    >>> decode_tokens(captions(np.array([[1, 0, 0, 1]])), CAPTION_VOCAB)
    ['horizontal falling <end>']
    """
    check_index_array(present, "present", ("B", "S"), (None, len(STROKES)), high=2)
    if len(present) == 0:
        raise ValueError(f"present should hold at least one image (B >= 1), but has shape {present.shape}")
    rows = [[2 + s for s in np.flatnonzero(p)] + [1] for p in present]
    return _pad_rows(rows, length=len(STROKES) + 1)[0]


def decode_tokens(ids, vocab):
    """Turn token ids of shape (T, B) into strings, dropping the padding (id 0).

    Parameters
    ----------
    ids : numpy.ndarray, shape (T, B)
        Token ids in ``[0, len(vocab))`` (a :class:`torch.Tensor` works too).
    vocab : tuple of str
        The words, e.g. :data:`CAPTION_VOCAB` or :data:`WORD_VOCAB`.

    Returns
    -------
    list of str
        One string per column: the padding (id 0) is dropped, and a column stops at ``<eos>``, the end
        token of :data:`WORD_VOCAB`, which is kept; ``<end>`` of :data:`CAPTION_VOCAB` is decoded like
        any other word, so that a caption shows what the model wrote after it.
    """
    ids = np.asarray(ids.detach().cpu() if hasattr(ids, "detach") else ids)
    check_index_array(ids, "ids", ("T", "B"), high=len(vocab))
    out = []
    for column in ids.T:
        words = []
        for i in column:
            if i != PAD:
                words.append(vocab[i])
            if vocab[i] == "<eos>":
                break
        out.append(" ".join(words))
    return out


# ----------------------------------------------------------------------------- number pairs

#: The source vocabulary of ``number_pairs``, padding followed by the digits 0..9 (ids 1..10).
DIGIT_VOCAB = ("<pad>",) + tuple("0123456789")
_ONES = ("zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten", "eleven",
         "twelve", "thirteen", "fourteen", "fifteen", "sixteen", "seventeen", "eighteen", "nineteen")
_TENS = ("twenty", "thirty", "forty", "fifty", "sixty", "seventy", "eighty", "ninety")
#: Target vocabulary of ``number_pairs``.
WORD_VOCAB = ("<pad>", "<bos>", "<eos>") + _ONES + _TENS + ("hundred",)
_WORD_ID = {w: i for i, w in enumerate(WORD_VOCAB)}


def number_to_words(n):
    """English words for an integer 0..999, e.g. ``347 -> ['three', 'hundred', 'forty', 'seven']``.

    Parameters
    ----------
    n : int
        The number, 0 to 999.

    Returns
    -------
    list of str
        One word per entry, without "and" or hyphens.
    """
    if check_positive_int(n, "n", minimum=0) > 999:
        raise ValueError(f"n should be an integer in 0..999, but is {n}")
    hundreds, rest = divmod(int(n), 100)
    words = [_ONES[hundreds], "hundred"] if hundreds else []
    if rest >= 20:
        words += [_TENS[rest // 10 - 2]] + ([_ONES[rest % 10]] if rest % 10 else [])
    elif rest or not hundreds:
        words.append(_ONES[rest])
    return words


def _pad_rows(rows, length=None, pad=PAD):
    """Stack lists of token ids into a time-major array, padded at the end.

    Parameters
    ----------
    rows : list of list of int
        One token list per sequence (each non-empty).
    length : int, optional
        ``T``; default: the longest row.
    pad : int
        The padding id (default 0).

    Returns
    -------
    ids : numpy.ndarray, shape (T, B)
        int64 ids.
    lengths : numpy.ndarray, shape (B,)
        The length of each row.

    Example
    -------
    >>> _pad_rows([[5, 6, 7], [8]])[0].T.tolist()
    [[5, 6, 7], [8, 0, 0]]
    """
    lengths = np.array([len(r) for r in rows], dtype=np.int64)
    if not len(rows) or lengths.min() == 0:
        raise ValueError("rows should be a non-empty list of non-empty token lists")
    T = int(lengths.max()) if length is None else check_positive_int(length, "length")
    if lengths.max() > T:
        raise ValueError(f"length should be at least the longest row ({lengths.max()}), but is {T}")
    ids = np.full((T, len(rows)), pad, dtype=np.int64)
    for b, r in enumerate(rows):
        ids[:len(r), b] = r
    return ids, lengths


def number_pairs(numbers):
    """Digits in, English words out: ``number_pairs`` pairs for the given numbers.

    Parameters
    ----------
    numbers : numpy.ndarray, shape (B,)
        Integers in 0..999.

    Returns
    -------
    src : numpy.ndarray, shape (3, B)
        Digit ids into :data:`DIGIT_VOCAB` (digit d has id d + 1), no leading
        zeros, padded with 0.
    tgt : numpy.ndarray, shape (5, B)
        Word ids into :data:`WORD_VOCAB` followed by ``<eos>`` (2), padded with 0.

    Example
    -------
    >>> src, tgt = number_pairs(np.array([347, 12]))
    >>> decode_tokens(src, DIGIT_VOCAB), decode_tokens(tgt, WORD_VOCAB)
    (['3 4 7', '1 2'], ['three hundred forty seven <eos>', 'twelve <eos>'])
    """
    check_index_array(numbers, "numbers", ("B",), high=1000)
    if len(numbers) == 0:
        raise ValueError(f"numbers should hold at least one number (B >= 1), but has shape {numbers.shape}")
    digits = [[int(c) + 1 for c in str(int(n))] for n in numbers]
    words = [[_WORD_ID[w] for w in number_to_words(int(n))] + [EOS] for n in numbers]
    return _pad_rows(digits, length=3)[0], _pad_rows(words, length=5)[0]


# ----------------------------------------------------------------------------- regime signals

#: The regimes of :func:`regime_signal`, by label.
REGIMES = ("slow wave", "fast wave", "noise")


def regime_signal(batch_size, length, *, rng, min_duration=8, max_duration=24, noise=0.1, dtype=np.float64):
    """A signal that switches between regimes, with the regime of every step as its label.

    Segments of random duration follow each other, each in a regime different
    from the last: ``0`` a slow sine (0.3 rad per step), ``1`` a fast sine
    (1.3 rad per step), ``2`` Gaussian noise of standard deviation 0.7. Waves
    start at a random phase, and noise of standard deviation ``noise`` is added
    everywhere. All regimes have mean 0 and a similar spread, so one sample says
    little about its regime: the recent past does.

    Parameters
    ----------
    batch_size : int
        ``B``.
    length : int
        ``T``, the number of steps.
    rng : numpy.random.Generator
        Source of randomness.
    min_duration, max_duration : int
        Range of segment durations in steps.
    noise : float
        Standard deviation of the noise added to every step.
    dtype : numpy.dtype
        Floating dtype of ``x``, ``numpy.float64`` (default) or ``numpy.float32``.

    Returns
    -------
    x : numpy.ndarray, shape (T, B, 1)
        The signal, time-major.
    labels : numpy.ndarray, shape (T, B)
        The regime (index into :data:`REGIMES`) of every step, int64.
    """
    B, T = check_positive_int(batch_size, "batch_size"), check_positive_int(length, "length")
    lo, hi = check_positive_int(min_duration, "min_duration"), check_positive_int(max_duration, "max_duration")
    if lo > hi:
        raise ValueError(f"min_duration should be at most max_duration, but they are {lo} and {hi}")
    noise = check_positive_float(noise, "noise", allow_zero=True)
    check_rng(rng)
    dtype = check_float_dtype(dtype)
    x = np.empty((T, B))
    labels = np.empty((T, B), dtype=np.int64)
    for b in range(B):
        t, regime = 0, int(rng.integers(3))
        while t < T:
            d = min(int(rng.integers(lo, hi + 1)), T - t)
            steps = np.arange(d)
            if regime < 2:
                x[t:t + d, b] = np.sin((0.3, 1.3)[regime] * steps + rng.uniform(0, 2 * np.pi))
            else:
                x[t:t + d, b] = 0.7 * rng.standard_normal(d)
            labels[t:t + d, b] = regime
            t += d
            regime = (regime + int(rng.integers(1, 3))) % 3
    x += noise * rng.standard_normal(x.shape)
    return x[:, :, None].astype(dtype), labels
