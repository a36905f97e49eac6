r"""Gated recurrent cells written from scratch: the LSTM and the GRU, with PyTorch's gate layout.

LSTM (Hochreiter and Schmidhuber, 1997, with the forget gate of Gers et al., 2000):

.. math::

    i_t = \sigma(W_{ii} x_t + b_{ii} + W_{hi} h_{t-1} + b_{hi}),\quad
    f_t = \sigma(W_{if} x_t + b_{if} + W_{hf} h_{t-1} + b_{hf}),

    g_t = \tanh(W_{ig} x_t + b_{ig} + W_{hg} h_{t-1} + b_{hg}),\quad
    o_t = \sigma(W_{io} x_t + b_{io} + W_{ho} h_{t-1} + b_{ho}),

    c_t = f_t \odot c_{t-1} + i_t \odot g_t,\qquad h_t = o_t \odot \tanh(c_t).

GRU (Cho et al., 2014), in PyTorch's convention:

.. math::

    r_t = \sigma(W_{ir} x_t + b_{ir} + W_{hr} h_{t-1} + b_{hr}),\quad
    z_t = \sigma(W_{iz} x_t + b_{iz} + W_{hz} h_{t-1} + b_{hz}),

    n_t = \tanh\big(W_{in} x_t + b_{in} + r_t \odot (W_{hn} h_{t-1} + b_{hn})\big),\qquad
    h_t = (1 - z_t) \odot n_t + z_t \odot h_{t-1}.

The parameters are named and stacked as in :class:`torch.nn.LSTMCell` and
:class:`torch.nn.GRUCell`: ``weight_ih`` (4H, D) holds the rows of
``W_ii, W_if, W_ig, W_io`` in that order (GRU: (3H, D), ``W_ir, W_iz, W_in``),
``weight_hh`` (4H, H) or (3H, H) likewise, and two biases. So a state dict
moves between the two implementations unchanged, and the cells compute the
same numbers. :class:`LSTM` and :class:`GRU` loop a cell over a time-major
sequence ``x`` (T, B, D).
"""

from __future__ import annotations

import math

import numpy as np
import torch
from torch import nn

from rnncourse.validation import check_array, check_choice, check_positive_int

__all__ = ["LSTMCell", "GRUCell", "LSTM", "GRU", "memory_jacobian_norms"]


class _GatedCell(nn.Module):
    """Parameters shared by both cells: ``n_gates`` blocks of H rows, PyTorch's names and initialisation."""

    n_gates = 1

    def __init__(self, input_size, hidden_size, *, device=None, dtype=None, generator=None):
        super().__init__()
        D = check_positive_int(input_size, "input_size")
        H = check_positive_int(hidden_size, "hidden_size")
        self.input_size, self.hidden_size = D, H
        kw = {"device": device, "dtype": dtype}
        self.weight_ih = nn.Parameter(torch.empty(self.n_gates * H, D, **kw))
        self.weight_hh = nn.Parameter(torch.empty(self.n_gates * H, H, **kw))
        self.bias_ih = nn.Parameter(torch.empty(self.n_gates * H, **kw))
        self.bias_hh = nn.Parameter(torch.empty(self.n_gates * H, **kw))
        self.reset_parameters(generator)

    def reset_parameters(self, generator: torch.Generator | None = None) -> None:
        """Draw every parameter from U(-1/sqrt(H), 1/sqrt(H)), like PyTorch (on the CPU, then copy)."""
        k = 1.0 / math.sqrt(self.hidden_size)
        with torch.no_grad():
            for p in self.parameters():
                p.copy_(torch.empty(p.shape, dtype=p.dtype).uniform_(-k, k, generator=generator))

    def _check(self, x_t, h_prev, name="h_prev"):
        check_array(x_t, "x_t", ("B", "D"), (None, self.input_size), backend="torch",
                    hint="x_t is one time step (B, D); loop over time with LSTM or GRU")
        check_array(h_prev, name, ("B", "H"), (x_t.shape[0], self.hidden_size), backend="torch")

    def extra_repr(self) -> str:
        return f"{self.input_size}, {self.hidden_size}"

    @classmethod
    def from_torch(cls, cell: nn.Module):
        """A copy of a :class:`torch.nn.LSTMCell` or :class:`torch.nn.GRUCell` with the same weights."""
        twin = {LSTMCell: nn.LSTMCell, GRUCell: nn.GRUCell}[cls]
        if not isinstance(cell, twin) or not cell.bias:
            raise TypeError(f"cell should be a {twin.__name__} with biases, but is {cell!r}")
        w = cell.weight_ih
        mine = cls(cell.input_size, cell.hidden_size, device=w.device, dtype=w.dtype)
        mine.load_state_dict(cell.state_dict())
        return mine


class LSTMCell(_GatedCell):
    r"""One LSTM step written from scratch, equal to :class:`torch.nn.LSTMCell` on the same weights.

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
    weight_ih : torch.nn.Parameter, shape (4H, D)
        Input weights of the gates i, f, g, o, stacked.
    weight_hh : torch.nn.Parameter, shape (4H, H)
        Recurrent weights of the gates i, f, g, o, stacked.
    bias_ih, bias_hh : torch.nn.Parameter, shape (4H,)
        The two biases (only their sum matters).

    Examples
    --------
    >>> cell = LSTMCell(3, 5, generator=torch.Generator().manual_seed(0))
    >>> h, c = cell(torch.zeros(2, 3))
    >>> tuple(h.shape), tuple(c.shape)
    ((2, 5), (2, 5))
    """

    n_gates = 4

    def forward(self, x_t, state=None):
        """One step.

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
        if state is None:
            zeros = x_t.new_zeros(x_t.shape[0], self.hidden_size)
            state = (zeros, zeros)
        h_prev, c_prev = state
        self._check(x_t, h_prev)
        self._check(x_t, c_prev, "c_prev")
        gates = x_t @ self.weight_ih.T + self.bias_ih + h_prev @ self.weight_hh.T + self.bias_hh   # (B, 4H)
        i, f, g, o = gates.chunk(4, dim=1)
        c_t = torch.sigmoid(f) * c_prev + torch.sigmoid(i) * torch.tanh(g)
        h_t = torch.sigmoid(o) * torch.tanh(c_t)
        return h_t, c_t

    def set_forget_bias(self, value: float) -> None:
        """Set the forget gate's bias (``bias_ih`` part; ``bias_hh`` part to 0) so that ``f`` starts near ``sigmoid(value)``.

        A large value (1 to 5) makes the cell remember by default
        (Gers et al., 2000; Jozefowicz et al., 2015).
        """
        H = self.hidden_size
        with torch.no_grad():
            self.bias_ih[H:2 * H] = float(value)
            self.bias_hh[H:2 * H] = 0.0


class GRUCell(_GatedCell):
    r"""One GRU step written from scratch, equal to :class:`torch.nn.GRUCell` on the same weights.

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
    weight_ih : torch.nn.Parameter, shape (3H, D)
        Input weights of r, z, n, stacked.
    weight_hh : torch.nn.Parameter, shape (3H, H)
        Recurrent weights of r, z, n, stacked.
    bias_ih, bias_hh : torch.nn.Parameter, shape (3H,)
        The two biases (``bias_hh``'s n-part sits inside the reset gate's product, so both matter).
    """

    n_gates = 3

    def forward(self, x_t, h_prev=None):
        """One step.

        Parameters
        ----------
        x_t : torch.Tensor, shape (B, D)
            Inputs at time t.
        h_prev : torch.Tensor, shape (B, H), optional
            Previous state; zeros by default.

        Returns
        -------
        torch.Tensor, shape (B, H)
            The new state h_t.
        """
        if h_prev is None:
            h_prev = x_t.new_zeros(x_t.shape[0], self.hidden_size)
        self._check(x_t, h_prev)
        gi_r, gi_z, gi_n = (x_t @ self.weight_ih.T + self.bias_ih).chunk(3, dim=1)
        gh_r, gh_z, gh_n = (h_prev @ self.weight_hh.T + self.bias_hh).chunk(3, dim=1)
        r = torch.sigmoid(gi_r + gh_r)
        z = torch.sigmoid(gi_z + gh_z)
        n = torch.tanh(gi_n + r * gh_n)
        return (1 - z) * n + z * h_prev


class LSTM(nn.Module):
    """A one-layer LSTM over a time-major sequence: :class:`LSTMCell` in a loop over time.

    Equal to :class:`torch.nn.LSTM` (one layer, ``batch_first=False``) when
    its ``weight_ih_l0``, ``weight_hh_l0``, ``bias_ih_l0``, ``bias_hh_l0`` are the cell's.

    Parameters
    ----------
    input_size : int
        D.
    hidden_size : int
        H.
    device, dtype, generator
        Passed to :class:`LSTMCell`.
    """

    def __init__(self, input_size, hidden_size, *, device=None, dtype=None, generator=None):
        super().__init__()
        self.cell = LSTMCell(input_size, hidden_size, device=device, dtype=dtype, generator=generator)

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
        H : torch.Tensor, shape (T, B, H)
            Hidden states h_1 ... h_T.
        state : tuple
            ``(h_T, c_T)``, the final hidden and cell states.
        """
        _check_sequence(x, self.cell.input_size)
        states = []
        for x_t in x.unbind(0):
            state = self.cell(x_t, state)
            states.append(state[0])
        return torch.stack(states), state


class GRU(nn.Module):
    """A one-layer GRU over a time-major sequence: :class:`GRUCell` in a loop over time.

    Equal to :class:`torch.nn.GRU` (one layer, ``batch_first=False``) with the cell's weights.

    Parameters
    ----------
    input_size : int
        D.
    hidden_size : int
        H.
    device, dtype, generator
        Passed to :class:`GRUCell`.
    """

    def __init__(self, input_size, hidden_size, *, device=None, dtype=None, generator=None):
        super().__init__()
        self.cell = GRUCell(input_size, hidden_size, device=device, dtype=dtype, generator=generator)

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
        H : torch.Tensor, shape (T, B, H)
            Hidden states h_1 ... h_T.
        h_T : torch.Tensor, shape (B, H)
            The final state.
        """
        _check_sequence(x, self.cell.input_size)
        h, states = h0, []
        for x_t in x.unbind(0):
            h = self.cell(x_t, h)
            states.append(h)
        return torch.stack(states), h


def _check_sequence(x, D):
    check_array(x, "x", ("T", "B", "D"), (None, None, D), backend="torch",
                hint="x is time-major (T, B, D); for batch-first data pass x.transpose(0, 1)")
    if x.shape[0] == 0:
        raise ValueError(f"x should hold at least one time step, but has shape {tuple(x.shape)}")


def memory_jacobian_norms(cell, x, ord=2, path="all"):
    r"""Norms of :math:`\partial c_T / \partial c_{T-l}` (LSTM) or :math:`\partial h_T / \partial h_{T-l}` (GRU), every lag.

    The exact Jacobian of each step with respect to the whole previous state
    (``(h, c)`` for the LSTM) is computed by autograd; their product, built from
    the end backwards, is the Jacobian of the final memory with respect to an
    earlier one along *every* path (``path="all"``), of which the block of the
    memory (``c`` for the LSTM, ``h`` for the GRU) is kept. With
    ``path="cell"`` (LSTM only) only the direct path along the cell state is
    followed: the product of the blocks :math:`\partial c_t / \partial c_{t-1}
    = \operatorname{diag}(f_t)`, the forget gates. Compare with
    :func:`rnncourse.numpy.jacobian.jacobian_norms` for the simple RNN, which
    returns the same layout.

    Parameters
    ----------
    cell : LSTMCell or GRUCell
        The cell (its weights are not changed).
    x : torch.Tensor, shape (T, 1, D)
        One input sequence, time-major, on the cell's device and dtype.
    ord : int or str
        Matrix norm for :func:`numpy.linalg.norm`: ``2`` (default) or ``"fro"``.
    path : str
        ``"all"`` (default) or ``"cell"`` (LSTM only).

    Returns
    -------
    numpy.ndarray, shape (T + 1,)
        Entry ``l`` is the norm for lag ``l``; entry 0 is the identity's.
    """
    if not isinstance(cell, (LSTMCell, GRUCell)):
        raise TypeError(f"cell should be an LSTMCell or a GRUCell, but is {type(cell).__name__}")
    check_choice(path, "path", ("all", "cell"))
    lstm = isinstance(cell, LSTMCell)
    if path == "cell" and not lstm:
        raise ValueError("path='cell' follows the LSTM's cell state, which a GRUCell does not have; use path='all'")
    _check_sequence(x, cell.input_size)
    if x.shape[1] != 1:
        raise ValueError(f"x should hold one sequence, shape (T, 1, D), but has shape {tuple(x.shape)}; pass x[:, :1]")
    H = cell.hidden_size
    memory = slice(H, 2 * H) if lstm else slice(0, H)

    def step(x_t, s):                     # the state as one vector: (h, c) for the LSTM, h for the GRU
        if lstm:
            return torch.cat(cell(x_t, (s[None, :H], s[None, H:])), dim=1)[0]
        return cell(x_t, s[None])[0]

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
    norms = [np.linalg.norm(P[block, block].cpu().double().numpy(), ord=ord)]
    for J in reversed(jacobians):
        P = P @ J
        norms.append(np.linalg.norm(P[block, block].cpu().double().numpy(), ord=ord))
    return np.array(norms)
