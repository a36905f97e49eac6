"""The student edition of the book: built from sources without solutions, and checked for leaks.

:func:`build_student_book` copies the book, strips every chapter's solutions
(``rnncourse.exercises.student``), replaces the instructor guide by a short page, sets
sphinx-exercise's ``hide_solutions: true`` and builds it with ``jupyter-book build`` and
the book's own strict flags. By default the chapters are executed like the instructor
edition: every figure and output is there, while the exercise cells, which would raise
``NotImplementedError``, are tagged ``raises-exception`` and ``remove-output``. So no
solution is ever executed or rendered.

:func:`find_leaks` then reads every file of the site (HTML as text, notebooks cell by cell)
and reports each solution line found there: a line counts when it has at least
``MIN_LEAK_CHARS`` characters and appears nowhere else in the book's sources. A line that opens a
solution directive counts too: one the stripper missed would leave its lines among the sources.
"""

from __future__ import annotations

import html
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

__all__ = ["STRICT", "build_student_book", "find_leaks", "solution_lines", "site_lines", "normalise", "STUDENT_GUIDE"]

MIN_LEAK_CHARS = 12
#: The strict build flags of jupyter-book (warnings are errors, nitpicky references, see all of them). The
#: one definition, used by the student build and the tests; the Makefile's JB_FLAGS is checked against it.
STRICT = ["-W", "-n", "--keep-going"]
TEXT_SUFFIXES = {".html", ".txt", ".md", ".ipynb", ".py", ".json"}
#: The opening fence of a solution directive, as MyST reads it (```` ``` {Solution} ````, ``:::{solution-start}``).
SOLUTION_FENCE = re.compile(r"\s*(`{3,}|~{3,}|:{3,})\s*\{solution(-start)?\}", re.IGNORECASE)
#: A solution line that gives no answer away, and that the package's listings hold too. A ``def`` or
#: ``class`` line (the stub keeps the ``def``), a ``return`` of bare names (``return grads``), a lone keyword.
GENERIC_LINE = re.compile(r"((async )?def \w+\(.*\)( -> .+)?:|class \w+.*:|return( [\w.]+(, [\w.]+)*,?)?"
                          r"|else:|try:|finally:|pass|continue|break)")
STUDENT_GUIDE = """(instructor-guide)=
# Instructor guide

This is the student edition of the book: the solutions of the exercises are not in it.
The instructor guide, which explains how to generate this edition and grade the exercises,
is in the instructor edition.
"""


def normalise(line: str) -> str:
    """A line with its indentation dropped and runs of spaces made one.

    Parameters
    ----------
    line : str
        One line of text.
    """
    return " ".join(line.split())


def _html_lines(text: str) -> list:
    text = re.sub(r"(?is)<(script|style)\b.*?</\1>", "", text)
    return html.unescape(re.sub(r"<[^>]+>", "", text)).splitlines()


def _json_strings(value):
    if isinstance(value, str):
        yield value
    elif isinstance(value, list):
        for v in value:
            yield from _json_strings(v)
    elif isinstance(value, dict):
        for v in value.values():
            yield from _json_strings(v)


def site_lines(path: Path) -> list:
    """The text lines of one file of a built site (HTML without tags, notebooks' strings joined).

    Parameters
    ----------
    path : pathlib.Path
        The file: ``.html`` and ``.ipynb`` are read as such, any other file as plain text.
    """
    text = path.read_text(encoding="utf-8", errors="replace")
    if path.suffix == ".html":
        return _html_lines(text)
    if path.suffix == ".ipynb":
        try:
            nb = json.loads(text)
        except json.JSONDecodeError:
            return text.splitlines()
        for cell in nb.get("cells", []):          # sources and outputs are lists of lines: join them
            for key in ("source", "outputs"):
                if isinstance(cell.get(key), list) and all(isinstance(s, str) for s in cell[key]):
                    cell[key] = "".join(cell[key])
        return [line for s in _json_strings(nb) for line in s.splitlines()]
    return text.splitlines()


def solution_lines(removed_lines, kept_lines) -> set:
    """The normalised solution lines whose presence anywhere gives an answer away.

    A removed line counts if it has at least ``MIN_LEAK_CHARS`` characters, does not also stand in
    the student sources, and is not a ``GENERIC_LINE`` (a ``def`` line, ``return grads``).

    Parameters
    ----------
    removed_lines : list
        Every line removed from the sources (the solutions).
    kept_lines : list
        Every line of the student sources.

    Examples
    --------
    >>> sorted(solution_lines(["    return grads", "np.add.at(dE, ids, dx)", "x = 1"], ["x = 1"]))
    ['np.add.at(dE, ids, dx)']
    """
    kept = {normalise(line) for line in kept_lines}
    wanted = {normalise(line) for line in removed_lines}
    return {line for line in wanted
            if len(line) >= MIN_LEAK_CHARS and line not in kept and not GENERIC_LINE.fullmatch(line)}


def find_leaks(site, removed_lines, kept_lines) -> list:
    """Solution lines found in the files of ``site``.

    Parameters
    ----------
    site : str or pathlib.Path
        A folder (a built site, or student notebooks).
    removed_lines : list
        Every line removed from the sources (the solutions).
    kept_lines : list
        Every line of the student sources: a solution line that also stands there is not a leak.

    Returns
    -------
    list
        ``(file, line)`` pairs, one per solution line found, and one per line that opens a solution
        directive.
    """
    wanted = solution_lines(removed_lines, kept_lines)
    leaks = []
    for path in sorted(Path(site).rglob("*")):
        if path.is_file() and path.suffix in TEXT_SUFFIXES:
            lines = {normalise(line) for line in site_lines(path)}
            found = wanted.intersection(lines) | {line for line in lines if SOLUTION_FENCE.match(line)}
            leaks += [(str(path), line) for line in sorted(found)]
    return leaks


def _student_sources(root: Path, src: Path) -> tuple:
    """Copy the book from ``root`` to ``src`` without solutions; return (removed, kept) lines."""
    import jupytext
    import yaml

    from .student import chapter_id, chapter_paths, read_chapter, student_notebook

    ignore = shutil.ignore_patterns("_build", ".ipynb_checkpoints", "__pycache__", ".jupyter_cache")
    for name in ("_config.yml", "_toc.yml"):
        shutil.copy(root / name, src / name)
    for folder in ("book", "_static", "_templates"):
        if (root / folder).is_dir():
            shutil.copytree(root / folder, src / folder, ignore=ignore)
    removed = []
    for path in chapter_paths(src / "book"):
        nb, gone = student_notebook(read_chapter(path), chapter_id(path), path.name)
        removed += gone
        jupytext.write(nb, path, fmt="md:myst")
    guide = src / "book" / "instructor_guide.md"
    if guide.exists():
        # The guide is replaced (it is for instructors), but its lines are not solutions of the
        # book's exercises: its worked example uses the same helpers as the API appendix shows.
        guide.write_text(STUDENT_GUIDE, encoding="utf-8")
    config = yaml.safe_load((src / "_config.yml").read_text(encoding="utf-8"))
    config.setdefault("sphinx", {}).setdefault("config", {})["hide_solutions"] = True
    (src / "_config.yml").write_text(yaml.safe_dump(config, sort_keys=False), encoding="utf-8")
    kept = [line for p in (src / "book").rglob("*.md") for line in p.read_text(encoding="utf-8").splitlines()]
    return removed, kept


def build_student_book(root, out_dir, *, execute: bool = True, strict: bool = True) -> Path:
    """Build the student edition of the book at ``root`` into ``out_dir/html``; return that folder.

    Parameters
    ----------
    root : str or pathlib.Path
        The book's root (with ``_config.yml``, ``_toc.yml`` and ``book/``).
    out_dir : str or pathlib.Path
        Where ``html/`` goes (replaced if it exists).
    execute : bool
        Run the chapters (as the instructor edition does); ``False`` builds in seconds,
        without outputs.
    strict : bool
        Warnings are errors (``-W -n --keep-going``), as in ``make book``.

    Returns
    -------
    pathlib.Path
        The site's folder.

    Raises
    ------
    OSError
        Before building, when ``jupyter-book`` is not installed or ``out_dir/html`` is a file.
    RuntimeError
        When the build fails (its output's tail is in the message) or a solution line is
        found in the site.
    """
    import yaml

    root, out_dir = Path(root).resolve(), Path(out_dir).resolve()
    html_dir = out_dir / "html"
    if html_dir.exists() and not html_dir.is_dir():
        raise FileExistsError(f"{html_dir} is a file: expected a folder for the site, or nothing there")
    beside = Path(sys.executable).with_name("jupyter-book")
    jupyter_book = str(beside) if beside.exists() else shutil.which("jupyter-book")
    if jupyter_book is None:
        raise FileNotFoundError("jupyter-book is not installed (beside this Python or on the PATH): "
                                "pip install 'rnncourse[book]'")
    with tempfile.TemporaryDirectory(prefix="rnncourse-student-book-") as tmp:
        src = Path(tmp)
        removed, kept = _student_sources(root, src)
        if not execute:
            config = yaml.safe_load((src / "_config.yml").read_text(encoding="utf-8"))
            config.setdefault("execute", {})["execute_notebooks"] = "off"
            (src / "_config.yml").write_text(yaml.safe_dump(config, sort_keys=False), encoding="utf-8")
        cmd = [jupyter_book, "build", str(src), "--path-output", str(src), *(STRICT if strict else [])]
        proc = subprocess.run(cmd, cwd=src, capture_output=True, text=True, env={**os.environ, "PYTHONWARNINGS": ""})
        if proc.returncode != 0:
            raise RuntimeError(f"the student book did not build:\n{(proc.stdout + proc.stderr)[-4000:]}")
        site = src / "_build" / "html"
        # Checked before it replaces anything: a site with solutions in it never reaches html_dir.
        leaks = find_leaks(site, removed, kept)
        if leaks:
            listed = "\n".join(f"  {Path(file).relative_to(site)}: {line}" for file, line in leaks[:20])
            raise RuntimeError(f"{len(leaks)} solution lines are in the student book (nothing written to "
                               f"{html_dir}):\n{listed}")
        shutil.rmtree(html_dir, ignore_errors=True)
        shutil.copytree(site, html_dir)
    return html_dir
