"""Embeddings in NumPy: a table lookup, and its gradient, a scatter-add.

An embedding turns token ids into vectors. Row ``i`` of the table ``E`` (V, D)
is the vector of token ``i``, so looking up id ``i`` is the same as multiplying
the one-hot row vector of ``i`` by ``E``:

.. math::

    x_{t,b} = \\mathrm{onehot}(i_{t,b})\\, E = E[i_{t,b}]

The lookup costs ``D`` copies instead of a ``V x D`` product. Its gradient
adds each position's output gradient into the row of the token read there
(a token read twice gets both), which is :func:`numpy.add.at`. The table is
stored like :class:`torch.nn.Embedding`'s ``weight``.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from rnncourse.validation import check_array, check_cache, check_index_array, check_same_dtype

__all__ = ["EmbeddingCache", "embedding_forward", "embedding_backward"]


class EmbeddingCache(NamedTuple):
    """What :func:`embedding_backward` needs: the ids that were read and the table.

    Attributes
    ----------
    ids : numpy.ndarray of int, shape (T, B) or any shape
        The token ids that were looked up.
    E : numpy.ndarray, shape (V, D)
        The table itself (not a copy), for its shape and dtype; the gradient
        does not depend on its values.
    """

    ids: np.ndarray
    E: np.ndarray


def embedding_forward(ids, E):
    """Look up the vector of every token id, ``x[..., :] = E[ids[...]]``.

    Parameters
    ----------
    ids : numpy.ndarray of int, any shape, e.g. (T, B)
        Token ids in ``[0, V)``.
    E : numpy.ndarray, shape (V, D)
        The embedding table, one row per token.

    Returns
    -------
    x : numpy.ndarray, shape ids.shape + (D,), e.g. (T, B, D)
        The vectors, a new array (writing to it does not change ``E``).
    cache : EmbeddingCache
        What :func:`embedding_backward` needs.

    Example
    -------
    >>> E = np.arange(6.0).reshape(3, 2)
    >>> x, cache = embedding_forward(np.array([[2, 0]]), E)
    >>> x
    array([[[4., 5.],
            [0., 1.]]])
    """
    check_array(E, "E", ("V", "D"), hint="E has one row per token, like torch.nn.Embedding's weight (V, D)")
    symbols = tuple(f"n{i}" for i in range(getattr(ids, "ndim", 0)))
    check_index_array(ids, "ids", symbols, high=E.shape[0])
    return E[ids], EmbeddingCache(ids, E)


def embedding_backward(dx, cache):
    """Gradient of :func:`embedding_forward` with respect to the table.

    .. math::

        dE_v = \\sum_{(t, b):\\ i_{t,b} = v} dx_{t,b}

    Rows of tokens that were not read get zero. The sum is a scatter-add:
    ``np.add.at(dE, ids, dx)`` adds every position's row, also when an id
    repeats (``dE[ids] += dx`` would keep only one of the repeats).

    Parameters
    ----------
    dx : numpy.ndarray, shape ids.shape + (D,), the dtype of ``E``
        Gradient of the loss with respect to the looked-up vectors.
    cache : EmbeddingCache
        From :func:`embedding_forward`.

    Returns
    -------
    dict
        ``"E"`` (V, D), the dtype of ``E``. (Ids are integers: they have no gradient.)
    """
    ids, E = check_cache(cache, EmbeddingCache, "embedding_forward")        # two values, like (x, cache)
    V, D = E.shape
    check_array(dx, "dx", tuple(f"n{i}" for i in range(ids.ndim)) + ("D",), ids.shape + (D,),
                hint="dx has the shape of the looked-up vectors x, ids.shape + (D,)")
    check_same_dtype(dx=dx, E=E)
    dE = np.zeros((V, D), dtype=E.dtype)
    np.add.at(dE, ids.reshape(-1), dx.reshape(-1, D))
    return {"E": dE}
