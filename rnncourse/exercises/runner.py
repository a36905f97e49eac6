"""The worker inside the sandbox: it runs one submission's cells and calls its functions on request.

The grader (``rnncourse.exercises.grade``) starts ``python -m rnncourse.exercises.runner LIMITS``
inside the sandbox (``rnncourse.exercises.sandbox``) and talks to it in JSON lines
(``rnncourse.exercises.wire``) on its standard input and output. The worker:

1. lowers its own resource limits (memory, CPU time, processes, file size, open files) before
   anything else, and moves the student's ``print`` output off the message channel;
2. on ``{"op": "run", "cells": ..., "subjects": ...}``: makes the package functions the exercises
   ask for raise "write it yourself" when they are called, directly or through other package
   functions, while the grader checks the submission's functions (the teaching cells may use
   them), replaces
   ``rnncourse.exercises.check`` by a silent stand-in, then executes the code cells (check cells
   skipped) in a fresh namespace, each under the time left of the notebook's limit, and answers
   with the problems met (a cell that raised or ran out of time). Helper processes the cells
   started (a ``DataLoader``'s workers, a ``multiprocessing`` pool) do not survive into the
   checks: the grader stops them, and the checked functions run in this process alone, which can
   start no process or thread then. So before answering, the worker puts ``SIGCHLD`` back to its
   default (PyTorch's handler would raise "DataLoader worker ... is killed" when the grader stops
   them) and PyTorch, if imported, back to one thread (a pool of more, set in a cell, could not
   start its threads during the checks, and OpenMP would end the process);
3. on ``{"op": "call", "function": ..., "args": ...}``: calls the student's function on the
   arguments the grader chose and answers with what it returned, or the exception's type and
   message, and the arguments as they are after the call (a function may change them in place);
   a function the grader passed (a decoder's step) is called back on the grader's side. A value
   of more than ``wire.MAX_CONTAINERS`` lists and objects or ``wire.MAX_COMMAS`` items (a long
   Python list) is not sent: the answer is a ``ValueError`` that asks for a NumPy array instead.

Nothing here decides a grade: the grader compares the answers with its own references in its
own process. Whatever the submission does to this process can only change the data it sends.
"""

from __future__ import annotations

import functools
import importlib
import importlib.abc
import importlib.machinery
import json
import os
import re
import signal
import sys
import time
import types
from contextlib import contextmanager

__all__ = ["TimeLimit", "time_limit", "read_notebook", "is_check_cell", "code_cells", "main", "SUBJECT_ERROR"]

CHECK_LINE = re.compile(r"^\s*(assert\s+)?(\w+\s*=\s*)?check\(.*\)\s*;?\s*(#.*)?$")
EXERCISES_HEADING = re.compile(r"^#{1,6}\s+Exercises\b", re.MULTILINE)
IMPORTS_RNNCOURSE = re.compile(r"^\s*(from|import)\s+rnncourse\b", re.MULTILINE)
#: The name of the exception a blocked package function raises in the sandbox.
SUBJECT_ERROR = "WriteItYourself"


class TimeLimit(BaseException):
    """Raised inside the student's code when its time is up (not an ``Exception``: fewer ``except`` catch it)."""


@contextmanager
def time_limit(seconds: float):
    """Raise :class:`TimeLimit` in the block after ``seconds`` of wall-clock time."""

    def expire(signum, frame):
        raise TimeLimit()

    previous = signal.signal(signal.SIGALRM, expire)
    signal.setitimer(signal.ITIMER_REAL, max(seconds, 1e-3))
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def read_notebook(path) -> tuple:
    """``(cells, metadata)`` of an ``.ipynb``: each cell a dict with ``cell_type`` and ``source`` (a str).

    Plain JSON reading, without nbformat's validation (which takes seconds to import).
    """
    with open(path, encoding="utf-8") as f:
        nb = json.load(f)
    if isinstance(nb, dict) and nb.get("nbformat") in (1, 2, 3):       # its cells lie in "worksheets"
        raise ValueError(f"this is a notebook of the old nbformat {nb['nbformat']}, which the grader does not read; "
                         f"convert it: jupyter nbconvert --to notebook --nbformat 4 --inplace {os.path.basename(path)}")
    if not isinstance(nb, dict) or not isinstance(nb.get("cells"), list):
        raise ValueError("this is not a Jupyter notebook (no list of cells)")
    cells = []
    for cell in nb["cells"]:
        source = cell.get("source", "")
        cells.append({"cell_type": cell.get("cell_type"),
                      "source": "".join(source) if isinstance(source, list) else str(source)})
    return cells, nb.get("metadata") or {}


def is_check_cell(source: str) -> bool:
    """Whether a code cell only calls ``check(...)`` (blank and comment lines aside)."""
    lines = [line for line in source.splitlines() if line.strip() and not line.strip().startswith("#")]
    return bool(lines) and all(CHECK_LINE.match(line) for line in lines)


def code_cells(cells, only_exercises: bool = False) -> list:
    """``(number, source)`` of the code cells to run, numbered from 1 among all cells.

    With ``only_exercises``, only the chapter's opening code cells (up to the first one that
    imports rnncourse: the set-up cell and the imports) and the code cells after the
    "Exercises" heading run, when the notebook has that heading.
    """
    start = 0
    if only_exercises:
        for i, cell in enumerate(cells):
            if cell["cell_type"] == "markdown" and EXERCISES_HEADING.search(cell["source"]):
                start = i
                break
    code = [(i + 1, c["source"]) for i, c in enumerate(cells) if c["cell_type"] == "code"]
    if start:
        imports = next((k for k, (_, source) in enumerate(code) if IMPORTS_RNNCOURSE.search(source)), 0)
        code = code[:imports + 1] + [(n, s) for n, s in code[imports + 1:] if n > start]
    return [(n, s) for n, s in code if not is_check_cell(s)]


class _Shell:
    """Enough of ``get_ipython()`` for cells with magics: line magics and shell commands do nothing,
    a cell magic runs its cell (``%%time``)."""

    def __init__(self, namespace):
        self.namespace = namespace

    def run_line_magic(self, *args, **kwargs):
        return None

    def run_cell_magic(self, name, line, cell):
        exec(compile(cell, f"<%%{name} cell>", "exec"), self.namespace)

    def system(self, *args, **kwargs):
        return None

    getoutput = system


def _compile(source: str, number: int):
    from IPython.core.inputtransformer2 import TransformerManager   # imported before the snapshot

    return compile(TransformerManager().transform_cell(source), f"<cell {number}>", "exec")


def _describe_error(err: BaseException) -> str:
    text = str(err).strip().splitlines()
    return f"{type(err).__name__}: {text[0][:300]}" if text else type(err).__name__



def run_cells(cells, namespace, seconds: float, log) -> list:
    """Execute ``cells`` in ``namespace`` within ``seconds`` in all; return the problems met."""
    problems, skipped = [], []
    deadline = time.monotonic() + seconds
    for number, source in cells:
        first_line = next((line.strip() for line in source.splitlines() if line.strip()), "")[:60]
        left = deadline - time.monotonic()
        if left <= 0:
            skipped.append(str(number))
            continue
        log(number)
        try:
            with time_limit(left):
                exec(_compile(source, number), namespace)
        except TimeLimit:
            problems.append(f"cell {number} ({first_line!r}) was stopped: the notebook ran past its time limit "
                            f"of {seconds:g} s")
        except BaseException as err:  # the student's code may raise anything, SystemExit included
            problems.append(f"cell {number} ({first_line!r}) raised {_describe_error(err)}")
    if skipped:
        problems.append(f"cell{'s' if len(skipped) > 1 else ''} {', '.join(skipped)} not run: the notebook's "
                        f"time limit of {seconds:g} s was used up")
    return problems


# ----------------------------------------------------------------------------- limits

def apply_limits(limits: dict) -> None:
    """Lower this process's limits (inherited by anything it starts); the student cannot raise them again.

    On Linux a limit that cannot be set fails the worker; elsewhere (macOS, without the sandbox), one the
    system refuses (macOS may refuse ``RLIMIT_AS``) is left out.
    """
    import resource

    pairs = {"memory": resource.RLIMIT_AS, "cpu": resource.RLIMIT_CPU, "processes": resource.RLIMIT_NPROC,
             "file_size": resource.RLIMIT_FSIZE, "open_files": resource.RLIMIT_NOFILE}
    for key, which in pairs.items():
        value = limits.get(key)
        if value is None:
            continue
        soft, hard = resource.getrlimit(which)
        # CPU: SIGXCPU at the soft limit, SIGKILL at the hard one (a process that ignores SIGXCPU).
        new_hard = int(value) + (5 if key == "cpu" else 0)
        new_hard = new_hard if hard == resource.RLIM_INFINITY else min(hard, new_hard)
        try:
            resource.setrlimit(which, (min(int(value), new_hard), new_hard))
        except (ValueError, OSError):
            if sys.platform == "linux":
                raise
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)       # a write past the file size limit fails, no crash


# ----------------------------------------------------------------------------- subjects

def _calling(hidden):
    """A function that passes its arguments on to ``hidden``, its one free variable: every stub's code."""
    def forward(*args, **kwargs):
        return hidden(*args, **kwargs)
    return forward


class _SubjectBlocker:
    """Make the package functions an exercise asks for raise while the grader checks the submission.

    While the grader calls one of the student's functions (:attr:`armed`), every call of a
    subject raises ``WriteItYourself``, whether the submission calls it or a package function
    that the submission called does (``model_forward`` running ``rnn_forward``); the notebook's
    teaching cells, which run before, use them freely. Modules imported later
    (``rnncourse.torch`` ...) are patched as they load.

    No attribute of a stub (``__closure__``, ``__globals__``, ``__defaults__``, ``__wrapped__``,
    ``__dict__``, ``__code__``) leads to the original; its code names the original's file and first
    line, so ``inspect.getsource`` and :func:`rnncourse.source.show_source` still show the
    package's source in a teaching cell. Nor does anything the student's namespace or
    ``sys.meta_path`` hands out (``get_ipython``, the import hook, its loaders) lead, by
    attributes or closures, to this blocker or its :attr:`armed` flag. An exercise lists as
    subjects every package function whose result is its answer, private helpers included
    (``_last_states``, ``_lstm_cell``). A process forked while the cells run would keep the flag
    unset: the grader kills every such process before the checks and lets the worker start none
    during them (:meth:`rnncourse.exercises.sandbox.Session.request`).
    Not blocked: package code that computes the same thing without calling a subject (PyTorch's
    layers, and the package's own classes, ``nn.Module`` layers like them), a copy of the
    package's source (readable in the sandbox), and a submission that digs through the
    interpreter (the garbage collector, the frames on its stack) to the original or to this
    blocker.
    """

    def __init__(self, subjects: dict):
        self.subjects = {}                    # module name -> {attribute: short name}
        for dotted in subjects:
            module, _, attr = dotted.rpartition(".")
            self.subjects.setdefault(module, {})[attr] = attr
        self.stubs = {}                       # id(original) -> stub (which keeps the original alive)
        self.called = []
        self.armed = [False]
        self.error = type(SUBJECT_ERROR, (RuntimeError,), {})

    def _call(self, original, short, /, *args, **kwargs):
        # An exception leaving this frame carries it in its traceback, where ``tb_frame.f_locals``
        # would hand out the original and this blocker: both are deleted before anything is raised.
        if not self.armed[0]:
            del self
            try:
                return original(*args, **kwargs)
            finally:
                del original
        self.called.append(short)
        error = self.error
        del self, original
        # Which exercise is checked is not known here; the grader reads the name as the last word.
        raise error(f"write it yourself: while the grader checks this chapter's exercises, it blocks the "
                    f"package's {short}")

    def stub(self, original, short):
        """``original`` behind :meth:`_call`, in a function whose attributes do not lead back to it.

        A closure over the original would hand it out through ``__closure__``; the C wrapper of
        ``functools.lru_cache`` (here caching nothing) holds its function out of sight once its
        ``__wrapped__`` is deleted. The stub is a plain function that calls that wrapper; its code
        (:func:`_calling`'s, no byte of the original's) is relabelled with the original's file,
        first line and names, which is all ``inspect.getsource`` needs to read the package's file.
        """
        hidden = _hidden(functools.partial(self._call, original, short))
        name = getattr(original, "__name__", short)
        code = _calling(None).__code__.replace(co_name=name, co_qualname=getattr(original, "__qualname__", name))
        source = getattr(original, "__code__", None)
        if isinstance(source, types.CodeType):
            code = code.replace(co_filename=source.co_filename, co_firstlineno=source.co_firstlineno)
        blocked = types.FunctionType(code, {}, name, None, (types.CellType(hidden),))
        blocked.__qualname__ = code.co_qualname
        blocked.__module__ = getattr(original, "__module__", None)
        blocked.__doc__ = f"Blocked while grading: write {short} yourself."
        return blocked

    def patch(self, module) -> None:
        name = getattr(module, "__name__", "")
        for attr, short in self.subjects.get(name, {}).items():
            original = getattr(module, attr, None)
            if callable(original) and id(original) not in self.stubs and original not in self.stubs.values():
                self.stubs[id(original)] = self.stub(original, short)
        for key, value in list(vars(module).items()):
            if id(value) in self.stubs:
                setattr(module, key, self.stubs[id(value)])

    def install(self) -> None:
        """Patch the subjects' modules (imported now) and every loaded ``rnncourse`` module; hook later imports.

        The subjects' modules are imported here, so that removing the import hook from
        ``sys.meta_path`` leaves nothing unpatched to import. The hook reaches the blocker only
        through :func:`_hidden` (a C wrapper around :meth:`patch`): no attribute or closure of the
        hook, its loaders or their methods leads to the blocker or its ``armed`` flag.
        """
        for module in self.subjects:
            try:
                importlib.import_module(module)
            except Exception:         # noqa: BLE001 -- should the cells load it after all, the hook patches it
                pass
        for name in sorted(n for n in list(sys.modules) if n.split(".", 1)[0] == "rnncourse"):
            if name in self.subjects:
                self.patch(sys.modules[name])
        for name in sorted(n for n in list(sys.modules) if n.split(".", 1)[0] == "rnncourse"):
            self.patch(sys.modules[name])
        sys.meta_path.insert(0, _Finder(_hidden(self.patch)))


def _hidden(function):
    """``function`` behind the C wrapper of ``functools.lru_cache`` (caching nothing), which holds it out of sight.

    Neither ``__closure__`` nor ``__self__`` nor ``__wrapped__`` (deleted) of the wrapper leads to
    ``function``, nor to the object a bound method belongs to.
    """
    hidden = functools.lru_cache(maxsize=0)(function)
    del hidden.__wrapped__
    return hidden


class _Loader(importlib.abc.Loader):
    """Loads an ``rnncourse`` module with its own loader (``inner``), then patches it (``patch``)."""

    def __init__(self, inner, patch):
        self.inner, self.patch = inner, patch

    def create_module(self, spec):
        return self.inner.create_module(spec)

    def exec_module(self, module):
        self.inner.exec_module(module)
        self.patch(module)


class _Finder(importlib.abc.MetaPathFinder):
    """The import hook: gives every ``rnncourse`` module a :class:`_Loader` that patches it with ``patch``."""

    def __init__(self, patch):
        self.patch = patch

    def find_spec(self, name, path, target=None):
        if name.split(".", 1)[0] != "rnncourse":
            return None
        spec = importlib.machinery.PathFinder.find_spec(name, path)
        if spec is not None and spec.loader is not None:
            spec.loader = _Loader(spec.loader, self.patch)
        return spec


# ----------------------------------------------------------------------------- messages

class _Channel:
    """JSON lines on two file descriptors of its own (the student's prints go to standard error)."""

    def __init__(self):
        self.rfd, self.wfd = os.dup(0), os.dup(1)
        null = os.open(os.devnull, os.O_RDONLY)
        os.dup2(null, 0)
        os.dup2(2, 1)                 # print() now writes to standard error, which the grader caps
        os.close(null)
        self.buffer = b""

    def send(self, message: dict) -> None:
        from rnncourse.exercises.wire import dumps

        data = dumps(message)
        while data:
            data = data[os.write(self.wfd, data):]

    def receive(self) -> dict:
        from rnncourse.exercises.wire import loads

        while b"\n" not in self.buffer:
            chunk = os.read(self.rfd, 1 << 20)
            if not chunk:
                os._exit(0)           # the grader is gone
            self.buffer += chunk
        line, self.buffer = self.buffer.split(b"\n", 1)
        return loads(line)


def _silent_check(name, fn):
    from rnncourse.exercises import CheckResult

    return CheckResult(name, False, "check() does not run while grading")


def _loaded_already(module):
    """Stands in for ``load_checkers`` in the notebook: the grader loads the checkers itself."""


class Worker:
    """The state of one sandboxed submission: its namespace, the channel and the blocked subjects."""

    def __init__(self, channel, message_bytes: int | None = None):
        self.channel = channel
        self.message_bytes = message_bytes          # the longest message the grader reads
        self.namespace = {"__name__": "__main__"}
        shell = _Shell(self.namespace)
        # The student's get_ipython closes over the shell alone (which holds only the namespace),
        # never over the worker: from there, its blocker's ``armed`` flag would be one attribute away.
        self.namespace["get_ipython"] = lambda: shell
        self.blocker = None

    def run(self, message) -> dict:
        import rnncourse.exercises as exercises_pkg
        import rnncourse.exercises.registry as registry

        exercises_pkg.check = _silent_check
        registry.load_checkers = _loaded_already
        self.blocker = _SubjectBlocker(message.get("subjects") or [])
        self.blocker.install()
        cells = [(int(n), str(s)) for n, s in message["cells"]]
        problems = run_cells(cells, self.namespace, float(message["timeout"]),
                             lambda number: self.channel.send({"op": "cell", "cell": number}))
        _flush_prints()
        _settle_after_cells()
        return {"op": "ran", "problems": problems}

    def _callback(self, ident):
        from rnncourse.exercises.wire import decode, encode

        channel = self.channel

        def call_grader(*args, **kwargs):
            channel.send({"op": "callback", "id": ident, "args": encode(list(args)), "kwargs": encode(kwargs)})
            reply = channel.receive()
            if reply.get("op") != "callback_result":
                raise RuntimeError("the grader did not answer the call back")
            if "error" in reply:
                raise type(str(reply.get("type", "Error")), (Exception,), {})(str(reply["error"]))
            return decode(reply.get("value"))

        return call_grader

    def call(self, message) -> dict:
        from rnncourse.exercises.wire import decode, encode

        fn = self.namespace.get(message["function"])
        if fn is None:
            return {"op": "missing"}
        if not callable(fn):
            return {"op": "not_callable", "type": type(fn).__name__}
        args = decode(message.get("args", {"t": "list", "v": []}), self._callback)
        kwargs = decode(message.get("kwargs", {"t": "dict", "k": [], "v": []}), self._callback)
        before = len(self.blocker.called) if self.blocker else 0
        armed = self.blocker.armed if self.blocker else [False]
        entries = [dict(a) if type(a) is dict else {} for a in args]     # what each dict argument held
        try:
            with time_limit(float(message.get("seconds", 60))):
                armed[0] = True
                try:
                    value = fn(*args, **kwargs)
                finally:
                    armed[0] = False
                    _flush_prints()
        except TimeLimit:
            reply = {"op": "timeout"}
        except BaseException as err:  # the student's code may raise anything
            reply = {"op": "raise", "type": type(err).__name__, "message": _message(err)}
        else:
            # A dict entry the function replaced (grads[k] = new array) differs from one it changed in
            # place (grads[k] *= f); the grader's copy of the argument is updated the same way.
            replaced = [[i, k] for i, a in enumerate(args) if type(a) is dict
                        for k in a if k in entries[i] and a[k] is not entries[i][k]]
            reply = _within_limits({"op": "return", "value": encode(value), "after": encode([list(args), kwargs]),
                                    "replaced": replaced}, self.message_bytes)
        if self.blocker and len(self.blocker.called) > before:
            reply["subject"] = self.blocker.called[before]
        return reply


def _flush_prints() -> None:
    """Write out what the submission printed, before the answer: the grader counts the output since each
    request as that request's (the sandbox runs Python unbuffered; a stream the cells put in place may not be)."""
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except BaseException:  # noqa: BLE001 -- a stream the cells replaced or closed
            pass


def _settle_after_cells() -> None:
    """Ready this process for the checks, in which it can start no process or thread (the grader forbids it).

    ``SIGCHLD`` goes back to its default: the helper processes the grader stops would otherwise
    run a handler of the cells' (PyTorch's, for a ``DataLoader``'s workers, raises). PyTorch, if a
    cell imported it, goes back to one thread, and one small product settles its pool there.
    """
    signal.signal(signal.SIGCHLD, signal.SIG_DFL)
    torch = sys.modules.get("torch")
    if torch is None:
        return
    try:
        torch.set_num_threads(1)
        torch.ones(8, 8) @ torch.ones(8, 8)
    except Exception:  # noqa: BLE001 -- a torch the cells broke: the checks will say what fails
        pass


def _within_limits(reply: dict, message_bytes: int | None = None) -> dict:
    """``reply`` (an answer), or in its place a ``ValueError`` answer when it is longer than the grader reads.

    The value alone may hold at most ``wire.MAX_CONTAINERS`` lists and objects and
    ``wire.MAX_COMMAS`` items; the whole answer (with the arguments as they are after the call) at
    most ``wire.HARD_MAX_CONTAINERS`` and ``wire.HARD_MAX_COMMAS``, counted on the encoded bytes
    the way the grader counts them, and, when ``message_bytes`` is given, at most that many bytes
    less 64 KB for the rest of the message (a longer one the grader would stop reading, and end
    the sandbox). So an honest answer that is too large is told why, at the cost of encoding it
    once here; the grader's own limits stay for a submission that writes to the pipe itself.
    """
    from rnncourse.exercises.wire import HARD_MAX_COMMAS, HARD_MAX_CONTAINERS, dumps, too_many_parts

    room = None if message_bytes is None else message_bytes - (64 << 10)
    value = dumps(reply["value"])        # serialised once here (a 72 MB array takes 0.4 s), once more to send
    too_many = too_many_parts(value)
    what = "returned a value"
    if too_many is None and room is not None and len(value) > room:
        too_many = f"{len(value) / 2**20:.0f} MB as text (the grader reads at most {message_bytes >> 20} MB)"
        return _too_large(what, too_many, "return a smaller answer")
    if too_many is None:                 # the value and the arguments, short of the few parts of the answer around them
        after = dumps(reply["after"])
        too_many = too_many_parts(value + after, HARD_MAX_CONTAINERS - 16, HARD_MAX_COMMAS - 16)
        what = "left its arguments"
        if too_many is None and room is not None and len(value) + len(after) > room:
            too_many = (f"{(len(value) + len(after)) / 2**20:.0f} MB as text with its answer (the grader reads at "
                        f"most {message_bytes >> 20} MB)")
            return _too_large(what, too_many, "do not grow the arguments it is given")
    if too_many is None:
        return reply
    return _too_large(what, too_many, "return a NumPy array (its numbers travel as bytes) instead of a long list "
                                      "or many small arrays")


def _too_large(what: str, why: str, fix: str) -> dict:
    return {"op": "raise", "type": "ValueError", "message": f"your function {what} too large to send: {why}; {fix}"}


def _message(err) -> str:
    try:
        return str(err)[:2000]
    except BaseException:  # a __str__ that raises
        return "(the message could not be read)"


def main(argv=None) -> None:
    """Entry point inside the sandbox: ``python -m rnncourse.exercises.runner '{"memory": ...}'``."""
    argv = sys.argv[1:] if argv is None else argv
    limits = json.loads(argv[0]) if argv else {}
    apply_limits(limits)
    channel = _Channel()
    import IPython.core.inputtransformer2  # noqa: F401 -- the cells' magics are translated with it
    import numpy  # noqa: F401 -- every chapter uses it: load it once, before the first cell

    worker = Worker(channel, limits.get("message"))
    channel.send({"op": "ready", "pid": os.getpid()})
    while True:
        try:
            message = channel.receive()
        except BaseException:  # noqa: BLE001 -- a signal handler of the cells raised while it waited: keep serving
            continue
        op = message.get("op")
        try:
            if op == "run":
                reply = worker.run(message)
            elif op == "call":
                reply = worker.call(message)
            else:
                os._exit(0)
        except BaseException as err:  # a broken message or an encoding that failed: say so
            reply = {"op": "failed", "type": type(err).__name__, "message": _message(err)}
        channel.send(reply)


if __name__ == "__main__":
    main()
