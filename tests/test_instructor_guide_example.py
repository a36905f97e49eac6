"""The instructor guide's "Add a new exercise" example is real: its checker runs, and its tests are these.

The guide shows ``book/examples/relu_step_checker.py`` and the tests between the markers below.
"""

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from rnncourse.exercises import run_check
from rnncourse.exercises.registry import _REGISTRY, chapter_exercises, load_checkers

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(autouse=True, scope="module")
def guide_checker():
    """Register the guide's exercise for these tests, then put the registry back as it was.

    An instructor who followed the guide has the same checker in ``rnncourse/exercises/ch02.py``,
    registered under the same name: it steps aside while the example file's copy is tested.
    """
    chapter_exercises("ch02")                  # chapter 2's own checkers first, so none registers later
    before = dict(_REGISTRY)
    _REGISTRY.pop("ch02.relu_step", None)
    load_checkers(str(ROOT / "book" / "examples" / "relu_step_checker.py"))
    yield
    _REGISTRY.clear()
    _REGISTRY.update(before)
    sys.modules.pop("rnncourse_checkers_relu_step_checker", None)


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


INSTRUCTOR_EDIT = '''
"""Step 1 of "Add a new exercise" done: the guide's checker is in rnncourse/exercises/ch02.py."""
from pathlib import Path

import rnncourse.exercises.ch02
from rnncourse.exercises.registry import get_exercise

source = Path({example!r}).read_text(encoding="utf-8")
exec(compile(source, rnncourse.exercises.ch02.__file__, "exec"), {{"__name__": "rnncourse.exercises.ch02"}})


def pytest_unconfigure(config):
    checker = get_exercise("ch02.relu_step").checker
    print(f"afterwards ch02.relu_step is registered by {{checker.__module__}}.{{checker.__qualname__}}")
'''


def test_these_tests_pass_after_an_instructor_put_the_example_into_the_package(tmp_path):
    """Following the guide word for word registers ch02.relu_step in the package; `make test` stays green."""
    (tmp_path / "instructor_edit.py").write_text(
        INSTRUCTOR_EDIT.format(example=str(ROOT / "book" / "examples" / "relu_step_checker.py")), encoding="utf-8")
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(tmp_path), os.environ.get("PYTHONPATH", "")])}
    proc = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-p", "instructor_edit",
                           __file__, "-k", "not instructor_put_the_example"],    # every test but this one
                          cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
    out = proc.stdout + proc.stderr
    assert proc.returncode == 0 and "4 passed, 1 deselected" in out, out
    # The package's checker, not the example file's, is what the rest of the test run sees.
    assert "afterwards ch02.relu_step is registered by rnncourse.exercises.ch02.check_relu_step" in out, out
