"""rnncourse.data.text: text that needs no download, and the character vocabulary."""

from __future__ import annotations

import re
import sys
import sysconfig
from pathlib import Path

import numpy as np
import pytest

from rnncourse.data.text import STDLIB_MODULES, CharVocab, _docstrings, load_text, module_path


def test_stdlib_text_is_large_ascii_and_repeatable():
    text = load_text()
    assert len(text) > 100_000
    assert all(c == "\n" or " " <= c <= "~" for c in set(text))
    assert text == load_text()
    assert "def " in text and "import" in text                 # it is Python source


def test_max_chars_and_docstrings():
    assert load_text(max_chars=1234) == load_text()[:1234]
    docs = load_text("stdlib-docstrings")
    assert 10_000 < len(docs) < len(load_text())
    assert "Return" in docs and "def " not in docs[:2000]
    with pytest.raises(ValueError, match="max_chars should be an integer >= 1"):
        load_text(max_chars=0)


def test_a_file_path_and_the_ascii_filter(tmp_path):
    path = tmp_path / "tiny.txt"
    path.write_text("café au lait\n", encoding="utf-8")
    assert load_text(path) == "caf au lait\n"
    assert load_text(str(path), ascii_only=False) == "café au lait\n"
    with pytest.raises(FileNotFoundError, match=r"'stdlib', 'stdlib-docstrings' or the path of a text file"):
        load_text(tmp_path / "missing.txt")


def test_stdlib_modules_are_plain_source_files():
    assert len(STDLIB_MODULES) >= 5 and "textwrap" in STDLIB_MODULES


def test_vocab_hand_case():
    vocab = CharVocab("hello")
    assert vocab.chars == "ehlo" and vocab.size == len(vocab) == 4
    ids = vocab.encode("hole")
    assert ids.dtype == np.int64 and ids.tolist() == [1, 3, 2, 0]
    assert vocab.decode([3, 2, 2, 0]) == "olle" and vocab.decode(np.array([], np.int64)) == ""


def test_vocab_round_trip_on_real_text():
    text = load_text(max_chars=20_000)
    vocab = CharVocab(text)
    ids = vocab.encode(text)
    assert ids.shape == (len(text),) and ids.min() == 0 and ids.max() == vocab.size - 1
    assert vocab.decode(ids) == text
    assert list(vocab.chars) == sorted(set(text))


def test_vocab_errors():
    vocab = CharVocab("abc")
    with pytest.raises(ValueError, match=r"outside the vocabulary, e.g. 'xz'"):
        vocab.encode("axbz")
    with pytest.raises(ValueError, match=r"ids should hold indices in \[0, 3\), but holds values from 0 to 3"):
        vocab.decode([0, 3])
    with pytest.raises(TypeError, match="integer"):
        vocab.decode([0.5])
    with pytest.raises(ValueError, match="empty"):
        CharVocab("")
    with pytest.raises(TypeError, match="text should be a str"):
        vocab.encode(b"abc")


def test_running_features_by_hand():
    from rnncourse.data.text import running_features
    f = running_features("ab (c)\nd)")
    assert f["letters since the last non-letter"].tolist() == [1, 2, 0, 0, 1, 0, 0, 1, 0]
    assert f["characters since the line began"].tolist() == [1, 2, 3, 4, 5, 6, 0, 1, 2]
    assert f["inside parentheses"].tolist() == [0, 0, 0, 1, 1, 0, 0, 0, 0]
    with pytest.raises(TypeError, match="text should be a str"):
        running_features(["a"])


def test_running_features_ignore_a_closing_parenthesis_with_none_open():
    from rnncourse.data.text import running_features
    # The stray ")" leaves the depth at 0 (it does not go to -1), so the "(" after it opens a group.
    assert running_features(")(a)")["inside parentheses"].tolist() == [0, 1, 1, 0]
    assert running_features("))(a)b")["inside parentheses"].tolist() == [0, 0, 1, 1, 0, 0]


def test_module_path_wants_a_name():
    assert module_path("textwrap").name == "textwrap.py"
    with pytest.raises(TypeError, match="name should be a module name \\(str\\), but is int"):
        module_path(3)


def test_load_text_wants_a_name_or_a_path():
    with pytest.raises(TypeError, match=r"^source should be one of 'stdlib', 'stdlib-docstrings' or the path of a "
                                        r"text file \(str or pathlib.Path\), but is int 3$"):
        load_text(3)


def test_module_path_ignores_a_same_named_module_on_sys_path(tmp_path, monkeypatch):
    # a student's own statistics.py next to the notebook must not replace the standard library's
    stdlib = Path(sysconfig.get_paths()["stdlib"])
    before = load_text("stdlib-docstrings")
    (tmp_path / "statistics.py").write_text('"""A fake statistics module."""\n', encoding="utf-8")
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.chdir(tmp_path)
    monkeypatch.delitem(sys.modules, "statistics", raising=False)      # as in a fresh kernel
    assert module_path("statistics") == stdlib / "statistics.py"
    assert module_path("json") == stdlib / "json" / "__init__.py"      # a package gives its __init__.py
    assert load_text("stdlib-docstrings") == before
    assert "A fake statistics module" not in before


def test_load_text_names_a_file_that_is_not_utf8(tmp_path):
    path = tmp_path / "latin1.txt"
    path.write_bytes("café\n".encode("latin-1"))
    with pytest.raises(ValueError, match=rf"^source should be a UTF-8 text file, but {re.escape(repr(str(path)))} "
                                         r"is not: its byte 0xe9 at position 3 is not valid UTF-8; save the file "
                                         r"as UTF-8$"):
        load_text(path)


def test_docstrings_come_in_file_order():
    source = ('"""Module."""\n'
              'class A:\n'
              '    """A."""\n'
              '    def m(self):\n'
              '        """A.m."""\n'
              '        def inner():\n'
              '            """inner."""\n'
              'def f():\n'
              '    """f.\n\n    More.\n    """\n'
              'async def g():\n'
              '    """g."""\n')
    # ast.walk would visit A, f, g before the nested A.m and inner; the file order is kept instead
    assert _docstrings(source) == "Module.\n\nA.\n\nA.m.\n\ninner.\n\nf.\n\nMore.\n\ng."


@pytest.mark.parametrize("flag", ["no", 0, None])
def test_load_text_takes_ascii_only_as_true_or_false_only(flag):
    with pytest.raises(TypeError, match=rf"^ascii_only should be True or False, but is {type(flag).__name__} "):
        load_text(max_chars=10, ascii_only=flag)


def test_the_ascii_filter_keeps_space_to_tilde_and_newlines_only(tmp_path):
    path = tmp_path / "edges.txt"
    path.write_text("a ~\n\t\x7fé", encoding="utf-8")
    assert load_text(path) == "a ~\n"


def test_decoding_an_empty_list_gives_an_empty_string():
    assert CharVocab("ab").decode([]) == ""
