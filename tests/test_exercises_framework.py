"""The exercise framework: registry, check() and the feedback helpers."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from exercise_fixtures import AlwaysClose, SaysEqual
import rnncourse.numpy
import rnncourse.numpy.elman
from rnncourse.exercises import CheckResult, ExerciseFailure, check, exercise, get_exercise, run_check
from rnncourse.exercises import feedback as fb
from rnncourse.exercises.registry import CHAPTER_MODULES, _REGISTRY, all_exercises, chapter_exercises, load_checkers
from rnncourse.exercises.runner import code_cells, is_check_cell
from rnncourse.numpy import rnn_step_backward, rnn_step_forward
from rnncourse.numpy.gradcheck import rel_error


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


@pytest.mark.parametrize("answer, came", [
    (np.zeros((2, 3)), "numpy.ndarray of shape (2, 3)"),
    (None, "None"),
    (3.5, "float 3.5"),
    ("square", "str 'square'"),
])
def test_an_answer_that_is_not_a_function_fails_at_once_and_runs_no_case(registry, capsys, answer, came):
    cases = []

    @exercise("zz.square")
    def check_square(fn):
        cases.append(1)
        fb.call_student(fn, np.array([3.0]), what="square")

    hint, wrong = (("its name without quotes", '"your_function"') if isinstance(answer, str)
                   else ("its name without calling it", "your_function(...)"))
    expected = (f"check expects the function you wrote itself, but got {came}; pass {hint}: "
                f"check(\"zz.square\", your_function), not check(\"zz.square\", {wrong})")
    assert run_check("zz.square", answer) == (False, expected)
    result = check("zz.square", answer)
    assert not result and result.feedback == expected
    assert capsys.readouterr().out == f"FAIL zz.square: {expected}\n"
    assert cases == []                                   # the checker never ran
    assert run_check("zz.square", lambda x: x * x) == (True, "all checks passed (1 point)") and cases == [1]


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
    with pytest.raises(ValueError, match="no exercise called 'zz.missing'; chapter zz has: zz.taken"):
        get_exercise("zz.missing")
    assert [e.name for e in chapter_exercises("zz")] == ["zz.taken"]
    assert all_exercises()[-1].name == "zz.taken"          # prefixes that are not book chapters sort last


def test_a_mistyped_exercise_name_is_a_value_error_with_the_closest_name_and_the_chapters_list(capsys):
    # The chapter's list is every exercise registered for it, sorted (an instructor's own ch02 exercise included).
    listed = ", ".join(sorted(e.name for e in chapter_exercises("ch02")))
    assert {"ch02.rnn_param_count", "ch02.rnn_step"} <= set(listed.split(", "))
    with pytest.raises(ValueError, match=r"no exercise called 'ch02.rnn_stepp'; did you mean 'ch02.rnn_step'\? "
                                         rf"chapter ch02 has: {re.escape(listed)}$"):
        check("ch02.rnn_stepp", rnn_step_forward)
    with pytest.raises(ValueError, match=rf"no exercise called 'ch02.zzz'; chapter ch02 has: {re.escape(listed)}$"):
        get_exercise("ch02.zzz")                        # nothing close: the chapter's list only
    assert capsys.readouterr().out == ""


def test_load_checkers_from_a_file_registers_its_exercises_once(registry, tmp_path):
    path = tmp_path / "my_exercises.py"
    path.write_text("from rnncourse.exercises import exercise\n\n"
                    "@exercise('zz.hello', points=4)\ndef check_hello(fn):\n    assert fn() == 'hello'\n")
    load_checkers(str(path))
    load_checkers(str(path))             # idempotent
    assert get_exercise("zz.hello").points == 4
    with pytest.raises(FileNotFoundError, match="no checker file"):
        load_checkers(str(tmp_path / "nope.py"))


def test_two_checker_files_of_the_same_name_in_different_folders_are_both_loaded(registry, tmp_path):
    for folder in ("a", "b"):
        (tmp_path / folder).mkdir()
        (tmp_path / folder / "extra.py").write_text(
            f"from rnncourse.exercises import exercise\n\n@exercise('zz.from_{folder}')\ndef check(fn):\n    pass\n")
        load_checkers(str(tmp_path / folder / "extra.py"))
    assert {"zz.from_a", "zz.from_b"} <= {e.name for e in chapter_exercises("zz")}


def test_get_exercise_needs_a_str_of_the_form_chapter_dot_function():
    with pytest.raises(TypeError, match=r"an exercise name should be a str like 'ch04.rnn_backward', but got int"):
        get_exercise(5)
    with pytest.raises(ValueError, match=r"an exercise name looks like 'ch04.rnn_backward' \(chapter.function\), "
                                         r"but got 'ch04'"):
        get_exercise("ch04")


# In a fresh interpreter no chapter module is imported yet: the registry must import them itself.
_FRESH = """
import importlib, sys
from rnncourse.exercises.registry import CHAPTER_MODULES, {call}
assert not any(m.startswith("rnncourse.exercises.ch") for m in sys.modules), "a chapter is imported already"
names = [e.name for e in {call}({arg})]
for chapter in CHAPTER_MODULES:
    importlib.import_module("rnncourse.exercises." + chapter)
print(names == [e.name for e in {call}({arg})], len(names))
"""


@pytest.mark.parametrize("call, arg", [("all_exercises", ""), ("chapter_exercises", "'ch05'")])
def test_all_exercises_and_chapter_exercises_import_the_chapters_themselves(call, arg):
    root = Path(__file__).resolve().parents[1]
    proc = subprocess.run([sys.executable, "-c", _FRESH.format(call=call, arg=arg)], cwd=root,
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    same, count = proc.stdout.split()
    assert same == "True" and int(count) > 0, proc.stdout
    if call == "chapter_exercises":
        assert int(count) == len(chapter_exercises("ch05"))
    else:
        assert int(count) == len([e for e in all_exercises() if e.chapter in CHAPTER_MODULES])


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


def test_call_unchanged_names_an_array_written_into_inside_a_tuple_a_named_tuple_or_a_dict():
    from rnncourse.numpy.many_to_one import ManyToOneCache

    dstate = (np.ones(2), np.zeros(2))
    cache = ManyToOneCache(rnn=rnncourse.numpy.elman.RNNCache(*[np.ones(1) for _ in range(5)], "tanh"),
                           affine=(np.ones(1), np.ones(2)), lengths=np.ones(1, dtype=int))

    def writes(path):
        def fn(dstate, cache, grads):
            eval(path)[...] = 7.0
            return 0.0
        return fn

    args, names = (dstate, cache, {"W_hh": np.ones(3)}), ("dstate", "cache", "grads")
    for path in ("dstate[1]", "cache.rnn.hs", "cache.affine[1]", "grads['W_hh']"):
        with pytest.raises(ExerciseFailure, match=rf"^backward changed its argument {re.escape(path)} in place"):
            fb.call_unchanged(writes(path), args, names, "backward")
    assert dstate[1].tolist() == [0.0, 0.0] and cache.rnn.hs.tolist() == [1.0]     # the checker's own are intact

    def drops_a_key(dstate, cache, grads):
        grads.pop("W_hh")
    with pytest.raises(ExerciseFailure, match=r"changed its argument grads in place"):
        fb.call_unchanged(drops_a_key, args, names, "backward")
    assert fb.call_unchanged(lambda *a: 1.0, args, names, "backward") == 1.0


def test_call_unchanged_needs_one_name_per_argument():
    with pytest.raises(ValueError, match=r"one name per argument: 2 arguments, but names has 1 \(x_t\)"):
        fb.call_unchanged(lambda a, b: a, (np.ones(1), np.ones(1)), ("x_t",))


def test_the_checker_sees_plain_values_so_an_answer_cannot_override_the_comparison():
    liar = np.zeros(3).view(AlwaysClose)
    assert np.allclose(liar, [1.0, 2.0, 3.0])                 # the trick works on the student's object itself
    with pytest.raises(ExerciseFailure, match="h_t: 3 of 3 entries differ"):
        fb.expect_close(liar, [1.0, 2.0, 3.0], "h_t")
    out = fb.call_student(lambda: {"h": liar, "n": SaysEqual(0), "pair": (liar, [SaysEqual(1)])})
    assert type(out["h"]) is np.ndarray and type(out["n"]) is int and out["n"] != 5
    assert type(out["pair"][0]) is np.ndarray and type(out["pair"][1][0]) is int
    with pytest.raises(ExerciseFailure, match=r"count is 0, but should be 5"):
        fb.expect_scalar(SaysEqual(0), 5.0, "count")
    looped = []
    looped.append(looped)
    assert fb.call_student(lambda: looped)                     # a list that holds itself does not recurse forever


def test_tensors_are_handed_over_as_numpy_arrays_even_when_they_require_grad():
    torch = pytest.importorskip("torch")
    h = torch.ones(2, 3, dtype=torch.float64, requires_grad=True) * 2
    out = fb.call_student(lambda: (h, torch.tensor(1.5, requires_grad=True)))
    assert type(out[0]) is np.ndarray and out[0].dtype == np.float64 and out[0].tolist() == [[2.0] * 3] * 2
    fb.expect_close(h, np.full((2, 3), 2.0), "h_t", dtype=np.float64)
    assert fb.expect_scalar(out[1], 1.5, "loss") == 1.5
    with pytest.raises(ExerciseFailure, match=r"^h_t returned a Tensor of dtype torch.bfloat16, which NumPy "
                                              r"cannot hold; return float32 or float64$"):
        fb.call_student(lambda: torch.ones(2, dtype=torch.bfloat16), what="h_t")


@pytest.mark.parametrize("value, message", [
    (np.ones((2, 3)) > 0, r"^h_t should hold real numbers \(integers or floats\), but has dtype bool \(true/false "
                          r"values, as a comparison gives\)$"),
    (np.ones((2, 3)) + 0j, r"^h_t should hold real numbers \(integers or floats\), but has dtype complex128$"),
    (np.ones((2, 3)), r"^h_t should have dtype float32, the dtype of the inputs, but has dtype float64; compute in "
                      r"the inputs' dtype$"),
])
def test_expect_array_rejects_booleans_complex_numbers_and_a_dtype_other_than_the_one_asked_for(value, message):
    with pytest.raises(ExerciseFailure, match=message):
        fb.expect_array(value, (2, 3), "h_t", dtype=np.float32)
    assert fb.expect_array(np.ones((2, 3), np.float32), (2, 3), "h_t", dtype=np.float32).dtype == np.float32
    assert fb.expect_array(np.ones((2, 3), int), (2, 3), "h_t").dtype.kind == "i"          # integers are numbers


@pytest.mark.parametrize("value, shown", [
    ("5.0", "str '5.0'"), (True, "bool True"), (1 + 0j, r"complex \(1\+0j\)"), (np.ones(2), r"ndarray of shape \(2,\)"),
])
def test_expect_number_takes_one_real_number_only(value, shown):
    with pytest.raises(ExerciseFailure, match=rf"^the norm should be a single number, but is {shown}$"):
        fb.expect_number(value, "the norm")
    assert fb.expect_number(np.float32(2.5), "the norm") == 2.5 and fb.expect_number(np.array(3), "n") == 3.0


def test_expect_tuple_names_the_items():
    assert fb.expect_tuple((1, 2), ("h_t", "c_t"), "lstm_step") == (1, 2)
    with pytest.raises(ExerciseFailure, match=r"lstm_step should return a tuple \(h_t, c_t\), but returned ndarray"):
        fb.expect_tuple(np.ones(2), ("h_t", "c_t"), "lstm_step")


@pytest.mark.parametrize("value, message", [
    ((np.ones(2), np.ones(2)), r"should be a numpy.ndarray of shape \(2, 3\), but is tuple of length 2"),
    (np.ones((3, 2)), r"should have shape \(2, 3\), but has shape \(3, 2\)"),
    (np.array([[1.0, np.nan, 1.0], [1.0, 1.0, np.inf]]), r"contains NaN or infinity \(2 of 6 entries, the first "
                                                         r"at index \(0, 1\): nan\)"),
    (np.array([["a", "b", "c"]] * 2), r"should hold real numbers \(integers or floats\), but has dtype <U1"),
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


def test_expect_close_names_the_worst_of_the_entries_that_fail_not_one_within_tolerance():
    # (0,) is 5e-7 off but within rtol * 3; only (1,) fails, and the message must point at it.
    with pytest.raises(ExerciseFailure, match=r"^x: 1 of 2 entries differ from the reference; the largest "
                                              r"difference is 5e-07 at index \(1,\) \(yours 5e-07, expected 0\)$"):
        fb.expect_close(np.array([3.0000005, 5e-7]), np.array([3.0, 0.0]), "x")


def test_the_default_tolerances_fail_an_entry_5e_7_away_from_0():
    with pytest.raises(ExerciseFailure, match=r"^x: 1 of 1 entries differ"):
        fb.expect_close(np.array([5e-7]), np.array([0.0]), "x")
    with pytest.raises(ExerciseFailure, match=r"^your gradients are wrong for W"):
        fb.expect_grads_close({"W": np.array([5e-7])}, {"W": np.array([0.0])})


def _gru_step(x_t, h_prev, W_xh, W_hh, b_xh, b_hh):
    from rnncourse.numpy.gated import gru_step_forward
    return gru_step_forward(x_t, h_prev, W_xh, W_hh, b_xh, b_hh)[0]


def _masked_ce(logits, targets, mask):
    from rnncourse.numpy.losses import softmax_cross_entropy
    return softmax_cross_entropy(logits, targets, mask=mask)


@pytest.mark.parametrize("name, fn, expected", [
    # torch's default float32: named by its dtype, for arrays and for a loss
    ("ch08.gru_step", lambda *args: _gru_step(*args).astype(np.float32),
     r"in the case B=1, D=4, H=2: h_t from gru_step should have dtype float64, the dtype of the inputs, but has dtype "
     r"float32; compute in the inputs' dtype \(in float32, 2 of 2 entries differ from the reference; the largest "
     r"difference is \S+ at index \(\d, \d\) \(yours (\S+), expected (\S+)\)\)"),
    ("ch09.masked_cross_entropy", lambda *args: (np.float32(_masked_ce(*args)[0]), _masked_ce(*args)[1]),
     r"the loss \(masked_cross_entropy .*\) should have dtype float64, the dtype of the inputs, but has dtype float32; "
     r"compute in the inputs' dtype \(in float32, yours is (\S+), expected (\S+)\)"),
    # a float64 near miss: as many digits as it takes to show the difference
    ("ch08.gru_step", lambda *args: _gru_step(*args) * (1 + 1e-9),
     r"in the case B=1, D=4, H=2: h_t from gru_step: \d of 2 entries differ from the reference; the largest "
     r"difference is \S+ at index \(\d, \d\) \(yours (\S+), expected (\S+)\)"),
])
def test_a_near_miss_names_float32_and_shows_numbers_that_differ(name, fn, expected):
    passed, feedback = run_check(name, fn)
    match = re.fullmatch(expected, feedback)
    assert not passed and match, feedback
    assert match[1] != match[2]


# A mean of x = [1, 2, 6] (3) and two usual mistakes: the sum (9), and the mean of all but the last entry (1.5).
_X = np.array([1.0, 2.0, 6.0])
_MEAN_MISTAKES = [(_X.sum(), "you summed x; divide by its length"),
                  (_X[:-1].mean(), "the last entry is left out")]


def test_name_mistake_names_the_first_mistake_the_answer_reproduces():
    with pytest.raises(ExerciseFailure, match=r"^the mean: you summed x; divide by its length$"):
        fb.name_mistake(9.0, 3.0, _MEAN_MISTAKES, "the mean", rtol=1e-9, atol=1e-12)
    with pytest.raises(ExerciseFailure, match=r"^the mean: the last entry is left out$"):
        fb.name_mistake(np.float32(1.5), 3.0, _MEAN_MISTAKES, "the mean", rtol=1e-6, atol=1e-8)
    # Tried in order: two mistakes that give the same numbers name the first.
    twice = [(np.ones((2, 2)), "first"), (np.ones((2, 2)), "second")]
    with pytest.raises(ExerciseFailure, match=r"^h_t: first$"):
        fb.name_mistake(np.ones((2, 2)), np.zeros((2, 2)), twice, "h_t", rtol=1e-9, atol=1e-12)
    # An empty what gives the message alone, for a checker inside in_case (which names the case).
    with pytest.raises(ExerciseFailure, match=r"^you summed x; divide by its length$"):
        fb.name_mistake(9.0, 3.0, _MEAN_MISTAKES, "", rtol=1e-9, atol=1e-12)


def test_name_mistake_stays_quiet_for_a_right_answer_even_where_a_mistake_gives_the_right_numbers():
    coincide = [(3.0, "a mistake that happens to give the right mean on this case")]
    assert fb.name_mistake(3.0, 3.0, coincide, "the mean", rtol=1e-9, atol=1e-12) is None
    assert fb.name_mistake(3.0 + 1e-12, 3.0, _MEAN_MISTAKES + coincide, "the mean", rtol=1e-9, atol=1e-12) is None
    # A mistake as good as right at the tolerance explains nothing, even for an answer that is near it but not right.
    assert fb.name_mistake(1.8, 0.0, [(0.9, "as good as right")], "x", rtol=0, atol=1) is None
    with pytest.raises(ExerciseFailure, match=r"^x: off$"):                    # the same answer, a mistake that is not
        fb.name_mistake(1.8, 0.0, [(1.5, "off")], "x", rtol=0, atol=1)


def test_name_mistake_stays_quiet_for_a_wrong_answer_that_is_no_listed_mistake():
    for answer in (4.0, 9.0 * (1 + 1e-6), np.array(1.5 + 1e-3)):
        assert fb.name_mistake(answer, 3.0, _MEAN_MISTAKES, "the mean", rtol=1e-9, atol=1e-12) is None
    assert fb.name_mistake(3.0, 3.0, [], "the mean", rtol=1e-9, atol=1e-12) is None


@pytest.mark.parametrize("answer", [np.full(2, 9.0), [9.0], (9.0,), "9", None, True, np.array(True), 9 + 0j,
                                    {"mean": 9.0}, np.array(["9"]), np.array([9.0], dtype=object)],
                         ids=["shape (2,)", "list", "tuple", "str", "None", "bool", "bool array", "complex", "dict",
                              "str array", "object array"])
def test_name_mistake_leaves_an_answer_of_another_kind_or_shape_to_the_expect_checks(answer):
    assert fb.name_mistake(answer, 3.0, _MEAN_MISTAKES, "the mean", rtol=1e-9, atol=1e-12) is None
    assert fb.name_mistake(answer, np.zeros(1), [(np.full(1, 9.0), "x")], "the mean", rtol=1e-9, atol=1e-12) is None


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
    with pytest.raises(ExerciseFailure, match=r"gradient check fails on W_hh \(relative error 0.\d+\).*1e-06\); in "
                                              r"W_hh, the largest difference is .* \(yours \S+, finite differences "
                                              r"\S+\)$"):
        fb.expect_grad_check(loss, params, bad)

    def explain(name, grad):                          # the hook that names the usual mistake
        return "you transposed it" if np.allclose(grad, grads[name].T) else None
    with pytest.raises(ExerciseFailure, match=r"gradient check fails on W_hh .*; you transposed it$"):
        fb.expect_grad_check(loss, params, bad, explain=explain)
    with pytest.raises(ExerciseFailure, match=r"finite differences \(a correct gradient .*\)$"):
        fb.expect_grad_check(loss, params, dict(grads, W_hh=grads["W_hh"] * 2), explain=explain)



@pytest.mark.parametrize("tol", [1e-6, 1e-7])          # the default, and the tolerance of ch09.embedding_backward
def test_expect_grad_check_fails_a_gradient_off_by_a_hundred_times_its_tolerance(tol):
    (x_t, h_prev, W_xh, W_hh, b_h, h_t, dh_t), grads = _step()
    params = {"W_xh": W_xh, "W_hh": W_hh, "b_h": b_h}

    def loss():
        return float((rnn_step_forward(x_t, h_prev, W_xh, W_hh, b_h)[0] * dh_t).sum())

    fb.expect_grad_check(loss, params, grads, tol=tol)        # the true gradients pass at this tolerance
    # rel_error divides by |a| + |b|, so scaling by 1 + 2 * 100 * tol gives a relative error of 100 * tol
    near = dict(grads, W_hh=grads["W_hh"] * (1 + 200 * tol))
    assert rel_error(near["W_hh"], grads["W_hh"]) == pytest.approx(100 * tol, rel=1e-3)
    with pytest.raises(ExerciseFailure, match=rf"^gradient check fails on W_hh \(relative error {100 * tol:.2g}\): "
                                              rf".*a relative error below {tol:g}\)"):
        fb.expect_grad_check(loss, params, near, tol=tol)


def test_expect_grad_check_never_passes_a_gradient_below_the_finite_difference_resolution():
    """30 steps of an Elman RNN with a small W_hh: dL/dh0 is about 1e-29 and its finite difference exactly 0."""
    rng = np.random.default_rng(0)
    x, W_xh, b_h = rng.normal(size=(30, 2, 3)), rng.normal(size=(4, 3)), rng.normal(size=4)
    W_hh, r, params = 0.1 * rng.normal(size=(4, 4)), rng.normal(size=(2, 4)), {"h0": rng.normal(size=(2, 4))}
    hs, cache = rnncourse.numpy.rnn_forward(x, params["h0"], W_xh, W_hh, b_h)
    dhs = np.zeros_like(hs)
    dhs[-1] = r
    dh0 = rnncourse.numpy.rnn_backward(dhs, cache)["h0"]

    def loss():
        return float((rnncourse.numpy.rnn_forward(x, params["h0"], W_xh, W_hh, b_h)[0][-1] * r).sum())

    with pytest.raises(ExerciseFailure, match=r"^gradient check could not verify h0: the gradients of rnn_backward "
                                              r"and the finite differences are both too small there for finite "
                                              r"differences to resolve"):
        fb.expect_grad_check(loss, params, {"h0": dh0}, "the gradients of rnn_backward")   # right, but not a pass
    with pytest.raises(ExerciseFailure, match=r"^gradient check fails on h0 \(relative error 1\):"):
        fb.expect_grad_check(loss, params, {"h0": np.ones_like(dh0)}, "the gradients of rnn_backward")


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


def test_every_chapter_names_its_exercise_functions_by_the_registry_convention():
    # registry.Exercise.function_name: the student writes the function named after the dot, with the suffix
    # _ex exactly when the chapter also imports the package's function of that name.
    from pathlib import Path
    found = 0
    for path in sorted((Path(__file__).resolve().parents[1] / "book").glob("[0-9][0-9]_*.md")):
        text = path.read_text(encoding="utf-8")
        imported = {name for names in re.findall(r"^from rnncourse\S* import (\([^)]*\)|.*)$", text, re.M)
                    for name in re.findall(r"\w+", names)}
        for chapter, name, fn in re.findall(r'check\("(ch\d\d)\.(\w+)", (\w+)\)', text):
            found += 1
            expected = name + "_ex" if name in imported else name
            assert fn == expected, f"{path.name}: check('{chapter}.{name}', {fn}) should pass {expected}"
            assert re.search(rf"Write\s+`{fn}\(", text), f"{path.name}: the exercise should ask for {fn}, which it checks"
    assert found >= 15


# ----------------------------------------------------------------------------- a shape error in a matmul

_TRANSPOSE_RULE = ("with the examples as rows, a weight W of shape (out, in) multiplies x of shape (B, in) as "
                   "x @ W.T, of shape (B, out), and a gradient d of shape (B, out) goes back as d @ W")


def test_a_matmul_shape_error_lists_the_shapes_passed_and_says_how_a_weight_multiplies():
    def step(x_t, W_xh):
        return x_t @ W_xh                                   # the transpose left out
    with pytest.raises(ExerciseFailure) as failure:
        fb.call_unchanged(step, (np.ones((2, 3)), np.ones((4, 3))), ("x_t", "W_xh"), "rnn_step")
    message = str(failure.value)
    assert message.startswith("rnn_step raised ValueError: matmul: "), message
    assert message.endswith(f"; the arrays passed have shapes x_t (2, 3), W_xh (4, 3); {_TRANSPOSE_RULE}"), message


def test_a_matmul_shape_error_names_the_arrays_inside_a_cache_and_those_of_a_bare_call():
    from rnncourse.numpy.many_to_one import ManyToOneCache

    cache = ManyToOneCache(rnn=(np.ones((3, 2)),), affine=(np.ones((5, 2)), np.ones(5)), lengths=np.array([3, 1]))

    def backward(dlogits, cache):
        return dlogits @ cache.affine[0].T                  # (2, 5) @ (2, 5): one transpose too many
    with pytest.raises(ExerciseFailure) as failure:
        fb.call_unchanged(backward, (np.ones((2, 5)), cache), ("dlogits", "cache"), "backward")
    assert str(failure.value).endswith(
        "; the arrays passed have shapes dlogits (2, 5), cache.rnn[0] (3, 2), cache.affine[0] (5, 2), "
        f"cache.affine[1] (5,), cache.lengths (2,); {_TRANSPOSE_RULE}"), failure.value
    # call_student has no names of the checker's: the arrays are named by the function's own parameters
    with pytest.raises(ExerciseFailure) as failure:
        fb.call_student(lambda hs, W_hy, n: hs.mean(0) @ W_hy, np.ones((4, 2, 3)), np.ones((5, 3)), 1, what="probs")
    assert str(failure.value).endswith(f"; the arrays passed have shapes hs (4, 2, 3), W_hy (5, 3); "
                                       f"{_TRANSPOSE_RULE}"), failure.value


def test_other_errors_are_quoted_as_they_are():
    def wrong(x):
        raise ValueError("operands could not be broadcast together")
    with pytest.raises(ExerciseFailure, match=r"^f raised ValueError: operands could not be broadcast together$"):
        fb.call_unchanged(wrong, (np.ones(2),), ("x",), "f")
    with pytest.raises(ExerciseFailure, match=r"^f raised IndexError: index 3 is out of bounds for axis 0 with "
                                              r"size 3$"):
        fb.call_unchanged(lambda x: x[3], (np.ones(3),), ("x",), "f")


def test_call_padded_adds_the_reason_to_an_index_one_step_late_and_quotes_other_errors_as_they_are():
    hs, lengths = np.zeros((3, 2)), np.array([3, 1])
    with pytest.raises(ExerciseFailure, match=r"^f raised IndexError: index 3 is out of bounds for axis 0 with "
                                              r"size 3; a sequence of length L ends at hs\[L - 1\]; hs\[L\] is one "
                                              r"step too late$"):
        fb.call_padded(lambda hs, lengths: hs[lengths, [0, 1]], (hs, lengths), ("hs", "lengths"), "f", T=3)
    with pytest.raises(ExerciseFailure, match=r"^f raised IndexError: index 5 is out of bounds for axis 0 with "
                                              r"size 3$"):
        fb.call_padded(lambda hs, lengths: hs[5], (hs, lengths), ("hs", "lengths"), "f", T=3)
    assert fb.call_padded(lambda hs, lengths: hs[lengths - 1, [0, 1]], (hs, lengths), ("hs", "lengths"), "f",
                          T=3).shape == (2,)


# ----------------------------------------------------------------------------- a less precise dtype

def test_expect_close_names_a_less_precise_dtype_even_when_the_values_are_within_tolerance():
    # float64 in: an answer computed in float64 and cast to float32 at the end passed wherever the tolerance
    # was above float32's rounding, and failed elsewhere. One rule: a less precise dtype fails by its name.
    expected = np.linspace(0.0, 1.0, 6).reshape(2, 3)
    with pytest.raises(ExerciseFailure, match=r"^H should have dtype float64, the dtype of the inputs, but has dtype "
                                              r"float32; compute in the inputs' dtype$"):
        fb.expect_close(expected.astype(np.float32), expected, "H", rtol=1e-3)
    with pytest.raises(ExerciseFailure, match=r"^grads are wrong for W: grads\['W'\] should have dtype float64"):
        fb.expect_grads_close({"W": expected.astype(np.float32)}, {"W": expected}, "grads", rtol=1e-3)
    fb.expect_close(expected.astype(np.float32), expected.astype(np.float32), "H")     # float32 in, float32 out
    fb.expect_close(expected.astype(np.float32), expected, "H", rtol=1e-3, dtype=np.float32)   # asked for
    fb.expect_close(expected, expected.astype(np.float32), "H", rtol=1e-3)             # more digits: fine
    fb.expect_close(np.arange(6).reshape(2, 3), np.arange(6.0).reshape(2, 3), "H")    # integers: exact
