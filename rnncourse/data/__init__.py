"""Datasets of the book, generated in code or read from files that ship with the tools: no downloads.

Each module is one dataset family and knows no model; arrays come out time-major,
``(T, B, D)``. Import the module you need, e.g. ``from rnncourse.data.text import load_text``.
"""
