"""The registry of graded exercises: a name, its points and the function that checks it.

A checker is a function that takes the student's function and raises
:class:`ExerciseFailure` with a specific message on the first problem it finds.
Checkers live in one module per chapter (``rnncourse.exercises.ch02`` ...) and
register themselves with the :func:`exercise` decorator when that module is
imported; :func:`get_exercise` imports the chapter module on demand.

An instructor can keep extra exercises outside the package, in a Python file of
checkers registered with the same decorator, and load it with :func:`load_checkers`
(``python -m rnncourse grade --checkers my_exercises.py ...``).
"""

from __future__ import annotations

import difflib
import importlib
import importlib.util
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

__all__ = [
    "Exercise", "ExerciseFailure", "exercise", "get_exercise", "all_exercises", "chapter_exercises",
    "load_checkers", "CHAPTER_MODULES",
]

#: Chapter modules that hold checkers, in book order.
CHAPTER_MODULES = ("ch01", "ch02", "ch03", "ch04", "ch05", "ch06", "ch07", "ch08", "ch09")


class ExerciseFailure(AssertionError):
    """Raised by a checker when the student's answer is wrong; the message says exactly how."""


@dataclass(frozen=True)
class Exercise:
    """One graded exercise.

    Attributes
    ----------
    name : str
        ``"chNN.short_name"``, the name the chapter passes to :func:`rnncourse.exercises.check`.
    points : int
        Points awarded when every check passes.
    checker : callable
        ``checker(student_function)``; raises :class:`ExerciseFailure` when the answer is wrong.
    description : str
        One line saying what the student writes (the checker's docstring summary).
    subjects : tuple of str
        The package functions this exercise asks the student to write, dotted
        (``"rnncourse.numpy.elman.rnn_step_forward"``): the grader's sandbox makes them raise
        when the submission calls them, and such a submission scores zero. List every function
        whose result is the answer (or one of its parts, such as the norm of a clipping): the
        private helper behind the public one (``_last_states``), the PyTorch twin, and another
        model's function that computes the same equation (a Jordan step with ``W_hy = I``).
    """

    name: str
    points: int
    checker: Callable
    description: str
    subjects: tuple = ()

    @property
    def chapter(self) -> str:
        """The part of the name before the dot, e.g. ``"ch04"``."""
        return self.name.split(".", 1)[0]

    @property
    def function_name(self) -> str:
        """The name of the function the student writes, the part after the dot.

        When the chapter also imports the package's function of that name, the student's
        function carries the suffix ``_ex`` (``rnn_backward_ex`` for ``ch04.rnn_backward``)
        so as not to shadow it.
        """
        return self.name.split(".", 1)[1]


_REGISTRY: dict[str, Exercise] = {}


def _check_name(name) -> None:
    if not isinstance(name, str):
        raise TypeError(f"an exercise name should be a str like 'ch04.rnn_backward', but got {type(name).__name__}")
    if name.count(".") != 1 or not all(p.isidentifier() for p in name.split(".")):
        raise ValueError(f"an exercise name looks like 'ch04.rnn_backward' (chapter.function), but got {name!r}")


def exercise(name: str, points: int = 1, subjects=()):
    """Register the decorated checker under ``name`` with ``points`` points.

    Registering the same name again from the same function (a re-imported module)
    replaces the entry; a second, different checker under a taken name is an error.
    The first line of the checker's docstring becomes the exercise's description.

    Parameters
    ----------
    name : str
        ``"chNN.short_name"``, e.g. ``"ch04.rnn_backward"``.
    points : int
        Points awarded when every check passes, at least 0.
    subjects : iterable of str
        The package functions the exercise asks the student to write, dotted (see :class:`Exercise`).

    Returns
    -------
    callable
        The decorator, which registers the checker and returns it unchanged.
    """
    _check_name(name)
    if not isinstance(points, int) or isinstance(points, bool):
        raise TypeError(f"points should be an int, but got {type(points).__name__} {points!r} for exercise {name!r}")
    if points < 0:
        raise ValueError(f"points should be a non-negative int, but got {points} for exercise {name!r}")

    def register(checker: Callable) -> Callable:
        old = _REGISTRY.get(name)
        where = f"{checker.__module__}.{checker.__qualname__}"
        if old is not None and f"{old.checker.__module__}.{old.checker.__qualname__}" != where:
            raise ValueError(f"exercise {name!r} is already registered by {old.checker.__module__}."
                             f"{old.checker.__qualname__}; pick another name for {where}")
        summary = (checker.__doc__ or "").strip().splitlines()
        _REGISTRY[name] = Exercise(name, points, checker, summary[0] if summary else "", tuple(subjects))
        return checker

    return register


def _load_chapter(chapter: str) -> None:
    """Import the checkers of a book chapter; other prefixes come from :func:`load_checkers`."""
    if chapter not in CHAPTER_MODULES:
        return
    try:
        importlib.import_module(f"rnncourse.exercises.{chapter}")
    except ModuleNotFoundError as err:
        if err.name != f"rnncourse.exercises.{chapter}":
            raise


def get_exercise(name: str) -> Exercise:
    """Return the registered exercise called ``name`` (e.g. ``"ch04.rnn_backward"``).

    Parameters
    ----------
    name : str
        ``"chapter.function"``; the chapter's checkers are imported on demand.

    Raises
    ------
    TypeError
        ``name`` is not a str.
    ValueError
        ``name`` is not ``"chapter.function"``, or no exercise has that name; the message
        gives the closest registered name and every exercise of that chapter.
    """
    _check_name(name)
    chapter = name.split(".", 1)[0]
    _load_chapter(chapter)
    if name not in _REGISTRY:
        close = difflib.get_close_matches(name, list(_REGISTRY), n=1)
        known = ", ".join(sorted(n for n in _REGISTRY if n.startswith(chapter + "."))) or "none"
        hint = f"did you mean {close[0]!r}? " if close else ""
        raise ValueError(f"no exercise called {name!r}; {hint}chapter {chapter} has: {known}")
    return _REGISTRY[name]


def _book_order(ex: Exercise) -> tuple:
    chapter = ex.chapter
    return CHAPTER_MODULES.index(chapter) if chapter in CHAPTER_MODULES else len(CHAPTER_MODULES), chapter


def chapter_exercises(chapter: str) -> list[Exercise]:
    """Every registered exercise of one chapter (``"ch04"``), in the order they were registered.

    Parameters
    ----------
    chapter : str
        The chapter's prefix, e.g. ``"ch04"``; a book chapter's checkers are imported on demand.
    """
    _load_chapter(chapter)
    return [e for e in _REGISTRY.values() if e.chapter == chapter]


def all_exercises() -> list[Exercise]:
    """Every registered exercise of every chapter, in book order (then in the order registered)."""
    for chapter in CHAPTER_MODULES:
        _load_chapter(chapter)
    return sorted(_REGISTRY.values(), key=_book_order)


def load_checkers(module: str) -> None:
    """Import a module of checkers so that its exercises are registered.

    Parameters
    ----------
    module : str
        A dotted module name (``"my_course.exercises"``) or the path of a Python file
        (``"extra_exercises.py"``) whose checkers use the :func:`exercise` decorator.
    """
    path = Path(module)
    if path.suffix != ".py":
        importlib.import_module(module)
        return
    if not path.is_file():
        raise FileNotFoundError(f"no checker file {module!r}: give the path of a .py file or a module name")
    name = f"rnncourse_checkers_{path.stem}"
    loaded = sys.modules.get(name)
    if loaded is not None and getattr(loaded, "__file__", None) == str(path.resolve()):
        return
    spec = importlib.util.spec_from_file_location(name, path.resolve())
    mod = importlib.util.module_from_spec(spec)
    sys.modules[name] = mod
    spec.loader.exec_module(mod)
