"""Elman's temporal XOR: a stream of random bit pairs, each followed by its XOR.

Elman (1990) turned the XOR problem into a problem in time. A stream of bits is
built from triplets ``(a, b, a XOR b)`` with ``a`` and ``b`` random; the network
reads one bit per time step and predicts the next one. The first two bits of a
triplet are coin flips, so no network can predict them better than chance; the
third is the XOR of the two bits just read, so it is predictable for a network
that remembers the previous input and knows where a triplet starts.

Arrays are time-major, as everywhere in :mod:`rnncourse`: the inputs ``x`` have
shape ``(T, B, 1)``. Step ``t`` reads bit ``s_t`` and its target is the next bit
``s_{t+1}``; the ``position`` of a :class:`TemporalXOR` says which bit of its triplet that
target is (0 and 1: random, 2: the XOR bit).

A second XOR-in-time task, :func:`running_parity`, asks for the XOR of *all*
bits read so far. There the answer at step ``t`` is the XOR of the current bit
and the previous answer: the output sequence itself carries all the state a
network needs, which is the case where a Jordan network shines (chapter 7).
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from rnncourse.validation import (check_array, check_float_dtype, check_positive_float, check_positive_int,
                                  check_rng)

__all__ = ["TemporalXOR", "temporal_xor", "xor_stream", "running_parity", "cut_chunks"]


class TemporalXOR(NamedTuple):
    """A temporal-XOR prediction stream.

    Attributes
    ----------
    x : numpy.ndarray, shape (T, B, 1)
        The bit read at each step, 0.0 or 1.0.
    y : numpy.ndarray, shape (T, B, 1)
        The bit to predict: the next bit of the stream, ``y[t] = x[t + 1]``.
    position : numpy.ndarray, shape (T,)
        Position of the target ``y[t]`` in its triplet, ``(t + 1) % 3``:
        0 and 1 for the two random bits, 2 for the XOR bit (the predictable one).
    """

    x: np.ndarray
    y: np.ndarray
    position: np.ndarray


def xor_stream(n_triplets, *, rng, batch_size=1):
    """Bits of ``n_triplets`` triplets ``(a, b, a XOR b)`` per stream, concatenated.

    Parameters
    ----------
    n_triplets : int
        Number of triplets in each stream.
    rng : numpy.random.Generator
        Source of the random bits ``a`` and ``b``.
    batch_size : int
        B, the number of independent streams (default 1).

    Returns
    -------
    numpy.ndarray, shape (3 * n_triplets, B)
        The bits as integers 0 and 1, time-major.

    Example
    -------
    >>> s = xor_stream(4, rng=np.random.default_rng(0))[:, 0]
    >>> bool(np.all(s[2::3] == s[0::3] ^ s[1::3]))
    True
    """
    n = check_positive_int(n_triplets, "n_triplets")
    B = check_positive_int(batch_size, "batch_size")
    check_rng(rng)
    ab = rng.integers(0, 2, size=(n, 2, B))                  # (triplet, which bit, stream)
    triplets = np.concatenate([ab, ab[:, :1] ^ ab[:, 1:]], axis=1)  # (n, 3, B)
    return triplets.reshape(3 * n, B)


def temporal_xor(n_bits=3000, *, rng, batch_size=1, dtype=np.float64):
    """The next-bit prediction task on a temporal-XOR stream (Elman, 1990).

    The paper's training stream had 3000 bits (1000 triplets). Here ``T =
    n_bits`` steps are returned; the stream is one bit longer than that, so
    that the last step has a target too.

    Parameters
    ----------
    n_bits : int
        T, the number of steps; a multiple of 3 (default 3000), so that every
        stream starts and ends on a triplet boundary.
    rng : numpy.random.Generator
        Source of the random bits.
    batch_size : int
        B, the number of independent streams (default 1).
    dtype : numpy.dtype
        Dtype of ``x`` and ``y``, ``numpy.float64`` (default) or ``numpy.float32``.

    Returns
    -------
    TemporalXOR
        ``x`` (T, B, 1), ``y`` (T, B, 1) and ``position`` (T,).

    Example
    -------
    >>> data = temporal_xor(9, rng=np.random.default_rng(0))
    >>> data.x.shape, data.position.tolist()
    ((9, 1, 1), [1, 2, 0, 1, 2, 0, 1, 2, 0])
    """
    T = check_positive_int(n_bits, "n_bits", minimum=3)
    if T % 3:
        raise ValueError(f"n_bits should be a multiple of 3 (whole triplets), but is {T}; "
                         f"use {3 * (T // 3)} or {3 * (T // 3 + 1)}")
    dtype = check_float_dtype(dtype)
    s = xor_stream(T // 3 + 1, rng=rng, batch_size=batch_size).astype(dtype)  # (T + 3, B)
    position = (np.arange(T) + 1) % 3
    # y is x shifted by one step; copy it, so that editing x in place leaves the targets alone
    return TemporalXOR(s[:T, :, None], s[1:T + 1, :, None].copy(), position)


def running_parity(T, batch_size=1, *, rng, noise=0.0, dtype=np.float64):
    r"""Random bits and, at every step, the parity (XOR) of all bits so far.

    .. math::

        y_t = b_1 \oplus b_2 \oplus \dots \oplus b_t = y_{t-1} \oplus b_t,\qquad x_t = b_t + \sigma\,\varepsilon_t

    With ``noise`` > 0 the network reads each bit through Gaussian noise of
    standard deviation ``noise`` (``sigma``), while the targets are the parities
    of the clean bits.

    Parameters
    ----------
    T : int
        Number of steps.
    batch_size : int
        B, the number of sequences (default 1).
    rng : numpy.random.Generator
        Source of the bits and of the noise.
    noise : float
        Standard deviation of the noise added to the inputs (default 0).
    dtype : numpy.dtype
        Dtype of ``x`` and ``y``, ``numpy.float64`` (default) or ``numpy.float32``.

    Returns
    -------
    x : numpy.ndarray, shape (T, B, 1)
        The bits read, 0.0 or 1.0 plus noise.
    y : numpy.ndarray, shape (T, B, 1)
        The running parity, 0.0 or 1.0.

    Example
    -------
    >>> x, y = running_parity(5, rng=np.random.default_rng(0))
    >>> bool(np.all(y[1:] == np.logical_xor(y[:-1], x[1:])))
    True
    """
    T = check_positive_int(T, "T")
    B = check_positive_int(batch_size, "batch_size")
    check_rng(rng)
    noise = check_positive_float(noise, "noise", allow_zero=True)       # a standard deviation
    dtype = check_float_dtype(dtype)
    b = rng.integers(0, 2, size=(T, B, 1))
    x = b + noise * rng.normal(size=b.shape) if noise else b
    return x.astype(dtype), (np.cumsum(b, axis=0) % 2).astype(dtype)


def cut_chunks(x, length):
    """Cut a long time-major sequence into a batch of consecutive chunks of ``length`` steps.

    For truncated backpropagation through time on one long stream: chunk ``i``
    holds steps ``i * length`` to ``(i + 1) * length - 1`` of every stream.
    Steps left over at the end (fewer than ``length``) are dropped.

    Parameters
    ----------
    x : numpy.ndarray, shape (T, B, D)
        The sequence, time-major.
    length : int
        L, the number of steps per chunk.

    Returns
    -------
    numpy.ndarray, shape (L, B * (T // L), D)
        The chunks side by side on the batch axis, stream by stream: column
        ``b * (T // L) + i`` is chunk ``i`` of stream ``b``. A new array: changing it leaves ``x``
        as it was.

    Example
    -------
    >>> cut_chunks(np.arange(6.0).reshape(6, 1, 1), 3)[:, :, 0].T.tolist()
    [[0.0, 1.0, 2.0], [3.0, 4.0, 5.0]]
    """
    check_array(x, "x", ("T", "B", "D"), hint="x is time-major; a single stream of shape (T,) is x[:, None, None]")
    L = check_positive_int(length, "length")
    T, B, D = x.shape
    n = T // L
    if n == 0:
        raise ValueError(f"length should be at most the number of steps T = {T}, but is {L}")
    # (n*L, B, D) -> (n, L, B, D) -> (L, B, n, D), copied (else a view of x when B = 1) -> (L, B*n, D)
    return x[:n * L].reshape(n, L, B, D).transpose(1, 2, 0, 3).copy().reshape(L, B * n, D)
