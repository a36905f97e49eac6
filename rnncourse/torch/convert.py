"""Convert between :class:`torch.nn.RNN` and the book's NumPy parameter dicts.

PyTorch names a weight ``weight_ih_l<l>[_reverse]`` and keeps two biases,
``bias_ih`` and ``bias_hh``, that only ever appear as a sum. The book names the
same arrays ``W_xh_l<l>[_reverse]``, ``W_hh_l<l>[_reverse]`` and one bias
``b_h_l<l>[_reverse] = bias_ih + bias_hh``. These two functions translate, so
that :mod:`rnncourse.numpy.stacked` and :mod:`rnncourse.numpy.bidirectional`
can be checked against ``torch.nn.RNN`` on the same weights.
"""

from __future__ import annotations

import numpy as np
import torch
from torch import nn

from rnncourse.torch.init import empty_module, numpy_copy
from rnncourse.validation import check_array, check_bool, check_keys, check_positive_float, check_same_dtype

__all__ = ["params_from_rnn", "rnn_from_params"]


def _suffixes(num_layers, bidirectional):
    directions = ("", "_reverse") if bidirectional else ("",)
    return [f"_l{l}{d}" for l in range(num_layers) for d in directions]


def _check_params(params, num_layers, bidirectional) -> tuple[int, int]:
    """Validate every array ``params`` should hold for this RNN, and nothing more; return (D, H)."""
    suffixes = _suffixes(num_layers, bidirectional)
    names = [mine + s for s in suffixes for mine in ("W_xh", "W_hh", "b_h")]
    check_keys(params, "params", names, "params_from_rnn(rnn) gives one")
    extra = [k for k in params if k not in names]
    if extra:
        raise ValueError(f"params holds {', '.join(extra)}, which a torch.nn.RNN with num_layers={num_layers}, "
                         f"bidirectional={bidirectional} does not have; drop them, or pass bidirectional=True "
                         f"for _reverse weights")
    H, D = check_array(params["W_xh_l0"], "params['W_xh_l0']", ("H", "D")).shape
    for s in suffixes:
        D_in = D if s.startswith("_l0") else H * (2 if bidirectional else 1)     # layers > 0 read the layer below
        check_array(params["W_xh" + s], f"params['W_xh{s}']", ("H", "D"), (H, D_in))
        check_array(params["W_hh" + s], f"params['W_hh{s}']", ("H", "H"), (H, H))
        check_array(params["b_h" + s], f"params['b_h{s}']", ("H",), (H,))
    check_same_dtype(**params)          # as the NumPy functions do: no silent rounding of float64 weights
    return D, H


def params_from_rnn(rnn: nn.RNN) -> dict:
    """Copy the weights of a :class:`torch.nn.RNN` into a dict of NumPy arrays with the book's names.

    Parameters
    ----------
    rnn : torch.nn.RNN
        Any number of layers, one or two directions, with or without bias.

    Returns
    -------
    dict of numpy.ndarray
        ``W_xh_l<l>`` (H, D or H or 2H), ``W_hh_l<l>`` (H, H), ``b_h_l<l>`` (H,) for each layer,
        and the same names with ``_reverse`` for a bidirectional one; the dtype of the module
        (float32 or float64: a float16 or bfloat16 ``rnn`` raises a :class:`TypeError`, convert
        it first with ``rnn.float()``).

    Notes
    -----
    The dict holds weights only. The settings of ``rnn`` are not in it: for the way back,
    pass them to :func:`rnn_from_params` yourself, above all ``nonlinearity=rnn.nonlinearity``
    (a ReLU network would otherwise come back as tanh) and ``bidirectional=rnn.bidirectional``.
    Each ``b_h = bias_ih + bias_hh`` is a rounded sum, and :func:`rnn_from_params` puts all of it
    in ``bias_ih``: ``rnn`` -> dict -> ``torch.nn.RNN`` is equal to ``rnn`` up to float rounding,
    while dict -> ``torch.nn.RNN`` -> dict is exact.

    Example
    -------
    >>> sorted(params_from_rnn(nn.RNN(3, 4, num_layers=2)))
    ['W_hh_l0', 'W_hh_l1', 'W_xh_l0', 'W_xh_l1', 'b_h_l0', 'b_h_l1']
    >>> relu = nn.RNN(3, 4, nonlinearity="relu")
    >>> rnn_from_params(params_from_rnn(relu), nonlinearity=relu.nonlinearity).nonlinearity
    'relu'
    """
    if not isinstance(rnn, nn.RNN):
        raise TypeError(f"rnn should be a torch.nn.RNN, but is {type(rnn).__name__}")
    params = {}
    for s in _suffixes(rnn.num_layers, rnn.bidirectional):
        as_np = lambda name: numpy_copy(getattr(rnn, name + s), name + s, owner="rnn")  # noqa: E731
        params["W_xh" + s] = as_np("weight_ih")
        params["W_hh" + s] = as_np("weight_hh")
        params["b_h" + s] = as_np("bias_ih") + as_np("bias_hh") if rnn.bias else np.zeros_like(params["W_hh" + s][0])
    return params


def rnn_from_params(params: dict, *, bidirectional=False, nonlinearity="tanh", dropout=0.0) -> nn.RNN:
    """Build a :class:`torch.nn.RNN` (time-major) with the weights of a NumPy parameter dict.

    Draws no random numbers: PyTorch's global generators are left as they were (see
    :func:`~rnncourse.torch.init.empty_module`).

    Parameters
    ----------
    params : dict of numpy.ndarray
        As returned by :func:`params_from_rnn`, with no other keys; ``bias_ih`` gets ``b_h``, ``bias_hh`` zero.
    bidirectional : bool
        Whether ``params`` holds ``_reverse`` weights too (default ``False``).
    nonlinearity : str
        ``"tanh"`` (default) or ``"relu"``. ``params`` does not record it: for a round trip
        pass the original's, ``nonlinearity=rnn.nonlinearity``.
    dropout : float
        Dropout between layers (default 0), as in ``torch.nn.RNN``.

    Returns
    -------
    torch.nn.RNN
        In the dtype of the arrays (float64 stays float64).
    """
    check_keys(params, "params", ["W_xh_l0", "W_hh_l0", "b_h_l0"], "params_from_rnn(rnn) gives one")
    bidirectional = check_bool(bidirectional, "bidirectional")
    check_positive_float(dropout, "dropout", allow_zero=True)
    num_layers = sum(1 for k in params if k.startswith("W_xh_l") and not k.endswith("_reverse"))
    D, H = _check_params(params, num_layers, bidirectional)
    dtype = torch.from_numpy(params["W_xh_l0"][:0]).dtype
    rnn = empty_module(nn.RNN, D, H, num_layers=num_layers, nonlinearity=nonlinearity, bidirectional=bidirectional,
                       dropout=dropout, dtype=dtype)
    with torch.no_grad():
        for s in _suffixes(num_layers, bidirectional):
            for mine, theirs in (("W_xh", "weight_ih"), ("W_hh", "weight_hh"), ("b_h", "bias_ih")):
                getattr(rnn, theirs + s).copy_(torch.as_tensor(params[mine + s]))
            getattr(rnn, "bias_hh" + s).zero_()
    return rnn
