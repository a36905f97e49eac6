"""Show the package's own source on a page of the book.

Where a chapter teaches a function or a class that lives in ``rnncourse``, it does not copy
the code into a cell (a copy drifts from the tested code); it calls :func:`show_source`, which
reads the code from the installed package and displays it as a highlighted Python block. In the
built book and in a notebook the reader sees exactly the code that the tests check.
"""

from __future__ import annotations

import inspect
import re
import textwrap
from pathlib import Path

import numpy as np

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

    Raises
    ------
    TypeError
        For a value (an array, a model) or compiled code (``len``, ``np.tanh``).
    ValueError
        Where Python keeps no source, e.g. for a class defined in a notebook, or where the
        function's file changed after it was imported (its old line numbers would show other code).
    """
    if isinstance(obj, property):
        obj = obj.fget
    try:
        code = inspect.getsource(obj)
    except TypeError as error:
        compiled = inspect.isroutine(obj) or isinstance(obj, (type, np.ufunc)) or inspect.ismodule(obj)
        fix = ("it is compiled code (like len or np.tanh), with no Python source to show" if compiled else
               "pass the object itself, e.g. show_source(ElmanRNN.forward), not the result of calling it")
        raise TypeError(f"show_source expects a function, method, class or module, "
                        f"but got {type(obj).__name__} {_short(obj)}; {fix}") from error
    except OSError as error:
        in_notebook = inspect.isclass(obj) and obj.__module__ == "__main__"
        fix = ("Python keeps no source file for a class defined in a notebook; "
               f"show one of its methods instead, e.g. show_source({obj.__name__}.forward)" if in_notebook else
               "it has no Python source file (compiled, or typed at a prompt)")
        raise ValueError(f"show_source cannot read the source of {_short(obj)}: {fix}") from error
    _check_current(obj, code)
    return textwrap.dedent(code).rstrip() + "\n"


def _check_current(obj, code: str) -> None:
    """Raise ``ValueError`` if the lines read for a function are not its ``def``: its file changed after the import.

    Python finds a function's source by the line number it was compiled at; once the file is edited
    (an editable install, a learner's change), those lines hold other code.
    """
    function = inspect.unwrap(obj)
    function = getattr(function, "__func__", function)           # a bound method
    if not inspect.isfunction(function) or function.__name__ == "<lambda>":
        return
    first = next((line.strip() for line in code.splitlines()            # past the decorators, however long
                  if re.match(r"\s*(async\s+)?def\s", line)), "")
    if not re.match(rf"(async\s+)?def\s+{re.escape(function.__name__)}\b", first):
        raise ValueError(f"show_source read other code than {function.__qualname__} from "
                         f"{inspect.getsourcefile(function)}: the file changed after it was imported; "
                         "restart the kernel (or re-import the module) and run the cell again")


def _short(obj) -> str:
    """``repr(obj)`` cut to one short line, for an error message."""
    text = " ".join(repr(obj).split())
    return text if len(text) <= 60 else text[:57] + "..."


def _where(obj) -> str:
    """Where ``obj`` lives, for the caption line, then its dotted name.

    ``rnncourse/torch/elman.py`` for the package, the module name (``torch.nn.modules.rnn``)
    for other libraries, "defined in this notebook" for a notebook cell.
    """
    target = inspect.unwrap(obj.fget if isinstance(obj, property) else obj)   # a decorated function's own file
    module = inspect.getmodule(target)
    if module is not None and module.__name__ == "__main__" and not hasattr(module, "__file__"):
        where = "defined in this notebook"          # its file is a temporary copy of the cell
    elif module is not None and module.__name__.split(".")[0] != "rnncourse":
        where = f"`{module.__name__}`"
    else:
        path = Path(inspect.getsourcefile(target) or "?")
        parts = path.parts
        if "rnncourse" in parts:
            path = Path(*parts[len(parts) - 1 - parts[::-1].index("rnncourse"):])
        where = f"`{path.as_posix()}`"
    name = getattr(target, "__qualname__", getattr(target, "__name__", ""))
    return where + (f", `{name}`" if name and inspect.ismodule(target) is False else "")


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
