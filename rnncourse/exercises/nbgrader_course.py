"""A ready nbgrader course made from the book's chapters: ``python -m rnncourse nbgrader OUTDIR ch02 ch04``.

For each chosen chapter, ``OUTDIR/source/chNN/NN_slug.ipynb`` is the chapter as an nbgrader
source notebook:

- each exercise cell (the lines between ``### BEGIN SOLUTION`` and ``### END SOLUTION``) is an
  *autograded answer* cell, whose solution ``nbgrader generate_assignment`` replaces by the stub
  ``raise NotImplementedError("write your solution here")``;
- each check cell, ``check("ch04.rnn_backward", rnn_backward)``, becomes an *autograded tests*
  cell, ``assert check("ch04.rnn_backward", rnn_backward)``, worth the exercise's points: the check
  prints its feedback, and fails the assertion when a check fails;
- the ``{solution}`` blocks, gated solutions and cells tagged ``solution`` are removed (nbgrader
  clears code, not markdown); outputs are cleared; cell and grade ids hold no dot (nbgrader
  rejects ``ch04.rnn_backward``).

``OUTDIR/nbgrader_config.py`` makes ``OUTDIR`` the course root and puts ``OUTDIR/jupyter`` on the
Jupyter path, where ``kernels/rnncourse`` is a kernel running this Python, which imports
``rnncourse`` (so the chapters' set-up cell installs nothing). Then, in ``OUTDIR``::

    nbgrader generate_assignment ch04      # release/ch04/: the student version
    nbgrader autograde ch04                # submitted/<student>/ch04/*.ipynb -> autograded/
    nbgrader generate_feedback ch04

Under nbgrader, the checks run inside the student's own kernel: nbgrader does not sandbox code.
``python -m rnncourse grade`` grades the same notebooks in a sandbox.
"""

from __future__ import annotations

import copy
import json
import sys
from pathlib import Path

import rnncourse

from .grade import find_checks
from .registry import get_exercise
from .plain_markdown import book_index, plain_notebook
from .runner import is_check_cell
from .student import SOLUTION_TAG, STUB, chapter_id, chapter_paths, read_chapter, strip_code, strip_markdown

__all__ = ["KERNEL", "ONE_THREAD", "CourseHasChapters", "nbgrader_notebook", "write_nbgrader_course"]

#: The kernel the course's notebooks name.
KERNEL = {"name": "rnncourse", "display_name": "Python 3 (rnncourse)", "language": "python"}
#: One BLAS/OpenMP thread per library in the course's kernel, as the Makefile's ``THREADS`` and the grader's sandbox
#: set: the chapters' small matrices gain nothing from more threads, and a busy machine slows them tenfold.
ONE_THREAD = {"OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}

CONFIG = '''"""nbgrader configuration of this course, written by `python -m rnncourse nbgrader`."""
import os

here = os.path.dirname(os.path.abspath(__file__))
# The kernel "rnncourse" (jupyter/kernels/rnncourse) runs the Python that has rnncourse installed.
os.environ["JUPYTER_PATH"] = os.pathsep.join(p for p in (os.path.join(here, "jupyter"),
                                                         os.environ.get("JUPYTER_PATH", "")) if p)

c = get_config()  # noqa: F821 -- given by nbgrader when it reads this file
c.CourseDirectory.root = here
c.CourseDirectory.course_id = {course_id!r}
c.ClearSolutions.code_stub = {{"python": {stub!r}}}
c.Execute.timeout = {timeout}
'''


class CourseHasChapters(ValueError):
    """The course already has the source notebooks ``paths``; ``option`` says how to replace them (the argument
    ``force=True`` of :func:`write_nbgrader_course`, or the command line's ``--force``).

    Parameters
    ----------
    paths : iterable of str or pathlib.Path
        The source notebooks that exist already.
    option : str
        How the message tells the caller to replace them.
    """

    def __init__(self, paths, option: str = "force=True"):
        self.paths = [str(path) for path in paths]
        super().__init__(f"expected a course without these chapters, but it has {', '.join(self.paths)}; "
                         f"replace them with {option}")


def _metadata(grade_id: str, *, solution: bool, grade: bool, points: int = 0) -> dict:
    meta = {"grade": grade, "grade_id": grade_id, "locked": not solution, "schema_version": 3,
            "solution": solution, "task": False}
    if grade:
        meta["points"] = points
    return meta


def nbgrader_notebook(nb, chapter: str) -> tuple:
    """The nbgrader source version of a chapter notebook (a copy).

    Parameters
    ----------
    nb : nbformat.NotebookNode
        The chapter, with solutions; it is left as it is.
    chapter : str
        The chapter's id (``"ch04"``): it starts the cells' ids, names the cells in error messages and
        is recorded in the metadata.

    Returns
    -------
    tuple
        ``(notebook, graded)``: the notebook, and ``(grade_id, points)`` of each autograded tests cell.
    """
    out = copy.deepcopy(nb)
    cells, graded, inside = [], [], False
    for number, cell in enumerate(out.cells, start=1):
        here = f"{chapter}, cell {number}"
        if SOLUTION_TAG in cell.metadata.get("tags", []) or (inside and cell.cell_type != "markdown"):
            continue
        cell.metadata.pop("tags", None)
        cell["id"] = f"cell-{number}"
        if cell.cell_type == "markdown":
            cell.source, _, inside = strip_markdown(cell.source, inside, here)
            if not cell.source.strip():
                continue
        elif cell.cell_type == "code":
            cell.outputs, cell.execution_count = [], None
            calls = find_checks(cell.source)
            if strip_code(cell.source, here)[1]:           # a marked solution (ValueError if a marker is unpaired)
                cell["id"] = f"{chapter}-answer-{number}"  # named after its check below
                cell.metadata["nbgrader"] = _metadata(cell["id"], solution=True, grade=False)
            elif calls and is_check_cell(cell.source):
                points = sum(get_exercise(name).points for name in calls)
                cell["id"] = "-".join(name.replace(".", "-") for name in calls)
                cell.source = "\n".join(f"assert check({name!r}, {fn})" for name, fn in calls.items())
                cell.metadata["nbgrader"] = _metadata(cell["id"], solution=False, grade=True, points=points)
                graded.append((cell["id"], points))
        cells.append(cell)
    out.cells = cells
    out.metadata.pop("jupytext", None)
    out.metadata["kernelspec"] = dict(KERNEL)
    out.metadata["rnncourse"] = {"chapter": chapter}
    out.nbformat, out.nbformat_minor = 4, 5
    return out, graded


def _name_answers(nb) -> None:
    """Give each answer cell the id of the exercise whose check follows it (``ch04-rnn_backward-answer``)."""
    pending = None
    for cell in nb.cells:
        meta = cell.metadata.get("nbgrader", {})
        if meta.get("solution"):
            pending = cell
        elif meta.get("grade") and pending is not None:
            pending["id"] = pending.metadata["nbgrader"]["grade_id"] = f"{cell['id']}-answer"
            pending = None


def write_nbgrader_course(book_dir, out_dir, chapters, course_id: str = "rnncourse", timeout: int = 300,
                          force: bool = False) -> dict:
    """Write an nbgrader course for ``chapters`` (``["ch02", "ch04"]``) into ``out_dir``.

    Every chapter is checked before anything is written. A source notebook that exists is replaced
    only with ``force`` (else :class:`CourseHasChapters`, a ``ValueError``, names them); the course's
    other chapters stay.

    Parameters
    ----------
    book_dir : str or pathlib.Path
        The book folder, with the chapters ``NN_slug.md``.
    out_dir : str or pathlib.Path
        The course's root folder, created if missing.
    chapters : sequence of str
        The chapters' ids; each must be a chapter of ``book_dir`` with at least one coding exercise.
    course_id : str
        The course id written into ``nbgrader_config.py``.
    timeout : int
        Seconds a cell may run when nbgrader executes a notebook, > 0.
    force : bool
        Whether to replace source notebooks that exist already.

    Returns
    -------
    dict
        ``{chapter: [(grade_id, points), ...]}``, the autograded tests cells of each chapter.
    """
    import nbformat

    out = Path(out_dir)
    if timeout <= 0:
        raise ValueError(f"timeout should be the seconds a cell may run, > 0, but is {timeout}")
    by_id = {chapter_id(p): p for p in chapter_paths(book_dir)}
    unknown = [c for c in chapters if c not in by_id]
    if unknown:
        raise ValueError(f"no chapter {', '.join(unknown)} in {book_dir}; the chapters are "
                         f"{', '.join(sorted(by_id)) or 'none'}")
    index = book_index({int(path.name[:2]): read_chapter(path) for path in by_id.values()},
                       sorted(Path(book_dir).glob("*.bib")))
    notebooks = {}
    for chapter in chapters:
        nb, graded = nbgrader_notebook(read_chapter(by_id[chapter]), chapter)
        nb = plain_notebook(nb, index, int(by_id[chapter].name[:2]))     # readable in any Jupyter, without MyST
        _name_answers(nb)
        if not graded:
            raise ValueError(f"{chapter} has no coding exercise to grade")
        nbformat.validate(nb)
        notebooks[out / "source" / chapter / f"{by_id[chapter].stem}.ipynb"] = nb, graded
    existing = [path for path in notebooks if path.exists()]
    if existing and not force:
        raise CourseHasChapters(existing)
    written = {}
    for path, (nb, graded) in notebooks.items():
        path.parent.mkdir(parents=True, exist_ok=True)
        nbformat.write(nb, path)
        written[path.parent.name] = graded
    kernel = out / "jupyter" / "kernels" / KERNEL["name"]
    kernel.mkdir(parents=True, exist_ok=True)
    spec = {"argv": [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"],
            "display_name": KERNEL["display_name"], "language": "python",
            "env": {"PYTHONPATH": str(Path(rnncourse.__file__).resolve().parents[1]), "MPLBACKEND": "Agg",
                    **ONE_THREAD}}
    (kernel / "kernel.json").write_text(json.dumps(spec, indent=2) + "\n", encoding="utf-8")
    (out / "nbgrader_config.py").write_text(CONFIG.format(course_id=course_id, stub=STUB, timeout=int(timeout)),
                                            encoding="utf-8")
    return written
