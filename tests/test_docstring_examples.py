"""The Examples sections of the package's docstrings run and print what they show.

They are what a reader of the API page copies first; an example that no longer runs, or prints
something else, is a wrong answer in the reference. Each module with examples is one test.
"""

from __future__ import annotations

import doctest
import importlib
import pkgutil

import pytest

import rnncourse

FLAGS = doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE


def modules_with_examples() -> list:
    names = [rnncourse.__name__] + [m.name for m in pkgutil.walk_packages(rnncourse.__path__, "rnncourse.")]
    found = []
    for name in names:
        spec = importlib.util.find_spec(name)
        origin = spec.origin if spec else None
        if origin and origin.endswith(".py") and ">>>" in open(origin, encoding="utf-8").read():
            found.append(name)
    return sorted(found)


MODULES = modules_with_examples()


def test_the_package_has_examples_to_run():
    assert len(MODULES) >= 20, MODULES


@pytest.mark.parametrize("name", MODULES)
def test_the_examples_of_a_module_run_and_print_what_they_show(name, capsys):
    module = importlib.import_module(name)
    found = sum(len(test.examples) for test in doctest.DocTestFinder().find(module))
    assert found > 0, f"{name} has '>>>' in its source but doctest finds no example"
    result = doctest.testmod(module, optionflags=FLAGS, report=False)       # +SKIP examples are not attempted
    report = capsys.readouterr().out
    assert result.failed == 0, f"{result.failed} of {result.attempted} examples of {name} failed:\n{report}"


def test_a_wrong_example_is_caught(capsys):
    """The check above can fail: an example whose shown output is wrong is reported."""
    import types

    module = types.ModuleType("fake_module")
    module.__doc__ = ">>> 1 + 1\n3\n"
    result = doctest.testmod(module, optionflags=FLAGS, report=False)
    assert (result.failed, result.attempted) == (1, 1)
    assert "Expected:\n    3\nGot:\n    2" in capsys.readouterr().out
