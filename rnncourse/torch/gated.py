r"""Gated recurrent cells written from scratch: the LSTM and the GRU, with PyTorch's gate layout.

LSTM (Hochreiter and Schmidhuber, 1997, with the forget gate of Gers et al., 2000):

.. math::

    i_t = \sigma(W_{xi} x_t + W_{hi} h_{t-1} + b_i),\quad
    f_t = \sigma(W_{xf} x_t + W_{hf} h_{t-1} + b_f),

    g_t = \tanh(W_{xg} x_t + W_{hg} h_{t-1} + b_g),\quad
    o_t = \sigma(W_{xo} x_t + W_{ho} h_{t-1} + b_o),

    c_t = f_t \odot c_{t-1} + i_t \odot g_t,\qquad h_t = o_t \odot \tanh(c_t).

GRU (Cho et al., 2014), in PyTorch's convention:

.. math::

    r_t = \sigma(W_{xr} x_t + b_{xr} + W_{hr} h_{t-1} + b_{hr}),\quad
    z_t = \sigma(W_{xz} x_t + b_{xz} + W_{hz} h_{t-1} + b_{hz}),

    n_t = \tanh\big(W_{xn} x_t + b_{xn} + r_t \odot (W_{hn} h_{t-1} + b_{hn})\big),\qquad
    h_t = (1 - z_t) \odot n_t + z_t \odot h_{t-1}.

The parameters carry the book's names, the same as in :mod:`rnncourse.numpy.gated`,
and are stacked as in :class:`torch.nn.LSTMCell` and :class:`torch.nn.GRUCell`:
``W_xh`` (4H, D) holds the rows of ``W_xi, W_xf, W_xg, W_xo`` in that order
(GRU: (3H, D), ``W_xr, W_xz, W_xn``; torch's ``weight_ih``), ``W_hh`` (4H, H) or
(3H, H) likewise (``weight_hh``). The LSTM has one bias ``b_h`` = ``[b_i; b_f; b_g; b_o]``
(torch's ``bias_ih + bias_hh``, which only ever appear as a sum); the GRU keeps two,
``b_xh`` and ``b_hh``, because the reset gate multiplies ``W_hn h + b_hn``.
``from_torch(module)`` and ``to_torch()`` convert to and from torch's modules,
which then compute the same numbers. :class:`LSTM` and :class:`GRU` run the
cell's equations over a time-major sequence ``x`` (T, B, D) and return
``(hs, state)`` like :class:`torch.nn.LSTM` / :class:`torch.nn.GRU` (one layer).
:class:`GRU` loops :meth:`GRUCell.recur` and leaves the backward pass to
autograd; :class:`LSTM` runs :class:`rnncourse.torch.lstm_bptt.LSTMBPTT`, whose
backward pass is backpropagation through time written out, with one product
per weight over all steps.

Inputs are validated once per public call: the sequence modules check the
whole sequence, then run the loop over time unchecked.
"""



from __future__ import annotations

import contextlib
import math
import numbers

import numpy as np
import torch
from torch import nn

from rnncourse.numpy.jacobian import MATRIX_NORMS
from rnncourse.torch.device import check_device
from rnncourse.torch.init import check_dtype, empty_module, numpy_copy, uniform_
from rnncourse.torch.lstm_bptt import LSTMBPTT
from rnncourse.validation import (check_array, check_choice, check_keys, check_match, check_not_empty,
                                  check_positive_int, check_same_dtype, state_hint)

__all__ = ["LSTMCell", "GRUCell", "LSTM", "GRU", "memory_jacobian_norms"]

_TIME_MAJOR = "x is time-major (T, B, D); for batch-first data pass x.transpose(0, 1)"


class _GatedCell(nn.Module):
    """Parameters shared by both cells: ``n_gates`` blocks of H rows, with the book's names."""

    n_gates = 1
    bias_names: tuple = ()
    torch_class = nn.Module

    def __init__(self, input_size, hidden_size, *, device=None, dtype=None, generator=None):
        super().__init__()
        D = check_positive_int(input_size, "input_size")
        H = check_positive_int(hidden_size, "hidden_size")
        self.input_size, self.hidden_size = D, H
        kw = {"device": check_device(device), "dtype": check_dtype(dtype)}
        self.W_xh = nn.Parameter(torch.empty(self.n_gates * H, D, **kw))
        self.W_hh = nn.Parameter(torch.empty(self.n_gates * H, H, **kw))
        for name in self.bias_names:
            setattr(self, name, nn.Parameter(torch.empty(self.n_gates * H, **kw)))
        self.reset_parameters(generator)

    def reset_parameters(self, generator: torch.Generator | None = None) -> None:
        """Draw every parameter from U(-1/sqrt(H), 1/sqrt(H)), like PyTorch (on the CPU, then copy).

        Parameters
        ----------
        generator : torch.Generator, optional
            A CPU generator; ``None`` uses PyTorch's global generator.
        """
        uniform_(self.parameters(), 1.0 / math.sqrt(self.hidden_size), generator)

    def _check_state(self, h, name, B, T=None):
        """Validate a state (B, H) against the cell; ``T`` is x's first axis, for the message of a wrong shape."""
        check_array(h, name, ("B", "H"), (B, self.hidden_size), backend="torch",
                    hint=state_hint(h, name, T, B, backend="torch"))
        check_match(name, h, "the cell", self.W_xh)

    def _check_step(self, x_t):
        check_array(x_t, "x_t", ("B", "D"), (None, self.input_size), backend="torch",
                    hint="x_t is one time step (B, D); for a sequence use LSTM or GRU")
        check_match("x_t", x_t, "the cell", self.W_xh)
        return x_t.shape[0]

    def extra_repr(self) -> str:
        return f"{self.input_size}, {self.hidden_size}"

    def numpy_params(self) -> dict:
        """Copies of the parameters as :class:`numpy.ndarray`, the arguments of :mod:`rnncourse.numpy.gated`.

        Float32 or float64 only, as the NumPy code; a float16 or bfloat16 cell raises a
        :class:`TypeError` (convert it first with ``.float()``).
        """
        return {name: numpy_copy(p, name) for name, p in self.named_parameters()}

    @classmethod
    def from_numpy(cls, params: dict, *, device=None, dtype=None):
        """A cell holding the arrays of :mod:`rnncourse.numpy.gated`: the way back from :meth:`numpy_params`.

        Draws no random numbers: PyTorch's global generators are left as they were (see
        :func:`~rnncourse.torch.init.empty_module`).

        Parameters
        ----------
        params : dict
            ``W_xh`` (G, D), ``W_hh`` (G, H) and the biases (G,) as :class:`numpy.ndarray`, with
            G = 4H for the LSTM (``b_h``) and 3H for the GRU (``b_xh``, ``b_hh``).
        device : torch.device or str, optional
            Default: the CPU.
        dtype : torch.dtype, optional
            Default: the dtype of the arrays (float64 stays float64).
        """
        names = ("W_xh", "W_hh") + cls.bias_names
        check_keys(params, "params", names, "take them from numpy_params() of a cell of this kind")
        gates = f"{cls.n_gates}H"
        H = check_array(params["W_hh"], "params['W_hh']", (gates, "H"), finite=False).shape[1]
        hint = f"the {cls.n_gates} gates' blocks of H = {H} rows (the columns of W_hh), stacked"
        check_array(params["W_hh"], "params['W_hh']", (gates, "H"), (cls.n_gates * H, H), hint=hint)
        W_xh = check_array(params["W_xh"], "params['W_xh']", (gates, "D"), (cls.n_gates * H, None), hint=hint)
        for name in cls.bias_names:
            check_array(params[name], f"params[{name!r}]", (gates,), (cls.n_gates * H,), hint=hint)
        check_same_dtype(**{name: params[name] for name in names})
        dtype = dtype if dtype is not None else torch.as_tensor(W_xh[:0]).dtype
        cell = empty_module(cls, W_xh.shape[1], H, device=device, dtype=dtype)
        with torch.no_grad():
            for name in names:
                getattr(cell, name).copy_(torch.as_tensor(params[name]))
        return cell

    @classmethod
    def from_torch(cls, cell: nn.Module):
        """A copy of a :class:`torch.nn.LSTMCell` (for :class:`LSTMCell`) or :class:`torch.nn.GRUCell`.

        On the device and with the dtype of ``cell``; see :meth:`to_torch` for the way back.
        A cell built with ``bias=False`` is copied with zero biases. An LSTM cell's ``b_h`` is
        ``bias_ih + bias_hh``, a rounded sum, and :meth:`to_torch` puts all of it in ``bias_ih``:
        ``torch.nn`` -> ours -> ``torch.nn`` is equal up to float rounding, while ours -> ``torch.nn``
        -> ours is exact. A GRU cell keeps both biases, so both trips are exact.
        Draws no random numbers: PyTorch's global generators are left as they were (see
        :func:`~rnncourse.torch.init.empty_module`).

        Parameters
        ----------
        cell : torch.nn.LSTMCell or torch.nn.GRUCell
            The kind that matches this class.
        """
        if not isinstance(cell, cls.torch_class):
            raise TypeError(f"cell should be a torch.nn.{cls.torch_class.__name__}, but is {cell!r}")
        w = cell.weight_ih
        mine = empty_module(cls, cell.input_size, cell.hidden_size, device=w.device, dtype=w.dtype)
        mine._copy_from(cell.weight_ih, cell.weight_hh, cell.bias_ih, cell.bias_hh)
        return mine

    def to_torch(self) -> nn.Module:
        """An equal :class:`torch.nn.LSTMCell` or :class:`torch.nn.GRUCell`.

        Draws no random numbers: PyTorch's global generators are left as they were (see
        :func:`~rnncourse.torch.init.empty_module`).
        """
        w = self.W_xh
        cell = empty_module(self.torch_class, self.input_size, self.hidden_size, device=w.device, dtype=w.dtype)
        self._copy_to(cell.weight_ih, cell.weight_hh, cell.bias_ih, cell.bias_hh)
        return cell

    def _copy_from(self, weight_ih, weight_hh, bias_ih, bias_hh):
        """Copy torch's parameters in; its biases are None when it was built with ``bias=False``."""
        if bias_ih is None:
            bias_ih = bias_hh = torch.zeros_like(weight_ih[:, 0])
        with torch.no_grad():
            self.W_xh.copy_(weight_ih)
            self.W_hh.copy_(weight_hh)
            if self.bias_names == ("b_h",):
                self.b_h.copy_(bias_ih + bias_hh)
            else:
                self.b_xh.copy_(bias_ih)
                self.b_hh.copy_(bias_hh)

    def _copy_to(self, weight_ih, weight_hh, bias_ih, bias_hh):
        with torch.no_grad():
            weight_ih.copy_(self.W_xh)
            weight_hh.copy_(self.W_hh)
            if self.bias_names == ("b_h",):
                bias_ih.copy_(self.b_h)
                bias_hh.zero_()
            else:
                bias_ih.copy_(self.b_xh)
                bias_hh.copy_(self.b_hh)


class LSTMCell(_GatedCell):
    r"""One LSTM step written from scratch, equal to :class:`torch.nn.LSTMCell` on the same weights.

    The twin of :func:`rnncourse.numpy.gated.lstm_step_forward`.

    Parameters
    ----------
    input_size : int
        D.
    hidden_size : int
        H.
    device, dtype, generator
        Where the parameters live, their dtype, the source of the initial weights.

    Attributes
    ----------
    W_xh : torch.nn.Parameter, shape (4H, D)
        Input weights of the gates i, f, g, o, stacked (torch's ``weight_ih``).
    W_hh : torch.nn.Parameter, shape (4H, H)
        Recurrent weights of the gates i, f, g, o, stacked (torch's ``weight_hh``).
    b_h : torch.nn.Parameter, shape (4H,)
        The bias (torch's ``bias_ih + bias_hh``).

    Notes
    -----
    ``LSTMCell.from_torch(cell)`` copies a :class:`torch.nn.LSTMCell`, ``to_torch()``
    returns an equal one, ``numpy_params()`` gives the arrays of
    :func:`rnncourse.numpy.gated.lstm_step_forward` and ``from_numpy(params)`` takes
    them back. :meth:`step` is the step
    without validation, :meth:`recur` the step given its input part.

    Examples
    --------
    >>> cell = LSTMCell(3, 5, generator=torch.Generator().manual_seed(0))
    >>> h, c = cell(torch.zeros(2, 3))
    >>> tuple(h.shape), tuple(c.shape)
    ((2, 5), (2, 5))
    """

    n_gates = 4
    bias_names = ("b_h",)
    torch_class = nn.LSTMCell

    def forward(self, x_t, state=None):
        """One step, with its inputs validated.

        Parameters
        ----------
        x_t : torch.Tensor, shape (B, D)
            Inputs at time t.
        state : tuple, optional
            ``(h_prev, c_prev)``, each a :class:`torch.Tensor` of shape (B, H); zeros by default.

        Returns
        -------
        tuple
            ``(h_t, c_t)``, each of shape (B, H).
        """
        B = self._check_step(x_t)
        if state is None:
            return self.step(x_t, self.zero_state(x_t))
        return self.step(x_t, self._check_pair(state, ("h_prev", "c_prev"), B))

    def _check_pair(self, state, names, B, T=None):
        """Check that ``state`` is a pair of states (B, H), named ``names`` in the messages; return it."""
        if not (isinstance(state, (tuple, list)) and len(state) == 2):
            if isinstance(state, torch.Tensor):
                got = f"a torch.Tensor of shape {tuple(state.shape)}"
            elif isinstance(state, (tuple, list)):
                got = f"a {type(state).__name__} of {len(state)} item{'s' * (len(state) != 1)}"
            else:
                got = type(state).__name__
            raise TypeError(f"the LSTM's state should be a pair ({names[0]}, {names[1]}) of tensors of shape "
                            f"(B, H), but is {got}")
        for h, name in zip(state, names):
            self._check_state(h, name, B, T)
        return tuple(state)

    def zero_state(self, x_t):
        """``(h, c)`` of zeros for the batch of ``x_t``, on its device and dtype.

        Parameters
        ----------
        x_t : torch.Tensor, shape (B, D)
            Inputs at one step; only its batch size, device and dtype are used.

        Returns
        -------
        tuple
            ``(h, c)``, two tensors of zeros of shape (B, H).
        """
        B, H = x_t.shape[0], self.hidden_size
        return x_t.new_zeros(B, H), x_t.new_zeros(B, H)      # two tensors: an in-place edit of one leaves the other

    def input_part(self, x):
        """``x W_xh^T + b_h``, the part of the gates' pre-activations that does not depend on the state.

        Parameters
        ----------
        x : torch.Tensor, shape (N, D)
            One step (N = B) or, flattened, all steps (N = T*B) in one product.

        Returns
        -------
        torch.Tensor, shape (N, 4H)
            The input parts of the gates i, f, g, o, side by side.
        """
        return torch.addmm(self.b_h, x, self.W_xh.t())

    def step(self, x_t, state):
        """The step's equations, without validation.

        Parameters
        ----------
        x_t : torch.Tensor, shape (B, D)
            Inputs at time t.
        state : tuple
            ``(h_prev, c_prev)``, each of shape (B, H).

        Returns
        -------
        tuple
            ``(h_t, c_t)``, each of shape (B, H).
        """
        return self.recur(self.input_part(x_t), state)

    def recur(self, xw_t, state):
        """The step given its input part, which a loop over time can compute for every step at once.

        Parameters
        ----------
        xw_t : torch.Tensor, shape (B, 4H)
            ``x_t W_xh^T + b_h``, from :meth:`input_part`.
        state : tuple
            ``(h_prev, c_prev)``, each of shape (B, H).

        Returns
        -------
        tuple
            ``(h_t, c_t)``, each of shape (B, H).
        """
        h_prev, c_prev = state
        a_i, a_f, a_g, a_o = torch.addmm(xw_t, h_prev, self.W_hh.t()).chunk(4, dim=1)  # pre-activations a_t
        i_t, f_t, g_t, o_t = torch.sigmoid(a_i), torch.sigmoid(a_f), torch.tanh(a_g), torch.sigmoid(a_o)
        c_t = f_t * c_prev + i_t * g_t
        h_t = o_t * torch.tanh(c_t)
        return h_t, c_t

    def set_forget_bias(self, value: float) -> None:
        """Set the forget gate's bias (rows H..2H of ``b_h``) so that ``f`` starts near ``sigmoid(value)``.

        A large value (1 to 5) makes the cell remember by default
        (Gers et al., 2000; Jozefowicz et al., 2015).

        Parameters
        ----------
        value : float
            The bias of every forget unit, a finite number.
        """
        if isinstance(value, bool) or not isinstance(value, numbers.Real):
            raise TypeError(f"value should be a real number, e.g. 1.0, but is {type(value).__name__} {value!r}")
        if not math.isfinite(value):
            raise ValueError(f"value should be a finite number, but is {value}")
        H = self.hidden_size
        with torch.no_grad():
            self.b_h[H:2 * H] = float(value)


class GRUCell(_GatedCell):
    r"""One GRU step written from scratch, equal to :class:`torch.nn.GRUCell` on the same weights.

    The twin of :func:`rnncourse.numpy.gated.gru_step_forward`.

    Parameters
    ----------
    input_size : int
        D.
    hidden_size : int
        H.
    device, dtype, generator
        Where the parameters live, their dtype, the source of the initial weights.

    Attributes
    ----------
    W_xh : torch.nn.Parameter, shape (3H, D)
        Input weights of r, z, n, stacked (torch's ``weight_ih``).
    W_hh : torch.nn.Parameter, shape (3H, H)
        Recurrent weights of r, z, n, stacked (torch's ``weight_hh``).
    b_xh, b_hh : torch.nn.Parameter, shape (3H,)
        The two biases (torch's ``bias_ih``, ``bias_hh``); ``b_hh``'s n-part sits
        inside the reset gate's product, so both matter.

    Notes
    -----
    ``GRUCell.from_torch(cell)`` copies a :class:`torch.nn.GRUCell`, ``to_torch()``
    returns an equal one, ``numpy_params()`` gives the arrays of
    :func:`rnncourse.numpy.gated.gru_step_forward` and ``from_numpy(params)`` takes
    them back.
    """

    n_gates = 3
    bias_names = ("b_xh", "b_hh")
    torch_class = nn.GRUCell

    def forward(self, x_t, h_prev=None):
        """One step, with its inputs validated.

        Parameters
        ----------
        x_t : torch.Tensor, shape (B, D)
            Inputs at time t.
        h_prev : torch.Tensor, shape (B, H), optional
            Previous state; zeros by default.

        Returns
        -------
        h_t : torch.Tensor, shape (B, H)
            The new state.
        """
        B = self._check_step(x_t)
        if h_prev is None:
            return self.step(x_t, self.zero_state(x_t))
        self._check_state(h_prev, "h_prev", B)
        return self.step(x_t, h_prev)

    def zero_state(self, x_t):
        """A state of zeros for the batch of ``x_t``, on its device and dtype.

        Parameters
        ----------
        x_t : torch.Tensor, shape (B, D)
            Inputs at one step; only its batch size, device and dtype are used.

        Returns
        -------
        torch.Tensor, shape (B, H)
        """
        return x_t.new_zeros(x_t.shape[0], self.hidden_size)

    def input_part(self, x):
        """``x W_xh^T + b_xh``, the part of the gates that does not depend on the state.

        Parameters
        ----------
        x : torch.Tensor, shape (N, D)
            One step (N = B) or, flattened, all steps (N = T*B) in one product.

        Returns
        -------
        torch.Tensor, shape (N, 3H)
            The input parts of r, z and n, side by side.
        """
        return torch.addmm(self.b_xh, x, self.W_xh.t())

    def step(self, x_t, h_prev):
        """The step's equations, without validation.

        Parameters
        ----------
        x_t : torch.Tensor, shape (B, D)
            Inputs at time t.
        h_prev : torch.Tensor, shape (B, H)
            Previous state.

        Returns
        -------
        h_t : torch.Tensor, shape (B, H)
            The new state.
        """
        return self.recur(self.input_part(x_t), h_prev)

    def recur(self, xw_t, h_prev):
        """The step given its input part; :class:`GRU` computes every ``xw_t`` at once.

        Parameters
        ----------
        xw_t : torch.Tensor, shape (B, 3H)
            ``x_t W_xh^T + b_xh``, from :meth:`input_part`.
        h_prev : torch.Tensor, shape (B, H)
            Previous state.

        Returns
        -------
        h_t : torch.Tensor, shape (B, H)
            The new state.
        """
        xw_r, xw_z, xw_n = xw_t.chunk(3, dim=1)                                           # W_x· x_t + b_x·
        hw_r, hw_z, hw_n = torch.addmm(self.b_hh, h_prev, self.W_hh.t()).chunk(3, dim=1)  # W_h· h_{t-1} + b_h·
        r_t = torch.sigmoid(xw_r + hw_r)
        z_t = torch.sigmoid(xw_z + hw_z)
        n_t = torch.tanh(xw_n + r_t * hw_n)
        h_t = (1 - z_t) * n_t + z_t * h_prev
        return h_t


class _GatedLayer(nn.Module):
    """What :class:`LSTM` and :class:`GRU` share: the cell, validation of the sequence once, conversions."""

    cell_class = _GatedCell
    torch_class = nn.Module

    def __init__(self, input_size, hidden_size, *, device=None, dtype=None, generator=None):
        super().__init__()
        self.cell = self.cell_class(input_size, hidden_size, device=device, dtype=dtype, generator=generator)

    def _check(self, x, state):
        cell = self.cell
        check_array(x, "x", ("T", "B", "D"), (None, None, cell.input_size), backend="torch", hint=_TIME_MAJOR)
        check_not_empty(x, "x")
        check_match("x", x, "the model", cell.W_xh)
        B = x.shape[1]
        if state is None:
            return cell.zero_state(x[0])
        if isinstance(cell, LSTMCell):
            return cell._check_pair(state, ("h0", "c0"), B, x.shape[0])
        cell._check_state(state, "h0", B, x.shape[0])
        return state

    @classmethod
    def from_torch(cls, layer: nn.Module):
        """A copy of a one-layer, unidirectional, time-major :class:`torch.nn.LSTM` or :class:`torch.nn.GRU`.

        A layer built with ``bias=False`` is copied with zero biases. An LSTM's ``b_h`` is
        ``bias_ih_l0 + bias_hh_l0``, a rounded sum, and :meth:`to_torch` puts all of it in
        ``bias_ih_l0``: ``torch.nn`` -> ours -> ``torch.nn`` is equal up to float rounding, while
        ours -> ``torch.nn`` -> ours is exact. A GRU keeps both biases, so both trips are exact.
        Draws no random numbers: PyTorch's global generators are left as they were (see
        :func:`~rnncourse.torch.init.empty_module`).

        Parameters
        ----------
        layer : torch.nn.LSTM or torch.nn.GRU
            The kind that matches this class, with ``num_layers=1``, ``bidirectional=False`` and
            ``batch_first=False`` (and, for an LSTM, ``proj_size=0``).
        """
        if not isinstance(layer, cls.torch_class):
            raise TypeError(f"layer should be a torch.nn.{cls.torch_class.__name__}, but is {layer!r}")
        problems = [f"{name}={getattr(layer, name)!r} (need {want!r})" for name, want in
                    (("num_layers", 1), ("bidirectional", False), ("batch_first", False),
                     ("proj_size", 0)) if getattr(layer, name, want) != want]
        if problems:
            raise ValueError(f"{cls.__name__} copies a one-layer, unidirectional, time-major "
                             f"torch.nn.{cls.torch_class.__name__}, but layer has " + ", ".join(problems)
                             + "; construct it with those settings")
        w = layer.weight_ih_l0
        mine = empty_module(cls, layer.input_size, layer.hidden_size, device=w.device, dtype=w.dtype)
        mine.cell._copy_from(layer.weight_ih_l0, layer.weight_hh_l0, getattr(layer, "bias_ih_l0", None),
                             getattr(layer, "bias_hh_l0", None))
        return mine

    def to_torch(self) -> nn.Module:
        """An equal one-layer :class:`torch.nn.LSTM` or :class:`torch.nn.GRU`.

        Draws no random numbers: PyTorch's global generators are left as they were (see
        :func:`~rnncourse.torch.init.empty_module`).
        """
        cell, w = self.cell, self.cell.W_xh
        layer = empty_module(self.torch_class, cell.input_size, cell.hidden_size, device=w.device, dtype=w.dtype)
        cell._copy_to(layer.weight_ih_l0, layer.weight_hh_l0, layer.bias_ih_l0, layer.bias_hh_l0)
        return layer

    def numpy_params(self) -> dict:
        """The cell's arrays, the arguments of :func:`rnncourse.numpy.gated.lstm_forward` (or ``gru_forward``)."""
        return self.cell.numpy_params()

    @classmethod
    def from_numpy(cls, params: dict, *, device=None, dtype=None):
        """A layer holding the arrays of :func:`rnncourse.numpy.gated.lstm_forward` (or ``gru_forward``).

        Draws no random numbers: PyTorch's global generators are left as they were (see
        :func:`~rnncourse.torch.init.empty_module`).

        Parameters
        ----------
        params : dict
            ``W_xh`` (G, D), ``W_hh`` (G, H) and the biases (G,) as :class:`numpy.ndarray`, with
            G = 4H for the LSTM (``b_h``) and 3H for the GRU (``b_xh``, ``b_hh``).
        device : torch.device or str, optional
            Default: the CPU.
        dtype : torch.dtype, optional
            Default: the dtype of the arrays (float64 stays float64).
        """
        cell = cls.cell_class.from_numpy(params, device=device, dtype=dtype)
        layer = empty_module(cls, cell.input_size, cell.hidden_size, device=cell.W_xh.device, dtype=cell.W_xh.dtype)
        layer.cell = cell
        return layer


class LSTM(_GatedLayer):
    """A one-layer LSTM over a time-major sequence: :class:`LSTMCell`'s equations in a loop over time.

    Equal to :class:`torch.nn.LSTM` (one layer, ``batch_first=False``) on the
    same weights (see :meth:`from_torch` and :meth:`to_torch`).

    Its backward pass is written out rather than left to autograd:
    :class:`rnncourse.torch.lstm_bptt.LSTMBPTT`, the twin of
    :func:`rnncourse.numpy.gated.lstm_backward`, walks back in time carrying
    ``dh`` and ``dc`` and then computes each weight's gradient, a sum over
    all steps, as one matrix product, where autograd through the cell would
    compute and add up one product per step. The tests check it against
    autograd through :class:`LSTMCell` and against :class:`torch.nn.LSTM`.
    Gradients of gradients are not supported (use :class:`LSTMCell` in a loop).
    Under :func:`torch.autocast` the layer computes in its weights' dtype (float32 unless
    set otherwise), where :class:`torch.nn.LSTM` would use float16 or bfloat16.

    Parameters
    ----------
    input_size : int
        D.
    hidden_size : int
        H.
    device, dtype, generator
        Passed to :class:`LSTMCell`.

    Attributes
    ----------
    cell : LSTMCell
        The cell and its parameters ``W_xh``, ``W_hh``, ``b_h``.

    Notes
    -----
    ``LSTM.from_torch(layer)`` copies a one-layer :class:`torch.nn.LSTM`; ``to_torch()``
    returns an equal one. ``numpy_params()`` gives the arrays of
    :func:`rnncourse.numpy.gated.lstm_forward` and ``LSTM.from_numpy(params)`` takes them back.
    """

    cell_class = LSTMCell
    torch_class = nn.LSTM

    def forward(self, x, state=None):
        """Run over a sequence.

        Parameters
        ----------
        x : torch.Tensor, shape (T, B, D)
            Input sequence, time-major.
        state : tuple, optional
            ``(h0, c0)``, each (B, H); zeros by default.

        Returns
        -------
        hs : torch.Tensor, shape (T, B, H)
            Hidden states h_1 ... h_T.
        state : tuple
            ``(h_T, c_T)``, the final hidden and cell states; ``h_T`` equals ``hs[-1]`` but, as in
            :class:`torch.nn.LSTM`, is a tensor of its own (``h_T.detach_()`` works; editing ``hs``
            in place leaves it alone).
        """
        h0, c0 = self._check(x, state)
        cell = self.cell
        dtype = cell.W_xh.dtype
        with _autocast_off(x.device):       # LSTMBPTT computes in one dtype, the weights'
            hs, c_T = LSTMBPTT.apply(x.to(dtype), h0.to(dtype), c0.to(dtype), cell.W_xh, cell.W_hh, cell.b_h)
        return hs, (hs[-1].clone(), c_T)    # h_T its own tensor, not a view of hs, as in torch.nn.LSTM


def _autocast_off(device: torch.device):
    """A context that switches :func:`torch.autocast` (mixed precision) off on ``device``.

    Autocast would run some of :class:`LSTMBPTT`'s products in float16 or bfloat16 and
    leave its in-place updates in float32, which cannot be mixed; without it the layer
    runs in the weights' dtype, as every operation that autocast does not cover.
    """
    try:
        return torch.autocast(device.type, enabled=False)
    except RuntimeError:                       # a device type without autocast, e.g. meta
        return contextlib.nullcontext()


class GRU(_GatedLayer):
    """A one-layer GRU over a time-major sequence: :class:`GRUCell` in a loop over time.

    Equal to :class:`torch.nn.GRU` (one layer, ``batch_first=False``) on the
    same weights (see :meth:`from_torch` and :meth:`to_torch`).

    Parameters
    ----------
    input_size : int
        D.
    hidden_size : int
        H.
    device, dtype, generator
        Passed to :class:`GRUCell`.

    Attributes
    ----------
    cell : GRUCell
        The cell and its parameters ``W_xh``, ``W_hh``, ``b_xh``, ``b_hh``.

    Notes
    -----
    ``GRU.from_torch(layer)`` copies a one-layer :class:`torch.nn.GRU`; ``to_torch()``
    returns an equal one. ``numpy_params()`` gives the arrays of
    :func:`rnncourse.numpy.gated.gru_forward` and ``GRU.from_numpy(params)`` takes them back.
    """

    cell_class = GRUCell
    torch_class = nn.GRU

    def forward(self, x, h0=None):
        """Run over a sequence.

        Parameters
        ----------
        x : torch.Tensor, shape (T, B, D)
            Input sequence, time-major.
        h0 : torch.Tensor, shape (B, H), optional
            Initial state; zeros by default.

        Returns
        -------
        hs : torch.Tensor, shape (T, B, H)
            Hidden states h_1 ... h_T.
        h_T : torch.Tensor, shape (B, H)
            The final state.
        """
        h = self._check(x, h0)
        T, B, D = x.shape
        XW = self.cell.input_part(x.reshape(T * B, D)).view(T, B, -1)    # every step's input part, one product
        hs = []
        for xw_t in XW.unbind(0):
            h = self.cell.recur(xw_t, h)
            hs.append(h)
        return torch.stack(hs), h


def _memory_norms_one(cell, x, ord, path):
    """The norms of :func:`memory_jacobian_norms` for one sequence ``x`` (T, 1, D): shape (T + 1,)."""
    lstm = isinstance(cell, LSTMCell)
    H = cell.hidden_size
    memory = slice(H, 2 * H) if lstm else slice(0, H)

    def step(x_t, s):                     # the state as one vector: (h, c) for the LSTM, h for the GRU
        if lstm:
            return torch.cat(cell.step(x_t, (s[None, :H], s[None, H:])), dim=1)[0]
        return cell.step(x_t, s[None])[0]

    s = x.new_zeros(2 * H if lstm else H)
    jacobians = []
    with torch.no_grad():
        for x_t in x.unbind(0):
            J = torch.autograd.functional.jacobian(lambda v: step(x_t, v), s, vectorize=True)
            jacobians.append(J if path == "all" else J[memory, memory])
            s = step(x_t, s)
    n = jacobians[0].shape[0]
    P = torch.eye(n, dtype=s.dtype, device=s.device)
    block = memory if path == "all" else slice(0, n)
    exponent = 0                                   # the true product is P * 2**exponent
    norms = np.empty(len(jacobians) + 1)
    with np.errstate(over="ignore"):               # a norm beyond float64 is inf; a vanishing one becomes 0
        for lag in range(len(jacobians) + 1):
            if lag:
                P = P @ jacobians[-lag]
            _, e = math.frexp(float(P.abs().amax()))   # largest entry in [2**(e-1), 2**e); e = 0 for P = 0
            half = -e // 2                             # two factors, each within the range of P's dtype
            P = P * math.ldexp(1.0, half) * math.ldexp(1.0, -e - half)   # exact: powers of two change no digit
            exponent += e
            norms[lag] = np.ldexp(np.linalg.norm(P[block, block].cpu().double().numpy(), ord=ord), exponent)
    return norms


def memory_jacobian_norms(cell, x, ord=2, path="all"):
    r"""Norms of :math:`\partial c_T / \partial c_{T-l}` (LSTM) or :math:`\partial h_T / \partial h_{T-l}` (GRU), every lag.

    The exact Jacobian of each step with respect to the whole previous state
    (``(h, c)`` for the LSTM) is computed by autograd; their product, built from
    the end backwards, is the Jacobian of the final memory with respect to an
    earlier one along *every* path (``path="all"``), of which the block of the
    memory (``c`` for the LSTM, ``h`` for the GRU) is kept. With
    ``path="cell"`` (LSTM only) only the direct path along the cell state is
    followed: the product of the blocks :math:`\partial c_t / \partial c_{t-1}
    = \operatorname{diag}(f_t)`, the forget gates. The layout is the one of
    :func:`rnncourse.numpy.jacobian.jacobian_norms` for the simple RNN: one
    row per lag, one column per sequence.

    As there, ``P`` is divided after each product by the power of two that brings its
    largest entry into [1/2, 1), and the norm is multiplied back in float64: every matrix
    norm obeys ``||c P|| = |c| ||P||``, and powers of two scale exactly. Where the plain
    product stays within the normal numbers of the cell's dtype, the norms are the same,
    bit for bit; beyond that (a float32 cell whose product passes ~3e38) they still come
    out, ``inf`` only past float64's largest number and 0 below its smallest.

    Parameters
    ----------
    cell : LSTMCell or GRUCell
        The cell (its weights are not changed).
    x : torch.Tensor, shape (T, B, D)
        Input sequences, time-major, on the cell's device and dtype; each starts from a zero state.
    ord : int or str
        Matrix norm for :func:`numpy.linalg.norm`: ``2`` (default), ``"fro"``, ``"nuc"``,
        ``1``, ``-1``, ``-2``, ``inf`` or ``-inf``.
    path : str
        ``"all"`` (default) or ``"cell"`` (LSTM only).

    Returns
    -------
    numpy.ndarray, shape (T + 1, B)
        Entry ``[l, b]`` is the norm for lag ``l`` of sequence ``b``; row 0 is the identity's.
    """
    if not isinstance(cell, (LSTMCell, GRUCell)):
        kind = f"{type(cell).__module__}.{type(cell).__qualname__}"
        mine = {nn.LSTMCell: "LSTMCell", nn.GRUCell: "GRUCell"}.get(type(cell))
        fix = f"; copy it with rnncourse.torch.{mine}.from_torch(cell)" if mine else ""
        raise TypeError(f"cell should be an rnncourse.torch LSTMCell or GRUCell, but is {kind}{fix}")
    check_choice(path, "path", ("all", "cell"))
    check_choice(ord, "ord", MATRIX_NORMS)
    if path == "cell" and not isinstance(cell, LSTMCell):
        raise ValueError("path='cell' follows the LSTM's cell state, which a GRUCell does not have; use path='all'")
    check_array(x, "x", ("T", "B", "D"), (None, None, cell.input_size), backend="torch", hint=_TIME_MAJOR)
    check_not_empty(x, "x")
    check_match("x", x, "the cell", cell.W_xh)
    return np.stack([_memory_norms_one(cell, x[:, b:b + 1], ord, path) for b in range(x.shape[1])], axis=1)
