"""The student's own check blocks what the grader blocks: the package functions that compute the answers.

An exercise lists as ``subjects`` the package functions whose result is its answer
(:class:`~rnncourse.exercises.registry.Exercise`). While the grader calls a student's function, the
subjects of every exercise of the chapter raise, and an answer that calls one, directly or through
another package function, scores zero. :func:`rnncourse.exercises.check` runs the student's function
under the same rule (:func:`guarded`), so that the PASS a student sees in the notebook is the grade
the instructor's grader gives.

The grader blocks a subject by replacing it in the package's modules before the notebook runs. In
the student's live notebook the functions are imported already, under names of the student's
choosing, so :func:`guarded` swaps the code of each subject function itself for the time of the
call: every name that refers to the function then runs the blocked code.
"""

from __future__ import annotations

import importlib
import types
from contextlib import contextmanager

__all__ = ["SubjectCalled", "WriteItYourself", "guarded", "subject_feedback"]


class WriteItYourself(RuntimeError):
    """What a blocked package function raises inside the student's function (the grader's name for it)."""


class SubjectCalled(BaseException):
    """The student's function called a package function one of the chapter's exercises asks them to write.

    A ``BaseException``, so that it passes through the checker (which turns ordinary errors of the
    student's function into feedback); the message is the short name of the function called.
    """


#: Short names of the blocked functions called since :func:`guarded`'s wrapper last started.
_CALLED: list = []


def _blocked_call(name: str):
    """The body of every blocked function: note the call, then refuse it."""
    _CALLED.append(name)
    raise WriteItYourself(f"write it yourself: while this chapter's exercises are checked, the package's {name} "
                          f"is blocked")


def _raise_if_called() -> None:
    """Raise :class:`SubjectCalled` naming the first blocked function called, if any was."""
    if _CALLED:
        called = _CALLED[0]
        _CALLED.clear()
        raise SubjectCalled(called) from None


def _blocking_code(function) -> types.CodeType:
    """Code that calls :func:`_blocked_call` with ``function``'s name, to swap in for ``function.__code__``."""
    name = function.__name__
    namespace: dict = {}
    exec(f"def {name}(*args, **kwargs):\n"                      # noqa: S102 -- our own two-line function
         f"    from rnncourse.exercises.blocking import _blocked_call\n"
         f"    return _blocked_call({name!r})\n", namespace)
    return namespace[name].__code__


def _functions(subjects) -> list:
    """The plain Python functions named by ``subjects`` (dotted), each once; others cannot have code swapped."""
    found = []
    for dotted in subjects:
        module, _, attr = dotted.rpartition(".")
        function = getattr(importlib.import_module(module), attr, None)
        if isinstance(function, types.FunctionType) and not function.__code__.co_freevars and function not in found:
            found.append(function)
    return found


@contextmanager
def _codes(functions, codes):
    """Give each of ``functions`` the code in ``codes`` for the block, then its code from before."""
    before = [f.__code__ for f in functions]
    for function, code in zip(functions, codes):
        function.__code__ = code
    try:
        yield
    finally:
        for function, code in zip(functions, before):
            function.__code__ = code


def guarded(fn, subjects):
    """``fn`` with the package functions ``subjects`` blocked while it runs.

    Parameters
    ----------
    fn : callable
        The student's function.
    subjects : iterable of str
        Dotted names of the blocked package functions (``"rnncourse.numpy.elman.rnn_step_forward"``).

    Returns
    -------
    callable
        Calls ``fn``. While it runs, a call of a subject raises :class:`WriteItYourself`; when ``fn``
        has called one (even if it caught the error), the wrapper raises :class:`SubjectCalled`
        naming it. A function the checker hands to ``fn`` as an argument (a decoder's step, say)
        runs unblocked, as in the grader, where it runs in the grader's process.
    """
    functions = _functions(subjects)
    originals = [f.__code__ for f in functions]
    blocking = [_blocking_code(f) for f in functions]

    def unblocked(callback):
        def call_back(*args, **kwargs):
            with _codes(functions, originals):
                return callback(*args, **kwargs)
        return call_back

    def passed(value):
        plain = isinstance(value, (types.FunctionType, types.MethodType, types.BuiltinFunctionType))
        return unblocked(value) if plain else value

    def call(*args, **kwargs):
        args = [passed(a) for a in args]
        kwargs = {key: passed(value) for key, value in kwargs.items()}
        _CALLED.clear()
        try:
            with _codes(functions, blocking):
                result = fn(*args, **kwargs)
        except Exception:                    # not KeyboardInterrupt: the notebook's stop button still stops
            _raise_if_called()
            raise
        _raise_if_called()
        return result

    return call


def subject_feedback(called: str, exercise, graded) -> str:
    """The feedback for a call of the blocked package function ``called``: a subject of ``exercise``, else of the
    exercises of ``graded`` that list it.

    Parameters
    ----------
    called : str
        The short name of the function called (the message of :class:`SubjectCalled`), e.g. ``"rnn_forward"``.
    exercise : ~rnncourse.exercises.registry.Exercise
        The exercise being checked.
    graded : iterable of ~rnncourse.exercises.registry.Exercise
        The exercises of the chapter whose subjects are blocked.

    Returns
    -------
    str
        The feedback: write it yourself, and which exercise the blocked function answers.
    """
    def listed(ex) -> bool:
        return any(subject.rpartition(".")[2] == called for subject in ex.subjects)

    if listed(exercise):
        return (f"write it yourself: this exercise is {called}; calling the package's own {called}, "
                f"directly or through another package function, scores zero")
    owners = " and ".join(ex.name for ex in graded if ex.name != exercise.name and listed(ex))
    return (f"write it yourself: the package's {called} computes the answer of "
            f"{f'exercise {owners}' if owners else 'another exercise'} of this chapter, "
            f"so it is blocked while the chapter's exercises are checked; calling it, directly or through another "
            f"package function, scores zero")
