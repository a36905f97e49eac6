"""Tasks where only the order of the steps carries the answer (chapter 1).

In :func:`order_task` every sequence holds exactly one marker token ``1`` and
one marker token ``2`` at random positions; every other step is a distractor
drawn from the remaining tokens ``{0, 3, 4, ..., V-1}``. The label says whether
the ``1`` comes before the ``2``. Both labels are equally likely and, given the
label, the *set* of tokens has the same distribution, so any summary that
forgets the order -- such as :func:`bag_of_steps`, the count of each token --
carries no information about the label: a model that sees only the summary is
at chance (50 %), however large it is.

Sequences come out time-major: token ids ``(T, B)``, one-hot inputs ``(T, B, V)``.
"""

from __future__ import annotations

import numpy as np

from rnncourse.validation import check_array, check_float_dtype, check_index_array, check_positive_int, check_rng

__all__ = ["FIRST", "SECOND", "MAX_ONE_HOT_SIZE", "order_task", "order_batch", "one_hot", "bag_of_steps",
           "flatten_steps"]

#: The two marker tokens whose order is the label.
FIRST, SECOND = 1, 2
#: The most numbers :func:`one_hot` (and so :func:`order_batch`) makes, ``T * B * V``; 10**9 is 8 GB in float64.
MAX_ONE_HOT_SIZE = 10**9
# The largest vocab_size of order_task: its token ids, up to V - 1, are int64.
_MAX_VOCAB_SIZE = 2**63


def _check_one_hot_size(T: int, B: int, V: int, what: str) -> None:
    """Refuse a one-hot array of ``T * B * V`` numbers beyond :data:`MAX_ONE_HOT_SIZE`, before allocating it."""
    if T * B * V > MAX_ONE_HOT_SIZE:
        raise ValueError(f"vocab_size={V} makes {what} of shape (T, B, V) = ({T}, {B}, {V}), {T * B * V:,} numbers, "
                         f"more than the {MAX_ONE_HOT_SIZE:,} one_hot allows; use a smaller vocab_size or "
                         f"batch, or keep the token ids (order_task) and look them up in an embedding")


def order_task(batch_size, length, *, rng, vocab_size=5):
    """Token sequences with one ``1`` and one ``2``; the label is 1 when the ``1`` comes first.

    Parameters
    ----------
    batch_size : int
        ``B``, the number of sequences.
    length : int
        ``T``, the number of steps of every sequence (at least 2, room for both markers).
    rng : numpy.random.Generator
        Source of randomness, e.g. ``np.random.default_rng(0)``.
    vocab_size : int
        ``V``, the number of distinct tokens (at least 3: a distractor ``0`` and the markers;
        at most ``2**63``, as the token ids are int64).

    Returns
    -------
    tokens : numpy.ndarray, shape (T, B)
        Token ids in ``[0, V)``, int64, time-major.
    y : numpy.ndarray, shape (B,)
        1 where the ``1`` comes before the ``2``, else 0 (int64).

    Example
    -------
    >>> tokens, y = order_task(3, 6, rng=np.random.default_rng(0))
    >>> tokens.shape, y.shape
    ((6, 3), (3,))
    """
    B = check_positive_int(batch_size, "batch_size")
    T = check_positive_int(length, "length", minimum=2)
    V = check_positive_int(vocab_size, "vocab_size", minimum=3, maximum=_MAX_VOCAB_SIZE)
    check_rng(rng)
    # Distractor k of the V - 2 is token k below the markers and k + 2 above them: {0, 3, 4, ..., V-1}
    # without listing the V tokens (vocab_size may be huge).
    draws = rng.integers(0, V - 2, size=(T, B))
    tokens = np.where(draws < FIRST, draws, draws + 2)
    # Two distinct positions per sequence: the first goes to marker 1, the second to marker 2.
    positions = np.argsort(rng.random((T, B)), axis=0)[:2]          # (2, B)
    columns = np.arange(B)
    tokens[positions[0], columns] = FIRST
    tokens[positions[1], columns] = SECOND
    y = (positions[0] < positions[1]).astype(np.int64)
    return tokens.astype(np.int64), y


def one_hot(tokens, vocab_size, *, dtype=np.float64):
    """One-hot encode token ids: ``x[t, b, v] = 1`` where ``tokens[t, b] == v``.

    Parameters
    ----------
    tokens : numpy.ndarray, shape (T, B)
        Integer token ids in ``[0, V)``.
    vocab_size : int
        ``V``; ``T * B * V`` at most :data:`MAX_ONE_HOT_SIZE`.
    dtype : numpy.dtype
        Floating dtype of the result, ``numpy.float64`` (default) or ``numpy.float32``.

    Returns
    -------
    numpy.ndarray, shape (T, B, V)
        The one-hot vectors.
    """
    V = check_positive_int(vocab_size, "vocab_size")
    dtype = check_float_dtype(dtype)
    check_index_array(tokens, "tokens", ("T", "B"), high=V)
    T, B = tokens.shape
    _check_one_hot_size(T, B, V, "a one-hot array")
    x = np.zeros((T, B, V), dtype=dtype)            # not np.eye(V)[tokens]: that holds V * V numbers first
    x[np.arange(T)[:, None], np.arange(B), tokens] = 1
    return x


def order_batch(batch_size, length, *, rng, vocab_size=5, dtype=np.float64):
    """:func:`order_task` with one-hot inputs, ready for a network.

    Parameters
    ----------
    batch_size, length, rng, vocab_size
        As in :func:`order_task`; ``T * B * V`` at most :data:`MAX_ONE_HOT_SIZE`.
    dtype : numpy.dtype
        Floating dtype of ``x``, ``numpy.float64`` (default) or ``numpy.float32``.

    Returns
    -------
    x : numpy.ndarray, shape (T, B, V)
        One-hot inputs, time-major.
    y : numpy.ndarray, shape (B,)
        Labels, 1 where the ``1`` comes first.
    """
    check_float_dtype(dtype)                    # before any random number is drawn
    B = check_positive_int(batch_size, "batch_size")    # as order_task checks them, in the same order
    T = check_positive_int(length, "length", minimum=2)
    V = check_positive_int(vocab_size, "vocab_size", minimum=3)
    _check_one_hot_size(T, B, V, "one-hot inputs")      # before any random number is drawn too
    tokens, y = order_task(batch_size, length, rng=rng, vocab_size=vocab_size)
    return one_hot(tokens, vocab_size, dtype=dtype), y


def bag_of_steps(x):
    """The order-free summary of a sequence: the sum of its steps, ``sum_t x_t``.

    For one-hot inputs this is the count of each token. Any permutation of the
    time steps gives the same summary.

    Parameters
    ----------
    x : numpy.ndarray, shape (T, B, D)
        Sequence, time-major.

    Returns
    -------
    numpy.ndarray, shape (B, D)
        The sum over time.
    """
    check_array(x, "x", ("T", "B", "D"), hint="x is time-major (T, B, D)")
    return x.sum(axis=0)


def flatten_steps(x):
    """Concatenate the steps of each sequence into one long vector, as a feedforward network needs.

    Row ``b`` is ``[x_1, x_2, ..., x_T]`` of sequence ``b``; its length ``T * D``
    depends on ``T``, which is why the network can only take one length.

    Parameters
    ----------
    x : numpy.ndarray, shape (T, B, D)
        Sequence, time-major.

    Returns
    -------
    numpy.ndarray, shape (B, T * D)
        One row per sequence.
    """
    check_array(x, "x", ("T", "B", "D"), hint="x is time-major (T, B, D)")
    T, B, D = x.shape
    return x.transpose(1, 0, 2).reshape(B, T * D)   # (B, T, D) -> (B, T*D)
