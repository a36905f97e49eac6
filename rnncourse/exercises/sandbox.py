"""The sandbox a submission runs in, and the grader's end of the conversation with it.

A :class:`Session` starts the worker (``python -m rnncourse.exercises.runner``) inside
bubblewrap (``bwrap``, Debian's ``bubblewrap`` package), with:

- its own network namespace (no network at all, not even the host's loopback), PID namespace
  (every process it starts dies with it: the kernel ends them all when its first process ends),
  IPC and UTS namespaces, a new session (no terminal to push keystrokes into), and
  ``--die-with-parent`` (it ends when the grader does);
- a file system of its own: read-only views of the system (``/usr``, and of ``/etc`` only
  ``ETC_ENTRIES``), of the Python installation and virtual environment, and of the
  ``rnncourse`` package with the grading room's files (checkers, feedback, grader) replaced by
  empty files; one writable folder,
  ``/submission``, a size-capped ``tmpfs`` that vanishes with the sandbox. Nothing else of the
  machine (other submissions, the gradebook, home folders) is visible, and bubblewrap's options
  are read from a pipe (``--args``), out of its command line (``/proc/1/cmdline`` inside);
- an unprivileged user: run as root, the grader gives each sandbox a user id of its own with no
  capabilities (so the process limit counts only that sandbox's processes), which no other live
  sandbox holds; run as another user, bubblewrap adds a user namespace; a seccomp filter
  (:func:`seccomp_program`) refuses new namespaces inside, memory no process holds (memfd
  files, SysV shared memory and message queues), the kernel's keyrings, ``io_uring`` and
  ``userfaultfd``;
- resource limits the worker sets on itself before any student code runs (:class:`Limits`):
  address space, CPU time, processes, file size, open files; the grader keeps at most
  ``Limits.output_kb`` of what the submission prints and drops the rest, and kills a sandbox
  whose processes together hold more memory than ``Limits.memory_mb``;
- once the cells have run, no process but the worker: the grader kills the others and sets the
  worker's process limit to 0 (no new process or thread) while it checks the functions.

The grader sends plain data and reads plain data (``rnncourse.exercises.wire``) under its own
wall-clock deadlines; a sandbox that misses one is killed, with everything in it. It parses no
message of more than :data:`~rnncourse.exercises.wire.HARD_MAX_CONTAINERS` lists and objects or
:data:`~rnncourse.exercises.wire.HARD_MAX_COMMAS` commas, and accepts more than ``wire.MAX_CONTAINERS``
or ``wire.MAX_COMMAS`` only in an answer or a call back (``LONG_OPS``), which may echo the
grader's own arguments.
"""

from __future__ import annotations

import json
import os
import select
import selectors
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from errno import ENOSYS, EPERM
from pathlib import Path

import rnncourse

from .wire import HARD_MAX_COMMAS, HARD_MAX_CONTAINERS, WireError, dumps, loads, too_many_parts

__all__ = ["Limits", "Session", "SandboxUnavailable", "SandboxLost", "CallTimeout", "sandbox_problem",
           "INSTALL_HINT", "NO_SANDBOX_WARNING", "NOT_ON_WINDOWS"]

PACKAGE_DIR = Path(rnncourse.__file__).resolve().parent
#: Files of ``rnncourse/exercises`` the worker needs; the others (checkers, grader) are hidden.
WORKER_FILES = ("__init__.py", "registry.py", "runner.py", "wire.py")
INSIDE = "/submission"
INSTALL_HINT = ("install bubblewrap (Debian/Ubuntu: sudo apt-get install bubblewrap; Fedora: sudo dnf install "
                "bubblewrap), and where it still fails as a normal user, allow unprivileged user namespaces "
                "(sysctl kernel.unprivileged_userns_clone=1; Ubuntu 24.04 needs an AppArmor profile for bwrap) "
                "or grade as root")
#: What :func:`sandbox_problem` says in place of ``INSTALL_HINT`` on a system other than Linux (macOS).
_NEEDS_LINUX = "the sandbox needs Linux (a Linux machine, VM, WSL2 or a container): grade there"
#: Why grading is refused on Windows, sandbox or none.
NOT_ON_WINDOWS = ("grading runs the students' code under POSIX limits (memory, CPU time, file size), which Windows "
                  "lacks: grade on Linux, WSL2, or macOS with --no-sandbox")
NO_SANDBOX_WARNING = ("WARNING: --no-sandbox: submissions run WITHOUT a sandbox, as your user, with your files "
                      "and your network. Their code can read, change or delete anything you can, and start "
                      "processes that outlive grading. The verdicts are still computed outside their process. "
                      "Use this only for submissions you trust.")
#: Only an answer or a call back, which may echo large arguments of the grader's, may hold more
#: than ``MAX_CONTAINERS`` lists and objects or ``MAX_COMMAS`` commas (the worker keeps a value
#: of its own within them); nothing past ``HARD_MAX_CONTAINERS`` or ``HARD_MAX_COMMAS`` is parsed.
LONG_OPS = ("return", "callback")
#: The user ids this grader gives its sandboxes, _UID_COUNT from _UID_BASE on, those held by a live sandbox in _UIDS_HELD.
_UID_COUNT = 100
_UID_BASE = 1_500_000_000 + (os.getpid() % 100_000) * _UID_COUNT
_UIDS_HELD = set()
_UIDS_LOCK = threading.Lock()


class SandboxUnavailable(RuntimeError):
    """The sandbox cannot be created on this machine; the message says why and how to fix it."""


def _take_uid() -> int:
    """A user id for a new sandbox: one that no live sandbox of this grader holds and no process runs as.

    Closing a sandbox kills every process of its user, so two live sandboxes must never share one.
    """
    with _UIDS_LOCK:
        for uid in range(_UID_BASE, _UID_BASE + _UID_COUNT):
            if uid not in _UIDS_HELD and not processes_of(uid):
                _UIDS_HELD.add(uid)
                return uid
    raise SandboxUnavailable(f"all {_UID_COUNT} user ids for sandboxes are in use: grade fewer submissions at "
                             f"once (--jobs)")


def _give_back_uid(uid) -> None:
    """Let a later sandbox have ``uid`` (its sandbox is closed, its processes killed)."""
    with _UIDS_LOCK:
        _UIDS_HELD.discard(uid)


class SandboxLost(BaseException):
    """The sandbox ended, or broke the conversation, while the grader waited for it."""


class CallTimeout(BaseException):
    """The submission did not answer within its time limit; the sandbox was killed."""


@dataclass(frozen=True)
class Limits:
    """Resource limits of one sandbox.

    Attributes
    ----------
    memory_mb : int
        Address space of each process (``RLIMIT_AS``; PyTorch's import alone needs about 1.5 GB),
        and resident memory of all the sandbox's processes together (the grader checks it five
        times a second and kills the sandbox above it). Memory that no process's resident set
        counts is refused by :func:`seccomp_program` (memfd files, SysV shared memory and
        message queues), or bounded by the sizes of the writable folders (files). Not counted
        and not refused (Python needs them): data waiting in Unix sockets and pipes, bounded
        only by ``processes`` x ``open_files`` x the kernel's socket buffer size
        (``net.core.wmem_default``, about 200 KB): 20 processes filling their sockets hold about
        1 GB, the defaults allow about 3.5 GB. A cgroup v2 ``memory.max`` per sandbox would count
        it; the grader makes no cgroups.
    processes : int
        Processes and threads of the sandbox's user (``RLIMIT_NPROC``) while the cells run; none
        new while the functions are checked.
    file_size_mb : int
        Largest file it may write (``RLIMIT_FSIZE``), and the size of its writable folder.
    open_files : int
        Open file descriptors (``RLIMIT_NOFILE``).
    output_kb : int
        What the grader keeps of the submission's printed output (the first and last halves).
    message_mb : int
        Largest message the grader reads from the sandbox.
    """

    memory_mb: int = 4096
    processes: int = 64
    file_size_mb: int = 64
    open_files: int = 256
    output_kb: int = 64
    message_mb: int = 64

    def for_worker(self, cpu_seconds: float, sandbox: bool = True) -> dict:
        """The limits the worker sets on itself, in bytes and seconds.

        Without the sandbox the process limit is left out: it would count all the processes of
        the instructor's user, not the submission's.

        Parameters
        ----------
        cpu_seconds : float
            CPU time the worker may use, rounded down and given one second more.
        sandbox : bool
            Whether the worker runs in the sandbox (else ``"processes"`` is ``None``).

        Returns
        -------
        dict
            ``"memory"``, ``"cpu"``, ``"processes"``, ``"file_size"``, ``"open_files"`` and ``"message"``
            (the longest answer the worker sends, in bytes).
        """
        return {"memory": self.memory_mb << 20, "cpu": int(cpu_seconds) + 1,
                "processes": self.processes if sandbox else None,
                "file_size": self.file_size_mb << 20, "open_files": self.open_files,
                "message": self.message_mb << 20}     # not a limit the worker sets: the longest answer it sends


#: Per architecture, its audit number and the numbers of the system calls the filter looks at.
_ARCHITECTURES = {
    "x86_64": (0xC000003E, {"clone": 56, "unshare": 272, "setns": 308, "clone3": 435, "memfd_create": 319,
                            "memfd_secret": 447, "shmget": 29, "msgget": 68, "add_key": 248, "request_key": 249,
                            "keyctl": 250, "io_uring_setup": 425, "io_uring_enter": 426, "io_uring_register": 427,
                            "userfaultfd": 323}),
    "aarch64": (0xC00000B7, {"clone": 220, "unshare": 97, "setns": 268, "clone3": 435, "memfd_create": 279,
                             "memfd_secret": 447, "shmget": 194, "msgget": 186, "add_key": 217, "request_key": 218,
                             "keyctl": 219, "io_uring_setup": 425, "io_uring_enter": 426, "io_uring_register": 427,
                             "userfaultfd": 282}),
}
#: The system calls refused in the sandbox, and the error each fails with (see :func:`seccomp_program`).
REFUSED = {
    "unshare": EPERM, "setns": EPERM,                                   # new namespaces
    "clone3": ENOSYS,                                                   # the C library falls back to clone
    "memfd_create": ENOSYS, "memfd_secret": ENOSYS, "shmget": ENOSYS, "msgget": ENOSYS,   # unseen memory
    "add_key": ENOSYS, "request_key": ENOSYS, "keyctl": ENOSYS,        # the kernel's keyrings
    "io_uring_setup": ENOSYS, "io_uring_enter": ENOSYS, "io_uring_register": ENOSYS, "userfaultfd": ENOSYS,
}
#: clone() flags that make a namespace (NEWNS, NEWCGROUP, NEWUTS, NEWIPC, NEWUSER, NEWPID, NEWNET).
_CLONE_NEW = 0x00020000 | 0x02000000 | 0x04000000 | 0x08000000 | 0x10000000 | 0x20000000 | 0x40000000
_X32_BIT = 0x40000000
# Classic BPF: load a word of struct seccomp_data (offsets: nr 0, arch 4, args[0] 16), jumps, return.
_LD, _JEQ, _JGE, _JSET, _RET = 0x20, 0x15, 0x35, 0x45, 0x06
_ALLOW, _ERRNO = 0x7FFF0000, 0x00050000


def seccomp_program() -> bytes | None:
    """A seccomp filter (classic BPF) for the sandbox, or ``None`` on an architecture not in the table.

    Each system call of ``REFUSED`` fails with its error number: ``unshare`` and ``setns``
    with EPERM (no new namespaces), and with ENOSYS, as on a kernel without them:

    - ``clone3``: its flags sit in memory a filter cannot read; the C library then falls back to
      ``clone``, which fails with EPERM when its flags ask for a namespace;
    - ``memfd_create``, ``memfd_secret``, ``shmget``, ``msgget``: the memory of a memfd file, a SysV
      shared memory segment or message queue belongs to no process's resident set, so the
      grader's memory watch could not see it;
    - ``add_key``, ``request_key``, ``keyctl``: the kernel's keyrings are not namespaced: a
      submission could read the grader's session keyring (tokens kept there), and the keyring of
      its user id outlives its processes, carrying data to the next submission graded with it;
    - ``io_uring_*`` and ``userfaultfd``: kernel attack surface Python and its libraries do not need.

    Other architectures' system calls and, on x86-64, the x32 ones fail with EPERM.
    """
    import platform
    import struct

    machine = platform.machine()
    if machine not in _ARCHITECTURES:
        return None
    arch, numbers = _ARCHITECTURES[machine]
    # (code, k, jump if true, jump if false): a jump is a label (an instruction further down) or None (the next).
    program = [(_LD, 4, None, None), (_JEQ, arch, None, EPERM), (_LD, 0, None, None)]
    if machine == "x86_64":
        program.append((_JGE, _X32_BIT, EPERM, None))
    program += [(_JEQ, numbers[name], error, None) for name, error in REFUSED.items()]
    program += [(_JEQ, numbers["clone"], None, "allow"), (_LD, 16, None, None), (_JSET, _CLONE_NEW, EPERM, None)]
    labels = {"allow": len(program)}
    program.append((_RET, _ALLOW, None, None))
    for error in sorted(set(REFUSED.values()) | {EPERM}):     # a label per error number: its return
        labels[error] = len(program)
        program.append((_RET, _ERRNO | error, None, None))
    code = b""
    for i, (op, k, true, false) in enumerate(program):
        jt, jf = (0 if label is None else labels[label] - i - 1 for label in (true, false))
        code += struct.pack("=HBBI", op, jt, jf, k)
    return code


#: What the sandbox sees of ``/etc``, the dynamic loader's cache, the time zone, fontconfig's settings
#: (matplotlib runs ``fc-list``) and Debian's ``alternatives`` (a distribution's NumPy finds its BLAS
#: through them). Nothing else of the machine's configuration: no users (``getpass.getuser()``
#: raises ``KeyError``), no hosts file (``localhost`` does not resolve), no keys.
ETC_ENTRIES = ("ld.so.cache", "localtime", "fonts", "alternatives")


def _system_mounts() -> list:
    args = ["--ro-bind", "/usr", "/usr", "--perms", "0755", "--dir", "/etc"]
    for name in ETC_ENTRIES:
        path = f"/etc/{name}"
        if os.path.islink(path):
            args += ["--symlink", os.readlink(path), path]
        elif os.path.exists(path):
            args += ["--ro-bind", path, path]
    for top in ("/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32"):
        if os.path.islink(top):
            args += ["--symlink", os.readlink(top), top]
        elif os.path.isdir(top):
            args += ["--ro-bind", top, top]
    return args


def _tree_mounts(paths, existing=()) -> list:
    """Read-only binds of ``paths`` at the same place, their parent folders made traversable.

    ``existing``: folders already made (the private ``/tmp``), which are left as they are.
    """
    args, made = [], {"/", *existing}
    for path in sorted(set(paths)):
        parents = Path(path).parents
        for parent in reversed(list(parents)):
            p = str(parent)
            if p not in made and not p.startswith(("/usr", "/etc")):
                args += ["--perms", "0755", "--dir", p]
                made.add(p)
        args += ["--ro-bind", path, path]
        made.add(path)
    return args


def _python() -> tuple:
    """The interpreter to run inside (the virtual environment's), and the folders it needs."""
    prefix = os.path.realpath(sys.prefix)
    executable = os.path.join(prefix, "bin", os.path.basename(sys.executable))
    if not os.path.exists(executable):
        executable = os.path.realpath(sys.executable)
    folders = {prefix, os.path.realpath(sys.base_prefix), os.path.dirname(os.path.realpath(sys.executable))}
    folders = {f for f in folders if not f.startswith(("/usr/", "/etc/")) and f != "/usr"}
    # Keep the outermost folders only (a venv inside the base prefix needs no second bind).
    outer = [f for f in folders if not any(f != g and f.startswith(g + os.sep) for g in folders)]
    return executable, outer


def _environment() -> dict:
    return {"HOME": INSIDE, "TMPDIR": INSIDE, "PATH": "/usr/local/bin:/usr/bin:/bin", "LANG": "C.UTF-8",
            "PYTHONPATH": str(PACKAGE_DIR.parent), "PYTHONDONTWRITEBYTECODE": "1", "PYTHONNOUSERSITE": "1",
            "MPLBACKEND": "Agg", "MPLCONFIGDIR": f"{INSIDE}/.matplotlib", "OMP_NUM_THREADS": "1",
            "OPENBLAS_NUM_THREADS": "1", "MKL_NUM_THREADS": "1", "PYTHONHASHSEED": "0",
            # Prints leave at once: a message then quotes what a call printed before it ended the sandbox
            # (os._exit flushes nothing), and never a print of one call that a later one flushed.
            "PYTHONUNBUFFERED": "1"}


def bwrap_command(worker: list, limits: Limits, uid=None, seccomp_fd=None) -> list:
    """The ``bwrap`` command line that runs ``worker`` (a command) in a fresh sandbox.

    (``_short_command`` then moves its options out of the sandbox's sight.)

    Parameters
    ----------
    worker : list of str
        The command run inside; the word ``"PYTHON"`` stands for this Python's executable.
    limits : Limits
        Sets the size of the sandbox's writable folder (``file_size_mb``).
    uid : int, optional
        As root, the unprivileged user id the worker runs as (``setpriv`` drops root's
        capabilities and switches to it inside the sandbox); otherwise ``None`` and bubblewrap
        makes a user namespace.
    seccomp_fd : int, optional
        A file descriptor from which bubblewrap reads :func:`seccomp_program`.
    """
    executable, folders = _python()
    hidden = [str(f) for f in sorted((PACKAGE_DIR / "exercises").glob("*.py")) if f.name not in WORKER_FILES]
    cmd = ["bwrap", "--die-with-parent", "--new-session", "--unshare-pid", "--unshare-net", "--unshare-ipc",
           "--unshare-uts", "--unshare-cgroup-try", "--hostname", "sandbox"]
    if uid is None:
        cmd += ["--unshare-user", "--disable-userns"]
    if seccomp_fd is not None:
        cmd += ["--seccomp", str(seccomp_fd)]
    cmd += _system_mounts()
    # The private folders first: a checkout or virtual environment under /tmp is then bound on top
    # of the private /tmp, instead of being hidden by it.
    cmd += ["--proc", "/proc", "--dev", "/dev",
            "--perms", "1777", "--size", str(limits.file_size_mb << 20), "--tmpfs", INSIDE,
            "--perms", "1777", "--size", str(8 << 20), "--tmpfs", "/tmp",
            "--perms", "1777", "--size", str(8 << 20), "--tmpfs", "/dev/shm"]     # multiprocessing's locks
    cmd += _tree_mounts(folders + [str(PACKAGE_DIR)], existing=("/tmp", INSIDE))
    for path in hidden:
        cmd += ["--ro-bind", "/dev/null", path]
    if (PACKAGE_DIR / "exercises" / "__pycache__").is_dir():   # compiled checkers are readable too
        cmd += ["--tmpfs", str(PACKAGE_DIR / "exercises" / "__pycache__")]
    cmd += ["--chdir", INSIDE, "--clearenv"]
    for key, value in _environment().items():
        cmd += ["--setenv", key, value]
    cmd.append("--")
    if uid is not None:
        cmd += ["setpriv", f"--reuid={uid}", f"--regid={uid}", "--clear-groups", "--inh-caps=-all",
                "--bounding-set=-all", "--"]
    return cmd + [executable if w == "PYTHON" else w for w in worker]


def _pipe_holding(data: bytes) -> int:
    """The read end of a pipe that holds ``data`` (then closed for writing)."""
    import fcntl

    read, write = os.pipe()
    try:
        if len(data) > 1 << 16:       # a pipe holds 64 KB unless told more (up to /proc/sys/fs/pipe-max-size)
            fcntl.fcntl(write, fcntl.F_SETPIPE_SZ, len(data))
        os.write(write, data)
    except BaseException:
        os.close(read)
        raise
    finally:
        os.close(write)
    return read


def _short_command(cmd: list) -> tuple:
    """``(command, fd)``: ``cmd`` (from :func:`bwrap_command`) with its options read from the pipe ``fd``.

    Inside the sandbox, ``/proc/1/cmdline`` shows bubblewrap's command line: given with
    ``--args FD``, the options (the folders bound, the files hidden, the environment) stay out of
    it; what is left is the worker's command, which the worker sees as its own anyway.
    """
    end = cmd.index("--")
    fd = _pipe_holding(b"".join(arg.encode() + b"\0" for arg in cmd[1:end]))
    return [cmd[0], "--args", str(fd)] + cmd[end + 1:], fd


def _seccomp_pipe():
    """A pipe holding the seccomp program, for ``--seccomp``; ``None`` where there is none."""
    program = seccomp_program()
    if program is None:
        return None
    return _pipe_holding(program)


_PROBLEM = {}
_CAP_SYS_RESOURCE = 24


def _has_capability(bit: int) -> bool:
    """Whether this process holds the Linux capability number ``bit`` (its ``CapEff`` in ``/proc/self/status``)."""
    try:
        with open("/proc/self/status") as f:
            effective = next(line.split()[1] for line in f if line.startswith("CapEff:"))
    except (OSError, StopIteration, IndexError):
        return False
    return bool(int(effective, 16) >> bit & 1)


def sandbox_problem() -> str | None:
    """Why the sandbox cannot be created here (a message with the fix), or ``None`` when it can."""
    if "checked" in _PROBLEM:
        return _PROBLEM["checked"]
    problem = None
    if shutil.which("bwrap") is None:
        problem = f"bubblewrap (bwrap) is not installed: {INSTALL_HINT if sys.platform == 'linux' else _NEEDS_LINUX}"
    elif os.geteuid() == 0 and not shutil.which("setpriv"):
        problem = "setpriv (util-linux) is missing: apt-get install util-linux"
    elif os.geteuid() == 0 and not _has_capability(_CAP_SYS_RESOURCE) and not shutil.which("prlimit"):
        problem = ("prlimit (util-linux) is missing, and without CAP_SYS_RESOURCE the grader needs it to limit a "
                   "sandbox's processes: apt-get install util-linux")
    else:
        uid = _take_uid() if os.geteuid() == 0 else None
        fd = _seccomp_pipe()
        fds = [] if fd is None else [fd]
        try:
            cmd, args_fd = _short_command(
                bwrap_command(["PYTHON", "-c", "import rnncourse.exercises.runner, numpy"], Limits(), uid, fd))
            fds.append(args_fd)
            run = subprocess.run(cmd, capture_output=True, timeout=60, stdin=subprocess.DEVNULL, pass_fds=fds)
            if run.returncode != 0:
                problem = (f"bubblewrap could not create the sandbox "
                           f"({run.stderr.decode(errors='replace').strip()[-300:] or f'exit code {run.returncode}'}): "
                           f"{INSTALL_HINT}")
        except (OSError, subprocess.TimeoutExpired) as err:
            problem = f"bubblewrap could not create the sandbox ({err}): {INSTALL_HINT}"
        finally:
            for each in fds:
                os.close(each)
            _give_back_uid(uid)
    _PROBLEM["checked"] = problem
    return problem


class _Output:
    """Drains a pipe in a thread, keeping the first and last ``keep`` bytes and counting the rest.

    Bytes are counted from 0 as they arrive: :meth:`mark` returns the count so far (what the pipe
    holds included), and ``text(since=mark)`` keeps only what came after it, so a message can quote
    what one call of the submission printed, not what an earlier one did.
    """

    def __init__(self, stream, keep: int):
        self.head, self.tail, self.total, self.keep = b"", b"", 0, keep
        self.stream, self.ended = stream, False
        self.lock = threading.Lock()
        os.set_blocking(stream.fileno(), False)
        self.thread = threading.Thread(target=self._drain, daemon=True)
        self.thread.start()

    def _drain(self):
        while not self.ended:
            try:
                select.select([self.stream], [], [], 1.0)
            except (OSError, ValueError):       # the stream was closed
                return
            with self.lock:
                self._read()

    def _read(self) -> None:
        """Take in what the pipe holds now (``self.lock`` held); at its end, set ``ended``."""
        half = self.keep // 2
        while not self.ended:
            try:
                chunk = self.stream.raw.read(1 << 16)     # None: nothing there now
            except (OSError, ValueError):
                chunk = b""
            if chunk is None:
                return
            if not chunk:
                self.ended = True
                return
            self.total += len(chunk)
            if len(self.head) < half:
                taken = half - len(self.head)
                self.head, chunk = self.head + chunk[:taken], chunk[taken:]
            self.tail = (self.tail + chunk)[-half:]

    def mark(self) -> int:
        """The number of bytes received so far, after taking in what the pipe holds now."""
        with self.lock:
            self._read()
            return self.total

    def text(self, since: int = 0) -> str:
        """What was kept of the bytes after the first ``since``: the start and the end, with the number of bytes
        dropped between them."""
        with self.lock:
            head, tail, total = self.head, self.tail, self.total
        head = head[since:]
        tail = tail[max(0, since - (total - len(tail))):]
        dropped = total - max(since, 0) - len(head) - len(tail)
        middle = f"\n[... {dropped} bytes of output dropped ...]\n" if dropped > 0 else ""
        return head.decode("utf-8", "replace") + middle + tail.decode("utf-8", "replace")


class Session:
    """One sandboxed worker for one submission, kept alive over all its exercises.

    Raises :class:`SandboxUnavailable` on Windows, sandbox or none (``NOT_ON_WINDOWS``), and where
    the sandbox cannot be created (:func:`sandbox_problem`).

    Parameters
    ----------
    limits : Limits
        The resource limits.
    cpu_seconds : float
        CPU time the worker may use in all.
    sandbox : bool
        ``False`` runs the worker as a plain child process (the loudly warned ``--no-sandbox``), in a
        session of its own, under the limits it sets on itself (:class:`Limits`, less ``processes``;
        one the system refuses, as macOS may refuse ``RLIMIT_AS``, is left out), killed with its
        process group at the end. On Linux the grader still watches the memory of all the worker's
        processes together and stops its other processes after the cells; elsewhere (macOS) it does
        neither, since both read Linux's ``/proc`` and use its ``prlimit``.
    startup_seconds : float
        Wall-clock time allowed for the sandbox and Python to start.
    """

    def __init__(self, limits: Limits = Limits(), cpu_seconds: float = 600, sandbox: bool = True,
                 startup_seconds: float = 60):
        if sys.platform == "win32":
            raise SandboxUnavailable(NOT_ON_WINDOWS)
        self.limits, self.sandbox = limits, sandbox
        self.uid = None
        worker = ["PYTHON", "-P", "-m", "rnncourse.exercises.runner",
                  json.dumps(limits.for_worker(cpu_seconds, sandbox))]
        self.folder = None
        if sandbox:
            problem = sandbox_problem()
            if problem:
                raise SandboxUnavailable(f"cannot grade in a sandbox: {problem}; or pass --no-sandbox, only for "
                                         f"submissions you trust")
            self.uid = _take_uid() if os.geteuid() == 0 else None     # given back by close(), or below
            fds = []
            try:
                fd = _seccomp_pipe()
                fds += [] if fd is None else [fd]
                cmd, args_fd = _short_command(bwrap_command(worker, limits, self.uid, fd))
                fds.append(args_fd)
            except BaseException:
                for each in fds:
                    os.close(each)
                _give_back_uid(self.uid)
                raise
            cwd, env = None, {"PATH": os.environ.get("PATH", "")}
        else:
            self.folder = tempfile.mkdtemp(prefix="rnncourse-unsandboxed-")
            cmd, cwd = [sys.executable if w == "PYTHON" else w for w in worker], self.folder
            env = {**_environment(), "HOME": self.folder, "TMPDIR": self.folder,
                   "MPLCONFIGDIR": os.path.join(self.folder, ".matplotlib"),
                   "PYTHONPATH": os.pathsep.join([str(PACKAGE_DIR.parent)] + sys.path[1:])}
            fds = []
        self.started = time.monotonic()
        try:
            self.proc = subprocess.Popen(cmd, cwd=cwd, env=env, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                         stderr=subprocess.PIPE, start_new_session=True, pass_fds=fds)
        except BaseException:
            _give_back_uid(self.uid)
            raise
        finally:
            for each in fds:
                os.close(each)
        self.output = _Output(self.proc.stderr, limits.output_kb << 10)
        self.output_mark = 0           # where the output of the latest request starts (_ended quotes only that)
        self.killed_for = None
        # The memory watch and the stopping of other processes read Linux's /proc and use its prlimit (the
        # sandbox itself exists only on Linux: sandbox_problem refuses it elsewhere).
        self.tracks_processes = sys.platform == "linux"
        self.watchdog = None
        if self.tracks_processes:
            self.watchdog = threading.Thread(target=self._watch_memory, daemon=True)
            self.watchdog.start()
        self.buffer, self.scanned = bytearray(), 0
        self.last_cell = None
        self.selector = selectors.DefaultSelector()
        self.selector.register(self.proc.stdout, selectors.EVENT_READ)
        os.set_blocking(self.proc.stdout.fileno(), False)
        os.set_blocking(self.proc.stdin.fileno(), False)
        self.ready_seconds = None
        try:
            ready = self._expect(self._receive(time.monotonic() + startup_seconds), "ready")
        except (SandboxLost, CallTimeout):
            self.close()
            raise
        self.worker_pid = ready.get("pid")     # in the sandbox's PID namespace; sent before any student code
        self.ready_seconds = time.monotonic() - self.started

    # ------------------------------------------------------------------ messages

    def _receive(self, deadline: float) -> dict:
        limit = self.limits.message_mb << 20
        while True:
            end = self.buffer.find(b"\n", self.scanned)
            if end >= 0:
                line = bytes(self.buffer[:end])
                del self.buffer[:end + 1]
                self.scanned = 0
                break
            self.scanned = len(self.buffer)
            if len(self.buffer) > limit:
                self.close()
                raise SandboxLost(f"it sent a message larger than {self.limits.message_mb} MB")
            left = deadline - time.monotonic()
            if left <= 0:
                self.close()
                raise CallTimeout()
            if not self.selector.select(timeout=min(left, 1.0)):
                continue
            try:
                chunk = os.read(self.proc.stdout.fileno(), 1 << 20)
            except BlockingIOError:
                continue
            if not chunk:
                self.close()
                raise SandboxLost(self._ended())
            self.buffer += chunk
        too_many = too_many_parts(line, HARD_MAX_CONTAINERS, HARD_MAX_COMMAS)
        if too_many is None:
            try:
                message = loads(line)
            except WireError as err:
                self.close()
                raise SandboxLost(f"it broke the grading protocol ({err})") from None
            too_many = None if message["op"] in LONG_OPS else too_many_parts(line)
        if too_many:
            self.close()
            raise SandboxLost(f"it sent a message of {too_many}")
        return message

    def _expect(self, message: dict, op: str) -> dict:
        if message.get("op") != op:
            self.close()
            raise SandboxLost(f"it broke the grading protocol (sent {str(message.get('op'))[:40]!r}, "
                              f"expected {op!r})")
        return message

    def _send(self, message: dict, deadline: float) -> None:
        """Write one message, giving up (and killing the sandbox) at ``deadline``: a sandbox that
        stops reading cannot hold the grader."""
        data, fd = memoryview(dumps(message)), self.proc.stdin.fileno()
        while data:
            left = deadline - time.monotonic()
            if left <= 0:
                self.close()
                raise CallTimeout()
            if not select.select([], [fd], [], min(left, 1.0))[1]:
                continue
            try:
                data = data[os.write(fd, data):]
            except BlockingIOError:
                continue
            except (BrokenPipeError, OSError):
                self.close()
                raise SandboxLost(self._ended()) from None

    def _watch_memory(self, every: float = 0.2) -> None:
        """Kill the sandbox when all its processes together hold more memory than the limit.

        ``RLIMIT_AS`` bounds each process; this bounds their sum (a submission that forks and
        fills memory in every child), checked five times a second.
        """
        limit = self.limits.memory_mb << 20
        while self.proc.poll() is None:
            if _descendants_rss(self.proc.pid) > limit:
                self.killed_for = (f"its processes together used more than {self.limits.memory_mb} MB of memory, "
                                   f"so the grader stopped it")
                try:
                    os.killpg(self.proc.pid, signal.SIGKILL)
                except (ProcessLookupError, PermissionError):
                    pass
                return
            time.sleep(every)

    def _ended(self) -> str:
        if self.killed_for:
            return self.killed_for
        try:
            code = self.proc.wait(timeout=2)
        except subprocess.TimeoutExpired:
            return "its process stopped answering"
        if code < 0:
            return f"its process was killed by signal {signal.Signals(-code).name}"
        self.output.mark()             # what the ended process left in the pipe
        # The last line it printed since the latest request: never output of an earlier exercise's call.
        last = self.output.text(self.output_mark).strip().splitlines()
        return f"its process ended (exit code {code})" + (f": {last[-1][:200]}" if last and code else "")

    def request(self, message: dict, seconds: float, callback=None) -> dict:
        """Send ``message``; return the answer, serving progress notes and call-backs meanwhile.

        Raises :class:`CallTimeout` (the sandbox is then killed) after ``seconds`` of wall-clock time,
        and :class:`SandboxLost` when the sandbox ended or sent something else than a message.
        On Linux, after the answer to ``{"op": "run"}``, only the worker is left running, and it can
        start nothing (``_stop_other_processes``).

        Parameters
        ----------
        message : dict
            The request, with its ``"op"``.
        seconds : float
            Wall-clock time allowed for the answer, call-backs included.
        callback : callable, optional
            ``callback(message) -> reply`` answers a ``callback`` request of the worker.
        """
        deadline = time.monotonic() + seconds
        # The worker's prints of earlier requests are in the pipe by now: it wrote them before it answered.
        self.output_mark = self.output.mark()
        self._send(message, deadline)
        while True:
            reply = self._receive(deadline)
            if reply["op"] == "cell":
                cell = reply.get("cell")
                self.last_cell = cell if type(cell) is int else None     # never a large object kept alive
            elif reply["op"] == "callback" and callback is not None:
                self._send(callback(reply), deadline)
            else:
                if message.get("op") == "run" and self.tracks_processes:
                    self._stop_other_processes()
                return reply

    def _stop_other_processes(self, rounds: int = 50) -> None:
        """After the cells ran: forbid the worker new processes and threads, and kill all others of the sandbox.

        The blocking of the subjects is armed in the worker only while a function is checked; a
        process started while the cells ran keeps them unblocked and could serve them to the
        worker over a pipe. ``RLIMIT_NPROC`` of 0 (which the worker cannot raise again) stops the
        worker starting one later, from any of its threads; then every other process in the
        sandbox is killed, its new session, process group or double fork notwithstanding (they
        all descend from bubblewrap's first process). A worker process that is gone (a copy of
        it answering instead) or processes that keep coming end the sandbox.
        """
        table = _process_table()
        worker = next((pid for pid in _descendants(self.proc.pid, table)
                       if type(self.worker_pid) is int and _namespace_pid(pid) == self.worker_pid), None)
        gone = "its worker process ended while the cells ran"
        if worker is None:
            self.close()
            raise SandboxLost(gone)
        try:
            _forbid_new_processes(worker, self.uid)
        except (OSError, subprocess.SubprocessError) as err:
            ended = _process_table().get(worker, (0, 0, "X"))[2] in "ZX"
            self.close()
            raise SandboxLost(gone if ended else f"the grader could not limit its processes ({err})") from None
        keep = _ancestors(worker, table, self.proc.pid)
        for _ in range(rounds):
            table = _process_table()
            others = [pid for pid in _descendants(self.proc.pid, table)
                      if pid not in keep and table[pid][2] not in "ZX"]      # Z, X: ended, not yet reaped
            if not others:
                return
            _kill(others)
            time.sleep(0.02)
        self.close()
        raise SandboxLost("it kept starting processes after its cells ran")

    # ------------------------------------------------------------------ the end

    def alive(self) -> bool:
        """Whether the worker still runs. A sandbox found ended is closed: what is left of it is killed,
        its user id given back (a grader that starts a new one in its place need not close it)."""
        if self.proc.poll() is None:
            return True
        self.close()
        return False

    def close(self) -> None:
        """End the sandbox and everything in it; remove its files."""
        if self.proc.poll() is None:
            try:
                self.proc.stdin.close()
            except OSError:
                pass
            try:
                self.proc.wait(timeout=0.2)
            except subprocess.TimeoutExpired:
                pass
        try:
            os.killpg(self.proc.pid, signal.SIGKILL)     # bwrap, and with it the PID namespace
        except (ProcessLookupError, PermissionError):
            pass
        self.proc.wait()
        if self.uid is not None:
            _kill_user(self.uid)
            _give_back_uid(self.uid)
            self.uid = None      # closed twice, it must not kill the sandbox that has the id by then
        if self.watchdog is not None:
            self.watchdog.join(timeout=2)
        self.output.thread.join(timeout=2)
        for stream in (self.proc.stdout, self.proc.stderr):
            try:
                stream.close()
            except OSError:
                pass
        try:
            self.selector.close()
        except (OSError, KeyError):
            pass
        if self.folder:
            shutil.rmtree(self.folder, ignore_errors=True)


def _process_table() -> dict:
    """``pid -> (parent pid, resident bytes, state letter)`` of every process of the machine."""
    table = {}
    page = os.sysconf("SC_PAGE_SIZE")
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat", "rb") as f:
                    fields = f.read().rsplit(b")", 1)[1].split()
            except OSError:
                continue
            # fields[0]: the state, [1]: the parent, [21]: resident pages
            table[int(entry)] = (int(fields[1]), int(fields[21]) * page, fields[0].decode("ascii", "replace"))
    return table


def _descendants(root: int, table: dict) -> list:
    """``root`` and every process under it in ``table`` (from :func:`_process_table`)."""
    children = {}
    for pid, (parent, _, _) in table.items():
        children.setdefault(parent, []).append(pid)
    found, todo = [], [root]
    while todo:
        pid = todo.pop()
        found.append(pid)
        todo += children.get(pid, [])
    return found


def _ancestors(pid: int, table: dict, root: int) -> set:
    """``pid`` and its parents up to ``root`` (bubblewrap's processes above the worker)."""
    found = {pid}
    while pid != root and pid in table:
        pid = table[pid][0]
        found.add(pid)
    return found


def _forbid_new_processes(pid: int, uid=None) -> None:
    """Set process ``pid``'s ``RLIMIT_NPROC`` to 0: it can start no process or thread from now on.

    Lowering another process's limit takes ``CAP_SYS_RESOURCE`` or the same user: root without
    that capability (some containers) lowers it as the sandbox's user ``uid``, with util-linux's
    ``prlimit`` (also where Python's ``resource.prlimit``, Linux's own, is missing).
    """
    import resource

    if hasattr(resource, "prlimit"):
        try:
            resource.prlimit(pid, resource.RLIMIT_NPROC, (0, 0))
            return
        except PermissionError:
            if uid is None:
                raise
    tool = shutil.which("prlimit")
    if tool is None:
        raise OSError("prlimit (util-linux) is missing: apt-get install util-linux")
    as_user = {} if uid is None else {"user": uid, "group": uid, "extra_groups": []}
    subprocess.run([tool, f"--pid={pid}", "--nproc=0:0"], **as_user, check=True, stdin=subprocess.DEVNULL,
                   capture_output=True, timeout=30)


def _namespace_pid(pid: int):
    """The id of process ``pid`` in its own (innermost) PID namespace, or ``None`` when it is gone."""
    try:
        with open(f"/proc/{pid}/status", encoding="ascii", errors="replace") as f:
            for line in f:
                if line.startswith("NSpid:"):
                    return int(line.split()[-1])
    except (OSError, ValueError):
        return None
    return None


def _descendants_rss(root: int) -> int:
    """Resident memory, in bytes, of process ``root`` and all its descendants (a sandbox's processes)."""
    table = _process_table()
    return sum(table[pid][1] for pid in _descendants(root, table) if pid in table)


def processes_of(uid: int) -> list:
    """The ids of the running processes whose real user is ``uid``.

    Parameters
    ----------
    uid : int
        A user id.
    """
    found = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/status", encoding="ascii", errors="replace") as f:
                    for line in f:
                        if line.startswith("Uid:"):
                            if int(line.split()[1]) == uid:
                                found.append(int(entry))
                            break
            except OSError:
                continue
    return found


def _kill(pids) -> None:
    """Send SIGKILL to each of ``pids``, passing over those that have ended already."""
    for pid in pids:
        try:
            os.kill(pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass


def _kill_user(uid: int) -> None:
    """Kill what is left of a sandbox's user (the PID namespace should have ended it all already)."""
    for _ in range(20):
        left = processes_of(uid)
        if not left:
            return
        _kill(left)
        time.sleep(0.05)
