"""Shared fixtures: the strict book build, made once per test run and reused.

The build is the longest step of ``make test`` and uses one core; so it starts in the background as
soon as the tests are collected (when any selected test needs it), while the other tests run, and
the tests that read it run last and wait for it. Under pytest-xdist (``make test`` runs
``pytest -n 2``) every worker collects the tests: the first to create the run's state folder starts
the one build, the others wait for the same result. Each chapter so executes once per test run.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

import pytest

from rnncourse.exercises.student_book import STRICT  # the one definition of the strict flags

ROOT = Path(__file__).resolve().parents[1]
JUPYTER_BOOK = Path(sys.executable).with_name("jupyter-book")


@dataclass(frozen=True)
class BuildResult:
    """What a ``jupyter-book build`` left: its exit code, its output and the site folder."""

    returncode: int
    output: str
    html: Path


def build_book(source: Path, output: Path, *extra: str) -> BuildResult:
    """Build the book at ``source`` strictly, from an empty ``output``/_build."""
    shutil.rmtree(output / "_build", ignore_errors=True)
    cmd = [str(JUPYTER_BOOK), "build", str(source), "--path-output", str(output), *STRICT, *extra]
    proc = subprocess.run(cmd, cwd=source, capture_output=True, text=True, env={**os.environ, "PYTHONWARNINGS": ""})
    return BuildResult(proc.returncode, proc.stdout + proc.stderr, output / "_build" / "html")


BUILD_STATE = ROOT / ".book_build"           # one folder per test run: the build's output and exit code
RUN_ID = os.environ.get("PYTEST_XDIST_TESTRUNUID") or uuid.uuid4().hex   # shared by the workers of a run


def reads_the_build(item) -> bool:
    return "book_build" in getattr(item, "fixturenames", ())


def reuse_build() -> bool:
    return os.environ.get("RNNCOURSE_REUSE_BUILD") == "1" and (ROOT / "_build" / "html" / "index.html").exists()


def start_book_build() -> Path:
    """Start the strict build of the whole book into ``_build`` in the background, once per test run.

    Returns the run's state folder, where ``output.txt`` and then ``returncode`` appear.
    """
    state = BUILD_STATE / RUN_ID
    try:
        state.mkdir(parents=True)                  # atomic: the first worker to get here builds
    except FileExistsError:
        return state
    for old in BUILD_STATE.iterdir():
        if old != state:
            shutil.rmtree(old, ignore_errors=True)
    shutil.rmtree(ROOT / "_build", ignore_errors=True)
    cmd = [str(JUPYTER_BOOK), "build", str(ROOT), "--path-output", str(ROOT), *STRICT]
    # A small parent that records the exit code once the build is over (renamed into place, so a
    # waiting test never reads half of it).
    recorder = ("import os, subprocess, sys; out = open(sys.argv[1], 'w'); "
                "code = subprocess.run(sys.argv[3:], stdout=out, stderr=subprocess.STDOUT).returncode; "
                "out.close(); open(sys.argv[2] + '.part', 'w').write(str(code)); "
                "os.replace(sys.argv[2] + '.part', sys.argv[2])")
    subprocess.Popen([sys.executable, "-c", recorder, str(state / "output.txt"), str(state / "returncode"), *cmd],
                     cwd=ROOT, env={**os.environ, "PYTHONWARNINGS": ""}, stdin=subprocess.DEVNULL,
                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return state


def pytest_collection_modifyitems(config, items):
    """The tests that read the book build run last, so that the build runs beside the others."""
    items[:] = [item for item in items if not reads_the_build(item)] + [item for item in items if reads_the_build(item)]


def group_lost(item) -> bool:
    """Whether ``item`` is marked ``xdist_group`` but its node id does not carry the group.

    Under ``--dist loadgroup`` pytest-xdist appends ``@group`` to the node id of each marked test, and its
    scheduler sends the tests with the same suffix to one process. Where that suffix is missing (pytest 9.2
    with pytest-xdist 3.8, pytest-dev/pytest-xdist#1386), the group's tests are spread over both processes
    and each module-scoped fixture runs once in each, without any error.
    """
    return item.get_closest_marker("xdist_group") is not None and "@" not in item.nodeid


def pytest_runtest_setup(item):
    """Under ``--dist loadgroup``, a grouped test that pytest-xdist did not keep in its group fails, saying why."""
    if getattr(item.config.option, "loadgroup", False) and group_lost(item):
        pytest.fail("pytest-xdist did not add this test's xdist_group to its node id, so --dist loadgroup "
                    "spreads the group over the processes and runs its module fixtures in each: install the "
                    "versions in requirements.txt (pytest-dev/pytest-xdist#1386)", pytrace=False)


def pytest_collection_finish(session):
    """Start the book build as soon as the tests are collected, if a selected test reads it (and will run:
    ``pytest --collect-only`` builds nothing)."""
    if session.config.option.collectonly:
        return
    if any(reads_the_build(item) for item in session.items) and not reuse_build():
        start_book_build()


@pytest.fixture(scope="session")
def book_build() -> BuildResult:
    """The whole book built strictly into ``_build`` (the folder `make book` uses), once per test run.

    Set ``RNNCOURSE_REUSE_BUILD=1`` to reuse an existing ``_build/html`` instead (for iterating on
    the browser tests); CI and `make test` always build afresh.
    """
    html = ROOT / "_build" / "html"
    if reuse_build():
        return BuildResult(0, "(reused)", html)
    state = start_book_build()
    while not (state / "returncode").exists():
        time.sleep(1)
    output = (state / "output.txt").read_text(encoding="utf-8", errors="replace")
    return BuildResult(int((state / "returncode").read_text()), output, html)


@pytest.fixture(scope="session")
def playwright():
    """Playwright's sync API, started once per test process (it runs one instance per process), shared by
    the browser tests and the lab test."""
    sync_api = pytest.importorskip("playwright.sync_api", reason="playwright is installed by requirements.txt")
    with sync_api.sync_playwright() as p:
        yield p
