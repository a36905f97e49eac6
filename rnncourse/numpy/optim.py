"""Optimisers in NumPy with the update rules of ``torch.optim``.

Parameters and gradients are dicts of arrays with the same keys (``"W_xh"``,
``"W_hh"``, ...). ``step(params, grads)`` updates every parameter *in place*;
the optimiser keeps its state (momentum buffers, running averages) per key.
Before touching anything, ``step`` checks the gradients and raises
:class:`FloatingPointError` if one holds NaN or infinity: the usual sign that
training diverged.
"""

from __future__ import annotations

import math

import numpy as np

from rnncourse.validation import check_float_array, check_positive_float, check_positive_int, check_writable

__all__ = ["SGD", "Adagrad", "Adam", "check_grads"]


def check_grads(params, grads, step=None):
    """Check that ``grads`` has a finite gradient of the right shape and dtype for each parameter.

    Parameters
    ----------
    params : dict
        Parameter arrays by name.
    grads : dict
        Gradient arrays by name; every key of ``params`` must be present.
    step : int, optional
        The optimiser step (a count, 0 or more), named in the message.

    Raises
    ------
    TypeError
        If ``params`` or ``grads`` is not a dict of arrays, an array is not float32 or float64, or a dtype differs.
    ValueError
        If a gradient is missing or has the wrong shape.
    FloatingPointError
        If a gradient holds NaN or infinity.
    """
    for what, d in (("params", params), ("grads", grads)):
        if not isinstance(d, dict):
            raise TypeError(f"{what} should be a dict of numpy arrays by name, but is {type(d).__name__}")
    if step is not None:
        step = check_positive_int(step, "step", minimum=0)
    at = f" at step {step}" if step is not None else ""
    for name, p in params.items():
        if name not in grads:
            raise ValueError(f"grads has no entry for parameter {name!r} (grads has {sorted(grads)}); "
                             f"pass the gradients returned by the backward pass")
        g = grads[name]
        if not isinstance(p, np.ndarray) or not isinstance(g, np.ndarray):
            raise TypeError(f"params[{name!r}] and grads[{name!r}] should be numpy arrays")
        check_float_array(p, f"params[{name!r}]")
        check_float_array(g, f"grads[{name!r}]")
        if g.shape != p.shape:
            raise ValueError(f"the gradient of {name} should have the parameter's shape {p.shape}, "
                             f"but has shape {g.shape}")
        if g.dtype != p.dtype:
            raise TypeError(f"the gradient of {name} has dtype {g.dtype} but the parameter {p.dtype}; "
                            f"use one dtype for both")
        if not np.isfinite(g).all():
            raise FloatingPointError(
                f"gradient of {name} contains NaN/inf{at}: training diverged; lower the learning rate "
                f"or clip gradients (rnncourse.numpy.clip_grad_norm)")


#: Why eps must be > 0, said when it is not.
_EPS_WHY = "it keeps 0/0 out of the update where a gradient is exactly 0"


class _Optimizer:
    """Shared bookkeeping: count steps, check gradients, update each parameter."""

    def __init__(self):
        self.steps = 0
        self.state = {}

    def step(self, params, grads):
        """Update every array of ``params`` in place from ``grads`` (dicts with the same keys).

        Everything is checked before the first array changes, so a step that raises leaves
        ``params``, the state and ``steps`` as they were.

        Parameters
        ----------
        params : dict of str to numpy.ndarray
            The parameters, writable, float32 or float64; updated in place.
        grads : dict of str to numpy.ndarray
            A finite gradient for every key of ``params``, of its shape and dtype.
        """
        check_grads(params, grads, self.steps + 1)
        check_writable(params, "params", "step updates it")
        for name, p in params.items():
            self._check_state_shapes(name, p)
        for name, p in params.items():
            self._update(p, grads[name], self.state.setdefault(name, {}))
        self.steps += 1

    def _check_state_shapes(self, name, p):
        """A parameter of the shape its state (momentum, running averages) was built for."""
        for key, buffer in self.state.get(name, {}).items():
            if isinstance(buffer, np.ndarray) and buffer.shape != p.shape:
                raise ValueError(f"params[{name!r}] has shape {p.shape}, but the optimiser's {key} for it has "
                                 f"shape {buffer.shape}; create a new optimiser for a new model")

    def _update(self, p, g, state):
        raise NotImplementedError


class SGD(_Optimizer):
    """Stochastic gradient descent with optional momentum and weight decay, like :class:`torch.optim.SGD`.

    .. math::

        g \\leftarrow g + \\lambda \\theta,\\qquad
        v \\leftarrow \\mu v + g \\;(v = g \\text{ at the first step}),\\qquad
        \\theta \\leftarrow \\theta - \\eta v

    Parameters
    ----------
    lr : float
        Learning rate ``eta``.
    momentum : float
        Momentum ``mu`` in [0, 1) (0 = plain SGD, ``v = g``).
    weight_decay : float
        L2 penalty ``lambda`` added to the gradient.

    Example
    -------
    >>> opt = SGD(lr=0.1, momentum=0.9)
    >>> opt.step(params, grads)        # doctest: +SKIP
    """

    def __init__(self, lr, momentum=0.0, weight_decay=0.0):
        super().__init__()
        self.lr = check_positive_float(lr, "lr")
        self.momentum = check_positive_float(momentum, "momentum", allow_zero=True, below=1,
                                             why="with momentum >= 1 old gradients never fade and the steps "
                                                 "grow without bound")
        self.weight_decay = check_positive_float(weight_decay, "weight_decay", allow_zero=True)

    def _update(self, p, g, state):
        if self.weight_decay:
            g = g + self.weight_decay * p
        if self.momentum:
            if "momentum_buffer" not in state:
                state["momentum_buffer"] = g.copy()
            else:
                state["momentum_buffer"] *= self.momentum
                state["momentum_buffer"] += g
            g = state["momentum_buffer"]
        p -= self.lr * g


class Adagrad(_Optimizer):
    """Adagrad :cite:`duchi2011adagrad`, like :class:`torch.optim.Adagrad` (no decay, accumulator starts at 0).

    .. math::

        s \\leftarrow s + g^2,\\qquad \\theta \\leftarrow \\theta - \\eta\\, \\frac{g}{\\sqrt{s} + \\epsilon}

    Parameters
    ----------
    lr : float
        Learning rate ``eta``.
    eps : float
        Added to the square root, as in PyTorch; > 0, so that an entry whose
        gradient is exactly 0 gets ``0 / eps = 0`` and not ``0 / 0``.
    """

    def __init__(self, lr=0.01, eps=1e-10):
        super().__init__()
        self.lr = check_positive_float(lr, "lr")
        self.eps = check_positive_float(eps, "eps", why=_EPS_WHY)

    def _update(self, p, g, state):
        if not state:                           # the first step: the sum starts at zero
            state["sum"] = np.zeros_like(p)
        s = state["sum"]
        s += g * g
        p -= self.lr * g / (np.sqrt(s) + self.eps)


class Adam(_Optimizer):
    """Adam :cite:`kingma2014adam`, like :class:`torch.optim.Adam` (no weight decay, no AMSGrad).

    The step ``t`` of the bias correction is counted per parameter, as in PyTorch: a
    parameter first updated at the optimiser's 6th step has ``t = 1`` there.

    .. math::

        m \\leftarrow \\beta_1 m + (1 - \\beta_1) g,\\qquad v \\leftarrow \\beta_2 v + (1 - \\beta_2) g^2,\\qquad
        \\theta \\leftarrow \\theta - \\frac{\\eta}{1 - \\beta_1^t}\\,
        \\frac{m}{\\sqrt{v} / \\sqrt{1 - \\beta_2^t} + \\epsilon}

    Parameters
    ----------
    lr : float
        Learning rate ``eta``.
    betas : tuple
        ``(beta1, beta2)``, decay rates of the running means of ``g`` and ``g**2``.
    eps : float
        Added to the denominator, after the bias correction, as in PyTorch; > 0, so
        that an entry whose gradient is exactly 0 gets no ``0 / 0``.
    """

    def __init__(self, lr=1e-3, betas=(0.9, 0.999), eps=1e-8):
        super().__init__()
        self.lr = check_positive_float(lr, "lr")
        real = (int, float, np.integer, np.floating)
        if (isinstance(betas, (str, bytes)) or not hasattr(betas, "__len__") or getattr(betas, "ndim", 1) == 0
                or not all(isinstance(b, real) and not isinstance(b, bool) for b in betas)):
            raise TypeError(f"betas should be a pair of numbers in [0, 1), like (0.9, 0.999), but is "
                            f"{type(betas).__name__} {betas!r}")
        if len(betas) != 2 or not all(0 <= b < 1 for b in betas):      # NaN fails 0 <= b
            raise ValueError(f"betas should be two numbers in [0, 1), like (0.9, 0.999), but is {betas!r}")
        self.betas = (float(betas[0]), float(betas[1]))
        self.eps = check_positive_float(eps, "eps", why=_EPS_WHY)

    def _update(self, p, g, state):
        beta1, beta2 = self.betas
        if not state:                           # this parameter's first step: both averages start at zero
            state["step"], state["exp_avg"], state["exp_avg_sq"] = 0, np.zeros_like(p), np.zeros_like(p)
        state["step"] += 1                      # per parameter, as in torch: one added later starts at t = 1
        m, v, t = state["exp_avg"], state["exp_avg_sq"], state["step"]
        m *= beta1
        m += (1 - beta1) * g
        v *= beta2
        v += (1 - beta2) * g * g
        step_size = self.lr / (1 - beta1 ** t)
        denom = np.sqrt(v) / math.sqrt(1 - beta2 ** t) + self.eps   # a Python float keeps float32 float32
        p -= step_size * m / denom
