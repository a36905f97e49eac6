"""Let nbval collect the book's chapters straight from their MyST-markdown source.

nbval reads ``.ipynb`` files; our chapters are ``book/NN_slug.md`` (jupytext, MyST format).
This hook reads each chapter through :func:`jupytext.read` and hands the notebook to nbval,
which runs it in the current environment with the working directory ``book/``.

A key numeric cell states the output it must print in its metadata::

    ```{code-cell} ipython3
    ---
    expected_output: |
      max |numpy - torch| = 0.0e+00
    ---
    print(...)
    ```

Such cells are compared with what they print (nbval's ``nbval-check-output``); every other cell
only has to run without raising. Run with ``pytest --nbval-lax --nbval-current-env book/``.
"""

from __future__ import annotations

import re
from unittest import mock

import jupytext
import nbformat
import pytest

CHAPTER = re.compile(r"^\d\d_\w+\.md$")


def read_chapter(path) -> nbformat.NotebookNode:
    """Read a MyST chapter as a notebook whose checked cells carry their expected output."""
    nb = jupytext.read(str(path))
    for cell in nb.cells:
        expected = cell.metadata.get("expected_output") if cell.cell_type == "code" else None
        if expected is not None:
            cell.outputs = [nbformat.v4.new_output("stream", name="stdout", text=expected)]
            cell.execution_count = 1  # nbval rejects reference outputs of a cell that never ran
            tags = cell.metadata.setdefault("tags", [])
            if "nbval-check-output" not in tags:
                tags.append("nbval-check-output")
    return nb


def pytest_collect_file(file_path, parent):
    opt = parent.config.option
    if not (getattr(opt, "nbval", False) or getattr(opt, "nbval_lax", False)):
        return None
    if file_path.parent.name != "book" or not CHAPTER.match(file_path.name):
        return None
    from nbval.plugin import IPyNbFile

    class MystChapter(IPyNbFile):
        def collect(self):
            nb = read_chapter(self.path)
            with mock.patch("nbval.plugin.nbformat.read", return_value=nb):
                yield from super().collect()

    return MystChapter.from_parent(parent, path=file_path)

