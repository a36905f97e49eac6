"""Truncated backpropagation through time (TBPTT) in NumPy.

Full BPTT carries the gradient from the last step back to the first. Truncated
BPTT cuts the sequence into chunks of ``k`` steps, ``[0, k), [k, 2k), ...`` (the
last one may be shorter), and lets the gradient flow back only *within* a chunk
:cite:`williams1990efficient`. The forward pass is unchanged: each chunk starts from
the last state of the previous chunk, so the hidden states are exactly those of
the full forward pass. What changes is the backward pass:

- no gradient flows from chunk ``j + 1`` into the states of chunk ``j``
  (as if the state were detached at each chunk boundary, ``h.detach()`` in PyTorch);
- so ``dL/dh0`` gets contributions only from the first chunk, and ``dW_hh``,
  ``dW_xh``, ``db_h`` miss every term that crosses a boundary (dependencies longer
  than ``k`` steps are not learned from);
- with ``k >= T`` there is one chunk: full BPTT.

In NumPy the state is "detached" by construction, since an array carries no graph:
run the forward and backward pass of each chunk of :func:`tbptt_chunks` from the
last state of the previous one::

    h = None
    for start, stop in tbptt_chunks(T, k):
        loss, grads, hs = model_loss(params, x[start:stop], targets[start:stop], h0=h)
        h = hs[-1]
        optimizer.step(params, grads)
"""

from __future__ import annotations

from rnncourse.validation import check_positive_int

__all__ = ["tbptt_chunks"]


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
