"""The chapter map on the landing page: one box per chapter, one arrow per prerequisite."""

import re
from pathlib import Path

import matplotlib

matplotlib.use("Agg")

from matplotlib.patches import FancyArrowPatch, FancyBboxPatch  # noqa: E402

from rnncourse.plotting.course_map import CHAPTERS, PREREQUISITES, chapter_map  # noqa: E402


def test_one_box_per_chapter_and_one_arrow_per_prerequisite():
    ax = chapter_map().axes[0]
    boxes = [p for p in ax.patches if isinstance(p, FancyBboxPatch)]
    arrows = [p for p in ax.patches if isinstance(p, FancyArrowPatch)]
    assert len(boxes) == len(CHAPTERS) == 9
    assert len(arrows) == sum(len(v) for v in PREREQUISITES.values())
    labels = {t.get_text() for t in ax.texts}
    assert set(CHAPTERS) <= labels


def test_prerequisites_point_backwards():
    # A chapter can only build on chapters that come before it.
    for chapter, needs in PREREQUISITES.items():
        assert all(1 <= n < chapter for n in needs)


def _ancestors(chapter):
    found, todo = set(), list(PREREQUISITES.get(chapter, ()))
    while todo:
        n = todo.pop()
        if n not in found:
            found.add(n)
            todo += PREREQUISITES.get(n, ())
    return found


def test_the_map_agrees_with_what_each_chapter_says_to_read_first():
    # The first sentence of "Read first" names the chapters a chapter builds on. Each must be on the map's path
    # to it, and each arrow of the map must come from one of them.
    book = Path(__file__).resolve().parents[1] / "book"
    chapters = {int(p.name[:2]): p.read_text() for p in book.glob("0[1-9]_*.md")}
    label = {re.search(r"^\((ch-[\w-]+)\)=", text, re.M).group(1): n for n, text in chapters.items()}
    for n, text in chapters.items():
        start = text.index("**Read first**")
        first_sentence = re.split(r"\.\s", text[start:text.index("\n\n", start)])[0]
        named = {label[key] for key in re.findall(r"(ch-[\w-]+)", first_sentence) if key in label}
        assert named <= _ancestors(n), (n, named, PREREQUISITES.get(n))
        assert set(PREREQUISITES.get(n, ())) <= named, (n, named, PREREQUISITES.get(n))
