"""Real time series that ship with matplotlib, and the windowing that turns them into RNN batches.

The machines that build and test the book have no internet, so the series come
from matplotlib's own sample data (``matplotlib.cbook.get_sample_data``):

- :func:`load_stocks` -- monthly closing prices of ten tickers, 1990 to 2022
  (``Stocks.csv``, from Yahoo Finance);
- :func:`load_goog` -- about 1,000 daily prices of Google, 2004 to 2008 (``goog.npz``);
- :func:`load_eeg` -- 800 samples of four EEG channels over 10 seconds (``eeg.dat``,
  as read by matplotlib's ``mri_with_eeg`` demo: 3,200 float64 numbers).

Each loader returns a :class:`Series`: ``values`` of shape (N, D), one row per
observation. :class:`Standardizer` rescales the values, :func:`time_split` cuts
a series into an earlier and a later part, and :func:`sliding_windows` turns a
series into time-major input/target batches of shape (T, B, D) for
one-step-ahead prediction.
"""

from __future__ import annotations

import csv
from collections.abc import Mapping
from dataclasses import dataclass
from typing import NamedTuple

import numpy as np

from rnncourse.validation import check_array, check_choice, check_positive_float, check_positive_int

__all__ = ["STOCK_TICKERS", "GOOG_FIELDS", "Series", "load_stocks", "load_goog", "load_eeg", "Standardizer",
           "time_split", "sliding_windows", "one_sequence"]

#: The columns of ``Stocks.csv``, eight companies and two indices (S&P 500, NASDAQ Composite).
STOCK_TICKERS = ("IBM", "AAPL", "MSFT", "XRX", "AMZN", "DELL", "GOOGL", "ADBE", "^GSPC", "^IXIC")

#: The price columns of ``goog.npz``.
GOOG_FIELDS = ("open", "high", "low", "close", "adj_close")


class Series(NamedTuple):
    """A (multivariate) time series: ``values[i]`` was observed at ``times[i]``.

    Attributes
    ----------
    times : numpy.ndarray, shape (N,)
        When each row was observed: dates (``datetime64``) or seconds (float64).
    names : tuple of str
        One name per column of ``values``.
    values : numpy.ndarray, shape (N, D)
        The observations, float64, with ``D = len(names)``.
    """

    times: np.ndarray
    names: tuple
    values: np.ndarray


def _sample_file(name: str) -> str:
    """Path of one of matplotlib's sample-data files (imported here, not at package import)."""
    from matplotlib import cbook
    return cbook.get_sample_data(name, asfileobj=False)


def _check_names(names, allowed, what: str) -> tuple:
    """Check a selection of names: one str, or a list, tuple or 1-D str array of distinct names from ``allowed``."""
    if isinstance(names, str):
        names = (names,)
    if isinstance(names, np.ndarray) and names.ndim == 1 and names.dtype.kind == "U":
        names = names.tolist()                          # np.array(["IBM", "AAPL"]): plain str, as in the result
    if not isinstance(names, (list, tuple)) or not all(isinstance(n, str) for n in names):
        raise TypeError(f"{what} should be a tuple or list (or a 1-D array) of names from {', '.join(allowed)}, "
                        f"or one name as a str, but is {type(names).__name__} {names!r:.60}")
    names = tuple(names)
    unknown = [n for n in names if n not in allowed]
    if not names or unknown:
        raise ValueError(f"{what} should be a non-empty selection from {', '.join(allowed)}, "
                         f"but got {names!r}" + (f" ({', '.join(map(repr, unknown))} unknown)" if unknown else ""))
    repeated = sorted({n for n in names if names.count(n) > 1})
    if repeated:
        raise ValueError(f"{what} should name each column once, but {names!r} repeats "
                         f"{', '.join(map(repr, repeated))}; drop the repeats")
    return names


def load_stocks(tickers=None) -> Series:
    """Monthly closing prices from matplotlib's ``Stocks.csv``, one row per month, 1990-01 to 2022-06.

    The file comes from Yahoo Finance's monthly data: the row dated the first of a
    month holds the close of that month's last trading day (for the companies,
    adjusted for later splits and dividends). The last month, June 2022, is partial:
    the file ends on 2022-06-28, and the June values are the close of that day.
    The file also lists dividend dates with no prices; only the monthly rows are
    kept. A company has no price before it was listed (AMZN from 1997, GOOGL
    from 2004, DELL from 2016), so the rows before the latest first listing of
    the chosen tickers are dropped: the result has no missing value and its
    months are consecutive.

    Parameters
    ----------
    tickers : tuple, optional
        Columns to keep (a tuple, list or 1-D str array of distinct names, or one name as a str), from
        :data:`STOCK_TICKERS`; ``None`` keeps the seven
        with a full history since 1990 (IBM, AAPL, MSFT, XRX, ADBE, ^GSPC, ^IXIC).

    Returns
    -------
    Series
        ``times`` (N,) ``datetime64[M]``, the month of each row; ``names`` the tickers;
        ``values`` (N, D) prices in US dollars (index points for ^GSPC and ^IXIC).

    Raises
    ------
    TypeError
        If ``tickers`` is not a str, or a list, tuple or 1-D array of str.
    ValueError
        If a ticker is unknown or repeated, or none is given.

    Examples
    --------
    >>> stocks = load_stocks(["^GSPC"])
    >>> stocks.values.shape
    (390, 1)
    """
    if tickers is None:
        tickers = ("IBM", "AAPL", "MSFT", "XRX", "ADBE", "^GSPC", "^IXIC")
    tickers = _check_names(tickers, STOCK_TICKERS, "tickers")
    with open(_sample_file("Stocks.csv"), newline="", encoding="utf-8") as f:
        rows = [r for r in csv.reader(f) if r and not r[0].startswith("#")]
    header, rows = rows[0], [r for r in rows[1:] if r[0].endswith("-01")]
    columns = [header.index(t) for t in tickers]
    values = np.array([[float(r[c]) if r[c] else np.nan for c in columns] for r in rows])
    times = np.array([r[0][:7] for r in rows], dtype="datetime64[M]")
    first = int(np.argmax(~np.isnan(values).any(axis=1)))
    return Series(times[first:], tickers, values[first:])


def load_goog(field: str = "adj_close") -> Series:
    """Daily prices of Google from matplotlib's ``goog.npz`` (2004-08-19 to 2008-10-14, trading days).

    Parameters
    ----------
    field : str
        One of :data:`GOOG_FIELDS` (default ``"adj_close"``).

    Returns
    -------
    Series
        ``times`` (N,) ``datetime64[D]``, ``names`` ``(field,)``, ``values`` (N, 1).

    Examples
    --------
    >>> load_goog().values.shape
    (1047, 1)
    """
    check_choice(field, "field", GOOG_FIELDS)
    with np.load(_sample_file("goog.npz")) as f:
        data = f["price_data"]
    return Series(data["date"], (field,), data[field].astype(np.float64)[:, None])


def load_eeg() -> Series:
    """Four EEG channels, 800 samples over 10 seconds, from matplotlib's ``eeg.dat``.

    The file holds 3,200 float64 numbers, 800 rows of 4 channels (the layout used
    by matplotlib's ``mri_with_eeg`` demo); each channel is already roughly
    standardised (mean 0, standard deviation 1).

    Returns
    -------
    Series
        ``times`` (800,) seconds, ``names`` ``("channel 1", ..., "channel 4")``,
        ``values`` (800, 4).

    Examples
    --------
    >>> load_eeg().values.shape
    (800, 4)
    """
    values = np.fromfile(_sample_file("eeg.dat"), dtype=np.float64).reshape(800, 4)
    times = 10.0 * np.arange(800) / 800
    return Series(times, tuple(f"channel {i}" for i in range(1, 5)), values)


def _check_values(values, name="values"):
    """Accept (N,) or (N, D) float values; return them as (N, D)."""
    if getattr(values, "ndim", None) == 1:
        check_array(values, name, ("N",))
        return values[:, None]
    check_array(values, name, ("N", "D"), hint="one row per time step, one column per variable")
    return values


@dataclass(frozen=True)
class Standardizer:
    """Per-column standardisation ``z = (v - mean) / std``, and back.

    Fit it on the training part only (:meth:`fit`), then apply the same numbers to
    the test part, so that no statistic of the future leaks into training.

    Parameters
    ----------
    mean : numpy.ndarray, shape (D,)
        Column means.
    std : numpy.ndarray, shape (D,)
        Column standard deviations (positive).

    Examples
    --------
    >>> scaler = Standardizer.fit(np.array([[1.0], [3.0]]))
    >>> scaler.transform(np.array([[3.0]]))
    array([[1.]])
    """

    mean: np.ndarray
    std: np.ndarray

    def __post_init__(self):
        """Check the statistics, also when they are given directly rather than by :meth:`fit`."""
        check_array(self.mean, "mean", ("D",))
        D = self.mean.shape[0]
        check_array(self.std, "std", ("D",), (D,), hint=f"mean has D = {D} columns")
        if not (self.std > 0).all():
            d = int(np.argmax(~(self.std > 0)))
            raise ValueError(f"std should be positive in every column, but std[{d}] is {self.std[d]}; "
                             f"a constant column cannot be standardised, drop it")

    @classmethod
    def fit(cls, values) -> "Standardizer":
        """Measure the mean and standard deviation of each column of ``values``.

        Parameters
        ----------
        values : numpy.ndarray, shape (N, D) or (N,)
            The training rows, N >= 2; no column may be constant. A series (N,) is one column.

        Returns
        -------
        Standardizer
            With ``mean`` and ``std`` of shape (D,).
        """
        v = _check_values(values)
        if v.shape[0] < 2:
            raise ValueError(f"values should have at least 2 rows (N >= 2) to measure a standard deviation, "
                             f"but has N = {v.shape[0]}")
        constant = v.max(axis=0) == v.min(axis=0)   # by the values: the rounded std of 0.1, 0.1, 0.1 is not 0
        if constant.any():
            raise ValueError(f"values has a constant column (index {int(np.argmax(constant))}); "
                             f"it cannot be standardised, drop it")
        # Each column divided first by a power of 2 near its largest magnitude (to below 2 in size), so that
        # neither the sum nor the squares overflow or underflow (1e200, 1e-200); the division and the product back
        # are exact, so ordinary values give NumPy's mean and std bit for bit.
        scale = np.ldexp(np.ones_like(v[0]), np.frexp(np.abs(v).max(axis=0))[1] - 1)    # in v's dtype: exact there
        u = v / scale
        return cls(u.mean(axis=0) * scale, u.std(axis=0) * scale)

    def _check_columns(self, values, name):
        """Check that the last axis of ``values`` holds the D fitted columns (with D = 1, a series (N,) too)."""
        D = self.mean.shape[0]
        if D == 1 and getattr(values, "ndim", None) == 1:
            return check_array(values, name, ("N",))
        n_leading = np.ndim(values) - 1                 # any leading axes: (N, D), (T, B, D), ...
        return check_array(values, name, ("...",) * n_leading + ("D",), (None,) * n_leading + (D,),
                           hint=f"the Standardizer was fitted on D = {D} columns")

    def transform(self, values):
        """Return ``(values - mean) / std``.

        Parameters
        ----------
        values : numpy.ndarray, shape (..., D)
            The D fitted columns as last axis, with any leading axes: (N, D), (T, B, D);
            with D = 1 a series (N,) too.

        Returns
        -------
        numpy.ndarray
            The standardised values, the shape of ``values``.
        """
        return (self._check_columns(values, "values") - self.mean) / self.std

    def inverse(self, z):
        """Undo :meth:`transform`, ``z * std + mean``.

        Parameters
        ----------
        z : numpy.ndarray, shape (..., D)
            Standardised values, D columns as last axis (with D = 1 a series (N,) too).

        Returns
        -------
        numpy.ndarray
            The values in their original units, the shape of ``z``.
        """
        return self._check_columns(z, "z") * self.std + self.mean


def time_split(values, train_fraction: float = 0.8):
    """Cut a series in time: the first ``train_fraction`` of the rows, then the rest.

    Never shuffle a series before splitting: the test part must lie in the
    future of the training part, as it will in use.

    Parameters
    ----------
    values : numpy.ndarray, shape (N, ...)
        The series (or its times), time along axis 0, at least 2 rows: a row ``(1, N)`` is one time step.
    train_fraction : float
        Fraction of rows in the first part, in (0, 1).

    Returns
    -------
    tuple
        ``(values[:n], values[n:])`` with ``n = round(train_fraction * N)``.
    """
    if isinstance(values, Mapping):
        raise TypeError(f"values should be an array of shape (N, ...), one row per time step, but is a "
                        f"{type(values).__name__} with keys {list(values)!r:.60}; split one of its arrays, "
                        f"or each of them with the same train_fraction")
    if isinstance(values, (str, bytes)) or not hasattr(values, "__len__") or not hasattr(values, "__getitem__"):
        raise TypeError(f"values should be an array of shape (N, ...), one row per time step, but is "
                        f"{type(values).__name__} {values!r:.60}; wrap it with np.asarray(...)")
    if getattr(values, "ndim", 1) == 0:                  # a NumPy scalar or 0-d array
        raise ValueError("values should have shape (N, ...), one row per time step, but is a 0-d array")
    train_fraction = check_positive_float(train_fraction, "train_fraction")
    if not train_fraction < 1:
        raise ValueError(f"train_fraction should lie in (0, 1), but is {train_fraction}")
    if len(values) < 2:
        try:
            shape = tuple(np.shape(values))
        except ValueError:                                   # a ragged list
            shape = (len(values),)
        if len(values) == 1 and len(shape) >= 2:
            raise ValueError(f"values should have at least 2 rows, one per time step (time runs along axis 0), but "
                             f"has shape {shape}: a single row; for one series of {shape[1]} steps pass values[0] "
                             f"(or values.T for one with columns)")
        raise ValueError(f"values should have at least 2 rows, one per time step, but has {len(values)} "
                         f"row{'' if len(values) == 1 else 's'}: nothing to split")
    n = int(round(train_fraction * len(values)))
    if not 0 < n < len(values):
        raise ValueError(f"train_fraction={train_fraction} leaves an empty part of a series of {len(values)} rows")
    return values[:n], values[n:]


def sliding_windows(values, T: int, *, horizon: int = 1, stride: int = 1):
    """Cut a series into windows of ``T`` steps, time-major, with targets ``horizon`` steps ahead.

    Window ``b`` starts at row ``s = b * stride``:
    ``x[:, b] = values[s : s + T]`` and ``y[:, b] = values[s + horizon : s + horizon + T]``,
    so ``y[t]`` is the value ``horizon`` steps after ``x[t]``: a target at every step
    (many-to-many, one-step-ahead prediction when ``horizon = 1``).

    Parameters
    ----------
    values : numpy.ndarray, shape (N, D) or (N,)
        The series; a 1-D series is treated as D = 1.
    T : int
        Window length (time steps per sequence).
    horizon : int
        How far ahead the target lies (default 1).
    stride : int
        Rows between the starts of consecutive windows (default 1).

    Returns
    -------
    x : numpy.ndarray, shape (T, B, D)
        Inputs, time-major; ``B = (N - T - horizon) // stride + 1``.
    y : numpy.ndarray, shape (T, B, D)
        Targets.

    Examples
    --------
    >>> x, y = sliding_windows(np.arange(6.0), T=3)
    >>> x[:, :, 0].T
    array([[0., 1., 2.],
           [1., 2., 3.],
           [2., 3., 4.]])
    >>> y[:, 0, 0]
    array([1., 2., 3.])
    """
    v = _check_values(values)
    T = check_positive_int(T, "T")
    horizon = check_positive_int(horizon, "horizon")
    stride = check_positive_int(stride, "stride")
    N = v.shape[0]
    if N < T + horizon:
        raise ValueError(f"values has N = {N} rows, too few for one window of T = {T} steps with targets "
                         f"{horizon} step(s) ahead (needs N >= T + horizon = {T + horizon}); use a smaller T")
    starts = np.arange(0, N - T - horizon + 1, stride)
    steps = starts[None, :] + np.arange(T)[:, None]          # (T, B): row index of x[t, b]
    return v[steps], v[steps + horizon]


def one_sequence(values):
    """A whole series as a batch of one sequence: (N, D) or (N,) becomes (N, 1, D), time-major.

    Parameters
    ----------
    values : numpy.ndarray, shape (N, D) or (N,)

    Returns
    -------
    numpy.ndarray, shape (N, 1, D)
        A view of ``values`` with a batch axis of size 1.
    """
    return _check_values(values)[:, None, :]
