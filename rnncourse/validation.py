"""Input validation shared by every public function of :mod:`rnncourse`.

One helper per kind of check. Each raises a :class:`TypeError` (wrong type or
dtype) or a :class:`ValueError` (wrong shape or value) whose message names the
argument, what was expected, what arrived and, where there is one, how to fix
it. Shapes are described with the book's dimension letters: ``T`` time steps,
``B`` batch, ``D`` input size, ``H`` hidden size, ``O`` output size, ``V``
vocabulary size.

The helpers accept NumPy arrays and, without importing torch, PyTorch tensors,
so that :mod:`rnncourse.numpy` keeps running where torch is absent.
"""

from __future__ import annotations

import sys
from typing import Sequence

import math

import numpy as np

__all__ = [
    "check_array",
    "check_index_array",
    "check_lengths",
    "check_not_empty",
    "check_cache",
    "check_same_dtype",
    "check_match",
    "check_positive_int",
    "check_layer_sizes",
    "check_positive_float",
    "check_bool",
    "check_axis",
    "check_choice",
    "check_argument_order",
    "check_keys",
    "check_params",
    "check_rng",
    "check_float_dtype",
    "check_float_array",
    "check_writable",
    "check_dict",
    "as_float_array",
    "state_hint",
    "layer_state_hint",
]


def _is_tensor(a) -> bool:
    return type(a).__module__.startswith("torch") and hasattr(a, "shape")


def _describe_shape(symbols: Sequence[str], shape: Sequence[int | None] | None = None) -> str:
    """Write a shape in symbols and, where known, numbers: ``(B, H) = (4, 16)``.

    Examples
    --------
    >>> _describe_shape(("B", "H"), (4, None))
    '(B, H) = (4, H)'
    """
    letters = "(" + ", ".join(symbols) + ("," if len(symbols) == 1 else "") + ")"
    if shape is None or all(s is None for s in shape):
        return letters
    numbers = [str(s) if s is not None else sym for s, sym in zip(shape, symbols)]
    return f"{letters} = (" + ", ".join(numbers) + ("," if len(numbers) == 1 else "") + ")"


def _check_type(a, name: str, backend: str) -> None:
    if backend == "numpy" and not isinstance(a, np.ndarray):
        fix = ("; call .detach().cpu().numpy() on it" if _is_tensor(a) else "" if a is None else
               "; wrap it with np.asarray(...)")
        raise TypeError(f"{name} should be a numpy.ndarray, but is {type(a).__module__}.{type(a).__name__}{fix}")
    if backend == "torch" and not _is_tensor(a):
        raise TypeError(
            f"{name} should be a torch.Tensor, but is {type(a).__name__}; convert it with torch.as_tensor(...)"
        )


def _is_float(a) -> bool:
    if isinstance(a, np.ndarray):
        return a.dtype.type in (np.float32, np.float64)     # the NumPy code's two precisions
    return bool(a.is_floating_point())


def _has_values(a) -> bool:
    """Whether there are values to scan: not for an empty array, nor for a tensor on PyTorch's ``meta``
    device, which has a shape, a dtype and a device but no data (the tests use it to stand for a second device)."""
    if isinstance(a, np.ndarray):
        return a.size > 0
    return a.numel() > 0 and a.device.type != "meta"


def _all_finite(a) -> bool:
    if not _has_values(a):
        return True
    if not isinstance(a, np.ndarray):
        return bool(a.detach().isfinite().all())
    return bool(np.isfinite(a).all())


def check_array(
    a,
    name: str,
    symbols: Sequence[str],
    shape: Sequence[int | None] | None = None,
    *,
    backend: str = "numpy",
    finite: bool = True,
    hint: str = "",
):
    """Check that ``a`` is a finite floating-point array of the expected shape.

    Parameters
    ----------
    a : numpy.ndarray or torch.Tensor
        The value to check.
    name : str
        The argument's name, used in the message (``"x"``, ``"h0"``).
    symbols : sequence of str
        One dimension letter per axis, e.g. ``("T", "B", "D")``; its length is
        the expected number of dimensions.
    shape : sequence of int or None, optional
        The expected size of each axis; ``None`` accepts any size.
    backend : {"numpy", "torch"}
        Which array type is expected.
    finite : bool
        Reject NaN and infinity.
    hint : str
        Extra advice appended to a shape error (e.g. ``"x is time-major"``).

    Returns
    -------
    numpy.ndarray or torch.Tensor
        ``a`` itself, unchanged.

    Raises
    ------
    TypeError
        If ``a`` is not an array of the backend or not floating point.
    ValueError
        If the number of dimensions, a size or a value is wrong.
    """
    _check_type(a, name, backend)
    if not _is_float(a):
        if isinstance(a, np.ndarray):
            raise TypeError(f"{name} should hold floating-point numbers (float32 or float64), but has dtype "
                            f"{a.dtype}; convert it, e.g. {name}.astype(np.float64)")
        raise TypeError(f"{name} should hold floating-point numbers (a float dtype, e.g. torch.float32 or "
                        f"torch.float64), but has dtype {a.dtype}; convert it, e.g. {name}.double()")
    got = tuple(a.shape)
    extra = f"; {hint}" if hint else ""
    if len(got) != len(symbols):
        raise ValueError(
            f"{name} should have {len(symbols)} dimensions with shape {_describe_shape(symbols, shape)}, "
            f"but has {len(got)} dimensions with shape {got}{extra}"
        )
    if shape is not None:
        for axis, (want, have, sym) in enumerate(zip(shape, got, symbols)):
            if want is not None and want != have:
                raise ValueError(
                    f"{name} should have shape {_describe_shape(symbols, shape)}, but has shape {got} "
                    f"(axis {axis}, {sym}, is {have} instead of {want}){extra}"
                )
    if finite and not _all_finite(a):
        raise ValueError(f"{name} contains NaN or infinity; check the data or the step that produced it")
    return a


def _check_integers(a, name, symbols, shape, backend, what, hint=""):
    """The type, integer dtype and shape checks of :func:`check_index_array` and :func:`check_lengths`; ``hint`` is
    added to the shape error."""
    _check_type(a, name, backend)
    if isinstance(a, np.ndarray):
        is_int = a.dtype.kind in "iu"           # signed or unsigned: np.issubdtype(a.dtype, np.integer), faster
    else:
        is_int = not (a.is_floating_point() or a.is_complex() or str(a.dtype) == "torch.bool")
    if not is_int:
        fix = f"{name}.astype(np.int64)" if isinstance(a, np.ndarray) else f"{name}.long()"
        raise TypeError(f"{name} should hold {what}, but has dtype {a.dtype}; convert it with {fix}")
    got = tuple(a.shape)
    if len(got) != len(symbols) or (shape is not None and any(
            w is not None and w != h for w, h in zip(shape, got))):
        raise ValueError(f"{name} should have shape {_describe_shape(symbols, shape)}, but has shape {got}"
                         + (f"; {hint}" if hint else ""))


def _min_max(a) -> tuple:
    """``(min, max)`` of an integer array as Python ints (torch has no min or max for its uint16, uint32 and
    uint64 tensors: those are read as int64)."""
    if str(a.dtype) in ("torch.uint16", "torch.uint32", "torch.uint64"):
        a = a.long()
    return int(a.min()), int(a.max())


def check_index_array(a, name: str, symbols: Sequence[str], shape=None, *, high: int | None = None,
                      backend: str = "numpy"):
    """Check an integer array of class indices (targets, token ids) in ``[0, high)``.

    Parameters
    ----------
    a : numpy.ndarray or torch.Tensor
        Integer array.
    name, symbols, shape
        As in :func:`check_array`.
    high : int, optional
        Exclusive upper bound of the valid indices (e.g. the vocabulary size V).
    backend : {"numpy", "torch"}
        As in :func:`check_array`.

    Returns
    -------
    numpy.ndarray or torch.Tensor
        ``a`` itself.
    """
    _check_integers(a, name, symbols, shape, backend, "integer class indices")
    if _has_values(a):
        lo, hi = _min_max(a)
        if lo < 0 or (high is not None and hi >= high):
            bound = f"[0, {high})" if high is not None else "[0, inf)"
            raise ValueError(f"{name} should hold indices in {bound}, but holds values from {lo} to {hi}")
    return a


def check_lengths(lengths, T: int, B: int | None = None, *, backend: str = "numpy", source: str = "x",
                  source_ndim: int = 3, device=None):
    """Check the lengths of a padded batch: integers of shape (B,), each in ``1..T``; return ``lengths``.

    Parameters
    ----------
    lengths : numpy.ndarray or torch.Tensor of int, shape (B,)
        The length of each sequence.
    T : int
        The padded length, the largest allowed.
    B : int, optional
        The batch size ``lengths`` must have; any by default.
    backend : {"numpy", "torch"}
        Which array type is expected.
    source : str
        The name of the time-major batch ``T`` and ``B`` come from (default ``"x"``), for the advice given
        when ``lengths`` has ``T`` entries rather than ``B``: that batch is probably batch-major.
    source_ndim : int
        3 for ``x`` (T, B, D) (default), 2 for ids (T, B).
    device : torch.device or str, optional
        Where the lengths' values are used, for a tensor. Lengths on PyTorch's ``meta`` device, which
        has shapes but no values, pass only where this is ``meta`` too (the data they go with holds no
        values either); ``None`` (default) means the values are read, e.g. to pack a batch on the CPU.

    Raises
    ------
    TypeError
        If ``lengths`` is not an integer array of the backend, or is a meta tensor whose values are needed.
    ValueError
        If its shape or a length is wrong.

    Examples
    --------
    >>> check_lengths(np.array([3, 1]), T=3)
    array([3, 1])
    """
    hint = ""
    if B is not None and getattr(lengths, "ndim", None) == 1 and lengths.shape[0] == T != B:
        fix = _time_major_fix(source, source_ndim, backend == "numpy")
        hint = f"lengths has {T} entries, the size of {source}'s first axis: {fix}"
    _check_integers(lengths, "lengths", ("B",), None if B is None else (B,), backend, "integer sequence lengths",
                    hint)
    if (not isinstance(lengths, np.ndarray) and lengths.device.type == "meta"
            and getattr(device, "type", device) != "meta"):
        raise TypeError("lengths should hold values that can be read, but is on the meta device, which holds none; "
                        "pass the lengths on the CPU, e.g. torch.tensor([...])")
    if _has_values(lengths):
        lo, hi = _min_max(lengths)
        if lo < 1:
            raise ValueError(f"lengths should all be in 1..T = 1..{T} (every sequence has at least one step), but "
                             f"the smallest is {lo}; drop empty sequences from the batch")
        if hi > T:
            raise ValueError(f"lengths should all be in 1..T = 1..{T} (no sequence is longer than the padded "
                             f"batch), but the largest is {hi}")
    return lengths


def check_not_empty(a, name: str, *, hint: str = ""):
    """Check that a time-major ``a`` (T, B, ...) holds at least one time step and one sequence; return ``a``.

    Call it after the shape check.

    Parameters
    ----------
    a : numpy.ndarray or torch.Tensor, shape (T, B, ...)
        The array to check.
    name : str
        Its name in the message.
    hint : str
        Added to the message, as in :func:`check_array`.

    Examples
    --------
    >>> check_not_empty(np.zeros((0, 2, 3)), "x")
    Traceback (most recent call last):
    ValueError: x should hold at least one time step and one sequence, but has shape (0, 2, 3)
    """
    if a.shape[0] == 0 or a.shape[1] == 0:
        extra = f"; {hint}" if hint else ""
        raise ValueError(f"{name} should hold at least one time step and one sequence, but has shape "
                         f"{tuple(a.shape)}{extra}")
    return a


def _time_major_fix(source: str, source_ndim: int, numpy: bool) -> str:
    """How to make ``source``, time-major ``x`` (T, B, D), ``hs`` (T, B, H) or ``ids`` (T, B), time-major if it came
    batch-major."""
    if source_ndim == 2:
        batch_major, time_major, fix = "(B, T)", "(T, B)", f"{source}.T"
    else:
        last = "H" if source == "hs" else "D"
        batch_major, time_major = f"(B, T, {last})", f"(T, B, {last})"
        fix = f"{source}.transpose(1, 0, 2)" if numpy else f"{source}.transpose(0, 1)"
    return f"if {source} is batch-major {batch_major}, make it time-major {time_major} with {fix}"


def _batch_major_hint(name: str, axis: str, T: int, source: str, source_ndim: int, numpy: bool) -> str:
    """Advice for a state whose ``axis`` (``"first"``, ``"second"``) has the size ``T`` of ``source``'s first axis:
    ``source``, time-major ``x`` (T, B, D) or ``ids`` (T, B), was probably given batch-major."""
    fix = _time_major_fix(source, source_ndim, numpy)
    return f"{name}'s {axis} axis is {T}, the size of {source}'s first axis: {fix}"


def state_hint(h, name: str, T: int | None, B: int | None, *, backend: str = "numpy", source: str = "x",
               source_ndim: int = 3) -> str:
    """Advice for a hidden state ``h`` that should have shape (B, H): what its shape suggests went wrong.

    Called for the message of a shape error. It recognises three mistakes:

    - one axis, (H,): a batch axis is missing;
    - three axes, the first of size 1: torch.nn.RNN's state (num_layers, B, H) was passed;
    - the first axis is the input's first axis T rather than its second, B: the input is probably
      batch-major (B, T, D).

    Parameters
    ----------
    h : numpy.ndarray or torch.Tensor
        The state that failed its shape check.
    name : str
        Its name in the advice, e.g. ``"h0"``.
    T, B : int or None
        The first two axes of ``source``, the time-major input; ``T`` is None for a single step
        or when there is no input.
    backend : {"numpy", "torch"}
        Which library's code the advice shows.
    source : str
        The input's name (default ``"x"``).
    source_ndim : int
        3 for ``x`` (T, B, D) (default), 2 for ids (T, B).

    Returns
    -------
    str
        The advice; ``""`` when the shape suggests nothing.

    Examples
    --------
    >>> state_hint(np.zeros(6), "h0", 5, 3)
    'add a batch axis: h0[None, :]'
    """
    numpy = backend == "numpy"
    ndim = getattr(h, "ndim", None)
    if ndim == 1:
        return f"add a batch axis: {name}[None, :]" if numpy else f"add a batch axis with {name}.unsqueeze(0)"
    if ndim == 3 and h.shape[0] == 1:
        return (f"{name} looks like the state of torch.nn.RNN (or LSTM, GRU), which puts a num_layers axis first, "
                f"(num_layers, B, H); this layer takes one layer's state (B, H): pass {name}[0]")
    if ndim == 2 and T is not None and h.shape[0] == T != B:
        return _batch_major_hint(name, "first", T, source, source_ndim, numpy)
    return ""


def layer_state_hint(h, name: str, L: int, T: int | None, B: int, *, backend: str = "numpy", source: str = "x",
                     source_ndim: int = 3, per: str = "layer") -> str:
    """Advice for a state ``h`` that should have shape (L, B, H), one (B, H) state ``per`` layer: what its shape
    suggests went wrong.

    The stacked twin of :func:`state_hint`. It recognises two mistakes:

    - two axes, (B, H): the state of one layer came without the layer axis;
    - the second axis is the input's first axis T rather than its second, B: the input is probably batch-major.

    Parameters
    ----------
    h : numpy.ndarray or torch.Tensor
        The state that failed its shape check.
    name : str
        Its name in the advice, e.g. ``"h0"``.
    L : int
        The number of layers.
    T, B, backend, source, source_ndim
        As in :func:`state_hint`.
    per : str
        What each (B, H) state belongs to (default ``"layer"``).

    Returns
    -------
    str
        The advice; ``""`` when the shape suggests nothing.

    Examples
    --------
    >>> layer_state_hint(np.zeros((3, 6)), "h0", 1, 5, 3)
    'add a layer axis: h0[None]'
    """
    numpy = backend == "numpy"
    ndim = getattr(h, "ndim", None)
    if ndim == 2 and L == 1:
        return f"add a layer axis: {name}[None]" if numpy else f"add a layer axis with {name}.unsqueeze(0)"
    if ndim == 2:
        return (f"stack one (B, H) state per {per}, {L} in all, on a new first axis with "
                f"{'np.stack' if numpy else 'torch.stack'}([...])")
    if ndim == 3 and T is not None and h.shape[1] == T != B:
        return _batch_major_hint(name, "second", T, source, source_ndim, numpy)
    return ""


def check_cache(cache, kind, forward: str, n_plain: Sequence[int] = ()):
    """Check that ``cache`` is the ``kind`` (a NamedTuple) that ``forward`` returned, or a plain tuple of
    ``n_plain`` values; return it as a ``kind``.

    The :class:`TypeError` names what came instead: another function's cache, the whole
    ``(out, cache)`` pair, None.

    Parameters
    ----------
    cache : object
        What the caller was given as a cache.
    kind : type
        The NamedTuple class expected, e.g. :class:`rnncourse.numpy.elman.RNNCache`.
    forward : str
        The name of the forward function that returns it, for the message.
    n_plain : sequence of int
        The lengths of plain tuples accepted and turned into a ``kind``; none by default.

    Returns
    -------
    kind
        ``cache`` itself, or the plain tuple as a ``kind``.
    """
    if isinstance(cache, kind):
        return cache
    if type(cache) is tuple and len(cache) in n_plain:
        return kind(*cache)
    name = type(cache).__name__
    if cache is None:
        came = "None"
    elif type(cache) is tuple:
        came = f"a tuple of {len(cache)} values" + (f", not {' or '.join(map(str, n_plain))}" if n_plain else "")
    elif name == "ndarray":         # the states hs, say, instead of the cache
        came = "a numpy.ndarray"
    else:  # "an RNNCache", "an LSTMCache", "a GRUCache", "an int": a name read letter by letter may start with a vowel
        came = ("an " if name[0] in "AEIOUaeiou" or (name[0] in "FHLMNRSX" and name[1:2].isupper()) else "a ") + name
    raise TypeError(f"cache should be the {kind.__name__} returned by {forward}, but is {came}: pass the cache "
                    f"that {forward} returned (its second value)")


def check_dict(value, name: str, entries: str, *, item: str | None = None, fix: str = "") -> dict:
    """Check that ``value`` is a dict ``{entries}`` (and, with ``item``, holds at least one); return it.

    Parameters
    ----------
    value : object
        The value to check.
    name : str
        Its name in the message.
    entries : str
        Describes its items, e.g. ``"label: values"``.
    item : str, optional
        Names one item, for the message of an empty dict; ``None`` accepts an empty dict.
    fix : str
        Added to the message of a wrong type.

    Examples
    --------
    >>> check_dict({"rnn": [1.0]}, "curves", "label: values", item="curve")
    {'rnn': [1.0]}
    """
    if not isinstance(value, dict):
        raise TypeError(f"{name} should be a dict {{{entries}}}, but is {type(value).__name__}{fix}")
    if item is not None and not value:
        raise ValueError(f"{name} should hold at least one {item}, but is empty")
    return value


def as_float_array(values, name: str, expected: str = "an array (or a list) of numbers") -> np.ndarray:
    """``values`` (an array, a list or a tensor) as a float64 NumPy array, for code that draws or prints it.

    Raises :class:`TypeError`, naming ``name``, when ``values`` does not hold real numbers: None
    (``expected`` says what should come instead), ragged lists, text, None among the values, or
    complex numbers. NumPy alone would read ``None`` as NaN and ``"12"`` as 12.0, and keep the real
    part of a complex number alone. A tensor is detached and copied to the CPU first.

    Parameters
    ----------
    values : array_like or torch.Tensor
        Numbers.
    name : str
        Their name in the message.
    expected : str
        What should come instead of None, for the message.

    Returns
    -------
    numpy.ndarray
        float64, the shape of ``values``.

    Examples
    --------
    >>> as_float_array([1, 2], "losses")
    array([1., 2.])
    >>> as_float_array([1.0, None], "losses")     # doctest: +ELLIPSIS
    Traceback (most recent call last):
    TypeError: losses should hold numbers, but holds None at index 1 (NumPy would read it as NaN); ...
    """
    if values is None:
        raise TypeError(f"{name} should be {expected}, but is None")
    if _is_tensor(values):
        values = values.detach().cpu().numpy()
    try:
        raw = values if isinstance(values, np.ndarray) else np.asarray(values)   # its own dtype: text? None?
        # float64 would keep the real part of complex numbers alone (with a ComplexWarning at most)
        a = None if raw.dtype.kind == "c" else np.asarray(values, dtype=np.float64)
    except (TypeError, ValueError) as e:                # ragged lists, text that is no number
        raise TypeError(f"{name} should be an array (or a list) of numbers, but cannot be read as one: "
                        f"{e}") from None
    if raw.dtype.kind == "c":
        raise TypeError(f"{name} should hold real numbers, but holds complex numbers (dtype {raw.dtype}); take the "
                        f"part you mean, e.g. np.abs({name}) or {name}.real")
    if raw.dtype.kind in "US":
        raise TypeError(f"{name} should hold numbers, but holds text (dtype {raw.dtype}); "
                        f"convert it to numbers first")
    if raw.dtype.kind == "O":
        _refuse_none_and_text(raw, name)
    return a


def _refuse_none_and_text(raw: np.ndarray, name: str) -> None:
    """Raise :class:`TypeError` at the first None or str of an object array (which NumPy reads as NaN or a number)."""
    for i, v in enumerate(raw.flat):
        if v is None or isinstance(v, (str, bytes)):
            index = np.unravel_index(i, raw.shape)
            where = int(index[0]) if raw.ndim == 1 else tuple(int(k) for k in index)
            if v is None:
                raise TypeError(f"{name} should hold numbers, but holds None at index {where} (NumPy would read "
                                f"it as NaN); write a missing value as float('nan')")
            raise TypeError(f"{name} should hold numbers, but holds the text {v!r} at index {where}; "
                            f"convert it to a number first")


def check_same_dtype(**arrays) -> None:
    """Raise :class:`TypeError` unless every given array has the same dtype.

    Parameters
    ----------
    **arrays : numpy.ndarray or torch.Tensor
        The arrays, each keyed by its name in the message.

    Examples
    --------
    >>> check_same_dtype(x=np.zeros(2), h0=np.zeros(2))
    """
    dtypes = {name: a.dtype for name, a in arrays.items()}
    if len(set(dtypes.values())) > 1:
        listed = ", ".join(f"{n} is {d}" for n, d in dtypes.items())
        raise TypeError(f"all arrays should share one dtype, but {listed}; convert them to one dtype, "
                        f"e.g. .astype(np.float64)")


def _autocast_on(a) -> bool:
    """Whether ``a`` is a float16 or bfloat16 tensor made inside :func:`torch.autocast` (on for its device)."""
    if not _is_tensor(a) or str(a.dtype) not in ("torch.float16", "torch.bfloat16"):
        return False
    torch = sys.modules["torch"]                # imported, since ``a`` is a tensor
    kind = a.device.type
    try:
        return bool(torch.is_autocast_enabled(kind))
    except TypeError:                           # torch < 2.4 takes no device type
        if kind == "cpu":
            return bool(torch.is_autocast_cpu_enabled())
        return kind == "cuda" and bool(torch.is_autocast_enabled())
    except RuntimeError:                        # a device type without autocast, e.g. meta
        return False


def check_match(name: str, a, ref_name: str, ref, *, dtype: bool = True) -> None:
    """Raise :class:`TypeError` unless tensor ``a`` lives on the device of ``ref`` and has its dtype.

    Works on anything with ``.device`` and ``.dtype``, so this module still
    imports no torch. A float32 ``x`` against float64 weights raises
    ``TypeError: x has dtype torch.float32 but the model has dtype torch.float64;
    call x.to(torch.float64)``; the fix names the device or dtype itself, which
    is right however deep in the model the weights sit. With ``dtype=False``
    only the device is compared: for integer ids, targets and boolean masks,
    which go with float weights or scores. Inside :func:`torch.autocast` (mixed
    precision) a float16 or bfloat16 ``a`` is let through: there the states a
    model computes have that dtype by design, while its weights stay float32.

    Parameters
    ----------
    name : str
        The name of ``a`` in the message, e.g. ``"x"``.
    a : torch.Tensor
        The input to check.
    ref_name : str
        What ``ref`` is, e.g. ``"the model"``.
    ref : torch.Tensor
        A tensor on the right device with the right dtype, e.g. a weight.
    dtype : bool
        Compare the dtypes too (default ``True``).
    """
    if a.device != ref.device:
        raise TypeError(f"{name} is on {a.device} but {ref_name} is on {ref.device}; "
                        f"call {name}.to('{ref.device}')")
    if dtype and a.dtype != ref.dtype and not _autocast_on(a):
        raise TypeError(f"{name} has dtype {a.dtype} but {ref_name} has dtype {ref.dtype}; "
                        f"call {name}.to({ref.dtype})")


def check_positive_int(value, name: str, *, minimum: int = 1, maximum: int | None = None) -> int:
    """Check that ``value`` is an integer at least ``minimum`` (and, if given, at most ``maximum``) and return it.

    Parameters
    ----------
    value : int
        The value to check; a bool is refused.
    name : str
        Its name in the message.
    minimum : int
        The smallest allowed (default 1).
    maximum : int, optional
        The largest allowed; no bound by default.

    Returns
    -------
    int
    """
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        raise TypeError(f"{name} should be an integer, but is {type(value).__name__} {value!r}")
    if value < minimum:
        raise ValueError(f"{name} should be an integer >= {minimum}, but is {value}")
    if maximum is not None and value > maximum:
        raise ValueError(f"{name} should be an integer from {minimum} to {maximum}, but is {value}")
    return int(value)



def check_layer_sizes(x_name: str, x_shape, shapes: dict) -> None:
    """Refuse a layer of no hidden units (H = 0) or no input features (D = 0), as ``torch.nn``'s layers do.

    A NumPy forward pass with H = 0 would run and its backward pass crash inside NumPy; so the
    NumPy twins call this where they check their weights.

    Parameters
    ----------
    x_name : str
        The inputs' name (``"x"`` or ``"x_t"``).
    x_shape : tuple of int
        Their shape; its last axis is D.
    shapes : dict of str -> tuple of int
        The weights' shapes by name, ``W_hh`` first (its last axis is H), then ``W_xh`` and any
        others, named in this order in the message.
    """
    if shapes["W_hh"][1] == 0:
        weights = ", ".join(f"{n} has shape {shape}" if i == 0 else f"{n} {shape}"
                            for i, (n, shape) in enumerate(shapes.items()))
        raise ValueError(f"hidden_size H should be an integer >= 1, but is 0: {weights}; a recurrent layer needs at "
                         f"least one hidden unit")
    if x_shape[-1] == 0:
        raise ValueError(f"input_size D should be an integer >= 1, but is 0: {x_name} has shape {tuple(x_shape)} "
                         f"and W_xh {shapes['W_xh']}; each time step needs at least one input feature")


def check_positive_float(value, name: str, *, allow_zero: bool = False, below: float | None = None,
                         allow_inf: bool = False, why: str = "") -> float:
    """Check that ``value`` is a finite real number > 0 (or >= 0), and less than ``below`` if given.

    Parameters
    ----------
    value : float
        The value to check; a bool is refused.
    name : str
        Its name in the message.
    allow_zero : bool
        Accept 0 too (default ``False``).
    below : float, optional
        An exclusive upper bound; none by default.
    allow_inf : bool
        Accept +infinity too (default ``False``), as a value that means "no bound".
    why : str
        Why the bound matters, for the message.

    Returns
    -------
    float
    """
    if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)):
        raise TypeError(f"{name} should be a number, but is {type(value).__name__} {value!r}")
    value = float(value)
    if allow_inf and value == math.inf:
        return value
    ok = (value >= 0 if allow_zero else value > 0) and (below is None or value < below)
    if not (np.isfinite(value) and ok):
        bound = (">= 0" if allow_zero else "> 0") + (f" and < {below:g}" if below is not None else "")
        kind = f"number {bound} or inf" if allow_inf else f"finite number {bound}"
        why = f" ({why})" if why else ""
        raise ValueError(f"{name} should be a {kind}{why}, but is {value}")
    return value


def check_bool(value, name: str, *, choices: str = "True or False") -> bool:
    """Check that ``value`` is a bool (Python's or NumPy's) and return it as a Python bool.

    Any other value (``"no"``, ``"False"``, 0, 1.0, None) is refused rather than read as
    truthy: ``bool("False")`` is True.

    Parameters
    ----------
    value : bool
        The value to check.
    name : str
        Its name in the message.
    choices : str
        What the two values mean, for the message (default ``"True or False"``).

    Returns
    -------
    bool

    Examples
    --------
    >>> check_bool(np.bool_(True), "many_to_one")
    True
    >>> check_bool("no", "many_to_one")
    Traceback (most recent call last):
    TypeError: many_to_one should be True or False, but is str 'no'
    """
    if not isinstance(value, (bool, np.bool_)):
        raise TypeError(f"{name} should be {choices}, but is {type(value).__name__} {value!r:.60}")
    return bool(value)


def check_axis(axis, name: str, ndim: int) -> int:
    """Check that ``axis`` is an axis of an array with ``ndim`` dimensions (negative counts from the end); return it.

    Parameters
    ----------
    axis : int
        The axis to check.
    name : str
        Its name in the message.
    ndim : int
        The array's number of dimensions.

    Returns
    -------
    int

    Examples
    --------
    >>> check_axis(-1, "axis", 3)
    -1
    >>> check_axis(3, "axis", 3)
    Traceback (most recent call last):
    ValueError: axis should be an integer from -3 to 2 for an array of 3 dimensions, but is 3
    """
    if isinstance(axis, (bool, np.bool_)) or not isinstance(axis, (int, np.integer)):
        raise TypeError(f"{name} should be an integer, but is {type(axis).__name__} {axis!r}")
    if not -ndim <= axis < ndim:
        raise ValueError(f"{name} should be an integer from {-ndim} to {ndim - 1} for an array of {ndim} "
                         f"dimensions, but is {axis}")
    return int(axis)


def check_choice(value, name: str, choices: Sequence) -> None:
    """Check that ``value`` is one of ``choices``: ``TypeError`` for a value of another kind (a number where the
    choices are strings, a string where they are numbers, ``None``, a bool), ``ValueError`` for one of the right
    kind that is not among them.

    Parameters
    ----------
    value : object
        The value to check.
    name : str
        Its name in the message.
    choices : sequence
        The allowed values (strings, numbers or both), listed in the message.

    Examples
    --------
    >>> check_choice("relu", "nonlinearity", ("tanh", "relu"))
    >>> check_choice("sigmoid", "nonlinearity", ("tanh", "relu"))
    Traceback (most recent call last):
    ValueError: nonlinearity should be one of 'tanh', 'relu', but is 'sigmoid'
    >>> check_choice(None, "nonlinearity", ("tanh", "relu"))
    Traceback (most recent call last):
    TypeError: nonlinearity should be one of 'tanh', 'relu', but is NoneType None
    """
    listed = ", ".join(repr(c) for c in choices)
    number = isinstance(value, (int, float, np.integer, np.floating)) and not isinstance(value, (bool, np.bool_))
    kind_ok = ((isinstance(value, str) and any(isinstance(c, str) for c in choices))
               or (number and any(isinstance(c, (int, float)) and not isinstance(c, bool) for c in choices)))
    if not kind_ok:
        raise TypeError(f"{name} should be one of {listed}, but is {type(value).__name__} {value!r}")
    if value not in choices:
        raise ValueError(f"{name} should be one of {listed}, but is {value!r}")


def check_argument_order(params, data, data_name: str, call: str) -> None:
    """Refuse ``params`` and the data given in each other's place, with the order of ``call``.

    The package's layers and topologies take the data first, as a module's ``forward(x)``
    (``many_to_one_forward(x, params)``); its losses take ``params`` first, as the function a
    gradient check differentiates (``model_loss(params, x, targets)``). A learner who swaps them
    gets a ``TypeError`` that says so, not advice to build a ``params`` dict they already have.

    Parameters
    ----------
    params : object
        What was given as the parameter dict.
    data : object
        What was given as the data, named ``data_name``.
    data_name : str
        The data argument's name (``x``, ``inputs``).
    call : str
        The function's signature, for the message, e.g. ``"many_to_one_forward(x, params, ...)"``.

    Examples
    --------
    >>> check_argument_order({"W_xh": np.zeros((2, 3))}, np.zeros((4, 1, 3)), "x", "model_forward(params, x, ...)")
    >>> check_argument_order(np.zeros((4, 1, 3)), {"W_xh": np.zeros((2, 3))}, "x", "model_forward(params, x, ...)")
    Traceback (most recent call last):
    TypeError: params should be the dict of parameters and x the data, but params is ndarray and x is a dict: they are swapped; call model_forward(params, x, ...)
    """
    if isinstance(data, dict) and not isinstance(params, dict):
        raise TypeError(f"params should be the dict of parameters and {data_name} the data, but params is "
                        f"{type(params).__name__} and {data_name} is a dict: they are swapped; call {call}")


def check_keys(value, name: str, keys: Sequence[str], fix: str = "") -> None:
    """Check that ``value`` is a dict holding every one of ``keys``.

    Parameters
    ----------
    value : object
        The value to check.
    name : str
        Its name in the message.
    keys : sequence of str
        The keys it must hold; others may come too.
    fix : str
        How to make such a dict, for the message.
    """
    fix = f"; {fix}" if fix else ""
    if not isinstance(value, dict):
        raise TypeError(f"{name} should be a dict with the keys {', '.join(keys)}, but is {type(value).__name__}{fix}")
    missing = [k for k in keys if k not in value]
    if missing:
        raise ValueError(f"{name} should be a dict with the keys {', '.join(keys)}, but lacks {', '.join(missing)}{fix}")


def check_params(params, shapes: dict, *, sizes: dict | None = None, hints: dict | None = None, fix: str = "",
                 finite: bool = True, arrays: dict | None = None) -> dict:
    """Check a dict of parameter arrays before it is unpacked, each array named by its key: ``params['W_hh']``.

    The keys (:func:`check_keys`), then each array's type and shape (:func:`check_array`) in the order of
    ``shapes``, then one dtype for all. A dimension letter that no earlier array or ``sizes`` fixed takes its
    size from the first array that has it, so ``W_xh`` (H, D) sets the ``H`` that ``W_hh`` (H, H) must have.
    Keys that ``shapes`` does not name are not looked at.

    Parameters
    ----------
    params : object
        What the caller passed as the dict.
    shapes : dict of str to tuple of str
        The keys it must hold, each with the dimension letters of its array, e.g. ``{"W_hh": ("H", "H")}``.
    sizes : dict of str to int, optional
        Sizes known already, e.g. ``{"D": x.shape[2]}``.
    hints : dict of str to str, optional
        Advice added to the shape error of a key.
    fix : str
        How to make such a dict, for the message of a wrong type or a missing key.
    finite : bool
        Scan the values for NaN and infinity (default ``True``); ``False`` where the function the arrays
        go to scans them, so that each is scanned once per call.
    arrays : dict of str to numpy.ndarray, optional
        Arrays checked already (``{"x": x}``) that must share the parameters' dtype; named first in its message.

    Returns
    -------
    dict of str to int
        The size of every letter, those of ``sizes`` included.

    Examples
    --------
    >>> check_params({"W": np.zeros((2, 3)), "b": np.zeros(2)}, {"W": ("H", "D"), "b": ("H",)}, sizes={"D": 3})
    {'D': 3, 'H': 2}
    >>> check_params({"W": np.zeros((2, 3)), "b": np.zeros(3)}, {"W": ("H", "D"), "b": ("H",)})
    Traceback (most recent call last):
    ValueError: params['b'] should have shape (H,) = (2,), but has shape (3,) (axis 0, H, is 3 instead of 2)
    """
    check_keys(params, "params", list(shapes), fix)
    sizes, hints = dict(sizes or {}), hints or {}
    labelled = dict(arrays or {})
    for key, symbols in shapes.items():
        label, a = f"params[{key!r}]", params[key]
        if any(s not in sizes for s in symbols):
            check_array(a, label, symbols, finite=False, hint=hints.get(key, ""))   # type and number of axes
            for s, n in zip(symbols, a.shape):
                sizes.setdefault(s, n)
        check_array(a, label, symbols, tuple(sizes[s] for s in symbols), finite=finite, hint=hints.get(key, ""))
        labelled[label] = a
    check_same_dtype(**labelled)
    return sizes


def check_rng(rng, name: str = "rng") -> np.random.Generator:
    """Check that ``rng`` is a :class:`numpy.random.Generator` and return it.

    Parameters
    ----------
    rng : numpy.random.Generator
        The value to check.
    name : str
        Its name in the message (default ``"rng"``).

    Returns
    -------
    numpy.random.Generator
    """
    if not isinstance(rng, np.random.Generator):
        raise TypeError(f"{name} should be a numpy.random.Generator, but is {type(rng).__name__}; "
                        f"create one with np.random.default_rng(seed)")
    return rng


def check_float_dtype(dtype, name: str = "dtype") -> np.dtype:
    """Check that ``dtype`` is float32 or float64 (for arrays a function creates) and return it as a NumPy dtype.

    Parameters
    ----------
    dtype : numpy.dtype or type
        E.g. ``numpy.float64``.
    name : str
        Its name in the message (default ``"dtype"``).

    Returns
    -------
    numpy.dtype
    """
    try:
        as_dtype = None if dtype is None else np.dtype(dtype)     # np.dtype(None) would be float64
    except TypeError:
        as_dtype = None
    if as_dtype not in (np.float32, np.float64):
        raise TypeError(f"{name} should be numpy.float32 or numpy.float64, but is "
                        f"{as_dtype if as_dtype is not None else repr(dtype)}")
    return as_dtype


def check_float_array(a, label: str) -> None:
    """Raise :class:`TypeError` unless ``a`` is a float32 or float64 array, the NumPy code's two precisions.

    Used by the NumPy optimisers, the clipping functions and the gradient check on dicts of
    parameters or gradients.

    Parameters
    ----------
    a : numpy.ndarray
        The array to check.
    label : str
        Names the array in the message, e.g. ``"grads['W']"``.
    """
    if not isinstance(a, np.ndarray):
        raise TypeError(f"{label} should be a numpy.ndarray, but is {type(a).__name__}")
    if a.dtype.type not in (np.float32, np.float64):      # an int array would fail mid-update; float16 is refused
        raise TypeError(f"{label} should hold floating-point numbers (float32 or float64), but has dtype "
                        f"{a.dtype}; convert it, e.g. {label} = {label}.astype(np.float64)")


def check_writable(arrays, what: str, does: str, fix: str = "pass writable arrays (e.g. made with .copy())") -> None:
    """Raise :class:`ValueError` naming the first read-only array of the dict ``arrays``.

    Called before an in-place update changes any array, so that a refused call leaves them all as
    they were.

    Parameters
    ----------
    arrays : dict of str to numpy.ndarray
        The arrays the update will change.
    what : str
        The dict's name in the message, e.g. ``"params"``.
    does : str
        The update, e.g. ``"step updates it"``.
    fix : str
        The advice at the end of the message.
    """
    for name, a in arrays.items():
        if not a.flags.writeable:
            raise ValueError(f"{what}[{name!r}] is read-only, but {does} in place; {fix}")
