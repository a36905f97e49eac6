"""The book builds with warnings as errors, and the strict build really is strict."""

from __future__ import annotations

import pickle
import shutil
from pathlib import Path

import pytest
import yaml

from conftest import ROOT, build_book

pytestmark = pytest.mark.book


def toc_files() -> list[str]:
    toc = yaml.safe_load((ROOT / "_toc.yml").read_text())
    files = [toc["root"]]
    for part in toc["parts"]:
        files += [c["file"] for c in part["chapters"]]
    return files


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


def test_broken_cross_reference_fails_the_build(tmp_path):
    src = mini_book(tmp_path, "See {ref}`no-such-label` and {eq}`eq-missing`.\n")
    result = build_book(src, tmp_path / "out")
    assert result.returncode != 0
    assert "no-such-label" in result.output


# A failing cell fails the build too: tests/test_book_cache.py plants one among chapters that execute
# side by side. The control, a clean page with math and code that passes the same strict build (the
# mini book itself is not what fails), is the first build of tests/test_book_cache.py.
