"""The nbgrader course command: source notebooks nbgrader accepts, and a real generate/autograde round.

The round runs where nbgrader is installed (an optional extra, not in requirements.txt):
``pip install nbgrader==0.9.6``, or any ``nbgrader`` on the PATH.
"""

from __future__ import annotations

import csv
import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

from exercise_fixtures import ROOT
from rnncourse.__main__ import main
from rnncourse.exercises.nbgrader_course import write_nbgrader_course
from rnncourse.exercises.registry import get_exercise

NBGRADER = shutil.which("nbgrader") or next(
    (str(p) for p in [Path(sys.executable).with_name("nbgrader")] if p.exists()), None)
INSTALL = "nbgrader is not installed: pip install nbgrader==0.9.6 (or pip install -e .[nbgrader]; an optional extra)"
CELL_ID = re.compile(r"^[a-zA-Z0-9_-]+$")


@pytest.fixture(scope="module")
def course(tmp_path_factory):
    out = tmp_path_factory.mktemp("course")
    assert main(["nbgrader", str(out), "ch02", "ch04", "--book", str(ROOT)]) == 0
    return out


def test_the_source_notebooks_have_graded_cells_with_valid_ids_and_no_solution_prose(course):
    nb = nbformat.read(course / "source" / "ch04" / "04_bptt.ipynb", as_version=4)
    nbformat.validate(nb)
    assert nb.metadata.kernelspec.name == "rnncourse"
    ids = [cell["id"] for cell in nb.cells]
    assert len(set(ids)) == len(ids) and all(CELL_ID.match(i) for i in ids)
    graded = {c["id"]: c for c in nb.cells if c.metadata.get("nbgrader", {}).get("grade")}
    assert sorted(graded) == ["ch04-rnn_backward", "ch04-rnn_step_backward"]
    for grade_id, cell in graded.items():
        name = grade_id.replace("-", ".", 1)
        assert cell.metadata.nbgrader["points"] == get_exercise(name).points
        assert re.fullmatch(rf"assert check\('{re.escape(name)}', \w+\)", cell.source)
    answers = [c for c in nb.cells if c.metadata.get("nbgrader", {}).get("solution")]
    assert [c["id"] for c in answers] == ["ch04-rnn_step_backward-answer", "ch04-rnn_backward-answer"]
    assert all("### BEGIN SOLUTION" in c.source for c in answers)
    markdown = "\n".join(c.source for c in nb.cells if c.cell_type == "markdown")
    assert "{solution" not in markdown and "**Exercise 4.1**" in markdown and "**Exercise 4.2**" in markdown
    # plain markdown, as the student notebooks: nbgrader's Jupyter shows no MyST directive or role raw
    assert "<summary>Hint</summary>" in markdown and not re.search(r"\{(exercise|admonition|eq|numref)\}", markdown)
    kernel = json.loads((course / "jupyter" / "kernels" / "rnncourse" / "kernel.json").read_text())
    assert kernel["argv"][0] == sys.executable
    assert "c.CourseDirectory.root = here" in (course / "nbgrader_config.py").read_text()


def test_the_course_kernel_runs_one_thread_per_library_as_the_makefile_does(course):
    # Training cells slow tenfold with a thread pool per library: the kernel sets what `make` sets.
    line = next(line for line in (ROOT / "Makefile").read_text().splitlines() if line.startswith("THREADS :="))
    threads = dict(setting.split("=") for setting in line.split(":=")[1].split())
    kernel = json.loads((course / "jupyter" / "kernels" / "rnncourse" / "kernel.json").read_text())
    assert len(threads) == 3 and {name: kernel["env"].get(name) for name in threads} == threads


def test_an_unknown_chapter_or_one_without_coding_exercises_is_refused(tmp_path, capsys):
    assert main(["nbgrader", str(tmp_path / "c"), "ch77", "--book", str(ROOT)]) == 2
    assert "no chapter ch77" in capsys.readouterr().err
    book = tmp_path / "book"
    (book / "book").mkdir(parents=True)
    (book / "_toc.yml").write_text("format: jb-book\nroot: book/01_prose\n")
    (book / "book" / "01_prose.md").write_text("---\njupytext:\n  text_representation:\n    format_name: myst\n"
                                               "kernelspec:\n  name: python3\n  display_name: Python 3\n---\n"
                                               "# Prose only\n\n```{code-cell} ipython3\nprint(1)\n```\n")
    assert main(["nbgrader", str(tmp_path / "c"), "ch01", "--book", str(book)]) == 2
    assert "ch01 has no coding exercise to grade" in capsys.readouterr().err
    # Every chapter is checked before anything is written: no ch02 without its config and kernel.
    shutil.copy(ROOT / "book" / "02_structure.md", book / "book")
    assert main(["nbgrader", str(tmp_path / "c"), "ch02", "ch01", "--book", str(book)]) == 2
    assert "ch01 has no coding exercise" in capsys.readouterr().err and not (tmp_path / "c").exists()


def test_bad_input_to_the_nbgrader_command_is_one_line_and_status_2_and_a_course_is_replaced_only_by_force(
        tmp_path, capsys):
    book = tmp_path / "book"
    (book / "book").mkdir(parents=True)
    (book / "_toc.yml").write_text("format: jb-book\nroot: book/02_structure\n")
    chapter = (ROOT / "book" / "02_structure.md").read_text()
    (book / "book" / "02_structure.md").write_text(chapter.replace("### END SOLUTION", "", 1))
    (tmp_path / "a_file").write_text("")
    (tmp_path / "empty" / "book").mkdir(parents=True)
    (tmp_path / "empty" / "_toc.yml").write_text("format: jb-book\nroot: book/intro\n")
    cases = [(["ch02", "--book", str(book)], "the solution opened on line"),
             (["ch02", "--book", str(tmp_path / "empty")], "expected chapters (NN_slug.md) in"),
             (["ch02", "--book", str(ROOT), "--timeout", "-5"], "timeout should be the seconds a cell may run, > 0, "
                                                                 "but is -5"),
             (["ch02", "--book", str(ROOT), "--timeout", "0"], "but is 0")]
    for args, message in cases:
        assert main(["nbgrader", str(tmp_path / "c"), *args]) == 2
        err = capsys.readouterr().err
        assert err.count("\n") == 1 and message in err, err
    assert not (tmp_path / "c").exists()
    assert main(["nbgrader", str(tmp_path / "a_file" / "c"), "ch02", "--book", str(ROOT)]) == 2
    assert capsys.readouterr().err.startswith("no nbgrader course written: expected a folder to write in, but ")
    assert main(["nbgrader", str(tmp_path / "c"), "ch02", "--book", str(ROOT)]) == 0
    assert main(["nbgrader", str(tmp_path / "c"), "ch02", "--book", str(ROOT)]) == 2
    err = capsys.readouterr().err
    assert "but it has " + str(tmp_path / "c" / "source" / "ch02" / "02_structure.ipynb") in err
    assert err.endswith("; replace them with --force\n") and "force=True" not in err      # the command's option
    with pytest.raises(ValueError, match=r"but it has .*; replace them with force=True$"):  # the function's argument
        write_nbgrader_course(ROOT / "book", tmp_path / "c", ["ch02"])
    assert main(["nbgrader", str(tmp_path / "c"), "ch02", "--book", str(ROOT), "--force"]) == 0


def _nbgrader(course, *args):
    run = subprocess.run([NBGRADER, *args], cwd=course, capture_output=True, text=True, timeout=600)
    assert run.returncode == 0, run.stdout[-2000:] + run.stderr[-3000:]
    return run


@pytest.mark.skipif(NBGRADER is None, reason=INSTALL)
def test_nbgrader_releases_without_solutions_and_autogrades_reference_full_and_stub_zero(course):
    _nbgrader(course, "generate_assignment", "ch02", "--force")
    release = course / "release" / "ch02" / "02_structure.ipynb"
    text = release.read_text()
    assert "BEGIN SOLUTION" not in text and 'raise NotImplementedError(\\"write your solution here\\")' in text
    source = nbformat.read(course / "source" / "ch02" / "02_structure.ipynb", as_version=4)
    solutions = {c["id"]: c.source for c in source.cells if c.metadata.get("nbgrader", {}).get("solution")}
    solved = nbformat.read(release, as_version=4)
    for cell in solved.cells:
        if cell["id"] in solutions:
            cell.source = solutions[cell["id"]]
    for student, nb in (("alice", solved), ("bob", nbformat.read(release, as_version=4))):
        folder = course / "submitted" / student / "ch02"
        folder.mkdir(parents=True)
        nbformat.write(nb, folder / "02_structure.ipynb")
    _nbgrader(course, "autograde", "ch02", "--force")
    _nbgrader(course, "export", "--to", str(course / "grades.csv"))
    with open(course / "grades.csv", newline="") as f:
        scores = {row["student_id"]: (float(row["score"]), float(row["max_score"])) for row in csv.DictReader(f)}
    assert scores == {"alice": (3.0, 3.0), "bob": (0.0, 3.0)}
    _nbgrader(course, "generate_feedback", "ch02", "--force")
    feedback = (course / "feedback" / "bob" / "ch02" / "02_structure.html").read_text()
    assert "FAIL ch02.rnn_step: rnn_step with zero weights (B=2, D=4, H=3) is not implemented yet" in feedback
