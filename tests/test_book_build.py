"""The book builds with warnings as errors, and the strict build really is strict."""

from __future__ import annotations

import pickle
import re
import shutil
from pathlib import Path

import nbformat
import pytest
import yaml

from conftest import ROOT, build_book
from rnncourse.__main__ import main

pytestmark = pytest.mark.book


def toc_files() -> list[str]:
    """Every page of the book's table of contents, in order, as paths without extension (``book/intro``)."""
    toc = yaml.safe_load((ROOT / "_toc.yml").read_text(encoding="utf-8"))
    files = [toc["root"]]

    def walk(node):
        if isinstance(node, dict):
            files.extend([node["file"]] if "file" in node else [])
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(toc)
    return [re.sub(r"\.(md|ipynb|rst)$", "", f) for f in files]


def test_whole_book_builds_strictly(book_build):
    assert book_build.returncode == 0, book_build.output[-6000:]
    for name in toc_files():
        assert (book_build.html / f"{name}.html").exists(), f"{name}.html was not built"


def test_every_chapter_executed(book_build):
    doctrees = book_build.html.parent / ".doctrees" / "environment.pickle"
    if not doctrees.exists():
        pytest.skip("reused build without doctrees")
    from myst_nb.sphinx_ import NbMetadataCollector

    env = pickle.loads(doctrees.read_bytes())
    chapters = [f for f in toc_files() if Path(f).name[:2].isdigit()]
    for docname in chapters:
        data = NbMetadataCollector.get_exec_data(env, docname)
        assert data is not None, f"{docname} was not executed"
        assert data["succeeded"], f"{docname} failed to execute"


def mini_book(tmp_path: Path, page: str, **more_pages: str) -> Path:
    """A book with the real configuration and one page (``book/page``), for planting a fault.

    ``more_pages`` (name -> text) become further chapters after it.
    """
    src = tmp_path / "src"
    (src / "book").mkdir(parents=True)
    shutil.copy(ROOT / "_config.yml", src / "_config.yml")
    for asset in ("references.bib", "favicon.svg"):
        shutil.copy(ROOT / "book" / asset, src / "book" / asset)
    toc = "format: jb-book\nroot: book/page\n"
    if more_pages:
        toc += "chapters:\n" + "".join(f"  - file: book/{name}\n" for name in more_pages)
    (src / "_toc.yml").write_text(toc)
    header = (ROOT / "book" / "01_why_rnns.md").read_text().split("---", 2)[1]
    for name, text in {"page": page, **more_pages}.items():
        (src / "book" / f"{name}.md").write_text(f"---{header}---\n({name})=\n# A page called {name}\n\n{text}\n")
    return src


def meeting_page(name: str, other: str) -> str:
    """A page that says whether ``other`` was running at the same time: each leaves a mark in the folder
    they run in and waits (up to a minute) for the other's."""
    return ("```{code-cell} ipython3\nimport pathlib, time\n"
            f"pathlib.Path('{name}.started').touch()\ndeadline = time.time() + 60\n"
            f"while not pathlib.Path('{other}.started').exists() and time.time() < deadline:\n    time.sleep(0.05)\n"
            f"print('{name}', 'met' if pathlib.Path('{other}.started').exists() else 'alone')\n```\n")


def test_a_faulty_book_fails_strictly_names_each_fault_and_runs_its_chapters_side_by_side(tmp_path, capsys):
    """One strict build of a book with faults planted (a build each would cost a minute of make test):

    - an exception in a chapter's cell fails the build, with the traceback in a report;
    - a broken cross-reference and a missing equation fail it, named in the output;
    - so do Python references into rnncourse written without the module path that resolve nothing,
      while one to another library (no intersphinx offline) passes;
    - the chapters that can run execute side by side ahead of Sphinx's reading and come from the cache;
    - ``python -m rnncourse times`` lists the chapters in book order, marks the failed one, says where its
      traceback is, exits 1.

    The control, a clean page with math and code that passes the same strict build (the mini book itself
    is not what fails), is the first build of tests/test_book_cache.py.
    """
    failing = ("See {ref}`no-such-label` and {eq}`eq-missing`.\n\n"
               "Also {py:func}`rnn_forwrd`, {py:meth}`ElmanRNN.from_numpyy`, {py:class}`ElmanRNNN`, "
               "{py:data}`PALLETTE` and, outside rnncourse, {py:func}`torch.no_grad`.\n\n"
               "```{code-cell} ipython3\nraise RuntimeError('planted failure in a cell')\n```\n")
    src = mini_book(tmp_path, failing, first=meeting_page("first", "second"), second=meeting_page("second", "first"))
    config = src / "_config.yml"
    config.write_text(config.read_text().replace("  config:\n", "  config:\n    rnncourse_execution_jobs: 2\n", 1))
    result = build_book(src, tmp_path / "out")
    output = result.output
    assert result.returncode != 0, output[-4000:]
    # The failing cell: executed again by myst-nb, reported the usual way, with its traceback in a report.
    assert "page.err.log" in output, output[-6000:]
    report = (result.html / "reports" / "book" / "page.err.log").read_text()
    report = re.sub(r"\x1b\[[0-9;]*m", "", report)  # drop terminal colours
    assert "RuntimeError: planted failure in a cell" in report
    # The broken references.
    assert "no-such-label" in output and "eq-missing" in output, output[-6000:]
    for kind, target in (("func", "rnn_forwrd"), ("meth", "ElmanRNN.from_numpyy"), ("class", "ElmanRNNN"),
                         ("data", "PALLETTE")):
        assert f"py:{kind} reference target not found: {target}" in output, output[-6000:]
    assert "torch.no_grad" not in output, output[-6000:]
    # The two good pages ran ahead of Sphinx's reading, at the same time, and are read from the cache.
    for name in ("first", "second"):
        assert f"book/{name}.md: Using cached notebook" in output, output[-6000:]
        nb = nbformat.read(result.html.parent / "jupyter_execute" / "book" / f"{name}.ipynb", as_version=4)
        printed = "".join(o.get("text", "") for c in nb.cells for o in c.get("outputs", []))
        assert printed == f"{name} met\n", f"{name} did not run beside the other page: {printed!r}"
    # The execution times, in book order (not the alphabetical order Sphinx reads in).
    assert main(["times", str(result.html.parent)]) == 1
    captured = capsys.readouterr()
    lines = captured.out.splitlines()
    assert lines[0].split() == ["docname", "seconds", "method", "ok"]
    assert re.fullmatch(r"book/page +\d+\.\d +\w+ +FAILED", lines[1]), lines
    assert re.fullmatch(r"book/first +\d+\.\d +\w+ +yes", lines[2]), lines
    assert re.fullmatch(r"book/second +\d+\.\d +\w+ +yes", lines[3]), lines
    assert re.fullmatch(r"total +\d+\.\d +\(1 failed: book/page\)", lines[4]), lines
    # Where the failure is, also for a later build in which the unchanged page was not run again.
    assert captured.err == (f"book/page failed to execute, in this build or in an earlier one (a page that has not "
                            f"changed is not run again): its traceback is in "
                            f"{result.html / 'reports' / 'book' / 'page.err.log'}; fix the chapter or the package, "
                            f"then build again\n"), captured.err
    assert main(["times", str(tmp_path / "nowhere")]) == 2


def test_the_times_command_refuses_a_folder_without_a_readable_build_environment_in_one_line(tmp_path, capsys):
    doctrees = tmp_path / "_build" / ".doctrees"
    doctrees.mkdir(parents=True)
    assert main(["times", str(tmp_path / "_build" / "html")]) == 2
    assert "expected the build folder that holds .doctrees (_build, not _build/html)" in capsys.readouterr().err
    for content in (b"", b"garbage\n", pickle.dumps({"docnames": ["a", "b"]})[:-3]):
        (doctrees / "environment.pickle").write_bytes(content)
        assert main(["times", str(tmp_path / "_build")]) == 2
        err = capsys.readouterr().err
        assert err.count("\n") == 1 and "environment.pickle: expected a Sphinx build environment" in err, err
