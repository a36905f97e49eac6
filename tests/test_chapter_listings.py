"""No chapter's student version lists the package's answer to one of that chapter's exercises.

The chapters call ``show_source(obj)`` to print the package's own code. Where a graded exercise asks
the student to write a function the package also has, a listing of that function in the main text
hands out the answer: the student version removes only solutions (``{solution}`` blocks, cells
tagged ``solution``). Such a listing belongs in the exercise's solution.

What counts as "the answer". An exercise's ``subjects`` (the registry, ``rnncourse.exercises.chNN``)
are broad on purpose: they list every function a submission must not call, such as the loops that
repeat a step (``rnn_forward`` for ``ch02.rnn_step``) and other models with the same equation (the
Jordan and gated steps). Listing those is legitimate teaching. So this test uses an explicit map,
:data:`ANSWERS`, from each exercise with subjects to the subjects that *are* the function the student
writes: the package's function of that name, its private helper that holds the same arithmetic, and
its twin of the same name in the other backend. Each entry must be one of the exercise's subjects,
and every exercise with subjects must have an entry, so a new exercise forces a decision here.

A listing matches when the final component of its argument is the final component of an answer:
``show_source(reverse_padded)``, ``show_source(Seq2Seq.greedy_decode)`` (``greedy_decode``), and
``show_source(torch_rnn_step_forward)`` once the alias of the chapter's imports is undone
(``rnn_step_forward``). Listings in the instructor's solutions are fine: the student notebook
drops them.

Moving a listing into a solution leaves a promise behind if the main text says "its solution shows the
package's code": the student never sees it. The last tests read the prose of each student notebook
(solutions removed) for such a promise.
"""

from __future__ import annotations

import ast
import importlib
import re
from pathlib import Path

import nbformat
import pytest

from rnncourse.exercises.registry import all_exercises, chapter_exercises
from rnncourse.exercises.student import chapter_id, chapter_paths, read_chapter, student_notebook
from rnncourse.exercises.student_book import find_leaks, normalise, solution_lines
from rnncourse.source import source_of

BOOK = Path(__file__).resolve().parents[1] / "book"

#: For each exercise with subjects, the subjects that are its answer (see the module docstring).
ANSWERS = {
    "ch02.rnn_step": ("rnncourse.numpy.elman.rnn_step_forward", "rnncourse.torch.elman.rnn_step_forward"),
    # The student counts parameters; the initialisers are subjects because their arrays give the count,
    # but a listing of them teaches the shapes and is not the function the student writes.
    "ch02.rnn_param_count": (),
    "ch03.last_states": ("rnncourse.numpy.many_to_one.last_states", "rnncourse.numpy.many_to_one._last_states",
                         "rnncourse.torch.topologies.last_states"),
    "ch04.rnn_step_backward": ("rnncourse.numpy.elman.rnn_step_backward",),
    "ch04.rnn_backward": ("rnncourse.numpy.elman.rnn_backward",),
    # grad_norm is only the norm, a part of the answer, like the loops and other models: not listed.
    "ch05.clip_by_global_norm": ("rnncourse.numpy.clip.clip_grad_norm",),
    "ch05.jacobian_product": ("rnncourse.numpy.jacobian.jacobian_product",),
    "ch06.greedy_decode": ("rnncourse.torch.seq2seq.greedy_decode",),
    "ch06.many_to_one_backward": ("rnncourse.numpy.many_to_one.many_to_one_backward",),
    "ch07.jordan_step": ("rnncourse.numpy.jordan.jordan_step_forward",),
    # 8.1/8.2 ask for a NumPy translation of the PyTorch `recur` the chapter lists (LSTMCell.recur /
    # GRUCell.recur): the listing stays, and the exercise is the translation.
    "ch08.lstm_step": ("rnncourse.numpy.gated.lstm_step_forward", "rnncourse.numpy.gated._lstm_cell"),
    "ch08.gru_step": ("rnncourse.numpy.gated.gru_step_forward", "rnncourse.numpy.gated._gru_cell"),
    "ch08.lstm_step_backward": ("rnncourse.numpy.gated.lstm_step_backward",
                                "rnncourse.numpy.gated._lstm_cell_backward"),
    # 9.1 asks for a scatter-add; the checker also accepts the one-hot product, which is right but costs a
    # (T·B)×V matrix.
    "ch09.embedding_backward": ("rnncourse.numpy.embedding.embedding_backward",
                                "rnncourse.numpy.charlm._rows_T_onehot"),
    # _nll is the unmasked loss without its gradient, a part of the answer: not listed.
    "ch09.masked_cross_entropy": ("rnncourse.numpy.losses.softmax_cross_entropy",
                                  "rnncourse.torch.padding.masked_cross_entropy"),
    "ch09.reverse_padded": ("rnncourse.numpy.padding.reverse_padded", "rnncourse.torch.padding.reverse_padded"),
}

CHAPTERS = chapter_paths(BOOK)


def parse(source: str):
    """The syntax tree of a code cell, its IPython magic and shell lines left out."""
    code = "\n".join("" if line.lstrip().startswith(("%", "!")) else line for line in source.splitlines())
    return ast.parse(code)


def real_names(cells) -> dict:
    """``{alias: imported name}`` for every ``import ... as`` of the cells."""
    found = {}
    for cell in cells:
        for node in ast.walk(parse(cell.source)):
            if isinstance(node, (ast.Import, ast.ImportFrom)):
                found.update({a.asname: a.name.split(".")[-1] for a in node.names if a.asname})
    return found


def listed_names(source: str, aliases: dict) -> list:
    """``(call, name)`` for each ``show_source(...)`` in ``source``: the call as written, and the final
    name of its argument with any alias undone."""
    code = parse(source)
    found = []
    for node in ast.walk(code):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "show_source":
            arg = node.args[0] if node.args else None
            if isinstance(arg, ast.Attribute):
                found.append((ast.unparse(node), arg.attr))
            elif isinstance(arg, ast.Name):
                found.append((ast.unparse(node), aliases.get(arg.id, arg.id)))
    return found


def test_every_exercise_with_subjects_has_its_answers_named():
    book = {chapter_id(path) for path in CHAPTERS}         # not the exercises other tests register (ch99)
    with_subjects = {e.name: e.subjects for e in all_exercises() if e.subjects and e.name.split(".")[0] in book}
    assert set(ANSWERS) == set(with_subjects), "ANSWERS should have one entry per exercise with subjects"
    for name, answers in ANSWERS.items():
        stray = set(answers) - set(with_subjects[name])
        assert not stray, f"{name}: {sorted(stray)} are not subjects of the exercise"


@pytest.mark.parametrize("path", CHAPTERS, ids=[p.stem for p in CHAPTERS])
def test_no_student_notebook_lists_the_answer_to_its_own_exercise(path):
    chapter = chapter_id(path)
    answer_of = {}                                   # final name -> the exercise it answers
    for ex in chapter_exercises(chapter):
        answer_of.update({subject.split(".")[-1]: ex.name for subject in ANSWERS.get(ex.name, ())})
    nb, _ = student_notebook(read_chapter(path), chapter, path.name)
    code = [c for c in nb.cells if c.cell_type == "code"]
    aliases = real_names(code)
    leaks = [f"{path.name}, cell {number} of the student notebook: {call} lists {name}, "
             f"the answer to exercise {answer_of[name]}"
             for number, cell in enumerate(nb.cells, start=1) if cell.cell_type == "code"
             for call, name in listed_names(cell.source, aliases) if name in answer_of]
    assert not leaks, ("the student version lists the package's answer to an exercise of the same chapter; "
                       "move the listing into the exercise's solution (a cell tagged solution):\n"
                       + "\n".join(leaks))


def test_a_line_that_gives_nothing_away_is_no_leak_but_arithmetic_is(tmp_path):
    removed = ["    return grads", "def forward(self, x, lengths=None):", "return h_t, c_t",
               "np.add.at(dE, ids.reshape(-1), dx.reshape(-1, D))", "return h_t * mask"]
    (tmp_path / "page.html").write_text("<pre>" + "\n".join(removed) + "</pre>")
    assert [line for _, line in find_leaks(tmp_path, removed, [])] == [
        "np.add.at(dE, ids.reshape(-1), dx.reshape(-1, D))", "return h_t * mask"]


def _solution_lines():
    """Every solution line of the book that gives an answer away, as the student book's leak check counts them."""
    removed, kept = [], []
    for path in chapter_paths(BOOK):
        nb, gone = student_notebook(read_chapter(path), chapter_id(path), path.name)
        removed += gone
        kept += [line for cell in nb.cells for line in cell.source.splitlines()]
    return solution_lines(removed, kept)


def _resolved_listings(nb):
    """``(cell index, dotted target, object)`` for each ``show_source(...)`` of a code cell, resolved through
    the notebook's ``from ... import ...`` lines; targets defined in the notebook itself are skipped."""
    names, calls = {}, []
    for index, cell in enumerate(nb.cells):
        if cell.cell_type != "code":
            continue
        try:
            tree = ast.parse(cell.source)
        except SyntaxError:          # IPython magics
            continue
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and node.module:
                for alias in node.names:
                    names[alias.asname or alias.name] = (node.module, alias.name)
            elif (isinstance(node, ast.Call) and getattr(node.func, "id", None) == "show_source"
                  and node.args):
                calls.append((index, ast.unparse(node.args[0])))
    for index, target in calls:
        head, *attributes = target.split(".")
        if head not in names:
            continue
        module, name = names[head]
        obj = importlib.import_module(module)
        for part in [name, *attributes]:
            obj = getattr(obj, part)
        yield index, target, obj


@pytest.mark.parametrize("path", chapter_paths(BOOK), ids=lambda p: p.stem)
def test_no_listing_in_the_student_notebook_prints_a_solution_line(path):
    """The student book's own leak check (:func:`find_leaks`, after executing every chapter, minutes), done
    without executing: each ``show_source`` target is resolved through the chapter's imports and its
    source searched for the solution lines of the whole book."""
    nb, _ = student_notebook(read_chapter(path), chapter_id(path), path.name)
    solutions = _solution_lines()
    leaks = []
    for index, target, obj in _resolved_listings(nb):
        found = sorted(solutions.intersection(normalise(line) for line in source_of(obj).splitlines()))
        if found:
            leaks.append(f"cell {index + 1}: show_source({target}) prints solution lines: {found[:3]}")
    assert not leaks, f"{path.name}: " + "; ".join(leaks) + " (move the listing into the exercise's solution)"


#: A sentence of the main text that points to what a solution shows: "its solution shows the package's code".
SOLUTION_PROMISE = re.compile(r"\bsolutions?(?: cell)? (?:shows?|prints?|lists?)\b|\bsee (?:its|the) solution\b",
                              re.IGNORECASE)


def solution_promises(nb, where: str = "the notebook") -> list:
    """Each sentence of the student version of ``nb`` (solutions removed, prose only) that promises what a
    solution shows, with a few words around it."""
    student, _ = student_notebook(nb, None, where)
    found = []
    for cell in student.cells:
        if cell.cell_type == "markdown":
            text = " ".join(cell.source.split())
            found += [text[max(0, m.start() - 60):m.end() + 40] for m in SOLUTION_PROMISE.finditer(text)]
    return found


def test_a_promise_in_the_main_text_is_found_and_one_in_a_solution_is_not():
    md = nbformat.v4.new_markdown_cell
    nb = nbformat.v4.new_notebook(cells=[
        md("Exercise 1 asks you to write it; its solution\nshows the package's code."),
        md("```{solution} ex-ch99-1\n:label: sol-ch99-1\n\nThe solution cell prints the package's version.\n```"),
        md("Here the solution is a needle that gradient descent did not find."),
    ])
    assert [promise.split(";")[1].strip() for promise in solution_promises(nb)] == [
        "its solution shows the package's code."]


@pytest.mark.parametrize("path", CHAPTERS, ids=[p.stem for p in CHAPTERS])
def test_no_chapter_promises_the_student_what_a_solution_shows(path):
    promises = solution_promises(read_chapter(path), path.name)
    assert not promises, (f"{path.name}: the main text promises what a solution shows, which the student version "
                          "removes; point to something the student has (show_source after the exercise), or drop "
                          "the promise: " + " | ".join(promises))
