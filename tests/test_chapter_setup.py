"""Each chapter opens with a hidden set-up cell that installs rnncourse where it is missing.

A chapter downloaded from the book, or uploaded to Colab, runs outside a clone of the
repository; its first code cell installs the package from the book's repository (the URL in
``_config.yml``) and does nothing where the package is already importable.
"""

from __future__ import annotations

import importlib.util
import subprocess
import sys
import tomllib
from pathlib import Path

import jupytext
import pytest
import yaml
from packaging.requirements import Requirement

ROOT = Path(__file__).resolve().parents[1]
CHAPTERS = sorted((ROOT / "book").glob("[0-9][0-9]_*.md"))


def first_code_cell(path):
    return next(cell for cell in jupytext.read(path).cells if cell.cell_type == "code")


@pytest.fixture(scope="module")
def setup_source():
    return first_code_cell(CHAPTERS[0]).source


@pytest.fixture(scope="module")
def repository_url():
    return yaml.safe_load((ROOT / "_config.yml").read_text(encoding="utf-8"))["repository"]["url"]


def test_every_chapter_opens_with_the_same_hidden_setup_cell(setup_source):
    assert len(CHAPTERS) == 9
    for path in CHAPTERS:
        cell = first_code_cell(path)
        assert "remove-cell" in cell.metadata.get("tags", []), f"{path.name}: the set-up cell is not hidden"
        assert cell.source == setup_source, f"{path.name}'s set-up cell differs from {CHAPTERS[0].name}'s"
        assert "from rnncourse" not in cell.source and "import rnncourse" not in cell.source


def run_setup(source, monkeypatch, installed: bool) -> list:
    """Execute the set-up cell with pip replaced by a recorder; return the commands it ran."""
    real_find_spec, calls = importlib.util.find_spec, []

    def find_spec(name, *args, **kwargs):
        if name == "rnncourse" and not installed:
            return None
        return real_find_spec(name, *args, **kwargs)

    monkeypatch.setattr(importlib.util, "find_spec", find_spec)
    monkeypatch.setattr(subprocess, "run", lambda *args, **kwargs: calls.append((args, kwargs)))
    exec(compile(source, "<set-up cell>", "exec"), {})
    return calls


def test_setup_installs_the_package_from_the_books_repository_when_missing(setup_source, repository_url,
                                                                          monkeypatch):
    calls = run_setup(setup_source, monkeypatch, installed=False)
    assert len(calls) == 1
    (command,), options = calls[0]
    assert command[:5] == [sys.executable, "-m", "pip", "install", "--quiet"] and options == {"check": True}
    requirement = Requirement(command[5])
    assert requirement.name == "rnncourse"
    assert requirement.url == f"git+{repository_url}"
    extras = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]["optional-dependencies"]
    assert requirement.extras == {"torch"} and "torch" in extras


def test_setup_does_nothing_where_the_package_is_installed(setup_source, monkeypatch):
    assert run_setup(setup_source, monkeypatch, installed=True) == []
