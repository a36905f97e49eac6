"""Initialising PyTorch parameters the same way on every device.

The PyTorch side of :mod:`rnncourse.numpy.init`'s default, ``"uniform"``: every
``reset_parameters`` of the package calls :func:`uniform_`, and :func:`check_dtype`
rejects a parameter ``dtype`` that is not floating point. :func:`numpy_copy` is the
way out to the NumPy twins, which compute in float32 or float64 only.
"""

from __future__ import annotations

import torch

__all__ = ["check_dtype", "uniform_", "numpy_copy"]

_FLOAT_DTYPES = (torch.float16, torch.bfloat16, torch.float32, torch.float64)
_NUMPY_DTYPES = (torch.float32, torch.float64)      # the NumPy code's two precisions


def check_dtype(dtype, name: str = "dtype"):
    """Check that a parameter ``dtype`` is floating point (or ``None``, the default dtype) and return it.

    Parameters must hold floating-point numbers for autograd to track them.

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

    Examples
    --------
    >>> numpy_copy(torch.zeros(2, dtype=torch.float64), "b_h")
    array([0., 0.])
    """
    if tensor.dtype not in _NUMPY_DTYPES:
        raise TypeError(f"{name} has dtype {tensor.dtype}, but the NumPy code computes in float32 or float64 "
                        f"only; convert the {owner} first with {owner}.float() (or {owner}.double())")
    return tensor.detach().cpu().numpy().copy()


def uniform_(tensors, bound: float, generator: torch.Generator | None = None) -> None:
    """Fill each tensor in place with numbers drawn from U(-bound, bound).

    The numbers are drawn on the CPU and then copied, so one seed gives the same
    weights on the CPU and on a GPU. With ``bound = 1/sqrt(H)`` this is
    :class:`torch.nn.RNN`'s initialisation.

    Parameters
    ----------
    tensors : iterable of torch.Tensor
        E.g. ``module.parameters()``; filled in order, one draw after the other.
    bound : float
        Half-width of the interval.
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
    if generator is not None and not (isinstance(generator, torch.Generator) and generator.device.type == "cpu"):
        where = f" on {generator.device}" if isinstance(generator, torch.Generator) else ""
        raise TypeError(f"generator should be a CPU torch.Generator or None, but is {type(generator).__name__}"
                        f"{where}; the weights are drawn on the CPU and then copied to their device, so that a "
                        f"seed gives the same weights everywhere: pass torch.Generator().manual_seed(seed)")
    with torch.no_grad():
        for t in tensors:
            t.copy_(torch.empty(t.shape, dtype=t.dtype).uniform_(-bound, bound, generator=generator))
