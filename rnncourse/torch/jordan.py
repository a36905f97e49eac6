r"""The Jordan network in PyTorch: the previous output, not the hidden state, is fed back.

.. math::

    h_t = f(W_{xh} x_t + W_{yh} u_t + b_h), \qquad y_t = g(W_{hy} h_t + b_y),

where the fed-back value is :math:`u_1 = y_0` and, for :math:`t > 1`, either
the network's own previous output :math:`u_t = y_{t-1}` (free running, closed
loop) or, with *teacher forcing*, the previous target :math:`u_t = y^*_{t-1}`.
The twin of :mod:`rnncourse.numpy.jordan`, with autograd for the backward pass.

Under teacher forcing every fed-back value is known before the pass starts, so
the whole sequence is computed at once, without a loop over time.
Shapes are time-major: ``x`` (T, B, D), outputs (T, B, O), hidden states (T, B, H).
"""

from __future__ import annotations

import math

import numpy as np
import torch
from torch import nn

from rnncourse.torch.elman import ACTIVATIONS
from rnncourse.torch.device import check_device
from rnncourse.torch.init import check_dtype, empty_module, numpy_copy, uniform_
from rnncourse.validation import (check_array, check_bool, check_choice, check_keys, check_match, check_not_empty,
                                  check_positive_int, check_same_dtype)

__all__ = ["JordanRNN"]

_OUTPUT = {"linear": lambda z: z, "sigmoid": torch.sigmoid, "tanh": torch.tanh}
#: Each parameter's shape in the book's letters.
_SYMBOLS = {"W_xh": ("H", "D"), "W_yh": ("H", "O"), "b_h": ("H",), "W_hy": ("O", "H"), "b_y": ("O",)}
_NAMES = tuple(_SYMBOLS)


class JordanRNN(nn.Module):
    r"""A Jordan network, :math:`h_t = f(W_{xh} x_t + W_{yh} u_t + b_h)`, :math:`y_t = g(W_{hy} h_t + b_y)`.

    Equal to :func:`rnncourse.numpy.jordan.jordan_forward` on the same weights
    (see :meth:`from_numpy`). To train it with :func:`rnncourse.torch.training.train`,
    pass each batch's targets in: ``train(model, batches, loss_fn, config,
    forward=lambda model, x, y: model(x, targets=y))`` (used under teacher forcing,
    ignored when the model runs free).

    Parameters
    ----------
    input_size : int
        D.
    hidden_size : int
        H.
    output_size : int
        O, the size of the output, which is also what is fed back.
    nonlinearity : str
        Hidden nonlinearity ``f``: ``"tanh"`` (default) or ``"relu"``.
    output : str
        Output nonlinearity ``g``: ``"linear"`` (default), ``"sigmoid"`` or ``"tanh"``.
    teacher_forcing : bool
        Default for :meth:`forward`: feed back the previous *target* instead of
        the previous prediction (default ``False``).
    device : torch.device or str, optional
        Where the parameters live (default: the CPU).
    dtype : torch.dtype, optional
        Parameter dtype.
    generator : torch.Generator, optional
        Source of the initial weights, all from U(-1/sqrt(H), 1/sqrt(H)).

    Attributes
    ----------
    W_xh : torch.nn.Parameter, shape (H, D)
    W_yh : torch.nn.Parameter, shape (H, O)
    b_h : torch.nn.Parameter, shape (H,)
    W_hy : torch.nn.Parameter, shape (O, H)
    b_y : torch.nn.Parameter, shape (O,)

    Examples
    --------
    >>> model = JordanRNN(1, 4, 2, generator=torch.Generator().manual_seed(0))
    >>> Y, hs = model(torch.zeros(6, 3, 1))
    >>> tuple(Y.shape), tuple(hs.shape)
    ((6, 3, 2), (6, 3, 4))
    """

    def __init__(self, input_size, hidden_size, output_size, nonlinearity="tanh", output="linear", *,
                 teacher_forcing=False, device=None, dtype=None, generator=None):
        super().__init__()
        D = check_positive_int(input_size, "input_size")
        H = check_positive_int(hidden_size, "hidden_size")
        O = check_positive_int(output_size, "output_size")  # noqa: E741 (the book's symbol)
        check_choice(nonlinearity, "nonlinearity", tuple(ACTIVATIONS))
        check_choice(output, "output", tuple(_OUTPUT))
        teacher_forcing = check_bool(teacher_forcing, "teacher_forcing")
        device, dtype = check_device(device), check_dtype(dtype)
        self.input_size, self.hidden_size, self.output_size = D, H, O
        self.nonlinearity, self.output, self.teacher_forcing = nonlinearity, output, teacher_forcing
        shapes = {"W_xh": (H, D), "W_yh": (H, O), "b_h": (H,), "W_hy": (O, H), "b_y": (O,)}
        for name, shape in shapes.items():
            setattr(self, name, nn.Parameter(torch.empty(shape, device=device, dtype=dtype)))
        self.reset_parameters(generator)

    def reset_parameters(self, generator: torch.Generator | None = None) -> None:
        """Draw every parameter from U(-1/sqrt(H), 1/sqrt(H)) (on the CPU, then copy: same on every device).

        Parameters
        ----------
        generator : torch.Generator, optional
            A CPU generator; ``None`` uses PyTorch's global generator.
        """
        uniform_(self.parameters(), 1.0 / math.sqrt(self.hidden_size), generator)

    def forward(self, x, y0=None, targets=None, teacher_forcing=None):
        """Run the network over a sequence.

        Parameters
        ----------
        x : torch.Tensor, shape (T, B, D)
            Input sequence, time-major.
        y0 : torch.Tensor, shape (B, O), optional
            The output fed into the first step; zeros by default.
        targets : torch.Tensor, shape (T, B, O), optional
            The target outputs; under teacher forcing step ``t + 1`` is fed
            ``targets[t]``. Ignored when running free.
        teacher_forcing : bool, optional
            Override the model's ``teacher_forcing`` for this call: ``True`` feeds the
            targets back ("open loop"), ``False`` the model's own outputs
            ("closed loop").

        Returns
        -------
        Y : torch.Tensor, shape (T, B, O)
            The outputs.
        hs : torch.Tensor, shape (T, B, H)
            The hidden states.
        """
        forcing = self.teacher_forcing if teacher_forcing is None else check_bool(teacher_forcing, "teacher_forcing")
        self._check(x, y0, targets, forcing)
        f, g = ACTIVATIONS[self.nonlinearity], _OUTPUT[self.output]
        T, B, D = x.shape
        u = y0 if y0 is not None else x.new_zeros(B, self.output_size)      # u_1 = y_0
        # x_t W_xh^T + b_h for every step at once, (T, B, H)
        XW = torch.addmm(self.b_h, x.reshape(T * B, D), self.W_xh.t()).view(T, B, self.hidden_size)
        if forcing:       # every fed-back value is known: no loop over time
            U = torch.cat([u[None], targets[:-1].detach()])      # u_1 = y_0, u_t = y*_{t-1}: (T, B, O)
            hs = f(XW + U @ self.W_yh.T)
            return g(hs @ self.W_hy.T + self.b_y), hs
        outputs, hs = [], []
        for xw_t in XW.unbind(0):
            h = f(torch.addmm(xw_t, u, self.W_yh.t()))      # h_t = f(a_t), a_t = xw_t + u_t W_yh^T
            y = g(torch.addmm(self.b_y, h, self.W_hy.t()))  # y_t = g(z_t), z_t = h_t W_hy^T + b_y
            outputs.append(y)
            hs.append(h)
            u = y                                           # u_{t+1} = y_t
        return torch.stack(outputs), torch.stack(hs)

    def _check(self, x, y0, targets, forcing):
        """Validate the inputs of :meth:`forward` (``y0`` and ``targets`` when given); compute nothing."""
        check_array(x, "x", ("T", "B", "D"), (None, None, self.input_size), backend="torch",
                    hint="x is time-major (T, B, D); for batch-first data pass x.transpose(0, 1)")
        T, B, _ = x.shape
        check_not_empty(x, "x")
        check_match("x", x, "the model", self.W_xh)
        O = self.output_size  # noqa: E741
        if y0 is not None:
            check_array(y0, "y0", ("B", "O"), (B, O), backend="torch", hint="y0 is the output fed into the first step")
            check_match("y0", y0, "the model", self.W_xh)
        if forcing and targets is None:
            raise ValueError("teacher forcing feeds the previous targets back, but targets is None; call "
                             "model(x, targets=y), or model(x, teacher_forcing=False) to run free")
        if targets is not None:             # checked even when running free, where they are not read
            check_array(targets, "targets", ("T", "B", "O"), (T, B, O), backend="torch",
                        hint="targets has the shape of the outputs Y")
            check_match("targets", targets, "the model", self.W_xh)

    def extra_repr(self) -> str:
        return (f"{self.input_size}, {self.hidden_size}, {self.output_size}, nonlinearity={self.nonlinearity!r}, "
                f"output={self.output!r}, teacher_forcing={self.teacher_forcing}")

    @classmethod
    def from_numpy(cls, params: dict, nonlinearity="tanh", output="linear", *, teacher_forcing=False,
                   device=None, dtype=None) -> "JordanRNN":
        """Build the network from NumPy parameters, e.g. from :func:`rnncourse.numpy.jordan.init_jordan_params`.

        Draws no random numbers: PyTorch's global generators are left as they were (see
        :func:`~rnncourse.torch.init.empty_module`).

        Parameters
        ----------
        params : dict
            ``W_xh`` (H, D), ``W_yh`` (H, O), ``b_h`` (H,), ``W_hy`` (O, H), ``b_y`` (O,).
        nonlinearity, output, teacher_forcing
            As in the constructor.
        device : torch.device or str, optional
            Default: the CPU.
        dtype : torch.dtype, optional
            Default: the dtype of the arrays.

        Returns
        -------
        JordanRNN
        """
        check_keys(params, "params", _NAMES, "create it with init_jordan_params(...)")
        W_xh = check_array(params["W_xh"], "params['W_xh']", ("H", "D"))
        W_hy = check_array(params["W_hy"], "params['W_hy']", ("O", "H"), (None, W_xh.shape[0]))
        (H, D), O = W_xh.shape, W_hy.shape[0]  # noqa: E741
        dtype = dtype if dtype is not None else torch.from_numpy(np.asarray(W_xh[:0])).dtype
        model = empty_module(cls, D, H, O, nonlinearity, output, teacher_forcing=teacher_forcing, device=device,
                             dtype=dtype)
        with torch.no_grad():
            for name in _NAMES:
                p = getattr(model, name)
                check_array(params[name], f"params[{name!r}]", _SYMBOLS[name], tuple(p.shape))
                p.copy_(torch.as_tensor(params[name]))
        check_same_dtype(**{name: params[name] for name in _NAMES})
        return model

    def numpy_params(self) -> dict:
        """Return copies of the parameters as a dict of :class:`numpy.ndarray` (float32 or float64 only)."""
        return {name: numpy_copy(getattr(self, name), name) for name in _NAMES}
