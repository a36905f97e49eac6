r"""The Elman recurrent layer in PyTorch, written from scratch.

The recurrence, for time steps :math:`t = 1, \dots, T`,

.. math::

    h_t = f(W_{xh} x_t + W_{hh} h_{t-1} + b_h),

with :math:`f` = tanh (or ReLU), is the one of :mod:`rnncourse.numpy.elman`;
here autograd computes the backward pass. The functions carry the names and
signatures of their NumPy twins, and :class:`ElmanRNN` equals
:class:`torch.nn.RNN` (one layer, time-major) given the same weights.

Shapes are time-major: ``x`` has shape (T, B, D) and hidden states (T, B, H);
in :class:`torch.nn.RNN`'s documentation T is ``L``, B is ``N``, D is ``H_in``
(the constructor's ``input_size``) and H is ``H_out`` (``hidden_size``).
"""

from __future__ import annotations

import math

import numpy as np
import torch
from torch import nn

from rnncourse.torch.device import check_device
from rnncourse.torch.init import check_dtype, empty_module, numpy_copy, uniform_
from rnncourse.validation import (check_array, check_choice, check_keys, check_match, check_not_empty,
                                  check_positive_int, check_same_dtype, state_hint)

__all__ = ["ACTIVATIONS", "rnn_step_forward", "rnn_forward", "recurrence", "ElmanRNN"]

#: The nonlinearities ``f`` a recurrent layer of the package accepts, by name.
ACTIVATIONS = {"tanh": torch.tanh, "relu": torch.relu}
_TIME_MAJOR = "x is time-major, shape (time steps, batch, features); for batch-first data pass x.transpose(0, 1)"


def _check_weights(W_xh, W_hh, b_h, D: int) -> int:
    """Validate the three parameters against the input size ``D`` of ``x``, as the NumPy twin does; return H.

    D comes from the data, so a wrong D is blamed on ``W_xh`` (with a hint to check ``x``).
    """
    check_array(W_hh, "W_hh", ("H", "H"), backend="torch", finite=False)   # the number of axes first; one scan below
    H = W_hh.shape[0]
    check_array(W_hh, "W_hh", ("H", "H"), (H, H), backend="torch",
                hint="W_hh maps the hidden state to itself, so it is square")
    check_array(W_xh, "W_xh", ("H", "D"), (H, D), backend="torch",
                hint=f"W_xh has shape (hidden_size, input_size), like torch's weight_ih_l0; D = {D} is "
                     f"the size of the last axis of x (x_t), so check that x is time-major (T, B, D)")
    check_array(b_h, "b_h", ("H",), (H,), backend="torch")
    return H


def _check_state(h, name: str, B: int, H: int, source: str, H_from: str, T: int | None = None) -> None:
    """Validate the shape of a hidden state (B, H); ``source`` and ``H_from`` say where B and H come from
    (``T``: x's first axis)."""
    hint = f"B comes from {source} and H from {H_from}"
    advice = state_hint(h, name, T, B, backend="torch")
    check_array(h, name, ("B", "H"), (B, H), backend="torch", hint=f"{hint}; {advice}" if advice else hint)


def _check_sequence(x, h0, D: int, H: int, W_xh: torch.Tensor, ref_name: str = "the model") -> None:
    """Validate ``x`` (T, B, D) and ``h0`` (B, H) of :meth:`ElmanRNN.forward` against the model's sizes.

    The model's weights are right by construction, so a wrong D is blamed on ``x``.
    """
    check_array(x, "x", ("T", "B", "D"), (None, None, D), backend="torch", hint=_TIME_MAJOR)
    check_not_empty(x, "x", hint=_TIME_MAJOR)
    check_match("x", x, ref_name, W_xh)
    if h0 is not None:
        _check_state(h0, "h0", x.shape[1], H, "x", f"{ref_name}'s hidden_size", x.shape[0])
        check_match("h0", h0, ref_name, W_xh)


def _check_step(x_t, h_prev, W_xh, W_hh, b_h, nonlinearity):
    """Validate the inputs of :func:`rnn_step_forward` in the NumPy twin's order: shapes, nonlinearity,
    then one dtype and one device."""
    check_array(x_t, "x_t", ("B", "D"), backend="torch",
                hint="x_t is one time step of shape (B, D); for a whole sequence (T, B, D) use rnn_forward")
    B, D = x_t.shape
    H = _check_weights(W_xh, W_hh, b_h, D)
    _check_state(h_prev, "h_prev", B, H, "x_t", "W_hh")
    check_choice(nonlinearity, "nonlinearity", tuple(ACTIVATIONS))
    _check_like_W_xh(W_xh, x_t=x_t, h_prev=h_prev, W_hh=W_hh, b_h=b_h)


def _check_sequence_inputs(x, h0, W_xh, W_hh, b_h, nonlinearity):
    """Validate the inputs of :func:`rnn_forward` in the NumPy twin's order: x, the weights against
    x's D, h0, the nonlinearity, then one dtype and one device."""
    check_array(x, "x", ("T", "B", "D"), backend="torch", hint=_TIME_MAJOR)
    check_not_empty(x, "x", hint=_TIME_MAJOR)
    T, B, D = x.shape
    H = _check_weights(W_xh, W_hh, b_h, D)
    if h0 is not None:
        _check_state(h0, "h0", B, H, "x", "W_hh", T)
    check_choice(nonlinearity, "nonlinearity", tuple(ACTIVATIONS))
    _check_like_W_xh(W_xh, x=x, h0=h0, W_hh=W_hh, b_h=b_h)


def _check_like_W_xh(W_xh, **tensors) -> None:
    """Check that every given tensor (None: skipped) has the device and dtype of ``W_xh``."""
    for name, a in tensors.items():
        if a is not None:
            check_match(name, a, "W_xh", W_xh)


def recurrence(x, h0, W_xh, W_hh, b_h, nonlinearity):
    """:func:`rnn_forward` without the checks, for callers that checked their inputs once.

    One product computes the input part ``x_t W_xh^T + b_h`` of every step, then each step
    adds only ``h_{t-1} W_hh^T`` to make the pre-activation ``a_t`` and applies ``f``.
    :func:`rnn_forward` and :meth:`ElmanRNN.forward` call it after their checks; so does
    :class:`rnncourse.torch.seq2seq.Seq2Seq` at every decoding step.

    Parameters
    ----------
    x : torch.Tensor, shape (T, B, D)
        Input sequence, time-major.
    h0 : torch.Tensor, shape (B, H), or None
        Initial hidden state; ``None`` means zeros.
    W_xh : torch.Tensor, shape (H, D)
        Input-to-hidden weights.
    W_hh : torch.Tensor, shape (H, H)
        Hidden-to-hidden weights.
    b_h : torch.Tensor, shape (H,)
        Hidden bias.
    nonlinearity : str
        A key of :data:`ACTIVATIONS`, ``"tanh"`` or ``"relu"``; no default here.

    Returns
    -------
    hs : torch.Tensor, shape (T, B, H)
        Hidden states h_1 ... h_T.
    h_T : torch.Tensor, shape (B, H)
        The last hidden state, a tensor of its own (as ``torch.nn.RNN``'s): editing it in place (resetting a
        finished sequence's state) leaves ``hs`` and the backward pass intact.
    """
    f = ACTIVATIONS[nonlinearity]
    T, B, D = x.shape
    H = W_hh.shape[0]
    if h0 is None:
        h0 = x.new_zeros(B, H)
    # The input part of every pre-activation, x_t W_xh^T + b_h, all t in one product: (T, B, H)
    XW = torch.addmm(b_h, x.reshape(T * B, D), W_xh.t()).view(T, B, H)
    W_hh_T = W_hh.t()
    h = h0
    hs = []
    for xw_t in XW.unbind(0):
        h = f(torch.addmm(xw_t, h, W_hh_T))          # a_t = xw_t + h_{t-1} W_hh^T, h_t = f(a_t)
        hs.append(h)
    hs = torch.stack(hs)
    return hs, hs[-1].clone()        # h_T its own tensor, not the h_T that f saved for the backward pass


def rnn_step_forward(x_t, h_prev, W_xh, W_hh, b_h, nonlinearity="tanh"):
    r"""One step of the Elman recurrence, :math:`h_t = f(x_t W_{xh}^T + h_{t-1} W_{hh}^T + b_h)`.

    The PyTorch twin of :func:`rnncourse.numpy.elman.rnn_step_forward`; autograd
    replaces the cache and the backward function.

    Parameters
    ----------
    x_t : torch.Tensor, shape (B, D)
        Inputs at time t.
    h_prev : torch.Tensor, shape (B, H)
        Hidden state at time t - 1.
    W_xh : torch.Tensor, shape (H, D)
        Input-to-hidden weights.
    W_hh : torch.Tensor, shape (H, H)
        Hidden-to-hidden weights.
    b_h : torch.Tensor, shape (H,)
        Hidden bias.
    nonlinearity : str
        ``"tanh"`` (default) or ``"relu"``.

    Returns
    -------
    h_t : torch.Tensor, shape (B, H)
        The new hidden state (no cache: autograd records what backward needs).
    """
    _check_step(x_t, h_prev, W_xh, W_hh, b_h, nonlinearity)
    a_t = x_t @ W_xh.T + h_prev @ W_hh.T + b_h
    h_t = ACTIVATIONS[nonlinearity](a_t)
    return h_t


def rnn_forward(x, h0, W_xh, W_hh, b_h, nonlinearity="tanh"):
    r"""Run the Elman recurrence over a whole sequence.

    Equal to this plain loop, but faster because the input projection of all
    time steps is one matrix product::

        h = h0
        for t in range(T):
            h = tanh(x[t] @ W_xh.T + h @ W_hh.T + b_h)
            hs[t] = h

    Parameters
    ----------
    x : torch.Tensor, shape (T, B, D)
        Input sequence, time-major.
    h0 : torch.Tensor, shape (B, H), or None
        Initial hidden state; ``None`` means zeros.
    W_xh : torch.Tensor, shape (H, D)
        Input-to-hidden weights.
    W_hh : torch.Tensor, shape (H, H)
        Hidden-to-hidden weights.
    b_h : torch.Tensor, shape (H,)
        Hidden bias.
    nonlinearity : str
        ``"tanh"`` (default) or ``"relu"``.

    Returns
    -------
    hs : torch.Tensor, shape (T, B, H)
        Hidden states h_1 ... h_T.
    h_T : torch.Tensor, shape (B, H)
        The last hidden state (``hs[-1]``), like :class:`torch.nn.RNN`'s second output.

    Examples
    --------
    >>> x, W_xh, W_hh, b_h = torch.zeros(5, 2, 3), torch.zeros(4, 3), torch.zeros(4, 4), torch.zeros(4)
    >>> hs, h_T = rnn_forward(x, None, W_xh, W_hh, b_h)
    >>> tuple(hs.shape), tuple(h_T.shape)
    ((5, 2, 4), (2, 4))
    """
    _check_sequence_inputs(x, h0, W_xh, W_hh, b_h, nonlinearity)
    return recurrence(x, h0, W_xh, W_hh, b_h, nonlinearity)


class ElmanRNN(nn.Module):
    r"""A one-layer Elman RNN, :math:`h_t = f(W_{xh} x_t + W_{hh} h_{t-1} + b_h)`, written from scratch.

    A loop over time in Python (see :func:`rnn_forward`); it equals
    :class:`torch.nn.RNN` with ``num_layers=1`` and ``batch_first=False`` when
    ``b_h = bias_ih_l0 + bias_hh_l0`` (see :meth:`from_torch`), and
    :func:`rnncourse.numpy.elman.rnn_forward` on the same weights (see
    :meth:`from_numpy`).

    Parameters
    ----------
    input_size : int
        D, the number of input features.
    hidden_size : int
        H, the number of hidden units.
    nonlinearity : str
        ``"tanh"`` (default) or ``"relu"``.
    device : torch.device or str, optional
        Where the parameters live (default: the CPU).
    dtype : torch.dtype, optional
        Parameter dtype (default: ``torch.get_default_dtype()``).
    generator : torch.Generator, optional
        Source of the initial weights; ``None`` uses PyTorch's global generator.

    Attributes
    ----------
    W_xh : torch.nn.Parameter, shape (H, D)
    W_hh : torch.nn.Parameter, shape (H, H)
    b_h : torch.nn.Parameter, shape (H,)
        All drawn from U(-1/sqrt(H), 1/sqrt(H)), like :class:`torch.nn.RNN`.

    Examples
    --------
    >>> rnn = ElmanRNN(3, 4, generator=torch.Generator().manual_seed(0))
    >>> hs, h_T = rnn(torch.zeros(5, 2, 3))
    >>> tuple(hs.shape)
    (5, 2, 4)
    """

    def __init__(self, input_size, hidden_size, nonlinearity="tanh", *, device=None, dtype=None, generator=None):
        super().__init__()
        D = check_positive_int(input_size, "input_size")
        H = check_positive_int(hidden_size, "hidden_size")
        check_choice(nonlinearity, "nonlinearity", tuple(ACTIVATIONS))
        self.input_size, self.hidden_size, self.nonlinearity = D, H, nonlinearity
        kw = {"device": check_device(device), "dtype": check_dtype(dtype)}
        self.W_xh = nn.Parameter(torch.empty(H, D, **kw))
        self.W_hh = nn.Parameter(torch.empty(H, H, **kw))
        self.b_h = nn.Parameter(torch.empty(H, **kw))
        self.reset_parameters(generator)

    def reset_parameters(self, generator: torch.Generator | None = None) -> None:
        """Draw every parameter from U(-1/sqrt(H), 1/sqrt(H)).

        Numbers are drawn on the CPU and then copied, so one seed gives the
        same weights on every device.

        Parameters
        ----------
        generator : torch.Generator, optional
            A CPU generator; ``None`` uses PyTorch's global generator.
        """
        uniform_(self.parameters(), 1.0 / math.sqrt(self.hidden_size), generator)

    def forward(self, x, h0=None):
        """Run the layer over a sequence.

        Parameters
        ----------
        x : torch.Tensor, shape (T, B, D)
            Input sequence, time-major, on the model's device and dtype.
        h0 : torch.Tensor, shape (B, H), optional
            Initial hidden state; zeros by default.

        Returns
        -------
        hs : torch.Tensor, shape (T, B, H)
            Hidden states h_1 ... h_T.
        h_T : torch.Tensor, shape (B, H)
            The last hidden state.
        """
        _check_sequence(x, h0, self.input_size, self.hidden_size, self.W_xh, ref_name="the model")
        return recurrence(x, h0, self.W_xh, self.W_hh, self.b_h, self.nonlinearity)

    def extra_repr(self) -> str:
        return f"{self.input_size}, {self.hidden_size}, nonlinearity={self.nonlinearity!r}"

    @classmethod
    def from_torch(cls, rnn: nn.RNN) -> "ElmanRNN":
        """Copy the weights of a one-layer, time-major :class:`torch.nn.RNN`.

        PyTorch keeps two biases, ``bias_ih_l0`` and ``bias_hh_l0``; they only
        ever appear as a sum, so ``b_h`` is that sum. The sum is rounded, and
        :meth:`to_torch` puts all of it in ``bias_ih_l0``: ``torch.nn.RNN`` -> ``ElmanRNN`` ->
        ``torch.nn.RNN`` gives a module equal to the first up to float rounding, while
        ``ElmanRNN`` -> ``torch.nn.RNN`` -> ``ElmanRNN`` gives back exactly the same parameters.
        Draws no random numbers: PyTorch's global generators are left as they were (see
        :func:`~rnncourse.torch.init.empty_module`).

        Parameters
        ----------
        rnn : torch.nn.RNN
            With ``num_layers=1``, ``bidirectional=False``, ``batch_first=False``.

        Returns
        -------
        ElmanRNN
            On the device and with the dtype of ``rnn``.
        """
        if not isinstance(rnn, nn.RNN):
            raise TypeError(f"rnn should be a torch.nn.RNN, but is {type(rnn).__name__}")
        problems = [f"{name}={getattr(rnn, name)!r} (need {want!r})" for name, want in
                    (("num_layers", 1), ("bidirectional", False), ("batch_first", False))
                    if getattr(rnn, name) != want]
        if problems:
            raise ValueError("ElmanRNN copies a one-layer, unidirectional, time-major torch.nn.RNN, but rnn has "
                             + ", ".join(problems) + "; construct the torch.nn.RNN with those settings")
        weight = rnn.weight_ih_l0                      # PyTorch's name for W_xh, (H, D)
        model = empty_module(cls, rnn.input_size, rnn.hidden_size, rnn.nonlinearity, device=weight.device,
                             dtype=weight.dtype)
        with torch.no_grad():
            model.W_xh.copy_(weight)
            model.W_hh.copy_(rnn.weight_hh_l0)
            model.b_h.copy_(rnn.bias_ih_l0 + rnn.bias_hh_l0 if rnn.bias else torch.zeros_like(model.b_h))
        return model

    def to_torch(self) -> nn.RNN:
        """Return an equal :class:`torch.nn.RNN` (``bias_ih_l0 = b_h``, ``bias_hh_l0 = 0``).

        Draws no random numbers: PyTorch's global generators are left as they were (see
        :func:`~rnncourse.torch.init.empty_module`).
        """
        rnn = empty_module(nn.RNN, self.input_size, self.hidden_size, nonlinearity=self.nonlinearity,
                           device=self.W_xh.device, dtype=self.W_xh.dtype)
        with torch.no_grad():
            rnn.weight_ih_l0.copy_(self.W_xh)
            rnn.weight_hh_l0.copy_(self.W_hh)
            rnn.bias_ih_l0.copy_(self.b_h)
            rnn.bias_hh_l0.zero_()
        return rnn

    @classmethod
    def from_numpy(cls, params: dict, nonlinearity="tanh", *, device=None, dtype=None) -> "ElmanRNN":
        """Build the layer from NumPy parameters, e.g. from :func:`rnncourse.numpy.init.init_rnn_params`.

        Draws no random numbers: PyTorch's global generators are left as they were (see
        :func:`~rnncourse.torch.init.empty_module`).

        Parameters
        ----------
        params : dict
            ``W_xh`` (H, D), ``W_hh`` (H, H) and ``b_h`` (H,) as :class:`numpy.ndarray`.
        nonlinearity : str
            ``"tanh"`` (default) or ``"relu"``.
        device : torch.device or str, optional
            Default: the CPU.
        dtype : torch.dtype, optional
            Default: the dtype of the arrays (float64 stays float64).

        Returns
        -------
        ElmanRNN
        """
        check_keys(params, "params", ("W_xh", "W_hh", "b_h"), "create it with init_rnn_params(...)")
        W_xh = check_array(params["W_xh"], "params['W_xh']", ("H", "D"))
        H, D = W_xh.shape
        check_array(params["W_hh"], "params['W_hh']", ("H", "H"), (H, H))
        check_array(params["b_h"], "params['b_h']", ("H",), (H,))
        check_same_dtype(**{name: params[name] for name in ("W_xh", "W_hh", "b_h")})
        dtype = dtype if dtype is not None else torch.from_numpy(np.asarray(W_xh[:0])).dtype
        model = empty_module(cls, D, H, nonlinearity, device=device, dtype=dtype)
        with torch.no_grad():
            for name in ("W_xh", "W_hh", "b_h"):
                getattr(model, name).copy_(torch.as_tensor(params[name]))
        return model

    def numpy_params(self) -> dict:
        """Return copies of the parameters as a dict of :class:`numpy.ndarray` (``W_xh``, ``W_hh``, ``b_h``).

        Float32 or float64 only, as the NumPy code; a float16 or bfloat16 layer raises a
        :class:`TypeError` (convert it first with ``.float()``).
        """
        return {name: numpy_copy(getattr(self, name), name) for name in ("W_xh", "W_hh", "b_h")}
