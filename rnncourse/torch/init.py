"""Initialising PyTorch parameters the same way on every device.

The PyTorch side of :mod:`rnncourse.numpy.init`'s default, ``"uniform"``: every
``reset_parameters`` of the package calls :func:`uniform_`, and :func:`check_dtype`
rejects a parameter ``dtype`` that is not floating point. :func:`numpy_copy` is the
way out to the NumPy twins, which compute in float32 or float64 only.
:func:`empty_module` is how every conversion (``from_numpy``, ``from_torch``, ``to_torch``,
:func:`rnncourse.torch.convert.rnn_from_params`) builds the module it then fills, drawing nothing.
"""

from __future__ import annotations

import math

import torch

from rnncourse.torch.device import check_device
from rnncourse.validation import check_positive_float

__all__ = ["check_dtype", "uniform_", "torch_default_", "numpy_copy", "empty_module", "MAX_LAYERS"]

#: The most stacked RNN layers a model of the package builds (``num_layers`` of
#: :class:`rnncourse.torch.tagger.Tagger` and :class:`rnncourse.torch.charlm.CharLM`). The chapters use one or
#: two; the cap turns a mistyped size, which would build layer after layer until memory runs out, into a
#: :class:`ValueError` at once.
MAX_LAYERS = 64

_FLOAT_DTYPES = (torch.float16, torch.bfloat16, torch.float32, torch.float64)
_NUMPY_DTYPES = (torch.float32, torch.float64)      # the NumPy code's two precisions


def check_dtype(dtype, name: str = "dtype"):
    """Check that a parameter ``dtype`` is floating point (or ``None``, the default dtype) and return it.

    Parameters must hold floating-point numbers for autograd to track them.

    Parameters
    ----------
    dtype : torch.dtype or None
        torch.float16, torch.bfloat16, torch.float32 or torch.float64.
    name : str
        The argument's name in the message (default ``"dtype"``).

    Returns
    -------
    torch.dtype or None
        ``dtype`` itself.

    Examples
    --------
    >>> check_dtype(torch.float64)
    torch.float64
    """
    if dtype is not None and dtype not in _FLOAT_DTYPES:
        raise TypeError(f"{name} should be a floating-point torch.dtype (torch.float16, torch.bfloat16, "
                        f"torch.float32 or torch.float64) or None, but is {dtype!r}; e.g. pass {name}=torch.float64")
    return dtype


def numpy_copy(tensor: torch.Tensor, name: str, owner: str = "model"):
    """A :class:`numpy.ndarray` copy of the parameter ``tensor``, for the NumPy twins.

    The NumPy code computes in float32 or float64 only (NumPy has no bfloat16, and the
    NumPy functions reject float16), so a float16 or bfloat16 parameter raises a
    :class:`TypeError` that says how to convert ``owner`` first, rather than giving arrays
    that the way back (``from_numpy``) would refuse.

    Parameters
    ----------
    tensor : torch.Tensor
        A float32 or float64 parameter, on any device.
    name : str
        Its name in the message, e.g. ``"W_hh"``.
    owner : str
        What to convert in the message's advice (default ``"model"``).

    Returns
    -------
    numpy.ndarray
        A detached CPU copy, the shape and dtype of ``tensor``.

    Examples
    --------
    >>> numpy_copy(torch.zeros(2, dtype=torch.float64), "b_h")
    array([0., 0.])
    """
    if not isinstance(tensor, torch.Tensor):
        raise TypeError(f"tensor ({name}) should be a torch.Tensor, but is {type(tensor).__name__}")
    if tensor.dtype not in _NUMPY_DTYPES:
        raise TypeError(f"{name} has dtype {tensor.dtype}, but the NumPy code computes in float32 or float64 "
                        f"only; convert the {owner} first with {owner}.float() (or {owner}.double())")
    return tensor.detach().cpu().numpy().copy()


def empty_module(module_class, *args, device=None, dtype=None, **kwargs):
    """Build ``module_class(*args, **kwargs)`` on ``device`` with its parameters unfilled, drawing no random numbers.

    A conversion overwrites every parameter of the module it builds. Built the usual way, the module
    would first draw initial weights from PyTorch's global generator (on the CPU, or on a GPU for
    ``torch.nn``'s layers), and every "random" number drawn afterwards would depend on whether a
    conversion ran before. So the module is built on PyTorch's ``meta`` device, where tensors have a
    shape and a dtype but no numbers and nothing is drawn, and :meth:`torch.nn.Module.to_empty` then
    gives it memory on ``device``. That memory holds whatever was there before: the caller must copy
    a value into every parameter.

    Parameters
    ----------
    module_class : type
        A :class:`torch.nn.Module` whose constructor takes ``device=`` and ``dtype=``: the package's
        models, or ``torch.nn``'s layers.
    *args
        The constructor's positional arguments.
    device : torch.device or str, optional
        Where the parameters live; ``None``: PyTorch's default device (the CPU).
    dtype : torch.dtype, optional
        Parameter dtype (default: ``torch.get_default_dtype()``).
    **kwargs
        The constructor's other keyword arguments.

    Returns
    -------
    torch.nn.Module
        An instance of ``module_class`` on ``device``, its parameters unfilled.

    Examples
    --------
    >>> state = torch.get_rng_state()
    >>> linear = empty_module(torch.nn.Linear, 3, 2, dtype=torch.float64)
    >>> linear.load_state_dict({"weight": torch.ones(2, 3), "bias": torch.zeros(2)})     # fill every parameter
    <All keys matched successfully>
    >>> torch.equal(torch.get_rng_state(), state), linear.weight.dtype
    (True, torch.float64)
    """
    device = torch.empty(0, device=check_device(device)).device     # None -> the default device
    module = module_class(*args, device="meta", dtype=check_dtype(dtype), **kwargs)
    drawn = [name for name, t in (*module.named_parameters(), *module.named_buffers()) if not t.is_meta]
    if drawn:                                 # the constructor ignored device="meta", and so may have drawn
        raise TypeError(f"{module_class.__name__} built {drawn[0]} off the meta device, so empty_module cannot "
                        f"build it without drawing; its constructor should pass device= to every parameter")
    return module.to_empty(device=device)


def uniform_(tensors, bound: float, generator: torch.Generator | None = None) -> None:
    """Fill each tensor in place with numbers drawn from U(-bound, bound).

    The numbers are drawn on the CPU and then copied, so one seed gives the same
    weights on the CPU and on a GPU. With ``bound = 1/sqrt(H)`` this is
    :class:`torch.nn.RNN`'s initialisation. A tensor on PyTorch's ``meta`` device holds
    no numbers, so nothing is drawn for it (as ``torch.nn``'s layers draw nothing there):
    :func:`empty_module` builds on ``meta`` and draws nothing at all.

    Parameters
    ----------
    tensors : iterable of torch.Tensor
        E.g. ``module.parameters()``; filled in order, one draw after the other.
    bound : float
        Half-width of the interval, a finite number >= 0.
    generator : torch.Generator, optional
        Source of the numbers, a CPU generator (``torch.Generator()``); ``None`` uses
        PyTorch's global generator.

    Examples
    --------
    >>> w = torch.empty(2, 3)
    >>> uniform_([w], 0.5, torch.Generator().manual_seed(0))
    >>> bool(w.abs().max() <= 0.5)
    True
    """
    bound = check_positive_float(bound, "bound", allow_zero=True)
    _check_generator(generator)
    with torch.no_grad():
        for t in tensors:
            if t.is_meta:
                continue
            t.copy_(torch.empty(t.shape, dtype=t.dtype).uniform_(-bound, bound, generator=generator))


def _check_generator(generator) -> None:
    if generator is not None and not (isinstance(generator, torch.Generator) and generator.device.type == "cpu"):
        where = f" on {generator.device}" if isinstance(generator, torch.Generator) else ""
        raise TypeError(f"generator should be a CPU torch.Generator or None, but is {type(generator).__name__}"
                        f"{where}; the weights are drawn on the CPU and then copied to their device, so that a "
                        f"seed gives the same weights everywhere: pass torch.Generator().manual_seed(seed)")


def torch_default_(modules, generator: torch.Generator | None = None) -> None:
    """Draw the parameters of ``modules`` as their own ``reset_parameters`` does, from ``generator``.

    For the ``torch.nn`` layers the chapters' larger models are built from, in the order given:
    :class:`torch.nn.Embedding` (N(0, 1), the padding row zero), :class:`torch.nn.RNN`
    (U(-1/sqrt(H), 1/sqrt(H)), every parameter) and :class:`torch.nn.Linear` (Kaiming-uniform
    weights, biases U(-1/sqrt(fan_in), 1/sqrt(fan_in))). The draws are PyTorch's own, one after
    the other, so ``torch.Generator().manual_seed(s)`` gives the weights that the modules get when
    built right after ``torch.manual_seed(s)``, without touching PyTorch's global generator.

    Parameters
    ----------
    modules : iterable of torch.nn.Module
        Embedding, RNN or Linear layers, on the CPU (the models move them afterwards).
    generator : torch.Generator, optional
        A CPU generator; ``None`` uses PyTorch's global generator.
    """
    _check_generator(generator)
    init = torch.nn.init
    with torch.no_grad():
        for module in modules:
            if isinstance(module, torch.nn.Embedding):
                init.normal_(module.weight, generator=generator)
                if module.padding_idx is not None:
                    module.weight[module.padding_idx].fill_(0)
            elif isinstance(module, torch.nn.RNN):
                uniform_(module.parameters(), 1 / math.sqrt(module.hidden_size), generator)
            elif isinstance(module, torch.nn.Linear):
                init.kaiming_uniform_(module.weight, a=math.sqrt(5), generator=generator)
                if module.bias is not None:
                    uniform_([module.bias], 1 / math.sqrt(module.in_features) if module.in_features else 0.0,
                             generator)
            else:
                raise TypeError(f"modules should hold torch.nn.Embedding, RNN or Linear layers, but one is "
                                f"{type(module).__name__}")
