"""show_source renders exactly the package's own code, so a page cannot drift from it."""

import inspect

import pytest

from rnncourse.numpy import elman
from rnncourse.source import show_source, source_of


def test_source_of_a_function_is_its_code_dedented():
    code = source_of(elman.rnn_step_backward)
    assert code.startswith("def rnn_step_backward(")
    assert code == inspect.getsource(elman.rnn_step_backward).rstrip() + "\n"


def test_source_of_a_method_is_dedented_to_the_margin():
    torch = pytest.importorskip("torch")
    from rnncourse.torch.elman import ElmanRNN

    code = source_of(ElmanRNN.forward)
    assert code.startswith("def forward(self")
    assert "\n    " in code and not code.startswith(" ")


def test_show_source_names_the_file_and_object_and_fences_the_code():
    pytest.importorskip("IPython")
    md = show_source(elman.rnn_step_backward).data
    first, rest = md.split("\n", 1)
    assert first == "Source: `rnncourse/numpy/elman.py`, `rnn_step_backward`"
    assert "```python\ndef rnn_step_backward(" in rest and rest.rstrip().endswith("```")


def test_show_source_of_a_value_says_what_to_pass():
    with pytest.raises(TypeError, match=r"function, method, class or module, but got ndarray"):
        source_of(elman.np.zeros(3))


@pytest.mark.parametrize("compiled", [len, elman.np.tanh, int, [].append])
def test_show_source_of_compiled_code_says_it_has_no_python_source(compiled):
    with pytest.raises(TypeError, match=r"compiled code") as info:
        source_of(compiled)
    assert "result of calling it" not in str(info.value)


def test_show_source_names_the_module_of_an_object_outside_the_package():
    pytest.importorskip("IPython")
    import json

    assert show_source(json.dumps).data.split("\n", 1)[0] == "Source: `json`, `dumps`"


def test_show_source_of_a_torch_class_names_its_module_not_a_path():
    pytest.importorskip("IPython")
    torch = pytest.importorskip("torch")
    assert show_source(torch.nn.RNN).data.split("\n", 1)[0] == "Source: `torch.nn.modules.rnn`, `RNN`"


@pytest.fixture
def notebook(monkeypatch):
    """A namespace that behaves like a Jupyter kernel's ``__main__``: no ``__file__``; each
    cell's code compiled from a temporary file name that linecache knows, as ipykernel does."""
    import linecache
    import sys
    import types

    main = types.ModuleType("__main__")
    monkeypatch.setitem(sys.modules, "__main__", main)

    def run_cell(code, filename="/tmp/ipykernel_4242/123456.py"):
        monkeypatch.setitem(linecache.cache, filename, (len(code), None, code.splitlines(True), filename))
        exec(compile(code, filename, "exec"), main.__dict__)
        return main
    return run_cell


def test_show_source_of_a_notebook_function_says_so_instead_of_a_temporary_path(notebook):
    pytest.importorskip("IPython")
    main = notebook("def f(x):\n    return x + 1\n")
    md = show_source(main.f).data
    assert md.split("\n", 1)[0] == "Source: defined in this notebook, `f`"
    assert "ipykernel" not in md and "def f(x):\n    return x + 1\n" in md


def test_show_source_of_a_notebook_class_says_to_show_a_method(notebook):
    main = notebook("class Model:\n    def forward(self):\n        return 1\n")
    with pytest.raises(ValueError, match=r"class defined in a notebook.*show_source\(Model\.forward\)"):
        source_of(main.Model)
    assert source_of(main.Model.forward).startswith("def forward(self):")


def test_a_decorated_function_is_captioned_with_its_own_file():
    pytest.importorskip("IPython")
    pytest.importorskip("torch")
    from rnncourse.torch.long_range import evaluate_adding      # wrapped by @torch.no_grad()

    first = show_source(evaluate_adding).data.split("\n", 1)[0]
    assert first == "Source: `rnncourse/torch/long_range.py`, `evaluate_adding`"


def test_a_file_edited_after_import_is_refused_not_shown_wrong(tmp_path, monkeypatch):
    import importlib

    (tmp_path / "edited_module.py").write_text("def first():\n    return 1\n\n\ndef second():\n    return 2\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    module = importlib.import_module("edited_module")
    assert source_of(module.second).startswith("def second(")
    (tmp_path / "edited_module.py").write_text("# a comment\n# another\n# a third\n# a fourth\n"
                                               "def first():\n    return 1\n\n\ndef second():\n    return 2\n")
    with pytest.raises(ValueError, match=r"read other code than second .*changed after it was imported; restart"):
        source_of(module.second)


def test_a_function_under_a_decorator_call_of_many_lines_is_shown():
    from rnncourse.exercises.ch02 import check_rnn_step          # @exercise(...) spans many lines

    code = source_of(check_rnn_step)
    assert code.startswith("@exercise(") and "\ndef check_rnn_step(fn):" in code


def test_short_keeps_a_60_character_repr_and_cuts_a_longer_one_to_60():
    from rnncourse.source import _short

    assert _short("a" * 58) == repr("a" * 58)                   # the quotes make 60 characters
    cut = _short("a" * 98)
    assert len(cut) == 60 and cut == "'" + "a" * 56 + "..."
