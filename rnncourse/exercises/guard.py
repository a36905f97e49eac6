"""Keep a submission from changing what the checkers compare against.

The grading runner executes a student's notebook and then, in the same process, runs
the checkers on the student's functions. A submission could replace a reference
(``rnncourse.numpy.rnn_forward = ...``), a comparison (``np.isclose = ...``) or a
builtin, so that a wrong answer would pass. :class:`Guard` takes a snapshot before the
student's code runs and :meth:`Guard.restore` puts every replaced object back (and says
which) before each checker runs:

- modules of ``rnncourse`` and of the loaded checkers, and the runner itself: every
  global (added, replaced or deleted), and the code, defaults and attributes of their
  functions and classes;
- NumPy, PyTorch and a few standard modules the checkers use: every function, class
  and submodule they hold, and the code and defaults of their Python functions;
- the entries of ``sys.modules`` for all of these; ``rnncourse`` modules first imported
  by the submission are dropped, so a checker that imports one later gets a fresh copy.

This defends against monkeypatching, not against code written to escape a process
(``ctypes``, writing to the results file): grade untrusted submissions in a container.
"""

from __future__ import annotations

import builtins
import sys
import types
import warnings

__all__ = ["Guard"]

#: Modules (and their submodules) whose functions, classes and submodules are guarded.
LIBRARIES = ("numpy", "torch", "builtins", "math", "cmath", "operator", "functools", "json", "time", "signal",
             "copy", "contextlib", "traceback", "os", "sys", "io")

_MISSING = object()
#: Attributes Python itself adds to a class while it runs (``copyreg`` caches ``__slotnames__``
#: when an instance is copied or pickled): not a change to undo.
CACHES = ("__slotnames__",)


def _top(name: str) -> str:
    return name.split(".", 1)[0]


def _is_own(name: str) -> bool:
    return _top(name) == "rnncourse" or name.startswith("rnncourse_checkers_") or name == "__main__"


def _guarded(name: str, module) -> bool:
    return isinstance(module, types.ModuleType) and (_is_own(name) or _top(name) in LIBRARIES)


def _function_state(fn):
    return fn.__code__, fn.__defaults__, fn.__kwdefaults__


class Guard:
    """A snapshot of the modules the checkers rely on; :meth:`restore` undoes changes to them."""

    def __init__(self):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            self.modules = {name: m for name, m in list(sys.modules.items()) if _guarded(name, m)}
            self.globals = {name: self._globals(name, m) for name, m in self.modules.items()}
            self.keys = {name: set(vars(m)) for name, m in self.modules.items()}
        self.functions = {}
        self.classes = {}
        for name, snapshot in self.globals.items():
            for value in snapshot.values():
                if isinstance(value, types.FunctionType):
                    self.functions[value] = _function_state(value)
                elif isinstance(value, type) and _is_own(name) and getattr(value, "__module__", None) == name:
                    self.classes[value] = dict(vars(value))
        for cls, attributes in list(self.classes.items()):
            for value in attributes.values():
                fn = getattr(value, "__func__", value)       # methods, static and class methods
                if isinstance(fn, types.FunctionType):
                    self.functions[fn] = _function_state(fn)

    @staticmethod
    def _globals(name, module) -> dict:
        items = dict(vars(module))
        if _is_own(name):
            return items
        return {k: v for k, v in items.items() if callable(v) or isinstance(v, types.ModuleType)}

    def restore(self) -> list:
        """Put back everything a submission replaced since the snapshot; return what was replaced."""
        changed = []
        for name in [n for n in sys.modules if _top(n) == "rnncourse" and n not in self.modules]:
            del sys.modules[name]            # imported since the snapshot: a checker re-imports it afresh
        for name, module in self.modules.items():
            if sys.modules.get(name) is not module:
                sys.modules[name] = module
                changed.append(f"sys.modules[{name!r}]")
            changed += self._restore_globals(name, module)
        for fn, (code, defaults, kwdefaults) in self.functions.items():
            if fn.__code__ is not code or fn.__defaults__ is not defaults or fn.__kwdefaults__ is not kwdefaults:
                fn.__code__, fn.__defaults__, fn.__kwdefaults__ = code, defaults, kwdefaults
                changed.append(f"the code of {fn.__module__}.{fn.__qualname__}")
        for cls, attributes in self.classes.items():
            changed += self._restore_class(cls, attributes)
        return changed

    def _restore_globals(self, name, module) -> list:
        changed = []
        now = vars(module)
        for key, value in self.globals[name].items():
            if now.get(key, _MISSING) is not value:
                now[key] = value
                changed.append(f"{name}.{key}")
        own = _is_own(name)
        for key in [k for k in now if k not in self.keys[name]]:
            value = now[key]
            if own and isinstance(value, types.ModuleType) and value.__name__ == f"{name}.{key}":
                del now[key]                 # a submodule imported since the snapshot (dropped above)
            elif own or (key in vars(builtins) and not key.startswith("__") and name != "builtins"):
                # A new global may shadow a builtin for the module's functions; other additions
                # to a library (its lazily imported submodules) are harmless and stay.
                del now[key]
                changed.append(f"{name}.{key} (added)")
        return changed

    @staticmethod
    def _restore_class(cls, attributes) -> list:
        changed = []
        now = dict(vars(cls))
        for key in set(attributes) | set(now):
            old, new = attributes.get(key, _MISSING), now.get(key, _MISSING)
            if old is new or key in ("__dict__", "__weakref__") or (old is _MISSING and key in CACHES):
                continue
            try:
                if old is _MISSING:
                    delattr(cls, key)
                else:
                    setattr(cls, key, old)
            except (AttributeError, TypeError):
                continue
            changed.append(f"{cls.__module__}.{cls.__qualname__}.{key}")
        return changed
