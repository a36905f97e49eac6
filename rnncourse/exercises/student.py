"""The student version of the book: every chapter as a notebook without solutions.

What a solution is, and what takes its place:

- in a code cell, the lines between ``### BEGIN SOLUTION`` and ``### END SOLUTION`` (the markers
  nbgrader uses): replaced by ``raise NotImplementedError("write your solution here")`` at the
  markers' indentation, so the function's ``def`` line and docstring stay;
- a ``{solution}`` block of sphinx-exercise in a markdown cell, fenced with backticks or with
  ``:::`` (with everything nested in it): removed;
- a gated solution, from a ``{solution-start}`` block to a ``{solution-end}`` block, with the
  cells between: removed;
- a cell tagged ``solution``: removed.

Cells that would now fail, the ones with a stub and the later ones that call a stubbed
function, get the tags ``raises-exception`` and ``remove-output``, and check cells get
``remove-output``: the student book can execute (its other cells produce their outputs and
figures) without showing "not implemented" errors. Outputs are cleared.

The notebooks handed out run outside a clone too (Colab, a fresh Jupyter): each set-up cell gets the
install source the book's build writes into the pages (``rnncourse_install`` in ``_config.yml``, see
``rnncourse.sphinxext``), by the same rule, defined here because the instructor extra has no docutils.
Their markdown is made plain, for Colab and a Jupyter without MyST (:mod:`rnncourse.exercises.plain_markdown`).
"""

from __future__ import annotations

import copy
import re
from pathlib import Path

from rnncourse.exercises.plain_markdown import book_index, directives, plain_notebook
from rnncourse.install import INSTALL_LINE, configured_install, write_install_source

__all__ = ["BEGIN", "END", "STUB", "strip_code", "strip_markdown", "student_notebook", "chapter_paths",
           "chapter_id", "read_chapter", "write_student_notebooks"]

BEGIN = "### BEGIN SOLUTION"
END = "### END SOLUTION"
STUB = 'raise NotImplementedError("write your solution here")'
SOLUTION_TAG = "solution"
CHAPTER_FILE = re.compile(r"^\d\d_\w+\.(md|ipynb)$")
DEF_LINE = re.compile(r"^\s*def\s+([A-Za-z_]\w*)\s*\(", re.MULTILINE)
CHECK_CALL = re.compile(r"\bcheck\(")


def strip_code(source: str, where: str = "a code cell") -> tuple:
    """Replace each marked solution in ``source`` by the stub.

    Parameters
    ----------
    source : str
        The code cell.
    where : str
        Names the cell in error messages (a marker without its partner raises ``ValueError``).

    Returns
    -------
    tuple
        ``(new_source, removed_lines)``; ``removed_lines`` is empty when the cell has no markers.
    """
    out, removed, opened = [], [], None
    for number, line in enumerate(source.splitlines(), start=1):
        text = line.strip()
        if text.startswith(BEGIN):
            if opened is not None:
                raise ValueError(f"{where}: {BEGIN!r} on line {number} inside the solution opened on line {opened}")
            opened = number
            out.append(line[: len(line) - len(line.lstrip())] + STUB)
            removed.append(line)
        elif text.startswith(END):
            if opened is None:
                raise ValueError(f"{where}: {END!r} on line {number} without a {BEGIN!r} before it")
            opened = None
            removed.append(line)
        elif opened is not None:
            removed.append(line)
        else:
            out.append(line)
    if opened is not None:
        raise ValueError(f"{where}: the solution opened on line {opened} has no {END!r}")
    return "\n".join(out), removed


def strip_markdown(text: str, inside: bool = False, where: str = "a markdown cell") -> tuple:
    """Remove the solutions of a markdown cell.

    Parameters
    ----------
    text : str
        The cell.
    inside : bool
        Whether the cell starts inside a gated solution (after a ``solution-start``).
    where : str
        Names the cell in error messages.

    Returns
    -------
    tuple
        ``(new_text, removed_lines, inside)``: ``inside`` tells whether a gated solution is
        still open at the end of the cell.
    """
    lines = text.splitlines()
    drop = [False] * len(lines)
    cut_from = 0 if inside else None
    for start, end, name in sorted(directives(text)):
        if name == "solution" and cut_from is None:
            drop[start:end] = [True] * (end - start)
        elif name == "solution-start":
            if cut_from is not None:
                raise ValueError(f"{where}: a solution-start on line {start + 1} inside another gated solution")
            cut_from = start
        elif name == "solution-end":
            if cut_from is None:
                raise ValueError(f"{where}: a solution-end on line {start + 1} without a solution-start before it")
            drop[cut_from:end] = [True] * (end - cut_from)
            cut_from = None
    if cut_from is not None:
        drop[cut_from:] = [True] * (len(lines) - cut_from)
    kept = "\n".join(line for line, gone in zip(lines, drop) if not gone)
    kept = re.sub(r"\n{3,}", "\n\n", kept).strip("\n")
    return kept, [line for line, gone in zip(lines, drop) if gone], cut_from is not None


def _add_tags(cell, *tags) -> None:
    current = cell.metadata.setdefault("tags", [])
    current += [t for t in tags if t not in current]


def student_notebook(nb, chapter: str | None = None, where: str = "the notebook") -> tuple:
    """The student version of a chapter notebook (a copy; ``nb`` is left as it is).

    Parameters
    ----------
    nb : nbformat.NotebookNode
        The chapter, with solutions.
    chapter : str or None
        The chapter's id (``"ch04"``), recorded in the metadata for the grader.
    where : str
        Names the notebook in error messages.

    Returns
    -------
    tuple
        ``(student_nb, removed_lines)``: the notebook, and every line removed from it.
    """
    out = copy.deepcopy(nb)
    cells, removed, stubbed, inside = [], [], set(), False
    for number, cell in enumerate(out.cells, start=1):
        here = f"{where}, cell {number}"
        tags = cell.metadata.get("tags", [])
        if SOLUTION_TAG in tags or (inside and cell.cell_type != "markdown"):
            removed += cell.source.splitlines()
            continue
        if cell.cell_type == "markdown":
            cell.source, gone, inside = strip_markdown(cell.source, inside, here)
            removed += gone
            if not cell.source.strip():
                continue
        elif cell.cell_type == "code":
            cell.source, gone = strip_code(cell.source, here)
            removed += gone
            if gone:
                stubbed.update(DEF_LINE.findall(cell.source))
                # The instructor book folds a solution cell (hide-input); the student's stub is shown.
                cell.metadata["tags"] = [t for t in cell.metadata.get("tags", []) if t != "hide-input"]
                _add_tags(cell, "raises-exception", "remove-output")
            elif CHECK_CALL.search(cell.source):
                _add_tags(cell, "remove-output")
            elif any(re.search(rf"(?<![.\w]){re.escape(f)}\s*\(", cell.source) for f in stubbed):
                _add_tags(cell, "raises-exception", "remove-output")
            cell.outputs, cell.execution_count = [], None
        cells.append(cell)
    if inside:
        raise ValueError(f"{where}: a solution-start has no solution-end")
    out.cells = cells
    out.metadata.pop("jupytext", None)
    if chapter:
        out.metadata["rnncourse"] = {"chapter": chapter}
    return out, removed


def chapter_paths(book_dir) -> list:
    """The chapters ``NN_slug.md`` of the book folder, in order; ``NN_slug.ipynb`` (a notebook downloaded
    from the book) where there is no ``.md`` of that name.

    Parameters
    ----------
    book_dir : str or pathlib.Path
        The book folder.
    """
    found = [p for p in Path(book_dir).iterdir() if CHAPTER_FILE.match(p.name)]
    return sorted(p for p in found if p.suffix == ".md" or not p.with_suffix(".md").exists())


def chapter_id(path) -> str:
    """``book/04_bptt.md`` -> ``"ch04"``; ``"?"`` for a file whose name does not start ``NN_``.

    Parameters
    ----------
    path : str or pathlib.Path
        The chapter's file; only its name is read.
    """
    match = re.match(r"(\d\d)_", Path(path).name)
    return f"ch{match.group(1)}" if match else "?"


def read_chapter(path):
    """The chapter at ``path`` (MyST ``.md`` or ``.ipynb``) as a notebook; ``ValueError`` naming the file
    when Jupytext cannot read it.

    Parameters
    ----------
    path : str or pathlib.Path
        The chapter's file.
    """
    import jupytext

    try:
        return jupytext.read(path)
    except Exception as err:        # a broken file fails in the reader's own way: JSON, keys, types
        raise ValueError(f"{Path(path).name}: expected a chapter Jupytext can read, got {type(err).__name__}: "
                         f"{err}") from err


def write_student_notebooks(book_dir, out_dir) -> dict:
    """Write every chapter of ``book_dir`` as a student notebook ``out_dir/NN_slug.ipynb``.

    Each set-up cell gets the install source the book's build writes
    (:func:`~rnncourse.install.configured_install` of the folder above ``book_dir``), so a notebook
    run where rnncourse is missing installs this release. The markdown is made plain
    (:func:`~rnncourse.exercises.plain_markdown.plain_notebook`), with the labels of all chapters and the ``.bib`` files of ``book_dir``.

    Parameters
    ----------
    book_dir : str or pathlib.Path
        The book folder, with the chapters ``NN_slug.md``.
    out_dir : str or pathlib.Path
        The folder the notebooks are written to, created if missing; every chapter is converted
        before any notebook is written.

    Returns
    -------
    dict
        ``{notebook path: removed lines}``, one entry per chapter.
    """
    import nbformat

    out_dir = Path(out_dir)
    install = configured_install(Path(book_dir).parent)
    notebooks = {}                      # every chapter converted first: one that fails leaves nothing written
    for path in chapter_paths(book_dir):
        nb, removed = student_notebook(read_chapter(path), chapter_id(path), path.name)
        setup = next((c for c in nb.cells if c.cell_type == "code" and INSTALL_LINE.search(c.source)), None)
        if install and setup is not None:
            setup.source = write_install_source(setup.source, install)
        notebooks[out_dir / f"{path.stem}.ipynb"] = (nb, removed)
    numbers = {path: int(path.name[:2]) for path in notebooks}      # NN_slug: the chapter's number in the book
    index = book_index({numbers[path]: nb for path, (nb, _) in notebooks.items()}, sorted(Path(book_dir).glob("*.bib")))
    out_dir.mkdir(parents=True, exist_ok=True)
    for path, (nb, _) in notebooks.items():
        nbformat.write(plain_notebook(nb, index, numbers[path]), path)
    return {target: removed for target, (_, removed) in notebooks.items()}
