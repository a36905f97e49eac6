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
