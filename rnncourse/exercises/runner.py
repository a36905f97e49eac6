"""Run one submission notebook and check its exercises, in a process of its own.

The grader (``rnncourse.exercises.grade``) starts ``python -m rnncourse.exercises.runner JOB.json``
for each submission, in a fresh temporary folder. The job names the notebook, the exercises
and the function each one checks, the checker modules, the time limits and the results file.
In order, the runner:

1. imports the checkers and every module they import, at their top or inside a function
   (the references), and replaces ``rnncourse.exercises.check`` by a silent stand-in, so the
   notebook's own check cells print nothing and grade nothing (``load_checkers`` too: the
   job names the checkers);
2. takes a :class:`~rnncourse.exercises.guard.Guard` snapshot;
3. executes the notebook's code cells in a fresh namespace (check cells skipped), each
   under the time left of the notebook's limit: a cell that runs past it is stopped, and
   the cells after it are not run (the working folder is the fresh temporary one);
4. restores whatever the notebook replaced in ``rnncourse``, NumPy, PyTorch or builtins;
5. runs each checker on the student's function under its own time limit, restoring again
   after each, and scores zero when the function changed a guarded module while checked.

Results go to the results file as JSON lines, written as they happen (so a process killed
by the grader's hard limit still reports what it finished), each with the job's token, which
the runner reads and deletes before any student code runs. The notebook's own output goes to
standard output, which the grader discards: nothing printed can pose as a result.
"""

from __future__ import annotations

import json
import os
import re
import signal
import sys
import time
from contextlib import contextmanager

__all__ = ["TimeLimit", "time_limit", "read_notebook", "is_check_cell", "code_cells", "main"]

CHECK_LINE = re.compile(r"^\s*(assert\s+)?(\w+\s*=\s*)?check\(.*\)\s*;?\s*(#.*)?$")
EXERCISES_HEADING = re.compile(r"^#{1,6}\s+Exercises\b", re.MULTILINE)
IMPORTS_RNNCOURSE = re.compile(r"^\s*(from|import)\s+rnncourse\b", re.MULTILINE)


class TimeLimit(BaseException):
    """Raised inside the student's code when its time is up (not an ``Exception``: fewer ``except`` catch it)."""


@contextmanager
def time_limit(seconds: float):
    """Raise :class:`TimeLimit` in the block after ``seconds`` of wall-clock time."""

    def expire(signum, frame):
        raise TimeLimit()

    previous = signal.signal(signal.SIGALRM, expire)
    signal.setitimer(signal.ITIMER_REAL, max(seconds, 1e-3))
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def read_notebook(path) -> tuple:
    """``(cells, metadata)`` of an ``.ipynb``: each cell a dict with ``cell_type`` and ``source`` (a str).

    Plain JSON reading, without nbformat's validation (which takes seconds to import).
    """
    with open(path, encoding="utf-8") as f:
        nb = json.load(f)
    if not isinstance(nb, dict) or not isinstance(nb.get("cells"), list):
        raise ValueError("this is not a Jupyter notebook (no list of cells)")
    cells = []
    for cell in nb["cells"]:
        source = cell.get("source", "")
        cells.append({"cell_type": cell.get("cell_type"),
                      "source": "".join(source) if isinstance(source, list) else str(source)})
    return cells, nb.get("metadata") or {}


def is_check_cell(source: str) -> bool:
    """Whether a code cell only calls ``check(...)`` (blank and comment lines aside)."""
    lines = [line for line in source.splitlines() if line.strip() and not line.strip().startswith("#")]
    return bool(lines) and all(CHECK_LINE.match(line) for line in lines)


def code_cells(cells, only_exercises: bool = False) -> list:
    """``(number, source)`` of the code cells to run, numbered from 1 among all cells.

    With ``only_exercises``, only the chapter's opening code cells (up to the first one that
    imports rnncourse: the set-up cell and the imports) and the code cells after the
    "Exercises" heading run, when the notebook has that heading.
    """
    start = 0
    if only_exercises:
        for i, cell in enumerate(cells):
            if cell["cell_type"] == "markdown" and EXERCISES_HEADING.search(cell["source"]):
                start = i
                break
    code = [(i + 1, c["source"]) for i, c in enumerate(cells) if c["cell_type"] == "code"]
    if start:
        imports = next((k for k, (_, source) in enumerate(code) if IMPORTS_RNNCOURSE.search(source)), 0)
        code = code[:imports + 1] + [(n, s) for n, s in code[imports + 1:] if n > start]
    return [(n, s) for n, s in code if not is_check_cell(s)]


class _Shell:
    """Enough of ``get_ipython()`` for cells with magics: line magics and shell commands do nothing,
    a cell magic runs its cell (``%%time``)."""

    def __init__(self, namespace):
        self.namespace = namespace

    def run_line_magic(self, *args, **kwargs):
        return None

    def run_cell_magic(self, name, line, cell):
        exec(compile(cell, f"<%%{name} cell>", "exec"), self.namespace)

    def system(self, *args, **kwargs):
        return None

    getoutput = system


def _compile(source: str, number: int):
    from IPython.core.inputtransformer2 import TransformerManager   # imported before the snapshot

    return compile(TransformerManager().transform_cell(source), f"<cell {number}>", "exec")


def _describe_error(err: BaseException) -> str:
    text = str(err).strip().splitlines()
    return f"{type(err).__name__}: {text[0][:300]}" if text else type(err).__name__


def _listing(names, most: int = 8) -> str:
    more = f" and {len(names) - most} more" if len(names) > most else ""
    return ", ".join(names[:most]) + more


def _loaded_already(module):
    """Stands in for ``load_checkers`` in the notebook: the grader loaded the checkers itself."""


def _silent_check(name, fn):
    from rnncourse.exercises import CheckResult

    return CheckResult(name, False, "check() does not run while grading")


def run_cells(cells, namespace, seconds: float, log) -> list:
    """Execute ``cells`` in ``namespace`` within ``seconds`` in all; return the problems met."""
    problems, skipped = [], []
    deadline = time.monotonic() + seconds
    for number, source in cells:
        first_line = next((line.strip() for line in source.splitlines() if line.strip()), "")[:60]
        left = deadline - time.monotonic()
        if left <= 0:
            skipped.append(str(number))
            continue
        log({"type": "running", "what": f"cell {number}"})
        try:
            with time_limit(left):
                exec(_compile(source, number), namespace)
        except TimeLimit:
            problems.append(f"cell {number} ({first_line!r}) was stopped: the notebook ran past its time limit "
                            f"of {seconds:g} s")
        except BaseException as err:  # the student's code may raise anything, SystemExit included
            problems.append(f"cell {number} ({first_line!r}) raised {_describe_error(err)}")
    if skipped:
        problems.append(f"cell{'s' if len(skipped) > 1 else ''} {', '.join(skipped)} not run: the notebook's "
                        f"time limit of {seconds:g} s was used up")
    return problems


def check_one(exercise, fn, seconds: float) -> tuple:
    """Run one checker on the student's function; return ``(passed, feedback)``."""
    from rnncourse.exercises import ExerciseFailure

    try:
        with time_limit(seconds):
            exercise.checker(fn)
    except TimeLimit:
        return False, f"not finished within the time limit of {seconds:g} s (your function may loop forever)"
    except ExerciseFailure as failure:
        return False, str(failure)
    except NotImplementedError:
        return False, f"{exercise.function_name} is not implemented yet (it raised NotImplementedError)"
    except BaseException as err:  # the answer broke the checker
        return False, f"checking your answer raised {_describe_error(err)}"
    return True, "all checks passed"


def grade_exercises(exercises, namespace, seconds: float, guard, problems, log) -> None:
    """Check each ``(name, function_name, exercise)`` and log one result line per exercise."""
    for name, function_name, exercise in exercises:
        log({"type": "running", "what": f"checking {name}"})
        start = time.monotonic()
        fn = namespace.get(function_name)
        if exercise is None:
            passed, feedback = False, f"no exercise {name!r} is registered"
        elif fn is None:
            why = f"; {problems[0]}" if problems else ""
            passed, feedback = False, f"the notebook defines no {function_name}{why}"
        elif not callable(fn):
            passed, feedback = False, f"{function_name} should be a function, but is {type(fn).__name__}"
        else:
            passed, feedback = check_one(exercise, fn, seconds)
            changed = guard.restore()
            if changed:
                passed, feedback = False, f"no points: while it was checked, your code replaced {_listing(changed)}"
        log({"type": "exercise", "exercise": name, "function": function_name, "passed": bool(passed),
             "feedback": feedback, "seconds": round(time.monotonic() - start, 3)})


def _preload(modules) -> None:
    """Import what the checker ``modules`` import anywhere, even inside functions, so that the
    snapshot covers it before the student's code runs."""
    import ast
    import importlib
    import inspect

    for module in modules:
        try:
            tree = ast.parse(inspect.getsource(module))
        except (OSError, TypeError, SyntaxError):
            continue
        for node in ast.walk(tree):
            names = [a.name for a in node.names] if isinstance(node, ast.Import) else (
                [node.module] if isinstance(node, ast.ImportFrom) and node.level == 0 and node.module else [])
            for name in names:
                try:
                    importlib.import_module(name)
                except ImportError:
                    continue


def _load(job):
    """Import the checkers and resolve the exercises, before any student code runs."""
    import rnncourse.exercises as exercises_pkg
    import rnncourse.exercises.registry as registry
    from rnncourse.exercises.registry import get_exercise, load_checkers

    for module in job.get("checkers", []):
        load_checkers(module)
    resolved = []
    for item in job["exercises"]:
        try:
            resolved.append((item["name"], item["function"], get_exercise(item["name"])))
        except (KeyError, ValueError):
            resolved.append((item["name"], item["function"], None))
    _preload({sys.modules[ex.checker.__module__] for _, _, ex in resolved if ex is not None})
    exercises_pkg.check = _silent_check
    registry.load_checkers = _loaded_already
    return resolved


def main(argv=None) -> None:
    """Entry point: ``python -m rnncourse.exercises.runner JOB.json``."""
    import IPython.core.inputtransformer2  # noqa: F401 -- loaded before the student's code can touch it

    from rnncourse.exercises.guard import Guard

    argv = sys.argv[1:] if argv is None else argv
    with open(argv[0], encoding="utf-8") as f:
        job = json.load(f)
    os.remove(argv[0])                     # the token it holds marks the runner's records
    token = job.pop("token")
    out = open(job["results"], "a", encoding="utf-8", buffering=1)
    write, dumps = out.write, json.dumps

    def log(record):
        write(dumps({**record, "token": token}) + "\n")

    exercises = _load(job)
    cells = code_cells(read_notebook(job["notebook"])[0], job.get("only_exercises", False))
    guard = Guard()
    log({"type": "start", "cells": len(cells)})
    namespace = {"__name__": "__main__"}
    namespace["get_ipython"] = lambda: _Shell(namespace)
    problems = run_cells(cells, namespace, job["timeout"], log)
    for problem in problems:
        log({"type": "problem", "message": problem})
    changed = guard.restore()
    if changed:
        log({"type": "problem", "message": f"the notebook replaced {_listing(changed)}; the originals were "
             "restored before checking"})
    grade_exercises(exercises, namespace, job["exercise_timeout"], guard, problems, log)
    log({"type": "done"})
    out.close()
    os._exit(0)             # do not wait for threads the submission may have left running


if __name__ == "__main__":
    main()
