"""Shared fixtures: the strict book build, made once per test session and reused."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
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


@pytest.fixture(scope="session")
def book_build() -> BuildResult:
    """The whole book built strictly into ``_build`` (the folder `make book` uses), once per session.

    Set ``RNNCOURSE_REUSE_BUILD=1`` to reuse an existing ``_build/html`` instead (for iterating on
    the browser tests); CI and `make test` always build afresh.
    """
    html = ROOT / "_build" / "html"
    if os.environ.get("RNNCOURSE_REUSE_BUILD") == "1" and (html / "index.html").exists():
        return BuildResult(0, "(reused)", html)
    return build_book(ROOT, ROOT)
