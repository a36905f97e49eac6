r"""A batched character-level language model in NumPy: forward, backpropagation through time, sampling.

The model reads one character id :math:`c_t` per step and predicts the next:

.. math::

    h_t = \tanh(W_{xh}[:, c_t] + W_{hh} h_{t-1} + b_h), \qquad
    z_t = W_{hy} h_t + b_y, \qquad p_t = \operatorname{softmax}(z_t).

``W_xh[:, c_t]`` is the one-hot product :math:`W_{xh}\,\mathrm{onehot}(c_t)`
without the product: the column of the input weights that belongs to the
character (an *embedding* lookup). Its gradient is the reverse, a scatter-add
of each step's gradient into that column.

Shapes: ``inputs`` and ``targets`` are integer ids of shape (T, B), time-major;
V is the vocabulary size and H the hidden size. ``params`` is a dict with
``W_xh`` (H, V), ``W_hh`` (H, H), ``b_h`` (H,), ``W_hy`` (V, H), ``b_y`` (V,).
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from rnncourse.numpy.init import init_output_params, init_rnn_params
from rnncourse.numpy.losses import softmax_cross_entropy
from rnncourse.numpy.output import AffineCache, as_affine_cache
from rnncourse.validation import (check_argument_order, check_array, check_cache, check_index_array, check_not_empty,
                                  check_params, check_positive_float, check_positive_int, check_rng, check_same_dtype,
                                  state_hint)

__all__ = ["CharLMCache", "init_charlm", "charlm_forward", "charlm_backward", "charlm_loss", "evaluate_loss",
           "score_text", "correlation_beyond_input", "sample", "batches"]

PARAM_SHAPES = {"W_xh": ("H", "V"), "W_hh": ("H", "H"), "b_h": ("H",), "W_hy": ("V", "H"), "b_y": ("V",)}


class CharLMCache(NamedTuple):
    """What :func:`charlm_backward` needs; ``hs[-1]`` is the final state (read-only).

    Attributes
    ----------
    inputs : numpy.ndarray, shape (T, B)
        The character ids that were read, time-major.
    h0 : numpy.ndarray, shape (B, H)
        The state before the first character.
    hs : numpy.ndarray, shape (T, B, H)
        Every hidden state, read-only.
    params : dict
        The model's weights, ``W_xh``, ``W_hh``, ``b_h``, ``W_hy``, ``b_y``.
    out_cache : AffineCache
        The read-out's cache, ``(hs, W_hy)``, as :func:`rnncourse.numpy.output.affine_forward` returns it.
    """

    inputs: np.ndarray
    h0: np.ndarray
    hs: np.ndarray
    params: dict
    out_cache: AffineCache


def init_charlm(V, H, *, rng, dtype=np.float32) -> dict:
    """Initial parameters of the character model, U(-1/sqrt(H), 1/sqrt(H)) like :class:`torch.nn.RNN`.

    Parameters
    ----------
    V : int
        Vocabulary size (the input and the output size).
    H : int
        Hidden size.
    rng : numpy.random.Generator
        Source of randomness.
    dtype : numpy.dtype
        ``numpy.float32`` (default, fast) or ``numpy.float64`` (for gradient checks).

    Returns
    -------
    dict
        ``W_xh`` (H, V), ``W_hh`` (H, H), ``b_h`` (H,), ``W_hy`` (V, H), ``b_y`` (V,).
    """
    V, H = check_positive_int(V, "V"), check_positive_int(H, "H")     # named as the caller knows them
    params = init_rnn_params(V, H, rng=rng, dtype=dtype)
    params.update(init_output_params(H, V, rng=rng, dtype=dtype))
    return params


def _check_params(params) -> tuple[int, int]:
    """Validate the parameter dict, each array once; return (V, H)."""
    sizes = check_params(params, PARAM_SHAPES, fix="create it with init_charlm(...)")   # other keys are ignored
    return sizes["V"], sizes["H"]


def _check_ids(inputs, targets, h0, V, W_hh):
    check_index_array(inputs, "inputs", ("T", "B"), high=V)
    check_not_empty(inputs, "inputs")
    if targets is not None:
        check_index_array(targets, "targets", ("T", "B"), inputs.shape, high=V)
    if h0 is not None:
        T, B = inputs.shape
        hint, advice = "B comes from inputs, H from W_hh", state_hint(h0, "h0", T, B, source="inputs", source_ndim=2)
        check_array(h0, "h0", ("B", "H"), (B, W_hh.shape[0]), hint=f"{hint}; {advice}" if advice else hint)
        check_same_dtype(**{"h0": h0, "params['W_hh']": W_hh})


def charlm_forward(params, inputs, h0=None):
    """Run the model over a batch of id sequences.

    Parameters
    ----------
    params : dict
        From :func:`init_charlm`.
    inputs : numpy.ndarray of int, shape (T, B)
        Character ids, time-major.
    h0 : numpy.ndarray, shape (B, H), optional
        Initial hidden state (e.g. ``h_T`` of the previous chunk); zeros by default.

    Returns
    -------
    logits : numpy.ndarray, shape (T, B, V)
        Scores of the next character at every step.
    cache : CharLMCache
        What :func:`charlm_backward` needs; ``cache.hs`` (T, B, H) holds the
        hidden states (read-only) and ``cache.hs[-1]`` is the last one, to carry
        into the next chunk as ``h0``.
    """
    check_argument_order(params, inputs, "inputs", "charlm_forward(params, inputs, h0=None)")
    V, _ = _check_params(params)
    _check_ids(inputs, None, h0, V, params["W_hh"])
    return _forward(params, inputs, h0)


def _forward(params, inputs, h0):
    """:func:`charlm_forward` without the input checks."""
    T, B = inputs.shape
    W_xh, W_hh, b_h = params["W_xh"], params["W_hh"], params["b_h"]
    h0 = np.zeros((B, W_hh.shape[0]), W_hh.dtype) if h0 is None else h0
    # The input part of every a_t at once: W_xh onehot(c_t) is column c_t of W_xh, so
    # W_xh[:, c_t] + b_h is row c_t of the table W_xh.T + b_h (V, H): a lookup.
    hs = np.take(W_xh.T + b_h, inputs, axis=0)  # (T, B, H); hs[t] becomes h_t in the loop
    # BLAS ran h @ W_hh.T 1.5x faster on a row-by-row copy of W_hh.T than through the transposed view.
    W_hh_T = np.ascontiguousarray(W_hh.T)       # (H, H)
    h = h0
    for a_t in hs:                              # hs[t] for t = 0, ..., T - 1, holding W_xh[:, c_t] + b_h
        a_t += h @ W_hh_T                       # a_t = W_xh[:, c_t] + W_hh h_{t-1} + b_h
        h = np.tanh(a_t, out=a_t)               # h_t = tanh(a_t), written over a_t
    hs.flags.writeable = False                  # the cache holds hs for the backward pass
    # affine_forward's read-out, without its checks, which would scan W_hy and b_y again (and hs) on every chunk.
    W_hy = params["W_hy"]
    logits = hs.reshape(T * B, -1) @ W_hy.T     # one product over all T*B rows
    logits += params["b_y"]
    return logits.reshape(T, B, -1), CharLMCache(inputs, h0, hs, params, AffineCache(hs, W_hy))


def charlm_backward(dlogits, cache, dh_T=None):
    """Backpropagation through time for :func:`charlm_forward`.

    The step of a one-sequence character RNN, ``dh_raw = (1 - h_t**2) * dh``,
    ``dW_xh += dh_raw @ x_t.T``, ``dW_hh += dh_raw @ h_prev.T``, run on the whole
    batch: rows are sequences, so ``dh_raw`` is ``da_t`` (B, H) and the sums over
    time are taken after the loop over all ``T * B`` rows, for ``W_hh`` as one product
    and for ``W_xh`` as one sum per character (``x_t`` is one-hot: no product needed).

    Parameters
    ----------
    dlogits : numpy.ndarray, shape (T, B, V)
        Gradient of the loss with respect to the logits.
    cache : CharLMCache
        From :func:`charlm_forward`.
    dh_T : numpy.ndarray, shape (B, H), optional
        Gradient reaching the last state from later chunks; zero by default
        (truncated BPTT).

    Returns
    -------
    dict
        Gradients named like the parameters (``W_xh`` (H, V), ...), and ``h0`` (B, H).
    """
    inputs, h0, hs, params, out_cache = check_cache(cache, CharLMCache, "charlm_forward", (5,))
    T, B, H = hs.shape
    V = params["W_xh"].shape[1]
    # Checked (and scanned, once) here, under the caller's name: the output layer's gradients are
    # affine_backward's three products, written out below so that it does not check them again as "dY".
    check_array(dlogits, "dlogits", ("T", "B", "V"), (T, B, V),
                hint="dlogits has the shape of the logits from charlm_forward")
    check_same_dtype(dlogits=dlogits, hs=hs)
    if dh_T is not None:
        check_array(dh_T, "dh_T", ("B", "H"), h0.shape, hint="dh_T has the shape of the last state cache.hs[-1]")
        check_same_dtype(dh_T=dh_T, hs=hs)
    dz_rows = dlogits.reshape(T * B, V)         # one row per (t, b)
    grads = {"W_hy": dz_rows.T @ hs.reshape(T * B, H), "b_y": dz_rows.sum(axis=0)}
    dhs = (dz_rows @ as_affine_cache(out_cache).W_hy).reshape(T, B, H)    # from the outputs only
    W_hh = params["W_hh"]
    da = 1 - hs * hs                            # tanh'(a_t) = 1 - h_t**2; becomes da_t in the loop
    dh = np.zeros((B, H), hs.dtype) if dh_T is None else dh_T
    for t in reversed(range(T)):
        da[t] *= dhs[t] + dh                    # da_t = (dh from y_t + dh from h_{t+1}) * tanh'(a_t)
        dh = da[t] @ W_hh                       # dh_{t-1} = da_t W_hh
    da_rows = da.reshape(T * B, H)              # one row per (t, b)
    h_prev_rows = np.concatenate([h0[None], hs[:-1]]).reshape(T * B, H)   # h_{t-1} per row
    grads["W_xh"] = _rows_T_onehot(da_rows, inputs.ravel(), V)          # sum over t, b of da_t onehot(c_t)^T
    grads["W_hh"] = da_rows.T @ h_prev_rows     # sum over t, b of da_t h_{t-1}^T
    grads["b_h"] = grads["W_xh"].sum(axis=1)    # sum over t, b of da_t: each row read one character, so
                                                # this adds the columns of dW_xh (V of them, not T * B rows)
    grads["h0"] = dh
    return grads


def _rows_T_onehot(rows, ids, V):
    """``rows.T @ onehot(ids)``, (H, V), without the one-hot matrix: column v sums the rows whose id is v.

    The product would cost ``N * H * V`` multiplications for ``N * H`` additions, and
    ``np.add.at(out.T, ids, rows)``, the scatter-add that says the same, runs slower still for rows
    (NumPy 2.4); sorting the ``rows`` (N, H) into one group per id and summing each group is faster
    than both.
    """
    order = np.argsort(ids, kind="stable")      # the rows of one id next to each other
    present, starts = np.unique(ids[order], return_index=True)
    out = np.zeros((rows.shape[1], V), rows.dtype)
    out[:, present] = np.add.reduceat(np.take(rows, order, axis=0), starts, axis=0).T
    return out


def charlm_loss(params, inputs, targets, h0=None):
    """Mean cross-entropy of next-character prediction, its gradients and the last state.

    Parameters
    ----------
    params : dict
        From :func:`init_charlm`.
    inputs : numpy.ndarray of int, shape (T, B)
        Character ids.
    targets : numpy.ndarray of int, shape (T, B)
        The ids to predict: ``targets[t]`` is the character after ``inputs[t]``.
    h0 : numpy.ndarray, shape (B, H), optional
        Initial hidden state; zeros by default.

    Returns
    -------
    loss : float
        Mean negative log-likelihood per character, in nats.
    grads : dict
        Gradients named like the parameters.
    h_T : numpy.ndarray, shape (B, H)
        The last hidden state, to pass as ``h0`` of the next chunk.

    Examples
    --------
    >>> params = init_charlm(5, 8, rng=np.random.default_rng(0), dtype=np.float64)
    >>> ids = np.array([[0, 1], [2, 3], [4, 0]])
    >>> loss, grads, h_T = charlm_loss(params, ids[:-1], ids[1:])
    >>> grads["W_xh"].shape, h_T.shape
    ((8, 5), (2, 8))
    """
    check_argument_order(params, inputs, "inputs", "charlm_loss(params, inputs, targets, h0=None)")
    V, _ = _check_params(params)
    _check_ids(inputs, targets, h0, V, params["W_hh"])
    logits, cache = _forward(params, inputs, h0)
    loss, dlogits = softmax_cross_entropy(logits, targets)
    grads = charlm_backward(dlogits, cache)
    del grads["h0"]
    return float(loss), grads, cache.hs[-1].copy()


def evaluate_loss(params, ids, *, T=100, B=16) -> float:
    """Mean negative log-likelihood per character of a text, in nats (no gradients).

    The text is cut into ``B`` contiguous streams read ``T`` steps at a time,
    the hidden state carried from chunk to chunk (see :func:`batches`).

    Parameters
    ----------
    params : dict
        From :func:`init_charlm`.
    ids : numpy.ndarray of int, shape (N,)
        The text as character ids.
    T : int
        Steps per chunk.
    B : int
        Number of streams.

    Returns
    -------
    float
        The loss per predicted character; ``log(V)`` for a model that knows nothing.
    """
    V, _ = _check_params(params)
    check_index_array(ids, "ids", ("N",), high=V)
    total, n, h = 0.0, 0, None
    for inputs, targets in batches(ids, T, B):  # checked once, above: the loop calls unchecked internals
        logits, cache = _forward(params, inputs, h)
        h = cache.hs[-1]
        loss = _nll(logits, targets).mean()    # softmax_cross_entropy's loss, without its checks and gradient
        total, n = total + float(loss) * targets.size, n + targets.size
    return total / n


def _nll(logits, targets):
    """``-log softmax(logits)[targets]`` at every position, in the dtype of ``logits``; no checks."""
    z = logits - logits.max(axis=-1, keepdims=True)
    log_p = z - np.log(np.exp(z).sum(axis=-1, keepdims=True))  # log softmax
    return -np.take_along_axis(log_p, targets[..., None], axis=-1)[..., 0]


def score_text(params, ids):
    """Read a text as one stream from h_0 = 0: the loss of each character and every hidden state.

    Unlike :func:`evaluate_loss`, which cuts the text into streams, every character after the first
    is predicted from all the characters before it, so the losses line up with those of any other
    model scored on the same text (e.g. :func:`rnncourse.numpy.ngram.ngram_nll`).

    Parameters
    ----------
    params : dict
        From :func:`init_charlm`.
    ids : numpy.ndarray of int, shape (N,)
        The text as character ids, N >= 2.

    Returns
    -------
    nll : numpy.ndarray of float64, shape (N - 1,)
        ``nll[t] = -log P(ids[t + 1] | ids[: t + 1])``, in nats.
    hs : numpy.ndarray, shape (N - 1, H)
        ``hs[t]`` is the hidden state after reading ``ids[t]``.
    """
    V, _ = _check_params(params)
    check_index_array(ids, "ids", ("N",), high=V)
    if len(ids) < 2:
        raise ValueError(f"ids should hold at least 2 characters (one to read, one to predict), but holds {len(ids)}")
    logits, cache = _forward(params, ids[:-1, None], None)
    return _nll(logits[:, 0].astype(np.float64), ids[1:]), cache.hs[:, 0]


def correlation_beyond_input(hs, ids, feature) -> np.ndarray:
    """Correlation of every hidden unit with a feature, beyond what the character just read explains.

    A unit that only echoes the current character is no memory. So from every unit, and from the
    feature, this subtracts its mean over the positions that read the same character, and then
    correlates what is left (Pearson, over all positions).

    Parameters
    ----------
    hs : numpy.ndarray, shape (N, H)
        Hidden states, ``hs[t]`` after reading ``ids[t]`` (e.g. from :func:`score_text`).
    ids : numpy.ndarray of int, shape (N,)
        The characters read.
    feature : numpy.ndarray, shape (N,)
        A property of the text at each position (e.g. from
        :func:`rnncourse.data.text.running_features`).

    Returns
    -------
    numpy.ndarray of float64, shape (H,)
        One correlation per unit, in [-1, 1]; 0 for a unit (or a feature) that the current
        character determines completely.
    """
    hs = check_array(hs, "hs", ("N", "H")).astype(np.float64)
    check_index_array(ids, "ids", ("N",), (hs.shape[0],))
    feature = check_array(feature, "feature", ("N",), (hs.shape[0],)).astype(np.float64)
    for c in np.unique(ids):                  # remove what the current character alone explains
        rows = ids == c
        hs[rows] -= hs[rows].mean(axis=0)
        feature[rows] -= feature[rows].mean()
    hs_norm, f_norm = np.linalg.norm(hs, axis=0), np.linalg.norm(feature)
    denom = np.where(hs_norm * f_norm > 0, hs_norm * f_norm, np.inf)
    return hs.T @ feature / denom


def sample(params, start_id, n, *, temperature=1.0, rng, h0=None) -> list:
    """Generate ``n`` characters, feeding each sampled id back as the next input.

    Parameters
    ----------
    params : dict
        From :func:`init_charlm`.
    start_id : int
        The first input id, in ``[0, V)``.
    n : int
        Number of ids to generate.
    temperature : float
        Divides the logits before the softmax: 1 samples the model's
        distribution, below 1 sharpens it (towards the most likely character),
        above 1 flattens it.
    rng : numpy.random.Generator
        Source of randomness.
    h0 : numpy.ndarray, shape (H,), optional
        Initial hidden state; zeros by default.

    Returns
    -------
    list of int
        The ``n`` generated ids (not including ``start_id``).
    """
    V, H = _check_params(params)
    n = check_positive_int(n, "n")
    check_positive_float(temperature, "temperature")
    c = _check_start_id(start_id, V)
    check_rng(rng)
    W_xh, W_hh, b_h, W_hy, b_y = (params[k] for k in PARAM_SHAPES)
    if h0 is not None:
        one_row = getattr(h0, "ndim", None) == 2 and h0.shape[0] == 1
        check_array(h0, "h0", ("H",), (H,), hint="sample generates one sequence, so its state has no batch axis: "
                                                 "pass h0[0]" if one_row else "")
    h = np.zeros(H, W_hh.dtype) if h0 is None else np.asarray(h0).astype(W_hh.dtype)
    out = []
    for _ in range(n):
        h = np.tanh(W_xh[:, c] + W_hh @ h + b_h)
        logits = (W_hy @ h + b_y).astype(np.float64)
        # Subtract the maximum before dividing: a tiny temperature then sends the others to -inf (probability 0)
        # and keeps the maximum at 0, where logits / temperature would give inf - inf = NaN.
        with np.errstate(over="ignore"):
            z = (logits - logits.max()) / temperature
        p = np.exp(z)
        cdf = np.cumsum(p)
        c = min(int(np.searchsorted(cdf, rng.random() * cdf[-1], side="right")), V - 1)
        out.append(c)
    return out


def _check_start_id(start_id, V) -> int:
    """Check that ``start_id`` is one character id in ``[0, V)`` (an integer, or a 0-d integer array); return it."""
    if isinstance(start_id, np.ndarray) and start_id.ndim == 0:
        start_id = start_id[()]                 # the NumPy scalar inside
    if isinstance(start_id, bool) or not isinstance(start_id, (int, np.integer)):
        fix = "; sampling starts from one character" if np.ndim(start_id) > 0 else ""
        raise TypeError(f"start_id should be one character id, an integer in [0, {V}), but is "
                        f"{type(start_id).__name__} {start_id!r}{fix}")
    if not 0 <= start_id < V:
        raise ValueError(f"start_id should be a character id in [0, {V}), but is {start_id}")
    return int(start_id)


def batches(ids, T, B):
    """Cut a text into contiguous (inputs, targets) chunks for truncated BPTT.

    The ids are split into ``B`` equal streams, one per batch column; chunk
    ``k`` holds steps ``k*T .. k*T + T - 1`` of every stream, so column ``b``
    of one chunk continues column ``b`` of the previous chunk and the hidden
    state ``h_T`` of one chunk is the right ``h0`` for the next. The arguments
    are checked when ``batches`` is called, not when the first chunk is asked for.

    Parameters
    ----------
    ids : numpy.ndarray of int, shape (N,)
        The text as character ids.
    T : int
        Steps per chunk (the truncation length of BPTT).
    B : int
        Number of streams (the batch size).

    Returns
    -------
    iterator of tuple
        One ``(inputs, targets)`` pair per chunk, read once: ``inputs`` (T, B), the ids
        read at each step, and ``targets`` (T, B), the next ids (``targets[t, b]``
        follows ``inputs[t, b]`` in the text).
    """
    T, B = check_positive_int(T, "T"), check_positive_int(B, "B")
    check_index_array(ids, "ids", ("N",))
    L = (len(ids) - 1) // B                     # inputs per stream (the last id of a stream is only a target)
    if L < T:
        raise ValueError(f"ids should hold at least T * B + 1 = {T * B + 1} characters for chunks of T = {T} "
                         f"steps in B = {B} streams, but holds {len(ids)}; lower T or B, or use more text")
    return _chunks(ids, T, B, L)


def _chunks(ids, T, B, L):
    """The chunks of :func:`batches`, ``L`` inputs per stream; no checks."""
    X = ids[:B * L].reshape(B, L)
    Y = ids[1:B * L + 1].reshape(B, L)
    for k in range(L // T):
        cols = slice(k * T, (k + 1) * T)
        yield np.ascontiguousarray(X[:, cols].T), np.ascontiguousarray(Y[:, cols].T)
