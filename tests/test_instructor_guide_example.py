"""The instructor guide's "Add a new exercise" example is real: its checker runs, and its tests are these.

The guide shows ``book/examples/relu_step_checker.py`` and the tests between the markers below; followed
word for word, its steps leave ``make test`` green.
"""

import ast
import os
import re
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


def step_two_cells() -> list:
    """The cells of the guide's step 2, the exercise as it goes into the chapter."""
    block = next(b for b in GUIDE.read_text().split("````markdown\n")[1:] if "ex-ch02-relu" in b).split("````")[0]
    return jupytext.reads(textwrap.dedent(block), fmt="md:myst").cells


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


INSTRUCTOR_EDIT = '''
"""Steps 1 and 2 of "Add a new exercise" done: what the guide shows pasted at the end of rnncourse/exercises/ch02.py,
its checker's name added to that module's __all__."""
import rnncourse.exercises.ch02 as ch02
from rnncourse.exercises.registry import get_exercise

before = list(ch02.__all__)
exec(compile({shown!r}, ch02.__file__, "exec"), vars(ch02))
ch02.__all__.append("check_relu_step")


def pytest_unconfigure(config):
    checker = get_exercise("ch02.relu_step").checker
    print(f"afterwards ch02.relu_step is registered by {{checker.__module__}}.{{checker.__qualname__}}")
    print(f"ch02 exports {{ch02.__all__ == before + ['check_relu_step']}}")
'''
SUBPROCESS_TESTS = "not instructor_put_the_example and not after_these_tests"


def test_these_tests_pass_after_an_instructor_put_the_example_into_the_package(tmp_path):
    """Following the guide word for word registers ch02.relu_step in the package; `make test` stays green."""
    (tmp_path / "instructor_edit.py").write_text(INSTRUCTOR_EDIT.format(shown=shown_in_the_guide(EXAMPLE)),
                                                 encoding="utf-8")
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(tmp_path), os.environ.get("PYTHONPATH", "")])}
    proc = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-p", "instructor_edit",
                           __file__, "-k", SUBPROCESS_TESTS],    # every test but those that start pytest
                          cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
    out = proc.stdout + proc.stderr
    assert proc.returncode == 0 and "7 passed, 2 deselected" in out, out
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
