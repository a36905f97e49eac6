"""The checker framework: call the student's function, then turn a wrong answer into a precise message.

Every chapter's checkers (``rnncourse.exercises.ch01`` ... ``ch09``) use these helpers:

- :func:`call_unchanged` calls the student's function on copies of the checker's
  arrays and fails, naming the argument, if the function wrote into one of them
  (also into an array inside a tuple, a cache or a dict argument);
  :func:`call_student` is the bare call, for an exercise whose function *should*
  work in place (gradient clipping). Both hand the checker the answer rebuilt from
  plain types: a torch tensor becomes a NumPy array, and a subclass of ``ndarray``,
  ``int``, ``float``, ``tuple``, ``list`` or ``dict`` becomes its base type, so a
  comparison that the answer overrides cannot decide the check;
- each ``expect_*`` helper raises :class:`~rnncourse.exercises.registry.ExerciseFailure`
  naming what was compared, what was expected and what came, so a student knows what
  to fix: a wrong type or shape, NaN produced, which entries differ and by how much,
  which gradient is wrong;
- :func:`name_mistake` names the usual mistake that a wrong answer reproduces, from the
  checker's list of mistakes, each computed on the case at hand with the message that explains it;
- :func:`case_sizes`, :func:`random_array` and :func:`in_case` build the random and
  edge cases a checker runs and say which case failed.

A checker module reads (the instructor guide's example is such a module, and a test runs it)::

    from rnncourse.exercises.feedback import call_unchanged, case_sizes, expect_close, in_case, random_array
    from rnncourse.exercises.registry import exercise

    @exercise("ch03.rnn_forward", points=2)
    def check_rnn_forward(fn):
        \"\"\"Write rnn_forward(x, h0, W_xh, W_hh, b_h) -> hs.\"\"\"
        rng = np.random.default_rng(0)
        for sizes in case_sizes(seed=0, letters="TBDH"):
            with in_case(sizes):
                T, B, D, H = sizes["T"], sizes["B"], sizes["D"], sizes["H"]
                args = (random_array(rng, (T, B, D)), random_array(rng, (B, H)), ...)
                hs = call_unchanged(fn, args, ("x", "h0", ...), "rnn_forward")
                expect_close(hs, reference, "the hidden states hs")
"""

from __future__ import annotations

import copy
import inspect
import warnings
from contextlib import contextmanager

import numpy as np

from rnncourse.numpy.gradcheck import grad_check, numerical_gradient

from .registry import ExerciseFailure

__all__ = [
    "call_student", "call_unchanged", "call_padded", "expect_tuple", "expect_array", "expect_close", "name_mistake",
    "expect_number", "expect_scalar", "expect_keys", "expect_grads_close", "expect_grad_check", "case_sizes",
    "describe_case", "in_case", "random_array",
]


def call_student(fn, *args, what: str = "your function", **kwargs):
    """Call the student's function on exactly these arguments; turn an exception into a failure that quotes it.

    Most checkers want :func:`call_unchanged`; this bare call is for a function that
    is meant to change its arguments in place.

    Parameters
    ----------
    fn : callable
        The student's function.
    *args
        Positional arguments for ``fn``.
    what : str
        How the feedback names the function, e.g. ``"rnn_backward"``.
    **kwargs
        Keyword arguments for ``fn``.

    Returns
    -------
    object
        What ``fn`` returned, rebuilt from plain types: NumPy arrays for tensors, built-in
        types for their subclasses.

    Notes
    -----
    A shape error of NumPy's ``@`` (a ``ValueError`` whose message starts with ``"matmul:"``)
    names no array of the exercise, so the failure adds the shapes of the arrays passed, named by
    ``fn``'s parameters, and how a weight multiplies rows of examples.
    """
    return _call(fn, args, kwargs, what)


def _call(fn, args, kwargs, what: str, names=None):
    """Call ``fn(*args, **kwargs)``, turning an exception into a failure; ``names`` name ``args`` in it (else the
    parameters of ``fn`` do)."""
    try:
        out = fn(*args, **kwargs)
    except NotImplementedError:
        raise ExerciseFailure(f"{what} is not implemented yet (it raised NotImplementedError)") from None
    except (Exception, SystemExit) as err:  # the student's code may raise anything
        hint = ""
        # By name: in grading, the sandbox's ValueError comes back as a RemoteError of that name.
        if type(err).__name__ == "ValueError" and str(err).startswith("matmul:"):
            hint = _matmul_hint(fn, args, kwargs, names)
        raise ExerciseFailure(f"{what} raised {type(err).__name__}: {err}{hint}") from None
    return _plain(out, what)


#: How a weight multiplies in the book's convention, for a shape error of ``@``.
_TRANSPOSE_RULE = ("with the examples as rows, a weight W of shape (out, in) multiplies x of shape (B, in) as x @ W.T, "
                   "of shape (B, out), and a gradient d of shape (B, out) goes back as d @ W")


def _matmul_hint(fn, args, kwargs, names=None) -> str:
    """The shapes of the arrays among the arguments (also inside tuples, caches and dicts), and how a weight multiplies.

    The positional arguments are named by ``names`` or else by ``fn``'s parameters, the keyword arguments by their
    keywords.
    """
    if names is None:
        try:
            params = [p.name for p in inspect.signature(fn).parameters.values()
                      if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
        except (TypeError, ValueError):         # a builtin or another callable without a signature
            params = []
        names = [params[i] if i < len(params) else f"argument {i + 1}" for i in range(len(args))]
    shapes = [f"{path} {shape}" for name, value in [*zip(names, args), *kwargs.items()]
              for path, shape in _array_shapes(value, str(name))]
    listed = f"the arrays passed have shapes {', '.join(shapes)}; " if shapes else ""
    return f"; {listed}{_TRANSPOSE_RULE}"


def _array_shapes(value, name: str, _depth: int = 0):
    """``(path, shape)`` of each array in ``value``, found inside tuples (by field name in a named tuple), lists and
    dicts as :func:`_changed` finds them."""
    if _is_array(value):
        yield name, tuple(int(n) for n in value.shape)
    elif isinstance(value, (tuple, list)) and _depth < 8:
        fields = getattr(value, "_fields", None)
        parts = (f"{name}.{field}" for field in fields) if fields else (f"{name}[{i}]" for i in range(len(value)))
        for item, part in zip(value, parts):
            yield from _array_shapes(item, part, _depth + 1)
    elif isinstance(value, dict) and _depth < 8:
        for key, item in value.items():
            yield from _array_shapes(item, f"{name}[{key!r}]", _depth + 1)


def _plain(value, what: str = "your function", _depth: int = 0):
    """``value`` rebuilt from plain types, so that only real values reach a comparison.

    A torch tensor becomes a detached NumPy array; an ndarray of any subclass becomes a copy
    of type ``numpy.ndarray``; a subclass of ``int``, ``float``, ``complex`` or ``str`` becomes
    the built-in type, a NumPy scalar the plain NumPy scalar; tuples (named ones too), lists
    and dicts are rebuilt item by item. Anything else comes back as it is. Only the base
    types' own methods are called, never what a subclass overrides (``__eq__``, ``__int__``).
    """
    if type(value) in (bool, int, float, complex, str, type(None)) or _depth > 8:   # > 8: a list holding itself
        return value
    if _is_array(value) and not isinstance(value, np.ndarray):
        value = _numpy(value, what)
    if isinstance(value, np.ndarray):
        return np.array(value, copy=True, subok=False)
    if isinstance(value, np.generic):
        return np.asarray(value)[()]
    for base in (int, float, complex, str):
        if isinstance(value, base):
            return getattr(base, f"__{base.__name__}__")(value)          # int.__int__ ignores an override
    if isinstance(value, tuple):
        return tuple(_plain(v, what, _depth + 1) for v in tuple.__iter__(value))
    if isinstance(value, list):
        return [_plain(v, what, _depth + 1) for v in list.__iter__(value)]
    if isinstance(value, dict):
        return {_plain(k, what, _depth + 1): _plain(v, what, _depth + 1) for k, v in dict.items(value)}
    return value


def call_unchanged(fn, args, names, what: str = "your function", **kwargs):
    """Call the student's function on copies of ``args``; fail if it wrote into one of its array arguments.

    The checker's own arrays are never handed over, so a function that writes into
    its inputs cannot change what the checker compares with afterwards; and since
    the book's functions compute new arrays, such a function fails with the name of
    the argument it changed.

    Parameters
    ----------
    fn : callable
        The student's function.
    args : sequence
        Its positional arguments; each is deep-copied before the call, and the
        NumPy arrays and torch tensors among them, also those inside tuples (named
        ones: caches), lists and dicts, are compared afterwards.
    names : sequence of str
        The arguments' names, one per argument, for the message (``("x_t", "h_prev", "W_xh", ...)``);
        an array inside one is named by its path: ``cache.rnn.hs``, ``dstate[0]``.
    what : str
        How the feedback names the function.
    **kwargs
        Keyword arguments for ``fn`` (deep-copied too; numbers and flags, usually).

    Returns
    -------
    object
        What ``fn`` returned, rebuilt from plain types (as by :func:`call_student`).

    Examples
    --------
    >>> def clobber(a):
    ...     a[:] = 0
    >>> call_unchanged(clobber, (np.ones(2),), ("h_prev",), "step")      # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    rnncourse.exercises.registry.ExerciseFailure: step changed its argument h_prev in place; compute new ...
    """
    args, names = tuple(args), tuple(names)
    if len(names) != len(args):
        raise ValueError(f"call_unchanged needs one name per argument: {len(args)} arguments, but names has "
                         f"{len(names)} ({', '.join(map(str, names))})")
    copies = copy.deepcopy(args)
    out = _call(fn, copies, copy.deepcopy(kwargs), what, names)
    for mine, original, name in zip(copies, args, names):
        changed = _changed(mine, original, name)
        if changed is not None:
            raise ExerciseFailure(f"{what} changed its argument {changed} in place; compute new arrays instead")
    return out


#: The reason :func:`call_padded` adds to NumPy's IndexError when ``hs[lengths]`` reads one step past the end.
_ONE_STEP_LATE = "a sequence of length L ends at hs[L - 1]; hs[L] is one step too late"


def call_padded(fn, args, names, what: str, *, T: int):
    """Call the student's function on a padded batch as :func:`call_unchanged` does; say why an index is one step late.

    A function that picks each sequence's last state as ``hs[lengths]``, not ``hs[lengths - 1]``,
    reads ``hs[T]`` for a sequence of the full length ``T``, and NumPy raises only
    ``IndexError: index T is out of bounds for axis 0 with size T``. That failure gets the reason
    added; any other failure is raised as :func:`call_unchanged` words it.

    Parameters
    ----------
    fn : callable
        The student's function.
    args : sequence
        Its positional arguments (copied, as by :func:`call_unchanged`).
    names : sequence of str
        The arguments' names, one per argument.
    what : str
        How the feedback names the function.
    T : int
        The number of time steps of the batch, the length of ``hs``.

    Returns
    -------
    object
        What ``fn`` returned, as :func:`call_unchanged` returns it.

    Examples
    --------
    >>> hs, lengths = np.zeros((3, 2, 4)), np.array([3, 1])
    >>> call_padded(lambda hs, lengths: hs[lengths, [0, 1]], (hs, lengths), ("hs", "lengths"), "f", T=3)
    Traceback (most recent call last):
    ...
    rnncourse.exercises.registry.ExerciseFailure: f raised IndexError: index 3 ...; hs[L] is one step too late
    """
    try:
        return call_unchanged(fn, args, names, what)
    except ExerciseFailure as failure:
        if not str(failure).startswith(f"{what} raised IndexError: index {T} is out of bounds for axis 0 with "
                                       f"size {T}"):
            raise
        raise ExerciseFailure(f"{failure}; {_ONE_STEP_LATE}") from None


def _changed(mine, original, name: str):
    """The path of the first array in ``original`` that its copy ``mine`` no longer equals, or None.

    Arrays are found inside tuples (by field name in a named tuple: ``cache.rnn.hs``), lists
    and dicts; a list or dict whose items were added or removed counts as changed itself.
    """
    if _is_array(original):
        same = (_is_array(mine) and tuple(mine.shape) == tuple(original.shape)
                and np.array_equal(_numpy(mine), _numpy(original), equal_nan=True))
        return None if same else name
    if isinstance(original, (tuple, list)):
        if len(mine) != len(original):
            return name
        fields = getattr(original, "_fields", None)
        parts = (f"{name}.{field}" for field in fields) if fields else (f"{name}[{i}]" for i in range(len(original)))
        return next((c for m, o, part in zip(mine, original, parts) if (c := _changed(m, o, part))), None)
    if isinstance(original, dict):
        if mine.keys() != original.keys():
            return name
        return next((c for key in original if (c := _changed(mine[key], original[key], f"{name}[{key!r}]"))), None)
    return None


def _is_array(a) -> bool:
    return isinstance(a, np.ndarray) or hasattr(a, "detach")        # a NumPy array or a torch.Tensor


def _numpy(a, what: str = "your function") -> np.ndarray:
    """A torch tensor (anything with ``detach``) as a NumPy array, requires_grad and the GPU included; else ``a``."""
    if not hasattr(a, "detach"):
        return a
    try:
        return np.asarray(a.detach().cpu().numpy())
    except Exception:                                     # e.g. bfloat16, which NumPy has no dtype for
        raise ExerciseFailure(f"{what} returned a {type(a).__name__} of dtype {getattr(a, 'dtype', None)}, which "
                              f"NumPy cannot hold; return float32 or float64") from None


def expect_tuple(actual, names, what: str) -> tuple:
    """Check that ``actual`` is a tuple of ``len(names)`` items (e.g. ``(h_t, c_t)``) and return it.

    Parameters
    ----------
    actual : object
        The student's result.
    names : sequence of str
        The names of the items it should hold, in order, for the message.
    what : str
        How the feedback names the function that returned it.

    Examples
    --------
    >>> expect_tuple([1, 2], ("h_t", "c_t"), "lstm_step")          # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    rnncourse.exercises.registry.ExerciseFailure: lstm_step should return a tuple (h_t, c_t), but returned list ...
    """
    if not isinstance(actual, tuple) or len(actual) != len(names):
        size = f" of length {len(actual)}" if isinstance(actual, (tuple, list)) else ""
        raise ExerciseFailure(f"{what} should return a tuple ({', '.join(names)}), but returned "
                              f"{type(actual).__name__}{size}")
    return actual


def expect_array(actual, shape, what: str, *, dtype=None) -> np.ndarray:
    """Check that ``actual`` is a finite array of ``shape`` holding real numbers; return it as a plain NumPy array.

    A :class:`torch.Tensor` (also one that requires grad) is accepted and converted; an ndarray
    subclass is returned as a copy of type ``numpy.ndarray``. Integers and floats are real
    numbers; booleans (the result of a comparison) and complex numbers are not.

    Parameters
    ----------
    actual : object
        The student's result.
    shape : tuple of int
        The shape it should have.
    what : str
        How the feedback names it.
    dtype : numpy dtype, optional
        The dtype it should have, for a function that keeps its inputs' dtype (float32 in,
        float32 out); ``None`` accepts any integer or float dtype.
    """
    actual = _plain(actual, what)
    if not isinstance(actual, np.ndarray):
        hint = f" of length {len(actual)}" if isinstance(actual, (tuple, list)) else ""
        raise ExerciseFailure(f"{what} should be a numpy.ndarray of shape {tuple(shape)}, but is "
                              f"{type(actual).__name__}{hint}")
    if tuple(actual.shape) != tuple(shape):
        raise ExerciseFailure(f"{what} should have shape {tuple(shape)}, but has shape {tuple(actual.shape)}")
    if actual.dtype.kind not in "iuf":
        hint = " (true/false values, as a comparison gives)" if actual.dtype == bool else ""
        raise ExerciseFailure(f"{what} should hold real numbers (integers or floats), but has dtype "
                              f"{actual.dtype}{hint}")
    if dtype is not None and actual.dtype != np.dtype(dtype):
        raise ExerciseFailure(_dtype_message(what, actual.dtype, np.dtype(dtype)))
    finite = np.isfinite(actual)
    if not finite.all():
        first = tuple(int(i) for i in np.argwhere(~finite)[0])
        raise ExerciseFailure(f"{what} contains NaN or infinity ({int((~finite).sum())} of {actual.size} "
                              f"entries, the first at index {first}: {actual[first]})")
    return actual


def expect_close(actual, expected, what: str, *, rtol: float = 1e-6, atol: float = 1e-8, dtype=None) -> None:
    """Check values against the reference and report the worst entries that differ.

    ``actual`` is first checked by :func:`expect_array` (with ``dtype``, when given).

    Parameters
    ----------
    actual : object
        The student's result.
    expected : array_like
        The reference values; ``actual`` should have their shape.
    what : str
        How the feedback names the result.
    rtol, atol : float
        Tolerances of ``numpy.isclose``.
    dtype : numpy dtype, optional
        The dtype ``actual`` should have (see :func:`expect_array`). ``None`` accepts any real dtype
        but a float dtype less precise than ``expected``'s (float32 where the reference is float64):
        that fails naming the dtype, also where the values are within the tolerances.
    """
    expected = np.asarray(expected)
    actual = expect_array(actual, expected.shape, what, dtype=dtype)
    bad = ~np.isclose(actual, expected, rtol=rtol, atol=atol)
    differ = (f"{int(bad.sum())} of {actual.size} entries differ from the reference; "
              f"{_worst_entry(np.where(bad, actual, expected), expected)}") if bad.any() else ""
    if dtype is None and _less_precise(actual.dtype, expected.dtype):   # e.g. torch's default float32; close or not
        detail = f" (in {actual.dtype}, {differ})" if differ else ""
        raise ExerciseFailure(f"{_dtype_message(what, actual.dtype, expected.dtype)}{detail}")
    if differ:
        raise ExerciseFailure(f"{what}: {differ}")


def name_mistake(actual, expected, mistakes, what: str, *, rtol: float, atol: float) -> None:
    """Fail, naming the mistake, if ``actual`` is what one of the usual mistakes gives and not the right answer.

    Each mistake is named only where it explains the answer: the answer equals its result
    (``numpy.allclose`` at ``rtol`` and ``atol``), but not ``expected``, and the mistake gives
    other numbers than the right answer on this case. An answer that is no array or number
    of ``expected``'s shape holding real numbers names nothing; the ``expect_*`` check that
    follows says what is wrong with it.

    Parameters
    ----------
    actual : object
        The student's result.
    expected : array_like
        The right answer.
    mistakes : iterable of (array_like, str)
        Pairs ``(wrong, message)``: what a usual mistake gives on this case, and the words that
        name it, tried in order; the first that matches is named.
    what : str
        How the feedback names the result: the failure reads ``"{what}: {message}"``, or just
        the message where ``what`` is empty (inside :func:`in_case`, which names the case).
    rtol, atol : float
        Tolerances of ``numpy.allclose``.

    Examples
    --------
    >>> x = np.array([1.0, 2.0, 6.0])
    >>> mistakes = [(x.sum(), "you summed x; divide by its length")]
    >>> name_mistake(3.0, x.mean(), mistakes, "the mean", rtol=1e-9, atol=1e-12)       # right: nothing to name
    >>> name_mistake(9.0, x.mean(), mistakes, "the mean", rtol=1e-9, atol=1e-12)
    Traceback (most recent call last):
    ...
    rnncourse.exercises.registry.ExerciseFailure: the mean: you summed x; divide by its length
    """
    expected = np.asarray(expected)
    if isinstance(actual, bool) or not isinstance(actual, (np.ndarray, np.number, int, float)):
        return
    actual = np.asarray(actual)
    if (actual.shape != expected.shape or actual.dtype.kind not in "iuf"
            or np.allclose(actual, expected, rtol=rtol, atol=atol)):
        return
    for wrong, message in mistakes:
        wrong = np.asarray(wrong)
        if (wrong.shape == expected.shape and not np.allclose(wrong, expected, rtol=rtol, atol=atol)
                and np.allclose(actual, wrong, rtol=rtol, atol=atol)):
            raise ExerciseFailure(f"{what}: {message}" if what else message)


def _worst_entry(actual, expected, label: str = "expected") -> str:
    """The entry where ``actual`` is furthest from ``expected``, in words, with enough digits to tell the two apart.

    Examples
    --------
    >>> _worst_entry(np.array([1.0, 2.0 + 1e-9]), np.array([1.0, 2.0]))
    'the largest difference is 1e-09 at index (1,) (yours 2.000000001, expected 2)'
    """
    actual, expected = np.asarray(actual, dtype=float), np.asarray(expected, dtype=float)
    err = np.abs(actual - expected)
    worst = tuple(int(i) for i in np.unravel_index(np.argmax(err), err.shape))
    mine, theirs = _two_numbers(actual[worst], expected[worst])
    return f"the largest difference is {err[worst]:.3g} at index {worst} (yours {mine}, {label} {theirs})"


def _two_numbers(mine: float, expected: float) -> tuple:
    """Both numbers with 6 significant digits, or with as many more as it takes to show that they differ."""
    for digits in (6, 10, 17):
        shown = f"{mine:.{digits}g}", f"{expected:.{digits}g}"
        if shown[0] != shown[1]:
            break
    return shown


def _less_precise(actual, expected) -> bool:
    """Whether a float result of dtype ``actual`` has fewer digits than the float reference (float32 vs float64)."""
    actual, expected = np.dtype(actual), np.dtype(expected)
    return actual.kind == expected.kind == "f" and actual.itemsize < expected.itemsize


def _dtype_message(what: str, actual, expected) -> str:
    return (f"{what} should have dtype {expected}, the dtype of the inputs, but has dtype {actual}; compute in "
            f"the inputs' dtype")


def expect_number(actual, what: str) -> float:
    """Check that ``actual`` is one real number and return it as a float (NaN and infinity included).

    Python numbers, NumPy scalars and 0-d arrays or tensors are accepted; a bool, a complex
    number, a string or an array of more than one entry is not.

    Parameters
    ----------
    actual : object
        The student's result.
    what : str
        How the feedback names it.

    Examples
    --------
    >>> expect_number("5.0", "the total norm")          # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    rnncourse.exercises.registry.ExerciseFailure: the total norm should be a single number, but is str '5.0'
    """
    actual = _plain(actual, what)
    if isinstance(actual, np.ndarray) and actual.shape == ():
        actual = actual[()]
    if isinstance(actual, (bool, np.bool_)) or not isinstance(actual, (int, float, np.integer, np.floating)):
        shape = f" of shape {actual.shape}" if isinstance(actual, np.ndarray) else ""
        shown = f" {actual!r}" if isinstance(actual, (str, bool, np.bool_, complex, np.complexfloating)) else ""
        raise ExerciseFailure(f"{what} should be a single number, but is {type(actual).__name__}{shape}{shown}")
    return float(actual)


def expect_scalar(actual, expected: float, what: str, *, rtol: float = 1e-6, atol: float = 1e-8) -> float:
    """Check that ``actual`` is one finite number close to ``expected``; return it as a float.

    Python numbers, NumPy scalars and 0-d arrays or tensors are accepted (see :func:`expect_number`).

    Parameters
    ----------
    actual : object
        The student's result.
    expected : float
        The reference value.
    what : str
        How the feedback names the number.
    rtol, atol : float
        Tolerances of ``numpy.isclose``.
    """
    actual = _plain(actual, what)
    value = expect_number(actual, what)
    if not np.isfinite(value):
        raise ExerciseFailure(f"{what} is {value}, but should be a finite number (expected {expected:.6g})")
    if not np.isclose(value, expected, rtol=rtol, atol=atol):
        mine, theirs = _two_numbers(value, expected)
        dtype = getattr(actual, "dtype", None)                  # a NumPy scalar or a 0-d array, e.g. from a tensor
        if dtype is not None and _less_precise(dtype, np.float64):
            raise ExerciseFailure(f"{_dtype_message(what, dtype, np.dtype(np.float64))} (in {dtype}, yours is "
                                  f"{mine}, expected {theirs})")
        raise ExerciseFailure(f"{what} is {mine}, but should be {theirs} (difference {abs(value - expected):.3g})")
    return value


def expect_keys(actual, keys, what: str) -> None:
    """Check that ``actual`` is a dict with exactly the given keys.

    Parameters
    ----------
    actual : object
        The student's result.
    keys : iterable of str
        The keys it should have, no more and no fewer.
    what : str
        How the feedback names the dict.
    """
    if not isinstance(actual, dict):
        raise ExerciseFailure(f"{what} should be a dict with keys {sorted(keys)}, but is {type(actual).__name__}")
    if set(actual) != set(keys):
        missing, extra = sorted(set(keys) - set(actual)), sorted(set(actual) - set(keys))
        detail = "; ".join(part for part in (f"missing {missing}" if missing else "",
                                              f"unexpected {extra}" if extra else "") if part)
        raise ExerciseFailure(f"{what} should have keys {sorted(keys)}, but has {sorted(actual)} ({detail})")


def expect_grads_close(actual, expected: dict, what: str = "your gradients", *,
                       rtol: float = 1e-6, atol: float = 1e-8) -> None:
    """Compare gradients with the reference and name every parameter whose gradient is wrong.

    Parameters
    ----------
    actual : dict or tuple
        The student's gradients: a dict with the keys of ``expected``, or a tuple or
        list in the order of ``expected``'s keys.
    expected : dict
        Reference gradients by name, e.g. ``{"W_xh": ..., "W_hh": ..., "b_h": ...}``.
    what : str
        How the feedback names the gradients.
    rtol, atol : float
        Tolerances of ``numpy.isclose``.
    """
    names = list(expected)
    if isinstance(actual, (tuple, list)):
        if len(actual) != len(names):
            raise ExerciseFailure(f"{what} should be {len(names)} arrays ({', '.join(names)}), "
                                  f"but {len(actual)} came back")
        actual = dict(zip(names, actual))
    expect_keys(actual, names, what)
    wrong = []
    for name in names:
        try:
            expect_close(actual[name], expected[name], f"{what}[{name!r}]", rtol=rtol, atol=atol)
        except ExerciseFailure as failure:
            wrong.append((name, str(failure)))
    if wrong:
        listed = ", ".join(name for name, _ in wrong)
        raise ExerciseFailure(f"{what} are wrong for {listed}: " + "; ".join(msg for _, msg in wrong))


def expect_grad_check(loss, params: dict, grads: dict, what: str = "your gradients", *,
                      tol: float = 1e-6, eps: float = 1e-6, explain=None) -> None:
    """Compare analytic gradients with centred finite differences and name the parameters that fail.

    A parameter whose gradients, the student's and the finite differences', are both below the
    resolution of the centred difference (``grad_check``'s ``inf``) never passes: the failure says
    it could not be verified, not that it is wrong. A checker's case should keep its gradients
    above that resolution (a loss of order 1, few steps).

    Parameters
    ----------
    loss : callable
        ``loss() -> float``, computed from the current contents of ``params``
        (float64 arrays, nudged in place and restored).
    params : dict
        Arrays by name; only these are checked.
    grads : dict
        The student's gradients, keyed like ``params`` (``"W_hh"``) or with a ``d``
        in front (``"dW_hh"``).
    what : str
        How the feedback names the gradients.
    tol : float
        Largest relative error accepted (``rel_error`` of ``rnncourse.numpy.gradcheck``).
    eps : float
        Finite-difference step.
    explain : callable, optional
        ``explain(name, grad) -> str or None``: a hint for a failing gradient (e.g. the usual
        mistake that gives exactly these numbers), added to the message. Without a hint the
        message shows the worst entry of the worst gradient, yours against finite differences.
    """
    if not isinstance(grads, dict):
        raise ExerciseFailure(f"{what} should be a dict of arrays by name, but is {type(grads).__name__}")
    analytic = {}
    for name, p in params.items():
        key = name if name in grads else f"d{name}"
        if key not in grads:
            raise ExerciseFailure(f"{what} has no gradient for {name} (keys: {sorted(grads)})")
        analytic[name] = expect_array(grads[key], p.shape, f"{what}[{key!r}]")
    with warnings.catch_warnings():         # its inf is reported below, in the checker's words
        warnings.filterwarnings("ignore", message="grad_check cannot verify", category=RuntimeWarning)
        errors = grad_check(loss, params, analytic, eps)
    unresolved = [name for name, err in errors.items() if np.isinf(err)]   # a relative error is at most 1
    failing = {name: err for name, err in errors.items() if not np.isinf(err) and not err <= tol}
    if unresolved and not failing:          # inf: never a pass, and not a verdict on the gradient either
        raise ExerciseFailure(f"gradient check could not verify {', '.join(unresolved)}: {what} and the finite "
                              f"differences are both too small there for finite differences to resolve (a smaller "
                              f"slope changes the loss by less than its rounding), so this check cannot tell whether "
                              f"they are right or wrong")
    if failing:
        listed = ", ".join(f"{name} (relative error {err:.2g})" for name, err in failing.items())
        hints = [h for h in (explain(name, analytic[name]) for name in failing) if h] if explain else []
        if not hints:                       # no named mistake: show the numbers of the worst gradient instead
            name = max(failing, key=lambda n: errors[n] if np.isfinite(errors[n]) else np.inf)
            numerical = numerical_gradient(loss, {name: params[name]}, eps)[name]
            hints = [f"in {name}, {_worst_entry(analytic[name], numerical, 'finite differences')}"]
        hint = f"; {hints[0]}"
        raise ExerciseFailure(f"gradient check fails on {listed}: {what} disagree with finite differences "
                              f"(a correct gradient gives a relative error below {tol:g}){hint}")


def case_sizes(seed: int = 0, letters: str = "TBDH", n_random: int = 3, high: int = 6) -> list:
    """Sizes for a checker's cases: edge cases first (T=1, B=1 where present), then random sizes.

    Parameters
    ----------
    seed : int
        Seed of the random sizes.
    letters : str
        The dimension letters to size, e.g. ``"TBDH"`` or ``"BDH"``.
    n_random : int
        How many random cases follow the edge cases.
    high : int
        Largest size drawn.

    Returns
    -------
    list
        One dict per case, ``{"T": 1, "B": 3, "D": 2, "H": 4}``.
    """
    rng = np.random.default_rng(seed)

    def draw(**fixed):
        return {k: fixed.get(k, int(rng.integers(2, high + 1))) for k in letters}

    edges = [draw(**{edge: 1}) for edge in "TB" if edge in letters]
    return edges + [draw() for _ in range(n_random)]


def describe_case(sizes) -> str:
    """``{"T": 1, "B": 3}`` -> ``"T=1, B=3"``; a string is returned as it is.

    Parameters
    ----------
    sizes : dict or str
        A case from :func:`case_sizes` (any dict of names and values), or a case already in words.
    """
    return sizes if isinstance(sizes, str) else ", ".join(f"{k}={v}" for k, v in sizes.items())


@contextmanager
def in_case(sizes):
    """Prefix any failure raised inside the block with the case it happened in.

    ``with in_case({"T": 1, "B": 3}): ...`` turns ``"H: 2 of 6 entries differ"``
    into ``"in the case T=1, B=3: H: 2 of 6 entries differ"``.

    Parameters
    ----------
    sizes : dict or str
        The case, as :func:`describe_case` words it.
    """
    try:
        yield
    except ExerciseFailure as failure:
        raise ExerciseFailure(f"in the case {describe_case(sizes)}: {failure}") from None


def random_array(rng: np.random.Generator, shape, scale: float = 1.0) -> np.ndarray:
    """A float64 array of ``shape`` with entries drawn from N(0, scale**2).

    Parameters
    ----------
    rng : numpy.random.Generator
        The source of the entries.
    shape : int or tuple of int
        The array's shape.
    scale : float
        Standard deviation of the entries.
    """
    return scale * rng.standard_normal(shape)
