"""The functions an exercise asks for are blocked on every path while grading, and stay readable.

Each exercise lists as ``subjects`` every package function whose result is its answer, the
private helpers included. Each cheat below answers one exercise by calling one such helper: run
here, with nothing blocked, it passes the exercise's checker (so it is a real answer); graded in
the sandbox it scores zero, and the feedback names the helper. A teaching cell that shows a
subject's source with ``show_source`` (the chapters do) still sees the package's own code.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import jupytext
import numpy as np
import pytest

from exercise_fixtures import bubblewrap_missing
from rnncourse.exercises.grade import grade_all
from rnncourse.exercises.registry import chapter_exercises, get_exercise

MISSING = bubblewrap_missing()
SANDBOX = pytest.mark.skipif(MISSING is not None, reason=f"no sandbox here: {MISSING}")
pytestmark = pytest.mark.xdist_group("test_grading_subjects")

#: cheat -> (exercise, the helper it calls, the cell that defines ``answer``)
CHEATS = {
    "rnn_step_by_torch_recurrence": ("ch02.rnn_step", "recurrence", '''
import torch
from rnncourse.torch.elman import recurrence

def answer(x_t, h_prev, W_xh, W_hh, b_h):
    x_t, h_prev, W_xh, W_hh, b_h = (torch.from_numpy(a) for a in (x_t, h_prev, W_xh, W_hh, b_h))
    return recurrence(x_t[None], h_prev, W_xh, W_hh, b_h, "tanh")[1].numpy()
'''),
    "rnn_step_by_jordan_step": ("ch02.rnn_step", "jordan_step_forward", '''
from rnncourse.numpy.jordan import jordan_step_forward

def answer(x_t, h_prev, W_xh, W_hh, b_h):
    H = len(b_h)        # the fed-back output y = h (W_hy = I) makes the Jordan step an Elman step
    (h_t, _), _ = jordan_step_forward(x_t, h_prev, W_xh, W_hh, b_h, np.eye(H, dtype=b_h.dtype), 0 * b_h)
    return h_t.copy()
'''),
    "rnn_step_by_jordan_forward": ("ch02.rnn_step", "jordan_forward", '''
from rnncourse.numpy.jordan import jordan_forward

def answer(x_t, h_prev, W_xh, W_hh, b_h):
    H = len(b_h)
    _, cache = jordan_forward(x_t[None], h_prev, W_xh, W_hh, b_h, np.eye(H, dtype=b_h.dtype), 0 * b_h)
    return cache.hs[0].copy()
'''),
    "param_count_by_init": ("ch02.rnn_param_count", "init_rnn_params", '''
from rnncourse.numpy.init import init_output_params, init_rnn_params

def answer(D, H, O):
    rng = np.random.default_rng(0)
    return sum(a.size for a in {**init_rnn_params(D, H, rng=rng), **init_output_params(H, O, rng=rng)}.values())
'''),
    "param_count_by_init_model": ("ch02.rnn_param_count", "init_model_params", '''
from rnncourse.numpy.model import init_model_params

def answer(D, H, O):
    return sum(a.size for a in init_model_params(D, H, O, rng=np.random.default_rng(0)).values())
'''),
    "last_states_by_private_helper": ("ch03.last_states", "_last_states", '''
from rnncourse.numpy import rnn_forward
from rnncourse.numpy.many_to_one import _last_states

def answer(x, lengths, h0, W_xh, W_hh, b_h):
    return _last_states(rnn_forward(x, h0, W_xh, W_hh, b_h)[0], lengths)
'''),
    "last_states_by_torch_twin": ("ch03.last_states", "last_states", '''
import torch
from rnncourse.numpy import rnn_forward
from rnncourse.torch.topologies import last_states

def answer(x, lengths, h0, W_xh, W_hh, b_h):
    hs = rnn_forward(x, h0, W_xh, W_hh, b_h)[0]
    return last_states(torch.tensor(hs), torch.from_numpy(lengths)).numpy()
'''),
    "last_states_by_packing": ("ch03.last_states", "packed_rnn_forward", '''
import torch
from rnncourse.torch.convert import rnn_from_params
from rnncourse.torch.padding import packed_rnn_forward

def answer(x, lengths, h0, W_xh, W_hh, b_h):
    rnn = rnn_from_params({"W_xh_l0": W_xh, "W_hh_l0": W_hh, "b_h_l0": b_h})
    with torch.no_grad():
        _, h_n = packed_rnn_forward(rnn, torch.from_numpy(x), torch.from_numpy(lengths), torch.from_numpy(h0)[None])
    return h_n[0].numpy()
'''),
    "step_backward_by_jordan": ("ch04.rnn_step_backward", "jordan_step_backward", '''
from rnncourse.numpy.jordan import jordan_step_backward

def answer(dh_t, x_t, h_prev, W_xh, W_hh, h_t):
    H = h_t.shape[1]
    cache = (x_t, h_prev, h_t, h_t, (W_xh, W_hh, np.zeros(H), np.eye(H), np.zeros(H)), "tanh", "linear")
    g = jordan_step_backward((dh_t, np.zeros_like(h_t)), cache)
    return {"x_t": g["x_t"], "h_prev": g["y_prev"], "W_xh": g["W_xh"], "W_hh": g["W_yh"], "b_h": g["b_h"]}
'''),
    "step_backward_by_bptt": ("ch04.rnn_step_backward", "rnn_backward", '''
from rnncourse.numpy.elman import rnn_backward

def answer(dh_t, x_t, h_prev, W_xh, W_hh, h_t):
    g = rnn_backward(dh_t[None], (x_t[None], h_prev, W_xh, W_hh, h_t[None], "tanh"))
    return {"x_t": g["x"][0], "h_prev": g["h0"], "W_xh": g["W_xh"], "W_hh": g["W_hh"], "b_h": g["b_h"]}
'''),
    "bptt_by_jordan": ("ch04.rnn_backward", "jordan_backward", '''
from rnncourse.numpy.jordan import jordan_backward

def answer(dhs, x, h0, W_xh, W_hh, hs):
    H = hs.shape[2]
    fed = np.concatenate([h0[None], hs[:-1]])
    cache = (x, fed, hs, hs, (W_xh, W_hh, np.zeros(H), np.eye(H), np.zeros(H)), "tanh", "linear", False)
    g = jordan_backward(dhs, cache)
    return {"x": g["x"], "W_xh": g["W_xh"], "W_hh": g["W_yh"], "b_h": g["b_h"], "h0": g["y0"]}
'''),
    "bptt_by_step_backward": ("ch04.rnn_backward", "rnn_step_backward", '''
from rnncourse.numpy.elman import rnn_step_backward

def answer(dhs, x, h0, W_xh, W_hh, hs):
    grads = {"x": np.zeros_like(x), "W_xh": 0 * W_xh, "W_hh": 0 * W_hh, "b_h": np.zeros(len(W_hh))}
    dh = np.zeros_like(h0)
    for t in reversed(range(len(x))):
        g = rnn_step_backward(dhs[t] + dh, (x[t], hs[t - 1] if t else h0, W_xh, W_hh, hs[t], "tanh"))
        grads["x"][t] = g["x_t"]
        for k in ("W_xh", "W_hh", "b_h"):
            grads[k] += g[k]
        dh = g["h_prev"]
    return {**grads, "h0": dh}
'''),
    # The Elman network inside a gated one: a GRU with r = 1, z = 0, or an LSTM with i = o = 1, f = 0 (whose new
    # cell state is the Elman step, and whose backward pass, given tanh(c_t) = 0 in its cache, is the Elman one).
    "rnn_step_by_gru_step": ("ch02.rnn_step", "gru_step_forward", '''
from rnncourse.numpy.gated import gru_step_forward

def answer(x_t, h_prev, W_xh, W_hh, b_h):
    # a GRU with its reset gate pinned open (r = 1) and its update gate shut (z = 0) is the Elman step
    pin, O = np.full_like(b_h, 100.0), np.zeros_like
    h_t, _ = gru_step_forward(x_t, h_prev, np.concatenate([O(W_xh), O(W_xh), W_xh]),
                              np.concatenate([O(W_hh), O(W_hh), W_hh]), np.concatenate([pin, -pin, b_h]),
                              np.zeros(3 * len(b_h), b_h.dtype))
    return h_t
'''),
    "rnn_step_by_gru_cell": ("ch02.rnn_step", "_gru_cell", '''
from rnncourse.numpy.gated import _gru_cell

def answer(x_t, h_prev, W_xh, W_hh, b_h):
    a = x_t @ W_xh.T + h_prev @ W_hh.T + b_h
    pin = np.full_like(a, 100.0)
    return _gru_cell(np.concatenate([pin, -pin, a], axis=1), np.zeros((len(a), 3 * a.shape[1]), a.dtype), h_prev)[0]
'''),
    "rnn_step_by_gru_sequence": ("ch02.rnn_step", "gru_forward", '''
from rnncourse.numpy.gated import gru_forward

def answer(x_t, h_prev, W_xh, W_hh, b_h):
    pin, O = np.full_like(b_h, 100.0), np.zeros_like
    hs, _ = gru_forward(x_t[None], h_prev, np.concatenate([O(W_xh), O(W_xh), W_xh]),
                        np.concatenate([O(W_hh), O(W_hh), W_hh]), np.concatenate([pin, -pin, b_h]),
                        np.zeros(3 * len(b_h), b_h.dtype))
    return hs[0].copy()
'''),
    "rnn_step_by_lstm_step": ("ch02.rnn_step", "lstm_step_forward", '''
from rnncourse.numpy.gated import lstm_step_forward

def answer(x_t, h_prev, W_xh, W_hh, b_h):
    # with i = 1 and f = 0 the LSTM's new cell state is c_t = g = tanh(a): the Elman step
    pin, O = np.full_like(b_h, 100.0), np.zeros_like
    (_, c_t), _ = lstm_step_forward(x_t, h_prev, O(h_prev), np.concatenate([O(W_xh), O(W_xh), W_xh, O(W_xh)]),
                                    np.concatenate([O(W_hh), O(W_hh), W_hh, O(W_hh)]),
                                    np.concatenate([pin, -pin, b_h, O(b_h)]))
    return c_t
'''),
    "rnn_step_by_lstm_cell": ("ch02.rnn_step", "_lstm_cell", '''
from rnncourse.numpy.gated import _lstm_cell

def answer(x_t, h_prev, W_xh, W_hh, b_h):
    a = x_t @ W_xh.T + h_prev @ W_hh.T + b_h
    pin = np.full_like(a, 100.0)
    return _lstm_cell(np.concatenate([pin, -pin, a, pin], axis=1), np.zeros_like(a))[1]
'''),
    "rnn_step_by_lstm_sequence": ("ch02.rnn_step", "lstm_forward", '''
from rnncourse.numpy.gated import lstm_forward

def answer(x_t, h_prev, W_xh, W_hh, b_h):
    pin, O = np.full_like(b_h, 100.0), np.zeros_like
    _, cache = lstm_forward(x_t[None], h_prev, O(h_prev), np.concatenate([O(W_xh), O(W_xh), W_xh, O(W_xh)]),
                            np.concatenate([O(W_hh), O(W_hh), W_hh, O(W_hh)]), np.concatenate([pin, -pin, b_h, O(b_h)]))
    return cache.cs[0].copy()
'''),
    "step_backward_by_gru_step": ("ch04.rnn_step_backward", "gru_step_backward", '''
from rnncourse.numpy.gated import GRUStepCache, gru_step_backward

def answer(dh_t, x_t, h_prev, W_xh, W_hh, h_t):
    # a GRU step with r = 1 and z = 0 is the Elman step: its backward pass is too
    H, O = h_t.shape[1], np.zeros_like
    cache = GRUStepCache(x_t, h_prev, np.concatenate([O(W_xh), O(W_xh), W_xh]),
                         np.concatenate([O(W_hh), O(W_hh), W_hh]), np.ones_like(h_t), O(h_t), h_t, O(h_t))
    g = gru_step_backward(dh_t, cache)
    return {"x_t": g["x_t"], "h_prev": g["h_prev"], "W_xh": g["W_xh"][2 * H:], "W_hh": g["W_hh"][2 * H:],
            "b_h": g["b_xh"][2 * H:]}
'''),
    "step_backward_by_gru_cell": ("ch04.rnn_step_backward", "_gru_cell_backward", '''
from rnncourse.numpy.gated import _gru_cell_backward

def answer(dh_t, x_t, h_prev, W_xh, W_hh, h_t):
    H = h_t.shape[1]
    da = _gru_cell_backward(dh_t, h_prev, np.ones_like(h_t), np.zeros_like(h_t), h_t, np.zeros_like(h_t))[0][:, 2 * H:]
    return {"x_t": da @ W_xh, "h_prev": da @ W_hh, "W_xh": da.T @ x_t, "W_hh": da.T @ h_prev, "b_h": da.sum(axis=0)}
'''),
    "step_backward_by_gru_sequence": ("ch04.rnn_step_backward", "gru_backward", '''
from rnncourse.numpy.gated import GRUCache, gru_backward

def answer(dh_t, x_t, h_prev, W_xh, W_hh, h_t):
    H, O = h_t.shape[1], np.zeros_like
    gates = np.concatenate([np.ones_like(h_t), O(h_t), h_t], axis=1)[None]
    cache = GRUCache(x_t[None], h_prev, np.concatenate([O(W_xh), O(W_xh), W_xh]),
                     np.concatenate([O(W_hh), O(W_hh), W_hh]), h_t[None], gates, O(h_t)[None])
    g = gru_backward(dh_t[None], cache)
    return {"x_t": g["x"][0], "h_prev": g["h0"], "W_xh": g["W_xh"][2 * H:], "W_hh": g["W_hh"][2 * H:],
            "b_h": g["b_xh"][2 * H:]}
'''),
    "step_backward_by_lstm_step": ("ch04.rnn_step_backward", "lstm_step_backward", '''
from rnncourse.numpy.gated import LSTMStepCache, lstm_step_backward

def answer(dh_t, x_t, h_prev, W_xh, W_hh, h_t):
    # gates i = 1, f = 0, g = h_t, o = 1 and tanh(c_t) = 0: the gradient reaches the Elman pre-activation only
    H, O, I = h_t.shape[1], np.zeros_like, np.ones_like
    cache = LSTMStepCache(x_t, h_prev, O(h_t), np.concatenate([O(W_xh), O(W_xh), W_xh, O(W_xh)]),
                          np.concatenate([O(W_hh), O(W_hh), W_hh, O(W_hh)]), (I(h_t), O(h_t), h_t, I(h_t)), O(h_t))
    g = lstm_step_backward((dh_t, None), cache)
    return {"x_t": g["x_t"], "h_prev": g["h_prev"], "W_xh": g["W_xh"][2 * H:3 * H], "W_hh": g["W_hh"][2 * H:3 * H],
            "b_h": g["b_h"][2 * H:3 * H]}
'''),
    "step_backward_by_lstm_cell": ("ch04.rnn_step_backward", "_lstm_cell_backward", '''
from rnncourse.numpy.gated import _lstm_cell_backward

def answer(dh_t, x_t, h_prev, W_xh, W_hh, h_t):
    H, O, I = h_t.shape[1], np.zeros_like, np.ones_like
    da = _lstm_cell_backward(dh_t, None, O(h_t), (I(h_t), O(h_t), h_t, I(h_t)), O(h_t))[0][:, 2 * H:3 * H]
    return {"x_t": da @ W_xh, "h_prev": da @ W_hh, "W_xh": da.T @ x_t, "W_hh": da.T @ h_prev, "b_h": da.sum(axis=0)}
'''),
    "bptt_by_gru": ("ch04.rnn_backward", "gru_backward", '''
from rnncourse.numpy.gated import GRUCache, gru_backward

def answer(dhs, x, h0, W_xh, W_hh, hs):
    H, O = hs.shape[2], np.zeros_like
    gates = np.concatenate([np.ones_like(hs), O(hs), hs], axis=2)
    cache = GRUCache(x, h0, np.concatenate([O(W_xh), O(W_xh), W_xh]), np.concatenate([O(W_hh), O(W_hh), W_hh]),
                     hs, gates, O(hs))
    g = gru_backward(dhs, cache)
    return {"x": g["x"], "h0": g["h0"], "W_xh": g["W_xh"][2 * H:], "W_hh": g["W_hh"][2 * H:], "b_h": g["b_xh"][2 * H:]}
'''),
    "bptt_by_lstm": ("ch04.rnn_backward", "lstm_backward", '''
from rnncourse.numpy.gated import LSTMCache, lstm_backward

def answer(dhs, x, h0, W_xh, W_hh, hs):
    H, O, I = hs.shape[2], np.zeros_like, np.ones_like
    cache = LSTMCache(x, h0, O(h0), np.concatenate([O(W_xh), O(W_xh), W_xh, O(W_xh)]),
                      np.concatenate([O(W_hh), O(W_hh), W_hh, O(W_hh)]), hs, O(hs),
                      np.concatenate([I(hs), O(hs), hs, I(hs)], axis=2))
    g = lstm_backward(dhs, cache)
    return {"x": g["x"], "h0": g["h0"], "W_xh": g["W_xh"][2 * H:3 * H], "W_hh": g["W_hh"][2 * H:3 * H],
            "b_h": g["b_h"][2 * H:3 * H]}
'''),
    "clip_by_grad_norm": ("ch05.clip_by_global_norm", "grad_norm", '''
from rnncourse.numpy.clip import grad_norm

def answer(grads, max_norm):
    total = grad_norm(grads)
    for g in grads.values():
        g *= min(1.0, max_norm / (total + 1e-6))
    return total
'''),
    "jordan_step_by_torch_recurrence": ("ch07.jordan_step", "recurrence", '''
import torch
from rnncourse.torch.elman import recurrence

def answer(x_t, y_prev, W_xh, W_yh, b_h, W_hy, b_y):
    x_t, y_prev, W_xh, W_yh, b_h = (torch.from_numpy(a) for a in (x_t, y_prev, W_xh, W_yh, b_h))
    h_t = recurrence(x_t[None], y_prev, W_xh, W_yh, b_h, "tanh")[1].numpy()
    return h_t, h_t @ W_hy.T + b_y
'''),
    "lstm_step_by_private_cell": ("ch08.lstm_step", "_lstm_cell", '''
from rnncourse.numpy.gated import _lstm_cell

def answer(x_t, h_prev, c_prev, W_xh, W_hh, b_h):
    h_t, c_t, _, _ = _lstm_cell(x_t @ W_xh.T + h_prev @ W_hh.T + b_h, c_prev)
    return h_t, c_t
'''),
    "lstm_step_by_sequence": ("ch08.lstm_step", "lstm_forward", '''
from rnncourse.numpy.gated import lstm_forward

def answer(x_t, h_prev, c_prev, W_xh, W_hh, b_h):
    hs, cache = lstm_forward(x_t[None], h_prev, c_prev, W_xh, W_hh, b_h)
    return hs[0].copy(), cache.cs[0].copy()
'''),
    "gru_step_by_private_cell": ("ch08.gru_step", "_gru_cell", '''
from rnncourse.numpy.gated import _gru_cell

def answer(x_t, h_prev, W_xh, W_hh, b_xh, b_hh):
    return _gru_cell(x_t @ W_xh.T + b_xh, h_prev @ W_hh.T + b_hh, h_prev)[0]
'''),
    "gru_step_by_sequence": ("ch08.gru_step", "gru_forward", '''
from rnncourse.numpy.gated import gru_forward

def answer(x_t, h_prev, W_xh, W_hh, b_xh, b_hh):
    return gru_forward(x_t[None], h_prev, W_xh, W_hh, b_xh, b_hh)[0][0].copy()
'''),
    "lstm_backward_by_private_cell": ("ch08.lstm_step_backward", "_lstm_cell_backward", '''
from rnncourse.numpy.gated import _lstm_cell_backward

def answer(dstate, cache):
    x_t, h_prev, c_prev, W_xh, W_hh, gates, tanh_c = cache
    da, dc_prev = _lstm_cell_backward(dstate[0], dstate[1], c_prev, gates, tanh_c)
    return {"x_t": da @ W_xh, "h_prev": da @ W_hh, "c_prev": dc_prev,
            "W_xh": da.T @ x_t, "W_hh": da.T @ h_prev, "b_h": da.sum(axis=0)}
'''),
    "lstm_backward_by_sequence": ("ch08.lstm_step_backward", "lstm_backward", '''
from rnncourse.numpy.gated import lstm_backward

def answer(dstate, cache):
    x_t, h_prev, c_prev, W_xh, W_hh, (i, f, g, o), tanh_c = cache
    c_t = f * c_prev + i * g
    seq = (x_t[None], h_prev, c_prev, W_xh, W_hh, (o * tanh_c)[None], c_t[None], np.concatenate([i, f, g, o], 1)[None])
    grads = lstm_backward(dstate[0][None], seq, dc_T=dstate[1])
    return {"x_t": grads["x"][0], "h_prev": grads["h0"], "c_prev": grads["c0"],
            "W_xh": grads["W_xh"], "W_hh": grads["W_hh"], "b_h": grads["b_h"]}
'''),
    "embedding_backward_by_private_helper": ("ch09.embedding_backward", "_rows_T_onehot", '''
from rnncourse.numpy.charlm import _rows_T_onehot

def answer(dx, ids, V):
    return _rows_T_onehot(dx.reshape(-1, dx.shape[-1]), ids.ravel(), V).T
'''),
    "masked_ce_by_numpy_loss": ("ch09.masked_cross_entropy", "softmax_cross_entropy", '''
from rnncourse.numpy.losses import softmax_cross_entropy

def answer(logits, targets, mask):
    return softmax_cross_entropy(logits, targets, mask)
'''),
    "masked_ce_by_torch_twin": ("ch09.masked_cross_entropy", "masked_cross_entropy", '''
import torch
from rnncourse.torch.padding import masked_cross_entropy

def answer(logits, targets, mask):
    z = torch.from_numpy(logits).requires_grad_()
    loss = masked_cross_entropy(z, torch.from_numpy(targets), torch.from_numpy(mask))
    loss.backward()
    return loss.item(), z.grad.numpy()
'''),
    "masked_ce_by_private_nll": ("ch09.masked_cross_entropy", "_nll", '''
from rnncourse.numpy import softmax
from rnncourse.numpy.charlm import _nll

def answer(logits, targets, mask):
    m = mask.astype(logits.dtype)
    n = m.sum()
    d = softmax(logits, axis=-1)
    np.put_along_axis(d, targets[..., None], np.take_along_axis(d, targets[..., None], axis=-1) - 1, axis=-1)
    return (m * _nll(logits, targets)).sum() / n, d * (m / n)[..., None]
'''),
    "reverse_padded_by_torch_twin": ("ch09.reverse_padded", "reverse_padded", '''
import torch
from rnncourse.torch.padding import reverse_padded

def answer(x, lengths):
    return reverse_padded(torch.from_numpy(x), torch.from_numpy(lengths)).numpy()
'''),
}

SETUP = "import numpy as np\nfrom rnncourse.exercises import check\n"


def _notebook(path: Path, cells) -> Path:
    """Write ``cells`` (sources of code cells) as the notebook ``path``."""
    path.parent.mkdir(parents=True, exist_ok=True)
    jupytext.write(jupytext.reads("\n".join(f"# %%\n{c.strip()}\n" for c in cells), fmt="py:percent"), path)
    return path


def _cheat_path(folder: Path, cheat: str) -> Path:
    exercise, _, cell = CHEATS[cheat]
    chapter = get_exercise(exercise).chapter
    return _notebook(folder / f"{chapter[2:]}_{cheat}.ipynb", [SETUP, cell, f'check("{exercise}", answer)'])


@pytest.mark.parametrize("cheat", list(CHEATS))
def test_each_cheat_is_a_real_answer_when_nothing_is_blocked(cheat):
    exercise, _, cell = CHEATS[cheat]
    namespace = {}
    exec(SETUP + cell, namespace)
    get_exercise(exercise).checker(namespace["answer"])            # raises ExerciseFailure if it were wrong


@pytest.mark.parametrize("cheat", list(CHEATS))
def test_the_students_own_check_fails_each_cheat_as_the_grader_does(cheat, capsys):
    # In the notebook, check() blocks the same functions: no PASS there for an answer the grader scores zero.
    exercise, helper, cell = CHEATS[cheat]
    namespace = {}
    exec(SETUP + cell, namespace)
    assert not namespace["check"](exercise, namespace["answer"])
    assert capsys.readouterr().out.startswith(f"FAIL {exercise}: write it yourself: this exercise is {helper}; "
                                              f"calling the package's own {helper}, directly or through another "
                                              f"package function, scores zero")
    get_exercise(exercise).checker(namespace["answer"])            # and the package's functions work again after


def test_the_students_own_check_names_another_exercises_subject_and_passes_honest_answers(capsys):
    namespace = {}
    exec(SETUP + OTHERS_SUBJECT, namespace)
    assert namespace["check"]("ch02.rnn_step", namespace["rnn_step"])
    assert not namespace["check"]("ch02.rnn_param_count", namespace["rnn_param_count"])
    assert capsys.readouterr().out == (
        f"PASS ch02.rnn_step: all checks passed ({get_exercise('ch02.rnn_step').points} points)\n"
        "FAIL ch02.rnn_param_count: write it yourself: the package's rnn_forward computes the answer of exercise "
        "ch02.rnn_step of this chapter, so it is blocked while the chapter's exercises are checked; calling it, "
        "directly or through another package function, scores zero\n")


def test_a_cheat_that_catches_the_blocked_call_still_fails_its_own_check(capsys):
    # The grader notes the call even when the answer catches the error and computes the answer another way.
    namespace = {}
    exec(SETUP + """
from rnncourse.numpy.clip import clip_grad_norm

def answer(grads, max_norm):
    try:
        return clip_grad_norm(grads, max_norm)
    except RuntimeError:
        raise NotImplementedError
""", namespace)
    assert not namespace["check"]("ch05.clip_by_global_norm", namespace["answer"])
    assert "write it yourself: this exercise is clip_grad_norm;" in capsys.readouterr().out


@pytest.fixture(scope="module")
def graded_cheats(tmp_path_factory):
    folder = tmp_path_factory.mktemp("cheats")
    paths = [_cheat_path(folder, cheat) for cheat in CHEATS]
    results = grade_all(paths, jobs=2, timeout=60, exercise_timeout=30)
    return {Path(r.path).stem[3:]: r for r in results}


@SANDBOX
@pytest.mark.parametrize("cheat", list(CHEATS))
def test_a_submission_that_calls_a_helper_computing_the_answer_scores_zero(graded_cheats, cheat):
    exercise, helper, _ = CHEATS[cheat]
    result = graded_cheats[cheat]
    assert result.notes == [], result.notes                        # the teaching cells may call the helper
    row = next(e for e in result.exercises if e.exercise == exercise)
    assert (row.points, row.passed) == (0, False), row.feedback
    assert re.match(rf"write it yourself: this exercise is {re.escape(helper)};", row.feedback), row.feedback


# ----------------------------------------------------------------------------- show_source in teaching cells

#: A teaching cell that shows subjects with show_source and compares each with its function's text in its file.
SHOW = '''
import ast
from pathlib import Path
from rnncourse.source import show_source

def written(fn):
    """The source of ``fn`` as its module's file has it."""
    text = Path(__import__(fn.__module__, fromlist=["_"]).__file__).read_text()
    node = next(n for n in ast.parse(text).body if getattr(n, "name", None) == fn.__name__)
    return ast.get_source_segment(text, node)

for fn in SHOWN:
    shown = show_source(fn).data
    assert shown.startswith(f"Source: `{fn.__module__.replace('.', '/')}.py`, `{fn.__name__}`"), shown[:100]
    assert written(fn) in shown, shown[:300]
'''

#: chapter -> (the imports that define SHOWN, honest answers named as the exercises' functions)
HONEST = {
    "02": ('''
import rnncourse.numpy.elman as elman
import rnncourse.torch.elman as torch_elman
SHOWN = [elman.rnn_step_forward, elman.rnn_forward, torch_elman.rnn_step_forward, torch_elman.recurrence]
''', '''
def rnn_step(x_t, h_prev, W_xh, W_hh, b_h):
    return np.tanh(x_t @ W_xh.T + h_prev @ W_hh.T + b_h)

def rnn_param_count(D, H, O):
    return H * D + H * H + H + O * H + O
''', ["ch02.rnn_step", "ch02.rnn_param_count"]),
    "09": ('''
from rnncourse.numpy.embedding import embedding_backward
from rnncourse.numpy.losses import softmax_cross_entropy
from rnncourse.numpy.padding import reverse_padded
SHOWN = [embedding_backward, softmax_cross_entropy, reverse_padded]
''', '''
def embedding_backward_ex(dx, ids, V):
    dE = np.zeros((V, dx.shape[-1]), dtype=dx.dtype)
    np.add.at(dE, ids.reshape(-1), dx.reshape(-1, dx.shape[-1]))
    return dE

def masked_cross_entropy(logits, targets, mask):
    m = mask.astype(logits.dtype)
    z = logits - logits.max(axis=-1, keepdims=True)
    log_p = z - np.log(np.exp(z).sum(axis=-1, keepdims=True))
    nll = -np.take_along_axis(log_p, targets[..., None], axis=-1)[..., 0]
    d = np.exp(log_p)
    np.put_along_axis(d, targets[..., None], np.take_along_axis(d, targets[..., None], axis=-1) - 1, axis=-1)
    return (m * nll).sum() / m.sum(), d * (m / m.sum())[..., None]

def reverse_padded_ex(x, lengths):
    out = x.copy()
    for b, L in enumerate(lengths):
        out[:L, b] = x[:L, b][::-1]
    return out
''', ["ch09.embedding_backward", "ch09.masked_cross_entropy", "ch09.reverse_padded"]),
}


@SANDBOX
@pytest.mark.parametrize("chapter", list(HONEST))
def test_a_teaching_cell_shows_the_source_of_a_subject_and_an_honest_answer_scores_full_marks(tmp_path, chapter):
    imports, answers, exercises = HONEST[chapter]
    functions = [node.name for node in ast.parse(answers).body]
    checks = "\n".join(f'check("{e}", {f})' for e, f in zip(exercises, functions))
    path = _notebook(tmp_path / f"{chapter}_show_source.ipynb", [SETUP, imports + SHOW, answers, checks])
    [result] = grade_all([path], timeout=60, exercise_timeout=30)
    assert result.notes == [], result.notes
    # Every exercise of the chapter is graded (an instructor's own too, which this answer does not write) ...
    assert {e.exercise for e in result.exercises} == {e.name for e in chapter_exercises(f"ch{chapter}")}
    # ... and each exercise answered here scores full marks, in the book's order.
    assert [(e.exercise, e.points, e.feedback) for e in result.exercises if e.exercise in exercises] == [
        (e, get_exercise(e).points, "all checks passed") for e in exercises]


# ----------------------------------------------------------------------------- another exercise's subject

#: rnn_param_count runs the package's rnn_forward, a subject of ch02.rnn_step (graded in the same sandbox), not of
#: its own exercise; rnn_step is honest.
OTHERS_SUBJECT = '''
from rnncourse.numpy import rnn_forward

def rnn_step(x_t, h_prev, W_xh, W_hh, b_h):
    return np.tanh(x_t @ W_xh.T + h_prev @ W_hh.T + b_h)

def rnn_param_count(D, H, O):
    rnn_forward(np.zeros((1, 1, D)), np.zeros((1, H)), np.zeros((H, D)), np.zeros((H, H)), np.zeros(H))
    return H * D + H * H + H + O * H + O
'''


@SANDBOX
def test_calling_another_exercises_subject_names_that_exercise_not_this_one(tmp_path):
    checks = 'check("ch02.rnn_step", rnn_step)\ncheck("ch02.rnn_param_count", rnn_param_count)'
    path = _notebook(tmp_path / "02_others_subject.ipynb", [SETUP, OTHERS_SUBJECT, checks])
    [result] = grade_all([path], timeout=60, exercise_timeout=30)
    assert result.notes == [], result.notes
    assert {e.exercise for e in result.exercises} == {e.name for e in chapter_exercises("ch02")}  # yours too
    answered = ("ch02.rnn_step", "ch02.rnn_param_count")
    assert [(e.exercise, e.points, e.feedback) for e in result.exercises if e.exercise in answered] == [
        ("ch02.rnn_step", get_exercise("ch02.rnn_step").points, "all checks passed"),
        ("ch02.rnn_param_count", 0, "write it yourself: the package's rnn_forward computes the answer of exercise "
                                    "ch02.rnn_step of this chapter, so it is blocked while the chapter's exercises "
                                    "are checked; calling it, directly or through another package function, scores "
                                    "zero")]


def test_a_blocked_function_raises_a_message_true_for_every_exercise_of_the_chapter():
    from rnncourse.exercises.runner import SUBJECT_ERROR, _SubjectBlocker
    from rnncourse.numpy import elman

    blocker = _SubjectBlocker(["rnncourse.numpy.elman.rnn_forward"])
    stub = blocker.stub(elman.rnn_forward, "rnn_forward")
    x, h0 = np.zeros((1, 1, 2)), np.zeros((1, 3))
    args = (x, h0, np.zeros((3, 2)), np.zeros((3, 3)), np.zeros(3))
    assert np.array_equal(stub(*args)[0], np.zeros((1, 1, 3)))                  # not armed: the package's own
    blocker.armed[0] = True
    with pytest.raises(RuntimeError) as raised:
        stub(*args)
    assert type(raised.value).__name__ == SUBJECT_ERROR and blocker.called == ["rnn_forward"]
    # the grader reads the function's name as the message's last word
    assert str(raised.value) == ("write it yourself: while the grader checks this chapter's exercises, it blocks "
                                 "the package's rnn_forward")


def test_the_stop_button_still_stops_a_check_whose_answer_touched_a_blocked_function():
    # KeyboardInterrupt (Jupyter's stop button) must reach the notebook, and the package function works after it.
    namespace = {}
    exec(SETUP + """
from rnncourse.numpy.clip import clip_grad_norm

def answer(grads, max_norm):
    try:
        clip_grad_norm(grads, max_norm)
    except RuntimeError:
        pass
    raise KeyboardInterrupt
""", namespace)
    with pytest.raises(KeyboardInterrupt):
        namespace["check"]("ch05.clip_by_global_norm", namespace["answer"])
    from rnncourse.numpy.clip import clip_grad_norm
    grads = {"W": np.full((2, 2), 3.0)}
    clip_grad_norm(grads, 1.0)
    assert np.isclose(np.linalg.norm(grads["W"]), 1.0)
