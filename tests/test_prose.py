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
