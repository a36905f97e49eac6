"""The map of the course: its chapters and which ones each builds on, drawn by code."""

from __future__ import annotations

from .diagrams import arrow, new_diagram, node

__all__ = ["CHAPTERS", "PREREQUISITES", "chapter_map"]

#: Short titles of the chapters, in book order.
CHAPTERS = (
    "1 Why RNNs",
    "2 Structure",
    "3 Forward",
    "4 BPTT",
    "5 Vanishing\ngradients",
    "6 Topologies",
    "7 Elman &\nJordan",
    "8 Limits,\nLSTM & GRU",
    "9 In practice",
)

#: For each chapter (1-based), the chapters it builds on directly, those its "Read first" names, less those
#: that one of them builds on already (tests/test_plotting_course_map.py checks the two agree).
PREREQUISITES = {2: (1,), 3: (2,), 4: (3,), 5: (4,), 6: (3, 4), 7: (4,), 8: (5, 7), 9: (6,)}

# Where each chapter sits on the map: a main line of the core chapters, two branches below it.
_POSITIONS = {1: (0, 1), 2: (2, 1), 3: (4, 1), 4: (6, 1), 5: (8, 1), 6: (6, -0.5), 7: (8, -0.5), 8: (10.2, 0.45),
              9: (8, -1.9)}


def chapter_map():
    """Draw the chapters as boxes with an arrow from each prerequisite to the chapter that needs it.

    Returns
    -------
    matplotlib.figure.Figure
        The map; the core path (1 to 5) runs left to right, the applied chapters branch below,
        and chapter 9 follows the topologies of chapter 6 into practice.
    """
    fig, ax = new_diagram((-0.9, 11.1), (-2.4, 1.6), title="How the chapters build on each other")
    roles = {1: "input", 2: "input", 3: "hidden", 4: "hidden", 5: "hidden", 6: "output", 7: "output", 8: "loss",
             9: "loss"}
    w, h = 0.8, 0.36
    for number, title in enumerate(CHAPTERS, start=1):
        node(ax, _POSITIONS[number], title, roles[number], w=w, h=h, fontsize=8)
    for chapter, needs in PREREQUISITES.items():
        for need in needs:
            (x0, y0), (x1, y1) = _POSITIONS[need], _POSITIONS[chapter]
            if y0 == y1:
                start, end = (x0 + w, y0), (x1 - w, y1)
            elif x0 == x1:
                start, end = (x0, y0 - h), (x1, y1 + h)
            else:
                start = (x0 + (w if x1 > x0 else -w) * 0.6, y0 + (-h if y1 < y0 else h))
                end = (x1 - w, y1)
            arrow(ax, start, end, color="#555555")
    return fig
