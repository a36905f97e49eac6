r"""The input/output topologies of chapter 6, built from :class:`~rnncourse.torch.elman.ElmanRNN`.

- one-to-one, (B, D) -> (B, O): a feedforward network, :class:`~rnncourse.torch.mlp.MLP`;
- one-to-many, (B, D) -> (T, B, O): :class:`OneToMany`;
- many-to-one, (T, B, D) -> (B, O): :class:`ManyToOne`;
- many-to-many, delayed, token ids (S, B) -> (T, B): :class:`~rnncourse.torch.seq2seq.Seq2Seq`;
- many-to-many, synchronized, (T, B, D) -> (T, B, O): :class:`Synchronized`.

All share one recurrence, :math:`h_t = f(W_{xh} x_t + W_{hh} h_{t-1} + b_h)`, and one
read-out, :math:`z_t = W_{hy} h_t + b_y`; they differ only in what enters at each
step and which states are read out. Every model takes a ``device`` and runs on
the CPU or a CUDA GPU alike. :class:`OneToMany`, :class:`ManyToOne` and
:class:`Synchronized` train with :func:`~rnncourse.torch.training.train`;
:class:`~rnncourse.torch.seq2seq.Seq2Seq` (the encoder-decoder, in its own module)
trains with teacher forcing through :func:`~rnncourse.torch.seq2seq.fit_seq2seq`, which calls the
same loop.
"""

from __future__ import annotations

import torch
from torch import nn

from rnncourse.torch.elman import ElmanRNN
from rnncourse.torch.heads import OutputLayer, RNNModel
from rnncourse.torch.init import empty_module
from rnncourse.validation import check_array, check_choice, check_lengths, check_positive_int

__all__ = ["OneToMany", "ManyToOne", "Synchronized", "last_states"]

_CONDITIONS = ("first_step", "every_step")


def last_states(hs, lengths=None):
    """The state of each sequence at its own last step, ``hs[lengths[b] - 1, b]``.

    Parameters
    ----------
    hs : torch.Tensor, shape (T, B, H)
        Hidden states of a padded batch.
    lengths : torch.Tensor, shape (B,), or None
        Real length of each sequence (1..T); ``None`` means all are ``T``.

    Returns
    -------
    torch.Tensor, shape (B, H)
        One state per sequence; padding steps after it are ignored. A new tensor, never a
        view of ``hs``: editing one in place leaves the other alone.
    """
    check_array(hs, "hs", ("T", "B", "H"), backend="torch", finite=False,
                hint="hs holds the states of all steps; one state (B, H) per sequence is already the last")
    if hs.shape[0] == 0:
        raise ValueError(f"hs should hold at least one time step, but has shape {tuple(hs.shape)}")
    if lengths is None:
        return hs[-1].clone()            # a tensor of its own, as with lengths, not a view into hs
    T, B = hs.shape[:2]
    check_lengths(lengths, T, B, backend="torch", source="hs", device=hs.device)
    return hs[lengths.to(hs.device).long() - 1, torch.arange(B, device=hs.device)]   # long: uint8 would be a mask


class OneToMany(nn.Module):
    r"""One vector in, a sequence out: a generator conditioned on ``x``.

    The RNN input at step ``t`` is ``x_t``, with two ways to condition:

    - ``"first_step"``: ``x_1 = x`` and ``x_t = 0`` afterwards, so ``x`` reaches
      later steps only through the state :math:`h_1 = f(W_{xh} x + b_h)`;
    - ``"every_step"``: ``x_t = x`` at every step.

    Parameters
    ----------
    input_size : int
        D.
    hidden_size : int
        H.
    output_size : int
        O.
    steps : int
        T, the number of outputs generated.
    condition : str
        ``"first_step"`` (default) or ``"every_step"``.
    nonlinearity : str
        ``"tanh"`` (default) or ``"relu"``.
    device, dtype, generator
        As in :class:`~rnncourse.torch.elman.ElmanRNN`.
    """

    def __init__(self, input_size, hidden_size, output_size, steps, condition="first_step", nonlinearity="tanh",
                 *, device=None, dtype=None, generator=None):
        super().__init__()
        check_choice(condition, "condition", _CONDITIONS)
        self.steps, self.condition = check_positive_int(steps, "steps"), condition
        kw = {"device": device, "dtype": dtype, "generator": generator}
        self.rnn = ElmanRNN(input_size, hidden_size, nonlinearity, **kw)
        self.out = OutputLayer(hidden_size, output_size, **kw)

    def forward(self, x):
        """Generate ``steps`` outputs from one vector per example.

        Parameters
        ----------
        x : torch.Tensor, shape (B, D)
            The conditioning vector (e.g. image features).

        Returns
        -------
        Y : torch.Tensor, shape (T, B, O)
            One output per step (raw scores).
        h_T : torch.Tensor, shape (B, H)
            The last state.
        """
        check_array(x, "x", ("B", "D"), (None, self.rnn.input_size), backend="torch",
                    hint="one-to-many takes one vector per example, not a sequence")
        if x.shape[0] == 0:
            raise ValueError(f"x should hold at least one example, but has shape {tuple(x.shape)}")
        if self.condition == "every_step":
            xs = x.expand(self.steps, *x.shape)                               # x_1..x_T: (T, B, D), no copy
        else:
            xs = torch.cat([x[None], x.new_zeros(self.steps - 1, *x.shape)])  # x_1 = x, then zeros
        hs, h_T = self.rnn(xs)
        return self.out(hs), h_T


class ManyToOne(nn.Module):
    r"""A sequence in, one output out: read out the state after the last real step.

    .. math::

        z = W_{hy} h_{L} + b_y, \qquad L = \text{length of the sequence}

    Equal to :func:`rnncourse.numpy.many_to_one.many_to_one_forward` on the same
    weights.

    Parameters
    ----------
    input_size, hidden_size, output_size : int
        D, H and O.
    nonlinearity : str
        ``"tanh"`` (default) or ``"relu"``.
    device, dtype, generator
        As in :class:`~rnncourse.torch.elman.ElmanRNN`.

    Notes
    -----
    ``numpy_params()`` gives the ``params`` of ``many_to_one_forward`` and
    ``ManyToOne.from_numpy(params)`` builds the model from them.
    """

    def __init__(self, input_size, hidden_size, output_size, nonlinearity="tanh", *, device=None, dtype=None,
                 generator=None):
        super().__init__()
        kw = {"device": device, "dtype": dtype, "generator": generator}
        self.rnn = ElmanRNN(input_size, hidden_size, nonlinearity, **kw)
        self.out = OutputLayer(hidden_size, output_size, **kw)

    def forward(self, x, lengths=None):
        """Classify (or regress) whole sequences.

        Parameters
        ----------
        x : torch.Tensor, shape (T, B, D)
            Input sequences, time-major: padded after their end (give ``lengths``), or padded at the
            start, so that every sequence ends at step T (``lengths=None``).
        lengths : torch.Tensor, shape (B,), optional
            Real length of each sequence; ``None``: all have ``T`` steps.

        Returns
        -------
        Y : torch.Tensor, shape (B, O)
            One output per sequence (raw scores).
        h_L : torch.Tensor, shape (B, H)
            The state read out.
        """
        hs, _ = self.rnn(x)                 # checks x
        if lengths is not None:             # checked against x, the name the caller knows (last_states says hs)
            check_lengths(lengths, *hs.shape[:2], backend="torch", device=hs.device)
        h_L = last_states(hs, lengths)
        return self.out(h_L), h_L.clone()   # the caller's, not the h_L the read-out saved for the backward pass

    def numpy_params(self) -> dict:
        """Copies of the five parameters as :class:`numpy.ndarray`: the ``params`` of
        :func:`rnncourse.numpy.many_to_one.many_to_one_forward`.

        Returns
        -------
        dict
            ``W_xh`` (H, D), ``W_hh`` (H, H), ``b_h`` (H,), ``W_hy`` (O, H) and ``b_y`` (O,), float32 or
            float64 (a float16 or bfloat16 model raises a :class:`TypeError`; convert it first with ``.float()``).
        """
        return {**self.rnn.numpy_params(), **self.out.numpy_params()}

    @classmethod
    def from_numpy(cls, params: dict, nonlinearity="tanh", *, device=None, dtype=None) -> "ManyToOne":
        """The model holding the five arrays of :func:`rnncourse.numpy.model.init_model_params`.

        As :meth:`RNNModel.from_numpy <rnncourse.torch.heads.RNNModel.from_numpy>` with
        ``many_to_one=True``, which checks ``params`` the same way.
        Draws no random numbers: PyTorch's global generators are left as they were (see
        :func:`~rnncourse.torch.init.empty_module`).

        Parameters
        ----------
        params : dict
            ``W_xh`` (H, D), ``W_hh`` (H, H), ``b_h`` (H,), ``W_hy`` (O, H) and ``b_y`` (O,) as
            :class:`numpy.ndarray`, of one dtype.
        nonlinearity : str
            ``"tanh"`` (default) or ``"relu"``, as given to ``many_to_one_forward``.
        device : torch.device or str, optional
            Default: the CPU.
        dtype : torch.dtype, optional
            Default: the dtype of the arrays (float64 stays float64).

        Returns
        -------
        ManyToOne

        Examples
        --------
        >>> import numpy as np
        >>> from rnncourse.numpy.model import init_model_params
        >>> from rnncourse.numpy.many_to_one import many_to_one_forward
        >>> params = init_model_params(3, 8, 2, rng=np.random.default_rng(0))
        >>> model = ManyToOne.from_numpy(params)
        >>> x, lengths = np.random.default_rng(1).normal(size=(5, 4, 3)), np.array([5, 2, 3, 1])
        >>> Y, h_L = model(torch.from_numpy(x), torch.from_numpy(lengths))
        >>> bool(np.allclose(Y.detach().numpy(), many_to_one_forward(x, params, lengths)[0], rtol=0, atol=1e-12))
        True
        >>> all(np.array_equal(a, params[k]) for k, a in model.numpy_params().items())
        True
        """
        checked = RNNModel.from_numpy(params, nonlinearity, many_to_one=True, device=device, dtype=dtype)
        model = empty_module(cls, checked.rnn.input_size, checked.rnn.hidden_size, checked.out.output_size,
                             nonlinearity, device=checked.rnn.W_xh.device, dtype=checked.rnn.W_xh.dtype)
        model.rnn, model.out = checked.rnn, checked.out
        return model


class Synchronized(RNNModel):
    r"""A sequence in, an output at every step: :math:`z_t = W_{hy} h_t + b_y` for ``t = 1..T``.

    :class:`~rnncourse.torch.heads.RNNModel` with ``many_to_one=False``; ``y_t``
    depends on ``x_1 .. x_t`` only, so it can label a stream as it arrives.
    ``forward(x, h0=None)`` returns ``(Y, h_T)`` with ``Y`` of shape (T, B, O).

    Parameters
    ----------
    input_size, hidden_size, output_size : int
        D, H and O.
    nonlinearity : str
        ``"tanh"`` (default) or ``"relu"``.
    device, dtype, generator
        As in :class:`~rnncourse.torch.elman.ElmanRNN`.
    """

    def __init__(self, input_size, hidden_size, output_size, nonlinearity="tanh", *, device=None, dtype=None,
                 generator=None):
        super().__init__(input_size, hidden_size, output_size, nonlinearity, many_to_one=False,
                         device=device, dtype=dtype, generator=generator)

    @classmethod
    def from_numpy(cls, params: dict, nonlinearity="tanh", *, device=None, dtype=None) -> "Synchronized":
        """The model holding the five arrays of :func:`rnncourse.numpy.model.init_model_params`.

        As :meth:`RNNModel.from_numpy <rnncourse.torch.heads.RNNModel.from_numpy>`, without ``many_to_one``.
        Draws no random numbers: PyTorch's global generators are left as they were (see
        :func:`~rnncourse.torch.init.empty_module`).

        Parameters
        ----------
        params : dict
            ``W_xh`` (H, D), ``W_hh`` (H, H), ``b_h`` (H,), ``W_hy`` (O, H) and ``b_y`` (O,) as
            :class:`numpy.ndarray`, of one dtype.
        nonlinearity : str
            ``"tanh"`` (default) or ``"relu"``.
        device : torch.device or str, optional
            Default: the CPU.
        dtype : torch.dtype, optional
            Default: the dtype of the arrays (float64 stays float64).

        Returns
        -------
        Synchronized
        """
        return super().from_numpy(params, nonlinearity, device=device, dtype=dtype)
