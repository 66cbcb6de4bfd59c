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
#: Asymptotic relative efficiency of the signed-rank test to the t test for normal data.
_ARE_WILCOXON = 3 / math.pi


@dataclass(frozen=True)
class PowerResult:
    """Replicates needed for a paired test to reach a target power.

    Attributes
    ----------
    n : int or None
        Smallest number of paired replicates whose power reaches ``target_power``;
        ``None`` when none up to ``max_n`` does (Monte Carlo) or the pilot shows no effect
        in the tested direction (normal approximation).
    power : float
        Estimated power at ``n`` (at the largest evaluated ``n`` when ``n`` is None).
    mc_se : float
        Monte-Carlo standard error of ``power``, ``sqrt(power (1 - power) / n_sims)``;
        0 for the closed form.
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
        Simulated studies per evaluated ``n`` (0 for the closed form).
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
    replicates_for_power_normal : closed-form normal approximation.

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
) -> PowerResult:
    """Replicates for a paired test by the normal approximation (closed form).

    With ``delta = mean(d) / sd(d)`` from the pilot, the paired t test needs
    ``n_t = ((z_{1 - alpha/2} + z_{power}) / delta) ** 2`` pairs (``z_{1 - alpha}`` one-sided)
    [Cohen1988]_. The signed-rank test has asymptotic relative efficiency ``3 / pi``
    (0.955) to the t test for normal differences [Lehmann1975]_, so it needs
    ``n_t * pi / 3``. ``n`` is rounded up and at least 6 (signed rank) or 2 (t); ``power``
    is the approximate power at that ``n``, ``Phi(sqrt(n * ARE) |delta| - z)``.

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

    Returns
    -------
    PowerResult
        With ``method="normal"``, ``mc_se=0`` and ``n_sims=0``.

    Raises
    ------
    ValueError
        As for :func:`replicates_for_power`.

    Notes
    -----
    A rough guide for comparison with the simulation: it assumes normal differences (for
    heavy tails or many ties the signed-rank test's efficiency differs from 3/pi), uses
    normal instead of t quantiles (too small an ``n`` for small ``n``) and treats the
    pilot's ``delta`` as exact.

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
    delta = _effect(d)
    sided = {"two-sided": abs(delta), "greater": delta, "less": -delta}[alt]
    z_alpha = stats.norm.ppf(1 - level / 2 if alt == "two-sided" else 1 - level)
    are = _ARE_WILCOXON if how == "wilcoxon" else 1.0
    n_min = MIN_PAIRS if how == "wilcoxon" else 2
    n: int | None = None
    achieved = float(level if alt != "two-sided" else level / 2)
    if np.isfinite(sided) and sided > 0:
        n_t = ((z_alpha + stats.norm.ppf(target)) / sided) ** 2
        n = max(n_min, math.ceil(n_t / are - 1e-9))
        achieved = float(stats.norm.cdf(math.sqrt(n * are) * sided - z_alpha))
    elif sided == math.inf:
        n, achieved = n_min, 1.0
    return PowerResult(
        n=n,
        power=achieved,
        mc_se=0.0,
        target_power=target,
        alpha=level,
        alternative=alt,
        test=how,
        method="normal",
        n_sims=0,
        pilot_n=d.size,
        effect_size=delta,
        curve=() if n is None else ((n, achieved),),
    )


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
