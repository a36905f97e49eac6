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

__all__ = ["glue", "sci", "percent"]

_SUPERSCRIPT = str.maketrans("-0123456789", "⁻⁰¹²³⁴⁵⁶⁷⁸⁹")


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
        left out (``"10⁻²¹"``).

    Examples
    --------
    >>> sci(0.000048)
    '4.8 × 10⁻⁵'
    >>> sci(1e-21, 0)
    '10⁻²¹'
    """
    value = float(value)
    if not math.isfinite(value):
        raise ValueError(f"value should be a finite number, but is {value}")
    mantissa, exponent = f"{value:.{digits}e}".split("e")
    power = "10" + str(int(exponent)).translate(_SUPERSCRIPT)
    if float(mantissa) == 1.0:
        return power
    return f"{mantissa} × {power}"


def percent(fraction, digits=0):
    """Write a fraction as a percentage for prose: ``percent(0.973) == "97 %"``.

    Parameters
    ----------
    fraction : float
        The fraction, e.g. an accuracy between 0 and 1.
    digits : int
        Digits after the decimal point (default 0).

    Returns
    -------
    str
        The percentage with a space before the sign, as the book writes it.
    """
    return f"{100 * float(fraction):.{digits}f} %"


def glue(name, value):
    """Store ``value`` under ``name`` for the chapter's text, ``{glue:text}`name```; return ``value``.

    Parameters
    ----------
    name : str
        The key the text refers to; unique within a chapter.
    value : str, int or float
        What the text shows. Pass a Python number or a string already formatted
        (with :func:`sci` or an f-string), not a NumPy scalar, whose printed form
        ``np.float64(...)`` the book cannot read back.

    Returns
    -------
    The ``value``, so that a cell can glue and use a number in one line.
    """
    if type(value) not in (str, int, float):          # np.float64 is a float subclass, but prints differently
        raise TypeError(f"glue({name!r}, ...) should get a str, int or float, but got {type(value).__name__}; "
                        "convert it with float(...) or format it as a string first")
    try:
        from myst_nb import glue as myst_glue
    except ImportError:          # a notebook outside the book: nothing to paste into
        return value
    myst_glue(name, value, display=False)
    return value
