"""Character n-gram baselines: counts and smoothed probabilities against hand-computed cases."""

import numpy as np
import pytest

from rnncourse.numpy.ngram import bits_per_char, ngram_counts, ngram_log_probs, ngram_nll, perplexity


def test_counts_of_a_short_text_by_hand():
    ids = np.array([0, 0, 0, 1])                       # "aaab" with a = 0, b = 1
    assert ngram_counts(ids, 1, 2).tolist() == [3.0, 1.0]
    assert ngram_counts(ids, 2, 2).tolist() == [[2.0, 1.0], [0.0, 0.0]]     # aa twice, ab once
    trigrams = ngram_counts(ids, 3, 2)
    assert trigrams[0, 0, 0] == 1 and trigrams[0, 0, 1] == 1 and trigrams.sum() == 2


def test_add_k_probabilities_by_hand():
    counts = ngram_counts(np.array([0, 0, 0, 1]), 2, 2)
    probs = np.exp(ngram_log_probs(counts, alpha=0.5))
    # after a: (2 + 0.5) / (3 + 1) and (1 + 0.5) / (3 + 1); after b (never seen): uniform
    np.testing.assert_allclose(probs, [[0.625, 0.375], [0.5, 0.5]], rtol=0, atol=1e-15)
    unigram = np.exp(ngram_log_probs(ngram_counts(np.array([0, 0, 0, 1]), 1, 2), alpha=1.0))
    np.testing.assert_allclose(unigram, [4 / 6, 2 / 6], rtol=0, atol=1e-15)


def test_probabilities_sum_to_one_over_the_next_character():
    ids = np.random.default_rng(0).integers(0, 7, size=500)
    probs = np.exp(ngram_log_probs(ngram_counts(ids, 3, 7), alpha=0.1))
    np.testing.assert_allclose(probs.sum(axis=-1), 1.0, rtol=0, atol=1e-12)


def test_nll_scores_each_character_after_its_context():
    log_probs = np.log(np.array([[0.625, 0.375], [0.5, 0.5]]))
    ids = np.array([0, 1, 1, 0])
    # a -> b, b -> b, b -> a
    np.testing.assert_allclose(ngram_nll(log_probs, ids), -np.log([0.375, 0.5, 0.5]), rtol=1e-15)
    np.testing.assert_allclose(ngram_nll(log_probs, ids, start=2), -np.log([0.5, 0.5]), rtol=1e-15)


def test_trigram_predicts_a_repeating_text_better_than_bigram_and_unigram():
    ids = np.tile([0, 0, 1], 200)                      # "aab" repeated: the trigram knows what follows
    nll = {n: ngram_nll(ngram_log_probs(ngram_counts(ids, n, 2), alpha=0.01), ids, start=2).mean() for n in (1, 2, 3)}
    assert nll[3] < 0.01 < nll[2] < nll[1]


def test_bits_and_perplexity():
    assert bits_per_char(np.log(8.0)) == pytest.approx(3.0, abs=1e-15)
    assert perplexity(np.log(8.0)) == pytest.approx(8.0, abs=1e-12)
    assert 2 ** bits_per_char(1.3) == pytest.approx(perplexity(1.3), rel=1e-14)


def test_errors_name_the_argument_and_the_fix():
    counts = ngram_counts(np.array([0, 1, 1]), 2, 2)
    with pytest.raises(ValueError, match="alpha should be a finite number > 0, but is 0.0"):
        ngram_log_probs(counts, alpha=0.0)
    with pytest.raises(ValueError, match=r"ids should hold indices in \[0, 2\)"):
        ngram_counts(np.array([0, 2]), 1, 2)
    with pytest.raises(TypeError, match="ids should hold integer class indices"):
        ngram_counts(np.array([0.0, 1.0]), 1, 2)
    with pytest.raises(ValueError, match="table of V \\*\\* n = 100\\*\\*4 entries"):
        ngram_counts(np.array([0, 1]), 4, 100)
    with pytest.raises(ValueError, match=r"start should lie in \[n - 1, N\) = \[1, 3\)"):
        ngram_nll(np.log(np.full((2, 2), 0.5)), np.array([0, 1, 1]), start=0)
    with pytest.raises(ValueError, match="counts should be an array of shape \\(V,\\) \\* n from ngram_counts, "
                                         "but has shape \\(2, 3\\)"):
        ngram_log_probs(np.zeros((2, 3)))
    with pytest.raises(TypeError, match="counts should be a numpy.ndarray from ngram_counts, but is list"):
        ngram_log_probs([3.0, 1.0])
    with pytest.raises(TypeError, match="log_probs should be a numpy.ndarray from ngram_log_probs, but is list"):
        ngram_nll([0.0, 0.0], np.array([0, 1]))


def test_negative_or_nan_counts_are_rejected():
    with pytest.raises(ValueError, match=r"^counts should hold finite counts >= 0, as ngram_counts returns, "
                                         r"but holds -1\.0"):
        ngram_log_probs(np.array([3.0, -1.0]))                        # was [0., -inf]
    with pytest.raises(ValueError, match=r"^counts should hold finite counts >= 0, .* but holds nan"):
        ngram_log_probs(np.array([3.0, np.nan]))                      # was [nan, nan]
    with pytest.raises(TypeError, match=r"^counts should hold numbers \(integer or float\), but has dtype <U1"):
        ngram_log_probs(np.array(["a", "b"]))
    np.testing.assert_array_equal(ngram_log_probs(np.array([3, 1])), ngram_log_probs(np.array([3.0, 1.0])))


def test_log_probs_must_be_finite_log_probabilities_and_the_loss_is_float64():
    ids = np.array([0, 1, 1])
    with pytest.raises(ValueError, match=r"^log_probs should hold finite log-probabilities <= 0, as ngram_log_probs "
                                         r"returns, but holds 0\.5"):
        ngram_nll(np.array([[0.5, -1.0], [-1.0, -1.0]]), ids)
    with pytest.raises(ValueError, match=r"^log_probs should hold finite log-probabilities <= 0, .* but holds -inf"):
        ngram_nll(np.array([[-np.inf, 0.0], [-1.0, -1.0]]), ids)
    nll = ngram_nll(np.zeros((2, 2), dtype=np.int64), ids)            # was int64
    assert nll.dtype == np.float64 and nll.tolist() == [0.0, 0.0]


def test_unsigned_ids_are_counted_and_scored():
    ids = np.array([0, 0, 1], dtype=np.uint64)                        # was a casting TypeError in ngram_counts
    assert ngram_counts(ids, 2, 2).tolist() == [[1.0, 1.0], [0.0, 0.0]]
    log_probs = np.log(np.array([[0.9, 0.1], [0.5, 0.5]]))
    np.testing.assert_array_equal(ngram_nll(log_probs, ids), ngram_nll(log_probs, ids.astype(np.int64)))


@pytest.mark.parametrize("ids", [np.array([3]), np.array([], dtype=np.int64)])
def test_nll_of_a_text_shorter_than_n_blames_ids_not_start(ids):
    log_probs = np.log(np.full((7, 7), 1 / 7))                          # a bigram table, n = 2
    with pytest.raises(ValueError, match=rf"^ids should hold at least n = 2 characters \(a context of n - 1 = 1 and "
                                         rf"one character to score\), but holds {len(ids)}$"):
        ngram_nll(log_probs, ids)
    assert ngram_nll(log_probs, np.array([3, 4])).shape == (1,)


def test_a_huge_order_is_refused_at_once_without_computing_v_to_the_n():
    """V ** n for n = 10**9 is an integer of 778 million digits: the guard used to compute it (a hang), and for
    n = 10**4 it failed while printing it (Python's limit on the digits of an int turned into a str)."""
    import subprocess
    import sys

    code = ("import numpy as np\n"
            "from rnncourse.numpy.ngram import ngram_counts\n"
            "try:\n"
            "    ngram_counts(np.array([0, 1, 2]), 10**9, 6)\n"
            "except ValueError as e:\n"
            "    print(e)\n")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert done.stdout.strip() == ("n should keep the table of V ** n = 6**1000000000 entries below 50,000,000, but "
                                   "it has more; use a smaller n or a smaller vocabulary"), done.stderr
    with pytest.raises(ValueError, match=r"^ids should hold at least n = 1000000000 characters, but holds 3$"):
        ngram_counts(np.array([0, 0, 0]), 10**9, 1)           # V = 1: the table has one entry, the text is short
    with pytest.raises(ValueError, match=r"^n should keep the table of V \*\* n = 6\*\*10000 entries below "
                                         r"50,000,000, but it has more; use a smaller n or a smaller vocabulary$"):
        ngram_counts(np.zeros(10_000, np.int64), 10_000, 6)
    with pytest.raises(ValueError, match=r"^n should keep the table of V \*\* n = 100\*\*4 entries below 50,000,000, "
                                         r"but it has 100,000,000; "):
        ngram_counts(np.zeros(4, np.int64), 4, 100)
    assert ngram_counts(np.zeros(5, np.int64), 5, 1).tolist() == [[[[[1.0]]]]]      # V = 1: one entry, any n
    assert ngram_counts(np.zeros(3, np.int64), 1, 50_000_000).shape == (50_000_000,)   # the largest table allowed
