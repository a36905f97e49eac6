"""Plain data across the sandbox's wall: what a grader and a sandboxed submission say to each other.

The grader (trusted) and the worker inside the sandbox (untrusted) exchange JSON lines. A
value crosses as JSON numbers, strings, ``null`` and ``true``/``false``, or as a tagged object:

=============  ==========================================================================
``t``          meaning
=============  ==========================================================================
``"float"``    a float that JSON cannot hold: ``{"t": "float", "v": "nan"}`` (or ``"inf"``, ``"-inf"``)
``"tuple"``    ``{"t": "tuple", "v": [...]}``; ``"list"`` likewise
``"dict"``     ``{"t": "dict", "k": [keys], "v": [values]}`` (keys: str or int)
``"nd"``       an ``numpy.ndarray``: ``{"t": "nd", "dtype": "<f8", "shape": [2, 3], "b64": ...}``
``"np"``       a NumPy scalar (``numpy.float64`` ...), the same fields with ``shape`` ``[]``
``"tensor"``   a ``torch.Tensor``: ``{"t": "tensor", "nd": {...}}``
``"nt"``       a named tuple defined in ``rnncourse``: ``{"t": "nt", "cls": "module:Name", "v": [...]}``
``"fn"``       a function of the grader the submission may call back: ``{"t": "fn", "id": 3}``
``"opaque"``   anything else, by its type's name only: ``{"t": "opaque", "type": "LyingArray"}``
=============  ==========================================================================

:func:`decode` is strict, because on the grader's side its input comes from the submission: an
array is rebuilt by NumPy from raw bytes of one of :data:`DTYPES` (no object arrays, no pickles),
with the shape checked against the byte count, into an exact ``numpy.ndarray``; every other value
is a plain ``int``, ``float``, ``str``, ``bool``, ``None``, ``list``, ``tuple`` or ``dict``, or a
:class:`Foreign` that only carries a type name (as data: a hostile peer's names never make
classes without bound, see :data:`MAX_FOREIGN_TYPES`). No code of the
submission runs on the grader's side, and no value from it has methods of its choosing.
:func:`encode` sends subclasses (of ``float``, of ``numpy.ndarray`` ...) as ``opaque``: a value whose
arithmetic could lie arrives as a type name, which every checker rejects.
"""

from __future__ import annotations

import base64
import importlib
import json
import math
import sys

__all__ = ["DTYPES", "WireError", "Foreign", "encode", "decode", "dumps", "loads", "count_parts", "too_many_parts",
           "MAX_DEPTH", "MAX_ELEMENTS", "MAX_FOREIGN_TYPES", "MAX_CONTAINERS", "MAX_COMMAS", "HARD_MAX_CONTAINERS",
           "HARD_MAX_COMMAS"]

#: The array dtypes that may cross (little-endian numbers and booleans).
DTYPES = ("<f8", "<f4", "<f2", "<i8", "<i4", "<i2", "|i1", "<u8", "<u4", "<u2", "|u1", "|b1")
#: Deepest nesting of containers accepted.
MAX_DEPTH = 32
#: Most entries of one array accepted.
MAX_ELEMENTS = 1 << 25
#: Most lists and objects (``[`` and ``{``), and most commas, in one message of the sandbox. The
#: worker answers "too large to send" instead of sending a longer answer, and the grader refuses
#: (and ends the sandbox for) any longer message but an answer or a call back. A line of millions
#: of empty objects (or numbers) takes seconds and gigabytes to parse; the chapters' answers hold
#: about 50 and 100 (arrays travel as bytes).
MAX_CONTAINERS = 10_000
MAX_COMMAS = 100_000
#: The grader parses no message at all beyond these (an answer that echoes large arguments the
#: grader sent may pass :data:`MAX_CONTAINERS`); a longer one ends the sandbox unread.
HARD_MAX_CONTAINERS = 1_000_000
#: The same bound for commas; no message with more is parsed.
HARD_MAX_COMMAS = 5_000_000
#: Most foreign type names of one decoded value that get a class of their own name (the rest are plain Foreign).
MAX_FOREIGN_TYPES = 16


class WireError(ValueError):
    """A message that is not plain data of the agreed form."""


class Foreign:
    """A value the submission returned that cannot cross as data: only its type's name came.

    ``value.type_name`` is that name. So that a checker's message reads "should be a
    numpy.ndarray ..., but is LyingArray", ``type(value).__name__`` is the name too, for the first
    :data:`MAX_FOREIGN_TYPES` names of one decoded value (a subclass made for that value only, freed
    with it); further names come as plain ``Foreign``, so a hostile peer cannot make classes without bound.

    Parameters
    ----------
    type_name : str
        The name of the value's type, as the submission sent it.
    """

    __slots__ = ("type_name",)

    def __init__(self, type_name: str):
        self.type_name = type_name

    def __repr__(self) -> str:
        return f"<{self.type_name} from the submission>"


def _foreign(name, types: dict) -> Foreign:
    """A :class:`Foreign` named ``name``; ``types`` holds the classes made for the value being decoded."""
    name = "".join(ch for ch in str(name)[:80] if ch.isalnum() or ch in "_.") or "object"
    if name not in types and len(types) < MAX_FOREIGN_TYPES:
        types[name] = type(name, (Foreign,), {"__slots__": ()})
    return types.get(name, Foreign)(name)


# ----------------------------------------------------------------------------- encode (either side)

def _array_fields(a) -> dict:
    dtype = a.dtype.newbyteorder("<") if a.dtype.byteorder == ">" else a.dtype
    if dtype.str not in DTYPES:
        raise TypeError(f"dtype {a.dtype}")
    data = a.astype(dtype, copy=False).tobytes(order="C")
    return {"dtype": dtype.str, "shape": [int(n) for n in a.shape], "b64": base64.b64encode(data).decode("ascii")}


def _opaque(value, why: str = "") -> dict:
    return {"t": "opaque", "type": type(value).__name__ + why}


def encode(value, callbacks=None, depth: int = 0):
    """``value`` as plain JSON-ready data; ``callbacks`` (a list) collects functions sent as ``fn``.

    Exact types only: a subclass of ``float``, ``int``, ``numpy.ndarray`` ... goes as ``opaque``.

    Parameters
    ----------
    value : object
        What to send.
    callbacks : list, optional
        Where a callable found in ``value`` is appended, to be sent as ``fn`` with its index as id;
        ``None`` sends callables as ``opaque``.
    depth : int
        The nesting level of ``value``, for the recursion; deeper than :data:`MAX_DEPTH` raises
        :class:`WireError`.
    """
    if depth > MAX_DEPTH:
        raise WireError(f"nested deeper than {MAX_DEPTH} levels")
    kind = type(value)
    if value is None or kind in (bool, int, str):
        return value
    if kind is float:
        return value if math.isfinite(value) else {"t": "float", "v": repr(value)}
    if kind in (list, tuple):
        return {"t": kind.__name__, "v": [encode(v, callbacks, depth + 1) for v in value]}
    if kind is dict:
        if not all(type(k) in (str, int) for k in value):
            return _opaque(value, "WithNonStringKeys")
        return {"t": "dict", "k": list(value), "v": [encode(v, callbacks, depth + 1) for v in value.values()]}
    numpy = sys.modules.get("numpy")
    if numpy is not None:
        if kind is numpy.ndarray:
            try:
                return {"t": "nd", **_array_fields(value)}
            except TypeError:
                return _opaque(value, f"Of{value.dtype.name.capitalize()}")
        if isinstance(value, numpy.generic) and kind.__module__ == "numpy":
            try:
                return {"t": "np", **_array_fields(numpy.asarray(value))}
            except TypeError:
                return _opaque(value)
    torch = sys.modules.get("torch")
    if torch is not None and kind is torch.Tensor:
        with torch.no_grad():
            return {"t": "tensor", "nd": {"t": "nd", **_array_fields(value.detach().cpu().numpy())}}
    if isinstance(value, tuple) and hasattr(kind, "_fields") and kind.__module__.startswith("rnncourse."):
        return {"t": "nt", "cls": f"{kind.__module__}:{kind.__qualname__}",
                "v": [encode(v, callbacks, depth + 1) for v in value]}
    if callbacks is not None and callable(value):
        callbacks.append(value)
        return {"t": "fn", "id": len(callbacks) - 1}
    return _opaque(value)


# ----------------------------------------------------------------------------- decode (strict)

def _int(value, what) -> int:
    if type(value) is not int or value < 0:
        raise WireError(f"{what} should be a non-negative int")
    return value


def _array(fields):
    import numpy as np

    dtype = fields.get("dtype")
    if dtype not in DTYPES:
        raise WireError(f"an array's dtype should be one of {', '.join(DTYPES)}, not {dtype!r}")
    shape = fields.get("shape")
    if type(shape) is not list or len(shape) > 32:
        raise WireError("an array's shape should be a list of at most 32 sizes")
    shape = tuple(_int(n, "an array size") for n in shape)
    size = math.prod(shape)
    if size > MAX_ELEMENTS:
        raise WireError(f"an array of {size} entries is larger than the {MAX_ELEMENTS} allowed")
    data = fields.get("b64")
    if type(data) is not str:
        raise WireError("an array's data should be a base64 string")
    raw = base64.b64decode(data.encode("ascii"), validate=True)
    dt = np.dtype(dtype)
    if len(raw) != size * dt.itemsize:
        raise WireError(f"an array of shape {shape} and dtype {dtype} needs {size * dt.itemsize} bytes, got {len(raw)}")
    out = np.frombuffer(raw, dtype=dt).reshape(shape).astype(dt.newbyteorder("="), copy=True)
    assert type(out) is np.ndarray
    return out


def _named_tuple(name):
    """The named tuple class ``"rnncourse.module:Name"``, its module imported if it is not yet; else ``None``.

    Only modules of ``rnncourse`` are imported (importing one does nothing but define names).
    """
    module, _, qualname = str(name).partition(":")
    if not (module.startswith("rnncourse.") and all(p.isidentifier() for p in module.split("."))
            and qualname.isidentifier()):
        return None
    try:
        cls = getattr(importlib.import_module(module), qualname, None)
    except ImportError:
        return None
    if not (isinstance(cls, type) and issubclass(cls, tuple) and hasattr(cls, "_fields")):
        return None
    return cls


def decode(value, callback=None):
    """Rebuild a value from :func:`encode`'s form, accepting nothing else (raises :class:`WireError`).

    Parameters
    ----------
    value : object
        A value in :func:`encode`'s form, as ``json.loads`` returns it.
    callback : callable, optional
        ``callback(id)`` turns an ``fn`` entry into a callable (only the worker in the sandbox gets
        functions; the grader passes none and treats ``fn`` as foreign).
    """
    return _decode(value, callback, 0, {})


def _decode(value, callback, depth: int, types: dict):
    """:func:`decode` at nesting ``depth``; ``types``: the :class:`Foreign` classes made for this value."""
    if depth > MAX_DEPTH:
        raise WireError(f"nested deeper than {MAX_DEPTH} levels")
    kind = type(value)
    if value is None or kind in (bool, int, float, str):
        return value
    if kind is not dict or type(value.get("t")) is not str:
        raise WireError(f"unexpected {kind.__name__} in a message")
    tag = value["t"]
    if tag in ("list", "tuple"):
        items = value.get("v")
        if type(items) is not list:
            raise WireError(f"a {tag} should carry a list")
        out = [_decode(v, callback, depth + 1, types) for v in items]
        return out if tag == "list" else tuple(out)
    if tag == "dict":
        keys, items = value.get("k"), value.get("v")
        if type(keys) is not list or type(items) is not list or len(keys) != len(items) or \
                not all(type(k) in (str, int) for k in keys):
            raise WireError("a dict should carry equally long lists of str or int keys and of values")
        return {k: _decode(v, callback, depth + 1, types) for k, v in zip(keys, items)}
    if tag == "float":
        if value.get("v") not in ("nan", "inf", "-inf"):
            raise WireError("a special float should be nan, inf or -inf")
        return float(value["v"])
    if tag == "nd":
        return _array(value)
    if tag == "np":
        a = _array(value)
        if a.shape != ():
            raise WireError("a NumPy scalar should have shape []")
        return a[()]
    if tag == "tensor":
        import torch

        nd = value.get("nd")
        if type(nd) is not dict or nd.get("t") != "nd":
            raise WireError("a tensor should carry an array")
        return torch.from_numpy(_array(nd))
    if tag == "nt":
        cls = _named_tuple(value.get("cls"))
        items = value.get("v")
        if cls is None or type(items) is not list or len(items) != len(cls._fields):
            return _foreign(str(value.get("cls", "tuple")).rpartition(":")[2], types)
        return cls(*(_decode(v, callback, depth + 1, types) for v in items))
    if tag == "fn":
        return callback(_int(value.get("id"), "a function id")) if callback else _foreign("function", types)
    if tag == "opaque":
        return _foreign(value.get("type", "object"), types)
    raise WireError(f"unknown tag {tag!r}")


def dumps(message: dict) -> bytes:
    """One message as one line of JSON (NaN and infinities never appear raw: see ``float``).

    Parameters
    ----------
    message : dict
        The message, its values already in :func:`encode`'s form.
    """
    return json.dumps(message, separators=(",", ":"), allow_nan=False).encode("utf-8") + b"\n"


def count_parts(line: bytes) -> tuple:
    """``(containers, commas)`` of an encoded message: its ``[`` and ``{``, and its commas (fast: no parsing).

    Parameters
    ----------
    line : bytes
        One line of JSON, as :func:`dumps` writes it.
    """
    return line.count(b"{") + line.count(b"["), line.count(b",")


def too_many_parts(line: bytes, containers: int = MAX_CONTAINERS, commas: int = MAX_COMMAS) -> str | None:
    """What is too much in an encoded message, or ``None``: more than ``containers`` lists and objects
    or more than ``commas`` commas (counted as :func:`count_parts` does).

    Parameters
    ----------
    line : bytes
        One line of JSON, as :func:`dumps` writes it.
    containers : int
        Most lists and objects allowed.
    commas : int
        Most commas allowed.
    """
    found, separators = count_parts(line)
    if found > containers:
        return f"{found} lists and objects (the grader reads at most {containers})"
    if separators > commas:
        return f"{separators} items (the grader reads at most {commas})"
    return None


def _no_constants(name):
    raise WireError(f"{name} is not plain JSON")


def loads(line: bytes) -> dict:
    """Parse one line into a message dict (strict JSON: no NaN, Infinity).

    Parameters
    ----------
    line : bytes
        One line of JSON; anything but an object with a str ``"op"`` raises :class:`WireError`.
    """
    try:
        message = json.loads(line, parse_constant=_no_constants)
    except (ValueError, RecursionError) as err:
        raise WireError(f"not a JSON message: {str(err)[:100]}") from None
    if type(message) is not dict or type(message.get("op")) is not str:
        raise WireError("a message should be a JSON object with an 'op'")
    return message
