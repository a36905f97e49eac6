"""The grade command on class folders: files that are not notebooks are named on stderr, not dropped silently;
and the nbgrader command says when nbgrader itself is missing."""

from __future__ import annotations

import importlib.util
import json
import shutil

from exercise_fixtures import ROOT
from rnncourse.__main__ import main
from rnncourse.exercises.grade import ExerciseResult, SubmissionResult, student_ids
from test_grading_platforms import fake_grading, notebooks

NOT_A_NOTEBOOK = "not a notebook (.ipynb); nothing of it is graded"


def class_folder(tmp_path, *others):
    """``mixed/``: ann's notebook, leo's notebook saved as a script, and ``others`` (files, made with ``{}``)."""
    notebooks(tmp_path, "mixed/ann/02_structure.ipynb", "mixed/leo/02_structure.py", *others)
    return tmp_path / "mixed"


def test_a_file_that_is_not_a_notebook_in_a_class_folder_is_named_on_stderr(tmp_path, monkeypatch, capsys):
    mixed = class_folder(tmp_path)
    fake_grading(monkeypatch)
    out = tmp_path / "m.csv"
    assert main(["grade", str(mixed), "--csv", str(out)]) == 0          # as before: a warning, not a failure
    captured = capsys.readouterr()
    assert f"skipped {mixed / 'leo' / '02_structure.py'}: {NOT_A_NOTEBOOK}" in captured.err
    assert "student leo has no notebook" in captured.err                 # leo has nothing graded at all
    assert "ann" in out.read_text(encoding="utf-8") and "leo" not in out.read_text(encoding="utf-8")


def test_with_a_roster_the_line_names_the_student_whose_row_stays_empty(tmp_path, monkeypatch, capsys):
    mixed = class_folder(tmp_path)
    roster = tmp_path / "roster.csv"
    roster.write_text("login,name\nann,Ann A\nleo,Leo L\n", encoding="utf-8")
    fake_grading(monkeypatch)
    out = tmp_path / "m.csv"
    assert main(["grade", str(mixed), "--csv", str(out), "--roster", str(roster)]) == 0
    err = capsys.readouterr().err
    [line] = [line for line in err.splitlines() if "leo" in line]
    assert line.startswith(f"skipped {mixed / 'leo' / '02_structure.py'}: {NOT_A_NOTEBOOK}")
    assert f"student leo has no notebook here, so their row in {out} is empty" in line
    assert "ask for the .ipynb file" in line
    assert out.read_text(encoding="utf-8").splitlines()[2] == "leo,Leo L,,"
    # A regrade into an earlier run's CSV: leo's row keeps its grades, and the line says so.
    roster.write_text("login,name,ch02.rnn_step (2),Total (2)\nann,Ann A,0,0\nleo,Leo L,2,2\n", encoding="utf-8")
    assert main(["grade", str(mixed), "--csv", str(out), "--roster", str(roster)]) == 0
    [line] = [line for line in capsys.readouterr().err.splitlines() if "leo" in line]
    assert f"student leo has no notebook here, so their row in {out} keeps the roster's values" in line
    assert out.read_text(encoding="utf-8").splitlines()[2] == "leo,Leo L,2,2"


def test_a_student_with_a_notebook_and_a_copy_is_not_said_to_have_none(tmp_path, monkeypatch, capsys):
    mixed = class_folder(tmp_path, "mixed/ann/02_structure.html")
    fake_grading(monkeypatch)
    assert main(["grade", str(mixed)]) == 0
    err = capsys.readouterr().err
    [line] = [line for line in err.splitlines() if "02_structure.html" in line]
    assert line.startswith(f"skipped {mixed / 'ann' / '02_structure.html'}: {NOT_A_NOTEBOOK}")
    assert "ann has no" not in line


def test_names_with_ipynb_in_them_are_named_and_hidden_files_and_copies_stay_silent(tmp_path, monkeypatch, capsys):
    mixed = class_folder(tmp_path, "mixed/bo/02.ipynb.txt", "mixed/cy/02.IPYNB.zip", "mixed/ann/.DS_Store",
                         "mixed/ann/.hidden.py", "mixed/__MACOSX/ann/._02.py", "mixed/.ipynb_checkpoints/x.py",
                         "mixed/ann/figure.png", "mixed/ann/data.npy")
    fake_grading(monkeypatch)
    assert main(["grade", str(mixed)]) == 0
    skipped = [line for line in capsys.readouterr().err.splitlines() if line.startswith("skipped ")]
    assert [line.split(":")[0] for line in skipped] == [
        f"skipped {mixed / 'bo' / '02.ipynb.txt'}", f"skipped {mixed / 'cy' / '02.IPYNB.zip'}",
        f"skipped {mixed / 'leo' / '02_structure.py'}"]


def test_only_files_named_like_a_notebook_are_named_not_notes_receipts_or_earlier_outputs(tmp_path, monkeypatch,
                                                                                         capsys):
    """Named: a file with ``ipynb`` in its name, or one whose name starts like a chapter notebook, ``NN_`` (also
    after the name Canvas gives it). Silent: notes, an LMS's receipt beside each notebook, the grader's earlier
    outputs (a feedback folder of an earlier run is no student without a notebook)."""
    mixed = class_folder(tmp_path, "mixed/ann/notes.txt", "mixed/ann/README.md", "mixed/grades.json",
                         "mixed/feedback/ann.txt", "mixed/feedback/leo.txt", "mixed/README.md",
                         "mixed/Homework 2_ann_attempt_2026-12-01-10-00-00.txt",
                         "mixed/smithcy_2000_3000_02_structure.py", "mixed/ann/helpers.py")
    fake_grading(monkeypatch)
    assert main(["grade", str(mixed)]) == 0
    skipped = [line for line in capsys.readouterr().err.splitlines() if line.startswith("skipped ")]
    assert [line.split(":")[0] for line in skipped] == [
        f"skipped {mixed / 'leo' / '02_structure.py'}", f"skipped {mixed / 'smithcy_2000_3000_02_structure.py'}"]
    assert not any("feedback" in line for line in skipped)


def test_many_skipped_files_are_listed_ten_and_counted(tmp_path, monkeypatch, capsys):
    mixed = class_folder(tmp_path, *(f"mixed/s{i:02}/02_structure.py" for i in range(14)))
    fake_grading(monkeypatch)
    assert main(["grade", str(mixed)]) == 0
    err = capsys.readouterr().err.splitlines()
    assert sum(line.startswith("skipped ") for line in err) == 10
    assert any("and 5 more files that are not notebooks were skipped" in line for line in err)


def test_a_class_folder_of_notebooks_only_prints_nothing_on_stderr(tmp_path, monkeypatch, capsys):
    notebooks(tmp_path, "subs/ann/02_structure.ipynb", "subs/bob/02_structure.ipynb")
    fake_grading(monkeypatch)
    assert main(["grade", str(tmp_path / "subs")]) == 0
    assert capsys.readouterr().err == ""


def test_a_student_folder_without_notebooks_names_what_it_holds(tmp_path, capsys):
    mixed = class_folder(tmp_path)
    assert main(["grade", str(mixed / "leo")]) == 2
    err = capsys.readouterr().err
    assert "a folder without .ipynb files" in err and "02_structure.py" in err


def test_the_nbgrader_command_says_when_nbgrader_is_not_installed(tmp_path, monkeypatch, capsys):
    find_spec = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None if name == "nbgrader" else
                        find_spec(name, *a))
    monkeypatch.setattr(shutil, "which", lambda name, *a, **k: None)
    assert main(["nbgrader", str(tmp_path / "c"), "ch02", "--book", str(ROOT)]) == 0
    captured = capsys.readouterr()
    assert "nbgrader generate_assignment ch02" in captured.out
    assert "nbgrader is not installed: pip install nbgrader==0.9.6" in captured.err


def test_the_nbgrader_command_is_quiet_about_nbgrader_where_it_is_installed(tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(shutil, "which", lambda name, *a, **k: "/usr/bin/nbgrader" if name == "nbgrader" else None)
    assert main(["nbgrader", str(tmp_path / "c"), "ch02", "--book", str(ROOT)]) == 0
    assert "not installed" not in capsys.readouterr().err


def test_the_graders_own_files_in_the_class_folder_are_not_named(tmp_path, monkeypatch, capsys):
    mixed = class_folder(tmp_path)
    roster = mixed / "roster.csv"
    roster.write_text("login,name\nann,Ann A\n", encoding="utf-8")
    fake_grading(monkeypatch)
    args = ["grade", str(mixed), "--json", str(mixed / "g.json"), "--csv", str(mixed / "g.csv"), "--roster",
            str(roster), "--feedback-dir", str(mixed / "feedback")]
    for _ in range(2):                                   # the second run finds the first run's files there
        assert main(args) == 0
        assert [line for line in capsys.readouterr().err.splitlines() if "leo" not in line] == []


def grading_with_bob_unreadable(monkeypatch) -> None:
    """Grade ann with full marks on one exercise; bob's notebook cannot be read."""
    def grade_all(paths, roots=None, student=None, **kwargs):
        row = ExerciseResult("ch02.rnn_step", "rnn_step", 2, 2, True, "all checks passed")
        return [SubmissionResult(str(path), str(path), "ch02", "unreadable", [],
                                 ["not graded: could not read the notebook: truncated"], student=who)
                if who == "bob" else SubmissionResult(str(path), str(path), "ch02", "ok", [row], [], student=who)
                for path, who in zip(paths, student_ids(paths, roots, student))]

    monkeypatch.setattr("rnncourse.exercises.grade.grade_all", grade_all)


def test_a_regrade_with_a_roster_says_a_notebook_not_graded_keeps_the_rosters_values(tmp_path, monkeypatch, capsys):
    notebooks(tmp_path, "subs/ann/02_structure.ipynb", "subs/bob/02_structure.ipynb")
    roster = tmp_path / "g.csv"
    roster.write_text("login,ch02.rnn_step (2),Total (2)\nann,0,0\nbob,2,2\n", encoding="utf-8")
    grading_with_bob_unreadable(monkeypatch)
    out = tmp_path / "g2.csv"
    assert main(["grade", str(tmp_path / "subs"), "--roster", str(roster), "--csv", str(out)]) == 1
    [line] = capsys.readouterr().err.splitlines()
    assert line.endswith(f"could not read the notebook: truncated; its cells in {out} keep the roster's values "
                         "(not this run's)"), line
    assert out.read_text(encoding="utf-8").splitlines()[1:] == ["ann,2,2", "bob,2,2"]
    # Without a roster, its cells are empty.
    assert main(["grade", str(tmp_path / "subs"), "--csv", str(out)]) == 1
    [line] = capsys.readouterr().err.splitlines()
    assert line.endswith(f"its cells in {out} are empty, not zero"), line


def test_a_roster_the_grader_refuses_keeps_the_feedback_the_gradebook_and_the_warnings(tmp_path, monkeypatch,
                                                                                      capsys):
    mixed = class_folder(tmp_path, "mixed/bob/02_structure.ipynb")
    roster = tmp_path / "g.csv"
    roster.write_text("login,ch02.rnn_step (5),Total (5)\nann,5,5\nbob,5,5\n", encoding="utf-8")
    grading_with_bob_unreadable(monkeypatch)
    out, gradebook, feedback = tmp_path / "g2.csv", tmp_path / "g.json", tmp_path / "feedback"
    assert main(["grade", str(mixed), "--roster", str(roster), "--csv", str(out), "--json", str(gradebook),
                 "--feedback-dir", str(feedback)]) == 2
    captured = capsys.readouterr()
    assert not out.exists()
    assert [sub["student"] for sub in json.loads(gradebook.read_text(encoding="utf-8"))["submissions"]] == [
        "ann", "bob"]
    assert (feedback / "ann.txt").read_text(encoding="utf-8").startswith("Feedback for ann\n")
    assert f"feedback for 2 students written to {feedback}" in captured.out
    err = captured.err.splitlines()
    assert err[0].startswith(f"skipped {mixed / 'leo' / '02_structure.py'}: {NOT_A_NOTEBOOK}")
    assert "(student bob) is not graded (unreadable)" in err[1]
    assert err[-1].startswith("no CSV written: ") and "--points" in err[-1]
