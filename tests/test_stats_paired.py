"""paired_test: exact small cases, a brute-force reference, size and power."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from scipy import stats

from ardlib.stats import PairedTestResult, a12, paired_test
from ardlib.stats._signrank import signed_rank_pvalues


def pratt_ranks(d):
    """Mid-ranks of |d| with zeros included in the ranking and then given weight 0."""
    a = [abs(v) for v in d]
    ranks = []
    for v in a:
        below = sum(w < v for w in a)
        equal = sum(w == v for w in a)
        ranks.append(below + (equal + 1) / 2)
    return [r if v != 0 else 0.0 for r, v in zip(ranks, d, strict=True)]


def brute_force_pvalue(d, alternative):
    """Exact sign-flip p-value of r_plus by enumerating every sign pattern."""
    ranks = pratt_ranks(d)
    observed = sum(r for r, v in zip(ranks, d, strict=True) if v > 0)
    null = [
        sum(r for r, s in zip(ranks, signs, strict=True) if s)
        for signs in itertools.product([0, 1], repeat=len(d))
    ]
    less = np.mean([t <= observed + 1e-9 for t in null])
    greater = np.mean([t >= observed - 1e-9 for t in null])
    if alternative == "less":
        return less
    if alternative == "greater":
        return greater
    return min(1.0, 2 * min(less, greater))


def test_closed_form_all_six_differences_negative():
    x = np.arange(6.0)
    y = x + np.array([1.0, 2.0, 3.0, 4.0, 5.0, 6.5])
    res = paired_test(x, y)
    assert isinstance(res, PairedTestResult)
    assert res.p_value == pytest.approx(2 / 2**6)  # only the all-negative pattern, twice
    assert (res.statistic, res.r_plus, res.r_minus) == (0.0, 0.0, 21.0)
    assert (res.n, res.n_zero, res.median_diff, res.a12_paired) == (6, 0, -3.5, 0.0)
    assert paired_test(x, y, alternative="less").p_value == pytest.approx(1 / 2**6)
    assert paired_test(x, y, alternative="greater").p_value == pytest.approx(1.0)


def test_all_zero_differences_mean_no_evidence():
    res = paired_test(np.ones(20), np.ones(20))
    assert (res.p_value, res.statistic, res.n_zero, res.a12, res.a12_paired) == (1, 0, 20, 0.5, 0.5)


def test_swapping_the_planners_mirrors_the_result():
    rng = np.random.default_rng(0)
    x, y = rng.normal(size=12), rng.normal(0.5, 1, size=12)
    fwd, back = paired_test(x, y), paired_test(y, x)
    assert fwd.p_value == pytest.approx(back.p_value)
    assert (fwd.r_plus, fwd.r_minus) == (back.r_minus, back.r_plus)
    assert fwd.a12 == pytest.approx(1 - back.a12)
    assert fwd.median_diff == pytest.approx(-back.median_diff)
    assert fwd.a12 == a12(x, y)


@pytest.mark.parametrize(
    "d",
    [
        [-0.5, 1.2, -2.0, 3.1, -4.4, 0.7, -5.0, -6.3],  # no ties: SciPy's exact branch
        [0.0, 0.0, -1.0, -1.0, 2.0, -3.0, -3.0, 4.0, -5.0],  # zeros and ties: permutation
        [0.0, -1.0, -2.0, -2.0, -3.0, 1.0, -4.0, -5.0, -6.0, -7.0, 0.0, -8.0],
    ],
)
@pytest.mark.parametrize("alternative", ["two-sided", "less", "greater"])
def test_matches_brute_force_enumeration(d, alternative):
    res = paired_test(np.array(d), np.zeros(len(d)), alternative=alternative)
    assert res.p_value == pytest.approx(brute_force_pvalue(d, alternative), rel=1e-9)
    ranks = pratt_ranks(d)
    assert res.r_plus == sum(r for r, v in zip(ranks, d, strict=True) if v > 0)
    assert res.r_minus == sum(r for r, v in zip(ranks, d, strict=True) if v < 0)


def test_large_sample_matches_the_normal_approximation_by_hand():
    # n = 60 without ties: z = (r_plus - n(n+1)/4) / sqrt(n(n+1)(2n+1)/24)
    d = np.random.default_rng(1).normal(0.3, 1, size=60)
    res = paired_test(d, np.zeros(60))
    n = 60
    z = (res.r_plus - n * (n + 1) / 4) / np.sqrt(n * (n + 1) * (2 * n + 1) / 24)
    assert res.p_value == pytest.approx(2 * stats.norm.sf(abs(z)), rel=1e-9)


def scipy_pvalue(d, alternative):
    return stats.wilcoxon(d, zero_method="pratt", alternative=alternative, method="auto").pvalue


@pytest.mark.parametrize(
    ("n", "rows"),
    [(6, 8), pytest.param(9, 4, marks=pytest.mark.slow), (14, 25), (30, 25), (60, 25)],
)
def test_pvalues_match_scipy_wilcoxon_auto(n, rows):
    # Rounding makes ties and zeros, so every branch of SciPy's "auto" is exercised
    # (n <= 13 with ties is SciPy's slow permutation branch: few rows there).
    d = np.round(np.random.default_rng(n).normal(0.3, 1, size=(rows, n)), 1)
    d[0, 1:] = d[0, 0] + np.arange(1, n) * 0.01  # one row without ties
    for alternative in ("two-sided", "less", "greater"):
        want = [scipy_pvalue(r, alternative) for r in d]
        np.testing.assert_allclose(signed_rank_pvalues(d, alternative), want, rtol=1e-12)
        got = [paired_test(r, np.zeros(n), alternative=alternative).p_value for r in d]
        np.testing.assert_allclose(got, want, rtol=1e-12)


def test_pvalues_match_brute_force_at_the_largest_permutation_size():
    d = np.round(np.random.default_rng(3).normal(0.5, 1, size=(4, 13)), 1)
    d[:, 0] = 0.0
    for alternative in ("two-sided", "less"):
        want = [brute_force_pvalue(list(r), alternative) for r in d]
        np.testing.assert_allclose(signed_rank_pvalues(d, alternative), want, rtol=1e-12)


@pytest.mark.slow
def test_pvalues_match_scipy_at_the_largest_permutation_size():
    d = np.round(np.random.default_rng(4).normal(0.5, 1, size=(3, 13)), 1)
    want = [scipy_pvalue(r, "two-sided") for r in d]
    np.testing.assert_allclose(signed_rank_pvalues(d, "two-sided"), want, rtol=1e-12)


@pytest.mark.slow  # 600 Monte-Carlo tests; the exact p-value checks stay fast
def test_size_under_the_null_with_many_zero_differences():
    # symmetric differences, 50 % exact ties (as under common random numbers): Pratt's
    # method keeps the size near alpha; 600 tests, Monte-Carlo sd 0.009
    rng = np.random.default_rng(11)
    d = rng.laplace(size=(600, 20)) * (rng.random((600, 20)) < 0.5)
    d[:, 0] += 0.01  # no all-zero row
    rate = np.mean([paired_test(r, np.zeros(20)).p_value <= 0.05 for r in d])
    assert 0.025 <= rate <= 0.05 + 3 * np.sqrt(0.05 * 0.95 / 600)


@pytest.mark.slow  # 600 Monte-Carlo tests; the exact p-value checks stay fast
def test_size_under_the_null_without_ties():
    rng = np.random.default_rng(12)
    rate = np.mean(
        [paired_test(rng.normal(size=15), rng.normal(size=15)).p_value <= 0.05 for _ in range(600)]
    )
    assert 0.03 <= rate <= 0.05 + 3 * np.sqrt(0.05 * 0.95 / 600)


@pytest.mark.slow  # 400 Monte-Carlo tests; the exact p-value checks stay fast
def test_power_on_a_clear_shift():
    # paired normal data, shift of one sd of the differences, n = 20: theory ~0.98
    rng = np.random.default_rng(13)
    shared = rng.normal(size=(400, 20))  # replicate effect cancels in the pairs
    x = shared + rng.normal(size=(400, 20)) / np.sqrt(2)
    y = shared + 1.0 + rng.normal(size=(400, 20)) / np.sqrt(2)
    power = np.mean([paired_test(a, b).p_value <= 0.05 for a, b in zip(x, y, strict=True)])
    assert power > 0.8


@pytest.mark.parametrize(
    ("x", "y", "kwargs", "match"),
    [
        (
            [1.0, 2.0, 3.0],
            [1.0, 2.0, 3.0],
            {},
            r"^The 'x' parameter of paired_test must be a 1-D array with at least 6 finite "
            r"values\. Got shape \(3,\)\.$",
        ),
        (
            np.ones(6),
            np.ones(7),
            {},
            r"The 'y' parameter of paired_test must have the same shape as 'x' \(one value "
            r"per pair\)\. Got shapes \(6,\) and \(7,\)\.",
        ),
        (
            np.ones(6),
            [1, 1, 1, np.nan, 1, 1],
            {},
            r"The 'y' parameter of paired_test .* entries \[3\]",
        ),
        (np.ones((6, 2)), np.ones((6, 2)), {}, r"Got shape \(6, 2\)"),
        (
            np.ones(6),
            np.ones(6),
            {"alternative": "smaller"},
            r"The 'alternative' parameter of paired_test must be one of 'two-sided', "
            r"'less', 'greater'\. Got 'smaller'\.",
        ),
    ],
)
def test_bad_input(x, y, kwargs, match):
    with pytest.raises(ValueError, match=match):
        paired_test(x, y, **kwargs)
