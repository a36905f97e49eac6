"""Batches of sequences of different lengths in PyTorch: the twin of :mod:`rnncourse.numpy.padding`.

Two ways to run a :class:`torch.nn.RNN` over a padded batch:

- **masks**: run over all ``T`` steps, then ignore what the padding produced:
  :func:`masked_cross_entropy` for the loss,
  :func:`rnncourse.torch.topologies.last_states` for the final state. Simple, but the padding steps are computed anyway (and a right-to-left
  direction would read the padding first).
- **packing**: :func:`packed_rnn_forward` hands
  :func:`torch.nn.utils.rnn.pack_padded_sequence` to the RNN, which then runs
  each step only for the sequences still going, starts each reverse direction at
  the sequence's own end, and returns the true final states.

Both equal running each sequence alone.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn
from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence

from rnncourse.validation import check_array, check_index_array, check_positive_int

__all__ = ["length_mask", "reverse_padded", "masked_cross_entropy", "packed_rnn_forward"]


def _check_lengths(lengths, T, B=None):
    check_index_array(lengths, "lengths", ("B",), None if B is None else (B,), high=T + 1, backend="torch")
    if lengths.numel() and int(lengths.min()) < 1:
        raise ValueError(f"lengths should be at least 1 (every sequence has a step), but the smallest is "
                         f"{int(lengths.min())}; drop empty sequences from the batch")
    return lengths


def length_mask(lengths: torch.Tensor, T: int) -> torch.Tensor:
    """The mask of real steps, ``mask[t, b] = t < lengths[b]``, shape (T, B), bool, on the device of ``lengths``."""
    T = check_positive_int(T, "T")
    lengths = _check_lengths(lengths, T)
    return torch.arange(T, device=lengths.device)[:, None] < lengths[None, :]


def reverse_padded(x: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
    """Reverse every sequence of a padded, time-major batch within its own length (padding stays last).

    Parameters
    ----------
    x : torch.Tensor, shape (T, B) or (T, B, ...)
    lengths : torch.Tensor of int, shape (B,)

    Returns
    -------
    torch.Tensor, same shape as ``x``
    """
    T, B = x.shape[:2]
    lengths = _check_lengths(lengths, T, B).to(x.device)
    t = torch.arange(T, device=x.device)[:, None]
    index = torch.where(t < lengths[None, :], lengths[None, :] - 1 - t, t)             # (T, B)
    return x[index, torch.arange(B, device=x.device)[None, :]]


def masked_cross_entropy(logits: torch.Tensor, targets: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """Mean cross-entropy over the real steps only; the twin of ``softmax_cross_entropy(..., mask=mask)``.

    .. math::

        L = \\frac{1}{\\sum m_{t,b}} \\sum_{t,b} m_{t,b} \\left(-\\log \\operatorname{softmax}(z_{t,b})_{y_{t,b}}\\right)

    Parameters
    ----------
    logits : torch.Tensor, shape (T, B, V)
    targets : torch.Tensor of int, shape (T, B)
        Class indices; at padding steps any valid index (they are ignored).
    mask : torch.Tensor of bool, shape (T, B)
        ``True`` at real steps, e.g. :func:`length_mask`.

    Returns
    -------
    torch.Tensor, shape ()
    """
    check_array(logits, "logits", ("T", "B", "V"), backend="torch")
    T, B, V = logits.shape
    check_index_array(targets, "targets", ("T", "B"), (T, B), high=V, backend="torch")
    if not isinstance(mask, torch.Tensor):
        raise TypeError(f"mask should be a torch.Tensor, but is {type(mask).__name__}")
    if tuple(mask.shape) != (T, B):
        raise ValueError(f"mask should have shape (T, B) = ({T}, {B}), but has shape {tuple(mask.shape)}")
    m = mask.to(logits.dtype)
    if float(m.sum()) == 0:
        raise ValueError("mask selects no position (it is all False), so the mean loss is undefined")
    nll = F.cross_entropy(logits.reshape(T * B, V), targets.reshape(T * B), reduction="none").view(T, B)
    return (nll * m).sum() / m.sum()


def packed_rnn_forward(rnn: nn.RNNBase, x: torch.Tensor, lengths: torch.Tensor, h0=None):
    """Run a time-major ``torch.nn`` recurrent module on a padded batch through packing.

    Parameters
    ----------
    rnn : torch.nn.RNN, torch.nn.GRU or torch.nn.LSTM
        With ``batch_first=False``.
    x : torch.Tensor, shape (T, B, D)
        Padded inputs.
    lengths : torch.Tensor of int, shape (B,)
        Sequence lengths (any order: the batch is sorted and unsorted inside).
    h0 : torch.Tensor, optional
        Initial state(s) as ``rnn`` takes them.

    Returns
    -------
    out : torch.Tensor, shape (T, B, num_directions * H)
        Outputs at the real steps, zero at padding steps.
    h_n : torch.Tensor (LSTM: a pair)
        The state after each sequence's own last step, per layer and direction.
    """
    if not isinstance(rnn, nn.RNNBase) or rnn.batch_first:
        raise TypeError(f"rnn should be a time-major torch.nn.RNN, GRU or LSTM, but is {rnn!r}")
    check_array(x, "x", ("T", "B", "D"), backend="torch", hint="x is time-major (T, B, D)")
    lengths = _check_lengths(lengths, x.shape[0], x.shape[1])
    packed = pack_padded_sequence(x, lengths.cpu(), enforce_sorted=False)
    out, h_n = rnn(packed, h0)
    out, _ = pad_packed_sequence(out, total_length=x.shape[0])
    return out, h_n
