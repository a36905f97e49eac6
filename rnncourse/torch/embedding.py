"""Embeddings in PyTorch: the twin of :mod:`rnncourse.numpy.embedding`.

``embedding_forward(ids, E)`` is ``E[ids]``, the same lookup as
:class:`torch.nn.Embedding` with ``weight = E``; autograd computes the
scatter-add gradient that :func:`rnncourse.numpy.embedding.embedding_backward`
writes by hand.
"""

from __future__ import annotations

import torch

from rnncourse.validation import check_array, check_index_array, check_match

__all__ = ["embedding_forward"]


def embedding_forward(ids: torch.Tensor, E: torch.Tensor) -> torch.Tensor:
    """Look up the vector of every token id, ``x[..., :] = E[ids[...]]``.

    Parameters
    ----------
    ids : torch.Tensor of int, any shape, e.g. (T, B)
        Token ids in ``[0, V)``, on the device of ``E``.
    E : torch.Tensor, shape (V, D)
        The embedding table (e.g. ``torch.nn.Embedding(V, D).weight``).

    Returns
    -------
    torch.Tensor, shape ids.shape + (D,)

    Example
    -------
    >>> E = torch.arange(6.0).reshape(3, 2)
    >>> embedding_forward(torch.tensor([2, 0]), E)
    tensor([[4., 5.],
            [0., 1.]])
    """
    check_array(E, "E", ("V", "D"), backend="torch", hint="E has one row per token, (V, D)")
    check_index_array(ids, "ids", tuple(f"n{i}" for i in range(getattr(ids, "ndim", 0))), high=E.shape[0],
                      backend="torch")
    check_match("ids", ids, "E", E, dtype=False)
    return E[ids.long()]                    # any integer dtype: a uint8 index would act as a mask
