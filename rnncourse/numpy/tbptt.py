"""Truncated backpropagation through time (TBPTT) in NumPy.

Full BPTT carries the gradient from the last step back to the first. Truncated
BPTT cuts the sequence into chunks of ``k`` steps, ``[0, k), [k, 2k), ...`` (the
last one may be shorter), and lets the gradient flow back only *within* a chunk
:cite:`williams1989learning`. The forward pass is unchanged: each chunk starts from
the last state of the previous chunk, so the hidden states are exactly those of
the full forward pass. What changes is the backward pass:

- no gradient flows from chunk ``j + 1`` into the states of chunk ``j``
  (as if the state were detached at each chunk boundary, ``h.detach()`` in PyTorch);
- so ``dL/dh0`` gets contributions only from the first chunk, and ``dW_hh``,
  ``dW_xh``, ``db_h`` miss every term that crosses a boundary (dependencies longer
  than ``k`` steps are not learned from);
- with ``k >= T`` there is one chunk and the result equals :func:`~rnncourse.numpy.elman.rnn_backward`.
"""

from __future__ import annotations

import numpy as np

from rnncourse.numpy.elman import RNNCache, rnn_backward
from rnncourse.validation import check_array, check_positive_int

__all__ = ["tbptt_chunks", "truncated_rnn_backward", "iterate_tbptt"]


def tbptt_chunks(T, k):
    """The chunks ``[(0, k), (k, 2k), ..., (.., T)]`` of truncated BPTT.

    Parameters
    ----------
    T : int
        Number of time steps.
    k : int
        Chunk length (truncation horizon).

    Returns
    -------
    list of tuple
        ``(start, stop)`` pairs; ``x[start:stop]`` is one chunk. The last chunk
        is shorter when ``k`` does not divide ``T``.

    Example
    -------
    >>> tbptt_chunks(7, 3)
    [(0, 3), (3, 6), (6, 7)]
    """
    T = check_positive_int(T, "T")
    k = check_positive_int(k, "k")
    return [(start, min(start + k, T)) for start in range(0, T, k)]


def _chunk_cache(cache, start, stop):
    """The forward cache of steps ``start:stop``, starting from the state before ``start``."""
    x, h0, W_xh, W_hh, hs, nonlinearity = cache
    h_start = h0 if start == 0 else hs[start - 1]
    return RNNCache(x[start:stop], h_start, W_xh, W_hh, hs[start:stop], nonlinearity)


def truncated_rnn_backward(dhs, cache, k):
    """BPTT with the backward recursion cut every ``k`` steps.

    Runs :func:`~rnncourse.numpy.elman.rnn_backward` on each chunk of :func:`tbptt_chunks` with no
    gradient entering from the next chunk, and sums the parameter gradients.

    Parameters
    ----------
    dhs : numpy.ndarray, shape (T, B, H)
        Gradient of the loss with respect to each ``h_t``, directly from the loss.
    cache : RNNCache
        From :func:`~rnncourse.numpy.elman.rnn_forward` over the whole sequence.
    k : int
        Chunk length; ``k >= T`` gives full BPTT.

    Returns
    -------
    dict
        ``"x"`` (T, B, D), ``"h0"`` (B, H) (from the first chunk only),
        ``"W_xh"`` (H, D), ``"W_hh"`` (H, H), ``"b_h"`` (H,).

    Example
    -------
    >>> hs, cache = rnn_forward(x, None, W_xh, W_hh, b_h)       # doctest: +SKIP
    >>> grads = truncated_rnn_backward(dhs, cache, k=10)        # doctest: +SKIP
    """
    check_array(dhs, "dhs", ("T", "B", "H"), cache.hs.shape, hint="dhs has the shape of the hidden states hs")
    chunks = tbptt_chunks(cache.hs.shape[0], k)
    grads = {"x": np.empty_like(cache.x)}
    for start, stop in reversed(chunks):
        g = rnn_backward(dhs[start:stop], _chunk_cache(cache, start, stop))
        grads["x"][start:stop] = g["x"]
        for name in ("W_xh", "W_hh", "b_h"):
            grads[name] = grads[name] + g[name] if name in grads else g[name]
    grads["h0"] = g["h0"]                            # the first chunk was processed last
    return grads


def iterate_tbptt(x, k, targets=None):
    """Yield the chunks of a sequence for truncated-BPTT training.

    The caller runs the forward pass on each chunk starting from the last state
    of the previous one, ``h0 = hs[-1]``; a NumPy array carries no graph, so the
    state is "detached" by construction and the backward pass of a chunk stops
    at its start::

        h = None
        for x_c, y_c in iterate_tbptt(x, k, targets):
            loss, grads, hs = model_loss(params, x_c, y_c, h0=h)
            h = hs[-1]
            optimizer.step(params, grads)

    Parameters
    ----------
    x : numpy.ndarray, shape (T, B, D)
        Input sequence, time-major.
    k : int
        Chunk length.
    targets : numpy.ndarray, optional
        Anything with time as its first axis (T, ...), cut like ``x``.

    Returns
    -------
    generator
        Yields ``(x[start:stop], targets[start:stop])`` for each chunk of
        :func:`tbptt_chunks`; the second item is ``None`` when no targets are given.
    """
    check_array(x, "x", ("T", "B", "D"), hint="x is time-major (T, B, D)")
    T = x.shape[0]
    if targets is not None and (not hasattr(targets, "shape") or targets.shape[:1] != (T,)):
        raise ValueError(f"targets should have T = {T} steps on its first axis (time-major), "
                         f"but has shape {getattr(targets, 'shape', type(targets).__name__)}")
    chunks = tbptt_chunks(T, k)      # validated now, not at the first iteration
    return ((x[start:stop], None if targets is None else targets[start:stop]) for start, stop in chunks)
