"""replicates_for_power: checked by independent simulation; the normal closed form."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import stats

from ardlib.stats import PowerResult, replicates_for_power, replicates_for_power_normal


def standardized(n, mean, seed=0):
    z = np.random.default_rng(seed).normal(size=n)
    return mean + (z - z.mean()) / z.std(ddof=1)


def wilcoxon_power(draw, n, sims, rng):
    """Power of SciPy's signed-rank test on fresh samples of n differences from `draw`."""
    d = draw(rng, (sims, n))
    return np.mean(stats.wilcoxon(d, axis=1, zero_method="pratt").pvalue <= 0.05)


QUANTILES = (np.arange(2000) + 0.5) / 2000
TIED = np.array([-1.0, 0, 0, 1, 1, 2])  # exact ties are common under common random numbers
DISTRIBUTIONS = {
    # name: (sampler of paired differences, a pilot that *is* the population: its
    # quantiles, so that only Monte-Carlo error separates estimate and check)
    "normal shift": (lambda rng, size: rng.normal(0.5, 1.0, size), stats.norm.ppf(QUANTILES, 0.5)),
    "skewed": (
        lambda rng, size: rng.exponential(1.0, size) - 0.55,
        stats.expon.ppf(QUANTILES) - 0.55,
    ),
    "ties and zeros": (lambda rng, size: rng.choice(TIED, size=size), np.repeat(TIED, 300)),
}


@pytest.mark.parametrize("name", DISTRIBUTIONS)
def test_returned_n_reaches_the_power_in_an_independent_simulation(name):
    draw, pilot = DISTRIBUTIONS[name]
    res = replicates_for_power(pilot, rng=1)
    assert isinstance(res, PowerResult) and res.n is not None
    assert res.power >= 0.8
    assert res.mc_se == pytest.approx(math.sqrt(res.power * (1 - res.power) / 2000))
    # Monte-Carlo sd of the check ~0.006 and of the estimate ~0.009: slack 0.035 ~ 3 sd
    rng = np.random.default_rng(len(name))
    assert wilcoxon_power(draw, res.n, 4000, rng) >= 0.8 - 0.035
    fewer = max(6, int(0.75 * res.n))
    assert wilcoxon_power(draw, fewer, 4000, rng) < 0.8  # not grossly oversized


def test_search_returns_the_smallest_n_on_its_power_curve():
    res = replicates_for_power(standardized(50, 0.6), rng=3, n_sims=1000)
    curve = dict(res.curve)
    assert curve[res.n] >= 0.8 > curve[res.n - 1]
    assert list(curve) == sorted(curve) and res.power == curve[res.n]
    assert replicates_for_power(standardized(50, 0.6), rng=3, n_sims=1000) == res  # seeded


def test_x_and_y_are_paired_by_position():
    x = np.random.default_rng(4).normal(size=30) * 5
    d = standardized(30, 0.7, seed=5)
    a = replicates_for_power(x + d, x, rng=6, n_sims=500)
    b = replicates_for_power(d, rng=6, n_sims=500)
    assert a == b


def test_no_effect_gives_none():
    pilot = np.array([-2.0, -1.0, 0.0, 1.0, 2.0, 0.5, -0.5])
    res = replicates_for_power(pilot, rng=0, max_n=40, n_sims=500)
    assert res.n is None and res.power < 0.2 and dict(res.curve)[40] == res.power
    assert replicates_for_power_normal(pilot).n is None
    one_sided = replicates_for_power_normal(standardized(20, 0.5), alternative="less")
    assert one_sided.n is None  # the pilot effect points the other way


@pytest.mark.slow  # a power simulation; a Monte-Carlo property
def test_normal_signed_rank_power_at_six_pairs_is_the_all_same_sign_probability():
    # With 6 pairs the exact two-sided test at 0.05 rejects only when all six differences
    # share a sign (p = 2/64): power = Phi(1.2)**6 + Phi(-1.2)**6 = 0.4806.  The old
    # normal approximation claimed 0.82 and n = 6.
    res = replicates_for_power_normal(standardized(40, 1.2))
    exact = stats.norm.cdf(1.2) ** 6 + stats.norm.cdf(-1.2) ** 6
    power = dict(res.curve)
    assert abs(power[6] - exact) < 4 * math.sqrt(exact * (1 - exact) / res.n_sims)
    assert res.n is not None and res.n > 6
    assert power[res.n] >= 0.8 > power[res.n - 1]  # the smallest n that reaches it
    assert (res.method, res.n_sims, res.effect_size) == ("normal", 20_000, pytest.approx(1.2))


@pytest.mark.parametrize(("delta", "alternative"), [(0.5, "two-sided"), (0.8, "greater")])
def test_normal_t_power_agrees_with_simulated_t_tests(delta: float, alternative: str) -> None:
    res = replicates_for_power_normal(standardized(40, delta), test="t", alternative=alternative)
    assert res.n is not None and res.mc_se == 0.0
    rng = np.random.default_rng(3)
    for n in (res.n - 1, res.n):
        d = delta + rng.standard_normal((20_000, n))
        simulated = np.mean(
            stats.ttest_1samp(d, 0.0, axis=1, alternative=alternative).pvalue <= 0.05
        )
        assert abs(dict(res.curve)[n] - simulated) < 0.012  # 4 standard errors
    assert dict(res.curve)[res.n] >= 0.8 > dict(res.curve)[res.n - 1]


@pytest.mark.slow  # ~4-9 s: 20,000 simulated signed-rank tests at every n of six searches
def test_normal_answers_are_the_same_every_time_and_grow_with_smaller_effects():
    pilot = standardized(40, 0.5)
    assert replicates_for_power_normal(pilot) == replicates_for_power_normal(pilot)
    n = [replicates_for_power_normal(standardized(40, e)).n for e in (1.2, 0.8, 0.5)]
    assert n[0] < n[1] < n[2]
    capped = replicates_for_power_normal(standardized(40, 0.05), max_n=30)
    assert capped.n is None and capped.power < 0.2


@pytest.mark.slow  # ~1-4 s: 20,000 simulated signed-rank tests at each n up to 35 pairs
def test_simulation_agrees_with_the_normal_model_for_normal_differences():
    # Resampling a large normal pilot and simulating the normal model size the same study.
    pilot = standardized(3000, 0.5, seed=9)
    for test in ("wilcoxon", "t"):
        mc = replicates_for_power(pilot, test=test, rng=10)
        normal = replicates_for_power_normal(pilot, test=test)
        assert abs(mc.n - normal.n) <= 3, (test, mc.n, normal.n)


@pytest.mark.parametrize(
    ("args", "kwargs", "match"),
    [
        (
            ([1.0, 2.0, 3.0],),
            {},
            r"The 'x' parameter of replicates_for_power must be a 1-D array with at least 5 "
            r"finite values\. Got shape \(3,\)\.",
        ),
        (
            (np.ones(6), np.ones(5)),
            {},
            r"The 'y' parameter of replicates_for_power must have the same shape as 'x'",
        ),
        (
            (np.ones(6),),
            {"power": 1.0},
            r"The 'power' parameter of replicates_for_power must be a finite float > 0 and "
            r"< 1\. Got 1\.0\.",
        ),
        ((np.ones(6),), {"alpha": 0}, r"The 'alpha' parameter"),
        (
            (np.ones(6),),
            {"test": "sign"},
            r"The 'test' parameter of replicates_for_power must be one of 'wilcoxon', 't'",
        ),
        (
            (np.ones(6),),
            {"n_sims": 10},
            r"The 'n_sims' parameter of replicates_for_power must be an int >= 100",
        ),
        (
            (np.ones(6),),
            {"max_n": 5},
            r"The 'max_n' parameter of replicates_for_power must be an int >= 6",
        ),
        ((np.ones(6),), {"rng": -1}, r"The 'rng' parameter must be a non-negative int"),
    ],
)
def test_bad_input(args, kwargs, match):
    with pytest.raises(ValueError, match=match):
        replicates_for_power(*args, **kwargs)


def test_bad_input_of_the_closed_form():
    with pytest.raises(
        ValueError, match=r"The 'alternative' parameter of replicates_for_power_normal"
    ):
        replicates_for_power_normal(np.ones(6), alternative="both")
