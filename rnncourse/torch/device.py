"""Choosing a device.

Every PyTorch function of ``rnncourse.torch`` runs on the CPU and on a CUDA
GPU alike. :func:`pick_device` is the one place that decides which: CUDA when
it is present, the CPU otherwise, unless the caller asks for one.
:func:`check_device` checks the ``device`` argument of every model, so that a
name that is no device, or a GPU the machine lacks, is named before any weight is made.
"""

from __future__ import annotations

import torch

__all__ = ["pick_device", "check_device"]


def check_device(device, name: str = "device", *, cpu_or_cuda: bool = False) -> torch.device | None:
    """Check a ``device`` argument and return it as a :class:`torch.device` (``None`` stays ``None``).

    Every model of the package takes ``device=``: ``None`` (PyTorch's default, the CPU), a
    :class:`torch.device`, or a name that PyTorch reads (``"cpu"``, ``"cuda"``, ``"cuda:1"``,
    ``"meta"``). A CUDA device is refused where there is none, before any weight is made.

    Parameters
    ----------
    device : str or torch.device or None
        The value to check.
    name : str
        The argument's name, for the messages.
    cpu_or_cuda : bool
        Accept only the CPU and CUDA GPUs, the devices the course's code is tested on
        (what :func:`pick_device` and :class:`~rnncourse.torch.training.TrainConfig` take).

    Raises
    ------
    TypeError
        If ``device`` is neither ``None``, a str nor a :class:`torch.device`.
    ValueError
        If ``device`` is no device name, or asks for a CUDA device the machine lacks.

    Examples
    --------
    >>> check_device("cpu")
    device(type='cpu')
    """
    if device is None:
        return None
    if not isinstance(device, (str, torch.device)):
        raise TypeError(f"{name} should be None, a device name such as 'cpu' or 'cuda', or a torch.device, "
                        f"but is {type(device).__name__} {device!r}")
    try:
        parsed = torch.device(device)
    except (RuntimeError, TypeError) as err:
        raise ValueError(f"{name} should be None, a torch.device or a device name such as 'cpu', 'cuda' or "
                         f"'cuda:0', but is {device!r}") from err
    if cpu_or_cuda and parsed.type not in ("cpu", "cuda"):
        raise ValueError(f"{name} should be None, 'cpu' or 'cuda' (the course's code is tested on the CPU and on "
                         f"CUDA GPUs), but is {device!r}")
    if parsed.type == "cuda" and not torch.cuda.is_available():
        raise ValueError(f"{name} asks for the CUDA device {str(parsed)!r}, but torch.cuda.is_available() is False "
                         f"on this machine; use pick_device() (no argument) to fall back to the CPU, or ask for 'cpu'")
    if parsed.type == "cuda" and parsed.index is not None and parsed.index >= torch.cuda.device_count():
        n = torch.cuda.device_count()
        raise ValueError(f"device {str(parsed)!r} was asked for, but this machine has {n} CUDA device(s), "
                         f"cuda:0 to cuda:{n - 1}")
    return parsed


def pick_device(prefer: str | torch.device | None = None) -> torch.device:
    """Return the device to compute on.

    Parameters
    ----------
    prefer : str or torch.device or None
        ``None`` (default) picks ``cuda`` when ``torch.cuda.is_available()``
        is true and ``cpu`` otherwise. ``"cpu"`` forces the CPU; ``"cuda"`` or
        ``"cuda:1"`` asks for a GPU and fails clearly where there is none.

    Returns
    -------
    torch.device
        The chosen device.

    Raises
    ------
    TypeError
        If ``prefer`` is neither ``None``, a str nor a :class:`torch.device`.
    ValueError
        If a CUDA device is asked for but none is available (or not that many),
        or ``prefer`` is not a device name, or names a device other than the CPU
        or a CUDA GPU (e.g. ``"mps"``); see :func:`check_device`.

    Examples
    --------
    >>> pick_device("cpu")
    device(type='cpu')
    """
    if prefer is None:
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    return check_device(prefer, "prefer", cpu_or_cuda=True)
