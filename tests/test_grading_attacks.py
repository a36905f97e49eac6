"""The attack suite: hostile submissions graded in one run with an honest control.

Each submission is ``tests/attacks/honest.py`` followed by one attack's cells (see
``tests/attacks/README.md``). The run must give the honest control full marks, each attack zero
for what it did not honestly solve (and full marks for what it did), and afterwards: no file
changed or created outside the submission's folder, no process of a sandbox alive, and no
connection accepted by a listener on the grader's machine.
"""

from __future__ import annotations

import errno
import hashlib
import os
import platform
import re
import socket
import subprocess
import time
import types
from pathlib import Path

import jupytext
import pytest

from exercise_fixtures import CHECKERS, EXERCISES, ROOT, bubblewrap_missing
from rnncourse.exercises import sandbox
from rnncourse.exercises.grade import grade_all
from rnncourse.exercises.runner import _SubjectBlocker
from rnncourse.exercises.wire import decode

ATTACKS = Path(__file__).with_name("attacks")
TIMEOUT, EXERCISE_TIMEOUT = 6, 4
MISSING = bubblewrap_missing()      # the environment only: a fault of the package's sandbox must fail, not skip
# One process runs this module's tests (make test: --dist loadgroup), so its module fixture runs once.
pytestmark = [pytest.mark.skipif(MISSING is not None, reason=f"no sandbox here: {MISSING}"),
              pytest.mark.xdist_group("test_grading_attacks")]

ALL_ZERO = {name: 0 for name in EXERCISES}
#: What the sandbox shows of /etc: the entries it binds that this machine has.
ETC_SEEN = sorted(name for name in sandbox.ETC_ENTRIES if os.path.lexists(f"/etc/{name}"))
WRITE_IT_YOURSELF = {"ch99.rnn_step": r"^write it yourself: this exercise is rnn_step_forward"}
MESSAGE_REFUSED = (r"scores zero: the sandbox ended while double was checked: it sent a message of 20003 lists and "
                   r"objects \(the grader reads at most 10000\)")
#: bubblewrap's options (folders bound, files hidden, environment) came through --args: only the worker's command shows.
WORKER_COMMAND_ONLY = (r"^double raised RuntimeError: CMDLINE=bwrap --args \d+ (setpriv --reuid=\d+ --regid=\d+ "
                       r"--clear-groups --inh-caps=-all --bounding-set=-all -- )?/\S+ -P -m rnncourse\.exercises\.runner "
                       rf"\{{[^{{}}]*\}} ETC={re.escape(repr(ETC_SEEN))}$")
#: attack -> (points where not full marks, {exercise: feedback pattern})
EXPECTED = {
    "honest": ({}, {}),
    # Its forged answers are read as its function's answers (1.0 for everything): wrong, so zero; or, when its
    # worker has exited before the grader limits its processes after the cells, the sandbox ended: zero too.
    "forge_results": (ALL_ZERO, {"ch99.double": r"should be a numpy\.ndarray of shape \(2,\), but is float|"
                                                r"the sandbox ended while .*: its worker process ended while the cells ran"}),
    "lying_ndarray": ({"ch99.double": 0, "ch99.rnn_step": 0},
                      {"ch99.double": r"should be a numpy\.ndarray of shape \(2,\), but is LyingArray"}),
    "lying_float": ({"ch99.mse": 0}, {"ch99.mse": r"should be a single number, but is Anything"}),
    "call_reference": ({"ch99.rnn_step": 0}, {"ch99.rnn_step": r"^write it yourself: this exercise is rnn_step_forward"}),
    "stub_internals": ({"ch99.rnn_step": 0}, {"ch99.rnn_step": r"^write it yourself: this exercise is rnn_step_forward"}),
    "package_wrapper": ({"ch99.rnn_step": 0}, {"ch99.rnn_step": r"^write it yourself: this exercise is rnn_forward; "
                                                                r".* through another package function"}),
    "write_files": ({}, {}),
    "network": ({}, {}),
    "survivor": ({}, {}),
    "memory_bomb": ({"ch99.double": 0}, {"ch99.double": r"double raised MemoryError"}),
    "fork_bomb": ({}, {}),
    "unbounded_output": ({}, {}),
    "sleep_in_c": ({"ch99.double": 0}, {"ch99.double": rf"not finished within the time limit of {EXERCISE_TIMEOUT} s"}),
    "kill_parent": ({}, {}),
    "pickle_reduce": ({"ch99.double": 0, "ch99.step_backward": 0}, {"ch99.double": r"but is Payload"}),
    "sys_modules_games": ({"ch99.double": 0, "ch99.mse": 0},
                          {"ch99.double": r"2 of 2 entries differ", "ch99.mse": r"is 0, but should be 5"}),
    "huge_answer": ({"ch99.double": 0}, {"ch99.double": r"scores zero: the sandbox ended while double was checked: "
                                                      r"it sent a message larger than 64 MB"}),
    "snoop": ({}, {}),
    "escalate": ({}, {}),
    "memfd_bomb": ({}, {}),
    "message_queues": ({}, {}),
    "keyring": ({}, {}),
    "kernel_surface": ({}, {}),
    "traceback_walk": ({"ch99.rnn_step": 0}, {"ch99.rnn_step": r"^write it yourself: this exercise is rnn_step_forward"}),
    "blocker_switch": ({"ch99.rnn_step": 0}, WRITE_IT_YOURSELF),
    "fork_server": ({"ch99.rnn_step": 0}, {"ch99.rnn_step": r"rnn_step raised RuntimeError: no helper answered"}),
    "message_flood": ({"ch99.double": 0}, {"ch99.double": MESSAGE_REFUSED}),
    "grader_paths": ({"ch99.double": 0}, {"ch99.double": WORKER_COMMAND_ONLY}),
}


def _digests(folder: Path) -> dict:
    return {str(p): hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(folder.rglob("*"))
            if p.is_file() and "__pycache__" not in p.parts}


def _survivors() -> list:
    """Processes started by an attack (marked zebra-survivor) or run by a sandbox's user."""
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if b"zebra-survivor" in (entry / "cmdline").read_bytes():
                    found.append(int(entry.name))
            except OSError:
                continue
    for uid in range(sandbox._UID_BASE, sandbox._UID_BASE + sandbox._UID_COUNT):
        found += sandbox.processes_of(uid)
    return found


@pytest.fixture(scope="module")
def attacked(tmp_path_factory):
    root = tmp_path_factory.mktemp("attacks")
    canary = root / "outside" / "canary.txt"
    canary.parent.mkdir()
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(8)
    listener.setblocking(False)
    honest = (ATTACKS / "honest.py").read_text()
    victim = root / "honest" / "99_fixture.ipynb"
    package_file = Path(sandbox.PACKAGE_DIR / "numpy" / "elman.py")
    fills = {"@CANARY@": str(canary), "@VICTIM@": str(victim), "@PACKAGE_FILE@": str(package_file), "@ROOT@": str(ROOT),
             "@PORT@": str(listener.getsockname()[1])}
    paths = []
    for name in EXPECTED:
        text = honest if name == "honest" else honest + "\n\n" + (ATTACKS / f"{name}.py").read_text()
        for key, value in fills.items():
            text = text.replace(key, value)
        path = root / name / "99_fixture.ipynb"
        path.parent.mkdir()
        jupytext.write(jupytext.reads(text, fmt="py:percent"), path)
        paths.append(path)
    package_before = _digests(sandbox.PACKAGE_DIR)
    submissions_before = _digests(root)
    start = time.monotonic()
    results = grade_all(paths, jobs=2, checkers=[str(CHECKERS)], timeout=TIMEOUT, exercise_timeout=EXERCISE_TIMEOUT)
    seconds = time.monotonic() - start
    time.sleep(3.5)                            # a survivor would have written the canary by now
    try:
        accepted = listener.accept()
        accepted[0].close()
        connections = 1
    except BlockingIOError:
        connections = 0
    listener.close()
    return {"results": {Path(r.path).parent.name: r for r in results}, "canary": canary, "seconds": seconds,
            "package_changed": _digests(sandbox.PACKAGE_DIR) != package_before,
            "submissions_changed": _digests(root) != submissions_before, "connections": connections,
            "survivors": _survivors()}


@pytest.mark.parametrize("name", list(EXPECTED))
def test_each_submission_gets_exactly_the_points_it_earned(attacked, name):
    result = attacked["results"][name]
    zero, messages = EXPECTED[name]
    got = {e.exercise: e.points for e in result.exercises}
    want = {ex: zero.get(ex, pts) for ex, (pts, _) in EXERCISES.items()}
    assert got == want, [(e.exercise, e.points, e.feedback) for e in result.exercises]
    feedback = {e.exercise: e.feedback for e in result.exercises}
    for exercise, pattern in messages.items():
        assert re.search(pattern, feedback[exercise]), feedback[exercise]


def test_the_honest_control_scores_full_marks_in_the_same_run(attacked):
    honest = attacked["results"]["honest"]
    assert (honest.points, honest.max_points, honest.status, honest.notes) == (7, 7, "ok", [])


def test_nothing_outside_the_submissions_folder_changed_and_nothing_is_left_running(attacked):
    assert not attacked["canary"].exists()
    assert not attacked["package_changed"]
    assert not attacked["submissions_changed"]
    assert attacked["survivors"] == []
    assert attacked["connections"] == 0


def test_what_the_attacks_did_to_their_own_sandbox_is_reported(attacked):
    results = attacked["results"]
    # Its parent is the sandbox's first process (root's, out of its reach): nothing to kill but itself.
    assert results["kill_parent"].status == "ok"
    assert any("raised ProcessLookupError" in n for n in results["kill_parent"].notes)
    assert any("was stopped: the notebook ran past its time limit" in n for n in results["unbounded_output"].notes)
    assert results["call_reference"].notes == []        # its teaching cell called the reference freely


AS_ROOT = pytest.mark.skipif(os.geteuid() != 0, reason="sandboxes have user ids of their own only when grading as root")


@AS_ROOT
def test_a_sandbox_user_id_is_never_shared_so_closing_one_sandbox_leaves_the_others_running(monkeypatch):
    # A long grading (one slow cell) stays open while more sandboxes than there are user ids open and
    # close: closing one kills every process of its user, so none of them may ever get the first one's.
    monkeypatch.setattr(sandbox, "_UID_COUNT", 3)
    first = sandbox.Session()
    uid = first.uid
    try:
        for _ in range(5):
            other = sandbox.Session()
            try:
                assert other.uid != uid
            finally:
                other.close()
        assert first.request({"op": "call", "function": "double"}, 10) == {"op": "missing"}   # still answers
    finally:
        first.close()
    assert sandbox.processes_of(uid) == []
    again = sandbox.Session()                        # may get the first one's id, now free
    try:
        first.close()                                # closed twice: it kills nothing of the next sandbox
        assert again.request({"op": "call", "function": "double"}, 10) == {"op": "missing"}
    finally:
        again.close()


@AS_ROOT
def test_a_user_id_that_still_runs_a_process_is_not_given_to_a_new_sandbox():
    session = sandbox.Session()
    uid = session.uid
    session.close()
    lingering = subprocess.Popen(["setpriv", f"--reuid={uid}", f"--regid={uid}", "--clear-groups", "sleep", "30"])
    try:
        while not sandbox.processes_of(uid):
            time.sleep(0.01)
        session = sandbox.Session()
        try:
            assert session.uid != uid
        finally:
            session.close()
        assert lingering.poll() is None          # closing that sandbox did not touch the process
    finally:
        lingering.kill()
        lingering.wait()


def test_two_sandboxes_opening_at_once_get_different_user_ids():
    # Between taking an id and starting its first process, a sandbox runs nothing as that user yet.
    first = sandbox._take_uid()
    try:
        second = sandbox._take_uid()
        sandbox._give_back_uid(second)
        assert second != first
    finally:
        sandbox._give_back_uid(first)


#: System calls the sandbox refuses: name -> (number on x86-64, on aarch64, arguments, error in the sandbox).
#: Outside the filter each of these calls succeeds or fails with another error (in the comment).
REFUSED_CALLS = {
    "unshare": (272, 97, (0,), errno.EPERM),                       # succeeds
    "setns": (308, 268, (-1, 0), errno.EPERM),                     # EBADF
    "clone": (56, 220, (0x10000000 | 0x200, 0, 0, 0, 0), errno.EPERM),   # NEWUSER with FS: EINVAL
    "clone3": (435, 435, (0, 0), errno.ENOSYS),                    # EINVAL
    "memfd_create": (319, 279, (0, 0), errno.ENOSYS),              # EFAULT
    "shmget": (29, 194, (0, 0, 0), errno.ENOSYS),                  # EINVAL
    "msgget": (68, 186, (0, 0), errno.ENOSYS),                     # a new queue
    "add_key": (248, 217, (0, 0, 0, 0, 0), errno.ENOSYS),          # EFAULT
    "request_key": (249, 218, (0, 0, 0, 0), errno.ENOSYS),         # EFAULT
    "keyctl": (250, 219, (9999, 0, 0, 0, 0), errno.ENOSYS),        # EOPNOTSUPP
    "io_uring_setup": (425, 425, (0, 0), errno.ENOSYS),            # EFAULT
    "io_uring_enter": (426, 426, (-1, 0, 0, 0, 0, 0), errno.ENOSYS),   # EBADF
    "io_uring_register": (427, 427, (-1, 0, 0, 0), errno.ENOSYS),  # EBADF
    "userfaultfd": (323, 282, (-1,), errno.ENOSYS),                # EINVAL
}
PROBE = """
import ctypes, os, threading
import numpy, torch
libc = ctypes.CDLL(None, use_errno=True)
libc.syscall.restype = ctypes.c_long
def attempt(number, *args):
    ctypes.set_errno(0)
    result = libc.syscall(ctypes.c_long(number), *[ctypes.c_long(a) for a in args])
    return -ctypes.get_errno() if result < 0 else result
CALLS = @CALLS@
FOUND = {name: attempt(number, *args) for name, (number, args) in CALLS.items()}
child = os.fork()                        # clone without a namespace flag
if child == 0:
    os._exit(7)
FOUND["fork"] = os.waitstatus_to_exitcode(os.waitpid(child, 0)[1])
thread = threading.Thread(target=FOUND.setdefault, args=("thread", 1))   # clone3, then clone
thread.start(); thread.join()
def report():
    return FOUND
"""


@pytest.mark.skipif(platform.machine() not in ("x86_64", "aarch64"), reason="the seccomp filter knows x86-64 and ARM64")
def test_the_sandbox_refuses_each_listed_system_call_and_still_runs_python_numpy_and_torch():
    column = 0 if platform.machine() == "x86_64" else 1
    calls = {name: (entry[column], entry[2]) for name, entry in REFUSED_CALLS.items()}
    calls["getpid"] = ((39, 172)[column], ())
    if column == 0:
        calls["x32 getpid"] = (0x40000000 | 39, ())
    session = sandbox.Session(cpu_seconds=60)
    try:
        ran = session.request({"op": "run", "cells": [[1, PROBE.replace("@CALLS@", repr(calls))]], "subjects": [],
                               "timeout": 60}, 90)
        assert ran == {"op": "ran", "problems": []}, session.output.text()[-2000:]
        reply = session.request({"op": "call", "function": "report", "args": {"t": "list", "v": []}, "seconds": 30}, 40)
    finally:
        session.close()
    found = decode(reply["value"])
    want = {name: -entry[3] for name, entry in REFUSED_CALLS.items()}
    want.update({"getpid": found["getpid"], "fork": 7, "thread": 1})
    if column == 0:
        want["x32 getpid"] = -errno.EPERM
    assert found == want
    assert found["getpid"] > 0


def test_an_error_raised_through_a_blocked_function_leads_neither_to_the_original_nor_to_the_blocker():
    module = types.ModuleType("fake_package")
    exec("def twice(x):\n    return 2 * x", vars(module))
    original = module.twice
    blocker = _SubjectBlocker({"fake_package.twice": None})
    blocker.patch(module)
    errors = []
    for armed in (False, True):          # the original raises (bad arguments); the blocker raises
        blocker.armed[0] = armed
        try:
            module.twice()
        except Exception as err:
            errors.append(err)
    blocker.armed[0] = False
    assert [type(e).__name__ for e in errors] == ["TypeError", "WriteItYourself"]
    assert module.twice(3) == 6 and module.twice is not original
    for err in errors:
        tb, held = err.__traceback__.tb_next, []        # the frames after this test's own
        while tb is not None:
            held += [v for v in tb.tb_frame.f_locals.values() if v is original or v is blocker]
            tb = tb.tb_next
        assert held == []


@AS_ROOT
@pytest.mark.parametrize("target, name", [(sandbox, "_seccomp_pipe"), (sandbox.subprocess, "Popen")])
def test_a_sandbox_that_fails_to_start_gives_its_user_id_back(monkeypatch, target, name):
    # Out of file descriptors (EMFILE) while starting: a lost id each time would, after 100, refuse every sandbox.
    def no_descriptors(*args, **kwargs):
        raise OSError(24, "Too many open files")

    sandbox.sandbox_problem()                         # checked (and cached) before the failure is planted
    held = set(sandbox._UIDS_HELD)
    monkeypatch.setattr(target, name, no_descriptors)
    with pytest.raises(OSError, match="Too many open files"):
        sandbox.Session()
    assert sandbox._UIDS_HELD == held


def test_prlimit_is_demanded_only_of_a_root_grader_without_cap_sys_resource(monkeypatch):
    which = sandbox.shutil.which
    monkeypatch.setattr(sandbox.shutil, "which", lambda name: None if name == "prlimit" else which(name))
    monkeypatch.setattr(sandbox.os, "geteuid", lambda: 0)
    for has_capability, problem in ((True, None), (False, "prlimit (util-linux) is missing")):
        monkeypatch.setattr(sandbox, "_has_capability", lambda bit: has_capability)
        monkeypatch.setattr(sandbox, "_PROBLEM", {})
        monkeypatch.setattr(sandbox, "bwrap_command", lambda *args: ["true"])      # the probe itself passes
        monkeypatch.setattr(sandbox, "_short_command", lambda cmd: (cmd, os.open(os.devnull, os.O_RDONLY)))
        found = sandbox.sandbox_problem()
        assert (found or "").startswith(problem or "") and (found is None) == (problem is None), found
