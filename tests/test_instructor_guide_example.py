"""The instructor guide's "Add a new exercise" example is real: its checker runs, and its tests are these.

The guide shows ``book/examples/relu_step_checker.py`` and the tests between the markers below; followed
word for word, in a copy of the repository, its steps leave green the tests of ``make test`` that read chapter 2's
exercises.
"""

import ast
import os
import re
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import jupytext
import numpy as np
import pytest

from rnncourse.exercises import run_check
from rnncourse.exercises.registry import _REGISTRY, chapter_exercises, get_exercise, load_checkers

ROOT = Path(__file__).resolve().parents[1]
GUIDE = ROOT / "book" / "instructor_guide.md"
EXAMPLE = "examples/relu_step_checker.py"


@pytest.fixture(autouse=True, scope="module")
def guide_checker():
    """Register the guide's exercise for these tests, then put back what ``ch02.relu_step`` was.

    An instructor who followed the guide has the same checker in ``rnncourse/exercises/ch02.py``,
    registered under the same name: it steps aside while the example file's copy is tested. Only that
    entry is put back: an exercise registered meanwhile (a chapter's module, imported by a test here)
    stays, since its module, imported once, would never register it again for the tests after these.
    """
    chapter_exercises("ch02")                  # chapter 2's own checkers first: an instructor's relu_step among them
    package = _REGISTRY.pop("ch02.relu_step", None)
    load_checkers(str(ROOT / "book" / EXAMPLE))
    yield
    _REGISTRY.pop("ch02.relu_step", None)
    if package is not None:
        _REGISTRY["ch02.relu_step"] = package
    sys.modules.pop("rnncourse_checkers_relu_step_checker", None)


def shown_in_the_guide(target: str) -> str:
    """What the guide's ``{literalinclude}`` of ``target`` shows: its options read as MyST reads them, the file
    cut as Sphinx cuts it."""
    from myst_parser.parsers.directives import parse_directive_text
    from sphinx.config import Config
    from sphinx.directives.code import LiteralInclude, LiteralIncludeReader

    block = re.search(rf"^( *)```{{literalinclude}} {re.escape(target)}\n(.*?)^ *```", GUIDE.read_text(), re.S | re.M)
    options = parse_directive_text(LiteralInclude, target, textwrap.dedent(block.group(2))).options
    return LiteralIncludeReader(str(GUIDE.parent / target), options, Config()).read()[0]


def step_two_text() -> str:
    """The guide's step 2, the exercise as it goes into the chapter (MyST markdown)."""
    block = next(b for b in GUIDE.read_text().split("````markdown\n")[1:] if "ex-ch02-relu" in b).split("````")[0]
    return textwrap.dedent(block)


def step_two_cells() -> list:
    """The cells of the guide's step 2."""
    return jupytext.reads(step_two_text(), fmt="md:myst").cells


# guide example: start
def relu_step(x_t, h_prev, W_xh, W_hh, b_h):
    return np.maximum(0.0, x_t @ W_xh.T + h_prev @ W_hh.T + b_h)


def test_the_reference_passes():
    assert run_check("ch02.relu_step", relu_step) == (True, "all checks passed (2 points)")


def test_tanh_instead_of_relu_is_caught():
    passed, feedback = run_check("ch02.relu_step", lambda *args: np.tanh(relu_step(*args)))
    assert not passed and "(should be max(x_t, 0)): 1 of 2 entries differ" in feedback


def test_writing_into_an_argument_is_caught():
    def in_place(x_t, h_prev, W_xh, W_hh, b_h):
        h_prev[...] = relu_step(x_t, h_prev, W_xh, W_hh, b_h)
        return h_prev

    passed, feedback = run_check("ch02.relu_step", in_place)
    assert not passed and "changed its argument h_prev in place" in feedback
# guide example: end


def test_the_guides_sample_fail_message_is_what_the_checker_prints(capsys):
    """The sample under "The exercises" is chapter 4's checker on a dW_hh that pairs da_t with h_t."""
    from rnncourse.exercises import check
    from rnncourse.exercises.ch04 import bptt_variant

    guide = (ROOT / "book" / "instructor_guide.md").read_text()
    sample = next(block for block in guide.split("```text\n")[1:] if block.startswith("FAIL "))
    check("ch04.rnn_backward", lambda *args: bptt_variant(*args, whh_state="current"))
    assert " ".join(sample.split("```")[0].split()) == capsys.readouterr().out.strip()


def test_the_checker_the_guide_shows_has_the_parameters_section_every_public_function_needs():
    from test_api_reference import documented_parameters

    shown = shown_in_the_guide(EXAMPLE)
    assert shown.startswith('@exercise("ch02.relu_step"') and "def check_relu_step(fn):" in shown, shown
    assert documented_parameters(get_exercise("ch02.relu_step").checker) == ["fn"]


def test_what_the_guide_says_to_paste_into_chapter_2_binds_its_checker_and_nothing_else():
    # Pasted at the end of ch02.py, an __all__, an import or a constant in it would replace chapter 2's own.
    bound = set()
    for node in ast.parse(shown_in_the_guide(EXAMPLE)).body:
        targets = node.targets if isinstance(node, ast.Assign) else [node] if isinstance(node, ast.FunctionDef) else []
        bound |= {getattr(t, "id", getattr(t, "name", None)) for t in targets}
        bound |= {(a.asname or a.name) for a in getattr(node, "names", [])}       # imports
    assert bound == {"check_relu_step"}


def test_the_guides_solution_cell_is_folded_as_the_chapters_are():
    # As in every chapter (test_student_version): the reference solution folded in the book, the stub shown.
    solutions = [c for c in step_two_cells() if "### BEGIN SOLUTION" in c.source]
    assert len(solutions) == 1 and "hide-input" in solutions[0].metadata.get("tags", [])


#: What the guide's steps 1 to 3 change, copied with the rest of the repository (no .git, .venv or build).
SKIPPED = shutil.ignore_patterns("__pycache__", "_build", ".ipynb_checkpoints", ".jupyter_cache", "*.egg-info")


def instructor_clone(folder: Path) -> Path:
    """A copy of the repository in ``folder`` with the guide's steps 1 to 3 of "Add a new exercise" done as an
    instructor does them, in its files: the checker pasted at the end of ``rnncourse/exercises/ch02.py`` and named in
    its ``__all__``, the cells of step 2 at the end of chapter 2 (its Exercises section), the line for ``ANSWERS``
    added to ``tests/test_chapter_listings.py`` and the tests of step 3 appended to
    ``tests/test_exercises_ch01_ch02.py``.
    A repository where they are done already (an instructor's, who followed the guide) is copied as it is.
    """
    clone = folder / "course"
    clone.mkdir()
    for entry in ROOT.iterdir():
        if entry.name.startswith(".") or entry.name in {"_build", "student"} or entry.name.endswith(".egg-info"):
            continue
        if entry.is_dir():
            shutil.copytree(entry, clone / entry.name, ignore=SKIPPED, symlinks=True)
        else:
            shutil.copy2(entry, clone / entry.name)
    if "def check_relu_step(" in (ROOT / "rnncourse" / "exercises" / "ch02.py").read_text(encoding="utf-8"):
        return clone
    guide = GUIDE.read_text(encoding="utf-8")

    def edit(path, change):
        target = clone / path
        before = target.read_text(encoding="utf-8")
        target.write_text(change(before), encoding="utf-8")
        assert target.read_text(encoding="utf-8") != before, path

    # Step 1.
    edit("rnncourse/exercises/ch02.py", lambda text: re.sub(
        r"^(__all__ = \[[^\]]*)\]", r'\1, "check_relu_step"]', text, count=1, flags=re.M)
        + "\n\n" + shown_in_the_guide(EXAMPLE) + "\n")
    # Step 2.
    edit("book/02_structure.md", lambda text: text.rstrip("\n") + "\n\n" + step_two_text())
    # Step 3: the line for ANSWERS, then the tests.
    [answers] = re.findall(r'^ *```python\n *("ch02\.relu_step": .*,)\n *```', guide, re.M)
    edit("tests/test_chapter_listings.py",
         lambda text: text.replace("ANSWERS = {\n", f"ANSWERS = {{\n    {answers}\n", 1))
    edit("tests/test_exercises_ch01_ch02.py",
         lambda text: text.rstrip("\n") + "\n\n\n" + shown_in_the_guide("../tests/test_instructor_guide_example.py"))
    return clone


#: A pytest plugin for the clone's run: it grades chapter 2's reference only (the one chapter the guide's steps
#: change; every chapter takes a minute), and says afterwards who registered ch02.relu_step and what ch02 exports.
INSTRUCTOR_CHECK = '''
def pytest_collection_modifyitems(items):
    for item in items:
        if item.name == "test_real_reference_solutions_score_full_marks_and_their_stubs_zero":
            item.module.REAL[:] = [p for p in item.module.REAL if p.name.startswith("02_")]


def pytest_unconfigure(config):
    import rnncourse.exercises.ch02 as ch02
    from rnncourse.exercises.registry import get_exercise

    checker = get_exercise("ch02.relu_step").checker
    print(f"afterwards ch02.relu_step is registered by {checker.__module__}.{checker.__qualname__}")
    print(f"ch02 exports {ch02.__all__ == {exports!r}}")
'''
SUBPROCESS_TESTS = "not instructor_followed_the_guide and not after_these_tests"
#: The tests that read the exercises of chapter 2 (the grading ones: from the registry, in the sandbox) or the
#: chapter itself; the other grading tests use a test chapter of their own.
MAKE_TEST_PART = ["tests/test_exercises_ch01_ch02.py", "tests/test_instructor_guide_example.py",
                  "tests/test_chapter_listings.py", "tests/test_exercises_framework.py",
                  "tests/test_grading_subjects.py", *(f"tests/test_grading.py::{name}" for name in (
                      "test_every_check_call_in_the_chapters_names_a_registered_exercise_and_back",
                      "test_real_reference_solutions_score_full_marks_and_their_stubs_zero",
                      "test_the_chapter_comes_from_the_instructor_then_the_file_name_then_the_notebook",
                      "test_a_submission_not_graded_leaves_empty_cells_keeps_earlier_grades_and_fails_the_command"))]


def test_make_test_stays_green_after_an_instructor_followed_the_guide(tmp_path):
    """Following the guide word for word registers ch02.relu_step in the package and puts it in chapter 2, and the
    tests of make test that read chapter 2's exercises or the chapter still pass: these (the package's copy of the
    checker steps aside), and every test of MAKE_TEST_PART but the one that grades a cheat for each subject (a
    minute, and no list of chapter 2's exercises in it)."""
    import rnncourse.exercises.ch02 as ch02

    clone = instructor_clone(tmp_path)
    exports = list(dict.fromkeys([*ch02.__all__, "check_relu_step"]))      # chapter 2's own, then the guide's
    (tmp_path / "instructor_check.py").write_text(INSTRUCTOR_CHECK.replace("{exports!r}", repr(exports)))
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(tmp_path), os.environ.get("PYTHONPATH", "")])}
    proc = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-p", "instructor_check",
                           *MAKE_TEST_PART, "-k", SUBPROCESS_TESTS + " and not calls_a_helper_computing_the_answer"],
                          cwd=clone, env=env, capture_output=True, text=True, timeout=600)
    out = proc.stdout + proc.stderr
    assert proc.returncode == 0 and re.search(r"^\d+ passed", out, re.M), out
    assert "ch02.relu_step" in (clone / "book" / "02_structure.md").read_text(encoding="utf-8")
    # The package's checker, not the example file's, is what the rest of the test run sees, and chapter 2 still
    # exports its own checkers.
    assert "afterwards ch02.relu_step is registered by rnncourse.exercises.ch02.check_relu_step" in out, out
    assert "ch02 exports True" in out, out


def test_the_exercises_of_a_chapter_first_imported_here_stay_registered_after_these_tests():
    # The sample's test imports chapter 4's checkers; a test after this module still finds them.
    later = "tests/test_grading.py::test_every_check_call_in_the_chapters_names_a_registered_exercise_and_back"
    proc = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", __file__, later,
                           "-k", SUBPROCESS_TESTS], cwd=ROOT, capture_output=True, text=True, timeout=120)
    out = proc.stdout + proc.stderr
    assert proc.returncode == 0 and "8 passed, 2 deselected" in out, out
