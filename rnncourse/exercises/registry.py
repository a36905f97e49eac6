"""The registry of graded exercises: a name, its points and the function that checks it.

A checker is a function that takes the student's function and raises
:class:`ExerciseFailure` with a specific message on the first problem it finds.
Checkers live in one module per chapter (``rnncourse.exercises.ch02`` ...) and
register themselves with the :func:`exercise` decorator when that module is
imported; :func:`get_exercise` imports the chapter module on demand.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from typing import Callable

__all__ = ["Exercise", "ExerciseFailure", "exercise", "get_exercise", "all_exercises", "CHAPTER_MODULES"]

#: Chapter modules that hold checkers, in book order.
CHAPTER_MODULES = ("ch01", "ch02", "ch03", "ch04", "ch05", "ch06", "ch07", "ch08")


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
    """

    name: str
    points: int
    checker: Callable
    description: str


_REGISTRY: dict[str, Exercise] = {}


def exercise(name: str, points: int = 1):
    """Register the decorated checker under ``name`` with ``points`` points."""

    def register(checker: Callable) -> Callable:
        summary = (checker.__doc__ or "").strip().splitlines()
        _REGISTRY[name] = Exercise(name, points, checker, summary[0] if summary else "")
        return checker

    return register


def _load_chapter(chapter: str) -> None:
    if chapter not in CHAPTER_MODULES:
        raise KeyError(f"no chapter {chapter!r}; exercise names start with one of {', '.join(CHAPTER_MODULES)}")
    try:
        importlib.import_module(f"rnncourse.exercises.{chapter}")
    except ModuleNotFoundError as err:
        if err.name != f"rnncourse.exercises.{chapter}":
            raise


def get_exercise(name: str) -> Exercise:
    """Return the registered exercise called ``name`` (e.g. ``"ch04.rnn_backward"``)."""
    if not isinstance(name, str) or "." not in name:
        raise ValueError(f"an exercise name looks like 'ch04.rnn_backward', but got {name!r}")
    _load_chapter(name.split(".", 1)[0])
    if name not in _REGISTRY:
        known = ", ".join(sorted(n for n in _REGISTRY if n.startswith(name.split(".")[0] + "."))) or "none"
        raise KeyError(f"no exercise called {name!r}; this chapter has: {known}")
    return _REGISTRY[name]


def all_exercises() -> list[Exercise]:
    """Every registered exercise of every chapter, in book order."""
    for chapter in CHAPTER_MODULES:
        _load_chapter(chapter)
    return sorted(_REGISTRY.values(), key=lambda e: (CHAPTER_MODULES.index(e.name.split(".")[0]), e.name))
