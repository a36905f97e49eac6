"""How `make test` runs: the strict build flags are defined once in Python (the Makefile's copy must say
the same), and each group of tests marked `xdist_group` stays in one pytest-xdist process."""

import re
from pathlib import Path

from rnncourse.exercises.student_book import STRICT

ROOT = Path(__file__).resolve().parents[1]


def test_makefile_builds_the_book_with_the_same_strict_flags():
    flags = re.search(r"^JB_FLAGS\s*:=\s*(.+)$", (ROOT / "Makefile").read_text(), re.M)
    assert flags, "the Makefile should define JB_FLAGS"
    assert flags.group(1).split() == STRICT



class _Item:
    """A collected test as group_lost sees it: a node id and, maybe, an xdist_group mark."""

    def __init__(self, nodeid, group=None):
        self.nodeid, self.group = nodeid, group

    def get_closest_marker(self, name):
        return self.group if name == "xdist_group" else None


def test_a_grouped_test_whose_node_id_lost_its_group_is_found():
    from conftest import group_lost

    assert not group_lost(_Item("tests/test_lab.py::test_a@test_lab", "test_lab"))  # as pytest-xdist writes it
    assert group_lost(_Item("tests/test_lab.py::test_b", "test_lab"))                # the suffix is missing
    assert not group_lost(_Item("tests/test_prose.py::test_c"))                      # not grouped
