"""The chapters' checked outputs, compared with the notebooks that the strict book build executed.

A key numeric cell of a chapter states the output it must print (``expected_output`` in its
metadata; the repository root's ``conftest.py`` explains the format). The book build already ran
every cell with errors failing the build; here each checked cell's output in the build's executed
notebook (``_build/jupyter_execute/book/NN_slug.ipynb``) is compared with the expected one by
nbval's own comparison, which reports the cell, its input, the expected and the actual output.
So ``make test`` executes each chapter once. To run one chapter in a kernel of its own instead,
as a notebook under nbval: ``pytest --nbval-lax --nbval-current-env -p no:cacheprovider book/NN_slug.md``.
"""

from __future__ import annotations

import importlib.util

import nbformat
import pytest
from nbval.plugin import IPyNbCell, coalesce_streams, nocolors

from conftest import ROOT

pytestmark = pytest.mark.book

CHAPTERS = sorted((ROOT / "book").glob("[0-9][0-9]_*.md"))


def _root_conftest():
    """The repository root's conftest.py (tests/conftest.py shadows its module name)."""
    spec = importlib.util.spec_from_file_location("book_conftest", ROOT / "conftest.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


read_chapter = _root_conftest().read_chapter


def code_cells(nb) -> list:
    return [cell for cell in nb.cells if cell.cell_type == "code"]


def checked_cells() -> list:
    """(chapter file, index among its code cells) of every cell with an expected output."""
    found = []
    for path in CHAPTERS:
        for index, cell in enumerate(code_cells(read_chapter(path))):
            if "expected_output" in cell.metadata:
                found.append(pytest.param(path, index, id=f"{path.name}::Cell {index}"))
    return found


class OutputComparison:
    """Just enough of an nbval cell item to run nbval's own output comparison and its messages."""

    compare_outputs = IPyNbCell.compare_outputs
    format_output_compare = IPyNbCell.format_output_compare
    sanitize = IPyNbCell.sanitize
    colors = nocolors

    def __init__(self, request):
        self.config, self.ihook = request.config, request.node.ihook
        # nbval's defaults for --nbval-lax without --nbdime (IPyNbFile.__init__), no sanitising file.
        skip = ("metadata", "traceback", "prompt_number", "output_type", "name", "execution_count",
                "application/vnd.jupyter.widget-view+json", "image/png", "image/jpeg")
        self.parent = type("Parent", (), {"skip_compare": skip, "sanitize_patterns": {}})()
        self.comparison_traceback: list[str] = []


@pytest.fixture(scope="session")
def executed(book_build):
    """Executed notebook of each chapter, as the strict build left it (also when another chapter failed:
    test_book_build.py reports the build's failure, these tests each chapter's checked outputs)."""
    folder = book_build.html.parent / "jupyter_execute" / "book"
    found = {path: folder / f"{path.stem}.ipynb" for path in CHAPTERS}
    missing = [path.name for path, nb in found.items() if not nb.exists()]
    assert not missing, f"the book build wrote no executed notebook for {missing}:\n{book_build.output[-3000:]}"
    return {path: nbformat.read(nb, as_version=4) for path, nb in found.items()}


def test_every_chapter_has_checked_outputs():
    with_checks = {param.values[0] for param in checked_cells()}
    assert with_checks == set(CHAPTERS), f"{sorted(p.name for p in set(CHAPTERS) - with_checks)} check no output"


@pytest.mark.parametrize("path, index", checked_cells())
def test_checked_output_matches_the_build(executed, path, index, request):
    expected = code_cells(read_chapter(path))[index]
    ran = code_cells(executed[path])[index]
    assert ran.source == expected.source, (
        f"{path.name}: code cell {index} of the build's notebook is not the chapter's; was the book "
        "built from this checkout?")
    if ran.get("execution_count") is None and not ran.outputs:
        pytest.fail(f"{path.relative_to(ROOT)}::Cell {index} was not executed by the book build: the chapter stopped "
                    f"at an earlier error (see _build/html/reports/book/{path.stem}.err.log)", pytrace=False)
    comparison = OutputComparison(request)
    if not comparison.compare_outputs(coalesce_streams(ran.outputs), coalesce_streams(expected.outputs)):
        pytest.fail(f"{path.relative_to(ROOT)}::Cell {index}: Cell outputs differ\n\nInput:\n{expected.source}\n\n"
                    + "\n".join(comparison.comparison_traceback), pytrace=False)


def test_no_chapter_cell_is_left_to_raise():
    # An error left to raise renders as a full IPython traceback: dozens of lines through the package's
    # internals, with the build machine's paths, before the one line the text points at. A chapter shows
    # an error with try/except and prints it, in a cell whose expected output pins the message.
    tagged = [f"{path.name}, code cell {index}" for path in CHAPTERS
              for index, cell in enumerate(code_cells(read_chapter(path)))
              if "raises-exception" in cell.metadata.get("tags", [])]
    assert not tagged, f"tagged raises-exception (print the error with try/except instead): {tagged}"


def test_a_differing_output_is_reported_with_the_expected_and_the_actual_text(request):
    # The control: the comparison above can fail, and says what differs.
    printed = [nbformat.v4.new_output("stream", name="stdout", text="max error = 3.1e-09\n")]
    expected = [nbformat.v4.new_output("stream", name="stdout", text="max error = 2.0e-09\n")]
    comparison = OutputComparison(request)
    assert comparison.compare_outputs(printed, expected) is False
    report = "\n".join(comparison.comparison_traceback)
    assert "mismatch 'stdout'" in report and "3.1e-09" in report and "2.0e-09" in report
    assert OutputComparison(request).compare_outputs(printed, printed) is True


def test_the_build_writes_this_releases_install_source_into_each_set_up_cell(executed):
    import yaml

    import rnncourse
    from rnncourse.sphinxext import install_source

    config = yaml.safe_load((ROOT / "_config.yml").read_text(encoding="utf-8"))
    source = install_source(config["sphinx"]["config"]["rnncourse_install"], config["repository"]["url"],
                            rnncourse.__version__)
    for path, nb in executed.items():
        first = code_cells(nb)[0].source
        assert f"RNNCOURSE_INSTALL = {source!r}" in first, f"{path.name}'s downloadable notebook:\n{first}"
