"""A character-level language model in PyTorch, trained with its state carried across batches.

The PyTorch counterpart of :mod:`rnncourse.numpy.charlm`, built from ``torch.nn``
parts: an embedding (:class:`torch.nn.Embedding`, see :mod:`rnncourse.numpy.embedding`),
a (possibly stacked) :class:`torch.nn.RNN` and a linear read-out. It is not a twin
with the same weights: the NumPy model reads the column of ``W_xh`` of each
character (an embedding of size H folded into the first layer), this one a learned
embedding of its own size. :func:`evaluate_loss` scores both alike.

A long text is cut into ``B`` streams read in chunks of ``T`` characters
(:func:`rnncourse.numpy.charlm.batches`): column ``b`` of one chunk continues
column ``b`` of the previous one. **Stateful** training starts each chunk from the
previous chunk's final state, *detached* from the graph (truncated BPTT: the state
crosses the boundary, the gradient does not); **reset** training starts every chunk
from zero, so the model never sees more than ``T`` characters of context.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from rnncourse.numpy.charlm import batches
from rnncourse.torch.clip import clip_grad_norm
from rnncourse.torch.device import check_device
from rnncourse.torch.init import MAX_LAYERS, check_dtype, torch_default_
from rnncourse.torch.training import MAX_SEED, check_finite_update
from rnncourse.validation import (check_array, check_bool, check_index_array, check_match, check_not_empty,
                                  check_positive_float, check_positive_int, layer_state_hint)

__all__ = ["CharLM", "train_charlm", "evaluate_loss"]


class CharLM(nn.Module):
    """Embedding, Elman RNN (``num_layers`` deep), linear read-out: scores of the next character.

    Parameters
    ----------
    V : int
        Vocabulary size.
    D : int
        Embedding size.
    H : int
        Hidden size.
    num_layers : int
        Stacked RNN layers, from 1 to :data:`~rnncourse.torch.init.MAX_LAYERS` (default 1).
    dropout : float
        Dropout between stacked layers (default 0), as in :class:`torch.nn.RNN`.
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

    def __init__(self, V, D, H, num_layers=1, dropout=0.0, *, device=None, dtype=None, generator=None):
        super().__init__()
        V, D, H = (check_positive_int(v, n) for v, n in ((V, "V"), (D, "D"), (H, "H")))
        # The layers draw their weights from the global generator as they are built; with a generator of its own
        # the model leaves that one as it was and draws from its own. They are built on the CPU (moved below), so
        # only the CPU generator is forked: forking every GPU's (fork_rng's default) would start CUDA on a GPU
        # machine even for a model that stays on the CPU.
        with torch.random.fork_rng(devices=[], enabled=generator is not None):
            self.embed = nn.Embedding(V, D)
            self.rnn = nn.RNN(D, H, num_layers=check_positive_int(num_layers, "num_layers", maximum=MAX_LAYERS),
                              dropout=check_positive_float(dropout, "dropout", allow_zero=True))
            self.out = nn.Linear(H, V)
        if generator is not None:
            torch_default_((self.embed, self.rnn, self.out), generator)
        self.to(device=check_device(device), dtype=check_dtype(dtype))

    def forward(self, ids, h0=None):
        """Scores of the next character at every step.

        Parameters
        ----------
        ids : torch.Tensor of int64, shape (T, B)
            Character ids, time-major.
        h0 : torch.Tensor, shape (num_layers, B, H), optional
            Initial states; zeros by default.

        Returns
        -------
        logits : torch.Tensor, shape (T, B, V)
        h_n : torch.Tensor, shape (num_layers, B, H)
        """
        check_index_array(ids, "ids", ("T", "B"), high=self.embed.num_embeddings, backend="torch")
        check_not_empty(ids, "ids")
        check_match("ids", ids, "the model", self.embed.weight, dtype=False)
        if h0 is not None:
            (T, B), L, H = ids.shape, self.rnn.num_layers, self.rnn.hidden_size
            hint, advice = "B comes from ids", layer_state_hint(h0, "h0", L, T, B, backend="torch", source="ids",
                                                                 source_ndim=2)
            check_array(h0, "h0", ("num_layers", "B", "H"), (L, B, H), backend="torch",
                        hint=f"{hint}; {advice}" if advice else hint)
            check_match("h0", h0, "the model", self.out.weight)
        hs, h_n = self.rnn(self.embed(ids.long()), h0)
        return self.out(hs), h_n


def _chunks(ids, T, B, device):
    """Chunks on ``device``; the targets as int64, the only integer dtype (with uint8) F.cross_entropy takes."""
    for inputs, targets in batches(ids, T, B):
        yield torch.from_numpy(inputs).to(device), torch.from_numpy(targets).to(device, torch.long)


def train_charlm(model, ids, *, T, B, steps, lr=3e-3, stateful=True, detach=True, clip=1.0, seed=0):
    """Train ``model`` on a text with Adam, carrying the state across chunks or resetting it.

    Parameters
    ----------
    model : CharLM
        Trained in place, on its own device (the chunks are moved there).
    ids : numpy.ndarray of int, shape (N,)
        The text as character ids.
    T, B : int
        Chunk length (the truncation length) and number of streams.
    steps : int
        Number of updates; the text is read again from the start (with a zero state) when it runs out.
    lr : float
        Adam's learning rate, a finite number > 0 (default 3e-3).
    stateful : bool
        Start each chunk from the previous chunk's final state (default) or from zero.
    detach : bool
        Detach the carried state (default). ``False`` is the classic bug: the second
        ``backward`` tries to go back into the previous chunk's freed graph and fails.
    clip : float
        Clip the gradient norm to this value, > 0 (default 1).
    seed : int
        Seeds PyTorch (dropout) (default 0); from 0 to :data:`~rnncourse.torch.training.MAX_SEED`.

    Returns
    -------
    list of float
        The training loss of each update (nats per character).

    Raises
    ------
    FloatingPointError
        If an update's loss or gradient norm is NaN or infinite (see
        :func:`rnncourse.torch.training.check_finite_update`); the weights are left as they were before that update.
    """
    steps = check_positive_int(steps, "steps")
    lr, clip = check_positive_float(lr, "lr"), check_positive_float(clip, "clip")
    stateful, detach = check_bool(stateful, "stateful"), check_bool(detach, "detach")
    torch.manual_seed(check_positive_int(seed, "seed", minimum=0, maximum=MAX_SEED))
    optimizer = torch.optim.Adam(model.parameters(), lr=lr)
    model.train()
    losses = []
    while len(losses) < steps:
        h = None
        for inputs, targets in _chunks(ids, T, B, next(model.parameters()).device):
            logits, h_n = model(inputs, h)
            loss = F.cross_entropy(logits.reshape(-1, logits.shape[-1]), targets.reshape(-1))
            optimizer.zero_grad()
            loss.backward()
            norm = clip_grad_norm(model.parameters(), clip)
            value = loss.item()
            check_finite_update(value, norm, len(losses), lr)
            optimizer.step()
            losses.append(value)
            if stateful:
                # The state crosses the boundary. detach=True leaves its graph behind (truncated BPTT);
                # detach=False carries the graph along, and the next backward fails in the freed graph.
                h = h_n.detach() if detach else h_n
            if len(losses) == steps:
                break
    return losses


@torch.no_grad()
def evaluate_loss(model, ids, *, T=100, B=16, stateful=True):
    """Mean cross-entropy (nats per character) of ``model`` on a text read in chunks of ``T``.

    Parameters
    ----------
    model : CharLM
    ids : numpy.ndarray of int, shape (N,)
    T, B : int
        Chunk length and number of streams (default 100 and 16, as in
        :func:`rnncourse.numpy.charlm.evaluate_loss`).
    stateful : bool
        Carry the state from chunk to chunk (default) or start each chunk from zero.

    Returns
    -------
    float

    Notes
    -----
    The model runs in evaluation mode (``model.eval()``: no dropout) and is then put back in the mode
    it was in, training or evaluation.
    """
    stateful = check_bool(stateful, "stateful")
    was_training = model.training
    model.eval()                                   # no dropout while measuring; the caller's mode comes back after
    try:
        total, count, h = 0.0, 0, None
        for inputs, targets in _chunks(ids, T, B, next(model.parameters()).device):
            logits, h_n = model(inputs, h)
            total += F.cross_entropy(logits.reshape(-1, logits.shape[-1]), targets.reshape(-1), reduction="sum").item()
            count += targets.numel()
            h = h_n if stateful else None
    finally:
        model.train(was_training)
    return total / count
