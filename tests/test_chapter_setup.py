"""Each chapter opens with a hidden set-up cell that installs rnncourse where it is missing.

A chapter downloaded from the book, or uploaded to Colab, runs outside a clone of the
repository; its first code cell installs the package and does nothing where the package is
already importable. The chapters name no install source: the book's build writes the one
configured in ``_config.yml`` (``rnncourse_install``, with the package's version) into the cell,
and the environment variable ``RNNCOURSE_INSTALL`` overrides it (a local wheel, for testing).
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

import rnncourse
from rnncourse.sphinxext import install_source, write_install_source

ROOT = Path(__file__).resolve().parents[1]
CHAPTERS = sorted((ROOT / "book").glob("[0-9][0-9]_*.md"))


def first_code_cell(path):
    return next(cell for cell in jupytext.read(path).cells if cell.cell_type == "code")


@pytest.fixture(scope="module")
def setup_source():
    return first_code_cell(CHAPTERS[0]).source


@pytest.fixture(scope="module")
def config():
    return yaml.safe_load((ROOT / "_config.yml").read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def built_source(setup_source, config):
    """The set-up cell as the book's build writes it into the page and the downloadable notebook."""
    source = install_source(config["sphinx"]["config"]["rnncourse_install"], config["repository"]["url"],
                            rnncourse.__version__)
    return write_install_source(setup_source, source)


def test_every_chapter_opens_with_the_same_hidden_setup_cell(setup_source):
    assert len(CHAPTERS) == 9
    for path in CHAPTERS:
        cell = first_code_cell(path)
        assert "remove-cell" in cell.metadata.get("tags", []), f"{path.name}: the set-up cell is not hidden"
        assert cell.source == setup_source, f"{path.name}'s set-up cell differs from {CHAPTERS[0].name}'s"
        assert "from rnncourse" not in cell.source and "import rnncourse" not in cell.source
        assert "http" not in cell.source and "git+" not in cell.source, f"{path.name} names an install source"


def run_setup(source, monkeypatch, installed: bool, environ=None, pip_status=0) -> list:
    """Execute the set-up cell with pip replaced by a recorder (exiting with ``pip_status``); return its commands."""
    real_find_spec, calls = importlib.util.find_spec, []

    def find_spec(name, *args, **kwargs):
        if name == "rnncourse" and not installed:
            return None
        return real_find_spec(name, *args, **kwargs)

    monkeypatch.setattr(importlib.util, "find_spec", find_spec)
    monkeypatch.delenv("RNNCOURSE_INSTALL", raising=False)
    for name, value in (environ or {}).items():
        monkeypatch.setenv(name, value)
    monkeypatch.setattr(subprocess, "run", lambda *args, **kwargs: calls.append((args, kwargs))
                        or subprocess.CompletedProcess(args[0], pip_status))
    exec(compile(source, "<set-up cell>", "exec"), {})
    return calls


def installed_requirement(calls) -> str:
    assert len(calls) == 1
    (command,), options = calls[0]
    assert command[:5] == [sys.executable, "-m", "pip", "install", "--quiet"] and options == {}
    return command[5]


def test_the_built_cell_installs_this_release_from_the_books_repository(built_source, config, monkeypatch):
    requirement = Requirement(installed_requirement(run_setup(built_source, monkeypatch, installed=False)))
    assert requirement.name == "rnncourse"
    assert requirement.url == f"git+{config['repository']['url']}@v{rnncourse.__version__}"
    extras = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]["optional-dependencies"]
    assert requirement.extras == {"torch"} and "torch" in extras
    assert built_source.count(requirement.url) == 1


def test_rnncourse_install_points_the_cell_at_a_local_wheel(built_source, tmp_path, monkeypatch):
    wheel = str(tmp_path / f"rnncourse-{rnncourse.__version__}-py3-none-any.whl[torch]")
    calls = run_setup(built_source, monkeypatch, installed=False, environ={"RNNCOURSE_INSTALL": wheel})
    assert installed_requirement(calls) == wheel


def test_a_failed_install_says_how_to_point_the_cell_elsewhere(built_source, monkeypatch):
    # Offline, or where the release cannot be fetched, pip fails: the cell says what to do next
    # instead of ending in pip's CalledProcessError.
    with pytest.raises(ModuleNotFoundError, match=r"rnncourse could not be installed from .*git\+.*: set "
                                                  r"RNNCOURSE_INSTALL to the wheel"):
        run_setup(built_source, monkeypatch, installed=False, pip_status=1)


def test_the_unbuilt_cell_says_how_to_install_instead_of_guessing(setup_source, monkeypatch):
    with pytest.raises(ModuleNotFoundError, match=r"pip install 'rnncourse\[torch\]'.*RNNCOURSE_INSTALL"):
        run_setup(setup_source, monkeypatch, installed=False)


def test_setup_does_nothing_where_the_package_is_installed(setup_source, built_source, monkeypatch):
    assert run_setup(setup_source, monkeypatch, installed=True) == []
    assert run_setup(built_source, monkeypatch, installed=True) == []
