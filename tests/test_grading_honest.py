"""Honest notebooks the sandbox's hardening must still grade in full.

Each submission is the fixture chapter's reference notebook with one thing an honest student
may do: a DataLoader whose workers live on after its cell, a thread count set for PyTorch, a
function that returns a long Python list. The grader stops every helper process after the
cells and lets the worker start no thread during the checks; none of that may cost the student
marks they earned.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from exercise_fixtures import CHECKERS, EXERCISES, bubblewrap_missing, instructor_notebook, write_notebook
from rnncourse.exercises.grade import grade_all

TIMEOUT, EXERCISE_TIMEOUT = 20, 8
MISSING = bubblewrap_missing()
pytestmark = [pytest.mark.skipif(MISSING is not None, reason=f"no sandbox here: {MISSING}"),
              pytest.mark.xdist_group("test_grading_honest")]

TEACHING = "print(double(np.arange(3.0)))"     # a teaching cell after the Exercises heading (those run)
DOUBLE = "    doubled_zebra_quartz = x + x\n    return doubled_zebra_quartz"
MSE = "    return float(np.mean((pred - target) ** 2))  # zebra-quartz-mse"
FULL_MARKS = {name: points for name, (points, _) in EXERCISES.items()}

#: name -> replacements in the reference notebook.
SUBMISSIONS = {
    "loader": [(TEACHING, "import torch\nfrom torch.utils.data import DataLoader, TensorDataset\n"
                          "loader = DataLoader(TensorDataset(torch.arange(20.)), batch_size=5, num_workers=1, "
                          "persistent_workers=True)\nprint(sum(float(b[0].sum()) for b in loader))\n" + TEACHING)],
    "threads": [("import numpy as np", "import numpy as np\nimport torch\ntorch.set_num_threads(2)  # faster on my laptop"),
                (MSE, "    ones = torch.ones(1000, 1000)     # no cell calls it: the threads start in the checks\n"
                      "    assert float((ones @ ones)[0, 0]) == 1000\n" + MSE)],
    "long_list": [(DOUBLE, "    return [1 / (1 + t) for t in range(200_000)]"),
                  (TEACHING, "print(len(double(np.arange(3.0))))")],
    "huge_array": [(DOUBLE, "    return np.zeros(9_000_000)         # 72 MB, 96 MB as text"),
                   (TEACHING, "print(len(double(np.arange(3.0))))")],
}


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    folder = tmp_path_factory.mktemp("honest")
    nb = instructor_notebook()
    paths = [write_notebook(nb, folder / name / "99_fixture.ipynb", replace) for name, replace in SUBMISSIONS.items()]
    results = grade_all(paths, jobs=2, checkers=[str(CHECKERS)], timeout=TIMEOUT, exercise_timeout=EXERCISE_TIMEOUT)
    return {Path(r.path).parent.name: r for r in results}


def scores(result) -> dict:
    return {e.exercise: e.points for e in result.exercises}


def feedback(result) -> dict:
    return {e.exercise: e.feedback for e in result.exercises}


def test_a_dataloader_whose_workers_outlive_their_cell_scores_full_marks(graded):
    assert graded["loader"].notes == []              # its cell ran: the workers started (they need /dev/shm)
    assert scores(graded["loader"]) == FULL_MARKS, feedback(graded["loader"])


def test_a_thread_count_set_in_a_cell_does_not_break_a_matmul_in_the_checks(graded):
    assert scores(graded["threads"]) == FULL_MARKS, feedback(graded["threads"])


def test_a_long_list_answer_is_refused_with_a_clear_message_and_the_rest_still_scores(graded):
    result = graded["long_list"]
    assert scores(result) == {**FULL_MARKS, "ch99.double": 0}, feedback(result)
    message = feedback(result)["ch99.double"]
    assert "too large to send" in message and "NumPy array" in message, message
    assert "sandbox ended" not in message, message


def test_an_answer_longer_than_the_grader_reads_is_refused_by_the_worker_with_a_clear_message(graded):
    # The grader stops reading a message at 64 MB and ends the sandbox; the worker measures the answer first.
    result = graded["huge_array"]
    assert scores(result) == {**FULL_MARKS, "ch99.double": 0}, feedback(result)
    message = feedback(result)["ch99.double"]
    assert "your function returned a value too large to send: 92 MB as text (the grader reads at most 64 MB); " \
           "return a smaller answer" in message, message
    assert "sandbox ended" not in message and result.notes == [], (message, result.notes)
