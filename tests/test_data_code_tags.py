"""rnncourse.data.code_tags: tags agree with tokenize on hand-checked lines; the split is by module and seeded."""

import sysconfig
import tokenize
from pathlib import Path

import numpy as np
import pytest

from rnncourse.data.code_tags import (PAD, TAGS, TEST_MODULES, TRAIN_MODULES, VOCAB_SIZE, encode_line, load_code_tags,
                                       tag_source)

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


def test_encode_line_rejects_non_ascii_instead_of_replacing_it():
    with pytest.raises(ValueError, match=r"^line should hold only printable ASCII characters \(space to '~'\), "
                                         r"but its character 'é' at position 2 is not: 'a é→'$"):
        encode_line("a é→")
    with pytest.raises(ValueError, match=r"^line should hold only printable ASCII characters \(space to '~'\), "
                                         r"but its character '\\t' at position 3 is not: 'tab\\there'$"):
        encode_line("tab\there")


def test_tag_source_keeps_rows_in_step_with_tokenize_after_form_feeds_and_other_line_breaks():
    # str.splitlines() also breaks at \f, \v, \x1c, \x85, \u2028; tokenize breaks only at "\n"
    tagged = tag_source("x = 1\x0c\nif y:  # c\nz = 'a\x85b'\nw = 2\r\n")
    assert [(line, as_letters(t)) for line, t in tagged] == [("x = 1", "n_o_#"), ("if y:  # c", "kk_no__%%%"),
                                                              ("w = 2", "n_o_#")]   # the line with \x85 is left out


# One line with f-strings (a format spec, a nested f-string), then a triple-quoted f-string over two lines.
FSTRING_SOURCE = 's = f"a{x!r:>{w}}b" + f\'{f"{y}"}\'  # c\nt = f"""{x}\n"""\nz = 1\n'
FSTRING_LETTERS = [("s = f\"a{x!r:>{w}}b\" + f'{f\"{y}\"}'  # c", "n_o_" + "s" * 15 + "_o_" + "s" * 11 + "__%%%"),
                   ("z = 1", "n_o_#")]


def test_tag_source_tags_f_strings_as_strings():
    # Python 3.11 gives one STRING token per f-string; these labels must stay as they are
    assert [(line, as_letters(t)) for line, t in tag_source(FSTRING_SOURCE)] == FSTRING_LETTERS


def test_tag_source_tags_python_3_12_f_string_tokens_as_3_11_strings(monkeypatch):
    from rnncourse.data import code_tags

    # Python 3.12+ splits an f-string into FSTRING_START, FSTRING_MIDDLE, ... FSTRING_END; imitate its stream
    start, middle, end = (getattr(tokenize, name, fake) for name, fake in
                          (("FSTRING_START", 1001), ("FSTRING_MIDDLE", 1002), ("FSTRING_END", 1003)))
    monkeypatch.setattr(code_tags, "_FSTRING_START", start, raising=False)
    monkeypatch.setattr(code_tags, "_FSTRING_END", end, raising=False)
    N, O = tokenize.NAME, tokenize.OP
    pieces = [(N, "s"), (O, "="), (start, 'f"'), (middle, "a"), (O, "{"), (N, "x"), (O, "!"), (N, "r"), (O, ":"),
              (middle, ">"), (O, "{"), (N, "w"), (O, "}"), (O, "}"), (middle, "b"), (end, '"'), (O, "+"),
              (start, "f'"), (O, "{"), (start, 'f"'), (O, "{"), (N, "y"), (O, "}"), (end, '"'), (O, "}"), (end, "'"),
              (tokenize.COMMENT, "# c"), (tokenize.NEWLINE, "\n"),
              (N, "t"), (O, "="), (start, 'f"""'), (O, "{"), (N, "x"), (O, "}"), (middle, "\n"), (end, '"""'),
              (tokenize.NEWLINE, "\n"), (N, "z"), (O, "="), (tokenize.NUMBER, "1"), (tokenize.NEWLINE, "\n"),
              (tokenize.ENDMARKER, "")]
    stream, pos = [], 0
    for kind, text in pieces:
        i = FSTRING_SOURCE.index(text, pos)
        pos = i + len(text)
        row_col = [(FSTRING_SOURCE.count("\n", 0, j) + 1, j - FSTRING_SOURCE.rfind("\n", 0, j) - 1) for j in (i, pos)]
        stream.append(tokenize.TokenInfo(kind, text, *row_col, ""))
    monkeypatch.setattr(code_tags.tokenize, "generate_tokens", lambda readline: iter(stream))
    assert [(line, as_letters(t)) for line, t in tag_source(FSTRING_SOURCE)] == FSTRING_LETTERS


def test_tag_source_rejects_source_that_tokenize_cannot_read():
    with pytest.raises(ValueError, match=r"^source should be Python code that tokenize can read, but tokenize fails "
                                         r"at line \d+: .*EOF in multi-line statement"):
        tag_source("def f(:\n")
    with pytest.raises(ValueError, match=r"^source should be Python code that tokenize can read, but tokenize fails "
                                         r"at line 3: unindent does not match any outer indentation level"):
        tag_source("if x:\n    a = 1\n  b = 2\n")


def test_the_test_split_is_the_lines_of_the_test_modules():
    # read the files directly from the standard-library folder, independently of load_code_tags
    stdlib = Path(sysconfig.get_paths()["stdlib"])

    def lines_of(modules):
        return sorted(line for m in modules for line, _ in tag_source((stdlib / f"{m}.py").read_text("utf-8"))
                      if len(line) <= 80)

    assert sorted(load_code_tags("test")[2]) == lines_of(TEST_MODULES)


def test_continuation_backslashes_are_left_out_and_space_means_a_space():
    # the backslash that continues a line belongs to no token; it used to be tagged "space"
    tagged = tag_source("x = 1 + \\\n    2\nif a and \\\n   b:\n    pass\n")
    assert [(line, as_letters(t)) for line, t in tagged] == [("2", "#"), ("b:", "no"), ("pass", "kkkk")]
    _, tags, lines = load_code_tags("train")
    space = TAGS.index("space")
    assert all(set(np.array(list(line))[t == space]) <= {" "} for t, line in zip(tags, lines))


def test_a_smaller_max_lines_gives_the_first_lines_of_a_larger_one():
    few = load_code_tags("train", max_lines=30, seed=7)
    more = load_code_tags("train", max_lines=300, seed=7)
    everything = load_code_tags("train", seed=7)
    assert few[2] == more[2][:30] and more[2] == everything[2][:300]
    assert all(np.array_equal(a, b) for a, b in zip(few[0] + few[1], more[0][:30] + more[1][:30]))
    assert sorted(everything[2]) == sorted(load_code_tags("train", seed=0)[2])      # same lines, another order
    other = load_code_tags("train", max_lines=30, seed=8)[2]
    assert other != few[2] and len(set(other) & set(few[2])) < 10


def test_pad_is_zero_and_the_ids_fill_the_vocabulary():
    assert PAD == 0 and PAD not in encode_line(" ~")
    assert VOCAB_SIZE == encode_line("~")[0] + 1 == 96


def test_encode_line_names_the_first_bad_character_after_a_space_and_a_tilde():
    with pytest.raises(ValueError, match=r"but its character '\\x01' at position 6 is not: 'x = ~y\\x01'$"):
        encode_line("x = ~y\x01")


def test_load_code_tags_uses_seed_0_by_default():
    assert load_code_tags("test", max_lines=20)[2] == load_code_tags("test", max_lines=20, seed=0)[2]
