"""The package as students and instructors get it: an sdist and a wheel, installed outside the checkout.

One slow test (about 20 s on a quiet 2-core machine) walks the whole way: build the sdist and the
wheel, create a fresh virtual environment in a temporary folder, put in it what Colab already has (a
Jupyter kernel, NumPy, Matplotlib, tqdm, PyTorch, with what they need, at the exact versions of
requirements.txt: this environment's installed files, linked rather than unpacked again by pip, see
:func:`preinstall`), then run a chapter's notebook top to bottom there as a student would: its set-up
cell installs the wheel (``RNNCOURSE_INSTALL`` points it there). Then, as an instructor, install the
``[instructor]`` extra (pip, from its configured sources) and run ``rnncourse student`` and
``rnncourse grade`` on that notebook. ``PYTHONPATH`` is cleared, so nothing is imported from the checkout.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tarfile
import tempfile
import tomllib
import zipfile
from pathlib import Path

import jupytext
import nbformat
import pytest
import yaml
from packaging.requirements import Requirement
from packaging.version import Version

import rnncourse
from exercise_fixtures import bubblewrap_missing
from rnncourse.sphinxext import install_source, write_install_source

ROOT = Path(__file__).resolve().parents[1]
CHAPTER = ROOT / "book" / "02_structure.md"
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))


def pinned() -> dict:
    """``{normalised name: exact version}`` from requirements.txt."""
    pins = {}
    for line in (ROOT / "requirements.txt").read_text(encoding="utf-8").splitlines():
        line = line.split("#")[0].strip()
        if line and not line.startswith("-"):
            req = Requirement(line)
            (spec,) = req.specifier
            assert spec.operator == "==", f"requirements.txt should pin {line} exactly"
            pins[req.name.lower().replace("_", "-")] = spec.version
    return pins


def declared(extras=None) -> list:
    """The requirements of pyproject.toml: the core ones and those of ``extras`` (default: every extra),
    following the extras that name ``rnncourse[...]``."""
    project = PYPROJECT["project"]
    optional = project["optional-dependencies"]
    todo, seen = list(optional if extras is None else extras), set()
    reqs = [Requirement(r) for r in project["dependencies"]]
    while todo:
        extra = todo.pop()
        if extra in seen:
            continue
        seen.add(extra)
        for line in optional[extra]:
            req = Requirement(line)
            if req.name == "rnncourse":
                todo += sorted(req.extras)
            else:
                reqs.append(req)
    return reqs


def test_pyproject_gives_lower_bounds_that_the_exact_pins_of_requirements_txt_satisfy():
    for req in declared():
        assert all(spec.operator in (">=", "<") for spec in req.specifier), f"{req}: lower bounds only"
        assert any(spec.operator == ">=" for spec in req.specifier), f"{req} has no lower bound"
    # requirements.txt pins what make test installs: the core and rnncourse[test] with what it names.
    pins = pinned()
    for req in declared(["test"]):
        name = req.name.lower().replace("_", "-")
        assert name in pins, f"{req.name} is declared in pyproject.toml but not pinned in requirements.txt"
        assert Version(pins[name]) in req.specifier, f"requirements.txt pins {name}=={pins[name]}, outside {req}"
    assert {"torch", "instructor", "book", "test"} <= set(PYPROJECT["project"]["optional-dependencies"])


#: What Colab has before a notebook installs anything (with what these need): a kernel, NumPy,
#: Matplotlib, tqdm, PyTorch.
COLAB = ["ipykernel", "nbclient", "numpy", "matplotlib", "tqdm", "torch"]


def needed(names) -> dict:
    """``{name: distribution}`` of this environment for ``names`` and everything they require."""
    from importlib.metadata import distribution

    found, todo = {}, list(names)
    while todo:
        name = todo.pop().lower().replace("_", "-")
        if name not in found:
            found[name] = distribution(name)
            reqs = [Requirement(line) for line in found[name].requires or []]
            todo += [r.name for r in reqs if r.marker is None or r.marker.evaluate({"extra": ""})]
    return found


def preinstall(names, site: Path) -> None:
    """Put ``names`` (with what they require) into the site-packages folder ``site`` of another environment,
    as this environment has them (requirements.txt's versions): the files their installation recorded,
    hard-linked where the file system allows, else copied. Their metadata comes along, so pip there counts
    them as installed. Much cheaper than pip unpacking PyTorch again. Files pip put outside
    site-packages are left out: command-line scripts, and the kernel's spec, which jupyter_client
    makes for the running Python when it finds none."""
    for dist in needed(names).values():
        for file in dist.files or []:
            source = Path(dist.locate_file(file))
            if file.parts[0] == ".." or not source.is_file():
                continue
            target = site / file
            target.parent.mkdir(parents=True, exist_ok=True)
            try:
                os.link(source, target)
            except OSError:
                shutil.copy2(source, target)


def build_dists(out: Path) -> tuple:
    """``(sdist, wheel)`` built from the checkout; the wheel is built from the sdist, as pip would."""
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    subprocess.run([sys.executable, "-m", "build", "--no-isolation", "--outdir", str(out), str(ROOT)],
                   check=True, capture_output=True, text=True, env=env)
    return next(out.glob("*.tar.gz")), next(out.glob("*.whl"))


def run(cmd, **kwargs) -> subprocess.CompletedProcess:
    proc = subprocess.run([str(c) for c in cmd], capture_output=True, text=True, **kwargs)
    assert proc.returncode == 0, f"{' '.join(map(str, cmd))} failed ({proc.returncode}):\n{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}"
    return proc


def downloaded_notebook(path: Path) -> Path:
    """The chapter as the book offers it for download: a notebook whose set-up cell the build filled in."""
    config = yaml.safe_load((ROOT / "_config.yml").read_text(encoding="utf-8"))
    source = install_source(config["sphinx"]["config"]["rnncourse_install"], config["repository"]["url"],
                            rnncourse.__version__)
    nb = jupytext.read(CHAPTER)
    first = next(cell for cell in nb.cells if cell.cell_type == "code")
    first.source = write_install_source(first.source, source)
    assert source in first.source
    nb.metadata.pop("jupytext", None)
    nbformat.write(nb, path)
    return path


EXECUTE = """
import sys, nbformat
from nbclient import NotebookClient
nb = nbformat.read(sys.argv[1], as_version=4)
NotebookClient(nb, kernel_name="python3", timeout=300, resources={"metadata": {"path": sys.argv[3]}}).execute()
nbformat.write(nb, sys.argv[2])
"""


@pytest.fixture
def outside(tmp_path):
    """A fresh folder outside the checkout and outside /tmp: the grader's sandbox mounts a private /tmp,
    which would hide a virtual environment kept there."""
    base = Path("/var/tmp") if Path("/var/tmp").is_dir() else None
    folder = Path(tempfile.mkdtemp(prefix="rnncourse-wheel-", dir=base))
    yield folder
    shutil.rmtree(folder, ignore_errors=True)


@pytest.mark.slow
def test_the_wheel_installs_outside_the_checkout_runs_a_chapter_and_grades_it(outside):
    tmp_path = outside
    sdist, wheel = build_dists(tmp_path / "dist")
    names = tarfile.open(sdist).getnames() + zipfile.ZipFile(wheel).namelist()
    for forbidden in ("/tests/", "/book/", "/benchmarks/", "_build/", ".ipynb", "requirements.txt"):
        assert not [n for n in names if forbidden in f"/{n}"], f"{forbidden} is in the sdist or the wheel"
    assert any(n.endswith("rnncourse/numpy/elman.py") for n in zipfile.ZipFile(wheel).namelist())
    metadata = zipfile.ZipFile(wheel).read(f"rnncourse-{rnncourse.__version__}.dist-info/METADATA").decode()
    assert "Description-Content-Type: text/markdown" in metadata
    # pyproject declares license = "MIT": the MIT notice must travel with every copy.
    assert "License-Expression: MIT" in metadata
    for dist in (tarfile.open(sdist).getnames(), zipfile.ZipFile(wheel).namelist()):
        assert any(n.endswith("LICENSE") for n in dist), "the LICENSE file is not in the sdist or the wheel"
    assert (ROOT / "README.md").read_text(encoding="utf-8").splitlines()[0] in metadata

    # A fresh environment with what Colab has, at the versions this project tests with.
    venv, work = tmp_path / "venv", tmp_path / "student"
    work.mkdir()
    # As on a student's machine, Python may cache compiled modules (torch imports in 1.4 s instead of 2.8 s
    # in the kernel, the grader and each sandbox after the first), whatever this shell's setting.
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV", "PYTHONDONTWRITEBYTECODE")}
    constraints = tmp_path / "constraints.txt"
    constraints.write_text("\n".join(f"{n}=={v}" for n, v in pinned().items()) + "\n")
    env["PIP_CONSTRAINT"] = " ".join(filter(None, [env.get("PIP_CONSTRAINT"), str(constraints)]))
    run([sys.executable, "-m", "venv", venv], env=env)
    python = venv / "bin" / "python"
    pip = [python, "-m", "pip", "install", "--quiet", "--no-compile", "--disable-pip-version-check"]
    site = Path(run([python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"], env=env).stdout.strip())
    preinstall(COLAB, site)
    assert run([python, "-c", "import importlib.util as u; print(u.find_spec('rnncourse'))"], env=env,
               cwd=work).stdout.strip() == "None"

    # The student: the downloaded notebook runs top to bottom; its set-up cell installs the wheel.
    notebook = downloaded_notebook(work / CHAPTER.with_suffix(".ipynb").name)
    executed = work / "executed.ipynb"
    run([python, "-c", EXECUTE, notebook, executed, work], env={**env, "RNNCOURSE_INSTALL": f"{wheel}[torch]"},
        cwd=work)
    nb = nbformat.read(executed, as_version=4)
    errors = [o for c in nb.cells if c.cell_type == "code" for o in c.outputs if o.output_type == "error"]
    assert not errors, errors
    printed = "".join(o.get("text", "") for c in nb.cells if c.cell_type == "code" for o in c.outputs)
    assert "PASS" in printed
    assert any("image/png" in o.get("data", {}) for c in nb.cells if c.cell_type == "code" for o in c.outputs)
    where = run([python, "-c", "import rnncourse; print(rnncourse.__file__)"], env=env, cwd=work).stdout
    assert str(venv) in where, f"rnncourse was imported from {where}, not from the fresh environment"

    # The instructor: the student version of the downloaded chapter, and grading both versions.
    run([*pip, f"{wheel}[instructor]"], env=env)
    rnncourse_cli = venv / "bin" / "rnncourse"
    course = tmp_path / "course"
    (course / "book").mkdir(parents=True)
    (course / "_toc.yml").write_text("format: jb-book\nroot: book/02_structure\n")
    nbformat.write(nb, course / "book" / notebook.name)
    out = run([rnncourse_cli, "student", tmp_path / "class", "--book", course, "--no-book"], env=env, cwd=work).stdout
    assert "1 student notebooks" in out
    student = tmp_path / "class" / "notebooks" / notebook.name
    gradebook = tmp_path / "grades.json"
    # Graded in the grader's sandbox where this machine has one (CI installs bubblewrap); elsewhere
    # without it: these two notebooks are our own, and the sandbox has tests of its own.
    unsandboxed = ["--no-sandbox"] if bubblewrap_missing() is not None else []
    run([rnncourse_cli, "grade", executed, student, "--json", gradebook, "--timeout", "120", *unsandboxed],
        env=env, cwd=work)
    graded = {Path(s["submission"]).name: s for s in json.loads(gradebook.read_text())["submissions"]}
    solved, stubbed = graded["executed.ipynb"], graded[student.name]
    assert solved["max_points"] > 0 and solved["points"] == solved["max_points"], solved
    assert stubbed["points"] == 0 and stubbed["max_points"] == solved["max_points"], stubbed
