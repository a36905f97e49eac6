"""Batches of sequences of different lengths in NumPy: padding, masks, reversal, last states.

A batch holds ``B`` sequences of lengths ``L_b``. They are stacked time-major
into one array of ``T = max L_b`` steps; the steps after a sequence's end are
*padding*. A mask says which steps are real:

.. math::

    m_{t,b} = [\\, t < L_b \\,]

A forward (left-to-right) RNN never looks ahead, so its states at the real
steps are the same as when each sequence runs alone; what the padding can
spoil is the loss (mask it), the final state (take ``h`` at step ``L_b - 1``,
not at ``T - 1``: :func:`rnncourse.numpy.many_to_one.last_states`) and a
right-to-left pass (reverse each sequence within its own length, not the whole
padded array).
"""

from __future__ import annotations

import numpy as np

from rnncourse.validation import check_bool, check_index_array, check_lengths, check_positive_int, check_rng

__all__ = ["pad_sequences", "length_mask", "reverse_padded", "batch_indices", "padding_fraction"]


def _check_pad_value(pad_value, dtype):
    """Reject a ``pad_value`` that is no number, or that integer sequences would change (1.5, NaN, 300 in int8)."""
    if not isinstance(pad_value, (int, float, np.integer, np.floating)):
        raise TypeError(f"pad_value should be a number, but is {type(pad_value).__name__} {pad_value!r}")
    if dtype.kind in "iu":
        info = np.iinfo(dtype)
        # Compare exact integers: as a float, 2**63 would pass for the int64 maximum 2**63 - 1.
        is_integer = not isinstance(pad_value, (float, np.floating)) or float(pad_value).is_integer()   # not NaN, inf
        if not (is_integer and info.min <= int(pad_value) <= info.max):
            raise ValueError(f"pad_value should be an integer that {dtype}, the dtype of the sequences, holds "
                             f"exactly ({info.min} to {info.max}), but is {pad_value!r}; pass an integer, or "
                             f"convert the sequences to float")


def pad_sequences(seqs, pad_value=0):
    """Stack sequences of different lengths into one time-major array, padding the ends.

    Parameters
    ----------
    seqs : list of numpy.ndarray, each shape (L_b,) or (L_b, D)
        The sequences: token ids (1-D) or vectors (2-D), all of one dtype.
    pad_value : number
        What fills the steps after each sequence's end (default 0); for integer
        sequences, an integer their dtype holds.

    Returns
    -------
    padded : numpy.ndarray, shape (T, B) or (T, B, D)
        ``padded[t, b]`` is step ``t`` of sequence ``b``, for ``t < L_b``; ``T = max L_b``.
    lengths : numpy.ndarray of int64, shape (B,)
        ``L_b``, the length of each sequence.

    Example
    -------
    >>> padded, lengths = pad_sequences([np.array([5, 6, 7]), np.array([8])])
    >>> padded.T, lengths
    (array([[5, 6, 7],
           [8, 0, 0]]), array([3, 1]))
    """
    if not isinstance(seqs, (list, tuple)):
        raise TypeError(f"seqs should be a list of numpy arrays, but is {type(seqs).__name__}")
    if not seqs:
        raise ValueError("seqs should hold at least one sequence, but is empty")
    for i, s in enumerate(seqs):
        if not isinstance(s, np.ndarray):
            raise TypeError(f"seqs[{i}] should be a numpy.ndarray, but is {type(s).__name__}")
        if s.dtype != seqs[0].dtype:
            raise TypeError(f"every sequence should have the dtype of seqs[0], {seqs[0].dtype}, but seqs[{i}] "
                            f"has {s.dtype}")
        if s.ndim != seqs[0].ndim or s.shape[1:] != seqs[0].shape[1:]:
            raise ValueError(f"every sequence should have the feature shape of seqs[0], {seqs[0].shape[1:]}, but "
                             f"seqs[{i}] has shape {s.shape}")
        if s.ndim not in (1, 2) or len(s) == 0:
            raise ValueError(f"seqs[{i}] should have shape (L,) or (L, D) with L >= 1, but has shape {s.shape}")
    _check_pad_value(pad_value, seqs[0].dtype)
    lengths = np.array([len(s) for s in seqs], dtype=np.int64)
    padded = np.full((lengths.max(), len(seqs)) + seqs[0].shape[1:], pad_value, dtype=seqs[0].dtype)
    for b, s in enumerate(seqs):
        padded[:len(s), b] = s
    return padded, lengths


def length_mask(lengths, T):
    """The mask of real steps, ``mask[t, b] = t < lengths[b]``.

    Parameters
    ----------
    lengths : numpy.ndarray of int, shape (B,)
        Sequence lengths, each in ``[1, T]``.
    T : int
        Number of (padded) time steps.

    Returns
    -------
    numpy.ndarray of bool, shape (T, B)

    Example
    -------
    >>> length_mask(np.array([3, 1]), 3).astype(int)
    array([[1, 1],
           [1, 0],
           [1, 0]])
    """
    T = check_positive_int(T, "T")
    lengths = check_lengths(lengths, T).astype(np.int64, copy=False)
    return np.arange(T)[:, None] < lengths[None, :]


def reverse_padded(x, lengths):
    """Reverse every sequence within its own length; padding stays at the end.

    ``out[t, b] = x[L_b - 1 - t, b]`` for ``t < L_b`` and ``x[t, b]`` otherwise.
    Reversing twice gives ``x`` back. ``x[::-1]`` would be wrong for every
    sequence shorter than ``T``: its padding would come first.

    Parameters
    ----------
    x : numpy.ndarray, shape (T, B) or (T, B, ...)
        Padded, time-major sequences (ids, vectors or states).
    lengths : numpy.ndarray of int, shape (B,)
        Sequence lengths, each in ``[1, T]``.

    Returns
    -------
    numpy.ndarray, same shape as ``x``

    Example
    -------
    >>> reverse_padded(np.array([[1, 4], [2, 0], [3, 0]]), np.array([3, 1])).T
    array([[3, 2, 1],
           [4, 0, 0]])
    """
    if not isinstance(x, np.ndarray):
        raise TypeError(f"x should be a numpy.ndarray, but is {type(x).__name__}")
    if x.ndim < 2:
        raise ValueError(f"x should have shape (T, B) or (T, B, ...), but has shape {x.shape}")
    T, B = x.shape[:2]
    lengths = check_lengths(lengths, T, B, source_ndim=min(x.ndim, 3)).astype(np.int64, copy=False)
    t = np.arange(T)[:, None]
    # src[t, b], the source step of out[t, b]: L_b - 1 - t within sequence b, t itself at padding steps
    src = np.where(t < lengths[None, :], lengths[None, :] - 1 - t, t)
    return x[src, np.arange(B)[None, :]]


def batch_indices(lengths, B, *, rng, by_length=False):
    """Split a data set into batches of ``B`` examples, at random or grouped by length.

    With ``by_length=True`` (bucketing) the examples are sorted by length (ties in
    random order) before they are cut into batches, so each batch holds sequences of
    nearly one length and little padding; the order of the batches is still random.

    Parameters
    ----------
    lengths : numpy.ndarray of int, shape (N,)
        Length of every example.
    B : int
        Batch size (the last batch may be smaller).
    rng : numpy.random.Generator
        Source of the shuffling.
    by_length : bool
        Group examples of similar length (default ``False``: random batches).

    Returns
    -------
    list of numpy.ndarray of int64
        The example indices of each batch.

    Example
    -------
    >>> batches = batch_indices(np.array([5, 1, 5, 1]), 2, rng=np.random.default_rng(0), by_length=True)
    >>> sorted(sorted(np.array([5, 1, 5, 1])[b].tolist()) for b in batches)
    [[1, 1], [5, 5]]
    """
    check_index_array(lengths, "lengths", ("N",))
    B = check_positive_int(B, "B")
    check_rng(rng)
    by_length = check_bool(by_length, "by_length")
    order = rng.permutation(len(lengths))
    if by_length:
        order = order[np.argsort(lengths[order], kind="stable")]
    cuts = [order[i:i + B] for i in range(0, len(order), B)]
    return [cuts[i] for i in rng.permutation(len(cuts))]


def padding_fraction(lengths, batches):
    """The share of padded steps, ``1 - sum(L) / sum_batches(B_k * max L in batch k)``.

    Parameters
    ----------
    lengths : numpy.ndarray of int, shape (N,)
    batches : list of numpy.ndarray of int
        Example indices per batch, e.g. from :func:`batch_indices`.

    Returns
    -------
    float
        In ``[0, 1)``: 0 means no step is wasted on padding.
    """
    check_index_array(lengths, "lengths", ("N",))
    if lengths.size and lengths.min() < 1:
        raise ValueError(f"lengths should all be >= 1 (every sequence has at least one step), but the smallest is "
                         f"{lengths.min()}; drop empty sequences")
    if not isinstance(batches, (list, tuple)):
        raise TypeError(f"batches should be a list of index arrays, but is {type(batches).__name__}")
    if not batches:
        raise ValueError("batches should hold at least one batch, but is empty")
    for k, b in enumerate(batches):
        check_index_array(b, f"batches[{k}]", ("n",), high=len(lengths))
        if len(b) == 0:
            raise ValueError(f"batches[{k}] should hold at least one index, but is empty")
    padded = sum(len(b) * int(lengths[b].max()) for b in batches)
    return 1.0 - sum(int(lengths[b].sum()) for b in batches) / padded
