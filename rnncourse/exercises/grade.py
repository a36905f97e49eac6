"""Grade submitted notebooks: each in its own process, with time limits, into a table and a gradebook.

``python -m rnncourse grade SUBMISSION.ipynb [...] [--json FILE]`` calls :func:`grade_all`.
For each submission the grader works out the chapter and its exercises from the notebook
alone (reading JSON, running nothing), then starts ``python -m rnncourse.exercises.runner``
in a fresh temporary folder and reads back the JSON lines the runner writes to a results file
there. The student's code never runs in the grader's process. What is guaranteed:

- every exercise gets a row: full points when every check passes, otherwise zero with the
  reason (not implemented, an exception and its message, NaN, a wrong shape, which entries
  differ, the time limit, a notebook that crashed the process);
- a submission runs in a process of its own, under a wall-clock limit per notebook
  (``timeout``) and per exercise (``exercise_timeout``), and is killed, with any process it
  started, when it outlives ``timeout + exercise_timeout * exercises + STARTUP_SECONDS``;
- nothing a submission prints is read as a result: the runner writes results to a file, each
  record with a token that the runner read, and deleted, before the student's code ran;
- in-memory replacements of ``rnncourse``, NumPy, PyTorch or builtins are undone before each
  check (``rnncourse.exercises.guard``);
- the files of the checkers, of the package's modules they take references from and of the
  grading machinery are fingerprinted before and after each submission; if one changed,
  grading stops with :class:`IntegrityError`.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
import textwrap
import time
import types
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from pathlib import Path

import rnncourse

from .registry import chapter_exercises, get_exercise, load_checkers
from .runner import read_notebook

__all__ = ["ExerciseResult", "SubmissionResult", "IntegrityError", "grade_submission", "grade_all",
           "format_table", "gradebook", "find_checks"]

#: Seconds allowed, on top of the time limits, to start Python and import the checkers.
STARTUP_SECONDS = 60
CHECK_CALL = re.compile(r"""\bcheck\(\s*["']([\w.]+)["']\s*,\s*([A-Za-z_]\w*)\s*\)""")
PACKAGE_DIR = Path(rnncourse.__file__).resolve().parent


class IntegrityError(RuntimeError):
    """A submission changed the package or a checker file on disk: grading stopped."""


@dataclass
class ExerciseResult:
    """The grade of one exercise of one submission."""

    exercise: str
    function: str
    points: int
    max_points: int
    passed: bool
    feedback: str
    seconds: float = 0.0


@dataclass
class SubmissionResult:
    """The grades of one submission, with notes about its notebook (cells that failed ...)."""

    submission: str
    path: str
    chapter: str
    status: str
    exercises: list = field(default_factory=list)
    notes: list = field(default_factory=list)
    seconds: float = 0.0

    @property
    def points(self) -> int:
        """Points earned."""
        return sum(e.points for e in self.exercises)

    @property
    def max_points(self) -> int:
        """Points possible."""
        return sum(e.max_points for e in self.exercises)


def find_checks(text: str) -> dict:
    """``{exercise name: function name}`` for every ``check("name", fn)`` call in ``text``."""
    return {name: fn for name, fn in CHECK_CALL.findall(text)}


def _chapter_source(chapter: str, book_dir) -> str:
    """The text of the book chapter ``chNN`` (``book/NN_*.md``), or "" when there is none."""
    if book_dir is None or not re.fullmatch(r"ch\d\d", chapter):
        return ""
    found = sorted(Path(book_dir).glob(f"{chapter[2:]}_*.md"))
    return found[0].read_text(encoding="utf-8") if found else ""


def plan(cells, metadata: dict, path: Path, book_dir=None) -> tuple:
    """The chapter of a submission and the ``(exercise, function)`` pairs to grade.

    The chapter comes from the notebook's ``rnncourse`` metadata (written by the student
    version), else from its ``check`` calls, else from a file name starting ``NN_``. Every
    exercise registered for the chapter is graded, in the order of the book chapter's ``check``
    calls (else of registration); the function comes from the submission's ``check`` call, else
    the book chapter's, else the exercise's name.
    """
    code = "\n".join(c["source"] for c in cells if c["cell_type"] == "code")
    calls = find_checks(code)
    chapter = (metadata.get("rnncourse") or {}).get("chapter")
    if not chapter and calls:
        chapter = Counter(name.split(".")[0] for name in calls).most_common(1)[0][0]
    if not chapter:
        match = re.match(r"(\d\d)_", path.name)
        chapter = f"ch{match.group(1)}" if match else "?"
    registered = [e.name for e in chapter_exercises(chapter)] if chapter != "?" else []
    book_calls = find_checks(_chapter_source(chapter, book_dir))
    # In the book's order, else the order the checkers were registered in, else the submission's.
    order = list(book_calls) + registered + list(calls)
    names = sorted(set(registered) | set(calls), key=order.index)
    return chapter, [(n, calls.get(n) or book_calls.get(n) or n.split(".", 1)[1]) for n in names]


def _points(name: str, overrides: dict) -> int:
    if name in overrides:
        return int(overrides[name])
    try:
        return get_exercise(name).points
    except (KeyError, ValueError):
        return 0


def _read_results(path: Path, token: str) -> list:
    """The records of the results file that carry the job's token (the runner's, not forged ones)."""
    records = []
    if path.exists():
        for line in path.read_text(encoding="utf-8", errors="replace").splitlines():
            try:
                record = json.loads(line)
            except json.JSONDecodeError:
                continue
            if isinstance(record, dict) and record.get("token") == token:
                records.append(record)
    return records


def _run(job: dict, folder: Path, hard_limit: float) -> tuple:
    """Run the runner on ``job`` in ``folder``; return ``(records, status, stderr tail)``."""
    token = secrets.token_hex(16)
    (folder / "job.json").write_text(json.dumps({**job, "token": token}), encoding="utf-8")
    paths = [str(PACKAGE_DIR.parent)] + [p for p in os.environ.get("PYTHONPATH", "").split(os.pathsep) if p]
    env = {**os.environ, "MPLBACKEND": "Agg", "PYTHONDONTWRITEBYTECODE": "1", "PYTHONPATH": os.pathsep.join(paths)}
    with open(folder / "stderr.txt", "wb") as err:
        proc = subprocess.Popen([sys.executable, "-P", "-m", "rnncourse.exercises.runner", "job.json"],
                                cwd=folder, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=err,
                                env=env, start_new_session=True)
        try:
            proc.wait(timeout=hard_limit)
            status = f"exited early (exit code {proc.returncode})"    # unless its records end with "done"
        except subprocess.TimeoutExpired:
            status = "killed"
        try:
            os.killpg(proc.pid, signal.SIGKILL)      # the runner, and anything it started
        except ProcessLookupError:
            pass
        proc.wait()
    tail = (folder / "stderr.txt").read_bytes()[-1500:].decode("utf-8", "replace").strip()
    return _read_results(folder / "results.jsonl", token), status, tail


def _missing_reason(status: str, records: list, hard_limit: float, tail: str) -> str:
    running = [r["what"] for r in records if r.get("type") == "running"]
    where = f" while {'running ' if running and running[-1].startswith('cell') else ''}{running[-1]}" if running else ""
    if status == "killed":
        return f"not graded: the submission was stopped after {hard_limit:g} s{where}"
    # The last line of the error output names a crash (MemoryError, a segmentation fault ...).
    last = f": {tail.splitlines()[-1][:200]}" if tail and not status.endswith("(exit code 0)") else ""
    return f"not graded: the submission's process {status}{where}{last}"


def grade_submission(path, *, timeout: float = 300, exercise_timeout: float = 30, checkers=(),
                     points=None, only_exercises: bool = False, book_dir=None, name=None,
                     grace: float = STARTUP_SECONDS) -> SubmissionResult:
    """Grade one notebook in a separate process.

    Parameters
    ----------
    path : str or pathlib.Path
        The submitted ``.ipynb``.
    timeout : float
        Seconds for running the notebook's cells.
    exercise_timeout : float
        Seconds for checking one exercise.
    checkers : tuple
        Extra checker modules or ``.py`` files (see ``load_checkers``).
    points : dict or None
        Points per exercise name, replacing the registered ones.
    only_exercises : bool
        Run only the import cell and the cells after the "Exercises" heading.
    book_dir : str or pathlib.Path or None
        The book's chapters, to find each exercise's function name when a submission lost
        its check cell.
    name : str or None
        How the table names the submission (default: the file name).
    grace : float
        Seconds allowed on top of the time limits before the process is killed.

    Returns
    -------
    SubmissionResult
        One :class:`ExerciseResult` per exercise, and notes.

    Raises
    ------
    IntegrityError
        When a checker, or a module it takes references from, changed on disk meanwhile.
    """
    path = Path(path).resolve()
    name = name or path.name
    for module in checkers:
        load_checkers(str(module))
    start = time.monotonic()
    try:
        cells, metadata = read_notebook(path)
    except Exception as err:  # not JSON, not a notebook, not readable
        match = re.match(r"(\d\d)_", path.name)
        chapter = f"ch{match.group(1)}" if match else "?"
        result = SubmissionResult(name, str(path), chapter, "unreadable",
                                  notes=[f"could not read the notebook: {type(err).__name__}: {err}"])
        for ex in chapter_exercises(chapter) if chapter != "?" else []:
            pts = _points(ex.name, points or {})
            result.exercises.append(ExerciseResult(ex.name, ex.function_name, 0, pts, False,
                                                   "not graded: the notebook could not be read"))
        return result
    chapter, todo = plan(cells, metadata, path, book_dir)
    job = {"notebook": str(path), "results": "results.jsonl", "timeout": timeout,
           "exercise_timeout": exercise_timeout, "only_exercises": only_exercises,
           "checkers": [str(Path(c).resolve()) if str(c).endswith(".py") else str(c) for c in checkers],
           "exercises": [{"name": n, "function": f} for n, f in todo]}
    hard_limit = timeout + exercise_timeout * max(len(todo), 1) + grace
    guarded = _guarded_files([n for n, _ in todo])
    before = _fingerprint(guarded)
    folder = Path(tempfile.mkdtemp(prefix="rnncourse-grade-"))
    try:
        records, status, tail = _run(job, folder, hard_limit)
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    changed = [f for f, digest in _fingerprint(guarded).items() if digest != before[f]]
    if changed:
        raise IntegrityError(f"while {name} was graded, these files changed on disk: {', '.join(changed)}; "
                             f"restore them (git checkout) and grade again")
    done = {r["exercise"]: r for r in records if r.get("type") == "exercise"}
    finished = any(r.get("type") == "done" for r in records)
    result = SubmissionResult(name, str(path), chapter, "ok" if finished else status,
                              notes=[r["message"] for r in records if r.get("type") == "problem"],
                              seconds=round(time.monotonic() - start, 2))
    for ex_name, function in todo:
        pts = _points(ex_name, points or {})
        r = done.get(ex_name)
        if r is None:
            feedback = _missing_reason(status, records, hard_limit, tail)
            result.exercises.append(ExerciseResult(ex_name, function, 0, pts, False, feedback))
        else:
            result.exercises.append(ExerciseResult(ex_name, function, pts if r["passed"] else 0, pts,
                                                   bool(r["passed"]), r["feedback"], r.get("seconds", 0.0)))
    return result


def _fingerprint(files) -> dict:
    return {str(f): hashlib.sha256(Path(f).read_bytes()).hexdigest() if Path(f).exists() else None for f in files}


def _guarded_files(names) -> list:
    """The files whose change would change a grade: the checkers of the exercises ``names``, the
    package's modules they take references from, and the grading machinery itself."""
    modules = set()
    for name in names:
        try:
            modules.add(sys.modules[get_exercise(name).checker.__module__])
        except (KeyError, ValueError):
            continue
    files = {Path(__file__).resolve().parent / f for f in ("__init__.py", "registry.py", "feedback.py", "guard.py",
                                                           "runner.py")}
    for module in modules:
        files.add(Path(module.__file__).resolve())
        for value in vars(module).values():
            source = sys.modules.get(value.__name__ if isinstance(value, types.ModuleType) else getattr(value, "__module__", ""))
            if getattr(source, "__file__", None) and PACKAGE_DIR in Path(source.__file__).resolve().parents:
                files.add(Path(source.__file__).resolve())
    return sorted(files)


def _short_names(paths) -> list:
    """Names for the table: paths relative to the submissions' common folder."""
    paths = [Path(p).resolve() for p in paths]
    if len(paths) < 2:
        return [p.name for p in paths]
    common = Path(os.path.commonpath([p.parent for p in paths]))
    return [str(p.relative_to(common)) for p in paths]


def grade_all(paths, *, jobs: int = 1, checkers=(), **options) -> list:
    """Grade every notebook in ``paths`` (``jobs`` at a time); return their :class:`SubmissionResult`.

    Raises :class:`IntegrityError` when a submission changed a checker or a reference on disk
    (see :func:`grade_submission`). Other keyword arguments go to :func:`grade_submission`.
    """
    names = _short_names(paths)

    def one(i):
        return grade_submission(paths[i], checkers=checkers, name=names[i], **options)

    with ThreadPoolExecutor(max_workers=max(1, jobs)) as pool:
        try:
            return list(pool.map(one, range(len(paths))))
        except IntegrityError:
            pool.shutdown(cancel_futures=True)
            raise


def format_table(results, width: int = 100) -> str:
    """The grades as a text table: submission, exercise, points, feedback (wrapped)."""
    rows = []
    for sub in results:
        first = sub.submission
        for ex in sub.exercises:
            rows.append((first, ex.exercise, f"{ex.points}/{ex.max_points}", ex.feedback))
            first = ""
        for note in sub.notes:
            rows.append((first, "(note)", "", note))
            first = ""
        rows.append((first, "total", f"{sub.points}/{sub.max_points}", "" if sub.status == "ok" else sub.status))
    head = ("submission", "exercise", "points", "feedback")
    w = [max(len(r[i]) for r in rows + [head]) for i in range(3)]
    fb_width = max(30, width - sum(w) - 6)
    lines = []
    for row in [head, tuple("-" * n for n in w) + ("-" * min(fb_width, 40),)] + rows:
        wrapped = textwrap.wrap(row[3], fb_width) or [""]
        lines.append(f"{row[0]:<{w[0]}}  {row[1]:<{w[1]}}  {row[2]:>{w[2]}}  {wrapped[0]}".rstrip())
        lines += [" " * (sum(w) + 6) + more for more in wrapped[1:]]
    return "\n".join(lines)


def gradebook(results, settings=None) -> dict:
    """The grades as a JSON-ready dict, one entry per submission with its exercises."""
    subs = []
    for sub in results:
        entry = asdict(sub)
        entry.update(points=sub.points, max_points=sub.max_points)
        subs.append(entry)
    return {"rnncourse_version": rnncourse.__version__, "graded_at": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
            "settings": settings or {}, "submissions": subs}
