"""What the grader hands back and to whom: the feedback files, their names and where they are written, and
``--student``, which names the student of notebooks the folder layout does not name.

Grading itself is replaced by a fake that gives every notebook full marks (or the status asked for), so these
tests need no sandbox; the real grading runs in ``test_grading.py``.
"""

from __future__ import annotations

import hashlib
import json
import os

import pytest

from rnncourse.__main__ import main
from rnncourse.exercises.grade import (FEEDBACK_INDEX, ExerciseResult, SubmissionResult, printable, feedback_files,
                                       format_table, layout_students, student_ids)


def notebooks(folder, *names) -> None:
    """Files named like submissions; the fake grader never reads them."""
    for name in names:
        (folder / name).parent.mkdir(parents=True, exist_ok=True)
        (folder / name).write_text("{}")


def fake_grading(monkeypatch, status="ok", note="") -> None:
    """Grade each notebook with full marks on one exercise (or not at all, with ``status`` and ``note``)."""
    def grade_all(paths, roots=None, student=None, **kwargs):
        results = []
        for path, who in zip(paths, student_ids(paths, roots, student)):
            ok = status == "ok"
            row = ExerciseResult("ch02.rnn_step", "rnn_step", 2 * ok, 2, ok, "all checks passed" if ok else note)
            results.append(SubmissionResult(str(path), str(path), "ch02", status, [row], [note] if note else [],
                                            student=who))
        return results

    monkeypatch.setattr("rnncourse.exercises.grade.grade_all", grade_all)


def refuse_grading(monkeypatch) -> None:
    monkeypatch.setattr("rnncourse.exercises.grade.grade_all", lambda *args, **kwargs: pytest.fail("graded"))


def sha8(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()[:8]


def result(student, name="x/02.ipynb", status="ok", notes=()):
    row = ExerciseResult("ch02.rnn_step", "rnn_step", 2, 2, True, "all checks passed")
    return SubmissionResult(name, name, "ch02", status, [row], list(notes), student=student)


# ----------------------------------------------------------------------------- file names

def test_each_feedback_file_name_depends_on_its_id_alone_and_no_two_are_alike_ignoring_case():
    ids = ["a b", "a_b", "a_b-2", "Bob", "bob", "\u00fcnal", "erin", "bob\u3164", "bob-81b637d8",
           "index", "index.json"]                                    # ü composed; a Hangul filler
    files = feedback_files([result(sid) for sid in ids])
    index = json.loads(files.pop(FEEDBACK_INDEX))
    assert sorted(index.values()) == sorted(ids)                       # one file per student, and the index says whose
    folded = [name.casefold() for name in files]
    assert len(set(folded)) == len(files) == len(ids)                  # distinct on a case-insensitive disk too
    # A safe, lower-case id that does not end like a hashed name is its own name; any other carries its hash.
    plain = {"a_b": "a_b.txt", "a_b-2": "a_b-2.txt", "bob": "bob.txt", "\u00fcnal": "\u00fcnal.txt", "erin": "erin.txt",
             "index": "index.txt", "index.json": "index.json.txt"}
    hashed = {"a b": "a_b", "Bob": "Bob", "bob\u3164": "bob_", "bob-81b637d8": "bob-81b637d8"}
    assert {sid: name for name, sid in index.items()} == {**plain, **{sid: f"{stem}-{sha8(sid)}.txt"
                                                                      for sid, stem in hashed.items()}}
    # The same name whoever else is graded: a regrade of one student writes the file of the full run.
    for sid in ids:
        assert [n for n in feedback_files([result(sid)]) if n != FEEDBACK_INDEX] == \
            [name for name, who in index.items() if who == sid]
    assert not FEEDBACK_INDEX.endswith(".txt")                          # no student's file can be the index
    # ü decomposed (a folder named on macOS) is the same student as ü composed, with the same file.
    decomposed = feedback_files([result("u\u0308nal")])
    assert json.loads(decomposed.pop(FEEDBACK_INDEX)) == {"\u00fcnal.txt": "\u00fcnal"}
    assert list(decomposed) == ["\u00fcnal.txt"]


def test_a_long_id_in_any_script_gives_a_name_the_disk_takes(tmp_path, monkeypatch, capsys):
    long_ids = ["é" * 120, "学" * 80, "a" * 250]           # folder names of 240-250 bytes
    names = [name for name in feedback_files([result(sid) for sid in long_ids]) if name != FEEDBACK_INDEX]
    assert all(len(name.encode()) <= 100 + len("-12345678.txt") for name in names), names
    # Through the command: the folder of each student is their id, and every file is written.
    notebooks(tmp_path, *(f"subs/{sid}/02_structure.ipynb" for sid in long_ids))
    fake_grading(monkeypatch)
    out = tmp_path / "feedback"
    assert main(["grade", str(tmp_path / "subs"), "--feedback-dir", str(out)]) == 0, capsys.readouterr().err
    index = json.loads((out / FEEDBACK_INDEX).read_text())
    assert sorted(index.values()) == sorted(long_ids)
    for name, sid in index.items():
        assert (out / name).read_text().startswith(f"Feedback for {sid}\n")


# ----------------------------------------------------------------------------- writing

def test_a_file_that_cannot_be_written_leaves_the_others_written_and_fails_the_run_last(tmp_path, monkeypatch, capsys):
    notebooks(tmp_path, "subs/alice/02_structure.ipynb", "subs/bob/02_structure.ipynb", "subs/carol/02_structure.ipynb")
    fake_grading(monkeypatch)
    out = tmp_path / "feedback"
    (out / "bob.txt").mkdir(parents=True)                 # a folder where bob's file goes: it cannot be replaced
    assert main(["grade", str(tmp_path / "subs"), "--feedback-dir", str(out)]) == 2
    captured = capsys.readouterr()
    assert (out / "alice.txt").read_text().startswith("Feedback for alice\n")
    assert (out / "carol.txt").read_text().startswith("Feedback for carol\n")
    assert (out / "bob.txt").is_dir() and not list((out / "bob.txt").iterdir())
    assert not [p for p in out.iterdir() if p.name.endswith(".partial")]
    assert "feedback for 2 students written to" in captured.out
    assert captured.err.splitlines()[-1] == (f"--feedback-dir: not written to {out}: bob.txt, whose feedback is in "
                                             "the table above (Is a directory)")
    # The index too: its failure says what it is, and the count is of the students' files alone.
    (out / "bob.txt").rmdir()
    (out / FEEDBACK_INDEX).unlink()
    (out / FEEDBACK_INDEX).mkdir()
    assert main(["grade", str(tmp_path / "subs"), "--feedback-dir", str(out)]) == 2
    captured = capsys.readouterr()
    assert captured.out.splitlines()[-1] == f"feedback for 3 students written to {out}, one file each"
    assert captured.err.splitlines()[-1] == (f"--feedback-dir: not written to {out}: the index {FEEDBACK_INDEX}, "
                                             "which says whose each file is (Is a directory)")


def test_a_symbolic_link_in_the_feedback_folder_is_replaced_not_followed(tmp_path, monkeypatch):
    notebooks(tmp_path, "subs/alice/02_structure.ipynb")
    fake_grading(monkeypatch)
    out, target = tmp_path / "feedback", tmp_path / "elsewhere.txt"
    out.mkdir()
    target.write_text("not the grader's")
    os.chmod(target, 0o644)
    (out / "alice.txt").symlink_to(target)
    assert main(["grade", str(tmp_path / "subs"), "--feedback-dir", str(out)]) == 0
    assert target.read_text() == "not the grader's" and target.stat().st_mode & 0o777 == 0o644
    written = out / "alice.txt"
    assert not written.is_symlink() and written.read_text().startswith("Feedback for alice\n")
    assert (written.stat().st_mode & 0o777, written.stat().st_uid) == (0o600, os.getuid())


# ----------------------------------------------------------------------------- what reaches a terminal or a file

def test_format_characters_and_line_separators_of_a_submission_are_never_printed():
    sneaky = "bob\u202egpj.exe\u2028x\u200by\u2066z\x1b[2J"
    assert printable(sneaky) == "bob gpj.exe x y z [2J"
    sub = result("alice", status="error", notes=[sneaky])
    sub.status = sneaky
    table = format_table([sub])
    text = feedback_files([sub])["alice.txt"]
    for shown in (table, text):
        assert not any(c in shown for c in "\u202e\u2028\u200b\u2066\x1b"), repr(shown)


def test_a_not_graded_status_is_printed_without_control_or_format_characters(tmp_path, monkeypatch, capsys):
    notebooks(tmp_path, "subs/alice/02_structure.ipynb")
    fake_grading(monkeypatch, status="unreadable", note="not graded: \u202eevil\x1b[2J")
    assert main(["grade", str(tmp_path / "subs")]) == 1
    captured = capsys.readouterr()
    assert "not graded (unreadable):  evil [2J" in captured.err
    assert not any(c in captured.out + captured.err for c in "\u202e\x1b")


# ----------------------------------------------------------------------------- --student

def test_student_is_refused_for_notebooks_the_layout_gives_to_several_students(tmp_path, monkeypatch, capsys):
    notebooks(tmp_path, "canvas/smithalice_2000_3000_02_structure.ipynb", "canvas/jonesbob_2001_3001_hw.ipynb",
              "moodle/Alice Smith_1000_assignsubmission_file_/hw.ipynb",
              "moodle/Bob Jones_1001_assignsubmission_file_/hw.ipynb",
              "bob/hw.ipynb", "bob/hw2.ipynb")
    refuse_grading(monkeypatch)
    for folder, named in (("canvas", ("2000", "2001")), ("moodle", ("Participant 1000", "Participant 1001"))):
        assert main(["grade", str(tmp_path / folder), "--student", "alice"]) == 2
        err = capsys.readouterr().err
        assert err.startswith("--student: student 'alice' names one student, but the notebooks are of 2 students by "
                              "their folders or names: ") and err.count("\n") == 1, err
        assert all(f"{who} ({tmp_path / folder}" in err for who in named), err
    # File names are what --student replaces: one student's folder of notebooks named as they like.
    assert layout_students([tmp_path / "bob/hw.ipynb", tmp_path / "bob/hw2.ipynb"], [tmp_path / "bob"] * 2) == \
        [None, None]


def test_student_is_refused_where_it_would_put_grades_in_another_students_row(tmp_path, monkeypatch, capsys):
    notebooks(tmp_path, "subs/bob/02_structure.ipynb", "subs/dave/hw.ipynb")
    roster = tmp_path / "roster.csv"
    roster.write_text("id,name\nalice,Alice\nbob,Bob\nrobert,Robert\ndave,Dave\n")
    csv_file = tmp_path / "g.csv"
    refuse_grading(monkeypatch)
    # By the layout, subs/bob/02_structure.ipynb is bob's, and bob has a row: alice's would get his grades.
    args = ["grade", str(tmp_path / "subs/bob"), "--roster", str(roster), "--csv", str(csv_file)]
    assert main([*args, "--student", "alice"]) == 2
    assert capsys.readouterr().err == (
        f"--student: {tmp_path / 'subs/bob/02_structure.ipynb'} is the notebook of bob by the folder layout, and the "
        f"roster {roster} has a row for bob: --student alice would put bob's grades in the row of alice; grade it "
        "without --student, or give alice's own notebooks\n")
    assert not csv_file.exists()
    # A notebook the layout names by its file name only ("hw") is what --student is for.
    fake_grading(monkeypatch)
    assert main(["grade", str(tmp_path / "subs/dave"), "--roster", str(roster), "--csv", str(csv_file),
                 "--student", "dave"]) == 0
    assert "dave,Dave,2,2" in csv_file.read_text().splitlines()


def test_a_regrade_into_the_same_folder_keeps_the_others_in_the_index(tmp_path, monkeypatch):
    notebooks(tmp_path, "subs/Bob/02_structure.ipynb", "subs/erin/02_structure.ipynb")
    fake_grading(monkeypatch)
    out = tmp_path / "feedback"
    assert main(["grade", str(tmp_path / "subs"), "--feedback-dir", str(out)]) == 0
    first = json.loads((out / FEEDBACK_INDEX).read_text())
    assert main(["grade", str(tmp_path / "subs/Bob"), "--feedback-dir", str(out)]) == 0
    assert json.loads((out / FEEDBACK_INDEX).read_text()) == first == {f"Bob-{sha8('Bob')}.txt": "Bob",
                                                                       "erin.txt": "erin"}
    assert sorted(p.name for p in out.iterdir()) == sorted([*first, FEEDBACK_INDEX])   # Bob's file replaced


def test_outputs_the_feedback_would_replace_and_empty_names_are_refused_before_grading(tmp_path, monkeypatch, capsys):
    notebooks(tmp_path, "subs/erin/02_structure.ipynb", "subs/mallory\x1b[31m\u202egpj/notes.md")
    refuse_grading(monkeypatch)
    fb = tmp_path / "fb"
    fb.mkdir()
    subs = str(tmp_path / "subs/erin")
    cases = [(["--feedback-dir", str(fb), "--json", str(fb / "index.json")],
              f"--feedback-dir: expected a folder that --json {fb / 'index.json'} is not in, since that name is one "
              f"the feedback may take (index.json or a student's .txt); name another file or folder"),
             (["--feedback-dir", str(fb), "--csv", str(fb / "erin.txt")], f"--csv {fb / 'erin.txt'} is not in"),
             # Through a link, in another case, or the folder itself.
             (["--feedback-dir", str(fb), "--csv", str(tmp_path / "out.csv")], "is not in, since that name"),
             (["--feedback-dir", str(fb), "--json", str(fb / "INDEX.JSON")], "is not in, since that name"),
             (["--feedback-dir", str(fb / "new"), "--json", str(fb / "new")],
              f"--feedback-dir: expected a folder of its own, got {fb / 'new'}, which --json names too"),
             (["--feedback-dir", ""], "--feedback-dir: expected a value, got an empty one ('': an unset shell "
                                      "variable?)"),
             (["--csv", " "], "--csv: expected a value, got an empty one (' ': an unset shell variable?)"),
             (["--checkers", ""], "--checkers: expected a value, got an empty one")]
    (tmp_path / "out.csv").symlink_to(fb / "erin.txt")
    for extra, message in cases:
        assert main(["grade", subs, *extra]) == 2
        err = capsys.readouterr().err
        assert err.count("\n") == 1 and message in err, err
    # A folder's name reaches the terminal without its escape sequence or bidi override.
    assert main(["grade", str(tmp_path / "subs" / "mallory\x1b[31m\u202egpj")]) == 2
    err = capsys.readouterr().err
    assert "mallory [31m gpj (a folder without .ipynb files)" in err and "\x1b" not in err and "\u202e" not in err


def test_student_with_a_roster_is_refused_for_a_class_folder_of_named_notebooks(tmp_path, monkeypatch, capsys):
    # One folder for all: subs/carol.ipynb is carol's by the rule (its file name), and carol has a row.
    notebooks(tmp_path, "subs/carol.ipynb", "subs/dave.ipynb")
    roster = tmp_path / "roster.csv"
    roster.write_text("id\nbob\ncarol\ndave\n")
    refuse_grading(monkeypatch)
    assert main(["grade", str(tmp_path / "subs"), "--student", "bob", "--roster", str(roster), "--csv",
                 str(tmp_path / "g.csv")]) == 2
    assert capsys.readouterr().err.startswith(f"--student: {tmp_path / 'subs/carol.ipynb'} is the notebook of carol "
                                              "by the folder layout")


def test_student_takes_every_notebook_in_a_folder_named_after_the_student(tmp_path):
    bob = [tmp_path / "subs/bob/hw4/x.ipynb", tmp_path / "subs/bob/hw5/y.ipynb"]
    notebooks(tmp_path, "subs/bob/hw4/x.ipynb", "subs/bob/hw5/y.ipynb", "subs/carol/hw2.ipynb")
    assert student_ids(bob, [tmp_path / "subs/bob"] * 2, "bob") == ["bob", "bob"]                 # grade subs/bob
    assert student_ids(bob, None, "bob") == ["bob", "bob"]                                        # given alone
    # Not where the folder of that name lies above the folders given (it could be the instructor's home): the
    # message says to give bob's folder.
    with pytest.raises(ValueError, match="found in 2 places.*all the notebooks in a folder named bob are bob's"):
        student_ids(bob, [tmp_path / "subs/bob/hw4", tmp_path / "subs/bob/hw5"], "bob")
    # A notebook from another student's folder is a second place.
    with pytest.raises(ValueError, match="found in 2 places"):
        student_ids([bob[0], tmp_path / "subs/carol/hw2.ipynb"], [tmp_path / "subs/bob/hw4", None], "x")


def test_a_moodle_students_folder_given_alone_is_their_participant_id(tmp_path):
    folder = tmp_path / "moodle" / "Alice Smith_1000_assignsubmission_file_"
    notebooks(tmp_path, "moodle/Alice Smith_1000_assignsubmission_file_/02_structure.ipynb")
    nb = folder / "02_structure.ipynb"
    assert student_ids([nb], [folder]) == student_ids([nb]) == ["Participant 1000"]
    assert layout_students([nb], [folder]) == ["Participant 1000"]


def test_empty_arguments_of_any_command_are_refused_before_it_writes_anything(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    for argv, option in ((["student", ""], "outdir"), (["nbgrader", "", "ch04"], "outdir"),
                         (["nbgrader", "course", "ch04", "--course-id", " "], "--course-id"),
                         (["grade", ""], "submissions"), (["exercises", "--checkers", ""], "--checkers")):
        assert main(argv) == 2
        assert capsys.readouterr().err.startswith(f"{option}: expected a value, got an empty one")
    assert not list(tmp_path.iterdir())


def test_the_earlier_index_keeps_only_entries_it_can_vouch_for(tmp_path, monkeypatch, capsys):
    notebooks(tmp_path, "subs/bob/02_structure.ipynb")
    fake_grading(monkeypatch)
    out = tmp_path / "feedback"
    out.mkdir()
    for name in ("erin.txt", "Bob.txt", "x.txt"):
        (out / name).write_text("earlier")
    earlier = {"erin.txt": "erin",                       # kept: erin's name, and the file is there
               "Bob.txt": "bob",                         # the old naming: bob's file is bob.txt now (taken)
               "x.txt": "carol",                         # not the file carol's id gives
               "gone.txt": "gone",                       # no such file
               "rnncourse_version": "0.1.0"}             # a gradebook, not an index
    (out / FEEDBACK_INDEX).write_text(json.dumps(earlier))
    assert main(["grade", str(tmp_path / "subs"), "--feedback-dir", str(out)]) == 0
    assert json.loads((out / FEEDBACK_INDEX).read_text()) == {"erin.txt": "erin", "bob.txt": "bob"}
    (out / FEEDBACK_INDEX).write_text('{"erin.txt": "er')                   # cut short: said, not silently dropped
    assert main(["grade", str(tmp_path / "subs"), "--feedback-dir", str(out)]) == 0
    assert f"warning: the earlier {out / FEEDBACK_INDEX} was not read" in capsys.readouterr().err
    assert json.loads((out / FEEDBACK_INDEX).read_text()) == {"bob.txt": "bob"}


def test_the_student_folder_counts_only_where_the_rule_reads_the_student(tmp_path):
    # hw4 below two students' folders, or ch04 of nbgrader, is no student's folder.
    notebooks(tmp_path, "subs/alice/hw4/04_bptt.ipynb", "subs/carol/hw4/04_bptt.ipynb")
    paths = sorted((tmp_path / "subs").rglob("*.ipynb"))
    for name in ("hw4", "ch04"):
        with pytest.raises(ValueError, match="are of 2 students"):
            student_ids(paths, [tmp_path / "subs"] * 2, name)
    # The first folder below the folder given is where the rule reads the student.
    notebooks(tmp_path, "class/bob/hw4/x.ipynb", "class/bob/hw5/y.ipynb")
    bob = sorted((tmp_path / "class").rglob("*.ipynb"))
    assert student_ids(bob, [tmp_path / "class"] * 2, "bob") == ["bob", "bob"]


def test_file_names_that_windows_would_take_for_another_are_hashed():
    from rnncourse.exercises.grade import feedback_file_name

    assert feedback_file_name("yildiz") == "yildiz.txt"
    dotless = "y\u0131ld\u0131z"                                  # NTFS makes it YILDIZ, as it does yildiz
    assert feedback_file_name(dotless) == f"{dotless}-{sha8(dotless)}.txt"
    assert feedback_file_name("con") == f"con-{sha8('con')}.txt" and feedback_file_name("console") == "console.txt"


def test_an_empty_option_is_named_as_an_option_even_where_another_command_takes_that_name_by_position(capsys):
    assert main(["grade", "x", "--chapter", ""]) == 2
    assert capsys.readouterr().err.startswith("--chapter: expected a value, got an empty one")
    assert main(["exercises", ""]) == 2
    assert capsys.readouterr().err.startswith("chapter: expected a value, got an empty one")


@pytest.mark.parametrize("earlier", ["[" * 5000 + "]" * 5000, '{"con.txt": "con"}'], ids=["too-deep", "old-rule"])
def test_an_earlier_index_too_deep_or_of_another_rule_is_said_not_a_crash(tmp_path, monkeypatch, capsys, earlier):
    notebooks(tmp_path, "subs/bob/02_structure.ipynb")
    fake_grading(monkeypatch)
    out = tmp_path / "feedback"
    out.mkdir()
    (out / "con.txt").write_text("earlier")
    (out / FEEDBACK_INDEX).write_text(earlier)
    assert main(["grade", str(tmp_path / "subs"), "--feedback-dir", str(out)]) == 0
    err = capsys.readouterr().err
    assert "warning: the earlier" in err and (out / "bob.txt").is_file(), err
    assert json.loads((out / FEEDBACK_INDEX).read_text()) == {"bob.txt": "bob"}
