"""benchmarks/bench_rnn.py: its baseline model and its measuring helpers, so that the table compares what it says.

The benchmark's rows are only as good as the code they time: the classic one-sequence
character RNN of row 4 is written in the benchmark itself, so its gradients are checked
here like the package's, and the helpers that turn timings into ratios are checked on
known numbers.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

import numpy as np
import pytest

from rnncourse.numpy.charlm import charlm_loss, init_charlm
from rnncourse.numpy.elman import rnn_backward, rnn_forward
from rnncourse.numpy.gradcheck import grad_check

BENCH = Path(__file__).resolve().parents[1] / "benchmarks" / "bench_rnn.py"


@pytest.fixture(scope="module")
def bench():
    spec = importlib.util.spec_from_file_location("bench_rnn", BENCH)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)              # no argument parsing: that only runs as a script
    return module


@pytest.fixture
def baseline(bench):
    model = bench.OneSequenceCharRNN(V=7, hidden=6, seed=0)
    for name in ("W_xh", "W_hh", "W_hy"):
        model.P[name] *= 20                       # std 0.2 instead of 0.01: gradients worth checking
    rng = np.random.default_rng(1)
    model.P["b_h"] += rng.normal(size=model.P["b_h"].shape) * 0.1
    ids = rng.integers(0, 7, 9).tolist()
    return model, ids[:-1], ids[1:], rng.normal(size=(6, 1)) * 0.5


def test_baseline_gradients_match_finite_differences(baseline):
    model, inputs, targets, h = baseline
    _, G, _ = model.loss_and_grads(inputs, targets, h)
    assert max(np.abs(g).max() for g in G.values()) < 5, "the [-5, 5] clip changed a gradient: the check means nothing"

    def summed_loss():                            # the gradients are of the loss summed over the steps
        return model.loss_and_grads(inputs, targets, h)[0] * len(inputs)

    errors = grad_check(summed_loss, model.P, G)
    assert max(errors.values()) < 1e-7, errors


def test_baseline_clips_each_gradient_entry(baseline):
    model, inputs, targets, h = baseline
    for name in ("W_xh", "W_hh", "W_hy"):
        model.P[name] *= 20                       # saturated units, large output errors
    _, G, _ = model.loss_and_grads(inputs * 3, targets * 3, h)
    assert max(np.abs(g).max() for g in G.values()) == 5.0


def test_baseline_scored_by_charlm_is_the_same_model(baseline):
    """Row 4b scores both models with charlm; the converted weights must give the baseline's own loss."""
    model, inputs, targets, h = baseline
    loss, _, h_T = model.loss_and_grads(inputs, targets, h)
    loss_lm, _, h_T_lm = charlm_loss(model.as_charlm_params(), np.array(inputs)[:, None], np.array(targets)[:, None],
                                     h.T.copy())
    assert loss_lm == pytest.approx(loss, rel=1e-12)
    np.testing.assert_allclose(h_T_lm, h_T.T, atol=1e-12)


def test_baseline_adagrad_update(bench):
    model = bench.OneSequenceCharRNN(V=3, hidden=2, seed=0)
    before = {k: v.copy() for k, v in model.P.items()}
    G = {k: np.full_like(v, 2.0) for k, v in model.P.items()}
    model.update(G)
    model.update(G)
    for k in model.P:                             # steps of lr * 2 / sqrt(4), then lr * 2 / sqrt(8)
        np.testing.assert_allclose(before[k] - model.P[k], 0.1 * (1 + 2 / np.sqrt(8)), rtol=1e-6)


def test_rnn_flops_hand_count(bench):
    T, B, D, H = bench.T, bench.B, bench.D, bench.H
    forward = 2 * (T * B) * D * H + T * 2 * B * H * H          # input projection, T recurrent products
    backward = T * 2 * B * H * H + 2 * (T * B) * H * D * 2 + 2 * H * (T * B) * H   # da W_hh; dx, dW_xh; dW_hh
    assert bench.rnn_flops() == forward + backward == 471_859_200


def test_median_ratio_is_taken_round_by_round(bench):
    assert bench.median_ratio([1.0, 10.0, 2.0], [2.0, 20.0, 4.0]) == 0.5
    # ratios 1, 0.5, 3 within the rounds: their median is 1, the ratio of the medians would be 4/3
    assert bench.median_ratio([1.0, 4.0, 9.0], [1.0, 8.0, 3.0]) == 1.0


def test_time_alternating_runs_the_functions_in_turn(bench):
    calls = []
    fns = (lambda: calls.append("a"), lambda: calls.append("b"))
    samples = bench.time_alternating(fns, repeats=3, settle=0.0, window=0.0)
    assert [len(s) for s in samples] == [3, 3]
    assert all(t > 0 for s in samples for t in s)
    blocks = [c for i, c in enumerate(calls) if i == 0 or calls[i - 1] != c]
    assert blocks == ["a", "b"] * 3


def test_chain_does_the_per_step_work_of_the_package(bench):
    """The loops timed by row 2b, given the package's input part and f'(a), give the package's results."""
    rng = np.random.default_rng(0)
    T, B, D, H = 5, 3, 4, 6
    params = {"W_xh": rng.normal(size=(H, D)), "W_hh": rng.normal(size=(H, H)) * 0.5, "b_h": rng.normal(size=H)}
    x, dhs = rng.normal(size=(T, B, D)), rng.normal(size=(T, B, H))
    states, cache = rnn_forward(x, None, **params)
    grads = rnn_backward(dhs, cache)
    input_part = np.einsum("tbd,hd->tbh", x, params["W_xh"]) + params["b_h"]
    np.testing.assert_allclose(bench.chain_states(input_part, params["W_hh"]), states, atol=1e-12)
    dA = 1 - states * states
    dh0 = bench.chain_backward(dhs, dA, params["W_hh"])
    np.testing.assert_allclose(dh0, grads["h0"], atol=1e-12)
    np.testing.assert_allclose(dA.sum(axis=(0, 1)), grads["b_h"], atol=1e-12)


def test_without_onednn_runs_torch_nn_lstm_on_atens_loop_and_restores_the_flag(bench):
    import torch
    from torch.profiler import profile

    lstm, x = torch.nn.LSTM(3, 4), torch.randn(5, 2, 3)
    with profile() as fused:
        lstm(x)
    with profile() as plain:
        bench.without_onednn(lambda: lstm(x))()
    names = lambda prof: {e.key for e in prof.key_averages()}   # noqa: E731
    assert "aten::mkldnn_rnn_layer" in names(fused) and "aten::mkldnn_rnn_layer" not in names(plain)
    with pytest.raises(ZeroDivisionError):
        bench.without_onednn(lambda: 1 / 0)()
    assert torch.backends.mkldnn.enabled


def test_the_char_models_train_in_turn_and_their_speed_ratio_is_taken_round_by_round(bench, monkeypatch):
    # Row 4a compares two trainings timed in alternation, like every other row: the ratio comes from
    # time_alternating's rounds, with LM_STEPS characters per baseline update and LM_STEPS * LM_BATCH per
    # batched update; both models leave train_in_turn trained.
    recorded = {}

    def fake_alternating(fns, repeats):
        for fn in fns:                       # a few real updates of each model, in turn
            for _ in range(3):
                fn()
        recorded["repeats"] = repeats
        return [2.0, 4.0, 3.0], [1.0, 1.0, 3.0]      # seconds per update: baseline, batched

    monkeypatch.setattr(bench, "time_alternating", fake_alternating)
    ids = np.random.default_rng(0).integers(0, 7, size=5000)
    base, lm, speedup, (lm_speed, base_speed) = bench.train_in_turn(ids, 7, seconds=10.0)
    assert recorded["repeats"] == 22                          # 10 s of 0.45 s rounds for each model
    per_update = bench.LM_BATCH                               # batched / baseline characters per update
    assert speedup == pytest.approx(per_update * np.median([2.0, 4.0, 1.0]))   # median of 2/1, 4/1, 3/3
    assert lm_speed == pytest.approx(bench.LM_STEPS * bench.LM_BATCH / 1.0)
    assert base_speed == pytest.approx(bench.LM_STEPS / 3.0)
    start_base = bench.OneSequenceCharRNN(7, bench.LM_HIDDEN, seed=0).as_charlm_params()
    start_lm = init_charlm(7, bench.LM_HIDDEN, rng=np.random.default_rng(0), dtype=np.float32)
    assert not np.allclose(base["W_hh"], start_base["W_hh"]) and not np.allclose(lm["W_hh"], start_lm["W_hh"])
