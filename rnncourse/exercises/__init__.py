"""Graded exercises: immediate feedback in the chapters, grading and student versions for instructors.

In a chapter, right after the cell where the student writes a function::

    from rnncourse.exercises import check
    check("ch02.rnn_step", rnn_step)

prints ``PASS`` or exactly what is wrong. Nothing else in :mod:`rnncourse` imports this package.
"""

from __future__ import annotations

from .registry import Exercise, ExerciseFailure, all_exercises, exercise, get_exercise

__all__ = ["check", "run_check", "Exercise", "ExerciseFailure", "exercise", "get_exercise", "all_exercises"]


def run_check(name: str, fn) -> tuple[bool, str]:
    """Run the checker of exercise ``name`` on ``fn``; return ``(passed, feedback)``."""
    ex = get_exercise(name)
    try:
        ex.checker(fn)
    except ExerciseFailure as failure:
        return False, str(failure)
    return True, f"all checks passed ({ex.points} point{'s' if ex.points != 1 else ''})"


def check(name: str, fn) -> bool:
    """Check the student's function ``fn`` for exercise ``name`` and print the feedback.

    Parameters
    ----------
    name : str
        The exercise, e.g. ``"ch04.rnn_backward"``.
    fn : callable
        The function the student wrote.

    Returns
    -------
    bool
        Whether every check passed.
    """
    passed, feedback = run_check(name, fn)
    print(f"{'PASS' if passed else 'FAIL'} {name}: {feedback}")
    return passed
