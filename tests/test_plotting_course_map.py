"""The chapter map on the landing page: one box per chapter, one arrow per prerequisite."""

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
