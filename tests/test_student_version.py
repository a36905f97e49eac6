"""The student version: solutions stripped from chapters into notebooks, and the book built without them.

The solution lines are found here independently of ``rnncourse.exercises.student`` (a plain
scan for the markers and the fences), so a region that the stripper missed is caught.
"""

from __future__ import annotations

import html
import json
import re
from collections import Counter
from pathlib import Path

import jupytext
import nbformat
import pytest
from markdown_it import MarkdownIt

from exercise_fixtures import ROOT, SENTINEL, chapter_text, instructor_notebook, write_book
from rnncourse.__main__ import main
from rnncourse.exercises.plain_markdown import BookIndex, Target, book_index, plain_markdown, plain_notebook
from rnncourse.exercises.student import (STUB, chapter_id, chapter_paths, strip_code, strip_markdown, student_notebook,
                                         write_student_notebooks)
from rnncourse.exercises.student_book import build_student_book, find_leaks

OPENING = re.compile(r"^\s*(`{3,}|~{3,}|:{3,})\s*\{(solution|solution-start)\}", re.IGNORECASE)


# ----------------------------------------------------------------------------- an independent reference

def solution_lines(text: str) -> list:
    """Every line of ``text`` (a MyST chapter) that belongs to a solution, found by a plain scan."""
    lines, found, i = text.splitlines(), [], 0
    while i < len(lines):
        line = lines[i]
        if line.strip().startswith("### BEGIN SOLUTION"):
            j = next(k for k in range(i, len(lines)) if lines[k].strip().startswith("### END SOLUTION"))
            found += lines[i + 1:j]
            i = j + 1
            continue
        opening = OPENING.match(line)
        if opening:
            fence, kind = opening.groups()
            close = re.compile(rf"^\s*{re.escape(fence[0])}{{{len(fence)},}}\s*$")
            if kind.lower() == "solution-start":     # the region ends with the closing fence of solution-end
                end = next(k for k in range(i, len(lines)) if "{solution-end}" in lines[k].lower())
                j = next(k for k in range(end + 1, len(lines)) if close.match(lines[k]))
            else:
                j = next(k for k in range(i + 1, len(lines)) if close.match(lines[k]))
            found += lines[i:j + 1]
            i = j + 1
            continue
        i += 1
    nb = jupytext.reads(text, fmt="md:myst")
    found += [line for c in nb.cells if "solution" in c.metadata.get("tags", []) for line in c.source.splitlines()]
    return found


def surviving_solution_lines(source: str, student_nb) -> list:
    """Solution lines of ``source`` that the student notebook holds more often than the rest of the chapter."""
    def norm(lines):
        return Counter(" ".join(line.split()) for line in lines if line.strip())

    solution = norm(solution_lines(source))
    allowed = norm(source.splitlines()) - solution
    student = norm(line for cell in student_nb.cells for line in cell.source.splitlines())
    return sorted(line for line in solution if student[line] > allowed[line])


# ----------------------------------------------------------------------------- stripping code

def test_a_marked_region_becomes_a_stub_at_its_indentation_keeping_signature_and_docstring():
    source = ('def rnn_step(x_t, h_prev,\n             W_xh, W_hh, b_h):\n    """One step."""\n'
              "    ### BEGIN SOLUTION\n    a_t = x_t @ W_xh.T\n\n    return np.tanh(a_t)\n    ### END SOLUTION\n")
    stripped, removed = strip_code(source)
    assert stripped == ('def rnn_step(x_t, h_prev,\n             W_xh, W_hh, b_h):\n    """One step."""\n'
                        f"    {STUB}")
    assert removed == ["    ### BEGIN SOLUTION", "    a_t = x_t @ W_xh.T", "", "    return np.tanh(a_t)",
                       "    ### END SOLUTION"]
    compile(stripped, "<stub>", "exec")
    assert strip_code("x = 1\n") == ("x = 1", [])


@pytest.mark.parametrize("source, message", [
    ("### BEGIN SOLUTION\nx = 1\n", "opened on line 1 has no '### END SOLUTION'"),
    ("x = 1\n### END SOLUTION\n", "'### END SOLUTION' on line 2 without"),
    ("### BEGIN SOLUTION\n### BEGIN SOLUTION\n### END SOLUTION\n", "on line 2 inside the solution opened on line 1"),
])
def test_unbalanced_markers_are_errors_that_say_where(source, message):
    with pytest.raises(ValueError, match=re.escape(message)):
        strip_code(source, "04_bptt.md, cell 7")


# ----------------------------------------------------------------------------- stripping prose

def test_solution_directives_go_with_everything_nested_in_them():
    text = ("Intro.\n\n````{solution} ex-1\n:label: sol-1\n:class: dropdown\n\nProse.\n\n```python\ncode = 1\n```\n"
            ":::\n````\n\n::::{solution} ex-2\n:::{note}\nInner.\n:::\n::::\n\n"
            "```{exercise}\n:label: ex-3\nKeep me.\n```\n\nOutro.")
    kept, removed, inside = strip_markdown(text)
    assert kept == "Intro.\n\n```{exercise}\n:label: ex-3\nKeep me.\n```\n\nOutro."
    assert "code = 1" in removed and "Inner." in removed and not inside


def test_a_solution_nested_in_another_directive_is_found():
    text = "`````{admonition} Box\n````{solution} ex-1\nSecret.\n````\nVisible.\n`````"
    kept, removed, _ = strip_markdown(text)
    assert "Secret." not in kept and "Visible." in kept


def test_a_gated_solution_spans_cells():
    kept, _, inside = strip_markdown("Before.\n\n```{solution-start} ex-1\n```\nSecret prose.")
    assert (kept, inside) == ("Before.", True)
    kept, removed, inside = strip_markdown("More secret.\n```{solution-end}\n```\n\nAfter.", inside=True)
    assert (kept, inside) == ("After.", False) and "More secret." in removed
    with pytest.raises(ValueError, match="solution-end on line 1 without a solution-start"):
        strip_markdown("```{solution-end}\n```")


@pytest.mark.parametrize("solution", [
    "``` {solution} ex-1\nSecret prose.\n```", "::: {solution} ex-1\nSecret prose.\n:::",
    "```{Solution} ex-1\nSecret prose.\n```", "~~~\t{SOLUTION} ex-1\nSecret prose.\n~~~",
    "``` {Solution-start} ex-1\n```\nSecret prose.\n:::  {solution-end}\n:::"])
def test_a_solution_is_found_however_myst_lets_its_fence_be_written(solution):
    # MyST reads the info string's first word with the spaces before it dropped; directive names ignore case.
    kept, removed, inside = strip_markdown(f"Before.\n\n{solution}\n\nAfter.")
    assert (kept, inside) == ("Before.\n\nAfter.", False) and "Secret prose." in removed


def test_the_leak_check_reports_a_solution_fence_left_in_the_site(tmp_path):
    # A solution the stripper missed stays among the student sources, so its lines count as kept, not
    # removed: only its opening fence gives it away. Naming the directive in prose is no leak.
    page = "A `{solution}` block folds.\n\n``` {Solution} ex-1\nThe answer is forty-two thousand.\n```\n"
    (tmp_path / "page.md").write_text(page)
    assert find_leaks(tmp_path, [], page.splitlines()) == [(str(tmp_path / "page.md"), "``` {Solution} ex-1")]


# ----------------------------------------------------------------------------- the fixture chapter

@pytest.fixture(scope="module")
def student_fixture():
    return student_notebook(instructor_notebook(), "ch99", "99_fixture.md")


def test_the_fixture_student_notebook_holds_no_solution_line(student_fixture):
    nb, removed = student_fixture
    assert surviving_solution_lines(chapter_text(), nb) == []
    text = json.dumps(nb)
    assert not SENTINEL.search(text) and "BEGIN SOLUTION" not in text and "{solution" not in text
    # The control: the same scan finds the solutions in the instructor's notebook.
    assert len(surviving_solution_lines(chapter_text(), instructor_notebook())) >= 12


def test_the_fixture_student_notebook_keeps_exercises_stubs_and_checks(student_fixture):
    nb, _ = student_fixture
    code = [c for c in nb.cells if c.cell_type == "code"]
    stubs = [c for c in code if STUB in c.source]
    assert [re.match(r"def (\w+)", c.source).group(1) for c in stubs] == [
        "double", "rnn_step", "step_backward", "mean_squared_error"]
    assert all({"raises-exception", "remove-output"} <= set(c.metadata["tags"]) for c in stubs)
    checks = [c for c in code if c.source.startswith("check(")]
    assert len(checks) == 4 and all("remove-output" in c.metadata["tags"] for c in checks)
    assert "raises-exception" in code[-1].metadata["tags"]          # the later cell that calls double()
    assert all(c.outputs == [] and c.execution_count is None for c in code)
    markdown = "\n".join(c.source for c in nb.cells if c.cell_type == "markdown")
    assert "Why does the hidden state forget?" in markdown and "{exercise}" in markdown
    assert nb.metadata["rnncourse"] == {"chapter": "ch99"} and "jupytext" not in nb.metadata
    nbformat.validate(nb)


@pytest.mark.parametrize("path, chapter", [("book/04_bptt.md", "ch04"), ("04_bptt.ipynb", "ch04"),
                                           ("/home/ann/09_x_final.ipynb", "ch09"), ("hand-in.ipynb", "?"),
                                           ("4_bptt.md", "?"), ("04bptt.md", "?"), ("book/04_x/ann.ipynb", "?")])
def test_a_chapter_is_named_by_the_two_digits_that_start_its_file_name(path, chapter):
    assert chapter_id(path) == chapter


def test_the_student_command_writes_one_cleared_notebook_per_chapter(tmp_path, capsys):
    root = write_book(tmp_path / "src")
    assert main(["student", str(tmp_path / "out"), "--book", str(root), "--no-book"]) == 0
    assert "1 student notebooks" in capsys.readouterr().out
    written = tmp_path / "out" / "notebooks" / "99_fixture.ipynb"
    nb = nbformat.read(written, as_version=4)
    assert not SENTINEL.search(written.read_text())
    assert surviving_solution_lines(chapter_text(), nb) == []


def test_the_student_command_strips_solutions_whose_fence_has_a_space_or_a_capital(tmp_path, capsys):
    root = write_book(tmp_path / "src")
    chapter = root / "book" / "99_fixture.md"
    text = chapter.read_text().replace("````{solution}", "```` {solution}").replace(":::{solution}", "::: {Solution}")
    chapter.write_text(text)
    assert main(["student", str(tmp_path / "out"), "--book", str(root), "--no-book"]) == 0
    written = tmp_path / "out" / "notebooks" / "99_fixture.ipynb"
    assert not SENTINEL.search(written.read_text()), capsys.readouterr().out
    assert surviving_solution_lines(text, nbformat.read(written, as_version=4)) == []


def test_a_handed_out_notebook_installs_this_release_where_rnncourse_is_missing(tmp_path, capsys):
    # As on the book's pages (rnncourse.sphinxext fills them), so the notebook runs in Colab or a fresh Jupyter.
    import shutil

    import yaml

    import rnncourse
    from rnncourse.sphinxext import install_source, write_install_source

    root = write_book(tmp_path / "src")
    shutil.copy(ROOT / "book" / "02_structure.md", root / "book")
    assert main(["student", str(tmp_path / "out"), "--book", str(root), "--no-book"]) == 0
    config = yaml.safe_load((ROOT / "_config.yml").read_text(encoding="utf-8"))
    source = install_source(config["sphinx"]["config"]["rnncourse_install"], config["repository"]["url"],
                            rnncourse.__version__)
    setup = next(c for c in nbformat.read(tmp_path / "out" / "notebooks" / "02_structure.ipynb", as_version=4).cells
                 if c.cell_type == "code")
    book_setup = next(c for c in jupytext.read(ROOT / "book" / "02_structure.md").cells if c.cell_type == "code")
    assert "RNNCOURSE_INSTALL = None" in book_setup.source
    assert setup.source == write_install_source(book_setup.source, source)
    assert f"RNNCOURSE_INSTALL = {source!r}" in setup.source

    # A book that names no install source leaves the line as it is (the cell then asks for pip install).
    config["sphinx"]["config"].pop("rnncourse_install")
    (root / "_config.yml").write_text(yaml.safe_dump(config))
    assert main(["student", str(tmp_path / "out2"), "--book", str(root), "--no-book"]) == 0
    setup = next(c for c in nbformat.read(tmp_path / "out2" / "notebooks" / "02_structure.ipynb", as_version=4).cells
                 if c.cell_type == "code")
    assert setup.source == book_setup.source
    (root / "_config.yml").write_text("- a list\n")
    assert main(["student", str(tmp_path / "out3"), "--book", str(root), "--no-book"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "_config.yml: expected the book's configuration (a YAML mapping), got a list" in err
    # A mistyped field or a missing repository URL is one line too, not a traceback or a line pip rejects
    # ("rnncourse[torch] @ git+@v0.1.0").
    for install, repository, message in (
            ("rnncourse[torch] @ git+{repo_url}@v{version}", {"url": "https://x/y"},
             "may use the fields {repository_url} and {version} only"),
            ("rnncourse[torch] @ git+{repository_url}@v{version}", {}, "repository.url to be set"),
            ("rnncourse[torch] @ git+{repository_url}@v{version}", {"url": None}, "repository.url to be set")):
        config["sphinx"]["config"]["rnncourse_install"] = install
        config["repository"] = repository
        (root / "_config.yml").write_text(yaml.safe_dump(config))
        assert main(["student", str(tmp_path / "out4"), "--book", str(root), "--no-book"]) == 2
        err = capsys.readouterr().err
        assert err.count("\n") == 1 and message in err, err


def _broken_book(root: Path, name: str, text: str) -> Path:
    (root / "book").mkdir(parents=True)
    (root / "_toc.yml").write_text("format: jb-book\nroot: book/intro\n")
    if name:
        (root / "book" / name).write_text(text)
    return root


def test_bad_input_to_the_student_command_is_one_line_and_status_2(tmp_path, capsys):
    unclosed = chapter_text().replace("    ### END SOLUTION\n", "", 1)
    (tmp_path / "a_file").write_text("")
    good = str(write_book(tmp_path / "good"))
    cases = [(["--book", str(_broken_book(tmp_path / "b1", "99_fixture.md", unclosed))],
              "99_fixture.md, cell 6: the solution opened on line 3 has no '### END SOLUTION'"),
             (["--book", str(_broken_book(tmp_path / "b2", "01_x.ipynb", "{not json"))],
              "01_x.ipynb: expected a chapter Jupytext can read, got NotJSONError"),
             (["--book", str(_broken_book(tmp_path / "b3", "", ""))], "expected chapters (NN_slug.md) in"),
             (["--book", str(tmp_path / "nowhere")], f"--book: expected a folder with _toc.yml and book/ in it, "
                                                     f"got {tmp_path / 'nowhere'}")]
    for args, message in cases:
        assert main(["student", str(tmp_path / "out"), "--no-book", *args]) == 2
        err = capsys.readouterr().err
        assert err.count("\n") == 1 and message in err, err
    assert main(["student", str(tmp_path / "a_file" / "out"), "--no-book", "--book", good]) == 2
    assert capsys.readouterr().err == ("no student notebooks written: expected a folder to write in, but "
                                       f"{tmp_path / 'a_file' / 'out' / 'notebooks'}: Not a directory\n")
    # A later chapter whose header YAML cannot read: one line (the YAML error spans eight), and true to its
    # word: the chapter before it is not written either.
    two = write_book(tmp_path / "two")
    (two / "book" / "99_zzz.md").write_text(chapter_text().replace("kernelspec:", "kernelspec: [", 1))
    assert main(["student", str(tmp_path / "out3"), "--no-book", "--book", str(two)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("no student notebooks written: 99_zzz.md") and err.count("\n") == 1, err
    assert not (tmp_path / "out3" / "notebooks").exists()


def test_the_student_book_is_refused_before_building_without_jupyter_book_or_with_html_a_file(
        tmp_path, capsys, monkeypatch):
    root = str(write_book(tmp_path / "src"))
    (tmp_path / "out").mkdir()
    (tmp_path / "out" / "html").write_text("")
    assert main(["student", str(tmp_path / "out"), "--book", root]) == 2
    assert f"{tmp_path / 'out' / 'html'} is a file: expected a folder" in capsys.readouterr().err
    monkeypatch.setattr("sys.executable", str(tmp_path / "bin" / "python"))
    monkeypatch.setenv("PATH", str(tmp_path / "bin"))
    assert main(["student", str(tmp_path / "out2"), "--book", root]) == 2
    out, err = capsys.readouterr()
    assert "1 student notebooks" in out and err.count("\n") == 1
    assert "jupyter-book is not installed" in err and "pip install 'rnncourse[book]'" in err and "--no-book" in err


def test_a_student_book_with_a_solution_in_it_replaces_nothing(tmp_path, monkeypatch):
    # A build whose site holds a solution line (here a stand-in for jupyter-book writes one) is refused, and
    # the folder an instructor publishes keeps what it had: it used to receive the leaky site first.
    import subprocess

    import rnncourse.exercises.student_book as student_book

    root = write_book(tmp_path / "src")
    solution = next(line.strip() for line in chapter_text().splitlines() if SENTINEL.search(line) and "=" in line)

    def leaky_build(cmd, cwd, **kwargs):
        site = Path(cwd) / "_build" / "html"
        site.mkdir(parents=True)
        (site / "index.html").write_text(f"<pre>{solution}</pre>")
        return subprocess.CompletedProcess(cmd, 0, "", "")
    monkeypatch.setattr(student_book.subprocess, "run", leaky_build)
    published = tmp_path / "out" / "html"
    published.mkdir(parents=True)
    (published / "index.html").write_text("the last clean site")
    with pytest.raises(RuntimeError, match=r"^1 solution lines are in the student book \(nothing written to .*\):\n"
                                           r"  index.html: "):
        build_student_book(root, tmp_path / "out")
    assert (published / "index.html").read_text() == "the last clean site"


@pytest.mark.book
def test_the_student_book_builds_executed_with_no_solution_anywhere(tmp_path):
    root = write_book(tmp_path / "src")
    site = build_student_book(root, tmp_path / "out")
    page = (site / "book" / "99_fixture.html").read_text()
    assert "Why does the hidden state forget?" in page            # the exercises are there
    assert "tanh(0.5) = 0.4621" in page                           # and the chapter was executed
    assert "Solution to" not in page and "solution-content" not in page
    files = [p for p in site.rglob("*") if p.is_file()]
    assert not [str(p) for p in files if SENTINEL.search(p.read_bytes().decode("utf-8", "replace"))]
    assert find_leaks(site, [line for line in chapter_text().splitlines() if SENTINEL.search(line)], []) == []


# ----------------------------------------------------------------------------- the real chapters

REAL = chapter_paths(ROOT / "book")


@pytest.mark.parametrize("path", REAL, ids=[p.name for p in REAL])
def test_no_solution_line_of_a_real_chapter_survives_in_its_student_notebook(path):
    source = path.read_text(encoding="utf-8")
    nb, removed = student_notebook(jupytext.read(path), f"ch{path.name[:2]}", path.name)
    assert surviving_solution_lines(source, nb) == []
    n_regions = source.count("### BEGIN SOLUTION")
    assert sum(c.source.count(STUB) for c in nb.cells if c.cell_type == "code") == n_regions
    assert "### BEGIN SOLUTION" not in json.dumps(nb)

@pytest.mark.parametrize("path", REAL, ids=[p.name for p in REAL])
def test_a_cell_that_computes_a_worked_solution_is_tagged_solution_and_leaves(path):
    # A conceptual exercise's worked solution may compute its numbers in a folded cell ("# Solution 3,
    # computed."); the folding hides it in the book, but only the tag keeps it out of the students' notebook.
    book = jupytext.read(path)
    computing = [c for c in book.cells if c.cell_type == "code" and c.source.lstrip().startswith("# Solution")]
    assert all("solution" in c.metadata.get("tags", []) for c in computing), path.name
    nb, _ = student_notebook(book, f"ch{path.name[:2]}", path.name)
    assert not [c for c in nb.cells if c.cell_type == "code" and c.source.lstrip().startswith("# Solution")]



# `python -m rnncourse times` is tested on the faulty book of tests/test_book_build.py.


def test_solution_cells_are_folded_in_the_book_but_the_stub_is_shown_to_students():
    book = jupytext.read(ROOT / "book" / "02_structure.md")
    solutions = [c for c in book.cells if "### BEGIN SOLUTION" in c.source]
    assert solutions and all("hide-input" in c.metadata.get("tags", []) for c in solutions)
    student, _ = student_notebook(book, "ch02")
    stubs = [c for c in student.cells if "NotImplementedError" in c.source]
    assert len(stubs) == len(solutions)
    assert all("hide-input" not in c.metadata.get("tags", []) for c in stubs)


def test_a_command_whose_optional_extra_is_missing_names_the_extra_to_install(tmp_path):
    # Installed as rnncourse[torch] only, `rnncourse student` lacks markdown-it (the instructor extra):
    # one line naming the extra, status 2, no traceback.
    import subprocess
    import sys
    code = ("import sys; sys.modules['markdown_it'] = None\n"
            "from rnncourse.__main__ import main; sys.exit(main(sys.argv[1:]))")
    run = subprocess.run([sys.executable, "-c", code, "student", str(tmp_path / "out"), "--no-book"],
                         capture_output=True, text=True, cwd=ROOT)
    assert run.returncode == 2, run.stderr
    assert "needs markdown_it, which is not installed: pip install 'rnncourse[instructor]'" in run.stderr
    assert "Traceback" not in run.stderr


# ----------------------------------------------------------------------------- plain markdown, handed out

#: Roughly what Colab and a plain Jupyter render: CommonMark, with no MyST.
COMMONMARK = MarkdownIt("commonmark")
MYST_LEFT = ["{exercise}", "{admonition}", ":label:", "{eq}", "{numref}", "{ref}", "{cite}", "{glue", "{math}",
             "language-{", "}<code>"]


def rendered_text(html_text: str) -> str:
    """The words of rendered HTML, tags dropped and spaces made one."""
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", html_text)).split())


def prose_words(line: str) -> set:
    """The words of four letters or more of a line of MyST, its roles left out (their text is converted)."""
    return set(re.findall(r"[A-Za-z]{4,}", re.sub(r"\{[\w:-]+\}`[^`]*`", " ", line)))


def first_prose_lines(text: str, opening: str) -> list:
    """The first line of prose of each block of ``text`` whose fence matches ``opening``, found by a plain scan."""
    lines = text.splitlines()
    return [next(line for line in lines[i + 1:] if line.strip() and not line.startswith(":"))
            for i, line in enumerate(lines) if re.match(opening, line)]


@pytest.fixture(scope="module")
def handed_out(tmp_path_factory):
    out = tmp_path_factory.mktemp("handed-out")
    write_student_notebooks(ROOT / "book", out)
    return out


@pytest.mark.parametrize("path", REAL, ids=[p.name for p in REAL])
def test_a_handed_out_notebook_reads_well_in_plain_jupyter(path, handed_out):
    # The audit: in Colab an exercise showed as a code block "language-{exercise}" with ":label:" and the hint's
    # ":::{admonition}" in it, and {eq}`label` as written.
    source = path.read_text(encoding="utf-8")
    nb = nbformat.read(handed_out / f"{path.stem}.ipynb", as_version=4)
    nbformat.validate(nb)
    cells = [COMMONMARK.render(c.source) for c in nb.cells if c.cell_type == "markdown"]
    page = "\n".join(cells)
    assert [s for s in MYST_LEFT if s in page] == []
    text = rendered_text(page)
    exercises = first_prose_lines(source, r"`{3,}\{exercise\}")
    assert exercises and all(prose_words(line) <= set(re.findall(r"[A-Za-z]+", text)) for line in exercises)
    assert [f"Exercise {int(path.name[:2])}.{k}" for k in range(1, len(exercises) + 1)] == \
        re.findall(r"<strong>(Exercise \d+\.\d+)</strong>", page)
    folded = [set(re.findall(r"[A-Za-z]+", rendered_text(span)))
              for cell in cells for span in re.findall(r"<details>(.*?)</details>", cell, re.DOTALL)]
    hints = first_prose_lines(source, r":{3,}\{admonition\} Hint")
    assert len(folded) == len(hints) and all(any(prose_words(h) <= words for words in folded) for h in hints)
    # Code cells are as in the student notebook (the set-up cell gets the install source).
    student, _ = student_notebook(jupytext.read(path), chapter_id(path), path.name)
    code = [c.source for c in nb.cells if c.cell_type == "code"]
    assert len(code) == len([c for c in student.cells if c.cell_type == "code"])
    assert [s for s in code if "RNNCOURSE_INSTALL" not in s] == \
        [c.source for c in student.cells if c.cell_type == "code" and "RNNCOURSE_INSTALL" not in c.source]


def test_an_exercise_and_its_hint_become_a_bold_heading_and_a_folded_block():
    index = BookIndex({"ex-ch04-1": Target("exercise", 4, "4.1")})
    text = ("## Exercises\n\n```{exercise}\n:label: ex-ch04-1\n\nWrite it.\n\n:::{admonition} Hint\n:class: dropdown\n"
            "First go through the *tanh*.\n:::\n```\n\nAfter.")
    assert plain_markdown(text, index) == ("## Exercises\n\n**Exercise 4.1**\n\nWrite it.\n\n<details>\n"
                                           "<summary>Hint</summary>\n\nFirst go through the *tanh*.\n\n</details>\n\n"
                                           "After.")
    assert "<em>tanh</em>" in COMMONMARK.render(plain_markdown(text, index))    # markdown inside the fold renders
    assert plain_markdown("```{exercise} Shapes\nNo label.\n```") == "**Exercise** (Shapes)\n\nNo label."
    assert plain_markdown(":::{note}\nMind the *shape*.\n\nTwice.\n:::") == \
        "> **Note**\n>\n> Mind the *shape*.\n>\n> Twice."


def test_math_blocks_and_references_read_as_the_book_numbers_them():
    index = BookIndex({"eq-a": Target("equation", 4, "4.2"), "fig-b": Target("figure", 4, "4.1", "A graph."),
                       "ch-structure": Target("chapter", 2, "2", "The structure"),
                       "sec-c": Target("section", 4, "", "Notation")},
                      {"elman1990finding": ("Elman", "1990"), "kingma2014adam": ("Kingma and Ba", "2015")})
    assert plain_markdown("```{math}\n:label: eq-A\n\na \\\\\nb\n```", index) == \
        "$$\n\\begin{split}a \\\\\nb\\end{split}\n\\tag{4.2}\n$$"
    assert plain_markdown("$$\nx\n$$ (eq-a)", index) == "$$\nx\n\\tag{4.2}\n$$"
    line = ("{eq}`eq-a`, {numref}`fig-b`, {numref}`chapter %s <ch-structure>`, {ref}`ch-structure`, {ref}`sec-c`, "
            "{ref}`that part <sec-c>`, {eq}`eq-none`, {ref}`sec-ch03-training`, "
            "{cite}`elman1990finding,kingma2014adam`, {cite:t}`elman1990finding`, {cite}`nobody2020`, "
            "{glue:text}`ch04_worst:.3f`, {class}`torch.nn.RNN`")
    assert plain_markdown(line, index, chapter=4) == (
        "(4.2), Fig. 4.1, chapter 2, *The structure* (chapter 2), *Notation*, that part, (eq-none), sec ch03 "
        "training, [Elman, 1990; Kingma and Ba, 2015], Elman (1990), [nobody2020], ⟨`ch04_worst`⟩, `torch.nn.RNN`")
    assert plain_markdown("(ch-x)=\n# Title\n\nA `{solution}` block.") == "# Title\n\nA `{solution}` block."


def test_a_figure_s_caption_follows_its_cell_and_the_citations_come_from_the_bib_file(tmp_path):
    nb = jupytext.reads("```{code-cell} ipython3\n---\nmystnb:\n  figure:\n    caption: Two curves, {eq}`eq-x`.\n"
                        "    name: fig-ch04-x\n---\nfig = 1\n```\n\n```{math}\n:label: eq-x\n\nx\n```\n", fmt="md:myst")
    (tmp_path / "refs.bib").write_text("@article{gers2000,\n  author = {Gers, Felix A. and Schmidhuber, J{\\\"u}rgen "
                                       "and Cummins, Fred},\n  year = {2000}\n}\n@book{two,\n  author = {Kingma, D. "
                                       "and Ba, Jimmy},\n  year = 2015,\n}\n")
    index = book_index({4: nb}, [tmp_path / "refs.bib"])
    assert index.citations == {"gers2000": ("Gers et al.", "2000"), "two": ("Kingma and Ba", "2015")}
    plain = plain_notebook(nb, index, 4)
    assert [c.cell_type for c in plain.cells] == ["code", "markdown", "markdown"]
    assert plain.cells[0].source == nb.cells[0].source == "fig = 1"
    assert plain.cells[1].source == "**Fig. 4.1.** Two curves, (4.1)."
    nbformat.validate(plain)
