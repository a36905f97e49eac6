"""The instructor's tools on other systems than Linux, simulated here by monkeypatching what they lack.

macOS has no ``/proc``, no ``resource.prlimit`` and no bubblewrap: ``grade --no-sandbox`` must still grade.
Windows has no ``resource``, ``fcntl``, ``SIGALRM``, ``killpg`` or ``fork``: ``exercises`` and ``nbgrader`` must
work, and ``grade`` must refuse at once, saying where to grade instead. Student names reach the grader in the
forms other systems write them: decomposed Unicode (macOS), a console that cannot print them, a roster saved in
Windows' own code page.
"""

from __future__ import annotations

import builtins
import io
import os
import re
import shutil
import subprocess
import sys
import threading
import unicodedata

import pytest

from exercise_fixtures import CHECKERS, ROOT, instructor_notebook, write_notebook
from rnncourse.__main__ import main
from rnncourse.exercises import runner, sandbox
from rnncourse.exercises.grade import (ExerciseResult, SubmissionResult, grade_all, grades_csv, missing_from_roster,
                                       read_roster, student_ids)

TIMEOUT = 10
NFC, NFD = "zo\u00eb", "zoe\u0308"            # one name, as Linux and Windows write it, and as macOS does


def fake_grading(monkeypatch) -> None:
    """Grade each notebook with full marks on one exercise, without running it."""
    def grade_all(paths, roots=None, student=None, **kwargs):
        row = ExerciseResult("ch02.rnn_step", "rnn_step", 2, 2, True, "all checks passed")
        return [SubmissionResult(str(path), str(path), "ch02", "ok", [row], [], student=who)
                for path, who in zip(paths, student_ids(paths, roots, student))]

    monkeypatch.setattr("rnncourse.exercises.grade.grade_all", grade_all)


def notebooks(folder, *names) -> None:
    for name in names:
        (folder / name).parent.mkdir(parents=True, exist_ok=True)
        (folder / name).write_text("{}")


# ----------------------------------------------------------------------------- macOS

def without_proc(monkeypatch) -> None:
    """This process as on macOS: no ``/proc`` and no ``resource.prlimit`` (the worker it starts is Linux's)."""
    import resource

    listdir, opener = os.listdir, builtins.open

    def no_proc(path):
        if str(path).startswith("/proc"):
            raise FileNotFoundError(2, "No such file or directory", str(path))

    def fake_listdir(path="."):
        no_proc(path)
        return listdir(path)

    def fake_open(file, *args, **kwargs):
        if isinstance(file, (str, os.PathLike)):
            no_proc(os.fspath(file))
        return opener(file, *args, **kwargs)

    monkeypatch.setattr(os, "listdir", fake_listdir)
    monkeypatch.setattr(builtins, "open", fake_open)
    monkeypatch.setattr(io, "open", fake_open)
    monkeypatch.delattr(resource, "prlimit")
    monkeypatch.setattr(sys, "platform", "darwin")


def test_on_macos_the_unsandboxed_grader_needs_no_proc_and_no_prlimit(tmp_path, monkeypatch):
    failed, stopped = [], []
    monkeypatch.setattr(threading, "excepthook", failed.append)       # a thread of the grader's must not fail
    # Without the sandbox on macOS, the other processes are not stopped after the cells (no /proc to find them).
    monkeypatch.setattr(sandbox.Session, "_stop_other_processes", lambda self: stopped.append(self))
    path = write_notebook(instructor_notebook(), tmp_path / "ref.ipynb")
    without_proc(monkeypatch)
    [result] = grade_all([path], checkers=[str(CHECKERS)], sandbox=False, timeout=TIMEOUT)
    assert (result.points, result.max_points, result.status, result.notes) == (7, 7, "ok", [])
    assert failed == [] and stopped == []


def test_on_linux_the_unsandboxed_grader_still_stops_other_processes_and_watches_memory(tmp_path, monkeypatch):
    stopped, watched = [], []
    stop, watch = sandbox.Session._stop_other_processes, sandbox.Session._watch_memory
    monkeypatch.setattr(sandbox.Session, "_stop_other_processes", lambda self: stopped.append(self) or stop(self))
    monkeypatch.setattr(sandbox.Session, "_watch_memory", lambda self: watched.append(self) or watch(self))
    path = write_notebook(instructor_notebook(), tmp_path / "ref.ipynb")
    [result] = grade_all([path], checkers=[str(CHECKERS)], sandbox=False, timeout=TIMEOUT)
    assert (result.points, result.max_points, result.status, result.notes) == (7, 7, "ok", [])
    assert stopped and watched


def test_a_limit_macos_refuses_is_left_out_there_and_fails_the_worker_on_linux(monkeypatch):
    import resource
    import signal

    set_limits = []

    def setrlimit(which, limits):
        if which == resource.RLIMIT_AS:          # macOS: EINVAL, as Python's ValueError
            raise ValueError("current limit exceeds maximum limit")
        set_limits.append(which)

    monkeypatch.setattr(resource, "setrlimit", setrlimit)
    monkeypatch.setattr(signal, "signal", lambda *args: None)
    limits = sandbox.Limits().for_worker(60, sandbox=False)
    monkeypatch.setattr(sys, "platform", "darwin")
    runner.apply_limits(limits)
    # Without the sandbox: CPU time, file size and open files, no process limit; the memory one macOS refused.
    assert set_limits == [resource.RLIMIT_CPU, resource.RLIMIT_FSIZE, resource.RLIMIT_NOFILE]
    monkeypatch.setattr(sys, "platform", "linux")
    with pytest.raises(ValueError, match="current limit exceeds maximum limit"):
        runner.apply_limits(limits)


def test_without_bubblewrap_off_linux_the_refusal_says_the_sandbox_needs_linux(tmp_path, monkeypatch):
    monkeypatch.setattr(sandbox, "_PROBLEM", {})
    monkeypatch.setenv("PATH", str(tmp_path))          # no bwrap on the PATH
    monkeypatch.setattr(sys, "platform", "darwin")
    problem = sandbox.sandbox_problem()
    assert "apt-get" not in problem and "dnf" not in problem
    assert re.search(r"the sandbox needs Linux \(a Linux machine, VM, WSL2 or a container\)", problem), problem
    path = write_notebook(instructor_notebook(), tmp_path / "ref.ipynb")
    with pytest.raises(sandbox.SandboxUnavailable, match=r"needs Linux .*or pass --no-sandbox"):
        grade_all([path], checkers=[str(CHECKERS)])


def test_make_sandbox_off_linux_says_the_sandbox_needs_linux(tmp_path):
    """The recipe of ``make sandbox``, run by the shell as make runs it, where ``uname`` says Darwin and no bwrap is."""
    make = (ROOT / "Makefile").read_text()
    recipe = make[make.index("\nsandbox:\n"):].split("\n\n")[0].split("\n", 2)[2]
    script = recipe.replace("\n\t", "\n").replace("$$", "$").removeprefix("\t@")
    (tmp_path / "uname").write_text("#!/bin/sh\necho Darwin\n")
    (tmp_path / "uname").chmod(0o755)
    for tool in ("id",):
        (tmp_path / tool).symlink_to(shutil.which(tool))
    said = subprocess.run(["/bin/sh", "-c", script], capture_output=True, text=True, env={"PATH": str(tmp_path)},
                          timeout=60)
    assert said.returncode == 0 and said.stdout == (
        "bubblewrap is missing: the sandbox needs Linux (a Linux machine, VM, WSL2 or a container), or grade with "
        "--no-sandbox (macOS): the grading tests will be skipped\n"), said


# ----------------------------------------------------------------------------- Windows

#: Python's standard library as on Windows: no resource, fcntl, pwd, grp or termios; no POSIX-only signals or calls.
WINDOWS = """
import os, signal, sys
class Block:
    def find_spec(self, name, path=None, target=None):
        if name in ("resource", "fcntl", "pwd", "grp", "termios"):
            raise ModuleNotFoundError(f"No module named {name!r}", name=name)
for name in ("resource", "fcntl", "pwd", "grp", "termios"):
    sys.modules.pop(name, None)
sys.meta_path.insert(0, Block())
for name in ("SIGALRM", "setitimer", "ITIMER_REAL", "SIGKILL", "SIGXFSZ", "SIGCHLD", "SIGXCPU", "getitimer", "alarm"):
    if hasattr(signal, name):
        delattr(signal, name)
for name in ("fork", "killpg", "geteuid", "setsid", "getpgid"):
    if hasattr(os, name):
        delattr(os, name)
from rnncourse.__main__ import main
sys.exit(main(sys.argv[1:]))
"""


def on_windows(*args, cwd=ROOT) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(ROOT), "OMP_NUM_THREADS": "1"}
    return subprocess.run([sys.executable, "-c", WINDOWS, *args], capture_output=True, text=True, cwd=cwd, env=env,
                          timeout=300)


def test_on_windows_the_exercises_and_nbgrader_commands_work(tmp_path):
    listed = on_windows("exercises", "ch02")
    assert listed.returncode == 0, listed.stderr
    assert re.search(r"^ch02\.rnn_step\s+2\s", listed.stdout, re.M)
    course = on_windows("nbgrader", str(tmp_path / "course"), "ch02", "--book", str(ROOT))
    assert course.returncode == 0, course.stderr
    assert (tmp_path / "course" / "source" / "ch02" / "02_structure.ipynb").is_file()


def test_on_windows_grading_is_refused_at_once_with_where_to_grade(tmp_path, monkeypatch, capsys):
    path = write_notebook(instructor_notebook(), tmp_path / "ref.ipynb")
    monkeypatch.setattr(sys, "platform", "win32")
    started = []
    monkeypatch.setattr(sandbox.Session, "__init__", lambda *args, **kwargs: started.append(args))
    for sandboxed in ([], ["--no-sandbox"]):
        assert main(["grade", str(path), "--checkers", str(CHECKERS), *sandboxed]) == 2
        err = capsys.readouterr().err
        assert err.startswith("grading refused: grading runs the students' code under POSIX limits"), err
        assert "Linux, WSL2, or macOS with --no-sandbox" in err
    for sandboxed in (True, False):
        with pytest.raises(sandbox.SandboxUnavailable, match="under POSIX limits"):
            grade_all([path], checkers=[str(CHECKERS)], sandbox=sandboxed)
    assert started == []


# ----------------------------------------------------------------------------- names and files

def test_a_decomposed_name_from_macos_matches_its_roster_row(tmp_path, monkeypatch, capsys):
    row = ExerciseResult("ch02.rnn_step", "rnn_step", 2, 2, True, "all checks passed")
    result = SubmissionResult(f"{NFD}/02_structure.ipynb", f"{NFD}/02_structure.ipynb", "ch02", "ok", [row], [],
                              student=NFD)
    roster = tmp_path / "roster.csv"
    roster.write_text(f"login,name\n{NFC},Zo\u00eb Z\nbob,Bob B\n", encoding="utf-8")
    assert read_roster(roster, ids={NFD})[2] == 0
    assert read_roster(roster, "login", {NFD})[2] == 0
    assert missing_from_roster([result], roster) == []
    assert grades_csv([result], roster).splitlines()[1:] == [f"{NFC},Zo\u00eb Z,2,2", "bob,Bob B,,"]
    # The command line: a student folder named as macOS names it, graded with the roster.
    notebooks(tmp_path, f"subs/{NFD}/02_structure.ipynb")
    fake_grading(monkeypatch)
    out = tmp_path / "g.csv"
    assert main(["grade", str(tmp_path / "subs"), "--csv", str(out), "--roster", str(roster)]) == 0
    assert capsys.readouterr().err == ""
    assert out.read_text(encoding="utf-8").splitlines()[1] == f"{NFC},Zo\u00eb Z,2,2"
    assert main(["grade", str(tmp_path / "subs" / NFD), "--student", unicodedata.normalize("NFC", NFD), "--csv",
                 str(out), "--roster", str(roster)]) == 0


def test_one_student_in_both_unicode_forms_is_one_student_everywhere(tmp_path):
    # Ids are made NFC where they are read, so two submissions of one student are one row, and two grades of one
    # cell are refused, instead of one form's grades silently replacing the other's in the CSV.
    def graded(folder, exercise, points):
        row = ExerciseResult(exercise, exercise.split(".")[1], points, 2, True, "")
        return SubmissionResult(f"{folder}/x.ipynb", f"{folder}/x.ipynb", exercise[:4], "ok", [row], [])

    assert student_ids([f"/s/{NFD}/x.ipynb", f"/s/{NFC}/y.ipynb"], ["/s", "/s"]) == [NFC, NFC]
    assert student_ids([f"/s/{NFD}/x.ipynb"], ["/s"], student=f" {NFD} ") == [NFC]
    roster = tmp_path / "roster.csv"
    roster.write_text(f"login,name\n{NFC},Zo\u00eb Z\n", encoding="utf-8")
    both = [graded(NFC, "ch02.rnn_step", 2), graded(NFD, "ch04.rnn_backward", 1)]
    assert grades_csv(both, roster).splitlines()[1] == f"{NFC},Zo\u00eb Z,2,1,3"
    assert grades_csv(both).splitlines()[1:] == [f"{NFC},2,1,3"]
    with pytest.raises(ValueError, match="two submissions of student zo\u00eb grade ch02.rnn_step"):
        grades_csv([graded(NFC, "ch02.rnn_step", 2), graded(NFD, "ch02.rnn_step", 0)], roster)


def test_a_closed_stdout_does_not_stop_the_command_before_it_starts(monkeypatch, capsys):
    closed = io.TextIOWrapper(io.BytesIO(), encoding="utf-8")
    closed.close()
    monkeypatch.setattr(sys, "stdout", closed)
    with pytest.raises(SystemExit) as exit:            # argparse's usage error, on stderr: main got that far
        main(["grade"])
    assert exit.value.code == 2 and "the following arguments are required" in capsys.readouterr().err


def test_a_name_the_console_cannot_print_is_escaped_not_a_crash(tmp_path, monkeypatch):
    notebooks(tmp_path, "subs/\u0141ukasz/02_structure.ipynb")
    fake_grading(monkeypatch)
    console = io.TextIOWrapper(io.BytesIO(), encoding="cp1252")       # PYTHONIOENCODING=cp1252, a Windows console
    monkeypatch.setattr(sys, "stdout", console)
    assert main(["grade", str(tmp_path / "subs")]) == 0
    console.flush()
    table = console.buffer.getvalue().decode("cp1252")
    assert re.search(r"^\\u0141ukasz\s.*\\u0141ukasz/02_structure\.ipynb\s+ch02\.rnn_step\s+2/2", table, re.M), table


def test_a_roster_saved_in_windows_code_page_is_refused_with_the_fix(tmp_path, monkeypatch, capsys):
    roster = tmp_path / "roster.csv"
    roster.write_bytes("login,name\nzo\u00eb,Zo\u00eb Z\nbob,Bob B\n".encode("cp1252"))
    with pytest.raises(ValueError, match=r"is not UTF-8 .*save it as CSV UTF-8"):
        read_roster(roster, ids={"bob"})
    notebooks(tmp_path, "subs/bob/02_structure.ipynb")
    fake_grading(monkeypatch)
    assert main(["grade", str(tmp_path / "subs"), "--csv", str(tmp_path / "g.csv"), "--roster", str(roster)]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"--roster: expected a CSV file to read, got {roster} (") and "save it as CSV UTF-8" in err
