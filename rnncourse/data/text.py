"""Text for character-level language models, and a character vocabulary.

The machines that build and test the book have no internet, so the text comes
from files that ship with Python itself: the source code (or only the
docstrings) of a fixed list of standard-library modules, read from their files
in the standard-library folder, ``sysconfig.get_paths()["stdlib"]`` (nothing is
imported, and a file of the same name in the working folder cannot take their
place). Any UTF-8 file can be used instead by passing its path.

The exact text depends on the Python version (the standard library changes
between releases), but is the same on every run of one installation.
"""

from __future__ import annotations

import ast
import inspect
import os
import sysconfig
from pathlib import Path

import numpy as np

from rnncourse.validation import check_bool, check_index_array, check_positive_int

__all__ = ["STDLIB_MODULES", "module_path", "load_text", "CharVocab", "running_features"]

#: Standard-library modules read by :func:`load_text`, pure-Python files present
#: in every CPython 3.11+ installation, rich in English prose (docstrings, comments).
STDLIB_MODULES = ("textwrap", "heapq", "bisect", "fractions", "string", "colorsys", "shlex", "queue",
                  "difflib", "statistics", "argparse", "calendar", "functools")

_SOURCES = ("stdlib", "stdlib-docstrings")


def module_path(name: str) -> Path:
    """The source file of a standard-library module (``"json"``), to read as text.

    The file is looked up in the standard-library folder, ``sysconfig.get_paths()["stdlib"]``,
    not on ``sys.path``: a student's own ``statistics.py`` next to a notebook does not
    replace the standard library's. A package (``"json"``) gives its ``__init__.py``.

    Raises :class:`FileNotFoundError` when the module has no ``.py`` source in this installation,
    and :class:`ValueError` when ``name`` is not a dotted module name (``"../x"``).

    Parameters
    ----------
    name : str
        A dotted module name, ``"json"`` or ``"email.mime"``.

    Returns
    -------
    pathlib.Path
        The module's ``.py`` file, or its package's ``__init__.py``.
    """
    if not isinstance(name, str):
        raise TypeError(f"name should be a module name (str), but is {type(name).__name__}")
    parts = name.split(".")
    if not all(part.isidentifier() for part in parts):
        raise ValueError(f"name should be a dotted module name such as 'json' or 'email.mime', but is {name!r}")
    folder = Path(sysconfig.get_paths()["stdlib"])
    for path in (folder.joinpath(*parts[:-1], parts[-1] + ".py"), folder.joinpath(*parts, "__init__.py")):
        if path.is_file():
            return path
    raise FileNotFoundError(f"the standard-library module {name!r} has no source file in {folder}; "
                            f"pass the path of a text file to load_text instead")


def _docstrings(source: str) -> str:
    """Every docstring (module, classes, functions) of a Python source, in file order, cleaned."""
    nodes = (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)
    found = [n for n in ast.walk(ast.parse(source)) if isinstance(n, nodes) and ast.get_docstring(n, clean=False)]
    found.sort(key=lambda n: getattr(n, "lineno", 0))
    return "\n\n".join(inspect.cleandoc(ast.get_docstring(n, clean=False)) for n in found)


def _printable_ascii(text: str) -> str:
    """Drop every character other than the newline and printable ASCII (space to ``~``)."""
    return "".join(c for c in text if c == "\n" or " " <= c <= "~")


def _read_utf8(path: Path) -> str:
    """The text of a UTF-8 file; a file in another encoding is a ValueError that names it."""
    try:
        return path.read_text(encoding="utf-8")
    except UnicodeDecodeError as err:
        raise ValueError(f"source should be a UTF-8 text file, but {str(path)!r} is not: its byte "
                         f"{err.object[err.start]:#04x} at position {err.start} is not valid UTF-8; "
                         f"save the file as UTF-8") from None


def load_text(source: str | Path = "stdlib", max_chars: int | None = None, *, ascii_only: bool = True) -> str:
    """Return a text corpus that needs no download.

    Parameters
    ----------
    source : str or path-like
        ``"stdlib"`` (default): the source files of the modules in
        ``STDLIB_MODULES``, concatenated (about 400,000 characters of Python
        code and English comments). ``"stdlib-docstrings"``: only their
        docstrings (about 90,000 characters of mostly English prose). Anything
        else is the path of a UTF-8 text file.
    max_chars : int, optional
        Keep only the first ``max_chars`` characters.
    ascii_only : bool
        Drop characters other than the newline and printable ASCII (default
        ``True``): a few dozen accented letters in the standard library would
        otherwise nearly double the vocabulary while appearing once each.

    Returns
    -------
    str
        The text.

    Raises
    ------
    TypeError
        If ``source`` is neither a str nor a path.
    FileNotFoundError
        If ``source`` is neither a known name nor an existing file.
    ValueError
        If the file is not UTF-8 text (the message names the file).

    Examples
    --------
    >>> text = load_text(max_chars=1000)
    >>> len(text)
    1000
    """
    if max_chars is not None:
        check_positive_int(max_chars, "max_chars")
    ascii_only = check_bool(ascii_only, "ascii_only")
    if not isinstance(source, (str, os.PathLike)):
        raise TypeError(f"source should be one of {', '.join(map(repr, _SOURCES))} or the path of a text file "
                        f"(str or pathlib.Path), but is {type(source).__name__} {source!r:.60}")
    if isinstance(source, str) and source in _SOURCES:
        files = [module_path(name).read_text(encoding="utf-8") for name in STDLIB_MODULES]
        if source == "stdlib-docstrings":
            files = [_docstrings(f) for f in files]
        text = "\n\n".join(files)
    else:
        path = Path(source)
        if not path.is_file():
            raise FileNotFoundError(f"source should be one of {', '.join(map(repr, _SOURCES))} or the path "
                                    f"of a text file, but {str(source)!r} is neither")
        text = _read_utf8(path)
    if ascii_only:
        text = _printable_ascii(text)
    return text if max_chars is None else text[:max_chars]


class CharVocab:
    """A character vocabulary: the sorted distinct characters of a text, numbered 0 .. V-1.

    Parameters
    ----------
    text : str
        The text whose characters make up the vocabulary.

    Attributes
    ----------
    chars : str
        The V characters, in sorted order; ``chars[i]`` has id ``i``.

    Examples
    --------
    >>> vocab = CharVocab("hello")
    >>> vocab.chars, vocab.size
    ('ehlo', 4)
    >>> vocab.encode("hell")
    array([1, 0, 2, 2])
    >>> vocab.decode([3, 2])
    'ol'
    """

    def __init__(self, text: str):
        if not isinstance(text, str):
            raise TypeError(f"text should be a str, but is {type(text).__name__}")
        if not text:
            raise ValueError("text should hold at least one character, but is empty")
        self.chars = "".join(sorted(set(text)))
        self._ids = {c: i for i, c in enumerate(self.chars)}

    @property
    def size(self) -> int:
        """V, the number of distinct characters."""
        return len(self.chars)

    def __len__(self) -> int:
        return self.size

    def __repr__(self) -> str:
        return f"CharVocab(size={self.size})"

    def encode(self, text: str) -> np.ndarray:
        """Turn a string into its character ids.

        Parameters
        ----------
        text : str
            Characters that all belong to the vocabulary.

        Returns
        -------
        numpy.ndarray of int, shape (N,)
            One id per character (dtype int64).
        """
        if not isinstance(text, str):
            raise TypeError(f"text should be a str, but is {type(text).__name__}")
        try:
            return np.fromiter((self._ids[c] for c in text), dtype=np.int64, count=len(text))
        except KeyError:
            unknown = sorted(set(text) - set(self.chars))
            raise ValueError(f"text contains {len(unknown)} character(s) outside the vocabulary, e.g. "
                             f"{''.join(unknown[:10])!r}; build the vocabulary from a text that contains "
                             f"them, or remove them") from None

    def decode(self, ids) -> str:
        """Turn character ids back into a string.

        Parameters
        ----------
        ids : numpy.ndarray or list of int, shape (N,)
            Ids in ``[0, V)``.

        Returns
        -------
        str
        """
        ids = np.asarray(ids)
        if ids.size == 0:
            return ""
        check_index_array(ids, "ids", ("N",), high=self.size)
        return "".join(self.chars[i] for i in ids.tolist())


def running_features(text: str) -> dict:
    """Three running properties of a text, one value per character, to compare hidden units with.

    Parameters
    ----------
    text : str
        The text, e.g. ``vocab.decode(ids)``.

    Returns
    -------
    dict of numpy.ndarray of float64, each shape (N,)
        ``"letters since the last non-letter"``: 0 at a non-letter, else 1 + its value at the
        previous character; ``"characters since the line began"``: 0 at a newline, else 1 + the
        previous value; ``"inside parentheses"``: 1 where more ``(`` than ``)`` have been read so far
        (a ``)`` with none open is ignored), else 0.

    Examples
    --------
    >>> {name: f.tolist() for name, f in running_features("ab (c)").items()}["letters since the last non-letter"]
    [1.0, 2.0, 0.0, 0.0, 1.0, 0.0]
    """
    if not isinstance(text, str):
        raise TypeError(f"text should be a str, but is {type(text).__name__}")
    names = ("letters since the last non-letter", "characters since the line began", "inside parentheses")
    out = {name: np.zeros(len(text)) for name in names}
    word = column = depth = 0
    for i, c in enumerate(text):
        word = word + 1 if c.isalpha() else 0
        column = 0 if c == "\n" else column + 1
        depth = max(0, depth + (c == "(") - (c == ")"))
        for name, value in zip(names, (word, column, depth > 0)):
            out[name][i] = value
    return out
