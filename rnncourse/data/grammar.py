"""A small grammar of review-style sentences whose label depends on word order and negation.

Every sentence is built from clauses ``DET NOUN VERB [not] [INTENSIFIER] ADJECTIVE``
("the plot was not very dull"). A clause is positive when its adjective is
positive and it has no ``not``, or when its adjective is negative and it has one:
"the film was not bad" is positive, "the film was bad" is negative. Sentences
take one of five forms (:data:`FORMS`):

=================  ================================  ======================
form               example                           label from
=================  ================================  ======================
``"simple"``       the film was not bad              the clause
``"and"``          the plot was good and the cast    both (they agree)
                   is fun
``"but"``          the plot was good but the         the clause after *but*
                   ending was bad
``"main_first"``   the film was good , although      the first clause
                   the ending was bad
``"main_last"``    although the ending was bad ,     the last clause
                   the film was good
=================  ================================  ======================

In the last three forms the two clauses have opposite polarities, and swapping
them flips the label without changing the bag of words: a model that ignores
order cannot beat chance on them, and no model that sums word evidence linearly
can handle ``not`` (it flips the sign of what follows, an XOR).

Labels: 1 = positive, 0 = negative. Token ids come out time-major, ``(T, B)``,
padded with :data:`PAD` (id 0) after the end of each sentence or, with
``pad_side="start"``, before its start.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from rnncourse.validation import check_choice, check_index_array, check_positive_int, check_rng

__all__ = ["POSITIVE", "NEGATIVE", "FORMS", "VOCAB", "PAD", "Sentences", "make_sentences", "encode",
           "decode"]

#: The adjectives of positive sentiment.
POSITIVE = ("good", "great", "fun", "clever")
#: The adjectives of negative sentiment.
NEGATIVE = ("bad", "dull", "boring", "awful")
_NOUNS = ("film", "plot", "acting", "ending", "music", "cast")
_DETS = ("the", "this")
_VERBS = ("was", "is")
_INTENSIFIERS = ("very", "really")

#: Sentence forms, in the order of the default probabilities of :func:`make_sentences`.
FORMS = ("simple", "and", "but", "main_first", "main_last")
_FORM_PROBS = (0.3, 0.1, 0.2, 0.2, 0.2)

#: The vocabulary; a word's id is its index. Id 0 is the padding token.
VOCAB = ("<pad>", ",", "although", "and", "but", "not") + _DETS + _NOUNS + _VERBS + _INTENSIFIERS \
    + POSITIVE + NEGATIVE
#: Id of the padding token ``<pad>``.
PAD = 0
_ID = {w: i for i, w in enumerate(VOCAB)}


class Sentences(NamedTuple):
    """A labelled set of sentences (see :func:`make_sentences`), with five fields.

    Attributes
    ----------
    text : list of str
        The sentences, words separated by spaces.
    ids : numpy.ndarray, shape (T, B)
        Token ids (int64), time-major, padded with :data:`PAD` (at the end or at the start);
        ``T`` is the longest sentence.
    lengths : numpy.ndarray, shape (B,)
        The number of words of each sentence.
    labels : numpy.ndarray, shape (B,)
        The sentiment of each sentence: 1 = positive, 0 = negative.
    forms : numpy.ndarray, shape (B,)
        Index into :data:`FORMS` of each sentence's form.
    """

    text: list
    ids: np.ndarray
    lengths: np.ndarray
    labels: np.ndarray
    forms: np.ndarray


def _pick(rng, words):
    return words[rng.integers(len(words))]


def _clause(rng, polarity):
    """Words of one clause with the given polarity (+1 or -1)."""
    negated = rng.random() < 0.35
    adjectives = POSITIVE if (polarity > 0) != negated else NEGATIVE
    words = [_pick(rng, _DETS), _pick(rng, _NOUNS), _pick(rng, _VERBS)]
    words += ["not"] * negated + [_pick(rng, _INTENSIFIERS)] * (rng.random() < 0.3)
    return words + [_pick(rng, adjectives)]


def _sentence(rng, form):
    """Words and label (0/1) of one sentence of the given form."""
    p = 1 if rng.random() < 0.5 else -1            # polarity of the clause that decides
    if form == "simple":
        words = _clause(rng, p)
    elif form == "and":
        words = _clause(rng, p) + ["and"] + _clause(rng, p)
    elif form == "but":
        words = _clause(rng, -p) + ["but"] + _clause(rng, p)
    elif form == "main_first":
        words = _clause(rng, p) + [",", "although"] + _clause(rng, -p)
    else:
        words = ["although"] + _clause(rng, -p) + [","] + _clause(rng, p)
    return words, int(p > 0)


def encode(text, pad_side="end"):
    """Token ids of sentences, time-major and padded with :data:`PAD`.

    Parameters
    ----------
    text : list of str
        Sentences made of words of :data:`VOCAB`, separated by spaces.
    pad_side : str
        ``"end"`` (default): each sentence starts at step 0 and is followed by
        padding. ``"start"``: padding comes first, so that every sentence ends
        at the last step ``T`` (where a many-to-one model reads its state).

    Returns
    -------
    ids : numpy.ndarray, shape (T, B)
        int64 token ids; ``T`` is the length of the longest sentence.
    lengths : numpy.ndarray, shape (B,)
        Number of words of each sentence.

    Example
    -------
    >>> ids, lengths = encode(["the film was bad", "the film was not bad"])
    >>> ids.shape, lengths.tolist()
    ((5, 2), [4, 5])
    """
    check_choice(pad_side, "pad_side", ("end", "start"))
    if isinstance(text, str) or not isinstance(text, (list, tuple)):
        raise TypeError(f"text should be a list of sentences (str), but is {type(text).__name__} {text!r:.60}")
    if not text:
        raise ValueError("text should hold at least one sentence, but is empty")
    for b, sentence in enumerate(text):
        if not isinstance(sentence, str):
            raise TypeError(f"text should hold sentences (str), but text[{b}] is "
                            f"{type(sentence).__name__} {sentence!r:.60}")
    rows = [s.split() for s in text]
    unknown = sorted({w for r in rows for w in r if w not in _ID})
    if unknown or not all(rows):
        raise ValueError(f"every sentence should be non-empty and use only words of VOCAB, but found "
                         f"unknown words {unknown} or an empty sentence")
    lengths = np.array([len(r) for r in rows], dtype=np.int64)
    ids = np.full((lengths.max(), len(rows)), PAD, dtype=np.int64)
    T = ids.shape[0]
    for b, r in enumerate(rows):
        start = 0 if pad_side == "end" else T - len(r)
        ids[start:start + len(r), b] = [_ID[w] for w in r]
    return ids, lengths


def decode(ids):
    """Sentences from token ids; the padding is dropped.

    Parameters
    ----------
    ids : numpy.ndarray, shape (T, B)
        Token ids, padded at either end.

    Returns
    -------
    list of str
        One sentence per column of ``ids``.
    """
    check_index_array(ids, "ids", ("T", "B"), high=len(VOCAB))
    return [" ".join(VOCAB[i] for i in column if i != PAD) for column in ids.T]


def make_sentences(n, *, rng, forms=FORMS, probs=None, pad_side="end"):
    """Draw ``n`` labelled sentences.

    Parameters
    ----------
    n : int
        Number of sentences.
    rng : numpy.random.Generator
        Source of randomness, e.g. ``np.random.default_rng(0)``.
    forms : tuple of str
        Which of :data:`FORMS` to draw from (default: all).
    probs : tuple of float, optional
        Probability of each form in ``forms``; default: 0.3 simple, 0.1 and,
        0.2 each for the three order-sensitive forms (uniform when ``forms`` is
        not the default).
    pad_side : str
        Where the padding goes, ``"end"`` (default) or ``"start"``; see :func:`encode`.

    Returns
    -------
    Sentences
        Text, padded ids (T, B), lengths, labels and forms.

    Example
    -------
    >>> data = make_sentences(4, rng=np.random.default_rng(0))
    >>> data.ids.shape[1], data.labels.shape
    (4, (4,))
    """
    n = check_positive_int(n, "n")
    check_rng(rng)
    if isinstance(forms, str):
        raise TypeError(f"forms should be a tuple of names from {FORMS}, but is the str {forms!r}; "
                        f"pass a tuple, e.g. forms=({forms!r},)")
    if not hasattr(forms, "__iter__"):
        raise TypeError(f"forms should be a tuple of names from {FORMS}, but is {type(forms).__name__} {forms!r:.60}")
    forms = tuple(forms)
    bad = [f for f in forms if f not in FORMS]
    if not forms or bad:
        raise ValueError(f"forms should be a non-empty subset of {FORMS}, but has {bad or 'nothing'}")
    if probs is None:
        probs = _FORM_PROBS if forms == FORMS else np.full(len(forms), 1 / len(forms))
    try:
        probs = np.asarray(probs, dtype=np.float64)
    except (TypeError, ValueError):
        raise TypeError(f"probs should hold {len(forms)} numbers, one per form, but is {probs!r:.60}") from None
    if probs.shape != (len(forms),) or (probs < 0).any() or not np.isclose(probs.sum(), 1):
        raise ValueError(f"probs should hold {len(forms)} non-negative numbers summing to 1, one per form, "
                         f"but is {probs.tolist()}")
    chosen = rng.choice(len(forms), size=n, p=probs)
    pairs = [_sentence(rng, forms[k]) for k in chosen]
    text = [" ".join(words) for words, _ in pairs]
    ids, lengths = encode(text, pad_side)
    labels = np.array([label for _, label in pairs], dtype=np.int64)
    form_ids = np.array([FORMS.index(forms[k]) for k in chosen], dtype=np.int64)
    return Sentences(text, ids, lengths, labels, form_ids)

