"""The real series shipped with matplotlib load as documented, and windowing is exact."""

from __future__ import annotations

import csv
import re

import numpy as np
import pytest
from matplotlib import cbook

from rnncourse.data.series import (STOCK_TICKERS, Series, Standardizer, load_eeg, load_goog, load_stocks,
                                   one_sequence, sliding_windows, time_split)


def test_stocks_default_are_the_seven_full_histories_month_by_month():
    s = load_stocks()
    assert isinstance(s, Series)
    assert s.names == ("IBM", "AAPL", "MSFT", "XRX", "ADBE", "^GSPC", "^IXIC")
    assert s.values.shape == (390, 7) and s.values.dtype == np.float64
    assert str(s.times[0]) == "1990-01" and str(s.times[-1]) == "2022-06"
    assert (np.diff(s.times).astype(int) == 1).all()           # consecutive months, no gap
    assert np.isfinite(s.values).all() and (s.values > 0).all()


def test_stocks_values_match_the_csv_read_independently():
    with open(cbook.get_sample_data("Stocks.csv", asfileobj=False), newline="") as f:
        rows = {r[0]: r for r in csv.reader(f) if r and not r[0].startswith("#")}
    header = rows.pop("Date")
    s = load_stocks(["MSFT", "^GSPC"])
    for i in (0, 100, len(s.times) - 1):
        row = rows[str(s.times[i]) + "-01"]
        expected = [float(row[header.index("MSFT")]), float(row[header.index("^GSPC")])]
        np.testing.assert_array_equal(s.values[i], expected)


def test_stocks_start_when_every_chosen_ticker_is_listed():
    s = load_stocks(["GOOGL", "IBM"])
    assert str(s.times[0]) == "2004-09"
    assert load_stocks("DELL").values.shape == (70, 1)
    assert np.isfinite(load_stocks(STOCK_TICKERS).values).all()


@pytest.mark.parametrize("bad", [["IBM", "TSLA"], [], "ibm"])
def test_unknown_ticker_is_named(bad):
    with pytest.raises(ValueError, match="tickers should be a non-empty selection"):
        load_stocks(bad)


def test_goog_daily_prices():
    g = load_goog()
    assert g.values.shape == (1047, 1) and g.names == ("adj_close",)
    assert str(g.times[0]) == "2004-08-19"
    assert g.values[0, 0] == pytest.approx(100.34)
    assert load_goog("open").values[1, 0] == pytest.approx(101.01)
    with pytest.raises(ValueError, match="field should be one of"):
        load_goog("price")


def test_eeg_is_four_standardised_channels_over_ten_seconds():
    e = load_eeg()
    assert e.values.shape == (800, 4) and len(e.names) == 4
    assert e.times[0] == 0 and e.times[-1] == pytest.approx(10 * 799 / 800)
    np.testing.assert_allclose(e.values.std(axis=0), 1.0, atol=0.01)
    np.testing.assert_allclose(e.values.mean(axis=0), 0.0, atol=0.05)


def test_standardizer_round_trip_and_statistics():
    rng = np.random.default_rng(0)
    v = rng.normal(3.0, 2.0, size=(200, 3))
    scaler = Standardizer.fit(v)
    z = scaler.transform(v)
    np.testing.assert_allclose(z.mean(axis=0), 0, atol=1e-12)
    np.testing.assert_allclose(z.std(axis=0), 1, atol=1e-12)
    np.testing.assert_allclose(scaler.inverse(z), v, atol=1e-12)
    # applies to time-major batches too: the last axis is D
    np.testing.assert_allclose(scaler.transform(v[:, None, :])[:, 0], z)
    with pytest.raises(ValueError, match="constant column"):
        Standardizer.fit(np.ones((5, 2)))


def test_standardizer_fit_tells_constant_columns_by_their_values_not_by_a_rounded_std():
    # 0.1 is not exact in binary: the mean of three 0.1 is not 0.1 and np.std gives 1.4e-17, not 0
    with pytest.raises(ValueError, match=r"^values has a constant column \(index 1\)"):
        Standardizer.fit(np.array([[1.0, 0.1], [2.0, 0.1], [3.0, 0.1]]))
    with pytest.raises(ValueError, match=r"constant column \(index 0\)"):
        Standardizer.fit(np.full((3, 1), 0.1))
    tiny = Standardizer.fit(np.array([1e-200, -1e-200]))        # squares underflow to 0, yet it varies
    assert tiny.std == pytest.approx([1e-200], rel=1e-15) and tiny.mean == pytest.approx([0.0], abs=1e-215)
    np.testing.assert_allclose(tiny.transform(np.array([1e-200, -1e-200])), [1.0, -1.0], rtol=1e-15)
    huge = Standardizer.fit(np.array([[1e200], [-1e200]]))       # squares overflow to infinity
    assert huge.std == pytest.approx([1e200], rel=1e-15)
    np.testing.assert_allclose(huge.transform(np.array([[1e200], [-1e200]])), [[1.0], [-1.0]], rtol=1e-15)
    largest = Standardizer.fit(np.array([1.7e308, 1.6e308]))     # even the sum of the two overflows
    assert largest.mean == pytest.approx([1.65e308], rel=1e-15) and largest.std == pytest.approx([5e306], rel=1e-12)


def test_standardizer_fit_of_ordinary_values_gives_numpys_mean_and_std_bit_for_bit():
    rng = np.random.default_rng(5)
    for dtype in (np.float64, np.float32):             # float32 stays float32, as a float32 model needs it
        for scale in (1e-3, 1.0, 7.0, 1e6):
            v = (rng.normal(3.0, 2.0, size=(50, 4)) * scale).astype(dtype)
            scaler = Standardizer.fit(v)
            assert scaler.mean.dtype == scaler.std.dtype == scaler.transform(v).dtype == dtype
            np.testing.assert_array_equal(scaler.mean, v.mean(axis=0))
            np.testing.assert_array_equal(scaler.std, v.std(axis=0))


def test_time_split_keeps_order():
    a, b = time_split(np.arange(10), 0.8)
    np.testing.assert_array_equal(a, np.arange(8))
    np.testing.assert_array_equal(b, [8, 9])
    with pytest.raises(ValueError, match=r"train_fraction should lie in \(0, 1\)"):
        time_split(np.arange(10), 1.0)
    with pytest.raises(ValueError, match="empty part"):
        time_split(np.arange(3), 0.1)


def test_sliding_windows_by_hand():
    v = np.arange(12.0).reshape(6, 2)                 # row i is (2i, 2i + 1)
    x, y = sliding_windows(v, T=3, horizon=1, stride=2)
    assert x.shape == y.shape == (3, 2, 2)             # starts 0 and 2: (6 - 3 - 1) // 2 + 1 = 2
    np.testing.assert_array_equal(x[:, 1, 0], [4.0, 6.0, 8.0])
    np.testing.assert_array_equal(y[:, 1, 0], [6.0, 8.0, 10.0])
    np.testing.assert_array_equal(y[:, 0, 1], [3.0, 5.0, 7.0])


def test_sliding_windows_targets_are_horizon_ahead():
    v = np.random.default_rng(1).normal(size=(50, 3))
    for horizon in (1, 4):
        x, y = sliding_windows(v, T=7, horizon=horizon)
        assert x.shape == (7, 50 - 7 - horizon + 1, 3)
        for b in (0, x.shape[1] - 1):
            np.testing.assert_array_equal(x[:, b], v[b:b + 7])
            np.testing.assert_array_equal(y[:, b], v[b + horizon:b + horizon + 7])


def test_sliding_windows_errors_are_clear():
    with pytest.raises(ValueError, match=r"too few for one window .* \(needs N >= T \+ horizon = 11\)"):
        sliding_windows(np.zeros(10), T=10)
    with pytest.raises(ValueError, match=r"values should have 2 dimensions"):
        sliding_windows(np.zeros((4, 5, 2)), T=2)
    with pytest.raises(TypeError, match="floating-point"):
        sliding_windows(np.arange(10), T=2)


def test_one_sequence_adds_a_batch_axis():
    v = np.arange(8.0).reshape(4, 2)
    x = one_sequence(v)
    assert x.shape == (4, 1, 2) and np.shares_memory(x, v)
    assert one_sequence(np.arange(5.0)).shape == (5, 1, 1)


def test_standardizer_checks_the_number_of_columns():
    scaler = Standardizer.fit(np.array([[1.0, 2.0, 3.0], [2.0, 4.0, 7.0]]))
    with pytest.raises(ValueError, match=r"values should have shape \(\.\.\., D\) = \(\.\.\., 3\), but has shape "
                                         r"\(2, 1\).*fitted on D = 3 columns"):
        scaler.transform(np.array([[1.0], [2.0]]))
    with pytest.raises(ValueError, match=r"values should have shape .*, but has shape \(2, 2\)"):
        scaler.transform(np.zeros((2, 2)))
    with pytest.raises(ValueError, match=r"z should have shape .*, but has shape \(4, 2\)"):
        scaler.inverse(np.zeros((4, 2)))
    with pytest.raises(TypeError, match="values should be a numpy.ndarray, but is builtins.list"):
        scaler.transform([[0.0, 0.0, 0.0]])
    assert scaler.transform(np.zeros(3)).shape == (3,)                   # one row without a leading axis
    v = np.array([1.0, 3.0, 5.0])                                         # with D = 1, a plain series (N,) is fine
    scaler = Standardizer.fit(v)
    np.testing.assert_allclose(scaler.transform(v), (v - 3.0) / v.std())
    np.testing.assert_allclose(scaler.transform(v[:, None])[:, 0], scaler.transform(v))


def test_standardizer_fit_needs_two_rows():
    # a standard deviation needs two rows; with none, NumPy used to return NaN statistics
    for n in (0, 1):
        with pytest.raises(ValueError, match=rf"^values should have at least 2 rows \(N >= 2\) to measure a "
                                             rf"standard deviation, but has N = {n}$"):
            Standardizer.fit(np.zeros((n, 2)))
    with pytest.raises(ValueError, match=r"^values should have at least 2 rows .* but has N = 1$"):
        Standardizer.fit(np.array([4.0]))


def test_standardizer_built_directly_checks_mean_and_std():
    scaler = Standardizer(np.array([1.0, 2.0]), np.array([0.5, 4.0]))          # valid: the same numbers as before
    np.testing.assert_array_equal(scaler.transform(np.array([[2.0, 6.0]])), [[2.0, 1.0]])
    with pytest.raises(ValueError, match=r"^std should be positive in every column, but std\[1\] is 0\.0; "
                                         r"a constant column cannot be standardised, drop it$"):
        Standardizer(np.zeros(2), np.array([1.0, 0.0]))
    with pytest.raises(ValueError, match=r"^std should be positive in every column, but std\[0\] is -1\.0"):
        Standardizer(np.zeros(1), np.array([-1.0]))
    with pytest.raises(TypeError, match=r"^mean should be a numpy.ndarray, but is builtins.float"):
        Standardizer(0.0, np.ones(1))
    with pytest.raises(TypeError, match=r"^std should be a numpy.ndarray, but is builtins.float"):
        Standardizer(np.zeros(1), 1.0)
    with pytest.raises(ValueError, match=r"^std should have shape \(D,\) = \(2,\), but has shape \(3,\) "
                                         r".*mean has D = 2 columns$"):
        Standardizer(np.zeros(2), np.ones(3))
    with pytest.raises(ValueError, match=r"^mean should have 1 dimensions"):
        Standardizer(np.zeros((1, 2)), np.ones(2))
    with pytest.raises(ValueError, match=r"^std contains NaN or infinity"):
        Standardizer(np.zeros(1), np.array([np.inf]))


def test_load_stocks_wants_ticker_names():
    with pytest.raises(TypeError, match=r"^tickers should be a tuple or list \(or a 1-D array\) of names from IBM, "
                                        r".*, \^IXIC, or one name as a str, but is int 3$"):
        load_stocks(3)


def test_time_split_wants_an_array():
    with pytest.raises(TypeError, match=r"^values should be an array of shape \(N, \.\.\.\), one row per time "
                                        r"step, but is int 5; wrap it with np\.asarray\(\.\.\.\)$"):
        time_split(5)
    with pytest.raises(ValueError, match=r"^values should have shape \(N, \.\.\.\), one row per time step, "
                                         r"but is a 0-d array$"):
        time_split(np.array(5.0))
    a, b = time_split([1, 2, 3, 4, 5], 0.6)                # a list keeps working as before
    assert a == [1, 2, 3] and b == [4, 5]


def test_stocks_rows_hold_the_close_of_the_last_trading_day_and_june_2022_is_partial():
    s = load_stocks("^GSPC")
    by_month = dict(zip(map(str, s.times), s.values[:, 0]))
    assert by_month["2021-12"] == pytest.approx(4766.18, abs=0.01)      # the S&P 500's close on 2021-12-31
    with open(cbook.get_sample_data("Stocks.csv", asfileobj=False), newline="") as f:
        rows = [r for r in csv.reader(f) if r and not r[0].startswith("#")]
    assert rows[-1][0] == "2022-06-28"                                 # the file ends before June does
    np.testing.assert_array_equal(load_stocks(STOCK_TICKERS).values[-1], [float(v) for v in rows[-1][1:]])


@pytest.mark.parametrize("bad", [{"IBM"}, np.array([["IBM"]]), np.array([1, 2]), ("IBM", 3), (t for t in ["IBM"])])
def test_load_stocks_wants_a_str_or_a_list_or_tuple_of_str(bad):
    with pytest.raises(TypeError, match=rf"^tickers should be a tuple or list \(or a 1-D array\) of names from IBM, "
                                        rf".*, \^IXIC, or one name as a str, but is {type(bad).__name__} "):
        load_stocks(bad)


def test_load_stocks_takes_a_numpy_array_of_tickers_like_a_list():
    s = load_stocks(np.array(["IBM", "AAPL"]))
    assert s.names == ("IBM", "AAPL") and all(type(n) is str for n in s.names)
    np.testing.assert_array_equal(s.values, load_stocks(["IBM", "AAPL"]).values)


def test_load_stocks_refuses_a_repeated_ticker():
    with pytest.raises(ValueError, match=r"^tickers should name each column once, but \('IBM', 'MSFT', 'IBM'\) "
                                         r"repeats 'IBM'; drop the repeats$"):
        load_stocks(["IBM", "MSFT", "IBM"])


def test_time_split_refuses_a_dict():
    with pytest.raises(TypeError, match=r"^values should be an array of shape \(N, \.\.\.\), one row per time step, "
                                        r"but is a dict with keys \['train', 'test'\]; split one of its arrays"):
        time_split({"train": np.arange(10.0), "test": np.arange(5.0)})


@pytest.mark.parametrize("values, shape", [(np.arange(10.0)[None], (1, 10)), (np.zeros((1, 10, 2)), (1, 10, 2))])
def test_time_split_of_a_single_row_says_time_runs_along_axis_0(values, shape):
    """A (1, N) row is one time step of N columns, not N steps: say so and name the fixes."""
    message = (rf"^values should have at least 2 rows, one per time step \(time runs along axis 0\), but has shape "
               rf"{re.escape(str(shape))}: a single row; for one series of {shape[1]} steps pass values\[0\] "
               rf"\(or values.T for one with columns\)")
    with pytest.raises(ValueError, match=message):
        time_split(values, 0.8)


def test_time_split_of_a_one_step_series_says_it_has_one_row():
    with pytest.raises(ValueError, match=r"^values should have at least 2 rows, one per time step, but has 1 row"):
        time_split(np.array([3.0]), 0.5)
