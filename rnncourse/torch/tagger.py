"""A per-step sequence tagger in PyTorch: embedding, (bidirectional, stacked) RNN, read-out.

One label per input step, for sequences of different lengths: the model of the
code-tagging task of :mod:`rnncourse.data.code_tags`. Batches are padded
(:func:`rnncourse.numpy.padding.pad_sequences`), run through the RNN packed
(:func:`rnncourse.torch.padding.packed_rnn_forward`), and the loss counts the
real steps only (:func:`rnncourse.torch.padding.masked_cross_entropy`).
"""

from __future__ import annotations

import numpy as np
import torch
from torch import nn

from rnncourse.numpy.padding import batch_indices, pad_sequences
from rnncourse.torch.clip import clip_grad_norm
from rnncourse.torch.device import check_device
from rnncourse.torch.init import MAX_LAYERS, check_dtype, torch_default_
from rnncourse.torch.padding import length_mask, masked_cross_entropy, packed_rnn_forward
from rnncourse.torch.training import MAX_SEED, check_finite_update
from rnncourse.validation import (check_bool, check_index_array, check_lengths, check_match, check_not_empty,
                                  check_positive_float, check_positive_int)

__all__ = ["Tagger", "fit_tagger", "predict_tags"]


class Tagger(nn.Module):
    """Scores of ``n_tags`` labels at every step of padded id sequences.

    Parameters
    ----------
    V : int
        Vocabulary size (id 0 is padding).
    D : int
        Embedding size.
    H : int
        Hidden size of each direction.
    n_tags : int
        Number of labels.
    bidirectional : bool
        Read the sequence in both directions (default ``False``).
    num_layers : int
        Stacked RNN layers, from 1 to :data:`~rnncourse.torch.init.MAX_LAYERS` (default 1).
    dropout : float
        Dropout between stacked layers (default 0).
    device : torch.device or str, optional
        Where the parameters live (default: the CPU). They are drawn on the CPU and then
        moved, so one seed gives the same weights on every device.
    dtype : torch.dtype, optional
        Parameter dtype (default: ``torch.get_default_dtype()``).
    generator : torch.Generator, optional
        Source of the initial weights, a CPU generator, drawn as ``torch.nn``'s layers draw them
        (:func:`rnncourse.torch.init.torch_default_`): ``torch.Generator().manual_seed(s)`` gives the
        weights of a model built right after ``torch.manual_seed(s)``. ``None``: PyTorch's global generator.
    """

    def __init__(self, V, D, H, n_tags, *, bidirectional=False, num_layers=1, dropout=0.0, device=None, dtype=None,
                 generator=None):
        super().__init__()
        V, D, H, n_tags = (check_positive_int(v, n) for v, n in ((V, "V"), (D, "D"), (H, "H"), (n_tags, "n_tags")))
        bidirectional = check_bool(bidirectional, "bidirectional")
        # As in CharLM: with a generator of its own, the global one is left as it was.
        with torch.random.fork_rng(devices=[], enabled=generator is not None):   # CPU only, as in CharLM
            self.embed = nn.Embedding(V, D, padding_idx=0)
            self.rnn = nn.RNN(D, H, num_layers=check_positive_int(num_layers, "num_layers", maximum=MAX_LAYERS),
                              bidirectional=bidirectional,
                              dropout=check_positive_float(dropout, "dropout", allow_zero=True))
            self.out = nn.Linear(H * (2 if bidirectional else 1), n_tags)
        if generator is not None:
            torch_default_((self.embed, self.rnn, self.out), generator)
        self.to(device=check_device(device), dtype=check_dtype(dtype))

    def forward(self, ids, lengths, packed=True):
        """Tag scores at every step.

        Parameters
        ----------
        ids : torch.Tensor of int64, shape (T, B)
            Padded ids, time-major.
        lengths : torch.Tensor of int64, shape (B,)
            Sequence lengths.
        packed : bool
            Run the RNN on a packed batch (default). ``False`` runs it over the padding
            too: right for a forward RNN at the real steps, wrong for a reverse direction.

        Returns
        -------
        torch.Tensor, shape (T, B, n_tags)
        """
        check_index_array(ids, "ids", ("T", "B"), high=self.embed.num_embeddings, backend="torch")
        check_not_empty(ids, "ids")
        check_match("ids", ids, "the model", self.embed.weight, dtype=False)
        packed = check_bool(packed, "packed")
        # Packing reads the lengths on the CPU; unpacked, they are not read, so meta ones may go with meta ids.
        check_lengths(lengths, ids.shape[0], ids.shape[1], backend="torch", source="ids", source_ndim=2,
                      device=None if packed else ids.device)
        x = self.embed(ids.long())
        hs = packed_rnn_forward(self.rnn, x, lengths)[0] if packed else self.rnn(x)[0]
        return self.out(hs)


def _batch(ids, tags, index, device):
    """Padded ids and tags on the model's device; the lengths stay on the CPU, where packing wants them."""
    x, lengths = pad_sequences([ids[i] for i in index])
    y, _ = pad_sequences([tags[i] for i in index])
    return torch.from_numpy(x).to(device), torch.from_numpy(y).to(device), torch.from_numpy(lengths)


def _check_pairs(ids, tags):
    """One list of tags per list of ids, the same length each: a short tag sequence would otherwise be
    padded with tag 0 at steps the mask counts as real, and the model trained on labels nobody gave."""
    for name, seqs in (("ids", ids), ("tags", tags)):
        if not isinstance(seqs, (list, tuple)):
            raise TypeError(f"{name} should be a list of numpy arrays, one per sequence, but is {type(seqs).__name__}")
    if not ids or len(ids) != len(tags):
        raise ValueError(f"ids and tags should hold the same number of sequences, at least one, but hold "
                         f"{len(ids)} and {len(tags)}")
    for i, (s, y) in enumerate(zip(ids, tags)):
        for name, a in (("ids", s), ("tags", y)):      # named here, not as masked_cross_entropy's targets
            if isinstance(a, np.ndarray) and a.dtype.kind not in "iu":
                raise TypeError(f"{name}[{i}] should hold integers, but has dtype {a.dtype}; convert it with "
                                f"{name}[{i}].astype(np.int64)")
        if np.shape(s) != np.shape(y):
            raise ValueError(f"tags[{i}] should have the shape of ids[{i}], {np.shape(s)}, one tag per id, but "
                             f"has shape {np.shape(y)}")


def fit_tagger(model, ids, tags, *, B=32, epochs=1, lr=3e-3, by_length=True, masked=True, clip=1.0, seed=0):
    """Train a :class:`Tagger` with Adam on the masked cross-entropy.

    Parameters
    ----------
    model : Tagger
        Trained in place, on its own device (the batches are moved there).
    ids, tags : list of numpy.ndarray of int, each shape (L,)
        The sequences and their labels.
    B : int
        Batch size (default 32).
    epochs : int
        Passes over the data (default 1).
    lr : float
        Adam's learning rate, a finite number > 0 (default 3e-3).
    by_length : bool
        Batch sequences of similar length together (default), see
        :func:`rnncourse.numpy.padding.batch_indices`.
    masked : bool
        Average the loss over the real steps only (default). ``False`` is a classic
        bug: the padding steps count too, with the padding's label (tag 0).
    clip : float
        The largest gradient norm, > 0 (default 1).
    seed : int
        Seeds the batch order and PyTorch (default 0); from 0 to :data:`~rnncourse.torch.training.MAX_SEED`.

    Returns
    -------
    list of float
        The loss of every update.

    Raises
    ------
    FloatingPointError
        If an update's loss or gradient norm is NaN or infinite (see
        :func:`rnncourse.torch.training.check_finite_update`); the weights are left as they were before that update.
    ValueError
        If the model's scores are NaN or infinite: :func:`~rnncourse.torch.padding.masked_cross_entropy`
        refuses them, before any update.
    """
    lr, clip = check_positive_float(lr, "lr"), check_positive_float(clip, "clip")
    by_length, masked = check_bool(by_length, "by_length"), check_bool(masked, "masked")
    seed = check_positive_int(seed, "seed", minimum=0, maximum=MAX_SEED)
    _check_pairs(ids, tags)
    rng = np.random.default_rng(seed)
    torch.manual_seed(seed)
    lengths = np.array([len(s) for s in ids])
    optimizer = torch.optim.Adam(model.parameters(), lr=lr)
    model.train()
    device = next(model.parameters()).device
    losses = []
    for _ in range(check_positive_int(epochs, "epochs")):
        for index in batch_indices(lengths, B, rng=rng, by_length=by_length):
            x, y, L = _batch(ids, tags, index, device)
            mask = length_mask(L.to(device), x.shape[0]) if masked else torch.ones(x.shape, dtype=torch.bool,
                                                                                   device=device)
            loss = masked_cross_entropy(model(x, L), y, mask)
            optimizer.zero_grad()
            loss.backward()
            norm = clip_grad_norm(model.parameters(), clip)
            value = loss.item()
            check_finite_update(value, norm, len(losses), lr)
            optimizer.step()
            losses.append(value)
    return losses


@torch.no_grad()
def predict_tags(model, ids, *, B=256, packed=True):
    """The most likely tag at every step of every sequence.

    Parameters
    ----------
    model : Tagger
    ids : list of numpy.ndarray of int, each shape (L,)
    B : int
        Batch size (default 256).
    packed : bool
        Run the RNN packed (default); see :meth:`Tagger.forward`.

    Returns
    -------
    list of numpy.ndarray of int64, each shape (L,)

    Notes
    -----
    The model runs in evaluation mode (``model.eval()``: no dropout) and is then put back in the mode
    it was in, training or evaluation.
    """
    B, packed = check_positive_int(B, "B"), check_bool(packed, "packed")
    was_training = model.training
    model.eval()                                   # no dropout while predicting; the caller's mode comes back after
    try:
        out = []
        for start in range(0, len(ids), B):
            index = np.arange(start, min(start + B, len(ids)))
            x, lengths = pad_sequences([ids[i] for i in index])
            x = torch.from_numpy(x).to(next(model.parameters()).device)
            scores = model(x, torch.from_numpy(lengths), packed=packed)
            pred = scores.argmax(-1).cpu().numpy()
            out.extend(pred[:L, b] for b, L in enumerate(lengths))
    finally:
        model.train(was_training)
    return out
