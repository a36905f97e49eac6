"""Checks the plot functions share, on top of :mod:`rnncourse.validation`: what a figure cannot draw.

- :func:`numbers`: an array of numbers, where ``None`` is refused (``as_float_array`` would read it as NaN);
- :func:`number`: one real number, e.g. a baseline drawn as a line;
- :func:`positive_for_log`: values that a logarithmic axis can show;
- :func:`time_axis`: the time of each step, ``1 .. T`` by default as in the book's ``x_1 .. x_T``.
"""

from __future__ import annotations

import numpy as np

from rnncourse.validation import as_float_array


def numbers(values, name: str, expected: str = "an array (or a list) of numbers") -> np.ndarray:
    """``values`` as a float64 array (a tensor is detached and copied to the CPU).

    ``None`` and text raise a :class:`TypeError` naming ``name``: NumPy would read ``None`` as NaN
    and ``"12"`` as 12.0.
    """
    if values is None:
        raise TypeError(f"{name} should be {expected}, but is None")
    a = as_float_array(values, name)
    if not hasattr(values, "detach") and np.asarray(values).dtype.kind in "US":
        raise TypeError(f"{name} should hold numbers, but holds text (dtype {np.asarray(values).dtype}); "
                        f"convert it to numbers first")
    return a


def number(value, name: str, *, finite: bool = True) -> float:
    """One real number (not a string, a bool or an array, even of one element), finite unless
    ``finite=False``, returned as float."""
    if isinstance(value, (str, bytes, bool)) or not hasattr(value, "__float__"):
        raise TypeError(f"{name} should be a number, but is {type(value).__name__} {value!r}")
    if np.ndim(value) != 0:
        raise TypeError(f"{name} should be a number, but is an array of shape {tuple(np.shape(value))}; "
                        f"pass one value, e.g. float({name}[0])")
    value = float(value)
    if finite and not np.isfinite(value):
        raise ValueError(f"{name} should be a finite number, but is {value}")
    return value


def positive_for_log(a: np.ndarray, name: str) -> None:
    """Raise :class:`ValueError` unless every finite value of ``a`` is > 0 (a log axis cannot show the others)."""
    bad = np.isfinite(a) & (a <= 0)
    if bad.any():
        i = int(np.argmax(bad))
        raise ValueError(f"{name} should hold values > 0 on a logarithmic axis, but holds {a[i]} at index {i}; "
                         f"drop the log scale or plot only the positive values")


def time_axis(times, T: int, like: str) -> np.ndarray:
    """The time of each of ``T`` steps: ``1 .. T`` when ``times`` is None, else ``times`` checked.

    ``times`` must have shape (T,) and hold finite numbers or dates (``datetime64``, no NaT);
    ``like`` names the array whose length is T, for the message.
    """
    if times is None:
        return np.arange(1, T + 1)
    t = np.asarray(times.detach().cpu() if hasattr(times, "detach") else times)
    if t.shape != (T,):
        raise ValueError(f"times should have shape (T,) = ({T},) to match {like}, but has shape {t.shape}")
    if np.issubdtype(t.dtype, np.datetime64):
        bad = np.isnat(t)
    elif t.dtype.kind in "iuf":
        bad = ~np.isfinite(t)
    else:
        raise TypeError(f"times should hold numbers or dates (datetime64), but has dtype {t.dtype}")
    if bad.any():
        i = int(np.argmax(bad))
        raise ValueError(f"times should hold finite numbers or dates, but holds {t[i]} at index {i}")
    return t
