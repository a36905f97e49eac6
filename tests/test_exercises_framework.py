"""The exercise framework: registry, check() and the feedback helpers."""

from __future__ import annotations

import numpy as np
import pytest

import rnncourse.numpy
import rnncourse.numpy.elman
from rnncourse.exercises import CheckResult, ExerciseFailure, check, exercise, get_exercise, run_check
from rnncourse.exercises import feedback as fb
from rnncourse.exercises.registry import _REGISTRY, all_exercises, chapter_exercises, load_checkers
from rnncourse.exercises.runner import code_cells, is_check_cell
from rnncourse.numpy import rnn_step_backward, rnn_step_forward


@pytest.fixture
def registry():
    """Register test exercises under the prefix "zz" and remove them afterwards.

    The chapters' own checkers are imported first: a chapter module imported for the first time
    inside the test registers its exercises once, and removing them afterwards would lose them for
    every later test in the same process.
    """
    all_exercises()
    before = set(_REGISTRY)
    yield
    for name in set(_REGISTRY) - before:
        del _REGISTRY[name]


# ----------------------------------------------------------------------------- registry and check()

def test_check_prints_pass_or_the_reason_and_returns_a_truthy_result(registry, capsys):
    @exercise("zz.square", points=2)
    def check_square(fn):
        """Write square(x)."""
        fb.expect_close(fb.call_student(fn, np.array([3.0]), what="square"), [9.0], "square(3)")

    result = check("zz.square", lambda x: x * x)
    assert result and isinstance(result, CheckResult)
    assert capsys.readouterr().out == "PASS zz.square: all checks passed (2 points)\n"
    result = check("zz.square", lambda x: x + x)
    assert not result
    assert "FAIL zz.square: square(3): 1 of 1 entries differ" in capsys.readouterr().out
    assert get_exercise("zz.square").description == "Write square(x)."
    assert get_exercise("zz.square").function_name == "square"


def test_a_checker_that_trips_over_the_answer_is_a_failure_not_a_traceback(registry):
    @exercise("zz.pair")
    def check_pair(fn):
        a, b = fn()                      # the student returns three values

    passed, feedback = run_check("zz.pair", lambda: (1, 2, 3))
    assert not passed and feedback.startswith("checking your answer raised ValueError: too many values")


def test_registry_rejects_bad_names_points_and_a_second_checker_under_a_taken_name(registry):
    with pytest.raises(ValueError, match="looks like 'ch04.rnn_backward'"):
        exercise("no_dot")
    with pytest.raises(TypeError, match="an exercise name should be a str like 'ch04.rnn_backward', but got int"):
        exercise(4)
    with pytest.raises(ValueError, match="points should be a non-negative int, but got -1"):
        exercise("zz.neg", points=-1)
    with pytest.raises(TypeError, match="points should be an int, but got float 1.5"):
        exercise("zz.half", points=1.5)

    @exercise("zz.taken")
    def first(fn):
        pass

    def second(fn):
        pass

    with pytest.raises(ValueError, match="already registered by .*first"):
        exercise("zz.taken")(second)
    with pytest.raises(KeyError, match="chapter zz has: zz.taken"):
        get_exercise("zz.missing")
    assert [e.name for e in chapter_exercises("zz")] == ["zz.taken"]
    assert all_exercises()[-1].name == "zz.taken"          # prefixes that are not book chapters sort last


def test_load_checkers_from_a_file_registers_its_exercises_once(registry, tmp_path):
    path = tmp_path / "my_exercises.py"
    path.write_text("from rnncourse.exercises import exercise\n\n"
                    "@exercise('zz.hello', points=4)\ndef check_hello(fn):\n    assert fn() == 'hello'\n")
    load_checkers(str(path))
    load_checkers(str(path))             # idempotent
    assert get_exercise("zz.hello").points == 4
    with pytest.raises(FileNotFoundError, match="no checker file"):
        load_checkers(str(tmp_path / "nope.py"))


# ----------------------------------------------------------------------------- feedback helpers

def test_call_student_quotes_exceptions_and_spots_not_implemented():
    def stub(x):
        raise NotImplementedError("write your solution here")

    with pytest.raises(ExerciseFailure, match="rnn_step is not implemented yet"):
        fb.call_student(stub, 1, what="rnn_step")
    with pytest.raises(ExerciseFailure, match=r"rnn_step raised ZeroDivisionError: division by zero"):
        fb.call_student(lambda x: 1 / 0, 1, what="rnn_step")
    with pytest.raises(ExerciseFailure, match="raised SystemExit"):
        fb.call_student(lambda: exit(3))


def test_call_unchanged_protects_the_checkers_arrays_and_names_the_one_written_into():
    x, h = np.ones(3), np.zeros(2)

    def clobber(a, b, scale=1.0):
        b[:] = scale
        return a * scale

    with pytest.raises(ExerciseFailure, match=r"^rnn_step changed its argument h_prev in place; compute new arrays"):
        fb.call_unchanged(clobber, (x, h), ("x_t", "h_prev"), "rnn_step", scale=2.0)
    assert x.tolist() == [1.0, 1.0, 1.0] and h.tolist() == [0.0, 0.0]      # the checker's arrays are intact
    out = fb.call_unchanged(lambda a, b: a + b.sum(), (x, h), ("x_t", "h_prev"), "rnn_step")
    assert out.tolist() == [1.0, 1.0, 1.0]
    torch = pytest.importorskip("torch")
    t = torch.ones(2)
    with pytest.raises(ExerciseFailure, match="changed its argument h0 in place"):
        fb.call_unchanged(lambda a: a.mul_(3), (t,), ("h0",), "greedy_decode")
    assert t.tolist() == [1.0, 1.0]


def test_expect_tuple_names_the_items():
    assert fb.expect_tuple((1, 2), ("h_t", "c_t"), "lstm_step") == (1, 2)
    with pytest.raises(ExerciseFailure, match=r"lstm_step should return a tuple \(h_t, c_t\), but returned ndarray"):
        fb.expect_tuple(np.ones(2), ("h_t", "c_t"), "lstm_step")


@pytest.mark.parametrize("value, message", [
    ((np.ones(2), np.ones(2)), r"should be a numpy.ndarray of shape \(2, 3\), but is tuple of length 2"),
    (np.ones((3, 2)), r"should have shape \(2, 3\), but has shape \(3, 2\)"),
    (np.array([[1.0, np.nan, 1.0], [1.0, 1.0, np.inf]]), r"contains NaN or infinity \(2 of 6 entries, the first "
                                                         r"at index \(0, 1\): nan\)"),
    (np.array([["a", "b", "c"]] * 2), "should hold numbers, but has dtype <U1"),
])
def test_expect_array_names_the_problem(value, message):
    with pytest.raises(ExerciseFailure, match=message):
        fb.expect_array(value, (2, 3), "h_t")


def test_expect_close_reports_how_many_entries_differ_and_the_worst_one():
    expected = np.arange(6.0).reshape(2, 3)
    actual = expected.copy()
    actual[1, 2] += 0.5
    actual[0, 0] += 0.1
    with pytest.raises(ExerciseFailure, match=r"H: 2 of 6 entries differ .* largest difference is 0.5 at index "
                                              r"\(1, 2\) \(yours 5.5, expected 5\)"):
        fb.expect_close(actual, expected, "H")
    fb.expect_close(expected + 1e-12, expected, "H")


def test_expect_scalar_accepts_numbers_and_rejects_arrays_nan_and_wrong_values():
    assert fb.expect_scalar(np.float32(2.0), 2.0, "loss") == 2.0
    assert fb.expect_scalar(np.array(2.0), 2.0, "loss") == 2.0
    with pytest.raises(ExerciseFailure, match=r"loss should be a single number, but is ndarray of shape \(2,\)"):
        fb.expect_scalar(np.ones(2), 2.0, "loss")
    with pytest.raises(ExerciseFailure, match="loss is nan, but should be a finite number"):
        fb.expect_scalar(float("nan"), 2.0, "loss")
    with pytest.raises(ExerciseFailure, match=r"loss is 2.5, but should be 2 \(difference 0.5\)"):
        fb.expect_scalar(2.5, 2.0, "loss")


def _step(seed=0, B=3, D=2, H=4):
    rng = np.random.default_rng(seed)
    x_t, h_prev = fb.random_array(rng, (B, D)), np.tanh(fb.random_array(rng, (B, H)))
    W_xh, W_hh, b_h = fb.random_array(rng, (H, D), 0.5), fb.random_array(rng, (H, H), 0.5), fb.random_array(rng, H)
    h_t, cache = rnn_step_forward(x_t, h_prev, W_xh, W_hh, b_h)
    dh_t = fb.random_array(rng, h_t.shape)
    return (x_t, h_prev, W_xh, W_hh, b_h, h_t, dh_t), rnn_step_backward(dh_t, cache)


def test_expect_grads_close_names_every_wrong_parameter():
    _, grads = _step()
    wrong = dict(grads, W_hh=grads["W_hh"] * 1.5, b_h=grads["b_h"] + 1)
    with pytest.raises(ExerciseFailure, match=r"your gradients are wrong for W_hh, b_h: your gradients\['W_hh'\]: "
                                              r"\d+ of 16 entries differ"):
        fb.expect_grads_close(wrong, grads)
    fb.expect_grads_close(tuple(grads.values()), grads)            # a tuple in the same order is fine
    with pytest.raises(ExerciseFailure, match=r"should be 5 arrays \(x_t, h_prev, W_xh, W_hh, b_h\), but 2 came"):
        fb.expect_grads_close((1, 2), grads)
    with pytest.raises(ExerciseFailure, match=r"missing \['b_h'\]"):
        fb.expect_grads_close({k: v for k, v in grads.items() if k != "b_h"}, grads)


def test_expect_grad_check_passes_true_gradients_and_names_the_failing_parameter():
    (x_t, h_prev, W_xh, W_hh, b_h, h_t, dh_t), grads = _step()
    params = {"W_xh": W_xh, "W_hh": W_hh, "b_h": b_h}

    def loss():
        return float((rnn_step_forward(x_t, h_prev, W_xh, W_hh, b_h)[0] * dh_t).sum())

    fb.expect_grad_check(loss, params, {f"d{k}": grads[k] for k in params})      # dW_hh keys work too
    bad = dict(grads, W_hh=grads["W_hh"].T)
    with pytest.raises(ExerciseFailure, match=r"gradient check fails on W_hh \(relative error 0.\d+\)"):
        fb.expect_grad_check(loss, params, bad)


def test_case_sizes_start_with_the_edge_cases_and_are_reproducible():
    cases = fb.case_sizes(seed=5, letters="TBDH", n_random=3)
    assert cases[0]["T"] == 1 and cases[1]["B"] == 1 and len(cases) == 5
    assert all(set(c) == set("TBDH") and all(1 <= v <= 6 for v in c.values()) for c in cases)
    assert cases == fb.case_sizes(seed=5, letters="TBDH", n_random=3)
    assert [set(c) for c in fb.case_sizes(letters="DH")] == [set("DH")] * 3       # no T or B: no edge case


def test_in_case_prefixes_the_failure_with_the_case():
    with pytest.raises(ExerciseFailure, match=r"^in the case T=1, B=3: H is wrong$"):
        with fb.in_case({"T": 1, "B": 3}):
            raise ExerciseFailure("H is wrong")


# ----------------------------------------------------------------------------- runner pieces

def test_check_cells_are_recognised():
    assert is_check_cell('check("ch04.rnn_backward", rnn_backward)')
    assert is_check_cell('# feedback\nassert check("ch04.x", f);')
    assert not is_check_cell('check("ch04.x", f)\nprint("more")')
    cells = [{"cell_type": "code", "source": "import numpy"}, {"cell_type": "code", "source": "train()"},
             {"cell_type": "markdown", "source": "## Exercises\n\nWrite f."},
             {"cell_type": "code", "source": "def f(): pass"}, {"cell_type": "code", "source": "check('ch1.f', f)"}]
    assert code_cells(cells) == [(1, "import numpy"), (2, "train()"), (4, "def f(): pass")]
    assert code_cells(cells, only_exercises=True) == [(1, "import numpy"), (4, "def f(): pass")]
    # a chapter opens with its set-up cell, then its imports: both run before the exercises
    setup = {"cell_type": "code", "source": 'if find_spec("rnncourse") is None:\n    install()'}
    imports = {"cell_type": "code", "source": "import numpy as np\nfrom rnncourse.exercises import check"}
    cells = [setup, imports, *cells[1:]]
    assert code_cells(cells, only_exercises=True) == [(1, setup["source"]), (2, imports["source"]),
                                                      (5, "def f(): pass")]
