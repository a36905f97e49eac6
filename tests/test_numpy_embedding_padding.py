"""rnncourse.numpy.embedding and .padding against torch.nn.Embedding, torch's packing utilities and finite differences."""

import re

import numpy as np
import pytest
import torch
from torch import nn
from torch.nn.utils.rnn import pad_sequence

from rnncourse.numpy import grad_check, rnn_forward, softmax_cross_entropy
from rnncourse.numpy.embedding import embedding_backward, embedding_forward
from rnncourse.numpy.many_to_one import last_states
from rnncourse.numpy.padding import batch_indices, length_mask, pad_sequences, padding_fraction, reverse_padded
from rnncourse.torch import embedding as t_embedding
from rnncourse.torch import padding as t_padding


def test_embedding_equals_nn_embedding_forward_and_backward():
    rng = np.random.default_rng(0)
    V, D = 7, 3
    ids = rng.integers(0, V, size=(5, 4))
    ids[0, 0] = ids[1, 1] = ids[2, 2] = 3                      # a repeated id: the scatter must add
    emb = nn.Embedding(V, D, dtype=torch.float64)
    E = emb.weight.detach().numpy().copy()
    x, cache = embedding_forward(ids, E)
    x_t = emb(torch.from_numpy(ids))
    np.testing.assert_array_equal(x, x_t.detach().numpy())
    dx = rng.normal(size=x.shape)
    x_t.backward(torch.from_numpy(dx))
    np.testing.assert_allclose(embedding_backward(dx, cache)["E"], emb.weight.grad.numpy(), rtol=1e-13, atol=1e-14)
    np.testing.assert_array_equal(t_embedding.embedding_forward(torch.from_numpy(ids), emb.weight).detach(), x_t.detach())


def test_embedding_backward_finite_differences_and_one_hot_identity():
    rng = np.random.default_rng(1)
    V, D = 5, 2
    ids = np.array([[0, 4], [4, 4], [2, 0]])
    E = rng.normal(size=(V, D))
    w = rng.normal(size=(3, 2, D))
    x, cache = embedding_forward(ids, E)
    np.testing.assert_allclose(x, np.eye(V)[ids] @ E)          # lookup == one-hot times E
    grads = embedding_backward(w, cache)
    errors = grad_check(lambda: float((embedding_forward(ids, E)[0] * w).sum()), {"E": E}, grads)
    assert errors["E"] < 1e-9
    assert np.all(grads["E"][[1, 3]] == 0)                     # tokens never read get no gradient
    assert not np.allclose(grads["E"][4], w[0, 1])             # id 4 read three times: a sum, not the last


def test_embedding_errors():
    E = np.zeros((3, 2))
    with pytest.raises(ValueError, match=r"ids should hold indices in \[0, 3\)"):
        embedding_forward(np.array([0, 3]), E)
    with pytest.raises(TypeError, match="ids should hold integer"):
        embedding_forward(np.array([0.0]), E)
    with pytest.raises(ValueError, match="dx should have shape"):
        embedding_backward(np.zeros((3, 2)), embedding_forward(np.array([0, 1]), E)[1])
    with pytest.raises(TypeError, match="ids is on"):
        t_embedding.embedding_forward(torch.tensor([0], device="meta"), torch.zeros(3, 2))


def test_embedding_backward_checks_dx_against_the_table():
    # dx must have the table's width D and dtype: a wrong one would give a dE that no longer fits E.
    E = np.zeros((3, 2))
    cache = embedding_forward(np.array([[0, 1, 1]]), E)[1]
    with pytest.raises(ValueError, match=re.escape("dx should have shape (n0, n1, D) = (1, 3, 2), but has shape "
                                                   "(1, 3, 5) (axis 2, D, is 5 instead of 2)")):
        embedding_backward(np.ones((1, 3, 5)), cache)
    with pytest.raises(TypeError, match="all arrays should share one dtype, but dx is float32, E is float64"):
        embedding_backward(np.ones((1, 3, 2), dtype=np.float32), cache)
    dE = embedding_backward(np.ones((1, 3, 2)), cache)["E"]
    assert dE.shape == E.shape and dE.dtype == E.dtype
    np.testing.assert_array_equal(dE, [[1, 1], [2, 2], [0, 0]])


def test_float32_embedding_keeps_float32():
    E = np.arange(6, dtype=np.float32).reshape(3, 2)
    x, cache = embedding_forward(np.array([[2, 0], [2, 2]]), E)
    dE = embedding_backward(np.full(x.shape, 0.5, np.float32), cache)["E"]
    assert x.dtype == np.float32 and dE.dtype == np.float32
    np.testing.assert_array_equal(dE, [[0.5, 0.5], [0, 0], [1.5, 1.5]])


def test_pad_and_mask_equal_torch():
    seqs = [np.array([1, 2, 3]), np.array([4]), np.array([5, 6])]
    padded, lengths = pad_sequences(seqs)
    expected = pad_sequence([torch.from_numpy(s) for s in seqs]).numpy()
    np.testing.assert_array_equal(padded, expected)
    np.testing.assert_array_equal(lengths, [3, 1, 2])
    mask = length_mask(lengths, 3)
    np.testing.assert_array_equal(mask, padded != 0)
    np.testing.assert_array_equal(t_padding.length_mask(torch.from_numpy(lengths), 3).numpy(), mask)
    vectors, _ = pad_sequences([np.ones((2, 3)), np.ones((1, 3))], pad_value=-1.0)
    assert vectors.shape == (2, 2, 3) and np.all(vectors[1, 1] == -1)


def test_reverse_padded_hand_worked():
    # out[t, b] = x[L_b - 1 - t, b] within sequence b, x[t, b] at its padding steps
    x = np.arange(12).reshape(4, 3)                            # x[t, b] = 3 t + b
    out = reverse_padded(x, np.array([4, 2, 1]))
    np.testing.assert_array_equal(out, [[9, 4, 2], [6, 1, 5], [3, 7, 8], [0, 10, 11]])
    torch_out = t_padding.reverse_padded(torch.from_numpy(x), torch.tensor([4, 2, 1]))
    np.testing.assert_array_equal(torch_out.numpy(), out)


def test_reverse_padded_per_length_and_involution():
    rng = np.random.default_rng(2)
    lengths = np.array([4, 1, 3])
    x = rng.normal(size=(4, 3, 2))
    r = reverse_padded(x, lengths)
    for b, L in enumerate(lengths):
        np.testing.assert_array_equal(r[:L, b], x[:L, b][::-1])
        np.testing.assert_array_equal(r[L:, b], x[L:, b])
    np.testing.assert_array_equal(reverse_padded(r, lengths), x)
    t_r = t_padding.reverse_padded(torch.from_numpy(x), torch.from_numpy(lengths)).numpy()
    np.testing.assert_array_equal(t_r, r)


def test_forward_rnn_on_padded_batch_equals_each_sequence_alone():
    rng = np.random.default_rng(3)
    lengths = np.array([5, 2, 3])
    x = rng.normal(size=(5, 3, 2)) * length_mask(lengths, 5)[..., None]
    W_xh, W_hh, b_h = rng.normal(size=(4, 2)), rng.normal(size=(4, 4)) * 0.5, rng.normal(size=4)
    hs, _ = rnn_forward(x, None, W_xh, W_hh, b_h)
    h_last = last_states(hs, lengths)
    for b, L in enumerate(lengths):
        alone, _ = rnn_forward(x[:L, b:b + 1], None, W_xh, W_hh, b_h)
        np.testing.assert_allclose(hs[:L, b], alone[:, 0], rtol=1e-14)
        np.testing.assert_allclose(h_last[b], alone[-1, 0], rtol=1e-14)


def test_masked_loss_ignores_padding_numpy_and_torch():
    rng = np.random.default_rng(4)
    lengths = np.array([3, 1])
    mask = length_mask(lengths, 3)
    logits, targets = rng.normal(size=(3, 2, 5)), rng.integers(0, 5, size=(3, 2))
    loss, dlogits = softmax_cross_entropy(logits, targets, mask=mask)
    changed = logits.copy()
    changed[~mask] = 100.0                                     # whatever the padding predicts
    assert softmax_cross_entropy(changed, targets, mask=mask)[0] == pytest.approx(float(loss), abs=1e-15)
    assert np.all(dlogits[~mask] == 0)
    z = torch.from_numpy(logits).requires_grad_()
    loss_t = t_padding.masked_cross_entropy(z, torch.from_numpy(targets), torch.from_numpy(mask))
    loss_t.backward()
    assert loss_t.item() == pytest.approx(float(loss), rel=1e-13)
    np.testing.assert_allclose(z.grad.numpy(), dlogits, rtol=1e-12, atol=1e-15)



@pytest.mark.parametrize("dtype", [torch.int32, torch.int16, torch.int8, torch.uint8, torch.uint16, torch.uint32])
def test_torch_masked_cross_entropy_takes_integer_targets_of_any_dtype(dtype):
    # The validation accepts every integer dtype, so the loss and its gradient must equal int64's;
    # F.cross_entropy itself takes only int64 (and uint8) class indices.
    rng = np.random.default_rng(6)
    logits, targets = rng.normal(size=(4, 3, 5)), rng.integers(0, 5, size=(4, 3))
    mask = torch.from_numpy(length_mask(np.array([4, 2, 1]), 4))
    results = []
    for y in (torch.from_numpy(targets), torch.from_numpy(targets).to(dtype)):
        z = torch.from_numpy(logits).requires_grad_()
        loss = t_padding.masked_cross_entropy(z, y, mask)
        loss.backward()
        results.append((loss.item(), z.grad))
    assert results[1][0] == results[0][0]
    torch.testing.assert_close(results[1][1], results[0][1], rtol=0, atol=0)
    with pytest.raises(TypeError, match="targets should hold integer class indices"):
        t_padding.masked_cross_entropy(torch.from_numpy(logits), torch.from_numpy(targets).double(), mask)

def test_padding_errors():
    with pytest.raises(ValueError, match=r"lengths should all be in 1..T = 1..2 .*the smallest is 0"):
        length_mask(np.array([2, 0]), 2)
    with pytest.raises(ValueError, match=r"lengths should all be in 1..T = 1..3 .*, but the largest is"):
        length_mask(np.array([4]), 3)
    with pytest.raises(TypeError, match="seqs should be a list of numpy arrays, but is ndarray"):
        pad_sequences(np.zeros((2, 3)))
    with pytest.raises(ValueError, match="seqs should hold at least one sequence, but is empty"):
        pad_sequences([])
    with pytest.raises(TypeError, match=r"seqs\[1\] should be a numpy.ndarray, but is list"):
        pad_sequences([np.zeros(2), [1, 2]])
    with pytest.raises(ValueError, match=r"feature shape of seqs\[0\], \(\), but seqs\[1\] has shape \(2, 1\)"):
        pad_sequences([np.zeros(2), np.zeros((2, 1))])
    with pytest.raises(TypeError, match=r"dtype of seqs\[0\], float64, but seqs\[1\] has int64"):
        pad_sequences([np.zeros(2), np.zeros(3, dtype=np.int64)])
    with pytest.raises(ValueError, match="mask selects no position"):
        t_padding.masked_cross_entropy(torch.zeros(2, 1, 3), torch.zeros(2, 1, dtype=torch.long),
                                       torch.zeros(2, 1, dtype=torch.bool))
    with pytest.raises(ValueError, match=r"mask should have shape \(T, B\) = \(2, 1\), but has shape \(1, 2\)"):
        t_padding.masked_cross_entropy(torch.zeros(2, 1, 3), torch.zeros(2, 1, dtype=torch.long),
                                       torch.ones(1, 2, dtype=torch.bool))
    with pytest.raises(TypeError, match="mask should be a torch.Tensor, but is ndarray"):
        t_padding.masked_cross_entropy(torch.zeros(2, 1, 3), torch.zeros(2, 1, dtype=torch.long),
                                       np.ones((2, 1), dtype=bool))


def test_pad_value_that_the_dtype_cannot_hold_is_rejected():
    ids = [np.array([5, 6, 7]), np.array([8])]
    with pytest.raises(ValueError, match="pad_value should be an integer that int64, .* but is 1.5"):
        pad_sequences(ids, pad_value=1.5)
    with pytest.raises(ValueError, match="pad_value should be an integer that int64, .* but is nan"):
        pad_sequences(ids, pad_value=np.nan)
    with pytest.raises(ValueError, match=r"pad_value should be an integer that int8, .*\(-128 to 127\), but is 300"):
        pad_sequences([np.array([1, 2], np.int8), np.array([3], np.int8)], pad_value=300)
    with pytest.raises(TypeError, match="pad_value should be a number, but is str 'a'"):
        pad_sequences([np.zeros(2), np.zeros(1)], pad_value="a")
    assert pad_sequences(ids, pad_value=-1.0)[0][1:, 1].tolist() == [-1, -1]     # an integer float is exact
    assert np.isnan(pad_sequences([np.zeros(2), np.zeros(1)], pad_value=np.nan)[0][1, 1])


def test_padding_fraction_checks_its_inputs():
    lengths = np.array([1, 3, 2])
    assert padding_fraction(lengths, [np.array([0, 1]), np.array([2])]) == pytest.approx(1 - 6 / 8)
    with pytest.raises(TypeError, match="lengths should be a numpy.ndarray, but is builtins.list"):
        padding_fraction([1, 2, 3], [np.array([0, 1])])
    with pytest.raises(TypeError, match="batches should be a list of index arrays, but is ndarray"):
        padding_fraction(lengths, np.array([0, 1]))
    with pytest.raises(ValueError, match="batches should hold at least one batch, but is empty"):
        padding_fraction(lengths, [])
    with pytest.raises(ValueError, match=r"batches\[1\] should hold indices in \[0, 3\), but holds values from 5 to 5"):
        padding_fraction(lengths, [np.array([0]), np.array([5])])
    with pytest.raises(ValueError, match=r"batches\[0\] should hold at least one index, but is empty"):
        padding_fraction(lengths, [np.array([], dtype=np.int64)])


def test_pad_value_beyond_the_integer_range_is_rejected_exactly():
    ids = [np.array([5, 6, 7]), np.array([8])]
    with pytest.raises(ValueError, match=r"^pad_value should be an integer that int64, .* but is "
                                         r"np\.float64\(9\.223372036854776e\+18\)"):
        pad_sequences(ids, pad_value=np.float64(2.0 ** 63))            # was let through and wrapped to INT_MIN
    with pytest.raises(ValueError, match=r"^pad_value should be an integer that uint8, .* but is np\.int64\(-1\)"):
        pad_sequences([np.array([1, 2], np.uint8), np.array([3], np.uint8)], pad_value=np.int64(-1))
    with pytest.raises(ValueError, match=r"^pad_value should be an integer that int64, .* but is inf"):
        pad_sequences(ids, pad_value=np.inf)
    padded = pad_sequences(ids, pad_value=np.float64(-(2.0 ** 63)))[0]  # the smallest int64 is exact
    assert padded[1:, 1].tolist() == [-2 ** 63, -2 ** 63]
    assert pad_sequences(ids, pad_value=np.iinfo(np.int64).max)[0][2, 1] == np.iinfo(np.int64).max


def test_padding_fraction_rejects_empty_sequences():
    with pytest.raises(ValueError, match=r"^lengths should all be >= 1 \(every sequence has at least one step\), "
                                         r"but the smallest is 0; drop empty sequences$"):
        padding_fraction(np.array([0, 0]), [np.array([0, 1])])         # was ZeroDivisionError
    with pytest.raises(ValueError, match=r"^lengths should all be >= 1 .* the smallest is 0"):
        padding_fraction(np.array([3, 0]), [np.array([0])])            # also when the batch skips it


def test_bucketed_batches_hold_one_length_group_each_and_come_in_random_order():
    # by_length=True: 20 distinct lengths in batches of 4 are the 5 groups of sorted lengths, and the
    # docstring promises the order of the batches is still random: over 500 seeds each group comes first
    # with frequency 1/5, within 5 standard errors sqrt(0.2 * 0.8 / 500) (not always the shortest group).
    lengths = np.random.default_rng(0).permutation(np.arange(1, 21))
    groups = [set(range(1 + 4 * k, 5 + 4 * k)) for k in range(5)]
    first = np.zeros(5)
    for seed in range(500):
        batches = batch_indices(lengths, 4, rng=np.random.default_rng(seed), by_length=True)
        held = [set(lengths[b].tolist()) for b in batches]
        assert sorted(held, key=min) == groups
        first[groups.index(held[0])] += 1
    assert np.all(np.abs(first / 500 - 0.2) <= 5 * np.sqrt(0.2 * 0.8 / 500)), first


def test_bucketed_batches_shuffle_examples_of_one_length():
    # The docstring promises ties in random order: examples of equal length are not always cut into
    # the same batches. Two length groups of 8 in batches of 4: every batch holds one length, and the
    # batches (as sets of examples) change with the seed, also when all lengths are equal.
    lengths = np.array([3, 7] * 8)
    partitions = set()
    for seed in range(10):
        batches = batch_indices(lengths, 4, rng=np.random.default_rng(seed), by_length=True)
        assert all(len(set(lengths[b].tolist())) == 1 for b in batches)
        assert sorted(np.concatenate(batches).tolist()) == list(range(16))
        partitions.add(frozenset(frozenset(b.tolist()) for b in batches))
    assert len(partitions) > 1
    equal = np.full(12, 5)
    one, two = (frozenset(frozenset(b.tolist()) for b in
                          batch_indices(equal, 4, rng=np.random.default_rng(seed), by_length=True)) for seed in (0, 1))
    assert one != two


def test_lengths_are_checked_by_one_helper_in_padding_and_many_to_one():
    hs = np.arange(24.0).reshape(4, 3, 2)
    for call in (lambda L: length_mask(L, 4), lambda L: reverse_padded(hs, L), lambda L: last_states(hs, L)):
        with pytest.raises(ValueError, match=r"lengths should all be in 1..T = 1..4 .*the smallest is 0"):
            call(np.array([0, 2, 3]))
        with pytest.raises(ValueError, match=r"lengths should all be in 1..T = 1..4 .*, but the largest is 9"):
            call(np.array([9, 2, 3]))
        with pytest.raises(TypeError, match="lengths should hold integer sequence lengths, but has dtype float64"):
            call(np.array([1.0, 2.0, 3.0]))


@pytest.mark.parametrize("flag", ["False", "no", 1, None])
def test_batch_indices_takes_by_length_as_true_or_false_only(flag):
    with pytest.raises(TypeError, match=rf"^by_length should be True or False, but is {type(flag).__name__} "):
        batch_indices(np.array([5, 2, 4, 3]), 2, rng=np.random.default_rng(0), by_length=flag)


@pytest.mark.parametrize("E, error, message", [
    (np.zeros((3, 2), np.int64), TypeError,
     r"^E should hold floating-point numbers \(float32 or float64\), but has dtype int64"),
    (np.array([[0.0, np.nan], [0.0, 0.0], [0.0, 0.0]]), ValueError, r"^E contains NaN or infinity"),
    (np.zeros(3), ValueError, r"^E should have 2 dimensions with shape \(V, D\), but has 1 dimensions with shape "
                              r"\(3,\); E has one row per token"),
], ids=["int", "nan", "1-D"])
def test_embedding_forward_checks_the_table(E, error, message):
    with pytest.raises(error, match=message):
        embedding_forward(np.array([[0, 1]]), E)


@pytest.mark.parametrize("rng", [None, 0, np.random])
def test_batch_indices_takes_a_generator_only(rng):
    with pytest.raises(TypeError, match=rf"^rng should be a numpy\.random\.Generator, but is {type(rng).__name__}; "
                                        r"create one with np\.random\.default_rng\(seed\)$"):
        batch_indices(np.array([5, 2, 4, 3]), 2, rng=rng)
