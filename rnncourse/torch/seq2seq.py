r"""The encoder-decoder of chapter 6 (many-to-many, delayed): token ids (S, B) -> (T, B).

An encoder :class:`~rnncourse.torch.elman.ElmanRNN` reads the source and hands its last state,
the context vector, to a decoder that writes the target one token at a time: fed the true
previous token while training (teacher forcing, :func:`fit_seq2seq`), its own previous guess at
inference (:func:`greedy_decode`).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from rnncourse.torch.elman import ElmanRNN, recurrence
from rnncourse.torch.heads import OutputLayer
from rnncourse.torch.topologies import last_states
from rnncourse.torch.training import TrainConfig, train
from rnncourse.validation import (check_array, check_index_array, check_match, check_not_empty, check_positive_int,
                                  state_hint)

__all__ = ["Seq2Seq", "greedy_decode", "teacher_forcing_loss", "fit_seq2seq", "sequence_accuracy"]


def greedy_decode(step, h0, *, bos, eos, max_len, pad=0):
    """Generate tokens one at a time, feeding each step's most likely token back as the next input.

    Starts from the token ``bos`` and the state ``h0``. A sequence that has
    produced ``eos`` is finished: its later positions hold ``pad``. The loop stops
    early once every sequence is finished.

    Parameters
    ----------
    step : callable
        ``step(tokens, h) -> (logits, h)``, with ``tokens`` a long tensor of
        shape (B,), ``h`` (B, H) and ``logits`` (B, V).
    h0 : torch.Tensor, shape (B, H)
        Initial decoder state (the context vector).
    bos, eos : int
        Start and end tokens.
    max_len : int
        Largest number of tokens generated.
    pad : int
        Token written after ``eos`` (default 0).

    Returns
    -------
    torch.Tensor, shape (max_len, B)
        The generated token ids (long), ``eos`` included.
    """
    if not callable(step):
        raise TypeError(f"step should be a function step(tokens, h) -> (logits, h), but is {type(step).__name__}; "
                        f"to decode a Seq2Seq, call model.greedy_decode(src, max_len), which checks its inputs once "
                        f"and steps without checks")
    for name, token in (("bos", bos), ("eos", eos), ("pad", pad)):
        check_positive_int(token, name, minimum=0)
    max_len = check_positive_int(max_len, "max_len")
    check_array(h0, "h0", ("B", "H"), backend="torch", hint=state_hint(h0, "h0", None, None, backend="torch"))
    B = h0.shape[0]
    tokens = torch.full((B,), bos, dtype=torch.long, device=h0.device)
    out = torch.full((max_len, B), pad, dtype=torch.long, device=h0.device)
    done = torch.zeros(B, dtype=torch.bool, device=h0.device)
    h = h0
    for t in range(max_len):
        logits, h = step(tokens, h)
        tokens = logits.argmax(dim=-1)
        out[t] = torch.where(done, pad, tokens)
        done = done | (tokens == eos)
        if bool(done.all()):
            break
    return out


class Seq2Seq(nn.Module):
    r"""Encoder--decoder :cite:`sutskever2014seq2seq,cho2014learning`: a sequence in, another sequence out.

    The encoder reads the source and its state after the last real token is the
    context vector :math:`c`. The decoder starts from :math:`h_0 = c` and at each
    step reads the previous target token (one-hot) and predicts the next:

    .. math::

        c = h^{enc}_{S}, \qquad s_t = f(W^{dec}_{xh} e(y_{t-1}) + W^{dec}_{hh} s_{t-1} + b^{dec}_h),
        \qquad z_t = W_{hy} s_t + b_y

    Training feeds the *true* previous token (teacher forcing, :meth:`forward`);
    inference feeds back the model's own prediction (:meth:`Seq2Seq.greedy_decode`).

    Parameters
    ----------
    src_vocab : int
        Size of the source vocabulary.
    tgt_vocab : int
        V, size of the target vocabulary.
    hidden_size : int
        H, shared by encoder and decoder.
    bos, eos, pad : int
        Start and end ids of the target vocabulary and the padding id of both vocabularies
        (default 1, 2, 0).
    nonlinearity : str
        ``"tanh"`` (default) or ``"relu"``.
    device, dtype, generator
        As in :class:`~rnncourse.torch.elman.ElmanRNN`.
    """

    def __init__(self, src_vocab, tgt_vocab, hidden_size, *, bos=1, eos=2, pad=0, nonlinearity="tanh",
                 device=None, dtype=None, generator=None):
        super().__init__()
        # Checked by the caller's names: inside, the vocabulary sizes are the input sizes of encoder and decoder.
        src_vocab, tgt_vocab = check_positive_int(src_vocab, "src_vocab"), check_positive_int(tgt_vocab, "tgt_vocab")
        kw = {"device": device, "dtype": dtype, "generator": generator}
        self.encoder = ElmanRNN(src_vocab, hidden_size, nonlinearity, **kw)
        self.decoder = ElmanRNN(tgt_vocab, hidden_size, nonlinearity, **kw)
        self.out = OutputLayer(hidden_size, tgt_vocab, **kw)
        for name, token, V, which in (("bos", bos, tgt_vocab, "the target vocabulary"),
                                      ("eos", eos, tgt_vocab, "the target vocabulary"),
                                      ("pad", pad, min(src_vocab, tgt_vocab), "both vocabularies")):
            if check_positive_int(token, name, minimum=0) >= V:
                raise ValueError(f"{name} should be an id of {which}, in [0, {V}), but is {token}")
        self.bos, self.eos, self.pad = bos, eos, pad

    def _one_hot(self, ids, V):
        return F.one_hot(ids.long(), V).to(self.out.W_hy.dtype)

    def encode(self, src):
        """The context vector: the encoder state after each source's last non-padding token.

        Parameters
        ----------
        src : torch.Tensor, shape (S, B)
            Source token ids (long), padded with ``pad`` after their end.

        Returns
        -------
        torch.Tensor, shape (B, H)
            The context vectors.
        """
        check_index_array(src, "src", ("S", "B"), high=self.encoder.input_size, backend="torch")
        check_not_empty(src, "src")
        check_match("src", src, "the model", self.out.W_hy, dtype=False)
        hs, _ = self.encoder(self._one_hot(src, self.encoder.input_size))
        return last_states(hs, (src != self.pad).sum(dim=0).clamp(min=1))

    def decode(self, context, tgt):
        """Teacher forcing: scores for every target position, given the true previous tokens.

        Parameters
        ----------
        context : torch.Tensor, shape (B, H)
            From :meth:`encode`.
        tgt : torch.Tensor, shape (T, B)
            Target ids (long). The decoder reads ``bos, tgt[0], ..., tgt[T-2]``.

        Returns
        -------
        torch.Tensor, shape (T, B, V)
            Scores of the token at each position.
        """
        V = self.decoder.input_size
        check_array(context, "context", ("B", "H"), (None, self.decoder.hidden_size), backend="torch")
        check_match("context", context, "the model", self.out.W_hy)
        check_index_array(tgt, "tgt", ("T", "B"), (None, context.shape[0]), high=V, backend="torch")
        check_not_empty(tgt, "tgt")
        check_match("tgt", tgt, "the model", self.out.W_hy, dtype=False)
        previous = torch.cat([torch.full_like(tgt[:1], self.bos), tgt[:-1]])
        hs, _ = self.decoder(self._one_hot(previous, V), context)
        return self.out(hs)

    def forward(self, src, tgt):
        """Teacher-forced scores, ``decode(encode(src), tgt)``.

        Parameters
        ----------
        src : torch.Tensor, shape (S, B)
            Source token ids (long), padded with ``pad`` after their end.
        tgt : torch.Tensor, shape (T, B)
            Target ids (long); the decoder reads ``bos, tgt[0], ..., tgt[T-2]``.

        Returns
        -------
        torch.Tensor, shape (T, B, V)
            Scores of the token at each position.
        """
        return self.decode(self.encode(src), tgt)

    def step(self, tokens, h):
        """One decoder step: read the previous tokens, predict the next.

        Parameters
        ----------
        tokens : torch.Tensor, shape (B,)
            Previous target ids (long), ``bos`` at the first step.
        h : torch.Tensor, shape (B, H)
            Decoder state; the context vector at the first step.

        Returns
        -------
        logits : torch.Tensor, shape (B, V)
            Scores of the next token.
        h : torch.Tensor, shape (B, H)
            The new state.
        """
        check_index_array(tokens, "tokens", ("B",), high=self.decoder.input_size, backend="torch")
        check_match("tokens", tokens, "the model", self.out.W_hy, dtype=False)
        check_array(h, "h", ("B", "H"), (tokens.shape[0], self.decoder.hidden_size), backend="torch")
        check_match("h", h, "the model", self.out.W_hy)
        logits, h = self._step(tokens, h)
        return logits, h.clone()            # the caller's h, not the one the read-out saved for the backward pass

    def _step(self, tokens, h):
        """:meth:`step` without the checks, for the loop of :meth:`greedy_decode`, which checked its inputs."""
        d = self.decoder
        _, h = recurrence(self._one_hot(tokens, d.input_size)[None], h, d.W_xh, d.W_hh, d.b_h, d.nonlinearity)
        return h @ self.out.W_hy.T + self.out.b_y, h

    @torch.no_grad()
    def greedy_decode(self, src, max_len):
        """Translate by greedy decoding: :func:`greedy_decode` from the context of ``src``.

        Parameters
        ----------
        src : torch.Tensor, shape (S, B)
            Source ids.
        max_len : int
            Largest output length.

        Returns
        -------
        torch.Tensor, shape (max_len, B)
            Output ids, ``pad`` after ``eos``.
        """
        return greedy_decode(self._step, self.encode(src), bos=self.bos, eos=self.eos, max_len=max_len,
                             pad=self.pad)


def _check_not_all_padding(tgt, pad, consequence):
    """A batch whose targets are all ``pad`` has no position to score: refuse it rather than return NaN."""
    check_not_empty(tgt, "tgt")
    check_positive_int(pad, "pad", minimum=0)
    if not bool((tgt != pad).any()):
        raise ValueError(f"tgt holds only padding (pad = {pad}): no target position is left, so {consequence}")


def teacher_forcing_loss(logits, tgt, pad=0):
    """Mean cross-entropy over the non-padding target positions.

    Parameters
    ----------
    logits : torch.Tensor, shape (T, B, V)
        From :meth:`Seq2Seq.decode`.
    tgt : torch.Tensor, shape (T, B)
        Target ids; positions equal to ``pad`` do not count.
    pad : int
        Padding id.

    Returns
    -------
    torch.Tensor, shape ()
        The loss.

    Raises
    ------
    ValueError
        If ``logits`` holds NaN or infinity anywhere (a NaN loss would say nothing of where it came from), as
        :func:`~rnncourse.torch.padding.masked_cross_entropy` does; scanned once per call.
    """
    check_array(logits, "logits", ("T", "B", "V"), backend="torch")
    T, B, V = logits.shape
    check_index_array(tgt, "tgt", ("T", "B"), (T, B), high=V, backend="torch")
    check_match("tgt", tgt, "logits", logits, dtype=False)
    _check_not_all_padding(tgt, pad, "the mean loss is undefined")
    # .long(): the check takes any integer dtype, F.cross_entropy only int64 (or uint8) indices
    return F.cross_entropy(logits.reshape(-1, logits.shape[-1]), tgt.reshape(-1).long(), ignore_index=pad)


def fit_seq2seq(model, batches, config=TrainConfig(), *, progress=True):
    """Train a :class:`Seq2Seq` with teacher forcing, using :func:`~rnncourse.torch.training.train`.

    Each step encodes the batch's sources, decodes its targets with the true
    previous tokens as inputs and minimises :func:`teacher_forcing_loss`.
    Like :func:`~rnncourse.torch.training.train`, which runs the steps, it seeds PyTorch's
    global generator with ``config.seed`` (``torch.manual_seed``) and leaves the model in
    training mode.

    Parameters
    ----------
    model : Seq2Seq
        Trained in place.
    batches : callable or iterable
        ``batches(rng) -> (src, tgt)``, or an iterable of such pairs: id arrays
        of shapes (S, B) and (T, B).
    config : rnncourse.torch.training.TrainConfig
        Hyperparameters.
    progress : bool
        Show a progress bar.

    Returns
    -------
    rnncourse.torch.training.History
        The loss and gradient norm of every step.

    Raises
    ------
    FloatingPointError
        If a step's loss or gradient norm is NaN or infinite (see :func:`~rnncourse.torch.training.train`).
    ValueError
        If the model's scores are NaN or infinite: :func:`teacher_forcing_loss` refuses them, before that
        step's update.
    """
    if not isinstance(model, Seq2Seq):
        raise TypeError(f"model should be a Seq2Seq, but is {type(model).__name__}")

    def forward(model, src, tgt):
        return model.decode(model.encode(src), tgt)

    def loss_fn(logits, tgt):
        return teacher_forcing_loss(logits, tgt, model.pad)

    return train(model, batches, loss_fn, config, forward=forward, progress=progress)


@torch.no_grad()
def sequence_accuracy(pred, tgt, pad=0):
    """Token accuracy and exact-match accuracy of predicted sequences.

    Parameters
    ----------
    pred : torch.Tensor, shape (T, B)
        Predicted ids.
    tgt : torch.Tensor, shape (T, B)
        Target ids; positions equal to ``pad`` are not scored.
    pad : int
        Padding id.

    Returns
    -------
    tuple of float
        ``(token_accuracy, sequence_accuracy)``: the fraction of non-padding
        target positions predicted right, and of sequences with every such
        position right.
    """
    check_index_array(tgt, "tgt", ("T", "B"), backend="torch")
    check_index_array(pred, "pred", ("T", "B"), tuple(tgt.shape), backend="torch")
    check_match("pred", pred, "tgt", tgt, dtype=False)
    _check_not_all_padding(tgt, pad, "there is nothing to score")
    real = tgt != pad
    right = (pred == tgt) & real
    token = right.sum().item() / real.sum().item()
    return token, (right | ~real).all(dim=0).double().mean().item()
