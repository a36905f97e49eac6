"""Figures of the book: one style, diagrams drawn by code, and plots of results.

Plotting lives apart from model code: these functions take arrays and return
matplotlib figures; they never train or import a model.
"""
