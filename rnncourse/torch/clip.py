"""Gradient norms and clipping by the norm: the PyTorch twin of :mod:`rnncourse.numpy.clip`.

:func:`grad_norm` measures all the gradients together, as if they were one long vector, and
:func:`clip_grad_norm` scales them down together to a largest norm; :func:`rnncourse.torch.training.train_step`
and the chapters' own loops call it between ``backward`` and the optimizer's ``step``. Both are
PyTorch's own (``torch.nn.utils.get_total_norm`` and ``torch.nn.utils.clip_grad_norm_``) wherever
those are exact; where float32 squares of huge or tiny gradients overflow to an infinite norm or
vanish to 0, the norm is summed again in float64, as the NumPy twin's never overflows.
"""

from __future__ import annotations

import math

import torch

from rnncourse.validation import check_positive_float

__all__ = ["grad_norm", "clip_grad_norm"]

# torch.nn.utils.get_total_norm (PyTorch 2.6 on) is the norm that clip_grad_norm_ computes; before 2.6 clip_grad_norm_
# computed it inline, and the same norm, written out, stands in for it.
_get_total_norm = getattr(torch.nn.utils, "get_total_norm", None) or (
    lambda grads: torch.linalg.vector_norm(torch.stack([torch.linalg.vector_norm(g).to(grads[0].device)
                                                        for g in grads])))


def _low(dtype) -> float:
    """Below this norm, the squares of a gradient's entries in ``dtype`` may have left its normal numbers (float64:
    about 1e-146; float32: about 3e-16)."""
    info = torch.finfo(dtype)
    return math.sqrt(info.tiny / info.eps)


def _norm_in_float64(grads: list) -> float:
    """The L2 norm of ``grads`` together, summed in float64; a float64 gradient whose squares overflow or
    underflow float64 too (entries beyond about 1e154 or below 1e-146) is measured again after dividing
    every entry by the largest ``|entry|``, as :func:`rnncourse.numpy.clip.grad_norm` does."""
    device = grads[0].device
    total = float(torch.linalg.vector_norm(torch.stack(
        [torch.linalg.vector_norm(g, dtype=torch.float64).to(device) for g in grads])))
    if _low(torch.float64) <= total < math.inf or math.isnan(total):
        return total
    largest = max((float(g.abs().max()) for g in grads if g.numel()), default=0.0)
    if not 0 < largest < math.inf:               # all zero, or an entry is inf itself
        return total
    return largest * float(torch.linalg.vector_norm(torch.stack(
        [torch.linalg.vector_norm(g.to(torch.float64) / largest).to(device) for g in grads])))


def _total_norm(grads: list) -> torch.Tensor:
    """The global norm of :func:`grad_norm`, as a tensor: float64 where the float32 norm was not to be trusted."""
    if not grads:
        return torch.tensor(0.0)
    # PyTorch's own norm (the one torch.nn.utils.clip_grad_norm_ uses), so an ordinary gradient gets the
    # same norm, the same clipping and the same training as before, to the last bit.
    total = _get_total_norm(grads)
    value = float(total)
    if max(_low(g.dtype) for g in grads) <= value < math.inf or math.isnan(value):
        return total
    # inf or near 0: the squares overflowed or underflowed the gradients' dtype (float32 squares do from
    # entries of about 1e19, and lose digits below about 1e-16), or a gradient holds inf.
    return torch.tensor(_norm_in_float64(grads), dtype=torch.float64, device=total.device)


def _check_tensors(items: list, name: str, advice: str) -> None:
    """A clear TypeError for an item of ``items`` that is not a tensor (``None``, a name, a NumPy array)."""
    for i, item in enumerate(items):
        if not isinstance(item, torch.Tensor):
            raise TypeError(f"{name}[{i}] should be a torch.Tensor, but is {type(item).__name__}; {advice}")


@torch.no_grad()
def grad_norm(grads) -> float:
    """The L2 norm of all ``grads`` together, as if they were one long vector; the twin of
    :func:`rnncourse.numpy.clip.grad_norm`.

    PyTorch's norm (``torch.nn.utils.get_total_norm``) sums the squares in the gradients' dtype. In
    float32 they overflow to inf from entries of about 1e19, and lose digits or vanish below about
    1e-16, so a finite gradient would get the norm inf or 0; such a norm is computed again in float64,
    where they do neither. Any other norm of float32 or float64 gradients is PyTorch's own, to the last
    bit. (Half-precision gradients, float16 and bfloat16, are always measured again in float64.)

    Parameters
    ----------
    grads : iterable of torch.Tensor
        The gradients (e.g. ``p.grad`` of every parameter that has one), on any devices.

    Returns
    -------
    float
        The norm; ``0.0`` for no gradient, ``inf`` or ``nan`` when a gradient holds inf or NaN.

    Raises
    ------
    TypeError
        If an item of ``grads`` is not a tensor (a parameter without a gradient gives ``None``).
    """
    grads = list(grads)
    _check_tensors(grads, "grads", "pass the .grad of the parameters that have one")
    return float(_total_norm([g.detach() for g in grads]))


@torch.no_grad()
def clip_grad_norm(params, max_norm: float) -> float:
    """Scale the gradients of ``params`` down together to the L2 norm ``max_norm`` when theirs is larger.

    :func:`torch.nn.utils.clip_grad_norm_`, with the norm of :func:`grad_norm`: a finite gradient too
    large to square in float32 is clipped, where PyTorch's norm is inf and would scale it to 0. The
    scale factor is PyTorch's, ``min(max_norm / (norm + 1e-6), 1)``. A norm that is not finite (an inf
    or NaN in a gradient) leaves the gradients as they are: the caller stops on it
    (:func:`rnncourse.torch.training.train_step`, :func:`rnncourse.torch.training.check_finite_update`).

    Parameters
    ----------
    params : torch.Tensor or iterable of torch.Tensor
        The parameters (e.g. ``model.parameters()``); those without a gradient are skipped.
    max_norm : float
        The largest norm, > 0; ``math.inf`` only measures.

    Returns
    -------
    float
        The norm before clipping.

    Raises
    ------
    TypeError
        If ``max_norm`` is not a number or an item of ``params`` is not a tensor.
    ValueError
        If ``max_norm`` is not > 0 (NaN included).
    """
    max_norm = check_positive_float(max_norm, "max_norm", allow_inf=True, why="math.inf only measures the norm")
    params = [params] if isinstance(params, torch.Tensor) else list(params)
    _check_tensors(params, "params", "pass model.parameters()")
    grads = [p.grad for p in params if p.grad is not None]
    total = _total_norm(grads)
    norm = float(total)
    if math.isfinite(norm) and math.isfinite(max_norm):
        scale = torch.clamp(max_norm / (total + 1e-6), max=1.0)
        for g in grads:
            g.mul_(scale.to(g.device))
    return norm
