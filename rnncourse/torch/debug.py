"""Tools to debug a model that does not learn: gradient norms per layer, a learning-rate range test.

The first checks, in order: (1) can the model drive the loss to almost zero on one
tiny batch (if not, the bug is in the model or the loss, not in the data or the
optimiser); (2) does every layer get a gradient, and of what size
(:func:`grad_norms`); (3) which learning rates make the loss fall at all
(:func:`lr_range_test`, after Smith's range test).
"""

from __future__ import annotations

import math

import numpy as np
import torch
from torch import nn

from rnncourse.torch.clip import grad_norm
from rnncourse.validation import check_positive_float, check_positive_int

__all__ = ["grad_norms", "lr_range_test"]


def grad_norms(model: nn.Module) -> dict:
    """The L2 norm of the gradient of every parameter, after a ``backward()``.

    Parameters
    ----------
    model : torch.nn.Module

    Returns
    -------
    dict of str -> float
        By parameter name (``"rnn.weight_hh_l0"`` ...); ``nan`` for a parameter that got
        no gradient at all (it is not connected to the loss). Each norm is
        :func:`~rnncourse.torch.clip.grad_norm`'s, so a float32 gradient of 1e20 or 1e-30
        gets its true norm, not inf or 0.
    """
    return {name: grad_norm([p.grad]) if p.grad is not None else math.nan
            for name, p in model.named_parameters() if p.requires_grad}


def lr_range_test(model: nn.Module, loss_of, batches, *, lr_min=1e-5, lr_max=1.0, stop_factor=4.0):
    """Train with a learning rate that grows geometrically, one batch per step, and record the loss.

    The loss first stays flat (rate too small), then falls, then rises or explodes
    (rate too large). A good rate lies where the loss falls fastest, about ten
    times below the rate where it blows up.

    Parameters
    ----------
    model : torch.nn.Module
        A fresh model; it is trained in place (throw it away afterwards).
    loss_of : callable
        ``loss_of(model, batch) -> torch.Tensor`` of shape ().
    batches : list
        One batch per step; their number sets the number of rates tried.
    lr_min, lr_max : float
        The first and the last rate.
    stop_factor : float
        A number > 1: stop once the loss exceeds ``stop_factor`` times the best loss so far
        (or is not finite). For a loss that can be negative: once it lies more than
        ``(stop_factor - 1) * |best|`` above the best.

    Returns
    -------
    lrs, losses : list of float
        The rate and the loss of each step taken.
    """
    n = check_positive_int(len(batches), "len(batches)", minimum=2)
    lr_min, lr_max = check_positive_float(lr_min, "lr_min"), check_positive_float(lr_max, "lr_max")
    if lr_max <= lr_min:
        raise ValueError(f"lr_max should be larger than lr_min, but they are {lr_max} and {lr_min}")
    stop_factor = check_positive_float(stop_factor, "stop_factor")
    if stop_factor <= 1:
        raise ValueError(f"stop_factor should be a number > 1 (stop once the loss exceeds stop_factor times its "
                         f"best), but is {stop_factor}; the default is 4")
    rates = np.geomspace(lr_min, lr_max, n)
    optimizer = torch.optim.Adam(model.parameters(), lr=rates[0])
    model.train()
    lrs, losses = [], []
    for lr, batch in zip(rates, batches):
        for group in optimizer.param_groups:
            group["lr"] = float(lr)
        loss = loss_of(model, batch)
        value = float(loss.detach())
        lrs.append(float(lr))
        losses.append(value)
        best = min(losses)
        if not math.isfinite(value) or value - best > (stop_factor - 1) * abs(best):   # also for a loss below 0
            break
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    return lrs, losses
