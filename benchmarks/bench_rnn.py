"""Speed of rnncourse's RNNs against PyTorch and against a one-sequence NumPy character RNN.

Run from the repository root::

    .venv/bin/python benchmarks/bench_rnn.py            # full run, about 2 minutes
    .venv/bin/python benchmarks/bench_rnn.py --quick    # smoke run, about 25 s
    .venv/bin/python benchmarks/bench_rnn.py --device cuda   # add the torch timings on a GPU

Everything is measured in this one process, with NumPy (OpenBLAS) and PyTorch
given the same number of threads (``--threads``, default: every core).
Timings are medians over repeats, and the two sides of each ratio are timed in
alternation so that a busy machine slows both alike. See README.md beside this
file for what each row measures and how the FLOPs are counted.
"""

from __future__ import annotations

import argparse
import math
import os
import sys
import time
from pathlib import Path


def _parse_args():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="few repeats and 2 s of training: a smoke run")
    parser.add_argument("--device", default="cpu", help="also time the torch models on this device (e.g. cuda)")
    parser.add_argument("--threads", type=int, default=os.cpu_count(), help="threads for NumPy and PyTorch")
    parser.add_argument("--seconds", type=float, default=None, help="training time per char model (default 10)")
    parser.add_argument("--repeats", type=int, default=None, help="timed repeats per measurement (default 15)")
    return parser.parse_args()


ARGS = _parse_args() if __name__ == "__main__" else None
if ARGS is not None:  # the BLAS thread count is read when NumPy is first imported
    for var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ[var] = str(ARGS.threads)
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import numpy as np  # noqa: E402
import torch  # noqa: E402

from rnncourse.data.text import CharVocab, load_text  # noqa: E402
from rnncourse.numpy import charlm  # noqa: E402
from rnncourse.numpy.clip import clip_grad_norm  # noqa: E402
from rnncourse.numpy.elman import rnn_backward, rnn_forward  # noqa: E402
from rnncourse.numpy.init import init_rnn_params  # noqa: E402
from rnncourse.numpy.optim import Adam  # noqa: E402
from rnncourse.numpy.output import affine_forward  # noqa: E402
from rnncourse.torch.device import pick_device  # noqa: E402
from rnncourse.torch.elman import ElmanRNN  # noqa: E402
from rnncourse.torch.gated import GRU, LSTM  # noqa: E402

T, B, D, H = 100, 32, 64, 128          # the RNN layer measured in rows 1-3
LM_HIDDEN, LM_STEPS = 100, 25          # the character models of row 4 (both)
LM_BATCH, LM_LR, LM_CLIP = 64, 1e-2, 5.0


# ---------------------------------------------------------------------------- timing helpers


def _sync(device):
    if device.type == "cuda":
        torch.cuda.synchronize()


def time_alternating(fns, repeats, device=torch.device("cpu"), settle=0.15, window=0.3):
    """Seconds per call of each function in ``fns``, timed in turn, ``repeats`` rounds.

    Returns one list per function, one time per round. Each round runs every
    function once in a block: first ``settle`` seconds untimed (after a switch,
    the other library's worker threads keep spinning for a while: OpenBLAS and
    OpenMP both busy-wait before they sleep, and would slow the first calls),
    then as many calls as fit in ``window`` seconds, timed. A ratio taken within
    a round compares functions that ran within a second of each other.
    """
    samples = [[] for _ in fns]
    for _ in range(repeats):
        for fn, out in zip(fns, samples):
            start = time.perf_counter()
            while time.perf_counter() - start < settle:
                fn()
            _sync(device)
            n, start = 0, time.perf_counter()
            while n < 2 or time.perf_counter() - start < window:
                fn()
                n += 1
            _sync(device)
            out.append((time.perf_counter() - start) / n)
    return samples


def median_ratio(a, b):
    """Median over rounds of a[i] / b[i]: how many times longer a took than b, round by round."""
    return float(np.median(np.asarray(a) / np.asarray(b)))


def time_pair(f, g, repeats, device=torch.device("cpu")):
    """Median seconds per call of f and of g, and the median ratio f/g, timed in alternation."""
    t_f, t_g = time_alternating((f, g), repeats, device)
    return float(np.median(t_f)), float(np.median(t_g)), median_ratio(t_f, t_g)


# ---------------------------------------------------------------------------- rows 1-3: one RNN layer


def numpy_step(params, x, dhs):
    """Forward and BPTT of rnncourse.numpy, float32."""
    def run():
        _, cache = rnn_forward(x, None, **params)
        rnn_backward(dhs, cache)
    return run


def chain_states(input_part, W_hh, states=None):
    """The loop of rnn_forward alone: h_t = tanh(input_part[t] + h_{t-1} W_hh^T) from h_0 = 0."""
    states = np.empty_like(input_part) if states is None else states
    W_hh_T = np.ascontiguousarray(W_hh.T)
    recurrent, h = np.empty_like(input_part[0]), np.zeros_like(input_part[0])
    for a_t, p_t in zip(states, input_part):
        np.matmul(h, W_hh_T, out=recurrent)
        np.add(p_t, recurrent, out=a_t)
        np.tanh(a_t, out=a_t)
        h = a_t
    return states


def chain_backward(dhs, dA, W_hh):
    """The loop of rnn_backward alone: dA holds f'(a_t) and becomes da_t in place; returns dL/dh_0."""
    dh = np.zeros_like(dhs[0])
    for t in reversed(range(len(dhs))):
        dh += dhs[t]
        dA[t] *= dh
        np.matmul(dA[t], W_hh, out=dh)
    return dh


def numpy_chain(params, x, dhs):
    """Only the step-by-step part of row 1's NumPy work, which no second core can share.

    The two loops of rnn_forward and rnn_backward (T products h_{t-1} W_hh^T, T tanh,
    T products da_t W_hh and the elementwise updates), plus one copy that resets f'(a_t);
    the products over the whole sequence are left out.
    """
    states = rnn_forward(x, None, **params)[0].copy()        # a writable copy: rnn_forward's hs is read-only
    input_part, _ = affine_forward(x, params["W_xh"], params["b_h"])      # x_t W_xh^T + b_h, every step
    derivative = 1 - states * states
    dA = np.empty_like(derivative)

    def run():
        chain_states(input_part, params["W_hh"], states)
        np.copyto(dA, derivative)
        chain_backward(dhs, dA, params["W_hh"])
    return run


def torch_step(module, x, dhs, device):
    """Forward and backward of a torch module, gradients for the weights and the input."""
    xt = torch.tensor(x, device=device, requires_grad=True)
    dhs_t = torch.tensor(dhs, device=device)

    def run():
        module.zero_grad(set_to_none=True)
        xt.grad = None
        out, _ = module(xt)
        out.backward(dhs_t)
    return run


def without_onednn(run):
    """``run`` with PyTorch's oneDNN (MKL-DNN) backend switched off: torch.nn.LSTM then runs ATen's per-step loop."""
    def run_without():
        torch.backends.mkldnn.enabled = False
        try:
            run()
        finally:
            torch.backends.mkldnn.enabled = True
    return run_without


def rnn_flops():
    """FLOPs of forward + BPTT, counting matrix products only (2*M*N*K each).

    Forward: input projection (T*B, D) x (D, H) and T recurrent products (B, H) x (H, H).
    Backward: T products da_t W_hh, then dx = dA W_xh, dW_xh = dA^T x, dW_hh = dA^T h_prevs,
    h_prevs being the states entering each step.
    """
    return 2 * T * B * H * (3 * D + 3 * H)


MATMUL_N = 2048                        # the large product of row 2
MATMUL_FLOPS = 2 * MATMUL_N ** 3


def big_matmul():
    """One 2048 x 2048 float32 NumPy matrix product, the machine's matrix throughput of row 2."""
    A = np.random.default_rng(0).standard_normal((MATMUL_N, MATMUL_N)).astype(np.float32)

    def run():
        A @ A
    return run


# ---------------------------------------------------------------------------- row 4: character models


class OneSequenceCharRNN:
    """The classic minimal character RNN, the baseline of row 4 (our own re-implementation).

    One sequence at a time, column vectors, one-hot inputs multiplied by W_xh,
    float64, a Python loop over the steps for the forward and the backward
    pass, gradients clipped entry by entry to [-5, 5], Adagrad with lr 0.1:
    the same operations, step for step, as the classic script, and at least as fast
    (README.md beside this file says how that was measured).
    """

    def __init__(self, V, hidden, seed):
        rng = np.random.default_rng(seed)
        self.V = V
        self.P = {"W_xh": rng.standard_normal((hidden, V)) * 0.01, "W_hh": rng.standard_normal((hidden, hidden)) * 0.01,
                  "W_hy": rng.standard_normal((V, hidden)) * 0.01,
                  "b_h": np.zeros((hidden, 1)), "b_y": np.zeros((V, 1))}
        self.sq_sums = {k: np.zeros_like(v) for k, v in self.P.items()}
        self.lr = 0.1

    def loss_and_grads(self, inputs, targets, h):
        """Mean loss per character, the gradients of the summed loss (clipped), and the last state.

        The products are ``np.dot``: NumPy's ``@`` does not pass an outer product (n, 1)·(1, m) to
        BLAS and takes about four times as long for the three per step of the backward pass.
        """
        W_xh, W_hh, W_hy, b_h, b_y = (self.P[k] for k in ("W_xh", "W_hh", "W_hy", "b_h", "b_y"))
        onehots, states, probs, total = [], [h], [], 0.0
        for c, target in zip(inputs, targets):                 # forward, one character at a time
            x = np.zeros((self.V, 1))
            x[c] = 1.0
            h = np.tanh(np.dot(W_xh, x) + np.dot(W_hh, h) + b_h)
            scores = np.dot(W_hy, h) + b_y
            e = np.exp(scores - scores.max())
            p = e / e.sum()
            total -= math.log(p[target, 0])
            onehots.append(x)
            states.append(h)
            probs.append(p)
        dW_xh, dW_hh, dW_hy = np.zeros_like(W_xh), np.zeros_like(W_hh), np.zeros_like(W_hy)
        db_h, db_y = np.zeros_like(b_h), np.zeros_like(b_y)
        dh_later = np.zeros_like(h)
        for t in reversed(range(len(inputs))):                  # backward, one character at a time
            dscores = probs[t].copy()
            dscores[targets[t]] -= 1.0
            dW_hy += np.dot(dscores, states[t + 1].T)
            db_y += dscores
            da = (1.0 - states[t + 1] * states[t + 1]) * (np.dot(W_hy.T, dscores) + dh_later)
            dW_xh += np.dot(da, onehots[t].T)
            dW_hh += np.dot(da, states[t].T)
            db_h += da
            dh_later = np.dot(W_hh.T, da)
        G = {"W_xh": dW_xh, "W_hh": dW_hh, "W_hy": dW_hy, "b_h": db_h, "b_y": db_y}
        for g in G.values():
            np.clip(g, -5.0, 5.0, out=g)
        return total / len(inputs), G, h

    def update(self, G):
        for k, p in self.P.items():
            self.sq_sums[k] += G[k] * G[k]
            p -= self.lr * G[k] / np.sqrt(self.sq_sums[k] + 1e-8)

    def as_charlm_params(self):
        """The same weights in rnncourse.numpy.charlm's layout, to score both models with one function."""
        return {"W_xh": self.P["W_xh"], "W_hh": self.P["W_hh"], "b_h": self.P["b_h"].ravel(),
                "W_hy": self.P["W_hy"], "b_y": self.P["b_y"].ravel()}


def baseline_updates(model, ids):
    """The one-sequence model's training, one update of LM_STEPS characters per ``next()``."""
    h, pos = np.zeros((LM_HIDDEN, 1)), 0
    while True:
        if pos + LM_STEPS + 1 > len(ids):
            h, pos = np.zeros((LM_HIDDEN, 1)), 0
        inputs, targets = ids[pos:pos + LM_STEPS].tolist(), ids[pos + 1:pos + LM_STEPS + 1].tolist()
        _, G, h = model.loss_and_grads(inputs, targets, h)
        model.update(G)
        pos += LM_STEPS
        yield


def charlm_updates(params, ids):
    """The batched model's training, one update of LM_STEPS * LM_BATCH characters per ``next()``."""
    opt = Adam(lr=LM_LR)
    while True:
        h = None
        for inputs, targets in charlm.batches(ids, LM_STEPS, LM_BATCH):
            _, grads, h = charlm.charlm_loss(params, inputs, targets, h)
            clip_grad_norm(grads, LM_CLIP)
            opt.step(params, grads)
            yield


def train_in_turn(ids, V, seconds):
    """Train both character models for ``seconds`` each, in alternation (time_alternating's rounds).

    Returns the two models' parameters (in charlm's layout) and the median over rounds of the
    ratio of their speeds in characters per second, batched / one-sequence.
    """
    baseline = OneSequenceCharRNN(V, LM_HIDDEN, seed=0)
    params = charlm.init_charlm(V, LM_HIDDEN, rng=np.random.default_rng(0), dtype=np.float32)
    base_steps, lm_steps = baseline_updates(baseline, ids), charlm_updates(params, ids)
    rounds = max(2, round(seconds / 0.45))                  # each round trains each model 0.15 + 0.3 s
    t_base, t_lm = time_alternating((lambda: next(base_steps), lambda: next(lm_steps)), rounds)
    chars_base, chars_lm = LM_STEPS, LM_STEPS * LM_BATCH     # per update
    speeds = (chars_lm / np.median(t_lm), chars_base / np.median(t_base))
    return baseline.as_charlm_params(), params, chars_lm / chars_base * median_ratio(t_base, t_lm), speeds


# ---------------------------------------------------------------------------- the table


def main(args):
    torch.set_num_threads(args.threads)
    extra_device = pick_device(args.device) if args.device != "cpu" else None   # fails early if absent
    repeats = args.repeats or (3 if args.quick else 15)
    seconds = args.seconds or (2.0 if args.quick else 10.0)
    rng = np.random.default_rng(0)
    params = init_rnn_params(D, H, rng=rng, dtype=np.float32)
    x = rng.standard_normal((T, B, D)).astype(np.float32)
    dhs = rng.standard_normal((T, B, H)).astype(np.float32)
    cpu = torch.device("cpu")
    reference = torch.nn.RNN(D, H)
    scratch = ElmanRNN.from_torch(reference)
    rows = []

    # Rows 1 and 2 come from the same rounds: NumPy RNN, torch.nn.RNN, the big product and the chain in turn.
    t_np, t_ref, t_mm, t_chain = time_alternating(
        (numpy_step(params, x, dhs), torch_step(reference, x, dhs, cpu), big_matmul(), numpy_chain(params, x, dhs)),
        repeats)
    ratio = median_ratio(t_np, t_ref)
    rows.append(("1. NumPy fwd+BPTT / torch.nn.RNN fwd+bwd (CPU)", ratio, "<= 0.50", ratio <= 0.5,
                 f"{np.median(t_np) * 1e3:.2f} ms vs {np.median(t_ref) * 1e3:.2f} ms"))
    share = rnn_flops() / MATMUL_FLOPS * median_ratio(t_mm, t_np)     # (flops / t_np) / (flops_mm / t_mm)
    rows.append(("2. NumPy fwd+BPTT FLOP/s / 2048^2 matmul FLOP/s", share, ">= 0.40", share >= 0.4,
                 f"{rnn_flops() / np.median(t_np) / 1e9:.1f} of {MATMUL_FLOPS / np.median(t_mm) / 1e9:.1f} GFLOP/s"))
    bound = rnn_flops() / MATMUL_FLOPS * median_ratio(t_mm, t_chain)
    rows.append(("2b. its step-by-step chain alone / NumPy fwd+BPTT", median_ratio(t_chain, t_np), "(info)", None,
                 f"{np.median(t_chain) * 1e3:.2f} ms; row 2 would be {bound:.2f} if nothing else took time"))
    t_ours, t_ref, ratio = time_pair(torch_step(scratch, x, dhs, cpu), torch_step(reference, x, dhs, cpu), repeats)
    rows.append(("3. ElmanRNN / torch.nn.RNN fwd+bwd (CPU)", ratio, "<= 1.50", ratio <= 1.5,
                 f"{t_ours * 1e3:.2f} ms vs {t_ref * 1e3:.2f} ms"))
    for letter, scratch_class in (("c", LSTM), ("d", GRU)):
        name = scratch_class.__name__
        native = scratch_class.torch_class(D, H)
        t_ours, t_ref, ratio = time_pair(torch_step(scratch_class.from_torch(native), x, dhs, cpu),
                                         torch_step(native, x, dhs, cpu), repeats)
        rows.append((f"3{letter}. rnncourse.torch {name} / torch.nn.{name} fwd+bwd (CPU)", ratio, "<= 1.50",
                     ratio <= 1.5, f"{t_ours * 1e3:.2f} ms vs {t_ref * 1e3:.2f} ms"))
    # torch.nn.LSTM runs oneDNN's fused kernel on the CPU; without it, ATen's per-step loop, like torch.nn.RNN/GRU's.
    native = torch.nn.LSTM(D, H)
    t_ours, t_ref, ratio = time_pair(torch_step(LSTM.from_torch(native), x, dhs, cpu),
                                     without_onednn(torch_step(native, x, dhs, cpu)), repeats)
    rows.append(("3e. rnncourse.torch LSTM / torch.nn.LSTM without oneDNN (CPU)", ratio, "(info)", None,
                 f"{t_ours * 1e3:.2f} ms vs {t_ref * 1e3:.2f} ms"))
    if extra_device is not None:
        dev = extra_device
        ref_dev, ours_dev = reference.to(dev), ElmanRNN.from_torch(reference).to(dev)
        t_ours, t_ref, ratio = time_pair(torch_step(ours_dev, x, dhs, dev), torch_step(ref_dev, x, dhs, dev), repeats,
                                         device=dev)
        rows.append((f"3b. ElmanRNN / torch.nn.RNN fwd+bwd ({dev})", ratio, "(info)", None,
                     f"{t_ours * 1e3:.2f} ms vs {t_ref * 1e3:.2f} ms"))

    text = load_text("stdlib")
    vocab = CharVocab(text)
    ids = vocab.encode(text)
    split = int(0.9 * len(ids))
    train_ids, held_out = ids[:split], ids[split:]
    base_params, lm_params, speedup, (lm_speed, base_speed) = train_in_turn(train_ids, vocab.size, seconds)
    base_loss = charlm.evaluate_loss(base_params, held_out)
    lm_loss = charlm.evaluate_loss(lm_params, held_out)
    rows.append(("4a. char LM chars/s: batched / one-sequence", speedup, ">= 20", speedup >= 20,
                 f"{lm_speed:,.0f} vs {base_speed:,.0f} chars/s"))
    rows.append((f"4b. held-out loss after {seconds:g} s, nats/char", lm_loss, f"<= {base_loss:.3f}",
                 lm_loss <= base_loss, f"batched {lm_loss:.3f}, one-sequence {base_loss:.3f} (log V = "
                                       f"{np.log(vocab.size):.3f})"))
    print_table(rows, args, repeats)


def print_table(rows, args, repeats):
    print(f"rnncourse benchmark: T={T}, B={B}, D={D}, H={H}, float32; {args.threads} threads for NumPy and torch "
          f"(torch {torch.__version__}, NumPy {np.__version__}); median of {repeats} repeats"
          + ("; --quick" if args.quick else ""))
    width = max(len(r[0]) for r in rows)
    print(f"{'metric'.ljust(width)}  {'value':>7}  {'target':>8}  result  details")
    for name, value, target, ok, details in rows:
        verdict = "info" if ok is None else ("pass" if ok else "FAIL")
        print(f"{name.ljust(width)}  {value:7.3f}  {target:>8}  {verdict:6}  {details}")


if __name__ == "__main__":
    main(ARGS)
