"""Choosing a device.

Every PyTorch function of ``rnncourse.torch`` runs on the CPU and on a CUDA
GPU alike. :func:`pick_device` is the one place that decides which: CUDA when
it is present, the CPU otherwise, unless the caller asks for one.
"""

from __future__ import annotations

import torch

__all__ = ["pick_device"]


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
        or a CUDA GPU (e.g. ``"mps"``).

    Examples
    --------
    >>> pick_device("cpu")
    device(type='cpu')
    """
    if prefer is None:
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if not isinstance(prefer, (str, torch.device)):
        raise TypeError(f"prefer should be None, a device name such as 'cpu' or 'cuda', or a torch.device, "
                        f"but is {type(prefer).__name__} {prefer!r}")
    try:
        device = torch.device(prefer)
    except (RuntimeError, TypeError) as err:
        raise ValueError(f"prefer should be None, 'cpu' or 'cuda', but is {prefer!r}") from err
    if device.type not in ("cpu", "cuda"):
        raise ValueError(f"prefer should be None, 'cpu' or 'cuda' (the course's code is tested on the CPU and on "
                         f"CUDA GPUs), but is {prefer!r}")
    if device.type == "cuda" and not torch.cuda.is_available():
        raise ValueError(
            f"device {str(device)!r} was asked for, but torch.cuda.is_available() is False on this "
            "machine; use pick_device() to fall back to the CPU, or pick_device('cpu')"
        )
    if device.type == "cuda" and device.index is not None and device.index >= torch.cuda.device_count():
        n = torch.cuda.device_count()
        raise ValueError(f"device {str(device)!r} was asked for, but this machine has {n} CUDA device(s), "
                         f"cuda:0 to cuda:{n - 1}")
    return device
