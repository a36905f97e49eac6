"""rnncourse.data.grammar: labels follow the rules of negation and order, encoding, determinism."""

from collections import Counter

import numpy as np
import pytest

from rnncourse.data.grammar import FORMS, NEGATIVE, PAD, POSITIVE, VOCAB, decode, encode, make_sentences


def clause_polarity(words):
    """+1 or -1 from a clause's words, written independently of the generator."""
    adjective = words[-1]
    assert adjective in POSITIVE + NEGATIVE
    sign = 1 if adjective in POSITIVE else -1
    return -sign if "not" in words else sign


def label_by_hand(sentence):
    """The label (1 positive, 0 negative) of a sentence by the grammar's rules."""
    words = sentence.split()
    if words[0] == "although":                        # although A , B  ->  B decides
        comma = words.index(",")
        return int(clause_polarity(words[comma + 1:]) > 0)
    if "although" in words:                           # A , although B  ->  A decides
        return int(clause_polarity(words[:words.index(",")]) > 0)
    if "but" in words:                                # A but B  ->  B decides
        return int(clause_polarity(words[words.index("but") + 1:]) > 0)
    if "and" in words:                                # A and B agree
        i = words.index("and")
        first, second = clause_polarity(words[:i]), clause_polarity(words[i + 1:])
        assert first == second
        return int(first > 0)
    return int(clause_polarity(words) > 0)


def test_labels_follow_the_rules():
    data = make_sentences(500, rng=np.random.default_rng(0))
    assert [label_by_hand(s) for s in data.text] == data.labels.tolist()


def test_hand_examples_encode_and_label():
    assert label_by_hand("the film was not bad") == 1
    assert label_by_hand("the film was bad") == 0
    ids, lengths = encode(["the film was bad", "the film was not bad"])
    assert ids.shape == (5, 2) and lengths.tolist() == [4, 5]
    assert ids[4, 0] == PAD and VOCAB[ids[3, 1]] == "not"


def test_swapping_clauses_flips_the_label_but_not_the_bag_of_words():
    data = make_sentences(300, rng=np.random.default_rng(1), forms=("but",))
    for sentence, label in zip(data.text, data.labels):
        first, second = sentence.split(" but ")
        swapped = f"{second} but {first}"
        assert sorted(swapped.split()) == sorted(sentence.split())
        assert label_by_hand(swapped) == 1 - label


def test_same_seed_same_sentences_and_forms_have_their_share():
    a = make_sentences(2000, rng=np.random.default_rng(3))
    b = make_sentences(2000, rng=np.random.default_rng(3))
    assert a.text == b.text and np.array_equal(a.ids, b.ids)
    assert make_sentences(50, rng=np.random.default_rng(4)).text != a.text[:50]    # the caller's generator decides
    shares = np.bincount(a.forms, minlength=len(FORMS)) / 2000
    np.testing.assert_allclose(shares, [0.3, 0.1, 0.2, 0.2, 0.2], atol=0.04)
    assert 0.45 < a.labels.mean() < 0.55


def test_padding_at_either_side_and_decode_round_trip():
    end = make_sentences(50, rng=np.random.default_rng(4))
    start = make_sentences(50, rng=np.random.default_rng(4), pad_side="start")
    assert decode(end.ids) == end.text == decode(start.ids)
    T = end.ids.shape[0]
    assert np.all(start.ids[-1] != PAD)               # every sentence ends at the last step
    assert np.all(end.ids[0] != PAD)                  # ... or starts at the first
    assert np.array_equal((end.ids != PAD).sum(0), end.lengths)
    assert np.array_equal(start.ids[T - end.lengths, np.arange(50)], end.ids[0])


def test_bad_arguments_are_explained():
    with pytest.raises(ValueError, match="unknown words"):
        encode(["the film was superb"])
    with pytest.raises(TypeError, match="list of sentences"):
        encode("the film was bad")
    with pytest.raises(ValueError, match="forms should be a non-empty subset"):
        make_sentences(3, rng=np.random.default_rng(0), forms=("sarcasm",))
    with pytest.raises(ValueError, match="probs should hold 2"):
        make_sentences(3, rng=np.random.default_rng(0), forms=("simple", "but"), probs=(1.0,))
    with pytest.raises(TypeError, match="default_rng"):
        make_sentences(3, rng=0)
    with pytest.raises(ValueError, match="pad_side should be one of"):
        encode(["the film was bad"], pad_side="left")


def test_encode_names_a_sentence_that_is_not_a_str():
    with pytest.raises(TypeError, match=r"^text should hold sentences \(str\), but text\[1\] is int 3$"):
        encode(["the film was bad", 3])


def test_make_sentences_checks_the_types_of_forms_and_probs():
    rng = np.random.default_rng(0)
    with pytest.raises(TypeError, match=r"^probs should hold 5 numbers, one per form, but is \['a', 'a', 'a', "
                                        r"'a', 'a'\]$"):
        make_sentences(3, rng=rng, probs=["a"] * 5)
    with pytest.raises(TypeError, match=r"^forms should be a tuple of names from \('simple', .*'main_last'\), "
                                        r"but is NoneType None$"):
        make_sentences(3, rng=rng, forms=None)
    with pytest.raises(TypeError, match=r"^forms should be a tuple of names from .*, but is the str 'but'; "
                                        r"pass a tuple, e.g. forms=\('but',\)$"):
        make_sentences(3, rng=rng, forms="but")
    data = make_sentences(3, rng=np.random.default_rng(0), forms=["but"])      # a list keeps working
    assert data.forms.tolist() == [FORMS.index("but")] * 3


def test_not_occurs_with_both_kinds_of_adjective():
    # without negated clauses the task would be linear; each (adjective, not) case must be common and labelled
    data = make_sentences(2000, rng=np.random.default_rng(5), forms=("simple",))
    words = [s.split() for s in data.text]
    cases = Counter((w[-1] in POSITIVE, "not" in w, int(label)) for w, label in zip(words, data.labels))
    assert set(cases) == {(True, False, 1), (True, True, 0), (False, False, 0), (False, True, 1)}
    assert min(cases.values()) > 200


@pytest.mark.parametrize("bad", [-1, len(VOCAB)])
def test_decode_rejects_ids_outside_the_vocabulary(bad):
    with pytest.raises(ValueError, match=rf"^ids should hold indices in \[0, {len(VOCAB)}\), but holds values "
                                         rf"from {bad} to {bad}"):
        decode(np.array([[bad]]))
