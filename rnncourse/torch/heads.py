r"""Output layers on top of the hidden states, and the general RNN model.

The output at each time step is an affine map of the hidden state,

.. math::

    z_t = W_{hy} h_t + b_y,

the PyTorch twin of :func:`rnncourse.numpy.output.affine_forward`. A softmax,
if the task needs one, belongs to the loss (as in
``torch.nn.functional.cross_entropy``), so the model returns raw scores.
"""

from __future__ import annotations

import math

import torch
from torch import nn

from rnncourse.torch.elman import ElmanRNN
from rnncourse.torch.device import check_device
from rnncourse.torch.init import check_dtype, empty_module, numpy_copy, uniform_
from rnncourse.validation import check_array, check_bool, check_keys, check_match, check_positive_int, check_same_dtype

__all__ = ["OutputLayer", "RNNModel"]


class OutputLayer(nn.Module):
    r"""The affine read-out :math:`z = W_{hy} h + b_y`, applied at every time step: the scores, from which
    the task's output function :math:`g` (softmax, or none for regression) makes :math:`y = g(z)`.

    Parameters
    ----------
    hidden_size : int
        H, the size of the hidden state.
    output_size : int
        O, the number of outputs (classes, or regression targets).
    device : torch.device or str, optional
        Where the parameters live (default: the CPU).
    dtype : torch.dtype, optional
        Parameter dtype (default: ``torch.get_default_dtype()``).
    generator : torch.Generator, optional
        Source of the initial weights; ``None`` uses PyTorch's global generator.

    Attributes
    ----------
    W_hy : torch.nn.Parameter, shape (O, H)
    b_y : torch.nn.Parameter, shape (O,)
        Both drawn from U(-1/sqrt(H), 1/sqrt(H)), like :class:`torch.nn.Linear`.

    Notes
    -----
    ``OutputLayer.from_torch(linear)`` copies a :class:`torch.nn.Linear` (whose names are
    ``weight`` and ``bias``) and ``to_torch()`` returns an equal one; ``from_numpy`` and
    ``numpy_params`` do the same with the arrays of :func:`rnncourse.numpy.output.affine_forward`.
    """

    def __init__(self, hidden_size, output_size, *, device=None, dtype=None, generator=None):
        super().__init__()
        H = check_positive_int(hidden_size, "hidden_size")
        O = check_positive_int(output_size, "output_size")  # noqa: E741 (the book's symbol)
        self.hidden_size, self.output_size = H, O
        device, dtype = check_device(device), check_dtype(dtype)
        self.W_hy = nn.Parameter(torch.empty(O, H, device=device, dtype=dtype))
        self.b_y = nn.Parameter(torch.empty(O, device=device, dtype=dtype))
        self.reset_parameters(generator)

    def reset_parameters(self, generator: torch.Generator | None = None) -> None:
        """Draw the parameters from U(-1/sqrt(H), 1/sqrt(H)) (on the CPU, then copy).

        Parameters
        ----------
        generator : torch.Generator, optional
            A CPU generator; ``None`` uses PyTorch's global generator.
        """
        uniform_(self.parameters(), 1.0 / math.sqrt(self.hidden_size), generator)

    def forward(self, hs):
        """Apply the read-out.

        Parameters
        ----------
        hs : torch.Tensor, shape (T, B, H) or (B, H)
            Hidden states of every step, or one state per sequence.

        Returns
        -------
        torch.Tensor, shape (T, B, O) or (B, O)
            The outputs, with the leading axes of ``hs``.
        """
        symbols = ("T", "B", "H") if getattr(hs, "ndim", 0) == 3 else ("B", "H")
        check_array(hs, "hs", symbols, (None,) * (len(symbols) - 1) + (self.hidden_size,), backend="torch",
                    hint="hs holds hidden states, shape (T, B, H) or (B, H)")
        check_match("hs", hs, "the model", self.W_hy)
        return hs @ self.W_hy.T + self.b_y

    def extra_repr(self) -> str:
        return f"{self.hidden_size}, {self.output_size}"

    @classmethod
    def from_numpy(cls, params: dict, *, device=None, dtype=None) -> "OutputLayer":
        """Build the layer from NumPy arrays, e.g. from :func:`rnncourse.numpy.init.init_output_params`.

        Draws no random numbers: PyTorch's global generators are left as they were (see
        :func:`~rnncourse.torch.init.empty_module`).

        Parameters
        ----------
        params : dict
            ``W_hy`` (O, H) and ``b_y`` (O,) as :class:`numpy.ndarray`.
        device : torch.device or str, optional
            Default: the CPU.
        dtype : torch.dtype, optional
            Default: the dtype of the arrays (float64 stays float64).

        Returns
        -------
        OutputLayer
        """
        check_keys(params, "params", ("W_hy", "b_y"), "create it with init_output_params(...)")
        W_hy = check_array(params["W_hy"], "params['W_hy']", ("O", "H"))
        O, H = W_hy.shape  # noqa: E741
        check_array(params["b_y"], "params['b_y']", ("O",), (O,))
        check_same_dtype(W_hy=W_hy, b_y=params["b_y"])
        layer = empty_module(cls, H, O, device=device,
                             dtype=dtype if dtype is not None else torch.as_tensor(W_hy[:0]).dtype)
        with torch.no_grad():
            layer.W_hy.copy_(torch.as_tensor(W_hy))
            layer.b_y.copy_(torch.as_tensor(params["b_y"]))
        return layer

    def numpy_params(self) -> dict:
        """Return copies of ``W_hy`` and ``b_y`` as :class:`numpy.ndarray` (float32 or float64 only)."""
        return {name: numpy_copy(getattr(self, name), name) for name in ("W_hy", "b_y")}

    @classmethod
    def from_torch(cls, linear: nn.Linear) -> "OutputLayer":
        """A copy of a :class:`torch.nn.Linear` (``weight`` becomes ``W_hy``, ``bias`` ``b_y``; no bias: zeros).

        On the device and with the dtype of ``linear``; :meth:`to_torch` is the way back.
        Draws no random numbers: PyTorch's global generators are left as they were (see
        :func:`~rnncourse.torch.init.empty_module`).

        Parameters
        ----------
        linear : torch.nn.Linear
            A layer with ``in_features`` H and ``out_features`` O.

        Returns
        -------
        OutputLayer
        """
        if not isinstance(linear, nn.Linear):
            raise TypeError(f"linear should be a torch.nn.Linear, but is {linear!r}")
        w = linear.weight
        layer = empty_module(cls, linear.in_features, linear.out_features, device=w.device, dtype=w.dtype)
        with torch.no_grad():
            layer.W_hy.copy_(w)
            layer.b_y.copy_(linear.bias if linear.bias is not None else torch.zeros_like(w[:, 0]))
        return layer

    def to_torch(self) -> nn.Linear:
        """An equal :class:`torch.nn.Linear`.

        Draws no random numbers: PyTorch's global generators are left as they were (see
        :func:`~rnncourse.torch.init.empty_module`).
        """
        w = self.W_hy
        linear = empty_module(nn.Linear, self.hidden_size, self.output_size, device=w.device, dtype=w.dtype)
        with torch.no_grad():
            linear.weight.copy_(w)
            linear.bias.copy_(self.b_y)
        return linear


class RNNModel(nn.Module):
    r"""An Elman RNN with an affine read-out: the general model of the book's tasks.

    .. math::

        h_t = f(W_{xh} x_t + W_{hh} h_{t-1} + b_h), \qquad z_t = W_{hy} h_t + b_y.

    Many-to-many by default (an output at every step); with
    ``many_to_one=True`` only the last state is read out, for classifying or
    regressing a whole sequence.

    Parameters
    ----------
    input_size : int
        D.
    hidden_size : int
        H.
    output_size : int
        O.
    nonlinearity : str
        ``"tanh"`` (default) or ``"relu"``.
    many_to_one : bool
        Read out only :math:`h_T` (default ``False``).
    device : torch.device or str, optional
        Where the parameters live (default: the CPU).
    dtype : torch.dtype, optional
        Parameter dtype.
    generator : torch.Generator, optional
        Source of the initial weights (the RNN's, then the read-out's).

    Attributes
    ----------
    rnn : ElmanRNN
        The recurrent layer.
    out : OutputLayer
        The read-out.

    Notes
    -----
    The twin of :func:`rnncourse.numpy.model.model_forward`: ``numpy_params()`` gives its
    ``params`` and ``RNNModel.from_numpy(params)`` builds the model from them.

    Examples
    --------
    >>> model = RNNModel(3, 8, 2, many_to_one=True, generator=torch.Generator().manual_seed(0))
    >>> Y, h_T = model(torch.zeros(5, 4, 3))
    >>> tuple(Y.shape), tuple(h_T.shape)
    ((4, 2), (4, 8))
    """

    def __init__(self, input_size, hidden_size, output_size, nonlinearity="tanh", *, many_to_one=False,
                 device=None, dtype=None, generator=None):
        super().__init__()
        kw = {"device": device, "dtype": dtype, "generator": generator}
        self.rnn = ElmanRNN(input_size, hidden_size, nonlinearity, **kw)
        self.out = OutputLayer(hidden_size, output_size, **kw)
        self.many_to_one = check_bool(many_to_one, "many_to_one")

    def forward(self, x, h0=None):
        """Run the RNN and read out.

        Parameters
        ----------
        x : torch.Tensor, shape (T, B, D)
            Input sequence, time-major.
        h0 : torch.Tensor, shape (B, H), optional
            Initial hidden state; zeros by default.

        Returns
        -------
        Y : torch.Tensor, shape (T, B, O), or (B, O) when ``many_to_one``
            The outputs (raw scores; no softmax).
        h_T : torch.Tensor, shape (B, H)
            The last hidden state, to carry into the next chunk of a long sequence.
        """
        hs, h_T = self.rnn(x, h0)
        if self.many_to_one:                # the caller's h_T, not the one the read-out saved for the backward pass
            return self.out(h_T), h_T.clone()
        return self.out(hs), h_T

    def numpy_params(self) -> dict:
        """Copies of the five parameters as :class:`numpy.ndarray`: the ``params`` of
        :func:`rnncourse.numpy.model.model_forward`."""
        return {**self.rnn.numpy_params(), **self.out.numpy_params()}

    @classmethod
    def from_numpy(cls, params: dict, nonlinearity="tanh", *, many_to_one=False, device=None,
                   dtype=None) -> "RNNModel":
        """The model holding the five arrays of :func:`rnncourse.numpy.model.init_model_params`.

        Draws no random numbers: PyTorch's global generators are left as they were (see
        :func:`~rnncourse.torch.init.empty_module`).

        Parameters
        ----------
        params : dict
            ``W_xh`` (H, D), ``W_hh`` (H, H), ``b_h`` (H,), ``W_hy`` (O, H) and ``b_y`` (O,) as
            :class:`numpy.ndarray`, of one dtype.
        nonlinearity : str
            ``"tanh"`` (default) or ``"relu"``.
        many_to_one : bool
            Read out only :math:`h_T` (default ``False``), as in ``model_forward``.
        device : torch.device or str, optional
            Default: the CPU.
        dtype : torch.dtype, optional
            Default: the dtype of the arrays (float64 stays float64).

        Returns
        -------
        RNNModel
        """
        names = ("W_xh", "W_hh", "b_h", "W_hy", "b_y")
        check_keys(params, "params", names, "create it with init_model_params(...)")
        many_to_one = check_bool(many_to_one, "many_to_one")
        rnn = ElmanRNN.from_numpy({k: params[k] for k in names[:3]}, nonlinearity, device=device, dtype=dtype)
        out = OutputLayer.from_numpy({k: params[k] for k in names[3:]}, device=device, dtype=dtype)
        check_same_dtype(**{k: params[k] for k in names})
        if out.hidden_size != rnn.hidden_size:
            raise ValueError(f"params['W_hy'] should have shape (O, H) with H = {rnn.hidden_size} (the rows of "
                             f"W_hh), but has shape {tuple(out.W_hy.shape)}")
        model = empty_module(cls, rnn.input_size, rnn.hidden_size, out.output_size, nonlinearity,
                             device=rnn.W_xh.device, dtype=rnn.W_xh.dtype)
        model.rnn, model.out, model.many_to_one = rnn, out, many_to_one
        return model
