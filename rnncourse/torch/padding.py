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

from rnncourse.validation import (check_array, check_index_array, check_lengths, check_match, check_not_empty,
                                  check_positive_int, layer_state_hint)

__all__ = ["length_mask", "reverse_padded", "masked_cross_entropy", "packed_rnn_forward"]


def length_mask(lengths: torch.Tensor, T: int) -> torch.Tensor:
    """The mask of real steps, ``mask[t, b] = t < lengths[b]``.

    Parameters
    ----------
    lengths : torch.Tensor of int, shape (B,)
        The length of each sequence, each in 1..T.
    T : int
        The padded length.

    Returns
    -------
    torch.Tensor of bool, shape (T, B)
        On the device of ``lengths``.
    """
    T = check_positive_int(T, "T")
    device = getattr(lengths, "device", None)       # not a tensor: check_lengths says so, as for the other functions
    lengths = check_lengths(lengths, T, backend="torch", device=device)  # on meta: a meta mask, no values read
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
    if not isinstance(x, torch.Tensor):
        raise TypeError(f"x should be a torch.Tensor, but is {type(x).__name__}; convert it with torch.as_tensor(x)")
    if x.ndim < 2:
        raise ValueError(f"x should have shape (T, B) or (T, B, ...), time-major, but has shape {tuple(x.shape)}")
    T, B = x.shape[:2]
    lengths = check_lengths(lengths, T, B, backend="torch", source_ndim=min(x.ndim, 3), device=x.device)
    lengths = lengths.to(x.device)
    t = torch.arange(T, device=x.device)[:, None]
    # src[t, b], the source step of out[t, b]: L_b - 1 - t within sequence b, t itself at padding steps
    src = torch.where(t < lengths[None, :], lengths[None, :] - 1 - t, t)
    return x[src, torch.arange(B, device=x.device)[None, :]]


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
        float64 for float64 logits, float32 otherwise: the losses and the count of real steps are
        summed in at least float32, since float16 counts only up to 65504 (70,000 real steps would
        give a loss of 0 or NaN). Half-precision logits, such as those of a model run under
        :func:`torch.autocast`, thus get a float32 loss, as :func:`torch.nn.functional.cross_entropy`
        gives under autocast.
    """
    check_array(logits, "logits", ("T", "B", "V"), backend="torch")
    T, B, V = logits.shape
    check_index_array(targets, "targets", ("T", "B"), (T, B), high=V, backend="torch")
    check_match("targets", targets, "logits", logits, dtype=False)
    if not isinstance(mask, torch.Tensor):
        raise TypeError(f"mask should be a torch.Tensor, but is {type(mask).__name__}")
    if tuple(mask.shape) != (T, B):
        raise ValueError(f"mask should have shape (T, B) = ({T}, {B}), but has shape {tuple(mask.shape)}")
    check_match("mask", mask, "logits", logits, dtype=False)
    acc = torch.promote_types(logits.dtype, torch.float32)
    m = mask.to(acc)
    if not bool(m.isfinite().all()):
        raise ValueError("mask contains NaN or infinity; check the data or the step that produced it")
    if bool((m < 0).any()):
        raise ValueError("mask should hold bools or 0/1 values (non-negative weights), but has negative values")
    if float(m.sum()) == 0:
        raise ValueError("mask selects no position (it is all False), so the mean loss is undefined")
    # .long(): the check takes any integer dtype, F.cross_entropy only int64 (or uint8) indices
    nll = F.cross_entropy(logits.reshape(T * B, V), targets.reshape(T * B).long(), reduction="none").view(T, B)
    return (nll.to(acc) * m).sum() / m.sum()


def _h0_advice(rnn, h, name, L, T, B):
    """What the shape of a state ``h`` that ``rnn`` refused suggests: a missing layer axis, batch-major x,
    or, for a bidirectional ``rnn``, a state per layer where it takes one per layer and direction."""
    if rnn.bidirectional and getattr(h, "ndim", None) == 3 and h.shape[0] == rnn.num_layers:
        return (f"a bidirectional rnn takes one (B, H) state per layer and direction, {L} in all: stack, layer "
                f"by layer, the forward direction's state and then the reverse direction's on the first axis")
    per = "layer and direction" if rnn.bidirectional else "layer"
    return layer_state_hint(h, name, L, T, B, backend="torch", per=per)


def _check_h0(rnn, h0, T, B):
    """Validate ``h0`` (LSTM: the pair ``(h0, c0)``), each of shape (num_layers * num_directions, B, H);
    ``T`` and ``B`` are the first two axes of x."""
    if h0 is None:
        return
    L = rnn.num_layers * (2 if rnn.bidirectional else 1)
    if isinstance(rnn, nn.LSTM):
        if not (isinstance(h0, tuple) and len(h0) == 2):
            raise TypeError(f"h0 should be a pair (h0, c0) for an LSTM, but is {type(h0).__name__}")
        states = (("h0", h0[0], rnn.proj_size or rnn.hidden_size), ("c0", h0[1], rnn.hidden_size))
    else:
        states = (("h0", h0, rnn.hidden_size),)
    for name, h, H in states:
        hint, advice = "B comes from x, the rest from rnn", _h0_advice(rnn, h, name, L, T, B)
        check_array(h, name, ("num_layers * num_directions", "B", "H"), (L, B, H), backend="torch",
                    hint=f"{hint}; {advice}" if advice else hint)
        check_match(name, h, "rnn", rnn.weight_ih_l0)


def _check_packed_inputs(rnn, x, lengths, h0):
    """Validate the inputs of :func:`packed_rnn_forward`; return ``lengths`` as a checked tensor."""
    if not isinstance(rnn, nn.RNNBase):
        raise TypeError(f"rnn should be a torch.nn.RNN, GRU or LSTM, but is {type(rnn).__name__}")
    if rnn.batch_first:
        raise ValueError(f"rnn should be time-major (batch_first=False), like the book's data, but is {rnn!r}")
    check_array(x, "x", ("T", "B", "D"), (None, None, rnn.input_size), backend="torch",
                hint="x is time-major (T, B, D)")
    check_not_empty(x, "x")
    check_match("x", x, "rnn", rnn.weight_ih_l0)
    lengths = check_lengths(lengths, x.shape[0], x.shape[1], backend="torch")     # packing reads them on the CPU
    _check_h0(rnn, h0, x.shape[0], x.shape[1])
    return lengths


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
    h0 : torch.Tensor, shape (num_layers * num_directions, B, H), optional
        Initial state as ``rnn`` takes it (LSTM: the pair ``(h0, c0)``); zeros by default.

    Returns
    -------
    out : torch.Tensor, shape (T, B, num_directions * H)
        Outputs at the real steps, zero at padding steps.
    h_n : torch.Tensor (LSTM: a pair)
        The state after each sequence's own last step, per layer and direction.
    """
    lengths = _check_packed_inputs(rnn, x, lengths, h0)
    packed = pack_padded_sequence(x, lengths.cpu(), enforce_sorted=False)
    out, h_n = rnn(packed, h0)
    out, _ = pad_packed_sequence(out, total_length=x.shape[0])
    return out, h_n
