"""detect_change_points: steps found where they are, error rates on noise, exact p-values."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import stats

from ardlib.bench._changepoint import ChangePoint, detect_change_points


def history(seed: int, n: int = 40, sigma: float = 0.05, steps: dict[int, float] | None = None):
    """Lognormal timings around 1; ``steps`` maps an index to a factor applied from there on."""
    x = np.random.default_rng(seed).lognormal(0.0, sigma, n)
    for index, factor in (steps or {}).items():
        x[index:] *= factor
    return x


def test_step_up_is_found_at_its_index():
    (change,) = detect_change_points(history(1, steps={20: 1.25}))
    assert change.index == 20
    assert change.direction == "increase"
    assert change.before == pytest.approx(1.0, abs=0.03)
    assert change.after == pytest.approx(1.25, abs=0.04)
    assert change.ratio == pytest.approx(1.25, abs=0.05)
    assert change.p_value < 0.01


def test_step_down_is_found_at_its_index():
    (change,) = detect_change_points(history(2, steps={25: 0.8}))
    assert change.index == 25
    assert change.direction == "decrease"
    assert change.after < change.before
    assert change.ratio == pytest.approx(0.8, abs=0.04)
    assert change.p_value < 0.01


def test_up_then_down_are_both_found():
    # The first split sees both changes at once and lands at 27 in this history; moving
    # every boundary to the best split between its neighbours puts it back at 30.
    changes = detect_change_points(history(10, n=90, steps={30: 1.3, 60: 1 / 1.3}))
    assert [(c.index, c.direction) for c in changes] == [(30, "increase"), (60, "decrease")]
    # before/after are the medians of the neighbouring regimes, not of the whole history
    assert changes[0].after == changes[1].before
    assert changes[0].after == pytest.approx(1.3, abs=0.05)
    assert changes[1].after == pytest.approx(1.0, abs=0.05)


@pytest.mark.slow
def test_several_changes_are_located_exactly():
    exact = sum(
        [c.index for c in detect_change_points(history(seed, n=90, steps={30: 1.3, 60: 1 / 1.3}))]
        == [30, 60]
        for seed in range(40)
    )
    # measured: 38 of 40 (29 without moving boundaries after each split)
    assert exact >= 36


@pytest.mark.slow
def test_false_alarm_rate_on_flat_noise():
    alarms = sum(bool(detect_change_points(history(seed))) for seed in range(200))
    # measured: 1 of 200 (0.5 %)
    assert alarms / 200 <= 0.02


@pytest.mark.slow
def test_rank_test_keeps_its_level_on_flat_noise():
    # Without the magnitude filter, the false-alarm rate is the level of the max-type
    # permutation test: neither inflated by the scan over splits nor far below alpha.
    alarms = sum(
        bool(detect_change_points(history(seed), alpha=0.05, min_relative_change=0.0))
        for seed in range(200)
    )
    # measured: 13 of 200 (6.5 %); Binomial(200, 0.05) lies in [2, 19] with prob > 0.99
    assert 2 <= alarms <= 19


@pytest.mark.slow  # 100 seeded histories (~1 s); the tests below find single steps
def test_detection_rate_of_a_25_percent_step():
    detected = spurious = 0
    for seed in range(100):
        changes = detect_change_points(history(seed, steps={20: 1.25}))
        detected += any(abs(c.index - 20) <= 1 and c.direction == "increase" for c in changes)
        spurious += any(abs(c.index - 20) > 1 for c in changes)
    # measured: 100 of 100 detected (96 exactly at 20), 1 with an extra change elsewhere;
    # a step down to 0.8: 100 detected (95 exactly), 1 extra
    assert detected >= 95
    assert spurious <= 5


def test_change_among_the_newest_revisions_is_found():
    # a CI gate cares most about a regression in the last few revisions
    (change,) = detect_change_points(history(4, n=45, steps={37: 1.25}))
    assert (change.index, change.direction) == (37, "increase")


def test_small_step_is_not_reported_below_min_relative_change():
    x = history(5, sigma=0.002, steps={20: 1.02})  # significant: the noise is 0.2 %
    assert detect_change_points(x) == []
    (change,) = detect_change_points(x, min_relative_change=0.01)
    assert change.index == 20
    assert change.ratio == pytest.approx(1.02, abs=0.002)


def test_small_significant_step_does_not_hide_a_large_one():
    x = history(6, n=60, sigma=0.002, steps={20: 1.02, 40: 1.3})
    (change,) = detect_change_points(x)
    assert change.index == 40
    # the regime before is the one after the small step, not the whole first part
    assert change.before == pytest.approx(1.02, abs=0.002)
    assert change.ratio == pytest.approx(1.3, abs=0.01)


def test_ties_from_quantized_timings():
    x = np.round(history(7, steps={20: 1.3}), 1)  # timer resolution: many equal values
    (change,) = detect_change_points(x)
    assert (change.index, change.direction) == (20, "increase")


def test_deterministic_and_invariant_to_units():
    x = history(8, n=60, steps={15: 1.2, 35: 0.75})
    first = detect_change_points(x)
    assert len(first) == 2
    assert detect_change_points(x) == first
    assert detect_change_points(x.tolist()) == first
    # seconds or milliseconds: same indices and p-values (the test sees only ranks)
    in_ms = detect_change_points(1000 * x)
    assert [(c.index, c.direction, c.p_value) for c in in_ms] == [
        (c.index, c.direction, c.p_value) for c in first
    ]
    assert [c.ratio for c in in_ms] == pytest.approx([c.ratio for c in first])


def test_max_changes_caps_the_number_returned():
    x = history(9, n=80, steps={20: 1.3, 40: 1.3, 60: 1.3})
    assert [c.index for c in detect_change_points(x)] == [20, 40, 60]
    assert [c.index for c in detect_change_points(x, max_changes=3)] == [20, 40, 60]
    (one,) = detect_change_points(x, max_changes=1)
    assert one.index in (20, 40, 60)
    assert detect_change_points(x, max_changes=0) == []


def test_too_short_or_constant_histories_give_no_change():
    assert detect_change_points([]) == []
    assert detect_change_points([1.0, 1.0, 5.0, 5.0, 5.0]) == []  # 5 < 2 * min_size
    assert detect_change_points(np.full(30, 2.5)) == []


def test_smallest_attainable_p_value_of_six_points():
    # Six values, three per side: one admissible split, and a perfect separation has
    # probability 2 / C(6, 3) = 0.1 under exchangeability, so it cannot pass alpha = 0.05.
    x = [1.0, 1.1, 1.2, 3.0, 3.1, 3.2]
    assert detect_change_points(x, alpha=0.05) == []
    (change,) = detect_change_points(x, alpha=0.2)
    assert change.index == 3
    assert change.p_value == pytest.approx(0.1, rel=0.3)


@pytest.mark.parametrize("seed", range(4))
def test_single_split_p_value_matches_exact_mann_whitney(seed):
    # With n = 2 * min_size there is one split, so the max-type test is the two-sided
    # Mann-Whitney test; SciPy computes its exact p-value independently.
    x = np.random.default_rng(seed).normal(size=12)
    x[6:] += 1.0
    (change,) = detect_change_points(x, min_size=6, alpha=0.999, min_relative_change=0.0)
    exact = stats.mannwhitneyu(x[:6], x[6:], method="exact").pvalue
    # Besag-Clifford with 100 exceedances: about 10 % relative error
    assert change.p_value == pytest.approx(exact, rel=0.3)


def test_zero_before_gives_an_infinite_ratio():
    (change,) = detect_change_points([0.0] * 5 + [2.0] * 5, alpha=0.05)
    assert change == ChangePoint(5, "increase", 0.0, 2.0, math.inf, change.p_value)


@pytest.mark.parametrize(
    ("values", "match"),
    [
        ([1.0, np.nan, 1.0, 1.0, 1.0, 1.0], r"'values' parameter .* entries \[1\] .* NaN"),
        ([1.0, 1.0, np.inf, 1.0, 1.0, 1.0], r"'values' parameter .* entries \[2\]"),
        (np.ones((6, 2)), r"'values' parameter .* 1-D .* Got shape \(6, 2\)"),
        (["fast", "slow"], r"'values' parameter of detect_change_points must be"),
    ],
)
def test_bad_values_are_rejected(values, match):
    with pytest.raises(ValueError, match=match):
        detect_change_points(values)


@pytest.mark.parametrize(
    ("option", "match"),
    [
        ({"alpha": 2}, r"'alpha' parameter of detect_change_points .* < 1\. Got 2\."),
        ({"alpha": 0.0}, r"'alpha' parameter .* > 0"),
        ({"min_size": 0}, r"'min_size' parameter .* >= 1\. Got 0\."),
        ({"min_size": 2.5}, r"'min_size' parameter .* must be an int"),
        ({"min_relative_change": -0.1}, r"'min_relative_change' parameter .* >= 0"),
        ({"max_changes": -1}, r"'max_changes' parameter .* >= 0\. Got -1\."),
    ],
)
def test_bad_options_are_rejected(option, match):
    with pytest.raises(ValueError, match=match):
        detect_change_points(np.ones(10), **option)
