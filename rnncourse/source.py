"""Show the package's own source on a page of the book.

Where a chapter teaches a function or a class that lives in ``rnncourse``, it does not copy
the code into a cell (a copy drifts from the tested code); it calls :func:`show_source`, which
reads the code from the installed package and displays it as a highlighted Python block. In the
built book and in a notebook the reader sees exactly the code that the tests check.
"""

from __future__ import annotations

import inspect
import textwrap
from pathlib import Path

__all__ = ["source_of", "show_source"]


def source_of(obj) -> str:
    """Return the source code of a function, method, class or module of the package.

    Parameters
    ----------
    obj : function, method, class or module
        Anything :func:`inspect.getsource` can read, e.g. ``rnncourse.torch.ElmanRNN.forward``.

    Returns
    -------
    source : str
        The code, dedented (a method reads as if it stood at the left margin), with no
        trailing blank lines.
    """
    if isinstance(obj, property):
        obj = obj.fget
    try:
        code = inspect.getsource(obj)
    except TypeError as error:
        raise TypeError(
            f"show_source expects a function, method, class or module, but got {type(obj).__name__}; "
            "pass the object itself, e.g. show_source(ElmanRNN.forward), not the result of calling it"
        ) from error
    return textwrap.dedent(code).rstrip() + "\n"


def _where(obj) -> str:
    """``rnncourse/torch/elman.py`` and the dotted name, for the caption line."""
    target = obj.fget if isinstance(obj, property) else obj
    path = Path(inspect.getsourcefile(target) or "?")
    parts = path.parts
    if "rnncourse" in parts:
        path = Path(*parts[len(parts) - 1 - parts[::-1].index("rnncourse"):])
    name = getattr(target, "__qualname__", getattr(target, "__name__", ""))
    return f"`{path.as_posix()}`" + (f", `{name}`" if name and inspect.ismodule(target) is False else "")


def show_source(obj):
    """Display the source of ``obj`` as a Python code block (in a notebook or the book).

    The block is preceded by one line naming the file and the object, so the reader knows
    where to find it in the package.

    Parameters
    ----------
    obj : function, method, class or module
        What to show, e.g. ``rnncourse.torch.ElmanRNN.forward``.

    Returns
    -------
    IPython.display.Markdown
        Rendered by Jupyter and by the book as a caption and a highlighted code block.
    """
    from IPython.display import Markdown

    code = source_of(obj)
    fence = "````" if "```" in code else "```"
    return Markdown(f"Source: {_where(obj)}\n\n{fence}python\n{code}{fence}\n")
