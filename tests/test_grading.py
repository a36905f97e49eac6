"""The autograder: each submission in a sandbox, verdicts outside it, time limits, zero with the reason.

Submissions are variants of the fixture chapter (``exercise_fixtures``): its reference solutions,
its student version, and planted faults. One grading run, shared by the tests, grades them all.
"""

from __future__ import annotations

import json
import re
import time
from pathlib import Path

import jupytext
import nbformat
import pytest

from exercise_fixtures import CHECKERS, EXERCISES, ROOT, bubblewrap_missing, instructor_notebook, write_notebook
from rnncourse.__main__ import main, parser
from rnncourse.exercises.grade import (CHAPTER_NOTEBOOKS, ExerciseResult, SubmissionResult, find_checks, format_table,
                                       grade_all, gradebook, grades_csv, plan, student_ids, submission_chapter)
from rnncourse.exercises.sandbox import sandbox_problem
from rnncourse.exercises.registry import CHAPTER_MODULES, chapter_exercises, get_exercise
from rnncourse.exercises.student import BEGIN, END, chapter_paths, student_notebook

TIMEOUT, EXERCISE_TIMEOUT = 10, 5

DOUBLE = "    doubled_zebra_quartz = x + x\n    return doubled_zebra_quartz"
STEP = "    return np.tanh(a_t_zebra_quartz)"
GRAD_W_HH = '"W_hh": da_zebra_quartz.T @ h_prev'
MSE = "    return float(np.mean((pred - target) ** 2))  # zebra-quartz-mse"

#: Every exercise passed, the way the runner reports it: printed, and appended to the grader's files.
FAKES = [json.dumps({"type": "exercise", "exercise": n, "function": f, "passed": True, "feedback": "all checks passed",
                     "seconds": 0}) for n, (_, f) in EXERCISES.items()] + [json.dumps({"type": "done"})]
FORGERY = f"""import glob, sys
fakes = {FAKES!r}
for line in fakes:
    print(line)
    print(line, file=sys.stderr)
print("RNNCOURSE-RESULT 7/7 " * 1000)
for name in glob.glob("*.json*"):
    with open(name, "a") as f:
        f.write("\\n".join(fakes) + "\\n")
import os
os._exit(0)
"""

#: name -> replacements in the reference notebook (or "stub" for the student version).
SUBMISSIONS = {
    "reference": [],
    "stub": "stub",
    # One planted wrong answer per checker.
    "wrong": [(DOUBLE, "    return 3 * x"), ("+ h_prev @ W_hh.T + b_h", "+ h_prev @ W_hh.T"),
              (GRAD_W_HH, '"W_hh": da_zebra_quartz.T @ h_t'), (MSE, "    return float(np.sum((pred - target) ** 2))")],
    # NaN, a wrong shape and an exception; mse stays right and must still score.
    "broken": [(DOUBLE, "    return x * np.nan"), (STEP, "    return np.tanh(a_t_zebra_quartz)[0]"),
               ("    da_zebra_quartz = dh_t", "    raise KeyError('oops')\n    da_zebra_quartz = dh_t")],
    # A cell that raises, then one that never ends, after double's cell: double is graded, the rest was never
    # defined, for the second cell's sake, not the first's. It waits (sleeps) rather than spins: the alarm stops
    # both alike, and spinning would burn 10 s of CPU that the tests beside it need; "hanging_function" spins.
    "hanging_cell": [("check(\"ch99.double\", double)", "while True:\n    __import__('time').sleep(0.05)"),
                     ('print(f"tanh(0.5)', '1 / 0\nprint(f"tanh(0.5)')],
    # A function that never returns, a cell that exits, a function that prints much (and passes) and one that
    # prints a line and ends the sandbox: its feedback quotes that line, not the other's output.
    "hanging_function": [(MSE, "    while True:\n        pass"),
                         ('print(f"tanh(0.5)', 'import sys\nsys.exit(3)\nprint(f"tanh(0.5)'),
                         (DOUBLE, "    print('Q' * 100_000)\n" + DOUBLE),
                         (STEP, "    print('leaving now')\n    __import__('os')._exit(3)")],
    # Prints that pose as results, on stdout and stderr, lines written into the results file, and an
    # exit before the runner writes the true ones.
    "garbage": [("import numpy as np", "import numpy as np\n" + FORGERY)],
    # A correct answer to another chapter's exercise, checked in this chapter's notebook: not graded.
    "extra_chapter": [('print(f"tanh(0.5)', "def rnn_param_count(D, H, O):\n    return H * D + H * H + H + O * H + O"
                                          '\n\n\ncheck("ch02.rnn_param_count", rnn_param_count)\nprint(f"tanh(0.5)')],
    # Wrong answers behind monkeypatched references and comparisons.
    "patcher": [("import numpy as np", "import numpy as np\nimport builtins, rnncourse.numpy, rnncourse.numpy.elman\n"
                 "import rnncourse.exercises.feedback as fb\n"
                 "fake = lambda *a, **k: np.zeros((a[0].shape[0], a[2].shape[0]))\n"
                 "rnncourse.numpy.elman.rnn_step_forward.__code__ = fake.__code__\n"
                 "rnncourse.numpy.rnn_step_forward = rnncourse.numpy.elman.rnn_step_forward = fake\n"
                 "np.isclose = lambda a, b, **k: np.ones(np.shape(a), bool)\n"
                 "fb.expect_close = lambda *a, **k: None\n"
                 "import sys; sys.modules['rnncourse_checkers_fixture_checkers'].rnn_step_forward = fake\n"),
                (DOUBLE, "    return x"), (STEP, "    return np.zeros_like(h_prev)"),
                (MSE, "    np.isclose = lambda *a, **k: True\n    return 0.0")],
}


MISSING = bubblewrap_missing()
#: The mark of the tests that grade: grading refuses to start where no sandbox can be made. The
#: others (the parser, the CSV, options refused before grading, a grader without bubblewrap) run anywhere.
SANDBOX = pytest.mark.skipif(MISSING is not None, reason=f"no sandbox here: {MISSING}")
# One process runs this module's tests (make test: --dist loadgroup), so its module fixture runs once.
pytestmark = [pytest.mark.xdist_group("test_grading")]


@SANDBOX
def test_the_package_makes_its_sandbox_wherever_bubblewrap_works():
    # The skip above asks bubblewrap itself, not the package: a fault in the package's sandbox (a mount that
    # fails, a worker that cannot import) fails here and in every grading test, instead of skipping them.
    assert sandbox_problem() is None


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    if MISSING is not None:
        pytest.skip(f"no sandbox here: {MISSING}")
    folder = tmp_path_factory.mktemp("submissions")
    nb = instructor_notebook()
    paths = []
    for name, replace in SUBMISSIONS.items():
        source = student_notebook(nb, "ch99")[0] if replace == "stub" else nb
        paths.append(write_notebook(source, folder / f"{name}.ipynb", [] if replace == "stub" else replace))
    (folder / "99_unreadable.ipynb").write_text("this is not a notebook")
    paths.append(folder / "99_unreadable.ipynb")
    results = grade_all(paths, jobs=2, checkers=[str(CHECKERS)], timeout=TIMEOUT, exercise_timeout=EXERCISE_TIMEOUT)
    return {Path(r.path).stem: r for r in results}


def feedback(result) -> dict:
    return {e.exercise: (e.points, e.feedback) for e in result.exercises}


def test_reference_solutions_score_full_marks(graded):
    ref = graded["reference"]
    assert (ref.points, ref.max_points, ref.status, ref.notes) == (7, 7, "ok", [])
    assert [(e.exercise, e.function, e.points) for e in ref.exercises] == [
        (name, fn, pts) for name, (pts, fn) in EXERCISES.items()]


def test_the_student_version_scores_zero_with_not_implemented(graded):
    stub = graded["stub"]
    assert stub.points == 0 and stub.max_points == 7
    for points, message in feedback(stub).values():
        assert points == 0 and "is not implemented yet (it raised NotImplementedError)" in message


def test_a_planted_wrong_answer_is_caught_by_each_checker_with_a_specific_message(graded):
    got = feedback(graded["wrong"])
    assert got["ch99.double"] == (0, "double([1, 2]): 2 of 2 entries differ from the reference; the largest "
                                     "difference is 2 at index (1,) (yours 6, expected 4)")
    assert got["ch99.rnn_step"][1].startswith("rnn_step with zero weights (should be tanh(b_h)): 1 of 2 entries")
    assert re.match(r"in the case B=1, D=\d, H=\d: your gradients are wrong for W_hh: ", got["ch99.step_backward"][1])
    assert got["ch99.mse"] == (0, "mse([1, 3], [0, 0]) is 10, but should be 5 (difference 5)")


def test_nan_a_wrong_shape_and_an_exception_each_score_zero_while_the_rest_is_graded(graded):
    got = feedback(graded["broken"])
    assert got["ch99.double"][0] == 0 and "contains NaN or infinity (2 of 2 entries" in got["ch99.double"][1]
    assert got["ch99.rnn_step"][0] == 0 and "should have shape (1, 2), but has shape (2,)" in got["ch99.rnn_step"][1]
    assert got["ch99.step_backward"] == (0, "in the case B=1, D=3, H=2: step_backward raised KeyError: 'oops'")
    assert got["ch99.mse"] == (1, "all checks passed")


def test_a_hanging_cell_is_stopped_by_the_time_limit_and_reported(graded):
    result = graded["hanging_cell"]
    got = feedback(result)
    assert got["ch99.double"] == (1, "all checks passed")              # defined before the hanging cell
    # The feedback names the cell that stopped the run, not the earlier cell that raised (the cells ran on after it).
    assert re.fullmatch(rf"the notebook defines no rnn_step; cell \d+ \('while True:'\) was stopped: the notebook "
                        rf"ran past its time limit of {TIMEOUT} s", got["ch99.rnn_step"][1])
    assert result.notes[0] == "cell 4 ('1 / 0') raised ZeroDivisionError: division by zero"
    assert any("was stopped" in note for note in result.notes)
    assert any(re.fullmatch(r"cells [\d, ]+ not run: the notebook's time limit of 10 s was used up", note)
               for note in result.notes)


def test_a_function_that_never_returns_is_stopped_and_a_cell_that_exits_is_reported(graded):
    result = graded["hanging_function"]
    got = feedback(result)
    assert got["ch99.mse"] == (0, f"not finished within the time limit of {EXERCISE_TIMEOUT} s "
                                  "(your function may loop forever)")
    # It says what rnn_step printed before it ended the sandbox, not what double printed before it; it scores zero,
    # as the CSV records it. The next exercise gets a new sandbox.
    assert got["ch99.rnn_step"] == (0, "scores zero: the sandbox ended while rnn_step was checked: its process ended "
                                       "(exit code 3): leaving now")
    assert got["ch99.double"] == (1, "all checks passed") and got["ch99.step_backward"] == (3, "all checks passed")
    assert any("raised SystemExit: 3" in note for note in result.notes)


def test_printed_or_written_fake_results_are_ignored(graded):
    result = graded["garbage"]
    assert result.points == 0 and result.status == "its process ended (exit code 0)"
    assert result.max_points == 7 and [e.exercise for e in result.exercises] == list(EXERCISES)   # none dropped
    for _, message in feedback(result).values():
        assert re.fullmatch(r"scores zero: the sandbox ended while running cell 2: its process ended \(exit code 0\)",
                            message)


def test_monkeypatching_references_and_comparisons_does_not_change_the_score(graded):
    result = graded["patcher"]
    got = feedback(result)
    assert got["ch99.double"][0] == 0 and "2 of 2 entries differ" in got["ch99.double"][1]
    assert got["ch99.rnn_step"][0] == 0 and "rnn_step with zero weights" in got["ch99.rnn_step"][1]
    assert got["ch99.mse"] == (0, "mse([1, 3], [0, 0]) is 0, but should be 5 (difference 5)")
    # The checkers are not in the sandbox: the cell that patches them fails there.
    assert any(note.startswith("cell 2 ('import numpy as np') raised") for note in result.notes)
    assert graded["reference"].points == 7 and graded["stub"].points == 0


def test_only_the_chapters_own_exercises_are_graded_whatever_the_notebook_checks(graded):
    result = graded["extra_chapter"]
    assert [e.exercise for e in result.exercises] == list(EXERCISES)
    assert (result.points, result.max_points) == (7, 7)
    assert result.notes == ["check('ch02.rnn_param_count', ...) graded nothing: ch02.rnn_param_count is not an "
                            "exercise of ch99"]


def test_the_chapter_comes_from_the_instructor_then_the_file_name_then_the_notebook():
    cells = [{"cell_type": "code", "source": 'check("ch02.rnn_param_count", count)\ncheck("ch09.reverse_padded", rev)'}]
    claims_ch02 = {"rnncourse": {"chapter": "ch02"}}
    # A file name and metadata that disagree grade nothing (zeros for a chapter not handed in would be wrong
    # grades), until the instructor names the chapter.
    assert plan(cells, claims_ch02, Path("09_in_practice.ipynb")) == ("?", [], [
        "nothing graded: its file name says ch09 but its metadata ch02: grade it by itself with --chapter ch02 or ch09"])
    chapter, todo, notes = plan(cells, claims_ch02, Path("09_in_practice.ipynb"), chapter="ch09")
    assert chapter == "ch09" and [n for n, _ in todo] == [e.name for e in chapter_exercises("ch09")]
    assert ("ch09.reverse_padded", "rev") in todo
    assert notes == ["its metadata names chapter ch02, but it is graded as ch09, from the chapter given to the grader",
                     "check('ch02.rnn_param_count', ...) graded nothing: ch02.rnn_param_count is not an exercise of ch09"]
    # The instructor's chapter wins; every exercise registered for it is graded (an instructor's own ch02 exercise
    # too), the function named by the submission's check call (count), else the exercise's name (rnn_step).
    chosen, todo = plan(cells, claims_ch02, Path("09_in_practice.ipynb"), chapter="ch02")[:2]
    assert chosen == "ch02" and todo == [(e.name, "count" if e.name == "ch02.rnn_param_count" else e.function_name)
                                         for e in chapter_exercises("ch02")]
    assert {("ch02.rnn_step", "rnn_step"), ("ch02.rnn_param_count", "count")} <= set(todo)
    assert plan(cells, claims_ch02, Path("alice.ipynb"))[0] == "ch02"          # no NN_: the metadata
    # nor metadata: the chapter most check calls name
    two_to_one = [{"cell_type": "code", "source": cells[0]["source"] + '\ncheck("ch09.masked_cross_entropy", mce)'}]
    assert plan(two_to_one, {}, Path("alice.ipynb"))[0] == "ch09"
    # No chapter anywhere, or one without exercises: nothing is graded, and a note says why.
    nothing = [{"cell_type": "code", "source": "x = 1"}]
    for metadata, name, why in [({}, "mystery.ipynb", "nothing graded: no chapter found"),
                                ({"rnncourse": "ch02"}, "mystery.ipynb", "nothing graded: no chapter found"),
                                ({"rnncourse": {"chapter": "../../etc"}}, "x.ipynb", "'../../etc', which is not of the form"),
                                ({}, "77_unknown.ipynb", "nothing graded: chapter 'ch77', from its file name 77_unknown")]:
        chapter, todo, notes = plan(nothing, metadata, Path(name))
        assert todo == [] and any(why in n for n in notes), notes


def test_the_csv_adds_up_a_students_chapters_leaves_unsubmitted_ones_empty_and_refuses_two_grades_for_one_cell(
        tmp_path):
    def submission(name, *grades):
        return SubmissionResult(name, name, "?", "ok", [ExerciseResult(e, e, p, m, p == m, "") for e, p, m in grades])

    alice = submission("alice/02_structure.ipynb", ("ch02.rnn_step", 2, 2), ("ch02.rnn_param_count", 1, 1))
    alice_ch07 = submission("alice/07_elman_jordan.ipynb", ("ch07.jordan_step", 2, 2))
    bob = submission("bob/02_structure.ipynb", ("ch02.rnn_step", 0, 2), ("ch02.rnn_param_count", 1, 1))
    # bob did not submit chapter 7: empty cells, not zero; his total adds up what was graded.
    assert grades_csv([alice, alice_ch07, bob]).splitlines() == [
        "student,ch02.rnn_step (2),ch02.rnn_param_count (1),ch07.jordan_step (2),Total (5)",
        "alice,2,1,2,5", "bob,0,1,,1"]
    roster = tmp_path / "roster.csv"
    roster.write_text("Login,Name\nbob,Bob\nalice,Alice\ncarol,Carol\n")
    assert grades_csv([alice, alice_ch07, bob], roster).splitlines()[1:] == [
        "bob,Bob,0,1,,1", "alice,Alice,2,1,2,5", "carol,Carol,,,,"]
    again = submission("alice/02_again.ipynb", ("ch02.rnn_step", 0, 2))
    with pytest.raises(ValueError, match=r"two submissions of student alice grade ch02\.rnn_step, "
                                         r"alice/02_structure\.ipynb and alice/02_again\.ipynb"):
        grades_csv([alice, alice_ch07, again])


@SANDBOX
def test_bad_points_chapters_and_submissions_are_refused_in_one_line_before_grading(tmp_path, capsys):
    path = write_notebook(instructor_notebook(), tmp_path / "99_fixture.ipynb")
    (tmp_path / "empty").mkdir()
    (tmp_path / "list.json").write_text("[1]")
    cases = [("--points", "=two", "--points: expected NAME=N with N a whole number >= 0 (ch04.rnn_backward=5), got '=two'"),
             ("--points", "ch99.double=-3", "got 'ch99.double=-3'"),
             ("--points", "ch99.dubble=3", "--points: no exercise called 'ch99.dubble'; did you mean 'ch99.double'?"),
             ("--points", str(tmp_path / "none.json"), "which cannot be read (No such file or directory)"),
             ("--points", str(tmp_path / "list.json"), "expected a JSON object {name: points} in"),
             ("--chapter", "ch77", "--chapter: chapter should be one with graded exercises (ch01, ch02")]
    for option, value, message in cases:
        assert main(["grade", str(path), "--checkers", str(CHECKERS), option, value]) == 2
        err = capsys.readouterr().err
        assert err.count("\n") == 1 and message in err and "Traceback" not in err, err
    assert main(["grade", str(tmp_path / "empty")]) == 2
    assert capsys.readouterr().err == f"no such submission: {tmp_path / 'empty'} (a folder without .ipynb files)\n"
    with pytest.raises(ValueError, match="the points of ch99.double should be 0 or more, but are -1"):
        grade_all([path], checkers=[str(CHECKERS)], points={"ch99.double": -1})
    with pytest.raises(TypeError, match="the points of ch99.double should be a whole number, but are str '3'"):
        grade_all([path], checkers=[str(CHECKERS)], points={"ch99.double": "3"})


def test_the_exercises_command_lists_a_chapter_and_refuses_bad_input_in_one_line(tmp_path, capsys):
    assert main(["exercises", "ch99", "--checkers", str(CHECKERS)]) == 0
    listed = capsys.readouterr().out.splitlines()
    assert [line.split()[0] for line in listed[1:-1]] == list(EXERCISES) and listed[-1].split()[0] == "total"
    cases = [(["ch4"], "chapter should be one with graded exercises (ch01, ch02"),
             (["CH04"], "but is 'CH04'"),
             ([""], "chapter: expected a value, got an empty one ('': an unset shell variable?)"),
             (["--checkers", str(tmp_path / "none.py")], f"--checkers: expected a .py file or a module name, got "
                                                         f"'{tmp_path / 'none.py'}'"),
             (["--checkers", "no_such_module_here"], "got 'no_such_module_here' (No module named")]
    for args, message in cases:
        assert main(["exercises", *args]) == 2
        out, err = capsys.readouterr()
        assert out == "" and err.count("\n") == 1 and message in err, err


def test_an_unreadable_notebook_gets_zero_for_every_exercise_of_its_chapter(graded):
    result = graded["99_unreadable"]
    assert result.status == "unreadable" and result.max_points == 7 and result.points == 0
    assert "could not read the notebook: JSONDecodeError" in result.notes[0]


@SANDBOX
def test_a_cell_that_ignores_the_time_limit_is_killed_and_the_notebook_graded_without_it(tmp_path):
    ignore = 'import signal, time\nsignal.signal(signal.SIGALRM, signal.SIG_IGN)\nwhile True:\n    time.sleep(0.05)\n'
    swallow = "while True:\n    try:\n        __import__('time').sleep(0.05)\n    except BaseException:\n        pass\n"
    once = write_notebook(instructor_notebook(), tmp_path / "stubborn.ipynb", [
        ('print(f"tanh(0.5)', swallow + 'print(f"tanh(0.5)')])
    twice = write_notebook(instructor_notebook(), tmp_path / "twice.ipynb", [
        ('print(f"tanh(0.5)', ignore + 'print(f"tanh(0.5)'), ("def double(x):", swallow + "def double(x):")])
    once, twice = grade_all([once, twice], jobs=2, checkers=[str(CHECKERS)], timeout=2, exercise_timeout=5, grace=6)
    # The functions defined after the cell that swallowed the alarm are graded, with a note naming it.
    assert (once.status, once.points, once.max_points) == ("ok", 7, 7)
    assert once.notes == ["cell 4 ('while True:') did not stop at the notebook's time limit of 2 s: the grader killed "
                          "it after 8 s and ran the notebook again without it"]
    # Only one cell is dropped: a second one leaves the submission killed, every exercise at zero.
    assert twice.status == "killed" and twice.points == 0
    assert twice.max_points == 7 and [e.exercise for e in twice.exercises] == list(EXERCISES)     # none dropped
    assert twice.notes[0].startswith("cell 4 ('import signal, time') did not stop at the notebook's time limit")
    for e in twice.exercises:
        assert re.fullmatch(r"scores zero: the submission was stopped after 8 s while running cell \d+", e.feedback)


@SANDBOX
def test_restarts_after_exits_are_charged_to_one_time_limit_for_the_whole_submission(tmp_path):
    # Every function ends the sandbox, and every run of the notebook takes its whole time limit (5 s): each exercise
    # after the first starts a sandbox and runs the cells again. Four runs take more than the submission's time in
    # all, 2 * (5 + 3) + 4 * 0.5 = 18 s: the last exercise is not graded, and the grader stops near 18 s. Each
    # start of the sandbox may take the start-up allowance, 3 s: it takes 0.3 s on a quiet machine, 1.9 s with one
    # core shared seven ways. (A run of the cells is longer than that allowance by 2 s, so that four runs exceed
    # the time in all whatever the start-up takes.)
    exits = ("def double(*args, **kwargs):\n    __import__('os')._exit(0)\n\n"
             "rnn_step = step_backward = mean_squared_error = double\n__import__('time').sleep(60)\n")
    nb = instructor_notebook()
    nb.cells.append(nbformat.v4.new_code_cell(exits))
    path = write_notebook(nb, tmp_path / "99_restarts.ipynb")
    [result] = grade_all([path], checkers=[str(CHECKERS)], timeout=5, exercise_timeout=0.5, grace=3)
    budget = ("scores zero: the submission used up the 18 s it may take in all (two runs of the notebook and 0.5 s per "
              "exercise; its sandbox starts again, and its cells run again, after every kill or exit)")
    rows = [(e.points, e.feedback) for e in result.exercises]
    assert rows[-1] == (0, budget), rows
    assert all(row in [(0, budget), (0, f"scores zero: the sandbox ended while {e.function} was checked: its process "
                                         "ended (exit code 0)")] for row, e in zip(rows, result.exercises)), rows
    cut = rows.count((0, budget))
    assert result.notes[-1] == (f"{cut} exercise{'s' if cut > 1 else ''} not checked, scored zero: the submission "
                                "used up the 18 s it may take in all")
    assert result.seconds < 18 + 3


@SANDBOX
def test_a_forged_answer_with_countless_problems_or_check_calls_leaves_a_few_notes(tmp_path):
    # A cell sends the grader the worker's answer to "run", with 200 problems.
    forge = ("import json, os\nline = json.dumps({'op': 'ran', 'problems': [f'problem {i}' for i in range(200)]})\n"
             "for fd in range(3, 64):\n    try:\n        os.write(fd, line.encode() + b'\\n')\n    except OSError:\n"
             "        pass\n")
    path = tmp_path / "10_forged.ipynb"
    path.write_text(jupytext.writes(jupytext.reads(f"# %%\n{forge}", fmt="py:percent"), fmt="ipynb"))
    [result] = grade_all([path])
    assert result.notes == ["nothing graded: chapter 'ch10', from its file name 10_forged.ipynb, has no graded "
                            "exercises"] + [f"problem {i}" for i in range(50)] + [
                               "... and 150 more problems of its cells, not listed"]
    # A check call of an exercise of another chapter gets a note, but a few of them, however many the notebook has.
    calls = "".join(f'check("ch02.made_up_{i}", f)\n' for i in range(60))
    _, todo, notes = plan([{"cell_type": "code", "source": calls}], {}, tmp_path / "04_calls.ipynb")
    assert [n for n, _ in todo] == ["ch04.rnn_step_backward", "ch04.rnn_backward"]
    assert notes == [f"check('ch02.made_up_{i}', ...) graded nothing: ch02.made_up_{i} is not an exercise of ch04"
                     for i in range(50)] + ["... and 10 more check calls of other exercises, not listed"]


@SANDBOX
def test_a_sandbox_whose_processes_together_hold_too_much_memory_is_stopped(tmp_path):
    from rnncourse.exercises.sandbox import Limits

    hog = ("import os, time\nfor _ in range(4):\n    if os.fork() == 0:\n        block = np.ones(50_000_000)\n"
           "        time.sleep(30)\n        os._exit(0)\ntime.sleep(30)\n")
    path = write_notebook(instructor_notebook(), tmp_path / "hog.ipynb", [('print(f"tanh(0.5)', hog + 'print(f"tanh(0.5)')])
    start = time.monotonic()
    [result] = grade_all([path], checkers=[str(CHECKERS)], timeout=40, exercise_timeout=5,
                         limits=Limits(memory_mb=1200))
    assert time.monotonic() - start < 25 and result.points == 0
    assert result.status == "its processes together used more than 1200 MB of memory, so the grader stopped it"
    assert re.fullmatch(r"scores zero: the sandbox ended while running cell \d+: its processes together used more "
                        r"than 1200 MB of memory, so the grader stopped it", result.exercises[0].feedback)


def test_the_same_submission_graded_twice_gets_the_same_grades_and_records_its_inputs(graded, tmp_path):
    path = write_notebook(instructor_notebook(), tmp_path / "again.ipynb", SUBMISSIONS["wrong"])
    [again] = grade_all([path], checkers=[str(CHECKERS)], timeout=TIMEOUT, exercise_timeout=EXERCISE_TIMEOUT)
    first = graded["wrong"]
    assert [(e.points, e.feedback, e.seeds, e.inputs_sha256) for e in again.exercises] == \
           [(e.points, e.feedback, e.seeds, e.inputs_sha256) for e in first.exercises]
    seeds = {e.exercise: e.seeds for e in first.exercises}
    assert seeds["ch99.rnn_step"] == [1, 1] and seeds["ch99.mse"] == [3]
    assert all(re.fullmatch(r"[0-9a-f]{64}", e.inputs_sha256) for e in first.exercises)


def test_without_bubblewrap_grading_is_refused_with_the_fix(tmp_path, monkeypatch, capsys):
    from rnncourse.exercises import sandbox

    monkeypatch.setattr(sandbox, "_PROBLEM", {})
    monkeypatch.setenv("PATH", str(tmp_path))          # no bwrap on the PATH
    path = write_notebook(instructor_notebook(), tmp_path / "ref.ipynb")
    with pytest.raises(sandbox.SandboxUnavailable, match=r"bubblewrap \(bwrap\) is not installed: install bubblewrap "
                       r"\(Debian/Ubuntu: sudo apt-get install bubblewrap.*or pass --no-sandbox"):
        grade_all([path], checkers=[str(CHECKERS)])
    assert main(["grade", str(path), "--checkers", str(CHECKERS)]) == 2
    assert "grading refused: cannot grade in a sandbox" in capsys.readouterr().err
    # The loudly warned opt-out still computes the verdicts outside the submission's process.
    assert main(["grade", str(path), "--checkers", str(CHECKERS), "--no-sandbox", "--timeout", str(TIMEOUT)]) == 0
    out = capsys.readouterr()
    assert out.err.count("WARNING: --no-sandbox: submissions run WITHOUT a sandbox") == 2
    assert re.search(r"total\s+7/7", out.out)
    # Bad points or a bad chapter are the caller's mistake, said as such on any machine, sandbox or none.
    with pytest.raises(ValueError, match=r"the points of ch99.double should be 0 or more, but are -1"):
        grade_all([path], checkers=[str(CHECKERS)], points={"ch99.double": -1})
    with pytest.raises(ValueError, match=r"chapter should be one with graded exercises \(.*\), but is 'chapter 4'"):
        grade_all([path], checkers=[str(CHECKERS)], chapter="chapter 4")


def test_a_bubblewrap_that_cannot_make_namespaces_is_reported_with_its_error(tmp_path, monkeypatch):
    from rnncourse.exercises import sandbox

    fake = tmp_path / "bwrap"
    fake.write_text("#!/bin/sh\necho 'bwrap: No permissions to create new namespace' >&2\nexit 1\n")
    fake.chmod(0o755)
    monkeypatch.setattr(sandbox, "_PROBLEM", {})
    monkeypatch.setenv("PATH", f"{tmp_path}:/usr/bin:/bin")
    assert re.fullmatch(r"bubblewrap could not create the sandbox \(bwrap: No permissions to create new namespace\): "
                        r"install bubblewrap .*or grade as root", sandbox.sandbox_problem())


def test_the_csv_export_with_and_without_a_roster(graded, tmp_path):
    results = [graded["reference"], graded["broken"]]
    plain = grades_csv(results).splitlines()
    assert plain[0] == "student,ch99.double (1),ch99.rnn_step (2),ch99.step_backward (3),ch99.mse (1),Total (7)"
    assert plain[1:] == ["reference,1,2,3,1,7", "broken,0,0,0,1,1"]
    roster = tmp_path / "roster.csv"
    roster.write_text('Student,ID,SIS Login ID,Section\n"Ref, Ann",101,reference,A\n"Nobody, No",102,absent,A\n'
                      '"Broke, Bo",103,broken,B\n')
    rows = grades_csv(results, roster).splitlines()
    assert rows[0] == "Student,ID,SIS Login ID,Section,ch99.double (1),ch99.rnn_step (2),ch99.step_backward (3)," \
                      "ch99.mse (1),Total (7)"
    assert rows[1:] == ['"Ref, Ann",101,reference,A,1,2,3,1,7', '"Nobody, No",102,absent,A,,,,,',
                        '"Broke, Bo",103,broken,B,0,0,0,1,1']
    with pytest.raises(ValueError, match="has no column 'Email'"):
        grades_csv(results, roster, "Email")


def test_the_table_and_the_gradebook(graded):
    results = [graded["reference"], graded["broken"]]
    table = format_table(results, width=100)
    lines = table.splitlines()
    assert lines[0].split() == ["student", "submission", "exercise", "points", "feedback"]
    assert re.search(r"^reference\s+reference\.ipynb\s+ch99\.double\s+1/1\s+all checks passed", table, re.M)
    assert re.search(r"total\s+7/7", table) and re.search(r"total\s+1/7", table)
    assert max(len(line) for line in lines) <= 100
    book = json.loads(json.dumps(gradebook(results, {"timeout": TIMEOUT})))
    assert book["settings"] == {"timeout": TIMEOUT}
    assert [(s["submission"], s["points"], s["max_points"]) for s in book["submissions"]] == [
        ("reference.ipynb", 7, 7), ("broken.ipynb", 1, 7)]
    assert book["submissions"][1]["exercises"][3] == {
        "exercise": "ch99.mse", "function": "mean_squared_error", "points": 1, "max_points": 1, "passed": True,
        "feedback": "all checks passed", "seconds": book["submissions"][1]["exercises"][3]["seconds"], "seeds": [3],
        "inputs_sha256": book["submissions"][1]["exercises"][3]["inputs_sha256"]}


def test_output_files_and_roster_are_refused_in_one_line_before_grading(tmp_path, capsys, monkeypatch):
    path = write_notebook(instructor_notebook(), tmp_path / "99_fixture.ipynb")
    (tmp_path / "a_file").write_text("")
    roster = tmp_path / "roster.csv"
    roster.write_text("Student,ID\nAnn,101\n")
    empty = tmp_path / "empty.csv"
    empty.write_text("")

    def no_grading(*args, **kwargs):
        raise AssertionError("graded before the options were checked")

    monkeypatch.setattr("rnncourse.exercises.grade.grade_all", no_grading)
    cases = [(["--json", str(tmp_path / "nowhere" / "g.json")],
              f"--json: expected a file in an existing folder, got {tmp_path / 'nowhere' / 'g.json'}, but "
              f"{tmp_path / 'nowhere'} is not a folder"),
             (["--csv", str(tmp_path / "a_file" / "g.csv")], f"but {tmp_path / 'a_file'} is not a folder"),
             (["--csv", str(tmp_path)], f"--csv: expected a file to write, got {tmp_path}, which is a folder"),
             (["--roster", str(roster)], f"--roster {roster}: expected with --csv FILE (the roster shapes the CSV)"),
             (["--csv", str(tmp_path / "g.csv"), "--roster", str(tmp_path / "none.csv")],
              f"--roster: expected a CSV file to read, got {tmp_path / 'none.csv'} (No such file or directory)"),
             (["--csv", str(tmp_path / "g.csv"), "--roster-key", "ID"], "--roster-key ID: expected with --roster"),
             (["--csv", str(tmp_path / "g.csv"), "--roster", str(empty)],
              f"--roster: the roster {empty} is empty; it needs a header row and one row per student"),
             (["--csv", str(tmp_path / "g.csv"), "--roster", str(roster), "--roster-key", "Email"],
              "--roster-key: the roster " + str(roster) + " has no column 'Email'; its columns are ['Student', 'ID']"),
             (["--book-dir", str(tmp_path / "nowhere")],
              f"--book-dir: expected the book's folder of chapters, got {tmp_path / 'nowhere'}, which is not a folder")]
    for options, message in cases:
        assert main(["grade", str(path), "--checkers", str(CHECKERS), *options]) == 2
        out, err = capsys.readouterr()
        assert err.count("\n") == 1 and message in err and "Traceback" not in err, err
        assert not list(tmp_path.glob("g.*"))

    # A file that cannot be written after grading (a full disk, a lost mount): one line too.
    result = SubmissionResult("alice/99_fixture.ipynb", "alice/99_fixture.ipynb", "ch99", "ok",
                              [ExerciseResult("ch99.double", "double", 2, 2, True, "")])
    monkeypatch.setattr("rnncourse.exercises.grade.grade_all", lambda *args, **kwargs: [result])
    (tmp_path / "g.json").write_text("the last gradebook")

    def full_disk(source, target):
        raise OSError(28, "No space left on device", str(target))

    monkeypatch.setattr("os.replace", full_disk)
    assert main(["grade", str(path), "--checkers", str(CHECKERS), "--json", str(tmp_path / "g.json")]) == 2
    out, err = capsys.readouterr()
    assert "alice/99_fixture.ipynb" in out
    assert err == (f"--json: nothing written to {tmp_path / 'g.json'} (No space left on device); the grades are in "
                   "the table above\n")
    assert (tmp_path / "g.json").read_text() == "the last gradebook"           # as it was, and no partial file
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.startswith(".")) == []


@SANDBOX
def test_the_grade_command_prints_the_table_writes_json_and_adapts_points(tmp_path, capsys):
    nb = instructor_notebook()
    ref = write_notebook(nb, tmp_path / "alice" / "99_fixture.ipynb")
    stub = write_notebook(student_notebook(nb, "ch99")[0], tmp_path / "bob" / "99_fixture.ipynb")
    status = main(["grade", str(ref), str(stub), "--checkers", str(CHECKERS), "--json", str(tmp_path / "grades.json"),
                   "--points", "ch99.double=5", "--timeout", str(TIMEOUT), "--jobs", "2",
                   "--csv", str(tmp_path / "grades.csv")])
    out = capsys.readouterr().out
    assert status == 0
    assert re.search(r"alice/99_fixture\.ipynb\s+ch99\.double\s+5/5", out)
    assert re.search(r"bob/99_fixture\.ipynb\s+ch99\.double\s+0/5\s+double is not implemented", out)
    book = json.loads((tmp_path / "grades.json").read_text())
    assert [s["points"] for s in book["submissions"]] == [11, 0]
    assert book["settings"]["points"] == {"ch99.double": 5} and book["settings"]["sandbox"] is True
    assert (tmp_path / "grades.csv").read_text().splitlines()[1:] == ["alice,5,2,3,1,11", "bob,0,0,0,0,0"]
    assert main(["grade", str(tmp_path / "missing.ipynb")]) == 2


# ----------------------------------------------------------------------------- hostile batches

@SANDBOX
def test_a_forged_cell_number_or_a_fault_of_the_grader_costs_that_submission_only(tmp_path, monkeypatch):
    # The submission names a cell it never had, then ignores the time limit: the grader must not crash
    # looking for that cell (and must not quote the forged number as the cell it stopped).
    forge = ("import os, signal, time\nfor fd in range(3, 8):\n    try:\n"
             "        os.write(fd, b'{\"op\": \"cell\", \"cell\": 424242}\\n')\n    except OSError:\n        pass\n"
             "signal.signal(signal.SIGALRM, signal.SIG_IGN)\nwhile True:\n    time.sleep(0.05)\n")
    forged = write_notebook(instructor_notebook(), tmp_path / "mallory" / "99_fixture.ipynb",
                            [('print(f"tanh(0.5)', forge + 'print(f"tanh(0.5)')])
    honest = write_notebook(instructor_notebook(), tmp_path / "alice" / "99_fixture.ipynb")
    mallory, alice = grade_all([forged, honest], jobs=2, checkers=[str(CHECKERS)], timeout=5, exercise_timeout=5,
                               grace=2)
    assert (alice.status, alice.points) == ("ok", 7)
    assert mallory.points == 0 and mallory.max_points == 7
    assert mallory.status == "it broke the grading protocol (it said it ran cell 424242, which the notebook has not)"
    assert all(e.feedback == f"scores zero: the sandbox ended: {mallory.status}" for e in mallory.exercises)
    # Any other fault while grading one submission: zero for it, with the error, and the batch goes on.
    unreadable = tmp_path / "bob" / "99_fixture.ipynb"
    unreadable.parent.mkdir()
    unreadable.write_text("not a notebook")

    def broken_plan(*args, **kwargs):
        raise RuntimeError("a fault of the grader")

    monkeypatch.setattr("rnncourse.exercises.grade.plan", broken_plan)
    failed, bob = grade_all([honest, unreadable], checkers=[str(CHECKERS)])
    assert (failed.status, failed.points, failed.max_points) == ("error", 0, 7)
    assert failed.notes == ["not graded: the grader failed on this submission (RuntimeError: a fault of the grader); "
                            "the other submissions were graded"]
    assert bob.status == "unreadable"


@SANDBOX
def test_notebook_metadata_that_is_not_an_object_makes_that_notebook_unreadable(tmp_path):
    paths = []
    for name, metadata in (("listed", ["ch99"]), ("text", "ch99")):
        nb = json.loads(json.dumps(instructor_notebook()))
        nb["metadata"] = metadata
        paths.append(tmp_path / name / "99_fixture.ipynb")
        paths[-1].parent.mkdir()
        paths[-1].write_text(json.dumps(nb))
    results = grade_all(paths, checkers=[str(CHECKERS)])
    assert [(r.status, r.points, r.max_points) for r in results] == [("unreadable", 0, 7)] * 2
    assert [r.notes for r in results] == [
        ["could not read the notebook: ValueError: its metadata should be a JSON object, but is a list"],
        ["could not read the notebook: ValueError: its metadata should be a JSON object, but is a str"]]


@SANDBOX
def test_links_pipes_and_oversized_files_are_refused_and_named_by_where_they_lie(tmp_path, capsys):
    import os

    folder, elsewhere = tmp_path / "submissions", tmp_path / "elsewhere" / "mallory"
    elsewhere.mkdir(parents=True)
    write_notebook(instructor_notebook(), elsewhere / "99_fixture.ipynb")
    (folder / "alice").mkdir(parents=True)
    (folder / "alice" / "99_fixture.ipynb").symlink_to(elsewhere / "99_fixture.ipynb")
    (folder / "bob").mkdir()
    os.mkfifo(folder / "bob" / "99_fixture.ipynb")               # reading it would wait forever
    (folder / "carol").mkdir()
    with open(folder / "carol" / "99_fixture.ipynb", "wb") as f:
        f.truncate(21 << 20)
    assert main(["grade", str(folder), "--checkers", str(CHECKERS), "--json", str(tmp_path / "g.json")]) == 1
    book = json.loads((tmp_path / "g.json").read_text())
    assert [(s["submission"], s["student"], s["status"], s["points"], s["max_points"]) for s in book["submissions"]] \
        == [(f"{who}/99_fixture.ipynb", who, "refused", 0, 7) for who in ("alice", "bob", "carol")]
    assert [s["notes"] for s in book["submissions"]] == [
        ["not graded: the submission is a symbolic link, not a notebook; collect the notebook itself"],
        ["not graded: the submission is not a regular file (a folder, a pipe or a device named .ipynb)"],
        ["not graded: the notebook has 21 MB, more than the 20 MB a submission may have; clear its outputs"]]
    out, err = capsys.readouterr()
    assert "mallory" not in out
    assert err.splitlines()[0] == ("warning: alice/99_fixture.ipynb (student alice) is not graded (refused): the "
                                   "submission is a symbolic link, not a notebook; collect the notebook itself")
    assert len(err.splitlines()) == 3


def test_the_table_prints_no_control_characters_from_a_submission():
    escape = "\x1b]0;owned\x07\x1b[2J\r"
    result = SubmissionResult(f"alice{escape}/99.ipynb", "x", "ch99", "ok",
                              [ExerciseResult("ch99.double", "double", 0, 1, False,
                                              f"raised KeyError: {escape}'oops'")],
                              notes=[f"cell 2 printed {escape}\x9b31m"])
    table = format_table([result])
    assert not re.search(r"[\x00-\x09\x0b-\x1f\x7f-\x9f]", table), repr(table)
    assert "alice" in table and "'oops'" in table and "[2J" in table          # the text stays, harmless


@SANDBOX
def test_the_student_is_the_notebooks_folder_in_every_layout(tmp_path):
    def students(*names, roots=None):
        paths = []
        for name in names:
            paths.append(tmp_path / name)
            paths[-1].parent.mkdir(parents=True, exist_ok=True)
            paths[-1].write_text("not a notebook")                  # unreadable: graded without a sandbox
        results = grade_all(paths, checkers=[str(CHECKERS)], roots=roots and [tmp_path / r for r in roots])
        return [r.student for r in results], grades_csv(results).splitlines()[1:]

    assert students("one/alice/04_bptt.ipynb") == (["alice"], ["alice,,,"])       # a single notebook, not graded
    # Without roots, under the folder all are in (sections); with each section given, the folder below it.
    assert students("sections/a/bob/99_x.ipynb", "sections/b/carol/99_x.ipynb")[0] == ["a", "b"]
    assert students("sections/a/bob/99_x.ipynb", "sections/b/carol/99_x.ipynb",
                    roots=["sections/a", "sections/b"])[0] == ["bob", "carol"]
    assert students("submitted/dave/ch99/99_x.ipynb", "submitted/erin/ch99/99_x.ipynb")[0] == ["dave", "erin"]
    assert students("flat/frank.ipynb", "flat/grace.ipynb")[0] == ["frank", "grace"]          # one folder for all


def unreadable(folder, *names) -> None:
    """Files named like submissions that are not notebooks: graded at once, in no sandbox (though grading
    still refuses to start where none can be made)."""
    for name in names:
        (folder / name).parent.mkdir(parents=True, exist_ok=True)
        (folder / name).write_text("not a notebook")


def graded_students(folder, *given) -> list:
    """The student column of the CSV of ``grade GIVEN...``, which exits with status 1: the notebooks are unreadable,
    so not graded."""
    out = folder / "grades.csv"
    assert main(["grade", *(str(folder / g) for g in given), "--checkers", str(CHECKERS), "--csv", str(out)]) == 1
    return [row.split(",")[0] for row in out.read_text().splitlines()[1:]]


@SANDBOX
def test_the_student_is_the_first_folder_in_the_folder_given_and_one_the_roster_lacks_is_reported(tmp_path, capsys):
    unreadable(tmp_path, "mixed/alice/99_fixture.ipynb", "mixed/bob.ipynb", "lone/carol.ipynb",
               "own/alice/04_bptt.ipynb", "own/alice/02_structure.ipynb", "named/ch04/99_fixture.ipynb",
               "hw/alice/hw4/x.ipynb", "hw/bob/hw4/x.ipynb", "zip/alice\\99_fixture.ipynb",
               "nbgrader/dave/ch04/04_bptt.ipynb", "flat/04_bptt_alice.ipynb", "flat/04_bptt_bob.ipynb",
               "glob/alice/hw.ipynb", "glob/bob/hw.ipynb", "submitted/alice/ch04/04_bptt.ipynb",
               "submitted/bob/ch04/04_bptt.ipynb")
    # Unreadable, none is graded (exit 1); those named NN_ have their chapter's exercises at zero in the table.
    assert graded_students(tmp_path, "mixed") == ["alice", "bob"]
    assert re.search(r"^alice\s+alice/99_fixture\.ipynb\s+ch99\.double\s+0/1", capsys.readouterr().out, re.M)
    assert graded_students(tmp_path, "lone") == ["carol"]
    assert graded_students(tmp_path, "own/alice") == ["alice"]                    # a student's folder, given
    assert graded_students(tmp_path, "named") == ["ch04"]
    assert graded_students(tmp_path, "hw") == ["alice", "bob"]                     # nbgrader, any assignment name
    assert graded_students(tmp_path, "zip") == ["alice"]                           # a zip made on Windows
    assert submission_chapter(tmp_path / "zip" / "alice\\99_fixture.ipynb") == "ch99"   # its chapter, by name
    assert graded_students(tmp_path, "nbgrader/dave/ch04/04_bptt.ipynb") == ["dave"]
    # Chapter-prefixed names in one folder are the students; notebooks given by a shell glob count from the
    # folder they are all in; each student's folder given (nbgrader's submitted/*) is that student.
    assert graded_students(tmp_path, "flat") == ["04_bptt_alice", "04_bptt_bob"]
    assert graded_students(tmp_path, "glob/alice/hw.ipynb", "glob/bob/hw.ipynb") == ["alice", "bob"]
    assert graded_students(tmp_path, "submitted/alice", "submitted/bob") == ["alice", "bob"]
    assert graded_students(tmp_path, "submitted/alice/ch04/04_bptt.ipynb", "submitted/bob/ch04/04_bptt.ipynb") == \
        ["alice", "bob"]
    # A chapter notebook is known by the book's own file names, not by any NN_ prefix.
    assert CHAPTER_NOTEBOOKS == {p.stem for p in chapter_paths(ROOT / "book") if f"ch{p.name[:2]}" in CHAPTER_MODULES}
    capsys.readouterr()
    roster = tmp_path / "roster.csv"
    roster.write_text("id,name\nalice,Alice\n")
    assert main(["grade", str(tmp_path / "mixed"), "--checkers", str(CHECKERS), "--csv", str(tmp_path / "g.csv"),
                 "--roster", str(roster)]) == 1
    unread = ("is not graded (unreadable): could not read the notebook: JSONDecodeError: Expecting value: line 1 "
              f"column 1 (char 0); its cells in {tmp_path / 'g.csv'} are empty, not zero\n")
    assert capsys.readouterr().err == (f"warning: student bob (bob.ipynb) is not in the roster {roster}: their grades "
                                       f"are in the table, not in {tmp_path / 'g.csv'}; add them to the roster, or "
                                       "name the column with --roster-key\n"
                                       f"warning: alice/99_fixture.ipynb (student alice) {unread}"
                                       f"warning: bob.ipynb (student bob) {unread}")
    assert (tmp_path / "g.csv").read_text().splitlines()[1] == "alice,Alice,,,,,"


@SANDBOX
def test_a_notebook_whose_name_ends_in_upper_case_ipynb_is_graded(tmp_path):
    unreadable(tmp_path, "dave/99_fixture.IPYNB", "erin/99_fixture.ipynb")
    assert graded_students(tmp_path, ".") == ["dave", "erin"]


@SANDBOX
def test_macos_zip_leftovers_hidden_files_and_checkpoints_in_a_folder_are_skipped(tmp_path):
    unreadable(tmp_path, "subs/alice/99_fixture.ipynb", "subs/__MACOSX/alice/._99_fixture.ipynb",
               "subs/alice/._99_fixture.ipynb", "subs/.trash/bob/99_fixture.ipynb",
               "subs/alice/.ipynb_checkpoints/99_fixture-checkpoint.ipynb")
    assert graded_students(tmp_path, "subs") == ["alice"]
    # Only what lies below the folder given counts: a folder inside a hidden one, and a hidden notebook
    # named by itself, are graded.
    unreadable(tmp_path, ".cache/subs/carol/99_fixture.ipynb", "dave/.99_fixture.ipynb")
    assert graded_students(tmp_path, ".cache/subs") == ["carol"]
    assert graded_students(tmp_path, "dave/.99_fixture.ipynb") == [".99_fixture"]


@SANDBOX
def test_an_unreadable_notebook_of_no_known_chapter_is_not_graded_warned_about_and_fails_the_command(
        tmp_path, capsys):
    unreadable(tmp_path, "subs/ivy/hw.ipynb")
    out_csv = tmp_path / "g.csv"
    assert main(["grade", str(tmp_path / "subs"), "--csv", str(out_csv)]) == 1
    out, err = capsys.readouterr()
    assert re.search(r"^\s+total\s+0/0\s+unreadable$", out, re.M)
    assert err == ("warning: hw.ipynb (student ivy) is not graded (unreadable): could not read the notebook: "
                   f"JSONDecodeError: Expecting value: line 1 column 1 (char 0); its cells in {out_csv} are empty, "
                   "not zero\n")
    assert out_csv.read_text().splitlines() == ["student,Total (0)", "ivy,"]


@pytest.mark.parametrize("option, value, expected", [
    ("--timeout", "0", "a number of seconds > 0"), ("--timeout", "-1", "a number of seconds > 0"),
    ("--timeout", "nan", "a number of seconds > 0"), ("--timeout", "inf", "a number of seconds > 0"),
    ("--timeout", "soon", "a number of seconds > 0"), ("--exercise-timeout", "0", "a number of seconds > 0"),
    ("--memory-mb", "0", "a whole number >= 1"), ("--memory-mb", "1.5", "a whole number >= 1"),
    ("--processes", "0", "a whole number >= 1"), ("--jobs", "0", "a whole number >= 1"),
    ("--jobs", "-2", "a whole number >= 1"), ("--width", "0", "a whole number >= 1")])
def test_limits_that_cannot_grade_anything_are_refused_before_grading(option, value, expected, tmp_path, capsys,
                                                                       monkeypatch):
    monkeypatch.setattr("rnncourse.exercises.grade.grade_all", lambda *args, **kwargs: pytest.fail("graded"))
    unreadable(tmp_path, "alice/99_fixture.ipynb")
    with pytest.raises(SystemExit) as exited:
        main(["grade", str(tmp_path), option, value])
    assert exited.value.code == 2
    assert capsys.readouterr().err.splitlines()[-1] == (
        f"python -m rnncourse grade: error: argument {option}: expected {expected}, got {value!r}")


def test_limits_within_range_are_read_as_numbers():
    from rnncourse.__main__ import parser

    args = parser().parse_args(["grade", "x", "--timeout", "0.5", "--exercise-timeout", "2", "--memory-mb", "512",
                                "--processes", "1", "--jobs", "3"])
    assert (args.timeout, args.exercise_timeout, args.memory_mb, args.processes, args.jobs) == (0.5, 2.0, 512, 1, 3)
    assert isinstance(args.memory_mb, int) and isinstance(args.jobs, int)


def test_the_csv_quotes_cells_a_spreadsheet_would_run_as_formulas(tmp_path):
    evil = '=HYPERLINK("http://evil")'
    result = SubmissionResult("x", "x", "ch02", "ok", [ExerciseResult("ch02.rnn_step", "f", 2, 2, True, "")],
                              student=evil)
    assert grades_csv([result]).splitlines()[1] == '"\'=HYPERLINK(""http://evil"")",2,2'
    # With a roster nothing of a submission is written but numbers: the roster's cells stay as they were
    # (Moodle's "-" for no grade, a phone number), its key included.
    roster = tmp_path / "moodle.csv"
    roster.write_text('Email address,First name,Phone,Quiz 1\n"=HYPERLINK(""http://evil"")",Eve,,-\n'
                      "alice@x,Alice,+44 20 7946 0000,-\nbob@x,@Bob,,-\n")
    alice = SubmissionResult("x", "x", "ch02", "ok", [ExerciseResult("ch02.rnn_step", "f", 2, 2, True, "")],
                             student="alice@x")
    assert grades_csv([result, alice], roster).splitlines() == [
        "Email address,First name,Phone,Quiz 1,ch02.rnn_step (2),Total (2)",
        '"=HYPERLINK(""http://evil"")",Eve,,-,2,2', "alice@x,Alice,+44 20 7946 0000,-,2,2", "bob@x,@Bob,,-,,"]


def test_a_file_name_that_is_not_utf8_is_written_escaped_and_whole(tmp_path, capsys, monkeypatch):
    path = write_notebook(instructor_notebook(), tmp_path / "99_fixture.ipynb")
    name = "caf\udce9/04_bptt.ipynb"                            # b"caf\xe9", Latin-1 bytes in a file name
    result = SubmissionResult(name, name, "ch99", "ok", [ExerciseResult("ch99.double", "double", 1, 1, True, "")])
    monkeypatch.setattr("rnncourse.exercises.grade.grade_all", lambda *args, **kwargs: [result])
    assert main(["grade", str(path), "--checkers", str(CHECKERS), "--csv", str(tmp_path / "g.csv"),
                 "--json", str(tmp_path / "g.json")]) == 0
    assert "caf\\udce9/04_bptt.ipynb" in capsys.readouterr().out
    assert (tmp_path / "g.csv").read_text(encoding="utf-8").splitlines() == ["student,ch99.double (1),Total (1)",
                                                                              "caf\\udce9,1,1"]
    assert json.loads((tmp_path / "g.json").read_text())["submissions"][0]["submission"] == name


# ----------------------------------------------------------------------------- the real chapters

REAL = [p for p in chapter_paths(ROOT / "book") if find_checks(p.read_text(encoding="utf-8"))]


def solved_notebook(path: Path):
    """What a student who solved every exercise of the chapter at ``path`` hands in: the student version,
    each stub filled in with the chapter's solution (no solution cells, no worked answers that train)."""
    nb = jupytext.read(path)
    for cell in nb.cells:
        if cell.cell_type == "code":
            cell.source = "\n".join(line for line in cell.source.splitlines() if not line.strip().startswith((BEGIN, END)))
    return student_notebook(nb, f"ch{path.name[:2]}")[0]


def test_every_check_call_in_the_chapters_names_a_registered_exercise_and_back():
    for path in chapter_paths(ROOT / "book"):
        calls = find_checks(path.read_text(encoding="utf-8"))
        for name in calls:
            assert get_exercise(name).chapter == f"ch{path.name[:2]}", f"{path.name} checks {name}"
        # The grader grades every registered exercise of a chapter: each must be in the chapter.
        registered = {e.name for e in chapter_exercises(f"ch{path.name[:2]}")}
        assert registered <= set(calls), f"{path.name} never checks {sorted(registered - set(calls))}"
    assert all(f"ch{p.name[:2]}" in CHAPTER_MODULES for p in REAL)


@pytest.mark.skipif(not REAL, reason="no chapter has a coding exercise yet")
@SANDBOX
def test_real_reference_solutions_score_full_marks_and_their_stubs_zero(tmp_path):
    paths = []
    for path in REAL:
        paths.append(write_notebook(solved_notebook(path), tmp_path / "reference" / f"{path.stem}.ipynb"))
        stub, _ = student_notebook(jupytext.read(path), f"ch{path.name[:2]}")
        paths.append(write_notebook(stub, tmp_path / "stub" / f"{path.stem}.ipynb"))
    results = grade_all(paths, jobs=2, timeout=120, exercise_timeout=120, only_exercises=True, book_dir=ROOT / "book")
    for result in results:
        assert result.exercises, f"{result.submission}: no exercise graded"
        for e in result.exercises:
            if result.submission.startswith("reference"):
                assert e.passed and e.points == e.max_points, f"{result.submission} {e.exercise}: {e.feedback}"
            else:
                assert e.points == 0 and "not implemented" in e.feedback, f"{result.submission} {e.exercise}: {e.feedback}"


@SANDBOX
def test_an_entry_replaced_rather_than_changed_in_place_is_seen_by_the_grader_as_by_the_notebook(tmp_path):
    # The sandbox sends back what the function did to its arguments; an array put in a dict's place
    # (grads[k] = grads[k] * f) must not come back as an in-place change, or the grader would pass
    # what the notebook's check fails.
    path = ROOT / "book" / "05_vanishing_exploding.md"
    nb = solved_notebook(path)
    cell = next(c for c in nb.cells if "def clip_by_global_norm" in c.source)
    assert "        g *= factor\n" in cell.source
    cell.source = cell.source.replace("    for g in grads.values():\n        g *= factor\n",
                                      "    for k in grads:\n        grads[k] = grads[k] * factor\n")
    written = write_notebook(nb, tmp_path / path.with_suffix(".ipynb").name)
    [result] = grade_all([written], timeout=120, exercise_timeout=60, only_exercises=True, book_dir=ROOT / "book")
    clip = next(e for e in result.exercises if e.exercise == "ch05.clip_by_global_norm")
    assert not clip.passed and "was replaced by a new array" in clip.feedback, clip.feedback
    assert all(e.passed for e in result.exercises if e is not clip)


def test_every_subject_an_exercise_declares_is_a_function_of_the_package():
    import importlib

    from rnncourse.exercises.registry import all_exercises

    declared = [(e.name, s) for e in all_exercises() for s in e.subjects]
    assert len(declared) >= 10
    for name, dotted in declared:
        module, _, attr = dotted.rpartition(".")
        assert module.startswith("rnncourse."), f"{name}: {dotted}"
        assert callable(getattr(importlib.import_module(module), attr, None)), f"{name} declares {dotted}, not found"


def test_a_checkout_under_tmp_is_bound_on_top_of_the_private_tmp(monkeypatch):
    # CI clones the project into a temporary folder: the sandbox's own /tmp must not hide the
    # virtual environment or the package that the worker runs from.
    from rnncourse.exercises import sandbox

    monkeypatch.setattr(sandbox, "_python", lambda: ("/tmp/clone/.venv/bin/python", ["/tmp/clone/.venv"]))
    cmd = sandbox.bwrap_command(["PYTHON", "-c", "pass"], sandbox.Limits())
    private_tmp = max(i for i in range(1, len(cmd)) if cmd[i - 1] == "--tmpfs" and cmd[i] == "/tmp")
    venv_bind = next(i for i in range(1, len(cmd)) if cmd[i - 1] == "--ro-bind" and cmd[i] == "/tmp/clone/.venv")
    assert venv_bind > private_tmp
    assert cmd[-3:] == ["/tmp/clone/.venv/bin/python", "-c", "pass"]


def test_a_rewritten_gradebook_keeps_its_permissions_and_a_new_one_is_the_owners_only(tmp_path):
    from rnncourse.__main__ import _write

    shared = tmp_path / "grades.csv"
    shared.write_text("old")
    shared.chmod(0o644)
    _write("--csv", shared, "student,total\nalice,3\n")
    assert shared.read_text() == "student,total\nalice,3\n" and shared.stat().st_mode & 0o777 == 0o644
    new = tmp_path / "new.json"
    _write("--json", new, "{}")
    assert new.stat().st_mode & 0o777 == 0o600


def test_an_output_through_a_link_a_device_a_pipe_or_stdout_is_written_there_and_a_socket_refused(
        tmp_path, capfd, monkeypatch):
    import os
    import socket
    import stat

    from rnncourse.__main__ import _write

    shared = tmp_path / "shared" / "grades.csv"
    shared.parent.mkdir()
    shared.write_text("old")
    shared.chmod(0o640)
    (tmp_path / "link.csv").symlink_to(shared)
    _write("--csv", tmp_path / "link.csv", "student,total\n")
    assert (tmp_path / "link.csv").is_symlink() and shared.read_text() == "student,total\n"
    assert shared.stat().st_mode & 0o777 == 0o640
    (tmp_path / "null").symlink_to("/dev/null")
    _write("--json", tmp_path / "null", "{}")
    assert (tmp_path / "null").is_symlink() and stat.S_ISCHR(os.lstat("/dev/null").st_mode)
    os.mkfifo(tmp_path / "fifo")
    reader = os.open(tmp_path / "fifo", os.O_RDONLY | os.O_NONBLOCK)       # so that writing does not wait
    _write("--csv", tmp_path / "fifo", "to a pipe\n")
    assert os.read(reader, 100) == b"to a pipe\n" and stat.S_ISFIFO(os.lstat(tmp_path / "fifo").st_mode)
    os.close(reader)
    (tmp_path / "stdout").symlink_to("/proc/self/fd/1")                     # what /dev/stdout is
    print("the table")
    _write("--csv", tmp_path / "stdout", "student,total\n")
    assert capfd.readouterr().out == "the table\nstudent,total\n" and (tmp_path / "stdout").is_symlink()

    monkeypatch.setattr("rnncourse.exercises.grade.grade_all", lambda *args, **kwargs: pytest.fail("graded"))
    unreadable(tmp_path, "alice/99_fixture.ipynb")
    with socket.socket(socket.AF_UNIX) as sock:
        sock.bind(str(tmp_path / "s.csv"))
        assert main(["grade", str(tmp_path / "alice"), "--csv", str(tmp_path / "s.csv")]) == 2
    assert capfd.readouterr().err == (f"--csv: expected a regular file, a character device or a pipe to write, got "
                                      f"{tmp_path / 's.csv'}, which is a socket\n")


def test_outputs_that_are_one_file_or_the_roster_and_a_semicolon_roster_are_refused_before_grading(
        tmp_path, capsys, monkeypatch):
    unreadable(tmp_path, "alice/99_fixture.ipynb")
    roster, semicolons = tmp_path / "roster.csv", tmp_path / "semicolons.csv"
    roster.write_text("id,name\nalice,Alice\n")
    semicolons.write_text("id;name\nalice;Alice\n")
    monkeypatch.setattr("rnncourse.exercises.grade.grade_all", lambda *args, **kwargs: pytest.fail("graded"))
    cases = [(["--csv", str(roster), "--roster", str(roster)],
              f"--csv: expected a file of its own, got {roster}, which is the roster {roster} too: one would replace "
              "the other; name another file"),
             (["--json", str(tmp_path / "g"), "--csv", str(tmp_path / "g")],
              f"--csv: expected a file of its own, got {tmp_path / 'g'}, which is the --json file too"),
             (["--csv", str(tmp_path / "g.csv"), "--roster", str(semicolons)],
              f"--roster: the roster {semicolons} should be separated by commas, but its header 'id;name' is "
              "separated by ';'; export it again as comma-separated CSV")]
    for options, message in cases:
        assert main(["grade", str(tmp_path / "alice"), "--checkers", str(CHECKERS), *options]) == 2
        err = capsys.readouterr().err
        assert err.count("\n") == 1 and message in err, err
    # The CSV of an earlier run as the roster: its grade columns are filled again, not repeated, and a
    # student this run did not grade (bob, graded earlier) keeps his grades.
    earlier = tmp_path / "earlier.csv"
    earlier.write_text("id,name,ch99.double (1),Total (1)\nalice,Alice,0,0\nbob,Bob,1,1\n")
    result = SubmissionResult("99_fixture.ipynb", "99_fixture.ipynb", "ch99", "ok",
                              [ExerciseResult("ch99.double", "double", 1, 1, True, "")], student="alice")
    assert grades_csv([result], earlier).splitlines() == ["id,name,ch99.double (1),Total (1)", "alice,Alice,1,1",
                                                          "bob,Bob,1,1"]


def test_outputs_to_stdout_are_written_after_the_table(tmp_path, capfd, monkeypatch):
    # /dev/stdout is an open file of the grader, not a file to compare with the others or the roster.
    result = SubmissionResult("alice/99_fixture.ipynb", "x", "ch99", "ok",
                              [ExerciseResult("ch99.double", "double", 1, 1, True, "")], student="alice")
    monkeypatch.setattr("rnncourse.exercises.grade.grade_all", lambda *args, **kwargs: [result])
    unreadable(tmp_path, "alice/99_fixture.ipynb")
    assert main(["grade", str(tmp_path / "alice"), "--checkers", str(CHECKERS), "--json", "/dev/stdout",
                 "--csv", "/dev/stdout"]) == 0
    out, err = capfd.readouterr()
    assert err == ""
    gradebook_text = out[out.index("{"):out.index("gradebook written to /dev/stdout")]
    assert json.loads(gradebook_text)["submissions"][0]["student"] == "alice"
    assert "student,ch99.double (1),Total (1)\nalice,1,1\ngrades for an LMS import written to /dev/stdout\n" in out


def test_two_submissions_of_one_student_and_chapter_are_refused_before_grading(tmp_path, capsys, monkeypatch):
    unreadable(tmp_path, "subs/alice/v1/04_bptt.ipynb", "subs/alice/v2/04_bptt.ipynb", "subs/bob/04_bptt.ipynb")
    monkeypatch.setattr("rnncourse.exercises.grade.grade_all", lambda *args, **kwargs: pytest.fail("graded"))
    assert main(["grade", str(tmp_path / "subs"), "--csv", str(tmp_path / "g.csv")]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith(
        f"--csv: no CSV possible: two submissions of student alice are of chapter ch04, "
        f"{tmp_path / 'subs/alice/v1/04_bptt.ipynb'} and {tmp_path / 'subs/alice/v2/04_bptt.ipynb'}, for one row of "
        "the CSV (the student is the first folder between the folder given and the notebook"), err
    assert not (tmp_path / "g.csv").exists()


@SANDBOX
def test_a_submission_not_graded_leaves_empty_cells_keeps_earlier_grades_and_fails_the_command(
        tmp_path, capsys, monkeypatch):
    def broken(*args, **kwargs):
        raise OSError(24, "Too many open files")

    monkeypatch.setattr("rnncourse.exercises.grade.grade_submission", broken)
    unreadable(tmp_path, "subs/alice/02_structure.ipynb")
    ch02 = chapter_exercises("ch02")                   # rnn_step (2) and rnn_param_count (1), and any of your own
    total = sum(e.points for e in ch02)
    earlier = tmp_path / "earlier.csv"                 # an earlier run that gave alice full marks
    earlier.write_text(",".join(["id"] + [f"{e.name} ({e.points})" for e in ch02] + [f"Total ({total})"]) + "\n"
                       + ",".join(["alice"] + [str(e.points) for e in ch02] + [str(total)]) + "\n")
    out_csv = tmp_path / "g.csv"
    assert main(["grade", str(tmp_path / "subs"), "--csv", str(out_csv)]) == 1
    header, row = out_csv.read_text().splitlines()
    assert header.split(",")[1:] == [f"{e.name} ({e.points})" for e in ch02] + [f"Total ({total})"]
    assert row.split(",") == ["alice"] + [""] * (len(ch02) + 1)                   # not graded is not zero
    assert main(["grade", str(tmp_path / "subs"), "--csv", str(out_csv), "--roster", str(earlier)]) == 1
    assert out_csv.read_text().splitlines() == earlier.read_text().splitlines()   # the earlier grades stay
    out, err = capsys.readouterr()
    assert re.search(rf"^\s+total\s+0/{total}\s+error$", out, re.M)               # the table shows it
    assert err.splitlines()[-1] == (
        "warning: 02_structure.ipynb (student alice) is not graded (error): the grader failed on this submission "
        f"(OSError: [Errno 24] Too many open files); the other submissions were graded; its cells in {out_csv} keep "
        "the roster's values (not this run's)")          # as the CSV above: not "empty", which they are not


def test_an_earlier_csv_as_the_roster_gets_one_total_over_every_grade_column(tmp_path):
    earlier = tmp_path / "earlier.csv"
    earlier.write_text("id,ch98.a (2),Total (2),ch99.double (1),Total (3)\nalice,2,2,0,2\nbob,1,1,-,1\n")
    result = SubmissionResult("x", "x", "ch99", "ok", [ExerciseResult("ch99.double", "double", 1, 1, True, ""),
                                                       ExerciseResult("ch99.mse", "mse", 0, 1, False, "")],
                              student="alice")
    assert grades_csv([result], earlier).splitlines() == [
        "id,ch98.a (2),ch99.double (1),ch99.mse (1),Total (4)", "alice,2,1,0,3", "bob,1,-,,1"]


@SANDBOX
def test_a_name_bound_to_a_value_not_a_function_is_told_so_not_that_its_function_raised(tmp_path):
    # The cell after double's definition binds double to an array (a call's result kept under the function's name).
    path = write_notebook(instructor_notebook(), tmp_path / "99_not_a_function.ipynb",
                          [('check("ch99.double", double)', 'double = np.zeros(3)\ncheck("ch99.double", double)')])
    [result] = grade_all([path], checkers=[str(CHECKERS)], timeout=TIMEOUT, exercise_timeout=EXERCISE_TIMEOUT)
    rows = {e.exercise: (e.points, e.feedback) for e in result.exercises}
    assert rows.pop("ch99.double") == (0, "the notebook's double should be the function you wrote, but is a value "
                                          "of type ndarray; define it with def double(...) and assign nothing else "
                                          "to that name afterwards")
    assert rows == {name: (get_exercise(name).points, "all checks passed") for name in rows}   # the others score


def test_an_unreadable_notebook_leaves_empty_cells_like_any_submission_not_graded(tmp_path):
    unread = SubmissionResult("tina/02_structure.ipynb", "x", "ch02", "unreadable",
                              [ExerciseResult("ch02.rnn_step", "rnn_step", 0, 2, False, "not graded: the notebook "
                                              "could not be read")], student="tina")
    assert grades_csv([unread]).splitlines() == ["student,ch02.rnn_step (2),Total (2)", "tina,,"]
    earlier = tmp_path / "earlier.csv"
    earlier.write_text("id,ch02.rnn_step (2),Total (2)\ntina,2,2\n")
    assert grades_csv([unread], earlier).splitlines()[1] == "tina,2,2"          # the earlier grade stays


@SANDBOX
def test_a_truncated_or_empty_chapter_notebook_is_not_graded_warned_about_and_fails_the_command(tmp_path, capsys):
    whole = write_notebook(instructor_notebook(), tmp_path / "whole.ipynb").read_text()
    (tmp_path / "subs" / "tina").mkdir(parents=True)
    (tmp_path / "subs" / "tina" / "99_fixture.ipynb").write_text(whole[:len(whole) // 2])     # a broken upload
    (tmp_path / "subs" / "uma").mkdir()
    (tmp_path / "subs" / "uma" / "99_fixture.ipynb").write_text("")                            # an empty one
    out_csv = tmp_path / "g.csv"
    assert main(["grade", str(tmp_path / "subs"), "--checkers", str(CHECKERS), "--csv", str(out_csv)]) == 1
    out, err = capsys.readouterr()
    assert len(re.findall(r"^\s+total\s+0/7\s+unreadable$", out, re.M)) == 2           # the table shows zero
    assert out_csv.read_text().splitlines()[1:] == ["tina,,,,,", "uma,,,,,"]           # the CSV no grade
    lines = err.splitlines()
    assert len(lines) == 2 and all(re.fullmatch(
        rf"warning: {who}/99_fixture\.ipynb \(student {who}\) is not graded \(unreadable\): could not read the "
        rf"notebook: JSONDecodeError: .*; its cells in {re.escape(str(out_csv))} are empty, not zero", line)
        for who, line in zip(("tina", "uma"), lines)), err


def test_a_notebook_of_nbformat_3_is_named_so_with_the_command_that_converts_it(tmp_path):
    from rnncourse.exercises.runner import read_notebook

    old = tmp_path / "02_structure.ipynb"
    nbformat.write(nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("x = 1")]), str(old), version=3)
    assert json.loads(old.read_text())["nbformat"] == 3
    with pytest.raises(ValueError, match=r"^this is a notebook of the old nbformat 3, which the grader does not read; "
                                         r"convert it: jupyter nbconvert --to notebook --nbformat 4 --inplace "
                                         r"02_structure\.ipynb$"):
        read_notebook(old)


def test_a_roster_key_column_without_any_students_id_is_refused_before_grading(tmp_path, capsys, monkeypatch):
    from rnncourse.exercises.grade import read_roster

    unreadable(tmp_path, "subs/alice/99_fixture.ipynb", "subs/bob/99_fixture.ipynb")
    roster = tmp_path / "roster.csv"
    roster.write_text("login,name\nasmith,Alice Smith\nbjones,Bob Jones\n")
    with pytest.raises(ValueError, match=rf"^the column 'login' of the roster {re.escape(str(roster))} holds no "
                                         r"student id of the submissions \(e\.g\. \['alice', 'bob'\]\); name the column that "
                                         r"holds them with --roster-key, or, where these ids are file names "
                                         r"\(one student's folder given, a notebook not named as the book's\), name "
                                         r"the student with --student$"):
        read_roster(roster, "login", {"alice", "bob"})
    assert read_roster(roster, "login", {"asmith", "carol"})[2] == 0
    monkeypatch.setattr("rnncourse.exercises.grade.grade_all", lambda *args, **kwargs: pytest.fail("graded"))
    assert main(["grade", str(tmp_path / "subs"), "--csv", str(tmp_path / "g.csv"), "--roster", str(roster),
                 "--roster-key", "login"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1, err
    assert err.startswith(f"--roster: the column 'login' of the roster {roster} holds no student id"), err
    assert not (tmp_path / "g.csv").exists()


def test_a_canvas_export_of_an_earlier_import_has_its_assignment_columns_filled_in_place(tmp_path):
    # Canvas names each assignment column "Title (assignment id)", those it imported from this grader's CSV too.
    export = tmp_path / "canvas.csv"
    export.write_text("Student,ID,SIS Login ID,ch02.rnn_step (2) (87568490),ch02.rnn_param_count (1) (87568491),"
                      "Total (3) (87568492),Current Score\n"
                      "    Points Possible,,,2.00,1.00,3.00,(read only)\n"
                      '"Smith, Alice",1000,alice,0,0,0,0\n"Jones, Bob",1001,bob,0,1,1,1\n')
    alice = SubmissionResult("alice/02_structure.ipynb", "x", "ch02", "ok",
                             [ExerciseResult("ch02.rnn_step", "rnn_step", 2, 2, True, ""),
                              ExerciseResult("ch02.rnn_param_count", "rnn_param_count", 1, 1, True, "")],
                             student="alice")
    assert grades_csv([alice], export).splitlines() == [
        "Student,ID,SIS Login ID,ch02.rnn_step (2) (87568490),ch02.rnn_param_count (1) (87568491),"
        "Total (3) (87568492),Current Score",
        "    Points Possible,,,2.00,1.00,3,(read only)",
        '"Smith, Alice",1000,alice,2,1,3,0', '"Jones, Bob",1001,bob,0,1,1,1']
    # A chapter new to the roster adds its columns (Canvas makes new assignments of them); the Total with its id
    # stays where it was, over every grade column, its maximum now theirs.
    ch07 = SubmissionResult("alice/07_elman_jordan.ipynb", "y", "ch07", "ok",
                            [ExerciseResult("ch07.jordan_step", "jordan_step", 2, 2, True, "")], student="alice")
    rows = grades_csv([alice, ch07], export).splitlines()
    assert rows[0].endswith(",Total (5) (87568492),Current Score,ch07.jordan_step (2)")
    assert rows[2] == '"Smith, Alice",1000,alice,2,1,5,0,2'


def test_canvas_and_moodle_downloads_are_the_students_of_those_platforms_rosters(tmp_path):
    from rnncourse.exercises.grade import read_roster, student_id, student_ids, submission_chapter

    canvas = tmp_path / "canvas"
    unreadable(canvas, "smithalice_2000_3000_02_structure.ipynb", "browndave_LATE_2003_3003_02_structure-1.ipynb")
    paths = sorted(canvas.iterdir())
    assert student_ids(paths, [canvas] * 2) == ["2003", "2000"]       # the Canvas user id, late or not
    gradebook_export = tmp_path / "canvas_gradebook.csv"
    gradebook_export.write_text('Student,ID,SIS User ID\n    Points Possible,,\n"Smith, Alice",2000,S1\n'
                                '"Brown, Dave",2003,S4\n')
    assert read_roster(gradebook_export, ids={"2000", "2003"})[2] == 1                # Canvas's ID column
    # The chapter comes from the name the student uploaded.
    assert [submission_chapter(p) for p in paths] == ["ch02", "ch02"]
    assert plan([], {}, Path("smithalice_2000_3000_09_in_practice.ipynb"))[0] == "ch09"
    # Names of a class's own that only look alike keep the usual rule: a date, a week's numbers, short numbers.
    unreadable(tmp_path / "own", "alice_2024_03_15.ipynb", "bob_2024_03_15.ipynb", "week_3_4_rnn.ipynb",
               "carol_2024_1_hw/hw.ipynb", "smith_alice_2000_3000_hw.ipynb")
    own = sorted((tmp_path / "own").rglob("*.ipynb"))
    assert student_ids(own, [tmp_path / "own"] * 5) == ["alice_2024_03_15", "bob_2024_03_15", "carol_2024_1_hw",
                                                         "smith_alice_2000_3000_hw", "week_3_4_rnn"]

    moodle = tmp_path / "moodle"
    unreadable(moodle, "Alice Smith_1000_assignsubmission_file_/02_structure.ipynb",
               "Bob Jones_1001_assignsubmission_file_/work/hw.ipynb",
               "Carol White_1002_assignsubmission_file_02_structure.ipynb")        # without a folder per student
    paths = sorted(p for p in moodle.rglob("*.ipynb"))
    assert student_ids(paths, [moodle] * 3) == ["Participant 1000", "Participant 1001", "Participant 1002"]
    worksheet = tmp_path / "moodle_worksheet.csv"
    worksheet.write_text("Identifier,Full name,Email address,Grade\nParticipant 1000,Alice Smith,a@x.org,\n")
    assert read_roster(worksheet, ids={"Participant 1000"})[2] == 0                   # Moodle's Identifier column
    assert submission_chapter(paths[2]) == "ch02"
    # Names that only look alike stay as they were.
    for name in ("04_bptt_alice.ipynb", "alice_2000.ipynb", "hw_1_final.ipynb", "smith alice_2000_3000_x.ipynb",
                 "2024_10_15_homework.ipynb", "alice_1000_assignsubmission.ipynb"):
        assert student_id(tmp_path / name, tmp_path) == name[:-len(".ipynb")]


def test_a_file_that_is_not_a_notebook_is_refused_in_one_line_before_grading(tmp_path, capsys, monkeypatch):
    import zipfile

    with zipfile.ZipFile(tmp_path / "moodle.zip", "w") as z:
        z.writestr("Alice Smith_1000_assignsubmission_file_/02_structure.ipynb", "{}")
    (tmp_path / "notes.txt").write_text("hello")
    monkeypatch.setattr("rnncourse.exercises.grade.grade_all", lambda *args, **kwargs: pytest.fail("graded"))
    for name, why in (("moodle.zip", " (a zip archive: unzip it first)"), ("notes.txt", "")):
        assert main(["grade", str(tmp_path / name), "--csv", str(tmp_path / "g.csv")]) == 2
        assert capsys.readouterr().err == f"expected a .ipynb notebook or a folder, got {tmp_path / name}{why}\n"
    assert not (tmp_path / "g.csv").exists()


def test_a_notebook_given_twice_is_graded_once(tmp_path, monkeypatch):
    unreadable(tmp_path, "subs/alice/02_structure.ipynb", "subs/bob/02_structure.ipynb")
    given = []

    def fake(paths, roots=None, **kwargs):
        given.append([str(p) for p in paths])
        return [SubmissionResult(str(p), str(p), "ch02", "ok", [ExerciseResult("ch02.rnn_step", "rnn_step", 2, 2, True,
                                                                               "")], student=s)
                for p, s in zip(paths, student_ids(paths, roots))]

    monkeypatch.setattr("rnncourse.exercises.grade.grade_all", fake)
    subs = tmp_path / "subs"
    for args in ([subs, subs], [subs, subs / "alice"], [subs / "alice/02_structure.ipynb", f"{subs}/../subs/alice"]):
        assert main(["grade", *map(str, args), "--csv", str(tmp_path / "g.csv")]) == 0
        assert len(given[-1]) == len(set(given[-1])) == (1 if "alice" in str(args[0]) else 2), given[-1]
        assert (tmp_path / "g.csv").read_text().splitlines()[1].startswith("alice,")


@SANDBOX
def test_one_students_folder_is_regraded_into_the_earlier_csv_and_their_feedback_written(tmp_path, capsys):
    # Regrading bob, whose notebook is not named as the book's: by the layout rule it is student "hw", which the
    # roster lacks; --student names him, his row is graded again, alice's keeps its grades, and he gets his feedback.
    write_notebook(instructor_notebook(), tmp_path / "subs" / "bob" / "hw.ipynb", [(MSE, "    return 0.0")])
    earlier = tmp_path / "grades.csv"
    earlier.write_text("id,ch99.double (1),Total (1)\nalice,1,1\nbob,0,0\n")
    new, feedback_dir = tmp_path / "new.csv", tmp_path / "feedback"
    args = ["grade", str(tmp_path / "subs" / "bob"), "--checkers", str(CHECKERS), "--roster", str(earlier),
            "--csv", str(new), "--feedback-dir", str(feedback_dir), "--timeout", str(TIMEOUT)]
    assert main(args) == 2
    assert capsys.readouterr().err.endswith("(e.g. ['hw']); name the column with --roster-key, or, where these ids "
                                            "are file names (one student's folder given, a notebook not named as the "
                                            "book's), name the student with --student\n")
    assert main([*args, "--student", "bob"]) == 0
    assert new.read_text().splitlines() == [
        "id,ch99.double (1),ch99.rnn_step (2),ch99.step_backward (3),ch99.mse (1),Total (7)",
        "alice,1,,,,1", "bob,1,2,3,0,6"]
    assert sorted(p.name for p in feedback_dir.iterdir()) == ["bob.txt", "index.json"]
    text = (feedback_dir / "bob.txt").read_text()
    assert text.startswith("Feedback for bob\n\nhw.ipynb, chapter ch99: 6/7 points\n  ch99.double, 1/1: all checks "
                           "passed\n"), text
    assert "  ch99.mse, 0/1: mse([1, 3], [0, 0]) is 0, but should be 5 (difference 5)\n" in text
    assert json.loads((feedback_dir / "index.json").read_text()) == {"bob.txt": "bob"}
    assert (feedback_dir.stat().st_mode & 0o777, (feedback_dir / "bob.txt").stat().st_mode & 0o777) == (0o700, 0o600)


@SANDBOX
def test_a_reader_that_closes_early_gets_every_file_written_and_a_quiet_exit_with_the_grading_status(tmp_path):
    # grade ... | head -1: head leaves after its line, and the table, then the lines that say what was written, go
    # to a closed pipe. The files are written first, and the command exits with grading's status, no traceback.
    import os
    import subprocess
    import sys

    write_notebook(instructor_notebook(), tmp_path / "subs" / "alice" / "99_fixture.ipynb")

    def graded_into_a_closed_pipe(run):
        out = tmp_path / run
        read, write = os.pipe()
        os.close(read)                         # the reader is gone before the first line is printed
        proc = subprocess.run([sys.executable, "-m", "rnncourse", "grade", str(tmp_path / "subs"), "--checkers",
                               str(CHECKERS), "--timeout", str(TIMEOUT), "--json", str(out / "g.json"), "--csv",
                               str(out / "g.csv"), "--feedback-dir", str(out / "feedback")],
                              cwd=ROOT, stdout=write, stderr=subprocess.PIPE, text=True, timeout=300)
        os.close(write)
        assert "Traceback" not in proc.stderr and "BrokenPipeError" not in proc.stderr, proc.stderr
        assert json.loads((out / "g.json").read_text())["submissions"][0]["points"] == 7
        assert (out / "g.csv").read_text().splitlines()[1] == "alice,1,2,3,1,7"
        assert json.loads((out / "feedback" / "index.json").read_text())["alice.txt"] == "alice"
        assert (out / "feedback" / "alice.txt").read_text().startswith("Feedback for alice\n")
        return proc.returncode, proc.stderr

    (tmp_path / "run1").mkdir()
    assert graded_into_a_closed_pipe("run1") == (0, "")                   # every submission graded
    unreadable(tmp_path, "subs/bob/99_fixture.ipynb")
    (tmp_path / "run2").mkdir()
    status, err = graded_into_a_closed_pipe("run2")
    assert status == 1 and err.startswith("warning: bob/99_fixture.ipynb (student bob) is not graded"), err


@SANDBOX
def test_a_student_named_for_several_students_folders_or_a_bad_feedback_dir_is_refused_before_grading(
        tmp_path, capsys, monkeypatch):
    unreadable(tmp_path, "subs/bob/hw.ipynb", "subs/carol/hw.ipynb", "file.txt")
    monkeypatch.setattr("rnncourse.exercises.grade.grade_all", lambda *args, **kwargs: pytest.fail("graded"))
    (tmp_path / "gone").symlink_to(tmp_path / "nowhere")
    subs = str(tmp_path / "subs")
    cases = [([subs, "--student", "bob"], f"--student: student 'bob' names one student, but the notebooks are of 2 "
                                          f"students by their folders or names: bob ({tmp_path / 'subs/bob/hw.ipynb'}), "
                                          f"carol ({tmp_path / 'subs/carol/hw.ipynb'}); give one student's folder or "
                                          "notebooks (all the notebooks in a folder named bob are bob's)"),
             # Each student's folder given: by the rule each notebook would be "hw", but the folders are two students.
             ([f"{subs}/bob", f"{subs}/carol", "--student", "bob"],
              f"--student: student 'bob' names one student, but the notebooks were found in 2 places, each a "
              f"student's by the rule: {tmp_path / 'subs/bob'}, {tmp_path / 'subs/carol'}; give one student's "
              "folder or notebooks"),
             ([subs, "--student", " "], "--student: expected a value, got an empty one (' ': an unset shell "
                                        "variable?)"),
             ([subs, "--feedback-dir", str(tmp_path / "file.txt")],
              f"--feedback-dir: expected a folder for the students' feedback, got {tmp_path / 'file.txt'}, which is "
              "not a folder"),
             ([subs, "--feedback-dir", str(tmp_path / "no/such")], "is not a folder"),
             ([subs, "--feedback-dir", str(tmp_path / "gone")],
              f"--feedback-dir: expected a folder for the students' feedback, got {tmp_path / 'gone'}, a symbolic "
              f"link to {tmp_path / 'nowhere'}, which does not exist")]
    for args, message in cases:
        assert main(["grade", *args]) == 2
        err = capsys.readouterr().err
        assert err.count("\n") == 1 and message in err, err
    assert student_ids([tmp_path / "subs/bob/hw.ipynb"], [tmp_path / "subs"], student="bob") == ["bob"]
    # One student's notebooks given by themselves, or their folder: --student names them.
    bob = [tmp_path / "subs/bob/hw.ipynb", tmp_path / "subs/bob/hw2.ipynb"]
    assert student_ids(bob, None, student="bob") == student_ids(bob, [tmp_path / "subs/bob"] * 2, "bob") == ["bob"] * 2


def test_the_feedback_files_are_one_per_student_named_safely_and_say_what_was_not_graded():
    from rnncourse.exercises.grade import feedback_files

    def submission(name, student, status="ok", notes=()):
        rows = [ExerciseResult("ch02.rnn_step", "rnn_step", 2 * (status == "ok"), 2, status == "ok",
                               "all checks passed" if status == "ok" else "not graded: the notebook could not be read")]
        return SubmissionResult(name, "x", "ch02", status, rows, list(notes), student=student)

    files = feedback_files([submission("a/02.ipynb", "Participant 1000"),
                            submission("b/02.ipynb", "..", notes=["cell 3 ('x') raised \x1b[2JKeyError"]),
                            submission("c/02.ipynb", "a/b"), submission("d/02.ipynb", "a b"),
                            submission("e/02.ipynb", "erin"), submission("e/07.ipynb", "erin", "unreadable",
                                                                         ["could not read the notebook"])])
    # A name the id does not give as it is carries the id's hash: a_b is not "a b"'s name, nor "a/b"'s.
    assert list(files) == ["Participant_1000-21aebe38.txt", "student-5ec1f7e7.txt", "a_b-c14cddc0.txt",
                           "a_b-c8687a08.txt", "erin.txt", "index.json"]
    assert json.loads(files["index.json"]) == {"Participant_1000-21aebe38.txt": "Participant 1000",
                                               "student-5ec1f7e7.txt": "..", "a_b-c14cddc0.txt": "a/b",
                                               "a_b-c8687a08.txt": "a b", "erin.txt": "erin"}
    assert files["student-5ec1f7e7.txt"] == ("Feedback for ..\n\nb/02.ipynb, chapter ch02: 2/2 points\n"
                                    "  ch02.rnn_step, 2/2: all checks passed\n"
                                    "  note: cell 3 ('x') raised  [2JKeyError\n")
    assert files["erin.txt"].endswith("e/07.ipynb, chapter ch02: not graded (unreadable)\n"
                                      "  note: could not read the notebook\n\nTotal: 2/2 points\n")


@SANDBOX
def test_notebooks_all_in_one_folder_of_the_folder_given_are_told_to_give_that_folder(tmp_path, capsys, monkeypatch):
    # An archive unzipped with its top folder: every notebook is "student" submissions. A zip made on Windows and
    # unzipped by Python keeps that folder in the file names (submissions\eve\04_bptt.ipynb).
    unreadable(tmp_path, "win/submissions/eve/04_bptt.ipynb", "win/submissions/fay/04_bptt.ipynb",
               "kept/submissions\\eve\\04_bptt.ipynb", "kept/submissions\\fay\\04_bptt.ipynb")
    monkeypatch.setattr("rnncourse.exercises.grade.grade_all", lambda *args, **kwargs: pytest.fail("graded"))
    assert main(["grade", str(tmp_path / "win"), "--csv", str(tmp_path / "g.csv")]) == 2
    assert capsys.readouterr().err.endswith(
        f"for one row of the CSV: every notebook in {tmp_path / 'win'} lies in its folder submissions, which so names "
        f"the student of them all: give that folder, to count the folders in it as the students: grade "
        f"{tmp_path / 'win/submissions'}\n")
    assert main(["grade", str(tmp_path / "kept"), "--csv", str(tmp_path / "g.csv")]) == 2
    assert capsys.readouterr().err.endswith(
        f"every notebook in {tmp_path / 'kept'} is named submissions\\... (a zip made on Windows, unzipped with its "
        "folders kept in the file names), so submissions names the student of them all: unzip the archive again "
        "with Info-ZIP's unzip, which makes folders of them, and give the folder submissions it makes (grade "
        f"{tmp_path / 'kept/submissions'}), or rename the notebooks without submissions\\\n")
    eve, fay = sorted((tmp_path / "win" / "submissions").rglob("*.ipynb"))
    assert student_ids([eve, fay], [tmp_path / "win" / "submissions"] * 2) == ["eve", "fay"]
    # Past the backslashes, the rule reads the student from the name as from folders.
    renamed = tmp_path / "kept" / "eve\\04_bptt.ipynb"
    renamed.write_text("not a notebook")
    assert student_ids([renamed], [tmp_path / "kept"]) == ["eve"]
    assert submission_chapter(renamed) == "ch04"


def test_make_student_runs_with_the_thread_settings_of_make_book():
    # The student book is executed: with other BLAS/OpenMP threads than the instructor edition's, its float32
    # training cells round differently and print other numbers.
    makefile = (ROOT / "Makefile").read_text(encoding="utf-8")
    for target in ("book", "student"):
        recipe = re.search(rf"^{target}:.*\n((?:\t.*\n)+)", makefile, re.M).group(1)
        runs = [line for line in recipe.splitlines() if "jupyter-book build" in line or "rnncourse student" in line]
        assert runs and all("$(THREADS) " in line for line in runs), f"make {target}:\n{recipe}"


def test_every_command_is_in_the_guide_and_every_option_in_its_commands_table():
    # Each command's options in a table of its own, headed "| option of `grade` | what it does |": each option
    # of the parser is there, and nothing the parser does not have.
    commands = next(action for action in parser()._actions if action.dest == "command").choices
    guide = (ROOT / "book" / "instructor_guide.md").read_text(encoding="utf-8")
    assert set(commands) == {"student", "grade", "nbgrader", "exercises", "times"}
    for name, command in commands.items():
        assert f"python -m rnncourse {name} " in guide, f"the guide never shows the {name} command"
        options = {o for action in command._actions for o in action.option_strings if o.startswith("--")} - {"--help"}
        table = re.search(rf"^ *\| option of `{name}` \| what it does \|\n *\|[-|]+\|\n((?: *\|.*\n)*)", guide, re.M)
        assert bool(table) == bool(options), f"{name}: a table of its options in the guide, where it has options"
        first_cells = "\n".join(row.strip().split(" | ")[0] for row in table.group(1).splitlines()) if table else ""
        assert set(re.findall(r"`(--[\w-]+)", first_cells)) == options, name


def test_the_graded_feedback_of_a_shape_error_of_at_lists_the_shapes_as_the_notebook_check_does(tmp_path):
    """The student's ValueError comes back from the worker as a RemoteError of that name: the hint must still come."""
    from rnncourse.exercises import run_check

    code = ("import numpy as np\n\ndef rnn_step(x_t, h_prev, W_xh, W_hh, b_h):\n"
            "    return np.tanh(x_t @ W_xh + h_prev @ W_hh.T + b_h)\n")
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(code)])
    path = tmp_path / "02_structure.ipynb"
    nbformat.write(nb, path)
    [result] = grade_all([path], sandbox=False, chapter="ch02", timeout=TIMEOUT)
    graded = feedback(result)["ch02.rnn_step"][1]
    namespace = {}
    exec(code, namespace)
    in_notebook = run_check("ch02.rnn_step", namespace["rnn_step"])[1]
    assert "the arrays passed have shapes x_t (2, 4), h_prev (2, 3), W_xh (3, 4)" in graded, graded
    assert graded == in_notebook
