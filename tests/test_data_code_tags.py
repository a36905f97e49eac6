"""rnncourse.data.code_tags: tags agree with tokenize on hand-checked lines; the split is by module and seeded."""

import numpy as np
import pytest

from rnncourse.data.code_tags import TAGS, TEST_MODULES, TRAIN_MODULES, encode_line, load_code_tags, tag_source

LETTER = dict(zip(TAGS, "_nk#s%o"))


def as_letters(tags):
    return "".join(LETTER[TAGS[t]] for t in tags)


def test_tags_of_hand_checked_lines():
    source = ("def f(x=1.5):\n"
              "    return f'{x}' if x else None  # done\n"
              "s = '''first\n"
              "second'''\n"
              "y = [a.b for a in c]\n")
    tagged = tag_source(source)
    assert [line for line, _ in tagged] == ["def f(x=1.5):", "return f'{x}' if x else None  # done",
                                            "y = [a.b for a in c]"]          # the multi-line string's lines are left out
    assert [as_letters(t) for _, t in tagged] == [
        "kkk_nono###oo",
        "kkkkkk_ssssss_kk_n_kkkk_kkkk__%%%%%%",
        "n_o_onon_kkk_n_kk_no",
    ]


def test_encode_line_and_errors():
    np.testing.assert_array_equal(encode_line(" ~a"), [1, 95, ord("a") - 31])
    with pytest.raises(ValueError, match="printable ASCII"):
        encode_line("tab\there")
    with pytest.raises(TypeError, match="line should be a str"):
        encode_line(b"x")
    with pytest.raises(ValueError, match="split should be 'train' or 'test'"):
        load_code_tags("valid")


def test_load_is_seeded_split_by_module_and_consistent():
    ids, tags, lines = load_code_tags("test", max_len=40, max_lines=50, seed=3)
    again = load_code_tags("test", max_len=40, max_lines=50, seed=3)
    assert lines == again[2] and len(lines) == 50
    assert all(1 <= len(line) <= 40 and len(i) == len(t) == len(line) for i, t, line in zip(ids, tags, lines))
    assert all(i.min() >= 1 and i.max() <= 95 and t.max() < len(TAGS) for i, t in zip(ids, tags))
    assert not set(TRAIN_MODULES) & set(TEST_MODULES)
    train_lines = set(load_code_tags("train", max_len=40)[2])
    assert len(train_lines) > 1000


def test_tag_source_and_load_code_tags_check_their_arguments():
    with pytest.raises(TypeError, match="source should be a str, but is bytes"):
        tag_source(b"x = 1\n")
    with pytest.raises(TypeError, match="seed should be an integer, but is str 'a'"):
        load_code_tags("test", max_lines=2, seed="a")
