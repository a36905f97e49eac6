r"""Character n-gram language models with additive (add-k) smoothing: the baselines a recurrent model must beat.

An n-gram model predicts the next character from the :math:`n - 1` characters before it, by
counting how often each sequence of :math:`n` characters occurs in a training text:

.. math::

    P(c_t \mid c_{t-n+1}, \dots, c_{t-1}) =
    \frac{\operatorname{count}(c_{t-n+1}, \dots, c_{t-1}, c_t) + \alpha}
         {\operatorname{count}(c_{t-n+1}, \dots, c_{t-1}, \cdot) + \alpha V} .

Adding a pseudo-count :math:`\alpha > 0` to every count (*additive* or *add-k smoothing*) gives every
character a nonzero probability in every context, so a held-out text never gets probability zero. ``n = 1`` is the unigram model
(character frequencies, no context), ``n = 2`` the bigram, ``n = 3`` the trigram.

The models are tables: ``log_probs[c_1, ..., c_n]`` is the natural log of the probability of
``c_n`` after ``c_1 ... c_{n-1}``, shape ``(V,) * n``. Losses are in nats per character, like
:func:`rnncourse.numpy.losses.softmax_cross_entropy`; :func:`bits_per_char` and
:func:`perplexity` convert them.
"""

from __future__ import annotations

import numpy as np

from rnncourse.validation import check_index_array, check_positive_float, check_positive_int

__all__ = ["ngram_counts", "ngram_log_probs", "ngram_nll", "bits_per_char", "perplexity"]

_MAX_TABLE = 50_000_000     # entries of a (V,) * n table; V = 100, n = 3 is 1,000,000


def _check_ids(ids, name, V):
    """Check the ids and return them as int64 (uint64 ids would turn the arithmetic on them into float64)."""
    return check_index_array(ids, name, ("N",), high=V).astype(np.int64, copy=False)


def ngram_counts(ids, n, V) -> np.ndarray:
    """Count every run of ``n`` consecutive characters of a text.

    Parameters
    ----------
    ids : numpy.ndarray of int, shape (N,)
        The text as character ids in ``[0, V)``.
    n : int
        Order of the model: 1 (unigram), 2 (bigram), 3 (trigram), ...
    V : int
        Vocabulary size.

    Returns
    -------
    counts : numpy.ndarray of float64, shape (V,) * n
        ``counts[c_1, ..., c_n]`` is the number of positions ``t`` with
        ``ids[t : t + n] == (c_1, ..., c_n)``.

    Examples
    --------
    >>> ngram_counts(np.array([0, 0, 1]), 2, V=2)
    array([[1., 1.],
           [0., 0.]])
    """
    n, V = check_positive_int(n, "n"), check_positive_int(V, "V")
    ids = _check_ids(ids, "ids", V)
    # For V >= 2, V ** n >= 2 ** n, which exceeds the cap once n reaches its bit length: only a small n needs
    # V ** n itself (a huge n would make Python compute an integer of millions of digits).
    if V > 1 and (n >= _MAX_TABLE.bit_length() or V ** n > _MAX_TABLE):
        size = f"{V ** n:,}" if n < _MAX_TABLE.bit_length() else "more"
        raise ValueError(f"n should keep the table of V ** n = {V}**{n} entries below {_MAX_TABLE:,}, "
                         f"but it has {size}; use a smaller n or a smaller vocabulary")
    if len(ids) < n:
        raise ValueError(f"ids should hold at least n = {n} characters, but holds {len(ids)}")
    flat = np.zeros(len(ids) - n + 1, dtype=np.int64)
    for j in range(n):                          # the n-gram starting at t, as one number in base V
        flat = flat * V + ids[j:len(ids) - n + 1 + j]
    return np.bincount(flat, minlength=V ** n).astype(np.float64).reshape((V,) * n)


def _check_table(table, name, maker, what, ok):
    """A table over n-grams: a numpy.ndarray of numbers of shape (V,) * n, as ``maker`` returns.

    ``ok(table)`` marks the valid entries; ``what`` says what they should be (in the message).
    """
    if not isinstance(table, np.ndarray):
        raise TypeError(f"{name} should be a numpy.ndarray from {maker}, but is {type(table).__name__}")
    if table.dtype.kind not in "iuf":
        raise TypeError(f"{name} should hold numbers (integer or float), but has dtype {table.dtype}; "
                        f"pass the table that {maker} returns")
    if table.ndim < 1 or len(set(table.shape)) != 1:
        raise ValueError(f"{name} should be an array of shape (V,) * n from {maker}, but has shape {table.shape}")
    bad = table[~ok(table)]                     # NaN fails every comparison, so it lands here too
    if bad.size:
        raise ValueError(f"{name} should hold {what}, as {maker} returns, but holds {float(bad[0])}")


def ngram_log_probs(counts, alpha=1.0) -> np.ndarray:
    r"""Additively smoothed conditional log-probabilities from n-gram counts.

    ``log_probs[c_1, ..., c_n] = log((counts[c_1, ..., c_n] + alpha) / (sum_c counts[c_1, ..., c_{n-1}, c] + alpha V))``.

    Parameters
    ----------
    counts : numpy.ndarray, shape (V,) * n
        From :func:`ngram_counts`.
    alpha : float
        The pseudo-count added to every entry, ``alpha > 0`` (default 1, Laplace smoothing).

    Returns
    -------
    log_probs : numpy.ndarray of float64, shape (V,) * n
        Natural logs; ``exp(log_probs)`` sums to 1 over the last axis.

    Examples
    --------
    >>> np.exp(ngram_log_probs(np.array([3.0, 1.0]), alpha=1.0))     # unigram: (3 + 1) / 6, (1 + 1) / 6
    array([0.66666667, 0.33333333])
    """
    _check_table(counts, "counts", "ngram_counts", "finite counts >= 0", lambda c: np.isfinite(c) & (c >= 0))
    alpha = check_positive_float(alpha, "alpha")
    smoothed = counts + alpha
    return np.log(smoothed) - np.log(smoothed.sum(axis=-1, keepdims=True))


def ngram_nll(log_probs, ids, start=None) -> np.ndarray:
    """The loss of each character of a text under an n-gram model, in nats.

    Parameters
    ----------
    log_probs : numpy.ndarray, shape (V,) * n
        From :func:`ngram_log_probs`.
    ids : numpy.ndarray of int, shape (N,)
        The text to score, as character ids; at least ``n`` of them.
    start : int, optional
        The first position scored (default ``n - 1``, the first with a full context);
        must be at least ``n - 1``. Scoring every model from the same ``start``
        compares them on the same characters.

    Returns
    -------
    nll : numpy.ndarray of float64, shape (N - start,)
        ``-log P(ids[t] | ids[t - n + 1 : t])`` for ``t = start, ..., N - 1``.

    Examples
    --------
    >>> log_probs = np.log(np.array([[0.9, 0.1], [0.5, 0.5]]))     # a bigram table, V = 2
    >>> ngram_nll(log_probs, np.array([0, 0, 1])).round(4)          # -log 0.9, -log 0.1
    array([0.1054, 2.3026])
    """
    _check_table(log_probs, "log_probs", "ngram_log_probs", "finite log-probabilities <= 0",
                 lambda lp: np.isfinite(lp) & (lp <= 0))
    n, V = log_probs.ndim, log_probs.shape[0]
    ids = _check_ids(ids, "ids", V)
    if len(ids) < n:
        raise ValueError(f"ids should hold at least n = {n} characters (a context of n - 1 = {n - 1} and one "
                         f"character to score), but holds {len(ids)}")
    start = n - 1 if start is None else check_positive_int(start, "start", minimum=0)
    if start < n - 1 or start >= len(ids):
        raise ValueError(f"start should lie in [n - 1, N) = [{n - 1}, {len(ids)}) so that every scored "
                         f"character has its {n - 1} characters of context, but is {start}")
    context = tuple(ids[start - n + 1 + j:len(ids) - n + 1 + j] for j in range(n))
    return -log_probs[context].astype(np.float64)      # float64 also for an integer table


def bits_per_char(nats) -> float:
    """Convert a mean loss in nats per character to bits per character (divide by ln 2).

    Parameters
    ----------
    nats : float
        A mean cross-entropy in nats per character, >= 0.

    Returns
    -------
    float
        The same loss in bits per character.

    Examples
    --------
    >>> bits_per_char(np.log(4.0))
    2.0
    """
    return float(check_positive_float(nats, "nats", allow_zero=True) / np.log(2.0))


def perplexity(nats) -> float:
    """The perplexity of a mean loss in nats per character, ``exp(nats) = 2 ** bits``.

    It reads as "the model is as unsure as a uniform choice among this many characters".

    Parameters
    ----------
    nats : float
        A mean cross-entropy in nats per character, >= 0.

    Returns
    -------
    float
        The perplexity, >= 1.

    Examples
    --------
    >>> perplexity(np.log(4.0))
    4.0
    """
    return float(np.exp(check_positive_float(nats, "nats", allow_zero=True)))
