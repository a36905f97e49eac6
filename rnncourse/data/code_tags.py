"""Tag every character of a line of Python code with the kind of token it belongs to.

A per-step labelling task built from Python's own standard library and its
``tokenize`` module, so it needs no download. Each example is one line of
source code (indentation stripped); the label of each character is one of
:data:`TAGS`: ``space`` between tokens, ``name``, ``keyword``, ``number``,
``string``, ``comment`` or ``operator``.

Some labels need the future of the line: the ``i`` of ``if x`` is a keyword, the
``i`` of ``item`` a name; the ``f`` of ``f"{x}"`` belongs to a string. A
left-to-right reader must guess at the first letter; a bidirectional one need not.

Lines that belong to a token spanning several lines (the inside of a
triple-quoted docstring) are left out: their tags cannot be known from the line
alone. So are lines with a character that belongs to no token, such as the
backslash that continues a line (``x = 1 + \\``): ``space`` means a space. Only
printable ASCII lines are kept. Characters are encoded as
``ord(c) - 31`` (so ``" "`` is 1 and ``"~"`` is 95) and 0 is kept for padding.
"""

from __future__ import annotations

import io
import keyword
import tokenize

import numpy as np

from rnncourse.data.text import module_path
from rnncourse.validation import check_positive_int

__all__ = ["TAGS", "TRAIN_MODULES", "TEST_MODULES", "PAD", "VOCAB_SIZE", "tag_source", "encode_line",
           "load_code_tags"]

#: The label of each character, in the order of the tag ids 0 .. 6.
TAGS = ("space", "name", "keyword", "number", "string", "comment", "operator")
#: Modules whose lines train the models; the test modules are different files (an honest split).
TRAIN_MODULES = ("textwrap", "heapq", "bisect", "fractions", "string", "colorsys", "shlex", "queue", "difflib",
                 "calendar")
#: Modules whose lines test the models, none of them among :data:`TRAIN_MODULES`.
TEST_MODULES = ("statistics", "functools")
#: The padding id; real characters have ids 1 .. 95.
PAD = 0
#: The number of ids (the padding id and the 95 printable ASCII characters).
VOCAB_SIZE = 96

_KIND = {tokenize.NUMBER: "number", tokenize.STRING: "string", tokenize.COMMENT: "comment", tokenize.OP: "operator"}
# Python 3.12+ splits an f-string into FSTRING_START, FSTRING_MIDDLE, ..., FSTRING_END; 3.11 has no such tokens.
_FSTRING_START = getattr(tokenize, "FSTRING_START", None)
_FSTRING_END = getattr(tokenize, "FSTRING_END", None)


def _token_spans(tokens):
    """Yield ``(kind, start, end)`` for each token that gets a tag; positions are tokenize's (row, column).

    An f-string is one ``"string"`` span, as Python 3.11 gives it: on 3.12+ the span
    runs from an FSTRING_START to its matching FSTRING_END (f-strings may nest).
    """
    depth = 0
    for tok in tokens:
        if _FSTRING_START is not None and tok.type == _FSTRING_START:
            if depth == 0:
                first = tok.start
            depth += 1
        elif depth:                               # inside an f-string: only its end matters
            if tok.type == _FSTRING_END:
                depth -= 1
                if depth == 0:
                    yield "string", first, tok.end
        elif tok.type == tokenize.NAME:
            yield ("keyword" if keyword.iskeyword(tok.string) else "name"), tok.start, tok.end
        elif tok.type in _KIND:
            yield _KIND[tok.type], tok.start, tok.end


def tag_source(source: str) -> list:
    """Split Python source into lines and tag each character with :data:`TAGS`.

    Parameters
    ----------
    source : str
        The text of a Python file.

    Returns
    -------
    list of (str, numpy.ndarray)
        ``(line, tags)`` pairs: the line without indentation and trailing spaces, and
        one tag id (int64) per character. Blank lines, lines that are part of a
        multi-line token, lines with a character outside every token (a backslash that
        continues the line) and lines with characters outside printable ASCII are left out.

    Raises
    ------
    ValueError
        If ``tokenize`` cannot read ``source`` (an unclosed bracket or string, a bad dedent).

    Example
    -------
    >>> [(line, "".join("_nk#s%o"[t] for t in tags)) for line, tags in tag_source("if x1 > 2:  # ok\\n")]
    [('if x1 > 2:  # ok', 'kk_nn_o_#o__%%%%')]
    """
    if not isinstance(source, str):
        raise TypeError(f"source should be a str, but is {type(source).__name__}")
    # split where tokenize does, at "\n" only (str.splitlines() also splits at "\f", "\v", "\x85", ...)
    lines = [line.rstrip("\r\n") for line in io.StringIO(source)]
    try:
        tokens = list(tokenize.generate_tokens(io.StringIO(source).readline))
    except (tokenize.TokenError, SyntaxError) as err:   # SyntaxError: an IndentationError
        reason, row = (err.args[0], err.args[1][0]) if isinstance(err, tokenize.TokenError) else (err.msg, err.lineno)
        raise ValueError(f"source should be Python code that tokenize can read, but tokenize fails at line {row}: "
                         f"{reason}") from None
    tags = [np.full(len(line), -1, dtype=np.int64) for line in lines]
    broken = set()
    for kind, (r0, c0), (r1, c1) in _token_spans(tokens):
        if r0 != r1:
            broken.update(range(r0 - 1, r1))
            continue
        tags[r0 - 1][c0:c1] = TAGS.index(kind)
    out = []
    for i, line in enumerate(lines):
        stripped = line.strip()
        if not stripped or i in broken or not all(" " <= c <= "~" for c in stripped):
            continue
        start = len(line) - len(line.lstrip())
        t = tags[i][start:start + len(stripped)]
        if any(tag < 0 and c != " " for c, tag in zip(stripped, t)):    # e.g. a continuation backslash
            continue
        out.append((stripped, np.where(t < 0, TAGS.index("space"), t)))
    return out


def encode_line(line: str) -> np.ndarray:
    """Character ids of a printable-ASCII line, ``ord(c) - 31`` (1 .. 95).

    Parameters
    ----------
    line : str
        L printable ASCII characters, space to ``~``.

    Returns
    -------
    numpy.ndarray, shape (L,)
        int64 ids; space is 1, ``~`` is 95.
    """
    if not isinstance(line, str):
        raise TypeError(f"line should be a str, but is {type(line).__name__}")
    if not (line.isascii() and line.isprintable()):   # check before encoding: nothing may become "?"
        pos = next(i for i, c in enumerate(line) if not " " <= c <= "~")
        raise ValueError(f"line should hold only printable ASCII characters (space to '~'), but its character "
                         f"{line[pos]!r} at position {pos} is not: {line!r}")
    return np.frombuffer(line.encode("ascii"), dtype=np.uint8).astype(np.int64) - 31


def load_code_tags(split="train", *, max_len=80, max_lines=None, seed=0):
    """Lines of standard-library code, as character ids, with one tag per character.

    Parameters
    ----------
    split : str
        ``"train"`` (lines of :data:`TRAIN_MODULES`) or ``"test"`` (of :data:`TEST_MODULES`).
    max_len : int
        Keep lines of at most this many characters (default 80).
    max_lines : int, optional
        Keep a random subset of this many lines (drawn with ``seed``); default all.
        The lines are shuffled with ``seed`` and the first ``max_lines`` kept, so with
        one seed a smaller ``max_lines`` gives the first lines of a larger one.
    seed : int
        Seed of the subset and of the order of the lines (default 0).

    Returns
    -------
    ids : list of numpy.ndarray of int64, each shape (L,)
        The lines as character ids (see :func:`encode_line`).
    tags : list of numpy.ndarray of int64, each shape (L,)
        Tag ids into :data:`TAGS`.
    lines : list of str
        The lines themselves.
    """
    if split not in ("train", "test"):
        raise ValueError(f"split should be 'train' or 'test', but is {split!r}")
    max_len = check_positive_int(max_len, "max_len")
    seed = check_positive_int(seed, "seed", minimum=0)
    modules = TRAIN_MODULES if split == "train" else TEST_MODULES
    pairs = [p for m in modules for p in tag_source(module_path(m).read_text(encoding="utf-8"))
             if len(p[0]) <= max_len]
    rng = np.random.default_rng(seed)
    order = rng.permutation(len(pairs))
    if max_lines is not None:
        order = order[:check_positive_int(max_lines, "max_lines")]
    pairs = [pairs[i] for i in order]
    return [encode_line(p[0]) for p in pairs], [p[1] for p in pairs], [p[0] for p in pairs]
