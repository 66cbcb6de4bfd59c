"""Plan replicates: how many paired replicates detect a difference with given power."""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy import stats

from .._rng import RNGLike, as_generator
from .._validation import check_choice, check_int, check_real
from ._checks import check_pair, check_sample
from ._paired import ALTERNATIVES, MIN_PAIRS
from ._signrank import signed_rank_pvalues

__all__ = ["PowerResult", "replicates_for_power", "replicates_for_power_normal"]

_MIN_PILOT = 5
_TESTS = ("wilcoxon", "t")


@dataclass(frozen=True)
class PowerResult:
    """Replicates needed for a paired test to reach a target power.

    Attributes
    ----------
    n : int or None
        Smallest number of paired replicates whose power reaches ``target_power``;
        ``None`` when none up to ``max_n`` does, or the pilot shows no effect in the
        tested direction (normal model).
    power : float
        Estimated power at ``n`` (at the largest evaluated ``n`` when ``n`` is None).
    mc_se : float
        Monte-Carlo standard error of ``power``, ``sqrt(power (1 - power) / n_sims)``;
        0 for the exact t power of the normal model.
    target_power : float
        The requested power.
    alpha : float
        Significance level of the test.
    alternative : str
        Alternative of the test, for ``d = x - y``.
    test : str
        ``"wilcoxon"`` (:func:`paired_test`) or ``"t"`` (paired t test).
    method : str
        ``"monte-carlo"`` (:func:`replicates_for_power`) or ``"normal"``
        (:func:`replicates_for_power_normal`).
    n_sims : int
        Simulated studies per evaluated ``n`` (0 for the exact t power).
    pilot_n : int
        Number of pilot differences.
    effect_size : float
        Standardized pilot effect ``mean(d) / sd(d)`` (sd with ``ddof=1``; infinite when
        the pilot differences are constant and non-zero, NaN when all are 0).
    curve : tuple of (int, float)
        Every evaluated ``(n, power)``, sorted by ``n``.
    """

    n: int | None
    power: float
    mc_se: float
    target_power: float
    alpha: float
    alternative: str
    test: str
    method: str
    n_sims: int
    pilot_n: int
    effect_size: float
    curve: tuple[tuple[int, float], ...]


def replicates_for_power(
    x: ArrayLike,
    y: ArrayLike | None = None,
    *,
    power: float = 0.8,
    alpha: float = 0.05,
    alternative: str = "two-sided",
    test: str = "wilcoxon",
    rng: RNGLike = None,
    n_sims: int = 2000,
    max_n: int = 200,
) -> PowerResult:
    """Smallest number of paired replicates that detects the pilot's difference, simulated.

    Study sizes are simulated by resampling the pilot differences ``d = x - y`` with
    replacement (a nonparametric bootstrap of the design, as in [Collings1988]_): for a
    candidate ``n``, ``n_sims`` studies of ``n`` pairs are drawn, each is tested at level
    ``alpha`` exactly as :func:`paired_test` would (or by a paired t test), and the power
    is the share of rejections. The same resampling indices serve every ``n`` (common
    random numbers), which makes the estimated power curve nearly monotone; a doubling
    then bisection search returns the smallest ``n`` whose estimated power reaches
    ``power`` while ``n - 1`` does not.

    Parameters
    ----------
    x : array-like of shape (m,)
        Pilot values of the first planner, one per replicate; or the pilot differences
        when ``y`` is None. At least 5 finite values.
    y : array-like of shape (m,), optional
        Pilot values of the second planner on the same replicates.
    power : float
        Target power in ``(0, 1)``.
    alpha : float
        Significance level in ``(0, 1)``.
    alternative : {"two-sided", "less", "greater"}
        Alternative of the test on ``d = x - y``.
    test : {"wilcoxon", "t"}
        Signed-rank test as in :func:`paired_test` (Pratt's zeros), or the paired t test
        (:func:`scipy.stats.ttest_1samp` on ``d``).
    rng : None, int, SeedSequence or Generator
        Source of randomness of the simulation.
    n_sims : int
        Simulated studies per candidate ``n``, ``>= 100``; the standard error of a power
        near 0.8 is about ``0.4 / sqrt(n_sims)`` (0.009 for 2000).
    max_n : int
        Largest ``n`` considered.

    Returns
    -------
    PowerResult
        ``n`` (or None), its estimated power and Monte-Carlo standard error, the curve.

    Raises
    ------
    ValueError
        If the pilot has fewer than 5 finite values, ``x`` and ``y`` differ in shape, or an
        option is out of range.

    See Also
    --------
    replicates_for_power_normal : the same for normal differences with the pilot's effect.

    Notes
    -----
    The pilot stands in for the population: a small pilot gives a noisy answer, and a
    pilot whose effect was lucky gives too small an ``n``. The search starts at 6 pairs
    for the signed-rank test (the smallest :func:`paired_test` accepts) and at 2 for t.

    References
    ----------
    .. [Collings1988] B. J. Collings and M. A. Hamilton, "Estimating the power of the
       two-sample Wilcoxon test for location shift", Biometrics 44(3), 847-860, 1988.
    """
    owner = "replicates_for_power"
    d = _pilot(x, y, owner)
    target, level, alt, how = _options(power, alpha, alternative, test, owner)
    sims = check_int(n_sims, "n_sims", owner=owner, low=100)
    n_min = MIN_PAIRS if how == "wilcoxon" else 2
    top = check_int(max_n, "max_n", owner=owner, low=n_min)
    gen = as_generator(rng)
    idx = gen.integers(0, d.size, size=(sims, top))
    curve: dict[int, float] = {}

    def estimate(n: int) -> float:
        if n not in curve:
            p = _pvalues(d[idx[:, :n]], alt, how)
            curve[n] = float(np.mean(p <= level))
        return curve[n]

    n = _search(estimate, n_min, top, target)
    achieved = curve[n if n is not None else top]
    return PowerResult(
        n=n,
        power=achieved,
        mc_se=math.sqrt(achieved * (1 - achieved) / sims),
        target_power=target,
        alpha=level,
        alternative=alt,
        test=how,
        method="monte-carlo",
        n_sims=sims,
        pilot_n=d.size,
        effect_size=_effect(d),
        curve=tuple(sorted(curve.items())),
    )


def replicates_for_power_normal(
    x: ArrayLike,
    y: ArrayLike | None = None,
    *,
    power: float = 0.8,
    alpha: float = 0.05,
    alternative: str = "two-sided",
    test: str = "wilcoxon",
    max_n: int = 1000,
) -> PowerResult:
    """Replicates for a paired test when the differences are normal with the pilot's effect.

    With ``delta = mean(d) / sd(d)`` from the pilot and ``d ~ N(delta, 1)``:

    - ``test="t"``: the exact power of the paired t test, from the noncentral t
      distribution (``df = n - 1``, noncentrality ``delta sqrt(n)``) [Cohen1988]_;
    - ``test="wilcoxon"``: the power of the exact signed-rank test as :func:`paired_test`
      runs it, over 20,000 simulated studies of standard normals (a fixed stream, common to
      every ``n``: the same pilot always gives the same answer).  No closed form holds at
      small ``n``: the test's null distribution is discrete, and with 6 pairs a two-sided
      test at 0.05 rejects only when all six differences share a sign (p = 2/64), so its
      power at ``delta = 1.2`` is ``Phi(1.2)**6 = 0.48``, where the asymptotic efficiency
      ``3/pi`` [Lehmann1975]_ with normal quantiles claimed 0.82.

    ``n`` is the smallest number of pairs from 6 (signed rank) or 2 (t) whose power
    reaches ``power``.

    Parameters
    ----------
    x : array-like of shape (m,)
        Pilot values of the first planner, or the pilot differences when ``y`` is None;
        at least 5 finite values.
    y : array-like of shape (m,), optional
        Pilot values of the second planner on the same replicates.
    power : float
        Target power in ``(0, 1)``.
    alpha : float
        Significance level in ``(0, 1)``.
    alternative : {"two-sided", "less", "greater"}
        Alternative on ``d = x - y``; a one-sided pilot effect in the other direction
        gives ``n=None``.
    test : {"wilcoxon", "t"}
        Which test to size.
    max_n : int, default 1000
        Largest ``n`` considered; ``n=None`` when none up to it reaches ``power``.

    Returns
    -------
    PowerResult
        With ``method="normal"``; for the signed-rank test ``n_sims`` is 20,000 and
        ``mc_se`` its Monte-Carlo standard error (0 for t).

    Raises
    ------
    ValueError
        As for :func:`replicates_for_power`.

    Notes
    -----
    It treats the pilot's ``delta`` as exact and the differences as normal; for heavy
    tails or ties, resample the pilot itself with :func:`replicates_for_power`.

    References
    ----------
    .. [Cohen1988] J. Cohen, Statistical Power Analysis for the Behavioral Sciences, 2nd
       ed., Lawrence Erlbaum, 1988.
    .. [Lehmann1975] E. L. Lehmann, Nonparametrics: Statistical Methods Based on Ranks,
       Holden-Day, 1975.
    """
    owner = "replicates_for_power_normal"
    d = _pilot(x, y, owner)
    target, level, alt, how = _options(power, alpha, alternative, test, owner)
    n_min = MIN_PAIRS if how == "wilcoxon" else 2
    top = check_int(max_n, "max_n", owner=owner, low=n_min)
    delta = _effect(d)
    sided = {"two-sided": abs(delta), "greater": delta, "less": -delta}[alt]
    sims = _NORMAL_SIMS if how == "wilcoxon" else 0
    curve: dict[int, float] = {}
    n: int | None = None
    if sided == math.inf:
        n, curve[n_min] = n_min, 1.0
    elif np.isfinite(sided) and sided > 0:
        estimate = _normal_power(delta, level, alt, how, curve)
        n = _search(estimate, n_min, top, target)
    achieved = curve[n] if n is not None else (curve[max(curve)] if curve else 0.0)
    return PowerResult(
        n=n,
        power=achieved,
        mc_se=math.sqrt(achieved * (1 - achieved) / sims) if sims else 0.0,
        target_power=target,
        alpha=level,
        alternative=alt,
        test=how,
        method="normal",
        n_sims=sims,
        pilot_n=d.size,
        effect_size=delta,
        curve=tuple(sorted(curve.items())),
    )


#: Simulated studies per ``n`` for the signed-rank test under normal differences.
_NORMAL_SIMS = 20_000


def _normal_power(delta: float, level: float, alt: str, test: str, curve: dict[int, float]) -> Any:
    """``n -> power`` of the test for ``d ~ N(delta, 1)``, memoized in ``curve``."""
    # One fixed stream: the answer depends on the pilot only (no rng argument to forget).
    gen = np.random.default_rng(20261205)
    drawn = np.empty((_NORMAL_SIMS, 0))

    def estimate(n: int) -> float:
        nonlocal drawn
        if n in curve:
            return curve[n]
        if test == "t":
            nc, df = delta * math.sqrt(n), n - 1
            if alt == "two-sided":
                q = stats.t.ppf(1 - level / 2, df)
                value = stats.nct.sf(q, df, nc) + stats.nct.cdf(-q, df, nc)
            else:
                q = stats.t.ppf(1 - level, df)
                value = stats.nct.sf(q, df, nc if alt == "greater" else -nc)
        else:
            if drawn.shape[1] < n:  # extend the stream: earlier columns stay the same
                more = gen.standard_normal((_NORMAL_SIMS, n - drawn.shape[1]))
                drawn = np.hstack([drawn, more])
            value = float(np.mean(_pvalues(delta + drawn[:, :n], alt, test) <= level))
        curve[n] = float(value)
        return curve[n]

    return estimate


def _pilot(x: ArrayLike, y: ArrayLike | None, owner: str) -> NDArray[np.float64]:
    if y is None:
        return check_sample(x, "x", owner, min_n=_MIN_PILOT)
    xa, ya = check_pair(x, y, owner, min_n=_MIN_PILOT)
    return xa - ya


def _options(
    power: Any, alpha: Any, alternative: Any, test: Any, owner: str
) -> tuple[float, float, str, str]:
    open_unit: dict[str, Any] = {"low": 0.0, "high": 1.0, "low_inclusive": False}
    open_unit["high_inclusive"] = False
    return (
        check_real(power, "power", owner=owner, **open_unit),
        check_real(alpha, "alpha", owner=owner, **open_unit),
        check_choice(alternative, "alternative", ALTERNATIVES, owner=owner),
        check_choice(test, "test", _TESTS, owner=owner),
    )


def _effect(d: NDArray[np.float64]) -> float:
    mean, sd = float(np.mean(d)), float(np.std(d, ddof=1))
    if sd > 0:
        return mean / sd
    return math.nan if mean == 0 else math.copysign(math.inf, mean)


def _pvalues(d: NDArray[np.float64], alternative: str, test: str) -> NDArray[np.float64]:
    if test == "wilcoxon":
        return signed_rank_pvalues(d, alternative)
    # A resampled study whose differences are all equal has zero variance: t is 0/0
    # (no evidence: p = 1) or +-inf (p from SciPy). Silence SciPy's precision warning there.
    with warnings.catch_warnings(), np.errstate(divide="ignore", invalid="ignore"):
        warnings.simplefilter("ignore", RuntimeWarning)
        p = stats.ttest_1samp(d, 0.0, axis=1, alternative=alternative).pvalue
    return np.where(np.isnan(p), 1.0, p)


def _search(estimate: Any, low: int, high: int, target: float) -> int | None:
    # Doubling then bisection on the estimated power curve; invariant: power(lo) < target
    # <= power(hi), so the answer n has power(n) >= target > power(n - 1).
    if estimate(low) >= target:
        return low
    lo, hi = low, min(2 * low, high)
    while estimate(hi) < target:
        if hi == high:
            return None
        lo, hi = hi, min(2 * hi, high)
    while hi - lo > 1:
        mid = (lo + hi) // 2
        if estimate(mid) >= target:
            hi = mid
        else:
            lo = mid
    return hi
