"""What a chapter downloaded from the book installs: the set-up cell's ``RNNCOURSE_INSTALL`` line.

Each chapter's first cell installs ``rnncourse`` where it is missing (Colab, a plain Jupyter). The
book's build (the Sphinx extension, ``rnncourse.sphinxext``) and the student version
(:mod:`rnncourse.exercises.student`) both write into that cell the pip requirement that
``rnncourse_install`` in ``_config.yml`` names, filled with the repository's URL and the package's
version.
"""

from __future__ import annotations

import re
from pathlib import Path

__all__ = ["INSTALL_LINE", "install_source", "write_install_source", "configured_install"]

#: The line of a chapter's set-up cell that the build fills in.
INSTALL_LINE = re.compile(r"^RNNCOURSE_INSTALL = None\b.*$", re.MULTILINE)


def install_source(template: str, repository_url: str, version: str) -> str:
    """The pip requirement a downloaded chapter installs: ``template`` filled in.

    Parameters
    ----------
    template : str
        A pip requirement that may use ``{repository_url}`` and ``{version}``, e.g.
        ``"rnncourse[torch] @ git+{repository_url}@v{version}"``.
    repository_url : str
        The repository's URL; a trailing ``/`` is dropped.
    version : str
        The package's version.

    Returns
    -------
    str
    """
    return template.format(repository_url=repository_url.rstrip("/"), version=version)


def write_install_source(text: str, source: str) -> str:
    """``text`` with its set-up cell's ``RNNCOURSE_INSTALL = None`` line set to ``source``.

    Parameters
    ----------
    text : str
        A chapter's text; only the first such line changes.
    source : str
        The pip requirement, from :func:`install_source`.

    Returns
    -------
    str
    """
    return INSTALL_LINE.sub(lambda _: f"RNNCOURSE_INSTALL = {source!r}  # this book's release", text, count=1)


def configured_install(root) -> str | None:
    """What the book's build writes into each set-up cell: ``rnncourse_install`` of ``root/_config.yml``, filled
    with the repository's URL and this package's version.

    A ``ValueError`` for a ``_config.yml`` that is not a YAML mapping, or whose ``rnncourse_install``
    is not a string with only those two fields (or uses the URL without ``repository.url``).

    Parameters
    ----------
    root : str or pathlib.Path
        The book's folder, which holds ``_config.yml``.

    Returns
    -------
    str or None
        The pip requirement; ``None`` where the book has no ``_config.yml`` or names nothing to install.
    """
    import yaml

    import rnncourse

    path = Path(root) / "_config.yml"
    if not path.is_file():
        return None
    try:
        config = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as err:
        raise ValueError(f"{path}: expected the book's configuration, got a file YAML cannot read ({err})") from err
    if not isinstance(config, dict):
        raise ValueError(f"{path}: expected the book's configuration (a YAML mapping), got a {type(config).__name__}")
    template = ((config.get("sphinx") or {}).get("config") or {}).get("rnncourse_install")
    if not template:
        return None
    url = (config.get("repository") or {}).get("url")
    if not isinstance(template, str) or ("{repository_url}" in template and not (isinstance(url, str) and url)):
        raise ValueError(f"{path}: expected rnncourse_install to be a pip requirement (a string) and, where it uses "
                         f"{{repository_url}}, repository.url to be set; got {template!r} and {url!r}")
    try:
        return install_source(template, url or "", rnncourse.__version__)
    except (KeyError, IndexError):
        raise ValueError(f"{path}: rnncourse_install may use the fields {{repository_url}} and {{version}} only, but "
                         f"is {template!r}") from None
