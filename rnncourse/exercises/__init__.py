"""Graded exercises: immediate feedback in the chapters, grading and student versions for instructors.

In a chapter, right after the cell where the student writes a function::

    from rnncourse.exercises import check
    check("ch02.rnn_step", rnn_step)

prints ``PASS`` or exactly what is wrong. Nothing else in :mod:`rnncourse` imports this package.
The instructor's tools live beside it: ``python -m rnncourse student OUTDIR`` writes the student
version (``rnncourse.exercises.student``) and ``python -m rnncourse grade SUBMISSION.ipynb``
grades notebooks (``rnncourse.exercises.grade``).
"""

from __future__ import annotations

from .registry import Exercise, ExerciseFailure, all_exercises, chapter_exercises, exercise, get_exercise

__all__ = ["check", "run_check", "CheckResult", "Exercise", "ExerciseFailure", "exercise", "get_exercise",
           "all_exercises"]


def run_check(name: str, fn) -> tuple[bool, str]:
    """Run the checker of exercise ``name`` on ``fn``; return ``(passed, feedback)``.

    An answer that is no function (the result of a call, ``None``) fails at once, with a message
    that asks for the function itself, and no case runs. A checker that trips over an answer of an
    unexpected kind (it raises anything but :class:`~rnncourse.exercises.registry.ExerciseFailure`)
    counts as a failure whose feedback quotes the error.
    """
    ex = get_exercise(name)
    if not callable(fn):                    # e.g. rnn_step(x, h, ...) passed instead of rnn_step: run no case
        return False, _not_a_function(name, fn)
    try:
        ex.checker(fn)
    except ExerciseFailure as failure:
        return False, str(failure)
    except Exception as err:  # the answer broke the checker: still the answer's fault, say how
        return False, f"checking your answer raised {type(err).__name__}: {err}"
    return True, f"all checks passed ({ex.points} point{'s' if ex.points != 1 else ''})"


def _not_a_function(name: str, fn) -> str:
    """The feedback for an answer that is no function: what came, and how to pass the function itself."""
    kind = type(fn)
    came = kind.__name__ if kind.__module__ == "builtins" else f"{kind.__module__}.{kind.__qualname__}"
    shape = getattr(fn, "shape", None)
    if fn is None:
        came = "None"
    elif isinstance(fn, (str, bool, int, float, complex)):
        shown = repr(fn) if isinstance(fn, str) else str(fn)
        came += f" {shown if len(shown) <= 40 else shown[:37] + '...'}"
    elif isinstance(shape, tuple):                               # an array or a tensor (torch.Size is a tuple)
        came += f" of shape {tuple(shape)}"
    hint, wrong = (("its name without quotes", '"your_function"') if isinstance(fn, str)
                   else ("its name without calling it", "your_function(...)"))
    return (f"check expects the function you wrote itself, but got {came}; pass {hint}: "
            f'check("{name}", your_function), not check("{name}", {wrong})')


class CheckResult:
    """What :func:`check` returns: true when every check passed.

    In a notebook the feedback is printed once by :func:`check`; this object displays
    nothing more, and ``assert check(...)`` works (e.g. in an nbgrader test cell).

    Attributes
    ----------
    name : str
        The exercise.
    passed : bool
        Whether every check passed.
    feedback : str
        The message printed.
    """

    def __init__(self, name: str, passed: bool, feedback: str):
        self.name, self.passed, self.feedback = name, passed, feedback

    def __bool__(self) -> bool:
        return self.passed

    def __repr__(self) -> str:
        return f"CheckResult(name={self.name!r}, passed={self.passed}, feedback={self.feedback!r})"

    def _ipython_display_(self) -> None:
        """Display nothing: the feedback has been printed already."""


def check(name: str, fn) -> CheckResult:
    """Check the student's function ``fn`` for exercise ``name`` and print the feedback.

    Parameters
    ----------
    name : str
        The exercise, e.g. ``"ch04.rnn_backward"``.
    fn : callable
        The function the student wrote.

    Returns
    -------
    CheckResult
        True (in an ``if`` or ``assert``) when every check passed; in a
        notebook it displays nothing, since the feedback is already printed.

    Notes
    -----
    As in the grader, the package functions that compute the answer of one of the chapter's
    exercises are blocked while ``fn`` runs (:mod:`rnncourse.exercises.blocking`): an answer that
    calls one fails here, with the message the grader gives it, instead of passing here and
    scoring zero there.
    """
    # Imported here: the grader's sandbox replaces check() and holds only the files its worker needs.
    from .blocking import SubjectCalled, guarded, subject_feedback

    ex = get_exercise(name)
    if callable(fn):
        graded = chapter_exercises(ex.chapter)
        guarded_fn = guarded(fn, sorted({s for e in graded for s in e.subjects}))
        try:
            passed, feedback = run_check(name, guarded_fn)
        except SubjectCalled as called:
            passed, feedback = False, subject_feedback(str(called), ex, graded)
    else:
        passed, feedback = run_check(name, fn)
    print(f"{'PASS' if passed else 'FAIL'} {name}: {feedback}")
    return CheckResult(name, passed, feedback)
