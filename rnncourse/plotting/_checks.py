"""Checks the plot functions share, on top of :mod:`rnncourse.validation`: what a figure cannot draw.

Arrays of numbers go through :func:`rnncourse.validation.as_float_array` (which refuses None and text).

- :func:`number`: one real number, e.g. a baseline drawn as a line;
- :func:`positive_for_log`: values that a logarithmic axis can show;
- :func:`time_axis`: the time of each step, ``1 .. T`` by default as in the book's ``x_1 .. x_T``.
"""

from __future__ import annotations

import datetime

import numpy as np


def number(value, name: str, *, finite: bool = True) -> float:
    """One real number (not a string, a bool or an array, even of one element), finite unless
    ``finite=False``, returned as float."""
    if isinstance(value, (str, bytes, bool, np.bool_)) or not hasattr(value, "__float__"):
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

    ``times`` must have shape (T,) and hold finite numbers or dates (``datetime64`` without NaT, or
    :class:`datetime.date` / :class:`datetime.datetime` objects, returned as ``datetime64``);
    ``like`` names the array whose length is T, for the message.
    """
    if times is None:
        return np.arange(1, T + 1)
    t = np.asarray(times.detach().cpu() if hasattr(times, "detach") else times)
    if t.dtype.kind == "O" and t.size and all(isinstance(v, datetime.date) for v in t.flat):
        t = _as_datetime64(t)
    if t.shape != (T,):
        raise ValueError(f"times should have shape (T,) = ({T},) to match {like}, but has shape {t.shape}")
    if np.issubdtype(t.dtype, np.datetime64):
        bad = np.isnat(t)
    elif t.dtype.kind in "iuf":
        bad = ~np.isfinite(t)
    else:
        raise TypeError(f"times should hold numbers or dates (datetime64 or datetime.date), but has dtype "
                        f"{t.dtype}")
    if bad.any():
        i = int(np.argmax(bad))
        raise ValueError(f"times should hold finite numbers or dates, but holds {t[i]} at index {i}")
    return t


def _as_datetime64(dates: np.ndarray) -> np.ndarray:
    """An object array of :class:`datetime.date` or :class:`datetime.datetime` as ``datetime64``: days for
    dates, microseconds once a datetime is among them; an aware datetime is converted to UTC, as matplotlib
    draws it."""
    def naive(v):
        if isinstance(v, datetime.datetime) and v.tzinfo is not None:
            return v.astimezone(datetime.timezone.utc).replace(tzinfo=None)
        return v
    return np.array([naive(v) for v in dates.flat], dtype="datetime64").reshape(dates.shape)
