"""bootstrap_ci: degenerate samples, agreement with the t interval, coverage."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

from ardlib.stats import CIResult, bootstrap_ci


@pytest.mark.parametrize("statistic", ["mean", "median"])
@pytest.mark.parametrize("method", ["BCa", "percentile"])
def test_constant_sample_collapses_without_warnings(statistic, method):
    # warnings are errors in this test suite, so any 0/0 warning would fail here
    res = bootstrap_ci([2.5] * 7, statistic=statistic, method=method, rng=0)
    assert (res.statistic, res.low, res.high, res.standard_error) == (2.5, 2.5, 2.5, 0.0)
    assert (res.n, res.method, res.name, res.confidence) == (7, method, statistic, 0.95)


@pytest.mark.parametrize("values", [[0, 0, 0, 0, 0, 0, 1.0], [1, 1, 1, 1, 2.0]])
def test_undefined_bca_falls_back_to_percentile(values):
    # the median's jackknife values are all equal: BCa acceleration is 0/0
    res = bootstrap_ci(values, statistic="median", rng=1)
    assert res.method == "percentile"
    assert np.isfinite([res.low, res.high]).all()
    assert min(values) <= res.low <= res.statistic <= res.high <= max(values)


def test_result_fields_and_determinism():
    x = np.random.default_rng(3).exponential(size=25)
    res = bootstrap_ci(x, statistic="median", confidence=0.9, n_resamples=2000, rng=11)
    assert isinstance(res, CIResult)
    assert res.statistic == np.median(x) and res.n == 25 and res.confidence == 0.9
    assert res.low < res.statistic < res.high and res.standard_error > 0
    assert bootstrap_ci(x, statistic="median", confidence=0.9, n_resamples=2000, rng=11) == res


def test_mean_interval_agrees_with_the_t_interval_for_a_large_normal_sample():
    # independent reference: for n = 400 normal data the bootstrap and t intervals agree
    x = np.random.default_rng(5).normal(10.0, 2.0, size=400)
    low, high = stats.t.interval(0.95, df=x.size - 1, loc=x.mean(), scale=stats.sem(x))
    for method in ("BCa", "percentile"):
        res = bootstrap_ci(x, method=method, rng=6)
        width = high - low
        assert abs(res.low - low) < 0.06 * width and abs(res.high - high) < 0.06 * width


@pytest.mark.parametrize("method", ["BCa", "percentile"])
def test_coverage_of_the_mean_of_a_normal_sample(method):
    # 200 seeded samples of n = 30 from N(1, 1); nominal 95 %, Monte-Carlo sd 1.5 %
    rng = np.random.default_rng(2024)
    hits = 0
    for _ in range(200):
        res = bootstrap_ci(rng.normal(1.0, 1.0, 30), n_resamples=1000, method=method, rng=rng)
        hits += res.low <= 1.0 <= res.high
    assert 0.90 <= hits / 200 <= 0.99


@pytest.mark.slow  # 300 bootstrap intervals; a Monte-Carlo property
def test_coverage_of_the_median_of_a_skewed_sample():
    # exponential(1), n = 40: true median ln 2; percentile bootstrap of the median
    rng = np.random.default_rng(99)
    hits = 0
    for _ in range(300):
        res = bootstrap_ci(
            rng.exponential(size=40), statistic="median", n_resamples=1000,
            method="percentile", rng=rng,
        )  # fmt: skip
        hits += res.low <= np.log(2) <= res.high
    assert 0.90 <= hits / 300 <= 0.99


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        (
            {"values": [1.0]},
            r"The 'values' parameter of bootstrap_ci must be a 1-D array with at least 2 "
            r"finite values\. Got shape \(1,\)\.",
        ),
        ({"values": [1.0, np.nan, 2.0]}, r"entries \[1\] \(1 in all\) are NaN or infinite"),
        (
            {"statistic": "mode"},
            r"The 'statistic' parameter of bootstrap_ci must be one of 'mean', 'median'\. "
            r"Got 'mode'\.",
        ),
        (
            {"confidence": 1.0},
            r"The 'confidence' parameter of bootstrap_ci must be a finite float > 0 and < "
            r"1\. Got 1\.0\.",
        ),
        (
            {"n_resamples": 10},
            r"The 'n_resamples' parameter of bootstrap_ci must be an int >= 100\. Got 10\.",
        ),
        (
            {"method": "bca"},
            r"The 'method' parameter of bootstrap_ci must be one of 'BCa', 'percentile'",
        ),
    ],
)
def test_bad_input(kwargs, match):
    args = {"values": [1.0, 2.0, 3.0], **kwargs}
    with pytest.raises(ValueError, match=match):
        bootstrap_ci(args.pop("values"), **args)
