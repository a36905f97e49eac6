r"""Can a recurrent network bridge a time lag? Train it on the adding problem and count.

:func:`train_adding` trains one model (a simple RNN, an LSTM or a GRU from
``torch.nn``, with a linear read-out of the last hidden state) on the adding
problem of :mod:`rnncourse.data.adding` with the first marked value exactly
``lag`` steps before the end, then tests it on fresh sequences with the
criterion of Hochreiter and Schmidhuber (1997): a sequence is processed
correctly when the absolute error of the scaled target ``0.5 + (X_1 + X_2)/4``
is below 0.04. Chapter 5 runs it for the simple RNN, chapter 8 for gated cells.

Run a larger sweep from the command line (this is what the chapters scale down)::

    python -m rnncourse.torch.long_range --cell rnn --lags 5 10 20 40 80 --steps 3000 --seeds 0 1 2
"""

from __future__ import annotations

import argparse
import time
from dataclasses import dataclass, field

import numpy as np
import torch
from torch import nn

from rnncourse.data.adding import CORRECT_TOLERANCE, adding_problem, chance_mse
from rnncourse.numpy.init import init_rnn_params
from rnncourse.torch.device import check_device, pick_device
from rnncourse.torch.init import check_dtype
from rnncourse.torch.training import MAX_SEED, TrainConfig, train
from rnncourse.validation import (check_array, check_choice, check_match, check_not_empty, check_positive_float,
                                  check_positive_int)

__all__ = ["CELLS", "AddingModel", "AddingResult", "evaluate_adding", "train_adding", "sweep_lags", "format_table"]

#: The recurrent layers :func:`train_adding` accepts, by name.
CELLS = {"rnn": nn.RNN, "lstm": nn.LSTM, "gru": nn.GRU}

#: Seed of the test sequences, so that every model of every chapter meets the same test set.
TEST_SEED = 1997


class AddingModel(nn.Module):
    """A one-layer recurrent network that reads out only its last hidden state: ``y = W_hy h_T + b_y``.

    Parameters
    ----------
    cell : str
        ``"rnn"`` (the Elman RNN, :class:`torch.nn.RNN`), ``"lstm"`` or ``"gru"``.
    hidden_size : int
        H.
    input_size : int
        D (2 for the adding problem).
    nonlinearity : str
        ``"tanh"`` (default) or ``"relu"``; only for ``cell="rnn"``.
    init : str
        How ``W_hh`` starts, only for ``cell="rnn"``: ``"uniform"`` (default,
        PyTorch's), ``"orthogonal"`` or ``"identity"`` (with ``b_h = 0``), drawn by
        :func:`rnncourse.numpy.init.init_rnn_params`.
    spectral_radius : float, optional
        Rescale ``W_hh`` to this spectral radius (``cell="rnn"`` only).
    seed : int
        Seed of the initial weights.
    device : torch.device or str, optional
        Where the parameters live (default: the CPU); drawn on the CPU and then moved, so a
        seed gives the same weights on every device.
    dtype : torch.dtype, optional
        Parameter dtype (default: ``torch.get_default_dtype()``).
    """

    def __init__(self, cell="rnn", hidden_size=16, input_size=2, *, nonlinearity="tanh", init="uniform",
                 spectral_radius=None, seed=0, device=None, dtype=None):
        super().__init__()
        check_choice(cell, "cell", tuple(CELLS))
        check_choice(nonlinearity, "nonlinearity", ("tanh", "relu"))
        if cell != "rnn" and (nonlinearity != "tanh" or init != "uniform" or spectral_radius is not None):
            raise ValueError(f"nonlinearity, init and spectral_radius apply to cell='rnn' only, but cell={cell!r}; "
                             f"leave them at their defaults for gated cells")
        H = check_positive_int(hidden_size, "hidden_size")
        D = check_positive_int(input_size, "input_size")
        check_positive_int(seed, "seed", minimum=0, maximum=MAX_SEED)
        kw = {"nonlinearity": nonlinearity} if cell == "rnn" else {}
        self.cell = cell
        # The weights are drawn on the CPU (built there, moved below), so only the CPU generator is seeded and
        # forked. torch.manual_seed would reseed every GPU's generator too, and forking those (fork_rng's default)
        # would initialise CUDA on a GPU machine even for a model that stays on the CPU.
        with torch.random.fork_rng(devices=[]):
            torch.default_generator.manual_seed(seed)
            self.rnn = CELLS[cell](D, H, **kw)
            self.out = nn.Linear(H, 1)
        if cell == "rnn" and (init != "uniform" or spectral_radius is not None):
            self._init_recurrent(init, spectral_radius, seed)
        self.to(device=check_device(device), dtype=check_dtype(dtype))

    def _init_recurrent(self, init, spectral_radius, seed):
        """Copy W_hh (and b_h) from init_rnn_params; b_h goes to bias_ih, bias_hh becomes 0."""
        p = init_rnn_params(self.rnn.input_size, self.rnn.hidden_size, rng=np.random.default_rng(seed),
                            init=init, spectral_radius=spectral_radius)
        dtype = self.rnn.weight_hh_l0.dtype
        with torch.no_grad():
            self.rnn.weight_hh_l0.copy_(torch.as_tensor(p["W_hh"], dtype=dtype))
            if init != "uniform":
                self.rnn.bias_ih_l0.zero_()
                self.rnn.bias_hh_l0.zero_()

    def forward(self, x):
        """Predict from the last hidden state.

        Parameters
        ----------
        x : torch.Tensor, shape (T, B, D)
            Input sequences, time-major, on the model's device and dtype.

        Returns
        -------
        torch.Tensor, shape (B, 1)
            One prediction per sequence, ``W_hy h_T + b_y``.
        """
        check_array(x, "x", ("T", "B", "D"), (None, None, self.rnn.input_size), backend="torch",
                    hint="x is time-major, shape (time steps, batch, features)")
        check_not_empty(x, "x")
        check_match("x", x, "the model", self.out.weight)
        hs, _ = self.rnn(x)
        return self.out(hs[-1])


@dataclass(frozen=True)
class AddingResult:
    """What :func:`train_adding` measured.

    Attributes
    ----------
    cell : str
        ``"rnn"``, ``"lstm"`` or ``"gru"``.
    lag : int
        Steps between the first marked value and the output.
    seed : int
        Seed of the initial weights and of the training batches.
    steps : int
        Optimizer steps taken.
    n_test : int
        Number of test sequences.
    n_correct : int
        Test sequences with absolute error below ``tolerance``.
    accuracy : float
        ``n_correct / n_test``.
    solved : bool
        ``accuracy >= success_fraction``.
    test_mse : float
        Mean squared error on the test sequences (scaled target); a network
        that learned nothing scores about 1/24 (:func:`rnncourse.data.adding.chance_mse`).
    losses : tuple
        Training loss of every step.
    grad_norms : tuple
        Gradient norm of every step, before clipping.
    seconds : float
        Wall-clock training time (varies between runs; never print it in a checked cell).
    model : AddingModel
        The trained model (on the CPU).
    """

    cell: str
    lag: int
    seed: int
    steps: int
    n_test: int
    n_correct: int
    accuracy: float
    solved: bool
    test_mse: float
    losses: tuple = field(repr=False)
    grad_norms: tuple = field(repr=False)
    seconds: float = field(repr=False, compare=False)
    model: nn.Module = field(repr=False, compare=False)


@torch.no_grad()
def evaluate_adding(model, x, y, tolerance=CORRECT_TOLERANCE):
    """Count the sequences whose prediction is within ``tolerance`` of the target.

    Parameters
    ----------
    model : torch.nn.Module
        Maps ``x`` (T, B, D) to predictions (B, 1).
    x : numpy.ndarray, shape (T, B, 2)
        Test inputs.
    y : numpy.ndarray, shape (B, 1)
        Test targets.
    tolerance : float
        A prediction is correct when its absolute error is below it, strictly, as in the paper; > 0
        (default the paper's 0.04).

    Returns
    -------
    n_correct : int
        Sequences processed correctly.
    mse : float
        Mean squared error.

    Notes
    -----
    The model runs in evaluation mode (``model.eval()``: no dropout) and is then put back in the mode
    it was in, training or evaluation.
    """
    tolerance = check_positive_float(tolerance, "tolerance")
    check_array(x, "x", ("T", "B", "D"), hint="x is time-major, shape (time steps, batch, features)")
    check_array(y, "y", ("B", "1"), (x.shape[1], 1), hint="one target per sequence; reshape a (B,) y with y[:, None]")
    p = next(model.parameters())
    was_training = model.training
    model.eval()
    try:
        Y = model(torch.as_tensor(x, dtype=p.dtype, device=p.device)).cpu().double().numpy()
    finally:
        model.train(was_training)
    err = np.abs(Y - y)
    return int((err < tolerance).sum()), float(np.mean(err ** 2))


def train_adding(cell="rnn", lag=10, *, steps=1000, seed=0, device=None, hidden_size=16, batch_size=256, lr=1e-2,
                 optimizer="adam", clip=None, nonlinearity="tanh", init="uniform", spectral_radius=None, T=None,
                 n_test=2560, tolerance=CORRECT_TOLERANCE, success_fraction=0.99, num_threads=1, progress=False):
    """Train a recurrent network on the adding problem at one time lag and test it.

    Each step draws a fresh batch (``adding_problem(batch_size, T, lag=lag)``, the
    scaled target) and takes one optimizer step on the mean squared error of the
    last output, through :func:`rnncourse.torch.training.train` (which stops with a
    :class:`FloatingPointError` if the loss or the gradient becomes NaN/inf; its advice
    names the arguments ``lr`` and ``clip`` of this function).
    Then ``n_test`` fresh sequences (the same for every call with the same
    ``lag``, ``T`` and ``n_test``) are scored with the criterion of
    Hochreiter and Schmidhuber (1997): correct when ``|prediction - y| < 0.04``.

    Parameters
    ----------
    cell : str
        ``"rnn"`` (default), ``"lstm"`` or ``"gru"``.
    lag : int
        Steps from the first marked value to the output (default 10).
    steps : int
        Optimizer steps (default 1000).
    seed : int
        Seeds the initial weights and the training batches (default 0). PyTorch's global
        generators are left as they were found, like the thread setting, with one exception: for a
        model on the CPU, CUDA is not started, and if it has not started yet, its generators will
        start from ``seed`` when it does (``torch.manual_seed`` records the seed for them).
    device : str or torch.device, optional
        ``None`` (default) picks CUDA when present (:func:`rnncourse.torch.device.pick_device`).
    hidden_size : int
        H (default 16).
    batch_size : int
        Sequences per step (default 256).
    lr : float
        Learning rate (default 1e-2).
    optimizer : str
        ``"adam"`` (default), ``"sgd"`` or ``"adagrad"``.
    clip : float, optional
        Clip the gradient to this global norm (default ``None``: no clipping).
    nonlinearity, init, spectral_radius
        For ``cell="rnn"``; see :class:`AddingModel`.
    T : int, optional
        Sequence length; default ``lag + 1`` (the first marked value is the first input).
    n_test : int
        Test sequences (default 2560, as in the paper).
    tolerance : float
        Absolute error below which a test sequence counts as correct (default 0.04).
    success_fraction : float
        Fraction of correct test sequences that counts as solving the lag (default 0.99).
    num_threads : int or None
        CPU threads PyTorch may use while this function runs (default 1), restored
        afterwards. Networks this small train fastest on one thread, and one thread
        does not slow down by orders of magnitude when other programs share the CPU,
        as several threads do. ``None`` keeps PyTorch's setting.
    progress : bool
        Show a progress bar (default ``False``).

    Returns
    -------
    AddingResult
        Accuracy, success, the training history and the trained model.

    Raises
    ------
    FloatingPointError
        If training diverges (NaN or infinite loss or gradient).

    Examples
    --------
    >>> result = train_adding("rnn", lag=5, steps=300, device="cpu")   # doctest: +SKIP
    >>> result.solved                                                   # doctest: +SKIP
    True
    """
    lag = check_positive_int(lag, "lag")
    steps = check_positive_int(steps, "steps")
    T = lag + 1 if T is None else check_positive_int(T, "T")
    n_test = check_positive_int(n_test, "n_test")
    check_positive_int(batch_size, "batch_size")
    tolerance = check_positive_float(tolerance, "tolerance")          # checked here, not after the training
    success_fraction = check_positive_float(success_fraction, "success_fraction")
    if success_fraction > 1:
        raise ValueError(f"success_fraction should be in (0, 1], but is {success_fraction}")
    model = AddingModel(cell, hidden_size, nonlinearity=nonlinearity, init=init,
                        spectral_radius=spectral_radius, seed=seed, device=pick_device(device))
    config = TrainConfig(steps=steps, lr=lr, optimizer=optimizer, clip=clip, seed=seed)
    threads = torch.get_num_threads()
    if num_threads is not None:
        torch.set_num_threads(check_positive_int(num_threads, "num_threads"))
    try:
        # train() seeds the global generators (torch.manual_seed): give them back as they were. The CPU's is
        # always forked; the GPUs' only once CUDA is initialised (a model on a GPU has initialised it), as
        # forking them would otherwise initialise CUDA for a model on the CPU. (Before CUDA is initialised,
        # torch.manual_seed only records the seed for the GPUs, which PyTorch applies when CUDA starts.)
        gpus = range(torch.cuda.device_count()) if torch.cuda.is_initialized() else []
        with torch.random.fork_rng(devices=gpus):
            start = time.perf_counter()
            history = train(model, lambda rng: adding_problem(batch_size, T, rng=rng, lag=lag),
                            lambda Y, y: torch.mean((Y - y) ** 2), config, progress=progress)
            seconds = time.perf_counter() - start
        x_test, y_test = adding_problem(n_test, T, rng=np.random.default_rng(TEST_SEED), lag=lag)
        n_correct, mse = evaluate_adding(model, x_test, y_test, tolerance)
    finally:
        torch.set_num_threads(threads)
    accuracy = n_correct / n_test
    return AddingResult(cell, lag, seed, len(history.losses), n_test, n_correct, accuracy,
                        accuracy >= success_fraction, mse, tuple(history.losses), tuple(history.grad_norms),
                        seconds, model.cpu())


def _integers(values, name, example, *, minimum, maximum=None):
    """``values`` as a list, after checking that it is a sequence of integers from ``minimum`` to ``maximum``."""
    if isinstance(values, (str, bytes)) or not hasattr(values, "__iter__"):
        fix = f"; for one {name[:-1]} pass [{values}]" if isinstance(values, (int, np.integer)) else ""
        raise TypeError(f"{name} should be a list of integers, e.g. {example}, but is "
                        f"{type(values).__name__} {values!r}{fix}")
    values = list(values)
    for i, value in enumerate(values):
        check_positive_int(value, f"{name}[{i}]", minimum=minimum, maximum=maximum)
    return values


def sweep_lags(lags, cell="rnn", seeds=(0,), **kwargs):
    """Run :func:`train_adding` for every lag and seed.

    Parameters
    ----------
    lags : list or tuple
        The time lags (integers >= 1); for one lag, ``[lag]``.
    cell : str
        ``"rnn"`` (default), ``"lstm"`` or ``"gru"``.
    seeds : list or tuple
        One run per seed, integers >= 0 (default ``(0,)``).
    **kwargs
        Passed on to :func:`train_adding` (``steps``, ``hidden_size``, ``lr`` ...).

    Returns
    -------
    list
        The :class:`AddingResult` of every run, lags outer, seeds inner.
    """
    lags = _integers(lags, "lags", "[5, 10, 20]", minimum=1)      # every lag and seed checked before the first run
    seeds = _integers(seeds, "seeds", "[0, 1, 2]", minimum=0, maximum=MAX_SEED)
    return [train_adding(cell, lag, seed=seed, **kwargs) for lag in lags for seed in seeds]


def format_table(results):
    """A plain-text table of :class:`AddingResult` rows.

    Columns: cell, lag, seed, test sequences processed correctly, their
    fraction, the test MSE divided by that of the best constant prediction
    (1 = learned nothing, 0 = perfect) and whether the lag counts as solved.

    Parameters
    ----------
    results : list
        :class:`AddingResult` objects, e.g. from :func:`sweep_lags`; for one result, ``[result]``.

    Returns
    -------
    str
        One line per result.
    """
    if isinstance(results, AddingResult):
        raise TypeError("results should be a list of AddingResult, but is a single AddingResult; "
                        "wrap it in a list: format_table([result])")
    if isinstance(results, (str, bytes)) or not hasattr(results, "__iter__"):
        raise TypeError(f"results should be a list of AddingResult, but is {type(results).__name__}")
    results = list(results)
    for i, r in enumerate(results):
        if not isinstance(r, AddingResult):
            raise TypeError(f"results[{i}] should be an AddingResult, but is {type(r).__name__}")
    lines = [f"{'cell':>5} {'lag':>4} {'seed':>4} {'correct':>11} {'fraction':>8} {'MSE/chance':>10}  solved"]
    for r in results:
        lines.append(f"{r.cell:>5} {r.lag:>4} {r.seed:>4} {f'{r.n_correct}/{r.n_test}':>11} {r.accuracy:>8.4f} "
                     f"{r.test_mse / chance_mse():>10.3f}  {r.solved}")
    return "\n".join(lines)


def main(argv=None):
    """Command line: train on several lags and print the table (see the module docstring).

    Parameters
    ----------
    argv : list of str, optional
        The options, e.g. ``["--cell", "lstm", "--lags", "5", "10"]``; default: ``sys.argv[1:]``.
    """
    parser = argparse.ArgumentParser(description="Adding-problem sweep over time lags (chapters 5 and 8).")
    parser.add_argument("--cell", default="rnn", choices=tuple(CELLS))
    parser.add_argument("--lags", type=int, nargs="+", default=[5, 10, 20, 40, 80])
    parser.add_argument("--steps", type=int, default=3000)
    parser.add_argument("--batch-size", type=int, default=256)
    parser.add_argument("--seeds", type=int, nargs="+", default=[0])
    parser.add_argument("--hidden-size", type=int, default=16)
    parser.add_argument("--lr", type=float, default=1e-2)
    parser.add_argument("--clip", type=float, default=None)
    parser.add_argument("--device", default=None)
    args = parser.parse_args(argv)
    results = sweep_lags(args.lags, args.cell, args.seeds, steps=args.steps, batch_size=args.batch_size,
                         hidden_size=args.hidden_size, lr=args.lr, clip=args.clip, device=args.device, progress=True)
    print(format_table(results))


if __name__ == "__main__":
    main()
