"""Regrading with the CSV of an earlier run as the roster, and a notebook whose name and metadata disagree.

A regrade that lacks the first run's ``--points`` or ``--checkers`` is refused with what to pass, never
written as a CSV with a column twice or a stale grade; a notebook named for one chapter whose metadata
names another grades nothing, unless ``--chapter`` says which.
"""

from __future__ import annotations

from pathlib import Path

import nbformat
import pytest

from rnncourse.__main__ import main
from rnncourse.exercises.grade import ExerciseResult, SubmissionResult, grades_csv, plan, submission_chapter
from test_grading import SANDBOX, unreadable

pytestmark = [pytest.mark.xdist_group("test_grading")]


def submission(name, chapter, *grades):
    return SubmissionResult(name, name, chapter, "ok", [ExerciseResult(e, e, p, m, p == m, "") for e, p, m in grades])


KIM = submission("kim/02_structure.ipynb", "ch02", ("ch02.rnn_step", 0, 2), ("ch02.rnn_param_count", 1, 1))


def test_a_roster_column_is_matched_on_its_exercise_and_another_maximum_is_refused(tmp_path):
    roster = tmp_path / "p.csv"
    roster.write_text("student,ch02.rnn_step (5),ch02.rnn_param_count (1),Total (6)\nkim,5,1,6\nlee,5,0,5\n")
    with pytest.raises(ValueError, match=r"^the roster has ch02\.rnn_step \(5\) but this run gives it 2 points: "
                                         r"pass --points ch02\.rnn_step=5, as for the first run$"):
        grades_csv([KIM], roster)
    # As Canvas exports it, with its assignment id: the same column, the same refusal.
    roster.write_text("student,ch02.rnn_step (5) (87568490),ch02.rnn_param_count (1) (87568491)\nkim,5,1\n")
    with pytest.raises(ValueError, match=r"^the roster has ch02\.rnn_step \(5\) but this run gives it 2 points"):
        grades_csv([KIM], roster)
    # With the first run's points, the column is filled again, not repeated.
    roster.write_text("student,ch02.rnn_step (5),ch02.rnn_param_count (1),Total (6)\nkim,5,1,6\nlee,5,0,5\n")
    kim = submission("kim/02_structure.ipynb", "ch02", ("ch02.rnn_step", 0, 5), ("ch02.rnn_param_count", 1, 1))
    assert grades_csv([kim], roster).splitlines() == [
        "student,ch02.rnn_step (5),ch02.rnn_param_count (1),Total (6)", "kim,0,1,1", "lee,5,0,5"]


def test_a_roster_column_of_a_graded_chapter_that_this_run_does_not_grade_is_refused(tmp_path):
    roster = tmp_path / "g.csv"
    roster.write_text("student,ch02.rnn_step (2),ch02.relu_step (2),ch02.rnn_param_count (1),ch07.jordan_step (2),"
                      "Total (7)\nkim,2,2,1,2,7\n")
    with pytest.raises(ValueError, match=r"^the roster has a column ch02\.relu_step, an exercise this run does not "
                                         r"grade: pass --checkers with the file that defines it, as for the first "
                                         r"run, or, if that exercise no longer exists, delete its column from the "
                                         r"roster$"):
        grades_csv([KIM], roster)
    # A column of a chapter this run does not grade keeps its values.
    roster.write_text("student,ch02.rnn_step (2),ch02.rnn_param_count (1),ch07.jordan_step (2),Total (5)\n"
                      "kim,2,1,2,5\n")
    assert grades_csv([KIM], roster).splitlines()[1:] == ["kim,0,1,2,3"]


@SANDBOX
def test_a_regrade_without_the_first_runs_points_or_checkers_writes_no_csv(tmp_path, capsys):
    # Unreadable notebooks are graded at once: every exercise of their chapter gets a column, no cell a grade.
    unreadable(tmp_path, "l3/mixed/kim/02_structure.ipynb", "l3/mixed/lee/02_structure.ipynb")
    first, again, kim = tmp_path / "p.csv", tmp_path / "p2.csv", str(tmp_path / "l3/mixed/kim")
    assert main(["grade", str(tmp_path / "l3/mixed"), "--points", "ch02.rnn_step=5", "--csv", str(first)]) == 1
    header = first.read_text().splitlines()[0]
    assert header.startswith("student,ch02.rnn_step (5),") and header.count("ch02.rnn_step") == 1
    capsys.readouterr()
    assert main(["grade", kim, "--roster", str(first), "--csv", str(again)]) == 2
    assert ("the roster has ch02.rnn_step (5) but this run gives it 2 points: pass --points ch02.rnn_step=5, as for "
            "the first run") in capsys.readouterr().err
    assert not again.exists()
    assert main(["grade", kim, "--points", "ch02.rnn_step=5", "--roster", str(first), "--csv", str(again)]) == 1
    assert again.read_text().splitlines()[0] == header
    # A column of an exercise of ch02 that this run does not load (a checkers file of one's own, left out).
    columns = header.count(",") - 1
    first.write_text(header.replace(",Total", ",ch02.my_own_step (2),Total") + "\nkim," + "," * columns + "2,2\n")
    capsys.readouterr()
    assert main(["grade", kim, "--points", "ch02.rnn_step=5", "--roster", str(first), "--csv",
                 str(tmp_path / "p3.csv")]) == 2
    assert ("the roster has a column ch02.my_own_step, an exercise this run does not grade: pass --checkers with the "
            "file that defines it, as for the first run") in capsys.readouterr().err


def test_a_check_call_of_an_exercise_not_loaded_says_so():
    cells = [{"cell_type": "code", "source": 'check("ch02.my_own_step", my_own_step)\ncheck("ch09.reverse_padded", f)'}]
    notes = plan(cells, {}, Path("02_structure.ipynb"))[2]
    assert notes == ["check('ch02.my_own_step', ...) graded nothing: no exercise ch02.my_own_step is loaded (pass "
                     "--checkers FILE.py if it is your own)",
                     "check('ch09.reverse_padded', ...) graded nothing: ch09.reverse_padded is not an exercise of ch02"]


def test_a_notebook_whose_file_name_and_metadata_disagree_grades_nothing_unless_the_chapter_is_given(tmp_path):
    cells = [{"cell_type": "code", "source": "x = 1"}]
    claims_ch02 = {"rnncourse": {"chapter": "ch02"}}
    chapter, todo, notes = plan(cells, claims_ch02, Path("03_structure.ipynb"))
    assert (chapter, todo) == ("?", [])
    assert notes == ["nothing graded: its file name says ch03 but its metadata ch02: grade it by itself with "
                     "--chapter ch02 or ch03"]
    chapter, todo, notes = plan(cells, claims_ch02, Path("03_structure.ipynb"), chapter="ch03")
    assert chapter == "ch03" and todo and notes == [
        "its metadata names chapter ch02, but it is graded as ch03, from the chapter given to the grader"]
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("x = 1")], metadata=claims_ch02)
    path = tmp_path / "grace" / "03_structure.ipynb"
    path.parent.mkdir()
    nbformat.write(nb, path)
    assert submission_chapter(path) == "?" and submission_chapter(path, "ch02") == "ch02"


@SANDBOX
def test_the_cli_leaves_the_cells_of_a_notebook_named_for_another_chapter_empty(tmp_path, capsys):
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("x = 1")],
                                  metadata={"rnncourse": {"chapter": "ch02"}})
    (tmp_path / "subs" / "grace").mkdir(parents=True)
    nbformat.write(nb, tmp_path / "subs" / "grace" / "03_structure.ipynb")
    out = tmp_path / "g.csv"
    assert main(["grade", str(tmp_path / "subs"), "--csv", str(out)]) == 1     # not graded: as for a refusal
    assert out.read_text().splitlines() == ["student,Total (0)", "grace,"]
    captured = capsys.readouterr()
    table = " ".join(captured.out.split())                      # the note, as the table wraps it
    assert ("nothing graded: its file name says ch03 but its metadata ch02: grade it by itself with --chapter ch02 "
            "or ch03") in table
    # Said on stderr too, where a note in a long table cannot be missed.
    assert captured.err.splitlines()[0] == (
        "warning: 03_structure.ipynb (student grace) is not graded: its file "
        f"name says ch03 but its metadata ch02: grade it by itself with --chapter ch02 or ch03; its cells in {out} are "
        "empty, not zero")


def test_the_table_lines_up_names_written_in_wide_or_combining_characters():
    # A terminal gives 李 two cells and a combining accent none: padding by len() shifted such rows.
    from rnncourse.exercises.grade import format_table

    wcwidth = pytest.importorskip("wcwidth")     # IPython's prompt_toolkit measures the terminal with it
    names = ("José Müller-李", "zoe\u0308", "गुप्त", "bo")   # Devanagari: a vowel sign and a virama, of no width
    lines = format_table([submission(name, "ch02", ("ch02.rnn_step", 2, 2)) for name in names]).splitlines()
    starts = {wcwidth.wcswidth(line[:line.index("ch02.rnn_step")]) for line in lines if "ch02.rnn_step" in line}
    assert len(starts) == 1, lines           # the exercise column starts in the same terminal cell on every row


def test_a_roster_with_an_exercise_twice_or_one_that_no_longer_exists_is_refused_with_a_way_out(tmp_path):
    roster = tmp_path / "g.csv"
    # What the grader wrote before 2026-12-03 on a regrade without --points: every --points was refused.
    roster.write_text("student,ch02.rnn_step (5),ch02.rnn_param_count (1),ch02.rnn_step (2),Total (8)\nkim,5,1,2,8\n")
    for points in (5, 2):
        kim = submission("kim/02_structure.ipynb", "ch02", ("ch02.rnn_step", 0, points), ("ch02.rnn_param_count", 1, 1))
        with pytest.raises(ValueError, match=r"^the roster has ch02\.rnn_step twice, as ch02\.rnn_step \(5\) and "
                                             r"ch02\.rnn_step \(2\): delete the column that does not hold the grades "
                                             r"to keep, then grade again$"):
            grades_csv([kim], roster)
    # An exercise the package no longer has: the way out is to delete its column.
    roster.write_text("student,ch02.rnn_step (2),ch02.rnn_cell (2),ch02.rnn_param_count (1)\nkim,2,2,1\n")
    with pytest.raises(ValueError, match=r"or, if that exercise no longer exists, delete its column from the roster$"):
        grades_csv([KIM], roster)
