"""Plain markdown for the student notebooks handed out.

The chapters' prose is MyST, which only the book (Sphinx) and JupyterLab with jupyterlab-myst
render; Colab and a plain Jupyter read CommonMark and show an ``{exercise}`` as a code block and
``{eq}`label``` as it is written. The student book (:mod:`rnncourse.exercises.student_book`) is built
from :func:`~rnncourse.exercises.student.student_notebook`, not from the written files, so it keeps
MyST, and only :func:`~rnncourse.exercises.student.write_student_notebooks` converts, with
:func:`plain_notebook`:

- an exercise becomes ``**Exercise 4.1**`` and its statement, numbered as sphinx-exercise numbers it (the
  chapter's number, the two digits its file name starts with, and the exercise's place in the chapter);
- a dropdown (a hint) becomes ``<details><summary>Hint</summary> ... </details>``, any other admonition a
  quote under its title in bold; a ``{raw} html`` block its HTML, with a picture of the book's own files
  replaced by its alt text; any other directive a quote under its name;
- a ``{math}`` block becomes display math between two pairs of dollar signs, with ``\\tag{4.2}`` where
  it is labelled (a line break wrapped in ``split``, as Sphinx does); a ``(label)=`` line goes;
- a reference becomes the text the book shows: ``{eq}`` "(4.2)", ``{numref}`` "Fig. 4.1", "chapter 4",
  "Exercise 5.5", ``{ref}`` the section's title in italics (with its chapter, when another), from the
  labels of all chapters (:func:`book_index`); a label of no chapter is written out in words;
- ``{cite}`` becomes "[Elman, 1990]" from the book's ``.bib`` files (the key where it is missing);
- ``{glue:text}`key``` becomes "⟨``key``⟩": the value is known only once the chapter has run, and the
  key is the name the code cell that computes it passes to ``glue``;
- a figure's caption, held by its code cell's metadata, follows the cell as a markdown cell
  "**Fig. 4.1.** caption", so that "Fig. 4.1" in the text names something the reader sees.

Code cells are left as they are.
"""

from __future__ import annotations

import copy
import re
from dataclasses import dataclass, field
from pathlib import Path

from markdown_it import MarkdownIt
from mdit_py_plugins.colon_fence import colon_fence_plugin

__all__ = ["directives", "Target", "BookIndex", "chapter_targets", "read_citations", "book_index", "plain_markdown",
           "plain_notebook"]

#: The parser of the chapters' markdown (CommonMark, and MyST's colon fences).
MARKDOWN = MarkdownIt("commonmark").use(colon_fence_plugin)
LABEL_LINE = re.compile(r"^[ \t]*\(([^()\s]+)\)=[ \t]*$\n?", re.MULTILINE)
LABELLED_HEADING = re.compile(r"^\(([^()\s]+)\)=[ \t]*\n(#+)[ \t]+(.+?)[ \t#]*$", re.MULTILINE)
DOLLAR_LABEL = re.compile(r"^([ \t]*)\$\$[ \t]*\(([^()\s]+)\)[ \t]*$", re.MULTILINE)
OPTION = re.compile(r"^:([\w-]+):[ \t]*(.*)$")
#: A role, ``{name}`text```, not preceded by a backtick (so ```{solution}``` in inline code is no role).
ROLE = re.compile(r"(?<!`)\{([a-z][\w:-]*)\}`([^`]+)`")
EXPLICIT = re.compile(r"^(.*?)\s*<([^<>]+)>$", re.DOTALL)
LOCAL_IMAGE = re.compile(r"<img\b(?![^>]*\bsrc=\"https?:)[^>]*?\balt=\"([^\"]*)\"[^>]*>")
NUMREF_FORMAT = {"chapter": "chapter %s", "figure": "Fig. %s", "equation": "(%s)", "exercise": "Exercise %s",
                 "section": "section %s"}


@dataclass(frozen=True)
class Target:
    """What a label of the book names.

    Parameters
    ----------
    kind : str
        ``"chapter"``, ``"section"``, ``"figure"``, ``"equation"`` or ``"exercise"``.
    chapter : int
        The number of the chapter it is in.
    number : str
        The number the book shows (``"4"``, ``"4.2"``); ``""`` for a section.
    title : str
        The heading of a chapter or section, the caption of a figure; ``""`` for the others.
    """

    kind: str
    chapter: int
    number: str
    title: str = ""


@dataclass
class BookIndex:
    """What plain markdown needs to know of the whole book.

    Parameters
    ----------
    targets : dict
        ``{label: Target}`` of every chapter, the labels in lower case (:meth:`BookIndex.find` looks them up).
    citations : dict
        ``{bibtex key: (authors, year)}``, e.g. ``{"elman1990finding": ("Elman", "1990")}``.
    """

    targets: dict = field(default_factory=dict)
    citations: dict = field(default_factory=dict)

    def find(self, label):
        """The :class:`Target` of ``label`` (in any case), or ``None``.

        Parameters
        ----------
        label : str or None
            The label.
        """
        return self.targets.get(label.strip().lower()) if label else None


def _options(body: str) -> tuple:
    """``({option: value}, rest)`` of a directive's body: the ``:name: value`` lines that open it."""
    lines, options = body.split("\n"), {}
    while lines and OPTION.match(lines[0]):
        name, value = OPTION.match(lines.pop(0)).groups()
        options[name] = value.strip()
    return options, "\n".join(lines).strip("\n")


def _fences(text: str) -> list:
    """The fenced directives of ``text`` as markdown-it tokens; a fence nested in one is in its content."""
    return [token for token in MARKDOWN.parse(text) if token.type in ("fence", "colon_fence") and token.map
            and re.fullmatch(r"\{.*\}", (token.info.split() or [""])[0])]


def chapter_targets(nb, chapter: int) -> dict:
    """The labels of one chapter, numbered as the book numbers them.

    Chapters and sections are the headings under a ``(label)=`` line; figures the code cells whose
    metadata names one (``mystnb: figure: name:``); equations the labelled ``{math}`` blocks and the
    dollar-sign blocks with a label after their closing pair; exercises every ``{exercise}``. Each kind is counted from 1 in the chapter.

    Parameters
    ----------
    nb : nbformat.NotebookNode
        The chapter.
    chapter : int
        Its number (``4`` for ``04_bptt.md``).

    Returns
    -------
    dict
        ``{label: Target}``.
    """
    found = []                                   # (cell, line, kind, label, title), in the order of the text
    for i, cell in enumerate(nb.cells):
        if cell.cell_type == "code":
            figure = cell.metadata.get("mystnb", {}).get("figure", {})
            if figure.get("name"):
                found.append((i, 0, "figure", figure["name"], figure.get("caption", "").strip()))
            continue
        text = cell.source
        for m in LABELLED_HEADING.finditer(text):
            kind = "chapter" if len(m.group(2)) == 1 else "section"
            found.append((i, text.count("\n", 0, m.start()), kind, m.group(1), m.group(3)))
        for m in DOLLAR_LABEL.finditer(text):
            found.append((i, text.count("\n", 0, m.start()), "equation", m.group(2), ""))
        lines = text.split("\n")
        for start, end, name in directives(text):
            label = _options("\n".join(lines[start + 1:end]))[0].get("label")
            if name == "exercise" or (name == "math" and label):
                found.append((i, start, "equation" if name == "math" else "exercise", label, ""))
    targets, counts = {}, {}
    for _, _, kind, label, title in sorted(found, key=lambda f: f[:2]):
        counts[kind] = counts.get(kind, 0) + 1
        number = {"chapter": str(chapter), "section": ""}.get(kind, f"{chapter}.{counts[kind]}")
        if label:                                # Sphinx's labels ignore case
            targets[label.lower()] = Target(kind, chapter, number, title)
    return targets


def _surname(author: str) -> str:
    """``"Schmidhuber, J{\\"u}rgen"`` -> ``"Schmidhuber"``; LaTeX braces and accents dropped."""
    name = author.split(",")[0] if "," in author else author.split()[-1]
    return re.sub(r"\\[^a-zA-Z]|\\[a-zA-Z]+\s*|[{}]", "", name).strip()


def read_citations(paths) -> dict:
    """``{key: (authors, year)}`` of BibTeX files, the authors as the book cites them ("Elman", "Kingma and
    Ba", "Rumelhart et al.").

    Parameters
    ----------
    paths : iterable of str or pathlib.Path
        The ``.bib`` files.
    """
    citations = {}
    for path in paths:
        for entry in re.split(r"^@", Path(path).read_text(encoding="utf-8"), flags=re.MULTILINE)[1:]:
            key = re.match(r"\w+\s*\{\s*([^,\s]+)\s*,", entry)
            author = re.search(r"^\s*author\s*=\s*[{\"](.*)[}\"]\s*,?\s*$", entry, re.MULTILINE | re.IGNORECASE)
            year = re.search(r"^\s*year\s*=\s*[{\"]?(\d+)", entry, re.MULTILINE | re.IGNORECASE)
            if not (key and author and year):
                continue
            names = [_surname(a) for a in re.split(r"\s+and\s+", author.group(1))]
            authors = f"{names[0]} et al." if len(names) > 2 else " and ".join(names)
            citations[key.group(1)] = (authors, year.group(1))
    return citations


def book_index(notebooks: dict, bib_paths=()) -> BookIndex:
    """The labels of all chapters and the book's citations.

    Parameters
    ----------
    notebooks : dict
        ``{chapter number: notebook}``.
    bib_paths : iterable of str or pathlib.Path
        The book's BibTeX files.
    """
    targets = {}
    for chapter, nb in notebooks.items():
        targets.update(chapter_targets(nb, chapter))
    return BookIndex(targets, read_citations(bib_paths))


def _math(body: str, number: str = "") -> str:
    """A math block as ``$$ ... $$``, written as Sphinx writes it for MathJax: an equation with a line break
    in ``split``, several equations (blank lines between them) in ``aligned``; ``\\tag{number}`` where it is
    numbered."""
    parts = [part.strip("\n") for part in re.split(r"\n[ \t]*\n", body) if part.strip()]
    parts = [r"\begin{split}" + part + r"\end{split}" if r"\\" in part else part for part in parts]
    math = " \\\\\n".join(parts)
    if len(parts) > 1:
        math = r"\begin{aligned}" + math + r"\end{aligned}"
    tag = f"\n\\tag{{{number}}}" if number else ""
    return f"$$\n{math}{tag}\n$$"


def _quote(title: str, body: str) -> str:
    """A blockquote whose first line is ``title`` in bold."""
    lines = [f"**{title}**", "", *body.split("\n")] if body else [f"**{title}**"]
    return "\n".join(f"> {line}".rstrip() for line in lines)


def _details(summary: str, body: str) -> str:
    """A folded block; the blank lines around ``body`` let markdown inside it render."""
    return f"<details>\n<summary>{summary}</summary>\n\n{body}\n\n</details>"


def _directive(name: str, argument: str, body: str, index: BookIndex) -> str:
    """One directive of MyST as plain markdown (its body converted already)."""
    options, body = _options(body)
    if name == "exercise":
        target = index.find(options.get("label"))
        heading = f"**Exercise {target.number}**" if target else "**Exercise**"
        return heading + (f" ({argument})" if argument else "") + (f"\n\n{body}" if body else "")
    if name == "math":
        target = index.find(options.get("label"))
        return _math(body, target.number if target else "")
    if name == "raw":
        return LOCAL_IMAGE.sub(r"<p><em>(Picture in the book: \1)</em></p>", body) if argument == "html" else ""
    if name in ("code", "code-block", "sourcecode"):
        return f"```{argument}\n{body}\n```"
    titled = name in ("admonition", "dropdown")     # the others' argument is the first line of their text
    title = (argument if titled else "") or name.capitalize()
    if argument and not titled:
        body = f"{argument}\n{body}".strip("\n")
    if name == "dropdown" or "dropdown" in options.get("class", "").split():
        return _details(title, body)
    return _quote(title, body)


def _plain_blocks(text: str, index: BookIndex) -> str:
    """Every fenced directive of ``text`` as plain markdown, the ones nested in it too."""
    lines = text.split("\n")
    for token in reversed(_fences(text)):
        start, end = token.map
        name, _, argument = token.info.strip()[1:].partition("}")
        new = _directive(name.strip().lower(), argument.strip(), _plain_blocks(token.content.rstrip("\n"), index),
                         index)
        indent = re.match(r"[ \t]*", lines[start]).group()
        lines[start:end] = ["", *(indent + line if line else "" for line in new.split("\n")), ""]
    return "\n".join(lines)


def _words(label: str) -> str:
    """A label of no chapter in words: ``"sec-ch03-training"`` -> ``"sec ch03 training"``."""
    return re.sub(r"[-_:]+", " ", label).strip()


def _citation(kind: str, keys: str, citations: dict) -> str:
    """``{cite}`` "[Elman, 1990]", ``{cite:p}`` "(Elman, 1990)", ``{cite:t}`` "Elman (1990)"."""
    found = [citations.get(key.strip(), (key.strip(), "")) for key in keys.split(",")]
    if kind == "cite:t":
        return "; ".join(f"{authors} ({year})" if year else authors for authors, year in found)
    text = "; ".join(f"{authors}, {year}" if year else authors for authors, year in found)
    return f"({text})" if kind == "cite:p" else f"[{text}]"


def _reference(kind: str, content: str, index: BookIndex, chapter: int) -> str:
    """An ``{eq}``, ``{numref}`` or ``{ref}`` as the text the book shows."""
    explicit = EXPLICIT.match(content)
    text, label = explicit.groups() if explicit else ("", content)
    target = index.find(label)
    if target is None:
        return text or (f"({label})" if kind == "eq" else _words(label))
    if kind == "numref" and target.number:
        template = text or NUMREF_FORMAT[target.kind]
        return template.replace("%s", target.number).replace("{number}", target.number).replace("{name}", target.title)
    if text:
        return text
    if target.kind in ("chapter", "section"):
        return f"*{target.title}*" + (f" (chapter {target.chapter})" if target.chapter != chapter else "")
    return NUMREF_FORMAT[target.kind] % target.number


def _role(name: str, content: str, index: BookIndex, chapter: int) -> str:
    """One role of MyST as plain markdown."""
    content = " ".join(content.split())
    if name in ("eq", "numref", "ref"):
        return _reference(name, content, index, chapter)
    if name in ("cite", "cite:p", "cite:t"):
        return _citation(name, content, index.citations)
    if name in ("glue", "glue:text"):
        return f"⟨`{content.split(':')[0]}`⟩"
    if name == "math":
        return f"${content}$"
    explicit = EXPLICIT.match(content)
    if explicit:                                 # {func}`the function <rnncourse.numpy.rnn_forward>`
        return f"`{explicit.group(1)}`"
    if content.startswith("~"):                  # {func}`~rnncourse.numpy.rnn_forward` shows rnn_forward
        return f"`{content.split('.')[-1]}`"
    return f"`{content}`"                        # {class}`torch.nn.RNN`, and a role plain markdown has no use for


def _tag(match, index: BookIndex) -> str:
    """``$$ (label)``, the end of a labelled equation, as ``\\tag{4.2}`` and ``$$``."""
    indent, label = match.groups()
    target = index.find(label)
    return f"{indent}\\tag{{{target.number if target else label}}}\n{indent}$$"


def plain_markdown(text: str, index: BookIndex | None = None, chapter: int = 0) -> str:
    """A markdown cell of MyST as CommonMark and HTML, which Colab and a plain Jupyter render.

    Parameters
    ----------
    text : str
        The cell.
    index : BookIndex or None
        The book's labels and citations (:func:`book_index`); ``None`` knows none, so a reference is
        written out from its label.
    chapter : int
        The number of the chapter the cell is in: a reference to a section of another chapter names it.

    Returns
    -------
    str
        The cell, with every directive, role and ``(label)=`` line converted.
    """
    index = index or BookIndex()
    text = _plain_blocks(LABEL_LINE.sub("", text), index)
    text = DOLLAR_LABEL.sub(lambda m: _tag(m, index), text)
    text = ROLE.sub(lambda m: _role(m.group(1), m.group(2), index, chapter), text)
    return re.sub(r"\n{3,}", "\n\n", text).strip("\n")


def plain_notebook(nb, index: BookIndex | None = None, chapter: int = 0):
    """A copy of ``nb`` whose markdown is plain (:func:`plain_markdown`), each figure's caption in a markdown
    cell after the code cell that draws it; code cells are left as they are.

    Parameters
    ----------
    nb : nbformat.NotebookNode
        The chapter (a student notebook).
    index : BookIndex or None
        The book's labels and citations (:func:`book_index`).
    chapter : int
        The chapter's number.
    """
    import nbformat

    index = index or BookIndex()
    out = copy.deepcopy(nb)
    cells = []
    for number, cell in enumerate(out.cells, start=1):
        if cell.cell_type == "markdown":
            cell.source = plain_markdown(cell.source, index, chapter)
        cells.append(cell)
        figure = cell.metadata.get("mystnb", {}).get("figure", {})
        if figure.get("caption"):
            target = index.find(figure.get("name"))
            title = f"**Fig. {target.number}.** " if target else ""
            caption = nbformat.v4.new_markdown_cell(title + plain_markdown(figure["caption"], index, chapter))
            caption["id"] = f"caption-{number}"             # the same on every run (nbformat's own is random)
            cells.append(caption)
    out.cells = cells
    return out


def directives(text: str, offset: int = 0) -> list:
    """``(first line, end line, name)`` of every fenced directive in ``text``, nested ones too.

    A fence (of backticks, or MyST's colons) is a directive as MyST reads it: the first word of its info
    string is ``{name}``, with or without spaces before it, in any case (``{Solution}``). The contents of a ``{solution}`` are not searched.

    Parameters
    ----------
    text : str
        A markdown cell.
    offset : int
        Added to the line numbers (the line of ``text`` within a larger text; default 0).

    Returns
    -------
    list
        ``(start, end, name)`` per directive: the 0-based lines it spans, ``end`` excluded, and its
        name in lower case.
    """
    found = []
    for token in MARKDOWN.parse(text):
        directive = re.fullmatch(r"\{(.*)\}", (token.info.split() or [""])[0])
        if token.type not in ("fence", "colon_fence") or not directive or not token.map:
            continue
        name = directive.group(1).lower()
        start, end = token.map[0] + offset, token.map[1] + offset
        found.append((start, end, name))
        if name != "solution":
            found += directives(token.content, start + 1)
    return found
