"""Small comparisons that checkers use to turn a wrong answer into a precise message.

Each helper raises :class:`~rnncourse.exercises.registry.ExerciseFailure` naming
what was compared, what was expected and what came, so a student knows what to
fix: a wrong type or shape, NaN produced, or which entries differ and by how much.
"""

from __future__ import annotations

import numpy as np

from .registry import ExerciseFailure

__all__ = ["call_student", "expect_array", "expect_close", "expect_keys"]


def call_student(fn, *args, what: str = "your function", **kwargs):
    """Call the student's function; turn an exception into a failure that quotes it."""
    try:
        return fn(*args, **kwargs)
    except NotImplementedError:
        raise ExerciseFailure(f"{what} is not implemented yet (it raised NotImplementedError)") from None
    except Exception as err:  # the student's code may raise anything
        raise ExerciseFailure(f"{what} raised {type(err).__name__}: {err}") from None


def expect_array(actual, shape, what: str) -> np.ndarray:
    """Check that ``actual`` is a finite array of ``shape`` and return it as a NumPy array."""
    if hasattr(actual, "detach"):
        actual = actual.detach().cpu().numpy()
    if not isinstance(actual, np.ndarray):
        raise ExerciseFailure(f"{what} should be a numpy.ndarray, but is {type(actual).__name__}")
    if tuple(actual.shape) != tuple(shape):
        raise ExerciseFailure(f"{what} should have shape {tuple(shape)}, but has shape {tuple(actual.shape)}")
    if not np.isfinite(actual).all():
        raise ExerciseFailure(f"{what} contains NaN or infinity")
    return actual


def expect_close(actual, expected, what: str, *, rtol: float = 1e-6, atol: float = 1e-8) -> None:
    """Check values against the reference and report the worst entries that differ."""
    expected = np.asarray(expected)
    actual = expect_array(actual, expected.shape, what)
    bad = ~np.isclose(actual, expected, rtol=rtol, atol=atol)
    if bad.any():
        where = np.argwhere(bad)
        err = np.abs(actual - expected)
        worst = tuple(int(i) for i in np.unravel_index(np.argmax(err), err.shape))
        raise ExerciseFailure(
            f"{what}: {len(where)} of {actual.size} entries differ from the reference; the largest "
            f"difference is {err[worst]:.3g} at index {worst} (yours {actual[worst]:.6g}, expected "
            f"{expected[worst]:.6g})"
        )


def expect_keys(actual, keys, what: str) -> None:
    """Check that ``actual`` is a dict with exactly the given keys."""
    if not isinstance(actual, dict):
        raise ExerciseFailure(f"{what} should be a dict with keys {sorted(keys)}, but is {type(actual).__name__}")
    if set(actual) != set(keys):
        raise ExerciseFailure(f"{what} should have keys {sorted(keys)}, but has {sorted(actual)}")
