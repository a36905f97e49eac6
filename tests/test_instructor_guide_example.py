"""The instructor guide's "Add a new exercise" example is real: its checker runs, and its tests are these.

The guide shows ``book/examples/relu_step_checker.py`` and the tests between the markers below.
"""

import sys
from pathlib import Path

import numpy as np
import pytest

from rnncourse.exercises import run_check
from rnncourse.exercises.registry import _REGISTRY, load_checkers

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(autouse=True, scope="module")
def guide_checker():
    """Register the guide's exercise for these tests, then forget it (chapter 2 does not use it)."""
    load_checkers(str(ROOT / "book" / "examples" / "relu_step_checker.py"))
    yield
    _REGISTRY.pop("ch02.relu_step", None)
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
