"""rnncourse.numpy.charlm: the batched character model against finite differences and torch.autograd."""

from __future__ import annotations

import numpy as np
import pytest

from rnncourse.numpy.charlm import (batches, charlm_backward, charlm_forward, charlm_loss, evaluate_loss,
                                    init_charlm, sample)
from rnncourse.numpy.clip import clip_grad_norm
from rnncourse.numpy.gradcheck import grad_check
from rnncourse.numpy.optim import Adam

V, H = 6, 5


@pytest.fixture
def setup():
    rng = np.random.default_rng(0)
    params = init_charlm(V, H, rng=rng, dtype=np.float64)
    params["W_hh"] *= 3                          # larger recurrent weights make the gradients less trivial
    inputs, targets = rng.integers(0, V, (4, 3)), rng.integers(0, V, (4, 3))
    return params, inputs, targets, rng.normal(size=(3, H))


def test_gradients_match_finite_differences(setup):
    params, inputs, targets, h0 = setup
    loss, grads, _ = charlm_loss(params, inputs, targets, h0)
    errors = grad_check(lambda: charlm_loss(params, inputs, targets, h0)[0], params, grads)
    assert max(errors.values()) < 1e-7, errors


def test_input_gradient_with_repeated_and_unread_characters(setup):
    params, _, targets, h0 = setup
    inputs = np.array([[2, 2, 0], [2, 5, 0], [5, 5, 2], [0, 2, 2]])   # 2 read six times; 1, 3 and 4 never
    loss, grads, _ = charlm_loss(params, inputs, targets, h0)
    assert np.all(grads["W_xh"][:, [1, 3, 4]] == 0), "a character never read got an input gradient"
    assert np.all(np.abs(grads["W_xh"][:, [0, 2, 5]]).max(axis=0) > 1e-3)
    errors = grad_check(lambda: charlm_loss(params, inputs, targets, h0)[0], params, grads)
    assert max(errors.values()) < 1e-7, errors


def test_loss_state_and_gradients_match_torch_autograd(setup):
    torch = pytest.importorskip("torch")
    params, inputs, targets, h0 = setup
    loss, grads, h_T = charlm_loss(params, inputs, targets, h0)
    # The reference uses one-hot inputs and a matrix product, the textbook form.
    P = {k: torch.tensor(v, requires_grad=True) for k, v in params.items()}
    X = torch.nn.functional.one_hot(torch.tensor(inputs), V).double()
    h = torch.tensor(h0, requires_grad=True)
    h_first, states = h, []
    for t in range(len(inputs)):
        h = torch.tanh(X[t] @ P["W_xh"].T + h @ P["W_hh"].T + P["b_h"])
        states.append(h)
    logits = torch.stack(states) @ P["W_hy"].T + P["b_y"]
    ref = torch.nn.functional.cross_entropy(logits.reshape(-1, V), torch.tensor(targets).reshape(-1))
    ref.backward()
    assert abs(loss - ref.item()) < 1e-12
    assert np.max(np.abs(h_T - h.detach().numpy())) < 1e-12
    for name in params:
        assert np.max(np.abs(grads[name] - P[name].grad.numpy())) < 1e-12, name
    # charlm_backward also returns the gradient reaching h0.
    logits_np, cache = charlm_forward(params, inputs, h0)
    assert np.max(np.abs(charlm_backward(_dloss(logits_np, targets), cache)["h0"] - h_first.grad.numpy())) < 1e-12


def _dloss(logits, targets):
    """d(mean cross-entropy)/d(logits), written out: (softmax - onehot) / (T * B)."""
    p = np.exp(logits - logits.max(-1, keepdims=True))
    p /= p.sum(-1, keepdims=True)
    p[np.arange(targets.shape[0])[:, None], np.arange(targets.shape[1]), targets] -= 1
    return p / targets.size


def test_carrying_the_state_equals_one_long_forward(setup):
    params, _, _, h0 = setup
    ids = np.random.default_rng(1).integers(0, V, (8, 3))
    logits, cache = charlm_forward(params, ids, h0)
    first, mid = charlm_forward(params, ids[:5], h0)
    second, end = charlm_forward(params, ids[5:], mid.hs[-1])
    assert np.allclose(np.concatenate([first, second]), logits, atol=1e-14, rtol=0)
    assert np.allclose(end.hs[-1], cache.hs[-1], atol=1e-14, rtol=0)
    with pytest.raises(ValueError, match="read-only"):
        cache.hs[0] += 1                       # the states the backward pass reads cannot be overwritten


def test_a_model_that_knows_nothing_scores_log_v():
    params = {k: np.zeros_like(v) for k, v in init_charlm(V, H, rng=np.random.default_rng(0)).items()}
    ids = np.random.default_rng(0).integers(0, V, 500)
    assert evaluate_loss(params, ids, T=10, B=4) == pytest.approx(np.log(V), abs=1e-6)


def test_training_on_a_repeating_text_drives_the_loss_down():
    rng = np.random.default_rng(0)
    params = init_charlm(V, 16, rng=rng, dtype=np.float64)
    ids = np.tile(np.array([0, 1, 2, 3, 4, 5, 2, 1]), 100)
    opt, h, losses = Adam(lr=0.02), None, []
    for _ in range(6):
        for inputs, targets in batches(ids, 10, 4):
            loss, grads, h = charlm_loss(params, inputs, targets, h)
            clip_grad_norm(grads, 5.0)
            opt.step(params, grads)
            losses.append(loss)
    assert losses[0] > 1.5 and np.mean(losses[-5:]) < 0.2


def test_batches_are_contiguous_streams():
    ids = np.arange(101)
    chunks = list(batches(ids, T=5, B=4))          # streams of 25 inputs each: 5 chunks
    assert len(chunks) == 5
    inputs = np.concatenate([x for x, _ in chunks])   # (25, 4): column b is stream b
    targets = np.concatenate([y for _, y in chunks])
    assert inputs.shape == (25, 4) and inputs.dtype == ids.dtype
    assert np.array_equal(inputs[:, 1], np.arange(25, 50))
    assert np.array_equal(targets, inputs + 1)
    with pytest.raises(ValueError, match=r"at least T \* B \+ 1 = 41 characters"):
        next(batches(np.arange(40), T=10, B=4))


def test_sampling_is_seeded_and_low_temperature_is_greedy():
    rng = np.random.default_rng(2)
    params = init_charlm(V, 8, rng=rng, dtype=np.float64)
    params["W_hy"] *= 10
    a = sample(params, 0, 40, rng=np.random.default_rng(5))
    assert a == sample(params, 0, 40, rng=np.random.default_rng(5))
    assert a != sample(params, 0, 40, rng=np.random.default_rng(6))
    assert len(a) == 40 and all(0 <= c < V for c in a)
    cold = sample(params, 3, 30, temperature=1e-4, rng=np.random.default_rng(7))
    logits, _ = charlm_forward(params, np.array([3] + cold[:-1])[:, None])
    assert cold == logits[:, 0].argmax(axis=-1).tolist()      # each id is the argmax after the previous ones
    hot = sample(params, 3, 400, temperature=100.0, rng=np.random.default_rng(7))
    assert len(set(hot)) == V                                  # a flat distribution reaches every id


def test_a_tiny_temperature_samples_the_most_likely_character():
    params = init_charlm(V, 8, rng=np.random.default_rng(2), dtype=np.float64)
    params["W_hy"] *= 10
    for temperature in (1e-310, 5e-324):                       # accepted: finite and > 0
        cold = sample(params, 3, 20, temperature=temperature, rng=np.random.default_rng(7))
        logits, _ = charlm_forward(params, np.array([3] + cold[:-1])[:, None])
        assert cold == logits[:, 0].argmax(axis=-1).tolist()   # was V - 1 every time (inf - inf gave NaN)


SEEDED_SAMPLE_1 = [1, 1, 0, 0, 3, 4, 2, 3, 2, 5, 3, 0, 3, 0, 2, 1, 4, 2, 1, 1]
SEEDED_SAMPLE_05 = [1, 1, 0, 0, 2, 4, 3, 3, 1, 4, 3, 0, 2, 0, 2, 1, 3, 1, 0, 1]


def test_seeded_samples_keep_their_ids():
    # The ids these seeds gave before z = (logits - max) / temperature: the chapters print samples.
    params = init_charlm(V, 8, rng=np.random.default_rng(2), dtype=np.float64)
    params["W_hy"] *= 5
    assert sample(params, 3, 20, rng=np.random.default_rng(0)) == SEEDED_SAMPLE_1
    assert sample(params, 3, 20, temperature=0.5, rng=np.random.default_rng(0)) == SEEDED_SAMPLE_05


def test_an_h0_with_a_batch_axis_of_one_is_told_to_drop_it(setup):
    params = setup[0]
    H = params["W_hh"].shape[0]
    with pytest.raises(ValueError, match=r"no batch axis: pass h0\[0\]$"):
        sample(params, 1, 5, rng=np.random.default_rng(0), h0=np.zeros((1, H)))
    with pytest.raises(ValueError) as err:                  # any other wrong shape gets no such advice
        sample(params, 1, 5, rng=np.random.default_rng(0), h0=np.zeros(H + 1))
    assert "h0[0]" not in str(err.value)
    assert sample(params, 1, 5, rng=np.random.default_rng(0), h0=np.zeros(H)) == sample(
        params, 1, 5, rng=np.random.default_rng(0))         # a zero h0 is the default


def test_start_id_errors_say_what_start_id_should_be(setup):
    params = setup[0]
    with pytest.raises(TypeError, match=r"^start_id should be one character id, an integer in \[0, 6\), but is "
                                        r"float 1\.5$"):
        sample(params, 1.5, 5, rng=np.random.default_rng(0))
    with pytest.raises(TypeError, match=r"^start_id should be one character id, an integer in \[0, 6\), but is "
                                        r"list \[1, 2\]; sampling starts from one character$"):
        sample(params, [1, 2], 5, rng=np.random.default_rng(0))
    with pytest.raises(ValueError, match=r"^start_id should be a character id in \[0, 6\), but is 6$"):
        sample(params, 6, 5, rng=np.random.default_rng(0))
    with pytest.raises(ValueError, match=r"^start_id should be a character id in \[0, 6\), but is -1$"):
        sample(params, np.int64(-1), 5, rng=np.random.default_rng(0))
    one = sample(params, 2, 5, rng=np.random.default_rng(0))
    assert sample(params, np.int32(2), 5, rng=np.random.default_rng(0)) == one
    assert sample(params, np.array(2), 5, rng=np.random.default_rng(0)) == one


@pytest.mark.parametrize("temperature", [0.5, 1.0, 2.0])
def test_samples_follow_softmax_of_logits_over_temperature(temperature):
    # Each draw from start_id is distributed as softmax(z / T), z the logits charlm_forward gives after
    # reading start_id. N seeded draws: every frequency is within 5 standard errors sqrt(p (1 - p) / N).
    params = init_charlm(V, 8, rng=np.random.default_rng(2), dtype=np.float64)
    params["W_hy"] *= 5                                        # a peaked distribution, far from uniform
    z = charlm_forward(params, np.array([[3]]))[0][0, 0] / temperature
    p = np.exp(z - z.max()) / np.exp(z - z.max()).sum()
    N, rng = 2000, np.random.default_rng(0)
    counts = np.bincount([sample(params, 3, 1, temperature=temperature, rng=rng)[0] for _ in range(N)],
                         minlength=V)
    assert np.all(np.abs(counts / N - p) <= 5 * np.sqrt(p * (1 - p) / N)), (counts / N, p)


def test_bad_inputs_raise_clear_errors(setup):
    params, inputs, targets, h0 = setup
    with pytest.raises(ValueError, match=r"inputs should hold indices in \[0, 6\)"):
        charlm_loss(params, inputs + V, targets)
    with pytest.raises(TypeError, match="integer"):
        charlm_loss(params, inputs.astype(float), targets)
    with pytest.raises(ValueError, match=r"targets should have shape \(T, B\) = \(4, 3\)"):
        charlm_loss(params, inputs, targets[:2])
    with pytest.raises(ValueError, match=r"h0 should have shape \(B, H\) = \(3, 5\)"):
        charlm_loss(params, inputs, targets, h0[:, :2])
    with pytest.raises(ValueError, match="params should be a dict with the keys W_xh, W_hh, b_h, W_hy, b_y, but lacks "
                                         "W_hh, b_h, W_hy, b_y; create it with init_charlm"):
        charlm_loss({"W_xh": params["W_xh"]}, inputs, targets)
    with pytest.raises(ValueError, match="temperature should be a finite number > 0"):
        sample(params, 0, 5, temperature=0.0, rng=np.random.default_rng(0))
    with pytest.raises(TypeError, match="default_rng"):
        sample(params, 0, 5, rng=0)


def test_score_text_equals_the_mean_loss_of_one_long_chunk():
    from rnncourse.numpy.charlm import score_text
    params = init_charlm(6, 5, rng=np.random.default_rng(3), dtype=np.float64)
    ids = np.random.default_rng(4).integers(0, 6, size=40)
    nll, hs = score_text(params, ids)
    loss, _, h_T = charlm_loss(params, ids[:-1, None], ids[1:, None])
    assert nll.shape == (39,) and hs.shape == (39, 5)
    assert nll.mean() == pytest.approx(loss, rel=1e-12)
    np.testing.assert_allclose(hs[-1], h_T[0], rtol=0, atol=1e-14)
    with pytest.raises(ValueError, match="ids should hold at least 2 characters"):
        score_text(params, ids[:1])


def test_correlation_beyond_input_ignores_what_the_input_explains():
    from rnncourse.numpy.charlm import correlation_beyond_input
    rng = np.random.default_rng(0)
    ids = rng.integers(0, 4, size=500)
    feature = rng.normal(size=500)
    hs = np.stack([feature + 3 * ids,                 # the feature plus an echo of the input: +1
                   -2 * feature,                      # the feature, scaled and flipped: -1
                   np.sin(ids.astype(float))], 1)     # the input alone: 0
    r = correlation_beyond_input(hs, ids, feature)
    np.testing.assert_allclose(r, [1.0, -1.0, 0.0], rtol=0, atol=1e-12)
    half = feature + rng.normal(size=500)             # half of its variance is the feature: about 0.71
    beyond = [a - np.array([a[ids == c].mean() for c in range(4)])[ids] for a in (half, feature)]
    assert correlation_beyond_input(half[:, None], ids, feature)[0] == pytest.approx(
        np.corrcoef(*beyond)[0, 1], abs=1e-12)
    with pytest.raises(ValueError, match="feature should have shape"):
        correlation_beyond_input(hs, ids, feature[:-1])


def test_dh_T_is_checked_once(setup):
    params, inputs, _, _ = setup
    logits, cache = charlm_forward(params, inputs)
    dlogits = np.zeros_like(logits)
    with pytest.raises(ValueError, match=r"dh_T should have 2 dimensions with shape \(B, H\) = \(3, 5\), but has "
                                         r"1 dimensions with shape \(5,\)"):
        charlm_backward(dlogits, cache, dh_T=np.ones(H))            # used to broadcast over the batch
    with pytest.raises(ValueError, match=r"dh_T should have 2 dimensions .* shape \(3,\)"):
        charlm_backward(dlogits, cache, dh_T=np.ones(3))
    with pytest.raises(ValueError, match=r"dh_T should have shape \(B, H\) = \(3, 5\), but has shape \(3, 4\)"):
        charlm_backward(dlogits, cache, dh_T=np.ones((3, 4)))
    with pytest.raises(TypeError, match="dh_T should be a numpy.ndarray, but is builtins.list"):
        charlm_backward(dlogits, cache, dh_T=[[1.0] * H] * 3)
    with pytest.raises(ValueError, match="dh_T contains NaN or infinity"):
        charlm_backward(dlogits, cache, dh_T=np.full((3, H), np.nan))
    with pytest.raises(TypeError, match="dh_T is float32, hs is float64"):
        charlm_backward(dlogits, cache, dh_T=np.ones((3, H), np.float32))
    dh_T = np.random.default_rng(1).normal(size=(3, H))
    grads = charlm_backward(dlogits, cache, dh_T=dh_T)
    assert np.abs(grads["h0"]).max() > 0                          # a valid dh_T still flows back


def test_dlogits_errors_name_dlogits(setup):
    params, inputs, _, _ = setup
    logits, cache = charlm_forward(params, inputs)
    with pytest.raises(ValueError, match=r"^dlogits should have shape \(T, B, V\) = \(4, 3, 6\), but has shape "
                                         r"\(4, 3, 5\) \(axis 2, V, is 5 instead of 6\); dlogits has the shape of "
                                         r"the logits from charlm_forward$"):
        charlm_backward(logits[..., :5], cache)                     # was "dY should have shape ..."
    with pytest.raises(TypeError, match=r"^dlogits should be a numpy.ndarray, but is builtins.list"):
        charlm_backward(logits.tolist(), cache)
    with pytest.raises(TypeError, match=r"^all arrays should share one dtype, but dlogits is float32, hs is float64"):
        charlm_backward(logits.astype(np.float32), cache)


def test_extra_params_keys_are_ignored_like_model_forward(setup):
    from rnncourse.numpy.model import init_model_params, model_forward
    params, inputs, targets, h0 = setup
    extra = {**params, "lr": 0.1}
    np.testing.assert_array_equal(charlm_forward(extra, inputs, h0)[0], charlm_forward(params, inputs, h0)[0])
    assert charlm_loss(extra, inputs, targets, h0)[0] == charlm_loss(params, inputs, targets, h0)[0]
    assert sample(extra, 0, 5, rng=np.random.default_rng(0)) == sample(params, 0, 5, rng=np.random.default_rng(0))
    p = init_model_params(3, 4, 2, rng=np.random.default_rng(0))
    x = np.random.default_rng(1).normal(size=(5, 2, 3))
    np.testing.assert_array_equal(model_forward({**p, "lr": 0.1}, x)[0], model_forward(p, x)[0])
    with pytest.raises(TypeError, match=r"all arrays should share one dtype, but .*params\['b_y'\] is float32"):
        charlm_forward({**params, "b_y": params["b_y"].astype(np.float32)}, inputs)


def test_evaluate_loss_validates_once_and_equals_the_checked_loop(monkeypatch):
    import rnncourse.validation as validation
    from rnncourse.numpy.losses import softmax_cross_entropy
    params = init_charlm(V, H, rng=np.random.default_rng(0))            # float32, as in training
    ids = np.random.default_rng(1).integers(0, V, size=2001)
    total, n, h = 0.0, 0, None
    for inputs, targets in batches(ids, 10, 4):                         # the loop before the fix
        logits, cache = charlm_forward(params, inputs, h)
        h = cache.hs[-1]
        loss, _ = softmax_cross_entropy(logits, targets)
        total, n = total + float(loss) * targets.size, n + targets.size
    scans, all_finite = [], validation._all_finite
    monkeypatch.setattr(validation, "_all_finite", lambda a: scans.append(a) or all_finite(a))
    assert evaluate_loss(params, ids, T=10, B=4) == total / n           # 50 chunks, the same number
    assert len(scans) == 5                                              # no scan per chunk (349 checks before)
    assert all(sum(a is s for s in scans) == 1 for a in params.values())   # each parameter once
    with pytest.raises(ValueError, match=r"ids should hold indices in \[0, 6\), but holds values from 0 to 6"):
        evaluate_loss(params, np.append(ids, V), T=10, B=4)


def test_an_h0_without_batch_axis_from_torch_nn_rnn_or_for_batch_major_inputs_gets_advice(setup):
    params, inputs, targets, h0 = setup                     # inputs (T, B) = (4, 3), h0 (B, H) = (3, 5)
    with pytest.raises(ValueError, match=r"^h0 should have 2 dimensions .*; B comes from inputs, H from W_hh; add a "
                                         r"batch axis: h0\[None, :\]$"):
        charlm_loss(params, inputs, targets, h0[0])
    with pytest.raises(ValueError, match=r"^h0 should have 2 dimensions .*; B comes from inputs, H from W_hh; h0 looks "
                                         r"like the state of torch\.nn\.RNN .*: pass h0\[0\]$"):
        charlm_forward(params, inputs, h0[None])
    with pytest.raises(ValueError, match=r"^h0 should have shape \(B, H\) = \(4, 5\), but has shape \(3, 5\) .*; B "
                                         r"comes from inputs, H from W_hh; h0's first axis is 3, the size of inputs's "
                                         r"first axis: if inputs is batch-major \(B, T\), make it time-major \(T, B\) "
                                         r"with inputs\.T$"):
        charlm_loss(params, inputs.T, targets.T, h0)
    with pytest.raises(ValueError, match=r"\(axis 0, B, is 2 instead of 3\); B comes from inputs, H from W_hh$"):
        charlm_loss(params, inputs, targets, h0[:2])        # a shape that suggests nothing gets no guess


def test_nonfinite_dlogits_are_named_dlogits_and_scanned_once(setup, monkeypatch):
    import rnncourse.validation as validation

    params, inputs, _, _ = setup
    logits, cache = charlm_forward(params, inputs)
    dlogits = np.zeros_like(logits)
    dlogits[0, 0, 0] = np.nan
    with pytest.raises(ValueError, match=r"^dlogits contains NaN or infinity; "):    # was "dY contains NaN ..."
        charlm_backward(dlogits, cache)
    scans, all_finite = [], validation._all_finite
    monkeypatch.setattr(validation, "_all_finite", lambda a: scans.append(np.shares_memory(a, logits)) or all_finite(a))
    grads = charlm_backward(logits, cache)
    assert scans.count(True) == 1, scans                      # dlogits: one scan, under its own name
    assert grads["W_hy"].shape == (V, H)


def test_init_charlm_names_v_and_h():
    rng = np.random.default_rng(0)
    with pytest.raises(ValueError, match=r"^V should be an integer >= 1, but is 0"):     # was "input_size ..."
        init_charlm(0, 4, rng=rng)
    with pytest.raises(ValueError, match=r"^H should be an integer >= 1, but is -2"):
        init_charlm(5, -2, rng=rng)
    with pytest.raises(TypeError, match=r"^V should be an integer"):
        init_charlm(5.0, 4, rng=rng)


def test_batches_checks_its_arguments_when_called_not_at_the_first_chunk():
    # batches was a generator: batches(object(), 5, 2) returned, and the error came only at next()
    with pytest.raises(TypeError, match=r"^ids should be a numpy.ndarray, but is builtins.object"):
        batches(object(), 5, 2)
    with pytest.raises(ValueError, match=r"^T should be an integer >= 1, but is 0"):
        batches(np.arange(40), T=0, B=4)
    with pytest.raises(ValueError, match=r"at least T \* B \+ 1 = 41 characters"):
        batches(np.arange(40), T=10, B=4)
    chunks = batches(np.arange(41), T=10, B=4)
    assert [x.shape for x, _ in chunks] == [(10, 4)] and list(chunks) == []      # an iterator, used up once


def test_an_h0_of_another_dtype_is_named_against_params_w_hh(setup):
    params, inputs, targets, h0 = setup
    with pytest.raises(TypeError, match=r"^all arrays should share one dtype, but h0 is float32, params\['W_hh'\] is "
                                        r"float64"):
        charlm_loss(params, inputs, targets, h0.astype(np.float32))
    with pytest.raises(TypeError, match=r"^all arrays should share one dtype, but params\['W_xh'\] is float64, .*"
                                        r"params\['b_y'\] is float32"):
        charlm_forward({**params, "b_y": params["b_y"].astype(np.float32)}, inputs)
