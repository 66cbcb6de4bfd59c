"""a12 and a12_magnitude: closed forms, Mann-Whitney U as reference, population value."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as hs
from scipy import stats

from ardlib.stats import A12_THRESHOLDS, a12, a12_magnitude

small_samples = hs.lists(hs.integers(0, 5).map(float), min_size=1, max_size=15)


def test_closed_forms():
    assert a12([5.0, 6.0, 7.0], [1.0, 2.0]) == 1.0  # fully separated, x above
    assert a12([1.0, 2.0], [5.0, 6.0, 7.0]) == 0.0  # fully separated, x below
    assert a12([3.0, 1.0, 2.0], [1.0, 2.0, 3.0]) == 0.5  # identical samples
    assert a12([4.0, 4.0], [4.0]) == 0.5  # all ties
    # pairs (3,1) >, (3,3) =, (4,1) >, (4,3) >: (3 + 0.5) / 4
    assert a12([3.0, 4.0], [1.0, 3.0]) == pytest.approx(0.875)


def test_regret_direction_lower_x_gives_small_a12():
    # planner x has lower regret (better): A12 < 0.5 means "x better" for regret
    better, worse = [0.1, 0.2, 0.3], [0.5, 0.6, 0.7]
    assert a12(better, worse) == 0.0
    assert a12(worse, better) == 1.0


@given(small_samples, small_samples)
def test_equals_mann_whitney_u_over_nm(x, y):
    u = stats.mannwhitneyu(x, y, method="asymptotic").statistic  # U of the first sample
    assert a12(x, y) == pytest.approx(u / (len(x) * len(y)), abs=1e-12)


@given(small_samples, small_samples)
def test_equals_pair_count_and_is_antisymmetric(x, y):
    diff = np.subtract.outer(np.array(x), np.array(y))
    count = (np.sum(diff > 0) + 0.5 * np.sum(diff == 0)) / diff.size
    assert a12(x, y) == pytest.approx(count, abs=1e-12)
    assert a12(x, y) + a12(y, x) == pytest.approx(1.0, abs=1e-12)


def test_mean_over_samples_matches_population_value():
    # X ~ N(delta, 1), Y ~ N(0, 1): P(X > Y) = Phi(delta / sqrt(2)); A12 is unbiased.
    rng = np.random.default_rng(7)
    delta = 0.6
    values = [a12(rng.normal(delta, 1, 15), rng.normal(0, 1, 12)) for _ in range(800)]
    truth = stats.norm.cdf(delta / np.sqrt(2))
    se = np.std(values, ddof=1) / np.sqrt(len(values))
    assert abs(np.mean(values) - truth) < 4 * se


@pytest.mark.parametrize(
    ("a", "label"),
    [
        (0.5, "negligible"),
        (0.555, "negligible"),
        (0.56, "small"),
        (0.44, "small"),  # 1 - 0.44 = 0.56 despite float round-off
        (0.6399, "small"),
        (0.64, "medium"),
        (0.36, "medium"),
        (0.71, "large"),
        (0.29, "large"),
        (0.0, "large"),
        (1.0, "large"),
    ],
)
def test_magnitude_thresholds(a, label):
    assert a12_magnitude(a) == label
    assert a12_magnitude(1 - a) == label  # symmetric: says how much, not who is better


def test_thresholds_are_the_published_ones():
    assert A12_THRESHOLDS == (0.56, 0.64, 0.71)


@pytest.mark.parametrize("bad", [1.2, -0.1, float("nan"), "0.5", True, None])
def test_magnitude_rejects_bad_values(bad):
    with pytest.raises(
        ValueError, match=r"The 'a' parameter of a12_magnitude must be a finite float >= 0 and <= 1"
    ):
        a12_magnitude(bad)


@pytest.mark.parametrize(
    ("x", "y", "match"),
    [
        (
            [],
            [1.0],
            r"The 'x' parameter of a12 must be a 1-D array with at least 1 finite value\. "
            r"Got shape \(0,\)\.",
        ),
        ([1.0], [[1.0]], r"The 'y' parameter of a12 .* Got shape \(1, 1\)"),
        (
            [1.0, np.nan],
            [1.0],
            r"The 'x' parameter of a12 .*entries \[1\] \(1 in all\) are NaN or infinite",
        ),
        ([1.0], [np.inf], r"The 'y' parameter"),
    ],
)
def test_a12_bad_input(x, y, match):
    with pytest.raises(ValueError, match=match):
        a12(x, y)
