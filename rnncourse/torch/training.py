"""A small, careful training loop for the PyTorch models.

One loop for every chapter: forward, loss, backward, optional gradient
clipping, optimizer step, with a progress bar. It records the loss and the
gradient norm of every step, repeats exactly for a given seed, and stops with
a :class:`FloatingPointError` the moment the loss or the gradient stops being
finite, instead of silently training on garbage.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import dataclass, field

import numpy as np
import torch
# Plain tqdm: a text bar on stderr, in a terminal and in Jupyter alike (no widget library needed).
from tqdm import tqdm

from rnncourse.torch.clip import clip_grad_norm
from rnncourse.torch.device import check_device, pick_device
from rnncourse.validation import check_bool, check_choice, check_positive_float, check_positive_int

__all__ = ["TrainConfig", "History", "train", "train_step", "check_finite_update", "MAX_SEED"]

_OPTIMIZERS = {"adam": torch.optim.Adam, "sgd": torch.optim.SGD, "adagrad": torch.optim.Adagrad}
#: The largest seed :func:`torch.manual_seed` takes (it reads a seed as an unsigned 64-bit integer).
MAX_SEED = 2**64 - 1


@dataclass(frozen=True)
class TrainConfig:
    """Hyperparameters of :func:`train`.

    Parameters
    ----------
    steps : int or None
        Number of optimizer steps (default 500). Required when ``batches`` is a
        callable; with an iterable, training stops after ``steps`` or after
        ``epochs`` passes, whichever comes first (``None``: only ``epochs``).
    epochs : int
        Passes over an iterable of batches (default 1); ignored for a callable. A
        one-shot iterator (a generator) is used up after one pass: it allows 1 only.
    lr : float
        Learning rate (default 0.01).
    optimizer : str
        ``"adam"`` (default), ``"sgd"`` or ``"adagrad"``.
    clip : float or None
        Rescale the gradient to this global L2 norm when it is larger
        (:func:`rnncourse.torch.clip.clip_grad_norm`); ``None`` (default) never clips.
    seed : int
        Seeds PyTorch's global generator and the :class:`numpy.random.Generator`
        handed to a callable ``batches`` (default 0); from 0 to :data:`MAX_SEED`.
    device : str or torch.device or None
        Move the model there first (``"cpu"``, ``"cuda"``, as :func:`~rnncourse.torch.device.pick_device`
        takes); ``None`` (default) keeps the model where it is.
    log_every : int
        Refresh the loss shown on the progress bar every so many steps (default 10).
    """

    steps: int | None = 500
    epochs: int = 1
    lr: float = 1e-2
    optimizer: str = "adam"
    clip: float | None = None
    seed: int = 0
    device: str | None = None
    log_every: int = 10

    def __post_init__(self):
        if self.steps is not None:
            check_positive_int(self.steps, "steps")
        check_positive_int(self.epochs, "epochs")
        check_positive_float(self.lr, "lr")
        check_choice(self.optimizer, "optimizer", tuple(_OPTIMIZERS))
        if self.clip is not None:
            check_positive_float(self.clip, "clip")
        check_positive_int(self.seed, "seed", minimum=0, maximum=MAX_SEED)
        check_device(self.device, "device", cpu_or_cuda=True)
        check_positive_int(self.log_every, "log_every")


@dataclass
class History:
    """What :func:`train` measured, one entry per optimizer step.

    Attributes
    ----------
    losses : list of float
        The training loss of each step's batch (before the step's update).
    grad_norms : list of float
        The global L2 norm of the gradient at each step, before clipping.
    """

    losses: list = field(default_factory=list)
    grad_norms: list = field(default_factory=list)


def _as_tensor(a, device: torch.device, dtype: torch.dtype) -> torch.Tensor:
    """Move a batch array to the device; floats take the model's dtype, integers become int64."""
    if isinstance(a, np.ndarray) and any(stride < 0 for stride in a.strides):
        a = a.copy()                                 # torch cannot view a reversed array such as x[::-1]
    t = torch.from_numpy(a) if isinstance(a, np.ndarray) else torch.as_tensor(a)
    return t.to(device, dtype if t.is_floating_point() else torch.long)


def _pair(batch, expected: str, got: str):
    """``batch`` itself if it is an (x, y) pair (a tuple or a list of two); else a clear error."""
    if not isinstance(batch, (tuple, list)):
        raise TypeError(f"{expected}, but {got} {type(batch).__name__}")
    if len(batch) != 2:
        items = f"{len(batch)} item" + "s" * (len(batch) != 1)
        raise ValueError(f"{expected}, but {got} a {type(batch).__name__} of {items}")
    return batch


def _batch_stream(batches, config: TrainConfig, rng: np.random.Generator):
    """Yield (x, y) pairs: from ``batches(rng)`` per step, or from ``epochs`` passes over an iterable, at most
    ``config.steps`` in all."""
    if callable(batches) and not hasattr(batches, "__iter__"):
        if config.steps is None:
            raise ValueError("steps should be set in TrainConfig when batches is a callable, but is None")
        for _ in range(config.steps):
            yield _pair(batches(rng), "batches(rng) should return an (x, y) pair", "returned")
        return
    if isinstance(batches, Iterator) and config.epochs > 1:
        raise ValueError(f"batches is a one-shot iterator (generator), used up after one epoch, but epochs is "
                         f"{config.epochs}; pass a list (list(batches)) or a callable batches(rng), or set epochs=1")
    step = 0
    for epoch in range(config.epochs):
        n = 0
        for batch in batches:
            n += 1
            yield _pair(batch, "batches should yield (x, y) pairs", f"batch {step} is")
            step += 1
            if config.steps is not None and step >= config.steps:
                return              # before pulling a batch that no step would use
        if n == 0:
            if epoch == 0:
                raise ValueError("batches yielded no (x, y) pair; pass a non-empty iterable or a callable")
            return  # a one-shot iterator (a generator) is used up after one epoch


def _total(batches, config: TrainConfig):
    """The number of steps for the progress bar, where it can be known."""
    if callable(batches) and not hasattr(batches, "__iter__"):
        return config.steps
    per_epoch = len(batches) * config.epochs if hasattr(batches, "__len__") else None
    if config.steps is None or per_epoch is None:
        return per_epoch if config.steps is None else config.steps
    return min(config.steps, per_epoch)


def _non_finite(t) -> str:
    """``"NaN"``, ``"inf"``, ``"NaN and inf"`` or ``""``: what a float tensor holds that is not finite (``""`` for
    anything else, such as an integer tensor or a dict that a ``forward`` hook unpacks)."""
    if not (isinstance(t, torch.Tensor) and (t.is_floating_point() or t.is_complex())):
        return ""
    kinds = [kind for kind, test in (("NaN", torch.isnan), ("inf", torch.isinf)) if bool(test(t).any())]
    return " and ".join(kinds)


def _largest(t) -> str:
    """The largest magnitude in a float tensor, for the message; ``"?"`` where there is none to give."""
    if not (isinstance(t, torch.Tensor) and t.is_floating_point() and t.numel()):
        return "?"
    return f"{float(t.detach().abs().max()):.3g}"


def _advice(step: int, config: TrainConfig, x, y) -> str:
    """What to try: fix the batch if it holds NaN/inf, look at the data's scale if nothing was updated yet,
    else lower lr or clip. Called only once training has stopped, so the batch is inspected at no cost per step."""
    bad = [f"{kinds} in its {name}" for name, t in (("inputs (x)", x), ("targets (y)", y)) if (kinds := _non_finite(t))]
    if bad:
        return f"the batch of step {step} has {' and '.join(bad)}: check the data"
    if step == 0:
        return (f"this training has made no update yet, so its lr and clip are not the cause: the batch is finite, "
                f"but its largest |x| is {_largest(x)} and its largest |y| is {_largest(y)}; scale the data (e.g. "
                f"standardise it) and check the model's outputs on it")
    advice = f"lower the learning rate (lr={config.lr:g})"
    # No "in TrainConfig": functions that build the config from their own arguments (train_adding, with its lr
    # and clip) raise this message too, and lr and clip are what both call these settings.
    return advice + (" or set clip (e.g. clip=1.0)" if config.clip is None else f" or lower clip (clip={config.clip:g})")


def _stop(what: str, value: float, step: int, history: History, config: TrainConfig, x=None, y=None):
    last = f"the last finite loss was {history.losses[-1]:.4g} at step {len(history.losses) - 1}" \
        if history.losses else "no step finished before it"
    return FloatingPointError(f"the {what} became {value} at step {step}; {last}. Training stopped instead of "
                              f"continuing on garbage: {_advice(step, config, x, y)}")


def check_finite_update(loss: float, norm: float, update: int, lr: float) -> None:
    """Stop a hand-written training loop before it steps on a NaN or infinite loss or gradient.

    :func:`train` checks this itself; the chapters' own loops (:func:`rnncourse.torch.charlm.train_charlm`,
    :func:`rnncourse.torch.tagger.fit_tagger`) call it between ``backward`` and ``optimizer.step()``, where a
    non-finite value would otherwise turn every weight into NaN and the losses after it into NaN too.

    Parameters
    ----------
    loss : float
        The update's loss.
    norm : float
        The global gradient norm before clipping (what :func:`rnncourse.torch.clip.clip_grad_norm` returns).
    update : int
        Index of the update, for the message.
    lr : float
        The learning rate, for the advice.

    Raises
    ------
    FloatingPointError
        If ``loss`` or ``norm`` is NaN or infinite.
    """
    advice = (f"lower the learning rate (lr={lr:g}) or check the data" if update else
              "no update has been made yet, so the learning rate is not the cause: check the data and the "
              "model's initial weights")
    for what, value in (("loss", loss), ("gradient norm", norm)):
        if not math.isfinite(value):
            raise FloatingPointError(f"the {what} became {value} at update {update}; training stopped before the "
                                     f"optimizer step, so the weights are as they were before it; {advice}")


def train(model: torch.nn.Module, batches, loss_fn, config: TrainConfig = TrainConfig(), *,
          forward=None, progress: bool = True) -> History:
    """Train ``model`` with gradient descent and return the loss history.

    Each step: ``Y = model(x)`` (the first element when the model returns a
    tuple, as :class:`~rnncourse.torch.heads.RNNModel` does) or, when given,
    ``Y = forward(model, x, y)``; then ``loss = loss_fn(Y, y)``, backward, clip
    (if ``config.clip``), optimizer step.

    Parameters
    ----------
    model : torch.nn.Module
        The model; trained in place. It is put in training mode (``model.train()``, which
        switches dropout on) and left in it: call ``model.eval()`` before evaluating.
        Gradients are recorded even when ``train`` is called inside :func:`torch.no_grad`.
    batches : callable or iterable
        Either a callable ``batches(rng) -> (x, y)`` called once per step with
        a :class:`numpy.random.Generator` seeded from ``config.seed``, or an
        iterable of ``(x, y)`` pairs (a list, a DataLoader; a one-shot iterator
        such as a generator gives one epoch only). Arrays may be
        NumPy or torch; they are moved to the model's device, floats cast to
        its dtype and integers to int64.
    loss_fn : callable
        ``loss_fn(Y, y) -> torch.Tensor`` of shape (), e.g.
        ``torch.nn.functional.mse_loss``.
    config : TrainConfig
        Hyperparameters.
    forward : callable, optional
        ``forward(model, x, y) -> Y``: how one step runs the model, for a model
        whose forward pass needs more than ``x``. A Jordan network under teacher
        forcing is fed the targets (``lambda model, x, y: model(x, targets=y)``);
        a sequence-to-sequence model encodes the source and decodes the target
        (``lambda model, src, tgt: model.decode(model.encode(src), tgt)``).
        Default: ``model(x)``.
    progress : bool
        Show a tqdm progress bar (default ``True``).

    Returns
    -------
    History
        Losses and gradient norms, one per step.

    Raises
    ------
    FloatingPointError
        If the loss or the gradient norm becomes NaN or infinite.
    """
    if not isinstance(model, torch.nn.Module):
        raise TypeError(f"model should be a torch.nn.Module, but is {type(model).__name__}")
    if not isinstance(config, TrainConfig):
        fix = "; build one with TrainConfig(**config)" if isinstance(config, dict) else ""
        raise TypeError(f"config should be a TrainConfig, but is {type(config).__name__}{fix}")
    params = [p for p in model.parameters() if p.requires_grad]
    if not params:
        raise ValueError("model has no trainable parameters")
    progress = check_bool(progress, "progress")
    if forward is not None and not callable(forward):
        raise TypeError(f"forward should be a callable forward(model, x, y) -> Y, but is {type(forward).__name__}")
    if config.device is not None:
        model.to(pick_device(config.device))
    device, dtype = params[0].device, params[0].dtype
    torch.manual_seed(config.seed)
    rng = np.random.default_rng(config.seed)
    optimizer = _OPTIMIZERS[config.optimizer](params, lr=config.lr)
    history = History()
    model.train()
    with tqdm(total=_total(batches, config), disable=not progress, desc="training") as bar, torch.enable_grad():
        for step, (x, y) in enumerate(_batch_stream(batches, config, rng)):
            loss, norm = train_step(model, params, optimizer, loss_fn, _as_tensor(x, device, dtype),
                                    _as_tensor(y, device, dtype), config, step, history, forward)
            history.losses.append(loss)
            history.grad_norms.append(norm)
            bar.update(1)
            if step % config.log_every == 0:
                bar.set_postfix(loss=f"{loss:.4f}")
    return history


def train_step(model, params, optimizer, loss_fn, x, y, config, step, history, forward=None):
    """One step of :func:`train`: zero the gradients, forward, loss, backward, clip, update.

    Parameters
    ----------
    model : torch.nn.Module
        Maps ``x`` to outputs ``Y`` (or to a tuple whose first element is ``Y``).
    params : list of torch.nn.Parameter
        The parameters the optimizer updates (their gradients are clipped together).
    optimizer : torch.optim.Optimizer
        Holds ``params``.
    loss_fn : callable
        ``loss_fn(Y, y) -> torch.Tensor`` of shape ().
    x, y : torch.Tensor
        One batch, already on the model's device.
    config : TrainConfig
        ``config.clip`` is the largest global gradient norm (``None``: no clipping).
    step : int
        Index of this step, for the error message.
    history : History
        The steps so far, for the error message.
    forward : callable, optional
        ``forward(model, x, y) -> Y`` instead of ``model(x)`` (see :func:`train`).

    Returns
    -------
    loss : float
        The batch's loss before the update.
    norm : float
        The global L2 norm of the gradient before clipping.
    """
    optimizer.zero_grad(set_to_none=True)
    out = model(x) if forward is None else forward(model, x, y)
    loss = loss_fn(out[0] if isinstance(out, tuple) else out, y)
    if not isinstance(loss, torch.Tensor):
        raise TypeError(f"loss_fn should return a scalar torch.Tensor, but returned {type(loss).__name__}")
    if loss.ndim != 0:
        raise ValueError(f"loss_fn should return a scalar torch.Tensor (shape ()), but returned one of shape "
                         f"{tuple(loss.shape)}; reduce it with .mean()")
    value = float(loss.detach())
    if not math.isfinite(value):
        raise _stop("loss", value, step, history, config, x, y)
    loss.backward()
    norm = clip_grad_norm(params, config.clip if config.clip is not None else math.inf)
    if not math.isfinite(norm):
        raise _stop("gradient norm", norm, step, history, config, x, y)
    optimizer.step()
    return value, norm
