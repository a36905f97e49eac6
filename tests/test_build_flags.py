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


def test_a_failed_make_book_shows_only_the_reports_of_this_build(tmp_path):
    # A chapter fixed since an earlier failure leaves its .err.log in the site: the failing build must not
    # print that old traceback as if it were the cause.
    import os
    import subprocess

    venv, build = tmp_path / "venv", tmp_path / "_build"
    reports = build / "html" / "reports" / "book"
    reports.mkdir(parents=True)
    old = reports / "02_structure.err.log"
    old.write_text("RuntimeError: fixed since\n")
    os.utime(old, (1, 1))
    (venv / "bin").mkdir(parents=True)
    fake = venv / "bin" / "jupyter-book"          # stands for a build that fails in another chapter
    fake.write_text(f"#!/bin/sh\necho 'ValueError: this build' > {reports / 'intro.err.log'}\nexit 1\n")
    fake.chmod(0o755)
    proc = subprocess.run(["make", "--no-print-directory", "-o", f"{venv}/.installed", f"VENV={venv}",
                           f"BUILD={build}", "book"], cwd=ROOT, capture_output=True, text=True)
    assert proc.returncode != 0
    assert "ValueError: this build" in proc.stdout and "fixed since" not in proc.stdout, proc.stdout
