"""Tests of rnncourse.prose: numbers formatted for a chapter's text, and glue."""

import numpy as np
import pytest

from rnncourse.prose import glue, percent, sci


@pytest.mark.parametrize("value, digits, text", [
    (2.6e4, 1, "2.6 × 10⁴"), (4.8e-5, 1, "4.8 × 10⁻⁵"), (1e-21, 0, "10⁻²¹"), (3.2e-6, 0, "3 × 10⁻⁶"),
    (-0.5, 1, "-5.0 × 10⁻¹"), (123.0, 2, "1.23 × 10²"),
])
def test_sci(value, digits, text):
    assert sci(value, digits) == text


def test_an_integer_too_large_for_a_float_is_a_value_error():
    from rnncourse.prose import percent
    for quote, argument in ((sci, "value"), (percent, "fraction")):       # was a bare OverflowError
        with pytest.raises(ValueError, match=f"^{argument} should be a finite number, but is an integer too large"):
            quote(2 ** 1100)


def test_sci_rejects_nan():
    with pytest.raises(ValueError, match="finite"):
        sci(float("nan"))


def test_percent():
    assert percent(0.973) == "97 %"
    assert percent(0.15437, 1) == "15.4 %"


def test_glue_returns_value_and_rejects_numpy_scalars():
    assert glue("x", 1.5) == 1.5
    assert glue("s", "97 %") == "97 %"
    with pytest.raises(TypeError, match="np.float64|float64"):
        glue("y", np.float64(1.0))


@pytest.mark.parametrize("value", [1, 1e5, 1e-21, 0.96, 2.6e4, 4.8e-5, 123.0])
@pytest.mark.parametrize("digits", [0, 1, 2])
def test_sci_of_a_negative_number_is_the_positive_one_with_a_minus(value, digits):
    assert sci(-value, digits) == "-" + sci(value, digits)


def test_sci_leaves_out_a_mantissa_of_minus_one_and_has_no_negative_zero():
    assert sci(-1) == "-10⁰" and sci(-1e5) == "-10⁵"
    assert sci(-0.0) == sci(0.0) == "0.0 × 10⁰"


@pytest.mark.parametrize("f", [sci, percent])
def test_digits_must_be_a_non_negative_integer(f):
    with pytest.raises(ValueError, match=r"digits should be an integer >= 0, but is -1"):
        f(0.5, -1)
    with pytest.raises(TypeError, match=r"digits should be an integer, but is float 1.5"):
        f(0.5, 1.5)


@pytest.mark.parametrize("bad", [float("nan"), float("inf"), -float("inf")])
def test_percent_rejects_non_finite_fractions(bad):
    with pytest.raises(ValueError, match=r"fraction should be a finite number, but is"):
        percent(bad)


def test_percent_of_a_number_as_text_says_to_pass_the_number():
    with pytest.raises(TypeError, match=r"fraction should be a number, but is the string '0.5'"):
        percent("0.5")


@pytest.mark.parametrize("fraction, digits, text", [(-0.004, 0, "0 %"), (-0.0, 0, "0 %"), (-0.00004, 2, "0.00 %"),
                                                    (-0.006, 0, "-1 %"), (-0.5, 1, "-50.0 %")])
def test_percent_has_no_negative_zero(fraction, digits, text):
    assert percent(fraction, digits) == text


def test_glue_rejects_a_name_that_the_text_cannot_refer_to():
    with pytest.raises(TypeError, match=r"name should be a str, but got int 1"):
        glue(1, 1)
    with pytest.raises(ValueError, match=r"name should be a non-empty str, but is ''"):
        glue("", 1)


@pytest.mark.parametrize("bad", [float("nan"), float("inf")])
def test_glue_rejects_non_finite_numbers(bad):
    with pytest.raises(ValueError, match=r"glue\('x', \.\.\.\) should get a finite number, but got"):
        glue("x", bad)


@pytest.mark.parametrize("f, name", [(sci, "value"), (percent, "fraction")])
@pytest.mark.parametrize("flag", [True, False, np.bool_(True)])
def test_a_bool_is_not_a_number(f, name, flag):
    with pytest.raises(TypeError, match=rf"^{name} should be a number, but is bool {flag!r}; "):
        f(flag)


def test_percent_of_a_fraction_whose_percentage_overflows():
    with pytest.raises(ValueError, match=r"^fraction should be a number whose percentage 100 \* fraction is "
                                         r"finite, but 100 \* 1e\+307 overflows to inf"):
        percent(1e307)
    assert percent(1e306) == f"{1e308:.0f} %"                   # still finite: written out in full


def test_percent_refuses_a_fraction_just_past_the_overflow_and_writes_one_just_below():
    with pytest.raises(ValueError, match="overflows to inf"):
        percent(1.8e306)                                        # 100 * 1.8e306 > 1.797e308, the largest float
    text = percent(1.79e306)                                    # 100 * 1.79e306 is still finite
    assert len(text) == len("179") + 306 + len(" %") and text.startswith("1789999")
