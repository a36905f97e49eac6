"""The strict build flags are defined once in Python; the Makefile's copy must say the same."""

import re
from pathlib import Path

from rnncourse.exercises.student_book import STRICT

ROOT = Path(__file__).resolve().parents[1]


def test_makefile_builds_the_book_with_the_same_strict_flags():
    flags = re.search(r"^JB_FLAGS\s*:=\s*(.+)$", (ROOT / "Makefile").read_text(), re.M)
    assert flags, "the Makefile should define JB_FLAGS"
    assert flags.group(1).split() == STRICT
