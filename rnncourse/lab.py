"""The student's lab (``make lab``): Jupytext writes a chapter back exactly as it is written.

Two things would otherwise change a chapter that a student opens and saves unchanged in JupyterLab:

- Jupytext writes a multi-line string of a cell's metadata (a figure's caption, an
  ``expected_output``) as a quoted YAML string, where the chapters write a literal block (``|``).
  :func:`use_literal_blocks` makes it write literal blocks, as the chapters do.
- A chapter stores no ``language_info`` (Jupytext leaves it out), so the lab marks the chapter
  modified when the kernel reports its own. :func:`with_language_info` adds the one the kernel
  will report when the chapter is read.

The project's Jupyter configuration (``jupyter/jupyter_server_config.py``) applies both; the header
is kept as written by ``book/jupytext.toml``. ``tests/test_lab.py`` checks that the round trip is
the identity for every chapter.
"""

from __future__ import annotations

import sys
from pathlib import Path

__all__ = ["use_literal_blocks", "with_language_info", "main"]

USAGE = ("usage: python -m rnncourse.lab book/NN_slug.md ...: rewrites each chapter as the lab saves it "
         "(MyST notebooks only: .md files whose header has jupytext and kernelspec)")


def _represent_str(dumper, data: str):
    style = "|" if "\n" in data else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", data, style=style)


def use_literal_blocks() -> None:
    """Make Jupytext write multi-line metadata strings as YAML literal blocks (``key: |``)."""
    from jupytext.myst import CompactDumper

    CompactDumper.add_representer(str, _represent_str)


def python_language_info() -> dict:
    """The ``language_info`` that ipykernel reports for this Python."""
    return {"name": "python", "version": sys.version.split()[0], "mimetype": "text/x-python",
            "codemirror_mode": {"name": "ipython", "version": sys.version_info[0]},
            "pygments_lexer": "ipython3", "nbconvert_exporter": "python", "file_extension": ".py"}


def with_language_info(nb):
    """Give a Python notebook read from text the ``language_info`` its kernel will report."""
    if nb.metadata.get("kernelspec", {}).get("language") == "python":
        nb.metadata.setdefault("language_info", python_language_info())
    return nb


def is_myst_notebook(path) -> bool:
    """Whether ``path`` is a file the lab opens as a notebook: a ``.md`` whose header has ``jupytext`` and
    ``kernelspec`` (a chapter; not the README, the book's other pages or a ``.ipynb``)."""
    import jupytext
    import yaml

    path = Path(path)
    if path.suffix != ".md" or not path.is_file():
        return False
    try:
        header = jupytext.reads(path.read_text(encoding="utf-8"), fmt="md:myst").metadata
    except (UnicodeDecodeError, ValueError, yaml.YAMLError):     # not text, or a header YAML cannot read
        return False
    return {"jupytext", "kernelspec"} <= header.keys()


def save_as_the_lab_does(path) -> bool:
    """Rewrite a chapter as the lab saves it (header, kernel name, metadata); True if it changed.

    ``python -m rnncourse.lab book/NN_slug.md ...`` does this for each file named. ``ValueError`` for a
    file that is not a MyST notebook (:func:`is_myst_notebook`), which would be ruined.
    """
    import jupytext
    from ipykernel.kernelspec import get_kernel_dict
    from jupytext.config import load_jupytext_config

    if not is_myst_notebook(path):
        raise ValueError(f"expected a MyST notebook (.md with jupytext and kernelspec in its header), got {path}")
    use_literal_blocks()
    path = Path(path)
    text = path.read_text(encoding="utf-8")
    nb = jupytext.reads(text, fmt="md:myst")
    kernel = get_kernel_dict()
    if nb.metadata.get("kernelspec", {}).get("name") == "python3":
        nb.metadata.kernelspec.update(display_name=kernel["display_name"], language=kernel["language"])
    written = jupytext.writes(nb, fmt="md:myst", config=load_jupytext_config(str(path.resolve())))
    if written != text:
        path.write_text(written, encoding="utf-8", newline="")     # "\n" on every system, as in the repository
    return written != text


def main(argv) -> int:
    """``python -m rnncourse.lab FILE ...``: rewrite each file named, after checking that all are chapters."""
    if argv in (["-h"], ["--help"]):
        print(USAGE)
        return 0
    refused = [name for name in argv if not is_myst_notebook(name)]
    if not argv or refused:
        print(f"{USAGE}; got {', '.join(refused) or 'no file'}", file=sys.stderr)
        return 2
    for name in argv:
        print(("rewritten " if save_as_the_lab_does(name) else "unchanged ") + name)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
