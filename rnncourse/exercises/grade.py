"""Grade submitted notebooks: each in a sandbox, verdicts computed outside it, into a table and a gradebook.

``python -m rnncourse grade SUBMISSION.ipynb [...] [--json FILE] [--csv FILE] [--feedback-dir DIR]`` calls
:func:`grade_all` (and :func:`feedback_files` for ``--feedback-dir``).
For each submission the grader works out the chapter and its exercises from the notebook alone
(reading JSON, running nothing), starts one sandbox (:class:`~rnncourse.exercises.sandbox.Session`)
and has it run the notebook's code cells. Then, for each exercise, it runs the exercise's checker
**in its own process** on a stand-in for the student's function (:class:`RemoteFunction`): every
call of the stand-in sends the arguments the checker chose into the sandbox, where the student's
function runs, and returns what came back, rebuilt strictly as plain data (``wire``). The checker
compares with its own reference, in the grader's process. What is guaranteed:

- nothing the submission does inside its sandbox changes a verdict: the expected values, the
  comparisons and the points never enter it, and what leaves it is numbers, arrays of numbers,
  strings and exception names (an ``ndarray`` subclass or a ``float`` subclass arrives as a name,
  which no checker accepts);
- the package functions the chapter's exercises ask the student to write raise inside the sandbox
  while the student's functions are checked, and a submission that calls one, directly or through
  another package function, scores zero for it ("write it yourself: this exercise is ...", or, for
  another exercise's function, "... computes the answer of exercise ..."); this stops calling
  the package, not copying it, nor package code that computes the same without calling the
  function, nor a submission that digs through its interpreter for the original (see
  ``runner._SubjectBlocker``);
- every exercise gets a row: full points when every check passes, otherwise zero with the reason;
- time limits per notebook (``timeout``) and per exercise (``exercise_timeout``) on the wall
  clock, kept by the grader: a sandbox that runs past one is killed with all its processes (and
  started again, cells re-run, for the exercises after it); the first cell that does not stop at
  the notebook's limit is left out of the re-run, a second one leaves every exercise at zero;
- one limit on the wall clock for the whole submission, restarts and re-runs included
  (:func:`time_budget`: ``2 * (timeout + grace) + n_exercises * exercise_timeout``); the
  exercises not checked when it is spent score zero, with a note;
- only the exercises of the submission's chapter are graded (:func:`plan`), whatever it checks;
- a submission that is a symbolic link, not a regular file, or over :data:`MAX_NOTEBOOK_MB` is
  refused unread, and a fault of the grader on one submission costs that one only (zero, a note);
- the same submission and the same grader give the same points and feedback: the checkers choose
  seeded inputs; the gradebook records each exercise's seeds and a digest of the inputs sent.

Without bubblewrap the grader refuses (:class:`~rnncourse.exercises.sandbox.SandboxUnavailable`)
unless ``sandbox=False`` (``--no-sandbox``), which runs the worker unconfined, loudly warned.
"""

from __future__ import annotations

import ast
import csv
import hashlib
import inspect
import io
import json
import os
import re
import stat
import sys
import textwrap
import time
import unicodedata
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from pathlib import Path

import rnncourse

from .blocking import SubjectCalled, subject_feedback
from .registry import ExerciseFailure, all_exercises, chapter_exercises, get_exercise, load_checkers
from .runner import SUBJECT_ERROR, code_cells, read_notebook
from .sandbox import (NOT_ON_WINDOWS, CallTimeout, Limits, SandboxLost, SandboxUnavailable, Session,
                      sandbox_problem)
from .student import chapter_id
from .wire import WireError, decode, encode

__all__ = ["ExerciseResult", "SubmissionResult", "RemoteFunction", "grade_submission", "grade_all",
           "format_table", "gradebook", "grades_csv", "feedback_files", "feedback_file_name", "FEEDBACK_INDEX",
           "missing_from_roster", "read_roster", "student_id", "student_ids", "layout_students", "printable",
           "lms_download", "submission_chapter", "check_one_per_student", "find_checks", "plan", "check_points",
           "check_chapter", "SandboxUnavailable", "MAX_NOTEBOOK_MB", "MAX_NOTES", "CHAPTER_NOTEBOOKS", "NOT_GRADED",
           "CANVAS_NAME", "MOODLE_NAME", "time_budget", "roster_form", "SAVE_AS_UTF8"]

CHECK_CALL = re.compile(r"""\bcheck\(\s*["']([\w.]+)["']\s*,\s*([A-Za-z_]\w*)\s*\)""")
PACKAGE_DIR = Path(rnncourse.__file__).resolve().parent
#: Largest submitted notebook the grader reads, in MB.
MAX_NOTEBOOK_MB = 20
#: The most notes kept of one kind (cells that failed in one run of the notebook, check calls of other exercises),
#: each at most ``MAX_NOTE_CHARS`` characters: a submission can make up any number of either.
MAX_NOTES = 50
MAX_NOTE_CHARS = 500
#: The file names (without ``.ipynb``) of the book's chapter notebooks, as ``student`` writes them. A
#: notebook named exactly so is counted for the folder it was given in (:func:`student_id`).
CHAPTER_NOTEBOOKS = frozenset({"01_why_rnns", "02_structure", "03_forward", "04_bptt", "05_vanishing_exploding",
                               "06_topologies", "07_elman_jordan", "08_limitations_gated", "09_in_practice"})
#: The statuses of a submission that was not graded (refused unread, not a readable notebook, or the grader failed
#: on it). Its exercises read zero in the table, but the CSV leaves their cells empty, since not graded is not zero.
NOT_GRADED = ("refused", "unreadable", "error")


@dataclass
class ExerciseResult:
    """The grade of one exercise of one submission.

    Attributes
    ----------
    exercise : str
        The exercise's name, ``"ch04.rnn_backward"``.
    function : str
        The name of the submission's function that was checked.
    points : int
        Points earned: ``max_points`` when every check passed, else 0.
    max_points : int
        Points possible for the exercise.
    passed : bool
        Whether every check passed.
    feedback : str
        The checker's verdict in words, or why the exercise scores zero or was not graded.
    seconds : float
        Wall-clock time the exercise took to grade.
    seeds : list
        The integer seeds written in the checker's source, for the record.
    inputs_sha256 : str
        A digest of every argument the checker sent to the submission's function.
    """

    exercise: str
    function: str
    points: int
    max_points: int
    passed: bool
    feedback: str
    seconds: float = 0.0
    seeds: list = field(default_factory=list)
    inputs_sha256: str = ""


@dataclass
class SubmissionResult:
    """The grades of one submission, with notes about its notebook (cells that failed ...).

    Attributes
    ----------
    submission : str
        How the table names the submission (by default its file name; :func:`grade_all` gives its path
        relative to the submissions' common folder).
    path : str
        The notebook's absolute path.
    chapter : str
        The chapter it was graded as, ``"ch04"`` (``"?"`` when none was found).
    status : str
        ``"ok"``, ``"killed"``, why the sandbox ended, or one of :data:`NOT_GRADED`.
    exercises : list of ExerciseResult
        One per exercise of the chapter.
    notes : list of str
        Notes about the notebook (cells that failed, check calls of other exercises ...).
    seconds : float
        Wall-clock time the submission took to grade.
    overhead_seconds : float or None
        Seconds its first sandbox took to start and report ready, when known.
    student : str
        Who it is from (:func:`student_id`); empty, the gradebook CSV works it out from ``submission``.
    """

    submission: str
    path: str
    chapter: str
    status: str
    exercises: list = field(default_factory=list)
    notes: list = field(default_factory=list)
    seconds: float = 0.0
    overhead_seconds: float | None = None
    student: str = ""

    @property
    def points(self) -> int:
        """Points earned."""
        return sum(e.points for e in self.exercises)

    @property
    def max_points(self) -> int:
        """Points possible."""
        return sum(e.max_points for e in self.exercises)


def _capped(notes, what: str) -> list:
    """The first :data:`MAX_NOTES` of ``notes``, each cut to ``MAX_NOTE_CHARS`` characters, and one line that
    counts the rest (``what`` names them)."""
    kept = [str(note)[:MAX_NOTE_CHARS] for note in notes[:MAX_NOTES]]
    if len(notes) > MAX_NOTES:
        kept.append(f"... and {len(notes) - MAX_NOTES} more {what}, not listed")
    return kept


def find_checks(text: str) -> dict:
    """``{exercise name: function name}`` for every ``check("name", fn)`` call in ``text``.

    Parameters
    ----------
    text : str
        Python source, e.g. a notebook's code cells joined.
    """
    return {name: fn for name, fn in CHECK_CALL.findall(text)}


def _file_chapter(path) -> str:
    """The chapter of a notebook's file name (``04_bptt.ipynb`` is ``"ch04"``, else ``"?"``): the name the student
    uploaded, where Canvas or Moodle renamed the file (:func:`lms_download`), after any ``\\`` of a zip made on Windows
    (:func:`student_id`)."""
    return chapter_id(lms_download(Path(path).name.rsplit("\\", 1)[-1])[1])


def _chapter_source(chapter: str, book_dir) -> str:
    """The text of the book chapter ``chNN`` (``book/NN_*.md``), or "" when there is none."""
    if book_dir is None or not re.fullmatch(r"ch\d\d", chapter):
        return ""
    found = sorted(Path(book_dir).glob(f"{chapter[2:]}_*.md"))
    return found[0].read_text(encoding="utf-8") if found else ""


def _find_chapter(calls: dict, metadata: dict, path: Path, chosen) -> tuple:
    """``(chapter, where it came from, notes)``: the instructor's ``chosen`` chapter, else the file
    name's ``NN_``, else the notebook's ``rnncourse`` metadata, else the chapter most ``check`` calls name;
    ``"?"``, with a note, for a notebook whose file name and metadata name two chapters and no ``chosen`` one.
    """
    meta = metadata.get("rnncourse")
    meta = meta.get("chapter") if isinstance(meta, dict) else None
    valid_meta = meta if isinstance(meta, str) and re.fullmatch(r"ch\d\d", meta) else None
    voted = Counter(name.split(".")[0] for name in calls).most_common(1)[0][0] if calls else None
    by_name = _file_chapter(path)
    named = by_name if by_name != "?" else None
    sources = [(chosen, "the chapter given to the grader"), (named, f"its file name {path.name}"),
               (valid_meta, "its metadata"), (voted, "its check calls")]
    chapter, where = next(((c, w) for c, w in sources if c), ("?", ""))
    if not chosen and named and valid_meta and named != valid_meta:
        return "?", "", [f"nothing graded: its file name says {named} but its metadata {valid_meta}: grade it by "
                         f"itself with --chapter {min(named, valid_meta)} or {max(named, valid_meta)}"]
    notes = []
    if meta is not None and valid_meta is None:
        notes.append(f"its metadata names chapter {str(meta)[:40]!r}, which is not of the form chNN: ignored")
    if valid_meta and valid_meta != chapter:
        notes.append(f"its metadata names chapter {valid_meta}, but it is graded as {chapter}, from {where}")
    return chapter, where, notes


def plan(cells, metadata: dict, path: Path, book_dir=None, chapter=None) -> tuple:
    """The chapter of a submission, the ``(exercise, function)`` pairs to grade, and notes.

    The chapter is ``chapter`` (the instructor's choice), else the one of a file name starting
    ``NN_``, else the one in the notebook's ``rnncourse`` metadata (written by the student
    version), else the one most of its ``check`` calls name. Exactly the exercises registered for
    that chapter are graded, in the order of the book chapter's ``check`` calls (else of
    registration): a ``check`` call of any other exercise grades nothing and gets a note (one of
    this chapter that no checker loaded says to pass ``--checkers``), and so does a notebook whose
    chapter is not found or has no exercises. A notebook whose file name and metadata name two
    chapters, without ``chapter``, grades nothing either (chapter ``"?"``), and its note says to
    name one with ``--chapter``. The function comes from the
    submission's ``check`` call, else the book chapter's, else the exercise's name.

    Parameters
    ----------
    cells : list of dict
        The notebook's cells, each with ``"cell_type"`` and ``"source"`` (as ``read_notebook`` gives them).
    metadata : dict
        The notebook's metadata.
    path : pathlib.Path
        The notebook's file; only its name is read.
    book_dir : str or pathlib.Path or None
        The book's chapters, whose ``check`` calls give the order and the function names.
    chapter : str or None
        The chapter chosen by the instructor (``"ch04"``).

    Returns
    -------
    tuple
        ``(chapter, [(exercise, function), ...], notes)``.
    """
    calls = find_checks("\n".join(c["source"] for c in cells if c["cell_type"] == "code"))
    chapter, where, notes = _find_chapter(calls, metadata, path, chapter)
    registered = [e.name for e in chapter_exercises(chapter)] if chapter != "?" else []
    if chapter == "?" and notes:            # its file name and metadata disagree: the note says so
        return chapter, [], notes
    if chapter == "?":
        notes.append("nothing graded: no chapter found (the file name does not start with NN_, and neither the "
                     "notebook's metadata nor a check call names one); name it with --chapter")
    elif not registered:
        notes.append(f"nothing graded: chapter {chapter!r}, from {where}, has no graded exercises")
    notes += _capped([f"check({name[:80]!r}, ...) graded nothing: " + (
        f"no exercise {name[:80]} is loaded (pass --checkers FILE.py if it is your own)"
        if name.split(".")[0] == chapter else f"{name[:80]} is not an exercise of {chapter}")
        for name in calls if name not in registered], "check calls of other exercises")
    book_calls = find_checks(_chapter_source(chapter, book_dir))
    # In the book's order, else the order the checkers were registered in.
    order = list(book_calls) + registered
    names = sorted(registered, key=order.index)
    return chapter, [(n, calls.get(n) or book_calls.get(n) or n.split(".", 1)[1]) for n in names], notes


def submission_chapter(path, chapter=None) -> str:
    """The chapter the notebook at ``path`` is graded as (:func:`plan`), read from its JSON, nothing run: ``chapter``,
    else its file name's, else its metadata's, else its check calls'; ``"?"`` for none, and for a file name and
    metadata that name two chapters (it grades nothing). A notebook the grader
    refuses (:func:`grade_submission`) or cannot read counts for its file name's chapter.

    Parameters
    ----------
    path : str or pathlib.Path
        The submitted notebook.
    chapter : str or None
        The chapter chosen by the instructor; when given, it is the answer.
    """
    if chapter:
        return chapter
    path = Path(os.path.abspath(path))
    if _file_problem(path) is None:
        try:
            cells, metadata = read_notebook(path)
            calls = find_checks("\n".join(c["source"] for c in cells if c["cell_type"] == "code"))
            return _find_chapter(calls, metadata if isinstance(metadata, dict) else {}, path, None)[0]
        except Exception:           # not JSON, not a notebook, not readable: graded as unreadable
            pass
    return _file_chapter(path)


def check_one_per_student(paths, students, chapter=None, roots=None) -> None:
    """Raise ``ValueError`` naming both files when two of ``paths`` are of one student (``students``, one per path)
    and one chapter (:func:`submission_chapter`): the CSV has one cell per student and exercise.

    Reads each notebook's JSON, runs nothing: call it before grading. A chapter without exercises grades no cell.
    Where every notebook in the folder given lies in one folder, which so names the student of them all (an
    archive unzipped with its top folder), the message says to give that folder instead.

    Parameters
    ----------
    paths : sequence of str or pathlib.Path
        The submitted notebooks.
    students : sequence of str
        Who each is from (:func:`student_ids`).
    chapter : str or None
        The chapter chosen by the instructor for all of them.
    roots : sequence of str or pathlib.Path or None, optional
        The folders the notebooks were found in, as for :func:`student_ids`.
    """
    seen = {}
    for path, student in zip(paths, students):
        found = submission_chapter(path, chapter)
        if found == "?" or not chapter_exercises(found):
            continue
        student = roster_form(student)
        if (student, found) in seen:
            both = f"two submissions of student {student} are of chapter {found}, {seen[student, found]} and {path}"
            fix = _one_folder_for_all(paths, roots, path, student)
            raise ValueError(printable(f"{both}, for one row of the CSV: {fix}" if fix else
                                       f"{both}, for one row of the CSV ({STUDENT_RULE}): grade the one that counts"))
        seen[student, found] = path


def _one_folder_for_all(paths, roots, path, student) -> str:
    """The fix, when every notebook in the folder given that holds ``path`` lies in the one folder that names
    ``student`` (an archive unzipped with its top folder: ``win/submissions/eve/...``, or with ``\\`` kept in the
    names, ``win/submissions\\eve\\...``); else ""."""
    paths = [os.path.abspath(p) for p in paths]
    roots = _roots(paths, roots)
    root = roots[paths.index(os.path.abspath(path))]
    firsts = {(_below(Path(p), Path(root))[0] or [""])[0] for p, r in zip(paths, roots) if r == root}
    first = firsts.pop() if len(firsts) == 1 else ""
    if not first or student not in (first, lms_download(first)[0]):
        return ""
    inner = Path(root) / first
    if inner.is_dir():
        return (f"every notebook in {root} lies in its folder {first}, which so names the student of them all: give "
                f"that folder, to count the folders in it as the students: grade {inner}")
    return (f"every notebook in {root} is named {first}\\... (a zip made on Windows, unzipped with its folders kept "
            f"in the file names), so {first} names the student of them all: unzip the archive again with Info-ZIP's "
            f"unzip, which makes folders of them, and give the folder {first} it makes (grade {inner}), or rename "
            f"the notebooks without {first}\\")


def check_points(points) -> dict:
    """``points`` (``{exercise name: points}``, or ``None``) as a dict, each name registered, each value an int >= 0.

    Raises ``TypeError`` for a value that is not a dict or not an int, ``ValueError`` for an
    exercise that is not registered (naming the close ones) or a negative value.

    Parameters
    ----------
    points : dict or None
        Points per exercise name, replacing the registered ones.
    """
    if points is None:
        return {}
    if not isinstance(points, dict):
        raise TypeError(f"points should be a dict {{exercise name: points}}, but is {type(points).__name__}")
    for name, value in points.items():
        get_exercise(name)
        if not isinstance(value, int) or isinstance(value, bool):
            raise TypeError(f"the points of {name} should be a whole number, but are {type(value).__name__} {value!r}")
        if value < 0:
            raise ValueError(f"the points of {name} should be 0 or more, but are {value}")
    return dict(points)


def check_chapter(chapter) -> None:
    """Raise ``TypeError``, or ``ValueError`` listing the chapters, unless ``chapter`` is ``None`` or has exercises.

    Parameters
    ----------
    chapter : str or None
        The chapter chosen by the instructor (``"ch04"``).
    """
    if chapter is None:
        return
    if not isinstance(chapter, str):
        raise TypeError(f"chapter should be a str such as 'ch04', but is {type(chapter).__name__}")
    if not chapter_exercises(chapter):
        known = sorted({e.chapter for e in all_exercises()})
        raise ValueError(f"chapter should be one with graded exercises ({', '.join(known)}), but is {chapter!r}")


def _points(name: str, overrides: dict) -> int:
    return overrides[name] if name in overrides else get_exercise(name).points


class NotDefined(BaseException):
    """The notebook defines no function of that name."""


class NotAFunction(BaseException):
    """The notebook binds the function's name to a value that is not callable; the message is its type's name."""


class BudgetSpent(CallTimeout):
    """The submission used up its time in all (:func:`time_budget`); the sandbox was killed."""


def time_budget(timeout: float, exercise_timeout: float, grace: float, n_exercises: int) -> float:
    """The most wall-clock seconds one submission may take, every start of its sandbox and run of its cells included.

    ``2 * (timeout + grace) + n_exercises * exercise_timeout``: the run of the notebook's cells and one run more
    (after a kill or an exit, the next exercise starts a new sandbox and runs the cells again), each with its
    ``grace`` (to start the sandbox, and to kill a cell that ignores the alarm), and each exercise's time limit.

    Parameters
    ----------
    timeout : float
        Seconds for running the notebook's cells.
    exercise_timeout : float
        Seconds for all the calls of one exercise's checker.
    grace : float
        Seconds allowed for the sandbox to start, on top of ``timeout``.
    n_exercises : int
        How many exercises the submission is graded on.
    """
    return 2 * (timeout + grace) + n_exercises * exercise_timeout


def _out_of_budget(options) -> str:
    return (f"scores zero: the submission used up the {options['budget']:g} s it may take in all (two runs of the "
            f"notebook and {options['exercise_timeout']:g} s per exercise; its sandbox starts again, and its cells "
            f"run again, after every kill or exit)")


class RemoteError(Exception):
    """An exception raised by the student's function in the sandbox; its class carries the name."""


def _remote_error(name: str, message: str) -> BaseException:
    """The sandbox's exception ``name`` as a :class:`RemoteError` of that name; its class is made for it alone
    and freed with it (a cache of classes by name would grow with every name a submission makes up)."""
    if name == "NotImplementedError":
        return NotImplementedError(message)
    name = "".join(ch for ch in str(name)[:80] if ch.isalnum() or ch == "_") or "Exception"
    return type(name, (RemoteError,), {})(message)


def _write_back(original, after, replaced=()) -> None:
    """Copy into ``original`` (an argument the checker passed) what the student's function did to it.

    ``replaced`` names the entries of a dict argument that the function replaced by new objects
    rather than changed in place: they are replaced here too, so that a checker sees the difference.
    """
    import numpy as np

    if isinstance(original, np.ndarray) and isinstance(after, np.ndarray):
        if original.shape == after.shape and original.flags.writeable and not np.array_equal(original, after):
            np.copyto(original, after, casting="unsafe")
    elif type(original) is dict and type(after) is dict:
        for key in [k for k in original if k not in after]:
            del original[key]
        for key, value in after.items():
            if key in original and key not in replaced and type(original[key]) in (np.ndarray, dict, list) and \
                    type(value) is type(original[key]):
                _write_back(original[key], value)
            else:
                original[key] = value
    elif type(original) is list and type(after) is list:
        if len(original) == len(after):
            for i, value in enumerate(after):
                if type(original[i]) in (np.ndarray, dict, list) and type(value) is type(original[i]):
                    _write_back(original[i], value)
                else:
                    original[i] = value
        else:
            original[:] = after
    elif hasattr(original, "copy_") and hasattr(after, "copy_") and tuple(original.shape) == tuple(after.shape):
        import torch

        with torch.no_grad():
            original.copy_(after)


class RemoteFunction:
    """Stands for the student's function in the grader's process; each call runs in the sandbox.

    The checker calls it like the student's function. The arguments go into the sandbox as plain
    data, the student's function runs there, and what it returned comes back rebuilt by
    :func:`~rnncourse.exercises.wire.decode` (exact ``ndarray``, ``float`` ...). Arguments the
    function changed in place are changed here too. A function among the arguments (a decoder's
    step) stays here and is called back. An exception of the student's function is raised again
    here under its name (``KeyError: 'oops'``), so the checker words it as before.

    Parameters
    ----------
    session : object
        The submission's sandbox: its ``ensure_running()`` starts it again if it ended, and its
        ``request(message, seconds, callback)`` sends a call (as a
        :class:`~rnncourse.exercises.sandbox.Session`'s does).
    name : str
        The name of the student's function in the notebook.
    deadline : float
        When this exercise's time ends, in ``time.monotonic()`` seconds.
    budget_end : float
        When the submission's time in all ends (:func:`time_budget`), in ``time.monotonic()`` seconds.
    """

    def __init__(self, session, name: str, deadline: float, budget_end: float = float("inf")):
        self.session, self.name, self.deadline, self.budget_end = session, name, deadline, budget_end
        self.__name__ = self.__qualname__ = name
        self.digest = hashlib.sha256()

    def _serve(self, callbacks):
        def answer(message):
            try:
                fn = callbacks[message["id"]]
                args, kwargs = decode(message.get("args")), decode(message.get("kwargs"))
                if type(args) is not list or type(kwargs) is not dict or not all(type(k) is str for k in kwargs):
                    raise WireError("a call back needs a list of arguments and a dict of keywords")
                return {"op": "callback_result", "value": encode(fn(*args, **kwargs))}
            except Exception as err:  # the student's arguments broke the step: tell the student's code
                return {"op": "callback_result", "type": type(err).__name__, "error": str(err)[:500]}
        return answer

    def __call__(self, *args, **kwargs):
        callbacks = []
        message = {"op": "call", "function": self.name, "args": encode(list(args), callbacks),
                   "kwargs": encode(kwargs, callbacks)}
        self.digest.update(json.dumps([message["args"], message["kwargs"]], sort_keys=True).encode())
        # Starting the sandbox again (after a kill or an exit) counts against the submission's time in all, not
        # against this exercise's.
        self.deadline += self.session.ensure_running()
        left = min(self.deadline, self.budget_end) - time.monotonic()
        if left <= 0:
            raise self._out_of_time()
        try:
            reply = self.session.request({**message, "seconds": left}, left + 2, self._serve(callbacks))
        except BudgetSpent:
            raise
        except CallTimeout:
            raise self._out_of_time() from None
        op = reply["op"]
        if reply.get("subject"):
            raise SubjectCalled(str(reply["subject"])[:80])
        if op == "return":
            try:
                value, after = decode(reply.get("value")), decode(reply.get("after"))
            except WireError as err:
                raise _remote_error("WireError", f"its answer could not be read ({err})") from None
            if type(after) is list and len(after) == 2 and type(after[0]) is list and len(after[0]) == len(args):
                listed = reply.get("replaced") if type(reply.get("replaced")) is list else []
                replaced = [r for r in listed if type(r) is list and len(r) == 2 and type(r[1]) in (str, int)]
                for i, (original, changed) in enumerate(zip(args, after[0])):
                    _write_back(original, changed, {key for j, key in replaced if j == i})
                for key, changed in (after[1].items() if type(after[1]) is dict else ()):
                    if key in kwargs:
                        _write_back(kwargs[key], changed)
            return value
        if op == "raise":
            if reply.get("type") == SUBJECT_ERROR:
                raise SubjectCalled(str(reply.get("message", "")).rpartition(" ")[2][:80])
            raise _remote_error(str(reply.get("type")), str(reply.get("message", "")))
        if op == "missing":
            raise NotDefined(self.name)
        if op == "not_callable":
            raise NotAFunction("".join(ch for ch in str(reply.get("type"))[:80] if ch.isalnum() or ch in "_.") or "?")
        if op == "timeout":
            raise self._out_of_time()
        if op == "failed":
            raise _remote_error(str(reply.get("type")), f"its answer could not be sent back: {reply.get('message')}")
        self.session.close()
        raise SandboxLost(f"it broke the grading protocol (answered {op[:40]!r})")

    def _out_of_time(self) -> CallTimeout:
        """:class:`BudgetSpent` when the submission's time in all ends before this exercise's, else CallTimeout."""
        return BudgetSpent() if self.budget_end < self.deadline else CallTimeout()


class _Sandbox:
    """A :class:`Session` for one submission that runs the notebook's cells once, and again after a kill."""

    def __init__(self, cells, subjects, options):
        self.cells, self.subjects, self.options = cells, subjects, options
        self.session, self.problems, self.overhead, self.dropped = None, [], None, []
        self.sources = {number: source for number, source in cells}      # every cell, those dropped later too
        self.numbers = set(self.sources)

    @property
    def last_cell(self):
        """The cell the sandbox last said it started, or ``None``; a number that is no cell of the notebook (the
        submission can forge the message) is ``None`` too."""
        cell = self.session.last_cell if self.session is not None else None
        return cell if type(cell) is int and cell in self.numbers else None

    def start(self) -> None:
        """Start a sandbox and run the cells in it, within what is left of the submission's time in all.

        A cell that keeps running past the notebook's time limit (it caught or blocked the alarm)
        makes the grader kill the sandbox; the cells then run once more without that cell, with a
        note. A second such cell raises :class:`CallTimeout`, and the end of the submission's time
        in all (``options["deadline"]``, :func:`time_budget`) :class:`BudgetSpent`.
        """
        o = self.options
        cpu = o["timeout"] + o["exercise_timeout"] * max(o["n_exercises"], 1) + 30
        self.problems = list(self.dropped)
        startup = min(o["grace"], o["deadline"] - time.monotonic())
        if startup <= 0:
            raise BudgetSpent()
        try:
            self.session = Session(o["limits"], cpu_seconds=cpu, sandbox=o["sandbox"], startup_seconds=startup)
        except CallTimeout:
            if startup < o["grace"]:
                raise BudgetSpent() from None
            raise
        if self.overhead is None:
            self.overhead = self.session.ready_seconds
        wait = min(o["timeout"] + o["grace"], o["deadline"] - time.monotonic())
        try:
            ran = self.session.request({"op": "run", "cells": self.cells, "subjects": self.subjects,
                                        "timeout": o["timeout"]}, wait)
        except CallTimeout:
            if wait < o["timeout"] + o["grace"]:
                raise BudgetSpent() from None
            if self.session.last_cell is None or self.dropped:
                raise
            stuck = self.last_cell
            source = next((s for n, s in self.cells if n == stuck), None)
            if source is None:
                raise SandboxLost(f"it broke the grading protocol (it said it ran cell "
                                  f"{str(self.session.last_cell)[:20]}, which the notebook has not)") from None
            first_line = next((line.strip() for line in source.splitlines() if line.strip()), "")[:60]
            self.dropped.append(f"cell {stuck} ({first_line!r}) did not stop at the notebook's time limit of "
                                f"{o['timeout']:g} s: the grader killed it after {o['timeout'] + o['grace']:g} s "
                                f"and ran the notebook again without it")
            self.cells = [c for c in self.cells if c[0] != stuck]
            return self.start()
        problems = ran.get("problems")
        if ran.get("op") != "ran" or type(problems) is not list or not all(type(p) is str for p in problems):
            self.session.close()
            raise SandboxLost("it broke the grading protocol")
        self.problems = self.dropped + _capped(problems, "problems of its cells")

    def ensure_running(self) -> float:
        """Start the sandbox again, cells run again, if it ended (a kill, an exit); return the seconds that took.

        Raises :class:`BudgetSpent` when the submission's time in all ends first, and
        :class:`SandboxLost` when the cells, run again, do not stop at the notebook's time limit.
        """
        if self.session is not None and self.session.alive():
            return 0.0
        began = time.monotonic()
        try:
            self.start()
        except BudgetSpent:
            raise
        except CallTimeout:
            raise SandboxLost("its sandbox, started again after a kill or an exit, did not run its cells within "
                              "the time limit") from None
        return time.monotonic() - began

    def request(self, message, seconds, callback=None):
        self.ensure_running()
        return self.session.request(message, seconds, callback)

    def close(self) -> None:
        if self.session is not None:
            self.session.close()


def _seeds(checker) -> list:
    """The integer seeds written in a checker's source (``default_rng(7)``, ``manual_seed(0)``, ``seed=2``)."""
    try:
        tree = ast.parse(textwrap.dedent(inspect.getsource(checker)))
    except (OSError, TypeError, SyntaxError):
        return []
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            name = getattr(node.func, "attr", getattr(node.func, "id", ""))
            values = [a for a in node.args[:1]] if name in ("default_rng", "manual_seed", "RandomState", "seed") else []
            values += [k.value for k in node.keywords if k.arg == "seed"]
            found += [v.value for v in values if isinstance(v, ast.Constant) and type(v.value) is int]
    return found


def _check(exercise, remote: RemoteFunction, function: str, why_undefined: str = "", graded=()) -> tuple:
    """Run the exercise's checker, here, on the stand-in; return ``(passed, feedback)``.

    ``why_undefined``: the problem of the notebook's cells to name should it not define ``function``
    (``_why_undefined``); ``graded``: every exercise graded in the same sandbox, whose subjects are blocked too.
    """
    try:
        exercise.checker(remote)
    except SubjectCalled as called:
        return False, subject_feedback(str(called), exercise, graded)
    except NotAFunction as kind:
        return False, (f"the notebook's {function} should be the function you wrote, but is a value of type {kind}; "
                       f"define it with def {function}(...) and assign nothing else to that name afterwards")
    except BudgetSpent:
        return False, _out_of_budget(remote.session.options)
    except CallTimeout:
        return False, (f"not finished within the time limit of {remote.session.options['exercise_timeout']:g} s "
                       f"(your function may loop forever)")
    except NotDefined:
        return False, f"the notebook defines no {function}" + (f"; {why_undefined}" if why_undefined else "")
    except SandboxLost as lost:
        return False, f"scores zero: the sandbox ended while {function} was checked: {lost}"
    except ExerciseFailure as failure:
        return False, str(failure)
    except NotImplementedError:
        return False, f"{function} is not implemented yet (it raised NotImplementedError)"
    except Exception as err:  # the answer broke the checker
        text = str(err).strip().splitlines()
        return False, f"checking your answer raised {type(err).__name__}" + (f": {text[0][:300]}" if text else "")
    return True, "all checks passed"


def _not_run(status: str, last_cell, options) -> str:
    where = f" while running cell {last_cell}" if last_cell else ""
    if status == "killed":
        return f"scores zero: the submission was stopped after {options['timeout'] + options['grace']:g} s{where}"
    return f"scores zero: the sandbox ended{where}: {status}"


#: How a problem of the cells that stopped the notebook's run begins its message (a cell killed, a cell stopped at
#: the time limit, cells not run), in the order ``_why_undefined`` names them.
_STOPS = ("did not stop at the notebook's time limit", "was stopped: the notebook ran past its time limit",
          "not run: the notebook's time limit")


def _why_undefined(function: str, sources: dict, problems) -> str:
    """The problem of the cells (``problems``, as the run reported them) that explains why ``function`` is undefined.

    The cells run on after one raises, so the first problem is often not the cause: the error of a
    cell that defines ``function`` (``def function(`` or ``function =`` in ``sources``, ``{cell number:
    source}``) comes first; then what stopped the run (and so left that cell not run): a cell killed,
    then one stopped at the time limit, then cells not run; else the first problem; "" when there is none.
    """
    defines = re.compile(rf"^\s*(def\s+{re.escape(function)}\s*\(|{re.escape(function)}\s*=[^=])", re.M)
    defining = {n for n, source in sources.items() if defines.search(source)}
    for problem in problems:
        found = re.match(r"cell (\d+) \(", problem)         # "cell 12 ('def f(x):') raised ...", not "cell 12 not run"
        if found and int(found.group(1)) in defining:
            return problem
    for stop in _STOPS:
        for problem in problems:
            if stop in problem:
                return problem
    return problems[0] if problems else ""


def _file_problem(path: Path):
    """Why the file ``path`` is refused as a submission (a symbolic link, not a regular file, too large), or ``None``.

    A missing or unreadable file is not refused here: reading it fails, and says why.
    """
    try:
        info = os.lstat(path)
    except OSError:
        return None
    if stat.S_ISLNK(info.st_mode):
        return "the submission is a symbolic link, not a notebook; collect the notebook itself"
    if not stat.S_ISREG(info.st_mode):
        return "the submission is not a regular file (a folder, a pipe or a device named .ipynb)"
    if info.st_size > MAX_NOTEBOOK_MB << 20:
        return (f"the notebook has {info.st_size / (1 << 20):.0f} MB, more than the {MAX_NOTEBOOK_MB} MB a "
                f"submission may have; clear its outputs")
    return None


def _ungraded(name, path, student, chapter, points, status: str, note: str, feedback=None) -> SubmissionResult:
    """A submission whose code never ran: every exercise of its chapter (``chapter``, else its file name's)
    at zero, with ``note`` (and ``feedback``, default ``note``, on each exercise)."""
    chapter = chapter or _file_chapter(path)
    result = SubmissionResult(name, str(path), chapter, status, notes=[note], student=student)
    for ex in chapter_exercises(chapter) if chapter != "?" else []:
        result.exercises.append(ExerciseResult(ex.name, ex.function_name, 0, _points(ex.name, points), False,
                                               feedback or note))
    return result


def grade_submission(path, *, timeout: float = 300, exercise_timeout: float = 30, checkers=(),
                     points=None, chapter=None, only_exercises: bool = False, book_dir=None, name=None,
                     student=None, grace: float = 30, sandbox: bool = True,
                     limits: Limits = Limits()) -> SubmissionResult:
    """Grade one notebook: its code runs in a sandbox, its verdicts are computed here.

    Parameters
    ----------
    path : str or pathlib.Path
        The submitted ``.ipynb``: a regular file of at most :data:`MAX_NOTEBOOK_MB` MB, not a
        symbolic link (else it is refused: every exercise at zero, with a note).
    timeout : float
        Seconds for running the notebook's cells.
    exercise_timeout : float
        Seconds for all the calls of one exercise's checker.

        The whole submission may take at most :func:`time_budget` seconds of wall-clock time,
        ``2 * (timeout + grace) + n_exercises * exercise_timeout``, every start of its sandbox
        and every run of its cells included (after a kill or an exit, the next exercise starts a
        new sandbox and runs the cells again); a few seconds more to stop the sandbox. The
        exercises not checked when it is spent score zero, with a note.
    checkers : tuple
        Extra checker modules or ``.py`` files (see ``load_checkers``), loaded here.
    points : dict or None
        Points per exercise name, replacing the registered ones (see :func:`check_points`).
    chapter : str or None
        The chapter to grade the notebook as (``"ch04"``); default: from its file name
        (``04_bptt.ipynb``), else its metadata, else its ``check`` calls (see :func:`plan`).
    only_exercises : bool
        Run only the set-up and import cells and the cells after the "Exercises" heading.
    book_dir : str or pathlib.Path or None
        The book's chapters, to find each exercise's function name when a submission lost
        its check cell.
    name : str or None
        How the table names the submission (default: the file name).
    student : str or None
        Who the submission is from (default: :func:`student_id` of ``path``).
    grace : float
        Seconds allowed for the sandbox to start, on top of the notebook's time limit.
    sandbox : bool
        ``False`` runs the submission without a sandbox (only for trusted submissions).
    limits : Limits
        Memory, processes, file size, open files and output of the sandbox.

    Returns
    -------
    SubmissionResult
        One :class:`ExerciseResult` per exercise, and notes.
    """
    path = Path(os.path.abspath(path))           # not resolved: a link is refused, not followed
    name, student = name or path.name, student or student_id(path)
    for module in checkers:
        load_checkers(str(module))
    points = check_points(points)
    check_chapter(chapter)
    start = time.monotonic()
    refused = _file_problem(path)
    if refused:
        return _ungraded(name, path, student, chapter, points, "refused", f"not graded: {refused}")
    try:
        cells, metadata = read_notebook(path)
        if not isinstance(metadata, dict):
            raise ValueError(f"its metadata should be a JSON object, but is a {type(metadata).__name__}")
    except Exception as err:  # not JSON, not a notebook, not readable
        return _ungraded(name, path, student, chapter, points, "unreadable",
                         f"could not read the notebook: {type(err).__name__}: {str(err)[:300]}",
                         "not graded: the notebook could not be read")
    chapter, todo, notes = plan(cells, metadata, path, book_dir, chapter)
    exercises = {ex_name: get_exercise(ex_name) for ex_name, _ in todo}
    subjects = sorted({s for ex in exercises.values() for s in ex.subjects})
    budget = time_budget(timeout, exercise_timeout, grace, len(todo))
    options = {"timeout": timeout, "exercise_timeout": exercise_timeout, "grace": grace, "sandbox": sandbox,
               "limits": limits, "n_exercises": len(todo), "budget": budget, "deadline": start + budget}
    box = _Sandbox([list(c) for c in code_cells(cells, only_exercises)], subjects, options)
    result = SubmissionResult(name, str(path), chapter, "ok", student=student)
    try:
        try:
            box.start()
        except CallTimeout:
            result.status = "killed"
        except SandboxLost as lost:
            result.status = str(lost)
        result.notes = notes + list(box.problems)
        for ex_name, function in todo:
            pts = _points(ex_name, points)
            ex, began = exercises[ex_name], time.monotonic()
            if result.status != "ok":
                row = ExerciseResult(ex_name, function, 0, pts, False, _not_run(result.status, box.last_cell, options))
            elif began >= options["deadline"]:
                row = ExerciseResult(ex_name, function, 0, pts, False, _out_of_budget(options))
            else:
                remote = RemoteFunction(box, function, began + exercise_timeout, options["deadline"])
                passed, feedback = _check(ex, remote, function, _why_undefined(function, box.sources, box.problems),
                                          list(exercises.values()))
                row = ExerciseResult(ex_name, function, pts if passed else 0, pts, passed, feedback,
                                     seeds=_seeds(ex.checker), inputs_sha256=remote.digest.hexdigest())
            row.seconds = round(time.monotonic() - began, 3)
            result.exercises.append(row)
        cut = sum(row.feedback == _out_of_budget(options) for row in result.exercises)
        if cut:
            result.notes.append(f"{cut} exercise{'s' if cut > 1 else ''} not checked, scored zero: the submission "
                                f"used up the {budget:g} s it may take in all")
    finally:
        box.close()
    result.overhead_seconds = round(box.overhead, 3) if box.overhead is not None else None
    result.seconds = round(time.monotonic() - start, 2)
    return result


def _short_names(paths) -> list:
    """Names for the table: paths relative to the submissions' common folder (links not followed)."""
    paths = [Path(os.path.abspath(p)) for p in paths]
    if len(paths) < 2:
        return [p.name for p in paths]
    common = Path(os.path.commonpath([p.parent for p in paths]))
    return [str(p.relative_to(common)) for p in paths]


def grade_all(paths, *, roots=None, student=None, jobs: int = 1, checkers=(), sandbox: bool = True,
              **options) -> list:
    """Grade every notebook in ``paths`` (``jobs`` at a time); return their :class:`SubmissionResult`.

    Raises :class:`SandboxUnavailable`, before grading anything, on Windows (``NOT_ON_WINDOWS``), and
    when ``sandbox`` is true and the sandbox cannot be created here, and ``TypeError`` or ``ValueError``
    for ``points`` or ``chapter`` (:func:`check_points`, :func:`check_chapter`). Other keyword arguments go to
    :func:`grade_submission`. Nothing one submission does stops the others: should grading it
    fail in the grader itself, it gets zero with a note naming the error (status ``"error"``; the
    CSV leaves its cells empty, :data:`NOT_GRADED`).

    Parameters
    ----------
    paths : sequence of str or pathlib.Path
        The submitted notebooks.
    roots : sequence of str or pathlib.Path, optional
        One per path: the folder given to the grader that it was found in (or the notebook itself, given
        by itself). They tell who each is from (:func:`student_ids`; default: each given by itself, so
        counted from the folder all of them are in).
    student : str or None, optional
        Who every notebook is from, in place of the rule of :func:`student_id` (``ValueError``, before
        grading, for notebooks in several students' folders; see :func:`student_ids`).
    jobs : int
        How many submissions are graded at a time.
    checkers : tuple
        Extra checker modules or ``.py`` files (see ``load_checkers``), loaded once, before grading.
    sandbox : bool
        ``False`` runs the submissions without a sandbox (only for trusted submissions).
    **options
        Keyword arguments of :func:`grade_submission` (``timeout``, ``points``, ``chapter`` ...).
    """
    for module in checkers:
        load_checkers(str(module))
    points = check_points(options.get("points"))
    check_chapter(options.get("chapter"))
    if sys.platform == "win32":
        raise SandboxUnavailable(NOT_ON_WINDOWS)
    if sandbox:
        problem = sandbox_problem()
        if problem:
            raise SandboxUnavailable(f"cannot grade in a sandbox: {problem}; or pass --no-sandbox, only for "
                                     f"submissions you trust")
    names, students = _short_names(paths), student_ids(paths, roots, student)

    def one(i):
        try:
            return grade_submission(paths[i], name=names[i], student=students[i], sandbox=sandbox, **options)
        except (Exception, SandboxLost, CallTimeout) as err:
            return _ungraded(names[i], Path(os.path.abspath(paths[i])), students[i], options.get("chapter"), points,
                             "error", f"not graded: the grader failed on this submission ({type(err).__name__}: "
                                      f"{str(err)[:300]}); the other submissions were graded")

    with ThreadPoolExecutor(max_workers=max(1, jobs)) as pool:
        return list(pool.map(one, range(len(paths))))


_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")
#: The Unicode categories that text from a submission is printed without, each character made a space. Controls,
#: format characters (bidirectional overrides, zero-width spaces and joiners, which can make a name read as another)
#: and the line and paragraph separators.
_UNPRINTED = ("Cc", "Cf", "Zl", "Zp")
#: The other characters that show as nothing or as a blank, each made a space too. They are the default-ignorable
#: code points of Unicode outside those categories (the combining grapheme joiner, Hangul fillers, Khmer inherent
#: vowels, Mongolian and other variation selectors) and the blank Braille pattern.
_INVISIBLE = re.compile("[\u034f\u115f\u1160\u17b4\u17b5\u180b-\u180f\u2800\u3164\ufe00-\ufe0f\uffa0"
                        "\U000e0000-\U000e0fff]")


def printable(text) -> str:
    """``text`` safe for a terminal and a text file: control characters (escape sequences, carriage returns),
    format characters (bidirectional overrides, zero-width characters), the line and paragraph separators
    U+2028 and U+2029, and the other characters that show as nothing (Hangul fillers, variation selectors, the
    blank Braille pattern) become spaces, and undecodable bytes of a file name (surrogates) are written
    ``\\udcxx``.

    The grader prints and writes every text that comes from a submission (its name, notes, feedback, status)
    through this function.

    Parameters
    ----------
    text : object
        What to print; anything but a ``str`` is printed as ``str(text)``.

    Examples
    --------
    >>> printable("bob\u202egpj.exe\x1b[2J")
    'bob gpj.exe [2J'
    """
    text = str(text).encode("utf-8", "backslashreplace").decode("utf-8")
    if text.isascii():
        return _CONTROL.sub(" ", text)
    text = _INVISIBLE.sub(" ", text)
    return "".join(" " if unicodedata.category(c) in _UNPRINTED else c for c in text)


def _cells(text: str) -> int:
    """The terminal cells ``text`` takes: two for a wide character (李), none for a combining mark (an accent,
    Devanagari's vowel signs) or a format character."""
    return sum(2 if unicodedata.east_asian_width(c) in "WF" else 0 if unicodedata.category(c) in ("Mn", "Me", "Cf")
               else 1 for c in text)


def format_table(results, width: int = 100) -> str:
    """The grades as a text table: student, submission, exercise, points, feedback (wrapped).

    Text from the submission (its name, feedback, notes) is printed without control characters.

    Parameters
    ----------
    results : iterable of SubmissionResult
        What :func:`grade_all` returned.
    width : int
        Width of the table in characters; the feedback column wraps to fit (30 at least).
    """
    rows = []
    for sub in results:
        first = (_student(sub), sub.submission)
        for ex in sub.exercises:
            rows.append((*first, ex.exercise, f"{ex.points}/{ex.max_points}", ex.feedback))
            first = ("", "")
        for note in sub.notes:
            rows.append((*first, "(note)", "", note))
            first = ("", "")
        rows.append((*first, "total", f"{sub.points}/{sub.max_points}", "" if sub.status == "ok" else sub.status))
    rows = [tuple(printable(cell) for cell in row) for row in rows]
    head = ("student", "submission", "exercise", "points", "feedback")
    w = [max(_cells(r[i]) for r in rows + [head]) for i in range(4)]
    indent = sum(w) + 2 * len(w)
    fb_width = max(30, width - indent)
    lines = []
    for row in [head, tuple("-" * n for n in w) + ("-" * min(fb_width, 40),)] + rows:
        wrapped = textwrap.wrap(row[4], fb_width) or [""]
        pad = [" " * (w[i] - _cells(row[i])) for i in range(4)]
        lines.append(f"{row[0]}{pad[0]}  {row[1]}{pad[1]}  {row[2]}{pad[2]}  {pad[3]}{row[3]}  {wrapped[0]}".rstrip())
        lines += [" " * indent + more for more in wrapped[1:]]
    return "\n".join(lines)


def gradebook(results, settings=None) -> dict:
    """The grades as a JSON-ready dict, one entry per submission with its exercises.

    Parameters
    ----------
    results : iterable of SubmissionResult
        What :func:`grade_all` returned.
    settings : dict, optional
        The grader's settings (time limits, points, chapter ...), recorded as they are.
    """
    subs = []
    for sub in results:
        entry = asdict(sub)
        entry.update(points=sub.points, max_points=sub.max_points)
        subs.append(entry)
    return {"rnncourse_version": rnncourse.__version__, "graded_at": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
            "settings": settings or {}, "submissions": subs}


#: The name of the index that :func:`feedback_files` adds to the students' files, which says whose each file is.
#: It is JSON, ``{file name: student id}``. No student's file can have its name, since theirs end in ``.txt``.
FEEDBACK_INDEX = "index.json"
#: The longest file name a student's id gives, in UTF-8 bytes before its hash and ``.txt`` (a folder's names
#: may have 255 bytes at most, and the grader writes each file first as ``.NAME.XXXXXXXX.partial``).
_MAX_STEM_BYTES = 100


def feedback_files(results) -> dict:
    """The feedback to hand back, one plain-text file per student, and an index: ``{file name: text}``.

    A student's file lists each of their submissions: its chapter and points (or that it was not
    graded, and why), each exercise with its points and the feedback the table shows, and the
    notes about its notebook (cells that raised or were stopped ...). Text from the submission is
    written without control characters.

    The file is named after the student's id (the table's first column): each run of characters
    other than letters, digits and ``. @ + -`` made one ``_``, no leading dot, at most 100 bytes of
    UTF-8, then ``.txt``. Where that changes the id, where the id has capitals or other characters
    that case-folding or Unicode normalisation changes (``Bob``: one file with ``bob``'s on macOS and
    Windows; the dotless ``ı``), where it names a Windows device (``con``), or where it ends like such a
    name, in ``-`` and 8 or more hex digits, the name also carries the
    first 8 hex digits of the SHA-256 of the id (``Participant 1000`` gives
    ``Participant_1000-21aebe38.txt``). So each student's file name depends on their id alone: the
    same in every run, whoever else is graded, and no other student's. :data:`FEEDBACK_INDEX` says
    whose each file is.

    Parameters
    ----------
    results : iterable of SubmissionResult
        What :func:`grade_all` returned.

    Examples
    --------
    >>> row = ExerciseResult("ch02.rnn_step", "rnn_step", 2, 2, True, "all checks passed")
    >>> sub = SubmissionResult("bob/02_structure.ipynb", "x", "ch02", "ok", [row], student="bob")
    >>> files = feedback_files([sub])
    >>> print(files["bob.txt"])
    Feedback for bob
    <BLANKLINE>
    bob/02_structure.ipynb, chapter ch02: 2/2 points
      ch02.rnn_step, 2/2: all checks passed
    <BLANKLINE>
    >>> print(files["index.json"])
    {
      "bob.txt": "bob"
    }
    """
    by_student = {}
    for sub in results:
        by_student.setdefault(_student(sub), []).append(sub)
    names = _feedback_names(list(by_student))
    files = {names[sid]: _feedback_text(sid, subs) for sid, subs in by_student.items()}
    files[FEEDBACK_INDEX] = json.dumps({names[sid]: sid for sid in by_student}, indent=2) + "\n"
    return files


#: The names Windows keeps for devices, whatever the extension (``con.txt`` is the console there).
_WINDOWS_DEVICE = re.compile(r"con|prn|aux|nul|com[0-9\u00b9\u00b2\u00b3]|lpt[0-9\u00b9\u00b2\u00b3]", re.IGNORECASE)


def feedback_file_name(student: str) -> str:
    """The name of the file :func:`feedback_files` writes for ``student``, a function of the id alone (the rule
    is in :func:`feedback_files`).

    Parameters
    ----------
    student : str
        The student's id, the first column of the grader's table.

    Examples
    --------
    >>> feedback_file_name("bob"), feedback_file_name("Participant 1000")
    ('bob.txt', 'Participant_1000-21aebe38.txt')
    """
    stem = re.sub(r"[^\w.@+-]+", "_", printable(student)).lstrip(".")
    stem = stem.encode("utf-8")[:_MAX_STEM_BYTES].decode("utf-8", "ignore") or "student"
    plain = (stem == student == _fold(student) == student.upper().lower()
             and not re.search(r"-[0-9a-f]{8,}$", student) and not _WINDOWS_DEVICE.fullmatch(student.split(".")[0]))
    return f"{stem}.txt" if plain else f"{stem}-{_digest(student, 8)}.txt"


def _fold(name: str) -> str:
    """``name`` as a case-insensitive file system compares it."""
    return unicodedata.normalize("NFC", name).casefold()


def _digest(student: str, n: int) -> str:
    """The first ``n`` hex digits of the SHA-256 of ``student``."""
    return hashlib.sha256(str(student).encode("utf-8", "surrogatepass")).hexdigest()[:n]


def _feedback_names(ids) -> dict:
    """``{student id: file name}`` for :func:`feedback_files`: :func:`feedback_file_name` of each, distinct even
    where case is ignored."""
    names = {sid: feedback_file_name(sid) for sid in ids}
    if len({_fold(name) for name in names.values()}) < len(names):    # two hashes alike: 1 in 4e9 per pair
        names = {sid: f"{name[:-len('.txt')]}{_digest(sid, 64)[8:]}.txt" for sid, name in names.items()}
    return names


def _feedback_text(student: str, subs) -> str:
    """The text of :func:`feedback_files` for ``student``, whose submissions are ``subs``."""
    lines = [f"Feedback for {student}"]
    for sub in subs:
        graded = (f"not graded ({sub.status})" if sub.status in NOT_GRADED
                  else f"{sub.points}/{sub.max_points} points")
        lines += ["", f"{sub.submission}, chapter {sub.chapter}: {graded}"]
        if sub.status not in NOT_GRADED:
            lines += [f"  {ex.exercise}, {ex.points}/{ex.max_points}: {ex.feedback}" for ex in sub.exercises]
        lines += [f"  note: {note}" for note in sub.notes]
    if len(subs) > 1:
        lines += ["", f"Total: {sum(s.points for s in subs if s.status not in NOT_GRADED)}/"
                      f"{sum(s.max_points for s in subs if s.status not in NOT_GRADED)} points"]
    return "\n".join(printable(line) for line in lines) + "\n"


#: The rule of :func:`student_id`, in short, for messages.
STUDENT_RULE = ("the student is the first folder between the folder given and the notebook, other than one named "
                "after its chapter (ch04), else the file name, or for a chapter notebook (04_bptt.ipynb) the folder "
                "given; a name as Canvas or Moodle download it gives the id in it (2000, Participant 1000); notebooks "
                "given by themselves count from the folder they are all in; see student_id")
#: How Canvas names each file of its "Download Submissions" zip. In this order, the student's name
#: (``smithalice``, one word, a letter first), ``LATE`` if late, the Canvas user id and the file's id (numbers of
#: three digits or more), then the name the student uploaded. A name such as ``alice_2024_03_15.ipynb`` is no
#: Canvas name.
CANVAS_NAME = re.compile(r"[^\W\d_][^\W_]*(?:_LATE)?_(?P<id>\d{3,})_\d{3,}_(?P<file>.+)")
#: How Moodle names each student's folder in its "Download all submissions" zip (or each file, without folders).
#: In this order, the student's full name, the participant id, ``assignsubmission_file_`` (then the name the
#: student uploaded).
MOODLE_NAME = re.compile(r".+?_(?P<id>\d+)_assignsubmission_[a-z]+_(?P<file>.*)")


def lms_download(name: str) -> tuple:
    """``(student id, name the student uploaded)`` of a file or folder named as Canvas or Moodle name the
    submissions they download, else ``(None, name)``.

    The student id is the one in the LMS's own roster: for Canvas the user id, which the ``ID``
    column of its gradebook export holds; for Moodle ``"Participant N"``, as the ``Identifier``
    column of its grading worksheet holds it.

    Parameters
    ----------
    name : str
        A file or folder name (not a path).

    Examples
    --------
    >>> lms_download("smithalice_LATE_2000_3000_02_structure.ipynb")
    ('2000', '02_structure.ipynb')
    >>> lms_download("Alice Smith_1000_assignsubmission_file_")
    ('Participant 1000', '')
    """
    moodle, canvas = MOODLE_NAME.fullmatch(name), CANVAS_NAME.fullmatch(name)
    if moodle:
        return f"Participant {moodle['id']}", moodle["file"]
    if canvas:
        return canvas["id"], canvas["file"]
    return None, name


def student_id(path, root=None) -> str:
    """Who a submission is from, read from its path and ``root``, the folder it was found in.

    ``root`` is the folder given to the grader that holds the notebook; notebooks given by
    themselves (a shell glob) share one root, the folder they are all in (:func:`student_ids`).
    Default: the notebook's own folder. The rule:

    1. take the folders between ``root`` and the notebook (a ``\\`` in a file name, from a zip made
       on Windows, separates folders too), less any named after the notebook's chapter (``ch04``
       for ``04_bptt.ipynb``: nbgrader's assignment folder);
    2. if one is left, the student is the first;
    3. else the student is the file name without ``.ipynb``, except for a chapter notebook of the
       book (named exactly as in :data:`CHAPTER_NOTEBOOKS`, such as ``04_bptt.ipynb``): then it is
       ``root``'s name (the folder above, where ``root`` is named after the chapter);
    4. a folder or file named as Canvas or Moodle name their downloads stands for the id in it, the
       one of the LMS's own roster (:func:`lms_download`).

    By layout, as the grader is called:

    - student folders, ``grade subs``: ``subs/alice/04_bptt.ipynb``, ``subs/alice/hw4/x.ipynb``,
      ``subs/alice/ch04/04_bptt.ipynb`` (nbgrader) and ``subs/alice\\04_bptt.ipynb`` are ``alice``;
    - one folder for all, ``grade subs``: ``subs/carol.ipynb`` is ``carol``, and
      ``subs/04_bptt_alice.ipynb`` is ``04_bptt_alice``;
    - each student's folder given, ``grade subs/*`` or ``grade subs/alice``: ``subs/alice/04_bptt.ipynb``
      and ``subs/alice/ch04/04_bptt.ipynb`` are ``alice``;
    - notebooks given, ``grade subs/*/hw.ipynb`` (the root is ``subs``): ``subs/alice/hw.ipynb`` is
      ``alice``; one notebook, ``grade subs/alice/ch04/04_bptt.ipynb``, is ``alice`` too;
    - sections: ``grade sections`` makes ``sections/a/bob/04_bptt.ipynb`` student ``a``; give each
      section's folder instead (``grade sections/a sections/b``);
    - Canvas's zip, ``grade subs``: ``subs/smithalice_LATE_2000_3000_04_bptt.ipynb`` is ``2000``;
      Moodle's, ``subs/Alice Smith_1000_assignsubmission_file_/04_bptt.ipynb`` is ``Participant 1000``;
    - a student's folder given, ``grade subs/bob``, with a notebook not named as the book's:
      ``subs/bob/hw.ipynb`` is ``hw``, since the rule cannot tell it from a folder of one notebook per
      student; name the student instead (``--student bob``, :func:`student_ids`).

    Parameters
    ----------
    path : str or pathlib.Path
        The submitted notebook.
    root : str or pathlib.Path, optional
        The folder it was found in (the notebook itself counts as not given).
    """
    path = Path(path)
    root = path.parent if root is None or os.path.abspath(root) == os.path.abspath(path) else Path(root)
    folders, name = _below(path, root)
    chapter = chapter_id(name)
    folders = [folder for folder in folders if folder != chapter]
    if folders:
        return lms_download(folders[0])[0] or folders[0]
    stem = _notebook_stem(name)
    if stem not in CHAPTER_NOTEBOOKS:
        return lms_download(stem)[0] or stem
    folder = root.parent if root.name == chapter else root
    moodle = MOODLE_NAME.fullmatch(folder.name)       # Canvas makes no folders: only Moodle names one
    return (f"Participant {moodle['id']}" if moodle else folder.name) if folder.name else stem


def _notebook_stem(name: str) -> str:
    """The file name ``name`` without ``.ipynb`` (in any case), or without its suffix."""
    return name[:-len(".ipynb")] if name.lower().endswith(".ipynb") else Path(name).stem


def _below(path: Path, root: Path) -> tuple:
    """``(folders, file name)``: the parts of ``path`` below the folder ``root`` (a ``\\`` in a name separates
    folders too); a path not below ``root`` counts as directly in it."""
    try:
        relative = Path(os.path.abspath(path)).relative_to(os.path.abspath(root)).as_posix()
    except ValueError:
        relative = path.name
    *folders, name = [part for part in relative.replace("\\", "/").split("/") if part] or [path.name]
    return folders, name


def _roots(paths, roots) -> list:
    """The folder each of ``paths`` (absolute) counts from (:func:`student_ids`): its root, or for the notebooks given
    by themselves (root ``None`` or the notebook) the folder they are all in."""
    if roots is None:
        roots = [None] * len(paths)
    elif len(roots) != len(paths):
        raise ValueError(f"roots should have one folder per path ({len(paths)}), but has {len(roots)}")
    roots = [None if r is None or os.path.abspath(r) == p else os.path.abspath(r) for p, r in zip(paths, roots)]
    alone = [os.path.dirname(p) for p, r in zip(paths, roots) if r is None]
    common = os.path.commonpath(alone) if alone else None
    return [r or common for r in roots]


def student_ids(paths, roots=None, student=None) -> list:
    """:func:`student_id` of each of ``paths``, found in ``roots``, one per path: the folder given to the grader that
    holds it, or the notebook itself (or ``None``) for one given by itself. Notebooks given by themselves share one
    root, the folder they are all in; default: every notebook is given by itself.

    With ``student`` (the instructor names the student, ``--student``), every notebook is that student's. A
    ``ValueError`` refuses notebooks that the folder layout says are of several students (:func:`layout_students`:
    ``subs/alice`` and ``subs/bob`` in ``subs``, two Canvas or Moodle names), and notebooks found in several
    places: several folders given, or notebooks given from several folders (``grade subs/alice subs/bob``). Both
    are taken where every notebook lies in a folder named ``student`` where the rule reads the student (the
    folder given, or the first folder below it): ``grade subs/bob --student bob`` with ``subs/bob/hw4/x.ipynb``
    and ``subs/bob/hw5/y.ipynb``.

    Parameters
    ----------
    paths : sequence of str or pathlib.Path
        The submitted notebooks.
    roots : sequence of str or pathlib.Path or None, optional
        One per path (``ValueError`` otherwise).
    student : str or None, optional
        Who every notebook is from, in place of the rule.

    Returns
    -------
    list of str
        The ids, in the form rosters are matched on (:func:`roster_form`): an id from a folder named
        on macOS is the one typed elsewhere.
    """
    given = roots
    paths = [os.path.abspath(p) for p in paths]
    roots = _roots(paths, roots)
    if student is None:
        return [roster_form(student_id(p, r)) for p, r in zip(paths, roots)]
    if not isinstance(student, str) or not student.strip():
        raise ValueError(f"student should be a student's id, but is {student!r}")
    student = roster_form(student)

    def read_by_rule(p, r):                     # the folder given, and the first below it
        return {roster_form(name) for name in (Path(r).name, next(iter(_below(Path(p), Path(r))[0]), None)) if name}

    # All in a folder named bob, where the rule reads the student: bob's, whatever lies between.
    if all(student in read_by_rule(p, r) for p, r in zip(paths, roots)):
        return [student] * len(paths)
    named = {}
    for path, who in zip(paths, layout_students(paths, given)):
        if who is not None:
            named.setdefault(who, path)
    fix = f"give one student's folder or notebooks (all the notebooks in a folder named {student} are {student}'s)"
    if len(named) > 1:
        listed = ", ".join(f"{who} ({where})" for who, where in list(named.items())[:3])
        raise ValueError(printable(f"student {student!r} names one student, but the notebooks are of {len(named)} "
                                   f"students by their folders or names: {listed}; {fix}"))
    given = [None] * len(paths) if given is None else list(given)
    places = sorted({os.path.abspath(r) if r is not None and os.path.isdir(r) else os.path.dirname(p)
                     for p, r in zip(paths, given)})
    if len(places) > 1:
        listed = ", ".join(places[:3])
        raise ValueError(printable(f"student {student!r} names one student, but the notebooks were found in "
                                   f"{len(places)} places, each a student's by the rule: {listed}; {fix}"))
    return [student] * len(paths)


def layout_students(paths, roots=None) -> list:
    """Who the folder layout says each of ``paths`` is from, where it says so whatever the instructor means
    (:func:`student_id`): the student's folder (or its Canvas or Moodle id), a Canvas or Moodle file name, the
    folder of a notebook named as the book's chapter; else ``None``, where the id would be the file name
    (``subs/bob/hw.ipynb`` with ``subs/bob`` given), which ``--student`` is there to replace.

    Parameters
    ----------
    paths : sequence of str or pathlib.Path
        The submitted notebooks.
    roots : sequence of str or pathlib.Path or None, optional
        As for :func:`student_ids`.
    """
    paths = [os.path.abspath(p) for p in paths]
    found = []
    for path, root in zip(paths, _roots(paths, roots)):
        below, name = _below(Path(path), Path(root))
        below = [folder for folder in below if folder != chapter_id(name)]
        stem = _notebook_stem(name)
        strong = below or lms_download(stem)[0] is not None or stem in CHAPTER_NOTEBOOKS
        found.append(student_id(path, root) if strong else None)
    return found


def _student(sub) -> str:
    """Who the :class:`SubmissionResult` ``sub`` is from: its ``student``, else :func:`student_id` of its name, which is
    relative to the folder the submissions graded together are in (``alice/04_bptt.ipynb`` is ``alice``)."""
    name = Path(sub.submission)
    return roster_form(sub.student or student_id(name, None if name.is_absolute() else Path(".")))


#: The end of a message about student ids the roster lacks, since they may be file names (student_id, rule 3).
_NAME_ONE = (", or, where these ids are file names (one student's folder given, a notebook not named as the "
             "book's), name the student with --student")


#: How to save a roster the grader can read, for a message about one in another encoding than UTF-8.
SAVE_AS_UTF8 = "save it as CSV UTF-8 (in Excel: Save As, CSV UTF-8 (Comma delimited))"


def roster_form(text: str) -> str:
    """A student's id as the grader compares ids: stripped, and in Unicode's composed form (NFC).

    macOS names a folder ``zoë`` with ``e`` and a combining diaeresis, where a roster typed
    elsewhere has the one character ``ë``: both are the one id. :func:`student_ids` gives ids in
    this form, and rosters are matched on it.

    Parameters
    ----------
    text : str
        An id: from a submission's path, ``--student`` or a roster's cell.

    Returns
    -------
    str
    """
    return unicodedata.normalize("NFC", text.strip())


def read_roster(path, key=None, ids=()) -> tuple:
    """``(header, rows, key column)`` of a roster CSV (an LMS's export), read whole; the key column is ``key``
    or the first column that holds one of ``ids``. Ids match whatever their Unicode normal form (a folder
    named on macOS, a roster typed on Windows).

    Raises ``ValueError`` for a roster that is empty, not CSV, not UTF-8 (a spreadsheet's plain CSV
    export on Windows), separated by something other than commas (a spreadsheet's ``;`` export),
    without the column ``key``, or without any of ``ids`` (in the column ``key``, when it is given
    with ``ids``).

    Parameters
    ----------
    path : str or pathlib.Path
        The roster CSV, comma-separated (a byte-order mark is allowed).
    key : str, optional
        The name of the column that holds the students' ids.
    ids : iterable of str
        The students' ids of the submissions, which the key column should hold.
    """
    try:
        with open(path, newline="", encoding="utf-8-sig") as f:
            rows = list(csv.reader(f))
    except csv.Error as err:
        raise ValueError(f"the roster {path} is not a CSV file ({err})") from err
    except UnicodeDecodeError as err:
        raise ValueError(f"the roster {path} is not UTF-8 (it holds the byte 0x{err.object[err.start]:02x}, as a "
                         f"spreadsheet's plain CSV export on Windows does); {SAVE_AS_UTF8}") from err
    if not rows or not rows[0]:
        raise ValueError(f"the roster {path} is empty; it needs a header row and one row per student")
    header, rows = rows[0], rows[1:]
    separator = next((sep for sep in ";\t|" if len(header) == 1 and sep in header[0]), None)
    if separator:
        raise ValueError(f"the roster {path} should be separated by commas, but its header {header[0][:60]!r} is "
                         f"separated by {separator!r}; export it again as comma-separated CSV")
    ids = {roster_form(i) for i in ids}
    if key is not None:
        if key not in header:
            raise ValueError(f"the roster {path} has no column {key!r}; its columns are {header}")
        col = header.index(key)
        if ids and not any(len(r) > col and roster_form(r[col]) in ids for r in rows):
            raise ValueError(f"the column {key!r} of the roster {path} holds no student id of the submissions "
                             f"(e.g. {sorted(ids)[:3]}); name the column that holds them with --roster-key{_NAME_ONE}")
        return header, rows, col
    for col in range(len(header)):
        if any(len(r) > col and roster_form(r[col]) in ids for r in rows):
            return header, rows, col
    raise ValueError(f"no column of the roster {path} holds a student id of the submissions "
                     f"(e.g. {sorted(ids)[:3]}); name the column with --roster-key{_NAME_ONE}")


_NUMBER = re.compile(r"[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?")
#: A grade column, "ch04.rnn_backward (3)", and a total, "Total (5)", as this grader names them, or as Canvas exports
#: them after an import, with the id of the assignment it made of each: "ch04.rnn_backward (3) (87568490)".
_EXERCISE_COLUMN = re.compile(r"((\w+\.\w+) \((\d+)\))( \(\d+\))?")
_TOTAL_COLUMN = re.compile(r"Total \(\d+\)( \(\d+\))?")


def _csv_cell(cell: str) -> str:
    """``cell`` as a spreadsheet will show it, never run it: text starting with ``= + - @``, a tab or a carriage
    return (a formula, to Excel or LibreOffice) gets a leading ``'``; numbers (``-3``) stay numbers."""
    if cell[:1] in ("=", "+", "-", "@", "\t", "\r") and not _NUMBER.fullmatch(cell):
        return "'" + cell
    return cell


def missing_from_roster(results, roster, roster_key=None) -> list:
    """The students of ``results`` that have no row in the roster (:func:`read_roster`), sorted: the CSV built
    on that roster (:func:`grades_csv`) has no grades of theirs.

    Parameters
    ----------
    results : iterable of SubmissionResult
        What :func:`grade_all` returned.
    roster : str or pathlib.Path
        The roster CSV.
    roster_key : str, optional
        The roster's column of students' ids (default: the first that holds one, see :func:`read_roster`).
    """
    ids = {_student(sub) for sub in results}
    _, rows, col = read_roster(roster, roster_key, ids)
    listed = {roster_form(row[col]) for row in rows if len(row) > col}
    return sorted(sid for sid in ids if roster_form(sid) not in listed)


def _grades(results) -> tuple:
    """``(columns, grades)``: ``{"chNN.name (max points)": max points}`` for every exercise of ``results``, and
    ``{student: {column: points}}`` of the exercises graded (none of a submission :data:`NOT_GRADED`).

    Raises ``ValueError`` naming both submissions when two of one student grade one exercise.
    """
    columns, grades, graded_in = {}, {}, {}
    for sub in results:
        sid = _student(sub)
        grades.setdefault(sid, {})
        for ex in sub.exercises:
            column = f"{ex.exercise} ({ex.max_points})"
            columns.setdefault(column, ex.max_points)
            if (sid, ex.exercise) in graded_in:
                raise ValueError(f"two submissions of student {sid} grade {ex.exercise}, {graded_in[sid, ex.exercise]} "
                                 f"and {sub.submission}, for one cell of the CSV ({STUDENT_RULE}): grade one of them")
            graded_in[sid, ex.exercise] = sub.submission
            if sub.status not in NOT_GRADED:
                grades[sid][column] = ex.points
    return columns, grades


def _check_roster_columns(matches, columns) -> None:
    """Raise ``ValueError`` for a roster (its grade columns: ``matches`` of :data:`_EXERCISE_COLUMN`) that this
    run's ``columns`` (``{"chNN.name (max)": max}``) would not fill as the first run did: an exercise in two
    columns (written by the grader before 2026-12-03); an exercise at another maximum (a regrade without the
    first run's ``--points``); a column of an exercise of a chapter this run grades that this run does not grade
    (without the first run's ``--checkers``: its cell would keep a stale grade). A column of a chapter this run
    does not grade keeps its values; an exercise the roster lacks gets a column of its own."""
    run = {name.rsplit(" (", 1)[0]: maximum for name, maximum in columns.items()}
    chapters = {name.split(".")[0] for name in run}
    seen = {}
    for m in matches:
        seen.setdefault(m.group(2), []).append(m.group(1))
    for exercise, names in seen.items():
        if len(names) > 1:
            raise ValueError(f"the roster has {exercise} {'twice' if len(names) == 2 else f'{len(names)} times'}, as "
                             f"{' and '.join(names)}: delete the column that does not hold the grades to keep, then "
                             "grade again")
    for m in matches:
        exercise, maximum = m.group(2), int(m.group(3))
        if exercise in run and run[exercise] != maximum:
            got = run[exercise]
            raise ValueError(f"the roster has {m.group(1)} but this run gives it {got} point{'s' * (got != 1)}: "
                             f"pass --points {exercise}={maximum}, as for the first run")
        if exercise not in run and exercise.split(".")[0] in chapters:
            raise ValueError(f"the roster has a column {exercise}, an exercise this run does not grade: pass "
                             "--checkers with the file that defines it, as for the first run, or, if that exercise "
                             "no longer exists, delete its column from the roster")


def _total(cells) -> str:
    """The sum of the numbers among ``cells`` (grade cells: empty ones, and an LMS's ``-``, are not graded), or ""
    when none is a number."""
    numbers = [float(c) for c in map(str.strip, cells) if _NUMBER.fullmatch(c)]
    if not numbers:
        return ""
    total = sum(numbers)
    return str(int(total)) if total == int(total) else f"{total:.10g}"


def grades_csv(results, roster=None, roster_key=None) -> str:
    """The grades as CSV for an LMS import (Canvas, Moodle, Gradescope): one row per student, one column
    per exercise and a total.

    The grade columns are named ``"chNN.name (max points)"``, and the total ``"Total (max points)"``.
    A student's submissions of different chapters fill one row; an exercise of a chapter the
    student did not submit is an empty cell (not submitted is not zero), and so is every exercise
    of a submission :data:`NOT_GRADED` (refused, unreadable, or the grader failed on it). The total
    adds up the grade cells of the row, and is empty when none holds a number. Two submissions that
    grade the same exercise for one student raise ``ValueError`` naming both.

    Without ``roster``, the first column, ``student``, is who each submission is from (its
    ``student``, else :func:`student_id` of its name); a student id that a spreadsheet would run as
    a formula gets a leading ``'`` (``_csv_cell``). With a roster (a CSV, e.g. the gradebook
    export of the LMS), every roster row comes out with its columns as they were, followed by the
    grade columns, matched on ``roster_key`` (default: the first column that holds the students'
    ids); a student without a submission gets empty cells, and a student the roster lacks is left
    out (:func:`missing_from_roster` names them). Nothing of a submission reaches this CSV but
    numbers. A roster column named like a grade column (the CSV of an earlier run, also as Canvas
    exports it, with its assignment id: ``"ch04.rnn_backward (3) (87568490)"``) is filled again,
    not repeated, its header as it was: a grade of this run replaces its cell, and a cell this run
    did not grade (a student or chapter graded earlier, a submission not graded) keeps its value.
    Such a column is matched on its exercise: one whose maximum is not this run's, or one of an
    exercise of a chapter this run grades that this run does not grade, raises ``ValueError`` that
    says to pass the first run's ``--points`` or ``--checkers`` (its cell would be repeated, or keep
    a stale grade).
    The roster's ``Total (N)`` columns are left out: one total comes last, over every grade column
    of the row, its maximum the sum of theirs; but a ``Total (N) (id)`` column (Canvas's assignment)
    stays where it is, with its id and that maximum as N, and holds that total.

    Parameters
    ----------
    results : iterable of SubmissionResult
        What :func:`grade_all` returned.
    roster : str or pathlib.Path, optional
        A roster CSV whose rows the grades fill.
    roster_key : str, optional
        The roster's column of students' ids (default: the first that holds one, see :func:`read_roster`).
    """
    columns, grades = _grades(results)
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    if roster is None:
        writer.writerow(["student", *columns, f"Total ({sum(columns.values())})"])
        for sid, got in grades.items():
            cells = [str(got[name]) if name in got else "" for name in columns]
            writer.writerow([_csv_cell(str(sid)), *cells, _total(cells)])
        return out.getvalue()
    header, rows, col = read_roster(roster, roster_key, grades)
    matches = [_EXERCISE_COLUMN.fullmatch(name) for name in header]
    _check_roster_columns([m for m in matches if m], columns)
    names = [m.group(1) if m else name for m, name in zip(matches, header)]   # "... (3) (87568490)" is "... (3)"
    graded = [i for i, m in enumerate(matches) if m]
    totals = [(i, _TOTAL_COLUMN.fullmatch(name)) for i, name in enumerate(header)]
    in_place = [i for i, m in totals if m and m.group(1)]          # an LMS's total assignment, with its id
    kept = [i for i, m in totals if not m or i in in_place]
    added = [name for name in columns if name not in names]        # an earlier run's columns are filled again
    maximum = sum(int(matches[i].group(3)) for i in graded) + sum(columns[n] for n in added)
    # A total with its id keeps the id, which the LMS matches it by; its maximum is this run's.
    heads = [f"Total ({maximum}){m.group(1)}" if i in in_place else header[i] for i, m in totals]
    writer.writerow([heads[i] for i in kept] + added + ([] if in_place else [f"Total ({maximum})"]))
    for row in rows:
        got = grades.get(roster_form(row[col]) if len(row) > col else "", {})
        row = row + [""] * (len(header) - len(row))
        # A grade of this run replaces the roster's cell; a cell this run did not grade keeps what it held.
        cells = [str(got[name]) if name in got else cell for name, cell in zip(names, row)]
        new = [str(got[name]) if name in got else "" for name in added]
        total = _total([cells[i] for i in graded] + new)
        cells = [total if i in in_place else cell for i, cell in enumerate(cells)]
        writer.writerow([cells[i] for i in kept] + row[len(header):] + new + ([] if in_place else [total]))
    return out.getvalue()
