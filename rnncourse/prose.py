"""Numbers that a chapter's prose quotes, computed by the chapter itself.

A chapter never types a result into its text. It computes the number in a cell and hands it to
:func:`glue` under a name; the text then writes ``{glue:text}`name``` (myst-nb), and the built
book shows the value the code produced on that build. :func:`sci` and :func:`percent` format a
number the way the prose writes it.

In a notebook outside the book (Jupyter, Colab, where myst-nb may be missing) :func:`glue` does
nothing and returns the text, so the chapter runs the same everywhere.
"""

from __future__ import annotations

import math

import numpy as np

from rnncourse.validation import check_positive_int

__all__ = ["glue", "sci", "percent"]

_SUPERSCRIPT = str.maketrans("-0123456789", "⁻⁰¹²³⁴⁵⁶⁷⁸⁹")


def _finite(value, name: str) -> float:
    """``value`` as a finite float; a clear error for a string, a bool, an array or NaN."""
    if isinstance(value, str):
        raise TypeError(f"{name} should be a number, but is the string {value!r}; pass the number itself")
    if isinstance(value, (bool, np.bool_)):         # float(True) is 1.0, but True is no number to quote
        raise TypeError(f"{name} should be a number, but is bool {value!r}; pass the number itself, "
                        f"not the result of a comparison")
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise TypeError(f"{name} should be a number, but is {type(value).__name__}") from None
    except OverflowError:                           # an int beyond float's range, e.g. 2 ** 1100
        raise ValueError(f"{name} should be a finite number, but is an integer too large for a float") from None
    if not math.isfinite(number):
        raise ValueError(f"{name} should be a finite number, but is {number}")
    return number


def sci(value, digits=1):
    """Write a number in scientific notation for prose: ``sci(2.6e4) == "2.6 × 10⁴"``.

    Parameters
    ----------
    value : float
        The number; must be finite.
    digits : int
        Digits after the decimal point of the mantissa (default 1); ``0`` writes ``"3 × 10⁻⁶"``.

    Returns
    -------
    str
        Mantissa, times sign and power of ten with a superscript exponent; a mantissa of 1 is
        left out (``"10⁻²¹"``, ``"-10⁵"``).

    Examples
    --------
    >>> sci(0.000048)
    '4.8 × 10⁻⁵'
    >>> sci(1e-21, 0)
    '10⁻²¹'
    """
    value = _finite(value, "value") + 0.0          # + 0.0 turns -0.0 into 0.0
    digits = check_positive_int(digits, "digits", minimum=0)
    mantissa, exponent = f"{value:.{digits}e}".split("e")
    power = "10" + str(int(exponent)).translate(_SUPERSCRIPT)
    if abs(float(mantissa)) == 1.0:
        return "-" * (value < 0) + power
    return f"{mantissa} × {power}"


def percent(fraction, digits=0):
    """Write a fraction as a percentage for prose: ``percent(0.973) == "97 %"``.

    Parameters
    ----------
    fraction : float
        The fraction, e.g. an accuracy between 0 and 1; it and ``100 * fraction`` must be finite.
    digits : int
        Digits after the decimal point (default 0).

    Returns
    -------
    str
        The percentage with a space before the sign, as the book writes it; a value that
        rounds to zero is written without a minus sign (``percent(-0.004) == "0 %"``).
    """
    fraction = _finite(fraction, "fraction")
    digits = check_positive_int(digits, "digits", minimum=0)
    if not math.isfinite(100 * fraction):
        raise ValueError(f"fraction should be a number whose percentage 100 * fraction is finite, but 100 * "
                         f"{fraction!r} overflows to inf; pass the fraction, e.g. 0.97 for 97 %")
    text = f"{100 * fraction:.{digits}f}"
    if float(text) == 0:                           # "-0 %" reads as a negative number
        text = text.lstrip("-")
    return f"{text} %"


def glue(name, value):
    """Store ``value`` under ``name`` for the chapter's text, ``{glue:text}`name```; return ``value``.

    Parameters
    ----------
    name : str
        The key the text refers to; not empty, unique within a chapter.
    value : str, int or finite float
        What the text shows. Pass a Python number or a string already formatted
        (with :func:`sci` or an f-string), not a NumPy scalar, whose printed form
        ``np.float64(...)`` the book cannot read back.

    Returns
    -------
    The ``value``, so that a cell can glue and use a number in one line.
    """
    if not isinstance(name, str):
        raise TypeError(f"glue's name should be a str, but got {type(name).__name__} {name!r}; "
                        "the text refers to it as {glue:text}`name`")
    if not name.strip():
        raise ValueError(f"glue's name should be a non-empty str, but is {name!r}")
    if type(value) not in (str, int, float):          # np.float64 is a float subclass, but prints differently
        raise TypeError(f"glue({name!r}, ...) should get a str, int or float, but got {type(value).__name__}; "
                        "convert it with float(...) or format it as a string first")
    if type(value) is float and not math.isfinite(value):
        raise ValueError(f"glue({name!r}, ...) should get a finite number, but got {value}; "
                         "the prose would read 'nan' or 'inf', so check the computation")
    try:
        from myst_nb import glue as myst_glue
    except ImportError:          # a notebook outside the book: nothing to paste into
        return value
    myst_glue(name, value, display=False)
    return value
