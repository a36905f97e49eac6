"""Chapter 9's PyTorch parts: batching by length, the tagger, the stateful character model, the debugging tools."""

import copy
import math

import matplotlib

matplotlib.use("Agg")

import numpy as np  # noqa: E402
import pytest  # noqa: E402
import torch  # noqa: E402
import torch.nn.functional as F  # noqa: E402

from rnncourse.numpy.clip import grad_norm as np_grad_norm  # noqa: E402
from rnncourse.numpy.padding import batch_indices, pad_sequences, padding_fraction  # noqa: E402
from rnncourse.plotting.practice import (plot_accuracies, plot_batch_masks, plot_lr_range,  # noqa: E402
                                         plot_tagged_lines)
from rnncourse.torch.charlm import CharLM, evaluate_loss, train_charlm  # noqa: E402
from rnncourse.torch.debug import grad_norms, lr_range_test  # noqa: E402
from rnncourse.torch.padding import masked_cross_entropy  # noqa: E402
from rnncourse.torch.tagger import Tagger, fit_tagger, predict_tags  # noqa: E402
from rnncourse.torch.training import check_finite_update  # noqa: E402


def test_batch_indices_cover_every_example_once_and_sorting_cuts_padding():
    lengths = np.random.default_rng(0).integers(1, 60, size=203)
    for by_length in (False, True):
        batches = batch_indices(lengths, 16, rng=np.random.default_rng(1), by_length=by_length)
        assert sorted(np.concatenate(batches).tolist()) == list(range(203))
        assert max(len(b) for b in batches) == 16
    random_b = batch_indices(lengths, 16, rng=np.random.default_rng(1))
    sorted_b = batch_indices(lengths, 16, rng=np.random.default_rng(1), by_length=True)
    assert padding_fraction(lengths, sorted_b) < 0.1 < padding_fraction(lengths, random_b)
    assert padding_fraction(np.array([3, 3]), [np.array([0, 1])]) == 0.0
    assert padding_fraction(np.array([1, 3]), [np.array([0, 1])]) == pytest.approx(1 / 3)


def _lines(rng, n):
    ids = [rng.integers(1, 6, size=rng.integers(1, 9)) for _ in range(n)]
    return ids, [(s % 2).astype(np.int64) for s in ids]          # tag = parity of the id


def test_tagger_learns_and_packed_predictions_equal_each_line_alone():
    rng = np.random.default_rng(2)
    ids, tags = _lines(rng, 64)
    torch.manual_seed(0)
    model = Tagger(6, 4, 8, 2, bidirectional=True)
    losses = fit_tagger(model, ids, tags, B=16, epochs=15, lr=1e-2)
    assert losses[-1] < 0.2 * losses[0]
    pred = predict_tags(model, ids)
    assert np.mean(np.concatenate(pred) == np.concatenate(tags)) > 0.95
    alone = [predict_tags(model, [s])[0] for s in ids[:8]]
    assert all(np.array_equal(a, p) for a, p in zip(alone, pred[:8]))


def test_fit_tagger_masked_loss_counts_the_real_steps_only():
    # One batch holding every line: fit_tagger's first loss is the mean NLL over the real steps,
    # computed here line by line with no padding at all (torch.nn modules, no packing). With
    # masked=False the padding steps count too: there the packed RNN outputs zeros, so the scores
    # are the read-out's bias and the label is the padding's tag 0.
    rng = np.random.default_rng(5)
    ids, tags = _lines(rng, 6)
    lengths = [len(s) for s in ids]
    assert min(lengths) < max(lengths)                              # the batch has padding
    torch.manual_seed(0)
    model = Tagger(6, 4, 5, 3, bidirectional=True)
    with torch.no_grad():
        nll = [F.cross_entropy(model.out(model.rnn(model.embed(torch.from_numpy(s)[:, None]))[0])[:, 0],
                               torch.from_numpy(y), reduction="sum") for s, y in zip(ids, tags)]
        pad_nll = F.cross_entropy(model.out.bias[None], torch.tensor([0]))
    n_real, n_all = sum(lengths), max(lengths) * len(ids)
    masked = fit_tagger(copy.deepcopy(model), ids, tags, B=len(ids), masked=True)
    unmasked = fit_tagger(copy.deepcopy(model), ids, tags, B=len(ids), masked=False)
    assert masked[0] == pytest.approx(sum(nll).item() / n_real, rel=1e-5)
    assert unmasked[0] == pytest.approx((sum(nll).item() + (n_all - n_real) * pad_nll.item()) / n_all, rel=1e-5)


def test_stateful_training_carries_state_and_missing_detach_fails():
    ids = np.tile(np.arange(5), 200)                               # 0 1 2 3 4 0 1 ...: needs context across chunks
    torch.manual_seed(0)
    model = CharLM(5, 4, 8)
    losses = train_charlm(model, ids, T=2, B=4, steps=150, lr=1e-2)
    assert len(losses) == 150 and losses[-1] < 0.1
    assert 0 <= evaluate_loss(model, ids, T=2, B=4) < 0.1
    with pytest.raises(RuntimeError, match="second time"):
        train_charlm(CharLM(5, 4, 8), ids, T=2, B=4, steps=3, detach=False)


def test_evaluate_loss_of_a_model_that_knows_nothing_is_log_v():
    torch.manual_seed(0)
    lm = CharLM(5, 4, 8)
    with torch.no_grad():                                          # all logits 0: every character has p = 1/5
        lm.out.weight.zero_()
        lm.out.bias.zero_()
    assert evaluate_loss(lm, np.tile(np.arange(5), 20), T=2, B=4) == pytest.approx(math.log(5))


def test_train_charlm_trains_with_dropout_whatever_the_mode_it_was_given():
    torch.manual_seed(0)
    lm, ids = CharLM(5, 4, 8, num_layers=2, dropout=0.5), np.tile(np.arange(5), 40)
    expected = train_charlm(copy.deepcopy(lm).train(), ids, T=3, B=2, steps=3)
    model = copy.deepcopy(lm).eval()
    assert train_charlm(model, ids, T=3, B=2, steps=3) == expected
    assert model.training


def test_fit_tagger_clips_at_1_by_default():
    rng = np.random.default_rng(0)
    ids = [rng.integers(1, 6, size=n) for n in (4, 6, 3, 5)]
    tags = [s % 3 for s in ids]
    torch.manual_seed(0)
    model = Tagger(6, 4, 5, 3)

    def fit(**clip):
        return fit_tagger(copy.deepcopy(model), ids, tags, B=2, epochs=3, lr=0.5, **clip)
    assert fit() == fit(clip=1.0) != fit(clip=2.0)                 # at lr=0.5 the clip changes the losses



@pytest.mark.parametrize("dtype", [np.int32, np.int16, np.uint8, np.uint16, np.uint32])
def test_training_loops_take_integer_ids_and_tags_of_any_dtype(dtype):
    # The checks accept every integer dtype (the models embed ids.long()), so the losses must equal
    # int64's exactly; F.cross_entropy alone takes only int64 (or uint8) targets.
    text = np.tile(np.arange(5), 20)
    ids, tags = _lines(np.random.default_rng(7), 6)
    torch.manual_seed(0)
    lm, tagger = CharLM(5, 4, 8), Tagger(6, 4, 5, 2)
    runs = []
    for cast in (np.int64, dtype):
        runs.append((train_charlm(copy.deepcopy(lm), text.astype(cast), T=3, B=2, steps=4),
                     evaluate_loss(lm, text.astype(cast), T=3, B=2),
                     fit_tagger(copy.deepcopy(tagger), [s.astype(cast) for s in ids], [y.astype(cast) for y in tags],
                                B=3, epochs=2)))
    assert runs[1] == runs[0]
    with pytest.raises(TypeError, match="ids should hold integer class indices, but has dtype float64"):
        train_charlm(lm, text.astype(float), T=3, B=2, steps=1)
    with pytest.raises(TypeError, match="ids should hold integer class indices, but has dtype float64"):
        evaluate_loss(lm, text.astype(float), T=3, B=2)
    with pytest.raises(TypeError, match=r"^tags\[0\] should hold integers, but has dtype float64; convert it with "
                                        r"tags\[0\]\.astype\(np\.int64\)$"):
        fit_tagger(tagger, ids, [y.astype(float) for y in tags], B=3)     # named as the caller named them
    with pytest.raises(TypeError, match=r"^ids\[0\] should hold integers, but has dtype float32"):
        fit_tagger(tagger, [s.astype(np.float32) for s in ids], tags, B=3)


def _loop_case(loop):
    """Tagger data and a small seeded model for the chapter loop ``loop`` (``"train_charlm"`` or ``"fit_tagger"``)."""
    ids, tags = _lines(np.random.default_rng(0), 8)
    torch.manual_seed(0)
    return ids, tags, CharLM(5, 4, 8) if loop == "train_charlm" else Tagger(6, 4, 8, 2)


@pytest.mark.parametrize("loop", ["train_charlm", "fit_tagger"])
def test_the_chapter_loops_stop_before_stepping_on_an_infinite_loss(loop):
    # Read-out biases of +-3e38, float32's limit: the scores are finite, but an odd target's loss, the
    # difference of two of them, is inf at the first update. (Read-out weights of 1e38 gave finite losses and
    # finite gradients; those are clipped, see the next test.) Without the check, Adam steps on a NaN gradient
    # and every weight and every later loss is NaN.
    ids, tags, model = _loop_case(loop)
    with torch.no_grad():
        model.out.bias[0::2], model.out.bias[1::2] = 3e38, -3e38
    before = copy.deepcopy(model.state_dict())
    with pytest.raises(FloatingPointError, match=r"^the (loss|gradient norm) became (inf|nan) at update 0; training "
                                                 r"stopped before the optimizer step.*no update has been made yet, "
                                                 r"so the learning rate is not the cause"):
        if loop == "train_charlm":
            train_charlm(model, np.tile(np.arange(5), 20), T=2, B=4, steps=3)
        else:
            fit_tagger(model, ids, tags, B=4)
    for name, value in model.state_dict().items():
        assert torch.equal(value, before[name]), name


@pytest.mark.parametrize("loop", ["train_charlm", "fit_tagger"])
def test_the_chapter_loops_clip_a_finite_gradient_too_large_to_square_in_float32(loop):
    # Read-out weights of 1e21: a finite loss, finite gradient entries near 1e20 whose float32 squares overflow.
    # The loops stopped with "the gradient norm became inf"; clipping is what such a gradient needs.
    ids, tags, model = _loop_case(loop)
    with torch.no_grad():
        model.out.weight.mul_(1e21)
    if loop == "train_charlm":
        losses = train_charlm(model, np.tile(np.arange(5), 20), T=2, B=4, steps=1, clip=1.0)
    else:
        losses = fit_tagger(model, ids, tags, B=8, clip=1.0)[:1]
    assert len(losses) == 1 and math.isfinite(losses[0])
    grads = {name: p.grad.numpy() for name, p in model.named_parameters() if p.grad is not None}
    assert np_grad_norm(grads) == pytest.approx(1.0, rel=1e-5)        # the last update's gradient, clipped


@pytest.mark.parametrize("scale", [1e20, 1e-30])
def test_grad_norms_are_the_numpy_twins_norms_where_float32_squares_overflow_or_underflow(scale):
    # p.grad.norm() sums float32 squares: inf for entries of 1e20, 0 for entries of 1e-30.
    model = torch.nn.Linear(4, 3)
    model.weight.grad = torch.full((3, 4), scale)
    model.bias.grad = torch.full((3,), -scale)
    norms = grad_norms(model)
    for name, p in model.named_parameters():
        assert norms[name] == pytest.approx(np_grad_norm({name: p.grad.numpy()}), rel=1e-6, abs=0)
    assert norms["weight"] == pytest.approx(12 ** 0.5 * scale, rel=1e-6, abs=0)


def _scores_and_targets(n=70_000, V=64):
    torch.manual_seed(0)
    lin = torch.nn.Linear(8, V)
    return lin, torch.randn(n, 1, 8), torch.randint(0, V, (n, 1)), torch.ones(n, 1, dtype=torch.bool)


def test_masked_cross_entropy_in_half_precision_counts_more_positions_than_float16_holds():
    # The mask was counted in the logits' dtype: float16 stops at 65504, so 70,000 positions gave a loss of 0
    # under autocast (and nan for float16 logits), and the model stopped learning without a word.
    lin, h, y, mask = _scores_and_targets()
    reference = masked_cross_entropy(lin(h), y, mask)
    assert reference.dtype == torch.float32
    with torch.autocast("cpu", dtype=torch.float16):
        mixed = masked_cross_entropy(lin(h), y, mask)
    half = lin(h).detach().half().requires_grad_()
    plain = masked_cross_entropy(half, y, mask)
    for loss in (mixed, plain):
        # float32, as F.cross_entropy gives under autocast; each logit is rounded to float16 (relative 2**-11)
        assert loss.dtype == torch.float32
        assert float(loss.detach()) == pytest.approx(float(reference.detach()), rel=2e-3)
    mixed.backward()
    plain.backward()
    for grad in (lin.weight.grad, half.grad):
        assert torch.isfinite(grad).all() and float(grad.float().abs().max()) > 0
    masked = masked_cross_entropy(lin(h).double(), y, mask.double())
    assert masked.dtype == torch.float64
    assert float(masked.detach()) == pytest.approx(float(reference.detach()), rel=1e-6)


def test_check_finite_update_names_the_value_that_is_not_finite():
    check_finite_update(2.5, 1e30, 3, 0.1)                                  # large but finite: no error
    with pytest.raises(FloatingPointError, match=r"^the gradient norm became nan at update 7;.*lower the learning "
                                                 r"rate \(lr=0\.1\) or check the data$"):
        check_finite_update(2.5, math.nan, 7, 0.1)
    with pytest.raises(FloatingPointError, match=r"^the loss became -inf at update 0;.*the learning rate is not the "
                                                 r"cause"):
        check_finite_update(-math.inf, 1.0, 0, 0.1)


def test_training_rejects_a_clip_that_is_not_a_positive_number():
    ids, tags = _lines(np.random.default_rng(0), 8)
    text = np.tile(np.arange(5), 20)
    for clip in (-1.0, 0):                  # clip_grad_norm_ with a negative norm flips the gradient
        with pytest.raises(ValueError, match="clip should be a finite number > 0, but is"):
            fit_tagger(Tagger(6, 4, 8, 2), ids, tags, clip=clip)
        with pytest.raises(ValueError, match="clip should be a finite number > 0, but is"):
            train_charlm(CharLM(5, 4, 8), text, T=2, B=4, steps=2, clip=clip)
    with pytest.raises(TypeError, match="clip should be a number, but is str"):
        train_charlm(CharLM(5, 4, 8), text, T=2, B=4, steps=2, clip="1")


def test_fit_tagger_wants_one_tag_per_id():
    ids = [np.array([1, 2, 3]), np.array([4, 5, 1])]
    tags = [np.array([1, 2]), np.array([1, 2, 1])]        # one tag short: it was padded with tag 0 and trained on
    with pytest.raises(ValueError, match=r"^tags\[0\] should have the shape of ids\[0\], \(3,\), one tag per id, "
                                         r"but has shape \(2,\)$"):
        fit_tagger(Tagger(6, 3, 4, 3), ids, tags, B=2)
    with pytest.raises(ValueError, match="^ids and tags should hold the same number of sequences, at least one, but "
                                         "hold 2 and 1$"):
        fit_tagger(Tagger(6, 3, 4, 3), ids, tags[1:], B=2)    # was an IndexError
    with pytest.raises(ValueError, match="hold 0 and 0$"):
        fit_tagger(Tagger(6, 3, 4, 3), [], [], B=2)           # was an error about the dtype of lengths
    with pytest.raises(TypeError, match="^tags should be a list of numpy arrays, one per sequence, but is ndarray$"):
        fit_tagger(Tagger(6, 3, 4, 3), ids, np.ones((2, 3), dtype=np.int64), B=2)


def test_empty_ids_are_refused_by_the_tagger_and_the_language_model():
    for ids, lengths in ((torch.zeros(0, 2, dtype=torch.long), torch.ones(2, dtype=torch.long)),
                         (torch.zeros(2, 0, dtype=torch.long), torch.zeros(0, dtype=torch.long))):
        message = rf"^ids should hold at least one time step and one sequence, but has shape \{tuple(ids.shape)}$"
        with pytest.raises(ValueError, match=message.replace(")$", r"\)$")):
            Tagger(6, 3, 4, 3)(ids, lengths)
        with pytest.raises(ValueError, match=message.replace(")$", r"\)$")):
            CharLM(6, 3, 4)(ids)


def test_predict_tags_rejects_a_batch_size_below_one():
    model, ids = Tagger(6, 4, 8, 2), [np.array([1, 2, 3])]
    for B in (-1, 0):                       # B=-1 used to return [] silently
        with pytest.raises(ValueError, match=f"B should be an integer >= 1, but is {B}"):
            predict_tags(model, ids, B=B)


def test_unpacked_predictions_of_a_padded_batch_equal_each_line_alone():
    # packed=False runs the RNN over the padding too; a forward RNN reads the padding only after a
    # line's last real step, so the first L predictions of each column are the line's own.
    ids, _ = _lines(np.random.default_rng(3), 12)
    assert len({len(s) for s in ids}) > 2                             # lines of several lengths share a batch
    torch.manual_seed(0)
    model = Tagger(6, 4, 8, 5)
    pred = predict_tags(model, ids, B=12, packed=False)
    alone = [predict_tags(model, [s], packed=False)[0] for s in ids]  # one line: no padding at all
    assert len(set(np.concatenate(alone).tolist())) > 1               # the predictions depend on the input
    assert [p.tolist() for p in pred] == [a.tolist() for a in alone]
    assert [len(p) for p in pred] == [len(s) for s in ids]


def test_tagger_and_charlm_check_ids_and_h0_once_per_forward():
    tagger, lm = Tagger(6, 4, 8, 2), CharLM(5, 4, 8)
    ids, lengths = torch.ones(3, 2, dtype=torch.long), torch.tensor([3, 2])
    with pytest.raises(TypeError, match="ids should hold integer class indices, but has dtype torch.float32"):
        tagger(ids.float(), lengths)
    with pytest.raises(ValueError, match=r"ids should hold indices in \[0, 6\), but holds values from 0 to 6"):
        tagger(torch.tensor([[1, 2], [3, 6], [1, 0]]), lengths)
    with pytest.raises(ValueError, match=r"ids should hold indices in \[0, 5\), but holds values from 5 to 5"):
        lm(ids * 5)
    with pytest.raises(ValueError, match=r"h0 should have shape \(num_layers, B, H\) = \(1, 2, 8\), but has shape"):
        lm(ids, torch.zeros(1, 3, 8))
    with pytest.raises(TypeError, match="h0 has dtype torch.float64 but the model has dtype torch.float32"):
        lm(ids, torch.zeros(1, 2, 8, dtype=torch.float64))
    logits, h_T = lm(ids, torch.zeros(1, 2, 8))
    assert logits.shape == (3, 2, 5) and h_T.shape == (1, 2, 8)


def test_grad_norms_and_lr_range_test():
    torch.manual_seed(0)
    model = torch.nn.Sequential(torch.nn.Linear(3, 4), torch.nn.Linear(4, 1))
    model[0].weight.requires_grad_(True)
    x, y = torch.randn(32, 3), torch.randn(32, 1)
    ((model(x) - y) ** 2).mean().backward()
    norms = grad_norms(model)
    assert set(norms) == {"0.weight", "0.bias", "1.weight", "1.bias"}
    assert norms["1.weight"] == pytest.approx(float(model[1].weight.grad.norm()))
    untouched = torch.nn.Linear(2, 2)
    assert all(math.isnan(v) for v in grad_norms(untouched).values())
    lrs, losses = lr_range_test(model, lambda m, b: ((m(b[0]) - b[1]) ** 2).mean(), [(x, y)] * 60,
                                lr_min=1e-4, lr_max=100.0)
    assert lrs[0] == pytest.approx(1e-4) and np.all(np.diff(lrs) > 0)
    assert len(lrs) < 60 and losses[-1] > 4 * min(losses)        # stopped once the loss blew up
    with pytest.raises(ValueError, match="lr_max should be larger"):
        lr_range_test(model, None, [0, 1], lr_min=1.0, lr_max=0.1)
    with pytest.raises(ValueError, match="lr_max should be larger than lr_min, but they are 0.1 and 0.1"):
        lr_range_test(model, None, [0, 1], lr_min=0.1, lr_max=0.1)


def test_lr_range_test_stops_once_the_loss_exceeds_stop_factor_times_the_best():
    script = iter([1.0, 0.9, 2.5, 3.5, 4.0, 1.0])               # best 0.9: the default stop_factor=4 stops above 3.6
    lrs, losses = lr_range_test(torch.nn.Linear(1, 1), lambda m, b: m.weight.sum() * 0 + next(script), [None] * 6,
                                lr_min=1e-6, lr_max=1e-5)
    assert losses == pytest.approx([1.0, 0.9, 2.5, 3.5, 4.0])


def test_practice_figures():
    masks = {"a": [np.ones((3, 2), bool), np.array([[1, 1], [1, 0]], bool)]}
    assert "10% padding" in plot_batch_masks(masks).axes[0].get_title()
    assert plot_lr_range([1e-3, 1e-2], [1.0, 0.5], suggested=1e-3).axes[0].get_xscale() == "log"
    fig = plot_tagged_lines(["ab"], {"truth": [np.array([0, 1])], "model": [np.array([0, 0])]}, ("x", "y"))
    assert {t.get_text() for t in fig.axes[0].texts} >= {"a", "b", "truth", "model"}
    assert [t.get_text() for t in plot_accuracies({"m": 0.5}).axes[0].texts] == ["0.500"]
    padded, lengths = pad_sequences([np.array([1, 2]), np.array([3])])
    assert padded.shape == (2, 2) and lengths.tolist() == [2, 1]


def test_tagger_checks_the_lengths_packed_or_not():
    model, ids = Tagger(6, 4, 5, 3), torch.ones(5, 2, dtype=torch.long)
    for packed in (True, False):
        with pytest.raises(ValueError, match=r"lengths should all be in 1..T = 1..5 .*, but the largest is 9"):
            model(ids, torch.tensor([9, 3]), packed=packed)
    assert model(ids, torch.tensor([5, 3]), packed=False).shape == (5, 2, 3)


def _range_setup():
    torch.manual_seed(0)
    model = torch.nn.Sequential(torch.nn.Linear(3, 4), torch.nn.Linear(4, 1))
    return model, [(torch.randn(32, 3), torch.randn(32, 1))]


def test_lr_range_test_with_negative_losses_stops_only_when_the_loss_blows_up():
    shifted = lambda m, b: ((m(b[0]) - b[1]) ** 2).mean() - 10.0           # noqa: E731: a loss below zero
    model, batch = _range_setup()
    lrs, losses = lr_range_test(model, shifted, batch * 20, lr_min=1e-4, lr_max=1e-3)
    assert len(lrs) == 20 and max(losses) < 0                              # small rates: no blow-up, no stop
    model, batch = _range_setup()
    lrs, losses = lr_range_test(model, shifted, batch * 60, lr_min=1e-4, lr_max=100.0)
    best = min(losses)
    assert len(lrs) < 60 and losses[-1] - best > 3 * abs(best)             # stopped once the loss blew up


def test_lr_range_test_checks_stop_factor():
    model, batch = _range_setup()
    loss = lambda m, b: ((m(b[0]) - b[1]) ** 2).mean()                     # noqa: E731
    with pytest.raises(ValueError, match=r"^stop_factor should be a finite number > 0, but is 0.0"):
        lr_range_test(model, loss, batch * 5, stop_factor=0)
    with pytest.raises(ValueError, match=r"^stop_factor should be a number > 1 \(stop once the loss exceeds "
                                         r"stop_factor times its best\), but is 1.0"):
        lr_range_test(model, loss, batch * 5, stop_factor=1)
    with pytest.raises(TypeError, match=r"^stop_factor should be a number, but is str '4'"):
        lr_range_test(model, loss, batch * 5, stop_factor="4")


def test_params_from_rnn_and_rnn_from_params_round_trip_a_deep_bidirectional_relu_rnn():
    from rnncourse.torch.convert import params_from_rnn, rnn_from_params

    torch.manual_seed(0)
    rnn = torch.nn.RNN(3, 4, num_layers=2, nonlinearity="relu", bidirectional=True, dtype=torch.float64)
    params = params_from_rnn(rnn)
    upper = "_l1_reverse"                               # an upper layer reads both directions below: D_in = 2H
    assert params["W_xh" + upper].shape == (4, 8)
    assert np.array_equal(params["W_xh" + upper], rnn.weight_ih_l1_reverse.detach().numpy())
    np.testing.assert_array_equal(params["b_h" + upper],                  # the two biases, as their sum
                                  (rnn.bias_ih_l1_reverse + rnn.bias_hh_l1_reverse).detach().numpy())
    back = rnn_from_params(params, bidirectional=True, nonlinearity=rnn.nonlinearity)
    assert back.nonlinearity == "relu" and back.num_layers == 2 and back.bidirectional
    assert all(not getattr(back, f"bias_hh{s}").any() for s in ("_l0", "_l0_reverse", "_l1", "_l1_reverse"))
    x, h0 = torch.randn(5, 2, 3, dtype=torch.float64), torch.randn(4, 2, 4, dtype=torch.float64)
    for mine, theirs in zip(back(x, h0), rnn(x, h0)):
        torch.testing.assert_close(mine, theirs, rtol=0, atol=1e-12)


def test_torch_reverse_padded_reverses_each_sequence_within_its_length():
    from rnncourse.torch.padding import reverse_padded

    x = torch.tensor([[1, 10, 100], [2, 20, 0], [3, 0, 0]]).double()    # (T, B) = (3, 3), lengths 3, 2, 1
    expected = torch.tensor([[3, 20, 100], [2, 10, 0], [1, 0, 0]]).double()
    torch.testing.assert_close(reverse_padded(x, torch.tensor([3, 2, 1])), expected, rtol=0, atol=0)
    features = torch.stack([x, -x], dim=2)                                # (T, B, 2): whole feature vectors move
    torch.testing.assert_close(reverse_padded(features, torch.tensor([3, 2, 1])),
                               torch.stack([expected, -expected], dim=2), rtol=0, atol=0)


@pytest.mark.parametrize("build", [lambda **kw: CharLM(7, 4, 8, num_layers=2, **kw),
                                   lambda **kw: Tagger(7, 4, 5, 3, bidirectional=True, num_layers=2, **kw)],
                         ids=["CharLM", "Tagger"])
def test_a_generator_gives_the_weights_that_torch_manual_seed_gives_and_leaves_the_global_one_alone(build):
    torch.manual_seed(3)
    seeded = build().state_dict()                                   # PyTorch's own initialisation
    state = torch.get_rng_state()
    drawn = build(generator=torch.Generator().manual_seed(3)).state_dict()
    assert torch.equal(torch.get_rng_state(), state)                # as ElmanRNN(generator=...) leaves it
    assert drawn.keys() == seeded.keys()
    for name in seeded:
        assert torch.equal(drawn[name], seeded[name]), name
    again = build(generator=torch.Generator().manual_seed(3)).state_dict()
    assert all(torch.equal(again[name], drawn[name]) for name in drawn)
    other = build(generator=torch.Generator().manual_seed(4)).state_dict()
    assert not torch.equal(other["out.weight"], drawn["out.weight"])
    with pytest.raises(TypeError, match="generator should be a CPU torch.Generator or None, but is int"):
        build(generator=3)


def test_the_tagger_s_padding_row_stays_zero_when_drawn_from_a_generator():
    tagger = Tagger(7, 4, 5, 3, generator=torch.Generator().manual_seed(0))
    assert torch.equal(tagger.embed.weight[0], torch.zeros(4)) and tagger.embed.weight[1:].abs().sum() > 0


@pytest.mark.parametrize("flag", ["no", 1, None])
def test_the_tagger_takes_bidirectional_as_true_or_false_only(flag):
    with pytest.raises(TypeError, match=rf"^bidirectional should be True or False, but is {type(flag).__name__} "):
        Tagger(7, 4, 6, 3, bidirectional=flag)


@pytest.mark.parametrize("flag", ["no", "False", 0, None])
def test_the_practice_loops_take_their_yes_no_flags_as_true_or_false_only(flag):
    # bool("False") is True and None is falsy: each would pick a branch without a word. The flags are
    # checked before the first update, so a refused call leaves the weights as they were.
    ids, tags = _lines(np.random.default_rng(0), 8)
    text = np.tile(np.arange(5), 20)
    torch.manual_seed(0)
    tagger, lm = Tagger(6, 4, 8, 2), CharLM(5, 4, 8)
    before = [copy.deepcopy(m.state_dict()) for m in (tagger, lm)]
    x, lengths = torch.ones(3, 2, dtype=torch.long), torch.tensor([3, 2])
    calls = {"packed": (lambda: tagger(x, lengths, packed=flag), lambda: predict_tags(tagger, ids, packed=flag)),
             "masked": (lambda: fit_tagger(tagger, ids, tags, B=4, masked=flag),),
             "by_length": (lambda: fit_tagger(tagger, ids, tags, B=4, by_length=flag),),
             "stateful": (lambda: train_charlm(lm, text, T=2, B=4, steps=2, stateful=flag),
                          lambda: evaluate_loss(lm, text, T=2, B=4, stateful=flag)),
             "detach": (lambda: train_charlm(lm, text, T=2, B=4, steps=2, detach=flag),)}
    for name, fs in calls.items():
        for call in fs:
            with pytest.raises(TypeError, match=rf"^{name} should be True or False, but is {type(flag).__name__} "):
                call()
    for model, state in zip((tagger, lm), before):
        for key, value in model.state_dict().items():
            assert torch.equal(value, state[key]), key
    assert [p.tolist() for p in predict_tags(tagger, ids, packed=np.bool_(True))] == \
        [p.tolist() for p in predict_tags(tagger, ids)]                   # NumPy's bool is a bool


def test_the_practice_loops_take_a_seed_that_torch_manual_seed_takes():
    from rnncourse.torch.training import MAX_SEED

    ids, tags = _lines(np.random.default_rng(0), 8)
    text = np.tile(np.arange(5), 20)
    for call in (lambda seed: train_charlm(CharLM(5, 4, 8), text, T=2, B=4, steps=1, seed=seed),
                 lambda seed: fit_tagger(Tagger(6, 4, 8, 2), ids, tags, B=8, seed=seed)):
        with pytest.raises(ValueError, match=rf"^seed should be an integer from 0 to {MAX_SEED}, but is {2**70}$"):
            call(2**70)                                     # was torch's RuntimeError from torch.manual_seed
        with pytest.raises(ValueError, match=r"^seed should be an integer >= 0, but is -1$"):
            call(-1)
        with pytest.raises(TypeError, match=r"^seed should be an integer, but is str '0'$"):
            call("0")
        assert len(call(MAX_SEED)) == 1


def test_the_language_model_s_h0_gets_advice_for_a_missing_layer_axis_or_batch_major_ids():
    ids = torch.ones(3, 2, dtype=torch.long)                # (T, B) = (3, 2)
    lm, deep = CharLM(5, 4, 8), CharLM(5, 4, 8, num_layers=2)
    with pytest.raises(ValueError, match=r"^h0 should have 3 dimensions .* but has 2 dimensions with shape \(2, 8\); "
                                         r"B comes from ids; add a layer axis with h0\.unsqueeze\(0\)$"):
        lm(ids, torch.zeros(2, 8))
    with pytest.raises(ValueError, match=r"^h0 should have 3 dimensions .*; B comes from ids; stack one \(B, H\) "
                                         r"state per layer, 2 in all, on a new first axis with torch\.stack"):
        deep(ids, torch.zeros(2, 8))
    with pytest.raises(ValueError, match=r"^h0 should have shape \(num_layers, B, H\) = \(1, 3, 8\), but has shape "
                                         r"\(1, 2, 8\) .*; B comes from ids; h0's second axis is 2, the size of ids's "
                                         r"first axis: if ids is batch-major \(B, T\), make it time-major \(T, B\) "
                                         r"with ids\.T$"):
        lm(ids.T, torch.zeros(1, 2, 8))                     # batch-major ids (B, T) read as (T, B) = (2, 3)
    with pytest.raises(ValueError, match=r"\(axis 1, B, is 4 instead of 2\); B comes from ids$"):
        lm(ids, torch.zeros(1, 4, 8))                       # a shape that suggests nothing gets no guess


@pytest.mark.parametrize("lr, error, message", [
    (float("inf"), ValueError, r"^lr should be a finite number > 0, but is inf$"),     # trained to NaN weights
    (float("nan"), ValueError, r"^lr should be a finite number > 0, but is nan$"),
    (0, ValueError, r"^lr should be a finite number > 0, but is 0\.0$"),               # trained nothing, silently
    (-1e-3, ValueError, r"^lr should be a finite number > 0, but is -0\.001$"),
    (True, TypeError, r"^lr should be a number, but is bool True$"),                  # read as lr = 1
    ("0.01", TypeError, r"^lr should be a number, but is str '0\.01'$"),              # was torch's own TypeError
])
def test_the_practice_loops_check_the_learning_rate_before_training(lr, error, message):
    ids, tags = _lines(np.random.default_rng(0), 8)
    text = np.tile(np.arange(5), 20)
    torch.manual_seed(0)
    tagger, lm = Tagger(6, 4, 8, 2), CharLM(5, 4, 8)
    before = [copy.deepcopy(m.state_dict()) for m in (tagger, lm)]
    with pytest.raises(error, match=message):
        fit_tagger(tagger, ids, tags, B=4, lr=lr)
    with pytest.raises(error, match=message):
        train_charlm(lm, text, T=2, B=4, steps=1, lr=lr)
    for model, state in zip((tagger, lm), before):
        for key, value in model.state_dict().items():
            assert torch.equal(value, state[key]), key


def test_the_tagger_and_the_language_model_cap_num_layers():
    # num_layers=10**9 built layer after layer until memory ran out (a hang); the cap refuses it at once.
    from rnncourse.torch.init import MAX_LAYERS

    assert MAX_LAYERS == 64
    for build in (lambda n: Tagger(6, 4, 8, 2, num_layers=n), lambda n: CharLM(5, 4, 8, num_layers=n)):
        with pytest.raises(ValueError, match=rf"^num_layers should be an integer from 1 to {MAX_LAYERS}, but is "
                                             rf"{10**9}$"):
            build(10**9)
        with pytest.raises(ValueError, match=r"^num_layers should be an integer >= 1, but is 0$"):
            build(0)
        assert build(MAX_LAYERS).rnn.num_layers == MAX_LAYERS


def test_lengths_for_batch_major_ids_get_the_batch_major_hint():
    ids = torch.ones(5, 3, dtype=torch.long)                # batch-major (B, T) = (5, 3), read as (T, B)
    for packed in (True, False):
        with pytest.raises(ValueError, match=r"^lengths should have shape \(B,\) = \(3,\), but has shape \(5,\); "
                                             r"lengths has 5 entries, the size of ids's first axis: if ids is "
                                             r"batch-major \(B, T\), make it time-major \(T, B\) with ids\.T$"):
            Tagger(6, 4, 5, 3)(ids, torch.tensor([3, 3, 2, 1, 3]), packed=packed)


def test_the_naming_rule_lists_every_model_that_keeps_torch_nn_names():
    # Rule 4 of rnncourse: weights have the book's names (W_xh, ...), except in the models built from torch.nn parts,
    # which keep torch.nn's (rnn.weight_ih_l0, out.weight). The rule named only CharLM of those.
    import importlib
    import inspect
    import pkgutil
    import re

    import rnncourse
    import rnncourse.torch
    from rnncourse.torch import GRU, LSTM, ElmanRNN, GRUCell, LSTMCell, OutputLayer, RNNModel
    from rnncourse.torch.jordan import JordanRNN
    from rnncourse.torch.long_range import AddingModel
    from rnncourse.torch.mlp import MLP
    from rnncourse.torch.seq2seq import Seq2Seq
    from rnncourse.torch.topologies import ManyToOne, OneToMany, Synchronized

    models = {"ElmanRNN": ElmanRNN(3, 4), "RNNModel": RNNModel(3, 4, 2), "OutputLayer": OutputLayer(4, 2),
              "LSTM": LSTM(3, 4), "GRU": GRU(3, 4), "LSTMCell": LSTMCell(3, 4), "GRUCell": GRUCell(3, 4),
              "JordanRNN": JordanRNN(3, 4, 2), "MLP": MLP(3, 4, 2), "Seq2Seq": Seq2Seq(6, 6, 4),
              "ManyToOne": ManyToOne(3, 4, 2), "OneToMany": OneToMany(3, 4, 2, steps=2),
              "Synchronized": Synchronized(3, 4, 2), "CharLM": CharLM(6, 3, 4), "Tagger": Tagger(6, 3, 4, 3),
              "AddingModel": AddingModel()}
    public = {name for info in pkgutil.iter_modules(rnncourse.torch.__path__)
              for name, cls in inspect.getmembers(importlib.import_module(f"rnncourse.torch.{info.name}"),
                                                  inspect.isclass)
              if issubclass(cls, torch.nn.Module) and cls.__module__.startswith("rnncourse.") and name[0] != "_"}
    assert public == set(models)                        # a new model is checked here too
    torch_named = {name for name, model in models.items()
                   if any(re.fullmatch(r"(weight|bias)(_\w+)?", p.rsplit(".", 1)[-1]) for p, _ in
                          model.named_parameters())}
    assert torch_named == {"CharLM", "Tagger", "AddingModel"}
    rule = re.search(r"\n4\. (.*?)\n5\. ", rnncourse.__doc__, re.S).group(1)
    for name in sorted(torch_named):
        assert f"``{name}``" in rule, name


@pytest.mark.parametrize("training", [True, False])
def test_evaluate_loss_and_predict_tags_measure_without_dropout_and_give_back_the_callers_mode(training):
    # A learner's next forward pass must not silently lose its dropout because an evaluation cell ran.
    torch.manual_seed(0)
    lm, tagger = CharLM(5, 4, 8, num_layers=2, dropout=0.5), Tagger(6, 4, 8, 3, num_layers=2, dropout=0.5)
    ids = np.tile(np.arange(5), 8)
    sentences = [np.array([1, 2, 3, 4]), np.array([5, 1])]
    expected_loss, expected_tags = evaluate_loss(lm.eval(), ids, T=4, B=2), predict_tags(tagger.eval(), sentences)
    for model in (lm, tagger):
        model.train(training)
    assert evaluate_loss(lm, ids, T=4, B=2) == expected_loss          # dropout off, whatever the mode before
    assert all(np.array_equal(a, b) for a, b in zip(predict_tags(tagger, sentences), expected_tags))
    assert lm.training is training and tagger.training is training
    assert all(m.training is training for m in lm.modules()) and all(m.training is training for m in tagger.modules())
